"""Reference model of the cocotb testbench: what the macro should answer.

:class:`MacroModel` wraps :class:`sim_models.golden.GoldenMacro` on a die sampled from the same
seed as the array pin model (same resistances) holding the weights the host *intended* to write,
plus mirrors of the registers that change results, reset from the built design's register map
(:class:`mram_macro.design.macro.MacroDesign`). Plain Python/NumPy: usable without a simulator
(``verif/unit/test_fast_testbench.py``). :data:`T_CLK_NS` is the testbench's clock period
(:data:`sim_models.readout.T_CLK_NS`), also the TDC LSB the readout model is designed for.
"""

from __future__ import annotations

import numpy as np

from mram_macro.design.macro import MacroDesign
from sim_models.device import DeviceParams
from sim_models.die import Die
from sim_models.golden import PassResult, accumulate_pass, wrap_signed
from sim_models.readout import T_CLK_NS
from sim_models.write_model import SingleReadSetup, write_verify_row

__all__ = ["T_CLK_NS", "MacroModel"]


def _signed32(word: int) -> int:
    return word - (1 << 32) if word & (1 << 31) else word


class MacroModel:
    """What the macro should do: the golden model plus mirrors of the result-affecting registers.

    ``golden.array`` is sampled from ``seed`` like the pin model's die, so both have the same
    resistances; its MTJ states follow the writes the host *asked for* (not the pins).
    """

    def __init__(self, built: MacroDesign, device: DeviceParams | None = None, *, seed: int,
                 die: Die | None = None):
        """``built``: the design the RTL was generated from (its register map and reset
        values). ``device``: the die's device (default: the built design's); the die is read
        with the readout designed for it at the testbench clock (the built design's readout
        when ``device`` is the built one's)."""
        if not isinstance(built, MacroDesign):
            raise TypeError(f"built must be a MacroDesign, not {type(built).__name__}")
        self.built = built
        self.config = config = built.config
        self.regmap = built.regmap
        self.device = built.device if device is None else device
        self.design = MacroDesign.derive(config, self.device, t_clk_ns=T_CLK_NS)
        self.readout = self.design.readout
        self.golden = self.design.golden(seed=seed, die=die)
        self.intended_weights = np.zeros((config.rows, config.cols), dtype=bool)
        #: Columns whose comparator never fires (a fault: :meth:`MacroEnv.kill_comparators`).
        self.dead_columns: frozenset[int] = frozenset()
        self.reset()

    def reset(self) -> None:
        """Registers and accumulator back to their reset values (the built design's register
        state; the MTJs are non-volatile)."""
        g, rm = self.golden, self.regmap
        g.acc = np.zeros(self.config.cols, dtype=np.int64)
        g.load_registers(self.built.register_state)
        self.write_pulse_cycles = rm["WRITE_PULSE_CYCLES"].field("CYCLES").reset
        wv = rm["WV_CTRL"]
        self.wv_enable = wv.field("ENABLE").reset
        self.wv_doubling = wv.field("PULSE_DOUBLING").reset
        self.wv_max_retries = wv.field("MAX_RETRIES").reset
        self.wv_read_delay, self.wv_threshold = self.built.verify_read_reset
        #: What write-verify should have counted since reset (WV_RETRY_COUNT, WV_FAIL_COUNT).
        self.wv_retries = 0
        self.wv_failed_cells = 0
        self.passes = 0
        self.overflow_seen = False

    def register_written(self, name: str, word: int) -> None:
        """Mirror an accepted register write."""
        reg = self.regmap[name]
        if name in ("TDC_START_DELAY", "WRITE_PULSE_CYCLES"):
            f = reg.field("CYCLES")
            cycles = (word & f.mask) >> f.lsb
            if name == "TDC_START_DELAY":
                self.golden.start_delay_cycles = cycles
            else:
                self.write_pulse_cycles = cycles
        elif reg.array_name == "CAL_OFFSET":
            self.golden.offsets[reg.index] = _signed32(word)
        elif reg.array_name == "FINE_TABLE":
            self.golden.fine_table[reg.index] = word & reg.field("VALUE").mask
        elif name == "LUT_ENTRY" and word & reg.field("WRITE").mask:
            col, code, count = (((word & reg.field(f).mask) >> reg.field(f).lsb)
                                for f in ("COL", "CODE", "COUNT"))
            self.golden.lut[col, code] = 2 * count - self.config.rows
        elif reg.array_name == "CAL_GAIN":
            self.golden.gains[reg.index] = word
        elif name == "TRACK_INTERVAL":
            self.golden.track_interval = word
        elif name == "TRACK_REF":
            self.golden.track_ref = word
        elif name == "WV_CTRL":
            self.wv_enable = (word & reg.field("ENABLE").mask) >> reg.field("ENABLE").lsb
            self.wv_doubling = ((word & reg.field("PULSE_DOUBLING").mask)
                                >> reg.field("PULSE_DOUBLING").lsb)
            self.wv_max_retries = ((word & reg.field("MAX_RETRIES").mask)
                                   >> reg.field("MAX_RETRIES").lsb)
        elif name == "WV_READ":
            self.wv_read_delay = (word & reg.field("DELAY").mask) >> reg.field("DELAY").lsb
            self.wv_threshold = ((word & reg.field("THRESHOLD").mask)
                                 >> reg.field("THRESHOLD").lsb)
        elif name == "MODE":
            self.golden.raw_codes = bool(word & reg.field("RAW_CODES").mask)

    def row_written(self, row: int, bits) -> None:
        """The host programmed ``row``: W on the left MTJs, then W-bar on the right ones."""
        report = write_verify_row(
            self.golden.array, row, np.asarray(bits, dtype=bool), readout=self.readout,
            tdc_bits=self.config.tdc_bits, pulse_cycles=self.write_pulse_cycles,
            max_retries=self.wv_max_retries, double_pulse=bool(self.wv_doubling),
            verify=bool(self.wv_enable),
            # coarse mode has no single-MTJ read (WV_CTRL.ENABLE is fixed at 0)
            setup=None if self.built.verify_read is None else
            SingleReadSetup(start_delay_cycles=self.wv_read_delay,
                            threshold_code=self.wv_threshold))
        self.wv_retries += report.retries
        self.wv_failed_cells += report.n_failing
        self.intended_weights[row] = self.golden.array.weights()[row]

    def vmm(self, x_bits, *, accumulate: bool, hold: bool) -> PassResult:
        self.passes += 1
        prev_acc = self.golden.acc
        result = self.golden.vmm(x_bits, accumulate=accumulate, hold=hold)
        if self.dead_columns:
            result = self._with_dead_columns(result, prev_acc, accumulate)
        self.overflow_seen |= bool(result.overflow.any())
        return result

    def vmm_clear_batch(self, xs) -> list[PassResult]:
        """Clear, emitted passes of every row of ``xs[n, rows]``, as ``n`` calls of :meth:`vmm`
        would predict them, but converted in one batch (the golden model numbers the
        evaluations consecutively either way). Not with dead columns or while the temperature
        tracker runs (use :meth:`vmm`)."""
        if self.dead_columns or self.golden.track_interval:
            raise ValueError("vmm_clear_batch does not model dead columns or tracking retrims: "
                             "call vmm per pass")
        g, width = self.golden, self.config.result_width
        codes, overflow = g.convert(np.asarray(xs, dtype=bool))
        values = (wrap_signed(codes, width) if g.raw_codes
                  else accumulate_pass(0, g.results_from_codes(codes), accumulate=False,
                                       shift=False, negate=False, width=width))
        self.passes += len(codes)
        if len(codes):
            g.acc = values[-1].copy()
            self.overflow_seen |= bool(overflow.any())
        return [PassResult(codes=c, overflow=o, values=v, emitted=True)
                for c, o, v in zip(codes, overflow, values, strict=True)]

    def _with_dead_columns(self, result: PassResult, prev_acc, accumulate: bool) -> PassResult:
        """``result`` with the dead columns saturated: code ``2**tdc_bits - 1``, overflow."""
        c = self.config
        dead = np.array(sorted(self.dead_columns), dtype=np.int64)
        codes, overflow = result.codes.copy(), result.overflow.copy()
        codes[dead], overflow[dead] = c.tdc_max_code, True
        values = result.values.copy()
        if self.golden.raw_codes:
            values[dead] = wrap_signed(c.tdc_max_code, c.result_width)
        else:
            base = np.asarray(prev_acc, dtype=np.int64)[dead] if accumulate else 0
            term = self.golden.results_from_codes(codes)[dead]     # table, or offset and gain
            values[dead] = wrap_signed(base + term, c.result_width)
        self.golden.acc = values.copy()
        return PassResult(codes=codes, overflow=overflow, values=values, emitted=result.emitted)
