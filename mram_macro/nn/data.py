"""The 8x8 digits of scikit-learn (1,797 images, bundled with the package: nothing is downloaded),
split once, binarised for the binary network and quantised for the multi-bit one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Digits", "load_digits_split", "PIXEL_MAX", "BINARY_THRESHOLD"]

#: Pixel values of the digits run 0..16.
PIXEL_MAX = 16
#: A pixel above this is a +1 input of the binary network (inked), else -1.
BINARY_THRESHOLD = 4


@dataclass(frozen=True)
class Digits:
    x_train: np.ndarray     #: (n, 64) pixels 0..16
    y_train: np.ndarray     #: (n,) labels 0..9
    x_test: np.ndarray
    y_test: np.ndarray

    @staticmethod
    def binarise(pixels) -> np.ndarray:
        """±1 inputs: +1 where a pixel is above :data:`BINARY_THRESHOLD`."""
        return np.where(np.asarray(pixels) > BINARY_THRESHOLD, 1, -1).astype(np.int64)

    @staticmethod
    def quantise(pixels, bits: int = 4) -> np.ndarray:
        """Signed ``bits``-bit inputs: pixels scaled to 0..2**bits-1, then centred by
        subtracting 2**(bits-1), so they fill the two's-complement range."""
        levels = (1 << bits) - 1
        q = np.rint(np.asarray(pixels, dtype=np.float64) * levels / PIXEL_MAX).astype(np.int64)
        return q - (1 << (bits - 1))


def load_digits_split(*, test_fraction: float = 0.25, seed: int = 0) -> Digits:
    """A stratified train/test split of the digits (the same for a given ``seed``)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(d.data.astype(np.int64), d.target.astype(np.int64),
                                              test_size=test_fraction, random_state=seed,
                                              stratify=d.target)
    return Digits(x_tr, y_tr, x_te, y_te)
