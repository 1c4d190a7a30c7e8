"""``python -m mram_macro.explore check``: the model against the gate-level flow
(:mod:`mram_macro.explore.check`). The sweep itself is ``mram-macro explore``."""

import sys

from .check import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] != "check":
        sys.exit("usage: python -m mram_macro.explore check [--configs ...] [--vmms N] "
                 "[--out DIR]; the sweep is `mram-macro explore`")
    sys.exit(main(argv[1:]))
