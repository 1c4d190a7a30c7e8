"""One simulated macro: its design (derived once) and a die of it at an operating device."""

from __future__ import annotations

from dataclasses import dataclass

from mram_macro.design.config import MacroConfig
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import RegisterMap
from mram_macro.host.backend import T_CLK_NS
from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.readout import ReadoutParams

__all__ = ["DieSetup", "check_write_pulse"]


@dataclass(frozen=True)
class DieSetup:
    """Everything both backends need to model the same die the same way.

    ``design`` is designed for the *nominal* device at its reference temperature, as a chip's
    readout is fixed at design time (:meth:`MacroDesign.derive`): its readout, its register
    map (the one the RTL is generated from at the 5 ns clock; at another clock the one whose
    reset values the backends write after reset) and its register state. ``device`` is the
    die's operating device (e.g. hot), ``die`` its sampled or measured variation.
    """

    design: MacroDesign
    device: DeviceParams
    die: Die

    @property
    def config(self) -> MacroConfig:
        return self.design.config

    @property
    def readout(self) -> ReadoutParams:
        """The readout designed for the nominal device (:attr:`MacroDesign.readout`)."""
        return self.design.readout

    @property
    def regmap(self) -> RegisterMap:
        """The register map with the design's reset values (:attr:`MacroDesign.regmap`)."""
        return self.design.regmap

    @property
    def t_clk_ns(self) -> float:
        """The clock period the macro runs at (and its readout is designed for)."""
        return self.readout.t_clk_ns

    @classmethod
    def create(cls, config: MacroConfig | None = None, *, device: DeviceParams | None = None,
               die: Die | None = None, seed: int = 0, t_clk_ns: float = T_CLK_NS,
               window_ns: tuple[float, float] | None = None) -> DieSetup:
        """The die is ``die`` if given, else sampled from ``device`` with ``seed``.

        ``t_clk_ns``: the clock period (also the TDC's time base); the readout is designed for
        it, and the register map's reset values (TDC_START_DELAY, WV_READ, WRITE_PULSE_CYCLES)
        follow that design.
        ``window_ns``: ``tdc_mode="coarse"`` only, the first and last trip time (default the
        chip's 13-29 ns, :data:`sim_models.readout.CHIP_WINDOW_NS`).

        Raises:
            ValueError: a bad setting, or a macro that cannot work at it: a coarse code that
                cannot resolve the dot product (its window covers under half of the codes),
                or a write pulse (WRITE_PULSE_CYCLES reset) shorter than the device's
                switching time. The message names the setting to change.
        """
        config = config or MacroConfig()
        if not isinstance(config, MacroConfig):
            raise TypeError(f"config must be a MacroConfig, not {type(config).__name__}")
        device = device or DeviceParams()
        if not isinstance(device, DeviceParams):
            raise TypeError(f"device must be a DeviceParams, not {type(device).__name__}")
        if die is None:
            die = Die.sample(config.rows, config.cols, device, seed=seed)
        elif not isinstance(die, Die):
            raise TypeError(f"die must be a Die (e.g. Die.load(path)), not {type(die).__name__}")
        elif (die.rows, die.cols) != (config.rows, config.cols):
            raise ValueError(f"the die is {die.rows}x{die.cols}, the macro "
                             f"{config.rows}x{config.cols}")
        if isinstance(t_clk_ns, bool) or not isinstance(t_clk_ns, (int, float)) or not (
                0 < t_clk_ns <= 1e6):
            raise ValueError(f"t_clk_ns must be a clock period in ns, 0 < t_clk_ns <= 1e6, "
                             f"not {t_clk_ns!r}")
        # The mode designs the readout (and refuses a window_ns outside the coarse mode), then
        # checks that its codes resolve a dot product at this clock.
        design = MacroDesign.derive_nominal(config, device, t_clk_ns=t_clk_ns,
                                            window_ns=window_ns)
        config.mode.check_resolution(config, design.device, design.readout)
        check_write_pulse(device, design.write_pulse_cycles, design.t_clk_ns,
                          what=" (the WRITE_PULSE_CYCLES reset)",
                          fix="build with write_pulse_cycles")
        # The register map's reset values (the verify read) must exist at this clock: derive
        # them now, so that a setup that cannot have them is refused here.
        _ = design.regmap
        return cls(design=design, device=device, die=die)

    @property
    def _nominal(self) -> DeviceParams:
        """The device the design is for: the operating device at its reference temperature."""
        return self.design.device

    def start_delay_range(self) -> tuple[int, int]:
        """``tdc_mode`` "counter" / "two_step": the TDC_START_DELAY values (cycles) at which the
        nominal column's trip times for every dot product fall inside the TDC's codes (none
        reads below code 0 and none overflows); the design value is the largest."""
        return self.config.mode.start_delay_range(self.config, self._nominal, self.readout)

    def check_verify_read(self, delay: int, threshold: int) -> None:
        """Refuse a write-verify read (WV_READ DELAY, THRESHOLD) that cannot tell a nominal low
        MTJ from a high one: it reads low iff its code is below the threshold, so the threshold
        must lie above the low MTJ's code (clipped at 0) and at or below the high one's.

        Raises:
            ValueError: the reason and the thresholds that work at that delay; or a coarse
                build, which has no single-MTJ verify read, or one built without write-verify.
        """
        c, ro = self.config, self.readout
        if not c.mode.has_single_mtj_read:
            raise ValueError(f"a tdc_mode={c.tdc_mode!r} build has no single-MTJ verify read")
        if not c.has_write_verify:
            raise ValueError(f"this build ({c.slug}) has no write-verify (write_verify=False): "
                             f"its verify read (WV_READ) is not used")
        design = self.design.verify_read
        shift = (delay - design.start_delay_cycles) * ro.fine_taps
        low, high = design.code_low - shift, design.code_high - shift
        if max(low, 0) < threshold <= high:
            return
        works = (f"use a threshold in {max(low, 0) + 1}..{high}" if max(low, 0) < high else
                 f"no threshold works at that delay (use {design.start_delay_cycles})")
        raise ValueError(f"WV_READ DELAY = {delay}, THRESHOLD = {threshold}: a nominal low MTJ "
                         f"reads code {low} and a high one {high}, so the verify read cannot "
                         f"tell them apart; {works} (design {design.start_delay_cycles}, "
                         f"{design.threshold_code})")

    def check_start_delay(self, cycles: int) -> None:
        """Refuse a TDC_START_DELAY (cycles) at which the codes cannot resolve the dot product:
        counter / two-step, a nominal column whose fastest trip reads below code 0 or whose
        slowest overflows (:meth:`start_delay_range`); coarse, a window that covers under half
        of the codes (as :meth:`create` refuses a clock).

        Raises:
            ValueError: the reason, and the values that work.
        """
        self.config.mode.check_resolution(self.config, self._nominal, self.readout,
                                          start_delay_cycles=cycles)


def check_write_pulse(device: DeviceParams, pulse_cycles: int, t_clk_ns: float, *,
                      what: str = "", fix: str = "use pulse_cycles") -> None:
    """Refuse, with the device's deterministic write model, a write pulse of ``pulse_cycles``
    clock cycles shorter than the switching time (no weight would be written)."""
    pulse_ns = pulse_cycles * t_clk_ns
    if device.write_model == "deterministic" and pulse_ns < device.t_switch_ns:
        need = -(-device.t_switch_ns // t_clk_ns)
        raise ValueError(f"a write pulse of {pulse_cycles} cycles{what} lasts {pulse_ns:g} ns "
                         f"at a {t_clk_ns:g} ns clock, shorter than the device's "
                         f"{device.t_switch_ns:g} ns switching time: no weight would be "
                         f"written; {fix} >= {need:.0f}")
