"""Monitors of the cocotb testbench: result frames from ``m_axis`` and the master's protocol.

:class:`ResultMonitor` hands every result frame to a callback (the scoreboard). Its sink is
:class:`StreamSink` on the bare macro (drives ``tready``, assembles frames and checks the
AXI4-Stream master rules, waking per beat) or :class:`CollectedStreamSink` on the test harness
(the harness assembles the frames and checks the rules in HDL: one wake-up per frame).
"""

from __future__ import annotations

import logging

import cocotb
from cocotb.simtime import get_sim_time
from cocotb.triggers import Event, FallingEdge, First, RisingEdge, ValueChange

from mram_macro.sim.harness import VIOLATION_KINDS
from mram_macro.sim.testbench.streams import (
    MAX_LOGGED,
    Background,
    ResultFrame,
    StreamPins,
    has_harness,
)

__all__ = ["ResultMonitor", "StreamSink", "CollectedStreamSink"]


class ResultMonitor:
    """Result frames from ``m_axis`` (split by ``tlast``), handed to ``callback``.

    Its :attr:`sink` delivers the frames itself and checks the AXI4-Stream master's protocol
    (:attr:`~StreamSink.violations`): a :class:`CollectedStreamSink` on the test harness, a
    :class:`StreamSink` on the bare macro.
    """

    def __init__(self, dut, callback):
        self.callback = callback
        self.sink = (CollectedStreamSink(dut, "m_axis", callback) if has_harness(dut)
                     else StreamSink(dut, "m_axis", callback))

    def start(self) -> None:
        self.sink.start()

    def stop(self) -> None:
        self.sink.stop()


class _PinCache(Background):
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


class StreamSink(StreamPins, Background):
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
        if len(self.violations) < MAX_LOGGED:
            logging.getLogger("cocotb.tb").error("stream protocol: %s", message)
        self.violations.append(message)


class CollectedStreamSink(StreamPins):
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
        if len(self._own_violations) < MAX_LOGGED:
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
