"""Layered cocotb testbench for the generated ``mram_macro`` Verilog.

Layers, from the pins up, one module each:

* **Bus drivers** (:mod:`.drivers`): an AXI4-Lite master on ``s_axil`` (cocotbext-axi, named
  registers and fields through :class:`mram_macro.host.registers.RegisterBus`, the register
  layer the host API's RTL backend uses too) and an AXI4-Stream source on ``s_axis``
  (:class:`~.drivers.VectorDriver`), one beat per ``tdata`` word.
* **Monitors** (:mod:`.monitors`): a sink on ``m_axis`` (:class:`~.monitors.ResultMonitor`,
  which also checks the master's protocol). The stream models are event driven
  (:class:`~.drivers.StreamSource`, :class:`~.monitors.StreamSink`): they sleep through stalls
  and idle stretches, so Python runs per beat, not per clock. Their shared pin bundle and
  result-frame transaction are in :mod:`.streams`.
* **Array model**: a pin model of :mod:`mram_macro.sim.array_pins` plays the analogue array on the
  ``arr_*`` pins (on the test harness with its comparator scheduler). Its die starts fresh
  and only learns weights through write pulses.
* **Reference model** (:mod:`.model`): :class:`~.model.MacroModel` wraps
  :class:`sim_models.golden.GoldenMacro` on a die sampled from the same seed (same resistances)
  holding the weights the host *intended* to write, plus mirrors of the registers that change
  results.
* **Checker** (:mod:`.scoreboard`): :class:`~.scoreboard.Scoreboard` compares every result frame
  with the model's prediction, bit for bit (padding and ``tuser`` included), in batches (NumPy)
  at every drain.

Speed: the clock is cocotb's C clock (``impl="gpi"``), and nothing in Python wakes on every clock
unless random back-pressure asks for a decision per clock. On the test harness
(:mod:`mram_macro.sim.harness`) Python wakes about twice per VMM: once per evaluation (the pin
model hands the comparator edges to the harness' scheduler) and once per result frame, plus
once per batch of input beats (the harness' feeder). On the bare macro (a gate-level
netlist, :mod:`mram_macro.flow.ppa.activity`) the same models run without the harness: the source
drives the pins, the sink assembles and checks frames per beat.

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

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiResp

from mram_macro.design.config import MacroConfig
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import lut_entry_word
from mram_macro.host.registers import BusResponseError, FieldTimeout, RegisterBus
from mram_macro.sim.harness import MACRO_INSTANCE
from mram_macro.sim.replica_pins import array_pin_model
from mram_macro.sim.testbench import budgets
from mram_macro.sim.testbench.drivers import VectorDriver
from mram_macro.sim.testbench.model import T_CLK_NS, MacroModel
from mram_macro.sim.testbench.monitors import ResultMonitor
from mram_macro.sim.testbench.scoreboard import Expected, Scoreboard
from mram_macro.sim.testbench.streams import has_harness
from sim_models.array import MramArray
from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.golden import PassResult

__all__ = ["MacroEnv"]

# cocotbext-axi 0.1.28 still uses APIs that cocotb 2.1 deprecates (Task.kill, Event.data, Edge);
# the warnings say nothing about the design and drown the log.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi")


class MacroEnv:
    """The testbench around one ``mram_macro`` instance; see the module docstring."""

    def __init__(self, dut, config: MacroConfig, *, seed: int, device: DeviceParams | None = None,
                 design: MacroDesign | None = None, die: Die | None = None):
        """``device``: the die's device (default nominal); ``design``: the design the RTL was
        generated from (default :meth:`MacroDesign.derive` of ``config``: the nominal device's,
        as :func:`mram_macro.rtl.top.generate_verilog` builds it)."""
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
        # The design the RTL was generated from: its register map (reset values included;
        # TDC_START_DELAY's comes from the readout designed for the nominal device).
        self.design = design or MacroDesign.derive(config)
        if self.design.config != config:
            raise ValueError(f"the design is of {self.design.config.slug}, not {config.slug}")
        self.regmap = self.design.regmap

        dut.rst.value = 1
        self.clock = Clock(dut.clk, T_CLK_NS, unit="ns", impl="gpi")
        # The C clock drives its first level at once, before rst=1 reaches the pins: start low,
        # so the first rising edge (at T/2) already sees the reset.
        self.clock.start(start_high=False)

        # One die for both sides: sampled from the seed, or given (e.g. loaded from a die file).
        if die is not None and (die.rows, die.cols) != (config.rows, config.cols):
            raise ValueError(f"the die is {die.rows}x{die.cols}, the macro "
                             f"{config.rows}x{config.cols}")
        self.model = MacroModel(self.design, self.device, seed=seed, die=die)
        pins_array = (MramArray.from_die(die, self.device) if die is not None
                      else MramArray(config.rows, config.cols, self.device, seed=seed))
        self.array = array_pin_model(config, dut, pins_array, self.model.readout)
        #: Named registers over AXI4-Lite; :attr:`axil` is its master, for raw accesses.
        self.bus = RegisterBus.from_dut(dut, self.regmap)
        self.axil = self.bus.axil
        self.driver = VectorDriver(dut, config, random.Random(seed + 1))
        self.scoreboard = Scoreboard(config, self.log)
        self.monitor = ResultMonitor(dut, self.scoreboard.compare)
        #: The macro's own hierarchy (FSM registers): inside the harness, if ``dut`` is one.
        self.rtl = getattr(dut, MACRO_INSTANCE) if has_harness(dut) else dut
        self.source, self.sink = self.driver.source, self.monitor.sink
        # Per-transfer INFO logs of the bus models cost more time than the simulation.
        for bfm in (self.source, self.sink):
            bfm.log.setLevel(logging.WARNING)
        #: The m_axis protocol checker: the sink itself (its :attr:`violations`).
        self.stream_checker = self.sink
        # Isolation: the pin model, the monitor and the checker start only once rst has
        # cleared what a previous (perhaps failed) test left in the DUT (see :meth:`reset`).
        dut.arr_cmp.value = 0
        self._monitors_started = False
        self.bus_errors_expected = False
        self.length_errors_expected = False
        self.flags_errors_expected = False
        #: Hooks (coverage, robustness tests). ``pass_listeners`` are called with every predicted
        #: pass ``(x_bits, accumulate, hold, result, prev_acc)``; ``finish_listeners`` by
        #: :meth:`finish` with ``(env, problems)`` and return further problems to report.
        self.pass_listeners: list = []
        self.finish_listeners: list = []
        #: Faults a robustness test injected (reported as survived when the test passes).
        self.faults_injected = 0

    # -- clocking and reset ---------------------------------------------------------------------
    async def cycles(self, n: int) -> None:
        await ClockCycles(self.dut.clk, n)

    async def reset(self, cycles: int = 4) -> None:
        """Hold ``rst`` for ``cycles`` clocks. Vectors not yet sent and predictions are dropped.

        Every test calls it first: the first call also starts the array pin model and the result
        monitor (which checks the protocol), on a DUT already in reset, so a test that failed
        mid-evaluation does not leave the next one a half-finished pass."""
        self.source.clear()
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        if not self._monitors_started:
            # First reset of this test: the DUT is now quiet, whatever the last test left.
            self._monitors_started = True
            self.array.start()
            self.monitor.start()
        self.dut.rst.value = 0
        self.scoreboard.flush()
        self.model.reset()
        self.bus_errors_expected = False
        self.length_errors_expected = False
        self.flags_errors_expected = False
        await RisingEdge(self.dut.clk)

    # -- registers ------------------------------------------------------------------------------
    def address(self, name: str) -> int:
        return self.bus.address(name)

    def field_value(self, reg: str, fld: str, word: int) -> int:
        return self.bus.field_value(reg, fld, word)

    @property
    def write_verify(self) -> bool:
        """Can this build verify its writes? (:attr:`MacroConfig.has_write_verify`)"""
        return self.config.has_write_verify

    async def write_offset(self, col: int, *, small: bool = False) -> None:
        """Move column ``col``'s pass values away from their reset (the model mirrors it):
        CAL_OFFSET<col> to a random legal value (``small``: within -8..7 as well), or with the
        coarse TDC, which has no CAL_OFFSET, one random entry of the column's code -> value
        table (LUT_ENTRY)."""
        c, rng = self.config, self.rng
        if self.regmap.array("CAL_OFFSET"):
            lo, hi = budgets.field_range(self.regmap[f"CAL_OFFSET{col}"].field("OFFSET"))
            if small:
                lo, hi = max(lo, -8), min(hi, 7)
            await self.write_reg(f"CAL_OFFSET{col}", rng.randint(lo, hi) & 0xFFFFFFFF)
        else:
            await self.write_reg("LUT_ENTRY", lut_entry_word(
                c, col, rng.randint(0, c.tdc_max_code), rng.randint(0, c.rows)))

    async def write_reg(self, name: str, value: int, *, expect: AxiResp = AxiResp.OKAY) -> None:
        """Write register ``name`` (a signed value is stored two's complement); the response
        must be ``expect`` (AssertionError otherwise). An accepted write is mirrored by the
        model; an expected rejection makes STATUS.BUS_ERROR expected."""
        try:
            resp = await self.bus.write(name, value, expect=expect)
        except BusResponseError as exc:
            raise AssertionError(str(exc)) from None
        if resp == AxiResp.OKAY:
            self.model.register_written(name, value & 0xFFFFFFFF)
        else:
            self.bus_errors_expected = True

    async def read_reg(self, name: str, *, expect: AxiResp = AxiResp.OKAY) -> int:
        """Read register ``name``; the response must be ``expect`` (AssertionError otherwise)."""
        try:
            return await self.bus.read(name, expect=expect)
        except BusResponseError as exc:
            raise AssertionError(str(exc)) from None

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
        # Long write pulses: poll a few times per pulse, not every few cycles (simulation speed).
        interval = min(1024, self.model.write_pulse_cycles // 8)
        try:
            await self.bus.wait_field(reg, fld, value, timeout_ns=max_cycles * T_CLK_NS,
                                      interval_ns=interval * T_CLK_NS if interval > 1 else 0.0)
        except BusResponseError as exc:
            raise AssertionError(str(exc)) from None
        except FieldTimeout as exc:
            raise AssertionError(
                f"{reg}.{fld} did not become {value} in {max_cycles} cycles ({exc.polls} polls; "
                f"WRITE_PULSE_CYCLES={self.model.write_pulse_cycles}, "
                f"WV_CTRL.MAX_RETRIES={self.model.wv_max_retries})") from None

    async def command(self, fld: str) -> None:
        await self.write_reg("CTRL", self.bus.word("CTRL", **{fld: 1}))

    # -- weights --------------------------------------------------------------------------------
    async def program_row(self, row: int, bits) -> None:
        """Program one row of weight bits (1 = +1) through WEIGHT_DATA and CTRL.WRITE_ROW."""
        c = self.config
        bits = np.asarray(bits, dtype=bool)
        if bits.shape != (c.cols,):
            raise ValueError(f"a weight row has {c.cols} bits, not shape {bits.shape}")
        for name, word in self.bus.weight_words(bits):
            await self.write_reg(name, word)
        await self.write_reg("WRITE_ROW_ADDR", self.bus.word("WRITE_ROW_ADDR", ROW=row))
        # The command is latched, so WEIGHT_DATA could be reloaded at once; the command itself
        # is rejected while the previous row is still being written.
        await self.wait_field("STATUS", "WRITE_BUSY", 0)
        await self.command("WRITE_ROW")
        self.model.row_written(row, bits)

    @property
    def switch_cycles(self) -> int:
        """The shortest WRITE_PULSE_CYCLES that switches an MTJ of the device (deterministic
        write model: ``t_switch_ns`` at the simulation clock)."""
        return int(np.ceil(self.device.t_switch_ns / T_CLK_NS))

    async def switching_pulse(self) -> None:
        """Make WRITE_PULSE_CYCLES at least :attr:`switch_cycles`: for programming without
        write-verify (off, or a build without it), where nothing retries a pulse too short to
        switch (a legal WRITE_PULSE_CYCLES may be as short as 1)."""
        if self.model.write_pulse_cycles < self.switch_cycles:
            await self.write_reg("WRITE_PULSE_CYCLES", self.switch_cycles)

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
        if not self.config.multibit:
            # A single-pass build has no flags (it drops a vector that carries one): the
            # flags a test draws become plain passes here; test_clear_vs_accumulate sends
            # flagged vectors to such a build on purpose.
            accumulate = hold = False
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

    async def send_vectors(self, xs) -> None:
        """Queue a clear, emitted pass of every row of ``xs[n, rows]``: what ``n`` calls of
        :meth:`send_vector` do, with the predictions made in one batch (faster), unless a pass
        listener or a dead column needs them one by one."""
        xs = np.asarray(xs, dtype=bool)
        if xs.ndim != 2 or xs.shape[1] != self.config.rows:
            raise ValueError(f"input vectors must have shape (n, {self.config.rows}), "
                             f"not {xs.shape}")
        if (self.pass_listeners or self.model.dead_columns
                or self.model.golden.track_interval):
            for x in xs:
                await self.send_vector(x)
            return
        first = self.model.passes
        for i, (x, result) in enumerate(zip(xs, self.model.vmm_clear_batch(xs), strict=True)):
            self.scoreboard.expect(Expected(index=first + i, x_bits=x, values=result.values,
                                            overflow=bool(result.overflow.any()),
                                            codes=result.codes))
            await self.driver.send(self.driver.frame(x, accumulate=False, hold=False))

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

    async def read_raw_codes(self, xs) -> np.ndarray:
        """TDC codes of input vectors ``xs`` (bits), read in MODE.RAW_CODES (left set: the
        caller writes MODE back), every result checked by the scoreboard on the way."""
        await self.write_reg("MODE", self.regmap["MODE"].field("RAW_CODES").mask)
        first = len(self.scoreboard.values)
        for x in xs:
            await self.send_vector(np.asarray(x).astype(bool))
        await self.drain()
        # raw codes are unsigned
        return np.array(self.scoreboard.values[first:]) & ((1 << self.config.result_width) - 1)

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
        self.scoreboard.settle()

    async def check_status(self) -> None:
        """Sticky STATUS flags and VMM_COUNT agree with the model (call when drained)."""
        status = await self.read_reg("STATUS")
        want = {"TDC_OVERFLOW": self.model.overflow_seen,
                "LENGTH_ERROR": self.length_errors_expected,
                "BUS_ERROR": self.bus_errors_expected,
                "WRITE_FAILED": self.model.wv_failed_cells > 0}
        if not self.config.multibit:
            want["FLAGS_ERROR"] = self.flags_errors_expected
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
