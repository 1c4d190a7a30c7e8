"""Model benchmarks: golden-model throughput, Monte Carlo speed, calibration, write-verify.

The host API's throughput on the golden backend (:func:`host_vmm_per_s`) is printed next to
the golden model's own batch call, both timed in one run, so the line shows the API's overhead.

``python -m verif.bench_golden`` prints every number; ``make bench`` calls
:func:`golden_vmm_per_s` (and may print :func:`report_lines`).

Throughput is measured on one core: BLAS would otherwise spread the matrix products over every
core (and, on a loaded two-core machine, run slower). A measurement therefore runs in a child
process with ``OPENBLAS_NUM_THREADS=1`` unless this process already has it (``main`` re-runs
itself that way, so the Monte Carlo numbers are one-core numbers too).

The Monte Carlo studies (calibration per device, write-verify per failure probability) are a list
of independent :class:`StudyCase` s; ``--dask`` runs each as one Dask task
(:mod:`verif.distributed`: a LocalCluster, or ``--scheduler tcp://host:8786``), which gives the
same tables (the dies are seeded per case) in less wall time; the dies/s column then measures a
worker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.design.macro import MacroDesign
from sim_models import DeviceParams, Die, calibration_study, write_verify_study

_ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "MKL_NUM_THREADS")}


def _single_threaded() -> bool:
    return all(os.environ.get(k) == v for k, v in _ONE_THREAD.items())


def _measure_vmm_per_s(device: DeviceParams, batch: int, repeats: int, seed: int) -> float:
    config = profile_config("full")
    rng = np.random.default_rng(seed)
    g = MacroDesign.derive(config, device).golden(seed=seed)
    g.array.load_weights(rng.integers(0, 2, (config.rows, config.cols)))
    x = rng.integers(0, 2, (batch, config.rows)).astype(np.uint8)
    g.vmm_batch(x[:100])                      # warm up (and build the cached matrices)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        g.vmm_batch(x)
        best = min(best, time.perf_counter() - t0)
    return batch / best


def golden_vmm_per_s(device: DeviceParams, *, batch: int = 20_000, repeats: int = 5,
                     seed: int = 0, one_core: bool = True) -> float:
    """64x64 binary VMMs per second of :meth:`GoldenMacro.vmm_batch` (best of ``repeats``)."""
    if not one_core or _single_threaded():
        return _measure_vmm_per_s(device, batch, repeats, seed)
    args = json.dumps({"device": device.to_dict(), "batch": batch, "repeats": repeats,
                       "seed": seed})
    out = subprocess.run([sys.executable, "-m", "verif.bench_golden", "--measure", args],
                         env={**os.environ, **_ONE_THREAD}, check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _measure_host_vmm_per_s(device: DeviceParams, batch: int, repeats: int,
                            seed: int) -> tuple[float, float]:
    """(host API, golden model) VMMs per second: :meth:`Macro.vmm` on the golden backend and
    that backend's own :meth:`GoldenMacro.vmm_batch`, same die, weights and inputs, the two
    timed alternately in one process (best of ``repeats`` each), so load affects both alike."""
    from mram_macro.host import Macro

    config = profile_config("full")
    rng = np.random.default_rng(seed)
    with Macro.golden(config, device=device, seed=seed) as m:
        m.write_weights(rng.choice((-1, 1), (config.rows, config.cols)))
        x = rng.choice((-1, 1), (batch, config.rows))
        bits = (x > 0).astype(np.uint8)
        golden = m.backend.golden
        m.vmm(x[:100])                            # warm up (and build the cached matrices)
        golden.vmm_batch(bits[:100])
        host = direct = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            m.vmm(x)
            host = min(host, time.perf_counter() - t0)
            t0 = time.perf_counter()
            golden.vmm_batch(bits)
            direct = min(direct, time.perf_counter() - t0)
    return batch / host, batch / direct


def host_vmm_per_s(device: DeviceParams, *, batch: int = 10_000, repeats: int = 7,
                   seed: int = 0, one_core: bool = True) -> tuple[float, float]:
    """64x64 binary VMMs per second of the host API (``Macro.golden(...).vmm``, ±1 inputs,
    validated) and of the golden model's batch call it wraps, measured in the same run."""
    if not one_core or _single_threaded():
        return _measure_host_vmm_per_s(device, batch, repeats, seed)
    args = json.dumps({"device": device.to_dict(), "batch": batch, "repeats": repeats,
                       "seed": seed, "host": True})
    out = subprocess.run([sys.executable, "-m", "verif.bench_golden", "--measure", args],
                         env={**os.environ, **_ONE_THREAD}, check=True, capture_output=True,
                         text=True)
    host, direct = out.stdout.strip().splitlines()[-1].split()
    return float(host), float(direct)


def dies_sampled_per_s(device: DeviceParams, *, dies: int = 200, seed: int = 0) -> float:
    """64x64 dies sampled per second (every MTJ, fault and comparator offset)."""
    t0 = time.perf_counter()
    for k in range(dies):
        Die.sample(64, 64, device, seed=seed + k)
    return dies / (time.perf_counter() - t0)


WRITE_FAIL_PROBABILITIES = (0.01, 0.10, 0.30)


@dataclass(frozen=True)
class StudyCase:
    """One line of a Monte Carlo table: a calibration study of ``device`` (``kind="cal"``) or a
    write-verify study at failure probability ``p_fail`` (``kind="wv"``)."""

    kind: str
    name: str
    device: DeviceParams
    dies: int
    test_vectors: int = 0
    keep_parity: bool = True
    p_fail: float = 0.0
    double_pulse: bool = True


@dataclass(frozen=True)
class StudyResult:
    case: StudyCase
    #: The table's numbers (deterministic: the dies are seeded per case).
    values: tuple[float, ...]
    #: Dies per second of the calibration study (a timing, not part of :attr:`values`).
    dies_per_s: float = 0.0

    def line(self) -> str:
        c, v = self.case, self.values
        if c.kind == "cal":
            return (f"| {c.name} | {'even steps' if c.keep_parity else 'nearest'} | "
                    f"{v[0]:.3f} | {v[1]:.3f} | {v[2]:.3f} | {v[3]:.3f} | "
                    f"{100 * v[4]:.1f} % | {100 * v[5]:.1f} % | "
                    f"{100 * v[6]:.1f} % | {100 * v[7]:.1f} % | {self.dies_per_s:.0f} |")
        return (f"| {c.name} | {100 * c.p_fail:.0f} % | {'yes' if c.double_pulse else 'no'} | "
                f"{v[0]:.2f} | {v[1]:.0f} | {v[2]:.2e} | {v[3]:.2e} | {v[4]:.2e} | {v[5]:.2e} |")


def study_cases(*, dies: int = 200, test_vectors: int = 1024, wv_dies: int = 8) -> list[StudyCase]:
    """Every line of the calibration and write-verify tables, in table order."""
    paper = DeviceParams.paper()
    cases = [StudyCase("cal", name, device, dies, test_vectors, keep_parity=parity)
             for name, device, parity in (
                 ("paper sigma", paper, True), ("paper sigma", paper, False),
                 ("paper sigma + 1 mV comparator offsets",
                  paper.replace(comparator_offset_sigma_V=1e-3), True),
                 ("paper sigma at 85 C", paper.replace(temperature_C=85.0), True))]
    for spread, device in (("none", DeviceParams()), ("paper", paper)):
        for p in WRITE_FAIL_PROBABILITIES:
            for doubling in (True, False):
                if spread == "paper" and not doubling:
                    continue
                cases.append(StudyCase("wv", spread, device, wv_dies, p_fail=p,
                                       double_pulse=doubling))
    return cases


def study_case(case: StudyCase) -> StudyResult:
    """Run one Monte Carlo study case (also as a Dask task)."""
    if case.kind == "cal":
        design = MacroDesign.derive(profile_config("full"), case.device)
        s = calibration_study(design.config, case.device, dies=case.dies,
                              test_vectors=case.test_vectors, keep_parity=case.keep_parity,
                              registers=design.register_state)
        b, a = s.before, s.after
        return StudyResult(case, (b.mean_abs, a.mean_abs, b.rms, a.rms, b.exact_fraction,
                                  a.exact_fraction, b.within_2_fraction, a.within_2_fraction),
                           dies_per_s=s.dies_per_s)
    if case.kind == "wv":
        s = write_verify_study(64, 64, case.device, p_fail=case.p_fail, dies=case.dies,
                               double_pulse=case.double_pulse)
        return StudyResult(case, (s.mean_retries_per_row, s.max_retries_seen, s.raw_error_rate,
                                  s.residual_error_rate, s.reported_rate, s.false_fail_rate))
    raise ValueError(f"study kind must be 'cal' or 'wv', not {case.kind!r}")


def study_lines(*, dies: int = 200, test_vectors: int = 1024, wv_dies: int = 8,
                client=None, progress: bool = False) -> list[str]:
    """The calibration and write-verify tables; with a Dask ``client`` each line is a task."""
    cases = study_cases(dies=dies, test_vectors=test_vectors, wv_dies=wv_dies)
    if client is None:
        results = [study_case(c) for c in cases]
    else:
        from verif.distributed import run_tasks
        results = run_tasks(client, study_case, cases, desc="monte carlo", progress=progress)
    cal = [r.line() for r in results if r.case.kind == "cal"]
    wv = [r.line() for r in results if r.case.kind == "wv"]
    return [f"calibration over {dies} dies (random weights, 16 complementary pairs, "
            f"{test_vectors} test vectors per die); result error = y_macro - y_exact:",
            "| device | offsets | mean abs before | after | RMS before | after | "
            "exact before | after | abs <= 2 before | after | dies/s |",
            "|---|---|---|---|---|---|---|---|---|---|---|", *cal,
            f"write-verify, 64x64, fresh dies, random weights, {wv_dies} dies per line, "
            f"WRITE_PULSE_CYCLES 4 (20 ns), MAX_RETRIES 3; p_fail = failure probability "
            f"of one 20 ns pulse (thermal model, write current chosen to match):",
            "| spread | p_fail | doubling | mean retries / row | max | raw error rate | "
            "residual error rate | reported | false fails |",
            "|---|---|---|---|---|---|---|---|---|", *wv]


def verify_false_alarm_lines(*, dies: int = 8, seed: int = 0) -> list[str]:
    """Write-verify false alarms of the shipped builds (issue 22): random weights written
    through the host API's golden backend (register reset values) into paper-spread dies, per
    TDC mode. The weights are checked against what the dies hold, so every reported cell that
    holds its weight is a false alarm."""
    from mram_macro.host import Macro

    paper = DeviceParams.paper()
    lines = [f"write-verify false alarms of the shipped builds (host API, golden backend, "
             f"64x64, paper sigma, register reset values, {dies} dies):",
             "| build | reported cells / die | per cell | retries / row | wrong weights / die |",
             "|---|---|---|---|---|"]
    for mode in ("two_step", "counter"):
        config = profile_config("full", tdc_mode=mode)
        reported = retries = wrong = 0
        for die in range(dies):
            w = np.random.default_rng([seed, die]).choice((-1, 1), (config.rows, config.cols))
            with Macro.golden(config, device=paper, seed=seed + die) as m:
                m.write_weights(w)
                status = m.status()
                reported += status.wv_fail_count
                retries += status.wv_retry_count
                wrong += int((m.backend.golden.weights.astype(int) * 2 - 1 != w).sum())
        cells = dies * config.rows * config.cols
        label = f"{mode}{' (default)' if mode == MacroConfig().tdc_mode else ''}"
        lines.append(f"| {label} | {reported / dies:.2f} | {reported / cells:.1e} | "
                     f"{retries / dies / config.rows:.3f} | {wrong / dies:.2f} |")
    return lines


def report_lines(*, dies: int = 200, test_vectors: int = 1024, wv_dies: int = 8) -> list[str]:
    """Every model number, as printable lines."""
    paper = DeviceParams.paper()
    lines = []
    ideal_rate = golden_vmm_per_s(DeviceParams())
    paper_rate = golden_vmm_per_s(paper)
    noisy = paper.replace(comparator_noise_rms_V=0.2e-3, tdc_jitter_rms_ns=0.5)
    noisy_rate = golden_vmm_per_s(noisy, batch=5_000, repeats=3)
    host_rate, batch_rate = host_vmm_per_s(paper)
    lines += [
        f"golden model, ideal                  : {ideal_rate / 1e6:.2f} M VMM/s "
        f"(64x64, batches of 20000, one core)",
        f"golden model, paper sigma            : {paper_rate / 1e6:.2f} M VMM/s",
        f"golden model, + noise and jitter     : {noisy_rate / 1e6:.2f} M VMM/s "
        f"(per-evaluation random numbers)",
        f"host API Macro.vmm, golden backend   : {host_rate / 1e6:.2f} M VMM/s against "
        f"{batch_rate / 1e6:.2f} M for its GoldenMacro.vmm_batch, same run "
        f"({batch_rate / host_rate:.2f}x; paper sigma, +-1 inputs validated, batches of 10000)",
        f"die sampling (64x64, paper sigma)    : {dies_sampled_per_s(paper):.0f} dies/s",
    ]
    lines += study_lines(dies=dies, test_vectors=test_vectors, wv_dies=wv_dies)
    lines += verify_false_alarm_lines(dies=wv_dies)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_golden", description=__doc__)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--dies", type=int, default=200, help="dies per calibration study")
    parser.add_argument("--wv-dies", type=int, default=8, help="dies per write-verify line")
    parser.add_argument("--dask", action="store_true",
                        help="only the Monte Carlo tables, each line one Dask task")
    parser.add_argument("--scheduler", default=None,
                        help="with --dask: scheduler address (default: a LocalCluster)")
    parser.add_argument("--jobs", type=int, default=2, help="with --dask: LocalCluster workers")
    args = parser.parse_args(argv)
    if args.measure:
        spec = json.loads(args.measure)
        if spec.get("host"):
            print(*_measure_host_vmm_per_s(DeviceParams(**spec["device"]), spec["batch"],
                                           spec["repeats"], spec["seed"]))
            return 0
        print(_measure_vmm_per_s(DeviceParams(**spec["device"]), spec["batch"],
                                 spec["repeats"], spec["seed"]))
        return 0
    if not _single_threaded():        # measure everything on one core
        return subprocess.run([sys.executable, "-m", "verif.bench_golden", *(argv or sys.argv[1:])],
                              env={**os.environ, **_ONE_THREAD}).returncode
    if args.dask:
        from verif.distributed import dask_client

        t0 = time.perf_counter()
        with dask_client(args.scheduler, workers=args.jobs) as client:
            cores = sum(w.get("nthreads", 1)
                        for w in client.scheduler_info()["workers"].values())
            lines = study_lines(dies=args.dies, wv_dies=args.wv_dies, client=client,
                                progress=True)
        for line in lines:
            print(line, flush=True)
        print(f"Monte Carlo tables on {cores} Dask core(s): wall {time.perf_counter() - t0:.1f} s")
        return 0
    for line in report_lines(dies=args.dies, wv_dies=args.wv_dies):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
