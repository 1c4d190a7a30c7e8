"""Behavioural model of the resistance-sum MRAM array, its readout, and the golden macro model.

Plain NumPy, usable without any simulator. The same objects drive the array pins in the cocotb
testbenches (:mod:`mram_macro.sim.array_pins`), so RTL simulation and golden model agree bit for
bit.

* :mod:`~sim_models.device`: :class:`DeviceParams`, every knob of the device model (ideal by
  default; ``DeviceParams.paper()`` for the measured spread).
* :mod:`~sim_models.devices`: device presets (the 2022 chip's STT cell, SOT, ME-MRAM) with the
  source of every number, and :func:`~sim_models.devices.readout_for`, which refuses a preset no
  legal readout resolves.
* :mod:`~sim_models.die`: :class:`Die`, one die's per-MTJ resistances and faults and per-column
  comparator offsets; sampled from a seed, saved to / loaded from ``.npz`` or CSV.
* :mod:`~sim_models.array`: :class:`MramArray`, a die in operation (MTJ states, writes, reads).
* :mod:`~sim_models.readout`: RC discharge, comparator and TDC (:func:`evaluate_codes`).
* :mod:`~sim_models.golden`: :class:`GoldenMacro`, the whole macro, fast over batches.
* :mod:`~sim_models.datapath`: the digital arithmetic (signed dot, wrap, accumulate, gains).
* :mod:`~sim_models.calibration`: host-side CAL_OFFSET / CAL_GAIN calibration and the tracking
  reference; :mod:`~sim_models.coarse`: the coarse TDC's code -> value tables.
* :mod:`~sim_models.studies`: their evaluation over dies and temperature (Monte Carlo).
* :mod:`~sim_models.replica`: the temperature tracker's replica columns (part of the array;
  pins in :mod:`mram_macro.sim.replica_pins`).
* :mod:`~sim_models.write_model`: reference of the write-verify algorithm and its statistics.
"""

from sim_models.array import (
    LEFT,
    RIGHT,
    ArrayModelError,
    MramArray,
    bypass_for_inputs,
    single_mtj_bypass,
)
from sim_models.calibration import (
    cal_offsets_from_codes,
    calibrate,
    calibrate_gain,
    capture_track_ref,
    reference_patterns,
)
from sim_models.device import DeviceError, DeviceParams
from sim_models.die import STUCK_HIGH, STUCK_LOW, STUCK_NONE, Die, DieError
from sim_models.golden import GoldenMacro, RegisterState, signed_dot
from sim_models.readout import (
    ReadoutParams,
    design_readout,
    evaluate_codes,
    evaluate_trip_cycles,
    tdc_codes,
    trip_cycles,
    trip_time_ns,
)
from sim_models.replica import ReplicaColumns
from sim_models.studies import CalibrationStudy, calibration_study, tracking_study
from sim_models.write_model import (
    RowVerifyReport,
    SingleReadSetup,
    WriteVerifyStats,
    single_read_delay_and_threshold,
    write_verify_array,
    write_verify_row,
    write_verify_study,
)

__all__ = [
    "ArrayModelError", "MramArray", "bypass_for_inputs", "single_mtj_bypass", "LEFT", "RIGHT",
    "DeviceError", "DeviceParams", "Die", "DieError", "STUCK_NONE", "STUCK_LOW", "STUCK_HIGH",
    "GoldenMacro", "RegisterState", "signed_dot", "ReadoutParams", "design_readout",
    "tdc_codes", "trip_cycles", "trip_time_ns", "evaluate_codes", "evaluate_trip_cycles",
    "CalibrationStudy", "cal_offsets_from_codes", "calibrate", "calibration_study",
    "reference_patterns", "calibrate_gain", "capture_track_ref", "tracking_study",
    "ReplicaColumns",
    "RowVerifyReport", "SingleReadSetup", "WriteVerifyStats", "single_read_delay_and_threshold",
    "write_verify_array", "write_verify_row", "write_verify_study",
]
