"""``make bench``: the TDC modes side by side, one table (issue 8).

One row per TDC mode (``counter``, ``two_step``, ``coarse``; 64x64, the chip's geometry) and
standard-cell library (its STA clock):

* **window**: nominal first..last trip (every cell of the column matching .. none matching) of
  the readout designed for the library's clock, ideal device
  (:func:`sim_models.readout.design_readout_for`);
* **cycles per VMM** and **array utilisation** (evaluation cycles / cycles per VMM): the cocotb
  throughput test on Verilator (streaming input, always-ready output, every result checked
  against the golden model, ideal device). The counter's and the two-step TDC's readouts are
  designed in clock periods resp. phase steps, so their cycle counts hold at every clock
  (``verif/unit/test_two_step.py``): one run each. The coarse TDC's code spans a fixed window,
  so it is simulated at each library's clock;
* **VMM/s per macro** at the library's clock only where OpenSTA confirms it
  (:func:`mram_macro.flow.ppa.flow.sign_off`: flat timing-driven netlist with clock trees, cached in
  ``build/sta``); no rate where STA fails or the readout cannot be designed for the clock;
* **area**: that flat sign-off netlist;
* **error** ``y_macro - sum x w`` (mean |error| / RMS, LSB of y) at the paper's spread
  (``DeviceParams.paper()``), golden model (:func:`sim_models.studies.tracking_study`):
  calibrated once at 25 C, then run at 25 C and 85 C with no host recalibration, tracking off
  and, where the build has the tracker (``MacroConfig.has_tracker``), on. Per cell:
  uncalibrated -> offset only -> gain + offset (the mode's ``calibration="gain"`` build) or the
  code -> value table (coarse).

``python -m verif.bench_modes`` prints the table alone (``--no-sta``, ``--no-sim`` to skip the
tools).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.design.macro import MacroDesign
from sim_models.device import DeviceError, DeviceParams
from sim_models.readout import design_readout_for, trip_time_ns
from sim_models.studies import ErrorStats, TrackingStudy, tracking_study

__all__ = ["Mode", "MODES", "coarse_throughput", "Speed", "ModeRow", "NO_TRACKER", "CHIP_LINE",
           "window_ns", "accuracy_cells", "format_table", "measure_rows", "table_lines", "main"]

#: Temperatures of the table: the calibration temperature and the hot corner.
CAL_C, HOT_C = 25.0, 85.0
#: TRACK_INTERVAL of the tracking-on cells.
TRACK_INTERVAL = 64
#: What a tracking-on cell says when the mode's build has no temperature tracker.
NO_TRACKER = "no tracker in this build"
#: The chip, for reference (../shared/paper-facts.md: 13-29 ns column read, 11.1 MHz with the
#: digital control, one VMM per cycle, 4-bit code).
CHIP_LINE = ("the chip (Jung et al. 2022, paper-facts.md): 13..29 ns per column read, "
             "11.1 M VMM/s with a 4-bit code")


@dataclass(frozen=True)
class Mode:
    """A TDC mode as the table measures it: ``config`` is the build whose speed and area are
    measured (every field that matters spelled out, never the default's meaning)."""

    name: str
    config: MacroConfig

    @property
    def accuracy_config(self) -> MacroConfig:
        """The build of the error study: the ``calibration="gain"`` build (CAL_GAIN, and the
        tracker where the build has one) where the mode takes it, else ``config``."""
        if self.config.tdc_mode == "coarse":
            return self.config
        return dataclasses.replace(self.config, calibration="gain")

    @property
    def methods(self) -> tuple[str, ...]:
        """The calibrations of the error cells that :attr:`accuracy_config` has, in the order
        of :data:`METHOD_SLOTS`."""
        c = self.accuracy_config
        if c.tdc_mode == "coarse":
            return ("none", "table")
        return ("none", "offset", "gain+offset") if c.has_gain else ("none", "offset")


#: The three modes at the chip's geometry. The counter keeps the 32-bit stream (its evaluation
#: sets the pace); the two-step and the coarse TDC get a 64-bit stream (with 32 bits the result
#: stream, 32 beats of 16-bit results, would be the bottleneck).
MODES = (
    Mode("counter", profile_config("full", rows=64, cols=64, tdc_bits=7, result_width=16,
                                   stream_width=32, tdc_mode="counter")),
    Mode("two_step", profile_config("full", rows=64, cols=64, tdc_bits=7, result_width=16,
                                    stream_width=64, tdc_mode="two_step", tdc_fine_taps=8)),
    Mode("coarse", profile_config("full", rows=64, cols=64, tdc_bits=4, result_width=16,
                                  stream_width=64, tdc_mode="coarse")),
)

#: The three calibration slots of an error cell (uncalibrated, offset only, gain or table).
METHOD_SLOTS = (("none",), ("offset",), ("gain+offset", "table"))


@dataclass(frozen=True)
class Speed:
    """Speed and area of one mode at one library's clock; ``None`` where not measured, with
    ``note`` saying why there is no rate."""

    clock_ns: float
    window_ns: tuple[float, float] | None
    cycles_per_vmm: float | None
    utilisation: float | None
    sta_passed: bool | None
    wns_ns: float | None
    area_um2: float | None
    note: str = ""

    @property
    def vmm_per_s(self) -> float | None:
        """VMMs per second per macro, only where STA confirmed the clock."""
        if not self.sta_passed or self.cycles_per_vmm is None or self.window_ns is None:
            return None
        return 1e9 / (self.cycles_per_vmm * self.clock_ns)


@dataclass(frozen=True)
class ModeRow:
    mode: Mode
    library: str
    speed: Speed
    accuracy: TrackingStudy | None


def window_ns(config: MacroConfig, t_clk_ns: float) -> tuple[float, float] | None:
    """Trip times (ns) of the all-matching and the all-mismatching column with the readout
    designed for ``t_clk_ns`` (ideal device), or None if no readout fits that clock."""
    d = DeviceParams()
    try:
        ro = design_readout_for(config, d, t_clk_ns=t_clk_ns)
    except DeviceError:
        return None
    first, last = (float(trip_time_ns(config.rows * r, config.rows, d, ro))
                   for r in (d.r_cell_low_ohm, d.r_cell_high_ohm))
    return first, last


def _stats(s: ErrorStats) -> str:
    return f"{s.mean_abs:.2f}/{s.rms:.2f}"


def accuracy_cells(mode: Mode, study: TrackingStudy | None) -> list[str]:
    """The four error cells (25 C and 85 C, tracking off and on) of ``mode``: each
    ``none -> offset -> gain or table`` as mean|e|/RMS, ``n/a`` for a calibration the mode has
    not, :data:`NO_TRACKER` for tracking on in a build without the tracker."""
    cells = []
    for temperature in (CAL_C, HOT_C):
        for tracking in (False, True):
            if study is None:
                cells.append("not measured")
                continue
            if tracking and not study.has_tracker:
                cells.append(NO_TRACKER)
                continue
            parts = []
            for slot in METHOD_SLOTS:
                method = next((m for m in slot if m in mode.methods), None)
                parts.append("n/a" if method is None
                             else _stats(study.row(method, temperature, tracking).stats))
            cells.append(" → ".join(parts))
    return cells


def _speed_cells(s: Speed) -> tuple[list[str], str]:
    window = f"{s.window_ns[0]:.1f}..{s.window_ns[1]:.1f}" if s.window_ns else "not designable"
    cycles = f"{s.cycles_per_vmm:.2f}" if s.cycles_per_vmm is not None else "not measured"
    util = f"{100 * s.utilisation:.1f} %" if s.utilisation is not None else "-"
    rate = s.vmm_per_s
    if rate is not None:
        rate_text = f"**{rate / 1e6:.2f} M**"
    elif s.window_ns is None:
        rate_text = "not given: no readout for this clock"
    else:
        rate_text = f"not given: {s.note or 'no STA'}"
    wns = f", WNS {s.wns_ns:+.2f} ns" if s.wns_ns is not None else ""
    area = f"{s.area_um2:,.0f}" if s.area_um2 is not None else "-"
    return [window, cycles, util, rate_text, area], wns


def format_table(rows: list[ModeRow]) -> list[str]:
    """The Markdown table, one line per :class:`ModeRow`."""
    lines = ["| mode (build) | library, STA clock | window (ns) | cycles/VMM | array "
             "utilisation | VMM/s per macro | flat area (µm²) | error 25 °C, tracking off | "
             "25 °C, tracking on | 85 °C, tracking off | 85 °C, tracking on |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        speed, wns = _speed_cells(r.speed)
        lines.append(f"| {r.mode.name} (`{r.mode.config.slug}`) | {r.library}, "
                     f"{r.speed.clock_ns:g} ns{wns} | " + " | ".join(speed) + " | "
                     + " | ".join(accuracy_cells(r.mode, r.accuracy)) + " |")
    return lines


def coarse_throughput(config: MacroConfig, clock_ns: float, vmms: int, seed: int) -> dict:
    """Metrics of the coarse throughput test on Verilator with the readout designed for
    ``clock_ns`` (its cycles per VMM depend on the clock); RuntimeError if it fails."""
    from mram_macro.sim.runner import run_cocotb

    old = os.environ.get("MRAM_COARSE_CLOCK_NS")
    os.environ["MRAM_COARSE_CLOCK_NS"] = repr(clock_ns)
    try:
        r = run_cocotb("verilator", config, test_module="verif.cocotb.test_coarse", seed=seed,
                       nvmm=vmms, test_filter="test_coarse_throughput$",
                       build_root=Path("build/bench/coarse"), quiet=True)
    finally:
        if old is None:
            os.environ.pop("MRAM_COARSE_CLOCK_NS", None)
        else:
            os.environ["MRAM_COARSE_CLOCK_NS"] = old
    if not r.passed:
        raise RuntimeError(f"coarse throughput run failed ({config.slug}, {clock_ns} ns): "
                           f"{r.failures}")
    return r.metrics


def _throughput(mode: Mode, clock_ns: float, vmms: int, seed: int,
                cache: dict) -> dict:
    """Metrics of the Verilator throughput test of ``mode`` (at ``clock_ns`` for coarse, whose
    cycles depend on the clock; once per build otherwise)."""
    from mram_macro.sim.runner import run_cocotb

    coarse = mode.config.tdc_mode == "coarse"
    key = (mode.config, clock_ns if coarse else None)
    if key not in cache:
        if coarse:
            cache[key] = coarse_throughput(mode.config, clock_ns, vmms, seed)
        else:
            r = run_cocotb("verilator", mode.config, test_module="verif.cocotb.test_macro",
                           seed=seed, nvmm=vmms, test_filter="test_throughput$",
                           build_root=Path("build/bench/modes"), quiet=True)
            if not r.passed:
                raise RuntimeError(f"throughput run failed ({mode.config.slug}): {r.failures}")
            cache[key] = r.metrics
    return cache[key]


def _sign_off(config: MacroConfig, lib):
    """``(passed, wns_ns, area_um2, note)`` of OpenSTA on the flat netlist at ``lib``'s clock."""
    from mram_macro.flow.ppa.flow import sign_off
    from mram_macro.flow.ppa.sta import StaError

    try:
        s = sign_off(config, lib, Path("build/sta"))
    except (StaError, FileNotFoundError) as exc:
        return None, None, None, f"STA did not run ({str(exc).splitlines()[0]})"
    note = "" if s.passed else (f"STA fails the {lib.target_period_ns:g} ns target "
                                f"(needs {100 * lib.min_slack_fraction:.0f} % slack)")
    return s.passed, s.sta.wns_ns, s.netlist.area_um2, note


def measure_rows(*, vmms: int = 500, seed: int = 1, dies: int = 40, test_vectors: int = 1024,
                 sta: bool = True, sim: bool = True, measured: dict | None = None,
                 modes=MODES) -> list[ModeRow]:
    """Measure every mode at every library's clock. ``measured``: throughput metrics already
    taken this run, ``{config: metrics}`` (reused for a non-coarse build)."""
    from mram_macro.flow.ppa.libraries import LIBRARIES

    cache = {(c, None): m for c, m in (measured or {}).items()}
    paper = DeviceParams.paper().replace(temperature_C=CAL_C)
    rows = []
    for mode in modes:
        studies = {}
        for lib in LIBRARIES.values():
            t = lib.target_period_ns
            window = window_ns(mode.config, t)
            metrics = _throughput(mode, t, vmms, seed, cache) if sim and window else None
            passed, wns, area, note = (_sign_off(mode.config, lib) if sta
                                       else (None, None, None, "STA not run (--no-sta)"))
            speed = Speed(clock_ns=t, window_ns=window,
                          cycles_per_vmm=metrics and metrics["cycles_per_vmm"],
                          utilisation=metrics and metrics["utilisation"], sta_passed=passed,
                          wns_ns=wns, area_um2=area, note=note)
            study = None
            if window:
                # The error does not depend on the clock where the readout is designed in
                # clock periods (counter) or phase steps (two-step); the coarse code does.
                key = t if mode.config.tdc_mode == "coarse" else None
                if key not in studies:
                    design = MacroDesign.derive_nominal(mode.accuracy_config, paper,
                                                        t_clk_ns=t)
                    studies[key] = tracking_study(
                        mode.accuracy_config, paper, dies=dies, temperatures_C=(CAL_C, HOT_C),
                        test_vectors=test_vectors, track_interval=TRACK_INTERVAL, seed=0,
                        methods=mode.methods, t_clk_ns=t, registers=design.register_state)
                study = studies[key]
            rows.append(ModeRow(mode=mode, library=lib.title, speed=speed, accuracy=study))
    return rows


def footnote_lines(*, vmms: int, dies: int, test_vectors: int) -> list[str]:
    """Where every number of the table comes from."""
    return [
        f"({CHIP_LINE}.)",
        "Sources. Window: nominal first..last trip (all cells match .. none match), readout "
        "designed for the library's STA clock, ideal device (sim_models.readout). Cycles/VMM, "
        "utilisation (evaluation cycles / cycles per VMM): cocotb throughput test on Verilator "
        f"(test_macro.py::test_throughput; coarse: test_coarse.py::test_coarse_throughput at the "
        f"library's clock), {vmms} streamed VMMs, always-ready output, all checked against the "
        "golden model, ideal device. VMM/s per macro = 1 / (cycles x clock), given only where "
        "OpenSTA meets the library's target clock with its slack margin "
        "(mram_macro.flow.ppa.flow.sign_off, flat timing-driven Yosys netlist with clock trees, "
        "cached in build/sta); area: that flat netlist.",
        f"Error: y_macro - sum x w, mean |error| / RMS in LSB of y, golden model "
        f"(sim_models.studies.tracking_study), {dies} dies x {test_vectors} random test "
        f"vectors, DeviceParams.paper(); each cell uncalibrated -> offset only (CAL_OFFSET, 16 "
        f"complementary pattern pairs) -> gain + offset (CAL_GAIN, the mode's "
        f"calibration='gain' build, + 2 ladder patterns per column) or the coarse code -> "
        f"value table (256 random inputs). Calibrated once at {CAL_C:g} °C, no host "
        f"recalibration at {HOT_C:g} °C; tracking on = TRACK_INTERVAL {TRACK_INTERVAL} in the "
        f"builds that have the tracker (MacroConfig.has_tracker), else '{NO_TRACKER}'.",
    ]


def table_lines(*, vmms: int = 500, seed: int = 1, dies: int = 40, test_vectors: int = 1024,
                sta: bool = True, sim: bool = True, measured: dict | None = None) -> list[str]:
    """The section: heading, table, footnotes."""
    t0 = time.perf_counter()
    rows = measure_rows(vmms=vmms, seed=seed, dies=dies, test_vectors=test_vectors, sta=sta,
                        sim=sim, measured=measured)
    return [f"== TDC modes, one row per mode and library (verif/bench_modes.py, "
            f"{time.perf_counter() - t0:.0f} s). Error cells: mean |error| / RMS in LSB of y, "
            f"uncalibrated → offset only → gain + offset (coarse: code → value table)",
            *format_table(rows),
            *footnote_lines(vmms=vmms, dies=dies, test_vectors=test_vectors),
            *[f"(The {c.slug} rows reuse the simulation-speed run's Verilator throughput test, "
              f"{m.get('vmms_checked', '?')} VMMs.)" for c, m in (measured or {}).items()
              if any(mode.config == c for mode in MODES) and sim]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.bench_modes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vmms", type=int, default=500, help="streamed VMMs per throughput run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dies", type=int, default=40, help="dies per error study")
    parser.add_argument("--vectors", type=int, default=1024, help="test vectors per die")
    parser.add_argument("--no-sta", action="store_true", help="skip synthesis and STA")
    parser.add_argument("--no-sim", action="store_true", help="skip the RTL throughput runs")
    args = parser.parse_args(argv)
    for line in table_lines(vmms=args.vmms, seed=args.seed, dies=args.dies,
                            test_vectors=args.vectors, sta=not args.no_sta,
                            sim=not args.no_sim):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
