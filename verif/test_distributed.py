"""Regression cases and Monte Carlo study cases as Dask tasks (:mod:`verif.distributed`).

One LocalCluster of 2 worker processes on 127.0.0.1; the tasks are cheap stand-ins for
regression cases (the machinery is under test here; the cocotb suites themselves are run by
``verif/test_matrix.py``), plus real Monte Carlo study cases, checked against a serial run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mram_macro.design.config import profile_config
from verif.distributed import check_scheduler_address, dask_client, run_tasks
from verif.regress import CaseResult, make_cases, run_case, run_cases, summarize

CONFIG = profile_config("full", rows=8, cols=8, tdc_bits=4, result_width=8, stream_width=8)


def _fake_case(case) -> tuple[CaseResult, str]:
    """A stand-in regression case: checks ``seed`` VMMs, one coverage bin hit per worker."""
    time.sleep(0.3)          # long enough that both workers get some
    result = CaseResult(sim=case.sim, slug=case.config.slug, seed=case.seed, nvmm=case.nvmm,
                        n_tests=1, failures=[], wall_s=0.3,
                        stats={"results_checked": case.seed, "mismatches": 0})
    doc = {"slug": case.config.slug, "stats": result.stats,
           "points": {"worker": {"bins": {str(os.getpid()): 1}, "excluded": {}}}}
    return result, json.dumps(doc)


def _square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def test_local_cluster_has_two_workers_on_localhost(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
    assert all(w["nthreads"] == 1 for w in workers.values())


def test_results_come_back_in_order_from_both_workers(client, capsys):
    out = run_tasks(client, _square, range(12), desc="squares")
    assert [v for v, _ in out] == [x * x for x in range(12)]
    assert "squares: 100%" in capsys.readouterr().err      # the progress bar ran to the end


def test_regression_cases_merge_results_and_coverage(client, tmp_path):
    cases = make_cases(seeds=3, first_seed=10, sims=["icarus", "verilator"], configs=[CONFIG],
                       nvmm=5, out=tmp_path)
    results = run_cases(cases, client=client, runner=_fake_case, progress=False)
    assert [(r.sim, r.seed) for r in results] == [(c.sim, c.seed) for c in cases]
    for case in cases:
        assert CaseResult.load(case.result_path).seed == case.seed
        assert json.loads(case.coverage_path.read_text())["slug"] == CONFIG.slug
    pids = {p for c in cases for p in json.loads(c.coverage_path.read_text())
            ["points"]["worker"]["bins"]}
    assert len(pids) == 2, "the cases did not spread over both workers"
    assert summarize(results, coverage_dir=tmp_path / "coverage", wall_s=1.0) == 0


def test_an_existing_scheduler_is_used_by_address(client):
    address = client.scheduler.address
    with dask_client(address) as other:
        assert other.scheduler.address == address
        assert run_tasks(other, _square, [3], desc="remote", progress=False)[0][0] == 9


def test_monte_carlo_study_cases_equal_a_serial_run(client):
    from verif.bench_golden import study_case, study_cases

    cases = study_cases(dies=3, test_vectors=64, wv_dies=1)
    cases = [cases[0], cases[2], cases[-1]]          # calibration and write-verify lines
    remote = run_tasks(client, study_case, cases, desc="monte carlo", progress=False)
    assert [r.case for r in remote] == cases
    assert [r.values for r in remote] == [study_case(c).values for c in cases]


def test_bad_scheduler_address_is_rejected_with_the_expected_form():
    with pytest.raises(ValueError, match=r"tcp://host:8786, not 'localhost:8786'"):
        check_scheduler_address("localhost:8786")
    with pytest.raises(ValueError, match=r"workers must be a positive integer, not 0"):
        with dask_client(workers=0):
            pass


def test_unreachable_scheduler_names_the_fix():
    with pytest.raises(RuntimeError, match=r"cannot reach the Dask scheduler.*dask worker"):
        with dask_client("tcp://127.0.0.1:1", timeout_s=1.0):
            pass


def test_bad_case_lists_are_rejected():
    with pytest.raises(ValueError, match=r"unknown simulator 'modelsim'"):
        make_cases(seeds=1, first_seed=0, sims=["modelsim"], configs=[CONFIG], nvmm=1,
                   out=Path("x"))
    with pytest.raises(ValueError, match=r"seeds must be a positive integer, not 0"):
        make_cases(seeds=0, first_seed=0, sims=["icarus"], configs=[CONFIG], nvmm=1,
                   out=Path("x"))


def test_a_case_that_cannot_build_is_a_failed_case(monkeypatch, tmp_path):
    from verif import regress

    def broken(*args, **kwargs):
        raise RuntimeError("iverilog is not on PATH: run `make setup`")

    monkeypatch.setattr(regress, "run_suite", broken)
    case = make_cases(seeds=1, first_seed=4, sims=["icarus"], configs=[CONFIG], nvmm=1,
                      out=tmp_path)[0]
    result, doc = run_case(case)
    assert not result.passed and doc is None
    assert "iverilog is not on PATH" in result.failures[0]
    assert "SEED=4" in result.replay()


def test_signoff_profile_is_sized_for_a_million_checked_vmms(tmp_path):
    """`make signoff`: every matrix configuration on both simulators, only the two streaming
    tests (each checks every result of its NVMM VMMs), with enough VMMs for SIGNOFF_VMMS."""
    from verif.regress import (
        MATRIX,
        SIGNOFF_NVMM,
        SIGNOFF_RESULTS_PER_NVMM,
        SIGNOFF_SEEDS,
        SIGNOFF_TESTS,
        SIGNOFF_VMMS,
    )

    cases = make_cases(seeds=SIGNOFF_SEEDS, first_seed=1, sims=["icarus", "verilator"],
                       configs=MATRIX, nvmm=SIGNOFF_NVMM, out=tmp_path,
                       test_filter=SIGNOFF_TESTS)
    assert {(c.sim, c.config) for c in cases} == {(s, m) for s in ("icarus", "verilator")
                                                  for m in MATRIX}
    assert all(c.nvmm == SIGNOFF_NVMM[c.sim] and c.test_filter == SIGNOFF_TESTS for c in cases)
    assert sum(SIGNOFF_RESULTS_PER_NVMM * c.nvmm for c in cases) >= SIGNOFF_VMMS
    with pytest.raises(ValueError, match="nvmm must be a positive integer"):
        make_cases(seeds=1, first_seed=0, sims=["icarus"], configs=MATRIX[:1],
                   nvmm={"verilator": 5}, out=tmp_path)
