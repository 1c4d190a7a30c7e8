"""Simulation side of the RTL backend: a cocotb test that serves the host API's operations.

Run by :class:`mram_macro.host.rtl_backend.RtlBackend` through
:func:`mram_macro.sim.runner.run_cocotb` (test module ``mram_macro.host.rtl_server``). The test
connects back to the host (address and key in ``MRAM_HOST_ADDRESS`` / ``MRAM_HOST_AUTHKEY``),
receives the :class:`~mram_macro.host.die_setup.DieSetup`, starts the clock and the array pin
model (:class:`mram_macro.sim.array_pins.CocotbMramArray`) on that die, resets the macro, then
executes one operation of :mod:`mram_macro.host.backend` per message until ``close``.

Everything goes over the macro's ports: registers over AXI4-Lite by name
(:class:`~mram_macro.host.registers.RegisterBus`, which the cocotb testbench uses too), input
vectors over the s_axis stream (flags in tuser), results from m_axis (layouts from
:mod:`mram_macro.design.layouts`). The simulated time each operation took is returned with its
result. While the host thinks, the simulation waits (simulated time stands still).
"""

from __future__ import annotations

import logging
import os
from multiprocessing.connection import Client

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from mram_macro.design.layouts import (
    ResultFlags,
    input_flags,
    pack_input_vector,
    unpack_activation_vector,
    unpack_result_vector,
)
from mram_macro.design.regmap import lut_count, lut_entry_word
from mram_macro.host.backend import ENV_ADDRESS, ENV_AUTHKEY, STATUS_REGISTERS, T_CLK_NS
from mram_macro.host.die_setup import DieSetup
from mram_macro.host.registers import RegisterBus
from mram_macro.sim.replica_pins import array_pin_model
from sim_models.array import MramArray

__all__ = ["MacroDriver"]

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
        self.bus = RegisterBus.from_dut(dut, self.regmap)
        w = self.config.stream_width
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst,
                                      byte_size=w)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst,
                                  byte_size=w)
        for bfm in (self.source, self.sink):
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
        """The build's reset values are designed for the 5 ns clock (the built design:
        :meth:`MacroDesign.derive` of the configuration); at another clock, write the registers
        the design sets for it (TDC_START_DELAY, WV_READ, WRITE_PULSE_CYCLES, and in coarse mode
        the code -> value table) as the setup's design has them."""
        from mram_macro.design.macro import MacroDesign

        built = MacroDesign.derive(self.config).regmap
        names = {r.name for r in self.regmap.registers}
        for name in ("TDC_START_DELAY", "WV_READ", "WRITE_PULSE_CYCLES"):
            if name in names and self.regmap[name].reset != built[name].reset:
                await self.bus.write(name, self.regmap[name].reset)
        if self.config.mode.has_code_table and self.setup.t_clk_ns != T_CLK_NS:
            await self.write_lut([self.setup.design.lut_reset] * self.config.cols)

    # -- registers ------------------------------------------------------------------------------
    async def _wait_clear(self, reg: str, name: str) -> None:
        await self.bus.wait_field(reg, name, 0, max_polls=_MAX_POLLS)

    # -- backend operations ---------------------------------------------------------------------
    async def program_rows(self, rows, bits) -> None:
        bus = self.bus
        for row, b in zip(rows, np.asarray(bits, dtype=bool), strict=True):
            # The previous row's command is latched: wait until it is done before changing data.
            await self._wait_clear("STATUS", "WRITE_BUSY")
            for name, word in bus.weight_words(b):
                await bus.write(name, word)
            await bus.write_fields("WRITE_ROW_ADDR", ROW=int(row))
            await bus.write_fields("CTRL", WRITE_ROW=1)
        await self._wait_clear("STATUS", "WRITE_BUSY")

    async def write_offsets(self, offsets) -> None:
        await self.bus.write_array("CAL_OFFSET", offsets)

    async def write_fine_table(self, table) -> None:
        await self.bus.write_array("FINE_TABLE", table, field="VALUE")

    async def write_lut(self, table) -> None:
        for col, entries in enumerate(table):
            for code, value in enumerate(entries):
                c = self.setup.config
                await self.bus.write("LUT_ENTRY",
                                     lut_entry_word(c, col, code, lut_count(c, value)))

    async def write_gains(self, gains) -> None:
        await self.bus.write_array("CAL_GAIN", gains)

    async def write_tracking(self, interval: int, ref: int) -> None:
        await self.bus.write("TRACK_REF", int(ref))
        await self.bus.write("TRACK_INTERVAL", int(interval))

    async def tracking_state(self) -> dict[str, int]:
        field = self.bus.read_field
        return dict(code=await field("TRACK_CODE", "SUM"),
                    gain=await field("TRACK_GAIN", "GAIN"),
                    retrims=await field("TRACK_STATUS", "RETRIMS"),
                    invalid=await field("TRACK_STATUS", "INVALID"),
                    clamped=await field("TRACK_STATUS", "CLAMPED"))

    async def set_temperature(self, temperature_C: float) -> None:
        # The pin model's array (and its replica columns) answer at the new temperature from
        # the next evaluation on; the die and the MTJ states stay.
        self.array.array.set_temperature(float(temperature_C))

    async def write_verify_settings(self, enable: bool, pulse_doubling: bool,
                                    max_retries: int, pulse_cycles: int) -> None:
        await self.bus.write_fields("WV_CTRL", ENABLE=int(enable),
                                    PULSE_DOUBLING=int(pulse_doubling),
                                    MAX_RETRIES=int(max_retries))
        await self.bus.write_fields("WRITE_PULSE_CYCLES", CYCLES=int(pulse_cycles))

    async def write_verify_read(self, delay: int, threshold: int) -> None:
        await self.bus.write_fields("WV_READ", DELAY=int(delay), THRESHOLD=int(threshold))

    async def write_start_delay(self, cycles: int) -> None:
        await self.bus.write_fields("TDC_START_DELAY", CYCLES=int(cycles))

    async def set_mode(self, raw_codes: bool, activation: bool) -> None:
        await self.bus.write_fields("MODE", RAW_CODES=int(bool(raw_codes)),
                                    ACTIVATION=int(bool(activation)))
        self.activation = bool(activation)

    async def write_thresholds(self, thresholds) -> None:
        await self.bus.write_array("THRESHOLD", thresholds)

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
        return {name: await self.bus.read(name) for name in names}

    async def clear_status(self) -> None:
        mask = sum(f.mask for f in self.regmap["STATUS"].fields if f.kind == "w1c")
        await self.bus.write("STATUS", mask)


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
