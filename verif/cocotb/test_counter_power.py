"""Workload of the energy-accounting unit test: a free-running counter, reset then counted.

Reports a window of ``MRAM_NVMM`` x 16 cycles (one "VMM" = 16 cycles, a full count of a
4-bit counter) through ``MRAM_METRICS``, as :mod:`mram_macro.flow.ppa.activity` expects.
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

T_CLK_NS = 10.0
CYCLES_PER_ROUND = 16


@cocotb.test()
async def test_count(dut):
    cocotb.start_soon(Clock(dut.clk, T_CLK_NS, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    rounds = int(os.environ.get("MRAM_NVMM", "4"))
    await RisingEdge(dut.clk)
    start = get_sim_time("ns")
    await ClockCycles(dut.clk, CYCLES_PER_ROUND * rounds)
    end = get_sim_time("ns")
    with open(os.environ["MRAM_METRICS"], "a") as f:
        f.write(json.dumps({"window_start_ns": start, "window_end_ns": end,
                            "window_vmms": rounds, "t_clk_ns": T_CLK_NS}) + "\n")
