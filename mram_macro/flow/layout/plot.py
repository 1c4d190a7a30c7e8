"""The die plot: the placed cells coloured by RTL block, the array's black box, and the routing
density (routed wire length per bin, on a grey scale under the cells) from the DEF."""

from __future__ import annotations

from pathlib import Path

from mram_macro.flow.layout.spef import DefDesign
from mram_macro.flow.ppa.netlist import Instance
from mram_macro.flow.ppa.power import attribute_blocks

__all__ = ["die_plot", "legend_groups"]

#: Blocks in the legend; the rest are drawn in grey as one "other" entry.
LEGEND_BLOCKS = 14


def legend_groups(blocks: dict[str, str]) -> dict[str, str]:
    """``{instance: group}`` for the legend: a block name with column or bit numbers folded
    (``g_tdc12_icg`` -> ``g_tdc#_icg``: the 64 column clock gates are one group), so that a
    64-column macro's plot names a dozen groups, not one per column."""
    from mram_macro.flow.ppa.cells import fold_numbers

    return {i: fold_numbers(b) for i, b in blocks.items()}


def die_plot(placed: DefDesign, routed: DefDesign, instances: list[Instance],
             outputs: dict[str, list[str]], plan: dict, out: Path, *, title: str,
             bin_um: float = 5.0) -> Path:
    """Render the die to ``out`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    blocks = legend_groups(attribute_blocks(instances, outputs))
    sizes: dict[str, int] = {}
    for b in blocks.values():
        sizes[b] = sizes.get(b, 0) + 1
    shown = sorted(sizes, key=lambda b: (-sizes[b], b))[:LEGEND_BLOCKS]
    blocks = {i: (b if b in shown else "other") for i, b in blocks.items()}
    names = sorted(shown) + (["other"] if len(sizes) > len(shown) else [])
    cmap = plt.get_cmap("tab20")
    colour = {b: cmap(i % 20) for i, b in enumerate(names)}
    colour["other"] = (0.6, 0.6, 0.6, 1.0)
    x0, y0, x1, y1 = plan["outline_um"]
    fig, ax = plt.subplots(figsize=(9, 9 * (y1 - y0) / max(x1 - x0, 1e-9) + 0.8))
    px0, py0, px1, py1 = plan["periphery_um"]
    nx = max(1, int((px1 - px0) / bin_um))
    ny = max(1, int((py1 - py0) / bin_um))
    density = np.zeros((ny, nx))
    for segs in routed.wires.values():
        for s in segs:
            cx = min(nx - 1, max(0, int(((s.x0 + s.x1) / 2 - px0) / (px1 - px0) * nx)))
            cy = min(ny - 1, max(0, int(((s.y0 + s.y1) / 2 - py0) / (py1 - py0) * ny)))
            density[cy, cx] += s.length_um
    density /= bin_um * bin_um
    im = ax.imshow(density, extent=(px0, px1, py0, py1), origin="lower", cmap="Greys",
                   alpha=0.9, zorder=0)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02,
                 label=f"routed wire, µm per µm² ({bin_um:g} µm bins)")
    by_block: dict[str, list] = {b: [] for b in names}
    for c in placed.components:
        b = blocks.get(c.name)
        if b is not None:
            by_block[b].append((c.x_um, c.y_um))
    for b, pts in by_block.items():
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.scatter(xs, ys, s=1.5, color=colour[b], label=f"{b} ({len(pts)})", zorder=2,
                       linewidths=0)
    ax.add_patch(Rectangle((px0, py0), px1 - px0, py1 - py0, fill=False, lw=1.0,
                           edgecolor="black", zorder=3))
    ax0, ay0, ax1, ay1 = plan["array_um"]
    arr = plan["array"]
    ax.add_patch(Rectangle((ax0, ay0), ax1 - ax0, ay1 - ay0, facecolor="#f3d9a4",
                           edgecolor="#8a5a00", hatch="//", lw=1.0, zorder=3))
    ax.text((ax0 + ax1) / 2, (ay0 + ay1) / 2,
            f"MRAM array (black box)\n{arr['rows']} x {arr['cols']} cells, "
            f"{arr['column_pitch_um']:g} x {arr['row_pitch_um']:g} µm pitch",
            ha="center", va="center", fontsize=8, zorder=4)
    for prefix, colour_, label in (("arr_", "#c0392b", "array pins"),
                                   ("", "#1f4e9c", "bus pins")):
        pts = [xy for n, xy in placed.pins.items()
               if (n.startswith("arr_") if prefix else not n.startswith("arr_"))]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.scatter(xs, ys, s=6, marker="s", color=colour_, label=f"{label} ({len(pts)})",
                       zorder=5)
    ax.set_xlim(x0 - 2, x1 + 2)
    ax.set_ylim(y0 - 2, y1 + 2)
    ax.set_aspect("equal")
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.set_title(title.replace(": ", ":\n", 1), fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.12, 1.0), fontsize=7, markerscale=6,
              title="RTL block (cells)", title_fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out
