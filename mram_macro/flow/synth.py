"""Gate-level synthesis and area reports with Debian's Yosys and the OSU 0.18 µm standard cells.

Amaranth's own Verilog backend needs a recent Yosys (it bundles one as WebAssembly); the generated
Verilog is then mapped onto Liberty cells by the system ``yosys`` (0.23 on Debian 12), which ships
with ABC. The flow keeps the design hierarchy, so every Amaranth submodule (named like
``mram_macro.tdc`` in the Verilog) gets its own row in the report::

    read_verilog -sv design.v
    hierarchy -check -top TOP
    synth -top TOP
    dfflibmap -liberty LIB
    abc -liberty LIB
    opt_clean
    stat -liberty LIB

Areas are in µm² as given by the Liberty file; gate equivalents (GE) are areas divided by the area
of the ``NAND2X1`` (OSU) or ``NAND2_X1`` (NanGate) cell of the same library.

That hierarchical run is for the **per-block area table** only. Timing and power are signed off on
a **flat** netlist (:func:`synthesize_flat`): flattened so ABC sees whole paths across blocks,
timing-driven ABC (``abc -D <period_ps> -constr``, with a driving cell on the inputs and a load on
the outputs) that sizes gates and buffers high-fanout nets (the synchronous reset reaches
thousands of flip-flops), tie cells for constants::

    read_verilog -sv design.v
    hierarchy -check -top TOP
    synth -flatten -top TOP
    dfflibmap -liberty LIB
    abc -D PERIOD_PS -constr constr.sdc -liberty LIB
    hilomap -hicell TIEHI Y -locell TIELO Y
    opt_clean
    stat -liberty LIB

then, with a ``clock_buffer``, a balanced, fanout-limited buffer tree on every clock net
(:mod:`mram_macro.flow.clock_tree`: Yosys has no clock-tree synthesis).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mram_macro.flow.ppa.fetch import (
    OSU018_PACKAGE,
    OSU018_SHA256,
    fetch_debian_member,
    locate_liberty,
)

__all__ = [
    "LIBERTY_ENV_VAR", "DEFAULT_LIBERTY", "GE_REFERENCE_CELL",
    "SynthesisError", "LibertyCell", "ModuleArea", "AreaReport",
    "find_liberty", "read_liberty_cells", "check_liberty", "synthesize", "run_yosys_check",
    "FlatNetlist", "synthesize_flat", "count_cells", "flat_netlist_summary",
]

#: Environment variable that overrides where the Liberty file is looked for.
LIBERTY_ENV_VAR = "MRAM_LIBERTY"
#: Where ``tools/setup.sh`` (``make setup``) puts the OSU 0.18 µm Liberty file.
DEFAULT_LIBERTY = Path(__file__).resolve().parents[2] / ".tools" / "lib" / "osu018_stdcells.lib"
#: The cell whose area is one gate equivalent (OSU's name; NanGate's NAND2_X1 if absent).
GE_REFERENCE_CELL = "NAND2X1"
GE_REFERENCE_CELLS = (GE_REFERENCE_CELL, "NAND2_X1")

_LOG_TAIL_LINES = 40


class SynthesisError(RuntimeError):
    """Yosys failed or its output could not be understood; ``log`` holds the full Yosys log."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


def fetch_osu018_liberty(dest: Path) -> Path:
    """Fetch the OSU 0.18 µm Liberty file into ``dest`` (a file path): ``apt-get download``
    of :data:`OSU018_PACKAGE` (no root, nothing installed), ``dpkg-deb -x`` into a temporary
    folder, the sha256 checked against :data:`OSU018_SHA256`, then moved into place
    (:func:`mram_macro.flow.ppa.fetch.fetch_debian_member`).

    Raises:
        FileNotFoundError: it could not be fetched or its hash differs; the message says why
            and what to do instead.
    """
    return fetch_debian_member(
        OSU018_PACKAGE, DEFAULT_LIBERTY.name, dest, OSU018_SHA256,
        what="OSU 0.18 um Liberty file",
        hint=f"set ${LIBERTY_ENV_VAR} to a Liberty file, or run `make setup` in a checkout")


def find_liberty() -> Path:
    """Return the Liberty file to synthesise against.

    ``$MRAM_LIBERTY`` wins if set; otherwise ``<repo>/.tools/lib/osu018_stdcells.lib`` (a
    checkout after ``make setup``); otherwise the copy in the user's cache (hash checked),
    fetched there on first use (:func:`fetch_osu018_liberty`, hash checked).

    Raises:
        FileNotFoundError: the file does not exist or cannot be fetched; the message says how
            to get it.
    """
    override = os.environ.get(LIBERTY_ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if path.is_dir():
            raise FileNotFoundError(
                f"Liberty file {str(path)!r} (from ${LIBERTY_ENV_VAR}) is a directory; name "
                f"the .lib file in it, or unset {LIBERTY_ENV_VAR} to use the one installed by "
                f"`make setup`"
            )
        if not path.is_file():
            raise FileNotFoundError(
                f"Liberty file {str(path)!r} (from ${LIBERTY_ENV_VAR}) does not exist; "
                f"unset {LIBERTY_ENV_VAR} to use the one installed by `make setup`"
            )
        return path
    return locate_liberty(DEFAULT_LIBERTY, OSU018_SHA256, fetch_osu018_liberty,
                          what="OSU 0.18 um Liberty file")


@dataclass(frozen=True)
class LibertyCell:
    """One standard cell of a Liberty library."""

    name: str
    area_um2: float
    #: The cell contains an ``ff`` group (a flip-flop).
    is_flip_flop: bool


_LIB_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LIB_CELL = re.compile(r"\bcell\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*\{")
_LIB_AREA = re.compile(r"\barea\s*:\s*([0-9.eE+-]+)\s*;")
_LIB_FF = re.compile(r"\bff\s*\(")


def read_liberty_cells(liberty: str | os.PathLike[str]) -> dict[str, LibertyCell]:
    """Read the name, area and flip-flop-ness of every cell in a Liberty file.

    A light reader, not a Liberty parser: it relies on each ``cell (...) { ... }`` group carrying
    its own ``area`` attribute before the next cell starts, which holds for the OSU libraries.
    """
    text = _LIB_COMMENT.sub("", Path(liberty).read_text(encoding="utf-8", errors="replace"))
    headers = list(_LIB_CELL.finditer(text))
    if not headers:       # also keeps the pairing below from seeing an empty library
        raise SynthesisError(f"no cells with an area found in Liberty file {str(liberty)!r}")
    cells = {}
    for this, following in zip(headers, [*headers[1:], None], strict=True):
        body = text[this.end():following.start() if following else len(text)]
        area = _LIB_AREA.search(body)
        if area is None:
            continue
        name = this.group(1)
        cells[name] = LibertyCell(name, float(area.group(1)), bool(_LIB_FF.search(body)))
    if not cells:
        raise SynthesisError(f"no cells with an area found in Liberty file {str(liberty)!r}")
    return cells


_LIB_STRING = re.compile(r'"[^"]*"')


def _liberty_cut_short(text: str) -> str | None:
    """Why a Liberty text ends inside a comment, a string or a group, or None.

    Yosys 0.23's reader does not say: it reads a file cut in a comment or between groups
    without complaint, and on an unterminated string it allocates until memory runs out."""
    text = _LIB_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text)   # keep line numbers
    if (at := text.find("/*")) >= 0:
        line = text.count("\n", 0, at) + 1
        return f"the comment opened on line {line} is not closed"
    if text.count('"') % 2:
        line = text.count("\n", 0, text.rindex('"')) + 1
        return f"the string opened on line {line} is not closed"
    text = _LIB_STRING.sub("", text)
    opened, closed = text.count("{"), text.count("}")
    if opened != closed:
        return f"it opens {opened} groups with '{{' but closes {closed} with '}}'"
    return None


def check_liberty(liberty: str | os.PathLike[str]) -> dict[str, LibertyCell]:
    """The cells of ``liberty``, checked before any synthesis to be a library this flow can map
    onto: cells with areas (:func:`read_liberty_cells`), every comment, string and group closed,
    a file Yosys's Liberty reader parses, a NAND2 cell for the gate equivalent and a latch and
    an inverter for the clock gates (:func:`latch_techmap`). Needs ``yosys`` on PATH.

    Raises:
        SynthesisError: a one-line message saying what is missing or where Yosys stopped.
    """
    cells = read_liberty_cells(liberty)
    cut = _liberty_cut_short(Path(liberty).read_text(encoding="utf-8", errors="replace"))
    if cut is not None:
        raise SynthesisError(f"{cut}; is the file cut short?")
    with tempfile.TemporaryDirectory(prefix="mram-liberty-") as tmp:
        try:
            _run_yosys(f"read_liberty -lib {_quote(Path(liberty).resolve())}\n", Path(tmp),
                       "liberty", keep=False)
        except SynthesisError as exc:
            errors = [line.split("ERROR:", 1)[1].strip() for line in exc.log.splitlines()
                      if "ERROR:" in line]
            reason = errors[0] if errors else str(exc).splitlines()[0]
            raise SynthesisError(f"Yosys cannot read it: {reason}", exc.log) from None
    if not any(name in cells for name in GE_REFERENCE_CELLS):
        raise SynthesisError(f"the Liberty file has none of the NAND2 cells "
                             f"{', '.join(GE_REFERENCE_CELLS)} (the gate-equivalent reference)")
    latch_techmap(cells)
    return cells


@dataclass(frozen=True)
class ModuleArea:
    """Area of one module of the synthesised hierarchy, counting only its own cells."""

    name: str
    #: Standard cells instantiated directly in this module, by cell type.
    cells: Mapping[str, int]
    #: Child modules instantiated directly in this module, by module name.
    submodules: Mapping[str, int]
    #: Number of instances of this module in the whole design (1 for the top).
    instances: int
    area_um2: float
    nand2_ge: float
    flip_flops: int
    #: Cells whose area the Liberty file does not give (unmapped Yosys cells); not in area_um2.
    unknown_cells: Mapping[str, int]

    @property
    def cell_count(self) -> int:
        return sum(self.cells.values())


@dataclass(frozen=True)
class AreaReport:
    """Per-module and total area of one synthesised design.

    ``modules`` is ordered top first, then depth first through the hierarchy. Per-module numbers
    count a module's own cells once; the totals count every instance of every module.
    """

    top: str
    modules: Mapping[str, ModuleArea]
    total_area_um2: float
    total_cells: int
    total_flip_flops: int
    nand2_area_um2: float
    liberty: Path
    #: Synthesised gate-level netlist and full Yosys log (in ``workdir``, if one was given).
    netlist: Path | None = None
    log: Path | None = None
    #: Hierarchical count of cells without a Liberty area; empty for a fully mapped design.
    unknown_cells: Mapping[str, int] = field(default_factory=dict)

    @property
    def total_nand2_ge(self) -> float:
        return self.total_area_um2 / self.nand2_area_um2

    def table(self) -> str:
        """Fixed-width table: one row per module (own cells), then the hierarchical TOTAL."""
        width = max(len("TOTAL"), len("block"), *(len(name) for name in self.modules))
        rows = [f"{'block':<{width}}  {'inst':>4}  {'cells':>7}  {'area µm²':>12}  "
                f"{'NAND2-GE':>10}"]
        rows.append("-" * len(rows[0]))
        for mod in self.modules.values():
            rows.append(f"{mod.name:<{width}}  {mod.instances:>4}  {mod.cell_count:>7}  "
                        f"{mod.area_um2:>12.1f}  {mod.nand2_ge:>10.1f}")
        rows.append("-" * len(rows[0]))
        rows.append(f"{'TOTAL':<{width}}  {'':>4}  {self.total_cells:>7}  "
                    f"{self.total_area_um2:>12.1f}  {self.total_nand2_ge:>10.1f}")
        rows.append(f"1 GE = NAND2 = {self.nand2_area_um2:g} µm² "
                    f"({self.liberty.name}); {self.total_flip_flops} flip-flops")
        if self.unknown_cells:
            listing = ", ".join(f"{n}×{c}" for n, c in sorted(self.unknown_cells.items()))
            rows.append(f"WARNING: cells without a Liberty area, not counted: {listing}")
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for JSON)."""
        return {
            "top": self.top,
            "liberty": str(self.liberty),
            "nand2_area_um2": self.nand2_area_um2,
            "total_area_um2": self.total_area_um2,
            "total_nand2_ge": self.total_nand2_ge,
            "total_cells": self.total_cells,
            "total_flip_flops": self.total_flip_flops,
            "unknown_cells": dict(self.unknown_cells),
            "modules": {
                name: {
                    "instances": mod.instances,
                    "cells": mod.cell_count,
                    "area_um2": mod.area_um2,
                    "nand2_ge": mod.nand2_ge,
                    "flip_flops": mod.flip_flops,
                    "cells_by_type": dict(mod.cells),
                    "submodules": dict(mod.submodules),
                    "unknown_cells": dict(mod.unknown_cells),
                }
                for name, mod in self.modules.items()
            },
        }


def _yosys() -> str:
    exe = shutil.which("yosys")
    if exe is None:
        raise FileNotFoundError("`yosys` is not on PATH; run `make setup` (Debian package yosys)")
    return exe


def _quote(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    if '"' in text:
        raise ValueError(f"Yosys scripts cannot quote a path containing '\"': {text!r}")
    return f'"{text}"'


def _check_top(top: object) -> str:
    if not isinstance(top, str) or not re.fullmatch(r"[^\s;\"'\\]+", top):
        raise ValueError(f"top must be a module name without spaces, quotes or ';', not {top!r}")
    return top


def _tail(log: str, lines: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(log.rstrip().splitlines()[-lines:])


def _run_yosys(script: str, workdir: Path, what: str, *, keep: bool) -> str:
    """Run a Yosys script in ``workdir``; return the log, or raise SynthesisError with its tail.

    ``keep`` says whether ``workdir`` outlives the call, i.e. whether the error may point at it.
    """
    script_path = workdir / f"{what}.ys"
    log_path = workdir / f"{what}.log"
    script_path.write_text(script, encoding="utf-8")
    proc = subprocess.run(
        [_yosys(), "-q", "-l", str(log_path), "-s", str(script_path)],
        cwd=workdir, capture_output=True, text=True, check=False,
    )
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    if proc.returncode != 0:
        log = log or proc.stdout + proc.stderr
        where = f"full log: {log_path}" if keep else "full log in the exception's .log"
        errors = [line.strip() for line in log.splitlines() if "ERROR:" in line]
        first = f": {errors[0]}" if errors else f" (exit {proc.returncode})"
        message = f"yosys {what} failed{first}\n{where}; last lines:\n"
        raise SynthesisError(message + _tail(log), log)
    return log


_STAT_SECTION = re.compile(r"^=== (.+) ===\s*$")
_STAT_CELL = re.compile(r"^\s+(\S+)\s+(\d+)\s*$")
_STAT_MODULE_AREA = re.compile(r"^\s*Chip area for module '\\?(.+)':\s*([0-9.eE+-]+)\s*$")
_STAT_TOP_AREA = re.compile(r"^\s*Chip area for top module '\\?(.+)':\s*([0-9.eE+-]+)\s*$")


def _parse_stat(text: str) -> tuple[dict[str, dict[str, int]], dict[str, float], float | None]:
    """Parse the text of Yosys 0.23's ``stat -liberty``.

    Returns the cell counts by type of each module (child modules included as types), the chip
    area Yosys reports for each module, and the hierarchical area of the top (None if absent).
    """
    counts: dict[str, dict[str, int]] = {}
    areas: dict[str, float] = {}
    top_area = None
    section = None
    for line in text.splitlines():
        if m := _STAT_SECTION.match(line):
            section = m.group(1).removeprefix("\\")
            if section != "design hierarchy":
                counts[section] = {}
        elif section is None:
            continue
        elif section == "design hierarchy":
            if m := _STAT_TOP_AREA.match(line):
                top_area = float(m.group(2))
        elif m := _STAT_MODULE_AREA.match(line):
            areas[m.group(1)] = float(m.group(2))
        elif m := _STAT_CELL.match(line):
            counts[section][m.group(1).removeprefix("\\")] = int(m.group(2))
    return counts, areas, top_area


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-3)


def _build_report(stat_text: str, top: str, lib_cells: Mapping[str, LibertyCell],
                  liberty: Path, log: str) -> AreaReport:
    counts, yosys_areas, yosys_top_area = _parse_stat(stat_text)
    if top not in counts:
        raise SynthesisError(
            f"could not find module {top!r} in the Yosys statistics (found {sorted(counts)})", log)
    ge_cell = next((c for c in GE_REFERENCE_CELLS if c in lib_cells), None)
    if ge_cell is None:
        raise SynthesisError(f"Liberty file {str(liberty)!r} has none of the NAND2 cells "
                             f"{', '.join(GE_REFERENCE_CELLS)}")
    nand2 = lib_cells[ge_cell].area_um2

    # Instances of each module in the whole design, by walking down from the top.
    order: list[str] = []
    instances: dict[str, int] = {name: 0 for name in counts}

    def visit(name: str, multiplier: int) -> None:
        if instances[name] == 0:
            order.append(name)
        instances[name] += multiplier
        for child, n in sorted(counts[name].items()):
            if child in counts:
                visit(child, multiplier * n)

    visit(top, 1)

    modules = {}
    unknown_total: dict[str, int] = {}
    for name in order:
        own = {t: n for t, n in counts[name].items() if t not in counts}
        subs = {t: n for t, n in counts[name].items() if t in counts}
        unknown = {t: n for t, n in own.items() if t not in lib_cells}
        area = sum(lib_cells[t].area_um2 * n for t, n in own.items() if t in lib_cells)
        if name in yosys_areas and not _close(area, yosys_areas[name]):
            raise SynthesisError(
                f"area of {name!r} from the Liberty file ({area}) disagrees with Yosys "
                f"({yosys_areas[name]}); the stat output was misread", log)
        for t, n in unknown.items():
            unknown_total[t] = unknown_total.get(t, 0) + n * instances[name]
        modules[name] = ModuleArea(
            name=name,
            cells=MappingProxyType(own),
            submodules=MappingProxyType(subs),
            instances=instances[name],
            area_um2=area,
            nand2_ge=area / nand2,
            flip_flops=sum(n for t, n in own.items()
                           if t in lib_cells and lib_cells[t].is_flip_flop),
            unknown_cells=MappingProxyType(unknown),
        )

    total_area = sum(m.area_um2 * m.instances for m in modules.values())
    if yosys_top_area is not None and not _close(total_area, yosys_top_area):
        raise SynthesisError(
            f"hierarchical area of {top!r} ({total_area}) disagrees with Yosys "
            f"({yosys_top_area}); the stat output was misread", log)
    return AreaReport(
        top=top,
        modules=MappingProxyType(modules),
        total_area_um2=total_area,
        total_cells=sum(m.cell_count * m.instances for m in modules.values()),
        total_flip_flops=sum(m.flip_flops * m.instances for m in modules.values()),
        nand2_area_um2=nand2,
        liberty=liberty,
        unknown_cells=MappingProxyType(unknown_total),
    )


def synthesize(verilog_path: str | os.PathLike[str], top: str, *,
               liberty: str | os.PathLike[str] | None = None,
               workdir: str | os.PathLike[str] | None = None) -> AreaReport:
    """Synthesise ``top`` from a Verilog file onto Liberty cells and report its area.

    Args:
        verilog_path: Verilog (e.g. from ``amaranth.back.verilog.convert``) defining ``top`` and
            all its submodules.
        top: name of the top module.
        liberty: Liberty file; default :func:`find_liberty`.
        workdir: directory for the Yosys script, log (``synth.log``), statistics (``stat.txt``)
            and gate-level netlist (``<top>_netlist.v``); created if needed. Default: a temporary
            directory that is removed afterwards (the report's ``netlist`` and ``log`` are then
            None).

    Raises:
        FileNotFoundError: the Verilog, the Liberty file or ``yosys`` is missing.
        SynthesisError: Yosys failed (the message ends with the tail of its log).
    """
    _check_top(top)
    verilog = Path(verilog_path).resolve()
    if not verilog.is_file():
        raise FileNotFoundError(f"Verilog file {str(verilog)!r} does not exist")
    lib = Path(liberty).resolve() if liberty is not None else find_liberty().resolve()
    if not lib.is_file():
        raise FileNotFoundError(f"Liberty file {str(lib)!r} does not exist; run `make setup`")
    lib_cells = read_liberty_cells(lib)

    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="mram-synth-") as tmp:
            return _synthesize_in(verilog, top, lib, lib_cells, Path(tmp), keep=False)
    out = Path(workdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    return _synthesize_in(verilog, top, lib, lib_cells, out, keep=True)


#: Latch cells (cell, data pin, enable pin, output pin, enable active high) of the Liberty files
#: the flow knows, for :func:`latch_techmap`: Yosys 0.23's ``dfflibmap`` maps no latches.
_LATCH_CELLS = (("DLL_X1", "D", "GN", "Q", False), ("DLH_X1", "D", "G", "Q", True),
                ("LATCH", "D", "CLK", "Q", True))
_INVERTERS = (("INV_X1", "A", "ZN"), ("INVX1", "A", "Y"))


def latch_techmap(lib_cells: Mapping[str, LibertyCell]) -> str:
    """A Yosys techmap file mapping ``$_DLATCH_N_``/``$_DLATCH_P_`` (the clock gates' enable
    latches, :mod:`mram_macro.rtl.periphery.clock_gate`) onto the library's latch cell, with an
    inverter where the enable polarity differs. SynthesisError if the library has neither."""
    latch = next((c for c in _LATCH_CELLS if c[0] in lib_cells), None)
    inv = next((c for c in _INVERTERS if c[0] in lib_cells), None)
    if latch is None or inv is None:
        raise SynthesisError(
            "the Liberty file has no known latch cell (one of "
            f"{', '.join(c[0] for c in _LATCH_CELLS)}) or inverter for the clock gates")
    cell, d, en, q, high = latch
    out = []
    for name, active_high in (("$_DLATCH_P_", True), ("$_DLATCH_N_", False)):
        if active_high == high:
            body = f"  {cell} _TECHMAP_REPLACE_ (.{d}(D), .{en}(E), .{q}(Q));\n"
        else:
            body = (f"  wire e_n;\n  {inv[0]} inv (.{inv[1]}(E), .{inv[2]}(e_n));\n"
                    f"  {cell} _TECHMAP_REPLACE_ (.{d}(D), .{en}(e_n), .{q}(Q));\n")
        out.append(f"module \\{name} (E, D, Q);\n  input E, D;\n  output Q;\n{body}endmodule\n")
    return "".join(out)


def _synthesize_in(verilog: Path, top: str, lib: Path, lib_cells: Mapping[str, LibertyCell],
                   workdir: Path, *, keep: bool) -> AreaReport:
    # Outputs are named relative to workdir (Yosys's cwd): `tee -o` takes no quoted paths.
    netlist_name = re.sub(r"[^\w.-]", "_", top) + "_netlist.v"
    stat_path = workdir / "stat.txt"
    stat_path.unlink(missing_ok=True)
    (workdir / "latch_map.v").write_text(latch_techmap(lib_cells))
    script = "\n".join([
        f"read_verilog -sv {_quote(verilog)}",
        f"hierarchy -check -top {top}",
        f"synth -top {top}",
        "techmap -map latch_map.v",
        f"dfflibmap -liberty {_quote(lib)}",
        f"abc -liberty {_quote(lib)}",
        "opt_clean",
        f"tee -o {stat_path.name} stat -liberty {_quote(lib)}",
        f"write_verilog -noattr {netlist_name}",
        "",
    ])
    log = _run_yosys(script, workdir, "synth", keep=keep)
    report = _build_report(stat_path.read_text(encoding="utf-8"), top, lib_cells, lib, log)
    if not keep:
        return report
    return replace(report, netlist=workdir / netlist_name, log=workdir / "synth.log")


def run_yosys_check(verilog_path: str | os.PathLike[str], top: str) -> None:
    """Elaborate ``top`` and run Yosys's ``check -assert`` (multiple drivers, undriven wires used,
    combinational loops, ...).

    Raises:
        SynthesisError: a check failed; the message ends with the tail of the Yosys log.
    """
    _check_top(top)
    verilog = Path(verilog_path).resolve()
    if not verilog.is_file():
        raise FileNotFoundError(f"Verilog file {str(verilog)!r} does not exist")
    script = "\n".join([
        f"read_verilog -sv {_quote(verilog)}",
        f"hierarchy -check -top {top}",
        "proc",
        "check -assert",
        "",
    ])
    with tempfile.TemporaryDirectory(prefix="mram-check-") as tmp:
        _run_yosys(script, Path(tmp), "check", keep=False)


@dataclass(frozen=True)
class FlatNetlist:
    """A flat, timing-driven gate-level netlist (for STA and power, not for the block table)."""

    netlist: Path
    top: str
    liberty: Path
    period_ps: float
    area_um2: float
    cells: Mapping[str, int]
    flip_flops: int
    log: Path
    #: The clock trees inserted after synthesis (None: clock nets left unbuffered).
    clock_tree: Any = None


def count_cells(netlist: Path) -> dict[str, int]:
    """Cell instances by type in a flat gate-level netlist."""
    from mram_macro.flow.ppa.netlist import read_instances

    counts: dict[str, int] = {}
    for inst in read_instances(netlist):
        counts[inst.cell] = counts.get(inst.cell, 0) + 1
    return counts


def synthesize_flat(verilog_path: str | os.PathLike[str], top: str, *,
                    liberty: str | os.PathLike[str], period_ps: float, driving_cell: str,
                    output_load: float, tie_hi: tuple[str, str], tie_lo: tuple[str, str],
                    workdir: str | os.PathLike[str],
                    clock_buffer: tuple[str, str, str] | None = None,
                    clock_max_fanout: int = 16,
                    clock_pad_buffer: tuple[str, str, str] | None = None) -> FlatNetlist:
    """Flat synthesis for sign-off: timing-driven ABC aiming at ``period_ps``, with
    ``driving_cell`` on every input and ``output_load`` (Liberty capacitance unit) on every
    output; writes ``<top>_flat.v`` into ``workdir``. With ``clock_buffer`` (cell, input pin,
    output pin), every clock net then gets a buffer tree of at most ``clock_max_fanout`` pins
    per buffer (:func:`mram_macro.flow.clock_tree.insert_clock_trees`), padded for balance with
    ``clock_pad_buffer`` (default ``clock_buffer``).

    Raises:
        FileNotFoundError: the Verilog, the Liberty file or ``yosys`` is missing.
        ValueError: a non-positive period or load.
        SynthesisError: Yosys failed.
    """
    _check_top(top)
    if not (isinstance(period_ps, int | float) and period_ps > 0):
        raise ValueError(f"period_ps must be a positive number, not {period_ps!r}")
    if not (isinstance(output_load, int | float) and output_load >= 0):
        raise ValueError(f"output_load must be a non-negative number, not {output_load!r}")
    verilog = Path(verilog_path).resolve()
    if not verilog.is_file():
        raise FileNotFoundError(f"Verilog file {str(verilog)!r} does not exist")
    lib = Path(liberty).resolve()
    if not lib.is_file():
        raise FileNotFoundError(f"Liberty file {str(lib)!r} does not exist; run `make setup`")
    lib_cells = read_liberty_cells(lib)
    out = Path(workdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "constr.sdc").write_text(f"set_driving_cell {driving_cell}\nset_load {output_load}\n")
    netlist_name = re.sub(r"[^\w.-]", "_", top) + "_flat.v"
    stat_path = out / "stat_flat.txt"
    stat_path.unlink(missing_ok=True)
    (out / "latch_map.v").write_text(latch_techmap(lib_cells))
    script = "\n".join([
        f"read_verilog -sv {_quote(verilog)}",
        f"hierarchy -check -top {top}",
        f"synth -flatten -top {top}",
        "techmap -map latch_map.v",
        f"dfflibmap -liberty {_quote(lib)}",
        f"abc -D {period_ps:g} -constr constr.sdc -liberty {_quote(lib)}",
        f"hilomap -hicell {tie_hi[0]} {tie_hi[1]} -locell {tie_lo[0]} {tie_lo[1]}",
        "setundef -zero",
        "opt_clean",
        f"tee -o {stat_path.name} stat -liberty {_quote(lib)}",
        # -simple-lhs: OpenSTA 2.0.17 cannot parse `assign {a, b} = ...` (partial aliases of a
        # bus, e.g. the coarse table's outputs); designs without such aliases are unchanged.
        f"write_verilog -noattr -noexpr -simple-lhs {netlist_name}",
        "",
    ])
    log = _run_yosys(script, out, "synth_flat", keep=True)
    counts, _, _ = _parse_stat(stat_path.read_text(encoding="utf-8"))
    if top not in counts:
        raise SynthesisError(f"could not find module {top!r} in the Yosys statistics", log)
    cells = counts[top]
    unknown = sorted(t for t in cells if t not in lib_cells)
    if unknown:
        raise SynthesisError(f"flat netlist has unmapped cells: {', '.join(unknown)}", log)
    tree = None
    if clock_buffer is not None:
        from mram_macro.flow.clock_tree import insert_clock_trees, insert_fanout_trees
        from mram_macro.rtl.periphery.edge_tdc import BROADCAST_NETS

        # an edge-capture TDC's count broadcasts, within their budget (none elsewhere)
        if insert_fanout_trees(out / netlist_name, lib, BROADCAST_NETS, buffer=clock_buffer,
                               max_fanout=clock_max_fanout):
            cells = count_cells(out / netlist_name)
        tree = insert_clock_trees(out / netlist_name, lib, buffer=clock_buffer,
                                  max_fanout=clock_max_fanout, pad_buffer=clock_pad_buffer)
        cells = count_cells(out / netlist_name)
    return flat_netlist_summary(out / netlist_name, top, lib, float(period_ps), cells,
                                lib_cells, out / "synth_flat.log", tree)


def flat_netlist_summary(netlist: Path, top: str, liberty: Path, period_ps: float,
                         cells: Mapping[str, int], lib_cells: Mapping[str, LibertyCell],
                         log: Path, clock_tree: Any = None) -> FlatNetlist:
    """A :class:`FlatNetlist` with area and flip-flop count from ``cells`` (type -> count)."""
    return FlatNetlist(
        netlist=netlist, top=top, liberty=liberty, period_ps=period_ps,
        area_um2=sum(lib_cells[t].area_um2 * n for t, n in cells.items()),
        cells=MappingProxyType(dict(cells)),
        flip_flops=sum(n for t, n in cells.items() if lib_cells[t].is_flip_flop),
        log=log, clock_tree=clock_tree)
