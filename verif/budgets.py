"""Simulated-time and wall-clock budgets of the verification suite, derived from a configuration.

Every cocotb test timeout and pytest deadline of the suite comes from here, computed from the
:class:`~mram_macro.design.config.MacroConfig` and the register map's reset values (write pulse,
write-verify retries and read-back, TDC window) on top of the testbench's cycle budgets
(:mod:`mram_macro.sim.testbench.budgets`), never from a constant that holds only for the
configurations someone tried. Budgets are upper bounds with a safety factor: they exist to turn
a hang into a failure, not to measure speed.
"""

from __future__ import annotations

import math

from mram_macro.design.config import MacroConfig
from mram_macro.sim.testbench.budgets import pass_cycles, write_row_cycles
from sim_models.readout import T_CLK_NS

__all__ = ["reset_write_row_cycles", "suite_cycles", "test_timeout_ms", "wall_deadline_s"]

#: Simulated clock cycles per second of wall time on a 64-column array, per simulator, a
#: fifth of the measured rate (README: 25 k / 11 k cycles/s), for a loaded 2-core machine.
_CYCLES_PER_S_64COLS = {"verilator": 5_000, "icarus": 2_200}
#: Worst-case build (generate + compile) of one configuration, seconds, per 64x64 cells.
_BUILD_S = {"verilator": 120.0, "icarus": 30.0}


def reset_write_row_cycles(config: MacroConfig) -> int:
    """:func:`~mram_macro.sim.testbench.budgets.write_row_cycles` with the register map's
    reset values."""
    from mram_macro.rtl.top import macro_regmap

    rm = macro_regmap(config)
    wv = rm["WV_CTRL"]
    return write_row_cycles(config, pulse_cycles=config.write_pulse_cycles,
                            verify=bool(wv.field("ENABLE").reset),
                            max_retries=wv.field("MAX_RETRIES").reset,
                            doubling=bool(wv.field("PULSE_DOUBLING").reset),
                            read_delay=rm["WV_READ"].field("DELAY").reset)


def suite_cycles(config: MacroConfig, nvmm: int) -> int:
    """Upper bound of the simulated cycles of the longest cocotb test of the suites: the
    random test programs every row, re-programs three rows per 100 vectors and runs ``nvmm``
    passes; the directed tests program the array a few times and run a few hundred passes."""
    from mram_macro.rtl.top import macro_regmap

    rm = macro_regmap(config)
    delay = rm["TDC_START_DELAY"].field("CYCLES").reset
    wv = rm["WV_CTRL"]
    # The reset timing, or a 64-cycle pulse (the busy-window tests), with the reset retries.
    row = max(reset_write_row_cycles(config),
              write_row_cycles(config, pulse_cycles=64, verify=True,
                               max_retries=wv.field("MAX_RETRIES").reset, doubling=True,
                               read_delay=rm["WV_READ"].field("DELAY").reset))
    programs = 2 * config.rows + 3 * (nvmm // 100 + 1)
    return programs * row + (nvmm + 400) * pass_cycles(config, start_delay=delay)


def test_timeout_ms(config: MacroConfig, nvmm: int) -> int:
    """Simulated-time limit of one cocotb test (``@cocotb.test(timeout_time=...)``), ms."""
    return max(50, math.ceil(4 * suite_cycles(config, nvmm) * T_CLK_NS / 1e6))


def wall_deadline_s(sim: str, config: MacroConfig, nvmm: int, *, n_suites: int = 1) -> float:
    """Wall-clock deadline of one pytest case that builds ``config`` on ``sim`` and runs
    ``n_suites`` cocotb suites (pytest-timeout): the build plus every test at its simulated-time
    limit would take about this much at a fifth of the measured simulation speed."""
    cells = config.rows * config.cols
    build = _BUILD_S[sim] * max(1.0, cells / 4096)
    rate = _CYCLES_PER_S_64COLS[sim] * 64 / max(64, config.cols)
    # A suite's tests together take about three times its longest one.
    return round(build + 60 + n_suites * 3 * suite_cycles(config, nvmm) / rate)
