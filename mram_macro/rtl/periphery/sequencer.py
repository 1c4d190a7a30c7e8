"""Sequencer: the macro's top-level FSM.

It moves each input vector from the deserializer into the input drivers, runs one evaluation
through :class:`ReadControl`, captures the codes into the accumulator and hands the result to the
serializer. Row writes have priority: a pending write runs as soon as no evaluation is under
way, and no evaluation starts while a write is pending. A vector is taken (and the input
buffer freed for the next one) when its evaluation starts, so input loading and result draining
overlap the next evaluation. When the codes are final (``read.done``) and the serializer is
free, the pass is captured in that same cycle, and the next waiting vector starts then too (no
idle cycle between passes unless a write is pending or the previous result has not left yet).
Every pass, held ones included, waits for the serializer: it streams the accumulator's register
in place, so a capture during a frame would change the beats still to come.
"""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.layouts import InputFlags
from mram_macro.rtl.periphery.interfaces import FrameLoad, ReadCommand, VectorHandoff

__all__ = ["Sequencer"]


class Sequencer(wiring.Component):
    """Contract: ``vector.take`` (:class:`~.interfaces.VectorHandoff`, from the input
    deserializer) and ``read.start`` (:class:`~.interfaces.ReadCommand`, to the read control)
    pulse together when an evaluation begins; ``capture`` pulses once per pass when the codes
    are final and the serializer is not streaming (it reads the accumulator in place:
    ``result.busy``); ``result.load`` (:class:`~.interfaces.FrameLoad`) pulses with
    ``capture`` for passes that send a result. With ``capture_on_done`` (default) a pass may be
    captured on the very edge its ``read.done`` ends; without, one cycle later at the earliest
    (for an accumulator whose gain multipliers are registered: ``calibration="gain"``).
    ``scale_window`` (for those multipliers; only without ``capture_on_done``) is high on
    the cycles whose closing edge they must see: the cycle of ``read.done`` and each cycle of
    a capture still waiting (for the serializer or a retrim), not the capture's own. A
    multiplier clocked only on those edges therefore holds, at every capture, what one clocked
    on every edge would: its inputs as they were in the cycle before the capture.
    Without ``multibit`` (``MacroConfig.multibit=False``) the vector flags are not kept: every
    pass is a single pass (``accumulate``, ``shift`` and ``negate`` low) and sends its
    result."""

    def __init__(self, *, capture_on_done: bool = True, multibit: bool = True):
        for name, flag in (("capture_on_done", capture_on_done), ("multibit", multibit)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {flag!r}")
        self.capture_on_done, self.multibit = capture_on_done, multibit
        super().__init__({
            # input side
            "vector": In(VectorHandoff()),
            "load_inputs": Out(1),      # to the input drivers
            # write arbitration
            "write_busy": In(1),
            "array_idle": Out(1),
            # evaluation
            "read": Out(ReadCommand()),
            # accumulate and emit
            "trim_busy": In(1),     # the temperature tracker is retrimming: hold the capture
            "capture": Out(1),
            **({} if capture_on_done else {"scale_window": Out(1)}),
            "accumulate": Out(1),
            "shift": Out(1),
            "negate": Out(1),
            "result": Out(FrameLoad()),
            # status
            "busy": Out(1),
            "pass_done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        flags = Signal(InputFlags)
        if self.multibit:
            m.d.comb += [self.accumulate.eq(flags.accumulate), self.shift.eq(flags.shift),
                         self.negate.eq(flags.negate)]

        def start_next():
            """Start the waiting vector's evaluation if nothing stands in the way."""
            with m.If(self.vector.valid & ~self.write_busy & self.read.idle):
                m.d.comb += [self.vector.take.eq(1), self.load_inputs.eq(1),
                             self.read.start.eq(1)]
                if self.multibit:
                    m.d.sync += flags.eq(self.vector.flags)
                m.next = "Convert"

        def capture_pass():
            """Capture (and emit) once the result can leave, then go straight on with the
            next vector if one waits."""
            with m.If(~self.result.busy & ~self.trim_busy):
                m.d.comb += [self.capture.eq(1), self.result.load.eq(~flags.hold),
                             self.pass_done.eq(1)]
                m.next = "Idle"
                start_next()

        with m.FSM(name="seq"):
            with m.State("Idle"):
                m.d.comb += self.array_idle.eq(1)
                start_next()
            with m.State("Convert"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.read.done):
                    if not self.capture_on_done:
                        m.d.comb += self.scale_window.eq(1)
                    m.next = "Capture"
                    if self.capture_on_done:
                        capture_pass()
            with m.State("Capture"):
                m.d.comb += self.busy.eq(1)
                if not self.capture_on_done:
                    m.d.comb += self.scale_window.eq(~self.capture)
                capture_pass()
        return m
