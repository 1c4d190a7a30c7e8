"""``python -m mram_macro.ppa sta|ppa``: timing sign-off and the PPA report.

``sta``: per configuration and library, flat timing-driven synthesis then OpenSTA at the
library's target clock: worst slack, total negative slack, fmax, the critical path. Exits 1 if
any run misses its target clock by less than the required slack margin.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import MacroConfig
from .flow import sign_off
from .libraries import LIBRARIES, library

#: Configurations `make sta` signs off: the default macro (two-step TDC, 8 phases, 64-bit
#: stream) and a small one (the test's), the default geometry with 16 phases (the 5 ns clock's
#: design), the counter-TDC macro that was the default before (32-bit stream), and the chip's
#: 4-bit coarse TDC (its code -> value table; ``make bench`` compares the three modes).
STA_CONFIGS = {"default": MacroConfig(),
               "small": MacroConfig(rows=8, cols=4, tdc_bits=4, result_width=8,
                                    stream_width=8),
               "two_step_k16": MacroConfig(tdc_fine_taps=16),
               "counter": MacroConfig(tdc_mode="counter", stream_width=32),
               "coarse": MacroConfig(tdc_mode="coarse", tdc_bits=4)}


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
            ok &= result.passed
    return 0 if ok else 1


def _cmd_ppa(args) -> int:
    from .report import main as ppa_main

    return ppa_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mram_macro.ppa", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sta", help="flat synthesis + OpenSTA sign-off")
    p.add_argument("--configs", nargs="+", default=list(STA_CONFIGS), choices=list(STA_CONFIGS))
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=list(LIBRARIES))
    p.add_argument("--out", default="build/sta")
    p.set_defaults(func=_cmd_sta)
    p = sub.add_parser("ppa", help="area, timing, energy per VMM, TOPS/W, plots")
    p.add_argument("--out", default="build/ppa")
    p.add_argument("--vmms", type=int, default=3, help="VMMs in the gate-level power window")
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=list(LIBRARIES))
    p.add_argument("--no-gating", action="store_true",
                   help="measure the ungated reference design (docs/ppa/ppa_ungated.json)")
    p.add_argument("--workload", choices=["random", "digits"], default="random",
                   help="activity from random VMMs (default, published) or from the digits "
                        "network's first layer (mram_macro/nn/)")
    p.add_argument("--publish", action="store_true",
                   help="also update docs/ppa/ (JSON, plots) and the README's PPA table")
    p.add_argument("--config", default=None,
                   help="a configuration other than the default, as MacroConfig JSON, e.g. "
                        "'{\"tdc_mode\": \"two_step\", \"stream_width\": 64}' (printed, not "
                        "published)")
    p.set_defaults(func=_cmd_ppa)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
