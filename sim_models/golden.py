"""Golden model of the whole macro: array + readout + accumulator + temperature tracker,
vectorised over batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import CAL_GAIN_FRAC_BITS, CAL_GAIN_ONE, MacroConfig
from sim_models.array import MramArray
from sim_models.calibration import calibrate
from sim_models.coarse import calibrate_lut
from sim_models.datapath import (
    accumulate_pass,
    effective_gains,
    scale_codes,
    signed_dot,
    tracked_gain,
    wrap_signed,
)
from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.interpolator import ideal_fine_table
from sim_models.readout import T_CLK_NS, ReadoutParams, design_readout_for, evaluate_codes

__all__ = ["GoldenMacro", "PassResult", "RegisterState", "signed_dot", "wrap_signed",
           "accumulate_pass", "scale_codes", "tracked_gain", "effective_gains"]


@dataclass(frozen=True)
class RegisterState:
    """The registers the golden model mirrors, as plain values.

    The physics layer does not know the register map: a macro's state after reset is its
    register map's reset values, handed in by the product
    (:attr:`mram_macro.design.macro.MacroDesign.register_state`). Per-column values are tuples of
    ``cols`` integers. A register the build lacks holds what its datapath computes with instead
    (e.g. unit gains without CAL_GAIN; see :class:`mram_macro.design.macro.MacroDesign`).
    """

    #: TDC_START_DELAY.CYCLES.
    start_delay_cycles: int
    #: CAL_OFFSET[c] (signed).
    offsets: tuple[int, ...]
    #: CAL_GAIN[c], fixed point (``CAL_GAIN_ONE`` = 1.0).
    gains: tuple[int, ...]
    #: THRESHOLD[c] of MODE.ACTIVATION (signed).
    thresholds: tuple[int, ...]
    #: FINE_TABLE (two-step TDC: ones count -> fine value), else None.
    fine_table: tuple[int, ...] | None
    #: ``tdc_mode="coarse"``: the code -> value table ``(2**tdc_bits,)`` every column holds;
    #: else None.
    lut: tuple[int, ...] | None
    #: TRACK_INTERVAL.INTERVAL (0: tracking off).
    track_interval: int
    #: TRACK_REF.REF.
    track_ref: int
    #: MODE.RAW_CODES.
    raw_codes: bool
    #: MODE.ACTIVATION.
    activation: bool


@dataclass
class PassResult:
    codes: np.ndarray        #: TDC code per column
    overflow: np.ndarray     #: per-column "never fired" flag
    values: np.ndarray       #: accumulator contents after the pass (signed, wrapped)
    emitted: bool            #: whether the macro sends ``values`` on m_axis


class GoldenMacro:
    """What the macro computes, column by column, from the same die as the RTL simulation sees.

    The die is sampled from ``seed`` (as :class:`MramArray` does) or given as ``die``. Register
    mirrors (:meth:`load_registers`): :attr:`offsets` (CAL_OFFSET[c]), :attr:`gains`
    (CAL_GAIN[c]), :attr:`start_delay_cycles` (TDC_START_DELAY), :attr:`track_interval`
    (TRACK_INTERVAL), :attr:`track_ref` (TRACK_REF) and others, starting from ``registers``
    (no default: a macro's reset values are its register map's); the tracker's state
    (:attr:`track_gain`,
    :attr:`track_code`, ...) as the RTL's tracker holds it (see
    mram_macro/rtl/periphery/tracker.py for the contract, mirrored here bit for bit).

    Evaluations are numbered by ``array.evaluations`` (see :mod:`sim_models.array`): :meth:`vmm`
    uses the next number; :meth:`convert` and :meth:`vmm_batch` use consecutive numbers from
    ``first_evaluation`` if given (and leave the counter alone), else from the counter (and
    advance it). The numbers matter only when the device has comparator noise or TDC jitter.

    Without per-evaluation noise, a batch is one matrix product in units of clock cycles: the
    affine map resistance -> trip time -> TDC code offset is folded into a per-die matrix that is
    cached until the MTJ states, the resistances or the registers change.
    """

    #: Rows of a batch processed at once (keeps the temporaries in cache).
    chunk_rows = 1024

    def __init__(self, config: MacroConfig, device: DeviceParams | None = None,
                 readout: ReadoutParams | None = None, *, registers: RegisterState,
                 seed: int | None = 0, t_clk_ns: float = T_CLK_NS, die: Die | None = None):
        """``registers``: the register values the model starts from (a macro's reset state:
        :attr:`mram_macro.design.macro.MacroDesign.register_state`, which also builds the model:
        :meth:`mram_macro.design.macro.MacroDesign.golden`). ``readout`` defaults to the one
        designed for ``device`` at ``t_clk_ns``.

        Raises:
            ValueError: the readout's phases per clock are not the configuration's, or
                ``registers`` does not fit the configuration (column count, table size).
        """
        self.config = config
        device = device or DeviceParams()
        self.readout = readout or design_readout_for(config, device, t_clk_ns=t_clk_ns)
        if self.readout.fine_taps != config.fine_taps:
            raise ValueError(f"the readout has {self.readout.fine_taps} phase(s) per clock, the "
                             f"configuration {config.fine_taps} (tdc_mode={config.tdc_mode!r})")
        self.array = MramArray(config.rows, config.cols, device, seed=seed, die=die)
        self.acc = np.zeros(config.cols, dtype=np.int64)
        self._map_key = None
        self._map = None
        self._delay = None
        self.load_registers(registers)

    @classmethod
    def from_die(cls, config: MacroConfig, die: Die, device: DeviceParams | None = None,
                 readout: ReadoutParams | None = None, *, registers: RegisterState,
                 t_clk_ns: float = T_CLK_NS) -> GoldenMacro:
        return cls(config, device, readout, registers=registers, t_clk_ns=t_clk_ns, die=die)

    def load_registers(self, registers: RegisterState) -> None:
        """Set every register mirror from ``registers`` and reset the tracker's state (as a
        reset of the macro does; the accumulator and the MTJs are left alone).

        Mirrors: :attr:`start_delay_cycles` (TDC_START_DELAY), :attr:`offsets` (CAL_OFFSET[c]),
        :attr:`gains` (CAL_GAIN[c]), :attr:`raw_codes` and :attr:`activation` (MODE),
        :attr:`thresholds` (THRESHOLD[c]), :attr:`fine_table` (FINE_TABLE, None without a
        two-step TDC), :attr:`lut` (``tdc_mode="coarse"``: the per-column code -> value table
        ``(cols, 2**tdc_bits)``, else None), :attr:`track_interval` and :attr:`track_ref`.

        Raises:
            ValueError: a per-column value is not ``cols`` long, or a table does not fit.
        """
        c = self.config
        if not isinstance(registers, RegisterState):
            raise TypeError(f"registers must be a RegisterState, not {type(registers).__name__}")
        for name in ("offsets", "gains", "thresholds"):
            if len(getattr(registers, name)) != c.cols:
                raise ValueError(f"registers.{name} must have {c.cols} values (one per "
                                 f"column), not {len(getattr(registers, name))}")
        if not c.mode.has_fine_interpolator and registers.fine_table is not None:
            raise ValueError(f"registers.fine_table must be None: the configuration has no "
                             f"interpolator (1 phase per clock), not {registers.fine_table!r}")
        if c.mode.has_fine_interpolator and (registers.fine_table is None
                                or len(registers.fine_table) != c.fine_taps):
            raise ValueError(f"registers.fine_table must have {c.fine_taps} entries (one per "
                             f"ones count of the interpolator), not {registers.fine_table!r}")
        if registers.lut is not None and len(registers.lut) != 1 << c.tdc_bits:
            raise ValueError(f"registers.lut must have {1 << c.tdc_bits} entries (one per "
                             f"code), not {len(registers.lut)}")
        self.start_delay_cycles = int(registers.start_delay_cycles)
        self.offsets = np.array(registers.offsets, dtype=np.int64)
        #: Register mirror of MODE.RAW_CODES: a pass stores each column's code as it is.
        self.raw_codes = bool(registers.raw_codes)
        #: Register mirrors of MODE.ACTIVATION and THRESHOLD[c] (see :meth:`emitted`).
        self.activation = bool(registers.activation)
        self.thresholds = np.array(registers.thresholds, dtype=np.int64)
        self.fine_table = (None if registers.fine_table is None
                           else np.array(registers.fine_table, dtype=np.int64))
        self.lut = (None if registers.lut is None
                    else np.tile(np.array(registers.lut, dtype=np.int64), (c.cols, 1)))
        self.gains = np.array(registers.gains, dtype=np.int64)
        self.track_interval = int(registers.track_interval)
        self.track_ref = int(registers.track_ref)
        self.reset_tracker()

    @property
    def device(self) -> DeviceParams:
        return self.array.device

    @property
    def die(self) -> Die:
        return self.array.die

    @property
    def evaluations(self) -> int:
        """Index of the next evaluation of the die (``array.evaluations``)."""
        return self.array.evaluations

    @evaluations.setter
    def evaluations(self, value: int) -> None:
        self.array.evaluations = int(value)

    # -- weights and calibration ----------------------------------------------------------------
    def load_weights(self, w_bits) -> None:
        """Store weight bits ``w_bits[row, col]`` (1 = +1, 0 = -1) without modelling write pulses
        (stuck MTJs keep their state). Raises ``ValueError`` for a wrong shape or a value other
        than 0/1 (booleans are accepted)."""
        w = np.asarray(w_bits)
        shape = (self.config.rows, self.config.cols)
        if w.shape != shape:
            raise ValueError(f"weight bits must have shape {shape}, not {w.shape}")
        if w.dtype != bool and not np.isin(w, (0, 1)).all():
            bad = w[~np.isin(w, (0, 1))].flat[0].item()
            raise ValueError(f"weight bits must be 0 (-1) or 1 (+1), not {bad!r}")
        self.array.load_weights(w.astype(bool))

    @property
    def weights(self) -> np.ndarray:
        """The weight bits the array holds (read from the left MTJs; 1 = +1), ``(rows, cols)``."""
        return self.array.weights()

    def calibrate(self, *, n_pairs: int = 16, seed: int = 0) -> np.ndarray:
        """Host calibration of CAL_OFFSET with the weights the array holds
        (:func:`sim_models.calibration.calibrate`); returns and applies the offsets. In
        coarse mode it builds the code -> value tables instead
        (:func:`sim_models.coarse.calibrate_lut` from ``max(256, 4 * n_pairs)`` random
        patterns) and returns them."""
        if self.lut is not None:
            return calibrate_lut(self, self.weights, n_patterns=max(256, 4 * n_pairs),
                                 seed=seed)

        return calibrate(self, self.weights, n_pairs=n_pairs, seed=seed)

    # -- the folded fast path -------------------------------------------------------------------
    def code_map(self):
        """``(A, b)`` with ``code = clip(ceil(x @ A + b), 0, 2**tdc_bits - 1)`` (no noise).

        ``x @ A + b = t_trip / t_lsb - TDC_START_DELAY * K - 1`` (``t_lsb = t_clk / K``, K = 1
        for the counter TDC); a column whose comparator never trips has ``A[:, c] = 0`` and
        ``b[c] = inf``. Exact for a two-step TDC only with an ideal interpolator and table
        (:meth:`_folded`). With a slope-dependent comparator delay (``readout.comparator``)
        :meth:`_chunks` adds it to ``x @ A + b``, from the columns' resistances.
        """
        c = self.config
        affine = self.array.vmm_affine_ohm()
        key = (affine, self.start_delay_cycles, self.readout, self.device)
        offset = self.array.comparator_offset_V
        cached = self._map_key
        if (cached is None or cached[0] is not affine or cached[1:4] != key[1:]
                or not np.array_equal(cached[4], offset)):
            slope, base = affine
            ro, dev = self.readout, self.device
            c_col_F = ro.c_col_F(c.rows, dev)
            if offset.any():
                log_ratio = ro.log_ratio_with_offset(offset)
            else:
                log_ratio = np.full(c.cols, ro.log_ratio)
            never = np.isinf(log_ratio)
            k = np.where(never, 0.0, c_col_F * log_ratio * 1e9 / ro.t_fine_ns)
            a = slope * k
            b = base * k + (ro.t_cmp_delay_ns / ro.t_fine_ns
                            - self.start_delay_cycles * ro.fine_taps - 1)
            b[never] = np.inf
            self._map = (a, b)
            # the comparator's decision delay, in steps, as a function of the columns'
            # resistance (slope @ x + base): not affine, added per chunk (:meth:`_chunks`)
            # t_d = g R^(1/(N+1)) with a gain per column (ComparatorDesign.column_delay_*);
            # x @ A = (x @ slope) * k per column, so the resistance comes from the product
            # already made: x @ slope + base = (x @ A) / k + base (k = 0: never trips)
            cmp = ro.comparator
            self._delay = None if cmp is None else (
                np.divide(1.0, k, out=np.zeros_like(k), where=k != 0), base,
                cmp.column_delay_coefficient(c_col_F, ro.v_ref_V + offset) / ro.t_fine_ns,
                cmp.delay_exponent)
            self._map_key = (*key, offset.copy())
        return self._map

    def _folded(self) -> bool:
        """Whether the folded matrix path is exact: no per-evaluation noise, no coarse code
        table and, with a two-step TDC, an ideal interpolator and FINE_TABLE."""
        if self.device.has_evaluation_noise or self.lut is not None:
            return False
        if self.fine_table is None:
            return True
        return (not self.array.phase_errors_lsb(self.readout).any()
                and np.array_equal(self.fine_table, ideal_fine_table(self.readout.fine_taps)))

    def _inputs(self, x_bits):
        x = np.asarray(x_bits)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.config.rows:
            raise ValueError(f"input bits must have shape (batch, {self.config.rows}) or "
                             f"({self.config.rows},), not {np.shape(x_bits)}")
        return x

    def _first_evaluation(self, first_evaluation, batch: int) -> int:
        if first_evaluation is None:
            first = self.array.evaluations
            self.array.evaluations += batch
            return first
        if isinstance(first_evaluation, bool) or not isinstance(first_evaluation, int) \
                or first_evaluation < 0:
            raise ValueError(f"first_evaluation must be a non-negative integer or None, "
                             f"not {first_evaluation!r}")
        return first_evaluation

    def _chunks(self, x):
        """``(start, u)`` per chunk, ``u = ceil(x @ A + b)`` clipped below at 0 (in place)."""
        a, b = self.code_map()
        n = self.chunk_rows
        xf = np.empty((min(n, len(x)), self.config.rows))
        u = np.empty((min(n, len(x)), self.config.cols))
        for s in range(0, len(x), n):
            m = min(n, len(x) - s)
            xs, us = xf[:m], u[:m]
            xs[...] = x[s:s + m]
            np.matmul(xs, a, out=us)
            r = None if self._delay is None else us * self._delay[0] + self._delay[1]
            us += b
            if r is not None:
                self._add_delay(r, us)
            np.ceil(us, out=us)
            np.maximum(us, 0.0, out=us)
            yield s, us

    def _add_delay(self, r, us) -> None:
        """``us`` (``x @ A + b``, in place) plus the comparator's decision delay, in steps, of
        columns of resistance ``r``."""
        np.power(r, self._delay[3], out=r)
        r *= self._delay[2]
        us += r

    # -- public API -----------------------------------------------------------------------------
    def convert(self, x_bits, *, first_evaluation: int | None = None):
        """TDC codes and overflow flags, shape ``(batch, cols)``, for input bits
        ``(batch, rows)``."""
        x = self._inputs(x_bits)
        first = self._first_evaluation(first_evaluation, len(x))
        c = self.config
        max_code = (1 << c.tdc_bits) - 1
        if not self._folded():
            fine = self.fine_table is not None
            return evaluate_codes(self.array.vmm_resistance_ohm(x), device=self.device,
                                  readout=self.readout, rows=c.rows, tdc_bits=c.tdc_bits,
                                  start_delay_cycles=self.start_delay_cycles,
                                  comparator_offset_V=self.array.comparator_offset_V,
                                  noise_seed=self.die.seed, first_evaluation=first,
                                  phase_errors_lsb=(self.array.phase_errors_lsb(self.readout)
                                                    if fine else None),
                                  fine_table=self.fine_table)
        codes = np.empty((len(x), c.cols), dtype=np.int64)
        overflow = np.empty((len(x), c.cols), dtype=bool)
        for s, u in self._chunks(x):
            np.greater(u, max_code, out=overflow[s:s + len(u)])
            np.minimum(u, max_code, out=u)
            codes[s:s + len(u)] = u
        return codes, overflow

    @property
    def active_gains(self) -> np.ndarray:
        """The gains the accumulator uses: CAL_GAIN, or the tracked gains while tracking."""
        return self.tracked_gains if self.track_interval else np.asarray(self.gains, np.int64)

    def results_from_codes(self, codes):
        """One pass's signed results: ``CAL_OFFSET - 2 * round(gain * code)``
        (:func:`scale_codes`), or in coarse mode the table entry ``lut[c, code[c]]``."""
        if self.lut is not None:
            codes = np.asarray(codes, dtype=np.int64)
            cols = np.arange(self.config.cols)
            return wrap_signed(self.lut[cols, codes], self.config.result_width)
        gains = self.active_gains
        codes = np.asarray(codes, dtype=np.int64)
        # unit gains scale a code to itself exactly: skip the multiply; wrap only values that
        # leave the result range (the common case has none): the same numbers, faster
        scaled = codes if (gains == CAL_GAIN_ONE).all() else scale_codes(codes, gains)
        values = np.asarray(self.offsets, dtype=np.int64) - 2 * scaled
        half = 1 << (self.config.result_width - 1)
        if values.size and (values.min() < -half or values.max() >= half):
            values = wrap_signed(values, self.config.result_width)
        return values

    # -- temperature tracking ---------------------------------------------------------------
    def replica_codes(self, evaluation: int):
        """The replica columns' codes and overflow flags in evaluation ``evaluation`` (with a
        two-step TDC through the die's interpolator phases and FINE_TABLE, as the array's)."""
        fine = self.fine_table is not None
        return self.array.replica.codes(self.device, self.readout, tdc_bits=self.config.tdc_bits,
                                        start_delay_cycles=self.start_delay_cycles,
                                        evaluation=evaluation,
                                        phase_errors_lsb=(self.array.phase_errors_lsb(self.readout)
                                                          if fine else None),
                                        fine_table=self.fine_table)

    def reset_tracker(self) -> None:
        """The tracker's state after reset: pass counter, TRACK_GAIN, TRACK_CODE, retrims,
        sticky flags, and the per-column gains in use while tracking."""
        self.track_count = 0
        self.track_gain = CAL_GAIN_ONE
        self.track_code = 0
        self.track_retrims = 0
        self.track_invalid = False
        self.track_clamped = False
        self.tracked_gains = np.full(self.config.cols, CAL_GAIN_ONE, dtype=np.int64)

    def _tracking_pass(self) -> bool:
        return self.track_interval != 0 and self.track_count == 0

    def _retrim(self, evaluation: int) -> None:
        """What the tracker does when a tracking pass's codes are final."""
        codes, overflow = self.replica_codes(evaluation)
        total = int(codes.sum())
        self.track_code = total
        if overflow.any() or total == 0:
            self.track_invalid = True
        else:
            self.track_gain, clamped = tracked_gain(self.track_ref, total)
            self.track_clamped |= clamped
            self.track_retrims = (self.track_retrims + 1) & 0xFFFF
        self.tracked_gains = effective_gains(self.gains, self.track_gain)

    def _passes_done(self, n: int) -> None:
        """Advance the tracker's pass counter over ``n`` passes of which only the first may be
        a tracking pass."""
        if not self.track_interval:
            self.track_count = 0
            return
        if self.track_count == 0:
            self.track_count = self.track_interval - 1
            n -= 1
        self.track_count -= n
        assert self.track_count >= 0

    def pass_values(self, x_bits, *, first_evaluation: int | None = None):
        """Every pass's value (raw code in MODE.RAW_CODES, else ``CAL_OFFSET - 2 round(gain
        code)``) and overflow flags, ``(batch, cols)`` each, with the tracker's retrims as the
        RTL does them (what a stream of passes gives before accumulation)."""
        x = self._inputs(x_bits)
        first = self._first_evaluation(first_evaluation, len(x))
        values, overflow, i = [], [], 0
        while i < len(x):
            tracking = self._tracking_pass()
            k = 1 if tracking or not self.track_interval else min(self.track_count, len(x) - i)
            if not self.track_interval:
                k = len(x) - i
            if tracking:
                self._retrim(first + i)
            ov = np.empty((k, self.config.cols), dtype=bool)
            values.append(self._vmm_batch(x[i:i + k], first_evaluation=first + i, overflow=ov))
            overflow.append(ov)
            self._passes_done(k)
            i += k
        if not values:
            empty = np.empty((0, self.config.cols), np.int64)
            return empty, empty.astype(bool)
        if len(values) == 1:        # no tracking pass split the batch: no copy
            return values[0], overflow[0]
        return np.concatenate(values), np.concatenate(overflow)

    def vmm_batch(self, x_bits, *, first_evaluation: int | None = None):
        """Single-pass results (no accumulation) for a batch of input vectors.

        With :attr:`raw_codes` (MODE.RAW_CODES) each result is the column's raw TDC code, as
        :meth:`vmm` and the RTL give it. While tracking is on, every tracking pass retrims the
        gains before its own result, as the RTL does.
        """
        if not self.track_interval:
            return self._vmm_batch(x_bits, first_evaluation=first_evaluation)
        x = self._inputs(x_bits)
        first = self._first_evaluation(first_evaluation, len(x))
        out, i = [], 0
        while i < len(x):
            k = 1 if self.track_count == 0 else min(self.track_count, len(x) - i)
            if self.track_count == 0:
                self._retrim(first + i)
            out.append(self._vmm_batch(x[i:i + k], first_evaluation=first + i))
            self._passes_done(k)
            i += k
        return np.concatenate(out) if out else np.empty((0, self.config.cols), np.int64)

    def _vmm_batch(self, x_bits, *, first_evaluation: int | None = None,
                   overflow: np.ndarray | None = None):
        """Every pass's value, without tracking; ``overflow`` (``(batch, cols)`` bools, optional)
        receives the TDC overflow flags. The folded path computes both in one sweep."""
        c = self.config
        if self.raw_codes or not self._folded():
            codes, ov = self.convert(x_bits, first_evaluation=first_evaluation)
            if overflow is not None:
                overflow[...] = ov
            return (wrap_signed(codes, c.result_width) if self.raw_codes
                    else self.results_from_codes(codes))
        x = self._inputs(x_bits)
        self._first_evaluation(first_evaluation, len(x))
        max_code = (1 << c.tdc_bits) - 1
        offsets = np.asarray(self.offsets, dtype=np.int64)
        half = 1 << (c.result_width - 1)
        gains = self.active_gains
        top = int(scale_codes(max_code, gains.max()))
        in_range = offsets.max() < half and offsets.min() - 2 * top >= -half
        offsets_f = offsets.astype(np.float64)
        unity = bool((gains == CAL_GAIN_ONE).all())
        gains_f = gains.astype(np.float64)
        out = np.empty((len(x), c.cols), dtype=np.int64)
        for s, u in self._chunks(x):
            if overflow is not None:
                np.greater(u, max_code, out=overflow[s:s + len(u)])
            np.minimum(u, max_code, out=u)
            if not unity:      # exact in float64: gain * code < 2**24
                u *= gains_f
                u += 1 << (CAL_GAIN_FRAC_BITS - 1)
                u *= 1.0 / CAL_GAIN_ONE
                np.floor(u, out=u)
            u *= -2.0
            u += offsets_f
            out[s:s + len(u)] = u
        return out if in_range else wrap_signed(out, c.result_width)

    def emitted(self, values):
        """What leaves on m_axis for accumulator contents ``values``: the values, or with
        :attr:`activation` one bit per column, 1 where ``values >= thresholds``."""
        v = np.asarray(values, dtype=np.int64)
        return (v >= self.thresholds).astype(np.int64) if self.activation else v

    def vmm(self, x_bits, *, accumulate: bool = False, hold: bool = False, shift: bool = False,
            negate: bool = False) -> PassResult:
        """One pass as the macro performs it, updating the accumulator (``shift``/``negate``:
        see :func:`accumulate_pass`). A build with ``multibit=False`` takes no flags (its RTL
        drops such a vector): ``ValueError``."""
        if not self.config.multibit and (accumulate or hold or shift or negate):
            raise ValueError(f"{self.config.slug} has multibit=False: single passes only, no "
                             f"accumulate, hold, shift or negate")
        tracking = self._tracking_pass()
        evaluation = self.array.evaluations
        codes, overflow = self.convert(np.asarray(x_bits)[None, :])
        if tracking:
            self._retrim(evaluation)
        self._passes_done(1)
        if self.raw_codes:
            self.acc = wrap_signed(codes[0], self.config.result_width)
        else:
            self.acc = accumulate_pass(self.acc, self.results_from_codes(codes[0]),
                                       accumulate=accumulate, shift=shift, negate=negate,
                                       width=self.config.result_width)
        return PassResult(codes=codes[0], overflow=overflow[0], values=self.acc.copy(),
                          emitted=not hold)
