"""A simulation build directory made by another toolchain (another checkout's venv sharing the
user cache, as the host API's RTL backend does) is rebuilt, not reused: its make dependency
files name the other venv's cocotb sources, and ``make`` stops with "No rule to make target"
once they are gone (a clean-clone CI run broke the next checkout's host tests this way)."""

from __future__ import annotations

import shutil

import pytest

from mram_macro.design.config import profile_config
from mram_macro.sim.runner import TOOLCHAIN_STAMP, build, toolchain_identity

SMALL = profile_config("full", rows=4, cols=4, tdc_bits=3, result_width=6, stream_width=8)


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH")
def test_a_build_made_by_another_toolchain_is_rebuilt(tmp_path):
    build_dir = tmp_path / "verilator" / SMALL.slug
    build("verilator", SMALL, build_dir, harness=True)
    assert (build_dir / TOOLCHAIN_STAMP).read_text() == toolchain_identity("verilator")
    # What another checkout's build leaves: dependency files naming its (now gone) venv.
    gone = "/nonexistent-checkout/.venv/lib/python3.11/site-packages/cocotb/verilator.cpp"
    deps = list(build_dir.glob("*.d"))
    assert deps, "the Verilator build left no make dependency files to corrupt"
    for dep in deps:
        dep.write_text(dep.read_text() + f"\nverilated.o: {gone}\n")
    (build_dir / TOOLCHAIN_STAMP).write_text('{"python": "/nonexistent-checkout/.venv"}')
    build("verilator", SMALL, build_dir, harness=True)       # fails without the stamp check
    assert all(gone not in dep.read_text() for dep in build_dir.glob("*.d"))
    assert (build_dir / TOOLCHAIN_STAMP).read_text() == toolchain_identity("verilator")


def test_a_build_of_this_toolchain_is_kept(tmp_path, monkeypatch):
    from mram_macro.sim import runner

    build_dir = tmp_path / "b"
    build_dir.mkdir()
    (build_dir / TOOLCHAIN_STAMP).write_text(toolchain_identity("icarus"))
    (build_dir / "sim.vvp").write_text("kept")
    runner._forget_other_toolchain("icarus", build_dir)
    assert (build_dir / "sim.vvp").read_text() == "kept"
    # No stamp (a cache from before stamps): emptied, lock kept, stamped.
    (build_dir / TOOLCHAIN_STAMP).unlink()
    (build_dir / ".build.lock").write_text("")
    (build_dir / "obj").mkdir()
    runner._forget_other_toolchain("icarus", build_dir)
    assert sorted(p.name for p in build_dir.iterdir()) == [".build.lock", TOOLCHAIN_STAMP]
