"""The macro's AXI4-Lite register file, generated from the register map.

Access rules (the field kinds are described in :mod:`mram_macro.design.regmap`):

* Addresses are decoded on the word address; ``addr[1:0]`` are ignored. An unmapped address
  answers DECERR, for reads and writes alike.
* Only full-word writes are accepted: a write with ``wstrb != 0b1111`` to a mapped address
  answers SLVERR and changes nothing (every register is one 32-bit word, so a partial write
  has no sensible meaning).
* A write that :meth:`Register.check_write <mram_macro.design.regmap.Register.check_write>` rejects
  (a register made only of ``ro`` fields, bits outside the fields, an ``rw`` value outside its
  range) answers SLVERR and keeps the old value. So does writing 1 to a ``cmd`` field whose
  ``*_busy`` input is high; no strobe is issued then.
* Reads return the register word: unused bits 0, signed fields sign-extended to 32 bits,
  ``cmd`` fields 0.
* Every rejected access sets the sticky STATUS.BUS_ERROR flag and records the access's byte
  address in BUS_ERROR_ADDR (a rejected write wins over a rejected read in the same cycle).
* A ``w1c`` flag is set by a one-cycle pulse on its ``*_set`` input and cleared by writing 1
  to it; a set in the same cycle as a clear wins.
"""

from __future__ import annotations

import functools

from amaranth.hdl import C, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.config import AXIL_DATA_WIDTH
from mram_macro.design.regmap import AXIL_ADDR_WIDTH, MACRO_ID, Field, Register, RegisterMap
from mram_macro.rtl.bus.axi import Resp, axi_lite_members

__all__ = ["RegisterFile", "RegisterView"]

_AXIL_PREFIX = "s_axil"
_FULL_WORD_STRB = (1 << (AXIL_DATA_WIDTH // 8)) - 1

#: Fields the register file drives itself rather than taking them from the core.
_BUS_ERROR = ("STATUS", "BUS_ERROR")
_BUS_ERROR_ADDR = ("BUS_ERROR_ADDR", "ADDR")


def _constant_fields(regmap: RegisterMap) -> dict[tuple[str, str], int]:
    c = regmap.config
    return {
        ("ID", "ID"): MACRO_ID,
        ("GEOMETRY", "ROWS"): c.rows,
        ("GEOMETRY", "COLS"): c.cols,
        ("WIDTHS", "TDC_BITS"): c.tdc_bits,
        ("WIDTHS", "RESULT_WIDTH"): c.result_width,
        ("WIDTHS", "STREAM_WIDTH"): c.stream_width,
    }


def _check_key(reg: Register):
    """What :meth:`Register.check_write` looks at, as a hashable key.

    Registers with equal keys accept exactly the same words, so they share one checker
    (all CAL_OFFSET registers, all full-width WEIGHT_DATA registers).
    """
    if reg.read_only:
        return ("read_only",)
    rw = [f for f in reg.fields if f.kind == "rw"]
    signed_rw = [f for f in rw if f.signed]
    if signed_rw:
        return ("signed", signed_rw[0].width)
    if rw:
        used = 0
        for f in reg.fields:
            used |= f.mask
        return ("unsigned", used,
                tuple((f.lsb, f.width, f.min_value, f.max_value) for f in rw))
    return None


def _below(value, bound: int):
    """``value < bound``; a bit test when ``bound`` is a power of two (the common ``>= 1``)."""
    if bound & (bound - 1) == 0:
        return ~value[bound.bit_length() - 1:].any()
    return value < bound


def _above(value, bound: int):
    """``value > bound``; a bit test when ``bound + 1`` is a power of two."""
    if (bound + 1) & bound == 0:
        return value[bound.bit_length():].any()
    return value > bound


def _any_of(terms):
    result = C(0)
    for term in terms:
        result = result | term
    return result


class RegisterFile(wiring.Component):
    """AXI4-Lite slave holding the registers of ``regmap``.

    Ports
    -----
    ``s_axil_*``
        AXI4-Lite slave (:func:`~mram_macro.rtl.bus.axi.axi_lite_members`), ``AXIL_ADDR_WIDTH``-bit
        byte addresses, 32-bit data. AW and W are accepted independently, in either order or
        together; ``bvalid`` rises the cycle after both have arrived and is held until
        ``bready``. ``rvalid`` rises the cycle after the AR handshake and is held until
        ``rready``. One write and one read may be outstanding at the same time.

    Core side, one flat port per field, named ``{register}_{field}`` in lower case:

    ``rw``
        ``Out(width)`` (``signed(width)`` for signed fields), reset to the field's reset
        value, e.g. ``precharge_cycles_cycles``, ``cal_offset5_offset``. Updated on the clock
        edge that answers the write.
    ``ro``
        ``In(width)``, e.g. ``status_vmm_busy``, except for the fields the register file
        supplies itself: ID, GEOMETRY, WIDTHS (constants), BUS_ERROR_ADDR.ADDR.
    ``w1c``
        ``In(width)`` ``{register}_{field}_set`` pulse and ``Out(width)`` current value, e.g.
        ``status_tdc_overflow_set`` / ``status_tdc_overflow``. STATUS.BUS_ERROR is set from
        inside and has only the ``Out`` port ``status_bus_error``.
    ``cmd``
        ``Out(width)`` strobe, high for exactly one cycle after an accepted write of 1, and
        ``In(1)`` ``{register}_{field}_busy``, e.g. ``ctrl_write_row`` / ``ctrl_write_row_busy``.

    ``bus_active``
        ``Out(1)``: high on every cycle on which a register of ``bus_domain`` may change (the
        enable of its clock gate).

    :attr:`fields`, :attr:`sets` and :attr:`busy` name the ports by attribute, generated from
    the register map (:class:`RegisterView`): ``regs.fields.TDC_START_DELAY.CYCLES``,
    ``regs.fields.CAL_OFFSET.OFFSET`` (a list over the array), ``regs.sets.STATUS.TDC_OVERFLOW``,
    ``regs.busy.CTRL.WRITE_ROW``; a name the map does not have is an AttributeError listing
    those it has. :meth:`port` and :meth:`array_fields` look the same ports up by name strings
    (for code that walks the register map).
    """

    def __init__(self, regmap: RegisterMap, *, rw_domain: str = "sync",
                 bus_domain: str = "sync"):
        """``rw_domain``: clock domain of the ``rw`` fields. They change only on edges where
        both write halves are held (``awready``, ``wready`` and ``bvalid`` all low), so a clock
        gated by that condition is exact.

        ``bus_domain``: clock domain of everything else the register file holds (the AXI
        handshake and read data, ``cmd`` strobes, ``w1c`` flags, BUS_ERROR_ADDR). It changes
        only on edges with the ``bus_active`` output high (an AXI channel valid or a pending
        response or write half, a ``cmd`` strobe high, a ``w1c`` set pulse), so a clock gated
        by ``bus_active`` is exact."""
        if not isinstance(regmap, RegisterMap):
            raise TypeError(f"regmap must be a RegisterMap, not {regmap!r}")
        for name, value in (("rw_domain", rw_domain), ("bus_domain", bus_domain)):
            if not isinstance(value, str) or not value.isidentifier():
                raise ValueError(f"{name} must be a domain name, not {value!r}")
        self._rw_domain = rw_domain
        self._bus_domain = bus_domain
        self._regmap = regmap
        self._constants = _constant_fields(regmap)
        self._validate(regmap)

        members = axi_lite_members(_AXIL_PREFIX, addr_width=AXIL_ADDR_WIDTH,
                                   data_width=AXIL_DATA_WIDTH)
        members["bus_active"] = Out(1)
        for reg in regmap.registers:
            for f in reg.fields:
                for name, member in self._field_members(reg, f).items():
                    if name in members:
                        raise ValueError(
                            f"port name {name!r} of {reg.name}.{f.name} is already taken")
                    members[name] = member
        super().__init__(members)

    # -- construction helpers -----------------------------------------------------------------
    def _validate(self, regmap: RegisterMap) -> None:
        seen: dict[int, str] = {}
        for reg in regmap.registers:
            if reg.offset % 4 or not 0 <= reg.offset < (1 << AXIL_ADDR_WIDTH):
                raise ValueError(
                    f"{reg.name}: offset 0x{reg.offset:X} must be word-aligned and below "
                    f"0x{1 << AXIL_ADDR_WIDTH:X}")
            if reg.offset in seen:
                raise ValueError(
                    f"{reg.name} and {seen[reg.offset]} share offset 0x{reg.offset:03X}")
            seen[reg.offset] = reg.name
            if any(f.kind == "rw" for f in reg.fields):
                why = reg.check_write(reg.reset)
                if why is not None:
                    raise ValueError(f"{reg.name}: reset value is not a valid write ({why})")
        for (reg_name, field_name), kind in ((_BUS_ERROR, "w1c"), (_BUS_ERROR_ADDR, "ro")):
            f = self._find_field(regmap, reg_name, field_name)
            if f.kind != kind:
                raise ValueError(f"{reg_name}.{field_name} must be a {kind} field, not {f.kind}")
        for (reg_name, field_name), value in self._constants.items():
            f = self._find_field(regmap, reg_name, field_name)
            if f.kind != "ro" or value >> f.width:
                raise ValueError(
                    f"{reg_name}.{field_name} must be an ro field wide enough for {value}")
            if f.reset != value:
                raise ValueError(f"{reg_name}.{field_name} reads {value}, but the register map "
                                 f"gives its reset value as {f.reset}")

    @staticmethod
    def _find_field(regmap: RegisterMap, reg_name: str, field_name: str) -> Field:
        try:
            return regmap[reg_name].field(field_name)
        except KeyError:
            raise ValueError(f"the register map has no {reg_name}.{field_name} field") from None

    def _field_members(self, reg: Register, f: Field) -> dict[str, wiring.Member]:
        key = (reg.name, f.name)
        name = self._port_name(reg.name, f.name)
        if f.kind == "rw":
            shape = signed(f.width) if f.signed else f.width
            return {name: Out(shape, init=f.reset)}
        if f.kind == "ro":
            if key in self._constants or key == _BUS_ERROR_ADDR:
                return {}
            return {name: In(f.width)}
        if f.kind == "w1c":
            if key == _BUS_ERROR:
                return {name: Out(f.width)}
            return {f"{name}_set": In(f.width), name: Out(f.width)}
        assert f.kind == "cmd", f.kind
        return {name: Out(f.width), f"{name}_busy": In(1)}

    @staticmethod
    def _port_name(reg_name: str, field_name: str, suffix: str = "") -> str:
        return f"{reg_name}_{field_name}{suffix}".lower()

    # -- lookup -------------------------------------------------------------------------------
    @property
    def regmap(self) -> RegisterMap:
        return self._regmap

    def port(self, register: str, field: str, *, suffix: str = "") -> Signal:
        """The core-side port of ``register.field``; ``suffix`` is ``""``, ``"_set"`` or
        ``"_busy"``."""
        self._regmap[register].field(field)  # KeyError naming what is missing
        name = self._port_name(register, field, suffix)
        if name not in self.signature.members:
            raise KeyError(f"{register}.{field} has no core-side port {name!r}")
        return getattr(self, name)

    def array_fields(self, array: str, field: str, *, suffix: str = "") -> list[Signal]:
        """The ports of ``field`` in every register of ``array``, in index order.

        ``regfile.array_fields("CAL_OFFSET", "OFFSET")`` lists the signed per-column offsets.
        """
        regs = sorted(self._regmap.array(array), key=lambda r: r.index)
        if not regs:
            raise KeyError(f"the register map has no array named {array!r}")
        return [self.port(r.name, field, suffix=suffix) for r in regs]

    @functools.cached_property
    def fields(self) -> RegisterView:
        """Each field's port (``rw``/``cmd``/``w1c`` value: ``Out``; ``ro``: ``In``) by
        attribute: ``regs.fields.PRECHARGE_CYCLES.CYCLES``."""
        return RegisterView(self, "")

    @functools.cached_property
    def sets(self) -> RegisterView:
        """The ``_set`` input of each ``w1c`` field: ``regs.sets.STATUS.TDC_OVERFLOW``."""
        return RegisterView(self, "_set")

    @functools.cached_property
    def busy(self) -> RegisterView:
        """The ``_busy`` input of each ``cmd`` field: ``regs.busy.CTRL.WRITE_ROW``."""
        return RegisterView(self, "_busy")

    # -- hardware -----------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        bus = m.d[self._bus_domain]
        regs = self._regmap.registers
        data_width = AXIL_DATA_WIDTH

        # Internal state that the register map exposes.
        bus_error_addr = Signal(AXIL_ADDR_WIDTH)
        bus_error_set = Signal()

        def field_value(reg: Register, f: Field):
            """What a read of ``reg.f`` returns (``None`` reads as 0)."""
            key = (reg.name, f.name)
            if key in self._constants:
                return C(self._constants[key], f.width)
            if key == _BUS_ERROR_ADDR:
                return bus_error_addr
            if f.kind == "cmd":
                return None
            return getattr(self, self._port_name(reg.name, f.name))

        # ---- write channel: collect AW and W in any order, then answer on B --------------------
        aw_full = Signal()
        aw_addr = Signal(AXIL_ADDR_WIDTH)
        w_full = Signal()
        w_data = Signal(data_width)
        w_full_word = Signal()

        m.d.comb += [
            self.s_axil_awready.eq(~aw_full & ~self.s_axil_bvalid),
            self.s_axil_wready.eq(~w_full & ~self.s_axil_bvalid),
        ]
        with m.If(self.s_axil_awvalid & self.s_axil_awready):
            bus += [aw_full.eq(1), aw_addr.eq(self.s_axil_awaddr)]
        with m.If(self.s_axil_wvalid & self.s_axil_wready):
            bus += [w_full.eq(1), w_data.eq(self.s_axil_wdata),
                         w_full_word.eq(self.s_axil_wstrb == _FULL_WORD_STRB)]

        # One-hot decode of the latched write address, one bit per register.
        wr_hit = Signal(len(regs))
        with m.Switch(aw_addr[2:]):
            for i, reg in enumerate(regs):
                with m.Case(reg.offset >> 2):
                    m.d.comb += wr_hit.eq(1 << i)
            with m.Default():
                m.d.comb += wr_hit.eq(0)

        # One checker per distinct register layout, shared by all registers with that layout
        # (e.g. every CAL_OFFSET), evaluated on the latched write data.
        by_layout: dict[object, list[int]] = {}
        for i, reg in enumerate(regs):
            by_layout.setdefault(_check_key(reg), []).append(i)
        check_terms = []
        for key, members in by_layout.items():
            reject = self._reject_logic(key, w_data)
            if reject is False:
                continue
            hit = _any_of(wr_hit[i] for i in members)
            if reject is True:
                check_terms.append(hit)
            else:
                checker = Signal(name=f"reject_like_{regs[members[0]].name.lower()}")
                m.d.comb += checker.eq(reject)
                check_terms.append(hit & checker)
        busy_terms = [
            wr_hit[i] & w_data[f.lsb:f.lsb + f.width].any()
            & getattr(self, self._port_name(reg.name, f.name, "_busy"))
            for i, reg in enumerate(regs) for f in reg.fields if f.kind == "cmd"]

        wr_go = Signal()        # both halves present: decide and answer this cycle
        wr_mapped = Signal()
        wr_check_reject = Signal()
        wr_busy_reject = Signal()
        wr_ok = Signal()
        wr_commit = Signal()
        m.d.comb += [
            wr_go.eq(aw_full & w_full),
            wr_mapped.eq(wr_hit.any()),
            wr_check_reject.eq(_any_of(check_terms)),
            wr_busy_reject.eq(_any_of(busy_terms)),
            wr_ok.eq(wr_mapped & w_full_word & ~wr_check_reject & ~wr_busy_reject),
            wr_commit.eq(wr_go & wr_ok),
        ]

        with m.If(wr_go):
            bus += [aw_full.eq(0), w_full.eq(0), self.s_axil_bvalid.eq(1)]
            with m.If(~wr_mapped):
                bus += self.s_axil_bresp.eq(Resp.DECERR)
            with m.Elif(~wr_ok):
                bus += self.s_axil_bresp.eq(Resp.SLVERR)
            with m.Else():
                bus += self.s_axil_bresp.eq(Resp.OKAY)
        with m.Elif(self.s_axil_bready):
            bus += self.s_axil_bvalid.eq(0)

        # Register updates. cmd strobes are high for the one cycle after the accepted write.
        for i, reg in enumerate(regs):
            for f in reg.fields:
                if f.kind == "ro":
                    continue
                key = (reg.name, f.name)
                port = getattr(self, self._port_name(*key))
                bits = w_data[f.lsb:f.lsb + f.width]
                selected = wr_commit & wr_hit[i]
                if f.kind == "rw":
                    with m.If(selected):
                        m.d[self._rw_domain] += port.eq(bits)
                elif f.kind == "cmd":
                    bus += port.eq(Mux(selected, bits, 0))
                elif f.kind == "w1c":
                    set_ = (bus_error_set if key == _BUS_ERROR
                            else getattr(self, self._port_name(*key, "_set")))
                    clear = Mux(selected, bits, 0)
                    bus += port.eq((port & ~clear) | set_)

        # ---- read channel -----------------------------------------------------------------
        rd_fire = Signal()
        rd_mapped = Signal()
        rd_value = Signal(data_width)
        m.d.comb += [
            self.s_axil_arready.eq(~self.s_axil_rvalid),
            rd_fire.eq(self.s_axil_arvalid & self.s_axil_arready),
        ]
        with m.Switch(self.s_axil_araddr[2:]):
            for reg in regs:
                with m.Case(reg.offset >> 2):
                    m.d.comb += rd_mapped.eq(1)
                    for f in reg.fields:
                        value = field_value(reg, f)
                        if value is not None:
                            top = data_width if f.signed else f.lsb + f.width
                            m.d.comb += rd_value[f.lsb:top].eq(value)
            with m.Default():
                m.d.comb += [rd_mapped.eq(0), rd_value.eq(0)]
        with m.If(rd_fire):
            bus += [self.s_axil_rvalid.eq(1), self.s_axil_rdata.eq(rd_value)]
            with m.If(rd_mapped):
                bus += self.s_axil_rresp.eq(Resp.OKAY)
            with m.Else():
                bus += self.s_axil_rresp.eq(Resp.DECERR)
        with m.Elif(self.s_axil_rready):
            bus += self.s_axil_rvalid.eq(0)

        # ---- bus errors ---------------------------------------------------------------------
        wr_error = Signal()
        rd_error = Signal()
        m.d.comb += [
            wr_error.eq(wr_go & ~wr_ok),
            rd_error.eq(rd_fire & ~rd_mapped),
            bus_error_set.eq(wr_error | rd_error),
        ]
        with m.If(wr_error):
            bus += bus_error_addr.eq(aw_addr)
        with m.Elif(rd_error):
            bus += bus_error_addr.eq(self.s_axil_araddr)

        # ---- activity: the enable of bus_domain's clock gate ---------------------------------
        strobes = [getattr(self, self._port_name(reg.name, f.name))
                   for reg in regs for f in reg.fields if f.kind == "cmd"]
        sets = [getattr(self, self._port_name(reg.name, f.name, "_set"))
                for reg in regs for f in reg.fields
                if f.kind == "w1c" and (reg.name, f.name) != _BUS_ERROR]
        m.d.comb += self.bus_active.eq(_any_of([
            self.s_axil_awvalid, self.s_axil_wvalid, self.s_axil_arvalid,
            self.s_axil_bvalid, self.s_axil_rvalid, aw_full, w_full,
            *(s.any() for s in strobes), *(s.any() for s in sets)]))
        return m

    @staticmethod
    def _reject_logic(key, word: Signal):
        """Hardware equivalent of ``check_write(word) is not None`` for the registers whose
        :func:`_check_key` is ``key``; ``True``/``False`` when that does not depend on ``word``.
        """
        if key is None:
            return False
        if key[0] == "read_only":
            return True
        if key[0] == "signed":
            # In range iff the word is the sign extension of its low ``width`` bits, i.e. the
            # bits from the sign bit up are all equal.
            width = key[1]
            if width >= len(word):
                return False
            top = word[width - 1:]
            return top.any() & ~top.all()
        _, used, rw_fields = key
        unused = ~used & ((1 << len(word)) - 1)
        terms = [(word & unused).any()] if unused else []
        for lsb, width, min_value, max_value in rw_fields:
            value = word[lsb:lsb + width]
            if min_value > 0:
                terms.append(_below(value, min_value))
            if max_value is not None and max_value < (1 << width) - 1:
                terms.append(_above(value, max_value))
        return _any_of(terms) if terms else False


class RegisterView:
    """A :class:`RegisterFile`'s core-side ports (those with ``suffix``: ``""``, ``"_set"`` or
    ``"_busy"``) by attribute, generated from its register map.

    ``view.REG.FIELD`` is register ``REG``'s field port; for an array (CAL_OFFSET, WEIGHT_DATA,
    ...) ``view.ARRAY.FIELD`` lists that field's port in every element, in index order, and
    ``view.ARRAY[i].FIELD`` is element ``i``'s (as is ``view.ARRAYi.FIELD``). A register,
    array or field the map does not have, or a field without a port of this kind, raises
    AttributeError naming what there is, when the design is elaborated.
    """

    def __init__(self, regfile: RegisterFile, suffix: str = ""):
        if suffix not in ("", "_set", "_busy"):
            raise ValueError(f"suffix must be '', '_set' or '_busy', not {suffix!r}")
        self._regfile, self._suffix = regfile, suffix

    def _names(self) -> list[str]:
        """The scalar registers and the arrays of the map, in address order."""
        names: list[str] = []
        for r in self._regfile.regmap.registers:
            name = r.array_name or r.name
            if name not in names:
                names.append(name)
        return names

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        regmap = self._regfile.regmap
        elements = sorted(regmap.array(name), key=lambda r: r.index)
        if elements:
            return _ArrayView(self._regfile, name, elements, self._suffix)
        try:
            return _FieldView(self._regfile, regmap[name], self._suffix)
        except KeyError:
            raise AttributeError(f"the register map has no register or array {name!r}; it has "
                                 f"{', '.join(self._names())}") from None

    def __dir__(self):
        return self._names()


class _FieldView:
    """One register's field ports by attribute (:class:`RegisterView`)."""

    def __init__(self, regfile: RegisterFile, register: Register, suffix: str):
        self._regfile, self._register, self._suffix = regfile, register, suffix

    def __getattr__(self, name: str) -> Signal:
        if name.startswith("_"):
            raise AttributeError(name)
        reg = self._register
        if name not in (f.name for f in reg.fields):
            raise AttributeError(f"register {reg.name} has no field {name!r}; its fields: "
                                 f"{', '.join(f.name for f in reg.fields)}")
        try:
            return self._regfile.port(reg.name, name, suffix=self._suffix)
        except KeyError:
            kind = reg.field(name).kind
            raise AttributeError(f"{reg.name}.{name} (a {kind} field) has no core-side port"
                                 f"{' ' + repr(self._suffix) if self._suffix else ''}") from None

    def __dir__(self):
        return [f.name for f in self._register.fields]


class _ArrayView:
    """One register array's field ports by attribute, as lists (:class:`RegisterView`)."""

    def __init__(self, regfile: RegisterFile, name: str, elements: list[Register],
                 suffix: str):
        self._name = name
        self._elements = [_FieldView(regfile, r, suffix) for r in elements]

    def __len__(self) -> int:
        return len(self._elements)

    def __getitem__(self, index: int) -> _FieldView:
        return self._elements[index]

    def __getattr__(self, name: str) -> list[Signal]:
        if name.startswith("_"):
            raise AttributeError(name)
        return [getattr(e, name) for e in self._elements]

    def __dir__(self):
        return dir(self._elements[0])
