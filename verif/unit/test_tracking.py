"""Per-column gain (accumulator) and the temperature tracker, in the Amaranth simulator, against
the golden model's arithmetic (sim_models.golden: scale_codes, tracked_gain, effective_gains);
the golden model's tracking over temperature; the gain + offset calibration."""

import numpy as np
import pytest

from mram_macro.design.config import (
    CAL_GAIN_MAX,
    CAL_GAIN_MIN,
    CAL_GAIN_ONE,
    CAL_GAIN_WIDTH,
    LIMITS,
    REPLICA_COLS,
    MacroConfig,
    profile_config,
)
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import build_regmap
from mram_macro.rtl.periphery.accumulator import Accumulator
from mram_macro.rtl.periphery.tracker import TRACK_SUM_BITS, Tracker
from sim_models import DeviceParams, signed_dot
from sim_models.calibration import (
    cal_gains_offsets_from_codes,
    calibrate,
    calibrate_gain,
    capture_track_ref,
    check_gains,
    gain_reference_patterns,
)
from sim_models.golden import effective_gains, scale_codes, tracked_gain, wrap_signed
from sim_models.replica import nominal_replica_lsb, replica_swing_lsb
from sim_models.studies import tracking_study
from verif.unit.sim import run

#: The builds with per-column gain and the temperature tracker: counter and two-step TDC
#: (every mode parameter spelt out: MacroConfig()'s defaults are not what these tests are about).
GAIN = profile_config("full", tdc_mode="counter", stream_width=32, calibration="gain")
TWO_STEP_GAIN = profile_config("full", tdc_mode="two_step", tdc_fine_taps=8, stream_width=64,
                               calibration="gain")
TRACKED = pytest.mark.parametrize("config", [GAIN, TWO_STEP_GAIN], ids=["counter", "two_step"])


def _pack(values, width):
    return sum((int(v) & ((1 << width) - 1)) << (i * width) for i, v in enumerate(values))


def _unpack(word, width, n):
    return [(word >> (i * width)) & ((1 << width) - 1) for i in range(n)]


@pytest.mark.parametrize("registered", [False, True], ids=["comb", "registered"])
def test_accumulator_gain_rounds_as_the_golden_model(registered):
    """value = offset - 2 * ((gain * code + 2**(F-1)) >> F), for random gains over the whole
    field (and exactly the old offset - 2 * code at gain 1.0, the unconnected default); with
    ``registered_scale`` one edge after codes and gains are set."""
    from amaranth import DomainRenamer

    cols, bits, width = 6, 7, 12
    acc = Accumulator(cols=cols, tdc_bits=bits, result_width=width,
                      gain=True, registered_scale=registered)
    dut = DomainRenamer({"scale": "sync"})(acc) if registered else acc
    rng = np.random.default_rng(8)

    async def settle(ctx):
        if registered:
            await ctx.tick()

    async def tb(ctx):
        codes = rng.integers(0, 1 << bits, cols)
        ctx.set(dut.codes, _pack(codes, bits))
        ctx.set(dut.offsets, _pack([5] * cols, width))
        await settle(ctx)
        assert wrap_signed(_unpack(ctx.get(dut.next_values), width, cols), width).tolist() == \
            (5 - 2 * codes).tolist()
        for _ in range(60):
            codes = rng.integers(0, 1 << bits, cols)
            gains = rng.integers(0, 1 << CAL_GAIN_WIDTH, cols)
            gains[0] = CAL_GAIN_ONE
            offsets = rng.integers(-(1 << (width - 1)), 1 << (width - 1), cols)
            ctx.set(dut.codes, _pack(codes, bits))
            ctx.set(dut.gains, _pack(gains, CAL_GAIN_WIDTH))
            ctx.set(dut.offsets, _pack(offsets, width))
            await settle(ctx)
            want = wrap_signed(offsets - 2 * scale_codes(codes, gains), width)
            got = wrap_signed(_unpack(ctx.get(dut.next_values), width, cols), width)
            assert got.tolist() == want.tolist()
            assert got[0] == wrap_signed(offsets[0] - 2 * codes[0], width)
            await ctx.tick()

    run(dut, tb)


def test_tracked_gain_arithmetic():
    assert tracked_gain(256, 256) == (CAL_GAIN_ONE, False)
    assert tracked_gain(256, 226) == (round(256 / 226 * CAL_GAIN_ONE), False)
    assert tracked_gain(300, 100) == (CAL_GAIN_MAX, True)       # 3.0 -> clamped at 2.0
    assert tracked_gain(100, 300) == (CAL_GAIN_MIN, True)
    assert tracked_gain(508, 1) == (CAL_GAIN_MAX, True)         # quotient saturates first
    assert effective_gains([CAL_GAIN_MAX], CAL_GAIN_MAX).tolist() == [(1 << CAL_GAIN_WIDTH) - 1]


def test_tracker_matches_the_golden_arithmetic():
    """Pass counting, replica sums, the divider, the clamp, the invalid flag and the per-column
    gains, for random intervals, references and replica codes."""
    cols, bits = 5, 7
    dut = Tracker(cols=cols, replicas=REPLICA_COLS, tdc_bits=bits)
    rng = np.random.default_rng(9)

    async def tb(ctx):
        count, gain = 0, CAL_GAIN_ONE
        cal = rng.integers(CAL_GAIN_MIN, CAL_GAIN_MAX + 1, cols)
        ctx.set(dut.cal_gains, _pack(cal, CAL_GAIN_WIDTH))
        assert _unpack(ctx.get(dut.gains), CAL_GAIN_WIDTH, cols) == cal.tolist()   # off
        retrims = invalid_seen = clamped_seen = 0
        for i in range(70):
            interval = int(rng.choice([0, 1, 2, 3])) if i % 20 else 2
            ref = int(rng.integers(1, REPLICA_COLS * 127 + 1))
            codes = rng.integers(40, 90, REPLICA_COLS)
            overflow = rng.random(REPLICA_COLS) < 0.05
            if i % 9 == 0:
                codes[:] = 0                    # a zero sum: invalid
            ctx.set(dut.interval, interval)
            ctx.set(dut.ref, ref)
            ctx.set(dut.ref_codes, _pack(codes, bits))
            ctx.set(dut.ref_overflow, _pack(overflow, 1))
            ctx.set(dut.pass_start, 1)
            await ctx.tick()
            ctx.set(dut.pass_start, 0)
            tracking = interval != 0 and count == 0
            assert ctx.get(dut.tracking) == tracking
            ctx.set(dut.read_done, 1)
            invalid = clamped = 0
            if tracking:
                invalid = ctx.get(dut.invalid)
            await ctx.tick()
            ctx.set(dut.read_done, 0)
            while ctx.get(dut.busy):
                clamped |= ctx.get(dut.clamped)
                await ctx.tick()
            if tracking:
                total = int(codes.sum())
                assert ctx.get(dut.code_sum) == total
                bad = overflow.any() or total == 0
                assert invalid == bad
                if not bad:
                    gain, want_clamped = tracked_gain(ref, total)
                    assert clamped == want_clamped
                    retrims += 1
                invalid_seen |= bad
                clamped_seen |= clamped
            assert ctx.get(dut.track_gain) == gain
            assert ctx.get(dut.retrims) == retrims
            want = effective_gains(cal, gain) if interval else cal
            assert _unpack(ctx.get(dut.gains), CAL_GAIN_WIDTH, cols) == want.tolist()
            ctx.set(dut.pass_done, 1)
            await ctx.tick()
            ctx.set(dut.pass_done, 0)
            count = 0 if not interval else (interval - 1 if count == 0 else count - 1)
        assert retrims > 5 and invalid_seen and clamped_seen

    run(dut, tb)


def test_regmap_gain_and_tracking_registers_reject_bad_values():
    rm = build_regmap(GAIN, tdc_start_delay=64)
    reg = rm["CAL_GAIN3"]
    assert reg.reset == CAL_GAIN_ONE and reg.check_write(CAL_GAIN_MAX) is None
    assert "outside" in reg.check_write(CAL_GAIN_MIN - 1)
    assert "outside" in reg.check_write(CAL_GAIN_MAX + 1)
    assert rm["TRACK_INTERVAL"].reset == 0
    assert rm["TRACK_REF"].reset == REPLICA_COLS * 64
    assert "outside" in rm["TRACK_REF"].check_write(0)
    assert rm["TRACK_GAIN"].read_only and rm["TRACK_CODE"].read_only
    with pytest.raises(ValueError, match=r"gains must lie in 512\.\.2048"):
        check_gains(np.full(64, 4000), 64)
    with pytest.raises(ValueError, match="gains must be 64 integers"):
        check_gains(np.full(64, 1.0), 64)


def test_gain_calibration_is_exact_on_a_pure_gain_and_offset():
    """A die whose step is 10 % short and whose start delay is 3 cycles early: gain + offset
    calibration makes it exact over the whole code range; offset-only cannot."""
    config = GAIN
    g = MacroDesign.derive(config, DeviceParams(r_cell_high_ohm=24.7e3)).golden()  # step 11.7k
    g.readout = MacroDesign.derive(config).readout                   # designed for 13k
    g.start_delay_cycles -= 3
    rng = np.random.default_rng(2)
    w = rng.integers(0, 2, (64, 64)).astype(np.uint8)
    g.load_weights(w)
    x = gain_reference_patterns(w, n_pairs=4, per_column=3, seed=5)
    y = signed_dot(x, w)
    calibrate(g, w)
    off = g.vmm_batch(x) - y
    off_err = np.abs(off).max()
    gains, _ = calibrate_gain(g, w, n_pairs=8, per_column=3)
    assert np.abs(gains - round(CAL_GAIN_ONE / 0.9)).max() <= 24, gains     # within 2 %
    err = g.vmm_batch(x) - y
    assert np.abs(err).max() <= 2 < off_err, (np.abs(err).max(), off_err)
    # over the ladder (each column's codes across its range): what is left is the TDC's own
    # rounding of a 0.9-clock step (codes are whole clocks)
    ladder = np.arange(8, len(x))
    cols = (ladder - 8) // 3
    assert np.abs(err[ladder, cols]).mean() < 0.5 * np.abs(off[ladder, cols]).mean()


def test_gain_fit_keeps_unit_gain_on_an_ideal_die_and_guards_degenerate_columns():
    g = MacroDesign.derive(GAIN).golden()
    w = np.random.default_rng(1).integers(0, 2, (64, 64)).astype(np.uint8)
    g.load_weights(w)
    gains, offsets = calibrate_gain(g, w)
    assert (gains == CAL_GAIN_ONE).all() and (offsets == 64).all()
    x = gain_reference_patterns(w, n_pairs=2, per_column=0)
    codes = np.full((len(x), 64), 30)                       # no slope to fit: gain stays 1.0
    gains, _ = cal_gains_offsets_from_codes(x, w, codes, tdc_bits=7, result_width=16)
    assert (gains == CAL_GAIN_ONE).all()
    with pytest.raises(ValueError, match="codes must have shape"):
        cal_gains_offsets_from_codes(x, w, codes[:, :3], tdc_bits=7, result_width=16)


@TRACKED
def test_golden_tracking_follows_temperature_without_recalibration(config):
    """Calibrated at 25 C; at 85 C the error without tracking is several LSB, with tracking it
    stays near the 25 C figure (the TMR fall is a gain error the replicas measure), with the
    counter and with the two-step TDC (codes in count units in both)."""
    g = MacroDesign.derive(config, DeviceParams.paper()).golden(seed=4)
    rng = np.random.default_rng(3)
    w = rng.integers(0, 2, (64, 64)).astype(np.uint8)
    g.load_weights(w)
    calibrate(g, w)
    ref = capture_track_ref(g)
    assert abs(ref - REPLICA_COLS * 64) <= 8 and g.track_ref == ref
    x = rng.integers(0, 2, (600, 64)).astype(np.uint8)
    y = signed_dot(x, w)
    cold = np.abs(g.vmm_batch(x) - y).mean()
    g.array.set_temperature(85.0)
    hot_off = np.abs(g.vmm_batch(x) - y).mean()
    g.track_interval = 50
    hot_on = np.abs(g.vmm_batch(x) - y).mean()
    assert hot_off > 4 and hot_on < 1.4 * cold, (cold, hot_off, hot_on)
    assert g.track_retrims == 1 + 600 // 50 and g.track_gain > 1.1 * CAL_GAIN_ONE
    # pass by pass (vmm) and batched (vmm_batch) agree, retrims included
    g2 = MacroDesign.derive(config, DeviceParams.paper()).golden(seed=4)
    g2.load_weights(w)
    g2.array.set_temperature(85.0)
    g.track_count = g2.track_count = 0
    g2.offsets, g2.track_ref, g2.track_interval = g.offsets.copy(), g.track_ref, 7
    g.track_interval = 7
    g2.evaluations = g.evaluations
    batch = g.vmm_batch(x[:40])
    single = np.array([g2.vmm(v).values for v in x[:40]])
    assert np.array_equal(batch, single) and g.track_gain == g2.track_gain


@TRACKED
def test_tracking_study_rows(config):
    s = tracking_study(config, DeviceParams.paper(), dies=2, temperatures_C=(25.0, 85.0),
                       test_vectors=128, track_interval=16,
                       registers=MacroDesign.derive_nominal(config).register_state)
    assert len(s.rows) == 3 * 2 * 2
    hot = s.row("offset", 85.0, False).stats.mean_abs
    assert hot > 3 * s.row("offset", 85.0, True).stats.mean_abs
    assert s.row("offset", 25.0, True).stats == s.row("offset", 25.0, False).stats
    with pytest.raises(ValueError, match="test_set must be"):
        tracking_study(GAIN, DeviceParams.paper(), dies=1, test_set="wide",
                       registers=MacroDesign.derive_nominal(GAIN).register_state)


def test_host_api_gain_calibration_tracking_and_bad_input():
    """Macro (golden backend): gain + offset calibration, the tracking reference, tracking on a
    hot die; bad gains and intervals are refused before the bus and change nothing."""
    from mram_macro.host import HostError, Macro

    rng = np.random.default_rng(6)
    w = rng.choice([-1, 1], (64, 64))
    x = rng.choice([-1, 1], (300, 64))
    offset_only = profile_config("full", tdc_mode="counter", stream_width=32, calibration="offset")
    with Macro.golden(offset_only, device=DeviceParams.paper(), seed=5) as m:
        with pytest.raises(HostError, match="no CAL_GAIN"):
            m.write_gains(np.full(64, CAL_GAIN_ONE))
        with pytest.raises(HostError, match="no temperature tracker"):
            m.set_tracking(1)
    with Macro.golden(GAIN, device=DeviceParams.paper(), seed=5) as m:
        m.write_weights(w)
        gains, offsets = m.calibrate(method="gain", n_pairs=8, per_column=2)
        assert np.array_equal(m.gains, gains) and np.array_equal(m.offsets, offsets)
        ref = m.capture_track_ref()
        assert ref == m.track_ref == m.backend.golden.track_ref
        for bad, message in ((np.full(64, 4000), "gains must lie in"),
                             (np.full(63, CAL_GAIN_ONE), "gains must be 64 integers")):
            with pytest.raises(HostError, match=message):
                m.write_gains(bad)
        assert np.array_equal(m.backend.golden.gains, gains)
        with pytest.raises(HostError, match="tracking interval must be an integer"):
            m.set_tracking(-1)
        with pytest.raises(HostError, match="method must be"):
            m.calibrate(method="table")
        m.backend.golden.array.set_temperature(85.0)
        y = (x @ w)
        hot = np.abs(m.vmm(x) - y).mean()
        m.set_tracking(32)
        tracked = np.abs(m.vmm(x) - y).mean()
        state = m.tracking()
        assert hot > 4 and tracked < 2, (hot, tracked)
        assert state["retrims"] >= 300 // 32 and state["gain"] > CAL_GAIN_ONE


def test_tracker_builds_per_tdc_mode():
    """The tracker (replica pins, TRACK_* registers) exists in the counter and the two-step gain
    builds, not in the offset or coarse ones; a two-step build reads its replicas' samplers on
    arr_ref_fine, REPLICA_COLS * (K - 1) bits, and its one FINE_TABLE serves them too."""
    from amaranth import Shape

    from mram_macro.rtl.top import array_members, macro_regmap

    small = dict(rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8)
    builds = {
        ("counter", "gain"): MacroConfig(**small, tdc_mode="counter", calibration="gain"),
        ("two_step", "gain"): MacroConfig(**small, tdc_mode="two_step", tdc_fine_taps=4,
                                          calibration="gain"),
        ("two_step", "offset"): MacroConfig(**small, tdc_mode="two_step", tdc_fine_taps=4,
                                            calibration="offset"),
        ("counter", "offset"): MacroConfig(**small, tdc_mode="counter", calibration="offset"),
        ("coarse", "offset"): MacroConfig(**small, tdc_mode="coarse", calibration="offset"),
    }
    for (mode, cal), config in builds.items():
        tracked = cal == "gain"
        assert config.has_tracker == tracked, (mode, cal)
        pins = array_members(config)
        assert ("arr_ref_cmp" in pins) == ("arr_ref_en" in pins) == tracked, (mode, cal)
        assert ("TRACK_INTERVAL" in {r.name for r in macro_regmap(config).registers}) == tracked
        fine = tracked and mode == "two_step"
        assert config.ref_fine_pins == (REPLICA_COLS * 3 if fine else 0)
        assert ("arr_ref_fine" in pins) == fine, (mode, cal)
        if fine:
            assert Shape.cast(pins["arr_ref_fine"].shape).width == REPLICA_COLS * 3
            assert "replica columns included" in macro_regmap(config)["FINE_TABLE0"].doc
    # Codes are counts in both modes: the widest legal code's replica sum fits TRACK_CODE.
    widest = LIMITS["tdc_bits"][1]
    assert REPLICA_COLS * ((1 << widest) - 1) < 1 << TRACK_SUM_BITS
    Tracker(cols=1, replicas=REPLICA_COLS, tdc_bits=widest)._MustUse__silence = True


@TRACKED
def test_golden_replica_codes_are_counts_in_both_modes(config):
    """On the ideal die every replica cell is one mismatching cell: code = rows, in count units,
    whichever TDC reads it; a hotter die gives smaller codes."""
    g = MacroDesign.derive(config, DeviceParams()).golden()
    codes, overflow = g.replica_codes(0)
    assert codes.tolist() == [config.rows] * REPLICA_COLS and not overflow.any()
    g.array.set_temperature(85.0)
    hot, _ = g.replica_codes(1)
    assert (hot < config.rows).all()


@pytest.mark.parametrize("rows", [2, 8, 22, 64])
def test_nominal_replica_lsb_is_the_ideal_replica_trip(rows):
    """On the ideal die every replica trips where :func:`nominal_replica_lsb` says (a counter
    code is the edge after it, less the start delay), at every temperature; its swing over
    0..85 C grows with the rows, below one step on 2 rows (which the tracking test must then
    not expect to see)."""
    config = profile_config("full", rows=rows, cols=3, tdc_bits=10, result_width=12, stream_width=8,
                         tdc_mode="counter", calibration="gain")
    g = MacroDesign.derive(config, DeviceParams()).golden()
    for evaluation, temperature in enumerate((0.0, 25.0, 60.0, 85.0)):
        g.array.set_temperature(temperature)
        lsb = nominal_replica_lsb(rows, g.device, g.readout)
        codes, _ = g.replica_codes(evaluation)
        assert codes.tolist() == [int(np.ceil(lsb)) - g.start_delay_cycles - 1] * REPLICA_COLS
    swing = replica_swing_lsb(rows, DeviceParams(), g.readout, (0.0, 85.0))
    # One step is one mismatching cell (delta_r): the swing is the rows' high-state change.
    cold, hot = DeviceParams(temperature_C=0.0), DeviceParams(temperature_C=85.0)
    assert swing == pytest.approx(rows * (cold.r_mtj_high_at_temperature_ohm
                                          - hot.r_mtj_high_at_temperature_ohm)
                                  / DeviceParams().delta_r_ohm)
    assert (swing < 1) == (rows < 6)


def test_golden_two_step_replica_codes_follow_the_fine_table():
    """The replicas' codes go through the macro's FINE_TABLE (register mirror): remapping one
    ones count changes their codes exactly as the table says, and the tracker's sum with it."""
    g = MacroDesign.derive(TWO_STEP_GAIN, DeviceParams.paper()).golden(seed=7)
    k = TWO_STEP_GAIN.fine_taps
    ideal = g.fine_table.copy()
    shifted = np.maximum(ideal - 1, 0)          # legal (in range, not increasing), not ideal
    seen = set()
    for evaluation, temperature in enumerate(np.arange(0.0, 90.0, 5.0)):
        g.array.set_temperature(float(temperature))
        base, _ = g.replica_codes(evaluation)
        seen |= {int(c) % k for c in base}
        ones = k - 1 - base % k                 # the ideal table's inverse
        g.fine_table = shifted
        remapped, _ = g.replica_codes(evaluation)
        g.fine_table = ideal
        assert remapped.tolist() == (base // k * k + shifted[ones]).tolist()
    assert len(seen) > 2, "the replicas' fine values hardly varied: the test shows little"


def test_replica_pin_model_drives_the_replica_samplers():
    """The pin model of a two-step tracker build: at a tracking evaluation each replica's
    sampler bits appear on arr_ref_fine (column j at j (K - 1)) with its arr_ref_cmp bit, the
    array's on arr_fine untouched by them; a missing or wrong-width arr_ref_fine is refused."""
    from types import SimpleNamespace

    from mram_macro.sim.array_pins import _Pins
    from mram_macro.sim.replica_pins import ReplicaCocotbMramArray, array_pin_model

    class Pin:
        def __init__(self, width):
            self.width, self.value = width, 0

        def __len__(self):
            return self.width

    config = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8,
                            tdc_mode="two_step", tdc_fine_taps=4, calibration="gain")
    k = config.fine_taps
    g = MacroDesign.derive(config, DeviceParams.paper()).golden(seed=3)
    pins = dict(clk=1, arr_pre=1, arr_eval=1, arr_bypass_l=8, arr_bypass_r=8, arr_cmp=12,
                arr_fine=12 * (k - 1), arr_wr_pulse=1, arr_wr_row=8, arr_wr_side=1,
                arr_wr_data=12, arr_ref_en=1, arr_ref_cmp=REPLICA_COLS,
                arr_ref_fine=config.ref_fine_pins)
    dut = SimpleNamespace(**{name: Pin(width) for name, width in pins.items()})
    model = array_pin_model(config, dut, g.array, g.readout)
    assert isinstance(model, ReplicaCocotbMramArray)
    dut.arr_ref_en.value = 1
    model._precharged = True
    model._start_evaluation(_Pins(0.0, False, True, False, 0, 0))
    model._raise_due(1e6)                                   # every trip edge has passed
    m, therm = g.array.replica.fine_trips(g.device, g.readout, evaluation=0,
                                           phase_errors_lsb=g.array.phase_errors_lsb(g.readout))
    assert m.tolist() == model.last_replica_trip_cycles.tolist()
    want = sum(1 << (j * (k - 1) + i) for j in range(REPLICA_COLS) for i in range(k - 1)
               if therm[j, i])
    assert want and dut.arr_ref_fine.value == want
    assert dut.arr_ref_cmp.value == (1 << REPLICA_COLS) - 1
    assert dut.arr_fine.value < 1 << (12 * (k - 1))
    model._reset_comparators()
    assert dut.arr_ref_fine.value == dut.arr_ref_cmp.value == 0
    for bad in (None, Pin(config.ref_fine_pins - 1)):
        dut.arr_ref_fine = bad
        with pytest.raises(ValueError, match="arr_ref_fine pin of 12 bits"):
            array_pin_model(config, dut, g.array, g.readout)


def test_one_column_tracker_has_no_empty_signals():
    """A 1-column gain build: the tracker's column indices keep one bit (Amaranth would emit
    ``wire [-1:0]`` for a zero-width index, which Verilator's lint refuses: found by
    ``make props`` on r2_c1_t5_w25_s8_k16_gain)."""
    from amaranth.back import verilog

    text = verilog.convert(Tracker(cols=1, replicas=4, tdc_bits=5), name="tracker")
    assert "[-1:0]" not in text


@pytest.mark.parametrize("profile", ["plain", "full", "tracker"])
def test_only_control_state_runs_on_the_free_running_clock(profile):
    """Registers that change on a retrim, a capture or a pass boundary sit behind clock gates:
    the tracker's retrim and pass counter, the gain multipliers' register, the replicas' codes
    (before they had gates, the tracker profile clocked 938 tracker and 576 multiplier
    flip-flops on every edge: 300 of its 569 pJ per VMM). What is left on ``clk`` is the
    read control's low counter bits and FSM, the sequencer's and the TDCs' epoch flags."""
    from mram_macro.explore.features import FREE_RUNNING, features

    free = {block: per.get(FREE_RUNNING, 0)
            for block, per in features(profile_config(profile)).domains.items()}
    assert free.get("tracker", 0) == free.get("accumulator", 0) == 0, free
    assert sum(free.values()) <= 24, free
