"""Drivers of the cocotb testbench: input vectors onto ``s_axis``.

:class:`VectorDriver` turns an input vector and its flags into one AXI4-Stream frame (one
``tdata`` word per beat, the layout of :mod:`mram_macro.design.layouts`); :class:`StreamSource` puts
frames on the pins, waking per beat rather than per clock, or hands them to the test harness'
input feeder.
"""

from __future__ import annotations

import random
from collections import deque

import cocotb
import numpy as np
from cocotb.triggers import Event, RisingEdge, ValueChange
from cocotbext.axi import AxiStreamFrame

from mram_macro.design.config import MacroConfig
from mram_macro.design.layouts import input_flags, pack_input_vector
from mram_macro.sim.harness import FEED_BEATS, FEED_COUNT_BITS, feed_entry_bits
from mram_macro.sim.testbench.streams import StreamPins, has_feeder

__all__ = ["VectorDriver", "StreamSource"]


def _bit_or_zero(handle, bit: int) -> int:
    """Bit ``bit`` of a harness input as last written (0 if never written)."""
    try:
        return (int(handle.value) >> bit) & 1
    except ValueError:
        return 0


class VectorDriver:
    """Input vectors onto ``s_axis``: one ``tdata`` word per beat, flags in the first beat's tuser.

    With ``noise=True`` the padding bits of the last beat and the ``tuser`` of the later beats
    carry random junk, which the macro must ignore.
    """

    def __init__(self, dut, config: MacroConfig, rng: random.Random):
        self.config = config
        self.rng = rng
        self.source = StreamSource(dut, "s_axis")

    def frame(self, x_bits, *, accumulate: bool, hold: bool, noise: bool = False):
        c = self.config
        beats = pack_input_vector(np.asarray(x_bits, dtype=np.uint8), c)
        flags = input_flags(accumulate=accumulate, hold=hold)
        tuser = [flags] * len(beats)
        if noise:
            pad = c.in_beats * c.stream_width - c.rows
            if pad:
                junk = self.rng.getrandbits(pad) << (c.stream_width - pad)
                beats[-1] |= junk
            tuser = [flags] + [self.rng.getrandbits(2) for _ in beats[1:]]
        return AxiStreamFrame(tdata=beats, tuser=tuser)

    async def send(self, frame: AxiStreamFrame) -> None:
        await self.source.send(frame)

    def idle(self) -> bool:
        return self.source.idle()


class StreamSource(StreamPins):
    """AXI4-Stream master on ``<prefix>_*`` that wakes per beat, not per clock.

    The subset of cocotbext-axi's ``AxiStreamSource`` interface the tests use: :meth:`send`,
    :meth:`count`, :meth:`idle`, :meth:`wait`, :meth:`clear`, pause generators and ``pause``.
    Beats are offered after rising edges and taken at the edge that sees ``tready`` high; a
    stalled beat sleeps until ``tready`` rises. A pause generator is asked once per beat offered
    (``True``: one idle cycle first), so random idle cycles cost a wake-up each. While ``rst``
    is high nothing is offered and the frame in flight is dropped (queued frames stay).

    On the test harness (:mod:`mram_macro.sim.harness`), while nothing pauses the source (no
    pause generator, ``pause`` low) and :attr:`use_feeder` is set, the beats go to the
    harness' input feeder instead, up to ``FEED_BEATS`` per write, which offers them exactly
    as this source would (one wake-up per batch instead of about three per beat). A pause
    generator set while a batch is loaded applies from the beat after that batch, and a reset
    drops the whole loaded batch.
    """

    def __init__(self, dut, prefix: str):
        super().__init__(dut, prefix)
        #: The test harness' input feeder (:mod:`mram_macro.sim.harness`), if there is one.
        self._feed = (dut.tb_s_feed if prefix == "s_axis" and has_feeder(dut) else None)
        #: Hand beats to the feeder when it exists and nothing pauses the source (False: the
        #: pins always, e.g. for monitors that watch the harness' s_axis ports).
        self.use_feeder = True
        if self._feed is not None:
            self._fed = dut.tb_s_fed
            # The harness outlives this source (tests run one after another): carry on from
            # the batch number it last saw.
            self._feed_gen = _bit_or_zero(self._feed, 1)
            self._entry_bits = feed_entry_bits(len(self._tdata), len(self._tuser))
        self._queue: deque[AxiStreamFrame] = deque()
        self._beats: deque[tuple[int, int, int]] = deque()   # of the frame in flight
        self._wake = Event()
        self._idle = Event()
        self._idle.set()
        self._tvalid.value = 0
        self._task = cocotb.start_soon(self._run())
        self._reset_task = cocotb.start_soon(self._watch_reset())

    # -- host side ------------------------------------------------------------------------------
    async def send(self, frame: AxiStreamFrame) -> None:
        frame = AxiStreamFrame(frame)
        if not frame.tdata:
            raise ValueError("an AXI4-Stream frame needs at least one beat")
        self._queue.append(frame)
        self._idle.clear()
        self._wake.set()

    def count(self) -> int:
        return len(self._queue)

    def idle(self) -> bool:
        return not self._queue and not self._beats

    async def wait(self) -> None:
        await self._idle.wait()

    def clear(self) -> None:
        self._queue.clear()
        if not self._beats:
            self._idle.set()

    # -- pin side -------------------------------------------------------------------------------
    def _next_beat(self):
        self._beats_ahead(1)
        return self._beats[0] if self._beats else None

    async def _watch_reset(self) -> None:
        while True:
            await ValueChange(self._rst)
            if str(self._rst.value) == "1":
                self._task.cancel()
                self._tvalid.value = 0
                if self._beats:
                    self.log.warning("flushed the frame in flight during reset")
                    self._beats.clear()
                if not self._queue:
                    self._idle.set()
            elif self._task.done():
                self._task = cocotb.start_soon(self._run())

    def _pausing(self) -> bool:
        return self._pause_generator is not None or bool(self.pause)

    def _beats_ahead(self, n: int) -> int:
        """Move frames into the beats in flight until there are ``n`` (or no more frames)."""
        while len(self._beats) < n and self._queue:
            frame = self._queue.popleft()
            frame.normalize()
            k = len(frame.tdata)
            self._beats.extend((int(d), int(u), int(i == k - 1))
                               for i, (d, u) in enumerate(zip(frame.tdata, frame.tuser,
                                                              strict=True)))
        return min(n, len(self._beats))

    async def _feed_batches(self) -> None:
        """Hand the beats to the harness' feeder, :data:`FEED_BEATS` per write, while nothing
        pauses the source; returns (at a rising edge, nothing on the pins) when something
        does or nothing is left to send."""
        fed = ValueChange(self._fed)
        dw, uw = len(self._tdata), len(self._tuser)
        while self.use_feeder and not self._pausing():
            n = self._beats_ahead(FEED_BEATS)
            if not n:
                return
            word = 0
            for i in range(n - 1, -1, -1):
                data, user, last = self._beats[i]
                word = (word << self._entry_bits) | data | user << dw | last << (dw + uw)
            self._feed_gen ^= 1
            self._feed.value = 1 | self._feed_gen << 1 | n << 2 | word << (2 + FEED_COUNT_BITS)
            await fed                   # the edge that took the batch's last beat
            for _ in range(n):
                self._beats.popleft()

    async def _run(self) -> None:
        edge, ready_rise = RisingEdge(self._clk), RisingEdge(self._tready)
        offered = False     # a beat is on the pins
        while True:
            if self._feed is not None and self.use_feeder and not offered and (
                    not self._pausing()) and (self._beats or self._queue):
                self._tvalid.value = 0
                await self._feed_batches()
                continue
            await edge
            if offered:
                while not int(self._tready.value):
                    await ready_rise        # stalled: sleep until the macro can take it
                    await edge
                self._beats.popleft()       # taken at this edge
                offered = False
            beat = self._next_beat()
            if beat is None:
                self._tvalid.value = 0
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._paused():
                self._tvalid.value = 0
                continue
            data, user, last = beat
            self._tdata.value = data
            self._tuser.value = user
            self._tlast.value = last
            self._tvalid.value = 1
            offered = True
