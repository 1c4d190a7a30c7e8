"""One design point: configuration x device preset x clock, and everything the sweep reports.

:func:`evaluate_point` gives, without any simulator: the readout the preset needs (or the reason
none exists), the column's trip window, cycles per VMM and VMMs per second (the analogue model's
random-VMM operating point, :func:`mram_macro.flow.ppa.analog.random_vmm_operating_point`), energy
per VMM (the fitted digital model of :mod:`mram_macro.explore.model` plus the analogue terms of
:mod:`mram_macro.flow.ppa.analog` for the preset's cell), the digital area, and the write energy of
a row. :func:`accuracy` runs the digits network on golden dies of the preset (calibrated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import ConfigError, MacroConfig, profile_config
from mram_macro.flow.ppa.analog import analog_energy, random_vmm_operating_point
from sim_models.devices import DevicePreset, ReadoutRefused, preset, readout_for
from sim_models.readout import trip_time_ns

__all__ = ["Point", "make_point", "evaluate_point", "point_analog", "AccuracyKey", "DigitsTask",
           "accuracy", "digits_task", "write_pulse_cycles_for", "refusal"]


@dataclass(frozen=True)
class Point:
    """A configuration (built from a feature profile), a device preset and a clock."""

    config: MacroConfig
    profile: str
    device: str
    t_clk_ns: float

    @property
    def label(self) -> str:
        return f"{self.config.slug}@{self.t_clk_ns:g}ns/{self.device}"


def write_pulse_cycles_for(device_preset: DevicePreset, t_clk_ns: float, *,
                           default: int) -> int:
    """WRITE_PULSE_CYCLES reset value that switches the preset's cell at ``t_clk_ns``: at least
    ``default`` and at least ``ceil(t_switch / t_clk)`` (a shorter pulse writes nothing)."""
    return max(default, math.ceil(device_preset.device.t_switch_ns / t_clk_ns - 1e-9))


def make_point(*, profile: str, device: str, t_clk_ns: float, **geometry) -> Point:
    """The point of feature profile ``profile`` with ``geometry`` (MacroConfig fields: rows,
    cols, tdc_mode, tdc_bits, tdc_fine_taps, stream_width) on ``device`` at ``t_clk_ns``; the
    write pulse is lengthened to the preset's switching time.

    Raises:
        ConfigError: the combination is not a legal configuration (the message says why).
    """
    base = profile_config(profile)
    p = preset(device)
    if not (isinstance(t_clk_ns, (int, float)) and math.isfinite(t_clk_ns) and t_clk_ns > 0):
        raise ConfigError(f"t_clk_ns must be a positive number, not {t_clk_ns!r}")
    config = profile_config(profile, **geometry, write_pulse_cycles=write_pulse_cycles_for(
        p, t_clk_ns, default=base.write_pulse_cycles))
    return Point(config, profile, device, float(t_clk_ns))


def refusal(point: Point) -> str | None:
    """Why ``point`` cannot be operated, or None: no legal readout for its preset
    (:func:`sim_models.devices.readout_for`), or a readout the host refuses to run (a coarse
    code too coarse to resolve a dot product, :class:`mram_macro.host.die_setup.DieSetup`)."""
    from mram_macro.host.die_setup import DieSetup

    where = f"device preset {point.device!r}, {point.config.slug} at {point.t_clk_ns:g} ns"
    try:
        ro = readout_for(point.config, preset(point.device), t_clk_ns=point.t_clk_ns)
        DieSetup.create(point.config, device=preset(point.device).device, seed=0,
                        t_clk_ns=point.t_clk_ns)
    except ReadoutRefused as exc:
        return str(exc)
    except ValueError as exc:
        return f"{where}: {exc}"
    if point.config.mode.has_code_table:
        return _coarse_saturation(point, ro, where)
    return None


def _coarse_saturation(point: Point, ro, where: str) -> str | None:
    """A coarse readout whose stretched window (a long column: V_ref at its maximum) outruns
    its code: counts of matching cells that saturate in the nominal device. The host's rule
    counts the saturation code as used, so it passes these (64 rows of the ME cell at 2 ns:
    56 of 65 counts saturate and the digits network sits at chance)."""
    from sim_models.coarse import nominal_transfer

    c, d = point.config, preset(point.device).device
    codes = nominal_transfer(c.rows, d, ro, tdc_bits=c.tdc_bits)
    saturated = int(np.sum(codes >= c.tdc_max_code))
    if saturated == 0:
        return None
    t_fast, t_slow = (float(trip_time_ns(c.rows * r, c.rows, d, ro))
                      for r in (d.r_cell_low_ohm, d.r_cell_high_ohm))
    return (f"{where}: the coarse trip window ({t_fast:.0f}-{t_slow:.0f} ns) outruns the "
            f"{c.tdc_bits}-bit code ({c.tdc_max_code} periods of {point.t_clk_ns:g} ns after "
            f"the start delay): {saturated} of the {c.rows + 1} counts saturate; use a shorter "
            f"column or more code bits")


def point_analog(point: Point):
    """(readout, operating point, analogue energy) of a point that can be read out: the
    analogue model at the model's random-VMM operating point (a test recomputes the published
    sweep's analogue figures with it)."""
    c, p = point.config, preset(point.device)
    ro = readout_for(c, p, t_clk_ns=point.t_clk_ns)
    op = random_vmm_operating_point(c, p.device, ro)
    analog = analog_energy(config=c, device=p.device, readout=ro, t_clk_ns=point.t_clk_ns,
                           eval_cycles=op.eval_cycles, vmm_cycles=op.vmm_cycles,
                           bypass_toggles_per_vmm=op.bypass_toggles_per_vmm)
    return ro, op, analog


def evaluate_point(point: Point, *, refs=None, feat=None) -> dict:
    """Every figure of ``point`` but accuracy, as a flat dict (``feasible`` False with a
    ``reason`` where the preset cannot be read out)."""
    from mram_macro.explore.model import estimate

    c, p = point.config, preset(point.device)
    row = {"label": point.label, "slug": c.slug, "profile": point.profile,
           "device": point.device, "t_clk_ns": point.t_clk_ns, "rows": c.rows, "cols": c.cols,
           "tdc_mode": c.tdc_mode, "tdc_bits": c.tdc_bits, "fine_taps": c.fine_taps,
           "stream_width": c.stream_width, "result_width": c.result_width,
           "calibration": c.calibration, "activation": c.activation,
           "write_pulse_cycles": c.write_pulse_cycles, "config": c.to_dict()}
    reason = refusal(point)
    if reason is not None:
        return {**row, "feasible": False, "reason": reason}
    ro, op, analog = point_analog(point)
    d = p.device
    t_fast, t_slow = (float(trip_time_ns(c.rows * r, c.rows, d, ro))
                      for r in (d.r_cell_low_ohm, d.r_cell_high_ohm))
    digital = estimate(c, cycles_per_vmm=op.vmm_cycles, period_ns=point.t_clk_ns, refs=refs,
                       feat=feat)
    if p.write_energy_fJ_per_bit is None:
        write_row_J = analog.write_row_J
    else:       # both MTJs of every cell of the row, the published energy per MTJ write
        write_row_J = 2 * c.cols * p.write_energy_fJ_per_bit * 1e-15
    energy = digital.energy_J["total"] + analog.per_vmm_J
    latency_ns = op.vmm_cycles * point.t_clk_ns
    ops = 2 * c.rows * c.cols
    return {**row, "feasible": True, "reason": "",
            "v_ref_ratio": ro.v_ref_ratio, "c_load_fF": ro.c_load_fF,
            "start_delay_cycles": ro.start_delay_cycles,
            "trip_window_ns": [t_fast, t_slow], "eval_ns": op.eval_cycles * point.t_clk_ns,
            "cycles_per_vmm": op.vmm_cycles, "latency_ns": latency_ns,
            "vmm_per_s": 1e9 / latency_ns,
            "digital_J": digital.energy_J["total"], "analog_J": analog.per_vmm_J,
            "energy_J": energy, "tops_per_W": ops / energy / 1e12,
            "area_um2": digital.area_flat_um2, "model_reference": digital.reference,
            "model_extrapolated": ",".join(digital.extrapolated),
            "write_row_J": write_row_J}


# -- accuracy -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccuracyKey:
    """What the digits network's accuracy depends on: the array, the readout and the device
    (not the stream width, result width or activation hardware: the host applies the hidden
    thresholds and adds the tiles' partial sums)."""

    rows: int
    cols: int
    tdc_mode: str
    tdc_bits: int
    tdc_fine_taps: int | None
    write_pulse_cycles: int
    t_clk_ns: float
    device: str

    @classmethod
    def of(cls, point: Point) -> AccuracyKey:
        c = point.config
        return cls(c.rows, c.cols, c.tdc_mode, c.tdc_bits, c.tdc_fine_taps,
                   c.write_pulse_cycles, point.t_clk_ns, point.device)

    def config(self) -> MacroConfig:
        """The configuration the accuracy is measured on (the default profile's hardware)."""
        return MacroConfig(rows=self.rows, cols=self.cols, tdc_mode=self.tdc_mode,
                           tdc_bits=self.tdc_bits, tdc_fine_taps=self.tdc_fine_taps,
                           write_pulse_cycles=self.write_pulse_cycles)


@dataclass(frozen=True)
class DigitsTask:
    """The trained digits network and its test set (sent once to every worker)."""

    model: object
    x_test: np.ndarray
    y_test: np.ndarray
    software_accuracy: float
    noise_sigma: float


def digits_task(*, seed: int = 0, hidden: int = 128, images: int | None = None) -> DigitsTask:
    """The kit's digits network (mram_macro/nn/demo.py: 64 -> ``hidden`` -> 10, binarised,
    variation-aware at the 2022 chip's calibrated error), on the first ``images`` test digits
    (all 450 by default)."""
    from mram_macro.nn.data import Digits, load_digits_split
    from mram_macro.nn.train import device_error_sigma, train_binary

    data = load_digits_split(seed=seed)
    x_tr, x_te = Digits.binarise(data.x_train), Digits.binarise(data.x_test)
    y_te = data.y_test
    if images is not None:
        if isinstance(images, bool) or not isinstance(images, int) or not 1 <= images <= len(y_te):
            raise ValueError(f"images must be an integer in 1..{len(y_te)}, not {images!r}")
        x_te, y_te = x_te[:images], y_te[:images]
    sigma = device_error_sigma(preset("stt_2022").device, seed=seed)
    net = train_binary(x_tr, data.y_train, hidden=hidden, seed=seed, noise_sigma=(sigma, sigma))
    sw = float(np.mean(net.predict(x_te) == y_te))
    return DigitsTask(net, x_te, y_te, sw, sigma)


def accuracy(key: AccuracyKey, task: DigitsTask, *, dies: int = 2, seed: int = 1000) -> dict:
    """Mean and worst accuracy of ``task``'s network over ``dies`` golden dies of the key's
    preset at its clock, calibrated after every weight tile."""
    from mram_macro.host import Macro
    from mram_macro.nn.evaluate import output_replicas, run_replicated
    from mram_macro.nn.tiling import run_pm1_layer

    net = task.model
    accs = []
    for i in range(dies):
        with Macro.golden(key.config(), device=preset(key.device).device, seed=seed + i,
                          t_clk_ns=key.t_clk_ns) as m:
            h = net.hidden(run_pm1_layer(m, net.w1, task.x_test, calibrate=True))
            reps = output_replicas(net.w2.shape[1], m.cols)
            y2 = run_replicated(m, net.w2, h, replicas=reps, calibrate=True)
            accs.append(float(np.mean(net.classify(y2) == task.y_test)))
    return {"accuracy": float(np.mean(accs)), "accuracy_min": float(np.min(accs)),
            "dies": dies}
