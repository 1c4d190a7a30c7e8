"""Switching activity of a gate-level netlist: simulate it, dump a VCD, count toggles per net.

The synthesised flat netlist runs on Icarus with Verilog models of the Liberty cells that Yosys
writes (``read_liberty; write_verilog``), under a cocotb workload module (by default
:data:`DEFAULT_WORKLOAD`, :mod:`mram_macro.sim.workloads.power`: random VMMs, every result
checked against the golden model, so the netlist is also proven functionally equal to the RTL on
that workload). The workload reports its measurement window; toggles are counted inside it only.
The workloads are part of the product: the module names handed to the runner resolve in an
installed wheel, without the repository's tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mram_macro.design.config import MacroConfig
from mram_macro.nn.mnist import MODEL_CACHE
from mram_macro.sim.runner import TIMESCALE, failed_cases, scoped_environ

__all__ = ["DEFAULT_WORKLOAD", "WORKLOADS", "Activity", "ActivityError", "write_cell_models",
           "count_toggles", "simulate_activity"]

#: The cocotb module :func:`simulate_activity` runs unless told otherwise (a product module).
DEFAULT_WORKLOAD = "mram_macro.sim.workloads.power"
#: The data the power workload streams (MRAM_POWER_WORKLOAD; described in the workload module):
#: random VMMs, the digits network's first layer, the MNIST BNN's passes.
WORKLOADS = ("random", "digits", "mnist")
#: Results of the workload's stream that leave the macro before its power window opens (the
#: pipeline fills), and vectors sent after the window's last one (it stays full to the end).
WARMUP_VMMS = 4
TAIL_VMMS = 4


class ActivityError(RuntimeError):
    """The gate-level simulation failed or its VCD could not be read."""


@dataclass(frozen=True)
class Activity:
    """Toggles per net of the top module inside a window of ``cycles`` clock cycles."""

    toggles: dict[str, int]
    #: Fraction of the window each net spent at 1 (for OpenSTA's duty argument).
    duty: dict[str, float]
    cycles: float
    vmms: int
    t_clk_ns: float

    def per_cycle(self, net: str) -> float:
        """Transitions per clock cycle of ``net`` (0 for a net that never toggled)."""
        return self.toggles.get(net, 0) / self.cycles


def write_cell_models(liberty: Path, out: Path) -> Path:
    """Verilog models of the Liberty cells (Yosys), flip-flops starting at 0 so that a
    gate-level simulation is X-free before its (synchronous) reset."""
    if out.exists() and out.stat().st_mtime >= liberty.stat().st_mtime:
        return out
    tmp = out.with_suffix(".tmp.v")
    proc = subprocess.run(
        ["yosys", "-q", "-p",
         f"read_liberty -ignore_miss_func {liberty}; write_verilog -noattr {tmp}"],
        capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ActivityError(f"yosys could not write cell models of {liberty}: {proc.stderr[-800:]}")
    text = re.sub(r"^(\s*reg\s+\w+)\s*;", r"\1 = 1'b0;", tmp.read_text(), flags=re.M)
    out.write_text(text)
    tmp.unlink()
    return out


#: Suffix of the unit-delay copy of a cell model (see :func:`unit_delay_netlist`).
UNIT_DELAY_SUFFIX = "__ud"


def unit_delay_models(models: Path, out: Path, delay_ns: float) -> Path:
    """Copies of the cell models of ``models`` (from :func:`write_cell_models`), each named
    ``<cell>__ud``, whose every output port follows its function after ``delay_ns`` (an
    inertial ``assign #``: a pulse shorter than one delay is filtered, a longer one propagates),
    appended to the zero-delay originals. A netlist that instantiates the copies simulates with
    one unit of delay per cell, so the reconvergent paths of its logic make the glitches real
    gates make, and their toggles are counted with the rest."""
    if not delay_ns > 0:
        raise ValueError(f"delay_ns must be a positive number, not {delay_ns!r}")
    text = models.read_text()
    copies = []
    for m in re.finditer(r"^module\s+(\w+)\s*\((.*?)\);(.*?)^endmodule", text, re.M | re.S):
        name, ports, body = m.groups()
        outs = set(re.findall(r"^\s*output\s+(\w+)\s*;", body, re.M))
        body = re.sub(r"^(\s*)assign\s+(\w+)\s*=", lambda a, outs=outs: (
            f"{a.group(1)}assign #{delay_ns:g} {a.group(2)} =" if a.group(2) in outs
            else a.group(0)), body, flags=re.M)
        copies.append(f"module {name}{UNIT_DELAY_SUFFIX}({ports});{body}endmodule\n")
    out.write_text(text + "\n" + "\n".join(copies))
    return out


def simulation_netlist(netlist: Path, liberty: Path, out: Path) -> Path:
    """A copy of the gate-level ``netlist`` that Icarus simulates 20-30x faster, with the same
    cells, nets and ports: Yosys ``splitnets`` turns every internal vector wire into one wire
    per bit (``vvp`` passes a whole vector to every reader of any bit, and chains the partial
    drivers of a bit-wise driven vector), and the sampler bits of the wide ``arr_fine`` port
    are read from per-column banks (:func:`mram_macro.sim.netlist.bank_inputs`). A split wire
    keeps its bit's name (``tdc.codes[3]``), so toggles count under the names the original
    netlist uses."""
    from mram_macro.sim.netlist import _bank_sizes, bank_inputs

    key = hashlib.sha256(netlist.read_bytes() + Path(liberty).read_bytes()
                         + Path(__file__).read_bytes()).hexdigest()
    stamp = out.with_suffix(".stamp")
    if out.exists() and stamp.exists() and stamp.read_text() == key:
        return out
    tmp = out.with_suffix(".split.v")
    proc = subprocess.run(
        ["yosys", "-q", "-p", f"read_liberty -lib {liberty}; read_verilog {netlist}; "
                              f"splitnets; write_verilog -noattr -noexpr {tmp}"],
        capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not tmp.is_file():
        raise ActivityError(f"yosys could not split the nets of {netlist}: "
                            f"{(proc.stdout + proc.stderr)[-800:]}")
    text = tmp.read_text()
    out.write_text(bank_inputs(text, _bank_sizes(text)))
    tmp.unlink()
    stamp.write_text(key)
    return out


def unit_delay_netlist(netlist: Path, out: Path, zero_delay: set[str]) -> Path:
    """``netlist`` with every cell instance, except those named in ``zero_delay`` (the clock
    network: an ideal clock, as before clock-tree synthesis, so that unit delays on it cannot
    make hold races the real tree would not have), switched to its unit-delay model."""
    from mram_macro.flow.ppa.netlist import VERILOG_KEYWORDS, normalise_net

    def swap(m: re.Match) -> str:
        cell, name = m.group(1), m.group(2)
        if cell in VERILOG_KEYWORDS or normalise_net(name) in zero_delay:
            return m.group(0)
        cut = m.end(1) - m.start(0)
        return m.group(0)[:cut] + UNIT_DELAY_SUFFIX + m.group(0)[cut:]

    text = re.sub(r"^\s*([A-Za-z_][\w$]*)\s+(\\\S+|[A-Za-z_][\w$]*)\s*\(", swap,
                  netlist.read_text(), flags=re.M)
    out.write_text(text)
    return out


def count_toggles(vcd_path: Path, *, scope: str, t_start: int, t_end: int
                  ) -> tuple[dict[str, int], dict[str, float]]:
    """Toggles (0<->1 changes) and duty of every 1-bit and vector net of ``scope`` (top level
    only) between ``t_start`` and ``t_end`` (VCD time units).

    Vectors are split into bits named ``name[i]``. X/Z values count as no change.
    """
    from vcd.reader import TokenKind, tokenize

    idcodes: dict[str, list[tuple[str, int]]] = {}
    depth = 0
    in_scope = False
    values: dict[str, str] = {}
    toggles: dict[str, int] = {}
    high_time: dict[str, int] = {}
    rose_at: dict[str, int] = {}
    now = 0
    with open(vcd_path, "rb") as f:
        for tok in tokenize(f):
            kind = tok.kind
            if kind is TokenKind.CHANGE_TIME:
                now = tok.data
            elif kind is TokenKind.CHANGE_SCALAR:
                _scalar(tok.data.id_code, tok.data.value, now, idcodes, values, toggles,
                        high_time, rose_at, t_start, t_end)
            elif kind is TokenKind.CHANGE_VECTOR:
                value = tok.data.value
                bits = format(value, "b") if isinstance(value, int) else str(value)
                for name, width, *lsb in idcodes.get(tok.data.id_code, ()):
                    bits_w = bits.rjust(width, bits[0] if bits[0] in "xz" else "0")[-width:]
                    base = lsb[0] if lsb else 0
                    for i, b in enumerate(reversed(bits_w)):
                        _bit(f"{name}[{base + i}]", b, now, values, toggles, high_time, rose_at,
                             t_start, t_end)
            elif kind is TokenKind.SCOPE:
                depth += 1
                in_scope = depth == 1 and tok.data.ident == scope
            elif kind is TokenKind.UPSCOPE:
                depth -= 1
                if depth < 1:
                    in_scope = False
            elif kind is TokenKind.VAR and in_scope and depth == 1:
                var = tok.data
                name = var.reference.lstrip("\\").rstrip()
                if var.size == 1:
                    if var.bit_index is not None:
                        name = f"{name}[{_lsb(var.bit_index)}]"
                    idcodes.setdefault(var.id_code, []).append((name, 1))
                else:
                    lsb = _lsb(var.bit_index) if var.bit_index is not None else 0
                    idcodes.setdefault(var.id_code, []).append((name, var.size, lsb))
    window = t_end - t_start
    for name, t in rose_at.items():
        high_time[name] = high_time.get(name, 0) + max(0, t_end - max(t, t_start))
    duty = {name: min(1.0, t / window) for name, t in high_time.items()}
    return toggles, duty


def _lsb(bit_index) -> int:
    """The least significant index of a VCD bit index (``3`` or ``(7, 4)``-like ranges)."""
    if isinstance(bit_index, int):
        return bit_index
    if isinstance(bit_index, tuple):
        return min(bit_index)
    nums = [int(n) for n in re.findall(r"-?\d+", str(bit_index))]
    return min(nums) if nums else 0


def _scalar(code, value, now, idcodes, values, toggles, high_time, rose_at, t0, t1):
    for name, width, *lsb in idcodes.get(code, ()):
        if width == 1:
            _bit(name, value, now, values, toggles, high_time, rose_at, t0, t1)
        else:  # a vector dumped with a scalar value (all bits alike)
            for i in range(width):
                _bit(f"{name}[{(lsb[0] if lsb else 0) + i}]", value, now, values, toggles,
                     high_time, rose_at, t0, t1)


def _bit(name, b, now, values, toggles, high_time, rose_at, t0, t1):
    old = values.get(name)
    values[name] = b
    if old == b or b not in "01":
        return
    if b == "1":
        rose_at[name] = now
    elif name in rose_at:
        start = rose_at.pop(name)
        high_time[name] = high_time.get(name, 0) + max(0, min(now, t1) - max(start, t0))
    if old in ("0", "1") and t0 <= now < t1:
        toggles[name] = toggles.get(name, 0) + 1


def simulate_activity(netlist: Path, liberty: Path, config: MacroConfig, *, top: str,
                      build_dir: Path, nvmm: int, seed: int = 1,
                      test_module: str = DEFAULT_WORKLOAD, workload: str = "random",
                      unit_delay_ns: float | None = None,
                      zero_delay: set[str] | None = None) -> Activity:
    """Run ``test_module`` on the gate-level ``netlist`` (Icarus), return the window's activity
    (``workload``: the data of :mod:`mram_macro.sim.workloads.power`, one of :data:`WORKLOADS`).

    ``unit_delay_ns``: simulate every cell but those named in ``zero_delay`` (the clock
    network) with that delay (:func:`unit_delay_models`), so glitches are counted; None: zero
    delay (every net changes at most once per clock edge).

    Raises:
        ActivityError: the simulation failed (a result mismatch included) or reported no window.
    """
    from cocotb_tools.runner import Icarus

    class _VcdIcarus(Icarus):
        """Icarus whose vvp writes the design's own $dumpfile as VCD (the runner's default
        ``-none`` switches dumping off, and its ``waves`` dump module is SystemVerilog)."""

        def _test_command(self):
            return [[a for a in cmd if a != "-none"] for cmd in super()._test_command()]

    build_dir = build_dir.resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    cells = write_cell_models(liberty, build_dir / "cells.v")
    netlist = simulation_netlist(netlist.resolve(), liberty, build_dir / "netlist_sim.v")
    if unit_delay_ns is not None:
        cells = unit_delay_models(cells, build_dir / "cells_ud.v", unit_delay_ns)
        netlist = unit_delay_netlist(netlist, build_dir / "netlist_ud.v", zero_delay or set())
    vcd = build_dir / "activity.vcd"
    dump = build_dir / "activity_dump.v"
    dump.write_text(f'module activity_dump;\ninitial begin\n  $dumpfile("{vcd}");\n'
                    f"  $dumpvars(1, {top});\nend\nendmodule\n")
    metrics_path = build_dir / "metrics.jsonl"
    metrics_path.unlink(missing_ok=True)
    results = build_dir / "results.xml"
    results.unlink(missing_ok=True)
    env = {"MRAM_CONFIG": config.to_json(), "MRAM_SEED": str(seed), "MRAM_NVMM": str(nvmm),
           "MRAM_METRICS": str(metrics_path), "MRAM_POWER_WORKLOAD": workload,
           "MRAM_POWER_WARMUP": str(WARMUP_VMMS), "MRAM_POWER_TAIL": str(TAIL_VMMS)}
    if workload not in WORKLOADS:
        raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, not {workload!r}")
    if workload == "mnist":
        # the network the MNIST report trained (or trains and caches) here, not in the run's
        # own folder
        env["MRAM_MNIST_MODEL_DIR"] = str(MODEL_CACHE.resolve())
    runner = _VcdIcarus()
    with scoped_environ(env):
        runner.build(sources=[netlist.resolve(), cells, dump], hdl_toplevel=top,
                     build_dir=build_dir, build_args=["-g2005", "-s", "activity_dump"],
                     timescale=TIMESCALE, log_file=build_dir / "build.log")
        with contextlib.suppress(SystemExit):
            runner.test(test_module=test_module, hdl_toplevel=top, build_dir=build_dir,
                        test_dir=build_dir, timescale=TIMESCALE, extra_env=env, seed=seed,
                        results_xml=str(results), log_file=build_dir / "sim.log")
    failures = failed_cases(results)
    if failures:
        raise ActivityError(f"gate-level workload failed: {failures[0]} "
                            f"(log: {build_dir / 'sim.log'})")
    metrics: dict = {}
    if metrics_path.exists():
        for line in metrics_path.read_text().splitlines():
            metrics.update(json.loads(line))
    if "window_start_ns" not in metrics or not vcd.exists():
        raise ActivityError(f"the workload reported no measurement window or wrote no VCD "
                            f"(log: {build_dir / 'sim.log'})")
    scale = _vcd_units_per_ns(vcd)
    t0, t1 = (round(metrics[k] * scale) for k in ("window_start_ns", "window_end_ns"))
    toggles, duty = count_toggles(vcd, scope=top, t_start=t0, t_end=t1)
    if os.environ.get("MRAM_KEEP_VCD") != "1":
        vcd.unlink()
    return Activity(toggles=toggles, duty=duty,
                    cycles=(metrics["window_end_ns"] - metrics["window_start_ns"])
                    / metrics["t_clk_ns"],
                    vmms=int(metrics["window_vmms"]), t_clk_ns=float(metrics["t_clk_ns"]))


def _vcd_units_per_ns(vcd: Path) -> float:
    with open(vcd, "rb") as f:
        head = f.read(4096).decode(errors="replace")
    m = re.search(r"\$timescale\s+(\d+)\s*(s|ms|us|ns|ps|fs)\s+\$end", head)
    if not m:
        raise ActivityError(f"no $timescale in {vcd}")
    unit_s = int(m.group(1)) * {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12,
                                 "fs": 1e-15}[m.group(2)]
    return 1e-9 / unit_s
