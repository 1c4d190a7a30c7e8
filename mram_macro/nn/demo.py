"""``mram-macro digits`` (and ``make demo``): train the digits networks and compare their
accuracy in software, on the golden model (ideal; the paper's spread over many dies, with and
without calibration; at 85 C) and on the RTL (a subset of the test images, each simulator).

Every dot product of a macro row of the table is computed by a macro through the host API
(:class:`mram_macro.host.Macro`); thresholds, replica averaging and the output affine run on the
host. The RTL rows check the RTL's integer sums against the golden backend's on the same die,
bit for bit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mram_macro.host import Macro
from mram_macro.nn.data import Digits, load_digits_split
from mram_macro.nn.evaluate import (
    NETWORK_CONFIG,
    die_study,
    output_replicas,
    run_binary_network,
    run_int_network,
)
from mram_macro.nn.tiling import Schedule, plan_layer
from mram_macro.nn.train import device_error_sigma, train_binary, train_int
from sim_models.device import DeviceParams

__all__ = ["run_network_demo", "check_rtl_images", "check_picture_path", "Row"]


@dataclass(frozen=True)
class Row:
    network: str
    run_on: str
    images: int
    dies: int
    mean_pct: float
    min_pct: float
    note: str = ""

    def line(self) -> str:
        dies = str(self.dies) if self.dies else "-"
        return (f"| {self.network} | {self.run_on} | {self.images} | {dies} | "
                f"{self.mean_pct:.2f} | {self.min_pct:.2f} | {self.note} |")


def _pct(pred, labels) -> float:
    return 100.0 * float(np.mean(np.asarray(pred) == np.asarray(labels)))


def _exact_rows(rows: list, name: str, sw, pred, labels) -> bool:
    """Append the software and the ideal golden rows of a network; True if they agree exactly
    (image for image)."""
    equal = bool(np.array_equal(pred, sw))
    rows.append(Row(name, "software (exact integers)", len(labels), 0, _pct(sw, labels),
                    _pct(sw, labels)))
    rows.append(Row(name, "golden, ideal device", len(labels), 1, _pct(pred, labels),
                    _pct(pred, labels), "equals software: " + ("yes" if equal else "NO")))
    return equal


def check_rtl_images(rtl_images: int, *, seed: int = 0) -> None:
    """Refuse an RTL image count the digits demo cannot run as asked: 0 (which would silently
    skip the RTL rows: that is ``--no-rtl`` / ``sims=[]``) or more than the test images of the
    split of ``seed``.

    Raises:
        ValueError: the message names the legal range.
    """
    n_test = len(load_digits_split(seed=seed).y_test)
    if isinstance(rtl_images, bool) or not isinstance(rtl_images, int) or not (
            1 <= rtl_images <= n_test):
        raise ValueError(f"rtl_images must be an integer in 1..{n_test} (the test images), "
                         f"not {rtl_images!r}; to skip the RTL rows use --no-rtl")


def check_picture_path(path) -> None:
    """Raise ValueError unless matplotlib can write the picture to ``path``, whose suffix names
    the format (.png, .svg, .pdf, ...). Without matplotlib there is nothing to check: the run
    then says it drew no picture."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix
    if suffix.lower().removeprefix(".") not in formats:
        what = (f"the suffix {suffix!r} is not a picture format matplotlib writes" if suffix
                else "the name has no suffix to give the picture's format")
        raise ValueError(f"{what}; use .png (or one of "
                         f"{', '.join('.' + f for f in sorted(formats) if f != 'png')})")


def run_network_demo(*, dies: int = 20, hidden: int = 128, rtl_images: int = 24,
                     sims: list[str] | None = None, seed: int = 0, multibit: bool = True,
                     out=None, plot=None) -> int:
    """Print the accuracy table (and the schedule), with a progress line per result as it is
    computed; return 0 if every exactness check holds. ``plot``: where to write a picture of
    the results (accuracy per die, errors per column; the format from the suffix, checked
    before the run by :func:`check_picture_path`), ``False`` for none, default the user's cache
    (:func:`mram_macro.paths.user_cache_dir`)."""
    for name, v, lo in (("dies", dies, 1), ("hidden", hidden, 1), ("rtl_images", rtl_images, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, not {v!r}")
    sims = ["verilator", "icarus"] if sims is None else sims
    if sims:
        check_rtl_images(rtl_images, seed=seed)
    if plot is not None and plot is not False:
        check_picture_path(plot)
    if out is None:
        def out(text: str) -> None:
            print(text, flush=True)
    t_start = time.perf_counter()
    data = load_digits_split(seed=seed)
    x_tr, x_te = Digits.binarise(data.x_train), Digits.binarise(data.x_test)
    labels = data.y_test
    paper = DeviceParams.paper()
    hot = paper.replace(temperature_C=85.0)
    sigma = device_error_sigma(paper, seed=seed)
    out(f"== digits: {len(x_tr)} training / {len(x_te)} test images (scikit-learn's 8x8 "
        f"digits), 64 -> {hidden} -> 10 binarised perceptron; calibrated pass error of the "
        f"paper's spread: {sigma:.2f} RMS (injected by variation-aware training)")
    nets = {
        "binary, variation-aware": train_binary(x_tr, data.y_train, hidden=hidden, seed=seed,
                                                noise_sigma=(sigma, sigma)),
        "binary": train_binary(x_tr, data.y_train, hidden=hidden, seed=seed),
    }
    main_name = next(iter(nets))
    rows: list[Row] = []
    ok = True
    studies: dict[str, np.ndarray] = {}

    def progress(row: Row) -> None:
        out(f"   [{time.perf_counter() - t_start:5.0f} s] {row.network} | {row.run_on}: "
            f"{row.mean_pct:.2f} % (min {row.min_pct:.2f} %)")

    out(f"   [{time.perf_counter() - t_start:5.0f} s] trained {len(nets)} networks")
    for name, net in nets.items():
        sw = net.predict(x_te)
        with Macro.golden(NETWORK_CONFIG, seed=seed) as m:
            pred, _, _ = run_binary_network(m, net, x_te)
        ok &= _exact_rows(rows, name, sw, pred, labels)
        progress(rows[-1])
        conditions = [("golden, paper sigma, uncalibrated", paper, False),
                      ("golden, paper sigma, calibrated", paper, True),
                      ("golden, paper sigma, calibrated, 85 C", hot, True)]
        if name != main_name:
            conditions = conditions[1:2]  # the comparison: calibrated only
        for label, device, cal in conditions:
            st = die_study(net, x_te, labels, device=device, dies=dies, calibrate=cal,
                           seed=seed + 1000)
            rows.append(Row(name, label, len(x_te), dies, 100 * st.mean, 100 * st.min,
                            f"gap to software {_pct(sw, labels) - 100 * st.mean:+.2f} pt"))
            progress(rows[-1])
            if name == main_name:
                studies[label.removeprefix("golden, paper sigma, ")] = 100 * st.accuracies
    if multibit:
        xq_tr, xq_te = Digits.quantise(data.x_train), Digits.quantise(data.x_test)
        net = train_int(xq_tr, data.y_train, hidden=64, seed=seed)
        name = f"{net.input_bits}-bit x {net.weight_bits}-bit first layer"
        sw = net.predict(xq_te)
        with Macro.golden(NETWORK_CONFIG, seed=seed) as m:
            pred, _, _ = run_int_network(m, net, xq_te)
        ok &= _exact_rows(rows, name, sw, pred, labels)
        n = max(1, dies // 4)
        st = die_study(net, xq_te, labels, device=paper, dies=n, calibrate=True,
                       seed=seed + 1000)
        gap = _pct(sw, labels) - 100 * st.mean
        rows.append(Row(name, "golden, paper sigma, calibrated", len(x_te), n, 100 * st.mean,
                        100 * st.min, f"gap to software {gap:+.2f} pt"))
        progress(rows[-1])

    # RTL on a subset, both simulators, against the golden backend on the same die.
    main = nets[main_name]
    subset = x_te[:rtl_images]
    timing = None
    if rtl_images and sims:
        with Macro.golden(NETWORK_CONFIG, seed=seed) as g:
            _, g_h, g_y2 = run_binary_network(g, main, subset)
        for sim in sims:
            t0 = time.perf_counter()
            with Macro.rtl(NETWORK_CONFIG, seed=seed, sim=sim) as r:
                r_pred, r_h, r_y2 = run_binary_network(r, main, subset)
                ns = dict(r.backend.sim_time_ns)
            same = np.array_equal(r_h, g_h) and np.array_equal(r_y2, g_y2)
            ok &= bool(same)
            rows.append(Row(main_name, f"RTL on {sim}, ideal device", len(subset), 1,
                            _pct(r_pred, labels[:len(subset)]), _pct(r_pred, labels[:len(subset)]),
                            f"activations and sums bit for bit equal to golden: "
                            f"{'yes' if same else 'NO'} "
                            f"({time.perf_counter() - t0:.0f} s wall)"))
            progress(rows[-1])
            timing = timing or ns
    out("")
    out("| network | run on | images | dies | accuracy % (mean) | accuracy % (min) | note |")
    out("|---|---|---|---|---|---|---|")
    for row in rows:
        out(row.line())

    # What one batch of the main network costs on one macro.
    c = NETWORK_CONFIG
    reps = output_replicas(10, c.cols)
    plans = (plan_layer(64, hidden, rows=c.rows, cols=c.cols),
             plan_layer(hidden, 10 * reps, rows=c.rows, cols=c.cols))
    sched = Schedule(plans, batch=len(x_te))
    out("")
    out(f"== schedule of the {main_name} network on one {c.rows}x{c.cols} macro, "
        f"{len(x_te)} images (output layer replicated x{reps})")
    out(sched.table())
    line = (f"   total: {sched.passes} passes + {sched.calibration_passes} calibration passes, "
            f"{sched.row_writes} weight rows written")
    if timing:
        from mram_macro.host.backend import T_CLK_NS

        sub = Schedule(plans, batch=len(subset))
        per_vmm = timing["run"] / T_CLK_NS / (sub.passes + sub.calibration_passes)
        per_row = timing["program_rows"] / T_CLK_NS / sub.row_writes
        cyc = sched.cycles(cycles_per_vmm=per_vmm, cycles_per_row_write=per_row)
        line += (f"; at the cycle counts measured in the RTL run ({per_vmm:.1f} cycles/VMM, "
                 f"{per_row:.1f} cycles/row write incl. the testbench's AXI traffic): "
                 f"{cyc:.0f} cycles")
    out(line)
    for text in _inference_cost_lines(sched, batch=len(x_te)):
        out(text)
    if plot is not False:
        out(_plot_results(studies, sw_pct=_pct(nets[main_name].predict(x_te), labels),
                          network=main_name, dies=dies, seed=seed, path=plot))
    out(f"== wall time {time.perf_counter() - t_start:.0f} s; exactness checks "
        f"{'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


def column_errors(*, seed: int = 0, vectors: int = 512) -> dict[str, np.ndarray]:
    """Mean |result - exact| per column of one paper-spread die (random weights and inputs),
    before and after the offset calibration."""
    rng = np.random.default_rng(seed)
    with Macro.golden(device=DeviceParams.paper(), seed=seed) as m:
        w = rng.choice((-1, 1), (m.rows, m.cols))
        x = rng.choice((-1, 1), (vectors, m.rows))
        m.write_weights(w)
        before = np.abs(m.vmm(x) - x @ w).mean(axis=0)
        m.calibrate()
        after = np.abs(m.vmm(x) - x @ w).mean(axis=0)
    return {"uncalibrated": before, "calibrated": after}


def _plot_results(studies: dict[str, np.ndarray], *, sw_pct: float, network: str, dies: int,
                  seed: int, path=None) -> str:
    """Write the demo's picture (accuracy of each die per condition, with the software
    accuracy; mean error per column of one die before/after calibration); returns the line
    that says where (or why not)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "   (no picture: matplotlib is not installed)"
    if path is None:
        from mram_macro.paths import user_cache_dir

        path = user_cache_dir("digits") / "digits.png"
    path = Path(path)
    errors = column_errors(seed=seed)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for i, acc in enumerate(studies.values()):
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(acc))
        ax1.plot(i + jitter, acc, "o", ms=4, alpha=0.7)
    ax1.axhline(sw_pct, color="k", lw=1, ls="--", label=f"software {sw_pct:.1f} %")
    ax1.set_xticks(range(len(studies)), list(studies), fontsize=8)
    ax1.set_ylabel("test accuracy (%)")
    ax1.set_title(f"{network}: {dies} paper-spread dies", fontsize=9)
    ax1.legend(fontsize=8, loc="lower left")
    cols = np.arange(len(next(iter(errors.values()))))
    for label, e in errors.items():
        ax2.plot(cols, e, ".-", lw=1, label=f"{label} (mean {e.mean():.2f})")
    ax2.set_xlabel("column")
    ax2.set_ylabel("mean |y - exact|")
    ax2.set_title("errors per column, one paper-spread die, random VMMs", fontsize=9)
    ax2.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"== picture: {path}"


def _inference_cost_lines(sched, *, batch: int, config=NETWORK_CONFIG) -> list[str]:
    """Energy and latency per inference from the published PPA results (``make ppa``) of the
    build the network runs on (``config``)."""
    from mram_macro.docs.published import published_results_of
    from mram_macro.flow.ppa.report import inference_cost

    results = published_results_of(config)
    if not results:
        return [f"   energy per inference: no published PPA results of {config.slug} (run "
                f"`make ppa`)"]
    lines = []
    for r in results:
        energy_J, latency_ns = inference_cost(r, vmms=sched.passes + sched.calibration_passes,
                                              row_writes=sched.row_writes)
        lines.append(f"   per inference, {r['title']}, {config.slug}: "
                     f"{energy_J / batch * 1e9:.2f} nJ, "
                     f"{latency_ns / batch / 1e3:.2f} µs at the STA-confirmed "
                     f"{r['period_ns']:g} ns clock (batch of {batch}; weight-row writes' "
                     f"energy amortised, their time not counted)")
    lines.append("   (ESTIMATE: energy per VMM measured by `make ppa` on random VMMs, not on "
                 "this network's activity)")
    return lines
