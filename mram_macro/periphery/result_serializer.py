"""Result serializer: one result vector (or, with ``short``, one activation vector) out as
AXI4-Stream beats (layouts in layouts.py)."""

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi import axi_stream_members
from ..config import MacroConfig
from ..layouts import ResultFlags, activation_beats

__all__ = ["ResultSerializer"]


class ResultSerializer(wiring.Component):
    """``load`` (only while ``busy`` is low) takes ``data``/``flags``; ``busy`` stays high until
    the beat with ``tlast`` has been accepted. With ``short`` the frame is the activation
    vector's ``activation_beats`` beats (its bits in the low end of ``data``)."""

    def __init__(self, config: MacroConfig):
        self.config = config
        super().__init__({
            **axi_stream_members("m_axis", direction="master", data_width=config.stream_width,
                                 user_width=ResultFlags.size),
            "load": In(1),
            "short": In(1),
            "data": In(config.cols * config.result_width),
            "flags": In(ResultFlags),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        c = self.config
        sw, n = c.stream_width, c.out_beats
        shift = Signal(n * sw)
        beats_left = Signal(range(n + 1))
        m.d.comb += [
            self.busy.eq(beats_left != 0),
            self.m_axis_tvalid.eq(self.busy),
            self.m_axis_tdata.eq(shift[:sw]),
            self.m_axis_tlast.eq(beats_left == 1),
        ]
        with m.If(self.load & ~self.busy):
            m.d.sync += [shift.eq(self.data),
                         beats_left.eq(Mux(self.short, activation_beats(c), n)),
                         self.m_axis_tuser.eq(self.flags)]
        with m.Elif(self.m_axis_tvalid & self.m_axis_tready):
            m.d.sync += [shift.eq(shift[sw:]), beats_left.eq(beats_left - 1)]
        return m
