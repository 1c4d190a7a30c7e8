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
from mram_macro.design.macro import MacroDesign
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


# -- registration: the configuration imports no mode object --------------------------------------
def test_modes_register_with_the_configuration():
    from mram_macro.design import config as config_module

    assert config_module._MODES is MODES and tuple(MODES) == TDC_MODES
    with pytest.raises(ValueError, match="registered already"):
        config_module.register_mode(CounterMode())
    odd = type("OddMode", (TdcMode,), {"name": "sigma_delta"})()
    with pytest.raises(ValueError, match=r"must be one of .* not 'sigma_delta'"):
        config_module.register_mode(odd)
    assert tuple(MODES) == TDC_MODES      # a refused registration leaves the registry as it was
    # The configuration's source imports no mode module (so a mode may import the physics,
    # which imports the configuration), and a process that imports only the configuration
    # still finds the modes (mram_macro/__init__ registers them).
    tree = ast.parse((REPO / "mram_macro/design/config.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and "modes" in m}, imported
    import subprocess
    import sys
    out = subprocess.run(
        [sys.executable, "-c", "from mram_macro.design.config import MacroConfig; "
         "print(type(MacroConfig(tdc_mode='coarse', tdc_bits=4).mode).__name__)"],
        capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "CoarseMode"


# -- what each mode owns ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", TDC_MODES)
def test_each_mode_designs_its_readout(name):
    from sim_models.device import DeviceParams
    from sim_models.readout import CHIP_WINDOW_NS, design_coarse_readout, design_readout

    d = DeviceParams()
    c = MacroConfig(rows=32, cols=4, tdc_bits=6 if name != "coarse" else 4, tdc_mode=name)
    got = c.mode.design_readout(c, d, t_clk_ns=2.0)
    if name == "coarse":
        assert got == design_coarse_readout(32, d, t_clk_ns=2.0, window_ns=CHIP_WINDOW_NS)
        assert c.mode.design_readout(c, d, window_ns=(10.0, 30.0)) == design_coarse_readout(
            32, d, window_ns=(10.0, 30.0))
        assert c.mode.verify_read(MacroDesign.derive(c)) is None
        assert len(MacroDesign.derive(c).lut_reset) == 1 << c.tdc_bits
    else:
        assert got == design_readout(32, d, t_clk_ns=2.0, fine_taps=c.fine_taps)
        assert got.fine_taps == (8 if name == "two_step" else 1)
        with pytest.raises(ValueError, match="window_ns is a setting of tdc_mode='coarse'"):
            c.mode.design_readout(c, d, window_ns=(10.0, 30.0))
        assert MacroDesign.derive(c).verify_read is not None
        assert MacroDesign.derive(c).lut_reset is None
    # the design of every consumer is the mode's
    assert MacroDesign.derive(c, d).readout == c.mode.design_readout(c, d)


@pytest.mark.parametrize("name, registers", [
    ("counter", {"CAL_OFFSET"}), ("two_step", {"CAL_OFFSET", "FINE_TABLE"}),
    ("coarse", {"LUT_ENTRY"})])
def test_each_mode_owns_its_value_registers(name, registers):
    c = MacroConfig(rows=16, cols=3, tdc_bits=5 if name != "coarse" else 4, tdc_mode=name)
    own = c.mode.value_registers(c)
    assert {r.array_name or r.name for r in own} == registers
    regmap = MacroDesign.derive(c).regmap
    names = {r.name for r in regmap.registers}
    assert {r.name for r in own} <= names
    # and no other mode's value registers are in the map
    others = {r.name for m in MODES.values() if m is not c.mode
              for r in m.value_registers(MacroConfig(rows=8, cols=3, tdc_bits=4,
                                                     tdc_mode=m.name))}
    assert not (others - {r.name for r in own}) & names


def test_each_mode_checks_its_resolution():
    from sim_models.device import DeviceParams

    d = DeviceParams()
    c = MacroConfig(rows=64, cols=2, tdc_mode="counter", tdc_bits=7)
    design = MacroDesign.derive(c, d)
    lo, hi = c.mode.start_delay_range(c, d, design.readout)
    assert lo <= design.readout.start_delay_cycles == hi
    c.mode.check_resolution(c, d, design.readout)
    c.mode.check_resolution(c, d, design.readout, start_delay_cycles=hi)
    with pytest.raises(ValueError, match=rf"read below code 0.*use {lo}\.\.{hi} cycles"):
        c.mode.check_resolution(c, d, design.readout, start_delay_cycles=hi + 1)
    coarse = MacroConfig(rows=64, cols=2, tdc_mode="coarse", tdc_bits=4)
    slow = MacroDesign.derive(coarse, d, t_clk_ns=5.0)
    with pytest.raises(ValueError, match="cannot resolve a dot product; use t_clk_ns <="):
        coarse.mode.check_resolution(coarse, d, slow.readout)
    with pytest.raises(ValueError, match="checked by the codes it resolves"):
        coarse.mode.start_delay_range(coarse, d, slow.readout)


def test_each_mode_elaborates_its_value_stage():
    # The RTL value stage is the mode's: a mode whose stage adds nothing leaves the
    # accumulator's offsets undriven (the design still elaborates) and no code_lut; the real
    # one drives them, and the coarse mode's adds the per-column tables.
    from amaranth.back import rtlil

    from mram_macro.rtl.top import MramMacro

    c = MacroConfig(rows=8, cols=2, tdc_bits=4, tdc_mode="counter")
    plain = rtlil.convert(MramMacro(c), name="m")
    assert "code_lut" not in plain
    coarse = rtlil.convert(MramMacro(MacroConfig(rows=8, cols=2, tdc_bits=4, tdc_mode="coarse")),
                           name="m")
    assert "code_lut" in coarse

    class Silent(CounterMode):
        def value_stage(self, m, top, **kw):
            pass

    counter = MODES["counter"]
    try:
        MODES["counter"] = Silent()
        silent = rtlil.convert(MramMacro(c), name="m")
    finally:
        MODES["counter"] = counter
    assert silent != plain


#: Product files (outside the mode objects) that still ask a mode's capability flags, with how
#: many lines: guards that refuse what a build lacks (a register access, a calibration method)
#: and the exploration's feature model. The count may fall, never grow: new mode-specific
#: behaviour belongs in a mode method.
FLAG_USES: dict[str, int] = {
    "mram_macro/cli_args.py": 1, "mram_macro/design/config.py": 3,
    "mram_macro/explore/model.py": 1, "mram_macro/explore/point.py": 1,
    "mram_macro/explore/sweep.py": 2, "mram_macro/host/api.py": 5, "mram_macro/host/bank.py": 1,
    "mram_macro/host/die_setup.py": 1, "mram_macro/host/rtl_server.py": 1,
    "mram_macro/rtl/top.py": 1, "sim_models/calibration.py": 2, "sim_models/golden.py": 2,
    "sim_models/studies.py": 1}
_FLAGS = ("has_code_table", "has_fine_interpolator", "has_single_mtj_read", "supports_gain")


def test_capability_flags_are_asked_no_more_than_before():
    found = {}
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel == "mram_macro/design/modes.py":
                continue
            n = sum(any(f in line for f in _FLAGS)
                    for line in path.read_text(encoding="utf-8").splitlines())
            if n:
                found[rel] = n
    grown = {f: n for f, n in found.items() if n > FLAG_USES.get(f, 0)}
    assert not grown, f"give the mode object a method instead of asking its flags: {grown}"
    stale = {f: n for f, n in FLAG_USES.items() if found.get(f, 0) < n}
    assert not stale, f"lower FLAG_USES to the counts found: {found}"
