"""``make layout``: the periphery of one configuration placed and routed at 45 nm, signed off
with the routed wires, beside the array's black box.

From the same flat, hold-fixed netlist as ``make ppa``
(:func:`mram_macro.flow.ppa.flow.flat_netlist`,
cached), its hold repaired further to :data:`ROUTE_HOLD_MARGIN_NS` for the wires to come
(:func:`route_ready_netlist`), and its gate-level activity
(:func:`mram_macro.flow.ppa.report._activity`,
cached):

1. :mod:`~mram_macro.flow.layout.netlist`: the netlist to place, with names every tool accepts;
2. :mod:`~mram_macro.flow.layout.pnr`: GrayWolf placement, qrouter routing, SPEF extraction;
3. post-route sign-off: OpenSTA with the SPEF (:func:`mram_macro.flow.ppa.sta.run_sta`, the same
   constraints and path groups as ``make sta``), setup and hold at the library's target clock;
4. post-route energy: the Liberty-table calculator (:mod:`mram_macro.flow.ppa.energy`) with each
   net's routed wire capacitance from the SPEF in place of the library's wire-load model, beside
   the pre-layout figure, and the wires' share of the switched energy per net class;
5. the floorplan: the periphery's die with the array's black box abutting its top edge
   (:class:`ArrayBlackBox`); the abstract (:mod:`~mram_macro.flow.layout.abstract`) and the die plot
   (:mod:`~mram_macro.flow.layout.plot`) are drawn from it.

The clock is the buffered trees the flat synthesis builds (:mod:`mram_macro.flow.clock_tree`,
``CLKBUF_X3``, fanout 16, delay padding in ``CLKBUF_X1``), placed like any cell: no clock-tree
synthesis after placement.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from mram_macro.design.config import MacroConfig
from mram_macro.flow.layout.netlist import PhysicalNetlist, physical_netlist
from mram_macro.flow.layout.pnr import place_and_route
from mram_macro.flow.layout.spef import read_def, read_spef
from mram_macro.flow.layout.tech import physical_library
from mram_macro.flow.ppa.analog import COLUMN_PITCH_UM
from mram_macro.flow.ppa.energy import analyse_energy, clock_nets_of
from mram_macro.flow.ppa.liberty import read_library
from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.netlist import Instance, read_instances
from mram_macro.flow.ppa.power import attribute_blocks
from mram_macro.flow.ppa.sta import run_sta

__all__ = ["ArrayBlackBox", "ROW_PITCH_UM", "NET_CLASSES", "flat_wire_caps", "net_classes",
           "wire_energy_by_class", "run_layout", "route_ready_netlist", "ROUTE_HOLD_MARGIN_NS",
           "TOP"]

TOP = "mram_macro"

#: Hold slack the netlist to be placed is repaired to
# (:func:`mram_macro.flow.ppa.hold_fix.fix_hold`),
#: above ``make ppa``'s :data:`mram_macro.flow.ppa.hold_fix.HOLD_TARGET_NS` (5 ps): the routed wires
#: load the clock trees' branches unevenly. With make ppa's netlist the small macro lost 11 ps
#: of hold (post-route -0.006 ns from +0.005 ns); repaired to 25 ps it lost 36 ps on an input
#: path (AXI4-Lite arvalid, post-route -0.008 ns). P&R tools repair hold after routing, qflow
#: cannot, so the margin is taken before placement.
ROUTE_HOLD_MARGIN_NS = 0.05

#: Row pitch of the array (assumption, like :data:`mram_macro.flow.ppa.analog.COLUMN_PITCH_UM`: a
#: logical cell is two MTJ/bypass-transistor pairs in series along the column; with bypass
#: transistors about 1 µm wide and an MTJ on each drain, one pair is about 0.5 µm long in 28 nm
#: design rules).
ROW_PITCH_UM = 1.0

#: Net classes of the wire report, in order.
NET_CLASSES = ("clock", "counter_bus", "data")


@dataclass(frozen=True)
class ArrayBlackBox:
    """The analogue array's footprint: ``cols`` columns at ``column_pitch_um`` by ``rows`` rows
    at ``row_pitch_um``; its pins (one per ``arr_*`` port bit) on the edge facing the
    periphery."""

    rows: int
    cols: int
    column_pitch_um: float = COLUMN_PITCH_UM
    row_pitch_um: float = ROW_PITCH_UM

    def __post_init__(self):
        for name in ("rows", "cols"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v > 0):
                raise ValueError(f"{name} must be a positive integer, not {v!r}")
        for name in ("column_pitch_um", "row_pitch_um"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and v > 0):
                raise ValueError(f"{name} must be a positive number of µm, not {v!r}")

    @property
    def width_um(self) -> float:
        return self.cols * self.column_pitch_um

    @property
    def height_um(self) -> float:
        return self.rows * self.row_pitch_um


def floorplan(die_um: tuple[float, float, float, float], array: ArrayBlackBox) -> dict:
    """The macro: the periphery's die, the array's box abutting its top edge (centred), and the
    outline around both (µm, (x0, y0, x1, y1))."""
    x0, y0, x1, y1 = die_um
    ax0 = x0 + (x1 - x0 - array.width_um) / 2
    box = (ax0, y1, ax0 + array.width_um, y1 + array.height_um)
    outline = (min(x0, box[0]), y0, max(x1, box[2]), box[3])
    return {"periphery_um": list(die_um), "array_um": list(box), "outline_um": list(outline),
            "array": asdict(array),
            "outline_area_mm2": (outline[2] - outline[0]) * (outline[3] - outline[1]) * 1e-6}


def flat_wire_caps(pn: PhysicalNetlist, wire_cap_F: dict[str, float],
                   instances: list[Instance], outputs: dict[str, list[str]],
                   inputs: list[str]) -> dict[str, float]:
    """Wire capacitance (F) per net of the *flat* netlist: each routed net's capacitance goes
    to the flat name its driver's output pin (or, for an input port, the port) goes by, the
    name the energy calculator charges. A routed net without a flat driver name is an error."""
    driven = {n for i in instances for p, n in i.pins.items() if p in outputs.get(i.cell, ())}
    driven |= set(inputs)
    out: dict[str, float] = {}
    for net, cap in wire_cap_F.items():
        names = [n for n in pn.flat_nets(net) if n in driven]
        if not names:
            if not pn.flat_nets(net):
                raise ValueError(f"routed net {net!r} is not a net of the placed netlist")
            continue        # a net driven by a cell the flat netlist lacks (insbuf's buffers)
        out[names[0]] = out.get(names[0], 0.0) + cap
    return out


def net_classes(instances: list[Instance], outputs: dict[str, list[str]],
                clock_nets: set[str], *, tdc_block: str = "tdc") -> dict[str, str]:
    """Class of every net: ``clock`` (the clock network), ``counter_bus`` (a net from
    outside the TDC into the TDC's columns: the shared code counter, capture and clear,
    broadcast to every column), ``data`` (the rest)."""
    blocks = attribute_blocks(instances, outputs)
    driver_block: dict[str, str] = {}
    into_tdc: set[str] = set()
    nets: set[str] = set()
    for inst in instances:
        outs = outputs.get(inst.cell, ())
        for p, n in inst.pins.items():
            nets.add(n)
            if p in outs:
                driver_block[n] = blocks.get(inst.name, "top")
            elif blocks.get(inst.name) == tdc_block:
                into_tdc.add(n)
    out = {}
    for n in nets:
        if n in clock_nets or n == "clk":
            out[n] = "clock"
        elif n in into_tdc and driver_block.get(n, "top") != tdc_block:
            out[n] = "counter_bus"
        else:
            out[n] = "data"
    return out


def wire_energy_by_class(caps_F: dict[str, float], classes: dict[str, str],
                         toggles: dict[str, float], *, vdd_V: float, vmms: int
                         ) -> dict[str, dict[str, float]]:
    """Per class: number of nets, wire capacitance (F) and the energy per VMM (J) of charging
    it, ``N · ½ · C · V²`` (``toggles``: transitions per net over the window of ``vmms``)."""
    out = {c: {"nets": 0, "wire_cap_F": 0.0, "energy_per_vmm_J": 0.0} for c in NET_CLASSES}
    for net, cap in caps_F.items():
        c = classes.get(net, "data")
        out[c]["nets"] += 1
        out[c]["wire_cap_F"] += cap
        out[c]["energy_per_vmm_J"] += toggles.get(net, 0.0) * 0.5 * cap * vdd_V ** 2 / vmms
    return out


def _digital(power) -> dict[str, float]:
    return {k: power.energy_per_vmm_J(k) for k in ("clock", "data", "leakage", "total")}


def route_ready_netlist(flat, lib: StdCellLibrary, workdir: Path):
    """A copy of the flat netlist ``flat`` (a :class:`mram_macro.flow.synth.FlatNetlist`) in
    ``workdir``, its hold repaired to :data:`ROUTE_HOLD_MARGIN_NS` (what that did is in
    ``hold_fix.json`` there); cached by the netlist and the hold fixer."""
    import hashlib
    import shutil

    from mram_macro.flow.ppa import hold_fix as hold_fix_module
    from mram_macro.flow.ppa.flow import _cached

    workdir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(flat.netlist.read_bytes() + Path(hold_fix_module.__file__).read_bytes()
                         + f"{ROUTE_HOLD_MARGIN_NS}".encode()).hexdigest()
    stamp, netlist = workdir / "margin.stamp", workdir / flat.netlist.name
    if not (stamp.exists() and stamp.read_text() == key and netlist.exists()):
        shutil.copyfile(flat.netlist, netlist)
        fixed = hold_fix_module.fix_hold(netlist, flat.top, lib, workdir / "hold_fix",
                                         target_ns=ROUTE_HOLD_MARGIN_NS)
        (workdir / "hold_fix.json").write_text(json.dumps(asdict(fixed), indent=1) + "\n")
        stamp.write_text(key)
    return _cached(netlist, flat.top, lib, flat.period_ps, workdir)


def run_layout(config: MacroConfig, lib: StdCellLibrary, out: Path, *, vmms: int,
               density: float = 0.65) -> dict:
    """The whole chain for ``config`` on ``lib`` in ``out/<lib>/<slug>/layout``; the results
    as plain data (also written to ``layout.json`` there)."""
    from mram_macro.explore.features import rtl_fingerprint
    from mram_macro.flow.ppa.flow import flat_netlist
    from mram_macro.flow.ppa.report import _activity
    from mram_macro.sim.runner import generate

    phys = physical_library(lib.key)
    workdir = out / lib.key / config.slug
    lay = workdir / "layout"
    t0 = time.monotonic()
    verilog = generate(config, workdir / "rtl")
    flat = route_ready_netlist(flat_netlist(verilog, lib, workdir), lib, lay / "margin")
    act = _activity(flat.netlist, lib, config, lay / "margin", vmms)
    t_prep = time.monotonic() - t0
    pn = physical_netlist(flat.netlist, lib, lay / "netlist", top=TOP)
    pr = place_and_route(pn, phys, lay, density=density)
    if pr.failed_nets:
        raise RuntimeError(f"qrouter left {pr.failed_nets} nets unrouted (log "
                           f"{lay / 'qrouter.log'})")

    t1 = time.monotonic()
    sta_pre = run_sta(flat.netlist, TOP, lib, workdir=lay / "sta_pre")
    sta_post = run_sta(pr.verilog, TOP, lib, workdir=lay / "sta_post", spef=pr.spef)
    t_sta = time.monotonic() - t1

    liberty = read_library(lib.require())
    instances = read_instances(flat.netlist)
    outputs, clock_nets = clock_nets_of(instances, liberty)
    from mram_macro.flow.ppa.power import _input_ports

    spef = read_spef(pr.spef)
    caps = flat_wire_caps(pn, spef.wire_cap_F, instances, outputs, _input_ports(flat.netlist))
    cap_unit = liberty.cap_unit_F
    pre = analyse_energy(flat.netlist, TOP, lib, act)
    post = analyse_energy(flat.netlist, TOP, lib, act,
                          wire_cap={n: c / cap_unit for n, c in caps.items()})
    classes = net_classes(instances, outputs, clock_nets)
    toggles = dict(act.toggles)
    toggles["clk"] = 2.0 * act.cycles
    wires = wire_energy_by_class(caps, classes, toggles, vdd_V=lib.vdd_V, vmms=act.vmms)
    wlm = liberty.wire_load
    fanout: dict[str, int] = defaultdict(int)
    for inst in instances:
        for p, n in inst.pins.items():
            if p not in outputs.get(inst.cell, ()) and n:
                fanout[n] += 1
    wlm_caps = {n: wlm.cap(fanout.get(n, 0)) * cap_unit for n in classes} if wlm else {}
    wires_wlm = wire_energy_by_class(wlm_caps, classes, toggles, vdd_V=lib.vdd_V,
                                     vmms=act.vmms)
    post_total = post.energy_per_vmm_J("total")
    for c in NET_CLASSES:
        wires[c]["share_of_digital"] = wires[c]["energy_per_vmm_J"] / post_total
        wires[c]["wire_load_model_energy_per_vmm_J"] = wires_wlm[c]["energy_per_vmm_J"]

    design = read_def(pr.routed_def)
    placed = read_def(pr.placed_def)
    array = ArrayBlackBox(rows=config.rows, cols=config.cols)
    plan = floorplan(placed.die_um, array)
    cells = [c for c in placed.components if c.name in {i.name for i in pn.instances}]
    die_area = placed.width_um * placed.height_um
    if not 0.05 < flat.area_um2 / die_area <= 1.0:
        # A die that cannot hold the cells, or dwarfs them: place2def read a wrong grid.
        raise RuntimeError(f"{pr.placed_def}: die {placed.width_um:.1f} x "
                           f"{placed.height_um:.1f} µm for {flat.area_um2:.0f} µm² of cells")
    by_layer: dict[str, float] = defaultdict(float)
    for segs in design.wires.values():
        for s in segs:
            by_layer[s.layer] += s.length_um
    ops = 2 * config.rows * config.cols
    result = {
        "library": lib.key, "title": lib.title, "config": config.to_dict(),
        "slug": config.slug, "period_ns": lib.target_period_ns, "tools": {
            "placement": "graywolf (qflow blif2cel.tcl, decongest.tcl, place2def.tcl)",
            "routing": "qrouter", "extraction": "spef-extractor 0.2.1",
            "sta": "OpenSTA 2.0.17 read_spef"},
        "commands": pr.commands,
        "runtimes_s": {"netlist_and_activity": t_prep, **pr.runtimes_s, "sta": t_sta,
                       "this_invocation": time.monotonic() - t0},
        "cells": len(pn.instances), "nets_routed": len(design.wires),
        "failed_nets": pr.failed_nets,
        "density_target": density,
        "route_hold_margin": {"target_ns": ROUTE_HOLD_MARGIN_NS, **json.loads(
            (lay / "margin" / "hold_fix.json").read_text())},
        "area": {"cell_area_um2": flat.area_um2, "die_um": [placed.width_um,
                                                              placed.height_um],
                 "die_area_um2": die_area, "utilisation": flat.area_um2 / die_area,
                 "placed_cells": len(cells), **plan},
        "wire_length_um": {"total": sum(by_layer.values()), **dict(sorted(by_layer.items()))},
        "sta_pre": sta_pre.to_dict(), "sta_post": sta_post.to_dict(),
        "sta_post_passed": not sta_post.failures(lib.min_slack_fraction),
        "sta_post_failures": list(sta_post.failures(lib.min_slack_fraction)),
        "window": {"cycles": act.cycles, "vmms": act.vmms},
        "digital_pre_J": _digital(pre), "digital_post_J": _digital(post),
        "wire_energy": wires,
        "spef_nets": len(spef.wire_cap_F),
        "spef_wire_cap_F": sum(spef.wire_cap_F.values()),
        "ops_per_vmm": ops,
        "tops_per_W_digital_pre": ops / pre.energy_per_vmm_J("total") / 1e12,
        "tops_per_W_digital_post": ops / post_total / 1e12,
        # Registers per block (and per clock) of the RTL routed: a later RTL change that alters
        # them makes the post-route figures stale
        # (:func:`mram_macro.explore.features.measured_on_other_rtl`).
        **rtl_fingerprint(config),
    }
    # The abstract and the die plot.
    from mram_macro.flow.layout.abstract import port_timing, write_lef, write_liberty
    from mram_macro.flow.layout.plot import die_plot

    lef = write_lef(lay / f"{TOP}_abstract.lef", placed, pn.ports, plan, name=TOP,
                    route_layers=phys.route_layers)
    timing = port_timing(pr.verilog, TOP, lib, pr.spef, lay / "abstract")
    lib_model = write_liberty(lay / f"{TOP}_abstract.lib", timing, pn.ports, lib, name=TOP,
                              area_um2=plan["outline_area_mm2"] * 1e6)
    png = die_plot(placed, design, instances, outputs, plan, lay / f"{config.slug}.png",
                   title=f"{lib.title}, {config.slug}: {len(pn.instances)} cells, "
                         f"{result['wire_length_um']['total'] / 1e3:.1f} mm of wire, "
                         f"post-route setup {sta_post.wns_ns:+.3f} ns, "
                         f"hold {sta_post.hold_wns_ns:+.3f} ns")
    result["port_timing_ns"] = timing
    result["files"] = {"lef": str(lef), "liberty": str(lib_model), "die_plot": str(png),
                       "def": str(pr.routed_def), "spef": str(pr.spef)}
    analog = published_analog_J(config, lib)
    if analog is not None:
        # The analogue terms do not depend on the layout: make ppa's published figure for the
        # same configuration and library.
        result["analog_per_vmm_J"] = analog
        result["tops_per_W_pre"] = ops / (analog + pre.energy_per_vmm_J("total")) / 1e12
        result["tops_per_W_post"] = ops / (analog + post_total) / 1e12
    (lay / "layout.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def published_analog_J(config: MacroConfig, lib: StdCellLibrary) -> float | None:
    """The analogue energy per VMM that ``make ppa`` published for ``config`` on ``lib``
    (clock-gated design, random VMMs), or None if it published none."""
    from mram_macro.flow.ppa.report import published_results

    for r in published_results():
        if (r.get("library") == lib.key and MacroConfig.from_dict(r["config"]) == config
                and r.get("clock_gating", True) and r.get("workload", "random") == "random"):
            return r["analog_J"]["per_vmm_J"]
    return None
