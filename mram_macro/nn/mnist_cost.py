"""The MNIST network's cost on the macro: the gate-level PPA of its own passes on its build
(:func:`measure_network_ppa`, ``python -m mram_macro.nn.mnist_bench ppa``, saved to
:data:`PPA_JSON`) and the passes, row writes, cycles, energy and latency per image on one macro
and on a weight-stationary bank (:func:`cost_per_inference`), from the tiling schedule and the
published PPA results.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mram_macro.design.config import MacroConfig
from mram_macro.nn.mnist_bnn import BUILD, layer_plans, macros_needed
from mram_macro.nn.train import BinaryMLP
from sim_models.calibration import gain_reference_patterns

__all__ = ["PPA_JSON", "PPA_WINDOW_IMAGES", "cost_per_inference", "measure_network_ppa",
           "measured_network_ppa"]

#: The MNIST build's gate-level PPA on the headline library (``python -m mram_macro.nn.mnist_bench
#: ppa``): one record per workload, ``mnist`` (this network's passes, the cost's source) and
#: ``random`` (random VMMs on the same build, for comparison).
PPA_JSON = Path(__file__).resolve().parents[2] / "docs" / "mnist" / "ppa_mnist.json"
#: VMMs in its power window: two images' passes (every tile twice).
PPA_WINDOW_IMAGES = 2


def cost_per_inference(net: BinaryMLP, config: MacroConfig = BUILD, *, batch: int = 10_000):
    """Passes, weight-row writes, cycles, energy and latency per image from the tiling
    schedule and the published PPA results (docs/ppa/ppa.json), on one macro and on a
    weight-stationary bank of :func:`macros_needed` macros."""
    from mram_macro.flow.ppa.report import inference_cost, published_results
    from mram_macro.nn.tiling import Schedule

    plans = layer_plans(net, config)
    sched = Schedule(plans, batch=batch)
    n_macros = macros_needed(net, config)
    # Gain calibration (BankLayer's default n_pairs): the offset pairs plus a per-column ladder.
    cal_passes = sum(p.tiles for p in plans) * len(gain_reference_patterns(
        np.ones((config.rows, config.cols), np.uint8), n_pairs=16, per_column=2))
    out = {"passes_per_image": sched.passes / batch, "tiles": [p.tiles for p in plans],
           "macros": n_macros, "row_writes_per_batch_one_macro": sched.row_writes,
           "calibration_passes_per_batch_one_macro": cal_passes,
           "batch": batch, "schedule_table": sched.table(), "libraries": []}
    measured = measured_network_ppa(config)
    if "mnist" in measured:
        r = measured["mnist"]
        e_one, t_one = inference_cost(r, vmms=sched.passes + cal_passes,
                                      row_writes=sched.row_writes)
        e_bank, _ = inference_cost(r, vmms=sched.passes, row_writes=0)
        rnd = measured.get("random")
        out["measured"] = {
            "title": r["title"], "period_ns": r["period_ns"], "config": config.slug,
            "cycles_per_vmm": r["cycles_per_vmm"],
            "vmm_digital_J": r["digital_J"]["total"], "vmm_analog_J": r["analog_J"]["per_vmm_J"],
            "vmm_energy_J": r["total_J"],
            "random_vmm_digital_J": None if rnd is None else rnd["digital_J"]["total"],
            "random_vmm_analog_J": None if rnd is None else rnd["analog_J"]["per_vmm_J"],
            "one_macro_energy_per_image_J": e_one / batch,
            "one_macro_latency_per_image_ns": t_one / batch,
            "bank_energy_per_image_J": e_bank / batch,
            "bank_latency_per_image_ns": len(plans) * r["latency_ns"],
            "tops_per_W": r["tops_per_W"]}
    for r in published_results():
        vmms_one = sched.passes + cal_passes
        e_one, t_one = inference_cost(r, vmms=vmms_one, row_writes=sched.row_writes)
        # The bank: every tile written and calibrated once per die (not per batch); a layer's
        # tiles run in parallel, the two layers one after the other.
        e_bank, _ = inference_cost(r, vmms=sched.passes, row_writes=0)
        out["libraries"].append({
            "title": r["title"], "period_ns": r["period_ns"],
            "cycles_per_vmm": r["cycles_per_vmm"], "vmm_energy_J": r["total_J"],
            "ppa_config": MacroConfig.from_dict(r["config"]).slug, "workload": r.get("workload"),
            "one_macro_energy_per_image_J": e_one / batch,
            "one_macro_latency_per_image_ns": t_one / batch,
            "one_macro_cycles_per_image": vmms_one * r["cycles_per_vmm"] / batch,
            "bank_energy_per_image_J": e_bank / batch,
            "bank_latency_per_image_ns": len(plans) * r["latency_ns"],
            "bank_interval_per_image_ns": r["latency_ns"],
            # Row tiles summed in one accumulator (BankLayer.run_accumulated, on-chip
            # thresholds): every hidden row tile written again for every image.
            "accumulate_row_writes_per_image": plans[0].row_writes,
            "accumulate_write_energy_per_image_J":
                plans[0].row_writes * r["analog_J"]["write_row_J"],
        })
    return out



def published_cost(results: dict, config: MacroConfig = BUILD) -> dict:
    """:func:`cost_per_inference` of the network ``results`` (docs/mnist/results.json) was
    measured on, from the currently published PPA: the cost depends on the layers' sizes (the
    tiling schedule), not on the trained weights, so no training is needed."""
    from mram_macro.nn.train import BinaryMLP

    hidden, classes = results["hidden"], 10
    shape_only = BinaryMLP(w1=np.ones((784, hidden), np.int8), t1=np.zeros(hidden, np.int64),
                           w2=np.ones((hidden, classes), np.int8), scale=np.ones(classes),
                           bias=np.zeros(classes))
    return cost_per_inference(shape_only, config, batch=results["cost"]["batch"])


def measure_network_ppa(net: BinaryMLP, *, out: Path = Path("build/ppa_mnist"),
                        workloads=("mnist", "random"), path: Path | None = None,
                        progress=print):
    """The MNIST build's PPA (:func:`mram_macro.flow.ppa.report.measure` on the headline library:
    sign-off synthesis, gate-level activity, Liberty-table energy) with this network's passes
    and with random VMMs, saved to ``path`` (what :func:`cost_per_inference` reads)."""
    from mram_macro.flow.ppa.libraries import HEADLINE_LIBRARY
    from mram_macro.flow.ppa.report import measure

    passes = sum(p.tiles for p in layer_plans(net, BUILD))
    records = []
    for workload in workloads:
        progress(f"   gate-level PPA of {BUILD.slug} with the {workload} workload ...")
        r = measure(HEADLINE_LIBRARY, out, vmms=PPA_WINDOW_IMAGES * passes, config=BUILD,
                    workload=workload, extra_runs=False)
        records.append(r)
        progress(f"   {workload}: {r['digital_J']['total'] * 1e12:.1f} pJ digital + "
                 f"{r['analog_J']['per_vmm_J'] * 1e12:.1f} pJ analogue per VMM")
    path = PPA_JSON if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(records, indent=1) + "\n")
    tmp.rename(path)
    return records


def measured_network_ppa(config: MacroConfig = BUILD,
                         path: Path | None = None) -> dict[str, dict]:
    """The records of :func:`measure_network_ppa` (in ``path``, default :data:`PPA_JSON`) for
    ``config``, by workload ({} if none)."""
    path = PPA_JSON if path is None else path
    if not path.is_file():
        return {}
    return {r["workload"]: r for r in json.loads(path.read_text())
            if MacroConfig.from_dict(r["config"]) == config}


