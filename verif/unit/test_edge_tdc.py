"""EdgeCaptureTdc (mram_macro/rtl/periphery/edge_tdc.py): comparators tripping anywhere in the
clock period, the two count copies driven with garbage while they change, against the golden
model's two-step codes (:func:`sim_models.interpolator.two_step_codes`)."""

import numpy as np
import pytest
from amaranth import DomainRenamer, EnableInserter, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.edge_tdc import EDGE_ERROR_STEPS, EdgeCaptureTdc, edge_budget_steps
from mram_macro.rtl.periphery.read_control import ReadControl
from sim_models.interpolator import ideal_fine_table, thermometer, two_step_codes
from verif.unit.sim import run

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

#: The simulation's clock period (s).
PERIOD_S = 8e-9


def _gray(v: int) -> int:
    return v ^ (v >> 1)


def _convert(dut: EdgeCaptureTdc, trips_steps, therm, delay: int, table, *, garbage: bool,
             seed: int = 0):
    """One conversion: column ``c`` trips ``trips_steps[c]`` phase steps after the rising edge
    ``E`` that starts the evaluation (None: never). Returns the codes, overflow flags and
    ``all_fired`` (synchronised) after ``take_end``, by key."""
    k = dut.fine_taps
    step = PERIOD_S / k
    cols = dut.cols
    rng = np.random.default_rng(seed)
    last = max((t for t in trips_steps if t is not None), default=0)
    periods = int(last // k) + 3
    events = sorted((t, c) for c, t in enumerate(trips_steps) if t is not None)
    out = {}

    def count(j: int) -> int:
        """The biased count of the period after edge E + j (edge_tdc.py: coarse + 2)."""
        return _gray(min(max(j - delay + 2, 0), dut.late))

    def parity(j: int) -> int:
        return bin(count(j)).count("1") & 1        # a Gray code's parity: the binary's bit 0

    async def bench(ctx):
        fb = dut.fine_bits
        ctx.set(dut.fine_table, sum(int(v) << (i * fb) for i, v in enumerate(table)))
        ctx.set(dut.ctl.count_pos, count(-1))
        ctx.set(dut.ctl.parity_neg, parity(-1))
        ctx.set(dut.ctl.enable, 1)
        await ctx.tick()                       # now just after edge E
        cmp = fine = 0
        late = edge_budget_steps(k)
        for j in range(periods):
            # This period's events, in phase steps since its rising edge: the broadcasts
            # change at their edges, comparators at their trip times. With ``garbage`` each
            # is in flux from 0.4 of a step before its edge (a capture flip-flop's setup and
            # hold window) to the budget after it (the broadcast's delay, edge_budget_steps):
            # count_pos, a Gray code, is then taken old or new by each trip (one bit differs,
            # which resolves either way), parity_neg is garbage.
            if garbage:
                todo = [(late, "pos", None), (k - 0.4, "pos flux", None),
                        (k / 2 - 0.4, "neg garbage", None), (k / 2 + late, "neg", None)]
                flux = (count(j - 1), count(j))          # until `late`
            else:
                todo = [(0.0, "pos", None), (k / 2, "neg", None)]
                flux = None
            todo += [(t - j * k, "trip", c) for t, c in events if j * k <= t < (j + 1) * k]
            now = 0.0
            for t, what, c in sorted(todo, key=lambda e: e[0]):
                if t > now:
                    await ctx.delay((t - now) * step)
                    now = t
                if what == "pos":
                    ctx.set(dut.ctl.count_pos, count(j))
                    flux = None
                elif what == "pos flux":
                    flux = (count(j), count(j + 1))
                elif what == "neg":
                    ctx.set(dut.ctl.parity_neg, parity(j))
                elif what == "neg garbage":
                    ctx.set(dut.ctl.parity_neg, int(rng.integers(0, 2)))
                else:
                    if flux is not None:
                        ctx.set(dut.ctl.count_pos, flux[int(rng.integers(0, 2))])
                    cmp |= 1 << c
                    fine |= sum(int(b) << i for i, b in enumerate(therm[c])) << (c * (k - 1))
                    ctx.set(dut.cmp, cmp)
                    ctx.set(dut.fine, fine)    # held from the trip to the precharge
            await ctx.tick()
        ctx.set(dut.ctl.take_end, 1)
        await ctx.tick()
        ctx.set(dut.ctl.take_end, 0)
        await ctx.tick()
        codes = ctx.get(dut.codes)
        bits = dut.tdc_bits
        out["codes"] = [(codes >> (c * bits)) & ((1 << bits) - 1) for c in range(cols)]
        out["overflow"] = [(ctx.get(dut.overflow) >> c) & 1 for c in range(cols)]
        out["all"] = ctx.get(dut.ctl.all_fired)

    run(dut, bench, period_s=PERIOD_S)
    return out


def _golden(trips_steps, therm, delay, k, bits, table):
    """m (the first rising edge after the trip, counted from E) of each column, and the
    golden codes."""
    m = np.array([10**6 if t is None else int(t // k) + 1 for t in trips_steps])
    return two_step_codes(m, therm, start_delay_cycles=delay, tdc_bits=bits, fine_taps=k,
                          fine_table=table)


@pytest.mark.parametrize("garbage", [False, True], ids=["still_counts", "counts_in_flux"])
@pytest.mark.parametrize(("k", "bits", "seed"), [(4, 5, 1), (8, 7, 2), (8, 6, 3)])
def test_codes_of_trips_anywhere_in_the_period_match_the_golden_model(k, bits, seed, garbage):
    """Trips at random times (early, in range, late, never), the samplers' thermometer code
    from each trip's residue; with the count copies garbage just after their updates the
    codes are the same: each copy is read only where it was still."""
    rng = np.random.default_rng(seed)
    cols, delay = 24, 2
    cb = bits - (k.bit_length() - 1)
    span = (delay + (1 << cb) + 2) * k
    trips = [float(t) for t in rng.uniform(0.05, span, cols)]
    # every zone of the period, and both ends of the code range
    trips[:6] = [delay * k + 0.1, delay * k + k / 2 + 0.05, (delay + 1) * k - 0.05,
                 (delay + (1 << cb)) * k - 0.2, (delay + (1 << cb)) * k + 0.3, 0.3]
    trips[6] = None
    residue = np.array([k - (t % k) if t is not None else k / 2 for t in trips])
    therm = thermometer(residue, np.zeros(k - 1))
    table = ideal_fine_table(k)
    dut = EdgeCaptureTdc(cols=cols, tdc_bits=bits, fine_taps=k)
    got = _convert(dut, trips, therm, delay, table, garbage=garbage, seed=seed)
    codes, overflow = _golden(trips, therm, delay, k, bits, table)
    assert got["codes"] == codes.tolist(), [(c, t) for c, t in enumerate(trips)]
    assert got["overflow"] == overflow.astype(int).tolist()
    assert got["all"] == 0                       # column 6 never tripped


@pytest.mark.parametrize("seed", [4, 5])
def test_phase_errors_and_a_calibrated_table_keep_the_codes_of_the_golden_model(seed):
    """Samplers with phase errors (bubbles included) and a FINE_TABLE other than the ideal:
    a trip's ones count is off by up to a step near a zone's edge, which the quarter-period
    margin covers (K = 8: each copy is read at least a step from its update)."""
    rng = np.random.default_rng(seed)
    cols, delay, k, bits = 32, 1, 8, 7
    span = (delay + (1 << (bits - 3)) + 1) * k
    trips = [float(t) for t in rng.uniform(0.05, span, cols)]
    residue = np.array([k - (t % k) for t in trips])
    errors = np.clip(rng.normal(0.0, 0.3, k - 1), -EDGE_ERROR_STEPS, EDGE_ERROR_STEPS)
    therm = thermometer(residue, errors)
    table = np.sort(rng.integers(0, k, k))[::-1]
    dut = EdgeCaptureTdc(cols=cols, tdc_bits=bits, fine_taps=k)
    got = _convert(dut, trips, therm, delay, table, garbage=True, seed=seed)
    codes, overflow = _golden(trips, therm, delay, k, bits, table)
    assert got["codes"] == codes.tolist()
    assert got["overflow"] == overflow.astype(int).tolist()
    assert got["all"] == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(cols=4, tdc_bits=5, fine_taps=2), "from 4"),
    (dict(cols=4, tdc_bits=5, fine_taps=6), "power of two"),
    (dict(cols=4, tdc_bits=2, fine_taps=4), "below 2\\*\\*tdc_bits"),
    (dict(cols=0, tdc_bits=5, fine_taps=4), "cols must be a positive integer"),
    (dict(cols=4, tdc_bits=True, fine_taps=4), "tdc_bits must be a positive integer"),
    (dict(cols=4, tdc_bits=5, fine_taps=4, take_domain="a b"), "take_domain must be a domain"),
    (dict(cols=4, tdc_bits=5, fine_taps=4, sync_domain=3), "sync_domain must be a domain"),
])
def test_bad_parameters_are_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EdgeCaptureTdc(**kwargs)
    with pytest.raises(TypeError, match="take_gated must be a bool"):
        EdgeCaptureTdc(cols=4, tdc_bits=5, fine_taps=4, take_gated=1)


@pytest.mark.parametrize("take_gated", [False, True])
def test_comparator_edges_while_the_front_end_is_off_leave_the_codes(take_gated):
    """The codes of a conversion stay while it is read: a comparator that rises with
    ``enable`` low clocks nothing (its count registers keep the held conversion's count), and
    once ``enable`` rises it is taken then, as a trip at that moment. ``take_gated``: the
    ones counts' domain is clocked only on ``take_end`` edges (the bench gates it so)."""
    k, bits, delay = 8, 7, 2
    dut = EdgeCaptureTdc(cols=2, tdc_bits=bits, fine_taps=k, take_gated=take_gated,
                         take_domain="take" if take_gated else "sync")
    out = []

    def gray(j):
        return _gray(min(max(j - delay + 2, 0), dut.late))

    async def bench(ctx):
        ctx.set(dut.fine_table, sum(int(v) << (i * 3) for i, v in enumerate(ideal_fine_table(k))))
        ctx.set(dut.ctl.enable, 1)
        ctx.set(dut.ctl.count_pos, gray(4))       # mid-period of period 4: coarse 2
        ctx.set(dut.ctl.parity_neg, 1)
        ctx.set(dut.fine, 0b0001111 | 0b0001111 << 7)      # 4 ones each: mid-period
        await ctx.tick()
        ctx.set(dut.cmp, 0b01)
        await ctx.tick()
        ctx.set(dut.ctl.take_end, 1)
        await ctx.tick()
        ctx.set(dut.ctl.take_end, 0)
        out.append((ctx.get(dut.codes), ctx.get(dut.overflow)))
        # the next conversion: precharged, front end off; column 1 rises before it is on
        ctx.set(dut.cmp, 0)
        ctx.set(dut.ctl.enable, 0)
        await ctx.tick()
        ctx.set(dut.ctl.count_pos, gray(7))
        ctx.set(dut.ctl.parity_neg, 0)
        ctx.set(dut.cmp, 0b10)
        await ctx.tick()
        out.append((ctx.get(dut.codes), ctx.get(dut.overflow)))   # still the held codes
        ctx.set(dut.ctl.enable, 1)                 # column 1 is taken now
        await ctx.tick()
        ctx.set(dut.ctl.take_end, 1)
        await ctx.tick()
        ctx.set(dut.ctl.take_end, 0)
        out.append((ctx.get(dut.codes), ctx.get(dut.overflow)))

    top = dut
    if take_gated:      # the take domain clocked only on take_end edges
        top = DomainRenamer({"take": "sync"})(EnableInserter({"take": dut.ctl.take_end})(dut))
    run(top, bench, period_s=PERIOD_S)
    held = (2 * k + 3) | (2 * k + 3) << bits       # coarse 2, fine_table[4] = 3
    first = (held & ((1 << bits) - 1), 0b10)        # column 1 had not tripped: overflow
    assert out[0] == (first[0] | ((1 << bits) - 1) << bits, 0b10)
    assert out[1] == out[0]
    # column 1 taken at enable's rise with count 7 (coarse 5), column 0 not tripped
    assert out[2] == ((1 << bits) - 1 | (5 * k + 3) << bits, 0b01)


def test_each_columns_count_registers_are_clocked_by_its_comparator():
    """The point of the block: the count copies sit on the comparators' clocks (one edge per
    conversion, each its comparator ANDed with the front end's enable), only the ones counts,
    overflow flags and the all-fired synchroniser on ``clk``."""
    import re

    from amaranth.back import verilog

    cols = 3
    dut = EdgeCaptureTdc(cols=cols, tdc_bits=7, fine_taps=8)
    text = verilog.convert(dut, name="edge_tdc", emit_src=False)
    clocks = set(re.findall(r"always @\(posedge ([^)]+)\)", text))
    # column c's comparator, gated by the front end's enable
    assert clocks == {"clk", *(f"tripped[{c}]" for c in range(cols))}
    assert f"assign tripped = cmp & {{ {', '.join(['ctl__enable'] * cols)} }};" in text
    for c in range(cols):
        block = text.split(f"always @(posedge tripped[{c}])", 1)[1].split("end", 1)[0]
        assert f"count_pos{c}" in block and f"parity_neg{c}" in block


class EdgeReadPath(wiring.Component):
    """ReadControl(edge_capture=True) driving an EdgeCaptureTdc, as in the top (the
    synchroniser of ``all_fired`` clocked only while ``arr_tdc_en`` is high: a clock enable
    here, the top's gate ``g_sync``)."""

    def __init__(self, cols, tdc_bits, fine_taps, *, stream_hold=False):
        self.cols, self.tdc_bits, self.fine_taps = cols, tdc_bits, fine_taps
        self.fine_bits = fine_taps.bit_length() - 1
        self.stream_hold = stream_hold
        hold = ({"hold": In(1), "hold_beats": In(16), "hold_stalled": In(1)} if stream_hold
                else {})
        super().__init__({
            "start": In(1), "precharge_cycles": In(8), "start_delay": In(16), "cmp": In(cols),
            "fine": In(cols * (fine_taps - 1)), "fine_table": In(fine_taps * self.fine_bits),
            **hold, "done": Out(1), "arr_pre": Out(1), "arr_eval": Out(1), "arr_tdc_en": Out(1),
            "codes": Out(cols * tdc_bits), "overflow": Out(cols),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rc = rc = ReadControl(tdc_bits=self.tdc_bits - self.fine_bits,
                                           two_step=True, edge_capture=True,
                                           stream_hold=self.stream_hold)
        tdc = EdgeCaptureTdc(cols=self.cols, tdc_bits=self.tdc_bits, fine_taps=self.fine_taps,
                             sync_domain="gsync")
        m.submodules.tdc = DomainRenamer({"gsync": "sync"})(
            EnableInserter({"gsync": rc.arr_tdc_en})(tdc))
        wiring.connect(m, rc.tdc, tdc.ctl)
        if self.stream_hold:
            m.d.comb += [rc.hold.eq(self.hold), rc.hold_beats.eq(self.hold_beats),
                         rc.hold_stalled.eq(self.hold_stalled)]
        m.d.comb += [
            rc.cmd.start.eq(self.start), rc.precharge_cycles.eq(self.precharge_cycles),
            rc.start_delay.eq(self.start_delay), self.done.eq(rc.cmd.done),
            self.arr_pre.eq(rc.arr_pre), self.arr_eval.eq(rc.arr_eval),
            self.arr_tdc_en.eq(rc.arr_tdc_en), tdc.cmp.eq(self.cmp), tdc.fine.eq(self.fine),
            tdc.fine_table.eq(self.fine_table), self.codes.eq(tdc.codes),
            self.overflow.eq(tdc.overflow),
        ]
        return m


@pytest.mark.parametrize(("k", "bits", "delay", "seed"), [(8, 7, 8, 11), (4, 6, 2, 12),
                                                          (8, 6, 3, 13), (8, 6, 2, 14)])
def test_read_control_and_edge_tdc_give_the_golden_codes_of_trips_in_continuous_time(
        k, bits, delay, seed):
    """The read control's count copies and the end of the evaluation with the columns, over
    back-to-back conversions: comparators trip at random times anywhere in the period (not
    at clock edges), also before the front end is on (they are seen when it turns on) and
    after the window (overflow), and each comparator stays high until the precharge."""
    cols, conversions = 16, 6
    period = PERIOD_S
    step = period / k
    rng = np.random.default_rng(seed)
    cb = bits - (k.bit_length() - 1)
    dut = EdgeReadPath(cols, bits, k)
    table = ideal_fine_table(k)
    got, want = [], []

    async def bench(ctx):
        ctx.set(dut.fine_table, sum(int(v) << (i * (k.bit_length() - 1))
                                    for i, v in enumerate(table)))
        ctx.set(dut.precharge_cycles, 2)
        ctx.set(dut.start_delay, delay)
        for n in range(conversions):
            span = (delay + (1 << cb) + 2) * k
            trips = rng.uniform(0.05, span, cols)
            trips[n % cols] = rng.uniform(0.05, delay * k)        # before the front end
            # the first quarter of each period up to code 0, where the count taken may be
            # the previous period's and the parity decides (period 0's count matters there)
            for j in range(1, delay + 1):
                trips[(n + j) % cols] = rng.uniform(j * k + 0.05, j * k + k / 4 - 0.05)
            residue = k - (trips % k)
            therm = thermometer(residue, np.zeros(k - 1))
            m = (trips // k).astype(int) + 1
            codes, overflow = two_step_codes(m, therm, start_delay_cycles=delay, tdc_bits=bits,
                                             fine_taps=k, fine_table=table)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            while not ctx.get(dut.arr_eval):
                await ctx.tick()                 # now just after edge E
            # the comparators rise at their trip times, as long as arr_eval holds (the
            # discharge stops when it falls); the samplers freeze with them
            cmp = fine = 0
            now = 0.0
            for t, c in sorted(zip(trips.tolist(), range(cols), strict=True)):
                while (t - now) * step >= period:
                    await ctx.tick()
                    now = (now // k + 1) * k
                    if not ctx.get(dut.arr_eval):
                        break
                if not ctx.get(dut.arr_eval):
                    break
                if t > now:
                    await ctx.delay((t - now) * step)
                    now = t
                cmp |= 1 << c
                fine |= sum(int(b) << i for i, b in enumerate(therm[c])) << (c * (k - 1))
                ctx.set(dut.cmp, cmp)
                ctx.set(dut.fine, fine)
            while not ctx.get(dut.done):
                await ctx.tick()
            out = ctx.get(dut.codes)
            got.append(([(out >> (c * bits)) & ((1 << bits) - 1) for c in range(cols)],
                        [(ctx.get(dut.overflow) >> c) & 1 for c in range(cols)]))
            want.append((codes.tolist(), overflow.astype(int).tolist()))
            ctx.set(dut.cmp, 0)                   # the next precharge resets them
            ctx.set(dut.fine, 0)

    run(dut, bench, period_s=PERIOD_S, deadline_cycles=4000)
    assert len(got) == len(want) == conversions
    for n, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"conversion {n}"


def test_edge_read_control_refuses_a_sampled_tdc():
    with pytest.raises(ValueError, match="edge_capture needs a two-step TDC"):
        ReadControl(tdc_bits=4, edge_capture=True)
    with pytest.raises(TypeError, match="edge_capture must be a bool"):
        ReadControl(tdc_bits=4, two_step=True, edge_capture=1)
