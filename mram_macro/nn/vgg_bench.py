"""``make vgg8``: the binarised VGG-8 of :mod:`mram_macro.nn.vgg` on MNIST, in software on the
10,000 test digits and on banks of golden macros (ideal; the paper's spread, calibrated, over
several dies) on the first ``--images`` of them, with progress and run time. Publishes its
section of docs/mnist/results.json."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from mram_macro.host import Bank
from mram_macro.nn.mnist import FILE_SHA256, binarise, load_mnist
from mram_macro.nn.mnist_bench import _publish, _stats
from mram_macro.nn.mnist_bnn import BUILD, PAPER_RESULTS, paper_device
from mram_macro.nn.vgg import NOISE_PER_TILE, VGG8_LAYERS, Vgg8, place_vgg8, train_vgg8, vgg8_macros
from sim_models.device import DeviceParams

__all__ = ["train_cached", "evaluate", "main", "EPOCHS", "LR"]

EPOCHS = 8
LR = 0.01
SEED = 0
#: Images per golden call (bounds the im2col arrays).
CHUNK = 250


def _key() -> str:
    spec = json.dumps([EPOCHS, LR, SEED, NOISE_PER_TILE, VGG8_LAYERS, sorted(FILE_SHA256.items()),
                       Path(__file__).with_name("vgg.py").read_text()])
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def train_cached(data, *, cache_dir: Path = Path("build/mnist"), progress=None) -> Vgg8:
    path = cache_dir / f"vgg8-{_key()}.npz"
    if path.is_file():
        z = np.load(path)
        return Vgg8(weights=tuple(z[f"w{i}"] for i in range(8)),
                    thresholds=tuple(z[f"t{i}"] for i in range(7)), scale=z["scale"],
                    bias=z["bias"], meta={"cached": str(path)})
    net = train_vgg8(binarise(data.x_train), data.y_train, epochs=EPOCHS, lr=LR, seed=SEED,
                     progress=progress)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.npz")
    np.savez(tmp, scale=net.scale, bias=net.bias,
             **{f"w{i}": w for i, w in enumerate(net.weights)},
             **{f"t{i}": t for i, t in enumerate(net.thresholds)})
    tmp.rename(path)
    return net


def evaluate(net: Vgg8, x, *, device: DeviceParams, seed: int, calibrate: bool = True,
             config=BUILD, out=None) -> np.ndarray:
    """Predictions of ``net`` on one golden die (a bank of :func:`vgg8_macros` macros)."""
    preds = []
    with Bank.golden(vgg8_macros(config), config, device=device, seed=seed) as bank:
        vmm = place_vgg8(bank, net, calibrate=calibrate)
        for s in range(0, len(x), CHUNK):
            preds.append(net.forward(x[s:s + CHUNK], vmm))
            if out is not None:
                out(f"      {min(s + CHUNK, len(x))}/{len(x)} images")
    return np.concatenate(preds)


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mram_macro.nn.vgg_bench",
                                 description="Binarised VGG-8 on MNIST (make vgg8).")
    ap.add_argument("--dies", type=int, default=5)
    ap.add_argument("--images", type=int, default=10_000,
                    help="test digits run on the golden model (software: all 10,000)")
    ap.add_argument("--no-publish", action="store_true")
    args = ap.parse_args(argv)
    if args.dies < 1 or not 1 <= args.images <= 10_000:
        ap.error("--dies must be >= 1 and --images in 1..10000")
    t0 = time.perf_counter()

    def out(text):
        print(f"{text} ({time.perf_counter() - t0:.0f} s)", flush=True)

    data = load_mnist()
    net = train_cached(data, progress=lambda s, n: out(f"   training step {s}/{n}"))
    x_all = binarise(data.x_test)
    sw_all = net.predict(x_all)
    sw_acc = 100 * float(np.mean(sw_all == data.y_test))
    out(f"== VGG-8 (binarised, {vgg8_macros(BUILD)} macros): software {sw_acc:.2f} % on 10000")
    x, labels, sw = x_all[:args.images], data.y_test[:args.images], sw_all[:args.images]
    ideal = evaluate(net, x, device=DeviceParams(), seed=0)
    equal = bool(np.array_equal(ideal, sw))
    out(f"   golden ideal on {len(x)}: {100 * np.mean(ideal == labels):.2f} %, equals software "
        f"image for image: {equal}")
    accs = []
    for i in range(args.dies):
        p = evaluate(net, x, device=paper_device(1.0), seed=2000 + i)
        accs.append(float(np.mean(p == labels)))
        out(f"   paper sigma, calibrated: die {i + 1}/{args.dies}: {100 * accs[-1]:.2f} %")
    res = {"software_10k": sw_acc, "images": len(x),
           "software_subset": 100 * float(np.mean(sw == labels)),
           "ideal_equals_software": equal, "paper_calibrated": _stats(accs),
           "macros": vgg8_macros(BUILD), "layers": [list(v) for v in VGG8_LAYERS],
           "epochs": EPOCHS, "noise_per_tile": NOISE_PER_TILE,
           "run_time_s": round(time.perf_counter() - t0, 1)}
    st = res["paper_calibrated"]
    out(f"== VGG-8: software {sw_acc:.2f} % (10000), {res['software_subset']:.2f} % on the first "
        f"{len(x)}; golden paper sigma calibrated {st['mean']:.2f} % mean, {st['min']:.2f} % min "
        f"over {st['dies']} dies (gap {res['software_subset'] - st['mean']:+.2f} pt); chip "
        f"{PAPER_RESULTS['vgg8_chip']} % vs {PAPER_RESULTS['vgg8_software']} % software")
    if not args.no_publish:
        _publish({"vgg8": res})
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
