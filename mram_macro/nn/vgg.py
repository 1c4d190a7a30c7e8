"""A binarised VGG-8 for MNIST (6 convolutions + 2 fully connected layers), trained in NumPy, its
convolutions lowered to VMMs by im2col and run on a bank of macros.

Precisions (the kit's choice; the paper gives none for its VGG-8): every weight ±1 (one MTJ pair
per weight, no bit slicing); every input and hidden activation ±1 (pixels > 127 -> +1, as for the
MLP); each unit's batch norm folded into an integer threshold (``+1 iff sum >= t``); the last
layer's 10 sums go through a host-side affine and argmax. Convolutions are 3x3, stride 1,
padded with -1 (the background value, so the padding is itself a ±1 input and costs nothing on
the array); 2x2 max pooling after layers 1, 3 and 5 acts on ±1 activations, where it is an OR
(pooling the pre-activations and taking the sign after is the same, which is how training
pools).

Layers (``K`` = the VMM's length = 9 x input channels)::

    conv 1->8 @28x28 (K 9)     pool -> 14
    conv 8->16 @14 (K 72)      conv 16->16 @14 (K 144)   pool -> 7
    conv 16->32 @7 (K 144)     conv 32->32 @7 (K 288)    pool -> 3 (the 7th row and column dropped)
    conv 32->32 @3 (K 288)     fc 288->64                fc 64->10 (affine on the host)

Narrow (8 to 32 channels) so that the NumPy training and the golden runs fit the kit's two-core
budget. 25 macros of 64x64 hold it weight-stationary (1 + 2 + 3 + 3 + 5 + 5 + 5 tiles, plus the
output tile with 6 replicas of its 10 columns, averaged); an image costs 2,207 tile passes
(784 positions through the first layer's tile, 196 through the next two layers' five, ...).
Training is the MLP's (straight-through
binarised weights, hard-tanh gradients, Adam), variation-aware: Gaussian noise of
:data:`NOISE_PER_TILE` x sqrt(row tiles) on every sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mram_macro.nn.train import _Adam, _sign, _softmax_grad

__all__ = ["VGG8_LAYERS", "Vgg8", "train_vgg8", "im2col", "NOISE_PER_TILE"]

#: (input channels, output channels, pool after) of the six 3x3 convolutions, then the two
#: fully connected layers' widths.
VGG8_LAYERS = ((1, 8, True), (8, 16, False), (16, 16, True), (16, 32, False), (32, 32, True),
               (32, 32, False))
FC_HIDDEN = 64
CLASSES = 10
#: Training noise per 64-row tile of a sum (the calibrated pass error at the paper's spread is
#: about 1.8 RMS; 1.5x margin, as for the MLP).
NOISE_PER_TILE = 2.7
PAD = -1


def im2col(a: np.ndarray) -> np.ndarray:
    """``(B, H, W, C)`` ±1 activations -> ``(B, H, W, 9 C)`` 3x3 patches (padding -1), ordered
    (row offset, column offset, channel)."""
    b, h, w, c = a.shape
    p = np.full((b, h + 2, w + 2, c), PAD, dtype=a.dtype)
    p[:, 1:-1, 1:-1] = a
    return np.concatenate([p[:, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)],
                          axis=3)


def _col2im(g: np.ndarray, c: int) -> np.ndarray:
    b, h, w, _ = g.shape
    p = np.zeros((b, h + 2, w + 2, c), dtype=g.dtype)
    k = 0
    for dy in range(3):
        for dx in range(3):
            p[:, dy:dy + h, dx:dx + w] += g[..., k * c:(k + 1) * c]
            k += 1
    return p[:, 1:-1, 1:-1]


def pool(a: np.ndarray) -> np.ndarray:
    """2x2 max pooling (odd sizes: the last row and column dropped)."""
    b, h, w, c = a.shape
    a = a[:, :h // 2 * 2, :w // 2 * 2]
    return a.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _pool_grad(z, zp, g):
    _b, h, w, _c = z.shape
    h2, w2 = h // 2 * 2, w // 2 * 2
    up = np.repeat(np.repeat(zp, 2, axis=1), 2, axis=2)
    gup = np.repeat(np.repeat(g, 2, axis=1), 2, axis=2)
    out = np.zeros_like(z)
    out[:, :h2, :w2] = gup * (z[:, :h2, :w2] == up)
    return out


def _tiles(k: int, rows: int = 64) -> int:
    return -(-k // rows)


@dataclass(frozen=True)
class Vgg8:
    """A trained binarised VGG-8: ±1 weights ``(K, N)`` and integer thresholds per layer."""

    weights: tuple          #: 8 arrays (K, N) of ±1: six convolutions, fc1, fc2
    thresholds: tuple       #: 7 integer arrays (N,): the sign layers
    scale: np.ndarray       #: (10,) host affine of the last sums
    bias: np.ndarray
    meta: dict = field(default_factory=dict)

    def forward(self, x_pm1, vmm=None):
        """Classes of ±1 images ``(B, 28, 28)``; ``vmm(layer_index, inputs (n, K)) -> sums`` runs
        each layer (default: exact integer products in software)."""
        # Float products of ±1 integers are exact (sums far below 2**53) and use BLAS.
        vmm = vmm or (lambda i, v: np.rint(v.astype(np.float64)
                                           @ self.weights[i].astype(np.float64)).astype(np.int64))
        a = np.asarray(x_pm1, dtype=np.int64).reshape(-1, 28, 28, 1)
        for i, (_, cout, do_pool) in enumerate(VGG8_LAYERS):
            cols = im2col(a)
            b, h, w, k = cols.shape
            y = vmm(i, cols.reshape(-1, k)).reshape(b, h, w, cout)
            a = _sign(y - self.thresholds[i])
            if do_pool:
                a = pool(a)
        a = a.reshape(len(a), -1)
        h1 = _sign(vmm(6, a) - self.thresholds[6])
        y2 = vmm(7, h1)
        return np.argmax(np.asarray(y2, dtype=np.float64) * self.scale + self.bias, axis=1)

    def predict(self, x_pm1) -> np.ndarray:
        return self.forward(x_pm1)


def train_vgg8(x_pm1, labels, *, epochs: int = 3, batch: int = 64, lr: float = 0.005,
               seed: int = 0, noise_per_tile: float = NOISE_PER_TILE, progress=None) -> Vgg8:
    """Train a :class:`Vgg8` on ±1 images ``(n, 784)``; ``progress(done, total)`` is called
    every few hundred steps."""
    for name, v in (("epochs", epochs), ("batch", batch)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    rng = np.random.default_rng(seed)
    x = np.asarray(x_pm1, dtype=np.float32).reshape(-1, 28, 28, 1)
    labels = np.asarray(labels)
    shapes = [(9 * cin, cout) for cin, cout, _ in VGG8_LAYERS]
    side = 28
    for _, _, do_pool in VGG8_LAYERS:
        side = side // 2 if do_pool else side
    shapes += [(side * side * VGG8_LAYERS[-1][1], FC_HIDDEN), (FC_HIDDEN, CLASSES)]
    p = {f"w{i}": rng.uniform(-0.5, 0.5, s).astype(np.float32) for i, s in enumerate(shapes)}
    p.update({f"t{i}": np.zeros(s[1], np.float32) for i, s in enumerate(shapes[:-1])})
    p["s"] = np.full(CLASSES, 0.1, np.float32)
    p["b"] = np.zeros(CLASSES, np.float32)
    opt = _Adam(p, lr)
    steps = epochs * (-(-len(x) // batch))
    step = 0
    for epoch in range(epochs):
        opt.lr = lr * (0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        order = rng.permutation(len(x))
        for s0 in range(0, len(x), batch):
            idx = order[s0:s0 + batch]
            a, lb = x[idx], labels[idx]
            cache = []
            for i, (cin, cout, do_pool) in enumerate(VGG8_LAYERS):
                cols = im2col(a)
                wb = _sign(p[f"w{i}"]).astype(np.float32)
                k = cols.shape[-1]
                y = cols @ wb + noise_per_tile * np.sqrt(_tiles(k)) * rng.standard_normal(
                    (*cols.shape[:-1], cout)).astype(np.float32)
                norm = np.float32(np.sqrt(k))
                if step == 0:  # data-dependent init: centre each unit like a batch norm
                    p[f"t{i}"][:] = np.mean(y / norm, axis=(0, 1, 2))
                z = y / norm - p[f"t{i}"]
                zp = pool(z) if do_pool else z
                cache.append((cols, wb, z, zp, norm, cin))
                a = _sign(zp).astype(np.float32)
            flat = a.reshape(len(a), -1)
            w6, w7 = _sign(p["w6"]).astype(np.float32), _sign(p["w7"]).astype(np.float32)
            k6 = flat.shape[1]
            norm6 = np.float32(np.sqrt(k6))
            y6 = flat @ w6 + noise_per_tile * np.sqrt(_tiles(k6)) * rng.standard_normal(
                (len(idx), FC_HIDDEN)).astype(np.float32)
            if step == 0:
                p["t6"][:] = np.mean(y6 / norm6, axis=0)
            z6 = y6 / norm6 - p["t6"]
            h = _sign(z6).astype(np.float32)
            y7 = h @ w7 + noise_per_tile / np.sqrt(6) * rng.standard_normal(
                (len(idx), CLASSES)).astype(np.float32)
            logits = y7 * p["s"] + p["b"]
            gl = _softmax_grad(logits, lb).astype(np.float32)
            g = {"s": (gl * y7).sum(0), "b": gl.sum(0)}
            gy7 = gl * p["s"]
            g["w7"] = (h.T @ gy7) * (np.abs(p["w7"]) <= 1)
            gz6 = (gy7 @ w7.T) * (np.abs(z6) <= 1)
            g["t6"] = -gz6.sum(0)
            g["w6"] = (flat.T @ gz6) / norm6 * (np.abs(p["w6"]) <= 1)
            ga = ((gz6 / norm6) @ w6.T).reshape(a.shape)
            for i in range(len(VGG8_LAYERS) - 1, -1, -1):
                cols, wb, z, zp, norm, cin = cache[i]
                gzp = ga * (np.abs(zp) <= 1)
                gz = _pool_grad(z, zp, gzp) if VGG8_LAYERS[i][2] else gzp
                gy = gz / norm
                g[f"t{i}"] = -gz.sum(axis=(0, 1, 2))
                g[f"w{i}"] = (cols.reshape(-1, cols.shape[-1]).T
                              @ gy.reshape(-1, gy.shape[-1])) * (np.abs(p[f"w{i}"]) <= 1)
                if i:
                    ga = _col2im(gy @ wb.T, cin)
            opt.step(g)
            for i in range(8):
                np.clip(p[f"w{i}"], -1, 1, out=p[f"w{i}"])
            p["s"] = np.maximum(p["s"], 1e-4)
            step += 1
            if progress is not None and (step % 200 == 0 or step == steps):
                progress(step, steps)
    # Thresholds were learnt in units of sqrt(K): t = tau sqrt(K), rounded up (integer sums).
    ks = [9 * cin for cin, _, _ in VGG8_LAYERS] + [shapes[6][0]]
    return Vgg8(weights=tuple(_sign(p[f"w{i}"]) for i in range(8)),
                thresholds=tuple(np.ceil(p[f"t{i}"].astype(np.float64) * np.sqrt(ks[i]))
                                 .astype(np.int64) for i in range(7)),
                scale=p["s"].astype(np.float64), bias=p["b"].astype(np.float64),
                meta={"epochs": epochs, "batch": batch, "seed": seed,
                      "noise_per_tile": noise_per_tile})


def place_vgg8(bank, net: Vgg8, *, calibrate: bool = True):
    """Place and load the eight layers on ``bank`` (weight-stationary: 25 tiles + the output
    tile); returns ``vmm(layer_index, inputs) -> sums`` for :meth:`Vgg8.forward`."""
    from mram_macro.nn.evaluate import output_replicas
    from mram_macro.nn.mnist_bnn import TRACK_INTERVAL

    c = bank.config
    method = ("gain" if c.has_gain else "offset") if calibrate else None
    track = TRACK_INTERVAL if calibrate and c.has_tracker else 0
    reps = output_replicas(CLASSES, c.cols)
    layers = [bank.place(w, calibrate=method, track_interval=track) for w in net.weights[:7]]
    layers.append(bank.place(np.tile(net.weights[7], (1, reps)), calibrate=method,
                             track_interval=track))
    for layer in layers:
        layer.load()

    def vmm(i, v):
        y = layers[i].run(v)
        if i == 7:
            return y.reshape(len(v), reps, CLASSES).sum(axis=1) / reps
        return y
    return vmm


def vgg8_macros(config) -> int:
    """Macros of a weight-stationary bank for :class:`Vgg8`."""
    from mram_macro.nn.evaluate import output_replicas
    from mram_macro.nn.tiling import plan_layer

    side = 28
    for _, _, do_pool in VGG8_LAYERS:
        side = side // 2 if do_pool else side
    shapes = [(9 * cin, cout) for cin, cout, _ in VGG8_LAYERS]
    shapes += [(side * side * VGG8_LAYERS[-1][1], FC_HIDDEN),
               (FC_HIDDEN, CLASSES * output_replicas(CLASSES, config.cols))]
    return sum(plan_layer(k, n, rows=config.rows, cols=config.cols).tiles for k, n in shapes)
