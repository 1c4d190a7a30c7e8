"""The register layer the cocotb testbench and the RTL backend's server share
(:class:`mram_macro.host.registers.RegisterBus`): words and fields from the register map, no
simulator needed for composing them."""

from __future__ import annotations

import numpy as np
import pytest

from mram_macro.design.config import profile_config
from mram_macro.host.registers import RegisterBus
from mram_macro.rtl.top import macro_regmap

# 40 columns: two WEIGHT_DATA words, the second one partly used.
CONFIG = profile_config("full", rows=8, cols=40, tdc_bits=4, result_width=8, stream_width=16)


@pytest.fixture(scope="module")
def bus() -> RegisterBus:
    return RegisterBus(None, macro_regmap(CONFIG))


def test_word_places_each_field_where_the_map_says(bus):
    wv = bus.regmap["WV_CTRL"]
    word = bus.word("WV_CTRL", ENABLE=1, MAX_RETRIES=3)
    assert word == wv.field("ENABLE").mask | 3 << wv.field("MAX_RETRIES").lsb
    assert bus.field_value("WV_CTRL", "MAX_RETRIES", word) == 3
    assert bus.field_value("WV_CTRL", "PULSE_DOUBLING", word) == 0
    assert bus.address("WV_CTRL") == wv.offset


def test_word_rejects_a_value_that_does_not_fit(bus):
    width = bus.regmap["WV_CTRL"].field("MAX_RETRIES").width
    with pytest.raises(ValueError, match=rf"WV_CTRL\.MAX_RETRIES is {width} bits wide: "
                                         rf"{1 << width} does not fit"):
        bus.word("WV_CTRL", MAX_RETRIES=1 << width)
    with pytest.raises(ValueError, match=r"-1 does not fit"):
        bus.word("WV_CTRL", MAX_RETRIES=-1)


def test_weight_words_hold_column_32k_plus_i_in_bit_i_of_word_k(bus):
    rng = np.random.default_rng(3)
    bits = rng.random(CONFIG.cols) < 0.5
    words = bus.weight_words(bits)
    assert [name for name, _ in words] == [r.name for r in bus.regmap.array("WEIGHT_DATA")]
    got = np.zeros(CONFIG.cols, dtype=bool)
    for k, (name, word) in enumerate(words):
        f = bus.regmap[name].field("BITS")
        assert word & ~f.mask == 0
        value = (word & f.mask) >> f.lsb
        for i in range(f.width):
            got[32 * k + i] = value >> i & 1
    assert np.array_equal(got, bits)


def test_wait_field_needs_a_bound(bus):
    import asyncio

    with pytest.raises(ValueError, match="needs a timeout_ns or a max_polls bound"):
        asyncio.run(bus.wait_field("STATUS", "WRITE_BUSY", 0))
