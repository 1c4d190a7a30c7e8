"""Read the routed design back: wire capacitance per net from SPEF, geometry from DEF.

Only what the sign-off needs: the SPEF's units, name map and, per ``*D_NET``, its total and the
sum of its ``*CAP`` entries (the wire's capacitance to ground and its couplings: pin
capacitances are not in a SPEF, the Liberty file has them); from the DEF, the die, the rows,
the placed components and each net's routed segments (layer, endpoints) for the die plot and
the wire-length statistics.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SpefError", "Spef", "read_spef", "DefDesign", "read_def", "unescape"]

_UNITS = {"F": 1.0, "PF": 1e-12, "FF": 1e-15, "NF": 1e-9, "UF": 1e-6,
          "OHM": 1.0, "KOHM": 1e3, "MOHM": 1e6}


class SpefError(ValueError):
    """A SPEF or DEF file could not be read; the message names the file and line."""


def unescape(name: str) -> str:
    r"""A SPEF/DEF name without its escapes: ``arr_cmp\[3\]`` -> ``arr_cmp[3]``; DEF's
    ``<>`` bus bits -> ``[]``."""
    name = re.sub(r"\\(.)", r"\1", name)
    return re.sub(r"<(\d+)>$", r"[\1]", name)


@dataclass(frozen=True)
class Spef:
    #: Wire capacitance per net (F): the sum of its *CAP entries.
    wire_cap_F: dict[str, float]
    #: The *D_NET line's total per net (F).
    total_cap_F: dict[str, float]
    #: Wire resistance per net (ohm): the sum of its *RES entries.
    wire_res_ohm: dict[str, float] = field(default_factory=dict)


def read_spef(path: Path) -> Spef:
    """Parse ``path`` (IEEE 1481 SPEF, as spef_extractor and other extractors write it)."""
    text = Path(path).read_text()
    cap_unit = res_unit = None
    names: dict[str, str] = {}
    wire: dict[str, float] = defaultdict(float)
    total: dict[str, float] = {}
    res: dict[str, float] = defaultdict(float)
    section = None
    net = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        tok = line.split()
        head = tok[0].upper()
        try:
            if head == "*C_UNIT":
                cap_unit = float(tok[1]) * _UNITS[tok[2].upper()]
            elif head == "*R_UNIT":
                res_unit = float(tok[1]) * _UNITS[tok[2].upper()]
            elif head == "*NAME_MAP":
                section = "names"
            elif head == "*D_NET":
                if cap_unit is None:
                    raise SpefError(f"{path}:{lineno}: *D_NET before *C_UNIT")
                net = _name(tok[1], names)
                total[net] = float(tok[2]) * cap_unit
                wire[net] += 0.0
                section = "net"
            elif head in ("*CONN", "*CAP", "*RES"):
                section = head[1:].lower()
            elif head == "*END":
                section, net = None, None
            elif head.startswith("*") and section == "names" and len(tok) == 2 \
                    and tok[0][1:].isdigit():
                names[tok[0]] = unescape(tok[1])
            elif section == "cap" and net is not None:
                # "<id> <node> <value>" (to ground) or "<id> <node1> <node2> <value>" (coupling)
                wire[net] += float(tok[-1]) * cap_unit
            elif section == "res" and net is not None:
                res[net] += float(tok[-1]) * (res_unit or 1.0)
        except (IndexError, KeyError, ValueError) as e:
            if isinstance(e, SpefError):
                raise
            raise SpefError(f"{path}:{lineno}: cannot read {raw.strip()!r} ({e})") from None
    if cap_unit is None:
        raise SpefError(f"{path}: no *C_UNIT: not a SPEF file")
    return Spef(wire_cap_F=dict(wire), total_cap_F=total, wire_res_ohm=dict(res))


def _name(token: str, names: dict[str, str]) -> str:
    return names.get(token, unescape(token))


@dataclass(frozen=True)
class Segment:
    layer: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def length_um(self) -> float:
        return abs(self.x1 - self.x0) + abs(self.y1 - self.y0)


@dataclass(frozen=True)
class Component:
    name: str
    cell: str
    x_um: float
    y_um: float


@dataclass(frozen=True)
class DefDesign:
    """A placed (and perhaps routed) DEF, in µm."""

    design: str
    die_um: tuple[float, float, float, float]
    components: list[Component]
    #: Pin name -> (x, y) of its placement.
    pins: dict[str, tuple[float, float]]
    #: Net -> its routed segments (empty before routing).
    wires: dict[str, list[Segment]]

    @property
    def width_um(self) -> float:
        return self.die_um[2] - self.die_um[0]

    @property
    def height_um(self) -> float:
        return self.die_um[3] - self.die_um[1]

    def wire_length_um(self, net: str | None = None) -> float:
        nets = self.wires if net is None else {net: self.wires.get(net, [])}
        return sum(s.length_um for segs in nets.values() for s in segs)


_DIE = re.compile(r"DIEAREA\s*\(\s*(-?\d+)\s+(-?\d+)\s*\)\s*\(\s*(-?\d+)\s+(-?\d+)\s*\)")
_COMP = re.compile(r"^\s*-\s+(\S+)\s+(\S+)\s+\+\s+(?:PLACED|FIXED)\s*\(\s*(-?\d+)\s+(-?\d+)\s*\)",
                   re.M)
_PIN = re.compile(r"^\s*-\s+(\S+)\s+\+\s+NET\s+\S+.*?\+\s+(?:PLACED|FIXED)\s*\(\s*(-?\d+)\s+"
                  r"(-?\d+)\s*\)", re.M | re.S)
_POINT = re.compile(r"\(\s*(-?\d+|\*)\s+(-?\d+|\*)(?:\s+-?\d+)?\s*\)")


def read_def(path: Path) -> DefDesign:
    """Parse a DEF from place2def/qrouter (components, pins, die, routed nets)."""
    text = Path(path).read_text()
    m = re.search(r"UNITS\s+DISTANCE\s+MICRONS\s+(\d+)", text)
    if m is None:
        raise SpefError(f"{path}: no UNITS DISTANCE MICRONS: not a DEF file")
    scale = float(m.group(1))
    die = _DIE.search(text)
    if die is None:
        raise SpefError(f"{path}: no DIEAREA")
    die_um = tuple(float(v) / scale for v in die.groups())
    comps_text = _section(text, "COMPONENTS")
    components = [Component(n, c, int(x) / scale, int(y) / scale)
                  for n, c, x, y in _COMP.findall(comps_text)]
    pins = {unescape(n): (int(x) / scale, int(y) / scale)
            for n, x, y in _PIN.findall(_section(text, "PINS"))}
    wires: dict[str, list[Segment]] = {}
    for block in re.split(r"^\s*-\s+", _section(text, "NETS"), flags=re.M)[1:]:
        name = unescape(block.split(None, 1)[0])
        segs = []
        for route in re.split(r"\b(?:ROUTED|NEW)\b", block)[1:]:
            tok = route.split(None, 1)
            if not tok:
                continue
            layer = tok[0]
            pts = _POINT.findall(route)
            x = y = None
            prev = None
            for px, py in pts:
                x = x if px == "*" else int(px) / scale
                y = y if py == "*" else int(py) / scale
                if prev is not None and (x, y) != prev:
                    segs.append(Segment(layer, prev[0], prev[1], x, y))
                prev = (x, y)
        wires[name] = segs
    return DefDesign(design=_design(text), die_um=die_um, components=components, pins=pins,
                     wires=wires)


def _design(text: str) -> str:
    m = re.search(r"^\s*DESIGN\s+(\S+)\s*;", text, re.M)
    return m.group(1) if m else ""


def _section(text: str, name: str) -> str:
    m = re.search(rf"^\s*{name}\s+\d+\s*;(.*?)^\s*END\s+{name}", text, re.M | re.S)
    return m.group(1) if m else ""
