"""Result serializer: one result vector (or, with ``short``, one activation vector) out as
AXI4-Stream beats (layouts in layouts.py).

The vector is registered once, on ``load``, and the beats are read out of that register by a
beat index (a word multiplexer), not shifted through it: a shift register would clock and move
every stored bit on every beat (``out_beats`` times per vector); here each stored bit is written
once per vector, and per beat only the index and the ``stream_width`` output bits change.
"""

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
    vector's ``activation_beats`` beats (its bits in the low end of ``data``).

    ``data_domain``: clock domain of the vector register (default ``sync``). It changes only on
    edges with ``load & ~busy``, so a clock gated by that condition is exact; the beat counters
    and ``tuser`` stay in ``sync``.
    """

    def __init__(self, config: MacroConfig, *, data_domain: str = "sync"):
        if not isinstance(data_domain, str) or not data_domain.isidentifier():
            raise ValueError(f"data_domain must be a domain name, not {data_domain!r}")
        self.config = config
        self._data_domain = data_domain
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
        vector = Signal(n * sw)
        index = Signal(range(max(n, 2)))
        beats_left = Signal(range(n + 1))
        m.d.comb += [
            self.busy.eq(beats_left != 0),
            self.m_axis_tvalid.eq(self.busy),
            self.m_axis_tlast.eq(beats_left == 1),
        ]
        with m.Switch(index):       # the word multiplexer (a case, not a variable shift)
            for i in range(n):
                with m.Case(i):
                    m.d.comb += self.m_axis_tdata.eq(vector[i * sw:(i + 1) * sw])
        with m.If(self.load & ~self.busy):
            m.d[self._data_domain] += vector.eq(self.data)
            m.d.sync += [index.eq(0),
                         beats_left.eq(Mux(self.short, activation_beats(c), n)),
                         self.m_axis_tuser.eq(self.flags)]
        with m.Elif(self.m_axis_tvalid & self.m_axis_tready):
            m.d.sync += [index.eq(index + 1), beats_left.eq(beats_left - 1)]
        return m
