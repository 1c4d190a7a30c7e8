"""Clock-buffer trees for the flat sign-off netlist (Yosys has no clock-tree synthesis).

After :func:`mram_macro.flow.synth.synthesize_flat` maps the design, every clock net is still driven
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
* **insertion delay balanced across clock gates**: the ``clk`` port feeds subtrees for the
  clock gates (their latch and AND inputs) and one for the free-running flip-flops, the latter
  ``gate subtree depth + 1 (the gate's AND) + deepest gated tree`` levels deep, so a
  flip-flop behind a gate and a free-running one see about the same number of stages from
  ``clk``; each gated net's tree has the depth its fanout needs, and the delay it lacks against
  the latest tree is made up by single padding buffers (:func:`_pads`, from the Liberty
  tables), in the library's smallest clock buffer where it names one (each pad drives one
  buffer input: less energy per edge and more delay per pad than the tree's buffer, so fewer
  pads). **Where the padding goes** is an energy choice: a buffer behind a clock gate toggles
  only on the gate's enabled cycles, one in front of it on every cycle. A gated tree gets its
  padding behind its gate, except in a group of at least :data:`SHARED_GATES` gates that lack
  delay alike (the TDC's 64 per-column gates, each clocking its column once per evaluation):
  there the padding they share goes once in front of the group's gates, on the ``clk`` branch
  that feeds only them, instead of once behind each gate.

A clock that ``clk`` does not reach through combinational cells (an edge-capture TDC's column
clocks: a comparator ANDed with an enable, :mod:`mram_macro.rtl.periphery.edge_tdc`) has no
balance to keep with ``clk``: it gets no padding, and a tree only where its fan-out exceeds
``max_fanout`` (a column's six flip-flops hang on its AND).

The remaining skew (AND versus buffer delay, unequal loads) is what OpenSTA reports with
``set_propagated_clock`` (hold checks included, see :mod:`mram_macro.flow.ppa.sta`). No wire
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

from mram_macro.flow.ppa.netlist import VERILOG_KEYWORDS

__all__ = ["ClockTreeReport", "liberty_pins", "insert_clock_trees", "is_tree_cell",
           "TREE_PREFIX", "TREE_VERSION", "FANOUT_PREFIX", "insert_fanout_trees"]

TREE_PREFIX = "ctree_"
#: Bumped whenever the tree shape changes (the flow's netlist cache key includes it).
TREE_VERSION = 6
#: Clock gates that must lack delay alike before their shared padding goes in front of them
#: (one chain clocked every cycle) instead of behind each (one chain per gate, clocked on its
#: enabled cycles): with 64 TDC column gates, each enabled about once per 20 cycles, the shared
#: chain toggles 64 / 20 ~ 3x less.
SHARED_GATES = 16

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
    #: An output's ``function`` inverts (``"!A"``, ``"(!A)"``, ``"A'"``): an inverter, on a
    #: single-input cell.
    inverting: bool = False


def liberty_pins(liberty: Path) -> dict[str, CellPins]:
    """Input, output and clock pins of every cell of a Liberty file."""
    text = _COMMENT.sub("", Path(liberty).read_text(errors="replace"))
    heads = list(_CELL.finditer(text))
    out = {}
    for this, nxt in zip(heads, [*heads[1:], None], strict=True):
        body = text[this.end():nxt.start() if nxt else len(text)]
        pins = list(_PIN.finditer(body))
        ins, outs, clks = set(), set(), set()
        inverting = False
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
                function = re.search(r"\bfunction\s*:\s*\"([^\"]*)\"", pbody)
                inverting |= bool(function and re.search(r"!|'", function.group(1)))
        flop = bool(re.search(r"\bff\s*\(", body))
        out[this.group(1)] = CellPins(frozenset(ins), frozenset(outs), frozenset(clks), flop,
                                      inverting)
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
    #: Their cell (the tree's own unless the library names a smaller one).
    pad_buffer: str = ""

    @property
    def buffers(self) -> int:
        return sum(b for _, _, b in self.nets.values())

    def line(self) -> str:
        deepest = max((d for _, d, _ in self.nets.values()), default=0)
        pad = f" {self.pad_buffer}" if self.pad_buffer and self.pad_buffer != self.buffer else ""
        return (f"clock trees: {len(self.nets)} nets, {self.buffers} buffers, "
                f"{self.buffers - self.padding} {self.buffer} and {self.padding}{pad} of delay "
                f"padding, fanout <= {self.max_fanout}, up to {deepest} levels")


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
                       max_fanout: int, clock_port: str = "clk",
                       pad_buffer: tuple[str, str, str] | None = None) -> ClockTreeReport:
    """Rewrite the flat Yosys netlist ``netlist`` in place with a buffer tree on every clock net.

    ``buffer`` is (cell, input pin, output pin) of the library's clock buffer. A clock net is a
    net that reaches a clock pin (``clock : true``). See the module docstring for the tree shape.
    ``pad_buffer``: the cell of the delay padding (default ``buffer``): each pad drives one
    buffer input (the next pad or the tree's root), so the library's smallest clock buffer
    does, with less energy per edge and more delay per pad (fewer pads) than the tree's.

    Raises:
        ValueError: ``max_fanout`` below 2, or the buffer cell or its pins are not in the
            Liberty file.
    """
    if not isinstance(max_fanout, int) or max_fanout < 2:
        raise ValueError(f"max_fanout must be an integer >= 2, not {max_fanout!r}")
    cells = liberty_pins(liberty)
    pad_buffer = buffer if pad_buffer is None else pad_buffer
    for what, b in (("clock buffer", buffer), ("clock padding buffer", pad_buffer)):
        if (not isinstance(b, tuple) or len(b) != 3 or b[0] not in cells
                or b[1] not in cells[b[0]].inputs or b[2] not in cells[b[0]].outputs):
            raise ValueError(f"{what} {b!r} is not a cell with those input/output pins "
                             f"in {liberty}")
    cell = buffer[0]
    text = netlist.read_text()
    if TREE_PREFIX + "0 " in text:
        raise ValueError(f"{netlist} already has clock trees")

    # Every input connection (instance, pin) per net, and the set of clock nets.
    insts, sinks, clock_nets = _connections(text, cells)

    flops = {c for c, p in cells.items() if p.flip_flop}

    # Gated clocks: nets other than the port that reach flip-flop clock pins. A net that
    # reaches only latch enables (a clock gate's inverted clock in libraries whose latch is
    # transparent high) is buffered only if its fanout needs it, without padding.
    flop_nets = {n for n, group in sinks.items()
                 if any(insts[i].group(2) in flops and p in cells[insts[i].group(2)].clocks
                        for i, p in group)}
    gated = sorted(n for n in clock_nets if n != clock_port and n in flop_nets)

    def split(net: str) -> tuple[list, list]:
        """The sinks of ``net``: flip-flops' clock pins, and the rest (clock gates' inputs)."""
        ff = [s for s in sinks[net] if insts[s[0]].group(2) in flops]
        return ff, [s for s in sinks[net] if insts[s[0]].group(2) not in flops]

    # Clocks not derived from the clock port (an edge-capture TDC's comparator clocks): no
    # balance to keep with clk, so a buffer only where the fan-out needs one.
    reached = clock_arrivals(text, liberty, clock_port)
    asynchronous = {n for n in gated
                    if not any(insts[i].group(3) in reached for i, _ in split(n)[0])}
    gated = [n for n in gated if n not in asynchronous
             or any(len(part) > max_fanout for part in split(n))]
    depth_g = max((_depth(len(split(n)[0]), max_fanout) for n in gated), default=0)
    plan: list[tuple[str, list[tuple[int, str]], int]] = []
    for n in gated:
        # A gated clock that also clocks gates behind it (the TDC's column gates behind the
        # synchronisers' gate) feeds them from a subtree of their own, as ``clk`` does below:
        # padding its flip-flops' subtree then does not delay the gates behind it.
        ff, behind = split(n)
        plan.append((n, ff, _depth(len(ff), max_fanout)))
        if behind:
            plan.append((n, behind, _depth(len(behind), max_fanout)))
    for n in sorted(clock_nets - flop_nets - {clock_port}):
        if len(sinks[n]) > max_fanout:
            plan.append((n, sinks[n], _depth(len(sinks[n]), max_fanout)))
    if clock_port in clock_nets:
        ck_ff, ck_gate = split(clock_port)
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
    cells_ = (buffer, pad_buffer)
    built, summary = _build(text, insts, plan, pads, cells_, max_fanout)
    pads, target = _pads(built, liberty, leaves, pad_buffer, clock_port)
    # Shared padding in front of a large group of gates that lack delay alike: the gate sinks
    # split by the padding their gated trees have in common, that padding moved in front; one
    # buffer less at a time while the group would end up later than the latest tree (a pad in
    # front drives the group's subtree, heavier than a pad behind a gate), so that no other
    # tree needs more padding than before.
    shared = _shared_padding(insts, cells, sinks, flops, gated, plan, pads)
    while shared:
        trial = _with_shared_padding(plan, leaves, shared, max_fanout)
        built, summary = _build(text, insts, *trial[:2], cells_, max_fanout)
        # the residue (rounding, the group's own subtree) behind each gate, as before
        extra, later = _pads(built, liberty, trial[2], pad_buffer, clock_port)
        if later <= target + 1e-9:
            plan, leaves = trial[0], trial[2]
            pads = [p + e for p, e in zip(trial[1], extra, strict=True)]
            break
        shared = {key: pad - 1 for key, pad in shared.items() if pad > 1}
    if any(pads):
        built, summary = _build(text, insts, plan, pads, cells_, max_fanout)
    text = built
    netlist.write_text(text)
    return ClockTreeReport(nets={n: tuple(v) for n, v in summary.items()}, buffer=cell,
                           max_fanout=max_fanout, padding=sum(pads), pad_buffer=pad_buffer[0])


def _connections(text: str, cells: Mapping[str, CellPins]
                 ) -> tuple[list, dict[str, list[tuple[int, str]]], set[str]]:
    """The library cells' instances of a flat netlist (regex matches), every input
    connection (instance index, pin) per net, and the nets that reach a clock pin."""
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
    return insts, sinks, clock_nets


def _gated_reached(insts: list, cells: dict, sinks: dict, flops: set, gated: set,
                   sink: tuple[int, str], hops: int = 3) -> set[str]:
    """The gated clock nets a clock gate's sink ``sink`` (on ``clk`` or on a gated clock) leads
    to: through combinational cells (the gate's AND, a buffer in front of it), and from a
    latch's output into the AND its enable feeds; at most ``hops`` cells deep."""
    out: set[str] = set()
    frontier = [sink[0]]
    for _ in range(hops):
        following = []
        for idx in frontier:
            ctype = insts[idx].group(2)
            if ctype in flops:
                continue
            for pin, raw in _CONN.findall(insts[idx].group(4).strip()):
                if pin not in cells[ctype].outputs or not raw:
                    continue
                net = _norm(raw)
                if net in gated:
                    out.add(net)
                else:
                    following += [k for k, _ in sinks.get(net, [])]
        frontier = following
    return out


def _shared_padding(insts, cells, sinks, flops, gated, plan, pads) -> dict[tuple, int]:
    """Padding to move in front of groups of clock gates: {(clock net, its gate sinks): buffers}
    for every group of at least :data:`SHARED_GATES` gated nets that all lack that much delay.
    A gate sink (a clock gate's latch or AND input, or a buffer in front of it) on ``clk`` or
    on a gated clock (a gate behind a gate) joins the group of its clock net and of the least
    padding among the gated nets it leads to (:func:`_gated_reached`; sinks that lead to none
    stay where they are)."""
    # a gated net's padding: its flip-flops' subtree's (a net that also clocks gates has a
    # second, unpadded subtree for them)
    pad_of = {net: p for (net, group, _), p in zip(plan, pads, strict=True)
              if any(insts[k].group(2) in flops for k, _ in group)}
    gated_set = set(gated)
    pad_of = {net: p for net, p in pad_of.items() if net in gated_set}
    by_key: dict[tuple[str, int], tuple[list, set]] = {}
    for net, group, _ in plan:
        for s in group:
            if insts[s[0]].group(2) in flops:
                continue
            reached = _gated_reached(insts, cells, sinks, flops, gated_set, s) - {net}
            if not reached:
                continue
            least = min(pad_of[n] for n in reached)
            if least > 0:
                members, nets = by_key.setdefault((net, least), ([], set()))
                members.append(s)
                nets |= reached
    return {(net, tuple(members)): p for (net, p), (members, nets) in by_key.items()
            if len(nets) >= SHARED_GATES}


def _with_shared_padding(plan, leaves, shared, max_fanout):
    """``plan``, its pads and ``leaves`` with the sinks of each group of ``shared`` taken out
    of their tree into their own, from the same clock net, padded at its root; every other
    tree unpadded (the caller's next :func:`_pads` pads them again, to the new latest tree: the
    gated nets a group leads to need only what its shared padding left, and the tree the
    group left, lighter now, may be earlier than before)."""
    moved = {s for _, group in shared for s in group}
    new_plan, new_pads, new_leaves = [], [], []
    for (net, group, depth), leaf in zip(plan, leaves, strict=True):
        rest = [s for s in group if s not in moved]
        if not rest:
            continue
        if len(rest) < len(group):
            depth = _depth(len(rest), max_fanout)
        new_plan.append((net, rest, depth))
        new_pads.append(0)
        new_leaves.append(leaf)
    for (net, group), pad in shared.items():
        new_plan.append((net, list(group), _depth(len(group), max_fanout)))
        new_pads.append(pad)
        new_leaves.append([])
    return new_plan, new_pads, new_leaves


def _build(text: str, insts: list, plan: list, pads: list[int],
           buffers: tuple[tuple[str, str, str], tuple[str, str, str]],
           max_fanout: int, prefix: str = TREE_PREFIX) -> tuple[str, dict[str, list[int]]]:
    """``text`` with the trees of ``plan`` built, each with ``pads[i]`` single buffers above
    its root: (new text, per net [sinks, depth, buffers]). ``buffers``: (the tree's cell, the
    padding's cell), each as (cell, input pin, output pin); ``prefix``: of the buffers' names
    (``<prefix><n>``) and their nets' (``<prefix>net_<n>``)."""
    rewire: dict[int, dict[str, str]] = {}
    new_lines: list[str] = []
    counter = 0
    summary: dict[str, list[int]] = {}

    def buffer_inst(src: str, pad: bool) -> str:
        nonlocal counter
        k = counter
        counter += 1
        out = f"{prefix}net_{k}"
        cell, pin_in, pin_out = buffers[pad]
        new_lines.append(f"  wire {out};\n  {cell} {prefix}{k} ( .{pin_in}({src}), "
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
        for level, width in enumerate(widths):
            this_level = []
            per_parent = _split(list(range(width)), len(level_nets))
            for parent, kids in zip(level_nets, per_parent, strict=True):
                this_level += [buffer_inst(parent, level < pad) for _ in kids]
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


#: Prefix of the data fan-out trees' buffers (:func:`insert_fanout_trees`).
FANOUT_PREFIX = "ftree_"


def insert_fanout_trees(netlist: Path, liberty: Path, nets: re.Pattern, *,
                        buffer: tuple[str, str, str], max_fanout: int) -> dict[str, int]:
    """Rewrite the flat netlist ``netlist`` in place with a balanced buffer tree (at most
    ``max_fanout`` pins per buffer, every sink at the same depth) on each data net whose name
    matches ``nets`` and that drives more than ``max_fanout`` input pins; Yosys has no fan-out
    buffering of its own, and ABC buffers only where its delay target needs it, which knows
    nothing of a net's own budget (an edge-capture TDC's count broadcasts,
    :data:`mram_macro.rtl.periphery.edge_tdc.BROADCAST_NETS`). Buffers ``ftree_<n>``. Returns
    the buffers added per net."""
    cells = liberty_pins(liberty)
    if (not isinstance(buffer, tuple) or len(buffer) != 3 or buffer[0] not in cells
            or buffer[1] not in cells[buffer[0]].inputs
            or buffer[2] not in cells[buffer[0]].outputs):
        raise ValueError(f"buffer {buffer!r} is not a cell with those input/output pins "
                         f"in {liberty}")
    if isinstance(max_fanout, bool) or not isinstance(max_fanout, int) or max_fanout < 2:
        raise ValueError(f"max_fanout must be an integer of at least 2, not {max_fanout!r}")
    text = netlist.read_text()
    if FANOUT_PREFIX + "0 " in text:
        raise ValueError(f"{netlist} already has fan-out trees")
    insts, sinks, _ = _connections(text, cells)
    plan = [(net, group, _depth(len(group), max_fanout)) for net, group in sorted(sinks.items())
            if nets.search(net) and len(group) > max_fanout]
    if not plan:
        return {}
    built, summary = _build(text, insts, plan, [0] * len(plan), (buffer, buffer), max_fanout,
                            prefix=FANOUT_PREFIX)
    netlist.write_text(built)
    return {net: s[2] for net, s in summary.items()}


def _raw_name(net: str) -> str:
    return net if re.fullmatch(r"[A-Za-z_][\w$]*", net) else "\\" + _bracket(net)


def clock_arrivals(text: str, liberty: Path, clock_port: str = "clk") -> dict[str, float]:
    """Estimated clock arrival (library time unit) at every flip-flop's clock pin of the flat
    netlist ``text``, by instance name: from ``clock_port`` (ideal, the table's smallest slew)
    through the buffers and gates on the way (not through latches), each delay and output slew
    looked up in the Liberty tables at its load (the pins it drives plus the wire-load model
    at that fanout). Rising edges: the mean of the rise and fall tables. No parasitics beyond
    the wire-load model (there is no placement), as in the STA."""
    from mram_macro.flow.ppa.liberty import read_library, smallest_slew

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
          clock_port: str) -> tuple[list[int], float]:
    """Single buffers to put above each tree's root so that the mean clock arrival at its
    flip-flops (``leaves[i]``: their instance names; none for a tree that reaches no
    flip-flop) comes within half a buffer of the latest tree's; and that latest mean arrival
    (library time unit)."""
    from mram_macro.flow.ppa.liberty import chained_buffer_delay, read_library

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
        return [0] * len(leaves), 0.0
    target = max(means.values())
    return [max(0, round((target - means[i]) / d_pad)) if i in means else 0
            for i in range(len(leaves))], target


def _bracket(net: str) -> str:
    """``a.b[3]`` -> ``a.b [3]`` (an escaped identifier ends at the space before its index)."""
    m = re.fullmatch(r"(.*?)(\[\d+\])", net)
    return f"{m.group(1)} {m.group(2)}" if m else net + " "
