"""Digital energy from gate-level switching activity, through OpenSTA's power engine.

Every pin of every cell of the flat netlist is annotated with the measured transitions per clock
cycle and duty of its net (``sta::set_power_pin_activity``: OpenSTA 2.0.17's
``set_power_activity -pins`` is broken, activity set on flip-flop outputs alone is not
propagated into the logic, and pins left out keep OpenSTA's default activity); clock pins get two
transitions per cycle. ``sta::instance_power`` then gives
each instance's internal, switching and leakage power at the clock period.

Two runs split the clock from the data. Both give every clock-network net (the nets at clock
pins, the clock trees of :mod:`mram_macro.flow.clock_tree`, the clock gates' outputs) one edge per
cycle, as OpenSTA 2.0.17 does behind a clock gate whatever the annotation; the second keeps every
net's duty (OpenSTA weighs a flip-flop's state-dependent clock-pin power, the ``when`` groups, by
the probabilities of those states, so zero duties would zero the clock power too) but sets every
other toggle rate to zero: what the cells still burn there is clock power at one edge per cycle.
Per instance::

    clock   = dynamic power of the clock-only run x measured rising edges per cycle of the net
              that clocks it (its clock pin's net; a tree buffer's or clock gate's output net;
              1 on the free-running clk)
              + edges x C_pin x V**2 for each clock pin on the ``clk`` port itself (a port-driven
                net is charged to no instance; with clock trees only buffer inputs are there)
    data    = dynamic power with the measured activity - dynamic power of the clock-only run
    leakage = leakage power

The clock trees' buffers are in the netlist (so their internal and switching power, and the
slews they give the clock pins, are OpenSTA's); the clock is propagated
(``set_propagated_clock``, see :mod:`mram_macro.flow.ppa.sta`). A clock gate's AND is scaled by its
output's edges: the internal energy of its clock input toggling while the gate is closed is
left out (a few fJ per cycle per gate).

Energy over the measurement window = power x window cycles x period.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mram_macro.flow.clock_tree import is_tree_cell
from mram_macro.flow.ppa.activity import Activity
from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.netlist import Instance, block_of, read_instances
from mram_macro.flow.ppa.sta import _FLOAT, design_tcl, run_tcl, write_sdc

__all__ = ["InstancePower", "PowerResult", "liberty_output_pins", "analyse_power",
           "attribute_blocks", "liberty_clock_pins", "clock_network"]


@dataclass(frozen=True)
class InstancePower:
    name: str
    cell: str
    block: str
    clock_W: float
    data_W: float
    leakage_W: float
    #: Of the total dynamic power (clock + data): the part charging the output nets.
    switching_W: float = 0.0


@dataclass(frozen=True)
class PowerResult:
    instances: list[InstancePower]
    period_ns: float
    cycles: float
    vmms: int

    def energy_per_vmm_J(self, kind: str, block: str | None = None) -> float:
        """Energy per VMM of ``kind`` (``clock``, ``data``, ``leakage`` or ``total``), of one
        block or of the whole netlist."""
        kinds = ("clock", "data", "leakage") if kind == "total" else (kind,)
        p = sum(getattr(i, f"{k}_W") for i in self.instances for k in kinds
                if block is None or i.block == block)
        return p * self.cycles * self.period_ns * 1e-9 / self.vmms

    def blocks(self) -> list[str]:
        return sorted({i.block for i in self.instances})


_LIB_CELL = re.compile(r"\bcell\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*\{")
_LIB_PIN = re.compile(r"\bpin\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*\{([^{}]*)")


def liberty_output_pins(liberty: Path) -> dict[str, list[str]]:
    """Output pins of every cell of a Liberty file."""
    text = re.sub(r"/\*.*?\*/", "", liberty.read_text(errors="replace"), flags=re.S)
    heads = list(_LIB_CELL.finditer(text))
    out: dict[str, list[str]] = {}
    for this, nxt in zip(heads, [*heads[1:], None], strict=True):
        body = text[this.end():nxt.start() if nxt else len(text)]
        out[this.group(1)] = [name for name, attrs in _LIB_PIN.findall(body)
                              if re.search(r"direction\s*:\s*\"?output", attrs)]
    return out


def attribute_blocks(instances: list[Instance], outputs: dict[str, list[str]]) -> dict[str, str]:
    """RTL block of every instance: that of its output net if the net is named
    (``tdc.codes[3]``), else that of the nearest named net downstream (the logic feeding a
    block's register belongs to the block), else ``top``."""
    sinks: dict[str, list[Instance]] = defaultdict(list)
    out_nets: dict[str, list[str]] = {}
    for inst in instances:
        outs = set(outputs.get(inst.cell, ()))
        out_nets[inst.name] = [n for p, n in inst.pins.items() if p in outs]
        for p, n in inst.pins.items():
            if p not in outs:
                sinks[n].append(inst)
    memo: dict[str, str | None] = {}

    def net_block(net: str) -> str | None:
        # Iterative search downstream (the netlist can be deep; no recursion limit issues).
        if net in memo:
            return memo[net]
        seen = {net}
        frontier = [net]
        found = None
        while frontier and found is None:
            nxt = []
            for n in frontier:
                b = block_of(n)
                if b is not None:
                    found = b
                    break
                if n in memo and memo[n] is not None:
                    found = memo[n]
                    break
                for s in sinks.get(n, ()):
                    for o in out_nets[s.name]:
                        if o not in seen:
                            seen.add(o)
                            nxt.append(o)
            frontier = nxt
        memo[net] = found
        return found

    result = {}
    for inst in instances:
        block = None
        for net in out_nets[inst.name]:
            block = net_block(net)
            if block is not None:
                break
        result[inst.name] = block or "top"
    return result


def _annotation(instances: list[Instance], activity: Activity, inputs: list[str],
                clock_nets: set[str], *, data: bool, clock_net: str = "clk") -> list[str]:
    """One ``set_power_pin_activity`` per pin of every instance, one
    ``set_power_input_port_activity`` per input port bit (OpenSTA 2.0.17 propagates activity
    once, before annotation, and keeps its default on whatever is not annotated). Duties are
    always the measured ones; with ``data`` false, only clock nets keep their toggle rate."""

    def rate(net: str) -> tuple[float, float]:
        if net == clock_net or net in clock_nets:
            return 2.0, 0.5     # one edge per cycle; scaled to the measured edges afterwards
        toggles = activity.per_cycle(net) if data else 0.0
        return toggles, activity.duty.get(net, 0.0)

    lines = []
    for port in inputs:
        if port != clock_net:
            act, duty = rate(port)
            lines.append(f"sta::set_power_input_port_activity [get_ports {{{port}}}] "
                         f"{act:.6g} {duty:.6g}")
    for inst in instances:
        for pin, net in inst.pins.items():
            act, duty = rate(net)
            lines.append(f"sta::set_power_pin_activity [get_pins {{{inst.name}/{pin}}}] "
                         f"{act:.6g} {duty:.6g}")
    return lines


def _input_ports(netlist: Path) -> list[str]:
    """Input port bits of a Yosys netlist, ``name[i]`` style."""
    return port_bits(netlist, "input")


def port_bits(netlist: Path, direction: str) -> list[str]:
    """Port bits of ``direction`` (``input``/``output``) of a Yosys netlist, ``name[i]``
    style."""
    bits = []
    for m in re.finditer(rf"^\s*{direction}\s+(?:\[(\d+):(\d+)\]\s*)?(\\?\S+)\s*;",
                         Path(netlist).read_text(), re.M):
        hi, lo, name = m.groups()
        name = name.lstrip("\\")
        if hi is None:
            bits.append(name)
        else:
            a, b = sorted((int(hi), int(lo)))
            bits += [f"{name}[{i}]" for i in range(a, b + 1)]
    return bits


_CLOCK_PIN = re.compile(r"\bpin\s*\(\s*\"?(\w+)\"?\s*\)\s*\{")
_POWER_VALUES = re.compile(r"\b(rise_power|fall_power)\s*\([^)]*\)\s*\{[^{}]*?values\s*\(\s*"
                           r"\"\s*([0-9.eE+-]+)")


def liberty_clock_pins(liberty: Path, cap_unit_F: float) -> dict[str, dict[str, tuple]]:
    """Per cell, per clock pin (``clock : true``): (internal energy per clock cycle in J,
    pin capacitance in F). The energy is rise + fall at the smallest slew, averaged over the
    pin's ``internal_power`` groups (its ``when`` states); the Liberty energy unit is the
    capacitance unit times 1 V²."""
    text = re.sub(r"/\*.*?\*/", "", liberty.read_text(errors="replace"), flags=re.S)
    heads = list(_LIB_CELL.finditer(text))
    out: dict[str, dict[str, tuple]] = {}
    for this, nxt in zip(heads, [*heads[1:], None], strict=True):
        body = text[this.end():nxt.start() if nxt else len(text)]
        pins = list(_CLOCK_PIN.finditer(body))
        for p, q in zip(pins, [*pins[1:], None][:len(pins)], strict=True):
            pin_body = body[p.end():q.start() if q else len(body)]
            if not re.search(r"\bclock\s*:\s*true", pin_body):
                continue
            cap = re.search(r"\bcapacitance\s*:\s*([0-9.eE+-]+)", pin_body)
            groups = re.split(r"\binternal_power\s*\(\s*\)", pin_body)[1:]
            energies = []
            for g in groups:
                vals = {k: float(v) for k, v in _POWER_VALUES.findall(g)}
                energies.append(vals.get("rise_power", 0.0) + vals.get("fall_power", 0.0))
            energy = sum(energies) / len(energies) if energies else 0.0
            out.setdefault(this.group(1), {})[p.group(1)] = (
                energy * cap_unit_F, float(cap.group(1)) * cap_unit_F if cap else 0.0)
    return out


def _run(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float, lines: list[str],
         workdir: Path, name: str) -> dict[str, tuple[float, float, float]]:
    # The sign-off's constraints (the shipped SDC, mram_macro/flow/sdc.py, and the flow's driving
    # cells, loads and propagated clock): the slews and the clock that scales the activities.
    sdc = write_sdc(netlist, period_ns, workdir, top)
    script = "\n".join([
        *design_tcl(netlist, top, lib, period_ns, [], sdc=sdc),
        "set corner [sta::cmd_corner]",
        # Let OpenSTA propagate its default activities first; the annotation then overrides
        # them pin by pin (annotating before this is overwritten by the propagation).
        "sta::instance_power [lindex [get_cells *] 0] $corner",
        *lines,
        "foreach inst [get_cells *] {",
        "  set p [sta::instance_power $inst $corner]",
        "  puts \"P [get_full_name $inst] $p\"",
        "}",
        "",
    ])
    out = run_tcl(script, workdir, name)
    powers = {}
    for m in re.finditer(r"^P (\S+) " + r"\s+".join([_FLOAT] * 4), out, re.M):
        internal, switching, leakage, _total = (float(x) for x in m.groups()[1:])
        powers[m.group(1)] = (internal, switching, leakage)
    if not powers:
        raise RuntimeError(f"OpenSTA reported no instance power (log {workdir / name}.log)")
    return powers


def clock_network(instances: list[Instance], clock_pins: dict[str, dict[str, tuple]],
                  outputs: dict[str, list[str]]) -> tuple[set[str], dict[str, str]]:
    """The clock nets of a netlist and, per clock-network instance, the net whose edges clock it.

    Clock nets: nets reaching a clock pin (``clock : true``), every net of the clock trees
    (:mod:`mram_macro.flow.clock_tree`) above them up to the clock gates' outputs and the ``clk``
    port, and the outputs of every combinational cell with an input on a clock net. A
    flip-flop or latch is clocked by the net at its clock pin; a tree buffer and a clock gate's
    AND by the net at their output (the edges they pass on).
    """
    clock_nets = {i.pins[p] for i in instances for p in clock_pins.get(i.cell, {})
                  if p in i.pins}
    for inst in instances:
        if is_tree_cell(inst.name):
            clock_nets.update(inst.pins.values())
    # Forward through combinational cells (no clock pin): a cell with an input on a clock net
    # passes its edges on (synthesis's fanout buffers in front of the clock gates' ANDs, a
    # gate behind a gate, OSU's inverted clock for its latches), up to a fixed point. Nothing
    # in the macro uses a clock as data, so this is the clock network.
    readers: dict[str, list[list[str]]] = {}
    for i in instances:
        if clock_pins.get(i.cell) is None or clock_pins[i.cell]:
            continue
        outs = [n for p, n in i.pins.items() if p in outputs.get(i.cell, ())]
        for p, n in i.pins.items():
            if p not in outputs.get(i.cell, ()):
                readers.setdefault(n, []).append(outs)
    queue = list(clock_nets)
    while queue:
        for outs in readers.get(queue.pop(), ()):
            fresh = [n for n in outs if n not in clock_nets]
            clock_nets.update(fresh)
            queue += fresh
    clocked_by: dict[str, str] = {}
    for inst in instances:
        pins = clock_pins.get(inst.cell, {})
        on_clock = [inst.pins[p] for p in pins if p in inst.pins]
        if on_clock:
            clocked_by[inst.name] = on_clock[0]
            continue
        outs = [n for p, n in inst.pins.items() if p in outputs.get(inst.cell, ())]
        if outs and outs[0] in clock_nets:
            clocked_by[inst.name] = outs[0]
    return clock_nets, clocked_by


def analyse_power(netlist: Path, top: str, lib: StdCellLibrary, activity: Activity, *,
                  workdir: Path, period_ns: float | None = None,
                  clock_net: str = "clk") -> PowerResult:
    """Per-instance clock, data and leakage power of ``netlist`` under ``activity``."""
    period = lib.target_period_ns if period_ns is None else period_ns
    workdir.mkdir(parents=True, exist_ok=True)
    outputs = liberty_output_pins(lib.require())
    instances = read_instances(netlist)
    blocks = attribute_blocks(instances, outputs)
    inputs = _input_ports(netlist)
    clock_pins = liberty_clock_pins(lib.require(), lib.cap_unit_F)
    cells = {i.name: i.cell for i in instances}
    pins = {i.name: i.pins for i in instances}
    clock_nets, clocked_by = clock_network(instances, clock_pins, outputs)
    full = _run(netlist, top, lib, period,
                _annotation(instances, activity, inputs, clock_nets, data=True,
                            clock_net=clock_net), workdir, "power")
    clock = _run(netlist, top, lib, period,
                 _annotation(instances, activity, inputs, clock_nets, data=False,
                             clock_net=clock_net), workdir, "power_clock")

    def edges(net: str) -> float:
        """Rising edges per cycle of a clock net (1 on the free-running clock)."""
        return 1.0 if net == clock_net else activity.per_cycle(net) / 2

    result = []
    for name, (internal, switching, leakage) in full.items():
        c_int, c_sw, _ = clock.get(name, (0.0, 0.0, 0.0))
        # Both runs give every clock-network pin one edge per cycle (OpenSTA 2.0.17 does so
        # behind a clock gate whatever the annotation); the clock power of an instance is scaled
        # to the measured edges of the net that clocks it.
        factor = edges(clocked_by[name]) if name in clocked_by else 1.0
        # A port-driven clock net is charged to no instance: C_pin V**2 per edge per clock pin.
        net_J = sum(cap_F * lib.vdd_V ** 2 * edges(pins[name][pin])
                    for pin, (_, cap_F) in clock_pins.get(cells.get(name, ""), {}).items()
                    if pins[name].get(pin) == clock_net)
        clock_W = (c_int + c_sw) * factor + net_J / (period * 1e-9)
        result.append(InstancePower(name=name, cell=cells.get(name, "?"),
                                    block=blocks.get(name, "top"), clock_W=clock_W,
                                    data_W=max(0.0, internal + switching - c_int - c_sw),
                                    leakage_W=leakage, switching_W=switching))
    return PowerResult(instances=result, period_ns=period, cycles=activity.cycles,
                       vmms=activity.vmms)
