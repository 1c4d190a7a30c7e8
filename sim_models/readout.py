"""Column readout: precharge, RC discharge, comparator trip, and time-to-digital conversion.

Timing contract shared by the RTL and this model (one clock, ``clk``, also the TDC time base):

* Evaluation starts at the rising clock edge ``E`` at which the macro raises ``arr_eval``.
  The column capacitor, precharged to V_pre, discharges through the column's series string.
* A column trips at ``t_trip = R_col * C_col * ln(V_pre / V_ref) + t_cmp_delay`` after ``E``.
* Its comparator output ``arr_cmp[c]`` is first seen high by the rising edge ``E + m`` with
  ``m = ceil(t_trip / t_clk)`` (:func:`trip_cycles`), and stays high until the next precharge.
* The TDC code is ``m - D - 1`` with ``D`` = TDC_START_DELAY, clamped to ``0..2**tdc_bits - 1``.
  A column not seen high by edge ``E + D + 2**tdc_bits`` never fired within the window: its code
  saturates at ``2**tdc_bits - 1`` and the overflow flag is raised (:func:`tdc_codes`).

:func:`design_readout` chooses V_ref so that one mismatching cell adds exactly one clock period
to the trip time, and places the ideal trip times in the middle of their TDC bins (through the
comparator delay), so that in ideal mode code = number of mismatching cells exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .device import DeviceError, DeviceParams

__all__ = ["ReadoutParams", "design_readout", "trip_time_ns", "trip_cycles", "tdc_codes"]


@dataclass(frozen=True)
class ReadoutParams:
    """Readout circuit and its timing, in physical units."""

    #: Clock period of the periphery, which is also the TDC least-significant bit.
    t_clk_ns: float
    #: V_ref / V_pre: the comparator trips when the column voltage falls below this fraction.
    v_ref_ratio: float
    #: Comparator (and routing) delay added to every trip time.
    t_cmp_delay_ns: float
    #: Reset value of TDC_START_DELAY: cycles from evaluation start to TDC code 0.
    start_delay_cycles: int

    def __post_init__(self) -> None:
        for name in ("t_clk_ns", "v_ref_ratio", "t_cmp_delay_ns"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise DeviceError(f"{name} must be a finite number, not {v!r}")
        if self.t_clk_ns <= 0:
            raise DeviceError(f"t_clk_ns must be positive, not {self.t_clk_ns!r}")
        if not 0 < self.v_ref_ratio < 1:
            raise DeviceError(f"v_ref_ratio must be between 0 and 1 (exclusive), "
                              f"not {self.v_ref_ratio!r}")
        if self.t_cmp_delay_ns < 0:
            raise DeviceError(f"t_cmp_delay_ns must not be negative, not {self.t_cmp_delay_ns!r}")
        if (isinstance(self.start_delay_cycles, bool) or not isinstance(self.start_delay_cycles, int)
                or not 0 <= self.start_delay_cycles <= 0xFFFF):
            raise DeviceError(f"start_delay_cycles must be an integer in 0..65535, "
                              f"not {self.start_delay_cycles!r}")

    @property
    def log_ratio(self) -> float:
        """ln(V_pre / V_ref): trip time per unit of RC."""
        return math.log(1.0 / self.v_ref_ratio)


def design_readout(rows: int, device: DeviceParams, *, t_clk_ns: float = 5.0) -> ReadoutParams:
    """A readout whose TDC resolves every count of matching cells in a ``rows``-cell column.

    One mismatch step (``delta_r * C_col * ln(V_pre/V_ref)``) equals one clock period, and the
    ideal all-match trip time sits half a period after the start of TDC code 0.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise DeviceError(f"rows must be a positive integer, not {rows!r}")
    if not (isinstance(t_clk_ns, (int, float)) and math.isfinite(t_clk_ns) and t_clk_ns > 0):
        raise DeviceError(f"t_clk_ns must be a positive number, not {t_clk_ns!r}")
    c_col_F = rows * device.c_cell_fF * 1e-15
    log_ratio = t_clk_ns * 1e-9 / (device.delta_r_ohm * c_col_F)
    baseline_cycles = rows * device.r_cell_low_ohm / device.delta_r_ohm
    cmp_delay_cycles = (0.5 - (baseline_cycles % 1.0)) % 1.0
    start_delay = int(math.floor(baseline_cycles + cmp_delay_cycles))
    return ReadoutParams(t_clk_ns=float(t_clk_ns), v_ref_ratio=math.exp(-log_ratio),
                         t_cmp_delay_ns=cmp_delay_cycles * t_clk_ns,
                         start_delay_cycles=start_delay)


def trip_time_ns(r_col_ohm, rows: int, device: DeviceParams, readout: ReadoutParams):
    """Comparator trip time after evaluation start, for column resistance(s) ``r_col_ohm``."""
    c_col_F = rows * device.c_cell_fF * 1e-15
    return np.asarray(r_col_ohm) * c_col_F * readout.log_ratio * 1e9 + readout.t_cmp_delay_ns


def trip_cycles(t_trip_ns, readout: ReadoutParams):
    """Index ``m`` of the first clock edge after evaluation start that sees the comparator high."""
    return np.ceil(np.asarray(t_trip_ns) / readout.t_clk_ns).astype(np.int64)


def tdc_codes(m_trip, *, start_delay_cycles: int, tdc_bits: int):
    """TDC codes and overflow flags for trip edges ``m_trip`` (see the module docstring)."""
    m_trip = np.asarray(m_trip, dtype=np.int64)
    max_code = (1 << tdc_bits) - 1
    raw = m_trip - start_delay_cycles - 1
    overflow = raw > max_code
    return np.clip(raw, 0, max_code), overflow
