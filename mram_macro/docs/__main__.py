"""``python -m mram_macro.docs``: see :func:`mram_macro.docs.generate.main`."""

from mram_macro.docs.generate import main

if __name__ == "__main__":
    raise SystemExit(main())
