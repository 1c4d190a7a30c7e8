"""``make bench``: cycles per VMM vs. the analogue evaluation time, array utilisation, RTL
simulation speed on each simulator, golden-model throughput, and area.

A benchmark, not a test: it prints numbers. Machines here are noisy, so compare ratios taken in
one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mram_macro.config import MacroConfig
from mram_macro.sim.runner import run_cocotb

from .bench_calibration import calibration_lines
from .bench_coarse import coarse_lines
from .bench_golden import report_lines
from .bench_two_step import report_lines as two_step_report_lines


def sta_rate_lines(config: MacroConfig, cycles_per_vmm: float) -> list[str]:
    """VMM rate at each library's clock as OpenSTA confirms it (``make sta``'s cached flat
    netlists in build/sta; synthesised here if absent), never at an assumed clock."""
    from mram_macro.ppa.flow import sign_off
    from mram_macro.ppa.libraries import LIBRARIES

    lines = []
    for lib in LIBRARIES.values():
        result = sign_off(config, lib, Path("build/sta"))
        if not result.passed:
            lines.append(f"VMM rate, {lib.title:14s}         : not given: STA fails the "
                         f"{lib.target_period_ns:g} ns target (WNS {result.sta.wns_ns:+.3f} ns)")
            continue
        lines.append(f"VMM rate, {lib.title:14s}         : "
                     f"{1e3 / (cycles_per_vmm * lib.target_period_ns):.3f} M VMM/s per macro at "
                     f"the STA-confirmed {lib.target_period_ns:g} ns clock (WNS "
                     f"{result.sta.wns_ns:+.3f} ns, fmax {result.sta.fmax_mhz:.0f} MHz)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench", description=__doc__)
    parser.add_argument("--vmms", type=int, default=2000, help="streamed VMMs per simulator")
    parser.add_argument("--legacy-vmms", type=int, default=300,
                        help="streamed VMMs per simulator with the legacy testbench (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-synth", action="store_true", help="skip the Yosys area run")
    args = parser.parse_args(argv)
    config = MacroConfig()
    print(f"== mram_macro {config.slug}: streaming input, always-ready output, "
          f"{args.vmms} VMMs per simulator, seed {args.seed}")
    rows = []
    # The legacy testbench (MRAM_TB=legacy: Python clock, per-clock bus models, all-public
    # Verilator build) next to the current one, in the same run, so the ratio is fair.
    runs = [(sim, tb, n) for sim in ("verilator", "icarus")
            for tb, n in (("fast", args.vmms), ("legacy", args.legacy_vmms)) if n > 0]
    for sim, tb, n in runs:
        r = run_cocotb(sim, config, test_module="verif.cocotb.test_macro", seed=args.seed,
                       nvmm=n, test_filter="test_throughput$",
                       build_root=Path(f"build/bench/sim_{tb}"), quiet=True, testbench=tb)
        if not r.passed:
            print(f"{sim} ({tb} testbench): FAILED: {r.failures}")
            return 1
        rows.append((sim, tb, r.metrics))
    m = rows[0][2]
    print(f"steady-state cycles per VMM          : {m['cycles_per_vmm']:.2f}")
    print(f"analogue evaluation per VMM (cycles) : {m['eval_cycles_per_vmm']:.2f} "
          f"(precharge {m['precharge_cycles']} + mean slowest-column trip "
          f"{m['eval_cycles_per_vmm'] - m['precharge_cycles']:.2f})")
    print(f"array utilisation                    : {100 * m['utilisation']:.1f} %")
    for line in sta_rate_lines(config, m["cycles_per_vmm"]):
        print(line)
    rate = {(sim, tb): mm for sim, tb, mm in rows}
    for sim, tb, mm in rows:
        print(f"RTL simulation speed, {sim:9s} {tb:6s}: {mm['sim_vmm_per_s']:.1f} VMM/s "
              f"({mm['sim_cycles_per_s']:.0f} cycles/s; {mm['sim_vmm_per_cpu_s']:.1f} VMM per "
              f"CPU-second of the simulator process; {mm['vmms_checked']} VMMs, all checked)")
    for sim in ("verilator", "icarus"):
        new, old = rate.get((sim, "fast")), rate.get((sim, "legacy"))
        if new and old:
            print(f"RTL simulation speed-up, {sim:9s}  : "
                  f"{new['sim_vmm_per_s'] / old['sim_vmm_per_s']:.1f}x wall, "
                  f"{new['sim_vmm_per_cpu_s'] / old['sim_vmm_per_cpu_s']:.1f}x CPU "
                  f"(current vs legacy testbench)")
    for line in report_lines():
        print(line)
    print("\n".join(two_step_report_lines()), flush=True)   # TDC modes (issue 8)
    print("\n".join(coarse_lines(synth=not args.no_synth)), flush=True)
    for line in calibration_lines():
        print(line)
    if not args.no_synth:
        from mram_macro.cli import write_outputs
        from mram_macro.synth import synthesize

        files = write_outputs(config, "build/bench")
        report = synthesize(files["verilog"], "mram_macro", workdir="build/bench")
        print(f"area (Yosys + {report.liberty.name}):")
        print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
