"""Timing diagrams of the macro's pins, recorded from the RTL itself.

:func:`record_scenarios` simulates :class:`~mram_macro.rtl.top.MramMacro` in the Amaranth simulator
against the behavioural array (:class:`sim_models.array.MramArray`, driven through the same pin
contract as the cocotb pin model) and records, after every rising clock edge, the pins of three
scenarios: a VMM, a row write with write-verify, and stream framing. :func:`to_wavedrom` turns a
recording into a WaveDrom description, compressing long stretches where nothing changes into a
gap. The datasheet (``mram_macro/docs/generate.py``) renders those to SVG, so the diagrams are
whatever the RTL does, not a drawing of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from amaranth.sim import Simulator

from mram_macro.design.config import FULL_FEATURES, MacroConfig
from mram_macro.design.layouts import input_flags
from mram_macro.design.regmap import RegisterMap
from mram_macro.rtl.top import MramMacro
from sim_models.array import MramArray
from sim_models.readout import T_CLK_NS

__all__ = ["DIAGRAM_CONFIG", "Recording", "record_scenarios", "to_wavedrom"]

#: A small macro whose diagrams fit a page: 12 rows (two 8-bit input beats), 4 columns (four
#: 8-bit result beats). The pin timing is the same for every configuration, up to the lengths
#: (precharge, start delay, trip times) that the datasheet states for the default one.
DIAGRAM_CONFIG = MacroConfig(rows=12, cols=4, tdc_bits=4, result_width=8, stream_width=8,
                             **FULL_FEATURES)

#: The simulation clock the readout is designed for (the diagrams' cycles).
_PERIOD_S = T_CLK_NS * 1e-9


@dataclass
class Recording:
    """Values of named signals after each rising clock edge; ``marks`` name cycles."""

    title: str
    names: list[str]
    rows: list[dict[str, int]] = field(default_factory=list)
    marks: dict[int, str] = field(default_factory=dict)
    #: Signals shown as buses (hex values) rather than single wires.
    buses: set[str] = field(default_factory=set)


class _AxiLite:
    """Just enough of an AXI4-Lite master for register writes (both channels at once)."""

    def __init__(self, dut, regmap: RegisterMap):
        self.dut, self.regmap = dut, regmap

    async def write(self, ctx, step, register: str, value: int) -> None:
        d = self.dut
        ctx.set(d.s_axil_awaddr, self.regmap[register].offset)
        ctx.set(d.s_axil_wdata, value)
        ctx.set(d.s_axil_wstrb, 0xF)
        ctx.set(d.s_axil_awvalid, 1)
        ctx.set(d.s_axil_wvalid, 1)
        ctx.set(d.s_axil_bready, 1)
        aw = w = False
        while not (aw and w):
            aw |= bool(ctx.get(d.s_axil_awready) and ctx.get(d.s_axil_awvalid))
            w |= bool(ctx.get(d.s_axil_wready) and ctx.get(d.s_axil_wvalid))
            await step()
            if aw:
                ctx.set(d.s_axil_awvalid, 0)
            if w:
                ctx.set(d.s_axil_wvalid, 0)
        while not ctx.get(d.s_axil_bvalid):
            await step()
        resp = ctx.get(d.s_axil_bresp)
        await step()
        ctx.set(d.s_axil_bready, 0)
        if resp != 0:
            raise RuntimeError(f"write of {value:#x} to {register} answered {resp}")


def _bits(value: int, n: int) -> np.ndarray:
    return np.array([(value >> i) & 1 for i in range(n)], dtype=bool)


def record_scenarios(config: MacroConfig = DIAGRAM_CONFIG, *, seed: int = 1) -> list[Recording]:
    """Simulate the macro and record the three scenarios (VMM, row write, stream framing)."""
    # The Amaranth simulator cannot run the clock gates' Verilog latch; the ungated reference
    # behaves identically, cycle for cycle (mram_macro/rtl/periphery/clock_gate.py).
    dut = MramMacro(config, clock_gating=False)
    rows, cols = config.rows, config.cols
    array = MramArray(rows, cols, seed=seed)
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 2, size=(rows, cols)).astype(bool)
    array.load_weights(weights)
    readout = dut.readout
    bus = _AxiLite(dut, dut.regmap)

    taps = config.fine_taps
    fine_pins = ["arr_fine"] if taps > 1 else []
    array_pins = ["arr_bypass_l", "arr_bypass_r", "arr_pre", "arr_eval", "arr_cmp", *fine_pins]
    vmm = Recording("VMM: one input vector in, one result vector out",
                    ["s_axis_tvalid", "s_axis_tready", "s_axis_tlast", *array_pins,
                     "m_axis_tvalid", "m_axis_tready", "m_axis_tlast", "m_axis_tdata"],
                    buses={"arr_bypass_l", "arr_bypass_r", "arr_cmp", "m_axis_tdata",
                           *fine_pins})
    write = Recording("Row write with write-verify (left MTJs, then right MTJs)",
                      ["arr_wr_row", "arr_wr_side", "arr_wr_data", "arr_wr_pulse",
                       *array_pins],
                      buses={"arr_wr_row", "arr_wr_data", "arr_bypass_l", "arr_bypass_r",
                             "arr_cmp", *fine_pins})
    stream = Recording("Stream framing: two vectors (the first held), back-pressure on m_axis",
                       ["s_axis_tvalid", "s_axis_tready", "s_axis_tdata", "s_axis_tlast",
                        "s_axis_tuser", "arr_eval", "m_axis_tvalid", "m_axis_tready",
                        "m_axis_tdata", "m_axis_tlast", "m_axis_tuser"],
                       buses={"s_axis_tdata", "s_axis_tuser", "m_axis_tdata"})
    state = {"rec": None, "cycle": 0}
    pulse = {"cycles": 0}
    cmp_state = {"edge": None, "m": None, "value": 0, "therm": None, "fine": 0}

    async def testbench(ctx):
        async def step():
            """One clock edge: record, then play the array's part for the next cycle."""
            await ctx.tick()
            state["cycle"] += 1
            # The array: comparators fall during precharge; after the edge E that raised
            # arr_eval, column c is seen high from edge E + m[c] on (m from the readout model).
            # With a two-step TDC the interpolator freezes each column's thermometer at that
            # edge and holds it on arr_fine until the next precharge (sim_models/interpolator).
            if ctx.get(dut.arr_pre):
                cmp_state.update(edge=None, value=0, fine=0)
            elif ctx.get(dut.arr_eval):
                if cmp_state["edge"] is None:
                    bl = _bits(ctx.get(dut.arr_bypass_l), rows)
                    br = _bits(ctx.get(dut.arr_bypass_r), rows)
                    if taps > 1:
                        cmp_state["m"], cmp_state["therm"] = array.evaluate_fine_trips(
                            bl, br, readout)
                    else:
                        cmp_state["m"] = array.evaluate_trip_cycles(bl, br, readout)
                    cmp_state["edge"] = 0
                j = cmp_state["edge"]
                for c in range(cols):
                    if cmp_state["m"][c] - 1 == j:
                        cmp_state["value"] |= 1 << c
                        if taps > 1:
                            word = sum(int(b) << k for k, b in enumerate(cmp_state["therm"][c]))
                            cmp_state["fine"] |= word << (c * (taps - 1))
                cmp_state["edge"] = j + 1
            ctx.set(dut.arr_cmp, cmp_state["value"])
            if taps > 1:
                ctx.set(dut.arr_fine, cmp_state["fine"])
            # Write pulses: apply to the array when the pulse ends.
            if ctx.get(dut.arr_wr_pulse):
                pulse["cycles"] += 1
            elif pulse["cycles"]:
                array.write(_bits(ctx.get(dut.arr_wr_row), rows), ctx.get(dut.arr_wr_side),
                            _bits(ctx.get(dut.arr_wr_data), cols),
                            pulse["cycles"] * _PERIOD_S * 1e9)
                pulse["cycles"] = 0
            rec = state["rec"]
            if rec is not None:
                rec.rows.append({n: int(ctx.get(getattr(dut, n))) for n in rec.names})

        async def idle_until(cond, limit=2000):
            for _ in range(limit):
                if cond():
                    return
                await step()
            raise RuntimeError("the macro did not reach the expected state")

        def mark(text, *, now=False):
            """Name the next cycle, or with ``now`` the one just recorded (a condition seen)."""
            rec = state["rec"]
            rec.marks[len(rec.rows) - 1 if now else len(rec.rows)] = text

        async def send_vector(x_bits, flags=0):
            beats = _pack(x_bits, config)
            for i, beat in enumerate(beats):
                ctx.set(dut.s_axis_tdata, beat)
                ctx.set(dut.s_axis_tlast, int(i == len(beats) - 1))
                ctx.set(dut.s_axis_tuser, flags)
                ctx.set(dut.s_axis_tvalid, 1)
                while True:
                    ready = ctx.get(dut.s_axis_tready)
                    await step()
                    if ready:
                        break
            ctx.set(dut.s_axis_tvalid, 0)
            ctx.set(dut.s_axis_tlast, 0)
            ctx.set(dut.s_axis_tdata, 0)
            ctx.set(dut.s_axis_tuser, 0)

        ctx.set(dut.m_axis_tready, 1)
        for _ in range(3):
            await step()

        # -- VMM -----------------------------------------------------------------------------
        state["rec"] = vmm
        await step()
        mark("vector in")
        await send_vector(rng.integers(0, 2, size=rows))
        await idle_until(lambda: ctx.get(dut.arr_eval))
        mark("evaluate", now=True)
        await idle_until(lambda: ctx.get(dut.m_axis_tvalid))
        mark("result out", now=True)
        await idle_until(lambda: not ctx.get(dut.m_axis_tvalid))
        await step()
        state["rec"] = None

        # -- row write with write-verify ------------------------------------------------------
        row = 5
        for i in range(config.weight_words):
            await bus.write(ctx, step, f"WEIGHT_DATA{i}", int(rng.integers(0, 1 << cols)))
        await bus.write(ctx, step, "WRITE_ROW_ADDR", row)
        state["rec"] = write
        # The phase names the whole register write (its bus cycles too), so the label fits.
        mark("CTRL write")
        await step()
        await bus.write(ctx, step, "CTRL", 1)
        await idle_until(lambda: ctx.get(dut.arr_wr_pulse))
        mark("pulse W", now=True)
        await idle_until(lambda: ctx.get(dut.arr_eval))
        mark("verify read", now=True)
        await idle_until(lambda: ctx.get(dut.arr_wr_side))
        await idle_until(lambda: ctx.get(dut.arr_wr_pulse))
        mark("pulse W-bar", now=True)
        await idle_until(lambda: ctx.get(dut.arr_eval))
        mark("verify read", now=True)
        await idle_until(lambda: not ctx.get(dut.arr_eval))
        for _ in range(3):
            await step()
        state["rec"] = None

        # -- stream framing ---------------------------------------------------------------------
        state["rec"] = stream
        ctx.set(dut.m_axis_tready, 0)
        await step()
        mark("hold")
        await send_vector(rng.integers(0, 2, size=rows), input_flags(hold=True))
        mark("accumulate")
        await send_vector(rng.integers(0, 2, size=rows), input_flags(accumulate=True))
        await idle_until(lambda: ctx.get(dut.m_axis_tvalid))
        mark("result, back-pressure", now=True)
        for _ in range(2):
            await step()
        ctx.set(dut.m_axis_tready, 1)
        for _ in range(2):
            await step()
        ctx.set(dut.m_axis_tready, 0)
        await step()
        ctx.set(dut.m_axis_tready, 1)
        await idle_until(lambda: not ctx.get(dut.m_axis_tvalid))
        await step()
        state["rec"] = None

    sim = Simulator(dut)
    sim.add_clock(_PERIOD_S)
    sim.add_testbench(testbench)
    sim.run()
    return [vmm, write, stream]


def _pack(x_bits, config: MacroConfig) -> list[int]:
    from mram_macro.design.layouts import pack_input_vector

    return pack_input_vector(np.asarray(x_bits, dtype=np.uint8), config)


def to_wavedrom(rec: Recording, *, max_still: int = 4) -> dict:
    """WaveDrom JSON of a recording. Stretches of more than ``max_still`` cycles in which no
    shown signal changes are cut to two cycles around a gap (``|``)."""
    n = len(rec.rows)
    keep: list[bool] = [True] * n
    still = 0
    for i in range(1, n + 1):
        changed = i == n or rec.rows[i] != rec.rows[i - 1]
        if not changed:
            still += 1
            continue
        if still > max_still:
            # cycles i-still .. i-1 repeat cycle i-still-1: keep one on each side of a gap
            for k in range(i - still + 1, i - 1):
                keep[k] = False
        still = 0
    gap_after = {i for i in range(n - 1) if keep[i] and not keep[i + 1]}
    shown = [i for i in range(n) if keep[i]]

    def wave_of(values, bus: bool):
        wave, data, prev = [], [], None
        for i, v in zip(shown, values, strict=True):
            if bus:
                if v == prev and wave:
                    wave.append(".")
                else:
                    wave.append("=" if v is not None else "x")
                    if v is not None:
                        data.append(v if isinstance(v, str) else f"{v:X}")
            else:
                wave.append("." if v == prev else str(v))
            prev = v
            if i in gap_after:
                wave.append("|")
        return {"wave": "".join(wave), **({"data": data} if data else {})}

    phase, current = [], None
    for i in range(n):
        current = rec.marks.get(i, current)
        phase.append(current)
    signal: list = [{"name": "clk", **wave_of(["p"] + ["."] * (len(shown) - 1), False)},
                    {"name": "(phase)", **wave_of([phase[i] for i in shown], True)}]
    for name in rec.names:
        signal.append({"name": name, **wave_of([rec.rows[i][name] for i in shown],
                                                 name in rec.buses)})
    return {"signal": signal, "head": {"text": rec.title}}
