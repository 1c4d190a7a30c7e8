"""Where the published PPA results are: the repository's docs/ppa/ when run from a checkout,
else the copy shipped in the package (``mram_macro/data/ppa.json`` and
``ppa_profiles.json`` are symlinks to docs/ppa/, so a wheel carries the files themselves: one
source)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["published_ppa_dir", "published_ppa_results", "published_results_of"]


def published_ppa_dir() -> Path:
    """The folder holding ``ppa.json``: docs/ppa/ in a checkout, the package's data folder in
    an install."""
    from mram_macro.flow.ppa.report import DOCS_DIR

    if (DOCS_DIR / "ppa.json").is_file():
        return DOCS_DIR
    return Path(str(files("mram_macro") / "data"))


def published_ppa_results() -> list[dict]:
    """:func:`mram_macro.flow.ppa.report.published_results` from :func:`published_ppa_dir`."""
    from mram_macro.flow.ppa.report import published_results

    return published_results(published_ppa_dir())


def published_results_of(config) -> list[dict]:
    """The published results measured on the build ``config`` (a
    :class:`mram_macro.design.config.MacroConfig`), one per library: the default macro's rows of
    ``ppa.json`` if ``config`` is the default, else the feature profile's row on the headline
    library (``ppa_profiles.json``) if it is one of them; empty if it was not measured."""
    from mram_macro.design.config import MacroConfig
    from mram_macro.flow.ppa.report import published_profiles

    rows = [*published_ppa_results(), *published_profiles(published_ppa_dir())]
    out: dict[str, dict] = {}
    for r in rows:
        if (MacroConfig.from_dict(r["config"]) == config and r.get("clock_gating", True)
                and r.get("workload", "random") == "random"):
            out.setdefault(r["library"], r)
    return list(out.values())
