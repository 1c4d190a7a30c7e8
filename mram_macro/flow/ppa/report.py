"""``make ppa``: the PPA table of the default macro, per library, NeuroSim style.

For each Liberty file: flat sign-off netlist and STA at the target clock (fmax), hierarchical
synthesis for the area per block, a gate-level simulation of a stream of random VMMs for the
switching activity in its steady state (:mod:`mram_macro.sim.workloads.power`: a warm-up, then a
window of ``--vmms`` results with the pipeline full), the energy of every cell from the Liberty
tables per transition (:mod:`mram_macro.flow.ppa.energy`; clock / data / leakage per block), once
with zero delay and once with one unit of delay per cell (glitches counted), the analogue terms
of :mod:`mram_macro.flow.ppa.analog`, then energy per VMM, TOPS/W and TOPS/mm² at the steady-state
throughput, and the 45 nm figures scaled to 28 nm (see :data:`SCALING_RULE`). Results go to
``build/ppa/ppa.json`` and plots to ``build/ppa/*.png``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from mram_macro.design.config import PROFILES, MacroConfig, profile_config
from mram_macro.flow.ppa.activity import DEFAULT_WORKLOAD, WARMUP_VMMS, Activity, simulate_activity
from mram_macro.flow.ppa.analog import analog_energy, analog_terms, random_vmm_operating_point
from mram_macro.flow.ppa.breakdown import CATEGORIES, category_of, plots
from mram_macro.flow.ppa.energy import analyse_energy, clock_instances
from mram_macro.flow.ppa.flow import STA_CONFIGS, TOP, hold_fix_report, sign_off
from mram_macro.flow.ppa.libraries import HEADLINE_LIBRARY, library
from mram_macro.flow.ppa.power import PowerResult

__all__ = ["SCALING_RULE", "measure", "main", "anatomy", "replot", "UNIT_DELAY_NS",
           "DEFAULT_VMMS"]

#: VMMs in the steady-state power window (after the workload's warm-up).
DEFAULT_VMMS = 40
#: The delay of every cell in the glitch-aware simulation: one unit, 10 ps (NanGate 45 nm's
#: INV_X1 at a fanout of 1-2 is 5-15 ps; the logic depth of the design, < 60 cells, settles well
#: inside the 5 ns testbench clock, so only the glitches differ from the zero-delay run).
UNIT_DELAY_NS = 0.01

#: How the 45 nm digital figures become 28 nm estimates.
SCALING_RULE = (
    "Dennard (constant-field) scaling, Dennard et al., IEEE JSSC 9(5), 1974, with each node's "
    "own supply, of the DYNAMIC energy only: switched capacitance x s, area x s², delay x s "
    "(s = 28/45), dynamic energy x s·(V28/V45)² with V45 = 1.1 V (NanGate typ.) and V28 = 0.9 V "
    "(the readout design's supply). Leakage follows no such rule (it is set by threshold "
    "voltage and process flavour, low-power to high-performance, an order of magnitude either "
    "way): the estimate keeps the 45 nm leakage and states the range x0.1 to x10 around it. "
    "An ESTIMATE: real 28 nm nodes scale capacitance less well than this rule.")
S_28_45 = 28.0 / 45.0
V28_V = 0.9
#: The range stated for 28 nm leakage around the 45 nm figure (see :data:`SCALING_RULE`).
LEAKAGE_28_RANGE = (0.1, 10.0)


def _activity(netlist: Path, lib, config: MacroConfig, workdir: Path, vmms: int,
              workload: str = "random", unit_delay_ns: float | None = None) -> Activity:
    """Gate-level activity of ``netlist``, cached by the netlist's hash, the VMM count, the
    workload (its source included: the window's definition lives there) and the delay."""
    import importlib.util

    spec = importlib.util.find_spec(DEFAULT_WORKLOAD)
    source = Path(spec.origin).read_bytes() if spec and spec.origin else b""
    key = hashlib.sha256(netlist.read_bytes() + source
                         + f"{vmms}{workload}{unit_delay_ns}".encode()).hexdigest()
    suffix = "" if unit_delay_ns is None else "_glitch"
    cache = workdir / f"activity_{workload}{suffix}.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("key") == key:
            return Activity(**data["activity"])
    act = simulate_activity(netlist, lib.require(), config, top=TOP,
                            build_dir=workdir / f"gl{suffix}", nvmm=vmms, workload=workload,
                            unit_delay_ns=unit_delay_ns,
                            zero_delay=clock_instances(netlist, lib) if unit_delay_ns else None)
    cache.write_text(json.dumps({"key": key, "activity": asdict(act)}))
    return act


#: Anatomy groups: the clock gates (one per group of registers, 64 for the TDC's columns) in one
#: row, every other RTL block in its own.
def anatomy_group(block: str) -> str:
    return "clock gates" if block.startswith("g_") and block.endswith("_icg") else block


def anatomy(power: PowerResult, flip_flops: dict[str, int]) -> dict[str, dict]:
    """Per block (see :func:`anatomy_group`; the buffers hold fixing added in a row of their
    own): energy per VMM (J) by kind and its flip-flops."""
    scale = power.cycles * power.period_ns * 1e-9 / power.vmms
    rows: dict[str, dict] = {}

    def row(name: str) -> dict:
        return rows.setdefault(name, {"clock": 0.0, "data": 0.0, "leakage": 0.0,
                                      "flip_flops": 0})

    for i in power.instances:
        r = row(HOLD_ROW if i.name.startswith("hold_fix_") else anatomy_group(i.block))
        r["clock"] += i.clock_W * scale
        r["data"] += i.data_W * scale
        r["leakage"] += i.leakage_W * scale
    for b, n in flip_flops.items():
        row(anatomy_group(b))["flip_flops"] += n
    for r in rows.values():
        r["total"] = r["clock"] + r["data"] + r["leakage"]
    return dict(sorted(rows.items(), key=lambda kv: -kv[1]["total"]))


#: The anatomy row of the hold-fixing buffers (mram_macro/flow/ppa/hold_fix.py).
HOLD_ROW = "hold buffers"


def _flip_flops_per_block(power: PowerResult, lib) -> dict[str, int]:
    from mram_macro.flow.ppa.liberty import read_library

    kinds = {c.name: c.kind for c in read_library(lib.require()).cells.values()}
    out: dict[str, int] = {}
    for i in power.instances:
        if kinds.get(i.cell) == "ff":
            out[i.block] = out.get(i.block, 0) + 1
    return out


def measure(lib_key: str, out: Path, *, vmms: int, config: MacroConfig | None = None,
            clock_gating: bool = True, workload: str = "random",
            extra_runs: bool = True) -> dict:
    """All PPA figures of ``config`` (default macro) on one library, as plain data
    (``clock_gating=False``: of the ungated reference design; ``workload``: the activity's
    data, see :mod:`mram_macro.sim.workloads.power`; ``extra_runs=False``: without the glitch-aware
    and the digits-layer runs of the headline library, as for the profile rows)."""
    from mram_macro.design.macro import MacroDesign
    from mram_macro.explore.features import RTL_KEY, rtl_fingerprint
    from mram_macro.flow.synth import synthesize

    config = config or MacroConfig()
    lib = library(lib_key)
    so = sign_off(config, lib, out, clock_gating=clock_gating)
    workdir = out / lib.key / config.slug
    area = synthesize(workdir / "rtl" / f"{TOP}.v", TOP, liberty=lib.require(),
                      workdir=workdir / "hier")
    act = _activity(so.netlist.netlist, lib, config, workdir, vmms, workload)
    power = analyse_energy(so.netlist.netlist, TOP, lib, act)
    glitch = network = None
    if lib.key == HEADLINE_LIBRARY and extra_runs:
        # The glitch-aware run, and (beside random VMMs) the digits network's first layer:
        # the headline library only.
        act_glitch = _activity(so.netlist.netlist, lib, config, workdir, vmms, workload,
                               unit_delay_ns=UNIT_DELAY_NS)
        glitch = analyse_energy(so.netlist.netlist, TOP, lib, act_glitch)
        if workload == "random":
            act_net = _activity(so.netlist.netlist, lib, config, workdir, vmms, "digits")
            network = analyse_energy(so.netlist.netlist, TOP, lib, act_net)
    period = lib.target_period_ns
    cycles_per_vmm = act.cycles / act.vmms
    # The design at the sign-off clock (the analogue terms are at its readout's operating
    # point: V_ref, step, window), not the testbench's.
    design = MacroDesign.derive(config, t_clk_ns=period)
    device, readout = design.device, design.readout
    bypass_toggles = sum(act.toggles.get(f"arr_bypass_{s}[{r}]", 0)
                         for s in "lr" for r in range(config.rows)) / act.vmms
    # Cycles with arr_eval high per VMM, measured in the window (the model's own operating
    # point where the netlist has no such net).
    eval_cycles = (act.duty.get("arr_eval", 0.0) * act.cycles / act.vmms
                   or random_vmm_operating_point(config, device, readout).eval_cycles)
    analog_args = dict(config=config, device=device, readout=readout, t_clk_ns=period,
                       eval_cycles=eval_cycles, vmm_cycles=cycles_per_vmm,
                       bypass_toggles_per_vmm=bypass_toggles)
    analog = analog_energy(**analog_args)
    blocks = {}
    for b in power.blocks():
        blocks[b] = {k: power.energy_per_vmm_J(k, b) for k in ("clock", "data", "leakage")}
    energy = {cat: 0.0 for cat in CATEGORIES}
    for b, e in blocks.items():
        energy[category_of(b)] += e["data"] + e["leakage"]
    energy["clock"] = power.energy_per_vmm_J("clock")
    digital = power.energy_per_vmm_J("total")
    energy = {"array": analog.per_vmm_J, **energy}
    total = analog.per_vmm_J + digital
    ops = 2 * config.rows * config.cols
    vmm_per_s = 1e9 / (cycles_per_vmm * period)
    area_mm2 = so.netlist.area_um2 * 1e-6
    return {
        "library": lib.key, "title": lib.title, "clock_gating": clock_gating,
        "workload": workload,
        "node_nm": lib.node_nm, "vdd_V": lib.vdd_V,
        "config": config.to_dict(), "period_ns": period,
        "sta": {**so.sta.to_dict(), "passed": so.passed, "failures": list(so.failures)},
        "hold_fix": hold_fix_report(workdir),
        "area_flat_um2": so.netlist.area_um2, "flip_flops": so.netlist.flip_flops,
        # the RTL's registers per block, per block and clock, and its digest (of the gated
        # design it elaborates): a test flags the published figures as stale once the RTL
        # changes
        **(rtl_fingerprint(config) if clock_gating else {RTL_KEY: None}),
        "area_blocks_um2": {name: m.area_um2 * m.instances for name, m in area.modules.items()},
        "area_hier_um2": area.total_area_um2,
        "accounting": "Liberty tables per transition (mram_macro/flow/ppa/energy.py)",
        "window": {"cycles": act.cycles, "vmms": act.vmms, "steady_state": True,
                   "warmup_vmms": WARMUP_VMMS},
        "unit_delay_ns": UNIT_DELAY_NS,
        "cycles_per_vmm": cycles_per_vmm, "latency_ns": cycles_per_vmm * period,
        "vmm_per_s": vmm_per_s, "ops_per_vmm": ops,
        "energy_blocks_J": blocks,
        "energy_J": energy,
        "analog_J": {**asdict(analog), "per_vmm_J": analog.per_vmm_J},
        "analog_terms": [asdict(t) for t in analog_terms(**analog_args)],
        # the operating point of the analogue terms, so that a change of the analogue model
        # can recompute them without the gate-level run (mram_macro/flow/ppa/analog_refresh.py)
        "analog_inputs": {k: analog_args[k] for k in
                          ("t_clk_ns", "eval_cycles", "vmm_cycles", "bypass_toggles_per_vmm")},
        "digital_J": {"clock": power.energy_per_vmm_J("clock"),
                      "data": power.energy_per_vmm_J("data"),
                      "leakage": power.energy_per_vmm_J("leakage"), "total": digital},
        "digital_glitch_J": None if glitch is None else {
            k: glitch.energy_per_vmm_J(k) for k in ("clock", "data", "leakage", "total")},
        "digital_digits_J": None if network is None else {
            k: network.energy_per_vmm_J(k) for k in ("clock", "data", "leakage", "total")},
        "anatomy": anatomy(power, _flip_flops_per_block(power, lib)),
        "total_J": total,
        "tops_per_W": ops / total / 1e12,
        "tops_per_W_digital_only": ops / digital / 1e12,
        "tops_per_mm2": ops * vmm_per_s / 1e12 / area_mm2,
    }


def scaled_to_28nm(r: dict) -> dict:
    """The 45 nm digital figures scaled to 28 nm by :data:`SCALING_RULE` (analogue terms are
    already modelled at the 28 nm chip's values and are not scaled)."""
    e_scale = S_28_45 * (V28_V / r["vdd_V"]) ** 2
    d = r["digital_J"]
    dynamic = (d["clock"] + d["data"]) * e_scale
    leak = d["leakage"]
    analog = r["analog_J"].get("per_vmm_J")
    if analog is None:
        analog = r["energy_J"]["array"]
    vmm_per_s = r["vmm_per_s"] / S_28_45
    area_mm2 = r["area_flat_um2"] * 1e-6 * S_28_45 ** 2
    ops = r["ops_per_vmm"]
    lo, hi = (analog + dynamic + leak * f for f in LEAKAGE_28_RANGE)
    total = analog + dynamic + leak
    return {"digital_J": dynamic + leak, "dynamic_J": dynamic, "leakage_J": leak,
            "leakage_range_J": [leak * f for f in LEAKAGE_28_RANGE],
            "total_J": total, "tops_per_W": ops / total / 1e12,
            "tops_per_W_range": [ops / hi / 1e12, ops / lo / 1e12],
            "tops_per_mm2": ops * vmm_per_s / 1e12 / area_mm2,
            "period_ns": r["period_ns"] * S_28_45, "area_um2": area_mm2 * 1e6}


#: Earlier measurements by this same flow, committed under docs/ppa/, that the final figures
#: are compared with, all of the counter-TDC macro that was the default until the two-step TDC
#: replaced it: the first published one (issue 7, before issue 9 grew the RTL), that RTL grown
#: but without clock gating (``python -m mram_macro.flow.ppa ppa --no-gating``), and the gated
#: counter macro as last published (``--config`` of it reproduces it).
BEFORE = {"first": "ppa_first.json", "ungated": "ppa_ungated.json",
          "counter": "ppa_counter.json", "old acct.": "ppa_opensta_accounting.json"}
#: What the earlier runs measured differently (printed under the before/after lines).
BEFORE_NOTE = ("runs before 'final' were accounted by OpenSTA 2.0.17 (internal power over-"
               "counted: rise + fall per transition, every arc summed) over a 3-VMM window with "
               "the pipeline's fill and drain; 'old acct.' is today's RTL measured that way")


def before_results(docs_dir: Path | None = None) -> dict[str, dict[str, dict]]:
    """The committed earlier measurements, per label, per library key (missing files skipped)."""
    docs_dir = docs_dir or DOCS_DIR
    out = {}
    for label, name in BEFORE.items():
        path = docs_dir / name
        if path.exists():
            out[label] = {r["library"]: r for r in json.loads(path.read_text())}
    return out


def before_after(results: list[dict], before: dict[str, dict[str, dict]]) -> list[str]:
    """Digital energy per VMM (clock/data/leakage, pJ) of the earlier runs and this one."""
    pj = 1e12
    lines = ["digital energy per VMM, before -> after (pJ: total = clock + data + leakage)"]
    for r in results:
        runs = [(label, b[r["library"]]) for label, b in before.items() if r["library"] in b]
        runs.append(("final" if r.get("clock_gating", True) else "this run", r))
        first = runs[0][1]["digital_J"]["total"]
        for label, x in runs:
            d = x["digital_J"]
            lines.append(f"  {r['title']:14s} {label:9s} {d['total'] * pj:10.1f} = "
                         f"{d['clock'] * pj:.1f} + {d['data'] * pj:.1f} + "
                         f"{d['leakage'] * pj:.1f}  ({first / d['total']:.1f}x below first; "
                         f"{x['flip_flops']} flip-flops, {x['area_flat_um2']:.0f} µm², "
                         f"{x['cycles_per_vmm']:.1f} cycles/VMM)")
    return lines


def anatomy_lines(results: list[dict]) -> list[str]:
    """Per library: energy per VMM and flip-flops of every block (the anatomy)."""
    pj = 1e12
    lines = []
    for r in results:
        if "anatomy" not in r:
            continue
        lines.append(f"anatomy, {r['title']} (pJ per VMM, zero delay: total = clock + data + "
                     "leakage; flip-flops)")
        for block, a in r["anatomy"].items():
            lines.append(f"  {block:22s} {a['total'] * pj:8.2f} = {a['clock'] * pj:6.2f} + "
                         f"{a['data'] * pj:6.2f} + {a['leakage'] * pj:6.2f}  "
                         f"{a['flip_flops']:5d} FF")
    return lines


def table(results: list[dict]) -> str:
    pj = 1e12
    cols = [r["title"] for r in results]
    w = 16
    lines = [f"{'':34s}" + "".join(f"{c:>{w}s}" for c in cols)]

    def row(label, values, fmt):
        lines.append(f"{label:34s}" + "".join(f"{fmt.format(v):>{w}s}" for v in values))

    row("target clock (ns)", [r["period_ns"] for r in results], "{:.2f}")
    row("worst slack, all groups (ns)", [r["sta"]["wns_ns"] for r in results], "{:+.3f}")
    row("flip-flop setup slack (ns)", [r["sta"]["ff_wns_ns"] for r in results], "{:+.3f}")
    row("hold slack (ns)", [r["sta"]["hold_wns_ns"] for r in results], "{:+.3f}")
    row("clock uncertainty (ns)", [r["sta"]["uncertainty_ns"] for r in results], "{:.2f}")
    row("sign-off", ["PASS" if r["sta"]["passed"] else "FAIL" for r in results], "{}")
    row("hold-fixing buffers", [(r.get("hold_fix") or {}).get("buffers", 0) for r in results],
        "{:d}")
    row("fmax (MHz)", [r["sta"]["fmax_mhz"] for r in results], "{:.0f}")
    row("area, flat netlist (µm²)", [r["area_flat_um2"] for r in results], "{:.0f}")
    row("flip-flops", [r["flip_flops"] for r in results], "{:d}")
    row("cycles per VMM (window)", [r["cycles_per_vmm"] for r in results], "{:.1f}")
    row("latency per VMM (ns)", [r["latency_ns"] for r in results], "{:.1f}")
    lines.append("energy per VMM (pJ)")
    for cat in ("array", *CATEGORIES, "clock"):
        row(f"  {cat}", [r["energy_J"][cat] * pj for r in results], "{:.2f}")
    row("  digital: clock/data/leakage", [
        f"{r['digital_J']['clock'] * pj:.0f}/{r['digital_J']['data'] * pj:.0f}/"
        f"{r['digital_J']['leakage'] * pj:.0f}" for r in results], "{}")
    row("  digital, zero delay", [r["digital_J"]["total"] * pj for r in results], "{:.1f}")
    row("  digital, unit delay (glitches)",
        [r["digital_glitch_J"]["total"] * pj if r.get("digital_glitch_J") else float("nan")
         for r in results], "{:.1f}")
    row("  digital, digits network layer",
        [r["digital_digits_J"]["total"] * pj if r.get("digital_digits_J") else float("nan")
         for r in results], "{:.1f}")
    row("  TOTAL", [r["total_J"] * pj for r in results], "{:.1f}")
    row("TOPS/W (macro)", [r["tops_per_W"] for r in results], "{:.3f}")
    row("TOPS/mm² (digital area)", [r["tops_per_mm2"] for r in results], "{:.4f}")
    for r in results:
        if r["library"] == HEADLINE_LIBRARY:
            s = scaled_to_28nm(r)
            lo, hi = s["tops_per_W_range"]
            lines.append(f"{r['title']} scaled to 28 nm (ESTIMATE): energy/VMM "
                         f"{s['total_J'] * pj:.1f} pJ (digital dynamic "
                         f"{s['dynamic_J'] * pj:.1f} pJ + leakage {s['leakage_J'] * pj:.1f} pJ, "
                         f"range {s['leakage_range_J'][0] * pj:.1f}-"
                         f"{s['leakage_range_J'][1] * pj:.1f}), {s['tops_per_W']:.1f} TOPS/W "
                         f"({lo:.1f}-{hi:.1f} over the leakage range), "
                         f"{s['tops_per_mm2']:.4f} TOPS/mm² (chip: 262 TOPS/W)")
            lines.append(f"  rule: {SCALING_RULE}")
    lines.extend(before_after(results, before_results()))
    lines.append(f"  ({BEFORE_NOTE})")
    lines.extend(anatomy_lines(results))
    writes = ", ".join(f"{r['title']} {r['analog_J']['write_row_J'] * pj:.1f} pJ"
                       for r in results)
    lines.append("array = precharge + bypass lines + comparators + TDC front end (DLL, phase "
                 "lines, samplers, leakage) (docs/ppa.md); "
                 f"per row write: {writes}")
    return "\n".join(lines)


def published_profiles(docs_dir: Path | None = None) -> list[dict]:
    """The feature profiles' rows ``make ppa`` last published (empty if there are none)."""
    path = (docs_dir or DOCS_DIR) / PROFILES_FILE
    return json.loads(path.read_text()) if path.is_file() else []


def replot(docs_dir: Path | None = None, out: Path | None = None) -> list[Path]:
    """The plots again from the published JSON (docs/ppa/ppa.json and the profiles' rows),
    without the flow: ``python -m mram_macro.flow.ppa plot``."""
    docs_dir = docs_dir or DOCS_DIR
    results = published_results(docs_dir)
    if not results:
        raise ValueError(f"{docs_dir / 'ppa.json'} is missing: run `make ppa`")
    out = out or docs_dir
    out.mkdir(parents=True, exist_ok=True)
    return plots(results, out, published_profiles(docs_dir))


#: Committed copies of the last `make ppa` (shown in the README; a test keeps them current).
DOCS_DIR = Path(__file__).resolve().parents[3] / "docs" / "ppa"
BEGIN = "<!-- ppa:begin (generated by `make ppa`; do not edit) -->"
END = "<!-- ppa:end -->"


STA_BEGIN = "<!-- sta:begin (generated by `make ppa`; do not edit) -->"
STA_END = "<!-- sta:end -->"
PPA_DOC = DOCS_DIR.parent / "ppa.md"


def timing_markdown(results: list[dict]) -> str:
    """The sign-off timing of the published results as a Markdown table (docs/ppa.md): per
    library, every path group's worst setup and hold path, and what hold fixing added."""
    lines = ["| library, clock | group | setup slack | worst setup path | hold slack | "
             "worst hold path |", "|---|---|---|---|---|---|"]
    for r in results:
        sta = r["sta"]
        for name, g in sta["groups"].items():
            s, h = g.get("setup"), g.get("hold")

            def path(p):
                return f"`{p['startpoint']}` → `{p['endpoint']}`" if p else ""

            def slack(p, borrow=False):
                if not p:
                    return ""
                extra = (f" (borrows {p['borrowed_ns']:.3f} of {p['max_borrow_ns']:.3f})"
                         if borrow and p.get("borrowed_ns") is not None
                         and p.get("max_borrow_ns") is not None else "")
                return f"{p['slack_ns']:+.3f}{extra}"

            lines.append(f"| {r['title']}, {r['period_ns']:g} ns | {name} | "
                         f"{slack(s, borrow=True)} | {path(s)} | {slack(h)} | {path(h)} |")
    lines.append("")
    for r in results:
        fix = r.get("hold_fix") or {}
        sta = r["sta"]
        lines.append(
            f"* {r['title']}: flip-flop setup slack {sta['ff_wns_ns']:+.3f} ns "
            f"({100 * sta['ff_wns_ns'] / r['period_ns']:.1f} % of the period), hold "
            f"{sta['hold_wns_ns']:+.3f} ns, uncertainty {sta['uncertainty_ns']:g} ns: "
            f"{'PASS' if sta['passed'] else 'FAIL: ' + '; '.join(sta['failures'])}. Hold fixing: "
            f"{fix.get('buffers', 0)} buffers in front of {fix.get('endpoints', 0)} endpoints "
            f"in {fix.get('rounds', 0)} rounds (worst hold before "
            + (f"{fix['hold_before_ns']:+.3f} ns" if fix.get("hold_before_ns") is not None
               else "-") + ").")
    return "\n".join(lines) + "\n"


SUMMARY_BEGIN = "<!-- ppa-summary:begin (generated by `make ppa`; do not edit) -->"
SUMMARY_END = "<!-- ppa-summary:end -->"
#: The chip's figures the summary compares with (../shared/paper-facts.md).
CHIP_TOPS_PER_W = 262.0


#: Where ``make layout --publish`` puts its results (one ``<slug>.json`` per routed build).
LAYOUT_DIR = DOCS_DIR.parent / "layout"


def routed_result(result: dict, layout_dir: Path = LAYOUT_DIR) -> dict | None:
    """The published post-route result (``docs/layout/<slug>.json``, ``make layout``) of the
    build and library of ``result`` (a row of ppa.json), if it was routed on the RTL that
    build has now (:func:`~mram_macro.explore.features.measured_on_other_rtl`); None if it
    was never routed or is stale (the README's headline then says so and stays
    pre-layout)."""
    from mram_macro.explore.features import RTL_KEY, measured_on_other_rtl

    config = MacroConfig.from_dict(result["config"])
    path = layout_dir / f"{config.slug}.json"
    if not path.is_file():
        return None
    routed = json.loads(path.read_text())
    if (routed.get("library") != result["library"] or RTL_KEY not in routed
            or MacroConfig.from_dict(routed["config"]) != config
            or measured_on_other_rtl(routed)):
        return None
    return routed


def routed_figures(result: dict, routed: dict) -> dict[str, float]:
    """The post-route macro figures of a ppa.json row: the routed digital energy per VMM plus
    the row's analogue terms (which the layout does not change), TOPS/W on the row's ops."""
    digital = routed["digital_post_J"]["total"]
    total = digital + result["analog_J"]["per_vmm_J"]
    return {"digital_J": digital, "total_J": total,
            "tops_per_W": result["ops_per_vmm"] / total / 1e12}


def summary_markdown(results: list[dict], routed: dict | None = None) -> str:
    """The headline figures of the published run, as the README's prose states them: the
    placed-and-routed figures first when ``routed`` (:func:`routed_result` of the headline
    row) is given, then ``make ppa``'s pre-layout ones."""
    pj = 1e12
    r = next(x for x in results if x["library"] == HEADLINE_LIBRARY)
    d, a = r["digital_J"], r["analog_J"]
    g = r.get("digital_glitch_J") or {}
    n = r.get("digital_digits_J") or {}
    s = scaled_to_28nm(r)
    lo, hi = s["tops_per_W_range"]
    top3 = list(r["anatomy"].items())[:3]
    anatomy = ", ".join(f"{k} {v['total'] * pj:.0f} pJ ({v['flip_flops']} flip-flops)"
                        for k, v in top3)
    need = r["ops_per_vmm"] / 100e12
    head = (f"**{r['title']}, {r['period_ns']:g} ns clock, steady state, random VMMs** "
            f"({r['window']['vmms']} VMMs after a warm-up of {r['window']['warmup_vmms']}, "
            f"{r['cycles_per_vmm']:.1f} cycles per VMM, {r['vmm_per_s'] / 1e6:.1f} M VMM/s)")
    if routed is None:
        placed = (f"{head}, not placed and routed on this RTL (`make layout`; the figures are "
                  f"before layout): ")
        bold = "**"
    else:
        f = routed_figures(r, routed)
        p, sta = routed["digital_post_J"], routed["sta_post"]
        pre = routed["digital_pre_J"]["total"]
        margin = routed["route_hold_margin"]
        placed = (
            f"{head}, **placed and routed** (`make layout`, wires from the routed layout's "
            f"SPEF): digital periphery **{f['digital_J'] * pj:.0f} pJ per VMM** with zero delay "
            f"(clock {p['clock'] * pj:.0f}, data {p['data'] * pj:.0f}, leakage "
            f"{p['leakage'] * pj:.0f}; {pre * pj:.0f} pJ on the same netlist before routing, "
            f"whose hold is repaired to a {margin['target_ns']:g} ns routing margin with "
            f"{margin['buffers']:,} more buffers than `make ppa`'s); macro "
            f"**{f['total_J'] * pj:.0f} pJ per VMM = {f['tops_per_W']:.1f} TOPS/W at 45 nm**; "
            f"setup slack {sta['wns_ns']:+.3f} ns (flip-flops {sta['ff_wns_ns']:+.3f} ns), "
            f"hold {sta['hold_wns_ns']:+.3f} ns with the routed wires. Before layout (`make "
            f"ppa`): ")
        bold = ""
    return (
        f"{placed}digital periphery {bold}{d['total'] * pj:.0f} pJ per VMM{bold} with zero "
        f"delay (clock {d['clock'] * pj:.0f}, data {d['data'] * pj:.0f}, leakage "
        f"{d['leakage'] * pj:.0f}), {bold}{g.get('total', float('nan')) * pj:.0f} pJ{bold} "
        f"with glitches (unit delay), "
        f"{n.get('total', float('nan')) * pj:.0f} pJ on the digits network's first layer; "
        f"analogue array and TDC front end {a['per_vmm_J'] * pj:.0f} pJ (comparators "
        f"{a['comparator_J'] * pj:.0f}); macro {bold}{r['total_J'] * pj:.0f} pJ per VMM = "
        f"{r['tops_per_W']:.1f} TOPS/W at 45 nm{bold}, {s['tops_per_W']:.1f} TOPS/W scaled to "
        f"28 nm (an estimate from the pre-layout figure; {lo:.1f}-{hi:.1f} over the leakage "
        f"range), against the chip's "
        f"{CHIP_TOPS_PER_W:g}. {r['tops_per_mm2']:.2f} TOPS/mm² on "
        f"{r['area_flat_um2']:.0f} µm² of flat netlist ({r['flip_flops']} flip-flops, "
        f"{(r.get('hold_fix') or {}).get('buffers', 0)} hold buffers). Timing: flip-flop "
        f"setup slack {r['sta']['ff_wns_ns']:+.3f} ns "
        f"({100 * r['sta']['ff_wns_ns'] / r['period_ns']:.0f} %), hold "
        f"{r['sta']['hold_wns_ns']:+.3f} ns, with {r['sta']['uncertainty_ns']:g} ns clock "
        f"uncertainty. Largest blocks: {anatomy}. 100 TOPS/W would need the whole macro at "
        f"{need * pj:.0f} pJ per VMM.\n")


def readme_summary(results: list[dict], layout_dir: Path = LAYOUT_DIR) -> str:
    """:func:`summary_markdown` with the headline row's routed result if it is current: what
    the README holds between :data:`SUMMARY_BEGIN` and :data:`SUMMARY_END` (``make ppa`` and
    ``make layout`` both render it)."""
    r = next(x for x in results if x["library"] == HEADLINE_LIBRARY)
    return summary_markdown(results, routed_result(r, layout_dir))


def render_summary(readme: Path, results: list[dict] | None = None,
                   layout_dir: Path = LAYOUT_DIR) -> None:
    """Re-render the README's summary block from the published ppa.json and layouts."""
    results = published_results() if results is None else results
    text = readme.read_text()
    if results and SUMMARY_BEGIN in text:
        readme.write_text(render_block(text, SUMMARY_BEGIN, SUMMARY_END,
                                       readme_summary(results, layout_dir)))


PROFILES_FILE = "ppa_profiles.json"
PROFILES_BEGIN = "<!-- profiles:begin (generated by `make ppa`; do not edit) -->"
PROFILES_END = "<!-- profiles:end -->"


def measure_profiles(out: Path, *, vmms: int, default: dict) -> list[dict]:
    """One row per feature profile (:data:`mram_macro.design.config.PROFILES`) on the headline
    library: ``default`` (the default macro's result there) for the default profile, a
    measurement without the glitch and digits runs for the others."""
    rows = []
    for name, (_, what) in PROFILES.items():
        config = profile_config(name)
        r = default if config == MacroConfig() else measure(
            HEADLINE_LIBRARY, out, vmms=vmms, config=config, extra_runs=False)
        rows.append({"profile": name, "description": what, **r})
    return rows


def profiles_markdown(rows: list[dict]) -> str:
    """The feature profiles side by side (docs/ppa.md), from their measured rows."""
    pj = 1e12
    lines = ["| profile | build | digital pJ/VMM (clock / data / leakage) | flip-flops | "
             "area µm² | hold buffers | FF setup slack | sign-off | macro pJ/VMM | TOPS/W |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = r["digital_J"]
        lines.append(
            f"| {r['profile']} | `{MacroConfig.from_dict(r['config']).slug}` | "
            f"{d['total'] * pj:.1f} ({d['clock'] * pj:.1f} / {d['data'] * pj:.1f} / "
            f"{d['leakage'] * pj:.1f}) | {r['flip_flops']:,} | {r['area_flat_um2']:,.0f} | "
            f"{(r.get('hold_fix') or {}).get('buffers', 0):,} | "
            f"{r['sta']['ff_wns_ns']:+.3f} ns | {'PASS' if r['sta']['passed'] else 'FAIL'} | "
            f"{r['total_J'] * pj:.0f} | "
            f"{r['tops_per_W']:.1f} |")
    first = rows[0]
    lines += ["", f"{first['title']}, {first['period_ns']:g} ns, steady state, random VMMs, "
              "zero delay. " + " ".join(f"**{r['profile']}**: {r['description']}."
                                        for r in rows)]
    return "\n".join(lines) + "\n"


def render_block(text: str, begin: str, end: str, block: str) -> str:
    """``text`` with what stands between the markers ``begin`` and ``end`` replaced."""
    if begin not in text or end not in text:
        raise ValueError(f"the document has no {begin!r} ... {end!r} block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{block}{end}{tail}"


def headline(results: list[dict]) -> str:
    r = results[0]
    what = "random VMMs" if r.get("workload", "random") == "random" else \
        f"{r['workload']} network VMMs"
    return (f"PPA of mram_macro {MacroConfig.from_dict(r['config']).slug}, {what} "
            f"(gate-level activity over {r['window']['vmms']} VMMs, "
            f"{r['window']['cycles']:.0f} cycles)")


def readme_block(results: list[dict]) -> str:
    return f"```\n{headline(results)}\n{table(results)}\n```\n"


def render_readme(text: str, results: list[dict]) -> str:
    return render_block(text, BEGIN, END, readme_block(results))


def published_results(docs_dir: Path = DOCS_DIR) -> list[dict]:
    """The results ``make ppa`` last published (docs/ppa/ppa.json); empty if there are none
    (e.g. an installed package without the repository's docs)."""
    path = docs_dir / "ppa.json"
    return json.loads(path.read_text()) if path.is_file() else []


def inference_cost(result: dict, *, vmms: float, row_writes: float) -> tuple[float, float]:
    """(energy J, latency ns) of ``vmms`` streamed passes and ``row_writes`` weight-row writes
    on one macro, from a published PPA result: energy per VMM of its random-VMM workload
    (array + digital) and the analogue write energy per row; latency at the STA-confirmed
    clock, ``cycles_per_vmm`` per pass (row writes' time not included)."""
    energy = vmms * result["total_J"] + row_writes * result["analog_J"]["write_row_J"]
    return energy, vmms * result["latency_ns"]


def publish(results: list[dict], *, docs_dir: Path = DOCS_DIR,
            readme: Path | None = None, profiles: list[dict] | None = None) -> None:
    """Commit-ready copies: docs/ppa/ppa.json (and the profiles' rows), the plots, the
    README's PPA table and summary, docs/ppa.md's timing and profile tables."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / "ppa.json").write_text(json.dumps(results, indent=1) + "\n")
    if profiles is not None:
        (docs_dir / PROFILES_FILE).write_text(json.dumps(profiles, indent=1) + "\n")
    plots(results, docs_dir, profiles)
    readme = readme or docs_dir.parents[1] / "README.md"
    readme.write_text(render_readme(readme.read_text(), results))
    render_summary(readme, results)
    doc = docs_dir.parent / "ppa.md"
    if doc.is_file():
        text = render_block(doc.read_text(), STA_BEGIN, STA_END, timing_markdown(results))
        if profiles is not None:
            text = render_block(text, PROFILES_BEGIN, PROFILES_END, profiles_markdown(profiles))
        doc.write_text(text)


def main(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gating = not getattr(args, "no_gating", False)
    workload = getattr(args, "workload", "random")
    if args.publish and not gating:
        raise SystemExit("--publish publishes the gated design; measure --no-gating without it")
    if args.publish and workload != "random":
        raise SystemExit("--publish publishes the random-VMM workload (the README's before and "
                         f"after); measure --workload {workload} without it")
    config = None
    if getattr(args, "config", None):
        from mram_macro.design.config import ConfigError

        try:
            config = MacroConfig.from_json(args.config)
        except ConfigError as exc:
            raise SystemExit(f"--config: {exc}") from None
        if args.publish and config != MacroConfig():
            raise SystemExit("--publish publishes the default macro; measure --config "
                             f"{config.slug} without it")
    want_profiles = not getattr(args, "no_profiles", False)
    if args.publish and (not want_profiles or HEADLINE_LIBRARY not in args.libraries):
        raise SystemExit(f"--publish publishes the feature profiles too: drop --no-profiles and "
                         f"keep {HEADLINE_LIBRARY} in --libraries")
    results = [measure(key, out, vmms=args.vmms, config=config, clock_gating=gating,
                       workload=workload)
               for key in args.libraries]
    (out / "ppa.json").write_text(json.dumps(results, indent=1))
    print(headline(results))
    print(table(results))
    profiles = None
    default_here = [r for r in results if r["library"] == HEADLINE_LIBRARY]
    if (want_profiles and config in (None, MacroConfig()) and gating and workload == "random"
            and default_here):
        profiles = measure_profiles(out, vmms=args.vmms, default=default_here[0])
        (out / PROFILES_FILE).write_text(json.dumps(profiles, indent=1))
        print("feature profiles (mram_macro/design/config.py PROFILES):")
        print(profiles_markdown(profiles))
    for p in plots(results, out, profiles):
        print(f"plot: {p}")
    if getattr(args, "publish", False):
        publish(results, profiles=profiles)
        print(f"published into {DOCS_DIR} and README.md")
    return 0


#: The committed digital energy of a small configuration (``python -m mram_macro.flow.ppa
#: baseline`` writes it): ``make test`` re-measures it and fails if it rises by more than
#: :data:`BASELINE_TOLERANCE` (verif/unit/test_energy_baseline.py).
BASELINE = DOCS_DIR / "energy_small.json"
BASELINE_TOLERANCE = 0.10
BASELINE_VMMS = 10


def baseline_config() -> MacroConfig:
    return STA_CONFIGS["small"]


def energy_run(config: MacroConfig, lib_key: str, out: Path, *,
               vmms: int = BASELINE_VMMS, unit_delay_ns: float | None = None
               ) -> tuple[PowerResult, Path]:
    """The per-instance power of ``config`` on one library (steady state, zero delay, random
    VMMs; with ``unit_delay_ns``, e.g. :data:`UNIT_DELAY_NS`, that delay per cell: glitches
    counted) and its flat netlist: flat synthesis, gate-level activity, the Liberty-table
    calculator, cached under ``out``. No STA: this is the energy alone."""
    from mram_macro.flow.ppa.flow import flat_netlist
    from mram_macro.sim.runner import generate

    lib = library(lib_key)
    workdir = out / lib.key / config.slug
    verilog = generate(config, workdir / "rtl")
    net = flat_netlist(verilog, lib, workdir).netlist
    act = _activity(net, lib, config, workdir, vmms, unit_delay_ns=unit_delay_ns)
    return analyse_energy(net, TOP, lib, act), net


def digital_energy(config: MacroConfig, lib_key: str, out: Path, *,
                   vmms: int = BASELINE_VMMS, run: tuple[PowerResult, Path] | None = None
                   ) -> dict:
    """Digital energy per VMM (J: clock, data, leakage, total) of ``config`` on one library,
    from :func:`energy_run` (or the ``run`` it returned)."""
    power, _ = run or energy_run(config, lib_key, out, vmms=vmms)
    return {"library": library(lib_key).key, "config": config.to_dict(), "vmms": vmms,
            "cycles_per_vmm": power.cycles / power.vmms,
            "digital_J": {k: power.energy_per_vmm_J(k)
                          for k in ("clock", "data", "leakage", "total")}}


def write_baseline(out: Path) -> dict:
    result = digital_energy(baseline_config(), HEADLINE_LIBRARY, out)
    BASELINE.write_text(json.dumps(result, indent=1) + "\n")
    return result
