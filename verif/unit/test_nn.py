"""Networks on the macro: tiling exactness, bit slicing, scheduling, training and inference."""

import numpy as np
import pytest

from mram_macro.cli import main
from mram_macro.design.config import profile_config
from mram_macro.host import HostError, Macro
from mram_macro.nn.data import Digits, load_digits_split
from mram_macro.nn.evaluate import run_binary_network, run_int_network
from mram_macro.nn.tiling import (
    Schedule,
    plan_layer,
    run_int_layer,
    run_pm1_layer,
    slice_weights,
)
from mram_macro.nn.train import train_binary, train_int

SMALL = profile_config("full", rows=16, cols=8, tdc_bits=5, result_width=12, stream_width=8)


@pytest.mark.parametrize("k, n", [(16, 8), (37, 21), (5, 3), (48, 16)])
def test_pm1_layers_of_any_size_are_exact_in_ideal_mode(k, n):
    rng = np.random.default_rng(k * n)
    w, x = rng.choice([-1, 1], (k, n)), rng.choice([-1, 1], (6, k))
    with Macro.golden(SMALL) as m:
        assert run_pm1_layer(m, w, x).tolist() == (x @ w).tolist()


def test_on_chip_activations_with_padding_and_column_tiles():
    rng = np.random.default_rng(9)
    w, x = rng.choice([-1, 1], (11, 20)), rng.choice([-1, 1], (7, 11))
    t = rng.integers(-4, 5, 20)
    with Macro.golden(SMALL) as m:
        h = run_pm1_layer(m, w, x, thresholds=t)
        assert h.tolist() == np.where(x @ w >= t, 1, -1).tolist()
        assert m.thresholds is None       # the macro is back in signed-result mode
        with pytest.raises(HostError, match="on-chip activations need K <= 16 rows"):
            run_pm1_layer(m, rng.choice([-1, 1], (17, 3)), np.ones((1, 17)), thresholds=[0] * 3)


@pytest.mark.parametrize("wb, ib", [(4, 4), (1, 4), (4, 1), (2, 3)])
def test_multi_bit_layers_are_exact_against_an_integer_matmul(wb, ib):
    rng = np.random.default_rng(wb * 10 + ib)
    w = rng.integers(-(1 << (wb - 1)), 1 << (wb - 1), (21, 5))
    x = rng.integers(-(1 << (ib - 1)), 1 << (ib - 1), (4, 21))
    x[0], w[:, 0] = -(1 << (ib - 1)), -(1 << (wb - 1))   # the extremes
    with Macro.golden(SMALL) as m:
        assert run_int_layer(m, w, x, weight_bits=wb, input_bits=ib).tolist() == (x @ w).tolist()


def test_bit_slices_and_their_validation():
    w = np.array([[-8, 7], [-1, 0]])
    s = slice_weights(w, 4)
    assert s.shape == (2, 8)
    recombined = sum((s[:, 2 * j:2 * j + 2].astype(int) << j) * (-1 if j == 3 else 1)
                     for j in range(4))
    assert recombined.tolist() == w.tolist()
    with pytest.raises(HostError, match=r"fit 4-bit two's complement \(-8..7\), not 8"):
        slice_weights(np.array([[8]]), 4)
    with pytest.raises(HostError, match="same K"):
        run_pm1_layer(Macro.golden(SMALL), np.ones((4, 3)), np.ones((2, 5)))


def test_schedule_counts_tiles_passes_and_writes():
    p = plan_layer(100, 30, rows=64, cols=64, weight_bits=4, input_bits=4)
    assert (p.row_tiles, p.col_tiles, p.tiles) == (2, 2, 4)
    assert p.passes(10) == 10 * 4 * 4 and p.row_writes == 4 * 64
    s = Schedule((p, plan_layer(64, 10, rows=64, cols=64)), batch=10, calibration_pairs=8)
    assert s.passes == 160 + 10 and s.row_writes == 5 * 64 and s.calibration_passes == 5 * 16
    assert s.cycles(cycles_per_vmm=10, cycles_per_row_write=100) == (170 + 80) * 10 + 320 * 100
    with pytest.raises(HostError, match="k must be a positive integer"):
        plan_layer(0, 3, rows=64, cols=64)


def test_trained_networks_on_the_ideal_golden_model_equal_software_exactly():
    d = load_digits_split()
    x_tr, x_te = Digits.binarise(d.x_train), Digits.binarise(d.x_test[:60])
    net = train_binary(x_tr, d.y_train, hidden=32, epochs=4, noise_sigma=(1.0, 1.0))
    assert set(np.unique(net.w1)) <= {-1, 1} and net.t1.dtype == np.int64
    with Macro.golden(profile_config("full")) as m:
        pred, h, _ = run_binary_network(m, net, x_te)
    assert pred.tolist() == net.predict(x_te).tolist()
    assert h.tolist() == net.hidden(x_te @ net.w1).tolist()
    assert np.mean(pred == d.y_test[:60]) > 0.5      # it learned something in 4 epochs
    q_tr, q_te = Digits.quantise(d.x_train), Digits.quantise(d.x_test[:30])
    assert q_tr.min() >= -8 and q_tr.max() <= 7
    inet = train_int(q_tr, d.y_train, hidden=16, epochs=2)
    assert inet.w1.min() >= -8 and inet.w1.max() <= 7
    with Macro.golden(profile_config("full")) as m:
        pred, y1, _ = run_int_network(m, inet, q_te)
    assert y1.tolist() == (q_te @ inet.w1).tolist()
    assert pred.tolist() == inet.predict(q_te).tolist()


def test_digits_command_rejects_bad_arguments(capsys):
    for argv, message in ((["digits", "--dies", "0"], "must be a positive integer, not 0"),
                          (["digits", "--rtl-images", "x"], "non-negative integer, not 'x'")):
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err


def test_inference_cost_from_published_ppa(tmp_path):
    from mram_macro.flow.ppa.report import inference_cost, published_results

    result = {"total_J": 2e-9, "latency_ns": 100.0, "analog_J": {"write_row_J": 1e-10}}
    energy_J, latency_ns = inference_cost(result, vmms=10, row_writes=4)
    assert energy_J == pytest.approx(10 * 2e-9 + 4 * 1e-10)
    assert latency_ns == pytest.approx(1000.0)
    assert published_results(tmp_path) == []          # no make ppa run: nothing invented
    published = published_results()
    assert published and all(r["total_J"] > 0 for r in published)


def test_network_demo_refuses_a_picture_format_before_the_run(monkeypatch):
    """Issue 22: a suffix matplotlib cannot write failed when the picture was saved, after the
    whole run; the check comes first."""
    pytest.importorskip("matplotlib")
    from mram_macro.nn import demo

    def started(**kwargs):
        pytest.fail("the run started before the picture's path was checked")

    monkeypatch.setattr(demo, "load_digits_split", started)
    with pytest.raises(ValueError, match=r"^the suffix '\.txt' is not a picture format "
                                         r"matplotlib writes; use \.png \(or one of "):
        demo.run_network_demo(sims=[], plot="digits.txt")


def test_demo_picture_and_column_errors(tmp_path):
    """make demo's picture (issue 22): accuracy per die per condition, errors per column
    before/after calibration; written where asked, a PNG."""
    from mram_macro.nn.demo import _plot_results, column_errors

    errors = column_errors(seed=1, vectors=128)
    assert errors["calibrated"].mean() < errors["uncalibrated"].mean()
    assert errors["calibrated"].shape == (64,)
    pytest.importorskip("matplotlib")
    path = tmp_path / "pics" / "digits.png"
    line = _plot_results({"uncalibrated": np.array([80.0, 82.0]),
                          "calibrated": np.array([90.0, 91.0])}, sw_pct=93.0,
                         network="binary", dies=2, seed=1, path=path)
    assert line == f"== picture: {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
