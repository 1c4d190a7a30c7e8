"""Device presets: the 2022 chip's STT-MRAM and two higher-resistance MRAM cells, with sources.

A preset is a :class:`~sim_models.device.DeviceParams` (what the array, readout and golden model
use) plus the facts the design-space exploration reports beside it (write energy per bit, the
source of every number). Every value below names its source; where none was found the value is
marked **assumption** with the reasoning. ``docs/explore.md`` renders the same table
(:func:`sources_markdown`), so code and docs cannot disagree.

* ``stt_2022``: the chip of Jung et al., Nature 601, 211-216 (2022): ``DeviceParams.paper()``.
* ``sot``: a spin-orbit-torque cell. Its write current runs in the heavy-metal line beside the
  MTJ, not through the barrier, so the barrier can be chosen for the read (higher resistance).
* ``me``: a magnetoelectric (VCMA, "MeRAM") cell, written by a voltage across a thick barrier
  that passes little current: the largest resistance of the three.

Resistance summation puts ``rows`` cells in series, so a larger cell resistance stretches the
column's RC: one mismatching cell (``delta_r * C_col``) must still fit one TDC step with V_ref
below ``V_REF_MAX_RATIO`` of V_pre. :func:`readout_for` designs the readout of a preset through
the same derivation as every other build (:func:`sim_models.readout.design_readout_for`) and
refuses, with the reason, a preset that no legal readout of the configuration can resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim_models.device import PAPER_SIGMA_HIGH_OHM, PAPER_SIGMA_LOW_OHM, DeviceError, DeviceParams
from sim_models.readout import ReadoutParams, design_readout_for

__all__ = ["DevicePreset", "PRESETS", "ReadoutRefused", "preset", "readout_for",
           "sources_markdown", "PAPER_REL_SIGMA_LOW", "PAPER_REL_SIGMA_HIGH"]

_PAPER = DeviceParams.paper()
#: The 2022 chip's cell-to-cell spread relative to its nominal resistances (12.3 % low state,
#: 7.7 % high state); the presets without a published spread scale it (an assumption each).
PAPER_REL_SIGMA_LOW = PAPER_SIGMA_LOW_OHM / _PAPER.r_cell_low_ohm
PAPER_REL_SIGMA_HIGH = PAPER_SIGMA_HIGH_OHM / _PAPER.r_cell_high_ohm

_JUNG_2022 = ("S. Jung et al., Nature 601, 211-216 (2022), measured over 8,192 cells "
              "(paper-facts.md, confidence M: secondary notes citing the paper)")
_GARELLO_2018 = ("K. Garello et al., 'SOT-MRAM 300 mm integration for low power and ultrafast "
                 "embedded memories', Symp. VLSI Circuits 2018 (62 nm devices: 210 ps switching)")
_IMEC_2023 = ("imec, VLSI Symposium 2023, extremely scaled SOT-MRAM: switching energy below "
              "100 fJ per bit (press summary of the paper)")
_AMIRI_2015 = ("P. Khalili Amiri et al., 'Electric-field-controlled magnetoelectric RAM: "
               "progress, challenges, and scaling', IEEE Trans. Magn. 51(11), 2015 (< 1 ns, "
               "< 40 fJ/bit writes at 1.5-2 V)")


@dataclass(frozen=True)
class DevicePreset:
    """One MRAM cell technology: its device model and the sources of its numbers.

    ``write_energy_fJ_per_bit`` is the published energy of one MTJ write; ``None`` means the
    kit's own current-through-the-cell model
    (:func:`mram_macro.flow.ppa.analog.write_row_energy_J`),
    which fits the STT cell. ``sources`` maps each parameter name to its citation or to an
    ``"assumption: ..."`` sentence.
    """

    name: str
    title: str
    device: DeviceParams
    write_energy_fJ_per_bit: float | None
    sources: dict[str, str]

    @property
    def tmr(self) -> float:
        """The MTJ's on/off ratio minus one, (R_AP - R_P) / R_P, bypass transistor excluded."""
        return self.device.tmr_ref

    def assumed(self) -> tuple[str, ...]:
        """The parameters whose value is an assumption (not from a publication)."""
        return tuple(k for k, v in self.sources.items() if v.startswith("assumption"))


def _cell(r_mtj_low_ohm: float, tmr: float, *, sigma_scale: float, t_switch_ns: float
          ) -> DeviceParams:
    """A device from the MTJ's parallel resistance and TMR; the bypass transistor, cell
    capacitance and temperature model are the kit's (assumptions in device.py), the spread is
    the chip's relative spread times ``sigma_scale``."""
    r_bypass = _PAPER.r_bypass_on_ohm
    r_low = r_mtj_low_ohm + r_bypass
    r_high = r_mtj_low_ohm * (1.0 + tmr) + r_bypass
    return DeviceParams(r_cell_low_ohm=r_low, r_cell_high_ohm=r_high,
                        sigma_low_ohm=r_low * PAPER_REL_SIGMA_LOW * sigma_scale,
                        sigma_high_ohm=r_high * PAPER_REL_SIGMA_HIGH * sigma_scale,
                        t_switch_ns=t_switch_ns)


_KIT_COMMON = {
    "r_bypass_on_ohm": "assumption: the kit's bypass transistor (sim_models/device.py)",
    "c_cell_fF": "the 2022 chip's 2.1 fF per cell (paper-facts.md, M); kept for every cell: "
                 "assumption that the column wiring, not the MTJ, sets it",
}

PRESETS: dict[str, DevicePreset] = {
    "stt_2022": DevicePreset(
        name="stt_2022", title="STT-MRAM, the 2022 chip (DeviceParams.paper())",
        device=_PAPER, write_energy_fJ_per_bit=None,
        sources={
            "r_cell_low_ohm": _JUNG_2022 + ": about 13 kOhm including the access transistor",
            "r_cell_high_ohm": _JUNG_2022 + ": about 26 kOhm (on/off ratio about 2)",
            "sigma_low_ohm": _JUNG_2022 + ": sigma 1.6 kOhm",
            "sigma_high_ohm": _JUNG_2022 + ": sigma 2.0 kOhm",
            "t_switch_ns": "assumption: the kit's 10 ns deterministic write pulse "
                           "(sim_models/device.py; the paper gives no pulse width)",
            "write_energy": "derived: V_write 1.5 V (paper-facts.md, M) across the cell for "
                            "the pulse, mram_macro.flow.ppa.analog.write_row_energy_J",
            **_KIT_COMMON,
        }),
    "sot": DevicePreset(
        name="sot", title="SOT-MRAM (read-optimised barrier)",
        device=_cell(49e3, 1.0, sigma_scale=1.0, t_switch_ns=0.21),
        write_energy_fJ_per_bit=100.0,
        sources={
            "r_cell_low_ohm": "assumption: 49 kOhm MTJ + the bypass transistor = 50 kOhm. The "
                              "SOT write current does not cross the barrier, so its RA is free "
                              "for the read: about 150 Ohm um^2 on the 62 nm pillar of "
                              + _GARELLO_2018 + " (4x the 2022 chip's cell)",
            "r_cell_high_ohm": "assumption: TMR 100 %, typical of CoFeB/MgO perpendicular MTJs "
                               "(no figure found in the sources above)",
            "sigma_low_ohm": "assumption: the 2022 chip's relative spread (12.3 %)",
            "sigma_high_ohm": "assumption: the 2022 chip's relative spread (7.7 %)",
            "t_switch_ns": _GARELLO_2018 + ": 0.21 ns",
            "write_energy": _IMEC_2023 + ": 100 fJ taken (the reported upper bound)",
            **_KIT_COMMON,
        }),
    "me": DevicePreset(
        name="me", title="ME-MRAM (VCMA, magnetoelectric)",
        device=_cell(249e3, 1.0, sigma_scale=1.5, t_switch_ns=1.0),
        write_energy_fJ_per_bit=40.0,
        sources={
            "r_cell_low_ohm": "assumption: 249 kOhm MTJ + the bypass transistor = 250 kOhm. A "
                              "voltage-written (VCMA) cell needs a thick barrier that passes "
                              "little current; 176 kOhm um^2 has been reported for 6.3 fJ "
                              "writes ('Electric-field induced magnetization switching in "
                              "CoFeB/MgO magnetic tunnel junctions with high junction "
                              "resistance'); 250 kOhm (about 2 kOhm um^2 at 100 nm) is a "
                              "moderate choice, 20x the 2022 chip's cell",
            "r_cell_high_ohm": "assumption: TMR 100 % (" + _AMIRI_2015 + " reads by TMR; no "
                               "figure taken from it)",
            "sigma_low_ohm": "assumption: 1.5x the 2022 chip's relative spread (a thick "
                             "barrier's RA is exponential in its thickness)",
            "sigma_high_ohm": "assumption: 1.5x the 2022 chip's relative spread",
            "t_switch_ns": _AMIRI_2015 + ": 1 ns taken (the reported upper bound)",
            "write_energy": _AMIRI_2015 + ": 40 fJ taken (the reported upper bound)",
            **_KIT_COMMON,
        }),
}


def preset(name: str) -> DevicePreset:
    """The preset ``name`` of :data:`PRESETS`."""
    if name not in PRESETS:
        raise DeviceError(f"unknown device preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]


class ReadoutRefused(DeviceError):
    """No legal readout of a configuration exists for a device; the message says why."""


def readout_for(config, device_preset: DevicePreset, *, t_clk_ns: float) -> ReadoutParams:
    """The readout ``config`` is built with for ``device_preset`` at a ``t_clk_ns`` clock
    (:func:`sim_models.readout.design_readout_for`, the one derivation of every build).

    Raises:
        ReadoutRefused: no legal readout exists (V_ref would leave its physical range); the
            message names the preset, the configuration and the reason.
    """
    try:
        return design_readout_for(config, device_preset.device, t_clk_ns=t_clk_ns)
    except DeviceError as exc:
        taps = getattr(config, "fine_taps", 1)
        what = (f"{config.rows} rows, tdc_mode={getattr(config, 'tdc_mode', 'counter')!r}"
                + (f", {taps} phases" if taps > 1 else ""))
        raise ReadoutRefused(f"device preset {device_preset.name!r} cannot be read out with "
                             f"{what} at a {t_clk_ns:g} ns clock: {exc}") from None


def _ohm(x: float) -> str:
    return f"{x / 1e3:.4g} kOhm"


def sources_markdown() -> str:
    """The presets as a Markdown table: value and source of every parameter (docs/explore.md)."""
    lines = ["| preset | parameter | value | source |", "|---|---|---|---|"]
    for p in PRESETS.values():
        d = p.device
        write = ("kit model" if p.write_energy_fJ_per_bit is None
                 else f"{p.write_energy_fJ_per_bit:g} fJ/bit")
        values = {"r_cell_low_ohm": _ohm(d.r_cell_low_ohm),
                  "r_cell_high_ohm": f"{_ohm(d.r_cell_high_ohm)} (TMR {100 * p.tmr:.0f} %)",
                  "sigma_low_ohm": _ohm(d.sigma_low_ohm),
                  "sigma_high_ohm": _ohm(d.sigma_high_ohm),
                  "t_switch_ns": f"{d.t_switch_ns:g} ns", "write_energy": write,
                  "r_bypass_on_ohm": _ohm(d.r_bypass_on_ohm),
                  "c_cell_fF": f"{d.c_cell_fF:g} fF"}
        for key, source in p.sources.items():
            lines.append(f"| {p.name} | {key} | {values[key]} | {source.replace('|', '/')} |")
    return "\n".join(lines) + "\n"

