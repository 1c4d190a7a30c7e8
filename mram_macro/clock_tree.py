"""Clock-buffer trees for the flat sign-off netlist (Yosys has no clock-tree synthesis).

After :func:`mram_macro.synth.synthesize_flat` maps the design, every clock net is still driven
by a single source: the ``clk`` port reaches every free-running flip-flop and every clock gate,
and each clock gate's AND cell drives all the flip-flops of its domain (up to ~2,200 clock pins).
OpenSTA then times and powers those pins at the slew of one small cell driving picofarads, which
is neither a timing nor a power figure of a real chip. OpenROAD-style flows build the tree after
placement (TritonCTS: H-trees on sink locations); this kit has no placement, so
:func:`insert_clock_trees` builds the placement-free equivalent of what such a flow gives a
timing and power tool:

* a **fanout-limited, balanced buffer tree** per clock net: every sink of the net sits below the
  same number of buffer levels, each buffer drives at most ``max_fanout`` pins, and the pins are
  shared out evenly at each level (a level with one buffer is a padding buffer that keeps the
  depth equal);
* **insertion delay balanced across clock gates**: the ``clk`` port feeds two subtrees, one for
  the clock gates (their latch and AND inputs) and one for the free-running flip-flops, the
  latter ``gate subtree depth + 1 (the gate's AND) + gated tree depth`` levels deep, so a
  flip-flop behind a gate and a free-running one see about the same number of stages from
  ``clk``; every gated net's tree has the depth of the deepest one.

The remaining skew (AND versus buffer delay, unequal loads) is what OpenSTA reports with
``set_propagated_clock`` (hold checks included, see :mod:`mram_macro.ppa.sta`). No wire
parasitics beyond the Liberty wire-load model: there is no placement.

The buffers are named ``ctree_<n>`` and their nets ``ctree_net_<n>``, so the power flow can find
them (:func:`is_tree_cell`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .ppa.netlist import VERILOG_KEYWORDS

__all__ = ["ClockTreeReport", "liberty_pins", "insert_clock_trees", "is_tree_cell",
           "TREE_PREFIX", "TREE_VERSION"]

TREE_PREFIX = "ctree_"
#: Bumped whenever the tree shape changes (the flow's netlist cache key includes it).
TREE_VERSION = 3

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CELL = re.compile(r"\bcell\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*\{")
_PIN = re.compile(r"\bpin\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*\{")
_INSTANCE = re.compile(r"^(\s*)([A-Za-z_][\w$]*)\s+(\\\S+|[A-Za-z_][\w$]*)\s*\((.*?)\);",
                       re.M | re.S)
_CONN = re.compile(r"\.(\w+)\s*\(\s*(.*?)\s*\)\s*(?=,|$)", re.S)


@dataclass(frozen=True)
class CellPins:
    """Pin roles of one Liberty cell."""

    inputs: frozenset[str]
    outputs: frozenset[str]
    clocks: frozenset[str]      # inputs with ``clock : true``
    flip_flop: bool             # has an ``ff`` group (a latch does not count)


def liberty_pins(liberty: Path) -> dict[str, CellPins]:
    """Input, output and clock pins of every cell of a Liberty file."""
    text = _COMMENT.sub("", Path(liberty).read_text(errors="replace"))
    heads = list(_CELL.finditer(text))
    out = {}
    for this, nxt in zip(heads, [*heads[1:], None], strict=True):
        body = text[this.end():nxt.start() if nxt else len(text)]
        pins = list(_PIN.finditer(body))
        ins, outs, clks = set(), set(), set()
        for p, q in zip(pins, [*pins[1:], None][:len(pins)], strict=True):
            pbody = body[p.end():q.start() if q else len(body)]
            direction = re.search(r"\bdirection\s*:\s*\"?(\w+)", pbody)
            kind = direction.group(1) if direction else ""
            if kind == "input":
                ins.add(p.group(1))
                if re.search(r"\bclock\s*:\s*true", pbody):
                    clks.add(p.group(1))
            elif kind == "output":
                outs.add(p.group(1))
        flop = bool(re.search(r"\bff\s*\(", body))
        out[this.group(1)] = CellPins(frozenset(ins), frozenset(outs), frozenset(clks), flop)
    return out


def _norm(net: str) -> str:
    net = net.strip()
    if net.startswith("\\"):
        net = net[1:]
    return re.sub(r"\s+\[", "[", net).strip()


def is_tree_cell(name: str) -> bool:
    """Whether an instance name is one of the buffers :func:`insert_clock_trees` inserted."""
    return name.startswith(TREE_PREFIX)


@dataclass(frozen=True)
class ClockTreeReport:
    """What :func:`insert_clock_trees` built, per clock net: (sinks, depth, buffers)."""

    nets: Mapping[str, tuple[int, int, int]]
    buffer: str
    max_fanout: int
    #: Single buffers added above the trees' roots to balance their delay (:func:`_pads`).
    padding: int = 0

    @property
    def buffers(self) -> int:
        return sum(b for _, _, b in self.nets.values())

    def line(self) -> str:
        deepest = max((d for _, d, _ in self.nets.values()), default=0)
        return (f"clock trees: {len(self.nets)} nets, {self.buffers} {self.buffer} buffers "
                f"({self.padding} of them delay padding), fanout <= {self.max_fanout}, up to "
                f"{deepest} levels")


def _depth(n: int, fanout: int) -> int:
    """Buffer levels needed so that no buffer drives more than ``fanout`` of ``n`` sinks."""
    return max(1, math.ceil(math.log(max(n, 1), fanout) - 1e-9))


def _split(items: list, parts: int) -> list[list]:
    """``items`` in ``parts`` contiguous groups of nearly equal size."""
    q, r = divmod(len(items), parts)
    out, i = [], 0
    for k in range(parts):
        size = q + (1 if k < r else 0)
        out.append(items[i:i + size])
        i += size
    return out


def insert_clock_trees(netlist: Path, liberty: Path, *, buffer: tuple[str, str, str],
                       max_fanout: int, clock_port: str = "clk") -> ClockTreeReport:
    """Rewrite the flat Yosys netlist ``netlist`` in place with a buffer tree on every clock net.

    ``buffer`` is (cell, input pin, output pin) of the library's clock buffer. A clock net is a
    net that reaches a clock pin (``clock : true``). See the module docstring for the tree shape.

    Raises:
        ValueError: ``max_fanout`` below 2, or the buffer cell or its pins are not in the
            Liberty file.
    """
    if not isinstance(max_fanout, int) or max_fanout < 2:
        raise ValueError(f"max_fanout must be an integer >= 2, not {max_fanout!r}")
    cells = liberty_pins(liberty)
    cell, pin_in, pin_out = buffer
    if cell not in cells or pin_in not in cells[cell].inputs or pin_out not in cells[cell].outputs:
        raise ValueError(f"clock buffer {buffer!r} is not a cell with those input/output pins "
                         f"in {liberty}")
    text = netlist.read_text()
    if TREE_PREFIX + "0 " in text:
        raise ValueError(f"{netlist} already has clock trees")

    # Every input connection (instance, pin) per net, and the set of clock nets.
    insts = []
    sinks: dict[str, list[tuple[int, str]]] = {}
    clock_nets: set[str] = set()
    for m in _INSTANCE.finditer(text):
        ctype = m.group(2)
        if ctype in VERILOG_KEYWORDS or ctype not in cells:
            continue
        idx = len(insts)
        insts.append(m)
        for pin, raw in _CONN.findall(m.group(4).strip()):
            if pin in cells[ctype].inputs and raw:
                net = _norm(raw)
                sinks.setdefault(net, []).append((idx, pin))
                if pin in cells[ctype].clocks:
                    clock_nets.add(net)

    flops = {c for c, p in cells.items() if p.flip_flop}

    # Gated clocks: nets other than the port that reach flip-flop clock pins. A net that
    # reaches only latch enables (a clock gate's inverted clock in libraries whose latch is
    # transparent high) is buffered only if its fanout needs it, without padding.
    flop_nets = {n for n, group in sinks.items()
                 if any(insts[i].group(2) in flops and p in cells[insts[i].group(2)].clocks
                        for i, p in group)}
    gated = sorted(n for n in clock_nets if n != clock_port and n in flop_nets)
    depth_g = max((_depth(len(sinks[n]), max_fanout) for n in gated), default=0)
    plan: list[tuple[str, list[tuple[int, str]], int]] = []
    for n in gated:
        plan.append((n, sinks[n], depth_g))
    for n in sorted(clock_nets - flop_nets - {clock_port}):
        if len(sinks[n]) > max_fanout:
            plan.append((n, sinks[n], _depth(len(sinks[n]), max_fanout)))
    if clock_port in clock_nets:
        ck = sinks[clock_port]
        ck_ff = [s for s in ck if insts[s[0]].group(2) in flops]
        ck_gate = [s for s in ck if insts[s[0]].group(2) not in flops]
        depth_gate = _depth(len(ck_gate), max_fanout) if ck_gate else 0
        if ck_gate:
            plan.append((clock_port, ck_gate, depth_gate))
        if ck_ff:
            depth_ff = max(_depth(len(ck_ff), max_fanout),
                           depth_gate + 1 + depth_g if gated else 0)
            plan.append((clock_port, ck_ff, depth_ff))

    # Balance by delay (the levels alone leave the gate's AND and unequal loads as skew): build,
    # estimate every flip-flop's clock arrival from the Liberty tables, and pad each tree
    # with single buffers at its root up to the latest one (:func:`_pads`).
    leaves = [[insts[k].group(3) for k, _ in group if insts[k].group(2) in flops]
              for _, group, _ in plan]
    pads = [0] * len(plan)
    built, summary = _build(text, insts, plan, pads, cell, pin_in, pin_out, max_fanout)
    pads = _pads(built, liberty, leaves, buffer, clock_port)
    if any(pads):
        built, summary = _build(text, insts, plan, pads, cell, pin_in, pin_out, max_fanout)
    text = built
    netlist.write_text(text)
    return ClockTreeReport(nets={n: tuple(v) for n, v in summary.items()}, buffer=cell,
                           max_fanout=max_fanout, padding=sum(pads))


def _build(text: str, insts: list, plan: list, pads: list[int], cell: str, pin_in: str,
           pin_out: str, max_fanout: int) -> tuple[str, dict[str, list[int]]]:
    """``text`` with the trees of ``plan`` built, each with ``pads[i]`` single buffers above
    its root: (new text, per net [sinks, depth, buffers])."""
    rewire: dict[int, dict[str, str]] = {}
    new_lines: list[str] = []
    counter = 0
    summary: dict[str, list[int]] = {}

    def buffer_inst(src: str) -> str:
        nonlocal counter
        k = counter
        counter += 1
        out = f"{TREE_PREFIX}net_{k}"
        new_lines.append(f"  wire {out};\n  {cell} {TREE_PREFIX}{k} ( .{pin_in}({src}), "
                         f".{pin_out}({out}) );\n")
        return out

    for (net, group, depth), pad in zip(plan, pads, strict=True):
        before = counter
        # Buffers per level, leaves first: each drives at most max_fanout of the level below.
        widths = [math.ceil(len(group) / max_fanout)]
        for _ in range(depth - 1):
            widths.append(math.ceil(widths[-1] / max_fanout))
        widths.reverse()                          # root level first
        widths = [1] * pad + widths
        level_nets = [_raw_name(net)]
        for width in widths:
            this_level = []
            per_parent = _split(list(range(width)), len(level_nets))
            for parent, kids in zip(level_nets, per_parent, strict=True):
                this_level += [buffer_inst(parent) for _ in kids]
            level_nets = this_level
        for leaf, chunk in zip(level_nets, _split(group, len(level_nets)), strict=True):
            for idx, pin in chunk:
                rewire.setdefault(idx, {})[pin] = leaf
        s = summary.setdefault(net, [0, 0, 0])
        s[0] += len(group)
        s[1] = max(s[1], depth + pad)
        s[2] += counter - before

    # Rewrite the instances' connections (from the end, so offsets stay valid).
    pieces = []
    last = 0
    for idx in sorted(rewire):
        m = insts[idx]
        new_body = _CONN.sub(lambda c, r=rewire[idx]: f".{c.group(1)}({r[c.group(1)]})"
                             if c.group(1) in r else c.group(0), m.group(4))
        pieces.append(text[last:m.start(4)])
        pieces.append(new_body)
        last = m.end(4)
    pieces.append(text[last:])
    text = "".join(pieces)
    end = text.rfind("endmodule")
    if end < 0:
        raise ValueError("the netlist has no endmodule")
    return text[:end] + "".join(new_lines) + text[end:], summary


def _raw_name(net: str) -> str:
    return net if re.fullmatch(r"[A-Za-z_][\w$]*", net) else "\\" + _bracket(net)


def clock_arrivals(text: str, liberty: Path, clock_port: str = "clk") -> dict[str, float]:
    """Estimated clock arrival (library time unit) at every flip-flop's clock pin of the flat
    netlist ``text``, by instance name: from ``clock_port`` (ideal, the table's smallest slew)
    through the buffers and gates on the way (not through latches), each delay and output slew
    looked up in the Liberty tables at its load (the pins it drives plus the wire-load model
    at that fanout). Rising edges: the mean of the rise and fall tables. No parasitics beyond
    the wire-load model (there is no placement), as in the STA."""
    from .ppa.liberty import read_library, smallest_slew

    lib = read_library(liberty)
    insts = [m for m in _INSTANCE.finditer(text) if m.group(2) in lib.cells]
    conns = [{pin: _norm(raw) for pin, raw in _CONN.findall(m.group(4).strip()) if raw}
             for m in insts]
    sinks: dict[str, list[tuple[int, str]]] = {}
    for i, (m, c) in enumerate(zip(insts, conns, strict=True)):
        cell = lib.cells[m.group(2)]
        for pin, net in c.items():
            if pin in cell.pins and cell.pins[pin].direction == "input":
                sinks.setdefault(net, []).append((i, pin))

    def load(net: str) -> float:
        group = sinks.get(net, [])
        wire = lib.wire_load.cap(len(group)) if lib.wire_load else 0.0
        return wire + sum(lib.cells[insts[i].group(2)].pins[p].capacitance for i, p in group)

    slew0 = smallest_slew(t for c in lib.cells.values() for pin in c.pins.values()
                          for pair in pin.delays.values() for t in pair)
    arrival, slew = {clock_port: 0.0}, {clock_port: slew0}
    out: dict[str, float] = {}
    queue = [clock_port]
    while queue:
        net = queue.pop()
        for i, pin in sinks.get(net, []):
            cell = lib.cells[insts[i].group(2)]
            if cell.pins[pin].clock and cell.kind == "ff":
                out[insts[i].group(3)] = arrival[net]
                continue
            if cell.kind != "comb":
                continue
            for o in cell.outputs:
                dst = conns[i].get(o)
                tables = [t for t in cell.pins[o].delays.get(pin, ()) if t is not None]
                trans = [t for t in cell.pins[o].transitions.get(pin, ()) if t is not None]
                if dst is None or not tables or dst in arrival:
                    continue
                c = load(dst)
                arrival[dst] = arrival[net] + sum(
                    t.lookup(slew=slew[net], load=c) for t in tables) / len(tables)
                slew[dst] = (sum(t.lookup(slew=slew[net], load=c) for t in trans) / len(trans)
                             if trans else slew[net])
                queue.append(dst)
    return out


def _pads(text: str, liberty: Path, leaves: list[list[str]], buffer: tuple[str, str, str],
          clock_port: str) -> list[int]:
    """Single buffers to put above each tree's root so that the mean clock arrival at its
    flip-flops (``leaves[i]``: their instance names; none for a tree that reaches no
    flip-flop) comes within half a buffer of the latest tree's."""
    from .ppa.liberty import chained_buffer_delay, read_library

    arrivals = clock_arrivals(text, liberty, clock_port)
    lib = read_library(liberty)
    d_pad = chained_buffer_delay(lib, *buffer,
                                 extra_load=lib.wire_load.cap(1) if lib.wire_load else 0.0)
    means: dict[int, float] = {}
    for i, names in enumerate(leaves):
        found = [arrivals[n] for n in names if n in arrivals]
        if found:
            means[i] = sum(found) / len(found)
    if not means:
        return [0] * len(leaves)
    target = max(means.values())
    return [max(0, round((target - means[i]) / d_pad)) if i in means else 0
            for i in range(len(leaves))]


def _bracket(net: str) -> str:
    """``a.b[3]`` -> ``a.b [3]`` (an escaped identifier ends at the space before its index)."""
    m = re.fullmatch(r"(.*?)(\[\d+\])", net)
    return f"{m.group(1)} {m.group(2)}" if m else net + " "
