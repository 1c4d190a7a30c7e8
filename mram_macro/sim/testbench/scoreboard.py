"""Checker of the cocotb testbench: every result frame against the reference model's prediction.

:class:`Expected` is one prediction (made when the vector is sent); :class:`Scoreboard` pairs
the received frames with them in order and compares them bit for bit (padding and ``tuser``
included), in batches.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import Event

from mram_macro.design.config import MacroConfig
from mram_macro.design.layouts import pack_result_vector, result_flags, unpack_result_vector
from mram_macro.sim.testbench.streams import MAX_LOGGED, ResultFrame

__all__ = ["Expected", "Scoreboard"]


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
    :attr:`values` call, and every :data:`BATCH` frames.
    """

    #: Frames held before a batch comparison is forced.
    BATCH = 256

    def __init__(self, config: MacroConfig, log: logging.Logger):
        self.config = config
        self.log = log
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
        if len(self._mismatches) < MAX_LOGGED:
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
        if len(self._unchecked) >= self.BATCH:
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
