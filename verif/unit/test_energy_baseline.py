"""The digital energy of a small configuration against its committed figure.

`python -m mram_macro.flow.ppa baseline` measured it (flat synthesis on NanGate 45 nm, a
steady-state
window of random VMMs at gate level, the Liberty-table calculator) and committed it as
docs/ppa/energy_small.json. A change that makes the periphery spend more than 10 % more per
VMM fails here, and so does one that loses most of the energy (an accounting that stopped
counting something); a change that saves energy passes, and the baseline is then re-measured.
"""

from __future__ import annotations

import json

import pytest

from mram_macro.design.config import MacroConfig
from mram_macro.flow.ppa.cells import (
    GLITCH_VIEWS,
    Group,
    breakdown,
    glitches,
    lines,
    register_group,
)
from mram_macro.flow.ppa.libraries import library
from mram_macro.flow.ppa.report import (
    BASELINE,
    BASELINE_TOLERANCE,
    BASELINE_VMMS,
    baseline_config,
    digital_energy,
    energy_run,
)
from mram_macro.rtl.periphery.tdc import SYNC_STAGES


def test_small_configuration_energy_has_not_risen(tmp_path):
    committed = json.loads(BASELINE.read_text())
    config = baseline_config()
    assert MacroConfig.from_dict(committed["config"]) == config, \
        "the baseline was measured on another configuration: python -m mram_macro.flow.ppa baseline"
    assert committed["vmms"] == BASELINE_VMMS
    run = energy_run(config, committed["library"], tmp_path, vmms=BASELINE_VMMS)
    now = digital_energy(config, committed["library"], tmp_path, run=run)
    _check_breakdown(config, *run, library(committed["library"]).require())
    total, ref = now["digital_J"]["total"], committed["digital_J"]["total"]
    assert total <= ref * (1 + BASELINE_TOLERANCE), (
        f"digital energy per VMM rose from {ref * 1e12:.2f} to {total * 1e12:.2f} pJ "
        f"(> {100 * BASELINE_TOLERANCE:.0f} %): {now['digital_J']}")
    assert total >= 0.5 * ref, (f"digital energy per VMM fell from {ref * 1e12:.2f} to "
                                f"{total * 1e12:.2f} pJ: re-measure the baseline if that is real")
    assert now["cycles_per_vmm"] == pytest.approx(committed["cycles_per_vmm"], rel=0.02)


def _check_breakdown(config, power, netlist, liberty):
    """The below-block breakdown of the same run (``python -m mram_macro.flow.ppa cells``):
    its cell groups hold every instance once (they add up to the total), the synchronisers
    are one register group of ``cols * SYNC_STAGES`` flip-flops, and every clock tree is
    found below its root, the clock port or a named clock gate."""
    views = breakdown(power, netlist, liberty)
    total = power.energy_per_vmm_J("total")
    assert sum(g.total_J for g in views["cells"]) == pytest.approx(total, rel=1e-9)
    assert sum(g.instances for g in views["cells"]) == len(power.instances)
    registers = {g.key: g for g in views["registers"]}
    assert registers["tdc.cmp_sync#"].instances == config.cols * SYNC_STAGES
    roots = [g.key for g in views["clock trees"]]
    assert "clk" in roots and "g_sync" in roots
    assert all(r == "clk" or r.startswith("g_") for r in roots), roots


def test_register_groups_fold_bits_and_numbers():
    assert register_group("tdc.cmp_sync1[46]") == "tdc.cmp_sync#"
    assert register_group("\\regfile.cal_offset12_offset [3]") == "regfile.cal_offset#_offset"
    assert register_group("read_control.lo") == "read_control.lo"


def test_glitch_views_are_the_unit_delay_run_minus_the_zero_delay_one():
    """``cells --glitches``: per block and cell, and per block (a block name may have a space,
    ``clock gates``), the unit-delay run's energy minus the zero-delay run's; the groups add
    up to the difference of the totals. Runs of two different netlists are refused."""
    pj = 1e-12
    zero = {"cells": [Group("tdc DFF_X1", 10, 1 * pj, 2 * pj, 0.5 * pj),
                      Group("tdc XOR2_X1", 5, 0.0, 1 * pj, 0.1 * pj),
                      Group("clock gates DLL_X1", 4, 0.4 * pj, 0.1 * pj, 0.2 * pj),
                      Group("top XOR2_X1", 3, 0.0, 0.5 * pj, 0.1 * pj)]}
    unit = {"cells": [Group("tdc DFF_X1", 10, 1 * pj, 2.5 * pj, 0.5 * pj),
                      Group("tdc XOR2_X1", 5, 0.0, 4 * pj, 0.1 * pj),
                      Group("clock gates DLL_X1", 4, 0.4 * pj, 0.3 * pj, 0.2 * pj),
                      Group("top XOR2_X1", 3, 0.0, 0.6 * pj, 0.1 * pj)]}
    views = glitches(zero, unit)
    assert list(views) == list(GLITCH_VIEWS)
    blocks = {g.key: g for g in views["glitches by block"]}
    assert [g.key for g in views["glitches by block"]] == ["tdc", "clock gates", "top"]
    assert blocks["tdc"].data_J == pytest.approx(3.5 * pj)
    assert blocks["tdc"].instances == 15
    assert blocks["clock gates"].total_J == pytest.approx(0.2 * pj)
    cells = views["glitches by cell"]
    assert cells[0].key == "tdc XOR2_X1" and cells[0].data_J == pytest.approx(3 * pj)
    assert all(g.leakage_J == 0 and g.clock_J == 0 for g in cells)
    diff = sum(g.total_J for g in unit["cells"]) - sum(g.total_J for g in zero["cells"])
    for view in GLITCH_VIEWS:
        assert sum(g.total_J for g in views[view]) == pytest.approx(diff)
    assert any("glitches by block" in line for line in lines(views))
    with pytest.raises(ValueError, match="not of the same netlist"):
        glitches(zero, {"cells": unit["cells"][:3]})
