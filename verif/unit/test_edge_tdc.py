"""EdgeCaptureTdc (mram_macro/rtl/periphery/edge_tdc.py): comparators tripping anywhere in the
clock period, the two count copies driven with garbage while they change, against the golden
model's two-step codes (:func:`sim_models.interpolator.two_step_codes`)."""

import numpy as np
import pytest

from mram_macro.rtl.periphery.edge_tdc import EdgeCaptureTdc
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
    ``all_tripped`` after ``take_end``, by key."""
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

    async def bench(ctx):
        fb = dut.fine_bits
        ctx.set(dut.fine_table, sum(int(v) << (i * fb) for i, v in enumerate(table)))
        ctx.set(dut.count_pos, count(-1))
        ctx.set(dut.count_neg, count(-1))
        await ctx.tick()                       # now just after edge E
        cmp = fine = 0
        for j in range(periods):
            # this period's events, in phase steps since its rising edge: the count copies
            # change at their edges (with ``garbage``, they are garbage from 0.4 of a step
            # before their edge to 0.4 after it: a counter in flux, seen by a capture
            # flip-flop's setup and hold window), comparators at their trip times
            if garbage:
                todo = [(0.4, "pos", None), (k - 0.4, "pos garbage", None),
                        (k / 2 - 0.4, "neg garbage", None), (k / 2 + 0.4, "neg", None)]
            else:
                todo = [(0.0, "pos", None), (k / 2, "neg", None)]
            todo += [(t - j * k, "trip", c) for t, c in events if j * k <= t < (j + 1) * k]
            now = 0.0
            for t, what, c in sorted(todo, key=lambda e: e[0]):
                if t > now:
                    await ctx.delay((t - now) * step)
                    now = t
                if what == "pos":
                    ctx.set(dut.count_pos, count(j))
                elif what == "neg":
                    ctx.set(dut.count_neg, count(j))
                elif what.endswith("garbage"):
                    port = dut.count_pos if what.startswith("pos") else dut.count_neg
                    ctx.set(port, int(rng.integers(0, 1 << dut.count_bits)))
                else:
                    cmp |= 1 << c
                    fine |= sum(int(b) << i for i, b in enumerate(therm[c])) << (c * (k - 1))
                    ctx.set(dut.cmp, cmp)
                    ctx.set(dut.fine, fine)    # held from the trip to the precharge
            await ctx.tick()
        ctx.set(dut.take_end, 1)
        await ctx.tick()
        ctx.set(dut.take_end, 0)
        await ctx.tick()
        codes = ctx.get(dut.codes)
        bits = dut.tdc_bits
        out["codes"] = [(codes >> (c * bits)) & ((1 << bits) - 1) for c in range(cols)]
        out["overflow"] = [(ctx.get(dut.overflow) >> c) & 1 for c in range(cols)]
        out["all"] = ctx.get(dut.all_tripped)

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
    errors = np.clip(rng.normal(0.0, 0.3, k - 1), -0.6, 0.6)
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
])
def test_bad_parameters_are_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EdgeCaptureTdc(**kwargs)


def test_each_columns_count_registers_are_clocked_by_its_comparator():
    """The point of the block: the count copies sit on the comparators' clocks (one edge per
    conversion), only the ones counts and overflow flags on ``clk``."""
    import re

    from amaranth.back import verilog

    cols = 3
    dut = EdgeCaptureTdc(cols=cols, tdc_bits=7, fine_taps=8)
    text = verilog.convert(dut, name="edge_tdc", emit_src=False)
    clocks = set(re.findall(r"always @\(posedge ([^)]+)\)", text))
    assert clocks == {"clk", *(f"cmp[{c}]" for c in range(cols))}
    for c in range(cols):
        block = text.split(f"always @(posedge cmp[{c}])", 1)[1].split("end", 1)[0]
        assert f"count_pos{c}" in block and f"count_neg{c}" in block
