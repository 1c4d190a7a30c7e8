"""``make mnist``: the paper's two-layer binarised perceptron on MNIST, trained in the kit and run
on a bank of macros (golden model; a slice on the RTL), with the cost per inference.

The network (the paper gives no layer sizes; these are the kit's):

* **Preprocessing**: each 28x28 image is binarised at pixel > 127 into 784 ±1 inputs. No
  cropping or down-sampling: the layer is the paper's 784-input layer, 13 row tiles of 64.
* **Hidden layer**: :data:`HIDDEN` = 64 sign units. 64 fills one column tile exactly, so the
  first layer is 13 macros (12 full row tiles and one of 16 rows) and the output layer one more
  (64 x 10, replicated 6 times across the tile's columns and averaged). A wider hidden layer
  costs another 13 macros per 64 units for about one point of accuracy.
* **Training**: NumPy, straight-through binarised weights (:func:`mram_macro.nn.train.
  train_binary`), :data:`EPOCHS` epochs of minibatches of :data:`BATCH`, variation-aware:
  Gaussian noise of :data:`TRAIN_NOISE` (in units of the integer sum) is added to the
  pre-activations in training. The measured RMS error of the 13-tile sum on the paper's
  spread is 6-7 at 25 C and about 8 at 85 C with tracking; training at 10 (a margin above
  that) buys robustness for 0.1-0.2 pt of software accuracy (7.5 gave 93.28 % in software
  but a 0.55 pt gap on 2 dies; 10 gives 93.14 % and 0.43 pt on 4 dies; 0 gives 92.83 %).

The build (:data:`BUILD`): the ``tracker`` feature profile, the default two-step TDC with
``calibration="gain"`` and the temperature tracker, **not** the default macro. The default build
calibrates offsets only; at 85 C the MTJ's TMR falls about 12 %, every tile's counts shrink with
it, and 13 tiles add their errors (a bias of about +95 on each hidden pre-activation): accuracy
falls to chance even when recalibrated for offsets. A gain build with tracking follows the fall
in the macro (a replica-column retrim every :data:`TRACK_INTERVAL` passes) without the host
recalibrating. Until this release the report ran the counter TDC's gain build: both TDCs resolve
every count, so the golden results are the same die for die and image for image (checked on
2,000 digits x 2 dies at 25 and 85 C, and on VGG-8), but the counter TDC takes 118 cycles per
pass where the two-step one takes about 20, and the gate-level energy per pass is about 5x
(``make mnist-ppa`` measured both).

Every dot product goes through the host API (:class:`mram_macro.host.Bank`); thresholds of the
hidden layer (13 row tiles, summed on the host) and the output affine run on the host.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim_models.calibration import gain_reference_patterns
from sim_models.device import PAPER_SIGMA_HIGH_OHM, PAPER_SIGMA_LOW_OHM, DeviceParams

from ..config import MacroConfig, profile_config
from ..host import Bank, HostError
from .evaluate import output_replicas
from .mnist import FILE_SHA256, MODEL_CACHE, Mnist, binarise, load_mnist
from .train import BinaryMLP, train_binary

__all__ = ["HIDDEN", "EPOCHS", "BATCH", "TRAIN_NOISE", "BUILD", "TRACK_INTERVAL", "HOT_C",
           "MODEL_CACHE", "network_passes",
           "train_mnist_bnn", "run_bnn", "DieResult", "evaluate_die", "macros_needed",
           "PAPER_RESULTS"]

HIDDEN = 64
EPOCHS = 30
BATCH = 256
TRAIN_SEED = 0
#: Training noise on (hidden, output) pre-activations, in units of the integer sum.
TRAIN_NOISE = (10.0, 3.0)
#: The build ``make mnist`` runs (see the module docstring for why not the default).
BUILD = profile_config("tracker")
#: Passes between two retrims of the tracker.
TRACK_INTERVAL = 16
#: The hot corner of the report.
HOT_C = 85.0
#: The paper's MNIST figures (Jung et al., Nature 601, 2022), percent.
PAPER_RESULTS = {"mlp_chip": 93.23, "mlp_software": 95.24, "vgg8_chip": 98.86,
                 "vgg8_software": 99.28}


def _model_key() -> str:
    spec = json.dumps([HIDDEN, EPOCHS, BATCH, TRAIN_SEED, TRAIN_NOISE, sorted(FILE_SHA256.items()),
                       Path(__file__).with_name("train.py").read_text()])
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def train_mnist_bnn(data: Mnist, *, cache_dir: Path | None = MODEL_CACHE,
                    progress=None) -> BinaryMLP:
    """The report's network, trained (``progress(epoch, epochs)``) or loaded from
    ``cache_dir`` (keyed by the training settings, the data hashes and the trainer's source)."""
    path = cache_dir / f"bnn-{_model_key()}.npz" if cache_dir is not None else None
    if path is not None and path.is_file():
        z = np.load(path)
        return BinaryMLP(w1=z["w1"], t1=z["t1"], w2=z["w2"], scale=z["scale"], bias=z["bias"],
                         meta={"hidden": HIDDEN, "epochs": EPOCHS, "cached": str(path)})
    net = train_binary(binarise(data.x_train).astype(np.int64), data.y_train, hidden=HIDDEN,
                       epochs=EPOCHS, seed=TRAIN_SEED, noise_sigma=TRAIN_NOISE, batch=BATCH,
                       progress=progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part.npz")
        np.savez(tmp, w1=net.w1, t1=net.t1, w2=net.w2, scale=net.scale, bias=net.bias)
        tmp.rename(path)
    return net


def layer_weights(net: BinaryMLP, config: MacroConfig = BUILD) -> tuple[np.ndarray, np.ndarray]:
    """The ±1 weights of the two layers as placed on ``config`` macros: the hidden layer's, and
    the output layer's replicated across a column tile (:func:`output_replicas`)."""
    return net.w1, np.tile(net.w2, (1, output_replicas(net.w2.shape[1], config.cols)))


def layer_plans(net: BinaryMLP, config: MacroConfig = BUILD):
    """How the two layers tile ``config`` macros (:func:`~mram_macro.nn.tiling.plan_layer`)."""
    from .tiling import plan_layer

    return tuple(plan_layer(*w.shape, rows=config.rows, cols=config.cols)
                 for w in layer_weights(net, config))


def macros_needed(net: BinaryMLP, config: MacroConfig = BUILD) -> int:
    """Macros for a weight-stationary bank: the first layer's tiles plus the output layer's."""
    return sum(p.tiles for p in layer_plans(net, config))


@dataclass
class PlacedBnn:
    """The network's two layers on a bank."""

    bank: Bank
    net: BinaryMLP
    hidden: object
    output: object
    replicas: int

    def run(self, x_pm1):
        """``(pred, h, y2)``: classes, hidden activations, output sums (replica average)."""
        h = self.hidden.run(x_pm1, thresholds=self.net.t1)
        y2 = self.output.run(h)
        y2 = y2.reshape(len(h), self.replicas, -1).sum(axis=1) / self.replicas
        return self.net.classify(y2), h, y2

    def set_tracking(self, on: bool) -> None:
        for m in self.bank.macros:
            m.set_tracking(TRACK_INTERVAL if on else 0)


def place_bnn(bank: Bank, net: BinaryMLP, *, calibrate: bool = True) -> PlacedBnn:
    """Place and load both layers (gain calibration and tracking when ``calibrate`` and the
    build has them, offset calibration on an offset build, nothing when not ``calibrate``)."""
    c = bank.config
    method = ("gain" if c.has_gain else "offset") if calibrate else None
    track = TRACK_INTERVAL if calibrate and c.has_tracker else 0
    w1, w2 = layer_weights(net, c)
    hidden = bank.place(w1, calibrate=method, track_interval=track)
    output = bank.place(w2, calibrate=method, track_interval=track)
    hidden.load()
    output.load()
    return PlacedBnn(bank, net, hidden, output, w2.shape[1] // net.w2.shape[1])


def run_bnn(bank: Bank, net: BinaryMLP, x_pm1, *, calibrate: bool = True):
    """``(pred, h, y2)`` of ``net`` on ``bank`` (see :func:`place_bnn`)."""
    return place_bnn(bank, net, calibrate=calibrate).run(x_pm1)


def paper_device(sigma_scale: float = 1.0, **changes) -> DeviceParams:
    """The paper's device with its cell spread scaled by ``sigma_scale``."""
    if not 0 <= sigma_scale <= 10:
        raise HostError(f"sigma_scale must lie in 0..10, not {sigma_scale!r}")
    return DeviceParams(sigma_low_ohm=PAPER_SIGMA_LOW_OHM * sigma_scale,
                        sigma_high_ohm=PAPER_SIGMA_HIGH_OHM * sigma_scale, **changes)


@dataclass(frozen=True)
class DieResult:
    seed: int
    accuracy: dict     #: condition name -> fraction correct
    pred: dict         #: condition name -> predictions


def evaluate_die(net: BinaryMLP, x_pm1, labels, *, seed: int, sigma_scale: float = 1.0,
                 calibrate: bool = True, temperatures=(), config: MacroConfig = BUILD,
                 keep_pred: bool = False) -> DieResult:
    """One die (``seed``): load the network once at 25 C (calibrated or not), run at 25 C,
    then at each of ``temperatures`` with the tracker on and off (no recalibration).
    Conditions are named ``"25"``, ``"<T>/on"``, ``"<T>/off"``."""
    acc, preds = {}, {}
    with Bank.golden(macros_needed(net, config), config, device=paper_device(sigma_scale),
                     seed=seed) as bank:
        placed = place_bnn(bank, net, calibrate=calibrate)

        def record(name):
            p, _, _ = placed.run(x_pm1)
            acc[name] = float(np.mean(p == labels))
            if keep_pred:
                preds[name] = p

        record("25")
        for t in temperatures:
            bank.set_temperature(float(t))
            for on in (True, False):
                if not config.has_tracker and on:
                    continue
                if config.has_tracker:
                    placed.set_tracking(on and calibrate)
                record(f"{t:g}/{'on' if on else 'off'}")
            bank.set_temperature(25.0)
            if config.has_tracker:
                placed.set_tracking(calibrate)
    return DieResult(seed, acc, preds)


def _timer():
    t0 = time.perf_counter()
    return lambda: time.perf_counter() - t0


# -- the report --------------------------------------------------------------------------------
RESULTS_JSON = Path(__file__).resolve().parents[2] / "docs" / "mnist" / "results.json"
#: The MNIST build's gate-level PPA on the headline library (``python -m mram_macro.nn.mnist_bench
#: ppa``): one record per workload, ``mnist`` (this network's passes, the cost's source) and
#: ``random`` (random VMMs on the same build, for comparison).
PPA_JSON = RESULTS_JSON.with_name("ppa_mnist.json")
#: VMMs in its power window: two images' passes (every tile twice).
PPA_WINDOW_IMAGES = 2
#: Cell-spread multiples of the sigma figure, and temperatures of the temperature figure.
SIGMA_SWEEP = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
TEMPERATURE_SWEEP = (0.0, 25.0, 50.0, 85.0)


def _stats(values) -> dict:
    a = 100 * np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max()),
            "dies": int(a.size), "per_die": [round(float(v), 4) for v in a]}


def cost_per_inference(net: BinaryMLP, config: MacroConfig = BUILD, *, batch: int = 10_000):
    """Passes, weight-row writes, cycles, energy and latency per image from the tiling
    schedule and the published PPA results (docs/ppa/ppa.json), on one macro and on a
    weight-stationary bank of :func:`macros_needed` macros."""
    from ..ppa.report import inference_cost, published_results
    from .tiling import Schedule

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


def network_passes(net: BinaryMLP, x_pm1, config: MacroConfig = BUILD):
    """The network's VMM passes on one ``config`` macro, in the order a weight-stationary bank
    runs them for each image: every tile of the hidden layer, then every tile of the output
    layer on the image's hidden activations, padded as the tiler pads
    (:func:`~mram_macro.nn.tiling.padded_tile`: weight +1, input +1).

    Returns ``(weights, inputs)``: ``weights[i]`` the ``rows x cols`` weight bits of pass ``i``
    (1 = +1), ``inputs[i]`` its ``rows`` input bits; ``len(x_pm1)`` images x passes per image.
    What the gate-level power run of ``make ppa --workload mnist`` streams (the tile of each
    pass loaded by back door into the array model before its evaluation)."""
    from .tiling import padded_tile

    x = np.asarray(x_pm1, dtype=np.int64)
    layer_inputs = (x, net.hidden(x @ net.w1))
    tiles = []          # (weight bits, input bits of every image), in the order they run
    for w, xs, plan in zip(layer_weights(net, config), layer_inputs, layer_plans(net, config),
                           strict=True):
        for rs, cs in plan.tile_slices():
            tw, tx = padded_tile(config, w[rs, cs], xs[:, rs], x_fill=1)
            tiles.append((tw > 0, tx > 0))
    weights = [tw for _ in range(len(x)) for tw, _ in tiles]
    inputs = [tx[i] for i in range(len(x)) for _, tx in tiles]
    return weights, inputs


def measure_network_ppa(net: BinaryMLP, *, out: Path = Path("build/ppa_mnist"),
                        workloads=("mnist", "random"), path: Path | None = None,
                        progress=print):
    """The MNIST build's PPA (:func:`mram_macro.ppa.report.measure` on the headline library:
    sign-off synthesis, gate-level activity, Liberty-table energy) with this network's passes
    and with random VMMs, saved to ``path`` (what :func:`cost_per_inference` reads)."""
    from ..ppa.libraries import HEADLINE_LIBRARY
    from ..ppa.report import measure

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


def _row(name, run_on, images, dies, mean, lo, note=""):
    d = str(dies) if dies else "-"
    return f"| {name} | {run_on} | {images} | {d} | {mean:.2f} | {lo:.2f} | {note} |"


def report(*, dies: int = 20, sweep_dies: int = 3, images: int = 10_000, seed: int = 0,
           figures_dir: Path | None = None, results_json: Path | None = RESULTS_JSON,
           out=print) -> dict:
    """Run everything but the RTL, print the table, write the JSON (and the figures)."""
    for name, v, lo in (("dies", dies, 1), ("sweep_dies", sweep_dies, 1), ("images", images, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, not {v!r}")
    elapsed = _timer()
    data = load_mnist()
    x = binarise(data.x_test[:images]).astype(np.int64)
    labels = data.y_test[:images]
    out(f"== MNIST: {len(data.x_train)} training / {len(x)} test digits; 784 -> {HIDDEN} -> 10 "
        f"binarised perceptron (pixels > 127 -> +1); build {BUILD.slug} "
        f"(calibration='gain', tracker every {TRACK_INTERVAL} passes)")
    net = train_mnist_bnn(data, progress=lambda e, n: out(
        f"   training epoch {e + 1}/{n} ({elapsed():.0f} s)"))
    sw = net.predict(x)
    sw_acc = float(np.mean(sw == labels))
    res = {"build": BUILD.slug, "hidden": HIDDEN, "epochs": EPOCHS, "train_noise": TRAIN_NOISE,
           "track_interval": TRACK_INTERVAL, "images": len(x), "seed": seed,
           "paper": PAPER_RESULTS, "software": 100 * sw_acc, "macros": macros_needed(net)}
    out(f"   software: {100 * sw_acc:.2f} % ({elapsed():.0f} s)")
    with Bank.golden(macros_needed(net), BUILD, device=DeviceParams(), seed=seed) as bank:
        pred, _, _ = run_bnn(bank, net, x)
    res["ideal"] = {"accuracy": 100 * float(np.mean(pred == labels)),
                    "equals_software": bool(np.array_equal(pred, sw))}
    out(f"   golden ideal: {res['ideal']['accuracy']:.2f} %, equals software image for image: "
        f"{res['ideal']['equals_software']} ({elapsed():.0f} s)")

    def study(label, n, **kw):
        accs = {}
        preds = None
        for i in range(n):
            r = evaluate_die(net, x, labels, seed=seed + 1000 + i, keep_pred=(i == 0), **kw)
            for k, v in r.accuracy.items():
                accs.setdefault(k, []).append(v)
            preds = preds if preds is not None else r.pred
            out(f"   {label}: die {i + 1}/{n}: " + ", ".join(
                f"{k} {100 * v:.2f}" for k, v in r.accuracy.items()) + f" ({elapsed():.0f} s)")
        return {k: _stats(v) for k, v in accs.items()}, preds

    cal, cal_pred = study("paper sigma, calibrated", dies, temperatures=(HOT_C,))
    res["paper_calibrated"] = cal
    res["confusion"] = _confusion(cal_pred["25"], labels).tolist()
    res["paper_uncalibrated"], _ = study("paper sigma, uncalibrated", dies, calibrate=False)
    res["double_sigma_calibrated"], _ = study("2x sigma, calibrated", dies, sigma_scale=2.0)
    res["sigma_sweep"] = {}
    for s in SIGMA_SWEEP:
        for c in (True, False):
            st, _ = study(f"sweep sigma x{s:g} {'cal' if c else 'uncal'}", sweep_dies,
                          sigma_scale=s, calibrate=c)
            res["sigma_sweep"][f"{s:g}/{'cal' if c else 'uncal'}"] = st["25"]
    st, _ = study("sweep temperature", sweep_dies,
                  temperatures=tuple(t for t in TEMPERATURE_SWEEP if t != 25.0))
    res["temperature_sweep"] = st
    res["cost"] = cost_per_inference(net)
    res["run_time_s"] = round(elapsed(), 1)
    for line in table_lines(res):
        out(line)
    if results_json is not None:
        merged = _publish(res, results_json)
        if figures_dir is not None:
            from .mnist_figures import draw_all

            for p in draw_all(merged, figures_dir):
                out(f"   figure {p}")
    return res


README = RESULTS_JSON.parents[2] / "README.md"
README_BEGIN = ("<!-- mnist:begin (generated by `make mnist` / `make mnist-rtl` from "
                "docs/mnist/results.json; do not edit) -->")
README_END = "<!-- mnist:end -->"


def readme_block(res: dict) -> str:
    """The README's MNIST results, rendered from a results dict."""
    lines = [line for line in table_lines(res) if line != ""]
    n_table = next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))
    table, rest = lines[:n_table], [line.strip() for line in lines[n_table:]]
    c = res["paper_calibrated"]
    gap = res["software"] - c["25"]["mean"]
    hot = c[f"{HOT_C:g}/on"]["mean"] - c["25"]["mean"]
    head = (f"**{c['25']['mean']:.2f} %** on the golden model at the paper's spread, calibrated, "
            f"mean of {c['25']['dies']} dies (min {c['25']['min']:.2f} %), against "
            f"{res['software']:.2f} % in software: a **{gap:.2f} pt** gap (the chip: "
            f"{res['paper']['mlp_chip']} % against {res['paper']['mlp_software']} %, "
            f"{res['paper']['mlp_software'] - res['paper']['mlp_chip']:.2f} pt). "
            f"At {HOT_C:g} C with the tracker and no recalibration: **{hot:+.2f} pt** against "
            f"25 C.")
    return "\n".join([head, "", *table, "", "```text", *rest, "```", ""]) + "\n"


def _publish(res: dict, path: Path = RESULTS_JSON, readme: Path | None = README) -> dict:
    """Merge ``res`` into the results file (read again just before writing, so the golden
    report and the RTL run may finish in either order) and re-render the README's block;
    returns the merged dict."""
    from ..ppa.report import render_block

    merged = json.loads(path.read_text()) if path.is_file() else {}
    merged.update(res)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(merged, indent=1) + "\n")
    tmp.rename(path)
    if readme is not None and readme.is_file() and "paper_calibrated" in merged:
        text = readme.read_text()
        if README_BEGIN in text:
            readme.write_text(render_block(text, README_BEGIN, README_END,
                                           readme_block(merged)))
    return merged


def _confusion(pred, labels, classes: int = 10) -> np.ndarray:
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(pred)), 1)
    return m


def table_lines(res: dict) -> list[str]:
    """The accuracy table and the cost lines of a results dict (also the README's source)."""
    n, sw = res["images"], res["software"]
    name = f"784-{res['hidden']}-10 BNN"
    lines = ["", "| network | run on | images | dies | accuracy % (mean) | accuracy % (min) "
             "| note |",
             "|---|---|---|---|---|---|---|",
             _row(name, "software (exact integers)", n, 0, sw, sw,
                  f"paper: {res['paper']['mlp_software']} software, "
                  f"{res['paper']['mlp_chip']} chip"),
             _row(name, "golden, ideal device", n, 1, res["ideal"]["accuracy"],
                  res["ideal"]["accuracy"], "equals software image for image: "
                  + ("yes" if res["ideal"]["equals_software"] else "NO"))]
    c = res["paper_calibrated"]
    for label, st in (("golden, paper sigma, uncalibrated", res["paper_uncalibrated"]["25"]),
                      ("golden, paper sigma, calibrated (gain), 25 C", c["25"]),
                      ("golden, 2x paper sigma, calibrated (gain), 25 C",
                       res["double_sigma_calibrated"]["25"]),
                      (f"golden, paper sigma, {HOT_C:g} C, tracker on, no recalibration",
                       c[f"{HOT_C:g}/on"]),
                      (f"golden, paper sigma, {HOT_C:g} C, tracker off, no recalibration",
                       c[f"{HOT_C:g}/off"])):
        lines.append(_row(name, label, n, st["dies"], st["mean"], st["min"],
                          f"gap to software {sw - st['mean']:+.2f} pt"))
    for sim, r in sorted(res.get("rtl", {}).items()):
        hot = (f"; then {r['hot_images']} at {HOT_C:g} C, re-written with the 25 C calibration, "
               f"tracker on" if r.get("hot_images") else "")
        lines.append(_row(name, f"RTL on {sim}, ideal device", r["images"], 1, r["accuracy"],
                          r["accuracy"], "hidden activations and output sums bit for bit equal "
                          f"to golden: {'yes' if r['equal'] else 'NO'}{hot} "
                          f"({r['wall_s']:.0f} s)"))
    v = res.get("vgg8")
    if v:
        vgg = f"VGG-8 (binarised, {v['macros']} macros)"
        lines.append(_row(vgg, "software (exact integers)", 10_000, 0, v["software_10k"],
                          v["software_10k"], f"paper: {res['paper']['vgg8_software']} software, "
                          f"{res['paper']['vgg8_chip']} chip (emulated)"))
        st = v["paper_calibrated"]
        lines.append(_row(vgg, "golden, paper sigma, calibrated (gain), 25 C", v["images"],
                          st["dies"], st["mean"], st["min"],
                          (f"all {v['images']} test digits: software "
                           if v["images"] >= 10_000 else
                           f"first {v['images']} digits only: software there ")
                          + f"{v['software_subset']:.2f}, gap "
                          f"{v['software_subset'] - st['mean']:+.2f} pt; golden ideal equals "
                          f"software: "
                          f"{'yes' if v['ideal_equals_software'] else 'NO'} "
                          f"({v.get('epochs', '?')} epochs; {v['run_time_s']:.0f} s with the "
                          f"training)"))
    hot = c[f"{HOT_C:g}/on"]["mean"] - c["25"]["mean"]
    lines.append(f"   {HOT_C:g} C with the tracker, no recalibration: {hot:+.2f} pt against 25 C "
                 f"(mean of {c['25']['dies']} dies)")
    cost = res.get("cost")
    if cost:
        lines += ["", f"== cost per image: {cost['passes_per_image']:g} passes "
                  f"(tiles {' + '.join(map(str, cost['tiles']))}); a weight-stationary bank of "
                  f"{cost['macros']} macros writes {cost['macros'] * 64} weight rows once per "
                  f"die; one macro re-writes {cost['row_writes_per_batch_one_macro']} rows and "
                  f"runs {cost['calibration_passes_per_batch_one_macro']} calibration passes "
                  f"per batch of {cost['batch']}", cost["schedule_table"]]
        for lib in cost["libraries"]:
            lines.append(
                f"   {lib['title']} ({lib['period_ns']:g} ns clock, {lib['cycles_per_vmm']:.1f} "
                f"cycles/VMM): one macro {lib['one_macro_energy_per_image_J'] * 1e9:.2f} nJ, "
                f"{lib['one_macro_cycles_per_image']:.0f} cycles = "
                f"{lib['one_macro_latency_per_image_ns'] / 1e3:.2f} us per image (batch "
                f"{cost['batch']}, row-write time not counted); bank of {cost['macros']}: "
                f"{lib['bank_energy_per_image_J'] * 1e9:.2f} nJ, latency "
                f"{lib['bank_latency_per_image_ns']:.0f} ns, one image every "
                f"{lib['bank_interval_per_image_ns']:.0f} ns")
        lib = cost["libraries"][-1] if cost["libraries"] else None
        if lib:
            lines.append(
                f"   summing the row tiles in one macro's accumulator instead (on-chip "
                f"thresholds, BankLayer.run_accumulated) re-writes "
                f"{lib['accumulate_row_writes_per_image']} weight rows per image: "
                f"{lib['accumulate_write_energy_per_image_J'] * 1e9:.0f} nJ of writes per image "
                f"at {lib['title']}, hence the host-side sum")
        lines.append("   (ESTIMATE: the per-VMM energy is `make ppa`'s on random VMMs of the "
                     "published build (" + ", ".join(sorted({lib['ppa_config'] for lib in
                                                             cost["libraries"]}))
                     + "), not this network's activity nor the gain build's larger periphery)")
        m = cost.get("measured")
        same = [lib for lib in cost["libraries"] if m and lib["title"] == m["title"]]
        if m and same:
            rnd = ("" if m["random_vmm_digital_J"] is None else
                   f" (random VMMs on the same build: {m['random_vmm_digital_J'] * 1e12:.0f} + "
                   f"{m['random_vmm_analog_J'] * 1e12:.0f} pJ)")
            lines.append(
                f"   MEASURED with this network's passes on its own build ({m['config']}, "
                f"{m['title']}, {m['period_ns']:g} ns, gate-level activity of every tile, "
                f"`python -m mram_macro.nn.mnist_bench ppa`): "
                f"{m['vmm_digital_J'] * 1e12:.0f} pJ digital + "
                f"{m['vmm_analog_J'] * 1e12:.0f} pJ analogue per pass{rnd}; "
                f"{m['bank_energy_per_image_J'] * 1e9:.2f} nJ per image on the bank of "
                f"{cost['macros']} (latency {m['bank_latency_per_image_ns']:.0f} ns at "
                f"{m['cycles_per_vmm']:.1f} cycles per pass), "
                f"{m['one_macro_energy_per_image_J'] * 1e9:.2f} nJ and "
                f"{m['one_macro_latency_per_image_ns'] / 1e3:.2f} us per image on one macro "
                f"with its writes and calibration (batch {cost['batch']}, row-write time not "
                f"counted); {m['tops_per_W']:.1f} TOPS/W. That is "
                f"{m['vmm_energy_J'] / same[0]['vmm_energy_J']:.1f}x the default build's "
                f"energy per VMM (its gain multipliers and tracker), so the estimate above is "
                f"that much low")
    if "run_time_s" in res:
        lines.append(f"== run time {res['run_time_s']:.0f} s")
    return lines


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mram_macro.nn.mnist_bench",
                                 description="The two-layer BNN on MNIST (make mnist).")
    ap.add_argument("--dies", type=int, default=20)
    ap.add_argument("--sweep-dies", type=int, default=3)
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figures", default=str(RESULTS_JSON.parent),
                    help="folder of the PNG figures (default: %(default)s)")
    ap.add_argument("--no-publish", action="store_true",
                    help="print only: leave docs/mnist/ as it is")
    ap.add_argument("--render", action="store_true",
                    help="run nothing: print the table and redraw the figures and the README "
                         "block from docs/mnist/results.json")
    args = ap.parse_args(argv)
    if args.render:
        if not RESULTS_JSON.is_file():
            ap.error(f"{RESULTS_JSON} does not exist: run `make mnist` first")
        # The cost comes from the schedule and docs/ppa, not from the simulation: recomputed.
        net = train_mnist_bnn(load_mnist(), progress=lambda e, n: print(
            f"   training epoch {e + 1}/{n}", flush=True))
        merged = _publish({"cost": cost_per_inference(net)})
        from .mnist_figures import draw_all

        draw_all(merged, Path(args.figures))
        print("\n".join(table_lines(merged)))
        return 0

    def out(text):
        print(text, flush=True)

    report(dies=args.dies, sweep_dies=args.sweep_dies, images=args.images, seed=args.seed,
           results_json=None if args.no_publish else RESULTS_JSON,
           figures_dir=None if args.no_publish else Path(args.figures), out=out)
    return 0




def rtl_check(net: BinaryMLP, x_pm1, labels, *, sims=("verilator", "icarus"), seed: int = 0,
              hot_images: int = 20, config: MacroConfig = BUILD, out=print) -> dict:
    """The network on the RTL against the golden model of the same die (ideal device), bit for
    bit (hidden activations, output sums, classes): one simulated macro per simulator, every
    tile written, gain-calibrated and its tracking reference captured in turn at 25 C; then the
    first ``hot_images`` digits again at :data:`HOT_C`, the tiles re-written with their 25 C
    calibration restored and the tracker retrimming (no recalibration), also bit for bit."""

    def both(bank):
        placed = place_bnn(bank, net)
        cold = placed.run(x_pm1)
        bank.set_temperature(HOT_C)
        hot = placed.run(x_pm1[:hot_images]) if hot_images else None
        return cold, hot

    with Bank.golden(1, config, device=DeviceParams(), seed=seed) as g:
        g_cold, g_hot = both(g)
    res = {}
    for sim in sims:
        t = _timer()
        out(f"   RTL on {sim}: {len(x_pm1)} digits at 25 C, then {hot_images} at {HOT_C:g} C; "
            f"14 tiles on one macro ...")
        with Bank.rtl(1, config, device=DeviceParams(), seed=seed, sim=sim) as r:
            cold, hot = both(r)
        same = [all(np.array_equal(a, b) for a, b in zip(mine, gold, strict=True))
                for mine, gold in ((cold, g_cold), (hot, g_hot)) if gold is not None]
        res[sim] = {"images": len(x_pm1), "equal": bool(all(same)), "hot_images": hot_images,
                    "hot_equal": bool(same[-1]) if hot_images else None,
                    "wall_s": round(t(), 1),
                    "accuracy": 100 * float(np.mean(cold[0] == labels))}
        out(f"   RTL on {sim}: bit for bit equal to golden: {all(same)} ({t():.0f} s)")
    return res


def rtl_main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mram_macro.nn.mnist_bench rtl")
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--sims", default="verilator,icarus")
    ap.add_argument("--hot-images", type=int, default=20)
    ap.add_argument("--no-publish", action="store_true")
    args = ap.parse_args(argv)
    if args.images < 1:
        ap.error(f"--images must be a positive integer, not {args.images}")
    data = load_mnist()
    net = train_mnist_bnn(data, progress=lambda e, n: print(f"   training epoch {e + 1}/{n}",
                                                            flush=True))
    x = binarise(data.x_test[:args.images]).astype(np.int64)
    res = rtl_check(net, x, data.y_test[:args.images], sims=tuple(args.sims.split(",")),
                    hot_images=args.hot_images, out=lambda s: print(s, flush=True))
    if not args.no_publish:
        _publish({"rtl": res})
    return 0 if all(r["equal"] for r in res.values()) else 1


def ppa_main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m mram_macro.nn.mnist_bench ppa",
        description="The MNIST build's gate-level PPA with this network's passes and with random "
                    f"VMMs ({PPA_WINDOW_IMAGES} images' passes in the power window), saved to "
                    f"docs/mnist/{PPA_JSON.name}; then the cost lines of docs/mnist/results.json "
                    "and the README are recomputed from it.")
    ap.add_argument("--out", default="build/ppa_mnist", help="work folder (default %(default)s)")
    ap.add_argument("--no-publish", action="store_true",
                    help="measure and print only (write the records under --out)")
    args = ap.parse_args(argv)
    net = train_mnist_bnn(load_mnist(), progress=lambda e, n: print(
        f"   training epoch {e + 1}/{n}", flush=True))
    out = Path(args.out)
    path = out / PPA_JSON.name if args.no_publish else PPA_JSON
    measure_network_ppa(net, out=out, path=path, progress=lambda s: print(s, flush=True))
    if not args.no_publish:
        merged = _publish({"cost": cost_per_inference(net)})
        print("\n".join(line for line in table_lines(merged) if "MEASURED" in line))
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["rtl"]:
        raise SystemExit(rtl_main(sys.argv[2:]))
    if sys.argv[1:2] == ["ppa"]:
        raise SystemExit(ppa_main(sys.argv[2:]))
    raise SystemExit(main())
