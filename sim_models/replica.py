"""Replica (reference) columns of the temperature tracker, as part of the analogue array.

Each of the ``REPLICA_COLS`` replica columns is a column of ``rows`` cells whose MTJs are all in
the high (antiparallel) state, with its own comparator, discharging alongside the array in a
tracking pass (pin ``arr_ref_en``) and reporting on its own pins ``arr_ref_cmp``. Their bypass
gates are tied (left MTJ bypassed, right MTJ in the string), so their resistance does not
depend on the input vector: ``R = rows * R_bypass_on + sum_r R_high[r](T)``. Their code is
therefore about ``rows * step(T) / step(T_design)``: the quantity the tracker needs
(mram_macro/rtl/periphery/tracker.py).

Their MTJs have the die's spread and their comparators its offsets, drawn from the die's seed
on a stream of their own (so adding replicas changed no main-array MTJ); the per-evaluation
comparator noise and jitter come from their own counter-based stream, indexed by the same
evaluation number as the main array's columns.

With a two-step TDC each replica column also has its ``K - 1`` interpolator samplers on the
pins ``arr_ref_fine`` (as ``arr_fine``), clocked by the same DLL phases as the array's columns:
the die's phase errors are the phases', shared by every sampler of the die
(:func:`sim_models.interpolator.phase_errors_lsb`), so the one FINE_TABLE the host calibrates
for the array linearises the replicas exactly too, and they need no table of their own.
"""

from __future__ import annotations

import numpy as np

from mram_macro.design.config import REPLICA_COLS
from sim_models.device import DeviceParams
from sim_models.readout import (
    ReadoutParams,
    evaluate_fine_trips,
    evaluate_trip_cycles,
    tdc_codes,
    trip_time_ns,
)

__all__ = ["ReplicaColumns", "REPLICA_COLS", "TRACKING_RANGE_C", "nominal_replica_lsb",
           "replica_swing_lsb"]

#: Entropy word that separates the replica columns from the rest of the die.
_REPLICA_STREAM = 0x5245_5043


def nominal_replica_lsb(rows: int, device: DeviceParams, readout: ReadoutParams) -> float:
    """Trip time of a nominal replica column (every MTJ at ``device.r_mtj_high_ohm``, no
    comparator offset or noise) at ``device.temperature_C``, in TDC steps (``t_fine_ns``)
    before quantisation: the difference of two temperatures is how far one replica code moves.
    On short columns a swing of tens of kelvin moves it by less than one step, so a replica
    code (and the tracker) may not see the change at all."""
    r = rows * (device.r_bypass_on_ohm + device.r_mtj_high_at_temperature_ohm)
    return float(trip_time_ns(r, rows, device, readout)) / readout.t_fine_ns


#: The die temperatures (C) over which the kit characterises tracking (the tracking tests, the
#: datasheet's tracking resolution).
TRACKING_RANGE_C = (0.0, 85.0)


def replica_swing_lsb(rows: int, device: DeviceParams, readout: ReadoutParams,
                      temperatures_C: tuple[float, float] = TRACKING_RANGE_C) -> float:
    """How far a nominal replica code moves (TDC steps, before quantisation) from the colder to
    the hotter of ``temperatures_C``: ``rows`` times the MTJ's high-state change over one
    step's resistance. Below one step a replica code need not change at all."""
    cold, hot = temperatures_C
    return (nominal_replica_lsb(rows, device.replace(temperature_C=cold), readout)
            - nominal_replica_lsb(rows, device.replace(temperature_C=hot), readout))


class ReplicaColumns:
    """The replica columns of one die: per-MTJ high-state resistances at the reference
    temperature (``(rows, n)``), comparator offsets (``(n,)``) and a noise seed."""

    def __init__(self, r_high_ohm, comparator_offset_V, noise_seed: int):
        self.r_high_ohm = np.asarray(r_high_ohm, dtype=np.float64)
        self.comparator_offset_V = np.asarray(comparator_offset_V, dtype=np.float64)
        if self.r_high_ohm.ndim != 2 or self.comparator_offset_V.shape != (
                self.r_high_ohm.shape[1],):
            raise ValueError(f"r_high_ohm must be (rows, n) and comparator_offset_V (n,), not "
                             f"{self.r_high_ohm.shape} and {self.comparator_offset_V.shape}")
        self.noise_seed = int(noise_seed)

    @classmethod
    def sample(cls, rows: int, device: DeviceParams, *, seed: int,
               n: int = REPLICA_COLS) -> ReplicaColumns:
        """The replicas of the die with seed ``seed`` (same seed, same replicas)."""
        rng = np.random.default_rng([int(seed), _REPLICA_STREAM])
        r = device.r_mtj_high_ohm + device.sigma_high_ohm * rng.standard_normal((rows, n))
        np.maximum(r, 0.01 * device.r_mtj_high_ohm, out=r)
        offsets = device.comparator_offset_sigma_V * rng.standard_normal(n)
        noise_seed = int(np.random.SeedSequence([int(seed), _REPLICA_STREAM]).generate_state(
            2, dtype=np.uint64).astype(object).dot([1, 1 << 64]))
        return cls(r, offsets, noise_seed)

    @property
    def rows(self) -> int:
        return self.r_high_ohm.shape[0]

    @property
    def n(self) -> int:
        return self.r_high_ohm.shape[1]

    def resistance_ohm(self, device: DeviceParams) -> np.ndarray:
        """Each replica column's series resistance at ``device.temperature_C``."""
        return (self.rows * device.r_bypass_on_ohm
                + (self.r_high_ohm * device.high_state_factor).sum(axis=0))

    def trip_cycles(self, device: DeviceParams, readout: ReadoutParams, *,
                    evaluation: int) -> np.ndarray:
        """Trip edge index ``m`` of every replica column in evaluation number ``evaluation``
        (the array's column count sets the capacitance: a replica is a column like the
        others)."""
        return evaluate_trip_cycles(self.resistance_ohm(device), device=device, readout=readout,
                                    rows=self.rows, comparator_offset_V=self.comparator_offset_V,
                                    noise_seed=self.noise_seed, first_evaluation=evaluation)

    def fine_trips(self, device: DeviceParams, readout: ReadoutParams, *, evaluation: int,
                   phase_errors_lsb):
        """Two-step TDC (``readout.fine_taps = K > 1``): trip edge ``m`` of every replica column
        in evaluation ``evaluation`` and its ``K - 1`` interpolator sampler bits, ``(n,)`` and
        ``(n, K - 1)``. The replicas' samplers sit on the die's shared phases
        (``phase_errors_lsb``: :meth:`sim_models.array.MramArray.phase_errors_lsb`), as every
        column's do; the trips are those of :meth:`trip_cycles` (same noise draws)."""
        from sim_models.interpolator import thermometer

        m, residue = evaluate_fine_trips(
            self.resistance_ohm(device), device=device, readout=readout, rows=self.rows,
            comparator_offset_V=self.comparator_offset_V, noise_seed=self.noise_seed,
            first_evaluation=evaluation)
        return m, thermometer(residue, phase_errors_lsb)

    def codes(self, device: DeviceParams, readout: ReadoutParams, *, tdc_bits: int,
              start_delay_cycles: int, evaluation: int, phase_errors_lsb=None,
              fine_table=None):
        """Replica TDC codes and overflow flags of evaluation ``evaluation``. With a two-step
        TDC (``readout.fine_taps > 1``) the code is formed as a main column's is
        (:func:`sim_models.interpolator.two_step_codes`): the die's phase errors
        ``phase_errors_lsb`` (default none) and the macro's FINE_TABLE ``fine_table`` (default
        ideal), which the replicas share with the array's columns."""
        if readout.fine_taps == 1:
            m = self.trip_cycles(device, readout, evaluation=evaluation)
            return tdc_codes(m, start_delay_cycles=start_delay_cycles, tdc_bits=tdc_bits)
        from sim_models.interpolator import two_step_codes

        errors = (np.zeros(readout.fine_taps - 1) if phase_errors_lsb is None
                  else phase_errors_lsb)
        m, therm = self.fine_trips(device, readout, evaluation=evaluation,
                                   phase_errors_lsb=errors)
        return two_step_codes(m, therm, start_delay_cycles=start_delay_cycles, tdc_bits=tdc_bits,
                              fine_taps=readout.fine_taps, fine_table=fine_table)
