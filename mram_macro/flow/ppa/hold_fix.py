"""Hold fixing of a flat netlist: delay buffers in front of every endpoint that fails hold.

Yosys and ABC do not fix hold, and the flat netlist's clock trees are balanced by level, not by
delay (mram_macro/flow/clock_tree.py), so with the sign-off clock uncertainty (0.1 ns on hold,
:data:`mram_macro.flow.sdc.CLOCK_UNCERTAINTY_NS`) thousands of short paths fail hold: shift
registers, inputs captured straight into registers, and every clock gate's enable, which its
latch releases while a slightly later clock still reaches the gate's AND.

:func:`fix_hold` does what a place-and-route tool's hold repair does, before placement: OpenSTA
lists every endpoint (a register's data pin, a clock gate's enable pin, an output port) whose
hold slack is below :data:`HOLD_TARGET_NS` under the sign-off constraints
(:func:`mram_macro.flow.ppa.sta.signoff_setup`), with its setup slack; the pass puts a chain of the
library's hold buffer in front of each pin, as many as its violation needs at one buffer's
delay but never so many that its setup slack falls below the library's margin, and repeats
until nothing fails or :data:`MAX_ROUNDS` rounds are done. Before that, in each round, a path
that starts at an input port is repaired where it can be shared: the synchronous reset ``rst``
reaches every register of the macro through its reset multiplexer (at an input delay of 0
for hold and level-balanced trees about 1,600 of them failed; :mod:`mram_macro.flow.ppa.sta`,
:mod:`mram_macro.flow.clock_tree`). For each such endpoint the pass
walks its worst hold path from the port and puts the chain in front of the first cell input
whose worst setup path (through that pin) leaves room for it; a pin that serves two or more
endpoints gets one chain, as long as the longest of them needs (the first
:data:`SHARED_ROUNDS` rounds). So one chain in the reset's buffer tree serves all the registers
below it, instead of one chain in front of each data pin, where it would also carry every
transition of the data (the branches to the clock gates' enables, half a period of setup, stay
short). The buffers are real cells of the netlist: the area, the power and every later STA
include them. Instances and nets it adds are
named ``hold_fix_*``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.sta import _FLOAT, design_tcl, run_tcl, signoff_setup

__all__ = ["HoldFix", "fix_hold", "HOLD_TARGET_NS", "MAX_ROUNDS", "insert_delay"]
# (this file's text is in the flat netlist's cache key: mram_macro/flow/ppa/flow.py)

#: Hold slack every endpoint must reach (a small guard above 0 for the table interpolation).
HOLD_TARGET_NS = 0.005
#: Rounds of list, insert, re-time.
MAX_ROUNDS = 8
#: A chained buffer on a real path is slower than at its fastest table point (NanGate BUF_X1:
#: 24 ps in a chain at the slews of a long path, 19 ps at the table's corner), so the setup
#: budget of an endpoint counts each buffer at this multiple of the estimate.
SETUP_DELAY_FACTOR = 1.5
#: Rounds that repair paths from input ports at the pins they share (later rounds repair what
#: is left at the endpoints).
SHARED_ROUNDS = 2

_ROW = re.compile(r"^(\S+?)(?:/(\w+))? \((\w+)\)\s+" + _FLOAT + r"\s+" + _FLOAT + r"\s+"
                  + _FLOAT, re.M)


@dataclass(frozen=True)
class HoldFix:
    """What :func:`fix_hold` did: buffers added, endpoints delayed, rounds, and the worst hold
    slack before and after (ns)."""

    buffers: int
    endpoints: int
    rounds: int
    hold_before_ns: float | None
    hold_after_ns: float | None


def _endpoint_slacks(text: str) -> dict[tuple[str, str | None], float]:
    """(instance, pin) or (port, None) -> slack, from ``report_checks -format end`` rows
    (the worst of several groups)."""
    out: dict[tuple[str, str | None], float] = {}
    for m in _ROW.finditer(text):
        name, pin, kind = m.group(1), m.group(2), m.group(3)
        key = (name, pin) if pin else (name, None)
        if pin is None and kind not in ("output", "input"):
            continue
        slack = float(m.group(6))
        out[key] = min(slack, out.get(key, slack))
    return out


def _signoff_tcl(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float,
                 workdir: Path) -> list[str]:
    """The design under the sign-off constraints: the shipped SDC written for ``netlist`` into
    ``workdir`` and read, its false path from the asynchronous inputs included (run_sta applies
    it only after checking their synchronisers; so does sign-off), and the flow's additions
    (:func:`mram_macro.flow.ppa.sta.signoff_setup`)."""
    setup = signoff_setup(netlist, lib, period_ns, top=top, workdir=workdir)
    return design_tcl(netlist, top, lib, period_ns, setup.tcl, sdc=setup.sdc)


def _timing(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float, workdir: Path,
            name: str, target_ns: float = HOLD_TARGET_NS) -> tuple[dict, dict]:
    """(hold slack, setup slack) of every endpoint whose hold slack is below ``target_ns``."""
    script = "\n".join([
        *_signoff_tcl(netlist, top, lib, period_ns, workdir),
        "puts \"@@HOLD\"",
        "report_checks -path_delay min -format end -group_count 1000000 -endpoint_count 1 "
        f"-slack_max {target_ns} -digits 4",
        "puts \"@@SETUP\"",
        "report_checks -path_delay max -format end -group_count 1000000 -endpoint_count 1 "
        "-digits 4",
        "",
    ])
    out = run_tcl(script, workdir, name)
    hold_text, _, setup_text = out.partition("@@SETUP")
    return _endpoint_slacks(hold_text.partition("@@HOLD")[2]), _endpoint_slacks(setup_text)


def _pin_reports(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float, workdir: Path,
                 name: str, pins: list[tuple[str, str]], select: str, fields: str) -> list[str]:
    """One ``report_checks {select} [get_pins inst/pin] {fields}`` per pin, in one OpenSTA run
    under the sign-off constraints: the report of each, in order ("" where none)."""
    script = _signoff_tcl(netlist, top, lib, period_ns, workdir)
    for i, (inst, pin) in enumerate(pins):
        script += [f"puts \"@@P{i}\"",
                   f"report_checks {select} [get_pins {{{inst}/{pin}}}] {fields}"]
    out = run_tcl("\n".join([*script, ""]), workdir, name)
    found = {int(m.group(1)): m.group(2) for m in
             re.finditer(r"^@@P(\d+)\n(.*?)(?=^@@P|\Z)", out, re.M | re.S)}
    return [found.get(i, "") for i in range(len(pins))]


def _shared_pins(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float,
                 workdir: Path, hold: dict[tuple[str, str | None], float], d_buf: float,
                 floor: float, name: str, target_ns: float = HOLD_TARGET_NS
                 ) -> tuple[dict[tuple[str, str], int], set]:
    """Hold repair of the paths launched at input ports, where they share it: for each failing
    endpoint whose worst hold path starts at an input port, the first cell input pin of that
    path (from the port) whose worst setup path leaves room for the buffers the endpoint needs.
    Returns (pin -> buffers: the most any of its endpoints needs, as far as its room allows;
    the endpoints so served)."""
    from mram_macro.flow.ppa.liberty import read_library

    keys = [k for k, s in hold.items() if k[1] is not None and s < target_ns]
    if not keys:
        return {}, set()
    inputs = {c.name: c.inputs for c in read_library(lib.require()).cells.values()}
    reports = _pin_reports(netlist, top, lib, period_ns, workdir, name + "_paths", keys,
                           "-path_delay min -to", "-fields {input_pins} -digits 4")
    paths: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, report in zip(keys, reports, strict=True):
        if not re.search(r"^Startpoint: \S+ \(input port", report, re.M):
            continue
        pins = _PATH_PIN.findall(report.split("data arrival")[0])
        path = [(a, b) for a, b, c in pins if b in inputs.get(c, ())]
        if path and path[-1] == key:
            paths[key] = path
    candidates = sorted({p for path in paths.values() for p in path})
    if not candidates:
        return {}, set()
    reports = _pin_reports(netlist, top, lib, period_ns, workdir, name + "_setup", candidates,
                           "-path_delay max -through",
                           "-format end -group_count 1 -endpoint_count 1 -digits 4")
    room = {key: min(_endpoint_slacks(report).values(), default=math.inf) - floor
            for key, report in zip(candidates, reports, strict=True)}
    users: dict[tuple[str, str], list] = {}
    for key, path in paths.items():
        need = math.ceil((target_ns - hold[key]) / d_buf)
        for pin in path:
            if room[pin] >= need * SETUP_DELAY_FACTOR * d_buf:
                users.setdefault(pin, []).append((key, need))
                break
    # A pin on one endpoint's path alone is no saving (and an endpoint with many short paths
    # from the ports, a read multiplexer's, is better served at its data pin).
    plan = {pin: max(n for _, n in who) for pin, who in users.items() if len(who) >= 2}
    served = {key for pin in plan for key, _ in users[pin]}
    return plan, served


def _buffer_delay_ns(lib: StdCellLibrary) -> float:
    """Delay of one hold buffer driving another (the mean of its rise and fall delay at the
    smallest slew of its table, at the next buffer's input capacitance)."""
    from mram_macro.flow.ppa.liberty import LibertyError, chained_buffer_delay, read_library

    try:
        return chained_buffer_delay(read_library(lib.require()), *lib.hold_buffer)
    except LibertyError:
        raise ValueError(f"the hold buffer {lib.hold_buffer[0]!r} is not in "
                         f"{lib.require()}") from None


def _driver_pin(text: str, net: str, outputs: dict[str, set[str]]) -> re.Match | None:
    """The ``.PIN(net)`` connection of the cell output that drives ``net`` (a regex-escaped
    reference), or None."""
    for inst in re.finditer(r"^\s*(\w+)\s+(?:\\\S+|[A-Za-z_][\w$]*)\s*\((.*?)\);", text,
                            re.M | re.S):
        outs = outputs.get(inst.group(1), ())
        for pm in re.finditer(rf"\.(\w+)\(\s*{net}\s*\)", inst.group(2)):
            if pm.group(1) in outs:
                off = inst.start(2)
                return re.compile(rf"\.(\w+)\(\s*{net}\s*\)").match(
                    text, off + pm.start())
    return None


def insert_delay(text: str, endpoints: dict[tuple[str, str | None], int],
                 buffer: tuple[str, str, str], *, start: int = 0,
                 outputs: dict[str, set[str]] | None = None) -> tuple[str, int]:
    """``text`` (a flat Yosys netlist) with ``n`` buffers in front of each endpoint
    ``(instance, pin): n`` (an output port: ``(port, None)``, the buffers between its driver —
    an ``assign``, or the cell output among ``outputs`` (cell -> output pins) — and the port).
    Returns the new text and the number of buffers added."""
    outputs = outputs or {}
    cell, a, z = buffer
    added, k = [], start
    decls = []
    for (name, pin), n in endpoints.items():
        if n < 1:
            continue
        if pin is None:     # an output port: re-drive it through the chain
            text = _split_vector_assign(text, name)
            net = re.escape(_verilog_net(name).strip())
            new = f"hold_fix_n{k}"
            assign = re.search(rf"^(\s*assign\s+{net}\s*=\s*)(.*?)\s*;", text, re.M)
            m = _driver_pin(text, net, outputs)
            if assign is not None:      # `assign port = net;`: the chain takes that net
                src, dst = assign.group(2), new
                text = text[:assign.start(2)] + new + text[assign.end(2):]
            elif m is not None:         # a cell drives the port: it drives the chain instead
                src, dst = new, _verilog_net(name)
                text = text[:m.start()] + f".{m.group(1)}({new})" + text[m.end():]
            else:
                continue
            k += 1
            decls.append(new)
        else:
            inst = re.search(rf"^\s*\w+\s+{re.escape(_verilog_inst(name))}\s*\((.*?)\);",
                             text, re.M | re.S)
            if inst is None:
                continue
            body = inst.group(1)
            pm = re.search(rf"\.{pin}\(\s*(.*?)\s*\)\s*(,|$)", body, re.S)
            if pm is None:
                continue
            src = pm.group(1)
            dst = f"hold_fix_n{k}"
            k += 1
            decls.append(dst)
            body = body[:pm.start(1)] + dst + body[pm.end(1):]
            text = text[:inst.start(1)] + body + text[inst.end(1):]
        chain = [src] + [f"hold_fix_n{k + i}" for i in range(n - 1)] + [dst]
        decls += chain[1:-1]
        k += n - 1
        for i in range(n):
            added.append(f"  {cell} hold_fix_b{start + len(added)} (.{a}({_end(chain[i])}), "
                         f".{z}({_end(chain[i + 1])}));")
    if not added:
        return text, 0
    at = text.rindex("endmodule")
    text = (text[:at] + "".join(f"  wire {d};\n" for d in decls) + "\n".join(added) + "\n"
            + text[at:])
    return text, len(added)


def _split_vector_assign(text: str, port_bit: str) -> str:
    """``assign P = SRC ;`` of a whole vector port ``P`` (``port_bit`` is ``P[i]``) written as
    one ``assign P[j] = SRC [j];`` per bit, so that one bit can be re-driven; likewise a
    concatenation ``assign P = { ... };`` of one single-bit reference per bit."""
    m = re.fullmatch(r"([A-Za-z_][\w$]*)\[(\d+)\]", port_bit)
    if m is None:
        return text
    port = m.group(1)
    decl = re.search(rf"^\s*output\s+\[(\d+):(\d+)\]\s+{re.escape(port)}\s*;", text, re.M)
    whole = re.search(rf"^(\s*)assign\s+{re.escape(port)}\s*=\s*(\\\S+|[A-Za-z_][\w$]*)\s*;",
                      text, re.M)
    if decl is None:
        return text
    lo, hi = sorted((int(decl.group(1)), int(decl.group(2))))
    if whole is None:
        # ``assign P = { b_hi, ..., b_lo };`` with one single-bit reference per bit of P.
        cat = re.search(rf"^(\s*)assign\s+{re.escape(port)}\s*=\s*\{{([^{{}};]*)\}}\s*;",
                        text, re.M)
        if cat is None:
            return text
        parts = [p.strip() for p in cat.group(2).split(",")]
        if len(parts) != hi - lo + 1 or not all(
                re.fullmatch(r"(\\\S+ \[\d+\]|[A-Za-z_][\w$]*(\[\d+\])?|\d+'[bh][01xz])", p)
                for p in parts):
            return text
        indent = cat.group(1).lstrip("\n")
        bits = "\n".join(f"{indent}assign {port}[{hi - i}] = {p};"
                          for i, p in enumerate(parts))
        return text[:cat.start(1)] + "\n" + bits + text[cat.end():]
    src = whole.group(2)
    indent = whole.group(1).lstrip("\n")
    bits = "\n".join(f"{indent}assign {port}[{j}] = {_end(src)}[{j}];" for j in
                      range(lo, hi + 1))
    return text[:whole.start(1)] + "\n" + bits + text[whole.end():]


def _end(ref: str) -> str:
    """A net reference as it may stand before a ``)``: an escaped name ends in a space."""
    return ref + " " if ref.startswith("\\") and not ref.endswith(" ") else ref


def _verilog_inst(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][\w$]*", name) else "\\" + name + " "


def _verilog_net(net: str) -> str:
    m = re.fullmatch(r"(.+?)\[(\d+)\]", net)
    if re.fullmatch(r"[A-Za-z_][\w$]*", net):
        return net
    if m and re.fullmatch(r"[A-Za-z_][\w$]*", m.group(1)):
        return f"{m.group(1)}[{m.group(2)}]"
    return "\\" + net + " "


_PATH_PIN = re.compile(r"^\s*-?[0-9.]+\s+-?[0-9.]+\s+[v^]\s+(\S+?)/(\w+) \((\w+)\)", re.M)


def _short_path_pins(netlist: Path, top: str, lib: StdCellLibrary, period_ns: float,
                     workdir: Path, endpoints: dict[tuple[str, str | None], int], name: str
                     ) -> dict[tuple[str, str], int]:
    """For each endpoint ``(instance, pin): n``, the first cell input pin of its worst hold
    path after the launch point (not the endpoint itself), with ``n``."""
    if not endpoints:
        return {}
    from mram_macro.flow.ppa.liberty import read_library

    inputs = {c.name: c.inputs for c in read_library(lib.require()).cells.values()}
    keys = list(endpoints)
    reports = _pin_reports(netlist, top, lib, period_ns, workdir, name, keys,
                           "-path_delay min -to", "-fields {input_pins} -digits 4")
    found = {}
    for key, report in zip(keys, reports, strict=True):
        pins = [(a, b, c) for a, b, c in _PATH_PIN.findall(report.split("data arrival")[0])]
        cell_inputs = [(a, b) for a, b, c in pins[1:] if b in inputs.get(c, ())]
        if cell_inputs and cell_inputs[0] != key:
            first = cell_inputs[0]
            found[first] = max(found.get(first, 0), endpoints[key])
    return found


def fix_hold(netlist: Path, top: str, lib: StdCellLibrary, workdir: Path, *,
             period_ns: float | None = None, target_ns: float = HOLD_TARGET_NS) -> HoldFix:
    """Fix hold in ``netlist`` in place (see the module docstring), to ``target_ns`` of hold
    slack at every endpoint (a layout flow asks for a margin its wires will use)."""
    if not (isinstance(target_ns, int | float) and 0 <= target_ns < 0.5):
        raise ValueError(f"target_ns must be a hold slack in 0 .. 0.5 ns, not {target_ns!r}")
    period = lib.target_period_ns if period_ns is None else period_ns
    workdir.mkdir(parents=True, exist_ok=True)
    from mram_macro.flow.ppa.liberty import read_library

    d_buf = _buffer_delay_ns(lib)
    outputs = {c.name: set(c.outputs) for c in read_library(lib.require()).cells.values()}
    # A netlist fixed before (to a smaller target) keeps its buffers: new names after theirs.
    base = 1 + max((int(i) for i in re.findall(r"\bhold_fix_[bn](\d+)\b",
                                                netlist.read_text())), default=-1)
    floor = lib.min_slack_fraction * period
    total = endpoints = rounds = 0
    before = after = None
    done_pins: set = set()
    for rounds in range(1, MAX_ROUNDS + 1):
        hold, setup = _timing(netlist, top, lib, period, workdir, f"hold_fix{rounds}",
                              target_ns)
        worst = min(hold.values()) if hold else None
        if rounds == 1:
            before = worst
        after = worst
        if not hold:
            break
        # Paths from input ports first, at the pins they share (one chain for the fan-out of
        # the synchronous reset instead of one at each register).
        shared, served = (_shared_pins(netlist, top, lib, period, workdir, hold, d_buf, floor,
                                       f"hold_shared{rounds}", target_ns)
                          if rounds <= SHARED_ROUNDS else ({}, set()))
        changed = False
        if shared:
            text, added = insert_delay(netlist.read_text(), shared, lib.hold_buffer,
                                       start=base + total, outputs=outputs)
            if added:
                changed = True
                netlist.write_text(text)
                total += added
                done_pins |= set(shared)
                endpoints = len(done_pins)
                hold = {k: s for k, s in hold.items() if k not in served}
        plan: dict[tuple[str, str | None], int] = {}
        short: dict[tuple[str, str | None], int] = {}
        for key, slack in hold.items():
            need = math.ceil((target_ns - slack) / d_buf)
            room = setup.get(key, math.inf) - floor
            n = min(need, max(0, math.floor(room / (SETUP_DELAY_FACTOR * d_buf))))
            if n > 0:
                plan[key] = n
            if need > n and key[1] is not None:
                short[key] = need - n
        # An endpoint whose setup slack cannot pay for its hold repair (a long and a short path
        # into the same pin): the rest of the delay goes on the short path alone, in front of
        # the first cell input after its launch point.
        for key, n in _short_path_pins(netlist, top, lib, period, workdir, short,
                                       f"hold_paths{rounds}").items():
            plan[key] = plan.get(key, 0) + n
        if plan:
            text, added = insert_delay(netlist.read_text(), plan, lib.hold_buffer,
                                       start=base + total, outputs=outputs)
        else:
            added = 0
        if added == 0:
            if changed:         # re-time what the shared chains did
                continue
            break
        netlist.write_text(text)
        total += added
        done_pins |= set(plan)
        endpoints = len(done_pins)
    else:
        hold, _ = _timing(netlist, top, lib, period, workdir, "hold_fix_final")
        after = min(hold.values()) if hold else None
    return HoldFix(buffers=total, endpoints=endpoints, rounds=rounds, hold_before_ns=before,
                   hold_after_ns=after)
