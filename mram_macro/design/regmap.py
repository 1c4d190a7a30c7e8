"""The macro's AXI4-Lite register map, defined once.

The RTL register file (:mod:`mram_macro.rtl.bus.regfile`), the testbenches, the host driver and
the documentation (README table, C header, JSON) are all generated from :func:`build_regmap`.

Field kinds
-----------
``ro``    read-only, value comes from the core. Writing a register made only of ``ro`` fields is
          rejected with SLVERR and flagged in STATUS.BUS_ERROR.
``rw``    read/write storage with a reset value. Optional ``max_value`` (unsigned) or
          ``signed=True`` range: a write outside the range is rejected with SLVERR and the old
          value is kept.
``w1c``   sticky flag set by the core; writing 1 clears it.
``cmd``   write 1 to issue a one-cycle command; reads 0. If the core reports the command's unit
          busy, the write is rejected with SLVERR and nothing is issued.
Unmapped addresses answer DECERR. Every rejected access sets STATUS.BUS_ERROR and records its
byte address in BUS_ERROR_ADDR.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mram_macro.design.config import (
    AXIL_DATA_WIDTH,
    CAL_GAIN_FRAC_BITS,
    CAL_GAIN_MAX,
    CAL_GAIN_MIN,
    CAL_GAIN_ONE,
    CAL_GAIN_WIDTH,
    REPLICA_COLS,
    ConfigError,
    MacroConfig,
)

__all__ = ["Field", "Register", "RegisterMap", "build_regmap", "MACRO_ID", "AXIL_ADDR_WIDTH",
           "LUT_ENTRY_OFFSET", "lut_entry_register", "lut_count", "lut_entry_word",
           "cal_offset_registers", "fine_table_registers"]

#: Value of the ID register: ASCII "MRAM".
MACRO_ID = 0x4D52414D
#: Byte-address width of the AXI4-Lite port (4 KiB window).
AXIL_ADDR_WIDTH = 12

WEIGHT_DATA_BASE = 0x040
WV_FAIL_MASK_BASE = 0x0A0
#: ``tdc_mode="two_step"``: FINE_TABLE[0..tdc_fine_taps-1] (at most 32 words, to 0x13F).
FINE_TABLE_BASE = 0x0C0
#: ``tdc_mode="coarse"``: the code -> value table's write window (one word per entry).
LUT_ENTRY_OFFSET = 0x140
CAL_OFFSET_BASE = 0x400
THRESHOLD_BASE = 0x800
#: CAL_GAIN[0..cols-1] (not in coarse mode).
CAL_GAIN_BASE = 0xC00
#: TRACK_INTERVAL, TRACK_REF, TRACK_CODE, TRACK_GAIN, TRACK_STATUS (not in coarse mode).
TRACK_BASE = 0x150

_KINDS = ("ro", "rw", "w1c", "cmd")


@dataclass(frozen=True)
class Field:
    """One field. ``reset`` is the value read right after reset, for every kind: the stored
    reset value of ``rw`` fields, the constant of constant ``ro`` fields (ID, GEOMETRY, WIDTHS),
    0 for the core's status, counters and ``cmd`` fields."""

    name: str
    lsb: int
    width: int
    kind: str
    doc: str
    reset: int = 0
    max_value: int | None = None
    min_value: int = 0
    signed: bool = False

    def __post_init__(self):
        assert self.kind in _KINDS, self.kind
        assert self.lsb >= 0 and self.lsb + self.width <= AXIL_DATA_WIDTH, self

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    @property
    def value_range(self) -> tuple[int, int]:
        """Smallest and largest value a write may give the field (two's complement range for
        signed fields)."""
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        hi = self.max_value if self.max_value is not None else (1 << self.width) - 1
        return self.min_value, hi


@dataclass(frozen=True)
class Register:
    name: str
    offset: int
    doc: str
    fields: tuple[Field, ...]
    #: For arrays: element index (``None`` for a scalar register).
    index: int | None = None
    array_name: str | None = None

    @property
    def read_only(self) -> bool:
        return all(f.kind == "ro" for f in self.fields)

    @property
    def reset(self) -> int:
        """Value read right after reset, for registers without ``ro`` fields.

        Signed fields are sign-extended to bit 31, as a read returns them (so the reset word is
        also a word that :meth:`check_write` accepts).
        """
        word = 0
        for f in self.fields:
            if f.kind == "rw":
                bits = AXIL_DATA_WIDTH - f.lsb if f.signed else f.width
                word |= (f.reset & ((1 << bits) - 1)) << f.lsb
        return word

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"register {self.name} has no field {name!r}")

    def check_write(self, word: int) -> str | None:
        """Why writing ``word`` would be rejected (``None`` if it is accepted).

        Busy commands are not covered: that depends on the core's state.
        """
        if self.read_only:
            return f"{self.name} is read-only"
        signed = [f for f in self.fields if f.kind == "rw" and f.signed]
        if signed:
            f = signed[0]
            value = word - (1 << 32) if word & (1 << 31) else word
            lo, hi = -(1 << (f.width - 1)), (1 << (f.width - 1)) - 1
            if not lo <= value <= hi:
                return f"{self.name}.{f.name}={value} is outside {lo}..{hi}"
            return None
        if any(f.kind == "rw" for f in self.fields):
            used = 0
            for f in self.fields:
                used |= f.mask
            if word & ~used & 0xFFFFFFFF:
                return f"{self.name}: bits 0x{word & ~used & 0xFFFFFFFF:08X} are outside its fields"
        for f in self.fields:
            if f.kind != "rw":
                continue
            value = (word >> f.lsb) & ((1 << f.width) - 1)
            if value < f.min_value or (f.max_value is not None and value > f.max_value):
                hi = f.max_value if f.max_value is not None else (1 << f.width) - 1
                return f"{self.name}.{f.name}={value} is outside {f.min_value}..{hi}"
        return None


@dataclass(frozen=True)
class RegisterMap:
    config: MacroConfig
    registers: tuple[Register, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> Register:
        for r in self.registers:
            if r.name == name:
                return r
        raise KeyError(f"no register named {name!r}")

    def by_offset(self, offset: int) -> Register | None:
        for r in self.registers:
            if r.offset == offset:
                return r
        return None

    def array(self, array_name: str) -> list[Register]:
        return [r for r in self.registers if r.array_name == array_name]

    # -- renderers ----------------------------------------------------------------------------
    def to_json(self) -> str:
        doc = {
            "config": self.config.to_dict(),
            # the interpolator phases per clock the build has (tdc_fine_taps None = automatic;
            # 1 without a two-step TDC)
            "fine_taps": self.config.fine_taps,
            "addr_width": AXIL_ADDR_WIDTH,
            "data_width": AXIL_DATA_WIDTH,
            "registers": [
                {"name": r.name, "offset": r.offset, "doc": r.doc,
                 "fields": [{"name": f.name, "lsb": f.lsb, "width": f.width, "kind": f.kind,
                             "reset": f.reset, "min_value": f.value_range[0],
                             "max_value": f.value_range[1], "signed": f.signed,
                             "doc": f.doc} for f in r.fields]}
                for r in self.registers],
        }
        return json.dumps(doc, indent=2) + "\n"

    def to_c_header(self, prefix: str = "MRAM_MACRO") -> str:
        c = self.config
        out = [
            "/* Register map of the MRAM VMM macro. Generated by `mram-macro generate`;",
            " * do not edit. Source of truth: mram_macro/design/regmap.py. */",
            f"#ifndef {prefix}_REGS_H", f"#define {prefix}_REGS_H", "",
            "#include <stdint.h>", "",
            f"#define {prefix}_ROWS {c.rows}u", f"#define {prefix}_COLS {c.cols}u",
            f"#define {prefix}_TDC_BITS {c.tdc_bits}u",
            f"#define {prefix}_RESULT_WIDTH {c.result_width}u",
            f"#define {prefix}_STREAM_WIDTH {c.stream_width}u", "",
            "/* Every access is one full 32-bit word (WSTRB = 0xF); anything else answers SLVERR.",
            " * Signed fields (*_SIGNED 1) are two's complement and occupy the word from their",
            " * SHIFT up to bit 31: write a value sign-extended to 32 bits, e.g.",
            f" * {prefix}_CAL_OFFSET_OFFSET_WORD(-3) == 0xFFFFFFFDu. A word whose bits above the",
            " * field are not all copies of its sign bit answers SLVERR (so does any value",
            " * outside MIN..MAX); reads return the value sign-extended the same way.",
            " * *_RESET is a field's value right after reset (in field units, not shifted). */",
            "",
        ]
        arrays_done = set()
        for r in self.registers:
            if r.array_name is not None:
                if r.array_name in arrays_done:
                    continue
                arrays_done.add(r.array_name)
                n = len(self.array(r.array_name))
                out.append(f"/* {r.doc} */")
                out.append(f"#define {prefix}_{r.array_name}(i) (0x{r.offset:03X}u + 4u * (i))")
                out.append(f"#define {prefix}_{r.array_name}_COUNT {n}u")
            else:
                out.append(f"/* {r.doc} */")
                out.append(f"#define {prefix}_{r.name} 0x{r.offset:03X}u")
            for f in r.fields:
                base = f"{prefix}_{r.array_name or r.name}_{f.name}"
                out.append(f"#define {base}_SHIFT {f.lsb}u")
                out.append(f"#define {base}_MASK 0x{f.mask:08X}u")
                out.append(f"#define {base}_RESET " +
                           (f"({f.reset})" if f.signed else f"0x{f.reset:X}u"))
                if f.signed:
                    lo, hi = f.value_range
                    out.append(f"#define {base}_SIGNED 1")
                    out.append(f"#define {base}_MIN ({lo})")
                    out.append(f"#define {base}_MAX ({hi})")
                    out.append(f"#define {base}_WORD(v) ((uint32_t)(int32_t)(v) << {f.lsb}u)")
            out.append("")
        out.append(f"#endif /* {prefix}_REGS_H */")
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        rows = ["| offset | register | field | bits | access | reset | description |",
                "|---|---|---|---|---|---|---|"]
        arrays_done = set()
        for r in self.registers:
            if r.array_name is not None:
                if r.array_name in arrays_done:
                    continue
                arrays_done.add(r.array_name)
                n = len(self.array(r.array_name))
                name = f"{r.array_name}[0..{n - 1}]"
                off = f"0x{r.offset:03X} + 4·i"
            else:
                name, off = r.name, f"0x{r.offset:03X}"
            members = self.array(r.array_name) if r.array_name is not None else [r]
            for i, f in enumerate(r.fields):
                bits = f"{f.lsb + f.width - 1}:{f.lsb}" if f.width > 1 else f"{f.lsb}"
                resets = [m.fields[i].reset for m in members]

                def fmt(v: int) -> str:
                    return f"0x{v:X}" if v > 0xFFFF else str(v)
                # an array whose elements reset differently (FINE_TABLE: K-1 … 0) shows all
                reset = (fmt(f.reset) if len(set(resets)) == 1 else
                         ", ".join(fmt(v) for v in resets) if len(resets) <= 8 else
                         f"{fmt(resets[0])} … {fmt(resets[-1])} (per element)")
                rows.append(f"| {off if i == 0 else ''} | {name if i == 0 else ''} | {f.name} | "
                            f"{bits} | {f.kind} | {reset} | {f.doc} |")
        return "\n".join(rows) + "\n"


def lut_count(config: MacroConfig, value: int) -> int:
    """LUT_ENTRY.COUNT of a table value (signed dot product ``2·count - rows``)."""
    return (int(value) + config.rows) // 2


def lut_entry_register(config: MacroConfig) -> Register:
    """LUT_ENTRY (``tdc_mode="coarse"``): one write with WRITE=1 loads one entry of the
    per-column code -> value table. An entry is stored as the estimated matching-cell count
    ``0..rows`` (the pass value ``2·count - rows`` always has the parity of ``rows``, so this
    loses nothing and saves a bit per entry). The table itself is not in the address map (cols ×
    2**tdc_bits entries; 1024 for the chip's 64 columns and 4 bits): it is write-only, and the
    register reads back the last word written."""
    c = config
    return Register(
        "LUT_ENTRY", LUT_ENTRY_OFFSET,
        "Coarse TDC look-up table: writing WRITE=1 sets table[COL][CODE] = COUNT; the column's "
        "pass value for that code is then 2·COUNT - rows (fed to the accumulator in place of "
        "CAL_OFFSET - 2·code). Fields out of range answer SLVERR and load nothing.",
        (Field("CODE", 0, c.tdc_bits, "rw", f"TDC code (0..{c.tdc_max_code})"),
         Field("COL", 8, 8, "rw", f"Column (0..{c.cols - 1})", max_value=c.cols - 1),
         Field("COUNT", 16, c.rows.bit_length(), "rw",
               f"Estimated matching cells (0..{c.rows}): pass value 2·COUNT - {c.rows}",
               reset=0, max_value=c.rows),
         Field("WRITE", 31, 1, "cmd", "1: load the entry")))


def lut_entry_word(config: MacroConfig, col: int, code: int, count: int, *,
                   write: bool = True) -> int:
    """The LUT_ENTRY word that loads ``count`` (:func:`lut_count` of a value) at
    ``[col][code]`` (``write``: with WRITE=1). Out-of-range arguments are encoded as given (cut
    to their fields), so the word may be one the macro rejects; validate on the host first
    (:func:`sim_models.coarse.check_table`)."""
    reg = lut_entry_register(config)
    word = 0
    for name, v in (("COL", col), ("CODE", code), ("COUNT", count), ("WRITE", int(write))):
        f = reg.field(name)
        word |= (int(v) << f.lsb) & f.mask
    return word


def build_regmap(config: MacroConfig, *, tdc_start_delay: int, verify_read_delay: int = 0,
                 verify_threshold: int | None = None,
                 write_pulse_cycles: int | None = None) -> RegisterMap:
    """The register map of a macro built with ``config``.

    ``tdc_start_delay`` is the reset value of TDC_START_DELAY, which comes from the readout
    design (:func:`sim_models.readout.design_readout`); ``verify_read_delay`` and
    ``verify_threshold`` are the reset values of WV_READ, from the single-MTJ read design;
    ``write_pulse_cycles`` that of WRITE_PULSE_CYCLES (default ``config.write_pulse_cycles``;
    a design at a faster clock lengthens it to the cells' switching time).
    """
    c = config
    if verify_threshold is None:
        verify_threshold = 1 << (c.tdc_bits - 1)
    if write_pulse_cycles is None:
        write_pulse_cycles = c.write_pulse_cycles
    for name, value, lo, hi in (("tdc_start_delay", tdc_start_delay, 0, 0xFFFF),
                                ("verify_read_delay", verify_read_delay, 0, 0xFFFF),
                                ("verify_threshold", verify_threshold, 0, 1 << c.tdc_bits),
                                ("write_pulse_cycles", write_pulse_cycles, 1, 0xFFFF)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(f"{name} must be an integer between {lo} and {hi}, not {value!r}")
    regs = [
        Register("ID", 0x000, "Constant 0x4D52414D (ASCII 'MRAM').",
                 (Field("ID", 0, 32, "ro", "Macro identifier", reset=MACRO_ID),)),
        Register("GEOMETRY", 0x004, "Array geometry of this build.",
                 (Field("ROWS", 0, 16, "ro", "Rows (input vector length)", reset=c.rows),
                  Field("COLS", 16, 16, "ro", "Columns (results per VMM)", reset=c.cols))),
        Register("WIDTHS", 0x008, "Data widths of this build.",
                 (Field("TDC_BITS", 0, 8, "ro", "TDC code width", reset=c.tdc_bits),
                  Field("RESULT_WIDTH", 8, 8, "ro", "Signed result width",
                        reset=c.result_width),
                  Field("STREAM_WIDTH", 16, 16, "ro", "AXI4-Stream tdata width",
                        reset=c.stream_width))),
        Register("CTRL", 0x00C, "Commands.",
                 (Field("WRITE_ROW", 0, 1, "cmd",
                        "Program row WRITE_ROW_ADDR with WEIGHT_DATA (W then W-bar). Rejected "
                        "with SLVERR while a row write is in progress."),)),
        Register("STATUS", 0x010, "State and sticky error flags (write 1 to clear a flag).",
                 (Field("VMM_BUSY", 0, 1, "ro", "A VMM is being evaluated or a vector waits"),
                  Field("WRITE_BUSY", 1, 1, "ro", "A row write is pending or in progress"),
                  Field("RESULT_PENDING", 2, 1, "ro", "A result is waiting to leave m_axis"),
                  Field("TDC_OVERFLOW", 8, 1, "w1c",
                        "A column's comparator did not fire within the TDC window; its code "
                        "saturated"),
                  Field("LENGTH_ERROR", 9, 1, "w1c",
                        "An input vector had tlast early or late; it was dropped"),
                  Field("BUS_ERROR", 10, 1, "w1c",
                        "An AXI4-Lite access was rejected (SLVERR/DECERR); see BUS_ERROR_ADDR"),
                  Field("WRITE_FAILED", 11, 1, "w1c",
                        "A row write kept wrong cells after its retries; see WV_FAIL_*"),
                  *(() if c.multibit else (
                      Field("FLAGS_ERROR", 12, 1, "w1c",
                            "An input vector carried s_axis_tuser flags, which this build "
                            "(multibit=False: single passes only) does not have; it was "
                            "dropped"),)))),
        Register("PRECHARGE_CYCLES", 0x014, "Column precharge time in clock cycles.",
                 (Field("CYCLES", 0, 8, "rw", "Precharge cycles (1..255)",
                        reset=c.precharge_cycles, min_value=1, max_value=255),)),
        Register("TDC_START_DELAY", 0x018,
                 "Cycles from the start of evaluation to TDC code 0 (removes the all-low "
                 "baseline).",
                 (Field("CYCLES", 0, 16, "rw", "Start delay in clock cycles",
                        reset=tdc_start_delay, max_value=0xFFFF),)),
        Register("WRITE_PULSE_CYCLES", 0x01C, "Width of each MTJ write pulse in clock cycles.",
                 (Field("CYCLES", 0, 16, "rw", "Write pulse width (1..65535)",
                        reset=write_pulse_cycles, min_value=1, max_value=0xFFFF),)),
        Register("WRITE_ROW_ADDR", 0x020, "Row programmed by CTRL.WRITE_ROW.",
                 (Field("ROW", 0, 16, "rw", f"Row index (0..{c.rows - 1})", reset=0,
                        max_value=c.rows - 1),)),
        Register("VMM_COUNT", 0x024, "Completed VMM passes since reset (wraps).",
                 (Field("COUNT", 0, 32, "ro", "Pass counter"),)),
        Register("BUS_ERROR_ADDR", 0x028, "Byte address of the last rejected AXI4-Lite access.",
                 (Field("ADDR", 0, AXIL_ADDR_WIDTH, "ro", "Address"),)),
        Register("MODE", 0x02C, "Operating mode.",
                 (Field("RAW_CODES", 0, 1, "rw",
                        "1: results carry each column's raw TDC code (unsigned), no "
                        "accumulation; for calibration"),
                  Field("ACTIVATION", 1, 1, "rw",
                        "1: a result is one bit per column, 1 (= +1) where the value is >= "
                        "THRESHOLD[c], packed into ceil(cols / stream_width) beats")
                  if c.activation else
                  Field("ACTIVATION", 1, 1, "rw", "Not in this build (activation=False): "
                        "writing 1 answers SLVERR", reset=0, max_value=0))),
        Register("WV_CTRL", 0x030, "Write-verify settings.",
                 (Field("ENABLE", 0, 1, "rw", "Read back every MTJ after writing it", reset=1)
                  if c.has_write_verify else
                  Field("ENABLE", 0, 1, "rw", "Read back every MTJ after writing it: not in "
                        "this build (write_verify=False, or tdc_mode 'coarse', whose code "
                        "spans many MTJ steps); writing 1 answers SLVERR, and the WV_* "
                        "counters read 0", reset=0, max_value=0),
                  Field("PULSE_DOUBLING", 1, 1, "rw", "Double the pulse on each retry",
                        reset=1),
                  Field("MAX_RETRIES", 8, 4, "rw", "Rewrites per side before giving up",
                        reset=3))),
        Register("WV_READ", 0x034, "Single-MTJ read used by write-verify.",
                 (Field("DELAY", 0, 16, "rw", "TDC start delay of a single-MTJ read",
                        reset=verify_read_delay),
                  Field("THRESHOLD", 16, c.tdc_bits + 1, "rw",
                        "A code below this reads as the low-resistance state",
                        reset=verify_threshold, max_value=1 << c.tdc_bits))),
        Register("WV_FAIL_COUNT", 0x038, "Cells left wrong after write-verify, since reset.",
                 (Field("COUNT", 0, 32, "ro", "Failed cells (wraps)"),)),
        Register("WV_RETRY_COUNT", 0x03C, "Rewrites done by write-verify, since reset.",
                 (Field("COUNT", 0, 32, "ro", "Retries (wraps)"),)),
        Register("WV_FAIL_ROW", 0x080, "Row of the last write that kept wrong cells.",
                 (Field("ROW", 0, 16, "ro", "Row index"),)),
    ]
    for i in range(c.weight_words):
        width = min(AXIL_DATA_WIDTH, c.cols - AXIL_DATA_WIDTH * i)
        regs.append(Register(
            f"WV_FAIL_MASK{i}", WV_FAIL_MASK_BASE + 4 * i,
            "Columns of WV_FAIL_ROW left wrong (column 32·i+b in bit b).",
            (Field("BITS", 0, width, "ro", "Failed columns"),),
            index=i, array_name="WV_FAIL_MASK"))
    for i in range(c.weight_words):
        width = min(AXIL_DATA_WIDTH, c.cols - AXIL_DATA_WIDTH * i)
        regs.append(Register(
            f"WEIGHT_DATA{i}", WEIGHT_DATA_BASE + 4 * i,
            "Weights of the row to program, column 32·i+b in bit b (1 = +1).",
            (Field("BITS", 0, width, "rw", "Weight bits", max_value=(1 << width) - 1),),
            index=i, array_name="WEIGHT_DATA"))
    # The mode's registers that turn codes into values (CAL_OFFSET, FINE_TABLE, LUT_ENTRY).
    regs += c.mode.value_registers(c)
    gain_one = f"{CAL_GAIN_ONE} = 1.0"
    # Coarse mode: the code -> value table replaces gain and offset. Tracker: counter and
    # two-step gain builds.
    for col in range(c.cols if c.has_gain else 0):
        regs.append(Register(
            f"CAL_GAIN{col}", CAL_GAIN_BASE + 4 * col,
            f"Per-column gain, unsigned fixed point with {CAL_GAIN_FRAC_BITS} fractional bits "
            f"({gain_one}): result = CAL_OFFSET - 2·floor((gain·code + "
            f"{1 << (CAL_GAIN_FRAC_BITS - 1)}) / {CAL_GAIN_ONE}), gain = CAL_GAIN, or "
            f"CAL_GAIN·TRACK_GAIN while tracking. A value outside "
            f"{CAL_GAIN_MIN}..{CAL_GAIN_MAX} (0.5..2.0) answers SLVERR.",
            (Field("GAIN", 0, CAL_GAIN_WIDTH, "rw", f"Gain ({gain_one})", reset=CAL_GAIN_ONE,
                   min_value=CAL_GAIN_MIN, max_value=CAL_GAIN_MAX),),
            index=col, array_name="CAL_GAIN"))
    ref_max = REPLICA_COLS * c.tdc_max_code
    regs += [] if not c.has_tracker else [
        Register("TRACK_INTERVAL", TRACK_BASE,
                 f"Temperature tracking: the {REPLICA_COLS} replica columns are read with the "
                 "first VMM pass after tracking is switched on and then every INTERVAL passes; "
                 "each replica read retrims TRACK_GAIN before its pass is captured.",
                 (Field("INTERVAL", 0, 16, "rw",
                        "Passes between replica reads; 0 = tracking off (gain = CAL_GAIN)",
                        max_value=0xFFFF),)),
        Register("TRACK_REF", TRACK_BASE + 4,
                 "Sum of the replica codes at calibration (the host writes TRACK_CODE read at "
                 "the calibration temperature); reset: the design value.",
                 (Field("REF", 0, 16, "rw", f"Reference code sum (1..{ref_max})",
                        reset=REPLICA_COLS * c.rows, min_value=1, max_value=ref_max),)),
        Register("TRACK_CODE", TRACK_BASE + 8, "Sum of the replica codes of the last replica "
                 "read.",
                 (Field("SUM", 0, 16, "ro", "Replica code sum"),)),
        Register("TRACK_GAIN", TRACK_BASE + 12,
                 f"Tracked gain TRACK_REF / TRACK_CODE ({gain_one}), rounded, clamped to "
                 f"{CAL_GAIN_MIN}..{CAL_GAIN_MAX}.",
                 (Field("GAIN", 0, CAL_GAIN_WIDTH, "ro", "Tracked gain", reset=CAL_GAIN_ONE),)),
        Register("TRACK_STATUS", TRACK_BASE + 16,
                 "Tracking flags (write 1 to clear) and retrim counter.",
                 (Field("INVALID", 0, 1, "w1c",
                        "A replica read saturated or read 0: TRACK_GAIN was kept"),
                  Field("CLAMPED", 1, 1, "w1c", "TRACK_GAIN hit its limit"),
                  Field("RETRIMS", 16, 16, "ro", "Retrims since reset (wraps)"))),
    ]
    for col in range(c.cols if c.activation else 0):
        regs.append(Register(
            f"THRESHOLD{col}", THRESHOLD_BASE + 4 * col,
            "Per-column threshold of MODE.ACTIVATION (a folded batch norm): bit = result >= "
            "THRESHOLD (signed, sign-extended on read).",
            (Field("VALUE", 0, c.result_width, "rw", "Signed threshold", reset=0, signed=True),),
            index=col, array_name="THRESHOLD"))
    return RegisterMap(config=c, registers=tuple(sorted(regs, key=lambda r: r.offset)))


def cal_offset_registers(config: MacroConfig) -> list[Register]:
    """CAL_OFFSET, one per column: ``result = CAL_OFFSET - 2 * round(gain * code)`` (the value
    registers of the counter and two-step modes,
    :meth:`mram_macro.design.modes.TdcMode.value_registers`)."""
    c = config
    regs = []
    for col in range(c.cols):
        regs.append(Register(
            f"CAL_OFFSET{col}", CAL_OFFSET_BASE + 4 * col,
            "Per-column offset: result = CAL_OFFSET - 2·round(gain·code) (signed, "
            "sign-extended on read); see CAL_GAIN.",
            (Field("OFFSET", 0, c.result_width, "rw", "Signed offset", reset=c.rows,
                   signed=True),),
            index=col, array_name="CAL_OFFSET"))
    return regs


def fine_table_registers(config: MacroConfig) -> list[Register]:
    """FINE_TABLE, one per ones count of the two-step TDC's interpolator: one table for the
    samplers of every column (the two-step mode's value registers)."""
    c = config
    regs = []
    k, fb = c.fine_taps, c.fine_bits
    for f in range(k):
        regs.append(Register(
            f"FINE_TABLE{f}", FINE_TABLE_BASE + 4 * f,
            f"Two-step TDC: fine value of a conversion whose interpolator thermometer has "
            f"{f} ones (code = coarse·{k} + FINE_TABLE[ones]); ideal {k - 1}-ones. Written "
            f"by the host from a code-density test. A value above {k - 1} answers SLVERR. "
            f"One table for the samplers of every column"
            f"{', replica columns included' if c.has_tracker else ''}: they share the "
            f"phases.",
            (Field("VALUE", 0, fb, "rw", f"Fine value (0..{k - 1})", reset=k - 1 - f,
                   max_value=k - 1),),
            index=f, array_name="FINE_TABLE"))
    return regs
