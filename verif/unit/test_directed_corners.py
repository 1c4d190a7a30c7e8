"""Directed tests of corners that single-point mutants of the RTL once slipped through (issue 22):
the whole suite passed with

* the tracker retrimming (and clamping) from an invalid replica sample (a saturated replica, or
  a zero sum), instead of keeping its trim;
* the result serializer sending an activation-mode frame one beat short;
* the input deserializer dropping the ``shift``/``negate`` flags of a one-beat vector.

Each test below fails on its mutant (checked by applying the mutant, see the issue's report).
"""

import itertools

import numpy as np
import pytest

from mram_macro.design.config import (
    CAL_GAIN_ONE,
    CAL_GAIN_WIDTH,
    REPLICA_COLS,
    profile_config,
)
from mram_macro.design.layouts import (
    activation_beats,
    input_flags,
    pack_activation_vector,
    pack_input_vector,
    pack_result_vector,
)
from mram_macro.rtl.periphery.input_deserializer import InputDeserializer
from mram_macro.rtl.periphery.result_serializer import ResultSerializer
from mram_macro.rtl.periphery.tracker import Tracker
from sim_models.golden import tracked_gain
from verif.unit.sim import run

_BITS = 7
_MAX_CODE = (1 << _BITS) - 1


def _pack(values, width):
    return sum((int(v) & ((1 << width) - 1)) << (i * width) for i, v in enumerate(values))


# -- tracker ----------------------------------------------------------------------------------
def _tracking_passes(samples, *, cols=3):
    """Run one tracking pass (TRACK_INTERVAL 1) per ``(ref, codes, overflow)`` of ``samples``
    and return, per pass: whether ``invalid`` and ``clamped`` pulsed, and TRACK_GAIN, the
    retrim count and the gains to the accumulator after it."""
    dut = Tracker(cols=cols, replicas=REPLICA_COLS, tdc_bits=_BITS)
    cal = [CAL_GAIN_ONE] * cols
    seen = []

    async def tb(ctx):
        ctx.set(dut.cal_gains, _pack(cal, CAL_GAIN_WIDTH))
        ctx.set(dut.interval, 1)
        for ref, codes, overflow in samples:
            ctx.set(dut.ref, ref)
            ctx.set(dut.ref_codes, _pack(codes, _BITS))
            ctx.set(dut.ref_overflow, _pack(overflow, 1))
            ctx.set(dut.pass_start, 1)
            await ctx.tick()
            ctx.set(dut.pass_start, 0)
            assert ctx.get(dut.tracking)
            ctx.set(dut.read_done, 1)
            invalid, clamped = ctx.get(dut.invalid), ctx.get(dut.clamped)
            await ctx.tick()
            ctx.set(dut.read_done, 0)
            while ctx.get(dut.busy):
                invalid |= ctx.get(dut.invalid)
                clamped |= ctx.get(dut.clamped)
                await ctx.tick()
            seen.append(dict(invalid=invalid, clamped=clamped, gain=ctx.get(dut.track_gain),
                             retrims=ctx.get(dut.retrims), gains=ctx.get(dut.gains)))
            ctx.set(dut.pass_done, 1)
            await ctx.tick()
            ctx.set(dut.pass_done, 0)

    run(dut, tb)
    return seen


@pytest.mark.parametrize("bad", ["one_saturated", "all_saturated", "zero_sum"])
def test_tracker_keeps_its_trim_on_an_invalid_replica_sample(bad):
    """A valid retrim first (gain 1.25, not clamped); then an invalid sample whose ratio, if it
    were used, would clamp the gain (a zero sum: the ratio saturates high; saturated replicas:
    a large sum against a small reference, the ratio under CAL_GAIN_MIN)."""
    nominal = [60] * REPLICA_COLS
    ref = int(1.25 * sum(nominal))
    want_gain, want_clamped = tracked_gain(ref, sum(nominal))
    assert not want_clamped and want_gain != CAL_GAIN_ONE
    codes, overflow = {
        "one_saturated": ([_MAX_CODE] + [60] * (REPLICA_COLS - 1), [1] + [0] * (REPLICA_COLS - 1)),
        "all_saturated": ([_MAX_CODE] * REPLICA_COLS, [1] * REPLICA_COLS),
        "zero_sum": ([0] * REPLICA_COLS, [0] * REPLICA_COLS),
    }[bad]
    small_ref = 1               # with a saturated sum, the ratio would clamp to CAL_GAIN_MIN
    first, second = _tracking_passes([(ref, nominal, [0] * REPLICA_COLS),
                                      (small_ref if bad != "zero_sum" else ref, codes, overflow)])
    assert (first["invalid"], first["clamped"], first["gain"], first["retrims"]) == (
        0, 0, want_gain, 1)
    assert second["invalid"] == 1, "an invalid replica sample must pulse invalid"
    assert second["clamped"] == 0, "an invalid sample must not be used, so nothing is clamped"
    assert second["gain"] == want_gain and second["retrims"] == 1, "the trim must be kept"
    assert second["gains"] == first["gains"]


# -- result serializer ------------------------------------------------------------------------
@pytest.mark.parametrize("cols", [5, 20], ids=["1beat", "3beats"])
def test_result_serializer_activation_frame_has_all_its_beats(cols):
    """Activation frames (``short``) between full frames, under back-pressure: each has
    ``activation_beats`` beats carrying the packed bits, ``tlast`` on its last beat only."""
    config = profile_config("full", rows=8, cols=cols, tdc_bits=4, result_width=6, stream_width=8)
    width = config.result_width
    dut = ResultSerializer(config)
    rng = np.random.default_rng(22)
    frames = []
    for i in range(6):
        if i % 2:
            bits = rng.integers(0, 2, cols)
            frames.append((True, _pack(bits, 1), pack_activation_vector(bits, config)))
        else:
            v = rng.integers(-32, 32, cols)
            frames.append((False, _pack(v, width), pack_result_vector(v, config)))
    want = [(beat, int(k == len(beats) - 1)) for _, _, beats in frames
            for k, beat in enumerate(beats)]
    got = []

    async def producer(ctx):
        for short, data, _ in frames:
            await ctx.tick().until(~dut.frame.busy)
            ctx.set(dut.data, data)
            ctx.set(dut.short, short)
            ctx.set(dut.frame.load, 1)
            await ctx.tick()
            ctx.set(dut.frame.load, 0)

    async def consumer(ctx):
        while len(got) < len(want) + 1:
            ctx.set(dut.m_axis_tready, int(rng.integers(0, 2)))
            valid, data, last = (ctx.get(dut.m_axis_tvalid), ctx.get(dut.m_axis_tdata),
                                 ctx.get(dut.m_axis_tlast))
            await ctx.tick()
            if valid and ctx.get(dut.m_axis_tready):
                got.append((data, last))
            if len(got) == len(want):
                for _ in range(20):          # nothing more may come
                    await ctx.tick()
                    if ctx.get(dut.m_axis_tvalid):
                        got.append(("extra", 1))
                break

    run(dut, producer, consumer, deadline_cycles=5_000)   # a frame short of a beat hangs
    assert activation_beats(config) == -(-cols // config.stream_width)
    assert got == want


# -- input deserializer -----------------------------------------------------------------------
def test_one_beat_vectors_keep_every_flag():
    """A one-beat vector's flags come from its only beat: every combination of the four
    flags, and a different tuser on the next vector, arrive as sent."""
    config = profile_config("full", rows=8, tdc_bits=4, stream_width=8)
    assert config.in_beats == 1
    dut = InputDeserializer(config)
    combos = [dict(zip(("accumulate", "hold", "shift", "negate"), bits, strict=True))
              for bits in itertools.product((False, True), repeat=4)]
    rng = np.random.default_rng(23)
    xs = [rng.integers(0, 2, config.rows) for _ in combos]
    received = []

    async def source(ctx):
        for x, flags in zip(xs, combos, strict=True):
            ctx.set(dut.s_axis_tdata, pack_input_vector(x, config)[0])
            ctx.set(dut.s_axis_tuser, input_flags(**flags))
            ctx.set(dut.s_axis_tlast, 1)
            ctx.set(dut.s_axis_tvalid, 1)
            await ctx.tick().until(dut.s_axis_tready)
            ctx.set(dut.s_axis_tvalid, 0)

    async def sink(ctx):
        while len(received) < len(combos):
            await ctx.tick().until(dut.handoff.valid)
            received.append((ctx.get(dut.vector), ctx.get(dut.handoff.flags)))
            ctx.set(dut.handoff.take, 1)
            await ctx.tick()
            ctx.set(dut.handoff.take, 0)

    run(dut, source, sink)
    for (vec, flags), x, sent in zip(received, xs, combos, strict=True):
        assert vec == _pack(x, 1)
        assert flags == {k: int(v) for k, v in sent.items()}
