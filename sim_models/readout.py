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
to the trip time, and places the ideal trip times inside their TDC bins (through the comparator
delay, shared with write-verify's single-MTJ read), so that in ideal mode code = number of
mismatching cells exactly.

Non-idealities of the readout (knobs of :class:`~sim_models.device.DeviceParams`):

* The comparator's decision delay depends on how fast the column falls through V_ref
  (:mod:`sim_models.comparator`): with ``comparator_delay_budget_steps`` it is sized for that
  budget and ``t_d(V_trip / (R_col C_col))`` is added to every trip on top of the constant
  ``t_cmp_delay`` (:attr:`ReadoutParams.comparator`); :func:`design_readout` places the trips
  with it. Without it (the default) every column has the constant delay only.

* A comparator offset ``dV`` (static, per column, sampled into the die) and comparator noise
  (drawn per evaluation) shift the effective reference: the column trips when its voltage falls
  below ``V_ref + dV``, so ``t_trip = R_col * C_col * ln(V_pre / (V_ref + dV)) + t_cmp_delay``.
  A column with ``V_ref + dV <= 0`` never trips; one with ``V_ref + dV >= V_pre`` trips at once.
* TDC clock jitter adds a normal time error to ``t_trip``.
* Whatever the time, the comparator is first seen at edge ``E + m`` with ``m >= 1``.

Two-step TDC (``ReadoutParams.fine_taps = K > 1``, see :mod:`sim_models.interpolator`): one
mismatching cell adds one *phase step* ``t_fine = t_clk / K`` instead of one clock period. With
``x = t_trip / t_fine`` and ``u = ceil(x)``, the comparator is first seen at edge
``E + m``, ``m = max(1, ceil(u / K))``; the interpolator's thermometer there counts the phases
``j = 1..K-1`` with ``m K - x >= j`` (``f = m K - u`` when ideal), and the code is
``(m - D - 1) K + (K - 1 - f) = u - D K - 1``: :func:`tdc_codes` with the start delay in phase
steps. Counting and saturation are as above, with ``2**tdc_bits`` codes spanning
``2**tdc_bits / K`` clock periods.

:func:`evaluate_trip_cycles` / :func:`evaluate_codes` are *the* readout of one or many
evaluations; the golden model and the cocotb pin model both call them, so they agree bit for bit.
Per-evaluation randomness is counter based: evaluation ``i`` of a die with noise seed ``s`` always
draws the same numbers (:func:`evaluation_normals`), however the evaluations are batched.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import FINE_TAPS
from sim_models.comparator import ComparatorDesign, size_comparator
from sim_models.device import DeviceError, DeviceParams

__all__ = ["T_CLK_NS", "ReadoutParams", "design_readout", "trip_time_ns", "trip_cycles",
           "design_coarse_readout", "design_readout_for", "CHIP_WINDOW_NS",
           "tdc_codes", "evaluation_normals", "evaluate_trip_cycles", "evaluate_codes",
           "evaluate_fine_trips", "designable_fine_taps",
           "NEVER_TRIPS_CYCLES",
           "DEFAULT_V_PRE_V", "V_REF_MIN_RATIO", "V_REF_MAX_RATIO"]

#: Precharge voltage of the column capacitors (assumption: a 0.9 V core supply in 28 nm).
DEFAULT_V_PRE_V = 0.9

#: Physical range of the comparator reference, as fractions of V_pre (:func:`design_readout`):
#: at least 45 mV at 0.9 V, tens of millivolt-scale comparator offsets away from 0 V, and
#: never so close to V_pre that the column trips within its comparator noise.
V_REF_MIN_RATIO = 0.05
V_REF_MAX_RATIO = 0.9

#: Trip index reported for a comparator that never fires (its reference is at or below 0 V).
NEVER_TRIPS_CYCLES = 1 << 40


#: The clock period (ns) the default readout is designed for: one TDC LSB, and the clock of
#: every RTL simulation (host API, testbenches). Defined here once.
T_CLK_NS = 5.0


@dataclass(frozen=True)
class ReadoutParams:
    """Readout circuit and its timing, in physical units."""

    #: Clock period of the periphery, which is also the TDC least-significant bit.
    t_clk_ns: float
    #: V_ref / V_pre: the comparator trips when the column voltage falls below this fraction.
    v_ref_ratio: float
    #: Comparator (and routing) delay added to every trip time; with a :attr:`comparator`, the
    #: constant part besides its slope-dependent decision delay (it may then be negative, above
    #: :attr:`cmp_delay_floor_ns`: the TDC's time origin later than the evaluation start).
    t_cmp_delay_ns: float
    #: Reset value of TDC_START_DELAY: cycles from evaluation start to TDC code 0.
    start_delay_cycles: int
    #: Precharge voltage; comparator offsets and noise are voltages relative to ``v_ref_V``.
    v_pre_V: float = DEFAULT_V_PRE_V
    #: Load capacitor added to every column beyond its cells' own capacitance (small arrays:
    #: keeps V_ref in a physical range, see :func:`design_readout`).
    c_load_fF: float = 0.0
    #: Interpolator phases per clock period (1: a plain counter TDC; K > 1: a two-step TDC
    #: whose LSB, and one mismatching cell, is ``t_clk / K``).
    fine_taps: int = 1
    #: The comparator whose slope-dependent decision delay is added to every trip
    #: (:mod:`sim_models.comparator`; :func:`design_readout` sizes it for
    #: ``DeviceParams.comparator_delay_budget_steps``); None: every column has only the
    #: constant ``t_cmp_delay_ns``.
    comparator: ComparatorDesign | None = None

    def __post_init__(self) -> None:
        for name in ("t_clk_ns", "v_ref_ratio", "t_cmp_delay_ns", "v_pre_V", "c_load_fF"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise DeviceError(f"{name} must be a finite number, not {v!r}")
        if self.t_clk_ns <= 0:
            raise DeviceError(f"t_clk_ns must be positive, not {self.t_clk_ns!r}")
        if not 0 < self.v_ref_ratio < 1:
            raise DeviceError(f"v_ref_ratio must be between 0 and 1 (exclusive), "
                              f"not {self.v_ref_ratio!r}")
        if self.v_pre_V <= 0:
            raise DeviceError(f"v_pre_V must be positive, not {self.v_pre_V!r}")
        if self.c_load_fF < 0:
            raise DeviceError(f"c_load_fF must not be negative, not {self.c_load_fF!r}")
        if self.comparator is not None and not isinstance(self.comparator, ComparatorDesign):
            raise DeviceError(f"comparator must be a ComparatorDesign or None, "
                              f"not {type(self.comparator).__name__}")
        if self.comparator is None:
            if self.t_cmp_delay_ns < 0:
                raise DeviceError(f"t_cmp_delay_ns must not be negative, "
                                  f"not {self.t_cmp_delay_ns!r}")
        elif self.t_cmp_delay_ns <= -self.cmp_delay_floor_ns:
            raise DeviceError(f"t_cmp_delay_ns ({self.t_cmp_delay_ns!r}) must exceed "
                              f"{-self.cmp_delay_floor_ns:.4g} ns: with the comparator's fastest "
                              f"decision it may go at most one TDC step below 0")
        taps = self.fine_taps
        if isinstance(taps, bool) or not isinstance(taps, int) or not 1 <= taps <= 1024:
            raise DeviceError(f"fine_taps must be an integer in 1..1024, not {taps!r}")
        delay = self.start_delay_cycles
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 0xFFFF:
            raise DeviceError(f"start_delay_cycles must be an integer in 0..65535, "
                              f"not {self.start_delay_cycles!r}")

    @property
    def cmp_delay_floor_ns(self) -> float:
        """With a :attr:`comparator`: the fastest decision plus one TDC step, the most the
        constant delay may go below 0 (the TDC's origin at most a step after the fastest
        column's decision; :func:`design_readout` stays above it). 0 without one."""
        if self.comparator is None:
            return 0.0
        return (float(self.comparator.delay_ns(self.comparator.slope_max_V_per_ns))
                + self.t_clk_ns / self.fine_taps)

    def c_col_F(self, rows: int, device: DeviceParams) -> float:
        """Column capacitance: ``rows`` cells of ``device`` plus the load capacitor."""
        return (rows * device.c_cell_fF + self.c_load_fF) * 1e-15

    @property
    def t_fine_ns(self) -> float:
        """The TDC's least-significant bit: the clock period, or one interpolator phase step."""
        return self.t_clk_ns / self.fine_taps

    @property
    def start_delay_lsb(self) -> int:
        """The start delay in TDC LSBs (``start_delay_cycles * fine_taps``)."""
        return self.start_delay_cycles * self.fine_taps

    @property
    def log_ratio(self) -> float:
        """ln(V_pre / V_ref): trip time per unit of RC."""
        return math.log(1.0 / self.v_ref_ratio)

    @property
    def v_ref_V(self) -> float:
        """Comparator reference voltage."""
        return self.v_ref_ratio * self.v_pre_V

    def decision_delay_ns(self, r_col_ohm, c_col_F: float, v_trip_V=None):
        """The comparator's decision delay after the crossing (0 without a :attr:`comparator`)
        for columns of ``r_col_ohm`` falling through ``v_trip_V`` (default V_ref): the ramp's
        slope there is ``v_trip / (R_col C_col)``."""
        if self.comparator is None:
            return np.zeros(np.shape(r_col_ohm))
        return self.comparator.column_delay_ns(
            r_col_ohm, c_col_F, self.v_ref_V if v_trip_V is None else v_trip_V)

    def log_ratio_with_offset(self, dv_V):
        """``ln(V_pre / (V_ref + dV))`` per element of ``dv_V``: ``inf`` where the comparator
        never trips (``V_ref + dV <= 0``), 0 where it trips at once (``V_ref + dV >= V_pre``)."""
        v_eff = self.v_ref_V + np.asarray(dv_V, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(self.v_pre_V / v_eff)
        log_ratio = np.where(v_eff <= 0, np.inf, log_ratio)
        return np.maximum(log_ratio, 0.0)


#: Spread of the paper's cells, used only to balance the single-MTJ read's two margins.
_SINGLE_READ_HIGH_SHARE = 2.0 / (1.6 + 2.0)
#: The VMM trip times must stay at least this far (in TDC LSBs: clock periods, or phase steps of
#: a two-step TDC) from a bin edge, so that ideal mode is exact with room to spare.
#:
#: One value for both TDCs. A two-step TDC once kept its VMM trips 0.35 step from the phase
#: edges, against uncalibrated phase skew; but the write-verify single-MTJ read is a two-step
#: read on the same phase grid, and that constraint left its decision edge 0.34 step (2.2 paper
#: sigmas) from a high MTJ's nominal trip: 1.4 % of the cells of every paper-spread die were
#: reported as write failures although they held the right weight (issue 22). With this margin
#: the single read gets the counter's 3.6-sigma margins; a common phase skew is removed by the
#: code-density FINE_TABLE at the designed trip residue (``make bench``, two-step section).
_MIN_VMM_MARGIN = 0.1


def _comparator_delay_cycles(rows: int, device: DeviceParams,
                             min_vmm_margin: float = _MIN_VMM_MARGIN, *,
                             vmm_extra=0.0, single_extra=(0.0, 0.0)) -> float:
    """Comparator delay (in clock periods) placing the trip times within their clock periods.

    Two reads share it. A VMM trip lands at ``b_vmm + k + delay`` periods; its code is exact as
    long as that is not on a clock edge. A write-verify single-MTJ read (one MTJ plus
    ``2*rows - 1`` bypass transistors) lands at ``b_single + delay`` (low) or one period later
    (high), and is decided at the clock edge in between: its margins are the fraction ``f`` of
    the low trip within its period (for the high state) and ``1 - f`` (for the low state). The
    delay maximises the single read's worse margin, weighted by the paper's spread of each state,
    while keeping every VMM trip at least ``min_vmm_margin`` from an edge.

    ``vmm_extra`` (per count ``k = 0..rows`` of mismatching cells, or one number) and
    ``single_extra`` (low, high) add the comparator's slope-dependent decision delay to those
    trips, in the same units (:class:`~sim_models.comparator.ComparatorDesign`): every VMM count
    must then keep the margin, and the single read's margins are measured between its two
    delayed trips. Raises DeviceError if no delay keeps every VMM count inside its period.
    """
    step = device.delta_r_ohm
    b_vmm = rows * device.r_cell_low_ohm / step + np.arange(rows + 1) \
        + np.broadcast_to(np.asarray(vmm_extra, dtype=np.float64), (rows + 1,))
    b_single = ((2 * rows - 1) * device.r_bypass_on_ohm + device.r_mtj_low_ohm) / step
    e_low, e_high = single_extra
    best, best_score = None, -1.0
    for i in range(200):
        delay = i / 200
        a = (b_vmm + delay) % 1.0
        if not (min_vmm_margin <= a.min() and a.max() <= 1 - min_vmm_margin):
            continue
        low = b_single + delay + e_low
        f = low % 1.0
        margin_low, margin_high = 1 - f, f + (e_high - e_low)
        score = min(margin_high / _SINGLE_READ_HIGH_SHARE,
                    margin_low / (1 - _SINGLE_READ_HIGH_SHARE))
        score -= 1e-6 * abs(a.mean() - 0.5)       # ties: the VMM trips nearest mid-period
        if score > best_score:
            best, best_score = delay, score
    if best is None:
        spread = float(np.ptp(b_vmm))
        raise DeviceError(f"the comparator's decision delay spreads the VMM trips over "
                          f"{spread:.2f} TDC step, more than the {1 - 2 * min_vmm_margin:.2f} "
                          f"step a bin leaves between its margins: size it for a shorter "
                          f"delay (a smaller comparator_delay_budget_steps)")
    return best


def design_readout(rows: int, device: DeviceParams, *, t_clk_ns: float = T_CLK_NS,
                   v_pre_V: float = DEFAULT_V_PRE_V, fine_taps: int = 1) -> ReadoutParams:
    """A readout whose TDC resolves every count of matching cells in a ``rows``-cell column.

    One mismatch step (``delta_r * C_col * ln(V_pre/V_ref)``) equals one TDC LSB: one clock
    period, or with a two-step TDC (``fine_taps = K > 1``) one interpolator phase step
    ``t_clk / K``; everything below is then in phase steps, and the comparator delay gains
    whole steps so that code 0 begins on a clock edge (``start_delay_cycles * K`` steps). The
    comparator delay places the ideal VMM trip times inside their clock periods (so ideal mode is
    exact) and centres the write-verify single-MTJ read between its two states
    (:func:`_comparator_delay_cycles`); the start delay removes the all-low baseline.

    ``device.comparator_delay_budget_steps``: the comparator (:mod:`sim_models.comparator`) is
    sized so that its decision delay at the slowest column's slope is that many TDC steps, and
    its slope-dependent delay is part of every trip (:attr:`ReadoutParams.comparator`); the
    placement keeps every count's delayed trip inside its bin, and the constant part of the
    delay may then be negative, with the fastest decision by less than one step (the TDC's
    origin after the evaluation start, :attr:`ReadoutParams.cmp_delay_floor_ns`). Two-step TDCs
    only: a counter TDC's step is a whole clock period, and a comparator sized for two of them
    would still be deciding when the read control's enable (``arr_tdc_en``, one period before
    code 0) has long passed the first crossing; a counter readout keeps the constant delay.
    None: every column has the same constant delay.

    V_ref stays in a physical range, ``V_REF_MIN_RATIO .. V_REF_MAX_RATIO`` of V_pre. A short
    column has too little capacitance: one step per clock would need V_ref = 1e-10 V_pre at 8
    rows (the 2.1 fF cells of the paper), where a millivolt of comparator offset stops the
    column from ever tripping. Such a column gets a load capacitor ``c_load_fF`` that brings
    V_ref up to ``V_REF_MIN_RATIO`` (with the default device: 64 rows and more need none). The
    ideal trip times, in clock periods, do not depend on it.

    Raises:
        DeviceError: bad arguments, or a column so large (``delta_r * C_col`` far above
            ``t_clk``) that V_ref would exceed ``V_REF_MAX_RATIO`` of V_pre; the message names
            what to change.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise DeviceError(f"rows must be a positive integer, not {rows!r}")
    if not (isinstance(t_clk_ns, (int, float)) and math.isfinite(t_clk_ns) and t_clk_ns > 0):
        raise DeviceError(f"t_clk_ns must be a positive number, not {t_clk_ns!r}")
    if isinstance(fine_taps, bool) or not isinstance(fine_taps, int) or fine_taps < 1:
        raise DeviceError(f"fine_taps must be a positive integer, not {fine_taps!r}")
    t_lsb_ns = t_clk_ns / fine_taps
    c_cells_F = rows * device.c_cell_fF * 1e-15
    # ln(V_pre/V_ref) = t_lsb / (delta_r * C_col); a floor on V_ref is a floor on C_col.
    c_min_F = t_lsb_ns * 1e-9 / (device.delta_r_ohm * math.log(1 / V_REF_MIN_RATIO))
    c_col_F = max(c_cells_F, c_min_F)
    log_ratio = t_lsb_ns * 1e-9 / (device.delta_r_ohm * c_col_F)
    if math.exp(-log_ratio) > V_REF_MAX_RATIO:
        per = (f"{t_clk_ns:g} ns clock period" if fine_taps == 1 else
               f"{t_lsb_ns:g} ns phase step ({t_clk_ns:g} ns clock / {fine_taps} taps)")
        fix = ("use fewer rows or a shorter clock period" if fine_taps == 1 else
               "use fewer rows, fewer taps or a longer clock period")
        raise DeviceError(
            f"a {rows}-row column ({c_cells_F * 1e15:.0f} fF, delta_r {device.delta_r_ohm:g} "
            f"ohm) needs V_ref = {math.exp(-log_ratio):.3f} V_pre for one mismatch step per "
            f"{per}, above {V_REF_MAX_RATIO} V_pre where comparator noise decides the code; "
            f"{fix}")
    baseline_lsb = rows * device.r_cell_low_ohm / device.delta_r_ohm
    comparator, vmm_extra, single_extra = None, np.zeros(rows + 1), (0.0, 0.0)
    if device.comparator_delay_budget_steps is not None and fine_taps > 1:
        v_ref_V = math.exp(-log_ratio) * v_pre_V
        r_vmm = rows * device.r_cell_low_ohm + np.arange(rows + 1) * device.delta_r_ohm
        try:
            comparator = size_comparator(
                step_ns=t_lsb_ns, slope_min_V_per_ns=v_ref_V / (r_vmm[-1] * c_col_F) * 1e-9,
                slope_max_V_per_ns=v_ref_V / (r_vmm[0] * c_col_F) * 1e-9, v_supply_V=v_pre_V,
                budget_steps=device.comparator_delay_budget_steps)
        except ValueError as exc:
            raise DeviceError(f"comparator_delay_budget_steps: {exc}") from None
        r_single = (2 * rows - 1) * device.r_bypass_on_ohm + device.r_mtj_low_ohm
        vmm_extra, single_extra = (
            comparator.column_delay_ns(r, c_col_F, v_ref_V) / t_lsb_ns
            for r in (r_vmm, np.array([r_single, r_single + device.delta_r_ohm])))
        single_extra = tuple(single_extra)
    cmp_delay_lsb = _comparator_delay_cycles(rows, device, vmm_extra=vmm_extra,
                                             single_extra=single_extra)
    # The start delay as without the comparator's delay: its enable (arr_tdc_en, one cycle
    # before code 0) keeps its distance to the first crossing.
    start_delay = -(-math.floor(baseline_lsb + cmp_delay_lsb) // fine_taps)
    first_lsb = math.floor(baseline_lsb + cmp_delay_lsb + vmm_extra[0])
    # whole steps: code 0 begins on a clock edge. With a comparator this may take the
    # constant below 0, the total (constant + fastest decision) by less than one step.
    cmp_delay_lsb += start_delay * fine_taps - first_lsb
    return ReadoutParams(t_clk_ns=float(t_clk_ns), v_ref_ratio=math.exp(-log_ratio),
                         t_cmp_delay_ns=cmp_delay_lsb * t_lsb_ns,
                         start_delay_cycles=start_delay, v_pre_V=v_pre_V,
                         c_load_fF=(c_col_F - c_cells_F) * 1e15, fine_taps=fine_taps,
                         comparator=comparator)


@functools.cache
def designable_fine_taps(rows: int, device: DeviceParams | None = None, *,
                         t_clk_ns: float = T_CLK_NS) -> tuple[int, ...]:
    """The ``tdc_fine_taps`` (of :data:`mram_macro.design.config.FINE_TAPS`) whose phase step
    :func:`design_readout` can give one mismatching cell of a ``rows``-cell column at
    ``t_clk_ns`` with ``device`` (default: the nominal :class:`DeviceParams`). A shorter step
    needs V_ref too close to V_pre, so the set is every value up to a limit that falls with
    ``rows``; :data:`mram_macro.design.config.FINE_TAPS_MAX_ROWS` holds those limits for the
    defaults."""
    device = device or DeviceParams()
    ok = []
    for taps in FINE_TAPS:
        try:
            design_readout(rows, device, fine_taps=taps, t_clk_ns=t_clk_ns)
        except DeviceError:
            break
        ok.append(taps)
    return tuple(ok)


#: The chip's column readout time, first to last trip (paper-facts.md: about 13-29 ns).
CHIP_WINDOW_NS = (13.0, 29.0)
_COARSE_END_MARGIN = 1e-3


def design_coarse_readout(rows: int, device: DeviceParams, *, t_clk_ns: float = T_CLK_NS,
                          window_ns: tuple[float, float] = CHIP_WINDOW_NS,
                          v_pre_V: float = DEFAULT_V_PRE_V) -> ReadoutParams:
    """The chip's readout (``tdc_mode="coarse"``): every trip inside ``window_ns``.

    The discharge is not stretched to one clock period per count: V_ref is chosen so that the
    slowest column (every cell mismatching, ``rows * R_high``) trips at the window's end, and
    the fastest (every cell matching, ``rows * R_low``, half as long) at about 0.5 of it, i.e.
    14.5-29 ns with the paper's window. The comparator delay is 0.

    Assumption (the chip's TDC circuit is not public): the code counts periods of the one
    periphery clock ``t_clk_ns``, from TDC_START_DELAY on, as in ``counter`` mode. The start
    delay puts the all-match trip into code 0. The window then holds
    ``ceil(span / t_clk)`` codes and ``rows * t_clk / span`` counts share a code: about 22 at
    a 5 ns clock (codes 0..3 of 4 bits), 9 at 2 ns, 4.4 at 1 ns (codes 0..14, the chip's 4-bit
    resolution, which suggests a TDC clock or delay line near 1 GHz on the chip). Codes above
    the last used one are reached only by slow (spread, hot) columns; the all-ones code is the
    saturation code, as in ``counter`` mode.

    Physical range: V_ref stays within ``V_REF_MIN_RATIO .. V_REF_MAX_RATIO`` of V_pre. A long
    column (large RC) would need V_ref above ``V_REF_MAX_RATIO``: its window is stretched
    instead (V_ref at the maximum). A short one gets a load capacitor (as
    :func:`design_readout`).

    Raises:
        DeviceError: bad arguments.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise DeviceError(f"rows must be a positive integer, not {rows!r}")
    if not (isinstance(t_clk_ns, (int, float)) and math.isfinite(t_clk_ns) and t_clk_ns > 0):
        raise DeviceError(f"t_clk_ns must be a positive number, not {t_clk_ns!r}")
    try:
        lo_ns, hi_ns = (float(v) for v in window_ns)
    except (TypeError, ValueError):
        raise DeviceError(f"window_ns must be two numbers (first, last trip in ns), "
                          f"not {window_ns!r}") from None
    if not (math.isfinite(lo_ns) and math.isfinite(hi_ns) and 0 < lo_ns < hi_ns):
        raise DeviceError(f"window_ns must satisfy 0 < first < last, not {window_ns!r}")
    r_max_ohm = rows * device.r_cell_high_ohm
    c_cells_F = rows * device.c_cell_fF * 1e-15
    log_min, log_max = math.log(1 / V_REF_MAX_RATIO), math.log(1 / V_REF_MIN_RATIO)
    # Just inside the window's end (by 0.1 %), so that no ideal trip falls on a clock edge.
    hi_ns *= 1 - _COARSE_END_MARGIN
    log_ratio = hi_ns * 1e-9 / (r_max_ohm * c_cells_F)
    c_col_F = c_cells_F
    if log_ratio < log_min:            # long column: V_ref at its maximum, window stretched
        log_ratio = log_min
    elif log_ratio > log_max:          # short column: load capacitor, V_ref at its minimum
        log_ratio = log_max
        c_col_F = hi_ns * 1e-9 / (r_max_ohm * log_max)
    t_fast_ns = rows * device.r_cell_low_ohm * c_col_F * log_ratio * 1e9
    start_delay = max(0, math.ceil(t_fast_ns / t_clk_ns) - 1)
    return ReadoutParams(t_clk_ns=float(t_clk_ns), v_ref_ratio=math.exp(-log_ratio),
                         t_cmp_delay_ns=0.0, start_delay_cycles=min(start_delay, 0xFFFF),
                         v_pre_V=v_pre_V, c_load_fF=(c_col_F - c_cells_F) * 1e15)


def design_readout_for(config, device: DeviceParams, *,
                       t_clk_ns: float = T_CLK_NS) -> ReadoutParams:
    """The readout a macro configuration is built with: its TDC mode's readout design
    (``config.mode.design_readout``, :meth:`mram_macro.design.modes.TdcMode.design_readout`:
    :func:`design_coarse_readout` for the coarse mode's code -> value table, else
    :func:`design_readout` with the mode's phases per clock period). An object without a
    ``mode`` (any object with ``rows``) gets the counter's :func:`design_readout`. The physics
    reaches the mode only through the configuration's attribute: it imports no mode object."""
    mode = getattr(config, "mode", None)
    if mode is not None:
        return mode.design_readout(config, device, t_clk_ns=t_clk_ns)
    return design_readout(config.rows, device, t_clk_ns=t_clk_ns,
                          fine_taps=getattr(config, "fine_taps", 1))


def trip_time_ns(r_col_ohm, rows: int, device: DeviceParams, readout: ReadoutParams):
    """Comparator trip time after evaluation start, for column resistance(s) ``r_col_ohm``."""
    c_col_F = readout.c_col_F(rows, device)
    r = np.asarray(r_col_ohm)
    t_ns = r * c_col_F * readout.log_ratio * 1e9 + readout.t_cmp_delay_ns
    if readout.comparator is not None:
        t_ns = t_ns + readout.decision_delay_ns(r, c_col_F)
    return t_ns


def trip_cycles(t_trip_ns, readout: ReadoutParams):
    """Index ``m`` of the first clock edge after evaluation start that sees the comparator high."""
    return np.ceil(np.asarray(t_trip_ns) / readout.t_clk_ns).astype(np.int64)


def tdc_codes(m_trip, *, start_delay_cycles: int, tdc_bits: int, fine_taps: int = 1):
    """TDC codes and overflow flags for trip indices ``m_trip`` (see the module docstring):
    clock edges, or with a two-step TDC (``fine_taps = K``) phase steps ``u``, the start delay
    then counting ``K`` steps per cycle."""
    m_trip = np.asarray(m_trip, dtype=np.int64)
    max_code = (1 << tdc_bits) - 1
    raw = m_trip - start_delay_cycles * fine_taps - 1
    overflow = raw > max_code
    return np.clip(raw, 0, max_code), overflow


def _check_noise_seed(noise_seed) -> int:
    if (isinstance(noise_seed, bool) or not isinstance(noise_seed, (int, np.integer))
            or not 0 <= noise_seed < 1 << 128):
        raise DeviceError(f"noise_seed must be an integer in 0..2**128-1, not {noise_seed!r}")
    return int(noise_seed)


def evaluation_normals(noise_seed: int, first_evaluation: int, count: int,
                       n_per_evaluation: int) -> np.ndarray:
    """Standard normals for evaluations ``first_evaluation .. first_evaluation + count - 1``.

    Counter based: a Philox generator keyed by ``noise_seed``, with each evaluation owning a
    fixed block of counter values, turned into normals by Box-Muller. Row ``k`` depends only on
    ``(noise_seed, first_evaluation + k, n_per_evaluation)``, so one batch and many single
    evaluations give the same numbers. Shape ``(count, n_per_evaluation)``.
    """
    seed = _check_noise_seed(noise_seed)
    if isinstance(first_evaluation, bool) or not isinstance(first_evaluation, (int, np.integer)) \
            or first_evaluation < 0:
        raise DeviceError(f"first_evaluation must be a non-negative integer, "
                          f"not {first_evaluation!r}")
    half = -(-n_per_evaluation // 2)
    blocks = -(-2 * half // 4)                     # Philox4x64 yields 4 words per counter step
    gen = np.random.Philox(key=seed, counter=int(first_evaluation) * blocks)
    words = gen.random_raw(count * 4 * blocks).reshape(count, 4 * blocks)
    u = (words[:, :2 * half] >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    radius = np.sqrt(-2.0 * np.log1p(-u[:, :half]))     # 1 - u is in (0, 1]
    angle = (2.0 * math.pi) * u[:, half:]
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)[
        :, :n_per_evaluation]


def _trip_times_ns(r_col_ohm, *, device: DeviceParams, readout: ReadoutParams, rows: int,
                         comparator_offset_V=None, noise_seed: int | None = None,
                         first_evaluation: int = 0):
    """Trip times (ns) of :func:`evaluate_trip_cycles`, ``(batch, cols)``; inf or nan
    where a comparator never trips."""
    r = np.asarray(r_col_ohm, dtype=np.float64)
    if r.ndim == 1:
        r = r[None, :]
    if r.ndim != 2:
        raise DeviceError(f"r_col_ohm must be (cols,) or (batch, cols), not shape {r.shape}")
    batch, cols = r.shape
    offset = None
    if comparator_offset_V is not None:
        offset = np.asarray(comparator_offset_V, dtype=np.float64)
        if offset.shape != (cols,):
            raise DeviceError(f"comparator_offset_V must have shape ({cols},), "
                              f"not {offset.shape}")
        if not offset.any():
            offset = None
    noisy = device.has_evaluation_noise
    if offset is None and not noisy:
        t_ns = trip_time_ns(r, rows, device, readout)   # the ideal-mode formula, unchanged
    else:
        dv = np.zeros((batch, cols)) if offset is None else np.broadcast_to(offset, (batch, cols))
        jitter_ns = 0.0
        if noisy:
            if noise_seed is None:
                raise DeviceError("comparator noise or TDC jitter is on: evaluate_trip_cycles "
                                  "needs the die's noise_seed")
            z = evaluation_normals(noise_seed, first_evaluation, batch, 2 * cols)
            dv = dv + device.comparator_noise_rms_V * z[:, :cols]
            jitter_ns = device.tdc_jitter_rms_ns * z[:, cols:]
        c_col_F = readout.c_col_F(rows, device)
        t_ns = r * c_col_F * readout.log_ratio_with_offset(dv) * 1e9 + readout.t_cmp_delay_ns
        if readout.comparator is not None:
            t_ns = t_ns + readout.decision_delay_ns(r, c_col_F, readout.v_ref_V + dv)
        t_ns = t_ns + jitter_ns
    return t_ns


def evaluate_trip_cycles(r_col_ohm, *, device: DeviceParams, readout: ReadoutParams, rows: int,
                         comparator_offset_V=None, noise_seed: int | None = None,
                         first_evaluation: int = 0):
    """Trip edge index ``m`` (>= 1) of every column for one or many evaluations.

    ``r_col_ohm`` is ``(cols,)`` (one evaluation, number ``first_evaluation``) or
    ``(batch, cols)`` (evaluations ``first_evaluation + k``). ``comparator_offset_V`` is the
    die's static per-column offset (``(cols,)``, None = 0). Comparator noise and TDC jitter
    (``device.comparator_noise_rms_V``, ``device.tdc_jitter_rms_ns``) are drawn from
    :func:`evaluation_normals` with ``noise_seed``: the first ``cols`` normals of an evaluation
    are the comparator noise, the next ``cols`` the jitter. Columns that never trip get
    :data:`NEVER_TRIPS_CYCLES`.
    """
    single = np.ndim(r_col_ohm) == 1
    t_ns = _trip_times_ns(r_col_ohm, device=device, readout=readout, rows=rows,
                          comparator_offset_V=comparator_offset_V, noise_seed=noise_seed,
                          first_evaluation=first_evaluation)
    cycles = t_ns / readout.t_clk_ns
    never = ~(cycles < NEVER_TRIPS_CYCLES)             # also catches inf and nan
    m = np.ceil(np.where(never, 0.0, cycles)).astype(np.int64)
    np.maximum(m, 1, out=m)
    m[never] = NEVER_TRIPS_CYCLES
    return m[0] if single else m


def evaluate_fine_trips(r_col_ohm, *, device: DeviceParams, readout: ReadoutParams, rows: int,
                        comparator_offset_V=None, noise_seed: int | None = None,
                        first_evaluation: int = 0):
    """Two-step view of the trips of :func:`evaluate_trip_cycles` (same arguments):
    ``(m, residue)`` with ``m`` the clock edge that first sees each comparator (>= 1,
    :data:`NEVER_TRIPS_CYCLES` if never) and ``residue = m K - t_trip / t_fine`` the time in
    phase steps from the trip to that edge, which the interpolator's thermometer encodes
    (:func:`sim_models.interpolator.thermometer`; 0 where the comparator never trips).

    ``m`` is derived from ``u = ceil(t_trip / t_fine)`` as ``max(1, ceil(u / K))`` in integer
    arithmetic, so that the ideal thermometer count ``m K - u`` and the code ``u - D K - 1`` of
    :func:`tdc_codes` agree exactly.
    """
    single = np.ndim(r_col_ohm) == 1
    t_ns = _trip_times_ns(r_col_ohm, device=device, readout=readout, rows=rows,
                          comparator_offset_V=comparator_offset_V, noise_seed=noise_seed,
                          first_evaluation=first_evaluation)
    taps = readout.fine_taps
    x = t_ns / readout.t_fine_ns
    never = ~(x < NEVER_TRIPS_CYCLES)
    x = np.where(never, 0.0, x)
    u = np.ceil(x).astype(np.int64)
    m = np.maximum(-(-u // taps), 1)
    residue = np.where(never, 0.0, m * taps - x)
    m[never] = NEVER_TRIPS_CYCLES
    return (m[0], residue[0]) if single else (m, residue)


def evaluate_codes(r_col_ohm, *, device: DeviceParams, readout: ReadoutParams, rows: int,
                   tdc_bits: int, start_delay_cycles: int, comparator_offset_V=None,
                   noise_seed: int | None = None, first_evaluation: int = 0,
                   phase_errors_lsb=None, fine_table=None):
    """TDC codes and overflow flags of one or many evaluations (see
    :func:`evaluate_trip_cycles` for the arguments, :func:`tdc_codes` for the code).

    With a two-step TDC (``readout.fine_taps > 1``) the trips go through the interpolator
    (:func:`evaluate_fine_trips`, :func:`sim_models.interpolator.thermometer` with the static
    ``phase_errors_lsb``, default ideal) and the periphery's combination
    (:func:`sim_models.interpolator.two_step_codes` with ``fine_table``, default ideal).
    """
    kwargs = dict(device=device, readout=readout, rows=rows,
                  comparator_offset_V=comparator_offset_V, noise_seed=noise_seed,
                  first_evaluation=first_evaluation)
    if readout.fine_taps == 1:
        return tdc_codes(evaluate_trip_cycles(r_col_ohm, **kwargs),
                         start_delay_cycles=start_delay_cycles, tdc_bits=tdc_bits)
    from sim_models.interpolator import thermometer, two_step_codes

    taps = readout.fine_taps
    m, residue = evaluate_fine_trips(r_col_ohm, **kwargs)
    errors = np.zeros(taps - 1) if phase_errors_lsb is None else phase_errors_lsb
    return two_step_codes(m, thermometer(residue, errors), start_delay_cycles=start_delay_cycles,
                          tdc_bits=tdc_bits, fine_taps=taps, fine_table=fine_table)
