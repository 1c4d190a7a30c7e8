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

__all__ = ["InputDriver"]


class InputDriver(wiring.Component):
    """On ``load``, drive the bypass pins for input bits ``x`` (bit r = row r, 1 = +1); on
    ``load_raw`` (only with ``raw``), drive ``raw_bypass_l`` / ``raw_bypass_r`` as given
    (``load`` wins)."""

    def __init__(self, *, rows: int, raw: bool = True):
        if not isinstance(raw, bool):
            raise TypeError(f"raw must be a bool, not {raw!r}")
        self.rows, self.raw = rows, raw
        super().__init__({
            "load": In(1),
            "x": In(rows),
            **({"load_raw": In(1), "raw_bypass_l": In(rows), "raw_bypass_r": In(rows)}
               if raw else {}),
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
        with m.Elif(self.load_raw):
            m.d.sync += [self.arr_bypass_l.eq(self.raw_bypass_l),
                         self.arr_bypass_r.eq(self.raw_bypass_r)]
        return m
