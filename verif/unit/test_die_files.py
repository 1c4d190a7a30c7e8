"""Die maps (:class:`sim_models.Die`): reproducible sampling, round trips through ``.npz`` and
CSV, and every malformed, non-physical or mistaken file refused with a message that names the
problem and the allowed range.
"""

import numpy as np
import pytest

from mram_macro.design.config import profile_config
from mram_macro.design.macro import MacroDesign
from sim_models import (
    STUCK_HIGH,
    STUCK_LOW,
    DeviceParams,
    Die,
    DieError,
    MramArray,
    bypass_for_inputs,
)


# -- die maps -------------------------------------------------------------------------------------
def test_die_is_reproducible_and_round_trips_through_npz_and_csv(tmp_path):
    d = DeviceParams.paper(p_stuck_low=0.02, p_stuck_high=0.02, comparator_offset_sigma_V=1e-3)
    die = Die.sample(8, 5, d, seed=2**100 + 3)
    assert die.equals(Die.sample(8, 5, d, seed=2**100 + 3))
    assert not die.equals(Die.sample(8, 5, d, seed=4))
    die.save(tmp_path / "die.npz", device=d)
    assert die.equals(Die.load(tmp_path / "die.npz"))
    die.to_csv(tmp_path / "mtj.csv", tmp_path / "cmp.csv")
    back = Die.from_csv(tmp_path / "mtj.csv", tmp_path / "cmp.csv", seed=die.seed)
    assert back.equals(die)
    assert np.array_equal(Die.from_csv(tmp_path / "mtj.csv").comparator_offset_V, np.zeros(5))
    # the same die drives the golden model and an array built from it
    g = MacroDesign.derive(profile_config("full", rows=8, cols=5, tdc_bits=4, result_width=8,
                                    stream_width=8), d).golden(die=back)
    a = MramArray.from_die(back, d)
    seeded = MramArray(8, 5, d, seed=2**100 + 3)
    w = np.random.default_rng(0).integers(0, 2, (8, 5))
    for arr in (g.array, a, seeded):
        arr.load_weights(w)
    x = np.random.default_rng(1).integers(0, 2, 8)
    r = a.column_resistance_ohm(*bypass_for_inputs(x))
    assert np.array_equal(r, seeded.column_resistance_ohm(*bypass_for_inputs(x)))
    assert np.allclose(g.array.vmm_resistance_ohm(x)[0], r)


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _good_arrays(rows=3, cols=4):
    die = Die.sample(rows, cols, DeviceParams.paper(), seed=1)
    return dict(r_low_ohm=die.r_low_ohm, r_high_ohm=die.r_high_ohm, stuck=die.stuck,
                comparator_offset_V=die.comparator_offset_V, seed=np.array("1"))


@pytest.mark.parametrize("change, message", [
    (dict(stuck=None), "lacks stuck"),
    (dict(seed=None, comparator_offset_V=None), "lacks comparator_offset_V, seed"),
    (dict(r_low_ohm=np.ones((3, 4)) * 1e4), r"r_low_ohm must have shape \(2, rows, cols\)"),
    (dict(r_high_ohm=np.ones((2, 3, 5)) * 3e4), "r_high_ohm must have the shape of r_low_ohm"),
    (dict(comparator_offset_V=np.zeros(3)), r"one value per column, shape \(4,\)"),
    (dict(r_low_ohm=np.full((2, 3, 4), np.nan)), "r_low_ohm contains 24 non-finite"),
    (dict(r_high_ohm=np.full((2, 3, 4), 5e3)), "r_high_ohm lies below r_low_ohm"),
    (dict(r_low_ohm=np.full((2, 3, 4), -1.0)), "r_low_ohm must be positive"),
    (dict(stuck=np.full((2, 3, 4), 3)), "stuck must hold 0"),
    (dict(seed=np.array("x")), "seed must be an integer"),
    (dict(format_version=np.array(2)), "format_version 2"),
])
def test_malformed_die_files_are_rejected(tmp_path, change, message):
    arrays = _good_arrays()
    for k, v in change.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    _write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DieError, match=message):
        Die.load(tmp_path / "bad.npz")


def test_non_die_files_are_rejected(tmp_path):
    (tmp_path / "text.npz").write_text("not a die")
    with pytest.raises(DieError, match="not a readable die file"):
        Die.load(tmp_path / "text.npz")
    with open(tmp_path / "one.npy", "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(DieError, match="holds a single array"):
        Die.load(tmp_path / "one.npy")
    with pytest.raises(FileNotFoundError):
        Die.load(tmp_path / "missing.npz")


_CSV_HEAD = "side,row,col,r_low_ohm,r_high_ohm,stuck\n"


def _mtj_csv(lines, head=_CSV_HEAD):
    return head + "".join(lines)


_GOOD_LINES = [f"{s},0,{c},12000,25000,none\n" for s in "LR" for c in range(2)]


@pytest.mark.parametrize("text, message", [
    (_mtj_csv(_GOOD_LINES, "side,row,column,r_low_ohm,r_high_ohm,stuck\n"),
     "missing col; unexpected column"),
    (_mtj_csv(_GOOD_LINES, "side,row,col,r_low_ohm,r_high_ohm\n"), "missing stuck"),
    (_mtj_csv(_GOOD_LINES[:-1]), r"lacks 1 MTJ\(s\), first \(side R, row 0, col 1\)"),
    (_mtj_csv([*_GOOD_LINES, "L,0,0,12000,25000,none\n"]),
     r"line 6: MTJ \(side L, row 0, col 0\) appears more than once \(first on line 2\)"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,nan,25000,none\n"]), "r_low_ohm contains 1 non-finite"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,12000,oops,none\n"]), "r_high_ohm must be a number"),
    (_mtj_csv([*_GOOD_LINES[:-1], "X,0,1,12000,25000,none\n"]), "side must be L or R"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,12000,25000,maybe\n"]), "stuck must be none, low or"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,-1,12000,25000,none\n"]), "col must be a non-negative"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,30000,25000,none\n"]), "lies below r_low_ohm"),
    (_mtj_csv([]), "no MTJ lines"),
    # issue 22: a file cut mid-line, a line of 3 fields, a stray extra field
    (_mtj_csv(_GOOD_LINES)[:-12], r"line 5: 4 field\(s\), the header names 6 .*cut short"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1\n"]), r"line 5: 3 field\(s\), the header names 6"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,12000,25000,none,7\n"]),
     r"line 5: 7 field\(s\), the header names 6"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,12000+1j,25000,none\n"]),
     r"line 5: r_low_ohm must be a number, not '12000\+1j'"),
    # issue 22: a mistyped index sized the grid, allocated (gigabytes) before the gaps were told
    (_mtj_csv([*_GOOD_LINES[:-1], "R,100000000,1,12000,25000,none\n"]),
     r"'.*mtj\.csv' describes a 100000001x2 array \(row 100000000 on line 5, col 1 on line 3\) "
     r"but lacks 400000000 MTJ\(s\), first \(side L, row 1, col 0\); every MTJ of the grid "
     r"must appear once$"),
    (_mtj_csv([*_GOOD_LINES[:-1], "R,0,100000000,12000,25000,none\n"]),
     r"describes a 1x100000001 array \(row 0 on line 2, col 100000000 on line 5\) but lacks "
     r"199999998 MTJ\(s\), first \(side L, row 0, col 2\)"),
])
def test_malformed_die_csv_is_rejected(tmp_path, text, message):
    (tmp_path / "mtj.csv").write_text(text)
    with pytest.raises(DieError, match=message):
        Die.from_csv(tmp_path / "mtj.csv")


def test_die_csv_with_a_huge_index_is_refused_before_the_grid_is_allocated(tmp_path):
    """Issue 22: the grid the largest indices describe was allocated (and then found to lack
    MTJs); row 10**6 took 70 MB, row 10**8 gigabytes."""
    import tracemalloc

    (tmp_path / "mtj.csv").write_text(
        _mtj_csv([*_GOOD_LINES[:-1], "R,1000000,1,12000,25000,none\n"]))
    tracemalloc.start()
    try:
        with pytest.raises(DieError, match=r"row 1000000 on line 5, .* lacks 4000000 MTJ"):
            Die.from_csv(tmp_path / "mtj.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak


def test_malformed_comparator_csv_is_rejected(tmp_path):
    (tmp_path / "mtj.csv").write_text(_mtj_csv(_GOOD_LINES))
    for text, message in (("col,offset_V\n0,0\n1,0\n", "missing comparator_offset_V"),
                          ("col,comparator_offset_V\n0,0.001\n", "lacks the offset of column 1"),
                          ("col,comparator_offset_V\n0,0\n1,0\n2,0\n", "outside the die's 2"),
                          ("col,comparator_offset_V\n0,0\n1,inf\n", "offset_V contains"),
                          ("col,comparator_offset_V\n0,0\n1,0,5\n", r"line 3: 3 field"),
                          ("col,comparator_offset_V\n0,0\n1\n", r"line 3: 1 field")):
        (tmp_path / "cmp.csv").write_text(text)
        with pytest.raises(DieError, match=message):
            Die.from_csv(tmp_path / "mtj.csv", tmp_path / "cmp.csv")
    (tmp_path / "cmp.csv").write_text("col,comparator_offset_V\n1,-0.002\n0,0.001\n")
    die = Die.from_csv(tmp_path / "mtj.csv", tmp_path / "cmp.csv")
    assert die.comparator_offset_V.tolist() == [0.001, -0.002] and die.stuck.sum() == 0


def test_die_constructor_and_array_checks():
    die = Die.sample(4, 3, seed=0)
    with pytest.raises(DieError, match="r_low_ohm must be real numbers, not complex"):
        Die(r_low_ohm=die.r_low_ohm + 1j, r_high_ohm=die.r_high_ohm, stuck=die.stuck,
            comparator_offset_V=die.comparator_offset_V)
    with pytest.raises(DieError, match="comparator_offset_V must be real numbers"):
        Die(r_low_ohm=die.r_low_ohm, r_high_ohm=die.r_high_ohm, stuck=die.stuck,
            comparator_offset_V=[0, 1e-3j, 0])
    with pytest.raises(ValueError, match="the die is 4x3, not 4x4"):
        MramArray(4, 4, die=die)
    with pytest.raises(TypeError, match="die must be a Die"):
        MramArray.from_die("die.npz")
    with pytest.raises(DieError, match="rows must be a positive integer"):
        Die.sample(0, 3)
    with pytest.raises(DieError, match=r"seed must be an integer in 0..2\*\*128-1"):
        Die.sample(2, 2, seed=-1)
    a = MramArray(4, 3, die=die)
    assert a.die is die and (STUCK_LOW, STUCK_HIGH) == (1, 2)


# -- non-physical values and mistaken files --------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (dict(comparator_offset_V=np.array([0.0, 1e6, 0.0, 0.0])),
     r"comparator_offset_V must lie in -1..1 V; 1 column\(s\) do not, first 1e\+06 V at column 1"),
    (dict(r_low_ohm=np.full((2, 3, 4), 1e-300)),
     r"r_low_ohm must lie in the physical range 10..1e\+08 ohm"),
    (dict(r_high_ohm=np.full((2, 3, 4), 1e300)),
     r"r_high_ohm must lie in the physical range 10..1e\+08 ohm .* first 1e\+300 ohm"),
])
def test_non_physical_die_values_are_rejected_with_the_allowed_range(tmp_path, change, message):
    arrays = {**_good_arrays(), **change}
    _write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DieError, match=message):
        Die.load(tmp_path / "bad.npz")
    seed = int(str(arrays.pop("seed")))
    with pytest.raises(DieError, match=message):
        Die(**arrays, seed=seed)


def test_non_physical_values_in_die_csv_are_rejected(tmp_path):
    (tmp_path / "mtj.csv").write_text(_mtj_csv([*_GOOD_LINES[:-1], "R,0,1,1e-300,25000,none\n"]))
    with pytest.raises(DieError, match=r"r_low_ohm must lie in the physical range 10..1e\+08"):
        Die.from_csv(tmp_path / "mtj.csv")
    (tmp_path / "mtj.csv").write_text(_mtj_csv(_GOOD_LINES))
    (tmp_path / "cmp.csv").write_text("col,comparator_offset_V\n0,1e6\n1,0\n")
    with pytest.raises(DieError, match=r"comparator_offset_V must lie in -1..1 V"):
        Die.from_csv(tmp_path / "mtj.csv", tmp_path / "cmp.csv")


def test_die_csv_saved_with_a_byte_order_mark_reads(tmp_path):
    """A spreadsheet's "CSV UTF-8" starts with a byte-order mark; it named the first column
    '\\ufeffside' and the header was refused."""
    (tmp_path / "mtj.csv").write_text("\ufeff" + _mtj_csv(_GOOD_LINES), encoding="utf-8")
    (tmp_path / "cmp.csv").write_text("\ufeffcol,comparator_offset_V\n0,0.001\n1,0\n",
                                      encoding="utf-8")
    die = Die.from_csv(tmp_path / "mtj.csv", tmp_path / "cmp.csv")
    assert die.r_low_ohm.shape == (2, 1, 2) and die.comparator_offset_V.tolist() == [0.001, 0]


def test_binary_file_passed_as_csv_gets_a_clear_error(tmp_path):
    Die.sample(2, 2, seed=3).save(tmp_path / "die.npz")
    with pytest.raises(DieError, match=r"is not a text CSV file: .* looks like a .npz die file"):
        Die.from_csv(tmp_path / "die.npz")
    (tmp_path / "mtj.csv").write_text(_mtj_csv(_GOOD_LINES))
    (tmp_path / "cmp.bin").write_bytes(bytes([0xFF, 0xFE, 0x00, 0x81]))
    with pytest.raises(DieError, match=r"is not a text CSV file: byte 0xFF at offset 0"):
        Die.from_csv(tmp_path / "mtj.csv", tmp_path / "cmp.bin")
    (tmp_path / "nul.csv").write_bytes(b"side,row\0,col\n")
    with pytest.raises(DieError, match="contains NUL bytes"):
        Die.from_csv(tmp_path / "nul.csv")
