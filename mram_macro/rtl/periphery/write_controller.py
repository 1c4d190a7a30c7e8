"""Write controller: programs one row in two phases, W into the left MTJs, then W-bar into the
right ones, each followed (when enabled) by a write-verify.

Write-verify of a phase: every MTJ of the row on that side is read alone, all columns at once
(every other MTJ of each column is bypassed, so the column string holds one MTJ plus bypass
transistors), through the normal precharge/evaluate/TDC path with its own start delay. A code
below the threshold reads as low resistance. Columns that read wrong are rewritten (the whole
side: rewriting a correct MTJ with its own value does not disturb it), up to ``max_retries``
times, with the pulse doubled each retry if ``pulse_doubling`` is set. Cells still wrong after
that are reported through ``fail_*``: no wrong weight is left silently.

A command is latched (so the host may reload WEIGHT_DATA at once) and waits until the sequencer
reports the array idle; from then on the write owns the array until it is finished.

Built with ``verify=False`` (``MacroConfig.write_verify=False``, and every coarse-TDC build) the
controller has no read-back: it runs the same states with the same pin timing as with
``verify_enable`` low (so a row write takes the same cycles), and the read-back, retry and
failure logic is not there (``verifying``, ``read_start``, ``bypass.load``, ``retry``,
``fail_valid``, ``fail_mask`` and ``fail_cells`` are constant 0, ``verify_enable``,
``max_retries``, ``pulse_doubling``, ``threshold``, ``codes`` and ``overflow`` unread).
"""

from amaranth import Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.interfaces import BypassPattern

__all__ = ["WriteController"]

_MAX_PULSE = 0xFFFF


def popcount_tree(bits: Value) -> Value:
    """Number of ones in ``bits`` as a balanced adder tree (log2 depth, not a chain)."""
    terms: list[Value] = [bits[i] for i in range(len(bits))]
    if not terms:
        return Const(0, 1)
    while len(terms) > 1:
        pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


class WriteController(wiring.Component):
    """``start`` is accepted only when ``busy`` is low; ``busy`` stays high until the row is
    written (and verified). ``fail_valid`` pulses at the end of a row that kept wrong cells, with
    ``fail_mask`` (one bit per column, either MTJ wrong) and ``fail_cells`` (its popcount,
    registered: it follows ``fail_mask`` one cycle later, and ``fail_valid`` comes at least two
    cycles after ``fail_mask`` last changed); ``retry`` pulses once per rewrite."""

    def __init__(self, *, rows: int, cols: int, tdc_bits: int, verify: bool = True):
        if not isinstance(verify, bool):
            raise TypeError(f"verify must be a bool, not {verify!r}")
        self.rows, self.cols, self.tdc_bits, self.verify = rows, cols, tdc_bits, verify
        super().__init__({
            "start": In(1),
            "row": In(range(rows)),
            "data": In(cols),
            "pulse_cycles": In(16),
            "array_idle": In(1),
            "busy": Out(1),
            # write-verify settings
            "verify_enable": In(1),
            "max_retries": In(4),
            "pulse_doubling": In(1),
            "threshold": In(tdc_bits + 1),
            # read path, shared with the sequencer
            "verifying": Out(1),
            "read_start": Out(1),
            "read_done": In(1),
            "codes": In(cols * tdc_bits),
            "overflow": In(cols),
            "bypass": Out(BypassPattern(rows=rows)),
            # outcome
            "retry": Out(1),
            "fail_valid": Out(1),
            "fail_row": Out(range(rows)),
            "fail_mask": Out(cols),
            "fail_cells": Out(range(cols + 1)),
            # write drivers
            "arr_wr_row": Out(rows),
            "arr_wr_side": Out(1),
            "arr_wr_data": Out(cols),
            "arr_wr_pulse": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cols = self.cols
        row = Signal.like(self.row)
        data = Signal(cols)
        side = Signal()
        pulse_len = Signal(16)
        pulse_left = Signal(16)
        retries_left = Signal(4)
        failed = Signal(cols)          # wrong cells of this row, over both sides
        side_data = Signal(cols)       # what this side's MTJs must hold (1 = low resistance)
        m.d.comb += side_data.eq(Mux(side, ~data, data))

        if self.verify:
            wrong = self._read_back(m, row, side, side_data, failed)

        def drive_pins():
            return [self.arr_wr_row.eq(1 << row), self.arr_wr_side.eq(side),
                    self.arr_wr_data.eq(side_data)]

        def release_pins():
            return [self.arr_wr_row.eq(0), self.arr_wr_side.eq(0), self.arr_wr_data.eq(0)]

        with m.FSM(name="write"):
            with m.State("Idle"):
                with m.If(self.start):
                    m.d.sync += [row.eq(self.row), data.eq(self.data), side.eq(0),
                                 pulse_len.eq(self.pulse_cycles)]
                    if self.verify:
                        m.d.sync += [retries_left.eq(self.max_retries), failed.eq(0)]
                    m.next = "Wait_Array"
            with m.State("Wait_Array"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.array_idle):
                    m.d.sync += drive_pins()
                    m.next = "Setup"
            with m.State("Setup"):
                # Row and bit lines settle a cycle before the pulse.
                m.d.comb += self.busy.eq(1)
                m.d.sync += [self.arr_wr_pulse.eq(1), pulse_left.eq(pulse_len - 1)]
                m.next = "Pulse"
            with m.State("Pulse"):
                m.d.comb += self.busy.eq(1)
                with m.If(pulse_left == 0):
                    m.d.sync += self.arr_wr_pulse.eq(0)
                    m.next = "Hold"
                with m.Else():
                    m.d.sync += pulse_left.eq(pulse_left - 1)
            with m.State("Hold"):
                # Row and bit lines stay one cycle after the pulse falls.
                m.d.comb += self.busy.eq(1)
                m.d.sync += release_pins()
                if self.verify:
                    with m.If(self.verify_enable):
                        m.next = "Verify_Select"
                    with m.Else():
                        m.next = "Next_Side"
                else:
                    m.next = "Next_Side"
            if self.verify:
                self._verify_states(m, wrong, retries_left, failed, pulse_len, drive_pins)
            with m.State("Next_Side"):
                m.d.comb += self.busy.eq(1)
                with m.If(side == 0):
                    m.d.sync += [side.eq(1), pulse_len.eq(self.pulse_cycles),
                                 self.arr_wr_row.eq(1 << row), self.arr_wr_side.eq(1),
                                 self.arr_wr_data.eq(~data)]
                    if self.verify:
                        m.d.sync += retries_left.eq(self.max_retries)
                    m.next = "Setup"
                with m.Else():
                    m.next = "Report"
            with m.State("Report"):
                m.d.comb += self.busy.eq(1)
                if self.verify:
                    m.d.comb += self.fail_valid.eq(failed.any())
                m.next = "Idle"
        return m

    def _read_back(self, m, row, side, side_data, failed):
        """The verify read's bypass patterns, and ``wrong``: the columns whose single MTJ read
        back other than ``side_data``."""
        rows, cols, bits = self.rows, self.cols, self.tdc_bits
        # Read-back: 1 where a column's single MTJ reads low (code below threshold, fired).
        reads_low = Signal(cols)
        for c in range(cols):
            code = self.codes[c * bits:(c + 1) * bits]
            m.d.comb += reads_low[c].eq((code < self.threshold) & ~self.overflow[c])
        wrong = Signal(cols)
        m.d.comb += wrong.eq(reads_low ^ side_data)
        m.d.comb += [
            self.fail_mask.eq(failed),
            self.fail_row.eq(row),
            # single-MTJ read of (row, side): bypass everything else
            self.bypass.bypass_l.eq(Const(-1, rows) ^ Mux(side, 0, 1 << row)),
            self.bypass.bypass_r.eq(Const(-1, rows) ^ Mux(side, 1 << row, 0)),
        ]
        # Registered, from a tree: the failure count's adder in the top starts from a flip-flop.
        m.d.sync += self.fail_cells.eq(popcount_tree(failed))
        return wrong

    def _verify_states(self, m, wrong, retries_left, failed, pulse_len, drive_pins):
        """The write FSM's verify states (in the FSM ``elaborate`` opened)."""
        with m.State("Verify_Select"):
            m.d.comb += [self.busy.eq(1), self.verifying.eq(1), self.bypass.load.eq(1)]
            m.next = "Verify_Read"
        with m.State("Verify_Read"):
            m.d.comb += [self.busy.eq(1), self.verifying.eq(1), self.read_start.eq(1)]
            m.next = "Verify_Wait"
        with m.State("Verify_Wait"):
            m.d.comb += [self.busy.eq(1), self.verifying.eq(1)]
            with m.If(self.read_done):
                m.next = "Verify_Check"
        with m.State("Verify_Check"):
            m.d.comb += self.busy.eq(1)
            with m.If(wrong.any() & (retries_left != 0)):
                m.d.comb += self.retry.eq(1)
                m.d.sync += [retries_left.eq(retries_left - 1), drive_pins()]
                with m.If(self.pulse_doubling):
                    m.d.sync += pulse_len.eq(Mux(pulse_len > (_MAX_PULSE >> 1), _MAX_PULSE,
                                                 pulse_len << 1))
                m.next = "Setup"
            with m.Else():
                m.d.sync += failed.eq(failed | wrong)
                m.next = "Next_Side"
