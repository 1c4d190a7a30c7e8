"""The committed PPA results (docs/ppa/) and the README's PPA table and plots agree.

`make ppa` measures (15 minutes of gate-level simulation) and publishes; this test re-renders the
table and the plots from the committed docs/ppa/ppa.json and fails if the README or a committed
plot differs, so neither can drift from the measurement it shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mram_macro.design.config import MacroConfig
from mram_macro.explore.features import (
    CLOCKS_KEY,
    DIGEST_KEY,
    RTL_KEY,
    measured_on_other_rtl,
    rtl_changes,
)
from mram_macro.flow.ppa.breakdown import area_shares, energy_shares, plots
from mram_macro.flow.ppa.report import (
    BEGIN,
    DOCS_DIR,
    END,
    LAYOUT_DIR,
    PPA_DOC,
    PROFILES_BEGIN,
    PROFILES_END,
    PROFILES_FILE,
    STA_BEGIN,
    STA_END,
    SUMMARY_BEGIN,
    SUMMARY_END,
    baseline_config,
    profiles_markdown,
    readme_block,
    readme_summary,
    render_readme,
    routed_figures,
    routed_result,
    summary_markdown,
    timing_markdown,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def results():
    path = DOCS_DIR / "ppa.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make ppa` and commit docs/ppa/")
    return json.loads(path.read_text())


def test_readme_table_is_current(results):
    text = README.read_text()
    assert BEGIN in text and END in text
    assert readme_block(results) in text, "README's PPA table is stale: run `make ppa`"


def test_readme_summary_is_current(results):
    """The README's headline energy, TOPS/W, area and slack sentences are generated from the
    JSON: no figure in them is typed by hand."""
    text = README.read_text()
    assert f"{SUMMARY_BEGIN}\n{readme_summary(results)}{SUMMARY_END}" in text, \
        "README's PPA summary is stale: run `make ppa` (or `make layout`)"


def _headline(results):
    return next(r for r in results if r["library"] == "nangate45")


def test_readme_headline_is_the_post_route_figure_of_this_rtl(results):
    """The default build is routed on the current RTL, so the README's headline energy and
    TOPS/W are the post-route ones: the routed digital energy plus make ppa's analogue terms,
    the same sum and the same digits as docs/layout/<slug>.json."""
    r = _headline(results)
    routed = routed_result(r)
    assert routed is not None, ("the default build's layout (docs/layout/) is missing or was "
                                "routed on other RTL: run `make layout`")
    f = routed_figures(r, routed)
    assert f["total_J"] == pytest.approx(routed["digital_post_J"]["total"]
                                         + r["analog_J"]["per_vmm_J"], rel=1e-12)
    assert routed["analog_per_vmm_J"] == pytest.approx(r["analog_J"]["per_vmm_J"], rel=1e-12), \
        "the routed result's analogue figure is not make ppa's: run `make layout` again"
    assert routed["tops_per_W_post"] == pytest.approx(f["tops_per_W"], rel=1e-12)
    text = " ".join(README.read_text().split())
    assert ("**placed and routed** (`make layout`" in text
            and f"digital periphery **{f['digital_J'] * 1e12:.0f} pJ per VMM**" in text
            and f"**{f['total_J'] * 1e12:.0f} pJ per VMM = {f['tops_per_W']:.1f} TOPS/W at "
                f"45 nm**" in text), "README's headline is not the post-route figure"
    # The pre-layout figures follow, unbolded: one bold headline.
    assert f"**{r['total_J'] * 1e12:.0f} pJ per VMM = {r['tops_per_W']:.1f}" not in text


def test_a_stale_or_foreign_layout_is_not_the_headline(results, tmp_path):
    """A layout routed on other RTL, of another library or of another build is not used: the
    summary then says the figures are before layout."""
    r = _headline(results)
    routed = routed_result(r)
    assert routed is not None
    slug = routed["slug"]

    def with_layout(**change):
        row = {**routed, **change}
        (tmp_path / f"{slug}.json").write_text(json.dumps(row))
        return routed_result(r, tmp_path)

    assert with_layout() == routed
    ff = dict(routed["rtl_flip_flops"])
    ff["tdc"] += 1
    assert with_layout(rtl_flip_flops=ff) is None
    assert with_layout(library="osu018") is None
    assert with_layout(config={**routed["config"], "rows": 32}) is None
    row = dict(routed)
    del row["rtl_flip_flops"]
    (tmp_path / f"{slug}.json").write_text(json.dumps(row))
    assert routed_result(r, tmp_path) is None
    (tmp_path / f"{slug}.json").unlink()
    assert routed_result(r, tmp_path) is None
    text = readme_summary(results, tmp_path)
    assert "not placed and routed on this RTL" in text
    assert f"**{r['digital_J']['total'] * 1e12:.0f} pJ per VMM**" in text
    assert text == summary_markdown(results)
    assert LAYOUT_DIR.name == "layout"


def test_timing_table_in_docs_is_current(results):
    text = PPA_DOC.read_text()
    assert STA_BEGIN in text and STA_END in text
    assert f"{STA_BEGIN}\n{timing_markdown(results)}{STA_END}" in text, \
        "docs/ppa.md's timing table is stale: run `make ppa`"


@pytest.fixture(scope="module")
def profiles():
    return json.loads((DOCS_DIR / PROFILES_FILE).read_text())


def test_plots_are_current(results, profiles, tmp_path):
    for fresh in plots(results, tmp_path, profiles):
        committed = DOCS_DIR / fresh.name
        assert committed.exists(), f"{committed} missing: run `make ppa`"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"{committed.name} is stale: `python -m mram_macro.flow.ppa plot` redraws it from the "
            f"committed JSON")


def test_plots_read_at_page_width_on_linear_axes(results, profiles, tmp_path, monkeypatch):
    """The plots are drawn from the committed JSON on linear axes (a log axis hid the clock's
    share), every share of every row shown, and fit a page (at most 1,600 px wide)."""
    import matplotlib.pyplot as plt

    axes = []
    monkeypatch.setattr(plt.Figure, "savefig", _recording_savefig(plt.Figure.savefig, axes))
    paths = plots(results, tmp_path, profiles)
    assert [p.name for p in paths] == ["ppa_energy.png", "ppa_area.png"]
    for path in paths:
        height, width = plt.imread(path).shape[:2]
        assert 600 <= width <= 1600 and height <= 1200, (path.name, width, height)
    rows = len(results) + len(profiles) - 1
    assert len(axes) == 2
    for ax in axes:
        assert ax.get_xscale() == "linear" and ax.get_yscale() == "linear"
        assert ax.get_xlim() == (0.0, 100.0)
        assert len(ax.get_yticklabels()) == rows
    energy_legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert any(t.startswith("clock") for t in energy_legend)
    assert {"data", "leakage"} <= set(energy_legend)


def _recording_savefig(savefig, axes: list):
    def record(fig, *args, **kwargs):
        axes.extend(fig.axes)
        return savefig(fig, *args, **kwargs)

    return record


def test_plot_shares_add_up_to_the_totals(results, profiles):
    """The clock share the energy plot shows is the digital clock energy over the macro's."""
    for r in [*results, *profiles]:
        e = energy_shares(r)
        assert sum(e.values()) == pytest.approx(r["total_J"], rel=1e-9)
        assert e["clock"] == r["digital_J"]["clock"]
        assert sum(area_shares(r).values()) == pytest.approx(r["area_hier_um2"], rel=1e-9)
    # the tracker build's retrim and gain multipliers sit behind clock gates: its clocks are no
    # longer most of its energy (they were 60 % of it before, 366 of 614 pJ per VMM)
    tracker = next(r for r in profiles if r["profile"] == "tracker")
    assert energy_shares(tracker)["clock"] / tracker["total_J"] < 0.3


@pytest.mark.parametrize("drop", ["clock", "data", "leakage"])
def test_plots_refuse_a_result_without_a_share(results, tmp_path, drop):
    broken = json.loads(json.dumps(results))
    del broken[0]["digital_J"][drop]
    with pytest.raises(ValueError, match=f"no '{drop}' energy share"):
        plots(broken, tmp_path)
    assert not list(tmp_path.iterdir()), "nothing is written for a result it refuses"


def test_plots_refuse_shares_that_do_not_add_up(results, tmp_path):
    broken = json.loads(json.dumps(results))
    broken[0]["digital_J"]["clock"] *= 2
    with pytest.raises(ValueError, match="add up to"):
        plots(broken, tmp_path)
    broken = json.loads(json.dumps(results))
    del broken[1]["area_blocks_um2"]["mram_macro.tdc"]
    with pytest.raises(ValueError, match=r"area shares .* add up to"):
        plots(broken, tmp_path)


def test_replot_from_the_committed_json(tmp_path):
    """`python -m mram_macro.flow.ppa plot` redraws the committed plots from the JSON alone."""
    from mram_macro.flow.ppa.__main__ import main

    assert main(["plot", "--out", str(tmp_path)]) == 0
    for name in ("ppa_energy.png", "ppa_area.png"):
        assert (tmp_path / name).read_bytes() == (DOCS_DIR / name).read_bytes()
    assert main(["plot", "--json-dir", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2


def test_render_refuses_a_document_without_markers(results):
    with pytest.raises(ValueError, match="has no"):
        render_readme("# no markers here\n", results)


def test_headline_figures_are_measured(results):
    """The published run signed off (every group, hold with the uncertainty), measured a
    steady-state window of at least 40 VMMs, and accounted with the Liberty tables."""
    for r in results:
        sta = r["sta"]
        assert sta["passed"] and not sta["failures"], (r["library"], sta["failures"])
        assert sta["hold_wns_ns"] >= 0 and sta["uncertainty_ns"] >= 0.1
        assert sta["ff_wns_ns"] >= 0.1 * r["period_ns"]
        assert {"flip_flops", "inputs", "outputs"} <= set(sta["groups"])
        assert r["window"]["vmms"] >= 40 and r["window"]["steady_state"]
        assert r["window"]["cycles"] > 0
        assert r["accounting"].startswith("Liberty tables")
        assert r["digital_J"]["total"] > 0 and r["tops_per_W"] > 0
        assert sum(a["total"] for a in r["anatomy"].values()) == \
            pytest.approx(r["digital_J"]["total"], rel=1e-9)


def test_readme_digits_cost_per_image_is_the_published_one():
    """The README's energy and latency per image of the digits demo (1,928 passes and 256 row
    writes for 450 images) are what the demo computes from the published JSON of the build
    the network runs on (the ``full`` profile, measured on NanGate 45 nm)."""
    from mram_macro.docs.published import published_results_of
    from mram_macro.flow.ppa.report import inference_cost
    from mram_macro.nn.evaluate import NETWORK_CONFIG

    text = " ".join(README.read_text().split())
    by_lib = {r["library"]: r for r in published_results_of(NETWORK_CONFIG)}
    assert set(by_lib) == {"nangate45"}
    energy_J, latency_ns = inference_cost(by_lib["nangate45"], vmms=1800 + 128, row_writes=256)
    quoted = (f"{energy_J / 450 * 1e9:.2f} nJ and {latency_ns / 450 / 1e3:.2f} µs per image "
              f"at 45 nm")
    assert quoted in text, f"README's digits cost is stale: expected {quoted!r}"


def test_profile_table_in_docs_is_current(results):
    """Every feature profile has its measured row, the default's is the published default
    macro's, and docs/ppa.md shows exactly those rows."""
    from mram_macro.design.config import PROFILES, MacroConfig, profile_config

    path = DOCS_DIR / PROFILES_FILE
    assert path.exists(), f"{path} is missing: run `make ppa` and commit docs/ppa/"
    rows = json.loads(path.read_text())
    assert [r["profile"] for r in rows] == list(PROFILES)
    for r in rows:
        assert MacroConfig.from_dict(r["config"]) == profile_config(r["profile"]), r["profile"]
        assert r["library"] == "nangate45", r["profile"]
    # The default (plain) and the full macro sign off; a profile that does not is shown as FAIL.
    assert all(r["sta"]["passed"] for r in rows if r["profile"] in ("plain", "full"))
    default = next(x for x in results if x["library"] == "nangate45")
    assert rows[0]["digital_J"] == default["digital_J"], \
        "the default profile's row is not the published default macro's: run `make ppa`"
    text = PPA_DOC.read_text()
    assert f"{PROFILES_BEGIN}\n{profiles_markdown(rows)}{PROFILES_END}" in text, \
        "docs/ppa.md's profile table is stale: run `make ppa`"


def test_published_figures_are_of_this_rtl(results, profiles):
    """Every published row (both libraries, every profile) was measured on the RTL that its
    configuration builds now: any change of the RTL makes the README's figures stale until
    `make ppa` runs again."""
    stale = [f"{r.get('profile', 'default')} on {r['library']}"
             for r in [*results, *profiles] if measured_on_other_rtl(r)]
    assert not stale, f"published PPA rows measured on other RTL: {stale}; run `make ppa`"


def test_a_changed_rtl_is_seen_as_stale(results):
    row = dict(results[0], rtl_flip_flops=dict(results[0]["rtl_flip_flops"]))
    assert not measured_on_other_rtl(row)
    row["rtl_flip_flops"]["tdc"] += 1
    assert measured_on_other_rtl(row)
    with pytest.raises(KeyError, match="re-measure"):
        measured_on_other_rtl({"config": row["config"], "profile": "x"})


def test_registers_moved_to_another_clock_are_seen_as_stale(results):
    """Registers that move onto the free-running clock (or behind another gate) with every
    block keeping its count make a record stale: the gain builds' gates (2026-12-08) halved
    their energy with the same registers per block, which the count alone did not see."""
    row = json.loads(json.dumps(results[0]))
    assert not measured_on_other_rtl(row)
    clocks = row[CLOCKS_KEY]["tdc"]
    gated = next(k for k in clocks if k != "clk")
    clocks[gated] -= 8
    clocks["clk"] = clocks.get("clk", 0) + 8
    assert measured_on_other_rtl(row)
    row[CLOCKS_KEY] = None          # the ungated reference's records carry none
    row[DIGEST_KEY] = None
    assert not measured_on_other_rtl(row)


def test_a_combinational_change_is_seen_as_stale(monkeypatch):
    """A change of the logic alone (the same registers per block and per clock) makes a record
    stale: the TDC's columns with and without their enable multiplexers (2026-12-08: 4.3 pJ
    per VMM apart at NanGate 45 nm) differ in the digest only."""
    import mram_macro.rtl.top as top
    from mram_macro.explore import features as feats

    config = baseline_config()
    record = {"config": config.to_dict(), **feats.rtl_fingerprint(config)}
    assert feats.rtl_changes(record) == []
    tdc = top.Tdc
    monkeypatch.setattr(top, "Tdc", lambda **kw: tdc(**{**kw, "columns_gated": False}))
    feats.features.cache_clear()
    try:
        assert feats.rtl_changes(record) == ["the logic"]
    finally:
        monkeypatch.undo()
        feats.features.cache_clear()


def _published_records() -> list[Path]:
    from mram_macro.explore.model import FIT_RUNS_JSON, PROFILES_JSON
    from mram_macro.flow.ppa.report import DOCS_DIR, LAYOUT_DIR
    from mram_macro.nn.mnist_cost import PPA_JSON

    return [DOCS_DIR / "ppa.json", PROFILES_JSON, PPA_JSON, FIT_RUNS_JSON,
            FIT_RUNS_JSON.with_name("explore_check.json"), *sorted(LAYOUT_DIR.glob("*.json"))]


@pytest.mark.parametrize("path", _published_records(), ids=lambda p: p.name)
def test_every_published_record_carries_the_fingerprints(path):
    """So the staleness checks (ppa, explore, layout, MNIST) see a change of clocking, and of
    the logic alone, too."""
    data = json.loads(path.read_text())
    for r in data if isinstance(data, list) else [data]:
        assert r[RTL_KEY] and r[CLOCKS_KEY] and r[DIGEST_KEY], r.get("name") or r.get("library")
        assert not measured_on_other_rtl(r), (r.get("name") or r.get("library"), rtl_changes(r))


def test_published_analogue_terms_are_the_current_models(results, profiles):
    """Every published row's analogue terms, macro energy and TOPS/W are what the analogue
    model gives now at the row's measured operating point: a change of the model must be
    carried into the published figures (`python -m mram_macro.flow.ppa analog`)."""
    from mram_macro.flow.ppa.analog_refresh import stale_analog
    from mram_macro.nn.mnist_cost import PPA_JSON

    network = json.loads(PPA_JSON.read_text())
    assert all("analog_inputs" in r for r in [*results, *profiles, *network])
    assert stale_analog([*results, *profiles, *network]) == [], \
        "published analogue figures are stale: run `python -m mram_macro.flow.ppa analog`"


def test_a_changed_analogue_model_is_seen_and_refreshed(results, profiles, tmp_path,
                                                          monkeypatch):
    """Mutation: the sampler flip-flop's clock energy 10 % higher makes every two-step row
    stale; the refresh recomputes the rows, the totals and TOPS/W, the README's figures and
    the routed layout's TOPS/W, into copies, from the stored operating points; a row measured
    before rows kept one is refused once the model no longer reproduces it."""
    import shutil

    from mram_macro.flow.ppa import analog
    from mram_macro.flow.ppa.analog_refresh import (
        recovered_inputs,
        refresh_published,
        stale_analog,
    )

    row = _headline(results)
    bare = {k: v for k, v in row.items() if k != "analog_inputs"}
    assert recovered_inputs(bare) == pytest.approx(row["analog_inputs"], rel=1e-9)
    monkeypatch.setitem(analog.NANGATE45, "dffr_clock_fJ",
                        analog.NANGATE45["dffr_clock_fJ"] * 1.1)
    assert len(stale_analog([*results, *profiles])) == len(results) + len(profiles)
    with pytest.raises(ValueError, match="re-measure"):
        recovered_inputs(bare)
    docs, lay = tmp_path / "docs" / "ppa", tmp_path / "docs" / "layout"
    shutil.copytree(DOCS_DIR, docs)
    shutil.copytree(LAYOUT_DIR, lay)
    shutil.copy(PPA_DOC, docs.parent / "ppa.md")
    readme = tmp_path / "README.md"
    shutil.copy(README, readme)
    lines = refresh_published(docs, lay, readme)
    assert any("post-route" in x for x in lines)
    new = json.loads((docs / "ppa.json").read_text())
    assert stale_analog(new) == []
    h = _headline(new)
    assert h["analog_J"]["samplers_J"] > row["analog_J"]["samplers_J"]
    assert h["total_J"] == pytest.approx(h["analog_J"]["per_vmm_J"] + row["digital_J"]["total"])
    assert h["digital_J"] == row["digital_J"]
    routed = json.loads((lay / f"{MacroConfig.from_dict(h['config']).slug}.json").read_text())
    assert routed["analog_per_vmm_J"] == h["analog_J"]["per_vmm_J"]
    text = readme.read_text()
    assert f"{SUMMARY_BEGIN}\n{readme_summary(new, lay)}{SUMMARY_END}" in text
    assert f"{h['tops_per_W']:.1f} TOPS/W at 45 nm" in " ".join(text.split())
