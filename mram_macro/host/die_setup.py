"""One simulated macro, derived once: configuration, device, die, readout and register map."""

from __future__ import annotations

from dataclasses import dataclass

from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.readout import ReadoutParams, design_readout_for

from ..config import MacroConfig
from ..regmap import RegisterMap
from .backend import T_CLK_NS

__all__ = ["DieSetup"]


@dataclass(frozen=True)
class DieSetup:
    """Everything both backends need to model the same die the same way.

    ``readout`` is designed for the *nominal* device at its reference temperature, as a chip's
    readout is fixed at design time; ``regmap`` is the register map the RTL is generated from
    (its reset values, e.g. TDC_START_DELAY, come from the nominal design too).
    """

    config: MacroConfig
    device: DeviceParams
    die: Die
    readout: ReadoutParams
    regmap: RegisterMap

    @classmethod
    def create(cls, config: MacroConfig | None = None, *, device: DeviceParams | None = None,
               die: Die | None = None, seed: int = 0) -> DieSetup:
        """The die is ``die`` if given, else sampled from ``device`` with ``seed``."""
        from ..top import macro_regmap

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
        nominal = device.replace(temperature_C=device.temperature_ref_C)
        readout = design_readout_for(config, nominal, t_clk_ns=T_CLK_NS)
        return cls(config=config, device=device, die=die, readout=readout,
                   regmap=macro_regmap(config))
