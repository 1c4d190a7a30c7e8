"""The generated artefacts: committed hdl/ is up to date, lint is clean, the C header compiles,
and the CLI rejects bad configurations with a clear message."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mram_macro.cli import main as cli_main
from mram_macro.cli import write_outputs
from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.design.regmap import MACRO_ID
from mram_macro.flow.lint import verilator_lint

ROOT = Path(__file__).resolve().parents[1]
HDL = ROOT / "hdl"

LINT_CONFIGS = [profile_config("full"), profile_config("full", rows=8, cols=12, tdc_bits=4,
                                                       result_width=8,
                                           stream_width=8),
                profile_config("full", rows=100, cols=33, tdc_bits=7, stream_width=128)]


def test_committed_hdl_matches_generator(tmp_path):
    config = MacroConfig.from_json((HDL / "config.json").read_text())
    assert config == MacroConfig(), "hdl/ holds the default configuration"
    files = write_outputs(config, tmp_path)
    for path in files.values():
        committed = HDL / path.name
        assert committed.exists(), f"{committed} missing: run `make hdl`"
        assert committed.read_text() == path.read_text(), (
            f"{committed} is stale: run `make hdl` and commit the result")


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH")
@pytest.mark.parametrize("config", LINT_CONFIGS, ids=lambda c: c.slug)
def test_verilator_lint_clean_with_listed_waivers(config, tmp_path):
    files = write_outputs(config, tmp_path)
    verilator_lint(files["verilog"])


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH")
def test_lint_catches_a_real_warning(tmp_path):
    bad = tmp_path / "bad.v"
    # An output nobody drives: UNDRIVEN is not waived.
    bad.write_text("module mram_macro(input [3:0] a, output [3:0] y, output z);\n"
                   "  assign y = a;\nendmodule\n")
    with pytest.raises(RuntimeError, match="verilator lint failed"):
        verilator_lint(bad)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc missing")
def test_c_header_compiles_and_agrees_with_json(tmp_path):
    regmap = json.loads((HDL / "mram_macro_regs.json").read_text())
    offsets = {r["name"]: r["offset"] for r in regmap["registers"]}
    src = tmp_path / "t.c"
    src.write_text(
        '#include "mram_macro_regs.h"\n#include <stdio.h>\n'
        "int main(void){printf(\"%u %u %u %u\\n\", MRAM_MACRO_ID, MRAM_MACRO_CAL_OFFSET(5),"
        " MRAM_MACRO_STATUS_BUS_ERROR_MASK, MRAM_MACRO_COLS);return 0;}\n")
    exe = tmp_path / "t"
    subprocess.run(["gcc", "-Wall", "-Werror", "-I", str(HDL), str(src), "-o", str(exe)],
                   check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == offsets["ID"] == 0
    assert int(out[1]) == offsets["CAL_OFFSET5"]
    status = next(r for r in regmap["registers"] if r["name"] == "STATUS")
    bus_error = next(f for f in status["fields"] if f["name"] == "BUS_ERROR")
    assert int(out[2]) == 1 << bus_error["lsb"]
    assert int(out[3]) == 64
    assert MACRO_ID == 0x4D52414D


def test_readme_register_table_is_current():
    md = (HDL / "mram_macro_regs.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert md in readme, "README's register table is stale: run `make hdl` (it updates README)"


def test_cli_rejects_bad_configuration(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["generate", "--rows", "64", "--tdc-bits", "5", "-o", str(tmp_path)])
    assert exc.value.code == 2
    assert "use tdc_bits >= 7" in capsys.readouterr().err
    assert not (tmp_path / "mram_macro.v").exists()


def test_cli_generates_any_valid_configuration(tmp_path):
    assert cli_main(["generate", "--rows", "12", "--cols", "5", "--tdc-bits", "4",
                     "--result-width", "6", "--stream-width", "16", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "mram_macro.v").read_text()
    assert "module mram_macro(" in text
    assert "input [11:0] arr_bypass_l" not in text and "output [11:0] arr_bypass_l" in text
    assert json.loads((tmp_path / "config.json").read_text())["rows"] == 12
