"""pytest options shared by the verification suite.

``--seed N`` fixes the random seed of the randomised simulations (default: a fresh random seed
per session, always printed in the header and in every failure, so a run can be replayed).
``--nvmm N`` sets the number of random VMM passes of the cocotb random test (default 600).
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, settings

# The cocotb test modules run inside a simulator (driven by verif/test_cocotb.py), not by pytest.
collect_ignore_glob = ["cocotb/*"]

# Hypothesis profiles (verif/test_properties.py): a few drawn configurations in `make test`, many
# in `make props` (--hypothesis-profile=mram-props, MRAM_PROPS_EXAMPLES per shard). Every example
# builds and simulates, so no per-example deadline (pytest-timeout bounds the whole test), and
# no example database: a failure prints its configuration and the command that replays it.
settings.register_profile("mram-test", max_examples=2, deadline=None, database=None,
                          # mram_seed is function-scoped but one value per session
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture],
                          print_blob=True)
settings.register_profile("mram-props", parent=settings.get_profile("mram-test"),
                          max_examples=int(os.environ.get("MRAM_PROPS_EXAMPLES", "100")))
settings.load_profile("mram-test")


def pytest_addoption(parser):
    group = parser.getgroup("mram", "MRAM macro verification")
    group.addoption("--seed", type=int, default=None,
                    help="seed of the randomised simulations (default: random, printed)")
    group.addoption("--nvmm", type=int, default=600,
                    help="random VMM passes per cocotb random test (default: 600)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mram_sim(nvmm=None, suites=1): the test builds its `sim` x `config` "
        "parameters and runs `suites` cocotb suites with `nvmm` random VMMs (default --nvmm); "
        "its pytest-timeout deadline is derived from that work (verif/budgets.py)")
    seed = config.getoption("seed")
    if seed is None:
        # With pytest-xdist the controller picks the seed and hands it to every worker.
        seed = getattr(config, "workerinput", {}).get("mram_seed")
    if seed is None:
        seed = random.randrange(1 << 31)
    config.mram_seed = int(seed)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """pytest-xdist hook: the workers use the controller's seed."""
    node.workerinput["mram_seed"] = node.config.mram_seed


def pytest_report_header(config):
    return f"mram: random seed {config.mram_seed} (replay with --seed {config.mram_seed})"


@pytest.fixture
def mram_seed(request) -> int:
    seed = request.config.mram_seed
    print(f"mram seed: {seed} (replay with --seed {seed})")
    return seed


@pytest.fixture
def mram_nvmm(request) -> int:
    n = request.config.getoption("nvmm")
    if n < 1:
        raise pytest.UsageError(f"--nvmm must be a positive integer, not {n}")
    return n


def pytest_collection_modifyitems(config, items):
    """Deadlines derived from the work: every simulating test (``sim`` and ``config``
    parameters, or a regression case) gets a pytest-timeout deadline from its configuration,
    VMM count and suites; the others keep the default of ``pyproject.toml``."""
    from mram_macro.design.config import MacroConfig
    from verif.budgets import wall_deadline_s

    for item in items:
        if item.get_closest_marker("timeout"):
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        case = params.get("regress_case")
        if case is not None:
            sim, mconfig, nvmm, suites = case.sim, case.config, case.nvmm, 2
        else:
            sim, mconfig = params.get("sim"), params.get("config")
            if not (isinstance(sim, str) and isinstance(mconfig, MacroConfig)):
                continue
            mark = item.get_closest_marker("mram_sim")
            kwargs = mark.kwargs if mark else {}
            nvmm = kwargs.get("nvmm") or config.getoption("nvmm")
            suites = kwargs.get("suites", 1)
        if nvmm < 1:
            continue          # refused by the mram_nvmm fixture with a clear message
        item.add_marker(pytest.mark.timeout(wall_deadline_s(sim, mconfig, nvmm,
                                                            n_suites=suites)))
