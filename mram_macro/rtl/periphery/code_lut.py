"""Per-column code -> value look-up table of ``tdc_mode="coarse"`` (the chip's off-chip table,
moved into the macro).

Each column ``c`` holds ``2**tdc_bits`` signed entries; ``values[c]`` is the entry its current
code selects, ``table[c][codes[c]]`` (combinational). Entries are loaded one at a time from the
register file's LUT_ENTRY window (:func:`mram_macro.design.regmap.lut_entry_register`) and reset to
the nominal table (:func:`sim_models.coarse.nominal_table`). Storage is flip-flops: all columns read
their entry in the same cycle, which a single-ported RAM could not do.
"""

from amaranth import C, Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["CodeLut"]


class CodeLut(wiring.Component):
    """Contract:

    * On an edge with ``write`` high, entry ``[write_col][write_code]`` takes ``write_value``
      (a ``write_col`` of ``cols`` or more changes nothing). Entries change on no other edge,
      so a clock gated by ``write`` is exact.
    * ``values`` (column 0 in the low bits, ``value_width`` bits each, unsigned) is
      ``table[c][codes[c]]`` for every column.

    The macro stores estimated matching-cell counts (LUT_ENTRY.COUNT); the accumulator turns
    them into pass values ``2·count - rows``.
    """

    def __init__(self, *, cols: int, tdc_bits: int, value_width: int, reset_table):
        """``reset_table``: ``2**tdc_bits`` unsigned integers, every column's reset entries."""
        reset = [int(v) for v in reset_table]
        if len(reset) != 1 << tdc_bits:
            raise ValueError(f"reset_table must have {1 << tdc_bits} entries, not {len(reset)}")
        if any(not 0 <= v < 1 << value_width for v in reset):
            raise ValueError(f"reset_table entries must fit {value_width} unsigned bits, "
                             f"not {reset}")
        self.cols, self.tdc_bits, self.value_width = cols, tdc_bits, value_width
        self.reset_table = tuple(reset)
        super().__init__({
            "codes": In(cols * tdc_bits),
            "write": In(1),
            "write_col": In(8),
            "write_code": In(tdc_bits),
            "write_value": In(value_width),
            "values": Out(cols * value_width),
        })

    def elaborate(self, platform):
        m = Module()
        b, w = self.tdc_bits, self.value_width
        col_hit = Signal(self.cols)
        code_hit = Signal(1 << b)
        m.d.comb += [col_hit.eq(C(1, self.cols) << self.write_col),
                     code_hit.eq(C(1, 1 << b) << self.write_code)]
        outs = []
        for c in range(self.cols):
            entries = [Signal(w, init=self.reset_table[k], name=f"lut_c{c}_k{k}")
                       for k in range(1 << b)]
            for k, entry in enumerate(entries):
                with m.If(self.write & col_hit[c] & code_hit[k]):
                    m.d.sync += entry.eq(self.write_value)
            code = self.codes[c * b:(c + 1) * b]
            value = Signal(w, name=f"lut_value{c}")
            with m.Switch(code):
                for k, entry in enumerate(entries):
                    with m.Case(k):
                        m.d.comb += value.eq(entry)
            outs.append(value)
        m.d.comb += self.values.eq(Cat(*outs))
        return m
