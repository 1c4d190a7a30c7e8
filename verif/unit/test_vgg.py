"""The binarised VGG-8's pieces: im2col against a direct convolution, its adjoint (the training
gradient), pooling, and the whole network on an ideal bank equal to software image for image
(random weights; no data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from mram_macro.host import Bank
from mram_macro.nn import vgg
from mram_macro.nn.mnist_bnn import BUILD
from sim_models.device import DeviceParams


def test_im2col_is_a_3x3_convolution_padded_with_minus_one():
    rng = np.random.default_rng(0)
    a = rng.choice([-1, 1], (2, 5, 6, 3))
    w = rng.choice([-1, 1], (3, 3, 3, 4))        # (dy, dx, cin, cout)
    got = vgg.im2col(a) @ w.reshape(27, 4)
    p = np.pad(a, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-1)
    want = np.zeros((2, 5, 6, 4), dtype=np.int64)
    for dy in range(3):
        for dx in range(3):
            want += p[:, dy:dy + 5, dx:dx + 6] @ w[dy, dx]
    np.testing.assert_array_equal(got, want)


def test_col2im_is_the_adjoint_of_im2col_on_the_interior():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(2, 4, 4, 3))
    g = rng.normal(size=(2, 4, 4, 27))
    # <im2col(a) - im2col(0), g> = <a, col2im(g)>: the padding is a constant.
    lhs = np.sum((vgg.im2col(a) - vgg.im2col(np.zeros_like(a))) * g)
    assert lhs == pytest.approx(np.sum(a * vgg._col2im(g, 3)))


def test_pool_drops_odd_edges_and_is_an_or_on_pm1():
    a = -np.ones((1, 7, 7, 1), dtype=np.int64)
    a[0, 6, 6, 0] = 1   # in the dropped row and column
    a[0, 2, 3, 0] = 1
    p = vgg.pool(a)
    assert p.shape == (1, 3, 3, 1)
    assert p.sum() == -9 + 2 and p[0, 1, 1, 0] == 1


def test_vgg8_on_an_ideal_bank_equals_software_image_for_image():
    rng = np.random.default_rng(2)
    shapes = [(9 * ci, co) for ci, co, _ in vgg.VGG8_LAYERS] + [(288, 64), (64, 10)]
    net = vgg.Vgg8(weights=tuple(rng.choice([-1, 1], s) for s in shapes),
                   thresholds=tuple(rng.integers(-3, 4, s[1]) for s in shapes[:7]),
                   scale=rng.uniform(0.05, 0.2, 10), bias=rng.normal(0, 1, 10))
    x = rng.choice([-1, 1], (2, 784))
    assert vgg.vgg8_macros(BUILD) == 25  # 1 + 2 + 3 + 3 + 5 + 5 + 5 tiles + the output tile
    with Bank.golden(vgg.vgg8_macros(BUILD), BUILD, device=DeviceParams(), seed=1) as bank:
        vmm = vgg.place_vgg8(bank, net)
        np.testing.assert_array_equal(net.forward(x, vmm), net.predict(x))


def test_train_vgg8_validates_its_arguments():
    with pytest.raises(ValueError, match=r"epochs must be a positive integer, not 0"):
        vgg.train_vgg8(np.ones((2, 784)), np.zeros(2, int), epochs=0)
