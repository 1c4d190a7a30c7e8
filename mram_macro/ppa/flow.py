"""Sign-off flow of one configuration against one library: Verilog -> flat netlist -> STA.

The flat netlist is cached in ``<out>/<library>/<config.slug>/``: it is rebuilt only when the
Verilog, the Liberty file or the target period changed (a stamp file records their hash).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..config import MacroConfig
from ..synth import FlatNetlist, read_liberty_cells, synthesize_flat
from .libraries import StdCellLibrary
from .sta import StaReport, run_sta

__all__ = ["SignOff", "flat_netlist", "sign_off", "sign_off_verilog"]

TOP = "mram_macro"


@dataclass(frozen=True)
class SignOff:
    config: MacroConfig | None
    library: StdCellLibrary
    netlist: FlatNetlist
    sta: StaReport

    @property
    def passed(self) -> bool:
        return self.sta.slack_fraction >= self.library.min_slack_fraction


def flat_netlist(verilog: Path, lib: StdCellLibrary, workdir: Path, *, top: str = TOP
                 ) -> FlatNetlist:
    """Flat, timing-driven netlist of ``verilog`` for ``lib``'s target clock (cached)."""
    liberty = lib.require()
    period_ps = 1000.0 * lib.target_period_ns
    key = hashlib.sha256(verilog.read_bytes() + str(liberty).encode()
                         + f"{period_ps}{lib.driving_cell}{lib.output_load}{top}".encode()
                         ).hexdigest()
    stamp = workdir / "flat.stamp"
    netlist = workdir / f"{top}_flat.v"
    if stamp.exists() and stamp.read_text() == key and netlist.exists():
        return _cached(netlist, top, lib, period_ps, workdir)
    result = synthesize_flat(verilog, top, liberty=liberty, period_ps=period_ps,
                             driving_cell=lib.driving_cell, output_load=lib.output_load,
                             tie_hi=lib.tie_hi, tie_lo=lib.tie_lo, workdir=workdir)
    stamp.write_text(key)
    return result


def _cached(netlist: Path, top: str, lib: StdCellLibrary, period_ps: float,
            workdir: Path) -> FlatNetlist:
    from ..synth import _parse_stat

    counts, _, _ = _parse_stat((workdir / "stat_flat.txt").read_text())
    cells = counts[top]
    lib_cells = read_liberty_cells(lib.liberty)
    return FlatNetlist(netlist=netlist, top=top, liberty=lib.liberty.resolve(),
                       period_ps=period_ps,
                       area_um2=sum(lib_cells[t].area_um2 * n for t, n in cells.items()),
                       cells=cells,
                       flip_flops=sum(n for t, n in cells.items() if lib_cells[t].is_flip_flop),
                       log=workdir / "synth_flat.log")


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
    from ..sim.runner import generate

    workdir = out / lib.key / config.slug
    verilog = generate(config, workdir / "rtl", clock_gating=clock_gating)
    return sign_off_verilog(verilog, lib, workdir, config=config)
