"""Static checks of the generated Verilog, and the one list of Verilator lint waivers.

Every waiver names a warning that Amaranth's Verilog back end produces by construction, with the
reason it is harmless. ``verilator --lint-only -Wall`` with these waivers must end clean; a new
kind of warning fails the lint test and has to be fixed in the generator or argued for here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["VERILATOR_WAIVERS", "verilator_waivers", "verilator_lint"]

VERILATOR_WAIVERS: dict[str, str] = {
    "UNUSEDSIGNAL": "Amaranth keeps named intermediate wires (and unused high bits of slices, "
                    "e.g. padding of stream beats) in its output; unused by design.",
    "PROCASSINIT": "Amaranth gives every register its reset value as a declaration initialiser "
                   "and also assigns it in the synchronous-reset branch; both agree.",
    "WIDTHEXPAND": "Amaranth relies on Verilog's zero/sign extension of narrower operands; the "
                   "widths are computed by Amaranth's own shape rules before emission.",
    "WIDTHTRUNC": "Amaranth emits `!x` for `x == 0` on multi-bit values; the reduction is the "
                  "intended meaning.",
    "CASEINCOMPLETE": "FSM and Switch cases without a default leave the signal unchanged, which "
                      "is Amaranth's defined semantics; unreachable encodings are don't-care.",
    "DECLFILENAME": "All modules of one macro are emitted into one file named after the top.",
}


def verilator_waivers() -> list[str]:
    """Verilator ``-Wno-...`` flags for the waivers above."""
    return [f"-Wno-{name}" for name in VERILATOR_WAIVERS]


def verilator_lint(verilog_path: str | Path, top: str = "mram_macro", *,
                   waivers: bool = True) -> str:
    """Run ``verilator --lint-only -Wall``; return its output, raise RuntimeError on warnings."""
    exe = shutil.which("verilator")
    if exe is None:
        raise RuntimeError("verilator is not on PATH; run `make setup`")
    # -Wall first: a later -Wall would switch the waived warnings back on.
    cmd = [exe, "--lint-only", "-Wall", *(verilator_waivers() if waivers else []),
           "--top-module", top, str(verilog_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0 or "%Warning" in out or "%Error" in out:
        raise RuntimeError(f"verilator lint failed ({' '.join(cmd)}):\n{out[-4000:]}")
    return out
