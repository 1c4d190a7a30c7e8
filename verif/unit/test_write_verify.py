"""WriteController's write-verify loop against a small behavioural array in the testbench."""

import numpy as np
import pytest

from mram_macro.rtl.periphery.write_controller import WriteController
from verif.unit.sim import run

ROWS, COLS, BITS = 5, 8, 5
LOW_CODE, HIGH_CODE, THRESHOLD = 3, 4, 4


def _write_and_verify(*, data, row, fail_first, stuck, max_retries, doubling, verify=True,
                      pulse_cycles=2):
    """Run one row write; the array flips an MTJ unless it is stuck, or unless this is one of
    the first ``fail_first[(side, col)]`` pulses for it. Returns what happened."""
    dut = WriteController(rows=ROWS, cols=COLS, tdc_bits=BITS)
    state = np.zeros((2, ROWS, COLS), dtype=bool)       # True = low resistance
    pulses_seen = {}
    log = {"pulse_widths": [], "retries": 0, "fail": None, "reads": 0}

    async def tb(ctx):
        ctx.set(dut.verify_enable, verify)
        ctx.set(dut.max_retries, max_retries)
        ctx.set(dut.pulse_doubling, doubling)
        ctx.set(dut.threshold, THRESHOLD)
        ctx.set(dut.pulse_cycles, pulse_cycles)
        ctx.set(dut.array_idle, 1)
        ctx.set(dut.row, row)
        ctx.set(dut.data, int("".join(str(b) for b in data[::-1]), 2))
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        width = 0
        bypass = None
        for _ in range(2000):
            if ctx.get(dut.bypass.load):
                bypass = (ctx.get(dut.bypass.bypass_l), ctx.get(dut.bypass.bypass_r))
            if ctx.get(dut.read_start):
                log["reads"] += 1
                bl, br = bypass
                # exactly one MTJ not bypassed: (row, side)
                kept = [(s, r) for s, bits in ((0, bl), (1, br)) for r in range(ROWS)
                        if not (bits >> r) & 1]
                assert kept and len(kept) == 1
                side, r = kept[0]
                codes = 0
                for c in range(COLS):
                    code = LOW_CODE if state[side, r, c] else HIGH_CODE
                    codes |= code << (c * BITS)
                await ctx.tick()
                ctx.set(dut.codes, codes)
                ctx.set(dut.overflow, 0)
                for _ in range(3):
                    await ctx.tick()
                ctx.set(dut.read_done, 1)
                await ctx.tick()
                ctx.set(dut.read_done, 0)
                continue
            if ctx.get(dut.retry):
                log["retries"] += 1
            if ctx.get(dut.fail_valid):
                log["fail"] = (ctx.get(dut.fail_row), ctx.get(dut.fail_mask),
                               ctx.get(dut.fail_cells))
            pulse = ctx.get(dut.arr_wr_pulse)
            if pulse:
                width += 1
                wr_row, side, wr_data = (ctx.get(dut.arr_wr_row), ctx.get(dut.arr_wr_side),
                                         ctx.get(dut.arr_wr_data))
            elif width:
                log["pulse_widths"].append((side, width))
                r = wr_row.bit_length() - 1
                assert wr_row == 1 << r
                for c in range(COLS):
                    key = (side, c)
                    pulses_seen[key] = pulses_seen.get(key, 0) + 1
                    if key in stuck:
                        continue
                    if pulses_seen[key] <= fail_first.get(key, 0):
                        continue
                    state[side, r, c] = bool((wr_data >> c) & 1)
                width = 0
            if not ctx.get(dut.busy) and not pulse and log["pulse_widths"]:
                break
            await ctx.tick()
        else:
            raise AssertionError("write did not finish")

    run(dut, tb)
    log["state"] = state
    return log


def test_clean_write_verifies_once_per_side():
    data = [1, 0, 1, 1, 0, 0, 1, 0]
    log = _write_and_verify(data=data, row=2, fail_first={}, stuck=set(), max_retries=3,
                            doubling=True)
    assert log["reads"] == 2 and log["retries"] == 0 and log["fail"] is None
    assert log["state"][0, 2].tolist() == [bool(b) for b in data]
    assert log["state"][1, 2].tolist() == [not b for b in data]
    assert log["pulse_widths"] == [(0, 2), (1, 2)]


def test_failed_writes_are_retried_with_doubled_pulses():
    data = [1, 1, 1, 1, 0, 0, 0, 0]
    # column 3 (left) needs 3 pulses, column 5 (right) 2 pulses
    log = _write_and_verify(data=data, row=4, fail_first={(0, 3): 2, (1, 5): 1}, stuck=set(),
                            max_retries=3, doubling=True)
    assert log["fail"] is None
    assert log["retries"] == 3
    assert log["pulse_widths"] == [(0, 2), (0, 4), (0, 8), (1, 2), (1, 4)]
    assert log["state"][0, 4].tolist() == [bool(b) for b in data]
    assert log["state"][1, 4].tolist() == [not b for b in data]


@pytest.mark.parametrize("doubling", [0, 1])
def test_stuck_cells_are_reported_not_retried_forever(doubling):
    data = [1, 0, 1, 0, 1, 0, 1, 0]
    # column 0 left is stuck high but must be low; column 1 right stuck high but must be low
    log = _write_and_verify(data=data, row=1, fail_first={}, stuck={(0, 0), (1, 1)},
                            max_retries=2, doubling=doubling)
    assert log["retries"] == 4                       # 2 per side, then give up
    row, mask, cells = log["fail"]
    assert row == 1 and mask == 0b11 and cells == 2
    widths = [w for _, w in log["pulse_widths"]]
    assert widths == ([2, 4, 8, 2, 4, 8] if doubling else [2] * 6)


def test_verify_disabled_writes_blind():
    data = [0, 1, 0, 1, 0, 1, 0, 1]
    log = _write_and_verify(data=data, row=0, fail_first={(0, 0): 5}, stuck=set(),
                            max_retries=3, doubling=True, verify=False)
    assert log["reads"] == 0 and log["retries"] == 0 and log["fail"] is None
    assert log["pulse_widths"] == [(0, 2), (1, 2)]
