"""Clock trees of the flat sign-off netlist (mram_macro/clock_tree.py) on a hand-written netlist:
fanout limit, equal depth for every sink, balanced insertion across a clock gate, every sink kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from mram_macro.clock_tree import insert_clock_trees, is_tree_cell, liberty_pins
from mram_macro.ppa.libraries import library
from mram_macro.ppa.netlist import read_instances

FREE, GATED = 40, 300     # flip-flops on clk, behind the clock gate


def _netlist() -> str:
    lines = ["module t(clk, en, d, q);", "  input clk;", "  input en;", "  input d;",
             "  output q;", "  wire en_l;", "  wire gclk;",
             f"  wire [{FREE + GATED - 1}:0] s;",
             "  DLL_X1 icg_latch ( .D(en), .GN(clk), .Q(en_l) );",
             "  AND2_X1 icg_and ( .A1(clk), .A2(en_l), .ZN(gclk) );",
             # A latch on an inverted clock (how OSU's clock gates look): no flip-flop behind it.
             "  wire clkn;", "  wire lq;",
             "  INV_X1 inv ( .A(clk), .ZN(clkn) );",
             "  DLH_X1 lat ( .D(en), .G(clkn), .Q(lq) );"]
    for i in range(FREE + GATED):
        ck = "clk" if i < FREE else "gclk"
        src = "d" if i == 0 else f"s[{i - 1}]"
        lines.append(f"  DFF_X1 ff{i} ( .CK({ck}), .D({src}), .Q(s[{i}]) );")
    lines += [f"  assign q = s[{FREE + GATED - 1}];", "endmodule", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def treed(tmp_path_factory):
    lib = library("nangate45")
    path = tmp_path_factory.mktemp("ctree") / "t.v"
    path.write_text(_netlist())
    report = insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=16)
    return lib, path, report


def _drivers(path, lib):
    pins = liberty_pins(lib.require())
    insts = read_instances(path)
    driver, fanout = {}, Counter()
    for inst in insts:
        for p, n in inst.pins.items():
            if p in pins[inst.cell].outputs:
                driver[n] = inst
            else:
                fanout[n] += 1
    return insts, driver, fanout


def _depth(net, driver):
    """Tree buffers between ``net`` and the root it hangs from, and that root net."""
    levels = 0
    while net in driver and is_tree_cell(driver[net].name):
        net = driver[net].pins["A"]
        levels += 1
    return levels, net


def test_every_sink_is_kept_and_reached_through_the_tree(treed):
    lib, path, report = treed
    insts, driver, _fanout = _drivers(path, lib)
    ffs = [i for i in insts if i.cell == "DFF_X1"]
    assert len(ffs) == FREE + GATED
    roots = Counter(_depth(i.pins["CK"], driver)[1] for i in ffs)
    assert roots == {"clk": FREE, "gclk": GATED}
    assert report.buffers == sum(1 for i in insts if is_tree_cell(i.name)) > 0


def test_no_buffer_drives_more_than_the_fanout_limit(treed):
    lib, path, _ = treed
    insts, _driver, fanout = _drivers(path, lib)
    for inst in insts:
        if is_tree_cell(inst.name):
            assert 1 <= fanout[inst.pins["Z"]] <= 16, inst.name
    # The sources now drive only tree roots, never the flip-flops themselves.
    assert fanout["gclk"] <= 16 and fanout["clk"] <= 16


def test_depth_is_equal_per_tree_and_balanced_across_the_gate(treed):
    lib, path, _ = treed
    insts, driver, _ = _drivers(path, lib)
    depths = defaultdict(set)
    for inst in insts:
        if inst.cell == "DFF_X1":
            depths[_depth(inst.pins["CK"], driver)[1]].add(_depth(inst.pins["CK"], driver)[0])
    gate = {i.name: i for i in insts}["icg_and"]
    gate_depth = _depth(gate.pins["A1"], driver)[0]
    assert len(depths["gclk"]) == 1 and len(depths["clk"]) == 1
    (gated,), (free,) = depths["gclk"], depths["clk"]
    assert gated == 3      # 300 pins at fanout 16: 19 leaves, 2, 1
    # A free-running flip-flop sits at least as deep as one behind the gate (gate subtree + AND
    # + tree), deeper by the padding that makes up for the AND's longer delay.
    assert free >= gate_depth + 1 + gated


def _skew_ns(path, lib, tmp_path) -> float:
    """OpenSTA's clock arrival at the gated ff40 minus the free-running ff39 (the chain's
    flip-flop to flip-flop path across the gate), clock propagated."""
    import re

    from mram_macro.ppa.sta import run_tcl

    out = run_tcl("\n".join([
        f"read_liberty {lib.require()}", f"read_verilog {path}", "link_design t",
        "create_clock -name clk -period 2 [get_ports clk]", "set_propagated_clock [all_clocks]",
        f"report_checks -path_delay min -from [get_pins ff{FREE - 1}/CK] "
        f"-to [get_pins ff{FREE}/D] -format full_clock_expanded -digits 4", ""]),
        tmp_path, "skew")
    times = [float(m.group(1)) for m in
             re.finditer(r"^\s*[-\d.]+\s+([-\d.]+) \^ ff\d+/CK \(DFF_X1\)", out, re.M)]
    assert len(times) == 2, out
    return times[1] - times[0]


def test_clock_arrival_is_balanced_by_delay_across_the_gate(treed, tmp_path, monkeypatch):
    """OpenSTA sees the free-running and the gated flip-flops clocked within one padding
    buffer of each other; balanced by levels alone (no padding), the gate's AND is skew."""
    from mram_macro import clock_tree

    lib, path, report = treed
    balanced = _skew_ns(path, lib, tmp_path)
    assert report.padding > 0
    plain = tmp_path / "levels.v"
    plain.write_text(_netlist())
    monkeypatch.setattr(clock_tree, "_pads", lambda text, liberty, leaves, *a: [0] * len(leaves))
    insert_clock_trees(plain, lib.require(), buffer=lib.clock_buffer, max_fanout=16)
    by_levels = _skew_ns(plain, lib, tmp_path)
    assert abs(balanced) <= 0.02 < abs(by_levels), (balanced, by_levels)


def test_a_latch_only_clock_net_gets_no_padding_buffers(treed):
    lib, path, _ = treed
    insts, driver, fanout = _drivers(path, lib)
    assert fanout["clkn"] == 1 and not is_tree_cell(driver["clkn"].name)
    assert {i.name: i for i in insts}["lat"].pins["G"] == "clkn"


def test_bad_arguments_are_rejected(tmp_path):
    lib = library("nangate45")
    path = tmp_path / "t.v"
    path.write_text(_netlist())
    with pytest.raises(ValueError, match="max_fanout"):
        insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=1)
    with pytest.raises(ValueError, match="clock buffer"):
        insert_clock_trees(path, lib.require(), buffer=("NO_SUCH", "A", "Z"), max_fanout=8)
    insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=8)
    with pytest.raises(ValueError, match="already has clock trees"):
        insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=8)
