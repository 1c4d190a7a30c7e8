"""Pieces of the fast cocotb testbench that need no simulator: the batched prediction of
``MacroEnv.send_vectors`` and the Verilog test harness' port handling."""

from __future__ import annotations

import numpy as np
import pytest

from mram_macro.config import MacroConfig
from mram_macro.sim.harness import COLLECTOR_PORTS, HARNESS_TOP, render_harness, top_ports
from mram_macro.sim.runner import verilator_public
from mram_macro.top import generate_verilog, macro_regmap
from sim_models.device import DeviceParams
from verif.cocotb.env import MacroModel

SMALL = MacroConfig(rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8)


@pytest.mark.parametrize("raw_codes", [False, True])
@pytest.mark.parametrize("noise", [False, True])
def test_batch_prediction_equals_pass_by_pass(noise, raw_codes):
    """vmm_clear_batch predicts what vmm does pass by pass: codes, overflow, values, the
    evaluation numbering (comparator noise on) and the state it leaves."""
    config = MacroConfig()
    device = DeviceParams(comparator_noise_rms_V=2e-3 if noise else 0.0)
    one, batch = (MacroModel(config, macro_regmap(config), device, seed=5) for _ in range(2))
    rng = np.random.default_rng(3)
    offsets, x0 = rng.integers(-20, 20, config.cols), rng.random(config.rows) < 0.5
    for model in (one, batch):
        model.golden.raw_codes = raw_codes
        model.golden.offsets[:] = offsets
        model.vmm(x0, accumulate=False, hold=False)  # some history
    xs = np.random.default_rng(7).random((40, config.rows)) < 0.5
    want = [one.vmm(x, accumulate=False, hold=False) for x in xs]
    got = batch.vmm_clear_batch(xs)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g.codes, w.codes) and np.array_equal(g.overflow, w.overflow)
        assert np.array_equal(g.values, w.values) and g.emitted and w.emitted
    assert batch.passes == one.passes and batch.overflow_seen == one.overflow_seen
    assert np.array_equal(batch.golden.acc, one.golden.acc)
    # The next pass (accumulating on what the batch left) agrees too.
    x = xs[0]
    assert np.array_equal(batch.vmm(x, accumulate=True, hold=False).values,
                          one.vmm(x, accumulate=True, hold=False).values)


def test_batch_prediction_refuses_dead_columns():
    config = MacroConfig()
    model = MacroModel(config, macro_regmap(config), DeviceParams(), seed=1)
    model.dead_columns = frozenset({3})
    with pytest.raises(ValueError, match="dead columns"):
        model.vmm_clear_batch(np.zeros((2, config.rows), dtype=bool))


def test_harness_passes_every_port_through():
    """The harness has the macro's ports (same directions and widths) plus the collector's,
    instantiates the macro with each port wired to its namesake, and Verilator's public list
    names exactly those ports."""
    verilog = generate_verilog(SMALL)
    ports = top_ports(verilog)
    assert ("input", "clk", 1) in ports and ("output", "m_axis_tdata", 8) in ports
    assert ("input", "arr_cmp", SMALL.cols) in ports
    text = render_harness(verilog, SMALL)
    harness = top_ports(text, HARNESS_TOP)
    assert harness[:len(ports)] == ports
    assert [name for _, name, _ in harness[len(ports):]] == list(COLLECTOR_PORTS)
    frame = dict((n, w) for _, n, w in harness)
    assert frame["tb_m_frame_data"] == SMALL.out_beats * SMALL.stream_width
    for _, name, _ in ports:
        assert f".{name}({name})" in text
    public = verilator_public(verilog, harness=True)
    assert public.count("public_flat_rw") == len(ports) + len(COLLECTOR_PORTS)
    assert f'-module "{HARNESS_TOP}" -var "arr_cmp"' in public
    assert 'public_flat_rd -module "*" -var "*_state"' in public


def test_harness_rejects_a_foreign_module():
    with pytest.raises(ValueError, match="no `module mram_macro"):
        render_harness("module other(a);\n  input a;\nendmodule\n", SMALL)
    with pytest.raises(ValueError, match="configuration says"):
        render_harness(generate_verilog(SMALL), MacroConfig())
