"""Structural features of one RTL configuration, read from its elaborated design (no synthesis).

The fitted energy and area model (:mod:`mram_macro.explore.model`) scales each block's measured
energy and area by how much of that block a configuration has. The measure used is the block's
flip-flop bits: every register the RTL declares, counted from Amaranth's RTLIL of the macro
(``$dff`` cells, by width, per submodule), split by the clock each is on (the free-running
``clk`` or a gated one: what decides how often it is clocked), plus the clock gates
(``mram_icg`` instances) by the clock that feeds them. About 2 s per configuration at 64x64,
against minutes for a synthesis.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

from mram_macro.design.config import MacroConfig

__all__ = ["Features", "features", "TOP_BLOCK", "FREE_RUNNING", "RTL_KEY", "CLOCKS_KEY",
           "DIGEST_KEY", "clock_fingerprint", "rtl_fingerprint", "rtl_changes",
           "measured_on_other_rtl"]

#: The block name of registers that belong to the top module itself (the anatomy's "top" row).
TOP_BLOCK = "top"

_MODULE = re.compile(r"^module \\(\S+)$")
#: A register: its width and the net on its clock pin (the clock's name, ``<domain>_clk``, or
#: ``clk``: Amaranth names a submodule's clock port after its domain).
_DFF = re.compile(r"^\s+cell \$dff \S+\n(?:\s+(?:parameter|connect) .*\n)*?"
                  r"\s+connect \\CLK \\(\S+)", re.M)
_DFF_WIDTH = re.compile(r"^\s+parameter \\WIDTH (\d+)$", re.M)
#: A clock gate and the clock that feeds it.
_ICG = re.compile(r"^\s+cell \\mram_icg \S+\n\s+connect \\clk \\(\S+)", re.M)
#: The name of the free-running clock in :attr:`Features.domains`.
FREE_RUNNING = "clk"


@dataclass(frozen=True)
class Features:
    """Flip-flop bits per RTL block (``top`` for the top module's own) and clock gates.

    ``domains``: per block, its flip-flop bits per clock (``clk``, the free-running one, or a
    gated clock's domain, e.g. ``g_tdc3``); ``gate_clocks``: clock gates per clock feeding them.
    """

    domains: dict[str, dict[str, int]]
    gate_clocks: dict[str, int]
    #: SHA-256 of the macro's RTLIL (without source locations): any change of the logic.
    digest: str

    @functools.cached_property
    def flip_flops(self) -> dict[str, int]:
        """Flip-flop bits per block, whatever their clock."""
        return {block: sum(per.values()) for block, per in self.domains.items()}

    @property
    def clock_gates(self) -> int:
        return sum(self.gate_clocks.values())

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

    from mram_macro.rtl.top import MramMacro

    if not isinstance(config, MacroConfig):
        raise TypeError(f"config must be a MacroConfig, not {type(config).__name__}")
    # without source locations: the digest must not change with a line of Python or a path
    text = rtlil.convert(MramMacro(config), emit_src=False)
    domains, gate_clocks = {}, {}
    for block, body in _blocks(text).items():
        if block == "mram_icg":
            continue
        per: dict[str, int] = {}
        for cell in _DFF.finditer(body):
            width = _DFF_WIDTH.search(cell.group(0))
            if width is None:
                raise ValueError(f"a register of block {block!r} has no WIDTH in the RTLIL")
            clock = _domain(cell.group(1))
            per[clock] = per.get(clock, 0) + int(width.group(1))
        domains[block] = per
        for clock in _ICG.findall(body):
            gate_clocks[_domain(clock)] = gate_clocks.get(_domain(clock), 0) + 1
    return Features(domains=domains, gate_clocks=gate_clocks,
                    digest=hashlib.sha256(text.encode()).hexdigest())


#: The key of a gate-level record (``make ppa``'s docs/ppa/*.json, the explore check's and fit
#: runs' records) that holds :attr:`Features.flip_flops` of the RTL it was measured on.
RTL_KEY = "rtl_flip_flops"
#: The key that holds :func:`clock_fingerprint` of the RTL it was measured on.
CLOCKS_KEY = "rtl_clocks"
#: The key that holds :attr:`Features.digest` of the RTL it was measured on.
DIGEST_KEY = "rtl_digest"


def clock_fingerprint(f: Features) -> dict[str, dict[str, int]]:
    """Flip-flop bits per block and clock, the digits of a clock's name folded (``g_tdc12`` ->
    ``g_tdc#``): a change that moves registers behind another clock gate, or onto the
    free-running clock, changes it even where every block keeps its count."""
    # (the fold of mram_macro.flow.ppa.cells.fold_numbers, which this module cannot import:
    # the flow's report imports it)
    out: dict[str, dict[str, int]] = {}
    for block, per in f.domains.items():
        folded: dict[str, int] = {}
        for clock, bits in per.items():
            key = re.sub(r"\d+", "#", clock)
            folded[key] = folded.get(key, 0) + bits
        out[block] = dict(sorted(folded.items()))
    return dict(sorted(out.items()))


def rtl_fingerprint(config: MacroConfig) -> dict:
    """What a gate-level record of ``config`` keeps of the RTL it was measured on: the registers
    per block (:data:`RTL_KEY`), per block and clock (:data:`CLOCKS_KEY`), and the digest of
    the whole RTL (:data:`DIGEST_KEY`)."""
    f = features(config)
    return {RTL_KEY: f.flip_flops, CLOCKS_KEY: clock_fingerprint(f), DIGEST_KEY: f.digest}


def rtl_changes(record: dict) -> list[str]:
    """What differs between the RTL a gate-level ``record`` (with ``config`` and
    :func:`rtl_fingerprint`'s keys) was measured on and what ``config`` builds now: ``"the
    registers per block"``, ``"the clocks of the registers"``, ``"the logic"`` (the digest:
    any change, a purely combinational one included). Empty if it is the same RTL. A record
    without :data:`CLOCKS_KEY` or :data:`DIGEST_KEY` (None: the ungated reference's) is not
    compared on it. Raises KeyError if the record has no fingerprint."""
    if RTL_KEY not in record:
        raise KeyError(f"the record of {record.get('name') or record.get('profile') or '?'} has "
                       f"no {RTL_KEY!r}: it was written before records carried one; re-measure")
    f = features(MacroConfig.from_dict(record["config"]))
    changes = []
    if f.flip_flops != record[RTL_KEY]:
        changes.append("the registers per block")
    if record.get(CLOCKS_KEY) is not None and record[CLOCKS_KEY] != clock_fingerprint(f):
        changes.append("the clocks of the registers")
    if record.get(DIGEST_KEY) is not None and record[DIGEST_KEY] != f.digest:
        changes.append("the logic")
    return changes


def measured_on_other_rtl(record: dict) -> bool:
    """Whether a gate-level ``record`` was measured on RTL other than what its ``config``
    builds now (:func:`rtl_changes`): then its figures are stale and must be measured again.
    Every record written since 2026-12-08 carries the digest, so a purely combinational
    change is seen too."""
    return bool(rtl_changes(record))


def _domain(net: str) -> str:
    """The clock domain of a clock net's name (``g_tdc3_clk`` -> ``g_tdc3``, ``clk`` -> ``clk``)."""
    return net if net == FREE_RUNNING else net.removesuffix("_clk")
