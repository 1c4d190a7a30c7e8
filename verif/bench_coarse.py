"""``make bench``, section "coarse TDC": the chip's readout (``tdc_mode="coarse"``) measured.

* **Speed** (RTL simulation on Verilator, :func:`verif.cocotb.test_coarse.test_coarse_throughput`,
  every result checked bit for bit): steady-state cycles per VMM and the evaluation time, with
  the readout designed for each library's STA-confirmed clock (:func:`mram_macro.ppa.flow.
  sign_off` on the coarse build), hence VMM/s per macro and the array utilisation. Two stream
  widths: the default 32 (the result stream sets the pace) and 256 (the evaluation does).
* **Window**: first and last nominal trip (all cells match / none match) of the design.
* **Area**: hierarchical Yosys synthesis (:func:`mram_macro.synth.synthesize`, OSU 0.18 µm) of
  the coarse and the counter build; the table's own cells (``code_lut``) and the difference.
* **Accuracy**: mean |error| and RMS of the pass value against ``sum x w`` at the paper's sigma,
  25 °C and 85 °C, with the nominal (reset) table and after per-column calibration
  (:func:`sim_models.coarse.coarse_study`), at the STA clocks and at 1 ns (the chip's 4-bit
  resolution).

``python -m verif.bench_coarse`` prints the section alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mram_macro.config import MacroConfig
from sim_models.coarse import coarse_study
from sim_models.device import DeviceParams
from sim_models.readout import design_readout_for, trip_time_ns

__all__ = ["COARSE_CONFIGS", "coarse_lines", "main"]

#: The coarse builds measured: the chip's geometry and 4-bit code, two stream widths.
COARSE_CONFIGS = (MacroConfig(tdc_bits=4, tdc_mode="coarse"),
                  MacroConfig(tdc_bits=4, tdc_mode="coarse", stream_width=256))
#: Clock of the accuracy study beyond the STA clocks: the chip's 4-bit resolution.
CHIP_RESOLUTION_CLOCK_NS = 1.0


def _throughput(config: MacroConfig, clock_ns: float, vmms: int, seed: int) -> dict:
    from mram_macro.sim.runner import run_cocotb

    old = os.environ.get("MRAM_COARSE_CLOCK_NS")
    os.environ["MRAM_COARSE_CLOCK_NS"] = repr(clock_ns)
    try:
        r = run_cocotb("verilator", config, test_module="verif.cocotb.test_coarse", seed=seed,
                       nvmm=vmms, test_filter="test_coarse_throughput$",
                       build_root=Path("build/bench/coarse"), quiet=True)
    finally:
        if old is None:
            os.environ.pop("MRAM_COARSE_CLOCK_NS", None)
        else:
            os.environ["MRAM_COARSE_CLOCK_NS"] = old
    if not r.passed:
        raise RuntimeError(f"coarse throughput run failed ({config.slug}, {clock_ns} ns): "
                           f"{r.failures}")
    return r.metrics


def speed_lines(*, vmms: int, seed: int) -> list[str]:
    from mram_macro.ppa.flow import sign_off
    from mram_macro.ppa.libraries import LIBRARIES
    from mram_macro.ppa.sta import StaError

    lines = ["| build | library | STA clock | WNS | window (ns) | eval cycles | cycles/VMM | "
             "M VMM/s per macro | array utilisation |", "|---|---|---|---|---|---|---|---|---|"]
    device = DeviceParams()
    for lib in LIBRARIES.values():
        t = lib.target_period_ns
        for config in COARSE_CONFIGS:
            try:
                signed = sign_off(config, lib, Path("build/sta"))
            except StaError as exc:
                lines.append(f"| {config.slug} | {lib.title} | {t:g} ns: STA did not run "
                             f"({str(exc).splitlines()[0]}) | | | | | not given | |")
                continue
            if not signed.passed:
                lines.append(f"| {config.slug} | {lib.title} | {t:g} ns: STA fails | "
                             f"{signed.sta.wns_ns:+.3f} ns | | | | not given | |")
                continue
            ro = design_readout_for(config, device, t_clk_ns=t)
            first, last = (float(trip_time_ns(config.rows * r, config.rows, device, ro))
                           for r in (device.r_cell_low_ohm, device.r_cell_high_ohm))
            m = _throughput(config, t, vmms, seed)
            lines.append(
                f"| {config.slug} | {lib.title} | {t:g} ns | {signed.sta.wns_ns:+.3f} ns | "
                f"{first:.1f}-{last:.1f} | {m['eval_cycles_per_vmm']:.2f} | "
                f"{m['cycles_per_vmm']:.2f} | {1e3 / (m['cycles_per_vmm'] * t):.2f} | "
                f"{100 * m['utilisation']:.0f} % |")
    lines.append("(STA of each build, flat synthesis; window = nominal first-last trip; "
                 "eval cycles = precharge + mean slowest-column trip edge, ideal device; "
                 f"{vmms} streamed VMMs per line on Verilator, all checked against the golden "
                 "model)")
    return lines


def area_lines() -> list[str]:
    from mram_macro.cli import write_outputs
    from mram_macro.synth import synthesize

    reports = {}
    for config in (COARSE_CONFIGS[0], MacroConfig()):
        work = Path("build/bench/coarse_area") / config.slug
        files = write_outputs(config, work)
        reports[config.slug] = synthesize(files["verilog"], "mram_macro", workdir=str(work))
    coarse, counter = reports.values()
    lut = sum(m.area_um2 * m.instances for m in coarse.modules.values()
              if "code_lut" in m.name)
    total, ref = coarse.total_area_um2, counter.total_area_um2
    c = COARSE_CONFIGS[0]
    lines = [f"area (Yosys + {coarse.liberty.name}, hierarchical): coarse {total:.0f} um2, "
             f"counter {ref:.0f} um2 ({total / ref - 1:+.1%}); code -> value table (code_lut, "
             f"{c.cols}x{1 << c.tdc_bits} entries of {c.pass_result_width} bits) {lut:.0f} um2 "
             f"= {lut / total:.1%} of the coarse macro; flip-flops {coarse.total_flip_flops} vs "
             f"{counter.total_flip_flops}"]
    lines.append(coarse.table())
    return lines


def accuracy_lines(*, dies: int, clocks_ns) -> list[str]:
    paper = DeviceParams.paper()
    lines = [f"coarse accuracy over {dies} dies (random weights, 1024 random test vectors per "
             "die, table from 256 random reference inputs); error = pass value - sum x w:",
             "| clock | temperature | mean abs, nominal table | calibrated | RMS nominal | "
             "calibrated | exact nominal | calibrated |", "|---|---|---|---|---|---|---|---|"]
    for t in clocks_ns:
        for temp in (25.0, 85.0):
            s = coarse_study(COARSE_CONFIGS[0], paper.replace(temperature_C=temp), dies=dies,
                             t_clk_ns=t)
            b, a = s.before, s.after
            lines.append(f"| {t:g} ns | {temp:g} C | {b.mean_abs:.2f} | {a.mean_abs:.2f} | "
                         f"{b.rms:.2f} | {a.rms:.2f} | {100 * b.exact_fraction:.1f} % | "
                         f"{100 * a.exact_fraction:.1f} % |")
    return lines


def coarse_lines(*, vmms: int = 300, seed: int = 1, dies: int = 50,
                 synth: bool = True, sim: bool = True) -> list[str]:
    """The whole section, as printable lines."""
    from mram_macro.ppa.libraries import LIBRARIES

    lines = ["== coarse TDC (tdc_mode='coarse': the chip's 4-bit code, per-column code -> value "
             "table)"]
    if sim:
        lines += speed_lines(vmms=vmms, seed=seed)
    if synth:
        lines += area_lines()
    clocks = sorted({lib.target_period_ns for lib in LIBRARIES.values()}
                    | {CHIP_RESOLUTION_CLOCK_NS}, reverse=True)
    lines += accuracy_lines(dies=dies, clocks_ns=clocks)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_coarse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vmms", type=int, default=300, help="streamed VMMs per speed line")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dies", type=int, default=50, help="dies per accuracy line")
    parser.add_argument("--no-synth", action="store_true", help="skip the Yosys area runs")
    parser.add_argument("--no-sim", action="store_true", help="skip STA and the RTL speed runs")
    args = parser.parse_args(argv)
    for line in coarse_lines(vmms=args.vmms, seed=args.seed, dies=args.dies,
                             synth=not args.no_synth, sim=not args.no_sim):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
