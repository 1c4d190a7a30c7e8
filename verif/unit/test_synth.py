"""Synthesis smoke tests: mram_macro.flow.synth on a tiny Amaranth design with one submodule.

Needs Debian's ``yosys`` and the OSU 0.18 µm Liberty file, both installed by ``make setup``.
(No ``from __future__ import annotations`` here: ``wiring.Component`` reads its port annotations.)
"""

import math
from pathlib import Path

import pytest
from amaranth import Module
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.flow import synth
from mram_macro.flow.synth import (
    GE_REFERENCE_CELL,
    AreaReport,
    SynthesisError,
    check_liberty,
    find_liberty,
    read_liberty_cells,
    run_yosys_check,
    synthesize,
)

WIDTH = 8


class Incrementer(wiring.Component):
    """``result = value + 1`` (mod 2**WIDTH), combinational."""

    value: In(WIDTH)
    result: Out(WIDTH)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.result.eq(self.value + 1)
        return m


class Counter(wiring.Component):
    """Counts up while ``en`` is high; the adder is a submodule so the report has two blocks."""

    en: In(1)
    count: Out(WIDTH)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inc = inc = Incrementer()
        m.d.comb += inc.value.eq(self.count)
        with m.If(self.en):
            m.d.sync += self.count.eq(inc.result)
        return m


@pytest.fixture(scope="module")
def counter_v(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("counter") / "counter.v"
    path.write_text(verilog.convert(Counter(), name="counter", emit_src=False))
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("synth")


@pytest.fixture(scope="module")
def report(counter_v, workdir) -> AreaReport:
    return synthesize(counter_v, "counter", workdir=workdir)


@pytest.fixture(scope="module")
def lib_cells():
    return read_liberty_cells(find_liberty())


def test_report_keeps_the_hierarchy(report):
    # Amaranth names a submodule after its path: module `\counter.inc`.
    assert list(report.modules) == ["counter", "counter.inc"]
    assert report.modules["counter"].submodules == {"counter.inc": 1}
    assert report.modules["counter.inc"].instances == 1


def test_areas_are_positive_and_add_up(report):
    for mod in report.modules.values():
        assert mod.area_um2 > 0, mod.name
        assert mod.cell_count > 0, mod.name
    assert report.total_area_um2 == pytest.approx(
        sum(m.area_um2 for m in report.modules.values()))
    assert report.total_cells == sum(m.cell_count for m in report.modules.values())
    assert not report.unknown_cells


def test_area_is_the_liberty_area_of_the_cells(report, lib_cells):
    for mod in report.modules.values():
        expected = sum(lib_cells[cell].area_um2 * n for cell, n in mod.cells.items())
        assert mod.area_um2 == pytest.approx(expected), mod.name


def test_counter_register_maps_to_flip_flops(report, lib_cells):
    top, inc = report.modules["counter"], report.modules["counter.inc"]
    ff_cells = {cell: n for cell, n in top.cells.items() if lib_cells[cell].is_flip_flop}
    assert sum(ff_cells.values()) == WIDTH, ff_cells
    assert all(cell.startswith("DFF") for cell in ff_cells)
    assert top.flip_flops == report.total_flip_flops == WIDTH
    assert inc.flip_flops == 0  # the incrementer is combinational


def test_nand2_gate_equivalents(report, lib_cells):
    nand2 = lib_cells[GE_REFERENCE_CELL].area_um2
    assert nand2 > 0
    assert report.nand2_area_um2 == nand2
    for mod in report.modules.values():
        assert mod.nand2_ge == pytest.approx(mod.area_um2 / nand2)
    assert report.total_nand2_ge == pytest.approx(report.total_area_um2 / nand2)


def test_table(report):
    lines = report.table().splitlines()
    assert lines[0].split() == ["block", "inst", "cells", "area", "µm²", "NAND2-GE"]
    rows = {line.split()[0]: line.split() for line in lines[2:5] if not line.startswith("-")}
    assert rows["counter.inc"][1:] == [
        "1", str(report.modules["counter.inc"].cell_count),
        f"{report.modules['counter.inc'].area_um2:.1f}",
        f"{report.modules['counter.inc'].nand2_ge:.1f}",
    ]
    total = next(line.split() for line in lines if line.startswith("TOTAL"))
    assert total[1:] == [str(report.total_cells), f"{report.total_area_um2:.1f}",
                         f"{report.total_nand2_ge:.1f}"]


def test_workdir_keeps_netlist_and_log(report, workdir):
    assert report.netlist == workdir / "counter_netlist.v"
    assert report.log == workdir / "synth.log"
    netlist = report.netlist.read_text()
    for mod in report.modules.values():
        assert f"module \\{mod.name}" in netlist or f"module {mod.name}(" in netlist
        for cell in mod.cells:
            assert f"  {cell} " in netlist, cell
    assert "Chip area for top module" in report.log.read_text()


def test_without_workdir_nothing_is_kept(counter_v, report):
    again = synthesize(counter_v, "counter")
    assert again.netlist is None and again.log is None
    assert math.isclose(again.total_area_um2, report.total_area_um2)


def test_missing_liberty_from_env_is_a_clear_error(monkeypatch, tmp_path, counter_v):
    monkeypatch.setenv(synth.LIBERTY_ENV_VAR, str(tmp_path / "missing.lib"))
    with pytest.raises(FileNotFoundError, match=r"missing\.lib.*MRAM_LIBERTY"):
        find_liberty()
    with pytest.raises(FileNotFoundError, match="MRAM_LIBERTY"):
        synthesize(counter_v, "counter")


def test_missing_default_liberty_says_run_make_setup(monkeypatch, tmp_path, counter_v):
    monkeypatch.delenv(synth.LIBERTY_ENV_VAR, raising=False)
    monkeypatch.setattr(synth, "DEFAULT_LIBERTY", tmp_path / "osu018_stdcells.lib")
    # nothing in the cache, and the first-use fetch fails (a stand-in apt-get: no network)
    monkeypatch.setenv("MRAM_CACHE_DIR", str(tmp_path / "cache"))
    _fake_tools(tmp_path / "bin", None, apt_fails=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    with pytest.raises(FileNotFoundError, match="run `make setup`"):
        find_liberty()
    with pytest.raises(FileNotFoundError, match="run `make setup`"):
        synthesize(counter_v, "counter")


def _broken_liberty(path: Path, how: str) -> Path:
    """A copy of the flow's Liberty file, spoilt ``how``."""
    text = find_liberty().read_text()
    nand2 = text.index("cell (NAND2X1)")
    text = {
        # files cut short: Yosys 0.23 reads the first two silently, loops on the third
        "cut-between-groups": "".join(text.splitlines(keepends=True)[:-20]),
        "cut-in-a-comment": text[:nand2] + "/* the rest is missing",
        "cut-in-a-string": text[:text.rindex('"') - 3],
        "syntax": text[:nand2] + "  area = 3 ;\n" + text[nand2:],
        "no-latch": text.replace("cell (LATCH)", "cell (LATCH_RENAMED)"),
        "no-nand2": text.replace("cell (NAND2X1)", "cell (NAND2_RENAMED)"),
    }[how]
    path.write_text(text)
    return path


@pytest.mark.parametrize(("how", "message"), [
    ("cut-between-groups", r"^it opens \d+ groups with '\{' but closes \d+ with '\}'; is the "
                           r"file cut short\?$"),
    ("cut-in-a-comment", r"^the comment opened on line \d+ is not closed; is the file cut "),
    ("cut-in-a-string", r"^the string opened on line \d+ is not closed; is the file cut "),
    ("syntax", r"^Yosys cannot read it: Syntax error in liberty file on line \d+"),
    ("no-latch", r"^the Liberty file has no known latch cell \(one of .*LATCH\)"),
    ("no-nand2", r"^the Liberty file has none of the NAND2 cells NAND2X1, NAND2_X1"),
])
def test_check_liberty_refuses_a_library_the_flow_cannot_use_in_one_line(tmp_path, how,
                                                                          message):
    """Issue 22: such files passed the cell reader and failed later in synthesis with a
    traceback and the tail of a Yosys log (or hung it, or were read in part)."""
    with pytest.raises(SynthesisError, match=message) as exc:
        check_liberty(_broken_liberty(tmp_path / "broken.lib", how))
    assert "\n" not in str(exc.value)


def test_check_liberty_passes_the_flows_libraries():
    from mram_macro.flow.ppa.libraries import LIBRARIES

    for path in {find_liberty(), *(lib.require() for lib in LIBRARIES.values())}:
        assert check_liberty(path) == read_liberty_cells(path)


def test_liberty_env_var_naming_a_directory_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv(synth.LIBERTY_ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"is a directory; name the \.lib file in it"):
        find_liberty()


def test_liberty_env_var_overrides_default(monkeypatch):
    liberty = find_liberty()
    monkeypatch.setattr(synth, "DEFAULT_LIBERTY", Path("/nonexistent.lib"))
    monkeypatch.setenv(synth.LIBERTY_ENV_VAR, str(liberty))
    assert find_liberty() == liberty


def test_yosys_error_raises_with_log_tail(tmp_path):
    bad = tmp_path / "bad.v"
    bad.write_text("module bad(input a, output y);\n  assign y = a &;\nendmodule\n")
    with pytest.raises(RuntimeError, match=r"(?s)syntax error.*last lines:.*bad\.v:2: ERROR"):
        synthesize(bad, "bad", workdir=tmp_path / "out")


def test_unknown_top_is_an_error(counter_v, tmp_path):
    with pytest.raises(SynthesisError, match="no_such_top"):
        synthesize(counter_v, "no_such_top", workdir=tmp_path)


@pytest.mark.parametrize("top", ["", "two words", "a;b", 3])
def test_bad_top_name_is_rejected(counter_v, top):
    with pytest.raises(ValueError, match="top must be a module name"):
        synthesize(counter_v, top)
    with pytest.raises(ValueError, match="top must be a module name"):
        run_yosys_check(counter_v, top)


def test_cells_without_liberty_area_are_flagged(tmp_path, monkeypatch):
    # Yosys 0.23's dfflibmap maps flip-flops only; without the flow's own latch map a latch
    # stays a generic cell, which has no Liberty area.
    import mram_macro.flow.synth as synth

    monkeypatch.setattr(synth, "latch_techmap", lambda cells: "")
    latch = tmp_path / "latch.v"
    latch.write_text("module latchy(input en, input d, output reg q);\n"
                     "  always @* if (en) q = d;\nendmodule\n")
    report = synthesize(latch, "latchy")
    assert report.unknown_cells == {"$_DLATCH_P_": 1}
    assert "WARNING: cells without a Liberty area" in report.table()


def test_clock_gate_latch_maps_onto_the_library_latch(tmp_path):
    from mram_macro.rtl.periphery.clock_gate import ICG_VERILOG

    icg = tmp_path / "icg.v"
    icg.write_text(ICG_VERILOG)
    report = synthesize(icg, "mram_icg", workdir=tmp_path / "w")
    assert not report.unknown_cells
    netlist = report.netlist.read_text()
    assert "LATCH " in netlist and "INVX1 " in netlist   # OSU: transparent-high latch


def test_check_accepts_amaranth_output(counter_v):
    run_yosys_check(counter_v, "counter")


def test_check_rejects_multiple_drivers(tmp_path):
    multi = tmp_path / "multi.v"
    multi.write_text("module multi(input a, input b, output y);\n"
                     "  assign y = a;\n  assign y = b;\nendmodule\n")
    with pytest.raises(SynthesisError, match=r"(?s)check -assert.*multiple conflicting drivers"):
        run_yosys_check(multi, "multi")


# -- issue 22: the Liberty file fetched on first use into the user's cache ----------------------
def _fake_tools(bin_dir, lib_text: str | None, *, apt_fails: bool = False):
    """``apt-get`` and ``dpkg-deb`` stand-ins: a .deb whose unpacked tree holds ``lib_text``."""
    bin_dir.mkdir()
    (bin_dir / "lib.txt").write_text(lib_text or "")
    apt = ("echo 'E: Unable to locate package' >&2; exit 100" if apt_fails else
           "touch qflow-tech-osu018_1.0_all.deb")
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\n{apt}\n")
    (bin_dir / "dpkg-deb").write_text(
        "#!/bin/sh\nmkdir -p \"$3/usr/share/qflow/tech/osu018\"\n"
        f"cp '{bin_dir / 'lib.txt'}' \"$3/usr/share/qflow/tech/osu018/osu018_stdcells.lib\"\n")
    for tool in ("apt-get", "dpkg-deb"):
        (bin_dir / tool).chmod(0o755)


def test_liberty_is_fetched_once_into_the_cache_and_hash_checked(tmp_path, monkeypatch):
    import mram_macro.flow.synth as synth

    real = synth.DEFAULT_LIBERTY
    if not real.is_file():
        pytest.skip("no OSU Liberty file to stand in for the Debian package (make setup)")
    monkeypatch.setattr(synth, "DEFAULT_LIBERTY", tmp_path / "absent" / real.name)
    monkeypatch.delenv("MRAM_LIBERTY", raising=False)
    monkeypatch.setenv("MRAM_CACHE_DIR", str(tmp_path / "cache"))
    _fake_tools(tmp_path / "bad", "library (tampered) {}\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bad'}:/usr/bin:/bin")
    with pytest.raises(FileNotFoundError, match=r"has sha256 .*, expected 86f79b20.*not used"):
        synth.find_liberty()
    _fake_tools(tmp_path / "down", None, apt_fails=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'down'}:/usr/bin:/bin")
    with pytest.raises(FileNotFoundError, match=r"could not fetch .*qflow-tech-osu018.*Unable "
                                                r"to locate.*set \$MRAM_LIBERTY"):
        synth.find_liberty()
    _fake_tools(tmp_path / "good", real.read_text())
    monkeypatch.setenv("PATH", f"{tmp_path / 'good'}:/usr/bin:/bin")
    cached = tmp_path / "cache" / "lib" / real.name
    assert synth.find_liberty() == cached and cached.read_bytes() == real.read_bytes()
    monkeypatch.setenv("PATH", f"{tmp_path / 'down'}:/usr/bin:/bin")   # no fetch the 2nd time
    assert synth.find_liberty() == cached
