"""Model benchmarks: golden-model throughput, Monte Carlo speed, calibration, write-verify.

``python -m verif.bench_golden`` prints every number; ``make bench`` calls
:func:`golden_vmm_per_s` (and may print :func:`report_lines`).

Throughput is measured on one core: BLAS would otherwise spread the matrix products over every
core (and, on a loaded two-core machine, run slower). A measurement therefore runs in a child
process with ``OPENBLAS_NUM_THREADS=1`` unless this process already has it (``main`` re-runs
itself that way, so the Monte Carlo numbers are one-core numbers too).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from mram_macro.config import MacroConfig
from sim_models import DeviceParams, Die, GoldenMacro, calibration_study, write_verify_study

_ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "MKL_NUM_THREADS")}


def _single_threaded() -> bool:
    return all(os.environ.get(k) == v for k, v in _ONE_THREAD.items())


def _measure_vmm_per_s(device: DeviceParams, batch: int, repeats: int, seed: int) -> float:
    config = MacroConfig()
    rng = np.random.default_rng(seed)
    g = GoldenMacro(config, device, seed=seed)
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


def dies_sampled_per_s(device: DeviceParams, *, dies: int = 200, seed: int = 0) -> float:
    """64x64 dies sampled per second (every MTJ, fault and comparator offset)."""
    t0 = time.perf_counter()
    for k in range(dies):
        Die.sample(64, 64, device, seed=seed + k)
    return dies / (time.perf_counter() - t0)


WRITE_FAIL_PROBABILITIES = (0.01, 0.10, 0.30)


def report_lines(*, dies: int = 200, test_vectors: int = 1024, wv_dies: int = 8) -> list[str]:
    """Every model number, as printable lines."""
    config = MacroConfig()
    paper = DeviceParams.paper()
    lines = []
    ideal_rate = golden_vmm_per_s(DeviceParams())
    paper_rate = golden_vmm_per_s(paper)
    noisy = paper.replace(comparator_noise_rms_V=0.2e-3, tdc_jitter_rms_ns=0.5)
    noisy_rate = golden_vmm_per_s(noisy, batch=5_000, repeats=3)
    lines += [
        f"golden model, ideal                  : {ideal_rate / 1e6:.2f} M VMM/s "
        f"(64x64, batches of 20000, one core)",
        f"golden model, paper sigma            : {paper_rate / 1e6:.2f} M VMM/s",
        f"golden model, + noise and jitter     : {noisy_rate / 1e6:.2f} M VMM/s "
        f"(per-evaluation random numbers)",
        f"die sampling (64x64, paper sigma)    : {dies_sampled_per_s(paper):.0f} dies/s",
    ]
    lines.append(f"calibration over {dies} dies (random weights, 16 complementary pairs, "
                 f"{test_vectors} test vectors per die); result error = y_macro - y_exact:")
    lines.append("| device | offsets | mean abs before | after | RMS before | after | "
                 "exact before | after | abs <= 2 before | after | dies/s |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    cases = (("paper sigma", paper, True), ("paper sigma", paper, False),
             ("paper sigma + 1 mV comparator offsets",
              paper.replace(comparator_offset_sigma_V=1e-3), True),
             ("paper sigma at 85 C", paper.replace(temperature_C=85.0), True))
    for name, device, parity in cases:
        s = calibration_study(config, device, dies=dies, test_vectors=test_vectors,
                              keep_parity=parity)
        b, a = s.before, s.after
        lines.append(f"| {name} | {'even steps' if parity else 'nearest'} | "
                     f"{b.mean_abs:.3f} | {a.mean_abs:.3f} | {b.rms:.3f} | {a.rms:.3f} | "
                     f"{100 * b.exact_fraction:.1f} % | {100 * a.exact_fraction:.1f} % | "
                     f"{100 * b.within_2_fraction:.1f} % | {100 * a.within_2_fraction:.1f} % | "
                     f"{s.dies_per_s:.0f} |")
    lines.append(f"write-verify, 64x64, fresh dies, random weights, {wv_dies} dies per line, "
                 f"WRITE_PULSE_CYCLES 4 (20 ns), MAX_RETRIES 3; p_fail = failure probability "
                 f"of one 20 ns pulse (thermal model, write current chosen to match):")
    lines.append("| spread | p_fail | doubling | mean retries / row | max | raw error rate | "
                 "residual error rate | reported | false fails |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for spread, device in (("none", DeviceParams()), ("paper", paper)):
        for p in WRITE_FAIL_PROBABILITIES:
            for doubling in (True, False):
                if spread == "paper" and not doubling:
                    continue
                s = write_verify_study(64, 64, device, p_fail=p, dies=wv_dies,
                                       double_pulse=doubling)
                lines.append(
                    f"| {spread} | {100 * p:.0f} % | {'yes' if doubling else 'no'} | "
                    f"{s.mean_retries_per_row:.2f} | {s.max_retries_seen} | "
                    f"{s.raw_error_rate:.2e} | {s.residual_error_rate:.2e} | "
                    f"{s.reported_rate:.2e} | {s.false_fail_rate:.2e} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_golden", description=__doc__)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--dies", type=int, default=200, help="dies per calibration study")
    parser.add_argument("--wv-dies", type=int, default=8, help="dies per write-verify line")
    args = parser.parse_args(argv)
    if args.measure:
        spec = json.loads(args.measure)
        print(_measure_vmm_per_s(DeviceParams(**spec["device"]), spec["batch"],
                                 spec["repeats"], spec["seed"]))
        return 0
    if not _single_threaded():        # measure everything on one core
        return subprocess.run([sys.executable, "-m", "verif.bench_golden", *(argv or sys.argv[1:])],
                              env={**os.environ, **_ONE_THREAD}).returncode
    for line in report_lines(dies=args.dies, wv_dies=args.wv_dies):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
