"""The comparator's slope-dependent decision delay in the trips (sim_models/comparator.py,
``DeviceParams.comparator_delay_budget_steps``): its sizing, the trip times it adds to, the
readout designed with it, and what is refused."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim_models.comparator import size_comparator
from sim_models.device import DeviceError, DeviceParams
from sim_models.readout import (
    design_readout,
    evaluate_codes,
    evaluate_fine_trips,
    trip_time_ns,
)

ROWS = 64


def _readout(budget, **device):
    return design_readout(ROWS, DeviceParams(comparator_delay_budget_steps=budget, **device),
                          t_clk_ns=2.0, fine_taps=8)


def _vmm_r(device: DeviceParams, rows: int = ROWS) -> np.ndarray:
    """Column resistance of 0..rows mismatching cells."""
    return rows * device.r_cell_low_ohm + np.arange(rows + 1) * device.delta_r_ohm


def test_sizing_by_hand():
    """One integrating stage per decade of gain is not enough: for a 250 ps budget at the
    slowest column of the default two-step readout (0.87 mV per step), four stages of 2 fF
    need 126 µS each, 67.3 µA in all, and decide a column twice as fast in 218 ps."""
    ro = _readout(None)
    c_col = ro.c_col_F(ROWS, DeviceParams())
    s_min = ro.v_ref_V / (ROWS * 26e3 * c_col) * 1e-9
    s_max = ro.v_ref_V / (ROWS * 13e3 * c_col) * 1e-9
    cmp = size_comparator(step_ns=0.25, slope_min_V_per_ns=s_min, slope_max_V_per_ns=s_max,
                          v_supply_V=0.9)
    assert cmp.stages == 4
    assert float(cmp.delay_ns(s_min)) == pytest.approx(0.25)
    # t_d ∝ S^(-1/(N+1)): a slope twice as steep decides 2^(1/5) times sooner
    assert float(cmp.delay_ns(s_max)) == pytest.approx(0.25 / 2 ** 0.2)
    assert cmp.bias_A == pytest.approx(67.3e-6, rel=2e-3)
    # the same delay written in the column's resistance, as the trip model and the golden
    # model's fast path take it: g R^(1/(N+1))
    r = np.array([ROWS * 13e3, ROWS * 20e3, ROWS * 26e3])
    assert cmp.delay_exponent == 0.2
    assert cmp.column_delay_ns(r, c_col, ro.v_ref_V) == pytest.approx(
        cmp.delay_ns(ro.v_ref_V / (r * c_col) * 1e-9), rel=1e-12)
    assert np.isinf(cmp.column_delay_coefficient(c_col, -0.01))         # never trips
    assert cmp.gm_S == pytest.approx(126e-6, rel=5e-3)


@pytest.mark.parametrize("bad", [{"step_ns": 0}, {"budget_steps": -1.0},
                                 {"slope_min_V_per_ns": float("nan")},
                                 {"slope_max_V_per_ns": 0.001}])
def test_sizing_refuses_bad_arguments(bad):
    args = dict(step_ns=0.25, slope_min_V_per_ns=0.0035, slope_max_V_per_ns=0.007,
                v_supply_V=0.9, budget_steps=1.0)
    with pytest.raises(ValueError):
        size_comparator(**{**args, **bad})


def test_the_delay_is_added_to_every_trip_at_its_slope():
    """trip = R C ln(V_pre/V_ref) + constant + t_d(V_ref / (R C)), by hand for two columns; and
    with a comparator offset the slope is taken where the column meets V_ref + dV."""
    ro = _readout(1.75)
    d = DeviceParams(comparator_delay_budget_steps=1.75)
    c_col = ro.c_col_F(ROWS, d)
    for r in (ROWS * 13e3, ROWS * 26e3):
        by_hand = (r * c_col * math.log(1 / ro.v_ref_ratio) * 1e9 + ro.t_cmp_delay_ns
                   + float(ro.comparator.delay_ns(ro.v_ref_V / (r * c_col) * 1e-9)))
        assert float(trip_time_ns(r, ROWS, d, ro)) == pytest.approx(by_hand, rel=1e-12)
    r, dv = np.array([ROWS * 20e3]), np.array([0.01])
    v = ro.v_ref_V + dv[0]
    by_hand = (r[0] * c_col * math.log(ro.v_pre_V / v) * 1e9 + ro.t_cmp_delay_ns
               + float(ro.comparator.delay_ns(v / (r[0] * c_col) * 1e-9)))
    m, residue = evaluate_fine_trips(r, device=d, readout=ro, rows=ROWS, comparator_offset_V=dv)
    assert m * 8 - residue == pytest.approx(by_hand / ro.t_fine_ns, rel=1e-12)


@pytest.mark.parametrize("budget", [1.0, 1.75, 3.0])
def test_readout_designed_with_the_delay_keeps_the_ideal_results_exact(budget):
    """Every count's delayed trip lands inside its own TDC bin, at least the design margin
    (0.1 step) from its edges, so the ideal device's codes are the counts; the trips spread
    over the bin by the comparator's delay spread; the start delay (and so the comparators'
    enable) is the one without the delay."""
    d = DeviceParams(comparator_delay_budget_steps=budget)
    ro = _readout(budget)
    assert ro.comparator is not None
    assert ro.start_delay_cycles == _readout(None).start_delay_cycles
    x = trip_time_ns(_vmm_r(d), ROWS, d, ro) / ro.t_fine_ns
    frac = x % 1
    assert frac.min() >= 0.1 and frac.max() <= 0.9
    assert np.ptp(frac) == pytest.approx(ro.comparator.delay_spread_steps, rel=1e-9)
    codes, overflow = evaluate_codes(_vmm_r(d), device=d, readout=ro, rows=ROWS, tdc_bits=7,
                                     start_delay_cycles=ro.start_delay_cycles)
    assert np.array_equal(codes, np.arange(ROWS + 1)) and not overflow.any()
    # the constant part may be negative, the total by less than a step
    assert ro.t_cmp_delay_ns + float(ro.comparator.delay_ns(
        ro.comparator.slope_max_V_per_ns)) > -ro.t_fine_ns


def test_without_the_knob_nothing_changes():
    ro = _readout(None)
    assert ro.comparator is None
    assert ro.t_cmp_delay_ns == pytest.approx(0.21625)
    assert float(ro.decision_delay_ns(1e6, 1e-13)) == 0.0


def test_a_delay_spread_wider_than_a_bin_is_refused():
    with pytest.raises(DeviceError, match="smaller comparator_delay_budget_steps"):
        _readout(8.0)


@pytest.mark.parametrize("budget", [0, -1.0, True, float("nan"), "2"])
def test_device_refuses_a_bad_budget(budget):
    with pytest.raises(DeviceError, match="comparator_delay_budget_steps"):
        DeviceParams(comparator_delay_budget_steps=budget)


def test_readout_refuses_a_total_delay_a_step_below_zero():
    ro = _readout(1.0)
    fastest = float(ro.comparator.delay_ns(ro.comparator.slope_max_V_per_ns))
    assert ro.cmp_delay_floor_ns == pytest.approx(fastest + ro.t_fine_ns)
    dataclasses.replace(ro, t_cmp_delay_ns=-fastest - 0.99 * ro.t_fine_ns)     # allowed
    with pytest.raises(DeviceError, match="fastest decision"):
        dataclasses.replace(ro, t_cmp_delay_ns=-fastest - ro.t_fine_ns)
    with pytest.raises(DeviceError, match="must not be negative"):
        dataclasses.replace(ro, t_cmp_delay_ns=-0.01, comparator=None)


def test_published_power_runs_see_the_same_pins_with_the_delay():
    """The gate-level power runs of every published build (docs/ppa, docs/mnist) drive the
    netlist from the ideal device's trips at the testbench's clock: with the comparators'
    delay in the trips every count still trips in the same TDC step, so every column's
    comparator rises on the same edge with the same interpolator bits as without it, and the
    published activity (and the digital energy from it) stands."""
    import json
    from pathlib import Path

    from mram_macro.design.config import MacroConfig
    from mram_macro.design.macro import MacroDesign
    from mram_macro.sim.testbench.model import T_CLK_NS
    from sim_models.interpolator import thermometer

    root = Path(__file__).resolve().parents[2] / "docs"
    rows = [*json.loads((root / "ppa" / "ppa.json").read_text()),
            *json.loads((root / "ppa" / "ppa_profiles.json").read_text()),
            *json.loads((root / "mnist" / "ppa_mnist.json").read_text())]
    configs = {MacroConfig.from_dict(r["config"]) for r in rows}
    assert len(configs) >= 3
    for config in configs:
        seen = []
        for budget in (None, DeviceParams().comparator_delay_budget_steps):
            device = DeviceParams(comparator_delay_budget_steps=budget)
            ro = MacroDesign.derive(config, device, t_clk_ns=T_CLK_NS).readout
            assert (ro.comparator is None) == (budget is None or config.fine_taps == 1)
            m, residue = evaluate_fine_trips(_vmm_r(device, config.rows), device=device,
                                             readout=ro, rows=config.rows)
            seen.append((m, thermometer(residue, np.zeros(config.fine_taps - 1)),
                         ro.start_delay_cycles))
        assert np.array_equal(seen[0][0], seen[1][0]), config.slug
        assert np.array_equal(seen[0][1], seen[1][1]), config.slug
        assert seen[0][2] == seen[1][2], config.slug



def test_golden_fast_path_adds_the_delay_like_the_trip_model():
    """The golden model's folded path (one matrix product per batch) takes the comparator's
    delay from the resistance that product implies; its codes equal the trip model's
    (evaluate_codes) with the paper's spread and comparator offsets."""
    from mram_macro.design.config import MacroConfig
    from mram_macro.design.macro import MacroDesign

    design = MacroDesign.derive(MacroConfig(), DeviceParams(), t_clk_ns=2.0)
    assert design.readout.comparator is not None
    for device in (DeviceParams(), DeviceParams.paper(comparator_offset_sigma_V=3e-3)):
        g = design.golden(device, seed=5)
        x = np.random.default_rng(2).integers(0, 2, (1000, 64))
        assert g._folded()
        fast = g.convert(x, first_evaluation=0)
        slow = evaluate_codes(g.array.vmm_resistance_ohm(x), device=g.device, readout=g.readout,
                              rows=64, tdc_bits=7, start_delay_cycles=g.start_delay_cycles,
                              comparator_offset_V=g.array.comparator_offset_V,
                              noise_seed=g.die.seed, first_evaluation=0)
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
        # and the delay matters: without it another code somewhere
        g2 = MacroDesign.derive(MacroConfig(), DeviceParams(comparator_delay_budget_steps=None),
                                t_clk_ns=2.0).golden(device.replace(
                                    comparator_delay_budget_steps=None), seed=5)
        if device.sigma_low_ohm:
            assert not np.array_equal(g2.convert(x, first_evaluation=0)[0], fast[0])
