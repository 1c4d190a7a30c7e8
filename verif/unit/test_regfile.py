"""Unit tests of the AXI4-Lite register file in the Amaranth simulator: port naming and
directed tests (reset values, read-back, rejected writes, W1C flags, command strobes, channel
orders and back-pressure, outstanding responses, reset).

The expected behaviour comes from the register map (:mod:`mram_macro.design.regmap`): reset values,
``Register.check_write`` and the field kinds. The bench (master, configurations) is
:mod:`verif.unit.regfile_bench`; the randomized test against a model is
``test_regfile_random.py``.
"""

from __future__ import annotations

import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Module, Shape, unsigned
from amaranth.lib import wiring
from amaranth.sim import Simulator

from mram_macro.design.regmap import MACRO_ID, Register, RegisterMap, build_regmap
from mram_macro.rtl.bus import RegisterFile, Resp, axi_lite_members, axi_stream_members
from verif.unit.regfile_bench import (
    DEFAULT,
    ODD,
    SMALL,
    TDC_START_DELAY,
    UNMAPPED,
    WORD_MASK,
    AxiLiteMaster,
    expect_bus_error,
    regmap_of,
    sign_extend,
    simulate,
    strobe_log,
)

# Some tests build a RegisterFile only to inspect its signature.
pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")

# -- port naming -----------------------------------------------------------------------------


def test_axi_lite_member_names_and_directions():
    members = axi_lite_members("s_axil", addr_width=12)
    assert members["s_axil_awaddr"].flow == wiring.In and members["s_axil_awaddr"].shape == 12
    assert members["s_axil_rdata"].flow == wiring.Out and members["s_axil_rdata"].shape == 32
    assert members["s_axil_wstrb"].shape == 4
    assert members["s_axil_bresp"].flow == wiring.Out and members["s_axil_bresp"].shape == 2
    names = {n.removeprefix("s_axil_") for n in members}
    assert names == {"awaddr", "awprot", "awvalid", "awready", "wdata", "wstrb", "wvalid",
                     "wready", "bresp", "bvalid", "bready", "araddr", "arprot", "arvalid",
                     "arready", "rdata", "rresp", "rvalid", "rready"}
    outs = {n for n, m in members.items() if m.flow == wiring.Out}
    assert outs == {f"s_axil_{n}" for n in ("awready", "wready", "bresp", "bvalid", "arready",
                                           "rdata", "rresp", "rvalid")}


def test_axi_stream_member_directions():
    slave = axi_stream_members("s_axis", direction="slave", data_width=16, user_width=3)
    master = axi_stream_members("m_axis", direction="master", data_width=16)
    assert {n: m.flow for n, m in slave.items()} == {
        "s_axis_tdata": wiring.In, "s_axis_tvalid": wiring.In, "s_axis_tready": wiring.Out,
        "s_axis_tlast": wiring.In, "s_axis_tuser": wiring.In}
    assert slave["s_axis_tuser"].shape == 3 and slave["s_axis_tdata"].shape == 16
    assert {n: m.flow for n, m in master.items()} == {
        "m_axis_tdata": wiring.Out, "m_axis_tvalid": wiring.Out, "m_axis_tready": wiring.In,
        "m_axis_tlast": wiring.Out}


def test_axi_parameter_validation():
    with pytest.raises(TypeError, match=r"addr_width must be a positive integer, not 0"):
        axi_lite_members(addr_width=0)
    with pytest.raises(ValueError, match=r"data_width of AXI4-Lite must be 32 or 64, not 16"):
        axi_lite_members(addr_width=12, data_width=16)
    with pytest.raises(TypeError, match=r"prefix must be a string usable as an identifier"):
        axi_lite_members("s-axil", addr_width=12)
    with pytest.raises(ValueError, match=r"direction must be 'slave' or 'master', not 'in'"):
        axi_stream_members("s_axis", direction="in", data_width=8)
    with pytest.raises(TypeError, match=r"user_width must be a non-negative integer, not -1"):
        axi_stream_members("s_axis", direction="slave", data_width=8, user_width=-1)
    assert [r.value for r in Resp] == [0, 1, 2, 3]
    assert Resp.SLVERR.value == 2 and Resp.DECERR.value == 3


def test_core_ports_follow_the_register_map():
    rm = regmap_of(DEFAULT)
    dut = RegisterFile(rm)
    members = dut.signature.members
    assert members["precharge_cycles_cycles"].flow == wiring.Out
    assert members["precharge_cycles_cycles"].init == DEFAULT.precharge_cycles
    assert members["cal_offset5_offset"].shape.signed
    assert members["cal_offset5_offset"].init == DEFAULT.rows
    assert Shape.cast(members["weight_data1_bits"].shape) == unsigned(32)
    assert members["status_vmm_busy"].flow == wiring.In
    assert members["vmm_count_count"].flow == wiring.In
    assert members["status_tdc_overflow_set"].flow == wiring.In
    assert members["status_tdc_overflow"].flow == wiring.Out
    assert members["status_bus_error"].flow == wiring.Out
    assert members["ctrl_write_row"].flow == wiring.Out
    assert members["ctrl_write_row_busy"].flow == wiring.In
    for internal in ("id_id", "geometry_rows", "widths_tdc_bits", "bus_error_addr_addr",
                     "status_bus_error_set"):
        assert internal not in members
    offsets = dut.array_fields("CAL_OFFSET", "OFFSET")
    assert offsets == [getattr(dut, f"cal_offset{i}_offset") for i in range(DEFAULT.cols)]
    small = RegisterFile(regmap_of(SMALL))
    assert [len(s) for s in small.array_fields("WEIGHT_DATA", "BITS")] == [32, 8]
    assert dut.port("CTRL", "WRITE_ROW", suffix="_busy") is dut.ctrl_write_row_busy


def test_typed_views_resolve_to_the_named_ports():
    """``regs.fields`` / ``sets`` / ``busy`` give, by attribute, the same Signals as
    :meth:`RegisterFile.port` (arrays: a list in index order), for every field of the map."""
    rm = regmap_of(DEFAULT)
    dut = RegisterFile(rm)
    assert dut.fields.TDC_START_DELAY.CYCLES is dut.port("TDC_START_DELAY", "CYCLES")
    assert dut.fields.TDC_START_DELAY.CYCLES is dut.tdc_start_delay_cycles
    assert dut.sets.STATUS.TDC_OVERFLOW is dut.status_tdc_overflow_set
    assert dut.busy.CTRL.WRITE_ROW is dut.ctrl_write_row_busy
    offsets = dut.fields.CAL_OFFSET.OFFSET
    assert len(offsets) == DEFAULT.cols and all(
        a is b for a, b in zip(offsets, dut.array_fields("CAL_OFFSET", "OFFSET"), strict=True))
    assert len(dut.fields.CAL_OFFSET) == DEFAULT.cols
    assert dut.fields.CAL_OFFSET[3].OFFSET is dut.cal_offset3_offset
    assert dut.fields.CAL_OFFSET3.OFFSET is dut.cal_offset3_offset
    for reg in rm.registers:
        for f in reg.fields:
            for view, suffix in ((dut.fields, ""), (dut.sets, "_set"), (dut.busy, "_busy")):
                try:
                    want = dut.port(reg.name, f.name, suffix=suffix)
                except KeyError:
                    with pytest.raises(AttributeError, match="has no core-side port"):
                        getattr(getattr(view, reg.name), f.name)
                else:
                    assert getattr(getattr(view, reg.name), f.name) is want
    assert "TDC_START_DELAY" in dir(dut.fields) and "CAL_OFFSET" in dir(dut.fields)
    assert set(dir(dut.fields.STATUS)) == {f.name for f in rm["STATUS"].fields}


def test_typed_views_name_what_the_map_has():
    dut = RegisterFile(regmap_of(SMALL))
    with pytest.raises(AttributeError,
                       match=r"no register or array 'TDC_START_DELAI'; it has .*TDC_START_DELAY"):
        _ = dut.fields.TDC_START_DELAI.CYCLES
    with pytest.raises(AttributeError,
                       match=r"register TDC_START_DELAY has no field 'CYCLE'; its fields: CYCLES"):
        _ = dut.fields.TDC_START_DELAY.CYCLE
    with pytest.raises(AttributeError, match=r"CAL_OFFSET0 has no field 'OFSET'"):
        _ = dut.fields.CAL_OFFSET.OFSET
    with pytest.raises(AttributeError, match=r"STATUS.VMM_BUSY \(a ro field\) has no core-side "
                                             r"port '_set'"):
        _ = dut.sets.STATUS.VMM_BUSY
    with pytest.raises(AttributeError, match=r"ID.ID \(a ro field\) has no core-side port$"):
        _ = dut.fields.ID.ID


def test_constructor_and_lookup_errors():
    with pytest.raises(TypeError, match=r"regmap must be a RegisterMap, not 'x'"):
        RegisterFile("x")
    rm = regmap_of(SMALL)
    dut = RegisterFile(rm)
    with pytest.raises(KeyError, match=r"no array named 'NOPE'"):
        dut.array_fields("NOPE", "X")
    with pytest.raises(KeyError, match=r"has no core-side port 'id_id'"):
        dut.port("ID", "ID")
    clash = RegisterMap(config=SMALL, registers=(*rm.registers, Register(
        "EXTRA", rm["ID"].offset, "clash", rm["ID"].fields)))
    with pytest.raises(ValueError, match=r"EXTRA and ID share offset 0x000"):
        RegisterFile(clash)
    no_status = RegisterMap(config=SMALL, registers=tuple(
        r for r in rm.registers if r.name != "STATUS"))
    with pytest.raises(ValueError, match=r"no STATUS.BUS_ERROR field"):
        RegisterFile(no_status)
    with pytest.raises(ValueError, match=r"tdc_start_delay must be an integer between 0 and"):
        build_regmap(SMALL, tdc_start_delay=1 << 16)


@pytest.mark.parametrize("config", [DEFAULT, SMALL], ids=["default", "small"])
def test_converts_to_verilog_with_flat_axi_names(config):
    text = verilog.convert(RegisterFile(regmap_of(config)), name="regfile", emit_src=False)
    for name in ("s_axil_awaddr", "s_axil_rdata", "cal_offset0_offset", "ctrl_write_row_busy"):
        assert f" {name}" in text
    assert "s_axil__" not in text


# -- directed simulation tests ---------------------------------------------------------------


@pytest.mark.parametrize("config", [DEFAULT, SMALL], ids=["default", "small"])
def test_identification_registers(config):
    async def body(ctx, dut, master):
        rm = dut.regmap
        expected = {
            "ID": MACRO_ID,
            "GEOMETRY": config.rows | config.cols << 16,
            "WIDTHS": config.tdc_bits | config.result_width << 8 | config.stream_width << 16,
        }
        for name, value in expected.items():
            assert await master.read(rm[name].offset) == (value, Resp.OKAY), name
    simulate(config, body)


@pytest.mark.parametrize("config", [DEFAULT, SMALL], ids=["default", "small"])
def test_reset_values_of_rw_registers(config):
    async def body(ctx, dut, master):
        rm = dut.regmap
        for reg in rm.registers:
            rw = [f for f in reg.fields if f.kind == "rw"]
            if not rw:
                continue
            expected = reg.reset
            for f in rw:
                if f.signed:
                    expected = sign_extend(reg.reset >> f.lsb, f.width) << f.lsb & WORD_MASK
                assert ctx.get(dut.port(reg.name, f.name)) == f.reset
            assert await master.read(reg.offset) == (expected, Resp.OKAY), reg.name
        assert (await master.read(rm["TDC_START_DELAY"].offset))[0] == TDC_START_DELAY
    simulate(config, body)


def test_rw_write_and_read_back():
    async def body(ctx, dut, master):
        rm = dut.regmap
        writes = {"PRECHARGE_CYCLES": 200, "TDC_START_DELAY": 0xBEEF, "WRITE_PULSE_CYCLES": 1,
                  "WRITE_ROW_ADDR": SMALL.rows - 1, "WEIGHT_DATA0": 0xDEADBEEF,
                  "WEIGHT_DATA1": 0xA5, "CAL_OFFSET3": 0x7F, "CAL_OFFSET39": -128 & WORD_MASK,
                  "CAL_OFFSET0": -1 & WORD_MASK}
        for name, word in writes.items():
            assert await master.write(rm[name].offset, word) == Resp.OKAY, name
        for name, word in writes.items():
            assert await master.read(rm[name].offset) == (word, Resp.OKAY), name
        assert ctx.get(dut.precharge_cycles_cycles) == 200
        assert ctx.get(dut.weight_data1_bits) == 0xA5
        offsets = [ctx.get(s) for s in dut.array_fields("CAL_OFFSET", "OFFSET")]
        assert offsets[0] == -1 and offsets[39] == -128 and offsets[3] == 127
        assert offsets[1] == SMALL.rows
        # addr[1:0] are ignored
        assert await master.write(rm["CAL_OFFSET1"].offset + 3, -5 & WORD_MASK) == Resp.OKAY
        assert await master.read(rm["CAL_OFFSET1"].offset + 2) == (-5 & WORD_MASK, Resp.OKAY)
        assert ctx.get(dut.status_bus_error) == 0
    simulate(SMALL, body)


@pytest.mark.parametrize("name, word", [
    ("PRECHARGE_CYCLES", 0),
    ("PRECHARGE_CYCLES", 256),
    ("WRITE_PULSE_CYCLES", 0),
    ("WRITE_ROW_ADDR", DEFAULT.rows),
    ("WRITE_ROW_ADDR", 0x0001_0000),
    ("CAL_OFFSET7", 1 << (DEFAULT.result_width - 1)),
    ("CAL_OFFSET63", -(1 << (DEFAULT.result_width - 1)) - 1 & WORD_MASK),
    ("CAL_OFFSET0", 0x8000_0000),
])
def test_out_of_range_write_is_rejected(name, word):
    async def body(ctx, dut, master):
        rm = dut.regmap
        reg = rm[name]
        assert reg.check_write(word) is not None
        before = await master.read(reg.offset)
        port = dut.port(reg.name, reg.fields[0].name)
        port_before = ctx.get(port)
        assert await master.write(reg.offset, word) == Resp.SLVERR
        assert await master.read(reg.offset) == before
        assert ctx.get(port) == port_before
        await expect_bus_error(ctx, dut, master, reg.offset)
    simulate(DEFAULT, body)


def test_small_config_weight_word_rejects_bits_beyond_cols():
    async def body(ctx, dut, master):
        offset = dut.regmap["WEIGHT_DATA1"].offset
        assert await master.write(offset, 0x1FF) == Resp.SLVERR
        await expect_bus_error(ctx, dut, master, offset)
        assert await master.write(offset, 0xFF) == Resp.OKAY
        assert await master.read(offset) == (0xFF, Resp.OKAY)
        assert await master.write(offset, 0x100) == Resp.SLVERR
        assert ctx.get(dut.weight_data1_bits) == 0xFF
    simulate(SMALL, body)


def test_row_address_range_of_odd_config():
    async def body(ctx, dut, master):
        offset = dut.regmap["WRITE_ROW_ADDR"].offset
        assert await master.write(offset, ODD.rows - 1) == Resp.OKAY
        assert await master.write(offset, ODD.rows) == Resp.SLVERR
        assert await master.write(offset, 63) == Resp.SLVERR
        assert ctx.get(dut.write_row_addr_row) == ODD.rows - 1
        assert await master.write(offset, ODD.rows - 2) == Resp.OKAY
        assert await master.read(offset) == (ODD.rows - 2, Resp.OKAY)
    simulate(ODD, body)


def test_read_only_write_is_rejected():
    async def body(ctx, dut, master):
        rm = dut.regmap
        ctx.set(dut.vmm_count_count, 77)
        for name in ("ID", "GEOMETRY", "VMM_COUNT", "BUS_ERROR_ADDR"):
            reg = rm[name]
            before = await master.read(reg.offset)
            assert await master.write(reg.offset, 0x5) == Resp.SLVERR, name
            after = await master.read(reg.offset)
            if name != "BUS_ERROR_ADDR":
                assert after == before, name
            await expect_bus_error(ctx, dut, master, reg.offset)
        assert (await master.read(rm["VMM_COUNT"].offset))[0] == 77
    simulate(SMALL, body)


def test_unmapped_access_is_decerr():
    async def body(ctx, dut, master):
        assert await master.read(UNMAPPED + 1) == (0, Resp.DECERR)
        await expect_bus_error(ctx, dut, master, UNMAPPED + 1)
        assert await master.write(0xFFC, 0) == Resp.DECERR
        await expect_bus_error(ctx, dut, master, 0xFFC)
        # a partial write to an unmapped address still decodes first
        assert await master.write(UNMAPPED, 0, wstrb=0b0011) == Resp.DECERR
    simulate(SMALL, body)


@pytest.mark.parametrize("wstrb", [0b0000, 0b0001, 0b0111, 0b1110])
def test_partial_write_is_rejected(wstrb):
    async def body(ctx, dut, master):
        reg = dut.regmap["TDC_START_DELAY"]
        assert await master.write(reg.offset, 0x1234, wstrb=wstrb) == Resp.SLVERR
        assert await master.read(reg.offset) == (TDC_START_DELAY, Resp.OKAY)
        await expect_bus_error(ctx, dut, master, reg.offset)
    simulate(SMALL, body)


def test_w1c_flags():
    async def body(ctx, dut, master):
        status = dut.regmap["STATUS"]
        ovf, length = status.field("TDC_OVERFLOW"), status.field("LENGTH_ERROR")
        assert await master.read(status.offset) == (0, Resp.OKAY)
        # ro bits come from the core
        ctx.set(dut.status_vmm_busy, 1)
        ctx.set(dut.status_result_pending, 1)
        assert (await master.read(status.offset))[0] == 0b101
        ctx.set(dut.status_vmm_busy, 0)
        ctx.set(dut.status_result_pending, 0)
        # a one-cycle pulse sets the flag, and it sticks
        ctx.set(dut.status_tdc_overflow_set, 1)
        await ctx.tick()
        ctx.set(dut.status_tdc_overflow_set, 0)
        await ctx.tick()
        assert ctx.get(dut.status_tdc_overflow) == 1
        assert await master.read(status.offset) == (ovf.mask, Resp.OKAY)
        ctx.set(dut.status_length_error_set, 1)
        await ctx.tick()
        ctx.set(dut.status_length_error_set, 0)
        # writing 0 and writing ro bits changes nothing; writing 1 clears only that flag
        assert await master.write(status.offset, 0b111) == Resp.OKAY
        assert (await master.read(status.offset))[0] == ovf.mask | length.mask
        assert await master.write(status.offset, length.mask) == Resp.OKAY
        assert (await master.read(status.offset))[0] == ovf.mask
        assert ctx.get(dut.status_length_error) == 0
        assert await master.write(status.offset, ovf.mask) == Resp.OKAY
        assert ctx.get(dut.status_tdc_overflow) == 0
        assert ctx.get(dut.status_bus_error) == 0
    simulate(SMALL, body)


def test_w1c_set_priority_in_the_clearing_cycle():
    """Pulse ``_set`` exactly in the cycle the clearing write takes effect."""
    async def body(ctx, dut, master):
        status = dut.regmap["STATUS"]
        ovf = status.field("TDC_OVERFLOW")
        ctx.set(dut.status_tdc_overflow_set, 1)
        await ctx.tick()
        ctx.set(dut.status_tdc_overflow_set, 0)
        p = master.port
        # AW and W together; the write is decided in the cycle after the handshake
        ctx.set(p["awaddr"], status.offset)
        ctx.set(p["wdata"], ovf.mask)
        ctx.set(p["wstrb"], 0xF)
        ctx.set(p["awvalid"], 1)
        ctx.set(p["wvalid"], 1)
        await ctx.tick()
        ctx.set(p["awvalid"], 0)
        ctx.set(p["wvalid"], 0)
        ctx.set(dut.status_tdc_overflow_set, 1)  # same cycle as the commit
        await ctx.tick()
        ctx.set(dut.status_tdc_overflow_set, 0)
        assert ctx.get(p["bvalid"]) == 1 and ctx.get(p["bresp"]) == Resp.OKAY.value
        assert ctx.get(dut.status_tdc_overflow) == 1
        ctx.set(p["bready"], 1)
        await ctx.tick()
        ctx.set(p["bready"], 0)
        # without a simultaneous set, the same write clears it
        assert await master.write(status.offset, ovf.mask) == Resp.OKAY
        assert ctx.get(dut.status_tdc_overflow) == 0
    simulate(SMALL, body)


def test_cmd_strobe_is_one_cycle_and_busy_rejects():
    strobes: list[int] = []

    async def body(ctx, dut, master):
        ctrl = dut.regmap["CTRL"]
        assert await master.write(ctrl.offset, 1) == Resp.OKAY
        for _ in range(3):
            await master.tick()
        assert len(strobes) == 1
        assert await master.read(ctrl.offset) == (0, Resp.OKAY)  # cmd fields read 0
        # writing 0 issues nothing
        assert await master.write(ctrl.offset, 0) == Resp.OKAY
        await master.tick()
        assert len(strobes) == 1
        # busy: SLVERR and no strobe
        ctx.set(dut.ctrl_write_row_busy, 1)
        assert await master.write(ctrl.offset, 1) == Resp.SLVERR
        for _ in range(3):
            await master.tick()
        assert len(strobes) == 1
        await expect_bus_error(ctx, dut, master, ctrl.offset)
        # writing 0 while busy is harmless
        assert await master.write(ctrl.offset, 0) == Resp.OKAY
        ctx.set(dut.ctrl_write_row_busy, 0)
        assert await master.write(ctrl.offset, 1, b_delay=3) == Resp.OKAY
        await master.tick()
        assert len(strobes) == 2

    simulate(SMALL, body, monitors=[strobe_log("ctrl_write_row", strobes)])
    assert strobes[1] - strobes[0] > 1  # two separate single-cycle pulses


@pytest.mark.parametrize("aw_delay, w_delay", [(0, 0), (0, 3), (3, 0), (1, 0), (0, 1)],
                         ids=["together", "aw_first", "w_first", "w_1_early", "aw_1_early"])
@pytest.mark.parametrize("stall", [0, 4], ids=["ready", "stalled"])
def test_channel_orders_and_back_pressure(aw_delay, w_delay, stall):
    async def body(ctx, dut, master):
        rm = dut.regmap
        reg = rm["TDC_START_DELAY"]
        for value in (0x1111, 0x2222):
            resp = await master.write(reg.offset, value, aw_delay=aw_delay, w_delay=w_delay,
                                      b_delay=stall)
            assert resp == Resp.OKAY
            assert await master.read(reg.offset, r_delay=stall) == (value, Resp.OKAY)
        resp = await master.write(rm["PRECHARGE_CYCLES"].offset, 0, aw_delay=aw_delay,
                                  w_delay=w_delay, b_delay=stall)
        assert resp == Resp.SLVERR
        assert await master.read(UNMAPPED, r_delay=stall) == (0, Resp.DECERR)
    simulate(SMALL, body)


def test_no_second_write_accepted_while_response_pending():
    async def body(ctx, dut, master):
        p = master.port
        offset = dut.regmap["TDC_START_DELAY"].offset
        ctx.set(p["awaddr"], offset)
        ctx.set(p["wdata"], 7)
        ctx.set(p["wstrb"], 0xF)
        ctx.set(p["awvalid"], 1)
        ctx.set(p["wvalid"], 1)
        await ctx.tick()
        ctx.set(p["wdata"], 9)  # keep both valid: a second write offered right away
        for _ in range(4):
            await ctx.tick()
            assert ctx.get(p["bvalid"]) == 1
            assert ctx.get(p["awready"]) == 0 and ctx.get(p["wready"]) == 0
        assert ctx.get(dut.tdc_start_delay_cycles) == 7
        ctx.set(p["bready"], 1)
        await ctx.tick()  # first response taken
        ctx.set(p["bready"], 0)
        assert ctx.get(p["awready"]) == 1 and ctx.get(p["wready"]) == 1
        await ctx.tick()  # second write accepted
        ctx.set(p["awvalid"], 0)
        ctx.set(p["wvalid"], 0)
        await ctx.tick()
        assert ctx.get(p["bvalid"]) == 1
        assert ctx.get(dut.tdc_start_delay_cycles) == 9
    simulate(SMALL, body)


def test_no_second_read_accepted_while_response_pending():
    async def body(ctx, dut, master):
        rm = dut.regmap
        p = master.port
        ctx.set(p["araddr"], rm["ID"].offset)
        ctx.set(p["arvalid"], 1)
        await ctx.tick()
        ctx.set(p["araddr"], rm["GEOMETRY"].offset)  # a second read offered right away
        for _ in range(4):
            await ctx.tick()
            assert ctx.get(p["rvalid"]) == 1 and ctx.get(p["arready"]) == 0
            assert ctx.get(p["rdata"]) == MACRO_ID
        ctx.set(p["rready"], 1)
        await ctx.tick()  # first response taken
        ctx.set(p["rready"], 0)
        assert ctx.get(p["arready"]) == 1
        await ctx.tick()  # second read accepted
        ctx.set(p["arvalid"], 0)
        assert ctx.get(p["rvalid"]) == 1
        assert ctx.get(p["rdata"]) == SMALL.rows | SMALL.cols << 16
    simulate(SMALL, body)


def test_reads_and_writes_proceed_concurrently():
    """A read issued while a write waits for BREADY completes, and vice versa."""
    async def body(ctx, dut, master):
        rm = dut.regmap
        p = master.port
        # start a write and leave its response pending
        ctx.set(p["awaddr"], rm["WRITE_ROW_ADDR"].offset)
        ctx.set(p["wdata"], 3)
        ctx.set(p["wstrb"], 0xF)
        ctx.set(p["awvalid"], 1)
        ctx.set(p["wvalid"], 1)
        await ctx.tick()
        ctx.set(p["awvalid"], 0)
        ctx.set(p["wvalid"], 0)
        await ctx.tick()
        assert ctx.get(p["bvalid"]) == 1
        start = master.cycles
        assert await master.read(rm["WRITE_ROW_ADDR"].offset) == (3, Resp.OKAY)
        assert await master.read(rm["ID"].offset) == (MACRO_ID, Resp.OKAY)
        assert master.cycles - start <= 6
        assert ctx.get(p["bvalid"]) == 1
        # now a pending read response while a write completes
        ctx.set(p["araddr"], rm["WRITE_ROW_ADDR"].offset)
        ctx.set(p["arvalid"], 1)
        await ctx.tick()
        ctx.set(p["arvalid"], 0)
        ctx.set(p["bready"], 1)
        await ctx.tick()
        ctx.set(p["bready"], 0)
        assert await master.write(rm["WRITE_ROW_ADDR"].offset, 5) == Resp.OKAY
        assert ctx.get(p["rvalid"]) == 1 and ctx.get(p["rdata"]) == 3
        ctx.set(p["rready"], 1)
        await ctx.tick()
        ctx.set(p["rready"], 0)
        assert await master.read(rm["WRITE_ROW_ADDR"].offset) == (5, Resp.OKAY)
    simulate(SMALL, body)


def test_synchronous_reset_restores_reset_values():
    rm = regmap_of(SMALL)
    dut = RegisterFile(rm)
    top = Module()
    top.domains.sync = sync = ClockDomain("sync")
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-8)

    async def body(ctx):
        master = AxiLiteMaster(ctx, dut)
        assert await master.write(rm["PRECHARGE_CYCLES"].offset, 9) == Resp.OKAY
        assert await master.write(rm["CAL_OFFSET2"].offset, -7 & WORD_MASK) == Resp.OKAY
        assert await master.read(UNMAPPED) == (0, Resp.DECERR)
        ctx.set(dut.status_length_error_set, 1)
        await ctx.tick()
        ctx.set(dut.status_length_error_set, 0)
        assert ctx.get(dut.status_bus_error) == 1 and ctx.get(dut.status_length_error) == 1
        ctx.set(sync.rst, 1)
        assert ctx.get(dut.precharge_cycles_cycles) == 9  # synchronous: nothing before the edge
        await ctx.tick()
        ctx.set(sync.rst, 0)
        for reg in rm.registers:
            for f in reg.fields:
                if f.kind in ("rw", "w1c"):
                    assert ctx.get(dut.port(reg.name, f.name)) == f.reset, reg.name
        assert await master.read(rm["BUS_ERROR_ADDR"].offset) == (0, Resp.OKAY)

    sim.add_testbench(body)
    sim.run()
