"""The parameters of a cocotb run, as its test module reads them from the process environment.

:func:`mram_macro.sim.runner.run_cocotb` and :func:`mram_macro.flow.ppa.activity.simulate_activity`
set them; a test module run without them (e.g. by hand) gets the defaults below:

* ``MRAM_CONFIG``: the :class:`~mram_macro.design.config.MacroConfig` as JSON (default: the ``full``
  feature profile, :func:`~mram_macro.design.config.profile_config`);
* ``MRAM_SEED``: the random seed (default 1), logged by every test so a failure can be replayed;
* ``MRAM_NVMM``: the number of VMMs of the run (default 600): the random test's passes, the power
  workload's window.
"""

from __future__ import annotations

import os

from mram_macro.design.config import MacroConfig, profile_config

__all__ = ["CONFIG_ENV", "SEED_ENV", "NVMM_ENV", "DEFAULT_PROFILE", "DEFAULT_NVMM",
           "run_config", "run_seed", "run_nvmm"]

CONFIG_ENV = "MRAM_CONFIG"
SEED_ENV = "MRAM_SEED"
NVMM_ENV = "MRAM_NVMM"
#: The configuration of a run that names none.
DEFAULT_PROFILE = "full"
#: The VMM count of a run that names none (a full-effort run of the test suites).
DEFAULT_NVMM = 600


def run_config() -> MacroConfig:
    """The run's configuration (``MRAM_CONFIG``, else the :data:`DEFAULT_PROFILE` profile)."""
    text = os.environ.get(CONFIG_ENV)
    return MacroConfig.from_json(text) if text else profile_config(DEFAULT_PROFILE)


def run_seed() -> int:
    """The run's random seed (``MRAM_SEED``, else 1)."""
    return int(os.environ.get(SEED_ENV, "1"))


def run_nvmm() -> int:
    """The run's VMM count (``MRAM_NVMM``, else :data:`DEFAULT_NVMM`)."""
    return int(os.environ.get(NVMM_ENV, str(DEFAULT_NVMM)))
