"""A small harness for Amaranth-simulator unit tests of single components."""

from __future__ import annotations

from amaranth.sim import Simulator

#: Default deadline of :func:`run` in clock cycles: about 10 s of wall time in the Amaranth
#: simulator, ten times what the longest unit test of this suite needs.
DEFAULT_DEADLINE_CYCLES = 200_000


class DeadlineExceeded(AssertionError):
    """A unit simulation did not finish within its deadline (a block that never answers)."""


def run(dut, *testbenches, period_s: float = 5e-9,
        deadline_cycles: int = DEFAULT_DEADLINE_CYCLES) -> None:
    """Simulate ``dut`` with a clock and the given async testbenches; all must finish.

    A watchdog fails the simulation after ``deadline_cycles`` clock periods of simulated time,
    naming the testbenches that had not finished, so a block that never produces its output
    fails the test instead of hanging it.

    Raises:
        DeadlineExceeded: some testbench was still running at the deadline.
    """
    if isinstance(deadline_cycles, bool) or not isinstance(deadline_cycles, int) \
            or deadline_cycles < 1:
        raise ValueError(f"deadline_cycles must be a positive integer, not {deadline_cycles!r}")
    sim = Simulator(dut)
    sim.add_clock(period_s)
    running: dict[int, str] = {}

    def tracked(i: int, tb):
        async def bench(ctx):
            running[i] = getattr(tb, "__name__", f"testbench #{i}")
            await tb(ctx)
            del running[i]
        return bench

    async def watchdog(ctx):
        await ctx.delay(deadline_cycles * period_s)
        if running:
            raise DeadlineExceeded(
                f"testbench(es) {', '.join(sorted(running.values()))} did not finish within "
                f"{deadline_cycles} clock cycles: the block never produced what they wait for")

    for i, tb in enumerate(testbenches):
        sim.add_testbench(tracked(i, tb))
    sim.add_testbench(watchdog, background=True)
    sim.run()
