"""``mram-macro demo``: generate the macro, run random VMMs in RTL simulation through the host
API's RTL backend and the same VMMs on its golden backend (same die), compare them bit for bit
on each simulator, and print the result check and the area table."""

from __future__ import annotations

import random
import shlex
from pathlib import Path

from mram_macro.cli_args import SEED_MAX, UsageError, config_args
from mram_macro.design.config import MacroConfig
from mram_macro.outputs import write_outputs

#: Most VMMs per simulator the demo accepts (about an hour of Icarus on a 256x256 array).
MAX_VMMS = 1_000_000


def check_demo_args(*, n_vmm: object, seed: object) -> None:
    """Refuse a VMM count or seed the simulation cannot use, before anything is built.

    Raises:
        UsageError: the message names the legal range.
    """
    if isinstance(n_vmm, bool) or not isinstance(n_vmm, int) or not 1 <= n_vmm <= MAX_VMMS:
        raise UsageError(f"--vmms must be an integer between 1 and {MAX_VMMS}, not {n_vmm!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed <= SEED_MAX):
        raise UsageError(f"--seed must be an integer between 0 and {SEED_MAX}, not {seed!r}")


def replay_command(config: MacroConfig, *, sim: str, seed: int, n_vmm: int) -> str:
    """The command that reruns one simulator's part of a demo, for any configuration."""
    return shlex.join(["mram-macro", "demo", *config_args(config), f"--sim={sim}",
                       f"--seed={seed}", f"--vmms={n_vmm}"])


def _random_session(macro, *, n_vmm: int, seed: int):
    """Random weights, then ``n_vmm`` random vectors, with random accumulate/hold flags where
    the build takes them (``multibit``)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    macro.write_weights(rng.choice([-1, 1], (macro.rows, macro.cols)))
    x = rng.choice([-1, 1], (n_vmm, macro.rows))
    if not macro.config.multibit:
        return macro.vmm(x)
    return macro.vmm(x, accumulate=rng.random(n_vmm) < 0.4, hold=rng.random(n_vmm) < 0.2)


def run_demo(config: MacroConfig, *, n_vmm: int = 200, seed: int | None = None,
             sims: list[str] | None = None, out_dir: str | Path | None = None) -> int:
    """Run the demo; its files go to ``out_dir`` (default: the user's cache,
    :func:`mram_macro.paths.user_cache_dir`, never the current folder).

    Raises:
        ValueError: a bad VMM count or seed.
        mram_macro.sim.runner.MissingToolError: a simulator or package the demo needs is
            missing (checked before anything runs).
    """
    import time

    from mram_macro.flow.synth import synthesize
    from mram_macro.host import Macro
    from mram_macro.paths import user_cache_dir
    from mram_macro.sim.requirements import check_sim_requirements

    try:
        check_demo_args(n_vmm=n_vmm, seed=seed)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    seed = random.randrange(1 << 31) if seed is None else seed
    sims = sims or ["verilator", "icarus"]
    for sim in sims:
        check_sim_requirements(sim)
    out = Path(out_dir) if out_dir is not None else user_cache_dir("demo", config.slug)
    files = write_outputs(config, out)
    print(f"== mram_macro {config.rows}x{config.cols}, tdc_bits={config.tdc_bits}, "
          f"result_width={config.result_width}, stream_width={config.stream_width}")
    print(f"   Verilog: {files['verilog']}  register map: {files['c_header']}")
    ok = True
    with Macro.golden(config, seed=seed) as golden:
        expected = _random_session(golden, n_vmm=n_vmm, seed=seed)
    for sim in sims:
        t0 = time.perf_counter()
        try:
            with Macro.rtl(config, seed=seed, sim=sim, build_root=out / "sim") as rtl:
                got = _random_session(rtl, n_vmm=n_vmm, seed=seed)
            error = None
        except RuntimeError as exc:
            got, error = None, str(exc)
        wall = time.perf_counter() - t0
        same = got is not None and got.shape == expected.shape
        mismatches = int((got != expected).any(axis=1).sum()) if same else len(expected)
        status = "PASS" if same and mismatches == 0 else "FAIL"
        print(f"== {sim:9s} {status}: {n_vmm} random VMMs ({len(expected)} results) through "
              f"the host API, RTL against golden: {mismatches} mismatching results "
              f"({wall:.1f} s, seed {seed})")
        if status == "FAIL":
            ok = False
            if error:
                print(f"   {error}")
            print(f"   replay: {replay_command(config, sim=sim, seed=seed, n_vmm=n_vmm)}")
    report = synthesize(files["verilog"], "mram_macro", workdir=out / "synth")
    print(f"== area (Yosys + {report.liberty.name})")
    print(report.table())
    return 0 if ok else 1
