"""Randomized test of the AXI4-Lite register file against a plain-Python model built from the
register map alone (:class:`RegisterFileModel`): random accesses, valid, boundary and garbage
words, every channel order.

The test uses a fixed seed unless ``--seed N`` is given (see ``verif/conftest.py``); the seed is
printed and in every message.
"""

from __future__ import annotations

import random

import pytest

from mram_macro.design.regmap import MACRO_ID, Register, RegisterMap
from mram_macro.rtl.bus import Resp
from verif.unit.regfile_bench import (
    DEFAULT,
    ODD,
    SMALL,
    UNMAPPED,
    WORD_MASK,
    read_word,
    regmap_of,
    simulate,
    strobe_log,
)

#: The random test's seed unless ``--seed N`` is given.
DEFAULT_SEED = 1234


class RegisterFileModel:
    """What the register file answers, from the register map alone."""

    def __init__(self, regmap: RegisterMap):
        self.regmap = regmap
        c = regmap.config
        constants = {
            ("ID", "ID"): MACRO_ID, ("GEOMETRY", "ROWS"): c.rows, ("GEOMETRY", "COLS"): c.cols,
            ("WIDTHS", "TDC_BITS"): c.tdc_bits, ("WIDTHS", "RESULT_WIDTH"): c.result_width,
            ("WIDTHS", "STREAM_WIDTH"): c.stream_width}
        #: ``ro`` fields the register file supplies itself; other ``ro`` fields are core inputs.
        self.supplied = {*constants, ("BUS_ERROR_ADDR", "ADDR")}
        self.fields: dict[tuple[str, str], int] = {}
        for reg in regmap.registers:
            for f in reg.fields:
                self.fields[(reg.name, f.name)] = f.reset if f.kind == "rw" else 0
        self.fields.update(constants)
        self.strobes = 0

    def _reject(self, addr: int) -> None:
        self.fields[("STATUS", "BUS_ERROR")] = 1
        self.fields[("BUS_ERROR_ADDR", "ADDR")] = addr

    def read(self, addr: int) -> tuple[int, Resp]:
        reg = self.regmap.by_offset(addr & ~3)
        if reg is None:
            self._reject(addr)
            return 0, Resp.DECERR
        return read_word(reg, {f.name: self.fields[(reg.name, f.name)] for f in reg.fields}), \
            Resp.OKAY

    def write(self, addr: int, word: int, wstrb: int, busy: bool) -> Resp:
        reg = self.regmap.by_offset(addr & ~3)
        if reg is None:
            self._reject(addr)
            return Resp.DECERR
        cmd_busy = busy and any(f.kind == "cmd" and word & f.mask for f in reg.fields)
        if wstrb != 0xF or reg.check_write(word) is not None or cmd_busy:
            self._reject(addr)
            return Resp.SLVERR
        for f in reg.fields:
            bits = (word & f.mask) >> f.lsb
            if f.kind == "rw":
                negative = f.signed and bits >> (f.width - 1)
                self.fields[(reg.name, f.name)] = bits - (1 << f.width) if negative else bits
            elif f.kind == "w1c":
                self.fields[(reg.name, f.name)] &= ~bits
            elif f.kind == "cmd" and bits:
                self.strobes += 1
        return Resp.OKAY


def random_word(rng: random.Random, reg: Register) -> int:
    """A mix of valid values, boundary values and garbage for ``reg``."""
    choice = rng.random()
    if choice < 0.2:
        return rng.getrandbits(32)
    f = rng.choice(reg.fields)
    if f.signed:
        lo, hi = -(1 << (f.width - 1)), (1 << (f.width - 1)) - 1
        value = rng.choice([lo, hi, lo - 1, hi + 1, 0, -1, rng.randint(lo, hi)])
        return value & WORD_MASK
    lo = f.min_value
    hi = f.max_value if f.max_value is not None else (1 << f.width) - 1
    value = rng.choice([lo, hi, lo - 1, hi + 1, rng.randint(lo, hi), rng.randint(lo, hi)])
    return (value & ((1 << f.width) - 1)) << f.lsb if choice < 0.9 else \
        (value << f.lsb) & WORD_MASK


@pytest.mark.parametrize("config", [DEFAULT, SMALL, ODD], ids=["default", "small", "odd"])
def test_random_accesses_match_model(config, request):
    seed = request.config.getoption("seed", default=None)
    seed = DEFAULT_SEED if seed is None else seed
    print(f"regfile random test: seed {seed} (replay with --seed {seed})")
    rng = random.Random(seed)
    strobes: list[int] = []
    rm = regmap_of(config)
    model = RegisterFileModel(rm)
    core_inputs = [(reg, f) for reg in rm.registers for f in reg.fields
                   if f.kind == "ro" and (reg.name, f.name) not in model.supplied]
    # Holes of the map: the two ends, the word after each array, and the first free words.
    free = [a for a in range(0, 1 << 12, 4) if rm.by_offset(a) is None]
    unmapped = sorted({UNMAPPED, 0xFFC, *free[:4],
                       rm["WEIGHT_DATA0"].offset + 4 * config.weight_words,
                       rm["CAL_OFFSET0"].offset + 4 * config.cols} - {
                           r.offset for r in rm.registers})
    assert all(rm.by_offset(a) is None for a in unmapped)
    scalars = [r.offset for r in rm.registers if r.array_name is None]
    arrays = [r.offset for r in rm.registers if r.array_name is not None]
    ctrl = rm["CTRL"].offset
    seen: set[tuple[str, Resp]] = set()
    w1c_sets = [(reg, f) for reg in rm.registers for f in reg.fields
                if f.kind == "w1c" and f.name != "BUS_ERROR"]

    async def body(ctx, dut, master):
        for op in range(500):
            where = f"op {op}, --seed {seed}"
            if rng.random() < 0.2:
                for reg, f in core_inputs:
                    value = rng.getrandbits(f.width)
                    ctx.set(dut.port(reg.name, f.name), value)
                    model.fields[(reg.name, f.name)] = value
            if rng.random() < 0.15:
                reg, f = rng.choice(w1c_sets)
                ctx.set(dut.port(reg.name, f.name, suffix="_set"), 1)
                await master.tick()
                ctx.set(dut.port(reg.name, f.name, suffix="_set"), 0)
                model.fields[(reg.name, f.name)] = 1
            # scalar registers as often as array elements, CTRL often, a few unmapped addresses
            pool = rng.choices([unmapped, [ctrl], scalars, arrays], weights=[1, 2, 6, 6])[0]
            addr = rng.choice(pool) | rng.getrandbits(2)
            reg = rm.by_offset(addr & ~3)
            delays = dict(aw_delay=rng.choice([0, 0, 1, 3]), w_delay=rng.choice([0, 0, 1, 3]),
                          b_delay=rng.choice([0, 0, 2]))
            if rng.random() < 0.5:
                word = random_word(rng, reg) if reg is not None else rng.getrandbits(32)
                if reg is not None and reg.name == "STATUS":
                    word = rng.getrandbits(32)
                wstrb = 0xF if rng.random() < 0.9 else rng.getrandbits(4)
                busy = rng.random() < 0.3
                ctx.set(dut.ctrl_write_row_busy, busy)
                resp = await master.write(addr, word, wstrb, **delays)
                expected = model.write(addr, word, wstrb, busy)
                assert resp == expected, f"write 0x{word:08X} to 0x{addr:03X}: {where}"
                seen.add(("write", resp))
            else:
                got = await master.read(addr, r_delay=rng.choice([0, 0, 2]))
                assert got == model.read(addr), f"read 0x{addr:03X}: {where}"
                seen.add(("read", got[1]))
            assert ctx.get(dut.status_bus_error) == model.fields[("STATUS", "BUS_ERROR")], where
        for reg in rm.registers:
            for f in reg.fields:
                if f.kind in ("rw", "w1c"):
                    assert ctx.get(dut.port(reg.name, f.name)) == \
                        model.fields[(reg.name, f.name)], f"{reg.name}.{f.name}"
            assert await master.read(reg.offset) == model.read(reg.offset), reg.name
        await master.tick()
        assert len(strobes) == model.strobes

    simulate(config, body, monitors=[strobe_log("ctrl_write_row", strobes)])
    # the seed exercised every kind of answer and the command path
    assert seen == {("write", Resp.OKAY), ("write", Resp.SLVERR), ("write", Resp.DECERR),
                    ("read", Resp.OKAY), ("read", Resp.DECERR)}
    assert model.strobes >= 2
