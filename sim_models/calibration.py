"""Host-side calibration of the per-column CAL_OFFSET registers, and what it buys.

The macro computes ``result[c] = CAL_OFFSET[c] - 2 * code[c]`` (reset value ``CAL_OFFSET = rows``,
exact for an ideal die). On a real die a column's code is off by an amount that depends on which
MTJs the input puts into its string; a per-column offset removes the part that does not depend on
the input: the column's mean error.

Procedure (:func:`calibrate`), run after the weights are written, with those known weights:

1. Apply reference inputs in complementary pairs ``x``, ``~x`` (:func:`reference_patterns`): over
   a pair every MTJ of the column is in the string exactly once, so the pair's mean error is the
   column's input-independent error; several random pairs dither the TDC's quantisation.
2. Read the codes. Hardware gives results, not codes: with known offsets (e.g. the reset value)
   ``code = (CAL_OFFSET - result) / 2`` (:func:`codes_from_results`).
3. ``CAL_OFFSET[c]`` = ``mean_p(y_exact[p, c] + 2 * code[p, c])`` over the patterns whose code
   is not clipped at 0 or at saturation (:func:`cal_offsets_from_codes`), rounded to the nearest
   value of the same parity as ``rows`` (default ``keep_parity=True``) or to the nearest integer,
   and clipped to the register's signed range. Exact results ``2n - rows`` all have the parity of
   ``rows``; an offset of the other parity would make every result of its column wrong by an odd
   amount. Measured at the paper's spread (``make bench``): keeping the parity gives the lower
   mean absolute error and more exact results, nearest-integer rounding a slightly lower RMS.

:func:`calibration_study` measures the result error before and after calibration over many dies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mram_macro.config import MacroConfig

from .device import DeviceParams
from .golden import GoldenMacro, signed_dot, wrap_signed
from .readout import ReadoutParams, design_readout_for

__all__ = ["reference_patterns", "codes_from_results", "cal_offsets_from_codes", "calibrate",
           "calibration_study", "CalibrationStudy", "ErrorStats"]


def reference_patterns(rows: int, n_pairs: int, *, seed: int = 0) -> np.ndarray:
    """``2 * n_pairs`` input vectors: random ``x`` each followed by its complement."""
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, int) or n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer, not {n_pairs!r}")
    x = np.random.default_rng(seed).integers(0, 2, (n_pairs, rows), dtype=np.uint8)
    out = np.empty((2 * n_pairs, rows), dtype=np.uint8)
    out[0::2], out[1::2] = x, 1 - x
    return out


def codes_from_results(results, offsets):
    """TDC codes recovered from results measured with known CAL_OFFSET values."""
    return (np.asarray(offsets, dtype=np.int64) - np.asarray(results, dtype=np.int64)) // 2


def cal_offsets_from_codes(x_bits, w_bits, codes, *, tdc_bits: int, result_width: int,
                           keep_parity: bool = True) -> np.ndarray:
    """CAL_OFFSET values (``(cols,)``, int64) from codes measured for inputs with known weights.

    Patterns whose code is clipped (0 or ``2**tdc_bits - 1``) carry no exact information and are
    left out; a column without any usable pattern keeps the reset value ``rows``.
    """
    x = np.asarray(x_bits)
    w = np.asarray(w_bits)
    codes = np.asarray(codes, dtype=np.int64)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x_bits must be (patterns, rows) and w_bits (rows, cols) with the same "
                         f"rows, not {x.shape} and {w.shape}")
    if codes.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"codes must have shape {(x.shape[0], w.shape[1])}, not {codes.shape}")
    rows = w.shape[0]
    max_code = (1 << tdc_bits) - 1
    target = signed_dot(x, w) + 2 * codes
    usable = (codes > 0) & (codes < max_code)
    n = usable.sum(axis=0)
    mean = np.where(n > 0, np.where(usable, target, 0).sum(axis=0) / np.maximum(n, 1), rows)
    offsets = rows + 2 * np.rint((mean - rows) / 2) if keep_parity else np.rint(mean)
    half = 1 << (result_width - 1)
    return np.clip(offsets, -half, half - 1).astype(np.int64)


def calibrate(golden: GoldenMacro, w_bits, *, n_pairs: int = 16, seed: int = 0,
              apply: bool = True, keep_parity: bool = True) -> np.ndarray:
    """Calibrate the macro modelled by ``golden`` (its array holding weights ``w_bits``).

    Measures ``2 * n_pairs`` reference evaluations (advancing the evaluation counter, as the
    hardware would), returns the CAL_OFFSET values and, with ``apply``, loads them into
    ``golden.offsets``.
    """
    c = golden.config
    x = reference_patterns(c.rows, n_pairs, seed=seed)
    codes, _ = golden.convert(x)
    offsets = cal_offsets_from_codes(x, w_bits, codes, tdc_bits=c.tdc_bits,
                                     result_width=c.result_width, keep_parity=keep_parity)
    if apply:
        golden.offsets = offsets.copy()
    return offsets


@dataclass(frozen=True)
class ErrorStats:
    """Result error ``y_macro - y_exact`` over many dies, test vectors and columns."""

    mean_abs: float
    rms: float
    max_abs: int
    exact_fraction: float        #: fraction of results with no error
    within_2_fraction: float     #: fraction with |error| <= 2 (one code step)

    @classmethod
    def of(cls, err: np.ndarray) -> ErrorStats:
        a = np.abs(err)
        return cls(mean_abs=float(a.mean()), rms=float(np.sqrt(np.mean(err.astype(float) ** 2))),
                   max_abs=int(a.max()), exact_fraction=float(np.mean(a == 0)),
                   within_2_fraction=float(np.mean(a <= 2)))


@dataclass(frozen=True)
class CalibrationStudy:
    """Result error with the reset CAL_OFFSET and after :func:`calibrate`, over many dies."""

    device: DeviceParams
    dies: int
    n_pairs: int
    keep_parity: bool
    test_vectors: int
    before: ErrorStats
    after: ErrorStats
    seconds: float

    @property
    def dies_per_s(self) -> float:
        return self.dies / self.seconds


def calibration_study(config: MacroConfig, device: DeviceParams, *, dies: int = 100,
                      n_pairs: int = 16, test_vectors: int = 1024, seed: int = 0,
                      keep_parity: bool = True,
                      readout: ReadoutParams | None = None) -> CalibrationStudy:
    """Monte Carlo over ``dies`` dies: random weights, calibration, random test inputs.

    Each die is sampled from its own seed (derived from ``seed``); the readout is the one designed
    for the nominal device, as on silicon.
    """
    readout = readout or design_readout_for(config, device)
    die_seeds = np.random.SeedSequence(seed).generate_state(dies, dtype=np.uint64)
    rng = np.random.default_rng(seed)
    err_before, err_after = [], []
    t0 = time.perf_counter()
    for die_seed in die_seeds:
        g = GoldenMacro(config, device, readout, seed=int(die_seed))
        w = rng.integers(0, 2, (config.rows, config.cols), dtype=np.uint8)
        g.array.load_weights(w)
        x = rng.integers(0, 2, (test_vectors, config.rows), dtype=np.uint8)
        exact = wrap_signed(signed_dot(x, w), config.result_width)
        err_before.append(g.vmm_batch(x) - exact)
        calibrate(g, w, n_pairs=n_pairs, seed=int(die_seed) % (1 << 32),
                  keep_parity=keep_parity)
        err_after.append(g.vmm_batch(x) - exact)
    seconds = time.perf_counter() - t0
    return CalibrationStudy(device=device, dies=dies, n_pairs=n_pairs, keep_parity=keep_parity,
                            test_vectors=test_vectors,
                            before=ErrorStats.of(np.concatenate(err_before)),
                            after=ErrorStats.of(np.concatenate(err_after)), seconds=seconds)
