"""Unit tests of the periphery blocks in the Amaranth simulator, each against plain Python."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from mram_macro.design.config import profile_config
from mram_macro.design.layouts import InputFlags, input_flags, pack_input_vector, pack_result_vector
from mram_macro.rtl.periphery.accumulator import Accumulator
from mram_macro.rtl.periphery.input_deserializer import InputDeserializer
from mram_macro.rtl.periphery.input_driver import InputDriver
from mram_macro.rtl.periphery.result_serializer import ResultSerializer
from mram_macro.rtl.periphery.write_controller import WriteController
from sim_models.array import bypass_for_inputs
from sim_models.golden import wrap_signed
from verif.unit.sim import run


def _bits(value, n):
    return [(value >> i) & 1 for i in range(n)]


def _int(bits):
    return sum(int(b) << i for i, b in enumerate(bits))


def _pack(values, n):
    """``values`` as ``n``-bit two's-complement fields, the first in the low bits."""
    return _int(np.concatenate([_bits(int(v) & ((1 << n) - 1), n) for v in values]))


def _draw_pass(ctx, dut, rng, cols, bits, width):
    """Random codes and signed offsets onto an accumulator's inputs; returns both."""
    codes = rng.integers(0, 1 << bits, cols)
    offsets = rng.integers(-(1 << (width - 1)), 1 << (width - 1), cols)
    ctx.set(dut.codes, _pack(codes, bits))
    ctx.set(dut.offsets, _pack(offsets, width))
    return codes, offsets


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "inputs_only"])
def test_input_driver_matches_cell_model(raw):
    """Both builds (with the write-verify's raw path, and the one-register build without it)
    drive the cell model's bypass pattern and hold it after the load."""
    rows = 10
    dut = InputDriver(rows=rows, raw=raw)
    rng = np.random.default_rng(4)

    async def tb(ctx):
        for _ in range(20):
            x = rng.integers(0, 2, rows)
            ctx.set(dut.x, _int(x))
            ctx.set(dut.load, 1)
            await ctx.tick()
            ctx.set(dut.load, 0)
            ctx.set(dut.x, 0)              # held after the load, not following x
            await ctx.tick()
            bl, br = bypass_for_inputs(x)
            assert ctx.get(dut.arr_bypass_l) == _int(bl)
            assert ctx.get(dut.arr_bypass_r) == _int(br)

    run(dut, tb)


def test_accumulator_clear_accumulate_shift_negate_wraps():
    cols, bits, width = 5, 4, 6
    dut = Accumulator(cols=cols, tdc_bits=bits, result_width=width)
    rng = np.random.default_rng(5)

    async def tb(ctx):
        acc = np.zeros(cols, dtype=np.int64)
        for _ in range(40):
            codes, offsets = _draw_pass(ctx, dut, rng, cols, bits, width)
            accumulate, shift, negate = (int(v) for v in rng.integers(0, 2, 3))
            thresholds = rng.integers(-(1 << (width - 1)), 1 << (width - 1), cols)
            ctx.set(dut.thresholds, _pack(thresholds, width))
            ctx.set(dut.accumulate, accumulate)
            ctx.set(dut.shift, shift)
            ctx.set(dut.negate, negate)
            activation = int(rng.integers(0, 2))
            ctx.set(dut.activation, activation)
            ctx.set(dut.capture, 1)
            base = ((2 * acc if shift else acc) if accumulate else 0)
            term = offsets - 2 * codes
            held = acc
            acc = wrap_signed(base + (-term if negate else term), width)
            # The activation bits are those of the captured values (the register the serializer
            # streams); outside MODE.ACTIVATION the comparators are isolated: they compare 0.
            compared = held if activation else np.zeros(cols, dtype=np.int64)
            assert _bits(ctx.get(dut.fires), cols) == (compared >= thresholds).tolist()
            await ctx.tick()
            ctx.set(dut.capture, 0)
            values = ctx.get(dut.values)
            got = wrap_signed([(values >> (c * width)) & ((1 << width) - 1)
                               for c in range(cols)], width)
            assert got.tolist() == acc.tolist()
            compared = acc if activation else np.zeros(cols, dtype=np.int64)
            assert _bits(ctx.get(dut.fires), cols) == (compared >= thresholds).tolist()
            await ctx.tick()               # no capture: values hold
            assert ctx.get(dut.values) == values

    run(dut, tb)


@pytest.mark.parametrize("config", [profile_config("full", rows=20, stream_width=8),
                                    profile_config("full", rows=8, tdc_bits=4, stream_width=8),
                                    profile_config("full", rows=20, stream_width=8, multibit=False),
                                    profile_config("full", rows=8, tdc_bits=4, stream_width=8,
                                                   multibit=False)],
                         ids=["3beats", "1beat", "3beats-1pass", "1beat-1pass"])
def test_input_deserializer_lengths_and_flags(config):
    check_input_deserializer(config, InputDeserializer(config))


def check_input_deserializer(config, dut, **run_args) -> None:
    """Good, short and long vectors into ``dut``: the good ones come out with their flags, the
    others are counted as length errors (``run_args`` go to :func:`verif.unit.sim.run`). In a
    build without multi-bit inputs a vector with any flag is dropped as a flags error instead
    (whatever its length), and the others come out with no flags."""
    rng = np.random.default_rng(6)
    n = config.in_beats
    # (beats sent, tlast position, expected to be accepted)
    frames = []
    for i in range(30):
        x = rng.integers(0, 2, config.rows)
        flags = dict(accumulate=bool(rng.integers(0, 2)), hold=bool(rng.integers(0, 2)))
        beats = pack_input_vector(x, config)
        kind = rng.choice(["ok", "ok", "short", "long"]) if i % 7 else "ok"
        if kind == "short" and n == 1:
            kind = "long"
        if kind == "short":
            beats = beats[:int(rng.integers(1, n))]
        elif kind == "long":
            beats = beats + [int(rng.integers(0, 256))] * int(rng.integers(1, 3))
        bad = not config.multibit and any(flags.values())
        frames.append((x, flags, beats, kind == "ok", bad))
    received, errors, flag_errors, source_done = [], [], [], []
    expected = [(x, f) for x, f, _, ok, bad in frames if ok and not bad]

    async def source(ctx):
        for _, flags, beats, _, _ in frames:
            for k, beat in enumerate(beats):
                ctx.set(dut.s_axis_tdata, beat)
                ctx.set(dut.s_axis_tuser, input_flags(**flags) if k == 0 else 3)
                ctx.set(dut.s_axis_tlast, k == len(beats) - 1)
                ctx.set(dut.s_axis_tvalid, 1)
                while True:
                    _, _, ready = await ctx.tick().sample(dut.s_axis_tready)
                    if ready:
                        break
                ctx.set(dut.s_axis_tvalid, 0)
                if rng.integers(0, 3) == 0:
                    await ctx.tick()
        source_done.append(True)

    flags_error = dut.length_error if config.multibit else dut.flags_error

    async def sink(ctx):
        async for _, _, err, flag_err, took, vec, flags in ctx.tick().sample(
                dut.length_error, flags_error, dut.handoff.take, dut.vector, dut.handoff.flags):
            errors.extend([1] * err)
            flag_errors.extend([1] * (flag_err and not config.multibit))
            if took:
                received.append((vec, flags))
            if source_done and len(received) == len(expected):
                break
            ctx.set(dut.handoff.take, ctx.get(dut.handoff.valid) and int(rng.integers(0, 2)))

    run(dut, source, sink, **run_args)
    assert len(errors) == sum(1 for *_, ok, bad in frames if not ok and not bad)
    assert len(flag_errors) == sum(1 for *_, bad in frames if bad)
    assert config.multibit or flag_errors, "no vector with flags was sent"
    assert len(received) == len(expected)
    for (vec, flags), (x, f) in zip(received, expected, strict=True):
        assert vec == _int(x)
        if config.multibit:
            assert flags == {"accumulate": int(f["accumulate"]), "hold": int(f["hold"])}
        else:
            assert flags == {"accumulate": 0, "hold": 0, "shift": 0, "negate": 0}


def test_result_serializer_packs_and_obeys_backpressure():
    config = profile_config("full", rows=8, cols=5, tdc_bits=4, result_width=6, stream_width=8)
    dut = ResultSerializer(config)
    rng = np.random.default_rng(7)
    vectors = [rng.integers(-32, 32, config.cols) for _ in range(6)]
    beats_out = []

    async def producer(ctx):
        for v in vectors:
            packed = _int(np.concatenate([_bits(int(x) & 63, 6) for x in v]))
            await ctx.tick().until(~dut.frame.busy)
            ctx.set(dut.data, packed)
            ctx.set(dut.flags, {"overflow": int(v[0] > 0)})
            ctx.set(dut.frame.load, 1)
            await ctx.tick()
            ctx.set(dut.frame.load, 0)
            assert ctx.get(dut.frame.busy)

    async def consumer(ctx):
        while len(beats_out) < len(vectors) * config.out_beats:
            ready = int(rng.integers(0, 2))
            ctx.set(dut.m_axis_tready, ready)
            valid, data, last, user = ctx.get(dut.m_axis_tvalid), ctx.get(
                dut.m_axis_tdata), ctx.get(dut.m_axis_tlast), ctx.get(dut.m_axis_tuser)
            await ctx.tick()
            if valid and ready:
                beats_out.append((data, last, user))

    run(dut, producer, consumer)
    for i, v in enumerate(vectors):
        chunk = beats_out[i * config.out_beats:(i + 1) * config.out_beats]
        assert [b for b, _, _ in chunk] == pack_result_vector(v, config)
        assert [last for _, last, _ in chunk] == [0] * (config.out_beats - 1) + [1]
        assert {u for _, _, u in chunk} == {int(v[0] > 0)}


def _write_rows(verify: bool):
    """Three row writes (pulses of 1, 3 and 7 cycles) through a WriteController built with or
    without ``verify`` (verify_enable low): the pulses seen, and per cycle (busy, pins)."""
    rows, cols = 6, 9
    dut = WriteController(rows=rows, cols=cols, tdc_bits=4, verify=verify)
    rng = np.random.default_rng(8)
    writes, trace = [], []

    async def tb(ctx):
        for pulse_cycles in (1, 3, 7):
            row, data = int(rng.integers(0, rows)), int(rng.integers(0, 1 << cols))
            pulses, width, seen = [], 0, []
            ctx.set(dut.array_idle, 0)
            ctx.set(dut.verify_enable, 0)      # write-verify: see test_write_verify.py
            ctx.set(dut.pulse_cycles, pulse_cycles)
            ctx.set(dut.row, row)
            ctx.set(dut.data, data)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            ctx.set(dut.data, 0)           # latched: later changes must not matter
            for _ in range(5):             # the array is busy: nothing may happen
                assert ctx.get(dut.busy) and not ctx.get(dut.arr_wr_pulse)
                await ctx.tick()
            ctx.set(dut.array_idle, 1)
            while ctx.get(dut.busy):
                await ctx.tick()
                pins = (ctx.get(dut.arr_wr_row), ctx.get(dut.arr_wr_side),
                        ctx.get(dut.arr_wr_data), ctx.get(dut.arr_wr_pulse))
                trace.append((ctx.get(dut.busy), pins, ctx.get(dut.read_start),
                              ctx.get(dut.fail_valid), ctx.get(dut.retry)))
                if pins[3]:
                    width += 1
                    seen.append(pins[:3])
                elif width:
                    pulses.append((width, set(seen)))
                    width, seen = 0, []
            writes.append((row, data, pulse_cycles, pulses))
            assert ctx.get(dut.arr_wr_row) == 0

    run(dut, tb)
    return cols, writes, trace


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "open_loop"])
def test_write_controller_two_phases_and_pulse_width(verify):
    cols, writes, _ = _write_rows(verify)
    for row, data, pulse_cycles, pulses in writes:
        assert len(pulses) == 2
        (w0, s0), (w1, s1) = pulses
        assert w0 == w1 == pulse_cycles
        assert s0 == {(1 << row, 0, data)}
        assert s1 == {(1 << row, 1, ~data & ((1 << cols) - 1))}


def test_write_controller_without_verify_keeps_the_timing():
    """A build without write-verify (``MacroConfig.write_verify=False``) writes a row in the
    same cycles, with the same pins, as a verifying build with WV_CTRL.ENABLE = 0, and never
    starts a read, retries or reports a failure."""
    _, _, verifying = _write_rows(True)
    _, _, open_loop = _write_rows(False)
    assert open_loop == verifying
    assert not any(read or fail or retry for _, _, read, fail, retry in open_loop)


def test_input_flags_layout_is_the_struct():
    assert InputFlags.size == 4
    assert input_flags(accumulate=True) == 1 and input_flags(hold=True) == 2
    assert input_flags(shift=True) == 4 and input_flags(negate=True) == 8


def test_single_pass_accumulator_has_no_running_sum():
    """``multibit=False``: every capture takes ``CAL_OFFSET - 2 * code`` of this pass alone
    (wrapped), whatever the previous value (an accumulator that still added the previous
    value would fail on the second pass), and there are no flag ports."""
    cols, bits, width = 4, 4, 6
    dut = Accumulator(cols=cols, tdc_bits=bits, result_width=width, thresholds=False,
                      multibit=False)
    assert not hasattr(dut, "accumulate") and not hasattr(dut, "negate")
    rng = np.random.default_rng(8)

    async def tb(ctx):
        for _ in range(12):
            codes, offsets = _draw_pass(ctx, dut, rng, cols, bits, width)
            ctx.set(dut.capture, 1)
            await ctx.tick()
            ctx.set(dut.capture, 0)
            values = ctx.get(dut.values)
            got = wrap_signed([(values >> (c * width)) & ((1 << width) - 1)
                               for c in range(cols)], width)
            assert got.tolist() == wrap_signed(offsets - 2 * codes, width).tolist()

    run(dut, tb)


def test_accumulator_without_register_follows_its_codes():
    """``register=False`` (streamed results): ``values`` is ``CAL_OFFSET - 2 * code`` of the
    codes and offsets as they are, with no edge in between (a register would show the
    previous pair until a capture), or the code itself in raw mode; the options a register
    is needed for are refused."""
    cols, bits, width = 4, 4, 7
    dut = Accumulator(cols=cols, tdc_bits=bits, result_width=width, thresholds=False,
                      multibit=False, register=False)
    rng = np.random.default_rng(9)

    async def tb(ctx):
        for i in range(12):
            codes, offsets = _draw_pass(ctx, dut, rng, cols, bits, width)
            ctx.set(dut.raw, i % 3 == 0)
            values = ctx.get(dut.values)        # no tick: the same cycle
            got = [(values >> (c * width)) & ((1 << width) - 1) for c in range(cols)]
            want = codes if i % 3 == 0 else wrap_signed(offsets - 2 * codes, width)
            assert wrap_signed(got, width).tolist() == wrap_signed(want, width).tolist()
            await ctx.delay(1e-9)

    sim = Simulator(dut)        # no clock: the block has no register
    sim.add_testbench(tb)
    sim.run()
    for bad in (dict(multibit=True, thresholds=False), dict(multibit=False, thresholds=True)):
        with pytest.raises(ValueError, match="an accumulator without a register"):
            Accumulator(cols=2, tdc_bits=3, result_width=5, register=False, **bad)


def test_single_pass_coarse_accumulator_sign_extends_a_narrow_pass():
    """``multibit=False`` with a coarse table's counts (``2 * count - rows``, here only 4 bits
    wide on 2 rows) into wider results: a negative pass must be sign-extended (a drawn
    configuration, r2_c1_t2_w5_s8_coarse_noact_1pass, got 14 for -2)."""
    cols, rows, width = 3, 2, 5
    n = rows.bit_length()
    dut = Accumulator(cols=cols, tdc_bits=2, result_width=width, count_width=n, rows=rows,
                      thresholds=False, multibit=False)

    async def tb(ctx):
        for counts in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
            ctx.set(dut.counts, _int(np.concatenate([_bits(k, n) for k in counts])))
            ctx.set(dut.capture, 1)
            await ctx.tick()
            values = ctx.get(dut.values)
            got = wrap_signed([(values >> (c * width)) & ((1 << width) - 1)
                               for c in range(cols)], width)
            assert got.tolist() == [2 * k - rows for k in counts]

    run(dut, tb)
