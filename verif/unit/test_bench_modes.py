"""The per-TDC-mode ``make bench`` table (verif/bench_modes.py) and the study behind its error
cells (sim_models.studies.tracking_study): rows formatted from their measurements, rates
only where STA passed, tracking-on cells only for builds with the tracker. Tiny studies, no
simulation."""

import re

import pytest

from mram_macro.design.config import profile_config
from mram_macro.design.macro import MacroDesign
from sim_models import DeviceParams
from sim_models.calibration import check_methods
from sim_models.studies import tracking_study
from verif.bench_modes import (
    MODES,
    NO_TRACKER,
    ModeRow,
    Speed,
    accuracy_cells,
    format_table,
)

PAPER = DeviceParams.paper()


def _study(mode, t_clk_ns=2.0):
    design = MacroDesign.derive_nominal(mode.accuracy_config, PAPER, t_clk_ns=t_clk_ns)
    return tracking_study(mode.accuracy_config, PAPER, dies=1, temperatures_C=(25.0, 85.0),
                          test_vectors=32, track_interval=8, methods=mode.methods,
                          t_clk_ns=t_clk_ns, registers=design.register_state)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_error_cells_follow_the_build(mode):
    """Numbers from the study in the slots of the calibrations the build has; the tracking-on
    cells say there is no tracker exactly when the build has none (whatever mode it is)."""
    study = _study(mode)
    cells = accuracy_cells(mode, study)
    assert len(cells) == 4
    tracker = mode.accuracy_config.has_tracker
    assert study.has_tracker == tracker
    for (temperature, tracking), cell in zip(
            [(25.0, False), (25.0, True), (85.0, False), (85.0, True)], cells, strict=True):
        if tracking and not tracker:
            assert cell == NO_TRACKER
            with pytest.raises(KeyError, match="no temperature tracker"):
                study.row("none", temperature, True)
            continue
        parts = cell.split(" → ")
        assert len(parts) == 3
        for slot, part in zip((("none",), ("offset",), ("gain+offset", "table")), parts,
                              strict=True):
            method = next((m for m in slot if m in mode.methods), None)
            if method is None:
                assert part == "n/a"
            else:
                s = study.row(method, temperature, tracking).stats
                assert part == f"{s.mean_abs:.2f}/{s.rms:.2f}"


def test_tracking_rows_only_with_the_tracker():
    """A build without the tracker gets no tracking-on rows (the golden model would track in
    any build: the study must not report a tracker the RTL does not have)."""
    off = profile_config("full", tdc_mode="counter", stream_width=32, calibration="offset")
    on = profile_config("full", tdc_mode="counter", stream_width=32, calibration="gain")
    s_off = tracking_study(off, PAPER, dies=1, temperatures_C=(85.0,), test_vectors=64,
                           methods=("none", "offset"),
                           registers=MacroDesign.derive_nominal(off, PAPER).register_state)
    s_on = tracking_study(on, PAPER, dies=1, temperatures_C=(85.0,), test_vectors=64,
                          methods=("none",),
                          registers=MacroDesign.derive_nominal(on, PAPER).register_state)
    assert not s_off.has_tracker and {r.tracking for r in s_off.rows} == {False}
    assert s_on.has_tracker and {r.tracking for r in s_on.rows} == {False, True}
    # the hot die's error falls with tracking on: the tracking-on rows are really tracked
    assert (s_on.row("none", 85.0, True).stats.mean_abs
            < 0.6 * s_on.row("none", 85.0, False).stats.mean_abs)


def test_methods_need_their_registers():
    counter = profile_config("full", tdc_mode="counter", stream_width=32)
    coarse = profile_config("full", tdc_mode="coarse", tdc_bits=4, stream_width=64)
    with pytest.raises(ValueError, match="calibration='gain'"):
        check_methods(counter, ("gain+offset",))
    with pytest.raises(ValueError, match="tdc_mode='coarse'"):
        check_methods(counter, ("table",))
    with pytest.raises(ValueError, match="CAL_OFFSET"):
        check_methods(coarse, ("offset",))
    with pytest.raises(ValueError, match="method must be one of"):
        check_methods(counter, ("gain",))


def _speed(**kw):
    base = dict(clock_ns=2.0, window_ns=(16.2, 32.2), cycles_per_vmm=19.86, utilisation=0.799,
                sta_passed=True, wns_ns=0.72, area_um2=73554.4)
    return Speed(**{**base, **kw})


def test_table_rows_give_a_rate_only_where_sta_passed():
    mode = MODES[1]
    rows = [ModeRow(mode, "NanGate 45 nm", _speed(), None),
            ModeRow(mode, "NanGate 45 nm", _speed(sta_passed=False, wns_ns=-0.3,
                                                  note="STA fails the 2 ns target"), None),
            ModeRow(mode, "OSU 0.18 µm", _speed(window_ns=None, cycles_per_vmm=None,
                                                utilisation=None), None)]
    header, rule, ok, failed, undesignable = format_table(rows)
    n = header.count("|")
    assert all(line.count("|") == n for line in (rule, ok, failed, undesignable))
    cells = [c.strip() for c in ok.split("|")[1:-1]]
    assert cells[:7] == [f"two_step (`{mode.config.slug}`)", "NanGate 45 nm, 2 ns, WNS +0.72 ns",
                         "16.2..32.2", "19.86", "79.9 %", "**25.18 M**", "73,554"]
    assert cells[7:] == ["not measured"] * 4
    assert "M**" not in failed and "not given: STA fails the 2 ns target" in failed
    assert "WNS -0.30 ns" in failed
    assert "not designable" in undesignable and "no readout for this clock" in undesignable
    assert not re.search(r"\d M\b", undesignable)
