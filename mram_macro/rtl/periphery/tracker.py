"""Temperature tracker: reads the replica columns every TRACK_INTERVAL passes and retrims the
gain of every column in hardware, so that the macro follows temperature without the host.

Why a gain. In the device model only the MTJ's high state moves with temperature (its TMR
falls by ``tmr_temp_coeff_per_K``); the all-low baseline that TDC_START_DELAY removes does not.
So a hotter die has a smaller resistance step per mismatching cell, and every code shrinks by
the same factor: a gain error, which a start-delay (or offset) retrim cannot undo over the whole
code range. The replica columns (every cell high: code ``~ rows * step(T) / step(T_cal)``)
measure that factor directly.

Contract (the golden model :class:`sim_models.golden.GoldenMacro` mirrors it bit for bit):

* Tracking is on while ``interval`` (TRACK_INTERVAL) is not 0. A pass is a *tracking pass*
  when the pass counter is 0 at ``pass_start``; at ``pass_done`` the counter becomes
  ``interval - 1`` if it was 0, else counts down by one (held at 0 while tracking is off). So
  the first pass after tracking is switched on is a tracking pass, and then every
  ``interval``-th. ``tracking`` is high from ``pass_start`` to ``pass_done`` of a tracking
  pass (it enables the replica columns: ``arr_ref_en``).
* When the codes of a tracking pass are final (``read_done``), the tracker retrims before the
  pass is captured (``busy`` holds the capture): ``code_sum`` = the sum of the replica codes;
  if a replica saturated or the sum is 0, ``invalid`` pulses and the trim is kept; otherwise
  ``track_gain = clamp((q + 1) >> 1, CAL_GAIN_MIN, CAL_GAIN_MAX)`` with
  ``q = min((ref << (F + 1)) // code_sum, 2**(W + 1) - 1)`` (``F``, ``W``: CAL_GAIN_FRAC_BITS,
  CAL_GAIN_WIDTH; the ratio ``ref / code_sum`` rounded half up), ``clamped`` pulses if the
  clamp changed it, and ``retrims`` counts up. Then, for every column,
  ``eff[c] = min((cal_gain[c] * track_gain + 2**(F - 1)) >> F, 2**W - 1)``.
* ``gains`` (to the accumulator) is ``cal_gains`` while tracking is off, ``eff`` while it is
  on: a CAL_GAIN write made while tracking is on takes effect at the next tracking pass.

A retrim holds the capture for ``W + cols + 5`` cycles: a restoring divider (``W + 1``), the
rounding (1), one shared multiplier pipelined over the columns (``cols + 2``), and one cycle for
the accumulator's registered gain multipliers to see the new gains.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.config import (
    CAL_GAIN_FRAC_BITS,
    CAL_GAIN_MAX,
    CAL_GAIN_MIN,
    CAL_GAIN_ONE,
    CAL_GAIN_WIDTH,
)

__all__ = ["Tracker", "TRACK_INTERVAL_BITS", "TRACK_SUM_BITS"]

#: Width of TRACK_INTERVAL and of the pass counter.
TRACK_INTERVAL_BITS = 16
#: Width of TRACK_REF and TRACK_CODE (sums of replica codes).
TRACK_SUM_BITS = 16


class Tracker(wiring.Component):
    """Replica-column gain tracking for ``cols`` columns and ``replicas`` replica columns of
    ``tdc_bits``-bit codes (contract in the module docstring)."""

    def __init__(self, *, cols: int, replicas: int, tdc_bits: int,
                 pass_domain: str = "sync", trim_domain: str = "sync"):
        """``pass_domain``: the clock domain of the pass counter and ``tracking``, which change
        only on edges with ``pass_start`` or ``pass_done`` high; ``trim_domain``: that of the
        retrim (its state, divider, scaling pipeline, ``eff``, ``track_gain``, ``code_sum``,
        ``retrims``), which changes only on edges with ``busy`` high. A clock gated by
        ``pass_enable`` and ``busy`` is exact (the top's ``g_trk_pass`` and ``g_trk``: a macro
        that is not retrimming clocks none of the retrim's registers)."""
        for name, domain in (("pass_domain", pass_domain), ("trim_domain", trim_domain)):
            if not isinstance(domain, str) or not domain.isidentifier():
                raise ValueError(f"{name} must be a domain name, not {domain!r}")
        self.pass_domain, self.trim_domain = pass_domain, trim_domain
        for name, value in (("cols", cols), ("replicas", replicas), ("tdc_bits", tdc_bits)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if replicas * ((1 << tdc_bits) - 1) >= 1 << TRACK_SUM_BITS:
            raise ValueError(f"{replicas} replica codes of {tdc_bits} bits overflow the "
                             f"{TRACK_SUM_BITS}-bit TRACK_CODE")
        self.cols, self.replicas, self.tdc_bits = cols, replicas, tdc_bits
        gw = CAL_GAIN_WIDTH
        super().__init__({
            "interval": In(TRACK_INTERVAL_BITS),
            "ref": In(TRACK_SUM_BITS),
            "cal_gains": In(cols * gw),
            "ref_codes": In(replicas * tdc_bits),
            "ref_overflow": In(replicas),
            "pass_start": In(1),
            "pass_done": In(1),
            "read_done": In(1),
            "tracking": Out(1),
            "busy": Out(1),
            "pass_enable": Out(1),
            "gains": Out(cols * gw),
            "track_gain": Out(gw, init=CAL_GAIN_ONE),
            "code_sum": Out(TRACK_SUM_BITS),
            "retrims": Out(16),
            "invalid": Out(1),
            "clamped": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        gw, frac, b = CAL_GAIN_WIDTH, CAL_GAIN_FRAC_BITS, self.tdc_bits
        qbits = gw + 1                      # quotient of ref << (F + 1): the ratio with 1 more bit
        on = Signal()
        m.d.comb += on.eq(self.interval != 0)

        # Which passes read the replicas.
        # A pass may start on the edge the previous one is done (back-to-back passes): the
        # start then sees the count as that pass_done leaves it.
        count, count_after = Signal(TRACK_INTERVAL_BITS), Signal(TRACK_INTERVAL_BITS)
        with m.If(~self.pass_done):
            m.d.comb += count_after.eq(count)
        with m.Elif(~on):
            m.d.comb += count_after.eq(0)
        with m.Elif(count == 0):
            m.d.comb += count_after.eq(self.interval - 1)
        with m.Else():
            m.d.comb += count_after.eq(count - 1)
        m.d.comb += self.pass_enable.eq(self.pass_start | self.pass_done)
        d_pass = m.d[self.pass_domain]
        d_pass += count.eq(count_after)
        with m.If(self.pass_done):
            d_pass += self.tracking.eq(0)
        with m.If(self.pass_start):
            d_pass += self.tracking.eq(on & (count_after == 0))

        # Sum of the replica codes (combinational; used on read_done).
        codes = [self.ref_codes[i * b:(i + 1) * b] for i in range(self.replicas)]
        total = Signal(TRACK_SUM_BITS)
        m.d.comb += total.eq(sum(codes[1:], codes[0]))

        eff = Signal(self.cols * gw, init=sum(CAL_GAIN_ONE << (c * gw) for c in range(self.cols)))
        m.d.comb += self.gains.eq(Mux(on, eff, self.cal_gains))

        divisor = Signal(TRACK_SUM_BITS + qbits)
        rem = Signal(TRACK_SUM_BITS + frac + 1)
        quotient = Signal(qbits)
        step = Signal(range(qbits + 1))
        # Scaling pipeline: select CAL_GAIN[col] | multiply | clamp and store eff[col].
        col = Signal(range(self.cols + 2))
        cal_gain = Signal(gw)
        # column indices of the pipeline: at least one bit (a 1-column macro would get none)
        col_range = range(max(self.cols, 2))
        selected, selected_col = Signal(), Signal(col_range)
        product, product_valid, product_col = Signal(2 * gw), Signal(), Signal(col_range)
        with m.Switch(col):          # the column being scaled (a case, not a wide shift)
            for c in range(self.cols):
                with m.Case(c):
                    m.d.comb += cal_gain.eq(self.cal_gains[c * gw:(c + 1) * gw])
        rounded = Signal(qbits)
        m.d.comb += rounded.eq((quotient + 1) >> 1)

        d_trim = m.d[self.trim_domain]
        with m.FSM(name="track", domain=self.trim_domain):
            with m.State("Idle"):
                with m.If(self.read_done & self.tracking):
                    # Hold the capture already on read_done: the sequencer may capture a pass
                    # on the very edge its codes become final.
                    m.d.comb += self.busy.eq(1)
                    d_trim += self.code_sum.eq(total)
                    with m.If(self.ref_overflow.any() | (total == 0)):
                        m.d.comb += self.invalid.eq(1)
                        d_trim += [col.eq(0), selected.eq(0), product_valid.eq(0)]
                        m.next = "Scale"
                    with m.Elif((self.ref << (frac + 1)) >= (total << qbits)):
                        d_trim += quotient.eq((1 << qbits) - 1)      # ratio >= 2**gw: saturate
                        m.next = "Round"
                    with m.Else():
                        d_trim += [rem.eq(self.ref << (frac + 1)),
                                     divisor.eq(total << (qbits - 1)),
                                     quotient.eq(0), step.eq(qbits)]
                        m.next = "Divide"
            with m.State("Divide"):
                m.d.comb += self.busy.eq(1)
                fits = rem >= divisor
                d_trim += [quotient.eq(Cat(fits, quotient[:-1])), divisor.eq(divisor >> 1),
                             step.eq(step - 1)]
                with m.If(fits):
                    d_trim += rem.eq(rem - divisor)
                with m.If(step == 1):
                    m.next = "Round"
            with m.State("Round"):
                m.d.comb += self.busy.eq(1)
                with m.If(rounded < CAL_GAIN_MIN):
                    d_trim += self.track_gain.eq(CAL_GAIN_MIN)
                    m.d.comb += self.clamped.eq(1)
                with m.Elif(rounded > CAL_GAIN_MAX):
                    d_trim += self.track_gain.eq(CAL_GAIN_MAX)
                    m.d.comb += self.clamped.eq(1)
                with m.Else():
                    d_trim += self.track_gain.eq(rounded)
                d_trim += [self.retrims.eq(self.retrims + 1), col.eq(0), selected.eq(0),
                             product_valid.eq(0)]
                m.next = "Scale"
            with m.State("Scale"):
                m.d.comb += self.busy.eq(1)
                gain_q = Signal(gw)
                d_trim += [
                    gain_q.eq(cal_gain), selected.eq(col < self.cols), selected_col.eq(col),
                    product.eq((gain_q * self.track_gain + (1 << (frac - 1))) >> frac),
                    product_valid.eq(selected), product_col.eq(selected_col),
                    col.eq(col + 1),
                ]
                limit = (1 << gw) - 1
                value = Mux(product > limit, limit, product)[:gw]
                with m.If(product_valid):
                    for c in range(self.cols):
                        with m.If(product_col == c):
                            d_trim += eff[c * gw:(c + 1) * gw].eq(value)
                with m.If(col == self.cols + 1):
                    m.next = "Settle"
            with m.State("Settle"):
                m.d.comb += self.busy.eq(1)
                m.next = "Idle"
        return m
