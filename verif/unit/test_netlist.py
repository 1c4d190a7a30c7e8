"""The event-driven simulation netlist Icarus runs (mram_macro/sim/netlist.py): same ports,
same values, rewritten only when the RTL changes, and chosen with a clear error."""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

from mram_macro.design.config import profile_config
from mram_macro.rtl.periphery.clock_gate import ICG_VERILOG, ICG_VERILOG_EVENT
from mram_macro.rtl.top import generate_verilog
from mram_macro.sim.harness import top_ports
from mram_macro.sim.netlist import bank_inputs, event_netlist, write_event_netlist
from mram_macro.sim.runner import build_subdir, icarus_netlist

TWO_STEP = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8,
                          tdc_mode="two_step", tdc_fine_taps=4)

needs_tools = pytest.mark.skipif(shutil.which("yosys") is None or shutil.which("iverilog") is None,
                                 reason="yosys/iverilog not on PATH (run `make setup`)")

BANKED = """module m(p, q, y, z);
  input [8:0] p;
  input [3:0] q;
  output [3:0] y;
  output [4:0] z;
  assign y = {p[0] ^ p[8], p[4] & q[1], p[3], p[5:2] == 4'hA};
  assign z = {p[5:3], p[7:6]};
endmodule
"""


def test_bank_inputs_reads_every_bit_from_its_bank():
    out = bank_inputs(BANKED, {"p": 3})
    assert "wire [2:0] p__bank0 = p[2:0];" in out and "wire [2:0] p__bank2 = p[8:6];" in out
    assert "p__bank0[0] ^ p__bank2[2]" in out and "p__bank1[1] & q[1]" in out
    assert "p[5:2]" in out                      # a part select across banks stays as it is
    assert "{p__bank1, p__bank2[1:0]}" in out   # one within a bank reads the bank
    assert bank_inputs(BANKED, {}) == BANKED
    with pytest.raises(RuntimeError, match="already has a wire"):
        bank_inputs(out, {"p": 3})


@needs_tools
def test_bank_inputs_keeps_the_values(tmp_path):
    """Both modules side by side in one simulation, for random inputs: equal outputs."""
    banked = bank_inputs(BANKED, {"p": 4}).replace("module m(", "module mb(")
    rng = random.Random(7)
    checks = "\n".join(f"    p = 9'd{rng.randrange(512)}; q = 4'd{rng.randrange(16)}; #1 "
                       f"if (y !== yb) $display(\"DIFF %b %b\", y, yb);" for _ in range(64))
    (tmp_path / "t.v").write_text(BANKED + banked + f"""
module t;
  reg [8:0] p; reg [3:0] q; wire [3:0] y, yb;
  m a(.p(p), .q(q), .y(y));
  mb b(.p(p), .q(q), .y(yb));
  initial begin
{checks}
    $display("DONE");
  end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-s", "t", "-o", "t.vvp", "t.v"], cwd=tmp_path,
                   check=True, capture_output=True)
    out = subprocess.run(["vvp", "-n", "t.vvp"], cwd=tmp_path, check=True, capture_output=True,
                         text=True).stdout
    assert "DONE" in out and "DIFF" not in out, out


@needs_tools
def test_event_netlist_is_the_macro_flat_with_event_driven_gates_and_banks():
    rtl = generate_verilog(TWO_STEP)
    flat = event_netlist(rtl)
    assert top_ports(flat) == top_ports(rtl)                # same module, same ports
    assert flat.count("\nmodule ") + flat.startswith("module ") == 1    # flattened
    assert ICG_VERILOG in rtl and "always @" not in "".join(
        line for line in flat.splitlines() if "en_latched" in line)
    assert "? " in "".join(line for line in flat.splitlines() if "en_latched  =" in line)
    assert "$pmux" not in flat and "function" not in flat   # parallel cases are mux trees
    banks = [line for line in flat.splitlines() if "arr_fine__bank" in line and "wire" in line]
    assert len(banks) == TWO_STEP.cols                      # K - 1 = 3 sampler bits a column
    assert "wire [2:0] arr_fine__bank11 = arr_fine[35:33];" in flat
    assert len([line for line in flat.splitlines() if "arr_fine[" in line]) == TWO_STEP.cols
    # No register is written back through a concatenation of slices: Yosys' $sdff inference
    # split the gated result register that way, and vvp re-resolved all of it on every update
    # (the default build's Icarus suite ran ~9x slower).
    assert "reg [95:0] \\accumulator.values " in flat
    assert not [line for line in flat.splitlines() if line.lstrip().startswith("assign {")]
    # The ungated reference design has no clock gate to rewrite, and is rewritten all the same.
    ungated = generate_verilog(TWO_STEP, clock_gating=False)
    assert ICG_VERILOG not in ungated
    assert top_ports(event_netlist(ungated)) == top_ports(ungated)


@needs_tools
def test_event_netlist_refuses_what_yosys_cannot_read():
    with pytest.raises(RuntimeError, match="yosys could not write the simulation netlist"):
        event_netlist("module mram_macro(a); input a; assign b = ;\nendmodule\n")
    with pytest.raises(RuntimeError, match="clock gate 2 times"):
        event_netlist(ICG_VERILOG + ICG_VERILOG)
    assert ICG_VERILOG_EVENT != ICG_VERILOG


@needs_tools
def test_write_event_netlist_rewrites_only_when_the_rtl_changes(tmp_path):
    rtl, flat = tmp_path / "mram_macro.v", tmp_path / "mram_macro.flat.v"
    rtl.write_text(generate_verilog(TWO_STEP))
    write_event_netlist(rtl, flat)
    first = flat.stat().st_mtime_ns
    os.utime(flat, ns=(first - 10**9, first - 10**9))       # an older file keeps its time...
    write_event_netlist(rtl, flat)
    assert flat.stat().st_mtime_ns == first - 10**9
    rtl.write_text(generate_verilog(profile_config("full", rows=8, cols=12, tdc_bits=4,
                                                   result_width=8,
                                                   stream_width=8, tdc_mode="counter")))
    write_event_netlist(rtl, flat)                           # ...until the RTL changes
    assert flat.stat().st_mtime_ns > first - 10**9
    assert "arr_fine" not in flat.read_text()


def test_icarus_netlist_choice(monkeypatch):
    monkeypatch.delenv("MRAM_ICARUS_NETLIST", raising=False)
    assert icarus_netlist() == "flat" and icarus_netlist("rtl") == "rtl"
    monkeypatch.setenv("MRAM_ICARUS_NETLIST", "rtl")
    assert icarus_netlist() == "rtl" and icarus_netlist("flat") == "flat"
    assert build_subdir("icarus", netlist="rtl") == "icarus-rtl"
    assert build_subdir("icarus", netlist="flat") == "icarus"
    assert build_subdir("verilator", netlist="rtl") == "verilator"
    monkeypatch.setenv("MRAM_ICARUS_NETLIST", "gates")
    with pytest.raises(ValueError,
                       match=r"MRAM_ICARUS_NETLIST \(make \.\.\. ICARUS_NETLIST=\) must be "
                             r"one of flat, rtl, not 'gates'"):
        icarus_netlist()
    with pytest.raises(ValueError, match="icarus_netlist must be one of flat, rtl"):
        icarus_netlist("netlist")
