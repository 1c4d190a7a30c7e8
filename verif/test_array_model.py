"""The behavioural stand-in for the analogue array that ``mram-macro generate`` ships
(``hdl/mram_array_model.v``, :mod:`mram_macro.rtl.array_model`; issue 22): the committed file is the
generator's, and the macro with it on Icarus ``-g2005`` runs ``tb/mram_macro_tb.v`` (weights
through AXI4-Lite, VMMs through the streams, every result frame checked against
``sum_r x_r w_rc``) on the default build and on a 32 x 32 counter-TDC build (the bench packs
weights and inputs in 32-bit words); a stand-in whose
columns trip one phase late fails that bench."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mram_macro.cli import write_outputs
from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.rtl.array_model import MODEL_NAME, render_array_model

ROOT = Path(__file__).resolve().parents[1]
HDL = ROOT / "hdl"
TB = ROOT / "tb" / "mram_macro_tb.v"

needs_iverilog = pytest.mark.skipif(shutil.which("iverilog") is None, reason="no iverilog")


def _bench(tmp_path: Path, sources: list[Path], params: dict[str, int],
           defines: tuple[str, ...] = ()) -> str:
    exe = tmp_path / "tb.vvp"
    subprocess.run(["iverilog", "-g2005", "-o", str(exe), "-s", "mram_macro_tb",
                    *(f"-Pmram_macro_tb.{k}={v}" for k, v in params.items()),
                    *(f"-D{d}" for d in defines), *map(str, sources), str(TB)],
                   check=True, capture_output=True, text=True)
    run = subprocess.run(["vvp", "-n", str(exe), "-none"], capture_output=True, text=True,
                         timeout=600)
    return run.stdout + run.stderr


def test_committed_array_model_is_the_generators(tmp_path):
    files = write_outputs(MacroConfig(), tmp_path)
    assert files["array_model"].name == f"{MODEL_NAME}.v"
    assert (HDL / f"{MODEL_NAME}.v").read_text() == files["array_model"].read_text(), (
        "hdl/mram_array_model.v is stale: run `make hdl`")


def test_array_model_mirrors_the_array_pins():
    """The macro's array outputs are the stand-in's inputs, at the same widths."""
    text = (HDL / f"{MODEL_NAME}.v").read_text()
    for pin in ("arr_pre", "arr_eval", "arr_tdc_en", "arr_wr_side", "arr_wr_pulse"):
        assert f"  input {pin}" in text, pin
    for pin in ("arr_bypass_l", "arr_bypass_r", "arr_wr_row", "arr_wr_data"):
        assert f"  input [63:0] {pin}" in text, pin
    assert "  output reg [63:0] arr_cmp" in text and "  output reg [447:0] arr_fine" in text


def test_array_model_refuses_a_bad_start_delay():
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="start_delay must be a non-negative integer"):
            render_array_model(profile_config("full"), start_delay=bad)


@needs_iverilog
@pytest.mark.timeout(600)
def test_default_macro_with_the_stand_in_computes_vmms(tmp_path):
    out = _bench(tmp_path, [HDL / "mram_macro.v", HDL / f"{MODEL_NAME}.v"], {"NVEC": 4})
    assert "PASS: 4 vectors x 64 columns checked" in out, out[-3000:]


@needs_iverilog
@pytest.mark.timeout(600)
def test_counter_macro_with_the_stand_in_computes_vmms(tmp_path):
    config = profile_config("full", rows=32, cols=32, tdc_mode="counter", result_width=8,
                            stream_width=16)
    files = write_outputs(config, tmp_path / "gen")
    out = _bench(tmp_path, [files["verilog"], files["array_model"]],
                 {"ROWS": 32, "COLS": 32, "RESULT_WIDTH": 8, "STREAM_WIDTH": 16, "FINE_TAPS": 1,
                  "NVEC": 6}, ("MRAM_COUNTER_TDC",))
    assert "PASS: 6 vectors x 32 columns checked" in out, out[-3000:]


@needs_iverilog
@pytest.mark.timeout(600)
@pytest.mark.parametrize("zone", [None, "first", "mid", "last"])
def test_edge_capture_macro_with_the_stand_in_computes_vmms(tmp_path, zone):
    """The default with tdc_capture='edge': the stand-in raises each column where its zone of
    the period reads a still count (first quarter at the rising edge, mid-period at the
    falling edge, last quarter at the next rising edge); moved half a period the wrong way in
    one zone (``zone``), it fails the bench."""
    files = write_outputs(MacroConfig(tdc_capture="edge"), tmp_path / "gen")
    model = files["array_model"]
    text = model.read_text()
    assert "always @(negedge clk)" in text
    if zone is not None:
        wrong = {"first": ("edge_count + 1 == START_DELAY + mismatches[c] / K && "
                           "mismatches[c] % K < K / 4",
                           "edge_count == START_DELAY + mismatches[c] / K && "
                           "mismatches[c] % K < K / 4"),
                 "mid": ("edge_count == START_DELAY + mismatches[c] / K && mismatches[c] % K "
                         ">= K / 4",
                         "edge_count == START_DELAY + 1 + mismatches[c] / K && mismatches[c] % "
                         "K >= K / 4"),
                 "last": ("edge_count == START_DELAY + mismatches[c] / K && mismatches[c] % K "
                          ">= 3 * K / 4",
                          "edge_count + 1 == START_DELAY + mismatches[c] / K && "
                          "mismatches[c] % K >= 3 * K / 4")}[zone]
        assert wrong[0] in text
        model = tmp_path / "wrong.v"
        model.write_text(text.replace(*wrong))
    out = _bench(tmp_path, [files["verilog"], model], {"NVEC": 4})
    if zone is None:
        assert "PASS: 4 vectors x 64 columns checked" in out, out[-3000:]
    else:
        assert "FAIL" in out and "PASS" not in out, out[-3000:]


@needs_iverilog
@pytest.mark.timeout(600)
def test_bench_fails_a_stand_in_that_trips_late(tmp_path):
    """The bench checks the stand-in's timing: one phase late on some columns is caught."""
    good = (HDL / f"{MODEL_NAME}.v").read_text()
    late = good.replace("START_DELAY + mismatches[c] / K", "START_DELAY + (mismatches[c] + 1) / K")
    assert late != good
    bad = tmp_path / "late.v"
    bad.write_text(late)
    out = _bench(tmp_path, [HDL / "mram_macro.v", bad], {"NVEC": 2})
    assert "FAIL" in out and "PASS" not in out, out[-3000:]


@needs_iverilog
def test_tracker_stand_in_compiles(tmp_path):
    """With the temperature tracker the stand-in also drives the replica columns."""
    config = profile_config("full", rows=8, cols=4, tdc_bits=5, result_width=8, stream_width=8,
                            calibration="gain")
    files = write_outputs(config, tmp_path / "gen")
    text = files["array_model"].read_text()
    assert "input arr_ref_en" in text and "output reg [3:0] arr_ref_cmp" in text
    subprocess.run(["iverilog", "-g2005", "-o", str(tmp_path / "m.vvp"), "-s", MODEL_NAME,
                    str(files["array_model"])], check=True, capture_output=True, text=True)


def test_prefix_names_the_stand_in(tmp_path):
    """With ``--prefix`` the stand-in's module and file carry it, like the macro's."""
    files = write_outputs(profile_config("full", rows=8, cols=4, tdc_bits=4, result_width=8,
                                         stream_width=8), tmp_path, prefix="cfg_a_")
    assert files["array_model"].name == f"cfg_a_{MODEL_NAME}.v"
    assert f"module cfg_a_{MODEL_NAME} #(" in files["array_model"].read_text()
