"""Input / word-line drivers: input bits to per-row bypass controls.

Input +1 keeps the left MTJ (holding W) in the string and bypasses the right one; input -1 does
the opposite (``sim_models.array.bypass_for_inputs`` is the reference). A second load path takes
explicit bypass patterns, e.g. "bypass every MTJ but one" for the write-verify read of a single
MTJ. The controls are registered, so they are stable for the whole precharge and evaluation.

Without the second path (``raw=False``: a build without write-verify) every pattern is an input
vector's, so ``arr_bypass_r`` is always the inverse of ``arr_bypass_l``: one flip-flop per row
holds the input bit and drives both pins (``arr_bypass_l`` through an inverter, still
glitch-free: one input), instead of two.
"""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.interfaces import BypassPattern

__all__ = ["InputDriver"]


class InputDriver(wiring.Component):
    """On ``load``, drive the bypass pins for input bits ``x`` (bit r = row r, 1 = +1); on
    ``bypass.load`` (only with ``raw``: :class:`~.interfaces.BypassPattern`), drive
    ``bypass.bypass_l`` / ``bypass.bypass_r`` as given (``load`` wins)."""

    def __init__(self, *, rows: int, raw: bool = True):
        if not isinstance(raw, bool):
            raise TypeError(f"raw must be a bool, not {raw!r}")
        self.rows, self.raw = rows, raw
        super().__init__({
            "load": In(1),
            "x": In(rows),
            **({"bypass": In(BypassPattern(rows=rows))} if raw else {}),
            "arr_bypass_l": Out(rows),
            "arr_bypass_r": Out(rows),
        })

    def elaborate(self, platform):
        m = Module()
        if not self.raw:
            held = Signal(self.rows)
            with m.If(self.load):
                m.d.sync += held.eq(self.x)
            m.d.comb += [self.arr_bypass_l.eq(~held), self.arr_bypass_r.eq(held)]
            return m
        with m.If(self.load):
            m.d.sync += [self.arr_bypass_l.eq(~self.x), self.arr_bypass_r.eq(self.x)]
        with m.Elif(self.bypass.load):
            m.d.sync += [self.arr_bypass_l.eq(self.bypass.bypass_l),
                         self.arr_bypass_r.eq(self.bypass.bypass_r)]
        return m
