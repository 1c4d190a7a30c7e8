"""Digital energy of a gate-level netlist from the Liberty tables, per transition.

This is the kit's own power calculator. It replaces OpenSTA 2.0.17's power engine for the
figures the kit prints, because that engine charges internal power as rise + fall energy on
every transition and sums it over every input arc (``../shared/TOOLCHAIN.md``, gotcha 11): an
INV_X1 comes out 2x, multi-arc cells 2.5-5x, too high. OpenSTA is kept as a cross-check of the
switching and leakage terms, which it gets right (verif/unit/test_energy.py).

For a measurement window of ``cycles`` clock cycles with ``N(net)`` transitions per net and the
fraction of time ``P(net)`` each net spends at 1 (:class:`mram_macro.flow.ppa.activity.Activity`):

* **switching**, per net: ``N · ½ · C · V²`` with ``C`` = the Liberty capacitance (mean of
  rise and fall) of every pin the net drives + the default wire-load model's capacitance for
  its fanout + the library's output load on an output port (the sum OpenSTA uses too);
* **internal**, per cell output pin ``o``: ``N(o) · Σ_arcs w · ½(E_rise + E_fall)``. Liberty's
  ``rise_power``/``fall_power`` are energies *per transition* of the output (a rise, a fall),
  so a transition costs their mean, once. The arcs are the pin's ``internal_power`` groups;
  each output transition was caused by one input, so the weights are a distribution: over the
  related pins in proportion to their transitions in the window (equal when none toggled), and
  within one related pin over its ``when`` states by their probability (inputs independent,
  each at 1 with probability ``P``). ``E`` is looked up at the related input's slew and the
  output net's load;
* **internal**, per cell input pin with power groups of its own (a flip-flop's clock and data
  pins): ``N(pin) · Σ_when P(when) · ½(E_rise + E_fall)`` (the ``when`` probabilities of one
  pin normalised to 1);
* **leakage**: ``Σ_when P(when) · value`` over the cell's state-dependent leakage (normalised
  over the states given), ``cell_leakage_power`` where the cell states none, times the window.

Slews come from the cells' output transition tables, propagated from the inputs (which the
library's driving cell drives) in topological order; a flip-flop's output slew depends on its
clock pin's.

**Clock and data.** Clock energy is what the clock network burns: the switching of every clock
net (the nets at clock pins and the clock trees of :mod:`mram_macro.flow.clock_tree` up to the
clock gates' outputs), the internal energy of every cell driving one (tree buffers, the clock
gates' ANDs) and the internal energy of every clock pin. Everything else is data (a
flip-flop's output transition after a clock edge included).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from mram_macro.flow.clock_tree import is_tree_cell
from mram_macro.flow.ppa.activity import Activity
from mram_macro.flow.ppa.liberty import Cell, Library, read_library, when_probability
from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.netlist import Instance, read_instances
from mram_macro.flow.ppa.power import (
    InstancePower,
    PowerResult,
    _input_ports,
    attribute_blocks,
    port_bits,
)

__all__ = ["NetlistEnergy", "InstanceEnergy", "netlist_energy", "analyse_energy",
           "output_ports", "cell_output_energy", "cell_input_energy", "clock_nets_of"]


@dataclass(frozen=True)
class InstanceEnergy:
    """Energy of one instance over the window (J): internal (its pins' power groups),
    switching (the nets it drives), leakage; and how much of the dynamic part is clock."""

    name: str
    cell: str
    internal_J: float
    switching_J: float
    leakage_J: float
    clock_J: float

    @property
    def dynamic_J(self) -> float:
        return self.internal_J + self.switching_J


@dataclass(frozen=True)
class NetlistEnergy:
    instances: list[InstanceEnergy]
    #: Load capacitance (F) and slew (library time unit) of every net, as used.
    load_F: dict[str, float]
    slew: dict[str, float]


def output_ports(netlist: Path) -> list[str]:
    """Output port bits of a Yosys netlist, ``name[i]`` style."""
    return port_bits(netlist, "output")


def _state_probabilities(cell: Cell, inst: Instance, duty: dict[str, float]) -> dict[str, float]:
    """P(pin = 1) of every connected pin of an instance (a ``when`` may name them)."""
    return {pin: duty.get(net, 0.0) for pin, net in inst.pins.items()}


@functools.lru_cache(maxsize=1024)
def _complements(cell: Cell) -> tuple[tuple[str, str], ...]:
    """(pin, twin) pairs of outputs whose functions are each other's complement (a flip-flop's
    QN and Q): a ``when`` naming ``pin`` means ``!twin``, since the two are never independent."""
    out = []
    fns = {n: p.function.replace(" ", "") for n, p in cell.pins.items()
           if p.direction == "output" and p.function}
    for name, fn in fns.items():
        for other, ofn in fns.items():
            if other < name and (fn in (f"!{ofn}", f"!({ofn})") or ofn in (f"!{fn}", f"!({fn})")):
                out.append((name, other))
    return tuple(out)


def _when(cell: Cell, expr: str | None) -> str | None:
    """``expr`` with every complement output replaced by the negation of its twin."""
    if not expr:
        return expr
    for name, twin in _complements(cell):
        expr = re.sub(rf"\b{name}\b", f"(!{twin})", expr)
    return expr


def cell_output_energy(cell: Cell, pin: str, *, toggles: dict[str, float],
                       p_one: dict[str, float], slew: dict[str, float], load: float) -> float:
    """Internal energy of ONE transition of output ``pin`` (library energy unit): the arcs'
    mean rise/fall energies weighted as described in the module docstring. ``toggles``,
    ``p_one`` and ``slew`` are per pin of the cell."""
    groups = cell.pins[pin].power
    if not groups:
        return 0.0
    by_related: dict[str | None, list] = defaultdict(list)
    for g in groups:
        by_related[g.related_pin].append(g)
    related = list(by_related)
    weights = [toggles.get(r, 0.0) if r is not None else 0.0 for r in related]
    if sum(weights) <= 0:
        weights = [1.0] * len(related)
    total = sum(weights)
    energy = 0.0
    for r, w in zip(related, weights, strict=True):
        arcs = by_related[r]
        probs = [when_probability(_when(cell, g.when), p_one) for g in arcs]
        if sum(probs) <= 0:
            probs = [1.0] * len(arcs)
        s = slew.get(r, 0.0) if r is not None else 0.0
        energy += (w / total) * sum(p * g.energy(slew=s, load=load)
                                    for p, g in zip(probs, arcs, strict=True)) / sum(probs)
    return energy


def cell_input_energy(cell: Cell, pin: str, *, p_one: dict[str, float], slew: float) -> float:
    """Internal energy of ONE transition of input ``pin`` from its own power groups (library
    energy unit; 0 for a pin without any)."""
    groups = [g for g in cell.pins[pin].power if g.related_pin in (None, pin)]
    if not groups:
        return 0.0
    probs = [when_probability(_when(cell, g.when), p_one) for g in groups]
    if sum(probs) <= 0:
        probs = [1.0] * len(groups)
    return sum(p * g.energy(slew=slew, load=0.0)
               for p, g in zip(probs, groups, strict=True)) / sum(probs)


def _output_slew(cell: Cell, pin: str, in_slew: dict[str, float], load: float,
                 default: float) -> float:
    arcs = cell.pins[pin].transitions
    values = []
    for related, tables in arcs.items():
        s = in_slew.get(related, default)
        values += [t.lookup(slew=s, load=load) for t in tables if t is not None]
    return max(sum(values) / len(values), 0.0) if values else default


def netlist_energy(instances: list[Instance], lib: Library, activity: Activity, *,
                   period_ns: float, inputs: list[str], outputs: list[str], output_load: float,
                   driving_cell: tuple[str, str], clock_nets: set[str],
                   clock_net: str = "clk", input_slew: float | None = None,
                   wire_cap: dict[str, float] | None = None) -> NetlistEnergy:
    """Energy of every instance (and of every input port's net, as a pseudo-instance named
    ``port:<net>``) over ``activity``'s window. Input ports are driven by ``driving_cell``
    (cell, output pin), or have the slew ``input_slew`` (library time unit) if it is given.
    ``wire_cap`` (library capacitance unit, per net): the routed wires' capacitance (from a
    SPEF, :mod:`mram_macro.flow.layout.spef`), which then replaces the wire-load model on every net
    (a net it does not name has no wire)."""
    v2 = lib.voltage_V ** 2
    e_unit = lib.energy_unit_J
    cells = {}
    for inst in instances:
        if inst.cell not in lib.cells:
            raise ValueError(f"cell {inst.cell!r} of instance {inst.name!r} is not in the "
                             f"Liberty file {lib.name!r}")
        cells[inst.name] = lib.cells[inst.cell]

    def toggles(net: str) -> float:
        return 2.0 * activity.cycles if net == clock_net else float(activity.toggles.get(net, 0))

    duty = dict(activity.duty)
    duty.setdefault(clock_net, 0.5)
    # Loads: sink pin capacitances + wire load for the fanout + the port load.
    sink_cap: dict[str, float] = defaultdict(float)
    fanout: dict[str, int] = defaultdict(int)
    driver: dict[str, tuple[Instance, str]] = {}
    for inst in instances:
        cell = cells[inst.name]
        for pin, net in inst.pins.items():
            cp = cell.pins.get(pin)
            if cp is None:
                continue
            if cp.direction == "output":
                driver[net] = (inst, pin)
            else:
                sink_cap[net] += cp.capacitance
                fanout[net] += 1
    for net in outputs:
        sink_cap[net] += output_load
        fanout[net] += 1
    nets = set(sink_cap) | set(driver) | set(inputs)
    wire = lib.wire_load
    if wire_cap is not None:
        load = {n: sink_cap.get(n, 0.0) + wire_cap.get(n, 0.0) for n in nets}
    else:
        load = {n: sink_cap.get(n, 0.0) + (wire.cap(fanout.get(n, 0)) if wire else 0.0)
                for n in nets}

    # Slews, in topological order from the inputs and the sequential cells' outputs.
    drive_cell, drive_pin = driving_cell
    dc = lib.cells.get(drive_cell)
    base = 0.0
    if dc is not None:
        first = next(iter(dc.pins[drive_pin].transitions.values()), (None, None))
        idx = [t for t in first if t is not None]
        base = float(idx[0].indices[0][0]) if idx and idx[0].indices else 0.0
    slew: dict[str, float] = {}
    for n in inputs:
        if input_slew is not None:
            slew[n] = input_slew
        else:
            slew[n] = _output_slew(dc, drive_pin, {}, load.get(n, 0.0), base) if dc else base
    sequential = {i.name for i in instances
                  if any(p.clock for p in cells[i.name].pins.values())}
    order = _topological(instances, cells, sequential, driver)
    for _ in range(2):      # a second pass settles the flip-flops' clock-pin slews
        for inst in order:
            cell = cells[inst.name]
            in_slew = {p: slew.get(n, base) for p, n in inst.pins.items()
                       if p in cell.pins and cell.pins[p].direction != "output"}
            for pin in cell.outputs:
                net = inst.pins.get(pin)
                if net is not None:
                    slew[net] = _output_slew(cell, pin, in_slew, load.get(net, 0.0), base)

    result = []
    driven_by_instance = set()
    for inst in instances:
        cell = cells[inst.name]
        p_one = _state_probabilities(cell, inst, duty)
        pin_toggles = {p: toggles(n) for p, n in inst.pins.items()}
        pin_slew = {p: slew.get(n, base) for p, n in inst.pins.items()}
        internal = switching = clock = 0.0
        on_clock_tree = False
        for pin, net in inst.pins.items():
            cp = cell.pins.get(pin)
            if cp is None:
                continue
            if cp.direction == "output":
                driven_by_instance.add(net)
                n_out = pin_toggles[pin]
                e_int = n_out * cell_output_energy(
                    cell, pin, toggles=pin_toggles, p_one=p_one, slew=pin_slew,
                    load=load.get(net, 0.0)) * e_unit
                e_sw = n_out * 0.5 * load.get(net, 0.0) * lib.cap_unit_F * v2
                internal += e_int
                switching += e_sw
                if net in clock_nets or net == clock_net:
                    clock += e_int + e_sw
                    on_clock_tree = True
            else:
                e_in = pin_toggles[pin] * cell_input_energy(
                    cell, pin, p_one=p_one, slew=pin_slew[pin]) * e_unit
                internal += e_in
                if cp.clock:
                    clock += e_in
        if on_clock_tree or is_tree_cell(inst.name):
            clock = internal + switching
        leak = _leakage(cell, p_one) * lib.leakage_unit_W
        result.append(InstanceEnergy(
            name=inst.name, cell=inst.cell, internal_J=internal, switching_J=switching,
            leakage_J=leak * activity.cycles * period_ns * 1e-9, clock_J=clock))
    for net in inputs:
        if net in driven_by_instance or net not in load:
            continue
        e_sw = toggles(net) * 0.5 * load[net] * lib.cap_unit_F * v2
        result.append(InstanceEnergy(
            name=f"port:{net}", cell="(port)", internal_J=0.0, switching_J=e_sw, leakage_J=0.0,
            clock_J=e_sw if (net in clock_nets or net == clock_net) else 0.0))
    return NetlistEnergy(instances=result,
                         load_F={n: c * lib.cap_unit_F for n, c in load.items()}, slew=slew)


def _leakage(cell: Cell, p_one: dict[str, float]) -> float:
    if not cell.leakage_states:
        return cell.leakage
    probs = [when_probability(_when(cell, w), p_one) for w, _ in cell.leakage_states]
    if sum(probs) <= 0:
        return cell.leakage
    return sum(p * v for p, (_, v) in zip(probs, cell.leakage_states, strict=True)) / sum(probs)


def _topological(instances, cells, sequential, driver) -> list[Instance]:
    """Instances in an order where every combinational cell follows its drivers; sequential
    cells (any clock pin) first; cells on a loop last, in netlist order."""
    deps: dict[str, set[str]] = {}
    users: dict[str, list[str]] = defaultdict(list)
    by_name = {i.name: i for i in instances}
    for inst in instances:
        d = set()
        if inst.name not in sequential:
            cell = cells[inst.name]
            for pin, net in inst.pins.items():
                cp = cell.pins.get(pin)
                if cp is not None and cp.direction != "output" and net in driver:
                    src = driver[net][0].name
                    if src != inst.name:
                        d.add(src)
        deps[inst.name] = d
        for s in d:
            users[s].append(inst.name)
    ready = deque(n for n, d in deps.items() if not d)
    remaining = {n: len(d) for n, d in deps.items()}
    order = []
    while ready:
        n = ready.popleft()
        order.append(by_name[n])
        for u in users[n]:
            remaining[u] -= 1
            if remaining[u] == 0:
                ready.append(u)
    placed = {i.name for i in order}
    order += [i for i in instances if i.name not in placed]
    return order


def analyse_energy(netlist: Path, top: str, lib: StdCellLibrary, activity: Activity, *,
                   period_ns: float | None = None, clock_net: str = "clk",
                   wire_cap: dict[str, float] | None = None) -> PowerResult:
    """Per-instance clock, data and leakage power of ``netlist`` under ``activity``, from the
    Liberty tables (see the module docstring), at ``period_ns`` (the library's target clock by
    default): the same :class:`PowerResult` as :func:`mram_macro.flow.ppa.power.analyse_power`.
    ``wire_cap``: routed wire capacitance per net, see :func:`netlist_energy`."""
    period = lib.target_period_ns if period_ns is None else period_ns
    liberty = read_library(lib.require())
    if abs(liberty.voltage_V - lib.vdd_V) > 1e-9:
        raise ValueError(f"{lib.key}: the Liberty file's nominal voltage "
                         f"{liberty.voltage_V} V is not the library's {lib.vdd_V} V")
    instances = read_instances(netlist)
    outputs, clock_nets = clock_nets_of(instances, liberty)
    energy = netlist_energy(instances, liberty, activity, period_ns=period,
                            inputs=_input_ports(netlist),
                            outputs=output_ports(netlist), output_load=lib.output_load,
                            driving_cell=(lib.driving_cell, lib.driving_pin),
                            clock_nets=clock_nets, clock_net=clock_net, wire_cap=wire_cap)
    blocks = attribute_blocks(instances, outputs)
    window_s = activity.cycles * period * 1e-9
    result = []
    for e in energy.instances:
        block = blocks.get(e.name, "top") if not e.name.startswith("port:") else "top"
        result.append(InstancePower(
            name=e.name, cell=e.cell, block=block, clock_W=e.clock_J / window_s,
            data_W=(e.dynamic_J - e.clock_J) / window_s, leakage_W=e.leakage_J / window_s,
            switching_W=e.switching_J / window_s))
    return PowerResult(instances=result, period_ns=period, cycles=activity.cycles,
                       vmms=activity.vmms)


def clock_nets_of(instances: list[Instance], liberty: Library
                ) -> tuple[dict[str, list[str]], set[str]]:
    """(output pins per cell, the clock nets of :func:`mram_macro.flow.ppa.power.clock_network`),
    both from the Liberty file's cells."""
    from mram_macro.flow.ppa.power import clock_network

    outputs = {c.name: c.outputs for c in liberty.cells.values()}
    clock_pins = {c.name: {p: None for p, pin in c.pins.items() if pin.clock}
                  for c in liberty.cells.values()}
    return outputs, clock_network(instances, clock_pins, outputs)[0]


def clock_instances(netlist: Path, lib: StdCellLibrary) -> set[str]:
    """Names of the instances that drive a clock net (clock-tree buffers, clock gates' ANDs):
    the ideal clock of a unit-delay simulation
    (:func:`mram_macro.flow.ppa.activity.simulate_activity`)."""
    instances = read_instances(netlist)
    outputs, clock_nets = clock_nets_of(instances, read_library(lib.require()))
    return {i.name for i in instances
            if any(n in clock_nets for p, n in i.pins.items() if p in outputs.get(i.cell, ()))}
