"""The test suites' environment: the product's layered testbench with functional coverage.

:class:`MacroEnv` is :class:`mram_macro.sim.testbench.env.MacroEnv` (drivers, monitors,
reference model, scoreboard; the power workloads of ``make ppa`` run on it too) plus the
functional coverage of :mod:`verif.cocotb.coverage`, bound to every environment a test builds
when ``MRAM_COVERAGE`` names an output file (``make coverage``, ``make regress``). Without it the
two environments behave the same.
"""

from __future__ import annotations

import os

from mram_macro.sim.testbench import env as testbench_env
from mram_macro.sim.testbench.drivers import StreamSource
from verif.cocotb.coverage import COVERAGE_ENV, MacroCoverage, attach

__all__ = ["MacroEnv"]


class MacroEnv(testbench_env.MacroEnv):
    """The testbench of :class:`mram_macro.sim.testbench.env.MacroEnv` (same arguments), with
    :attr:`coverage`: the process's coverage model bound to it when ``MRAM_COVERAGE`` is set
    (the stream source then drives the harness' ``s_axis`` pins itself, not its input feeder,
    because coverage samples those pins), else ``None``."""

    def __init__(self, dut, config, **kwargs):
        super().__init__(dut, config, **kwargs)
        self.coverage: MacroCoverage | None = None
        if os.environ.get(COVERAGE_ENV):
            self.coverage = attach(self)
            if isinstance(self.source, StreamSource):
                self.source.use_feeder = False  # coverage samples the harness' s_axis pins
