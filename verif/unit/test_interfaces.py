"""The periphery's point-to-point interfaces (mram_macro/rtl/periphery/interfaces.py): each block's
end of one matches the other's, so the top can join them with ``wiring.connect``."""

from __future__ import annotations

import pytest
from amaranth import Module
from amaranth.lib import wiring

from mram_macro.design.config import MacroConfig
from mram_macro.rtl.periphery.input_deserializer import InputDeserializer
from mram_macro.rtl.periphery.input_driver import InputDriver
from mram_macro.rtl.periphery.interfaces import BypassPattern, TdcControl
from mram_macro.rtl.periphery.read_control import ReadControl
from mram_macro.rtl.periphery.result_serializer import ResultSerializer
from mram_macro.rtl.periphery.sequencer import Sequencer
from mram_macro.rtl.periphery.tdc import Tdc
from mram_macro.rtl.periphery.write_controller import WriteController

pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def test_parameters_are_validated():
    with pytest.raises(TypeError, match=r"code_bits must be a positive integer, not 0"):
        TdcControl(code_bits=0, early=False)
    with pytest.raises(TypeError, match=r"early must be a bool, not 1"):
        TdcControl(code_bits=3, early=1)
    with pytest.raises(TypeError, match=r"rows must be a positive integer, not True"):
        BypassPattern(rows=True)
    with pytest.raises(TypeError, match=r"two_step must be a bool, not 'yes'"):
        ReadControl(tdc_bits=4, two_step="yes")


@pytest.mark.parametrize("mode", ["counter", "two_step", "coarse"])
def test_read_control_drives_the_tdc_of_each_mode(mode):
    c = MacroConfig(rows=16, cols=8, tdc_mode=mode, **({"tdc_bits": 4} if mode == "coarse"
                                                       else {}))
    two_step = c.mode.has_fine_interpolator
    reader = ReadControl(tdc_bits=c.coarse_bits, two_step=two_step)
    tdc = Tdc(cols=c.cols, tdc_bits=c.tdc_bits, fine_taps=c.fine_taps)
    m = Module()
    wiring.connect(m, reader.tdc, tdc.ctl)
    assert ("early" in tdc.ctl.signature.members) == two_step
    # a read control built for the other kind of TDC does not fit
    other = ReadControl(tdc_bits=c.coarse_bits, two_step=not two_step)
    with pytest.raises(wiring.ConnectionError):
        wiring.connect(Module(), other.tdc, tdc.ctl)


def test_the_handshakes_connect():
    c = MacroConfig(rows=16, cols=8, write_verify=None)
    seq = Sequencer(multibit=c.multibit)
    m = Module()
    wiring.connect(m, seq.read, ReadControl(tdc_bits=c.coarse_bits).cmd)
    wiring.connect(m, seq.result, ResultSerializer(c).frame)
    wiring.connect(m, InputDeserializer(c).handoff, seq.vector)
    wiring.connect(m, WriteController(rows=c.rows, cols=c.cols, tdc_bits=c.tdc_bits).bypass,
                   InputDriver(rows=c.rows, raw=True).bypass)
    assert "bypass" not in InputDriver(rows=c.rows, raw=False).signature.members
