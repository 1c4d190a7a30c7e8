"""docs/explore.md's generated blocks: the device presets' table (always) and, from a finished
sweep, its summary, fronts and target pick (``python -m mram_macro.explore docs --sweep DIR``,
which also copies the sweep's plots and table into docs/explore/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mram_macro.explore.pareto import COSTS, fronts, generate_command, parse_target, select
from mram_macro.flow.ppa.report import render_block
from sim_models.devices import sources_markdown

__all__ = ["DOC", "PRESETS_BEGIN", "PRESETS_END", "RESULTS_BEGIN", "RESULTS_END", "render",
           "results_markdown", "publish"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "explore.md"
PRESETS_BEGIN = "<!-- presets:begin (generated from sim_models/devices.py; do not edit) -->"
PRESETS_END = "<!-- presets:end -->"
RESULTS_BEGIN = "<!-- results:begin -->"
RESULTS_END = "<!-- results:end -->"
#: What of a sweep is copied next to the document.
_COPIED = ("explore.csv", "explore_energy_accuracy.png", "explore_throughput_area.png",
           "target.json")


def _front_lines(rows: list[dict]) -> list[str]:
    lines = ["| device | point | accuracy % | energy pJ/VMM | M VMM/s | digital area µm² |",
             "|---|---|---|---|---|---|"]
    for device, fr in fronts(rows).items():
        for r in fr["energy_accuracy"]:
            lines.append(f"| {device} | {r['label']} ({r['profile']}) | "
                         f"{100 * r['accuracy']:.2f} | {r['energy_J'] * 1e12:.0f} | "
                         f"{r['vmm_per_s'] / 1e6:.1f} | {r['area_um2']:.0f} |")
    return lines


def _figures(r: dict) -> str:
    return (f"{100 * r['accuracy']:.2f} %, {r['energy_J'] * 1e12:.0f} pJ per VMM, "
            f"{r['vmm_per_s'] / 1e6:.1f} M VMM/s, {r['area_um2']:.0f} µm² digital")


def results_markdown(sweep: dict, target: dict | None = None,
                     verify: dict | None = None) -> str:
    """The summary of a sweep's ``explore.json`` (and its ``target.json`` and ``verify.json``)
    as Markdown."""
    rows = sweep["points"]
    net = sweep["network"]
    lines = [f"Sweep of {len(rows)} points ({len(sweep['skipped'])} combinations not legal "
             f"configurations) in {sweep['elapsed_s']:.0f} s on {sweep['workers']} Dask "
             f"worker(s) ({sweep['tasks']['features']} feature tasks, "
             f"{sweep['tasks']['accuracy']} accuracy tasks of {net['dies_per_point']} dies x "
             f"{net['test_images']} digits). Network in software: "
             f"{100 * net['software_accuracy']:.2f} %.", ""]
    lines += ["| device | points | can be read out | refused (no legal readout or too coarse) |",
              "|---|---|---|---|"]
    for device in dict.fromkeys(r["device"] for r in rows):
        mine = [r for r in rows if r["device"] == device]
        ok = sum(r["feasible"] for r in mine)
        lines.append(f"| {device} | {len(mine)} | {ok} | {len(mine) - ok} |")
    lines += ["", "Energy-accuracy fronts (explore/explore_energy_accuracy.png; throughput-area "
              "in explore/explore_throughput_area.png, every point in explore/explore.csv):", ""]
    lines += _front_lines(rows)
    if target:
        cost = target.get("cost", "area")
        r = target["point"]
        lines += ["", f"`--target {target['target']}` (cost: {cost}) picks **{r['label']}** "
                      f"({r['profile']} profile): {_figures(r)}; its RTL:", "", "```",
                  generate_command(r), "```"]
        if verify and verify["label"] == r["label"]:
            lines += ["", f"`python -m mram_macro.explore verify --sweep DIR`: {verify['line']}."]
        for other in COSTS:
            if other != cost:
                o = select(rows, parse_target(target["target"]), cost=other)
                if o is not None:
                    lines += ["", f"With `--cost {other}` the same target picks **{o['label']}** "
                                  f"({o['profile']} profile): {_figures(o)}."]
    return "\n".join(lines) + "\n"


def render(text: str, sweep: dict | None = None, target: dict | None = None,
           verify: dict | None = None) -> str:
    """``text`` (docs/explore.md) with the presets block, and the results block if ``sweep``."""
    text = render_block(text, PRESETS_BEGIN, PRESETS_END, sources_markdown())
    if sweep is not None:
        text = render_block(text, RESULTS_BEGIN, RESULTS_END,
                            results_markdown(sweep, target, verify))
    return text


def publish(sweep_dir: Path | None = None, doc: Path = DOC) -> Path:
    """Rewrite ``doc``'s blocks; with ``sweep_dir`` (``mram-macro explore --out``) also its
    results, and copy the sweep's table and plots into ``doc``'s folder/explore/."""
    sweep = target = verify = None
    if sweep_dir is not None:
        sweep = json.loads((sweep_dir / "explore.json").read_text())
        if (sweep_dir / "target.json").exists():
            target = json.loads((sweep_dir / "target.json").read_text())
        if (sweep_dir / "verify.json").exists():
            verify = json.loads((sweep_dir / "verify.json").read_text())
        dest = doc.parent / "explore"
        dest.mkdir(exist_ok=True)
        for name in _COPIED:
            if (sweep_dir / name).exists():
                shutil.copy2(sweep_dir / name, dest / name)
    doc.write_text(render(doc.read_text(), sweep, target, verify))
    return doc
