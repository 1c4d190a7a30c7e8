"""Cycle budgets of the testbench, derived from a configuration and its register map.

The poll budgets of :class:`~mram_macro.sim.testbench.env.MacroEnv` (how long a row write or a
pass may keep the macro busy) come from here, computed from the
:class:`~mram_macro.design.config.MacroConfig` and the register map (write pulse, write-verify
retries and read-back, TDC window), never from a constant that holds only for the configurations
someone tried. Budgets are upper bounds with a safety factor: they exist to turn a hang into a
failure, not to measure speed. The test suite's simulated-time and wall-clock deadlines build on
them (``verif/budgets.py``).
"""

from __future__ import annotations

import functools

from mram_macro.design.config import MacroConfig

__all__ = ["MAX_PULSE_CYCLES", "field_range", "write_row_cycles", "pass_cycles"]

#: The write controller's pulse counter saturates here (16 bits).
MAX_PULSE_CYCLES = 0xFFFF


def field_range(field) -> tuple[int, int]:
    """The values a ``rw`` register field accepts, ``(lo, hi)`` (signed fields: two's
    complement of its width), as :meth:`mram_macro.design.regmap.Register.check_write` checks
    them."""
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


@functools.lru_cache(maxsize=64)
def _max_precharge(config: MacroConfig) -> int:
    from mram_macro.rtl.top import macro_regmap

    f = macro_regmap(config)["PRECHARGE_CYCLES"].field("CYCLES")
    return f.max_value if f.max_value is not None else (1 << f.width) - 1


def pass_cycles(config: MacroConfig, *, start_delay: int) -> int:
    """Generous upper bound of the cycles one pass occupies the macro (input beats, precharge
    at its register maximum, TDC start delay and window, result beats), four times over."""
    window = start_delay + (1 << config.tdc_bits) + 16
    return 4 * (window + _max_precharge(config) + 300
                + 4 * (config.in_beats + config.out_beats))
