"""Two-step TDC: configuration, readout design, interpolator model, and the RTL read path
(ReadControl + Tdc with ``fine_taps``) against :func:`sim_models.interpolator.two_step_codes`."""

import numpy as np
import pytest
from amaranth import DomainRenamer, EnableInserter, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.config import (
    FINE_TAPS,
    FINE_TAPS_MAX_ROWS,
    FULL_FEATURES,
    LIMITS,
    ConfigError,
    MacroConfig,
    profile_config,
)
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import build_regmap
from mram_macro.rtl.periphery.read_control import ReadControl
from mram_macro.rtl.periphery.tdc import Tdc, gray_to_binary
from sim_models.device import DeviceError, DeviceParams
from sim_models.golden import signed_dot
from sim_models.interpolator import (
    FineTableError,
    check_fine_table,
    code_density_histogram,
    code_density_table,
    dnl_inl_lsb,
    ideal_fine_table,
    phase_errors_lsb,
    thermometer,
    two_step_codes,
    widest_code_bin,
)
from sim_models.readout import (
    design_readout,
    designable_fine_taps,
    evaluate_codes,
    evaluate_fine_trips,
    evaluate_trip_cycles,
    tdc_codes,
)
from verif.configs import parse_slug
from verif.unit.sim import run

TWO = dict(FULL_FEATURES, tdc_mode="two_step")
COUNTER = dict(FULL_FEATURES, tdc_mode="counter", stream_width=32)


# -- configuration ------------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "message"), [
    (dict(tdc_mode="flash"),
     "tdc_mode must be one of 'counter', 'coarse', 'two_step', not 'flash'"),
    (dict(TWO, tdc_fine_taps=6), "tdc_fine_taps must be a power of two"),
    (dict(TWO, tdc_fine_taps=64), "tdc_fine_taps must be between 2 and 32"),
    (dict(COUNTER, tdc_fine_taps=16), "only used with tdc_mode='two_step'"),
    (dict(TWO, rows=4, tdc_bits=3, tdc_fine_taps=8), "leaves no coarse bit"),
])
def test_bad_tdc_mode_is_rejected(values, message):
    with pytest.raises(ConfigError, match=message):
        MacroConfig(**values)


def test_slug_names_the_mode_and_parses_back():
    # two_step is the default mode: its slug carries no mode, the others' do
    full = profile_config("full")
    assert full.slug == "r64_c64_t7_w16_s64" and full == MacroConfig(**TWO)
    assert MacroConfig().slug == "r64_c64_t7_w8_s64_noact_1pass_nowv_stream"
    counter = MacroConfig(**COUNTER)
    assert counter.slug == "r64_c64_t7_w16_s32_counter" and parse_slug(counter.slug) == counter
    # the unused tdc_fine_taps=8 that earlier releases saved with a counter build still loads
    assert MacroConfig.from_dict({**counter.to_dict(), "tdc_fine_taps": 8}) == counter
    c = MacroConfig(**TWO, stream_width=32)
    assert c.slug == "r64_c64_t7_w16_s32" and parse_slug(c.slug) == c
    assert parse_slug("r64_c64_t7_w16_s32_two_step") == c      # the mode may be spelled out
    c16 = MacroConfig(**TWO, tdc_fine_taps=16)
    assert c16.slug.endswith("_s64_k16") and parse_slug(c16.slug + "_p3_wp5") == \
        MacroConfig(**TWO, tdc_fine_taps=16, precharge_cycles=3, write_pulse_cycles=5)
    assert (c.fine_taps, c.fine_bits, c.coarse_bits) == (8, 3, 4)
    assert (counter.fine_taps, counter.coarse_bits) == (1, 7)


@pytest.mark.parametrize(("rows", "tdc_bits", "taps"), [
    (64, 7, 8), (217, 8, 8), (218, 8, 4), (256, 9, 4), (8, 4, 8), (4, 3, 4), (3, 2, 2), (2, 2, 2)])
def test_automatic_fine_taps_fit_the_array_and_the_code(rows, tdc_bits, taps):
    """tdc_fine_taps=None picks 8 phases where the readout can be designed for them and a
    coarse bit is left, fewer on tall columns (256 rows: 8 phases need V_ref too near V_pre) and
    narrow codes; an explicit value equal to it is the same configuration (and slug)."""
    c = profile_config("full", rows=rows, tdc_bits=tdc_bits, result_width=16, **TWO)
    assert c.fine_taps == taps and c.fine_bits < c.tdc_bits
    design_readout(rows, DeviceParams(), fine_taps=taps)          # designable: no DeviceError
    if taps < 8 and taps.bit_length() - 1 < tdc_bits - 1:        # the next step up is not
        with pytest.raises(DeviceError):
            design_readout(rows, DeviceParams(), fine_taps=2 * taps)
    same = profile_config("full", rows=rows, tdc_bits=tdc_bits, result_width=16,
                          tdc_fine_taps=taps, **TWO)
    assert same == c and same.slug == c.slug and "_k" not in c.slug


def test_fine_taps_limits_of_the_configuration_match_the_readout_physics():
    """The configuration chooses phases from a table (FINE_TAPS_MAX_ROWS) so that it computes
    no physics; the table is what the readout design gives, on every legal row count."""
    lo, hi = LIMITS["rows"]
    for rows in range(lo, hi + 1):
        from_table = tuple(k for k in FINE_TAPS if rows <= FINE_TAPS_MAX_ROWS[k])
        assert from_table == designable_fine_taps(rows), rows


# -- readout design -----------------------------------------------------------------------------
@pytest.mark.parametrize(("rows", "taps", "t_clk_ns"), [(64, 8, 2.0), (64, 8, 5.0), (64, 16, 5.0),
                                                       (8, 4, 5.0), (13, 2, 5.0), (128, 4, 2.0)])
def test_design_gives_one_lsb_per_mismatch_and_exact_codes(rows, taps, t_clk_ns):
    d = DeviceParams()
    ro = design_readout(rows, d, t_clk_ns=t_clk_ns, fine_taps=taps)
    assert ro.t_fine_ns == pytest.approx(t_clk_ns / taps)
    # One column per mismatch count n: n high cells, rows - n low cells.
    n = np.arange(rows + 1)
    r_col = rows * d.r_cell_low_ohm + n * d.delta_r_ohm
    bits = max(rows.bit_length(), taps.bit_length()) + 1
    codes, overflow = evaluate_codes(r_col, device=d, readout=ro, rows=rows, tdc_bits=bits,
                                     start_delay_cycles=ro.start_delay_cycles)
    assert codes.tolist() == n.tolist() and not overflow.any()
    # The coarse edge is the counter's edge, and the fine trips agree with it.
    m, residue = evaluate_fine_trips(r_col, device=d, readout=ro, rows=rows)
    assert (m == evaluate_trip_cycles(r_col, device=d, readout=ro, rows=rows)).all()
    assert ((residue >= 0) & (residue < taps)).all()


def test_trip_edges_do_not_depend_on_the_clock_period():
    """The design scales with the clock: the same trip edges and thermometers at 2 and 5 ns,
    so cycles per VMM measured at one period hold at the other."""
    d = DeviceParams()
    r_col = 64 * d.r_cell_low_ohm + np.arange(65) * d.delta_r_ohm
    got = []
    for t in (2.0, 5.0):
        ro = design_readout(64, d, t_clk_ns=t, fine_taps=8)
        m, residue = evaluate_fine_trips(r_col, device=d, readout=ro, rows=64)
        got.append((m.tolist(), thermometer(residue, np.zeros(7)).sum(-1).tolist()))
    assert got[0] == got[1]


def test_too_many_taps_for_the_clock_is_a_clear_error():
    with pytest.raises(DeviceError, match="use fewer rows, fewer taps or a longer clock"):
        design_readout(64, DeviceParams(), t_clk_ns=2.0, fine_taps=16)


# -- interpolator model -------------------------------------------------------------------------
def test_ideal_two_step_codes_are_the_counter_codes_in_phase_steps():
    rng = np.random.default_rng(0)
    taps, bits, delay = 8, 7, 3
    x = rng.uniform(0, 200, 5000)                        # trip times in phase steps
    u = np.ceil(x).astype(np.int64)
    m = np.maximum(-(-u // taps), 1)
    therm = thermometer(m * taps - x, np.zeros(taps - 1))
    assert (therm.sum(-1) == m * taps - u).all()
    got = two_step_codes(m, therm, start_delay_cycles=delay, tdc_bits=bits, fine_taps=taps)
    want = tdc_codes(u, start_delay_cycles=delay, tdc_bits=bits, fine_taps=taps)
    assert (got[0] == want[0]).all() and (got[1] == want[1]).all()


def test_phase_errors_are_per_die_and_make_bubbles():
    d = DeviceParams(tdc_phase_sigma_ps=200.0)
    a = phase_errors_lsb(d, 8, 0.25, seed=1)
    assert (a == phase_errors_lsb(d, 8, 0.25, seed=1)).all()
    assert not (a == phase_errors_lsb(d, 8, 0.25, seed=2)).all()
    assert not phase_errors_lsb(DeviceParams(), 8, 0.25, seed=1).any()
    bits = thermometer(np.linspace(0, 8, 4001), a)
    bubbles = (bits[:, 1:] & ~bits[:, :-1]).any(axis=1)   # a 1 above a 0
    assert bubbles.any(), "sigma of 0.8 LSB must give bubbles"


def test_code_density_table_corrects_a_skew_and_inl():
    taps = 8
    skew = np.full(taps - 1, 0.6)
    hist = code_density_histogram(skew, 200_000, seed=3)
    table = check_fine_table(code_density_table(hist), taps)
    _, inl_raw = dnl_inl_lsb(hist)
    _, inl_cal = dnl_inl_lsb(hist, table)
    assert np.abs(inl_raw[1:-1]).max() > 0.5 > np.abs(inl_cal).max()
    ideal = code_density_histogram(np.zeros(taps - 1), 200_000, seed=3)
    assert (code_density_table(ideal) == ideal_fine_table(taps)).all()


@pytest.mark.parametrize(("table", "message"), [
    ([7, 6, 5, 4, 3, 2, 1], "has 8 entries"),
    ([7, 6, 5, 4, 3, 2, 1, 8], r"FINE_TABLE\[7\] must be an integer in 0..7, not 8"),
    ([7, 6, 5, 4, 3, 2, 1, -1], r"FINE_TABLE\[7\] must be an integer in 0..7, not -1"),
    ([7, 6, 5, 6, 3, 2, 1, 0], r"FINE_TABLE\[3\]=6 is above FINE_TABLE\[2\]=5"),
])
def test_bad_fine_table_is_a_clear_host_error(table, message):
    with pytest.raises(FineTableError, match=message):
        check_fine_table(table, 8)


def test_fine_table_registers_reject_values_above_k_minus_1():
    rm = build_regmap(MacroConfig(**TWO), tdc_start_delay=8)
    regs = rm.array("FINE_TABLE")
    assert [r.field("VALUE").reset for r in regs] == ideal_fine_table(8).tolist()
    assert regs[0].check_write(7) is None
    assert "outside" in regs[0].check_write(8)        # answered with SLVERR on the bus
    assert not build_regmap(MacroConfig(**COUNTER), tdc_start_delay=64).array("FINE_TABLE")


def test_golden_two_step_is_exact_and_follows_the_table():
    c = profile_config("full", rows=16, cols=10, tdc_bits=6, result_width=8, **TWO, tdc_fine_taps=4)
    g = MacroDesign.derive(c).golden(seed=5)
    rng = np.random.default_rng(1)
    w = rng.integers(0, 2, (16, 10))
    g.load_weights(w)
    x = rng.integers(0, 2, (300, 16))
    assert (g.vmm_batch(x) == signed_dot(x, w)).all()
    g.fine_table = np.array([3, 3, 1, 0])                  # a (bad) calibration changes codes
    assert (g.vmm_batch(x) != signed_dot(x, w)).any()


# -- RTL: ReadControl + Tdc with an interpolator --------------------------------------------
class TwoStepReadPath(wiring.Component):
    def __init__(self, cols, tdc_bits, taps, decode_held=False, columns_gated=False):
        """``columns_gated``: each column behind a gate of its own enabled by its
        ``code_enable`` (here a clock enable), as the top builds it."""
        self.cols, self.tdc_bits, self.taps = cols, tdc_bits, taps
        self.decode_held, self.columns_gated = decode_held, columns_gated
        fb = taps.bit_length() - 1
        super().__init__({
            "start": In(1), "start_delay": In(16), "cmp": In(cols),
            "fine": In(cols * (taps - 1)), "fine_table": In(taps * fb),
            "idle": Out(1), "done": Out(1), "arr_eval": Out(1),
            "codes": Out(cols * tdc_bits), "overflow": Out(cols),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rc = rc = ReadControl(tdc_bits=self.tdc_bits - (self.taps.bit_length() - 1),
                                           two_step=True)
        tdc = Tdc(cols=self.cols, tdc_bits=self.tdc_bits, fine_taps=self.taps,
                  decode_held=self.decode_held, columns_gated=self.columns_gated,
                  code_domains=tuple(f"col{c}" for c in range(self.cols)))
        enables = {f"col{c}": tdc.code_enable[c] if self.columns_gated else 1
                   for c in range(self.cols)}
        m.submodules.tdc = DomainRenamer(dict.fromkeys(enables, "sync"))(
            EnableInserter(enables)(tdc))
        wiring.connect(m, rc.tdc, tdc.ctl)
        m.d.comb += [
            rc.cmd.start.eq(self.start), rc.precharge_cycles.eq(1),
            rc.start_delay.eq(self.start_delay), self.idle.eq(rc.cmd.idle),
            self.done.eq(rc.cmd.done), self.arr_eval.eq(rc.arr_eval),
            tdc.cmp.eq(self.cmp), tdc.fine.eq(self.fine), tdc.fine_table.eq(self.fine_table),
            self.codes.eq(tdc.codes), self.overflow.eq(tdc.overflow),
        ]
        return m


@pytest.mark.parametrize("columns_gated", [False, True], ids=["enables", "column_gates"])
@pytest.mark.parametrize("decode_held", [False, True], ids=["code_held", "decoded_as_read"])
@pytest.mark.parametrize("seed", [1, 2])
def test_rtl_combines_coarse_and_fine_with_bubbles_and_table(seed, decode_held, columns_gated):
    """The codes of a conversion, as the golden model's; they stay when the samplers reset
    (the precharge). A TDC that holds (coarse, ones, early) and decodes as it is read
    (``decode_held``, the streamed-results build's) gives the same codes and follows a new
    FINE_TABLE."""
    rng = np.random.default_rng(seed)
    cols, bits, taps, delay = 10, 6, 4, 2
    dut = TwoStepReadPath(cols, bits, taps, decode_held, columns_gated)
    new_table = np.sort(rng.integers(0, taps, taps))[::-1]
    m_trip = rng.integers(1, delay + (1 << bits) // taps + 3, size=cols)
    m_trip[0], m_trip[1] = delay + 1, 10_000                 # first code bin; dead
    therm = rng.random((cols, taps - 1)) < 0.5                # any pattern, bubbles included
    table = np.sort(rng.integers(0, taps, taps))[::-1]
    fb = taps.bit_length() - 1
    packed_table = sum(int(v) << (i * fb) for i, v in enumerate(table))
    result = {}

    async def tb(ctx):
        ctx.set(dut.start_delay, delay)
        ctx.set(dut.fine_table, packed_table)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        while not ctx.get(dut.arr_eval):
            await ctx.tick()
        j, cmp, fine = 0, 0, 0
        while not ctx.get(dut.done):
            for c in range(cols):
                if m_trip[c] - 1 == j:        # raised before edge E + m, frozen there
                    cmp |= 1 << c
                    fine |= sum(int(b) << i for i, b in enumerate(therm[c])) << (c * (taps - 1))
            ctx.set(dut.cmp, cmp)
            ctx.set(dut.fine, fine)
            await ctx.tick()
            j += 1
            assert j < 200
        codes = ctx.get(dut.codes)
        result["codes"] = [(codes >> (c * bits)) & ((1 << bits) - 1) for c in range(cols)]
        result["overflow"] = [(ctx.get(dut.overflow) >> c) & 1 for c in range(cols)]
        ctx.set(dut.fine, 0)            # the samplers reset in the next precharge
        await ctx.tick().repeat(2)
        assert ctx.get(dut.codes) == codes, "a code changed with the samplers' reset"
        ctx.set(dut.fine_table, sum(int(v) << (i * fb) for i, v in enumerate(new_table)))
        await ctx.tick()
        codes = ctx.get(dut.codes)
        result["retabled"] = [(codes >> (c * bits)) & ((1 << bits) - 1) for c in range(cols)]

    run(dut, tb)
    codes, overflow = two_step_codes(m_trip, therm, start_delay_cycles=delay, tdc_bits=bits,
                                     fine_taps=taps, fine_table=table)
    assert result["codes"] == codes.tolist()
    assert result["overflow"] == overflow.astype(int).tolist()
    retabled, _ = two_step_codes(m_trip, therm, start_delay_cycles=delay, tdc_bits=bits,
                                 fine_taps=taps, fine_table=new_table)
    assert result["retabled"] == (retabled if decode_held else codes).tolist()


# -- host API -------------------------------------------------------------------------------
def test_host_fine_table_errors_and_calibration():
    from mram_macro.host.api import HostError, Macro

    with Macro.golden(MacroConfig(**COUNTER)) as counter:
        with pytest.raises(HostError, match="only with tdc_mode='two_step'"):
            counter.write_fine_table(ideal_fine_table(8))
    c = profile_config("full", rows=16, cols=6, tdc_bits=6, result_width=8, **TWO)
    skew_ps = 0.8 * (5.0 / 8) * 1e3                       # past the designed trips (0.35 LSB)
    with Macro.golden(c, device=DeviceParams(tdc_phase_skew_ps=skew_ps)) as macro:
        with pytest.raises(HostError, match=r"FINE_TABLE\[7\] must be an integer in 0..7"):
            macro.write_fine_table([7, 6, 5, 4, 3, 2, 1, 9])
        with pytest.raises(HostError, match="code-density histogram"):
            macro.calibrate_fine_table([0] * 8)
        rng = np.random.default_rng(2)
        w = rng.choice((-1, 1), (16, 6))
        macro.write_weights(w)
        x = rng.choice((-1, 1), (200, 16))
        wrong_before = (macro.vmm(x) != x @ w).sum()
        golden = macro.backend.golden
        hist = code_density_histogram(golden.array.phase_errors_lsb(golden.readout), 50_000)
        table = macro.calibrate_fine_table(hist)
        assert (golden.fine_table == table).all()
        wrong_after = (macro.vmm(x) != x @ w).sum()
        assert wrong_before > 0 and wrong_after < wrong_before


def _longest_constant_run(phase_errors, table, taps: int) -> float:
    """Brute force: the longest interval of trip times (phase steps) over which
    :func:`two_step_codes` gives one code, on a fine grid over four clock periods."""
    x = np.arange(1e-4, 5 * taps, 1e-3)
    u = np.ceil(x).astype(np.int64)
    m = np.maximum(-(-u // taps), 1)
    codes, _ = two_step_codes(m, thermometer(m * taps - x, phase_errors), start_delay_cycles=0,
                              tdc_bits=12, fine_taps=taps, fine_table=table)
    changes = np.flatnonzero(np.diff(codes)) + 1
    inside = np.diff(x[changes])                # runs between two code changes
    return float(inside.max())


@pytest.mark.parametrize("seed", range(6))
def test_widest_code_bin_is_the_longest_trip_interval_of_one_code(seed):
    """:func:`widest_code_bin` against a brute-force scan of :func:`two_step_codes`: phase
    errors widen a bin, a table that gives two ones counts one value merges theirs."""
    rng = np.random.default_rng(seed)
    taps = int(rng.choice([2, 4, 8, 16]))
    errors = rng.normal(0, 0.2, taps - 1) if seed else np.zeros(taps - 1)
    table = ideal_fine_table(taps)
    if seed % 2:
        f = int(rng.integers(1, taps))
        table[f] = table[f - 1]                 # ones counts f - 1 and f read alike
    width = widest_code_bin(errors, table)
    assert width == pytest.approx(_longest_constant_run(errors, table, taps), abs=2e-3)
    assert 1.0 <= width <= 1 + (seed % 2) + 2 * np.abs(errors).max() + 1e-12
    if seed % 2:                                # the merged bin: two steps, give or take
        assert width >= 2.0 - 2 * np.abs(errors).max() - 1e-12
    assert widest_code_bin(np.zeros(taps - 1)) == 1.0


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5])
def test_gray_to_binary_inverts_the_gray_code(width):
    """The decoding of the Gray-coded coarse code the two-step columns hold, on every value."""
    from amaranth.sim import Simulator

    gray, binary = Signal(width), Signal(width)
    m = Module()
    m.d.comb += binary.eq(gray_to_binary(gray))
    wrong = []

    async def tb(ctx):
        for v in range(1 << width):
            ctx.set(gray, v ^ (v >> 1))
            if ctx.get(binary) != v:
                wrong.append(v)

    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()
    assert not wrong, f"Gray codes of {wrong} decode wrongly"
