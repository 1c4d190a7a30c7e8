"""The committed PPA results (docs/ppa/) and the README's PPA table and plots agree.

`make ppa` measures (15 minutes of gate-level simulation) and publishes; this test re-renders the
table and the plots from the committed docs/ppa/ppa.json and fails if the README or a committed
plot differs, so neither can drift from the measurement it shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mram_macro.ppa.report import BEGIN, DOCS_DIR, END, plots, readme_block, render_readme

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


def test_plots_are_current(results, tmp_path):
    for fresh in plots(results, tmp_path):
        committed = DOCS_DIR / fresh.name
        assert committed.exists(), f"{committed} missing: run `make ppa`"
        assert committed.read_bytes() == fresh.read_bytes(), f"{committed.name} is stale"


def test_render_refuses_a_document_without_markers(results):
    with pytest.raises(ValueError, match="has no"):
        render_readme("# no markers here\n", results)


def test_headline_figures_are_measured(results):
    for r in results:
        assert r["sta"]["passed"], r["library"]
        assert r["window"]["vmms"] >= 1 and r["window"]["cycles"] > 0
        assert r["digital_J"]["total"] > 0 and r["tops_per_W"] > 0
