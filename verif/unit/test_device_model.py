"""Device non-idealities: statistics against closed-form predictions, faults, temperature, noise,
stochastic writes, write-verify, and the validation of every parameter. Die maps and die files
(save, load, CSV, malformed and non-physical files) are tested in ``test_die_files.py``.

Every random test uses fixed seeds, so it is deterministic; the tolerances are several standard
errors wide, yet tight enough that a wrong sigma, a missing term or a broken seed path fails.
"""

import math

import numpy as np
import pytest

from mram_macro.design.config import profile_config
from mram_macro.design.macro import MacroDesign
from mram_macro.rtl.top import verify_read_design
from sim_models import (
    LEFT,
    RIGHT,
    STUCK_HIGH,
    STUCK_LOW,
    DeviceError,
    DeviceParams,
    Die,
    MramArray,
    ReadoutParams,
    SingleReadSetup,
    bypass_for_inputs,
    design_readout,
    evaluate_codes,
    evaluate_trip_cycles,
    single_read_delay_and_threshold,
    write_verify_array,
    write_verify_row,
    write_verify_study,
)
from sim_models.readout import NEVER_TRIPS_CYCLES, evaluation_normals, trip_cycles, trip_time_ns


def _phi(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _bin_position(rows: int, d: DeviceParams, ro) -> float:
    """Where an ideal VMM trip lands within its clock period (0..1), as designed."""
    return (rows * d.r_cell_low_ohm / d.delta_r_ohm + ro.t_cmp_delay_ns / ro.t_clk_ns) % 1.0


def _code_error_pmf(s_cycles: float, a: float, kmax: int = 8) -> dict[int, float]:
    """P(code error = k) for an ideal trip at fraction ``a`` of its clock period plus a
    N(0, s) error in clock periods: the code moves by k when a + error lands in (k, k+1]."""
    return {k: _phi((k + 1 - a) / s_cycles) - _phi((k - a) / s_cycles)
            for k in range(-kmax, kmax + 1)}


def _check_against_pmf(err: np.ndarray, pmf: dict[int, float]) -> None:
    n = err.size
    mean_abs = sum(abs(k) * p for k, p in pmf.items())
    mean = sum(k * p for k, p in pmf.items())
    var = sum(k * k * p for k, p in pmf.items()) - mean ** 2
    sd_abs = math.sqrt(var - mean_abs ** 2)
    assert abs(np.abs(err).mean() - mean_abs) < 5 * sd_abs / math.sqrt(n), (
        f"mean |code error| {np.abs(err).mean():.4f}, predicted {mean_abs:.4f}")
    assert abs(err.mean() - mean) < 5 * math.sqrt(var / n), (
        f"mean code error {err.mean():.4f}, predicted {mean:.4f}")
    # variance of a sample variance ~ var^2 * (2 / n) for near-normal data; 5 standard errors
    assert abs(err.var() - var) < 5 * var * math.sqrt(2.0 / n), (
        f"code error variance {err.var():.4f}, predicted {var:.4f}")
    # histogram: chi-square over the bins with >= 20 expected counts
    bins = [k for k, p in pmf.items() if p * n >= 20]
    chi2 = sum((np.count_nonzero(err == k) - pmf[k] * n) ** 2 / (pmf[k] * n) for k in bins)
    assert chi2 < len(bins) + 5 * math.sqrt(2 * len(bins)), f"chi2 {chi2:.1f} over {len(bins)} bins"


# -- resistance spread: code errors against the normal-CDF prediction ----------------------------
@pytest.mark.parametrize("n_low", [0, 40, 64])
def test_code_error_distribution_matches_normal_cdf_prediction(n_low):
    """Column resistance = sum of independent normals: sigma_col^2 = n_low*s_L^2 + n_high*s_H^2.

    Every column holds ``n_low`` matching cells, so each of 8192 columns is one independent sample
    of the code error; its pmf is Phi((k+1/2)/s) - Phi((k-1/2)/s) with s = sigma_col / delta_R.
    The start delay is lowered by 8 so that no code clips at 0.
    """
    rows, cols = 64, 8192
    d = DeviceParams.paper()
    ro = design_readout(rows, d)
    a = MramArray(rows, cols, d, seed=100 + n_low)
    w = np.zeros((rows, cols), dtype=bool)
    w[:n_low] = True                        # x = all +1: the first n_low cells match
    a.load_weights(w)
    x = np.ones(rows, dtype=bool)
    codes, overflow = evaluate_codes(a.column_resistance_ohm(*bypass_for_inputs(x)), device=d,
                                     readout=ro, rows=rows, tdc_bits=7,
                                     start_delay_cycles=ro.start_delay_cycles - 8)
    assert not overflow.any() and codes.min() > 0
    err = codes - 8 - (rows - n_low)
    sigma_col = math.sqrt(n_low * d.sigma_low_ohm ** 2 + (rows - n_low) * d.sigma_high_ohm ** 2)
    _check_against_pmf(err, _code_error_pmf(sigma_col / d.delta_r_ohm, _bin_position(rows, d, ro)))


def test_code_error_prediction_would_catch_a_wrong_sigma():
    """The same check fails when the prediction uses the other state's sigma for every cell."""
    rows, cols = 64, 8192
    d = DeviceParams.paper()
    ro = design_readout(rows, d)
    a = MramArray(rows, cols, d, seed=7)
    a.load_weights(np.ones((rows, cols), dtype=bool))      # all low with x = all +1
    r = a.column_resistance_ohm(*bypass_for_inputs(np.ones(rows, dtype=bool)))
    codes, _ = evaluate_codes(r, device=d, readout=ro, rows=rows, tdc_bits=7,
                              start_delay_cycles=ro.start_delay_cycles - 8)
    at = _bin_position(rows, d, ro)
    _check_against_pmf(codes - 8, _code_error_pmf(math.sqrt(rows) * d.sigma_low_ohm
                                                  / d.delta_r_ohm, at))
    wrong = _code_error_pmf(math.sqrt(rows) * d.sigma_high_ohm / d.delta_r_ohm, at)
    with pytest.raises(AssertionError, match="predicted"):
        _check_against_pmf(codes - 8, wrong)


def test_tdc_jitter_adds_its_variance_in_clock_periods():
    """Ideal die + jitter j: the code error pmf is the quantised N(0, j / t_clk)."""
    rows, cols = 64, 4096
    d = DeviceParams(tdc_jitter_rms_ns=4.0)
    ro = design_readout(rows, d)
    a = MramArray(rows, cols, d, seed=1)
    a.load_weights(np.ones((rows, cols), dtype=bool))
    r = a.column_resistance_ohm(*bypass_for_inputs(np.zeros(rows, dtype=bool)))  # all mismatch
    r = np.broadcast_to(r, (4, cols))                     # 4 evaluations of every column
    codes, _ = evaluate_codes(r, device=d, readout=ro, rows=rows, tdc_bits=7,
                              start_delay_cycles=ro.start_delay_cycles, noise_seed=a.die.seed,
                              first_evaluation=10)
    _check_against_pmf(codes - rows, _code_error_pmf(4.0 / ro.t_clk_ns, _bin_position(rows, d, ro)))


# -- comparator offset and noise ------------------------------------------------------------------
def test_comparator_offset_shifts_the_reference_exactly():
    rows = 64
    d = DeviceParams()
    ro = design_readout(rows, d)
    assert ro.v_pre_V == 0.9 and ro.v_ref_V == pytest.approx(ro.v_ref_ratio * 0.9)
    r = np.full(5, 64 * d.r_cell_low_ohm + 10 * d.delta_r_ohm)
    dv = np.array([0.0, 5e-3, -5e-3, -ro.v_ref_V, 1.0])
    m = evaluate_trip_cycles(r, device=d, readout=ro, rows=rows, comparator_offset_V=dv)
    c_col = rows * d.c_cell_fF * 1e-15
    for i in range(3):
        t = r[i] * c_col * math.log(ro.v_pre_V / (ro.v_ref_V + dv[i])) * 1e9 + ro.t_cmp_delay_ns
        assert m[i] == math.ceil(t / ro.t_clk_ns)
    assert m[1] < m[0] < m[2]                   # a higher reference trips earlier
    assert m[3] == NEVER_TRIPS_CYCLES           # reference at 0 V: never trips
    assert m[4] == max(1, math.ceil(ro.t_cmp_delay_ns / ro.t_clk_ns))   # above V_pre: at once
    codes, overflow = evaluate_codes(r, device=d, readout=ro, rows=rows, tdc_bits=7,
                                     start_delay_cycles=64, comparator_offset_V=dv)
    assert overflow.tolist() == [False, False, False, True, False] and codes[3] == 127
    # zero offsets take the ideal-mode formula, bit for bit
    m0 = evaluate_trip_cycles(r, device=d, readout=ro, rows=rows, comparator_offset_V=np.zeros(5))
    assert np.array_equal(m0, trip_cycles(trip_time_ns(r, rows, d, ro), ro))


def test_evaluation_noise_is_counter_based_and_reproducible():
    z = evaluation_normals(12345, 7, 5, 6)
    singles = np.concatenate([evaluation_normals(12345, 7 + k, 1, 6) for k in range(5)])
    assert np.array_equal(z, singles)
    assert not np.array_equal(evaluation_normals(12345, 8, 1, 6),
                              evaluation_normals(12346, 8, 1, 6))
    big = evaluation_normals(3, 0, 20000, 2)
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1) < 0.02
    with pytest.raises(DeviceError, match="noise_seed must be an integer"):
        evaluation_normals(-1, 0, 1, 2)
    with pytest.raises(DeviceError, match="first_evaluation must be a non-negative integer"):
        evaluation_normals(1, -3, 1, 2)


def test_noisy_golden_batch_equals_pin_level_single_evaluations():
    """The golden batch path and per-evaluation pin-model calls draw the same noise."""
    config = profile_config("full", tdc_mode="counter")
    d = DeviceParams.paper(comparator_offset_sigma_V=1e-3, comparator_noise_rms_V=0.5e-3,
                           tdc_jitter_rms_ns=1.0, p_stuck_low=0.01, p_stuck_high=0.01)
    rng = np.random.default_rng(5)
    w = rng.integers(0, 2, (64, 64))
    x = rng.integers(0, 2, (40, 64))
    g = MacroDesign.derive(config, d).golden(seed=21)
    g.array.load_weights(w)
    pin = MramArray(64, 64, d, seed=21)
    pin.load_weights(w)
    codes, overflow = g.convert(x)
    assert g.evaluations == 40
    for k in range(40):
        m = pin.evaluate_trip_cycles(*bypass_for_inputs(x[k]), g.readout)
        want = np.clip(m - g.start_delay_cycles - 1, 0, 127)
        want_ovf = m - g.start_delay_cycles - 1 > 127
        assert np.array_equal(codes[k], want) and np.array_equal(overflow[k], want_ovf)
    assert pin.evaluations == 40
    # explicit indices: reproducible and independent of the counter
    again, _ = g.convert(x[5:9], first_evaluation=5)
    assert np.array_equal(again, codes[5:9]) and g.evaluations == 40
    assert not np.array_equal(g.convert(x[5:9], first_evaluation=6)[0], codes[5:9])
    # vmm counts passes on the same counter
    result = g.vmm(x[0])
    assert g.evaluations == 41
    assert np.array_equal(result.codes, g.convert(x[:1], first_evaluation=40)[0][0])
    with pytest.raises(DeviceError, match="needs the die's noise_seed"):
        evaluate_codes(np.ones(3) * 1e6, device=d, readout=g.readout, rows=64, tdc_bits=7,
                       start_delay_cycles=64)


def test_folded_fast_path_equals_reference_readout():
    """GoldenMacro's folded matrix product gives the codes of the reference readout path."""
    config = profile_config("full", tdc_mode="counter")
    d = DeviceParams.paper(comparator_offset_sigma_V=2e-3, p_stuck_low=0.02, p_stuck_high=0.02,
                           temperature_C=70.0)
    rng = np.random.default_rng(9)
    g = MacroDesign.derive(config, d).golden(seed=4)
    g.array.comparator_offset_V[3] = -1.0                 # this column never trips
    w = rng.integers(0, 2, (64, 64))
    g.array.load_weights(w)
    x = rng.integers(0, 2, (3000, 64)).astype(np.uint8)   # not a multiple of the chunk size
    codes, overflow = g.convert(x, first_evaluation=0)
    ref, ref_ovf = evaluate_codes(g.array.vmm_resistance_ohm(x), device=g.device,
                                  readout=g.readout, rows=64, tdc_bits=7,
                                  start_delay_cycles=g.start_delay_cycles,
                                  comparator_offset_V=g.array.comparator_offset_V)
    assert np.array_equal(codes, ref) and np.array_equal(overflow, ref_ovf)
    # ... and those of the pin model's per-evaluation path (series sum over the bypass pins)
    pin = MramArray(64, 64, d, seed=4)
    pin.comparator_offset_V[3] = -1.0
    pin.load_weights(w)
    for k in range(300):
        m = pin.evaluate_trip_cycles(*bypass_for_inputs(x[k]), g.readout)
        assert np.array_equal(codes[k], np.clip(m - g.start_delay_cycles - 1, 0, 127))
    assert overflow[:, 3].all() and codes[:, 3].tolist() == [127] * 3000
    assert np.array_equal(g.vmm_batch(x), g.results_from_codes(codes))
    # the cache follows state changes (weights, registers)
    g.array.load_weights(1 - w)
    g.start_delay_cycles = 60
    ref2, _ = evaluate_codes(g.array.vmm_resistance_ohm(x[:50]), device=g.device,
                             readout=g.readout, rows=64, tdc_bits=7, start_delay_cycles=60,
                             comparator_offset_V=g.array.comparator_offset_V)
    assert np.array_equal(g.convert(x[:50])[0], ref2)
    with pytest.raises(ValueError, match=r"input bits must have shape \(batch, 64\)"):
        g.vmm_batch(np.zeros((3, 63)))


def test_ideal_mode_stays_exact_with_every_default():
    d = DeviceParams()
    assert d.ideal and d.high_state_factor == 1.0 and d.write_failure_probability(10.0) == 0.0
    config = profile_config("full", rows=100, cols=3, tdc_bits=7, stream_width=64)
    g = MacroDesign.derive(config).golden(seed=None)
    rng = np.random.default_rng(0)
    w = rng.integers(0, 2, (100, 3))
    g.array.load_weights(w)
    x = rng.integers(0, 2, (500, 100))
    assert np.array_equal(g.vmm_batch(x), (2 * x - 1) @ (2 * w - 1))


# -- stuck-at faults ------------------------------------------------------------------------------
def test_stuck_cells_ignore_writes_and_back_door_loads():
    d = DeviceParams(p_stuck_low=0.05, p_stuck_high=0.05)
    a = MramArray(16, 32, d, seed=3)
    sl, sh = a.die.stuck_low, a.die.stuck_high
    assert sl.any() and sh.any() and not (sl & sh).any()
    assert np.array_equal(a.is_low, sl)                   # fresh: all high except stuck low
    rng = np.random.default_rng(1)
    w = rng.integers(0, 2, (16, 32)).astype(bool)
    a.load_weights(w)
    assert a.is_low[sl].all() and not a.is_low[sh].any()
    free = ~(sl | sh)
    assert np.array_equal(a.is_low[LEFT][free[LEFT]], w[free[LEFT]])
    for r in range(16):
        onehot = np.arange(16) == r
        a.write(onehot, LEFT, ~w[r], pulse_ns=20.0)
        a.write(onehot, RIGHT, w[r], pulse_ns=20.0)
    assert a.is_low[sl].all() and not a.is_low[sh].any()
    assert np.array_equal(a.is_low[LEFT][free[LEFT]], ~w[free[LEFT]])


def test_stuck_fractions_match_the_probabilities():
    d = DeviceParams(p_stuck_low=0.01, p_stuck_high=0.03)
    die = Die.sample(64, 256, d, seed=11)
    n = die.stuck.size
    for p, mask in ((0.01, die.stuck_low), (0.03, die.stuck_high)):
        assert abs(mask.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)


# -- temperature ----------------------------------------------------------------------------------
def test_temperature_lowers_the_high_state_only():
    d = DeviceParams.paper(temperature_C=85.0)
    assert d.tmr == pytest.approx(d.tmr_ref * (1 - 0.002 * 60))
    factor = (1 + d.tmr) / (1 + d.tmr_ref)
    assert d.high_state_factor == pytest.approx(factor)
    a25 = MramArray(8, 8, DeviceParams.paper(), seed=2)
    a85 = MramArray(8, 8, d, seed=2)
    assert np.array_equal(a85.r_low_ohm, a25.r_low_ohm)
    assert np.allclose(a85.r_high_ohm, a25.r_high_ohm * factor)
    a25.set_temperature(85.0)
    assert np.array_equal(a25.r_high_ohm, a85.r_high_ohm)
    # nominal: an all-mismatch column loses rows * (1 - factor) * R_mtj_high of resistance
    rows = 64
    ideal_hot = DeviceParams(temperature_C=85.0)
    ro = design_readout(rows, DeviceParams())
    design = MacroDesign.derive(profile_config("full", tdc_mode="counter"))
    assert design.readout == ro
    g = design.golden(ideal_hot)
    g.array.load_weights(np.ones((rows, 64), dtype=bool))
    codes, _ = g.convert(np.stack([np.ones(rows), np.zeros(rows)]))
    assert (codes[0] == 0).all()                          # all match: low state, unchanged
    loss_cycles = rows * d.r_mtj_high_ohm * (1 - factor) / d.delta_r_ohm
    at = _bin_position(rows, DeviceParams(), ro)
    assert (codes[1] == math.ceil(rows + at - loss_cycles) - 1).all()
    assert codes[1][0] < rows - 1


# -- stochastic writes ----------------------------------------------------------------------------
def test_thermal_write_failure_rate_matches_the_model():
    pulse_ns = 20.0
    base = DeviceParams()
    for p_fail in (0.01, 0.1, 0.3):
        d = base.with_write_failure(p_fail, pulse_ns=pulse_ns)
        assert d.write_model == "thermal"
        assert d.write_failure_probability(pulse_ns) == pytest.approx(p_fail)
        # a pulse twice as long fails with p^2; tau follows the documented formula
        assert d.write_failure_probability(2 * pulse_ns) == pytest.approx(p_fail ** 2)
        assert d.switching_tau_ns() == pytest.approx(
            d.tau0_ns * math.exp(d.thermal_stability_kT * (1 - d.i_write_uA / d.i_c0_uA)))
        a = MramArray(64, 256, d, seed=8)
        for r in range(64):
            a.write(np.arange(64) == r, LEFT, np.ones(256, dtype=bool), pulse_ns=pulse_ns)
        failed = 1 - a.is_low[LEFT].mean()
        n = 64 * 256
        assert abs(failed - p_fail) < 5 * math.sqrt(p_fail * (1 - p_fail) / n)
    # reproducible: the same die and the same pulses give the same outcome
    d = base.with_write_failure(0.3, pulse_ns=pulse_ns)
    outcome = []
    for _ in range(2):
        a = MramArray(4, 64, d, seed=5)
        a.write([1, 0, 0, 0], LEFT, np.ones(64, dtype=bool), pulse_ns=pulse_ns)
        a.write([1, 0, 0, 0], LEFT, np.ones(64, dtype=bool), pulse_ns=pulse_ns)
        outcome.append(a.is_low.copy())
    assert np.array_equal(*outcome)
    # an MTJ already in the written state never "fails"
    a = MramArray(4, 64, d, seed=5)
    a.write([1, 0, 0, 0], LEFT, np.zeros(64, dtype=bool), pulse_ns=pulse_ns)
    assert not a.is_low.any()


def test_deterministic_write_model_is_unchanged():
    d = DeviceParams()
    assert d.write_failure_probability(9.99) == 1.0 and d.write_failure_probability(10.0) == 0.0
    a = MramArray(3, 4, d)
    a.write([0, 1, 0], LEFT, [1, 0, 1, 1], pulse_ns=10.0)
    a.write([0, 1, 0], LEFT, [0, 0, 0, 0], pulse_ns=9.9)
    assert a.weights()[1].tolist() == [1, 0, 1, 1]


# -- single-MTJ reads and write-verify ------------------------------------------------------------
def test_single_read_setup_for_the_default_macro():
    """The values the RTL's WV_READ reset and the cocotb model rely on (64 rows, 7-bit TDC)."""
    d = DeviceParams()
    ro = design_readout(64, d)
    s = single_read_delay_and_threshold(64, d, ro, 7)
    assert (s.start_delay_cycles, s.threshold_code, s.code_low, s.code_high) == (0, 12, 11, 12)
    # The comparator delay centres the single read: over 2.5 paper sigmas of margin each way
    # (a trip placed for the VMM alone would leave the high state 2.5 kOhm = 1.25 sigma).
    assert s.margin_low_ohm > 2.5 * 1.6e3 and s.margin_high_ohm > 2.5 * 2.0e3
    assert s.margin_low_ohm + s.margin_high_ohm == pytest.approx(d.delta_r_ohm)
    # ideal single reads land on the nominal codes, for every MTJ of a row
    a = MramArray(64, 64, d)
    a.load_weights(np.eye(64, dtype=bool))
    for side in (LEFT, RIGHT):
        codes, overflow = a.evaluate_codes(*_single(64, 5, side), ro, tdc_bits=7,
                                           start_delay_cycles=0)
        expect = np.where(a.is_low[side, 5], s.code_low, s.code_high)
        assert np.array_equal(codes, expect) and not overflow.any()
        assert np.array_equal(s.reads_low(codes, overflow), a.is_low[side, 5])
    assert not s.reads_low([3], [True])[0]               # overflow reads high
    for rows, bits in ((8, 4), (64, 7), (100, 7), (128, 8), (256, 9)):
        s = single_read_delay_and_threshold(rows, d, design_readout(rows, d), bits)
        assert 0 <= s.code_low < s.threshold_code <= s.code_high < (1 << bits) - 1
        # the RTL's WV_READ reset values agree
        config = profile_config("full", rows=rows, cols=4, tdc_bits=bits, result_width=16,
                                tdc_mode="counter")
        assert verify_read_design(config) == (s.start_delay_cycles, s.threshold_code)


def _single(rows, row, side):
    from sim_models import single_mtj_bypass
    return single_mtj_bypass(rows, row, side)


def test_write_verify_retries_with_doubled_pulses_until_the_write_takes():
    """Deterministic model: a 1-cycle (5 ns) pulse is too short, 2 cycles (10 ns) switch."""
    d = DeviceParams()
    ro = design_readout(16, d)
    a = MramArray(16, 8, d)
    w = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=bool)
    rep = write_verify_row(a, 3, w, readout=ro, tdc_bits=5, pulse_cycles=1)
    assert rep.retries == 2 and rep.n_failing == 0 and rep.fail_mask == 0
    assert rep.pulses == ((LEFT, 1), (LEFT, 2), (RIGHT, 1), (RIGHT, 2))
    assert rep.evaluations == 4 and a.evaluations == 4 and a.writes == 4
    assert np.array_equal(a.is_low[LEFT, 3], w) and np.array_equal(a.is_low[RIGHT, 3], ~w)
    # without doubling nothing ever switches: every cell that needed a switch is reported
    a = MramArray(16, 8, d)
    rep = write_verify_row(a, 3, w, readout=ro, tdc_bits=5, pulse_cycles=1, double_pulse=False,
                           max_retries=2)
    assert rep.retries == 4 and rep.pulses == ((0, 1),) * 3 + ((1, 1),) * 3
    assert rep.n_failing == 8 and rep.fail_mask == 0xFF
    assert rep.failing_left.tolist() == w.tolist() and rep.failing_right.tolist() == (~w).tolist()
    assert rep.failing_cells[:2] == [(3, 0), (3, 1)]
    # the register values alone drive the same loop
    a = MramArray(16, 8, d)
    designed = single_read_delay_and_threshold(16, d, ro, 5)
    regs = SingleReadSetup(designed.start_delay_cycles, designed.threshold_code)
    rep = write_verify_row(a, 3, w, readout=ro, tdc_bits=5, pulse_cycles=1, setup=regs)
    assert rep.pulses == ((LEFT, 1), (LEFT, 2), (RIGHT, 1), (RIGHT, 2)) and rep.n_failing == 0
    # verify disabled: two blind pulses, no reads
    a = MramArray(16, 8, d)
    rep = write_verify_row(a, 3, w, readout=ro, tdc_bits=5, pulse_cycles=1, verify=False)
    assert rep.evaluations == 0 and rep.pulses == ((0, 1), (1, 1)) and rep.n_failing == 0
    assert rep.wrong_at_end.sum() == 8


def test_write_verify_reports_stuck_cells():
    d = DeviceParams()
    die = Die.sample(8, 6, d, seed=0)
    die.stuck[LEFT, 2, 1] = STUCK_HIGH       # must be low for W = 1
    die.stuck[RIGHT, 2, 4] = STUCK_LOW       # must be high for W = 1
    die.stuck[LEFT, 2, 5] = STUCK_LOW        # agrees with W = 1: harmless
    a = MramArray.from_die(die, d)
    ro = design_readout(8, d)
    reports = write_verify_array(a, np.ones((8, 6), dtype=bool), readout=ro, tdc_bits=4,
                                 pulse_cycles=4, max_retries=3)
    assert [r.n_failing for r in reports] == [0, 0, 2, 0, 0, 0, 0, 0]
    assert reports[2].failing_cells == [(2, 1), (2, 4)] and reports[2].retries == 6
    assert reports[2].pulses == ((0, 4), (0, 8), (0, 16), (0, 32), (1, 4), (1, 8), (1, 16),
                                 (1, 32))


def test_write_verify_statistics_at_ten_percent_failure():
    s = write_verify_study(64, 64, DeviceParams(), p_fail=0.1, dies=1, seed=3)
    assert abs(s.raw_error_rate - 0.1) < 5 * math.sqrt(0.1 * 0.9 / 4096)
    assert s.residual_error_rate == 0 and s.false_fail_rate == 0 and s.missed_rate == 0
    # per side: P(some of 32 expected switches fails) = 1 - 0.9^32 = 0.966 -> about 1.9 retries
    # per row in all; a generous band around it
    assert 1.5 < s.mean_retries_per_row < 2.5
    assert s.mean_evaluations_per_row == pytest.approx(2 + s.mean_retries_per_row)


# -- parameter validation -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(r_cell_low_ohm=-1.0), "r_cell_low_ohm must be positive"),
    (dict(r_cell_high_ohm=10e3), "r_cell_high_ohm .* must exceed r_cell_low_ohm"),
    (dict(sigma_high_ohm=-1.0), "sigma_high_ohm must not be negative"),
    (dict(p_stuck_low=1.5), r"p_stuck_low is a probability and must be in \[0, 1\]"),
    (dict(p_stuck_high=-0.1), r"p_stuck_high is a probability and must be in \[0, 1\]"),
    (dict(p_stuck_low=0.6, p_stuck_high=0.6), "p_stuck_low \\+ p_stuck_high must not exceed 1"),
    (dict(p_stuck_low=float("nan")), "p_stuck_low must be a finite number"),
    (dict(temperature_C=-300.0), "temperature_C must be above absolute zero"),
    (dict(temperature_C=700.0), "the TMR would vanish"),
    (dict(tmr_temp_coeff_per_K=-0.01), "tmr_temp_coeff_per_K must not be negative"),
    (dict(comparator_offset_sigma_V=-1e-3), "comparator_offset_sigma_V must not be negative"),
    (dict(comparator_noise_rms_V=float("inf")), "comparator_noise_rms_V must be a finite"),
    (dict(tdc_jitter_rms_ns=-0.1), "tdc_jitter_rms_ns must not be negative"),
    (dict(write_model="magic"), "write_model must be one of 'deterministic', 'thermal'"),
    (dict(tau0_ns=0.0), "tau0_ns must be positive"),
    (dict(thermal_stability_kT=-40.0), "thermal_stability_kT must be positive"),
    (dict(i_c0_uA=0.0), "i_c0_uA must be positive"),
])
def test_invalid_device_parameters_are_rejected(kwargs, message):
    with pytest.raises(DeviceError, match=message):
        DeviceParams(**kwargs)


def test_invalid_write_targets_and_readout_are_rejected():
    d = DeviceParams()
    for p in (0.0, 1.0, -0.2, 2.0):
        with pytest.raises(DeviceError, match="p_fail must be a probability strictly between"):
            d.with_write_failure(p, pulse_ns=20.0)
    with pytest.raises(DeviceError, match="pulse_ns must be positive"):
        d.write_current_for_failure_uA(0.1, 0.0)
    with pytest.raises(DeviceError, match="pulse_ns must not be negative"):
        d.write_failure_probability(-1.0)
    with pytest.raises(DeviceError, match="v_pre_V must be positive"):
        ReadoutParams(t_clk_ns=5.0, v_ref_ratio=0.5, t_cmp_delay_ns=0.0, start_delay_cycles=3,
                      v_pre_V=0.0)
    with pytest.raises(DeviceError, match=r"comparator_offset_V must have shape \(3,\)"):
        evaluate_codes(np.ones(3), device=d, readout=design_readout(4, d), rows=4, tdc_bits=3,
                       start_delay_cycles=0, comparator_offset_V=np.zeros(2))


def test_paper_preset_sets_only_the_spread():
    p, ideal = DeviceParams.paper(), DeviceParams()
    assert (p.sigma_low_ohm, p.sigma_high_ohm) == (1.6e3, 2.0e3) and not p.ideal
    assert p.replace(sigma_low_ohm=0.0, sigma_high_ohm=0.0) == ideal
    assert DeviceParams.paper(tdc_jitter_rms_ns=0.5).tdc_jitter_rms_ns == 0.5
