"""Isolation probe (run by ``verif/test_isolation.py``, never part of a suite): tests that fail
on purpose, mid-flight, each followed by a normal test that must still pass."""

import cocotb
from cocotb.triggers import ClockCycles

from verif.cocotb.fixtures import _random_vmm, _start


@cocotb.test()
async def test_a_fails_mid_flight(dut):
    """Fails during a pass, with a row write and a register read in flight."""
    env = await _start(dut)
    for _ in range(6):
        await env.send_vector(env.random_vector())
    cocotb.start_soon(env.program_row(0, env.model.intended_weights[0]))
    cocotb.start_soon(env.read_reg("STATUS"))
    await ClockCycles(dut.clk, 7)
    raise AssertionError("deliberate failure mid-flight")


@cocotb.test()
async def test_b_next(dut):
    await _random_vmm(await _start(dut, seed_offset=1), 40)


@cocotb.test()
async def test_c_fails_in_reset_state(dut):
    """Fails with a dead comparator and the input stream paused mid-vector."""
    env = await _start(dut)
    env.kill_comparators([0])
    for _ in range(3):
        await env.send_vector(env.random_vector())
    env.source.set_pause_generator(iter(lambda: True, None))
    await ClockCycles(dut.clk, 50)
    raise AssertionError("deliberate failure 2")


@cocotb.test()
async def test_d_next(dut):
    await _random_vmm(await _start(dut, seed_offset=2), 40)
