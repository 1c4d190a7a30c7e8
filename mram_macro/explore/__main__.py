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
        from mram_macro.explore.check import main

        return main(argv[1:])
    if argv[:1] == ["docs"] and (len(argv) == 1 or (len(argv) == 3 and argv[1] == "--sweep")):
        from mram_macro.explore.docs import publish

        print(f"updated {publish(Path(argv[2]) if len(argv) == 3 else None)}")
        return 0
    if argv[:2] == ["verify", "--sweep"] and len(argv) == 3:
        import json

        from mram_macro.explore.verify import verify_and_record

        sweep = Path(argv[2])
        row = json.loads((sweep / "target.json").read_text())["point"]
        passed, line = verify_and_record(row, sweep)
        print(line)
        return 0 if passed else 1
    print(_USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
