"""``mram-macro explore``: the sweep's command line (argument parsing, progress, summary)."""

from __future__ import annotations

import argparse
import json

from mram_macro.design.config import ConfigError

__all__ = ["add_explore_parser", "run_explore"]


def _list(kind):
    def parse(text: str):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"must be a comma-separated list, not {text!r}")
        try:
            return tuple(kind(t) for t in items)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a comma-separated list of {kind.__name__}s, not {text!r}") from None
    return parse


def add_explore_parser(sub, once_action, positive_int) -> None:
    """The ``explore`` subcommand (``once_action``, ``positive_int``: the CLI's helpers)."""
    from mram_macro.explore.sweep import Space
    from sim_models.devices import PRESETS

    d = Space()
    p = sub.add_parser("explore", help="sweep geometry x readout x MRAM device: energy, "
                                       "throughput, area, accuracy, Pareto fronts, --target")
    g = p.add_argument_group("the space (comma-separated lists; the product is swept)")
    for flag, kind, default, what in (
            ("--rows", int, d.rows, "array rows"), ("--cols", int, d.cols, "array columns"),
            ("--tdc", str, d.tdc, "TDCs as mode[:bits][/taps], e.g. counter, two_step/4, "
                                  "coarse:4"),
            ("--clock-ns", float, d.clocks_ns, "clock periods (ns)"),
            ("--stream-width", int, d.stream_widths, "AXI4-Stream widths"),
            ("--profile", str, d.profiles, "feature profiles (mram_macro/design/config.py "
                                                "PROFILES)"),
            ("--device", str, d.devices, f"device presets ({', '.join(PRESETS)})")):
        g.add_argument(flag, action=once_action, type=_list(kind), default=default,
                       help=f"{what} (default {','.join(map(str, default))})")
    p.add_argument("--dies", action=once_action, type=positive_int, default=3,
                   help="golden dies per accuracy (default 3)")
    p.add_argument("--images", action=once_action, type=positive_int, default=None,
                   help="test digits per accuracy (default all 450)")
    p.add_argument("--seed", action=once_action, type=int, default=0,
                   help="seed of the training and the dies (default 0)")
    p.add_argument("--jobs", action=once_action, type=positive_int, default=2,
                   help="Dask workers of the local cluster (default 2)")
    p.add_argument("--scheduler", action=once_action, default=None,
                   help="a running Dask scheduler (tcp://host:8786) instead of a local cluster")
    p.add_argument("--serial", action="store_true",
                   help="no Dask: evaluate in this process (debugging, tests)")
    p.add_argument("--out", action=once_action, default="build/explore",
                   help="folder of explore.json, explore.csv and the plots (default "
                        "build/explore)")
    p.add_argument("--target", action=once_action, default=None,
                   help="pick the cheapest configuration meeting e.g. "
                        "'accuracy=0.93,energy=400pJ' (keys: accuracy, energy, throughput, "
                        "area) and print the command that generates its RTL")
    p.add_argument("--cost", action=once_action, choices=("area", "energy"), default="area",
                   help="what --target minimises among the points meeting it: digital area "
                        "(default; then energy) or energy per VMM (then area)")
    p.add_argument("--verify", action="store_true",
                   help="with --target: generate the picked RTL into OUT/rtl, lint it and run "
                        "16 random VMMs on Verilator bit-exact against the golden model")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=run_explore)


def _progress_bar(total_hint: str):
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=total_hint, unit="task")
        bar.n = done
        bar.refresh()
        if done == total:
            bar.close()
    return update


def run_explore(args) -> int:
    from mram_macro.cli_args import UsageError
    from mram_macro.explore.pareto import (
        fronts,
        generate_command,
        parse_target,
        plot_fronts,
        select,
    )
    from mram_macro.explore.sweep import Space, expand, run_sweep, write_results
    from mram_macro.outputs import check_out_dir

    try:
        space = Space(rows=args.rows, cols=args.cols, tdc=args.tdc, clocks_ns=args.clock_ns,
                      stream_widths=args.stream_width, profiles=args.profile,
                      devices=args.device)
        target = parse_target(args.target) if args.target is not None else None
    except (ConfigError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.verify and target is None:
        raise UsageError("--verify checks the configuration --target picks: give --target")
    out = check_out_dir(args.out, "--out")
    points, skipped = expand(space)
    if not points:
        raise UsageError(f"the space holds no legal configuration ({len(skipped)} refused; "
                         f"first: {skipped[0]['reason'] if skipped else '-'})")
    print(f"explore: {len(points)} points ({space.size} combinations, {len(skipped)} not legal "
          f"configurations) over {len(space.devices)} device preset(s)", flush=True)
    progress = _progress_bar("explore")
    if args.serial:
        result = run_sweep(points, dies=args.dies, images=args.images, seed=args.seed,
                           progress=progress)
    else:
        from mram_macro.explore.dask import explore_client

        with explore_client(args.scheduler, workers=args.jobs) as client:
            result = run_sweep(points, client=client, dies=args.dies, images=args.images,
                               seed=args.seed, progress=progress)
    result.skipped = skipped
    paths = write_results(result, out, space=space)
    rows = result.rows
    print(f"explore: {len(rows)} points in {result.elapsed_s:.0f} s on "
          f"{result.workers or 'no'} Dask worker(s) ({result.tasks}); digits network "
          f"software accuracy {100 * result.network['software_accuracy']:.2f} %")
    for device, fr in fronts(rows).items():
        mine = [r for r in rows if r["device"] == device]
        ok = sum(r["feasible"] for r in mine)
        print(f"  {device}: {ok}/{len(mine)} points can be read out; energy-accuracy front "
              f"{len(fr['energy_accuracy'])} points, throughput-area front "
              f"{len(fr['throughput_area'])}")
        best = fr["energy_accuracy"][-1] if fr["energy_accuracy"] else None
        if best:
            print(f"    most accurate on its front: {best['label']} "
                  f"{100 * best['accuracy']:.2f} % at {best['energy_J'] * 1e12:.0f} pJ/VMM")
    for kind, path in paths.items():
        print(f"{kind:5s} {path}")
    if not args.no_plots:
        for path in plot_fronts(rows, out):
            print(f"plot  {path}")
    if target is not None:
        row = select(rows, target, cost=args.cost)
        if row is None:
            print(f"target {args.target}: no point of the sweep meets it")
            return 1
        print(f"target {args.target}: {row['label']} ({row['profile']} profile) - accuracy "
              f"{100 * row['accuracy']:.2f} %, {row['energy_J'] * 1e12:.0f} pJ/VMM, "
              f"{row['vmm_per_s'] / 1e6:.1f} M VMM/s, {row['area_um2']:.0f} µm² digital")
        print(f"  readout for {row['device']} at {row['t_clk_ns']:g} ns: V_ref "
              f"{row['v_ref_ratio']:.3f} V_pre, load {row['c_load_fF']:.1f} fF, "
              f"TDC_START_DELAY {row['start_delay_cycles']}")
        print("  RTL: " + generate_command(row, str(out / "rtl")))
        (out / "target.json").write_text(json.dumps(
            {"target": args.target, "cost": args.cost, "point": row,
             "command": generate_command(row)},
            indent=1) + "\n")
        if args.verify:
            from mram_macro.explore.verify import verify_and_record

            passed, line = verify_and_record(row, out)
            print(f"  verify: {line}")
            if not passed:
                return 1
    return 0
