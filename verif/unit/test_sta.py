"""Timing sign-off: flat synthesis + OpenSTA on a small macro, and a design that must fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from mram_macro.ppa.__main__ import STA_CONFIGS
from mram_macro.ppa.flow import sign_off, sign_off_verilog
from mram_macro.ppa.libraries import LIBRARIES, library
from mram_macro.ppa.sta import run_sta


@pytest.mark.parametrize("lib_key", list(LIBRARIES))
def test_small_macro_meets_target_clock(lib_key, tmp_path):
    """The small configuration of `make sta` meets each library's target clock with margin."""
    lib = library(lib_key)
    result = sign_off(STA_CONFIGS["small"], lib, tmp_path)
    assert result.sta.wns_ns >= 0, result.sta.line()
    assert result.passed, result.sta.line()
    assert result.sta.tns_ns == 0
    assert result.netlist.flip_flops > 0


_LONG_PATH = """
module long_path(input clk, input [31:0] a, input [31:0] b, output reg [31:0] y);
  reg [31:0] ra, rb;
  // Four chained 32-bit multiplications between two registers: far longer than a clock.
  always @(posedge clk) begin
    ra <= a; rb <= b;
    y <= ((ra * rb) * (ra + rb)) * ((ra ^ rb) * (ra - rb));
  end
endmodule
"""

_SHORT_PATH = _LONG_PATH.replace("((ra * rb) * (ra + rb)) * ((ra ^ rb) * (ra - rb))", "ra ^ rb")


def test_sta_fails_on_a_long_combinational_path(tmp_path):
    lib = library("nangate45")
    src = tmp_path / "long_path.v"
    src.write_text(_LONG_PATH)
    result = sign_off_verilog(src, lib, tmp_path / "long", top="long_path")
    assert not result.passed
    assert result.sta.wns_ns < 0 and result.sta.tns_ns < 0
    assert result.sta.startpoint.startswith(("ra[", "rb[")), result.sta.line()
    assert result.sta.endpoint.startswith("y["), result.sta.line()
    # The same registers with a short path between them pass: the failure is the path's.
    src_short = tmp_path / "short_path.v"
    src_short.write_text(_SHORT_PATH.replace("long_path", "short_path"))
    short = sign_off_verilog(src_short, lib, tmp_path / "short", top="short_path")
    assert short.passed, short.sta.line()


def test_sta_reports_the_period_it_was_given(tmp_path):
    lib = library("nangate45")
    src = tmp_path / "short_path.v"
    src.write_text(_SHORT_PATH.replace("long_path", "short_path"))
    net = sign_off_verilog(src, lib, tmp_path, top="short_path").netlist
    slow = run_sta(net.netlist, "short_path", lib, period_ns=10.0, workdir=tmp_path / "slow")
    fast = run_sta(net.netlist, "short_path", lib, period_ns=0.05, workdir=tmp_path / "fast")
    assert slow.period_ns == 10.0 and slow.wns_ns > 9
    assert fast.wns_ns < 0
    # The path delay does not depend on the period asked for.
    assert slow.fmax_mhz == pytest.approx(fast.fmax_mhz, rel=1e-3)
    with pytest.raises(ValueError, match="period_ns must be positive"):
        run_sta(net.netlist, "short_path", lib, period_ns=0, workdir=tmp_path / "bad")


def test_unknown_library_is_named():
    with pytest.raises(ValueError, match=r"unknown library 'tsmc7'.*nangate45"):
        library("tsmc7")


def test_target_clocks_are_stated():
    for lib in LIBRARIES.values():
        assert lib.target_period_ns > 0 and Path(lib.liberty).name.endswith(".lib")


def test_flat_synthesis_rejects_bad_constraints(tmp_path):
    from mram_macro.synth import synthesize_flat

    lib = library("nangate45")
    src = tmp_path / "short_path.v"
    src.write_text(_SHORT_PATH.replace("long_path", "short_path"))
    common = dict(liberty=lib.liberty, driving_cell=lib.driving_cell, tie_hi=lib.tie_hi,
                  tie_lo=lib.tie_lo, workdir=tmp_path)
    with pytest.raises(ValueError, match="period_ps must be a positive number"):
        synthesize_flat(src, "short_path", period_ps=0, output_load=1.0, **common)
    with pytest.raises(ValueError, match="output_load must be a non-negative number"):
        synthesize_flat(src, "short_path", period_ps=2000, output_load=-1, **common)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        synthesize_flat(tmp_path / "nope.v", "short_path", period_ps=2000, output_load=1.0,
                        **common)
