"""The readout design keeps V_ref physical on every legal array height, or refuses."""

from __future__ import annotations

import numpy as np
import pytest

from mram_macro.design.config import _MAX_ROWS, _MIN_ROWS
from sim_models.device import DeviceError, DeviceParams
from sim_models.readout import (
    NEVER_TRIPS_CYCLES,
    V_REF_MAX_RATIO,
    V_REF_MIN_RATIO,
    design_readout,
    evaluate_trip_cycles,
    tdc_codes,
)


@pytest.mark.parametrize("rows", [_MIN_ROWS, 3, 8, 13, 32, 48, 63, 64, 100, _MAX_ROWS])
def test_v_ref_is_physical_and_codes_count_mismatches(rows):
    d = DeviceParams()
    ro = design_readout(rows, d)
    assert V_REF_MIN_RATIO * (1 - 1e-12) <= ro.v_ref_ratio <= V_REF_MAX_RATIO
    # One mismatch = one clock period, whatever the load capacitor: ideal codes are exact.
    k = np.arange(rows + 1)
    r = rows * d.r_cell_low_ohm + k * d.delta_r_ohm
    m = evaluate_trip_cycles(r, device=d, readout=ro, rows=rows)
    codes, overflow = tdc_codes(m, start_delay_cycles=ro.start_delay_cycles,
                                tdc_bits=max(2, rows.bit_length()))
    assert codes.tolist() == k.tolist() and not overflow.any()


def test_small_arrays_get_a_load_capacitor_and_survive_millivolt_offsets():
    d = DeviceParams()
    assert design_readout(64, d).c_load_fF == 0.0           # the default macro is unchanged
    ro = design_readout(8, d)
    assert ro.c_load_fF > 0 and ro.v_ref_V >= 0.045
    r = np.full(3, 8 * d.r_cell_low_ohm + 4 * d.delta_r_ohm)
    m = evaluate_trip_cycles(r, device=d, readout=ro, rows=8,
                             comparator_offset_V=np.array([0.0, -1e-3, 1e-3]))
    assert NEVER_TRIPS_CYCLES not in m.tolist()             # 1 mV no longer stops a column
    assert np.ptp(m) <= 1


def test_a_column_too_large_for_the_clock_is_refused():
    big = DeviceParams(c_cell_fF=200.0)
    with pytest.raises(DeviceError, match=r"needs V_ref = 0\.9\d+ V_pre .* above 0\.9 V_pre .* "
                                          r"use fewer rows or a shorter clock period"):
        design_readout(256, big)
