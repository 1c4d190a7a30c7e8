"""``make bench`` detail section of the coarse TDC (``tdc_mode="coarse"``, the chip's readout);
its speed, area and error at the STA clocks are a row of the TDC-mode table
(:mod:`verif.bench_modes`, which also measures its throughput and defines its build).

* **Area split**: hierarchical Yosys synthesis (:func:`mram_macro.flow.synth.synthesize`, OSU
  0.18 µm) of the coarse and the counter build; the table's own cells (``code_lut``) and the
  difference.
* **Accuracy at the chip's resolution**: mean |error| and RMS of the pass value against
  ``sum x w`` at the paper's sigma, 25 °C and 85 °C, with the nominal (reset) table and after
  per-column calibration at that temperature (:func:`sim_models.studies.coarse_study`), with the
  readout designed for a 1 ns clock (the chip's 15 codes over its window).

``python -m verif.bench_coarse`` prints the section alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mram_macro.design.config import MacroConfig
from mram_macro.design.macro import MacroDesign
from sim_models.device import DeviceParams
from sim_models.studies import coarse_study
from verif.bench_modes import MODES

__all__ = ["synth_report", "area_lines", "accuracy_lines", "coarse_lines",
           "main"]

#: Clock of the accuracy study beyond the STA clocks: the chip's 4-bit resolution.
CHIP_RESOLUTION_CLOCK_NS = 1.0


def synth_report(config: MacroConfig, reports: dict | None = None):
    """Hierarchical Yosys synthesis (OSU) of ``config``, kept in ``reports`` by slug so that
    one ``make bench`` run synthesises a build once."""
    from mram_macro.flow.synth import synthesize
    from mram_macro.outputs import write_outputs

    reports = {} if reports is None else reports
    if config.slug not in reports:
        work = Path("build/bench/area") / config.slug
        files = write_outputs(config, work)
        reports[config.slug] = synthesize(files["verilog"], "mram_macro", workdir=str(work))
    return reports[config.slug]


def area_lines(reports: dict | None = None) -> list[str]:
    """The coarse build's area split against the counter build's (``reports``: see
    :func:`synth_report`)."""
    modes = {m.name: m.config for m in MODES}
    coarse, counter = (synth_report(modes[name], reports) for name in ("coarse", "counter"))
    lut = sum(m.area_um2 * m.instances for m in coarse.modules.values()
              if "code_lut" in m.name)
    total, ref = coarse.total_area_um2, counter.total_area_um2
    c = modes["coarse"]
    lines = [f"area (Yosys + {coarse.liberty.name}, hierarchical): coarse {c.slug} "
             f"{total:.0f} um2, counter {modes['counter'].slug} {ref:.0f} um2 "
             f"({total / ref - 1:+.1%}); code -> value table (code_lut, "
             f"{c.cols}x{1 << c.tdc_bits} entries of {c.pass_result_width} bits) {lut:.0f} um2 "
             f"= {lut / total:.1%} of the coarse macro; flip-flops {coarse.total_flip_flops} vs "
             f"{counter.total_flip_flops}"]
    lines.append(coarse.table())
    return lines


def accuracy_lines(*, dies: int, clocks_ns) -> list[str]:
    config = next(m.config for m in MODES if m.config.tdc_mode == "coarse")
    paper = DeviceParams.paper()
    lines = [f"coarse accuracy over {dies} dies (random weights, 1024 random test vectors per "
             "die, table from 256 random reference inputs at the test temperature); error = pass "
             "value - sum x w:",
             "| clock | temperature | mean abs, nominal table | calibrated | RMS nominal | "
             "calibrated | exact nominal | calibrated |", "|---|---|---|---|---|---|---|---|"]
    for t in clocks_ns:
        for temp in (25.0, 85.0):
            hot = paper.replace(temperature_C=temp)
            s = coarse_study(config, hot, dies=dies, t_clk_ns=t, registers=MacroDesign
                             .derive_nominal(config, hot, t_clk_ns=t).register_state)
            b, a = s.before, s.after
            lines.append(f"| {t:g} ns | {temp:g} C | {b.mean_abs:.2f} | {a.mean_abs:.2f} | "
                         f"{b.rms:.2f} | {a.rms:.2f} | {100 * b.exact_fraction:.1f} % | "
                         f"{100 * a.exact_fraction:.1f} % |")
    return lines


def coarse_lines(*, dies: int = 40, synth: bool = True,
                 reports: dict | None = None) -> list[str]:
    """The whole section, as printable lines (``reports``: see :func:`synth_report`)."""
    lines = ["== coarse TDC detail (tdc_mode='coarse': the chip's 4-bit code, per-column "
             "code -> value table)"]
    if synth:
        lines += area_lines(reports)
    lines += accuracy_lines(dies=dies, clocks_ns=(CHIP_RESOLUTION_CLOCK_NS,))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_coarse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dies", type=int, default=40, help="dies per accuracy line")
    parser.add_argument("--no-synth", action="store_true", help="skip the Yosys area runs")
    args = parser.parse_args(argv)
    for line in coarse_lines(dies=args.dies, synth=not args.no_synth):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
