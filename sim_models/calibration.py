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

:func:`sim_models.studies.calibration_study` measures the result error before and after
calibration over many dies.

Gain and offset (:func:`calibrate_gain`). The macro computes ``CAL_OFFSET - 2 * round(gain *
code)`` (CAL_GAIN, fixed point). Per column, a least-squares line through ``(code, y_exact)``
over the usable reference patterns gives the gain (quantised to the register, clipped to its
legal range); the offset is then fitted as above for that quantised gain, so the hardware's
rounding is accounted for exactly. The reference patterns (:func:`gain_reference_patterns`) add
to the complementary pairs a ladder per column: the column's own weights with a growing fraction
of bits flipped, so each column sees codes across its range (random inputs give every column
about ``rows / 2`` matches, too little leverage for a slope).

Temperature tracking (:func:`capture_track_ref`): at calibration the replica columns' code sum
is read (one tracking pass) and written to TRACK_REF; from then on the macro retrims its gains
from the replicas (mram_macro/rtl/periphery/tracker.py) with no host involvement.
:func:`sim_models.studies.tracking_study` measures the result error over temperature with
tracking off and on
(on only where the build has the tracker, ``MacroConfig.has_tracker``), with no recalibration
after the one at the calibration temperature; it also takes the offset-only build and the coarse
TDC's code -> value table, so that every TDC mode is measured the same way.
"""

from __future__ import annotations

import numpy as np

from mram_macro.design.config import CAL_GAIN_MAX, CAL_GAIN_MIN, CAL_GAIN_ONE, MacroConfig
from sim_models.datapath import scale_codes, signed_dot

__all__ = ["reference_patterns", "codes_from_results", "cal_offsets_from_codes", "calibrate",
           "gain_reference_patterns", "cal_gains_offsets_from_codes", "calibrate_gain",
           "capture_track_ref", "check_gains", "TRACKING_METHODS", "check_methods"]


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


def _reference_arrays(x_bits, w_bits, codes):
    """``x_bits`` (patterns, rows), ``w_bits`` (rows, cols) and their ``codes`` (patterns,
    cols) as arrays, checked for shapes that fit together."""
    x = np.asarray(x_bits)
    w = np.asarray(w_bits)
    codes = np.asarray(codes, dtype=np.int64)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x_bits must be (patterns, rows) and w_bits (rows, cols) with the same "
                         f"rows, not {x.shape} and {w.shape}")
    if codes.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"codes must have shape {(x.shape[0], w.shape[1])}, not {codes.shape}")
    return x, w, codes


def cal_offsets_from_codes(x_bits, w_bits, codes, *, tdc_bits: int, result_width: int,
                           keep_parity: bool = True) -> np.ndarray:
    """CAL_OFFSET values (``(cols,)``, int64) from codes measured for inputs with known weights.

    Patterns whose code is clipped (0 or ``2**tdc_bits - 1``) carry no exact information and are
    left out; a column without any usable pattern keeps the reset value ``rows``.
    """
    x, w, codes = _reference_arrays(x_bits, w_bits, codes)
    rows = w.shape[0]
    max_code = (1 << tdc_bits) - 1
    target = signed_dot(x, w) + 2 * codes
    usable = (codes > 0) & (codes < max_code)
    n = usable.sum(axis=0)
    mean = np.where(n > 0, np.where(usable, target, 0).sum(axis=0) / np.maximum(n, 1), rows)
    return _parity_offsets(mean, rows, result_width, keep_parity)


def _parity_offsets(mean, rows: int, result_width: int, keep_parity: bool) -> np.ndarray:
    offsets = rows + 2 * np.rint((mean - rows) / 2) if keep_parity else np.rint(mean)
    half = 1 << (result_width - 1)
    return np.clip(offsets, -half, half - 1).astype(np.int64)


def check_gains(gains, cols: int) -> np.ndarray:
    """``gains`` as CAL_GAIN register values, or ``ValueError`` saying what is wrong."""
    g = np.asarray(gains)
    if g.shape != (cols,) or not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"gains must be {cols} integers (fixed point, {CAL_GAIN_ONE} = 1.0), "
                         f"not {g.dtype} of shape {g.shape}")
    bad = (g < CAL_GAIN_MIN) | (g > CAL_GAIN_MAX)
    if bad.any():
        raise ValueError(f"gains must lie in {CAL_GAIN_MIN}..{CAL_GAIN_MAX} (0.5..2.0 with "
                         f"{CAL_GAIN_ONE} = 1.0); column {int(np.flatnonzero(bad)[0])} has "
                         f"{int(g[bad][0])}")
    return g.astype(np.int64)


def gain_reference_patterns(w_bits, *, n_pairs: int = 16, per_column: int = 2,
                            seed: int = 0) -> np.ndarray:
    """Reference inputs for gain + offset calibration with weights ``w_bits`` (rows, cols):
    ``2 * n_pairs`` complementary pairs, then for every column ``per_column`` copies of its
    own weight bits with a fraction ``f`` of them flipped, ``f`` spread over 1/8 .. 7/8."""
    w = np.asarray(w_bits).astype(np.uint8)
    if w.ndim != 2:
        raise ValueError(f"w_bits must be (rows, cols), not shape {w.shape}")
    if isinstance(per_column, bool) or not isinstance(per_column, int) or per_column < 0:
        raise ValueError(f"per_column must be a non-negative integer, not {per_column!r}")
    rows, cols = w.shape
    rng = np.random.default_rng([seed, 1])
    ladder = np.empty((cols * per_column, rows), dtype=np.uint8)
    fractions = (np.arange(per_column) + 0.5) / max(per_column, 1) * 0.75 + 0.125
    for c in range(cols):
        for k, f in enumerate(fractions):
            flip = rng.permutation(rows) < round(f * rows)
            ladder[c * per_column + k] = w[:, c] ^ flip
    return np.concatenate([reference_patterns(rows, n_pairs, seed=seed), ladder])


def cal_gains_offsets_from_codes(x_bits, w_bits, codes, *, tdc_bits: int, result_width: int,
                                 keep_parity: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """CAL_GAIN and CAL_OFFSET values (each ``(cols,)``, int64) from codes measured for inputs
    with known weights: per column a least-squares fit of ``y_exact = offset - 2 gain code``
    over the unclipped patterns (the code regressed on ``y_exact``, which carries no error),
    the gain quantised and clipped to CAL_GAIN's range, then the offset fitted for that gain
    (:func:`cal_offsets_from_codes`'s rounding). A column without a falling line through its
    usable codes keeps gain 1.0 (its offset is still fitted)."""
    x, w, codes = _reference_arrays(x_bits, w_bits, codes)
    rows = w.shape[0]
    target = signed_dot(x, w).astype(np.float64)
    usable = (codes > 0) & (codes < (1 << tdc_bits) - 1)
    n = usable.sum(axis=0)
    nz = np.maximum(n, 1)
    cf = np.where(usable, codes, 0).astype(np.float64)
    tf = np.where(usable, target, 0.0)
    c_mean, t_mean = cf.sum(axis=0) / nz, tf.sum(axis=0) / nz
    # The error is in the code (the die's spread, quantisation), not in y_exact: regress the
    # code on y (code = (offset - y) / (2 gain)); regressing y on the code would bias the gain
    # low by the code's error variance (errors in variables).
    dt = np.where(usable, target - t_mean, 0.0)
    var = (dt ** 2).sum(axis=0)
    cov = (dt * np.where(usable, codes - c_mean, 0.0)).sum(axis=0)
    ok = (var > 0) & (cov < 0)
    gain = np.where(ok, -var / np.where(ok, 2 * cov, -1.0), 1.0)
    gains = np.clip(np.rint(gain * CAL_GAIN_ONE), CAL_GAIN_MIN, CAL_GAIN_MAX)
    gains = gains.astype(np.int64)
    scaled = scale_codes(codes, gains)
    mean = np.where(n > 0, np.where(usable, target + 2 * scaled, 0).sum(axis=0) / nz, rows)
    return gains, _parity_offsets(mean, rows, result_width, keep_parity)


def calibrate_gain(golden, w_bits, *, n_pairs: int = 16, per_column: int = 2,
                   seed: int = 0, apply: bool = True,
                   keep_parity: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Gain + offset calibration of the macro modelled by ``golden`` (weights ``w_bits``):
    measures :func:`gain_reference_patterns` in raw-code mode, returns ``(gains, offsets)`` and,
    with ``apply``, loads them (CAL_GAIN, CAL_OFFSET)."""
    c = golden.config
    x = gain_reference_patterns(w_bits, n_pairs=n_pairs, per_column=per_column, seed=seed)
    codes, _ = golden.convert(x)
    gains, offsets = cal_gains_offsets_from_codes(x, w_bits, codes, tdc_bits=c.tdc_bits,
                                                  result_width=c.result_width,
                                                  keep_parity=keep_parity)
    if apply:
        golden.gains, golden.offsets = gains.copy(), offsets.copy()
    return gains, offsets


def capture_track_ref(golden) -> int:
    """Capture the replica columns' code sum at the present temperature into TRACK_REF, as the
    host does at calibration: one tracking pass (TRACK_INTERVAL = 1, an all-zero input), read
    TRACK_CODE, write TRACK_REF; TRACK_INTERVAL is restored. Returns the reference."""
    interval = golden.track_interval
    golden.track_interval = 1
    try:
        golden.vmm(np.zeros(golden.config.rows, dtype=np.uint8))
    finally:
        golden.track_interval = interval
        golden.track_count = 0
    if golden.track_invalid:
        raise ValueError("the replica read saturated or read 0 (TRACK_STATUS.INVALID): "
                         "check TDC_START_DELAY before calibrating")
    golden.track_ref = golden.track_code
    return golden.track_ref


def calibrate(golden, w_bits, *, n_pairs: int = 16, seed: int = 0,
              apply: bool = True, keep_parity: bool = True) -> np.ndarray:
    """Calibrate the macro modelled by ``golden`` (a :class:`~sim_models.golden.GoldenMacro`,
    its array holding weights ``w_bits``).

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


#: Calibration methods of :func:`sim_models.studies.tracking_study`: none (reset registers),
#: CAL_OFFSET only, CAL_GAIN + CAL_OFFSET (``calibration="gain"`` builds), the code -> value
#: table (coarse).
TRACKING_METHODS = ("none", "offset", "gain+offset", "table")


def check_methods(config: MacroConfig, methods) -> tuple[str, ...]:
    """``methods`` as a tuple if ``config``'s build has the registers each needs, else
    ``ValueError`` saying which build would."""
    methods = tuple(methods)
    for m in methods:
        if m not in TRACKING_METHODS:
            raise ValueError(f"method must be one of {', '.join(TRACKING_METHODS)}, not {m!r}")
        if m == "offset" and config.mode.has_code_table:
            raise ValueError("method 'offset' needs CAL_OFFSET, which tdc_mode='coarse' does not "
                             "use (its code -> value table is its calibration: method 'table')")
        if m == "gain+offset" and not config.has_gain:
            raise ValueError(f"method 'gain+offset' needs CAL_GAIN: build {config.slug} with "
                             f"calibration='gain'")
        if m == "table" and not config.mode.has_code_table:
            raise ValueError(f"method 'table' needs tdc_mode='coarse', not {config.tdc_mode!r}")
    return methods
