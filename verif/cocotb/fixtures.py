"""What the cocotb test modules share: the start of a test, skip reporting, and the effort
scaling and state checks of the robustness tests.

The run's parameters (``MRAM_CONFIG``, ``MRAM_SEED``, ``MRAM_NVMM``, set by
:func:`mram_macro.sim.runner.run_cocotb`) are read by :mod:`mram_macro.sim.testbench.params`;
``MRAM_NVMM`` is the number of random VMM passes of ``test_random_vmm`` and also scales the
effort of the robustness tests (600 = full).

No tests here: the suites are :data:`verif.cocotb.MACRO_SUITE` and
:data:`verif.cocotb.ROBUSTNESS_SUITE`.
"""

from __future__ import annotations

import os

import cocotb

from mram_macro.rtl.periphery.tdc import SYNC_STAGES
from mram_macro.sim.testbench.params import DEFAULT_NVMM, run_config, run_nvmm, run_seed
from sim_models.device import DeviceParams
from verif.budgets import test_timeout_ms
from verif.cocotb.env import MacroEnv
from verif.cocotb.fsm_graphs import elaborated

# Simulated-time guard against hangs, from the configuration (write pulse, retries, TDC
# window, array size) and the random test's length: see verif/budgets.py.
TEST_TIMEOUT_MS = test_timeout_ms(run_config(), run_nvmm())


def not_applicable(name: str, reason: str) -> None:
    """Record that a check cannot apply to this configuration (log and the run's metrics,
    which ``make regress`` lists under "tests skipped")."""
    import json

    path = os.environ.get("MRAM_METRICS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({f"skipped:{name}": reason}) + "\n")
    cocotb.log.warning("%s does not apply: %s", name, reason)


def skip_test(name: str, reason: str):
    """Skip the running cocotb test, saying why (see :func:`not_applicable`)."""
    import pytest

    not_applicable(name, reason)
    pytest.skip(reason)


def _reset_word(reg) -> int:
    """What ``reg`` reads right after reset (signed fields read sign-extended)."""
    word = reg.reset
    for f in reg.fields:
        if f.kind == "rw" and f.signed and (f.reset >> (f.width - 1)) & 1:
            word |= (0xFFFFFFFF << (f.lsb + f.width)) & 0xFFFFFFFF
    return word


async def _start(dut, *, seed_offset: int = 0, weights: bool = True,
                 device: DeviceParams | None = None) -> MacroEnv:
    """Environment out of reset, with random weights programmed through the bus."""
    env = MacroEnv(dut, run_config(), seed=run_seed() + seed_offset, device=device)
    env.log.info("test seed = MRAM_SEED %d + %d", run_seed(), seed_offset)
    await env.reset()
    if weights:
        await env.program_weights(env.random_weights())
    return env


async def _random_vmm(env: MacroEnv, n: int) -> None:
    rng = env.rng
    for i in range(n):
        if i % 50 == 0:
            # Bursts with different stream behaviour: none, some, or heavy back-pressure (the
            # first burst always has some, so short runs exercise it too).
            env.random_backpressure(p_source_idle=rng.choice((0.0, 0.3, 0.7)) if i else 0.3,
                                    p_sink_stall=rng.choice((0.0, 0.4, 0.9)) if i else 0.4)
        if i and i % 100 == 0:
            # Between bursts (drained, so the model stays exact): re-program a few rows and
            # change the precharge time, which must not change any result.
            rows = rng.sample(range(env.config.rows), k=min(3, env.config.rows))
            await env.program_weights(env.random_weights(), rows=rows)
            await env.write_reg("PRECHARGE_CYCLES", rng.randrange(1, 9))
        await env.send_vector(env.random_vector(rng.random()),
                              accumulate=rng.random() < 0.4, hold=rng.random() < 0.2,
                              noise=rng.random() < 0.5)
        if rng.random() < 0.3:
            await env.cycles(rng.randrange(1, 60))
    try:
        await env.finish()
    finally:
        sb = env.scoreboard
        env.report_metrics(vmms_checked=n, results_checked=sb.received,
                           mismatches=len(sb.mismatches))
    assert env.scoreboard.matches >= 1



# -- robustness: effort and state checks ------------------------------------------------------
#: Effort of a full run (MRAM_NVMM = 600); smaller MRAM_NVMM scales it down.
_FULL_EFFORT_NVMM = DEFAULT_NVMM


def _scale(n: int, least: int = 1) -> int:
    """``n`` iterations at full effort, scaled by MRAM_NVMM, at least ``least``."""
    return max(least, round(n * run_nvmm() / _FULL_EFFORT_NVMM))


def _smoke() -> bool:
    return run_nvmm() < _FULL_EFFORT_NVMM // 2


def _legal_word(reg, rng) -> int:
    """A random word that ``reg`` accepts (``rw`` fields in range; others 0)."""
    word = 0
    for f in reg.fields:
        if f.kind != "rw":
            continue
        if f.signed:
            return rng.randrange(-(1 << (f.width - 1)), 1 << (f.width - 1)) & 0xFFFFFFFF
        hi = f.max_value if f.max_value is not None else (1 << f.width) - 1
        word |= rng.randrange(f.min_value, hi + 1) << f.lsb
    assert reg.check_write(word) is None, (reg.name, hex(word))
    return word


def _output_ports(config) -> list[str]:
    """The macro's output ports, from its Amaranth signature (one source of truth)."""
    from amaranth.lib.wiring import Out

    members = elaborated(config)[0].signature.members
    return [name for name, member in members.items() if member.is_port and member.flow == Out]


def _check_outputs_resolvable(env: MacroEnv, when: str) -> None:
    """Every output port holds 0/1 (Icarus is 4-state; Verilator is 2-state, so trivially)."""
    bad = []
    for name in _output_ports(env.config):
        value = getattr(env.dut, name).value
        if not value.is_resolvable:
            bad.append(f"{name}={value}")
    assert not bad, f"outputs not resolvable {when}: {', '.join(bad)}"


async def _check_clean_state(env: MacroEnv, *, all_arrays: bool) -> None:
    """The documented state after reset: quiet pins, STATUS 0, VMM_COUNT 0, rw at reset."""
    dut, rm = env.dut, env.regmap
    _check_outputs_resolvable(env, "after reset")
    for pin in ("arr_pre", "arr_eval", "arr_wr_pulse", "m_axis_tvalid", "s_axil_bvalid",
                "s_axil_rvalid"):
        assert int(getattr(dut, pin).value) == 0, f"{pin} is high right after reset"
    assert int(dut.s_axis_tready.value) == 1, "s_axis_tready is low right after reset"
    status = await env.read_reg("STATUS")
    assert status == 0, f"STATUS reads 0x{status:08X} after reset, expected 0"
    assert await env.read_field("VMM_COUNT", "COUNT") == 0, "VMM_COUNT is not 0 after reset"
    rng = env.rng
    for reg in rm.registers:
        if not any(f.kind == "rw" for f in reg.fields):
            continue
        if reg.array_name is not None and not all_arrays:
            group = rm.array(reg.array_name)
            if reg is not group[0] and reg is not group[-1] and rng.random() > 4 / len(group):
                continue
        got, want = await env.read_reg(reg.name), _reset_word(reg)
        assert got == want, f"{reg.name} reads 0x{got:08X} after reset, expected 0x{want:08X}"


def _pass_cycles(env: MacroEnv) -> int:
    """Upper bound of the cycles one pass takes with an always-ready sink."""
    c = env.config
    max_precharge = 255
    return (max_precharge + env.model.golden.start_delay_cycles + SYNC_STAGES + c.tdc_max_code
            + c.in_beats + c.out_beats + 16)

