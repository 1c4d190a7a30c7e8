"""One design, derived once (issue 20): :class:`mram_macro.design.macro.MacroDesign`.

The design is derived once per configuration, device and clock, and every consumer takes it:
the RTL top, the outputs, the host's die set-up, the golden model's start state and the
testbench model. The register map is the one source of the reset values: the golden model's
and the host's register mirrors start from it (and follow it when it changes).

Configurations are explicit (the default ``MacroConfig()`` may change).
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import pytest

import sim_models.readout as readout_module
from mram_macro.design import macro as design_module
from mram_macro.design import regmap as regmap_module
from mram_macro.design.config import FULL_FEATURES, MacroConfig
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import RegisterMap, build_regmap
from mram_macro.host.api import Macro
from mram_macro.host.die_setup import DieSetup
from mram_macro.host.golden_backend import GoldenBackend
from mram_macro.rtl.top import MramMacro, generate_verilog
from mram_macro.sim.testbench.model import MacroModel
from sim_models.coarse import nominal_table
from sim_models.device import DeviceError, DeviceParams
from sim_models.die import Die
from sim_models.golden import GoldenMacro, RegisterState
from sim_models.readout import design_readout_for
from sim_models.studies import die_errors
from sim_models.write_model import single_read_delay_and_threshold

COUNTER = MacroConfig(rows=16, cols=6, tdc_bits=5, result_width=10, stream_width=16,
                      tdc_mode="counter", **FULL_FEATURES)
TWO_STEP_TRACKER = MacroConfig(rows=16, cols=5, tdc_bits=6, result_width=10, stream_width=16,
                               tdc_mode="two_step", tdc_fine_taps=4, calibration="gain",
                               **FULL_FEATURES)
COARSE = MacroConfig(rows=32, cols=4, tdc_bits=4, result_width=10, stream_width=16,
                     tdc_mode="coarse", write_pulse_cycles=10, **FULL_FEATURES)
PLAIN = MacroConfig(rows=8, cols=3, tdc_bits=4, result_width=8, stream_width=8,
                    tdc_mode="counter", activation=False, multibit=False, write_verify=False,
                    result_register=False)
#: (configuration, clock): the coarse readout resolves its code only at a fast clock.
CASES = [(COUNTER, 5.0), (TWO_STEP_TRACKER, 5.0), (COARSE, 1.0), (PLAIN, 5.0)]
IDS = ["counter", "two_step_tracker", "coarse", "plain"]


def independent_regmap(config: MacroConfig, t_clk_ns: float) -> RegisterMap:
    """The register map derived without the design object (the physics and build_regmap)."""
    ro = design_readout_for(config, DeviceParams(), t_clk_ns=t_clk_ns)
    if config.tdc_mode == "coarse":
        return build_regmap(config, tdc_start_delay=ro.start_delay_cycles)
    s = single_read_delay_and_threshold(config.rows, DeviceParams(), ro, config.tdc_bits)
    return build_regmap(config, tdc_start_delay=ro.start_delay_cycles,
                        verify_read_delay=s.start_delay_cycles,
                        verify_threshold=s.threshold_code)


def resets(rm: RegisterMap) -> dict:
    """The reset values the golden model and the host mirror, read from ``rm`` alone (None:
    the build lacks the register)."""
    names = {r.name for r in rm.registers}

    def reset(reg: str, field: str):
        return rm[reg].field(field).reset if reg in names else None

    def array(name: str, field: str):
        return [r.field(field).reset for r in rm.array(name)] or None

    return dict(
        start_delay=reset("TDC_START_DELAY", "CYCLES"),
        offsets=array("CAL_OFFSET", "OFFSET"), gains=array("CAL_GAIN", "GAIN"),
        thresholds=array("THRESHOLD", "VALUE"), fine_table=array("FINE_TABLE", "VALUE"),
        track_interval=reset("TRACK_INTERVAL", "INTERVAL"), track_ref=reset("TRACK_REF", "REF"),
        raw_codes=reset("MODE", "RAW_CODES"), activation=reset("MODE", "ACTIVATION"),
        wv_delay=reset("WV_READ", "DELAY"), wv_threshold=reset("WV_READ", "THRESHOLD"),
        wv_enable=reset("WV_CTRL", "ENABLE"), wv_doubling=reset("WV_CTRL", "PULSE_DOUBLING"),
        wv_retries=reset("WV_CTRL", "MAX_RETRIES"),
        pulse_cycles=reset("WRITE_PULSE_CYCLES", "CYCLES"))


def golden_state(g: GoldenMacro, want: dict) -> dict:
    """The golden model's register mirrors, for the registers ``want`` has."""
    got = dict(start_delay=g.start_delay_cycles, raw_codes=int(g.raw_codes),
               activation=int(g.activation))
    for key, value in (("offsets", g.offsets), ("gains", g.gains),
                       ("thresholds", g.thresholds), ("fine_table", g.fine_table)):
        got[key] = None if want[key] is None else np.asarray(value).tolist()
    if want["fine_table"] is None:
        assert g.fine_table is None
    if want["track_interval"] is not None:
        got.update(track_interval=g.track_interval, track_ref=g.track_ref)
    return got


def host_state(m: Macro, want: dict) -> dict:
    """The host's register mirrors, for the registers ``want`` has."""
    got = dict(start_delay=m.tdc_start_delay, wv_delay=m.verify_read["delay"],
               wv_threshold=m.verify_read["threshold"],
               wv_enable=int(m.write_verify["enable"]),
               wv_doubling=int(m.write_verify["pulse_doubling"]),
               wv_retries=m.write_verify["max_retries"],
               pulse_cycles=m.write_verify["pulse_cycles"],
               activation=int(m.thresholds is not None))
    got["offsets"] = None if want["offsets"] is None else m.offsets.tolist()
    got["gains"] = None if want["gains"] is None else m.gains.tolist()
    if want["track_interval"] is not None:
        got.update(track_interval=m.track_interval, track_ref=m.track_ref)
    return got


def model_state(model: MacroModel, want: dict) -> dict:
    """The testbench model's register mirrors (its golden model's and its own)."""
    return {**golden_state(model.golden, want), "wv_delay": model.wv_read_delay,
            "wv_threshold": model.wv_threshold, "wv_enable": model.wv_enable,
            "wv_doubling": model.wv_doubling, "wv_retries": model.wv_max_retries,
            "pulse_cycles": model.write_pulse_cycles}


def subset(want: dict, got: dict) -> dict:
    return {k: want[k] for k in got}


# -- derivation -------------------------------------------------------------------------------
def test_derive_is_cached_per_arguments_and_immutable():
    d = MacroDesign.derive(COUNTER)
    assert MacroDesign.derive(COUNTER, DeviceParams()) is d
    assert MacroDesign.derive(COUNTER, t_clk_ns=5) is d            # the same clock
    assert d.regmap is d.regmap                                    # built once
    assert MacroDesign.derive(COUNTER, t_clk_ns=2.0) is not d
    assert MacroDesign.derive(COUNTER, DeviceParams(c_cell_fF=2.5)) is not d
    hot = DeviceParams(temperature_C=85.0)
    assert MacroDesign.derive_nominal(COUNTER, hot) is d           # a hot die keeps the design
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.readout = None


@pytest.mark.parametrize(("config", "t_clk_ns"), CASES, ids=IDS)
def test_design_holds_the_physics_derivations(config, t_clk_ns):
    d = MacroDesign.derive(config, t_clk_ns=t_clk_ns)
    ro = design_readout_for(config, DeviceParams(), t_clk_ns=t_clk_ns)
    assert d.readout == ro and d.t_clk_ns == t_clk_ns and d.fine_taps == config.fine_taps
    assert d.regmap == independent_regmap(config, t_clk_ns)
    assert d.start_delay_cycles == ro.start_delay_cycles
    if config.tdc_mode == "coarse":
        assert d.verify_read is None
        assert d.lut_reset == tuple(nominal_table(config, DeviceParams(), ro).tolist())
    else:
        assert d.verify_read == single_read_delay_and_threshold(config.rows, DeviceParams(), ro,
                                                                config.tdc_bits)
        assert d.verify_read_reset == (d.verify_read.start_delay_cycles,
                                       d.verify_read.threshold_code)
        assert d.lut_reset is None


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"config": "default"}, TypeError, "config must be a MacroConfig, not str"),
    ({"device": 3}, TypeError, "device must be a DeviceParams, not int"),
    ({"t_clk_ns": 0}, ValueError, "t_clk_ns must be a clock period in ns"),
    ({"t_clk_ns": True}, ValueError, "t_clk_ns must be a clock period in ns, .*not True"),
    ({"t_clk_ns": float("nan")}, ValueError, "t_clk_ns must be a clock period in ns"),
    ({"window_ns": (13.0, 29.0)}, ValueError, "window_ns is a setting of tdc_mode='coarse'"),
    ({"config": COARSE, "window_ns": "ab"}, DeviceError, "window_ns must be two numbers"),
    ({"config": COARSE, "window_ns": (29.0, 13.0)}, DeviceError, "0 < first < last"),
])
def test_derive_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        MacroDesign.derive(**{"config": COUNTER, **kwargs})


def test_the_rtl_top_takes_the_design():
    d = MacroDesign.derive(PLAIN)
    tops = MramMacro(d), MramMacro(PLAIN)
    for top in tops:
        top._MustUse__silence = True            # built to be inspected, not elaborated
        assert top.design is d and top.regmap is d.regmap and top.readout is d.readout
    assert generate_verilog(d) == generate_verilog(PLAIN)
    with pytest.raises(TypeError, match=r"give the device to MacroDesign\.derive"):
        generate_verilog(d, device=DeviceParams())
    with pytest.raises(TypeError, match="config must be a MacroConfig or a MacroDesign"):
        generate_verilog("plain")


# -- reset values: one source -----------------------------------------------------------------
@pytest.mark.parametrize(("config", "t_clk_ns"), CASES, ids=IDS)
def test_golden_host_and_model_start_from_the_register_maps_resets(config, t_clk_ns):
    """The golden model's, the host's and the testbench model's register mirrors after reset
    are the register map's reset values (the map derived here without the design object), for
    every register the build has; coarse: the nominal table in every column."""
    want = resets(independent_regmap(config, t_clk_ns))
    with Macro.golden(config, seed=1, t_clk_ns=t_clk_ns) as m:
        assert m.setup.regmap == independent_regmap(config, t_clk_ns)
        g = m.backend.golden
        assert golden_state(g, want) == subset(want, golden_state(g, want))
        assert host_state(m, want) == subset(want, host_state(m, want))
        if config.tdc_mode == "coarse":
            table = nominal_table(config, DeviceParams(),
                                  design_readout_for(config, DeviceParams(), t_clk_ns=t_clk_ns))
            assert (m.lut == table).all() and (g.lut == table).all()
        else:
            assert m.lut is None and g.lut is None
    # the testbench model of the build (its 5 ns clock), also after a reset
    built = resets(independent_regmap(config, 5.0))
    model = MacroModel(MacroDesign.derive(config), seed=1)
    for _ in range(2):
        assert model_state(model, built) == subset(built, model_state(model, built))
        if config.tdc_mode == "coarse":
            table = nominal_table(config, DeviceParams(),
                                  design_readout_for(config, DeviceParams()))
            assert (model.golden.lut == table).all()
            model.golden.lut[0, 0] += 2
        model.golden.start_delay_cycles += 1
        model.golden.offsets += 1
        model.reset()


def _other_reset(f) -> int:
    """A legal reset value of field ``f`` other than its own (its own if it has only one)."""
    lo, hi = f.value_range
    return f.reset + 1 if f.reset + 1 <= hi else max(lo, f.reset - 1)


def _with_other_resets(rm: RegisterMap) -> RegisterMap:
    """``rm`` with another reset value in every ``rw`` field that has another legal one."""
    regs = tuple(dataclasses.replace(r, fields=tuple(
        dataclasses.replace(f, reset=_other_reset(f)) if f.kind == "rw" else f
        for f in r.fields)) for r in rm.registers)
    return dataclasses.replace(rm, registers=regs)


@pytest.mark.parametrize(("config", "t_clk_ns"), CASES, ids=IDS)
def test_mirrors_follow_a_changed_register_map(config, t_clk_ns, monkeypatch):
    """Change every reset value of the design's register map: the golden model, the host and
    the testbench model start from the changed values. A mirror that states its reset value
    itself, instead of reading the map, fails here."""
    base = MacroDesign.derive(config, t_clk_ns=t_clk_ns)
    changed = MacroDesign(config=config, device=base.device, readout=base.readout)
    # the register map is derived on first use: give this design another one instead
    other = _with_other_resets(base.regmap)
    monkeypatch.setitem(changed.__dict__, "regmap", other)
    want, before = resets(other), resets(base.regmap)
    for key in ("start_delay", "offsets", "gains", "thresholds", "fine_table", "track_ref",
                "track_interval", "raw_codes", "wv_retries", "pulse_cycles"):
        assert before[key] is None or want[key] != before[key], key
    setup = DieSetup(design=changed, device=DeviceParams(),
                     die=Die.sample(config.rows, config.cols, DeviceParams(), seed=2))
    with Macro(GoldenBackend(setup), setup) as m:
        g = m.backend.golden
        assert golden_state(g, want) == subset(want, golden_state(g, want))
        assert host_state(m, want) == subset(want, host_state(m, want))
        verify = m.backend._verify_setup            # the golden backend's write-verify read
        if config.tdc_mode != "coarse":
            assert (verify.start_delay_cycles, verify.threshold_code) == (
                want["wv_delay"], want["wv_threshold"])
    if t_clk_ns == 5.0:
        model = MacroModel(changed, seed=2)
        assert model_state(model, want) == subset(want, model_state(model, want))


def test_golden_model_refuses_a_register_state_of_another_build():
    d = MacroDesign.derive(COUNTER)
    state = d.register_state
    with pytest.raises(TypeError, match="registers must be a RegisterState, not dict"):
        GoldenMacro(COUNTER, registers={})
    with pytest.raises(ValueError, match=r"registers\.offsets must have 6 values"):
        GoldenMacro(COUNTER, registers=dataclasses.replace(state, offsets=(16,) * 5))
    with pytest.raises(ValueError, match=r"registers\.fine_table must be None: the "
                                         r"configuration has no interpolator"):
        GoldenMacro(COUNTER, registers=dataclasses.replace(state, fine_table=(1, 0)))
    with pytest.raises(ValueError, match=r"registers\.lut must have 32 entries"):
        GoldenMacro(COUNTER, registers=dataclasses.replace(state, lut=(0,) * 4))
    assert isinstance(state, RegisterState) and d.register_state is state
    # a study refuses registers of another readout (another start delay)
    slow, fast = (MacroDesign.derive(COARSE, t_clk_ns=t) for t in (5.0, 1.0))
    assert slow.start_delay_cycles != fast.start_delay_cycles
    with pytest.raises(ValueError, match="the registers' TDC start delay is"):
        die_errors(COARSE, DeviceParams(), fast.readout, registers=slow.register_state, dies=1,
                   seed=0, test_vectors=1, calibrate_die=lambda *a: None)


# -- derived once on the demo path ------------------------------------------------------------
def test_the_demo_path_derives_the_design_once_per_configuration(monkeypatch, tmp_path):
    """Following a configuration through ``mram-macro demo`` (its outputs, its golden part,
    the RTL backend's set-up, the runner's Verilog and the RTL server's built register map)
    designs the readout once and builds the register map once, per configuration and
    process. Two configurations nobody else derives, so no earlier test's cache hides a
    derivation."""
    from mram_macro.demo import _random_session
    from mram_macro.outputs import write_outputs

    designed, built = collections.Counter(), collections.Counter()

    def counted(counter, function, key):
        def wrapper(*args, **kwargs):
            counter[key(*args, **kwargs)] += 1
            return function(*args, **kwargs)
        return wrapper

    for name in ("design_readout", "design_coarse_readout"):
        monkeypatch.setattr(readout_module, name, counted(
            designed, getattr(readout_module, name), lambda rows, *a, **k: rows))
    counting_build = counted(built, build_regmap, lambda config, **k: config)
    monkeypatch.setattr(regmap_module, "build_regmap", counting_build)
    monkeypatch.setattr(design_module, "build_regmap", counting_build)

    configs = [MacroConfig(rows=11, cols=3, tdc_bits=4, result_width=9, stream_width=8,
                           tdc_mode="counter", precharge_cycles=7, write_pulse_cycles=9),
               MacroConfig(rows=13, cols=2, tdc_bits=5, result_width=9, stream_width=8,
                           tdc_mode="two_step", tdc_fine_taps=2, precharge_cycles=7,
                           write_pulse_cycles=9)]
    for config in configs:
        for _ in range(2):      # a second demo of the same configuration derives nothing
            write_outputs(config, tmp_path / config.slug)
            with Macro.golden(config, seed=3) as golden:
                _random_session(golden, n_vmm=4, seed=3)
            DieSetup.create(config, seed=3)                  # what Macro.rtl sets up
            generate_verilog(config, clock_gating=True)      # what the runner writes
            _ = MacroDesign.derive(config).regmap            # the RTL server's built map
    assert designed == {c.rows: 1 for c in configs}
    assert built == {c: 1 for c in configs}
