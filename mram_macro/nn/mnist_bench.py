"""``make mnist``: the paper's two-layer binarised perceptron on MNIST
(:mod:`mram_macro.nn.mnist_bnn`: the network, its build and why), trained in the kit and run on
a bank of macros (golden model; a slice on the RTL), with the cost per inference
(:mod:`mram_macro.nn.mnist_cost`).

The report: software and golden accuracy, the paper's spread over dies (uncalibrated,
calibrated, 2x, 85 C with the tracker on and off), the sigma and temperature sweeps and their
figures, the cost per image; published to :data:`RESULTS_JSON` and the README's block.
Command lines: ``python -m mram_macro.nn.mnist_bench`` (the report), ``... rtl`` (the RTL rows),
``... ppa`` (the network's gate-level PPA).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from mram_macro.design.config import MacroConfig
from mram_macro.host import Bank
from mram_macro.nn.mnist import binarise, load_mnist
from mram_macro.nn.mnist_bnn import (
    BUILD,
    EPOCHS,
    HIDDEN,
    HOT_C,
    PAPER_RESULTS,
    TRACK_INTERVAL,
    TRAIN_NOISE,
    evaluate_die,
    macros_needed,
    place_bnn,
    run_bnn,
    train_mnist_bnn,
)
from mram_macro.nn.mnist_cost import (
    PPA_JSON,
    PPA_WINDOW_IMAGES,
    cost_per_inference,
    measure_network_ppa,
    published_cost,
)
from mram_macro.nn.train import BinaryMLP
from sim_models.device import DeviceParams

__all__ = ["RESULTS_JSON", "SIGMA_SWEEP", "TEMPERATURE_SWEEP", "report", "readme_block",
           "table_lines", "rtl_check", "main", "rtl_main", "ppa_main"]

#: The report's results (``make mnist`` / ``make mnist-rtl``), next to :data:`PPA_JSON`.
RESULTS_JSON = PPA_JSON.with_name("results.json")
#: Cell-spread multiples of the sigma figure, and temperatures of the temperature figure.
SIGMA_SWEEP = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
TEMPERATURE_SWEEP = (0.0, 25.0, 50.0, 85.0)


def _timer():
    t0 = time.perf_counter()
    return lambda: time.perf_counter() - t0


def _stats(values) -> dict:
    a = 100 * np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max()),
            "dies": int(a.size), "per_die": [round(float(v), 4) for v in a]}



def _row(name, run_on, images, dies, mean, lo, note=""):
    d = str(dies) if dies else "-"
    return f"| {name} | {run_on} | {images} | {d} | {mean:.2f} | {lo:.2f} | {note} |"


def report(*, dies: int = 20, sweep_dies: int = 3, images: int = 10_000, seed: int = 0,
           figures_dir: Path | None = None, results_json: Path | None = RESULTS_JSON,
           out=print) -> dict:
    """Run everything but the RTL, print the table, write the JSON (and the figures)."""
    for name, v, lo in (("dies", dies, 1), ("sweep_dies", sweep_dies, 1), ("images", images, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, not {v!r}")
    elapsed = _timer()
    data = load_mnist()
    x = binarise(data.x_test[:images]).astype(np.int64)
    labels = data.y_test[:images]
    out(f"== MNIST: {len(data.x_train)} training / {len(x)} test digits; 784 -> {HIDDEN} -> 10 "
        f"binarised perceptron (pixels > 127 -> +1); build {BUILD.slug} "
        f"(calibration='gain', tracker every {TRACK_INTERVAL} passes)")
    net = train_mnist_bnn(data, progress=lambda e, n: out(
        f"   training epoch {e + 1}/{n} ({elapsed():.0f} s)"))
    sw = net.predict(x)
    sw_acc = float(np.mean(sw == labels))
    res = {"build": BUILD.slug, "hidden": HIDDEN, "epochs": EPOCHS, "train_noise": TRAIN_NOISE,
           "track_interval": TRACK_INTERVAL, "images": len(x), "seed": seed,
           "paper": PAPER_RESULTS, "software": 100 * sw_acc, "macros": macros_needed(net)}
    out(f"   software: {100 * sw_acc:.2f} % ({elapsed():.0f} s)")
    with Bank.golden(macros_needed(net), BUILD, device=DeviceParams(), seed=seed) as bank:
        pred, _, _ = run_bnn(bank, net, x)
    res["ideal"] = {"accuracy": 100 * float(np.mean(pred == labels)),
                    "equals_software": bool(np.array_equal(pred, sw))}
    out(f"   golden ideal: {res['ideal']['accuracy']:.2f} %, equals software image for image: "
        f"{res['ideal']['equals_software']} ({elapsed():.0f} s)")

    def study(label, n, **kw):
        accs = {}
        preds = None
        for i in range(n):
            r = evaluate_die(net, x, labels, seed=seed + 1000 + i, keep_pred=(i == 0), **kw)
            for k, v in r.accuracy.items():
                accs.setdefault(k, []).append(v)
            preds = preds if preds is not None else r.pred
            out(f"   {label}: die {i + 1}/{n}: " + ", ".join(
                f"{k} {100 * v:.2f}" for k, v in r.accuracy.items()) + f" ({elapsed():.0f} s)")
        return {k: _stats(v) for k, v in accs.items()}, preds

    cal, cal_pred = study("paper sigma, calibrated", dies, temperatures=(HOT_C,))
    res["paper_calibrated"] = cal
    res["confusion"] = _confusion(cal_pred["25"], labels).tolist()
    res["paper_uncalibrated"], _ = study("paper sigma, uncalibrated", dies, calibrate=False)
    res["double_sigma_calibrated"], _ = study("2x sigma, calibrated", dies, sigma_scale=2.0)
    res["sigma_sweep"] = {}
    for s in SIGMA_SWEEP:
        for c in (True, False):
            st, _ = study(f"sweep sigma x{s:g} {'cal' if c else 'uncal'}", sweep_dies,
                          sigma_scale=s, calibrate=c)
            res["sigma_sweep"][f"{s:g}/{'cal' if c else 'uncal'}"] = st["25"]
    st, _ = study("sweep temperature", sweep_dies,
                  temperatures=tuple(t for t in TEMPERATURE_SWEEP if t != 25.0))
    res["temperature_sweep"] = st
    res["cost"] = cost_per_inference(net)
    res["run_time_s"] = round(elapsed(), 1)
    for line in table_lines(res):
        out(line)
    if results_json is not None:
        merged = _publish(res, results_json)
        if figures_dir is not None:
            from mram_macro.nn.mnist_figures import draw_all

            for p in draw_all(merged, figures_dir):
                out(f"   figure {p}")
    return res


README = RESULTS_JSON.parents[2] / "README.md"
README_BEGIN = ("<!-- mnist:begin (generated by `make mnist` / `make mnist-rtl` from "
                "docs/mnist/results.json; do not edit) -->")
README_END = "<!-- mnist:end -->"


def readme_block(res: dict) -> str:
    """The README's MNIST results, rendered from a results dict."""
    lines = [line for line in table_lines(res) if line != ""]
    n_table = next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))
    table, rest = lines[:n_table], [line.strip() for line in lines[n_table:]]
    c = res["paper_calibrated"]
    gap = res["software"] - c["25"]["mean"]
    hot = c[f"{HOT_C:g}/on"]["mean"] - c["25"]["mean"]
    head = (f"**{c['25']['mean']:.2f} %** on the golden model at the paper's spread, calibrated, "
            f"mean of {c['25']['dies']} dies (min {c['25']['min']:.2f} %), against "
            f"{res['software']:.2f} % in software: a **{gap:.2f} pt** gap (the chip: "
            f"{res['paper']['mlp_chip']} % against {res['paper']['mlp_software']} %, "
            f"{res['paper']['mlp_software'] - res['paper']['mlp_chip']:.2f} pt). "
            f"At {HOT_C:g} C with the tracker and no recalibration: **{hot:+.2f} pt** against "
            f"25 C.")
    return "\n".join([head, "", *table, "", "```text", *rest, "```", ""]) + "\n"


def _publish(res: dict, path: Path = RESULTS_JSON, readme: Path | None = README) -> dict:
    """Merge ``res`` into the results file (read again just before writing, so the golden
    report and the RTL run may finish in either order) and re-render the README's block;
    returns the merged dict."""
    from mram_macro.flow.ppa.report import render_block

    merged = json.loads(path.read_text()) if path.is_file() else {}
    merged.update(res)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(merged, indent=1) + "\n")
    tmp.rename(path)
    if readme is not None and readme.is_file() and "paper_calibrated" in merged:
        text = readme.read_text()
        if README_BEGIN in text:
            readme.write_text(render_block(text, README_BEGIN, README_END,
                                           readme_block(merged)))
    return merged


def _confusion(pred, labels, classes: int = 10) -> np.ndarray:
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(pred)), 1)
    return m


def table_lines(res: dict) -> list[str]:
    """The accuracy table and the cost lines of a results dict (also the README's source)."""
    n, sw = res["images"], res["software"]
    name = f"784-{res['hidden']}-10 BNN"
    lines = ["", "| network | run on | images | dies | accuracy % (mean) | accuracy % (min) "
             "| note |",
             "|---|---|---|---|---|---|---|",
             _row(name, "software (exact integers)", n, 0, sw, sw,
                  f"paper: {res['paper']['mlp_software']} software, "
                  f"{res['paper']['mlp_chip']} chip"),
             _row(name, "golden, ideal device", n, 1, res["ideal"]["accuracy"],
                  res["ideal"]["accuracy"], "equals software image for image: "
                  + ("yes" if res["ideal"]["equals_software"] else "NO"))]
    c = res["paper_calibrated"]
    for label, st in (("golden, paper sigma, uncalibrated", res["paper_uncalibrated"]["25"]),
                      ("golden, paper sigma, calibrated (gain), 25 C", c["25"]),
                      ("golden, 2x paper sigma, calibrated (gain), 25 C",
                       res["double_sigma_calibrated"]["25"]),
                      (f"golden, paper sigma, {HOT_C:g} C, tracker on, no recalibration",
                       c[f"{HOT_C:g}/on"]),
                      (f"golden, paper sigma, {HOT_C:g} C, tracker off, no recalibration",
                       c[f"{HOT_C:g}/off"])):
        lines.append(_row(name, label, n, st["dies"], st["mean"], st["min"],
                          f"gap to software {sw - st['mean']:+.2f} pt"))
    for sim, r in sorted(res.get("rtl", {}).items()):
        hot = (f"; then {r['hot_images']} at {HOT_C:g} C, re-written with the 25 C calibration, "
               f"tracker on" if r.get("hot_images") else "")
        lines.append(_row(name, f"RTL on {sim}, ideal device", r["images"], 1, r["accuracy"],
                          r["accuracy"], "hidden activations and output sums bit for bit equal "
                          f"to golden: {'yes' if r['equal'] else 'NO'}{hot} "
                          f"({r['wall_s']:.0f} s)"))
    v = res.get("vgg8")
    if v:
        vgg = f"VGG-8 (binarised, {v['macros']} macros)"
        lines.append(_row(vgg, "software (exact integers)", 10_000, 0, v["software_10k"],
                          v["software_10k"], f"paper: {res['paper']['vgg8_software']} software, "
                          f"{res['paper']['vgg8_chip']} chip (emulated)"))
        st = v["paper_calibrated"]
        lines.append(_row(vgg, "golden, paper sigma, calibrated (gain), 25 C", v["images"],
                          st["dies"], st["mean"], st["min"],
                          (f"all {v['images']} test digits: software "
                           if v["images"] >= 10_000 else
                           f"first {v['images']} digits only: software there ")
                          + f"{v['software_subset']:.2f}, gap "
                          f"{v['software_subset'] - st['mean']:+.2f} pt; golden ideal equals "
                          f"software: "
                          f"{'yes' if v['ideal_equals_software'] else 'NO'} "
                          f"({v.get('epochs', '?')} epochs; {v['run_time_s']:.0f} s with the "
                          f"training)"))
    hot = c[f"{HOT_C:g}/on"]["mean"] - c["25"]["mean"]
    lines.append(f"   {HOT_C:g} C with the tracker, no recalibration: {hot:+.2f} pt against 25 C "
                 f"(mean of {c['25']['dies']} dies)")
    cost = res.get("cost")
    if cost:
        lines += ["", f"== cost per image: {cost['passes_per_image']:g} passes "
                  f"(tiles {' + '.join(map(str, cost['tiles']))}); a weight-stationary bank of "
                  f"{cost['macros']} macros writes {cost['macros'] * 64} weight rows once per "
                  f"die; one macro re-writes {cost['row_writes_per_batch_one_macro']} rows and "
                  f"runs {cost['calibration_passes_per_batch_one_macro']} calibration passes "
                  f"per batch of {cost['batch']}", cost["schedule_table"]]
        for lib in cost["libraries"]:
            lines.append(
                f"   {lib['title']} ({lib['period_ns']:g} ns clock, {lib['cycles_per_vmm']:.1f} "
                f"cycles/VMM): one macro {lib['one_macro_energy_per_image_J'] * 1e9:.2f} nJ, "
                f"{lib['one_macro_cycles_per_image']:.0f} cycles = "
                f"{lib['one_macro_latency_per_image_ns'] / 1e3:.2f} us per image (batch "
                f"{cost['batch']}, row-write time not counted); bank of {cost['macros']}: "
                f"{lib['bank_energy_per_image_J'] * 1e9:.2f} nJ, latency "
                f"{lib['bank_latency_per_image_ns']:.0f} ns, one image every "
                f"{lib['bank_interval_per_image_ns']:.0f} ns")
        lib = cost["libraries"][-1] if cost["libraries"] else None
        if lib:
            lines.append(
                f"   summing the row tiles in one macro's accumulator instead (on-chip "
                f"thresholds, BankLayer.run_accumulated) re-writes "
                f"{lib['accumulate_row_writes_per_image']} weight rows per image: "
                f"{lib['accumulate_write_energy_per_image_J'] * 1e9:.0f} nJ of writes per image "
                f"at {lib['title']}, hence the host-side sum")
        lines.append("   (ESTIMATE: the per-VMM energy is `make ppa`'s on random VMMs of the "
                     "published build (" + ", ".join(sorted({lib['ppa_config'] for lib in
                                                             cost["libraries"]}))
                     + "), not this network's activity nor the gain build's larger periphery)")
        m = cost.get("measured")
        same = [lib for lib in cost["libraries"] if m and lib["title"] == m["title"]]
        if m and same:
            rnd = ("" if m["random_vmm_digital_J"] is None else
                   f" (random VMMs on the same build: {m['random_vmm_digital_J'] * 1e12:.0f} + "
                   f"{m['random_vmm_analog_J'] * 1e12:.0f} pJ)")
            lines.append(
                f"   MEASURED with this network's passes on its own build ({m['config']}, "
                f"{m['title']}, {m['period_ns']:g} ns, gate-level activity of every tile, "
                f"`python -m mram_macro.nn.mnist_bench ppa`): "
                f"{m['vmm_digital_J'] * 1e12:.0f} pJ digital + "
                f"{m['vmm_analog_J'] * 1e12:.0f} pJ analogue per pass{rnd}; "
                f"{m['bank_energy_per_image_J'] * 1e9:.2f} nJ per image on the bank of "
                f"{cost['macros']} (latency {m['bank_latency_per_image_ns']:.0f} ns at "
                f"{m['cycles_per_vmm']:.1f} cycles per pass), "
                f"{m['one_macro_energy_per_image_J'] * 1e9:.2f} nJ and "
                f"{m['one_macro_latency_per_image_ns'] / 1e3:.2f} us per image on one macro "
                f"with its writes and calibration (batch {cost['batch']}, row-write time not "
                f"counted); {m['tops_per_W']:.1f} TOPS/W. That is "
                f"{m['vmm_energy_J'] / same[0]['vmm_energy_J']:.1f}x the default build's "
                f"energy per VMM (its gain multipliers and tracker), so the estimate above is "
                f"that much low")
    if "run_time_s" in res:
        lines.append(f"== run time {res['run_time_s']:.0f} s")
    return lines


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mram_macro.nn.mnist_bench",
                                 description="The two-layer BNN on MNIST (make mnist).")
    ap.add_argument("--dies", type=int, default=20)
    ap.add_argument("--sweep-dies", type=int, default=3)
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--figures", default=str(RESULTS_JSON.parent),
                    help="folder of the PNG figures (default: %(default)s)")
    ap.add_argument("--no-publish", action="store_true",
                    help="print only: leave docs/mnist/ as it is")
    ap.add_argument("--render", action="store_true",
                    help="run nothing: print the table and redraw the figures and the README "
                         "block from docs/mnist/results.json")
    args = ap.parse_args(argv)
    if args.render:
        if not RESULTS_JSON.is_file():
            ap.error(f"{RESULTS_JSON} does not exist: run `make mnist` first")
        # The cost comes from the schedule and docs/ppa, not from the simulation: recomputed
        # (from the layers' sizes: no training).
        merged = _publish({"cost": published_cost(json.loads(RESULTS_JSON.read_text()))})
        from mram_macro.nn.mnist_figures import draw_all

        draw_all(merged, Path(args.figures))
        print("\n".join(table_lines(merged)))
        return 0

    def out(text):
        print(text, flush=True)

    report(dies=args.dies, sweep_dies=args.sweep_dies, images=args.images, seed=args.seed,
           results_json=None if args.no_publish else RESULTS_JSON,
           figures_dir=None if args.no_publish else Path(args.figures), out=out)
    return 0




def rtl_check(net: BinaryMLP, x_pm1, labels, *, sims=("verilator", "icarus"), seed: int = 0,
              hot_images: int = 20, config: MacroConfig = BUILD, out=print) -> dict:
    """The network on the RTL against the golden model of the same die (ideal device), bit for
    bit (hidden activations, output sums, classes): one simulated macro per simulator, every
    tile written, gain-calibrated and its tracking reference captured in turn at 25 C; then the
    first ``hot_images`` digits again at :data:`HOT_C`, the tiles re-written with their 25 C
    calibration restored and the tracker retrimming (no recalibration), also bit for bit."""

    def both(bank):
        placed = place_bnn(bank, net)
        cold = placed.run(x_pm1)
        bank.set_temperature(HOT_C)
        hot = placed.run(x_pm1[:hot_images]) if hot_images else None
        return cold, hot

    with Bank.golden(1, config, device=DeviceParams(), seed=seed) as g:
        g_cold, g_hot = both(g)
    res = {}
    for sim in sims:
        t = _timer()
        out(f"   RTL on {sim}: {len(x_pm1)} digits at 25 C, then {hot_images} at {HOT_C:g} C; "
            f"14 tiles on one macro ...")
        with Bank.rtl(1, config, device=DeviceParams(), seed=seed, sim=sim) as r:
            cold, hot = both(r)
        same = [all(np.array_equal(a, b) for a, b in zip(mine, gold, strict=True))
                for mine, gold in ((cold, g_cold), (hot, g_hot)) if gold is not None]
        res[sim] = {"images": len(x_pm1), "equal": bool(all(same)), "hot_images": hot_images,
                    "hot_equal": bool(same[-1]) if hot_images else None,
                    "wall_s": round(t(), 1),
                    "accuracy": 100 * float(np.mean(cold[0] == labels))}
        out(f"   RTL on {sim}: bit for bit equal to golden: {all(same)} ({t():.0f} s)")
    return res


def rtl_main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mram_macro.nn.mnist_bench rtl")
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--sims", default="verilator,icarus")
    ap.add_argument("--hot-images", type=int, default=20)
    ap.add_argument("--no-publish", action="store_true")
    args = ap.parse_args(argv)
    if args.images < 1:
        ap.error(f"--images must be a positive integer, not {args.images}")
    data = load_mnist()
    net = train_mnist_bnn(data, progress=lambda e, n: print(f"   training epoch {e + 1}/{n}",
                                                            flush=True))
    x = binarise(data.x_test[:args.images]).astype(np.int64)
    res = rtl_check(net, x, data.y_test[:args.images], sims=tuple(args.sims.split(",")),
                    hot_images=args.hot_images, out=lambda s: print(s, flush=True))
    if not args.no_publish:
        _publish({"rtl": res})
    return 0 if all(r["equal"] for r in res.values()) else 1


def ppa_main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m mram_macro.nn.mnist_bench ppa",
        description="The MNIST build's gate-level PPA with this network's passes and with random "
                    f"VMMs ({PPA_WINDOW_IMAGES} images' passes in the power window), saved to "
                    f"docs/mnist/{PPA_JSON.name}; then the cost lines of docs/mnist/results.json "
                    "and the README are recomputed from it.")
    ap.add_argument("--out", default="build/ppa_mnist", help="work folder (default %(default)s)")
    ap.add_argument("--no-publish", action="store_true",
                    help="measure and print only (write the records under --out)")
    args = ap.parse_args(argv)
    net = train_mnist_bnn(load_mnist(), progress=lambda e, n: print(
        f"   training epoch {e + 1}/{n}", flush=True))
    out = Path(args.out)
    path = out / PPA_JSON.name if args.no_publish else PPA_JSON
    measure_network_ppa(net, out=out, path=path, progress=lambda s: print(s, flush=True))
    if not args.no_publish:
        merged = _publish({"cost": cost_per_inference(net)})
        print("\n".join(line for line in table_lines(merged) if "MEASURED" in line))
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["rtl"]:
        raise SystemExit(rtl_main(sys.argv[2:]))
    if sys.argv[1:2] == ["ppa"]:
        raise SystemExit(ppa_main(sys.argv[2:]))
    raise SystemExit(main())
