"""The fitted digital energy and area model: per block, from committed gate-level results.

Data, all NanGate 45 nm at its 2 ns sign-off clock with the corrected per-transition accounting:

* the feature profiles of ``make ppa`` (docs/ppa/ppa_profiles.json): for each profile, each
  block's energy per VMM by kind (clock, data, leakage: the ``anatomy``) and its area
  (``area_blocks_um2``);
* the fit runs (docs/explore/fit_runs.json, :data:`FIT_RUNS_JSON`): the same figures of the
  configurations an earlier ``make explore-check`` measured (the counter and coarse TDCs, the
  gain calibration, other geometries), kept so each block has a measured run of its own kind.

Older committed files (ppa_counter.json, ppa_first.json, ...) used an earlier accounting and are
not used.

Model, per block ``b`` of a configuration ``c`` with ``F_b(c)`` flip-flop bits
(:func:`mram_macro.explore.features.features`), ``N(c)`` cycles per VMM and clock period ``T``,
each block scaled from one measured run ``r`` (below):

* clock energy ``= k_clock_b * E_b``, ``E_b`` the block's clock events per VMM: for each of its
  clocks, its flip-flop bits times the edges that clock has per VMM (:func:`clock_edges`: the
  free-running clock and the synchronisers' ``N``, a stream's clock its beats, the bus and the
  write and table clocks none, every other gated clock one: a TDC column captures once);
* data energy ``= k_data_b * F_b``, and for the TDC ``k_data * F * N`` (its counters count
  cycles);
* leakage ``= k_leak_b * F_b * N * T`` (leakage power follows the cells, energy the time);
* area ``= a_b * F_b``;
* rows that serve the whole design: the top module (the clock trees' buffers, the glue between
  the blocks) takes the clock events of every flip-flop and clock gate for its clock energy and
  all flip-flops for the rest; the hold buffers all flip-flops; the clock gates' row the events
  of the clocks that feed them (a TDC column's gate sits behind the synchronisers' clock);
* a block no measured run has takes the register file's coefficients per flip-flop
  (:data:`SURROGATE_BLOCK`), an extrapolation the estimate names;
* the flat netlist's area is the blocks' sum times the whole-design run's flat / hierarchical
  ratio.

Which run each block is scaled from (:func:`block_reference`): among the runs that have the
block, the one whose configuration matches ``c`` in the fields that shape that block
(:data:`BLOCK_STRUCTURE`: the TDC mode for the TDC and the read control, the calibration,
activation and pass mode for the accumulator, ...), then the nearest in the block's size and in
cycles per VMM. The coefficients are one-point fits, so the model reproduces every measured run
exactly and extrapolates by structure (geometry, code widths, stream width, TDC mode, clock). It is
checked, not trusted: :mod:`mram_macro.explore.check` compares it with the gate-level flow on
configurations that none of its runs are.

History: the first model scaled every clock by cycles (a gated TDC column's register by the
whole window) and the top module by all flip-flops (a coarse TDC's write-once table too), and
had one run per calibration; the check then found the counter TDC with a long window 41 % and the
coarse TDC 32 % high. Those runs are fit runs now, and the check runs on new configurations.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.explore.features import FREE_RUNNING, TOP_BLOCK, Features, features

__all__ = ["DigitalEstimate", "Reference", "references", "block_reference", "estimate",
           "clock_edges", "fit_run_configs", "PROFILES_JSON", "FIT_RUNS_JSON", "HOLD_ROW",
           "GATES_ROW", "COUNTING_BLOCKS", "SURROGATE_BLOCK", "BLOCK_STRUCTURE"]

_DOCS = Path(__file__).resolve().parents[2] / "docs"
#: The committed gate-level results of the feature profiles.
PROFILES_JSON = _DOCS / "ppa" / "ppa_profiles.json"
#: The committed gate-level results of the fit runs (earlier held-out checks).
FIT_RUNS_JSON = _DOCS / "explore" / "fit_runs.json"
#: Anatomy rows that are not RTL blocks (mram_macro/flow/ppa/report.py anatomy).
HOLD_ROW = "hold buffers"
GATES_ROW = "clock gates"
#: The block whose per-flip-flop coefficients estimate a block no run has (a table of
#: registers).
SURROGATE_BLOCK = "regfile"
#: Blocks whose data energy grows with the cycles of a VMM (counters).
COUNTING_BLOCKS = ("tdc", "ref_tdc")
#: Hierarchical area keys of the synthesis report: the top module and the clock gate cell.
_TOP_AREA_KEY = "mram_macro"
_ICG_AREA_KEY = "mram_icg"
_KINDS = ("clock", "data", "leakage")

#: Gated clocks (top.py's ``gate`` names) that see no edge while VMMs stream: the register
#: file's write and bus clocks, the write controller's, the coarse table's, the temperature
#: tracker's retrim (it runs on tracking passes only; the model's stream, like the measured
#: runs, does not track).
IDLE_CLOCKS = ("g_regs", "g_bus", "g_wr", "g_lut", "g_trk")
#: Gated clocks that run on every cycle of the evaluation: the comparator synchronisers'.
WINDOW_CLOCKS = ("g_sync",)
#: Gated clocks with one edge per stream beat: the input stream's and the result stream's.
_BEAT_CLOCKS = {"g_in": "in_beats", "g_ser": "out_beats"}
#: Gated clocks with one edge per VMM: the pass counter's, the result register's, the input
#: drivers', the gain multipliers' (the edge that ends ``read.done``), the tracker's pass
#: counter (a pass's end and the next one's start share an edge while VMMs stream back to
#: back), each TDC column's (``g_tdc<i>``) and each replica column's (``g_ref<i>``).
ONCE_CLOCKS = ("g_cnt", "g_acc", "g_drv", "g_scale", "g_trk_pass")
#: Gated clocks with a few edges per VMM: the read control's edge counter's high bits (a load
#: and about one carry) and its precharge counter (a load and PRECHARGE_CYCLES - 1 counts).
_FEW_CLOCKS = {"g_rc_cnt": lambda c: 2.0, "g_rc_pre": lambda c: float(c.precharge_cycles)}
_COLUMN_CLOCK = re.compile(r"g_(tdc|ref)\d+")


def clock_edges(clock: str, config: MacroConfig, cycles_per_vmm: float) -> float:
    """Edges per VMM of ``clock`` (a domain name of :attr:`Features.domains`) in a stream of
    single-pass VMMs of ``config`` at ``cycles_per_vmm``.

    Raises:
        ValueError: a clock this model does not know (a new gate in top.py needs its rule here).
    """
    if clock == FREE_RUNNING or clock in WINDOW_CLOCKS:
        return cycles_per_vmm
    if clock in IDLE_CLOCKS:
        return 0.0
    if clock in _BEAT_CLOCKS:
        return float(getattr(config, _BEAT_CLOCKS[clock]))
    if clock in ONCE_CLOCKS or _COLUMN_CLOCK.fullmatch(clock):
        return 1.0
    if clock in _FEW_CLOCKS:
        return _FEW_CLOCKS[clock](config)
    raise ValueError(f"clock {clock!r} has no edges-per-VMM rule in the energy model "
                     f"(mram_macro/explore/model.py clock_edges)")


def _wv(c: MacroConfig) -> bool:
    return c.has_write_verify


def _held(c: MacroConfig) -> bool:
    return c.result_register


#: The configuration fields that shape each block (a run whose values differ is a worse
#: reference for it); blocks not named here, and the whole-design rows, use :data:`_OVERALL`.
#: Without a result register the accumulator's pass logic (no registers of its own) is
#: attributed to the top module, and the read control holds the stream's codes.
_OVERALL = ("tdc_mode", "calibration", "activation", "multibit", _wv, _held)
BLOCK_STRUCTURE = {
    "tdc": ("tdc_mode",),
    "ref_tdc": ("tdc_mode", "calibration"),
    "tracker": ("tdc_mode", "calibration"),
    "read_control": ("tdc_mode", _held),
    "code_lut": ("tdc_mode",),
    "accumulator": ("calibration", "activation", "multibit", lambda c: c.mode.has_code_table,
                    _held),
    "write_controller": (_wv,),
    "input_driver": (_wv,),
    "input_deserializer": ("multibit",),
    "result_serializer": ("multibit", "activation"),
    "sequencer": ("multibit", "activation"),
}
_WHOLE_DESIGN = (TOP_BLOCK, HOLD_ROW, GATES_ROW)


@dataclass(frozen=True)
class Reference:
    """One measured run: its configuration, features, cycles, clock and results."""

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


def _reference(name: str, config: MacroConfig, r: dict) -> Reference:
    energy = {row: {k: v[k] for k in _KINDS} for row, v in r["anatomy"].items()}
    return Reference(
        name=name, config=config, features=features(config),
        cycles_per_vmm=r["cycles_per_vmm"], period_ns=r["period_ns"], energy_J=energy,
        area_um2=_area_blocks(r["area_blocks_um2"]),
        flat_over_hier=r["area_flat_um2"] / r["area_hier_um2"], library=r["library"])


@functools.cache
def references(path: Path = PROFILES_JSON,
               fit_runs: Path | None = FIT_RUNS_JSON) -> dict[str, Reference]:
    """The measured runs the model is fitted to, by name: the profiles of ``path`` and the fit
    runs of ``fit_runs`` (``None``: none)."""
    out = {}
    for source in (path, fit_runs):
        if source is None:
            continue
        try:
            rows = json.loads(Path(source).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read the gate-level results {source}: {exc}") from None
        for r in rows:
            if "profile" in r:
                config = MacroConfig.from_dict(r["config"])
                if config.tdc_capture != "sampled":
                    # the model's features know the sampled TDC only (edge capture has no
                    # fit runs yet): not a reference
                    continue
                if config != profile_config(r["profile"]):
                    raise ValueError(f"{source}: profile {r['profile']!r} was measured with "
                                     f"{config.slug}, not its current configuration: re-run "
                                     f"make ppa")
                out[r["profile"]] = _reference(r["profile"], config, r)
            else:
                out[r["name"]] = _reference(r["name"], MacroConfig.from_dict(r["config"]),
                                            r["measured"])
    return out


def fit_run_configs(path: Path = FIT_RUNS_JSON) -> dict[str, MacroConfig]:
    """The configurations of the fit runs, by name (what ``explore check`` can re-measure)."""
    return {r["name"]: MacroConfig.from_dict(r["config"])
            for r in json.loads(Path(path).read_text())}


def _values(config: MacroConfig, fields) -> tuple:
    return tuple(f(config) if callable(f) else getattr(config, f) for f in fields)


def _size(feat: Features, row: str) -> int:
    """What ``row``'s data energy, leakage and area scale with: its flip-flop bits; the clock
    gates' row its gates; the top module and the hold buffers all flip-flops."""
    if row == GATES_ROW:
        return feat.clock_gates
    return feat.total_flip_flops if row in _WHOLE_DESIGN else feat.flip_flops.get(row, 0)


def block_reference(row: str, config: MacroConfig, cycles_per_vmm: float,
                    refs: dict[str, Reference], feat: Features) -> Reference | None:
    """The run ``row`` (a block or a whole-design row) of ``config`` is scaled from: among the
    runs that measured the row, the fewest differences in the fields that shape it
    (:data:`BLOCK_STRUCTURE`), then in the whole configuration, then the nearest in the row's
    flip-flops and in cycles per VMM; ``None`` when no run has it."""
    fields = BLOCK_STRUCTURE.get(row, _OVERALL)
    want, overall = _values(config, fields), _values(config, _OVERALL)
    size = max(_size(feat, row), 1)

    def distance(r: Reference):
        own = sum(a != b for a, b in zip(_values(r.config, fields), want, strict=True))
        rest = sum(a != b for a, b in zip(_values(r.config, _OVERALL), overall, strict=True))
        return (own, rest, abs(math.log(max(_size(r.features, row), 1) / size)),
                abs(math.log(r.cycles_per_vmm / cycles_per_vmm)), r.name)

    have = [r for r in refs.values() if row in r.energy_J and
            (row in _WHOLE_DESIGN or r.features.flip_flops.get(row, 0))]
    return min(have, key=distance) if have else None


@dataclass(frozen=True)
class DigitalEstimate:
    """The model's digital figures for one configuration at one clock."""

    energy_J: dict[str, float]          # clock, data, leakage, total (per VMM)
    blocks_J: dict[str, float]          # per anatomy row, total per VMM
    area_flat_um2: float
    reference: str                      # the run the whole-design rows were scaled from
    extrapolated: tuple[str, ...] = ()    # blocks estimated with SURROGATE_BLOCK's coefficients
    block_references: tuple[tuple[str, str], ...] = ()   # (row, run) for every row


def _events(feat: Features, row: str, config: MacroConfig, cycles: float) -> float:
    """Clock events per VMM of ``row``: flip-flop bits times their clock's edges."""
    def of(domains: dict[str, int]) -> float:
        return sum(n * clock_edges(d, config, cycles) for d, n in domains.items())

    if row == GATES_ROW:
        return of(feat.gate_clocks)
    if row in _WHOLE_DESIGN:      # the clock trees serve every register and gate
        return sum(of(d) for d in feat.domains.values()) + of(feat.gate_clocks)
    return of(feat.domains.get(row, {}))


def _ratio(ref_count: float, count: float, row: str) -> float:
    if ref_count == 0:
        if count:
            raise ValueError(f"row {row!r} has {count} of what the measured run has none of: "
                             f"the model cannot scale it")
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
    refs = references() if refs is None else refs
    feat = features(config) if feat is None else feat
    # the blocks with registers, then the whole-design rows (the top module is both)
    rows = dict.fromkeys([*(b for b, n in feat.flip_flops.items() if n), *_WHOLE_DESIGN])
    blocks: dict[str, float] = {}
    kinds = dict.fromkeys(_KINDS, 0.0)
    chosen: dict[str, str] = {}
    area_hier = 0.0
    extrapolated = []
    whole = block_reference(TOP_BLOCK, config, cycles_per_vmm, refs, feat)
    if whole is None:
        raise ValueError("no measured run has the top module: the model has no data")
    for row in rows:
        ref = block_reference(row, config, cycles_per_vmm, refs, feat)
        source = row
        if ref is None:
            ref, source = whole, SURROGATE_BLOCK
            extrapolated.append(row)
        e, rf = ref.energy_J[source], ref.features
        cyc = cycles_per_vmm / ref.cycles_per_vmm
        time = cyc * period_ns / ref.period_ns
        if source != row:        # the surrogate: per flip-flop, every register clocked
            s = feat.flip_flops[row] / rf.flip_flops[source]
            clock_s = s * cyc
        else:
            s = _ratio(_size(rf, row), _size(feat, row), row)
            ref_events = _events(rf, row, ref.config, ref.cycles_per_vmm)
            clock_s = (_events(feat, row, config, cycles_per_vmm) / ref_events if ref_events
                       else s * cyc)
        data_s = s * cyc if row in COUNTING_BLOCKS else s
        parts = {"clock": e["clock"] * clock_s, "data": e["data"] * data_s,
                 "leakage": e["leakage"] * s * time}
        for k, v in parts.items():
            kinds[k] += v
        blocks[row] = sum(parts.values())
        chosen[row] = ref.name
        if source in ref.area_um2:
            area_hier += ref.area_um2[source] * s
    return DigitalEstimate(energy_J={**kinds, "total": sum(kinds.values())}, blocks_J=blocks,
                           area_flat_um2=area_hier * whole.flat_over_hier, reference=whole.name,
                           extrapolated=tuple(sorted(extrapolated)),
                           block_references=tuple(sorted(chosen.items())))
