"""Cycle, simulated-time and wall-clock budgets derived from a configuration.

Every poll budget, cocotb test timeout and pytest deadline of the verification suite comes
from here, computed from the :class:`~mram_macro.config.MacroConfig` and the register map's
reset values (write pulse, write-verify retries and read-back, TDC window), never from a
constant that holds only for the configurations someone tried. Budgets are upper bounds with
a safety factor: they exist to turn a hang into a failure, not to measure speed.
"""

from __future__ import annotations

import functools
import math

from mram_macro.config import MacroConfig
from sim_models.readout import T_CLK_NS

__all__ = ["T_CLK_NS", "MAX_PULSE_CYCLES", "field_range", "write_row_cycles", "pass_cycles",
           "reset_write_row_cycles", "suite_cycles", "test_timeout_ms", "wall_deadline_s"]

#: The write controller's pulse counter saturates here (16 bits).
MAX_PULSE_CYCLES = 0xFFFF
#: Simulated clock cycles per second of wall time on a 64-column array, per simulator, a
#: fifth of the measured rate (README: 25 k / 11 k cycles/s), for a loaded 2-core machine.
_CYCLES_PER_S_64COLS = {"verilator": 5_000, "icarus": 2_200}
#: Worst-case build (generate + compile) of one configuration, seconds, per 64x64 cells.
_BUILD_S = {"verilator": 120.0, "icarus": 30.0}


def field_range(field) -> tuple[int, int]:
    """The values a ``rw`` register field accepts, ``(lo, hi)`` (signed fields: two's
    complement of its width), as :meth:`mram_macro.regmap.Register.check_write` checks them."""
    if field.signed:
        return -(1 << (field.width - 1)), (1 << (field.width - 1)) - 1
    hi = field.max_value if field.max_value is not None else (1 << field.width) - 1
    return field.min_value, hi


def write_row_cycles(config: MacroConfig, *, pulse_cycles: int, verify: bool,
                     max_retries: int, doubling: bool, read_delay: int) -> int:
    """Upper bound of the cycles one CTRL.WRITE_ROW keeps STATUS.WRITE_BUSY set: two sides,
    each up to ``1 + max_retries`` pulses (doubled per retry, saturating at 16 bits) with a
    single-MTJ read-back (start delay + the TDC window) after each when verifying."""
    tries = 1 + (max_retries if verify else 0)
    pulse, side = max(1, pulse_cycles), 0
    for _ in range(tries):
        read = read_delay + (1 << config.tdc_bits) + 16 if verify else 0
        side += pulse + 8 + read
        if doubling:
            pulse = min(2 * pulse, MAX_PULSE_CYCLES)
    return 2 * side + 16


def reset_write_row_cycles(config: MacroConfig) -> int:
    """:func:`write_row_cycles` with the register map's reset values."""
    from mram_macro.top import macro_regmap

    rm = macro_regmap(config)
    wv = rm["WV_CTRL"]
    return write_row_cycles(config, pulse_cycles=config.write_pulse_cycles,
                            verify=bool(wv.field("ENABLE").reset),
                            max_retries=wv.field("MAX_RETRIES").reset,
                            doubling=bool(wv.field("PULSE_DOUBLING").reset),
                            read_delay=rm["WV_READ"].field("DELAY").reset)


@functools.lru_cache(maxsize=64)
def _max_precharge(config: MacroConfig) -> int:
    from mram_macro.top import macro_regmap

    f = macro_regmap(config)["PRECHARGE_CYCLES"].field("CYCLES")
    return f.max_value if f.max_value is not None else (1 << f.width) - 1


def pass_cycles(config: MacroConfig, *, start_delay: int) -> int:
    """Generous upper bound of the cycles one pass occupies the macro (input beats, precharge
    at its register maximum, TDC start delay and window, result beats), four times over."""
    window = start_delay + (1 << config.tdc_bits) + 16
    return 4 * (window + _max_precharge(config) + 300
                + 4 * (config.in_beats + config.out_beats))


def suite_cycles(config: MacroConfig, nvmm: int) -> int:
    """Upper bound of the simulated cycles of the longest cocotb test of the suites: the
    random test programs every row, re-programs three rows per 100 vectors and runs ``nvmm``
    passes; the directed tests program the array a few times and run a few hundred passes."""
    from mram_macro.top import macro_regmap

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
