"""Accumulator: TDC codes to signed dot products, with per-column offset (and optionally gain)
calibration.

Without ``gain`` (``calibration="offset"``) one pass gives ``CAL_OFFSET[c] - 2 * code[c]``.
With ``gain`` one pass gives ``CAL_OFFSET[c] - 2 * ((gain[c] * code[c] + 2**(F-1)) >> F)``, ``F`` =
``CAL_GAIN_FRAC_BITS``: the code scaled by the unsigned fixed-point gain and rounded to the
nearest integer (halves up), doubled, subtracted from the offset. With the reset gain
``2**F`` (1.0) this is ``CAL_OFFSET[c] - 2 * code[c]`` exactly; with the reset offset ``rows``
and an ideal array, ``code`` counts the mismatching cells, so this is ``sum_r x_r * w_rc``.
``code`` is the TDC's count-unit code, whatever the TDC architecture.

With ``registered_scale`` the scaled code ``round(gain * code)`` is registered in the clock
domain ``scale`` (the top renames it to ``g_scale``, a clock gated to the edges a capture needs:
:attr:`~mram_macro.rtl.periphery.sequencer.Sequencer.scale_window`): the multiplier then has a
cycle of its own, and ``codes`` and ``gains`` must be stable for one ``scale`` edge before
``capture`` (the sequencer captures at least one cycle after the codes are final). A pass either
clears the accumulator or adds to it; with ``shift`` the accumulator is doubled first and with
``negate`` the pass is subtracted (shift-and-add of bit-serial two's-complement inputs:
``acc' = (accumulate ? (shift ? 2 acc : acc) : 0) + (negate ? -pass : pass)``). Sums wrap at
``result_width`` bits (two's complement).
With ``count_width`` (``tdc_mode="coarse"``) the pass value is ``2 * counts[c] - rows``, from
the column's code -> count table entry (:class:`~mram_macro.rtl.periphery.code_lut.CodeLut`),
instead of ``CAL_OFFSET[c] - 2 * code[c]``, and there is no ``offsets`` input.
In raw mode (MODE.RAW_CODES) each column's value is its TDC code itself, for calibration.
``fires[c]`` is 1 where ``values[c] >= thresholds[c]`` (signed): the activation bits of
MODE.ACTIVATION, from the captured values (the register the result serializer reads in place).
They are valid only while ``activation`` is high; while it is low the comparators see 0 instead
of ``values`` (``fires[c] = 0 >= thresholds[c]``), so they stay still while the results change
every pass (operand isolation: only MODE.ACTIVATION reads them). Without ``thresholds``
(a build with ``activation=False``) there are no comparators and no ``thresholds``,
``activation`` and ``fires`` ports. Without ``multibit`` (``MacroConfig.multibit=False``) every
pass is a single pass: ``acc' = pass``, with no running-sum adder and no ``accumulate``,
``shift`` and ``negate`` ports. Without ``register`` (``MacroConfig.result_register=False``:
single passes, no thresholds, no registered scale) there is no register at all: ``values`` is
``next_values``, computed from the codes and offsets as they are (the macro streams them while
its TDC holds the codes), and ``capture`` is not used.
"""

from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.config import CAL_GAIN_FRAC_BITS, CAL_GAIN_ONE, CAL_GAIN_WIDTH

__all__ = ["Accumulator"]

class Accumulator(wiring.Component):
    """``next_values`` is what ``values`` becomes on a ``capture`` edge; both are the columns'
    signed results concatenated, column 0 in the low bits. ``values`` is also the result
    vector the serializer streams out, and ``fires`` its activation bits."""

    def __init__(self, *, cols: int, tdc_bits: int, result_width: int,
                 count_width: int | None = None, rows: int = 0, gain: bool = False,
                 registered_scale: bool = False, thresholds: bool = True,
                 multibit: bool = True, capture_gated: bool = False, register: bool = True):
        """``capture_gated``: the caller clocks the ``sync`` domain only on edges with
        ``capture`` high (a clock gate, or reset), so the register needs no enable multiplexer
        of its own (``values`` takes ``next_values`` on every edge it sees). ``register``:
        False for none (``values`` follows ``next_values``; see the module docstring)."""
        for name, flag in (("gain", gain), ("registered_scale", registered_scale),
                           ("thresholds", thresholds), ("multibit", multibit),
                           ("capture_gated", capture_gated), ("register", register)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {flag!r}")
        if not register and (multibit or thresholds or registered_scale):
            raise ValueError("an accumulator without a register holds no running sum, "
                             "activation bits or registered scale: it needs multibit=False, "
                             "thresholds=False and registered_scale=False")
        if gain and count_width is not None:
            raise ValueError("a coarse accumulator (count_width) has no gain")
        self.cols, self.tdc_bits, self.result_width = cols, tdc_bits, result_width
        self.count_width, self.rows = count_width, rows
        self.gain, self.registered_scale = gain, registered_scale
        self.has_thresholds, self.multibit = thresholds, multibit
        self.capture_gated, self.register = capture_gated, register
        compare = ({"thresholds": In(cols * result_width), "activation": In(1),
                    "fires": Out(cols)} if thresholds else {})
        pass_input = ({"offsets": In(cols * result_width)} if count_width is None
                      else {"counts": In(cols * count_width)})
        if gain:
            pass_input["gains"] = In(cols * CAL_GAIN_WIDTH, init=sum(
                CAL_GAIN_ONE << (c * CAL_GAIN_WIDTH) for c in range(cols)))
        super().__init__({
            "codes": In(cols * tdc_bits),
            **pass_input,
            "capture": In(1),
            **({"accumulate": In(1), "shift": In(1), "negate": In(1)} if multibit else {}),
            "raw": In(1),
            "next_values": Out(cols * result_width),
            "values": Out(cols * result_width),
            **compare,
        })

    def elaborate(self, platform):
        m = Module()
        w, b, gw, frac = self.result_width, self.tdc_bits, CAL_GAIN_WIDTH, CAL_GAIN_FRAC_BITS
        nexts, fires = [], []
        for c in range(self.cols):
            code = self.codes[c * b:(c + 1) * b]
            if self.count_width is not None:
                n = self.count_width
                term = (self.counts[c * n:(c + 1) * n] << 1) - self.rows
            elif not self.gain:
                term = self.offsets[c * w:(c + 1) * w].as_signed() - (code << 1)
            else:
                offset = self.offsets[c * w:(c + 1) * w].as_signed()
                gain = self.gains[c * gw:(c + 1) * gw]
                scaled = Signal(b + CAL_GAIN_WIDTH - frac, name=f"scaled{c}")
                product = (gain * code + (1 << (frac - 1))) >> frac
                if self.registered_scale:
                    m.d.scale += scaled.eq(product)
                else:
                    m.d.comb += scaled.eq(product)
                term = offset - (scaled << 1)
            if self.multibit:
                prev = self.values[c * w:(c + 1) * w].as_signed()
                base = Mux(self.accumulate, Mux(self.shift, prev << 1, prev), 0)
                cooked = (base + Mux(self.negate, -term, term))[:w]
            else:
                # through a w-bit signal: a term narrower than w (a coarse table's
                # 2 * count - rows on few rows) is sign-extended, not zero-extended
                single = Signal(signed(w), name=f"single{c}")
                m.d.comb += single.eq(term)
                cooked = single
            value = Mux(self.raw, code, cooked)[:w]
            nexts.append(value)
            if self.has_thresholds:
                held = self.values[c * w:(c + 1) * w]
                isolated = (held & self.activation.replicate(w)).as_signed()
                fires.append(isolated >= self.thresholds[c * w:(c + 1) * w].as_signed())
        m.d.comb += self.next_values.eq(Cat(*nexts))
        if self.has_thresholds:
            m.d.comb += self.fires.eq(Cat(*fires))
        if not self.register:
            m.d.comb += self.values.eq(self.next_values)
        elif self.capture_gated:
            m.d.sync += self.values.eq(self.next_values)
        else:
            with m.If(self.capture):
                m.d.sync += self.values.eq(self.next_values)
        return m

