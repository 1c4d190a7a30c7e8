"""Timing sign-off: flat synthesis + OpenSTA on a small macro, and designs that must fail.

The failing designs are small: a long combinational path between registers (Verilog through the
flow), and gate-level NanGate netlists written here (so synthesis cannot optimise the defect
away): a clock-buffer chain that makes data race the clock (hold), a clock gate whose enable
latch borrows time next to a flip-flop path (the flip-flop path must not hide behind the latch),
and a comparator input captured without a synchroniser.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest

from mram_macro.flow.ppa.__main__ import STA_CONFIGS
from mram_macro.flow.ppa.flow import sign_off, sign_off_verilog
from mram_macro.flow.ppa.libraries import LIBRARIES, library
from mram_macro.flow.ppa.sta import (
    CLOCK_UNCERTAINTY_NS,
    IO_DELAY_FRACTION,
    Port,
    design_tcl,
    read_ports,
    run_sta,
    run_tcl,
    signoff_constraints,
    signoff_setup,
)
from mram_macro.flow.sdc import render_sdc, sdc_text
from mram_macro.rtl.periphery.tdc import SYNC_STAGES


@pytest.fixture(scope="module", params=list(LIBRARIES))
def small_macro(request, tmp_path_factory):
    lib = library(request.param)
    return sign_off(STA_CONFIGS["small"], lib, tmp_path_factory.mktemp(f"small_{lib.key}"))


def test_small_macro_meets_setup(small_macro):
    """The small configuration of `make sta` meets each library's target clock with margin, in
    every path group; its comparator inputs reach only synchronisers."""
    sta, lib = small_macro.sta, small_macro.library
    groups = {g.name for g in sta.groups}
    assert {"flip_flops", "inputs", "latches", "outputs", "clock_gating"} <= groups, sta.line()
    assert sta.ff_wns_ns >= lib.min_slack_fraction * lib.target_period_ns, sta.line()
    assert all(s >= 0 for s in sta.setup_wns_by_group.values()), sta.line()
    assert sta.wns_ns >= 0 and sta.tns_ns == 0, sta.line()
    assert sta.unsynchronised == ()
    assert small_macro.netlist.flip_flops > 0
    text = "\n".join(sta.constraints)
    assert "false path from arr_cmp[3:0]" in text
    assert f"multicycle path {SYNC_STAGES}" in text and "arr_fine[27:0]" in text
    assert "4 asynchronous input bits reach 4 endpoints, 4 of them cmp_sync0" in text
    assert not [f for f in small_macro.failures if "setup" in f], small_macro.failures


def test_small_macro_signs_off_with_the_shipped_sdc(small_macro):
    """Sign-off and hold fixing read the SDC ``mram-macro generate`` ships, written for the flat
    netlist's ports at the library's clock: the same text as from the RTL's ports (issue 22)."""
    lib = small_macro.library
    workdir = small_macro.netlist.netlist.parent
    rtl = (workdir / "rtl" / "mram_macro.v").read_text()
    shipped = render_sdc(STA_CONFIGS["small"], rtl, period_ns=lib.target_period_ns,
                         input_hold_ns=lib.input_hold_ns)
    for folder in (workdir, workdir / "hold_fix"):
        sdc = folder / "mram_macro.sdc"
        assert sdc.read_text() == shipped, folder
    assert f"read_sdc {(workdir / 'mram_macro.sdc').resolve()}" in (workdir / "sta.tcl").read_text()
    assert any("read from mram_macro.sdc" in c for c in small_macro.sta.constraints)


def test_small_macro_meets_hold(small_macro):
    """With the sign-off uncertainty the raw netlist fails hold (no hold fixing in Yosys/ABC,
    level-balanced clock trees); the flow's hold fixing repairs every endpoint."""
    from mram_macro.flow.ppa.flow import hold_fix_report

    sta = small_macro.sta
    assert sta.hold_wns_ns is not None and sta.hold_wns_ns >= 0, sta.line()
    assert small_macro.passed, small_macro.failures
    fix = hold_fix_report(small_macro.netlist.netlist.parent)
    assert fix is not None and fix["hold_before_ns"] < 0 and fix["buffers"] > 0, fix
    assert fix["hold_after_ns"] is None, fix


_LONG_PATH = """
module long_path(input clk, input [15:0] a, input [15:0] b, output reg [15:0] y);
  reg [15:0] ra, rb;
  // Four 16-bit multiplications chained between two registers: far longer than a clock
  // (about 3.4 ns at NanGate 45 nm), and a quarter of the synthesis time of 32-bit ones.
  always @(posedge clk) begin
    ra <= a; rb <= b;
    y <= (((ra * rb) * (ra ^ rb)) * (ra + rb)) * (ra - rb);
  end
endmodule
"""

_SHORT_PATH = _LONG_PATH.replace("(((ra * rb) * (ra ^ rb)) * (ra + rb)) * (ra - rb)", "ra ^ rb")
assert _SHORT_PATH != _LONG_PATH


def test_sta_fails_on_a_long_flip_flop_path(tmp_path):
    lib = library("nangate45")
    src = tmp_path / "long_path.v"
    src.write_text(_LONG_PATH)
    result = sign_off_verilog(src, lib, tmp_path / "long", top="long_path")
    assert not result.passed
    ff = result.sta.flip_flop
    assert ff.slack_ns < 0 and result.sta.tns_ns < 0
    assert result.sta.wns_ns == ff.slack_ns
    assert ff.startpoint.startswith(("ra[", "rb[")), result.sta.line()
    assert ff.endpoint.startswith("y["), result.sta.line()
    assert any(f.startswith("flip-flop setup slack") for f in result.failures)
    # The same registers with a short path between them meet setup: the failure is the path's.
    src_short = tmp_path / "short_path.v"
    src_short.write_text(_SHORT_PATH.replace("long_path", "short_path"))
    short = sign_off_verilog(src_short, lib, tmp_path / "short", top="short_path")
    assert short.sta.ff_wns_ns >= lib.min_slack_fraction * lib.target_period_ns
    assert all(s >= 0 for s in short.sta.setup_wns_by_group.values()), short.sta.line()
    assert not [f for f in short.failures if "setup" in f], short.failures


def test_sta_reports_the_period_it_was_given(tmp_path):
    lib = library("nangate45")
    src = tmp_path / "short_path.v"
    src.write_text(_SHORT_PATH.replace("long_path", "short_path"))
    net = sign_off_verilog(src, lib, tmp_path, top="short_path").netlist
    slow = run_sta(net.netlist, "short_path", lib, period_ns=10.0, workdir=tmp_path / "slow")
    fast = run_sta(net.netlist, "short_path", lib, period_ns=0.05, workdir=tmp_path / "fast")
    assert slow.period_ns == 10.0 and slow.ff_wns_ns > 9
    assert fast.ff_wns_ns < 0
    # The flip-flop path's delay does not depend on the period asked for.
    assert 10.0 - slow.ff_wns_ns == pytest.approx(0.05 - fast.ff_wns_ns, abs=1e-3)
    with pytest.raises(ValueError, match="period_ns must be positive"):
        run_sta(net.netlist, "short_path", lib, period_ns=0, workdir=tmp_path / "bad")


# --- gate-level NanGate netlists ------------------------------------------------------------

def _netlist(name: str, ports: dict[str, str], cells: list[str]) -> str:
    """A flat Verilog module: ``ports`` name -> direction, ``cells`` instance lines."""
    nets = sorted({n for line in cells for n in _nets_of(line)} - set(ports))
    return "\n".join([f"module {name}({', '.join(ports)});",
                      *(f"  {d} {p};" for p, d in ports.items()),
                      *(f"  wire {n};" for n in nets),
                      *(f"  {c}" for c in cells), "endmodule", ""])


def _nets_of(line: str) -> list[str]:
    return [n for n in re.findall(r"\.\w+\((\w*)\)", line) if n]


def _chain(cell: str, src: str, dst: str, n: int, tag: str) -> list[str]:
    """``n`` >= 1 buffers (``cell``, pins A -> Z) from net ``src`` to net ``dst``."""
    nets = [src, *(f"{tag}_n{i}" for i in range(1, n)), dst]
    return [f"{cell} {tag}_{i} (.A({a}), .Z({b}));" for i, (a, b) in enumerate(pairwise(nets))]


def _hold_race(clock_chain: int) -> str:
    """A toggling flip-flop ``q0`` feeding ``q1`` through three buffers, ``q1`` on the output
    through two; with ``clock_chain`` > 0, ``q1``'s clock comes through that many clock
    buffers, so its clock edge arrives after the new data."""
    cells = ["DFF_X1 ff0 (.CK(clk), .D(d0), .Q(q0), .QN());",
             "INV_X1 inv0 (.A(q0), .ZN(n0));",
             *_chain("BUF_X1", "n0", "d0", 2, "loop"),
             *_chain("BUF_X1", "q0", "d1", 3, "data"),
             "DFF_X1 ff1 (.CK(ck1), .D(d1), .Q(q1), .QN());",
             *_chain("BUF_X1", "q1", "q", 2, "out")]
    if clock_chain:
        cells += _chain("CLKBUF_X1", "clk", "ck1", clock_chain, "skew")
    else:
        cells = [c.replace(".CK(ck1)", ".CK(clk)") for c in cells]
    return _netlist("hold_race", {"clk": "input", "q": "output"}, cells)


@pytest.mark.parametrize("clock_chain", [0, 12])
def test_sta_fails_on_a_hold_violation(tmp_path, clock_chain):
    """Data racing a late clock fails hold; the same netlist with the clock on time passes."""
    lib = library("nangate45")
    net = tmp_path / "hold_race.v"
    net.write_text(_hold_race(clock_chain))
    sta = run_sta(net, "hold_race", lib, workdir=tmp_path)
    ff = sta.group("flip_flops")
    if clock_chain == 0:
        assert ff.hold.slack_ns >= 0 and sta.hold_wns_ns >= 0, sta.line()
        assert not sta.failures(lib.min_slack_fraction), sta.line()
    else:
        assert ff.hold.slack_ns < -0.1, sta.line()
        assert (ff.hold.startpoint, ff.hold.endpoint) == ("q0", "q1")
        failures = sta.failures(lib.min_slack_fraction)
        assert any(f.startswith("flip_flops hold slack") for f in failures), failures
        # Setup still holds: only the hold check catches it.
        assert ff.setup.slack_ns > 0


def test_hold_fixing_repairs_an_inserted_violation(tmp_path):
    """fix_hold puts buffers in front of the late-clocked flip-flop of the hold race, and only
    there; the repaired netlist passes hold and setup."""
    from mram_macro.flow.ppa.hold_fix import fix_hold
    from mram_macro.flow.ppa.netlist import read_instances

    lib = library("nangate45")
    net = tmp_path / "hold_race.v"
    net.write_text(_hold_race(12))
    assert run_sta(net, "hold_race", lib, workdir=tmp_path / "before").hold_wns_ns < -0.1
    fix = fix_hold(net, "hold_race", lib, tmp_path / "fix")
    assert fix.hold_before_ns < -0.1 and fix.hold_after_ns is None and fix.buffers > 0
    insts = {i.name: i for i in read_instances(net)}
    assert insts["ff1"].pins["D"].startswith("hold_fix_n")     # the chain ends at ff1's D
    assert insts["ff0"].pins["D"] == "d0"                       # ff0 needed nothing
    after = run_sta(net, "hold_race", lib, workdir=tmp_path / "after")
    assert after.hold_wns_ns >= 0 and not after.failures(lib.min_slack_fraction), after.line()


def test_hold_fixing_again_to_a_margin_adds_to_the_first_fix(tmp_path):
    """A netlist fixed to make ppa's target, fixed again to a layout's margin (mram_macro/layout
    /flow.py ROUTE_HOLD_MARGIN_NS): the second pass adds buffers with names of its own (no
    instance or net declared twice) and reaches the margin; a target out of range is refused."""
    import re
    from collections import Counter

    from mram_macro.flow.ppa.hold_fix import HOLD_TARGET_NS, fix_hold

    lib = library("nangate45")
    net = tmp_path / "hold_race.v"
    net.write_text(_hold_race(12))
    first = fix_hold(net, "hold_race", lib, tmp_path / "fix1")
    assert first.buffers > 0
    assert run_sta(net, "hold_race", lib, workdir=tmp_path / "a").hold_wns_ns < 0.05
    second = fix_hold(net, "hold_race", lib, tmp_path / "fix2", target_ns=0.05)
    assert second.buffers > 0
    text = net.read_text()
    names = Counter(re.findall(r"\b(hold_fix_b\d+) \(", text))
    wires = Counter(re.findall(r"wire (hold_fix_n\d+);", text))
    assert len(names) == first.buffers + second.buffers and max(names.values()) == 1
    assert max(wires.values()) == 1
    assert run_sta(net, "hold_race", lib, workdir=tmp_path / "b").hold_wns_ns >= 0.05 \
        > HOLD_TARGET_NS
    with pytest.raises(ValueError, match=r"target_ns must be a hold slack in 0 \.\. 0\.5 ns"):
        fix_hold(net, "hold_race", lib, tmp_path / "fix3", target_ns=-0.01)


def _reset_fanout(n: int) -> str:
    """``n`` toggling flip-flops, each cleared through an AND by the one-bit input ``r`` (a
    synchronous reset), on a clock 4 buffers late; the I/O delays' reference is a flip-flop
    one buffer from ``clk``, so every one of them fails hold from ``r``, even with the
    library's clock-to-output as its hold input delay."""
    cells = ["INV_X1 rinv (.A(r), .ZN(rn));", "CLKBUF_X1 ckr (.A(clk), .Z(ck1));",
             "DFF_X1 reff (.CK(ck1), .D(q0), .Q(qr), .QN());",
             *_chain("CLKBUF_X1", "clk", "ckd", 4, "skew")]
    for i in range(n):
        cells += [f"DFF_X1 ff{i} (.CK(ckd), .D(d{i}), .Q(q{i}), .QN(qn{i}));",
                  *_chain("BUF_X1", f"qn{i}", f"fb{i}", 3, f"fb{i}"),
                  f"AND2_X1 clr{i} (.A1(fb{i}), .A2(rn), .ZN(d{i}));"]
    cells += [f"XOR2_X1 out (.A(q0), .B(q{n - 1}), .Z(x));", *_chain("BUF_X1", "x", "q", 3, "o")]
    return _netlist("reset_fanout", {"clk": "input", "r": "input", "q": "output"}, cells)


def test_hold_fixing_repairs_a_shared_input_path_once(tmp_path):
    """All the flip-flops fail hold from one input port: fix_hold puts one chain where their
    paths share it (in front of the port's one load), and none in front of the flip-flops."""
    from mram_macro.flow.ppa.hold_fix import fix_hold
    from mram_macro.flow.ppa.netlist import read_instances

    lib = library("nangate45")
    net = tmp_path / "reset_fanout.v"
    net.write_text(_reset_fanout(6))
    before = run_sta(net, "reset_fanout", lib, workdir=tmp_path / "before")
    assert before.hold_wns_ns < -0.05, before.line()
    fix = fix_hold(net, "reset_fanout", lib, tmp_path / "fix")
    assert fix.hold_after_ns is None and fix.endpoints == 1, fix
    insts = {i.name: i for i in read_instances(net)}
    assert insts["rinv"].pins["A"].startswith("hold_fix_n")      # the port's load moved
    assert all(insts[f"ff{i}"].pins["D"] == f"d{i}" for i in range(6))
    chain = [i for name, i in insts.items() if name.startswith("hold_fix_b")]
    assert len(chain) == fix.buffers and any(i.pins["A"] == "r" for i in chain)
    after = run_sta(net, "reset_fanout", lib, workdir=tmp_path / "after")
    assert after.hold_wns_ns >= 0 and not after.failures(lib.min_slack_fraction), after.line()


def _long_and_short(long_chain: int) -> str:
    """``ffc`` captures AND(a ``long_chain``-buffer path from ``ffa``, ``ffb`` directly) on a
    clock 8 buffers late: its one data pin has a long path for setup and a short one that
    fails hold."""
    cells = ["DFF_X1 ffa (.CK(clk), .D(da), .Q(qa), .QN());",
             "INV_X1 inva (.A(qa), .ZN(da));",
             "DFF_X1 ffb (.CK(clk), .D(db), .Q(qb), .QN());",
             "INV_X1 invb (.A(qb), .ZN(db0));",
             *_chain("BUF_X1", "db0", "db", 3, "loop"),
             *_chain("BUF_X1", "qa", "la", long_chain, "long"),
             "AND2_X1 g (.A1(la), .A2(qb), .ZN(dc));",
             "DFF_X1 ffc (.CK(ckc), .D(dc), .Q(q), .QN());",
             *_chain("CLKBUF_X1", "clk", "ckc", 8, "skew")]
    return _netlist("mixed", {"clk": "input", "q": "output"}, cells)


def test_hold_fixing_keeps_the_setup_margin(tmp_path):
    """An endpoint with a long path for setup and a short one for hold: fix_hold spends only
    the setup slack above the library's margin in front of the pin, and puts the rest of the
    delay on the short path's own branch (the AND's other input)."""
    from mram_macro.flow.ppa.hold_fix import fix_hold
    from mram_macro.flow.ppa.netlist import read_instances

    lib = library("nangate45")
    net = tmp_path / "mixed.v"
    net.write_text(_long_and_short(70))
    before = run_sta(net, "mixed", lib, workdir=tmp_path / "before")
    floor = lib.min_slack_fraction * lib.target_period_ns
    assert before.hold_wns_ns < -0.1 and before.ff_wns_ns < floor + 0.2, before.line()
    fix = fix_hold(net, "mixed", lib, tmp_path / "fix")
    assert fix.hold_after_ns is None, fix
    after = run_sta(net, "mixed", lib, workdir=tmp_path / "after")
    assert after.hold_wns_ns >= 0 and after.ff_wns_ns >= floor, after.line()
    assert not after.failures(lib.min_slack_fraction), after.line()
    insts = {i.name: i for i in read_instances(net)}
    assert insts["g"].pins["A2"].startswith("hold_fix_n")     # the short branch
    assert insts["g"].pins["A1"] == "la"                       # the long one untouched


def test_clock_uncertainty_is_on_setup_and_hold(tmp_path, monkeypatch):
    """Without the uncertainty the clean netlist's hold and setup slacks both grow by
    CLOCK_UNCERTAINTY_NS: it is charged to both checks."""
    import mram_macro.flow.sdc as sdc_module

    lib = library("nangate45")
    net = tmp_path / "hold_race.v"
    net.write_text(_hold_race(0))
    with_u = run_sta(net, "hold_race", lib, workdir=tmp_path / "u")
    assert f"uncertainty {CLOCK_UNCERTAINTY_NS:g} ns on setup and hold" in with_u.constraints[0]
    monkeypatch.setattr(sdc_module, "CLOCK_UNCERTAINTY_NS", 0.0)
    without = run_sta(net, "hold_race", lib, workdir=tmp_path / "none")
    for check in ("setup", "hold"):
        a = getattr(with_u.group("flip_flops"), check).slack_ns
        b = getattr(without.group("flip_flops"), check).slack_ns
        assert b - a == pytest.approx(CLOCK_UNCERTAINTY_NS, abs=2e-4), check


def _gated(en_chain: int, ff_chain: int) -> str:
    """A latch-based clock gate (NanGate DLL_X1 + AND2_X1, as ``latch_techmap`` maps the
    macro's ICG) whose enable comes from ``q0`` through ``en_chain`` buffers, next to a
    flip-flop path ``q0`` -> ``q2`` through ``ff_chain`` buffers."""
    cells = ["DFF_X1 ff0 (.CK(clk), .D(d0), .Q(q0), .QN());",
             "INV_X1 inv0 (.A(q0), .ZN(n0));",
             *_chain("BUF_X1", "n0", "d0", 4, "loop"),
             *_chain("BUF_X1", "q0", "en", en_chain, "en"),
             "DLL_X1 icg_latch (.D(en), .GN(clk), .Q(en_latched));",
             "AND2_X1 icg_and (.A1(clk), .A2(en_latched), .ZN(gclk));",
             "DFF_X1 ff1 (.CK(gclk), .D(q0), .Q(q1), .QN());",
             *_chain("BUF_X1", "q0", "d2", ff_chain, "long"),
             "DFF_X1 ff2 (.CK(clk), .D(d2), .Q(q2), .QN());",
             *_chain("BUF_X1", "q1", "y1", 2, "o1"), *_chain("BUF_X1", "q2", "y2", 2, "o2")]
    return _netlist("gated", {"clk": "input", "y1": "output", "y2": "output"}, cells)


def test_flip_flop_path_is_reported_apart_from_the_clock_gate(tmp_path):
    """The enable latch borrows time (OpenSTA: slack 0) and the gating check has more slack
    than the flip-flop path: the flip-flop path is reported on its own and is the WNS."""
    lib = library("nangate45")
    net = tmp_path / "gated.v"
    net.write_text(_gated(en_chain=40, ff_chain=45))
    sta = run_sta(net, "gated", lib, workdir=tmp_path)
    latch, gating, ff = sta.group("latches"), sta.group("clock_gating"), sta.flip_flop
    assert latch.setup.slack_ns == 0 and latch.setup.borrowed_ns > 0, sta.line()
    assert latch.setup.endpoint == "en_latched"
    assert gating.setup.endpoint == "gclk", sta.line()
    assert (ff.startpoint, ff.endpoint) == ("q0", "q2"), sta.line()
    assert 0 < ff.slack_ns < gating.setup.slack_ns, sta.line()
    # The headline is the flip-flop path: neither the latch's 0 nor the gating check.
    assert sta.wns_ns == ff.slack_ns and sta.endpoint == "q2"
    # A longer flip-flop path fails sign-off although the gating check is unchanged.
    net.write_text(_gated(en_chain=40, ff_chain=70))
    worse = run_sta(net, "gated", lib, workdir=tmp_path / "worse")
    assert worse.flip_flop.slack_ns < lib.min_slack_fraction * lib.target_period_ns
    assert worse.group("clock_gating").setup.slack_ns == pytest.approx(gating.setup.slack_ns)
    assert any(f.startswith("flip-flop setup slack")
               for f in worse.failures(lib.min_slack_fraction))


def _comparator(synchronised: bool) -> str:
    """``arr_cmp`` into a two-flip-flop synchroniser (or straight into a code register), the
    code register set once the (synchronised) comparator is high."""
    seen = "cmp_sync1" if synchronised else "arr_cmp"
    cells = ["DFF_X1 code_ff (.CK(clk), .D(code_d), .Q(code), .QN());",
             f"OR2_X1 code_or (.A1(code), .A2({seen}), .ZN(code_d));",
             *_chain("BUF_X1", "code", "y", 2, "out")]
    if synchronised:
        cells += ["DFF_X1 s0 (.CK(clk), .D(arr_cmp), .Q(cmp_sync0), .QN());",
                  "DFF_X1 s1 (.CK(clk), .D(cmp_sync0), .Q(cmp_sync1), .QN());"]
    return _netlist("comparator", {"clk": "input", "arr_cmp": "input", "y": "output"}, cells)


@pytest.mark.parametrize("synchronised", [True, False])
def test_asynchronous_input_needs_a_synchroniser(tmp_path, synchronised):
    """The false path on ``arr_cmp`` stands only if nothing but a synchroniser samples it."""
    assert SYNC_STAGES == 2   # the netlist above has two stages
    lib = library("nangate45")
    net = tmp_path / "comparator.v"
    net.write_text(_comparator(synchronised))
    sta = run_sta(net, "comparator", lib, workdir=tmp_path)
    assert any(c.startswith("false path from arr_cmp") for c in sta.constraints)
    failures = sta.failures(lib.min_slack_fraction)
    if synchronised:
        assert sta.unsynchronised == ()
        assert not [f for f in failures if "asynchronous" in f], failures
    else:
        assert sta.unsynchronised == ("code",)
        assert any("asynchronous inputs reach" in f for f in failures), failures


def test_constraints_classify_the_ports():
    ports = (Port("clk", "input", 1), Port("rst", "input", 1),
             Port("s_axil_wdata", "input", 32), Port("s_axil_rdata", "output", 32),
             Port("m_axis_tdata", "output", 64), Port("arr_cmp", "input", 64),
             Port("arr_fine", "input", 448), Port("arr_pre", "output", 1))
    tcl, text, asyncs, held = signoff_constraints(ports, 2.0, reference_pin="ff/CK")
    io = f"{IO_DELAY_FRACTION * 2.0:g}"
    assert [p.name for p in asyncs] == ["arr_cmp"] and [p.name for p in held] == ["arr_fine"]
    script = "\n".join(tcl)
    assert (f"set_input_delay -max {io} -clock clk -reference_pin [get_pins {{ff/CK}}] "
            "[get_ports {rst s_axil_wdata[*] arr_fine[*]}]") in script
    assert (f"set_output_delay -max {io} -clock clk -reference_pin [get_pins {{ff/CK}}] "
            "[get_ports {s_axil_rdata[*] m_axis_tdata[*]}]") in script
    assert "set_output_delay 0 -clock clk -reference_pin [get_pins {ff/CK}] " \
           "[get_ports {arr_pre}]" in script
    assert f"set_multicycle_path -setup {SYNC_STAGES} -from [get_ports {{arr_fine[*]}}]" in script
    # No hold check from the held bits (they change only in precharge): a false path for hold
    # in the SDC, after the Tcl (as the asynchronous ports' false path).
    assert "-hold" not in script
    sdc = sdc_text(ports, 2.0)
    assert "set_false_path -hold -from [get_ports {arr_fine[*]}]" in sdc.splitlines()
    assert "set_false_path -from [get_ports {arr_cmp[*]}]" in sdc.splitlines()
    assert sum("set_false_path" in line for line in sdc.splitlines()) == 2
    assert f"set_clock_uncertainty {CLOCK_UNCERTAINTY_NS:g} [all_clocks]" in script
    # The false path waits for the synchroniser check in run_sta.
    assert "set_false_path" not in script
    assert any("false path from arr_cmp[63:0]" in t for t in text)


def test_unknown_library_is_named():
    with pytest.raises(ValueError, match=r"unknown library 'tsmc7'.*nangate45"):
        library("tsmc7")


def test_target_clocks_are_stated():
    for lib in LIBRARIES.values():
        assert lib.target_period_ns > 0 and Path(lib.liberty).name.endswith(".lib")


def test_flat_synthesis_rejects_bad_constraints(tmp_path):
    from mram_macro.flow.synth import synthesize_flat

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


def _leaf_clocked() -> str:
    """Registers on a buffered clock (so the flow has a clock-tree leaf to reference): ``rst``
    and ``arr_fine`` into registers, ``arr_cmp`` through a synchroniser, registers on a bus
    output and on an array output."""
    cells = ["BUF_X1 ck_b (.A(clk), .Z(ck));",
             "DFF_X1 r_ff (.CK(ck), .D(rst), .Q(r), .QN());",
             "AND2_X1 g (.A1(r), .A2(arr_fine), .ZN(d));",
             "DFF_X1 d_ff (.CK(ck), .D(d), .Q(s_axil_rdata), .QN());",
             "DFF_X1 s0 (.CK(ck), .D(arr_cmp), .Q(cmp_sync0), .QN());",
             "DFF_X1 s1 (.CK(ck), .D(cmp_sync0), .Q(arr_pre), .QN());"]
    return _netlist("leaf", {"clk": "input", "rst": "input", "arr_fine": "input",
                             "arr_cmp": "input", "s_axil_rdata": "output",
                             "arr_pre": "output"}, cells)


def test_flow_adds_only_the_reference_pin_to_the_shipped_sdc(tmp_path):
    """The flow reads the shipped SDC and declares its input/output delays again with
    ``-reference_pin`` at a clock-tree leaf: OpenSTA 2.0.17 replaces each port's delay (it
    does not keep the one relative to the clock port beside it), and keeps the SDC's false and
    multicycle paths (read back with ``write_sdc``)."""
    lib = library("nangate45")
    net = tmp_path / "leaf.v"
    net.write_text(_leaf_clocked())
    setup = signoff_setup(net, lib, 2.0, top="leaf", workdir=tmp_path)
    assert setup.sdc.read_text() == sdc_text(read_ports(net), 2.0, top="leaf",
                                             input_hold_ns=lib.input_hold_ns)
    assert setup.tcl and all("-reference_pin" in line for line in setup.tcl)
    applied = tmp_path / "applied.sdc"
    out = run_tcl("\n".join([*design_tcl(net, "leaf", lib, 2.0, setup.tcl, sdc=setup.sdc),
                             f"write_sdc {applied}", ""]), tmp_path, "applied")
    assert "Warning" not in out, out
    lines = " ".join(applied.read_text().split("\\\n")).splitlines()
    delays = [line for line in lines if line.startswith(("set_input_delay", "set_output_delay"))]
    for port in ("rst", "arr_fine", "arr_cmp", "s_axil_rdata", "arr_pre"):
        mine = [line for line in delays if f"{{{port}}}" in line]
        assert mine and all("-reference_pin" in line for line in mine), (port, delays)
    text = " ".join(lines)
    assert re.search(r"set_false_path\s+-from \[get_ports \{arr_cmp\}\]", text), text
    assert re.search(rf"set_multicycle_path -setup\s+-from \[get_ports \{{arr_fine\}}\] "
                     rf"{SYNC_STAGES}", text), text


def test_hold_fixing_reaches_an_output_port_driven_through_a_concatenation():
    """Yosys writes a port whose bits share one register as ``assign p = { r[0], r[0] };``:
    hold fixing splits it per bit and chains the failing bit alone (the small macro's
    ``s_axil_rresp[0]`` failed hold unfixed once the clock trees were delay-balanced)."""
    from mram_macro.flow.ppa.hold_fix import insert_delay

    text = "\n".join(["module m(p);", "  output [1:0] p;", "  wire [1:0] p;",
                      "  wire [1:0] \\r.x ;", "  assign p = { \\r.x [0], \\r.x [0] };",
                      "endmodule", ""])
    out, added = insert_delay(text, {("p[0]", None): 2}, ("BUF_X1", "A", "Z"))
    assert added == 2
    assert "  assign p[1] = \\r.x [0];" in out.splitlines()
    assert "  assign p[0] = hold_fix_n0;" in out.splitlines()
    assert "BUF_X1 hold_fix_b0 (.A(\\r.x [0] ), .Z(hold_fix_n1));" in out


def _edge_capture(broadcast_buffers: int, stray: bool) -> str:
    """Two columns of an edge-capture TDC: each comparator ANDed with the front end's enable
    clocks its column's count register (``cmp<c>_clk``), the count broadcast through
    ``broadcast_buffers`` buffers; ``missed<c>`` takes the inverted column clock and the
    all-tripped synchroniser the AND of both, on ``clk``. With ``stray`` a register on ``clk``
    also takes ``arr_cmp[0]`` directly."""
    cells = ["DFF_X1 en_ff (.CK(clk), .D(d), .Q(en), .QN());",
             "DFF_X1 count_ff (.CK(clk), .D(d), .Q(count), .QN());",
             *_chain("BUF_X1", "count", "bc", broadcast_buffers, "bcast"),
             "AND2_X1 g0 (.A1(arr_cmp[0]), .A2(en), .ZN(cmp0_clk));",
             "AND2_X1 g1 (.A1(arr_cmp[1]), .A2(en), .ZN(cmp1_clk));",
             "DFF_X1 cap0 (.CK(cmp0_clk), .D(bc), .Q(c0), .QN());",
             "DFF_X1 cap1 (.CK(cmp1_clk), .D(bc), .Q(c1), .QN());",
             "INV_X1 i0 (.A(cmp0_clk), .ZN(nm0));",
             "INV_X1 i1 (.A(cmp1_clk), .ZN(nm1));",
             "DFF_X1 mff0 (.CK(clk), .D(nm0), .Q(missed0), .QN());",
             "DFF_X1 mff1 (.CK(clk), .D(nm1), .Q(missed1), .QN());",
             "AND2_X1 all (.A1(cmp0_clk), .A2(cmp1_clk), .ZN(allc));",
             "DFF_X1 s0 (.CK(clk), .D(allc), .Q(all_cmp_sync0), .QN());",
             "DFF_X1 s1 (.CK(clk), .D(all_cmp_sync0), .Q(all_cmp_sync1), .QN());",
             "XOR2_X1 x0 (.A(c0), .B(c1), .Z(x0));",
             "XOR2_X1 x1 (.A(missed0), .B(missed1), .Z(x1));",
             "XOR2_X1 x2 (.A(all_cmp_sync1), .B(arr_fine[0]), .Z(x2));",
             "XOR2_X1 x3 (.A(x0), .B(x1), .Z(x3));",
             f"XOR2_X1 x4 (.A(x3), .B({'stray' if stray else 'x2'}), .Z(x4));",
             "DFF_X1 out_ff (.CK(clk), .D(x4), .Q(y), .QN());"]
    if stray:
        cells += ["DFF_X1 bad (.CK(clk), .D(arr_cmp[0]), .Q(badq), .QN());",
                  "XOR2_X1 x5 (.A(badq), .B(x2), .Z(stray));"]
    nets = sorted({n for line in cells for n in re.findall(r"\.\w+\((\w*)\)", line) if n}
                  - {"clk", "d", "y"})
    return "\n".join(["module edge(clk, d, arr_cmp, arr_fine, y);", "  input clk;",
                      "  input d;", "  input [1:0] arr_cmp;", "  input [13:0] arr_fine;",
                      "  output y;", *(f"  wire {n};" for n in nets),
                      *(f"  {c}" for c in cells), "endmodule", ""])


@pytest.mark.parametrize(("broadcast_buffers", "stray"), [(1, False), (16, False), (1, True)])
def test_edge_capture_comparators_are_clocks_with_a_broadcast_budget(tmp_path,
                                                                    broadcast_buffers, stray):
    """An edge-capture TDC's netlist (its column clocks cmp<c>_clk) is timed with arr_cmp as
    the clock cmp: the count broadcast is the group ``broadcasts``, held to its budget
    (K/4 - 0.6 phase steps: 0.35 ns at 8 phases and 2 ns), which a long buffer chain breaks;
    the comparators' data fan-out may reach only the all-tripped synchroniser's first stage
    and the missed flip-flops, so a register that takes arr_cmp directly fails sign-off."""
    lib = library("nangate45")
    net = tmp_path / "edge.v"
    net.write_text(_edge_capture(broadcast_buffers, stray))
    sta = run_sta(net, "edge", lib, period_ns=2.0, workdir=tmp_path)
    assert any(c.startswith("clock cmp on arr_cmp[1:0]") for c in sta.constraints)
    assert any("max delay 0.35 ns" in c for c in sta.constraints)
    assert not any(c.startswith("input delay") and "arr_cmp" in c for c in sta.constraints)
    broadcasts = sta.group("broadcasts")
    assert broadcasts is not None and broadcasts.setup is not None
    assert broadcasts.setup.endpoint in ("c0", "c1")
    failures = sta.failures(lib.min_slack_fraction)
    if broadcast_buffers > 1:
        assert broadcasts.setup.slack_ns < 0
        assert any(f.startswith("broadcasts setup") for f in failures), failures
    else:
        assert broadcasts.setup.slack_ns > 0
    if stray:
        assert sta.unsynchronised == ("badq",)
        assert any("asynchronous inputs reach" in f for f in failures), failures
    else:
        assert sta.unsynchronised == ()
        assert not any("asynchronous" in f for f in failures), failures
