"""The committed coarse-mode transfer curve (docs/coarse_transfer.png) is what the generator
draws today (``make hdl`` regenerates it), and the datasheet shows it."""

from pathlib import Path

from mram_macro.docs.coarse_docs import TRANSFER_PLOT, datasheet_section, transfer_plot

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_transfer_plot_is_current(tmp_path):
    committed = DOCS / TRANSFER_PLOT
    assert committed.exists(), f"{committed} missing: run `make hdl`"
    fresh = transfer_plot(tmp_path / TRANSFER_PLOT)
    assert fresh.read_bytes() == committed.read_bytes(), (
        f"{committed} is stale: run `make hdl` and commit it")


def test_datasheet_links_the_plot_and_states_the_clock_assumption():
    text = datasheet_section()
    assert f"]({TRANSFER_PLOT})" in text
    assert "counts periods of the one periphery clock" in text
    assert f"]({TRANSFER_PLOT})" in (DOCS / "datasheet.md").read_text()
