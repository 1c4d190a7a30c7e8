"""A bank of macros on one die: tiles of layers larger than one array placed on many macros.

A :class:`Bank` holds ``n_macros`` :class:`~mram_macro.host.Macro` objects of one die. The die
has **one** seed; macro ``i`` is sampled with :meth:`Bank.macro_seed` ``(seed, i)``, so two
banks of the same seed are the same silicon, macro for macro, on the golden model and on the
RTL.

:meth:`Bank.place` maps a ±1 layer ``(K, N)`` onto ``ceil(K/rows) x ceil(N/cols)`` tiles
(:func:`mram_macro.host.tiles.plan_layer`) and gives each tile a macro: weight-stationary (each
tile written and calibrated once) while the bank has a free macro per tile, else the layer's
tiles share all the bank's macros, round robin, and a tile is re-written whenever its turn comes,
with the calibration of its first writing restored (as a host would keep it; the tracking
reference too) rather than calibrated anew. :meth:`BankLayer.run` streams a batch through the
tiles.

Combining row tiles. A macro's accumulator adds passes through *its own* weights; row tiles held
by different macros cannot meet in one accumulator, so their partial sums are added on the host.
Where a layer fits the rows (one row tile) its sign activations run on-chip in the activation
mode (one bit per column leaves the macro); a layer of several row tiles is thresholded on the
host after the sum.

Padding: a row tile shorter than the array drives input +1 on weight +1 in the spare rows (each
adds exactly +1 in ideal mode, subtracted on the host); spare columns are programmed +1 and
ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mram_macro.design.config import MacroConfig
from mram_macro.host.api import HostError, Macro
from mram_macro.host.tiles import plan_layer

__all__ = ["Bank", "BankLayer", "CALIBRATE_METHODS"]

#: What :meth:`Bank.place` does after writing a tile: nothing, CAL_OFFSET, or CAL_GAIN and
#: CAL_OFFSET (builds with ``calibration="gain"``).
CALIBRATE_METHODS = (None, "offset", "gain")


def _positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise HostError(f"{name} must be a positive integer, not {v!r}")
    return int(v)


@dataclass
class BankLayer:
    """A layer placed on a bank (see :meth:`Bank.place`)."""

    bank: Bank
    weights: np.ndarray                      #: (K, N) ±1
    plan: object                             #: :class:`mram_macro.host.tiles.LayerPlan`
    tiles: list = field(default_factory=list)  #: [(row slice, col slice, macro index)]
    calibrate: str | None = "offset"
    track_interval: int = 0
    n_pairs: int = 16
    #: Tile (re-)writes done so far (re-writes happen when tiles share macros).
    writes: int = 0
    #: Per (tile, macro): (gains, offsets, tracking reference) of its first calibration, restored
    #: when the tile is written again instead of calibrating anew.
    _calibration: dict = field(default_factory=dict)

    @property
    def stationary(self) -> bool:
        """Every tile has a macro of its own (written once)."""
        return len({m for _, _, m in self.tiles}) == len(self.tiles)

    def _load(self, index: int, macro_index: int | None = None) -> Macro:
        """Tile ``index`` in its macro (or in ``macro_index``), written if it is not there."""
        rs, cs, mi = self.tiles[index]
        mi = mi if macro_index is None else macro_index
        bank = self.bank
        m = bank.macros[mi]
        if bank._resident[mi] == (id(self), index):
            return m
        tw = np.ones((m.rows, m.cols), dtype=np.int64)
        tw[:rs.stop - rs.start, :cs.stop - cs.start] = self.weights[rs, cs]
        if m.config.has_tracker and m.track_interval:
            m.set_tracking(0)
        m.write_weights(tw)
        saved = self._calibration.get((index, mi))
        if saved is not None:
            # Written before: restore the calibration taken then (a host keeps it), so a tile
            # re-written at another temperature is not recalibrated there; the tracker, with
            # the reference captured then, corrects for the temperature.
            gains, offsets, ref = saved
            if gains is not None:
                m.write_gains(gains)
            m.write_offsets(offsets)
            if ref is not None:
                m.set_track_ref(ref)
                m.set_tracking(self.track_interval)
        elif self.calibrate is not None:
            m.calibrate(method=self.calibrate, n_pairs=self.n_pairs)
            ref = None
            if self.track_interval:
                ref = m.capture_track_ref()
                m.set_tracking(self.track_interval)
            if not m.config.mode.has_code_table:  # code -> value tables: recalibrated each time
                self._calibration[(index, mi)] = (m.gains.copy() if m.config.has_gain else None,
                                            m.offsets.copy(), ref)
        bank._resident[mi] = (id(self), index)
        self.writes += 1
        return m

    def load(self) -> None:
        """Write (and calibrate) every tile now; a stationary layer then runs without writes."""
        for i in range(len(self.tiles)):
            self._load(i)

    def partial_sums(self, x_pm1) -> np.ndarray:
        """``(row_tiles, batch, N)``: each row tile's contribution to ``x @ W``."""
        x = np.asarray(x_pm1)
        p = self.plan
        if x.ndim != 2 or x.shape[1] != p.k:
            raise HostError(f"inputs must have shape (batch, {p.k}), not {x.shape}")
        out = np.zeros((p.row_tiles, len(x), p.n), dtype=np.int64)
        for i, (rs, cs, _) in enumerate(self.tiles):
            m = self._load(i)
            tx = np.ones((len(x), m.rows), dtype=np.int64)
            tx[:, :rs.stop - rs.start] = x[:, rs]
            n_pad = m.rows - (rs.stop - rs.start)
            out[rs.start // m.rows, :, cs] = m.vmm(tx)[:, :cs.stop - cs.start] - n_pad
        return out

    def run_accumulated(self, x_pm1, *, thresholds=None) -> np.ndarray:
        """Like :meth:`run`, but the row tiles meet in a macro's accumulator: for each input
        vector and column tile, every row tile is written into the column tile's macro in turn
        (its first calibration restored) and run with the ``accumulate`` flag, all but the last
        with ``hold``; with ``thresholds`` the activation mode thresholds the whole sum
        on-chip. Exact in ideal mode, and it costs ``row_tiles`` tile writes per vector and
        column tile (the reason :meth:`run` adds on the host instead: weight rows are written
        through write-verify, far dearer than a pass). A column tile runs on the macro of its
        first row tile."""
        p = self.plan
        x = np.asarray(x_pm1)
        if x.ndim != 2 or x.shape[1] != p.k:
            raise HostError(f"inputs must have shape (batch, {p.k}), not {x.shape}")
        t = None
        if thresholds is not None:
            t = np.asarray(thresholds)
            if t.shape != (p.n,) or not np.issubdtype(t.dtype, np.integer):
                raise HostError(f"thresholds must be {p.n} integers, not {t.dtype} of shape "
                                f"{t.shape}")
        by_col: dict = {}
        for i, (rs, cs, mi) in enumerate(self.tiles):
            by_col.setdefault((cs.start, cs.stop), []).append((i, rs, mi))
        y = np.zeros((len(x), p.n), dtype=np.int64)
        for (c0, c1), tiles in by_col.items():
            m = self.bank.macros[tiles[0][2]]
            for i, _, _ in tiles:
                # Calibrate each tile on this macro first: calibration passes (raw codes) would
                # overwrite the accumulator mid-sum.
                self.bank._resident[tiles[0][2]] = None
                self._load(i, tiles[0][2])
            n_pad = sum(m.rows - (rs.stop - rs.start) for _, rs, _ in tiles)
            if t is not None:
                tile_t = np.zeros(m.cols, dtype=np.int64)
                tile_t[:c1 - c0] = t[c0:c1] + n_pad  # the padding rows add n_pad in all
            for b in range(len(x)):
                for j, (i, rs, _) in enumerate(tiles):
                    self.bank._resident[tiles[0][2]] = None  # force the write: one per pass
                    self._load(i, tiles[0][2])
                    last = j == len(tiles) - 1
                    if last and t is not None:
                        m.set_activation(tile_t)
                    tx = np.ones(m.rows, dtype=np.int64)
                    tx[:rs.stop - rs.start] = x[b, rs]
                    try:
                        r = m.vmm(tx, accumulate=j > 0, hold=not last)
                    finally:
                        if last and t is not None:
                            m.set_activation(None)
                    if last:
                        y[b, c0:c1] = r[0, :c1 - c0] - (0 if t is not None else n_pad)
        return y

    def run(self, x_pm1, *, thresholds=None) -> np.ndarray:
        """``x @ W`` for ±1 inputs ``(batch, K)``: integer sums ``(batch, N)``, or with integer
        ``thresholds`` ``(N,)`` the activations ``+1 where x @ W >= thresholds, else -1``
        (on-chip, in the activation mode, when the layer is one row tile; on the host after
        the row tiles' sum otherwise)."""
        p = self.plan
        if thresholds is None:
            return self.partial_sums(x_pm1).sum(axis=0)
        t = np.asarray(thresholds)
        if t.shape != (p.n,) or not np.issubdtype(t.dtype, np.integer):
            raise HostError(f"thresholds must be {p.n} integers, not {t.dtype} of shape "
                            f"{t.shape}")
        if p.row_tiles > 1:
            y = self.partial_sums(x_pm1).sum(axis=0)
            return np.where(y >= t, 1, -1).astype(np.int64)
        x = np.asarray(x_pm1)
        if x.ndim != 2 or x.shape[1] != p.k:
            raise HostError(f"inputs must have shape (batch, {p.k}), not {x.shape}")
        h = np.zeros((len(x), p.n), dtype=np.int64)
        for i, (rs, cs, _) in enumerate(self.tiles):
            m = self._load(i)
            n_pad = m.rows - (rs.stop - rs.start)
            tx = np.ones((len(x), m.rows), dtype=np.int64)
            tx[:, :p.k] = x
            tile_t = np.zeros(m.cols, dtype=np.int64)
            tile_t[:cs.stop - cs.start] = t[cs] + n_pad  # the padding adds n_pad to each sum
            m.set_activation(tile_t)
            try:
                h[:, cs] = m.vmm(tx)[:, :cs.stop - cs.start]
            finally:
                m.set_activation(None)
        return h


class Bank:
    """``n_macros`` macros of one die (see the module docstring)."""

    def __init__(self, macros):
        macros = list(macros)
        if not macros or not all(isinstance(m, Macro) for m in macros):
            raise HostError("a bank needs at least one Macro, and only Macros")
        shapes = {(m.rows, m.cols) for m in macros}
        if len(shapes) != 1:
            raise HostError(f"the macros of a bank must share one array size, not {shapes}")
        self.macros = macros
        self._resident: list = [None] * len(macros)
        self._next = 0   # first macro not yet given to a layer

    @staticmethod
    def macro_seed(seed: int, index: int) -> int:
        """The sampling seed of macro ``index`` of the die ``seed`` (independent streams)."""
        return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])

    @classmethod
    def golden(cls, n_macros: int, config: MacroConfig | None = None, *, device=None,
               seed: int = 0) -> Bank:
        """``n_macros`` golden macros of the die ``seed`` of ``device``."""
        n = _positive_int("n_macros", n_macros)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise HostError(f"seed must be a non-negative integer, not {seed!r}")
        return cls(Macro.golden(config, device=device, seed=cls.macro_seed(seed, i))
                   for i in range(n))

    @classmethod
    def rtl(cls, n_macros: int, config: MacroConfig | None = None, *, device=None,
            seed: int = 0, sim: str = "verilator", build_root=None) -> Bank:
        """``n_macros`` RTL simulations (``sim``) of the same die as :meth:`golden`."""
        n = _positive_int("n_macros", n_macros)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise HostError(f"seed must be a non-negative integer, not {seed!r}")
        macros = []
        try:
            for i in range(n):
                macros.append(Macro.rtl(config, device=device, seed=cls.macro_seed(seed, i),
                                        sim=sim, build_root=build_root))
        except BaseException:
            for m in macros:
                m.close()
            raise
        return cls(macros)

    def close(self) -> None:
        for m in self.macros:
            m.close()

    def __enter__(self) -> Bank:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def config(self) -> MacroConfig:
        return self.macros[0].config

    @property
    def n_macros(self) -> int:
        return len(self.macros)

    @property
    def free_macros(self) -> int:
        return len(self.macros) - self._next

    def set_temperature(self, temperature_C: float) -> None:
        """Operate every macro of the die at ``temperature_C`` (weights and registers kept)."""
        for m in self.macros:
            m.set_temperature(temperature_C)

    def _on_every_macro(self, setter: str, saved, **kwargs) -> None:
        """``Macro.<setter>(**kwargs)`` on every macro, all or none: if one refuses
        (:class:`HostError`), each macro already changed gets ``setter(**saved(macro))``, its
        settings from before, back."""
        done = []
        try:
            for m in self.macros:
                before = saved(m)
                getattr(m, setter)(**kwargs)
                done.append((m, before))
        except HostError:
            for m, before in reversed(done):
                getattr(m, setter)(**before)
            raise

    def set_tdc_start_delay(self, cycles: int) -> None:
        """:meth:`Macro.set_tdc_start_delay` on every macro (all or none). Only before the
        first :meth:`place`: a placed layer's calibrations were taken at the old delay."""
        if self._next or any(r is not None for r in self._resident):
            raise HostError("set the TDC start delay before placing layers: their calibrations "
                            "were taken at the current delay (make a new Bank)")
        self._on_every_macro("set_tdc_start_delay", lambda m: {"cycles": m.tdc_start_delay},
                             cycles=cycles)

    def set_verify_read(self, *, delay: int | None = None, threshold: int | None = None) -> None:
        """:meth:`Macro.set_verify_read` on every macro (all or none)."""
        self._on_every_macro("set_verify_read", lambda m: dict(m.verify_read),
                             delay=delay, threshold=threshold)

    def set_write_verify(self, *, enable: bool | None = None, pulse_doubling: bool | None = None,
                         max_retries: int | None = None, pulse_cycles: int | None = None) -> None:
        """:meth:`Macro.set_write_verify` on every macro (all or none), for the writes of
        later tiles."""
        self._on_every_macro("set_write_verify", lambda m: dict(m.write_verify),
                             enable=enable, pulse_doubling=pulse_doubling,
                             max_retries=max_retries, pulse_cycles=pulse_cycles)

    def place(self, w_pm1, *, calibrate: str | None = "offset", track_interval: int = 0,
              n_pairs: int = 16, share: bool = True) -> BankLayer:
        """Place the ±1 layer ``w_pm1`` ``(K, N)``: one free macro per tile if enough are free,
        else (``share``) every macro of the bank, round robin, other layers' included (a
        tile is re-written whenever it runs on a macro that holds another, its first
        calibration restored).
        Each write is followed by ``calibrate`` and, with ``track_interval``, by capturing the
        tracking reference and switching tracking on.
        Nothing is written until the layer runs (or :meth:`BankLayer.load`)."""
        w = np.asarray(w_pm1)
        if w.ndim != 2 or not np.isin(w, (-1, 1)).all():
            raise HostError(f"weights must be a (K, N) array of -1/+1, not shape {w.shape} "
                            f"with values {np.unique(w)[:4].tolist()}")
        if calibrate not in CALIBRATE_METHODS:
            raise HostError(f"calibrate must be one of {CALIBRATE_METHODS}, not {calibrate!r}")
        if calibrate == "gain" and not self.config.has_gain:
            raise HostError(f"calibrate='gain' needs a build with CAL_GAIN "
                            f"(calibration='gain'), not {self.config.slug}")
        if isinstance(track_interval, bool) or not isinstance(track_interval, int) or not (
                0 <= track_interval <= 0xFFFF):
            raise HostError(f"track_interval must be an integer in 0..65535, not "
                            f"{track_interval!r}")
        if track_interval and (calibrate != "gain" or not self.config.has_tracker):
            raise HostError("track_interval needs calibrate='gain' on a build with the "
                            "temperature tracker (calibration='gain', tdc_mode counter or "
                            "two_step)")
        plan = plan_layer(w.shape[0], w.shape[1], rows=self.config.rows, cols=self.config.cols)
        free = self.free_macros
        if free >= plan.tiles:
            first, used = self._next, plan.tiles
            self._next += used
        elif share:
            first, used = 0, self.n_macros  # every macro of the bank, other layers' too
        else:
            raise HostError(f"a {plan.k}x{plan.n} layer has {plan.tiles} tiles; the bank has "
                            f"{free} free macro(s) of {self.n_macros}: make a bank of more "
                            f"macros or pass share=True")
        tiles = [(rs, cs, first + i % used) for i, (rs, cs) in enumerate(plan.tile_slices())]
        return BankLayer(self, w.astype(np.int64), plan, tiles, calibrate=calibrate,
                         track_interval=track_interval, n_pairs=_positive_int("n_pairs", n_pairs))
