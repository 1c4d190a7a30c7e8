"""Property-based configurations: Hypothesis draws :class:`MacroConfig` from its whole legal
space (``verif/configs.py``) and every drawn configuration must generate, lint clean and pass a
short random-VMM run bit for bit (``verif/props.py``).

* ``make test``: two drawn configurations (at most 24x24, for time) on both simulators.
* ``make props``: ``PROPS`` (default 200) configurations from the whole space on Verilator,
  in ``JOBS`` shards (one Hypothesis stream per pytest-xdist worker).

A failure shows the shrunk configuration and the command that replays it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time

import pytest
from hypothesis import given, note, settings

from mram_macro.design.config import ConfigError, MacroConfig, profile_config
from mram_macro.sim.runner import SIMULATORS
from verif.budgets import wall_deadline_s
from verif.configs import (
    DRAWN_FIELDS,
    config_name,
    field_space,
    full_slug,
    macro_configs,
    parse_slug,
    sample_configs,
)
from verif.props import BUILD_ROOT, SHORT_NVMM, check_config, replay_command

#: The ``make test`` space, for time (a Verilator build per example): arrays up to 24x24 and
#: write pulses up to 4096 cycles, every other parameter over its whole range. ``make props``
#: and the directed tests (e.g. ``demo --write-pulse-cycles 65535``) cover the rest.
SMALL = {"max_rows": 24, "max_cols": 24, "max_write_pulse": 4096}
#: ``make props`` shards (pytest-xdist workers), set by the make target.
SHARDS = int(os.environ.get("MRAM_PROPS_SHARDS", "1"))


def _check(config: MacroConfig, sims, seed: int) -> None:
    note(f"configuration {config.to_json()}")
    t0 = time.perf_counter()
    problems = check_config(config, sims=sims, seed=seed)
    # One line per example (Hypothesis prints its statistics only at the end of a run).
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    with open(BUILD_ROOT / "progress.log", "a") as f:
        f.write(f"{'FAIL' if problems else 'PASS'} {full_slug(config)} {','.join(sims)} "
                f"seed {seed} {time.perf_counter() - t0:.1f} s\n")
    assert not problems, (
        f"drawn configuration {full_slug(config)} {config.to_json()} failed (seed {seed}):\n  "
        + "\n  ".join(problems)
        + f"\nreplay: {replay_command(config, sims=sims, seed=seed)}")


def _skip_without_simulators(sims) -> None:
    for sim in sims:
        if shutil.which(SIMULATORS[sim]) is None:
            pytest.skip(f"{SIMULATORS[sim]} is not on PATH (run `make setup`)")


# -- the space itself (cheap) ------------------------------------------------------------------
def test_the_drawn_space_covers_every_field():
    """Every MacroConfig parameter has a legal space in mram_macro/design/config.py (LIMITS,
    CHOICES) and is drawn."""
    assert set(DRAWN_FIELDS) == {f.name for f in dataclasses.fields(MacroConfig)}
    for name in DRAWN_FIELDS:
        field_space(name)               # raises, naming the field and the fix, if it has none


def test_a_new_parameter_is_drawn_from_the_tables_without_edits(monkeypatch):
    """A field added to MacroConfig and listed in CHOICES is drawn, replays by name, and its
    cross-check is met; a field in neither table fails with the fix."""
    from mram_macro.design import config as config_module
    from verif import configs

    @dataclasses.dataclass(frozen=True)
    class Extended(MacroConfig):
        flavour: str = "plain"

        def __post_init__(self):
            super().__post_init__()
            if self.flavour == "spicy" and self.rows > 100:   # a cross-check drawing must meet
                raise ConfigError("flavour='spicy' needs rows <= 100")

    monkeypatch.setattr(configs, "MacroConfig", Extended)
    with pytest.raises(ConfigError, match=r"MacroConfig\.flavour has no legal range in LIMITS "
                                           r"and no legal values in CHOICES"):
        sample_configs(1, seed=1)
    monkeypatch.setitem(config_module.CHOICES, "flavour", ("plain", "spicy"))
    drawn = sample_configs(200, seed=3)
    assert {c.flavour for c in drawn} == {"plain", "spicy"}
    assert all(c.rows <= 100 for c in drawn if c.flavour == "spicy")
    assert any(c.rows > 100 for c in drawn)
    spicy = next(c for c in drawn if c.flavour == "spicy")
    monkeypatch.setattr(configs, "MacroConfig", MacroConfig)
    assert config_name(spicy).startswith("{")           # the slug does not carry it: JSON
    ordinary = sample_configs(3, seed=3)
    assert [parse_slug(config_name(c)) for c in ordinary] == ordinary
    assert all(not config_name(c).startswith("{") for c in ordinary)


@settings(max_examples=300)
@given(macro_configs())
def test_drawn_configurations_are_legal_and_replay_by_slug(config):
    assert MacroConfig.from_dict(config.to_dict()) == config
    assert parse_slug(full_slug(config)) == config


def test_sampled_configurations_reach_every_edge():
    configs = sample_configs(400, seed=5)
    assert sample_configs(400, seed=5) == configs                     # reproducible
    for name in DRAWN_FIELDS:
        values = {getattr(c, name) for c in configs}
        assert len(values) > 1, f"{name} never varies"
    assert {2, 256} <= {c.rows for c in configs} and {1, 256} <= {c.cols for c in configs}
    assert {1, 65535} <= {c.write_pulse_cycles for c in configs}
    assert {1, 255} <= {c.precharge_cycles for c in configs}
    assert 12 in {c.tdc_bits for c in configs} and 32 in {c.result_width for c in configs}
    assert any(c.result_width == c.pass_result_width for c in configs)
    with pytest.raises(ValueError, match="not a configuration slug"):
        parse_slug("r8_c8")
    with pytest.raises(ConfigError, match="slug 'r8_c8_t2_w8_s8': tdc_bits=2"):
        parse_slug("r8_c8_t2_w8_s8")


# -- drawn configurations through the tools and the simulators ---------------------------------
@pytest.mark.timeout(4 * wall_deadline_s("icarus", profile_config("full", rows=24, cols=24),
                                         SHORT_NVMM))
@given(config=macro_configs(**SMALL))
def test_drawn_configuration_runs_on_both_simulators(config, mram_seed):
    _skip_without_simulators(SIMULATORS)
    _check(config, list(SIMULATORS), mram_seed)


@pytest.mark.skipif(os.environ.get("MRAM_PROPS") != "1",
                    reason="the long property run: `make props` (PROPS=200 configurations)")
@pytest.mark.timeout(0)   # as long as the drawn configurations take; each run has its deadline
@pytest.mark.parametrize("shard", range(SHARDS))
@given(config=macro_configs())
def test_drawn_configuration_whole_space_on_verilator(shard, config, mram_seed):
    _skip_without_simulators(["verilator"])
    _check(config, ["verilator"], mram_seed + shard)


def test_quick_build_flags_come_last_and_compile_through_ccache(tmp_path, monkeypatch):
    """``make props`` builds its Verilator models at -O0: the flag must be the last -O on the
    compiler line (after any other -CFLAGS, e.g. a speed -O2), and the compile goes through
    ccache when it is installed (the runtime library is most of a small model's build)."""
    from mram_macro.sim import runner

    seen = {}

    class FakeRunner:
        def build(self, **kwargs):
            seen.update(kwargs, objcache=os.environ.get("OBJCACHE"))

    monkeypatch.setattr("cocotb_tools.runner.get_runner", lambda sim: FakeRunner())
    monkeypatch.delenv("OBJCACHE", raising=False)
    config = profile_config("full", rows=8, cols=3, tdc_bits=4, result_width=5)
    runner.build("verilator", config, tmp_path, extra_args=["-CFLAGS", "-O2"], quick_build=True)
    assert seen["build_args"][-4:] == ["-CFLAGS", "-O2", *runner.QUICK_BUILD_ARGS]
    assert seen["objcache"] == ("ccache" if shutil.which("ccache") else None)
    assert "OBJCACHE" not in os.environ                  # only for the build
    runner.build("verilator", config, tmp_path)
    assert runner.QUICK_BUILD_ARGS[-1] not in seen["build_args"]   # a normal build: no -O0
    runner.build("icarus", config, tmp_path, quick_build=True)
    assert "-O0" not in seen["build_args"] and seen["objcache"] is None
