"""The TDC mode objects (:mod:`mram_macro.design.modes`): what each mode has, its validation, and
the rule that nothing in the product compares a mode's name but the mode objects and the
configuration parser.

The rule is checked on the source with :mod:`ast`: a comparison (``==``, ``!=``, ``in``,
``not in``, ``is``) one of whose operands is a mode name (``"coarse"``) or a tuple, list or set
holding one (``("counter", "two_step")``), and a ``match`` case on a mode name. A mode name
used to build a configuration (``MacroConfig(tdc_mode="coarse")``) or in a message is not a
comparison and passes.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from mram_macro.design import modes
from mram_macro.design.config import (
    COARSE_MAX_TDC_BITS,
    FINE_TAPS_MAX_ROWS,
    LIMITS,
    TDC_MODES,
    ConfigError,
    MacroConfig,
    profile_config,
)
from mram_macro.design.modes import MODES, CoarseMode, CounterMode, TdcMode, TwoStepMode, mode_named

REPO = Path(__file__).resolve().parents[2]
#: The product's packages, whose source the rule covers.
PRODUCT = ("mram_macro", "sim_models")
#: The modules that may compare a mode's name: the mode objects and the configuration parser.
MAY_COMPARE_MODE_NAMES = frozenset({"mram_macro/design/modes.py", "mram_macro/design/config.py"})
#: Files (outside the allowed modules) that still compare mode names, with how many times: the
#: count may fall, never grow. Empty: every call site asks the mode object.
REMAINING: dict[str, int] = {}


def _mode_names(node: ast.AST) -> set[str]:
    """The mode names ``node`` is, or holds as a literal tuple, list or set."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & set(TDC_MODES)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return set().union(*(_mode_names(e) for e in node.elts))
    return set()


def mode_name_comparisons(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """``(line, text)`` of every comparison against a mode's name in ``source``: a
    :class:`ast.Compare` with a mode name (or a literal collection holding one) among its
    operands, or a ``match`` case whose pattern is a mode name."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Compare):
            if any(_mode_names(o) for o in (node.left, *node.comparators)):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.match_case):
            values = [p.value for p in ast.walk(node.pattern) if isinstance(p, ast.MatchValue)]
            if any(_mode_names(v) for v in values):
                found.append((node.pattern.lineno, f"case {ast.unparse(node.pattern)}"))
    return sorted(found)


def product_mode_name_comparisons(root: Path = REPO) -> dict[str, list[tuple[int, str]]]:
    """``{file: comparisons}`` for every product source file outside
    :data:`MAY_COMPARE_MODE_NAMES` that compares a mode's name (paths relative to ``root``)."""
    out = {}
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in MAY_COMPARE_MODE_NAMES:
                continue
            found = mode_name_comparisons(path.read_text(encoding="utf-8"), rel)
            if found:
                out[rel] = found
    return out


# -- the rule ----------------------------------------------------------------------------------
def test_only_the_mode_objects_compare_mode_names():
    found = product_mode_name_comparisons()
    grown = {f: c for f, c in found.items() if len(c) > REMAINING.get(f, 0)}
    assert not grown, (
        "compare the mode object's attributes (config.mode, mram_macro.design.modes), not the "
        "mode's name:\n" + "\n".join(f"{f}:{line}: {text}" for f, c in grown.items()
                               for line, text in c))
    # the allow-list shrinks with the code: a file that no longer compares leaves it
    stale = {f: n for f, n in REMAINING.items() if len(found.get(f, ())) < n}
    assert not stale, f"lower REMAINING to the counts found: {stale}"


@pytest.mark.parametrize("source, expected", [
    ('if c.tdc_mode == "coarse":\n    pass\n', ["c.tdc_mode == 'coarse'"]),
    ('x = "two_step" != mode\n', ["'two_step' != mode"]),
    ('ok = c.tdc_mode in ("counter", "two_step")\n', ["c.tdc_mode in ('counter', 'two_step')"]),
    ('ok = m not in {"coarse"}\n', ["m not in {'coarse'}"]),
    ('match c.tdc_mode:\n    case "counter" | "coarse":\n        pass\n',
     ["case 'counter' | 'coarse'"]),
    ('c = MacroConfig(tdc_mode="coarse")\nmsg = f"not {m!r}, use \'coarse\'"\n', []),
    ('ok = c.calibration == "gain" and c.mode.has_code_table\n', []),
])
def test_the_scanner_sees_every_form(source, expected):
    assert [text for _, text in mode_name_comparisons(source)] == expected


def test_the_rule_fails_on_a_new_comparison(tmp_path):
    # A copy of one product file with one comparison added is reported.
    for package in PRODUCT:
        (tmp_path / package).mkdir()
    (tmp_path / "mram_macro" / "design").mkdir()
    src = (REPO / "mram_macro" / "design" / "regmap.py").read_text(encoding="utf-8")
    (tmp_path / "mram_macro" / "design" / "regmap.py").write_text(
        src + '\n\ndef _is_coarse(c):\n    return c.tdc_mode == "coarse"\n', encoding="utf-8")
    found = product_mode_name_comparisons(tmp_path)
    assert [text for _, text in found["mram_macro/design/regmap.py"]] == ["c.tdc_mode == 'coarse'"]


# -- the mode objects ----------------------------------------------------------------------------
def test_one_object_per_mode_name():
    assert tuple(MODES) == TDC_MODES
    assert [type(m) for m in MODES.values()] == [CounterMode, CoarseMode, TwoStepMode]
    for name, mode in MODES.items():
        assert isinstance(mode, TdcMode) and mode.name == name and mode_named(name) is mode
        assert MacroConfig(rows=16, tdc_mode=name, tdc_bits=6).mode is mode
    with pytest.raises(ConfigError, match="tdc_mode must be one of 'counter', 'coarse', "
                                          "'two_step', not 'fine'"):
        mode_named("fine")


@pytest.mark.parametrize("name", TDC_MODES)
def test_what_each_mode_has(name):
    mode = mode_named(name)
    assert mode.has_fine_interpolator == (name == "two_step")
    assert mode.has_code_table == (name == "coarse")
    assert mode.has_single_mtj_read == mode.supports_gain == (name != "coarse")
    for rows, bits in ((16, 5), (48, 6)):
        c = MacroConfig(rows=rows, cols=4, tdc_bits=bits, tdc_mode=name)
        assert (c.fine_taps > 1) == mode.has_fine_interpolator
        assert c.mode.count_width(c) == (rows.bit_length() if name == "coarse" else None)
    full = profile_config("full", rows=16, cols=4, tdc_bits=5, tdc_mode=name)
    assert full.has_write_verify == mode.has_single_mtj_read
    if mode.supports_gain:
        assert profile_config("tracker", rows=16, cols=4, tdc_bits=5, tdc_mode=name).has_tracker


def test_the_modes_own_their_validation():
    with pytest.raises(ConfigError, match=f"tdc_bits <= {COARSE_MAX_TDC_BITS}"):
        MacroConfig(tdc_mode="coarse", tdc_bits=COARSE_MAX_TDC_BITS + 1)
    with pytest.raises(ConfigError, match="too few for rows=64"):
        MacroConfig(tdc_mode="counter", tdc_bits=6)
    with pytest.raises(ConfigError, match="only used with tdc_mode='two_step'"):
        MacroConfig(tdc_mode="counter", tdc_fine_taps=4)
    assert MacroConfig(tdc_mode="coarse", tdc_bits=4, tdc_fine_taps=8).tdc_fine_taps is None
    with pytest.raises(ConfigError, match="single-MTJ read, which tdc_mode='coarse'"):
        MacroConfig(tdc_mode="coarse", tdc_bits=4, write_verify=True)
    with pytest.raises(ConfigError, match="does not apply to tdc_mode='coarse'"):
        MacroConfig(tdc_mode="coarse", tdc_bits=4, calibration="gain")
    with pytest.raises(ConfigError, match="leaves no coarse bit beside the 2 fine bits"):
        MacroConfig(rows=2, cols=2, tdc_bits=2, tdc_fine_taps=4)


def test_fine_taps_table_covers_every_row_count():
    # modes.py imports nothing of the project: its row bound is the configuration's.
    assert max(FINE_TAPS_MAX_ROWS.values()) == LIMITS["rows"][1]
    for rows, bits in itertools.product((2, 64, 218, 256), (2, 3, 7)):
        k = modes.auto_fine_taps(rows, bits)
        assert rows <= FINE_TAPS_MAX_ROWS[k] and k.bit_length() - 1 < bits
