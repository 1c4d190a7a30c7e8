"""Golden model of the whole macro: array + readout + accumulator, vectorised over batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mram_macro.config import MacroConfig

from .array import MramArray
from .device import DeviceParams
from .readout import ReadoutParams, design_readout, tdc_codes, trip_cycles, trip_time_ns

__all__ = ["GoldenMacro", "PassResult", "signed_dot", "wrap_signed"]


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


@dataclass
class PassResult:
    codes: np.ndarray        #: TDC code per column
    overflow: np.ndarray     #: per-column "never fired" flag
    values: np.ndarray       #: accumulator contents after the pass (signed, wrapped)
    emitted: bool            #: whether the macro sends ``values`` on m_axis


class GoldenMacro:
    """What the macro computes, column by column, from the same die as the RTL simulation sees."""

    def __init__(self, config: MacroConfig, device: DeviceParams | None = None,
                 readout: ReadoutParams | None = None, *, seed: int | None = 0,
                 t_clk_ns: float = 5.0):
        self.config = config
        self.device = device or DeviceParams()
        self.readout = readout or design_readout(config.rows, self.device, t_clk_ns=t_clk_ns)
        self.array = MramArray(config.rows, config.cols, self.device, seed=seed)
        #: Register mirrors: CAL_OFFSET[c] and TDC_START_DELAY.
        self.offsets = np.full(config.cols, config.rows, dtype=np.int64)
        self.start_delay_cycles = self.readout.start_delay_cycles
        self.acc = np.zeros(config.cols, dtype=np.int64)

    def convert(self, x_bits):
        """TDC codes and overflow flags, shape ``(batch, cols)``, for input bits ``(batch, rows)``."""
        r_col = self.array.vmm_resistance_ohm(x_bits)
        t = trip_time_ns(r_col, self.config.rows, self.device, self.readout)
        return tdc_codes(trip_cycles(t, self.readout), start_delay_cycles=self.start_delay_cycles,
                         tdc_bits=self.config.tdc_bits)

    def results_from_codes(self, codes):
        """One pass's signed results: ``CAL_OFFSET - 2 * code``."""
        return wrap_signed(self.offsets - 2 * np.asarray(codes, dtype=np.int64),
                           self.config.result_width)

    def vmm_batch(self, x_bits):
        """Single-pass results (no accumulation) for a batch of input vectors."""
        codes, _ = self.convert(x_bits)
        return self.results_from_codes(codes)

    def vmm(self, x_bits, *, accumulate: bool = False, hold: bool = False) -> PassResult:
        """One pass as the macro performs it, updating the accumulator."""
        codes, overflow = self.convert(np.asarray(x_bits)[None, :])
        base = self.acc if accumulate else 0
        self.acc = wrap_signed(base + self.results_from_codes(codes[0]), self.config.result_width)
        return PassResult(codes=codes[0], overflow=overflow[0], values=self.acc.copy(),
                          emitted=not hold)
