"""Golden-model throughput: 64x64 binary VMMs per second in batches, on one core."""

from __future__ import annotations

import time

import numpy as np

from mram_macro.config import MacroConfig
from sim_models import DeviceParams, GoldenMacro


def golden_vmm_per_s(device: DeviceParams, *, batch: int = 20_000, repeats: int = 5,
                     seed: int = 0) -> float:
    config = MacroConfig()
    rng = np.random.default_rng(seed)
    g = GoldenMacro(config, device, seed=seed)
    g.array.load_weights(rng.integers(0, 2, (config.rows, config.cols)))
    x = rng.integers(0, 2, (batch, config.rows)).astype(np.uint8)
    g.vmm_batch(x[:100])                      # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        g.vmm_batch(x)
        best = min(best, time.perf_counter() - t0)
    return batch / best
