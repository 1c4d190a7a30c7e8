"""Layered cocotb testbench for the generated ``mram_macro`` Verilog.

Layers, from the pins up:

* **Bus drivers / monitors** (cocotbext-axi): an AXI4-Lite master on ``s_axil``, an AXI4-Stream
  source on ``s_axis`` (:class:`VectorDriver`) and a sink on ``m_axis`` (:class:`ResultMonitor`),
  one beat per ``tdata`` word.
* **Array model**: :class:`sim_models.cocotb_array.CocotbMramArray` plays the analogue array on the
  ``arr_*`` pins. Its die starts fresh and only learns weights through write pulses.
* **Reference model**: :class:`MacroModel` wraps :class:`sim_models.golden.GoldenMacro` on a die
  sampled from the same seed (same resistances) holding the weights the host *intended* to
  write, plus mirrors of the registers that change results.
* **Checker**: :class:`Scoreboard` compares every result frame with the model's prediction,
  bit for bit (padding and ``tuser`` included).

:class:`MacroEnv` composes them and offers the host-level API the tests use: register access by
name (addresses and fields come from the register map, never from literals), weight programming,
vector sending, back-pressure and reset.

Results are predicted when a vector is *sent*. That is exact because the macro processes vectors
in order, and because the tests change weights or result-affecting registers only after
:meth:`MacroEnv.drain`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import warnings
from collections import deque
from dataclasses import dataclass, field, replace

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, RisingEdge, Timer, with_timeout
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiResp,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

from mram_macro.config import MacroConfig
from mram_macro.layouts import (
    input_flags,
    pack_input_vector,
    pack_result_vector,
    result_flags,
    unpack_result_vector,
)
from mram_macro.regmap import RegisterMap
from mram_macro.top import macro_regmap
from sim_models.array import MramArray
from sim_models.cocotb_array import CocotbMramArray
from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.golden import GoldenMacro, PassResult, wrap_signed
from sim_models.readout import design_readout
from sim_models.write_model import single_read_delay_and_threshold, write_verify_row
from verif import budgets

__all__ = ["MacroEnv", "MacroModel", "Scoreboard", "VectorDriver", "ResultMonitor",
           "StreamProtocolChecker", "T_CLK_NS", "Expected"]

# cocotbext-axi 0.1.28 still uses APIs that cocotb 2.1 deprecates (Task.kill, Event.data, Edge);
# the warnings say nothing about the design and drown the log.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi")

#: Errors of one kind logged as they happen; the rest are only counted.
_MAX_LOGGED = 10

#: Clock period of the testbench (defined in verif/budgets.py); also the TDC LSB the readout
#: model is designed for.
T_CLK_NS = budgets.T_CLK_NS


def _word(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, "little")


def _signed32(word: int) -> int:
    return word - (1 << 32) if word & (1 << 31) else word


# -- reference model ----------------------------------------------------------------------------
class MacroModel:
    """What the macro should do: the golden model plus mirrors of the result-affecting registers.

    ``golden.array`` is sampled from ``seed`` like the pin model's die, so both have the same
    resistances; its MTJ states follow the writes the host *asked for* (not the pins).
    """

    def __init__(self, config: MacroConfig, regmap: RegisterMap, device: DeviceParams, *,
                 seed: int, die: Die | None = None):
        self.config = config
        self.regmap = regmap
        self.device = device
        self.readout = design_readout(config.rows, device, t_clk_ns=T_CLK_NS)
        self.verify_setup = single_read_delay_and_threshold(config.rows, device, self.readout,
                                                            config.tdc_bits)
        self.golden = GoldenMacro(config, device, self.readout, seed=seed, t_clk_ns=T_CLK_NS,
                                  die=die)
        self.intended_weights = np.zeros((config.rows, config.cols), dtype=bool)
        #: Columns whose comparator never fires (a fault: :meth:`MacroEnv.kill_comparators`).
        self.dead_columns: frozenset[int] = frozenset()
        self.reset()

    def reset(self) -> None:
        """Registers and accumulator back to their reset values (the MTJs are non-volatile)."""
        g, rm = self.golden, self.regmap
        g.acc = np.zeros(self.config.cols, dtype=np.int64)
        g.start_delay_cycles = rm["TDC_START_DELAY"].field("CYCLES").reset
        g.offsets = np.array([r.field("OFFSET").reset for r in rm.array("CAL_OFFSET")],
                             dtype=np.int64)
        self.write_pulse_cycles = rm["WRITE_PULSE_CYCLES"].field("CYCLES").reset
        wv = rm["WV_CTRL"]
        self.wv_enable = wv.field("ENABLE").reset
        self.wv_doubling = wv.field("PULSE_DOUBLING").reset
        self.wv_max_retries = wv.field("MAX_RETRIES").reset
        g.raw_codes = bool(rm["MODE"].field("RAW_CODES").reset)
        self.wv_read_delay = rm["WV_READ"].field("DELAY").reset
        self.wv_threshold = rm["WV_READ"].field("THRESHOLD").reset
        #: What write-verify should have counted since reset (WV_RETRY_COUNT, WV_FAIL_COUNT).
        self.wv_retries = 0
        self.wv_failed_cells = 0
        self.passes = 0
        self.overflow_seen = False

    def register_written(self, name: str, word: int) -> None:
        """Mirror an accepted register write."""
        reg = self.regmap[name]
        if name in ("TDC_START_DELAY", "WRITE_PULSE_CYCLES"):
            f = reg.field("CYCLES")
            cycles = (word & f.mask) >> f.lsb
            if name == "TDC_START_DELAY":
                self.golden.start_delay_cycles = cycles
            else:
                self.write_pulse_cycles = cycles
        elif reg.array_name == "CAL_OFFSET":
            self.golden.offsets[reg.index] = _signed32(word)
        elif name == "WV_CTRL":
            self.wv_enable = (word & reg.field("ENABLE").mask) >> reg.field("ENABLE").lsb
            self.wv_doubling = ((word & reg.field("PULSE_DOUBLING").mask)
                                >> reg.field("PULSE_DOUBLING").lsb)
            self.wv_max_retries = ((word & reg.field("MAX_RETRIES").mask)
                                   >> reg.field("MAX_RETRIES").lsb)
        elif name == "WV_READ":
            self.wv_read_delay = (word & reg.field("DELAY").mask) >> reg.field("DELAY").lsb
            self.wv_threshold = ((word & reg.field("THRESHOLD").mask)
                                 >> reg.field("THRESHOLD").lsb)
        elif name == "MODE":
            self.golden.raw_codes = bool(word & reg.field("RAW_CODES").mask)

    def row_written(self, row: int, bits) -> None:
        """The host programmed ``row``: W on the left MTJs, then W-bar on the right ones."""
        report = write_verify_row(
            self.golden.array, row, np.asarray(bits, dtype=bool), readout=self.readout,
            tdc_bits=self.config.tdc_bits, pulse_cycles=self.write_pulse_cycles,
            max_retries=self.wv_max_retries, double_pulse=bool(self.wv_doubling),
            verify=bool(self.wv_enable),
            setup=replace(self.verify_setup, start_delay_cycles=self.wv_read_delay,
                          threshold_code=self.wv_threshold))
        self.wv_retries += report.retries
        self.wv_failed_cells += report.n_failing
        self.intended_weights[row] = self.golden.array.weights()[row]

    def vmm(self, x_bits, *, accumulate: bool, hold: bool) -> PassResult:
        self.passes += 1
        prev_acc = self.golden.acc
        result = self.golden.vmm(x_bits, accumulate=accumulate, hold=hold)
        if self.dead_columns:
            result = self._with_dead_columns(result, prev_acc, accumulate)
        self.overflow_seen |= bool(result.overflow.any())
        return result

    def _with_dead_columns(self, result: PassResult, prev_acc, accumulate: bool) -> PassResult:
        """``result`` with the dead columns saturated: code ``2**tdc_bits - 1``, overflow."""
        c = self.config
        dead = np.array(sorted(self.dead_columns), dtype=np.int64)
        codes, overflow = result.codes.copy(), result.overflow.copy()
        codes[dead], overflow[dead] = c.tdc_max_code, True
        values = result.values.copy()
        if self.golden.raw_codes:
            values[dead] = wrap_signed(c.tdc_max_code, c.result_width)
        else:
            base = np.asarray(prev_acc, dtype=np.int64)[dead] if accumulate else 0
            values[dead] = wrap_signed(base + self.golden.offsets[dead] - 2 * c.tdc_max_code,
                                       c.result_width)
        self.golden.acc = values.copy()
        return PassResult(codes=codes, overflow=overflow, values=values, emitted=result.emitted)


# -- bus layer ----------------------------------------------------------------------------------
class VectorDriver:
    """Input vectors onto ``s_axis``: one ``tdata`` word per beat, flags in the first beat's tuser.

    With ``noise=True`` the padding bits of the last beat and the ``tuser`` of the later beats
    carry random junk, which the macro must ignore.
    """

    def __init__(self, dut, config: MacroConfig, rng: random.Random):
        self.config = config
        self.rng = rng
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst,
                                      byte_size=config.stream_width)

    def frame(self, x_bits, *, accumulate: bool, hold: bool, noise: bool = False):
        c = self.config
        beats = pack_input_vector(np.asarray(x_bits, dtype=np.uint8), c)
        flags = input_flags(accumulate=accumulate, hold=hold)
        tuser = [flags] * len(beats)
        if noise:
            pad = c.in_beats * c.stream_width - c.rows
            if pad:
                junk = self.rng.getrandbits(pad) << (c.stream_width - pad)
                beats[-1] |= junk
            tuser = [flags] + [self.rng.getrandbits(2) for _ in beats[1:]]
        return AxiStreamFrame(tdata=beats, tuser=tuser)

    async def send(self, frame: AxiStreamFrame) -> None:
        await self.source.send(frame)

    def idle(self) -> bool:
        return self.source.idle()


@dataclass
class ResultFrame:
    beats: list[int]
    tuser: list[int]


class _Background:
    """A component whose ``_run`` coroutine runs between ``start()`` and ``stop()``."""

    _task = None

    def start(self) -> None:
        self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError


class ResultMonitor(_Background):
    """Result frames from ``m_axis`` (split by ``tlast``), handed to a callback."""

    def __init__(self, dut, config: MacroConfig, callback):
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst,
                                  byte_size=config.stream_width)
        self.callback = callback

    async def _run(self) -> None:
        while True:
            frame = await self.sink.recv(compact=False)
            self.callback(ResultFrame(beats=[int(b) for b in frame.tdata],
                                      tuser=[int(u) for u in frame.tuser]))


class StreamProtocolChecker(_Background):
    """AXI4-Stream master rules on ``<prefix>_*``: once ``tvalid`` is high it stays high, with
    ``tdata``/``tlast``/``tuser`` stable, until ``tready`` takes the beat.

    The sink only looks at handshakes, so a master that withdraws or changes a stalled beat
    could otherwise go unnoticed.
    """

    def __init__(self, dut, prefix: str):
        self.prefix = prefix
        self._clk = dut.clk
        self._rst = dut.rst
        self._valid = getattr(dut, f"{prefix}_tvalid")
        self._ready = getattr(dut, f"{prefix}_tready")
        self._payload = [getattr(dut, f"{prefix}_{name}") for name in ("tdata", "tlast", "tuser")]
        self.violations: list[str] = []

    async def _run(self) -> None:
        edge = RisingEdge(self._clk)
        stalled = None      # payload of a beat offered but not taken at the previous edge
        await edge          # (outputs may still be X at time 0)
        while True:
            if stalled is None and str(self._valid.value) == "0":
                await RisingEdge(self._valid)
            await edge
            # Values read at the edge are the ones the edge samples.
            if str(self._rst.value) != "0":
                stalled = None
                continue
            if not self._valid.value.is_resolvable:
                self._violate(f"tvalid is {self._valid.value} out of reset")
                continue
            valid = int(self._valid.value)
            payload = tuple(str(sig.value) for sig in self._payload)
            if stalled is not None:
                if not valid:
                    self._violate("tvalid dropped before the beat was taken")
                elif payload != stalled:
                    self._violate(f"payload changed while stalled: {stalled} -> {payload}")
            stalled = payload if valid and not int(self._ready.value) else None

    def _violate(self, text: str) -> None:
        message = f"t={get_sim_time('ns'):.1f} ns: {self.prefix}: {text}"
        if len(self.violations) < _MAX_LOGGED:
            logging.getLogger("cocotb.tb").error("stream protocol: %s", message)
        self.violations.append(message)


# -- checker ------------------------------------------------------------------------------------
@dataclass
class Expected:
    index: int              #: pass number since the last reset
    x_bits: np.ndarray
    values: np.ndarray
    overflow: bool
    codes: np.ndarray = field(repr=False)


class Scoreboard:
    """Compares every received result frame with the next expected one, exactly."""

    def __init__(self, config: MacroConfig, log: logging.Logger):
        self.config = config
        self.log = log
        self.expected: deque[Expected] = deque()
        self.received = 0
        self.matches = 0
        #: Simulation time (ns) at which each result frame was complete.
        self.arrival_ns: list[float] = []
        #: Every received result vector, as the host reads it (signed values per column).
        self.values: list[np.ndarray] = []
        self.mismatches: list[str] = []
        self.empty = Event()
        self.empty.set()

    def expect(self, item: Expected) -> None:
        self.expected.append(item)
        self.empty.clear()

    def flush(self) -> None:
        """Forget the outstanding predictions (after a reset)."""
        self.expected.clear()
        self.empty.set()

    def _fail(self, text: str) -> None:
        if len(self.mismatches) < _MAX_LOGGED:
            self.log.error("scoreboard: %s", text)
        self.mismatches.append(text)

    def compare(self, got: ResultFrame) -> None:
        c = self.config
        self.received += 1
        self.arrival_ns.append(get_sim_time("ns"))
        if len(got.beats) == c.out_beats:
            self.values.append(unpack_result_vector(got.beats, c))
        if not self.expected:
            self._fail(f"unexpected result frame #{self.received} (nothing outstanding): "
                       f"beats={[hex(b) for b in got.beats]}")
            return
        exp = self.expected.popleft()
        if not self.expected:
            self.empty.set()
        want_beats = pack_result_vector(exp.values, c)
        want_user = result_flags(overflow=exp.overflow)
        problems = []
        if len(got.beats) != len(want_beats):
            problems.append(f"{len(got.beats)} beats instead of {len(want_beats)}")
        elif got.beats != want_beats:
            values = unpack_result_vector(got.beats, c)
            bad = np.flatnonzero(values != exp.values)
            if bad.size:
                shown = ", ".join(f"col {k}: got {values[k]} want {exp.values[k]} "
                                  f"(code {exp.codes[k]})" for k in bad[:8])
                problems.append(f"{bad.size} column(s) differ: {shown}")
            else:
                problems.append("padding bits are not 0: "
                                f"got {[hex(b) for b in got.beats]} want "
                                f"{[hex(b) for b in want_beats]}")
        if any(u != want_user for u in got.tuser):
            problems.append(f"tuser {got.tuser} != overflow flag {want_user} on every beat")
        if problems:
            x = "".join(str(int(b)) for b in exp.x_bits)
            self._fail(f"pass #{exp.index} (x[0..] = {x}): " + "; ".join(problems))
        else:
            self.matches += 1


# -- environment --------------------------------------------------------------------------------
class MacroEnv:
    """The testbench around one ``mram_macro`` instance; see the module docstring."""

    def __init__(self, dut, config: MacroConfig, *, seed: int, device: DeviceParams | None = None,
                 regmap: RegisterMap | None = None, die: Die | None = None):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
        self.dut = dut
        self.config = config
        self.seed = seed
        self.device = device or DeviceParams()
        self.log = logging.getLogger("cocotb.tb")
        self.log.info("MacroEnv: config %s, env seed %d", config.to_json(), seed)
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        # The register map the RTL was generated from (reset values included; TDC_START_DELAY's
        # comes from the readout designed for the nominal device).
        self.regmap = regmap or macro_regmap(config)

        dut.rst.value = 1
        self.clock = Clock(dut.clk, T_CLK_NS, unit="ns")
        self.clock.start()

        # One die for both sides: sampled from the seed, or given (e.g. loaded from a die file).
        if die is not None and (die.rows, die.cols) != (config.rows, config.cols):
            raise ValueError(f"the die is {die.rows}x{die.cols}, the macro "
                             f"{config.rows}x{config.cols}")
        self.model = MacroModel(config, self.regmap, self.device, seed=seed, die=die)
        pins_array = (MramArray.from_die(die, self.device) if die is not None
                      else MramArray(config.rows, config.cols, self.device, seed=seed))
        self.array = CocotbMramArray(dut, pins_array, self.model.readout)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk, dut.rst)
        self.driver = VectorDriver(dut, config, random.Random(seed + 1))
        self.scoreboard = Scoreboard(config, self.log)
        self.monitor = ResultMonitor(dut, config, self.scoreboard.compare)
        self.source, self.sink = self.driver.source, self.monitor.sink
        # Per-transfer INFO logs of the bus models cost more time than the simulation.
        for bfm in (self.source, self.sink, self.axil.write_if, self.axil.read_if):
            bfm.log.setLevel(logging.WARNING)
        self.stream_checker = StreamProtocolChecker(dut, "m_axis")
        # Isolation: the pin model, the monitor and the checker start only once rst has
        # cleared what a previous (perhaps failed) test left in the DUT (see :meth:`reset`).
        dut.arr_cmp.value = 0
        self._monitors_started = False
        self.bus_errors_expected = False
        self.length_errors_expected = False
        #: Hooks (coverage, robustness tests). ``pass_listeners`` are called with every predicted
        #: pass ``(x_bits, accumulate, hold, result, prev_acc)``; ``finish_listeners`` by
        #: :meth:`finish` with ``(env, problems)`` and return further problems to report.
        self.pass_listeners: list = []
        self.finish_listeners: list = []
        #: Faults a robustness test injected (reported as survived when the test passes).
        self.faults_injected = 0
        #: Functional coverage (:mod:`verif.cocotb.coverage`), collected only when
        #: ``MRAM_COVERAGE`` names an output file.
        self.coverage = None
        if os.environ.get("MRAM_COVERAGE"):
            from .coverage import attach
            self.coverage = attach(self)

    # -- clocking and reset ---------------------------------------------------------------------
    async def cycles(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    async def reset(self, cycles: int = 4) -> None:
        """Hold ``rst`` for ``cycles`` clocks. Vectors not yet sent and predictions are dropped.

        Every test calls it first: the first call also starts the array pin model, the result
        monitor and the protocol checker, on a DUT already in reset, so a test that failed
        mid-evaluation does not leave the next one a half-finished pass."""
        self.source.clear()
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        if not self._monitors_started:
            # First reset of this test: the DUT is now quiet, whatever the last test left.
            self._monitors_started = True
            self.array.start()
            self.monitor.start()
            self.stream_checker.start()
        self.dut.rst.value = 0
        self.scoreboard.flush()
        self.model.reset()
        self.bus_errors_expected = False
        self.length_errors_expected = False
        await RisingEdge(self.dut.clk)

    # -- registers ------------------------------------------------------------------------------
    def address(self, name: str) -> int:
        return self.regmap[name].offset

    def field_value(self, reg: str, fld: str, word: int) -> int:
        f = self.regmap[reg].field(fld)
        return (word & f.mask) >> f.lsb

    async def write_reg(self, name: str, value: int, *, expect: AxiResp = AxiResp.OKAY) -> None:
        """Write register ``name`` (a signed value is stored two's complement)."""
        resp = (await self.axil.write(self.address(name), _word(value))).resp
        if resp != expect:
            raise AssertionError(f"write {name} <- 0x{value & 0xFFFFFFFF:08X}: response "
                                 f"{resp.name}, expected {expect.name}")
        if resp == AxiResp.OKAY:
            self.model.register_written(name, value & 0xFFFFFFFF)
        else:
            self.bus_errors_expected = True

    async def read_reg(self, name: str, *, expect: AxiResp = AxiResp.OKAY) -> int:
        resp = await self.axil.read(self.address(name), 4)
        if resp.resp != expect:
            raise AssertionError(f"read {name}: response {resp.resp.name}, "
                                 f"expected {expect.name}")
        return int.from_bytes(resp.data, "little")

    async def read_field(self, reg: str, fld: str) -> int:
        return self.field_value(reg, fld, await self.read_reg(reg))

    def write_row_cycles(self) -> int:
        """Upper bound of the cycles one CTRL.WRITE_ROW keeps STATUS.WRITE_BUSY set, from the
        mirrored WRITE_PULSE_CYCLES and WV_* registers: two sides, each up to 1 + MAX_RETRIES
        pulses (doubled per retry, saturating at the 16-bit maximum) with a read-back each."""
        m = self.model
        return budgets.write_row_cycles(self.config, pulse_cycles=m.write_pulse_cycles,
                                        verify=bool(m.wv_enable), max_retries=m.wv_max_retries,
                                        doubling=bool(m.wv_doubling),
                                        read_delay=m.wv_read_delay)

    async def wait_field(self, reg: str, fld: str, value: int, *,
                         max_cycles: int | None = None) -> None:
        """Poll ``reg.fld`` until it reads ``value``; fail after ``max_cycles`` clocks (default:
        four times the longest row write or pass the current register values allow)."""
        if max_cycles is None:
            max_cycles = 4 * max(self.write_row_cycles(), self._pass_cycles())
        t0_ns, polls = get_sim_time("ns"), 0
        # Long write pulses: poll a few times per pulse, not every few cycles (simulation speed).
        interval = min(1024, self.model.write_pulse_cycles // 8)
        while await self.read_field(reg, fld) != value:
            polls += 1
            if interval > 1:
                await Timer(interval * T_CLK_NS, "ns")
            if get_sim_time("ns") - t0_ns > max_cycles * T_CLK_NS:
                raise AssertionError(
                    f"{reg}.{fld} did not become {value} in {max_cycles} cycles ({polls} polls; "
                    f"WRITE_PULSE_CYCLES={self.model.write_pulse_cycles}, "
                    f"WV_CTRL.MAX_RETRIES={self.model.wv_max_retries})")

    async def command(self, fld: str) -> None:
        await self.write_reg("CTRL", 1 << self.regmap["CTRL"].field(fld).lsb)

    # -- weights --------------------------------------------------------------------------------
    async def program_row(self, row: int, bits) -> None:
        """Program one row of weight bits (1 = +1) through WEIGHT_DATA and CTRL.WRITE_ROW."""
        c = self.config
        bits = np.asarray(bits, dtype=bool)
        if bits.shape != (c.cols,):
            raise ValueError(f"a weight row has {c.cols} bits, not shape {bits.shape}")
        for reg in self.regmap.array("WEIGHT_DATA"):
            f = reg.field("BITS")
            chunk = bits[32 * reg.index:32 * reg.index + f.width]
            word = sum(1 << int(i) for i in np.flatnonzero(chunk))
            await self.write_reg(reg.name, word << f.lsb)
        await self.write_reg("WRITE_ROW_ADDR", row << self.regmap["WRITE_ROW_ADDR"].field(
            "ROW").lsb)
        # The command is latched, so WEIGHT_DATA could be reloaded at once; the command itself
        # is rejected while the previous row is still being written.
        await self.wait_field("STATUS", "WRITE_BUSY", 0)
        await self.command("WRITE_ROW")
        self.model.row_written(row, bits)

    async def program_weights(self, w_bits, *, rows=None) -> None:
        """Program ``w_bits[rows, cols]`` (all rows, or the listed ones), after draining."""
        w = np.asarray(w_bits, dtype=bool)
        if w.shape != (self.config.rows, self.config.cols):
            raise ValueError(f"weights must have shape ({self.config.rows}, {self.config.cols}),"
                             f" not {w.shape}")
        await self.drain()
        for r in range(self.config.rows) if rows is None else rows:
            await self.program_row(int(r), w[r])
        await self.wait_field("STATUS", "WRITE_BUSY", 0)

    # -- vectors --------------------------------------------------------------------------------
    async def send_vector(self, x_bits, accumulate: bool = False, hold: bool = False, *,
                          noise: bool = False, expected=None) -> PassResult:
        """Queue one input vector; predict its pass and, unless ``hold``, expect its result.

        ``expected`` (optional) are values the caller knows independently; they must agree with
        the golden model's prediction.
        """
        x = np.asarray(x_bits, dtype=bool)
        if x.shape != (self.config.rows,):
            raise ValueError(f"an input vector has {self.config.rows} bits, not shape {x.shape}")
        index = self.model.passes
        prev_acc = self.model.golden.acc.copy() if self.pass_listeners else None
        result = self.model.vmm(x, accumulate=accumulate, hold=hold)
        for listener in self.pass_listeners:
            listener(x, accumulate, hold, result, prev_acc)
        if expected is not None and not np.array_equal(result.values, expected):
            raise AssertionError(f"golden model disagrees with the test's own expectation for "
                                 f"pass #{index}: {result.values} vs {np.asarray(expected)}")
        if not hold:
            self.scoreboard.expect(Expected(index=index, x_bits=x, values=result.values,
                                            overflow=bool(result.overflow.any()),
                                            codes=result.codes))
        await self.driver.send(self.driver.frame(x, accumulate=accumulate, hold=hold,
                                                 noise=noise))
        return result

    def random_vector(self, p_one: float = 0.5) -> np.ndarray:
        return self.np_rng.random(self.config.rows) < p_one

    def random_weights(self, p_one: float = 0.5) -> np.ndarray:
        return self.np_rng.random((self.config.rows, self.config.cols)) < p_one

    # -- back-pressure --------------------------------------------------------------------------
    def random_backpressure(self, *, p_source_idle: float = 0.3,
                            p_sink_stall: float = 0.3) -> None:
        """Seeded random idle cycles on s_axis and ready-low cycles on m_axis."""
        def pauses(rng: random.Random, p: float):
            while True:
                yield rng.random() < p
        self.log.info("random back-pressure: source idle %.2f, sink stall %.2f",
                      p_source_idle, p_sink_stall)
        self.source.set_pause_generator(pauses(random.Random(self.rng.getrandbits(32)),
                                               p_source_idle))
        self.sink.set_pause_generator(pauses(random.Random(self.rng.getrandbits(32)),
                                             p_sink_stall))

    def random_bus_pauses(self, *, p_pause: float = 0.3) -> None:
        """Seeded random pauses on all five AXI4-Lite channels: AW, W and AR withhold valid,
        B and R withhold ready."""
        def pauses(rng: random.Random):
            while True:
                yield rng.random() < p_pause
        for channel in self._axil_channels():
            channel.set_pause_generator(pauses(random.Random(self.rng.getrandbits(32))))

    def no_bus_pauses(self) -> None:
        for channel in self._axil_channels():
            channel.clear_pause_generator()
            channel.pause = False

    def _axil_channels(self):
        w, r = self.axil.write_if, self.axil.read_if
        return (w.aw_channel, w.w_channel, w.b_channel, r.ar_channel, r.r_channel)

    def kill_comparators(self, columns) -> None:
        """From now on the comparators of ``columns`` never fire (none: all work again).

        Call it drained: the model applies it to the next predicted pass.
        """
        dead = frozenset(int(c) for c in columns)
        if any(not 0 <= c < self.config.cols for c in dead):
            raise ValueError(f"columns must be in 0..{self.config.cols - 1}, not {sorted(dead)}")
        self.array.dead_columns = set(dead)
        self.model.dead_columns = dead

    def no_backpressure(self) -> None:
        self.source.clear_pause_generator()
        self.sink.clear_pause_generator()
        self.source.pause = False
        self.sink.pause = False

    # -- completion -----------------------------------------------------------------------------
    def _pass_cycles(self) -> int:
        """Generous upper bound of the cycles one pass occupies the macro."""
        return budgets.pass_cycles(self.config,
                                   start_delay=self.model.golden.start_delay_cycles)

    async def drain(self) -> None:
        """Wait until every sent vector is processed, every expected result has arrived and
        the last row write has finished."""
        pending = self.source.count() + len(self.scoreboard.expected) + 2
        # A row write in flight blocks the sequencer first.
        timeout_ns = (pending * self._pass_cycles() + self.write_row_cycles()) * T_CLK_NS
        try:
            await with_timeout(self._drain(), timeout_ns, "ns")
        except TimeoutError:
            raise AssertionError(
                f"timeout: {len(self.scoreboard.expected)} expected result(s) never arrived "
                f"(received {self.scoreboard.received}); first missing: pass "
                f"#{self.scoreboard.expected[0].index if self.scoreboard.expected else '-'}"
            ) from None

    async def _drain(self) -> None:
        await self.source.wait()
        await self.scoreboard.empty.wait()
        await self.wait_field("STATUS", "VMM_BUSY", 0)
        await self.wait_field("STATUS", "RESULT_PENDING", 0)
        # A row write issued last may outlast the passes (long write pulses).
        await self.wait_field("STATUS", "WRITE_BUSY", 0)

    async def check_status(self) -> None:
        """Sticky STATUS flags and VMM_COUNT agree with the model (call when drained)."""
        status = await self.read_reg("STATUS")
        want = {"TDC_OVERFLOW": self.model.overflow_seen,
                "LENGTH_ERROR": self.length_errors_expected,
                "BUS_ERROR": self.bus_errors_expected,
                "WRITE_FAILED": self.model.wv_failed_cells > 0}
        for fld, flag in want.items():
            got = self.field_value("STATUS", fld, status)
            assert got == int(flag), f"STATUS.{fld} = {got}, expected {int(flag)}"
        count = await self.read_field("VMM_COUNT", "COUNT")
        assert count == self.model.passes % (1 << 32), (
            f"VMM_COUNT = {count}, but {self.model.passes} passes were sent since reset")
        for reg, want_count in (("WV_RETRY_COUNT", self.model.wv_retries),
                                ("WV_FAIL_COUNT", self.model.wv_failed_cells)):
            got = await self.read_field(reg, "COUNT")
            assert got == want_count % (1 << 32), f"{reg} = {got}, expected {want_count}"

    def report_metrics(self, **metrics) -> None:
        """Append ``metrics`` as one JSON line to the file named by ``MRAM_METRICS`` (if set);
        ``mram_macro/sim/runner.py`` merges them for ``make bench`` and ``mram-macro demo``."""
        path = os.environ.get("MRAM_METRICS")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(metrics) + "\n")

    async def finish(self, *, extra_cycles: int = 200) -> None:
        """Drain, watch for stray frames, then fail on any mismatch, violation or timeout.

        The failure message lists every kind of problem found, most specific first: result
        mismatches, protocol violations on the array pins and on m_axis, then a drain timeout or
        a STATUS disagreement (often just consequences of the former).
        """
        later: list[str] = []
        try:
            await self.drain()
            await self.check_status()
        except AssertionError as exc:
            later.append(str(exc))
        await self.cycles(extra_cycles)
        sb, arr, streams = self.scoreboard, self.array, self.stream_checker
        self.log.info("scoreboard: %d frame(s) received, %d matched, %d mismatch(es); array: "
                      "%d evaluations, %d writes", sb.received, sb.matches, len(sb.mismatches),
                      arr.evaluations, arr.writes_applied)
        problems = []
        if sb.mismatches:
            problems.append(f"{len(sb.mismatches)} result mismatch(es); first: "
                            f"{sb.mismatches[0]}")
        try:
            arr.check()
        except AssertionError as exc:
            problems.append(str(exc))
        if streams.violations:
            problems.append(f"{len(streams.violations)} m_axis protocol violation(s); first: "
                            f"{streams.violations[0]}")
        problems += later
        for listener in self.finish_listeners:
            problems += listener(self, problems)
        if problems:
            raise AssertionError(f"env seed {self.seed}: " + "\n".join(problems))
