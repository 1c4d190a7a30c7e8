"""``mram-macro``: generate, lint, synthesise and demonstrate the MRAM VMM macro.

    mram-macro generate --rows 64 --cols 64 --tdc-bits 7 -o build/gen
    mram-macro synth --rows 32 --cols 16 --out build/synth
    mram-macro lint
    mram-macro demo
    mram-macro digits --dies 20 --rtl-images 24
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import ConfigError, MacroConfig

__all__ = ["main", "write_outputs"]


def _add_config_args(p: argparse.ArgumentParser) -> None:
    d = MacroConfig()
    g = p.add_argument_group("macro configuration")
    g.add_argument("--rows", type=int, default=d.rows, help=f"array rows (default {d.rows})")
    g.add_argument("--cols", type=int, default=d.cols, help=f"array columns (default {d.cols})")
    g.add_argument("--tdc-bits", type=int, default=d.tdc_bits,
                   help=f"TDC code width (default {d.tdc_bits})")
    g.add_argument("--result-width", type=int, default=d.result_width,
                   help=f"signed result width (default {d.result_width})")
    g.add_argument("--stream-width", type=int, default=d.stream_width,
                   help=f"AXI4-Stream tdata width (default {d.stream_width})")
    g.add_argument("--precharge-cycles", type=int, default=d.precharge_cycles,
                   help=f"reset value of PRECHARGE_CYCLES (default {d.precharge_cycles})")
    g.add_argument("--write-pulse-cycles", type=int, default=d.write_pulse_cycles,
                   help=f"reset value of WRITE_PULSE_CYCLES (default {d.write_pulse_cycles})")


def _config(args) -> MacroConfig:
    return MacroConfig(rows=args.rows, cols=args.cols, tdc_bits=args.tdc_bits,
                       result_width=args.result_width, stream_width=args.stream_width,
                       precharge_cycles=args.precharge_cycles,
                       write_pulse_cycles=args.write_pulse_cycles)


def write_outputs(config: MacroConfig, out_dir: str | Path) -> dict[str, Path]:
    """Write the Verilog with its Verilator waivers (``.vlt``), the register map (C header,
    JSON, Markdown, SystemRDL, IP-XACT) and the configuration."""
    from .lint import render_vlt
    from .rdl import compile_systemrdl, to_ipxact, to_systemrdl
    from .top import TOP_NAME, generate_verilog, macro_regmap

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    regmap = macro_regmap(config)
    files = {
        "verilog": out / f"{TOP_NAME}.v",
        "vlt": out / f"{TOP_NAME}.vlt",
        "c_header": out / f"{TOP_NAME}_regs.h",
        "json": out / f"{TOP_NAME}_regs.json",
        "markdown": out / f"{TOP_NAME}_regs.md",
        "systemrdl": out / f"{TOP_NAME}.rdl",
        "ipxact": out / f"{TOP_NAME}.xml",
        "config": out / "config.json",
    }
    generate_verilog(config, files["verilog"])
    files["vlt"].write_text(render_vlt(TOP_NAME))
    files["c_header"].write_text(regmap.to_c_header())
    files["json"].write_text(regmap.to_json())
    files["markdown"].write_text(regmap.to_markdown())
    files["systemrdl"].write_text(to_systemrdl(regmap, TOP_NAME))
    # IP-XACT from the compiled SystemRDL: the reference compiler checks every export.
    to_ipxact(compile_systemrdl(files["systemrdl"]), files["ipxact"])
    files["config"].write_text(config.to_json() + "\n")
    return files


def _cmd_generate(args) -> int:
    files = write_outputs(_config(args), args.output)
    for kind, path in files.items():
        print(f"{kind:9s} {path}")
    return 0


def _cmd_synth(args) -> int:
    from .synth import synthesize

    config = _config(args)
    out = Path(args.out)
    files = write_outputs(config, out)
    report = synthesize(files["verilog"], "mram_macro", workdir=out)
    print(f"Area of mram_macro {config.slug} (Yosys + {report.liberty.name}):")
    print(report.table())
    return 0


def _cmd_lint(args) -> int:
    from .lint import VERILATOR_WAIVERS, verilator_lint

    config = _config(args)
    files = write_outputs(config, args.out)
    verilator_lint(files["verilog"])
    print(f"verilator --lint-only -Wall: clean for {config.slug} with waivers "
          f"{', '.join(VERILATOR_WAIVERS)} ({files['vlt']}, reasons in mram_macro/lint.py)")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(_config(args), n_vmm=args.vmms, seed=args.seed, sims=args.sim)


def _cmd_digits(args) -> int:
    from .nn.demo import run_network_demo

    return run_network_demo(dies=args.dies, hidden=args.hidden, rtl_images=args.rtl_images,
                            sims=[] if args.no_rtl else args.sim, seed=args.seed,
                            multibit=not args.no_multibit)


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
    p.add_argument("--dies", type=_positive_int, default=20,
                   help="dies of the paper's spread per golden study (default 20)")
    p.add_argument("--hidden", type=_positive_int, default=128,
                   help="hidden units of the binarised network (default 128)")
    p.add_argument("--rtl-images", type=_non_negative_int, default=24,
                   help="test images run on the RTL per simulator (default 24)")
    p.add_argument("--sim", action="append", choices=["verilator", "icarus"],
                   help="simulator(s) for the RTL rows (default: both)")
    p.add_argument("--no-rtl", action="store_true", help="skip the RTL rows")
    p.add_argument("--no-multibit", action="store_true", help="skip the multi-bit network")
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seed of the split, the training and the dies (default 0)")
    p.set_defaults(func=_cmd_digits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mram-macro", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write Verilog, register map and C header")
    _add_config_args(p)
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("synth", help="synthesise with Yosys and print the area per block")
    _add_config_args(p)
    p.add_argument("--out", default="build/synth", help="work directory (default build/synth)")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("lint", help="verilator --lint-only -Wall on the generated Verilog")
    _add_config_args(p)
    p.add_argument("--out", default="build/lint", help="work directory (default build/lint)")
    p.set_defaults(func=_cmd_lint)

    p = sub.add_parser("demo", help="generate, run VMMs in RTL simulation, check, and synthesise")
    _add_config_args(p)
    p.add_argument("--vmms", type=int, default=200, help="VMMs per simulator (default 200)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    p.add_argument("--sim", action="append", choices=["verilator", "icarus"],
                   help="simulator(s) to run (default: both)")
    p.set_defaults(func=_cmd_demo)

    _add_digits_parser(sub)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        parser.exit(2, f"mram-macro: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
