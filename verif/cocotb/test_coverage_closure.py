"""Coverage closure of the generated ``mram_macro``: tests that reach what random stimulus
rarely does (every TDC code bin, every register's legal and reset values, accumulate chains
that wrap, vector arrival at every point of a pass, sticky flags, busy bits while the
sequencer is blocked, timing registers at their edges), each ending with the scoreboard check
of :meth:`MacroEnv.finish`.

Part of the suite :data:`verif.cocotb.ROBUSTNESS_SUITE` (run with
:mod:`verif.cocotb.test_robustness`); parameters as there (:mod:`verif.cocotb.fixtures`).
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge
from cocotbext.axi import AxiResp, AxiStreamFrame

from mram_macro.sim.testbench.budgets import field_range
from mram_macro.sim.testbench.params import run_config
from verif.cocotb.coverage import tdc_code_bins
from verif.cocotb.env import MacroEnv
from verif.cocotb.fixtures import (
    TEST_TIMEOUT_MS,
    _check_clean_state,
    _legal_word,
    _pass_cycles,
    _reset_word,
    _scale,
    _smoke,
    _start,
    not_applicable,
)


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_tdc_full_range(dut):
    """Every TDC code bin the array can produce, from 0 to saturation: the start delay moves
    the codes up, the number of mismatching cells picks the code in a column."""
    if run_config().tdc_mode == "coarse":
        not_applicable("test_tdc_full_range",
                       "tdc_mode='coarse': a code spans several counts, set by the die's "
                       "resistances, so no count aims at a given code (its codes are covered "
                       "by verif/cocotb/test_coarse.py)")
        return
    env = await _start(dut, seed_offset=27)
    c, rng = env.config, env.rng
    d0 = env.model.golden.start_delay_cycles
    bins, _ = tdc_code_bins(c, d0)
    codes = sorted({x for _, lo, hi in bins for x in (lo, (lo + hi) // 2, hi)})
    if _smoke():
        codes = sorted({bins[0][1], bins[len(bins) // 2][1], bins[-2][2], bins[-1][1]})
    taps = c.fine_taps          # codes per cycle of start delay (two-step TDC: K)
    reach = d0 * taps + c.rows  # the code of an all-mismatching column with a zero delay
    delay = d0
    for code in codes:
        shift = max(0, -(-(code - c.rows) // taps))     # cycles of delay to take away
        mismatches = code - shift * taps
        want_delay = d0 - shift
        if want_delay < 0:
            if reach < c.tdc_max_code:
                continue                                # only a dead comparator saturates
            want_delay, mismatches = 0, c.rows          # saturation through the window
        if want_delay != delay:
            await env.drain()
            await env.write_reg("TDC_START_DELAY", want_delay)
            delay = want_delay
        col = rng.randrange(c.cols)
        x = env.model.intended_weights[:, col].copy()
        flip = rng.sample(range(c.rows), k=mismatches)
        x[flip] = ~x[flip]
        result = await env.send_vector(x)
        want = min(code, c.tdc_max_code)
        assert result.codes[col] == want, (
            f"model gives code {result.codes[col]} for column {col}, aimed at {want}")
    if reach > c.tdc_max_code:
        # A live comparator that trips after the window: saturated, with the overflow flag.
        await env.drain()
        await env.write_reg("TDC_START_DELAY", 0)
        col = rng.randrange(c.cols)
        result = await env.send_vector(~env.model.intended_weights[:, col])
        assert result.overflow[col] and result.codes[col] == c.tdc_max_code
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_register_sweep(dut):
    """Every register of the map read and written: ``rw`` with a random legal value (read
    back), ``cmd`` and ``w1c`` with 0 (no effect), read-only ones rejected; then a reset
    restores every register."""
    env = await _start(dut, seed_offset=28, weights=False)
    rm, rng = env.regmap, env.rng
    for reg in rm.registers:
        before = await env.read_reg(reg.name)
        if reg.read_only:
            await env.write_reg(reg.name, rng.getrandbits(32), expect=AxiResp.SLVERR)
            continue
        word = _legal_word(reg, rng)
        await env.write_reg(reg.name, word)
        got = await env.read_reg(reg.name)
        if all(f.kind == "rw" for f in reg.fields):
            assert got == word, f"{reg.name} reads 0x{got:08X}, wrote 0x{word:08X}"
        elif not any(f.kind == "rw" for f in reg.fields) and reg.name != "STATUS":
            assert got == before, f"{reg.name} changed by writing 0"
    await env.reset()
    await _check_clean_state(env, all_arrays=True)
    await env.program_weights(env.random_weights())
    for _ in range(4):
        await env.send_vector(env.random_vector())
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_accumulate_chains_and_wrap(dut):
    """Accumulation chains of 1 to 9 passes with held partial sums, and a sum that wraps
    around the result width (two's complement, as documented)."""
    env = await _start(dut, seed_offset=29)
    c, rng = env.config, env.rng
    if not c.multibit:
        not_applicable("test_accumulate_chains_and_wrap",
                       "a single-pass build (multibit=False) has no accumulator sums; "
                       "test_clear_vs_accumulate checks that it refuses the flags")
        await env.finish()
        return
    for length in (1, 2, 3, 5, 9):
        for i in range(length):
            await env.send_vector(env.random_vector(), accumulate=i > 0,
                                  hold=i < length - 1 and rng.random() < 0.5)
    await env.drain()
    if not env.regmap.array("CAL_OFFSET"):
        not_applicable("test_accumulate_chains_and_wrap (wrap)",
                       f"tdc_mode={c.tdc_mode!r} has no CAL_OFFSET to start a sum at the top "
                       f"of the range (its table values stay within +-rows)")
        await env.finish()
        return
    half = 1 << (c.result_width - 1)
    col = rng.randrange(c.cols)
    await env.write_reg(f"CAL_OFFSET{col}", half - 1)
    match = env.model.intended_weights[:, col]                 # code 0 in that column
    first = await env.send_vector(match)
    assert first.values[col] == half - 1
    wrapped = await env.send_vector(match, accumulate=True)
    assert wrapped.values[col] == -2, f"model: {wrapped.values[col]}"  # 2*(half-1) wraps
    await env.send_vector(match, accumulate=False)
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_vector_arrival_timing(dut):
    """Vectors arriving at every offset around the end of an evaluation, while the input buffer
    holds the next one: s_axis is back-pressured for 0, 1, 2... cycles, and results stay exact."""
    env = await _start(dut, seed_offset=30)
    env.no_backpressure()
    for delay in [d for d in range(6) for _ in range(_scale(3, 1))]:
        await env.drain()
        await env.send_vector(env.random_vector())      # being evaluated
        await env.send_vector(env.random_vector())      # held in the input buffer
        await FallingEdge(dut.arr_eval)                 # the first evaluation ends
        await ClockCycles(dut.clk, delay)
        await env.send_vector(env.random_vector())      # waits for the buffer
    await env.finish()


async def _set_write_failed(env: MacroEnv) -> bool:
    """Make a row write fail its write-verify (pulse too short, no retry); False if the build
    has no write-verify."""
    rm = env.regmap
    if not env.write_verify:
        return False
    try:
        wv = rm["WV_CTRL"]
        enable, retries = wv.field("ENABLE"), wv.field("MAX_RETRIES")
    except KeyError:
        return False
    await env.write_reg("WV_CTRL", (wv.reset | enable.mask) & ~retries.mask)
    await env.write_reg("WRITE_PULSE_CYCLES", max(1, env.switch_cycles - 1))
    row = env.rng.randrange(env.config.rows)
    await env.program_row(row, ~env.model.intended_weights[row])
    await env.wait_field("STATUS", "WRITE_BUSY", 0)
    return True


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_sticky_flags_set_and_cleared(dut):
    """Every sticky (w1c) STATUS flag this testbench knows how to raise is raised, read as set,
    cleared by writing 1, and read as clear; a flag without a known cause is reported."""
    env = await _start(dut, seed_offset=31)
    c, rm = env.config, env.regmap
    status = rm["STATUS"]

    async def bus_error():
        await env.write_reg("ID", 0, expect=AxiResp.SLVERR)

    async def length_error():
        await env.driver.send(AxiStreamFrame(tdata=[0] * (c.in_beats + 1), tuser=0))
        await env.drain()

    async def tdc_overflow():
        env.kill_comparators([0])
        await env.send_vector(env.random_vector())
        await env.drain()
        env.kill_comparators([])

    causes = {"BUS_ERROR": bus_error, "LENGTH_ERROR": length_error,
              "TDC_OVERFLOW": tdc_overflow, "WRITE_FAILED": lambda: _set_write_failed(env)}
    unknown = []
    for f in status.fields:
        if f.kind != "w1c":
            continue
        if f.name not in causes:
            unknown.append(f.name)
            continue
        if await causes[f.name]() is False:
            unknown.append(f.name)
            continue
        env.faults_injected += 1
        assert await env.read_field("STATUS", f.name) == 1, f"STATUS.{f.name} was not set"
        await env.write_reg("STATUS", f.mask)
        assert await env.read_field("STATUS", f.name) == 0, f"STATUS.{f.name} did not clear"
    if unknown:
        env.log.warning("no known cause for STATUS flag(s) %s: not exercised", unknown)
    # The flags are cleared behind the model's back: start again from reset.
    await env.reset()
    for _ in range(4):
        await env.send_vector(env.random_vector())
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_busy_bits_while_the_sequencer_is_blocked(dut):
    """The level STATUS bits read in every state that sets them: VMM_BUSY while a vector waits
    in the input buffer behind a pending row write (the sequencer starts nothing then) and
    behind a stalled result stream; WRITE_BUSY during the write, RESULT_PENDING while the
    result cannot leave; all three 0 once drained."""
    env = await _start(dut, seed_offset=32)
    c, rng = env.config, env.rng

    async def status() -> dict[str, int]:
        word = await env.read_reg("STATUS")
        return {f: env.field_value("STATUS", f, word)
                for f in ("VMM_BUSY", "WRITE_BUSY", "RESULT_PENDING")}

    # 1. A row write long enough to outlast sending a vector and reading STATUS.
    await env.drain()
    await env.write_reg("WRITE_PULSE_CYCLES", 64 + 16 * c.in_beats)
    row = rng.randrange(c.rows)
    await env.program_row(row, env.model.intended_weights[row])        # returns at once
    await env.send_vector(env.random_vector())
    await env.source.wait()                              # every beat is in the macro
    got = await status()
    assert got["WRITE_BUSY"] == 1, "the row write ended before the check: lengthen the pulse"
    assert got["VMM_BUSY"] == 1, (
        "STATUS.VMM_BUSY = 0 while a vector waits in the input buffer behind a row write")
    await env.drain()
    assert await status() == {"VMM_BUSY": 0, "WRITE_BUSY": 0, "RESULT_PENDING": 0}

    # 2. A stalled result stream: results pile up, the next vectors wait.
    await env.write_reg("WRITE_PULSE_CYCLES", _reset_word(env.regmap["WRITE_PULSE_CYCLES"]))
    env.sink.pause = True
    for _ in range(3):
        await env.send_vector(env.random_vector())
    await env.source.wait()
    await ClockCycles(dut.clk, 3 * _pass_cycles(env))
    got = await status()
    assert got["RESULT_PENDING"] == 1, "STATUS.RESULT_PENDING = 0 with m_axis stalled"
    assert got["VMM_BUSY"] == 1, (
        "STATUS.VMM_BUSY = 0 while vectors wait behind a stalled result stream")
    env.sink.pause = False
    await env.drain()
    assert await status() == {"VMM_BUSY": 0, "WRITE_BUSY": 0, "RESULT_PENDING": 0}
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_timing_registers_at_their_edges(dut):
    """Timing and write-verify registers at their minimum and maximum, each followed by row
    writes and passes checked against the model: WRITE_PULSE_CYCLES 1 (shorter than switching:
    only doubled retries switch) with MAX_RETRIES 0 (cells reported failed) and at its maximum,
    WV_READ.DELAY 0, PRECHARGE_CYCLES 1 and 255, TDC_START_DELAY 0 and (full runs) 65535."""
    env = await _start(dut, seed_offset=33)
    c, rm, rng = env.config, env.regmap, env.rng
    wv = rm["WV_CTRL"]

    def wv_word(retries: int) -> int:       # (no write-verify in a coarse build: ENABLE 0)
        return ((wv.field("ENABLE").mask if env.write_verify else 0)
                | wv.field("PULSE_DOUBLING").mask | retries << wv.field("MAX_RETRIES").lsb)

    async def rewrite_and_compute(n_rows: int = 2, n_vectors: int = 3) -> None:
        rows = rng.sample(range(c.rows), k=min(n_rows, c.rows))
        await env.program_weights(env.random_weights(), rows=rows)
        for _ in range(n_vectors):
            await env.send_vector(env.random_vector(), accumulate=rng.random() < 0.5)
        await env.drain()
        await env.check_status()

    pulse_lo, _ = field_range(rm["WRITE_PULSE_CYCLES"].field("CYCLES"))
    _, retries_hi = field_range(wv.field("MAX_RETRIES"))
    await env.write_reg("WRITE_PULSE_CYCLES", pulse_lo)
    for retries in (0, retries_hi):
        await env.write_reg("WV_CTRL", wv_word(retries))
        await rewrite_and_compute()
    await env.write_reg("WV_CTRL", wv.reset)
    await env.write_reg("WRITE_PULSE_CYCLES", _reset_word(rm["WRITE_PULSE_CYCLES"]))
    delay_lo, _ = field_range(rm["WV_READ"].field("DELAY"))
    await env.write_reg("WV_READ", (_reset_word(rm["WV_READ"])
                                    & ~rm["WV_READ"].field("DELAY").mask) | delay_lo)
    await rewrite_and_compute()
    await env.write_reg("WV_READ", _reset_word(rm["WV_READ"]))
    for value in field_range(rm["PRECHARGE_CYCLES"].field("CYCLES")):
        await env.write_reg("PRECHARGE_CYCLES", value)
        await rewrite_and_compute(n_rows=0)
    delays = field_range(rm["TDC_START_DELAY"].field("CYCLES"))
    for value in delays if not _smoke() else delays[:1]:
        await env.write_reg("TDC_START_DELAY", value)
        await rewrite_and_compute(n_rows=0, n_vectors=2)
    await env.finish()

