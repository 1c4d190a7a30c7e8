"""Bus interfaces of the macro: AXI port naming and the AXI4-Lite register file."""

from mram_macro.rtl.bus.axi import Resp, axi_lite_members, axi_stream_members
from mram_macro.rtl.bus.regfile import RegisterFile

__all__ = ["Resp", "axi_lite_members", "axi_stream_members", "RegisterFile"]
