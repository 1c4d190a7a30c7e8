"""Workload for the power analysis: random VMMs streamed into the macro, every result checked.

Run by :mod:`mram_macro.flow.ppa.activity` on the *gate-level* netlist (Yosys + Liberty cell models
on Icarus) with a VCD dump; the switching activity inside the reported window becomes the
per-net activity of OpenSTA's ``report_power``. Also runs on the RTL (any simulator).

Environment: ``MRAM_CONFIG``, ``MRAM_SEED`` and ``MRAM_NVMM`` (VMMs in the window), read by
:mod:`mram_macro.sim.testbench.params`; the window is reported through ``MRAM_METRICS`` as
``window_start_ns``, ``window_end_ns``, ``window_vmms`` and ``t_clk_ns``. The testbench is the
product's (:class:`mram_macro.sim.testbench.env.MacroEnv`), without the test suites' coverage.

The window is the **steady state** of a stream: ``MRAM_POWER_WARMUP`` results (default
:data:`mram_macro.flow.ppa.activity.WARMUP_VMMS`) leave the macro first, so the pipeline is full;
the window then runs from the last beat of result ``warm-up`` to the last beat of result
``warm-up + MRAM_NVMM``, while ``MRAM_POWER_TAIL`` more vectors keep the input side busy, so
neither the pipeline's fill nor its drain is in it. ``MRAM_POWER_WARMUP=0`` and
``MRAM_POWER_TAIL=0`` measure from the first vector sent to the last result (fill and drain
included), for comparison.
``MRAM_POWER_WORKLOAD`` picks the data (:data:`WORKLOADS`): ``random`` (default) or ``digits``.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import RisingEdge

from mram_macro.flow.ppa.activity import TAIL_VMMS, WARMUP_VMMS, WORKLOADS
from mram_macro.sim.testbench.env import MacroEnv
from mram_macro.sim.testbench.model import T_CLK_NS
from mram_macro.sim.testbench.params import run_config, run_nvmm, run_seed

#: ``random``: random weights and inputs (each bit 1 with probability 1/2).
#: ``digits``: the first layer of the digits network (mram_macro/nn/, trained with the demo's
#: split and seed 0): its binarised weights on the array's rows x cols (hidden units beyond
#: ``cols`` dropped, inputs beyond ``rows`` dropped, missing ones padded with 0), and the
#: binarised test images as input vectors, in order.
#: ``mnist``: the two-layer BNN of ``make mnist`` (mram_macro/nn/mnist_bnn.py: its cached or
#: freshly trained network, MNIST from the user cache) on the MNIST test images, in order, pass by
#: pass as a weight-stationary bank runs it (:func:`~mram_macro.nn.mnist_bnn.network_passes`:
#: the 13 hidden-layer tiles, then the output tile on the image's hidden activations), each pass's
#: tile loaded by back door into the array model before its evaluation (and into the reference
#: model before its prediction): one macro sees the activity of every tile of the network.
# (WORKLOADS, their names, is mram_macro.flow.ppa.activity's)

#: Added to MRAM_SEED for this workload's environment (as it always was: its die and data).
_SEED_OFFSET = 23


def _count_env(name: str, default: int) -> int:
    text = os.environ.get(name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a non-negative integer, not {text!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {text!r}")
    return value


async def _result_times(dut, marks: set[int], times: dict[int, float]) -> None:
    """Record the simulated time (ns) at which result number ``m`` (1-based, counted by its
    last beat's handshake) leaves the macro, for every ``m`` in ``marks``."""
    done = 0
    while len(times) < len(marks):
        await RisingEdge(dut.clk)
        if (dut.m_axis_tvalid.value == 1 and dut.m_axis_tready.value == 1
                and dut.m_axis_tlast.value == 1):
            done += 1
            if done in marks:
                times[done] = get_sim_time("ns")


def workload_data(config, n: int, env) -> tuple[np.ndarray | list[np.ndarray], list[np.ndarray]]:
    """(weights rows x cols, or a list of them, one per pass; ``n`` input vectors) of the
    workload named by the environment."""
    name = os.environ.get("MRAM_POWER_WORKLOAD", "random")
    if name not in WORKLOADS:
        raise ValueError(f"MRAM_POWER_WORKLOAD must be one of {', '.join(WORKLOADS)}, "
                         f"not {name!r}")
    if name == "random":
        return env.random_weights(), [env.random_vector() for _ in range(n)]
    if name == "mnist":
        from mram_macro.nn.mnist import binarise, load_mnist
        from mram_macro.nn.mnist_bnn import layer_plans, network_passes, train_mnist_bnn

        data = load_mnist()
        cache = os.environ.get("MRAM_MNIST_MODEL_DIR")
        net = train_mnist_bnn(data, cache_dir=None if not cache else Path(cache))
        per_image = sum(p.tiles for p in layer_plans(net, config))
        images = binarise(data.x_test[:-(-n // per_image)])
        weights, vectors = network_passes(net, images, config)
        return weights[:n], vectors[:n]
    from mram_macro.nn.data import Digits, load_digits_split
    from mram_macro.nn.train import train_binary

    data = load_digits_split(seed=0)
    x_tr, x_te = Digits.binarise(data.x_train), Digits.binarise(data.x_test)
    net = train_binary(x_tr, data.y_train, hidden=config.cols, seed=0)
    w = np.zeros((config.rows, config.cols), dtype=bool)
    k, h = min(config.rows, net.w1.shape[0]), min(config.cols, net.w1.shape[1])
    w[:k, :h] = net.w1[:k, :h] > 0
    vectors = []
    for img in x_te[:n]:
        x = np.zeros(config.rows, dtype=bool)
        x[:k] = img[:k] > 0
        vectors.append(x)
    return w, vectors


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def test_power_workload(dut):
    """Weights loaded by back door, then MRAM_NVMM input vectors streamed back to back into an
    always-ready sink (the throughput workload of ``make bench``), results checked; random by
    default, the digits network's with MRAM_POWER_WORKLOAD=digits."""
    env = MacroEnv(dut, run_config(), seed=run_seed() + _SEED_OFFSET)
    env.log.info("test seed = MRAM_SEED %d + %d", run_seed(), _SEED_OFFSET)
    await env.reset()
    # Weights by back door (both the pin model's array and the reference model): programming
    # 64 rows through the bus would take most of a slow gate-level run, and the window below
    # measures VMMs only.
    n = max(1, run_nvmm())
    warm = _count_env("MRAM_POWER_WARMUP", WARMUP_VMMS)
    tail = _count_env("MRAM_POWER_TAIL", TAIL_VMMS)
    w, vectors = workload_data(env.config, warm + n + tail, env)
    per_pass = isinstance(w, list)
    if per_pass:
        # the tile of pass i, into the pin model before evaluation i and into the reference
        # model before its prediction of pass i (below)
        env.array.set_weight_schedule(lambda i: w[i])
        w0 = w[0]
    else:
        w0 = w
    env.array.array.load_weights(w0)
    env.model.golden.array.load_weights(w0)
    env.model.intended_weights[:] = w0
    env.no_backpressure()
    await RisingEdge(dut.clk)
    times: dict[int, float] = {}
    marks = {warm, warm + n} - {0}
    watcher = cocotb.start_soon(_result_times(dut, marks, times))
    start_ns = get_sim_time("ns")
    for i, x in enumerate(vectors):
        if per_pass:
            env.model.golden.array.load_weights(w[i])
            env.model.intended_weights[:] = w[i]
        await env.send_vector(x)
    await env.drain()
    await RisingEdge(dut.clk)
    end_ns = get_sim_time("ns") if tail == 0 else times[warm + n]
    if warm:
        start_ns = times[warm]
    watcher.cancel()
    env.report_metrics(window_start_ns=start_ns, window_end_ns=end_ns, window_vmms=n,
                       t_clk_ns=T_CLK_NS)
    await env.finish()
    assert env.scoreboard.matches == warm + n + tail
