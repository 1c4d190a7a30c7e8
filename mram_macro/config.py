"""Macro configuration: the one place where the macro's geometry and widths are defined.

Everything else (the RTL generator, the register map, the golden model, the testbenches, the
CLI and the docs) takes a :class:`MacroConfig` and derives what it needs from it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

__all__ = ["MacroConfig", "ConfigError", "AXIL_DATA_WIDTH", "LIMITS", "STREAM_WIDTHS",
           "CAL_GAIN_FRAC_BITS", "CAL_GAIN_WIDTH", "CAL_GAIN_ONE", "CAL_GAIN_MIN", "CAL_GAIN_MAX",
           "REPLICA_COLS"]

#: AXI4-Lite data width of the control port. Fixed: every register is one 32-bit word.
AXIL_DATA_WIDTH = 32

_MIN_ROWS, _MAX_ROWS = 2, 256
_MIN_COLS, _MAX_COLS = 1, 256
_STREAM_WIDTHS = (8, 16, 32, 64, 128, 256, 512)

#: Legal range (inclusive) of each integer parameter, as :class:`MacroConfig` checks it; the
#: cross-checks between parameters come on top (see its docstring). Rendered in the datasheet.
LIMITS: dict[str, tuple[int, int]] = {
    "rows": (_MIN_ROWS, _MAX_ROWS),
    "cols": (_MIN_COLS, _MAX_COLS),
    "tdc_bits": (2, 12),
    "result_width": (2, 32),
    "precharge_cycles": (1, 255),
    "write_pulse_cycles": (1, 65535),
}
#: Legal ``stream_width`` values.
STREAM_WIDTHS = _STREAM_WIDTHS

#: Per-column calibration gain (CAL_GAIN) and tracked gain (TRACK_GAIN): unsigned fixed point
#: with ``CAL_GAIN_FRAC_BITS`` fractional bits in a ``CAL_GAIN_WIDTH``-bit field, so
#: ``CAL_GAIN_ONE`` is a gain of 1.0 (the reset value: today's ``CAL_OFFSET - 2 * code``).
#: Legal gains are ``CAL_GAIN_MIN .. CAL_GAIN_MAX`` (0.5 .. 2.0): a column whose step is off by
#: more than a factor of two is broken, not miscalibrated.
CAL_GAIN_FRAC_BITS = 10
CAL_GAIN_WIDTH = 12
CAL_GAIN_ONE = 1 << CAL_GAIN_FRAC_BITS
CAL_GAIN_MIN = CAL_GAIN_ONE >> 1
CAL_GAIN_MAX = CAL_GAIN_ONE << 1

#: Replica (reference) columns of the temperature tracker: columns of cells with both MTJs in
#: the high state, read alongside a VMM every TRACK_INTERVAL passes (sim_models/replica.py).
REPLICA_COLS = 4


class ConfigError(ValueError):
    """An invalid macro parameter; the message says which one and what would be valid."""


def _check_int(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, not {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, not {value}")


@dataclass(frozen=True)
class MacroConfig:
    """Parameters of one generated MRAM VMM macro.

    ``rows``
        Crossbar rows = length of the binary input vector (cells in series per column).
    ``cols``
        Crossbar columns = number of dot products computed per VMM (one TDC each).
    ``tdc_bits``
        Width of each column's TDC code. ``2**tdc_bits - 1`` must be at least ``rows`` so that
        every count of matching cells (0..rows) has its own code; the all-ones code doubles as
        the saturation code.
    ``result_width``
        Width of each signed accumulated result. It must hold at least one pass (±rows).
    ``stream_width``
        ``tdata`` width of the input and result AXI4-Stream ports (a power of two, 8..512).
    ``precharge_cycles``, ``write_pulse_cycles``
        Reset values of the PRECHARGE_CYCLES and WRITE_PULSE_CYCLES registers.
    """

    rows: int = 64
    cols: int = 64
    tdc_bits: int = 7
    result_width: int = 16
    stream_width: int = 32
    precharge_cycles: int = 2
    write_pulse_cycles: int = 4

    def __post_init__(self) -> None:
        _check_int("rows", self.rows, *LIMITS["rows"])
        _check_int("cols", self.cols, *LIMITS["cols"])
        _check_int("tdc_bits", self.tdc_bits, *LIMITS["tdc_bits"])
        if (1 << self.tdc_bits) - 1 < self.rows:
            need = self.rows.bit_length()
            raise ConfigError(
                f"tdc_bits={self.tdc_bits} gives codes 0..{(1 << self.tdc_bits) - 1}, too few for "
                f"rows={self.rows} (one code per matching-cell count 0..{self.rows}); "
                f"use tdc_bits >= {need}")
        _check_int("result_width", self.result_width, *LIMITS["result_width"])
        if self.result_width < self.pass_result_width:
            raise ConfigError(
                f"result_width={self.result_width} cannot hold one pass "
                f"(-{self.rows}..+{self.rows}); use result_width >= {self.pass_result_width}")
        if self.result_width < self.tdc_bits:
            raise ConfigError(
                f"result_width={self.result_width} cannot carry a raw {self.tdc_bits}-bit TDC code "
                f"(MODE.RAW_CODES); use result_width >= {self.tdc_bits}")
        if self.stream_width not in _STREAM_WIDTHS:
            raise ConfigError(
                f"stream_width must be one of {', '.join(map(str, _STREAM_WIDTHS))}, "
                f"not {self.stream_width!r}")
        _check_int("precharge_cycles", self.precharge_cycles, *LIMITS["precharge_cycles"])
        _check_int("write_pulse_cycles", self.write_pulse_cycles, *LIMITS["write_pulse_cycles"])

    # -- derived quantities -------------------------------------------------------------------
    @property
    def pass_result_width(self) -> int:
        """Bits of a signed value holding -rows..+rows."""
        return self.rows.bit_length() + 1

    @property
    def tdc_max_code(self) -> int:
        """Largest TDC code; also the saturation code."""
        return (1 << self.tdc_bits) - 1

    @property
    def in_beats(self) -> int:
        """Input-stream beats per input vector (``tlast`` on the last one)."""
        return -(-self.rows // self.stream_width)

    @property
    def out_beats(self) -> int:
        """Result-stream beats per result vector (``tlast`` on the last one)."""
        return -(-(self.cols * self.result_width) // self.stream_width)

    @property
    def weight_words(self) -> int:
        """32-bit WEIGHT_DATA registers needed for one row of weights."""
        return -(-self.cols // AXIL_DATA_WIDTH)

    # -- (de)serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> MacroConfig:
        if not isinstance(values, dict):
            raise ConfigError(
                f"a macro configuration must be a mapping, not {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown configuration key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> MacroConfig:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration is not valid JSON: {exc}") from None
        return cls.from_dict(values)

    @property
    def slug(self) -> str:
        """A short name for build directories: ``r64_c64_t7_w16_s32``."""
        return (f"r{self.rows}_c{self.cols}_t{self.tdc_bits}_w{self.result_width}"
                f"_s{self.stream_width}")
