"""Sequencer: vector hand-off, write priority, and every capture gated by the result serializer."""

from mram_macro.rtl.periphery.sequencer import Sequencer
from verif.unit.sim import run


def test_pass_flow_write_priority_and_output_backpressure():
    dut = Sequencer()
    log = []

    async def tb(ctx):
        ctx.set(dut.read.idle, 1)
        # A write is pending: no evaluation may start, and the array is offered to the write.
        ctx.set(dut.vector.valid, 1)
        ctx.set(dut.write_busy, 1)
        for _ in range(3):
            await ctx.tick()
            assert not ctx.get(dut.read.start) and not ctx.get(dut.vector.take)
            assert ctx.get(dut.array_idle)
        ctx.set(dut.write_busy, 0)
        ctx.set(dut.vector.flags, {"accumulate": 1, "hold": 0})
        # Start: take, load and read.start pulse together, in the same cycle.
        assert ctx.get(dut.read.start) and ctx.get(dut.vector.take) and ctx.get(dut.load_inputs)
        await ctx.tick()
        ctx.set(dut.read.idle, 0)
        ctx.set(dut.vector.flags, {"accumulate": 0, "hold": 1})   # the next vector's flags
        assert not ctx.get(dut.read.start) and ctx.get(dut.busy) and not ctx.get(dut.array_idle)
        for _ in range(4):
            await ctx.tick()
            assert not ctx.get(dut.capture)
        ctx.set(dut.read.done, 1)
        ctx.set(dut.result.busy, 1)       # the previous result is still leaving
        await ctx.tick()
        ctx.set(dut.read.done, 0)
        ctx.set(dut.read.idle, 1)
        for _ in range(3):
            assert not ctx.get(dut.capture), "captured over a result still being sent"
            await ctx.tick()
        ctx.set(dut.result.busy, 0)
        assert ctx.get(dut.capture) and ctx.get(dut.result.load) and ctx.get(dut.pass_done)
        assert ctx.get(dut.accumulate), "flags are the ones latched at the start of the pass"
        assert ctx.get(dut.read.start), "the waiting vector starts with the capture"
        log.append("emitted")
        await ctx.tick()
        # Next pass holds its result: it too waits while the serializer is busy (the
        # serializer streams the accumulator's register in place, so a capture would change
        # the beats still to come), then captures without emitting.
        ctx.set(dut.result.busy, 1)
        assert ctx.get(dut.busy) and not ctx.get(dut.read.start)
        await ctx.tick()
        ctx.set(dut.read.done, 1)
        ctx.set(dut.vector.flags, {"accumulate": 1, "hold": 0})
        assert not ctx.get(dut.capture), "a held pass captured over a result still being sent"
        await ctx.tick()
        ctx.set(dut.read.done, 0)
        assert not ctx.get(dut.capture)
        ctx.set(dut.result.busy, 0)
        assert ctx.get(dut.capture) and not ctx.get(dut.result.load) and not ctx.get(dut.accumulate)
        # Back to back: the waiting vector starts in that same cycle.
        assert ctx.get(dut.read.start) and ctx.get(dut.vector.take)
        await ctx.tick()
        ctx.set(dut.read.done, 0)
        ctx.set(dut.vector.valid, 0)
        assert ctx.get(dut.busy) and not ctx.get(dut.capture)
        # That pass ends with the serializer free: captured and emitted at read.done, and with
        # no vector waiting the sequencer goes idle.
        ctx.set(dut.result.busy, 0)
        ctx.set(dut.read.done, 1)
        assert ctx.get(dut.capture) and ctx.get(dut.result.load) and ctx.get(dut.accumulate)
        assert not ctx.get(dut.read.start)
        await ctx.tick()
        ctx.set(dut.read.done, 0)
        assert ctx.get(dut.array_idle) and not ctx.get(dut.capture)
        log.append("held")

    run(dut, tb)
    assert log == ["emitted", "held"]
