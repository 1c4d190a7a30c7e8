"""``mram-macro demo``: generate the macro, run random VMMs in RTL simulation against the golden
model on each simulator, and print the result check and the area table."""

from __future__ import annotations

import random
import shlex
from pathlib import Path

from .cli import SEED_MAX, UsageError, config_args, write_outputs
from .config import MacroConfig

# The random-VMM test of the verification suite. TODO(issue 9): the host API's RTL backend
# becomes the product's own cocotb module and replaces this reference to the test package.
TEST_MODULE = "verif.cocotb.test_macro"
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


def run_demo(config: MacroConfig, *, n_vmm: int = 200, seed: int | None = None,
             sims: list[str] | None = None) -> int:
    from .sim.runner import run_cocotb
    from .synth import synthesize

    try:
        check_demo_args(n_vmm=n_vmm, seed=seed)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    seed = random.randrange(1 << 31) if seed is None else seed
    sims = sims or ["verilator", "icarus"]
    out = Path("build/demo") / config.slug
    files = write_outputs(config, out)
    print(f"== mram_macro {config.rows}x{config.cols}, tdc_bits={config.tdc_bits}, "
          f"result_width={config.result_width}, stream_width={config.stream_width}")
    print(f"   Verilog: {files['verilog']}  register map: {files['c_header']}")
    ok = True
    for sim in sims:
        r = run_cocotb(sim, config, test_module=TEST_MODULE, seed=seed, nvmm=n_vmm,
                       test_filter="test_random_vmm$", build_root=out / "sim", quiet=True)
        m = r.metrics
        status = "PASS" if r.passed else "FAIL"
        print(f"== {sim:9s} {status}: {m.get('vmms_checked', 0)} random VMMs checked against "
              f"the golden model, {m.get('mismatches', '?')} mismatches "
              f"({r.wall_s:.1f} s, seed {seed})")
        if not r.passed:
            ok = False
            for f in r.failures:
                print(f"   {f}")
            print(f"   replay: {replay_command(config, sim=sim, seed=seed, n_vmm=n_vmm)}")
            if r.log:
                print(f"   simulator log: {r.log}")
    report = synthesize(files["verilog"], "mram_macro", workdir=out / "synth")
    print(f"== area (Yosys + {report.liberty.name})")
    print(report.table())
    return 0 if ok else 1
