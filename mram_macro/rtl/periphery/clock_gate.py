"""Integrated clock gating: a register group clocked only on the cycles it may change.

:func:`gated_domain` adds to a module a clock domain whose clock is ``clk`` gated by an
``enable`` computed in the ``sync`` domain's cycle: the classic latch-based ICG (an enable latch
transparent while ``clk`` is low, ANDed with ``clk``), so the gated clock has no glitch and the
enable only needs to settle before ``clk`` rises, like a flip-flop's D input. The domain shares
``sync``'s reset, which also opens the gate (a synchronous reset needs a clock edge).

Contract for the caller: ``enable`` must be high on every cycle on which any register of the
domain would change; on the other cycles the gated registers keep their value either way, so a
gated design is cycle-for-cycle identical to the ungated one.

A gate may sit behind another (``parent``: its clock input is the parent domain's gated clock,
not ``clk``): then its latch and AND see clock edges only on the parent's enabled cycles, which
saves their clocking on the others, and the caller's contract is stricter: ``enable`` high
only on cycles on which the parent's enable is high too (an edge the parent swallows never
reaches the child).

The ICG is the Verilog module :data:`ICG_MODULE` (:data:`ICG_VERILOG`, appended to the generated
Verilog): Amaranth has no latch. Synthesis maps its latch onto the Liberty file's latch cell
(:func:`mram_macro.flow.synth.latch_techmap`). It simulates exactly in Icarus and Verilator because
the enable comes from flip-flops on ``clk``: the latch is closed while ``clk`` is high, and the
gated edge follows ``clk``'s edge in the same time step, before any flip-flop's update.
"""

from __future__ import annotations

from amaranth import ClockDomain, ClockSignal, Instance, Module, ResetSignal, Signal

__all__ = ["ICG_MODULE", "ICG_VERILOG", "ICG_VERILOG_EVENT", "gated_domain"]

ICG_MODULE = "mram_icg"


def _icg_verilog(latch: str, note: str) -> str:
    return f"""
// Latch-based integrated clock gate (mram_macro/rtl/periphery/clock_gate.py){note}.
module {ICG_MODULE}(clk, en, gclk);
  input clk;
  input en;
  output gclk;
{latch}
  assign gclk = clk & en_latched;
endmodule
"""


#: The ICG of the generated Verilog (synthesis, Verilator, and Icarus on the literal RTL).
ICG_VERILOG = _icg_verilog("""  reg en_latched;
  /* verilator lint_off LATCH */
  always @(*)
    if (!clk) en_latched = en;
  /* verilator lint_on LATCH */""", "")

#: The same latch as a continuous assignment, for the event-driven simulation netlist
#: (:mod:`mram_macro.sim.netlist`): transparent while ``clk`` is low, holding while it is high,
#: like :data:`ICG_VERILOG`. The process form wakes a thread in every gate at both clock edges
#: (72 gates in the default macro); the assignment is one net functor that ``vvp`` updates only
#: when an input changes. Icarus only: Verilator treats the loop as combinational (UNOPTFLAT),
#: and synthesis wants the process form, which maps onto the Liberty latch.
ICG_VERILOG_EVENT = _icg_verilog("""  wire en_latched;
  assign en_latched = clk ? en_latched : en;""", ", event-driven simulation form")


def gated_domain(m: Module, name: str, enable, *, gate: bool = True,
                 parent: str = "sync") -> Signal:
    """Add clock domain ``name`` to ``m``: ``parent``'s clock (default ``clk``, the ``sync``
    domain's) gated by ``enable`` (or ``sync``'s reset, which opens every gate).

    With ``gate`` false the domain's clock is ``clk`` itself (the ungated reference design).
    Returns the enable signal (``enable | rst``).
    """
    if not isinstance(name, str) or not name.isidentifier() or name == "sync":
        raise ValueError(f"gated domain name must be an identifier other than 'sync', "
                         f"not {name!r}")
    if not isinstance(parent, str) or not parent.isidentifier() or parent == name:
        raise ValueError(f"the parent of gated domain {name!r} must be another domain's name, "
                         f"not {parent!r}")
    m.domains += ClockDomain(name)
    en = Signal(name=f"{name}_en")
    m.d.comb += [en.eq(enable | ResetSignal("sync")), ResetSignal(name).eq(ResetSignal("sync"))]
    if not gate:
        m.d.comb += ClockSignal(name).eq(ClockSignal("sync"))
        return en
    gclk = Signal(name=f"{name}_gclk")
    m.submodules[f"{name}_icg"] = Instance(ICG_MODULE, i_clk=ClockSignal(parent), i_en=en,
                                           o_gclk=gclk)
    m.d.comb += ClockSignal(name).eq(gclk)
    return en
