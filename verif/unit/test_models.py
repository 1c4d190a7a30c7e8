"""The NumPy array / readout / golden model: exactness, physics, and parameter validation."""

import numpy as np
import pytest

from mram_macro.design.config import REPLICA_COLS, ConfigError, MacroConfig, profile_config
from mram_macro.design.layouts import (
    pack_input_vector,
    pack_result_vector,
    unpack_input_vector,
    unpack_result_vector,
)
from mram_macro.design.macro import MacroDesign
from sim_models import (
    ArrayModelError,
    DeviceError,
    DeviceParams,
    MramArray,
    ReadoutParams,
    bypass_for_inputs,
    design_readout,
    signed_dot,
)
from sim_models.readout import trip_cycles, trip_time_ns

CONFIGS = [MacroConfig(), profile_config("full"),
           MacroConfig(rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8),
           MacroConfig(rows=100, cols=3, tdc_bits=7, stream_width=64),
           MacroConfig(rows=128, cols=128, tdc_bits=8)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.slug)
def test_ideal_mode_is_exact(config):
    rng = np.random.default_rng(config.rows)
    g = MacroDesign.derive(config).golden()
    w = rng.integers(0, 2, (config.rows, config.cols))
    g.array.load_weights(w)
    x = rng.integers(0, 2, (2000, config.rows))
    x[0] = w[:, 0]                  # column 0 all-match
    x[1] = 1 - w[:, 0]              # column 0 no match
    y = g.vmm_batch(x)
    assert np.array_equal(y, signed_dot(x, w))
    codes, overflow = g.convert(x)
    assert not overflow.any()
    # code = number of mismatching cells, exactly
    mismatches = (x[:, :, None] != w[None, :, :]).sum(axis=1)
    assert np.array_equal(codes, mismatches)
    assert y[0, 0] == config.rows and y[1, 0] == -config.rows


def test_variation_costs_accuracy_about_one_step():
    config = MacroConfig()
    rng = np.random.default_rng(3)
    g = MacroDesign.derive(config, DeviceParams.paper()).golden(seed=11)
    w = rng.integers(0, 2, (64, 64))
    g.array.load_weights(w)
    x = rng.integers(0, 2, (4000, 64))
    err = g.vmm_batch(x) - signed_dot(x, w)
    assert np.all(err % 2 == 0)                # results move in steps of 2
    # Column sigma ~ sqrt(64) * ~1.8 kOhm ~ 14 kOhm, about one 13 kOhm step: errors of a few
    # steps, centred near zero.
    assert 0.5 < np.abs(err).mean() < 4
    assert abs(err.mean()) < 4
    assert np.abs(err).max() <= 20


def test_column_resistance_is_series_sum():
    d = DeviceParams()
    a = MramArray(4, 3, d)
    w = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 0], [1, 0, 1]])
    a.load_weights(w)
    x = np.array([1, 0, 0, 1])
    r = a.column_resistance_ohm(*bypass_for_inputs(x))
    matches = (x[:, None] == w).sum(axis=0)
    expected = matches * d.r_cell_low_ohm + (4 - matches) * d.r_cell_high_ohm
    assert np.allclose(r, expected)
    assert np.allclose(a.vmm_resistance_ohm(x)[0], expected)
    # Single-MTJ read: bypass everything except row 1's right MTJ.
    bl, br = np.ones(4, bool), np.ones(4, bool)
    br[1] = False
    r1 = a.column_resistance_ohm(bl, br)
    right = np.where(w[1] == 1, d.r_mtj_high_ohm, d.r_mtj_low_ohm)
    assert np.allclose(r1, 7 * d.r_bypass_on_ohm + right)


def test_write_pins_and_pulse_width():
    d = DeviceParams(t_switch_ns=10.0)
    a = MramArray(3, 4, d)
    a.write([0, 1, 0], 0, [1, 0, 1, 1], pulse_ns=10.0)
    a.write([0, 1, 0], 1, [0, 1, 0, 0], pulse_ns=12.0)
    assert a.weights()[1].tolist() == [1, 0, 1, 1]
    assert a.complement_ok()[1].all()
    a.write([0, 1, 0], 0, [0, 0, 0, 0], pulse_ns=9.9)   # too short: no switching
    assert a.weights()[1].tolist() == [1, 0, 1, 1]
    with pytest.raises(ArrayModelError, match="exactly one selected row"):
        a.write([1, 1, 0], 0, [0, 0, 0, 0], pulse_ns=20)
    with pytest.raises(ArrayModelError, match="wr_side"):
        a.write([1, 0, 0], 2, [0, 0, 0, 0], pulse_ns=20)


@pytest.mark.parametrize("rows", [8, 12, 64, 100, 128, 256])
def test_readout_design_places_trips_inside_bins(rows):
    d = DeviceParams()
    ro = design_readout(rows, d, t_clk_ns=5.0)
    assert ro.start_delay_cycles == rows      # 13 kOhm cells, 13 kOhm step
    # one mismatch step = one clock; all-match trip well inside the period after the delay
    t0 = trip_time_ns(rows * d.r_cell_low_ohm, rows, d, ro)
    t1 = trip_time_ns((rows - 1) * d.r_cell_low_ohm + d.r_cell_high_ohm, rows, d, ro)
    assert t1 - t0 == pytest.approx(5.0)
    assert 0.1 - 1e-9 <= t0 / 5.0 - ro.start_delay_cycles <= 0.9 + 1e-9
    assert trip_cycles(t0, ro) == rows + 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(r_cell_low_ohm=-1.0), "r_cell_low_ohm must be positive"),
    (dict(r_cell_high_ohm=10e3), "must exceed r_cell_low_ohm"),
    (dict(sigma_low_ohm=-5.0), "sigma_low_ohm must not be negative"),
    (dict(c_cell_fF=float("nan")), "c_cell_fF must be a finite number"),
    (dict(r_bypass_on_ohm=20e3), "r_bypass_on_ohm"),
    (dict(t_switch_ns="10"), "t_switch_ns must be a finite number"),
])
def test_invalid_device_parameters_are_rejected(kwargs, message):
    with pytest.raises(DeviceError, match=message):
        DeviceParams(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(t_clk_ns=0), "t_clk_ns must be positive"),
    (dict(v_ref_ratio=1.2), "v_ref_ratio must be between 0 and 1"),
    (dict(t_cmp_delay_ns=-1), "t_cmp_delay_ns must not be negative"),
    (dict(start_delay_cycles=70000), "start_delay_cycles must be an integer in 0..65535"),
])
def test_invalid_readout_parameters_are_rejected(kwargs, message):
    base = dict(t_clk_ns=5.0, v_ref_ratio=0.5, t_cmp_delay_ns=0.0, start_delay_cycles=3)
    base.update(kwargs)
    with pytest.raises(DeviceError, match=message):
        ReadoutParams(**base)


@pytest.mark.parametrize("kwargs, message", [
    (dict(rows=1), "rows must be between 2 and 256, not 1"),
    (dict(rows=300), "rows must be between 2 and 256"),
    (dict(cols=0), "cols must be between 1 and 256"),
    (dict(rows=64, tdc_bits=6), "use tdc_bits >= 7"),
    (dict(result_width=7), "use result_width >= 8"),
    (dict(stream_width=24), "stream_width must be one of 8, 16, 32"),
    (dict(rows=64.0), "rows must be an integer, not 64.0"),
    (dict(rows=True), "rows must be an integer"),
    (dict(precharge_cycles=0), "precharge_cycles must be between 1 and 255"),
    (dict(activation="no"), "activation must be True or False, not 'no'"),
    (dict(activation=0), "activation must be True or False, not 0"),
])
def test_invalid_configurations_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MacroConfig(**kwargs)


def test_a_build_without_the_activation_mode_has_no_thresholds():
    from mram_macro.design.regmap import build_regmap

    plain = profile_config("full", activation=False)
    assert plain.slug == profile_config("full").slug + "_noact"
    assert MacroConfig.from_json(plain.to_json()) == plain
    full, lean = (build_regmap(c, tdc_start_delay=3) for c in (profile_config("full"), plain))
    assert build_regmap(MacroConfig(), tdc_start_delay=3).array("THRESHOLD") == []
    assert len(full.array("THRESHOLD")) == 64 and lean.array("THRESHOLD") == []
    mode = lean["MODE"]
    one = 1 << mode.field("ACTIVATION").lsb
    assert mode.check_write(one) == "MODE.ACTIVATION=1 is outside 0..0"
    assert "answers SLVERR" in mode.field("ACTIVATION").doc
    assert full["MODE"].check_write(1 << mode.field("ACTIVATION").lsb) is None


def test_feature_profiles_build_and_an_unknown_one_is_refused():
    from mram_macro.design.config import FULL_FEATURES, PROFILES

    plain = profile_config("plain")
    assert plain == MacroConfig()                   # the default is the paper's plain macro
    assert not plain.activation and plain.result_width == plain.pass_result_width == 8
    assert not plain.multibit and not plain.has_write_verify and not plain.result_register
    full = profile_config("full")
    assert full == MacroConfig(**FULL_FEATURES) and full.result_width == 16
    assert full.activation and full.multibit and full.has_write_verify and full.result_register
    assert profile_config("tracker").has_tracker and profile_config("full", rows=8).rows == 8
    assert len({profile_config(n) for n in PROFILES}) == len(PROFILES)
    with pytest.raises(ConfigError, match="unknown profile 'lean'; known: plain, full, tracker"):
        profile_config("lean")


def test_result_width_left_out_is_the_narrowest_the_build_allows():
    """``result_width=None`` (the default): one pass and a raw code fit, 16 bits in a
    multi-bit build; stored as the width, so both spellings are one build."""
    assert MacroConfig().result_width == 8 and MacroConfig(result_width=8) == MacroConfig()
    assert MacroConfig(rows=200, tdc_bits=8).result_width == 9
    assert MacroConfig(rows=8, cols=4, tdc_bits=6).result_width == 6      # a raw 6-bit code
    assert MacroConfig(multibit=True).result_width == 16
    assert MacroConfig(rows=256, tdc_bits=9, multibit=True).result_width == 16
    assert MacroConfig(result_width=12).result_width == 12
    with pytest.raises(ConfigError, match="use result_width >= 8"):
        MacroConfig(result_width=7)


def test_write_verify_option_spellings_and_errors():
    """``write_verify``: None (built where the TDC can read one MTJ) and True are one build,
    False (the default) leaves it out; the coarse TDC never has it and refuses True; a
    non-bool is refused. The JSON always holds it; a mapping saved without it (by a release
    whose default had it) reads as None. Only False reaches the slug."""
    on = MacroConfig(write_verify=None)
    assert MacroConfig(write_verify=True) == on and on.has_write_verify
    off = MacroConfig()
    assert off.write_verify is False and not off.has_write_verify and "_nowv_" in off.slug
    assert off.to_dict()["write_verify"] is False and on.to_dict()["write_verify"] is None
    assert MacroConfig.from_json(off.to_json()) == off and MacroConfig.from_json(on.to_json()) == on
    saved = {k: v for k, v in profile_config("full").to_dict().items() if k != "write_verify"}
    assert MacroConfig.from_dict(saved) == profile_config("full")
    coarse = dict(tdc_mode="coarse", tdc_bits=4)
    assert MacroConfig(**coarse, write_verify=False) == MacroConfig(**coarse)
    assert not MacroConfig(**coarse).has_write_verify
    with pytest.raises(ConfigError, match=r"write_verify=True needs a single-MTJ read"):
        MacroConfig(**coarse, write_verify=True)
    with pytest.raises(ConfigError, match=r"write_verify must be None, True or False, not 1"):
        MacroConfig(write_verify=1)


def test_result_register_option_spellings_and_errors():
    """``result_register=False`` (streamed results) only where a pass is single, without the
    activation mode or gain; None (the default) chooses False there and True elsewhere; the
    JSON always holds it (a mapping saved without it reads as True, the default of earlier
    releases); only False reaches the slug (``_stream``), and the slug reads back; a non-bool
    is refused."""
    from verif.configs import parse_slug

    single = dict(multibit=False, activation=False)
    off = MacroConfig(**single, result_register=False)
    assert off == MacroConfig() and MacroConfig(result_register=None) == off
    assert off.slug.endswith("_1pass_nowv_stream") and off.to_dict()["result_register"] is False
    kept = MacroConfig(result_register=True)
    assert kept.result_register and kept.to_dict()["result_register"] is True
    assert not kept.slug.endswith("_stream") and parse_slug(kept.slug) == kept
    assert MacroConfig.from_json(off.to_json()) == off
    assert parse_slug(off.slug) == off
    saved = {k: v for k, v in off.to_dict().items() if k != "result_register"}
    assert MacroConfig.from_dict(saved) == kept
    for build in (dict(multibit=True), dict(activation=True), dict(calibration="gain")):
        assert MacroConfig(**build).result_register
    for bad in (dict(multibit=True), dict(activation=True), dict(calibration="gain")):
        with pytest.raises(ConfigError, match=r"result_register=False streams each result .* "
                                              r"needs multibit=False, activation=False and "
                                              r"calibration='offset'"):
            MacroConfig(**bad, result_register=False)
    with pytest.raises(ConfigError, match=r"result_register must be True or False, not 0"):
        MacroConfig(**single, result_register=0)


def test_config_json_round_trip_and_errors():
    c = MacroConfig(rows=20, cols=7, tdc_bits=5, result_width=9, stream_width=16)
    assert MacroConfig.from_json(c.to_json()) == c
    with pytest.raises(ConfigError, match="unknown configuration key"):
        MacroConfig.from_dict({"rows": 8, "colums": 3})
    with pytest.raises(ConfigError, match="not valid JSON"):
        MacroConfig.from_json("{rows: 8")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.slug)
def test_stream_packing_round_trips(config):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, config.rows)
    beats = pack_input_vector(x, config)
    assert len(beats) == config.in_beats
    assert all(0 <= b < (1 << config.stream_width) for b in beats)
    assert unpack_input_vector(beats, config).tolist() == x.tolist()
    # row 0 is bit 0 of the first beat
    assert beats[0] & 1 == x[0]
    half = 1 << (config.result_width - 1)
    y = rng.integers(-half, half, config.cols)
    assert unpack_result_vector(pack_result_vector(y, config), config).tolist() == y.tolist()
    with pytest.raises(ValueError, match="input vector has"):
        pack_input_vector(x[:-1], config)


def test_raw_code_mode_stores_codes_without_accumulating():
    config = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8)
    rng = np.random.default_rng(2)
    g = MacroDesign.derive(config).golden()
    w = rng.integers(0, 2, (8, 12))
    g.array.load_weights(w)
    x = rng.integers(0, 2, 8)
    g.vmm(x)
    g.raw_codes = True
    r = g.vmm(x, accumulate=True)
    mismatches = (x[:, None] != w).sum(axis=0)
    assert r.values.tolist() == mismatches.tolist() == r.codes.tolist()
    g.raw_codes = False
    assert g.vmm(x, accumulate=True).values.tolist() == (mismatches + signed_dot(x, w)).tolist()


def test_vmm_batch_honours_raw_codes_like_vmm():
    config = MacroConfig(rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8)
    rng = np.random.default_rng(3)
    g = MacroDesign.derive(config, DeviceParams.paper()).golden(seed=4)
    w = rng.integers(0, 2, (8, 12))
    g.load_weights(w)
    x = rng.integers(0, 2, (5, 8))
    g.raw_codes = True
    batch = g.vmm_batch(x)
    codes, _ = g.convert(x)
    assert batch.tolist() == codes.tolist() == [g.vmm(v).values.tolist() for v in x]
    g.raw_codes = False
    assert g.vmm_batch(x).tolist() == g.results_from_codes(codes).tolist()


def test_golden_weights_and_calibration_without_internals():
    config = MacroConfig(rows=16, cols=8, tdc_bits=5, result_width=10, stream_width=8)
    g = MacroDesign.derive(config, DeviceParams.paper()).golden(seed=5)
    w = np.random.default_rng(0).integers(0, 2, (16, 8))
    g.load_weights(w)
    assert g.weights.tolist() == w.astype(bool).tolist()
    offsets = g.calibrate(n_pairs=8)
    assert g.offsets.tolist() == offsets.tolist() and offsets.shape == (8,)
    with pytest.raises(ValueError, match=r"weight bits must have shape \(16, 8\), not \(8, 16\)"):
        g.load_weights(w.T)
    with pytest.raises(ValueError, match="weight bits must be 0 \\(-1\\) or 1 \\(\\+1\\), not -1"):
        g.load_weights(2 * w - 1)


@pytest.mark.parametrize("device", ["paper", "noisy"])
@pytest.mark.parametrize("raw_codes", [False, True])
def test_pass_values_fused_path_equals_codes_then_results(device, raw_codes):
    """pass_values (the host API's golden path) computes values and TDC overflow flags in one
    sweep: the same as convert then results_from_codes, with non-unit gains, offsets that
    wrap, columns that overflow, tracking on (a retrim splits the batch), and per-evaluation
    noise (the unfolded path)."""
    config = MacroConfig(rows=12, cols=8, tdc_bits=4, result_width=6, stream_width=8)
    dev = DeviceParams.paper()
    if device == "noisy":
        dev = dev.replace(comparator_noise_rms_V=0.2e-3, tdc_jitter_rms_ns=0.5)
    rng = np.random.default_rng(11)
    x = rng.integers(0, 2, (300, 12))
    w = rng.integers(0, 2, (12, 8))

    def macro():
        g = MacroDesign.derive(config, dev).golden(seed=12)
        g.load_weights(w)
        g.start_delay_cycles -= 1           # codes start a cycle early: some columns overflow
        g.gains = np.array([1024, 700, 1300, 1024, 1500, 1024, 600, 1024])
        g.offsets = np.array([12, 31, -32, 0, 20, 12, 10, -5])
        g.raw_codes = raw_codes
        g.track_interval, g.track_ref = 97, REPLICA_COLS * 12
        return g

    got, got_ov = macro().pass_values(x, first_evaluation=0)
    ref = macro()
    values, flags = [], []
    for i, v in enumerate(x):
        tracking = ref._tracking_pass()
        if tracking:
            ref._retrim(i)
        codes, ov = ref.convert(v[None, :], first_evaluation=i)
        values.append(ref.results_from_codes(codes)[0] if not raw_codes
                      else (codes[0] + 32) % 64 - 32)
        flags.append(ov[0])
        ref._passes_done(1)
    assert got_ov.any() and not got_ov.all(), "the case must have overflowing columns"
    assert got_ov.tolist() == np.array(flags).tolist()
    assert got.tolist() == np.array(values).tolist()
