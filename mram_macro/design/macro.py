"""The macro's design, derived once from a configuration and a device.

A :class:`MacroConfig` says what to build; the physics (:mod:`sim_models`) then fixes the
readout (V_ref, load capacitor, TDC start delay), the single-MTJ read of write-verify and, in
coarse mode, the code -> value table; these become reset values of the register map. One
:class:`MacroDesign` holds all of it. :meth:`MacroDesign.derive` computes it once per
(configuration, device, clock, window) and process, and the RTL top
(:class:`mram_macro.rtl.top.MramMacro`), the outputs, the golden model's start state, the host's
die set-up and the testbench model take it instead of deriving again.

The register map is the one source of the reset values: :attr:`MacroDesign.register_state`
(what the golden model starts from) and the host's register mirrors read them from
:attr:`MacroDesign.regmap`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from mram_macro.design.config import (
    CAL_GAIN_ONE,
    EDGE_MIN_START_DELAY,
    REPLICA_COLS,
    ConfigError,
    MacroConfig,
)
from mram_macro.design.regmap import RegisterMap, build_regmap
from sim_models.device import DeviceParams
from sim_models.golden import GoldenMacro, RegisterState
from sim_models.readout import T_CLK_NS, ReadoutParams
from sim_models.write_model import SingleReadSetup

__all__ = ["MacroDesign"]


@dataclass(frozen=True, eq=False)
class MacroDesign:
    """One macro as designed: configuration, device, readout, write-verify read, register map.

    Immutable; build it with :meth:`derive` (cached), not the constructor. Two designs of the
    same arguments are the same object within a process. The readout is computed at once; the
    rest (:attr:`verify_read`, :attr:`regmap`, :attr:`lut_reset`, :attr:`register_state`) when
    first read, once, so a consumer that needs only the readout (e.g. the PPA flow at its
    sign-off clock) pays for no register map.

    ``device`` is the device the readout is designed for (the chip's is fixed at design time:
    :meth:`derive_nominal`, as :class:`mram_macro.host.DieSetup` uses it); ``window_ns`` the
    coarse TDC's trip window (None: the chip's).
    """

    config: MacroConfig
    device: DeviceParams
    readout: ReadoutParams
    window_ns: tuple[float, float] | None = None

    @classmethod
    def derive(cls, config: MacroConfig | None = None, device: DeviceParams | None = None, *,
               t_clk_ns: float = T_CLK_NS,
               window_ns: tuple[float, float] | None = None) -> MacroDesign:
        """The design of ``config`` (default :class:`MacroConfig`) for ``device`` (default the
        nominal :class:`DeviceParams`) at a ``t_clk_ns`` clock; ``window_ns``: the coarse TDC's
        first and last trip time (``tdc_mode="coarse"`` only; default the chip's
        :data:`sim_models.readout.CHIP_WINDOW_NS`), as the mode's readout design
        (:meth:`mram_macro.design.modes.TdcMode.design_readout`) takes them.

        Computed once per distinct arguments and process (an LRU cache of 256 designs), so the
        register map of a configuration is built once.

        Raises:
            TypeError: ``config`` or ``device`` of the wrong type.
            ValueError: a ``t_clk_ns`` that is not a clock period, a ``window_ns`` outside
                coarse mode; the readout design's refusals
                (:class:`sim_models.device.DeviceError`) pass through.
        """
        config = MacroConfig() if config is None else config
        if not isinstance(config, MacroConfig):
            raise TypeError(f"config must be a MacroConfig, not {type(config).__name__}")
        device = DeviceParams() if device is None else device
        if not isinstance(device, DeviceParams):
            raise TypeError(f"device must be a DeviceParams, not {type(device).__name__}")
        if isinstance(t_clk_ns, bool) or not isinstance(t_clk_ns, (int, float)) or not (
                math.isfinite(t_clk_ns) and 0 < t_clk_ns <= 1e6):
            raise ValueError(f"t_clk_ns must be a clock period in ns, 0 < t_clk_ns <= 1e6, "
                             f"not {t_clk_ns!r}")
        if window_ns is not None:
            try:
                window_ns = tuple(float(v) for v in window_ns)
            except (TypeError, ValueError):
                # not two numbers: the mode's readout design refuses it with its own message
                # (outside the coarse mode: that it has no window)
                config.mode.design_readout(config, device, t_clk_ns=float(t_clk_ns),
                                           window_ns=window_ns)
                raise
        return _derive(config, device, float(t_clk_ns), window_ns)

    @classmethod
    def derive_nominal(cls, config: MacroConfig | None = None,
                       device: DeviceParams | None = None, *, t_clk_ns: float = T_CLK_NS,
                       window_ns: tuple[float, float] | None = None) -> MacroDesign:
        """The design a die operating with ``device`` is built with: :meth:`derive` for
        ``device`` at its reference temperature, as a chip's readout is fixed at design time
        (a hot die keeps the 25 C design)."""
        device = DeviceParams() if device is None else device
        if not isinstance(device, DeviceParams):
            raise TypeError(f"device must be a DeviceParams, not {type(device).__name__}")
        return cls.derive(config, device.replace(temperature_C=device.temperature_ref_C),
                          t_clk_ns=t_clk_ns, window_ns=window_ns)

    # -- derived views ----------------------------------------------------------------------------
    @property
    def t_clk_ns(self) -> float:
        """The clock period the readout is designed for (the TDC's time base)."""
        return self.readout.t_clk_ns

    @property
    def fine_taps(self) -> int:
        """Interpolator phases per clock period (1: no interpolator)."""
        return self.readout.fine_taps

    @functools.cached_property
    def verify_read(self) -> SingleReadSetup | None:
        """The single-MTJ read of write-verify (WV_READ's reset values and the nominal codes,
        :func:`sim_models.write_model.single_read_delay_and_threshold`); None in coarse mode
        (a code spans many MTJ steps).

        Raises:
            sim_models.device.DeviceError: the read does not fit the TDC."""
        return self.config.mode.verify_read(self)

    @functools.cached_property
    def lut_reset(self) -> tuple[int, ...] | None:
        """``tdc_mode="coarse"``: the code -> value table every column holds after reset
        (``2**tdc_bits`` signed values, :func:`sim_models.coarse.nominal_table`); else None."""
        return self.config.mode.lut_reset(self)

    @functools.cached_property
    def regmap(self) -> RegisterMap:
        """The register map, its reset values from this design: TDC_START_DELAY the readout's
        start delay, WV_READ the verify read's (coarse: delay 0, the map's default threshold),
        WRITE_PULSE_CYCLES long enough to switch the cells at this clock.
        Built once per design (:func:`mram_macro.design.regmap.build_regmap`)."""
        verify = self.verify_read
        pulse = self.write_pulse_cycles
        if verify is None:
            return build_regmap(self.config, tdc_start_delay=self.readout.start_delay_cycles,
                                write_pulse_cycles=pulse)
        return build_regmap(self.config, tdc_start_delay=self.readout.start_delay_cycles,
                            verify_read_delay=verify.start_delay_cycles,
                            verify_threshold=verify.threshold_code, write_pulse_cycles=pulse)

    @property
    def write_pulse_cycles(self) -> int:
        """WRITE_PULSE_CYCLES's reset value: the configuration's, lengthened at this design's
        clock to the device's switching time when its writes are deterministic (a pulse
        shorter than ``t_switch_ns`` writes nothing). At the build's 5 ns clock the default's 4
        cycles are 20 ns and stay; at 2 ns they become 5."""
        d, cycles = self.device, self.config.write_pulse_cycles
        if d.write_model != "deterministic":
            return cycles
        return max(cycles, math.ceil(d.t_switch_ns / self.t_clk_ns - 1e-9))

    @property
    def start_delay_cycles(self) -> int:
        """TDC_START_DELAY's reset value: the readout's start delay."""
        return self.reset("TDC_START_DELAY", "CYCLES")

    @property
    def verify_read_reset(self) -> tuple[int, int]:
        """WV_READ's reset values (DELAY, THRESHOLD)."""
        return self.reset("WV_READ", "DELAY"), self.reset("WV_READ", "THRESHOLD")

    def reset(self, register: str, field: str) -> int:
        """The reset value of ``register.field`` (:class:`KeyError` if the build lacks it)."""
        return self.regmap[register].field(field).reset

    def resets(self, array: str, field: str) -> tuple[int, ...]:
        """The reset values of ``field`` of every register of the array ``array`` (e.g.
        ``CAL_OFFSET``), in index order; empty if the build has no such array."""
        return tuple(r.field(field).reset for r in self.regmap.array(array))

    @functools.cached_property
    def register_state(self) -> RegisterState:
        """The register values a macro of this design holds after reset, as the golden model
        mirrors them: every value the build has is its register map's reset value (and the
        coarse table :attr:`lut_reset`). A register the build lacks holds what its datapath
        computes with instead: CAL_OFFSET ``rows`` (coarse: unused, the table gives the
        values), CAL_GAIN 1.0 (no multiplier), THRESHOLD 0 (no activation mode),
        TRACK_INTERVAL 0 and TRACK_REF ``REPLICA_COLS * rows`` (no tracker)."""
        c = self.config

        def per_column(array: str, field: str, absent: int) -> tuple[int, ...]:
            return self.resets(array, field) or (absent,) * c.cols

        names = {r.name for r in self.regmap.registers}
        tracked = "TRACK_INTERVAL" in names
        return RegisterState(
            start_delay_cycles=self.start_delay_cycles,
            offsets=per_column("CAL_OFFSET", "OFFSET", c.rows),
            gains=per_column("CAL_GAIN", "GAIN", CAL_GAIN_ONE),
            thresholds=per_column("THRESHOLD", "VALUE", 0),
            fine_table=self.resets("FINE_TABLE", "VALUE") or None,
            lut=self.lut_reset,
            track_interval=self.reset("TRACK_INTERVAL", "INTERVAL") if tracked else 0,
            track_ref=(self.reset("TRACK_REF", "REF") if tracked
                       else REPLICA_COLS * c.rows),
            raw_codes=bool(self.reset("MODE", "RAW_CODES")),
            activation=bool(self.reset("MODE", "ACTIVATION")))

    def golden(self, device: DeviceParams | None = None, *, seed: int | None = 0,
               die=None) -> GoldenMacro:
        """A golden model of a die of this design, just after reset: the die sampled from
        ``device`` (default: the design's) with ``seed``, or ``die``; read with this design's
        readout and starting from :attr:`register_state`."""
        return GoldenMacro(self.config, self.device if device is None else device,
                           self.readout, registers=self.register_state, seed=seed,
                           t_clk_ns=self.t_clk_ns, die=die)


@functools.lru_cache(maxsize=256)
def _derive(config: MacroConfig, device: DeviceParams, t_clk_ns: float,
            window_ns: tuple[float, float] | None) -> MacroDesign:
    """The one derivation of a design's readout (:meth:`MacroDesign.derive` checks the
    arguments; the design derives the rest on first use)."""
    readout = config.mode.design_readout(config, device, t_clk_ns=t_clk_ns, window_ns=window_ns)
    if config.tdc_capture == "edge" and readout.start_delay_cycles < EDGE_MIN_START_DELAY:
        raise ConfigError(
            f"tdc_capture='edge' needs a start delay of at least {EDGE_MIN_START_DELAY} cycles "
            f"(the comparators are off in the evaluation's first period); the readout of "
            f"{config.slug} at {t_clk_ns:g} ns has {readout.start_delay_cycles}: use a shorter "
            f"clock period or tdc_capture='sampled'")
    return MacroDesign(config=config, device=device, readout=readout, window_ns=window_ns)
