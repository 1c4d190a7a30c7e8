"""The PPA breakdowns: the macro's energy per VMM and its area by NeuroSim-style category
(:data:`CATEGORIES`, the RTL blocks in each) and by kind (:data:`ENERGY_KINDS`), and their plots.

:func:`energy_shares` and :func:`area_shares` split one ``make ppa`` result and refuse shares
that do not add up to its total; :func:`plots` draws ``ppa_energy.png`` and ``ppa_area.png``
from the results (:mod:`mram_macro.flow.ppa.report` measures and publishes them).
"""

from __future__ import annotations

from pathlib import Path

from mram_macro.design.config import MacroConfig
from mram_macro.flow.ppa.flow import TOP

__all__ = ["CATEGORIES", "category_of", "ENERGY_KINDS", "AREA_GROUPS", "energy_shares",
           "area_shares", "plot_rows", "plots"]

#: NeuroSim-style energy categories, and the RTL blocks in each.
CATEGORIES = {
    "TDC": ("tdc",),
    "accumulator": ("accumulator",),
    "registers": ("regfile",),
    "serialisers": ("input_deserializer", "result_serializer"),
    "control": ("sequencer", "read_control", "write_controller", "input_driver", "top"),
}


def category_of(block: str) -> str:
    for cat, blocks in CATEGORIES.items():
        if block in blocks:
            return cat
    return "control"


#: The energy of a VMM by kind: the analogue array and TDC front end, then the digital
#: periphery's clock network (clock trees, clock pins, clock gates), data and leakage
#: (:mod:`mram_macro.flow.ppa.energy`); they add up to ``total_J``.
ENERGY_KINDS = (("array", "array + TDC front end"), ("clock", "clock (trees, pins, gates)"),
                ("data", "data"), ("leakage", "leakage"))
#: Area groups: the RTL blocks by energy category, the clock gates and the top's glue logic.
AREA_GROUPS = (*CATEGORIES, "clock gates", "top (glue)")
#: The plots' size: 8 in at 120 dpi, 960 px, reads at page width.
PLOT_WIDTH_IN = 8.0
PLOT_DPI = 120
#: Two shares that differ from their total by more than this (relative) are refused.
_SHARE_TOLERANCE = 1e-6


def _checked(label: str, what: str, shares: dict[str, float], total: float) -> dict[str, float]:
    if not total > 0:
        raise ValueError(f"{label}: the {what} total must be positive, not {total!r}")
    if abs(sum(shares.values()) - total) > _SHARE_TOLERANCE * total:
        raise ValueError(f"{label}: the {what} shares ({', '.join(shares)}) add up to "
                         f"{sum(shares.values()):.6g}, not the total {total:.6g}")
    return shares


def energy_shares(r: dict) -> dict[str, float]:
    """A result's energy per VMM (J) by :data:`ENERGY_KINDS`; ``ValueError`` names a missing
    share or shares that do not add up to ``total_J``."""
    label = r.get("title", "a result")
    try:
        d = r["digital_J"]
        shares = {"array": r["analog_J"]["per_vmm_J"], "clock": d["clock"], "data": d["data"],
                  "leakage": d["leakage"]}
        total = r["total_J"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{label}: the result has no {exc} energy share (a `make ppa` "
                         f"result has digital_J clock/data/leakage, analog_J per_vmm_J and "
                         f"total_J)") from None
    return _checked(label, "energy", shares, total)


def area_shares(r: dict) -> dict[str, float]:
    """A result's hierarchical-synthesis area (µm²) by :data:`AREA_GROUPS`; ``ValueError`` if
    the blocks are missing or do not add up to ``area_hier_um2``."""
    label = r.get("title", "a result")
    try:
        blocks, total = r["area_blocks_um2"], r["area_hier_um2"]
    except KeyError as exc:
        raise ValueError(f"{label}: the result has no {exc} (area per block)") from None
    shares = dict.fromkeys(AREA_GROUPS, 0.0)
    for block, um2 in blocks.items():
        if block == TOP:
            group = "top (glue)"
        elif block.startswith(f"{TOP}."):
            group = category_of(block.removeprefix(f"{TOP}."))
        else:                            # the clock-gate cell (mram_icg)
            group = "clock gates"
        shares[group] += um2
    return _checked(label, "area", shares, total)


def plot_rows(results: list[dict], profiles: list[dict] | None = None) -> list[dict]:
    """The plots' rows: every library's default macro, then the other feature profiles (the
    default profile is the headline library's row already)."""
    def build(r: dict) -> str:
        config = MacroConfig.from_dict(r["config"])
        name = "default" if config == MacroConfig() else config.slug
        return name if r.get("clock_gating", True) else f"{name}, ungated"

    rows = [{**r, "row_label": f"{r['title']}, {build(r)}"} for r in results]
    rows += [{**r, "row_label": f"{r['title']}, {r['profile']}"} for r in profiles or ()
             if MacroConfig.from_dict(r["config"]) != MacroConfig()]
    return rows


def plots(results: list[dict], out: Path, profiles: list[dict] | None = None) -> list[Path]:
    """``ppa_energy.png`` and ``ppa_area.png`` in ``out``: per library (and feature profile) a
    100 % bar of the macro's energy per VMM by :data:`ENERGY_KINDS` and of its area by
    :data:`AREA_GROUPS`, on linear axes, each share labelled; totals in the row labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = plot_rows(results, profiles)
    if not rows:
        raise ValueError("no PPA results to plot")
    energy = [energy_shares(r) for r in rows]
    area = [area_shares(r) for r in rows]
    labels_e = [f"{r['row_label']}\n{r['total_J'] * 1e12:.0f} pJ/VMM" for r in rows]
    labels_a = [f"{r['row_label']}\n{r['area_hier_um2']:,.0f} µm²" for r in rows]
    panels = (
        ("ppa_energy.png", energy, labels_e, [k for k, _ in ENERGY_KINDS],
         [name for _, name in ENERGY_KINDS],
         "share of the macro's energy per 64x64 VMM (%), steady state, random VMMs"),
        ("ppa_area.png", area, labels_a, list(AREA_GROUPS), list(AREA_GROUPS),
         "share of the digital area (%), hierarchical synthesis"))
    paths = []
    for name, shares, labels, keys, names, xlabel in panels:
        fig, ax = plt.subplots(figsize=(PLOT_WIDTH_IN, 1.5 + 0.55 * len(rows)))
        colors = plt.get_cmap("tab10").colors
        left = [0.0] * len(rows)
        for k, (key, legend) in enumerate(zip(keys, names, strict=True)):
            pct = [100 * sh[key] / sum(sh.values()) for sh in shares]
            bars = ax.barh(labels, pct, left=left, color=colors[k % len(colors)],
                           label=legend, height=0.6)
            ax.bar_label(bars, labels=[f"{p:.0f} %" if p >= 6 else "" for p in pct],
                         label_type="center", fontsize=8, color="white")
            left = [a + b for a, b in zip(left, pct, strict=True)]
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.invert_yaxis()
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(keys), 4),
                  fontsize=8, frameon=False)
        fig.tight_layout()
        paths.append(out / name)
        fig.savefig(paths[-1], dpi=PLOT_DPI, metadata={"Software": None})
        plt.close(fig)
    return paths
