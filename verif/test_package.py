"""Package boundaries: the wheel holds the product (mram_macro, sim_models) and its CLI, and
the product works from outside the repository without the test package (verif).

Fast form, run by ``make test``: build the wheel (no build isolation, no network) from a copy of
the repository's packages, the test package included (so it is ``pyproject.toml`` that leaves it
out), check it holds no ``verif/`` file, unpack it, and import every module, resolve every cocotb
module the product hands a runner (the power workload of ``make ppa``, the RTL backend's server)
and run ``mram-macro generate`` from the unpacked copy in a directory outside the repo.
``make install-check`` does the slow, complete form: ``pip install .`` into a fresh venv.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import importlib, importlib.metadata as md, pkgutil, sys
from pathlib import Path
site = Path(sys.argv[1]).resolve()
# The dev venv holds an editable install that maps these packages to the repo: hide it, as a
# machine without the repo would not have it.
sys.meta_path = [f for f in sys.meta_path if "__editable__" not in repr(f)]
import mram_macro, sim_models
# The cocotb modules the product hands a runner by name, looked up as the runner would.
from mram_macro.flow.ppa.activity import DEFAULT_WORKLOAD
from mram_macro.host.rtl_backend import TEST_MODULE
import importlib.util
for name in (DEFAULT_WORKLOAD, TEST_MODULE):
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin, (name, spec)
    assert Path(spec.origin).resolve().is_relative_to(site), (name, spec.origin)
    assert name.startswith(("mram_macro.", "sim_models.")), name
    assert hasattr(importlib.import_module(name), "__file__"), name
print("runner modules", DEFAULT_WORKLOAD, TEST_MODULE)
names = []
for pkg in (mram_macro, sim_models):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        names.append(info.name)
for name in ["mram_macro", "sim_models", *names]:
    mod = importlib.import_module(name)
    assert Path(mod.__file__).resolve().is_relative_to(site), (name, mod.__file__)
try:
    import verif
except ImportError:
    pass
else:
    raise AssertionError(f"the test package is importable: {verif.__file__}")
dist = md.distribution("mram-macro")
assert Path(str(dist.locate_file(""))).resolve() == site, dist.locate_file("")
(ep,) = [e for e in dist.entry_points if e.group == "console_scripts"]
assert ep.name == "mram-macro", ep
main = ep.load()
assert main(["generate", "--rows", "12", "--cols", "5", "--tdc-bits", "4", "-o", "gen"]) == 0
print(len(names), "modules")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("mram_macro", "sim_models", "verif"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(out), str(src)], check=True,
                   capture_output=True)
    (whl,) = out.glob("mram_macro-*.whl")
    return whl


def test_wheel_holds_the_product_and_its_cli(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "mram_macro/cli.py" in names and "mram_macro/sim/runner.py" in names
    assert "sim_models/readout.py" in names
    assert "mram_macro/sim/workloads/power.py" in names       # make ppa's power workload
    assert "mram_macro/sim/testbench/env.py" in names         # ... and the testbench it runs on
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mram-macro = mram_macro.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_wheel_ships_no_test_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tests = [n for n in names if n.split("/", 1)[0] == "verif"]
    assert not tests, f"the wheel ships the test package: {tests[:5]}"
    top = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top).decode().split() == ["mram_macro", "sim_models"]


def test_unpacked_wheel_imports_and_generates_outside_the_repo(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert not (site / "verif").exists()                # the product must not need the tests
    work = tmp_path / "work"
    work.mkdir()
    out = subprocess.run([sys.executable, "-P", "-c", _PROBE, str(site)], cwd=work,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "runner modules mram_macro.sim.workloads.power mram_macro.host.rtl_server" in out.stdout
    assert (work / "gen" / "mram_macro.v").is_file()
    assert (work / "gen" / "mram_macro.xml").is_file()


def test_wheel_ships_the_published_ppa_results_and_finds_them_without_docs(wheel, tmp_path):
    """Issue 22: `mram-macro digits` printed "no published PPA results" from a pip install."""
    import json

    names = zipfile.ZipFile(wheel).namelist()
    docs = Path(__file__).resolve().parents[1] / "docs" / "ppa"
    for name in ("ppa.json", "ppa_profiles.json"):    # the networks' build is a profile
        assert f"mram_macro/data/{name}" in names
        shipped = json.loads(zipfile.ZipFile(wheel).read(f"mram_macro/data/{name}"))
        assert shipped == json.loads((docs / name).read_text()), name
    published = json.loads((docs / "ppa.json").read_text())
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "from mram_macro.docs.published import published_ppa_dir, published_ppa_results, "
             "published_results_of; from mram_macro.nn.evaluate import NETWORK_CONFIG; "
             "print(published_ppa_dir()); print(len(published_ppa_results())); "
             "print(len(published_results_of(NETWORK_CONFIG)))")
    out = subprocess.run([sys.executable, "-P", "-c", probe, str(site)], cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    where, count, network = out.stdout.split()
    assert where == str(site / "mram_macro" / "data") and int(count) == len(published)
    assert int(network) >= 1
