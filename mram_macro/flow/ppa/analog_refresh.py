"""The analogue terms of the published results, recomputed by the current model.

``make ppa`` measures the digital periphery by gate-level simulation (an hour) and adds the
analogue terms of :mod:`mram_macro.flow.ppa.analog` at the operating point it measured: the
cycles with ``arr_eval`` high, the cycles per VMM and the bypass-line toggles per VMM. Each
published row keeps that operating point (``analog_inputs``), so:

* :func:`stale_analog` finds the rows whose analogue figures the current model no longer gives
  (a test holds that there are none: a change of the model must reach every figure it feeds);
* ``python -m mram_macro.flow.ppa analog`` (:func:`main`) recomputes them (the terms, the
  macro's energy per VMM and TOPS/W) in docs/ppa/ppa.json and ppa_profiles.json, the MNIST
  build's records (docs/mnist/ppa_mnist.json) and its cost per image, the analogue figure and
  TOPS/W of the routed layouts (docs/layout/), and re-renders what shows them, with no
  simulation: the analogue model does not change the digital activity.

Rows measured before they carried ``analog_inputs`` get them back from their own terms
(:func:`recovered_inputs`: the bypass term is linear in the toggles, the always-on comparator
comparison in the evaluation time), accepted only if the model then reproduces every stored
term.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

from mram_macro.design.config import MacroConfig
from mram_macro.flow.ppa.analog import analog_energy, analog_terms

__all__ = ["INPUT_KEYS", "analog_of", "refreshed", "recovered_inputs", "stale_analog",
           "refresh_published", "main"]

#: The operating point a row's analogue terms are computed at (keyword arguments of
#: :func:`mram_macro.flow.ppa.analog.analog_energy` besides the design).
INPUT_KEYS = ("t_clk_ns", "eval_cycles", "vmm_cycles", "bypass_toggles_per_vmm")
#: What a term states besides its value, which must be the model's too.
_TEXT = ("title", "kind", "formula", "operating_point", "source")
#: Relative tolerance of "the model gives the stored figure" (float round-off only).
REL_TOL = 1e-9


def _design_args(row: dict) -> dict:
    from mram_macro.design.macro import MacroDesign

    config = MacroConfig.from_dict(row["config"])
    design = MacroDesign.derive(config, t_clk_ns=row["period_ns"])
    return dict(config=config, device=design.device, readout=design.readout)


def analog_of(row: dict, inputs: dict | None = None):
    """(:class:`~mram_macro.flow.ppa.analog.AnalogEnergy`, terms) of a published row by the
    current model at its operating point (``inputs``, default the row's ``analog_inputs``).

    Raises:
        KeyError: the row has no ``analog_inputs`` (run ``python -m mram_macro.flow.ppa
            analog`` to add them)."""
    if inputs is None:
        if "analog_inputs" not in row:
            raise KeyError(f"the {row.get('library', '?')} row of "
                           f"{MacroConfig.from_dict(row['config']).slug} has no analog_inputs: "
                           f"run `python -m mram_macro.flow.ppa analog`")
        inputs = row["analog_inputs"]
    args = {**_design_args(row), **{k: inputs[k] for k in INPUT_KEYS}}
    return analog_energy(**args), analog_terms(**args)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-30)


def _same_terms(stored: dict, energy) -> bool:
    fresh = {**asdict(energy), "per_vmm_J": energy.per_vmm_J}
    return set(stored) == set(fresh) and all(_close(stored[k], fresh[k]) for k in fresh)


def recovered_inputs(row: dict) -> dict:
    """The operating point of a row measured before rows kept it: vmm cycles as published, the
    bypass toggles from the bypass term (linear in them), the evaluation cycles from the
    always-on comparator comparison (linear in the evaluation time).

    Raises:
        ValueError: the model does not reproduce the row's stored terms at the recovered point
            (the analogue model changed since the row was measured: re-measure it)."""
    probe = {"t_clk_ns": row["period_ns"], "eval_cycles": 1.0,
             "vmm_cycles": row["cycles_per_vmm"], "bypass_toggles_per_vmm": 1.0}
    energy, terms = analog_of(row, probe)
    stored_terms = {t["key"]: t["value_J"] for t in row["analog_terms"]}
    unit = {t.key: t.value_J for t in terms}
    inputs = dict(probe)
    inputs["bypass_toggles_per_vmm"] = row["analog_J"]["bypass_J"] / energy.bypass_J
    inputs["eval_cycles"] = stored_terms["comparator_always_on"] / unit["comparator_always_on"]
    try:
        energy, _ = analog_of(row, inputs)
    except ValueError:              # an operating point the model refuses: not this model's
        energy = None
    if energy is None or not _same_terms(row["analog_J"], energy):
        raise ValueError(f"the current analogue model does not reproduce the stored terms of "
                         f"the {row['library']} row of "
                         f"{MacroConfig.from_dict(row['config']).slug}: re-measure it "
                         f"(`make ppa`)")
    return inputs


def refreshed(row: dict) -> dict:
    """``row`` with its analogue terms, the macro's energy per VMM and TOPS/W by the current
    model (its digital figures untouched)."""
    energy, terms = analog_of(row)
    out = dict(row)
    out["analog_J"] = {**asdict(energy), "per_vmm_J": energy.per_vmm_J}
    out["analog_terms"] = [asdict(t) for t in terms]
    out["energy_J"] = {**row["energy_J"], "array": energy.per_vmm_J}
    out["total_J"] = energy.per_vmm_J + row["digital_J"]["total"]
    out["tops_per_W"] = row["ops_per_vmm"] / out["total_J"] / 1e12
    return out


def stale_analog(rows: list[dict]) -> list[str]:
    """The rows (``library/slug``) whose stored analogue figures the current model, at their
    stored operating point, does not give; a row without an operating point counts as stale."""
    out = []
    for r in rows:
        name = f"{r['library']}/{MacroConfig.from_dict(r['config']).slug}"
        try:
            fresh = refreshed(r)
        except KeyError:
            out.append(f"{name} (no analog_inputs)")
            continue
        if not (_same_terms(r["analog_J"], analog_of(r)[0])
                and _close(r["total_J"], fresh["total_J"])
                and _close(r["energy_J"]["array"], fresh["energy_J"]["array"])
                and [t["key"] for t in r["analog_terms"]]
                == [t["key"] for t in fresh["analog_terms"]]
                and all(_close(a["value_J"], b["value_J"])
                        and {k: a[k] for k in _TEXT} == {k: b[k] for k in _TEXT}
                        for a, b in zip(r["analog_terms"], fresh["analog_terms"], strict=True))):
            out.append(name)
    return out


def _with_inputs(row: dict) -> dict:
    if "analog_inputs" in row:
        return row
    return {**row, "analog_inputs": recovered_inputs(row)}


def refresh_published(docs_dir: Path | None = None, layout_dir: Path | None = None,
                      readme: Path | None = None) -> list[str]:
    """Recompute the analogue figures of docs/ppa/ppa.json, ppa_profiles.json and the routed
    layouts, and re-render the README, docs/ppa.md and docs/layout.md; what changed, as lines."""
    from mram_macro.flow.ppa.report import (
        DOCS_DIR,
        LAYOUT_DIR,
        PROFILES_FILE,
        publish,
        published_profiles,
        published_results,
        render_summary,
    )

    docs_dir = docs_dir or DOCS_DIR
    layout_dir = layout_dir or LAYOUT_DIR
    before = published_results(docs_dir)
    if not before:
        raise ValueError(f"{docs_dir / 'ppa.json'} is missing: run `make ppa`")
    before_profiles = published_profiles(docs_dir)
    results = [refreshed(_with_inputs(r)) for r in before]
    profiles = [refreshed(_with_inputs(r)) for r in before_profiles]
    # publish() writes the JSON, the plots, the README's table and summary, docs/ppa.md
    publish(results, docs_dir=docs_dir, readme=readme,
            profiles=profiles if (docs_dir / PROFILES_FILE).is_file() else None)
    lines = [f"{r['library']} {r.get('profile', 'default')}: macro {a['total_J'] * 1e12:.2f} -> "
             f"{r['total_J'] * 1e12:.2f} pJ per VMM ({r['tops_per_W']:.2f} TOPS/W)"
             for a, r in zip([*before, *before_profiles], [*results, *profiles], strict=True)]
    lines += refresh_layouts(results, layout_dir)
    if docs_dir == DOCS_DIR:
        lines += refresh_network_cost()
    # the summary again, with the layouts as refreshed
    render_summary(readme or docs_dir.parents[1] / "README.md", results, layout_dir)
    if docs_dir == DOCS_DIR:
        from mram_macro.docs.datasheet import ROOT, render_datasheet

        (ROOT / "docs" / "datasheet.md").write_text(render_datasheet())
    return lines


def refresh_layouts(results: list[dict], layout_dir: Path) -> list[str]:
    """The routed layouts' analogue figure (make ppa's, for the same build and library) and
    their macro TOPS/W, then docs/layout.md; the layouts themselves are not re-run."""
    lines = []
    for path in sorted(layout_dir.glob("*.json")):
        lay = json.loads(path.read_text())
        row = next((r for r in results if r["library"] == lay["library"]
                    and MacroConfig.from_dict(r["config"]) == MacroConfig.from_dict(
                        lay["config"])), None)
        if row is None or "analog_per_vmm_J" not in lay:
            continue
        analog, ops = row["analog_J"]["per_vmm_J"], lay["ops_per_vmm"]
        lay["analog_per_vmm_J"] = analog
        lay["tops_per_W_pre"] = ops / (analog + lay["digital_pre_J"]["total"]) / 1e12
        lay["tops_per_W_post"] = ops / (analog + lay["digital_post_J"]["total"]) / 1e12
        path.write_text(json.dumps(lay, indent=1) + "\n")
        lines.append(f"layout {path.stem}: post-route macro {lay['tops_per_W_post']:.2f} TOPS/W")
    if lines and layout_dir.name == "layout":
        from mram_macro.flow.layout.__main__ import render_docs

        (layout_dir.parent / "layout.md").write_text(render_docs(layout_dir))
    return lines


def refresh_network_cost() -> list[str]:
    """The MNIST build's measured records (docs/mnist/ppa_mnist.json), then the cost per image
    in docs/mnist/results.json and the README's MNIST block, from the refreshed figures."""
    from mram_macro.nn.mnist_bench import RESULTS_JSON, _publish
    from mram_macro.nn.mnist_cost import PPA_JSON, published_cost

    lines = []
    if PPA_JSON.is_file():
        records = [refreshed(_with_inputs(r)) for r in json.loads(PPA_JSON.read_text())]
        PPA_JSON.write_text(json.dumps(records, indent=1) + "\n")
        lines += [f"MNIST build, {r['workload']} passes: macro {r['total_J'] * 1e12:.2f} pJ per "
                  f"VMM" for r in records]
    if RESULTS_JSON.is_file():
        _publish({"cost": published_cost(json.loads(RESULTS_JSON.read_text()))})
        lines.append("MNIST cost per image re-rendered (docs/mnist/results.json, README)")
    return lines


def main(args=None) -> int:
    for line in refresh_published():
        print(line)
    print("refreshed the analogue terms in docs/ppa/, docs/layout/, README.md, docs/ppa.md, "
          "docs/layout.md")
    return 0
