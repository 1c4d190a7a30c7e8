"""The analogue energy terms (mram_macro/flow/ppa/analog.py) against hand calculations.

Every expected value below is worked out here from the numbers it depends on, written out
(paper values, the readout design's V_ref, the NanGate 45 nm Liberty values and the assumptions
of analog.py), not by calling the helper under test. Default macro (64 x 64, two-step TDC with
8 phases), ideal device, readout designed for the 2 ns NanGate 45 nm clock, 17 evaluation
cycles and 20 cycles per VMM, 64 bypass toggles per VMM.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from mram_macro.design.config import profile_config
from mram_macro.flow.ppa import analog
from mram_macro.flow.ppa.analog import (
    AnalogEnergy,
    analog_energy,
    analog_terms,
    comparator_design,
    precharge_energy_J,
    random_vmm_operating_point,
    write_pulse_ns,
    write_row_energy_J,
)
from mram_macro.flow.ppa.libraries import LIBRARIES
from sim_models.device import DeviceParams
from sim_models.interpolator import thermometer
from sim_models.readout import design_readout_for, evaluate_fine_trips

ROWS = COLS = 64
T_CLK = 2.0
EVAL, VMM, TOGGLES = 17.0, 20.0, 64.0
C_COL = 64 * 2.1e-15                       # F: 64 cells of 2.1 fF (paper)
R_LOW, R_HIGH = 13e3, 26e3                 # cell resistances (paper), ohm
V = 0.9                                    # core supply = V_pre
S = 28 / 45                                # capacitance scale 45 -> 28 nm
K_E = 28 / 45 * (0.9 / 1.1) ** 2           # energy scale 45 nm / 1.1 V -> 28 nm / 0.9 V
PMF = [math.comb(64, n) / 2 ** 64 for n in range(65)]
R_COL = [n * R_LOW + (64 - n) * R_HIGH for n in range(65)]   # n matching cells

DOC = Path(__file__).resolve().parents[2] / "docs" / "ppa.md"


@pytest.fixture(scope="module")
def setup():
    config, device = profile_config("full"), DeviceParams()
    readout = design_readout_for(config, device, t_clk_ns=T_CLK)
    energy = analog_energy(config=config, device=device, readout=readout, t_clk_ns=T_CLK,
                           eval_cycles=EVAL, vmm_cycles=VMM, bypass_toggles_per_vmm=TOGGLES)
    return config, device, readout, energy


def _mean(values) -> float:
    return sum(p * x for p, x in zip(PMF, values, strict=True))


def test_default_readout_is_the_two_step_tdc_at_2ns(setup):
    """The numbers the hand calculations below rest on."""
    config, _, readout, _ = setup
    assert config.fine_taps == 8 and readout.fine_taps == 8
    assert readout.t_fine_ns == pytest.approx(0.25)
    # one mismatch step (13 kOhm) = 250 ps: ln(V_pre/V_ref) = 0.25e-9 / (13e3 * 134.4e-15)
    assert readout.v_ref_ratio == pytest.approx(math.exp(-0.25e-9 / (13e3 * 134.4e-15)))
    assert readout.v_ref_V == pytest.approx(0.78, abs=0.001)


def test_precharge_restores_what_the_columns_lost(setup):
    _, device, readout, e = setup
    t = EVAL * T_CLK * 1e-9                                   # 34 ns with arr_eval high
    hand = 64 * _mean([C_COL * V * (V - V * math.exp(-t / (r * C_COL))) for r in R_COL])
    assert e.precharge_J == pytest.approx(hand, rel=1e-9)
    # about 1.3 pJ: the mean column (1.248 MOhm, tau 168 ns) loses 0.9 * (1 - e^-0.203) = 0.165 V
    assert e.precharge_J == pytest.approx(64 * 134.4e-15 * 0.9 * 0.165, rel=0.02)
    assert precharge_energy_J(rows=64, cols=64, device=device, readout=readout,
                              t_eval_ns=34.0) == pytest.approx(hand, rel=1e-9)


@pytest.mark.parametrize("eval_cycles", [15.0, 17.0, 23.0])
def test_precharge_lies_between_the_trip_swing_and_full_discharge(setup, eval_cycles):
    """Every column has tripped (fell below V_ref) before arr_eval falls, and none is empty."""
    _, device, readout, _ = setup
    e = precharge_energy_J(rows=64, cols=64, device=device, readout=readout,
                           t_eval_ns=eval_cycles * T_CLK)
    to_ref = 64 * C_COL * V * (V - readout.v_ref_V)          # 0.93 pJ
    full = 64 * C_COL * V * V                                # 6.97 pJ, the old figure
    assert to_ref == pytest.approx(0.93e-12, rel=0.01) and full == pytest.approx(6.967e-12,
                                                                                 rel=1e-3)
    assert to_ref < e < full


def test_bypass_lines(setup):
    *_, e = setup
    # W = 1000 ohm um / 1000 ohm = 1 um -> 1 fF gate, + 0.2 fF/um * 2 um wire = 1.4 fF per cell
    assert e.bypass_J == pytest.approx(64 * 64 * 1.4e-15 * 0.9 ** 2, rel=1e-9)


def test_comparator_is_sized_to_resolve_one_step(setup):
    _, device, readout, _ = setup
    cmp = comparator_design(rows=64, device=device, readout=readout)
    s_min = readout.v_ref_V / (64 * R_HIGH * C_COL)          # V/s, slowest column at the trip
    dv_step = s_min * 0.25e-9                                # ~0.87 mV over one 250 ps step
    assert dv_step == pytest.approx(0.87e-3, rel=0.01)
    # the cheapest cascade: bias ~ N * omega_u, omega_u = ((N+1)! * 0.45 V / dv_step)^(1/N) / t
    cost = {n: n * (math.factorial(n + 1) * 0.45 / dv_step) ** (1 / n) for n in range(1, 9)}
    n = min(cost, key=cost.get)
    assert cmp.stages == n == 4
    omega = (math.factorial(n + 1) * 0.45 / dv_step) ** (1 / n) / 0.25e-9
    bias = n * 2 * omega * 2e-15 / 15                        # N stages x 2 I_D, gm = omega C_L
    assert cmp.bias_A == pytest.approx(bias, rel=1e-9)
    assert 60e-6 < cmp.bias_A < 75e-6
    # its delay to resolve the slowest column's ramp is one step, the fastest a bit less
    assert cmp.delay_ns(s_min * 1e-9) <= 0.25 * (1 + 1e-9)
    assert cmp.delay_ns(2 * s_min * 1e-9) < 0.25
    assert 0 < cmp.delay_spread_steps < 0.35                 # within the readout's trip margin


def test_comparator_delay_matches_a_simulated_cascade(setup):
    """Independent of the closed form: integrate the N-stage cascade driven by the slowest
    column's ramp (explicit Euler) and find when the last stage reaches V_sw."""
    _, device, readout, _ = setup
    cmp = comparator_design(rows=64, device=device, readout=readout)
    s = cmp.slope_min_V_per_ns * 1e9
    dt = 1e-14
    x = np.zeros(cmp.stages)
    t = 0.0
    while x[-1] < cmp.swing_V:
        t += dt
        inputs = np.r_[s * t, x[:-1]]
        x = x + cmp.omega_u_per_s * inputs * dt
    assert t * 1e9 == pytest.approx(cmp.step_ns, rel=0.01)


@pytest.mark.parametrize("budget", [1.5, 2.0, 3.0])
def test_comparator_for_a_longer_delay_budget(setup, budget):
    """Hand calculation as above with the overdrive built up over ``budget`` steps: the
    cascade's delay at the slowest slope is then ``budget`` steps (checked by integrating it),
    the bias falls, the spread over the slopes grows in proportion."""
    _, device, readout, _ = setup
    one = comparator_design(rows=64, device=device, readout=readout)
    assert comparator_design(rows=64, device=device, readout=readout,
                             delay_budget_steps=1.0) == one
    cmp = comparator_design(rows=64, device=device, readout=readout, delay_budget_steps=budget)
    t_d = budget * 0.25e-9
    dv = readout.v_ref_V / (64 * R_HIGH * C_COL) * t_d
    cost = {n: n * (math.factorial(n + 1) * 0.45 / dv) ** (1 / n) / t_d for n in range(1, 9)}
    n = min(cost, key=cost.get)
    assert cmp.stages == n
    assert cmp.bias_A == pytest.approx(n * 2 * cost[n] / n * 2e-15 / 15, rel=1e-9)
    assert cmp.bias_A < one.bias_A
    assert float(cmp.delay_ns(cmp.slope_min_V_per_ns)) == pytest.approx(budget * 0.25, rel=1e-9)
    s, dt, x, t = cmp.slope_min_V_per_ns * 1e9, 1e-14, np.zeros(cmp.stages), 0.0
    while x[-1] < cmp.swing_V:
        t += dt
        x = x + cmp.omega_u_per_s * np.r_[s * t, x[:-1]] * dt
    assert t == pytest.approx(t_d, rel=0.01)
    if n == one.stages:       # same cascade: the delay scales, so does its spread
        assert cmp.delay_spread_steps == pytest.approx(budget * one.delay_spread_steps, rel=1e-9)
    with pytest.raises(ValueError, match="delay_budget_steps must be a positive number"):
        comparator_design(rows=64, device=device, readout=readout, delay_budget_steps=0)


def test_comparator_budgets_table():
    none, *rows = analog.comparator_budgets()
    assert [r.budget_steps for r in rows] == list(analog.COMPARATOR_BUDGETS)
    # the first row is the model without the slope-dependent delay, measured only
    assert none.stages == 0 and none.ideal_exact and none.rms_error > 1
    # measured on the golden model with the delay in the trips: exact on the ideal device, and
    # at the paper's spread the RMS error within 1 % of the constant-delay model's (README)
    assert all(r.ideal_exact for r in rows)
    assert all(r.rms_error <= 1.01 * none.rms_error for r in rows)
    terms = {t.key: t for t in analog.nominal_terms()}
    kit = next(r for r in rows if r.budget_steps == DeviceParams().comparator_delay_budget_steps)
    # the kit's row is the published term, and the analogue total is the sum of the terms
    assert kit.budget_steps == 2 and kit.comparator_J == terms["comparator_J"].value_J
    assert kit.analog_per_vmm_J == pytest.approx(
        sum(t.value_J for t in terms.values() if t.kind == "vmm"), rel=1e-12)
    for a, b in itertools.pairwise(rows):
        assert b.bias_A < a.bias_A and b.comparator_J < a.comparator_J
        assert b.spread_steps > a.spread_steps and b.delay_max_ns > a.delay_max_ns
        # only the comparator term changes
        assert b.analog_per_vmm_J - b.comparator_J == pytest.approx(
            a.analog_per_vmm_J - a.comparator_J, rel=1e-12)
    # docs/ppa.md shows exactly this table
    assert analog.budgets_markdown((none, *rows)) in DOC.read_text()
    with pytest.raises(ValueError, match="delay budget must be a positive number"):
        analog.comparator_budgets(budgets=(1.0, -2.0))


def test_comparators_command(capsys):
    from mram_macro.flow.ppa.__main__ import main

    assert main(["comparators", "--budgets", "1", "2"]) == 0
    out = capsys.readouterr().out
    rows = analog.comparator_budgets(budgets=(1.0, 2.0))
    assert analog.budgets_markdown(rows) in out
    assert main(["comparators", "--budgets", "0"]) == 2
    assert "delay budget must be a positive number" in capsys.readouterr().err
    assert main(["comparators", "--config", '{"rows": 1}']) == 2


def test_comparator_energy_shut_off_after_its_decision(setup):
    config, device, readout, e = setup
    # the readout's own comparator: sized for the device's budget (2 steps at the slowest
    # column), whose delay is in the trips
    cmp = readout.comparator
    assert cmp == comparator_design(rows=64, device=device, readout=readout,
                                    delay_budget_steps=device.comparator_delay_budget_steps)
    on, late_on = [], []
    enable = (readout.start_delay_cycles - 1) * T_CLK * 1e-9          # arr_tdc_en rises
    for r in R_COL:
        t_cross = r * C_COL * math.log(1 / readout.v_ref_ratio)          # s
        slope = readout.v_ref_V / (r * C_COL)                            # V/s
        t_d = (120 * 0.45 / (cmp.omega_u_per_s ** 4 * slope)) ** (1 / 5)  # N = 4: (N+1)! = 120
        on.append(min(t_cross + t_d, EVAL * T_CLK * 1e-9))
        late_on.append(max(on[-1] - enable, t_d))
    hand = 64 * cmp.bias_A * 0.9 * _mean(late_on)
    assert e.comparator_J == pytest.approx(hand, rel=1e-9)
    # mean column: 1.248 MOhm * 134.4 fF * ln(0.9/0.78) = 24 ns from arr_eval, and its
    # decision about 0.46 ns later; the bias comes on at D - 1 = 7 cycles = 14 ns
    assert readout.start_delay_cycles == 8
    assert _mean(on) == pytest.approx(24.47e-9, rel=0.005)
    assert _mean(late_on) == pytest.approx(10.47e-9, rel=0.005)
    terms = {t.key: t for t in analog_terms(config=config, device=device, readout=readout,
                                            t_clk_ns=T_CLK, eval_cycles=EVAL, vmm_cycles=VMM,
                                            bypass_toggles_per_vmm=TOGGLES)}
    always = terms["comparator_always_on"]
    assert always.kind == "comparison"
    assert always.value_J == pytest.approx(64 * cmp.bias_A * 0.9 * 34e-9, rel=1e-9)
    from_eval = terms["comparator_from_eval"]
    assert from_eval.kind == "comparison"
    assert from_eval.value_J == pytest.approx(64 * cmp.bias_A * 0.9 * _mean(on), rel=1e-9)
    assert e.comparator_J < from_eval.value_J < always.value_J


def _mean_sampler_ones(readout) -> float:
    """Ideal thermometer ones ``m K - u`` of each column, by hand from the trip times."""
    ones = []
    cmp = readout.comparator
    for r in R_COL:
        slope = readout.v_ref_V / (r * C_COL)                            # V/s
        t_d = (120 * 0.45 / (cmp.omega_u_per_s ** 4 * slope)) ** (1 / 5)  # N = 4 stages
        t = r * C_COL * readout.log_ratio * 1e9 + readout.t_cmp_delay_ns + t_d * 1e9
        u = math.ceil(t / 0.25)
        m = max(1, -(-u // 8))
        ones.append(8 * m - u)
    return _mean(ones)


def test_mean_sampler_ones_of_the_model(setup):
    _, device, readout, _ = setup
    _, residue = evaluate_fine_trips(np.array(R_COL), device=device, readout=readout, rows=64)
    model = _mean(thermometer(residue, np.zeros(7)).sum(axis=-1))
    assert model == pytest.approx(_mean_sampler_ones(readout))
    assert 3.0 < _mean_sampler_ones(readout) < 4.0           # about uniform over 0..7


def test_two_step_tdc_front_end(setup):
    _, _, readout, e = setup
    v2 = 0.81
    # on for 17 - (D - 1) = 10 of the 17 evaluation cycles (arr_tdc_en)
    assert readout.start_delay_cycles == 8
    # DLL: 8 CLKBUF_X1 stages (4.023369 fJ, input 0.739516 fF) + a 2-flip-flop phase detector,
    # and 7 level-line gates, each modelled as one more CLKBUF_X1 stage
    dll = 10 * ((8 + 7) * (4.023369 * K_E + 0.739516 * S * v2) + 2 * 7.409754 * K_E) * 1e-15
    assert e.phase_generator_J == pytest.approx(dll, rel=1e-6)
    # 7 level lines: 64 D pins (1.090504 fF) + 2 * 64 * 2 um of 0.2 fF/um wire + 4 CLKBUF_X3
    # inputs (1.334975 fF), and 4 CLKBUF_X3 (10.757555 fJ) per line and cycle
    c_line = 64 * 1.090504 * S + 2 * 64 * 2 * 0.2 + 4 * 1.334975 * S
    lines = 10 * 7 * (c_line * v2 + 4 * 10.757555 * K_E) * 1e-15
    assert e.phase_lines_J == pytest.approx(lines, rel=1e-6)
    # 448 DFFR_X1 samplers, clocked by their comparator: one CK rise and fall per VMM (internal
    # 7.409754 fJ, pin 0.928651 fF driven by the comparator), one set and one clear per
    # thermometer one, D pins toggled up and down by the level lines for 10 cycles (3.839168 fJ
    # per pair), RN pulsed once
    ones = _mean_sampler_ones(readout)
    samplers = (448 * (7.409754 * K_E + 0.928651 * S * v2)
                + 64 * ones * (5.029007 + 4.754281) * K_E
                + 448 * 10 * 3.839168 * K_E
                + 448 * 1.761575 * S * v2) * 1e-15
    assert e.samplers_J == pytest.approx(samplers, rel=1e-6)
    # the phase-clocked samplers of the kit until 2026-12-07, kept as a comparison row: the
    # same DLL without line gates, lines loading CK pins, samplers clocked every cycle
    old = (10 * (8 * (4.023369 * K_E + 0.739516 * S * v2) + 2 * 7.409754 * K_E)
           + 10 * 7 * ((64 * 0.928651 * S + 2 * 64 * 2 * 0.2 + 4 * 1.334975 * S) * v2
                       + 4 * 10.757555 * K_E)
           + 448 * 10 * 7.409754 * K_E + 64 * ones * (5.029007 + 4.754281) * K_E
           + 448 * (3.839168 * K_E + 1.090504 * S * v2) + 448 * 1.761575 * S * v2) * 1e-15
    terms = {t.key: t for t in analog_terms(**_args())}
    assert terms["front_end_phase_clocked"].value_J == pytest.approx(old, rel=1e-6)
    assert e.phase_generator_J + e.phase_lines_J + e.samplers_J < 0.8 * old
    # leakage of 450 DFFR_X1 (86.21278 nW), 15 CLKBUF_X1 (11.214093), 28 CLKBUF_X3 (30.558215),
    # at the 45 nm figure (leakage is not scaled)
    leak_w = (450 * 86.21278 + 15 * 11.214093 + 28 * 30.558215) * 1e-9
    assert e.tdc_leakage_J == pytest.approx(leak_w * 20 * 2e-9, rel=1e-6)


def test_counter_tdc_has_no_interpolator():
    config, device = profile_config("full", tdc_mode="counter"), DeviceParams()
    readout = design_readout_for(config, device, t_clk_ns=T_CLK)
    e = analog_energy(config=config, device=device, readout=readout, t_clk_ns=T_CLK,
                      eval_cycles=100.0, vmm_cycles=110.0, bypass_toggles_per_vmm=64.0)
    assert e.phase_generator_J == e.phase_lines_J == e.samplers_J == e.tdc_leakage_J == 0
    # one step is a whole 2 ns clock here: a far slower comparator suffices
    assert comparator_design(rows=64, device=device, readout=readout).bias_A < 10e-6


def test_write_energy_per_row(setup):
    *_, e = setup
    # 10 ns pulse (5 cycles: 4 are 8 ns, below t_switch); half the MTJs in P, half in AP
    per_mtj = 1.5 ** 2 * 10e-9 * (1 / 13e3 + 1 / 26e3) / 2
    line = 134.4e-15 * 1.5 ** 2
    assert e.write_row_J == pytest.approx(2 * 64 * (per_mtj + line), rel=1e-9)
    assert e.write_row_J == pytest.approx(204.9e-12, rel=1e-3)


@pytest.mark.parametrize("t_clk_ns", [1.0, 2.0, 3.0, 5.0, 7.0])
@pytest.mark.parametrize("pulse_cycles", [1, 4, 20])
def test_write_pulse_switches_and_current_fits_the_cell(t_clk_ns, pulse_cycles):
    device = DeviceParams()
    config = profile_config("full", write_pulse_cycles=pulse_cycles)
    pulse = write_pulse_ns(config=config, device=device, t_clk_ns=t_clk_ns)
    assert pulse >= device.t_switch_ns
    assert pulse >= pulse_cycles * t_clk_ns
    assert pulse < max(device.t_switch_ns, pulse_cycles * t_clk_ns) + t_clk_ns
    assert pulse / t_clk_ns == pytest.approx(round(pulse / t_clk_ns))
    w = write_row_energy_J(cols=64, device=device, pulse_ns=pulse, c_line_F=0.0)
    assert w["i_p_A"] <= 1.5 / 13e3 * (1 + 1e-12)
    assert w["i_ap_A"] <= 1.5 / 26e3 * (1 + 1e-12)
    # no MTJ draws more than V^2 / R_low for the pulse
    assert w["cells"] <= 2 * 64 * 1.5 ** 2 / 13e3 * pulse * 1e-9


def test_device_write_current_inconsistency_is_reported(setup):
    """DeviceParams.i_write_uA (100 uA) cannot flow through an AP cell at 1.5 V (57.7 uA)."""
    config, device, readout, _ = setup
    terms = {t.key: t for t in analog_terms(config=config, device=device, readout=readout,
                                            t_clk_ns=T_CLK, eval_cycles=EVAL, vmm_cycles=VMM,
                                            bypass_toggles_per_vmm=TOGGLES)}
    assert "exceeds the 57.7 µA" in terms["write_row_J"].source
    fixed = device.replace(i_write_uA=50.0)
    terms = {t.key: t for t in analog_terms(config=config, device=fixed, readout=readout,
                                            t_clk_ns=T_CLK, eval_cycles=EVAL, vmm_cycles=VMM,
                                            bypass_toggles_per_vmm=TOGGLES)}
    assert "exceeds" not in terms["write_row_J"].source


def test_per_vmm_sum_and_table_agree(setup):
    config, device, readout, e = setup
    counted = {"precharge_J", "bypass_J", "comparator_J", "phase_generator_J", "phase_lines_J",
               "samplers_J", "tdc_leakage_J"}
    assert e.per_vmm_J == pytest.approx(sum(getattr(e, k) for k in counted))
    terms = analog_terms(config=config, device=device, readout=readout, t_clk_ns=T_CLK,
                         eval_cycles=EVAL, vmm_cycles=VMM, bypass_toggles_per_vmm=TOGGLES)
    for t in terms:
        assert t.formula and t.operating_point and t.source, t.key
        if t.kind in ("vmm", "row"):
            assert getattr(e, t.key) == t.value_J
    assert {t.key for t in terms if t.kind == "vmm"} == counted
    assert AnalogEnergy.__dataclass_params__.frozen


def test_operating_point_matches_a_monte_carlo_of_random_vmms(setup):
    """arr_eval falls S + 1 edges after the slowest column's trip edge (read_control.py)."""
    config, device, readout, _ = setup
    op = random_vmm_operating_point(config, device, readout)
    m_of_n, _ = evaluate_fine_trips(np.array(R_COL), device=device, readout=readout, rows=64)
    rng = np.random.default_rng(7)
    n = rng.binomial(64, 0.5, size=(20_000, 64))
    mc_eval = m_of_n[n].max(axis=1).mean() + 2 + 1
    assert op.eval_cycles == pytest.approx(mc_eval, abs=0.03)
    assert op.vmm_cycles == pytest.approx(op.eval_cycles + 2 + 1)
    # `make bench` measured 19.85 cycles per VMM for this build (README, TDC modes)
    assert op.vmm_cycles == pytest.approx(19.85, abs=0.1)
    assert op.bypass_toggles_per_vmm == 64


@pytest.mark.parametrize(("config", "t_clk_ns", "measured"), [
    (profile_config("full", tdc_mode="counter"), 2.0, 112.45),
    (profile_config("full", tdc_mode="coarse", tdc_bits=4), 2.0, 18.22),
    (profile_config("full", tdc_mode="coarse", tdc_bits=4), 5.0, 17.00),   # 16 result beats per VMM
])
def test_cycles_per_vmm_of_other_modes_match_the_bench(config, t_clk_ns, measured):
    """`make bench` (README, TDC modes) measured these on Verilator, ideal device."""
    device = DeviceParams()
    readout = design_readout_for(config, device, t_clk_ns=t_clk_ns)
    op = random_vmm_operating_point(config, device, readout)
    assert op.vmm_cycles == pytest.approx(measured, abs=0.2)


def _args(**changes):
    config, device = profile_config("full"), DeviceParams()
    kwargs = dict(config=config, device=device,
                  readout=design_readout_for(config, device, t_clk_ns=T_CLK), t_clk_ns=T_CLK,
                  eval_cycles=EVAL, vmm_cycles=VMM, bypass_toggles_per_vmm=TOGGLES)
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize(("changes", "message"), [
    ({"eval_cycles": 0}, "eval_cycles must be a positive number, not 0"),
    ({"eval_cycles": -3.0}, "eval_cycles must be a positive number"),
    ({"eval_cycles": float("nan")}, "eval_cycles must be a positive number"),
    ({"eval_cycles": True}, "eval_cycles must be a positive number, not True"),
    ({"eval_cycles": "17"}, "eval_cycles must be a positive number"),
    ({"vmm_cycles": float("inf")}, "vmm_cycles must be a positive number"),
    ({"vmm_cycles": 10.0}, r"vmm_cycles \(10\) must not be below eval_cycles \(17\)"),
    ({"t_clk_ns": 0.0}, "t_clk_ns must be a positive number"),
    ({"t_clk_ns": 5.0}, r"designed for a 2 ns clock, not t_clk_ns=5.*design_readout_for"),
    ({"bypass_toggles_per_vmm": -1}, "bypass_toggles_per_vmm must be a non-negative number"),
    ({"config": "default"}, "config must be a MacroConfig, not str"),
    ({"device": None}, "device must be a DeviceParams, not NoneType"),
    ({"readout": 3}, "readout must be a ReadoutParams, not int"),
    ({"config": profile_config("full", tdc_mode="counter")}, "fine_taps=8, the configuration 1"),
])
def test_bad_arguments_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        analog_energy(**_args(**changes))
    with pytest.raises(ValueError, match=message):
        analog_terms(**_args(**changes))


def test_bad_helper_arguments_are_rejected(setup):
    _, device, readout, _ = setup
    with pytest.raises(ValueError, match="rows must be a positive integer, not 0"):
        precharge_energy_J(rows=0, cols=64, device=device, readout=readout, t_eval_ns=1.0)
    with pytest.raises(ValueError, match=r"cols must be a positive integer, not 2\.0"):
        precharge_energy_J(rows=64, cols=2.0, device=device, readout=readout, t_eval_ns=1.0)
    with pytest.raises(ValueError, match="t_eval_ns must be a positive number, not -1"):
        precharge_energy_J(rows=64, cols=64, device=device, readout=readout, t_eval_ns=-1)
    with pytest.raises(ValueError, match="rows must be a positive integer, not True"):
        comparator_design(rows=True, device=device, readout=readout)
    with pytest.raises(ValueError, match="pulse_ns must be a positive number, not 0"):
        write_row_energy_J(cols=64, device=device, pulse_ns=0, c_line_F=1e-15)
    with pytest.raises(ValueError, match="t_clk_ns must be a positive number"):
        write_pulse_ns(config=profile_config("full"), device=device, t_clk_ns=float("nan"))


def _liberty_value(text: str, cell: str, pin: str, *, cap=False, when=None, related=None,
                   kinds=("rise_power", "fall_power"), i=3, j=None) -> float:
    """A pin's mean capacitance, or the sum over ``kinds`` of an internal_power table entry
    (row ``i``: input slew, column ``j``: load), read straight from the Liberty text."""
    body = text[text.index(f"\n  cell ({cell}) {{"):]
    body = body[:body.find("\n  cell (", 10)]
    pin_at = body.index(f"\n\tpin ({pin})")
    pin_body = body[pin_at:body.find("\n\tpin (", pin_at + 5)]
    if cap:
        rise = float(re.search(r"rise_capacitance\s*:\s*([\d.]+)", pin_body).group(1))
        fall = float(re.search(r"fall_capacitance\s*:\s*([\d.]+)", pin_body).group(1))
        return (rise + fall) / 2
    for block in pin_body.split("internal_power ()")[1:]:
        w = re.search(r'when\s*:\s*"([^"]+)"', block)
        r = re.search(r'related_pin\s*:\s*"(\w+)"', block)
        if (w and w.group(1)) != when or (r and r.group(1)) != related:
            continue
        total = 0.0
        for kind in kinds:
            table = re.search(kind + r"\([^)]*\)\s*\{.*?values\s*\((.*?)\);", block, re.S)
            rows = [[float(x) for x in s.split(",")] for s in re.findall(r'"([^"]+)"',
                                                                         table.group(1))]
            total += rows[0][i] if j is None else rows[i][j]
        return total
    raise AssertionError(f"no internal_power of {cell}.{pin} when={when} related={related}")


def test_nangate_values_are_those_of_the_liberty_file():
    lib = LIBRARIES["nangate45"].liberty
    if not lib.is_file():
        pytest.skip(f"{lib} not installed (make setup)")
    text = lib.read_text()

    def leak(cell):
        body = text[text.index(f"\n  cell ({cell}) {{"):]
        return float(re.search(r"cell_leakage_power\s*:\s*([\d.]+)", body).group(1))

    dffr, clear = "DFFR_X1", ("fall_power",)
    expected = {
        "dffr_ck_fF": _liberty_value(text, dffr, "CK", cap=True),
        "dffr_d_fF": _liberty_value(text, dffr, "D", cap=True),
        "dffr_rn_fF": _liberty_value(text, dffr, "RN", cap=True),
        "dffr_clock_fJ": _liberty_value(text, dffr, "CK", when="!D & RN & !Q & QN"),
        "dffr_set_fJ": _liberty_value(text, dffr, "Q", related="CK", kinds=("rise_power",),
                                      j=1),
        "dffr_clear_fJ": (_liberty_value(text, dffr, "Q", when="!CK & !D", related="RN",
                                         kinds=clear, j=1)
                          + _liberty_value(text, dffr, "Q", when="CK & !D", related="RN",
                                           kinds=clear, j=1)) / 2,
        "dffr_d_pair_fJ": (_liberty_value(text, dffr, "D", when="!CK & RN & !Q & QN")
                           + _liberty_value(text, dffr, "D", when="CK & RN & !Q & QN")) / 2,
        "dffr_leak_nW": leak(dffr),
        "stage_in_fF": _liberty_value(text, "CLKBUF_X1", "A", cap=True),
        "stage_fJ": _liberty_value(text, "CLKBUF_X1", "Z", related="A", j=1),
        "stage_leak_nW": leak("CLKBUF_X1"),
        "buffer_in_fF": _liberty_value(text, "CLKBUF_X3", "A", cap=True),
        "buffer_fJ": _liberty_value(text, "CLKBUF_X3", "Z", related="A", j=3),
        "buffer_leak_nW": leak("CLKBUF_X3"),
    }
    assert analog.NANGATE45_CELLS["buffer"] == LIBRARIES["nangate45"].clock_buffer[0]
    assert set(analog.NANGATE45) == set(expected)
    for key, value in expected.items():
        assert analog.NANGATE45[key] == pytest.approx(value, rel=1e-6), key


def test_docs_table_is_current():
    text = DOC.read_text()
    assert analog.DOCS_BEGIN in text and analog.DOCS_END in text
    assert analog.render_docs(text) == text, \
        "docs/ppa.md's analogue table is stale: run `python -m mram_macro.flow.ppa.analog`"
    with pytest.raises(ValueError, match="has no"):
        analog.render_docs("# no markers\n")
