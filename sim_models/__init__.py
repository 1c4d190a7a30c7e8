"""Behavioural model of the resistance-sum MRAM array, its readout, and the golden macro model.

Plain NumPy, usable without any simulator. The same objects drive the array pins in the cocotb
testbenches (:mod:`sim_models.cocotb_array`), so RTL simulation and golden model agree bit for bit.
"""

from .array import ArrayModelError, MramArray, bypass_for_inputs
from .device import DeviceError, DeviceParams
from .golden import GoldenMacro, signed_dot
from .readout import ReadoutParams, design_readout, tdc_codes, trip_cycles

__all__ = [
    "ArrayModelError", "MramArray", "bypass_for_inputs", "DeviceError", "DeviceParams",
    "GoldenMacro", "signed_dot", "ReadoutParams", "design_readout", "tdc_codes", "trip_cycles",
]
