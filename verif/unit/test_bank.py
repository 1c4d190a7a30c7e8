"""The host API's bank of macros (one die, one seed), the temperature setter and the tracking
reference setter, on the golden backend; and a 784-input layer tiled over 64-row macros."""

from __future__ import annotations

import numpy as np
import pytest

from mram_macro.design.config import profile_config
from mram_macro.host import Bank, HostError, Macro
from sim_models.device import DeviceParams

GAIN = profile_config("full", calibration="gain", tdc_mode="counter")


def test_784_input_layer_tiles_exactly_in_ideal_mode_on_a_small_slice():
    rng = np.random.default_rng(0)
    w = rng.choice([-1, 1], (784, 64))
    x = rng.choice([-1, 1], (12, 784))
    t = rng.integers(-30, 30, 64)
    with Bank.golden(13, profile_config("full"), seed=3) as bank:
        layer = bank.place(w)
        assert (layer.plan.row_tiles, layer.plan.col_tiles) == (13, 1)
        assert layer.stationary and bank.free_macros == 0
        np.testing.assert_array_equal(layer.run(x), x @ w)
        np.testing.assert_array_equal(layer.run(x, thresholds=t), np.where(x @ w >= t, 1, -1))
        assert layer.writes == 13  # written once, run twice


def test_shared_macros_rewrite_tiles_and_stay_exact():
    rng = np.random.default_rng(1)
    w = rng.choice([-1, 1], (200, 10))
    w2 = rng.choice([-1, 1], (10, 4))
    x = rng.choice([-1, 1], (5, 200))
    with Bank.golden(2, profile_config("full"), seed=0) as bank:
        layer = bank.place(w)
        second = bank.place(w2)  # no macro is free: shares the bank with the first layer
        assert not layer.stationary
        for _ in range(2):
            y = layer.run(x)
            np.testing.assert_array_equal(y, x @ w)
            h = np.where(y >= 0, 1, -1)
            np.testing.assert_array_equal(second.run(h), h @ w2)
        assert layer.writes == 8  # 4 row tiles on 2 macros: every tile written once per run
        assert second.writes == 2


def test_one_row_tile_thresholds_run_on_chip_in_activation_mode():
    rng = np.random.default_rng(2)
    w = rng.choice([-1, 1], (40, 10))
    x = rng.choice([-1, 1], (6, 40))
    t = rng.integers(-6, 6, 10)
    with Bank.golden(1, profile_config("full"), seed=0) as bank:
        layer = bank.place(w)
        calls = []
        m = bank.macros[0]
        orig = m.set_activation
        m.set_activation = lambda th: (calls.append(th), orig(th))[1]
        np.testing.assert_array_equal(layer.run(x, thresholds=t), np.where(x @ w >= t, 1, -1))
        assert calls[0] is not None and calls[-1] is None


def test_one_seed_per_die_gives_distinct_macros_and_repeats():
    dev = DeviceParams.paper()
    with Bank.golden(3, device=dev, seed=7) as a, Bank.golden(3, device=dev, seed=7) as b:
        dies = [m.setup.die for m in a.macros]
        assert len({d.seed for d in dies}) == 3
        for m, n in zip(a.macros, b.macros, strict=True):
            assert m.setup.die.seed == n.setup.die.seed
            np.testing.assert_array_equal(m.setup.die.r_low_ohm, n.setup.die.r_low_ohm)
    assert Bank.macro_seed(7, 0) != Bank.macro_seed(8, 0)


@pytest.mark.parametrize("call,match", [
    (lambda: Bank.golden(0), r"n_macros must be a positive integer, not 0"),
    (lambda: Bank.golden(2, seed=-1), r"seed must be a non-negative integer, not -1"),
    (lambda: Bank([]), r"at least one Macro"),
])
def test_bank_construction_is_validated(call, match):
    with pytest.raises(HostError, match=match):
        call()


def test_place_is_validated():
    with Bank.golden(2, profile_config("full")) as bank:
        with pytest.raises(HostError, match=r"array of -1/\+1"):
            bank.place(np.zeros((3, 3)))
        with pytest.raises(HostError, match=r"calibrate must be one of"):
            bank.place(np.ones((3, 3)), calibrate="both")
        with pytest.raises(HostError, match=r"needs a build with CAL_GAIN"):
            bank.place(np.ones((3, 3)), calibrate="gain")
        with pytest.raises(HostError, match=r"track_interval needs calibrate='gain'"):
            bank.place(np.ones((3, 3)), track_interval=4)
        with pytest.raises(HostError, match=r"has 4 tiles; the bank has 2 free"):
            bank.place(np.ones((200, 3)), share=False)
        layer = bank.place(np.ones((3, 3)))
        with pytest.raises(HostError, match=r"inputs must have shape \(batch, 3\)"):
            layer.run(np.ones((2, 4)))
        with pytest.raises(HostError, match=r"thresholds must be 3 integers"):
            layer.run(np.ones((2, 3)), thresholds=np.zeros(3))
        bank.place(np.ones((3, 3)))
        with pytest.raises(HostError, match=r"0 free macro\(s\) of 2"):
            bank.place(np.ones((3, 3)), share=False)


def test_set_temperature_changes_a_running_macro_and_is_validated():
    rng = np.random.default_rng(3)
    w = rng.choice([-1, 1], (64, 64))
    x = rng.choice([-1, 1], (64, 64))
    with Macro.golden(profile_config("full"), device=DeviceParams.paper(), seed=2) as m:
        m.write_weights(w)
        m.calibrate()
        cold = m.vmm(x)
        m.set_temperature(85)
        assert m.temperature_C == 85.0
        hot = m.vmm(x)
        # The TMR falls when hot: fewer counts per mismatch, results pulled up (offset build).
        assert (hot - cold).mean() > 3
        m.set_temperature(25.0)
        np.testing.assert_array_equal(m.weights, (w > 0).astype(np.uint8))
        for bad in (200, -50, float("nan"), "hot", True):
            with pytest.raises(HostError, match=r"temperature_C must be a number in -40..150"):
                m.set_temperature(bad)


def test_tracker_follows_temperature_and_track_ref_setter():
    rng = np.random.default_rng(4)
    w = rng.choice([-1, 1], (64, 64))
    x = rng.choice([-1, 1], (256, 64))
    with Macro.golden(GAIN, device=DeviceParams.paper(), seed=5) as m:
        m.write_weights(w)
        m.calibrate(method="gain")
        ref = m.capture_track_ref()
        m.set_tracking(8)
        m.set_temperature(85.0)
        tracked = np.abs((m.vmm(x) - x @ w).mean())
        m.set_tracking(0)
        untracked = np.abs((m.vmm(x) - x @ w).mean())
        assert tracked < 1.0 < untracked
        m.set_track_ref(ref + 3)
        assert m.track_ref == ref + 3
        for bad in (0, -1, 1.5, True, 10**6):
            with pytest.raises(HostError, match=r"tracking reference must be an integer in 1\.\."):
                m.set_track_ref(bad)
    with Macro.golden() as m, pytest.raises(HostError, match=r"no temperature tracker"):
        m.set_track_ref(10)


def test_rewritten_tile_gets_its_first_calibration_back_not_a_new_one():
    rng = np.random.default_rng(6)
    w = rng.choice([-1, 1], (128, 64))
    x = rng.choice([-1, 1], (32, 128))
    with Bank.golden(1, GAIN, device=DeviceParams.paper(), seed=1) as bank:
        layer = bank.place(w, calibrate="gain", track_interval=8)
        m = bank.macros[0]
        calls = []
        orig = m.calibrate
        m.calibrate = lambda **kw: (calls.append(kw), orig(**kw))[1]
        cold = layer.run(x)
        assert len(calls) == 2 and layer.writes == 2
        refs = [ref for _, _, ref in layer._calibration.values()]
        bank.set_temperature(85.0)
        hot = layer.run(x)
        assert len(calls) == 2 and layer.writes == 4  # re-written, not recalibrated
        assert m.track_ref == refs[1]
        # The tracker, from the 25 C references, keeps the hot sums near the cold ones.
        assert abs((hot - cold).mean()) < 1.5
        assert (hot - x @ w).std() < 6


def test_row_tiles_meet_in_the_accumulator_with_on_chip_activation():
    rng = np.random.default_rng(7)
    w = rng.choice([-1, 1], (150, 70))   # 3 row tiles x 2 column tiles
    x = rng.choice([-1, 1], (2, 150))
    t = rng.integers(-10, 10, 70)
    with Bank.golden(2, profile_config("full"), seed=2) as bank:
        layer = bank.place(w)
        np.testing.assert_array_equal(layer.run_accumulated(x), x @ w)
        np.testing.assert_array_equal(layer.run_accumulated(x, thresholds=t),
                                      np.where(x @ w >= t, 1, -1))
        # every pass wrote its tile first; each tile was also written once to calibrate it
        assert layer.writes == 2 * 2 * 3 * 2 + 2 * 3 * 2
        with pytest.raises(HostError, match=r"inputs must have shape \(batch, 150\)"):
            layer.run_accumulated(x[:, :64])
        with pytest.raises(HostError, match=r"thresholds must be 70 integers"):
            layer.run_accumulated(x, thresholds=t[:5])


def test_bank_setters_reach_every_macro_all_or_none(monkeypatch):
    """The TDC start delay, the verify read and the write-verify settings go to every macro of
    the die; one macro's refusal leaves every macro as it was; the start delay only before a
    layer is placed (its calibrations were taken at the old delay)."""
    with Bank.golden(3, profile_config("full"), seed=4) as bank:
        start = bank.macros[0].tdc_start_delay
        bank.set_write_verify(max_retries=1, pulse_doubling=False)
        assert all(m.write_verify["max_retries"] == 1 and not m.write_verify["pulse_doubling"]
                   for m in bank.macros)
        before = [dict(m.verify_read) for m in bank.macros]
        with pytest.raises(HostError, match="delay must be an integer"):
            bank.set_verify_read(delay=-1)
        assert [m.verify_read for m in bank.macros] == before
        # The last macro refuses a delay the others take: the others are restored.
        last = bank.macros[-1]

        def refuse(cycles):
            raise HostError("this die cannot resolve its codes at that delay")
        monkeypatch.setattr(last, "set_tdc_start_delay", refuse)
        with pytest.raises(HostError, match="this die cannot resolve"):
            bank.set_tdc_start_delay(start - 1)
        assert [m.tdc_start_delay for m in bank.macros] == [start] * 3
        monkeypatch.undo()
        bank.set_tdc_start_delay(start - 1)
        assert [m.tdc_start_delay for m in bank.macros] == [start - 1] * 3
        bank.place(np.ones((64, 64)))
        with pytest.raises(HostError, match="before placing layers"):
            bank.set_tdc_start_delay(start)
