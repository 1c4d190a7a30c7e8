"""Input deserializer: AXI4-Stream beats to one input vector, with a length check.

A vector is exactly ``in_beats`` beats with ``tlast`` on the last one (layout in
``mram_macro/design/layouts.py``). A vector whose ``tlast`` comes early or late is dropped whole,
``length_error`` pulses, and reception restarts after the beat that carried ``tlast``, so the
vectors that follow are unaffected. The assembled vector waits in ``vector`` until the
sequencer takes it; meanwhile ``s_axis_tready`` is low.

A build without multi-bit inputs (``MacroConfig.multibit=False``) has no flags: a vector whose
first beat carries a ``tuser`` other than 0 is dropped whole the same way, with a
``flags_error`` pulse instead (and ``handoff.flags`` is the constant 0).
"""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from mram_macro.design.config import MacroConfig
from mram_macro.design.layouts import InputFlags
from mram_macro.rtl.bus.axi import axi_stream_members
from mram_macro.rtl.periphery.interfaces import VectorHandoff

__all__ = ["InputDeserializer"]


class InputDeserializer(wiring.Component):
    """``handoff.valid`` is high while a whole vector is held (in ``vector``, its flags in
    ``handoff.flags``); ``handoff.take`` consumes it (:class:`~.interfaces.VectorHandoff`)."""

    def __init__(self, config: MacroConfig):
        self.config = config
        super().__init__({
            **axi_stream_members("s_axis", direction="slave", data_width=config.stream_width,
                                 user_width=InputFlags.size),
            "handoff": Out(VectorHandoff()),
            "vector": Out(config.rows),
            "length_error": Out(1),
            **({} if config.multibit else {"flags_error": Out(1)}),
        })

    def elaborate(self, platform):
        m = Module()
        c = self.config
        sw, n = c.stream_width, c.in_beats
        buffer = Signal(n * sw)
        beat = Signal(range(max(n, 2)))
        discarding = Signal()   # inside an over-long vector, waiting for its tlast
        valid, flags = self.handoff.valid, self.handoff.flags
        m.d.comb += [self.vector.eq(buffer[:c.rows]), self.s_axis_tready.eq(~valid)]

        with m.If(self.handoff.take):
            m.d.sync += valid.eq(0)

        accept = self.s_axis_tvalid & self.s_axis_tready
        last = self.s_axis_tlast
        # a flag in a build that has none: drop the vector
        bad_flags = None if c.multibit else (beat == 0) & self.s_axis_tuser.any()
        with m.If(accept):
            with m.If(discarding):
                with m.If(last):
                    m.d.sync += discarding.eq(0)
            if not c.multibit:
                with m.Elif(bad_flags):
                    m.d.comb += self.flags_error.eq(1)
                    with m.If(~last):
                        m.d.sync += discarding.eq(1)
            with m.Elif(beat == n - 1):
                m.d.sync += beat.eq(0)
                with m.If(last):
                    m.d.sync += [buffer[(n - 1) * sw:].eq(self.s_axis_tdata),
                                 valid.eq(1)]
                with m.Else():
                    m.d.comb += self.length_error.eq(1)
                    m.d.sync += discarding.eq(1)
            with m.Else():
                with m.Switch(beat):
                    for i in range(n - 1):
                        with m.Case(i):
                            m.d.sync += buffer[i * sw:(i + 1) * sw].eq(self.s_axis_tdata)
                with m.If(beat == 0):
                    if c.multibit:
                        m.d.sync += flags.eq(self.s_axis_tuser)
                with m.If(last):
                    m.d.comb += self.length_error.eq(1)
                    m.d.sync += beat.eq(0)
                with m.Else():
                    m.d.sync += beat.eq(beat + 1)
        if n == 1 and c.multibit:
            # A one-beat vector: the first beat is also the last, so take its flags here.
            with m.If(accept & ~discarding):
                m.d.sync += flags.eq(self.s_axis_tuser)
        return m
