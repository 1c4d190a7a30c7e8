"""The chip's coarse readout (``tdc_mode="coarse"``): per-column code -> value look-up tables.

In coarse mode a column's ``tdc_bits`` code covers several matching-cell counts (see
:func:`sim_models.readout.design_coarse_readout`). The macro turns each column's code into a
signed value with a per-column table ``lut[c, code]`` (loaded over AXI4-Lite, register LUT_ENTRY)
and feeds that value into the accumulate / shift / negate / activation path where ``counter``
mode uses ``CAL_OFFSET - 2 * code``. Values are estimated signed dot products ``2n - rows``,
integers in ``-rows..rows``.

* :func:`nominal_table` is the reset table, the same for every column: the designed transfer
  curve of the nominal device (no spread, reference temperature), each code's value the mean of
  ``2n - rows`` over the counts ``n`` that map to it, weighted as random inputs and weights
  make them (``Binomial(rows, 1/2)``).
* :func:`lut_from_codes` is the host routine: from reference patterns with known weights
  (``(code, y_exact)`` pairs per column) each entry becomes the mean exact dot product of the
  patterns that gave that code (the least-squares estimate for inputs like the patterns),
  rounded to the parity of ``rows``; codes no pattern reached take the value of the nearest code
  that one did (the column's nominal entry when none did).
* :func:`calibrate_lut` runs it on a :class:`~sim_models.golden.GoldenMacro`;
  :func:`sim_models.studies.coarse_study` measures the error before and after over many dies.
"""

from __future__ import annotations

import math

import numpy as np

from mram_macro.design.config import MacroConfig
from sim_models.datapath import signed_dot
from sim_models.device import DeviceParams
from sim_models.readout import (
    ReadoutParams,
    design_readout_for,
    tdc_codes,
    trip_cycles,
    trip_time_ns,
)

__all__ = ["nominal_table", "nominal_transfer", "check_table", "lut_from_codes",
           "calibrate_lut", "LutError", "reference_inputs"]


class LutError(ValueError):
    """A code -> value table the macro cannot take; the message says what and where."""


def nominal_transfer(rows: int, device: DeviceParams, readout: ReadoutParams, *,
                     tdc_bits: int, start_delay_cycles: int | None = None) -> np.ndarray:
    """Code of each matching-cell count ``n = 0..rows`` for the nominal device (no spread)."""
    n = np.arange(rows + 1)
    r = rows * device.r_cell_high_ohm - n * device.delta_r_ohm
    delay = readout.start_delay_cycles if start_delay_cycles is None else start_delay_cycles
    codes, _ = tdc_codes(trip_cycles(trip_time_ns(r, rows, device, readout), readout),
                         start_delay_cycles=delay, tdc_bits=tdc_bits)
    return codes


def _fill_unseen(values: np.ndarray, seen: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``values`` with each unseen entry replaced by the nearest seen one (lower on a tie), or
    ``fallback`` entirely when nothing was seen."""
    if not seen.any():
        return fallback.copy()
    idx = np.flatnonzero(seen)
    k = np.arange(len(values))
    nearest = idx[np.abs(k[:, None] - idx[None, :]).argmin(axis=1)]
    return values[nearest]


def _round_to_parity(mean: np.ndarray, rows: int) -> np.ndarray:
    """Nearest integer with the parity of ``rows`` (every exact ``2n - rows`` has it)."""
    return (rows + 2 * np.rint((mean - rows) / 2)).astype(np.int64)


def nominal_table(config: MacroConfig, device: DeviceParams | None = None,
                  readout: ReadoutParams | None = None) -> np.ndarray:
    """The reset table ``(2**tdc_bits,)``: each code's mean ``2n - rows`` over the counts that
    map to it (nominal device, readout designed for ``config``), weighted ``Binomial(rows, 1/2)``;
    codes no count maps to take the nearest used code's value."""
    device = device or DeviceParams()
    nominal = device.replace(temperature_C=device.temperature_ref_C)
    readout = readout or design_readout_for(config, nominal)
    codes = nominal_transfer(config.rows, nominal, readout, tdc_bits=config.tdc_bits)
    n = np.arange(config.rows + 1)
    weight = np.array([math.comb(config.rows, int(k)) for k in n], dtype=np.float64)
    size = 1 << config.tdc_bits
    w_sum = np.bincount(codes, weights=weight, minlength=size)
    y_sum = np.bincount(codes, weights=weight * (2 * n - config.rows), minlength=size)
    seen = w_sum > 0
    mean = np.where(seen, y_sum / np.where(seen, w_sum, 1), 0.0)
    table = _round_to_parity(mean, config.rows)
    return _fill_unseen(table, seen, table)


def check_table(config: MacroConfig, table) -> np.ndarray:
    """``table`` as an int64 array ``(cols, 2**tdc_bits)`` if the macro can take it, else
    :class:`LutError` naming the first bad entry."""
    t = np.asarray(table)
    shape = (config.cols, 1 << config.tdc_bits)
    if t.shape != shape:
        raise LutError(f"a code -> value table must have shape {shape} (cols, 2**tdc_bits), "
                       f"not {t.shape}")
    if t.dtype == bool or not (np.issubdtype(t.dtype, np.integer)
                               or np.issubdtype(t.dtype, np.floating)):
        raise LutError(f"table entries must be integers, not {t.dtype}")
    bad = ~np.isfinite(t) | (t != np.round(t)) if np.issubdtype(t.dtype, np.floating) \
        else np.zeros(shape, dtype=bool)
    bad |= (t < -config.rows) | (t > config.rows)
    with np.errstate(invalid="ignore"):
        bad |= np.where(bad, False, np.mod(np.nan_to_num(t) + config.rows, 2) != 0)
    if bad.any():
        col, code = (int(v) for v in np.argwhere(bad)[0])
        raise LutError(f"table entry [column {col}, code {code}] = {t[col, code].item()!r} is "
                       f"not an integer in -{config.rows}..{config.rows} with the parity of "
                       f"{config.rows} (a signed dot product of {config.rows} +-1 terms, "
                       f"stored as its count of matching cells); {int(bad.sum())} bad "
                       f"entr(y/ies)")
    return t.astype(np.int64)


def lut_from_codes(x_bits, w_bits, codes, *, tdc_bits: int, fallback=None) -> np.ndarray:
    """Per-column tables ``(cols, 2**tdc_bits)`` from codes measured for inputs with known
    weights (the host routine; see the module docstring). ``fallback`` (``(2**tdc_bits,)`` or
    ``(cols, 2**tdc_bits)``, default all 0) fills a column no pattern reached."""
    x, w = np.asarray(x_bits), np.asarray(w_bits)
    codes = np.asarray(codes, dtype=np.int64)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise LutError(f"x_bits must be (patterns, rows) and w_bits (rows, cols) with the same "
                       f"rows, not {x.shape} and {w.shape}")
    if codes.shape != (x.shape[0], w.shape[1]):
        raise LutError(f"codes must have shape {(x.shape[0], w.shape[1])}, not {codes.shape}")
    size = 1 << tdc_bits
    if codes.size and (codes.min() < 0 or codes.max() >= size):
        raise LutError(f"codes must lie in 0..{size - 1} for tdc_bits={tdc_bits}")
    rows, cols = w.shape
    fb = np.zeros((cols, size), dtype=np.int64) if fallback is None else \
        np.broadcast_to(np.asarray(fallback, dtype=np.int64), (cols, size))
    y = signed_dot(x, w)
    out = np.empty((cols, size), dtype=np.int64)
    for c in range(cols):
        count = np.bincount(codes[:, c], minlength=size)
        total = np.bincount(codes[:, c], weights=y[:, c], minlength=size)
        seen = count > 0
        mean = np.where(seen, total / np.maximum(count, 1), 0.0)
        out[c] = _fill_unseen(np.clip(_round_to_parity(mean, rows), -rows, rows), seen, fb[c])
    return out


def reference_inputs(rows: int, n_patterns: int, *, seed: int = 0) -> np.ndarray:
    """``n_patterns`` random input vectors for :func:`calibrate_lut`."""
    if isinstance(n_patterns, bool) or not isinstance(n_patterns, int) or n_patterns < 1:
        raise LutError(f"n_patterns must be a positive integer, not {n_patterns!r}")
    return np.random.default_rng(seed).integers(0, 2, (n_patterns, rows), dtype=np.uint8)


def calibrate_lut(golden, w_bits, *, n_patterns: int = 256, seed: int = 0,
                  apply: bool = True) -> np.ndarray:
    """Build the tables of the macro modelled by ``golden`` (holding weights ``w_bits``) from
    ``n_patterns`` random reference inputs (advancing its evaluation counter, as hardware
    would); with ``apply`` load them into ``golden.lut``. Returns ``(cols, 2**tdc_bits)``."""
    c = golden.config
    x = reference_inputs(c.rows, n_patterns, seed=seed)
    codes, _ = golden.convert(x)
    table = lut_from_codes(x, w_bits, codes, tdc_bits=c.tdc_bits, fallback=golden.lut)
    if apply:
        golden.lut = table.copy()
    return table
