"""Write controller: programs one row in two phases, W into the left MTJs, then W-bar into the
right ones, with a pulse width taken from WRITE_PULSE_CYCLES.

A command is latched (so the host may reload WEIGHT_DATA at once) and waits until the sequencer
reports the array idle; from then on the write owns the array until it is finished.
"""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["WriteController"]


class WriteController(wiring.Component):
    """``start`` is accepted only when ``busy`` is low; ``busy`` stays high until the last pulse
    has ended. ``active`` is high while the array is driven (after ``array_idle`` was seen)."""

    def __init__(self, *, rows: int, cols: int):
        self.rows, self.cols = rows, cols
        super().__init__({
            "start": In(1),
            "row": In(range(rows)),
            "data": In(cols),
            "pulse_cycles": In(16),
            "array_idle": In(1),
            "busy": Out(1),
            "active": Out(1),
            "arr_wr_row": Out(rows),
            "arr_wr_side": Out(1),
            "arr_wr_data": Out(cols),
            "arr_wr_pulse": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        row = Signal.like(self.row)
        data = Signal(self.cols)
        pulse_left = Signal(16)

        def setup(side):
            # Select the row and put the phase's data on the bit lines a cycle before the pulse.
            return [self.arr_wr_row.eq(1 << row), self.arr_wr_side.eq(side),
                    self.arr_wr_data.eq(data if side == 0 else ~data)]

        with m.FSM(name="write"):
            with m.State("Idle"):
                with m.If(self.start):
                    m.d.sync += [row.eq(self.row), data.eq(self.data)]
                    m.next = "Wait_Array"
            with m.State("Wait_Array"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.array_idle):
                    m.d.sync += setup(0)
                    m.next = "Setup_W"
            for side, phase in ((0, "W"), (1, "Wbar")):
                with m.State(f"Setup_{phase}"):
                    m.d.comb += [self.busy.eq(1), self.active.eq(1)]
                    m.d.sync += [self.arr_wr_pulse.eq(1), pulse_left.eq(self.pulse_cycles - 1)]
                    m.next = f"Pulse_{phase}"
                with m.State(f"Pulse_{phase}"):
                    m.d.comb += [self.busy.eq(1), self.active.eq(1)]
                    with m.If(pulse_left == 0):
                        m.d.sync += self.arr_wr_pulse.eq(0)
                        m.next = f"Hold_{phase}"
                    with m.Else():
                        m.d.sync += pulse_left.eq(pulse_left - 1)
                with m.State(f"Hold_{phase}"):
                    # Keep row and data stable one cycle after the pulse falls.
                    m.d.comb += [self.busy.eq(1), self.active.eq(1)]
                    if side == 0:
                        m.d.sync += setup(1)
                        m.next = "Setup_Wbar"
                    else:
                        m.d.sync += [self.arr_wr_row.eq(0), self.arr_wr_data.eq(0),
                                     self.arr_wr_side.eq(0)]
                        m.next = "Idle"
        return m
