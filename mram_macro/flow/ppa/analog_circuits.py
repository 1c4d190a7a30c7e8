"""The analogue circuits behind the energy terms of :mod:`mram_macro.flow.ppa.analog`, and their
assumptions: the columns of a random VMM, its operating point, the precharge, the comparator's
sizing, the write pulse and the energy of a row write.

Operating point of one VMM (random ±1 inputs and weights: the number ``n`` of matching cells of
a column is Binomial(rows, 1/2), independent between columns):

* ``eval_cycles``: clock cycles with ``arr_eval`` high. The read control lowers ``arr_eval`` on
  the edge after every comparator has been captured (slowest trip edge + ``SYNC_STAGES`` + 1) or
  after the TDC window; the column discharges only while ``arr_eval`` is high (the foot switch of
  the string opens when it falls: ``mram_macro/sim/array_pins.py``), so every column discharges
  for the whole ``eval_cycles``, past its own trip, until the last column has been captured.
* ``vmm_cycles``: clock cycles per VMM (precharge + evaluation + one cycle of ``Convert_Done``);
  only leakage depends on it.
* ``bypass_toggles_per_vmm``: toggles of all ``arr_bypass_l/r`` lines (gate-level activity; for
  random inputs ``rows`` on average).

:func:`random_vmm_operating_point` gives the model's values of all three (the PPA report uses the
gate-level simulation's). Every public name here is re-exported by
:mod:`mram_macro.flow.ppa.analog`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import MacroConfig
from mram_macro.rtl.periphery.tdc import SYNC_STAGES
from sim_models.comparator import (
    CMP_GM_OVER_ID_PER_V,
    CMP_MAX_STAGES,
    CMP_SWING_FRACTION,
    CMP_STAGE_LOAD_fF,
    ComparatorDesign,
    size_comparator,
)
from sim_models.device import DeviceParams
from sim_models.interpolator import thermometer
from sim_models.readout import (
    DEFAULT_V_PRE_V,
    ReadoutParams,
    evaluate_fine_trips,
    evaluate_trip_cycles,
)

__all__ = ["ComparatorDesign", "OperatingPoint", "comparator_design", "precharge_energy_J",
           "write_row_energy_J", "write_pulse_ns", "random_vmm_operating_point", "V_CORE_V",
           "V_WRITE_V", "CMP_STAGE_LOAD_fF", "CMP_GM_OVER_ID_PER_V", "CMP_SWING_FRACTION",
           "CMP_MAX_STAGES"]

# -- assumptions, each with its source --------------------------------------------------------
#: The 28 nm core supply: the precharge voltage of sim_models.readout (assumption there) and the
#: supply of the comparators, the bypass-line drivers and the TDC's phase generator and samplers.
V_CORE_V = DEFAULT_V_PRE_V
#: Write voltage across a cell, access transistor included (paper-facts.md: about 1.5 V).
V_WRITE_V = 1.5
# -- validation ---------------------------------------------------------------------------------
def _number(name: str, value, *, positive: bool = True) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and math.isfinite(value) and (value > 0 if positive else value >= 0))
    if not ok:
        kind = "a positive" if positive else "a non-negative"
        raise ValueError(f"{name} must be {kind} number, not {value!r}")
    return float(value)


def _integer(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def _check_models(device, readout) -> None:
    if not isinstance(device, DeviceParams):
        raise ValueError(f"device must be a DeviceParams, not {type(device).__name__}")
    if not isinstance(readout, ReadoutParams):
        raise ValueError(f"readout must be a ReadoutParams, not {type(readout).__name__}")


# -- the columns of a random VMM ---------------------------------------------------------------
@dataclass(frozen=True)
class _Columns:
    """Every possible column of a random VMM: ``n = 0..rows`` matching cells."""

    pmf: np.ndarray          # P(n), Binomial(rows, 1/2)
    r_ohm: np.ndarray        # column resistance
    c_col_F: float           # column capacitance
    m: np.ndarray            # trip edge index (first clock edge that sees the comparator)
    ones: np.ndarray         # interpolator sampler ones at the capture (0 without samplers)

    def mean(self, values) -> float:
        return float(np.dot(self.pmf, values))


def _columns(rows: int, device: DeviceParams, readout: ReadoutParams) -> _Columns:
    n = np.arange(rows + 1)
    pmf = np.array([math.comb(rows, k) for k in n], dtype=np.float64) / 2.0 ** rows
    r_high = device.r_mtj_high_at_temperature_ohm + device.r_bypass_on_ohm
    r_ohm = n * device.r_cell_low_ohm + (rows - n) * r_high
    kwargs = dict(device=device, readout=readout, rows=rows)
    if readout.fine_taps > 1:
        m, residue = evaluate_fine_trips(r_ohm[None, :], **kwargs)
        ones = thermometer(residue[0], np.zeros(readout.fine_taps - 1)).sum(axis=-1)
        m = m[0]
    else:
        m = evaluate_trip_cycles(r_ohm[None, :], **kwargs)[0]
        ones = np.zeros(rows + 1)
    return _Columns(pmf=pmf, r_ohm=r_ohm, c_col_F=readout.c_col_F(rows, device), m=m,
                    ones=ones.astype(np.float64))


@dataclass(frozen=True)
class OperatingPoint:
    """Per-VMM activity the analogue terms depend on (see the module docstring)."""

    eval_cycles: float
    vmm_cycles: float
    bypass_toggles_per_vmm: float


def random_vmm_operating_point(config: MacroConfig, device: DeviceParams,
                               readout: ReadoutParams) -> OperatingPoint:
    """The model's operating point of back-to-back random VMMs (no write, no back-pressure).

    ``arr_eval`` is high for ``min(M, D + max_coarse) + SYNC_STAGES + 1`` cycles, ``M`` the
    largest trip edge index of the ``cols`` columns (mean over its distribution, columns
    independent), ``D`` the start delay, ``max_coarse`` the last coarse code; a VMM takes
    ``precharge_cycles`` more plus one (``Convert_Done``, where the next precharge starts), and
    at least ``out_beats + 1`` (the result serializer's beats per result: ``make bench``
    measured 17.00 cycles for the coarse TDC at 5 ns, 16 beats). Bypass lines: each of the
    ``2 rows`` toggles with probability 1/2.
    """
    _check_config(config)
    _check_models(device, readout)
    cols = _columns(config.rows, device, readout)
    order = np.argsort(cols.m)
    m_sorted = cols.m[order]
    cdf = np.cumsum(cols.pmf[order])
    # P(max <= m) over the distinct m values, then the mean of the maximum.
    last = np.r_[m_sorted[1:] != m_sorted[:-1], True]
    values, cdf_max = m_sorted[last], cdf[last] ** config.cols
    probs = np.diff(np.r_[0.0, cdf_max])
    window_cap = readout.start_delay_cycles + (1 << config.coarse_bits) - 1
    mean_max = float(np.dot(probs, np.minimum(values, window_cap)))
    eval_cycles = mean_max + SYNC_STAGES + 1
    return OperatingPoint(eval_cycles=eval_cycles,
                          vmm_cycles=max(config.precharge_cycles + eval_cycles + 1,
                                         config.out_beats + 1.0),
                          bypass_toggles_per_vmm=float(config.rows))


def _check_config(config) -> None:
    if not isinstance(config, MacroConfig):
        raise ValueError(f"config must be a MacroConfig, not {type(config).__name__}")


# -- precharge ----------------------------------------------------------------------------------
def _precharge_supply_V(readout: ReadoutParams) -> float:
    """V_pre = the core supply: a PMOS switch from it. Below it, a linear regulator on the core
    supply (the same charge at V_core); above it, a supply at V_pre."""
    return max(V_CORE_V, readout.v_pre_V)


def _column_end_V(cols: _Columns, readout: ReadoutParams, t_eval_ns: float) -> np.ndarray:
    return readout.v_pre_V * np.exp(-t_eval_ns * 1e-9 / (cols.r_ohm * cols.c_col_F))


def precharge_energy_J(*, rows: int, cols: int, device: DeviceParams, readout: ReadoutParams,
                       t_eval_ns: float) -> float:
    """Supply energy that restores every column to V_pre after one evaluation of ``t_eval_ns``.

    A column discharges through its string while ``arr_eval`` is high, ``V_end = V_pre
    exp(-t_eval / (R_col C_col))``, and the precharge puts back ``C_col (V_pre - V_end)`` of
    charge from the supply: ``E = cols * mean_n[C_col V_supply (V_pre - V_end(n))]`` with
    ``V_supply`` the core supply (:func:`_precharge_supply_V`; = V_pre by default, a PMOS switch
    from it), ``n`` ~ Binomial(rows, 1/2). Half of it is dissipated in the switch, half stored.
    """
    rows, cols = _integer("rows", rows), _integer("cols", cols)
    _check_models(device, readout)
    t_eval_ns = _number("t_eval_ns", t_eval_ns)
    c = _columns(rows, device, readout)
    swing = readout.v_pre_V - _column_end_V(c, readout, t_eval_ns)
    return cols * c.mean(c.c_col_F * _precharge_supply_V(readout) * swing)


# -- comparator (the model and its sizing: sim_models/comparator.py) ------------------------------
def _slopes_V_per_ns(rows: int, device: DeviceParams, readout: ReadoutParams):
    """Column slope at the trip, ``V_ref / (R_col C_col)``, per column of :func:`_columns`."""
    c = _columns(rows, device, readout)
    return c, readout.v_ref_V / (c.r_ohm * c.c_col_F) * 1e-9


def comparator_design(*, rows: int, device: DeviceParams, readout: ReadoutParams,
                      delay_budget_steps: float = 1.0) -> ComparatorDesign:
    """The cheapest comparator (see :class:`ComparatorDesign`) whose delay at the slowest
    column's slope is ``delay_budget_steps`` TDC steps (``readout.t_fine_ns``: the clock
    period, or one interpolator phase step). The kit sizes its comparators for one step (the
    default); a longer budget needs less bias but spreads the delay over the columns' slopes
    further (:attr:`ComparatorDesign.delay_spread_steps`, which the readout's trip placement
    must absorb; :func:`mram_macro.flow.ppa.analog.comparator_budgets` tabulates the trade).

    Raises:
        ValueError: a ``delay_budget_steps`` that is not a positive number."""
    rows = _integer("rows", rows)
    budget = _number("delay_budget_steps", delay_budget_steps)
    _check_models(device, readout)
    _, slopes = _slopes_V_per_ns(rows, device, readout)
    return size_comparator(step_ns=readout.t_fine_ns, slope_min_V_per_ns=float(slopes.min()),
                           slope_max_V_per_ns=float(slopes.max()), v_supply_V=V_CORE_V,
                           budget_steps=budget)


# -- writes -------------------------------------------------------------------------------------
def write_pulse_ns(*, config: MacroConfig, device: DeviceParams, t_clk_ns: float) -> float:
    """The write pulse that switches: WRITE_PULSE_CYCLES (the configuration's reset value), or
    more if that is shorter than the device's switching time: ``ceil(t_switch / t_clk)``
    cycles."""
    _check_config(config)
    t_clk_ns = _number("t_clk_ns", t_clk_ns)
    switch_cycles = math.ceil(device.t_switch_ns / t_clk_ns - 1e-9)
    return max(config.write_pulse_cycles, switch_cycles) * t_clk_ns


def write_row_energy_J(*, cols: int, device: DeviceParams, pulse_ns: float,
                       c_line_F: float) -> dict[str, float]:
    """Energy of writing one row: the left MTJs, then the right ones (2 pulses of ``pulse_ns``).

    Each MTJ sees V_write across its cell (MTJ + one access transistor): ``I = V_write / R_cell``
    in its present state, 115 µA in P (13 kOhm), 58 µA in AP (26 kOhm). A pulse about as long as
    the switching time keeps a switching MTJ in its initial state most of the pulse, and with
    random old and new weights half the MTJs are in each state: ``E_cells = 2 cols V_write^2
    t_pulse (1/R_low + 1/R_high) / 2``. Each pulse also charges the column's write line to
    V_write: ``E_lines = 2 cols C_line V_write^2`` (upper bound: the whole column line).
    """
    cols = _integer("cols", cols)
    pulse_ns = _number("pulse_ns", pulse_ns)
    c_line_F = _number("c_line_F", c_line_F, positive=False)
    r_high = device.r_mtj_high_at_temperature_ohm + device.r_bypass_on_ohm
    i_p, i_ap = V_WRITE_V / device.r_cell_low_ohm, V_WRITE_V / r_high
    cells = 2 * cols * V_WRITE_V * pulse_ns * 1e-9 * (i_p + i_ap) / 2
    lines = 2 * cols * c_line_F * V_WRITE_V ** 2
    return {"cells": cells, "lines": lines, "i_p_A": i_p, "i_ap_A": i_ap}
