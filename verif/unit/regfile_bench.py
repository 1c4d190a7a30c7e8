"""The bench of the register file's unit tests: configurations, an AXI4-Lite master driving
the ``s_axil_*`` ports from an Amaranth testbench, and the expected read words.

The expected behaviour comes from the register map (:mod:`mram_macro.design.regmap`): reset values,
``Register.check_write`` and the field kinds. Used by ``test_regfile.py`` (port naming and
directed tests) and ``test_regfile_random.py`` (random accesses against a plain-Python model).
"""

from __future__ import annotations

from amaranth.sim import Simulator

from mram_macro.design.config import AXIL_DATA_WIDTH, MacroConfig, profile_config
from mram_macro.design.regmap import AXIL_ADDR_WIDTH, Register, RegisterMap, build_regmap
from mram_macro.rtl.bus import RegisterFile, Resp, axi_lite_members

DEFAULT = profile_config("full")
#: cols=40 is not a multiple of 32: WEIGHT_DATA1 holds only 8 bits.
SMALL = profile_config("full", rows=8, cols=40, tdc_bits=4, result_width=8, stream_width=8)
#: Non-power-of-two rows: the WRITE_ROW_ADDR range check is a comparator, not a bit test.
ODD = profile_config("full", rows=40, cols=33, tdc_bits=6, result_width=7, stream_width=16,
                     precharge_cycles=3, write_pulse_cycles=9)
TDC_START_DELAY = 5
UNMAPPED = 0x0FC  # between the scalar registers and CAL_OFFSET, in every configuration
WORD_MASK = (1 << AXIL_DATA_WIDTH) - 1


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
