"""Layers larger than the array, run as tiles, and a scheduler that counts what that costs.

A layer ``y = x @ W`` with ``W`` of shape ``(K, N)`` maps onto a ``rows x cols`` macro as
``ceil(K / rows) x ceil(N' / cols)`` tiles, where ``N' = N * weight_bits`` are the *logical
columns*: a k-bit weight is bit-sliced across k columns (slice j holds bit j of the two's
complement weight; slice ``k-1`` counts ``-2**(k-1)``). The host combines the slices
(``sum_j d_j 2**j P_j``) and adds the row tiles' partial sums; with one macro per tile the row
tiles could instead accumulate in the macros' accumulators, but a single macro has one set of
weights at a time, so tiles run one after the other: program the tile, calibrate, stream the
batch through.

Padding. A row tile shorter than the array is padded: for ±1 layers with input +1 and weight +1
(each padding row adds exactly +1, subtracted on the host); for multi-bit layers with input 0
(no bit plane sets it, so it adds nothing). Padding columns are programmed +1 and ignored.

Costs (:class:`Schedule`): passes (one per input bit per tile per vector), weight rows written,
calibration passes, and the time these take at measured cycle counts (``cycles_per_vmm``,
``cycles_per_row_write``, from an RTL simulation) and a clock period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mram_macro.host import HostError, Macro
from mram_macro.host.tiles import LayerPlan, plan_layer

__all__ = ["LayerPlan", "plan_layer", "padded_tile", "run_pm1_layer", "run_int_layer", "Schedule",
           "slice_weights"]


def slice_weights(w_int, weight_bits: int) -> np.ndarray:
    """Bit slices ``(K, N * weight_bits)`` of signed weights: column ``j * N + c`` holds bit j
    of weight column c (two's complement)."""
    w = np.asarray(w_int, dtype=np.int64)
    lo, hi = -(1 << (weight_bits - 1)), (1 << (weight_bits - 1)) - 1
    if ((w < lo) | (w > hi)).any():
        bad = w[(w < lo) | (w > hi)][0]
        raise HostError(f"weights must fit {weight_bits}-bit two's complement ({lo}..{hi}), "
                        f"not {bad}")
    u = w & ((1 << weight_bits) - 1)
    return np.concatenate([(u >> j) & 1 for j in range(weight_bits)], axis=1).astype(np.uint8)


def _check_layer(w, x, k_name="x"):
    if w.ndim != 2 or x.ndim != 2 or x.shape[1] != w.shape[0]:
        raise HostError(f"a layer needs {k_name} (batch, K) and weights (K, N) with the same K, "
                        f"not {x.shape} and {w.shape}")


def padded_tile(macro, w_tile, x_tile, *, x_fill: int) -> tuple[np.ndarray, np.ndarray]:
    """A tile's weights and inputs padded to the array of ``macro`` (anything with ``rows``
    and ``cols``: a :class:`~mram_macro.host.Macro` or a configuration): weights 1 outside the
    tile, inputs ``x_fill`` in the padding rows."""
    tw = np.ones((macro.rows, macro.cols), dtype=np.int64)
    tw[:w_tile.shape[0], :w_tile.shape[1]] = w_tile
    tx = np.full((len(x_tile), macro.rows), x_fill, dtype=np.int64)
    tx[:, :x_tile.shape[1]] = x_tile
    return tw, tx


def run_pm1_layer(macro: Macro, w_pm1, x_pm1, *, calibrate: bool = True, n_pairs: int = 16,
                  thresholds=None) -> np.ndarray:
    """``x @ w`` for ±1 inputs ``(B, K)`` and ±1 weights ``(K, N)``, tile by tile on ``macro``
    (re-programmed per tile, calibrated after each programming if ``calibrate``).

    With integer ``thresholds`` ``(N,)`` the macro's activation mode returns
    ``sign(x @ w - thresholds)`` (+1 where ``>= 0``) instead, one bit per column on the stream;
    that needs ``K <= rows`` (a single row tile: a threshold applies to the whole sum)."""
    w, x = np.asarray(w_pm1), np.asarray(x_pm1)
    _check_layer(w, x)
    plan = plan_layer(w.shape[0], w.shape[1], rows=macro.rows, cols=macro.cols)
    if thresholds is not None:
        t = np.asarray(thresholds)
        if t.shape != (plan.n,):
            raise HostError(f"thresholds must have shape ({plan.n},), not {t.shape}")
        if plan.row_tiles > 1:
            raise HostError(f"on-chip activations need K <= {macro.rows} rows, not K={plan.k}: "
                            f"a threshold applies to a whole sum")
    y = np.zeros((len(x), plan.n), dtype=np.int64)
    for rs, cs in plan.tile_slices():
        tw, tx = padded_tile(macro, w[rs, cs], x[:, rs], x_fill=1)
        n_pad = macro.rows - (rs.stop - rs.start)
        macro.write_weights(tw)
        if calibrate:
            macro.calibrate(n_pairs=n_pairs)
        if thresholds is None:
            y[:, cs] += macro.vmm(tx)[:, :cs.stop - cs.start] - n_pad
            continue
        # The padding rows add n_pad to every sum: raise the thresholds by as much.
        tile_t = np.zeros(macro.cols, dtype=np.int64)
        tile_t[:cs.stop - cs.start] = t[cs] + n_pad
        macro.set_activation(tile_t)
        try:
            y[:, cs] = macro.vmm(tx)[:, :cs.stop - cs.start]
        finally:
            macro.set_activation(None)
    return y


def run_int_layer(macro: Macro, w_int, x_int, *, weight_bits: int, input_bits: int,
                  calibrate: bool = True, n_pairs: int = 16) -> np.ndarray:
    """``x @ w`` for signed ``input_bits`` inputs ``(B, K)`` and signed ``weight_bits``
    weights ``(K, N)``: bit-sliced weights, bit-serial inputs; exact in ideal mode."""
    w, x = np.asarray(w_int, dtype=np.int64), np.asarray(x_int, dtype=np.int64)
    _check_layer(w, x)
    plan = plan_layer(w.shape[0], w.shape[1], rows=macro.rows, cols=macro.cols,
                      weight_bits=weight_bits, input_bits=input_bits)
    slices = slice_weights(w, weight_bits)
    p = np.zeros((len(x), plan.logical_cols), dtype=np.int64)
    for rs, cs in plan.tile_slices():
        tw, tx = padded_tile(macro, slices[rs, cs], x[:, rs], x_fill=0)
        macro.write_weights(tw, encoding="bits")
        if calibrate:
            macro.calibrate(n_pairs=n_pairs)
        p[:, cs] += macro.vmm_int(tx, input_bits=input_bits)[:, :cs.stop - cs.start]
    n = plan.n
    out = np.zeros((len(x), n), dtype=np.int64)
    for j in range(weight_bits):
        term = p[:, j * n:(j + 1) * n] << j
        out += -term if j == weight_bits - 1 else term
    return out


@dataclass(frozen=True)
class Schedule:
    """The cost of running layers on one macro for a batch (see the module docstring)."""

    plans: tuple[LayerPlan, ...]
    batch: int
    calibration_pairs: int = 16

    @property
    def passes(self) -> int:
        return sum(p.passes(self.batch) for p in self.plans)

    @property
    def calibration_passes(self) -> int:
        return sum(p.tiles for p in self.plans) * 2 * self.calibration_pairs

    @property
    def row_writes(self) -> int:
        return sum(p.row_writes for p in self.plans)

    def cycles(self, *, cycles_per_vmm: float, cycles_per_row_write: float) -> float:
        return ((self.passes + self.calibration_passes) * cycles_per_vmm
                + self.row_writes * cycles_per_row_write)

    def table(self) -> str:
        lines = ["| layer | K x N | weight bits | input bits | tiles (rows x cols) | passes | "
                 "rows written |", "|---|---|---|---|---|---|---|"]
        for i, p in enumerate(self.plans):
            lines.append(f"| {i + 1} | {p.k} x {p.n} | {p.weight_bits} | {p.input_bits} | "
                         f"{p.tiles} ({p.row_tiles} x {p.col_tiles}) | "
                         f"{p.passes(self.batch)} | {p.row_writes} |")
        return "\n".join(lines)
