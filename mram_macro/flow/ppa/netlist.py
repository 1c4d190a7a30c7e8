"""A reader for the flat gate-level netlists Yosys writes (``write_verilog -noattr -noexpr``).

Only what the PPA flow needs: every cell instance with its type and pin-to-net connections, net
names normalised to ``name[bit]`` (no escaping backslash, no space before the index), and which
block of the RTL hierarchy a net belongs to (flattening keeps the ``block.signal`` names of
registers and named wires).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Instance", "read_instances", "normalise_net", "block_of", "VERILOG_KEYWORDS"]

_INSTANCE = re.compile(r"^\s*([A-Za-z_][\w$]*)\s+(\\\S+|[A-Za-z_][\w$]*)\s*\((.*?)\);",
                       re.M | re.S)
_PIN = re.compile(r"\.(\w+)\s*\(\s*(.*?)\s*\)\s*(?:,|$)", re.S)
VERILOG_KEYWORDS = {"module", "input", "output", "wire", "reg", "assign", "inout", "endmodule"}


@dataclass(frozen=True)
class Instance:
    name: str
    cell: str
    pins: dict[str, str]


def normalise_net(text: str) -> str:
    """``\\foo.bar [3]`` -> ``foo.bar[3]``; ``_12_`` -> ``_12_``."""
    text = text.strip()
    if text.startswith("\\"):
        text = text[1:]
    return re.sub(r"\s+\[", "[", text).strip()


def read_instances(netlist: Path, cells: set[str] | None = None) -> list[Instance]:
    """Every cell instance of the (single, flat) module in ``netlist``; with ``cells``, only
    instances of those cell types."""
    text = Path(netlist).read_text()
    out = []
    for m in _INSTANCE.finditer(text):
        cell, name, body = m.groups()
        if cell in VERILOG_KEYWORDS or (cells is not None and cell not in cells):
            continue
        pins = {p: normalise_net(n) for p, n in _PIN.findall(body.strip() + ",")}
        out.append(Instance(normalise_net(name), cell, pins))
    return out


def block_of(net: str) -> str | None:
    """The RTL block a named net belongs to (``tdc`` for ``tdc.codes[3]``), ``top`` for a named
    top-level net, None for an anonymous one (``_123_``, ``$45``, and the nets hold fixing
    adds, ``hold_fix_n*``: the logic in front of a hold buffer belongs to the block of the
    register the chain feeds)."""
    if net.startswith(("_", "$", "hold_fix_")) or not net:
        return None
    head = net.split("[", 1)[0]
    return head.split(".", 1)[0] if "." in head else "top"
