"""Parts of the datasheet derived from their sources, each checked against them.

The port table (section 4) from the signature of :class:`~mram_macro.rtl.top.MramMacro`, with a
description per port in :data:`PORTS`; the array-pin timing numbers (sections 5 and 6) from the
readout design; the combinational input-to-output paths (section 5) from Yosys on the generated
Verilog; the two-step TDC's pins and calibration (section 6); area, timing and power (section 11)
from the published PPA results. :func:`mram_macro.docs.datasheet.render_datasheet` puts them
together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mram_macro.design.config import REPLICA_COLS, MacroConfig
from mram_macro.design.layouts import InputFlags, ResultFlags
from mram_macro.design.macro import MacroDesign
from mram_macro.rtl.top import TOP_NAME

__all__ = ["PORTS", "layout_bits", "port_rows", "readout_numbers", "ppa_section",
           "combinational_paths_text", "two_step_text", "markdown_table"]


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: ``header`` over ``rows``, each cell as ``str``."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# -- ports -----------------------------------------------------------------------------------
#: Per top-level port: width as an expression of the configuration, and what it is for. A port
#: of the signature missing here fails the datasheet build (so a new port gets documented).
PORTS: dict[str, tuple[str, str]] = {
    "s_axil_awaddr": ("12", "AXI4-Lite write address (byte address; bits 1:0 ignored)"),
    "s_axil_awprot": ("3", "accepted and ignored"),
    "s_axil_awvalid": ("1", "AXI4-Lite"), "s_axil_awready": ("1", "AXI4-Lite"),
    "s_axil_wdata": ("32", "AXI4-Lite write data"),
    "s_axil_wstrb": ("4", "must be 0xF (full words only), else SLVERR"),
    "s_axil_wvalid": ("1", "AXI4-Lite"), "s_axil_wready": ("1", "AXI4-Lite"),
    "s_axil_bresp": ("2", "OKAY / SLVERR (rejected) / DECERR (unmapped)"),
    "s_axil_bvalid": ("1", "AXI4-Lite"), "s_axil_bready": ("1", "AXI4-Lite"),
    "s_axil_araddr": ("12", "AXI4-Lite read address"),
    "s_axil_arprot": ("3", "accepted and ignored"),
    "s_axil_arvalid": ("1", "AXI4-Lite"), "s_axil_arready": ("1", "AXI4-Lite"),
    "s_axil_rdata": ("32", "AXI4-Lite read data"),
    "s_axil_rresp": ("2", "OKAY / DECERR (unmapped)"),
    "s_axil_rvalid": ("1", "AXI4-Lite"), "s_axil_rready": ("1", "AXI4-Lite"),
    "s_axis_tdata": ("stream_width", "input vector beats, row 0 in bit 0 of the first beat"),
    "s_axis_tvalid": ("1", "AXI4-Stream"), "s_axis_tready": ("1", "AXI4-Stream"),
    "s_axis_tlast": ("1", "last beat of a vector (ceil(rows/stream_width) beats)"),
    "s_axis_tuser": ("InputFlags", "first beat: {InputFlags} (InputFlags)"),
    "m_axis_tdata": ("stream_width", "result beats, column 0 in the low bits of the first beat"),
    "m_axis_tvalid": ("1", "AXI4-Stream"), "m_axis_tready": ("1", "AXI4-Stream"),
    "m_axis_tlast": ("1", "last beat of a result vector"),
    "m_axis_tuser": ("ResultFlags", "{ResultFlags}: some column's TDC overflowed in this pass "
                     "(ResultFlags)"),
    "arr_bypass_l": ("rows", "1 = bypass row r's left MTJ (W) in every column"),
    "arr_bypass_r": ("rows", "1 = bypass row r's right MTJ (W-bar) in every column"),
    "arr_pre": ("1", "precharge the column capacitors (and reset the comparators)"),
    "arr_eval": ("1", "discharge the columns through their strings; TDC time base starts"),
    "arr_tdc_en": ("1", "TDC front end on (comparator bias, interpolator phases and samplers) "
                   "from TDC_START_DELAY - 1 cycles into the evaluation until arr_eval falls; "
                   "arr_cmp is not looked at while it is low"),
    "arr_cmp": ("cols", "comparator outputs, 1 once column c fell below V_ref; asynchronous"),
    "arr_fine": ("fine_pins", "two-step TDC only: the interpolator's held sampler bits, "
                 "tdc_fine_taps - 1 per column (section 6)"),
    "arr_wr_row": ("rows", "one-hot row select of a write pulse"),
    "arr_wr_side": ("1", "0 = left MTJ (W), 1 = right MTJ (W-bar)"),
    "arr_wr_data": ("cols", "1 = write the low-resistance (parallel) state into column c"),
    "arr_wr_pulse": ("1", "write pulse, WRITE_PULSE_CYCLES clocks wide"),
    "arr_ref_en": ("1", "the replica columns discharge in this evaluation (a tracking pass)"),
    "arr_ref_cmp": (str(REPLICA_COLS), "replica columns' comparator outputs, as arr_cmp; "
                    "asynchronous"),
    "arr_ref_fine": ("ref_fine_pins",
                     "two-step TDC with the tracker: the replica columns' held sampler bits, "
                     "as arr_fine"),
}


_LAYOUTS = {"InputFlags": InputFlags, "ResultFlags": ResultFlags}


def layout_bits(layout) -> str:
    """``bit 0 accumulate, bit 1 hold, ...`` of a flag layout (from its one definition)."""
    return ", ".join(f"bit {f.offset} {name}" for name, f in layout)


def _width_of(expr: str, config: MacroConfig) -> int:
    if expr.isdigit():
        return int(expr)
    if expr in _LAYOUTS:
        return _LAYOUTS[expr].size
    return int(getattr(config, expr))


def port_rows(config: MacroConfig) -> list[tuple[str, str, str, int, str]]:
    """(name, direction, width expression, width, description) of every top-level port."""
    from amaranth import Shape
    from amaranth.lib.wiring import In

    from mram_macro.rtl.top import MramMacro

    rows = [("clk", "in", "1", 1, "the one clock; rising edge; also the TDC time base"),
            ("rst", "in", "1", 1, "synchronous reset, active high")]
    macro = MramMacro(config)
    macro._MustUse__silence = True      # built only to read its signature
    members = macro.signature.members
    missing = sorted(set(members) - set(PORTS))
    if missing:
        raise ValueError(f"ports {missing} have no description in "
                         f"mram_macro/docs/datasheet_sections.py PORTS")
    for name, member in members.items():
        expr, doc = PORTS[name]
        width = _width_of(expr, config)
        if width != Shape.cast(member.shape).width:
            raise ValueError(f"PORTS says {name} is {expr} = {width} bits wide, the RTL has "
                             f"{Shape.cast(member.shape).width}: update "
                             f"mram_macro/docs/datasheet_sections.py")
        doc = doc.format(**{k: layout_bits(v) for k, v in _LAYOUTS.items()})
        rows.append((name, "in" if member.flow == In else "out", expr, width, doc))
    return rows


# -- timing numbers ------------------------------------------------------------------------------
def readout_numbers(config: MacroConfig) -> dict[str, float]:
    """Timing of the array pins for ``config`` with the default device, from the readout
    design: trip times, the comparator-delay window the reset register values tolerate."""
    from mram_macro.rtl.periphery.tdc import SYNC_STAGES
    from sim_models.readout import trip_time_ns
    from sim_models.write_model import single_read_delay_and_threshold

    design = MacroDesign.derive(config)
    device, ro = design.device, design.readout
    t = ro.t_clk_ns
    rows = config.rows
    r_match = rows * device.r_cell_low_ohm
    t_first = float(trip_time_ns(r_match, rows, device, ro))
    t_last = float(trip_time_ns(r_match + rows * device.delta_r_ohm, rows, device, ro))
    # VMM: a trip for k mismatches lands at (n K + a + k) steps of T / K (K = 1 for the counter,
    # the interpolator's phases for the two-step TDC), n = TDC_START_DELAY; the code is k while a
    # comparator-delay change dt keeps a + dt / step in (0, 1].
    step = t / ro.fine_taps
    # With the comparator's slope-dependent delay each count has its own a (ro.comparator),
    # and the window is the tightest: a earlier delay takes the first count k >= 1 below its
    # bin (k = 0 only reads as code 0, or as early, which is code 0 too), a later one the
    # last count above.
    k = np.arange(rows + 1)
    a = (trip_time_ns(r_match + k * device.delta_r_ohm, rows, device, ro) / step
         - ro.start_delay_cycles * ro.fine_taps - k)
    vmm_lo = ro.t_cmp_delay_ns - float(a[1:].min()) * step
    vmm_hi = ro.t_cmp_delay_ns + (1 - float(a.max())) * step
    # Write-verify single-MTJ read: low must trip at or before the boundary edge B, high after.
    # (a coarse build has no single-MTJ read: its numbers are those the counter's would be)
    single = design.verify_read or single_read_delay_and_threshold(rows, device, ro,
                                                                   config.tdc_bits)
    r_string = (2 * rows - 1) * device.r_bypass_on_ohm
    t_low = float(trip_time_ns(r_string + device.r_mtj_low_ohm, rows, device, ro))
    t_high = float(trip_time_ns(r_string + device.r_mtj_high_at_temperature_ohm, rows, device,
                                ro))
    # THRESHOLD counts TDC steps (phase steps of a two-step TDC), WV_READ.DELAY whole periods.
    boundary_ns = single.threshold_code * step + single.start_delay_cycles * t
    wv_lo = ro.t_cmp_delay_ns - (t_high - boundary_ns)
    wv_hi = ro.t_cmp_delay_ns + (boundary_ns - t_low)
    max_code = config.tdc_max_code
    return {
        "t_clk_ns": t, "t_step_ns": step, "v_ref_ratio": ro.v_ref_ratio, "v_pre_V": ro.v_pre_V,
        "t_cmp_delay_ns": ro.t_cmp_delay_ns, "start_delay": ro.start_delay_cycles,
        "comparator": ro.comparator,
        # the lowest constant delay a readout may have (ReadoutParams.cmp_delay_floor_ns)
        "cmp_floor_ns": -ro.cmp_delay_floor_ns,
        "t_first_ns": t_first, "t_last_ns": t_last,
        "vmm_cmp_lo_ns": vmm_lo, "vmm_cmp_hi_ns": vmm_hi,
        "wv_cmp_lo_ns": wv_lo, "wv_cmp_hi_ns": wv_hi,
        "cmp_lo_ns": max(vmm_lo, wv_lo, -ro.cmp_delay_floor_ns),
        "cmp_hi_ns": min(vmm_hi, wv_hi),
        "wv_delay": single.start_delay_cycles, "wv_threshold": single.threshold_code,
        "wv_t_low_ns": t_low, "wv_t_high_ns": t_high,
        "sync": SYNC_STAGES, "max_code": max_code,
        "window_edges": ro.start_delay_cycles + 2 ** config.tdc_bits,
        "eval_max_cycles": ro.start_delay_cycles + SYNC_STAGES + max_code + 1,
        "r_col_match_ohm": r_match, "r_col_none_ohm": r_match + rows * device.delta_r_ohm,
        "c_col_fF": rows * device.c_cell_fF,
    }


# -- area, timing, power ---------------------------------------------------------------------
def ppa_section(results: list[dict] | None = None) -> str:
    """Section 11 of the datasheet from the results ``make ppa`` published (docs/ppa/ppa.json,
    :func:`mram_macro.flow.ppa.report.published_results`): one column per Liberty library."""
    from mram_macro.docs.published import published_ppa_results
    from mram_macro.flow.ppa.report import routed_figures, routed_result

    results = published_ppa_results() if results is None else results
    if not results:
        return ("No published PPA results (docs/ppa/ppa.json): run `make ppa`; `make synth` "
                "gives the area per block.\n")
    cfg = MacroConfig.from_dict(results[0]["config"])

    def col(fmt, get):
        return [fmt(get(r)) for r in results]

    rows = [
        ["node, supply", *col(lambda r: f"{r['node_nm']:g} nm, {r['vdd_V']:g} V", lambda r: r)],
        ["clock signed off (STA, setup and hold)",
         *col(lambda r: f"{r['period_ns']:g} ns ({1e3 / r['period_ns']:.0f} MHz)", lambda r: r)],
        ["setup slack at that clock (flip-flop endpoints); fmax",
         *col(lambda r: f"{r['sta']['ff_wns_ns']:+.3f} ns; {r['sta']['fmax_mhz']:.0f} MHz",
              lambda r: r)],
        ["hold slack (clock uncertainty)",
         *col(lambda r: f"{r['sta']['hold_wns_ns']:+.3f} ns ({r['sta']['uncertainty_ns']:g} "
                        f"ns)", lambda r: r)],
        ["area (flat netlist)", *col(lambda r: f"{r['area_flat_um2'] / 1e6:.4f} mm²",
                                     lambda r: r)],
        ["flip-flops", *col(lambda r: f"{r['flip_flops']:,}", lambda r: r)],
        ["cycles per VMM (streaming); latency", *col(
            lambda r: f"{r['cycles_per_vmm']:.1f}; {r['latency_ns']:.1f} ns", lambda r: r)],
        ["VMM/s", *col(lambda r: f"{r['vmm_per_s'] / 1e6:.1f} M", lambda r: r)],
        ["energy per VMM: total (array + digital)", *col(
            lambda r: f"{r['total_J'] * 1e9:.3f} nJ ({r['analog_J']['per_vmm_J'] * 1e9:.3f} + "
                      f"{r['digital_J']['total'] * 1e9:.3f})", lambda r: r)],
        ["digital: clock / data / leakage", *col(
            lambda r: " / ".join(f"{100 * r['digital_J'][k] / r['digital_J']['total']:.0f} %"
                                 for k in ("clock", "data", "leakage")), lambda r: r)],
        ["leakage power (digital)", *col(
            lambda r: (f"{r['digital_J']['leakage'] / (r['latency_ns'] * 1e-9) * 1e3:.2f} mW"
                       if r["digital_J"]["leakage"] else "none in the library"), lambda r: r)],
        ["row write (analogue, both sides)", *col(
            lambda r: f"{r['analog_J']['write_row_J'] * 1e12:.0f} pJ", lambda r: r)],
        ["TOPS/W; TOPS/mm²", *col(lambda r: f"{r['tops_per_W']:.2f}; {r['tops_per_mm2']:.3f}",
                                  lambda r: r)],
    ]
    routed = {r["library"]: routed_result(r) for r in results}
    if any(routed.values()):
        def post(fmt):
            return [fmt(r, routed[r["library"]]) if routed[r["library"]] else "not routed"
                    for r in results]

        rows += [
            ["placed and routed (`make layout`): energy per VMM (array + digital)", *post(
                lambda r, x: f"{routed_figures(r, x)['total_J'] * 1e9:.3f} nJ "
                             f"({r['analog_J']['per_vmm_J'] * 1e9:.3f} + "
                             f"{x['digital_post_J']['total'] * 1e9:.3f})")],
            ["placed and routed: TOPS/W; setup / hold slack with the wires", *post(
                lambda r, x: f"{routed_figures(r, x)['tops_per_W']:.2f}; "
                             f"{x['sta_post']['wns_ns']:+.3f} / "
                             f"{x['sta_post']['hold_wns_ns']:+.3f} ns")],
        ]
    return (f"From `make ppa` (published in `docs/ppa/ppa.json`; method and caveats in "
            f"[ppa.md](ppa.md)), for the {cfg.rows}x{cfg.cols} {cfg.tdc_mode} build with clock "
            f"gating, random VMMs (energy from gate-level activity of the flat netlist; the "
            f"array from the analogue model); the placed-and-routed rows are `make layout`'s "
            f"(`docs/layout/`, [layout.md](layout.md)), shown when it routed this RTL. These "
            f"are estimates of the digital periphery on open libraries, not of the chip.\n\n"
            + markdown_table(["", *(r["title"] for r in results)], rows))


# -- combinational paths ---------------------------------------------------------------------
def combinational_paths_text(config: MacroConfig) -> str:
    """Section 5's sentence on the inputs with a combinational path to an output in
    ``config``'s generated Verilog (found by Yosys)."""
    import tempfile

    from mram_macro.flow.lint import combinational_inputs
    from mram_macro.rtl.top import generate_verilog

    with tempfile.TemporaryDirectory(prefix="mram_docs_") as tmp:
        verilog = Path(tmp) / f"{TOP_NAME}.v"
        generate_verilog(config, verilog)
        inputs = combinational_inputs(verilog, TOP_NAME)
    if not inputs:
        return ("No input reaches an output through combinational logic alone (checked by "
                "Yosys on the generated Verilog, `mram_macro.flow.lint.combinational_inputs`): "
                "every output is a function of flip-flops, so inputs see only setup/hold to "
                "`clk` and outputs only clock-to-output delay.")
    return ("Inputs with a combinational path to an output (Yosys, "
            "`mram_macro.flow.lint.combinational_inputs`): "
            + ", ".join(f"`{name}`" for name in inputs) + ".")


# -- the two-step TDC ------------------------------------------------------------------------
def two_step_text() -> str:
    """The two-step TDC's pins, timing and calibration (``tdc_mode="two_step"``), with the
    numbers of its default 64-row design at the 5 ns simulation clock and the 2 ns clock."""
    from sim_models.device import DeviceParams
    from sim_models.interpolator import design_trip_residue
    from sim_models.readout import design_readout

    c = MacroConfig(tdc_mode="two_step")
    k, d = c.fine_taps, DeviceParams()
    from mram_macro.rtl.periphery.tdc import SYNC_STAGES

    designs, residue_ps = [], []
    for t_clk in (5.0, 2.0):
        ro = design_readout(c.rows, d, t_clk_ns=t_clk, fine_taps=k)
        residue_ps.append((t_clk, design_trip_residue(c.rows, d, ro) * ro.t_fine_ns * 1e3))
        first = c.rows * d.r_cell_low_ohm * ro.c_col_F(c.rows, d) * ro.log_ratio * 1e9
        designs.append([f"{t_clk:g} ns", f"{ro.t_fine_ns * 1e3:.0f} ps", f"{ro.v_ref_ratio:.3f}",
                        f"{first + ro.t_cmp_delay_ns:.1f} … "
                        f"{2 * first + ro.t_cmp_delay_ns:.1f} ns",
                        f"{ro.start_delay_cycles}",
                        f"{design_trip_residue(c.rows, d, ro):.2f}"])
    return (
        "**Two-step TDC** (`tdc_mode=\"two_step\"`, `tdc_fine_taps` = K phases; "
        "`sim_models/interpolator.py`, `mram_macro/rtl/periphery/tdc.py`). The readout is "
        "designed so that one mismatching cell adds one *phase step* `T/K` instead of one "
        "period: the discharge then lasts tens of ns, like the chip's, and every count still "
        "has its own code.\n\n"
        "1. An analogue interpolator (a DLL's K phases shared by all columns, made into "
        "K − 1 level lines; K − 1 flip-flops per column clocked by its comparator) captures, "
        "at the trip, a thermometer of how many phase steps before the edge `E + m` that "
        "first sees `arr_cmp[c]` high the comparator tripped, and holds it on "
        "`arr_fine[c·(K−1) …]` until the next precharge. The pin model raises these bits "
        "together with `arr_cmp[c]`.\n"
        "2. Because `arr_fine` is held, it needs no synchroniser: the TDC reads it when the "
        "synchronised comparator is seen (`S` periods later), counts its ones (which absorbs "
        "bubbles: a 0 above a 1 from phase mismatch) and looks the count `f` up in "
        "FINE_TABLE (reset `K − 1 − f`).\n"
        "3. code = `(m − D − 1)·K + FINE_TABLE[f]` (0 while `m − D − 1 < 0`; saturated with "
        "overflow once `m − D − 1` passes the coarse range `2^tdc_bits / K − 1`); TDC_START_"
        "DELAY still counts periods. The accumulator, CAL_OFFSET and write-verify use this "
        "code unchanged (write-verify's WV_READ.THRESHOLD is then in phase steps).\n"
        "4. **Calibration**: a code-density test (trips uniformly spread over a period, e.g. "
        "from a source asynchronous to `clk`) gives each ones count's share of the period; "
        "the host turns it into FINE_TABLE (`Macro.calibrate_fine_table`, "
        "`sim_models.interpolator.code_density_table`) so that each designed trip position "
        "gets its own fine value (a phase skew is undone). A table value above K − 1 answers "
        "SLVERR and sets STATUS.BUS_ERROR; a table that is not monotonic or has the wrong "
        "length is refused by the host API with the entry named.\n\n"
        f"Default two-step design ({c.rows} rows, K = {k}): VMM trips sit a fraction of a "
        "step before a phase boundary (residue below) so that phase errors up to that "
        "fraction change no code.\n\n"
        + markdown_table(["clock", "phase step", "V_ref / V_pre", "trip after E", "D (cycles)",
                  "trip residue (steps)"], designs)
        + "\n**`arr_fine` timing** (column `c`: bits `c·(K−1)` … `c·(K−1) + K − 2`; the "
        "replicas' `arr_ref_fine` likewise with `arr_ref_cmp`):\n\n"
        "* It may change only while `arr_pre` is high (the samplers are cleared: all 0) and at "
        "the rising edge `E + m` at which the interpolator freezes it, the edge that first "
        "sees `arr_cmp[c]` high. From then until `arr_pre` rises again it must not change.\n"
        f"* The TDC samples it at the edge `E + m + {SYNC_STAGES}`, when the comparator has "
        f"come through the {SYNC_STAGES} synchroniser flip-flops: it must be valid a flip-flop "
        f"setup time before that edge, i.e. at most {SYNC_STAGES}·T − t_setup after `E + m` "
        f"(a {SYNC_STAGES}-cycle multicycle path in `hdl/mram_macro.sdc`), and hold is met "
        "because it stays until the next precharge.\n"
        "* Before the trip (while `arr_cmp[c]` is low) its value is ignored; the kit's pin "
        "models drive 0. The VMM timing diagram (section 6, top) shows it.\n\n"
        "**Phase generator** (outside the macro, e.g. a DLL locked to `clk`): K phases `T/K` "
        "apart, shared by every column's samplers.\n\n"
        "* Lock before the first evaluation: the macro has no lock input, so keep `rst` high "
        "or send no vector until the generator has locked.\n"
        "* Static error of each phase against its nominal time: below the trip residue ("
        + ", ".join(f"{ps:.0f} ps at {t:g} ns" for t, ps in residue_ps)
        + ") with the ideal FINE_TABLE; with a code-density FINE_TABLE a common skew is "
        "removed, and only the error between neighbouring phases must stay below it (a larger "
        "one puts two trip positions into one bin, which no table separates).\n"
        "* Jitter (RMS, each phase against `clk`): moves a trip across a bin edge once it "
        "exceeds the residue; keep it under a fifth of the residue ("
        + ", ".join(f"{ps / 5:.0f} ps at {t:g} ns" for t, ps in residue_ps)
        + ": 5 σ, under 1e-6 of trips moved).\n")
