"""The point-to-point interfaces between the periphery blocks, each defined once.

Each is a :class:`wiring.Signature` seen from the block that starts the exchange (its ``Out``
members are that block's outputs); the block at the other end takes it flipped (``In(...)``),
and the top joins the two with :func:`wiring.connect`:

=====================  ===================================  ===================================
interface              driven by (``Out``)                   taken by (``In``)
=====================  ===================================  ===================================
:class:`TdcControl`    :class:`ReadControl` ``.tdc``         :class:`Tdc` ``.ctl``
:class:`EdgeTdcControl` :class:`ReadControl` ``.tdc``        :class:`EdgeCaptureTdc` ``.ctl``
                       (``edge_capture=True``)
:class:`ReadCommand`   :class:`Sequencer` ``.read``          :class:`ReadControl` ``.cmd``
:class:`FrameLoad`     :class:`Sequencer` ``.result``        :class:`ResultSerializer` ``.frame``
:class:`VectorHandoff` :class:`InputDeserializer`           :class:`Sequencer` ``.vector``
                       ``.handoff``
:class:`BypassPattern` :class:`WriteController` ``.bypass``  :class:`InputDriver` ``.bypass``
=====================  ===================================  ===================================
"""

from __future__ import annotations

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.layouts import InputFlags

__all__ = ["TdcControl", "EdgeTdcControl", "ReadCommand", "FrameLoad", "VectorHandoff",
           "BypassPattern"]


class TdcControl(wiring.Signature):
    """The read control's time base and conversion window, to a TDC's columns.

    ``clear`` (one cycle, in precharge) starts a conversion; on an edge with ``capture`` a
    column seen tripped takes ``code_now`` (its coarse count with a two-step TDC); on the edge
    with ``window_end`` the columns not yet tripped saturate; ``early`` (two-step only) marks
    edges that stand for a code before 0. ``all_fired`` (back to the read control) is high once
    every column has a code. The full contract is :class:`~.tdc.Tdc`'s.
    """

    def __init__(self, *, code_bits: int, early: bool):
        """``code_bits``: width of ``code_now``; ``early``: whether there is an ``early``
        (a two-step TDC)."""
        if isinstance(code_bits, bool) or not isinstance(code_bits, int) or code_bits < 1:
            raise TypeError(f"code_bits must be a positive integer, not {code_bits!r}")
        if not isinstance(early, bool):
            raise TypeError(f"early must be a bool, not {early!r}")
        self.code_bits, self.early = code_bits, early
        super().__init__({
            "clear": Out(1),
            "capture": Out(1),
            "window_end": Out(1),
            "code_now": Out(code_bits),
            **({"early": Out(1)} if early else {}),
            "all_fired": In(1),
        })


class EdgeTdcControl(wiring.Signature):
    """The read control's time base, to the columns of a TDC that captures on the comparators'
    edges (:class:`~.edge_tdc.EdgeCaptureTdc`, whose docstring has the full contract).

    ``count_pos``: the biased coarse count (0-1 early, coarse code + 2, saturating at
    ``2**coarse_bits + 2``) in Gray code, changing just after rising clock edges;
    ``parity_neg``: its parity (the binary count's lowest bit), taken at falling edges;
    ``enable``: the TDC front end is on (the comparators' output enable, the
    macro's ``arr_tdc_en``); ``take_end``: on this edge the conversion ends (the columns'
    ones counts and overflow flags are taken). ``all_fired`` (back to the read control):
    every comparator has tripped, through a synchroniser (valid only from ``SYNC_STAGES`` of
    its clock's edges after ``enable`` rose).
    """

    def __init__(self, *, coarse_bits: int):
        """``coarse_bits``: width of the coarse code."""
        if isinstance(coarse_bits, bool) or not isinstance(coarse_bits, int) or coarse_bits < 1:
            raise TypeError(f"coarse_bits must be a positive integer, not {coarse_bits!r}")
        self.coarse_bits = coarse_bits
        #: The biased count of a trip after the last code (where the count saturates).
        self.late = (1 << coarse_bits) + 2
        #: Width of the biased count (0 .. :attr:`late`).
        self.count_bits = self.late.bit_length()
        super().__init__({
            "count_pos": Out(self.count_bits),
            "parity_neg": Out(1),
            "enable": Out(1),
            "take_end": Out(1),
            "all_fired": In(1),
        })


class ReadCommand(wiring.Signature):
    """One evaluation on request: ``start`` (accepted only while ``idle``) runs one; ``done``
    pulses for one cycle when its codes are final (``idle`` is high then too, so the next may
    start on that edge)."""

    def __init__(self):
        super().__init__({"start": Out(1), "idle": In(1), "done": In(1)})


class FrameLoad(wiring.Signature):
    """A result frame handed to the serializer: ``load`` (only while ``busy`` is low) starts
    it; ``busy`` stays high until its last beat has left, and meanwhile the producer holds the
    frame's data still (it is read in place)."""

    def __init__(self):
        super().__init__({"load": Out(1), "busy": In(1)})


class VectorHandoff(wiring.Signature):
    """An input vector waiting to be evaluated: ``valid`` is high while one is held (with its
    ``flags``, :class:`~mram_macro.design.layouts.InputFlags`); ``take`` consumes it. (Its bits go
    to the input drivers, not through here.)"""

    def __init__(self):
        super().__init__({"valid": Out(1), "flags": Out(InputFlags), "take": In(1)})


class BypassPattern(wiring.Signature):
    """An explicit bypass pattern for the input drivers (the write-verify's single-MTJ read):
    on ``load`` they drive ``bypass_l`` / ``bypass_r`` (``rows`` bits each) to the array."""

    def __init__(self, *, rows: int):
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise TypeError(f"rows must be a positive integer, not {rows!r}")
        super().__init__({"load": Out(1), "bypass_l": Out(rows), "bypass_r": Out(rows)})
