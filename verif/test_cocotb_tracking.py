"""The temperature tracker of a two-step TDC build, in RTL on Icarus Verilog and Verilator.

:mod:`verif.test_cocotb` runs every cocotb test on its configurations (the small counter build
carries the gain calibration and the tracker). This runs only
``test_gain_and_temperature_tracking`` on a small two-step gain build (``tdc_fine_taps=4``): the
replica columns are read through their own interpolator samplers (``arr_ref_fine``) on a die
whose phases are spread, with a code-density FINE_TABLE loaded, and TRACK_CODE, TRACK_GAIN, the
retrim count and every result must equal the golden model's across 25, 85 and 0 C.
"""

from __future__ import annotations

import shutil

import pytest

from mram_macro.design.config import profile_config
from mram_macro.sim.runner import SIMULATORS, run_cocotb

#: Small two-step build with the gain calibration and the tracker (every parameter spelt out:
#: MacroConfig()'s defaults are not what this test is about).
TWO_STEP_GAIN = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8,
                               precharge_cycles=2, write_pulse_cycles=4, tdc_mode="two_step",
                               tdc_fine_taps=4, calibration="gain")


@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_two_step_tracking_rtl_matches_golden(sim, mram_seed):
    assert TWO_STEP_GAIN.has_tracker
    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    result = run_cocotb(sim, TWO_STEP_GAIN, test_module="verif.cocotb.test_calibration",
                        seed=mram_seed, nvmm=30,
                        test_filter="test_gain_and_temperature_tracking$")
    assert result.passed and result.n_tests == 1, (
        f"{sim} ({TWO_STEP_GAIN.slug}), seed {mram_seed}: {result.failures}\n"
        f"replay: {result.replay()}")
