"""The legal space of :class:`~mram_macro.config.MacroConfig`, for drawn configurations.

One drawing procedure, :func:`draw_config`, serves both the Hypothesis strategy
:func:`macro_configs` (property tests, shrinking) and the seeded sampler
:func:`sample_configs` (``make regress DRAW=N``). It draws every field of ``MacroConfig``
over its whole legal range, dependent fields within what the others allow, with extra weight
on the edges. :data:`DRAWN_FIELDS` lists the fields it draws; a test fails when
``MacroConfig`` gains a field this module does not know.

:func:`full_slug` extends :attr:`MacroConfig.slug` with the timing reset values when they
differ from the defaults (``r8_c3_t4_w5_s8_p17_wp65535``), and :func:`parse_slug` reads both
forms back, so a drawn configuration can be replayed by name.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from mram_macro.config import (
    _MAX_COLS,
    _MAX_ROWS,
    _MIN_COLS,
    _MIN_ROWS,
    _STREAM_WIDTHS,
    CALIBRATIONS,
    COARSE_MAX_TDC_BITS,
    FINE_TAPS,
    TDC_MODES,
    ConfigError,
    MacroConfig,
)

__all__ = ["DRAWN_FIELDS", "draw_config", "macro_configs", "sample_configs", "full_slug",
           "parse_slug"]

#: Limits of the fields ``MacroConfig`` checks with a plain range (see mram_macro/config.py).
TDC_BITS_MAX = 12
RESULT_WIDTH_MAX = 32
PRECHARGE_MAX = 255
WRITE_PULSE_MAX = 65535
#: The fields :func:`draw_config` draws.
DRAWN_FIELDS = ("rows", "cols", "tdc_bits", "result_width", "stream_width",
                "precharge_cycles", "write_pulse_cycles", "tdc_mode", "tdc_fine_taps",
                "calibration")

IntDraw = Callable[[int, int], int]
ChoiceDraw = Callable[[Sequence[int]], int]


def _designable_taps(rows: int) -> tuple[int, ...]:
    """The ``tdc_fine_taps`` whose phase step the default readout can give one mismatching cell
    of a ``rows``-cell column at the simulation clock (a shorter step needs V_ref too close to
    V_pre: :func:`sim_models.readout.design_readout`)."""
    from sim_models.device import DeviceError, DeviceParams
    from sim_models.readout import design_readout

    ok = []
    for taps in FINE_TAPS:
        try:
            design_readout(rows, DeviceParams(), fine_taps=taps)
        except DeviceError:
            break
        ok.append(taps)
    return tuple(ok)


def draw_config(integer: IntDraw, choice: ChoiceDraw, *,
                max_rows: int = _MAX_ROWS, max_cols: int = _MAX_COLS,
                max_write_pulse: int = WRITE_PULSE_MAX) -> MacroConfig:
    """A legal configuration from ``integer(lo, hi)`` (inclusive) and ``choice(seq)`` draws.

    ``max_*`` narrow the space for runs that must stay short (defaults: the legal maxima).
    """
    rows = integer(_MIN_ROWS, max_rows)
    cols = integer(_MIN_COLS, max_cols)
    tdc_mode = choice(TDC_MODES)
    taps = MacroConfig.tdc_fine_taps
    min_tdc_bits = max(2, rows.bit_length())
    if tdc_mode == "two_step":
        taps = choice(_designable_taps(rows))
        min_tdc_bits = max(min_tdc_bits, taps.bit_length())   # at least one coarse bit
    if tdc_mode == "coarse":        # several counts per code: any width up to the table's limit
        tdc_bits = integer(2, COARSE_MAX_TDC_BITS)
    else:
        tdc_bits = integer(min_tdc_bits, TDC_BITS_MAX)
    result_width = integer(max(rows.bit_length() + 1, tdc_bits), RESULT_WIDTH_MAX)
    # The table of the coarse mode replaces gain and offset.
    calibration = "offset" if tdc_mode == "coarse" else choice(CALIBRATIONS)
    stream_width = choice(_STREAM_WIDTHS)
    precharge = integer(1, PRECHARGE_MAX)
    pulse = integer(1, max_write_pulse)
    return MacroConfig(rows=rows, cols=cols, tdc_bits=tdc_bits, result_width=result_width,
                       stream_width=stream_width, precharge_cycles=precharge,
                       write_pulse_cycles=pulse, tdc_mode=tdc_mode, tdc_fine_taps=taps,
                       calibration=calibration)


def macro_configs(**limits):
    """Hypothesis strategy of legal configurations (shrinks towards the smallest)."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):
        return draw_config(lambda lo, hi: draw(st.integers(lo, hi)),
                           lambda seq: draw(st.sampled_from(seq)), **limits)

    return strategy()


def sample_configs(n: int, seed: int, *, p_edge: float = 0.3, **limits) -> list[MacroConfig]:
    """``n`` configurations drawn from ``seed`` (reproducible), edges drawn with ``p_edge``."""
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    rng = random.Random(seed)

    def integer(lo: int, hi: int) -> int:
        if rng.random() < p_edge:
            return rng.choice((lo, hi))
        return rng.randint(lo, hi)

    return [draw_config(integer, rng.choice, **limits) for _ in range(n)]


_DEFAULTS = MacroConfig()


def full_slug(config: MacroConfig) -> str:
    """:attr:`MacroConfig.slug`, plus ``_p<precharge>_wp<write pulse>`` when not the default."""
    extra = ""
    if (config.precharge_cycles, config.write_pulse_cycles) != (
            _DEFAULTS.precharge_cycles, _DEFAULTS.write_pulse_cycles):
        extra = f"_p{config.precharge_cycles}_wp{config.write_pulse_cycles}"
    return config.slug + extra


_SLUG = re.compile(r"r(\d+)_c(\d+)_t(\d+)_w(\d+)_s(\d+)"
                   r"(?:_(" + "|".join(m for m in TDC_MODES if m != "counter") + r")"
                   r"(?:_k(\d+))?)?"
                   r"(?:_(gain))?"
                   r"(?:_p(\d+)_wp(\d+))?")


def parse_slug(slug: str) -> MacroConfig:
    """The configuration a (full) slug names.

    Raises:
        ValueError: not a slug (the message shows the form), or a ``ConfigError`` naming the
            illegal parameter.
    """
    m = _SLUG.fullmatch(slug.strip())
    if m is None:
        raise ValueError(f"{slug!r} is not a configuration slug like r64_c64_t7_w16_s32 "
                         f"(optionally _<tdc mode>[_k<taps>], _gain, then _p<precharge>_wp<write "
                         f"pulse>)")
    r, c, t, w, s, mode, k, cal, p, wp = m.groups()
    try:
        return MacroConfig(rows=int(r), cols=int(c), tdc_bits=int(t), result_width=int(w),
                           stream_width=int(s), tdc_mode=mode or "counter",
                           tdc_fine_taps=int(k) if k else MacroConfig.tdc_fine_taps,
                           calibration=cal or "offset",
                           precharge_cycles=int(p) if p else _DEFAULTS.precharge_cycles,
                           write_pulse_cycles=int(wp) if wp else _DEFAULTS.write_pulse_cycles)
    except ConfigError as exc:
        raise ConfigError(f"slug {slug!r}: {exc}") from None
