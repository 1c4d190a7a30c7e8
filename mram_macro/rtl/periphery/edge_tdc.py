"""Two-step TDC columns that capture their coarse count on the comparator's own edge.

Not yet part of the macro (issue 19's next lever; the macro's TDC is
:class:`~mram_macro.rtl.periphery.tdc.Tdc`): this block is the capture and decode, verified
against the golden model's codes with comparators tripping anywhere in the clock period
(``verif/unit/test_edge_tdc.py``). Wiring it in also needs the two count broadcasts and the
end-of-evaluation edge from the read control, a synchroniser on ``all_tripped``, per-column
comparator clocks in the timing constraints, and a pin model that raises ``arr_cmp`` at the
trip's time within the period.

Why: :class:`~mram_macro.rtl.periphery.tdc.Tdc` synchronises every comparator (two flip-flops
per column, clocked on every edge of the evaluation) and clocks each column through a gate of
its own; those are about a fifth of the default macro's digital energy per VMM. Here each
column's count registers are clocked once per conversion, by the comparator's rising edge
(the interpolator's samplers are clocked by the same edge: ``sim_models/interpolator.py``).

The count is asynchronous to that edge, so the column takes two copies of it, Gray-coded (one
bit changes per update): ``count_pos``, which changes just after each rising clock edge, and
``count_neg``, the same count taken at each falling edge, half a period later. The trip's
place in the period, read from the samplers' ones count ``f`` (about the phase steps from the
trip to the next rising edge), says which copy was still when the comparator's edge took it:

* ``f >= 3K/4`` (the trip came in the period's first quarter, near the rising edge that
  started it, where ``count_pos`` was changing): ``count_neg + 1`` (it still held the
  previous period's count);
* ``f < K/4`` (the last quarter, near the next rising edge): ``count_neg`` (it took this
  period's count at the falling edge);
* otherwise (mid-period, where ``count_neg`` was changing): ``count_pos``.

So neither copy is used within ``K/4`` phase steps of its own update, less a step for a
sampler's bubble or phase error: ``K >= 4``.

The count is biased by 2: 0 and 1 stand for a trip before code 0 (``early``: the code is 0),
``2 .. 2**coarse_bits + 1`` for coarse codes ``0 .. 2**coarse_bits - 1``, and
``2**coarse_bits + 2`` (where it saturates) for a trip after the last code (overflow, the
saturation code). Two early values, not one: ``count_neg + 1`` must stay early where the
count is saturated at 0 in both periods. The ones
counts and the overflow flags (a comparator not high at the end) are taken once per
conversion, on the edge with ``take_end`` high (the evaluation's last, when every sampler has
frozen), and the codes are decoded through ``fine_table`` as they are read, like the held
decode of :class:`~mram_macro.rtl.periphery.tdc.Tdc`:
``code = (count - 2) * K + fine_table[f]``.
"""

from amaranth import ClockDomain, ClockSignal, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.tdc import fine_code, gray_to_binary
from mram_macro.rtl.periphery.write_controller import popcount_tree

__all__ = ["EdgeCaptureTdc"]


class EdgeCaptureTdc(wiring.Component):
    """Codes of ``cols`` columns of a two-step TDC with ``fine_taps = K`` phases per period
    (a power of two, at least 4) and ``tdc_bits``-bit codes.

    Inputs: ``cmp`` (the comparators; column ``c``'s rising edge clocks its count registers,
    once per conversion), ``fine`` (the held sampler bits, ``K - 1`` per column, stable from
    the edge after the trip until the precharge), ``fine_table`` (FINE_TABLE),
    ``count_pos`` / ``count_neg`` (the biased count's Gray code, changing just after rising /
    falling clock edges; module docstring), ``take_end`` (on this edge the ones counts and
    the overflow flags are taken). Outputs: ``codes`` and ``overflow`` (valid after the
    ``take_end`` edge, until the next comparator edge), ``all_tripped`` (every comparator
    high: asynchronous, synchronise it before use).
    """

    def __init__(self, *, cols: int, tdc_bits: int, fine_taps: int):
        for name, value in (("cols", cols), ("tdc_bits", tdc_bits), ("fine_taps", fine_taps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if fine_taps < 4 or fine_taps & (fine_taps - 1) or fine_taps >= 1 << tdc_bits:
            raise ValueError(f"fine_taps must be a power of two from 4 (a quarter period of "
                             f"margin on each count) below 2**tdc_bits = {1 << tdc_bits}, "
                             f"not {fine_taps}")
        self.cols, self.tdc_bits, self.fine_taps = cols, tdc_bits, fine_taps
        self.fine_bits = fine_taps.bit_length() - 1
        self.coarse_bits = tdc_bits - self.fine_bits
        #: The biased count of a trip after the last code (where it saturates).
        self.late = (1 << self.coarse_bits) + 2
        #: Width of the biased count (0 .. :attr:`late`).
        self.count_bits = self.late.bit_length()
        super().__init__({
            "cmp": In(cols),
            "fine": In(cols * (fine_taps - 1)),
            "fine_table": In(fine_taps * self.fine_bits),
            "count_pos": In(self.count_bits),
            "count_neg": In(self.count_bits),
            "take_end": In(1),
            "codes": Out(cols * tdc_bits),
            "overflow": Out(cols),
            "all_tripped": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        k, fb, cb = self.fine_taps, self.fine_bits, self.coarse_bits
        late = self.late
        m.d.comb += self.all_tripped.eq(self.cmp.all())
        for c in range(self.cols):
            domain = f"cmp{c}"
            m.domains += ClockDomain(domain, local=True, reset_less=True)
            m.d.comb += ClockSignal(domain).eq(self.cmp[c])
            pos = Signal(self.count_bits, name=f"count_pos{c}")
            neg = Signal(self.count_bits, name=f"count_neg{c}")
            m.d[domain] += [pos.eq(self.count_pos), neg.eq(self.count_neg)]
            ones = Signal(fb, name=f"ones{c}")
            missed = Signal(name=f"missed{c}")          # not tripped by the end
            with m.If(self.take_end):
                m.d.sync += [ones.eq(popcount_tree(self.fine[c * (k - 1):(c + 1) * (k - 1)])),
                             missed.eq(~self.cmp[c])]
            neg_bin = gray_to_binary(neg)
            count = Signal(self.count_bits + 1, name=f"count{c}")
            m.d.comb += count.eq(Mux(ones >= 3 * k // 4, neg_bin + 1,
                                     Mux(ones < k // 4, neg_bin, gray_to_binary(pos))))
            over = missed | (count >= late)
            coarse = (count - 2)[:cb]
            m.d.comb += [
                self.overflow[c].eq(over),
                self.codes[c * self.tdc_bits:(c + 1) * self.tdc_bits].eq(
                    Mux(over, (1 << self.tdc_bits) - 1,
                        fine_code(self.fine_table, k, ones, coarse, count <= 1))),
            ]
        return m
