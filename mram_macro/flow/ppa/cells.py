"""Where a macro's digital energy goes, below the block level: the breakdowns behind a lever.

``make ppa``'s anatomy gives each RTL block's clock, data and leakage energy per VMM. Finding
what to change needs finer groups. :func:`breakdown` sorts the instances of the same power
result (:class:`~mram_macro.flow.ppa.power.PowerResult`: the Liberty-table calculator on
gate-level activity) three ways:

* ``cells``: by anatomy row (the RTL block, or ``clock gates`` for all of them) and library
  cell (``tdc DFF_X1``: the TDC's flip-flops). Every instance is in exactly one of these
  groups, so they add up to the digital total;
* ``registers``: the flip-flops and latches, by the register they hold: the name of the net on
  their output with bit and column numbers folded (``tdc.cmp_sync#``: the comparator
  synchronisers of every column and stage);
* ``clock trees``: the buffers and inverters of each clock tree (the instances that drive a
  clock net but are not a clock gate's AND), by the tree's root: the clock port ``clk`` or the
  clock gate it hangs from (``g_sync``).

``python -m mram_macro.flow.ppa cells`` measures a configuration (flat synthesis, gate-level
activity of random VMMs, no STA) and prints the largest groups of each view. With
``--glitches`` it also simulates the netlist with one unit of delay per cell (``make ppa``'s
glitch-aware run) and prints where the glitches' energy goes (:func:`glitches`: the
unit-delay run minus the zero-delay one, per block and per block and cell).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from mram_macro.flow.ppa.energy import clock_nets_of
from mram_macro.flow.ppa.liberty import read_library
from mram_macro.flow.ppa.netlist import Instance, read_instances
from mram_macro.flow.ppa.power import PowerResult
from mram_macro.flow.ppa.report import anatomy_group

__all__ = ["Group", "VIEWS", "GLITCH_VIEWS", "breakdown", "glitches", "fold_numbers",
           "register_group", "lines"]

#: The views of :func:`breakdown`, in print order.
VIEWS = ("cells", "registers", "clock trees")
#: The views of :func:`glitches`, in print order.
GLITCH_VIEWS = ("glitches by block", "glitches by cell")
#: A clock gate's latch output as Yosys names it after flattening (``g_sync_icg.en_latched``).
_ICG_NET = re.compile(r"(g_\w+?)_icg\.en_latched")


@dataclass(frozen=True)
class Group:
    """Instances sharing a key, and their energy per VMM (J) by kind."""

    key: str
    instances: int
    clock_J: float
    data_J: float
    leakage_J: float

    @property
    def total_J(self) -> float:
        return self.clock_J + self.data_J + self.leakage_J


def fold_numbers(name: str) -> str:
    """``name`` with every number in it folded to ``#`` (``g_tdc12_icg`` -> ``g_tdc#_icg``):
    one group for the 64 copies of a per-column register, gate or block."""
    return re.sub(r"\d+", "#", name)


def register_group(net: str) -> str:
    """The register a flip-flop's output net belongs to: ``net`` with its bit select and the
    numbers in its name folded (``tdc.cmp_sync1[46]`` -> ``tdc.cmp_sync#``)."""
    return fold_numbers(re.sub(r"\s*\[\d+\]$", "", net.lstrip("\\")))


def _tree_roots(instances: list[Instance], outputs: dict[str, list[str]],
                clock_nets: set[str]) -> dict[str, str]:
    """Clock-tree buffer -> its tree's root (``clk`` or the clock gate's domain name)."""
    driver = {n: i for i in instances for p, n in i.pins.items() if p in outputs.get(i.cell, ())}

    def inputs(i: Instance) -> list[str]:
        return [n for p, n in i.pins.items() if p not in outputs.get(i.cell, ())]

    def root(i: Instance) -> str:
        seen = set()
        while len(inputs(i)) == 1 and i.name not in seen:      # a buffer or an inverter
            seen.add(i.name)
            net = inputs(i)[0]
            if net not in driver:
                return net.lstrip("\\")                        # a port: the clock input
            i = driver[net]
        return gate_of(i) or f"{i.cell} {i.name}"

    def gate_of(i: Instance) -> str | None:
        """The clock gate whose AND ``i`` is: its enable input comes from the gate's latch,
        directly or through buffers (hold fixing puts them there)."""
        for net in inputs(i):
            for _ in range(64):
                if m := _ICG_NET.search(net):
                    return m.group(1)
                d = driver.get(net)
                if d is None or len(inputs(d)) != 1:
                    break
                net = inputs(d)[0]
        return None

    return {i.name: root(i) for i in instances
            if len(inputs(i)) == 1
            and any(n in clock_nets for p, n in i.pins.items() if p in outputs.get(i.cell, ()))}


def breakdown(power: PowerResult, netlist: Path, liberty: Path) -> dict[str, list[Group]]:
    """The three views of the module docstring for ``power`` (of the flat ``netlist`` mapped
    onto ``liberty``), each a list of groups, largest total first."""
    instances = read_instances(netlist)
    by_name = {i.name: i for i in instances}
    outputs, clock_nets = clock_nets_of(instances, read_library(liberty))
    roots = _tree_roots(instances, outputs, clock_nets)
    per_vmm = power.period_ns * 1e-9 * power.cycles / power.vmms
    sums: dict[str, dict[str, list]] = {v: defaultdict(lambda: [0, 0.0, 0.0, 0.0])
                                        for v in VIEWS}

    def add(view: str, key: str, ip) -> None:
        s = sums[view][key]
        s[0] += 1
        s[1] += ip.clock_W * per_vmm
        s[2] += ip.data_W * per_vmm
        s[3] += ip.leakage_W * per_vmm

    for ip in power.instances:
        add("cells", f"{anatomy_group(ip.block)} {ip.cell}", ip)
        inst = by_name.get(ip.name)
        if inst is None:
            continue
        q = next((n for p, n in inst.pins.items() if p in ("Q", "QN")), None)
        if q is not None:
            add("registers", register_group(q), ip)
        if ip.name in roots:
            add("clock trees", roots[ip.name], ip)
    return {view: sorted((Group(k, *v) for k, v in groups.items()),
                         key=lambda g: -g.total_J)
            for view, groups in sums.items()}


def glitches(zero: dict[str, list[Group]], unit: dict[str, list[Group]]
             ) -> dict[str, list[Group]]:
    """Where the glitches' energy goes: the ``cells`` view of a unit-delay run (``unit``, of
    :func:`breakdown`) minus that of the zero-delay run of the same netlist (``zero``), per
    block and cell (``glitches by cell``) and per block (``glitches by block``), largest
    first. Leakage and the instance counts are the same in both runs, so the differences are
    clock and data energy; they add up to the difference of the two totals."""
    before = {g.key: g for g in zero["cells"]}
    if set(before) != {g.key for g in unit["cells"]}:
        raise ValueError("the two runs are not of the same netlist: their cell groups differ")
    by_cell = [Group(g.key, g.instances, g.clock_J - before[g.key].clock_J,
                     g.data_J - before[g.key].data_J, g.leakage_J - before[g.key].leakage_J)
               for g in unit["cells"]]
    blocks: dict[str, list] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for g in by_cell:
        b = blocks[g.key.rsplit(" ", 1)[0]]
        b[0] += g.instances
        b[1] += g.clock_J
        b[2] += g.data_J
        b[3] += g.leakage_J
    return {"glitches by block": sorted((Group(k, *v) for k, v in blocks.items()),
                                        key=lambda g: -g.total_J),
            "glitches by cell": sorted(by_cell, key=lambda g: -g.total_J)}


def lines(views: dict[str, list[Group]], *, top: int = 12) -> list[str]:
    """The ``top`` largest groups of each view as text (pJ per VMM)."""
    out = []
    for view in (v for v in (*VIEWS, *GLITCH_VIEWS) if v in views):
        groups = views[view]
        total = sum(g.total_J for g in groups)
        out.append(f"{view} ({len(groups)} groups, {total * 1e12:.2f} pJ per VMM; "
                   f"pJ: total = clock + data + leakage, instances)")
        for g in groups[:top]:
            out.append(f"  {g.key:40s} {g.total_J * 1e12:7.2f} = {g.clock_J * 1e12:6.2f} + "
                       f"{g.data_J * 1e12:6.2f} + {g.leakage_J * 1e12:6.2f}  {g.instances:6d}")
    return out
