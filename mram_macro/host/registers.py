"""Register access to one simulated macro by name, over its AXI4-Lite port.

:class:`RegisterBus` is the one register-access layer of the simulated macro: the RTL backend's
server (:class:`mram_macro.host.rtl_server.MacroDriver`) and the cocotb testbench
(:class:`mram_macro.sim.testbench.env.MacroEnv`) both read and write through it. Addresses,
fields and their positions come from the register map
(:class:`mram_macro.design.regmap.RegisterMap`), never from literals; the transactions are
cocotbext-axi's ``AxiLiteMaster``'s, so it runs inside a cocotb test.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable

import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import Timer
from cocotbext.axi import AxiLiteBus, AxiLiteMaster, AxiResp

from mram_macro.design.regmap import RegisterMap

__all__ = ["BusResponseError", "FieldTimeout", "RegisterBus"]

# cocotbext-axi 0.1.28 uses APIs cocotb 2.1 deprecates; the warnings say nothing about the design.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"cocotbext\.axi")

#: Register words are 32 bits wide.
_WORD_MASK = 0xFFFFFFFF


class BusResponseError(RuntimeError):
    """An AXI4-Lite access was answered other than expected (:attr:`resp`)."""

    def __init__(self, message: str, resp: AxiResp):
        super().__init__(message)
        self.resp = resp


class FieldTimeout(RuntimeError):
    """A polled field did not reach its value in time; :attr:`polls` reads said otherwise."""

    def __init__(self, message: str, polls: int):
        super().__init__(message)
        self.polls = polls


class RegisterBus:
    """Named registers and fields of one macro, read and written over ``axil``.

    Every access checks the response against ``expect`` (``OKAY`` unless the caller expects a
    rejection) and raises :class:`BusResponseError` otherwise. A value written is stored as a
    32-bit word (a negative value two's complement).
    """

    def __init__(self, axil: AxiLiteMaster, regmap: RegisterMap):
        self.axil = axil
        self.regmap = regmap

    @classmethod
    def from_dut(cls, dut, regmap: RegisterMap, *, prefix: str = "s_axil") -> RegisterBus:
        """An ``AxiLiteMaster`` on ``dut``'s ``<prefix>_*`` pins (``clk``, ``rst``), with its
        per-transfer INFO logs off (they cost more time than the simulation)."""
        axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, prefix), dut.clk, dut.rst)
        for channel in (axil.write_if, axil.read_if):
            channel.log.setLevel(logging.WARNING)
        return cls(axil, regmap)

    # -- words and fields -----------------------------------------------------------------------
    def address(self, name: str) -> int:
        return self.regmap[name].offset

    def field_value(self, reg: str, fld: str, word: int) -> int:
        """Field ``fld`` of register ``reg`` in ``word`` (unsigned)."""
        f = self.regmap[reg].field(fld)
        return (word & f.mask) >> f.lsb

    def word(self, reg: str, **fields: int) -> int:
        """The word of register ``reg`` with the named fields at the given values (the others
        0). Raises ValueError for a value that does not fit its field."""
        word = 0
        for name, value in fields.items():
            f = self.regmap[reg].field(name)
            value = int(value)
            if not 0 <= value < 1 << f.width:
                raise ValueError(f"{reg}.{name} is {f.width} bits wide: {value} does not fit")
            word |= value << f.lsb
        return word

    def weight_words(self, bits) -> list[tuple[str, int]]:
        """``(register, word)`` of every WEIGHT_DATA register for one row of weight ``bits``
        (1 = +1; column ``32 * k + i`` in bit ``i`` of ``WEIGHT_DATA<k>``)."""
        bits = np.asarray(bits, dtype=bool)
        out = []
        for reg in self.regmap.array("WEIGHT_DATA"):
            f = reg.field("BITS")
            chunk = bits[32 * reg.index:32 * reg.index + f.width]
            out.append((reg.name, sum(1 << int(i) for i in np.flatnonzero(chunk)) << f.lsb))
        return out

    # -- transactions ---------------------------------------------------------------------------
    async def write(self, name: str, value: int, *, expect: AxiResp = AxiResp.OKAY) -> AxiResp:
        """Write register ``name``; the response must be ``expect``."""
        word = int(value) & _WORD_MASK
        resp = (await self.axil.write(self.address(name), word.to_bytes(4, "little"))).resp
        if resp != expect:
            raise BusResponseError(f"write {name} <- 0x{word:08X}: response {resp.name}, "
                                   f"expected {expect.name}", resp)
        return resp

    async def write_fields(self, reg: str, **fields: int) -> None:
        """Write register ``reg`` as :meth:`word` composes it (expecting ``OKAY``)."""
        await self.write(reg, self.word(reg, **fields))

    async def read(self, name: str, *, expect: AxiResp = AxiResp.OKAY) -> int:
        """Read register ``name`` (the 32-bit word); the response must be ``expect``."""
        r = await self.axil.read(self.address(name), 4)
        if r.resp != expect:
            raise BusResponseError(f"read {name}: response {r.resp.name}, expected "
                                   f"{expect.name}", r.resp)
        return int.from_bytes(r.data, "little")

    async def read_field(self, reg: str, fld: str) -> int:
        return self.field_value(reg, fld, await self.read(reg))

    async def wait_field(self, reg: str, fld: str, value: int, *,
                         timeout_ns: float | None = None, max_polls: int | None = None,
                         interval_ns: float = 0.0) -> int:
        """Read ``reg.fld`` until it is ``value``, sleeping ``interval_ns`` between reads;
        return how many reads said otherwise. Raises :class:`FieldTimeout` once more than
        ``timeout_ns`` of simulated time has passed or ``max_polls`` reads said otherwise."""
        if timeout_ns is None and max_polls is None:
            raise ValueError("wait_field needs a timeout_ns or a max_polls bound")
        t0_ns, polls = get_sim_time("ns"), 0
        while await self.read_field(reg, fld) != value:
            polls += 1
            if interval_ns > 0:
                await Timer(interval_ns, "ns")
            if ((timeout_ns is not None and get_sim_time("ns") - t0_ns > timeout_ns)
                    or (max_polls is not None and polls >= max_polls)):
                raise FieldTimeout(f"{reg}.{fld} did not become {value} in {polls} polls "
                                   f"({get_sim_time('ns') - t0_ns:.0f} ns)", polls)
        return polls

    async def write_array(self, array: str, values: Iterable[int], *, field: str | None = None
                          ) -> None:
        """Write ``values`` to the registers of ``array`` in order (each whole, or into its
        ``field``); there must be one value per register."""
        for reg, value in zip(self.regmap.array(array), values, strict=True):
            await self.write(reg.name, int(value) if field is None
                             else self.word(reg.name, **{field: int(value)}))
