"""The legal space of :class:`~mram_macro.design.config.MacroConfig`, for drawn configurations.

One drawing procedure, :func:`draw_config`, serves both the Hypothesis strategy
:func:`macro_configs` (property tests, shrinking) and the seeded sampler
:func:`sample_configs` (``make regress DRAW=N``). It draws every field of ``MacroConfig``
over its whole legal range, with extra weight on the edges, and takes that range from one
place: :data:`mram_macro.design.config.LIMITS` (integer ranges) and
:data:`mram_macro.design.config.CHOICES` (value sets; ``bool`` fields draw both values). A new
parameter listed there is drawn without edits here; a field in neither makes
:func:`draw_config` (and a test) fail with the fix.

Cross-checks between parameters (``MacroConfig.__post_init__``) are met two ways: the known
ones narrow a field's range from the fields drawn before it (:func:`_dependent_range`, so the
draws stay efficient and shrink well), and any other one is met by drawing again (a drawn
combination that ``MacroConfig`` rejects is never returned).

:func:`full_slug` extends :attr:`MacroConfig.slug` with the timing reset values when they
differ from the defaults (``r8_c3_t4_w5_s8_p17_wp65535``), and :func:`parse_slug` reads both
forms back, and also a configuration's JSON, so every drawn configuration replays by name
(:func:`config_name`: the slug when it names the configuration, else the JSON).
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Callable, Sequence

from mram_macro.design.config import (
    CHOICES,
    COARSE_MAX_TDC_BITS,
    LIMITS,
    TDC_CAPTURES,
    TDC_MODES,
    ConfigError,
    MacroConfig,
    profile_config,
)
from sim_models.readout import designable_fine_taps

__all__ = ["DRAWN_FIELDS", "draw_config", "macro_configs", "sample_configs", "full_slug",
           "parse_slug", "config_name", "field_space"]

#: Limits of the fields ``MacroConfig`` checks with a plain range (see mram_macro/design/config.py).
TDC_BITS_MAX = LIMITS["tdc_bits"][1]
RESULT_WIDTH_MAX = LIMITS["result_width"][1]
PRECHARGE_MAX = LIMITS["precharge_cycles"][1]
WRITE_PULSE_MAX = LIMITS["write_pulse_cycles"][1]
#: The fields :func:`draw_config` draws: every field of ``MacroConfig``.
DRAWN_FIELDS = tuple(f.name for f in dataclasses.fields(MacroConfig))


def _defaults() -> dict:
    return {f.name: f.default for f in dataclasses.fields(MacroConfig)}
#: Draws of one configuration before giving up on a combination ``MacroConfig`` keeps refusing.
ATTEMPTS = 64

IntDraw = Callable[[int, int], int]
ChoiceDraw = Callable[[Sequence], object]


def field_space(name: str) -> tuple[int, int] | tuple:
    """Where field ``name`` is drawn from: ``(lo, hi)`` from LIMITS, or a tuple of values.

    Raises:
        ConfigError: the field has no entry in LIMITS or CHOICES and is not a ``bool``.
    """
    if name in CHOICES:                 # a value set narrows a range (tdc_fine_taps)
        return tuple(CHOICES[name])
    if name in LIMITS:
        return LIMITS[name]
    if isinstance(_defaults().get(name), bool):
        return (False, True)
    raise ConfigError(f"MacroConfig.{name} has no legal range in LIMITS and no legal values in "
                      f"CHOICES (mram_macro/design/config.py): add it to one of them, and drawn "
                      f"configurations (verif/configs.py) draw it")


def _dependent_range(name: str, lo: int, hi: int, drawn: dict) -> tuple[int, int]:
    """``(lo, hi)`` of integer field ``name`` narrowed by the cross-checks of MacroConfig that
    involve fields already ``drawn`` (the rest are met by drawing again)."""
    rows = drawn.get("rows")
    mode = drawn.get("tdc_mode", _defaults()["tdc_mode"])
    if name == "tdc_bits" and rows is not None and mode != "coarse":
        lo = max(lo, rows.bit_length())          # one code per matching-cell count 0..rows
    if name == "tdc_bits" and mode == "two_step" and drawn["tdc_fine_taps"] is not None:
        lo = max(lo, drawn["tdc_fine_taps"].bit_length())    # at least one coarse bit
    if name == "tdc_bits" and mode == "coarse":
        hi = min(hi, COARSE_MAX_TDC_BITS)        # the table holds 2**tdc_bits entries
    if name == "result_width" and rows is not None:
        lo = max(lo, rows.bit_length() + 1, drawn.get("tdc_bits", lo))   # one pass, raw codes
    return lo, max(lo, hi)


def _dependent_choices(name: str, space: tuple, drawn: dict) -> tuple:
    """Values of value-set field ``name`` allowed by the fields already ``drawn``: the
    interpolator's phases only matter to the two-step TDC (which may also leave them to
    :func:`mram_macro.design.config.auto_fine_taps`: ``None``), and the coarse TDC's table replaces
    the gain calibration."""
    mode = drawn.get("tdc_mode")
    if name == "tdc_fine_taps" and mode is not None and mode != "two_step":
        return (None,)
    if name == "tdc_fine_taps" and mode == "two_step":
        return (None, *space)
    if name == "calibration" and mode == "coarse":
        return ("offset",)
    if name == "write_verify" and mode == "coarse":
        return (None,)          # the coarse TDC has no single-MTJ read
    if name == "result_register" and (drawn.get("multibit") or drawn.get("activation")
                                      or drawn.get("calibration") != "offset"):
        return (True,)          # streamed results: single passes, no activation, no gain
    return space


def _order() -> list[str]:
    """Value-set fields first (modes decide the others' ranges), then integers in field order."""
    names = list(_defaults())
    ranged = [n for n in names if n in LIMITS and n not in CHOICES]
    return [n for n in names if n not in ranged] + ranged


def draw_config(integer: IntDraw, choice: ChoiceDraw, *,
                max_rows: int | None = None, max_cols: int | None = None,
                max_write_pulse: int | None = None) -> MacroConfig:
    """A legal configuration from ``integer(lo, hi)`` (inclusive) and ``choice(seq)`` draws.

    ``max_*`` narrow the space for runs that must stay short (defaults: the legal maxima).

    Raises:
        ConfigError: a field without a legal space (:func:`field_space`), or no legal
            combination in :data:`ATTEMPTS` draws.
    """
    caps = {"rows": max_rows, "cols": max_cols, "write_pulse_cycles": max_write_pulse}
    last: ConfigError | None = None
    for _ in range(ATTEMPTS):
        drawn: dict = {}
        for name in _order():
            space = field_space(name)
            if name in LIMITS and name not in CHOICES:
                lo, hi = space
                if caps.get(name) is not None:
                    hi = min(hi, caps[name])
                drawn[name] = integer(*_dependent_range(name, lo, hi, drawn))
            else:
                drawn[name] = choice(_dependent_choices(name, space, drawn))
        try:
            config = MacroConfig(**drawn)
        except ConfigError as exc:
            last = exc
            continue
        if config.tdc_mode == "two_step" and config.fine_taps not in designable_fine_taps(
                config.rows):
            last = ConfigError(f"no readout design for {config.fine_taps} phases on "
                               f"{config.rows} rows")
            continue
        if config.tdc_capture == "edge":
            # its start delay (a readout design's) must allow edge capture
            from mram_macro.design.macro import MacroDesign

            try:
                MacroDesign.derive(config)
            except ConfigError as exc:
                last = exc
                continue
        return config
    raise ConfigError(f"no legal configuration in {ATTEMPTS} draws; last: {last}")


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


_DEFAULTS = profile_config("full")


def full_slug(config: MacroConfig) -> str:
    """:attr:`MacroConfig.slug`, plus ``_p<precharge>_wp<write pulse>`` when not the default."""
    extra = ""
    if (config.precharge_cycles, config.write_pulse_cycles) != (
            _DEFAULTS.precharge_cycles, _DEFAULTS.write_pulse_cycles):
        extra = f"_p{config.precharge_cycles}_wp{config.write_pulse_cycles}"
    return config.slug + extra


def config_name(config: MacroConfig) -> str:
    """What names ``config`` for :func:`parse_slug`: its :func:`full_slug` when that reads back
    as ``config``, else its JSON (a parameter the slug does not carry)."""
    slug = full_slug(config)
    try:
        if parse_slug(slug) == config:
            return slug
    except ValueError:
        pass
    return config.to_json()


_SLUG = re.compile(r"r(\d+)_c(\d+)_t(\d+)_w(\d+)_s(\d+)"
                   r"(?:_(" + "|".join(TDC_MODES) + r"))?"
                   r"(?:_k(\d+))?"
                   r"(?:_(gain))?"
                   r"(?:_(noact))?"
                   r"(?:_(1pass))?"
                   r"(?:_(nowv))?"
                   r"(?:_(stream))?"
                   r"(?:_(" + "|".join(c for c in TDC_CAPTURES if c != "sampled") + r"))?"
                   r"(?:_p(\d+)_wp(\d+))?")


def parse_slug(slug: str) -> MacroConfig:
    """The configuration a (full) slug names; a JSON object (``MacroConfig.to_json``) too.

    Raises:
        ValueError: not a slug (the message shows the form), or a ``ConfigError`` naming the
            illegal parameter.
    """
    if slug.strip().startswith("{"):
        try:
            return MacroConfig.from_dict(json.loads(slug))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration {slug!r} is not valid JSON: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"configuration {slug!r}: {exc}") from None
    m = _SLUG.fullmatch(slug.strip())
    if m is None:
        raise ValueError(f"{slug!r} is not a configuration slug like r64_c64_t7_w16_s32 "
                         f"(optionally _<tdc mode>[_k<taps>], _gain, _noact, _1pass, _nowv, "
                         f"_stream, _edge, then _p<precharge>_wp<write pulse>) nor a JSON "
                         f"object")
    r, c, t, w, s, mode, k, cal, noact, single, nowv, stream, capture, p, wp = m.groups()
    try:
        return MacroConfig(rows=int(r), cols=int(c), tdc_bits=int(t), result_width=int(w),
                           stream_width=int(s), tdc_mode=mode or _DEFAULTS.tdc_mode,
                           tdc_fine_taps=int(k) if k else None,
                           calibration=cal or "offset", activation=not noact,
                           multibit=not single, write_verify=False if nowv else None,
                           result_register=not stream,
                           tdc_capture=capture or "sampled",
                           precharge_cycles=int(p) if p else _DEFAULTS.precharge_cycles,
                           write_pulse_cycles=int(wp) if wp else _DEFAULTS.write_pulse_cycles)
    except ConfigError as exc:
        raise ConfigError(f"slug {slug!r}: {exc}") from None
