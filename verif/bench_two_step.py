"""``make bench`` section: the TDC modes side by side (issue 8, counter vs two-step).

Per configuration: the steady-state cycles per VMM and the array utilisation measured by the
cocotb throughput test on Verilator (streaming input, always-ready output, every result checked
against the golden model), then per standard-cell library the discharge window of the readout
designed for that library's clock, the VMM rate at the clock OpenSTA confirms (``make sta``'s
flow and cached netlists, for the configurations ``make sta`` signs off; no rate where STA
fails or the readout cannot be designed for that clock) and the flat netlist's area.

The simulations run at :data:`sim_models.readout.T_CLK_NS`; the two-step readout is designed
in phase steps of ``t_clk / K``, so its trip edges (hence the cycle counts) are the same at
every clock period (``verif/unit/test_two_step.py``), and the cycles measured here hold at each
library's clock.

Also: the interpolator's DNL/INL before and after the code-density FINE_TABLE, and the count
errors it leaves, with phase mismatch on (golden model).

Run alone with ``python -m verif.bench_two_step``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mram_macro.config import MacroConfig

#: The configurations compared: today's counter TDC; the two-step TDC at its default 8 phases
#: (designed for the 2 ns clock) with the default 32-bit stream (the result stream is then
#: the bottleneck: 32 beats per VMM), with a 64-bit stream, and with 8-bit results on the 32-bit
#: stream; and at 16 phases (the 5 ns clock's design) with a 64-bit stream.
BENCH_CONFIGS = (
    MacroConfig(),
    MacroConfig(tdc_mode="two_step"),
    MacroConfig(tdc_mode="two_step", stream_width=64),
    MacroConfig(tdc_mode="two_step", result_width=8),
    MacroConfig(tdc_mode="two_step", tdc_fine_taps=16, stream_width=64),
)

#: The chip's rate (paper-facts.md: 11.1 MHz, one VMM per cycle of its control).
CHIP_VMM_PER_S = 11.1e6


def window_ns(config: MacroConfig, t_clk_ns: float):
    """Trip times (ns) of the all-matching and the all-mismatching column with the readout
    designed for ``t_clk_ns`` (ideal device), or None if no readout fits that clock."""
    from sim_models.device import DeviceError, DeviceParams
    from sim_models.readout import design_readout, trip_time_ns

    d = DeviceParams()
    try:
        ro = design_readout(config.rows, d, t_clk_ns=t_clk_ns, fine_taps=config.fine_taps)
    except DeviceError:
        return None
    r = np.array([config.rows * d.r_cell_low_ohm, config.rows * d.r_cell_high_ohm])
    return tuple(float(t) for t in trip_time_ns(r, config.rows, d, ro))


def mode_lines(vmms: int, seed: int, *, sta: bool = True) -> list[str]:
    from mram_macro.ppa.__main__ import STA_CONFIGS
    from mram_macro.ppa.flow import sign_off
    from mram_macro.ppa.libraries import LIBRARIES
    from mram_macro.sim.runner import run_cocotb

    signed_off = set(STA_CONFIGS.values())   # `make sta`'s configurations (cached netlists)

    lines = ["== TDC modes (verif/bench_two_step.py): Verilator, streaming input, always-ready "
             f"output, {vmms} VMMs each, all checked; rates at the STA-confirmed clock",
             f"{'configuration':38s} {'library':14s} {'clk ns':>6s} {'window ns':>13s} "
             f"{'cyc/VMM':>8s} {'util %':>6s} {'M VMM/s':>8s} {'area um2':>10s}"]
    for config in BENCH_CONFIGS:
        r = run_cocotb("verilator", config, test_module="verif.cocotb.test_macro", seed=seed,
                       nvmm=vmms, test_filter="test_throughput$",
                       build_root=Path("build/bench/modes"), quiet=True)
        if not r.passed:
            lines.append(f"{config.slug:38s} FAILED: {r.failures}")
            continue
        m = r.metrics
        cycles, util = m["cycles_per_vmm"], 100 * m["utilisation"]
        for lib in LIBRARIES.values():
            period = lib.target_period_ns
            win = window_ns(config, period)
            win_text = f"{win[0]:5.1f}..{win[1]:5.1f}" if win else "not designable"
            rate, area = "-", "-"
            if sta and win and config not in signed_off:
                rate = "not signed off (not in make sta)"
            elif sta and win:
                result = sign_off(config, lib, Path("build/sta"))
                area = f"{result.netlist.area_um2:10.0f}"
                rate = (f"{1e3 / (cycles * period):8.2f}" if result.passed
                        else f"STA fails (WNS {result.sta.wns_ns:+.2f})")
            lines.append(f"{config.slug:38s} {lib.title:14s} {period:6g} {win_text:>13s} "
                         f"{cycles:8.2f} {util:6.1f} {rate:>8s} {area:>10s}")
    lines.append(f"(the chip: 13..29 ns per column read, {CHIP_VMM_PER_S / 1e6:.1f} M VMM/s "
                 f"with a 4-bit code)")
    return lines


def linearity_lines(*, taps: int = 8, t_clk_ns: float = 2.0, sigma_ps: float = 15.0,
                    skew_ps: float = 120.0, dies: int = 20, vectors: int = 2000,
                    seed: int = 0) -> list[str]:
    """DNL/INL of the interpolator before/after the code-density table, and count errors of
    the default 64x64 two-step macro with that mismatch, over ``dies`` dies."""
    from sim_models.device import DeviceParams
    from sim_models.golden import GoldenMacro, signed_dot
    from sim_models.interpolator import (
        code_density_histogram,
        code_density_table,
        design_trip_residue,
        dnl_inl_lsb,
    )
    from sim_models.readout import design_readout

    config = MacroConfig(tdc_mode="two_step", tdc_fine_taps=taps)
    device = DeviceParams(tdc_phase_sigma_ps=sigma_ps, tdc_phase_skew_ps=skew_ps)
    readout = design_readout(config.rows, DeviceParams(), t_clk_ns=t_clk_ns, fine_taps=taps)
    residue = design_trip_residue(config.rows, DeviceParams(), readout)
    rng = np.random.default_rng(seed)
    dnl, inl_raw, inl_cal, wrong_raw, wrong_cal, total = [], [], [], 0, 0, 0
    for die in range(dies):
        g = GoldenMacro(config, device, readout, seed=seed + die)
        hist = code_density_histogram(g.array.phase_errors_lsb(readout), 100_000, seed=die)
        table = code_density_table(hist, trip_residue=residue)
        d, i_raw = dnl_inl_lsb(hist)
        _, i_cal = dnl_inl_lsb(hist, code_density_table(hist))
        dnl.append(np.abs(d).max())
        inl_raw.append(np.abs(i_raw).max())
        inl_cal.append(np.abs(i_cal).max())
        w = rng.integers(0, 2, (config.rows, config.cols))
        g.load_weights(w)
        x = rng.integers(0, 2, (vectors, config.rows))
        exact = signed_dot(x, w)
        wrong_raw += int((g.vmm_batch(x, first_evaluation=0) != exact).sum())
        g.fine_table = table
        wrong_cal += int((g.vmm_batch(x, first_evaluation=0) != exact).sum())
        total += exact.size
    step_ps = t_clk_ns / taps * 1e3
    return [
        f"== two-step interpolator linearity ({taps} phases of {step_ps:.0f} ps at "
        f"{t_clk_ns:g} ns; phase mismatch sigma {sigma_ps:g} ps, skew {skew_ps:g} ps; "
        f"{dies} dies; code-density test of 100000 hits)",
        f"max |DNL| (LSB), median over dies    : {np.median(dnl):.3f}",
        f"max |INL| (LSB), ideal table         : {np.median(inl_raw):.3f} "
        f"(worst die {max(inl_raw):.3f})",
        f"max |INL| (LSB), bin-centre table    : {np.median(inl_cal):.3f} "
        f"(worst die {max(inl_cal):.3f})",
        f"wrong results (64x64, {vectors} VMMs/die): {wrong_raw / total:.2e} with the ideal "
        f"table, {wrong_cal / total:.2e} with the code-density table at the designed trip "
        f"positions (what a skew of over {residue:.2f} LSB leaves: two trips in one bin)",
    ]


def report_lines(vmms: int = 500, seed: int = 1, *, sta: bool = True) -> list[str]:
    return mode_lines(vmms, seed, sta=sta) + linearity_lines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_two_step", description=__doc__)
    parser.add_argument("--vmms", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-sta", action="store_true", help="skip synthesis and STA")
    args = parser.parse_args(argv)
    for line in report_lines(args.vmms, args.seed, sta=not args.no_sta):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
