"""Input / word-line drivers: input bits to per-row bypass controls.

Input +1 keeps the left MTJ (holding W) in the string and bypasses the right one; input -1 does
the opposite (``sim_models.array.bypass_for_inputs`` is the reference). The controls are
registered, so they are stable for the whole precharge and evaluation.
"""

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["InputDriver"]


class InputDriver(wiring.Component):
    """On ``load``, drive the bypass pins for input bits ``x`` (bit r = row r, 1 = +1)."""

    def __init__(self, *, rows: int):
        self.rows = rows
        super().__init__({
            "load": In(1),
            "x": In(rows),
            "arr_bypass_l": Out(rows),
            "arr_bypass_r": Out(rows),
        })

    def elaborate(self, platform):
        m = Module()
        with m.If(self.load):
            m.d.sync += [self.arr_bypass_l.eq(~self.x), self.arr_bypass_r.eq(self.x)]
        return m
