"""``make bench``: the TDC modes in one table (window, cycles per VMM, array utilisation,
VMM/s at the STA-confirmed clock, area, and the error before/after calibration at 25 and 85 C
with tracking off and on: :mod:`verif.bench_modes`), then the RTL simulation speed on each
simulator, golden-model throughput and Monte Carlo tables, and the detail sections of the
two-step TDC (interpolator linearity), the coarse TDC (area split, error at the chip's
resolution) and of calibration and tracking (full-range inputs, comparator offsets, temperature
sweep), and the default build's area per block.

A benchmark, not a test: it prints numbers. Machines here are noisy, so compare ratios taken in
one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.sim.runner import run_cocotb
from verif.bench_calibration import calibration_lines
from verif.bench_coarse import coarse_lines, synth_report
from verif.bench_golden import report_lines
from verif.bench_modes import MODES, table_lines
from verif.bench_two_step import report_lines as two_step_report_lines
from verif.configs import parse_slug

#: Builds whose RTL simulation speed ``make bench`` also measures (besides the default one),
#: spelled out so that a change of the default does not move them: the two-step TDC with
#: 64-bit streams (the default macro of issue 11's speed target) and the counter TDC.
SPEED_CONFIGS = (profile_config("full", tdc_mode="two_step", stream_width=64),
                 profile_config("full", tdc_mode="counter", stream_width=64))


def speed_runs(config: MacroConfig, *, vmms: int, seed: int,
               sims=("verilator", "icarus")) -> list[tuple[str, str, dict]]:
    """``(sim, label, metrics)`` of the throughput test of ``config`` with the testbench
    (harness, event-driven models, C clock): ``fast``, on Icarus the event-driven simulation
    netlist (:mod:`mram_macro.sim.netlist`), and on Icarus also ``fast-rtl``, the generated
    Verilog itself, in one run so the ratio (the netlist's share of the speed) is fair. Raises
    RuntimeError if a run fails."""
    rows = []
    runs = [(sim, label) for sim in sims
            for label in ("fast", *(("fast-rtl",) if sim == "icarus" else ()))]
    for sim, label in runs:
        netlist = "flat" if label == "fast" else "rtl"
        r = run_cocotb(sim, config, test_module="verif.cocotb.test_macro", seed=seed,
                       nvmm=vmms, test_filter="test_throughput$",
                       build_root=Path("build/bench/sim_fast"), quiet=True, netlist=netlist)
        if not r.passed:
            raise RuntimeError(f"{sim} ({label} testbench, {config.slug}): FAILED: "
                               f"{r.failures}")
        rows.append((sim, label, r.metrics))
    return rows


def speed_lines(config: MacroConfig, rows) -> list[str]:
    """The simulation-speed lines of :func:`speed_runs`' results."""
    lines = []
    rate = {(sim, tb): m for sim, tb, m in rows}
    cycles = rows[0][2]["cycles_per_vmm"]
    for sim, tb, m in rows:
        lines.append(f"RTL simulation speed, {sim:9s} {tb:8s}: {m['sim_vmm_per_s']:.1f} VMM/s "
                     f"({m['sim_cycles_per_s']:.0f} cycles/s; {m['sim_vmm_per_cpu_s']:.1f} VMM "
                     f"per CPU-second of the simulator process; {m['vmms_checked']} VMMs, all "
                     f"checked; {config.slug}, {cycles:.1f} cycles/VMM)")
    for sim in sorted({sim for sim, _, _ in rows}, reverse=True):
        flat, rtl = rate.get((sim, "fast")), rate.get((sim, "fast-rtl"))
        if flat and rtl:
            lines.append(f"RTL simulation speed-up, {sim:9s}  : "
                         f"{flat['sim_vmm_per_s'] / rtl['sim_vmm_per_s']:.1f}x wall, "
                         f"{flat['sim_vmm_per_cpu_s'] / rtl['sim_vmm_per_cpu_s']:.1f}x CPU "
                         f"(simulation netlist vs generated Verilog, {config.slug})")
    return lines


def ceiling_lines(config: MacroConfig, metrics: dict) -> list[str]:
    """Each simulator alone on ``config`` (Verilog testbench, no cocotb:
    :mod:`mram_macro.sim.ceiling`), with the slowest column tripping where it did in the
    throughput test (its ``metrics``): about the most VMMs per CPU-second a cocotb testbench
    can reach (an estimate: the behavioural array's trips are not the die's, so the macro's
    activity per cycle differs a little)."""
    from mram_macro.sim.ceiling import ceiling

    slowest = metrics["eval_cycles_per_vmm"] - metrics["precharge_cycles"]
    lines = []
    for sim, netlist, cycles in (("verilator", "rtl", 1_000_000), ("icarus", "flat", 12_000),
                                 ("icarus", "rtl", 12_000)):
        c = ceiling(sim, config, Path(f"build/bench/ceiling/{sim}-{netlist}/{config.slug}"),
                    cycles=cycles, max_trip=max(1, round(slowest)), netlist=netlist)
        what = f"{sim} {netlist}" if sim == "icarus" else sim
        lines.append(f"RTL simulation ceiling, {what:12s}: ~{c.vmm_per_cpu_s:.0f} VMM per "
                     f"CPU-second of the simulator alone (no cocotb: Verilog testbench, "
                     f"behavioural array, {c.cycles_per_vmm:.1f} cycles/VMM, "
                     f"{c.cycles_per_cpu_s:.0f} cycles per CPU-second; {config.slug})")
    return lines


def result_register_lines(*, vmms: int, seed: int, sim: str = "verilator") -> list[str]:
    """The ``plain`` profile with and without its result register
    (``MacroConfig.result_register``), each with an always-ready sink (test_throughput) and a
    sink that stalls on half its cycles (test_stalled_sink): cycles per VMM, and evaluations
    run again per VMM (a streamed build abandons one that would capture over the codes still
    being streamed). Raises RuntimeError if a run fails."""
    import dataclasses

    from mram_macro.design.config import profile_config

    streamed = profile_config("plain")
    held = dataclasses.replace(streamed, result_register=True)
    lines = []
    for config in (held, streamed):
        got = {}
        for test in ("test_throughput", "test_stalled_sink"):
            r = run_cocotb(sim, config, test_module="verif.cocotb.test_macro", seed=seed,
                           nvmm=vmms, test_filter=f"{test}$", build_root=Path("build/bench/sim"),
                           quiet=True)
            if not r.passed:
                raise RuntimeError(f"{sim} ({test}, {config.slug}): FAILED: {r.failures}")
            got[test] = r.metrics
        stalled = got["test_stalled_sink"]
        lines.append(
            f"result register {'on ' if config.result_register else 'off'} ({config.slug}, "
            f"{sim}, {got['test_throughput']['t_clk_ns']:g} ns simulation clock): "
            f"{got['test_throughput']['cycles_per_vmm']:.2f} cycles/VMM into an always-ready "
            f"sink, {stalled['cycles_per_vmm']:.2f} into a sink stalling on "
            f"{stalled['p_sink_stall']:.0%} of its cycles, {stalled['reevaluations_per_vmm']:.2f} "
            f"evaluations run again per VMM ({stalled['vmms_checked']} VMMs, all checked)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench", description=__doc__)
    parser.add_argument("--vmms", type=int, default=2000, help="streamed VMMs per simulator")
    parser.add_argument("--speed-config", action="append", default=[], metavar="SLUG",
                        help="also measure the simulation speed of this configuration (a slug "
                             "as `make regress CONFIGS=` takes; repeatable), e.g. one with a "
                             "shorter readout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode-vmms", type=int, default=500,
                        help="streamed VMMs per throughput run of the TDC-mode table")
    parser.add_argument("--dies", type=int, default=40,
                        help="dies per error study of the TDC-mode table and the details")
    parser.add_argument("--no-synth", action="store_true",
                        help="skip the hierarchical Yosys area runs")
    parser.add_argument("--no-sta", action="store_true",
                        help="skip sign-off (flat synthesis + OpenSTA): no rates, no flat areas")
    parser.add_argument("--speed-only", action="store_true",
                        help="only the RTL simulation speed lines (every speed build, both "
                             "simulators, Icarus on both netlists)")
    args = parser.parse_args(argv)
    config = profile_config("full")
    try:
        extra = [parse_slug(slug) for slug in args.speed_config]
    except ValueError as exc:
        parser.error(f"--speed-config: {exc}")
    extra = [c for c in dict.fromkeys([*SPEED_CONFIGS, *extra]) if c != config]
    print(f"== RTL simulation speed of the full build {config.slug}: streaming input, "
          f"always-ready output, {args.vmms} VMMs per simulator, seed {args.seed}", flush=True)
    try:
        rows = speed_runs(config, vmms=args.vmms, seed=args.seed)
        extra_rows = [(c, speed_runs(c, vmms=args.vmms, seed=args.seed)) for c in extra]
    except RuntimeError as exc:
        print(exc)
        return 1
    if args.speed_only:
        for c, r in [(config, rows), *extra_rows]:
            print("\n".join(speed_lines(c, r)), flush=True)
            print("\n".join(ceiling_lines(c, r[0][2])), flush=True)
        return 0
    m = rows[0][2]
    for line in speed_lines(config, rows):
        print(line)
    for line in ceiling_lines(config, m):
        print(line)
    for c, r in extra_rows:
        for line in speed_lines(c, r):
            print(line)
        for line in ceiling_lines(c, r[0][2]):
            print(line)
    # The TDC modes (issue 8): the default build's throughput metrics are reused if it is one
    # of the table's builds.
    try:
        for line in table_lines(vmms=args.mode_vmms, seed=args.seed, dies=args.dies,
                                sta=not args.no_sta, measured={config: rows[0][2]}):
            print(line, flush=True)
    except RuntimeError as exc:
        print(exc)
        return 1
    for line in report_lines():
        print(line)
    try:
        print("\n".join(result_register_lines(vmms=args.mode_vmms, seed=args.seed)), flush=True)
    except RuntimeError as exc:
        print(exc)
        return 1
    print("\n".join(two_step_report_lines()), flush=True)
    reports: dict = {}          # hierarchical syntheses by slug, each build once
    print("\n".join(coarse_lines(dies=args.dies, synth=not args.no_synth, reports=reports)),
          flush=True)
    for mode in MODES:
        if mode.accuracy_config.has_gain:
            print("\n".join(calibration_lines(mode.accuracy_config, dies=args.dies)),
                  flush=True)
    if not args.no_synth:
        report = synth_report(config, reports)
        print(f"area of the full build {config.slug} (Yosys + {report.liberty.name}):")
        print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
