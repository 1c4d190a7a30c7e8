"""Functional coverage of the generated macro (cocotb-coverage), and the checkers it feeds.

The bins come from the design's own sources of truth, never from lists kept here: the FSMs are
read from the elaborated Amaranth design (:func:`~verif.cocotb.fsm_graphs.fsm_graphs`), the
registers and STATUS flags from the register map, the TDC range and beat counts from the
configuration. A new state, register or flag is therefore covered (and shows up as a hole until a
test reaches it) without editing this file.

Cover points (``mram.`` prefix in the cocotb-coverage database):

``fsm.<fsm>.state`` / ``.transition`` / ``.reset_in``
    every state of every FSM, every arc ``A -> B`` of its graph, and reset asserted in every
    state (sampled on state changes: a change that is neither an arc nor a reset is an
    *illegal transition*, reported by :meth:`MacroCoverage.problems`).
``tdc.code``
    the TDC code of every column of every pass, in bins across ``0..2**tdc_bits - 1``: code 0,
    equal ranges, the largest unsaturated code and the saturation code.
``tdc.saturation``
    a saturated column whose comparator works (the window closed first) and one whose
    comparator is dead (:meth:`~mram_macro.sim.testbench.env.MacroEnv.kill_comparators`).
``acc.mode`` / ``acc.chain`` / ``acc.wrap``
    clear or accumulate, emit or hold; passes summed into one emitted result; a sum that wrapped.
``axi.<channel>.stall``
    cycles ``valid`` waited for ``ready`` on every AXI4-Lite and AXI4-Stream channel.
``axis.<channel>.spacing``
    stream beats taken on consecutive cycles, or with idle cycles between them.
``regs.read`` / ``regs.write``
    every register of the map read (OKAY) and written (any answer).
``regs.error``
    every documented rejection: DECERR for unmapped reads and writes, SLVERR for read-only
    registers, partial strobes, reserved bits, out-of-range values, and each ``cmd`` field
    written while its unit is busy.
``status.<FIELD>``
    every sticky (``w1c``) STATUS flag seen set, and seen cleared by writing 1.
``stream.length``
    input vectors with ``tlast`` on time, early and late.
``reset.during``
    reset asserted in the middle of an input vector, of a result, of an AXI4-Lite write and
    read.

Bins that the configuration makes unreachable are not defined; they are listed, with the
reason, under ``excluded`` in the export, and the report prints them.

Coverage is collected only when :data:`COVERAGE_ENV` names an output file (the regression and
``make coverage`` set it): :meth:`MacroEnv.__init__ <verif.cocotb.env.MacroEnv>` then calls
:func:`attach`. The monitors also check: AXI4-Lite answers against the register map
(:meth:`~mram_macro.design.regmap.Register.check_write`), and FSM arcs against the graph. Their
findings fail the test through
:meth:`MacroEnv.finish <mram_macro.sim.testbench.env.MacroEnv.finish>`.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import FallingEdge, RisingEdge, ValueChange
from cocotb_coverage.coverage import CoverPoint, coverage_db

from mram_macro.design.config import MacroConfig
from mram_macro.design.regmap import AXIL_ADDR_WIDTH, RegisterMap
from mram_macro.sim.netlist import rtl_register
from verif.cocotb.fsm_graphs import FsmGraph, fsm_graphs

__all__ = ["COVERAGE_ENV", "MacroCoverage", "attach", "PREFIX", "AXI_CHANNELS", "STALL_BINS",
           "tdc_code_bins"]

#: Environment variable naming the JSON file a simulation writes its coverage to.
COVERAGE_ENV = "MRAM_COVERAGE"
#: Root of this model in cocotb-coverage's database.
PREFIX = "mram"

#: (channel, valid, ready, payload signals) of every AXI channel, by top-level port name.
AXI_CHANNELS = {
    "aw": ("s_axil_awvalid", "s_axil_awready", ("s_axil_awaddr",)),
    "w": ("s_axil_wvalid", "s_axil_wready", ("s_axil_wdata", "s_axil_wstrb")),
    "b": ("s_axil_bvalid", "s_axil_bready", ("s_axil_bresp",)),
    "ar": ("s_axil_arvalid", "s_axil_arready", ("s_axil_araddr",)),
    "r": ("s_axil_rvalid", "s_axil_rready", ("s_axil_rresp", "s_axil_rdata")),
    "s_axis": ("s_axis_tvalid", "s_axis_tready", ("s_axis_tlast",)),
    "m_axis": ("m_axis_tvalid", "m_axis_tready", ("m_axis_tlast",)),
}
#: Bins of ``axi.<channel>.stall``: (label, least, most) cycles with valid high and ready low.
STALL_BINS = (("0", 0, 0), ("1", 1, 1), ("2-3", 2, 3), ("4+", 4, None))

_RESP = {0: "OKAY", 1: "EXOKAY", 2: "SLVERR", 3: "DECERR"}
_FULL_STRB = 0xF
_MAX_LOGGED = 10


# -- bins -----------------------------------------------------------------------------------------
def tdc_code_bins(config: MacroConfig, start_delay_reset: int) -> tuple[list, dict[str, str]]:
    """``[(label, lo, hi)]`` bins of ``tdc.code`` and the excluded ones ``{label: reason}``.

    In ideal mode a column with k mismatching cells trips ``D0 + k + 1`` edges after evaluation
    starts (D0 = the reset TDC_START_DELAY), so with TDC_START_DELAY = 0 its code is
    ``D0 + k``: no live comparator gives an unsaturated code above ``D0 + rows``. With a
    two-step TDC of K phases the start delay counts K codes per cycle: ``D0 K + rows``.
    """
    top = config.tdc_max_code
    reach = start_delay_reset * config.fine_taps + config.rows
    bins = [("0", 0, 0)]
    inner_lo, inner_hi = 1, top - 2
    if inner_hi >= inner_lo:
        n = min(8, inner_hi - inner_lo + 1)
        edges = np.linspace(inner_lo, inner_hi + 1, n + 1).round().astype(int)
        for a, b in itertools.pairwise(edges):
            bins.append((f"{a}" if a == b - 1 else f"{a}-{b - 1}", int(a), int(b - 1)))
    bins.append((f"{top - 1} (largest)", top - 1, top - 1))
    bins.append((f"{top} (saturated)", top, top))
    kept, excluded = [], {}
    for label, lo, hi in bins:
        if lo > reach and hi < top:
            excluded[label] = (f"unreachable: the slowest live column trips at code "
                               f"D0+rows = {reach} with TDC_START_DELAY = 0 (D0 = "
                               f"{start_delay_reset}); the TDC has more codes than the "
                               f"array can produce")
        else:
            kept.append((label, lo, hi))
    return kept, excluded


def _label_of(value: int, bins) -> str | None:
    for label, lo, hi in bins:
        if lo <= value and (hi is None or value <= hi):
            return label
    return None


@dataclass
class _Point:
    """One cocotb-coverage :class:`CoverPoint` with labelled bins, sampled by label."""

    name: str
    labels: list[str]
    excluded: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self._known = set(self.labels)
        cover = CoverPoint(f"{PREFIX}.{self.name}", xf=lambda label: label, bins=self.labels)
        self._sample = cover(lambda label: None)

    def sample(self, label: str) -> None:
        if label in self._known:
            self._sample(label)
        elif label not in self.excluded:
            raise KeyError(f"coverage point {self.name} has no bin {label!r}")

    @property
    def hits(self) -> dict[str, int]:
        return dict(coverage_db[f"{PREFIX}.{self.name}"].detailed_coverage)


class MacroCoverage:
    """The coverage model of one configuration (one per simulation process) and its monitors.

    :meth:`bind` starts the monitors on a new :class:`~verif.cocotb.env.MacroEnv` (one per
    cocotb test); the bins and their hits persist across the tests of the process.
    """

    def __init__(self, config: MacroConfig, regmap: RegisterMap, *, output: Path):
        self.config = config
        self.regmap = regmap
        self.output = Path(output)
        self.log = logging.getLogger("cocotb.coverage")
        self.points: dict[str, _Point] = {}
        self.violations: list[str] = []
        self._reported = 0
        self.stats = {"results_checked": 0, "mismatches": 0, "faults_survived": 0,
                      "tests_finished": 0, "passes": 0}
        self.fsms = fsm_graphs(config)
        self._define()

    # -- the model ------------------------------------------------------------------------------
    def _point(self, name: str, labels, excluded: dict[str, str] | None = None) -> _Point:
        point = _Point(name, list(labels), dict(excluded or {}))
        self.points[name] = point
        return point

    def _define(self) -> None:
        c, rm = self.config, self.regmap
        for g in self.fsms:
            states = list(g.encoding)
            self._point(f"fsm.{g.name}.state", states)
            self._point(f"fsm.{g.name}.transition",
                        sorted(f"{a} -> {b}" for a, b in g.transitions))
            self._point(f"fsm.{g.name}.reset_in", states)

        d0 = rm["TDC_START_DELAY"].field("CYCLES").reset
        self.code_bins, code_excluded = tdc_code_bins(c, d0)
        self._point("tdc.code", [b[0] for b in self.code_bins], code_excluded)
        sat_excluded = {}
        if d0 * c.fine_taps + c.rows <= c.tdc_max_code:
            sat_excluded["window closed"] = (
                f"unreachable: the slowest live column trips at code D0*K+rows = "
                f"{d0 * c.fine_taps + c.rows} (K = {c.fine_taps} codes per cycle) "
                f"with TDC_START_DELAY = 0, inside the window (codes up to {c.tdc_max_code})")
        self._point("tdc.saturation", [x for x in ("window closed", "dead comparator")
                                       if x not in sat_excluded], sat_excluded)

        self._point("acc.mode", ["clear+emit", "clear+hold", "accumulate+emit",
                                 "accumulate+hold"])
        self.chain_bins = (("1", 1, 1), ("2", 2, 2), ("3-7", 3, 7), ("8+", 8, None))
        self._point("acc.chain", [b[0] for b in self.chain_bins])
        self._point("acc.wrap", ["in range", "wrapped"])

        for ch in AXI_CHANNELS:
            self._point(f"axi.{ch}.stall", [b[0] for b in STALL_BINS])
        for ch, beats in (("s_axis", c.in_beats), ("m_axis", c.out_beats)):
            excluded = {}
            if beats == 1:
                excluded["back-to-back"] = (
                    f"one-beat {'vectors' if ch == 's_axis' else 'results'}: "
                    + ("the input buffer is full after each beat, so tready is low the next "
                       "cycle" if ch == "s_axis" else
                       "a one-beat result needs a new capture, at least one evaluation away"))
            self._point(f"axis.{ch}.spacing",
                        [x for x in ("back-to-back", "idle between") if x not in excluded],
                        excluded)

        names = [r.name for r in rm.registers]
        self._point("regs.read", names)
        self._point("regs.write", names)
        errors = ["read unmapped -> DECERR", "write unmapped -> DECERR",
                  "write read-only -> SLVERR", "write partial strobe -> SLVERR"]
        if any(self._reserved_mask(r) for r in rm.registers):
            errors.append("write reserved bits -> SLVERR")
        if any(self._has_range(r) for r in rm.registers):
            errors.append("write out of range -> SLVERR")
        errors += [f"{r.name}.{f.name} while busy -> SLVERR"
                   for r in rm.registers for f in r.fields if f.kind == "cmd"]
        self._point("regs.error", errors)
        status = rm["STATUS"]
        for f in status.fields:
            if f.kind == "w1c":
                self._point(f"status.{f.name}", ["set", "cleared by W1C"])

        length_excluded = {}
        if c.in_beats == 1:
            length_excluded["tlast early"] = ("one-beat vectors: the first beat is the last, "
                                              "so tlast cannot come early")
        self._point("stream.length", [x for x in ("tlast on time", "tlast early", "tlast late")
                                      if x not in length_excluded], length_excluded)
        during_excluded = {}
        if c.in_beats == 1:
            during_excluded["s_axis mid-vector"] = "one-beat vectors have no middle"
        if c.out_beats == 1:
            during_excluded["m_axis mid-result"] = "one-beat results have no middle"
        self._point("reset.during", [x for x in ("s_axis mid-vector", "m_axis mid-result",
                                                 "AXI4-Lite write", "AXI4-Lite read")
                                     if x not in during_excluded], during_excluded)

    @staticmethod
    def _reserved_mask(reg) -> int:
        if reg.read_only or not any(f.kind == "rw" for f in reg.fields):
            return 0
        if any(f.signed for f in reg.fields):
            return 0   # signed fields are sign-extended: every bit above is the sign
        used = 0
        for f in reg.fields:
            used |= f.mask
        return ~used & 0xFFFFFFFF

    @staticmethod
    def _has_range(reg) -> bool:
        for f in reg.fields:
            if f.kind != "rw":
                continue
            if f.signed and f.width < 32:
                return True
            if f.min_value > 0 or (f.max_value is not None and f.max_value < (1 << f.width) - 1):
                return True
        return False

    def sample(self, name: str, label: str) -> None:
        self.points[name].sample(label)

    def violate(self, text: str) -> None:
        message = f"t={get_sim_time('ns'):.1f} ns: {text}"
        if len(self.violations) < _MAX_LOGGED:
            self.log.error("checker: %s", message)
        self.violations.append(message)

    # -- hooks called by MacroEnv -------------------------------------------------------------
    def bind(self, env) -> None:
        """Start the monitors on ``env`` (a new test) and register the env hooks."""
        self._monitors = _Monitors(self, env)
        self._monitors.start()
        env.pass_listeners.append(self.on_pass)
        env.finish_listeners.append(self.on_finish)
        self._chain = 0
        self._seen = {"matches": 0, "mismatches": 0, "faults": 0}
        self._dead_columns = lambda: getattr(env.model, "dead_columns", frozenset())
        self.export()

    def on_pass(self, x_bits, accumulate: bool, hold: bool, result, prev_acc) -> None:
        """A pass predicted by the model (sampled at prediction; a failing run is not merged)."""
        self.stats["passes"] += 1
        self.sample("acc.mode", f"{'accumulate' if accumulate else 'clear'}+"
                                f"{'hold' if hold else 'emit'}")
        self._chain = self._chain + 1 if accumulate else 1
        if not hold:
            self.sample("acc.chain", _label_of(self._chain, self.chain_bins))
        codes = np.asarray(result.codes)
        for code in np.unique(codes):
            label = _label_of(int(code), self.code_bins)
            if label is not None:
                self.sample("tdc.code", label)
        dead = self._dead_columns()
        sat = np.flatnonzero(np.asarray(result.overflow))
        if any(int(k) in dead for k in sat):
            self.sample("tdc.saturation", "dead comparator")
        if any(int(k) not in dead for k in sat):
            self.sample("tdc.saturation", "window closed")
        golden = self._monitors.env.model.golden
        if prev_acc is not None and not golden.raw_codes:
            # The pass's results as the golden model computes them (CAL_OFFSET and gains, or the
            # coarse TDC's code -> value table), added without the accumulator's wrap.
            unwrapped = (np.asarray(prev_acc, dtype=np.int64) if accumulate else 0) \
                + golden.results_from_codes(codes)
            wrapped = not np.array_equal(unwrapped, np.asarray(result.values, dtype=np.int64))
            self.sample("acc.wrap", "wrapped" if wrapped else "in range")

    def on_finish(self, env, problems: list[str]) -> list[str]:
        """Account for a finished test; return the checkers' findings (they fail the test)."""
        sb, seen = env.scoreboard, self._seen
        mine = self.violations[self._reported:]
        self._reported = len(self.violations)
        now = {"matches": sb.matches, "mismatches": len(sb.mismatches),
               "faults": getattr(env, "faults_injected", 0)}
        self.stats["tests_finished"] += 1
        self.stats["results_checked"] += now["matches"] - seen["matches"]
        self.stats["mismatches"] += now["mismatches"] - seen["mismatches"]
        if not problems and not mine:
            self.stats["faults_survived"] += now["faults"] - seen["faults"]
        self._seen = now
        self.export()
        if not mine:
            return []
        return [f"{len(mine)} coverage-monitor check(s) failed; first: {mine[0]}"]

    # -- export ---------------------------------------------------------------------------------
    def export(self) -> None:
        """Write the cumulative coverage of this process to :attr:`output` (JSON)."""
        doc = {
            "config": self.config.to_dict(), "slug": self.config.slug,
            "sim": getattr(cocotb, "SIM_NAME", "?"),
            "seed": int(os.environ.get("MRAM_SEED", "0")),
            "stats": self.stats, "violations": self.violations[:50],
            "points": {name: {"bins": p.hits, "excluded": p.excluded}
                       for name, p in self.points.items()},
        }
        tmp = self.output.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(self.output)


# -- monitors -------------------------------------------------------------------------------------
class _Monitors:
    """Pin-level samplers of one test: FSM states, AXI channels, AXI4-Lite transactions, reset."""

    def __init__(self, cov: MacroCoverage, env):
        self.cov = cov
        self.env = env
        self.dut = env.dut
        #: Where the FSM state registers are: the macro (inside the harness, if any).
        self.rtl = env.rtl
        self.clk, self.rst = env.dut.clk, env.dut.rst
        self.t_clk_ns = env.model.readout.t_clk_ns
        self.tasks = []
        # reset bookkeeping: times (ns) of the last rise and fall of rst
        self.rst_rise = None
        self.rst_fall = None
        # AXI4-Lite transactions in flight
        self.aw = deque()
        self.w = deque()
        self.ar = deque()
        self.last_status = 0
        # stream frames in flight (beats so far)
        self.in_beats = 0
        self.out_beats = 0

    def start(self) -> None:
        for g in self.cov.fsms:
            try:
                handle = rtl_register(self.rtl, g.register)
            except AttributeError:
                self.cov.violate(f"FSM state register {'.'.join(g.register)} is not reachable "
                                 f"from the testbench")
                continue
            self.tasks.append(cocotb.start_soon(self._fsm(g, handle)))
        for ch, (valid, ready, payload) in AXI_CHANNELS.items():
            self.tasks.append(cocotb.start_soon(self._channel(
                ch, getattr(self.dut, valid), getattr(self.dut, ready),
                [getattr(self.dut, p) for p in payload])))
        self.tasks.append(cocotb.start_soon(self._reset()))

    def _reset_at(self, t_ns: float) -> bool:
        """Was rst high at the clock edge at ``t_ns`` (rst moves only between edges)?"""
        if self.rst_rise is None or self.rst_rise >= t_ns:
            return False
        return self.rst_fall is None or self.rst_fall < self.rst_rise or self.rst_fall >= t_ns

    # -- FSMs ------------------------------------------------------------------------------------
    async def _fsm(self, g: FsmGraph, handle) -> None:
        cov = self.cov
        prev = None
        if handle.value.is_resolvable:
            prev = g.state_of(int(handle.value))
            cov.sample(f"fsm.{g.name}.state", prev)
        while True:
            await ValueChange(handle)
            if not handle.value.is_resolvable:
                cov.violate(f"FSM {g.name}: state register is {handle.value}")
                prev = None
                continue
            code = int(handle.value)
            try:
                state = g.state_of(code)
            except KeyError:
                cov.violate(f"FSM {g.name}: illegal state encoding {code}")
                prev = None
                continue
            cov.sample(f"fsm.{g.name}.state", state)
            if prev is not None and not self._reset_at(get_sim_time("ns")):
                if (prev, state) in g.transitions:
                    cov.sample(f"fsm.{g.name}.transition", f"{prev} -> {state}")
                else:
                    cov.violate(f"FSM {g.name}: illegal transition {prev} -> {state}")
            prev = state

    async def _reset(self) -> None:
        cov = self.cov
        while True:
            if str(self.rst.value) != "1":
                await RisingEdge(self.rst)
            self.rst_rise = get_sim_time("ns")
            # What is in flight when reset is asserted.
            if self.in_beats:
                cov.sample("reset.during", "s_axis mid-vector")
            if self.out_beats:
                cov.sample("reset.during", "m_axis mid-result")
            if self.aw or self.w or str(self.dut.s_axil_bvalid.value) == "1" \
                    or str(self.dut.s_axil_awvalid.value) == "1":
                cov.sample("reset.during", "AXI4-Lite write")
            if self.ar or str(self.dut.s_axil_rvalid.value) == "1" \
                    or str(self.dut.s_axil_arvalid.value) == "1":
                cov.sample("reset.during", "AXI4-Lite read")
            # The first edge that samples rst high: the states read there are the ones reset.
            await RisingEdge(self.clk)
            for g in cov.fsms:
                handle = rtl_register(self.rtl, g.register)
                if handle.value.is_resolvable:
                    cov.sample(f"fsm.{g.name}.reset_in", g.state_of(int(handle.value)))
            self.aw.clear()
            self.w.clear()
            self.ar.clear()
            self.in_beats = self.out_beats = 0
            cov._chain = 0          # the accumulator is cleared
            if str(self.rst.value) == "1":
                await FallingEdge(self.rst)
            self.rst_fall = get_sim_time("ns")

    # -- AXI channels ----------------------------------------------------------------------------
    async def _channel(self, ch: str, valid, ready, payload) -> None:
        edge = RisingEdge(self.clk)
        stall = 0
        last_beat = None        # clock-edge index of the previous handshake
        point = f"axi.{ch}.stall"
        await edge              # (outputs may be X at time 0)
        while True:
            if stall == 0 and str(valid.value) != "1":
                await RisingEdge(valid)
            await edge
            if str(self.rst.value) != "0":
                stall, last_beat = 0, None
                continue
            if str(valid.value) != "1":
                stall = 0
                continue
            if str(ready.value) != "1":
                stall += 1
                continue
            self.cov.sample(point, _label_of(stall, STALL_BINS))
            stall = 0
            now = round(get_sim_time("ns") / self.t_clk_ns)
            if ch in ("s_axis", "m_axis"):
                if last_beat is not None:
                    self.cov.sample(f"axis.{ch}.spacing",
                                    "back-to-back" if now - last_beat == 1 else "idle between")
                self._stream_beat(ch, int(payload[0].value))
            else:
                self._axil_beat(ch, [int(p.value) for p in payload])
            last_beat = now

    def _stream_beat(self, ch: str, last: int) -> None:
        c = self.cov.config
        if ch == "m_axis":
            self.out_beats = 0 if last else self.out_beats + 1
            return
        self.in_beats += 1
        if last:
            n, self.in_beats = self.in_beats, 0
            self.cov.sample("stream.length", "tlast on time" if n == c.in_beats else
                            "tlast early" if n < c.in_beats else "tlast late")

    # -- AXI4-Lite transactions and the register-map checker ------------------------------------
    def _axil_beat(self, ch: str, values: list[int]) -> None:
        if ch == "aw":
            self.aw.append(values[0])
        elif ch == "w":
            self.w.append((values[0], values[1]))
        elif ch == "ar":
            self.ar.append(values[0])
        elif ch == "b":
            if not self.aw or not self.w:
                self.cov.violate("AXI4-Lite: a write response without address and data")
                return
            addr = self.aw.popleft()
            data, strb = self.w.popleft()
            self._write_done(addr, data, strb, values[0])
        elif ch == "r":
            if not self.ar:
                self.cov.violate("AXI4-Lite: a read response without an address")
                return
            self._read_done(self.ar.popleft(), values[0], values[1])

    def _read_done(self, addr: int, resp: int, data: int) -> None:
        cov = self.cov
        reg = cov.regmap.by_offset(addr & ~3 & ((1 << AXIL_ADDR_WIDTH) - 1))
        want = "OKAY" if reg is not None else "DECERR"
        got = _RESP.get(resp, str(resp))
        if got != want:
            cov.violate(f"AXI4-Lite read of 0x{addr:03X} "
                        f"({reg.name if reg else 'unmapped'}) answered {got}, expected {want}")
            return
        if reg is None:
            cov.sample("regs.error", "read unmapped -> DECERR")
            return
        cov.sample("regs.read", reg.name)
        if reg.name == "STATUS":
            self.last_status = data
            for f in reg.fields:
                if f.kind == "w1c" and data & f.mask:
                    cov.sample(f"status.{f.name}", "set")

    def _write_done(self, addr: int, data: int, strb: int, resp: int) -> None:
        cov = self.cov
        reg = cov.regmap.by_offset(addr & ~3 & ((1 << AXIL_ADDR_WIDTH) - 1))
        got = _RESP.get(resp, str(resp))
        if reg is None:
            kind = "write unmapped -> DECERR"
            allowed = {"DECERR"}
        else:
            cov.sample("regs.write", reg.name)
            why = reg.check_write(data)
            cmd = [f for f in reg.fields if f.kind == "cmd" and data & f.mask]
            if strb != _FULL_STRB:
                kind, allowed = "write partial strobe -> SLVERR", {"SLVERR"}
            elif why is not None:
                if reg.read_only:
                    kind = "write read-only -> SLVERR"
                elif data & MacroCoverage._reserved_mask(reg):
                    kind = "write reserved bits -> SLVERR"
                else:
                    kind = "write out of range -> SLVERR"
                allowed = {"SLVERR"}
            elif cmd:
                # Rejected only if the command's unit is busy, which the bus cannot see.
                kind = f"{reg.name}.{cmd[0].name} while busy -> SLVERR"
                allowed = {"OKAY", "SLVERR"}
            else:
                kind, allowed = None, {"OKAY"}
            if reg.name == "STATUS" and got == "OKAY":
                for f in reg.fields:
                    if f.kind == "w1c" and data & f.mask and self.last_status & f.mask:
                        cov.sample(f"status.{f.name}", "cleared by W1C")
                        self.last_status &= ~f.mask
        if got not in allowed:
            cov.violate(f"AXI4-Lite write of 0x{data:08X} (wstrb 0x{strb:X}) to 0x{addr:03X} "
                        f"({reg.name if reg else 'unmapped'}) answered {got}, expected "
                        f"{' or '.join(sorted(allowed))}")
        elif kind is not None and got != "OKAY":
            cov.sample("regs.error", kind)


# -- entry point ----------------------------------------------------------------------------------
_MODEL: MacroCoverage | None = None


def attach(env) -> MacroCoverage | None:
    """Bind the process's coverage model to ``env`` (creating it on first use).

    Does nothing (returns ``None``) unless :data:`COVERAGE_ENV` names an output file.
    """
    global _MODEL
    path = os.environ.get(COVERAGE_ENV)
    if not path:
        return None
    if _MODEL is None or _MODEL.config != env.config:
        _MODEL = MacroCoverage(env.config, env.regmap, output=Path(path))
    _MODEL.bind(env)
    return _MODEL
