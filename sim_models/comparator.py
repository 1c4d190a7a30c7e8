"""The column comparator: its decision delay, which depends on how fast the column falls through
V_ref, and its sizing.

A latch-free continuous-time comparator (an assumption; the paper does not describe its
circuit): ``stages`` identical differential gain stages (tail current ``2 I_D``, input-pair
``gm = (gm/Id) I_D``), each loading ``stage_load_fF``. A stage integrates with
``omega_u = gm / C`` for times well below its own pole ``A0 / omega_u`` (A0, a 28 nm stage's DC
gain, is about 10-20: ~200 ps for the default design, so finite gain makes the true delay
longer and the bias below a lower bound). The column's ramp of slope ``S`` crosses V_ref at
``t = 0``; the last stage's output is then ``omega_u^N S t^(N+1) / (N+1)!`` and the decision
falls when it reaches ``swing_V``:

    t_d(S) = ((N+1)! swing / (omega_u^N S))^(1/(N+1))

A slow column (many mismatching cells, a shallow ramp) decides later than a fast one. A delay
common to every column only shifts the trips (the readout design absorbs it); its spread over
the columns' slopes moves the trips against their TDC bins, so the readout must be designed
with it (:func:`sim_models.readout.design_readout` with ``comparator_budget_steps``).

Sizing (:func:`size_comparator`): the delay at the slowest column's slope is ``budget_steps``
TDC steps; ``stages`` is the count (1 .. :data:`CMP_MAX_STAGES`) that needs the least current.
A longer budget needs less bias and spreads the delay further. The energy this costs is in
:mod:`mram_macro.flow.ppa.analog`.

This module imports nothing of the kit: the readout model builds on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ComparatorDesign", "size_comparator", "CMP_STAGE_LOAD_fF", "CMP_GM_OVER_ID_PER_V",
           "CMP_SWING_FRACTION", "CMP_MAX_STAGES"]

#: Capacitance at the output of each gain stage (assumption: the next stage's input gates, the
#: drains and local wire, 28 nm).
CMP_STAGE_LOAD_fF = 2.0
#: Transconductance efficiency of the input pairs in moderate inversion (F. Silveira, D. Flandre,
#: P. Jespers, IEEE JSSC 31(9), 1996; P. Jespers, B. Murmann, "Systematic Design of Analog CMOS
#: Circuits", 2017: 10..20 /V between strong and weak inversion; 15 /V trades speed for current).
CMP_GM_OVER_ID_PER_V = 15.0
#: Output swing, as a fraction of the supply, that counts as a decision (the threshold of the
#: logic that follows).
CMP_SWING_FRACTION = 0.5
#: Most gain stages considered when sizing the comparator (the cheapest count is used).
CMP_MAX_STAGES = 8


@dataclass(frozen=True)
class ComparatorDesign:
    """A comparator of ``stages`` integrating gain stages (the module's model), sized for TDC
    steps of ``step_ns`` on columns whose slopes at the trip span ``slope_min_V_per_ns`` ..
    ``slope_max_V_per_ns``."""

    stages: int
    stage_load_fF: float
    swing_V: float
    gm_over_id_per_V: float
    step_ns: float
    slope_min_V_per_ns: float
    slope_max_V_per_ns: float
    omega_u_per_s: float

    @property
    def gm_S(self) -> float:
        """Transconductance of one stage's input pair."""
        return self.omega_u_per_s * self.stage_load_fF * 1e-15

    @property
    def bias_A(self) -> float:
        """Supply current of the whole comparator while it is on: stages x 2 I_D."""
        return self.stages * 2.0 * self.gm_S / self.gm_over_id_per_V

    def delay_ns(self, slope_V_per_ns):
        """Decision delay after the crossing for a ramp of ``slope_V_per_ns`` (any shape; inf
        where the slope is 0)."""
        n = self.stages
        s = np.asarray(slope_V_per_ns, dtype=np.float64) * 1e9
        with np.errstate(divide="ignore"):
            return (math.factorial(n + 1) * self.swing_V / (self.omega_u_per_s ** n * s)) \
                ** (1.0 / (n + 1)) * 1e9

    @property
    def delay_exponent(self) -> float:
        """``1 / (N + 1)``: the delay grows as the column resistance to this power."""
        return 1.0 / (self.stages + 1)

    def column_delay_coefficient(self, c_col_F: float, v_trip_V):
        """``g`` (ns per ohm^(1/(N+1))) with ``t_d = g R^(1/(N+1))`` for columns of capacitance
        ``c_col_F`` falling through ``v_trip_V`` (any shape): :meth:`delay_ns` of the slope
        ``v_trip / (R C)`` written in the resistance. inf where ``v_trip <= 0`` (no trip)."""
        v = np.maximum(np.asarray(v_trip_V, dtype=np.float64), 0.0)
        n = self.stages
        with np.errstate(divide="ignore"):
            return (math.factorial(n + 1) * self.swing_V * c_col_F
                    / (self.omega_u_per_s ** n * v)) ** self.delay_exponent * 1e9

    def column_delay_ns(self, r_col_ohm, c_col_F: float, v_trip_V):
        """Decision delay of columns of ``r_col_ohm`` (see :meth:`column_delay_coefficient`)."""
        return (self.column_delay_coefficient(c_col_F, v_trip_V)
                * np.power(np.asarray(r_col_ohm, dtype=np.float64), self.delay_exponent))

    @property
    def delay_spread_steps(self) -> float:
        """Delay of the slowest minus the fastest column, in TDC steps."""
        return float(self.delay_ns(self.slope_min_V_per_ns)
                     - self.delay_ns(self.slope_max_V_per_ns)) / self.step_ns


def size_comparator(*, step_ns: float, slope_min_V_per_ns: float, slope_max_V_per_ns: float,
                    v_supply_V: float, budget_steps: float = 1.0) -> ComparatorDesign:
    """The cheapest comparator whose delay at ``slope_min_V_per_ns`` is ``budget_steps`` steps of
    ``step_ns``: the overdrive that builds up over that time (``S_min * t_d``) is amplified to a
    decision (``CMP_SWING_FRACTION`` of ``v_supply_V``) within it.

    Raises:
        ValueError: an argument that is not a positive number, or slopes out of order."""
    for name, v in (("step_ns", step_ns), ("slope_min_V_per_ns", slope_min_V_per_ns),
                    ("slope_max_V_per_ns", slope_max_V_per_ns), ("v_supply_V", v_supply_V),
                    ("budget_steps", budget_steps)):
        if (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
                or not math.isfinite(v) or v <= 0):
            raise ValueError(f"{name} must be a positive number, not {v!r}")
    if slope_max_V_per_ns < slope_min_V_per_ns:
        raise ValueError(f"slope_max_V_per_ns ({slope_max_V_per_ns!r}) is below "
                         f"slope_min_V_per_ns ({slope_min_V_per_ns!r})")
    t_d_s = budget_steps * step_ns * 1e-9          # the decision delay at the slowest slope
    swing = CMP_SWING_FRACTION * v_supply_V
    gain = swing / (slope_min_V_per_ns * 1e9 * t_d_s)  # output swing / overdrive over t_d
    best = None
    for n in range(1, CMP_MAX_STAGES + 1):
        omega = (math.factorial(n + 1) * gain) ** (1.0 / n) / t_d_s
        current = n * omega                   # proportional to the bias current
        if best is None or current < best[1]:
            best = (n, current, omega)
    n, _, omega = best
    return ComparatorDesign(stages=n, stage_load_fF=CMP_STAGE_LOAD_fF, swing_V=swing,
                            gm_over_id_per_V=CMP_GM_OVER_ID_PER_V, step_ns=float(step_ns),
                            slope_min_V_per_ns=float(slope_min_V_per_ns),
                            slope_max_V_per_ns=float(slope_max_V_per_ns), omega_u_per_s=omega)
