"""Constrained-random regressions over the configuration matrix, on both simulators.

``make regress SEEDS=N`` runs every configuration of :data:`MATRIX` on Icarus and Verilator
with N seeds, each case one Dask task (:mod:`verif.distributed`: a LocalCluster of ``JOBS``
workers, or the cluster at ``SCHEDULER=tcp://host:8786``), each case running the cocotb
suites :data:`TEST_MODULES` with functional coverage on (:mod:`verif.cocotb.coverage`). It then
prints a summary table, the totals (VMMs checked, configurations, coverage, faults survived,
mismatches) and, for every failing case, its seed and the one-line command that replays it::

    make regress SEEDS=1 SEED=<seed> SIMS=<sim> CONFIGS=<slug> NVMM=<n> WAVES=fst

``WAVES=vcd|fst`` dumps waveforms (in separate build trees, ``build/sim_waves_<format>``): Verilator
writes ``dump.vcd`` (built with ``--trace``) or ``dump.fst`` (``--trace-fst``, which needs the
LZ4 headers, Debian's ``liblz4-dev``: without them Verilator falls back to VCD), Icarus always an
FST file (the runner's ``waves`` option); the path is printed and checked to exist.

``make signoff`` is the sign-off profile: the whole matrix on both simulators, with enough seeds
and VMMs for at least :data:`SIGNOFF_VMMS` checked results.

This module is also the home of :func:`run_suite`, the runner of the cocotb suites used by the
regression, the smoke tests and ``make coverage``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.sim.harness import HARNESS_TOP
from mram_macro.sim.netlist import ICARUS_NETLISTS
from mram_macro.sim.runner import (
    ROOT,
    SIMULATORS,
    TIMESCALE,
    TOP,
    build,
    build_subdir,
    count_cases,
    failed_cases,
    icarus_netlist,
    scoped_environ,
)
from verif.cocotb import MACRO_SUITE, ROBUSTNESS_SUITE
from verif.configs import full_slug, parse_slug, sample_configs

__all__ = ["MATRIX", "SMOKE", "COVERAGE_CONFIGS", "TEST_MODULES", "CaseResult", "Case",
           "make_cases", "run_case", "run_cases", "run_suite", "check_args",
           "main"]

COUNTER = dict(tdc_mode="counter")
#: The configuration matrix: rows and columns 8..128 (powers of two and not), every legal
#: kind of stream packing (one beat, many beats, results narrower or wider than a beat), and
#: TDC widths 4..8. Each TDC is the narrowest that resolves every count of its rows (wider
#: TDCs are legal, but then no live comparator reaches the top codes: see
#: :func:`verif.cocotb.coverage.tdc_code_bins`).
MATRIX = [
    profile_config("full", rows=8, cols=8, tdc_bits=4, result_width=8, stream_width=8, **COUNTER),
    profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8, **COUNTER),
    profile_config("full", rows=13, cols=9, tdc_bits=4, result_width=5, stream_width=8, **COUNTER),
    profile_config("full", rows=16, cols=40, tdc_bits=5, result_width=12, stream_width=16,
                   **COUNTER),
    profile_config("full", rows=24, cols=100, tdc_bits=5, result_width=6, stream_width=16,
                   **COUNTER),
    profile_config("full", rows=32, cols=17, tdc_bits=6, result_width=10, stream_width=32,
                   **COUNTER),
    profile_config("full", rows=40, cols=8, tdc_bits=6, result_width=7, stream_width=16, **COUNTER),
    profile_config("full", rows=48, cols=96, tdc_bits=6, result_width=8, stream_width=64,
                   **COUNTER),
    profile_config("full", stream_width=32, **COUNTER),
                      # the default macro before the two-step TDC
    profile_config("full", rows=96, cols=24, tdc_bits=7, result_width=16, stream_width=8,
                   **COUNTER),
    profile_config("full", rows=100, cols=33, tdc_bits=7, result_width=16, stream_width=128,
                   **COUNTER),
    profile_config("full", rows=127, cols=8, tdc_bits=7, result_width=9, stream_width=256,
                   **COUNTER),
    profile_config("full", rows=8, cols=128, tdc_bits=4, result_width=32, stream_width=512,
                   **COUNTER),
    profile_config("full", rows=128, cols=128, tdc_bits=8, result_width=16, stream_width=64,
                   **COUNTER),
    # The two-step TDC: 2..16 phases, small and large arrays, coarse counts of 1..4 bits.
    profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8,
                   tdc_mode="two_step", tdc_fine_taps=4),
    profile_config("full", rows=13, cols=9, tdc_bits=5, result_width=6, stream_width=8,
                   tdc_mode="two_step", tdc_fine_taps=16),
    profile_config("full", rows=40, cols=8, tdc_bits=6, result_width=7, stream_width=16,
                   tdc_mode="two_step", tdc_fine_taps=2),
    profile_config("full"),                              # the full-featured macro
    profile_config("full", tdc_fine_taps=16),
    profile_config("full", rows=128, cols=128, tdc_bits=8, result_width=16, stream_width=64,
                   tdc_mode="two_step", tdc_fine_taps=4),
    # the default mode with its automatic phases (8) on a small array, one-beat vectors
    profile_config("full", rows=16, cols=10, tdc_bits=5, result_width=8, stream_width=16),
    # the coarse TDC (several counts per code, a code -> value table instead of CAL_OFFSET):
    # drawn configurations (`make regress DRAW=20`) found its suites untried here
    profile_config("full", rows=16, cols=10, tdc_bits=4, result_width=8, stream_width=16,
                   tdc_mode="coarse"),
    MacroConfig(),                                       # the default (plain) macro
]
#: The part of the matrix ``make test`` runs (besides the two configurations of
#: ``verif/test_cocotb.py``): with the counter TDC an odd geometry with a 5-bit result and two
#: WEIGHT_DATA words with a 16-bit stream; with the default two-step TDC and its automatic
#: phases, one-beat vectors; the coarse TDC; all small, for speed.
SMOKE = [MATRIX[2], MATRIX[3], MATRIX[20], MATRIX[21]]
#: The configurations ``make coverage`` runs.
COVERAGE_CONFIGS = [MATRIX[1], MATRIX[2], MATRIX[8], MATRIX[11], MATRIX[17]]
#: The cocotb suites of a regression case.
TEST_MODULES = (*MACRO_SUITE, *ROBUSTNESS_SUITE)
#: Where ``make regress`` keeps its per-case results and coverage.
OUT = ROOT / "build" / "regress"
WAVE_FORMATS = ("vcd", "fst")
#: The spaces ``--draw`` samples from (limits passed to :func:`verif.configs.draw_config`).
DRAW_SPACES = {"regress": {"max_rows": 128, "max_cols": 128, "max_write_pulse": 1024},
               "full": {}}
#: The waveform file of an Icarus run (moved into the run's directory afterwards).
ICARUS_WAVES = f"{TOP}.fst"


def find_config(slug: str) -> MacroConfig:
    """A configuration of the matrix by its slug; any other slug is parsed."""
    for config in MATRIX:
        if config.slug == slug:
            return config
    return parse_slug(slug)


@dataclass
class CaseResult:
    """One simulator x configuration x seed run of the suites."""

    sim: str
    slug: str
    seed: int
    nvmm: int
    n_tests: int
    failures: list[str]
    wall_s: float
    #: From the coverage file: results_checked, mismatches, faults_survived, passes, ...
    stats: dict = field(default_factory=dict)
    coverage_file: str | None = None
    waves_file: str | None = None
    violations: list[str] = field(default_factory=list)
    #: The run's directory (results.xml, waveforms); removed after a pass without waveforms.
    run_dir: str | None = None
    #: Tests that could not apply to the configuration, with the reason they gave.
    skipped: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.n_tests > 0 and not self.failures

    def replay(self, waves: str = "fst") -> str:
        """The one-line command that reruns this case (with waveforms)."""
        return (f"make regress SEEDS=1 SEED={self.seed} SIMS={self.sim} CONFIGS={self.slug} "
                f"NVMM={self.nvmm} WAVES={waves}")

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> CaseResult:
        return cls(**json.loads(path.read_text()))


def verilator_waves(waves: str | None) -> str | None:
    """The format Verilator can dump: FST needs the LZ4 headers (``liblz4-dev``)."""
    if waves == "fst" and not Path("/usr/include/lz4.h").is_file():
        print("regress: Verilator FST needs liblz4-dev (lz4.h); dumping VCD instead",
              file=sys.stderr)
        return "vcd"
    return waves


def _build(sim: str, config: MacroConfig, build_dir: Path, waves: str | None,
           log_file: Path | None = None, quick_build: bool = False, netlist: str = "flat"):
    """The cocotb runner of ``sim``, having built ``config`` in ``build_dir`` if needed
    (``quick_build``: see :func:`mram_macro.sim.runner.build`)."""
    args, sources = [], []
    if sim == "verilator" and waves == "fst":
        args = ["--trace-fst"]
    if sim == "icarus" and waves:
        # cocotb's own dump module is SystemVerilog, which the -g2005 build rejects; this one
        # is plain Verilog. The runner's test(waves=True) then makes vvp write FST.
        dump = build_dir / "mram_waves_dump.v"
        build_dir.mkdir(parents=True, exist_ok=True)
        dump.write_text(f"module mram_waves_dump;\ninitial begin\n"
                        f"  $dumpfile(\"{build_dir / ICARUS_WAVES}\");\n"
                        f"  $dumpvars(0, {HARNESS_TOP});\nend\nendmodule\n")
        sources.append(dump)
        args = ["-s", "mram_waves_dump"]
    return build(sim, config, build_dir, extra_sources=sources, extra_args=args,
                 waves=bool(waves) and sim == "verilator", log_file=log_file, harness=True,
                 quick_build=quick_build, netlist=netlist)


def _netlist(sim: str, waves: str | None, choice: str | None) -> str:
    """What Icarus simulates: the literal RTL when it dumps waves (hierarchical names), else
    :func:`~mram_macro.sim.runner.icarus_netlist` of ``choice``."""
    return "rtl" if sim == "icarus" and waves else icarus_netlist(choice)


def run_suite(sim: str, config: MacroConfig, *, seed: int, nvmm: int,
              modules=TEST_MODULES, coverage: Path | None = None, waves: str | None = None,
              test_filter: str | None = None, quiet: bool = False,
              quick_build: bool = False, netlist: str | None = None) -> CaseResult:
    """Build (if needed) and run the cocotb ``modules`` once; never raises for failing tests.

    With ``quiet`` the build log goes to ``build.log`` in the build directory and the
    simulator's to ``sim.log`` in the run's directory (kept when the run fails).

    Each run has its own directory (results, waveforms) under the configuration's build
    directory; ``coverage`` (a JSON path) switches functional coverage on. ``quick_build``
    compiles a Verilator model at ``-O0`` (:func:`mram_macro.sim.runner.build`; its own build
    tree): for short runs of many configurations, where the compile is most of the time.
    """
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    if waves is not None and waves not in WAVE_FORMATS:
        raise ValueError(f"waves must be one of {', '.join(WAVE_FORMATS)}, not {waves!r}")
    if shutil.which(SIMULATORS[sim]) is None:
        raise RuntimeError(f"{SIMULATORS[sim]} is not on PATH: run `make setup`")
    if sim == "verilator":
        waves = verilator_waves(waves)
    netlist = _netlist(sim, waves, netlist)
    build_dir = (ROOT / "build" / (f"sim_waves_{waves}" if waves else "sim")
                 / (f"{sim}-quick" if quick_build and sim == "verilator"
                    else build_subdir(sim, netlist=netlist))
                 / full_slug(config))
    run_dir = build_dir / "runs" / f"seed{seed}_{os.getpid()}_{time.monotonic_ns()}"
    run_dir.mkdir(parents=True)
    results_xml = run_dir / "results.xml"
    env = {"MRAM_CONFIG": config.to_json(), "MRAM_SEED": str(seed), "MRAM_NVMM": str(nvmm),
           "MRAM_METRICS": str(run_dir / "metrics.jsonl")}
    if coverage is not None:
        Path(coverage).parent.mkdir(parents=True, exist_ok=True)
        Path(coverage).unlink(missing_ok=True)
        env["MRAM_COVERAGE"] = str(coverage)
    t0 = time.perf_counter()
    # ``make regress WAVES=fst`` puts WAVES in the environment, where the runner would read it:
    # this call's arguments decide instead.
    with scoped_environ(env, unset=("MRAM_COVERAGE", "WAVES")):
        runner = _build(sim, config, build_dir, waves,
                        log_file=build_dir / "build.log" if quiet else None,
                        quick_build=quick_build, netlist=netlist)
        # Under pytest the runner exits on failure; the results file says which test failed.
        with contextlib.suppress(SystemExit):
            runner.test(test_module=list(modules), hdl_toplevel=HARNESS_TOP, build_dir=build_dir,
                        test_dir=run_dir, timescale=TIMESCALE, extra_env=env, seed=seed,
                        results_xml=str(results_xml), waves=bool(waves),
                        test_filter=test_filter,
                        log_file=run_dir / "sim.log" if quiet else None)
    wall = time.perf_counter() - t0
    result = CaseResult(sim=sim, slug=full_slug(config), seed=seed, nvmm=nvmm,
                        n_tests=count_cases(results_xml), failures=failed_cases(results_xml),
                        wall_s=wall, coverage_file=str(coverage) if coverage else None)
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        for line in metrics.read_text().splitlines():
            result.skipped.update({k.split(":", 1)[1]: v for k, v in json.loads(line).items()
                                   if k.startswith("skipped:")})
    if coverage is not None and Path(coverage).is_file():
        doc = json.loads(Path(coverage).read_text())
        result.stats = doc.get("stats", {})
        result.violations = doc.get("violations", [])
    if waves:
        dump = (run_dir / f"dump.{waves}" if sim == "verilator"
                else build_dir / ICARUS_WAVES)
        if dump.is_file():
            if dump.parent != run_dir:
                dump = Path(shutil.move(dump, run_dir / dump.name))
            result.waves_file = str(dump)
    if result.passed and not waves:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        result.run_dir = str(run_dir)
    return result


# -- cases ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One regression case: the suites on one simulator, configuration and seed."""

    sim: str
    config: MacroConfig
    seed: int
    nvmm: int
    waves: str | None
    out: Path
    quick_build: bool = False
    #: Only the tests this regex selects (``make signoff``: :data:`SIGNOFF_TESTS`); None: all.
    test_filter: str | None = None
    #: What Icarus simulates (:func:`mram_macro.sim.runner.icarus_netlist`).
    icarus_netlist: str = "flat"

    @property
    def id(self) -> str:
        return f"{self.sim}-{full_slug(self.config)}-seed{self.seed}"

    @property
    def coverage_path(self) -> Path:
        return self.out / "coverage" / f"{self.id}.json"

    @property
    def result_path(self) -> Path:
        return self.out / "results" / f"{self.id}.json"


def make_cases(*, seeds: int, first_seed: int, sims: Sequence[str], configs,
               nvmm: int | dict[str, int], out: Path, waves: str | None = None,
               quick_build: bool = False, test_filter: str | None = None,
               netlist: str | None = None) -> list[Case]:
    """Every simulator x configuration x seed, largest configurations first (so the long cases
    do not trail at the end); ``nvmm`` is one number or one per simulator."""
    for s in sims:
        if s not in SIMULATORS:
            raise ValueError(f"unknown simulator {s!r}; use {', '.join(SIMULATORS)}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, not {seeds!r}")
    per_sim = nvmm if isinstance(nvmm, dict) else {s: nvmm for s in sims}
    for s in sims:
        n = per_sim.get(s)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"nvmm must be a positive integer, not {n!r}")
    netlist = icarus_netlist(netlist)
    configs = sorted(configs, key=lambda c: -(c.rows * c.cols + 40 * c.rows))
    return [Case(sim, c, first_seed + i, per_sim[sim], waves, Path(out), quick_build,
                 test_filter, netlist)
            for c in configs for i in range(seeds) for sim in sims]


def run_case(case: Case) -> tuple[CaseResult, str | None]:
    """Run one case (a Dask task): its result, and its coverage document as JSON text (the
    client writes both, so workers need not share its file system). A failed build is a
    failed case, with its replay command."""
    cov = (ROOT / "build" / "regress_tasks" / f"{case.id}_{os.getpid()}.json")
    try:
        result = run_suite(case.sim, case.config, seed=case.seed, nvmm=case.nvmm,
                           coverage=cov, waves=case.waves, quiet=True,
                           quick_build=case.quick_build, test_filter=case.test_filter,
                           netlist=case.icarus_netlist,
                           modules=(MACRO_SUITE[:1] if case.test_filter else TEST_MODULES))
    except Exception as exc:
        result = CaseResult(sim=case.sim, slug=full_slug(case.config), seed=case.seed,
                            nvmm=case.nvmm, n_tests=0, wall_s=0.0,
                            failures=[f"{type(exc).__name__}: {str(exc)[-2000:]}"])
    if case.waves and result.passed and not result.waves_file:
        result.failures.append(f"no {case.waves} waveform file in {result.run_dir}")
    doc = None
    if cov.is_file():
        doc = cov.read_text()
        cov.unlink()
    result.coverage_file = str(case.coverage_path) if doc is not None else None
    return result, doc


def run_cases(cases: Sequence[Case], *, client,
              runner: Callable[[Case], tuple[CaseResult, str | None]] = run_case,
              progress: bool = True) -> list[CaseResult]:
    """Run ``cases`` as Dask tasks on ``client`` (:func:`verif.distributed.dask_client`), save
    each result and coverage document under the case's ``out`` directory, and return the
    results in order."""
    from verif.distributed import run_tasks

    outcomes = run_tasks(client, runner, cases, desc="regression", progress=progress)
    results = []
    for case, (result, doc) in zip(cases, outcomes, strict=True):
        if doc is not None:
            case.coverage_path.parent.mkdir(parents=True, exist_ok=True)
            case.coverage_path.write_text(doc)
        result.save(case.result_path)
        results.append(result)
    return results


# -- command line -------------------------------------------------------------------------------
def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*map(str, r)) for r in rows]
    return "\n".join(out)


def summarize(results: list[CaseResult], *, coverage_dir: Path, wall_s: float,
              report: str = "summary") -> int:
    """Print the summary table, the totals and the failures; return the number of failures."""
    from verif.coverage_report import CoverageReport

    groups: dict[tuple[str, str], list[CaseResult]] = {}
    for r in results:
        groups.setdefault((r.slug, r.sim), []).append(r)
    report_doc = CoverageReport.from_dir(coverage_dir,
                                         only={Path(r.coverage_file).name for r in results
                                               if r.passed and r.coverage_file})
    rows = []
    for (slug, sim), rs in sorted(groups.items()):
        st = [r.stats for r in rs]
        rows.append([slug, sim, f"{sum(r.passed for r in rs)}/{len(rs)}",
                     sum(r.n_tests for r in rs),
                     sum(s.get("results_checked", 0) for s in st),
                     sum(s.get("faults_survived", 0) for s in st),
                     sum(s.get("mismatches", 0) for s in st),
                     f"{report_doc.percent(slug):.1f}" if report_doc.has(slug) else "-",
                     f"{sum(r.wall_s for r in rs):.0f}"])
    print()
    print(_table(rows, ["configuration", "sim", "passed", "tests", "VMMs checked",
                        "faults survived", "mismatches", "cov %", "sim s"]))
    failed = [r for r in results if not r.passed]
    vmms = sum(r.stats.get("results_checked", 0) for r in results)
    mismatches = sum(r.stats.get("mismatches", 0) for r in results)
    faults = sum(r.stats.get("faults_survived", 0) for r in results)
    print()
    if report == "full":
        print(report_doc.render())
    else:
        print(report_doc.render(holes_only=True, limit=25))
    print()
    print("regression summary")
    print(f"  cases run            : {len(results)} ({len(failed)} failed), wall {wall_s:.0f} s")
    print(f"  configurations       : {len({r.slug for r in results})} "
          f"on {', '.join(sorted({r.sim for r in results}))}")
    print(f"  VMMs checked         : {vmms} (results compared bit-exact with the golden model)")
    if report_doc.hits:
        print(f"  coverage             : {report_doc.total_percent():.1f} % of "
              f"{report_doc.total_bins()} defined bins ({report_doc.total_holes()} holes, "
              f"{report_doc.total_excluded()} excluded)")
    else:
        print("  coverage             : n/a (coverage is merged from passing cases only)")
    print(f"  faults survived      : {faults}")
    print(f"  mismatches           : {mismatches}")
    skipped = {(r.slug, name): why for r in results for name, why in r.skipped.items()}
    print(f"  tests skipped        : {len(skipped)} (cannot apply to the configuration)")
    for (slug, name), why in sorted(skipped.items()):
        print(f"    {slug} {name}: {why}")
    for r in failed:
        print(f"\nFAILED {r.sim} {r.slug} seed {r.seed}:")
        for f in r.failures[:5]:
            print(f"  {f}")
        for v in r.violations[:3]:
            print(f"  checker: {v}")
        print(f"  replay: {r.replay()}")
        if r.run_dir:
            print(f"  run directory (results, sim.log): {r.run_dir}")
    for r in results:
        if r.waves_file:
            print(f"waveforms ({r.sim} {r.slug} seed {r.seed}): {r.waves_file}")
    return len(failed)


#: Checked results a sign-off regression must reach (``make signoff``).
SIGNOFF_VMMS = 1_000_000
#: The tests of a ``make signoff`` case: the two that stream VMMs and check every result (random
#: weights, vectors, accumulate/hold, back-pressure, idle gaps and re-programmed rows; and gapless
#: streaming into an always-ready sink). The other tests (bus, robustness, write-verify) scale
#: with NVMM much less and run in ``make regress``; a failing case replays with them.
SIGNOFF_TESTS = "test_random_vmm$|test_throughput$"
#: Results a sign-off case checks per NVMM, at least: NVMM in the throughput test, and about
#: 0.9 x NVMM in the random test (an accumulating pass returns no result of its own; measured
#: 150 results for two cases at NVMM 40).
SIGNOFF_RESULTS_PER_NVMM = 1.8
#: Seeds and random VMMs per test of ``make signoff``, per simulator: 21 configurations x 1.8 x
#: (25,000 on Verilator + 2,000 on Icarus, whose vvp evaluates the design about 10x slower) give
#: about 1.02 M checked results, above :data:`SIGNOFF_VMMS` (the summary says whether the target
#: was met).
SIGNOFF_SEEDS = 1
SIGNOFF_NVMM = {"verilator": 25_000, "icarus": 2_000}


def with_drawn(configs: str, n: int, *, seed: int,
               space: str) -> tuple[list[MacroConfig], list[MacroConfig]]:
    """``configs`` ('all', 'none' or slugs) plus ``n`` configurations drawn from ``seed`` in
    ``space`` (:data:`DRAW_SPACES`): (every configuration to run, the drawn ones)."""
    drawn = sample_configs(n, seed, **DRAW_SPACES[space]) if n else []
    if configs == "all":
        base = list(MATRIX)
    elif configs == "none":
        base = []
    else:
        base = [find_config(name) for name in configs.split(",") if name]
    return [*base, *drawn], drawn


def check_args(args) -> None:
    """Refuse bad ``make regress`` values before anything runs (the message names the range).

    Raises:
        ValueError: a count below 1, a seed out of range, an unknown simulator, or a
            configuration slug that does not parse or names an illegal configuration.
    """
    from mram_macro.cli import SEED_MAX

    for flag, value in (("--seeds (SEEDS)", args.seeds), ("--nvmm (NVMM)", args.nvmm),
                        ("--jobs (JOBS)", args.jobs)):
        if value is None:   # a profile's default
            continue
        if value < 1:
            raise ValueError(f"{flag} must be a positive integer, not {value}")
    if args.draw < 0:
        raise ValueError(f"--draw (DRAW) must be 0 or more configurations, not {args.draw}")
    if args.seed is not None and not 0 <= args.seed <= SEED_MAX:
        raise ValueError(f"--seed (SEED) must be between 0 and {SEED_MAX}, not {args.seed}")
    sims = [s for s in args.sims.split(",") if s]
    bad = [s for s in sims if s not in SIMULATORS]
    if bad or not sims:
        raise ValueError(f"unknown simulator(s) {', '.join(bad) or '(none)'} in --sims (SIMS); "
                         f"use a comma-separated subset of {', '.join(SIMULATORS)}")
    if args.configs == "none" and not args.draw:
        raise ValueError("--configs none (CONFIGS=none) leaves nothing to run without --draw "
                         "(DRAW=N)")
    if args.configs not in ("all", "none"):
        names = [n for n in args.configs.split(",") if n]
        if not names:
            raise ValueError("--configs (CONFIGS) is empty; give slugs like r64_c64_t7_w16_s32 "
                             "or 'all'")
        for name in names:
            find_config(name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m verif.regress", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=None,
                   help="seeds per configuration and simulator (default 2; signoff: "
                        f"{SIGNOFF_SEEDS})")
    p.add_argument("--seed", type=int, default=None, help="first seed (default: random)")
    p.add_argument("--sims", default=",".join(SIMULATORS), help="comma-separated simulators")
    p.add_argument("--configs", default="all",
                   help="comma-separated configuration slugs, 'all' (the matrix) or 'none' "
                        "(only the --draw ones)")
    p.add_argument("--nvmm", type=int, default=None,
                   help="random VMMs per random test; also scales the robustness tests "
                        f"(default 600; signoff: {SIGNOFF_NVMM})")
    p.add_argument("--waves", choices=WAVE_FORMATS, default=None, help="dump waveforms")
    p.add_argument("--draw", type=int, default=0,
                   help="add N configurations drawn from the legal space (verif/configs.py; "
                        "reproducible from --seed; each replays by its slug)")
    p.add_argument("--draw-space", choices=tuple(DRAW_SPACES), default="regress",
                   help="'regress': at most 128x128 and 1024-cycle write pulses, so full suites "
                        "stay minutes; 'full': the whole legal space (hours)")
    p.add_argument("--quick-build", action="store_true",
                   help="compile Verilator models at -O0: less build time, slower runs (for "
                        "many configurations with few VMMs, e.g. --draw)")
    p.add_argument("--icarus-netlist", choices=ICARUS_NETLISTS, default=None,
                   help="what Icarus simulates: 'flat', the event-driven simulation netlist "
                        "(default; $MRAM_ICARUS_NETLIST), or 'rtl', the generated Verilog "
                        "itself (see mram_macro/sim/netlist.py)")
    p.add_argument("--jobs", type=int, default=2,
                   help="LocalCluster workers (ignored with --scheduler)")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (tcp://host:8786); default: a LocalCluster")
    p.add_argument("--profile", choices=("regress", "coverage", "signoff"), default="regress",
                   help="'coverage': the configurations of make coverage, full report; "
                        f"'signoff': the matrix sized for >= {SIGNOFF_VMMS} checked VMMs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", default=None, help="results directory (default build/<profile>)")
    args = p.parse_args(argv)
    try:
        check_args(args)
    except ValueError as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    signoff = args.profile == "signoff"
    seeds = args.seeds if args.seeds is not None else (SIGNOFF_SEEDS if signoff else 2)
    nvmm = args.nvmm if args.nvmm is not None else (SIGNOFF_NVMM if signoff else 600)
    if args.scheduler:
        from verif.distributed import check_scheduler_address
        try:
            check_scheduler_address(args.scheduler)
        except ValueError as exc:
            p.exit(2, f"{p.prog}: error: {exc}\n")
    names = args.configs
    if args.profile == "coverage" and names == "all":
        names = ",".join(c.slug for c in COVERAGE_CONFIGS)
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    try:
        configs, drawn = with_drawn(names, args.draw, seed=seed, space=args.draw_space)
        out = Path(args.out) if args.out else ROOT / "build" / args.profile
        cases = make_cases(seeds=seeds, first_seed=seed, sims=args.sims.split(","),
                           configs=configs, nvmm=nvmm, out=out, waves=args.waves,
                           quick_build=args.quick_build,
                           test_filter=SIGNOFF_TESTS if signoff else None,
                           netlist=args.icarus_netlist)
    except ValueError as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    if drawn:
        names = ",".join(full_slug(c) for c in configs)
        print(f"regression: {len(drawn)} drawn configuration(s) ({args.draw_space} space, "
              f"seed {seed}): {', '.join(full_slug(c) for c in drawn)}")
    shutil.rmtree(out, ignore_errors=True)
    where = args.scheduler or f"a LocalCluster of {args.jobs} worker(s) on this machine"
    print(f"regression: {len(cases)} case(s), seeds {seed}..{seed + seeds - 1}, "
          f"configurations {names}, simulators {args.sims}, {nvmm} VMMs per random test, "
          f"on {where}", flush=True)
    from verif.distributed import dask_client

    t0 = time.perf_counter()
    with dask_client(args.scheduler, workers=args.jobs) as client:
        workers = client.scheduler_info()["workers"].values()
        cores = sum(w.get("nthreads", 1) for w in workers)
        print(f"  {len(workers)} worker(s), {cores} core(s) (threads)", flush=True)
        results = run_cases(cases, client=client, progress=not args.no_progress)
    wall = time.perf_counter() - t0
    n_failed = summarize(results, coverage_dir=out / "coverage", wall_s=wall,
                         report="full" if args.profile == "coverage" else "summary")
    vmms = sum(r.stats.get("results_checked", 0) for r in results)
    mismatches = sum(r.stats.get("mismatches", 0) for r in results)
    print(f"  cluster              : {cores} core(s), wall {wall:.0f} s, "
          f"{vmms / max(wall, 1e-9):.0f} checked VMMs/s")
    if signoff:
        ok = vmms >= SIGNOFF_VMMS and mismatches == 0 and not n_failed
        print(f"  sign-off             : {'PASSED' if ok else 'NOT MET'} ({vmms} VMMs checked, "
              f"target {SIGNOFF_VMMS}; {mismatches} mismatches; {n_failed} failed case(s))")
        if not ok:
            return 1
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
