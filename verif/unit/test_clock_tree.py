"""Clock trees of the flat sign-off netlist (mram_macro/flow/clock_tree.py) on a hand-written
netlist: fanout limit, equal depth for every sink, balanced insertion across a clock gate, every
sink kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from mram_macro.flow.clock_tree import insert_clock_trees, is_tree_cell, liberty_pins
from mram_macro.flow.ppa.libraries import library
from mram_macro.flow.ppa.netlist import read_instances

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


def _skew_ns(path, lib, tmp_path, *, top: str = "t", first: int = FREE) -> float:
    """OpenSTA's clock arrival at the gated ff<first> minus at ff<first - 1> (the chain's
    flip-flop to flip-flop path across the gate), clock propagated."""
    import re

    from mram_macro.flow.ppa.sta import run_tcl

    out = run_tcl("\n".join([
        f"read_liberty {lib.require()}", f"read_verilog {path}", f"link_design {top}",
        "create_clock -name clk -period 2 [get_ports clk]", "set_propagated_clock [all_clocks]",
        f"report_checks -path_delay min -from [get_pins ff{first - 1}/CK] "
        f"-to [get_pins ff{first}/D] -format full_clock_expanded -digits 4", ""]),
        tmp_path, f"skew_{top}")
    times = [float(m.group(1)) for m in
             re.finditer(r"^\s*[-\d.]+\s+([-\d.]+) \^ ff\d+/CK \(DFF_X1\)", out, re.M)]
    assert len(times) == 2, out
    return times[1] - times[0]


def test_clock_arrival_is_balanced_by_delay_across_the_gate(treed, tmp_path, monkeypatch):
    """OpenSTA sees the free-running and the gated flip-flops clocked within one padding
    buffer of each other; balanced by levels alone (no padding), the gate's AND is skew."""
    from mram_macro.flow import clock_tree

    lib, path, report = treed
    balanced = _skew_ns(path, lib, tmp_path)
    assert report.padding > 0
    plain = tmp_path / "levels.v"
    plain.write_text(_netlist())
    monkeypatch.setattr(clock_tree, "_pads",
                        lambda text, liberty, leaves, *a: ([0] * len(leaves), 0.0))
    insert_clock_trees(plain, lib.require(), buffer=lib.clock_buffer, max_fanout=16)
    by_levels = _skew_ns(plain, lib, tmp_path)
    assert abs(balanced) <= 0.02 < abs(by_levels), (balanced, by_levels)


def test_padding_in_the_library_s_small_buffer_keeps_the_balance(tmp_path):
    """With the library's padding buffer (``clock_pad_buffer``, CLKBUF_X1), every pad is one,
    drives one buffer input, and the tree's own buffers stay the clock buffer; OpenSTA still
    sees the free-running and the gated flip-flops clocked within 0.02 ns."""
    lib = library("nangate45")
    path = tmp_path / "t.v"
    path.write_text(_netlist())
    report = insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=16,
                                pad_buffer=lib.clock_pad_buffer)
    insts, _driver, fanout = _drivers(path, lib)
    tree = [i for i in insts if is_tree_cell(i.name)]
    pads = [i for i in tree if i.cell == lib.clock_pad_buffer[0]]
    assert report.padding > 0 and len(pads) == report.padding
    assert {i.cell for i in tree} == {lib.clock_buffer[0], lib.clock_pad_buffer[0]}
    assert all(fanout[i.pins["Z"]] == 1 for i in pads)
    assert lib.clock_pad_buffer[0] in report.line()
    assert abs(_skew_ns(path, lib, tmp_path)) <= 0.02


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
    with pytest.raises(ValueError, match="clock padding buffer"):
        insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=8,
                           pad_buffer=("CLKBUF_X1", "A", "Q"))
    insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=8)
    with pytest.raises(ValueError, match="already has clock trees"):
        insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=8)


SMALL_GATES, SMALL_FFS = 20, 4      # a TDC-like bank: many gates, few flip-flops behind each


def _bank_netlist(nested: bool = False) -> str:
    """clk -> 40 free-running flip-flops, one gate in front of 300, and SMALL_GATES gates in
    front of SMALL_FFS each (latch + AND, as the flat netlist maps ``mram_icg``); ``nested``:
    the small gates behind a gate of their own (``pclk``, which also clocks 64 flip-flops: the
    TDC's column gates behind the synchronisers' gate)."""
    lines = ["module b(clk, en, d, q);", "  input clk;", "  input en;", "  input d;",
             "  output q;"]
    ffs = []
    small_ck = "clk"
    if nested:
        lines += ["  wire elp;", "  wire pclk;", "  DLL_X1 latp ( .D(en), .GN(clk), .Q(elp) );",
                  "  AND2_X1 andp ( .A1(clk), .A2(elp), .ZN(pclk) );"]
        ffs += ["pclk"] * 64
        small_ck = "pclk"
    for g in range(SMALL_GATES + 1):
        ck = "clk" if g == SMALL_GATES else small_ck
        lines += [f"  wire el{g};", f"  wire gclk{g};",
                  f"  DLL_X1 lat{g} ( .D(en), .GN({ck}), .Q(el{g}) );",
                  f"  AND2_X1 and{g} ( .A1({ck}), .A2(el{g}), .ZN(gclk{g}) );"]
        ffs += [f"gclk{g}"] * (GATED if g == SMALL_GATES else SMALL_FFS)
    ffs = ["clk"] * FREE + ffs
    lines.append(f"  wire [{len(ffs) - 1}:0] s;")
    for i, ck in enumerate(ffs):
        src = "d" if i == 0 else f"s[{i - 1}]"
        lines.append(f"  DFF_X1 ff{i} ( .CK({ck}), .D({src}), .Q(s[{i}]) );")
    lines += [f"  assign q = s[{len(ffs) - 1}];", "endmodule", ""]
    return "\n".join(lines)


def _behind_gates(path, lib) -> int:
    """Tree buffers behind the small gates (clocked only when their gate is enabled)."""
    insts, driver, _ = _drivers(path, lib)
    small = {f"gclk{g}" for g in range(SMALL_GATES)}
    return sum(1 for i in insts
               if is_tree_cell(i.name) and _depth(i.pins["A"], driver)[1] in small)


@pytest.mark.parametrize("nested", [False, True], ids=["on_clk", "behind_a_gate"])
def test_padding_shared_by_many_gates_goes_in_front_of_them(tmp_path, monkeypatch, nested):
    """Twenty shallow gated trees that all lack the big tree's delay get it from one padding
    chain in front of their gates (clocked every cycle, but once) instead of one chain behind
    each gate, and with sharing turned off the padding is behind every gate again; behind a
    gate of their own (the TDC's column gates behind the synchronisers') they need none. The
    clock arrives balanced either way (OpenSTA)."""
    from mram_macro.flow import clock_tree

    lib = library("nangate45")
    shared, apart = tmp_path / "shared.v", tmp_path / "apart.v"
    shared.write_text(_bank_netlist(nested))
    apart.write_text(_bank_netlist(nested))
    insert_clock_trees(shared, lib.require(), buffer=lib.clock_buffer, max_fanout=16)
    monkeypatch.setattr(clock_tree, "SHARED_GATES", SMALL_GATES + 1)
    insert_clock_trees(apart, lib.require(), buffer=lib.clock_buffer, max_fanout=16)
    behind_shared, behind_apart = _behind_gates(shared, lib), _behind_gates(apart, lib)
    print(f"buffers behind the {SMALL_GATES} small gates: {behind_shared} shared, "
          f"{behind_apart} apart")
    # at most one pad left behind each small gate
    assert behind_shared <= 2 * SMALL_GATES
    if not nested:
        # apart: each small tree is its leaf buffer plus padding
        assert behind_apart >= 3 * SMALL_GATES
        # the small gates' clock inputs hang from a chain of single buffers in front of them
        insts, driver, fanout = _drivers(shared, lib)
        and0 = {i.name: i for i in insts}["and0"]
        net, chain = and0.pins["A1"], 0
        while net in driver and is_tree_cell(driver[net].name):
            net = driver[net].pins["A"]
            chain += fanout[net] == 1
        assert chain >= 2
    # (behind a gate, the parent gate's AND and tree already delay the small gates about as
    # much as the big tree: they need no padding of their own, shared or not)
    # balanced: a small gate's flip-flop and the one before it (free-running, or behind the
    # parent gate) within ~one padding buffer
    assert abs(_skew_ns(shared, lib, tmp_path, top="b", first=FREE + (64 if nested else 0))) \
        <= 0.03


def test_fanout_trees_buffer_only_the_named_wide_nets(tmp_path):
    """insert_fanout_trees: a broadcast net of an edge-capture TDC (BROADCAST_NETS) that
    drives 40 D pins gets a balanced tree (no buffer drives more than the fan-out limit,
    every sink at the same depth, every sink kept); a wide net of another name and a narrow
    broadcast are left alone; a bad buffer and a second insertion are refused."""
    from mram_macro.flow.clock_tree import FANOUT_PREFIX, insert_fanout_trees
    from mram_macro.rtl.periphery.edge_tdc import BROADCAST_NETS

    lib = library("nangate45")
    wide, narrow = 40, 5
    lines = ["module t(clk, d, q);", "  input clk;", "  input d;", "  output q;",
             "  wire \\rc.tdc__count_pos [1:0] ;", "  wire other;"]
    lines.append("  DFF_X1 src0 ( .CK(clk), .D(d), .Q(\\rc.tdc__count_pos [0]) );")
    lines.append("  DFF_X1 src1 ( .CK(clk), .D(d), .Q(\\rc.tdc__count_pos [1]) );")
    lines.append("  DFF_X1 src2 ( .CK(clk), .D(d), .Q(other) );")
    for i in range(wide):
        lines.append(f"  DFF_X1 a{i} ( .CK(clk), .D(\\rc.tdc__count_pos [0]), .Q() );")
        lines.append(f"  DFF_X1 o{i} ( .CK(clk), .D(other), .Q() );")
    for i in range(narrow):
        lines.append(f"  DFF_X1 b{i} ( .CK(clk), .D(\\rc.tdc__count_pos [1]), .Q(q) );")
    lines += ["endmodule", ""]
    path = tmp_path / "t.v"
    path.write_text("\n".join(lines))
    added = insert_fanout_trees(path, lib.require(), BROADCAST_NETS, buffer=lib.clock_buffer,
                                max_fanout=16)
    assert set(added) == {"rc.tdc__count_pos[0]"} and added["rc.tdc__count_pos[0]"] >= 3
    insts, driver, fanout = _drivers(path, lib)
    by_name = {i.name: i for i in insts}
    assert all(fanout[n] <= 16 for n in fanout if n.startswith(FANOUT_PREFIX))
    depths = set()
    for i in range(wide):
        net, depth = by_name[f"a{i}"].pins["D"], 0
        while driver[net].name.startswith(FANOUT_PREFIX):
            net, depth = driver[net].pins["A"], depth + 1
        assert net == "rc.tdc__count_pos[0]"
        depths.add(depth)
        assert by_name[f"o{i}"].pins["D"] == "other"
    assert len(depths) == 1 and depths.pop() >= 1
    assert all(by_name[f"b{i}"].pins["D"] == "rc.tdc__count_pos[1]" for i in range(narrow))
    with pytest.raises(ValueError, match="already has fan-out trees"):
        insert_fanout_trees(path, lib.require(), BROADCAST_NETS, buffer=lib.clock_buffer,
                            max_fanout=16)
    with pytest.raises(ValueError, match="is not a cell"):
        insert_fanout_trees(path, lib.require(), BROADCAST_NETS, buffer=("NOPE", "A", "Z"),
                            max_fanout=16)
    with pytest.raises(ValueError, match="max_fanout must be"):
        insert_fanout_trees(path, lib.require(), BROADCAST_NETS, buffer=lib.clock_buffer,
                            max_fanout=1)


def test_a_clock_not_derived_from_clk_gets_a_buffer_only_where_its_fanout_needs_one(tmp_path):
    """An edge-capture TDC's column clocks (a comparator ANDed with an enable) have no balance
    to keep with ``clk``: one that drives few flip-flops stays unbuffered (no tree, no
    padding); one that drives more than the fan-out limit still gets its tree."""
    lib = library("nangate45")
    lines = ["module t(clk, d, cmp0, cmp1, q);", "  input clk;", "  input d;", "  input cmp0;",
             "  input cmp1;", "  output q;", "  wire en;", "  wire c0;", "  wire c1;",
             "  DFF_X1 en_ff ( .CK(clk), .D(d), .Q(en) );",
             "  AND2_X1 g0 ( .A1(cmp0), .A2(en), .ZN(c0) );",
             "  AND2_X1 g1 ( .A1(cmp1), .A2(en), .ZN(c1) );"]
    lines += [f"  DFF_X1 a{i} ( .CK(c0), .D(d), .Q() );" for i in range(6)]
    lines += [f"  DFF_X1 b{i} ( .CK(c1), .D(d), .Q() );" for i in range(40)]
    lines += ["  DFF_X1 last ( .CK(clk), .D(d), .Q(q) );", "endmodule", ""]
    path = tmp_path / "t.v"
    path.write_text("\n".join(lines))
    insert_clock_trees(path, lib.require(), buffer=lib.clock_buffer, max_fanout=16)
    insts, driver, _ = _drivers(path, lib)
    by_name = {i.name: i for i in insts}
    assert all(by_name[f"a{i}"].pins["CK"] == "c0" for i in range(6))
    tops = set()
    for i in range(40):
        net = by_name[f"b{i}"].pins["CK"]
        assert is_tree_cell(driver[net].name)
        while is_tree_cell(driver[net].name):
            net = driver[net].pins["A"]
        tops.add(net)
    assert tops == {"c1"}
