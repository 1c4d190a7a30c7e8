"""The macro's digital arithmetic, bit for bit as the RTL does it: signed dot products of +-1
bits, two's-complement wrapping, the accumulator's pass, fixed-point gain scaling and the
temperature tracker's retrim. Shared by the golden model (:mod:`sim_models.golden`) and the
host routines that calibrate it (:mod:`sim_models.calibration`, :mod:`sim_models.coarse`)."""

from __future__ import annotations

import numpy as np

from mram_macro.design.config import CAL_GAIN_FRAC_BITS, CAL_GAIN_MAX, CAL_GAIN_MIN, CAL_GAIN_WIDTH

__all__ = ["signed_dot", "wrap_signed", "accumulate_pass", "scale_codes", "tracked_gain",
           "effective_gains"]


def signed_dot(x_bits, w_bits):
    """Exact signed products ``sum_r x[r] * w[r, c]`` with bits mapped 1 -> +1, 0 -> -1.

    ``x_bits`` is ``(rows,)`` or ``(batch, rows)``; ``w_bits`` is ``(rows, cols)``.
    """
    x = 2 * np.asarray(x_bits, dtype=np.int64) - 1
    w = 2 * np.asarray(w_bits, dtype=np.int64) - 1
    return x @ w


def wrap_signed(values, width: int):
    """Two's-complement wrap to ``width`` bits, as the RTL's adders do."""
    v = np.asarray(values, dtype=np.int64)
    half = 1 << (width - 1)
    return ((v + half) % (1 << width)) - half


def accumulate_pass(acc, values, *, accumulate: bool, shift: bool, negate: bool, width: int):
    """The accumulator after a pass with results ``values``:
    ``(accumulate ? (shift ? 2 acc : acc) : 0) + (negate ? -values : values)``, wrapped."""
    base = (2 * np.asarray(acc, dtype=np.int64) if shift else acc) if accumulate else 0
    term = np.asarray(values, dtype=np.int64)
    return wrap_signed(base + (-term if negate else term), width)


def scale_codes(codes, gains):
    """``round(gain * code)`` as the accumulator computes it: ``(gain * code + 2**(F-1)) >> F``
    for unsigned fixed-point gains with ``F = CAL_GAIN_FRAC_BITS`` (halves round up)."""
    g = np.asarray(gains, dtype=np.int64)
    return (g * np.asarray(codes, dtype=np.int64) + (1 << (CAL_GAIN_FRAC_BITS - 1))) \
        >> CAL_GAIN_FRAC_BITS


def tracked_gain(ref: int, code_sum: int) -> tuple[int, bool]:
    """The tracker's retrim (mram_macro/rtl/periphery/tracker.py): ``(TRACK_GAIN, clamped)`` for a
    reference sum ``ref`` and a replica code sum ``code_sum > 0``."""
    qbits = CAL_GAIN_WIDTH + 1
    q = min((int(ref) << (CAL_GAIN_FRAC_BITS + 1)) // int(code_sum), (1 << qbits) - 1)
    gain = (q + 1) >> 1
    clamped = min(max(gain, CAL_GAIN_MIN), CAL_GAIN_MAX)
    return clamped, clamped != gain


def effective_gains(cal_gains, track_gain: int) -> np.ndarray:
    """Per-column gains while tracking: ``min(round(CAL_GAIN * TRACK_GAIN), 2**W - 1)``."""
    return np.minimum(scale_codes(cal_gains, track_gain), (1 << CAL_GAIN_WIDTH) - 1)
