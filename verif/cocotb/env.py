"""Layered cocotb testbench for the generated ``mram_macro`` Verilog.

Layers, from the pins up:

* **Bus drivers / monitors**: an AXI4-Lite master on ``s_axil`` (cocotbext-axi), an AXI4-Stream
  source on ``s_axis`` (:class:`VectorDriver`) and a sink on ``m_axis`` (:class:`ResultMonitor`,
  which also checks the master's protocol), one beat per ``tdata`` word. The stream models are
  event driven (:class:`StreamSource`, :class:`StreamSink`): they sleep through stalls and idle
  stretches, so Python runs per beat, not per clock.
* **Array model**: a pin model of :mod:`sim_models.cocotb_array` plays the analogue array on the
  ``arr_*`` pins (on the test harness with its comparator scheduler). Its die starts fresh
  and only learns weights through write pulses.
* **Reference model**: :class:`MacroModel` wraps :class:`sim_models.golden.GoldenMacro` on a die
  sampled from the same seed (same resistances) holding the weights the host *intended* to
  write, plus mirrors of the registers that change results.
* **Checker**: :class:`Scoreboard` compares every result frame with the model's prediction,
  bit for bit (padding and ``tuser`` included), in batches (NumPy) at every drain.

Speed: the clock is cocotb's C clock (``impl="gpi"``), and nothing in Python wakes on every clock
unless random back-pressure asks for a decision per clock. On the test harness
(:mod:`mram_macro.sim.harness`) Python wakes about twice per VMM: once per evaluation (the pin
model hands the comparator edges to the harness' scheduler) and once per result frame, plus
once per batch of input beats (the harness' feeder). ``MRAM_TB=legacy`` selects the
previous testbench (Python clock, cocotbext-axi stream models, a separate stream checker, the
previous array pin model, per-frame scoreboard) so ``make bench`` can measure both in one run.

:class:`MacroEnv` composes them and offers the host-level API the tests use: register access by
name (addresses and fields come from the register map, never from literals), weight programming,
vector sending, back-pressure and reset.

Results are predicted when a vector is *sent*. That is exact because the macro processes vectors
in order, and because the tests change weights or result-affecting registers only after
:meth:`MacroEnv.drain`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import warnings
from collections import deque
from dataclasses import dataclass, field, replace

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import (
    ClockCycles,
    Event,
    FallingEdge,
    First,
    RisingEdge,
    Timer,
    ValueChange,
    with_timeout,
)
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiResp,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

from mram_macro.config import MacroConfig
from mram_macro.layouts import (
    input_flags,
    pack_input_vector,
    pack_result_vector,
    result_flags,
    unpack_result_vector,
)
from mram_macro.regmap import RegisterMap, lut_entry_word
from mram_macro.sim.harness import (
    COLLECTOR_PORTS,
    FEED_BEATS,
    FEED_COUNT_BITS,
    FEEDER_PORTS,
    MACRO_INSTANCE,
    VIOLATION_KINDS,
    feed_entry_bits,
)
from mram_macro.sim.replica_pins import array_pin_model
from mram_macro.sim.runner import TESTBENCHES
from mram_macro.top import macro_regmap
from sim_models.array import MramArray
from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.golden import GoldenMacro, PassResult, accumulate_pass, wrap_signed
from sim_models.readout import design_readout_for
from sim_models.write_model import single_read_delay_and_threshold, write_verify_row
from verif import budgets

__all__ = ["MacroEnv", "MacroModel", "Scoreboard", "VectorDriver", "ResultMonitor",
           "StreamSource", "StreamSink", "StreamProtocolChecker", "T_CLK_NS", "Expected",
           "TESTBENCHES", "testbench_kind"]

# cocotbext-axi 0.1.28 still uses APIs that cocotb 2.1 deprecates (Task.kill, Event.data, Edge);
# the warnings say nothing about the design and drown the log.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi")

#: Errors of one kind logged as they happen; the rest are only counted.
_MAX_LOGGED = 10

#: Clock period of the testbench (defined in verif/budgets.py); also the TDC LSB the readout
#: model is designed for.
T_CLK_NS = budgets.T_CLK_NS

def testbench_kind() -> str:
    """``MRAM_TB`` from the environment (default ``fast``), validated."""
    kind = os.environ.get("MRAM_TB", "fast") or "fast"
    if kind not in TESTBENCHES:
        raise ValueError(f"MRAM_TB must be one of {', '.join(TESTBENCHES)}, not {kind!r}")
    return kind


def has_harness(dut) -> bool:
    """Is ``dut`` the test harness (:mod:`mram_macro.sim.harness`) rather than the bare macro?"""
    return hasattr(dut, COLLECTOR_PORTS[-1]) and hasattr(dut, MACRO_INSTANCE)


def has_feeder(dut) -> bool:
    """Has ``dut`` (the test harness) the input feeder?"""
    return all(hasattr(dut, name) for name in FEEDER_PORTS)


def _bit_or_zero(handle, bit: int) -> int:
    """Bit ``bit`` of a harness input as last written (0 if never written)."""
    try:
        return (int(handle.value) >> bit) & 1
    except ValueError:
        return 0


def _word(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, "little")


def _signed32(word: int) -> int:
    return word - (1 << 32) if word & (1 << 31) else word


# -- reference model ----------------------------------------------------------------------------
class MacroModel:
    """What the macro should do: the golden model plus mirrors of the result-affecting registers.

    ``golden.array`` is sampled from ``seed`` like the pin model's die, so both have the same
    resistances; its MTJ states follow the writes the host *asked for* (not the pins).
    """

    def __init__(self, config: MacroConfig, regmap: RegisterMap, device: DeviceParams, *,
                 seed: int, die: Die | None = None):
        self.config = config
        self.regmap = regmap
        self.device = device
        self.readout = design_readout_for(config, device, t_clk_ns=T_CLK_NS)
        # Coarse mode has no single-MTJ read (WV_CTRL.ENABLE is fixed at 0).
        self.verify_setup = (None if config.tdc_mode == "coarse" else
                             single_read_delay_and_threshold(config.rows, device, self.readout,
                                                             config.tdc_bits))
        self.golden = GoldenMacro(config, device, self.readout, seed=seed, t_clk_ns=T_CLK_NS,
                                  die=die)
        self.intended_weights = np.zeros((config.rows, config.cols), dtype=bool)
        #: Columns whose comparator never fires (a fault: :meth:`MacroEnv.kill_comparators`).
        self.dead_columns: frozenset[int] = frozenset()
        self.reset()

    def reset(self) -> None:
        """Registers and accumulator back to their reset values (the MTJs are non-volatile)."""
        g, rm = self.golden, self.regmap
        g.acc = np.zeros(self.config.cols, dtype=np.int64)
        g.start_delay_cycles = rm["TDC_START_DELAY"].field("CYCLES").reset
        g.offsets = np.array([r.field("OFFSET").reset for r in rm.array("CAL_OFFSET")],
                             dtype=np.int64)
        if g.lut is not None:          # coarse mode: the reset table in every column
            from sim_models.coarse import nominal_table

            g.lut = np.tile(nominal_table(self.config, self.device, self.readout),
                            (self.config.cols, 1))
        if self.config.has_gain:
            g.gains = np.array([r.field("GAIN").reset for r in rm.array("CAL_GAIN")],
                               dtype=np.int64)
        if self.config.has_tracker:
            g.track_interval = rm["TRACK_INTERVAL"].field("INTERVAL").reset
            g.track_ref = rm["TRACK_REF"].field("REF").reset
        g.reset_tracker()
        self.write_pulse_cycles = rm["WRITE_PULSE_CYCLES"].field("CYCLES").reset
        wv = rm["WV_CTRL"]
        self.wv_enable = wv.field("ENABLE").reset
        self.wv_doubling = wv.field("PULSE_DOUBLING").reset
        self.wv_max_retries = wv.field("MAX_RETRIES").reset
        g.raw_codes = bool(rm["MODE"].field("RAW_CODES").reset)
        if g.fine_table is not None:
            g.fine_table = np.array([r.field("VALUE").reset for r in rm.array("FINE_TABLE")],
                                    dtype=np.int64)
        self.wv_read_delay = rm["WV_READ"].field("DELAY").reset
        self.wv_threshold = rm["WV_READ"].field("THRESHOLD").reset
        #: What write-verify should have counted since reset (WV_RETRY_COUNT, WV_FAIL_COUNT).
        self.wv_retries = 0
        self.wv_failed_cells = 0
        self.passes = 0
        self.overflow_seen = False

    def register_written(self, name: str, word: int) -> None:
        """Mirror an accepted register write."""
        reg = self.regmap[name]
        if name in ("TDC_START_DELAY", "WRITE_PULSE_CYCLES"):
            f = reg.field("CYCLES")
            cycles = (word & f.mask) >> f.lsb
            if name == "TDC_START_DELAY":
                self.golden.start_delay_cycles = cycles
            else:
                self.write_pulse_cycles = cycles
        elif reg.array_name == "CAL_OFFSET":
            self.golden.offsets[reg.index] = _signed32(word)
        elif reg.array_name == "FINE_TABLE":
            self.golden.fine_table[reg.index] = word & reg.field("VALUE").mask
        elif name == "LUT_ENTRY" and word & reg.field("WRITE").mask:
            col, code, count = (((word & reg.field(f).mask) >> reg.field(f).lsb)
                                for f in ("COL", "CODE", "COUNT"))
            self.golden.lut[col, code] = 2 * count - self.config.rows
        elif reg.array_name == "CAL_GAIN":
            self.golden.gains[reg.index] = word
        elif name == "TRACK_INTERVAL":
            self.golden.track_interval = word
        elif name == "TRACK_REF":
            self.golden.track_ref = word
        elif name == "WV_CTRL":
            self.wv_enable = (word & reg.field("ENABLE").mask) >> reg.field("ENABLE").lsb
            self.wv_doubling = ((word & reg.field("PULSE_DOUBLING").mask)
                                >> reg.field("PULSE_DOUBLING").lsb)
            self.wv_max_retries = ((word & reg.field("MAX_RETRIES").mask)
                                   >> reg.field("MAX_RETRIES").lsb)
        elif name == "WV_READ":
            self.wv_read_delay = (word & reg.field("DELAY").mask) >> reg.field("DELAY").lsb
            self.wv_threshold = ((word & reg.field("THRESHOLD").mask)
                                 >> reg.field("THRESHOLD").lsb)
        elif name == "MODE":
            self.golden.raw_codes = bool(word & reg.field("RAW_CODES").mask)

    def row_written(self, row: int, bits) -> None:
        """The host programmed ``row``: W on the left MTJs, then W-bar on the right ones."""
        report = write_verify_row(
            self.golden.array, row, np.asarray(bits, dtype=bool), readout=self.readout,
            tdc_bits=self.config.tdc_bits, pulse_cycles=self.write_pulse_cycles,
            max_retries=self.wv_max_retries, double_pulse=bool(self.wv_doubling),
            verify=bool(self.wv_enable),
            setup=None if self.verify_setup is None else
            replace(self.verify_setup, start_delay_cycles=self.wv_read_delay,
                    threshold_code=self.wv_threshold))
        self.wv_retries += report.retries
        self.wv_failed_cells += report.n_failing
        self.intended_weights[row] = self.golden.array.weights()[row]

    def vmm(self, x_bits, *, accumulate: bool, hold: bool) -> PassResult:
        self.passes += 1
        prev_acc = self.golden.acc
        result = self.golden.vmm(x_bits, accumulate=accumulate, hold=hold)
        if self.dead_columns:
            result = self._with_dead_columns(result, prev_acc, accumulate)
        self.overflow_seen |= bool(result.overflow.any())
        return result

    def vmm_clear_batch(self, xs) -> list[PassResult]:
        """Clear, emitted passes of every row of ``xs[n, rows]``, as ``n`` calls of :meth:`vmm`
        would predict them, but converted in one batch (the golden model numbers the
        evaluations consecutively either way). Not with dead columns or while the temperature
        tracker runs (use :meth:`vmm`)."""
        if self.dead_columns or self.golden.track_interval:
            raise ValueError("vmm_clear_batch does not model dead columns or tracking retrims: "
                             "call vmm per pass")
        g, width = self.golden, self.config.result_width
        codes, overflow = g.convert(np.asarray(xs, dtype=bool))
        values = (wrap_signed(codes, width) if g.raw_codes
                  else accumulate_pass(0, g.results_from_codes(codes), accumulate=False,
                                       shift=False, negate=False, width=width))
        self.passes += len(codes)
        if len(codes):
            g.acc = values[-1].copy()
            self.overflow_seen |= bool(overflow.any())
        return [PassResult(codes=c, overflow=o, values=v, emitted=True)
                for c, o, v in zip(codes, overflow, values, strict=True)]

    def _with_dead_columns(self, result: PassResult, prev_acc, accumulate: bool) -> PassResult:
        """``result`` with the dead columns saturated: code ``2**tdc_bits - 1``, overflow."""
        c = self.config
        dead = np.array(sorted(self.dead_columns), dtype=np.int64)
        codes, overflow = result.codes.copy(), result.overflow.copy()
        codes[dead], overflow[dead] = c.tdc_max_code, True
        values = result.values.copy()
        if self.golden.raw_codes:
            values[dead] = wrap_signed(c.tdc_max_code, c.result_width)
        else:
            base = np.asarray(prev_acc, dtype=np.int64)[dead] if accumulate else 0
            term = self.golden.results_from_codes(codes)[dead]     # table, or offset and gain
            values[dead] = wrap_signed(base + term, c.result_width)
        self.golden.acc = values.copy()
        return PassResult(codes=codes, overflow=overflow, values=values, emitted=result.emitted)


# -- bus layer ----------------------------------------------------------------------------------
class VectorDriver:
    """Input vectors onto ``s_axis``: one ``tdata`` word per beat, flags in the first beat's tuser.

    With ``noise=True`` the padding bits of the last beat and the ``tuser`` of the later beats
    carry random junk, which the macro must ignore.
    """

    def __init__(self, dut, config: MacroConfig, rng: random.Random, *, legacy: bool = False):
        self.config = config
        self.rng = rng
        if legacy:
            self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk,
                                          dut.rst, byte_size=config.stream_width)
        else:
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


@dataclass
class ResultFrame:
    beats: list[int]
    tuser: list[int]
    #: The beats as one integer (beat 0 in the low bits), when the source has it at hand.
    raw: int | None = None


class _Background:
    """A component whose ``_run`` coroutine runs between ``start()`` and ``stop()``."""

    _task = None

    def start(self) -> None:
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError


class ResultMonitor(_Background):
    """Result frames from ``m_axis`` (split by ``tlast``), handed to a callback.

    Its :attr:`sink` is a :class:`StreamSink` (which delivers the frames itself and checks the
    protocol), or with ``legacy`` cocotbext-axi's ``AxiStreamSink``, read by this task.
    """

    def __init__(self, dut, config: MacroConfig, callback, *, legacy: bool = False):
        self.callback = callback
        self.legacy = legacy
        if legacy:
            self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst,
                                      byte_size=config.stream_width)
        elif has_harness(dut):
            self.sink = CollectedStreamSink(dut, "m_axis", callback)
        else:
            self.sink = StreamSink(dut, "m_axis", callback)

    def start(self) -> None:
        if self.legacy:
            super().start()
        else:
            self.sink.start()

    def stop(self) -> None:
        super().stop()
        if not self.legacy:
            self.sink.stop()

    async def _run(self) -> None:
        while True:
            frame = await self.sink.recv(compact=False)
            self.callback(ResultFrame(beats=[int(b) for b in frame.tdata],
                                      tuser=[int(u) for u in frame.tuser]))


def _pauses(generator):
    """Next value of a pause generator (an exhausted one pauses no more)."""
    return bool(next(generator, False))


class _PinCache(_Background):
    """A pin that changes rarely (``tvalid``, ``tlast``, ``tuser``), kept current by a watcher
    task, so a monitor can sample it at every clock without a simulator access.

    :meth:`at` returns the cached value, except in the time step where the pin last changed:
    then it reads the pin, because simulators differ in whether a change caused by the edge
    itself is already visible to a callback of that edge (a direct read is what the other
    bus models see).
    """

    def __init__(self, handle):
        self.handle = handle
        self._value = handle.value
        self._int: int | None = None
        self._changed = get_sim_time()

    async def _run(self) -> None:
        change = ValueChange(self.handle)
        while True:
            self._value, self._int = self.handle.value, None
            self._changed = get_sim_time()
            await change

    def at(self, now_steps: int):
        return self.handle.value if now_steps == self._changed else self._value

    def int_at(self, now_steps: int) -> int:
        """``int(self.at(now_steps))``, converted once per change (ValueError if not 0/1)."""
        if now_steps == self._changed:
            return int(self.handle.value)
        if self._int is None:
            self._int = int(self._value)
        return self._int


class _StreamPins:
    """The ``<prefix>_t*`` pins of one AXI4-Stream port, ``clk``/``rst``, and the pause
    interface of cocotbext-axi's bus models (a generator, or the ``pause`` flag)."""

    def __init__(self, dut, prefix: str):
        self.prefix = prefix
        self.log = logging.getLogger(f"cocotb.{prefix}")
        self._clk, self._rst = dut.clk, dut.rst
        self._tdata, self._tvalid, self._tready, self._tlast, self._tuser = (
            getattr(dut, f"{prefix}_{name}") for name in ("tdata", "tvalid", "tready", "tlast",
                                                           "tuser"))
        self._pause_generator = None
        #: Pause while True (cocotbext-axi compatible); a pause generator overrides it.
        self.pause = False

    def set_pause_generator(self, generator=None) -> None:
        self._pause_generator = generator

    def clear_pause_generator(self) -> None:
        self._pause_generator = None

    def _paused(self) -> bool:
        if self._pause_generator is not None:
            return _pauses(self._pause_generator)
        return bool(self.pause)


class StreamSource(_StreamPins):
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
        if not self._beats and self._queue:
            frame = self._queue.popleft()
            frame.normalize()
            n = len(frame.tdata)
            self._beats.extend((int(d), int(u), int(i == n - 1))
                               for i, (d, u) in enumerate(zip(frame.tdata, frame.tuser,
                                                              strict=True)))
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


class StreamSink(_StreamPins, _Background):
    """AXI4-Stream slave on ``<prefix>_*``: drives ``tready``, assembles frames (split by
    ``tlast``) for ``callback``, and checks the master's rules (once ``tvalid`` is high it stays
    high, with ``tdata``/``tlast``/``tuser`` stable, until ``tready`` takes the beat).

    One task does all three, waking on every clock while ``tvalid`` is high (or a beat is
    stalled) and sleeping until ``tvalid`` rises otherwise; per beat it reads only ``tdata``
    (``tvalid``, ``tlast`` and ``tuser`` are :class:`_PinCache` s). A pause generator
    (cocotbext-axi's interface) is asked once per clock while ``tvalid`` is high. ``tready`` is
    low during reset, and a partial frame is dropped there.
    """

    def __init__(self, dut, prefix: str, callback):
        super().__init__(dut, prefix)
        self.callback = callback
        self.violations: list[str] = []
        self._ready = None
        self._in_reset = True
        self._reset_task = None
        self._valid, self._last, self._user = (_PinCache(h) for h in (self._tvalid,
                                                                       self._tlast, self._tuser))

    def start(self) -> None:
        for pin in (self._valid, self._last, self._user):
            pin.start()
        super().start()
        if self._reset_task is None:
            self._reset_task = cocotb.start_soon(self._watch_reset())

    def stop(self) -> None:
        super().stop()
        for pin in (self._valid, self._last, self._user):
            pin.stop()
        if self._reset_task is not None:
            self._reset_task.cancel()
            self._reset_task = None

    async def _watch_reset(self) -> None:
        """Keep :attr:`_in_reset` current (cheaper than reading ``rst`` at every beat)."""
        while True:
            self._in_reset = str(self._rst.value) != "0"
            await ValueChange(self._rst)

    def _drive_ready(self, in_reset: bool) -> int:
        ready = 0 if in_reset else int(not self._paused())
        if ready != self._ready:
            self._tready.value = ready
            self._ready = ready
        return ready

    async def _run(self) -> None:
        edge, valid_rise = RisingEdge(self._clk), RisingEdge(self._tvalid)
        stalled = None          # payload of a beat offered but not taken at the previous edge
        beats: list[int] = []
        users: list[int] = []
        ready = self._drive_ready(str(self._rst.value) != "0")
        await edge              # (outputs may still be X at time 0)
        now = get_sim_time()
        while True:
            if stalled is None and str(self._valid.at(now)) == "0":
                await valid_rise
                ready = self._drive_ready(self._in_reset)
            await edge
            now = get_sim_time()
            # Values read at the edge are the ones the edge samples (rst moves between edges).
            if self._in_reset:
                stalled, beats, users = None, [], []
                ready = self._drive_ready(True)
                continue
            valid = self._valid.at(now)
            if not valid.is_resolvable:
                self._violate(f"tvalid is {valid} out of reset")
                ready = self._drive_ready(False)
                continue
            if int(valid):
                payload = (self._tdata.value, self._last.at(now), self._user.at(now))
                if stalled is not None and payload != stalled:
                    self._violate(f"payload changed while stalled: "
                                  f"{tuple(map(str, stalled))} -> {tuple(map(str, payload))}")
                if ready:
                    stalled = None
                    try:
                        data = int(payload[0])
                        last, user = self._last.int_at(now), self._user.int_at(now)
                    except ValueError:
                        self._violate(f"beat with undefined bits taken: "
                                      f"{tuple(map(str, payload))}")
                        data, last, user = 0, 0, 0
                    beats.append(data)
                    users.append(user)
                    if last:
                        self.callback(ResultFrame(beats=beats, tuser=users))
                        beats, users = [], []
                else:
                    stalled = payload
            elif stalled is not None:
                self._violate("tvalid dropped before the beat was taken")
                stalled = None
            ready = self._drive_ready(False)

    def _violate(self, text: str) -> None:
        message = f"t={get_sim_time('ns'):.1f} ns: {self.prefix}: {text}"
        if len(self.violations) < _MAX_LOGGED:
            logging.getLogger("cocotb.tb").error("stream protocol: %s", message)
        self.violations.append(message)


class CollectedStreamSink(_StreamPins):
    """AXI4-Stream slave on ``m_axis`` of the test harness (:mod:`mram_macro.sim.harness`),
    which assembles result frames and checks the master's rules in HDL: Python reads each
    frame once, at the falling edge after the harness latched it, instead of once per beat.

    Same interface as :class:`StreamSink` (callback, :attr:`violations`, ``pause`` and pause
    generators). ``tready`` is driven from Python: high out of reset while nothing pauses
    the sink (no task runs per clock); with a pause generator or ``pause`` set, a decision at
    every falling edge while ``tvalid`` is high, as random back-pressure needs.
    """

    def __init__(self, dut, prefix: str, callback):
        self._wake = Event()
        super().__init__(dut, prefix)
        if prefix != "m_axis":
            raise ValueError(f"the harness collects m_axis only, not {prefix}")
        self.callback = callback
        self._frame_data, self._frame_user = dut.tb_m_frame_data, dut.tb_m_frame_user
        self._frame_beats, self._frame_count = dut.tb_m_frame_beats, dut.tb_m_frame_count
        self._frame = dut.tb_m_frame        # {user, data, beats, count}: one read per frame
        self._data_mask = (1 << len(self._frame_data)) - 1
        self._user_lsb = 32 + len(self._frame_data)
        self._n_violations = dut.tb_m_violations
        self._violation_kinds = dut.tb_m_violation_kinds
        self._first_violation_ns = dut.tb_m_first_violation_ns
        self._beat_bits = len(self._tdata)
        self._user_bits = len(self._tuser)
        self._own_violations: list[str] = []
        self._frames = 0
        self._ready = None
        self._in_reset = True
        self._tasks: list = []

    # pause interface: a change wakes the tready task
    @property
    def pause(self) -> bool:
        return self._pause

    @pause.setter
    def pause(self, value) -> None:
        self._pause = bool(value)
        self._wake.set()

    def set_pause_generator(self, generator=None) -> None:
        super().set_pause_generator(generator)
        self._wake.set()

    def clear_pause_generator(self) -> None:
        super().clear_pause_generator()
        self._wake.set()

    def start(self) -> None:
        if not self._tasks:
            self._frames = int(self._frame_count.value)
            self._tasks = [cocotb.start_soon(c) for c in (self._watch_reset(), self._drive(),
                                                          self._collect())]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    @property
    def violations(self) -> list[str]:
        """Protocol violations: the harness' (one line per violation, the first with its time
        and every kind seen) and the frame bookkeeping's."""
        out = list(self._own_violations)
        n = int(self._n_violations.value)
        if n:
            kinds = int(self._violation_kinds.value)
            text = "; ".join(t for bit, t in VIOLATION_KINDS.items() if kinds & bit)
            first = int(self._first_violation_ns.value)
            out.append(f"t={first:.1f} ns: {self.prefix}: {text}")
            out += [f"{self.prefix}: (one of the kinds above)"] * (n - 1)
        return out

    def _violate(self, text: str) -> None:
        message = f"t={get_sim_time('ns'):.1f} ns: {self.prefix}: {text}"
        if len(self._own_violations) < _MAX_LOGGED:
            logging.getLogger("cocotb.tb").error("stream protocol: %s", message)
        self._own_violations.append(message)

    def _set_ready(self, ready: int) -> None:
        if ready != self._ready:
            self._tready.value = ready
            self._ready = ready

    def _pausing(self) -> bool:
        return self._pause_generator is not None or self._pause

    async def _watch_reset(self) -> None:
        while True:
            self._in_reset = str(self._rst.value) != "0"
            self._wake.set()
            await ValueChange(self._rst)

    async def _drive(self) -> None:
        falling, valid_rise = FallingEdge(self._clk), RisingEdge(self._tvalid)
        while True:
            self._wake.clear()
            if self._in_reset or not self._pausing():
                self._set_ready(0 if self._in_reset else 1)
                await self._wake.wait()
                continue
            # Random back-pressure: decide at each falling edge while tvalid is high (pins are
            # settled there); sleep until tvalid rises otherwise.
            self._set_ready(int(not self._paused()))
            while not self._in_reset and self._pausing():
                self._wake.clear()
                await falling
                if str(self._tvalid.value) != "1":
                    await First(valid_rise, self._wake.wait())
                    continue
                self._set_ready(int(not self._paused()))

    async def _collect(self) -> None:
        """One wake-up per frame: ``tb_m_frame`` (the frame with its count) changes at the
        falling edge after the edge that took ``tlast``; its new value is read where it woke
        the task (on Icarus, other nets may not be updated yet there)."""
        change = ValueChange(self._frame)
        bw, uw = self._beat_bits, self._user_bits
        while True:
            await change
            try:
                word = int(self._frame.value)
            except ValueError:
                self._violate("frame with undefined bits taken")
                word = int(self._frame_beats.value) << 32 | int(self._frame_count.value)
            count = word & 0xFFFF_FFFF
            if count != self._frames + 1:
                self._violate(f"{count - self._frames - 1} frame(s) completed unseen")
            self._frames = count
            word >>= 32
            n = word & 0xFFFF_FFFF
            data = (word >> 32) & self._data_mask
            user = word >> self._user_lsb
            stored = min(n, len(self._frame_data) // bw)
            beats = [(data >> (i * bw)) & ((1 << bw) - 1) for i in range(stored)] + [0] * (
                n - stored)
            users = [(user >> (i * uw)) & ((1 << uw) - 1) for i in range(stored)] + [0] * (
                n - stored)
            self.callback(ResultFrame(beats=beats, tuser=users, raw=data if n == stored
                                      else None))


class StreamProtocolChecker(_Background):
    """AXI4-Stream master rules on ``<prefix>_*``: once ``tvalid`` is high it stays high, with
    ``tdata``/``tlast``/``tuser`` stable, until ``tready`` takes the beat.

    The sink only looks at handshakes, so a master that withdraws or changes a stalled beat
    could otherwise go unnoticed.
    """

    def __init__(self, dut, prefix: str):
        self.prefix = prefix
        self._clk = dut.clk
        self._rst = dut.rst
        self._valid = getattr(dut, f"{prefix}_tvalid")
        self._ready = getattr(dut, f"{prefix}_tready")
        self._payload = [getattr(dut, f"{prefix}_{name}") for name in ("tdata", "tlast", "tuser")]
        self.violations: list[str] = []

    async def _run(self) -> None:
        edge = RisingEdge(self._clk)
        stalled = None      # payload of a beat offered but not taken at the previous edge
        await edge          # (outputs may still be X at time 0)
        while True:
            if stalled is None and str(self._valid.value) == "0":
                await RisingEdge(self._valid)
            await edge
            # Values read at the edge are the ones the edge samples.
            if str(self._rst.value) != "0":
                stalled = None
                continue
            if not self._valid.value.is_resolvable:
                self._violate(f"tvalid is {self._valid.value} out of reset")
                continue
            valid = int(self._valid.value)
            payload = tuple(str(sig.value) for sig in self._payload)
            if stalled is not None:
                if not valid:
                    self._violate("tvalid dropped before the beat was taken")
                elif payload != stalled:
                    self._violate(f"payload changed while stalled: {stalled} -> {payload}")
            stalled = payload if valid and not int(self._ready.value) else None

    def _violate(self, text: str) -> None:
        message = f"t={get_sim_time('ns'):.1f} ns: {self.prefix}: {text}"
        if len(self.violations) < _MAX_LOGGED:
            logging.getLogger("cocotb.tb").error("stream protocol: %s", message)
        self.violations.append(message)


# -- checker ------------------------------------------------------------------------------------
@dataclass
class Expected:
    index: int              #: pass number since the last reset
    x_bits: np.ndarray
    values: np.ndarray
    overflow: bool
    codes: np.ndarray = field(repr=False)


class Scoreboard:
    """Compares every received result frame with the next expected one, exactly.

    Frames are paired with their predictions as they arrive and compared in batches (one NumPy
    comparison of the packed bits per batch, the detailed diagnosis only for a frame that
    differs): at every :meth:`settle`, which :attr:`matches`, :attr:`mismatches` and
    :attr:`values` call, and every :data:`BATCH` frames. With ``batched=False`` each frame is
    compared on arrival (the previous behaviour, for ``MRAM_TB=legacy``).
    """

    #: Frames held before a batch comparison is forced.
    BATCH = 256

    def __init__(self, config: MacroConfig, log: logging.Logger, *, batched: bool = True):
        self.config = config
        self.log = log
        self.batched = batched
        self.expected: deque[Expected] = deque()
        self.received = 0
        #: Simulation time (ns) at which each result frame was complete.
        self.arrival_ns: list[float] = []
        self._matches = 0
        self._values: list[np.ndarray] = []
        self._mismatches: list[str] = []
        self._unchecked: list[tuple[ResultFrame, Expected | None]] = []
        self._flags = {ovf: result_flags(overflow=ovf) for ovf in (False, True)}
        self.empty = Event()
        self.empty.set()

    @property
    def matches(self) -> int:
        self.settle()
        return self._matches

    @property
    def mismatches(self) -> list[str]:
        self.settle()
        return self._mismatches

    @property
    def values(self) -> list[np.ndarray]:
        """Every received result vector, as the host reads it (signed values per column)."""
        self.settle()
        return self._values

    def expect(self, item: Expected) -> None:
        self.expected.append(item)
        self.empty.clear()

    def flush(self) -> None:
        """Forget the outstanding predictions (after a reset)."""
        self.settle()
        self.expected.clear()
        self.empty.set()

    def _fail(self, text: str) -> None:
        if len(self._mismatches) < _MAX_LOGGED:
            self.log.error("scoreboard: %s", text)
        self._mismatches.append(text)

    def compare(self, got: ResultFrame) -> None:
        """Pair a received frame with the oldest outstanding prediction."""
        self.received += 1
        self.arrival_ns.append(get_sim_time("ns"))
        exp = self.expected.popleft() if self.expected else None
        if not self.expected:
            self.empty.set()
        self._unchecked.append((got, exp))
        if not self.batched or len(self._unchecked) >= self.BATCH:
            self.settle()

    def settle(self) -> None:
        """Compare every frame received so far."""
        if not self._unchecked:
            return
        pairs, self._unchecked = self._unchecked, []
        c = self.config
        full = [i for i, (got, _) in enumerate(pairs) if len(got.beats) == c.out_beats]
        got_bytes = self._frame_bytes([pairs[i][0] for i in full])
        values = iter(self._unpack(got_bytes))
        same = iter(self._same_bits(got_bytes, [pairs[i][1] for i in full]))
        for got, exp in pairs:
            complete = len(got.beats) == c.out_beats
            if complete:
                self._values.append(next(values))
            exact = next(same) if complete else False
            if exp is None:
                self._fail(f"unexpected result frame #{self.received} (nothing outstanding): "
                           f"beats={[hex(b) for b in got.beats]}")
            elif exact and all(u == self._flags[exp.overflow] for u in got.tuser):
                self._matches += 1
            else:
                self._diagnose(got, exp)

    def _frame_bytes(self, frames: list[ResultFrame]) -> np.ndarray:
        """``frames`` (beats of ``stream_width`` bits) as rows of little-endian bytes."""
        c = self.config
        n = c.stream_width // 8
        mask = (1 << c.stream_width) - 1
        raw = b"".join(f.raw.to_bytes(n * c.out_beats, "little") if f.raw is not None else
                       b"".join(int(b & mask).to_bytes(n, "little") for b in f.beats)
                       for f in frames)
        return np.frombuffer(raw, dtype=np.uint8).reshape(len(frames), c.out_beats * n)

    def _unpack(self, frame_bytes: np.ndarray) -> np.ndarray:
        """Signed column values of each frame (the batch form of ``unpack_result_vector``)."""
        c = self.config
        w = c.result_width
        bits = np.unpackbits(frame_bytes, axis=1, bitorder="little")[:, :c.cols * w]
        fields = bits.reshape(len(frame_bytes), c.cols, w).astype(np.int64)
        unsigned = fields @ (np.int64(1) << np.arange(w, dtype=np.int64))
        return np.where(fields[:, :, -1] == 1, unsigned - (np.int64(1) << w), unsigned)

    def _same_bits(self, frame_bytes: np.ndarray, expected: list) -> np.ndarray:
        """Per frame: do its bits equal the packed prediction (padding bits zero)?"""
        c = self.config
        w = c.result_width
        rows = [i for i, e in enumerate(expected) if e is not None]
        same = np.zeros(len(expected), dtype=bool)
        if rows:
            values = np.stack([np.asarray(expected[i].values, dtype=np.int64) for i in rows])
            fields = (values[:, :, None] >> np.arange(w)) & 1
            bits = np.zeros((len(rows), frame_bytes.shape[1] * 8), dtype=np.uint8)
            bits[:, :c.cols * w] = fields.reshape(len(rows), c.cols * w)
            want = np.packbits(bits, axis=1, bitorder="little")
            same[rows] = (want == frame_bytes[rows]).all(axis=1)
        return same

    def _diagnose(self, got: ResultFrame, exp: Expected) -> None:
        """Describe how ``got`` differs from ``exp`` (the per-frame comparison)."""
        c = self.config
        want_beats = pack_result_vector(exp.values, c)
        want_user = result_flags(overflow=exp.overflow)
        problems = []
        if len(got.beats) != len(want_beats):
            problems.append(f"{len(got.beats)} beats instead of {len(want_beats)}")
        elif got.beats != want_beats:
            values = unpack_result_vector(got.beats, c)
            bad = np.flatnonzero(values != exp.values)
            if bad.size:
                shown = ", ".join(f"col {k}: got {values[k]} want {exp.values[k]} "
                                  f"(code {exp.codes[k]})" for k in bad[:8])
                problems.append(f"{bad.size} column(s) differ: {shown}")
            else:
                problems.append("padding bits are not 0: "
                                f"got {[hex(b) for b in got.beats]} want "
                                f"{[hex(b) for b in want_beats]}")
        if any(u != want_user for u in got.tuser):
            problems.append(f"tuser {got.tuser} != overflow flag {want_user} on every beat")
        if not problems:  # the batch check and this one disagree: a bug of the scoreboard
            problems.append("frame flagged by the batch comparison but equal beat by beat")
        x = "".join(str(int(b)) for b in exp.x_bits)
        self._fail(f"pass #{exp.index} (x[0..] = {x}): " + "; ".join(problems))


# -- environment --------------------------------------------------------------------------------
class MacroEnv:
    """The testbench around one ``mram_macro`` instance; see the module docstring."""

    def __init__(self, dut, config: MacroConfig, *, seed: int, device: DeviceParams | None = None,
                 regmap: RegisterMap | None = None, die: Die | None = None):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
        self.dut = dut
        self.config = config
        self.seed = seed
        self.device = device or DeviceParams()
        self.log = logging.getLogger("cocotb.tb")
        self.log.info("MacroEnv: config %s, env seed %d", config.to_json(), seed)
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        # The register map the RTL was generated from (reset values included; TDC_START_DELAY's
        # comes from the readout designed for the nominal device).
        self.regmap = regmap or macro_regmap(config)

        #: ``fast`` (event-driven models, C clock) or ``legacy``: see the module docstring.
        self.testbench = testbench_kind()
        legacy = self.testbench == "legacy"
        dut.rst.value = 1
        self.clock = Clock(dut.clk, T_CLK_NS, unit="ns", impl="py" if legacy else "gpi")
        # The C clock drives its first level at once, before rst=1 reaches the pins: start low,
        # so the first rising edge (at T/2) already sees the reset.
        self.clock.start(start_high=legacy)

        # One die for both sides: sampled from the seed, or given (e.g. loaded from a die file).
        if die is not None and (die.rows, die.cols) != (config.rows, config.cols):
            raise ValueError(f"the die is {die.rows}x{die.cols}, the macro "
                             f"{config.rows}x{config.cols}")
        self.model = MacroModel(config, self.regmap, self.device, seed=seed, die=die)
        pins_array = (MramArray.from_die(die, self.device) if die is not None
                      else MramArray(config.rows, config.cols, self.device, seed=seed))
        self.array = array_pin_model(config, dut, pins_array, self.model.readout, legacy=legacy)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.driver = VectorDriver(dut, config, random.Random(seed + 1), legacy=legacy)
        self.scoreboard = Scoreboard(config, self.log, batched=not legacy)
        self.monitor = ResultMonitor(dut, config, self.scoreboard.compare, legacy=legacy)
        #: The macro's own hierarchy (FSM registers): inside the harness, if ``dut`` is one.
        self.rtl = getattr(dut, MACRO_INSTANCE) if has_harness(dut) else dut
        self.source, self.sink = self.driver.source, self.monitor.sink
        # Per-transfer INFO logs of the bus models cost more time than the simulation.
        for bfm in (self.source, self.sink, self.axil.write_if, self.axil.read_if):
            bfm.log.setLevel(logging.WARNING)
        # The fast sink checks the protocol itself.
        self.stream_checker = StreamProtocolChecker(dut, "m_axis") if legacy else self.sink
        # Isolation: the pin model, the monitor and the checker start only once rst has
        # cleared what a previous (perhaps failed) test left in the DUT (see :meth:`reset`).
        dut.arr_cmp.value = 0
        self._monitors_started = False
        self.bus_errors_expected = False
        self.length_errors_expected = False
        self.flags_errors_expected = False
        #: Hooks (coverage, robustness tests). ``pass_listeners`` are called with every predicted
        #: pass ``(x_bits, accumulate, hold, result, prev_acc)``; ``finish_listeners`` by
        #: :meth:`finish` with ``(env, problems)`` and return further problems to report.
        self.pass_listeners: list = []
        self.finish_listeners: list = []
        #: Faults a robustness test injected (reported as survived when the test passes).
        self.faults_injected = 0
        #: Functional coverage (:mod:`verif.cocotb.coverage`), collected only when
        #: ``MRAM_COVERAGE`` names an output file.
        self.coverage = None
        if os.environ.get("MRAM_COVERAGE"):
            from .coverage import attach
            self.coverage = attach(self)
            if isinstance(self.source, StreamSource):
                self.source.use_feeder = False  # coverage samples the harness' s_axis pins

    # -- clocking and reset ---------------------------------------------------------------------
    async def cycles(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    async def reset(self, cycles: int = 4) -> None:
        """Hold ``rst`` for ``cycles`` clocks. Vectors not yet sent and predictions are dropped.

        Every test calls it first: the first call also starts the array pin model, the result
        monitor and the protocol checker, on a DUT already in reset, so a test that failed
        mid-evaluation does not leave the next one a half-finished pass."""
        self.source.clear()
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        if not self._monitors_started:
            # First reset of this test: the DUT is now quiet, whatever the last test left.
            self._monitors_started = True
            self.array.start()
            self.monitor.start()
            self.stream_checker.start()
        self.dut.rst.value = 0
        self.scoreboard.flush()
        self.model.reset()
        self.bus_errors_expected = False
        self.length_errors_expected = False
        self.flags_errors_expected = False
        await RisingEdge(self.dut.clk)

    # -- registers ------------------------------------------------------------------------------
    def address(self, name: str) -> int:
        return self.regmap[name].offset

    def field_value(self, reg: str, fld: str, word: int) -> int:
        f = self.regmap[reg].field(fld)
        return (word & f.mask) >> f.lsb

    @property
    def write_verify(self) -> bool:
        """Can this build verify its writes? (:attr:`MacroConfig.has_write_verify`)"""
        return self.config.has_write_verify

    async def write_offset(self, col: int, *, small: bool = False) -> None:
        """Move column ``col``'s pass values away from their reset (the model mirrors it):
        CAL_OFFSET<col> to a random legal value (``small``: within -8..7 as well), or with the
        coarse TDC, which has no CAL_OFFSET, one random entry of the column's code -> value
        table (LUT_ENTRY)."""
        c, rng = self.config, self.rng
        if self.regmap.array("CAL_OFFSET"):
            lo, hi = budgets.field_range(self.regmap[f"CAL_OFFSET{col}"].field("OFFSET"))
            if small:
                lo, hi = max(lo, -8), min(hi, 7)
            await self.write_reg(f"CAL_OFFSET{col}", rng.randint(lo, hi) & 0xFFFFFFFF)
        else:
            await self.write_reg("LUT_ENTRY", lut_entry_word(
                c, col, rng.randint(0, c.tdc_max_code), rng.randint(0, c.rows)))

    async def write_reg(self, name: str, value: int, *, expect: AxiResp = AxiResp.OKAY) -> None:
        """Write register ``name`` (a signed value is stored two's complement)."""
        resp = (await self.axil.write(self.address(name), _word(value))).resp
        if resp != expect:
            raise AssertionError(f"write {name} <- 0x{value & 0xFFFFFFFF:08X}: response "
                                 f"{resp.name}, expected {expect.name}")
        if resp == AxiResp.OKAY:
            self.model.register_written(name, value & 0xFFFFFFFF)
        else:
            self.bus_errors_expected = True

    async def read_reg(self, name: str, *, expect: AxiResp = AxiResp.OKAY) -> int:
        resp = await self.axil.read(self.address(name), 4)
        if resp.resp != expect:
            raise AssertionError(f"read {name}: response {resp.resp.name}, "
                                 f"expected {expect.name}")
        return int.from_bytes(resp.data, "little")

    async def read_field(self, reg: str, fld: str) -> int:
        return self.field_value(reg, fld, await self.read_reg(reg))

    def write_row_cycles(self) -> int:
        """Upper bound of the cycles one CTRL.WRITE_ROW keeps STATUS.WRITE_BUSY set, from the
        mirrored WRITE_PULSE_CYCLES and WV_* registers: two sides, each up to 1 + MAX_RETRIES
        pulses (doubled per retry, saturating at the 16-bit maximum) with a read-back each."""
        m = self.model
        return budgets.write_row_cycles(self.config, pulse_cycles=m.write_pulse_cycles,
                                        verify=bool(m.wv_enable), max_retries=m.wv_max_retries,
                                        doubling=bool(m.wv_doubling),
                                        read_delay=m.wv_read_delay)

    async def wait_field(self, reg: str, fld: str, value: int, *,
                         max_cycles: int | None = None) -> None:
        """Poll ``reg.fld`` until it reads ``value``; fail after ``max_cycles`` clocks (default:
        four times the longest row write or pass the current register values allow)."""
        if max_cycles is None:
            max_cycles = 4 * max(self.write_row_cycles(), self._pass_cycles())
        t0_ns, polls = get_sim_time("ns"), 0
        # Long write pulses: poll a few times per pulse, not every few cycles (simulation speed).
        interval = min(1024, self.model.write_pulse_cycles // 8)
        while await self.read_field(reg, fld) != value:
            polls += 1
            if interval > 1:
                await Timer(interval * T_CLK_NS, "ns")
            if get_sim_time("ns") - t0_ns > max_cycles * T_CLK_NS:
                raise AssertionError(
                    f"{reg}.{fld} did not become {value} in {max_cycles} cycles ({polls} polls; "
                    f"WRITE_PULSE_CYCLES={self.model.write_pulse_cycles}, "
                    f"WV_CTRL.MAX_RETRIES={self.model.wv_max_retries})")

    async def command(self, fld: str) -> None:
        await self.write_reg("CTRL", 1 << self.regmap["CTRL"].field(fld).lsb)

    # -- weights --------------------------------------------------------------------------------
    async def program_row(self, row: int, bits) -> None:
        """Program one row of weight bits (1 = +1) through WEIGHT_DATA and CTRL.WRITE_ROW."""
        c = self.config
        bits = np.asarray(bits, dtype=bool)
        if bits.shape != (c.cols,):
            raise ValueError(f"a weight row has {c.cols} bits, not shape {bits.shape}")
        for reg in self.regmap.array("WEIGHT_DATA"):
            f = reg.field("BITS")
            chunk = bits[32 * reg.index:32 * reg.index + f.width]
            word = sum(1 << int(i) for i in np.flatnonzero(chunk))
            await self.write_reg(reg.name, word << f.lsb)
        await self.write_reg("WRITE_ROW_ADDR", row << self.regmap["WRITE_ROW_ADDR"].field(
            "ROW").lsb)
        # The command is latched, so WEIGHT_DATA could be reloaded at once; the command itself
        # is rejected while the previous row is still being written.
        await self.wait_field("STATUS", "WRITE_BUSY", 0)
        await self.command("WRITE_ROW")
        self.model.row_written(row, bits)

    @property
    def switch_cycles(self) -> int:
        """The shortest WRITE_PULSE_CYCLES that switches an MTJ of the device (deterministic
        write model: ``t_switch_ns`` at the simulation clock)."""
        return int(np.ceil(self.device.t_switch_ns / T_CLK_NS))

    async def switching_pulse(self) -> None:
        """Make WRITE_PULSE_CYCLES at least :attr:`switch_cycles`: for programming without
        write-verify (off, or a build without it), where nothing retries a pulse too short to
        switch (a legal WRITE_PULSE_CYCLES may be as short as 1)."""
        if self.model.write_pulse_cycles < self.switch_cycles:
            await self.write_reg("WRITE_PULSE_CYCLES", self.switch_cycles)

    async def program_weights(self, w_bits, *, rows=None) -> None:
        """Program ``w_bits[rows, cols]`` (all rows, or the listed ones), after draining."""
        w = np.asarray(w_bits, dtype=bool)
        if w.shape != (self.config.rows, self.config.cols):
            raise ValueError(f"weights must have shape ({self.config.rows}, {self.config.cols}),"
                             f" not {w.shape}")
        await self.drain()
        for r in range(self.config.rows) if rows is None else rows:
            await self.program_row(int(r), w[r])
        await self.wait_field("STATUS", "WRITE_BUSY", 0)

    # -- vectors --------------------------------------------------------------------------------
    async def send_vector(self, x_bits, accumulate: bool = False, hold: bool = False, *,
                          noise: bool = False, expected=None) -> PassResult:
        """Queue one input vector; predict its pass and, unless ``hold``, expect its result.

        ``expected`` (optional) are values the caller knows independently; they must agree with
        the golden model's prediction.
        """
        x = np.asarray(x_bits, dtype=bool)
        if x.shape != (self.config.rows,):
            raise ValueError(f"an input vector has {self.config.rows} bits, not shape {x.shape}")
        if not self.config.multibit:
            # A single-pass build has no flags (it drops a vector that carries one): the
            # flags a test draws become plain passes here; test_clear_vs_accumulate sends
            # flagged vectors to such a build on purpose.
            accumulate = hold = False
        index = self.model.passes
        prev_acc = self.model.golden.acc.copy() if self.pass_listeners else None
        result = self.model.vmm(x, accumulate=accumulate, hold=hold)
        for listener in self.pass_listeners:
            listener(x, accumulate, hold, result, prev_acc)
        if expected is not None and not np.array_equal(result.values, expected):
            raise AssertionError(f"golden model disagrees with the test's own expectation for "
                                 f"pass #{index}: {result.values} vs {np.asarray(expected)}")
        if not hold:
            self.scoreboard.expect(Expected(index=index, x_bits=x, values=result.values,
                                            overflow=bool(result.overflow.any()),
                                            codes=result.codes))
        await self.driver.send(self.driver.frame(x, accumulate=accumulate, hold=hold,
                                                 noise=noise))
        return result

    async def send_vectors(self, xs) -> None:
        """Queue a clear, emitted pass of every row of ``xs[n, rows]``: what ``n`` calls of
        :meth:`send_vector` do, with the predictions made in one batch (faster), unless a pass
        listener or a dead column needs them one by one."""
        xs = np.asarray(xs, dtype=bool)
        if xs.ndim != 2 or xs.shape[1] != self.config.rows:
            raise ValueError(f"input vectors must have shape (n, {self.config.rows}), "
                             f"not {xs.shape}")
        if (self.pass_listeners or self.model.dead_columns
                or self.model.golden.track_interval):
            for x in xs:
                await self.send_vector(x)
            return
        first = self.model.passes
        for i, (x, result) in enumerate(zip(xs, self.model.vmm_clear_batch(xs), strict=True)):
            self.scoreboard.expect(Expected(index=first + i, x_bits=x, values=result.values,
                                            overflow=bool(result.overflow.any()),
                                            codes=result.codes))
            await self.driver.send(self.driver.frame(x, accumulate=False, hold=False))

    def random_vector(self, p_one: float = 0.5) -> np.ndarray:
        return self.np_rng.random(self.config.rows) < p_one

    def random_weights(self, p_one: float = 0.5) -> np.ndarray:
        return self.np_rng.random((self.config.rows, self.config.cols)) < p_one

    # -- back-pressure --------------------------------------------------------------------------
    def random_backpressure(self, *, p_source_idle: float = 0.3,
                            p_sink_stall: float = 0.3) -> None:
        """Seeded random idle cycles on s_axis and ready-low cycles on m_axis."""
        def pauses(rng: random.Random, p: float):
            while True:
                yield rng.random() < p
        self.log.info("random back-pressure: source idle %.2f, sink stall %.2f",
                      p_source_idle, p_sink_stall)
        self.source.set_pause_generator(pauses(random.Random(self.rng.getrandbits(32)),
                                               p_source_idle))
        self.sink.set_pause_generator(pauses(random.Random(self.rng.getrandbits(32)),
                                             p_sink_stall))

    def random_bus_pauses(self, *, p_pause: float = 0.3) -> None:
        """Seeded random pauses on all five AXI4-Lite channels: AW, W and AR withhold valid,
        B and R withhold ready."""
        def pauses(rng: random.Random):
            while True:
                yield rng.random() < p_pause
        for channel in self._axil_channels():
            channel.set_pause_generator(pauses(random.Random(self.rng.getrandbits(32))))

    def no_bus_pauses(self) -> None:
        for channel in self._axil_channels():
            channel.clear_pause_generator()
            channel.pause = False

    def _axil_channels(self):
        w, r = self.axil.write_if, self.axil.read_if
        return (w.aw_channel, w.w_channel, w.b_channel, r.ar_channel, r.r_channel)

    def kill_comparators(self, columns) -> None:
        """From now on the comparators of ``columns`` never fire (none: all work again).

        Call it drained: the model applies it to the next predicted pass.
        """
        dead = frozenset(int(c) for c in columns)
        if any(not 0 <= c < self.config.cols for c in dead):
            raise ValueError(f"columns must be in 0..{self.config.cols - 1}, not {sorted(dead)}")
        self.array.dead_columns = set(dead)
        self.model.dead_columns = dead

    def no_backpressure(self) -> None:
        self.source.clear_pause_generator()
        self.sink.clear_pause_generator()
        self.source.pause = False
        self.sink.pause = False

    # -- completion -----------------------------------------------------------------------------
    def _pass_cycles(self) -> int:
        """Generous upper bound of the cycles one pass occupies the macro."""
        return budgets.pass_cycles(self.config,
                                   start_delay=self.model.golden.start_delay_cycles)

    async def read_raw_codes(self, xs) -> np.ndarray:
        """TDC codes of input vectors ``xs`` (bits), read in MODE.RAW_CODES (left set: the
        caller writes MODE back), every result checked by the scoreboard on the way."""
        await self.write_reg("MODE", self.regmap["MODE"].field("RAW_CODES").mask)
        first = len(self.scoreboard.values)
        for x in xs:
            await self.send_vector(np.asarray(x).astype(bool))
        await self.drain()
        # raw codes are unsigned
        return np.array(self.scoreboard.values[first:]) & ((1 << self.config.result_width) - 1)

    async def drain(self) -> None:
        """Wait until every sent vector is processed, every expected result has arrived and
        the last row write has finished."""
        pending = self.source.count() + len(self.scoreboard.expected) + 2
        # A row write in flight blocks the sequencer first.
        timeout_ns = (pending * self._pass_cycles() + self.write_row_cycles()) * T_CLK_NS
        try:
            await with_timeout(self._drain(), timeout_ns, "ns")
        except TimeoutError:
            raise AssertionError(
                f"timeout: {len(self.scoreboard.expected)} expected result(s) never arrived "
                f"(received {self.scoreboard.received}); first missing: pass "
                f"#{self.scoreboard.expected[0].index if self.scoreboard.expected else '-'}"
            ) from None

    async def _drain(self) -> None:
        await self.source.wait()
        await self.scoreboard.empty.wait()
        await self.wait_field("STATUS", "VMM_BUSY", 0)
        await self.wait_field("STATUS", "RESULT_PENDING", 0)
        # A row write issued last may outlast the passes (long write pulses).
        await self.wait_field("STATUS", "WRITE_BUSY", 0)
        self.scoreboard.settle()

    async def check_status(self) -> None:
        """Sticky STATUS flags and VMM_COUNT agree with the model (call when drained)."""
        status = await self.read_reg("STATUS")
        want = {"TDC_OVERFLOW": self.model.overflow_seen,
                "LENGTH_ERROR": self.length_errors_expected,
                "BUS_ERROR": self.bus_errors_expected,
                "WRITE_FAILED": self.model.wv_failed_cells > 0}
        if not self.config.multibit:
            want["FLAGS_ERROR"] = self.flags_errors_expected
        for fld, flag in want.items():
            got = self.field_value("STATUS", fld, status)
            assert got == int(flag), f"STATUS.{fld} = {got}, expected {int(flag)}"
        count = await self.read_field("VMM_COUNT", "COUNT")
        assert count == self.model.passes % (1 << 32), (
            f"VMM_COUNT = {count}, but {self.model.passes} passes were sent since reset")
        for reg, want_count in (("WV_RETRY_COUNT", self.model.wv_retries),
                                ("WV_FAIL_COUNT", self.model.wv_failed_cells)):
            got = await self.read_field(reg, "COUNT")
            assert got == want_count % (1 << 32), f"{reg} = {got}, expected {want_count}"

    def report_metrics(self, **metrics) -> None:
        """Append ``metrics`` as one JSON line to the file named by ``MRAM_METRICS`` (if set);
        ``mram_macro/sim/runner.py`` merges them for ``make bench`` and ``mram-macro demo``."""
        path = os.environ.get("MRAM_METRICS")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(metrics) + "\n")

    async def finish(self, *, extra_cycles: int = 200) -> None:
        """Drain, watch for stray frames, then fail on any mismatch, violation or timeout.

        The failure message lists every kind of problem found, most specific first: result
        mismatches, protocol violations on the array pins and on m_axis, then a drain timeout or
        a STATUS disagreement (often just consequences of the former).
        """
        later: list[str] = []
        try:
            await self.drain()
            await self.check_status()
        except AssertionError as exc:
            later.append(str(exc))
        await self.cycles(extra_cycles)
        sb, arr, streams = self.scoreboard, self.array, self.stream_checker
        self.log.info("scoreboard: %d frame(s) received, %d matched, %d mismatch(es); array: "
                      "%d evaluations, %d writes", sb.received, sb.matches, len(sb.mismatches),
                      arr.evaluations, arr.writes_applied)
        problems = []
        if sb.mismatches:
            problems.append(f"{len(sb.mismatches)} result mismatch(es); first: "
                            f"{sb.mismatches[0]}")
        try:
            arr.check()
        except AssertionError as exc:
            problems.append(str(exc))
        if streams.violations:
            problems.append(f"{len(streams.violations)} m_axis protocol violation(s); first: "
                            f"{streams.violations[0]}")
        problems += later
        for listener in self.finish_listeners:
            problems += listener(self, problems)
        if problems:
            raise AssertionError(f"env seed {self.seed}: " + "\n".join(problems))
