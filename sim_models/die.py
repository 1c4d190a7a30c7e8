"""One die: every MTJ's low and high resistance, its stuck-at faults and each column
comparator's offset, sampled from a seed or loaded from measured data.

The same :class:`Die` feeds the golden model and the HDL simulation's pin model, so both see the
same device. Resistances are the MTJ's own (bypass transistor excluded) at the device's
reference temperature; :class:`~sim_models.array.MramArray` applies the operating temperature.

Files:

* NumPy ``.npz`` (:meth:`Die.save` / :meth:`Die.load`): arrays ``r_low_ohm``, ``r_high_ohm``
  (float, ``(2, rows, cols)``, index 0 = left MTJ holding W, 1 = right MTJ holding W-bar),
  ``stuck`` (int, same shape: 0 none, 1 stuck low, 2 stuck high), ``comparator_offset_V``
  (float, ``(cols,)``), ``seed`` (the noise seed) and ``format_version``.
* CSV for measured data (:meth:`Die.to_csv` / :meth:`Die.from_csv`): one line per MTJ with the
  header ``side,row,col,r_low_ohm,r_high_ohm,stuck`` (side ``L``/``R``, stuck
  ``none``/``low``/``high``), and optionally a second file ``col,comparator_offset_V``.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from sim_models.device import DeviceError, DeviceParams

__all__ = ["Die", "DieError", "STUCK_NONE", "STUCK_LOW", "STUCK_HIGH", "DIE_FORMAT_VERSION",
           "MTJ_R_RANGE_OHM", "COMPARATOR_OFFSET_MAX_V"]

STUCK_NONE, STUCK_LOW, STUCK_HIGH = 0, 1, 2
DIE_FORMAT_VERSION = 1

#: Resistances a die may give an MTJ. Real MTJs lie between a few hundred ohms and a few
#: megaohms; anything outside 10 ohm .. 100 Mohm is a unit mistake (ohm vs kohm, a code instead
#: of a resistance) or corrupt data, not a device.
MTJ_R_RANGE_OHM = (10.0, 100e6)
#: Largest comparator offset magnitude a die may hold: one volt, more than the whole 0.9 V
#: precharge swing of the column. A larger offset is a unit mistake (mV vs V) or corrupt data.
COMPARATOR_OFFSET_MAX_V = 1.0

_NPZ_KEYS = ("r_low_ohm", "r_high_ohm", "stuck", "comparator_offset_V", "seed")
_MTJ_CSV_COLUMNS = ("side", "row", "col", "r_low_ohm", "r_high_ohm", "stuck")
_CMP_CSV_COLUMNS = ("col", "comparator_offset_V")
_SIDES = {"L": 0, "R": 1}
_STUCK_NAMES = {"none": STUCK_NONE, "low": STUCK_LOW, "high": STUCK_HIGH}


class DieError(DeviceError):
    """A die (or die file) that cannot describe a real array; the message says what is wrong."""


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not (
            0 <= seed < 1 << 128):
        raise DieError(f"seed must be an integer in 0..2**128-1, not {seed!r}")
    return int(seed)


@dataclass(eq=False)
class Die:
    """Per-MTJ resistances and faults and per-column comparator offsets of one die."""

    #: MTJ low-state resistance, ``(2, rows, cols)``, at the reference temperature.
    r_low_ohm: np.ndarray
    #: MTJ high-state resistance, ``(2, rows, cols)``, at the reference temperature.
    r_high_ohm: np.ndarray
    #: ``STUCK_NONE`` / ``STUCK_LOW`` / ``STUCK_HIGH`` per MTJ, ``(2, rows, cols)``.
    stuck: np.ndarray
    #: Static input offset of each column's comparator, ``(cols,)``.
    comparator_offset_V: np.ndarray
    #: Seed of the die's per-evaluation noise and write randomness.
    seed: int = 0

    def __post_init__(self) -> None:
        self.seed = _check_seed(self.seed)
        arrays = {}
        for name in ("r_low_ohm", "r_high_ohm", "stuck", "comparator_offset_V"):
            value = getattr(self, name)
            if np.iscomplexobj(value):         # float64 would drop the imaginary part
                raise DieError(f"{name} must be real numbers, not complex")
            try:
                arrays[name] = np.array(value, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DieError(f"{name} must be a numeric array: {exc}") from None
        r_low, r_high = arrays["r_low_ohm"], arrays["r_high_ohm"]
        if r_low.ndim != 3 or r_low.shape[0] != 2 or 0 in r_low.shape:
            raise DieError(f"r_low_ohm must have shape (2, rows, cols) (left and right MTJs), "
                           f"not {r_low.shape}")
        shape = r_low.shape
        for name in ("r_high_ohm", "stuck"):
            if arrays[name].shape != shape:
                raise DieError(f"{name} must have the shape of r_low_ohm {shape}, "
                               f"not {arrays[name].shape}")
        if arrays["comparator_offset_V"].shape != (shape[2],):
            raise DieError(f"comparator_offset_V must have one value per column, shape "
                           f"({shape[2]},), not {arrays['comparator_offset_V'].shape}")
        for name, a in arrays.items():
            if not np.isfinite(a).all():
                raise DieError(f"{name} contains {np.count_nonzero(~np.isfinite(a))} "
                               f"non-finite value(s) (NaN or inf), first at index "
                               f"{np.argwhere(~np.isfinite(a))[0].tolist()}")
        for name, a in (("r_low_ohm", r_low), ("r_high_ohm", r_high)):
            if (a <= 0).any():
                raise DieError(f"{name} must be positive everywhere; {np.count_nonzero(a <= 0)} "
                               f"value(s) are not, first {a[a <= 0][0]!r} at index "
                               f"{np.argwhere(a <= 0)[0].tolist()}")
        lo_ohm, hi_ohm = MTJ_R_RANGE_OHM
        for name, a in (("r_low_ohm", r_low), ("r_high_ohm", r_high)):
            bad = (a < lo_ohm) | (a > hi_ohm)
            if bad.any():
                raise DieError(f"{name} must lie in the physical range {lo_ohm:g}..{hi_ohm:g} ohm "
                               f"(per MTJ); {np.count_nonzero(bad)} value(s) do not, first "
                               f"{a[bad][0]:g} ohm at [side, row, col] = "
                               f"{np.argwhere(bad)[0].tolist()}")
        offset = arrays["comparator_offset_V"]
        bad = np.abs(offset) > COMPARATOR_OFFSET_MAX_V
        if bad.any():
            raise DieError(f"comparator_offset_V must lie in -{COMPARATOR_OFFSET_MAX_V:g}.."
                           f"{COMPARATOR_OFFSET_MAX_V:g} V; {np.count_nonzero(bad)} column(s) do "
                           f"not, first {offset[bad][0]:g} V at column "
                           f"{int(np.flatnonzero(bad)[0])}")
        below = r_high < r_low
        if below.any():
            i = tuple(np.argwhere(below)[0])
            raise DieError(f"r_high_ohm lies below r_low_ohm for {np.count_nonzero(below)} MTJ(s), "
                           f"first at [side, row, col] = {list(map(int, i))}: "
                           f"{r_high[i]!r} < {r_low[i]!r}")
        stuck = arrays["stuck"]
        if not np.isin(stuck, (STUCK_NONE, STUCK_LOW, STUCK_HIGH)).all():
            bad = stuck[~np.isin(stuck, (STUCK_NONE, STUCK_LOW, STUCK_HIGH))][0]
            raise DieError(f"stuck must hold 0 (none), 1 (stuck low) or 2 (stuck high), "
                           f"not {bad!r}")
        self.r_low_ohm, self.r_high_ohm = r_low, r_high
        self.stuck = stuck.astype(np.int8)
        self.comparator_offset_V = arrays["comparator_offset_V"]

    # -- shape and faults -----------------------------------------------------------------------
    @property
    def rows(self) -> int:
        return self.r_low_ohm.shape[1]

    @property
    def cols(self) -> int:
        return self.r_low_ohm.shape[2]

    @property
    def stuck_low(self) -> np.ndarray:
        return self.stuck == STUCK_LOW

    @property
    def stuck_high(self) -> np.ndarray:
        return self.stuck == STUCK_HIGH

    def equals(self, other: Die) -> bool:
        """Same seed and bit-identical arrays."""
        return (isinstance(other, Die) and self.seed == other.seed
                and all(np.array_equal(getattr(self, k), getattr(other, k))
                        for k in ("r_low_ohm", "r_high_ohm", "stuck", "comparator_offset_V")))

    # -- sampling -------------------------------------------------------------------------------
    @classmethod
    def sample(cls, rows: int, cols: int, device: DeviceParams | None = None, *,
               seed: int | None = 0) -> Die:
        """A die drawn from ``device``'s distributions; the same seed gives the same die.

        Per MTJ: ``R_low ~ N(r_mtj_low, sigma_low)``, ``R_high ~ N(r_mtj_high, sigma_high)``
        (the paper's spread is per cell and is applied to the MTJ), clipped at 1 % of nominal
        and ``R_high >= R_low`` so that extreme draws stay physical; stuck low with probability
        ``p_stuck_low``, stuck high with ``p_stuck_high``. Per column: comparator offset
        ``~ N(0, comparator_offset_sigma_V)``. ``seed=None`` draws a fresh seed (kept in
        :attr:`seed`).
        """
        for name, value in (("rows", rows), ("cols", cols)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DieError(f"{name} must be a positive integer, not {value!r}")
        device = device or DeviceParams()
        if seed is None:
            seed = int(np.random.SeedSequence().entropy) % (1 << 128)
        seed = _check_seed(seed)
        rng = np.random.default_rng(seed)
        shape = (2, rows, cols)
        r_low = device.r_mtj_low_ohm + device.sigma_low_ohm * rng.standard_normal(shape)
        r_high = device.r_mtj_high_ohm + device.sigma_high_ohm * rng.standard_normal(shape)
        np.maximum(r_low, 0.01 * device.r_mtj_low_ohm, out=r_low)
        np.maximum(r_high, 0.01 * device.r_mtj_high_ohm, out=r_high)
        np.maximum(r_high, r_low, out=r_high)
        u = rng.random(shape)
        stuck = np.where(u < device.p_stuck_low, STUCK_LOW,
                         np.where(u < device.p_stuck_low + device.p_stuck_high, STUCK_HIGH,
                                  STUCK_NONE))
        offsets = device.comparator_offset_sigma_V * rng.standard_normal(cols)
        return cls(r_low, r_high, stuck, offsets, seed)

    # -- NumPy file -----------------------------------------------------------------------------
    def save(self, path, *, device: DeviceParams | None = None) -> None:
        """Write a ``.npz`` die file (``device``, if given, is stored as JSON for reference)."""
        meta = {"rows": self.rows, "cols": self.cols,
                "device": device.to_dict() if device is not None else None}
        with open(path, "wb") as f:
            np.savez_compressed(f, r_low_ohm=self.r_low_ohm, r_high_ohm=self.r_high_ohm,
                                stuck=self.stuck, comparator_offset_V=self.comparator_offset_V,
                                seed=np.array(str(self.seed)),
                                format_version=np.array(DIE_FORMAT_VERSION),
                                meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path) -> Die:
        """Read a die file written by :meth:`save`; anything malformed raises :class:`DieError`."""
        name = os.fspath(path)
        try:
            data = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise DieError(f"{name!r} is not a readable die file (.npz): {exc}") from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise DieError(f"{name!r} holds a single array, not a die file "
                           f"(.npz with {', '.join(_NPZ_KEYS)})")
        with data:
            missing = [k for k in _NPZ_KEYS if k not in data.files]
            if missing:
                raise DieError(f"die file {name!r} lacks {', '.join(missing)}; a die file holds "
                               f"{', '.join(_NPZ_KEYS)}")
            version = int(data["format_version"]) if "format_version" in data.files else 1
            if version != DIE_FORMAT_VERSION:
                raise DieError(f"die file {name!r} has format_version {version}; this kit "
                               f"reads version {DIE_FORMAT_VERSION}")
            try:
                arrays = {k: data[k] for k in _NPZ_KEYS}
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise DieError(f"die file {name!r} is damaged: {exc}") from None
        try:
            seed = int(str(arrays.pop("seed")))
        except ValueError:
            raise DieError(f"die file {name!r}: seed must be an integer") from None
        return cls(**arrays, seed=seed)

    # -- CSV ------------------------------------------------------------------------------------
    def to_csv(self, mtj_path, comparator_path=None) -> None:
        """Write the per-MTJ CSV (and the per-column comparator CSV if a path is given)."""
        names = {v: k for k, v in _STUCK_NAMES.items()}
        with open(mtj_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(_MTJ_CSV_COLUMNS)
            for (side, row, col), r_low in np.ndenumerate(self.r_low_ohm):
                w.writerow(["LR"[side], row, col, repr(float(r_low)),
                            repr(float(self.r_high_ohm[side, row, col])),
                            names[int(self.stuck[side, row, col])]])
        if comparator_path is not None:
            with open(comparator_path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(_CMP_CSV_COLUMNS)
                for col, v in enumerate(self.comparator_offset_V):
                    w.writerow([col, repr(float(v))])

    @classmethod
    def from_csv(cls, mtj_path, comparator_path=None, *, seed: int = 0) -> Die:
        """A die from measured data: the per-MTJ CSV and, optionally, the comparator CSV (else
        zero offsets). Every MTJ of the ``(2, rows, cols)`` grid must appear exactly once."""
        records = _read_csv(mtj_path, _MTJ_CSV_COLUMNS)
        cells = {}          # (side, row, col) -> (line, r_low, r_high, stuck)
        for line, rec in records:
            where = f"{os.fspath(mtj_path)!r} line {line}"
            side = rec["side"].strip().upper()
            if side not in _SIDES:
                raise DieError(f"{where}: side must be L or R, not {rec['side']!r}")
            stuck = rec["stuck"].strip().lower()
            if stuck not in _STUCK_NAMES:
                raise DieError(f"{where}: stuck must be none, low or high, not {rec['stuck']!r}")
            key = (_SIDES[side], _csv_int(rec, "row", where), _csv_int(rec, "col", where))
            if key in cells:
                raise DieError(f"{where}: MTJ (side {side}, row {key[1]}, col {key[2]}) appears "
                               f"more than once (first on line {cells[key][0]})")
            cells[key] = (line, _csv_float(rec, "r_low_ohm", where),
                          _csv_float(rec, "r_high_ohm", where), _STUCK_NAMES[stuck])
        if not cells:
            raise DieError(f"{os.fspath(mtj_path)!r} has a header but no MTJ lines")
        # The largest indices size the grid. Every MTJ appears once, so a complete grid has no
        # more MTJs than the file has lines: check that before allocating it (a mistyped index
        # would otherwise ask for gigabytes).
        last_row = max(cells, key=lambda k: k[1])
        last_col = max(cells, key=lambda k: k[2])
        rows, cols = last_row[1] + 1, last_col[2] + 1
        if 2 * rows * cols > len(cells):
            present = sorted(side * rows * cols + row * cols + col for side, row, col in cells)
            first = next((i for i, at in enumerate(present) if i != at), len(present))
            side, row, col = first // (rows * cols), first // cols % rows, first % cols
            raise DieError(f"{os.fspath(mtj_path)!r} describes a {rows}x{cols} array (row "
                           f"{rows - 1} on line {cells[last_row][0]}, col {cols - 1} on line "
                           f"{cells[last_col][0]}) but lacks {2 * rows * cols - len(cells)} "
                           f"MTJ(s), first (side {'LR'[side]}, row {row}, col {col}); every MTJ "
                           f"of the grid must appear once")
        shape = (2, rows, cols)
        r_low, r_high = np.empty(shape), np.empty(shape)
        stuck = np.empty(shape, dtype=np.int8)
        for (side, row, col), (_, lo, hi, st) in cells.items():
            r_low[side, row, col], r_high[side, row, col], stuck[side, row, col] = lo, hi, st
        offsets = np.zeros(cols)
        if comparator_path is not None:
            seen_cols = np.zeros(cols, dtype=bool)
            for line, rec in _read_csv(comparator_path, _CMP_CSV_COLUMNS):
                where = f"{os.fspath(comparator_path)!r} line {line}"
                col = _csv_int(rec, "col", where)
                if col >= cols:
                    raise DieError(f"{where}: col {col} is outside the die's {cols} columns")
                if seen_cols[col]:
                    raise DieError(f"{where}: col {col} appears more than once")
                seen_cols[col] = True
                offsets[col] = _csv_float(rec, "comparator_offset_V", where)
            if not seen_cols.all():
                raise DieError(f"{os.fspath(comparator_path)!r} lacks the offset of column "
                               f"{int(np.argmin(seen_cols))} (of {cols})")
        return cls(r_low, r_high, stuck, offsets, seed)


def _read_csv(path, columns):
    name = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    hint = " (it looks like a .npz die file: load it with Die.load)" if raw[:2] == b"PK" else ""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DieError(f"{name!r} is not a text CSV file: byte 0x{raw[exc.start]:02X} at offset "
                       f"{exc.start} is not UTF-8{hint}") from None
    if "\0" in text:
        raise DieError(f"{name!r} is not a text CSV file: it contains NUL bytes{hint}")
    # A spreadsheet's "CSV UTF-8" starts with a byte-order mark, which would glue itself to
    # the first column's name.
    reader = csv.DictReader(text.removeprefix("\ufeff").splitlines())
    header = tuple(h.strip() for h in (reader.fieldnames or ()))
    if sorted(header) != sorted(columns):
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        detail = "; ".join(filter(None, [
            f"missing {', '.join(missing)}" if missing else "",
            f"unexpected {', '.join(extra)}" if extra else ""])) or "duplicate columns"
        raise DieError(f"{name!r}: the header must name the columns "
                       f"{','.join(columns)} ({detail})")
    reader.fieldnames = list(header)
    records = []
    for i, rec in enumerate(reader):
        # DictReader files surplus fields under None and fills missing ones with None: a line
        # cut short (a truncated file) or with a stray separator would slip through.
        n_fields = len(header) + len(rec.get(None) or ()) - sum(
            rec[c] is None for c in header)
        if n_fields != len(header):
            raise DieError(f"{name!r} line {i + 2}: {n_fields} field(s), the header names "
                           f"{len(header)} ({','.join(columns)}); is the file cut short or a "
                           f"separator misplaced?")
        records.append((i + 2, rec))
    return records


def _csv_int(rec, name, where) -> int:
    try:
        value = int(rec[name])
    except (TypeError, ValueError):
        raise DieError(f"{where}: {name} must be a non-negative integer, "
                       f"not {rec[name]!r}") from None
    if value < 0:
        raise DieError(f"{where}: {name} must be a non-negative integer, not {value}")
    return value


def _csv_float(rec, name, where) -> float:
    try:
        return float(rec[name])
    except (TypeError, ValueError):
        raise DieError(f"{where}: {name} must be a number, not {rec[name]!r}") from None
