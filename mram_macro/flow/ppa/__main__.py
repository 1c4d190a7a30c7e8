"""``python -m mram_macro.flow.ppa sta|ppa|plot``: timing sign-off, the PPA report, its plots.

``sta``: per configuration and library, flat timing-driven synthesis then OpenSTA at the
library's target clock: per path group (flip-flops, inputs, clock-gate latches, outputs,
clock-gating checks) the worst setup and hold path, the worst flip-flop path on its own, worst
slack, total negative slack, fmax, and the constraints and exceptions applied. Exits 1 if any
run fails sign-off (flip-flop setup slack below the library's margin, any setup or hold slack
below 0, or an asynchronous input sampled outside a synchroniser).

``plot``: redraw the PPA plots from the published JSON (docs/ppa/), without the flow.

``cells``: where one configuration's digital energy goes below the block level, by library
cell, by register and by clock tree (:mod:`mram_macro.flow.ppa.cells`).

``comparators``: what the comparators would cost sized for a longer decision delay than the
kit's budget, and what their delay does to the results
(:func:`mram_macro.flow.ppa.analog.comparator_budgets`).

``analog``: recompute the analogue terms of the published results at the operating points they
were measured at, after a change of the analogue model, and re-render what shows them
(:mod:`mram_macro.flow.ppa.analog_refresh`; no simulation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mram_macro.cli_args import positive_int
from mram_macro.flow.ppa.activity import WORKLOADS
from mram_macro.flow.ppa.flow import STA_CONFIGS, sign_off
from mram_macro.flow.ppa.libraries import LIBRARIES, library
from mram_macro.flow.ppa.report import DEFAULT_VMMS
from sim_models.device import DeviceParams


def _cmd_sta(args) -> int:
    ok = True
    for name in args.configs:
        config = STA_CONFIGS[name]
        for key in args.libraries:
            lib = library(key)
            result = sign_off(config, lib, Path(args.out))
            verdict = "PASS" if result.passed else "FAIL"
            print(f"[{verdict}] {name} {config.slug} on {lib.title} "
                  f"(target {lib.target_period_ns:g} ns = {lib.target_mhz:.0f} MHz, "
                  f"needs >= {100 * lib.min_slack_fraction:.0f} % slack; flat netlist "
                  f"{result.netlist.area_um2:.0f} µm², {result.netlist.flip_flops} flip-flops)")
            print("  " + result.sta.line().replace("\n", "\n  "))
            print("  constraints:")
            for line in result.sta.constraints:
                print("    - " + line)
            for line in result.failures:
                print("  FAIL: " + line)
            ok &= result.passed
    return 0 if ok else 1


def _cmd_baseline(args) -> int:
    from mram_macro.flow.ppa.report import BASELINE, write_baseline

    r = write_baseline(Path(args.out))
    d = r["digital_J"]
    print(f"{BASELINE}: {d['total'] * 1e12:.2f} pJ per VMM (clock {d['clock'] * 1e12:.2f}, "
          f"data {d['data'] * 1e12:.2f}, leakage {d['leakage'] * 1e12:.2f}), "
          f"{r['cycles_per_vmm']:.1f} cycles per VMM")
    return 0


def _cmd_cells(args) -> int:
    from mram_macro.design.config import ConfigError, MacroConfig
    from mram_macro.flow.ppa.cells import breakdown, glitches, lines
    from mram_macro.flow.ppa.report import UNIT_DELAY_NS, energy_run

    try:
        config = MacroConfig.from_json(args.config) if args.config else MacroConfig()
    except ConfigError as exc:
        print(f"error: --config: {exc}", file=sys.stderr)
        return 2
    lib = library(args.library)
    power, netlist = energy_run(config, lib.key, Path(args.out), vmms=args.vmms)
    print(f"{config.slug} on {lib.title}, zero delay, random VMMs "
          f"({power.vmms} in the window, {power.cycles / power.vmms:.1f} cycles per VMM): "
          f"{power.energy_per_vmm_J('total') * 1e12:.2f} pJ per VMM")
    views = breakdown(power, netlist, lib.require())
    if args.glitches:
        unit, _ = energy_run(config, lib.key, Path(args.out), vmms=args.vmms,
                             unit_delay_ns=UNIT_DELAY_NS)
        print(f"with {UNIT_DELAY_NS * 1e3:g} ps per cell (glitches counted): "
              f"{unit.energy_per_vmm_J('total') * 1e12:.2f} pJ per VMM")
        views |= glitches(views, breakdown(unit, netlist, lib.require()))
    for line in lines(views, top=args.top):
        print(line)
    return 0


def _cmd_comparators(args) -> int:
    from mram_macro.design.config import ConfigError, MacroConfig
    from mram_macro.flow.ppa.analog import budgets_markdown, comparator_budgets

    try:
        config = MacroConfig.from_json(args.config) if args.config else MacroConfig()
        rows = comparator_budgets(config, t_clk_ns=args.t_clk_ns,
                                  budgets=tuple(args.budgets or ()) or None)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{config.slug}: comparators sized for a decision delay of B TDC steps at the "
          f"slowest column's slope (the kit: B = "
          f"{DeviceParams().comparator_delay_budget_steps:g}), random VMMs, the analogue model's "
          f"operating point")
    print(budgets_markdown(rows), end="")
    return 0


def _cmd_plot(args) -> int:
    from mram_macro.flow.ppa.report import DOCS_DIR, replot

    try:
        paths = replot(Path(args.json_dir) if args.json_dir else DOCS_DIR,
                       Path(args.out) if args.out else None)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in paths:
        print(f"plot: {p}")
    return 0


def _cmd_ppa(args) -> int:
    from mram_macro.flow.ppa.report import main as ppa_main

    return ppa_main(args)


def _cmd_analog(args) -> int:
    from mram_macro.flow.ppa.analog_refresh import main as refresh_main

    return refresh_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mram_macro.flow.ppa", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sta", help="flat synthesis + OpenSTA sign-off")
    p.add_argument("--configs", nargs="+", default=list(STA_CONFIGS), choices=list(STA_CONFIGS))
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=list(LIBRARIES))
    p.add_argument("--out", default="build/sta")
    p.set_defaults(func=_cmd_sta)
    p = sub.add_parser("ppa", help="area, timing, energy per VMM, TOPS/W, plots")
    p.add_argument("--out", default="build/ppa")
    p.add_argument("--vmms", type=positive_int, default=DEFAULT_VMMS,
                   help="VMMs in the steady-state gate-level power window (after a warm-up)")
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=list(LIBRARIES))
    p.add_argument("--no-gating", action="store_true",
                   help="measure the ungated reference design (docs/ppa/ppa_ungated.json)")
    p.add_argument("--workload", choices=list(WORKLOADS), default="random",
                   help="activity from random VMMs (default, published), the digits "
                        "network's first layer, or the MNIST BNN's passes (mram_macro/nn/)")
    p.add_argument("--publish", action="store_true",
                   help="also update docs/ppa/ (JSON, plots) and the README's PPA table")
    p.add_argument("--no-profiles", action="store_true",
                   help="skip the feature profiles' rows (mram_macro/design/config.py PROFILES; "
                        "measured on the headline library with the default configuration)")
    p.add_argument("--config", default=None,
                   help="a configuration other than the default, as MacroConfig JSON, e.g. "
                        "'{\"tdc_mode\": \"two_step\", \"stream_width\": 64}' (printed, not "
                        "published)")
    p.set_defaults(func=_cmd_ppa)
    p = sub.add_parser("plot", help="redraw docs/ppa/ppa_energy.png and ppa_area.png from the "
                                    "published JSON (docs/ppa/ppa.json, ppa_profiles.json), "
                                    "without the flow")
    p.add_argument("--json-dir", default=None,
                   help="folder with ppa.json (and ppa_profiles.json); default docs/ppa")
    p.add_argument("--out", default=None, help="where the PNGs go; default: the JSON's folder")
    p.set_defaults(func=_cmd_plot)
    p = sub.add_parser("cells", help="where the digital energy goes below the block level: "
                                     "by cell, by register, by clock tree "
                                     "(mram_macro/flow/ppa/cells.py)")
    p.add_argument("--config", default=None, help="MacroConfig JSON (default: the default macro)")
    p.add_argument("--library", choices=list(LIBRARIES), default="nangate45")
    p.add_argument("--vmms", type=positive_int, default=DEFAULT_VMMS)
    p.add_argument("--top", type=positive_int, default=12, help="groups printed per view")
    p.add_argument("--glitches", action="store_true",
                   help="also simulate with one unit of delay per cell and print where the "
                        "glitches' energy goes (per block, per block and cell)")
    p.add_argument("--out", default="build/ppa_cells")
    p.set_defaults(func=_cmd_cells)
    p = sub.add_parser("comparators", help="what the comparators would cost sized for a longer "
                                           "decision delay than the kit's budget (the analogue "
                                           "model only; no flow)")
    p.add_argument("--config", default=None, help="MacroConfig JSON (default: the default macro)")
    p.add_argument("--t-clk-ns", type=float, default=None,
                   help="clock period (default: the headline library's sign-off clock)")
    p.add_argument("--budgets", type=float, nargs="+", default=None,
                   help="delay budgets in TDC steps (default: "
                        "mram_macro.flow.ppa.analog.COMPARATOR_BUDGETS)")
    p.set_defaults(func=_cmd_comparators)
    p = sub.add_parser("analog", help="recompute the analogue terms of the published results "
                                      "(docs/ppa/, docs/layout/) with the current analogue "
                                      "model at their measured operating points, and "
                                      "re-render the README and docs (no simulation)")
    p.set_defaults(func=_cmd_analog)
    p = sub.add_parser("baseline", help="measure the small configuration's digital energy and "
                                        "commit it as the test's reference "
                                        "(docs/ppa/energy_small.json)")
    p.add_argument("--out", default="build/ppa")
    p.set_defaults(func=_cmd_baseline)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
