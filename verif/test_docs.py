"""The datasheet and its timing diagrams are current, and the facts it derives hold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mram_macro.design.config import LIMITS, STREAM_WIDTHS, ConfigError, profile_config
from mram_macro.docs.generate import (
    WAVE_FILES,
    WAVE_MAX_WIDTH_PX,
    port_rows,
    readout_numbers,
    render_datasheet,
    render_waves,
    svg_width_px,
)
from mram_macro.rtl.top import default_readout

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_datasheet_is_current():
    committed = (DOCS / "datasheet.md").read_text()
    assert committed == render_datasheet(), (
        "docs/datasheet.md is stale: run `make hdl` and commit the result")


def test_timing_diagrams_are_current():
    for name, svg in render_waves().items():
        assert (DOCS / name).read_text() == svg, (
            f"docs/{name} is stale (the RTL's pin timing changed?): run `make hdl`")
    assert set(render_waves()) == set(WAVE_FILES)


def test_timing_diagrams_read_at_page_width():
    """Every diagram, the 39-cycle row write included, fits WAVE_MAX_WIDTH_PX (the row write was
    4,344 px, then 1,700 px, in WaveDrom's default skin)."""
    for name, svg in render_waves().items():
        assert svg_width_px(svg) <= WAVE_MAX_WIDTH_PX, name
        assert svg_width_px((DOCS / name).read_text()) <= WAVE_MAX_WIDTH_PX, name
    assert svg_width_px((DOCS / "wave_row_write.svg").read_text()) <= 1000
    with pytest.raises(ValueError, match="no numeric width"):
        svg_width_px('<svg viewBox="0 0 10 10"></svg>')


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_parameter_limits_are_what_macroconfig_accepts(name):
    """The datasheet's legal ranges: the ends are accepted (where the cross-checks allow), one
    beyond is refused."""
    lo, hi = LIMITS[name]
    base = profile_config("full", rows=8, cols=8, tdc_bits=4, result_width=8)
    for value, ok in ((lo - 1, False), (hi + 1, False), (lo, True), (hi, True)):
        kwargs = {name: value}
        if name == "rows" and value > 8:
            kwargs.update(tdc_bits=9, result_width=10)
        if name == "tdc_bits" and ok:
            kwargs.update(rows=min(8, (1 << value) - 1), result_width=max(8, value))
        if name == "tdc_fine_taps":
            # only a two-step TDC takes it, with at least one coarse bit beside the fine ones
            kwargs.update(tdc_mode="two_step", tdc_bits=max(4, value.bit_length()),
                          result_width=max(8, value.bit_length()))
        if name == "result_width" and value == lo:
            # no configuration reaches the bare lower end: one pass of 2 rows needs 3 bits
            kwargs.update(rows=2, tdc_bits=2)
            if ok:
                with pytest.raises(ConfigError, match="cannot hold one pass"):
                    dataclasses.replace(base, **kwargs)
                kwargs[name] = value + 1
        if ok:
            dataclasses.replace(base, **kwargs)
        else:
            with pytest.raises(ConfigError):
                dataclasses.replace(base, **kwargs)


def test_stream_widths_are_what_macroconfig_accepts():
    for w in STREAM_WIDTHS:
        profile_config("full", stream_width=w)
    for w in (4, 24, 1024):
        with pytest.raises(ConfigError):
            profile_config("full", stream_width=w)


def test_port_table_covers_the_rtl_with_right_widths():
    for config in (profile_config("full"), profile_config("full", rows=12, cols=5, tdc_bits=4,
                                                          result_width=6,
                                              stream_width=16)):
        rows = port_rows(config)
        names = [r[0] for r in rows]
        assert len(names) == len(set(names))
        assert {"clk", "rst", "arr_cmp", "s_axil_rdata", "m_axis_tuser"} <= set(names)


@pytest.mark.parametrize("config", [profile_config("full"), profile_config("full", rows=12,
                                                                           cols=4, tdc_bits=4),
                                    profile_config("full", rows=12, cols=4, tdc_bits=4,
                                                   tdc_mode="counter")],
                         ids=lambda c: c.slug)
def test_stated_comparator_delay_window_gives_exact_codes(config):
    """Inside the window the datasheet states, every mismatch count k reads as code k with the
    reset TDC_START_DELAY; just outside it, some does not."""
    from sim_models.device import DeviceParams
    from sim_models.readout import evaluate_codes

    n = readout_numbers(config)
    device = DeviceParams()
    ro = default_readout(config, device)
    k = np.arange(config.rows + 1)
    r_col = config.rows * device.r_cell_low_ohm + k * device.delta_r_ohm

    def codes_with_delay(t_cmp_ns):
        shifted = dataclasses.replace(ro, t_cmp_delay_ns=t_cmp_ns)
        return evaluate_codes(r_col, device=device, readout=shifted, rows=config.rows,
                              tdc_bits=config.tdc_bits,
                              start_delay_cycles=ro.start_delay_cycles)[0]

    lo, hi = n["vmm_cmp_lo_ns"], n["vmm_cmp_hi_ns"]
    # the constant delay may be negative with a comparator, never the total (cmp_floor_ns)
    low = max(lo, n["cmp_floor_ns"])
    for t in (low + 1e-3, (low + hi) / 2, hi - 1e-3):
        assert (codes_with_delay(t) == k).all(), t
    assert not (codes_with_delay(hi + 1e-3) == k).all()
    if lo - 1e-3 > n["cmp_floor_ns"]:
        assert not (codes_with_delay(lo - 1e-3) == k).all()


@pytest.mark.parametrize("config", [profile_config("full"), profile_config("full", rows=12,
                                                                           cols=4, tdc_bits=4),
                                    profile_config("full", rows=12, cols=4, tdc_bits=4,
                                                   tdc_mode="counter")],
                         ids=lambda c: c.slug)
def test_stated_write_verify_window_reads_low_and_high_right(config):
    """Inside the write-verify window the datasheet states, the reset WV_READ reads a nominal
    low MTJ as low and a high one as high; just outside it, one of them reads wrong (issue 22:
    the two-step datasheet once stated 52.7-53.3 ns, the threshold taken as whole periods)."""
    from sim_models.device import DeviceParams
    from sim_models.readout import evaluate_codes
    from sim_models.write_model import single_read_delay_and_threshold

    n = readout_numbers(config)
    device = DeviceParams()
    ro = default_readout(config, device)
    single = single_read_delay_and_threshold(config.rows, device, ro, config.tdc_bits)
    r_string = (2 * config.rows - 1) * device.r_bypass_on_ohm
    r = np.array([r_string + device.r_mtj_low_ohm, r_string + device.r_mtj_high_ohm])

    def reads_right(t_cmp_ns):
        shifted = dataclasses.replace(ro, t_cmp_delay_ns=t_cmp_ns)
        codes, overflow = evaluate_codes(r, device=device, readout=shifted, rows=config.rows,
                                         tdc_bits=config.tdc_bits,
                                         start_delay_cycles=single.start_delay_cycles)
        return single.reads_low(codes, overflow).tolist() == [True, False]

    lo, hi = n["wv_cmp_lo_ns"], n["wv_cmp_hi_ns"]
    # the constant delay may be negative with a comparator, never the total (cmp_floor_ns)
    assert n["cmp_floor_ns"] <= ro.t_cmp_delay_ns and lo < ro.t_cmp_delay_ns < hi
    for t in (max(lo, n["cmp_floor_ns"]) + 1e-3, (max(lo, n["cmp_floor_ns"]) + hi) / 2,
              hi - 1e-3):
        assert reads_right(t), t
    assert not reads_right(hi + 1e-3)
    if lo - 1e-3 >= n["cmp_floor_ns"]:
        assert not reads_right(lo - 1e-3)
    assert n["cmp_lo_ns"] < n["cmp_hi_ns"]               # the combined window is not empty


def test_readme_host_api_example_prints_what_the_readme_says(monkeypatch):
    """The README's host-API example runs as written, and its first-run write_failed is the
    explained one: 3 cells of row 31 on the paper-spread die, every weight right."""
    import contextlib
    import io
    import re
    from pathlib import Path

    from mram_macro.host import Macro

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Running your own data: the host API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    # The example closes its macro, which then refuses every call: read it as it closes.
    at_close = {}
    close = Macro.close

    def read_then_close(macro):
        if not macro._closed:
            at_close.update(status=macro.status(), weights=macro.backend.golden.weights.copy())
        close(macro)

    monkeypatch.setattr(Macro, "close", read_then_close)
    printed = io.StringIO()
    scope: dict = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), scope)   # our own README
    assert printed.getvalue().rstrip().endswith("['write_failed']")
    status, w = at_close["status"], scope["w"]
    assert (status.wv_fail_count, status.wv_fail_row) == (3, 31)
    assert "(here 3, in row 31;" in section
    held = at_close["weights"].astype(int) * 2 - 1
    assert (held == w).all()


def test_device_model_readout_numbers_are_the_designs():
    """docs/device_model.md's trip fraction, V_ref and offset slopes (issue 22: it stated the
    counter's numbers as the default's)."""
    from pathlib import Path

    from sim_models.device import DeviceParams
    from sim_models.readout import design_readout, trip_time_ns

    text = (Path(__file__).resolve().parents[1] / "docs" / "device_model.md").read_text()
    d = DeviceParams()
    for taps, v_ref_text, codes_per_mV in ((1, "`V_ref ≈ 51 mV`", 0.5), (8, "`V_ref ≈ 0.63 V`",
                                                                           1 / 3)):
        ro = design_readout(64, d, fine_taps=taps)
        k = np.arange(65)
        a = (trip_time_ns(64 * d.r_cell_low_ohm + k * d.delta_r_ohm, 64, d, ro)
             / ro.t_fine_ns) % 1
        if taps == 1:
            assert round(a.min(), 3) == round(a.max(), 3) == 0.865
            assert "0.865 for 64 rows\nwith the counter TDC" in text
        else:
            assert (round(a[0], 3), round(a[-1], 3)) == (0.457, 0.775)
            assert "from 0.457 with\nevery cell matching to 0.775 with none" in text
        v_ref = ro.v_ref_V
        assert v_ref_text in text
        assert (round(v_ref * 1e3) == 51) if taps == 1 else (round(v_ref, 2) == 0.63)
        # 1 mV of offset on a 1 MOhm column: dt = R C / V_ref per volt, in TDC steps
        slope = 1e6 * ro.c_col_F(64, d) / v_ref * 1e-3 * 1e9 / ro.t_fine_ns
        assert abs(slope - codes_per_mV) < 0.05 * codes_per_mV + 0.03, (taps, slope)


def test_array_register_resets_and_the_tb_tuser_width():
    """The register table shows each FINE_TABLE element's own reset (K-1 … 0, as the RTL has
    them, not K-1 for all), and tb/mram_macro_tb.v drives s_axis_tuser at its full width."""
    import re
    from pathlib import Path

    from mram_macro.design.layouts import InputFlags
    from mram_macro.rtl.top import macro_regmap

    rm = macro_regmap(profile_config("full"))
    resets = [r.fields[0].reset for r in rm.array("FINE_TABLE")]
    assert resets == list(range(len(resets) - 1, -1, -1))
    row = next(line for line in rm.to_markdown().splitlines() if "FINE_TABLE[" in line)
    assert f"| {', '.join(map(str, resets))} |" in row
    root = Path(__file__).resolve().parents[1]
    assert row in (root / "hdl" / "mram_macro_regs.md").read_text()
    tb = (root / "tb" / "mram_macro_tb.v").read_text()
    assert [int(w) for w in re.findall(r"\.s_axis_tuser\((\d+)'d0\)", tb)] == [InputFlags.size]


def test_architecture_names_every_array_pin_and_the_json_the_phase_count():
    import json
    from pathlib import Path

    from mram_macro.rtl.top import array_members, macro_regmap

    text = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    config = profile_config("full", tdc_mode="two_step", calibration="gain")
    for name in array_members(config):
        assert f"`{name}" in text, name
    for c in (profile_config("full"), profile_config("full", tdc_mode="counter")):
        assert json.loads(macro_regmap(c).to_json())["fine_taps"] == c.fine_taps


def test_datasheet_ppa_section_carries_the_published_numbers():
    """Section 11 is rendered from docs/ppa/ppa.json (issue 22: it said no clock or power was
    stated while the README had the STA-confirmed numbers)."""
    from mram_macro.docs.generate import ppa_section
    from mram_macro.flow.ppa.report import published_results

    results = published_results()
    assert results
    text = ppa_section(results)
    for r in results:
        assert f"{r['period_ns']:g} ns ({1e3 / r['period_ns']:.0f} MHz)" in text
        assert f"{r['sta']['fmax_mhz']:.0f} MHz" in text
        assert f"{r['area_flat_um2'] / 1e6:.4f} mm²" in text
        assert f"{r['total_J'] * 1e9:.3f} nJ" in text and f"{r['tops_per_W']:.2f};" in text
    assert "No clock frequency or power is stated" not in text
    assert ppa_section([]).startswith("No published PPA results")


def test_datasheet_counts_the_clock_gates_of_the_rtl():
    """The clock-gating note names as many ICGs as the generated Verilog instantiates (73 in
    the default build) and says there is no test access."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "hdl" / "mram_macro.v").read_text()
    icgs = len(re.findall(r"^\s*mram_icg\s", text, re.M))
    sheet = (Path(__file__).resolve().parents[1] / "docs" / "datasheet.md").read_text()
    assert icgs > 0 and f"**Clock gating**: {icgs} latch-based" in sheet
    assert "no test mode, scan chain or test access port" in sheet


def test_readme_layout_is_the_tree():
    """Issue 20: the README's Layout section names every module and package of the product and
    of its stage folders (``design/``, ``rtl/``, ``flow/``, ``docs/``): ``mram_macro/x.py``, or
    ``x.py`` in a row whose first path is in the same folder, or ``mram_macro/pkg/``; its tree
    diagram names every package; and every path it names exists: a module added, moved or
    removed makes it fail."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `mram_macro/")]
    named = set()
    for row in rows:
        cell = row.split("|")[1]
        paths = [n.removeprefix("mram_macro/").rstrip("/")
                 for n in re.findall(r"`([A-Za-z_/.]+)`", cell)]
        base = paths[0].rpartition("/")[0]
        for path in paths:
            full = path if "/" in path or not base else f"{base}/{path}"
            parts = full.split("/")
            named |= {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    product = root / "mram_macro"

    def entries(folder: Path, prefix: str = "") -> set[str]:
        return {prefix + p.name for p in folder.iterdir()
                if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
                or (p.is_dir() and (p / "__init__.py").is_file())}

    stages = ("design", "rtl", "flow", "docs")
    wanted = entries(product).union(*(entries(product / s, f"{s}/") for s in stages))
    missing = sorted(e for e in wanted if e not in named)
    assert not missing, f"README's Layout section does not name {missing}"
    diagram = section.split("```", 2)[1]
    packages = sorted(p.name for p in product.iterdir() if (p / "__init__.py").is_file())
    assert not [p for p in packages if f"{p}/" not in diagram], (
        f"README's Layout diagram does not show every package of mram_macro ({packages})")
    for path in re.findall(r"`((?:mram_macro|sim_models|verif|hdl|docs)/[A-Za-z_/.]*)`", section):
        assert (root / path).exists(), f"README's Layout section names {path}, which is gone"
