"""How a layer ``y = x @ W`` with ``W`` of shape ``(K, N)`` maps onto a ``rows x cols`` array as
tiles (:class:`LayerPlan`); the geometry the bank (:mod:`mram_macro.host.bank`) places and the
tiled runs and the scheduler of :mod:`mram_macro.nn.tiling` use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mram_macro.host.backend import HostError

__all__ = ["LayerPlan", "plan_layer"]


@dataclass(frozen=True)
class LayerPlan:
    """How one layer ``(K, N)`` with ``weight_bits`` / ``input_bits`` maps onto the array."""

    k: int
    n: int
    rows: int
    cols: int
    weight_bits: int = 1
    input_bits: int = 1

    @property
    def logical_cols(self) -> int:
        return self.n * self.weight_bits

    @property
    def row_tiles(self) -> int:
        return -(-self.k // self.rows)

    @property
    def col_tiles(self) -> int:
        return -(-self.logical_cols // self.cols)

    @property
    def tiles(self) -> int:
        return self.row_tiles * self.col_tiles

    def passes(self, batch: int) -> int:
        """VMM passes for ``batch`` input vectors."""
        return batch * self.tiles * self.input_bits

    @property
    def row_writes(self) -> int:
        """Weight rows programmed (every tile is written whole)."""
        return self.tiles * self.rows

    def tile_slices(self):
        """``(row_slice, col_slice)`` of each tile in logical coordinates, row tiles inner."""
        for ct in range(self.col_tiles):
            for rt in range(self.row_tiles):
                yield (slice(rt * self.rows, min((rt + 1) * self.rows, self.k)),
                       slice(ct * self.cols, min((ct + 1) * self.cols, self.logical_cols)))


def plan_layer(k: int, n: int, *, rows: int, cols: int, weight_bits: int = 1,
               input_bits: int = 1) -> LayerPlan:
    for name, v in (("k", k), ("n", n), ("rows", rows), ("cols", cols),
                    ("weight_bits", weight_bits), ("input_bits", input_bits)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise HostError(f"{name} must be a positive integer, not {v!r}")
    return LayerPlan(int(k), int(n), rows, cols, int(weight_bits), int(input_bits))
