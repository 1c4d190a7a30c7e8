"""The FSMs of the macro, read from the elaborated Amaranth design: states, encodings, arcs.

:func:`fsm_graphs` gives every FSM of a configuration's macro as an :class:`FsmGraph` (taken from
the FSM objects Amaranth generates, so nothing is re-derived by hand); :func:`elaborated` is the
elaborated macro whose FSMs and signature they are read from. Functional coverage
(:mod:`verif.cocotb.coverage`: state, arc and reset-in-state bins, illegal arcs) and the
robustness tests (reset in every state) build on them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from mram_macro.design.config import MacroConfig

__all__ = ["FsmGraph", "fsm_graphs", "elaborated"]


# -- FSM graphs, read from the Amaranth design --------------------------------------------------
@dataclass(frozen=True)
class FsmGraph:
    """One Amaranth FSM of the macro: its states, their encodings and its arcs.

    ``path`` is the instance path from the top (``("sequencer",)``); the state register in the
    generated Verilog is ``<path>.<name>_state``.
    """

    name: str
    path: tuple[str, ...]
    encoding: dict[str, int]
    transitions: frozenset[tuple[str, str]]

    @property
    def init(self) -> str:
        """Amaranth encodes the initial state as 0."""
        return self.state_of(0)

    @property
    def register(self) -> tuple[str, ...]:
        return (*self.path, f"{self.name}_state")

    def state_of(self, code: int) -> str:
        for state, value in self.encoding.items():
            if value == code:
                return state
        raise KeyError(f"FSM {self.name} has no state encoded {code}")


def _next_states(statements, state_signal) -> list[int]:
    """Encodings assigned to ``state_signal`` anywhere in ``statements`` (``m.next = ...``)."""
    found = []
    for stmt in statements:
        lhs = getattr(stmt, "lhs", None)
        if lhs is not None:
            if lhs is state_signal:
                found.append(stmt.rhs.value)
            continue
        for case in getattr(stmt, "cases", ()):
            found += _next_states(case[1], state_signal)
    return found


@functools.cache
def elaborated(config: MacroConfig):
    """``(macro, fragment)``: the :class:`~mram_macro.rtl.top.MramMacro` of ``config``, elaborated
    (as the Verilog generator does) so that its FSMs and signature can be read."""
    from amaranth.hdl import Fragment

    from mram_macro.rtl.top import MramMacro

    # Ungated: the same FSMs and signature, without the clock gates' domain renaming.
    macro = MramMacro(config, clock_gating=False)
    return macro, Fragment.get(macro, None)


def fsm_graphs(config: MacroConfig) -> list[FsmGraph]:
    """Every FSM of the macro built with ``config``, read from the elaborated design.

    Amaranth numbers an FSM's states in the order they are first named (by ``m.State`` or
    ``m.next``), the initial state being 0; the encoding is taken from the FSM object itself
    (:meth:`Fragment.find_generated`), so it never has to be re-derived. The arcs are the
    ``m.next`` assignments found in each state's case of the state register's ``Switch``.
    """
    graphs = []

    def visit(fragment, path: tuple[str, ...]) -> None:
        for name, fsm in fragment.generated.items():
            if not hasattr(fsm, "encoding"):
                continue
            decode = {v: k for k, v in fsm.encoding.items()}
            arcs = set()
            for statements in fragment.statements.values():
                for stmt in statements:
                    if getattr(stmt, "test", None) is not fsm.state:
                        continue
                    for patterns, body, *_ in stmt.cases:
                        targets = _next_states(body, fsm.state)
                        for pattern in patterns:
                            source = decode[int(pattern, 2)]
                            arcs.update((source, decode[t]) for t in targets
                                        if decode[t] != source)
            if not arcs:
                raise RuntimeError(f"no transitions found for FSM {name!r} in "
                                   f"{'.'.join(path) or 'top'}: has Amaranth's FSM lowering "
                                   f"changed?")
            graphs.append(FsmGraph(name=name, path=path, encoding=dict(fsm.encoding),
                                   transitions=frozenset(arcs)))
        for sub, sub_name, *_ in fragment.subfragments:
            visit(sub, (*path, sub_name))

    visit(elaborated(config)[1], ())
    return graphs
