"""Static timing sign-off of a flat gate-level netlist with OpenSTA.

Constraints (:func:`mram_macro.flow.sdc.signoff_constraints`; docs/ppa.md, "Timing constraints",
lists every one with its reason), written as the SDC that ``mram-macro generate`` ships
(:mod:`mram_macro.flow.sdc`) for the netlist's ports into the work folder and read with
``read_sdc`` (:func:`signoff_setup`), plus what only the flow's own netlist and library have
(:data:`mram_macro.flow.sdc.FLOW_ADDITIONS`):

* one clock ``clk`` at the library's target period, **propagated** through the clock trees the
  flat synthesis builds (:mod:`mram_macro.flow.clock_tree`), so skew and insertion delay are in
  every check, with :data:`~mram_macro.flow.sdc.CLOCK_UNCERTAINTY_NS` on every setup and every hold
  check;
* ports to the integrator (the AXI buses, ``rst``): input and output delays of
  :data:`~mram_macro.flow.sdc.IO_DELAY_FRACTION` of the period for setup, and for hold the
  library's fastest register clock-to-output on the inputs and 0 on the outputs; the SDC states them
  relative to the clock port, the flow declares them again relative to the clock as the
  macro's registers see it (``-reference_pin``: a clock-tree leaf of the flat netlist, which
  the shipped SDC cannot name);
* the array's outputs (``arr_*``) settle within the cycle (output delay 0);
* exceptions: a false path from the asynchronous comparator outputs ``arr_cmp``/``arr_ref_cmp``
  (only after :func:`run_sta` has checked on the netlist that every path from them ends in the
  first flip-flop of a ``cmp_sync`` chain, and that chain's stages feed only the next stage),
  and a multicycle path from the held sampler bits ``arr_fine``/``arr_ref_fine``. An
  edge-capture TDC (:func:`mram_macro.flow.sdc.captures_on_comparators`) has ``arr_cmp`` also
  as the clock ``cmp``: its data fan-out is walked on the netlist instead (the all-tripped
  synchroniser's first stage and the columns' ``missed`` flip-flops), and the count copies'
  broadcasts (``clk`` to ``cmp``) are the path group ``broadcasts``, against their own delay
  budget rather than the period.

Reports (OpenSTA 2.0.17 prints one path per path group, and a path into a clock gate's enable
latch that borrows time ends at slack 0 by definition): the endpoints are split into path groups
of their own (:data:`GROUP_ORDER`), so the worst **flip-flop** path is always reported on its
own, next to the latch, input, output and clock-gating groups, for setup and for hold. The
headline WNS is the worst group margin, where a latch that borrows counts with the time it could
still borrow (the borrowed time is charged to the path out of the latch, in the clock-gating
group), not with its slack of 0. :meth:`StaReport.failures` states the sign-off rule.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mram_macro.flow.clock_tree import CellPins, liberty_pins
from mram_macro.flow.ppa.libraries import STA_BINARY, StdCellLibrary
from mram_macro.flow.ppa.netlist import Instance, block_of, read_instances
from mram_macro.flow.sdc import (
    ASYNC_INPUTS,
    CLOCK_UNCERTAINTY_NS,
    HELD_INPUTS,
    IO_DELAY_FRACTION,
    MISSED_NET,
    SYNC_NET,
    Port,
    captures_on_comparators,
    clock_tcl,
    port_list,
    ports_tcl,
    read_ports,
    sdc_text,
    signoff_constraints,
)
from mram_macro.rtl.periphery.tdc import SYNC_STAGES

__all__ = ["StaError", "StaReport", "GroupTiming", "PathTiming", "Port", "run_sta",
           "sta_binary", "signoff_constraints", "signoff_setup", "design_tcl", "write_sdc",
           "read_ports", "CLOCK_UNCERTAINTY_NS",
           "IO_DELAY_FRACTION", "ASYNC_INPUTS", "HELD_INPUTS", "GROUP_ORDER"]

#: Path groups in report order, named after their endpoints (and for flip-flops, where a path
#: starts): ``flip_flops`` register -> flip-flop, ``inputs`` input port -> flip-flop,
#: ``latches`` -> a clock gate's enable latch, ``outputs`` -> an output port,
#: ``clock_gating`` the gating checks at the clock gates' AND cells (OpenSTA's own group).
GROUP_ORDER = ("flip_flops", "inputs", "latches", "outputs", "clock_gating", "broadcasts")
_STA_GROUPS = {"**clock_gating_default**": "clock_gating", "**async_default**": "async"}


class StaError(RuntimeError):
    """OpenSTA failed or its report could not be read."""


@dataclass(frozen=True)
class PathTiming:
    """The worst path of one group for one check (setup or hold)."""

    slack_ns: float
    startpoint: str          # register (named by its output net) or port
    endpoint: str
    blocks: tuple[str, ...] = ()      # RTL blocks the path crosses, in order
    #: A path into a latch that borrows time: the time borrowed and the most it may borrow.
    borrowed_ns: float | None = None
    max_borrow_ns: float | None = None
    text: str = field(repr=False, default="")

    @property
    def margin_ns(self) -> float:
        """How much later the path could arrive before it fails: its slack, and into a latch
        also the time the latch could still borrow (OpenSTA gives a borrowing path slack 0)."""
        if self.borrowed_ns is not None and self.max_borrow_ns is not None and self.slack_ns >= 0:
            return self.slack_ns + self.max_borrow_ns - self.borrowed_ns
        return self.slack_ns

    def describe(self) -> str:
        borrow = (f" (borrows {self.borrowed_ns:.3f} of {self.max_borrow_ns:.3f} ns)"
                  if self.borrowed_ns is not None and self.max_borrow_ns is not None else "")
        return f"{self.slack_ns:+.3f} ns{borrow}  {self.startpoint} -> {self.endpoint}"


@dataclass(frozen=True)
class GroupTiming:
    """Worst setup and hold path of one path group (None: the group has no such path)."""

    name: str
    setup: PathTiming | None
    hold: PathTiming | None

    @property
    def setup_wns_ns(self) -> float | None:
        return None if self.setup is None else self.setup.slack_ns

    @property
    def hold_wns_ns(self) -> float | None:
        return None if self.hold is None else self.hold.slack_ns


@dataclass(frozen=True)
class StaReport:
    """Timing of one netlist at one period. ``wns_ns``, ``startpoint``, ``endpoint``,
    ``blocks`` and ``path_text`` describe the group with the smallest margin (see
    :attr:`PathTiming.margin_ns`); :attr:`groups` has every group's worst setup and hold
    path, :attr:`flip_flop` the worst register -> flip-flop path."""

    library: str
    period_ns: float
    wns_ns: float            # worst margin over the groups (positive when met)
    tns_ns: float            # total negative slack (0 when met)
    startpoint: str          # register or port the worst path starts at
    endpoint: str
    blocks: tuple[str, ...]  # RTL blocks the worst path crosses, in order
    path_text: str = field(repr=False, default="")
    #: Worst hold slack over every group (ns); None where nothing was checked.
    hold_wns_ns: float | None = None
    groups: tuple[GroupTiming, ...] = ()
    uncertainty_ns: float = CLOCK_UNCERTAINTY_NS
    #: The constraints and exceptions applied, one human-readable line each.
    constraints: tuple[str, ...] = ()
    #: Endpoints reached from an asynchronous input that are not a synchroniser stage (must
    #: be empty: the false path on those inputs is only valid if nothing else samples them).
    unsynchronised: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        return self.wns_ns >= 0

    @property
    def slack_fraction(self) -> float:
        return self.wns_ns / self.period_ns

    @property
    def fmax_mhz(self) -> float:
        return 1e3 / (self.period_ns - self.wns_ns)

    def group(self, name: str) -> GroupTiming | None:
        return next((g for g in self.groups if g.name == name), None)

    @property
    def flip_flop(self) -> PathTiming | None:
        """The worst setup path between registers into a flip-flop."""
        g = self.group("flip_flops")
        return None if g is None else g.setup

    @property
    def ff_wns_ns(self) -> float | None:
        return None if self.flip_flop is None else self.flip_flop.slack_ns

    @property
    def setup_wns_by_group(self) -> dict[str, float]:
        return {g.name: g.setup_wns_ns for g in self.groups if g.setup is not None}

    @property
    def hold_wns_by_group(self) -> dict[str, float]:
        return {g.name: g.hold_wns_ns for g in self.groups if g.hold is not None}

    def failures(self, min_slack_fraction: float) -> tuple[str, ...]:
        """Why this report fails sign-off (empty: it passes). The rule: the worst flip-flop
        path has at least ``min_slack_fraction`` of the period as slack, every group's setup
        and hold slack is >= 0, and nothing but a synchroniser samples an asynchronous input."""
        out = []
        ff = self.flip_flop
        need = min_slack_fraction * self.period_ns
        if ff is None:
            out.append("no register -> flip-flop path was timed")
        elif ff.slack_ns < need:
            out.append(f"flip-flop setup slack {ff.slack_ns:+.3f} ns < {need:.3f} ns "
                       f"({100 * min_slack_fraction:.0f} % of {self.period_ns:g} ns): "
                       f"{ff.startpoint} -> {ff.endpoint}")
        for g in self.groups:
            for check, path in (("setup", g.setup), ("hold", g.hold)):
                if path is not None and path.slack_ns < 0:
                    out.append(f"{g.name} {check} slack {path.slack_ns:+.3f} ns: "
                               f"{path.startpoint} -> {path.endpoint}")
        if self.unsynchronised:
            out.append("asynchronous inputs reach endpoints that are not synchroniser stages: "
                       + ", ".join(self.unsynchronised[:8])
                       + (" ..." if len(self.unsynchronised) > 8 else ""))
        return tuple(out)

    def to_dict(self) -> dict:
        """The report as JSON-ready data (for the PPA report)."""
        def path(p: PathTiming | None):
            if p is None:
                return None
            return {"slack_ns": p.slack_ns, "startpoint": p.startpoint, "endpoint": p.endpoint,
                    "blocks": list(p.blocks), "borrowed_ns": p.borrowed_ns,
                    "max_borrow_ns": p.max_borrow_ns}
        return {"library": self.library, "period_ns": self.period_ns, "wns_ns": self.wns_ns,
                "tns_ns": self.tns_ns, "fmax_mhz": self.fmax_mhz,
                "startpoint": self.startpoint, "endpoint": self.endpoint,
                "blocks": list(self.blocks), "hold_wns_ns": self.hold_wns_ns,
                "ff_wns_ns": self.ff_wns_ns, "uncertainty_ns": self.uncertainty_ns,
                "groups": {g.name: {"setup": path(g.setup), "hold": path(g.hold)}
                           for g in self.groups},
                "constraints": list(self.constraints),
                "unsynchronised": list(self.unsynchronised)}

    def line(self) -> str:
        hold = (f"  hold WNS {self.hold_wns_ns:+.3f} ns" if self.hold_wns_ns is not None
                else "")
        rows = [f"{self.library:10s} period {self.period_ns:6.3f} ns  WNS {self.wns_ns:+7.3f} ns "
                f"({100 * self.slack_fraction:+5.1f} %)  TNS {self.tns_ns:8.3f} ns  "
                f"fmax {self.fmax_mhz:7.1f} MHz{hold}  "
                f"(uncertainty {self.uncertainty_ns:g} ns)"]
        for g in self.groups:
            rows.append(f"    {g.name:12s} setup "
                        + (g.setup.describe() if g.setup else "(no path)"))
            rows.append(f"    {'':12s} hold  " + (g.hold.describe() if g.hold else "(no path)"))
        ff = self.flip_flop
        if ff is not None:
            rows.append(f"    worst flip-flop path: {ff.startpoint} -> {ff.endpoint}, slack "
                        f"{ff.slack_ns:+.3f} ns ({100 * ff.slack_ns / self.period_ns:+.1f} %)")
            rows.append(f"    blocks crossed: {' -> '.join(ff.blocks) or '(none named)'}")
        if self.unsynchronised:
            rows.append("    NOT SYNCHRONISED: " + ", ".join(self.unsynchronised))
        return "\n".join(rows)


def sta_binary() -> Path:
    if not STA_BINARY.is_file():
        raise FileNotFoundError(f"OpenSTA not found at {STA_BINARY}; run `make setup`")
    return STA_BINARY


def _environment_tcl(lib: StdCellLibrary, top_clock: str) -> list[str]:
    """What the flow adds to the SDC for its own flat netlist: the library's driving cell on
    the inputs (``$inputs``: every input but the clock), its load on the outputs, and the clock
    propagated through the netlist's clock trees."""
    return [
        f"set inputs [delete_from_list [all_inputs] [get_ports {top_clock}]]",
        f"set_driving_cell -lib_cell {lib.driving_cell} -pin {lib.driving_pin} $inputs",
        f"set_load {lib.output_load:g} [all_outputs]",
        "set_propagated_clock [all_clocks]",
    ]


def write_sdc(netlist: Path, period_ns: float, workdir: Path, top: str, *,
              input_hold_ns: float = 0.0) -> Path:
    """``<workdir>/<top>.sdc``: the shipped SDC (:func:`mram_macro.flow.sdc.sdc_text`) for the ports
    of ``netlist`` at ``period_ns`` with ``input_hold_ns``."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir.resolve() / f"{top}.sdc"
    path.write_text(sdc_text(read_ports(netlist), period_ns, top=top,
                             input_hold_ns=input_hold_ns,
                             comparator_clocks=captures_on_comparators(netlist.read_text())))
    return path


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


# ---------------------------------------------------------------------------------------------
# Ports and constraints

_NO_PINS = CellPins(frozenset(), frozenset(), frozenset(), False)


def _output_nets(instances: list[Instance], pins: dict[str, CellPins]) -> dict[str, str]:
    """Instance name -> the net naming it: a register's Q (else QN), another cell's output; a
    net hold fixing put in front of an output port (``hold_fix_n*``) is followed along its
    buffers to the port it reaches (mram_macro/flow/ppa/hold_fix.py)."""
    chain = {}
    for inst in instances:
        if inst.name.startswith("hold_fix_b"):
            ins = [n for p, n in inst.pins.items() if p in pins.get(inst.cell, _NO_PINS).inputs]
            outs = [n for p, n in inst.pins.items()
                    if p in pins.get(inst.cell, _NO_PINS).outputs]
            if ins and outs:
                chain[ins[0]] = outs[0]
    names = {}
    for inst in instances:
        cell = pins.get(inst.cell)
        outs = sorted(cell.outputs) if cell else []
        for pin in ("Q", "QN", *outs):
            net = inst.pins.get(pin)
            if net:
                seen = 0
                while net.startswith("hold_fix_n") and net in chain and seen < 10_000:
                    net, seen = chain[net], seen + 1
                names[inst.name] = net
                break
    return names


def _reference_clock_pin(instances: list[Instance], pins: dict[str, CellPins],
                         clock: str) -> str | None:
    """Clock pin (``instance/pin``) of a flip-flop clocked by ``clock`` through buffers only
    (no inverter: a falling-edge register's pin would reference the delays to ``clk'``), the
    fewest of them (a leaf of the free-running clock tree); None if there is none, or if it
    hangs on the clock port itself (its latency is 0 then, and OpenSTA 2.0.17 silently drops an
    input delay whose reference pin is driven by the clock port)."""
    driver = {}
    for inst in instances:
        cell = pins.get(inst.cell)
        if cell is None:
            continue
        for pin in cell.outputs:
            if pin in inst.pins:
                driver[inst.pins[pin]] = (inst, cell)
    found = []
    for inst in instances:
        cell = pins.get(inst.cell)
        if cell is None or not cell.flip_flop or not cell.clocks:
            continue
        clk_pin = sorted(cell.clocks)[0]
        net, depth = inst.pins.get(clk_pin), 0
        while net is not None and net != clock and depth < 64:
            src = driver.get(net)
            if src is None or len(src[1].inputs) != 1 or src[1].clocks or src[1].inverting:
                net = None
                break
            net, depth = src[0].pins.get(next(iter(src[1].inputs))), depth + 1
        if net == clock:
            found.append((depth, f"{inst.name}/{clk_pin}"))
    if not found or min(found)[0] == 0:
        return None
    return min(found)[1]


# ---------------------------------------------------------------------------------------------
# Reading OpenSTA's reports

_FLOAT = r"(-?[0-9.]+(?:e[-+]?\d+)?)"
_SLACK = r"^\s*" + _FLOAT + r"\s+slack \((?:MET|VIOLATED)\)"
_ENDPOINT_ROW = re.compile(r"^(\S+?)/(\w+) \(\w+\)\s+" + _FLOAT, re.M)


def _section(text: str, name: str) -> str:
    m = re.search(rf"^@@{name}\n(.*?)(?=^@@|\Z)", text, re.M | re.S)
    if m is None:
        raise StaError(f"OpenSTA's output has no section {name}")
    return m.group(1)


def _paths(text: str, names: dict[str, str]) -> dict[str, PathTiming]:
    """Group name -> its path, from ``report_checks`` output with one path per group."""
    out = {}
    for block in re.split(r"^(?=Startpoint:)", text, flags=re.M):
        slack = re.search(_SLACK, block, re.M)
        group = re.search(r"^Path Group:\s+(\S+)", block, re.M)
        start = re.search(r"^Startpoint:\s+(\S+)", block, re.M)
        end = re.search(r"^Endpoint:\s+(\S+)", block, re.M)
        if not (slack and group and start and end):
            continue
        borrowed = re.search(r"^\s*" + _FLOAT + r"\s+\S+\s+time borrowed from endpoint", block,
                             re.M)
        max_borrow = re.search(r"^max time borrow\s+" + _FLOAT, block, re.M)
        startpoint = names.get(start.group(1), start.group(1))
        endpoint = names.get(end.group(1), end.group(1))
        nets = re.findall(r"^\s*\d*\s+(\S+) \(net\)", block, re.M)
        blocks: list[str] = []
        for net in [startpoint, *nets, endpoint]:
            b = block_of(net)
            if b is not None and (not blocks or blocks[-1] != b):
                blocks.append(b)
        name = _STA_GROUPS.get(group.group(1), group.group(1))
        out[name] = PathTiming(
            slack_ns=float(slack.group(1)), startpoint=startpoint, endpoint=endpoint,
            blocks=tuple(blocks),
            borrowed_ns=float(borrowed.group(1)) if borrowed else None,
            max_borrow_ns=float(max_borrow.group(1)) if borrowed and max_borrow else None,
            text=block)
    return out


def _endpoints(text: str) -> list[str]:
    """Instance names of the endpoints of a ``-format end`` report (ports as ``port:name``)."""
    out = [m.group(1) for m in _ENDPOINT_ROW.finditer(text)]
    out += [f"port:{m.group(1)}" for m in re.finditer(r"^(\S+) \(output\)\s+" + _FLOAT, text,
                                                       re.M)]
    return out


def _stage(net: str | None) -> int | None:
    """Synchroniser stage of a register named ``net`` (``tdc.cmp_sync1[3]`` -> 1; also under
    the placed netlist's tool-safe name ``tdc_cmp_sync1_3_``,
    :mod:`mram_macro.flow.layout.netlist`)."""
    if net is None:
        return None
    m = re.search(rf"(?:^|[._]){SYNC_NET}(\d+)(?:\[|_\d+_$|$)", net)
    return int(m.group(1)) if m else None


def _data_fanout(instances: list[Instance], pins: dict[str, CellPins], names: dict[str, str],
                 ports: list[Port]) -> list[str]:
    """The sequential cells whose data (non-clock) inputs the bits of ``ports`` reach through
    combinational cells (an edge-capture TDC's comparators: :func:`run_sta`); a clock pin
    ends the walk (the comparator as the clock of its column)."""
    sinks: dict[str, list[tuple[Instance, str]]] = {}
    for inst in instances:
        cell = pins.get(inst.cell)
        if cell is None:
            continue
        for pin, net in inst.pins.items():
            if pin in cell.inputs:
                sinks.setdefault(net, []).append((inst, pin))
    start = [f"{p.name}[{i}]" if p.width > 1 else p.name for p in ports for i in range(p.width)]
    seen, todo, reached = set(start), list(start), []
    while todo:
        net = todo.pop()
        for inst, pin in sinks.get(net, []):
            cell = pins[inst.cell]
            if cell.clocks and pin in cell.clocks:
                continue
            if cell.clocks:                 # a register's (or latch's) data pin
                reached.append(inst.name)
                continue
            for out in cell.outputs:
                dst = inst.pins.get(out)
                if dst is not None and dst not in seen:
                    seen.add(dst)
                    todo.append(dst)
    return sorted(set(reached))


def _is_missed(net: str | None) -> bool:
    """Whether a register named ``net`` is an edge-capture column's ``missed`` flip-flop
    (``tdc.missed3``; the placed netlist's ``tdc_missed3``)."""
    return net is not None and re.search(rf"(?:^|[._]){MISSED_NET}\d+$", net) is not None


# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignoffSetup:
    """What sign-off reads off a netlist before timing it: the cells' pins, the instances, the
    net naming each instance, the ports, the SDC written for them (None: not written), the Tcl
    the flow adds on top of it (the I/O delays re-referenced to a clock-tree leaf), the
    constraints' descriptions and the asynchronous inputs."""

    pins: dict
    instances: list
    names: dict[str, str]
    ports: tuple
    tcl: list[str]
    text: tuple[str, ...]
    asyncs: list
    sdc: Path | None = None


def signoff_setup(netlist: Path, lib: StdCellLibrary, period_ns: float, *,
                  top: str = "mram_macro", workdir: Path | None = None) -> SignoffSetup:
    """The sign-off constraints of ``netlist``: the shipped SDC (:mod:`mram_macro.flow.sdc`) for its
    ports, written to ``<workdir>/<top>.sdc`` if ``workdir`` is given, and the flow's addition:
    the same input and output delays with ``-reference_pin`` at a clock-tree leaf (OpenSTA
    2.0.17 replaces a port's delay for the same clock, see verif/unit/test_sta.py)."""
    pins = liberty_pins(lib.require())
    instances = read_instances(netlist)
    ports = read_ports(netlist)
    reference = _reference_clock_pin(instances, pins, "clk")
    ordered = tuple(sorted(ports, key=lambda p: p.name))     # as in the SDC
    # (at a period so short that the setup input delay is below it, the hold one is that)
    hold = min(lib.input_hold_ns, IO_DELAY_FRACTION * period_ns)
    tcl, text, asyncs, _ = signoff_constraints(
        ordered, period_ns, reference_pin=reference, input_hold_ns=hold,
        comparator_clocks=captures_on_comparators(Path(netlist).read_text()))
    sdc = None if workdir is None else write_sdc(netlist, period_ns, workdir, top,
                                                 input_hold_ns=hold)
    if sdc is not None:
        text = [text[0], f"read from {sdc.name} (mram_macro/flow/sdc.py, the SDC mram-macro "
                f"generate ships)", *text[1:]]
    redeclared = ([t for t in tcl if t.startswith(("set_input_delay", "set_output_delay"))]
                  if reference else [])
    return SignoffSetup(pins=pins, instances=instances, names=_output_nets(instances, pins),
                        ports=ports, tcl=redeclared, text=tuple(text), asyncs=asyncs, sdc=sdc)


def design_tcl(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float,
               constraints: list[str], spef: Path | None = None, *, sdc: Path | None = None,
               defer_false_paths: bool = False) -> list[str]:
    """Tcl that reads the library and ``netlist``, links ``top``, reads the parasitics of
    the routed wires from ``spef`` if given, reads ``sdc`` (else only declares the clock at
    ``period_ns``), adds the flow's environment (driving cell, load, propagated clock) and
    ``constraints``. ``defer_false_paths``: the SDC's ``set_false_path`` commands are kept in
    the Tcl list ``$sdc_false_paths`` instead of applied (:data:`APPLY_FALSE_PATHS`)."""
    if sdc is None:
        read = [clock_tcl(period_ns)]
    elif defer_false_paths:
        read = ["set sdc_false_paths {}", "rename set_false_path sdc_set_false_path",
                "proc set_false_path {args} { lappend ::sdc_false_paths $args }",
                f"read_sdc {sdc.resolve()}",
                "rename set_false_path {}", "rename sdc_set_false_path set_false_path"]
    else:
        read = [f"read_sdc {sdc.resolve()}"]
    return [f"read_liberty {lib.require()}", f"read_verilog {netlist.resolve()}",
            f"link_design {top}", *([f"read_spef {spef.resolve()}"] if spef else []),
            *read, *_environment_tcl(lib, "clk"), *constraints]


#: Applies the false paths :func:`design_tcl` deferred.
APPLY_FALSE_PATHS = "foreach args $sdc_false_paths { set_false_path {*}$args }"


def run_sta(netlist: Path, top: str, lib: StdCellLibrary, *, period_ns: float | None = None,
            workdir: Path, spef: Path | None = None) -> StaReport:
    """Time ``netlist`` against ``lib`` at ``period_ns`` (default: the library's target),
    with the wires' parasitics from ``spef`` if given (post-route sign-off)."""
    period = lib.target_period_ns if period_ns is None else period_ns
    if not (isinstance(period, int | float) and period > 0):
        raise ValueError(f"period_ns must be positive, not {period!r}")
    workdir.mkdir(parents=True, exist_ok=True)
    setup_ = signoff_setup(netlist, lib, period, top=top, workdir=workdir)
    pins, instances, names, ports = setup_.pins, setup_.instances, setup_.names, setup_.ports
    tcl, text, asyncs = setup_.tcl, list(setup_.text), setup_.asyncs

    # Synchroniser chains: registers named cmp_sync<k>, by stage.
    stages: dict[int, list[str]] = {}
    for inst in instances:
        k = _stage(names.get(inst.name))
        cell = pins.get(inst.cell)
        if k is not None and cell is not None and cell.flip_flop:
            stages.setdefault(k, []).append(inst.name)
    checks = []
    edge = captures_on_comparators(netlist.read_text())
    if asyncs and not edge:
        checks += ["puts \"@@ASYNC\"",
                   f"report_checks -path_delay max -from {ports_tcl(asyncs)} -format end "
                   "-endpoint_count 1 -group_count 1000000"]
    if asyncs:
        for k in range(SYNC_STAGES - 1):
            if stages.get(k):
                cells = " ".join(sorted(stages[k]))
                checks += [f"puts \"@@STAGE{k}\"",
                           f"report_checks -path_delay max -from [get_cells {{{cells}}}] "
                           "-format end -endpoint_count 1 -group_count 1000000"]
    sync_in = [p for p in ports if p.direction == "input" and p.name != "clk"
               and p not in asyncs]
    if sync_in:
        # Guard: a constrained input must start some path (an input delay OpenSTA drops leaves
        # its paths unconstrained, without a word).
        checks += ["puts \"@@INPUTS\"",
                   f"report_checks -path_delay max -from {ports_tcl(sync_in)} -format end"]
    script = "\n".join([
        # The SDC's false path (from the asynchronous inputs) waits for the checks above.
        *design_tcl(netlist, top, lib, period, tcl, spef, sdc=setup_.sdc,
                    defer_false_paths=True),
        *checks,
        APPLY_FALSE_PATHS,
        "set ff_pins [all_registers -edge_triggered -data_pins]",
        "set latch_pins [all_registers -level_sensitive -data_pins]",
        # edge capture: the count broadcasts into the column clocks' registers, a group of
        # their own against their own budget (sdc.py), not among the flip-flop paths
        *(["set cap_pins [all_registers -clock cmp -data_pins]",
           "set ff_pins [delete_from_list $ff_pins $cap_pins]",
           "group_path -name broadcasts -to $cap_pins"] if edge else []),
        "if {[llength $ff_pins]} {",
        "  group_path -name flip_flops -from [all_registers] -to $ff_pins",
        "  if {[llength $inputs]} { group_path -name inputs -from $inputs -to $ff_pins }",
        "}",
        "if {[llength $latch_pins]} { group_path -name latches -to $latch_pins }",
        "if {[llength [all_outputs]]} { group_path -name outputs -to [all_outputs] }",
        "puts \"@@SETUP\"",
        "report_checks -path_delay max -fields {nets} -digits 4",
        "puts \"@@HOLD\"",
        "report_checks -path_delay min -fields {nets} -digits 4",
        "puts \"@@TNS\"",
        "report_tns -digits 6",
        "",
    ])
    full = run_tcl(script, workdir, "sta")
    setup = _paths(_section(full, "SETUP"), names)
    hold = _paths(_section(full, "HOLD"), names)
    tns = re.search(r"^tns\s+" + _FLOAT, _section(full, "TNS"), re.M)
    if sync_in and "No paths found" in _section(full, "INPUTS"):
        raise StaError(f"no timing path starts at the constrained inputs {port_list(sync_in)} "
                       f"(log {workdir / 'sta.log'})")
    order = [*GROUP_ORDER, *sorted((set(setup) | set(hold)) - set(GROUP_ORDER))]
    groups = tuple(GroupTiming(g, setup.get(g), hold.get(g)) for g in order
                   if g in setup or g in hold)
    if not setup or tns is None:
        raise StaError(f"could not read OpenSTA's report (log {workdir / 'sta.log'})")

    unsynchronised: list[str] = []
    if asyncs:
        expect = {k: set(v) for k, v in stages.items()}
        if edge:
            # The comparators are also clocks (no input delay: OpenSTA starts no data path
            # at them), so their data fan-out is walked on the netlist: each column's missed
            # flip-flop takes ~arr_cmp once, at the end; clock pins are the capture.
            reached = _data_fanout(instances, pins, names, asyncs)
            missed = {e for e in reached if _is_missed(names.get(e))}
        else:
            reached = _endpoints(_section(full, "ASYNC"))
            missed = set()
        unsynchronised += [names.get(e, e) for e in reached
                           if e not in expect.get(0, set()) and e not in missed]
        for k in range(SYNC_STAGES - 1):
            if stages.get(k):
                reached_k = _endpoints(_section(full, f"STAGE{k}"))
                unsynchronised += [f"{names.get(e, e)} (after {SYNC_NET}{k})" for e in reached_k
                                   if e not in expect.get(k + 1, set())]
        first = len(expect.get(0, ()))
        also = f" and {len(missed)} {MISSED_NET} flip-flops" if missed else ""
        text.append(f"synchronisers checked: {sum(p.width for p in asyncs)} asynchronous input "
                    f"bits reach {len(set(reached))} endpoints, {first} of them "
                    f"{SYNC_NET}0 flip-flops{also}; each stage feeds only the next: "
                    + ("yes" if not unsynchronised else f"NO ({len(unsynchronised)} others)"))

    worst = min((g.setup for g in groups if g.setup is not None), key=lambda p: p.margin_ns)
    holds = [g.hold.slack_ns for g in groups if g.hold is not None]
    return StaReport(library=lib.key, period_ns=period, wns_ns=worst.margin_ns,
                     tns_ns=float(tns.group(1)), startpoint=worst.startpoint,
                     endpoint=worst.endpoint, blocks=worst.blocks, path_text=worst.text,
                     hold_wns_ns=min(holds) if holds else None, groups=groups,
                     constraints=tuple(text), unsynchronised=tuple(unsynchronised))

