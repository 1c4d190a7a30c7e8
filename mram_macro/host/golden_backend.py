"""The host API's golden backend: the macro as :class:`sim_models.golden.GoldenMacro` computes it.

Row writes go through the write-verify reference (:func:`sim_models.write_model.write_verify_row`)
with the register reset values, so write failures, stuck cells and the evaluations spent on
verify reads happen as in the RTL. Results of a batch are one matrix product (fast).

Once closed (:meth:`GoldenBackend.close`, which :meth:`mram_macro.host.Macro.close` calls), the
backend releases the model and refuses every operation, like the RTL backend whose simulation
has ended: code that kept ``macro.backend`` cannot go on using a macro its owner closed.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from mram_macro.design.config import MacroConfig
from mram_macro.host.backend import Backend, HostError, Status
from mram_macro.host.die_setup import DieSetup
from sim_models.die import Die
from sim_models.golden import GoldenMacro, accumulate_pass
from sim_models.write_model import write_verify_row

__all__ = ["GoldenBackend"]


def _refused_once_closed(cls):
    """Make every operation of the backend contract (:class:`Backend`'s public methods but
    ``close``) raise :class:`HostError` once the backend is closed."""
    def guard(name, operation):
        @functools.wraps(operation)
        def checked(self, *args, **kwargs):
            if self._closed:
                self._refuse(f"{name}()")
            return operation(self, *args, **kwargs)
        return checked

    for name, value in vars(Backend).items():
        if callable(value) and not name.startswith("_") and name != "close":
            setattr(cls, name, guard(name, getattr(cls, name)))
    return cls


@_refused_once_closed
class GoldenBackend(Backend):
    """The golden model of one die (``setup``: configuration, device, die, readout)."""

    name = "golden"

    def __init__(self, setup: DieSetup):
        self.setup = setup
        self._closed = False
        design, rm = setup.design, setup.regmap
        # A die of the design at the operating device, starting from the design's register
        # state (its register map's reset values; coarse: the design's table in every column).
        self._golden = design.golden(setup.device, die=setup.die)
        wv = rm["WV_CTRL"]
        self._wv = dict(verify=bool(wv.field("ENABLE").reset),
                        double_pulse=bool(wv.field("PULSE_DOUBLING").reset),
                        max_retries=wv.field("MAX_RETRIES").reset,
                        pulse_cycles=rm["WRITE_PULSE_CYCLES"].field("CYCLES").reset)
        # The single-MTJ read at WV_READ's reset values (coarse mode has none).
        self._verify_setup = None if design.verify_read is None else replace(
            design.verify_read, start_delay_cycles=rm["WV_READ"].field("DELAY").reset,
            threshold_code=rm["WV_READ"].field("THRESHOLD").reset)
        self._sticky = dict(tdc_overflow=False, write_failed=False)
        self._counts = dict(vmm_count=0, wv_fail_count=0, wv_retry_count=0, wv_fail_row=0)
        self._fail_mask: tuple[int, ...] = ()

    @property
    def golden(self) -> GoldenMacro:
        """The model; :class:`HostError` once the backend is closed."""
        if self._closed:
            self._refuse("its model")
        return self._golden

    def _refuse(self, what: str):
        raise HostError(f"this {self.name} backend is closed (its Macro was closed): {what} is "
                        f"no longer available; create a new Macro (Macro.golden(...))")

    def close(self) -> None:
        """Release the model; every later operation raises :class:`HostError`. Closing twice
        is harmless."""
        self._closed = True
        self._golden = None

    @property
    def config(self) -> MacroConfig:
        return self.setup.config

    @property
    def die(self) -> Die:
        return self.setup.die

    def program_rows(self, rows, bits) -> None:
        for row, b in zip(rows, bits, strict=True):
            report = write_verify_row(self.golden.array, int(row), b,
                                      readout=self.setup.readout,
                                      tdc_bits=self.config.tdc_bits, setup=self._verify_setup,
                                      **self._wv)
            self._counts["wv_retry_count"] += report.retries
            if report.failing.any():
                self._counts["wv_fail_count"] += int(report.n_failing)
                self._counts["wv_fail_row"] = int(row)
                self._fail_mask = tuple(int(c) for c in report.failing_cols)
                self._sticky["write_failed"] = True

    def write_offsets(self, offsets) -> None:
        self.golden.offsets = np.asarray(offsets, dtype=np.int64).copy()

    def write_fine_table(self, table) -> None:
        self.golden.fine_table = np.asarray(table, dtype=np.int64).copy()

    def write_lut(self, table) -> None:
        self.golden.lut = np.asarray(table, dtype=np.int64).copy()

    def write_gains(self, gains) -> None:
        self.golden.gains = np.asarray(gains, dtype=np.int64).copy()

    def write_tracking(self, interval: int, ref: int) -> None:
        self.golden.track_interval, self.golden.track_ref = int(interval), int(ref)

    def tracking_state(self) -> dict[str, int]:
        g = self.golden
        return dict(code=g.track_code, gain=g.track_gain, retrims=g.track_retrims,
                    invalid=int(g.track_invalid), clamped=int(g.track_clamped))

    def set_temperature(self, temperature_C: float) -> None:
        self.golden.array.set_temperature(float(temperature_C))

    def write_verify_settings(self, enable: bool, pulse_doubling: bool, max_retries: int,
                              pulse_cycles: int) -> None:
        self._wv = dict(verify=bool(enable), double_pulse=bool(pulse_doubling),
                        max_retries=int(max_retries), pulse_cycles=int(pulse_cycles))

    def write_verify_read(self, delay: int, threshold: int) -> None:
        self._verify_setup = replace(self._verify_setup, start_delay_cycles=int(delay),
                                     threshold_code=int(threshold))

    def write_start_delay(self, cycles: int) -> None:
        self.golden.start_delay_cycles = int(cycles)

    def set_mode(self, raw_codes: bool, activation: bool) -> None:
        if activation and not self.config.activation:
            # the RTL answers SLVERR: MODE.ACTIVATION's field only takes 0 in this build
            raise ValueError(f"MODE.ACTIVATION=1 on a build without it ({self.config.slug})")
        self.golden.raw_codes = bool(raw_codes)
        self.golden.activation = bool(activation)

    def write_thresholds(self, thresholds) -> None:
        self.golden.thresholds = np.asarray(thresholds, dtype=np.int64).copy()

    def run(self, x_bits, accumulate, hold, shift, negate):
        g, c = self.golden, self.config
        if not c.multibit and any(np.asarray(f).any() for f in (accumulate, hold, shift, negate)):
            raise ValueError(f"{c.slug} has multibit=False: single passes only, no accumulate, "
                             f"hold, shift or negate (the RTL drops such a vector)")
        passes, overflow = g.pass_values(x_bits)
        n = len(passes)
        self._counts["vmm_count"] = (self._counts["vmm_count"] + n) & 0xFFFFFFFF
        self._sticky["tdc_overflow"] |= bool(overflow.any())
        if not accumulate.any() and not hold.any() and not negate.any():
            g.acc = passes[-1].copy() if n else g.acc
            return g.emitted(passes), overflow.any(axis=1)
        out, flags = [], []
        acc = g.acc
        for i in range(n):
            if g.raw_codes:
                acc = passes[i]
            else:
                acc = accumulate_pass(acc, passes[i], accumulate=accumulate[i], shift=shift[i],
                                      negate=negate[i], width=c.result_width)
            if not hold[i]:
                out.append(acc)
                flags.append(bool(overflow[i].any()))
        g.acc = np.array(acc, dtype=np.int64)
        return (g.emitted(np.array(out, dtype=np.int64).reshape(-1, c.cols)),
                np.array(flags, dtype=bool))

    def status(self) -> Status:
        return Status(vmm_busy=False, write_busy=False, result_pending=False,
                      length_error=False, bus_error=False, wv_fail_mask=self._fail_mask,
                      **self._sticky, **self._counts)

    def clear_status(self) -> None:
        for k in self._sticky:
            self._sticky[k] = False
