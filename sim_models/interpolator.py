"""The fine interpolator of the two-step TDC: a multi-phase sampler, as an analogue block.

Circuit (an assumption; the paper's chip has a plain 4-bit TDC): a delay-locked loop divides
the clock period ``t_clk`` into ``K`` phases, ``t_fine = t_clk / K`` apart, shared by all
columns, and one gate per line makes ``K - 1`` level lines from its taps: line ``j`` (``j = 1
.. K-1``) is high from each rising clock edge until ``j`` phase steps before the next one. Each
column has ``K - 1`` flip-flops on those lines, clocked by its comparator output, which rises
once, at the trip, and is held high until the precharge (the structure of a delay-line TDC
whose stop edge samples the line's taps: Staszewski et al., IEEE TCAS-II 53(3), 2006). The
comparator's edge therefore captures, and the column holds on its ``K - 1`` bits of
``arr_fine`` until the next precharge, a thermometer code of the time ``residue = m K -
t_trip / t_fine`` (in phase steps) from the trip to the first rising edge ``E + m`` after it
(the edge at which the periphery's coarse counter stands for ``m``): bit ``j - 1`` is 1 when
the trip came at least ``j`` steps before that edge. (Until 2026-12-07 the kit modelled
flip-flops clocked by the phases every cycle and frozen at ``E + m``: the same code, at more
than three times the sampler energy; :mod:`mram_macro.flow.ppa.analog` keeps that variant as a
comparison term.)

Pins (in addition to the array's): ``arr_fine`` (``cols * (K - 1)`` bits, column ``c`` in bits
``c (K-1) .. c (K-1) + K-2``), valid from the edge at which ``arr_cmp[c]`` is first seen high
(captured at the trip, before it), stable until ``arr_pre``; all zero after a precharge.

Non-idealities (:class:`~sim_models.device.DeviceParams`): each line ``j`` falls
``e_j = skew + sigma * N(0, 1)`` earlier than nominal (``tdc_phase_skew_ps``,
``tdc_phase_sigma_ps``; static, drawn from the die's seed by :func:`phase_errors_lsb`), so
flip-flop ``j`` reads 1 when ``residue >= j + e_j / t_fine``. Errors larger than half a step
between neighbours give bubbles (a 0 above a 1), which the periphery's ones counter absorbs.

Calibration: the periphery turns the ones count ``f`` into the code's fine value through the
``FINE_TABLE`` (ideal ``K - 1 - f``). :func:`code_density_table` builds that table from a
code-density histogram (the counts of ``f`` for trips uniformly distributed over a clock
period), and :func:`dnl_inl_lsb` measures the interpolator's linearity before and after.
"""

from __future__ import annotations

import numpy as np

from sim_models.device import DeviceError, DeviceParams

__all__ = ["phase_errors_lsb", "thermometer", "ideal_fine_table", "check_fine_table",
           "two_step_codes", "code_density_histogram", "code_density_table", "dnl_inl_lsb",
           "design_trip_residue", "widest_code_bin", "FineTableError"]

#: Tag mixed into the die seed for the phase errors, so they are independent of the die's other
#: random draws and the same for the golden model and the pin model.
_PHASE_SEED_TAG = 0x7D5C_F1E0


class FineTableError(DeviceError):
    """A FINE_TABLE the periphery cannot use; the message says which entry and why."""


def _check_taps(fine_taps) -> int:
    if isinstance(fine_taps, bool) or not isinstance(fine_taps, int) or fine_taps < 2:
        raise DeviceError(f"fine_taps must be an integer >= 2, not {fine_taps!r}")
    return fine_taps


def phase_errors_lsb(device: DeviceParams, fine_taps: int, t_fine_ns: float,
                     seed: int) -> np.ndarray:
    """Static timing errors of phases ``1 .. K-1`` in phase steps, shape ``(K - 1,)``.

    Drawn from ``seed`` (the die's) with a fixed tag, so every model of one die sees the same
    errors. All zero for the ideal device.
    """
    _check_taps(fine_taps)
    if not t_fine_ns > 0:
        raise DeviceError(f"t_fine_ns must be positive, not {t_fine_ns!r}")
    errors = np.full(fine_taps - 1, device.tdc_phase_skew_ps * 1e-3 / t_fine_ns)
    if device.tdc_phase_sigma_ps > 0:
        rng = np.random.default_rng(np.random.SeedSequence(int(seed),
                                                           spawn_key=(_PHASE_SEED_TAG,)))
        errors += rng.standard_normal(fine_taps - 1) * device.tdc_phase_sigma_ps * 1e-3 \
            / t_fine_ns
    return errors


def thermometer(residue, phase_errors) -> np.ndarray:
    """Sampler outputs for residues ``residue`` (phase steps, any shape): bool array with a
    last axis of ``K - 1``, bit ``j - 1`` set when ``residue >= j + phase_errors[j - 1]``."""
    e = np.asarray(phase_errors, dtype=np.float64)
    j = np.arange(1, len(e) + 1, dtype=np.float64) + e
    return np.asarray(residue, dtype=np.float64)[..., None] >= j


def ideal_fine_table(fine_taps: int) -> np.ndarray:
    """The FINE_TABLE reset values: ones count ``f`` -> fine value ``K - 1 - f``."""
    _check_taps(fine_taps)
    return np.arange(fine_taps - 1, -1, -1, dtype=np.int64)


def check_fine_table(table, fine_taps: int) -> np.ndarray:
    """``table`` as an int64 array of ``K`` entries, each ``0..K-1`` and not increasing with
    the ones count (a later trip never gets a larger fine value).

    Raises:
        FineTableError: wrong length, a value out of range or not an integer, or an entry
            above the one before it; the message names the entry.
    """
    _check_taps(fine_taps)
    t = np.asarray(table)
    if t.shape != (fine_taps,):
        raise FineTableError(f"a FINE_TABLE has {fine_taps} entries (one per ones count "
                             f"0..{fine_taps - 1}), not shape {t.shape}")
    for f, v in enumerate(t.tolist()):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < fine_taps:
            raise FineTableError(f"FINE_TABLE[{f}] must be an integer in 0..{fine_taps - 1}, "
                                 f"not {v!r}")
        if f and v > t[f - 1]:
            raise FineTableError(f"FINE_TABLE[{f}]={v} is above FINE_TABLE[{f - 1}]="
                                 f"{int(t[f - 1])}: the fine value must not increase with the "
                                 f"ones count (more ones = an earlier trip)")
    return t.astype(np.int64)


def two_step_codes(m_trip, thermometer_bits, *, start_delay_cycles: int, tdc_bits: int,
                   fine_taps: int, fine_table=None):
    """Codes and overflow flags of a two-step TDC, as the periphery forms them.

    ``coarse = m - D - 1``; below 0 the code is 0; above the coarse range
    (``2**tdc_bits / K - 1``) it saturates at ``2**tdc_bits - 1`` with overflow; else it is
    ``coarse * K + table[f]``, ``f`` the ones count of ``thermometer_bits`` (last axis).
    """
    taps = _check_taps(fine_taps)
    table = ideal_fine_table(taps) if fine_table is None else np.asarray(fine_table, np.int64)
    m = np.asarray(m_trip, dtype=np.int64)
    ones = np.asarray(thermometer_bits).sum(axis=-1)
    max_code = (1 << tdc_bits) - 1
    coarse = m - start_delay_cycles - 1
    overflow = coarse > (max_code >> (taps.bit_length() - 1))
    codes = np.where(coarse < 0, 0, np.where(overflow, max_code,
                                             np.maximum(coarse, 0) * taps + table[ones]))
    return codes, overflow


def code_density_histogram(phase_errors, samples: int, seed: int = 0) -> np.ndarray:
    """Counts of each ones count ``0..K-1`` for ``samples`` trips uniformly distributed over a
    clock period: the code-density test (in silicon, a comparator driven by a source
    asynchronous to the clock)."""
    e = np.asarray(phase_errors, dtype=np.float64)
    taps = len(e) + 1
    residue = np.random.default_rng(seed).uniform(0.0, taps, samples)
    ones = thermometer(residue, e).sum(axis=-1)
    return np.bincount(ones, minlength=taps)


def _bin_edges(histogram) -> np.ndarray:
    h = np.asarray(histogram, dtype=np.float64)
    if h.ndim != 1 or len(h) < 2 or (h < 0).any() or h.sum() <= 0:
        raise FineTableError(f"a code-density histogram is K >= 2 non-negative counts with a "
                             f"positive total, not {np.asarray(histogram)!r}")
    widths = h / h.sum() * len(h)                  # bin widths in phase steps
    return np.concatenate([[0.0], np.cumsum(widths)])


def code_density_table(histogram, *, trip_residue: float | None = None) -> np.ndarray:
    """The FINE_TABLE from a code-density histogram (:func:`code_density_histogram`).

    Bin ``f`` covers residues ``edges[f] .. edges[f+1]`` (widths proportional to its counts).
    Without ``trip_residue`` its entry is the fine value of its centre,
    ``floor(K - centre)``. With ``trip_residue`` (the fractional residue at which the
    readout design places every ideal trip, :func:`design_trip_residue`) the entry is the fine
    value ``K - 1 - k`` of the designed trip ``k + trip_residue`` that falls in the bin (the
    centre rule where none does): a skew of the phases is then undone exactly as long as no
    two designed trips share a bin. Kept in ``0..K-1`` and not increasing (a valid table).
    """
    edges = _bin_edges(histogram)
    taps = len(edges) - 1
    centre = (edges[:-1] + edges[1:]) / 2
    table = np.clip(np.floor(taps - centre), 0, taps - 1).astype(np.int64)
    if trip_residue is not None:
        if not 0 <= trip_residue < 1:
            raise FineTableError(f"trip_residue must be in [0, 1), not {trip_residue!r}")
        trips = np.arange(taps) + trip_residue
        for f in range(taps):
            inside = np.flatnonzero((trips >= edges[f]) & (trips < edges[f + 1]))
            if len(inside):
                table[f] = taps - 1 - inside[0]
    return np.minimum.accumulate(table)


def design_trip_residue(rows: int, device: DeviceParams, readout) -> float:
    """Fractional residue (phase steps before the next phase boundary) at which the readout
    places the ideal VMM trips: the same for every count, one step apart; with a
    slope-dependent comparator delay (``readout.comparator``) it drifts with the count, and this
    is the residue of the middle count (``rows // 2`` mismatching cells)."""
    r = rows * device.r_cell_low_ohm + (rows // 2 if readout.comparator is not None else 0) \
        * device.delta_r_ohm
    c_col_F = readout.c_col_F(rows, device)
    x0 = (r * c_col_F * readout.log_ratio * 1e9 + readout.t_cmp_delay_ns
          + float(readout.decision_delay_ns(r, c_col_F))) / readout.t_fine_ns
    return float(np.ceil(x0) - x0)


def widest_code_bin(phase_errors, table=None) -> float:
    """The widest interval of trip times (phase steps) over which a two-step TDC's code does
    not change, with the phase errors ``phase_errors`` (``K - 1``) and FINE_TABLE ``table``
    (default ideal): 1 for an ideal interpolator, wider where a phase is late or early or where
    the table gives two ones counts one fine value. A trip that moves further than this always
    changes its code.

    Every clock edge (residue 0) changes the coarse count; the step between ones counts
    ``j - 1`` and ``j`` sits at ``j + phase_errors[j - 1]`` and changes the code where the table
    gives them different values.
    """
    e = np.asarray(phase_errors, dtype=np.float64)
    taps = len(e) + 1
    table = ideal_fine_table(taps) if table is None else check_fine_table(table, taps)
    steps = [j + e[j - 1] for j in range(1, taps) if table[j] != table[j - 1]]
    edges = np.sort(np.concatenate([[0.0], np.clip(steps, 0.0, taps), [float(taps)]]))
    return float(np.diff(edges).max())


def dnl_inl_lsb(histogram, table=None) -> tuple[np.ndarray, np.ndarray]:
    """DNL and INL (in phase steps) of the interpolator from a code-density histogram.

    DNL of ones count ``f`` is its bin width minus one step. INL is the error of the fine
    value the table gives the bin (default: the ideal table) against the bin's centre:
    ``table[f] + 1/2 - (K - centre)``; 0 everywhere for an ideal interpolator.
    """
    edges = _bin_edges(histogram)
    taps = len(edges) - 1
    table = ideal_fine_table(taps) if table is None else np.asarray(table, dtype=np.float64)
    widths = np.diff(edges)
    centre = (edges[:-1] + edges[1:]) / 2
    return widths - 1.0, table + 0.5 - (taps - centre)
