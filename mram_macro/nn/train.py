"""Training in NumPy (no deep-learning framework): a binarised two-layer perceptron and a
multi-bit variant, with an option for variation-aware training.

Binarised network (:class:`BinaryMLP`), the chip's headline workload in miniature:
``h = sign(x @ W1 - t1)`` (±1 inputs and weights; ``t1`` is the folded batch norm: an integer
threshold per hidden unit, so the comparison is exact on integer sums), then
``logits = (h @ W2) * scale + bias`` and the class is the argmax. Weights are trained as latent
reals and binarised in the forward pass (straight-through estimator, latent weights clipped to
[-1, 1]); the sign activation passes gradients where ``|pre-activation| <= 1`` (hard tanh).

Multi-bit network (:class:`IntMLP`): signed ``input_bits`` inputs and signed ``weight_bits``
first-layer weights (quantisation-aware, STE), binary hidden units and second layer as above.

Variation-aware training (``noise_sigma``): Gaussian noise of standard deviation
``noise_sigma[layer]`` (in units of the integer sum) is added to every pre-activation in the
training forward pass. :func:`device_error_sigma` measures it from the device model: the RMS
result error of calibrated golden macros of that device.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BinaryMLP", "IntMLP", "train_binary", "train_int", "device_error_sigma"]


def _sign(a):
    return np.where(a >= 0, 1, -1).astype(np.int64)


class _Adam:
    def __init__(self, params: dict, lr: float):
        self.p, self.lr, self.t = params, lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads: dict) -> None:
        self.t += 1
        for k, g in grads.items():
            self.m[k] = 0.9 * self.m[k] + 0.1 * g
            self.v[k] = 0.999 * self.v[k] + 0.001 * g * g
            mh = self.m[k] / (1 - 0.9 ** self.t)
            vh = self.v[k] / (1 - 0.999 ** self.t)
            self.p[k] -= self.lr * mh / (np.sqrt(vh) + 1e-8)


def _softmax_grad(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


@dataclass(frozen=True)
class BinaryMLP:
    """A trained binarised perceptron; every array is what the macro and the host use."""

    w1: np.ndarray          #: (inputs, hidden) ±1
    t1: np.ndarray          #: (hidden,) integer thresholds: h = +1 iff x @ w1 >= t1
    w2: np.ndarray          #: (hidden, classes) ±1
    scale: np.ndarray       #: (classes,) host-side affine of the output sums
    bias: np.ndarray        #: (classes,)
    meta: dict = field(default_factory=dict)

    def hidden(self, y1) -> np.ndarray:
        """±1 hidden activations from the first layer's integer sums."""
        return _sign(np.asarray(y1, dtype=np.int64) - self.t1)

    def classify(self, y2) -> np.ndarray:
        return np.argmax(np.asarray(y2, dtype=np.float64) * self.scale + self.bias, axis=1)

    def predict(self, x_pm1) -> np.ndarray:
        """Exact software inference (integer sums)."""
        return self.classify(self.hidden(x_pm1 @ self.w1) @ self.w2)


@dataclass(frozen=True)
class IntMLP:
    """Multi-bit first layer (signed ``input_bits`` x signed ``weight_bits``), then binary."""

    w1: np.ndarray          #: (inputs, hidden) signed integers of weight_bits
    t1: np.ndarray          #: (hidden,) integer thresholds on x @ w1
    w2: np.ndarray          #: (hidden, classes) ±1
    scale: np.ndarray
    bias: np.ndarray
    input_bits: int
    weight_bits: int
    meta: dict = field(default_factory=dict)

    def hidden(self, y1) -> np.ndarray:
        return _sign(np.asarray(y1, dtype=np.int64) - self.t1)

    def classify(self, y2) -> np.ndarray:
        return np.argmax(np.asarray(y2, dtype=np.float64) * self.scale + self.bias, axis=1)

    def predict(self, x_int) -> np.ndarray:
        return self.classify(self.hidden(np.asarray(x_int, dtype=np.int64) @ self.w1) @ self.w2)


def _train(x, labels, *, hidden: int, epochs: int, seed: int, lr: float, noise_sigma,
           quant_w1=None, x_scale: float = 1.0, batch: int = 32, progress=None):
    """Shared loop. ``quant_w1(latent) -> (w1_int, grad_mask)``; ``x_scale`` normalises sums."""
    rng = np.random.default_rng(seed)
    n_in, n_cls = x.shape[1], int(labels.max()) + 1
    p = {"w1": rng.uniform(-0.5, 0.5, (n_in, hidden)), "t1": np.zeros(hidden),
         "w2": rng.uniform(-0.5, 0.5, (hidden, n_cls)), "s": np.full(n_cls, 0.1),
         "b": np.zeros(n_cls)}
    opt = _Adam(p, lr)
    sig1, sig2 = noise_sigma if noise_sigma is not None else (0.0, 0.0)
    norm1 = np.sqrt(n_in) * x_scale
    for epoch in range(epochs):
        if progress is not None:
            progress(epoch, epochs)
        opt.lr = lr * (0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            xb, lb = x[idx].astype(np.float64), labels[idx]
            if quant_w1 is None:
                w1, m1 = _sign(p["w1"]), np.abs(p["w1"]) <= 1
            else:
                w1, m1 = quant_w1(p["w1"])
            w2 = _sign(p["w2"])
            y1 = xb @ w1 + sig1 * rng.standard_normal((len(idx), hidden))
            z1 = (y1 - p["t1"]) / norm1
            h = _sign(z1)
            y2 = h @ w2 + sig2 * rng.standard_normal((len(idx), n_cls))
            logits = y2 * p["s"] + p["b"]
            g_logits = _softmax_grad(logits, lb)
            g = {"s": (g_logits * y2).sum(0), "b": g_logits.sum(0)}
            g_y2 = g_logits * p["s"]
            g["w2"] = (h.T @ g_y2) * (np.abs(p["w2"]) <= 1)
            g_z1 = (g_y2 @ w2.T) * (np.abs(z1) <= 1)
            g["t1"] = -g_z1.sum(0) / norm1
            g["w1"] = (xb.T @ g_z1) / norm1 * m1
            opt.step(g)
            np.clip(p["w1"], -1, 1, out=p["w1"])
            np.clip(p["w2"], -1, 1, out=p["w2"])
            p["s"] = np.maximum(p["s"], 1e-4)
    return p


def train_binary(x_pm1, labels, *, hidden: int = 64, epochs: int = 60, seed: int = 0,
                 lr: float = 0.01, noise_sigma: tuple[float, float] | None = None,
                 batch: int = 32, progress=None) -> BinaryMLP:
    """Train a :class:`BinaryMLP` on ±1 inputs (``noise_sigma``: variation-aware training;
    ``batch``: minibatch size; ``progress(epoch, epochs)`` is called before each epoch)."""
    for name, v in (("hidden", hidden), ("epochs", epochs), ("batch", batch)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    p = _train(np.asarray(x_pm1), np.asarray(labels), hidden=hidden, epochs=epochs, seed=seed,
               lr=lr, noise_sigma=noise_sigma, batch=batch, progress=progress)
    return BinaryMLP(w1=_sign(p["w1"]), t1=np.ceil(p["t1"]).astype(np.int64), w2=_sign(p["w2"]),
                     scale=p["s"].copy(), bias=p["b"].copy(),
                     meta={"hidden": hidden, "epochs": epochs, "seed": seed,
                           "noise_sigma": noise_sigma, "batch": batch})


def train_int(x_int, labels, *, input_bits: int = 4, weight_bits: int = 4, hidden: int = 64,
              epochs: int = 60, seed: int = 0, lr: float = 0.01,
              noise_sigma: tuple[float, float] | None = None) -> IntMLP:
    """Train an :class:`IntMLP` on signed ``input_bits`` inputs (quantisation-aware weights)."""
    levels = (1 << (weight_bits - 1)) - 1
    lo = -(1 << (weight_bits - 1))

    def quant(latent):
        q = np.clip(np.rint(latent * levels), lo, levels).astype(np.int64)
        return q, np.abs(latent) <= 1

    x_scale = float((1 << (input_bits - 1)) * levels) / 2
    p = _train(np.asarray(x_int), np.asarray(labels), hidden=hidden, epochs=epochs, seed=seed,
               lr=lr, noise_sigma=noise_sigma, quant_w1=quant, x_scale=x_scale)
    return IntMLP(w1=quant(p["w1"])[0], t1=np.ceil(p["t1"]).astype(np.int64),
                  w2=_sign(p["w2"]), scale=p["s"].copy(), bias=p["b"].copy(),
                  input_bits=input_bits, weight_bits=weight_bits,
                  meta={"hidden": hidden, "epochs": epochs, "seed": seed})


def device_error_sigma(device, *, dies: int = 4, seed: int = 0) -> float:
    """RMS error of a calibrated pass of ``device`` (golden model, random ±1 data), in units
    of the integer sum: the noise variation-aware training injects."""
    from mram_macro.host import Macro

    rng = np.random.default_rng(seed)
    errs = []
    for d in range(dies):
        with Macro.golden(device=device, seed=seed + d) as m:
            w = rng.choice([-1, 1], (m.rows, m.cols))
            x = rng.choice([-1, 1], (256, m.rows))
            m.write_weights(w)
            m.calibrate()
            errs.append(m.vmm(x) - x @ w)
    return float(np.sqrt(np.mean(np.concatenate(errs).astype(float) ** 2)))
