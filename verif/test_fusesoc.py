"""The FuseSoC core runs offline through edalize: lint (Verilator with the shipped .vlt) and sim
(the self-checking Verilog testbench on Icarus). The synth target (Yosys, ~40 s) is run by hand:
``fusesoc --cores-root . run --target synth mram-macro:ip:mram_macro``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "mram-macro:ip:mram_macro"


def _fusesoc(target: str, build_root: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("fusesoc") or str(Path(sys.executable).parent / "fusesoc")
    return subprocess.run([exe, "--cores-root", str(ROOT), "run", "--build-root",
                           str(build_root), "--target", target, CORE],
                          capture_output=True, text=True, cwd=build_root.parent, timeout=600)


@pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not on PATH")
def test_fusesoc_lint_target(tmp_path):
    out = _fusesoc("lint", tmp_path / "build")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    vc = next((tmp_path / "build").rglob("*.vc")).read_text()
    assert "mram_macro.vlt" in vc and "-Wno" not in vc


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not on PATH")
def test_fusesoc_sim_target(tmp_path):
    out = _fusesoc("sim", tmp_path / "build")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "PASS: " in out.stdout and "FAIL" not in out.stdout, out.stdout[-3000:]
