"""Deadlines: a block that never produces its output fails its test within the deadline,
naming the testbench that waited, instead of hanging ``make test``."""

from __future__ import annotations

import time

import pytest

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.rtl.periphery.input_deserializer import InputDeserializer
from verif.unit.sim import DeadlineExceeded, run
from verif.unit.test_blocks import check_input_deserializer


class _OffByOneBeat(MacroConfig):
    """A configuration whose deserializer expects one beat more than the stream carries: the
    length check off by one, as a plausible RTL bug would have it."""

    @property
    def in_beats(self) -> int:
        return super().in_beats + 1


@pytest.mark.timeout(60)
def test_broken_deserializer_fails_within_its_deadline():
    good = profile_config("full", rows=20, stream_width=8)
    broken = InputDeserializer(_OffByOneBeat(**good.to_dict()))
    t0 = time.perf_counter()
    with pytest.raises(DeadlineExceeded, match=r"testbench\(es\) .*sink.* did not finish "
                                               r"within 20000 clock cycles"):
        check_input_deserializer(good, broken, deadline_cycles=20_000)
    assert time.perf_counter() - t0 < 30
    # The same bench on the real block finishes well inside that deadline.
    check_input_deserializer(good, InputDeserializer(good), deadline_cycles=20_000)


def test_deadline_is_validated():
    async def bench(ctx):
        await ctx.tick()

    with pytest.raises(ValueError, match="deadline_cycles must be a positive integer"):
        run(None, bench, deadline_cycles=0)
