"""The TDC modes: one object per readout architecture (``MacroConfig.tdc_mode``).

A macro's TDC mode decides its code (counts of clock periods, a coarse count plus a fine
interpolator value, or the chip's windowed code), the readout the physics designs for it, the
registers that turn its codes into values (CAL_OFFSET/CAL_GAIN, FINE_TABLE or the code -> value
table), whether it can read a single MTJ (write-verify, the temperature tracker), its RTL value
stage and its host calibration. Each mode is one object, :class:`CounterMode`,
:class:`TwoStepMode` or :class:`CoarseMode` (the way Amaranth's ``lib.fifo`` gives each FIFO
flavour one class), found from a configuration as ``config.mode`` or by name with
:func:`mode_named`. Everything else asks the mode object what it has; nothing else compares the
mode's name (``verif/unit/test_modes.py`` checks the product's source).

This module sits below the configuration (:mod:`mram_macro.design.config` imports it, and the
physics models reach the mode objects only through a configuration's ``mode``): it imports
nothing of the project. It owns the mode-specific constants that the configuration re-exports
(:data:`COARSE_MAX_TDC_BITS`, :data:`FINE_TAPS`, :func:`auto_fine_taps`, ...) and the validation
of a configuration's mode-dependent parameters, which raises :class:`ConfigError`.
"""

from __future__ import annotations

import functools

__all__ = ["ConfigError", "TdcMode", "CounterMode", "TwoStepMode", "CoarseMode", "MODES",
           "mode_named", "COARSE_MAX_TDC_BITS", "FINE_TAPS", "AUTO_FINE_TAPS_MAX",
           "FINE_TAPS_MAX_ROWS", "auto_fine_taps"]


class ConfigError(ValueError):
    """An invalid macro parameter; the message says which one and what would be valid."""


#: Widest code of ``tdc_mode="coarse"``: its look-up table holds ``2**tdc_bits`` entries per
#: column (the chip's code is 4 bits).
COARSE_MAX_TDC_BITS = 6
#: Legal ``tdc_fine_taps`` values: powers of two, so that the coarse count and the fine value
#: concatenate into one code.
FINE_TAPS = (2, 4, 8, 16, 32)
#: The most interpolator phases :func:`auto_fine_taps` chooses: 8 phases resolve one
#: matching-cell count per 250 ps at the 2 ns NanGate45 clock that STA signs off, and a 64x64
#: VMM then takes about 20 cycles (the README's bench); 16 would need a 125 ps step.
AUTO_FINE_TAPS_MAX = 8
#: The tallest column (rows) for which the readout can make one mismatching cell one phase step
#: of a two-step TDC with K phases (``t_clk / K`` at the simulation clock, nominal device;
#: taller columns need V_ref too close to V_pre): K -> rows (256 is the most rows a macro
#: has). The physics that gives these numbers is
#: :func:`sim_models.readout.designable_fine_taps`; a unit test (verif/unit/test_two_step.py)
#: checks this table against it for every legal row count, so the configuration computes no
#: physics.
FINE_TAPS_MAX_ROWS: dict[int, int] = {2: 256, 4: 256, 8: 217, 16: 108, 32: 54}
#: ``tdc_fine_taps`` of the counter and coarse configurations that earlier releases saved (their
#: default, unused outside ``two_step``): read as ``None``, so their JSON still loads.
_LEGACY_FINE_TAPS = 8


@functools.cache
def auto_fine_taps(rows: int, tdc_bits: int) -> int:
    """The interpolator phases ``tdc_fine_taps=None`` chooses for a two-step TDC: the most of
    :data:`AUTO_FINE_TAPS_MAX` or fewer (a power of two) that leaves at least one coarse code bit
    (``log2(K) < tdc_bits``) and that the readout can give one mismatching cell at the
    simulation clock with the nominal device (:data:`FINE_TAPS_MAX_ROWS`: a shorter phase step
    needs V_ref too close to V_pre on tall columns). 8 up to 217 rows, 4 at 218..256; 2 or 4
    where ``tdc_bits`` is 2 or 3."""
    fits = [k for k in FINE_TAPS
            if rows <= FINE_TAPS_MAX_ROWS[k] and k <= AUTO_FINE_TAPS_MAX
            and k.bit_length() - 1 < tdc_bits]
    return fits[-1] if fits else FINE_TAPS[0]


class TdcMode:
    """One TDC mode: what a macro built with it has, and the checks of its parameters.

    The instances are singletons (:data:`MODES`); compare them with ``is`` or ask their
    attributes. ``config`` arguments are :class:`mram_macro.design.config.MacroConfig` (any object
    with its fields will do).

    Attributes (class constants of each mode):

    ``name``
        The ``tdc_mode`` value that selects it (one of ``TDC_MODES``).
    ``has_fine_interpolator``
        The code's low ``log2(tdc_fine_taps)`` bits are an interpolator's fine value: the
        ``arr_fine`` pins, the FINE_TABLE registers, ``fine_taps > 1``.
    ``has_code_table``
        Each column turns its code into a value through a code -> value table loaded over
        AXI4-Lite (LUT_ENTRY, :class:`mram_macro.rtl.periphery.code_lut.CodeLut`), designed over a
        window of trip times (:func:`sim_models.readout.design_coarse_readout`); the table
        replaces CAL_OFFSET and CAL_GAIN. Otherwise the readout puts one matching-cell count per
        TDC step (:func:`sim_models.readout.design_readout`) and ``value = CAL_OFFSET - 2 *
        code``.
    ``has_single_mtj_read``
        The TDC can tell one MTJ's step (a code per count): the single-MTJ read of write-verify
        (WV_READ) and the temperature tracker's replica read exist.
    """

    name: str = ""
    has_fine_interpolator: bool = False
    has_code_table: bool = False
    has_single_mtj_read: bool = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- derived quantities -----------------------------------------------------------------
    def fine_taps(self, config) -> int:
        """Interpolator phases per clock period of ``config``'s TDC (1: none, the code counts
        whole clock periods)."""
        return 1

    @property
    def supports_gain(self) -> bool:
        """Whether ``calibration="gain"`` applies (CAL_GAIN and the temperature tracker): not
        where a code -> value table replaces gain and offset."""
        return not self.has_code_table

    def count_width(self, config) -> int | None:
        """Width of the per-column count the RTL value stage hands the accumulator in place of
        the code (the code -> value table's value: ``rows.bit_length()``), or None where the
        accumulator takes the TDC code itself (``CAL_OFFSET - 2 * code``)."""
        return config.rows.bit_length() if self.has_code_table else None

    # -- validation (called by MacroConfig.__post_init__, in this order) --------------------
    def check_code_width(self, config) -> None:
        """Refuse a ``tdc_bits`` that cannot give every matching-cell count 0..rows its own
        code (the all-ones code doubles as the saturation code).

        Raises:
            ConfigError: the widths that would do."""
        if (1 << config.tdc_bits) - 1 < config.rows:
            need = config.rows.bit_length()
            raise ConfigError(
                f"tdc_bits={config.tdc_bits} gives codes 0..{(1 << config.tdc_bits) - 1}, too "
                f"few for rows={config.rows} (one code per matching-cell count "
                f"0..{config.rows}); use tdc_bits >= {need}, or tdc_mode='coarse' (several "
                f"counts per code)")

    def stored_fine_taps(self, config) -> int | None:
        """The ``tdc_fine_taps`` a configuration stores for its legal explicit value (a power
        of two in :data:`FINE_TAPS`): here only the unused 8 that earlier releases saved, read
        as ``None``.

        Raises:
            ConfigError: any other value (the mode has no interpolator)."""
        if config.tdc_fine_taps == _LEGACY_FINE_TAPS:
            return None
        raise ConfigError(f"tdc_fine_taps={config.tdc_fine_taps} is only used with "
                          f"tdc_mode='two_step' (tdc_mode={config.tdc_mode!r}); leave it "
                          f"at None")

    def check_write_verify(self, config) -> None:
        """Refuse ``write_verify=True`` where the mode has no single-MTJ read (here it has one).

        Raises:
            ConfigError: the settings that would do."""

    def check_calibration(self, config) -> None:
        """Refuse ``calibration="gain"`` where the mode does not support it (here it does).

        Raises:
            ConfigError: the setting that would do."""

    def check_bit_split(self, config) -> None:
        """Refuse a split of the code into coarse and fine bits that leaves no coarse bit.

        Raises:
            ConfigError: the widths that would do."""


class CounterMode(TdcMode):
    """``tdc_mode="counter"``: the code counts clock periods; the readout stretches one
    mismatching cell to one period. ``value = CAL_OFFSET - 2 * code`` (times CAL_GAIN with
    ``calibration="gain"``)."""

    name = "counter"


class TwoStepMode(TdcMode):
    """``tdc_mode="two_step"``: a coarse count of clock periods plus a fine interpolator of
    ``tdc_fine_taps`` clock phases, linearised by FINE_TABLE; one mismatching cell is one phase
    step (``t_clk / tdc_fine_taps``). Codes are in the same count units as the counter's."""

    name = "two_step"
    has_fine_interpolator = True

    def fine_taps(self, config) -> int:
        """``config.tdc_fine_taps``, or :func:`auto_fine_taps` where it is None."""
        if config.tdc_fine_taps is None:
            return auto_fine_taps(config.rows, config.tdc_bits)
        return config.tdc_fine_taps

    def stored_fine_taps(self, config) -> int | None:
        """``tdc_fine_taps`` as chosen, or ``None`` where it equals the automatic choice (one
        spelling per build)."""
        if config.tdc_fine_taps == auto_fine_taps(config.rows, config.tdc_bits):
            return None
        return config.tdc_fine_taps

    def check_bit_split(self, config) -> None:
        """Refuse ``log2(tdc_fine_taps) >= tdc_bits`` (no coarse bit beside the fine bits).

        Raises:
            ConfigError: the widths that would do."""
        fine_bits = self.fine_taps(config).bit_length() - 1
        if fine_bits >= config.tdc_bits:
            raise ConfigError(f"tdc_bits={config.tdc_bits} leaves no coarse bit beside the "
                              f"{fine_bits} fine bits of tdc_fine_taps={config.tdc_fine_taps}; "
                              f"use tdc_bits >= {fine_bits + 1} or fewer taps")


class CoarseMode(TdcMode):
    """``tdc_mode="coarse"``: the chip's readout, a ``tdc_bits`` code (at most
    :data:`COARSE_MAX_TDC_BITS`) over a discharge designed into the chip's 13-29 ns window,
    turned into values by a per-column code -> value table loaded over AXI4-Lite (see
    :func:`sim_models.readout.design_coarse_readout` and :mod:`sim_models.coarse`). Several
    counts share a code, so it has no single-MTJ read (no write-verify, no tracker) and no
    CAL_OFFSET or CAL_GAIN."""

    name = "coarse"
    has_code_table = True
    has_single_mtj_read = False

    def check_code_width(self, config) -> None:
        """Refuse ``tdc_bits`` above :data:`COARSE_MAX_TDC_BITS` (the table's size).

        Raises:
            ConfigError: the widths that would do."""
        if config.tdc_bits > COARSE_MAX_TDC_BITS:
            raise ConfigError(
                f"tdc_mode='coarse' keeps a look-up table of 2**tdc_bits entries per column: "
                f"tdc_bits={config.tdc_bits} is above its limit {COARSE_MAX_TDC_BITS}; use "
                f"tdc_bits <= {COARSE_MAX_TDC_BITS} (the chip's code is 4 bits) or "
                f"tdc_mode='counter'")

    def check_write_verify(self, config) -> None:
        """Refuse ``write_verify=True``: a code spans many MTJ steps, so there is no single-MTJ
        read to verify a write with.

        Raises:
            ConfigError: the settings that would do."""
        if config.write_verify:
            raise ConfigError("write_verify=True needs a single-MTJ read, which "
                              "tdc_mode='coarse' does not have (a code spans many MTJ steps); "
                              "leave write_verify at None or use tdc_mode='counter' or "
                              "'two_step'")

    def check_calibration(self, config) -> None:
        """Refuse ``calibration="gain"``: the code -> value table replaces gain and offset.

        Raises:
            ConfigError: the setting that would do."""
        if config.calibration == "gain":
            raise ConfigError("calibration='gain' does not apply to tdc_mode='coarse': its code "
                              "-> value table replaces gain and offset; use "
                              "calibration='offset'")


#: The mode objects by ``tdc_mode`` name, in the order of ``TDC_MODES``.
MODES: dict[str, TdcMode] = {m.name: m for m in (CounterMode(), CoarseMode(), TwoStepMode())}


def mode_named(name: str) -> TdcMode:
    """The mode object of ``tdc_mode`` ``name``.

    Raises:
        ConfigError: ``name`` is not a TDC mode (the message lists them)."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"tdc_mode must be one of {', '.join(map(repr, MODES))}, "
                          f"not {name!r}") from None
