"""Command-line arguments shared by ``mram-macro`` (:mod:`mram_macro.cli`) and the package
commands (``python -m mram_macro.flow.ppa``, ``.layout``, ``explore``): the configuration flags and
their inverse for replay lines, integer option types, the seed range and :class:`UsageError`."""

from __future__ import annotations

import argparse

from mram_macro.design.config import (
    CALIBRATIONS,
    MULTIBIT_RESULT_WIDTH,
    TDC_CAPTURES,
    TDC_MODES,
    MacroConfig,
)
from mram_macro.design.modes import MODES

__all__ = ["UsageError", "SEED_MAX", "Once", "add_config_args", "config_from_args", "config_args",
           "positive_int", "non_negative_int"]

#: Largest ``--seed``: cocotb seeds NumPy's generators with it, which take 0..2**32-1.
SEED_MAX = (1 << 32) - 1


class UsageError(ValueError):
    """A bad argument, path or environment value; the message says the legal range or the fix."""


class Once(argparse.Action):
    """Store an option's value, refusing a second occurrence (argparse would keep the last one
    silently: ``--rows 64 --rows 8``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_options_seen", set())
        if self.dest in seen:
            parser.exit(2, f"{parser.prog}: error: {option_string} given more than once; "
                           f"give it once\n")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


def add_config_args(p: argparse.ArgumentParser) -> None:
    """The flags of every :class:`~mram_macro.design.config.MacroConfig` field (each given at most
    once), in the group "macro configuration" of ``p``; :func:`config_from_args` reads them."""
    d = MacroConfig()
    g = p.add_argument_group("macro configuration")
    g.add_argument("--rows", action=Once, type=int, default=d.rows,
                   help=f"array rows (default {d.rows})")
    g.add_argument("--cols", action=Once, type=int, default=d.cols,
                   help=f"array columns (default {d.cols})")
    g.add_argument("--tdc-bits", action=Once, type=int, default=d.tdc_bits,
                   help=f"TDC code width (default {d.tdc_bits})")
    g.add_argument("--result-width", action=Once, type=int, default=None,
                   help=f"signed result width (default: the narrowest that holds one pass, "
                        f"{d.result_width} at {d.rows} rows; {MULTIBIT_RESULT_WIDTH} with "
                        f"--multibit on)")
    g.add_argument("--stream-width", action=Once, type=int, default=d.stream_width,
                   help=f"AXI4-Stream tdata width (default {d.stream_width})")
    g.add_argument("--precharge-cycles", action=Once, type=int, default=d.precharge_cycles,
                   help=f"reset value of PRECHARGE_CYCLES (default {d.precharge_cycles})")
    g.add_argument("--write-pulse-cycles", action=Once, type=int,
                   default=d.write_pulse_cycles,
                   help=f"reset value of WRITE_PULSE_CYCLES (default {d.write_pulse_cycles})")
    g.add_argument("--tdc-mode", action=Once, default=d.tdc_mode,
                   help=f"TDC architecture, one of {', '.join(TDC_MODES)} (default "
                        f"{d.tdc_mode}; 'coarse': the chip's code and a code -> value table)")
    g.add_argument("--tdc-fine-taps", action=Once, type=int, default=d.tdc_fine_taps,
                   help="two_step only: interpolator phases per clock, a power of two "
                        "(default: chosen for the array, 8 where it allows; see "
                        "mram_macro.design.config.auto_fine_taps)")
    g.add_argument("--calibration", action=Once, choices=CALIBRATIONS, default=d.calibration,
                   help=f"per-column calibration hardware (default {d.calibration}; 'gain' adds "
                        f"CAL_GAIN and the temperature tracker where the TDC mode has one)")
    g.add_argument("--activation", action=Once, choices=("on", "off"),
                   default="on" if d.activation else "off",
                   help="MODE.ACTIVATION with its THRESHOLD registers and comparators (default "
                        f"{'on' if d.activation else 'off'}; 'off' builds the plain VMM macro)")
    g.add_argument("--multibit", action=Once, choices=("on", "off"),
                   default="on" if d.multibit else "off",
                   help="s_axis_tuser flags for multi-bit inputs and tiled sums (default "
                        f"{'on' if d.multibit else 'off'}; 'off' builds the single-pass macro)")
    g.add_argument("--write-verify", action=Once, choices=("on", "off"),
                   default="off" if d.write_verify is False else "on",
                   help="the write-verify hardware (default off: rows written open-loop; 'on' "
                        "reads back every written cell and retries, about 300 more flip-flops, "
                        "in every TDC mode but 'coarse')")
    g.add_argument("--result-register", action=Once, choices=("on", "off"),
                   default=None,
                   help="hold the results in a register while they stream out (default: 'off' "
                        "where the build allows it, i.e. with --multibit off, --activation off "
                        "and offset calibration: they stream from the TDC codes, cols x "
                        "result_width fewer flip-flops; 'on' keeps the register, for a "
                        "back-pressured sink)")
    g.add_argument("--tdc-capture", action=Once, choices=TDC_CAPTURES, default=d.tdc_capture,
                   help=f"how a two-step TDC's columns take their count (default "
                        f"{d.tdc_capture}: comparators synchronised to the clock; 'edge': "
                        f"clocked by each comparator's own edge, fewer clocked flip-flops; "
                        f"see mram_macro/rtl/periphery/edge_tdc.py)")


def config_from_args(args) -> MacroConfig:
    """The configuration the flags of :func:`add_config_args` select.

    Raises:
        UsageError: ``--tdc-fine-taps`` without ``--tdc-mode two_step``.
        ConfigError: a value :class:`~mram_macro.design.config.MacroConfig` refuses.
    """
    mode = MODES.get(args.tdc_mode)
    if args.tdc_fine_taps is not None and not (mode and mode.has_fine_interpolator):
        raise UsageError(f"--tdc-fine-taps is used only with --tdc-mode two_step, not "
                         f"--tdc-mode {args.tdc_mode}; leave it out")
    return MacroConfig(rows=args.rows, cols=args.cols, tdc_bits=args.tdc_bits,
                       result_width=args.result_width, stream_width=args.stream_width,
                       precharge_cycles=args.precharge_cycles,
                       write_pulse_cycles=args.write_pulse_cycles, tdc_mode=args.tdc_mode,
                       tdc_fine_taps=args.tdc_fine_taps, calibration=args.calibration,
                       activation=args.activation == "on", multibit=args.multibit == "on",
                       write_verify=None if args.write_verify == "on" else False,
                       result_register=(None if args.result_register is None
                                        else args.result_register == "on"),
                       tdc_capture=args.tdc_capture)


def config_args(config: MacroConfig) -> list[str]:
    """The command-line flags that select ``config`` (for replay lines)."""
    def flag(key, value):
        if key == "write_verify":             # stored None where the build has it
            return "on" if config.has_write_verify else "off"
        return ("on" if value else "off") if isinstance(value, bool) else value

    return [f"--{key.replace('_', '-')}={flag(key, value)}"
            for key, value in config.to_dict().items()
            if value is not None or key == "write_verify"]


def positive_int(text: str) -> int:
    """argparse type of a positive integer option."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type of a non-negative integer option."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {value}")
    return value
