"""The macro's timing constraints (SDC): shipped to integrators and read by the kit's own
sign-off.

:func:`sdc_text` is the one place the constraints are written down as SDC (the rules and their
reasons are :func:`signoff_constraints`, docs/ppa.md): one clock ``clk``
with :data:`CLOCK_UNCERTAINTY_NS` on setup and hold; the bus ports and
``rst`` with input/output delays of :data:`IO_DELAY_FRACTION` of the period
(for hold: a register's fastest clock-to-output on the inputs, 0 on the outputs); the array's
outputs settling within the cycle; a false path from the asynchronous comparator outputs
(``arr_cmp``, ``arr_ref_cmp``: each bit goes only into a synchroniser) and a multicycle path
(setup) and a false path (hold) from the held interpolator bits (``arr_fine``,
``arr_ref_fine``).

``mram-macro generate`` writes it next to the Verilog as ``<top>.sdc`` (:func:`render_sdc`, at
the clock the readout is designed for). ``make sta``, the hold fixing and the power runs write
the same text for the flat netlist's ports at the library's clock into their work folder and
``read_sdc`` it (:func:`mram_macro.flow.ppa.sta.signoff_setup`); what they add on top (the netlist's
clock trees, its driving cells and loads, and I/O delays re-referenced to a clock-tree leaf,
which exists only in the flat netlist) is listed in the SDC's header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mram_macro.design.config import MacroConfig
from mram_macro.rtl.periphery.edge_tdc import EDGE_ERROR_STEPS, edge_budget_steps
from mram_macro.rtl.periphery.tdc import SYNC_STAGES
from mram_macro.sim.harness import top_ports
from sim_models.readout import T_CLK_NS

__all__ = ["render_sdc", "sdc_text", "clock_tcl", "FLOW_ADDITIONS", "Port", "read_ports",
           "ports_tcl", "port_list", "check_input_hold", "signoff_constraints",
           "CLOCK_UNCERTAINTY_NS", "IO_DELAY_FRACTION", "ASYNC_INPUTS", "HELD_INPUTS",
           "ARRAY_PREFIX", "SYNC_NET", "CAPTURE_CLOCK_NET", "MISSED_NET",
           "captures_on_comparators"]

#: Clock uncertainty (ns) on every setup and hold check. The clock trees have no placement and
#: so no wire delay: the uncertainty stands for the skew that wires and on-chip variation add
#: between two clock pins, plus jitter on setup checks. 0.1 ns is 5 % of NanGate 45's 2 ns and
#: 2 % of OSU 0.18's 5 ns clock, about one buffer stage of either library.
CLOCK_UNCERTAINTY_NS = 0.1

#: Share of the period the integrator's logic uses on the bus ports (AXI4-Lite ``s_axil_*``,
#: AXI4-Stream ``s_axis_*``/``m_axis_*``) and ``rst``: an input arrives up to this late after
#: the clock edge (the other side's clock-to-output, logic and wire), an output must arrive
#: this early before the next one (wire, logic and setup). The usual block-level budget for a
#: bus whose other end is registered; the macro keeps 80 % of the cycle on a port path. For
#: hold: inputs the library's fastest register clock-to-output
#: (:attr:`~mram_macro.flow.ppa.libraries.StdCellLibrary.input_hold_ns`, no wire credit), outputs 0.
IO_DELAY_FRACTION = 0.20

#: Input ports asynchronous to ``clk``: the analogue comparators trip when a column's voltage
#: crosses V_ref. Captured by the TDC's synchronisers (:mod:`mram_macro.rtl.periphery.tdc`).
ASYNC_INPUTS = ("arr_cmp", "arr_ref_cmp")

#: Input ports held stable before they are used: the interpolator's sampler bits
#: (:mod:`sim_models.interpolator`), frozen at the edge that first sees the comparator high and
#: held until the next precharge.
HELD_INPUTS = ("arr_fine", "arr_ref_fine")

#: Ports of the analogue array (outputs settle within the cycle, no external budget).
ARRAY_PREFIX = "arr_"

#: The TDC's synchroniser flip-flops are named ``<block>.cmp_sync<stage>`` (tdc.py; the
#: edge-capture TDC's one synchroniser, of every comparator's AND, ``all_cmp_sync<stage>``).
SYNC_NET = "cmp_sync"

#: An edge-capture TDC's column clocks (each comparator ANDed with the front end's enable,
#: :mod:`mram_macro.rtl.periphery.edge_tdc`: Amaranth names the clock of domain ``cmp<c>``
#: ``cmp<c>_clk``): a flat netlist with such nets captures on the comparators' edges.
CAPTURE_CLOCK_NET = re.compile(r"(?:^|[.\\_\s])cmp\d+_clk\b", re.M)

#: An edge-capture TDC's per-column ``missed`` flip-flops take ``~arr_cmp`` once, on the
#: evaluation's last edge (``missed<c>``).
MISSED_NET = "missed"


#: What the kit's sign-off adds to the SDC it reads (:func:`mram_macro.flow.ppa.sta.design_tcl`):
#: facts of its own flat netlist and library, which an integrator's netlist has differently.
FLOW_ADDITIONS = (
    "set_propagated_clock: the clock goes through the flat netlist's clock trees "
    "(mram_macro/flow/clock_tree.py)",
    "set_driving_cell / set_load: the library's driving cell on the inputs and its load on the "
    "outputs",
    "the input and output delays above again, with -reference_pin at a leaf of the flat "
    "netlist's clock tree (relative to the clock as the macro's registers see it; the pin "
    "exists only in that netlist, so it cannot be written here)",
    "the false path is applied after a check on the netlist that each arr_cmp bit reaches only "
    "the first synchroniser flip-flop",
)


# ---------------------------------------------------------------------------------------------
# Ports and constraints: the rules, with a description of each (docs/ppa.md)

@dataclass(frozen=True)
class Port:
    name: str
    direction: str   # "input" or "output"
    width: int

    @property
    def tcl(self) -> str:
        """Pattern for ``get_ports`` (OpenSTA names the bits of a bus ``name[i]``)."""
        return f"{self.name}[*]" if self.width > 1 else self.name

    def __str__(self) -> str:
        return f"{self.name}[{self.width - 1}:0]" if self.width > 1 else self.name


_PORT = re.compile(r"^\s*(input|output)\s+(?:\[(\d+):(\d+)\]\s*)?([A-Za-z_][\w$]*)\s*;", re.M)


def read_ports(netlist: Path) -> tuple[Port, ...]:
    """The ports of the (single) module of a flat netlist."""
    return tuple(Port(name, d, abs(int(hi) - int(lo)) + 1 if hi else 1)
                 for d, hi, lo, name in _PORT.findall(Path(netlist).read_text()))


def ports_tcl(ports) -> str:
    """``[get_ports {...}]`` of ``ports`` (:class:`Port`)."""
    return "[get_ports {" + " ".join(p.tcl for p in ports) + "}]"


def port_list(ports) -> str:
    """``ports`` as a readable list (buses with their ranges)."""
    return ", ".join(str(p) for p in ports)


def check_input_hold(input_hold_ns, period_ns) -> None:
    """``ValueError`` unless ``input_hold_ns`` lies in 0 .. the setup input delay."""
    if isinstance(input_hold_ns, bool) or not isinstance(input_hold_ns, (int, float)) or not (
            0 <= input_hold_ns <= IO_DELAY_FRACTION * period_ns):
        raise ValueError(f"input_hold_ns must be at least 0 and at most the setup input delay "
                         f"({IO_DELAY_FRACTION * period_ns:g} ns), not {input_hold_ns!r}")


def captures_on_comparators(netlist_text: str) -> bool:
    """Whether a flat netlist's TDC captures on the comparators' edges (it has the column
    clocks of :data:`CAPTURE_CLOCK_NET`)."""
    return CAPTURE_CLOCK_NET.search(netlist_text) is not None


def _comparator_clock(asyncs: list[Port], held: list[Port],
                      period_ns: float) -> tuple[list[str], list[str]]:
    """The Tcl and descriptions of an edge-capture TDC's comparator clocks."""
    cmp = [p for p in asyncs if p.name == "arr_cmp"]
    fine = [p for p in held if p.name == "arr_fine"]
    if not cmp or not fine:
        raise ValueError("an edge-capture TDC needs the arr_cmp and arr_fine ports")
    taps = fine[0].width // cmp[0].width + 1
    steps = edge_budget_steps(taps)
    margin = round(steps * period_ns / taps, 4)
    tcl = [f"create_clock -name cmp -period {period_ns:g} {ports_tcl(cmp)}",
           f"set_max_delay -ignore_clock_latency {margin:g} -from [get_clocks clk] "
           f"-to [get_clocks cmp]",
           f"set_min_delay -ignore_clock_latency {-margin:g} -from [get_clocks clk] "
           f"-to [get_clocks cmp]",
           f"set_max_delay {2 * period_ns:g} -from [get_clocks cmp] -to [get_clocks clk]",
           "set_min_delay 0 -from [get_clocks cmp] -to [get_clocks clk]"]
    text = [f"clock cmp on {port_list(cmp)} (the edge-capture TDC's column clocks: each "
            f"comparator ANDed with arr_tdc_en clocks its column's count copies, once per "
            f"conversion; asynchronous to clk, same period for the tools; no input delay, "
            f"which would make the ports data)",
            f"max delay {margin:g} ns and min delay {-margin:g} ns from clk to cmp, clock "
            f"latencies ignored: each count copy reaches the capture flip-flops within "
            f"{steps:g} phase steps ({taps} phases, {taps}/4 - {EDGE_ERROR_STEPS:g} of "
            f"sampler error) of its register's clock edge, the earliest a column reads it "
            f"(mram_macro/rtl/periphery/edge_tdc.py; verif/unit/test_edge_tdc.py drives the "
            f"copies with garbage over that window); the samplers and the capture share the "
            f"comparator's edge and the phases share the clock, so neither latency counts",
            f"max delay {2 * period_ns:g} ns (two periods) and min delay 0 from cmp to clk: "
            f"a column's count copies are read only from the evaluation's last edge on, at "
            f"least two edges after the window's last in-range trip"]
    return tcl, text


def signoff_constraints(ports: tuple[Port, ...], period_ns: float, *, clock: str = "clk",
                        reference_pin: str | None = None, input_hold_ns: float = 0.0,
                        comparator_clocks: bool = False
                        ) -> tuple[list[str], list[str], list[Port], list[Port]]:
    """I/O delays and exceptions for ``ports`` at ``period_ns``: (Tcl lines, one description
    line per constraint, asynchronous input ports, held input ports). The false paths (from
    the asynchronous ports; for hold from the held ones) are **not** in the Tcl: the SDC adds
    them last (:func:`sdc_text`), and :func:`mram_macro.flow.ppa.sta.run_sta` applies them only
    after checking the asynchronous ports' synchronisers. ``input_hold_ns``: the input delay for
    hold (:attr:`~mram_macro.flow.ppa.libraries.StdCellLibrary.input_hold_ns`).
    ``comparator_clocks``: the TDC captures on the comparators' edges
    (:func:`captures_on_comparators`): ``arr_cmp`` is also the clock ``cmp``, with the
    exceptions of :func:`_comparator_clock`."""
    check_input_hold(input_hold_ns, period_ns)
    io = IO_DELAY_FRACTION * period_ns
    ref = f" -reference_pin [get_pins {{{reference_pin}}}]" if reference_pin else ""
    where = (f"relative to the clock at the registers (reference pin {reference_pin}, a "
             f"clock-tree leaf)" if reference_pin else "relative to the clock port")
    inputs = [p for p in ports if p.direction == "input" and p.name != clock]
    outputs = [p for p in ports if p.direction == "output"]
    asyncs = [p for p in inputs if p.name in ASYNC_INPUTS]
    held = [p for p in inputs if p.name in HELD_INPUTS]
    sync_in = [p for p in inputs if p not in asyncs]
    bus_out = [p for p in outputs if not p.name.startswith(ARRAY_PREFIX)]
    array_out = [p for p in outputs if p.name.startswith(ARRAY_PREFIX)]
    tcl: list[str] = []
    text = [f"clock {clock}: {period_ns:g} ns, propagated through the clock trees, "
            f"uncertainty {CLOCK_UNCERTAINTY_NS:g} ns on setup and hold"]
    if comparator_clocks:
        more_tcl, more_text = _comparator_clock(asyncs, held, period_ns)
        tcl += more_tcl[:1]
        text += more_text[:1]
    tcl.append(f"set_clock_uncertainty {CLOCK_UNCERTAINTY_NS:g} [all_clocks]")
    if sync_in:
        tcl += [f"set_input_delay -max {io:g} -clock clk{ref} {ports_tcl(sync_in)}",
                f"set_input_delay -min {input_hold_ns:g} -clock clk{ref} {ports_tcl(sync_in)}"]
        hold = (f"{input_hold_ns:g} ns for hold (a register's fastest clock-to-output in the "
                f"library: drive them from registers on clk)" if input_hold_ns else "0 for hold")
        text.append(f"input delay {io:g} ns ({100 * IO_DELAY_FRACTION:.0f} %) for setup, "
                    f"{hold}, {where}: {port_list(sync_in)}")
    if bus_out:
        tcl += [f"set_output_delay -max {io:g} -clock clk{ref} {ports_tcl(bus_out)}",
                f"set_output_delay -min 0 -clock clk{ref} {ports_tcl(bus_out)}"]
        text.append(f"output delay {io:g} ns ({100 * IO_DELAY_FRACTION:.0f} %) for setup, 0 "
                    f"for hold, {where}: {port_list(bus_out)}")
    if array_out:
        tcl += [f"set_output_delay 0 -clock clk{ref} {ports_tcl(array_out)}"]
        text.append(f"output delay 0 (the analogue array's controls settle within the cycle): "
                    f"{port_list(array_out)}")
    if asyncs and not comparator_clocks:
        tcl += [f"set_input_delay 0 -clock clk{ref} {ports_tcl(asyncs)}"]
    if asyncs and comparator_clocks:
        text.append(
            f"false path from {port_list(asyncs)} as data: asynchronous comparator outputs; "
            f"besides clocking its column (clock cmp), each bit goes only into the first of "
            f"the {SYNC_STAGES} flip-flops of the all-tripped synchroniser (all_{SYNC_NET}0 .. "
            f"all_{SYNC_NET}{SYNC_STAGES - 1}, mram_macro/rtl/periphery/edge_tdc.py) and into "
            f"its column's {MISSED_NET} flip-flop (checked on the netlist, below)")
    elif asyncs:
        text.append(
            f"false path from {port_list(asyncs)}: asynchronous comparator outputs; each bit goes "
            f"only into the first of {SYNC_STAGES} synchroniser flip-flops "
            f"({SYNC_NET}0 .. {SYNC_NET}{SYNC_STAGES - 1}, mram_macro/rtl/periphery/tdc.py), "
            f"which the code capture reads at the last stage (checked on the netlist, below)")
    if held:
        tcl += [f"set_multicycle_path -setup {SYNC_STAGES} -from {ports_tcl(held)}"]
        text.append(
            f"multicycle path {SYNC_STAGES} for setup, and no hold check (false path -hold), "
            f"from {port_list(held)}: the interpolator's sampler bits, frozen at the edge that "
            f"first sees the comparator high and held until the next precharge "
            f"(sim_models/interpolator.py); the TDC uses them only on the edge that captures "
            f"the column's code, when the comparator has come through the {SYNC_STAGES} "
            f"synchroniser flip-flops, at least {SYNC_STAGES} cycles after they froze "
            f"(assumes the samplers freeze no later than the edge at which {SYNC_NET}0 first "
            f"takes the 1); on no other edge does a register take them (its D input does not "
            f"select them, and a gated column is not clocked), and they change again only in "
            f"precharge, when no code is captured")
    if comparator_clocks:
        tcl += more_tcl[1:]
        text += more_text[1:]
        text.append(f"{MISSED_NET}<c> flip-flops (edge capture) also take the inverted "
                    f"comparator, once, on the evaluation's last edge: two edges after the "
                    f"window's last in-range trip, so a comparator rising in its aperture is "
                    f"late either way (the saturation code); the false path from arr_cmp "
                    f"covers them (checked on the netlist, below)")
    return tcl, text, asyncs, held


# ---------------------------------------------------------------------------------------------
# The SDC

def clock_tcl(period_ns: float, clock: str = "clk") -> str:
    """The clock: ``clk`` on the port ``clock`` at ``period_ns``."""
    return f"create_clock -name clk -period {period_ns:g} [get_ports {clock}]"


def _check_period(period_ns) -> None:
    if isinstance(period_ns, bool) or not isinstance(period_ns, (int, float)) or not (
            0 < period_ns < 1e6):
        raise ValueError(f"period_ns must be a positive clock period, not {period_ns!r}")


def sdc_text(ports: Iterable, period_ns: float, *, top: str = "mram_macro",
             input_hold_ns: float = 0.0, comparator_clocks: bool = False) -> str:
    """SDC of the macro ``top`` with ``ports`` (:class:`Port`, any order:
    they are listed by name) at ``period_ns``, with ``input_hold_ns`` of input delay for hold
    (:attr:`mram_macro.flow.ppa.libraries.StdCellLibrary.input_hold_ns`);
    ``comparator_clocks``: an edge-capture TDC (:func:`signoff_constraints`)."""
    _check_period(period_ns)
    ports = tuple(sorted(ports, key=lambda p: p.name))
    tcl, text, asyncs, held = signoff_constraints(ports, period_ns,
                                                  input_hold_ns=input_hold_ns,
                                                  comparator_clocks=comparator_clocks)
    header = [f"# Timing constraints of {top}, generated by mram_macro/flow/sdc.py "
              f"(mram-macro generate writes it; make sta reads it).",
              "# Reasons in docs/ppa.md.",
              f"#  - clock clk: {period_ns:g} ns (ideal here: your clock tree's latency and "
              f"skew are yours), uncertainty on setup and hold as below",
              *(f"#  - {line.replace(' (checked on the netlist, below)', '')}"
                for line in text[1:]),
              "# Change the period to your clock; keep it within what the readout design and "
              "the datasheet's",
              "# section 11 allow.",
              "# The kit's sign-off reads this file for its flat netlist and adds:",
              *(f"#  - {line}" for line in FLOW_ADDITIONS)]
    false_path = ([f"set_false_path -from [get_ports {{{' '.join(p.tcl for p in asyncs)}}}]"]
                  if asyncs else [])
    if held:
        false_path.append(
            f"set_false_path -hold -from [get_ports {{{' '.join(p.tcl for p in held)}}}]")
    return "\n".join([*header, clock_tcl(period_ns), *tcl, *false_path, ""])


def render_sdc(config: MacroConfig, verilog: str, *, top: str = "mram_macro",
               period_ns: float = T_CLK_NS, input_hold_ns: float | None = None) -> str:
    """SDC for the macro ``top`` in ``verilog`` (its ports are read from it) at ``period_ns``
    (default: the clock the readout is designed for), with ``input_hold_ns`` of input delay
    for hold (default: the headline library's,
    :data:`~mram_macro.flow.ppa.libraries.HEADLINE_LIBRARY`; set your registers' own)."""
    from mram_macro.flow.ppa.libraries import HEADLINE_LIBRARY, LIBRARIES

    _check_period(period_ns)
    if input_hold_ns is None:
        input_hold_ns = LIBRARIES[HEADLINE_LIBRARY].input_hold_ns
    check_input_hold(input_hold_ns, period_ns)
    return sdc_text((Port(name, direction, width)
                     for direction, name, width in top_ports(verilog, top)), period_ns, top=top,
                    input_hold_ns=input_hold_ns,
                    comparator_clocks=config.tdc_capture == "edge")
