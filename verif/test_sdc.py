"""The SDC ``mram-macro generate`` ships for integrators (issue 22), read by OpenSTA against a
flat netlist of a small two-step build: every port pattern matches (no warning), the bus ports
carry their input/output delays, ``arr_cmp`` is a false path and ``arr_fine`` a multicycle
path."""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import pytest

from mram_macro.cli import write_outputs
from mram_macro.design.config import profile_config
from mram_macro.flow.ppa.libraries import HEADLINE_LIBRARY, LIBRARIES, STA_BINARY
from mram_macro.flow.ppa.sta import IO_DELAY_FRACTION, write_sdc
from mram_macro.flow.sdc import render_sdc
from mram_macro.flow.synth import synthesize_flat
from mram_macro.rtl.periphery.tdc import SYNC_STAGES
from mram_macro.sim.harness import top_ports
from sim_models.readout import T_CLK_NS

CONFIG = profile_config("full", rows=8, cols=3, tdc_bits=4, result_width=5, stream_width=8)
PERIOD_NS = T_CLK_NS     # render_sdc's default: the clock the readout is designed for


HDL = Path(__file__).resolve().parents[1] / "hdl"


def test_shipped_sdc_is_what_the_sign_off_reads(tmp_path):
    """``hdl/mram_macro.sdc`` (default configuration) is, to the byte, the SDC ``make sta``
    writes and reads (:func:`mram_macro.flow.ppa.sta.write_sdc`) for a netlist with the macro's
    ports at the readout's clock: the integrator's constraints and the sign-off's cannot
    diverge. (That a flat netlist has the RTL's ports is checked on the small macro in
    verif/unit/test_sta.py.)"""
    from sim_models.readout import T_CLK_NS

    shipped = (HDL / "mram_macro.sdc").read_text()
    ports = top_ports((HDL / "mram_macro.v").read_text())
    stub = tmp_path / "ports.v"     # the module header a flat netlist of the macro has
    stub.write_text("\n".join(["module mram_macro(" + ", ".join(n for _, n, _ in ports) + ");",
                               *(f"  {d} {f'[{w - 1}:0] ' if w > 1 else ''}{n};"
                                 for d, n, w in ports), "endmodule", ""]))
    hold = LIBRARIES[HEADLINE_LIBRARY].input_hold_ns
    assert write_sdc(stub, T_CLK_NS, tmp_path, "mram_macro",
                     input_hold_ns=hold).read_text() == shipped
    assert f"set_input_delay -min {hold:g} -clock clk [get_ports {{" in shipped


def test_sdc_refuses_a_bad_input_hold_delay():
    for bad in (-0.01, 0.41, 5, float("nan"), "0.05", True):
        with pytest.raises(ValueError, match="input_hold_ns must be at least 0 and at most"):
            render_sdc(CONFIG, "", period_ns=2.0, input_hold_ns=bad)


@pytest.mark.parametrize("key", sorted(LIBRARIES))
def test_input_hold_delay_is_the_librarys_fastest_clock_to_output(key):
    """The hold input delay the SDC gives the inputs is what the Liberty file says the
    fastest flip-flop can do (rounded down to the ps), not a number picked to save buffers."""
    from mram_macro.flow.ppa.liberty import fastest_clock_to_output, read_library

    lib = LIBRARIES[key]
    if not lib.liberty.is_file():
        pytest.skip(f"{lib.title} Liberty file missing (run `make setup`)")
    liberty = read_library(lib.liberty)
    fastest_ns = fastest_clock_to_output(liberty) * liberty.time_unit_s * 1e9
    assert lib.input_hold_ns == math.floor(fastest_ns * 1000) / 1000, (lib.key, fastest_ns)


def test_sdc_refuses_a_bad_period():
    for bad in (0, -5, float("nan"), "5", True):
        with pytest.raises(ValueError, match="period_ns must be a positive clock period"):
            render_sdc(CONFIG, "", period_ns=bad)


@pytest.mark.timeout(300)
def test_opensta_reads_the_shipped_sdc(tmp_path):
    lib = LIBRARIES["osu018"]
    if not lib.liberty.is_file() or not STA_BINARY.is_file():
        pytest.skip("OSU Liberty or OpenSTA missing (run `make setup`)")
    files = write_outputs(CONFIG, tmp_path / "gen")
    sdc = files["sdc"].read_text()
    assert f"create_clock -name clk -period {PERIOD_NS:g} [get_ports clk]" in sdc
    flat = synthesize_flat(files["verilog"], "mram_macro", liberty=lib.liberty,
                           period_ps=PERIOD_NS * 1e3, driving_cell=lib.driving_cell,
                           output_load=lib.output_load, tie_hi=lib.tie_hi, tie_lo=lib.tie_lo,
                           workdir=tmp_path / "flat")
    script = tmp_path / "sta.tcl"
    script.write_text("\n".join([
        f"read_liberty {lib.liberty}", f"read_verilog {flat.netlist}",
        "link_design mram_macro", f"read_sdc {files['sdc']}",
        'puts "@@BUS"', "report_checks -path_delay max -from [get_ports s_axis_tvalid]",
        'puts "@@CMP"', "report_checks -path_delay max -from [get_ports {arr_cmp[*]}]",
        'puts "@@FINE"', "report_checks -path_delay max -from [get_ports {arr_fine[*]}]", ""]))
    run = subprocess.run([str(STA_BINARY), "-no_splash", "-exit", str(script)],
                         capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Warning" not in out and "Error" not in out, out[-3000:]
    bus, cmp_, fine = (out.split(f"@@{k}")[1].split("@@")[0] for k in ("BUS", "CMP", "FINE"))
    io = IO_DELAY_FRACTION * PERIOD_NS
    assert re.search(rf"{io:.2f}\s+{io:.2f} [v^] input external delay", bus), bus
    assert "No paths found." in cmp_, cmp_                          # false path
    # multicycle: the capture edge is SYNC_STAGES periods after the launch
    capture = SYNC_STAGES * PERIOD_NS
    assert re.search(rf"{capture:.2f}\s+{capture:.2f}\s+clock clk \(rise edge\)", fine), fine
