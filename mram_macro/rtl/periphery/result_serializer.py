"""Result serializer: one result vector (or, with ``short``, one activation vector) out as
AXI4-Stream beats (layouts in layouts.py).

The serializer stores no copy of the vector: the beats are read, by a one-hot beat pointer and an
AND-OR word multiplexer, out of the register that already holds the result (the accumulator's,
or the TDC's codes through the accumulator's pass values), which its producer keeps still while
the frame is under way (``busy``). A shift register would clock and move every stored bit on
every beat; a copy would write every bit once more per vector. Here per beat only two pointer
bits, the two words' AND gates and the ``stream_width`` output bits change.
"""

import functools
import operator

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.config import MacroConfig
from mram_macro.design.layouts import ResultFlags, activation_beats
from mram_macro.rtl.bus.axi import axi_stream_members
from mram_macro.rtl.periphery.interfaces import FrameLoad

__all__ = ["ResultSerializer"]


class ResultSerializer(wiring.Component):
    """``frame.load`` (only while ``frame.busy`` is low; :class:`~.interfaces.FrameLoad`)
    starts a frame and takes ``flags`` and ``short``; ``frame.busy`` stays high until the beat
    with ``tlast`` has been accepted. With ``short`` the
    frame is the activation vector's ``activation_beats`` beats (its bits in the low end of
    ``data``); ``short_frame`` is ``short`` as taken by ``frame.load``, for the producer's choice of
    ``data``. ``beats_left`` counts the beats of the frame not yet accepted, the one on the
    bus included (0 while not ``frame.busy``).

    Contract: ``data`` is read in place, not copied: from the edge after ``frame.load`` until
    ``frame.busy`` falls the producer must hold it still (the macro's accumulator captures no
    pass while ``frame.busy``).
    """

    def __init__(self, config: MacroConfig):
        self.config = config
        super().__init__({
            **axi_stream_members("m_axis", direction="master", data_width=config.stream_width,
                                 user_width=ResultFlags.size),
            "frame": In(FrameLoad()),
            "short": In(1),
            "data": In(config.cols * config.result_width),
            "flags": In(ResultFlags),
            "beats_left": Out(range(config.out_beats + 1)),
            "short_frame": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        c = self.config
        sw, n = c.stream_width, c.out_beats
        vector = Signal(n * sw)
        m.d.comb += vector.eq(self.data)
        # The beat pointer is one-hot (bit i: beat i is on the bus), and the word multiplexer
        # an AND-OR of each word with its pointer bit: a beat moves the pointer by one bit,
        # so per beat only the two words it leaves and enters and the OR trees switch. A
        # binary index would switch the select of half of the multiplexer's cells on every
        # beat (its low bit drives n / 2 * stream_width of them).
        beat = Signal(n, name="beat")
        beats_left = self.beats_left
        m.d.comb += [
            self.frame.busy.eq(beats_left != 0),
            self.m_axis_tvalid.eq(self.frame.busy),
            self.m_axis_tlast.eq(beats_left == 1),
            self.m_axis_tdata.eq(functools.reduce(operator.or_, (
                vector[i * sw:(i + 1) * sw] & beat[i].replicate(sw) for i in range(n)))),
        ]
        with m.If(self.frame.load & ~self.frame.busy):
            m.d.sync += [beat.eq(1), self.short_frame.eq(self.short),
                         beats_left.eq(Mux(self.short, activation_beats(c), n)),
                         self.m_axis_tuser.eq(self.flags)]
        with m.Elif(self.m_axis_tvalid & self.m_axis_tready):
            m.d.sync += [beat.eq(beat << 1), beats_left.eq(beats_left - 1)]
        return m
