"""``tdc_mode="coarse"`` on both simulators: :mod:`verif.cocotb.test_coarse` (the chip's coarse
code and the per-column look-up table, bit for bit against the golden model) on a 64-row coarse
macro (the chip's column length and window; 8 columns keep the builds short)."""

from __future__ import annotations

import shutil

import pytest

from mram_macro.design.config import profile_config
from mram_macro.sim.runner import SIMULATORS, run_cocotb

COARSE = profile_config("full", rows=64, cols=8, tdc_bits=4, result_width=16, stream_width=32,
                        tdc_mode="coarse")


# ``config`` as a parameter: conftest derives the pytest-timeout deadline from it.
@pytest.mark.parametrize("config", [COARSE], ids=lambda c: c.slug)
@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_coarse_macro(sim, config, mram_seed, mram_nvmm):
    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    result = run_cocotb(sim, config, test_module="verif.cocotb.test_coarse", seed=mram_seed,
                        nvmm=mram_nvmm)
    assert result.passed, (
        f"{len(result.failures)} of {result.n_tests} cocotb test(s) failed on {sim} "
        f"({COARSE.slug}), seed {mram_seed}:\n  " + "\n  ".join(result.failures) +
        f"\nreplay: {result.replay()} --nvmm {mram_nvmm}")
    assert result.n_tests == 4
