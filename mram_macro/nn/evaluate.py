"""Run the trained networks on macros and compare accuracies (software, golden, RTL)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import profile_config
from mram_macro.host import Macro
from mram_macro.nn.tiling import run_int_layer, run_pm1_layer
from mram_macro.nn.train import BinaryMLP, IntMLP

#: The build the networks run on: on-chip sign activations (MODE.ACTIVATION) for the hidden
#: layer, multi-bit inputs for the integer network (the default, plain macro has neither).
NETWORK_CONFIG = profile_config("full")

__all__ = ["run_binary_network", "run_int_network", "DieStudy", "die_study"]


def output_replicas(n_out: int, cols: int) -> int:
    """Copies of an ``n_out``-column output layer that fit one column tile (at least 1)."""
    return max(1, cols // n_out)


def run_replicated(macro: Macro, w_pm1, x_pm1, *, replicas: int, calibrate: bool):
    """``x @ w`` computed on ``replicas`` copies of ``w`` in different columns, summed and
    divided by ``replicas``: the copies' cells differ, so their errors partly average out.
    Exact (``x @ w`` itself, as floats) in ideal mode."""
    w = np.asarray(w_pm1)
    y = run_pm1_layer(macro, np.tile(w, (1, replicas)), x_pm1, calibrate=calibrate)
    return y.reshape(len(y), replicas, w.shape[1]).sum(axis=1) / replicas


def run_binary_network(macro: Macro, model: BinaryMLP, x_pm1, *, calibrate: bool = True,
                       replicate_output: bool = True):
    """Predicted classes, hidden activations and output sums ``(pred, h, y2)``, every dot
    product computed by ``macro``. The hidden layer's sign activations with their thresholds
    (the folded batch norm) run in the macro's activation mode (one bit per column leaves
    it); the output affine and argmax run on the host. The output layer (10 columns) is
    replicated into the unused columns of its tile (``replicate_output``)."""
    h = run_pm1_layer(macro, model.w1, x_pm1, calibrate=calibrate, thresholds=model.t1)
    reps = output_replicas(model.w2.shape[1], macro.cols) if replicate_output else 1
    y2 = run_replicated(macro, model.w2, h, replicas=reps, calibrate=calibrate)
    return model.classify(y2), h, y2


def run_int_network(macro: Macro, model: IntMLP, x_int, *, calibrate: bool = True):
    y1 = run_int_layer(macro, model.w1, x_int, weight_bits=model.weight_bits,
                       input_bits=model.input_bits, calibrate=calibrate)
    reps = output_replicas(model.w2.shape[1], macro.cols)
    y2 = run_replicated(macro, model.w2, model.hidden(y1), replicas=reps, calibrate=calibrate)
    return model.classify(y2), y1, y2


@dataclass(frozen=True)
class DieStudy:
    """Accuracy on each of several dies."""

    accuracies: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.accuracies.mean())

    @property
    def min(self) -> float:
        return float(self.accuracies.min())


def die_study(model, x, labels, *, device, dies: int, calibrate: bool, seed: int = 1000,
              config=None) -> DieStudy:
    """Accuracy of ``model`` on ``dies`` golden dies of ``device`` (seeds ``seed + i``), built
    as ``config`` (default :data:`NETWORK_CONFIG`)."""
    config = config or NETWORK_CONFIG
    run = run_int_network if isinstance(model, IntMLP) else run_binary_network
    acc = []
    for i in range(dies):
        with Macro.golden(config, device=device, seed=seed + i) as m:
            pred, _, _ = run(m, model, x, calibrate=calibrate)
            acc.append(float(np.mean(pred == labels)))
    return DieStudy(np.array(acc))
