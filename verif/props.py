"""Property check of one macro configuration: generate, lint, and a short VMM run.

:func:`check_config` is what the Hypothesis tests (``verif/test_properties.py``, ``make props``)
run on every drawn configuration; ``python -m verif.props --config <slug> --sims verilator
--seed N`` replays one of them (the command a failure prints)::

    python -m verif.props --config r8_c3_t4_w5_s8_p17_wp65535 --sims verilator,icarus --seed 7
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile

from mram_macro.cli import SEED_MAX, write_outputs
from mram_macro.design.config import MacroConfig
from mram_macro.flow.lint import verilator_lint
from mram_macro.sim.runner import ROOT, SIMULATORS, run_cocotb
from verif.configs import config_name, full_slug, parse_slug

__all__ = ["SHORT_NVMM", "check_config", "replay_command", "main"]

#: Random vectors of the short run (``test_short_vmm`` caps it at 50).
SHORT_NVMM = 20
#: Build trees of the property runs (removed after each passing configuration).
BUILD_ROOT = ROOT / "build" / "props"


def _build_root():
    """This process' build trees: concurrent shards draw the same configurations (each starts
    from the smallest), and one shard's clean-up must not remove the tree another one runs."""
    return BUILD_ROOT / f"pid{os.getpid()}"


def replay_command(config: MacroConfig, *, sims, seed: int) -> str:
    """The command that reruns :func:`check_config` on ``config`` (from the repository root)."""
    return shlex.join(["python", "-m", "verif.props", "--config",
                       config_name(config), "--sims", ",".join(sims), "--seed", str(seed)])


def check_config(config: MacroConfig, *, sims, seed: int, nvmm: int = SHORT_NVMM) -> list[str]:
    """Generate and lint ``config``, then run ``test_short_vmm`` on each of ``sims``.

    The Verilator model is a quick build (C++ at ``-O0``: the compile, not the 20-vector run,
    is most of a check's time; see :func:`mram_macro.sim.runner.build`).

    Returns the problems found (empty: the configuration passed); each names the step, and the
    simulator log when there is one. Build trees of passing runs are removed.
    """
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mram-props-") as tmp:
        try:
            files = write_outputs(config, tmp)
            verilator_lint(files["verilog"])
        except Exception as exc:            # any failure of the generator is a finding
            return [f"generate/lint: {type(exc).__name__}: {str(exc)[-1500:]}"]
    for sim in sims:
        try:
            r = run_cocotb(sim, config, test_module="verif.cocotb.test_macro", seed=seed,
                           nvmm=nvmm, test_filter="test_short_vmm$", build_root=_build_root(),
                           quiet=True, quick_build=True)
        except Exception as exc:
            problems.append(f"{sim}: build: {type(exc).__name__}: {str(exc)[-1500:]}")
            continue
        if r.passed and r.metrics.get("mismatches", 0) == 0:
            shutil.rmtree(_build_root() / sim / config.slug, ignore_errors=True)
            continue
        problems.append(f"{sim}: " + ("; ".join(r.failures) or f"{r.n_tests} tests ran")
                        + (f" (log: {r.log})" if r.log else ""))
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m verif.props", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True,
                   help="configuration slug, e.g. r8_c3_t4_w5_s8 or r8_c3_t4_w5_s8_p17_wp65535, "
                        "or its JSON")
    p.add_argument("--sims", default=",".join(SIMULATORS), help="comma-separated simulators")
    p.add_argument("--seed", type=int, default=1, help=f"random seed, 0..{SEED_MAX}")
    p.add_argument("--nvmm", type=int, default=SHORT_NVMM, help="random vectors (1..50)")
    args = p.parse_args(argv)
    try:
        config = parse_slug(args.config)
        sims = [s for s in args.sims.split(",") if s]
        bad = [s for s in sims if s not in SIMULATORS]
        if bad or not sims:
            raise ValueError(f"unknown simulator(s) {', '.join(bad) or '(none)'}; use a "
                             f"comma-separated subset of {', '.join(SIMULATORS)}")
        if not 0 <= args.seed <= SEED_MAX:
            raise ValueError(f"--seed must be between 0 and {SEED_MAX}, not {args.seed}")
        if not 1 <= args.nvmm <= 50:
            raise ValueError(f"--nvmm must be between 1 and 50, not {args.nvmm}")
    except ValueError as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    problems = check_config(config, sims=sims, seed=args.seed, nvmm=args.nvmm)
    for line in problems:
        print(f"FAIL {full_slug(config)} {line}")
    if not problems:
        print(f"PASS {full_slug(config)}: generate, lint, short VMM run on {', '.join(sims)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
