"""The layout chain's own steps on tiny inputs (``make layout`` itself is not run here): SPEF
and DEF reading, the names between the flat netlist and the placed one, routed wire
capacitance in the energy calculator (hand-checked against the Liberty file), the net classes,
the floorplan, and the Liberty abstract loaded by OpenSTA under a wrapper. The published
post-route figures are tied to their JSON at the end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mram_macro.flow.layout.abstract import write_liberty
from mram_macro.flow.layout.flow import (
    ArrayBlackBox,
    flat_wire_caps,
    floorplan,
    net_classes,
    wire_energy_by_class,
)
from mram_macro.flow.layout.netlist import PhysicalNetlist
from mram_macro.flow.layout.pnr import _failed_nets, one_line_vias, pin_groups, with_nets
from mram_macro.flow.layout.spef import SpefError, read_def, read_spef, unescape
from mram_macro.flow.ppa.activity import Activity
from mram_macro.flow.ppa.energy import netlist_energy
from mram_macro.flow.ppa.liberty import read_library
from mram_macro.flow.ppa.netlist import Instance, read_instances
from mram_macro.flow.ppa.sta import Port
from verif.unit.test_liberty_energy import NETLIST, SLEW0

SPEF = r"""*SPEF "IEEE 1481-1998"
*DESIGN "t"
*T_UNIT 1 NS
*C_UNIT 1 FF
*R_UNIT 1 OHM
*L_UNIT 1 HENRY

*NAME_MAP
*1 n
*2 arr_cmp\[3\]

*D_NET *1 1.9
*CONN
*I u1:ZN O
*I u2:A I
*CAP
1 *1:1 0.5
2 *1:2 0.7
3 *1:2 *2:1 0.3
*RES
1 u1:ZN *1:1 2.5
2 *1:1 u2:A 4.0
*END

*D_NET *2 0.25
*CAP
1 *2:1 0.25
*END
"""


def test_spef_wire_capacitance_units_and_names(tmp_path):
    path = tmp_path / "t.spef"
    path.write_text(SPEF)
    s = read_spef(path)
    # Ground caps 0.5 + 0.7 and the coupling 0.3 fF: the wire's, pins excluded.
    assert s.wire_cap_F["n"] == pytest.approx(1.5e-15)
    assert s.total_cap_F["n"] == pytest.approx(1.9e-15)
    assert s.wire_cap_F["arr_cmp[3]"] == pytest.approx(0.25e-15)
    assert s.wire_res_ohm["n"] == pytest.approx(6.5)
    path.write_text(SPEF.replace("*C_UNIT 1 FF", "*C_UNIT 1 PF"))
    assert read_spef(path).wire_cap_F["n"] == pytest.approx(1.5e-12)


def test_spef_refuses_what_it_cannot_read(tmp_path):
    path = tmp_path / "bad.spef"
    path.write_text("hello\n")
    with pytest.raises(SpefError, match="no \\*C_UNIT"):
        read_spef(path)
    path.write_text(SPEF.replace("1 *1:1 0.5", "1 *1:1 zero"))
    with pytest.raises(SpefError, match=r"bad.spef:\d+: cannot read '1 \*1:1 zero'"):
        read_spef(path)


def test_unescape():
    assert unescape(r"arr_cmp\[3\]") == "arr_cmp[3]"
    assert unescape("s_axil_wdata<7>") == "s_axil_wdata[7]"


DEF = """VERSION 5.6 ;
DESIGN t ;
UNITS DISTANCE MICRONS 100 ;
DIEAREA ( 0 -70 ) ( 1000 2000 ) ;
COMPONENTS 2 ;
- u1 INV_X1 + PLACED ( 100 0 ) N ;
- u2 XNOR2_X1 + PLACED ( 400 140 ) FS ;
END COMPONENTS
PINS 1 ;
- a + NET a
  + LAYER metal2 ( 0 0 ) ( 1 1 )
  + PLACED ( 50 -70 ) N ;
END PINS
NETS 1 ;
- n ( u1 ZN ) ( u2 A )
  + ROUTED metal1 ( 100 50 ) ( 300 * ) via1_4
  NEW metal2 ( 300 50 ) ( * 250 ) ;
END NETS
END DESIGN
"""


def test_def_reader_geometry_and_wire_length(tmp_path):
    path = tmp_path / "t.def"
    path.write_text(DEF)
    d = read_def(path)
    assert d.die_um == (0.0, -0.7, 10.0, 20.0)
    assert [(c.name, c.cell, c.x_um, c.y_um) for c in d.components] == [
        ("u1", "INV_X1", 1.0, 0.0), ("u2", "XNOR2_X1", 4.0, 1.4)]
    assert d.pins == {"a": (0.5, -0.7)}
    # metal1 from x 1 to 3 µm (2 µm), metal2 from y 0.5 to 2.5 µm (2 µm).
    assert [s.layer for s in d.wires["n"]] == ["metal1", "metal2"]
    assert d.wire_length_um("n") == pytest.approx(4.0)
    path.write_text("nothing")
    with pytest.raises(SpefError, match="not a DEF file"):
        read_def(path)


@pytest.fixture(scope="module")
def lib():
    from mram_macro.flow.ppa.libraries import library

    return read_library(library("nangate45").require())


def test_routed_wire_capacitance_replaces_the_wire_load_model(lib, tmp_path):
    path = tmp_path / "t.v"
    path.write_text(NETLIST)
    instances = read_instances(path)
    act = Activity(toggles={"a": 40, "n": 40, "b": 20, "y": 60, "z": 20},
                   duty={"a": 0.5, "n": 0.5, "b": 0.5, "y": 0.5, "z": 0.5},
                   cycles=100, vmms=4, t_clk_ns=2.0)
    port = 0.0558756
    e = netlist_energy(instances, lib, act, period_ns=2.0, inputs=["a", "b"], outputs=["y", "z"],
                       output_load=port, driving_cell=("INV_X4", "ZN"), clock_nets=set(),
                       input_slew=SLEW0, wire_cap={"n": 2.0})
    by = {i.name: i for i in e.instances}
    # n: XNOR2_X1 pin A (mean of rise 2.232754 and fall 2.125854 fF) + 2.0 fF of routed wire,
    # no wire-load model term; z: the port load alone (it has no routed wire in the map).
    c_n = (2.232754 + 2.125854) / 2 + 2.0
    assert e.load_F["n"] == pytest.approx(c_n * 1e-15)
    assert e.load_F["z"] == pytest.approx(port * 1e-15)
    assert by["u1"].switching_J == pytest.approx(40 * 0.5 * c_n * 1e-15 * 1.1 ** 2)
    # The same call without wire_cap keeps the wire-load model (5K_hvratio_1_1, fanout 1).
    e0 = netlist_energy(instances, lib, act, period_ns=2.0, inputs=["a", "b"],
                        outputs=["y", "z"], output_load=port,
                        driving_cell=("INV_X4", "ZN"), clock_nets=set(), input_slew=SLEW0)
    assert e0.load_F["n"] == pytest.approx(((2.232754 + 2.125854) / 2 + 0.1774 * 1.746) * 1e-15)


def _placed() -> PhysicalNetlist:
    insts = (Instance("u1", "INV_X1", {"A": "a", "ZN": "tdc_x_0_"}),
             Instance("u2", "XNOR2_X1", {"A": "tdc_x_0_", "B": "b", "ZN": "y"}))
    return PhysicalNetlist(top="t", instances=insts,
                           ports=(Port("a", "input", 1), Port("b", "input", 1),
                                  Port("y", "output", 1)),
                           flat_names={"tdc_x_0_": ("tdc.x[0]",), "a": ("a",), "b": ("b",),
                                       "y": ("y", "top.y")})


def test_wire_capacitance_goes_to_the_flat_name_its_driver_charges():
    flat = [Instance("u1", "INV_X1", {"A": "a", "ZN": "tdc.x[0]"}),
            Instance("u2", "XNOR2_X1", {"A": "tdc.x[0]", "B": "b", "ZN": "top.y"})]
    outputs = {"INV_X1": ["ZN"], "XNOR2_X1": ["ZN"]}
    caps = flat_wire_caps(_placed(), {"tdc_x_0_": 1e-15, "a": 2e-15, "y": 3e-15}, flat,
                          outputs, ["a", "b"])
    # y's flat names are the port (y) and the driver's (top.y): the driver's is charged.
    assert caps == {"tdc.x[0]": 1e-15, "a": 2e-15, "top.y": 3e-15}
    with pytest.raises(ValueError, match="'ghost' is not a net of the placed netlist"):
        flat_wire_caps(_placed(), {"ghost": 1e-15}, flat, outputs, ["a", "b"])


def test_placed_netlist_names_blif_and_def_nets(tmp_path):
    pn = _placed()
    assert pn.cel_names == {"INV_X1_1": "u1", "XNOR2_X1_1": "u2"}
    blif = pn.write_blif(tmp_path / "t.blif", {"INV_X1": ["ZN"], "XNOR2_X1": ["ZN"]})
    assert blif.read_text().splitlines()[1:4] == [".inputs a b", ".outputs y",
                                                   ".gate INV_X1 A=a ZN=tdc_x_0_"]
    placed = ("DESIGN t ;\nCOMPONENTS 2 ;\n- INV_X1_1 INV_X1 + PLACED ( 0 0 ) N ;\n"
              "- XNOR2_X1_1 XNOR2_X1 + PLACED ( 57 0 ) N ;\nEND COMPONENTS\nPINS 3 ;\n")
    text = with_nets(placed, pn, pn.cel_names)
    assert "- u1 INV_X1 + PLACED" in text and "- u2 XNOR2_X1" in text
    assert "- tdc_x_0_\n  ( u1 ZN ) ( u2 A ) ;" in text
    assert "- y\n  ( PIN y ) ( u2 ZN ) ;" in text
    vias = one_line_vias("VIAS 1 ;\n- V1\n+ RECT via1 ( -4 -4 ) ( 4 4 )\n+ RECT metal1 ( 0 0 ) "
                         "( 1 1 ) ;\nEND VIAS\n")
    assert vias == ("VIAS 1 ;\n- V1 + RECT via1 ( -4 -4 ) ( 4 4 ) + RECT metal1 ( 0 0 ) ( 1 1 ) ;"
                    "\nEND VIAS\n")
    assert text.rstrip().endswith("END DESIGN") and "END PINS" in text
    groups = pin_groups(pn)
    assert "restrict side B" in groups and "restrict side T" not in groups


def test_qrouter_summary():
    assert _failed_nets("...\nFinal: No failed routes!\n") == 0
    assert _failed_nets("Final: 3 failed routes!\n...Final: 2 failed routes!") == 2
    with pytest.raises(Exception, match="no final routing summary"):
        _failed_nets("Nets remaining: 12\n")


def test_net_classes_and_wire_energy():
    instances = [
        Instance("ck", "CLKBUF_X3", {"A": "clk", "Z": "ctree_net_1"}),
        Instance("rc", "DFF_X1", {"CK": "ctree_net_1", "D": "x", "Q": "read_control.code[0]"}),
        Instance("t0", "DFF_X1", {"CK": "ctree_net_1", "D": "read_control.code[0]",
                                  "Q": "tdc.codes[0]"}),
        Instance("d", "INV_X1", {"A": "tdc.codes[0]", "ZN": "x"}),
    ]
    outputs = {"CLKBUF_X3": ["Z"], "DFF_X1": ["Q", "QN"], "INV_X1": ["ZN"]}
    classes = net_classes(instances, outputs, {"ctree_net_1"})
    assert classes["ctree_net_1"] == "clock" and classes["clk"] == "clock"
    assert classes["read_control.code[0]"] == "counter_bus"
    assert classes["tdc.codes[0]"] == "data"
    caps = {"ctree_net_1": 10e-15, "read_control.code[0]": 4e-15, "tdc.codes[0]": 1e-15}
    w = wire_energy_by_class(caps, classes, {"ctree_net_1": 200, "read_control.code[0]": 10,
                                             "tdc.codes[0]": 3}, vdd_V=1.0, vmms=2)
    assert w["clock"]["energy_per_vmm_J"] == pytest.approx(200 * 0.5 * 10e-15 / 2)
    assert w["counter_bus"]["nets"] == 1
    assert w["data"]["energy_per_vmm_J"] == pytest.approx(3 * 0.5 * 1e-15 / 2)


def test_array_black_box_and_floorplan():
    box = ArrayBlackBox(rows=8, cols=4, column_pitch_um=2.0, row_pitch_um=1.0)
    assert (box.width_um, box.height_um) == (8.0, 8.0)
    plan = floorplan((0.0, 0.0, 20.0, 10.0), box)
    assert plan["array_um"] == [6.0, 10.0, 14.0, 18.0]
    assert plan["outline_um"] == [0.0, 0.0, 20.0, 18.0]
    assert plan["outline_area_mm2"] == pytest.approx(360e-6)
    with pytest.raises(ValueError, match="rows must be a positive integer, not 0"):
        ArrayBlackBox(rows=0, cols=4)
    with pytest.raises(ValueError, match="row_pitch_um must be a positive number"):
        ArrayBlackBox(rows=1, cols=4, row_pitch_um=-1.0)


WRAPPER = """
module soc (clk, din, dout);
  input clk;
  input din;
  output dout;
  wire q, go;
  DFF_X1 launch (.CK(clk), .D(din), .Q(go));
  mram_macro macro (.clk(clk), .s_axis_tvalid(go), .m_axis_tvalid(q));
  DFF_X1 capture (.CK(clk), .D(q), .Q(dout));
endmodule
"""


def test_liberty_abstract_loads_in_opensta_under_a_wrapper(tmp_path):
    from mram_macro.flow.ppa.libraries import STA_BINARY, library

    nangate = library("nangate45")
    ports = (Port("clk", "input", 1), Port("s_axis_tvalid", "input", 1),
             Port("m_axis_tvalid", "output", 1), Port("arr_cmp", "input", 4))
    timing = {"s_axis_tvalid": {"setup": 0.42, "hold": 0.03},
              "m_axis_tvalid": {"max": 0.61, "min": 0.2}}
    lib_path = write_liberty(tmp_path / "m.lib", timing, ports, nangate, name="mram_macro",
                             area_um2=1000.0)
    assert "arr_cmp" not in lib_path.read_text()     # inside the macro, not an SoC port
    (tmp_path / "soc.v").write_text(WRAPPER)
    (tmp_path / "t.tcl").write_text("\n".join([
        f"read_liberty {nangate.require()}", f"read_liberty {lib_path}",
        f"read_verilog {tmp_path / 'soc.v'}", "link_design soc",
        "create_clock -name clk -period 2 [get_ports clk]",
        "report_checks -through [get_pins macro/m_axis_tvalid] -digits 3",
        "report_checks -to [get_pins macro/s_axis_tvalid] -digits 3", ""]))
    r = subprocess.run([str(STA_BINARY), "-no_splash", "-exit", str(tmp_path / "t.tcl")],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "Error" not in out and "unknown" not in out.lower(), out
    # The macro's clock-to-output (0.61 ns) starts the path into the capture flop, and its
    # setup (0.42 ns) ends the path from the launch flop.
    assert "0.610" in out and "macro/m_axis_tvalid" in out
    assert "library setup time" in out and "-0.420" in out


PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "layout"


@pytest.mark.parametrize("path", sorted(PUBLISHED.glob("*.json")), ids=lambda p: p.stem)
def test_published_layout_figures_are_the_json_and_consistent(path):
    from mram_macro.flow.layout.__main__ import markdown

    r = json.loads(path.read_text())
    assert r["failed_nets"] == 0
    # the RTL it routed, so that the README's headline can tell a stale layout
    assert set(r["rtl_flip_flops"]) >= {"tdc", "regfile"}
    assert r["area"]["utilisation"] == pytest.approx(
        r["area"]["cell_area_um2"] / r["area"]["die_area_um2"])
    post = r["digital_post_J"]
    assert post["total"] == pytest.approx(post["clock"] + post["data"] + post["leakage"])
    assert r["tops_per_W_digital_post"] == pytest.approx(r["ops_per_vmm"] / post["total"] / 1e12)
    doc = (PUBLISHED.parent / "layout.md").read_text()
    assert markdown(r) in doc, ("docs/layout.md is stale: run "
                                "`python -m mram_macro.flow.layout.docs`")
    assert (PUBLISHED / f"{path.stem}.png").is_file()


def test_layout_doc_is_the_generators_whole():
    """docs/layout.md is rendered, not edited: its prose (the tools' notes, the attempts on the
    default macro) lives in mram_macro/flow/layout/__main__.py, so a re-publish keeps it."""
    from mram_macro.flow.layout.__main__ import render_docs

    assert (PUBLISHED.parent / "layout.md").read_text() == render_docs(), (
        "docs/layout.md differs from its generator: edit mram_macro/flow/layout/__main__.py "
        "and run `python -m mram_macro.flow.layout.docs`")


def test_lef_abstract_outline_pins_and_qrouter_reads_it(tmp_path):
    import shutil

    from mram_macro.flow.layout.abstract import write_lef
    from mram_macro.flow.layout.spef import DefDesign
    from mram_macro.flow.layout.tech import physical_library

    design = DefDesign(design="t", die_um=(0.0, 0.0, 20.0, 10.0), components=[],
                       pins={"clk": (5.0, 0.0), "s_axis_tdata[0]": (6.0, 0.0),
                             "s_axis_tdata[1]": (7.0, 0.0), "arr_cmp[0]": (9.0, 10.0)},
                       wires={})
    ports = (Port("clk", "input", 1), Port("s_axis_tdata", "input", 2),
             Port("arr_cmp", "input", 1))
    plan = floorplan(design.die_um, ArrayBlackBox(rows=4, cols=4))
    lef = write_lef(tmp_path / "m.lef", design, ports, plan, name="mram_macro", route_layers=6)
    text = lef.read_text()
    assert "SIZE 20.000 BY 14.000 ;" in text          # 10 µm periphery + 4 rows x 1 µm
    assert "PIN s_axis_tdata[1]" in text and "USE CLOCK" in text
    assert "arr_cmp" not in text                      # the array's pins stay inside
    assert "RECT 6.965 0.000 7.035 0.070 ;" in text   # s_axis_tdata[1] at x = 7 µm
    if shutil.which("qrouter") is None:
        pytest.skip("qrouter not installed (make setup)")
    phys = physical_library("nangate45")
    (tmp_path / "cfg").write_text(f"read_lef {phys.tech_lef}\nread_lef {lef}\n")
    r = subprocess.run(["qrouter", "-i", str(tmp_path / "info"), "-c", str(tmp_path / "cfg")],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0 and "error" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    assert "units scale" in (tmp_path / "info").read_text()


def test_def_scaled_for_the_extractor():
    from mram_macro.flow.layout.pnr import scale_def

    text = scale_def(DEF, 10)
    assert "UNITS DISTANCE MICRONS 1000 ;" in text
    assert "DIEAREA ( 0 -700 ) ( 10000 20000 ) ;" in text
    assert "+ ROUTED metal1 ( 1000 500 ) ( 3000 * ) via1_4" in text
    assert read_def_text(text).wire_length_um("n") == pytest.approx(4.0)   # same µm


def read_def_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.def"
        path.write_text(text)
        return read_def(path)


def test_synchroniser_stages_are_found_under_placed_names():
    from mram_macro.flow.ppa.sta import _stage

    assert _stage("tdc.cmp_sync1[3]") == 1 and _stage("tdc_cmp_sync1_3_") == 1
    assert _stage("tdc_cmp_sync0") == 0
    assert _stage("xcmp_sync1_3_") is None and _stage("tdc_cmp_sync1_3_x") is None


def test_layout_configuration_takes_sta_names_and_profiles():
    from mram_macro.design.config import profile_config
    from mram_macro.flow.layout.__main__ import configuration
    from mram_macro.flow.ppa.__main__ import STA_CONFIGS

    assert configuration("small", None, None) == STA_CONFIGS["small"]
    assert configuration("plain", None, None) == profile_config("plain")
    assert configuration("plain", 16, None).rows == 16
    assert not configuration("plain", 16, None).result_register
    with pytest.raises(ValueError, match=r"unknown configuration 'plane'.*profiles.*plain"):
        configuration("plane", None, None)


def test_die_plot_legend_folds_column_numbers():
    from mram_macro.flow.layout.plot import legend_groups

    groups = legend_groups({"a": "g_tdc12_icg", "b": "g_tdc3_icg", "c": "tdc", "d": "regfile"})
    assert groups == {"a": "g_tdc#_icg", "b": "g_tdc#_icg", "c": "tdc", "d": "regfile"}


def test_layout_cache_key_is_contents_not_paths(tmp_path):
    # A checkout elsewhere (the same LEF views at other paths) finds the same layout; another
    # row fill, router setting or view does not.
    import dataclasses
    import shutil

    from mram_macro.flow.layout.netlist import PhysicalNetlist
    from mram_macro.flow.layout.pnr import pnr_cache_key
    from mram_macro.flow.layout.tech import physical_library

    phys = physical_library("nangate45")
    try:
        views = phys.require()
    except FileNotFoundError:
        pytest.skip("NanGate 45 nm LEF views not set up")
    moved = {}
    for field, path in zip(("cell_lef", "tech_lef", "graywolf_par"), views, strict=True):
        moved[field] = tmp_path / path.name
        shutil.copyfile(path, moved[field])
    elsewhere = dataclasses.replace(phys, **moved)
    pn = PhysicalNetlist(top="t", instances=(), ports=(), flat_names={})
    key = pnr_cache_key(pn, phys, 0.3)
    assert pnr_cache_key(pn, elsewhere, 0.3) == key
    assert pnr_cache_key(pn, phys, 0.4) != key
    assert pnr_cache_key(pn, dataclasses.replace(phys, route_layers=8), 0.3) != key
    moved["tech_lef"].write_text(moved["tech_lef"].read_text() + "\n# edited\n")
    assert pnr_cache_key(pn, elsewhere, 0.3) != key
