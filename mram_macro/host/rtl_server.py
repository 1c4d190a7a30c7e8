"""Simulation side of the RTL backend: a cocotb test that serves the host API's operations.

Run by :class:`mram_macro.host.rtl_backend.RtlBackend` through
:func:`mram_macro.sim.runner.run_cocotb` (test module ``mram_macro.host.rtl_server``). The test
connects back to the host (address and key in ``MRAM_HOST_ADDRESS`` / ``MRAM_HOST_AUTHKEY``),
receives the :class:`~mram_macro.host.die_setup.DieSetup`, starts the clock and the array pin
model (:class:`mram_macro.sim.array_pins.CocotbMramArray`) on that die, resets the macro, then
executes one operation of :mod:`mram_macro.host.backend` per message until ``close``.

Everything goes over the macro's ports: registers over AXI4-Lite (addresses and fields from the
register map), input vectors over the s_axis stream (flags in tuser), results from m_axis
(layouts from :mod:`mram_macro.layouts`). The simulated time each operation took is returned
with its result. While the host thinks, the simulation waits (simulated time stands still).
"""

from __future__ import annotations

import logging
import os
import warnings
from multiprocessing.connection import Client

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiResp,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

from sim_models.array import MramArray

from ..layouts import (
    ResultFlags,
    input_flags,
    pack_input_vector,
    unpack_activation_vector,
    unpack_result_vector,
)
from ..regmap import lut_count, lut_entry_word
from ..sim.replica_pins import array_pin_model
from .backend import ENV_ADDRESS, ENV_AUTHKEY, STATUS_REGISTERS, T_CLK_NS
from .die_setup import DieSetup

__all__ = ["MacroDriver"]

# cocotbext-axi 0.1.28 uses APIs cocotb 2.1 deprecates; the warnings say nothing about the design.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi")

#: Register polls before a busy flag is declared stuck.
_MAX_POLLS = 100_000


class MacroDriver:
    """The host API's backend operations as bus transactions on one simulated macro."""

    def __init__(self, dut, setup: DieSetup):
        self.dut, self.setup = dut, setup
        self.config, self.regmap = setup.config, setup.regmap
        dut.rst.value = 1
        Clock(dut.clk, setup.t_clk_ns, unit="ns").start()
        self.array = array_pin_model(self.config, dut,
                                     MramArray.from_die(setup.die, setup.device), setup.readout)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        w = self.config.stream_width
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst,
                                      byte_size=w)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst,
                                  byte_size=w)
        for bfm in (self.source, self.sink, self.axil.write_if, self.axil.read_if):
            bfm.log.setLevel(logging.WARNING)
        self.array.start()
        self.activation = False

    async def reset(self, cycles: int = 4) -> None:
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)
        await self._design_for_clock()

    async def _design_for_clock(self) -> None:
        """The build's reset values are designed for the 5 ns clock; at another clock, write
        the registers the readout design sets (TDC_START_DELAY, WV_READ, and in coarse mode
        the nominal code -> value table) as the setup's register map has them."""
        from sim_models.coarse import nominal_table

        from ..top import macro_regmap

        built = macro_regmap(self.config)
        names = {r.name for r in self.regmap.registers}
        for name in ("TDC_START_DELAY", "WV_READ"):
            if name in names and self.regmap[name].reset != built[name].reset:
                await self.write_reg(name, self.regmap[name].reset)
        if self.config.tdc_mode == "coarse" and self.setup.t_clk_ns != T_CLK_NS:
            table = nominal_table(self.config, self.setup.device, self.setup.readout)
            await self.write_lut([table] * self.config.cols)

    # -- registers ------------------------------------------------------------------------------
    async def write_reg(self, name: str, word: int) -> None:
        resp = (await self.axil.write(self.regmap[name].offset,
                                      (word & 0xFFFFFFFF).to_bytes(4, "little"))).resp
        if resp != AxiResp.OKAY:
            raise RuntimeError(f"write {name} <- 0x{word & 0xFFFFFFFF:08X} answered {resp.name}")

    async def read_reg(self, name: str) -> int:
        r = await self.axil.read(self.regmap[name].offset, 4)
        if r.resp != AxiResp.OKAY:
            raise RuntimeError(f"read {name} answered {r.resp.name}")
        return int.from_bytes(r.data, "little")

    async def _field(self, reg: str, name: str) -> int:
        f = self.regmap[reg].field(name)
        return (await self.read_reg(reg) & f.mask) >> f.lsb

    async def _wait_clear(self, reg: str, name: str) -> None:
        for _ in range(_MAX_POLLS):
            if not await self._field(reg, name):
                return
        raise RuntimeError(f"{reg}.{name} stayed set for {_MAX_POLLS} polls")

    # -- backend operations ---------------------------------------------------------------------
    async def program_rows(self, rows, bits) -> None:
        rm = self.regmap
        row_field = rm["WRITE_ROW_ADDR"].field("ROW")
        cmd = 1 << rm["CTRL"].field("WRITE_ROW").lsb
        for row, b in zip(rows, np.asarray(bits, dtype=bool), strict=True):
            # The previous row's command is latched: wait until it is done before changing data.
            await self._wait_clear("STATUS", "WRITE_BUSY")
            for reg in rm.array("WEIGHT_DATA"):
                f = reg.field("BITS")
                chunk = b[32 * reg.index:32 * reg.index + f.width]
                await self.write_reg(reg.name, sum(1 << int(i) for i in np.flatnonzero(chunk))
                                     << f.lsb)
            await self.write_reg("WRITE_ROW_ADDR", int(row) << row_field.lsb)
            await self.write_reg("CTRL", cmd)
        await self._wait_clear("STATUS", "WRITE_BUSY")

    async def write_offsets(self, offsets) -> None:
        for reg, value in zip(self.regmap.array("CAL_OFFSET"), offsets, strict=True):
            await self.write_reg(reg.name, int(value))

    async def write_fine_table(self, table) -> None:
        for reg, value in zip(self.regmap.array("FINE_TABLE"), table, strict=True):
            await self.write_reg(reg.name, int(value) << reg.field("VALUE").lsb)

    async def write_lut(self, table) -> None:
        for col, entries in enumerate(table):
            for code, value in enumerate(entries):
                c = self.setup.config
                await self.write_reg("LUT_ENTRY",
                                     lut_entry_word(c, col, code, lut_count(c, value)))

    async def write_gains(self, gains) -> None:
        for reg, value in zip(self.regmap.array("CAL_GAIN"), gains, strict=True):
            await self.write_reg(reg.name, int(value))

    async def write_tracking(self, interval: int, ref: int) -> None:
        await self.write_reg("TRACK_REF", int(ref))
        await self.write_reg("TRACK_INTERVAL", int(interval))

    async def tracking_state(self) -> dict[str, int]:
        return dict(code=await self._field("TRACK_CODE", "SUM"),
                    gain=await self._field("TRACK_GAIN", "GAIN"),
                    retrims=await self._field("TRACK_STATUS", "RETRIMS"),
                    invalid=await self._field("TRACK_STATUS", "INVALID"),
                    clamped=await self._field("TRACK_STATUS", "CLAMPED"))

    async def set_temperature(self, temperature_C: float) -> None:
        # The pin model's array (and its replica columns) answer at the new temperature from
        # the next evaluation on; the die and the MTJ states stay.
        self.array.array.set_temperature(float(temperature_C))

    async def write_verify_settings(self, enable: bool, pulse_doubling: bool,
                                    max_retries: int, pulse_cycles: int) -> None:
        wv = self.regmap["WV_CTRL"]
        await self.write_reg("WV_CTRL", int(enable) << wv.field("ENABLE").lsb
                             | int(pulse_doubling) << wv.field("PULSE_DOUBLING").lsb
                             | int(max_retries) << wv.field("MAX_RETRIES").lsb)
        pulse = self.regmap["WRITE_PULSE_CYCLES"].field("CYCLES")
        await self.write_reg("WRITE_PULSE_CYCLES", int(pulse_cycles) << pulse.lsb)

    async def write_verify_read(self, delay: int, threshold: int) -> None:
        wv = self.regmap["WV_READ"]
        await self.write_reg("WV_READ", int(delay) << wv.field("DELAY").lsb
                             | int(threshold) << wv.field("THRESHOLD").lsb)

    async def write_start_delay(self, cycles: int) -> None:
        field = self.regmap["TDC_START_DELAY"].field("CYCLES")
        await self.write_reg("TDC_START_DELAY", int(cycles) << field.lsb)

    async def set_mode(self, raw_codes: bool, activation: bool) -> None:
        mode = self.regmap["MODE"]
        await self.write_reg("MODE", int(bool(raw_codes)) << mode.field("RAW_CODES").lsb
                             | int(bool(activation)) << mode.field("ACTIVATION").lsb)
        self.activation = bool(activation)

    async def write_thresholds(self, thresholds) -> None:
        for reg, value in zip(self.regmap.array("THRESHOLD"), thresholds, strict=True):
            await self.write_reg(reg.name, int(value))

    async def run(self, x_bits, accumulate, hold, shift, negate):
        c = self.config
        for x, a, h, s, n in zip(x_bits, accumulate, hold, shift, negate, strict=True):
            beats = pack_input_vector(np.asarray(x, dtype=np.uint8), c)
            flags = input_flags(accumulate=bool(a), hold=bool(h), shift=bool(s), negate=bool(n))
            await self.source.send(AxiStreamFrame(tdata=beats, tuser=[flags] * len(beats)))
        n_out = int(np.count_nonzero(~np.asarray(hold, dtype=bool)))
        values = np.zeros((n_out, c.cols), dtype=np.int64)
        overflow = np.zeros(n_out, dtype=bool)
        for i in range(n_out):
            frame = await self.sink.recv(compact=False)
            beats = [int(b) for b in frame.tdata]
            values[i] = (unpack_activation_vector(beats, c) if self.activation
                         else unpack_result_vector(beats, c))
            overflow[i] = bool(int(frame.tuser[0]) >> ResultFlags["overflow"].offset & 1)
        await self.source.wait()
        await self._wait_clear("STATUS", "VMM_BUSY")
        return values, overflow

    async def status(self) -> dict[str, int]:
        names = [*STATUS_REGISTERS, *(r.name for r in self.regmap.array("WV_FAIL_MASK"))]
        return {name: await self.read_reg(name) for name in names}

    async def clear_status(self) -> None:
        mask = sum(f.mask for f in self.regmap["STATUS"].fields if f.kind == "w1c")
        await self.write_reg("STATUS", mask)


@cocotb.test()
async def serve(dut):
    """Serve the host's operations until it closes the session."""
    address = os.environ[ENV_ADDRESS]
    host, _, port = address.rpartition(":")
    conn = Client((host, int(port)), authkey=bytes.fromhex(os.environ[ENV_AUTHKEY]))
    try:
        conn.send(("hello", None))
        setup = conn.recv()
        driver = MacroDriver(dut, setup)
        await driver.reset()
        conn.send(("ready", None, 0.0))
        while True:
            op, kwargs = conn.recv()
            if op == "close":
                conn.send(("ok", None, 0.0))
                return
            t0 = get_sim_time("ns")
            try:
                result = await getattr(driver, op)(**kwargs)
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}", 0.0))
                raise
            driver.array.check()
            conn.send(("ok", result, get_sim_time("ns") - t0))
    finally:
        conn.close()
