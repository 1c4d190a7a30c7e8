"""cocotb tests of the generated ``mram_macro`` against the golden model: random and directed
VMMs, stream throughput and back-pressure, registers, reset, weight writes and write-verify.

Run through ``verif/test_cocotb.py`` (pytest, both simulators, several configurations), with
:mod:`verif.cocotb.test_calibration` (the suite :data:`verif.cocotb.MACRO_SUITE`). Parameters
come from the process environment (``MRAM_CONFIG``, ``MRAM_SEED``, ``MRAM_NVMM``): see
:mod:`verif.cocotb.fixtures`.
"""

from __future__ import annotations

import time

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiResp, AxiStreamFrame

from mram_macro.design.regmap import MACRO_ID
from mram_macro.sim.testbench.model import T_CLK_NS
from mram_macro.sim.testbench.params import run_config, run_nvmm, run_seed
from sim_models.device import DeviceParams
from sim_models.die import Die
from verif.cocotb.env import MacroEnv
from verif.cocotb.fixtures import (
    TEST_TIMEOUT_MS,
    _random_vmm,
    _reset_word,
    _start,
    not_applicable,
    skip_test,
)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random_vmm(dut):
    """Random weights and vectors, random accumulate/hold, back-pressure and idle gaps."""
    await _random_vmm(await _start(dut), run_nvmm())


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_short_vmm(dut):
    """A random-VMM run that stays short on any legal configuration (the property tests of
    ``verif/test_properties.py`` run it on drawn ones): one row programmed with the reset write
    pulse (up to 65535 cycles), three more with a pulse just long enough to switch, then
    ``min(MRAM_NVMM, 50)`` random vectors with back-pressure, all checked bit for bit."""
    env = await _start(dut, seed_offset=40, weights=False)
    c, rng = env.config, env.rng
    w = env.random_weights()
    rows = rng.sample(range(c.rows), k=min(4, c.rows))
    await env.program_weights(w, rows=rows[:1])
    if c.write_pulse_cycles > env.switch_cycles:
        await env.write_reg("WRITE_PULSE_CYCLES", env.switch_cycles)
    await env.program_weights(w, rows=rows[1:])
    await _random_vmm(env, min(run_nvmm(), 50))


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random_vmm_with_spread(dut):
    """As test_random_vmm, on a die with the paper's cell-to-cell spread (codes off-centre)."""
    env = await _start(dut, seed_offset=9, device=DeviceParams.paper())
    await _random_vmm(env, max(1, run_nvmm() // 5))


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_all_match_and_none_match(dut):
    """All weights +1: x all ones gives +rows in every column, x all zeros gives -rows."""
    env = await _start(dut, seed_offset=1, weights=False)
    c = env.config
    if not c.has_write_verify:      # no write-verify (coarse TDC, write_verify=False): no retry
        await env.switching_pulse()
    await env.program_weights(np.ones((c.rows, c.cols), dtype=bool))
    die = env.array.array
    assert die.weights().all(), f"left MTJs not all low after writing +1: {~die.weights()}"
    assert die.complement_ok().all(), "right MTJs do not hold the complement of the left ones"
    # A coarse code spans several counts: its table gives each code one value, so the
    # extremes come out as the table's values for the codes of 0 and rows matching cells.
    exact = c.tdc_mode != "coarse"
    if not exact:
        not_applicable("test_all_match_and_none_match (exact +-rows)",
                       "tdc_mode='coarse' quantises the counts; checked instead: all-match "
                       "above none-match in every column, both within +-rows")

    async def extremes(match, mismatch):
        top = await env.send_vector(match, expected=np.full(c.cols, c.rows) if exact else None)
        bottom = await env.send_vector(mismatch,
                                       expected=np.full(c.cols, -c.rows) if exact else None)
        top, bottom = np.asarray(top.values), np.asarray(bottom.values)
        assert (top > bottom).all() and (np.abs(top) <= c.rows).all() \
            and (np.abs(bottom) <= c.rows).all(), (top, bottom)

    await extremes(np.ones(c.rows), np.zeros(c.rows))
    # And the mirror image: weights all -1.
    await env.program_weights(np.zeros((c.rows, c.cols), dtype=bool))
    await extremes(np.zeros(c.rows), np.ones(c.rows))
    await env.finish()
    assert env.scoreboard.matches == 4


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_weights_per_evaluation(dut):
    """The array model's weight schedule (what the MNIST power workload uses to run every tile
    of a network on one macro): back-to-back passes, each on its own tile loaded by back door
    before its evaluation and into the reference model before its prediction."""
    env = await _start(dut, seed_offset=31, weights=False)
    env.no_backpressure()
    tiles = [env.random_weights() for _ in range(3)]
    xs = [env.random_vector() for _ in range(9)]
    # the tiles must give different results, or the check below could not see a wrong schedule
    w_bits = [np.asarray(t, dtype=int) * 2 - 1 for t in tiles]
    x0 = np.asarray(xs[0], dtype=int) * 2 - 1
    assert len({tuple(x0 @ w) for w in w_bits}) == 3
    env.array.set_weight_schedule(lambda i: tiles[i % 3])
    for i, x in enumerate(xs):
        env.model.golden.array.load_weights(tiles[i % 3])
        env.model.intended_weights[:] = tiles[i % 3]
        await env.send_vector(x)
    await env.drain()
    env.array.set_weight_schedule(None)
    await env.finish()
    assert env.scoreboard.matches == len(xs)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_back_to_back(dut):
    """Vectors with no gaps and an always-ready sink; reports the cycles per VMM."""
    env = await _start(dut, seed_offset=2)
    env.no_backpressure()
    n = 40
    await RisingEdge(dut.clk)
    t0 = get_sim_time("ns")
    for _ in range(n):
        await env.send_vector(env.random_vector())
    await env.drain()
    cycles = (get_sim_time("ns") - t0) / T_CLK_NS
    env.log.info("back-to-back: %d VMMs in %.0f cycles (%.1f cycles/VMM; last max trip m=%s)",
                 n, cycles, cycles / n, env.array.last_max_trip_cycles)
    await env.finish()
    assert env.scoreboard.matches == n


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_throughput(dut):
    """MRAM_NVMM vectors streamed without gaps into an always-ready sink, all checked.

    Reports (through MRAM_METRICS, for ``make bench``) the steady-state cycles per VMM, the
    analogue evaluation time per VMM (precharge + the slowest column's trip edge), their ratio
    (array utilisation), and the simulation speed.
    """
    env = await _start(dut, seed_offset=11)
    env.no_backpressure()
    n = max(2, run_nvmm())
    evals0 = env.array.evaluations
    wall0, cpu0, sim0 = time.perf_counter(), time.process_time(), get_sim_time("ns")
    await env.send_vectors([env.random_vector() for _ in range(n)])
    await env.drain()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0   # simulator + Python: this process only (loaded hosts)
    sim_cycles = (get_sim_time("ns") - sim0) / T_CLK_NS
    arrivals = env.scoreboard.arrival_ns[-n:]
    # Steady state: from the first result to the last one, so pipeline fill does not count.
    cycles_per_vmm = (arrivals[-1] - arrivals[0]) / (n - 1) / T_CLK_NS
    precharge = await env.read_field("PRECHARGE_CYCLES", "CYCLES")
    eval_cycles = precharge + float(np.mean(env.array.max_trip_history[evals0:]))
    env.report_metrics(cycles_per_vmm=cycles_per_vmm, eval_cycles_per_vmm=eval_cycles,
                       precharge_cycles=precharge, utilisation=eval_cycles / cycles_per_vmm,
                       t_clk_ns=T_CLK_NS, sim_vmm_per_s=n / wall,
                       sim_cycles_per_s=sim_cycles / wall, sim_vmm_per_cpu_s=n / cpu,
                       vmms_checked=n)
    env.log.info("throughput: %.2f cycles/VMM, evaluation %.2f cycles/VMM (utilisation %.1f %%),"
                 " simulation %.0f VMM/s", cycles_per_vmm, eval_cycles,
                 100 * eval_cycles / cycles_per_vmm, n / wall)
    await env.finish()
    assert env.array.evaluations - evals0 == n


#: Probability of a ready-low cycle on m_axis in :func:`test_stalled_sink`.
STALL_P = 0.5


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_stalled_sink(dut):
    """Vectors streamed without gaps into a sink that stalls on half its cycles, all checked.

    A macro with a result register never evaluates a vector twice; one that streams its results
    from the TDC's codes (``result_register=False``) abandons an evaluation that reaches its
    first capture while the stream still holds the codes, and runs it again: the test counts
    those (evaluations beyond one per vector) and reports them with the cycles per VMM (through
    MRAM_METRICS, for ``make bench``).
    """
    env = await _start(dut, seed_offset=12)
    env.random_backpressure(p_source_idle=0.0, p_sink_stall=STALL_P)
    n = max(2, min(run_nvmm(), 100))
    evals0 = env.array.evaluations
    await env.send_vectors([env.random_vector() for _ in range(n)])
    await env.drain()
    arrivals = env.scoreboard.arrival_ns[-n:]
    cycles_per_vmm = (arrivals[-1] - arrivals[0]) / (n - 1) / T_CLK_NS
    extra = env.array.evaluations - evals0 - n
    env.report_metrics(cycles_per_vmm=cycles_per_vmm, reevaluations_per_vmm=extra / n,
                       p_sink_stall=STALL_P, vmms_checked=n)
    env.log.info("stalled sink (p=%.2f): %.2f cycles/VMM, %d evaluations run again for %d "
                 "vectors", STALL_P, cycles_per_vmm, extra, n)
    await env.finish()
    assert extra >= 0
    if env.config.result_register:
        assert extra == 0, f"{extra} evaluations run again by a macro with a result register"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_clear_vs_accumulate(dut):
    """k accumulated passes equal the sum of k single passes; a clear pass starts over. A
    single-pass build (``multibit=False``) instead drops every vector with a flag, sets
    STATUS.FLAGS_ERROR, and runs the plain vectors around them."""
    env = await _start(dut, seed_offset=3)
    c = env.config
    if not c.multibit:
        await _flags_refused(env)
        return
    k = 5
    xs = [env.random_vector() for _ in range(k)]
    singles = env.model.golden.vmm_batch(np.array(xs))           # one clear pass each
    total = singles.sum(axis=0)
    half = 1 << (c.result_width - 1)
    total = (total + half) % (1 << c.result_width) - half
    # Held partial sums, only the last emitted.
    for i, x in enumerate(xs):
        last = i == k - 1
        await env.send_vector(x, accumulate=i > 0, hold=not last,
                              expected=total if last else None)
    # Every partial sum emitted.
    for i, x in enumerate(xs):
        await env.send_vector(x, accumulate=i > 0,
                              expected=((singles[:i + 1].sum(axis=0) + half)
                                        % (1 << c.result_width) - half))
    # A clear pass forgets the sum.
    await env.send_vector(xs[0], accumulate=False, expected=singles[0])
    await env.finish()
    assert env.scoreboard.matches == 1 + k + 1


async def _flags_refused(env) -> None:
    """A single-pass build drops every vector whose first beat carries a flag (one beat or
    several, tlast in place or late), counts no pass for it and sets STATUS.FLAGS_ERROR (w1c);
    the plain vectors between them come out as single passes."""
    xs = [env.random_vector() for _ in range(4)]
    singles = env.model.golden.vmm_batch(np.array(xs))
    await env.send_vector(xs[0], expected=singles[0])
    for accumulate, hold, late in ((True, False, False), (False, True, True),
                                   (True, True, False)):
        frame = env.driver.frame(xs[1], accumulate=accumulate, hold=hold)
        if late:
            frame = AxiStreamFrame(tdata=[*frame.tdata, 0], tuser=[*frame.tuser, 0])
        await env.driver.send(frame)
    env.flags_errors_expected = True
    for x, single in zip(xs[1:], singles[1:], strict=True):
        await env.send_vector(x, expected=single)
    await env.finish()           # results, VMM_COUNT (4 passes) and STATUS.FLAGS_ERROR = 1
    assert env.scoreboard.matches == 4
    await env.write_reg("STATUS", 1 << env.regmap["STATUS"].field("FLAGS_ERROR").lsb)
    assert await env.read_field("STATUS", "FLAGS_ERROR") == 0


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_register_readback(dut):
    """Identification, reset values, write/read-back, and rejected writes."""
    env = await _start(dut, seed_offset=4, weights=False)
    c, rm, rng = env.config, env.regmap, env.rng
    assert await env.read_reg("ID") == MACRO_ID
    geometry = await env.read_reg("GEOMETRY")
    assert env.field_value("GEOMETRY", "ROWS", geometry) == c.rows
    assert env.field_value("GEOMETRY", "COLS", geometry) == c.cols
    widths = await env.read_reg("WIDTHS")
    assert env.field_value("WIDTHS", "TDC_BITS", widths) == c.tdc_bits
    assert env.field_value("WIDTHS", "RESULT_WIDTH", widths) == c.result_width
    assert env.field_value("WIDTHS", "STREAM_WIDTH", widths) == c.stream_width

    rw_regs = [r for r in rm.registers if all(f.kind == "rw" for f in r.fields)]
    for reg in rw_regs:
        got, want = await env.read_reg(reg.name), _reset_word(reg)
        assert got == want, f"{reg.name} reads 0x{got:08X} after reset, expected 0x{want:08X}"

    written = {}
    for reg in rw_regs:
        f = reg.fields[0]
        if f.signed:
            value = rng.randrange(-(1 << (f.width - 1)), 1 << (f.width - 1))
            word = value & 0xFFFFFFFF
        else:
            hi = f.max_value if f.max_value is not None else (1 << f.width) - 1
            word = rng.randrange(f.min_value, hi + 1) << f.lsb
        assert reg.check_write(word) is None, (reg.name, hex(word))
        await env.write_reg(reg.name, word)
        written[reg.name] = word
    for name, word in written.items():
        got = await env.read_reg(name)
        assert got == word, f"{name} reads 0x{got:08X}, wrote 0x{word:08X}"

    # A write outside a field's range is rejected, keeps the old value and is reported.
    reg = rm["WRITE_ROW_ADDR"]
    bad = (reg.field("ROW").max_value + 1) << reg.field("ROW").lsb
    assert reg.check_write(bad) is not None
    await env.write_reg("WRITE_ROW_ADDR", bad, expect=AxiResp.SLVERR)
    assert await env.read_reg("WRITE_ROW_ADDR") == written["WRITE_ROW_ADDR"]
    assert await env.read_field("STATUS", "BUS_ERROR") == 1
    assert await env.read_field("BUS_ERROR_ADDR", "ADDR") == reg.offset
    await env.write_reg("ID", 0, expect=AxiResp.SLVERR)
    if not c.activation:
        # A build without the activation mode refuses to enter it and stays in its mode.
        mode = rm["MODE"]
        await env.write_reg("MODE", 1 << mode.field("ACTIVATION").lsb, expect=AxiResp.SLVERR)
        assert await env.read_reg("MODE") == written["MODE"]
    status = rm["STATUS"]
    await env.write_reg("STATUS", 1 << status.field("BUS_ERROR").lsb)   # w1c
    assert await env.read_field("STATUS", "BUS_ERROR") == 0
    env.bus_errors_expected = False

    # Reset puts every register back.
    await env.reset()
    for reg in rw_regs:
        assert await env.read_reg(reg.name) == _reset_word(reg), f"{reg.name} not reset"
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_reset_mid_vmm(dut):
    """rst during an evaluation: afterwards nothing old comes out and results are correct."""
    env = await _start(dut, seed_offset=5)
    c, rm = env.config, env.regmap
    # Registers away from their reset values (the model mirrors them, so results stay exact).
    changed = {"PRECHARGE_CYCLES": 5,
               "TDC_START_DELAY": env.model.golden.start_delay_cycles + 1,
               "WRITE_ROW_ADDR": c.rows - 1}
    for name, word in changed.items():
        await env.write_reg(name, word)
    await env.write_offset(0)           # CAL_OFFSET0, or a coarse table entry
    env.random_backpressure(p_source_idle=0.2, p_sink_stall=0.5)
    for _ in range(6):
        await env.send_vector(env.random_vector(), accumulate=True)
    # Let a result or two out, then hit reset in the middle of an evaluation.
    await RisingEdge(dut.arr_eval)
    await RisingEdge(dut.arr_eval)
    # Evaluation lasts at least TDC_START_DELAY cycles: stay inside it.
    await ClockCycles(dut.clk, env.rng.randrange(1, max(2, env.model.golden.start_delay_cycles)))
    assert int(dut.arr_eval.value) == 1
    env.log.info("asserting rst mid-evaluation after %d result(s)", env.scoreboard.received)
    await env.reset(cycles=3)
    # A beat handshaken at the very edge that sampled rst may still complete a frame; count
    # from here: nothing may come out that was not sent after the reset.
    before = env.scoreboard.received
    assert int(dut.arr_eval.value) == 0 and int(dut.arr_pre.value) == 0
    assert int(dut.m_axis_tvalid.value) == 0, "m_axis_tvalid high right after reset"
    for reg in rm.registers:
        if all(f.kind == "rw" for f in reg.fields):
            got = await env.read_reg(reg.name)
            assert got == _reset_word(reg), f"{reg.name} reads 0x{got:08X} after a reset"
    assert await env.read_field("VMM_COUNT", "COUNT") == 0
    # The weights survive (non-volatile); the accumulator starts from zero.
    for i in range(10):
        await env.send_vector(env.random_vector(), accumulate=i > 0)
    await env.finish()
    assert env.scoreboard.received == before + 10


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_tdc_window_offsets_overflow(dut):
    """TDC start delay (clamping at 0, saturation with overflow flag) and CAL_OFFSET wrap."""
    env = await _start(dut, seed_offset=6)
    c, rng = env.config, env.rng
    d0 = env.model.golden.start_delay_cycles
    w = env.model.intended_weights
    for delay in (0, max(d0 - 3, 0), d0 + c.rows // 2, d0 + c.rows + 3):
        await env.drain()
        await env.write_reg("TDC_START_DELAY", delay)
        for col in rng.sample(range(c.cols), k=min(4, c.cols)):
            await env.write_offset(col)     # CAL_OFFSET (any legal value), or a table entry
        for x in (w[:, 0], ~w[:, 0], env.random_vector(), env.random_vector()):
            await env.send_vector(x, accumulate=rng.random() < 0.5)
    # The slowest live column trips at about edge d0 + rows (a coarse code spans several of
    # them): a TDC wider than that (e.g. 12 bits on 8 rows), or a coarse one, may never
    # saturate with live comparators, only with a dead one.
    if not env.model.overflow_seen:
        env.log.info("tdc_bits=%d (%s) outlasts the slowest live column: saturating through "
                     "a dead comparator", c.tdc_bits, c.tdc_mode)
        await env.drain()
        env.kill_comparators([rng.randrange(c.cols)])
        await env.send_vector(env.random_vector())
        await env.drain()
        env.kill_comparators([])
    await env.finish()
    assert env.model.overflow_seen, "no pass saturated: the test does not exercise overflow"


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_short_write_pulse_keeps_weights(dut):
    """Without write-verify, a write pulse shorter than the switching time leaves the MTJs as
    they were; with write-verify, the read-back catches it and the doubled retry pulse fixes it.
    """
    env = await _start(dut, seed_offset=7)
    c = env.config
    wv = env.regmap["WV_CTRL"]
    blind = wv.reset & ~wv.field("ENABLE").mask
    await env.write_reg("WV_CTRL", blind)
    await env.write_reg("WRITE_PULSE_CYCLES", env.switch_cycles - 1)
    before = env.model.intended_weights.copy()
    flipped = ~before
    await env.program_weights(flipped, rows=range(0, c.rows, 2))
    await env.send_vector(env.random_vector())
    assert np.array_equal(env.model.intended_weights, before)     # nothing switched
    if not env.write_verify:
        not_applicable("test_short_write_pulse_keeps_weights (write-verify half)",
                       f"{c.slug} has no write-verify (tdc_mode 'coarse' or write_verify=False)")
        await env.finish()
        return
    # Write-verify on: every MTJ of the even rows reads wrong, is rewritten with 2x the pulse.
    await env.write_reg("WV_CTRL", wv.reset)
    # (Programming at a reset pulse shorter than the switching time retried already.)
    retries_before = env.model.wv_retries
    await env.program_weights(flipped, rows=range(0, c.rows, 2))
    await env.send_vector(env.random_vector())
    assert np.array_equal(env.model.intended_weights[::2], flipped[::2])
    assert env.model.wv_retries - retries_before == 2 * len(range(0, c.rows, 2))
    await env.finish()
    assert await env.read_reg("WV_RETRY_COUNT") == env.model.wv_retries
    assert await env.read_reg("WV_FAIL_COUNT") == 0
    assert np.array_equal(env.array.array.weights(), env.model.intended_weights)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_writes_during_vmm_stream(dut):
    """Row writes issued while vectors stream are arbitrated around evaluations.

    The rows are re-written with the weights they already hold, so every result is known
    whichever vectors the writes fall between; the array model flags any write pulse that
    overlaps a precharge or an evaluation.
    """
    env = await _start(dut, seed_offset=10)
    env.random_backpressure(p_source_idle=0.2, p_sink_stall=0.3)
    c, rng = env.config, env.rng
    writes_before = env.array.writes_applied
    n_rows = min(c.rows, 16)
    for r in range(n_rows):
        for _ in range(2):
            await env.send_vector(env.random_vector(), accumulate=rng.random() < 0.3)
        await env.program_row(r, env.model.intended_weights[r])
    await env.finish()
    assert env.array.writes_applied - writes_before == 2 * n_rows


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_length_error(dut):
    """Vectors with tlast early or late are dropped and flagged; the next ones are fine."""
    env = await _start(dut, seed_offset=8)
    c = env.config
    beats = list(range(1, c.in_beats + 2))
    if c.in_beats > 1:
        await env.driver.send(AxiStreamFrame(tdata=beats[:c.in_beats - 1], tuser=0))
    await env.driver.send(AxiStreamFrame(tdata=beats, tuser=0))
    env.length_errors_expected = True
    for _ in range(3):
        await env.send_vector(env.random_vector())
    await env.finish()




def _wrong_cells(array, w) -> np.ndarray:
    """Cells whose left MTJ does not hold W or whose right MTJ does not hold W-bar."""
    return (array.is_low[0] != w) | (array.is_low[1] != ~w)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_write_verify_repairs_random_write_failures(dut):
    """10 % of write pulses fail to switch (thermal-activation model): write-verify retries
    until every cell holds its weight, or reports exactly the cells that do not."""
    c = run_config()
    if not c.has_write_verify:
        skip_test("test_write_verify_repairs_random_write_failures",
                  f"{c.slug} has no write-verify (tdc_mode 'coarse' or write_verify=False)")
    # About rows x cols MTJs switch when the array is programmed (two per cell, half of them
    # already right); P(no failed write) must stay below 1e-4 for the test to mean anything.
    switches = c.rows * c.cols
    p_fail = max(0.10, 1 - 1e-4 ** (1 / switches))
    if p_fail > 0.5:
        skip_test("test_write_verify_repairs_random_write_failures",
                  f"a {c.rows}x{c.cols} array switches only ~{switches} MTJs: even at 50 % "
                  f"write failure P(no failed write) = {0.5 ** switches:.2g} > 1e-4 (needs "
                  f">= 14 cells)")
    # The failure rate is set for the reset write pulse of this configuration.
    device = DeviceParams().with_write_failure(p_fail, pulse_ns=c.write_pulse_cycles * T_CLK_NS)
    env = await _start(dut, seed_offset=21, weights=False, device=device)
    env.log.info("write failure probability %.3f per pulse of %d cycles", p_fail,
                 c.write_pulse_cycles)
    w = env.random_weights()
    await env.program_weights(w)
    for _ in range(20):
        await env.send_vector(env.random_vector())
    await env.finish()               # results, STATUS, WV_RETRY_COUNT, WV_FAIL_COUNT vs model
    pins = env.array.array
    wrong = _wrong_cells(pins, w)
    assert env.model.wv_retries > 0, "no write failed: the injected failure rate is not active"
    assert await env.read_field("WV_FAIL_COUNT", "COUNT") == int(wrong.sum())
    env.log.info("write-verify at 10 %% write failure: %d retries for %d rows, %d cells left "
                 "wrong (all reported)", env.model.wv_retries, env.config.rows, wrong.sum())


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_stuck_cells_are_reported_not_retried_forever(dut):
    """Stuck MTJs ignore writes: each failing side is retried MAX_RETRIES times, then the cell
    is reported (count, last row and its column mask) and STATUS.WRITE_FAILED is set."""
    c = run_config()
    if not c.has_write_verify:
        skip_test("test_stuck_cells_are_reported_not_retried_forever",
                  f"{c.slug} has no write-verify (tdc_mode 'coarse' or write_verify=False)")
    cells = c.rows * c.cols
    # Enough stuck MTJs that the die has a conflict: a cell conflicts unless neither MTJ is
    # stuck in the wrong state (probability p each), so P(none) = (1 - p)^(2 cells) <= 1e-4.
    p = max(0.02 if cells >= 1024 else 0.05, 1 - 1e-4 ** (1 / (2 * cells)))
    if p > 0.25:
        skip_test("test_stuck_cells_are_reported_not_retried_forever",
                  f"a {c.rows}x{c.cols} array has too few cells: even with half its MTJs "
                  f"stuck, P(no conflicting cell) = {0.75 ** (2 * cells):.2g} > 1e-4 (needs "
                  f">= 16 cells)")
    device = DeviceParams(p_stuck_low=p, p_stuck_high=p)
    env = await _start(dut, seed_offset=22, weights=False, device=device)
    # A pulse that switches every healthy MTJ at once, so only stuck ones are retried.
    await env.switching_pulse()
    w = env.random_weights()
    await env.program_weights(w)
    pins = env.array.array
    wrong = _wrong_cells(pins, w)
    assert wrong.any(), "the die has no conflicting stuck cell: raise p_stuck"
    failing_sides = int(((pins.is_low[0] != w).any(axis=1)).sum()
                        + ((pins.is_low[1] != ~w).any(axis=1)).sum())
    max_retries = env.regmap["WV_CTRL"].field("MAX_RETRIES").reset
    assert env.model.wv_retries == failing_sides * max_retries
    assert await env.read_field("WV_RETRY_COUNT", "COUNT") == failing_sides * max_retries
    assert await env.read_field("WV_FAIL_COUNT", "COUNT") == int(wrong.sum())
    assert await env.read_field("STATUS", "WRITE_FAILED") == 1
    last = int(np.flatnonzero(wrong.any(axis=1))[-1])
    assert await env.read_field("WV_FAIL_ROW", "ROW") == last
    mask = 0
    for reg in env.regmap.array("WV_FAIL_MASK"):
        mask |= await env.read_field(reg.name, "BITS") << (32 * reg.index)
    assert mask == sum(1 << int(col) for col in np.flatnonzero(wrong[last]))
    for _ in range(10):
        await env.send_vector(env.random_vector())
    await env.finish()
    env.log.info("stuck cells: %d wrong cells in %d rows reported; %d retries", wrong.sum(),
                 wrong.any(axis=1).sum(), env.model.wv_retries)
    assert c.rows == pins.rows


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_die_file_drives_model_and_simulation(dut):
    """A die saved to .npz (spread, stuck MTJs, comparator offsets) and loaded back is the die
    both the golden model and the RTL simulation's array use: results match bit for bit."""
    import tempfile
    from pathlib import Path

    c = run_config()
    device = DeviceParams.paper(p_stuck_low=0.002, p_stuck_high=0.002,
                                comparator_offset_sigma_V=1e-3)
    sampled = Die.sample(c.rows, c.cols, device, seed=run_seed() + 23)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "die.npz"
        sampled.save(path, device=device)
        die = Die.load(path)
    assert np.array_equal(die.r_low_ohm, sampled.r_low_ohm)
    env = MacroEnv(dut, c, seed=run_seed() + 23, device=device, die=die)
    await env.reset()
    assert env.array.array.die is die and env.model.golden.array.die is die
    await env.program_weights(env.random_weights())
    for _ in range(30):
        await env.send_vector(env.random_vector(), accumulate=env.rng.random() < 0.3)
    await env.finish()

