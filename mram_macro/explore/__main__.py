"""``python -m mram_macro.explore check|docs|verify``: the model against the gate-level flow
(:mod:`mram_macro.explore.check`); docs/explore.md's generated blocks
(:mod:`mram_macro.explore.docs`; ``--sweep DIR`` adds a finished sweep's results); or the RTL of
a finished sweep's ``--target`` pick generated, linted and run bit-exact
(:mod:`mram_macro.explore.verify`, from DIR/target.json). The sweep itself is
``mram-macro explore``."""

import sys
from pathlib import Path

_USAGE = ("usage: python -m mram_macro.explore check [--configs ...] [--vmms N] [--out DIR]\n"
          "       python -m mram_macro.explore docs [--sweep DIR]\n"
          "       python -m mram_macro.explore verify --sweep DIR\n"
          "(the sweep is `mram-macro explore`)")


def _main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        from .check import main

        return main(argv[1:])
    if argv[:1] == ["docs"] and (len(argv) == 1 or (len(argv) == 3 and argv[1] == "--sweep")):
        from .docs import publish

        print(f"updated {publish(Path(argv[2]) if len(argv) == 3 else None)}")
        return 0
    if argv[:2] == ["verify", "--sweep"] and len(argv) == 3:
        import json

        from .verify import verify_rtl

        sweep = Path(argv[2])
        row = json.loads((sweep / "target.json").read_text())["point"]
        check = verify_rtl(row, sweep / "rtl")
        line = (f"{row['label']}: {check.verilog.name} generated, verilator --lint-only -Wall "
                f"clean, {check.vmms} random VMMs on Verilator against the golden model of the "
                f"same die: {'bit-exact' if check.passed else f'{check.mismatches} MISMATCHED'}")
        (sweep / "verify.json").write_text(json.dumps(
            {"label": row["label"], "passed": check.passed, "line": line}) + "\n")
        print(line)
        return 0 if check.passed else 1
    print(_USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
