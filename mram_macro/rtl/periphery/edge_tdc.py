"""Two-step TDC columns that capture their coarse count on the comparator's own edge.

The TDC of ``MacroConfig(tdc_capture="edge")`` builds (the default ``"sampled"`` builds use
:class:`~mram_macro.rtl.periphery.tdc.Tdc`). Verified against the golden model's codes with
comparators tripping anywhere in the clock period (``verif/unit/test_edge_tdc.py``) and, in the
macro, on Icarus and Verilator with the pin models raising each comparator where its zone's
count copy is still (``mram_macro/sim/array_pins.py``).

Why: :class:`~mram_macro.rtl.periphery.tdc.Tdc` synchronises every comparator (two flip-flops
per column, clocked on every edge of the evaluation) and clocks each column through a gate of
its own; those are about a fifth of the default macro's digital energy per VMM. Here each
column's count registers are clocked once per conversion, by the comparator's rising edge
(the interpolator's samplers are clocked by the same edge: ``sim_models/interpolator.py``),
gated by ``enable`` (the front end is on: the comparator's output enable), so no edge reaches
them while the previous conversion's codes are still being read.

The count is asynchronous to that edge. The column takes ``count_pos``, the count in Gray
code (one bit changes per update), which changes just after each rising clock edge, and one
bit more, ``parity_neg``: the parity of the count (the binary count's lowest bit) taken at each
falling edge, half a period later. A Gray count taken while it changes is the old value or the
new one, each bit resolving either way; the parity of the taken value says which, against
``parity_neg``. The trip's place in the period, read from the samplers' ones count ``f``
(about the phase steps from the trip to the next rising edge), says what ``parity_neg`` holds
and whether ``count_pos`` may have been changing:

* ``f >= 3K/4`` (the period's first quarter, near the rising edge that started it, where
  ``count_pos`` may still have held the previous period's count): ``parity_neg`` holds the
  previous period's parity; a taken value of that parity is the previous count: + 1;
* ``f < K/4`` (the last quarter, near the next rising edge, where ``count_pos`` may already
  hold the next period's count): ``parity_neg`` holds this period's parity; a taken value of
  the other parity is the next count: - 1;
* otherwise (mid-period): ``count_pos`` was still; taken as it is.

So ``parity_neg`` is never read within ``K/4`` phase steps of its update, nor ``count_pos``
mid-period, less a step for a sampler's bubble or phase error: ``K >= 4``. Where the count is
saturated the parity does not change between periods: at 0 the first quarter's + 1 gives 1
(still early), at the late value it gives late + 1 (still overflow).

The count is biased by 2: 0 and 1 stand for a trip before code 0 (``early``: the code is 0),
``2 .. 2**coarse_bits + 1`` for coarse codes ``0 .. 2**coarse_bits - 1``, and
``2**coarse_bits + 2`` (where it saturates) for a trip after the last code (overflow, the
saturation code). Two early values, not one: the first quarter's ``+ 1`` must stay early
where the count is saturated at 0 in both periods. The ones
counts and the overflow flags (a comparator not high at the end) are taken once per
conversion, on the edge with ``take_end`` high (the evaluation's last, when every sampler has
frozen: the read control ends an evaluation on the edge that sees ``all_fired``, every
comparator high through a synchroniser, or at the window's end), and the codes are decoded
through ``fine_table`` as they are read, like the held decode of
:class:`~mram_macro.rtl.periphery.tdc.Tdc`: ``code = (count - 2) * K + fine_table[f]``.
"""

import re
from itertools import pairwise

from amaranth import ClockDomain, ClockSignal, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.interfaces import EdgeTdcControl
from mram_macro.rtl.periphery.tdc import SYNC_STAGES, fine_code, gray_to_binary
from mram_macro.rtl.periphery.write_controller import popcount_tree

__all__ = ["EdgeCaptureTdc", "EDGE_ERROR_STEPS", "edge_budget_steps", "BROADCAST_NETS"]

#: The count's broadcasts in a flat netlist (the read control's ``tdc.count_pos`` bits and
#: ``tdc.parity_neg``, each to every column's capture flip-flops): the flow buffers
#: them as trees (:func:`mram_macro.flow.clock_tree.insert_fanout_trees`) to meet their delay
#: budget (:func:`edge_budget_steps`).
BROADCAST_NETS = re.compile(r"(?:^|\.)tdc__(?:count_pos\[\d+\]|parity_neg)$")

#: Phase steps of sampler error (phase errors and bubbles) the zones allow for: ``count_pos``
#: is read as it is, and ``parity_neg`` at all, no sooner than ``K/4 - EDGE_ERROR_STEPS``
#: steps after its clock edge, which is the delay budget of the broadcasts to the capture
#: flip-flops (:func:`edge_budget_steps`; the SDC's max delay from ``clk`` to ``cmp``,
#: mram_macro/flow/sdc.py). verif/unit/test_edge_tdc.py drives ``count_pos`` with old-or-new
#: bits and ``parity_neg`` with garbage over that window after each update, with phase errors.
EDGE_ERROR_STEPS = 0.6


def edge_budget_steps(fine_taps: int) -> float:
    """Phase steps after its clock edge within which a broadcast may still be changing at
    the capture flip-flops (``K/4 - EDGE_ERROR_STEPS``)."""
    return fine_taps / 4 - EDGE_ERROR_STEPS


class EdgeCaptureTdc(wiring.Component):
    """Codes of ``cols`` columns of a two-step TDC with ``fine_taps = K`` phases per period
    (a power of two, at least 4) and ``tdc_bits``-bit codes.

    Inputs: ``cmp`` (the comparators; column ``c``'s rising edge while ``ctl.enable`` is high
    clocks its count registers, once per conversion), ``fine`` (the held sampler bits,
    ``K - 1`` per column, stable from the comparator's edge until the precharge),
    ``fine_table`` (FINE_TABLE) and ``ctl`` (:class:`~.interfaces.EdgeTdcControl`: the
    biased count in Gray code and the parity taken at falling edges, ``enable``,
    ``take_end``; module docstring). Outputs:
    ``codes`` and ``overflow`` (valid after the ``take_end`` edge, until the next comparator
    edge with ``enable`` high), ``ctl.all_fired`` (every enabled comparator high, through
    ``SYNC_STAGES`` flip-flops in ``sync_domain``).

    ``take_domain``: the clock domain of the ones counts and overflow flags, which change
    only on the ``take_end`` edge; with ``take_gated`` the caller clocks it only then (an
    exact clock gate), so they need no enable multiplexers.
    """

    def __init__(self, *, cols: int, tdc_bits: int, fine_taps: int, sync_domain: str = "sync",
                 take_domain: str = "sync", take_gated: bool = False):
        for name, value in (("cols", cols), ("tdc_bits", tdc_bits), ("fine_taps", fine_taps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if fine_taps < 4 or fine_taps & (fine_taps - 1) or fine_taps >= 1 << tdc_bits:
            raise ValueError(f"fine_taps must be a power of two from 4 (a quarter period of "
                             f"margin on each count) below 2**tdc_bits = {1 << tdc_bits}, "
                             f"not {fine_taps}")
        for name, domain in (("sync_domain", sync_domain), ("take_domain", take_domain)):
            if not isinstance(domain, str) or not domain.isidentifier():
                raise ValueError(f"{name} must be a domain name, not {domain!r}")
        if not isinstance(take_gated, bool):
            raise TypeError(f"take_gated must be a bool, not {take_gated!r}")
        self.cols, self.tdc_bits, self.fine_taps = cols, tdc_bits, fine_taps
        self.sync_domain, self.take_domain, self.take_gated = sync_domain, take_domain, take_gated
        self.fine_bits = fine_taps.bit_length() - 1
        self.coarse_bits = tdc_bits - self.fine_bits
        control = EdgeTdcControl(coarse_bits=self.coarse_bits)
        #: The biased count of a trip after the last code (where it saturates).
        self.late = control.late
        #: Width of the biased count (0 .. :attr:`late`).
        self.count_bits = control.count_bits
        super().__init__({
            "cmp": In(cols),
            "fine": In(cols * (fine_taps - 1)),
            "fine_table": In(fine_taps * self.fine_bits),
            "ctl": In(control),
            "codes": Out(cols * tdc_bits),
            "overflow": Out(cols),
        })

    def elaborate(self, platform):
        m = Module()
        k, fb, cb = self.fine_taps, self.fine_bits, self.coarse_bits
        late, ctl = self.late, self.ctl
        # The comparators as the capture sees them: off while the front end is off.
        tripped = Signal(self.cols)
        m.d.comb += tripped.eq(self.cmp & ctl.enable.replicate(self.cols))
        chain = [Signal(name=f"all_cmp_sync{i}") for i in range(SYNC_STAGES)]
        m.d[self.sync_domain] += chain[0].eq(tripped.all())
        for a, b in pairwise(chain):
            m.d[self.sync_domain] += b.eq(a)
        # (ANDed with the enable: the synchroniser's own output keeps its name in a netlist,
        # for the sign-off's synchroniser check)
        m.d.comb += ctl.all_fired.eq(chain[-1] & ctl.enable)
        take = m.d[self.take_domain]
        for c in range(self.cols):
            domain = f"cmp{c}"
            m.domains += ClockDomain(domain, local=True, reset_less=True)
            m.d.comb += ClockSignal(domain).eq(tripped[c])
            pos = Signal(self.count_bits, name=f"count_pos{c}")
            neg = Signal(name=f"parity_neg{c}")
            m.d[domain] += [pos.eq(ctl.count_pos), neg.eq(ctl.parity_neg)]
            ones = Signal(fb, name=f"ones{c}")
            missed = Signal(name=f"missed{c}")          # not tripped by the end
            update = [ones.eq(popcount_tree(self.fine[c * (k - 1):(c + 1) * (k - 1)])),
                      missed.eq(~tripped[c])]
            if self.take_gated:
                take += update
            else:
                with m.If(ctl.take_end):
                    take += update
            # the taken value's parity against parity_neg, in the quarters next to an update
            taken = gray_to_binary(pos)
            first, last = ones >= 3 * k // 4, ones < k // 4
            same = taken[0] == neg
            count = Signal(self.count_bits + 1, name=f"count{c}")
            m.d.comb += count.eq(Mux(first & same, taken + 1,
                                     Mux(last & ~same, taken - 1, taken)))
            over = missed | (count >= late)
            coarse = (count - 2)[:cb]
            m.d.comb += [
                self.overflow[c].eq(over),
                self.codes[c * self.tdc_bits:(c + 1) * self.tdc_bits].eq(
                    Mux(over, (1 << self.tdc_bits) - 1,
                        fine_code(self.fine_table, k, ones, coarse, count <= 1))),
            ]
        return m
