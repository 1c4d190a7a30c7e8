"""cocotb integration tests of the generated Verilog, on Icarus Verilog and Verilator.

One build directory per simulator and configuration, ``build/sim/<sim>/<config.slug>`` (see
:mod:`mram_macro.sim.runner`). Every case runs all tests of the suite
:data:`verif.cocotb.MACRO_SUITE` (``test_macro`` and ``test_calibration``); set
``COCOTB_TEST_FILTER`` (a regular expression) to run fewer, ``WAVES=1`` to record waveforms. The
seed comes from ``--seed`` and the random VMM count from ``--nvmm`` (``verif/conftest.py``); both
are printed with every failure, with the command that replays it.
"""

from __future__ import annotations

import shutil

import pytest

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.sim.runner import SIMULATORS, run_cocotb
from verif.cocotb import MACRO_SUITE

CONFIGS = [
    MacroConfig(),                          # the default: the paper's plain binary macro
    profile_config("full"),                 # multi-bit inputs, activation mode, write-verify
    # the small counter build carries the gain calibration and the temperature tracker
    profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8,
                   calibration="gain", tdc_mode="counter"),
    # a small plain build (the default's features): no activation mode, single passes (no
    # multi-bit inputs or tiled sums), open-loop writes, results streamed from the TDC codes
    # (no result register), two columns per beat and a padded last beat (11 columns)
    MacroConfig(rows=8, cols=11, tdc_bits=4, result_width=8, stream_width=16,
                tdc_mode="two_step", tdc_fine_taps=4),
    # the default with the TDC capturing on the comparators' edges, and a small such build
    # (two-step with 4 phases: a quarter period of margin, the least edge capture allows)
    MacroConfig(tdc_capture="edge"),
    MacroConfig(rows=16, cols=11, tdc_bits=6, stream_width=16, tdc_fine_taps=4,
                tdc_capture="edge"),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.slug)
@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_macro(sim, config, mram_seed, mram_nvmm):
    from cocotb_tools.check_results import get_results

    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    result = run_cocotb(sim, config, test_module=MACRO_SUITE, seed=mram_seed, nvmm=mram_nvmm)
    assert result.passed, (
        f"{len(result.failures)} of {result.n_tests} cocotb test(s) failed on {sim} "
        f"({config.slug}), seed {mram_seed}:\n  " + "\n  ".join(result.failures) +
        f"\nreplay: {result.replay()} --nvmm {mram_nvmm}\nlog: see the captured output above")
    # Belt and braces: the results file itself, as cocotb reads it.
    n_tests, n_failed = get_results(result.results_xml)
    assert n_tests == result.n_tests and n_failed == 0
