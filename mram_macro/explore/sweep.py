"""The sweep: a grid of design points, each evaluated as a Dask task, written to JSON and CSV.

Task graph (:func:`run_sweep`): one task per distinct RTL configuration for its features
(:func:`~mram_macro.explore.features.features`, ~2-4 s), one per distinct accuracy key (the
digits network on golden dies, ~0.2 s per die), and one per point (model and analogue terms,
milliseconds) that takes the two results it needs. Points whose preset cannot be read out are
kept in the table with the reason and get no tasks.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from mram_macro.design.config import (
    FINE_TAPS,
    PROFILES,
    STREAM_WIDTHS,
    TDC_MODES,
    ConfigError,
    MacroConfig,
)
from mram_macro.design.modes import mode_named
from mram_macro.explore.point import (
    AccuracyKey,
    Point,
    accuracy,
    digits_task,
    evaluate_point,
    make_point,
    refusal,
)
from sim_models.devices import PRESETS

__all__ = ["Space", "parse_tdc", "expand", "run_sweep", "write_results", "CSV_COLUMNS",
           "DEFAULT_COARSE_BITS"]

#: Code width of a coarse TDC given without one (the chip's 4 bits).
DEFAULT_COARSE_BITS = 4


def parse_tdc(spec: str) -> dict:
    """``mode[:bits][/taps]`` -> MacroConfig fields: ``counter``, ``counter:8``,
    ``two_step/4`` (4 phases), ``two_step:7/8``, ``coarse:4``. Without ``:bits`` a counter or
    two-step TDC gets the fewest bits that code every count of the rows (filled in by
    :func:`expand`), a coarse one :data:`DEFAULT_COARSE_BITS`.

    Raises:
        ConfigError: the spec does not parse; the message shows the form.
    """
    form = "mode[:bits][/taps], e.g. counter, two_step/4, two_step:7/8, coarse:4"
    if not isinstance(spec, str):
        raise ConfigError(f"a TDC spec must be a string ({form}), not {spec!r}")
    head, _, taps = spec.partition("/")
    mode, _, bits = head.partition(":")
    if mode not in TDC_MODES:
        raise ConfigError(f"TDC spec {spec!r}: mode must be one of {', '.join(TDC_MODES)} "
                          f"({form})")
    out: dict = {"tdc_mode": mode}
    for name, text in (("tdc_bits", bits), ("tdc_fine_taps", taps)):
        if text:
            if not text.isdigit():
                raise ConfigError(f"TDC spec {spec!r}: {name} must be an integer ({form})")
            out[name] = int(text)
    if "tdc_fine_taps" in out and not mode_named(mode).has_fine_interpolator:
        raise ConfigError(f"TDC spec {spec!r}: phases (/taps) apply to two_step only")
    if "tdc_fine_taps" in out and out["tdc_fine_taps"] not in FINE_TAPS:
        raise ConfigError(f"TDC spec {spec!r}: taps must be one of "
                          f"{', '.join(map(str, FINE_TAPS))}")
    return out


def _positive_ints(name: str, values) -> tuple[int, ...]:
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ConfigError(f"{name} must be one or more positive integers, not {values!r}")
    return values


@dataclass(frozen=True)
class Space:
    """The axes of a sweep; :func:`expand` takes their product. The default is the sweep of
    ``mram-macro explore`` (384 points over the three device presets)."""

    rows: tuple[int, ...] = (32, 64)
    cols: tuple[int, ...] = (32, 64)
    tdc: tuple[str, ...] = ("counter", "two_step/2", "two_step/4", "coarse")
    clocks_ns: tuple[float, ...] = (2.0, 5.0)
    stream_widths: tuple[int, ...] = (32, 64)
    profiles: tuple[str, ...] = ("plain", "full")
    devices: tuple[str, ...] = tuple(PRESETS)

    def __post_init__(self) -> None:
        _positive_ints("rows", self.rows)
        _positive_ints("cols", self.cols)
        for spec in self.tdc:
            parse_tdc(spec)
        if not self.clocks_ns or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)
                and c > 0 for c in self.clocks_ns):
            raise ConfigError(f"clocks_ns must be one or more positive numbers, not "
                              f"{self.clocks_ns!r}")
        bad = [w for w in self.stream_widths if w not in STREAM_WIDTHS]
        if not self.stream_widths or bad:
            raise ConfigError(f"stream widths must be among {', '.join(map(str, STREAM_WIDTHS))}"
                              f", not {self.stream_widths!r}")
        for name, values, known in (("profile", self.profiles, PROFILES),
                                    ("device", self.devices, PRESETS)):
            unknown = [v for v in values if v not in known]
            if not values or unknown:
                raise ConfigError(f"unknown {name}(s) {unknown or values!r}; known: "
                                  f"{', '.join(known)}")

    @property
    def size(self) -> int:
        return math.prod(len(getattr(self, f)) for f in self.__dataclass_fields__)


def expand(space: Space) -> tuple[list[Point], list[dict]]:
    """The points of ``space``, and the combinations that are no legal configuration (each
    with the reason), in a fixed order."""
    points, skipped = [], []
    axes = itertools.product(space.devices, space.profiles, space.rows, space.cols, space.tdc,
                             space.stream_widths, space.clocks_ns)
    for device, profile, rows, cols, tdc, stream, clock in axes:
        fields_ = parse_tdc(tdc)
        if "tdc_bits" not in fields_:
            fields_["tdc_bits"] = (DEFAULT_COARSE_BITS
                                   if mode_named(fields_["tdc_mode"]).has_code_table
                                   else rows.bit_length())
        try:
            points.append(make_point(profile=profile, device=device, t_clk_ns=float(clock),
                                     rows=rows, cols=cols, stream_width=stream, **fields_))
        except ConfigError as exc:
            skipped.append({"device": device, "profile": profile, "rows": rows, "cols": cols,
                            "tdc": tdc, "stream_width": stream, "t_clk_ns": clock,
                            "reason": str(exc)})
    return points, skipped


def _rtl(point: Point) -> MacroConfig:
    """The point's configuration with the reset values that change no register's width (the
    write pulse, lengthened per device and clock) at their defaults: one features task each."""
    d = MacroConfig()
    return replace(point.config, write_pulse_cycles=d.write_pulse_cycles,
                   precharge_cycles=d.precharge_cycles)


def _point_task(point, refs, feat, acc):
    row = evaluate_point(point, refs=refs, feat=feat)
    return {**row, **(acc or {})}


@dataclass
class SweepResult:
    rows: list[dict]
    skipped: list[dict]
    network: dict
    elapsed_s: float
    workers: int
    tasks: dict = field(default_factory=dict)


def run_sweep(points: Sequence[Point], *, client=None, dies: int = 3,
              images: int | None = None, seed: int = 0,
              progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Evaluate ``points``: as Dask tasks on ``client`` (a :class:`distributed.Client`), or
    one after the other in this process without one. ``progress(done, total)`` is called as
    tasks finish."""
    from mram_macro.explore.features import features
    from mram_macro.explore.model import references

    if isinstance(dies, bool) or not isinstance(dies, int) or dies < 1:
        raise ValueError(f"dies must be a positive integer, not {dies!r}")
    t0 = time.perf_counter()
    task = digits_task(seed=seed, images=images)
    refs = references()
    feasible = {p: refusal(p) is None for p in points}
    configs = sorted({_rtl(p) for p in points if feasible[p]}, key=lambda c: c.slug)
    keys = sorted({AccuracyKey.of(p) for p in points if feasible[p]}, key=repr)
    total = len(configs) + len(keys) + len(points)
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    if client is None:
        feats, accs = {}, {}
        for c in configs:
            feats[c] = features(c)
            tick()
        for k in keys:
            accs[k] = accuracy(k, task, dies=dies, seed=seed + 1000)
            tick()
        rows = []
        for p in points:
            ok = feasible[p]
            rows.append(_point_task(p, refs, feats.get(_rtl(p)) if ok else None,
                                    accs.get(AccuracyKey.of(p)) if ok else None))
            tick()
        workers = 0
    else:
        from distributed import as_completed

        refs_f, task_f = client.scatter([refs, task], broadcast=True)
        feat_f = {c: client.submit(features, c, pure=False) for c in configs}
        acc_f = {k: client.submit(accuracy, k, task_f, dies=dies, seed=seed + 1000,
                                  pure=False) for k in keys}
        point_f = [client.submit(_point_task, p, refs_f,
                                 feat_f[_rtl(p)] if feasible[p] else None,
                                 acc_f[AccuracyKey.of(p)] if feasible[p] else None, pure=False)
                   for p in points]
        for fut in as_completed([*feat_f.values(), *acc_f.values(), *point_f]):
            if fut.status == "error":
                fut.result()            # re-raise the task's exception here
            tick()
        rows = client.gather(point_f)
        workers = len(client.scheduler_info()["workers"])
    network = {"name": "digits, binarised 64-128-10, variation-aware",
               "test_images": len(task.y_test), "software_accuracy": task.software_accuracy,
               "training_noise_sigma": task.noise_sigma, "dies_per_point": dies}
    return SweepResult(rows=rows, skipped=[], network=network,
                       elapsed_s=time.perf_counter() - t0, workers=workers,
                       tasks={"features": len(configs), "accuracy": len(keys),
                              "points": len(points)})


#: Columns of the CSV table, in order.
CSV_COLUMNS = ("label", "device", "profile", "rows", "cols", "tdc_mode", "tdc_bits",
               "fine_taps", "t_clk_ns", "stream_width", "result_width", "calibration",
               "activation", "write_pulse_cycles", "feasible", "v_ref_ratio", "c_load_fF",
               "trip_first_ns", "trip_last_ns", "eval_ns", "cycles_per_vmm", "vmm_per_s",
               "digital_J", "analog_J", "energy_J", "tops_per_W", "area_um2", "accuracy",
               "accuracy_min", "write_row_J", "model_reference", "model_extrapolated", "reason",
               "config")


def write_results(result: SweepResult, out: Path, *, space: Space | None = None
                  ) -> dict[str, Path]:
    """``explore.json`` (everything) and ``explore.csv`` (:data:`CSV_COLUMNS`) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "explore.json", "csv": out / "explore.csv"}
    doc = {"space": None if space is None else asdict(space), "network": result.network,
           "elapsed_s": result.elapsed_s, "workers": result.workers, "tasks": result.tasks,
           "points": result.rows, "skipped": result.skipped}
    paths["json"].write_text(json.dumps(doc, indent=1) + "\n")
    with paths["csv"].open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in result.rows:
            window = r.get("trip_window_ns") or [None, None]
            w.writerow({**r, "trip_first_ns": window[0], "trip_last_ns": window[1],
                        "config": json.dumps(r["config"], sort_keys=True)})
    return paths
