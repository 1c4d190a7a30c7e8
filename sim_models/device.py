"""Device parameters of the STT-MRAM cell, with units in every name.

Cell topology (an assumption; the paper does not publish the circuit): each logical cell is two
MTJs in series, the *left* MTJ holding the weight W and the *right* MTJ its complement W-bar.
Each MTJ has a bypass transistor in parallel. During a VMM the input bit turns on exactly one
bypass, so one MTJ stays in the column's series string. A cell's resistance in that mode is
``R_mtj + R_bypass_on``; the paper's measured cell resistances (13 kOhm / 26 kOhm) include that
transistor, so ``r_cell_low_ohm`` and ``r_cell_high_ohm`` are the cell values and the MTJ values
are derived by subtracting ``r_bypass_on_ohm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DeviceParams", "DeviceError", "PAPER_SIGMA_LOW_OHM", "PAPER_SIGMA_HIGH_OHM"]

#: Cell-to-cell spread measured over 8,192 cells (paper-facts.md, confidence M).
PAPER_SIGMA_LOW_OHM = 1.6e3
PAPER_SIGMA_HIGH_OHM = 2.0e3


class DeviceError(ValueError):
    """An invalid device parameter; the message names it and the legal range."""


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DeviceError(f"{name} must be a finite number, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class DeviceParams:
    """Nominal resistances, spread and capacitance of one cell.

    Defaults are the paper's values with no spread (ideal mode); use
    ``DeviceParams.paper()`` for the measured spread.
    """

    #: Cell resistance with its MTJ in the low (parallel) state, bypass transistor included.
    r_cell_low_ohm: float = 13e3
    #: Cell resistance with its MTJ in the high (antiparallel) state, bypass transistor included.
    r_cell_high_ohm: float = 26e3
    #: Standard deviation of a cell's low / high resistance (0 = ideal).
    sigma_low_ohm: float = 0.0
    sigma_high_ohm: float = 0.0
    #: On-resistance of a bypass transistor (assumption: not published).
    r_bypass_on_ohm: float = 1e3
    #: Column capacitance contributed by each cell (paper: about 2.1 fF per cell).
    c_cell_fF: float = 2.1
    #: Shortest write pulse that switches an MTJ (assumption; deterministic in this model).
    t_switch_ns: float = 10.0

    def __post_init__(self) -> None:
        for name in ("r_cell_low_ohm", "r_cell_high_ohm", "sigma_low_ohm", "sigma_high_ohm",
                     "r_bypass_on_ohm", "c_cell_fF", "t_switch_ns"):
            _finite(name, getattr(self, name))
        for name in ("r_cell_low_ohm", "r_cell_high_ohm", "c_cell_fF", "t_switch_ns"):
            if getattr(self, name) <= 0:
                raise DeviceError(f"{name} must be positive, not {getattr(self, name)!r}")
        for name in ("sigma_low_ohm", "sigma_high_ohm", "r_bypass_on_ohm"):
            if getattr(self, name) < 0:
                raise DeviceError(f"{name} must not be negative, not {getattr(self, name)!r}")
        if self.r_cell_high_ohm <= self.r_cell_low_ohm:
            raise DeviceError(
                f"r_cell_high_ohm ({self.r_cell_high_ohm:g}) must exceed r_cell_low_ohm "
                f"({self.r_cell_low_ohm:g}): the high state is the antiparallel MTJ")
        if self.r_bypass_on_ohm >= self.r_cell_low_ohm:
            raise DeviceError(
                f"r_bypass_on_ohm ({self.r_bypass_on_ohm:g}) must be below r_cell_low_ohm "
                f"({self.r_cell_low_ohm:g}), which includes it")

    @classmethod
    def paper(cls, **overrides) -> DeviceParams:
        """The paper's nominal values *and* its measured cell-to-cell spread."""
        values = dict(sigma_low_ohm=PAPER_SIGMA_LOW_OHM, sigma_high_ohm=PAPER_SIGMA_HIGH_OHM)
        values.update(overrides)
        return cls(**values)

    @property
    def ideal(self) -> bool:
        return self.sigma_low_ohm == 0 and self.sigma_high_ohm == 0

    @property
    def r_mtj_low_ohm(self) -> float:
        return self.r_cell_low_ohm - self.r_bypass_on_ohm

    @property
    def r_mtj_high_ohm(self) -> float:
        return self.r_cell_high_ohm - self.r_bypass_on_ohm

    @property
    def delta_r_ohm(self) -> float:
        """Resistance added to a column by one mismatching cell."""
        return self.r_cell_high_ohm - self.r_cell_low_ohm
