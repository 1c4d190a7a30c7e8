"""Isolation: a cocotb test that fails mid-flight (a pass evaluating, a row write and a bus read
in flight, a dead comparator, a paused stream) does not make the next test fail: every test
starts from a reset DUT and a fresh array model (``MacroEnv.reset``)."""

from __future__ import annotations

import shutil

import pytest

from mram_macro.design.config import profile_config
from verif.budgets import wall_deadline_s
from verif.regress import run_suite

CONFIG = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8)


@pytest.mark.timeout(wall_deadline_s("verilator", CONFIG, 80))
@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH")
def test_a_failed_test_does_not_cascade(mram_seed):
    result = run_suite("verilator", CONFIG, seed=mram_seed, nvmm=40,
                       modules=("verif.cocotb.isolation_probe",))
    assert result.n_tests == 4
    assert sorted(f.split(":")[0] for f in result.failures) == [
        "test_a_fails_mid_flight", "test_c_fails_in_reset_state"], (
        f"seed {mram_seed}: the tests after a failure must pass: {result.failures}")
