"""The host API's RTL backend against its golden backend: same die and seed, same results bit for
bit, on Icarus and Verilator (a small configuration, a die with the paper's spread)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from mram_macro.design.config import profile_config
from mram_macro.host import Macro
from mram_macro.sim.runner import SIMULATORS
from sim_models.device import DeviceParams
from verif.budgets import wall_deadline_s

CONFIG = profile_config("full", rows=16, cols=8, tdc_bits=5, result_width=12, stream_width=8,
                        tdc_mode="counter", calibration="gain")


def _session(m: Macro, rng_seed: int):
    """Every kind of operation once; returns what the host saw."""
    rng = np.random.default_rng(rng_seed)
    w = rng.choice([-1, 1], (CONFIG.rows, CONFIG.cols))
    x = rng.choice([-1, 1], (24, CONFIG.rows))
    m.write_weights(w)
    raw = m.vmm(x)
    offsets = m.calibrate(n_pairs=4)
    acc = m.vmm(x, accumulate=np.arange(24) % 3 > 0, hold=np.arange(24) % 3 == 1)
    multi = m.vmm_int(rng.integers(-8, 8, (3, CONFIG.rows)), input_bits=4)
    m.write_weights(-w[:2], rows=[5, 0])
    again = m.vmm(x[:4])
    # TDC_START_DELAY one cycle early (every code one count up), then back
    m.set_tdc_start_delay(m.tdc_start_delay - 1)
    early = m.vmm(x[:4])
    assert not np.array_equal(early, again), "TDC_START_DELAY had no effect"
    m.set_tdc_start_delay(m.tdc_start_delay + 1)
    gains, offsets2 = m.calibrate(n_pairs=2, method="gain", per_column=1)
    ref = m.capture_track_ref()
    m.set_tracking(3)
    tracked = m.vmm(x[:8])
    state = m.tracking()
    m.set_tracking(0)
    m.set_activation(rng.integers(-4, 5, CONFIG.cols))
    act = m.vmm(x, accumulate=np.arange(24) % 2 > 0)
    m.set_activation(None)
    # The die gets hot while the tracker follows the reference written back by the host.
    m.set_track_ref(ref)
    m.set_tracking(3)
    m.set_temperature(85.0)
    hot = m.vmm(x[:8])
    hot_state = m.tracking()
    m.set_tracking(0)
    m.set_temperature(25.0)
    # Two weight tiles summed in the accumulator across a weight write (as
    # mram_macro.host.Bank's run_accumulated does with row tiles).
    m.vmm(x[:1], hold=True)
    m.write_weights(-w)
    summed = m.vmm(x[1:2], accumulate=True)
    return (raw, offsets, acc, multi, np.vstack([again, early, act]),
            np.concatenate([gains, offsets2, [ref], tracked.ravel(), list(state.values())]),
            np.concatenate([hot.ravel(), list(hot_state.values()), summed.ravel()]),
            m.status())


@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_rtl_backend_equals_golden_backend_bit_for_bit(sim, tmp_path):
    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    device = DeviceParams.paper()
    with Macro.golden(CONFIG, device=device, seed=21) as g:
        expected = _session(g, 3)
    with Macro.rtl(CONFIG, device=device, seed=21, sim=sim) as r:
        got = _session(r, 3)
        assert r.backend.sim_time_ns["run"] > 0
    names = ("raw", "offsets", "accumulate/hold", "multi-bit",
             "rewrite, early TDC start, activation", "gain calibration, tracking",
             "85 C with tracking, accumulate across a write")
    for name, a, b in zip(names, expected[:7], got[:7], strict=True):
        assert np.array_equal(a, b), f"{sim}: {name} differs:\n{a}\n{b}"
    assert expected[7] == got[7]
    assert got[7].vmm_count == 24 + 8 + 24 + 12 + 4 + 4 + (4 + 8) + 1 + 8 + 24 + 8 + 2


def test_rtl_backend_reports_a_simulator_that_cannot_start():
    with pytest.raises(ValueError, match="sim must be one of icarus, verilator"):
        Macro.rtl(CONFIG, sim="modelsim")


@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_4bit_by_4bit_layer_is_exact_in_rtl_in_ideal_mode(sim):
    """Bit-serial 4-bit inputs (shift-and-add in the RTL accumulator, the MSB pass subtracting)
    times 4-bit weights bit-sliced over columns, against an integer matrix product."""
    from mram_macro.nn.tiling import run_int_layer

    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    rng = np.random.default_rng(8)
    w = rng.integers(-8, 8, (CONFIG.rows + 3, 3))          # two row tiles, 12 slice columns
    x = rng.integers(-8, 8, (6, CONFIG.rows + 3))
    x[0], w[:, 0] = -8, -8
    with Macro.rtl(CONFIG, seed=2, sim=sim) as r:
        y = run_int_layer(r, w, x, weight_bits=4, input_bits=4, calibrate=False)
        passes = r.status().vmm_count
    assert y.tolist() == (x @ w).tolist()
    assert passes == 2 * 2 * 6 * 4        # tiles x vectors x input bits


@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_write_failures_are_reported_alike_by_both_backends(sim):
    """Stuck cells: write-verify gives up on them; STATUS, the counters and the failing row and
    columns agree between the RTL and the golden backend, and so do the (wrong) results."""
    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    device = DeviceParams(p_stuck_high=0.04, p_stuck_low=0.02)
    w = np.random.default_rng(1).choice([-1, 1], (CONFIG.rows, CONFIG.cols))
    x = np.random.default_rng(2).choice([-1, 1], (8, CONFIG.rows))
    seen = []
    for make in (Macro.golden, lambda *a, **k: Macro.rtl(*a, sim=sim, **k)):
        with make(CONFIG, device=device, seed=4) as m:
            m.write_weights(w)
            seen.append((m.status(), m.vmm(x)))
            # the host's write settings: no retries, then no verify read at all
            m.clear_faults()
            m.set_write_verify(max_retries=0, pulse_doubling=False, pulse_cycles=3)
            m.write_weights(-w)
            no_retry = m.status()
            # the verify read one cycle later with the threshold one code lower (counter TDC:
            # the same boundary), retries back
            m.clear_faults()
            m.set_write_verify(max_retries=3, pulse_doubling=True, pulse_cycles=4)
            m.set_verify_read(delay=m.verify_read["delay"] + 1,
                              threshold=m.verify_read["threshold"] - 1)
            m.write_weights(-w)
            shifted = m.status()
            m.clear_faults()
            m.set_write_verify(enable=False)
            m.write_weights(w)
            seen.append((no_retry, shifted, m.status()))
    (g_status, g_y), (g_no_retry, g_shifted, g_off), (r_status, r_y), r_rest = seen
    assert g_status.write_failed and g_status.wv_fail_count > 0
    assert r_status == g_status
    assert np.array_equal(r_y, g_y) and not np.array_equal(g_y, x @ w)
    assert g_no_retry.wv_retry_count == g_status.wv_retry_count > 0   # counters are cumulative
    assert g_no_retry.write_failed and not g_off.write_failed
    assert g_shifted.write_failed and g_shifted.wv_retry_count > g_no_retry.wv_retry_count
    assert r_rest == (g_no_retry, g_shifted, g_off)


COARSE = profile_config("full", rows=16, cols=8, tdc_bits=3, result_width=12, stream_width=8,
                        tdc_mode="coarse")


@pytest.mark.timeout(wall_deadline_s("verilator", COARSE, 400))    # a cold Verilator build
@pytest.mark.parametrize("sim", list(SIMULATORS))
def test_coarse_table_calibration_is_alike_in_rtl_and_golden(sim):
    """tdc_mode='coarse': raw codes, the host-built table written over LUT_ENTRY, accumulated
    passes with it: the same on both backends bit for bit."""
    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")
    device = DeviceParams.paper().replace(temperature_C=85.0)
    rng = np.random.default_rng(5)
    w = rng.choice([-1, 1], (COARSE.rows, COARSE.cols))
    x = rng.choice([-1, 1], (24, COARSE.rows))
    seen = []
    for make in (Macro.golden, lambda *a, **k: Macro.rtl(*a, sim=sim, **k)):
        with make(COARSE, device=device, seed=7) as m:
            m.write_weights(w)
            before = m.vmm(x)
            table = m.calibrate_table(n_patterns=96, seed=3)
            after = m.vmm(x, accumulate=np.arange(24) % 3 > 0)
            seen.append((before, table, after))
    for name, a, b in zip(("nominal table", "table", "calibrated passes"), *seen, strict=True):
        assert np.array_equal(a, b), f"{sim}: {name} differs:\n{a}\n{b}"
    assert not np.array_equal(seen[0][1], np.tile(seen[0][1][0], (COARSE.cols, 1)))


@pytest.mark.timeout(wall_deadline_s("icarus", CONFIG, 300))
@pytest.mark.parametrize("tdc_mode", ["counter", "coarse"])
def test_rtl_at_another_clock_equals_golden(tdc_mode, tmp_path):
    """A clock other than the build's 5 ns (issue 22): the RTL backend runs its simulation at
    that period and writes the registers the readout design sets (TDC_START_DELAY, WV_READ, the
    coarse nominal table); results equal the golden backend's at the same clock."""
    if shutil.which(SIMULATORS["icarus"]) is None:
        pytest.skip("iverilog is not on PATH (run `make setup`)")
    from dataclasses import replace

    from mram_macro.rtl.top import macro_regmap

    config = replace(CONFIG, tdc_mode=tdc_mode, calibration="offset", write_pulse_cycles=5,
                     **({"tdc_bits": 3} if tdc_mode == "coarse" else {}))
    _, setup = _golden_and_rtl_at_2ns(config, DeviceParams.paper(), tmp_path, 6, 16, 9)
    start_delay = setup.regmap["TDC_START_DELAY"].reset
    built = macro_regmap(config)["TDC_START_DELAY"].reset
    # counter: one count per clock at any clock (V_ref follows), so the same start delay;
    # coarse: a fixed window in ns, so another start delay at 2 ns, written after reset
    assert (start_delay != built) == (tdc_mode == "coarse")


def _golden_and_rtl_at_2ns(config, device, build_root, data_seed: int, vmms: int, seed: int):
    """The same session (a weight write, VMMs, an offset calibration, VMMs again) on the
    golden backend and on the RTL in Icarus at a 2 ns clock, results asserted equal; returns
    the golden backend's results and the RTL backend's setup."""
    rng = np.random.default_rng(data_seed)
    w = rng.choice([-1, 1], (config.rows, config.cols))
    x = rng.choice([-1, 1], (vmms, config.rows))
    seen = []
    for make in (Macro.golden, lambda *a, **k: Macro.rtl(*a, sim="icarus",
                                                          build_root=build_root, **k)):
        with make(config, device=device, seed=seed, t_clk_ns=2.0) as m:
            m.write_weights(w)
            seen.append((m.vmm(x), m.calibrate(n_pairs=4), m.vmm(x), m.status()))
            setup = m.setup
    for a, b in zip(*seen, strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    return seen[0], setup


@pytest.mark.timeout(wall_deadline_s("icarus", CONFIG, 300))
def test_rtl_equals_golden_with_the_comparators_delay_in_the_trips(tmp_path):
    """A die whose comparators' slope-dependent decision delay is in the trips
    (``DeviceParams.comparator_delay_budget_steps``): the readout is designed with it, the pin
    model drives the RTL with those trips and the results equal the golden backend's; and the
    delay reaches the results (another die of the same seed without it differs)."""
    if shutil.which(SIMULATORS["icarus"]) is None:
        pytest.skip("iverilog is not on PATH (run `make setup`)")
    # the build's WRITE_PULSE_CYCLES reset (4) is too short at 2 ns: both backends take the
    # design's 5 cycles at that clock (the RTL's written after reset), or no weight is written
    config = profile_config("plain", rows=16, cols=8, tdc_bits=6, result_width=8,
                            stream_width=8)
    assert config.write_pulse_cycles == 4
    device = DeviceParams.paper(comparator_delay_budget_steps=1.75)
    golden, setup = _golden_and_rtl_at_2ns(config, device, tmp_path, 12, 32, 4)
    assert setup.design.readout.comparator is not None
    assert setup.regmap["WRITE_PULSE_CYCLES"].reset == 5
    x = np.random.default_rng(12)
    w = x.choice([-1, 1], (config.rows, config.cols))
    x = x.choice([-1, 1], (32, config.rows))
    with Macro.golden(config, device=device.replace(comparator_delay_budget_steps=None),
                      seed=4, t_clk_ns=2.0) as m:
        m.write_weights(w)
        assert not np.array_equal(m.vmm(x), golden[0])
