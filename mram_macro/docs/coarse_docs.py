"""Generated documentation of ``tdc_mode="coarse"``: its datasheet section and the chip's code
transfer curve (``docs/coarse_transfer.png``), both written by ``make hdl``
(:func:`mram_macro.docs.generate.write_datasheet`) and kept current by
``verif/unit/test_coarse_docs.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mram_macro.design.config import COARSE_MAX_TDC_BITS, MacroConfig

__all__ = ["COARSE_DOC_CONFIG", "TRANSFER_PLOT", "PLOT_CLOCKS_NS", "datasheet_section",
           "transfer_plot"]

#: The configuration the section and the plot describe: the chip's 64x64 array, 4-bit code.
COARSE_DOC_CONFIG = MacroConfig(tdc_bits=4, tdc_mode="coarse")
#: File name of the transfer-curve plot in the datasheet's directory.
TRANSFER_PLOT = "coarse_transfer.png"
#: Clock periods shown: the RTL simulations' 5 ns, 2 ns, and 1 ns (the chip's 4-bit resolution).
PLOT_CLOCKS_NS = (5.0, 2.0, 1.0)


def transfer_plot(path: str | Path, *, config: MacroConfig = COARSE_DOC_CONFIG,
                  seed: int = 0) -> Path:
    """Code vs matching-cell count of every column of one die at the paper's sigma (25 C),
    one panel per clock of :data:`PLOT_CLOCKS_NS`: the mean code of 8 random inputs per count
    and column (thin lines), the nominal device's transfer (black steps)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mram_macro.design.macro import MacroDesign
    from sim_models.coarse import nominal_transfer
    from sim_models.device import DeviceParams
    from sim_models.studies import transfer_curves

    paper = DeviceParams.paper()
    n = np.arange(config.rows + 1)
    fig, axes = plt.subplots(1, len(PLOT_CLOCKS_NS), figsize=(5 * len(PLOT_CLOCKS_NS), 4),
                             sharey=True)
    for ax, t_clk in zip(axes, PLOT_CLOCKS_NS, strict=True):
        design = MacroDesign.derive_nominal(config, paper, t_clk_ns=t_clk)
        codes = transfer_curves(config, paper, t_clk_ns=t_clk, seed=seed,
                                registers=design.register_state)
        for c in range(config.cols):
            ax.plot(n, codes[c].mean(axis=1), color="tab:blue", alpha=0.15, linewidth=0.8)
        nominal = nominal_transfer(config.rows, DeviceParams(), design.readout,
                                   tdc_bits=config.tdc_bits)
        ax.step(n, nominal, where="mid", color="black", linewidth=1.5, label="nominal device")
        used = len(np.unique(nominal))
        ax.set_title(f"t_clk {t_clk:g} ns: {used} codes, "
                     f"{(config.rows + 1) / used:.1f} counts/code")
        ax.set_xlabel("matching cells n (y = 2n - 64)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"TDC code ({config.tdc_bits} bits)")
    axes[0].legend(loc="upper right")
    fig.suptitle(f"coarse TDC transfer, {config.rows}x{config.cols}, paper sigma, 25 C, "
                 f"all {config.cols} columns of one die (chip window 13-29 ns)")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=80, metadata={"Software": None})
    plt.close(fig)
    return out


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def datasheet_section(config: MacroConfig = COARSE_DOC_CONFIG) -> str:
    """The datasheet's section on ``tdc_mode="coarse"`` (Markdown)."""
    from mram_macro.design.macro import MacroDesign
    from sim_models.coarse import nominal_transfer
    from sim_models.device import DeviceParams
    from sim_models.readout import CHIP_WINDOW_NS, trip_time_ns

    d = DeviceParams()
    rows = config.rows
    lo, hi = CHIP_WINDOW_NS
    design_rows = []
    for t_clk in PLOT_CLOCKS_NS:
        ro = MacroDesign.derive(config, d, t_clk_ns=t_clk).readout
        t_fast, t_slow = (float(trip_time_ns(rows * r, rows, d, ro))
                          for r in (d.r_cell_low_ohm, d.r_cell_high_ohm))
        codes = nominal_transfer(rows, d, ro, tdc_bits=config.tdc_bits)
        used = len(np.unique(codes))
        design_rows.append([f"{t_clk:g} ns", f"{ro.v_ref_ratio:.4f}",
                            f"{t_fast:.1f} … {t_slow:.1f} ns", str(ro.start_delay_cycles),
                            f"0 … {codes.max()}", f"{(rows + 1) / used:.1f}"])
    built = MacroDesign.derive(config, d)
    table = built.lut_reset
    reg = built.regmap["LUT_ENTRY"]
    fields = [[f.name, f"{f.lsb + f.width - 1}:{f.lsb}" if f.width > 1 else str(f.lsb), f.kind,
               f.doc] for f in reg.fields]
    out = [
        "## Coarse TDC mode (`tdc_mode=\"coarse\"`): the chip's readout\n",
        "A build option (`MacroConfig(tdc_mode=\"coarse\", tdc_bits=4)`, slug suffix "
        "`_coarse`) that reproduces the chip's readout instead of resolving every count: a "
        f"`tdc_bits` code per column over a discharge designed into the chip's {lo:g}–{hi:g} ns "
        "window (`sim_models/readout.py:design_coarse_readout`), and a per-column code → value "
        "look-up table inside the macro, loaded over AXI4-Lite, in place of the chip's "
        "off-chip table (`mram_macro/rtl/periphery/code_lut.py`).\n",
        "* **Discharge.** V_ref is set so that the slowest column (every cell mismatching, "
        f"{rows}·R_high) trips at the window's end and the fastest ({rows}·R_low) at half "
        "of it; there is no stretching to one clock period per count.\n"
        "* **Assumption: the code counts periods of the one periphery clock** from "
        "TDC_START_DELAY on (the chip's TDC circuit is not public). At the RTL's 5 ns clock the "
        "window spans only a few codes (table below); the chip's 16 codes over ~16 ns "
        "suggest a ~1 ns TDC time base (a fast counter or a delay line), which this mode "
        "reaches only at a 1 ns clock. The table below is the design at three clocks:\n",
        _table(["clock", "V_ref / V_pre", "trip, all match … none match",
                "TDC_START_DELAY", "codes used", "counts per code"], design_rows),
        f"* **Table.** Entry `[c][code]` is column c's pass value for that code: an integer in "
        f"−{rows} … +{rows} with the parity of rows, the estimated signed dot product. It "
        "enters the accumulate / shift / negate / activation path where counter mode uses "
        "`CAL_OFFSET − 2·code`; "
        "CAL_OFFSET does not exist in this mode. MODE.RAW_CODES still returns the codes. "
        f"Reset: the nominal table in every column, "
        f"`{' '.join(str(int(v)) for v in table)}` (codes 0…{config.tdc_max_code}: each "
        "code's mean 2n − rows over the counts n the nominal device maps to it, weighted as "
        "random inputs and weights make them, `sim_models/coarse.py:nominal_table`).\n"
        "* **Loading.** One AXI4-Lite write per entry to LUT_ENTRY "
        f"(0x{reg.offset:03X}); the table ({config.cols}×{2 ** config.tdc_bits} entries) is "
        "not in the address map, so it is write-only (the host keeps its copy; LUT_ENTRY reads "
        "back the last word written). An entry is stored as the estimated matching-cell count "
        f"COUNT (0…{rows}, {rows.bit_length()} bits; pass value 2·COUNT − {rows}): every "
        "exact dot product has the parity of rows, so this loses nothing and saves a bit per "
        "entry over a signed value. A word with COL beyond the array or COUNT beyond "
        f"{rows} answers SLVERR, sets STATUS.BUS_ERROR and loads nothing. Chosen over a packed "
        "register array for the address space (64 columns × 16 codes, four entries per word, "
        "would fill 1 KiB of the 4 KiB map; 256 columns would not fit) and decoder area (one "
        "register instead of 256).\n",
        _table(["LUT_ENTRY field", "bits", "access", "description"], fields),
        "* **Host routine.** `Macro.calibrate_table()` (host API; `calibrate()` calls it in "
        "this mode) reads raw codes of random reference inputs with the written weights, "
        "sets each entry to the mean exact dot product of the patterns that gave that code "
        "(`sim_models/coarse.py:lut_from_codes`; codes not seen take the nearest seen code's "
        "value) and writes the table; `Macro.write_lut(table)` checks the whole table first "
        "(shape, integers, range, parity) and raises `HostError` naming the first bad entry.\n"
        "* **Rules.** `2**tdc_bits − 1 ≥ rows` does not apply; `tdc_bits ≤ "
        f"{COARSE_MAX_TDC_BITS}` (the table's size) does, and so do the result-width rules. "
        "Write-verify is unavailable (a code spans many MTJ steps, so a single-MTJ read "
        "cannot tell low from high; the chip reports none either): WV_CTRL.ENABLE resets to 0 "
        "and writing 1 answers SLVERR.\n"
        "* **Cost and accuracy** (`make bench`, section \"coarse TDC\"): window, cycles and "
        "VMM/s at the STA-confirmed clocks, the table's area, and the dot-product error at the "
        "paper's sigma at 25 °C and 85 °C with the nominal and the calibrated table.\n",
        f"![coarse TDC transfer curve]({TRANSFER_PLOT})\n",
    ]
    return "\n".join(out)
