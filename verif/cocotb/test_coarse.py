"""cocotb tests of ``tdc_mode="coarse"``: the chip's coarse TDC and the per-column code -> value
look-up table, bit for bit against the golden model (which models the same quantisation and
table), on a die with the paper's spread.

Run through ``verif/test_coarse.py`` (pytest, both simulators). Parameters come from the
environment as in :mod:`verif.cocotb.test_macro` (``MRAM_CONFIG``, ``MRAM_SEED``,
``MRAM_NVMM``).
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotbext.axi import AxiResp

from mram_macro.design.regmap import lut_count, lut_entry_word
from mram_macro.sim.testbench.params import run_nvmm
from sim_models.coarse import lut_from_codes, nominal_table, reference_inputs
from sim_models.device import DeviceParams
from sim_models.golden import signed_dot
from verif.cocotb.fixtures import TEST_TIMEOUT_MS, _random_vmm, _start


def _entry_word(env, col: int, code: int, value: int, *, write: bool = True) -> int:
    """The LUT_ENTRY word for table value ``value`` (a signed dot product)."""
    return lut_entry_word(env.config, col, code, lut_count(env.config, value), write=write)


async def _load_table(env, table) -> None:
    for col, row in enumerate(np.asarray(table)):
        for code, value in enumerate(row):
            await env.write_reg("LUT_ENTRY", _entry_word(env, col, code, int(value)))


def _check_coarse(env) -> None:
    assert env.config.tdc_mode == "coarse", f"run with a coarse config, not {env.config.slug}"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_coarse_random_vmm(dut):
    """Random passes (accumulate, hold, back-pressure, row re-writes) with the reset table:
    every result equals the golden model's table entry for the column's coarse code."""
    env = await _start(dut, seed_offset=40, device=DeviceParams.paper())
    _check_coarse(env)
    table = env.model.golden.lut
    assert (table == nominal_table(env.config, env.device, env.model.readout)).all()
    await _random_vmm(env, min(run_nvmm(), 150))


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_coarse_table_through_the_bus(dut):
    """The host routine through the macro's own interfaces: raw codes (MODE.RAW_CODES) of
    random reference inputs come back on m_axis; the host builds per-column tables from them
    (:func:`sim_models.coarse.lut_from_codes`), loads them over LUT_ENTRY and runs test vectors.
    A second, random table then checks that every entry of every column is used as loaded.
    Every result is checked bit for bit against the golden model."""
    env = await _start(dut, seed_offset=41, device=DeviceParams.paper())
    _check_coarse(env)
    c = env.config
    w = env.model.intended_weights.copy()
    patterns = reference_inputs(c.rows, 48, seed=env.rng.getrandbits(31))
    codes = await env.read_raw_codes(patterns)
    assert codes.max() <= c.tdc_max_code
    table = lut_from_codes(patterns, w, codes, tdc_bits=c.tdc_bits,
                           fallback=env.model.golden.lut)
    await env.write_reg("MODE", 0)
    await _load_table(env, table)
    assert (env.model.golden.lut == table).all()
    test_x = np.array([env.random_vector() for _ in range(24)])
    first = len(env.scoreboard.values)
    for x in test_x:
        await env.send_vector(x)
    await env.drain()
    got = np.array(env.scoreboard.values[first:])
    err = got - signed_dot(test_x.astype(np.int64), w.astype(np.int64))
    env.log.info("coarse table from %d patterns: mean |error| %.2f on %d test vectors",
                 len(patterns), np.abs(err).mean(), len(test_x))
    # A random table: results that ignore a column's entries, or mix up columns or codes,
    # differ from the model.
    rng = np.random.default_rng(env.rng.getrandbits(31))
    random_table = 2 * rng.integers(0, c.rows + 1, (c.cols, 1 << c.tdc_bits)) - c.rows
    await _load_table(env, random_table)
    for _ in range(24):
        await env.send_vector(env.random_vector(env.rng.random()),
                              accumulate=env.rng.random() < 0.4)
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_coarse_bad_writes_are_rejected(dut):
    """LUT_ENTRY words out of range (count beyond rows, column beyond the array) answer
    SLVERR and load nothing (the next passes still match the model, which kept the old
    table); write-verify cannot be enabled in coarse mode (SLVERR)."""
    env = await _start(dut, seed_offset=42, device=DeviceParams.paper())
    _check_coarse(env)
    c = env.config
    reg = env.regmap["LUT_ENTRY"]
    code = int(np.argmax(np.bincount(
        env.model.golden.convert(np.array([env.random_vector() for _ in range(32)]))[0][:, 0],
        minlength=1 << c.tdc_bits)))           # the most frequent code of column 0
    bad = [lut_entry_word(c, 0, code, c.rows + 1)]
    if c.cols < 256:
        bad.append(_entry_word(env, c.cols, code, 0))
    for word in bad:
        resp = (await env.axil.write(env.address("LUT_ENTRY"), word.to_bytes(4, "little"))).resp
        assert resp == AxiResp.SLVERR, f"LUT_ENTRY <- 0x{word:08X}: {resp.name}, not SLVERR"
        env.bus_errors_expected = True
    await env.write_reg("WV_CTRL", env.regmap["WV_CTRL"].field("ENABLE").mask,
                        expect=AxiResp.SLVERR)
    assert env.field_value("STATUS", "BUS_ERROR", await env.read_reg("STATUS")) == 1
    assert await env.read_reg("BUS_ERROR_ADDR") == env.address("WV_CTRL")
    # A valid write without WRITE only stores the fields: the table keeps its entry.
    await env.write_reg("LUT_ENTRY", _entry_word(env, 0, code, -c.rows, write=False))
    assert (await env.read_reg("LUT_ENTRY")) & ~reg.field("WRITE").mask == \
        _entry_word(env, 0, code, -c.rows, write=False)
    for _ in range(16):
        await env.send_vector(env.random_vector())
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_coarse_throughput(dut):
    """MRAM_NVMM vectors streamed without gaps into an always-ready sink, all checked; reports
    cycles per VMM, the evaluation time and the array utilisation (for ``make bench``).

    ``MRAM_COARSE_CLOCK_NS`` (default: the simulation clock) runs the readout designed for that
    clock: the RTL sees only clock cycles, so the design for period T is simulated at the
    simulation clock T_sim with the chip's window stretched by T_sim / T (same trip edges, same
    codes), with TDC_START_DELAY and the nominal table of that design written over the bus."""
    import os
    import time

    from mram_macro.sim.testbench.model import T_CLK_NS
    from sim_models.readout import CHIP_WINDOW_NS, design_coarse_readout

    env = await _start(dut, seed_offset=43)
    _check_coarse(env)
    c = env.config
    clock_ns = float(os.environ.get("MRAM_COARSE_CLOCK_NS", T_CLK_NS))
    if clock_ns != T_CLK_NS:
        scale = T_CLK_NS / clock_ns
        ro = design_coarse_readout(c.rows, env.device, t_clk_ns=T_CLK_NS,
                                   window_ns=tuple(scale * t for t in CHIP_WINDOW_NS))
        env.array.readout = env.model.readout = env.model.golden.readout = ro
        await env.write_reg("TDC_START_DELAY", ro.start_delay_cycles)
        await _load_table(env, np.tile(nominal_table(c, env.device, ro), (c.cols, 1)))
    env.no_backpressure()
    n = max(2, run_nvmm())
    evals0 = env.array.evaluations
    wall0 = time.perf_counter()
    for _ in range(n):
        await env.send_vector(env.random_vector())
    await env.drain()
    wall = time.perf_counter() - wall0
    arrivals = env.scoreboard.arrival_ns[-n:]
    cycles_per_vmm = (arrivals[-1] - arrivals[0]) / (n - 1) / T_CLK_NS
    precharge = await env.read_field("PRECHARGE_CYCLES", "CYCLES")
    trips = np.array(env.array.max_trip_history[evals0:])
    eval_cycles = precharge + float(trips.mean())
    env.report_metrics(cycles_per_vmm=cycles_per_vmm, eval_cycles_per_vmm=eval_cycles,
                       precharge_cycles=precharge, utilisation=eval_cycles / cycles_per_vmm,
                       max_trip_cycles=int(trips.max()), design_clock_ns=clock_ns,
                       sim_vmm_per_s=n / wall, vmms_checked=n)
    env.log.info("coarse throughput (design clock %g ns): %.2f cycles/VMM, evaluation %.2f "
                 "cycles/VMM", clock_ns, cycles_per_vmm, eval_cycles)
    await env.finish()
    assert env.array.evaluations - evals0 == n
