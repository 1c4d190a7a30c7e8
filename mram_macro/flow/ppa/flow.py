"""Sign-off flow of one configuration against one library: Verilog -> flat netlist -> STA.

The flat netlist is cached in ``<out>/<library>/<config.slug>/``: it is rebuilt only when the
Verilog, the Liberty file or the target period changed (a stamp file records their hash).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from mram_macro.design.config import FULL_FEATURES, MacroConfig
from mram_macro.flow.clock_tree import TREE_VERSION
from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.sta import StaReport, run_sta
from mram_macro.flow.synth import (
    FlatNetlist,
    count_cells,
    flat_netlist_summary,
    read_liberty_cells,
    synthesize_flat,
)

__all__ = ["SignOff", "flat_netlist", "sign_off", "sign_off_verilog", "STA_CONFIGS"]

TOP = "mram_macro"

#: Configurations `make sta` (``python -m mram_macro.flow.ppa sta``) signs off: the default (plain)
#: macro (two-step TDC, 8 phases, 64-bit stream), the full-featured one (config.FULL_FEATURES)
#: and, with all features, a small one (the test's), the default geometry with 16 phases (the
#: 5 ns clock's design), the counter-TDC macro (32-bit stream) and the chip's 4-bit coarse TDC
#: (its code -> value table; ``make bench`` compares the three modes).
STA_CONFIGS = {"default": MacroConfig(),
               "full": MacroConfig(**FULL_FEATURES),
               "small": MacroConfig(rows=8, cols=4, tdc_bits=4, result_width=8,
                                    stream_width=8, **FULL_FEATURES),
               "two_step_k16": MacroConfig(tdc_fine_taps=16, **FULL_FEATURES),
               "counter": MacroConfig(tdc_mode="counter", stream_width=32, **FULL_FEATURES),
               "coarse": MacroConfig(tdc_mode="coarse", tdc_bits=4, **FULL_FEATURES)}


@dataclass(frozen=True)
class SignOff:
    config: MacroConfig | None
    library: StdCellLibrary
    netlist: FlatNetlist
    sta: StaReport

    @property
    def failures(self) -> tuple[str, ...]:
        """Why the run fails sign-off (empty if it passes): see
        :meth:`~mram_macro.flow.ppa.sta.StaReport.failures` (the worst flip-flop path keeps the
        library's ``min_slack_fraction`` of the period, every path group's setup and hold slack
        is >= 0, asynchronous inputs reach only synchronisers)."""
        return self.sta.failures(self.library.min_slack_fraction)

    @property
    def passed(self) -> bool:
        return not self.failures


def flat_netlist(verilog: Path, lib: StdCellLibrary, workdir: Path, *, top: str = TOP,
                 hold_fix: bool = True) -> FlatNetlist:
    """Flat, timing-driven netlist of ``verilog`` for ``lib``'s target clock, hold-fixed under
    the sign-off constraints unless ``hold_fix`` is false (:mod:`mram_macro.flow.ppa.hold_fix`;
    what it did is in ``hold_fix.json`` beside the netlist); cached."""
    from mram_macro.flow import sdc as sdc_module
    from mram_macro.flow.ppa import hold_fix as hold_fix_module
    from mram_macro.flow.ppa import sta as sta_module
    from mram_macro.flow.ppa.hold_fix import fix_hold
    from mram_macro.flow.ppa.sta import CLOCK_UNCERTAINTY_NS, IO_DELAY_FRACTION

    liberty = lib.require()
    period_ps = 1000.0 * lib.target_period_ns
    key = hashlib.sha256(verilog.read_bytes() + Path(liberty).read_bytes()
                         + f"{period_ps}{lib.driving_cell}{lib.output_load}{top}".encode()
                         + f"{lib.clock_buffer}{lib.clock_pad_buffer}{lib.clock_max_fanout}"
                           f"{TREE_VERSION}".encode()
                         + (Path(hold_fix_module.__file__).read_bytes()
                            + Path(sdc_module.__file__).read_bytes()
                            + Path(sta_module.__file__).read_bytes()
                            + f"{CLOCK_UNCERTAINTY_NS}{IO_DELAY_FRACTION}{lib.hold_buffer}"
                            f"{lib.input_hold_ns}"
                            .encode() if hold_fix else b"no hold fix")
                         ).hexdigest()
    stamp = workdir / "flat.stamp"
    netlist = workdir / f"{top}_flat.v"
    if stamp.exists() and stamp.read_text() == key and netlist.exists():
        return _cached(netlist, top, lib, period_ps, workdir)
    result = synthesize_flat(verilog, top, liberty=liberty, period_ps=period_ps,
                             driving_cell=lib.driving_cell, output_load=lib.output_load,
                             tie_hi=lib.tie_hi, tie_lo=lib.tie_lo, workdir=workdir,
                             clock_buffer=lib.clock_buffer if lib.clock_buffer[0] else None,
                             clock_max_fanout=lib.clock_max_fanout,
                             clock_pad_buffer=lib.clock_pad_buffer if lib.clock_pad_buffer[0]
                             else None)
    report = workdir / "hold_fix.json"
    report.unlink(missing_ok=True)
    if hold_fix and re.search(r"^\s*input\s+clk\s*;", netlist.read_text(), re.M):
        fixed = fix_hold(netlist, top, lib, workdir / "hold_fix")
        report.write_text(json.dumps(asdict(fixed), indent=1) + "\n")
        result = _cached(netlist, top, lib, period_ps, workdir)
    stamp.write_text(key)
    return result


def hold_fix_report(workdir: Path) -> dict | None:
    """What hold fixing did to the flat netlist in ``workdir`` (None: not run)."""
    path = workdir / "hold_fix.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _cached(netlist: Path, top: str, lib: StdCellLibrary, period_ps: float,
            workdir: Path) -> FlatNetlist:
    liberty = lib.require()
    return flat_netlist_summary(netlist, top, liberty.resolve(), period_ps,
                                count_cells(netlist), read_liberty_cells(liberty),
                                workdir / "synth_flat.log")


def sign_off_verilog(verilog: Path, lib: StdCellLibrary, workdir: Path, *, top: str = TOP,
                     config: MacroConfig | None = None) -> SignOff:
    """Flat synthesis and STA of a Verilog file at ``lib``'s target clock."""
    workdir.mkdir(parents=True, exist_ok=True)
    net = flat_netlist(verilog, lib, workdir, top=top)
    sta = run_sta(net.netlist, top, lib, workdir=workdir)
    return SignOff(config=config, library=lib, netlist=net, sta=sta)


def sign_off(config: MacroConfig, lib: StdCellLibrary, out: Path, *,
             clock_gating: bool = True) -> SignOff:
    """Generate ``config``'s Verilog (``clock_gating=False``: the ungated reference), synthesise
    it flat for ``lib`` and time it."""
    from mram_macro.sim.runner import generate

    workdir = out / lib.key / config.slug
    verilog = generate(config, workdir / "rtl", clock_gating=clock_gating)
    return sign_off_verilog(verilog, lib, workdir, config=config)
