"""The configuration matrix (:data:`verif.regress.MATRIX`).

In ``make test``: Verilator lint and a Yosys ``check -assert`` of every configuration of the
matrix; invalid configurations rejected by the generator with a clear message; the FSM graphs
the coverage model reads from the design; and a smoke run of the cocotb suites (random VMMs and
robustness, functional coverage and its checkers on) on a few configurations, on both
simulators. The robustness suite also runs on the two configurations of
``verif/test_cocotb.py``.

``make regress`` (``python -m verif.regress``) runs one case per simulator x configuration x seed
as Dask tasks; ``verif/test_distributed.py`` tests that machinery.
"""

from __future__ import annotations

import itertools
import re
import shutil

import pytest

from mram_macro.cli import main as cli_main
from mram_macro.design.config import CHOICES, ConfigError, MacroConfig, profile_config
from mram_macro.flow.lint import verilator_lint
from mram_macro.flow.synth import run_yosys_check
from mram_macro.rtl.top import default_readout, generate_verilog
from mram_macro.sim.runner import ROOT, SIMULATORS
from verif.cocotb import ROBUSTNESS_SUITE
from verif.regress import MATRIX, SMOKE, TEST_MODULES, CaseResult, run_suite
from verif.test_cocotb import CONFIGS as COCOTB_CONFIGS

#: Random VMMs of the smoke runs (also scales the robustness tests: 600 is full effort).
SMOKE_NVMM = 60


def _slug(config: MacroConfig) -> str:
    return config.slug


# -- the matrix itself ------------------------------------------------------------------------
def test_matrix_spans_the_legal_space():
    rows = {c.rows for c in MATRIX}
    cols = {c.cols for c in MATRIX}
    assert min(rows) == min(cols) == 8 and max(rows) == max(cols) == 128
    assert any(r & (r - 1) for r in rows) and any(c & (c - 1) for c in cols), "no non-power of 2"
    assert len({c.tdc_bits for c in MATRIX}) >= 4
    assert len({c.stream_width for c in MATRIX}) >= 5
    assert any(c.in_beats == 1 for c in MATRIX) and any(c.in_beats > 4 for c in MATRIX)
    assert any(c.out_beats == 1 for c in MATRIX)
    assert len({c.slug for c in MATRIX}) == len(MATRIX), "duplicate configurations"
    assert set(SMOKE) <= set(MATRIX) and not set(SMOKE) & set(COCOTB_CONFIGS)
    # Every TDC mode runs the full suites in make regress, and a reduced run in make test.
    modes = set(CHOICES["tdc_mode"])
    assert {c.tdc_mode for c in MATRIX} == modes
    assert {c.tdc_mode for c in SMOKE} == modes


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH")
@pytest.mark.parametrize("config", MATRIX, ids=_slug)
def test_static_checks(config, tmp_path):
    """``verilator --lint-only -Wall`` (listed waivers only) and Yosys ``check -assert``."""
    verilog = tmp_path / "mram_macro.v"
    generate_verilog(config, verilog)
    verilator_lint(verilog)
    run_yosys_check(verilog, "mram_macro")


# -- invalid configurations -------------------------------------------------------------------
_CLI_FLAGS = {"rows": "--rows", "cols": "--cols", "tdc_bits": "--tdc-bits",
              "result_width": "--result-width", "stream_width": "--stream-width",
              "precharge_cycles": "--precharge-cycles",
              "write_pulse_cycles": "--write-pulse-cycles"}

INVALID = [
    ({"rows": 1}, r"rows must be between 2 and 256, not 1"),
    ({"rows": 300, "tdc_bits": 9}, r"rows must be between 2 and 256, not 300"),
    ({"cols": 0}, r"cols must be between 1 and 256, not 0"),
    ({"cols": 257}, r"cols must be between 1 and 256, not 257"),
    ({"rows": 64, "tdc_bits": 6}, r"tdc_bits=6 gives codes 0\.\.63, too few for rows=64 .*"
                                  r"use tdc_bits >= 7"),
    ({"rows": 128, "tdc_bits": 7}, r"use tdc_bits >= 8"),
    ({"tdc_bits": 13}, r"tdc_bits must be between 2 and 12, not 13"),
    ({"rows": 64, "result_width": 7}, r"result_width=7 cannot hold one pass .*"
                                      r"use result_width >= 8"),
    ({"stream_width": 24}, r"stream_width must be one of 8, 16, 32, 64, 128, 256, 512, not 24"),
    ({"stream_width": 1024}, r"stream_width must be one of .*not 1024"),
    ({"precharge_cycles": 0}, r"precharge_cycles must be between 1 and 255, not 0"),
    ({"write_pulse_cycles": 65536}, r"write_pulse_cycles must be between 1 and 65535"),
]
#: Values the command line cannot even express.
INVALID_TYPES = [
    ({"rows": "8"}, r"rows must be an integer, not '8'"),
    ({"cols": True}, r"cols must be an integer, not True"),
    ({"tdc_bits": 4.0}, r"tdc_bits must be an integer, not 4\.0"),
]


@pytest.mark.parametrize(("values", "message"), INVALID,
                         ids=[",".join(f"{k}={v}" for k, v in d.items()) for d, _ in INVALID])
def test_invalid_configuration_is_rejected(values, message, tmp_path, capsys):
    with pytest.raises(ConfigError, match=message):
        MacroConfig(**values)
    # The generator's command line refuses it with the same message and writes nothing.
    argv = ["generate", "-o", str(tmp_path)]
    for key, value in values.items():
        argv += [_CLI_FLAGS[key], str(value)]
    with pytest.raises(SystemExit) as exc:
        cli_main(argv)
    assert exc.value.code == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "mram_macro.v").exists()


@pytest.mark.parametrize(("values", "message"), INVALID_TYPES,
                         ids=[",".join(f"{k}={v!r}" for k, v in d.items())
                              for d, _ in INVALID_TYPES])
def test_invalid_configuration_type_is_rejected(values, message):
    with pytest.raises(ConfigError, match=message):
        MacroConfig(**values)
    with pytest.raises(ConfigError, match=message):
        MacroConfig.from_dict({**profile_config("full").to_dict(), **values})


def test_unknown_configuration_key_is_rejected():
    with pytest.raises(ConfigError, match=r"unknown configuration key\(s\) row; known: "):
        MacroConfig.from_dict({"row": 8})


# -- what the coverage model reads from the design ----------------------------------------------
def test_fsm_graphs_are_read_from_the_design():
    from verif.cocotb.fsm_graphs import fsm_graphs

    graphs = {g.name: g for g in fsm_graphs(MATRIX[0])}
    assert {"seq", "read", "write"} <= set(graphs)
    assert graphs["seq"].path == ("sequencer",)
    assert graphs["read"].transitions >= {("Idle", "Precharge"), ("Precharge", "Evaluate")}
    for g in graphs.values():
        assert g.init == "Idle", f"FSM {g.name} starts in {g.init}"
        # Every state is reachable from the initial one and can return to it.
        reach, frontier = {g.init}, [g.init]
        while frontier:
            s = frontier.pop()
            for a, b in g.transitions:
                if a == s and b not in reach:
                    reach.add(b)
                    frontier.append(b)
        assert reach == set(g.encoding), f"FSM {g.name}: unreachable {set(g.encoding) - reach}"
        assert sorted(g.encoding.values()) == list(range(len(g.encoding)))


def test_tdc_code_bins_span_the_range_and_explain_exclusions():
    from verif.cocotb.coverage import tdc_code_bins

    for config in MATRIX:
        bins, excluded = tdc_code_bins(config, default_readout(config).start_delay_cycles)
        if config.tdc_mode == "counter":
            assert not excluded, f"{config.slug}: a minimal TDC has unreachable codes {excluded}"
        else:   # coarse bits are whole: a two-step TDC may have more codes than counts
            assert all("unreachable" in why for why in excluded.values())
        assert bins[0][1] == 0 and bins[-1][1] == bins[-1][2] == config.tdc_max_code
        skipped = set()          # excluded codes, named "c (why)" or "a-b (why)"
        for name in excluded:
            lo_s, _, hi_s = name.split()[0].partition("-")
            skipped |= set(range(int(lo_s), int(hi_s or lo_s) + 1))
        for (_, _, hi), (_, lo, _) in itertools.pairwise(bins):
            assert set(range(hi + 1, lo)) <= skipped, (
                f"{config.slug}: bins leave codes {sorted(set(range(hi + 1, lo)) - skipped)} "
                f"neither binned nor excluded: {bins}")
    # A TDC wider than the array needs: the codes above D0 + rows are excluded, with the reason.
    wide = profile_config("full", rows=13, cols=9, tdc_bits=5, result_width=8, stream_width=8,
                          tdc_mode="counter")
    bins, excluded = tdc_code_bins(wide, 13)
    assert excluded and all("unreachable" in why for why in excluded.values())
    assert all(lo <= 26 for _, lo, _ in bins[:-1])


def test_coverage_report_merges_per_configuration_and_names_holes():
    from verif.coverage_report import CoverageReport

    def doc(slug, hits, excluded=None):
        return {"slug": slug, "points": {"p": {"bins": hits, "excluded": excluded or {}}}}

    report = CoverageReport()
    report.add(doc("a", {"x": 1, "y": 0}))
    report.add(doc("a", {"x": 0, "y": 2}))              # another simulator or seed
    report.add(doc("b", {"x": 0}, {"y": "one-beat"}))
    assert report.percent("a") == 100.0 and report.percent("b") == 0.0
    assert report.total_bins() == 3 and report.holes() == {("p", "x"): ["b"]}
    assert report.total_excluded() == 1
    text = report.render()
    assert "p [x]  in b" in text and "one-beat" in text and "66.7 %" in text


# -- cocotb smoke runs --------------------------------------------------------------------------
def _check(result: CaseResult, sim: str, config: MacroConfig) -> None:
    assert result.passed, (
        f"{len(result.failures)} of {result.n_tests} cocotb test(s) failed on {sim} "
        f"({config.slug}), seed {result.seed}:\n  " + "\n  ".join(result.failures)
        + ("\n  checkers: " + "\n  ".join(result.violations[:5]) if result.violations else "")
        + f"\nreplay: {result.replay()}\nrun directory: {result.run_dir}")
    assert result.stats.get("mismatches", 0) == 0
    assert result.stats.get("results_checked", 0) > 0


def _skip_without(sim: str) -> None:
    if shutil.which(SIMULATORS[sim]) is None:
        pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")


#: The smoke configurations, each on one simulator, the simulators taking turns: both run
#: configurations of more than one TDC mode, and the four 64x64 and small builds of
#: ``verif/test_cocotb.py`` run on both; ``make regress`` runs every case on both (kept out of
#: ``make test`` for time).
SMOKE_CASES = [(list(SIMULATORS)[i % len(SIMULATORS)], config)
               for i, config in enumerate(SMOKE)]


def test_smoke_cases_take_turns_on_the_simulators():
    """Fails once SMOKE's order or content leaves a simulator with a single TDC mode."""
    assert {s for s, _ in SMOKE_CASES} == set(SIMULATORS)
    for sim in SIMULATORS:
        assert len({c.tdc_mode for s, c in SMOKE_CASES if s == sim}) >= 2, sim


@pytest.mark.mram_sim(nvmm=SMOKE_NVMM, suites=2)
@pytest.mark.parametrize(("sim", "config"), SMOKE_CASES,
                         ids=[f"{s}-{c.slug}" for s, c in SMOKE_CASES])
def test_smoke(sim, config, mram_seed):
    """Random VMMs and the robustness suite, reduced, with coverage and its checkers on."""
    _skip_without(sim)
    cov = ROOT / "build" / "smoke" / f"{sim}-{config.slug}.json"
    _check(run_suite(sim, config, seed=mram_seed, nvmm=SMOKE_NVMM, modules=TEST_MODULES,
                     coverage=cov), sim, config)


#: The configurations of ``verif/test_cocotb.py`` x simulators that also run the robustness
#: suite in ``make test`` (the default configuration on Verilator only, for time).
ROBUSTNESS_SMOKE = [(sim, config) for config in COCOTB_CONFIGS for sim in SIMULATORS
                    if sim == "verilator" or config.rows * config.cols <= 256]


@pytest.mark.mram_sim(nvmm=SMOKE_NVMM)
@pytest.mark.parametrize(("sim", "config"), ROBUSTNESS_SMOKE,
                         ids=[f"{s}-{c.slug}" for s, c in ROBUSTNESS_SMOKE])
def test_robustness_smoke(sim, config, mram_seed):
    """The robustness suite, reduced, on the configurations of ``verif/test_cocotb.py``."""
    _skip_without(sim)
    cov = ROOT / "build" / "smoke" / f"{sim}-{config.slug}-robustness.json"
    _check(run_suite(sim, config, seed=mram_seed, nvmm=SMOKE_NVMM,
                     modules=ROBUSTNESS_SUITE, coverage=cov), sim, config)
