"""Unit tests of the AXI4-Lite register file in the Amaranth simulator.

The expected behaviour comes from the register map (:mod:`mram_macro.regmap`): reset values,
``Register.check_write`` and the field kinds. The randomized test uses a fixed seed unless
``--seed N`` is given (see ``verif/conftest.py``); the seed is printed and in every message.
"""

from __future__ import annotations

import random

import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Module, Shape, unsigned
from amaranth.lib import wiring
from amaranth.sim import Simulator

from mram_macro.bus import RegisterFile, Resp, axi_lite_members, axi_stream_members
from mram_macro.config import AXIL_DATA_WIDTH, MacroConfig, profile_config
from mram_macro.regmap import AXIL_ADDR_WIDTH, MACRO_ID, Register, RegisterMap, build_regmap

DEFAULT = profile_config("full")
#: cols=40 is not a multiple of 32: WEIGHT_DATA1 holds only 8 bits.
SMALL = profile_config("full", rows=8, cols=40, tdc_bits=4, result_width=8, stream_width=8)
#: Non-power-of-two rows: the WRITE_ROW_ADDR range check is a comparator, not a bit test.
ODD = profile_config("full", rows=40, cols=33, tdc_bits=6, result_width=7, stream_width=16,
                     precharge_cycles=3, write_pulse_cycles=9)
TDC_START_DELAY = 5
DEFAULT_SEED = 1234
UNMAPPED = 0x0FC  # between the scalar registers and CAL_OFFSET, in every configuration
WORD_MASK = (1 << AXIL_DATA_WIDTH) - 1

# Some tests build a RegisterFile only to inspect its signature.
pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def regmap_of(config: MacroConfig) -> RegisterMap:
    return build_regmap(config, tdc_start_delay=TDC_START_DELAY)


def sign_extend(value: int, width: int) -> int:
    """``value``'s low ``width`` bits, sign-extended to an unsigned 32-bit word."""
    value &= (1 << width) - 1
    if value >> (width - 1):
        value -= 1 << width
    return value & WORD_MASK


def read_word(reg: Register, fields: dict[str, int]) -> int:
    """The word a read returns for the raw field values ``fields``."""
    word = 0
    for f in reg.fields:
        if f.kind == "cmd":
            continue
        value = fields[f.name] & ((1 << f.width) - 1)
        if f.signed:
            word |= (sign_extend(value, f.width) << f.lsb) & WORD_MASK
        else:
            word |= value << f.lsb
    return word


# -- AXI4-Lite master ------------------------------------------------------------------------


class AxiLiteMaster:
    """Drives the ``s_axil_*`` ports of ``dut`` from an Amaranth testbench.

    ``aw_delay``/``w_delay`` are the idle cycles before AWVALID/WVALID rise (so ``w_delay=3``
    sends AW first, ``aw_delay=3`` sends W first, both 0 sends them together);
    ``b_delay``/``r_delay`` hold BREADY/RREADY low for that many cycles after the request.
    While the master stalls, it checks that VALID and the response stay put.
    """

    def __init__(self, ctx, dut, prefix: str = "s_axil"):
        self.ctx = ctx
        self.port = {name.removeprefix(prefix + "_"): getattr(dut, name)
                     for name in axi_lite_members(prefix, addr_width=AXIL_ADDR_WIDTH)}
        self.cycles = 0  # clock edges seen by this master

    async def tick(self):
        await self.ctx.tick()
        self.cycles += 1

    async def write(self, addr: int, data: int, wstrb: int = 0xF, *, aw_delay: int = 0,
                    w_delay: int = 0, b_delay: int = 0) -> Resp:
        ctx, p = self.ctx, self.port
        ctx.set(p["awaddr"], addr)
        ctx.set(p["wdata"], data)
        ctx.set(p["wstrb"], wstrb)
        aw_done = w_done = False
        cycle = 0
        while not (aw_done and w_done):
            if not aw_done:
                ctx.set(p["awvalid"], cycle >= aw_delay)
            if not w_done:
                ctx.set(p["wvalid"], cycle >= w_delay)
            aw_fire = ctx.get(p["awvalid"]) and ctx.get(p["awready"])
            w_fire = ctx.get(p["wvalid"]) and ctx.get(p["wready"])
            await self.tick()
            if aw_fire:
                aw_done = True
                ctx.set(p["awvalid"], 0)
            if w_fire:
                w_done = True
                ctx.set(p["wvalid"], 0)
            cycle += 1
            assert cycle < 50, "AW/W handshake timed out"
        (resp,) = await self._response(p["bvalid"], p["bready"], [p["bresp"]], b_delay)
        return Resp(resp)

    async def read(self, addr: int, *, r_delay: int = 0) -> tuple[int, Resp]:
        ctx, p = self.ctx, self.port
        ctx.set(p["araddr"], addr)
        ctx.set(p["arvalid"], 1)
        for _ in range(50):
            fire = ctx.get(p["arready"])
            await self.tick()
            if fire:
                break
        else:
            raise AssertionError("AR handshake timed out")
        ctx.set(p["arvalid"], 0)
        resp, data = await self._response(p["rvalid"], p["rready"], [p["rresp"], p["rdata"]],
                                          r_delay)
        return data, Resp(resp)

    async def _response(self, valid, ready, payload, delay):
        ctx = self.ctx
        held = None
        for _ in range(delay):
            if ctx.get(valid):
                now = [ctx.get(s) for s in payload]
                assert held is None or now == held, "response changed while stalled"
                held = now
            else:
                assert held is None, "VALID dropped before READY"
            await self.tick()
        ctx.set(ready, 1)
        for _ in range(50):
            if ctx.get(valid):
                break
            await self.tick()
        else:
            raise AssertionError("response timed out")
        values = [ctx.get(s) for s in payload]
        assert held is None or values == held, "response changed while stalled"
        await self.tick()
        ctx.set(ready, 0)
        return values


def simulate(config: MacroConfig, body, *, monitors=()):
    """Run ``await body(ctx, dut, master)`` on a fresh register file; ``monitors`` are
    ``async (ctx, dut)`` functions run in the background."""
    dut = RegisterFile(regmap_of(config))
    sim = Simulator(dut)
    sim.add_clock(1e-8)

    async def main(ctx):
        await body(ctx, dut, AxiLiteMaster(ctx, dut))

    for monitor in monitors:
        async def background(ctx, monitor=monitor):
            await monitor(ctx, dut)
        sim.add_testbench(background, background=True)
    sim.add_testbench(main)
    sim.run()
    return dut


def strobe_log(port_name: str, log: list[int]):
    """A monitor appending the cycle number of every cycle in which ``port_name`` is high."""
    async def monitor(ctx, dut):
        cycle = 0
        port = getattr(dut, port_name)
        while True:
            if ctx.get(port):
                log.append(cycle)
            await ctx.tick()
            cycle += 1
    return monitor


async def expect_bus_error(ctx, dut, master, addr):
    """STATUS.BUS_ERROR is set, BUS_ERROR_ADDR holds ``addr``; then clear the flag."""
    rm = dut.regmap
    status = rm["STATUS"]
    flag = status.field("BUS_ERROR")
    assert ctx.get(dut.status_bus_error) == 1
    data, resp = await master.read(rm["BUS_ERROR_ADDR"].offset)
    assert (data, resp) == (addr, Resp.OKAY)
    data, resp = await master.read(status.offset)
    assert resp == Resp.OKAY and data & flag.mask
    assert await master.write(status.offset, flag.mask) == Resp.OKAY
    assert ctx.get(dut.status_bus_error) == 0


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


# -- randomized test against a plain-Python model --------------------------------------------


class RegisterFileModel:
    """What the register file answers, from the register map alone."""

    def __init__(self, regmap: RegisterMap):
        self.regmap = regmap
        c = regmap.config
        constants = {
            ("ID", "ID"): MACRO_ID, ("GEOMETRY", "ROWS"): c.rows, ("GEOMETRY", "COLS"): c.cols,
            ("WIDTHS", "TDC_BITS"): c.tdc_bits, ("WIDTHS", "RESULT_WIDTH"): c.result_width,
            ("WIDTHS", "STREAM_WIDTH"): c.stream_width}
        #: ``ro`` fields the register file supplies itself; other ``ro`` fields are core inputs.
        self.supplied = {*constants, ("BUS_ERROR_ADDR", "ADDR")}
        self.fields: dict[tuple[str, str], int] = {}
        for reg in regmap.registers:
            for f in reg.fields:
                self.fields[(reg.name, f.name)] = f.reset if f.kind == "rw" else 0
        self.fields.update(constants)
        self.strobes = 0

    def _reject(self, addr: int) -> None:
        self.fields[("STATUS", "BUS_ERROR")] = 1
        self.fields[("BUS_ERROR_ADDR", "ADDR")] = addr

    def read(self, addr: int) -> tuple[int, Resp]:
        reg = self.regmap.by_offset(addr & ~3)
        if reg is None:
            self._reject(addr)
            return 0, Resp.DECERR
        return read_word(reg, {f.name: self.fields[(reg.name, f.name)] for f in reg.fields}), \
            Resp.OKAY

    def write(self, addr: int, word: int, wstrb: int, busy: bool) -> Resp:
        reg = self.regmap.by_offset(addr & ~3)
        if reg is None:
            self._reject(addr)
            return Resp.DECERR
        cmd_busy = busy and any(f.kind == "cmd" and word & f.mask for f in reg.fields)
        if wstrb != 0xF or reg.check_write(word) is not None or cmd_busy:
            self._reject(addr)
            return Resp.SLVERR
        for f in reg.fields:
            bits = (word & f.mask) >> f.lsb
            if f.kind == "rw":
                negative = f.signed and bits >> (f.width - 1)
                self.fields[(reg.name, f.name)] = bits - (1 << f.width) if negative else bits
            elif f.kind == "w1c":
                self.fields[(reg.name, f.name)] &= ~bits
            elif f.kind == "cmd" and bits:
                self.strobes += 1
        return Resp.OKAY


def random_word(rng: random.Random, reg: Register) -> int:
    """A mix of valid values, boundary values and garbage for ``reg``."""
    choice = rng.random()
    if choice < 0.2:
        return rng.getrandbits(32)
    f = rng.choice(reg.fields)
    if f.signed:
        lo, hi = -(1 << (f.width - 1)), (1 << (f.width - 1)) - 1
        value = rng.choice([lo, hi, lo - 1, hi + 1, 0, -1, rng.randint(lo, hi)])
        return value & WORD_MASK
    lo = f.min_value
    hi = f.max_value if f.max_value is not None else (1 << f.width) - 1
    value = rng.choice([lo, hi, lo - 1, hi + 1, rng.randint(lo, hi), rng.randint(lo, hi)])
    return (value & ((1 << f.width) - 1)) << f.lsb if choice < 0.9 else \
        (value << f.lsb) & WORD_MASK


@pytest.mark.parametrize("config", [DEFAULT, SMALL, ODD], ids=["default", "small", "odd"])
def test_random_accesses_match_model(config, request):
    seed = request.config.getoption("seed", default=None)
    seed = DEFAULT_SEED if seed is None else seed
    print(f"regfile random test: seed {seed} (replay with --seed {seed})")
    rng = random.Random(seed)
    strobes: list[int] = []
    rm = regmap_of(config)
    model = RegisterFileModel(rm)
    core_inputs = [(reg, f) for reg in rm.registers for f in reg.fields
                   if f.kind == "ro" and (reg.name, f.name) not in model.supplied]
    # Holes of the map: the two ends, the word after each array, and the first free words.
    free = [a for a in range(0, 1 << 12, 4) if rm.by_offset(a) is None]
    unmapped = sorted({UNMAPPED, 0xFFC, *free[:4],
                       rm["WEIGHT_DATA0"].offset + 4 * config.weight_words,
                       rm["CAL_OFFSET0"].offset + 4 * config.cols} - {
                           r.offset for r in rm.registers})
    assert all(rm.by_offset(a) is None for a in unmapped)
    scalars = [r.offset for r in rm.registers if r.array_name is None]
    arrays = [r.offset for r in rm.registers if r.array_name is not None]
    ctrl = rm["CTRL"].offset
    seen: set[tuple[str, Resp]] = set()
    w1c_sets = [(reg, f) for reg in rm.registers for f in reg.fields
                if f.kind == "w1c" and f.name != "BUS_ERROR"]

    async def body(ctx, dut, master):
        for op in range(500):
            where = f"op {op}, --seed {seed}"
            if rng.random() < 0.2:
                for reg, f in core_inputs:
                    value = rng.getrandbits(f.width)
                    ctx.set(dut.port(reg.name, f.name), value)
                    model.fields[(reg.name, f.name)] = value
            if rng.random() < 0.15:
                reg, f = rng.choice(w1c_sets)
                ctx.set(dut.port(reg.name, f.name, suffix="_set"), 1)
                await master.tick()
                ctx.set(dut.port(reg.name, f.name, suffix="_set"), 0)
                model.fields[(reg.name, f.name)] = 1
            # scalar registers as often as array elements, CTRL often, a few unmapped addresses
            pool = rng.choices([unmapped, [ctrl], scalars, arrays], weights=[1, 2, 6, 6])[0]
            addr = rng.choice(pool) | rng.getrandbits(2)
            reg = rm.by_offset(addr & ~3)
            delays = dict(aw_delay=rng.choice([0, 0, 1, 3]), w_delay=rng.choice([0, 0, 1, 3]),
                          b_delay=rng.choice([0, 0, 2]))
            if rng.random() < 0.5:
                word = random_word(rng, reg) if reg is not None else rng.getrandbits(32)
                if reg is not None and reg.name == "STATUS":
                    word = rng.getrandbits(32)
                wstrb = 0xF if rng.random() < 0.9 else rng.getrandbits(4)
                busy = rng.random() < 0.3
                ctx.set(dut.ctrl_write_row_busy, busy)
                resp = await master.write(addr, word, wstrb, **delays)
                expected = model.write(addr, word, wstrb, busy)
                assert resp == expected, f"write 0x{word:08X} to 0x{addr:03X}: {where}"
                seen.add(("write", resp))
            else:
                got = await master.read(addr, r_delay=rng.choice([0, 0, 2]))
                assert got == model.read(addr), f"read 0x{addr:03X}: {where}"
                seen.add(("read", got[1]))
            assert ctx.get(dut.status_bus_error) == model.fields[("STATUS", "BUS_ERROR")], where
        for reg in rm.registers:
            for f in reg.fields:
                if f.kind in ("rw", "w1c"):
                    assert ctx.get(dut.port(reg.name, f.name)) == \
                        model.fields[(reg.name, f.name)], f"{reg.name}.{f.name}"
            assert await master.read(reg.offset) == model.read(reg.offset), reg.name
        await master.tick()
        assert len(strobes) == model.strobes

    simulate(config, body, monitors=[strobe_log("ctrl_write_row", strobes)])
    # the seed exercised every kind of answer and the command path
    assert seen == {("write", Resp.OKAY), ("write", Resp.SLVERR), ("write", Resp.DECERR),
                    ("read", Resp.OKAY), ("read", Resp.DECERR)}
    assert model.strobes >= 2
