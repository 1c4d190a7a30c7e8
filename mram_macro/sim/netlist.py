"""The event-driven simulation netlist: the generated Verilog as Icarus simulates it fastest.

``vvp`` (Icarus) is an event-driven simulator: its cost is the processes it wakes and the
vectors it copies, not the gates. The generated Verilog
(:func:`mram_macro.rtl.top.generate_verilog`)
is written for synthesis and Verilator, and three of its forms are expensive for ``vvp``:

* **hierarchy**: every submodule port is one more net that copies its (often wide) vector on
  every change;
* **parallel-case multiplexers** (``$pmux``, e.g. the register read multiplexer over ~150
  registers): Yosys writes each as a function over the concatenation of all its inputs, which
  ``vvp`` rebuilds and re-runs whenever *any* input changes (a VMM counter, a status bit);
* **the clock gates' latches**: a process each, woken at both edges of every clock
  (72 gates in the default macro);
* **wide input ports read bit by bit**: ``arr_fine`` (448 bits in the default macro) feeds one
  bit select per sampler bit, and ``vvp`` hands the whole vector to all 448 of them whenever
  any bit changes;
* **wide registers written back through scattered slices**: Yosys' ``opt_dff`` turns a
  synchronous reset into ``$sdff`` cells, and for a wide register without an enable (the
  1,024-bit result register of the default macro, which its clock gate enables) it splits the
  register by the bits' sources and writes each part back as one continuous assignment over
  many scattered slices of the original vector (two of 64 slices each). ``vvp`` then
  re-resolves the whole vector on every update; this made the default build's cocotb suite
  on Icarus about 9x slower (``test_throughput`` 3.2 s -> 13.4 s at 200 VMMs). ``opt -nosdff``
  keeps the reset as a multiplexer in front of one register.

:func:`event_netlist` has Yosys rewrite the generated Verilog without them: the hierarchy
flattened, constants and dead logic removed with don't-care bits kept and synchronous resets
left as multiplexers (``opt -keepdc -nosdff``), every
``$pmux`` turned into a tree of 2:1 multiplexers (``pmuxtree``: a change of an unselected input
stops at its first multiplexer), and the latch written as a continuous assignment
(:data:`~mram_macro.rtl.periphery.clock_gate.ICG_VERILOG_EVENT`), and the bit selects of such a
port taken from per-column banks (``arr_fine__bank<c>``, one part select each), so a change
reaches only its column's bits (:func:`bank_inputs`). Same module, same ports, same
behaviour at every clock edge: a semantics-preserving rewrite by the tool that also synthesises
the macro. The cocotb suite checks every VMM of it against the golden model, and ``make test``
also runs the literal RTL on Icarus (``ICARUS_NETLIST=rtl``), so both are held to the same
results. ``make bench`` measures the speed of each (see README).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mram_macro.rtl.periphery.clock_gate import ICG_VERILOG, ICG_VERILOG_EVENT

__all__ = ["EVENT_NETLIST_SCRIPT", "ICARUS_NETLISTS", "bank_inputs", "event_netlist",
           "flat_name", "rtl_register", "write_event_netlist"]

#: What Icarus simulates: ``flat`` (:func:`event_netlist`, the default) or ``rtl`` (the
#: generated Verilog itself).
ICARUS_NETLISTS = ("flat", "rtl")

#: The Yosys passes of :func:`event_netlist`, between reading the Verilog and writing it. The
#: FSM state registers (``*_state``) are kept: the coverage monitors and the reset tests watch
#: them (:func:`flat_name`).
EVENT_NETLIST_SCRIPT = ("proc", "setattr -set keep 1 w:*_state", "flatten", "opt -keepdc -nosdff",
                        "pmuxtree", "opt_clean -purge")

#: A kept register ``\\a.b.x_state`` of the flattened design, as Yosys writes it.
_KEPT = re.compile(r"\\((?:[A-Za-z_][\w$]*\.)+[A-Za-z_][\w$]*_state) ")


def flat_name(path) -> str:
    """The name in the simulation netlist of the register at instance path ``path`` of the
    generated Verilog (``("sequencer", "seq_state")`` -> ``sequencer__seq_state``): a plain
    identifier, so a testbench reaches it as an attribute of the macro."""
    return "__".join(path)


_HEADER = ("// Event-driven simulation netlist of {top} (mram_macro/sim/netlist.py), "
           "rewrite sha256 {digest}\n")


def _digest(verilog: str) -> str:
    """Of the RTL and of this rewrite (this file: its script, its text edits)."""
    this = Path(__file__).read_text() + ICG_VERILOG_EVENT
    return hashlib.sha256((verilog + this).encode()).hexdigest()[:16]


#: Input ports read bit by bit that :func:`event_netlist` banks, with the port that sets their
#: bank size (bits per column: ``arr_fine`` has ``K - 1`` sampler bits per ``arr_cmp`` column).
BANKED_INPUTS = {"arr_fine": "arr_cmp", "arr_ref_fine": "arr_ref_cmp"}

_INPUT = re.compile(r"^(\s*)input\s+\[(\d+):0\]\s+([A-Za-z_][\w$]*)\s*;\n", re.M)


def bank_inputs(text: str, banks: dict[str, int]) -> str:
    """``text`` (one module, plain Verilog) with each bit select ``name[i]`` of an input
    port ``name`` in ``banks`` read from ``name__bank<i // b>[i % b]`` instead, where
    ``b = banks[name]`` and ``name__bank<j>`` is a wire equal to ``name[j b +: b]`` (and each
    part select within one bank from that bank): the same values, with one part select per
    bank on the wide port instead of one per bit or per reader."""
    declared = {m.group(3): m for m in _INPUT.finditer(text)}
    for name, size in banks.items():
        m = declared.get(name)
        if m is None or size < 1:
            continue
        width = int(m.group(2)) + 1
        if f"{name}__bank" in text:
            raise RuntimeError(f"the netlist already has a wire named {name}__bank...")
        select = re.compile(rf"(?<![\w$\\.]){re.escape(name)}\[(\d+)\]")
        text = select.sub(lambda s, name=name, size=size: f"{name}__bank{int(s.group(1)) // size}"
                          f"[{int(s.group(1)) % size}]", text)
        # part selects within one bank (a column's sampler bits taken whole)
        part = re.compile(rf"(?<![\w$\\.]){re.escape(name)}\[(\d+):(\d+)\]")

        def _part(s, name=name, size=size, width=width):
            hi, lo = int(s.group(1)), int(s.group(2))
            j = lo // size
            if hi // size != j:
                return s.group(0)
            if lo == j * size and hi == min(width, (j + 1) * size) - 1:
                return f"{name}__bank{j}"
            return f"{name}__bank{j}[{hi % size}:{lo % size}]"

        text = part.sub(_part, text)
        wires = "".join(
            f"{m.group(1)}wire [{min(size, width - lo) - 1}:0] {name}__bank{lo // size} = "
            f"{name}[{min(width, lo + size) - 1}:{lo}];\n" for lo in range(0, width, size))
        at = text.index(m.group(0)) + len(m.group(0))
        text = text[:at] + wires + text[at:]
    return text


def rtl_register(rtl, path) -> object:
    """The handle of the register at instance path ``path`` (e.g. ``("sequencer",
    "seq_state")``) of the macro ``rtl``: through the hierarchy of the generated Verilog, or by
    its name in the flattened netlist Icarus simulates (:func:`flat_name`).

    Raises:
        AttributeError: neither exists.
    """
    handle = rtl
    try:
        for part in path:
            handle = getattr(handle, part)
    except AttributeError:
        return getattr(rtl, flat_name(path))
    return handle


def _bank_sizes(text: str) -> dict[str, int]:
    widths = {m.group(3): int(m.group(2)) + 1 for m in _INPUT.finditer(text)}
    sizes = {}
    for name, per in BANKED_INPUTS.items():
        if name in widths and widths.get(per) and widths[name] % widths[per] == 0:
            sizes[name] = widths[name] // widths[per]
    return sizes


def event_netlist(verilog: str, *, top: str = "mram_macro") -> str:
    """The simulation netlist of the generated Verilog ``verilog`` (module ``top``); see the
    module docstring. Verilog without clock gates (the ungated reference design) is
    rewritten the same way.

    Raises:
        RuntimeError: Yosys is missing or fails (its last output lines in the message).
    """
    if shutil.which("yosys") is None:
        raise RuntimeError("yosys is not on PATH: run `make setup`")
    gates = verilog.count(ICG_VERILOG)
    if gates > 1:
        raise RuntimeError(f"the Verilog defines the clock gate {gates} times")
    source = verilog.replace(ICG_VERILOG, ICG_VERILOG_EVENT)
    with tempfile.TemporaryDirectory(prefix="mram-netlist-") as tmp:
        rtl, out = Path(tmp) / "rtl.v", Path(tmp) / "flat.v"
        rtl.write_text(source)
        script = "; ".join([f"read_verilog {rtl}", f"hierarchy -check -top {top}",
                            *EVENT_NETLIST_SCRIPT, f"write_verilog -noattr {out}"])
        done = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
        if done.returncode != 0 or not out.is_file():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"yosys could not write the simulation netlist of {top}:\n{tail}")
        flat = out.read_text()
    flat = _KEPT.sub(lambda m: flat_name(m.group(1).split(".")) + " ", flat)
    return _HEADER.format(top=top, digest=_digest(verilog)) + bank_inputs(flat, _bank_sizes(flat))


def write_event_netlist(rtl: Path, path: Path, *, top: str = "mram_macro") -> Path:
    """:func:`event_netlist` of the Verilog file ``rtl`` at ``path``, rewritten only when the
    RTL changed (its digest is in the first line), so a simulator build stays current."""
    verilog = rtl.read_text()
    if path.is_file():
        with path.open() as f:
            first = f.readline()
        if first == _HEADER.format(top=top, digest=_digest(verilog)):
            return path
    text = event_netlist(verilog, top=top)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
