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

This module sits above the configuration: :mod:`mram_macro.design.config` holds the
mode-specific constants (:data:`~mram_macro.design.config.COARSE_MAX_TDC_BITS`,
:data:`~mram_macro.design.config.FINE_TAPS`, :func:`~mram_macro.design.config.auto_fine_taps`,
...), the :class:`~mram_macro.design.config.ConfigError` and the registry, and imports no mode
object; each mode registers itself there when :mod:`mram_macro` is imported (its
``__init__`` imports this module). So a mode may use what imports the configuration: its
readout design (:mod:`sim_models.readout`), its RTL value stage
(:mod:`mram_macro.rtl.periphery`), its host calibration and its datasheet text, each imported
where a method needs it. The physics models reach a mode only through a configuration's
``mode`` attribute, never by import (``verif/unit/test_import_graph.py``).
"""

from __future__ import annotations

import numpy as np

from mram_macro.design.config import (
    _LEGACY_FINE_TAPS,
    _MODES,
    COARSE_MAX_TDC_BITS,
    EDGE_MIN_FINE_TAPS,
    ConfigError,
    auto_fine_taps,
    mode_named,
    register_mode,
)

__all__ = ["TdcMode", "CounterMode", "TwoStepMode", "CoarseMode", "MODES", "mode_named"]


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

    # -- what the mode builds (each imports the layer it uses where it is called) -----------
    def design_readout(self, config, device, *, t_clk_ns: float | None = None,
                       window_ns: tuple[float, float] | None = None):
        """The readout ``config`` is built with for ``device`` (a
        :class:`sim_models.readout.ReadoutParams`): here one matching-cell count per TDC step,
        :func:`sim_models.readout.design_readout` with :meth:`fine_taps` phases per clock
        period, at a ``t_clk_ns`` clock (default :data:`sim_models.readout.T_CLK_NS`).

        Raises:
            ValueError: a ``window_ns`` (a setting of the coarse mode's readout only).
            sim_models.device.DeviceError: no legal readout (the physics' refusal)."""
        from sim_models.readout import T_CLK_NS, design_readout

        if window_ns is not None:
            raise ValueError(f"window_ns is a setting of tdc_mode='coarse' (this macro: "
                             f"{config.tdc_mode!r}, whose readout puts one count per TDC step)")
        return design_readout(config.rows, device,
                              t_clk_ns=T_CLK_NS if t_clk_ns is None else t_clk_ns,
                              fine_taps=self.fine_taps(config))

    def start_delay_range(self, config, nominal, readout) -> tuple[int, int]:
        """The TDC_START_DELAY values (cycles) at which the ``nominal`` device's column trips
        for every dot product fall inside ``config``'s TDC codes with ``readout`` (none reads
        below code 0, none overflows); the design value is the largest.

        Raises:
            ValueError: a mode whose start delay is not checked by a range (coarse)."""
        from sim_models.readout import trip_time_ns

        c, ro = config, readout
        n = np.arange(c.rows + 1)
        r = c.rows * nominal.r_cell_high_ohm - n * nominal.delta_r_ohm
        m = np.ceil(trip_time_ns(r, c.rows, nominal, ro) / ro.t_fine_ns).astype(np.int64)
        k = ro.fine_taps
        lo = max(0, -(-(int(m.max()) - 1 - c.tdc_max_code) // k))
        hi = (int(m.min()) - 1) // k
        return lo, hi

    def check_resolution(self, config, nominal, readout, *,
                         start_delay_cycles: int | None = None) -> None:
        """Refuse a readout whose codes cannot resolve a dot product of ``config`` on the
        ``nominal`` device, at its design start delay or at ``start_delay_cycles``: here one
        count per TDC step by design, so only a start delay outside :meth:`start_delay_range`
        (the fastest trips read below code 0 or the slowest overflow).

        Raises:
            ValueError: the reason, and the values that work."""
        if start_delay_cycles is None:
            return
        c, ro, cycles = config, readout, start_delay_cycles
        lo, hi = self.start_delay_range(c, nominal, ro)
        if lo <= cycles <= hi:
            return
        side = (f"the fastest trips (largest dot products) would read below code 0, "
                f"{ro.fine_taps * (cycles - hi)} TDC steps early" if cycles > hi else
                f"the slowest trips (smallest dot products) would overflow the "
                f"{c.tdc_bits}-bit TDC, {ro.fine_taps * (lo - cycles)} TDC steps late")
        raise ValueError(f"TDC_START_DELAY = {cycles} cycles at a {ro.t_clk_ns:g} ns clock: "
                         f"{side}, so their codes cannot resolve the dot product; use "
                         f"{lo}..{hi} cycles (design value {ro.start_delay_cycles})")

    def verify_read(self, design):
        """The single-MTJ read of write-verify for ``design`` (a
        :class:`mram_macro.design.macro.MacroDesign`): WV_READ's reset values and the nominal
        codes (:func:`sim_models.write_model.single_read_delay_and_threshold`), or None where
        the mode has no single-MTJ read.

        Raises:
            sim_models.device.DeviceError: the read does not fit the TDC."""
        from sim_models.write_model import single_read_delay_and_threshold

        return single_read_delay_and_threshold(design.config.rows, design.device, design.readout,
                                               design.config.tdc_bits)

    def lut_reset(self, design) -> tuple[int, ...] | None:
        """The code -> value table every column of ``design`` holds after reset, or None where
        the mode has none (here)."""
        return None

    def value_registers(self, config) -> list:
        """The registers that turn ``config``'s codes into values
        (:class:`mram_macro.design.regmap.Register`): here CAL_OFFSET, one per column (CAL_GAIN
        is the calibration's, :attr:`supports_gain`)."""
        from mram_macro.design.regmap import cal_offset_registers

        return cal_offset_registers(config)

    # The RTL value stage, elaborated by MramMacro.elaborate in four parts, each where its part
    # of the design is built (so that the Verilog keeps one statement order for every mode).
    def value_blocks(self, top) -> dict:
        """The value stage's own blocks of ``top`` (a :class:`mram_macro.rtl.top.MramMacro`),
        by submodule name, added after the accumulator: here none (the accumulator's
        ``CAL_OFFSET - 2 * code`` is the stage)."""
        return {}

    def value_gates(self, gate, field) -> None:
        """Clock gates of the value stage's blocks (``gate(name, enable)``, enables from the
        register file's ``field`` values): here none."""

    def fine_inputs(self, m, top, *, tdc, ref_tdc, field) -> None:
        """Drive the inputs of the TDC's fine decode (``tdc``, and ``ref_tdc``, the replicas'
        TDC, or None) in ``top``'s module ``m``: here none (no interpolator)."""

    def value_stage(self, m, top, *, blocks, tdc, acc, field, busy) -> None:
        """Wire the value stage in ``top``'s module ``m``: here the accumulator's offsets
        straight from the register file's CAL_OFFSET ``field`` values. ``blocks``: what
        :meth:`value_blocks` returned; ``busy``: the command busy flags."""
        from amaranth.hdl import Cat

        m.d.comb += acc.offsets.eq(Cat(*field.CAL_OFFSET.OFFSET))

    def time_base_text(self, config) -> str:
        """How the TDC counts the clock, for the datasheet's clock section."""
        return "one code per period"

    def calibrate(self, macro, *, n_pairs: int, seed: int, method: str, per_column: int):
        """The host calibration of ``macro`` (a :class:`mram_macro.host.Macro` with its weights
        written; arguments checked by :meth:`mram_macro.host.Macro.calibrate`): reference passes
        in raw-code mode, values computed on the host (:mod:`sim_models.calibration`) and
        written. ``method="offset"``: CAL_OFFSET; returns the offsets. ``method="gain"``:
        CAL_GAIN and CAL_OFFSET fitted together; returns ``(gains, offsets)``."""
        from sim_models.calibration import (
            cal_gains_offsets_from_codes,
            cal_offsets_from_codes,
            gain_reference_patterns,
            reference_patterns,
        )

        c = macro.config
        if method == "offset":
            x = reference_patterns(c.rows, n_pairs, seed=seed)
        else:
            x = gain_reference_patterns(macro.weights, n_pairs=n_pairs, per_column=per_column,
                                        seed=seed)
        codes = macro.raw_codes(x)
        if method == "offset":
            offsets = cal_offsets_from_codes(x, macro.weights, codes, tdc_bits=c.tdc_bits,
                                             result_width=c.result_width)
            macro.write_offsets(offsets)
            return offsets
        gains, offsets = cal_gains_offsets_from_codes(x, macro.weights, codes,
                                                      tdc_bits=c.tdc_bits,
                                                      result_width=c.result_width)
        macro.write_gains(gains)
        macro.write_offsets(offsets)
        return gains, offsets

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

    def capture_needs(self, config) -> list[str]:
        """What ``tdc_capture="edge"`` needs of this mode that ``config`` lacks (empty: it
        can capture on the comparators' edges). Only a two-step TDC can: it reads a trip's
        place in the period from its samplers (mram_macro/rtl/periphery/edge_tdc.py)."""
        return [f"tdc_mode='two_step' (not {config.tdc_mode!r})"]


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

    def value_registers(self, config) -> list:
        """CAL_OFFSET per column, and FINE_TABLE: the interpolator's ones count -> fine value,
        one table for every column's samplers."""
        from mram_macro.design.regmap import fine_table_registers

        return super().value_registers(config) + fine_table_registers(config)

    def fine_inputs(self, m, top, *, tdc, ref_tdc, field) -> None:
        """``arr_fine`` and FINE_TABLE into the TDC's fine decode (the replicas' samplers share
        the table: they share the phases)."""
        from amaranth.hdl import Cat

        fine_table = Cat(*field.FINE_TABLE.VALUE)
        m.d.comb += [tdc.fine.eq(top.arr_fine), tdc.fine_table.eq(fine_table)]
        if ref_tdc is not None:
            m.d.comb += [ref_tdc.fine.eq(top.arr_ref_fine), ref_tdc.fine_table.eq(fine_table)]

    def time_base_text(self, config) -> str:
        """One code per phase step."""
        return (f"one code per phase step, {self.fine_taps(config)} per period, with the "
                f"two-step TDC's interpolator phases from outside the macro (section 6)")

    def check_bit_split(self, config) -> None:
        """Refuse ``log2(tdc_fine_taps) >= tdc_bits`` (no coarse bit beside the fine bits).

        Raises:
            ConfigError: the widths that would do."""
        fine_bits = self.fine_taps(config).bit_length() - 1
        if fine_bits >= config.tdc_bits:
            raise ConfigError(f"tdc_bits={config.tdc_bits} leaves no coarse bit beside the "
                              f"{fine_bits} fine bits of tdc_fine_taps={config.tdc_fine_taps}; "
                              f"use tdc_bits >= {fine_bits + 1} or fewer taps")

    def capture_needs(self, config) -> list[str]:
        """Edge capture needs at least :data:`EDGE_MIN_FINE_TAPS` phases (a quarter period
        of margin on each count copy)."""
        taps = self.fine_taps(config)
        if taps < EDGE_MIN_FINE_TAPS:
            return [f"at least {EDGE_MIN_FINE_TAPS} interpolator phases (not {taps}: set "
                    f"tdc_fine_taps)"]
        return []


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

    def design_readout(self, config, device, *, t_clk_ns: float | None = None,
                       window_ns: tuple[float, float] | None = None):
        """The chip's readout, every trip inside ``window_ns`` (default the chip's
        :data:`sim_models.readout.CHIP_WINDOW_NS`):
        :func:`sim_models.readout.design_coarse_readout`.

        Raises:
            sim_models.device.DeviceError: the window cannot be designed (its message)."""
        from sim_models.readout import CHIP_WINDOW_NS, T_CLK_NS, design_coarse_readout

        return design_coarse_readout(config.rows, device,
                                     t_clk_ns=T_CLK_NS if t_clk_ns is None else t_clk_ns,
                                     window_ns=CHIP_WINDOW_NS if window_ns is None else window_ns)

    def start_delay_range(self, config, nominal, readout) -> tuple[int, int]:
        """Refused: the coarse TDC's start delay is checked by the codes it resolves
        (:meth:`check_resolution`)."""
        raise ValueError("the coarse TDC's start delay is checked by the codes it resolves "
                         "(check_start_delay), not by a range")

    def check_resolution(self, config, nominal, readout, *,
                         start_delay_cycles: int | None = None) -> None:
        """Refuse a window that puts the column's trips into under half of the non-saturating
        codes (:func:`sim_models.coarse.nominal_transfer`): its code cannot resolve a dot
        product (at a 5 ns clock a 64-row column uses 3 of a 4-bit TDC's 15 codes, 22 counts
        per code, and a network on it sits at chance). ``start_delay_cycles``: a
        TDC_START_DELAY other than the design's.

        Raises:
            ValueError: the reason, and the clock (or start delay) that would do."""
        from sim_models.coarse import nominal_transfer
        from sim_models.readout import trip_time_ns

        codes = nominal_transfer(config.rows, nominal, readout, tdc_bits=config.tdc_bits,
                                 start_delay_cycles=start_delay_cycles)
        used = len(np.unique(codes))
        usable = min(config.rows + 1, config.tdc_max_code)     # the all-ones code saturates
        if 2 * used >= usable:
            return
        if start_delay_cycles is not None:
            raise ValueError(
                f"TDC_START_DELAY = {start_delay_cycles} cycles at a {readout.t_clk_ns:g} ns "
                f"clock puts the {config.rows}-row column's trips into {used} of the {usable} "
                f"codes of a {config.tdc_bits}-bit TDC: the code cannot resolve a dot product; "
                f"keep the window on the trips (design value {readout.start_delay_cycles})")
        span_ns = (float(trip_time_ns(config.rows * nominal.r_cell_high_ohm, config.rows,
                                      nominal, readout))
                   - float(trip_time_ns(config.rows * nominal.r_cell_low_ohm, config.rows,
                                        nominal, readout)))
        suggest = span_ns / -(-usable // 2)
        raise ValueError(
            f"tdc_mode='coarse' at a {readout.t_clk_ns:g} ns clock puts the {config.rows}-row "
            f"column's {span_ns:.1f} ns trip window into {used} of the {usable} codes of a "
            f"{config.tdc_bits}-bit TDC ({(config.rows + 1) / used:.0f} counts per code): the "
            f"code cannot resolve a dot product; use t_clk_ns <= {suggest:.2g} (or a longer "
            f"window_ns)")

    def verify_read(self, design):
        """None: a code spans many MTJ steps, so there is no single-MTJ read."""
        return None

    def lut_reset(self, design) -> tuple[int, ...]:
        """The nominal code -> value table (``2**tdc_bits`` signed values,
        :func:`sim_models.coarse.nominal_table`)."""
        from sim_models.coarse import nominal_table

        return tuple(int(v) for v in nominal_table(design.config, design.device, design.readout))

    def value_registers(self, config) -> list:
        """LUT_ENTRY, the port through which the host writes the code -> value tables (no
        CAL_OFFSET: the table replaces gain and offset)."""
        from mram_macro.design.regmap import lut_entry_register

        return [lut_entry_register(config)]

    def value_blocks(self, top) -> dict:
        """A code -> value table per column (:class:`mram_macro.rtl.periphery.code_lut.CodeLut`,
        ``code_lut``, reset to the design's nominal table) in the ``g_lut`` clock domain."""
        from mram_macro.design.regmap import lut_count
        from mram_macro.rtl.periphery.code_lut import CodeLut

        c = top.config
        return {"code_lut": top.gated("g_lut", CodeLut(
            cols=c.cols, tdc_bits=c.tdc_bits, value_width=self.count_width(c),
            reset_table=[lut_count(c, v) for v in top.design.lut_reset]))}

    def value_gates(self, gate, field) -> None:
        """``g_lut`` opens on LUT_ENTRY writes."""
        gate("g_lut", field.LUT_ENTRY.WRITE)

    def value_stage(self, m, top, *, blocks, tdc, acc, field, busy) -> None:
        """The tables between the TDC's codes and the accumulator's counts, written through
        LUT_ENTRY."""
        lut, entry = blocks["code_lut"], field.LUT_ENTRY
        m.d.comb += [
            lut.codes.eq(tdc.codes), acc.counts.eq(lut.values),
            lut.write.eq(entry.WRITE), lut.write_col.eq(entry.COL),
            lut.write_code.eq(entry.CODE), lut.write_value.eq(entry.COUNT),
            busy.LUT_ENTRY.WRITE.eq(0),
        ]

    def calibrate(self, macro, *, n_pairs: int, seed: int, method: str, per_column: int):
        """:meth:`mram_macro.host.Macro.calibrate_table` with ``max(256, 4 * n_pairs)``
        patterns (returns the tables); ``method`` must be ``"offset"``.

        Raises:
            mram_macro.host.HostError: ``method="gain"`` (there is no CAL_GAIN)."""
        from mram_macro.host.backend import HostError

        if method != "offset":
            raise HostError("tdc_mode='coarse' has no CAL_GAIN: its code -> value table "
                            "replaces gain and offset; use calibrate() or calibrate_table()")
        return macro.calibrate_table(n_patterns=max(256, 4 * n_pairs), seed=seed)

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


for _mode in (CounterMode(), CoarseMode(), TwoStepMode()):
    register_mode(_mode)
#: The mode objects by ``tdc_mode`` name, in the order of ``TDC_MODES`` (the configuration's
#: registry, :func:`mram_macro.design.config.mode_named`).
MODES: dict[str, TdcMode] = _MODES
