"""MRAM in-memory-computing macro: configuration, RTL generator, host API and tools.

``MacroConfig`` (the build parameters) is exported here and from :mod:`mram_macro.host`; the
host API is :class:`mram_macro.host.Macro`.
"""

from importlib.metadata import PackageNotFoundError, version

# The TDC mode objects register themselves with the configuration (mram_macro/design/modes.py):
# every import of the package, and so of the configuration, runs this first.
from mram_macro.design import modes as _modes  # noqa: F401
from mram_macro.design.config import ConfigError, MacroConfig

try:
    __version__ = version("mram-macro")
except PackageNotFoundError:      # run from a checkout that was never installed
    __version__ = "unknown"

__all__ = ["MacroConfig", "ConfigError", "__version__"]
