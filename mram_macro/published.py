"""Where the published PPA results are: the repository's docs/ppa/ when run from a checkout,
else the copy shipped in the package (``mram_macro/data/ppa.json`` is a symlink to
docs/ppa/ppa.json, so a wheel carries the file itself: one source)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["published_ppa_dir", "published_ppa_results"]


def published_ppa_dir() -> Path:
    """The folder holding ``ppa.json``: docs/ppa/ in a checkout, the package's data folder in
    an install."""
    from .ppa.report import DOCS_DIR

    if (DOCS_DIR / "ppa.json").is_file():
        return DOCS_DIR
    return Path(str(files("mram_macro") / "data"))


def published_ppa_results() -> list[dict]:
    """:func:`mram_macro.ppa.report.published_results` from :func:`published_ppa_dir`."""
    from .ppa.report import published_results

    return published_results(published_ppa_dir())
