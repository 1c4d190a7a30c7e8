"""``tdc_mode="coarse"``: configuration rules, the chip-window readout design, the nominal table,
the host table builder, the LUT_ENTRY register and the host API's checks."""

import math
from dataclasses import replace

import numpy as np
import pytest

from mram_macro.design.config import COARSE_MAX_TDC_BITS, ConfigError, MacroConfig, profile_config
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import lut_count, lut_entry_word
from mram_macro.host import HostError, Macro
from mram_macro.rtl.top import macro_regmap
from sim_models import DeviceParams, signed_dot
from sim_models.coarse import (
    LutError,
    calibrate_lut,
    check_table,
    lut_from_codes,
    nominal_table,
    nominal_transfer,
)
from sim_models.readout import CHIP_WINDOW_NS, design_coarse_readout, trip_time_ns
from sim_models.studies import coarse_study

COARSE = profile_config("full", tdc_bits=4, tdc_mode="coarse")


def test_config_relaxes_the_code_rule_only_in_coarse_mode():
    assert COARSE.slug == "r64_c64_t4_w16_s64_coarse"
    assert profile_config("full", tdc_mode="counter").slug == "r64_c64_t7_w16_s64_counter"
    assert MacroConfig.from_json(COARSE.to_json()) == COARSE
    with pytest.raises(ConfigError, match="tdc_mode='coarse' \\(several counts per code\\)"):
        profile_config("full", tdc_bits=4)
    with pytest.raises(ConfigError, match="tdc_mode must be one of 'counter', 'coarse'"):
        profile_config("full", tdc_mode="fine")
    with pytest.raises(ConfigError, match=f"use tdc_bits <= {COARSE_MAX_TDC_BITS}"):
        profile_config("full", tdc_bits=COARSE_MAX_TDC_BITS + 1, tdc_mode="coarse")
    with pytest.raises(ConfigError, match="cannot carry a raw 6-bit TDC code"):
        profile_config("full", rows=8, tdc_bits=6, result_width=5, tdc_mode="coarse")


@pytest.mark.parametrize("t_clk_ns, codes_used", [(5.0, 4), (2.0, 8), (1.0, 15)])
def test_coarse_readout_fits_the_chip_window(t_clk_ns, codes_used):
    d = DeviceParams()
    ro = design_coarse_readout(64, d, t_clk_ns=t_clk_ns)
    r = np.array([64 * d.r_cell_low_ohm, 64 * d.r_cell_high_ohm])
    t_fast, t_slow = trip_time_ns(r, 64, d, ro)
    lo, hi = CHIP_WINDOW_NS
    assert lo <= t_fast < t_slow <= hi and t_slow > 0.99 * hi
    codes = nominal_transfer(64, d, ro, tdc_bits=4)
    assert codes[-1] == 0 and len(np.unique(codes)) == codes_used       # n = 64: code 0
    assert (np.diff(codes) <= 0).all()                        # more matches, earlier trip
    assert 0.05 < ro.v_ref_ratio < 0.9 and ro.c_load_fF == 0.0


def test_coarse_readout_physical_range_and_errors():
    d = DeviceParams()
    assert design_coarse_readout(8, d).c_load_fF > 0          # short column: load capacitor
    long = design_coarse_readout(256, d)                      # long column: window stretched
    assert math.isclose(long.v_ref_ratio, 0.9)
    assert trip_time_ns(256 * d.r_cell_high_ohm, 256, d, long) > CHIP_WINDOW_NS[1]
    with pytest.raises(ValueError, match="window_ns must satisfy 0 < first < last"):
        design_coarse_readout(64, d, window_ns=(29, 13))
    with pytest.raises(ValueError, match="t_clk_ns must be a positive number"):
        design_coarse_readout(64, d, t_clk_ns=0)


def test_nominal_table_is_exact_where_a_code_holds_one_count():
    """At a clock fine enough for one count per code, the nominal table is the count's exact
    value; at 5 ns it is the binomially weighted mean of the counts sharing the code."""
    table = nominal_table(COARSE)
    ro = design_coarse_readout(64, DeviceParams())
    codes = nominal_transfer(64, DeviceParams(), ro, tdc_bits=4)
    n = np.arange(65)
    w = np.array([math.comb(64, int(k)) for k in n], dtype=float)
    for k in np.unique(codes):
        sel = codes == k
        mean = (w[sel] * (2 * n[sel] - 64)).sum() / w[sel].sum()
        assert abs(table[k] - mean) <= 1 and table[k] % 2 == 0
    assert (table[codes.max() + 1:] == table[codes.max()]).all()  # unused codes: nearest


def test_lut_from_codes_is_the_mean_per_code_and_fills_unseen_codes():
    x = np.array([[1, 1], [1, 1], [1, 0], [0, 0]])
    w = np.array([[1], [1]])                              # y = 2, 2, 0, -2
    codes = np.array([[0], [0], [0], [3]])
    t = lut_from_codes(x, w, codes, tdc_bits=2)
    # code 0: mean 4/3 -> 2 (parity of rows); code 3: -2; codes 1, 2 take the nearest seen.
    assert t.tolist() == [[2, 2, -2, -2]]
    with pytest.raises(LutError, match=r"codes must lie in 0\.\.3"):
        lut_from_codes(x, w, codes + 1, tdc_bits=2)
    with pytest.raises(LutError, match="codes must have shape"):
        lut_from_codes(x, w, codes[:2], tdc_bits=2)


def test_calibrated_table_beats_the_nominal_one_when_hot():
    """At 85 C the MTJ's high state falls and every column trips early: the nominal table is
    biased, the calibrated one is not (and a 1 ns clock resolves the chip's 4 bits)."""
    hot = DeviceParams.paper().replace(temperature_C=85.0)
    s = coarse_study(COARSE, hot, dies=3, test_vectors=512, t_clk_ns=1.0,
                     registers=MacroDesign.derive_nominal(COARSE, hot,
                                                          t_clk_ns=1.0).register_state)
    assert s.after.mean_abs < 0.6 * s.before.mean_abs
    g = MacroDesign.derive(COARSE, DeviceParams.paper()).golden(seed=2)
    w = np.random.default_rng(2).integers(0, 2, (64, 64))
    g.array.load_weights(w)
    table = calibrate_lut(g, w, n_patterns=64)
    assert np.array_equal(g.lut, table)
    x = np.random.default_rng(3).integers(0, 2, (100, 64))
    codes, _ = g.convert(x, first_evaluation=0)
    assert np.array_equal(g.vmm_batch(x, first_evaluation=0), table[np.arange(64), codes])
    assert np.abs(g.vmm_batch(x) - signed_dot(x, w)).mean() < 12


def test_lut_entry_register_rejects_out_of_range_words():
    rm = macro_regmap(COARSE)
    reg = rm["LUT_ENTRY"]
    assert "CAL_OFFSET0" not in {r.name for r in rm.registers}
    assert lut_count(COARSE, -64) == 0 and lut_count(COARSE, 64) == 64
    assert reg.check_write(lut_entry_word(COARSE, 63, 15, 0)) is None
    assert reg.check_write(lut_entry_word(COARSE, 0, 0, 64)) is None
    assert "COUNT=65" in reg.check_write(lut_entry_word(COARSE, 0, 0, 65))
    assert "COL=64" in reg.check_write(lut_entry_word(COARSE, 64, 0, 0))
    assert "outside its fields" in reg.check_write(lut_entry_word(COARSE, 0, 0, 0) | 1 << 30)
    assert "ENABLE=1" in rm["WV_CTRL"].check_write(1)
    counter = macro_regmap(profile_config("full", tdc_mode="counter"))
    assert "LUT_ENTRY" not in {r.name for r in counter.registers}


def test_host_api_checks_tables_before_writing():
    # a 1 ns clock resolves the 64-row column's counts (5 ns is refused: see below); the
    # write pulse is lengthened to keep its 10 ns
    with Macro.golden(replace(COARSE, write_pulse_cycles=10), seed=1, t_clk_ns=1.0) as m:
        before = m.lut.copy()
        bad = before.copy()
        bad[5, 3] = 65
        with pytest.raises(HostError, match=r"entry \[column 5, code 3\] = 65 is not an integer "
                                            r"in -64..64 with the parity of 64"):
            m.write_lut(bad)
        bad[5, 3] = 63
        with pytest.raises(HostError, match=r"\[column 5, code 3\] = 63 .* parity"):
            m.write_lut(bad)
        with pytest.raises(HostError, match="must have shape \\(64, 16\\)"):
            m.write_lut(before[:, :8])
        with pytest.raises(HostError, match="is not an integer"):
            m.write_lut(before + 0.5)
        with pytest.raises(HostError, match="CAL_OFFSET does not exist"):
            m.write_offsets(np.zeros(64, dtype=int))
        assert np.array_equal(m.lut, before)                       # nothing was written
        assert np.array_equal(m.backend.golden.lut, before)
    with Macro.golden(seed=1) as m, pytest.raises(HostError, match="needs tdc_mode='coarse'"):
        m.calibrate_table()
    with pytest.raises(LutError, match="shape"):
        check_table(COARSE, np.zeros((2, 2)))


# -- issue 22: the coarse TDC's clock and window through the host API ---------------------------
def test_host_api_refuses_a_coarse_clock_that_cannot_resolve_the_codes():
    with pytest.raises(HostError, match=r"tdc_mode='coarse' at a 5 ns clock puts the 64-row "
                                        r"column's 14.5 ns trip window into 4 of the 15 codes "
                                        r".*cannot resolve a dot product; use t_clk_ns <= 1.8"):
        Macro.golden(COARSE)
    # a build whose WRITE_PULSE_CYCLES reset (4) is too short at 1 ns gets the 10 cycles that
    # switch its cells from its design at that clock (written after reset on the RTL)
    with Macro.golden(COARSE, t_clk_ns=1.0) as m:
        assert m.setup.regmap["WRITE_PULSE_CYCLES"].reset == 10
        w = np.where(np.arange(COARSE.rows)[:, None] % 2 == np.arange(COARSE.cols) % 2, 1, -1)
        m.write_weights(w)
        assert (m.backend.golden.weights.astype(int) * 2 - 1 == w).all()
    with pytest.raises(HostError, match="window_ns is a setting of tdc_mode='coarse'"):
        Macro.golden(window_ns=(10.0, 20.0))
    for bad in (0, -1.0, float("nan"), "1", True):
        with pytest.raises(HostError, match="t_clk_ns must be a clock period in ns"):
            Macro.golden(t_clk_ns=bad)
    with pytest.raises(HostError, match="whole number of picoseconds"):
        Macro.rtl(replace(COARSE, write_pulse_cycles=10), t_clk_ns=1.0001, sim="icarus")


def test_coarse_macro_at_a_settable_clock_resolves_the_dot_product():
    """On an ideal device, the coarse macro at 1 ns (the chip's 4-bit resolution) is within a
    few counts of the exact product, and at 2 ns with a window twice as long too. The 5 ns
    default is refused (above), where 16 counts share a code."""
    rng = np.random.default_rng(3)
    config = replace(COARSE, write_pulse_cycles=10)
    w = rng.choice((-1, 1), (64, 64))
    x = rng.choice((-1, 1), (200, 64))
    exact = x @ w
    for kwargs in (dict(t_clk_ns=1.0), dict(t_clk_ns=2.0, window_ns=(26.0, 58.0))):
        with Macro.golden(config, seed=2, **kwargs) as m:
            assert m.setup.t_clk_ns == kwargs["t_clk_ns"]
            m.write_weights(w)
            m.calibrate()
            err = np.abs(m.vmm(x) - exact)
            # about 4.4 counts (8.8 in y) per code: errors of a few counts, far below the
            # spread of the exact products (8 RMS here)
            assert err.mean() < 2.5 and np.sqrt((err ** 2).mean()) < 0.4 * exact.std(), (
                kwargs, err.mean())
            used = len(np.unique(m.backend.golden.convert(np.where(x > 0, 1, 0))[0]))
            assert used >= 8
