"""``python -m mram_macro.flow.layout``: place and route one configuration at 45 nm (``make
layout``), sign it off with the routed wires, write its abstract and die plot.

Prints the runtimes, area and utilisation, post-route setup and hold slack per path group,
pre-layout vs post-route digital energy per VMM and the wires' share per net class. Exits 1 if
routing left nets unrouted or the post-route timing fails sign-off. ``--publish`` copies the
result JSON to ``docs/layout/<slug>.json`` and the die plot to ``docs/layout/<slug>.png``, and
re-renders docs/layout.md and the README's headline (post-route when the default is routed on
the current RTL).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from mram_macro.cli_args import positive_int
from mram_macro.design.config import MacroConfig
from mram_macro.flow.layout.flow import NET_CLASSES, ROUTE_HOLD_MARGIN_NS, run_layout
from mram_macro.flow.layout.tech import PHYSICAL
from mram_macro.flow.ppa.libraries import library
from mram_macro.flow.ppa.report import DEFAULT_VMMS

DOCS_DIR = Path(__file__).resolve().parents[3] / "docs" / "layout"


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0.2 <= v <= 0.95:
        raise argparse.ArgumentTypeError(f"must be between 0.2 and 0.95, not {v}")
    return v


def configuration(name: str, rows: int | None, cols: int | None) -> MacroConfig:
    """``name`` from ``make sta``'s configurations or a feature profile of ``make ppa``
    (``plain``, ...), with ``rows``/``cols`` overriding."""
    from mram_macro.design.config import PROFILES, profile_config
    from mram_macro.flow.ppa.flow import STA_CONFIGS

    if name in STA_CONFIGS:
        cfg = STA_CONFIGS[name]
    elif name in PROFILES:
        cfg = profile_config(name)
    else:
        raise ValueError(f"unknown configuration {name!r}; known: {', '.join(STA_CONFIGS)}, "
                         f"and the profiles {', '.join(PROFILES)}")
    if rows is None and cols is None:
        return cfg
    data = cfg.to_dict()
    data.update({k: v for k, v in (("rows", rows), ("cols", cols)) if v is not None})
    return MacroConfig.from_dict(data)


def _slack(path: dict | None) -> str:
    return "-" if path is None else f"{path['slack_ns']:+.3f}"


def summary(r: dict) -> str:
    a = r["area"]
    lines = [f"{r['title']} {r['slug']}: {r['cells']} cells, {r['nets_routed']} nets routed, "
             f"{r['failed_nets']} unrouted",
             "runtimes: " + ", ".join(f"{k} {v:.0f} s" for k, v in r["runtimes_s"].items()),
             f"periphery die {a['die_um'][0]:.1f} x {a['die_um'][1]:.1f} µm = "
             f"{a['die_area_um2']:.0f} µm², cell area {a['cell_area_um2']:.0f} µm² "
             f"(utilisation {100 * a['utilisation']:.1f} %); array box "
             f"{a['array_um'][2] - a['array_um'][0]:.1f} x "
             f"{a['array_um'][3] - a['array_um'][1]:.1f} µm; "
             f"macro outline {a['outline_area_mm2']:.4f} mm²",
             f"wire length {r['wire_length_um']['total'] / 1e3:.1f} mm, "
             f"SPEF wire capacitance {r['spef_wire_cap_F'] * 1e12:.2f} pF on {r['spef_nets']} "
             "nets"]
    for key, label in (("sta_pre", "pre-layout"), ("sta_post", "post-route")):
        s = r[key]
        groups = ", ".join(f"{name} {_slack(g['setup'])}/{_slack(g['hold'])}"
                           for name, g in s["groups"].items())
        lines.append(f"STA {label} at {r['period_ns']:g} ns: WNS {s['wns_ns']:+.3f} ns, hold "
                     f"{s['hold_wns_ns']:+.3f} ns (setup/hold per group: {groups})")
    pre, post = r["digital_pre_J"], r["digital_post_J"]
    lines.append("digital energy per VMM, pre-layout -> post-route: " + ", ".join(
        f"{k} {pre[k] * 1e12:.2f} -> {post[k] * 1e12:.2f} pJ" for k in pre))
    lines.append(f"digital-only TOPS/W {r['tops_per_W_digital_pre']:.1f} -> "
                 f"{r['tops_per_W_digital_post']:.1f}")
    for c in NET_CLASSES:
        w = r["wire_energy"][c]
        lines.append(f"  wires {c}: {w['nets']} nets, {w['wire_cap_F'] * 1e15:.0f} fF, "
                     f"{w['energy_per_vmm_J'] * 1e12:.2f} pJ/VMM routed "
                     f"({w['wire_load_model_energy_per_vmm_J'] * 1e12:.2f} by the wire-load "
                     f"model), {100 * w['share_of_digital']:.1f} % of the digital energy")
    lines.append("sign-off: " + ("PASS" if r["sta_post_passed"] else
                                 "FAIL: " + "; ".join(r["sta_post_failures"])))
    return "\n".join(lines)



#: What a tool of the chain could not do, as seen, and what the flow does instead (rendered into
#: docs/layout.md).
TOOL_NOTES = (
    ("routing", "qrouter -s route.cfg",
     "application-specific initialization failed: no display name and no $DISPLAY "
     "environment variable", "`qrouter -nog -noc -s route.cfg`"),
    ("placement", "graywolf -n mram_macro (the FreePDK45 .par as shipped)",
     "none: its global router (two-layer feed-throughs) took most of the run",
     "`TWSC*do.global.route : off`; qrouter routes on six layers"),
    ("DEF out", "place2def.tcl mram_macro FILLCELL_X1 units=100",
     "Error: can't open file mram_macro.pin (the global router writes it)",
     "the NETS section written from the netlist"),
    ("DEF out", "place2def.tcl", "none, but TRACKS Y -56.00000000000001 ...: not an integer",
     "rounded"),
    ("routed DEF", "qrouter::standard_route",
     "emit_routes():  Net ð cannot be found. (a net written on one line)",
     "the name on its own line, the pins and `;` on the next"),
    ("extraction", "spef_extractor -d DEF -l LEF -o SPEF",
     "ValueError: invalid literal for int() with base 10: '-56.00000000000001'",
     "the rounded TRACKS"),
    ("extraction", "spef_extractor",
     "IndexError: list index out of range (extractViasFromDef)",
     "each VIAS entry joined on one line"),
    ("extraction", "spef_extractor", "reads one LEF", "technology and cell LEF merged"),
    ("extraction", "spef_extractor",
     "TypeError: unsupported operand type(s) for /: 'float' and 'NoneType' (layer width "
     "taken from a SPACINGTABLE row)", "SPACINGTABLE removed from the merged LEF"),
    ("extraction", "spef_extractor",
     "none, but every length is divided by 1000 whatever the DEF's UNITS (ours: 100)",
     "the DEF handed to it rescaled to 1000 units per µm"),
    ("placement", "place2def.tcl without qrouter's .info beside it",
     "none, but a die of 400 x 480 µm in wrong units; qrouter then: Node ... has no tap "
     "points---unable to route! on 1,218 nets", "`qrouter -i` first; the die is checked "
     "against the cell area"),
    ("timing model", "OpenSTA write_timing_model", "not a command of OpenSTA 2.0.17",
     "`mram_macro/flow/layout/abstract.py` writes the Liberty model from OpenSTA's path slacks"),
)


def tool_notes() -> str:
    rows = ["| step | command | message | done instead |", "|---|---|---|---|"]
    rows += [f"| {a} | `{b}` | `{c}` | {d} |" for a, b, c, d in TOOL_NOTES]
    return "\n".join(rows)

DOC_HEAD = """# Placed and routed at 45 nm

Generated by `make layout` (`python -m mram_macro.flow.layout --publish`) from `docs/layout/*.json`;
do not edit by hand. Flow: the flat, hold-fixed netlist of `make ppa`, its hold repaired further
to a routing margin of {margin} ns (`ROUTE_HOLD_MARGIN_NS` of `mram_macro/flow/layout/flow.py`: the
routed wires cost hold, and qflow has no post-route hold repair), and its gate-level activity
-> GrayWolf placement (qflow's `blif2cel.tcl`, `decongest.tcl` to the target row fill,
`place2def.tcl`; array ports on the top edge, bus ports on the bottom) -> qrouter on metal1-6
-> SPEF from spef-extractor 0.2.1 (FreePDK45 technology LEF: resistance per square,
capacitance per area and per edge) -> OpenSTA 2.0.17 with the SPEF (the constraints and path
groups of `make sta`) and the kit's Liberty-table energy calculator with each net's routed wire
capacitance in place of the wire-load model. The clock is the buffered trees of the flat
synthesis (`CLKBUF_X3`, fanout 16; delay padding in `CLKBUF_X1`), placed like any cell
(no clock-tree synthesis after placement). No power grid is routed (the cells' rails abut in
the rows); no filler or tap cells beyond `FILLCELL_X1`; no DRC or LVS.

The array is a black box abutting the periphery's top edge: `cols` x column pitch
(`COLUMN_PITCH_UM` of `mram_macro/flow/ppa/analog.py`, 2 µm) by `rows` x row pitch (`ROW_PITCH_UM`
of `mram_macro/flow/layout/flow.py`, 1 µm): both assumptions, the paper gives no layout.

![die plot](layout/{slug}.png)

What each tool could not do, and what the flow does about it (seen on Debian 12: qflow
1.3.17, qrouter 1.4.71, graywolf 0.1.6, spef-extractor 0.2.1, OpenSTA 2.0.17):

{tool_notes}

qrouter's clean-up stage (stage 3, rerouting every net for length) is skipped: on the small
configuration it had rerouted 80 of 6,400 nets in two minutes on this shared machine.
coriolis-eda was not tried: the qflow chain completed.

**The default macro is routed** (2026-12-07) at a row fill of 0.3 (`make layout`, whose
`LAYOUT_ARGS` default is `--density 0.3`): GrayWolf 30 min, qrouter 72 min on a shared two-core
machine at `nice` 19. qrouter's first stage left 930 of the 23,803 nets unrouted; its second
stage's rip-up passes brought that to 891, 858, 663 and then to none ("Final: No failed
routes!"). Routed again on 2026-12-08 (the TDC columns without enable multiplexers: 22,240
nets): GrayWolf 9 min, qrouter 35 min, the whole run 58 min, at `nice` 0 beside two jobs at
`nice` 5; the first stage left 918 nets unrouted, the second stage's passes brought that to
none. Earlier tries of the default, each stopped before the end: the full-featured macro
(the default before the plain profile, 57,290 cells) at fill 0.65 (GrayWolf stopped after 44
min; a later run's first stage failed on about 30 % of the nets) and 0.5 (19 % failed when
stopped); the plain macro at 0.5 (first stage 2,300 failed, second stage down to 634 in 80
min when stopped) and 0.4 (1,342 after the first stage). Which nets fail is not congestion
alone: in the first stage at 0.3 the inner input pins of the wide cells failed far above the
3.9 % average (`NAND4_X1` A2 33 %, `OR3_X1` A3 24 %, `AND4_X1` A2 21 %, `AOI22_X1` ZN 20 %,
`AOI221_X1` A 19 %), and so did the macro's ports (14 %: 773 pins on the 378 µm top edge).
The small configuration's figures below were routed at a fill of 0.65 (`make layout
LAYOUT_CONFIG=small LAYOUT_ARGS="--density 0.65"`).

Each published layout records the registers of the RTL it routed, per block
(`rtl_flip_flops`) and per block and clock (`rtl_clocks`), and a digest of that RTL
(`rtl_digest`, SHA-256 of its RTLIL: any change of the logic). The README's headline energy is
the default build's post-route figure while that matches the current RTL; after an RTL
change, the headline says the build is not routed on this RTL and shows `make ppa`'s
pre-layout figures until `make layout` runs again.

spef-extractor models each wire as area plus edge capacitance to ground from the technology
LEF (no coupling between wires, pins left to the Liberty file): about 0.05-0.06 fF per µm on
the lower metals, a quarter of the 0.2 fF/µm rule of thumb in `mram_macro/flow/ppa/analog.py`. The
post-route wire energy is therefore a lower bound.
"""


def markdown(r: dict) -> str:
    """The published figures of one layout run (docs/layout.md's section for it)."""
    a = r["area"]
    pre, post = r["digital_pre_J"], r["digital_post_J"]
    rows = [f"## {r['title']}, {r['slug']}", "",
            "| | pre-layout | post-route |", "|---|---|---|"]
    for k in ("clock", "data", "leakage", "total"):
        rows.append(f"| digital energy per VMM, {k} (pJ) | {pre[k] * 1e12:.2f} | "
                    f"{post[k] * 1e12:.2f} |")
    rows.append(f"| digital-only TOPS/W | {r['tops_per_W_digital_pre']:.1f} | "
                f"{r['tops_per_W_digital_post']:.1f} |")
    if "tops_per_W_post" in r:
        rows.append(f"| TOPS/W with the analogue terms of make ppa "
                    f"({r['analog_per_vmm_J'] * 1e12:.0f} pJ per VMM) | "
                    f"{r['tops_per_W_pre']:.1f} | {r['tops_per_W_post']:.1f} |")
    for key, label in (("wns_ns", "setup WNS (ns)"), ("hold_wns_ns", "hold WNS (ns)")):
        rows.append(f"| {label} at {r['period_ns']:g} ns | {r['sta_pre'][key]:+.3f} | "
                    f"{r['sta_post'][key]:+.3f} |")
    rows += ["", "| net class | nets | routed wire (fF) | wire energy per VMM, routed (pJ) "
             "| by the wire-load model (pJ) | share of post-route digital |",
             "|---|---|---|---|---|---|"]
    for c in NET_CLASSES:
        w = r["wire_energy"][c]
        rows.append(f"| {c} | {w['nets']} | {w['wire_cap_F'] * 1e15:.0f} | "
                    f"{w['energy_per_vmm_J'] * 1e12:.2f} | "
                    f"{w['wire_load_model_energy_per_vmm_J'] * 1e12:.2f} | "
                    f"{100 * w['share_of_digital']:.1f} % |")
    rows += ["", f"Periphery die {a['die_um'][0]:.1f} x {a['die_um'][1]:.1f} µm "
             f"({a['die_area_um2']:.0f} µm²), cells {a['cell_area_um2']:.0f} µm² "
             f"(utilisation {100 * a['utilisation']:.1f} %, target row fill "
             f"{100 * r['density_target']:.0f} %); macro outline with the array "
             f"{a['outline_area_mm2']:.4f} mm²; {r['cells']} cells, {r['nets_routed']} nets "
             f"routed, {r['failed_nets']} unrouted; "
             f"{r['wire_length_um']['total'] / 1e3:.1f} mm of wire. Runtimes: "
             + ", ".join(f"{k} {v:.0f} s" for k, v in r["runtimes_s"].items()) + ".", ""]
    return "\n".join(rows)


def render_docs(docs_dir: Path = DOCS_DIR) -> str:
    results = [json.loads(p.read_text()) for p in sorted(docs_dir.glob("*.json"))]
    head = DOC_HEAD.replace("{slug}", results[0]["slug"] if results else "none")
    head = head.replace("{tool_notes}", tool_notes())
    head = head.replace("{margin}", f"{ROUTE_HOLD_MARGIN_NS:g}")
    return head + "\n" + "\n".join(markdown(r) for r in results)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mram_macro.flow.layout", description=__doc__)
    p.add_argument("--config", default="default",
                   help="a configuration of make sta (default, small, ...) "
                        "or a feature profile (plain, ...)")
    p.add_argument("--rows", type=positive_int, default=None)
    p.add_argument("--cols", type=positive_int, default=None)
    p.add_argument("--library", default="nangate45", choices=list(PHYSICAL))
    p.add_argument("--density", type=_fraction, default=0.65,
                   help="target row fill for placement (decongest.tcl), default 0.65")
    p.add_argument("--vmms", type=positive_int, default=DEFAULT_VMMS)
    p.add_argument("--out", default="build/layout")
    p.add_argument("--publish", action="store_true",
                   help="copy the result JSON and die plot to docs/layout/")
    args = p.parse_args(argv)
    try:
        config = configuration(args.config, args.rows, args.cols)
    except ValueError as e:
        p.error(str(e))
    r = run_layout(config, library(args.library), Path(args.out), vmms=args.vmms,
                   density=args.density)
    print(summary(r))
    if args.publish:
        DOCS_DIR.mkdir(parents=True, exist_ok=True)
        slug = r["slug"]
        public = {k: v for k, v in r.items() if k != "files"}
        (DOCS_DIR / f"{slug}.json").write_text(json.dumps(public, indent=1) + "\n")
        shutil.copyfile(r["files"]["die_plot"], DOCS_DIR / f"{slug}.png")
        (DOCS_DIR.parent / "layout.md").write_text(render_docs())
        # The README's headline is the post-route figure of the default build when it is routed.
        from mram_macro.flow.ppa.report import render_summary

        render_summary(DOCS_DIR.parents[1] / "README.md")
        print(f"published docs/layout/{slug}.json, docs/layout/{slug}.png, docs/layout.md, "
              f"README.md's summary")
    return 0 if r["failed_nets"] == 0 and r["sta_post_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
