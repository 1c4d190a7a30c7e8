"""Write-verify: the plain-Python reference of the algorithm the RTL implements, and its statistics.

The physics of a write pulse (deterministic or thermally activated switching) lives in
:class:`~sim_models.device.DeviceParams` and :meth:`~sim_models.array.MramArray.write`; this
module composes pulses and single-MTJ reads into the verify loop.

Algorithm for one row ``r`` with weight bits ``W`` (:func:`write_verify_row`), the reference of
``mram_macro/rtl/periphery/write_controller.py``; the keyword defaults are the register reset values
(WV_CTRL: ENABLE 1, PULSE_DOUBLING 1, MAX_RETRIES 3). For the left side (data ``W``), then the
right side (data ``W-bar``):

1. Pulse the side's MTJs with its data for ``pulse_cycles`` (WRITE_PULSE_CYCLES).
2. Verify (if enabled): read the side's MTJs of row ``r`` alone, all columns at once (every other
   MTJ bypassed), with the single-read TDC start delay and threshold of
   :func:`single_read_delay_and_threshold` (register WV_READ). An MTJ reads *low* iff its code is
   below the threshold and its comparator fired (no overflow). A column is wrong where the read
   state differs from the side's data (1 = low).
3. If some column is wrong and the side has retries left: use one, double the pulse if
   ``double_pulse`` (saturating at 65535 cycles), rewrite the whole side (MTJs already right do
   not switch) and go to 2. Otherwise the wrong columns are added to the row's failures, and the
   next side starts again from ``pulse_cycles`` and ``max_retries``.

The row's report gives the rewrites made and the failing columns (WV_FAIL_ROW, WV_FAIL_MASK,
and their count). A stuck MTJ that disagrees with its weight can never pass, so it ends up
reported.

Every single-MTJ read is an evaluation of the die (it advances ``array.evaluations``), and every
pulse a write of the die (``array.writes``): a model that mirrors the RTL's row writes through
this function stays in step with the pin model's noise and write randomness.

Read margin (see :class:`SingleReadSetup`): a single MTJ's high and low states differ by about one
TDC step, and the decision boundary must sit on a clock edge, so the margins depend on where the
trips fall within their clock period. ``design_readout`` chooses the comparator delay to centre
them: with the default device (64 rows) a low MTJ may rise 5.8 kOhm and a high one fall 7.2 kOhm
before it reads wrong (3.6 paper sigmas); :func:`write_verify_study` measures the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim_models.array import LEFT, RIGHT, MramArray, single_mtj_bypass
from sim_models.device import DeviceError, DeviceParams
from sim_models.readout import T_CLK_NS, ReadoutParams, design_readout, trip_time_ns

__all__ = ["SingleReadSetup", "single_read_delay_and_threshold", "RowVerifyReport",
           "write_verify_row", "write_verify_array", "WriteVerifyStats", "write_verify_study",
           "MAX_PULSE_CYCLES"]

#: Largest WRITE_PULSE_CYCLES value (16-bit register).
MAX_PULSE_CYCLES = 0xFFFF


@dataclass(frozen=True)
class SingleReadSetup:
    """Register values (WV_READ) and nominal codes for reading one MTJ of every column alone.

    A single-MTJ string is the MTJ plus ``2 * rows - 1`` bypass transistors. A testbench that
    mirrors registers may build one from the two register values alone; the other fields are
    filled in by :func:`single_read_delay_and_threshold`.
    """

    #: TDC_START_DELAY of a single-MTJ read (WV_READ.DELAY).
    start_delay_cycles: int
    #: An MTJ reads low iff its code is below ``threshold_code`` (and it fired: no overflow)
    #: (WV_READ.THRESHOLD).
    threshold_code: int
    #: Nominal codes of a low and a high MTJ (at the device's operating temperature).
    code_low: int | None = None
    code_high: int | None = None
    #: How far (ohm) a low MTJ may rise / a high MTJ may fall before it reads wrong.
    margin_low_ohm: float | None = None
    margin_high_ohm: float | None = None

    def reads_low(self, codes, overflow=None):
        """True where an MTJ reads low: code below the threshold and no overflow."""
        low = np.asarray(codes) < self.threshold_code
        return low if overflow is None else low & ~np.asarray(overflow, dtype=bool)


def single_read_delay_and_threshold(rows: int, device: DeviceParams, readout: ReadoutParams,
                                    tdc_bits: int) -> SingleReadSetup:
    """Start delay and code threshold for single-MTJ reads.

    The decision boundary is the clock edge nearest the midpoint of the nominal low and high trip
    times (between the two nominal trip edges): a trip seen at or before edge ``b`` reads low, i.e.
    ``threshold_code = b - start_delay_cycles`` (codes are ``m - start_delay - 1``). The
    start delay centres that boundary in the TDC window when it can, else is 0, so both states
    land inside the window, away from code 0 and from saturation.
    """
    if isinstance(tdc_bits, bool) or not isinstance(tdc_bits, int) or tdc_bits < 2:
        raise DeviceError(f"tdc_bits must be an integer >= 2, not {tdc_bits!r}")
    max_code = (1 << tdc_bits) - 1
    r_string = (2 * rows - 1) * device.r_bypass_on_ohm
    r_low = r_string + device.r_mtj_low_ohm
    r_high = r_string + device.r_mtj_high_at_temperature_ohm
    # In TDC LSBs: clock periods, or phase steps of a two-step TDC (K per period; its start
    # delay still counts whole periods).
    t_clk, taps = readout.t_fine_ns, readout.fine_taps
    t_low, t_high = (float(trip_time_ns(r, rows, device, readout)) for r in (r_low, r_high))
    m_low, m_high = math.ceil(t_low / t_clk), math.ceil(t_high / t_clk)
    if m_high <= m_low:
        raise DeviceError(
            f"a single-MTJ read cannot tell low from high: both trip before clock edge {m_low} "
            f"(the MTJ's high-low difference is under one TDC step)")
    boundary = min(max(round((t_low + t_high) / 2 / t_clk), m_low), m_high - 1)
    delay = max(0, (boundary - (max_code + 1) // 2) // taps)
    threshold = boundary - delay * taps
    code_low, code_high = m_low - delay * taps - 1, m_high - delay * taps - 1
    if code_high >= max_code or threshold < 1:
        raise DeviceError(f"single-MTJ reads do not fit a {tdc_bits}-bit TDC (nominal codes "
                          f"{code_low} / {code_high}); use more TDC bits")
    if delay > 0xFFFF:
        raise DeviceError(f"single-MTJ reads need TDC_START_DELAY = {delay} > 65535")
    ns_per_ohm = readout.c_col_F(rows, device) * readout.log_ratio * 1e9
    return SingleReadSetup(start_delay_cycles=delay, threshold_code=threshold,
                           code_low=code_low, code_high=code_high,
                           margin_low_ohm=(boundary * t_clk - t_low) / ns_per_ohm,
                           margin_high_ohm=(t_high - boundary * t_clk) / ns_per_ohm)


@dataclass(frozen=True)
class RowVerifyReport:
    """Outcome of :func:`write_verify_row` for one row."""

    row: int
    #: Rewrites made, both sides together (one per WriteController ``retry`` pulse).
    retries: int
    #: Per column: the left / right MTJ was still wrong at that side's last verify read.
    failing_left: np.ndarray
    failing_right: np.ndarray
    #: Evaluations (single-MTJ reads) spent on the row.
    evaluations: int
    #: Every write pulse as ``(side, cycles)``, in order.
    pulses: tuple[tuple[int, int], ...]
    #: Model-only ground truth: cells holding the wrong state after the first pulse of each side
    #: (what a write without verify leaves) and at the end.
    wrong_after_first_write: np.ndarray
    wrong_at_end: np.ndarray

    @property
    def failing(self) -> np.ndarray:
        """Per column: the cell was reported failing (either MTJ)."""
        return self.failing_left | self.failing_right

    @property
    def failing_cols(self) -> np.ndarray:
        return np.flatnonzero(self.failing)

    @property
    def fail_mask(self) -> int:
        """Failing columns as an integer, column ``c`` in bit ``c`` (WV_FAIL_MASK)."""
        return sum(1 << int(c) for c in self.failing_cols)

    @property
    def n_failing(self) -> int:
        """Number of cells reported failing."""
        return int(self.failing_cols.size)

    @property
    def failing_cells(self) -> list[tuple[int, int]]:
        """``(row, col)`` of every cell reported failing."""
        return [(self.row, int(c)) for c in self.failing_cols]


def _wrong_cells(array: MramArray, row: int, w) -> np.ndarray:
    return (array.is_low[LEFT, row] != w) | (array.is_low[RIGHT, row] != ~w)


def write_verify_row(array: MramArray, row: int, w_row, *, readout: ReadoutParams,
                     tdc_bits: int, pulse_cycles: int, max_retries: int = 3,
                     double_pulse: bool = True, verify: bool = True,
                     setup: SingleReadSetup | None = None) -> RowVerifyReport:
    """Write row ``row`` of ``array`` with ``w_row`` and verify it (see the module docstring)."""
    w = np.asarray(w_row).astype(bool)
    if w.shape != (array.cols,):
        raise ValueError(f"w_row must have {array.cols} bits, not shape {w.shape}")
    if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < array.rows:
        raise ValueError(f"row must be an integer in 0..{array.rows - 1}, not {row!r}")
    if isinstance(pulse_cycles, bool) or not isinstance(pulse_cycles, int) or not (
            1 <= pulse_cycles <= MAX_PULSE_CYCLES):
        raise ValueError(f"pulse_cycles must be an integer in 1..{MAX_PULSE_CYCLES}, "
                         f"not {pulse_cycles!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or not (
            0 <= max_retries <= 15):
        raise ValueError(f"max_retries must be an integer in 0..15 (WV_CTRL.MAX_RETRIES), "
                         f"not {max_retries!r}")
    if setup is None and verify:        # no read-back, no single-MTJ read design needed
        setup = single_read_delay_and_threshold(array.rows, array.device, readout, tdc_bits)
    onehot = np.arange(array.rows) == row
    pulses: list[tuple[int, int]] = []
    failing = {}
    wrong_first = np.zeros(array.cols, dtype=bool)
    retries = evaluations = 0
    for side, data in ((LEFT, w), (RIGHT, ~w)):
        cycles, left = pulse_cycles, max_retries
        array.write(onehot, side, data, pulse_ns=cycles * readout.t_clk_ns)
        pulses.append((side, cycles))
        wrong_first |= array.is_low[side, row] != data
        wrong = np.zeros(array.cols, dtype=bool)
        while verify:
            codes, overflow = array.evaluate_codes(
                *single_mtj_bypass(array.rows, row, side), readout, tdc_bits=tdc_bits,
                start_delay_cycles=setup.start_delay_cycles)
            evaluations += 1
            wrong = setup.reads_low(codes, overflow) != data
            if not wrong.any() or left == 0:
                break
            left -= 1
            retries += 1
            if double_pulse:
                cycles = min(2 * cycles, MAX_PULSE_CYCLES)
            array.write(onehot, side, data, pulse_ns=cycles * readout.t_clk_ns)
            pulses.append((side, cycles))
        failing[side] = wrong
    return RowVerifyReport(row=row, retries=retries, failing_left=failing[LEFT],
                           failing_right=failing[RIGHT], evaluations=evaluations,
                           pulses=tuple(pulses), wrong_after_first_write=wrong_first,
                           wrong_at_end=_wrong_cells(array, row, w))


def write_verify_array(array: MramArray, w_bits, **kwargs) -> list[RowVerifyReport]:
    """:func:`write_verify_row` for every row, row 0 first (same keyword arguments)."""
    w = np.asarray(w_bits).astype(bool)
    if w.shape != (array.rows, array.cols):
        raise ValueError(f"w_bits must have shape ({array.rows}, {array.cols}), not {w.shape}")
    return [write_verify_row(array, r, w[r], **kwargs) for r in range(array.rows)]


@dataclass(frozen=True)
class WriteVerifyStats:
    """Write-verify over many dies (rates are per logical cell)."""

    p_fail: float | None           #: failure probability of the first pulse (None: as device)
    dies: int
    max_retries: int
    double_pulse: bool
    mean_retries_per_row: float
    max_retries_seen: int
    mean_evaluations_per_row: float
    mean_pulses_per_row: float
    raw_error_rate: float          #: wrong after the first write (what no verify would leave)
    residual_error_rate: float     #: wrong after write-verify (ground truth)
    reported_rate: float           #: reported failing by the verify
    false_fail_rate: float         #: reported failing but actually right
    missed_rate: float             #: actually wrong but not reported


def write_verify_study(rows: int, cols: int, device: DeviceParams, *, p_fail: float | None = None,
                       pulse_cycles: int = 4, t_clk_ns: float = T_CLK_NS, tdc_bits: int = 7,
                       dies: int = 4, max_retries: int = 3, double_pulse: bool = True,
                       seed: int = 0) -> WriteVerifyStats:
    """Write random weights into fresh dies with write-verify and count what goes wrong.

    With ``p_fail``, the device uses the thermal write model with the write current that makes a
    ``pulse_cycles`` pulse fail with that probability
    (:meth:`~sim_models.device.DeviceParams.with_write_failure`).
    """
    if p_fail is not None:
        device = device.with_write_failure(p_fail, pulse_ns=pulse_cycles * t_clk_ns)
    readout = design_readout(rows, device, t_clk_ns=t_clk_ns)
    setup = single_read_delay_and_threshold(rows, device, readout, tdc_bits)
    rng = np.random.default_rng(seed)
    die_seeds = np.random.SeedSequence(seed).generate_state(dies, dtype=np.uint64)
    reports: list[RowVerifyReport] = []
    for die_seed in die_seeds:
        array = MramArray(rows, cols, device, seed=int(die_seed))
        w = rng.integers(0, 2, (rows, cols)).astype(bool)
        reports += write_verify_array(array, w, readout=readout, tdc_bits=tdc_bits,
                                      pulse_cycles=pulse_cycles, max_retries=max_retries,
                                      double_pulse=double_pulse, setup=setup)
    cells = len(reports) * cols
    reported = np.array([r.failing for r in reports])
    wrong = np.array([r.wrong_at_end for r in reports])
    return WriteVerifyStats(
        p_fail=p_fail, dies=dies, max_retries=max_retries, double_pulse=double_pulse,
        mean_retries_per_row=float(np.mean([r.retries for r in reports])),
        max_retries_seen=max(r.retries for r in reports),
        mean_evaluations_per_row=float(np.mean([r.evaluations for r in reports])),
        mean_pulses_per_row=float(np.mean([len(r.pulses) for r in reports])),
        raw_error_rate=float(np.sum([r.wrong_after_first_write.sum() for r in reports]) / cells),
        residual_error_rate=float(wrong.sum() / cells),
        reported_rate=float(reported.sum() / cells),
        false_fail_rate=float((reported & ~wrong).sum() / cells),
        missed_rate=float((wrong & ~reported).sum() / cells))
