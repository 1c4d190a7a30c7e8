"""Placement and routing of a :class:`~mram_macro.flow.layout.netlist.PhysicalNetlist` with qflow's
tools, driven step by step (not through ``qflow``'s own project scripts, which would
re-synthesise): each step's command and log are kept in the work directory.

1. ``blif2cel.tcl``: the BLIF and the LEFs -> GrayWolf's cell file (centimicrons, the grid of
   the FreePDK45 ``.par`` file);
2. ``decongest.tcl``: pads cells with filler width until the rows are filled to ``density``
   (GrayWolf packs the rows full otherwise, and qrouter cannot finish a 97 %-full core);
3. pin groups appended to the cell file: the array's ports (``arr_*``) on the **top** edge,
   which faces the array's black box (:mod:`mram_macro.flow.layout.floorplan`), every other port on
   the bottom edge;
4. ``graywolf``: global and detailed placement;
5. ``place2def.tcl``: the placement as DEF; the instances renamed back to the netlist's names;
6. ``qrouter``: detailed routing on metal1 .. metal<n> (the standard script: route, reroute the
   failures, clean up), DEF with the wires out;
7. ``spef_extractor``: the routed DEF and the LEFs -> SPEF (resistance per square and
   capacitance per area and per edge of each layer from the technology LEF).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from mram_macro.flow.layout.netlist import LayoutError, PhysicalNetlist
from mram_macro.flow.layout.tech import SPEF_EXTRACTOR, PhysicalLibrary
from mram_macro.flow.ppa.power import liberty_output_pins

__all__ = ["PlaceRouteResult", "place_and_route", "pnr_cache_key", "ARRAY_PORT_PREFIX",
           "QFLOW_SCRIPTS"]

QFLOW_SCRIPTS = Path("/usr/lib/qflow/scripts")
#: Bump when a change here changes the layout (the cache key of :func:`place_and_route`).
FLOW_VERSION = 3
#: Ports that connect to the array (mram_macro.flow.sdc.ARRAY_PREFIX): on the edge facing it.
ARRAY_PORT_PREFIX = "arr_"


@dataclass(frozen=True)
class PlaceRouteResult:
    workdir: Path
    placed_def: Path
    routed_def: Path
    spef: Path
    verilog: Path
    #: Wall-clock seconds per step.
    runtimes_s: dict[str, float]
    #: Nets qrouter could not route (0 for a clean route), from its final report.
    failed_nets: int
    commands: list[str] = field(default_factory=list)


def _run(cmd: list[str], cwd: Path, log: str, what: str, *, timeout_s: float | None = None
         ) -> float:
    """Run ``cmd`` in ``cwd`` with its output in ``cwd/log``; its wall-clock seconds."""
    t0 = time.monotonic()
    with open(cwd / log, "w") as fh:
        try:
            r = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT,
                               timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise LayoutError(f"{what}: `{' '.join(cmd)}` did not finish in {timeout_s:.0f} s "
                              f"(log {cwd / log})") from None
        except FileNotFoundError as e:
            raise LayoutError(f"{what}: {e.filename} not found; run `make setup`") from None
    if r.returncode != 0:
        tail = "\n".join((cwd / log).read_text(errors="replace").splitlines()[-15:])
        raise LayoutError(f"{what}: `{' '.join(cmd)}` exited {r.returncode} "
                          f"(log {cwd / log}):\n{tail}")
    return time.monotonic() - t0


def pin_groups(pn: PhysicalNetlist) -> str:
    """GrayWolf pad groups: the array's ports on the top side, the others on the bottom."""
    arr = [b for b in pn.port_bits if b.startswith(ARRAY_PORT_PREFIX)]
    rest = [b for b in pn.port_bits if not b.startswith(ARRAY_PORT_PREFIX)]
    out = []
    for name, bits, side in (("array", arr, "T"), ("bus", rest, "B")):
        if bits:
            out += [f"padgroup {name} permute", *(f"twpin_{b} nonfixed" for b in bits),
                    f"restrict side {side}", ""]
    return "\n".join(out) + "\n"


_COMPONENT = re.compile(r"^(\s*-\s+)(\S+)(\s+)(\S+)", re.M)
_NET_PIN = re.compile(r"\(\s*(\S+)\s+(\S+)\s*\)")


def rename_components(def_text: str, names: dict[str, str]) -> str:
    """DEF text with every component ``<cell>_<k>`` renamed by ``names`` (also where nets name
    it); fill cells and anything not in ``names`` keep their names."""
    head, sep, rest = def_text.partition("COMPONENTS")
    comps, sep2, tail = rest.partition("END COMPONENTS")
    comps = _COMPONENT.sub(lambda m: m.group(1) + names.get(m.group(2), m.group(2))
                           + m.group(3) + m.group(4), comps)
    tail = _NET_PIN.sub(lambda m: f"( {names.get(m.group(1), m.group(1))} {m.group(2)} )", tail)
    return head + sep + comps + sep2 + tail


def with_nets(def_text: str, pn: PhysicalNetlist, names: dict[str, str]) -> str:
    """The placed DEF from ``place2def.tcl`` (components and pins; its NETS section would come
    from GrayWolf's global router, which is off: qrouter routes) completed with the netlist's
    nets, instances under their netlist names (``names``: ``blif2cel`` name -> instance)."""
    text = rename_components(def_text, names)
    # place2def writes track origins as floats ("TRACKS Y -56.00000000000001 ..."); DEF wants
    # integers, and spef_extractor's DEF reader stops on them (int() of the string).
    text = re.sub(r"^(TRACKS\s+[XY]\s+)(-?[0-9.]+)", lambda m: m.group(1)
                  + str(round(float(m.group(2)))), text, flags=re.M)
    cut = text.find("\nNETS ")
    if cut >= 0:
        text = text[:cut]
    text = text.split("\nEND DESIGN", 1)[0].rstrip() + "\n"
    if "END PINS" not in text:
        text += "END PINS\n"
    members: dict[str, list[str]] = {b: [f"( PIN {b} )"] for b in pn.port_bits}
    for inst in pn.instances:
        for pin, net in inst.pins.items():
            members.setdefault(net, []).append(f"( {inst.name} {pin} )")
    nets = {n: m for n, m in members.items() if len(m) > 1}
    lines = [f"\nNETS {len(nets)} ;"]
    # The name alone on its line, the ";" on the last pin's: qrouter's DEF writer takes the
    # net's name from a "-" line without ";" and appends the routes after the line with it.
    for n, m in nets.items():
        lines += [f"- {n}", "  " + " ".join(m) + " ;"]
    lines += ["END NETS", "", "END DESIGN", ""]
    return text + "\n".join(lines)


def one_line_vias(def_text: str) -> str:
    """DEF text with each VIAS entry on one line: spef_extractor 0.2.1 reads a via's
    ``+ RECT`` parts from the line of its ``-`` only (qrouter writes one part per line)."""
    m = re.search(r"^VIAS\s+\d+\s*;\n(.*?)^END VIAS", def_text, re.M | re.S)
    if m is None:
        return def_text
    entries = [" ".join(e.split()) for e in re.findall(r"-\s.*?;", m.group(1), re.S)]
    return def_text[:m.start(1)] + "\n".join(entries) + "\n" + def_text[m.end(1):]


def scale_def(def_text: str, factor: int) -> str:
    """DEF text with every coordinate (in parentheses, and TRACKS origins and steps) times
    ``factor`` and the UNITS line to match: spef_extractor 0.2.1 divides every length by 1000
    whatever the DEF's UNITS say, so it is handed the design in 1000 units per µm."""
    def coords(m):
        return "( " + " ".join(t if t == "*" else str(int(t) * factor)
                               for t in m.group(1).split()) + " )"

    m = re.search(r"UNITS\s+DISTANCE\s+MICRONS\s+(\d+)\s*;", def_text)
    if m is None:
        raise LayoutError("DEF without UNITS DISTANCE MICRONS")
    text = def_text.replace(m.group(0), f"UNITS DISTANCE MICRONS {int(m.group(1)) * factor} ;")
    text = re.sub(r"\(\s*((?:-?\d+|\*)(?:\s+(?:-?\d+|\*))*)\s*\)", coords, text)
    return re.sub(r"^(TRACKS\s+[XY]\s+)(-?\d+)(\s+DO\s+\d+\s+STEP\s+)(\d+)",
                  lambda t: f"{t.group(1)}{int(t.group(2)) * factor}{t.group(3)}"
                            f"{int(t.group(4)) * factor}", text, flags=re.M)


def merged_lef(phys: PhysicalLibrary, out: Path) -> Path:
    """Technology LEF and cell LEF in one file (spef_extractor reads one)."""
    cell, tech, _ = phys.require()
    tech_text = re.sub(r"^END LIBRARY\s*$", "", tech.read_text(), flags=re.M)
    # spef_extractor reads a layer's width from any line starting with WIDTH, the rows of a
    # SPACINGTABLE too (and then has none): the spacing tables are not needed to extract.
    tech_text = re.sub(r"^\s*SPACINGTABLE.*?;\s*$", "", tech_text, flags=re.M | re.S)
    cell_text = cell.read_text()
    # The cell LEF repeats the header (VERSION, BUSBITCHARS, UNITS ...): keep its macros.
    first = cell_text.find("\nSITE ")
    first = cell_text.find("\nMACRO ") if first < 0 else min(first, cell_text.find("\nMACRO "))
    out.write_text(tech_text + cell_text[first:])
    return out


def _failed_nets(route_log: str) -> int:
    found = re.findall(r"Final:\s*(No failed routes|(\d+)\s+failed routes?)", route_log)
    if not found:
        raise LayoutError("qrouter's log has no final routing summary")
    return int(found[-1][1]) if found[-1][1] else 0


def pnr_cache_key(pn: PhysicalNetlist, phys: PhysicalLibrary, density: float) -> str:
    """The key of a layout in its work folder: the netlist, the contents of the LEF views and
    the GrayWolf parameters, the placer's and router's settings and the flow's version, and
    nothing about where the files are (a checkout elsewhere, or another user's cache, finds
    the same layout: a miss re-runs the whole chain and first removes the old layout)."""
    cell_lef, tech_lef, par = phys.require()
    settings = (density, phys.lib.key, phys.fill_cell, phys.vdd, phys.gnd, phys.route_layers,
                phys.cel_units, FLOW_VERSION)
    return hashlib.sha256(repr((pn.instances, pn.ports)).encode() + cell_lef.read_bytes()
                          + tech_lef.read_bytes() + par.read_bytes()
                          + repr(settings).encode()).hexdigest()


def place_and_route(pn: PhysicalNetlist, phys: PhysicalLibrary, workdir: Path, *,
                    density: float = 0.65, timeout_s: float = 3 * 3600.0) -> PlaceRouteResult:
    """Place and route ``pn`` in ``workdir`` (see the module docstring)."""
    if not (isinstance(density, float | int) and 0.2 <= density <= 0.95):
        raise ValueError(f"density must be a fraction between 0.2 and 0.95, not {density!r}")
    cell_lef, tech_lef, par = phys.require()
    workdir.mkdir(parents=True, exist_ok=True)
    top = pn.top
    placed = workdir / f"{top}_placed.def"
    routed = workdir / f"{top}_routed.def"
    spef = workdir / f"{top}.spef"
    # Cached: the same netlist, views, density and flow give the same layout.
    key = pnr_cache_key(pn, phys, density)
    stamp = workdir / "pnr.json"
    if stamp.is_file() and spef.is_file():
        data = json.loads(stamp.read_text())
        if data.get("key") == key:
            return PlaceRouteResult(workdir=workdir, placed_def=placed, routed_def=routed,
                                    spef=spef, verilog=workdir / f"{top}_routed.v",
                                    runtimes_s=data["runtimes_s"],
                                    failed_nets=data["failed_nets"],
                                    commands=data["commands"])
    stamp.unlink(missing_ok=True)
    for stale in workdir.glob(f"{top}*"):
        stale.unlink()
    t: dict[str, float] = {}
    cmds: list[str] = []

    def step(name, cmd, log):
        cmds.append(" ".join(str(c) for c in cmd))
        t[name] = _run([str(c) for c in cmd], workdir, log, name, timeout_s=timeout_s)

    pn.write_blif(workdir / f"{top}.blif", liberty_output_pins(phys.lib.require()))
    verilog = pn.write_verilog(workdir / f"{top}_routed.v")
    step("blif2cel", ["tclsh", QFLOW_SCRIPTS / "blif2cel.tcl", "--blif", f"{top}.blif",
                      "--lef", tech_lef, "--lef", cell_lef, "--cel", f"{top}.cel",
                      "--units", phys.cel_units], "blif2cel.log")
    step("decongest", ["tclsh", QFLOW_SCRIPTS / "decongest.tcl", top, cell_lef, phys.fill_cell,
                       f"{density:g}", f"--units={phys.cel_units}"], "decongest.log")
    (workdir / f"{top}.cel").write_text((workdir / f"{top}.acel").read_text()
                                        + "\n" + pin_groups(pn))
    # GrayWolf's global router (feed-throughs for two-layer channel routing) is off: it takes
    # most of GrayWolf's time, and qrouter routes over the cells on all layers anyway.
    (workdir / f"{top}.par").write_text(re.sub(r"^(TWSC\*do\.global\.route\s*:\s*)on",
                                               r"\1off", par.read_text(), flags=re.M))
    step("graywolf", ["graywolf", "-n", top], "graywolf.log")
    # place2def takes the routing grid (track pitches, database units) from qrouter's .info.
    (workdir / "info.cfg").write_text(f"read_lef {tech_lef}\nread_lef {cell_lef}\n")
    step("qrouter_info", ["qrouter", "-i", f"{top}.info", "-c", "info.cfg"], "qrouter_info.log")
    step("place2def", ["tclsh", QFLOW_SCRIPTS / "place2def.tcl", top, phys.fill_cell,
                       f"units={phys.cel_units}"], "place2def.log")
    placed.write_text(with_nets((workdir / f"{top}.def").read_text(), pn, pn.cel_names))
    (workdir / "route.cfg").write_text("\n".join([
        "verbose 1", f"read_lef {tech_lef}", f"read_lef {cell_lef}",
        f"catch {{layers {phys.route_layers}}}", "via stack all",
        f"vdd {phys.vdd}", f"gnd {phys.gnd}", f"read_def {placed.name}",
        f"qrouter::standard_route {routed.name} false true", "quit", ""]))
    step("qrouter", ["qrouter", "-nog", "-noc", "-s", "route.cfg"], "qrouter.log")
    failed = _failed_nets((workdir / "qrouter.log").read_text(errors="replace"))
    lef = merged_lef(phys, workdir / "merged.lef")
    for_spef = workdir / "for_spef.def"
    units = re.search(r"UNITS\s+DISTANCE\s+MICRONS\s+(\d+)", routed.read_text())
    scale = 1000 // int(units.group(1)) if units else 1
    for_spef.write_text(scale_def(one_line_vias(routed.read_text()), scale))
    step("spef_extractor", [SPEF_EXTRACTOR, "-d", for_spef.name, "-l", lef.name,
                            "-o", spef.name], "spef_extractor.log")
    if not re.search(r"^\*D_NET\s+\S+\s+[0-9.eE+-]*[1-9]", spef.read_text(), re.M):
        raise LayoutError(f"{spef}: every net has zero capacitance (routes missing from "
                          f"{routed}?)")
    stamp.write_text(json.dumps({"key": key, "runtimes_s": t, "failed_nets": failed,
                                 "commands": cmds}, indent=1) + "\n")
    return PlaceRouteResult(workdir=workdir, placed_def=placed, routed_def=routed, spef=spef,
                            verilog=verilog, runtimes_s=t, failed_nets=failed, commands=cmds)
