"""Bit layouts of the streams, defined once for the RTL, the golden model and the testbenches.

Input vector (``s_axis``): bit r of the vector is input row r (1 = +1, 0 = -1); the vector is cut
into ``stream_width``-bit beats, row 0 in bit 0 of the first beat; padding bits are ignored;
``tlast`` marks the vector's last beat. The flags in ``tuser`` are taken from the first beat.

Result vector (``m_axis``): column c's signed ``result_width``-bit value occupies bits
``[c*W, (c+1)*W)`` of the concatenation of the beats, column 0 first (little end first); padding
bits are 0; ``tlast`` marks the last beat; ``tuser`` repeats the pass's flags on every beat.

Activation vector (``m_axis`` with MODE.ACTIVATION): bit c of the concatenated beats is 1 (+1)
where column c's value is at least THRESHOLD[c], else 0 (-1); :func:`activation_beats` beats
(a sixteenth of a result vector's bandwidth with 16-bit results); padding bits are 0. The bits
are laid out as an input vector's, so one macro's activations can feed the next one's input.
"""

from __future__ import annotations

import functools

import numpy as np
from amaranth.lib import data

from mram_macro.design.config import MacroConfig

__all__ = ["InputFlags", "ResultFlags", "input_flags", "result_flags", "pack_input_vector",
           "unpack_input_vector", "pack_result_vector", "unpack_result_vector",
           "activation_beats", "pack_activation_vector", "unpack_activation_vector"]

#: ``s_axis_tuser``: what to do with this vector's pass.
InputFlags = data.StructLayout({
    "accumulate": 1,   # 0: clear the accumulator first; 1: add this pass to it
    "hold": 1,         # 1: keep the sum in the accumulator and send nothing
    "shift": 1,        # with accumulate: double the accumulator before adding (bit-serial)
    "negate": 1,       # subtract this pass instead of adding it (the MSB of a signed input)
})

#: ``m_axis_tuser``: status of the pass that produced the result.
ResultFlags = data.StructLayout({
    "overflow": 1,     # some column's comparator never fired; its code saturated
})


def _layout_int(layout: data.StructLayout, **fields) -> int:
    return layout.const(fields).as_value().value


# Cached: Amaranth's const() costs ~70 us, and testbenches ask once per vector.
@functools.lru_cache(maxsize=64)
def input_flags(*, accumulate: bool = False, hold: bool = False, shift: bool = False,
                negate: bool = False) -> int:
    """``s_axis_tuser`` value for the given flags.

    Bit-serial multi-bit inputs: a ``b``-bit two's-complement input vector is sent as ``b``
    bit planes, most significant first; the first with ``negate`` (the MSB counts
    ``-2**(b-1)``), the others with ``accumulate`` and ``shift``, all but the last with
    ``hold``. The accumulator then holds ``sum_i s_i 2**i y_i`` (``s_i = -1`` for the MSB).
    """
    return _layout_int(InputFlags, accumulate=int(accumulate), hold=int(hold),
                       shift=int(shift), negate=int(negate))


@functools.lru_cache(maxsize=8)
def result_flags(*, overflow: bool = False) -> int:
    return _layout_int(ResultFlags, overflow=int(overflow))


def _bits_to_int(bits) -> int:
    return int.from_bytes(np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little")
                          .tobytes(), "little")


def _split_beats(value: int, n_beats: int, width: int) -> list[int]:
    mask = (1 << width) - 1
    return [(value >> (width * i)) & mask for i in range(n_beats)]


def pack_input_vector(x_bits, config: MacroConfig) -> list[int]:
    """Beats (``tdata`` integers) carrying input bits ``x_bits[rows]``."""
    x = np.asarray(x_bits)
    if x.shape != (config.rows,):
        raise ValueError(f"an input vector has {config.rows} bits, not shape {x.shape}")
    return _split_beats(_bits_to_int(x), config.in_beats, config.stream_width)


def unpack_input_vector(beats, config: MacroConfig):
    value = sum(b << (config.stream_width * i) for i, b in enumerate(beats))
    return np.array([(value >> r) & 1 for r in range(config.rows)], dtype=np.uint8)


def pack_result_vector(values, config: MacroConfig) -> list[int]:
    w = config.result_width
    value = 0
    for c, v in enumerate(np.asarray(values, dtype=np.int64)):
        value |= (int(v) & ((1 << w) - 1)) << (c * w)
    return _split_beats(value, config.out_beats, config.stream_width)


def unpack_result_vector(beats, config: MacroConfig):
    """Signed results from the beats of one result vector."""
    if len(beats) != config.out_beats:
        raise ValueError(f"a result vector has {config.out_beats} beats, got {len(beats)}")
    w = config.result_width
    value = sum(int(b) << (config.stream_width * i) for i, b in enumerate(beats))
    out = np.empty(config.cols, dtype=np.int64)
    for c in range(config.cols):
        v = (value >> (c * w)) & ((1 << w) - 1)
        out[c] = v - (1 << w) if v >> (w - 1) else v
    return out


def activation_beats(config: MacroConfig) -> int:
    """Result-stream beats of one activation vector (one bit per column)."""
    return -(-config.cols // config.stream_width)


def pack_activation_vector(bits, config: MacroConfig) -> list[int]:
    b = np.asarray(bits)
    if b.shape != (config.cols,):
        raise ValueError(f"an activation vector has {config.cols} bits, not shape {b.shape}")
    return _split_beats(_bits_to_int(b), activation_beats(config), config.stream_width)


def unpack_activation_vector(beats, config: MacroConfig):
    """Activation bits (1 = +1) from the beats of one activation vector."""
    if len(beats) != activation_beats(config):
        raise ValueError(f"an activation vector has {activation_beats(config)} beats, "
                         f"got {len(beats)}")
    value = sum(int(b) << (config.stream_width * i) for i, b in enumerate(beats))
    return np.array([(value >> c) & 1 for c in range(config.cols)], dtype=np.int64)
