"""Robustness of the generated ``mram_macro``: protocol stress, bad input, faults and resets.

Every test injects something the macro must survive (random pauses on every AXI channel,
rejected accesses, malformed vectors, commands while busy, dead comparators, reset at random
cycles) and ends with a scoreboard check (:meth:`MacroEnv.finish`) that no later result was
lost or corrupted. Registers, fields and FSMs are taken from the register map and the
elaborated design, so new registers and states are exercised without editing this file.

Run through ``verif/test_matrix.py`` / ``verif/regress.py`` (pytest, both simulators, the
configuration matrix), with :mod:`verif.cocotb.test_coverage_closure` (the suite
:data:`verif.cocotb.ROBUSTNESS_SUITE`). Parameters come from the process environment, as for
:mod:`verif.cocotb.test_macro` (:mod:`verif.cocotb.fixtures`): ``MRAM_CONFIG``, ``MRAM_SEED``,
and ``MRAM_NVMM``, which also scales the effort of these tests (600 = full; the smoke runs of
``make test`` use less).
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, First, RisingEdge, ValueChange
from cocotbext.axi import AxiResp, AxiStreamFrame

from mram_macro.design.regmap import AXIL_ADDR_WIDTH, MACRO_ID
from mram_macro.sim.netlist import rtl_register
from mram_macro.sim.testbench.model import T_CLK_NS
from mram_macro.sim.testbench.params import run_config, run_seed
from verif.cocotb.env import MacroEnv
from verif.cocotb.fixtures import (
    TEST_TIMEOUT_MS,
    _check_clean_state,
    _check_outputs_resolvable,
    _legal_word,
    _pass_cycles,
    _reset_word,
    _scale,
    _smoke,
    _start,
)
from verif.cocotb.fsm_graphs import fsm_graphs


def _rejected_words(reg) -> list[tuple[str, int]]:
    """``(why, word)`` writes that ``reg`` must reject (its other fields at their reset)."""
    base = _reset_word(reg)
    out = []
    for f in reg.fields:
        if f.kind != "rw":
            continue
        clear = base & ~f.mask & 0xFFFFFFFF
        if f.signed:
            if f.width < 32:
                out.append((f"{f.name} above its signed range", 1 << (f.width - 1)))
            continue
        if f.min_value > 0:
            out.append((f"{f.name} below {f.min_value}", clear | ((f.min_value - 1) << f.lsb)))
        top = (1 << f.width) - 1
        if f.max_value is not None and f.max_value < top:
            out.append((f"{f.name} above {f.max_value}", clear | ((f.max_value + 1) << f.lsb)))
    if any(f.kind == "rw" for f in reg.fields) and not any(f.signed for f in reg.fields):
        used = 0
        for f in reg.fields:
            used |= f.mask
        spare = ~used & 0xFFFFFFFF
        if spare:
            out.append(("a reserved bit", base | (spare & -spare)))
    for why, word in out:
        assert reg.check_write(word) is not None, (reg.name, why, hex(word))
    return out


async def _pace(env: MacroEnv, depth: int = 2) -> None:
    """Wait until fewer than ``depth`` vectors are queued in the s_axis source (so that stimulus
    interleaves with time, instead of being queued all at once)."""
    while env.source.count() >= depth:
        await RisingEdge(env.dut.clk)


# -- protocol stress --------------------------------------------------------------------------
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_bus_pauses_everywhere(dut):
    """Random pauses on all five AXI4-Lite channels and both streams, with concurrent register
    traffic (two writers, one reader) and row rewrites while vectors stream.

    Read-back values are checked as they arrive; results by the scoreboard.
    """
    env = await _start(dut, seed_offset=20)
    c, rm, rng = env.config, env.regmap, env.rng
    env.random_bus_pauses(p_pause=0.4)
    env.random_backpressure(p_source_idle=0.3, p_sink_stall=0.5)
    # What every register not being written concurrently must read.
    constant = {"ID": MACRO_ID}
    for reg_name, fields in (("GEOMETRY", {"ROWS": c.rows, "COLS": c.cols}),
                             ("WIDTHS", {"TDC_BITS": c.tdc_bits,
                                         "RESULT_WIDTH": c.result_width,
                                         "STREAM_WIDTH": c.stream_width})):
        constant[reg_name] = sum(v << rm[reg_name].field(k).lsb for k, v in fields.items())
    for reg in rm.registers:
        if all(f.kind == "rw" for f in reg.fields):
            constant[reg.name] = _reset_word(reg)
    # Registers that change no result: written concurrently with the vectors.
    harmless = ["PRECHARGE_CYCLES", "WRITE_ROW_ADDR", *(r.name for r in rm.array("WEIGHT_DATA"))]
    for name in harmless:
        constant.pop(name, None)
    stop_writers = stop_reader = False
    reads = 0

    async def writer(names):
        while not stop_writers:
            reg = rm[rng.choice(names)]
            word = _legal_word(reg, rng)
            if reg.name == "PRECHARGE_CYCLES":
                word = rng.randrange(1, 9)
            await env.write_reg(reg.name, word)

    async def reader():
        nonlocal reads
        regs = list(rm.registers)
        while not stop_reader:
            reg = rng.choice(regs)
            word = await env.read_reg(reg.name)
            reads += 1
            if reg.name in constant:
                assert word == constant[reg.name], (
                    f"{reg.name} read 0x{word:08X} under bus pauses, expected "
                    f"0x{constant[reg.name]:08X}")

    # Two writers and two readers keep two transactions in flight per direction, so that a
    # paused B or R channel back-pressures the next AW, W or AR.
    tasks = [cocotb.start_soon(writer(["PRECHARGE_CYCLES"])),
             cocotb.start_soon(writer(harmless[1:])),
             cocotb.start_soon(reader()), cocotb.start_soon(reader())]
    n = _scale(240, 16)
    for i in range(n):
        if i == n // 2:
            # Second half: no writer touches WEIGHT_DATA, so rows can be rewritten (with the
            # weights they hold, so every result is known whichever vectors a write lands
            # between).
            stop_writers = True
            for task in tasks[:2]:
                await task
            tasks = tasks[2:]
        if i > n // 2 and rng.random() < 0.1:
            row = rng.randrange(c.rows)
            await env.program_row(row, env.model.intended_weights[row])
        await _pace(env)
        await env.send_vector(env.random_vector(rng.random()), accumulate=rng.random() < 0.4,
                              hold=rng.random() < 0.2, noise=rng.random() < 0.5)
    stop_reader = True
    for task in tasks:
        await task
    await env.finish()
    assert reads > 0 and env.scoreboard.matches >= 1


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_rejected_accesses(dut):
    """Unmapped addresses answer DECERR; read-only registers, partial strobes, reserved bits and
    out-of-range values answer SLVERR and change nothing; every rejection is flagged in
    STATUS.BUS_ERROR with its address in BUS_ERROR_ADDR. Results afterwards are intact."""
    env = await _start(dut, seed_offset=21)
    rm, rng = env.regmap, env.rng
    env.random_bus_pauses(p_pause=0.2)
    rejected = 0

    async def expect_error_addr(addr: int) -> None:
        got = await env.read_field("BUS_ERROR_ADDR", "ADDR")
        assert got == addr, f"BUS_ERROR_ADDR = 0x{got:03X} after rejecting 0x{addr:03X}"

    # Unmapped addresses: all of them at full effort; the neighbours of every mapped block,
    # the top of the window and a random sample otherwise.
    mapped = {r.offset for r in rm.registers}
    unmapped = [a for a in range(0, 1 << AXIL_ADDR_WIDTH, 4) if a not in mapped]
    if _smoke():
        edges = {a for a in unmapped if a - 4 in mapped or a + 4 in mapped}
        edges |= {unmapped[-1]} | set(rng.sample(unmapped, k=min(16, len(unmapped))))
        unmapped = sorted(edges)
    env.bus_errors_expected = True
    for i, addr in enumerate(unmapped):
        read = await env.axil.read(addr, 4)
        assert read.resp == AxiResp.DECERR, f"read of unmapped 0x{addr:03X}: {read.resp.name}"
        write = await env.axil.write(addr, rng.getrandbits(32).to_bytes(4, "little"))
        assert write.resp == AxiResp.DECERR, f"write of unmapped 0x{addr:03X}: {write.resp.name}"
        rejected += 2
        if i % 16 == 0:
            await expect_error_addr(addr)
    assert await env.read_field("STATUS", "BUS_ERROR") == 1

    # Read-only registers: SLVERR and unchanged (BUS_ERROR_ADDR then holds its own address).
    for reg in rm.registers:
        if not reg.read_only:
            continue
        before = await env.read_reg(reg.name)
        await env.write_reg(reg.name, rng.getrandbits(32), expect=AxiResp.SLVERR)
        rejected += 1
        await expect_error_addr(reg.offset)
        want = reg.offset if reg.name == "BUS_ERROR_ADDR" else before
        assert await env.read_reg(reg.name) == want, f"read-only {reg.name} changed"

    # Writable registers: partial strobes, reserved bits, out-of-range values.
    writable = [r for r in rm.registers if not r.read_only]
    sample = [r for r in writable
              if r.array_name is None or r is rm.array(r.array_name)[0]
              or (not _smoke() and r is rm.array(r.array_name)[-1])]
    writes_before = env.array.writes_applied
    for reg in sample:
        before = await env.read_reg(reg.name)
        for offset, size in ((0, 1), (1, 2), (0, 3), (3, 1)):
            data = (0x01 << 0).to_bytes(1, "little") * size if reg.name == "CTRL" \
                else rng.getrandbits(8 * size).to_bytes(size, "little")
            resp = (await env.axil.write(reg.offset + offset, data)).resp
            assert resp == AxiResp.SLVERR, (
                f"{size}-byte write at {reg.name}+{offset}: {resp.name}, expected SLVERR")
            rejected += 1
        await expect_error_addr(reg.offset + 3)
        for why, word in _rejected_words(reg):
            await env.write_reg(reg.name, word, expect=AxiResp.SLVERR)
            rejected += 1
            await expect_error_addr(reg.offset)
            env.log.info("rejected %s <- 0x%08X (%s)", reg.name, word, why)
        if reg.name != "STATUS":
            after = await env.read_reg(reg.name)
            assert after == before, f"{reg.name} changed by rejected writes: " \
                                    f"0x{before:08X} -> 0x{after:08X}"
    await env.cycles(50)
    assert env.array.writes_applied == writes_before, "a rejected CTRL write started a row write"

    # The flag clears by writing 1 to it, and the macro still computes.
    status = rm["STATUS"]
    await env.write_reg("STATUS", 1 << status.field("BUS_ERROR").lsb)
    env.bus_errors_expected = False
    assert await env.read_field("STATUS", "BUS_ERROR") == 0
    env.no_bus_pauses()
    for _ in range(_scale(40, 6)):
        await env.send_vector(env.random_vector(), accumulate=rng.random() < 0.3)
    env.faults_injected += rejected
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_busy_rejected_or_queued(dut):
    """As documented: CTRL.WRITE_ROW while a row write is in progress answers SLVERR and issues
    nothing; a row write waits for the evaluation under way; vectors wait while a row write
    runs (their results show the new weights)."""
    env = await _start(dut, seed_offset=22)
    c, rm, rng = env.config, env.regmap, env.rng
    ctrl = rm["CTRL"]
    write_row = 1 << ctrl.field("WRITE_ROW").lsb
    await env.write_reg("WRITE_PULSE_CYCLES", 64)     # a long write: a wide busy window

    # 1. A second command while the first row write runs: rejected, nothing issued.
    row = rng.randrange(c.rows)
    solo_before = env.array.writes_applied
    await env.program_row(row, env.model.intended_weights[row])
    await env.wait_field("STATUS", "WRITE_BUSY", 0)
    solo = env.array.writes_applied - solo_before
    assert solo >= 2, f"one row write applied {solo} write pulse(s)"
    before = env.array.writes_applied
    row = rng.randrange(c.rows)
    await env.program_row(row, ~env.model.intended_weights[row])
    assert await env.read_field("STATUS", "WRITE_BUSY") == 1
    await env.write_reg("CTRL", write_row, expect=AxiResp.SLVERR)
    assert await env.read_field("BUS_ERROR_ADDR", "ADDR") == ctrl.offset
    assert await env.read_field("STATUS", "WRITE_BUSY") == 1, (
        "the row write ended before the second command: the test proved nothing")
    await env.wait_field("STATUS", "WRITE_BUSY", 0)
    assert env.array.writes_applied - before == solo, (
        f"{env.array.writes_applied - before} write pulses for one accepted and one rejected "
        f"command; one command alone gives {solo}")
    await env.write_reg("STATUS", 1 << rm["STATUS"].field("BUS_ERROR").lsb)
    env.bus_errors_expected = False

    # 2. A row write commanded during an evaluation waits for it: the vector in flight sees the
    #    old weights, the next ones the new (the array model flags any overlap).
    for _ in range(_scale(6, 2)):
        await env.drain()
        await env.wait_field("STATUS", "WRITE_BUSY", 0)
        row = rng.randrange(c.rows)
        new = ~env.model.intended_weights[row]
        for reg in rm.array("WEIGHT_DATA"):
            f = reg.field("BITS")
            chunk = new[32 * reg.index:32 * reg.index + f.width]
            await env.write_reg(reg.name, sum(1 << int(i) for i in np.flatnonzero(chunk)))
        await env.write_reg("WRITE_ROW_ADDR", row << rm["WRITE_ROW_ADDR"].field("ROW").lsb)
        await env.send_vector(env.random_vector())            # predicted with the old weights
        await RisingEdge(dut.arr_eval)
        await env.command("WRITE_ROW")
        assert int(dut.arr_eval.value) == 1, "the evaluation ended before the command"
        env.model.row_written(row, new)
        env.faults_injected += 1
        await env.send_vector(env.random_vector())             # the new weights
    await env.drain()

    # 3. Vectors sent while a row write runs wait for it: no pass completes meanwhile.
    for _ in range(_scale(6, 2)):
        row = rng.randrange(c.rows)
        await env.program_row(row, ~env.model.intended_weights[row])
        count = await env.read_field("VMM_COUNT", "COUNT")
        for _ in range(3):
            await env.send_vector(env.random_vector())
        while await env.read_field("STATUS", "WRITE_BUSY"):
            assert await env.read_field("VMM_COUNT", "COUNT") == count, (
                "a VMM pass completed while a row write was in progress")
        env.faults_injected += 1
        await env.drain()
    await env.write_reg("WRITE_PULSE_CYCLES", _reset_word(rm["WRITE_PULSE_CYCLES"]))
    await env.finish()


# -- bad input --------------------------------------------------------------------------------
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_length_errors_random(dut):
    """Vectors with tlast early or late, at random among good ones and under back-pressure, are
    dropped and flagged; every good vector's result is correct; the flag clears (W1C)."""
    env = await _start(dut, seed_offset=23)
    c, rng = env.config, env.rng
    env.random_backpressure(p_source_idle=0.3, p_sink_stall=0.3)
    lengths = [*range(1, c.in_beats), *(c.in_beats + k for k in (1, 2, 3))]
    bad = flagged = 0
    for _ in range(_scale(200, 20)):
        await _pace(env)
        if rng.random() < 0.3:
            k = rng.choice(lengths)
            tuser = [rng.getrandbits(2) for _ in range(k)]
            await env.driver.send(AxiStreamFrame(
                tdata=[rng.getrandbits(c.stream_width) for _ in range(k)], tuser=tuser))
            # a single-pass build drops a flagged vector as a flags error, whatever its length
            if not c.multibit and tuser[0]:
                flagged += 1
            else:
                bad += 1
        else:
            await env.send_vector(env.random_vector(rng.random()),
                                  accumulate=rng.random() < 0.4, hold=rng.random() < 0.2,
                                  noise=rng.random() < 0.5)
    env.length_errors_expected = bad > 0
    env.flags_errors_expected = flagged > 0
    await env.drain()
    await env.check_status()
    status = env.regmap["STATUS"]
    await env.write_reg("STATUS", 1 << status.field("LENGTH_ERROR").lsb)
    env.length_errors_expected = False
    assert await env.read_field("STATUS", "LENGTH_ERROR") == 0
    for _ in range(5):
        await env.send_vector(env.random_vector())
    env.faults_injected += bad + flagged
    await env.finish()


# -- faults -----------------------------------------------------------------------------------
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_dead_comparator(dut):
    """A comparator that never fires saturates its column's code, sets STATUS.TDC_OVERFLOW and
    the result's overflow flag, and costs one TDC window, never a hang; the other columns stay
    exact, and all columns are exact again once it works."""
    env = await _start(dut, seed_offset=25)
    c, rng, rm = env.config, env.rng, env.regmap
    rounds = [rng.sample(range(c.cols), k=rng.randint(1, min(3, c.cols))), list(range(c.cols)),
              []]
    for dead in rounds:
        await env.drain()
        env.kill_comparators(dead)
        n = _scale(30, 4)
        if len(dead) == c.cols:
            # Every column dead, sink always ready: every pass takes the whole window.
            env.no_backpressure()
            t0 = get_sim_time("ns")
            for _ in range(n):
                await env.send_vector(env.random_vector(), accumulate=rng.random() < 0.4)
            await env.drain()
            cycles = (get_sim_time("ns") - t0) / T_CLK_NS
            assert cycles <= n * _pass_cycles(env) + 200, (
                f"{n} passes with every comparator dead took {cycles:.0f} cycles")
        else:
            env.random_backpressure(p_source_idle=0.2, p_sink_stall=0.4)
            for _ in range(n):
                await env.send_vector(env.random_vector(), accumulate=rng.random() < 0.4,
                                      hold=rng.random() < 0.2)
            await env.drain()
        await env.check_status()
        if dead:
            assert env.model.overflow_seen, "no pass saturated with a dead comparator"
            env.faults_injected += 1
        await env.write_reg("STATUS", 1 << rm["STATUS"].field("TDC_OVERFLOW").lsb)
        env.model.overflow_seen = False
        assert await env.read_field("STATUS", "TDC_OVERFLOW") == 0
    await env.finish()


async def _wait_state(clk, handle, code: int, max_cycles: int) -> bool:
    """Wait until the state register ``handle`` holds ``code`` (False after ``max_cycles``)."""
    deadline = get_sim_time("ns") + max_cycles * T_CLK_NS
    while True:
        if handle.value.is_resolvable and int(handle.value) == code:
            return True
        left = round((deadline - get_sim_time("ns")) / T_CLK_NS)
        if left <= 0:
            return False
        await First(ValueChange(handle), ClockCycles(clk, left))


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_random_resets(dut):
    """rst asserted at random cycles, and in every state of every FSM, under vectors, row
    rewrites and register traffic: afterwards the macro is in its documented reset state (pins
    quiet and resolvable, STATUS 0, VMM_COUNT 0, registers at reset values) and computes
    correctly."""
    env = await _start(dut, seed_offset=24)
    c, rm, rng = env.config, env.regmap, env.rng
    graphs = fsm_graphs(c)
    targets = [(g, s) for g in graphs for s in g.encoding]
    rng.shuffle(targets)
    if _smoke():
        targets = targets[:_scale(len(targets), 3)]
    rounds = [*targets, *([None] * _scale(8, 2)), *(["write", "read"] * _scale(2, 1))]
    rng.shuffle(rounds)
    names = [r.name for r in rm.registers]
    hits = 0

    async def traffic():
        while True:
            roll = rng.random()
            if roll < 0.12:
                row = rng.randrange(c.rows)
                await env.program_row(row, env.model.intended_weights[row])
            elif roll < 0.25:
                await env.read_reg(rng.choice(names))
            elif roll < 0.35:
                await env.write_reg("PRECHARGE_CYCLES", rng.randrange(1, 9))   # no result changes
            else:
                await _pace(env)
                await env.send_vector(env.random_vector(rng.random()),
                                      accumulate=rng.random() < 0.4, hold=rng.random() < 0.2,
                                      noise=rng.random() < 0.5)

    for target in rounds:
        # Registers away from their reset values (the model mirrors them): small offsets
        # (-8..7, within what CAL_OFFSET accepts at this result width) or a coarse table entry.
        await env.write_reg("PRECHARGE_CYCLES", rng.randrange(1, 9))
        await env.write_offset(rng.randrange(c.cols), small=True)
        await env.write_reg("TDC_START_DELAY", max(0, env.model.golden.start_delay_cycles
                                                   + rng.randrange(-2, 3)))
        env.random_backpressure(p_source_idle=rng.choice((0.0, 0.3)),
                                p_sink_stall=rng.choice((0.0, 0.5)))
        task = cocotb.start_soon(traffic())
        if target is None:
            await ClockCycles(dut.clk, rng.randrange(1, 3 * _pass_cycles(env)))
        elif target in ("write", "read"):
            # Reset with an AXI4-Lite transaction on the bus (the master forgets it).
            task.cancel()
            task = cocotb.start_soon(env.write_reg("PRECHARGE_CYCLES", 3) if target == "write"
                                     else env.read_reg("VMM_COUNT"))
            await ClockCycles(dut.clk, rng.randrange(1, 3))
        else:
            g, state = target
            handle = rtl_register(env.rtl, g.register)  # the macro's (inside the harness)
            hits += await _wait_state(dut.clk, handle, g.encoding[state],
                                      40 * _pass_cycles(env))
        task.cancel()
        await env.reset(cycles=rng.randint(1, 5))
        env.faults_injected += 1
        await _check_clean_state(env, all_arrays=not _smoke())
        env.no_backpressure()
        for i in range(3):
            await env.send_vector(env.random_vector(), accumulate=i > 0)
        await env.drain()
    env.log.info("resets: %d rounds, %d in a targeted FSM state", len(rounds), hits)
    await env.finish()


@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_outputs_resolvable_after_reset(dut):
    """No X or Z on any output port after reset: from power-up, and after a reset in the middle
    of a pass and of a row write (meaningful on Icarus, which is 4-state)."""
    env = MacroEnv(dut, run_config(), seed=run_seed() + 26)
    await env.reset()
    _check_outputs_resolvable(env, "after the power-up reset")
    await env.program_weights(env.random_weights())
    for trigger in ("arr_eval", "arr_wr_pulse"):
        env.random_backpressure(p_source_idle=0.2, p_sink_stall=0.5)
        row = env.rng.randrange(env.config.rows)
        await env.program_row(row, env.model.intended_weights[row])
        for _ in range(4):
            await env.send_vector(env.random_vector(), accumulate=True)
        await First(RisingEdge(getattr(dut, trigger)), ClockCycles(dut.clk, 4000))
        await env.reset(cycles=2)
        await _check_clean_state(env, all_arrays=False)
        env.faults_injected += 1
    for _ in range(4):
        await env.send_vector(env.random_vector())
    await env.finish()

