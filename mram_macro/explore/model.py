"""The fitted digital energy and area model: per block, from the committed gate-level results.

Data: the feature profiles of ``make ppa`` (docs/ppa/ppa_profiles.json, NanGate 45 nm at its
2 ns sign-off clock, the corrected per-transition accounting): for each profile, each block's
energy per VMM by kind (clock, data, leakage: the ``anatomy``) and its area (``area_blocks_um2``).
Older committed files (ppa_counter.json, ppa_first.json, ...) used an earlier accounting and are
not used.

Model, per block ``b`` of a configuration ``c`` with ``F_b(c)`` flip-flop bits
(:func:`mram_macro.explore.features.features`), ``N(c)`` cycles per VMM and clock period ``T``:

* clock energy ``= k_clock_b * F_b * N`` (every register is clocked, or its gate checked, each
  cycle);
* data energy ``= k_data_b * F_b``, and for the TDC ``k_data * F * N`` (its counters count
  cycles);
* leakage ``= k_leak_b * F_b * N * T`` (leakage power follows the cells, energy the time);
* area ``= a_b * F_b``;
* the hold buffers and the top module (the clock tree's buffers, the glue between the blocks)
  follow all flip-flops of the design instead of their own, the clock gates their count. This
  rule for the top module was chosen after the first model (its own flip-flops) overestimated
  the small configuration of docs/ppa/energy_small.json by 74 %: that configuration therefore
  informed the model and is not a held-out check of it;
* a block no measured profile has (the coarse TDC's code -> value table) takes the register
  file's coefficients per flip-flop (:data:`SURROGATE_BLOCK`), an extrapolation the estimate
  names;
* the flat netlist's area is the blocks' sum times the reference's flat / hierarchical ratio.

The coefficients ``k`` and ``a`` of each block are fitted on the measured profile that has the
same calibration hardware and activation mode as ``c`` (:func:`reference_for`): a one-point fit
per block and kind, so the model reproduces each profile exactly and extrapolates by structure
(geometry, code widths, stream width, TDC mode, clock). It is checked, not trusted:
:mod:`mram_macro.explore.check` compares it with the gate-level flow on configurations it never
saw.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import MacroConfig, profile_config
from .features import TOP_BLOCK, Features, features

__all__ = ["DigitalEstimate", "Reference", "references", "reference_for", "estimate",
           "PROFILES_JSON", "HOLD_ROW", "GATES_ROW", "COUNTING_BLOCKS", "WHOLE_DESIGN_ROWS",
           "SURROGATE_BLOCK"]

#: The committed gate-level results the model is fitted to.
PROFILES_JSON = Path(__file__).resolve().parents[2] / "docs" / "ppa" / "ppa_profiles.json"
#: Anatomy rows that are not RTL blocks (mram_macro/ppa/report.py anatomy).
HOLD_ROW = "hold buffers"
GATES_ROW = "clock gates"
#: Rows that serve every register, so scale with all flip-flops: the hold buffers, and the top
#: module (the clock tree's buffers and the glue between the blocks are its cells).
WHOLE_DESIGN_ROWS = (HOLD_ROW, TOP_BLOCK)
#: The block whose per-flip-flop coefficients estimate a block no profile has (a table of
#: registers: the coarse TDC's code_lut).
SURROGATE_BLOCK = "regfile"
#: Blocks whose data energy grows with the cycles of a VMM (counters).
COUNTING_BLOCKS = ("tdc", "ref_tdc")
#: Hierarchical area keys of the synthesis report: the top module and the clock gate cell.
_TOP_AREA_KEY = "mram_macro"
_ICG_AREA_KEY = "mram_icg"
_KINDS = ("clock", "data", "leakage")


@dataclass(frozen=True)
class Reference:
    """One measured profile: its configuration, features, cycles, clock and results."""

    name: str
    config: MacroConfig
    features: Features
    cycles_per_vmm: float
    period_ns: float
    energy_J: dict[str, dict[str, float]]      # anatomy row -> kind -> J per VMM
    area_um2: dict[str, float]                 # block (or HOLD/GATES row) -> µm²
    flat_over_hier: float
    library: str


def _area_blocks(raw: dict[str, float]) -> dict[str, float]:
    out = {}
    for key, value in raw.items():
        if key == _TOP_AREA_KEY:
            out[TOP_BLOCK] = value
        elif key == _ICG_AREA_KEY:
            out[GATES_ROW] = value
        else:
            out[key.removeprefix(_TOP_AREA_KEY + ".")] = value
    return out


@functools.cache
def references(path: Path = PROFILES_JSON) -> dict[str, Reference]:
    """The measured profiles of ``path``, by profile name."""
    try:
        rows = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the gate-level results {path}: {exc}") from None
    out = {}
    for r in rows:
        config = MacroConfig.from_dict(r["config"])
        if config != profile_config(r["profile"]):
            raise ValueError(f"{path}: profile {r['profile']!r} was measured with "
                             f"{config.slug}, not its current configuration: re-run make ppa")
        energy = {row: {k: v[k] for k in _KINDS} for row, v in r["anatomy"].items()}
        out[r["profile"]] = Reference(
            name=r["profile"], config=config, features=features(config),
            cycles_per_vmm=r["cycles_per_vmm"], period_ns=r["period_ns"], energy_J=energy,
            area_um2=_area_blocks(r["area_blocks_um2"]),
            flat_over_hier=r["area_flat_um2"] / r["area_hier_um2"], library=r["library"])
    return out


def reference_for(config: MacroConfig, refs: dict[str, Reference] | None = None) -> Reference:
    """The measured profile whose calibration hardware and activation mode match ``config``'s
    (calibration first: the gain multipliers dominate the block sizes)."""
    refs = references() if refs is None else refs

    def distance(r: Reference) -> tuple[int, int]:
        return (r.config.calibration != config.calibration,
                r.config.activation != config.activation)

    return min(refs.values(), key=distance)


@dataclass(frozen=True)
class DigitalEstimate:
    """The model's digital figures for one configuration at one clock."""

    energy_J: dict[str, float]          # clock, data, leakage, total (per VMM)
    blocks_J: dict[str, float]          # per anatomy row, total per VMM
    area_flat_um2: float
    reference: str
    extrapolated: tuple[str, ...] = ()    # blocks estimated with SURROGATE_BLOCK's coefficients


def _scale(ref_count: float, count: float, block: str) -> float:
    if ref_count == 0:
        if count:
            raise ValueError(f"block {block!r} has {count} flip-flops but none in the "
                             f"measured profile: the model cannot scale it")
        return 0.0
    return count / ref_count


def estimate(config: MacroConfig, *, cycles_per_vmm: float, period_ns: float,
             refs: dict[str, Reference] | None = None,
             feat: Features | None = None) -> DigitalEstimate:
    """Digital energy per VMM and flat area of ``config`` at ``cycles_per_vmm`` cycles per VMM
    and a ``period_ns`` clock (see the module docstring); ``feat``: its features if already
    computed (:func:`~mram_macro.explore.features.features`)."""
    for name, v in (("cycles_per_vmm", cycles_per_vmm), ("period_ns", period_ns)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ValueError(f"{name} must be a positive number, not {v!r}")
    ref = reference_for(config, refs)
    feat = features(config) if feat is None else feat
    cyc = cycles_per_vmm / ref.cycles_per_vmm
    time = cyc * period_ns / ref.period_ns
    blocks: dict[str, float] = {}
    kinds = dict.fromkeys(_KINDS, 0.0)
    area_hier = 0.0
    for row, e in ref.energy_J.items():
        if row in WHOLE_DESIGN_ROWS:
            s = feat.total_flip_flops / ref.features.total_flip_flops
        elif row == GATES_ROW:
            s = feat.clock_gates / ref.features.clock_gates
        else:
            s = _scale(ref.features.flip_flops.get(row, 0), feat.flip_flops.get(row, 0), row)
        data_s = s * cyc if row in COUNTING_BLOCKS else s
        parts = {"clock": e["clock"] * s * cyc, "data": e["data"] * data_s,
                 "leakage": e["leakage"] * s * time}
        for k, v in parts.items():
            kinds[k] += v
        blocks[row] = sum(parts.values())
        if row in ref.area_um2:
            area_hier += ref.area_um2[row] * s
    # Blocks the reference lacks (the coarse TDC's code -> value table): register files, so
    # they take the register file's coefficients per flip-flop (an extrapolation; named).
    extrapolated = sorted(b for b, n in feat.flip_flops.items() if n and b not in ref.energy_J)
    if extrapolated:
        base, n_base = ref.energy_J[SURROGATE_BLOCK], ref.features.flip_flops[SURROGATE_BLOCK]
        for row in extrapolated:
            s = feat.flip_flops[row] / n_base
            parts = {"clock": base["clock"] * s * cyc, "data": base["data"] * s,
                     "leakage": base["leakage"] * s * time}
            for k, v in parts.items():
                kinds[k] += v
            blocks[row] = sum(parts.values())
            area_hier += ref.area_um2[SURROGATE_BLOCK] * s
    return DigitalEstimate(energy_J={**kinds, "total": sum(kinds.values())}, blocks_J=blocks,
                           area_flat_um2=area_hier * ref.flat_over_hier, reference=ref.name,
                           extrapolated=tuple(extrapolated))
