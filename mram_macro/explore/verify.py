"""``mram-macro explore --target ... --verify``: the picked configuration's RTL generated,
linted and run.

:func:`verify_rtl` writes the RTL of a sweep row (:func:`mram_macro.outputs.write_outputs`, the
``mram-macro generate`` outputs), lints it (Verilator ``--lint-only -Wall`` with the kit's
waivers), and runs a short stream of random VMMs on the RTL in simulation and on the golden
model of the same die of the row's device preset at the row's clock: every result must be
bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mram_macro.design.config import MacroConfig
from sim_models.devices import preset

__all__ = ["RtlCheck", "verify_rtl", "verify_and_record"]


@dataclass(frozen=True)
class RtlCheck:
    verilog: Path
    lint: str
    vmms: int
    mismatches: int

    @property
    def passed(self) -> bool:
        return self.mismatches == 0


def verify_rtl(row: dict, out: Path, *, vmms: int = 16, sim: str = "verilator",
               seed: int = 0) -> RtlCheck:
    """Generate, lint and run ``vmms`` random VMMs of the configuration of ``row`` (a sweep
    point) on ``sim``, against the golden model; the RTL files go to ``out``."""
    from mram_macro.flow.lint import verilator_lint
    from mram_macro.host import Macro
    from mram_macro.outputs import write_outputs

    if isinstance(vmms, bool) or not isinstance(vmms, int) or vmms < 1:
        raise ValueError(f"vmms must be a positive integer, not {vmms!r}")
    config = MacroConfig.from_dict(row["config"])
    files = write_outputs(config, out)
    lint = verilator_lint(files["verilog"])
    rng = np.random.default_rng(seed)
    w = rng.choice([-1, 1], size=(config.rows, config.cols))
    x = rng.choice([-1, 1], size=(vmms, config.rows))
    kwargs = dict(device=preset(row["device"]).device, seed=seed, t_clk_ns=row["t_clk_ns"])
    results = []
    for macro in (Macro.golden(config, **kwargs),
                  Macro.rtl(config, sim=sim, build_root=out / "sim", **kwargs)):
        with macro as m:
            m.write_weights(w)
            results.append(m.vmm(x))
    golden, rtl = results
    mismatches = int(np.sum(np.any(golden != rtl, axis=1))) if golden.shape == rtl.shape \
        else vmms
    return RtlCheck(verilog=files["verilog"], lint=lint, vmms=vmms, mismatches=mismatches)


def verify_and_record(row: dict, sweep_dir: Path) -> tuple[bool, str]:
    """:func:`verify_rtl` of a sweep's pick into ``sweep_dir/rtl``; its one-line verdict is
    also written to ``sweep_dir/verify.json`` (docs/explore.md quotes it)."""
    import json

    check = verify_rtl(row, sweep_dir / "rtl")
    line = (f"{row['label']}: {check.verilog.name} generated, verilator --lint-only -Wall clean, "
            f"{check.vmms} random VMMs on Verilator against the golden model of the same die: "
            f"{'bit-exact' if check.passed else f'{check.mismatches} MISMATCHED'}")
    (sweep_dir / "verify.json").write_text(json.dumps(
        {"label": row["label"], "passed": check.passed, "line": line}) + "\n")
    return check.passed, line
