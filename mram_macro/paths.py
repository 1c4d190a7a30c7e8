"""Where the package writes when the user names no folder: a per-user cache, never the
current folder.

``MRAM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/mram-macro``, else ``~/.cache/mram-macro``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["user_cache_dir", "ENV_CACHE_DIR"]

#: Environment variable that overrides the cache folder.
ENV_CACHE_DIR = "MRAM_CACHE_DIR"


def user_cache_dir(*parts: str) -> Path:
    """The cache folder (or ``parts`` below it), created if missing.

    Raises:
        ValueError: ``MRAM_CACHE_DIR`` is set but empty or relative (a relative cache would
            land in whatever folder the program runs from).
    """
    override = os.environ.get(ENV_CACHE_DIR)
    if override is not None:
        if not override or not Path(override).expanduser().is_absolute():
            raise ValueError(f"{ENV_CACHE_DIR} must be an absolute path, not {override!r}")
        base = Path(override).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache")
        base = base / "mram-macro"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
