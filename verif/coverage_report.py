"""Merge the functional-coverage files of a regression and report them, holes by name.

Every simulation with coverage on writes one JSON file (:mod:`verif.cocotb.coverage`): the
hits of every bin of its configuration, and the bins its configuration excludes, with the
reason. Bins differ between configurations (registers, TDC range, beats), so files are merged
per configuration (over simulators, seeds and tests), and the totals add the configurations
up: coverage = bins hit / bins defined.

    python -m verif.coverage_report build/coverage      # the report of `make coverage`
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CoverageReport", "main"]


@dataclass
class CoverageReport:
    #: slug -> point -> label -> hits
    hits: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    #: slug -> point -> label -> reason
    excluded: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    files: int = 0

    @classmethod
    def from_dir(cls, directory: Path, *, only: set[str] | None = None) -> CoverageReport:
        """Merge every ``*.json`` coverage file in ``directory`` (or only the named ones)."""
        report = cls()
        for path in sorted(Path(directory).glob("*.json")):
            if only is not None and path.name not in only:
                continue
            report.add(json.loads(path.read_text()))
        return report

    def add(self, doc: dict) -> None:
        slug = doc["slug"]
        self.files += 1
        points = self.hits.setdefault(slug, {})
        excluded = self.excluded.setdefault(slug, {})
        for name, point in doc["points"].items():
            bins = points.setdefault(name, {})
            for label, n in point["bins"].items():
                bins[label] = bins.get(label, 0) + int(n)
            excluded.setdefault(name, {}).update(point.get("excluded", {}))

    # -- numbers --------------------------------------------------------------------------------
    def has(self, slug: str) -> bool:
        return slug in self.hits

    def _count(self, slugs) -> tuple[int, int]:
        total = covered = 0
        for slug in slugs:
            for bins in self.hits[slug].values():
                total += len(bins)
                covered += sum(1 for n in bins.values() if n > 0)
        return covered, total

    def percent(self, slug: str) -> float:
        covered, total = self._count([slug])
        return 100.0 * covered / total if total else 0.0

    def total_bins(self) -> int:
        return self._count(self.hits)[1]

    def total_percent(self) -> float:
        covered, total = self._count(self.hits)
        return 100.0 * covered / total if total else 0.0

    def holes(self) -> dict[tuple[str, str], list[str]]:
        """``(point, bin) -> [configurations where it was never hit]``."""
        out: dict[tuple[str, str], list[str]] = defaultdict(list)
        for slug, points in sorted(self.hits.items()):
            for name, bins in points.items():
                for label, n in bins.items():
                    if n == 0:
                        out[(name, label)].append(slug)
        return dict(out)

    def total_holes(self) -> int:
        return sum(len(v) for v in self.holes().values())

    def total_excluded(self) -> int:
        return sum(len(bins) for points in self.excluded.values() for bins in points.values())

    # -- text -----------------------------------------------------------------------------------
    def render(self, *, holes_only: bool = False, limit: int | None = None) -> str:
        if not self.hits:
            return "functional coverage: no coverage files (was coverage collected?)"
        n_cfg = len(self.hits)
        lines = [f"functional coverage: {n_cfg} configuration(s), {self.files} file(s): "
                 f"{self.total_percent():.1f} % of {self.total_bins()} defined bins hit, "
                 f"{self.total_holes()} hole(s), {self.total_excluded()} excluded bin(s)"]
        if not holes_only:
            per_point: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for points in self.hits.values():
                for name, bins in points.items():
                    per_point[name][0] += sum(1 for n in bins.values() if n > 0)
                    per_point[name][1] += len(bins)
            width = max(len(n) for n in per_point)
            lines.append("")
            lines.append(f"{'cover point':<{width}}  {'hit':>6}  {'bins':>6}  {'%':>6}")
            for name in sorted(per_point):
                hit, total = per_point[name]
                lines.append(f"{name:<{width}}  {hit:>6}  {total:>6}  "
                             f"{100.0 * hit / total if total else 0:>6.1f}")
        holes = self.holes()
        lines.append("")
        if holes:
            lines.append(f"holes (bins never hit), {len(holes)} distinct:")
            shown = sorted(holes.items())
            for (name, label), slugs in shown[:limit]:
                where = "all configurations" if len(slugs) == n_cfg else ", ".join(slugs)
                lines.append(f"  {name} [{label}]  in {where}")
            if limit is not None and len(shown) > limit:
                lines.append(f"  ... and {len(shown) - limit} more (make coverage lists all)")
        else:
            lines.append("holes: none: every defined bin was hit")
        if not holes_only:
            grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
            for slug, points in sorted(self.excluded.items()):
                for name, bins in points.items():
                    for label, reason in bins.items():
                        grouped[(f"{name} [{label}]", reason)].append(slug)
            lines.append("")
            if grouped:
                lines.append("excluded bins (not defined for these configurations), and why:")
                for (what, reason), slugs in sorted(grouped.items()):
                    lines.append(f"  {what}  in {', '.join(slugs)}:\n      {reason}")
            else:
                lines.append("excluded bins: none")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m verif.coverage_report",
                                description=__doc__.split("\n")[0])
    p.add_argument("directory", nargs="?", default="build/coverage/coverage",
                   help="directory of coverage JSON files (default: that of make coverage)")
    p.add_argument("--holes-only", action="store_true", help="only the holes")
    args = p.parse_args(argv)
    report = CoverageReport.from_dir(Path(args.directory))
    print(report.render(holes_only=args.holes_only))
    return 0 if report.hits and not report.holes() else 1


if __name__ == "__main__":
    sys.exit(main())
