"""Per-column time-to-digital converter.

Each column's comparator output is synchronised (``SYNC_STAGES`` flip-flops: it is asynchronous
to ``clk`` in silicon), and the first time it is seen high the shared code counter is captured.
The shared timing (when capture is allowed, which code the current edge stands for, when the
window closes) comes from :class:`~mram_macro.rtl.periphery.read_control.ReadControl`, through
``ctl`` (:class:`~mram_macro.rtl.periphery.interfaces.TdcControl`).

Two-step mode (``fine_taps = K > 1``, see ``sim_models/interpolator.py``): the shared counter
is the *coarse* code (clock periods), and each column also has ``K - 1`` sampler bits from the
analogue interpolator, a thermometer code frozen at the edge that first saw the comparator
high and held until the next precharge (so they are stable by the time the synchronised
comparator is seen, and need no synchroniser of their own). At capture, the ones in them are
counted (which corrects bubbles: a ones counter does not care where a stray 0 or 1 sits), the
count ``f`` selects the fine value ``fine_table[f]`` (ideal ``K - 1 - f``; calibrated by the
host, FINE_TABLE), and the code is ``coarse * K + fine_table[f]``, or 0 while the coarse code
is still before its code 0 (``ctl.early``).
"""

from itertools import pairwise

from amaranth import Array, Cat, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.interfaces import TdcControl
from mram_macro.rtl.periphery.write_controller import popcount_tree

__all__ = ["Tdc", "SYNC_STAGES", "gray_to_binary", "fine_code"]

#: Flip-flops between ``arr_cmp`` and the capture logic.
SYNC_STAGES = 2


def gray_to_binary(gray: Value) -> Value:
    """The binary number whose Gray code (``b ^ (b >> 1)``) is ``gray``: each bit is the XOR of
    the Gray bits at and above it."""
    bits = [gray[-1]]
    for i in reversed(range(len(gray) - 1)):
        bits.insert(0, bits[0] ^ gray[i])
    return Cat(*bits)


class Tdc(wiring.Component):
    """Codes of ``cols`` columns.

    Contract, per column c (``clear``, ``capture``, ``window_end``, ``code_now``, ``early``
    and ``all_fired`` are the members of ``ctl``, :class:`~.interfaces.TdcControl`):

    * ``clear`` (one cycle, at evaluation start, never with ``capture`` or ``window_end``:
      :class:`~mram_macro.rtl.periphery.read_control.ReadControl` raises it in precharge, while
      ``arr_eval`` is low) forgets the previous conversion: from the next edge on no column
      has fired. ``codes[c]`` and ``overflow[c]`` keep the previous
      conversion's values until the column takes its new ones (below), so both are valid
      only once the evaluation is over; every evaluation that ``clear`` starts must end with
      every column holding a new code and overflow bit (it ends when all have fired or on
      ``window_end``), and nothing reads them before. A column that misses a cleared
      evaluation would look fired in the one after (the epoch is one bit), so a TDC whose
      columns may miss an evaluation (the replicas' TDC on a pass that does not wait for
      them) must not be cleared for it. Not clearing the codes halves their toggles (and those of
      the accumulator behind them).
    * On an edge with ``capture`` high, a column seen tripped for the first time takes
      ``code_now`` and clears ``overflow[c]``.
    * On the edge with ``window_end`` high, every column not yet tripped takes the saturation
      code and sets ``overflow[c]``.

    ``fired[c]`` is not a register that ``clear`` resets: each column keeps the *epoch* (one
    bit) of the evaluation in which it last fired, the TDC keeps the current epoch and
    ``clear`` flips it, so ``fired[c] = (epoch[c] == epoch)`` (and 0 until the first ``clear``
    after reset). A column's registers therefore
    see one clock edge per evaluation (its capture or the window's end) instead of two (the
    clear as well), behind its clock gate.
    * ``all_fired`` is high once every column has a code.

    With ``fine_taps = K > 1``, ``code_now`` is the coarse code (``tdc_bits - log2 K`` bits) and a
    captured code is ``code_now * K + fine_table[ones(fine[c])]`` (0 while ``early``).
    """

    def __init__(self, *, cols: int, tdc_bits: int, code_domains: tuple[str, ...] | None = None,
                 fine_taps: int = 1, sync_domain: str = "sync", decode_held: bool = False,
                 columns_gated: bool = False):
        """``code_domains``: per column, the clock domain of its code, ``fired`` and
        ``overflow`` bits (default all ``sync``). Column c's bits change only on edges with
        ``code_enable[c]`` high, so a clock gated by it is exact. ``sync_domain``: the clock
        domain of the synchronisers (default ``sync``); the read control's ``arr_tdc_en`` may
        gate it, because nothing reads ``seen`` before ``SYNC_STAGES`` of its edges have
        flushed what the previous evaluation left in the chain (``ReadControl``: capture
        starts ``SYNC_STAGES`` edges after ``arr_tdc_en`` rises). ``fine_taps``: interpolator
        phases per clock (1: counter TDC; else a power of two below ``2**tdc_bits``).
        ``decode_held`` (two-step only): each column holds its coarse code, its ones count and
        an early flag instead of the code, and ``codes`` is decoded from them through
        ``fine_table`` (combinationally: it follows a change of ``fine_table``), so the
        table's multiplexers switch once per conversion, behind the register, instead of with
        the sampler bits at their freeze and again at their reset. The coarse code goes to the
        columns as its Gray code (one bit of the broadcast changes per cycle, not two on
        average) and each column decodes the one it holds. ``columns_gated``: the caller
        clocks each column's code domain only on edges with ``code_enable[c]`` high (an exact
        clock gate, or reset), so the column's registers need no enable multiplexers: they
        take their capture values on every edge they see, and ``overflow[c]`` takes whether
        the edge is the window's end (an overflowing column's coarse code, ones and early flag
        are then don't-cares: the saturation code hides them). The coarse code's broadcast
        is ANDed with the column's capture, so that it does not toggle the column's D pins
        on every edge of the evaluation (at NanGate 45 nm the 64 columns' enable multiplexers
        cost 4.3 pJ per VMM more, ``python -m mram_macro.flow.ppa cells``)."""
        for name, flag in (("decode_held", decode_held), ("columns_gated", columns_gated)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {flag!r}")
        self.columns_gated = columns_gated
        if decode_held and fine_taps == 1:
            raise ValueError("decode_held needs a two-step TDC (fine_taps > 1)")
        self.decode_held = decode_held
        if code_domains is not None and (len(code_domains) != cols or not all(
                isinstance(d, str) and d.isidentifier() for d in code_domains)):
            raise ValueError(f"code_domains must be {cols} domain names, not {code_domains!r}")
        if (isinstance(fine_taps, bool) or not isinstance(fine_taps, int) or fine_taps < 1
                or fine_taps & (fine_taps - 1) or fine_taps >= 1 << tdc_bits):
            raise ValueError(f"fine_taps must be a power of two below 2**tdc_bits = "
                             f"{1 << tdc_bits}, not {fine_taps!r}")
        self.cols, self.tdc_bits, self.fine_taps = cols, tdc_bits, fine_taps
        self.fine_bits = fine_taps.bit_length() - 1
        self.code_domains = tuple(code_domains or ("sync",) * cols)
        if not isinstance(sync_domain, str) or not sync_domain.isidentifier():
            raise ValueError(f"sync_domain must be a domain name, not {sync_domain!r}")
        self.sync_domain = sync_domain
        fine = {}
        if fine_taps > 1:
            fine = {"fine": In(cols * (fine_taps - 1)),
                    "fine_table": In(fine_taps * self.fine_bits)}
        super().__init__({
            "cmp": In(cols),
            "ctl": In(TdcControl(code_bits=tdc_bits - self.fine_bits, early=fine_taps > 1)),
            **fine,
            "codes": Out(cols * tdc_bits),
            "overflow": Out(cols),
            "code_enable": Out(cols),
        })

    def elaborate(self, platform):
        m = Module()
        sync = [Signal(self.cols, name=f"cmp_sync{i}") for i in range(SYNC_STAGES)]
        m.d[self.sync_domain] += sync[0].eq(self.cmp)
        for a, b in pairwise(sync):
            m.d[self.sync_domain] += b.eq(a)
        seen = sync[-1]

        # Epochs. ``started``: no column has fired before the first clear after reset (all
        # epochs 0, and the first clear makes the current one 1).
        epoch, started = Signal(), Signal()
        epochs = Signal(self.cols)
        fired = Signal(self.cols)
        ctl = self.ctl
        m.d.sync += [epoch.eq(epoch ^ ctl.clear), started.eq(started | ctl.clear)]
        m.d.comb += [fired.eq(~(epochs ^ epoch.replicate(self.cols))
                              & started.replicate(self.cols)),
                     ctl.all_fired.eq(fired.all())]
        max_code = (1 << self.tdc_bits) - 1
        if self.decode_held:
            # the coarse code's Gray code, broadcast to the columns
            self._gray_now = Signal.like(ctl.code_now, name="code_now_gray")
            m.d.comb += self._gray_now.eq(ctl.code_now ^ (ctl.code_now >> 1))
        for c in range(self.cols):
            d = m.d[self.code_domains[c]]
            code = self.codes[c * self.tdc_bits:(c + 1) * self.tdc_bits]
            take = ~fired[c] & ctl.capture & seen[c]
            end = ~fired[c] & ~(ctl.capture & seen[c]) & ctl.window_end
            m.d.comb += self.code_enable[c].eq(take | end)
            if self.decode_held:
                self._held_column(m, d, c, code, take, end, epochs[c].eq(epoch))
                continue
            if self.columns_gated:
                d += [epochs[c].eq(epoch), code.eq(Mux(take, self._code(c), max_code)),
                      self.overflow[c].eq(~take)]
                continue
            with m.If(take):
                d += [epochs[c].eq(epoch), code.eq(self._code(c)), self.overflow[c].eq(0)]
            with m.Elif(end):
                d += [epochs[c].eq(epoch), code.eq(max_code), self.overflow[c].eq(1)]
        return m

    def _held_column(self, m, d, c, code, take, end, mark_epoch):
        """``decode_held``: column ``c`` holds (coarse code in Gray code, ones, early) and
        decodes its code."""
        fb = self.fine_bits
        gray = Signal(self.tdc_bits - fb, name=f"coarse_gray{c}")
        ones = Signal(fb, name=f"ones{c}")
        early = Signal(name=f"early{c}")
        if self.columns_gated:
            # The coarse code's broadcast reaches the column's D pins only on its capture
            # cycle: it changes on every edge of the evaluation and would toggle them with it.
            # (The same AND on the ones count saves nothing: it changes twice per conversion.)
            d += [mark_epoch, self.overflow[c].eq(~take), ones.eq(self._ones(c)),
                  gray.eq(self._gray_now & take.replicate(len(gray))),
                  early.eq(self.ctl.early & take)]
        else:
            with m.If(take):
                d += [mark_epoch, gray.eq(self._gray_now), early.eq(self.ctl.early),
                      ones.eq(self._ones(c)), self.overflow[c].eq(0)]
            with m.Elif(end):
                d += [mark_epoch, self.overflow[c].eq(1)]
        m.d.comb += code.eq(Mux(self.overflow[c], (1 << self.tdc_bits) - 1,
                                self._fine_code(ones, gray_to_binary(gray), early)))

    def _code(self, c: int):
        """The code column ``c`` takes when captured now."""
        if self.fine_taps == 1:
            return self.ctl.code_now
        return self._fine_code(self._ones(c), self.ctl.code_now, self.ctl.early)

    def _ones(self, c: int):
        """The ones in column ``c``'s sampler bits (a count, so bubbles do not matter)."""
        k = self.fine_taps
        return popcount_tree(self.fine[c * (k - 1):(c + 1) * (k - 1)])

    def _fine_code(self, ones, coarse, early):
        return fine_code(self.fine_table, self.fine_taps, ones, coarse, early)


def fine_code(fine_table: Value, fine_taps: int, ones, coarse, early) -> Value:
    """A two-step code: ``coarse * K + fine_table[ones]``, or 0 for a trip before code 0
    (``early``); ``fine_table`` is FINE_TABLE's ``K`` entries of ``log2 K`` bits, packed."""
    fb = fine_taps.bit_length() - 1
    table = Array(fine_table[i * fb:(i + 1) * fb] for i in range(fine_taps))
    return Mux(early, 0, Cat(table[ones], coarse))
