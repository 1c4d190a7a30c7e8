"""Device parameters of the STT-MRAM cell and its analogue periphery, with units in every name.

Cell topology (an assumption; the paper does not publish the circuit): each logical cell is two
MTJs in series, the *left* MTJ holding the weight W and the *right* MTJ its complement W-bar.
Each MTJ has a bypass transistor in parallel. During a VMM the input bit turns on exactly one
bypass, so one MTJ stays in the column's series string. A cell's resistance in that mode is
``R_mtj + R_bypass_on``; the paper's measured cell resistances (13 kOhm / 26 kOhm) include that
transistor, so ``r_cell_low_ohm`` and ``r_cell_high_ohm`` are the cell values and the MTJ values
are derived by subtracting ``r_bypass_on_ohm``.

``DeviceParams()`` is the *ideal* device: no spread, no stuck cells, no comparator offset or
noise, no TDC jitter, deterministic writes, operation at the reference temperature. In that mode
the macro's result equals the exact signed dot product. ``DeviceParams.paper()`` adds the
paper's measured cell-to-cell spread (1.6 kOhm low, 2.0 kOhm high) and nothing else; every other
non-ideality is switched on by its own knob. The table of knobs, defaults and sources is in
``docs/device_model.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

__all__ = ["DeviceParams", "DeviceError", "PAPER_SIGMA_LOW_OHM", "PAPER_SIGMA_HIGH_OHM",
           "WRITE_MODELS"]

#: Cell-to-cell spread measured over 8,192 cells (paper-facts.md, confidence M).
PAPER_SIGMA_LOW_OHM = 1.6e3
PAPER_SIGMA_HIGH_OHM = 2.0e3

#: ``write_model`` values: a pulse of at least ``t_switch_ns`` always switches
#: ("deterministic"), or switching is a thermally activated random event ("thermal").
WRITE_MODELS = ("deterministic", "thermal")

_ABSOLUTE_ZERO_C = -273.15


class DeviceError(ValueError):
    """An invalid device parameter; the message names it and the legal range."""


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DeviceError(f"{name} must be a finite number, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class DeviceParams:
    """Nominal resistances, spread, faults, temperature, readout noise and write physics.

    Resistances are specified at ``temperature_ref_C``. Defaults are the paper's values with
    every non-ideality off (ideal mode); ``DeviceParams.paper()`` adds the measured spread.
    """

    # -- resistances and capacitance (paper) ----------------------------------------------------
    #: Cell resistance with its MTJ in the low (parallel) state, bypass transistor included.
    r_cell_low_ohm: float = 13e3
    #: Cell resistance with its MTJ in the high (antiparallel) state, bypass transistor included.
    r_cell_high_ohm: float = 26e3
    #: Standard deviation of a cell's low / high resistance (0 = ideal; paper: 1.6k / 2.0k).
    sigma_low_ohm: float = 0.0
    sigma_high_ohm: float = 0.0
    #: On-resistance of a bypass transistor (assumption: not published).
    r_bypass_on_ohm: float = 1e3
    #: Column capacitance contributed by each cell (paper: about 2.1 fF per cell).
    c_cell_fF: float = 2.1
    #: Shortest write pulse that switches an MTJ when ``write_model="deterministic"``.
    t_switch_ns: float = 10.0

    # -- manufacturing faults (per MTJ, sampled into a die) -------------------------------------
    #: Probability that an MTJ is stuck in the low state (ignores every write).
    p_stuck_low: float = 0.0
    #: Probability that an MTJ is stuck in the high state.
    p_stuck_high: float = 0.0

    # -- temperature (assumption: the MTJ's TMR falls linearly with temperature) ----------------
    #: Operating temperature.
    temperature_C: float = 25.0
    #: Temperature at which the resistances above are specified.
    temperature_ref_C: float = 25.0
    #: Relative fall of the MTJ's TMR per kelvin above ``temperature_ref_C``:
    #: ``TMR(T) = TMR_ref * (1 - k * (T - T_ref))``. The low (parallel) state is taken as
    #: temperature independent. 0.002/K is an assumption typical of MgO MTJs near room
    #: temperature (not from the paper).
    tmr_temp_coeff_per_K: float = 0.002

    # -- comparator and TDC (assumptions, not published) ----------------------------------------
    #: Standard deviation of each column comparator's static input offset (sampled per die).
    comparator_offset_sigma_V: float = 0.0
    #: RMS of the comparator's input-referred noise, drawn anew for every evaluation.
    comparator_noise_rms_V: float = 0.0
    #: RMS of the time error of a trip as seen by the TDC (clock jitter), per evaluation.
    tdc_jitter_rms_ns: float = 0.0
    #: Two-step TDC: standard deviation of each interpolator phase's static timing error
    #: (phase mismatch of the multi-phase sampler, sampled per die; ``tdc_mode="two_step"``).
    tdc_phase_sigma_ps: float = 0.0
    #: Two-step TDC: common static skew of the interpolator phases against the coarse clock
    #: edge (positive: every phase samples later than its nominal time).
    tdc_phase_skew_ps: float = 0.0
    #: The comparators' decision delay at the slowest column's slope, in TDC steps: they are
    #: sized for it (:mod:`sim_models.comparator`) and their slope-dependent delay is part of
    #: every trip, which the readout design places (:func:`sim_models.readout.design_readout`).
    #: 2 steps spread the trips by 0.26 step and cost 17 pJ per VMM at 64x64 (one step: 0.13
    #: and 40 pJ); ``python -m mram_macro.flow.ppa comparators`` measures the trade. Two-step
    #: TDCs only (a counter's step is a clock period; it keeps the constant delay). None: one
    #: constant delay for every column (the kit's model until 2026-12-07).
    comparator_delay_budget_steps: float | None = 2.0

    # -- write physics --------------------------------------------------------------------------
    #: "deterministic" (pulse >= t_switch_ns switches) or "thermal" (see ``switching_tau_ns``).
    write_model: str = "deterministic"
    #: Thermal model: attempt time tau0 (assumption; typical 1 ns).
    tau0_ns: float = 1.0
    #: Thermal model: thermal stability Delta = E_b / (k_B T) (assumption; typical 40..80).
    thermal_stability_kT: float = 60.0
    #: Thermal model: critical switching current I_c0 (assumption).
    i_c0_uA: float = 100.0
    #: Thermal model: write current through the MTJ during a pulse (assumption).
    i_write_uA: float = 100.0

    def __post_init__(self) -> None:
        floats = ("r_cell_low_ohm", "r_cell_high_ohm", "sigma_low_ohm", "sigma_high_ohm",
                  "r_bypass_on_ohm", "c_cell_fF", "t_switch_ns", "p_stuck_low", "p_stuck_high",
                  "temperature_C", "temperature_ref_C", "tmr_temp_coeff_per_K",
                  "comparator_offset_sigma_V", "comparator_noise_rms_V", "tdc_jitter_rms_ns",
                  "tdc_phase_sigma_ps", "tdc_phase_skew_ps", "tau0_ns", "thermal_stability_kT",
                  "i_c0_uA", "i_write_uA")
        for name in floats:
            _finite(name, getattr(self, name))
        for name in ("r_cell_low_ohm", "r_cell_high_ohm", "c_cell_fF", "t_switch_ns", "tau0_ns",
                     "thermal_stability_kT", "i_c0_uA", "i_write_uA"):
            if getattr(self, name) <= 0:
                raise DeviceError(f"{name} must be positive, not {getattr(self, name)!r}")
        for name in ("sigma_low_ohm", "sigma_high_ohm", "r_bypass_on_ohm", "tmr_temp_coeff_per_K",
                     "comparator_offset_sigma_V", "comparator_noise_rms_V", "tdc_jitter_rms_ns",
                     "tdc_phase_sigma_ps"):
            if getattr(self, name) < 0:
                raise DeviceError(f"{name} must not be negative, not {getattr(self, name)!r}")
        for name in ("p_stuck_low", "p_stuck_high"):
            if not 0 <= getattr(self, name) <= 1:
                raise DeviceError(f"{name} is a probability and must be in [0, 1], "
                                  f"not {getattr(self, name)!r}")
        if self.p_stuck_low + self.p_stuck_high > 1:
            raise DeviceError(f"p_stuck_low + p_stuck_high must not exceed 1, not "
                              f"{self.p_stuck_low!r} + {self.p_stuck_high!r}")
        if self.r_cell_high_ohm <= self.r_cell_low_ohm:
            raise DeviceError(
                f"r_cell_high_ohm ({self.r_cell_high_ohm:g}) must exceed r_cell_low_ohm "
                f"({self.r_cell_low_ohm:g}): the high state is the antiparallel MTJ")
        if self.r_bypass_on_ohm >= self.r_cell_low_ohm:
            raise DeviceError(
                f"r_bypass_on_ohm ({self.r_bypass_on_ohm:g}) must be below r_cell_low_ohm "
                f"({self.r_cell_low_ohm:g}), which includes it")
        for name in ("temperature_C", "temperature_ref_C"):
            if getattr(self, name) <= _ABSOLUTE_ZERO_C:
                raise DeviceError(f"{name} must be above absolute zero ({_ABSOLUTE_ZERO_C} C), "
                                  f"not {getattr(self, name)!r}")
        if self.tmr_scale <= 0:
            limit = self.temperature_ref_C + 1 / self.tmr_temp_coeff_per_K
            raise DeviceError(
                f"at temperature_C={self.temperature_C:g} the TMR would vanish "
                f"(tmr_temp_coeff_per_K={self.tmr_temp_coeff_per_K:g}): the high state would not "
                f"lie above the low state; use temperature_C < {limit:g}")
        budget = self.comparator_delay_budget_steps
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float))
                                   or not math.isfinite(budget) or budget <= 0):
            raise DeviceError(f"comparator_delay_budget_steps must be None or a positive number "
                              f"of TDC steps, not {budget!r}")
        if self.write_model not in WRITE_MODELS:
            raise DeviceError(f"write_model must be one of {', '.join(map(repr, WRITE_MODELS))}, "
                              f"not {self.write_model!r}")

    @classmethod
    def paper(cls, **overrides) -> DeviceParams:
        """The paper's nominal values *and* its measured cell-to-cell spread (1.6k / 2.0k)."""
        values = dict(sigma_low_ohm=PAPER_SIGMA_LOW_OHM, sigma_high_ohm=PAPER_SIGMA_HIGH_OHM)
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes) -> DeviceParams:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    # -- derived quantities ---------------------------------------------------------------------
    @property
    def ideal(self) -> bool:
        """True when no non-ideality is switched on: results are then exact."""
        return (self.sigma_low_ohm == 0 and self.sigma_high_ohm == 0 and self.p_stuck_low == 0
                and self.p_stuck_high == 0 and self.high_state_factor == 1.0
                and self.comparator_offset_sigma_V == 0 and not self.has_evaluation_noise
                and self.tdc_phase_sigma_ps == 0 and self.tdc_phase_skew_ps == 0
                and self.write_model == "deterministic")

    @property
    def has_evaluation_noise(self) -> bool:
        """True when every evaluation draws fresh random numbers (comparator noise, jitter)."""
        return self.comparator_noise_rms_V > 0 or self.tdc_jitter_rms_ns > 0

    @property
    def r_mtj_low_ohm(self) -> float:
        return self.r_cell_low_ohm - self.r_bypass_on_ohm

    @property
    def r_mtj_high_ohm(self) -> float:
        """The MTJ's high-state resistance at ``temperature_ref_C``."""
        return self.r_cell_high_ohm - self.r_bypass_on_ohm

    @property
    def delta_r_ohm(self) -> float:
        """Resistance added to a column by one mismatching cell (at ``temperature_ref_C``)."""
        return self.r_cell_high_ohm - self.r_cell_low_ohm

    @property
    def tmr_ref(self) -> float:
        """The MTJ's tunnel magnetoresistance ratio (R_high - R_low) / R_low at the reference."""
        return self.r_mtj_high_ohm / self.r_mtj_low_ohm - 1.0

    @property
    def tmr_scale(self) -> float:
        """TMR(temperature_C) / TMR(temperature_ref_C)."""
        return 1.0 - self.tmr_temp_coeff_per_K * (self.temperature_C - self.temperature_ref_C)

    @property
    def tmr(self) -> float:
        """The MTJ's TMR at the operating temperature."""
        return self.tmr_ref * self.tmr_scale

    @property
    def high_state_factor(self) -> float:
        """Factor applied to every MTJ's high-state resistance at the operating temperature.

        ``R_high(T) = R_low * (1 + TMR(T))``, applied to each MTJ as
        ``R_high(T) = R_high(T_ref) * (1 + TMR(T)) / (1 + TMR(T_ref))``, so a die's spread scales
        with it. Exactly 1.0 at the reference temperature.
        """
        if self.temperature_C == self.temperature_ref_C or self.tmr_temp_coeff_per_K == 0:
            return 1.0
        return (1.0 + self.tmr) / (1.0 + self.tmr_ref)

    @property
    def r_mtj_high_at_temperature_ohm(self) -> float:
        return self.r_mtj_high_ohm * self.high_state_factor

    # -- write physics --------------------------------------------------------------------------
    def switching_tau_ns(self, i_write_uA: float | None = None) -> float:
        """Thermal model: mean switching time ``tau = tau0 * exp(Delta * (1 - I / I_c0))``.

        The Neel-Brown thermal-activation form, strictly valid below I_c0; above I_c0 it is
        extrapolated (tau < tau0), which only makes failures vanishingly rare.
        """
        i = self.i_write_uA if i_write_uA is None else _finite("i_write_uA", i_write_uA)
        return self.tau0_ns * math.exp(self.thermal_stability_kT * (1.0 - i / self.i_c0_uA))

    def write_failure_probability(self, pulse_ns: float) -> float:
        """Probability that a pulse of ``pulse_ns`` leaves an MTJ that had to switch unswitched.

        Deterministic model: 0 if ``pulse_ns >= t_switch_ns`` else 1. Thermal model:
        ``1 - P_sw = exp(-pulse_ns / tau)``. (An MTJ already in the written state never fails.)
        """
        pulse_ns = _finite("pulse_ns", pulse_ns)
        if pulse_ns < 0:
            raise DeviceError(f"pulse_ns must not be negative, not {pulse_ns!r}")
        if self.write_model == "deterministic":
            return 0.0 if pulse_ns >= self.t_switch_ns else 1.0
        return math.exp(-pulse_ns / self.switching_tau_ns())

    def write_current_for_failure_uA(self, p_fail: float, pulse_ns: float) -> float:
        """Write current at which a ``pulse_ns`` pulse fails with probability ``p_fail``.

        Inverts the thermal model: ``tau = pulse / ln(1/p_fail)``,
        ``I = I_c0 * (1 - ln(tau / tau0) / Delta)``.
        """
        p_fail = _finite("p_fail", p_fail)
        if not 0 < p_fail < 1:
            raise DeviceError(f"p_fail must be a probability strictly between 0 and 1, "
                              f"not {p_fail!r}")
        pulse_ns = _finite("pulse_ns", pulse_ns)
        if pulse_ns <= 0:
            raise DeviceError(f"pulse_ns must be positive, not {pulse_ns!r}")
        tau_ns = pulse_ns / math.log(1.0 / p_fail)
        return self.i_c0_uA * (1.0 - math.log(tau_ns / self.tau0_ns) / self.thermal_stability_kT)

    def with_write_failure(self, p_fail: float, *, pulse_ns: float) -> DeviceParams:
        """This device with the thermal write model and the write current that makes a
        ``pulse_ns`` pulse fail with probability ``p_fail``."""
        i_uA = self.write_current_for_failure_uA(p_fail, pulse_ns)
        return self.replace(write_model="thermal", i_write_uA=i_uA)
