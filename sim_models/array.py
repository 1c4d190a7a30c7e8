"""The MRAM crossbar: one die's MTJs, their states, and the series column sum.

Pin-level view (what the RTL drives; names match the macro's ``arr_*`` ports):

* ``bypass_l[r]`` / ``bypass_r[r]``: 1 turns on the bypass transistor across row r's left /
  right MTJ in every column. A bypassed MTJ contributes ``r_bypass_on_ohm`` instead of its own
  resistance. VMM mode bypasses exactly one of the two; bypassing all but one MTJ of a column
  reads that MTJ alone (for write-verify).
* Writes: ``wr_row`` one-hot selects a row, ``wr_side`` the MTJ (0 = left = W, 1 = right = W-bar),
  ``wr_data[c]`` = 1 writes the low-resistance (parallel) state into column c, else high. With
  the deterministic write model a pulse at least ``t_switch_ns`` long switches the selected MTJs;
  with the thermal model each MTJ that has to switch fails with probability
  ``device.write_failure_probability(pulse_ns)``, drawn reproducibly per write pulse.
* An MTJ stuck low or high (a fault of the die) keeps its state whatever is written.

Weight encoding: weight +1 is stored as left MTJ low / right MTJ high. Input +1 keeps the left
MTJ in the string (bypasses the right one), so a cell is low-resistance exactly when input and
weight agree: the cell computes XNOR.

Evaluation count: :attr:`MramArray.evaluations` numbers the die's evaluations (VMM passes and
single-MTJ reads alike); evaluation ``i`` draws its comparator noise and TDC jitter from
``(die.seed, i)``. Whoever evaluates advances it; two models of the same die that perform the
same evaluations in the same order therefore see the same noise.
"""

from __future__ import annotations

import numpy as np

from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.readout import (
    ReadoutParams,
    evaluate_codes,
    evaluate_fine_trips,
    evaluate_trip_cycles,
)
from sim_models.replica import ReplicaColumns

__all__ = ["MramArray", "ArrayModelError", "bypass_for_inputs", "single_mtj_bypass", "LEFT",
           "RIGHT"]

LEFT, RIGHT = 0, 1

#: Entropy word that separates the write randomness of a die from its evaluation noise.
_WRITE_STREAM = 0x5752_4954


class ArrayModelError(RuntimeError):
    """The periphery drove the array pins in a way the array cannot accept."""


def bypass_for_inputs(x_bits):
    """Bypass controls that evaluate input bits ``x_bits`` (1 = +1): ``(bypass_l, bypass_r)``."""
    x = np.asarray(x_bits).astype(bool)
    return ~x, x.copy()


def single_mtj_bypass(rows: int, row: int, side: int):
    """Bypass controls that leave only MTJ (``row``, ``side``) of every column in the string."""
    if not 0 <= row < rows:
        raise ValueError(f"row must be in 0..{rows - 1}, not {row!r}")
    if side not in (LEFT, RIGHT):
        raise ValueError(f"side must be 0 (left) or 1 (right), not {side!r}")
    bypass = [np.ones(rows, dtype=bool), np.ones(rows, dtype=bool)]
    bypass[side][row] = False
    return bypass[0], bypass[1]


class MramArray:
    """One die in operation: its resistances at the operating temperature and its MTJ states.

    ``MramArray(rows, cols, device, seed=s)`` samples the die from ``s`` (the same seed always
    gives the same die); ``MramArray.from_die(die, device)`` uses a given (e.g. measured) die.
    """

    def __init__(self, rows: int, cols: int, device: DeviceParams | None = None, *,
                 seed: int | None = 0, die: Die | None = None):
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise ValueError(f"rows must be a positive integer, not {rows!r}")
        if isinstance(cols, bool) or not isinstance(cols, int) or cols < 1:
            raise ValueError(f"cols must be a positive integer, not {cols!r}")
        if device is not None and not isinstance(device, DeviceParams):
            raise TypeError(f"device must be a DeviceParams, not {type(device).__name__}")
        self.rows, self.cols = rows, cols
        self.device = device = device or DeviceParams()
        if die is None:
            die = Die.sample(rows, cols, device, seed=seed)
        elif not isinstance(die, Die):
            raise TypeError(f"die must be a Die, not {type(die).__name__}")
        elif (die.rows, die.cols) != (rows, cols):
            raise ValueError(f"the die is {die.rows}x{die.cols}, not {rows}x{cols}")
        #: The die: reference-temperature resistances, faults, comparator offsets, noise seed.
        self.die = die
        #: Per-MTJ resistances ``[side, row, col]`` at the operating temperature.
        self.r_low_ohm = die.r_low_ohm.copy()
        self.r_high_ohm = die.r_high_ohm * device.high_state_factor
        #: Per-column comparator offset (die property).
        self.comparator_offset_V = die.comparator_offset_V.copy()
        self.stuck_low = die.stuck_low
        self.stuck_high = die.stuck_high
        #: The temperature tracker's replica columns (sim_models/replica.py), from the die seed.
        self.replica = ReplicaColumns.sample(rows, device, seed=die.seed)
        #: True where an MTJ is in the low-resistance state. Fresh dies read as all high
        #: (except MTJs stuck low).
        self.is_low = self.stuck_low.copy()
        #: Index of the next evaluation (see the module docstring).
        self.evaluations = 0
        #: Write pulses applied so far (indexes the write randomness).
        self.writes = 0
        #: Results derived from the MTJ states and resistances (see :meth:`_cached`).
        self._caches: dict[str, tuple] = {}

    @classmethod
    def from_die(cls, die: Die, device: DeviceParams | None = None) -> MramArray:
        """An array on a given die (fresh state: all MTJs high except those stuck low)."""
        if not isinstance(die, Die):
            raise TypeError(f"die must be a Die, not {type(die).__name__}")
        return cls(die.rows, die.cols, device, die=die)

    def set_temperature(self, temperature_C: float) -> None:
        """Operate the same die at another temperature (MTJ states are kept)."""
        self.device = self.device.replace(temperature_C=temperature_C)
        self.r_high_ohm = self.die.r_high_ohm * self.device.high_state_factor

    # -- weights ------------------------------------------------------------------------------
    def load_weights(self, w_bits) -> None:
        """Back-door: store weight bits ``w_bits[row, col]`` (1 = +1) without write pulses.

        Stuck MTJs keep their state.
        """
        w = self._check_matrix(w_bits)
        self.is_low[LEFT] = w
        self.is_low[RIGHT] = ~w
        self._apply_stuck()

    def weights(self):
        """Weight bits as read from the left MTJs (1 = +1)."""
        return self.is_low[LEFT].copy()

    def complement_ok(self):
        """True where the right MTJ holds the complement of the left one."""
        return self.is_low[LEFT] != self.is_low[RIGHT]

    def write(self, wr_row, wr_side: int, wr_data, pulse_ns: float) -> None:
        """Apply one write pulse as driven on the pins."""
        row_sel = np.asarray(wr_row).astype(bool)
        if row_sel.shape != (self.rows,) or row_sel.sum() != 1:
            raise ArrayModelError(f"a write pulse needs exactly one selected row, "
                                  f"got wr_row={np.flatnonzero(row_sel)}")
        if wr_side not in (LEFT, RIGHT):
            raise ArrayModelError(f"wr_side must be 0 (left) or 1 (right), not {wr_side!r}")
        data = np.asarray(wr_data).astype(bool)
        if data.shape != (self.cols,):
            raise ArrayModelError(f"wr_data must have {self.cols} bits, not shape {data.shape}")
        row = int(np.flatnonzero(row_sel)[0])
        index = self.writes
        self.writes += 1
        state = self.is_low[wr_side, row]
        if self.device.write_model == "deterministic":
            if pulse_ns < self.device.t_switch_ns:
                return  # too short to switch: the cells keep their state
            state[:] = data
        else:
            p_fail = self.device.write_failure_probability(pulse_ns)
            u = np.random.default_rng([self.die.seed, _WRITE_STREAM, index]).random(self.cols)
            switched = (state != data) & (u >= p_fail)
            state[switched] = data[switched]
        state[self.stuck_low[wr_side, row]] = True
        state[self.stuck_high[wr_side, row]] = False

    def _apply_stuck(self) -> None:
        self.is_low[self.stuck_low] = True
        self.is_low[self.stuck_high] = False

    # -- reading ------------------------------------------------------------------------------
    def mtj_resistance_ohm(self):
        return np.where(self.is_low, self.r_low_ohm, self.r_high_ohm)

    def column_resistance_ohm(self, bypass_l, bypass_r):
        """Series resistance of every column for one setting of the bypass pins.

        Each cell contributes ``left + right``, with ``left`` the left MTJ's resistance or, if
        its row's left bypass is on, the bypass' (likewise ``right``); the four possible cell
        sums are cached, so an evaluation picks one per row and sums the
        rows: the same additions as ``(where(bl, R_on, R_L) + where(br, R_on, R_R)).sum(0)``,
        bit for bit, without recomputing the MTJ resistances every time.
        """
        bl = np.asarray(bypass_l).astype(bool)
        br = np.asarray(bypass_r).astype(bool)
        # Kept while the MTJ states (compared by value) and the resistance arrays (replaced,
        # never changed in place: set_temperature) and the bypass resistance stay.
        key = (self.is_low.tobytes(), id(self.r_low_ohm), id(self.r_high_ohm),
               self.device.r_bypass_on_ohm)
        cached = self._caches.get("cell_sums")
        if cached is None or cached[0] != key:
            cached = self._caches["cell_sums"] = (key, self._cell_sums(),
                                                  (self.r_low_ohm, self.r_high_ohm))
        pick = 2 * bl.astype(np.intp) + br      # 0: both MTJs, 1: right bypassed, ...
        return cached[1][pick, np.arange(self.rows)].sum(axis=0)

    def _cell_sums(self) -> np.ndarray:
        """``[k, row, col]``: a cell's series resistance with its left bypass on if ``k & 2``
        and its right bypass on if ``k & 1`` (see :meth:`column_resistance_ohm`)."""
        r_on = self.device.r_bypass_on_ohm
        r = self.mtj_resistance_ohm()
        on = np.full_like(r[LEFT], r_on)
        return np.stack([r[LEFT] + r[RIGHT], r[LEFT] + on, on + r[RIGHT], on + on])

    def _cached(self, name: str, compute):
        """``compute()``, kept until the MTJ states, their resistances or the bypass
        resistance change (compared by value: callers may change them in place)."""
        key = (self.is_low, self.r_low_ohm, self.r_high_ohm, self.device.r_bypass_on_ohm)
        cached = self._caches.get(name)
        if (cached is None or cached[0][3] != key[3]
                or not all(np.array_equal(a, b) for a, b in zip(cached[0][:3], key[:3],
                                                                strict=True))):
            cached = self._caches[name] = ((self.is_low.copy(), self.r_low_ohm.copy(),
                                            self.r_high_ohm.copy(), key[3]), compute())
        return cached[1]

    def vmm_affine_ohm(self):
        """``(slope, base)`` with ``R_col = base + x @ slope`` for input bits ``x`` (VMM mode).

        ``slope[r, c] = R_left - R_right`` of cell (r, c), ``base[c] = rows * R_on +
        sum_r R_right``. Cached until the MTJ states or resistances change; treat as read-only.
        """
        def affine():
            r = self.mtj_resistance_ohm()
            base = self.rows * self.device.r_bypass_on_ohm + r[RIGHT].sum(axis=0)
            return r[LEFT] - r[RIGHT], base

        return self._cached("affine", affine)

    def vmm_resistance_ohm(self, x_bits):
        """Column resistances for a batch of input vectors ``x_bits[batch, row]`` (VMM mode).

        A matrix product: sum over rows of the kept MTJ plus one bypass per cell.
        """
        x = np.asarray(x_bits, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        slope, base = self.vmm_affine_ohm()
        return base + x @ slope

    # -- evaluating ---------------------------------------------------------------------------
    def evaluate_trip_cycles(self, bypass_l, bypass_r, readout: ReadoutParams):
        """One evaluation with these bypass pins: every column's trip edge index ``m``.

        Uses (and advances) :attr:`evaluations`; comparator offsets, noise and jitter as in
        :func:`sim_models.readout.evaluate_trip_cycles`. This is what a pin model calls.
        """
        index = self.evaluations
        self.evaluations += 1
        return evaluate_trip_cycles(self.column_resistance_ohm(bypass_l, bypass_r),
                                    device=self.device, readout=readout, rows=self.rows,
                                    comparator_offset_V=self.comparator_offset_V,
                                    noise_seed=self.die.seed, first_evaluation=index)

    def evaluate_fine_trips(self, bypass_l, bypass_r, readout: ReadoutParams):
        """One evaluation through a two-step TDC's interpolator (advances
        :attr:`evaluations`): every column's trip edge ``m`` and its ``K - 1`` sampler bits
        (:mod:`sim_models.interpolator`, with this die's phase errors). What a pin model
        with ``arr_fine`` calls."""
        from sim_models.interpolator import thermometer

        index = self.evaluations
        self.evaluations += 1
        m, residue = evaluate_fine_trips(
            self.column_resistance_ohm(bypass_l, bypass_r), device=self.device,
            readout=readout, rows=self.rows, comparator_offset_V=self.comparator_offset_V,
            noise_seed=self.die.seed, first_evaluation=index)
        return m, thermometer(residue, self.phase_errors_lsb(readout))

    def phase_errors_lsb(self, readout: ReadoutParams):
        """The two-step TDC's static phase errors for this die (in phase steps)."""
        from sim_models.interpolator import phase_errors_lsb

        # A pin model asks at every evaluation: keep the last answer (read-only).
        key = (self.device, readout.fine_taps, readout.t_fine_ns, self.die.seed)
        cached = getattr(self, "_phase_errors", None)
        if cached is None or cached[0] != key:
            errors = np.asarray(phase_errors_lsb(*key))
            errors.flags.writeable = False
            cached = self._phase_errors = (key, errors)
        return cached[1]

    def evaluate_codes(self, bypass_l, bypass_r, readout: ReadoutParams, *, tdc_bits: int,
                       start_delay_cycles: int, fine_table=None):
        """One evaluation's TDC codes and overflow flags (advances :attr:`evaluations`);
        ``fine_table``: a two-step TDC's FINE_TABLE (default ideal)."""
        index = self.evaluations
        self.evaluations += 1
        errors = self.phase_errors_lsb(readout) if readout.fine_taps > 1 else None
        return evaluate_codes(self.column_resistance_ohm(bypass_l, bypass_r),
                              device=self.device, readout=readout, rows=self.rows,
                              tdc_bits=tdc_bits, start_delay_cycles=start_delay_cycles,
                              comparator_offset_V=self.comparator_offset_V,
                              noise_seed=self.die.seed, first_evaluation=index,
                              phase_errors_lsb=errors, fine_table=fine_table)

    def _check_matrix(self, w_bits):
        w = np.asarray(w_bits).astype(bool)
        if w.shape != (self.rows, self.cols):
            raise ValueError(f"weights must have shape ({self.rows}, {self.cols}), not {w.shape}")
        return w
