"""The MRAM crossbar: per-MTJ resistances of one die, their states, and the series column sum.

Pin-level view (what the RTL drives; names match the macro's ``arr_*`` ports):

* ``bypass_l[r]`` / ``bypass_r[r]``: 1 turns on the bypass transistor across row r's left /
  right MTJ in every column. A bypassed MTJ contributes ``r_bypass_on_ohm`` instead of its own
  resistance. VMM mode bypasses exactly one of the two; bypassing all but one MTJ of a column
  reads that MTJ alone (for write-verify).
* Writes: ``wr_row`` one-hot selects a row, ``wr_side`` the MTJ (0 = left = W, 1 = right = W-bar),
  ``wr_data[c]`` = 1 writes the low-resistance (parallel) state into column c, else high. A pulse
  at least ``t_switch_ns`` long switches the selected MTJs.

Weight encoding: weight +1 is stored as left MTJ low / right MTJ high. Input +1 keeps the left
MTJ in the string (bypasses the right one), so a cell is low-resistance exactly when input and
weight agree: the cell computes XNOR.
"""

from __future__ import annotations

import numpy as np

from .device import DeviceParams

__all__ = ["MramArray", "ArrayModelError", "bypass_for_inputs", "LEFT", "RIGHT"]

LEFT, RIGHT = 0, 1


class ArrayModelError(RuntimeError):
    """The periphery drove the array pins in a way the array cannot accept."""


def bypass_for_inputs(x_bits):
    """Bypass controls that evaluate input bits ``x_bits`` (1 = +1): ``(bypass_l, bypass_r)``."""
    x = np.asarray(x_bits).astype(bool)
    return ~x, x.copy()


class MramArray:
    """One die: every MTJ's low and high resistance (sampled once from ``seed``) and its state."""

    def __init__(self, rows: int, cols: int, device: DeviceParams | None = None, *,
                 seed: int | None = 0):
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise ValueError(f"rows must be a positive integer, not {rows!r}")
        if isinstance(cols, bool) or not isinstance(cols, int) or cols < 1:
            raise ValueError(f"cols must be a positive integer, not {cols!r}")
        self.rows, self.cols = rows, cols
        self.device = device = device or DeviceParams()
        rng = np.random.default_rng(seed)
        shape = (2, rows, cols)
        # Spread is specified per cell (access transistor included); it is applied to the MTJ.
        self.r_low_ohm = device.r_mtj_low_ohm + device.sigma_low_ohm * rng.standard_normal(shape)
        self.r_high_ohm = device.r_mtj_high_ohm + device.sigma_high_ohm * rng.standard_normal(shape)
        # A sampled MTJ can't go below 1% of nominal: keeps resistances physical at large sigma.
        np.maximum(self.r_low_ohm, 0.01 * device.r_mtj_low_ohm, out=self.r_low_ohm)
        np.maximum(self.r_high_ohm, 0.01 * device.r_mtj_high_ohm, out=self.r_high_ohm)
        #: True where an MTJ is in the low-resistance state. Fresh dies read as all high.
        self.is_low = np.zeros(shape, dtype=bool)

    # -- weights ------------------------------------------------------------------------------
    def load_weights(self, w_bits) -> None:
        """Back-door: store weight bits ``w_bits[row, col]`` (1 = +1) without write pulses."""
        w = self._check_matrix(w_bits)
        self.is_low[LEFT] = w
        self.is_low[RIGHT] = ~w

    def weights(self):
        """Weight bits as read from the left MTJs (1 = +1)."""
        return self.is_low[LEFT].copy()

    def complement_ok(self):
        """True where the right MTJ holds the complement of the left one."""
        return self.is_low[LEFT] != self.is_low[RIGHT]

    def write(self, wr_row, wr_side: int, wr_data, pulse_ns: float) -> None:
        """Apply one write pulse as driven on the pins."""
        row_sel = np.asarray(wr_row).astype(bool)
        if row_sel.shape != (self.rows,) or row_sel.sum() != 1:
            raise ArrayModelError(
                f"a write pulse needs exactly one selected row, got wr_row={np.flatnonzero(row_sel)}")
        if wr_side not in (LEFT, RIGHT):
            raise ArrayModelError(f"wr_side must be 0 (left) or 1 (right), not {wr_side!r}")
        data = np.asarray(wr_data).astype(bool)
        if data.shape != (self.cols,):
            raise ArrayModelError(f"wr_data must have {self.cols} bits, not shape {data.shape}")
        if pulse_ns < self.device.t_switch_ns:
            return  # too short to switch: the cells keep their state
        self.is_low[wr_side, np.flatnonzero(row_sel)[0]] = data

    # -- reading ------------------------------------------------------------------------------
    def mtj_resistance_ohm(self):
        return np.where(self.is_low, self.r_low_ohm, self.r_high_ohm)

    def column_resistance_ohm(self, bypass_l, bypass_r):
        """Series resistance of every column for one setting of the bypass pins."""
        bl = np.asarray(bypass_l).astype(bool)
        br = np.asarray(bypass_r).astype(bool)
        r_on = self.device.r_bypass_on_ohm
        r = self.mtj_resistance_ohm()
        left = np.where(bl[:, None], r_on, r[LEFT])
        right = np.where(br[:, None], r_on, r[RIGHT])
        return (left + right).sum(axis=0)

    def vmm_resistance_ohm(self, x_bits):
        """Column resistances for a batch of input vectors ``x_bits[batch, row]`` (VMM mode).

        A matrix product: sum over rows of the kept MTJ plus one bypass per cell.
        """
        x = np.asarray(x_bits, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        r = self.mtj_resistance_ohm()
        base = self.rows * self.device.r_bypass_on_ohm + r[RIGHT].sum(axis=0)
        return base + x @ (r[LEFT] - r[RIGHT])

    def _check_matrix(self, w_bits):
        w = np.asarray(w_bits).astype(bool)
        if w.shape != (self.rows, self.cols):
            raise ValueError(f"weights must have shape ({self.rows}, {self.cols}), not {w.shape}")
        return w
