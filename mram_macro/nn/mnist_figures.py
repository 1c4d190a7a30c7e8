"""The MNIST figures (docs/mnist/*.png), drawn only from a results dict (docs/mnist/results.json),
so the pictures and the README's numbers have one source."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["draw_all", "FIGURES"]

#: File names of the figures :func:`draw_all` writes.
FIGURES = ("accuracy_vs_sigma.png", "accuracy_vs_temperature.png", "confusion.png")


def _errorbar(ax, pts, style: str, label: str) -> None:
    """Means with min..max bars of ``pts`` = [(x, stats dict)]."""
    ax.errorbar([p[0] for p in pts], [p[1]["mean"] for p in pts],
                yerr=[[p[1]["mean"] - p[1]["min"] for p in pts],
                      [p[1]["max"] - p[1]["mean"] for p in pts]],
                fmt=style, capsize=3, label=label)


def draw_all(res: dict, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paper = res["paper"]
    paths = []

    # Accuracy against cell sigma.
    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, style in (("cal", "o-"), ("uncal", "s--")):
        pts = sorted((float(k.split("/")[0]), v) for k, v in res["sigma_sweep"].items()
                     if k.endswith("/" + mode))
        _errorbar(ax, pts, style,
                  f"golden, {'calibrated (gain)' if mode == 'cal' else 'uncalibrated'}")
    ax.axhline(res["software"], color="k", lw=0.8, ls=":", label="this network, software")
    ax.plot([1.0], [paper["mlp_chip"]], "r*", ms=12, label=f"chip: {paper['mlp_chip']} %")
    ax.set_xlabel("cell resistance sigma / paper's (1.6 k / 2.0 k ohm)")
    ax.set_ylabel("MNIST test accuracy (%)")
    n = res["sigma_sweep"]["1/cal"]["dies"]
    ax.set_title(f"784-{res['hidden']}-10 BNN, {res['images']} test digits, {n} dies per point")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    paths.append(out_dir / FIGURES[0])
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # Accuracy against temperature (calibrated at 25 C, never recalibrated): the whole range,
    # and the tracker-on curve zoomed beside it.
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ts = res["temperature_sweep"]
    for k, ax in enumerate(axes):
        for mode, style in (("on", "o-"), ("off", "s--")) if k == 0 else (("on", "o-"),):
            pts = sorted([(25.0, ts["25"])] + [(float(key.split("/")[0]), v)
                                              for key, v in ts.items() if key.endswith("/" + mode)])
            _errorbar(ax, pts, style, f"tracker {mode}")
        ax.axhline(res["software"], color="k", lw=0.8, ls=":", label="this network, software")
        ax.plot([25.0], [paper["mlp_chip"]], "r*", ms=12,
                label=f"chip: {paper['mlp_chip']} % (temperature not published)")
        ax.set_xlabel("die temperature (C); calibrated once at 25 C")
        ax.set_ylabel("MNIST test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[0].set_title(f"paper sigma, build {res['build']}", fontsize=9)
    axes[1].set_title(f"tracker on, zoomed ({ts['25']['dies']} dies per point, min..max)",
                      fontsize=9)
    paths.append(out_dir / FIGURES[1])
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # Confusion matrix of the first calibrated die at paper sigma.
    m = np.asarray(res["confusion"])
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(np.log1p(m), cmap="Blues")
    for i in range(10):
        for j in range(10):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if m[i, j] > m.max() / 3 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"golden, paper sigma, calibrated, one die: {np.trace(m) / m.sum():.2%}",
                 fontsize=9)
    paths.append(out_dir / FIGURES[2])
    fig.tight_layout()
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths
