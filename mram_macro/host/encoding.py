"""How the host encodes what it sends to the macro, and checks it first: ±1 values as bits,
multi-bit inputs as bit planes, signed per-column register values.

A *bit* 1 means +1 and a bit 0 means -1, for inputs and weights alike: :func:`to_bits` takes
either encoding of :data:`ENCODINGS` and checks it, :func:`input_vectors` a batch of input
vectors, :func:`pass_flags` a pass's flags (accumulate, hold, shift, negate). A pass returns the
signed dot products of the ±1 values; :func:`bits_product` turns one into the product with
{0,1} inputs and weights. A signed multi-bit input runs bit-serially
(:meth:`mram_macro.host.api.Macro.vmm_int`): :func:`int_inputs` checks it, :func:`bit_planes`
cuts it into one pass per bit, most significant first, and :func:`int_product` turns the
accumulated sum into the product with the {0,1} weights. :func:`signed_per_column` checks a
value per column for CAL_OFFSET or THRESHOLD. Plain NumPy; every refusal is a
:class:`~mram_macro.host.backend.HostError`, raised before anything reaches a backend.
"""

from __future__ import annotations

import numpy as np

from mram_macro.host.backend import HostError

__all__ = ["ENCODINGS", "to_bits", "input_vectors", "pass_flags", "bits_product", "int_inputs",
           "bit_planes", "int_product", "signed_per_column"]

#: Value encodings of inputs and weights: "pm1" (-1/+1) or "bits" (0 = -1, 1 = +1).
ENCODINGS = ("pm1", "bits")


def to_bits(values, *, encoding: str, what: str) -> np.ndarray:
    """``values`` in ``encoding`` as a uint8 array of bits (1 = +1), validated."""
    if encoding not in ENCODINGS:
        raise HostError(f"encoding must be one of {', '.join(map(repr, ENCODINGS))}, "
                        f"not {encoding!r}")
    a = np.asarray(values)
    if a.dtype == bool:
        if encoding == "pm1":
            raise HostError(f"{what} are booleans: pass encoding='bits' (True = +1, "
                            f"False = -1) or values -1/+1")
        return a.astype(np.uint8)
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise HostError(f"{what} must be numbers, not an array of {a.dtype}")
    allowed = (-1, 1) if encoding == "pm1" else (0, 1)
    ok = (a == allowed[0]) | (a == allowed[1])       # np.isin, without its sort (faster)
    if not ok.all():
        bad = a[~ok].flat[0].item()
        idx = np.argwhere(~ok)[0].tolist()
        other = "'bits' (0/1)" if encoding == "pm1" else "'pm1' (-1/+1)"
        raise HostError(f"{what} must be binary: {allowed[0]} or {allowed[1]} with "
                        f"encoding={encoding!r}, not {bad!r} (at index {idx}; "
                        f"{np.count_nonzero(~ok)} such value(s)); for the other encoding pass "
                        f"encoding={other}")
    return (a > 0).view(np.uint8)                    # a fresh bool array: no copy


def input_vectors(x, *, encoding: str, rows: int) -> np.ndarray:
    """Input vectors ``x``, ``(batch, rows)`` or one ``(rows,)``, as ``(batch, rows)`` bits
    (:func:`to_bits`), checked."""
    bits = to_bits(x, encoding=encoding, what="inputs")
    if bits.ndim == 1:
        bits = bits[None, :]
    if bits.ndim != 2 or bits.shape[1] != rows:
        raise HostError(f"inputs must have shape (batch, {rows}) or ({rows},), "
                        f"not {np.shape(x)}")
    return bits


def pass_flags(value, n: int, name: str) -> np.ndarray:
    """A pass flag ``name`` (accumulate, hold, shift, negate) given as one bool or one per
    vector, as ``n`` bools."""
    a = np.asarray(value)
    if a.dtype != bool:
        raise HostError(f"{name} must be a bool or an array of bools, not {value!r}")
    if a.ndim == 0:
        return np.full(n, bool(a))
    if a.shape != (n,):
        raise HostError(f"{name} must be one bool or one per vector ({n}), not shape "
                        f"{a.shape}")
    return a


def bits_product(y_pm1, x_bits, w_bits):
    """The {0,1} product ``sum_r x[r] w[r, c]`` from a ±1 pass result ``y``, for inputs
    ``(batch, rows)`` and weights ``(rows, cols)``: by ``(2x-1)(2w-1) = 4xw - 2x - 2w + 1``,
    ``P = (y + 2 sum(x) + 2 sum(w) - rows) / 4``. Exact when ``y`` is (ideal mode); a ``y`` off
    by an error gives the nearest integer (halves rounded up)."""
    x = np.asarray(x_bits, dtype=np.int64)
    w = np.asarray(w_bits, dtype=np.int64)
    rows = w.shape[0]
    total = np.asarray(y_pm1, dtype=np.int64) + 2 * x.sum(axis=-1, keepdims=True) \
        + 2 * w.sum(axis=0) - rows
    return (total + 2) // 4


def int_inputs(x, *, input_bits: int, rows: int, result_width: int) -> np.ndarray:
    """``x`` as a ``(batch, rows)`` array of signed ``input_bits``-bit integer inputs (a
    ``(rows,)`` vector is a batch of one), checked: :class:`HostError` when ``input_bits`` is
    not in 1..16, ``x`` is not integers of that shape or does not fit ``input_bits``-bit two's
    complement, or ``rows`` inputs that wide could overflow a ``result_width``-bit accumulator."""
    if isinstance(input_bits, bool) or not isinstance(input_bits, int) or not (
            1 <= input_bits <= 16):
        raise HostError(f"input_bits must be an integer in 1..16, not {input_bits!r}")
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.integer):
        raise HostError(f"multi-bit inputs must be integers, not {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != rows:
        raise HostError(f"inputs must have shape (batch, {rows}), not {np.shape(x)}")
    lo, hi = -(1 << (input_bits - 1)), (1 << (input_bits - 1)) - 1
    bad = (a < lo) | (a > hi)
    if bad.any():
        raise HostError(f"inputs must fit {input_bits}-bit two's complement ({lo}..{hi}); "
                        f"{np.count_nonzero(bad)} value(s) do not, first {a[bad][0]} at "
                        f"{np.argwhere(bad)[0].tolist()}")
    limit = rows * ((1 << input_bits) - 1)
    if limit >= 1 << (result_width - 1):
        raise HostError(f"{input_bits}-bit inputs can sum to {limit} over {rows} rows, "
                        f"beyond the {result_width}-bit accumulator; use fewer input bits")
    return a


def bit_planes(a: np.ndarray, input_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The passes of checked inputs ``a`` (:func:`int_inputs`): ``(planes, first, last)``,
    ``planes`` the bits ``(batch * input_bits, rows)``, each vector's ``input_bits`` planes
    most significant first; ``first`` marks each vector's MSB pass, ``last`` its LSB pass."""
    u = a.astype(np.int64) & ((1 << input_bits) - 1)
    # Per vector, its bit planes MSB first: the MSB pass clears the accumulator and
    # subtracts, the others double it and add; only the last (LSB) pass emits.
    order = np.arange(input_bits - 1, -1, -1)
    planes = ((u[:, None, :] >> order[None, :, None]) & 1).astype(np.uint8)
    first = np.tile(order == input_bits - 1, len(a))
    last = np.tile(order == 0, len(a))
    return planes.reshape(-1, a.shape[1]), first, last


def int_product(acc, a, w_bits) -> np.ndarray:
    """``a @ w`` with {0,1} weights ``w_bits`` ``(rows, cols)`` from the accumulated result
    ``acc`` of :func:`bit_planes`' passes (MSB pass negated, the others shifted and added):
    exact when ``acc`` is, else the nearest integer (halves rounded up)."""
    rows = np.shape(w_bits)[0]
    # acc = sum_i s_i 2**i y_i; with y_i = 4 P_i - 2|x_i| - 2|w| + rows and sum_i s_i 2**i = -1:
    # P = (acc + 2 sum_r x_r - 2|w| + rows) / 4 (halves rounded up when acc carries errors).
    total = acc + 2 * a.sum(axis=1, keepdims=True) - 2 * np.asarray(w_bits).astype(
        np.int64).sum(axis=0) + rows
    return (total + 2) // 4


def signed_per_column(values, *, what: str, cols: int, result_width: int) -> np.ndarray:
    """One signed value per column for a register of the result width (CAL_OFFSET, THRESHOLD):
    ``values`` as ``cols`` int64, checked to be integers in ``result_width``-bit two's
    complement (:class:`HostError` names ``what``)."""
    v = np.asarray(values)
    half = 1 << (result_width - 1)
    if v.shape != (cols,) or not np.issubdtype(v.dtype, np.integer):
        raise HostError(f"{what} must be {cols} integers, not {v.dtype} of shape {v.shape}")
    if (v < -half).any() or (v >= half).any():
        raise HostError(f"{what} must lie in {-half}..{half - 1} (result_width "
                        f"{result_width}), not {v[(v < -half) | (v >= half)][0]}")
    return v.astype(np.int64)
