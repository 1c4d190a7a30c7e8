"""The paper's two-layer binarised perceptron on MNIST as the kit builds it: trained, placed on a
bank of macros and run there, die by die (golden model), and turned into the VMM passes a macro
sees. ``make mnist`` (:mod:`mram_macro.nn.mnist_bench`) reports it; its cost per inference is
:mod:`mram_macro.nn.mnist_cost`.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.host import Bank, HostError
from mram_macro.nn.evaluate import output_replicas
from mram_macro.nn.mnist import FILE_SHA256, MODEL_CACHE, Mnist, binarise
from mram_macro.nn.train import BinaryMLP, train_binary
from sim_models.device import PAPER_SIGMA_HIGH_OHM, PAPER_SIGMA_LOW_OHM, DeviceParams

__all__ = ["HIDDEN", "EPOCHS", "BATCH", "TRAIN_NOISE", "BUILD", "TRACK_INTERVAL", "HOT_C",
           "PAPER_RESULTS", "train_mnist_bnn", "layer_weights", "layer_plans", "macros_needed",
           "PlacedBnn", "place_bnn", "run_bnn", "paper_device", "DieResult", "evaluate_die",
           "network_passes"]

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
    from mram_macro.nn.tiling import plan_layer

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



def network_passes(net: BinaryMLP, x_pm1, config: MacroConfig = BUILD):
    """The network's VMM passes on one ``config`` macro, in the order a weight-stationary bank
    runs them for each image: every tile of the hidden layer, then every tile of the output
    layer on the image's hidden activations, padded as the tiler pads
    (:func:`~mram_macro.nn.tiling.padded_tile`: weight +1, input +1).

    Returns ``(weights, inputs)``: ``weights[i]`` the ``rows x cols`` weight bits of pass ``i``
    (1 = +1), ``inputs[i]`` its ``rows`` input bits; ``len(x_pm1)`` images x passes per image.
    What the gate-level power run of ``make ppa --workload mnist`` streams (the tile of each
    pass loaded by back door into the array model before its evaluation)."""
    from mram_macro.nn.tiling import padded_tile

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

