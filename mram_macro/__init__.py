"""MRAM in-memory-computing macro: configuration, RTL generator, host API and tools.

``MacroConfig`` (the build parameters) is exported here and from :mod:`mram_macro.host`; the
host API is :class:`mram_macro.host.Macro`.
"""

from importlib.metadata import PackageNotFoundError, version

from mram_macro.design.config import ConfigError, MacroConfig

try:
    __version__ = version("mram-macro")
except PackageNotFoundError:      # run from a checkout that was never installed
    __version__ = "unknown"

__all__ = ["MacroConfig", "ConfigError", "__version__"]
