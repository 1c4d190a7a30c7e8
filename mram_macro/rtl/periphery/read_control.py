"""Read/evaluate control: precharge, evaluate, TDC start and stop, with a hard timeout.

Timing (the contract of ``sim_models/readout.py``): evaluation starts at the edge ``E`` that
raises ``arr_eval``; the timer ``t`` counts edges since ``E``. With ``S`` synchroniser stages, a
comparator first high at edge ``E + m`` is captured at edge ``E + m + S``, where ``t = m + S - 1``,
and gets code ``m - D - 1 = t - S - D`` (clamped at 0), ``D`` being TDC_START_DELAY. The window
closes at ``t = D + S + max_code``; evaluation then stops whether or not every comparator fired,
so a dead comparator costs one window and never hangs the macro.

With a two-step TDC (``two_step``), ``tdc_bits`` here is the coarse code width and
``tdc.early`` (the edge stands for a code before 0) lets the TDC give such early trips code 0
whatever the fine value.

Late enable: no trip before ``D + 1`` can take a code other than 0, so the TDC front end (the
comparators' bias, the interpolator's phase generator and samplers, and the synchronisers'
clock) is switched on only from ``t = D - 1``: ``arr_tdc_en`` (a flip-flop, so the pin is
glitch-free) is high on the cycles of the evaluation with ``t >= D - 1``, one period before the
synchronisers first sample ``arr_cmp``, so the comparators have a period to settle. Capture
waits another ``S`` edges for the synchronisers to flush what they held from the previous
evaluation (they are not clocked in between). A column that tripped before ``D - 1`` is then
captured at ``t = D + S - 1``, still before code 0, and gets code 0 as before: every code is
the same as with the front end always on. Only an evaluation whose columns all tripped before
code 0 ends later (``arr_eval`` falls at ``E + max(m_max, D) + S + 1``).

Held codes (``stream_hold``, for a macro that streams its results from the TDC's codes,
``MacroConfig.result_register=False``): while ``hold`` is high the codes of the previous
evaluation are still being read, so no capture may overwrite them. The precharge is extended
until the ``hold_beats`` beats still to go fit in the edges before the first capture (``D + S``
of them at one beat per cycle; with the default start delay this never waits), or, once the
sink has stalled (``hold_stalled``: a beat waited for it in this frame or the last), until the
stream has ended; an evaluation that reaches its first capture edge with ``hold`` still high
(the stream stalled after the evaluation began) is abandoned: ``arr_eval`` and ``arr_tdc_en``
fall, ``tdc.clear`` is raised once more (which gives the columns back the epoch of the held
codes, tdc.py) and the precharge starts again.

Edge capture (``edge_capture``, :class:`~.edge_tdc.EdgeCaptureTdc`): ``tdc`` is an
:class:`~.interfaces.EdgeTdcControl`. The read control keeps the biased coarse count in Gray
code (``count_pos``: in the period after edge ``E + j`` it is ``j - D + 2`` clamped to
``0 .. 2**tdc_bits + 2``, so 0-1 stand for a trip before code 0 and ``2**tdc_bits + 2`` for
one after the last; 0 outside evaluations) and its parity half a period later
(``parity_neg``, a register on the inverted clock). ``enable`` is ``arr_tdc_en``: the
columns see no comparator edge while it is low, so held codes being streamed are safe until
the front end turns on; the precharge waits until the beats still to go fit in the ``D - 1``
edges before the edge that turns it on, and an evaluation that reaches that edge with
``hold`` still high is abandoned.
The evaluation ends (``take_end``) on the edge that sees ``all_fired`` (its synchroniser
flushed, as the capture rule above) or on the window's end, as with sampled capture: a trip
in the window's last period (edge ``E + D + max_code + 1`` at the latest) is taken two edges
before it.
"""

from amaranth import Cat, ClockDomain, ClockSignal, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.rtl.periphery.interfaces import EdgeTdcControl, ReadCommand, TdcControl
from mram_macro.rtl.periphery.tdc import SYNC_STAGES

__all__ = ["ReadControl", "COUNT_LOW_BITS"]

#: Low bits of the read control's edge counter that count on every edge (the high bits are
#: clocked only on a carry out of them: ``count_domain``).
COUNT_LOW_BITS = 5


class ReadControl(wiring.Component):
    """Runs one evaluation per ``cmd.start`` pulse (accepted only while ``cmd.idle``), and
    drives the TDC through ``tdc`` (:class:`~.interfaces.TdcControl`).

    ``cmd.done`` pulses for one cycle when the TDC codes are final; ``cmd.idle`` is high in
    that cycle too, so the next evaluation may start on the edge that ends it (back to back:
    the next precharge begins one period after ``arr_eval`` falls).
    """

    def __init__(self, *, tdc_bits: int, two_step: bool = False, stream_hold: bool = False,
                 count_domain: str = "sync", precharge_domain: str = "sync",
                 edge_capture: bool = False):
        """``tdc_bits``: the width of ``tdc.code_now`` (the coarse code of a two-step TDC);
        ``two_step``: the TDC is a two-step one and takes ``tdc.early``.
        ``stream_hold``: the ``hold``, ``hold_beats`` and ``hold_stalled`` inputs (module
        docstring).
        ``count_domain``: the clock domain of the high bits of the edge counter (above its
        low :data:`COUNT_LOW_BITS`), which change only on the edges with ``count_enable``
        high (a start, an abandon, a carry out of the low bits); ``precharge_domain``: that of
        the precharge counter, which changes only on edges with ``precharge_enable`` high.
        A clock gated by the enable is exact (the top's ``g_rc_cnt`` and ``g_rc_pre``).
        ``edge_capture``: drive an :class:`~.edge_tdc.EdgeCaptureTdc` (module docstring; needs
        ``two_step``)."""
        for name, flag in (("two_step", two_step), ("stream_hold", stream_hold),
                           ("edge_capture", edge_capture)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, not {flag!r}")
        if edge_capture and not two_step:
            raise ValueError("edge_capture needs a two-step TDC (two_step=True)")
        self.edge_capture = edge_capture
        for name, domain in (("count_domain", count_domain),
                             ("precharge_domain", precharge_domain)):
            if not isinstance(domain, str) or not domain.isidentifier():
                raise ValueError(f"{name} must be a domain name, not {domain!r}")
        self.tdc_bits, self.two_step, self.stream_hold = tdc_bits, two_step, stream_hold
        self.count_domain, self.precharge_domain = count_domain, precharge_domain
        hold = ({"hold": In(1), "hold_beats": In(16), "hold_stalled": In(1)} if stream_hold
                else {})
        super().__init__({
            "cmd": In(ReadCommand()),
            "precharge_cycles": In(8),
            "start_delay": In(16),
            "arr_pre": Out(1),
            "arr_eval": Out(1),
            "arr_tdc_en": Out(1),
            "tdc": Out(EdgeTdcControl(coarse_bits=tdc_bits) if edge_capture
                       else TdcControl(code_bits=tdc_bits, early=two_step)),
            **hold,
            "count_enable": Out(1),
            "precharge_enable": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        max_code = (1 << self.tdc_bits) - 1
        precharge_left = Signal(8)
        # rel = t - (D + S): the code the current edge stands for (code 0 begins at t = D + S).
        # One counter, set to -(D + S) at the start (D as it is then) and counted up from E,
        # instead of a timer t and a latched D + S with a subtractor between them. Its low
        # COUNT_LOW_BITS bits count on every edge of the evaluation; the high bits
        # (``count_domain``) change only on a load or a carry out of the low ones.
        rel = Signal(range(-(1 << 17), 1 << 17))
        lo = Signal(COUNT_LOW_BITS)
        hi = Signal(len(rel) - COUNT_LOW_BITS)
        m.d.comb += rel.eq(Cat(lo, hi))
        d_hi, d_pre = m.d[self.count_domain], m.d[self.precharge_domain]
        start_rel = Signal(len(rel))
        m.d.comb += start_rel.eq(-(self.start_delay + SYNC_STAGES))
        load = Signal()         # rel and precharge_left take their start values
        carry = Signal()        # rel counts up with a carry into its high bits
        count_down = Signal()   # precharge_left counts down
        m.d.comb += [self.count_enable.eq(load | carry),
                     self.precharge_enable.eq(load | count_down)]
        with m.If(load):
            m.d.sync += lo.eq(start_rel[:COUNT_LOW_BITS])
            d_hi += hi.eq(start_rel[COUNT_LOW_BITS:])
            d_pre += precharge_left.eq(self.precharge_cycles - 1)
        # min(t, S): the edges since E, as far as the capture rule needs them
        settled = Signal(range(SYNC_STAGES + 1))
        # t >= D - 1 (the front end is on), i.e. rel >= -S - 1; and on the next cycle
        on_after = -SYNC_STAGES - 2
        # S edges after the synchronisers start (rel >= -1), and never before t = S
        capture = Signal()
        hold = self.hold if self.stream_hold else Const(0)
        tdc, cmd = self.tdc, self.cmd
        if self.edge_capture:
            window_end = Signal()
            m.d.comb += [
                window_end.eq(self.arr_eval & (rel == max_code)),
                capture.eq(self.arr_eval & (settled == SYNC_STAGES) & (rel >= -1)),
                tdc.enable.eq(self.arr_tdc_en),
            ]
            # every comparator tripped (its synchroniser flushed, as for a capture)
            ended = (tdc.all_fired & capture) | window_end
            # the first edge of the front end: held codes must have left by then
            guard = rel >= on_after
        else:
            m.d.comb += [
                tdc.code_now.eq(Mux(rel < 0, 0, rel)),
                *([tdc.early.eq(rel < 0)] if self.two_step else []),
                tdc.window_end.eq(self.arr_eval & (rel == max_code)),
                capture.eq(self.arr_eval & (settled == SYNC_STAGES) & (rel >= -1)),
                tdc.capture.eq(capture & ~hold),
            ]
            ended = tdc.all_fired | tdc.window_end
            guard = capture
        # In precharge rel = -(D + S): the beats still to go fit in the edges before the
        # guard's edge at one beat per cycle (D + S before the first capture; with edge
        # capture the D - 1 before the edge that turns the front end on, at which the
        # stream must have ended); behind a sink that has lately stalled, wait for the
        # stream's end (no evaluation wasted).
        left = (self.hold_beats + rel + SYNC_STAGES + 1 if self.edge_capture
                else self.hold_beats + rel) if self.stream_hold else None
        beats_fit = ((~hold | (~self.hold_stalled & (left <= 0)))
                     if self.stream_hold else Const(1))
        clear = tdc.clear if not self.edge_capture else Signal()
        count_next = self._edge_count(m, rel) if self.edge_capture else None

        def accept_start():
            m.d.comb += cmd.idle.eq(1)
            with m.If(cmd.start):
                m.d.comb += load.eq(1)
                m.d.sync += self.arr_pre.eq(1)
                m.next = "Precharge"

        with m.FSM(name="read"):
            with m.State("Idle"):
                accept_start()
            with m.State("Precharge"):
                with m.If((precharge_left == 0) & beats_fit):
                    m.d.sync += [self.arr_pre.eq(0), self.arr_eval.eq(1), settled.eq(0),
                                 self.arr_tdc_en.eq(rel >= -(SYNC_STAGES + 1))]
                    m.d.comb += clear.eq(1)
                    if count_next is not None:      # the count of period 0
                        m.d.comb += count_next.eq(rel + SYNC_STAGES + 2)
                    m.next = "Evaluate"
                with m.Elif(precharge_left != 0):
                    m.d.comb += count_down.eq(1)
                    d_pre += precharge_left.eq(precharge_left - 1)
            with m.State("Evaluate"):
                m.d.sync += self.arr_tdc_en.eq(rel >= on_after)
                with m.If(settled != SYNC_STAGES):
                    m.d.sync += settled.eq(settled + 1)
                # with stream_hold: the held codes are still being read at the guard's edge
                # (the first capture; with edge capture the front end's first edge): abandon
                # the evaluation, precharge again
                with m.If(guard & hold):
                    m.d.comb += [clear.eq(1), load.eq(1)]
                    m.d.sync += [self.arr_eval.eq(0), self.arr_tdc_en.eq(0), self.arr_pre.eq(1)]
                    m.next = "Precharge"
                with m.Else():
                    m.d.sync += lo.eq(lo + 1)
                    m.d.comb += carry.eq(lo.all())
                    with m.If(carry):
                        d_hi += hi.eq(hi + 1)
                    with m.If(ended):
                        m.d.sync += [self.arr_eval.eq(0), self.arr_tdc_en.eq(0)]
                        if self.edge_capture:
                            m.d.comb += tdc.take_end.eq(1)
                        m.next = "Convert_Done"
                    if count_next is not None:
                        with m.Else():                  # the count of the next period
                            m.d.comb += count_next.eq(rel + SYNC_STAGES + 3)
            with m.State("Convert_Done"):
                # The TDC registers its last captures on the edge that left Evaluate.
                m.d.comb += cmd.done.eq(1)
                m.next = "Idle"
                accept_start()
        return m

    def _edge_count(self, m, rel):
        """The edge-capture count registers (module docstring): ``count_pos`` takes the
        biased count ``count_next`` holds (clamped; 0 where the FSM leaves it 0) in Gray code
        on every edge, and ``parity_neg`` takes its parity on every falling edge. Returns
        ``count_next`` (a signed value for the FSM to drive)."""
        tdc = self.tdc
        late = tdc.signature.late
        count_next = Signal(range(-(1 << 18), 1 << 18))
        clamped = Signal(tdc.signature.count_bits)
        m.d.comb += clamped.eq(Mux(count_next < 0, 0,
                                   Mux(count_next > late, late, count_next)))
        pos = Signal(tdc.signature.count_bits, name="count_pos_gray")
        m.d.sync += pos.eq(clamped ^ (clamped >> 1))
        # the falling edges as the rising edges of one inverted clock (one net and one clock
        # tree for the copy's flip-flops, not an inverter per flip-flop of a falling-edge
        # domain: a library without falling-edge flip-flops maps each with its own)
        m.domains.rc_neg = ClockDomain("rc_neg", local=True, reset_less=True)
        m.d.comb += ClockSignal("rc_neg").eq(~ClockSignal("sync"))
        neg = Signal(name="count_parity_neg")
        m.d.rc_neg += neg.eq(pos.xor())         # a Gray code's parity: the binary's bit 0
        m.d.comb += [tdc.count_pos.eq(pos), tdc.parity_neg.eq(neg)]
        return count_next
