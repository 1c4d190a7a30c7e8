"""AXI port naming, defined once.

The macro's bus ports are flat signature members with the standard AXI signal names joined to a
prefix by a single underscore (``s_axil_awaddr``, ``s_axis_tdata``). Flat names are what
cocotbext-axi binds to (``AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), ...)``); a
nested Amaranth interface would be emitted with ``__`` separators instead.

Members are described from the slave's (the component's) point of view: a slave has
``awaddr`` as :data:`~amaranth.lib.wiring.In`, a master has it as ``Out``.
"""

from __future__ import annotations

from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Resp", "axi_lite_members", "axi_stream_members"]


class Resp(enum.Enum, shape=2):
    """AXI ``bresp``/``rresp`` codes."""

    OKAY = 0
    EXOKAY = 1
    SLVERR = 2
    DECERR = 3


def _check_prefix(prefix: object) -> None:
    if not isinstance(prefix, str) or not prefix.isidentifier():
        raise TypeError(f"prefix must be a string usable as an identifier, not {prefix!r}")


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TypeError(f"{name} must be a positive integer, not {value!r}")


def axi_lite_members(prefix: str = "s_axil", *, addr_width: int,
                     data_width: int = 32) -> dict[str, wiring.Member]:
    """Signature members of an AXI4-Lite slave port, named ``{prefix}_{awaddr,...}``.

    ``data_width`` is 32 or 64 (the two widths AXI4-Lite allows); ``wstrb`` has one bit per
    byte. ``awprot``/``arprot`` are present for interoperability.
    """
    _check_prefix(prefix)
    _check_positive("addr_width", addr_width)
    if data_width not in (32, 64):
        raise ValueError(f"data_width of AXI4-Lite must be 32 or 64, not {data_width!r}")
    members = {
        "awaddr": In(addr_width), "awprot": In(3), "awvalid": In(1), "awready": Out(1),
        "wdata": In(data_width), "wstrb": In(data_width // 8), "wvalid": In(1), "wready": Out(1),
        "bresp": Out(2), "bvalid": Out(1), "bready": In(1),
        "araddr": In(addr_width), "arprot": In(3), "arvalid": In(1), "arready": Out(1),
        "rdata": Out(data_width), "rresp": Out(2), "rvalid": Out(1), "rready": In(1),
    }
    return {f"{prefix}_{name}": member for name, member in members.items()}


def axi_stream_members(prefix: str, *, direction: str, data_width: int,
                       user_width: int = 0) -> dict[str, wiring.Member]:
    """Signature members of an AXI4-Stream port, named ``{prefix}_{tdata,...}``.

    ``direction`` is ``"slave"`` (the component receives: ``tdata``, ``tvalid``, ``tlast`` and
    ``tuser`` are ``In``, ``tready`` is ``Out``) or ``"master"`` (the reverse). ``tuser`` is
    omitted when ``user_width`` is 0.
    """
    _check_prefix(prefix)
    if direction not in ("slave", "master"):
        raise ValueError(f"direction must be 'slave' or 'master', not {direction!r}")
    _check_positive("data_width", data_width)
    if isinstance(user_width, bool) or not isinstance(user_width, int) or user_width < 0:
        raise TypeError(f"user_width must be a non-negative integer, not {user_width!r}")
    forward, backward = (In, Out) if direction == "slave" else (Out, In)
    members = {
        "tdata": forward(data_width), "tvalid": forward(1), "tready": backward(1),
        "tlast": forward(1),
    }
    if user_width:
        members["tuser"] = forward(user_width)
    return {f"{prefix}_{name}": member for name, member in members.items()}
