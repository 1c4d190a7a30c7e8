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
from mram_macro.flow.ppa.report import (
    BASELINE,
    BASELINE_TOLERANCE,
    BASELINE_VMMS,
    baseline_config,
    digital_energy,
)


def test_small_configuration_energy_has_not_risen(tmp_path):
    committed = json.loads(BASELINE.read_text())
    config = baseline_config()
    assert MacroConfig.from_dict(committed["config"]) == config, \
        "the baseline was measured on another configuration: python -m mram_macro.flow.ppa baseline"
    assert committed["vmms"] == BASELINE_VMMS
    now = digital_energy(config, committed["library"], tmp_path)
    total, ref = now["digital_J"]["total"], committed["digital_J"]["total"]
    assert total <= ref * (1 + BASELINE_TOLERANCE), (
        f"digital energy per VMM rose from {ref * 1e12:.2f} to {total * 1e12:.2f} pJ "
        f"(> {100 * BASELINE_TOLERANCE:.0f} %): {now['digital_J']}")
    assert total >= 0.5 * ref, (f"digital energy per VMM fell from {ref * 1e12:.2f} to "
                                f"{total * 1e12:.2f} pJ: re-measure the baseline if that is real")
    assert now["cycles_per_vmm"] == pytest.approx(committed["cycles_per_vmm"], rel=0.02)
