"""The files ``mram-macro generate`` writes (:func:`write_outputs`) and the checks of where
outputs go: every bad path is refused with a :class:`~mram_macro.cli_args.UsageError` before
anything is written, and outputs are staged next to their destination and moved into place only
when all of them exist (:func:`staged_dir`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mram_macro.cli_args import UsageError
from mram_macro.design.config import MacroConfig

__all__ = ["write_outputs", "staged_dir", "check_out_dir", "check_out_file"]


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
    (``.sdc``, :mod:`mram_macro.flow.sdc`), a behavioural stand-in for the analogue array
    (``<prefix>mram_array_model.v``, :mod:`mram_macro.rtl.array_model`), the register map (C
    header, JSON, Markdown, SystemRDL, IP-XACT) and the configuration.

    All files are produced in a temporary folder and moved into ``out_dir`` at the end, so a
    failure leaves ``out_dir`` as it was. ``prefix`` goes in front of every module name and
    file name (and the C header's macro prefix), so that two configurations can sit in one
    design and one folder (:func:`mram_macro.rtl.top.generate_verilog`).

    Raises:
        UsageError: ``out_dir`` is a file or not writable, or ``prefix`` is not usable.
    """
    from mram_macro.design.macro import MacroDesign
    from mram_macro.docs.rdl import compile_systemrdl, to_ipxact, to_systemrdl
    from mram_macro.flow.lint import render_vlt
    from mram_macro.flow.sdc import render_sdc
    from mram_macro.rtl.array_model import MODEL_NAME, render_array_model
    from mram_macro.rtl.top import TOP_NAME, check_prefix, generate_verilog

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
        design = MacroDesign.derive(config)
        regmap = design.regmap
        verilog = generate_verilog(design, tmp / names["verilog"], prefix=prefix)
        (tmp / names["sdc"]).write_text(render_sdc(config, verilog, top=top))
        (tmp / names["array_model"]).write_text(render_array_model(
            config, start_delay=design.start_delay_cycles, prefix=prefix))
        (tmp / names["vlt"]).write_text(render_vlt(top))
        (tmp / names["c_header"]).write_text(regmap.to_c_header(prefix=top.upper()))
        (tmp / names["json"]).write_text(regmap.to_json())
        (tmp / names["markdown"]).write_text(regmap.to_markdown())
        (tmp / names["systemrdl"]).write_text(to_systemrdl(regmap, top))
        # IP-XACT from the compiled SystemRDL: the reference compiler checks every export.
        to_ipxact(compile_systemrdl(tmp / names["systemrdl"]), tmp / names["ipxact"])
        (tmp / names["config"]).write_text(config.to_json() + "\n")
    return {kind: Path(out_dir) / name for kind, name in names.items()}
