"""A small harness for Amaranth-simulator unit tests of single components."""

from __future__ import annotations

from amaranth.sim import Simulator


def run(dut, *testbenches, period_s: float = 5e-9, deadline_s: float | None = None) -> None:
    """Simulate ``dut`` with a clock and the given async testbenches; all must finish."""
    sim = Simulator(dut)
    sim.add_clock(period_s)
    for tb in testbenches:
        sim.add_testbench(tb)
    if deadline_s is None:
        sim.run()
    else:
        sim.run_until(deadline_s)
