"""Macro configuration: the one place where the macro's geometry and widths are defined.

Everything else (the RTL generator, the register map, the golden model, the testbenches, the
CLI and the docs) takes a :class:`MacroConfig` and derives what it needs from it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass

__all__ = ["MacroConfig", "ConfigError", "mode_named", "register_mode", "AXIL_DATA_WIDTH",
           "LIMITS", "STREAM_WIDTHS", "CHOICES", "TDC_MODES", "FINE_TAPS", "COARSE_MAX_TDC_BITS",
           "CAL_GAIN_FRAC_BITS", "CAL_GAIN_WIDTH", "CAL_GAIN_ONE", "CAL_GAIN_MIN", "CAL_GAIN_MAX",
           "REPLICA_COLS", "CALIBRATIONS", "TDC_CAPTURES", "EDGE_MIN_FINE_TAPS",
           "EDGE_MIN_START_DELAY",
           "AUTO_FINE_TAPS_MAX", "auto_fine_taps",
           "FINE_TAPS_MAX_ROWS", "PROFILES", "FULL_FEATURES", "MULTIBIT_RESULT_WIDTH",
           "profile_config"]


class ConfigError(ValueError):
    """An invalid macro parameter; the message says which one and what would be valid."""


#: Widest code of ``tdc_mode="coarse"``: its look-up table holds ``2**tdc_bits`` entries per
#: column (the chip's code is 4 bits).
COARSE_MAX_TDC_BITS = 6
#: Legal ``tdc_fine_taps`` values: powers of two, so that the coarse count and the fine value
#: concatenate into one code.
FINE_TAPS = (2, 4, 8, 16, 32)
#: The most interpolator phases :func:`auto_fine_taps` chooses: 8 phases resolve one
#: matching-cell count per 250 ps at the 2 ns NanGate45 clock that STA signs off, and a 64x64
#: VMM then takes about 20 cycles (the README's bench); 16 would need a 125 ps step.
AUTO_FINE_TAPS_MAX = 8
#: The tallest column (rows) for which the readout can make one mismatching cell one phase step
#: of a two-step TDC with K phases (``t_clk / K`` at the simulation clock, nominal device;
#: taller columns need V_ref too close to V_pre): K -> rows (256 is the most rows a macro
#: has). The physics that gives these numbers is
#: :func:`sim_models.readout.designable_fine_taps`; a unit test (verif/unit/test_two_step.py)
#: checks this table against it for every legal row count, so the configuration computes no
#: physics.
FINE_TAPS_MAX_ROWS: dict[int, int] = {2: 256, 4: 256, 8: 217, 16: 108, 32: 54}
#: ``tdc_fine_taps`` of the counter and coarse configurations that earlier releases saved (their
#: default, unused outside ``two_step``): read as ``None``, so their JSON still loads.
_LEGACY_FINE_TAPS = 8


@functools.cache
def auto_fine_taps(rows: int, tdc_bits: int) -> int:
    """The interpolator phases ``tdc_fine_taps=None`` chooses for a two-step TDC: the most of
    :data:`AUTO_FINE_TAPS_MAX` or fewer (a power of two) that leaves at least one coarse code bit
    (``log2(K) < tdc_bits``) and that the readout can give one mismatching cell at the
    simulation clock with the nominal device (:data:`FINE_TAPS_MAX_ROWS`: a shorter phase step
    needs V_ref too close to V_pre on tall columns). 8 up to 217 rows, 4 at 218..256; 2 or 4
    where ``tdc_bits`` is 2 or 3."""
    fits = [k for k in FINE_TAPS
            if rows <= FINE_TAPS_MAX_ROWS[k] and k <= AUTO_FINE_TAPS_MAX
            and k.bit_length() - 1 < tdc_bits]
    return fits[-1] if fits else FINE_TAPS[0]


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
    "tdc_fine_taps": (2, 32),
}
#: Legal ``stream_width`` values.
STREAM_WIDTHS = _STREAM_WIDTHS
#: Legal ``tdc_mode`` values (see :class:`MacroConfig`); each names one mode object
#: (:mod:`mram_macro.design.modes`, ``MacroConfig.mode``), which registers itself here
#: (:func:`register_mode`) when :mod:`mram_macro` is imported.
TDC_MODES = ("counter", "coarse", "two_step")
#: The mode objects by ``tdc_mode`` name, filled by :func:`register_mode` (in the order of
#: :data:`TDC_MODES` once all are registered).
_MODES: dict = {}


def register_mode(mode):
    """Make ``mode`` (a :class:`mram_macro.design.modes.TdcMode`) the object of its ``name``:
    :mod:`mram_macro.design.modes` registers its three when :mod:`mram_macro` is imported. The
    configuration thereby imports no mode object, so a mode may use the physics
    (:mod:`sim_models`), the RTL and the docs, which import the configuration.

    Raises:
        ValueError: ``mode.name`` is not in :data:`TDC_MODES`, or is registered already."""
    if mode.name not in TDC_MODES:
        raise ValueError(f"a TDC mode's name must be one of {TDC_MODES} (add it there, the "
                         f"configuration parser's list), not {mode.name!r}")
    if mode.name in _MODES:
        raise ValueError(f"TDC mode {mode.name!r} is registered already ({_MODES[mode.name]!r})")
    _MODES[mode.name] = mode
    _MODES.update({n: _MODES.pop(n) for n in TDC_MODES if n in _MODES})   # in TDC_MODES order


def mode_named(name: str):
    """The mode object (:class:`mram_macro.design.modes.TdcMode`) of ``tdc_mode`` ``name``.

    Raises:
        ConfigError: ``name`` is not a TDC mode (the message lists them)."""
    if not isinstance(name, str) or name not in TDC_MODES:
        raise ConfigError(f"tdc_mode must be one of {', '.join(map(repr, TDC_MODES))}, "
                          f"not {name!r}")
    try:
        return _MODES[name]
    except KeyError:    # only if mram_macro/__init__ (which registers them) did not run
        raise RuntimeError(f"no object is registered for tdc_mode {name!r}: import "
                           f"mram_macro.design.modes") from None


#: Legal ``calibration`` values (see :class:`MacroConfig`).
CALIBRATIONS = ("offset", "gain")
#: Legal ``tdc_capture`` values (see :class:`MacroConfig`).
TDC_CAPTURES = ("sampled", "edge")
#: Fewest interpolator phases of ``tdc_capture="edge"``: each count copy needs a quarter period
#: of margin (mram_macro/rtl/periphery/edge_tdc.py).
EDGE_MIN_FINE_TAPS = 4
#: Shortest TDC_START_DELAY (cycles) of ``tdc_capture="edge"``: the comparators are off in the
#: evaluation's first period, so no capture clock can race the count copies' first update.
EDGE_MIN_START_DELAY = 2
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

#: ``result_width`` that a multi-bit build chooses when it is left at ``None``: room for sums of
#: bit planes and tiles (a single-pass build takes the narrowest width that holds one pass).
MULTIBIT_RESULT_WIDTH = 16
#: Replica (reference) columns of the temperature tracker: columns of cells with both MTJs in
#: the high state, read alongside a VMM every TRACK_INTERVAL passes (sim_models/replica.py).
REPLICA_COLS = 4
#: Legal values of each parameter that is not an integer range of :data:`LIMITS`. Every field
#: of :class:`MacroConfig` is in :data:`LIMITS` or here (or is a ``bool``): the drawn
#: configurations of the verification (verif/configs.py) take their space from these two
#: tables, so a new parameter listed here is drawn, shrunk and replayed without other edits.
CHOICES: dict[str, tuple] = {"stream_width": _STREAM_WIDTHS, "tdc_mode": TDC_MODES,
                              "tdc_fine_taps": FINE_TAPS, "calibration": CALIBRATIONS,
                              "tdc_capture": TDC_CAPTURES,
                              # the two spellings a build stores (True is stored as None)
                              "write_verify": (None, False),
                              # stored as chosen (None, the default, chooses one of them)
                              "result_register": (False, True)}


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
        Width of each column's TDC code. In ``tdc_mode="counter"`` ``2**tdc_bits - 1`` must be
        at least ``rows`` so that every count of matching cells (0..rows) has its own code; the
        all-ones code doubles as the saturation code. In ``tdc_mode="coarse"`` several counts
        share a code and ``tdc_bits`` is at most ``COARSE_MAX_TDC_BITS``.
    ``result_width``
        Width of each signed accumulated result. It must hold at least one pass (±rows) and a
        raw TDC code. ``None`` (the default) chooses the narrowest that does, or
        :data:`MULTIBIT_RESULT_WIDTH` (16) where that is wider in a ``multibit`` build (sums of
        bit planes and tiles): 8 bits at 64 rows. Stored as the width chosen.
    ``stream_width``
        ``tdata`` width of the input and result AXI4-Stream ports (a power of two, 8..512).
    ``precharge_cycles``, ``write_pulse_cycles``
        Reset values of the PRECHARGE_CYCLES and WRITE_PULSE_CYCLES registers.
    ``tdc_mode``
        TDC architecture, one of ``TDC_MODES``: ``"counter"`` (the code counts clock periods;
        the readout stretches one mismatching cell to one period), ``"two_step"`` (a coarse
        count of clock periods plus a fine interpolator of ``tdc_fine_taps`` clock phases; one
        mismatching cell is one phase step, ``t_clk / tdc_fine_taps``; both give codes in the
        same count units) or ``"coarse"`` (the chip's: a ``tdc_bits`` code over a discharge
        designed into the chip's 13-29 ns window, turned into values by a per-column code ->
        value look-up table loaded over AXI4-Lite; see
        :func:`sim_models.readout.design_coarse_readout` and :mod:`sim_models.coarse`).
    ``tdc_fine_taps``
        Phases per clock period of the two-step TDC's interpolator (a power of two, 2..32);
        the low ``log2(tdc_fine_taps)`` bits of a code are the fine value. Only used by
        ``two_step``; ``None`` (the default) chooses it: :func:`auto_fine_taps`, 8 phases
        where the array and the code allow them (read the value in use from
        :attr:`fine_taps`). An explicit value equal to the automatic one is stored as
        ``None``, so both spell the same configuration. Other modes take only ``None`` (and
        the 8 that configurations saved by earlier releases carry, read as ``None``).
    ``calibration``
        Per-column calibration hardware, one of ``CALIBRATIONS``: ``"offset"`` (CAL_OFFSET:
        ``result = CAL_OFFSET - 2 * code``) or ``"gain"`` (also a per-column CAL_GAIN, one
        registered multiplier per column, and the temperature tracker with
        its replica columns: about +75 % area at 64x64, see the README). ``coarse`` mode has
        neither: its code -> value table replaces both.
    ``activation``
        Whether the build has MODE.ACTIVATION: per-column THRESHOLD registers and a signed
        comparator per column, so that a result can leave as one bit per column (a sign
        activation with a folded batch norm, for layer-to-layer networks). ``False`` (the
        default) builds the plain VMM macro of the paper without them (about 1,000 fewer
        register bits at 64x64; MODE.ACTIVATION then answers SLVERR to a 1).
    ``multibit``
        Whether the build takes ``s_axis_tuser`` flags
        (:data:`mram_macro.design.layouts.InputFlags`:
        accumulate, hold, shift, negate), i.e. multi-bit inputs as bit planes and sums tiled
        over several passes. ``False`` (the default) builds the single-pass binary macro of the
        paper: each column's result is ``CAL_OFFSET - 2 * code`` of its one pass, with no
        running-sum adder in the accumulator (about 40 % of its area); a vector whose flags are
        not all 0 is dropped whole and sets STATUS.FLAGS_ERROR.
    ``write_verify``
        Whether the build has the write-verify hardware (single-MTJ read-back of every written
        cell, retries, the WV_FAIL_* and WV_RETRY_COUNT counters). ``None`` builds it where the
        TDC can read one MTJ (every mode but ``coarse``); ``False`` (the default) leaves it
        out: row writes are open-loop pulses, WV_CTRL.ENABLE answers SLVERR to a 1 and the
        WV_* counters read 0 (about 300 fewer flip-flops at 64x64). ``True`` asks for it and is
        stored as ``None`` (one spelling per build); with ``tdc_mode="coarse"`` it is an
        error, and ``False`` there is stored as ``None`` (that mode never has it).
    ``result_register``
        Whether the results are held in a register of their own while they stream out.
        ``None`` (the default) chooses ``False`` where the build allows it (below) and ``True``
        elsewhere, and is stored as the choice. ``False`` streams them from the TDC's codes,
        computed as the beats leave (``CAL_OFFSET - 2 * code``; one register of
        ``cols * result_width`` bits fewer): the next evaluation then overlaps the stream only
        as far as it cannot overwrite a code before the stream has ended (its precharge waits
        while more beats are left than edges before its first capture, or, once the sink has
        stalled in this frame or the last, until the stream has ended; an evaluation that
        reaches its first capture with the stream stalled by ``m_axis_tready`` is abandoned and
        run again).
        Behind a back-pressured sink this costs throughput (``make bench``).
    ``tdc_capture``
        How a two-step TDC's columns take their coarse count, one of ``TDC_CAPTURES``:
        ``"sampled"`` (the default: each comparator is synchronised to the clock, two
        flip-flops per column clocked on every edge of the evaluation, and the column takes
        the shared count when it first sees the comparator high) or ``"edge"`` (each column's
        count registers are clocked by its comparator's own rising edge, once per conversion,
        from two Gray-coded copies of the count half a period apart;
        :mod:`mram_macro.rtl.periphery.edge_tdc`). Same codes, fewer clocked flip-flops.
        ``"edge"`` needs ``tdc_mode="two_step"`` with at least :data:`EDGE_MIN_FINE_TAPS`
        phases, ``calibration="offset"`` (no tracker) and no write-verify, and a readout
        whose start delay is at least 2 cycles (TDC_START_DELAY >= 2: the comparators are
        off in the evaluation's first period).
        Only for a single-pass build without the activation mode or gain calibration
        (``multibit=False``, ``activation=False``, ``calibration="offset"``): a running sum,
        activation bits or registered gain products need the register. CAL_OFFSET,
        FINE_TABLE (two-step), the coarse table and MODE.RAW_CODES are then read as the beats
        leave: change them only while STATUS.RESULT_PENDING is clear.

    The default is the paper's plain binary macro; :data:`PROFILES` names it (``plain``) and
    the full-featured build (``full``: :data:`FULL_FEATURES`), ``profile_config("full", ...)``.
    """

    rows: int = 64
    cols: int = 64
    tdc_bits: int = 7
    result_width: int | None = None
    stream_width: int = 64
    precharge_cycles: int = 2
    write_pulse_cycles: int = 4
    tdc_mode: str = "two_step"
    tdc_fine_taps: int | None = None
    calibration: str = "offset"
    activation: bool = False
    multibit: bool = False
    write_verify: bool | None = False
    result_register: bool | None = None
    tdc_capture: str = "sampled"

    def __post_init__(self) -> None:
        _check_int("rows", self.rows, *LIMITS["rows"])
        _check_int("cols", self.cols, *LIMITS["cols"])
        _check_int("tdc_bits", self.tdc_bits, *LIMITS["tdc_bits"])
        if self.tdc_mode not in TDC_MODES:
            raise ConfigError(f"tdc_mode must be one of {', '.join(map(repr, TDC_MODES))}, "
                              f"not {self.tdc_mode!r}")
        mode = self.mode
        mode.check_code_width(self)
        if self.result_width is None:                      # the narrowest the build allows
            object.__setattr__(self, "result_width", max(
                self.pass_result_width, self.tdc_bits,
                MULTIBIT_RESULT_WIDTH if self.multibit else 0))
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
        if self.tdc_fine_taps is not None:
            _check_int("tdc_fine_taps", self.tdc_fine_taps, *LIMITS["tdc_fine_taps"])
            if self.tdc_fine_taps not in FINE_TAPS:
                raise ConfigError(f"tdc_fine_taps must be a power of two "
                                  f"({', '.join(map(str, FINE_TAPS))}), not "
                                  f"{self.tdc_fine_taps}")
            # one spelling per build (and the unused value earlier releases saved)
            object.__setattr__(self, "tdc_fine_taps", mode.stored_fine_taps(self))
        if not isinstance(self.activation, bool):
            raise ConfigError(f"activation must be True or False, not {self.activation!r}")
        if not isinstance(self.multibit, bool):
            raise ConfigError(f"multibit must be True or False, not {self.multibit!r}")
        if self.write_verify is not None and not isinstance(self.write_verify, bool):
            raise ConfigError(f"write_verify must be None, True or False, not "
                              f"{self.write_verify!r}")
        mode.check_write_verify(self)
        if self.write_verify or (self.write_verify is False and not mode.has_single_mtj_read):
            object.__setattr__(self, "write_verify", None)          # one spelling per build
        if self.result_register is None:         # streamed wherever the build allows it
            object.__setattr__(self, "result_register", self.needs_result_register)
        if not isinstance(self.result_register, bool):
            raise ConfigError(f"result_register must be True or False, not "
                              f"{self.result_register!r}")
        if self.calibration not in CALIBRATIONS:
            raise ConfigError(f"calibration must be one of {', '.join(map(repr, CALIBRATIONS))}, "
                              f"not {self.calibration!r}")
        mode.check_calibration(self)
        if not self.result_register and self.needs_result_register:
            raise ConfigError(
                "result_register=False streams each result from the TDC codes of its one pass; "
                "it needs multibit=False, activation=False and calibration='offset' (a running "
                "sum, activation bits and gain products are held in the result register), not "
                f"multibit={self.multibit}, activation={self.activation}, "
                f"calibration={self.calibration!r}")
        mode.check_bit_split(self)
        self._check_capture()

    def _check_capture(self) -> None:
        """``tdc_capture`` is legal, and ``"edge"`` only where its build supports it."""
        if self.tdc_capture not in TDC_CAPTURES:
            raise ConfigError(f"tdc_capture must be one of {', '.join(map(repr, TDC_CAPTURES))}, "
                              f"not {self.tdc_capture!r}")
        if self.tdc_capture != "edge":
            return
        why = self.mode.capture_needs(self)
        if self.has_tracker:
            why.append("calibration='offset' (the tracker's replica columns are sampled)")
        if self.has_write_verify:
            why.append("write_verify=False (the read-back's start delay may be below 2)")
        if why:
            raise ConfigError("tdc_capture='edge' needs " + ", ".join(why)
                              + "; or use tdc_capture='sampled'")

    # -- derived quantities -------------------------------------------------------------------
    @property
    def mode(self):
        """The mode object of ``tdc_mode`` (a :class:`mram_macro.design.modes.TdcMode`): what
        this build's TDC has and how its readout, value stage and calibration go, asked instead
        of comparing the mode's name."""
        return mode_named(self.tdc_mode)

    @property
    def fine_taps(self) -> int:
        """Interpolator phases per clock period: ``tdc_fine_taps`` (or :func:`auto_fine_taps`)
        in ``two_step`` mode, else 1 (the counter's code counts whole clock periods)."""
        return self.mode.fine_taps(self)

    @property
    def fine_bits(self) -> int:
        """Low code bits holding the fine value (0 in ``counter`` mode)."""
        return self.fine_taps.bit_length() - 1

    @property
    def fine_pins(self) -> int:
        """Width of the ``arr_fine`` pins (0 in ``counter`` mode, where there are none)."""
        return self.cols * (self.fine_taps - 1)

    @property
    def coarse_bits(self) -> int:
        """High code bits holding the coarse count of clock periods."""
        return self.tdc_bits - self.fine_bits

    @property
    def has_gain(self) -> bool:
        """Whether the build has per-column CAL_GAIN (``calibration="gain"``)."""
        return self.calibration == "gain"

    @property
    def has_write_verify(self) -> bool:
        """Whether the build can verify its writes (WV_CTRL.ENABLE settable): not with the
        coarse TDC, whose codes span many MTJ steps, so it has no single-MTJ read; nor in a
        build with ``write_verify=False``."""
        return self.mode.has_single_mtj_read and self.write_verify is None

    @property
    def has_tracker(self) -> bool:
        """Whether the build has the temperature tracker (replica columns, TRACK_* registers):
        ``calibration="gain"`` with the ``counter`` or the ``two_step`` TDC (it retrims the
        gains; a two-step build reads its replicas through their own interpolator samplers on
        the shared phases, linearised by the shared FINE_TABLE)."""
        return self.has_gain and self.mode.supports_gain

    @property
    def ref_fine_pins(self) -> int:
        """Width of the ``arr_ref_fine`` pins: the replica columns' interpolator sampler bits
        (``REPLICA_COLS * (tdc_fine_taps - 1)`` in a two-step build with the tracker, else 0)."""
        return REPLICA_COLS * (self.fine_taps - 1) if self.has_tracker else 0

    @property
    def needs_result_register(self) -> bool:
        """Whether the results must be held in a register (``result_register=False`` is
        illegal): a running sum (``multibit``), activation bits or gain products."""
        return bool(self.multibit or self.activation or self.calibration != "offset")

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
    def to_dict(self) -> dict[str, int | str]:
        """Every field by name, as stored (``write_verify`` ``None`` where the build has it)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> MacroConfig:
        """The configuration of ``values`` (as :meth:`to_dict` writes them). A field left out
        takes its default, except ``write_verify`` and ``result_register``: releases before
        the plain default left them out when the build had them, so a mapping without them
        reads as ``write_verify=None`` (built where the mode allows) and
        ``result_register=True``."""
        if not isinstance(values, dict):
            raise ConfigError(
                f"a macro configuration must be a mapping, not {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown configuration key(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}")
        return cls(**{**_SAVED_WITHOUT, **values})

    @classmethod
    def from_json(cls, text: str) -> MacroConfig:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration is not valid JSON: {exc}") from None
        return cls.from_dict(values)

    @property
    def slug(self) -> str:
        """A short name for build directories: ``r64_c64_t7_w16_s64``, with ``_<tdc_mode>``
        appended when the mode is not the default ``two_step`` (and ``_k<taps>`` when a two-step
        TDC has other than the automatic number of phases), then ``_gain`` with
        ``calibration="gain"``, ``_noact`` without the activation mode, ``_1pass`` without
        multi-bit inputs (``multibit=False``), ``_nowv`` without write-verify
        (``write_verify=False``), ``_stream`` without a result register
        (``result_register=False``) and ``_edge`` with ``tdc_capture="edge"``:
        ``r64_c64_t7_w16_s32_counter``, ``r8_c12_t4_w8_s8_k4_gain``."""
        mode = "" if self.tdc_mode == _DEFAULT_TDC_MODE else f"_{self.tdc_mode}"
        if self.tdc_fine_taps is not None:
            mode += f"_k{self.tdc_fine_taps}"
        if self.calibration != "offset":
            mode += f"_{self.calibration}"
        if not self.activation:
            mode += "_noact"
        if not self.multibit:
            mode += "_1pass"
        if self.write_verify is False:
            mode += "_nowv"
        if not self.result_register:
            mode += "_stream"
        if self.tdc_capture != "sampled":
            mode += f"_{self.tdc_capture}"
        return (f"r{self.rows}_c{self.cols}_t{self.tdc_bits}_w{self.result_width}"
                f"_s{self.stream_width}{mode}")


_DEFAULT_TDC_MODE = MacroConfig.tdc_mode
#: The values of the fields that configurations saved before the plain default omitted
#: (:meth:`MacroConfig.from_dict`).
_SAVED_WITHOUT = {"write_verify": None, "result_register": True}


#: Feature profiles: named builds of the default geometry that differ in the features they pay
#: for (``make ppa`` measures each on the headline library, its own row): name -> (the
#: :class:`MacroConfig` arguments, what the build has). One place, read by the PPA flow, its
#: docs and their tests; :func:`profile_config` builds one.
#: The features the ``full`` profile adds to the default (plain) build: the activation mode,
#: multi-bit inputs and tiled sums (16-bit results, a result register) and write-verify.
FULL_FEATURES: dict = {"activation": True, "multibit": True, "write_verify": None}
PROFILES: dict[str, tuple[dict, str]] = {
    "plain": ({}, "the default, the paper's binary VMM: one pass per vector (no multi-bit "
              "inputs or tiled sums), no activation mode, 8-bit results (one pass: -64..64), "
              "open-loop row writes (no write-verify), results streamed from the TDC codes (no "
              "result register)"),
    "full": (FULL_FEATURES, "multi-bit inputs and tiled sums (16-bit results in a result "
             "register), MODE.ACTIVATION (THRESHOLD registers and comparators) and "
             "write-verify"),
    "tracker": ({**FULL_FEATURES, "calibration": "gain"},
                "full plus per-column gain and the temperature tracker (replica columns)"),
    "edge": ({"tdc_capture": "edge"},
             "plain with each TDC column's count taken on its comparator's own edge "
             "(tdc_capture='edge': no synchronisers, no per-column clock gates)"),
}


def profile_config(name: str, **changes) -> MacroConfig:
    """The configuration of feature profile ``name`` (:data:`PROFILES`), with ``changes`` (any
    :class:`MacroConfig` fields) on top: ``profile_config("full", rows=8, cols=4)``."""
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    return MacroConfig(**{**PROFILES[name][0], **changes})
