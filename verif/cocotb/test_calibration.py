"""cocotb tests of the macro's calibration through its own interfaces: raw TDC codes to
CAL_OFFSET, the two-step TDC's code-density FINE_TABLE, per-column CAL_GAIN and the temperature
tracker, every result checked bit for bit against the golden model.

Part of the suite :data:`verif.cocotb.MACRO_SUITE` (run with :mod:`verif.cocotb.test_macro`);
parameters as there (:mod:`verif.cocotb.fixtures`).
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotbext.axi import AxiResp

from mram_macro.design.config import MacroConfig
from mram_macro.sim.testbench.budgets import field_range
from mram_macro.sim.testbench.model import T_CLK_NS
from mram_macro.sim.testbench.params import run_config
from sim_models.calibration import cal_offsets_from_codes, reference_patterns
from sim_models.device import DeviceParams
from sim_models.golden import signed_dot
from sim_models.interpolator import (
    check_fine_table,
    code_density_histogram,
    code_density_table,
    design_trip_residue,
    ideal_fine_table,
    widest_code_bin,
)
from sim_models.readout import design_readout
from sim_models.replica import replica_swing_lsb
from verif.cocotb.fixtures import TEST_TIMEOUT_MS, _start, not_applicable, skip_test


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_calibration_through_the_bus(dut):
    """Host calibration on a die with the paper's spread, through the macro's own interfaces:
    raw TDC codes (MODE.RAW_CODES) for reference patterns come back on m_axis, the host
    computes CAL_OFFSET values and writes them; the result error against the exact products
    must fall. Every result is also checked bit for bit against the golden model."""
    if run_config().tdc_mode == "coarse":
        not_applicable("test_calibration_through_the_bus",
                       "tdc_mode='coarse' has no CAL_OFFSET: its code -> value table is "
                       "calibrated through LUT_ENTRY (verif/cocotb/test_coarse.py)")
        return
    env = await _start(dut, seed_offset=20, device=DeviceParams.paper())
    c = env.config
    w = env.model.intended_weights.copy()
    test_x = np.array([env.random_vector() for _ in range(64)])

    async def errors(xs):
        first = len(env.scoreboard.values)
        for x in xs:
            await env.send_vector(x)
        await env.drain()
        got = np.array(env.scoreboard.values[first:])
        return got - signed_dot(xs.astype(np.int64), w.astype(np.int64))

    before = await errors(test_x)
    patterns = reference_patterns(c.rows, 8, seed=env.rng.getrandbits(31))
    codes = await env.read_raw_codes(patterns)
    offsets = cal_offsets_from_codes(patterns, w, codes, tdc_bits=c.tdc_bits,
                                     result_width=c.result_width)
    for reg, value in zip(env.regmap.array("CAL_OFFSET"), offsets, strict=True):
        await env.write_reg(reg.name, int(value))
    await env.write_reg("MODE", 0)
    after = await errors(test_x)
    await env.finish()
    mae_before, mae_after = np.abs(before).mean(), np.abs(after).mean()
    env.log.info("calibration through the bus: mean |error| %.3f -> %.3f, RMS %.3f -> %.3f",
                 mae_before, mae_after, np.sqrt((before ** 2).mean()),
                 np.sqrt((after ** 2).mean()))
    env.report_metrics(cal_mae_before=float(mae_before), cal_mae_after=float(mae_after))
    if c.rows >= 32 and c.cols >= 32:
        # Statistical: short columns have little spread to remove (sigma_col < half a step at 8
        # rows) and a few columns are too small a sample, so only large arrays must improve
        # measurably in 64 vectors (six seeds at 64x64: 1.66-1.88 -> 1.22-1.28).
        assert mae_after < mae_before
    else:
        not_applicable("test_calibration_through_the_bus (error must fall)",
                       f"a {c.rows}x{c.cols} array is below 32x32: too little column spread "
                       f"or too few columns for 64 vectors to show the improvement; results "
                       f"were still checked bit for bit")


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_two_step_fine_table(dut):
    """Two-step TDC with its interpolator phases skewed past the designed trip positions:
    results are bit exact against the golden model before and after the host loads the
    code-density FINE_TABLE, and the table must cut the count errors; a FINE_TABLE value
    above K - 1 answers SLVERR, sets STATUS.BUS_ERROR and keeps the old value."""
    c = run_config()
    if c.tdc_mode != "two_step":
        skip_test("test_two_step_fine_table", f"tdc_mode={c.tdc_mode!r} has no interpolator")
    taps = c.fine_taps
    nominal = DeviceParams()
    residue = design_trip_residue(
        c.rows, nominal, design_readout(c.rows, nominal, t_clk_ns=T_CLK_NS, fine_taps=taps))
    skew_ps = (residue + 1) / 2 * T_CLK_NS / taps * 1e3   # between the trips and the next step
    env = await _start(dut, seed_offset=21, weights=False,
                       device=DeviceParams(tdc_phase_skew_ps=skew_ps))
    # The skew also shifts single-MTJ reads: program without write-verify, with a pulse that
    # switches (WRITE_PULSE_CYCLES may be shorter).
    await env.write_reg("WV_CTRL", 0)
    await env.switching_pulse()
    await env.program_weights(env.random_weights())
    w = env.model.intended_weights.copy()
    test_x = np.array([env.random_vector() for _ in range(3 * taps)])
    exact = signed_dot(test_x.astype(np.int64), w.astype(np.int64))

    async def errors():
        first = len(env.scoreboard.values)
        for x in test_x:
            await env.send_vector(x)
        await env.drain()
        return int((np.array(env.scoreboard.values[first:]) != exact).sum())

    before = await errors()
    golden = env.model.golden
    histogram = code_density_histogram(golden.array.phase_errors_lsb(golden.readout),
                                       20000, seed=env.rng.getrandbits(31))
    table = check_fine_table(code_density_table(histogram, trip_residue=residue), taps)
    for reg, value in zip(env.regmap.array("FINE_TABLE"), table, strict=True):
        await env.write_reg(reg.name, int(value))
    bad = env.regmap["FINE_TABLE0"]
    assert bad.check_write(taps) is not None
    await env.write_reg("FINE_TABLE0", taps, expect=AxiResp.SLVERR)
    assert await env.read_reg("FINE_TABLE0") == int(table[0])
    assert await env.read_field("STATUS", "BUS_ERROR") == 1
    await env.write_reg("STATUS", 1 << env.regmap["STATUS"].field("BUS_ERROR").lsb)
    env.bus_errors_expected = False
    after = await errors()
    await env.finish()
    env.log.info("two-step TDC, phases skewed %.0f ps: %d -> %d wrong results of %d after the "
                 "code-density FINE_TABLE %s", skew_ps, before, after, exact.size,
                 table.tolist())
    assert before > 0, "the skew did not disturb any result: the test does not exercise it"
    if taps > 2:
        assert after < before
    else:
        # Two phases: the skew pushes both designed trips into the first bin (the second one
        # then holds none), which no table separates; the results were still bit exact.
        assert after == before
        not_applicable("test_two_step_fine_table (the table must cut the errors)",
                       "with 2 phases a skew past the trips merges the only two bins")



@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_gain_and_temperature_tracking(dut):
    """Per-column CAL_GAIN and the temperature tracker against the golden model, bit for bit.

    Random legal gains and offsets on a die with the paper's spread; an out-of-range gain is
    rejected (SLVERR) and the old value kept. Then TRACK_REF is captured at 25 C (one tracking
    pass, TRACK_CODE read back) and tracking runs with TRACK_INTERVAL 3 while the temperature
    of the die changes between bursts (85 C, then 0 C) with no recalibration: every result,
    TRACK_CODE, TRACK_GAIN and the retrim count must equal the golden model's, and the
    tracked gain must have moved the way the TMR did.

    With a two-step TDC the replicas are read through their own interpolator samplers
    (``arr_ref_fine``): the die's phases then have a static spread, and a FINE_TABLE other
    than the ideal one (shared by the array's and the replicas' samplers) is loaded first."""
    if not run_config().has_gain:
        not_applicable("test_gain_and_temperature_tracking",
                       "tdc_mode='coarse' has no CAL_GAIN (its code -> value table replaces "
                       "gain and offset)" if run_config().tdc_mode == "coarse" else
                       f"calibration={run_config().calibration!r}: the build has no CAL_GAIN "
                       f"(calibration='gain' adds it)")
        return
    device = DeviceParams.paper()
    two_step = run_config().tdc_mode == "two_step"
    if two_step:      # phases off their nominal times by a tenth of a step (rms)
        device = device.replace(
            tdc_phase_sigma_ps=0.1 * T_CLK_NS / run_config().fine_taps * 1e3)
    env = await _start(dut, seed_offset=24, device=device)
    c, rm, rng, g = env.config, env.regmap, env.rng, env.model.golden
    if two_step:
        # A legal FINE_TABLE that is not the ideal one (one ones count read a step early), so
        # that the replicas' codes show whether they go through the shared table.
        table = ideal_fine_table(c.fine_taps)
        table[1] = table[0]
        table = check_fine_table(table, c.fine_taps)
        for reg, value in zip(env.regmap.array("FINE_TABLE"), table, strict=True):
            await env.write_reg(reg.name, int(value))
        env.log.info("FINE_TABLE %s", table.tolist())
    lo, hi = field_range(rm["CAL_GAIN0"].field("GAIN"))
    for col in range(c.cols):
        await env.write_reg(f"CAL_GAIN{col}", rng.randint(lo, hi))
        await env.write_reg(f"CAL_OFFSET{col}", rng.randint(c.rows - 4, c.rows + 4))
    kept = await env.read_reg("CAL_GAIN0")
    await env.write_reg("CAL_GAIN0", hi + 1, expect=AxiResp.SLVERR)
    await env.write_reg("CAL_GAIN0", lo - 1, expect=AxiResp.SLVERR)
    assert await env.read_reg("CAL_GAIN0") == kept
    status = rm["STATUS"]
    await env.write_reg("STATUS", status.field("BUS_ERROR").mask)
    env.bus_errors_expected = False
    xs = [env.random_vector(rng.random()) for _ in range(12)]

    async def burst():
        for x in xs:
            await env.send_vector(x, accumulate=rng.random() < 0.3, hold=rng.random() < 0.2)
        await env.drain()

    await burst()                                    # gains, tracking off
    if not c.has_tracker:
        not_applicable("test_gain_and_temperature_tracking (tracking part)",
                       f"tdc_mode={c.tdc_mode!r} builds have no temperature tracker")
        return
    await env.write_reg("TRACK_INTERVAL", 1)         # capture the reference at 25 C
    await env.send_vector(xs[0])
    await env.drain()
    ref = await env.read_field("TRACK_CODE", "SUM")
    assert ref == g.track_code > 0
    await env.write_reg("TRACK_REF", ref)
    await env.write_reg("TRACK_INTERVAL", 3)
    gains, sums = {}, {}
    for temperature in (25.0, 85.0, 0.0):
        # Between bursts, drained: the die's temperature changes under the running macro.
        g.array.set_temperature(temperature)
        env.array.array.set_temperature(temperature)
        await burst()
        gains[temperature] = await env.read_field("TRACK_GAIN", "GAIN")
        assert gains[temperature] == g.track_gain
        sums[temperature] = await env.read_field("TRACK_CODE", "SUM")
        assert sums[temperature] == g.track_code
        assert await env.read_field("TRACK_STATUS", "RETRIMS") == g.track_retrims
        assert await env.read_field("TRACK_STATUS", "INVALID") == int(g.track_invalid) == 0
    env.log.info("tracked gain (1.0 = %d): %s; replica code sums %s",
                 rm["CAL_GAIN0"].field("GAIN").reset, gains, sums)
    # The hotter the die, the smaller the step (TMR falls), the smaller the replica codes and
    # the larger the tracked gain. On a small array a 25 C step may not move the replica sum
    # by one code; the gain must then stay put, and move the other way never.
    assert sums[85.0] <= sums[25.0] <= sums[0.0]
    for hot, cold in ((85.0, 25.0), (25.0, 0.0)):
        assert (gains[hot] > gains[cold]) if sums[hot] < sums[cold] else (
            gains[hot] == gains[cold]), (hot, cold, gains, sums)
    assert env.array.replica_evaluations == g.track_retrims
    await env.write_reg("TRACK_INTERVAL", 0)         # off: CAL_GAIN again
    await burst()
    await env.finish()
    swing, bin_width = _replica_swing(c, device, g, cold=0.0, hot=85.0)
    if swing > bin_width:
        assert sums[85.0] < sums[0.0], (swing, bin_width, sums)
    else:
        not_applicable("test_gain_and_temperature_tracking (the replica sum must fall from "
                       "0 C to 85 C)",
                       f"on {c.rows} rows a replica code moves by {swing:.2f} TDC steps from "
                       f"0 C to 85 C (nominal MTJs, less 3 sigma of the spread), not more than "
                       f"the widest code bin ({bin_width:.2f} steps): it need not change")


def _replica_swing(c: MacroConfig, device: DeviceParams, golden, *, cold: float,
                   hot: float) -> tuple[float, float]:
    """How far a replica column's trip moves between ``cold`` and ``hot`` (TDC steps, before
    quantisation: nominal MTJs, less three standard deviations of a column's mean MTJ
    resistance), and the widest trip interval that keeps one code (1 for the counter; with
    the two-step TDC from the die's phase errors and the FINE_TABLE in use). Only a swing
    wider than that bin is sure to move every replica code; both come from the configuration
    and the die's design, not from the run."""
    swing = replica_swing_lsb(c.rows, device, golden.readout, (cold, hot))
    swing *= 1 - 3 * device.sigma_high_ohm / device.r_mtj_high_ohm / c.rows ** 0.5
    if c.tdc_mode != "two_step":
        return swing, 1.0
    return swing, widest_code_bin(golden.array.phase_errors_lsb(golden.readout),
                                  golden.fine_table)
