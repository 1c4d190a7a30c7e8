"""Pin-level stand-in for the analogue MRAM array in cocotb simulations of the macro.

:class:`CocotbMramArray` listens to the macro's ``arr_*`` output pins and drives ``arr_cmp``
back, using the NumPy models of :mod:`sim_models.array` and :mod:`sim_models.readout`. It is the
only path by which the simulated array changes state: weights arrive through write pulses, never
through a back door, so a broken write path shows up as wrong results.

Sampling discipline: the model reads pins only at FALLING edges of ``dut.clk``, and drives them
there too for a macro that samples ``arr_cmp`` (the macro changes its outputs just after rising
edges and samples ``arr_cmp`` at rising edges, so half a period separates every model action
from every RTL action, on every simulator). An edge-capture macro's comparators are clocks: a
column may also rise at a rising edge, where only the count copy its zone does not read
changes (so either order of the two in a simulator's time step gives the same code).

Timing contract (see :mod:`sim_models.readout`): evaluation starts at the rising edge ``E`` where
the macro raises ``arr_eval``; the model first sees it at the falling edge ``E + 1/2``. A column
with trip index ``m`` (``m >= 1``) raises ``arr_cmp[c]`` at the falling edge ``E + m - 1/2``, so the
RTL first sees it high at edge ``E + m``; for a macro whose TDC captures on the comparators'
edges (``tdc_capture="edge"``) at ``E + m - 1``, ``E + m - 1/2`` or ``E + m`` by where its
samplers put the trip in the period (:meth:`_ArrayPins.raise_half_edges`). ``arr_cmp`` then
stays high until ``arr_pre`` is seen.
With a two-step TDC (``readout.fine_taps > 1``) the model also plays the interpolator
(:mod:`sim_models.interpolator`): column ``c``'s sampler bits on ``arr_fine`` change together
with ``arr_cmp[c]`` (they are frozen at edge ``E + m``) and clear with it at the precharge.

Two implementations keep this contract bit for bit:

* :class:`HarnessCocotbMramArray` (the default inside the test harness of
  :mod:`mram_macro.sim.harness`) wakes once per evaluation, at ``E + 1/2``: it computes every
  column's trip index (and sampler bits) and hands them to the harness' comparator scheduler in
  one write; the harness raises the bits at their edges, resets them at the precharge and checks
  the array protocol in HDL. Python runs again only for write pulses.
* :class:`CocotbMramArray` (the default on the bare macro) is event driven: it wakes only when
  ``arr_eval``, ``arr_pre`` or ``arr_wr_pulse`` move, and schedules each group of comparator
  edges with a ``Timer`` computed from the trip times, so an evaluation costs one wake-up per
  distinct trip index and idle or busy clocks cost nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import FallingEdge, RisingEdge, Timer, ValueChange

from mram_macro.sim.harness import (
    ARRAY_VIOLATION_KINDS,
    SCHEDULER_PORTS,
    TRIP_BITS,
    SchedulerLayout,
)
from sim_models.array import ArrayModelError, MramArray
from sim_models.readout import ReadoutParams

__all__ = ["CocotbMramArray", "HarnessCocotbMramArray", "ArrayProtocolError",
           "has_scheduler"]


class ArrayProtocolError(AssertionError):
    """The macro drove the array pins against the array's protocol (raised by :meth:`check`)."""


def _bits(value: int, n: int) -> np.ndarray:
    """Bit ``i`` of ``value`` at index ``i`` (LSB first), as a bool array of length ``n``."""
    raw = value.to_bytes(-(-n // 8) or 1, "little")
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:n].astype(bool)


@dataclass(frozen=True)
class _Pins:
    """One falling-edge sample of the macro's array outputs."""

    time_ns: float
    pre: bool
    eval: bool
    wr_pulse: bool
    bypass_l: int
    bypass_r: int


class _ArrayPins:
    """The analogue array as seen from the macro's ``arr_*`` pins.

    ``array`` holds the die (resistances and MTJ states) and is updated by write pulses;
    ``readout`` gives the trip-time model and the clock period. Protocol violations are collected
    in :attr:`violations` and reported by :meth:`check`; a write the array cannot accept (row
    select not one-hot) raises :class:`~sim_models.array.ArrayModelError` from the model's task,
    which fails the running cocotb test.
    """

    def __init__(self, dut, array: MramArray, readout: ReadoutParams, *,
                 log: logging.Logger | None = None, edge_capture: bool = False):
        if not isinstance(edge_capture, bool):
            raise TypeError(f"edge_capture must be a bool, not {edge_capture!r}")
        if edge_capture and readout.fine_taps < 4:
            raise ValueError(f"edge_capture needs a two-step readout of at least 4 phases, not "
                             f"{readout.fine_taps}")
        #: The macro's TDC captures on the comparators' edges (``tdc_capture="edge"``): each
        #: column rises where its zone's count copy is still (:meth:`raise_half_edges`).
        self.edge_capture = edge_capture
        if not isinstance(array, MramArray):
            raise TypeError(f"array must be a MramArray, not {type(array).__name__}")
        if not isinstance(readout, ReadoutParams):
            raise TypeError(f"readout must be a ReadoutParams, not {type(readout).__name__}")
        self.dut = dut
        self.array = array
        self.readout = readout
        self.rows, self.cols = array.rows, array.cols
        self.log = log or logging.getLogger("cocotb.mram_array")
        self._clk = dut.clk
        self._pre, self._eval = dut.arr_pre, dut.arr_eval
        self._bypass_l, self._bypass_r = dut.arr_bypass_l, dut.arr_bypass_r
        self._cmp = dut.arr_cmp
        self._fine_taps = readout.fine_taps
        self._fine = None
        if self._fine_taps > 1:
            self._fine = getattr(dut, "arr_fine", None)
            width = self.cols * (self._fine_taps - 1)
            if self._fine is None or len(self._fine) != width:
                raise ValueError(f"the readout has a {self._fine_taps}-phase interpolator: the "
                                 f"macro needs an arr_fine pin of {width} bits")
        self._wr_pulse, self._wr_row = dut.arr_wr_pulse, dut.arr_wr_row
        self._wr_side, self._wr_data = dut.arr_wr_side, dut.arr_wr_data
        for name, sig, width in (("arr_bypass_l", self._bypass_l, self.rows),
                                 ("arr_bypass_r", self._bypass_r, self.rows),
                                 ("arr_cmp", self._cmp, self.cols),
                                 ("arr_wr_row", self._wr_row, self.rows),
                                 ("arr_wr_data", self._wr_data, self.cols)):
            if len(sig) != width:
                raise ValueError(f"{name} is {len(sig)} bits wide, but the array model has "
                                 f"{width} ({self.rows} rows x {self.cols} cols)")
        self._tasks: list = []
        self.clear_counters()
        #: Columns whose comparator is dead (fault injection): their ``arr_cmp`` never rises.
        self.dead_columns: set[int] = set()
        # weights per evaluation (set_weight_schedule) and the evaluations it has served
        self._weight_schedule: Callable[[int], np.ndarray] | None = None
        self._scheduled = 0
        self._cmp_value = 0
        self._fine_value = 0
        #: Two-step TDC: raise time (half periods) -> the arr_fine bits its columns freeze then.
        self._fine_groups: dict[int, int] = {}
        self._precharged = False
        self._last: _Pins | None = None
        # Evaluation in progress: time of the first falling edge that saw arr_eval, bypass pins,
        # and the pending (raise time h, column mask) groups, smallest h first (half periods
        # from falling edge 0, which is h = 1: raise_half_edges).
        self._eval_t0_ns = 0.0
        self._eval_bypass = (0, 0)
        self._pending: list[tuple[int, int]] = []
        # Write pulse in progress.
        self._wr_cycles = 0
        self._wr_capture: tuple[int, int, int] | None = None

    # -- public state ---------------------------------------------------------------------------
    def set_weight_schedule(self, weights: Callable[[int], np.ndarray] | None) -> None:
        """Weights per evaluation (a network's tiles, one pass each: the power workloads):
        ``weights(i)`` gives the ``rows x cols`` weight bits the array holds for the ``i``-th
        evaluation from now (0: the next), loaded by back door before its trip times are drawn;
        ``None`` stops it (the array keeps what it holds)."""
        if weights is not None and not callable(weights):
            raise TypeError(f"weights must be a callable or None, not {type(weights).__name__}")
        self._weight_schedule, self._scheduled = weights, 0

    def clear_counters(self) -> None:
        """Forget the counters, the last evaluation's trip edges and the violations so far."""
        #: Human-readable protocol violations, in order of detection.
        self.violations: list[str] = []
        #: Evaluations seen (rising edges of arr_eval) and write pulses applied to the array.
        self.evaluations = 0
        self.writes_applied = 0
        #: Trip index m of every column in the last evaluation, and its maximum.
        self.last_trip_cycles: np.ndarray | None = None
        self.last_max_trip_cycles: int | None = None
        #: The slowest column's m of every evaluation since the counters were cleared.
        self.max_trip_history: list[int] = []

    def start(self) -> None:
        """Drive ``arr_cmp`` low and start listening to the pins."""
        if self._tasks:
            raise RuntimeError("the array model is already running")
        self._cmp.value = 0
        if self._fine is not None:
            self._fine.value = 0
        self._tasks = [cocotb.start_soon(coro) for coro in self._coroutines()]

    def _coroutines(self) -> list:
        raise NotImplementedError

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    def check(self) -> None:
        """Raise :class:`ArrayProtocolError` listing every protocol violation seen so far."""
        if self.violations:
            shown = "\n  ".join(self.violations[:20])
            extra = len(self.violations) - 20
            more = f"\n  ... and {extra} more" if extra > 0 else ""
            raise ArrayProtocolError(
                f"{len(self.violations)} array protocol violation(s):\n  {shown}{more}")

    # -- pin access -----------------------------------------------------------------------------
    def _read(self, name: str, sig, now_ns: float) -> int:
        try:
            return int(sig.value)
        except ValueError:
            self._violate(now_ns, f"{name} is not 0/1 (value {sig.value})")
            return 0

    def _violate(self, now_ns: float, message: str) -> None:
        text = f"t={now_ns:.1f} ns: {message}"
        if text not in self.violations[-8:]:  # the main loop and a watcher may both see it
            if len(self.violations) < 10:
                self.log.error("array protocol violation: %s", message)
            self.violations.append(text)

    def _sample(self) -> _Pins:
        now = get_sim_time("ns")
        return _Pins(time_ns=now,
                     pre=bool(self._read("arr_pre", self._pre, now)),
                     eval=bool(self._read("arr_eval", self._eval, now)),
                     wr_pulse=bool(self._read("arr_wr_pulse", self._wr_pulse, now)),
                     bypass_l=self._read("arr_bypass_l", self._bypass_l, now),
                     bypass_r=self._read("arr_bypass_r", self._bypass_r, now))

    def _reset_comparators(self) -> None:
        """The precharge: every comparator (and interpolator sampler) back low."""
        self._pending = []
        self._drive_fine(0)
        self._drive_cmp(0)

    def _drive_fine(self, value: int) -> None:
        if self._fine is not None and value != self._fine_value:
            self._fine_value = value
            self._fine.value = value

    def _drive_cmp(self, value: int) -> None:
        for column in self.dead_columns:
            value &= ~(1 << column)
        if value != self._cmp_value:
            self._cmp_value = value
            self._cmp.value = value

    # -- behaviour ------------------------------------------------------------------------------
    def _half_edges_since_eval_start(self, now_ns: float) -> int:
        """The raise time ``h`` of ``now`` (falling edge 0 is 1; each clock edge adds 1)."""
        return round(2 * (now_ns - self._eval_t0_ns) / self.readout.t_clk_ns) + 1

    def raise_half_edges(self, m: np.ndarray, therm: np.ndarray | None) -> np.ndarray:
        """When each column's comparator rises, in half periods ``h`` from falling edge 0
        (``h = 1``; rising edge ``E + j`` is ``2j``, falling edge ``j`` is ``2j + 1``), from
        its trip index ``m`` (the first rising edge after the trip) and sampler bits.

        A sampled TDC: ``2m - 1``, the falling edge before the edge that first sees it (half
        a period from every RTL action). Edge capture: in the trip's zone of the period (the
        samplers' ones count ``f``, about the phase steps from the trip to edge ``E + m``;
        mram_macro/rtl/periphery/edge_tdc.py): ``f >= 3K/4`` (the period's first quarter, where
        the count may be taken old or new and the falling-edge parity resolves it): the
        period's rising edge, ``2m - 2``; ``f < K/4`` (the last quarter, likewise): the next
        rising edge, ``2m``; otherwise (the count taken as it is): the falling edge,
        ``2m - 1``. So what a zone reads as it is never changes at the raise, as in silicon,
        where the raise is at least a quarter period from its update. No earlier than
        ``h = 1``, when the model has armed (a trip in the first quarter of period 0 is before
        the front end is on: the start delay of an edge-capture build is at least 2)."""
        m = np.asarray(m, dtype=np.int64)
        if not self.edge_capture:
            return 2 * m - 1
        k = self._fine_taps
        ones = np.asarray(therm, dtype=bool).reshape(len(m), k - 1).sum(axis=1)
        h = np.where(ones >= 3 * k // 4, 2 * m - 2, np.where(ones < k // 4, 2 * m, 2 * m - 1))
        return np.maximum(h, 1)

    def _start_evaluation(self, s: _Pins) -> None:
        self.evaluations += 1
        if self._weight_schedule is not None:
            self.array.load_weights(self._weight_schedule(self._scheduled))
            self._scheduled += 1
        if not self._precharged:
            self._violate(s.time_ns, "evaluation started without a precharge since the last one")
        self._precharged = False
        self._eval_t0_ns = s.time_ns
        self._eval_bypass = (s.bypass_l, s.bypass_r)
        # Same die, same readout contract and same per-evaluation noise draw as the golden model.
        bypass = (_bits(s.bypass_l, self.rows), _bits(s.bypass_r, self.rows))
        therm = None
        if self._fine is None:
            m = self.array.evaluate_trip_cycles(*bypass, self.readout)
        else:
            m, therm = self.array.evaluate_fine_trips(*bypass, self.readout)
        if m.min() < 1:
            raise ArrayModelError(f"trip index below 1 (m={m.min()}): check the readout model")
        h = self.raise_half_edges(m, therm)
        if therm is not None:
            self._fine_groups = self._fine_bits_by_trip(h, therm)
        self.last_trip_cycles = m
        #: Raise time (half periods, :meth:`raise_half_edges`) of every column in the last
        #: evaluation.
        self.last_raise_half_edges = h
        self.last_max_trip_cycles = int(m.max())
        self.max_trip_history.append(self.last_max_trip_cycles)
        self._pending = self._trip_groups(h)

    def _trip_groups(self, h: np.ndarray) -> list[tuple[int, int]]:
        """``(raise time, column mask)`` of the array's columns, earliest first."""
        masks: dict[int, int] = {}     # raise time -> columns rising then
        for column, trip in enumerate(h.tolist()):
            masks[trip] = masks.get(trip, 0) | (1 << column)
        return sorted(masks.items())

    def _fine_bits_by_trip(self, h: np.ndarray, therm: np.ndarray) -> dict[int, int]:
        """``arr_fine`` bits of each raise time's group: column c's ``K - 1`` sampler bits at
        ``c (K - 1)``, dead columns left out."""
        taps = self._fine_taps - 1
        flat = np.asarray(therm, dtype=bool).reshape(-1)
        packed = int.from_bytes(np.packbits(flat, bitorder="little").tobytes(), "little")
        groups: dict[int, int] = {}
        column_mask = (1 << taps) - 1
        for column, trip in enumerate(h.tolist()):
            if column in self.dead_columns:
                continue
            bits = packed & (column_mask << (column * taps))
            if bits:
                groups[trip] = groups.get(trip, 0) | bits
        return groups

    def _raise_due(self, now_ns: float) -> None:
        """Raise every column whose raise time is now or earlier."""
        h = self._half_edges_since_eval_start(now_ns)
        value, fine = self._cmp_value, self._fine_value
        while self._pending and self._pending[0][0] <= h:
            trip, mask = self._pending.pop(0)
            value |= mask
            fine |= self._fine_groups.get(trip, 0)
        self._drive_fine(fine)
        self._drive_cmp(value)

    def _check(self, s: _Pins, last: _Pins) -> None:
        """Protocol checks on one falling-edge sample (``last``: the previous one)."""
        if s.pre and s.eval:
            self._violate(s.time_ns, "arr_pre and arr_eval are high together")
        if s.wr_pulse and (s.pre or s.eval):
            self._violate(s.time_ns, "arr_wr_pulse is high while arr_pre or arr_eval is high")
        if s.eval and last.eval and (s.bypass_l, s.bypass_r) != self._eval_bypass:
            self._violate(s.time_ns, "arr_bypass_l/arr_bypass_r changed while arr_eval is high")
            self._eval_bypass = (s.bypass_l, s.bypass_r)

    def _apply_write(self, now_ns: float) -> None:
        row, side, data = self._wr_capture
        cycles = self._wr_cycles
        self._wr_capture, self._wr_cycles = None, 0
        try:
            self.array.write(_bits(row, self.rows), side, _bits(data, self.cols),
                             pulse_ns=cycles * self.readout.t_clk_ns)
        except ArrayModelError as exc:
            self._violate(now_ns, f"write pulse rejected by the array: {exc}")
            raise
        self.writes_applied += 1

    def _capture_write(self, now_ns: float) -> None:
        """One falling edge of a write pulse: latch row/side/data, count the cycle."""
        capture = (self._read("arr_wr_row", self._wr_row, now_ns),
                   self._read("arr_wr_side", self._wr_side, now_ns),
                   self._read("arr_wr_data", self._wr_data, now_ns))
        if self._wr_capture is None:
            self._wr_capture, self._wr_cycles = capture, 1
        else:
            if capture != self._wr_capture:
                self._violate(now_ns, "arr_wr_row/side/data changed during a write pulse")
            self._wr_cycles += 1


class CocotbMramArray(_ArrayPins):
    """The event-driven pin model (see the module docstring).

    Wake-ups: the rise of ``arr_eval`` (then its first falling clock edge, where the pins are
    sampled and the trip indices computed), one ``Timer`` per distinct trip index, the fall of
    ``arr_eval`` (which stops the discharge), the rise of ``arr_pre`` (comparators reset at the
    next falling edge), every falling edge of a write pulse, and changes of the bypass pins,
    which are checked only while an evaluation is under way (:meth:`_check`, at the falling
    edges).
    """

    def __init__(self, dut, array: MramArray, readout: ReadoutParams, *,
                 log: logging.Logger | None = None, edge_capture: bool = False):
        super().__init__(dut, array, readout, log=log, edge_capture=edge_capture)
        self._schedule = None       # the task raising this evaluation's comparators
        self._timers: dict[int, Timer] = {}
        self._evaluating = False    # between the sample of an evaluation start and arr_eval's fall
        self._eval_start: _Pins | None = None

    def _coroutines(self) -> list:
        # arr_pre and arr_wr_pulse rising during an evaluation are caught where they are acted
        # on (_precharges, _write_pulses); only the bypass pins need watchers of their own.
        return [self._evaluations(), self._evaluation_ends(), self._precharges(),
                self._write_pulses(), self._watch_during_eval(self._bypass_l),
                self._watch_during_eval(self._bypass_r)]

    def stop(self) -> None:
        if self._schedule is not None:
            self._schedule.cancel()
            self._schedule = None
        super().stop()

    async def _evaluations(self) -> None:
        rise, falling = RisingEdge(self._eval), FallingEdge(self._clk)
        idle = _Pins(0.0, False, False, False, 0, 0)
        while True:
            await rise
            await falling
            s = self._sample()
            if not s.eval:
                continue  # gone again before the array could see it
            self._check(s, idle)
            self._start_evaluation(s)
            self._evaluating, self._eval_start = True, s
            self._raise_due(s.time_ns)
            if self._pending:
                self._schedule = cocotb.start_soon(self._trip_schedule())

    async def _trip_schedule(self) -> None:
        """Raise each remaining group of columns at its falling edge (cancelled when arr_eval
        falls: the discharge stops, no further column trips)."""
        while self._pending:
            now = get_sim_time("ns")
            k = self._pending[0][0] - self._half_edges_since_eval_start(now)
            if k > 0:
                await self._half_periods(k)
            self._raise_due(get_sim_time("ns"))
        self._schedule = None

    def _half_periods(self, k: int) -> Timer:
        """A Timer of ``k`` half clock periods (one object per ``k``: Timers are reusable)."""
        timer = self._timers.get(k)
        if timer is None:
            timer = self._timers[k] = Timer(k * self.readout.t_clk_ns / 2, "ns")
        return timer

    async def _evaluation_ends(self) -> None:
        fall = FallingEdge(self._eval)
        while True:
            await fall
            self._evaluating = False
            self._pending = []
            if self._schedule is not None:
                self._schedule.cancel()
                self._schedule = None

    async def _precharges(self) -> None:
        rise, falling = RisingEdge(self._pre), FallingEdge(self._clk)
        while True:
            await rise
            await falling
            if self._evaluating:    # arr_pre rose during an evaluation: a violation
                self._check(self._sample(), self._eval_start)
            if self._read("arr_pre", self._pre, get_sim_time("ns")):
                self._precharged = True
                self._reset_comparators()

    async def _write_pulses(self) -> None:
        """A write pulse is timed edge by edge (writes are rare: only while programming)."""
        rise, falling = RisingEdge(self._wr_pulse), FallingEdge(self._clk)
        while True:
            await rise
            await falling
            while True:
                s = self._sample()
                if not s.wr_pulse:
                    break
                self._check(s, self._eval_start if self._evaluating else s)
                self._capture_write(s.time_ns)
                await falling
            if self._wr_capture is not None:
                self._apply_write(s.time_ns)

    async def _watch_during_eval(self, sig) -> None:
        """Check the pins at the first falling edge after ``sig`` changes during an evaluation."""
        falling, change = FallingEdge(self._clk), ValueChange(sig)
        while True:
            await change
            if not self._evaluating:
                continue
            await falling
            s = self._sample()
            if s.eval and self._evaluating:
                self._check(s, self._eval_start)


def has_scheduler(dut) -> bool:
    """Is ``dut`` the test harness with the comparator scheduler
    (:mod:`mram_macro.sim.harness`)?"""
    return all(hasattr(dut, name) for name in SCHEDULER_PORTS)


class HarnessCocotbMramArray(_ArrayPins):
    """The pin model inside the test harness: comparator edges by the harness' scheduler (see
    the module docstring and :mod:`mram_macro.sim.harness`).

    Wake-ups: one per evaluation (``tb_arr_evals`` changes at its falling edge 0, where the
    bypass pins are sampled, the trip indices computed and the schedule written), and every
    falling edge of a write pulse. The protocol checks of the other models run in the harness;
    :meth:`check` reports them with the write path's own.

    What is scheduled comes from the parent's bookkeeping of each evaluation: the array's
    columns from :attr:`last_trip_cycles` (dead columns never trip), their sampler bits from the
    thermometer of :meth:`~sim_models.array.MramArray.evaluate_fine_trips`, and any further
    scheduled column (the replica columns of :mod:`mram_macro.sim.replica_pins`: bit ``cols + j``
    of a comparator mask) from the ``(trip, mask)`` groups of ``_pending`` with, for a build with
    replica sampler pins, its bits at ``(cols + j) (K - 1)`` in the ``_fine_groups`` masks.
    """

    def __init__(self, dut, array: MramArray, readout: ReadoutParams, *,
                 log: logging.Logger | None = None, edge_capture: bool = False):
        super().__init__(dut, array, readout, log=log, edge_capture=edge_capture)
        if not has_scheduler(dut):
            raise ValueError("the DUT is not the test harness with a comparator scheduler "
                             "(mram_macro.sim.harness): use CocotbMramArray")
        self._sched, self._evals = dut.tb_arr_sched, dut.tb_arr_evals
        self._bypass_both, self._rows_mask = dut.tb_arr_bypass, (1 << self.rows) - 1
        self._hdl = (dut.tb_arr_violations, dut.tb_arr_violation_kinds,
                     dut.tb_arr_first_violation_ns)
        width = {name: len(getattr(dut, name)) for name in
                 ("arr_bypass_l", "arr_cmp", "arr_fine", "arr_ref_cmp", "arr_ref_fine")
                 if hasattr(dut, name)}
        self.layout = SchedulerLayout.of_ports(width)
        if len(self._sched) != self.layout.width:
            raise ValueError(f"tb_arr_sched is {len(self._sched)} bits, the layout of the "
                             f"macro's pins needs {self.layout.width}")
        if self.layout.fine_bits != max(0, self._fine_taps - 1):
            raise ValueError(f"the harness schedules {self.layout.fine_bits} sampler bits per "
                             f"column, the readout has {self._fine_taps} fine taps")
        # The harness outlives this model (tests run one after another): carry on from the
        # schedule number it last saw.
        try:
            self._gen = (int(self._sched.value) >> 1) & 1
        except ValueError:
            self._gen = 0
        self._trips = np.zeros(self.layout.columns, dtype="<u2")
        self._therm_packed = 0
        self._hdl_seen = 0      # harness violations before clear_counters()

    def _coroutines(self) -> list:
        return [self._evaluations(), self._write_pulses()]

    def start(self) -> None:
        self._hdl_seen = self._hdl_count()
        self._write_schedule(enable=True)
        super().start()

    def stop(self) -> None:
        super().stop()
        self._write_schedule(enable=False)

    def clear_counters(self) -> None:
        super().clear_counters()
        if hasattr(self, "_hdl"):
            self._hdl_seen = self._hdl_count()

    def _hdl_count(self) -> int:
        try:
            return int(self._hdl[0].value)
        except ValueError:
            return 0

    def check(self) -> None:
        n = self._hdl_count() - self._hdl_seen
        if n > 0:
            kinds = int(self._hdl[1].value)
            text = "; ".join(t for bit, t in ARRAY_VIOLATION_KINDS.items() if kinds & bit)
            first = int(self._hdl[2].value)
            self._hdl_seen += n
            self.violations.append(f"t={first:.1f} ns (first of {n}, seen by the harness): "
                                   f"{text}")
        super().check()

    def _write_schedule(self, *, enable: bool) -> None:
        self._sched.value = self.layout.pack(enable=enable, gen=self._gen,
                                             trips=self._trips.tobytes(),
                                             fine=self._therm_packed)

    def _trip_groups(self, h: np.ndarray) -> list[tuple[int, int]]:
        """None: the array's columns are scheduled from :attr:`last_raise_half_edges` (further
        groups, e.g. the replica columns', are added to ``_pending`` after this)."""
        return []

    def _fine_bits_by_trip(self, h: np.ndarray, therm: np.ndarray) -> dict[int, int]:
        """All sampler bits at once (the harness raises each column's with its comparator)."""
        flat = np.asarray(therm, dtype=bool).reshape(-1)
        self._therm_packed = int.from_bytes(np.packbits(flat, bitorder="little").tobytes(),
                                            "little")
        return {}

    async def _evaluations(self) -> None:
        change = ValueChange(self._evals)
        while True:
            await change
            now = get_sim_time("ns")
            both = self._read("arr_bypass_l/arr_bypass_r", self._bypass_both, now)
            s = _Pins(time_ns=now, pre=False, eval=True, wr_pulse=False,
                      bypass_l=both >> self.rows, bypass_r=both & self._rows_mask)
            self._precharged = True     # checked by the harness
            self._start_evaluation(s)
            self._arm()

    def _arm(self) -> None:
        """Write this evaluation's schedule (at its falling edge 0)."""
        cols, top = self.cols, (1 << TRIP_BITS) - 1
        trips = self._trips
        trips[:cols] = np.minimum(self.last_raise_half_edges, top)
        trips[cols:] = 0
        for column in self.dead_columns:
            trips[column] = 0
        fine = self._therm_packed
        if self._fine is not None:
            taps = self._fine_taps - 1
            for column in self.dead_columns:
                fine &= ~(((1 << taps) - 1) << (column * taps))
        for trip, mask in self._pending:
            extra = mask >> cols
            while extra:
                low = extra & -extra
                trips[cols + low.bit_length() - 1] = min(trip, top)
                extra ^= low
        for bits in self._fine_groups.values():
            fine |= bits
        self._therm_packed = fine & ((1 << self.layout.fine_bits * self.layout.fine_columns) - 1)
        self._pending = []
        self._gen ^= 1
        self._write_schedule(enable=True)

    async def _write_pulses(self) -> None:
        """A write pulse is timed edge by edge (writes are rare: only while programming)."""
        rise, falling = RisingEdge(self._wr_pulse), FallingEdge(self._clk)
        while True:
            await rise
            await falling
            while True:
                now = get_sim_time("ns")
                if not self._read("arr_wr_pulse", self._wr_pulse, now):
                    break
                self._capture_write(now)
                await falling
            if self._wr_capture is not None:
                self._apply_write(now)
