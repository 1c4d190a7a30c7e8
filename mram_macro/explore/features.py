"""Structural features of one RTL configuration, read from its elaborated design (no synthesis).

The fitted energy and area model (:mod:`mram_macro.explore.model`) scales each block's measured
energy and area by how much of that block a configuration has. The measure used is the block's
flip-flop bits: every register the RTL declares, counted from Amaranth's RTLIL of the macro
(``$dff`` cells, by width, per submodule), plus the clock gates (``mram_icg`` instances). About
2 s per configuration at 64x64, against minutes for a synthesis.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..config import MacroConfig

__all__ = ["Features", "features", "TOP_BLOCK"]

#: The block name of registers that belong to the top module itself (the anatomy's "top" row).
TOP_BLOCK = "top"

_MODULE = re.compile(r"^module \\(\S+)$")
_DFF_WIDTH = re.compile(r"^\s+cell \$dff \S+\n\s+parameter \\WIDTH (\d+)$", re.M)
_ICG = re.compile(r"^\s+cell \\mram_icg ", re.M)


@dataclass(frozen=True)
class Features:
    """Flip-flop bits per RTL block (``top`` for the top module's own) and clock gates."""

    flip_flops: dict[str, int]
    clock_gates: int

    @property
    def total_flip_flops(self) -> int:
        return sum(self.flip_flops.values())


def _blocks(rtlil: str) -> dict[str, str]:
    """The text of each module, keyed by block name (``top.tdc`` -> ``tdc``)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in rtlil.splitlines():
        m = _MODULE.match(line)
        if m:
            name = m.group(1)
            current = TOP_BLOCK if name == "top" else name.removeprefix("top.")
            out.setdefault(current, [])
        elif current is not None:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


@functools.lru_cache(maxsize=256)
def features(config: MacroConfig) -> Features:
    """The :class:`Features` of ``config`` (cached per configuration)."""
    from amaranth.back import rtlil

    from ..top import MramMacro

    if not isinstance(config, MacroConfig):
        raise TypeError(f"config must be a MacroConfig, not {type(config).__name__}")
    text = rtlil.convert(MramMacro(config))
    flops, gates = {}, 0
    for block, body in _blocks(text).items():
        if block == "mram_icg":
            continue
        flops[block] = sum(int(w) for w in _DFF_WIDTH.findall(body))
        gates += len(_ICG.findall(body))
    return Features(flip_flops=flops, clock_gates=gates)
