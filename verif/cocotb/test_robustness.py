"""Robustness of the generated ``mram_macro``: protocol stress, bad input, faults and resets.

Every test injects something the macro must survive (random pauses on every AXI channel,
rejected accesses, malformed vectors, commands while busy, dead comparators, reset at random
cycles) and ends with a scoreboard check (:meth:`MacroEnv.finish`) that no later result was
lost or corrupted. Registers, fields and FSMs are taken from the register map and the
elaborated design, so new registers and states are exercised without editing this file.

Run through ``verif/test_matrix.py`` / ``verif/regress.py`` (pytest, both simulators, the
configuration matrix). Parameters come from the process environment, as for
:mod:`verif.cocotb.test_macro`: ``MRAM_CONFIG``, ``MRAM_SEED``, and ``MRAM_NVMM``, which also
scales the effort of these tests (600 = full; the smoke runs of ``make test`` use less).
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, FallingEdge, First, RisingEdge, ValueChange
from cocotbext.axi import AxiResp, AxiStreamFrame

from mram_macro.periphery.tdc import SYNC_STAGES
from mram_macro.regmap import AXIL_ADDR_WIDTH, MACRO_ID
from mram_macro.sim.netlist import rtl_register
from verif.budgets import field_range
from verif.cocotb.coverage import elaborated, fsm_graphs, tdc_code_bins
from verif.cocotb.env import T_CLK_NS, MacroEnv
from verif.cocotb.test_macro import (
    TEST_TIMEOUT_MS,
    _config,
    _n_vmm,
    _reset_word,
    _seed,
    _start,
    not_applicable,
)

#: Effort of a full run (MRAM_NVMM = 600); smaller MRAM_NVMM scales it down.
_FULL_EFFORT_NVMM = 600


def _scale(n: int, least: int = 1) -> int:
    """``n`` iterations at full effort, scaled by MRAM_NVMM, at least ``least``."""
    return max(least, round(n * _n_vmm() / _FULL_EFFORT_NVMM))


def _smoke() -> bool:
    return _n_vmm() < _FULL_EFFORT_NVMM // 2


def _legal_word(reg, rng) -> int:
    """A random word that ``reg`` accepts (``rw`` fields in range; others 0)."""
    word = 0
    for f in reg.fields:
        if f.kind != "rw":
            continue
        if f.signed:
            return rng.randrange(-(1 << (f.width - 1)), 1 << (f.width - 1)) & 0xFFFFFFFF
        hi = f.max_value if f.max_value is not None else (1 << f.width) - 1
        word |= rng.randrange(f.min_value, hi + 1) << f.lsb
    assert reg.check_write(word) is None, (reg.name, hex(word))
    return word


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


def _output_ports(config) -> list[str]:
    """The macro's output ports, from its Amaranth signature (one source of truth)."""
    from amaranth.lib.wiring import Out

    members = elaborated(config)[0].signature.members
    return [name for name, member in members.items() if member.is_port and member.flow == Out]


def _check_outputs_resolvable(env: MacroEnv, when: str) -> None:
    """Every output port holds 0/1 (Icarus is 4-state; Verilator is 2-state, so trivially)."""
    bad = []
    for name in _output_ports(env.config):
        value = getattr(env.dut, name).value
        if not value.is_resolvable:
            bad.append(f"{name}={value}")
    assert not bad, f"outputs not resolvable {when}: {', '.join(bad)}"


async def _check_clean_state(env: MacroEnv, *, all_arrays: bool) -> None:
    """The documented state after reset: quiet pins, STATUS 0, VMM_COUNT 0, rw at reset."""
    dut, rm = env.dut, env.regmap
    _check_outputs_resolvable(env, "after reset")
    for pin in ("arr_pre", "arr_eval", "arr_wr_pulse", "m_axis_tvalid", "s_axil_bvalid",
                "s_axil_rvalid"):
        assert int(getattr(dut, pin).value) == 0, f"{pin} is high right after reset"
    assert int(dut.s_axis_tready.value) == 1, "s_axis_tready is low right after reset"
    status = await env.read_reg("STATUS")
    assert status == 0, f"STATUS reads 0x{status:08X} after reset, expected 0"
    assert await env.read_field("VMM_COUNT", "COUNT") == 0, "VMM_COUNT is not 0 after reset"
    rng = env.rng
    for reg in rm.registers:
        if not any(f.kind == "rw" for f in reg.fields):
            continue
        if reg.array_name is not None and not all_arrays:
            group = rm.array(reg.array_name)
            if reg is not group[0] and reg is not group[-1] and rng.random() > 4 / len(group):
                continue
        got, want = await env.read_reg(reg.name), _reset_word(reg)
        assert got == want, f"{reg.name} reads 0x{got:08X} after reset, expected 0x{want:08X}"


async def _pace(env: MacroEnv, depth: int = 2) -> None:
    """Wait until fewer than ``depth`` vectors are queued in the s_axis source (so that stimulus
    interleaves with time, instead of being queued all at once)."""
    while env.source.count() >= depth:
        await RisingEdge(env.dut.clk)


def _pass_cycles(env: MacroEnv) -> int:
    """Upper bound of the cycles one pass takes with an always-ready sink."""
    c = env.config
    max_precharge = 255
    return (max_precharge + env.model.golden.start_delay_cycles + SYNC_STAGES + c.tdc_max_code
            + c.in_beats + c.out_beats + 16)


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
    env = MacroEnv(dut, _config(), seed=_seed() + 26)
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


# -- coverage closure -------------------------------------------------------------------------
@cocotb.test(timeout_time=TEST_TIMEOUT_MS, timeout_unit="ms")
async def test_tdc_full_range(dut):
    """Every TDC code bin the array can produce, from 0 to saturation: the start delay moves
    the codes up, the number of mismatching cells picks the code in a column."""
    if _config().tdc_mode == "coarse":
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
