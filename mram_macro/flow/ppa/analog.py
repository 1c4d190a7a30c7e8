"""Energy of the analogue array and the TDC's mixed-signal front end, per VMM and per row write.


Every term has a formula, an operating point and a source; :func:`analog_terms` returns them as
one table (``AnalogTerm`` rows), which docs/ppa.md and the PPA report print. All figures are at
the chip's 28 nm node and the 0.9 V core supply (:data:`V_CORE_V`): the standard cells of the
TDC front end are taken from the NanGate 45 nm Liberty file (:data:`NANGATE45`) and scaled by
the project's Dennard rule (:data:`SCALE_45_TO_28_CAP`, :data:`SCALE_45_TO_28_ENERGY`, the rule
of :data:`mram_macro.flow.ppa.report.SCALING_RULE`; their leakage is kept at the 45 nm figure).

The circuit models the terms are built from, with their assumptions, are in
:mod:`mram_macro.flow.ppa.analog_circuits` (re-exported here): the columns of a random VMM, the
precharge, the comparator's sizing and the writes, and the operating point of one VMM
(:class:`OperatingPoint`: ``eval_cycles``, ``vmm_cycles``, ``bypass_toggles_per_vmm``, defined
there), whose model values :func:`random_vmm_operating_point` gives (the PPA report uses the
gate-level simulation's).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

import numpy as np

from mram_macro.design.config import MacroConfig
from mram_macro.flow.ppa.analog_circuits import (
    CMP_GM_OVER_ID_PER_V,
    CMP_MAX_STAGES,
    CMP_SWING_FRACTION,
    V_CORE_V,
    V_WRITE_V,
    CMP_STAGE_LOAD_fF,
    ComparatorDesign,
    OperatingPoint,
    _check_config,
    _check_models,
    _column_end_V,
    _number,
    _precharge_supply_V,
    _slopes_V_per_ns,
    comparator_design,
    precharge_energy_J,
    random_vmm_operating_point,
    write_pulse_ns,
    write_row_energy_J,
)
from mram_macro.flow.ppa.libraries import LIBRARIES
from sim_models.device import DeviceParams
from sim_models.readout import ReadoutParams

__all__ = ["AnalogEnergy", "AnalogTerm", "ComparatorDesign", "OperatingPoint", "analog_energy",
           "analog_terms", "comparator_design", "precharge_energy_J", "write_row_energy_J",
           "write_pulse_ns", "random_vmm_operating_point", "terms_markdown", "terms_lines",
           "nominal_terms", "docs_block", "render_docs", "DOCS_BEGIN", "DOCS_END",
           "comparator_budgets", "COMPARATOR_BUDGETS", "budgets_markdown",
           "NANGATE45", "SCALE_45_TO_28_CAP", "SCALE_45_TO_28_ENERGY", "V_CORE_V", "V_WRITE_V",
           "C_WIRE_fF_PER_UM", "COLUMN_PITCH_UM", "C_GATE_fF_PER_UM", "RON_W_OHM_UM",
           "CMP_STAGE_LOAD_fF", "CMP_GM_OVER_ID_PER_V", "CMP_SWING_FRACTION", "CMP_MAX_STAGES"]

# -- assumptions, each with its source --------------------------------------------------------
# (the supply, the write voltage and the comparator's are with the circuit models, analog_circuits)
#: Wire capacitance of a minimum-pitch intermediate metal line (textbook rule of thumb,
#: N. Weste, D. Harris, "CMOS VLSI Design", 4th ed., 2011, ch. 6: about 0.2 fF/µm, nearly
#: independent of the node).
C_WIRE_fF_PER_UM = 0.2
#: Column pitch of the array and of its pitch-matched column periphery (assumption: a cell holds
#: two MTJs and two bypass transistors of about 1 µm width each, see :data:`RON_W_OHM_UM`).
COLUMN_PITCH_UM = 2.0
#: Gate capacitance per µm of transistor width (Weste & Harris, ch. 2 and 8: about 1 fF/µm,
#: nearly constant across nodes).
C_GATE_fF_PER_UM = 1.0
#: On-resistance x width of a 28 nm thin-oxide NMOS at 0.9 V gate drive (assumption: from an
#: on-current of about 1 mA/µm at 0.9 V, the usual figure for 28 nm high-k metal-gate nodes).
RON_W_OHM_UM = 1000.0
#: Off-state leakage of a column's analogue devices (comparator, precharge and foot switches;
#: assumption, for the not-counted estimate only).
ANALOG_OFF_LEAK_nA = 10.0

#: The standard-cell library of the TDC front end's cells, and the 45 nm -> 28 nm rule.
_LIB45 = LIBRARIES["nangate45"]
#: Dennard scaling 45 -> 28 nm with each node's supply (report.SCALING_RULE): capacitance x s,
#: dynamic energy x s (V28/V45)^2, s = 28/45, V28 = V_CORE_V. Leakage is not scaled (the rule
#: keeps the 45 nm figure: a 28 nm process may leak 10x less or more).
SCALE_45_TO_28_CAP = 28.0 / _LIB45.node_nm
SCALE_45_TO_28_ENERGY = SCALE_45_TO_28_CAP * (V_CORE_V / _LIB45.vdd_V) ** 2

#: Values read from the NanGate 45 nm Liberty file (.tools/lib/nangate45_typ.lib, typical, 1.1 V;
#: capacitances the mean of rise and fall, energies at an input slew of 0.041 ns (index 4) and,
#: where the table has a load axis, 1.9 fF (index 2) for the X1 cells and 22.7 fF (index 4) for
#: the phase buffer; fF, fJ, nW). verif/unit/test_analog_energy.py re-reads each from the file.
NANGATE45: dict[str, float] = {
    # DFFR_X1: the interpolator's samplers (cleared at precharge) and the DLL's phase detector
    "dffr_ck_fF": 0.928651,          # pin CK
    "dffr_d_fF": 1.090504,           # pin D
    "dffr_rn_fF": 1.761575,          # pin RN
    "dffr_clock_fJ": 7.409754,       # CK internal rise + fall, when !D & RN & !Q & QN
    "dffr_set_fJ": 5.029007,         # Q internal rise, related CK (a capture of a 1)
    "dffr_clear_fJ": 4.754281,       # Q internal fall, related RN, mean of when !CK & !D, CK & !D
    "dffr_d_pair_fJ": 3.839168,      # D internal rise + fall, mean of CK low and CK high
    "dffr_leak_nW": 86.212780,       # cell_leakage_power
    # CLKBUF_X1: one stage of the DLL's delay line
    "stage_in_fF": 0.739516,         # pin A
    "stage_fJ": 4.023369,            # Z internal rise + fall, related A
    "stage_leak_nW": 11.214093,
    # the clock buffer of the clock trees (libraries.py), driving the phase lines
    "buffer_in_fF": 1.334975,        # CLKBUF_X3 pin A
    "buffer_fJ": 10.757555,          # Z internal rise + fall, related A
    "buffer_leak_nW": 30.558215,
}
#: The cells the values above are read from (checked against libraries.py's clock buffer).
NANGATE45_CELLS = {"dffr": "DFFR_X1", "stage": "CLKBUF_X1", "buffer": _LIB45.clock_buffer[0]}


def _cap28_F(key: str) -> float:
    return NANGATE45[key] * SCALE_45_TO_28_CAP * 1e-15


def _energy28_J(key: str) -> float:
    return NANGATE45[key] * SCALE_45_TO_28_ENERGY * 1e-15


def _leak_W(key: str) -> float:
    """Leakage follows no scaling rule (report.SCALING_RULE): the 45 nm figure is kept."""
    return NANGATE45[key] * 1e-9


# -- the energy and its table -------------------------------------------------------------------
@dataclass(frozen=True)
class AnalogEnergy:
    """Analogue energy per VMM (J), one field per term, and per row write (``write_row_J``).

    * ``precharge_J``: restore the columns to V_pre (:func:`precharge_energy_J`).
    * ``bypass_J``: switch the bypass gate lines, ``toggles * cols * C_cell * V_core^2``.
    * ``comparator_J``: comparator bias from ``arr_tdc_en`` (``t = D - 1``) to its decision,
      then off, ``cols * I_bias * V_core * mean(t_cross + t_d - (D - 1) t_clk)``
      (:func:`comparator_design`).
    * ``phase_generator_J``: the two-step TDC's delay-locked line and the ``K - 1`` gates that
      make its level lines, ``on_cycles * (K stages + K - 1 gates + phase detector)``,
      ``on_cycles = eval_cycles - (D - 1)`` (gated by ``arr_tdc_en``).
    * ``phase_lines_J``: ``K - 1`` level lines across the columns (line ``j`` high from a
      rising clock edge until ``j`` steps before the next), ``on_cycles * (K-1) * (C_line V^2
      + buffers)``.
    * ``samplers_J``: ``cols * (K-1)`` sampler flip-flops, clocked once per VMM by their
      column's comparator (its rise at the trip, its fall at the precharge): the clock edge
      pair, capture and clear once per VMM, their D pins under the level lines every cycle
      of ``arr_tdc_en``, their reset pins.
    * ``tdc_leakage_J``: leakage of the front end's standard cells over the whole VMM.
    * ``write_row_J``: one row written, both sides (not per VMM: weights are stationary).
    """

    precharge_J: float
    bypass_J: float
    comparator_J: float
    phase_generator_J: float
    phase_lines_J: float
    samplers_J: float
    tdc_leakage_J: float
    write_row_J: float

    @property
    def per_vmm_J(self) -> float:
        """Sum of the per-VMM terms (every field but ``write_row_J``)."""
        return sum(getattr(self, f.name) for f in fields(self) if f.name != "write_row_J")


@dataclass(frozen=True)
class AnalogTerm:
    """One row of the analogue energy table.

    ``kind``: ``"vmm"`` (a field of :class:`AnalogEnergy`, per VMM), ``"row"`` (per row write),
    ``"comparison"`` (an alternative, not counted) or ``"not counted"`` (an estimate of what is
    left out). ``key`` is the :class:`AnalogEnergy` field for counted terms, else a name.
    """

    key: str
    title: str
    kind: str
    value_J: float
    formula: str
    operating_point: str
    source: str


def _check_call(config, device, readout, t_clk_ns, eval_cycles, vmm_cycles,
                bypass_toggles_per_vmm):
    _check_config(config)
    _check_models(device, readout)
    t_clk_ns = _number("t_clk_ns", t_clk_ns)
    eval_cycles = _number("eval_cycles", eval_cycles)
    vmm_cycles = _number("vmm_cycles", vmm_cycles)
    toggles = _number("bypass_toggles_per_vmm", bypass_toggles_per_vmm, positive=False)
    if not math.isclose(t_clk_ns, readout.t_clk_ns, rel_tol=1e-9):
        raise ValueError(
            f"the readout is designed for a {readout.t_clk_ns:g} ns clock, not t_clk_ns="
            f"{t_clk_ns:g}: V_ref and the column slopes depend on the clock; design it with "
            f"sim_models.readout.design_readout_for(config, device, t_clk_ns={t_clk_ns:g})")
    if readout.fine_taps != config.fine_taps:
        raise ValueError(f"the readout has fine_taps={readout.fine_taps}, the configuration "
                         f"{config.fine_taps}: design the readout for this configuration")
    if vmm_cycles < eval_cycles:
        raise ValueError(f"vmm_cycles ({vmm_cycles:g}) must not be below eval_cycles "
                         f"({eval_cycles:g}): a VMM contains its evaluation")
    return t_clk_ns, eval_cycles, vmm_cycles, toggles


def _pj(x: float) -> str:
    return f"{x * 1e12:.3g} pJ"


def _comparator_J(cmp, *, config, readout, cols, slopes, t_clk_ns: float, t_eval_ns: float):
    """Energy per VMM of ``config``'s comparators of design ``cmp``, biased from
    ``arr_tdc_en`` (``t = D - 1``) to their decision (``t_cross + t_d``, at most the
    evaluation's end); a comparator whose column crossed before the enable still takes ``t_d``
    to decide. Returns the energy, the on-times and the delays per column class."""
    enable_ns = max(readout.start_delay_cycles - 1, 0) * t_clk_ns
    t_cross_ns = cols.r_ohm * cols.c_col_F * readout.log_ratio * 1e9
    t_d_ns = cmp.delay_ns(slopes)
    t_on_ns = np.minimum(t_cross_ns + t_d_ns, t_eval_ns)
    energy = (config.cols * cmp.bias_A * V_CORE_V
              * cols.mean(np.maximum(t_on_ns - enable_ns, t_d_ns)) * 1e-9)
    return energy, t_on_ns, t_d_ns


def _analyse(*, config, device, readout, t_clk_ns, eval_cycles, vmm_cycles,
             bypass_toggles_per_vmm):
    t_clk_ns, eval_cycles, vmm_cycles, toggles = _check_call(
        config, device, readout, t_clk_ns, eval_cycles, vmm_cycles, bypass_toggles_per_vmm)
    rows, ncols, taps = config.rows, config.cols, config.fine_taps
    v = V_CORE_V
    t_eval_ns = eval_cycles * t_clk_ns
    t_vmm_ns = vmm_cycles * t_clk_ns
    cols, slopes = _slopes_V_per_ns(rows, device, readout)
    c_col = cols.c_col_F
    terms: list[AnalogTerm] = []

    # precharge
    v_end = _column_end_V(cols, readout, t_eval_ns)
    v_sup = _precharge_supply_V(readout)
    precharge = precharge_energy_J(rows=rows, cols=ncols, device=device, readout=readout,
                                   t_eval_ns=t_eval_ns)
    trip_bound = ncols * c_col * v_sup * (readout.v_pre_V - readout.v_ref_V)
    full_bound = ncols * c_col * v_sup * readout.v_pre_V
    terms.append(AnalogTerm(
        "precharge_J", "column precharge", "vmm", precharge,
        "cols · mean_n[C_col · V_supply · (V_pre − V_end(n))], "
        "V_end = V_pre · exp(−t_eval / (R_col(n) · C_col)), n ~ Binomial(rows, ½)",
        f"C_col = {c_col * 1e15:.1f} fF, V_pre = V_supply = {readout.v_pre_V:g} V, "
        f"V_ref = {readout.v_ref_V:.3f} V, t_eval = {eval_cycles:.2f} cycles = "
        f"{t_eval_ns:.1f} ns, R_col {cols.r_ohm.min() / 1e6:.3f}..{cols.r_ohm.max() / 1e6:.3f} "
        f"MΩ, mean swing {cols.mean(readout.v_pre_V - v_end) * 1e3:.0f} mV; bounds: to V_ref "
        f"{_pj(trip_bound)}, full discharge {_pj(full_bound)}",
        "C per cell 2.1 fF (paper, DeviceParams.c_cell_fF); V_pre, V_ref: "
        "sim_models.readout; discharge until arr_eval falls (read_control.py, "
        "array_pins.py); PMOS switch from the core supply (V_pre = V_core, assumption)"))

    # bypass lines
    w_um = RON_W_OHM_UM / device.r_bypass_on_ohm
    c_cell = (w_um * C_GATE_fF_PER_UM + C_WIRE_fF_PER_UM * COLUMN_PITCH_UM) * 1e-15
    bypass = toggles * ncols * c_cell * v ** 2
    terms.append(AnalogTerm(
        "bypass_J", "bypass gate lines", "vmm", bypass,
        "toggles · cols · (W · C_gate + C_wire · pitch) · V_core², W = R_on·W / R_bypass_on",
        f"{toggles:.1f} toggles per VMM, W = {w_um:.2f} µm, C = {c_cell * 1e15:.2f} fF per "
        f"cell, V = {v:g} V",
        f"toggles: gate-level activity of arr_bypass_l/r (random inputs: rows); R_bypass_on = "
        f"{device.r_bypass_on_ohm:g} Ω (DeviceParams); R_on·W = {RON_W_OHM_UM:g} Ω·µm, "
        f"{C_GATE_fF_PER_UM:g} fF/µm gate, {C_WIRE_fF_PER_UM:g} fF/µm wire (Weste & Harris), "
        f"{COLUMN_PITCH_UM:g} µm pitch (assumptions); swing = core supply (assumption: a "
        f"bypass transistor near the top of the string sees a source near V_pre and would need "
        f"a boosted gate or a transmission gate: x{(V_WRITE_V / v) ** 2:.1f} at a "
        f"{V_WRITE_V:g} V swing)"))

    # comparators: biased only while arr_tdc_en is high (read_control.py: from t = D - 1)
    # the readout's own comparator when it was designed with one (its delay is in the trips),
    # else (a counter TDC, or a device without the knob) one TDC step at the slowest column
    cmp = readout.comparator or comparator_design(rows=rows, device=device, readout=readout)
    late = max(readout.start_delay_cycles - 1, 0)
    enable_ns = late * t_clk_ns
    on_cycles = max(eval_cycles - late, 0.0)
    comparator, t_on_ns, t_d_ns = _comparator_J(cmp, config=config, readout=readout,
                                                 cols=cols, slopes=slopes, t_clk_ns=t_clk_ns,
                                                 t_eval_ns=t_eval_ns)
    p_cmp = cmp.bias_A * v
    from_eval = ncols * p_cmp * cols.mean(t_on_ns) * 1e-9
    always_on = ncols * p_cmp * t_eval_ns * 1e-9
    slope_mean = cols.mean(slopes)
    terms.append(AnalogTerm(
        "comparator_J", "comparators (on with arr_tdc_en, off after the decision)", "vmm",
        comparator,
        "cols · I_bias · V_core · mean_n[max(t_cross(n) + t_d(n) − (D − 1) · t_clk, t_d(n))]; "
        "I_bias = N · 2 · I_D, I_D = gm / (gm/Id), gm = ω_u · C_L, ω_u from t_d(S_min) = B "
        "TDC steps (the readout's budget, or 1 without a comparator in it), t_d(S) = ((N+1)! · "
        "V_sw / (ω_u^N · S))^(1/(N+1))",
        f"TDC step {readout.t_fine_ns * 1e3:.0f} ps; slope at the trip "
        f"{cmp.slope_min_V_per_ns * 1e3:.2f}..{cmp.slope_max_V_per_ns * 1e3:.2f} mV/ns (mean "
        f"{slope_mean * 1e3:.2f}): {cmp.slope_min_V_per_ns * readout.t_fine_ns * 1e3:.2f} mV "
        f"per step at the slowest column, {slope_mean * readout.t_fine_ns * 1e3:.2f} mV at the "
        f"mean; N = {cmp.stages} stages, C_L = {cmp.stage_load_fF:g} fF, V_sw = "
        f"{cmp.swing_V:g} V, gm/Id = {cmp.gm_over_id_per_V:g}/V: gm = {cmp.gm_S * 1e6:.0f} µS, "
        f"I_bias = {cmp.bias_A * 1e6:.1f} µA per comparator; t_d "
        f"{float(cmp.delay_ns(cmp.slope_max_V_per_ns)) * 1e3:.0f}.."
        f"{float(cmp.delay_ns(cmp.slope_min_V_per_ns)) * 1e3:.0f} ps "
        f"(spread {cmp.delay_spread_steps:.2f} step); D = {readout.start_delay_cycles}: on "
        f"from {enable_ns:g} ns, mean on-time "
        f"{cols.mean(np.maximum(t_on_ns - enable_ns, t_d_ns)):.1f} ns",
        "cascade of integrating gain stages (ramp response; a lower bound, finite stage gain "
        "ignored); gm/Id: Silveira, Flandre, "
        "Jespers, JSSC 1996, and Jespers & Murmann 2017; slopes from sim_models.readout "
        "(V_ref, C_col) and DeviceParams; the bias is switched on by arr_tdc_en (the RTL raises "
        "it at t = D − 1, one period before its synchronisers first sample arr_cmp) and off "
        "after the decision; a latch holds arr_cmp until the precharge (assumption)"))
    terms.append(AnalogTerm(
        "comparator_from_eval", "comparators, on from arr_eval, off after the decision",
        "comparison", from_eval, "cols · I_bias · V_core · mean_n[t_cross(n) + t_d(n)]",
        f"I_bias = {cmp.bias_A * 1e6:.1f} µA, mean on-time {cols.mean(t_on_ns):.1f} ns",
        "for comparison: the same comparator without the late enable (the kit before "
        "arr_tdc_en)"))
    terms.append(AnalogTerm(
        "comparator_always_on", "comparators, on for the whole evaluation", "comparison",
        always_on, "cols · I_bias · V_core · t_eval",
        f"I_bias = {cmp.bias_A * 1e6:.1f} µA, t_eval = {t_eval_ns:.1f} ns",
        "for comparison: the same comparator without shut-off or late enable"))

    # two-step TDC: phase generator, phase lines, samplers
    samplers_n = ncols * (taps - 1)
    phase_gen = phase_lines = samplers = tdc_leak = 0.0
    if taps > 1:
        fanout = _LIB45.clock_max_fanout
        leaves = math.ceil(ncols / fanout)
        e_stage = _energy28_J("stage_fJ") + _cap28_F("stage_in_fF") * v ** 2
        e_pd = 2 * _energy28_J("dffr_clock_fJ")
        # the DLL, and one gate per level line (L_j from two of its taps), each toggling twice
        # per cycle like a delay stage
        phase_gen = on_cycles * ((taps + taps - 1) * e_stage + e_pd)
        # the level lines load the samplers' D pins (the comparator clocks them)
        c_line = (ncols * _cap28_F("dffr_d_fF")
                  + 2 * ncols * COLUMN_PITCH_UM * C_WIRE_fF_PER_UM * 1e-15
                  + leaves * _cap28_F("buffer_in_fF"))
        e_line = c_line * v ** 2 + leaves * _energy28_J("buffer_fJ")
        phase_lines = on_cycles * (taps - 1) * e_line
        ones_mean = cols.mean(cols.ones)
        # one comparator edge pair per VMM (it rises at the trip, falls at the precharge)
        clock = samplers_n * (_energy28_J("dffr_clock_fJ") + _cap28_F("dffr_ck_fF") * v ** 2)
        capture = ncols * ones_mean * (_energy28_J("dffr_set_fJ") + _energy28_J("dffr_clear_fJ"))
        # the level lines toggle the D pins twice per cycle while the DLL runs
        d_pins = samplers_n * on_cycles * _energy28_J("dffr_d_pair_fJ")
        reset = samplers_n * _cap28_F("dffr_rn_fF") * v ** 2
        samplers = clock + capture + d_pins + reset
        # the front end before (the kit until 2026-12-07): the phases clock the samplers every
        # cycle, the comparator drives their D pins once, no line gates
        c_line_ck = c_line + ncols * (_cap28_F("dffr_ck_fF") - _cap28_F("dffr_d_fF"))
        phase_clocked = (on_cycles * (taps * e_stage + e_pd)
                         + on_cycles * (taps - 1) * (c_line_ck * v ** 2
                                                     + leaves * _energy28_J("buffer_fJ"))
                         + samplers_n * _energy28_J("dffr_clock_fJ") * on_cycles + capture
                         + samplers_n * (_energy28_J("dffr_d_pair_fJ")
                                         + _cap28_F("dffr_d_fF") * v ** 2) + reset)
        leak_W = ((samplers_n + 2) * _leak_W("dffr_leak_nW")
                  + (2 * taps - 1) * _leak_W("stage_leak_nW")
                  + (taps - 1) * leaves * _leak_W("buffer_leak_nW"))
        tdc_leak = leak_W * t_vmm_ns * 1e-9
        cells = (f"NanGate 45 nm Liberty ({NANGATE45_CELLS['dffr']}, {NANGATE45_CELLS['stage']},"
                 f" {NANGATE45_CELLS['buffer']}; analog.NANGATE45) scaled to 28 nm / {v:g} V: "
                 f"C x {SCALE_45_TO_28_CAP:.3f}, E x {SCALE_45_TO_28_ENERGY:.3f}")
        terms.append(AnalogTerm(
            "phase_generator_J", "DLL (phase generator) and level-line gates", "vmm", phase_gen,
            "on_cycles · ((K + K − 1) · (E_stage + C_in · V²) + 2 · E_clock(DFFR)), on_cycles = "
            "eval_cycles − (D − 1)",
            f"K = {taps} delay stages ({readout.t_fine_ns * 1e3:.0f} ps each) and {taps - 1} "
            f"line gates, {on_cycles:.2f} of {eval_cycles:.2f} evaluation cycles; E_stage = "
            f"{e_stage * 1e15:.2f} fJ, phase detector {e_pd * 1e15:.2f} fJ per cycle",
            f"{cells}; the clock into the delay line is gated by arr_tdc_en (assumption; the "
            f"loop's control voltage is held between evaluations, so the phases are valid "
            f"within the period before the first sample); a current-starved stage and a line "
            f"gate (L_j = high from a rising clock edge until j steps before the next, from two "
            f"of the line's taps) each modelled as a CLKBUF_X1"))
        terms.append(AnalogTerm(
            "phase_lines_J", "level-line distribution", "vmm", phase_lines,
            "on_cycles · (K − 1) · (C_line · V² + leaves · E_buffer), C_line = cols · C_D + "
            "2 · cols · pitch · C_wire + leaves · C_in(buffer)",
            f"{taps - 1} lines, C_line = {c_line * 1e15:.1f} fF, {leaves} buffers per line "
            f"(≤ {fanout} samplers each), {on_cycles:.2f} cycles",
            f"{cells}; wire {C_WIRE_fF_PER_UM:g} fF/µm (Weste & Harris), trunk + leaf stubs "
            f"2 · cols · {COLUMN_PITCH_UM:g} µm (assumption); buffer fanout: libraries.py "
            f"clock_max_fanout"))
        terms.append(AnalogTerm(
            "samplers_J", "interpolator samplers, clocked by their comparator", "vmm", samplers,
            "cols·(K−1) · (E_clock + C_CK·V² + on_cycles · E_D + C_RN·V²) + "
            "cols · mean(ones) · (E_set + E_clear)",
            f"{samplers_n} flip-flops: clocked once per VMM {_pj(clock)}, captures "
            f"{_pj(capture)} (mean {ones_mean:.2f} ones per column), D pins under the level "
            f"lines {_pj(d_pins)}, clear {_pj(reset)}",
            f"{cells}; each column's comparator output (latched until the precharge) clocks "
            f"its K − 1 samplers, which take the level lines: the structure of a delay-line "
            f"TDC whose stop edge samples the taps (R. B. Staszewski et al., IEEE TCAS-II "
            f"53(3), 2006; S. Henzler, Time-to-Digital Converters, Springer, 2010), here the "
            f"DLL's; the arr_fine loads are in the gate-level figure"))
        terms.append(AnalogTerm(
            "front_end_phase_clocked", "DLL, phase lines and samplers clocked by the phases",
            "comparison", phase_clocked,
            "on_cycles · (K · E_stage + E_pd + (K − 1) · (C_line(CK pins) · V² + leaves · "
            "E_buffer) + cols·(K−1) · E_clock) + cols·(K−1) · (E_D + C_D·V² + C_RN·V²) + "
            "captures",
            f"{on_cycles:.2f} clocked cycles per sampler instead of one edge pair",
            "for comparison with the three terms above: the front end before 2026-12-07, whose "
            "phases clocked every sampler each cycle while the comparator drove their D pins"))
        terms.append(AnalogTerm(
            "tdc_leakage_J", "leakage of the TDC front end's cells", "vmm", tdc_leak,
            "(cols·(K−1) + 2) · P_DFFR + (2K − 1) · P_stage + (K−1) · leaves · P_buffer, "
            "x t_VMM",
            f"{leak_W * 1e6:.1f} µW over {vmm_cycles:.2f} cycles = {t_vmm_ns:.1f} ns",
            "NanGate 45 nm Liberty cell_leakage_power, not scaled (as report.SCALING_RULE: "
            "28 nm leakage is x0.1..x10 of it, by process flavour)"))
        terms.append(AnalogTerm(
            "phases_from_eval", "DLL, level lines and the samplers' D pins on from arr_eval",
            "comparison",
            (phase_gen + phase_lines + d_pins) * eval_cycles / on_cycles if on_cycles else 0.0,
            "(phase generator + level lines + sampler D pins) · eval_cycles / on_cycles",
            f"D = {readout.start_delay_cycles}: {eval_cycles:.2f} instead of {on_cycles:.2f} "
            f"cycles", "for comparison: the front end without the late enable (the kit "
            "before arr_tdc_en)"))

    # writes
    pulse = write_pulse_ns(config=config, device=device, t_clk_ns=t_clk_ns)
    w = write_row_energy_J(cols=ncols, device=device, pulse_ns=pulse, c_line_F=c_col)
    configured = config.write_pulse_cycles * t_clk_ns
    short = (f"; WRITE_PULSE_CYCLES={config.write_pulse_cycles} ({configured:g} ns) is below "
             f"t_switch: the energy is that of a {pulse / t_clk_ns:.0f}-cycle pulse"
             if configured < device.t_switch_ns else "")
    string_uA = V_WRITE_V / ((2 * rows - 1) * device.r_bypass_on_ohm
                             + device.r_cell_high_ohm) * 1e6
    write_source = (f"paper (1.5 V, row by row in two steps); R_cell and t_switch = "
                    f"{device.t_switch_ns:g} ns from DeviceParams; a write path that puts V_write "
                    f"across one cell (assumption: along the column string, through "
                    f"{2 * rows - 1} bypass transistors, at most {string_uA:.0f} µA would flow)")
    if device.i_write_uA * 1e-6 > w["i_ap_A"] * (1 + 1e-9):
        write_source += (f"; DeviceParams.i_write_uA = {device.i_write_uA:g} µA exceeds the "
                         f"{w['i_ap_A'] * 1e6:.1f} µA an AP cell passes at {V_WRITE_V:g} V")
    terms.append(AnalogTerm(
        "write_row_J", "row write, both sides", "row", w["cells"] + w["lines"],
        "2 · cols · (V_write² · t_pulse · (1/R_low + 1/R_high) / 2 + C_line · V_write²)",
        f"V_write = {V_WRITE_V:g} V, t_pulse = {pulse:g} ns, I = {w['i_p_A'] * 1e6:.0f} µA (P) "
        f"/ {w['i_ap_A'] * 1e6:.1f} µA (AP), C_line = {c_col * 1e15:.1f} fF: cells "
        f"{_pj(w['cells'])}, lines {_pj(w['lines'])}{short}",
        write_source))

    # not counted
    not_counted = ncols * ANALOG_OFF_LEAK_nA * 1e-9 * v * t_vmm_ns * 1e-9
    terms.append(AnalogTerm(
        "analog_leakage", "analogue leakage (comparators off, switches)", "not counted",
        not_counted, "cols · I_off · V_core · t_VMM",
        f"I_off = {ANALOG_OFF_LEAK_nA:g} nA per column (assumption)",
        "not counted: below 0.1 pJ; the MTJ strings draw no current outside arr_eval (foot "
        "switch open); the DLL's charge pump (tens of µA for tens of ps per cycle, ~1 fJ per "
        "cycle) and the arr_pre / arr_eval switch gates (~0.1 pJ) are left out too"))

    energy = AnalogEnergy(precharge_J=precharge, bypass_J=bypass, comparator_J=comparator,
                          phase_generator_J=phase_gen, phase_lines_J=phase_lines,
                          samplers_J=samplers, tdc_leakage_J=tdc_leak,
                          write_row_J=w["cells"] + w["lines"])
    return energy, tuple(terms)


def analog_energy(*, config: MacroConfig, device: DeviceParams, readout: ReadoutParams,
                  t_clk_ns: float, eval_cycles: float, vmm_cycles: float,
                  bypass_toggles_per_vmm: float) -> AnalogEnergy:
    """Analogue energy of one VMM of ``config``'s array, and of one row write.

    ``readout`` must be designed for ``t_clk_ns`` and ``config``
    (:func:`sim_models.readout.design_readout_for`); ``eval_cycles`` are the cycles with
    ``arr_eval`` high per VMM, ``vmm_cycles`` all cycles per VMM, ``bypass_toggles_per_vmm`` the
    toggles of all bypass lines per VMM (:func:`random_vmm_operating_point` gives the model's
    values). ValueError on any bad argument.
    """
    return _analyse(config=config, device=device, readout=readout, t_clk_ns=t_clk_ns,
                    eval_cycles=eval_cycles, vmm_cycles=vmm_cycles,
                    bypass_toggles_per_vmm=bypass_toggles_per_vmm)[0]


def analog_terms(*, config: MacroConfig, device: DeviceParams, readout: ReadoutParams,
                 t_clk_ns: float, eval_cycles: float, vmm_cycles: float,
                 bypass_toggles_per_vmm: float) -> tuple[AnalogTerm, ...]:
    """The table behind :func:`analog_energy` (same arguments): every counted term (its value is
    the :class:`AnalogEnergy` field ``key``), the comparisons and what is not counted."""
    return _analyse(config=config, device=device, readout=readout, t_clk_ns=t_clk_ns,
                    eval_cycles=eval_cycles, vmm_cycles=vmm_cycles,
                    bypass_toggles_per_vmm=bypass_toggles_per_vmm)[1]


_KIND_LABEL = {"vmm": "per VMM", "row": "per row write", "comparison": "comparison",
               "not counted": "not counted"}


def terms_markdown(terms: tuple[AnalogTerm, ...]) -> str:
    """The table as Markdown (docs/ppa.md)."""
    lines = ["| term | energy | formula | operating point | source / assumption |",
             "|---|---|---|---|---|"]
    for t in terms:
        cells = [f"{t.title} ({_KIND_LABEL[t.kind]})", _pj(t.value_J), t.formula,
                 t.operating_point, t.source]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def terms_lines(terms: tuple[AnalogTerm, ...]) -> list[str]:
    """The table as plain text lines (the PPA report): ``title (kind): value = formula``."""
    return [f"{t.title} ({_KIND_LABEL[t.kind]}): {_pj(t.value_J)} = {t.formula}"
            for t in terms]


# -- docs/ppa.md --------------------------------------------------------------------------------
#: The generated table's markers in docs/ppa.md.
DOCS_BEGIN = ("<!-- analog-terms:begin (generated by `python -m mram_macro.flow.ppa.analog`; "
              "do not edit) -->")
DOCS_END = "<!-- analog-terms:end -->"


def nominal_terms(config: MacroConfig | None = None, device: DeviceParams | None = None, *,
                  t_clk_ns: float | None = None) -> tuple[AnalogTerm, ...]:
    """The table at the model's random-VMM operating point (:func:`random_vmm_operating_point`)
    of ``config`` (default macro) and ``device`` (ideal), at ``t_clk_ns`` (default: the headline
    library's sign-off clock), as docs/ppa.md shows it."""
    from mram_macro.design.macro import MacroDesign
    from mram_macro.flow.ppa.libraries import HEADLINE_LIBRARY

    config = config or MacroConfig()
    device = device or DeviceParams()
    t_clk_ns = LIBRARIES[HEADLINE_LIBRARY].target_period_ns if t_clk_ns is None else t_clk_ns
    readout = MacroDesign.derive(config, device, t_clk_ns=t_clk_ns).readout
    op = random_vmm_operating_point(config, device, readout)
    return analog_terms(config=config, device=device, readout=readout, t_clk_ns=t_clk_ns,
                        eval_cycles=op.eval_cycles, vmm_cycles=op.vmm_cycles,
                        bypass_toggles_per_vmm=op.bypass_toggles_per_vmm)


#: Delay budgets (TDC steps at the slowest column's slope) that :func:`comparator_budgets`
#: tabulates; the kit's comparators are sized for the first.
COMPARATOR_BUDGETS = (1.0, 1.25, 1.5, 1.75, 2.0, 3.0)


@dataclass(frozen=True)
class ComparatorBudget:
    """One row of :func:`comparator_budgets`: the comparator sized for ``budget_steps``, its
    bias, its delay at the slowest and the fastest column's slope, the spread between them (in
    TDC steps), and its energy per VMM with the analogue per-VMM total it gives."""

    budget_steps: float
    stages: int
    bias_A: float
    delay_max_ns: float
    delay_min_ns: float
    spread_steps: float
    comparator_J: float
    analog_per_vmm_J: float
    #: With the delay in the trips (``DeviceParams.comparator_delay_budget_steps``): every
    #: count's ideal trip inside its TDC bin, so the ideal device's results stay exact.
    ideal_exact: bool | None = None
    #: RMS error of the VMM results (signed dot products) at the paper's spread, on
    #: offset-calibrated golden dies (:func:`comparator_delay_errors`).
    rms_error: float | None = None


#: What :func:`comparator_delay_errors` runs: dies, random VMMs per die, the seed of the weights
#: and inputs (the same for every budget, and the same dies).
DELAY_STUDY = {"dies": 4, "vmms": 2000, "seed": 0}


def comparator_delay_errors(config: MacroConfig | None = None, *, t_clk_ns: float = 2.0,
                            budgets=(None, *COMPARATOR_BUDGETS), dies: int = DELAY_STUDY["dies"],
                            vmms: int = DELAY_STUDY["vmms"],
                            seed: int = DELAY_STUDY["seed"]) -> dict:
    """What the comparators' slope-dependent delay does to the results, per delay budget
    (None: the constant delay of the kit's default model): the readout designed with it
    (:func:`sim_models.readout.design_readout`), then ``dies`` golden dies at the paper's
    spread, offset-calibrated, each running ``vmms`` random ±1 VMMs on one random weight
    matrix (the same for every budget). Per budget: whether the ideal device's results are
    exact, and the RMS error of the results against the exact dot products.

    The build is ``config`` (default: the default macro) with a write pulse long enough to
    switch the cells at ``t_clk_ns`` (the golden model refuses one that does not)."""
    from mram_macro.host import Macro

    config = config or MacroConfig()
    pulse_ns = write_pulse_ns(config=config, device=DeviceParams(), t_clk_ns=t_clk_ns)
    config = dataclasses.replace(config, write_pulse_cycles=round(pulse_ns / t_clk_ns))
    rng = np.random.default_rng(seed)
    w = rng.choice([-1, 1], (config.rows, config.cols))
    x = rng.choice([-1, 1], (vmms, config.rows))
    exact = x @ w
    out = {}
    for budget in budgets:
        ideal = DeviceParams(comparator_delay_budget_steps=budget)
        with Macro.golden(config, device=ideal, t_clk_ns=t_clk_ns) as m:
            m.write_weights(w)
            ideal_exact = bool(np.array_equal(m.vmm(x[:256]), exact[:256]))
        errors = []
        for die in range(dies):
            with Macro.golden(config, device=DeviceParams.paper(
                    comparator_delay_budget_steps=budget), seed=die, t_clk_ns=t_clk_ns) as m:
                m.write_weights(w)
                m.calibrate()
                errors.append(np.asarray(m.vmm(x)) - exact)
        e = np.concatenate(errors)
        out[budget] = {"ideal_exact": ideal_exact, "rms_error": float(np.sqrt(np.mean(e ** 2)))}
    return out


def comparator_budgets(config: MacroConfig | None = None, device: DeviceParams | None = None,
                       *, t_clk_ns: float | None = None,
                       budgets: tuple[float, ...] | None = None) -> tuple[ComparatorBudget, ...]:
    """What the comparators would cost at longer delay budgets, at the operating point of
    :func:`nominal_terms` (same configuration, device and clock defaults).

    The kit sizes each comparator so that its decision delay at the slowest column's slope is
    ``DeviceParams.comparator_delay_budget_steps`` TDC steps (2; :func:`comparator_design`).
    A delay common to every column only shifts the trips (the readout design absorbs it);
    what distorts the codes is its spread over the columns' slopes, which grows with the budget
    while the bias falls. The slope-dependent delay is in the trips of the functional model
    (:mod:`sim_models.readout`, with the comparator of the device's budget), and each row
    carries what :func:`comparator_delay_errors` measures with that budget instead.

    Raises:
        ValueError: a budget that is not a positive number."""
    from mram_macro.design.macro import MacroDesign
    from mram_macro.flow.ppa.libraries import HEADLINE_LIBRARY

    config = config or MacroConfig()
    device = device or DeviceParams()
    budgets = COMPARATOR_BUDGETS if budgets is None else tuple(budgets)
    for b in budgets:
        _number("delay budget", b)
    t_clk_ns = LIBRARIES[HEADLINE_LIBRARY].target_period_ns if t_clk_ns is None else t_clk_ns
    readout = MacroDesign.derive(config, device, t_clk_ns=t_clk_ns).readout
    op = random_vmm_operating_point(config, device, readout)
    terms = analog_terms(config=config, device=device, readout=readout, t_clk_ns=t_clk_ns,
                         eval_cycles=op.eval_cycles, vmm_cycles=op.vmm_cycles,
                         bypass_toggles_per_vmm=op.bypass_toggles_per_vmm)
    others = sum(t.value_J for t in terms if t.kind == "vmm" and t.key != "comparator_J")
    cols, slopes = _slopes_V_per_ns(config.rows, device, readout)
    study = comparator_delay_errors(config, t_clk_ns=t_clk_ns, budgets=(None, *budgets))
    rows = [ComparatorBudget(budget_steps=0.0, stages=0, bias_A=0.0, delay_max_ns=0.0,
                             delay_min_ns=0.0, spread_steps=0.0, comparator_J=float("nan"),
                             analog_per_vmm_J=float("nan"), **study[None])]
    for budget in budgets:
        cmp = comparator_design(rows=config.rows, device=device, readout=readout,
                                delay_budget_steps=budget)
        energy, _, _ = _comparator_J(cmp, config=config, readout=readout, cols=cols,
                                     slopes=slopes, t_clk_ns=t_clk_ns,
                                     t_eval_ns=op.eval_cycles * t_clk_ns)
        rows.append(ComparatorBudget(
            budget_steps=float(budget), stages=cmp.stages, bias_A=cmp.bias_A,
            delay_max_ns=float(cmp.delay_ns(cmp.slope_min_V_per_ns)),
            delay_min_ns=float(cmp.delay_ns(cmp.slope_max_V_per_ns)),
            spread_steps=cmp.delay_spread_steps, comparator_J=energy,
            analog_per_vmm_J=others + energy, **study[budget]))
    return tuple(rows)


def budgets_markdown(rows: tuple[ComparatorBudget, ...]) -> str:
    """The table of :func:`comparator_budgets` (docs/ppa.md, ``python -m mram_macro.flow.ppa
    comparators``)."""
    out = ["| delay budget at the slowest slope (TDC steps) | stages | bias per comparator "
           "| delay, slowest..fastest column | spread (TDC steps) | comparators per VMM "
           "| analogue per VMM | ideal device exact | RMS result error, paper spread, "
           "calibrated |", "|---|---|---|---|---|---|---|---|---|"]

    def measured(r):
        return (f"{'yes' if r.ideal_exact else 'no' if r.ideal_exact is not None else '-'} | "
                + (f"{r.rms_error:.3f}" if r.rms_error is not None else "-"))

    for r in rows:
        if r.stages == 0:
            out.append(f"| none: one constant delay (the model's default) | - | - | - | 0 | - | "
                       f"- | {measured(r)} |")
            continue
        kit = r.budget_steps == DeviceParams().comparator_delay_budget_steps
        out.append(f"| {r.budget_steps:g}{' (the kit)' if kit else ''} | "
                   f"{r.stages} | {r.bias_A * 1e6:.1f} µA | {r.delay_max_ns * 1e3:.0f}.."
                   f"{r.delay_min_ns * 1e3:.0f} ps | {r.spread_steps:.2f} | "
                   f"{_pj(r.comparator_J)} | {_pj(r.analog_per_vmm_J)} | {measured(r)} |")
    return "\n".join(out) + "\n"


def docs_block(terms: tuple[AnalogTerm, ...] | None = None) -> str:
    """What docs/ppa.md holds between :data:`DOCS_BEGIN` and :data:`DOCS_END`."""
    terms = nominal_terms() if terms is None else terms
    per_vmm = sum(t.value_J for t in terms if t.kind == "vmm")
    budgets = comparator_budgets()
    return (f"{terms_markdown(terms)}\n"
            f"Sum of the per-VMM terms: **{_pj(per_vmm)}** per VMM.\n\n"
            f"What the comparators would cost sized for a longer decision delay "
            f"(`python -m mram_macro.flow.ppa comparators`; the same model, the same "
            f"operating point), and what their delay does to the results. "
            f"`DeviceParams.comparator_delay_budget_steps` (the kit: "
            f"{DeviceParams().comparator_delay_budget_steps:g}) sizes the comparator of "
            f"`sim_models/comparator.py` for that budget; its slope-dependent delay is in every "
            f"trip and the readout design places the trips with it (None: one constant delay "
            f"for every column, the model until 2026-12-07, whose energy row sized them for one "
            f"step); the last two columns are measured on the golden model with it "
            f"(`comparator_delay_errors`: the ideal device, and {DELAY_STUDY['dies']} dies at "
            f"the paper's spread, offset-calibrated, {DELAY_STUDY['vmms']} random VMMs each on "
            f"one weight matrix, the same for every row):\n\n"
            f"{budgets_markdown(budgets)}")


def render_docs(text: str, terms: tuple[AnalogTerm, ...] | None = None) -> str:
    """``text`` (docs/ppa.md) with the generated block replaced; ValueError without markers."""
    if DOCS_BEGIN not in text or DOCS_END not in text:
        raise ValueError(f"the document has no {DOCS_BEGIN!r} ... {DOCS_END!r} block")
    head, rest = text.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    return f"{head}{DOCS_BEGIN}\n{docs_block(terms)}{DOCS_END}{tail}"


if __name__ == "__main__":
    from pathlib import Path

    _doc = Path(__file__).resolve().parents[3] / "docs" / "ppa.md"
    _doc.write_text(render_docs(_doc.read_text()))
    print(f"updated the analogue terms in {_doc}")
