"""Static timing of a flat gate-level netlist with OpenSTA.

Constraints: one clock ``clk`` at the library's target period, **propagated** through the clock
trees the flat synthesis builds (:mod:`mram_macro.clock_tree`: buffers, clock gates), so skew and
insertion delay are in every check; every other input arriving at the clock edge at the ``clk``
port through the library's driving cell, every output captured at the next edge with the
library's load. Worst slack, total negative slack and the worst path come from
``report_checks`` (its worst path) and ``report_tns``; ``fmax = 1 / (period - worst slack)``.
The worst hold slack (``report_checks -path_delay min``) is reported alongside.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .libraries import STA_BINARY, StdCellLibrary
from .netlist import block_of, read_instances

__all__ = ["StaError", "StaReport", "run_sta", "sta_binary"]


class StaError(RuntimeError):
    """OpenSTA failed or its report could not be read."""


@dataclass(frozen=True)
class StaReport:
    library: str
    period_ns: float
    wns_ns: float            # worst slack (positive when met)
    tns_ns: float            # total negative slack (0 when met)
    startpoint: str          # register or port the worst path starts at
    endpoint: str
    blocks: tuple[str, ...]  # RTL blocks the worst path crosses, in order
    path_text: str = field(repr=False, default="")
    #: Worst hold slack (ns); None where it was not checked.
    hold_wns_ns: float | None = None

    @property
    def met(self) -> bool:
        return self.wns_ns >= 0

    @property
    def slack_fraction(self) -> float:
        return self.wns_ns / self.period_ns

    @property
    def fmax_mhz(self) -> float:
        return 1e3 / (self.period_ns - self.wns_ns)

    def line(self) -> str:
        return (f"{self.library:10s} period {self.period_ns:6.3f} ns  WNS {self.wns_ns:+7.3f} ns "
                f"({100 * self.slack_fraction:+5.1f} %)  TNS {self.tns_ns:8.3f} ns  "
                f"fmax {self.fmax_mhz:7.1f} MHz"
                + (f"  hold WNS {self.hold_wns_ns:+.3f} ns" if self.hold_wns_ns is not None
                   else "") + "\n"
                f"    critical path: {self.startpoint} -> {self.endpoint}\n"
                f"    blocks crossed: {' -> '.join(self.blocks) or '(none named)'}")


def sta_binary() -> Path:
    if not STA_BINARY.is_file():
        raise FileNotFoundError(f"OpenSTA not found at {STA_BINARY}; run `make setup`")
    return STA_BINARY


def constraints_tcl(lib: StdCellLibrary, period_ns: float, top_clock: str = "clk") -> str:
    """SDC constraints shared by timing and power analysis."""
    return "\n".join([
        f"create_clock -name clk -period {period_ns:g} [get_ports {top_clock}]",
        f"set inputs [delete_from_list [all_inputs] [get_ports {top_clock}]]",
        "set_input_delay 0 -clock clk $inputs",
        "set_output_delay 0 -clock clk [all_outputs]",
        f"set_driving_cell -lib_cell {lib.driving_cell} -pin {lib.driving_pin} $inputs",
        f"set_load {lib.output_load:g} [all_outputs]",
        "set_propagated_clock [all_clocks]",
    ])


def run_tcl(script: str, workdir: Path, name: str) -> str:
    """Run an OpenSTA Tcl script; return its output, or raise StaError with the tail."""
    workdir = workdir.resolve()
    path = workdir / f"{name}.tcl"
    path.write_text(script)
    proc = subprocess.run([str(sta_binary()), "-no_splash", "-exit", str(path)], cwd=workdir,
                          capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    (workdir / f"{name}.log").write_text(out)
    if proc.returncode != 0 or re.search(r"^Error", out, re.M):
        raise StaError(f"OpenSTA {name} failed (log {workdir / (name + '.log')}):\n"
                       + "\n".join(out.splitlines()[-20:]))
    return out


_FLOAT = r"(-?[0-9.]+(?:e[-+]?\d+)?)"
_SLACK = r"^\s*" + _FLOAT + r"\s+slack \((?:MET|VIOLATED)\)"


def _worst_path(text: str, *, skip: str) -> str:
    """The path report with the smallest slack among those of ``text`` not containing
    ``skip`` ("" if there is none)."""
    best, best_slack = "", None
    for block in re.split(r"^(?=Startpoint:)", text, flags=re.M):
        m = re.search(_SLACK, block, re.M)
        if m is None or skip in block:
            continue
        if best_slack is None or float(m.group(1)) < best_slack:
            best, best_slack = block, float(m.group(1))
    return best


def run_sta(netlist: Path, top: str, lib: StdCellLibrary, *, period_ns: float | None = None,
            workdir: Path) -> StaReport:
    """Time ``netlist`` against ``lib`` at ``period_ns`` (default: the library's target)."""
    period = lib.target_period_ns if period_ns is None else period_ns
    if not period > 0:
        raise ValueError(f"period_ns must be positive, not {period!r}")
    workdir.mkdir(parents=True, exist_ok=True)
    script = "\n".join([
        f"read_liberty {lib.require()}",
        f"read_verilog {netlist.resolve()}",
        f"link_design {top}",
        constraints_tcl(lib, period),
        "report_checks -path_delay max -fields {nets} -digits 4",
        "report_tns -digits 6",
        "puts \"HOLD_BEGIN\"",
        "report_checks -path_delay min -from [all_registers] -digits 4",
        "",
    ])
    full = run_tcl(script, workdir, "sta")
    setup_text, _, hold_text = full.partition("HOLD_BEGIN")
    # One worst path per path group (clk, clock-gating checks): the worst of them counts. A
    # path into a clock gate's enable latch that borrows time ends at slack 0 by definition;
    # the borrowed time is charged to the path out of the latch, into the gating check.
    out = _worst_path(setup_text, skip="time borrowed from endpoint")
    # Hold: between registers (and into gating checks); a path from an input port depends on
    # where the integrator's logic launches it in its own clock tree, which is not modelled.
    hold_path = _worst_path(hold_text, skip="(input port")
    hold = re.search(_SLACK, hold_path, re.M)
    wns = re.search(_SLACK, out, re.M)
    tns = re.search(r"^tns\s+" + _FLOAT, setup_text, re.M)
    start = re.search(r"^Startpoint:\s+(\S+)", out, re.M)
    end = re.search(r"^Endpoint:\s+(\S+)", out, re.M)
    if not (wns and tns and start and end):
        raise StaError(f"could not read OpenSTA's report (log {workdir / 'sta.log'})")
    nets = re.findall(r"^\s*\d*\s+(\S+) \(net\)", out, re.M)
    # Name registers by their Q net (flat synthesis renames the flip-flop instances).
    names = {}
    for inst in read_instances(netlist):
        q = inst.pins.get("Q")
        if q is not None:
            names[inst.name] = q
    startpoint = names.get(start.group(1), start.group(1))
    endpoint = names.get(end.group(1), end.group(1))
    blocks: list[str] = []
    for net in [startpoint, *nets, endpoint]:
        b = block_of(net)
        if b is not None and (not blocks or blocks[-1] != b):
            blocks.append(b)
    return StaReport(library=lib.key, period_ns=period, wns_ns=float(wns.group(1)),
                     tns_ns=float(tns.group(1)), startpoint=startpoint, endpoint=endpoint,
                     blocks=tuple(blocks), path_text=out,
                     hold_wns_ns=float(hold.group(1)) if hold else None)
