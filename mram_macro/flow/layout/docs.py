"""``python -m mram_macro.flow.layout.docs``: render docs/layout.md from the published layout
results (docs/layout/*.json) and the prose of :mod:`mram_macro.flow.layout.__main__`, without
running the flow (``make layout`` does this after a run)."""

from __future__ import annotations

from mram_macro.flow.layout.__main__ import DOCS_DIR, render_docs

if __name__ == "__main__":
    path = DOCS_DIR.parent / "layout.md"
    path.write_text(render_docs())
    print(f"rendered {path}")
