"""Device presets (sim_models/devices.py): sources, the readout derived for each, and refusal.

The refusal test uses a configuration whose column RC, for the ME-MRAM cell, needs V_ref above
V_REF_MAX_RATIO for one mismatch per TDC step: the preset must be refused with that reason,
and the same configuration must be accepted for the chip's STT cell (so the test fails if
readout_for refused everything, or nothing).
"""

import math

import pytest

from mram_macro.design.config import profile_config
from sim_models.device import DeviceError, DeviceParams
from sim_models.devices import PRESETS, ReadoutRefused, preset, readout_for, sources_markdown
from sim_models.readout import V_REF_MAX_RATIO, design_readout_for


def test_stt_preset_is_the_papers_device():
    assert preset("stt_2022").device == DeviceParams.paper()


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_parameter_has_a_source(name):
    p = preset(name)
    needed = {"r_cell_low_ohm", "r_cell_high_ohm", "sigma_low_ohm", "sigma_high_ohm",
              "t_switch_ns", "write_energy"}
    assert needed <= set(p.sources)
    for key, text in p.sources.items():
        assert len(text) > 20, f"{name}.{key} has no real source: {text!r}"


def test_presets_differ_in_the_direction_the_literature_says():
    stt, sot, me = (preset(n).device for n in ("stt_2022", "sot", "me"))
    assert stt.r_cell_low_ohm < sot.r_cell_low_ohm < me.r_cell_low_ohm
    assert sot.t_switch_ns < me.t_switch_ns < stt.t_switch_ns


def test_assumptions_are_labelled():
    assert "r_cell_low_ohm" in preset("me").assumed()
    assert "r_cell_low_ohm" not in preset("stt_2022").assumed()
    table = sources_markdown()
    assert table.count("assumption") >= len(preset("sot").assumed()) + len(preset("me").assumed())
    assert "Garello" in table and "Amiri" in table and "Jung" in table


def test_readout_follows_the_same_derivation():
    config = profile_config("full", tdc_mode="counter")
    for p in PRESETS.values():
        try:
            expected = design_readout_for(config, p.device, t_clk_ns=5.0)
        except DeviceError:
            continue
        assert readout_for(config, p, t_clk_ns=5.0) == expected


def test_larger_cells_need_a_higher_reference():
    config = profile_config("full", tdc_mode="counter")
    ratios = [readout_for(config, preset(n), t_clk_ns=5.0).v_ref_ratio
              for n in ("stt_2022", "sot", "me")]
    assert ratios == sorted(ratios) and ratios[0] < ratios[-1]


def test_preset_without_legal_readout_is_refused_with_the_reason():
    config = profile_config("full")     # 64 rows, two-step TDC with 8 phases
    readout_for(config, preset("stt_2022"), t_clk_ns=2.0)          # the chip's cell: fine
    with pytest.raises(ReadoutRefused, match=r"'me' cannot be read out with 64 rows.*"
                                             r"two_step.*8 phases.*V_ref = 0\.9\d\d V_pre.*"
                                             r"above 0\.9 V_pre.*fewer rows"):
        readout_for(config, preset("me"), t_clk_ns=2.0)
    # the reason is true: one mismatch step over delta_r * C_col needs that V_ref
    d = preset("me").device
    step_ns = 2.0 / config.fine_taps
    v_ref = math.exp(-step_ns * 1e-9 / (d.delta_r_ohm * 64 * d.c_cell_fF * 1e-15))
    assert v_ref > V_REF_MAX_RATIO


def test_unknown_preset_is_refused():
    with pytest.raises(DeviceError, match=r"unknown device preset 'mram9'; known: stt_2022"):
        preset("mram9")
