"""Per-column time-to-digital converter.

Each column's comparator output is synchronised (``SYNC_STAGES`` flip-flops: it is asynchronous
to ``clk`` in silicon), and the first time it is seen high the shared code counter is captured.
The shared timing (when capture is allowed, which code the current edge stands for, when the
window closes) comes from :class:`~mram_macro.periphery.read_control.ReadControl`.
"""

from itertools import pairwise

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Tdc", "SYNC_STAGES"]

#: Flip-flops between ``arr_cmp`` and the capture logic.
SYNC_STAGES = 2


class Tdc(wiring.Component):
    """Codes of ``cols`` columns.

    Contract, per column c:

    * ``clear`` (one cycle, at evaluation start) forgets the previous conversion.
    * On an edge with ``capture`` high, a column seen tripped for the first time takes
      ``code_now``.
    * On the edge with ``window_end`` high, every column not yet tripped takes the saturation
      code; ``overflow[c]`` is set if its comparator was still low.
    * ``all_fired`` is high once every column has a code.
    """

    def __init__(self, *, cols: int, tdc_bits: int, code_domains: tuple[str, ...] | None = None):
        """``code_domains``: per column, the clock domain of its code, ``fired`` and
        ``overflow`` bits (default all ``sync``; the synchronisers stay on ``sync``). Column c's
        bits change only on edges with ``code_enable[c]`` high, so a clock gated by it is
        exact."""
        if code_domains is not None and (len(code_domains) != cols or not all(
                isinstance(d, str) and d.isidentifier() for d in code_domains)):
            raise ValueError(f"code_domains must be {cols} domain names, not {code_domains!r}")
        self.cols, self.tdc_bits = cols, tdc_bits
        self.code_domains = tuple(code_domains or ("sync",) * cols)
        super().__init__({
            "cmp": In(cols),
            "clear": In(1),
            "capture": In(1),
            "window_end": In(1),
            "code_now": In(tdc_bits),
            "codes": Out(cols * tdc_bits),
            "overflow": Out(cols),
            "all_fired": Out(1),
            "code_enable": Out(cols),
        })

    def elaborate(self, platform):
        m = Module()
        sync = [Signal(self.cols, name=f"cmp_sync{i}") for i in range(SYNC_STAGES)]
        m.d.sync += sync[0].eq(self.cmp)
        for a, b in pairwise(sync):
            m.d.sync += b.eq(a)
        seen = sync[-1]

        fired = Signal(self.cols)
        m.d.comb += self.all_fired.eq(fired.all())
        max_code = (1 << self.tdc_bits) - 1
        for c in range(self.cols):
            d = m.d[self.code_domains[c]]
            code = self.codes[c * self.tdc_bits:(c + 1) * self.tdc_bits]
            m.d.comb += self.code_enable[c].eq(
                self.clear | (~fired[c] & ((self.capture & seen[c]) | self.window_end)))
            with m.If(self.clear):
                d += [fired[c].eq(0), self.overflow[c].eq(0), code.eq(0)]
            with m.Elif(~fired[c]):
                with m.If(self.capture & seen[c]):
                    d += [fired[c].eq(1), code.eq(self.code_now)]
                with m.Elif(self.window_end):
                    d += [fired[c].eq(1), code.eq(max_code), self.overflow[c].eq(1)]
        return m
