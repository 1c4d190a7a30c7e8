"""Host API (mram_macro.host) on the golden backend: results, encodings, validation, status."""

import numpy as np
import pytest

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.host import Backend, HostError, Macro
from sim_models.device import DeviceParams
from sim_models.golden import signed_dot

SMALL = profile_config("full", rows=16, cols=8, tdc_bits=5, result_width=12, stream_width=8)


def _macro(**kw):
    return Macro.golden(SMALL, **kw)


def test_ideal_results_are_the_exact_pm1_dot_products_in_both_encodings():
    rng = np.random.default_rng(1)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (20, 16))
    with _macro(seed=2) as m:
        m.write_weights(w)
        assert m.vmm(x).tolist() == (x @ w).tolist()
        assert m.vmm((x + 1) // 2, encoding="bits").tolist() == (x @ w).tolist()
        assert m.vmm(x[0]).tolist() == [(x[0] @ w).tolist()]
        m.write_weights((w + 1) // 2 == 1, encoding="bits")
        assert m.vmm(x).tolist() == signed_dot((x + 1) // 2, (w + 1) // 2).tolist()


def test_accumulate_and_hold_per_vector():
    rng = np.random.default_rng(2)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (4, 16))
    with _macro() as m:
        m.write_weights(w)
        y = m.vmm(x, accumulate=np.array([False, True, True, False]),
                  hold=np.array([True, True, False, False]))
        assert y.tolist() == [(x[:3] @ w).sum(axis=0).tolist(), (x[3] @ w).tolist()]
        # The accumulator persists across calls.
        assert m.vmm(x[0], accumulate=True).tolist() == [((x[3] + x[0]) @ w).tolist()]
        assert m.status().vmm_count == 5


def test_multi_bit_inputs_are_exact_in_ideal_mode():
    rng = np.random.default_rng(3)
    w = rng.choice([-1, 1], (16, 8))
    with _macro() as m:
        m.write_weights(w)
        for bits in (1, 2, 4, 5):
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            x = rng.integers(lo, hi + 1, (7, 16))
            x[0] = lo
            x[1] = hi
            assert m.vmm_int(x, input_bits=bits).tolist() == (x @ ((w + 1) // 2)).tolist()
        with pytest.raises(HostError, match=r"fit 4-bit two's complement \(-8..7\); 1 value"):
            m.vmm_int(np.full((1, 16), 3) + np.eye(16, dtype=int)[0] * 5, input_bits=4)
        with pytest.raises(HostError, match=r"input_bits must be an integer in 1\.\.16"):
            m.vmm_int(np.zeros((1, 16), int), input_bits=0)
        with pytest.raises(HostError, match="multi-bit inputs must be integers"):
            m.vmm_int(np.zeros((1, 16)), input_bits=4)


def test_calibration_reduces_the_error_on_a_spread_die_and_uses_the_written_weights():
    rng = np.random.default_rng(4)
    cfg = profile_config("full")
    w = rng.choice([-1, 1], (64, 64))
    x = rng.choice([-1, 1], (400, 64))
    with Macro.golden(cfg, device=DeviceParams.paper(), seed=7) as m:
        m.write_weights(w)
        before = np.abs(m.vmm(x) - x @ w).mean()
        offsets = m.calibrate(n_pairs=16)
        after = np.abs(m.vmm(x) - x @ w).mean()
        assert m.offsets.tolist() == offsets.tolist()
        assert after < 0.85 * before, (before, after)


@pytest.mark.parametrize("call, message", [
    (lambda m: m.write_weights(np.ones((8, 16))), r"weights must have shape \(16, 8\)"),
    (lambda m: m.write_weights(np.zeros((16, 8))),
     r"weights must be binary: -1 or 1 with encoding='pm1', not 0.0 .*encoding='bits'"),
    (lambda m: m.write_weights(np.full((16, 8), 2), encoding="bits"),
     r"weights must be binary: 0 or 1 with encoding='bits', not 2"),
    (lambda m: m.write_weights(np.ones((16, 8), bool)), "are booleans: pass encoding='bits'"),
    (lambda m: m.write_weights(np.ones((16, 8)), encoding="binary"), "encoding must be one of"),
    (lambda m: m.write_weights(np.ones((1, 8)), rows=[16]), r"row index .* 0..15, not 16"),
    (lambda m: m.vmm(np.ones((3, 15))), r"inputs must have shape \(batch, 16\)"),
    (lambda m: m.vmm(np.full((3, 16), 0.5)), "inputs must be binary"),
    (lambda m: m.vmm(np.ones((3, 16)), hold="yes"), "hold must be a bool or an array"),
    (lambda m: m.vmm(np.ones((3, 16)), accumulate=np.ones(2, bool)),
     r"one per vector \(3\), not shape \(2,\)"),
    (lambda m: m.write_offsets(np.full(8, 5000)), r"offsets must lie in -2048..2047"),
    (lambda m: m.calibrate(n_pairs=0), "n_pairs must be a positive integer"),
])
def test_bad_input_is_rejected_and_changes_nothing(call, message):
    with _macro() as m:
        w = np.random.default_rng(5).choice([-1, 1], (16, 8))
        m.write_weights(w)
        count = m.status().vmm_count
        with pytest.raises(HostError, match=message):
            call(m)
        assert m.status().vmm_count == count and m.weights.tolist() == ((w + 1) // 2).tolist()


def test_status_reports_overflow_and_write_failures_until_cleared():
    device = DeviceParams(p_stuck_high=0.05)
    with Macro.golden(SMALL, device=device, seed=11) as m:
        m.write_weights(np.ones((16, 8), int))
        s = m.status()
        assert s.write_failed and s.wv_fail_count > 0 and "write_failed" in s.faults
        assert len(s.wv_fail_mask) > 0 and 0 <= s.wv_fail_row < 16
        m.clear_faults()
        assert m.status().faults == [] and m.status().wv_fail_count == s.wv_fail_count
    # A comparator offset so low that its column never fires: overflow.
    from sim_models.die import Die
    die = Die.sample(16, 8, seed=1)
    die.comparator_offset_V[2] = -0.9
    with Macro.golden(SMALL, die=Die(die.r_low_ohm, die.r_high_ohm, die.stuck,
                                     die.comparator_offset_V)) as m:
        m.write_weights(np.ones((16, 8), int))
        m.vmm(np.ones(16, int))
        assert m.last_overflow.tolist() == [True] and m.status().tdc_overflow


def test_activation_mode_returns_sign_of_result_minus_threshold():
    rng = np.random.default_rng(6)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (30, 16))
    t = rng.integers(-6, 7, 8)
    with _macro() as m:
        m.write_weights(w)
        m.set_activation(t)
        assert m.vmm(x).tolist() == np.where(x @ w >= t, 1, -1).tolist()
        # Calibration runs in raw-code mode and comes back to the activation mode.
        m.calibrate(n_pairs=2)
        assert m.vmm(x).tolist() == np.where(x @ w >= t, 1, -1).tolist()
        with pytest.raises(HostError, match="vmm_int needs signed results"):
            m.vmm_int(np.zeros((1, 16), int), input_bits=2)
        with pytest.raises(HostError, match=r"thresholds must be 8 integers"):
            m.set_activation(np.zeros(7, int))
        with pytest.raises(HostError, match=r"thresholds must lie in -2048..2047"):
            m.set_activation(np.full(8, 4096))
        assert m.thresholds.tolist() == t.tolist()
        m.set_activation(None)
        assert m.vmm(x).tolist() == (x @ w).tolist()


def test_a_build_without_the_activation_mode_refuses_it_and_keeps_its_results():
    plain = profile_config("full", rows=16, cols=8, tdc_bits=5, result_width=12, stream_width=8,
                           activation=False)
    rng = np.random.default_rng(7)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (5, 16))
    with Macro.golden(plain) as m:
        m.write_weights(w)
        with pytest.raises(HostError, match=r"activation=False: it has no THRESHOLD"):
            m.set_activation(np.zeros(8, int))
        assert m.thresholds is None
        assert m.vmm(x).tolist() == (x @ w).tolist()
        with pytest.raises(ValueError, match=r"MODE\.ACTIVATION=1 on a build without it"):
            m.backend.set_mode(False, True)
        m.set_activation(None)         # switching it off is always allowed
        assert m.vmm(x).tolist() == (x @ w).tolist()


def test_a_single_pass_build_refuses_flags_and_keeps_its_results():
    single = profile_config("full", rows=16, cols=8, tdc_bits=5, result_width=8, stream_width=8,
                            activation=False, multibit=False)
    rng = np.random.default_rng(9)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (5, 16))
    with Macro.golden(single) as m:
        m.write_weights(w)
        assert m.vmm(x).tolist() == (x @ w).tolist()
        for flag in ("accumulate", "hold", "shift", "negate"):
            with pytest.raises(HostError, match=r"multibit=False: single passes only"):
                m.vmm(x, **{flag: np.arange(5) == 2})
        with pytest.raises(HostError, match=r"vmm_int .* multibit=False"):
            m.vmm_int(np.zeros((1, 16), int), input_bits=1)
        with pytest.raises(ValueError, match=r"multibit=False: single passes only"):
            m.backend.run(np.zeros((1, 16), np.uint8), *(np.array([f]) for f in (
                False, True, False, False)))
        assert m.vmm(x).tolist() == (x @ w).tolist()      # nothing was lost
        with pytest.raises(ValueError, match=r"multibit=False"):
            m.backend.golden.vmm(np.zeros(16, np.uint8), negate=True)


# -- issue 22: calls out of order, a closed macro, the RTL backend's timeout ---------------------
def test_macroconfig_is_exported_from_the_package_and_the_host_api():
    import mram_macro
    import mram_macro.host

    assert mram_macro.MacroConfig is MacroConfig is mram_macro.host.MacroConfig
    assert "MacroConfig" in mram_macro.__all__ and "MacroConfig" in mram_macro.host.__all__


def test_vmm_and_calibrate_before_weights_are_refused():
    with Macro.golden(SMALL) as m:
        x = np.ones((2, SMALL.rows), dtype=int)
        for call, what in ((lambda: m.vmm(x), r"vmm\(\)"), (m.calibrate, r"calibrate\(\)"),
                           (lambda: m.vmm_int(x, input_bits=2), r"vmm\(\)")):
            with pytest.raises(HostError, match=rf"{what} needs weights in every row: "
                                                rf"{SMALL.rows} row\(s\) never written"):
                call()
        m.write_weights(np.ones((2, SMALL.cols), dtype=int), rows=[0, 3])
        with pytest.raises(HostError, match=rf"{SMALL.rows - 2} row\(s\) never written "
                                            r"\(1, 2, 4"):
            m.vmm(x)
        assert m.status().vmm_count == 0                  # nothing reached the macro
        rest = [r for r in range(SMALL.rows) if r not in (0, 3)]
        m.write_weights(np.ones((len(rest), SMALL.cols), dtype=int), rows=rest)
        assert m.vmm(x).shape == (2, SMALL.cols)


def test_a_closed_macro_refuses_every_call():
    m = Macro.golden(SMALL)
    m.write_weights(np.ones((SMALL.rows, SMALL.cols), dtype=int))
    m.close()
    m.close()                                               # harmless
    for call in (lambda: m.vmm(np.ones(SMALL.rows, dtype=int)), m.status, m.calibrate,
                 lambda: m.write_weights(np.ones((SMALL.rows, SMALL.cols), dtype=int))):
        with pytest.raises(HostError, match=r"this Macro \(golden\) is closed"):
            call()


def test_a_closed_macros_golden_backend_refuses_every_call():
    """Issue 22: code that kept ``m.backend`` went on computing with a closed golden macro
    (its close() did nothing); the RTL backend refuses once its simulation has ended."""
    m = Macro.golden(SMALL)
    backend = m.backend
    backend.write_offsets(np.zeros(SMALL.cols, dtype=int))           # open: works
    m.close()
    backend.close()                                                  # harmless
    zeros = np.zeros(1, dtype=bool)
    calls = {
        "program_rows": lambda: backend.program_rows([0], np.ones((1, SMALL.cols), bool)),
        "write_offsets": lambda: backend.write_offsets(np.zeros(SMALL.cols, dtype=int)),
        "write_fine_table": lambda: backend.write_fine_table(np.zeros(4, dtype=int)),
        "write_lut": lambda: backend.write_lut(np.zeros((SMALL.cols, 4), dtype=int)),
        "write_gains": lambda: backend.write_gains(np.ones(SMALL.cols, dtype=int)),
        "write_tracking": lambda: backend.write_tracking(0, 1),
        "tracking_state": backend.tracking_state,
        "set_temperature": lambda: backend.set_temperature(25.0),
        "write_verify_settings": lambda: backend.write_verify_settings(True, False, 3, 10),
        "write_verify_read": lambda: backend.write_verify_read(1, 1),
        "write_start_delay": lambda: backend.write_start_delay(1),
        "set_mode": lambda: backend.set_mode(False, False),
        "write_thresholds": lambda: backend.write_thresholds(np.zeros(SMALL.cols, dtype=int)),
        "run": lambda: backend.run(np.zeros((1, SMALL.rows), np.uint8), *(zeros,) * 4),
        "status": backend.status,
        "clear_status": backend.clear_status,
    }
    contract = {name for name, value in vars(Backend).items()
                if callable(value) and not name.startswith("_")}
    assert set(calls) == contract - {"close"}
    for name, call in calls.items():
        with pytest.raises(HostError, match=rf"^this golden backend is closed \(its Macro was "
                                            rf"closed\): {name}\(\) is no longer available; "
                                            rf"create a new Macro \(Macro\.golden\(\.\.\.\)\)$"):
            call()
    with pytest.raises(HostError, match=r"closed \(its Macro was closed\): its model is no "):
        _ = backend.golden


@pytest.mark.parametrize("timeout_s", [-1, 0, float("nan"), float("inf"), "10", True])
def test_rtl_timeout_must_be_a_positive_number(timeout_s):
    with pytest.raises(HostError, match=r"timeout_s must be a positive number of seconds"):
        Macro.rtl(SMALL, sim="icarus", timeout_s=timeout_s)


def test_tdc_start_delay_moves_every_code_and_calibration_absorbs_it():
    """TDC_START_DELAY one cycle earlier: every raw code up by fine_taps (the two-step TDC's
    phases per cycle), results off until calibrate() (CAL_OFFSET is the host's business)."""
    rng = np.random.default_rng(11)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (12, 16))
    with _macro() as m:
        m.write_weights(w)
        design = m.tdc_start_delay
        lo, hi = m.setup.start_delay_range()
        assert hi == design == m.setup.readout.start_delay_cycles and lo < design
        bits = (x + 1) // 2
        before = m.raw_codes(bits)
        m.set_tdc_start_delay(design - 1)
        assert m.tdc_start_delay == design - 1
        k = m.setup.readout.fine_taps
        assert np.array_equal(m.raw_codes(bits), before + k)
        assert not np.array_equal(m.vmm(x), x @ w)
        m.calibrate()
        assert np.array_equal(m.vmm(x), x @ w)


@pytest.mark.parametrize("bad, message", [
    (True, r"must be an integer number of clock cycles in 0\.\.65535, not True"),
    (1.0, r"in 0\.\.65535, not 1\.0"),
    ("2", r"in 0\.\.65535, not '2'"),
    (-1, r"in 0\.\.65535, not -1"),
    (1 << 16, r"in 0\.\.65535, not 65536"),
])
def test_tdc_start_delay_refuses_bad_values(bad, message):
    with _macro() as m:
        with pytest.raises(HostError, match=message):
            m.set_tdc_start_delay(bad)
        assert m.tdc_start_delay == m.setup.readout.start_delay_cycles


@pytest.mark.parametrize("tdc_mode", ["two_step", "counter"])
def test_tdc_start_delay_whose_codes_cannot_resolve_is_refused_with_the_reason(tdc_mode):
    from dataclasses import replace

    rng = np.random.default_rng(12)
    w = rng.choice([-1, 1], (16, 8))
    x = rng.choice([-1, 1], (6, 16))
    with Macro.golden(replace(SMALL, tdc_mode=tdc_mode)) as m:
        m.write_weights(w)
        lo, hi = m.setup.start_delay_range()
        want = m.vmm(x)
        k = m.setup.readout.fine_taps
        with pytest.raises(HostError, match=rf"TDC_START_DELAY = {hi + 1} cycles at a 5 ns clock: "
                                            rf"the fastest trips .* read below code 0, {k} TDC "
                                            rf"steps early, so their codes cannot resolve the "
                                            rf"dot product; use {lo}\.\.{hi} cycles"):
            m.set_tdc_start_delay(hi + 1)
        if lo > 0:
            with pytest.raises(HostError, match=rf"the slowest trips .* would overflow the "
                                                rf"5-bit TDC, {k} TDC steps late.*use "
                                                rf"{lo}\.\.{hi} cycles"):
                m.set_tdc_start_delay(lo - 1)
        # refused: nothing written, results unchanged
        assert m.tdc_start_delay == hi and np.array_equal(m.vmm(x), want)
        m.set_tdc_start_delay(lo)   # the range's ends are accepted
        assert m.tdc_start_delay == lo


def test_coarse_tdc_start_delay_that_leaves_the_window_is_refused():
    from dataclasses import replace

    config = replace(SMALL, tdc_mode="coarse", tdc_bits=3, write_pulse_cycles=5)
    with Macro.golden(config, t_clk_ns=2.0) as m:
        design = m.tdc_start_delay
        m.set_tdc_start_delay(design)
        with pytest.raises(HostError, match=r"TDC_START_DELAY = 1000 cycles at a 2 ns clock puts "
                                            r"the 16-row column's trips into 1 of the 7 codes.*"
                                            r"cannot resolve a dot product"):
            m.set_tdc_start_delay(1000)
        assert m.tdc_start_delay == design


def test_tdc_start_delay_refusals_never_reach_the_backend():
    """The RTL backend writes TDC_START_DELAY at run time (a register); a refused value must not
    get that far. A recording backend stands in for the simulation (no build)."""
    from mram_macro.host.backend import Backend
    from mram_macro.host.die_setup import DieSetup

    class Recorder(Backend):
        name = "recorder"

        def __init__(self):
            self.calls = []

        def write_start_delay(self, cycles):
            self.calls.append(cycles)

    setup = DieSetup.create(SMALL)
    m = Macro(Recorder(), setup)
    lo, hi = setup.start_delay_range()
    for bad in (hi + 1, -1, 2.5):
        with pytest.raises(HostError):
            m.set_tdc_start_delay(bad)
    m.set_tdc_start_delay(lo)
    assert m.backend.calls == [lo]


def test_write_verify_settings_change_what_later_writes_do():
    """Stuck cells: the default verify retries and flags them; max_retries=0 flags them without
    retrying; enable=False writes without reading back (no flag, no count)."""
    device = DeviceParams(p_stuck_high=0.05)
    w = np.random.default_rng(1).choice([-1, 1], (16, 8))
    seen = {}
    for name, settings in (("default", {}), ("no retries", dict(max_retries=0)),
                           ("off", dict(enable=False))):
        with _macro(device=device, seed=3) as m:
            m.set_write_verify(**settings)
            assert all(m.write_verify[k] == v for k, v in settings.items())
            m.write_weights(w)
            seen[name] = m.status()
    assert seen["default"].write_failed and seen["default"].wv_retry_count > 0
    assert seen["no retries"].write_failed and seen["no retries"].wv_retry_count == 0
    assert seen["no retries"].wv_fail_count == seen["default"].wv_fail_count > 0
    off = seen["off"]
    assert not off.write_failed and (off.wv_fail_count, off.wv_retry_count) == (0, 0)


@pytest.mark.parametrize("settings, message", [
    (dict(enable=1), r"enable must be True or False, not 1"),
    (dict(pulse_doubling="yes"), r"pulse_doubling must be True or False, not 'yes'"),
    (dict(max_retries=16), r"max_retries must be an integer in 0\.\.15, not 16"),
    (dict(max_retries=-1), r"max_retries must be an integer in 0\.\.15, not -1"),
    (dict(max_retries=2.0), r"max_retries must be an integer in 0\.\.15, not 2\.0"),
    (dict(pulse_cycles=0), r"pulse_cycles must be an integer in 1\.\.65535, not 0"),
    (dict(pulse_cycles=True), r"pulse_cycles must be an integer in 1\.\.65535, not True"),
    (dict(pulse_cycles=1), r"a write pulse of 1 cycles lasts 5 ns at a 5 ns clock, shorter than "
                           r"the device's 10 ns switching time: no weight would be written; use "
                           r"pulse_cycles >= 2"),
])
def test_write_verify_settings_refuse_bad_values_and_change_nothing(settings, message):
    with _macro() as m:
        before = dict(m.write_verify)
        with pytest.raises(HostError, match=message):   # a good setting beside: not applied
            m.set_write_verify(**{"max_retries": 1, **settings})
        assert m.write_verify == before
        assert m.backend._wv["max_retries"] == before["max_retries"]


def test_write_verify_cannot_be_enabled_on_a_coarse_build():
    from dataclasses import replace

    config = replace(SMALL, tdc_mode="coarse", tdc_bits=3, write_pulse_cycles=5)
    with Macro.golden(config, t_clk_ns=2.0) as m:
        assert not m.write_verify["enable"]
        m.set_write_verify(max_retries=1)          # other settings are fine
        with pytest.raises(HostError, match=r"cannot be enabled on this build \(r16.*coarse\): "
                                            r"it has no single-MTJ verify read"):
            m.set_write_verify(enable=True)
        assert m.write_verify["max_retries"] == 1 and not m.write_verify["enable"]


def test_a_build_without_write_verify_refuses_its_settings():
    """``write_verify=False``: enabling write-verify and setting its read are refused with the
    reason (nothing written); the open-loop writes still program the weights."""
    from dataclasses import replace

    config = replace(SMALL, write_verify=False, write_pulse_cycles=5)
    with Macro.golden(config, t_clk_ns=2.0) as m:
        assert not m.write_verify["enable"]
        before = dict(m.verify_read)
        with pytest.raises(HostError, match=r"cannot be enabled on this build \(.*_nowv\): it "
                                            r"was built with write_verify=False"):
            m.set_write_verify(enable=True)
        with pytest.raises(HostError, match=r"has no write-verify \(write_verify=False\): its "
                                            r"verify read \(WV_READ\) is not used"):
            m.set_verify_read(threshold=1)
        assert m.verify_read == before and not m.write_verify["enable"]
        w = np.random.default_rng(3).choice([-1, 1], (config.rows, config.cols))
        m.write_weights(w)
        x = np.random.default_rng(4).choice([-1, 1], (5, config.rows))
        assert np.array_equal(m.vmm(x), x @ w)


def test_verify_read_setting_reaches_the_write_verify_and_a_shifted_pair_reads_alike():
    """Counter TDC: one cycle later start and one code lower threshold is the same decision
    boundary, so the same writes are flagged; the golden backend's verify read takes it."""
    from dataclasses import replace

    config = replace(SMALL, tdc_mode="counter")
    device = DeviceParams(p_stuck_high=0.05)
    w = np.random.default_rng(1).choice([-1, 1], (16, 8))
    seen = []
    for shift in (0, 1):
        with Macro.golden(config, device=device, seed=3) as m:
            d, t = m.verify_read["delay"], m.verify_read["threshold"]
            m.set_verify_read(delay=d + shift, threshold=t - shift)
            assert m.verify_read == dict(delay=d + shift, threshold=t - shift)
            setup = m.backend._verify_setup
            assert (setup.start_delay_cycles, setup.threshold_code) == (d + shift, t - shift)
            m.write_weights(w)
            seen.append(m.status())
    assert seen[0].wv_fail_count > 0 and seen[0] == seen[1]


@pytest.mark.parametrize("settings, message", [
    (dict(threshold=True), r"the verify read's threshold must be an integer in 0\.\.63, not True"),
    (dict(threshold=64), r"threshold must be an integer in 0\.\.63, not 64"),
    (dict(delay=-1), r"the verify read's delay must be an integer in 0\.\.65535, not -1"),
    (dict(delay=1.0), r"delay must be an integer in 0\.\.65535, not 1\.0"),
    (dict(threshold=2), r"WV_READ DELAY = 0, THRESHOLD = 2: a nominal low MTJ reads code 2 and a "
                        r"high one 3, so the verify read cannot tell them apart; use a threshold "
                        r"in 3\.\.3 \(design 0, 3\)"),
    (dict(threshold=4), r"THRESHOLD = 4: .* cannot tell them apart"),
    (dict(delay=1), r"WV_READ DELAY = 1, THRESHOLD = 3: a nominal low MTJ reads code -6 and a "
                    r"high one -5, .* no threshold works at that delay \(use 0\)"),
])
def test_verify_read_refuses_what_cannot_tell_low_from_high(settings, message):
    with _macro() as m:
        before = dict(m.verify_read)
        with pytest.raises(HostError, match=message):
            m.set_verify_read(**settings)
        assert m.verify_read == before
        assert m.backend._verify_setup.threshold_code == before["threshold"]


def test_verify_read_is_refused_on_a_coarse_build():
    from dataclasses import replace

    config = replace(SMALL, tdc_mode="coarse", tdc_bits=3, write_pulse_cycles=5)
    with Macro.golden(config, t_clk_ns=2.0) as m, \
            pytest.raises(HostError, match="coarse' build has no single-MTJ verify read"):
        m.set_verify_read(threshold=4)
