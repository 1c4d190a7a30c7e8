"""Static timing of a flat gate-level netlist with OpenSTA.

Constraints: one clock ``clk`` at the library's target period (ideal clock network: no clock
tree is built, so no skew), every other input arriving at the clock edge through the library's
driving cell, every output captured at the next edge with the library's load. Worst slack,
total negative slack and the worst path come from ``report_checks`` (its worst path) and
``report_tns``; ``fmax = 1 / (period - worst slack)``.
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
                f"fmax {self.fmax_mhz:7.1f} MHz\n"
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
        "",
    ])
    out = run_tcl(script, workdir, "sta")
    wns = re.search(r"^\s*" + _FLOAT + r"\s+slack \((?:MET|VIOLATED)\)", out, re.M)
    tns = re.search(r"^tns\s+" + _FLOAT, out, re.M)
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
                     blocks=tuple(blocks), path_text=out)
