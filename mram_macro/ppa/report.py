"""``make ppa``: the PPA table of the default macro, per library, NeuroSim style.

For each Liberty file: flat sign-off netlist and STA at the target clock (fmax), hierarchical
synthesis for the area per block, a gate-level simulation of random VMMs for the switching
activity, OpenSTA power with that activity (clock / data / leakage per block), the analogue
terms of :mod:`mram_macro.ppa.analog`, then energy per VMM, TOPS/W and TOPS/mm², and the 45 nm
figures scaled to 28 nm (see :data:`SCALING_RULE`). Results go to ``build/ppa/ppa.json`` and
plots to ``build/ppa/*.png``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from ..config import MacroConfig
from .activity import Activity, simulate_activity
from .analog import analog_energy
from .flow import TOP, sign_off
from .libraries import HEADLINE_LIBRARY, library
from .power import analyse_power

__all__ = ["CATEGORIES", "SCALING_RULE", "category_of", "measure", "main"]

#: NeuroSim-style energy categories, and the RTL blocks in each.
CATEGORIES = {
    "TDC": ("tdc",),
    "accumulator": ("accumulator",),
    "registers": ("regfile",),
    "serialisers": ("input_deserializer", "result_serializer"),
    "control": ("sequencer", "read_control", "write_controller", "input_driver", "top"),
}

#: How the 45 nm digital figures become 28 nm estimates.
SCALING_RULE = (
    "Dennard (constant-field) scaling, Dennard et al., IEEE JSSC 9(5), 1974, with each node's "
    "own supply: switched capacitance x s, area x s², delay x s (s = 28/45), energy x s·(V28/V45)² "
    "with V45 = 1.1 V (NanGate typ.) and V28 = 0.9 V (the readout design's supply); leakage "
    "scaled like dynamic energy. An ESTIMATE: real 28 nm nodes scale capacitance and leakage "
    "less well than this rule.")
S_28_45 = 28.0 / 45.0
V28_V = 0.9


def category_of(block: str) -> str:
    for cat, blocks in CATEGORIES.items():
        if block in blocks:
            return cat
    return "control"


def _activity(netlist: Path, lib, config: MacroConfig, workdir: Path, vmms: int,
              workload: str = "random") -> Activity:
    """Gate-level activity of ``netlist``, cached by the netlist's hash, the VMM count and the
    workload."""
    key = hashlib.sha256(netlist.read_bytes() + f"{vmms}{workload}".encode()).hexdigest()
    cache = workdir / f"activity_{workload}.json"
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("key") == key:
            return Activity(**data["activity"])
    act = simulate_activity(netlist, lib.require(), config, top=TOP, build_dir=workdir / "gl",
                            nvmm=vmms, workload=workload)
    cache.write_text(json.dumps({"key": key, "activity": asdict(act)}))
    return act


def measure(lib_key: str, out: Path, *, vmms: int, config: MacroConfig | None = None,
            clock_gating: bool = True, workload: str = "random") -> dict:
    """All PPA figures of ``config`` (default macro) on one library, as plain data
    (``clock_gating=False``: of the ungated reference design; ``workload``: the activity's
    data, see :mod:`verif.cocotb.test_power`)."""
    from sim_models.device import DeviceParams

    from ..synth import synthesize
    from ..top import default_readout

    config = config or MacroConfig()
    lib = library(lib_key)
    so = sign_off(config, lib, out, clock_gating=clock_gating)
    workdir = out / lib.key / config.slug
    area = synthesize(workdir / "rtl" / f"{TOP}.v", TOP, liberty=lib.require(),
                      workdir=workdir / "hier")
    act = _activity(so.netlist.netlist, lib, config, workdir, vmms, workload)
    power = analyse_power(so.netlist.netlist, TOP, lib, act, workdir=workdir / "power")
    period = lib.target_period_ns
    cycles_per_vmm = act.cycles / act.vmms
    device = DeviceParams()
    readout = default_readout(config, device)
    bypass_toggles = sum(act.toggles.get(f"arr_bypass_{s}[{r}]", 0)
                         for s in "lr" for r in range(config.rows)) / act.vmms
    # Comparators are on from precharge to the end of the TDC window, at most the whole VMM.
    analog = analog_energy(rows=config.rows, cols=config.cols, device=device, readout=readout,
                           eval_cycles=cycles_per_vmm, t_clk_ns=period,
                           bypass_toggles_per_vmm=bypass_toggles,
                           write_pulse_ns=config.write_pulse_cycles * period)
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
        "sta": {"wns_ns": so.sta.wns_ns, "tns_ns": so.sta.tns_ns, "fmax_mhz": so.sta.fmax_mhz,
                "startpoint": so.sta.startpoint, "endpoint": so.sta.endpoint,
                "blocks": list(so.sta.blocks), "passed": so.passed},
        "area_flat_um2": so.netlist.area_um2, "flip_flops": so.netlist.flip_flops,
        "area_blocks_um2": {name: m.area_um2 * m.instances for name, m in area.modules.items()},
        "area_hier_um2": area.total_area_um2,
        "window": {"cycles": act.cycles, "vmms": act.vmms},
        "cycles_per_vmm": cycles_per_vmm, "latency_ns": cycles_per_vmm * period,
        "vmm_per_s": vmm_per_s, "ops_per_vmm": ops,
        "energy_blocks_J": blocks,
        "energy_J": energy,
        "analog_J": asdict(analog),
        "digital_J": {"clock": power.energy_per_vmm_J("clock"),
                      "data": power.energy_per_vmm_J("data"),
                      "leakage": power.energy_per_vmm_J("leakage"), "total": digital},
        "total_J": total,
        "tops_per_W": ops / total / 1e12,
        "tops_per_W_digital_only": ops / digital / 1e12,
        "tops_per_mm2": ops * vmm_per_s / 1e12 / area_mm2,
    }


def scaled_to_28nm(r: dict) -> dict:
    """The 45 nm digital figures scaled to 28 nm by :data:`SCALING_RULE` (analogue terms are
    already modelled at the 28 nm chip's values and are not scaled)."""
    e_scale = S_28_45 * (V28_V / r["vdd_V"]) ** 2
    digital = r["digital_J"]["total"] * e_scale
    total = r["analog_J"]["precharge_J"] + r["analog_J"]["bypass_J"] \
        + r["analog_J"]["comparator_J"] + digital
    vmm_per_s = r["vmm_per_s"] / S_28_45
    area_mm2 = r["area_flat_um2"] * 1e-6 * S_28_45 ** 2
    ops = r["ops_per_vmm"]
    return {"digital_J": digital, "total_J": total, "tops_per_W": ops / total / 1e12,
            "tops_per_mm2": ops * vmm_per_s / 1e12 / area_mm2,
            "period_ns": r["period_ns"] * S_28_45, "area_um2": area_mm2 * 1e6}


#: Earlier measurements by this same flow, committed under docs/ppa/, that the final figures
#: are compared with, all of the counter-TDC macro that was the default until the two-step TDC
#: replaced it: the first published one (issue 7, before issue 9 grew the RTL), that RTL grown
#: but without clock gating (``python -m mram_macro.ppa ppa --no-gating``), and the gated
#: counter macro as last published (``--config`` of it reproduces it).
BEFORE = {"first": "ppa_first.json", "ungated": "ppa_ungated.json",
          "counter": "ppa_counter.json"}


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


def table(results: list[dict]) -> str:
    pj = 1e12
    cols = [r["title"] for r in results]
    w = 16
    lines = [f"{'':34s}" + "".join(f"{c:>{w}s}" for c in cols)]

    def row(label, values, fmt):
        lines.append(f"{label:34s}" + "".join(f"{fmt.format(v):>{w}s}" for v in values))

    row("target clock (ns)", [r["period_ns"] for r in results], "{:.2f}")
    row("worst slack (ns)", [r["sta"]["wns_ns"] for r in results], "{:+.3f}")
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
    row("  TOTAL", [r["total_J"] * pj for r in results], "{:.1f}")
    row("TOPS/W (macro)", [r["tops_per_W"] for r in results], "{:.3f}")
    row("TOPS/mm² (digital area)", [r["tops_per_mm2"] for r in results], "{:.4f}")
    for r in results:
        if r["library"] == HEADLINE_LIBRARY:
            s = scaled_to_28nm(r)
            lines.append(f"{r['title']} scaled to 28 nm (ESTIMATE): energy/VMM "
                         f"{s['total_J'] * pj:.1f} pJ (digital {s['digital_J'] * pj:.1f} pJ), "
                         f"{s['tops_per_W']:.3f} TOPS/W, {s['tops_per_mm2']:.4f} TOPS/mm² "
                         f"(chip: 262 TOPS/W)")
            lines.append(f"  rule: {SCALING_RULE}")
    lines.extend(before_after(results, before_results()))
    writes = ", ".join(f"{r['title']} {r['analog_J']['write_row_J'] * pj:.1f} pJ"
                       for r in results)
    lines.append("array = column precharge + bypass lines + comparators (docs/ppa.md); "
                 f"per row write: {writes}")
    return "\n".join(lines)


def plots(results: list[dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def energy(r):
        items = sorted(r["energy_J"].items(), key=lambda kv: -kv[1])
        return [(k, v * 1e12) for k, v in items], f"{r['title']}: {r['total_J'] * 1e12:.0f} pJ/VMM"

    def area(r):
        items = sorted(((k, v) for k, v in r["area_blocks_um2"].items() if k != TOP),
                       key=lambda kv: -kv[1])
        items.append(("top (glue)", r["area_blocks_um2"].get(TOP, 0.0)))
        return items, f"{r['title']}: {r['area_hier_um2']:.0f} µm²"

    panels = (("ppa_energy.png", energy, "energy per 64x64 VMM (pJ, log scale)", "tab:blue"),
              ("ppa_area.png", area, "area (µm², hierarchical synthesis, log scale)",
               "tab:green"))
    paths = []
    for name, bars, xlabel, color in panels:
        fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4))
        for ax, r in zip(list(getattr(axes, "flat", [axes])), results, strict=True):
            items, title = bars(r)
            ax.barh([k for k, _ in items], [v for _, v in items], color=color)
            ax.set_xscale("log")
            ax.set_xlabel(xlabel)
            ax.set_title(title)
            ax.invert_yaxis()
        fig.tight_layout()
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=80, metadata={"Software": None})
        plt.close(fig)
    return paths


#: Committed copies of the last `make ppa` (shown in the README; a test keeps them current).
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "ppa"
BEGIN = "<!-- ppa:begin (generated by `make ppa`; do not edit) -->"
END = "<!-- ppa:end -->"


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
    if BEGIN not in text or END not in text:
        raise ValueError(f"the document has no {BEGIN!r} ... {END!r} block")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{readme_block(results)}{END}{tail}"


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
            readme: Path | None = None) -> None:
    """Commit-ready copies: docs/ppa/ppa.json, the plots, and the README's PPA table."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    (docs_dir / "ppa.json").write_text(json.dumps(results, indent=1) + "\n")
    plots(results, docs_dir)
    readme = readme or docs_dir.parents[1] / "README.md"
    readme.write_text(render_readme(readme.read_text(), results))


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
        from ..config import ConfigError

        try:
            config = MacroConfig.from_json(args.config)
        except ConfigError as exc:
            raise SystemExit(f"--config: {exc}") from None
        if args.publish and config != MacroConfig():
            raise SystemExit("--publish publishes the default macro; measure --config "
                             f"{config.slug} without it")
    results = [measure(key, out, vmms=args.vmms, config=config, clock_gating=gating,
                       workload=workload)
               for key in args.libraries]
    (out / "ppa.json").write_text(json.dumps(results, indent=1))
    print(headline(results))
    print(table(results))
    for p in plots(results, out):
        print(f"plot: {p}")
    if getattr(args, "publish", False):
        publish(results)
        print(f"published into {DOCS_DIR} and README.md")
    return 0
