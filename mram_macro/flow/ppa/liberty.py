"""A Liberty reader for energy: cells, pins, capacitances, timing and power tables, leakage.

Only what the energy calculator (:mod:`mram_macro.flow.ppa.energy`) needs, read from the Liberty
text itself so that every number it uses can be traced to a table of the library:

* units: capacitance, leakage power, the energy unit of the power tables (capacitance unit x
  1 V², as Liberty defines it) and the nominal voltage;
* per cell: area, leakage per ``when`` state and ``cell_leakage_power``, and per pin its
  direction, capacitance (``rise_capacitance``/``fall_capacitance``), ``clock : true`` flag,
  ``function``, its timing arcs' output transition tables and its ``internal_power`` groups
  (``related_pin``, ``when``, ``rise_power``/``fall_power`` tables);
* the default wire-load model (capacitance per unit length, fanout -> length, slope).

A table is looked up with linear interpolation inside its index ranges and linear
extrapolation outside them, as static-timing tools do.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["LibertyError", "Group", "parse_liberty", "Table", "PowerGroup", "Pin", "Cell",
           "WireLoad", "Library", "read_library", "when_probability"]


class LibertyError(ValueError):
    """A Liberty file could not be read."""


@dataclass
class Group:
    """One Liberty group: ``kind (args) { attrs; groups }``."""

    kind: str
    args: list[str]
    attrs: dict[str, str] = field(default_factory=dict)
    #: Complex attributes (``values (...)``, ``index_1 (...)``, ``fanout_length (1, 2.3)``),
    #: each occurrence kept in order.
    complex: dict[str, list[list[str]]] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)

    def children(self, kind: str) -> list[Group]:
        return [g for g in self.groups if g.kind == kind]


_STATEMENT = re.compile(r"""
    \s*(?:
        (?P<close>\})
      | (?P<name>[A-Za-z_][\w.]*)\s*
        (?: \((?P<args>[^()]*)\)\s*(?P<open>\{)?\s*;?
          | :\s*(?P<value>"[^"]*"|[^;{}]*?)\s*;
        )
    )""", re.X)


def _split_args(text: str) -> list[str]:
    return [a.strip().strip('"').strip() for a in re.findall(r'"[^"]*"|[^,]+', text)
            if a.strip()]


def parse_liberty(text: str, *, source: str = "<liberty>") -> Group:
    """The top ``library`` group of a Liberty text. LibertyError names the line it stopped at."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"\\\r?\n", " ", text)
    root = Group("<root>", [])
    stack = [root]
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _STATEMENT.match(text, pos)
        if m is None or m.end() == pos:
            line = text.count("\n", 0, pos) + 1
            raise LibertyError(f"{source}: cannot read the Liberty statement at line {line}: "
                               f"{text[pos:pos + 60].strip()!r}")
        pos = m.end()
        if m.group("close"):
            if len(stack) == 1:
                line = text.count("\n", 0, pos) + 1
                raise LibertyError(f"{source}: unbalanced '}}' at line {line}")
            stack.pop()
        elif m.group("value") is not None:
            stack[-1].attrs[m.group("name")] = m.group("value").strip().strip('"')
        elif m.group("open"):
            g = Group(m.group("name"), _split_args(m.group("args")))
            stack[-1].groups.append(g)
            stack.append(g)
        else:
            stack[-1].complex.setdefault(m.group("name"), []).append(
                _split_args(m.group("args")))
    if len(stack) != 1:
        raise LibertyError(f"{source}: the file ends inside the group {stack[-1].kind!r} "
                           f"({' '.join(stack[-1].args)})")
    libs = root.children("library")
    if len(libs) != 1:
        raise LibertyError(f"{source}: expected one library group, found {len(libs)}")
    return libs[0]


def _floats(args: list[str]) -> np.ndarray:
    return np.array([float(x) for a in args for x in a.replace(",", " ").split()])


@dataclass(frozen=True)
class Table:
    """A one- or two-dimensional Liberty table, its variables named by its template."""

    variables: tuple[str, ...]
    indices: tuple[np.ndarray, ...]
    values: np.ndarray

    def lookup(self, *, slew: float, load: float) -> float:
        """The table at an input transition ``slew`` and an output load ``load`` (library
        units), interpolated, or extrapolated linearly beyond the indices."""
        point = []
        for var in self.variables:
            if "transition" in var:
                point.append(slew)
            elif "capacitance" in var:
                point.append(load)
            else:
                raise LibertyError(f"table variable {var!r} is not supported")
        return _interpolate(self.indices, self.values, point)


def _interpolate(indices, values, point) -> float:
    if not indices:
        return float(values.reshape(-1)[0])
    idx, rest = indices[0], indices[1:]
    x = point[0]
    if len(idx) == 1:
        return _interpolate(rest, values[0], point[1:])
    i = int(np.clip(np.searchsorted(idx, x) - 1, 0, len(idx) - 2))
    x0, x1 = idx[i], idx[i + 1]
    y0 = _interpolate(rest, values[i], point[1:])
    y1 = _interpolate(rest, values[i + 1], point[1:])
    return float(y0 + (y1 - y0) * (x - x0) / (x1 - x0))


@dataclass(frozen=True)
class PowerGroup:
    """One ``internal_power`` group: energy per transition of the pin (an output: caused by
    ``related_pin``; an input: of the pin itself), in the state ``when``."""

    related_pin: str | None
    when: str | None
    rise: Table | None
    fall: Table | None

    def energy(self, *, slew: float, load: float) -> float:
        """Mean energy of one rising and one falling transition (library energy unit)."""
        tables = [t for t in (self.rise, self.fall) if t is not None]
        if not tables:
            return 0.0
        # A missing table (some libraries give only rise_power) counts as zero energy.
        return sum(t.lookup(slew=slew, load=load) for t in tables) / 2


@dataclass(frozen=True)
class Pin:
    name: str
    direction: str
    capacitance: float          # mean of rise and fall capacitance (library unit)
    clock: bool
    function: str | None
    power: tuple[PowerGroup, ...]
    #: Output transition tables per related pin: (rise_transition, fall_transition).
    transitions: dict[str, tuple[Table | None, Table | None]]
    #: Delay tables per related pin: (cell_rise, cell_fall).
    delays: dict[str, tuple[Table | None, Table | None]] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Cell:
    name: str
    area: float
    leakage: float                              # cell_leakage_power (library unit)
    leakage_states: tuple[tuple[str, float], ...]   # (when, value)
    pins: dict[str, Pin]
    #: ``ff`` (a flip-flop: an ``ff`` group), ``latch`` or ``comb``.
    kind: str = "comb"

    @property
    def outputs(self) -> list[str]:
        return [p for p, pin in self.pins.items() if pin.direction == "output"]

    @property
    def inputs(self) -> list[str]:
        return [p for p, pin in self.pins.items() if pin.direction == "input"]


@dataclass(frozen=True)
class WireLoad:
    """A wire-load model: ``capacitance`` per unit length, fanout -> length, ``slope``
    beyond the largest fanout given."""

    name: str
    capacitance: float
    slope: float
    lengths: dict[int, float]

    def cap(self, fanout: int) -> float:
        if fanout <= 0 or not self.lengths:
            return 0.0
        if fanout in self.lengths:
            length = self.lengths[fanout]
        else:
            known = sorted(self.lengths)
            if fanout > known[-1]:
                length = self.lengths[known[-1]] + self.slope * (fanout - known[-1])
            else:   # between two given fanouts: linear
                lo = max(k for k in known if k < fanout)
                hi = min(k for k in known if k > fanout)
                length = self.lengths[lo] + (self.lengths[hi] - self.lengths[lo]) \
                    * (fanout - lo) / (hi - lo)
        return self.capacitance * length


_UNITS = {"ff": 1e-15, "pf": 1e-12, "nf": 1e-9, "uf": 1e-6,
          "fw": 1e-15, "pw": 1e-12, "nw": 1e-9, "uw": 1e-6, "mw": 1e-3, "w": 1.0}


@dataclass(frozen=True)
class Library:
    name: str
    cap_unit_F: float
    leakage_unit_W: float
    voltage_V: float
    cells: dict[str, Cell]
    wire_load: WireLoad | None
    #: The library's time unit in seconds (``time_unit``; delay tables are in it).
    time_unit_s: float = 1e-9

    @property
    def energy_unit_J(self) -> float:
        """Liberty power tables are energies in capacitance unit x 1 V²."""
        return self.cap_unit_F


def _table(group: Group, templates: dict[str, Group]) -> Table:
    template = templates.get(group.args[0]) if group.args else None
    variables = tuple(template.attrs[f"variable_{i}"] for i in (1, 2, 3)
                      if template is not None and f"variable_{i}" in template.attrs)
    indices = []
    for i in range(1, len(variables) + 1):
        src = group.complex.get(f"index_{i}") or (template.complex.get(f"index_{i}")
                                                  if template else None)
        if not src:
            raise LibertyError(f"table {group.kind}({group.args}) has no index_{i}")
        indices.append(_floats(src[0]))
    values = _floats(group.complex["values"][0])
    shape = tuple(len(i) for i in indices)
    if int(np.prod(shape)) != values.size:
        if not variables and values.size == 1:
            return Table((), (), values)
        raise LibertyError(f"table {group.kind}: {values.size} values for indices {shape}")
    return Table(variables, tuple(indices), values.reshape(shape) if shape else values)


def _pin(group: Group, name: str, templates: dict[str, Group]) -> Pin:
    a = group.attrs
    rise, fall = a.get("rise_capacitance"), a.get("fall_capacitance")
    cap = (float(rise) + float(fall)) / 2 if rise and fall else float(a.get("capacitance", 0))
    power = []
    for g in group.children("internal_power"):
        tables = {t.kind: _table(t, templates) for t in g.groups
                  if t.kind in ("rise_power", "fall_power")}
        power.append(PowerGroup(related_pin=g.attrs.get("related_pin"),
                                when=g.attrs.get("when"),
                                rise=tables.get("rise_power"), fall=tables.get("fall_power")))
    transitions: dict[str, tuple[Table | None, Table | None]] = {}
    delays: dict[str, tuple[Table | None, Table | None]] = {}
    for g in group.children("timing"):
        if "related_pin" not in g.attrs or a.get("direction") != "output":
            continue
        t = {x.kind: _table(x, templates) for x in g.groups
             if x.kind in ("rise_transition", "fall_transition", "cell_rise", "cell_fall")}
        if "rise_transition" in t or "fall_transition" in t:
            transitions.setdefault(g.attrs["related_pin"],
                                   (t.get("rise_transition"), t.get("fall_transition")))
        if "cell_rise" in t or "cell_fall" in t:
            delays.setdefault(g.attrs["related_pin"], (t.get("cell_rise"), t.get("cell_fall")))
    return Pin(name=name, direction=a.get("direction", "input"), capacitance=cap,
               clock=a.get("clock", "false") == "true", function=a.get("function"),
               power=tuple(power), transitions=transitions, delays=delays)


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, mtime: float) -> Library:
    lib = parse_liberty(Path(path).read_text(errors="replace"), source=path)
    templates = {g.args[0]: g for g in lib.groups
                 if g.kind in ("lu_table_template", "power_lut_template") and g.args}
    cap = lib.complex.get("capacitive_load_unit")
    if not cap:
        raise LibertyError(f"{path}: no capacitive_load_unit")
    cap_value, cap_unit = float(cap[0][0]), cap[0][1].lower()
    leak = lib.attrs.get("leakage_power_unit", "1nW").lower()
    m = re.fullmatch(r"([0-9.]+)\s*(\w+)", leak)
    if not m or m.group(2) not in _UNITS or cap_unit not in _UNITS:
        raise LibertyError(f"{path}: unknown units (capacitance {cap_unit!r}, leakage {leak!r})")
    cells = {}
    for g in lib.children("cell"):
        pins = {}
        for p in g.children("pin"):
            for name in p.args:
                pins[name] = _pin(p, name, templates)
        states = tuple((lp.attrs.get("when", ""), float(lp.attrs["value"]))
                       for lp in g.children("leakage_power") if "value" in lp.attrs)
        cells[g.args[0]] = Cell(name=g.args[0], area=float(g.attrs.get("area", 0)),
                                leakage=float(g.attrs.get("cell_leakage_power", 0)),
                                leakage_states=states, pins=pins,
                                kind="ff" if g.children("ff") else
                                "latch" if g.children("latch") else "comb")
    wire = None
    default = lib.attrs.get("default_wire_load")
    for g in lib.children("wire_load"):
        if g.args and g.args[0] == default:
            wire = WireLoad(name=default, capacitance=float(g.attrs.get("capacitance", 0)),
                            slope=float(g.attrs.get("slope", 0)),
                            lengths={int(float(a[0])): float(a[1])
                                     for a in g.complex.get("fanout_length", [])})
    voltage = float(lib.attrs.get("nom_voltage", 0) or 0)
    t = re.fullmatch(r"([0-9.]+)\s*(ns|ps|us)", lib.attrs.get("time_unit", "1ns").lower())
    if not t:
        raise LibertyError(f"{path}: unknown time unit {lib.attrs.get('time_unit')!r}")
    time_unit_s = float(t.group(1)) * {"ps": 1e-12, "ns": 1e-9, "us": 1e-6}[t.group(2)]
    return Library(name=lib.args[0] if lib.args else path,
                   cap_unit_F=cap_value * _UNITS[cap_unit],
                   leakage_unit_W=float(m.group(1)) * _UNITS[m.group(2)],
                   voltage_V=voltage, cells=cells, wire_load=wire, time_unit_s=time_unit_s)


def read_library(path: Path) -> Library:
    """The cells, units and wire-load model of the Liberty file ``path`` (cached per file)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Liberty file {str(path)!r} not found; run `make setup`")
    return _read_cached(str(path.resolve()), path.stat().st_mtime)


def smallest_slew(tables) -> float:
    """The smallest input transition any of ``tables`` is indexed by (a table's corner)."""
    return min(float(t.indices[k][0]) for t in tables if t is not None
               for k, var in enumerate(t.variables) if "transition" in var)


def chained_buffer_delay(library: Library, cell: str, pin_in: str, pin_out: str, *,
                         extra_load: float = 0.0) -> float:
    """Delay (library time unit) of one ``cell`` driving another in a chain: the mean of its
    rise and fall delay from ``pin_in`` to ``pin_out`` at the smallest slew of its tables, at
    the next one's input capacitance plus ``extra_load``.

    Raises:
        LibertyError: the cell or its arc is not in the library."""
    if cell not in library.cells or pin_out not in library.cells[cell].pins \
            or pin_in not in library.cells[cell].pins[pin_out].delays:
        raise LibertyError(f"{library.name}: no delay arc {cell} {pin_in} -> {pin_out}")
    c = library.cells[cell]
    tables = [t for t in c.pins[pin_out].delays[pin_in] if t is not None]
    slew, load = smallest_slew(tables), c.pins[pin_in].capacitance + extra_load
    return sum(t.lookup(slew=slew, load=load) for t in tables) / len(tables)


def fastest_clock_to_output(library: Library) -> float:
    """The smallest clock-to-output delay of any flip-flop of ``library`` (library time unit):
    the least entry of every ``cell_rise``/``cell_fall`` table from a clock pin to an output
    of an ``ff`` cell, i.e. at the table's smallest input slew and load. The earliest a
    register clocked with the macro's can change a signal it drives.

    Raises:
        LibertyError: the library has no flip-flop with a clock-to-output table."""
    delays = [float(np.min(table.values))
              for cell in library.cells.values() if cell.kind == "ff"
              for clock in (p for p, pin in cell.pins.items() if pin.clock)
              for out in cell.outputs
              for table in cell.pins[out].delays.get(clock, ()) if table is not None]
    if not delays:
        raise LibertyError(f"{library.name}: no flip-flop clock-to-output delay table")
    return min(delays)


# --- state probabilities of `when` conditions ---------------------------------------------------

_WHEN_TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)|(.))")


@functools.lru_cache(maxsize=4096)
def _when_truth(expr: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(variables, truth table over all their assignments, variable 0 the slowest)."""
    tokens = [(m.group(1), m.group(2)) for m in _WHEN_TOKEN.finditer(expr) if m.group(0).strip()]
    names = sorted({n for n, _ in tokens if n})
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else (None, None)

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    # Precedence: ! (and postfix ') > & * > ^ > | +
    def atom(env):
        name, op = take()
        if name:
            v = env[name]
        elif op == "!":
            v = not atom(env)
        elif op == "(":
            v = disj(env)
            if take()[1] != ")":
                raise LibertyError(f"unbalanced parenthesis in when {expr!r}")
        elif op in ("1", "0"):
            v = op == "1"
        else:
            raise LibertyError(f"cannot read when {expr!r}")
        while peek()[1] == "'":
            take()
            v = not v
        return v

    def conj(env):
        v = atom(env)
        while peek()[1] in ("&", "*") or (peek()[0] is not None) or peek()[1] in ("!", "("):
            if peek()[1] in ("&", "*"):
                take()
            v = atom(env) and v
        return v

    def xor(env):
        v = conj(env)
        while peek()[1] == "^":
            take()
            v = conj(env) != v
        return v

    def disj(env):
        v = xor(env)
        while peek()[1] in ("|", "+"):
            take()
            v = xor(env) or v
        return v

    truth = []
    for values in itertools.product((False, True), repeat=len(names)):
        pos = 0
        truth.append(bool(disj(dict(zip(names, values, strict=True)))))
        if pos != len(tokens):
            raise LibertyError(f"cannot read when {expr!r}")
    return tuple(names), np.array(truth, dtype=float)


def when_probability(expr: str | None, p_one: dict[str, float]) -> float:
    """Probability that ``expr`` holds when each variable is 1 independently with probability
    ``p_one[name]`` (0.5 for a name not given); 1 for no condition."""
    if not expr:
        return 1.0
    names, truth = _when_truth(expr)
    prob = np.ones(1)
    for n in names:
        p = p_one.get(n, 0.5)
        prob = np.outer(prob, [1 - p, p]).reshape(-1)
    return float(prob @ truth)
