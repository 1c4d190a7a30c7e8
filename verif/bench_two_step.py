"""``make bench`` detail section of the two-step TDC (issue 8): the interpolator's DNL/INL
before and after the code-density FINE_TABLE, and the count errors it leaves, with phase
mismatch on (golden model). Its speed, area and error are a row of the TDC-mode table
(:mod:`verif.bench_modes`).

Run alone with ``python -m verif.bench_two_step``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from mram_macro.design.config import profile_config
from mram_macro.design.macro import MacroDesign


def linearity_lines(*, taps: int = 8, t_clk_ns: float = 2.0, sigma_ps: float = 15.0,
                    skew_ps: float = 120.0, dies: int = 20, vectors: int = 2000,
                    seed: int = 0) -> list[str]:
    """DNL/INL of the interpolator before/after the code-density table, and count errors of
    the 64x64 two-step macro with that mismatch, over ``dies`` dies."""
    from sim_models.device import DeviceParams
    from sim_models.golden import signed_dot
    from sim_models.interpolator import (
        code_density_histogram,
        code_density_table,
        design_trip_residue,
        dnl_inl_lsb,
    )

    config = profile_config("full", tdc_mode="two_step", tdc_fine_taps=taps)
    device = DeviceParams(tdc_phase_sigma_ps=sigma_ps, tdc_phase_skew_ps=skew_ps)
    design = MacroDesign.derive(config, t_clk_ns=t_clk_ns)
    readout = design.readout
    residue = design_trip_residue(config.rows, DeviceParams(), readout)
    rng = np.random.default_rng(seed)
    dnl, inl_raw, inl_cal, wrong_raw, wrong_cal, total = [], [], [], 0, 0, 0
    for die in range(dies):
        g = design.golden(device, seed=seed + die)
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


def report_lines(*, dies: int = 20) -> list[str]:
    return linearity_lines(dies=dies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_two_step", description=__doc__)
    parser.add_argument("--dies", type=int, default=20)
    args = parser.parse_args(argv)
    for line in report_lines(dies=args.dies):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
