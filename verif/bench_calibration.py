"""``make bench`` detail section: calibration (offset only vs per-column gain + offset) and
in-macro temperature tracking, from the golden model (which the RTL matches bit for bit: see
``verif/cocotb/test_calibration.py::test_gain_and_temperature_tracking`` and
``verif/unit/test_tracking.py``), for each TDC mode that takes ``calibration="gain"``.

Every die is calibrated once, at 25 C, and TRACK_REF is captured there; then it runs at each
temperature with tracking off and, where the build has the tracker (``MacroConfig.has_tracker``),
on (TRACK_INTERVAL 64), with no host recalibration. The paper-sigma, random-input error at 25 C
and 85 C is in the TDC-mode table (:mod:`verif.bench_modes`); this section adds full-range
inputs, comparator offsets and the temperature sweep. ``python -m verif.bench_calibration``
prints the tables (``--dies`` to change the Monte Carlo size).
"""

from __future__ import annotations

import argparse
import sys

from mram_macro.design.config import MacroConfig
from mram_macro.design.macro import MacroDesign
from sim_models import DeviceParams
from sim_models.studies import tracking_study

__all__ = ["calibration_lines", "SWEEP_C"]

#: Temperatures of the sweep (the macro is calibrated at the first device's 25 C).
SWEEP_C = (0.0, 25.0, 50.0, 70.0, 85.0)
_METHODS = ("none", "offset", "gain+offset")


def _cell(study, method, temperature, tracking) -> str:
    from verif.bench_modes import NO_TRACKER

    if tracking and not study.has_tracker:
        return NO_TRACKER
    s = study.row(method, temperature, tracking).stats
    return f"{s.mean_abs:.2f} / {s.rms:.2f}"


def calibration_lines(config: MacroConfig, *, dies: int = 40, test_vectors: int = 1024,
                      track_interval: int = 64, seed: int = 0) -> list[str]:
    """The calibration and tracking tables of ``config`` (a ``calibration="gain"`` build), as
    printable lines."""
    if not config.has_gain:
        raise ValueError(f"calibration_lines needs a calibration='gain' build, not {config.slug}")
    devices = (("paper sigma", DeviceParams.paper()),
               ("paper sigma + 2 mV comparator offsets",
                DeviceParams.paper(comparator_offset_sigma_V=2e-3)))
    lines = [f"calibration and temperature tracking, {config.slug} (golden model, {dies} dies, "
             f"{test_vectors} test vectors per die, calibrated once at 25 C, TRACK_INTERVAL "
             f"{track_interval}); mean |error| / RMS of y_macro - y_exact, in LSB of y:",
             "| device | test inputs | calibration | 25 C | 85 C, tracking off | "
             "85 C, tracking on |",
             "|---|---|---|---|---|---|"]
    sweep = None
    for name, device in devices:
        for test_set in ("random", "full-range"):
            paper_random = (name, test_set) == (devices[0][0], "random")
            temps = SWEEP_C if paper_random else (25.0, 85.0)
            study = tracking_study(config, device, dies=dies, temperatures_C=temps,
                                   test_vectors=test_vectors, track_interval=track_interval,
                                   seed=seed, methods=_METHODS, test_set=test_set,
                                   registers=MacroDesign.derive_nominal(
                                       config, device).register_state)
            if paper_random:        # its 25 / 85 C cells are the TDC-mode table's
                sweep = study
                continue
            for method in _METHODS:
                lines.append(f"| {name} | {test_set} | {method} | "
                             f"{_cell(study, method, 25.0, False)} | "
                             f"{_cell(study, method, 85.0, False)} | "
                             f"{_cell(study, method, 85.0, True)} |")
    lines.append("(random: uniform inputs, every column; full-range: each vector is one "
                 "column's weights with a random fraction flipped, that column's error only, "
                 "so codes span the whole window and a gain error shows)")
    trackings = (False, True) if sweep.has_tracker else (False,)
    lines += [f"temperature sweep, {config.slug}, paper sigma, random inputs, no recalibration "
              f"after 25 C (mean |error| / RMS; off = tracking off, on = TRACK_INTERVAL "
              f"{track_interval})" + ("" if sweep.has_tracker else "; no tracker in this build")
              + ":",
              "| calibration | tracking | " + " | ".join(f"{t:g} C" for t in SWEEP_C) + " |",
              "|---|---|" + "---|" * len(SWEEP_C)]
    for method in _METHODS:
        for tracking in trackings:
            lines.append(f"| {method} | {'on' if tracking else 'off'} | " + " | ".join(
                _cell(sweep, method, t, tracking) for t in SWEEP_C) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    from verif.bench_modes import MODES

    parser = argparse.ArgumentParser(prog="python -m verif.bench_calibration",
                                     description=__doc__)
    parser.add_argument("--dies", type=int, default=40, help="dies per study")
    parser.add_argument("--vectors", type=int, default=1024, help="test vectors per die")
    parser.add_argument("--interval", type=int, default=64, help="TRACK_INTERVAL")
    args = parser.parse_args(argv)
    for mode in MODES:
        if mode.accuracy_config.has_gain:
            for line in calibration_lines(mode.accuracy_config, dies=args.dies,
                                          test_vectors=args.vectors,
                                          track_interval=args.interval):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
