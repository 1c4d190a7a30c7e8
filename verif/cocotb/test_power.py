"""Workload for the power analysis: random VMMs streamed into the macro, every result checked.

Run by :mod:`mram_macro.ppa.activity` on the *gate-level* netlist (Yosys + Liberty cell models
on Icarus) with a VCD dump; the switching activity inside the reported window becomes the
per-net activity of OpenSTA's ``report_power``. Also runs on the RTL (any simulator).

Environment: ``MRAM_CONFIG``, ``MRAM_SEED`` and ``MRAM_NVMM`` (VMMs in the window) as for
:mod:`verif.cocotb.test_macro`; the window is reported through ``MRAM_METRICS`` as
``window_start_ns``, ``window_end_ns``, ``window_vmms`` and ``t_clk_ns``.
"""

from __future__ import annotations

import cocotb
from cocotb.simtime import get_sim_time
from cocotb.triggers import RisingEdge

from verif.cocotb.env import T_CLK_NS
from verif.cocotb.test_macro import _n_vmm, _start


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def test_power_workload(dut):
    """Random weights (loaded by back door), then MRAM_NVMM random input vectors streamed back
    to back into an always-ready sink (the throughput workload of ``make bench``), results
    checked."""
    env = await _start(dut, seed_offset=23, weights=False)
    # Weights by back door (both the pin model's array and the reference model): programming
    # 64 rows through the bus would take most of a slow gate-level run, and the window below
    # measures VMMs only.
    w = env.random_weights()
    env.array.array.load_weights(w)
    env.model.golden.array.load_weights(w)
    env.model.intended_weights[:] = w
    env.no_backpressure()
    n = max(1, _n_vmm())
    await RisingEdge(dut.clk)
    start_ns = get_sim_time("ns")
    for _ in range(n):
        await env.send_vector(env.random_vector())
    await env.drain()
    await RisingEdge(dut.clk)
    end_ns = get_sim_time("ns")
    env.report_metrics(window_start_ns=start_ns, window_end_ns=end_ns, window_vmms=n,
                       t_clk_ns=T_CLK_NS)
    await env.finish()
    assert env.scoreboard.matches == n
