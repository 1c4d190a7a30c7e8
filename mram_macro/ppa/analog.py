"""Energy of the analogue array per VMM and per row write: every term, with its source.

docs/ppa.md lists the same terms; the values come from :mod:`sim_models.device` and
:mod:`sim_models.readout` where those define them, and from the named assumptions below where
nothing published does. Terms:

* **column precharge**: each evaluation recharges every column capacitor to V_pre. Energy drawn
  from the supply per column: ``C_col * V_pre**2`` with ``C_col = rows * c_cell_fF`` (paper:
  ~2.1 fF per cell) and ``V_pre`` from the readout design. Upper bound: assumes the column
  discharged fully before the next precharge.
* **bypass / word-line switching**: each toggle of a row's bypass gate line (``arr_bypass_l/r``,
  toggles counted in the gate-level simulation) costs ``C_line * V_wl**2`` with
  ``C_line = cols * C_BYPASS_GATE_fF`` (assumption: 0.5 fF of gate and wire per cell on a
  28 nm line) at ``V_WL_V`` (assumption: the 0.9 V core supply).
* **comparators**: one per column, biased for the whole evaluation window:
  ``I_CMP_BIAS_uA * V_pre * t_eval`` (assumption: 1 µA continuous-time comparator).
* **TDC**: the TDC of this design is digital (a shared counter and per-column capture
  registers), so its energy is in the gate-level figure; no analogue part.
* **write pulse** (per row write, not per VMM: weights are stationary): ``cols`` MTJs per side,
  two sides, each ``V_WRITE_V * i_write_uA * t_pulse`` with the device model's write current and
  the paper's ~1.5 V write voltage.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim_models.device import DeviceParams
from sim_models.readout import ReadoutParams

__all__ = ["AnalogEnergy", "analog_energy", "C_BYPASS_GATE_fF", "V_WL_V", "I_CMP_BIAS_uA",
           "V_WRITE_V"]

#: Gate plus wire capacitance per cell on a bypass line (assumption, 28 nm).
C_BYPASS_GATE_fF = 0.5
#: Bypass / word-line swing (assumption: the 0.9 V core supply of the readout design).
V_WL_V = 0.9
#: Static bias of one column comparator during evaluation (assumption).
I_CMP_BIAS_uA = 1.0
#: Write voltage (paper: about 1.5 V).
V_WRITE_V = 1.5


@dataclass(frozen=True)
class AnalogEnergy:
    """Analogue energy per VMM (J), by term, and per row write."""

    precharge_J: float
    bypass_J: float
    comparator_J: float
    tdc_analog_J: float
    write_row_J: float

    @property
    def per_vmm_J(self) -> float:
        return self.precharge_J + self.bypass_J + self.comparator_J + self.tdc_analog_J


def analog_energy(*, rows: int, cols: int, device: DeviceParams, readout: ReadoutParams,
                  eval_cycles: float, t_clk_ns: float, bypass_toggles_per_vmm: float,
                  write_pulse_ns: float) -> AnalogEnergy:
    """Analogue energy of one VMM of a ``rows`` x ``cols`` array.

    ``eval_cycles``: clock cycles the comparators are on per VMM (precharge + evaluation);
    ``bypass_toggles_per_vmm``: toggles of all bypass lines per VMM (gate-level activity).
    """
    for name, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, not {v!r}")
    for name, v in (("eval_cycles", eval_cycles), ("t_clk_ns", t_clk_ns),
                    ("bypass_toggles_per_vmm", bypass_toggles_per_vmm),
                    ("write_pulse_ns", write_pulse_ns)):
        if not v >= 0:
            raise ValueError(f"{name} must be a non-negative number, not {v!r}")
    c_col_F = rows * device.c_cell_fF * 1e-15
    precharge = cols * c_col_F * readout.v_pre_V ** 2
    bypass = bypass_toggles_per_vmm * cols * C_BYPASS_GATE_fF * 1e-15 * V_WL_V ** 2
    comparator = cols * I_CMP_BIAS_uA * 1e-6 * readout.v_pre_V * eval_cycles * t_clk_ns * 1e-9
    write_row = 2 * cols * V_WRITE_V * device.i_write_uA * 1e-6 * write_pulse_ns * 1e-9
    return AnalogEnergy(precharge_J=precharge, bypass_J=bypass, comparator_J=comparator,
                        tdc_analog_J=0.0, write_row_J=write_row)
