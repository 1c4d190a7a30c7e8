"""Pareto fronts of a sweep, their plots, and the cheapest point meeting a target.

Fronts, per device preset: energy per VMM against accuracy (less energy, more accuracy) and
throughput against area (more VMMs per second, less area). ``--target`` (:func:`parse_target`,
:func:`select`) keeps the feasible points that meet every bound and picks the cheapest: the
smallest digital area, then the least energy per VMM (``--cost energy``: the other way round).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["pareto_front", "fronts", "plot_fronts", "parse_target", "select", "TARGET_KEYS",
           "generate_command", "COSTS"]

#: ``--target`` keys: (row field, "min" bound or "max" bound, unit help).
TARGET_KEYS = {
    "accuracy": ("accuracy", "min", "a fraction 0..1 or a percentage, e.g. 0.93 or 93%"),
    "energy": ("energy_J", "max", "energy per VMM, e.g. 400pJ, 0.4nJ or 4e-10"),
    "throughput": ("vmm_per_s", "min", "VMMs per second, e.g. 2e7"),
    "area": ("area_um2", "max", "digital area in µm², e.g. 50000"),
}
_UNITS = {"": 1.0, "j": 1.0, "mj": 1e-3, "uj": 1e-6, "nj": 1e-9, "pj": 1e-12, "fj": 1e-15}


def pareto_front(rows: Sequence[dict], x: str, y: str, *, minimize_x: bool = True,
                 maximize_y: bool = True) -> list[dict]:
    """The rows no other row beats on both ``x`` and ``y`` (ties kept once), sorted by ``x``."""
    sx = 1 if minimize_x else -1
    sy = -1 if maximize_y else 1
    pts = sorted((r for r in rows if r.get(x) is not None and r.get(y) is not None),
                 key=lambda r: (sx * r[x], sy * r[y]))
    front, best = [], None
    for r in pts:
        if best is None or sy * r[y] < best:
            front.append(r)
            best = sy * r[y]
    return sorted(front, key=lambda r: r[x])


def fronts(rows: Sequence[dict]) -> dict[str, dict[str, list[dict]]]:
    """Per device: the ``energy_accuracy`` and ``throughput_area`` fronts of its feasible
    points."""
    out: dict[str, dict[str, list[dict]]] = {}
    for device in dict.fromkeys(r["device"] for r in rows):
        mine = [r for r in rows if r["device"] == device and r["feasible"]]
        out[device] = {
            "energy_accuracy": pareto_front(mine, "energy_J", "accuracy"),
            "throughput_area": pareto_front(mine, "area_um2", "vmm_per_s"),
        }
    return out


def plot_fronts(rows: Sequence[dict], out: Path) -> list[Path]:
    """Two PNGs in ``out``: energy vs accuracy and throughput vs area, every feasible point
    faint, each device's front as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    out.mkdir(parents=True, exist_ok=True)
    per_device = fronts(rows)
    specs = [("explore_energy_accuracy.png", "energy_accuracy", "energy_J", 1e12,
              "energy per VMM (pJ, digital model + analogue terms)", "accuracy", 100.0,
              "digits accuracy on golden dies, calibrated (%)"),
             ("explore_throughput_area.png", "throughput_area", "area_um2", 1.0,
              "digital area (µm², NanGate 45 nm model)", "vmm_per_s", 1e-6,
              "throughput (million VMMs per second)")]
    paths = []
    for name, key, x, xs, xl, y, ys, yl in specs:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for i, (device, fr) in enumerate(per_device.items()):
            color = f"C{i}"
            pts = [r for r in rows if r["device"] == device and r["feasible"]]
            ax.scatter([r[x] * xs for r in pts], [r[y] * ys for r in pts], s=8, alpha=0.25,
                       color=color)
            f = fr[key]
            ax.plot([r[x] * xs for r in f], [r[y] * ys for r in f], "o-", color=color,
                    label=f"{device} ({len(pts)} feasible points)")
        plain = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "125" else "")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
        if y == "vmm_per_s":
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def _number(key: str, text: str) -> float:
    t = text.strip().lower().replace(" ", "")
    if key == "accuracy" and t.endswith("%"):
        return float(t[:-1]) / 100.0
    m = re.fullmatch(r"([0-9.eE+-]+)([a-z]*)", t)
    if key == "energy" and m and m.group(2) in _UNITS:
        return float(m.group(1)) * _UNITS[m.group(2)]
    return float(t)


def parse_target(text: str) -> dict[str, float]:
    """``accuracy=0.93,energy=400pJ`` -> ``{"accuracy": 0.93, "energy": 4e-10}``.

    Raises:
        ValueError: an unknown key, a repeated key or a value that is not a number of its kind.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a target is key=value[,key=value], keys "
                         f"{', '.join(TARGET_KEYS)}; not {text!r}")
    out: dict[str, float] = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        key = key.strip()
        if key not in TARGET_KEYS or not eq:
            raise ValueError(f"target {part!r}: use key=value with a key among "
                             f"{', '.join(TARGET_KEYS)}")
        if key in out:
            raise ValueError(f"target key {key!r} given more than once")
        try:
            number = _number(key, value)
        except ValueError:
            raise ValueError(f"target {key}={value!r}: {TARGET_KEYS[key][2]}") from None
        if not number > 0 or (key == "accuracy" and number > 1):
            raise ValueError(f"target {key}={value!r} is out of range: {TARGET_KEYS[key][2]}")
        out[key] = number
    return out


def _meets(row: dict, target: dict[str, float]) -> bool:
    for key, bound in target.items():
        field, kind, _ = TARGET_KEYS[key]
        v = row.get(field)
        if v is None or (v < bound if kind == "min" else v > bound):
            return False
    return True


#: What "cheapest" means for :func:`select`: the row field minimised first, then the others.
COSTS = {"area": ("area_um2", "energy_J"), "energy": ("energy_J", "area_um2")}


def select(rows: Sequence[dict], target: dict[str, float], *, cost: str = "area"
           ) -> dict | None:
    """The cheapest feasible row meeting ``target``, or None: by ``cost`` (:data:`COSTS`),
    ``"area"`` (the smallest digital area, then the least energy per VMM) or ``"energy"``."""
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {', '.join(COSTS)}, not {cost!r}")
    ok = [r for r in rows if r["feasible"] and _meets(r, target)]
    first, second = COSTS[cost]
    return min(ok, key=lambda r: (r[first], r[second], r["label"])) if ok else None


def generate_command(row: dict, out_dir: str = "build/explore/rtl") -> str:
    """The ``mram-macro generate`` command line of a row's configuration."""
    from mram_macro.cli_args import config_args
    from mram_macro.design.config import MacroConfig

    return " ".join(["mram-macro", "generate",
                     *config_args(MacroConfig.from_dict(row["config"])), "-o", out_dir])
