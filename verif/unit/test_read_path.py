"""ReadControl + Tdc against the readout timing contract of sim_models/readout.py."""

import numpy as np
import pytest
from amaranth import DomainRenamer, EnableInserter, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.read_control import ReadControl
from mram_macro.rtl.periphery.tdc import SYNC_STAGES, Tdc
from sim_models.readout import tdc_codes
from verif.unit.sim import run


class ReadPath(wiring.Component):
    """ReadControl wired to a Tdc, as in the top: the synchronisers clocked only while
    ``arr_tdc_en`` is high (the top's clock gate ``g_sync``; here a clock enable, which is the
    same to every register), and so are the columns' code registers (the top's column gates sit
    behind ``g_sync``: a capture or window end while ``arr_tdc_en`` is low would be lost)."""

    def __init__(self, cols, tdc_bits, columns_gated=False):
        """``columns_gated``: each column's registers behind a gate of their own, enabled by
        its ``code_enable`` (the top's ``g_tdc<c>``, here clock enables), and written without
        enable multiplexers (``Tdc(columns_gated=True)``, the top's build)."""
        self.cols, self.tdc_bits, self.columns_gated = cols, tdc_bits, columns_gated
        super().__init__({
            "start": In(1), "precharge_cycles": In(8), "start_delay": In(16), "cmp": In(cols),
            "idle": Out(1), "done": Out(1), "arr_pre": Out(1), "arr_eval": Out(1),
            "arr_tdc_en": Out(1), "codes": Out(cols * tdc_bits), "overflow": Out(cols),
            "code_enable": Out(cols),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rc = rc = ReadControl(tdc_bits=self.tdc_bits)
        tdc = Tdc(cols=self.cols, tdc_bits=self.tdc_bits, sync_domain="gsync",
                  code_domains=tuple(f"gcode{c}" for c in range(self.cols)),
                  columns_gated=self.columns_gated)
        enables = {f"gcode{c}": rc.arr_tdc_en & (tdc.code_enable[c] if self.columns_gated
                                                 else 1) for c in range(self.cols)}
        m.submodules.tdc = DomainRenamer({"gsync": "sync", **dict.fromkeys(enables, "sync")})(
            EnableInserter({"gsync": rc.arr_tdc_en, **enables})(tdc))
        wiring.connect(m, rc.tdc, tdc.ctl)
        m.d.comb += [
            rc.cmd.start.eq(self.start), rc.precharge_cycles.eq(self.precharge_cycles),
            rc.start_delay.eq(self.start_delay), self.idle.eq(rc.cmd.idle),
            self.done.eq(rc.cmd.done), self.arr_pre.eq(rc.arr_pre), self.arr_eval.eq(rc.arr_eval),
            self.arr_tdc_en.eq(rc.arr_tdc_en), tdc.cmp.eq(self.cmp),
            self.codes.eq(tdc.codes), self.overflow.eq(tdc.overflow),
            self.code_enable.eq(tdc.code_enable),
        ]
        return m


def _conversion(dut, m_trip, delay, precharge, glitch=()):
    """One conversion with comparators tripping at edges E + m_trip; returns
    (codes, overflow, precharge cycles seen, evaluate cycles, and ``tdc_en``: the edges
    ``j`` (counted from E) before which ``arr_tdc_en`` was high). ``glitch``: edges ``j``
    before which every comparator is driven high on top of its trips (a comparator must not be
    looked at while ``arr_tdc_en`` is low)."""
    return _conversions(dut, [m_trip], delay, precharge, glitch)[0]


def _conversions(dut, trips, delay, precharge, glitch=()):
    """Back-to-back conversions in one simulation, the i-th with comparators tripping at
    edges E + trips[i]; a result (as :func:`_conversion`) per conversion."""
    cols, bits = dut.cols, dut.tdc_bits
    results = []

    async def tb(ctx):
        ctx.set(dut.precharge_cycles, precharge)
        ctx.set(dut.start_delay, delay)
        ctx.set(dut.cmp, (1 << cols) - 1)   # stale comparators from a previous pass
        for m_trip in trips:
            results.append(await _one(ctx, m_trip))

    async def _one(ctx, m_trip):
        result = {}
        while not ctx.get(dut.idle):
            await ctx.tick()
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        pre = 0
        while not ctx.get(dut.arr_eval):
            assert ctx.get(dut.arr_pre)
            pre += 1
            ctx.set(dut.cmp, 0)            # the precharge resets the comparators
            await ctx.tick()
        # Now just after edge E: j counts edges since E.
        j, cmp, evaluate, tdc_en = 0, 0, 0, []
        while not ctx.get(dut.done):
            for c in range(cols):
                if m_trip[c] - 1 == j:
                    cmp |= 1 << c
            ctx.set(dut.cmp, (1 << cols) - 1 if j in glitch else cmp)
            evaluate += ctx.get(dut.arr_eval)
            if ctx.get(dut.arr_tdc_en):
                assert ctx.get(dut.arr_eval), "arr_tdc_en outside the evaluation"
                tdc_en.append(j)
            else:       # the column gates' parent is closed: no column may take a code
                assert not ctx.get(dut.code_enable), f"a column captures at edge {j} while " \
                    f"arr_tdc_en is low"
            assert not (ctx.get(dut.arr_eval) and ctx.get(dut.arr_pre))
            # Long start delays: jump over edges where no comparator moves. The next trip is
            # inside the window, so neither all_fired nor the window end can come first.
            nxt = min((int(m) - 1 for m in m_trip if m - 1 > j), default=None)
            if nxt is not None and nxt - j > 16 and nxt < delay + (1 << bits) and not glitch:
                skip = nxt - j - 1
                await ctx.tick().repeat(skip)
                j += skip
                evaluate += skip
            await ctx.tick()
            j += 1
            assert j < delay + (1 << bits) + 16, "conversion did not end"
        codes = ctx.get(dut.codes)
        result["codes"] = [(codes >> (c * bits)) & ((1 << bits) - 1) for c in range(cols)]
        result["overflow"] = [(ctx.get(dut.overflow) >> c) & 1 for c in range(cols)]
        result["pre"], result["evaluate"], result["tdc_en"] = pre, evaluate, tdc_en
        return result

    run(dut, tb)
    return results


GATED = pytest.mark.parametrize("columns_gated", [False, True], ids=["enables", "column_gates"])


@GATED
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_codes_match_readout_contract(seed, columns_gated):
    rng = np.random.default_rng(seed)
    cols, bits = 12, 4
    delay = int(rng.integers(0, 6))
    precharge = int(rng.integers(1, 4))
    # Trip edges spread over: too early, every in-window code, the last code, never.
    m_trip = rng.integers(1, delay + (1 << bits) + 4, size=cols)
    m_trip[0] = delay + (1 << bits)          # last valid slot: max code, no overflow
    m_trip[1] = delay + (1 << bits) + 1      # one edge too late: overflow
    m_trip[2] = 10_000                       # dead comparator
    dut = ReadPath(cols, bits, columns_gated)
    got = _conversion(dut, m_trip, delay, precharge)
    codes, overflow = tdc_codes(m_trip, start_delay_cycles=delay, tdc_bits=bits)
    assert got["codes"] == codes.tolist()
    assert got["overflow"] == overflow.astype(int).tolist()
    assert got["pre"] == precharge
    assert got["overflow"][2] == 1 and got["codes"][2] == (1 << bits) - 1


def test_conversion_ends_when_all_columns_fired():
    cols, bits, delay = 4, 5, 3
    m_trip = np.array([5, 6, 7, 8])
    dut = ReadPath(cols, bits)
    got = _conversion(dut, m_trip, delay, 1)
    assert got["codes"] == [1, 2, 3, 4]
    # Last trip seen at edge E+8, captured two synchroniser stages later, then eval drops.
    assert got["evaluate"] == 8 + 2 + 1
    assert got["evaluate"] < delay + (1 << bits)


@GATED
def test_every_conversion_overwrites_every_code(columns_gated):
    """The codes are not cleared at the start of a conversion (tdc.py): each column's new code
    (a capture, or the window end's saturation code) must replace the previous one, whatever
    it was, also for a column that fires in one pass and is dead in the next."""
    cols, bits, delay = 6, 4, 2
    window = delay + (1 << bits)
    trips = [np.array([window, delay + 1, 10_000, delay + 5, window + 1, delay + 2]),
             np.array([delay + 1, window, delay + 3, 10_000, delay + 2, delay + 2]),
             np.array([10_000] * cols),
             np.array([delay + 1 + c for c in range(cols)])]
    dut = ReadPath(cols, bits, columns_gated)
    for m_trip, got in zip(trips, _conversions(dut, trips, delay, 1), strict=True):
        codes, overflow = tdc_codes(m_trip, start_delay_cycles=delay, tdc_bits=bits)
        assert got["codes"] == codes.tolist(), f"trips at edges {m_trip.tolist()}"
        assert got["overflow"] == overflow.astype(int).tolist()


@GATED
def test_dead_comparator_times_out(columns_gated):
    cols, bits, delay = 3, 3, 2
    dut = ReadPath(cols, bits, columns_gated)
    got = _conversion(dut, np.array([10**6] * cols), delay, 2)
    assert got["overflow"] == [1, 1, 1]
    assert got["codes"] == [7, 7, 7]


#: TDC_START_DELAY and PRECHARGE_CYCLES at their edges (the register map's 0 / 1 and maxima).
_DELAY_MAX, _PRECHARGE_MAX = (1 << 16) - 1, 255


@pytest.mark.parametrize(("delay", "precharge"), [(0, 1), (0, _PRECHARGE_MAX), (1, 1),
                                                  (_DELAY_MAX, 1)],
                         ids=["delay0-pre1", "delay0-pre255", "delay1", "delay-max"])
def test_timing_registers_at_their_edges(delay, precharge):
    """A comparator that trips on the very first edge of the evaluation (m = 1) gets code 0
    with a zero start delay, m = 2 code 1, ...: a capture enabled one edge late would shift
    them (it shows only with TDC_START_DELAY = 0). The maximum delay and precharge work too."""
    cols, bits = 6, 3
    m_trip = np.array([1, 2, 3, delay + 1, delay + (1 << bits), delay + (1 << bits) + 1])
    dut = ReadPath(cols, bits)
    got = _conversion(dut, m_trip, delay, precharge)
    codes, overflow = tdc_codes(m_trip, start_delay_cycles=delay, tdc_bits=bits)
    assert got["codes"] == codes.tolist(), f"delay {delay}: trips at edges {m_trip.tolist()}"
    assert got["overflow"] == overflow.astype(int).tolist()
    assert got["pre"] == precharge
    if delay == 0:
        assert got["codes"][:3] == [0, 1, 2]


@pytest.mark.parametrize("delay", [0, 1, 2, 5, 9])
def test_front_end_on_from_one_cycle_before_the_first_sample(delay):
    """``arr_tdc_en`` is high on the evaluation's cycles from ``t = D - 1`` (``t = 0`` for D <= 1)
    to its end, and comparators that trip before it (even at the first edge) still get code 0,
    those just after code 0 and 1: the codes of the always-on front end (the contract)."""
    cols, bits = 6, 4
    m_trip = np.array([1, max(delay - 1, 1), max(delay, 1), delay + 1, delay + 2, delay + 7])
    dut = ReadPath(cols, bits)
    got = _conversion(dut, m_trip, delay, 1)
    codes, overflow = tdc_codes(m_trip, start_delay_cycles=delay, tdc_bits=bits)
    assert got["codes"] == codes.tolist()
    assert got["overflow"] == overflow.astype(int).tolist()
    # cycles j = 0 .. evaluate - 1 of the evaluation; the front end from max(D - 1, 0)
    assert got["tdc_en"] == list(range(max(delay - 1, 0), got["evaluate"]))
    # the evaluation ends S + 1 edges after the last trip is seen, or after the front end
    # has flushed its synchronisers if every trip came before it
    assert got["evaluate"] == max(int(m_trip.max()), delay) + SYNC_STAGES + 1


@pytest.mark.parametrize("delay", [3, 6])
def test_comparators_are_not_looked_at_before_the_front_end_is_on(delay):
    """Every comparator driven high on the cycles before ``arr_tdc_en`` rises (and low again)
    changes no code: a TDC whose synchronisers or capture ran from ``arr_eval`` would take
    code 0 for every column."""
    cols, bits = 4, 4
    m_trip = np.array([delay + 1, delay + 2, delay + 4, delay + 9])
    dut = ReadPath(cols, bits)
    got = _conversion(dut, m_trip, delay, 2, glitch=range(delay - 1))
    codes, _ = tdc_codes(m_trip, start_delay_cycles=delay, tdc_bits=bits)
    assert got["codes"] == codes.tolist() == [0, 1, 3, 8]


def _held_evaluation(delay, precharge, beats, stall_edges, stall_from=0):
    """ReadControl with ``stream_hold``: ``start`` with a stream of ``beats`` beats still to go,
    one beat leaving per edge except that the ``stall_edges`` edges from edge ``stall_from`` on
    accept none (``hold_stalled`` is high from the edge after the first such cycle, as the
    serializer's ``stalled``). Per cycle from the start: (arr_pre, arr_eval, tdc.clear,
    tdc.capture, hold)."""
    dut = ReadControl(tdc_bits=3, stream_hold=True)
    trace = []

    async def tb(ctx):
        ctx.set(dut.precharge_cycles, precharge)
        ctx.set(dut.start_delay, delay)
        ctx.set(dut.cmd.start, 1)
        left, stall, stalled = beats, stall_edges, 0
        for edge in range(4 * (delay + precharge + beats + stall_edges + stall_from) + 40):
            ctx.set(dut.hold, left != 0)
            ctx.set(dut.hold_beats, left)
            ctx.set(dut.hold_stalled, stalled)
            trace.append(tuple(ctx.get(s) for s in (dut.arr_pre, dut.arr_eval, dut.tdc.clear,
                                                    dut.tdc.capture, dut.hold)))
            await ctx.tick()
            ctx.set(dut.cmd.start, 0)
            if stall and edge >= stall_from and left:
                stall -= 1
                stalled = 1
            elif left:
                left -= 1
            if ctx.get(dut.cmd.done):
                break

    run(dut, tb)
    return trace


@pytest.mark.parametrize("delay", [0, 1, 3, 8])
def test_held_codes_precharge_waits_for_the_stream(delay):
    """A stream that leaves at one beat per cycle is never overwritten: the precharge lasts
    until the beats left fit in the edges before the first capture, so no evaluation is
    abandoned and the first capture comes after the last beat (with the default start delay
    the precharge is not extended at all)."""
    beats = 12
    trace = _held_evaluation(delay, precharge=2, beats=beats, stall_edges=0)
    evals = [i for i, t in enumerate(trace) if t[1]]
    clears = [i for i, t in enumerate(trace) if t[2]]
    captures = [i for i, t in enumerate(trace) if t[3]]
    assert len(clears) == 1, "an evaluation was abandoned although the stream never stalled"
    assert captures and not any(trace[i][4] for i in captures), "captured over held codes"
    assert captures[0] >= beats
    if delay + SYNC_STAGES >= beats:
        assert evals[0] == 3        # start, two precharge cycles: not extended
    else:
        # the capture comes right after the last beat, not later than it must (with D = 0
        # one edge later: the synchronisers' S edges, not D + S, come first then)
        assert captures[0] == beats + (delay == 0)


def test_held_codes_stream_stalled_before_the_start_is_waited_for():
    """A stream that has stalled before the evaluation would start is waited for to its end:
    no evaluation is wasted, and the first capture comes after the last beat."""
    trace = _held_evaluation(delay=8, precharge=2, beats=6, stall_edges=12)
    clears = [i for i, t in enumerate(trace) if t[2]]
    captures = [i for i, t in enumerate(trace) if t[3]]
    assert len(clears) == 1, "an evaluation was abandoned behind a stream known to stall"
    assert captures and not any(trace[i][4] for i in captures)
    assert not trace[clears[0]][4], "the evaluation started while the stalled stream lasted"


def test_held_codes_stalled_stream_abandons_the_evaluation():
    """An evaluation that reaches its first capture edge while the stream, which stalled only
    after the evaluation began, still holds the codes is abandoned (arr_eval falls, tdc_clear
    again, a new precharge) and run again; no capture happens while the stream holds them."""
    trace = _held_evaluation(delay=2, precharge=2, beats=4, stall_edges=20, stall_from=3)
    clears = [i for i, t in enumerate(trace) if t[2]]
    captures = [i for i, t in enumerate(trace) if t[3]]
    assert captures and not any(trace[i][4] for i in captures)
    # a clear either starts an evaluation (the last precharge cycle) or abandons one
    starts = [i for i in clears if trace[i][0]]
    abandons = [i for i in clears if trace[i][1]]
    assert sorted(starts + abandons) == clears and abandons, "no evaluation was abandoned"
    assert len(starts) == len(abandons) + 1     # every abandoned evaluation is run again
    for i in abandons:      # it ends there: arr_eval falls, the precharge starts again
        assert trace[i][4] and not trace[i + 1][1] and trace[i + 1][0]
