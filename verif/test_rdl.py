"""The register map exported to SystemRDL and IP-XACT reads back as the same map."""

from __future__ import annotations

from pathlib import Path

import pytest

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.docs.rdl import (
    compile_systemrdl,
    registers_from_map,
    registers_from_rdl,
    to_ipxact,
    to_systemrdl,
)
from mram_macro.rtl.top import macro_regmap

HDL = Path(__file__).resolve().parents[1] / "hdl"
CONFIGS = [profile_config("full"),
           # 40 columns: the second WEIGHT_DATA / WV_FAIL_MASK word is 8 bits, not an array
           profile_config("full", rows=8, cols=40, tdc_bits=4, result_width=8, stream_width=8)]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.slug)
def test_systemrdl_round_trip(config, tmp_path):
    """Compile the exported .rdl with systemrdl-compiler; every register, offset, field, kind,
    reset value, signedness, range and description comes back as in the map."""
    regmap = macro_regmap(config)
    path = tmp_path / "mram_macro.rdl"
    path.write_text(to_systemrdl(regmap))
    got = registers_from_rdl(compile_systemrdl(path))
    want = registers_from_map(regmap)
    assert [r[1] for r in got] == [r[1] for r in want]
    assert got == want


def _core(regs):
    """What IP-XACT carries: no user-defined properties (signedness, ranges)."""
    return [(off, name, [(f[0], f[1], f[2], f[3], f[4], f[8]) for f in fields])
            for off, name, fields in regs]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.slug)
def test_ipxact_round_trip(config, tmp_path):
    from peakrdl_ipxact import IPXACTImporter
    from systemrdl import RDLCompiler

    regmap = macro_regmap(config)
    rdl = tmp_path / "m.rdl"
    rdl.write_text(to_systemrdl(regmap))
    xml = tmp_path / "m.xml"
    to_ipxact(compile_systemrdl(rdl), xml)
    rdlc = RDLCompiler()
    IPXACTImporter(rdlc).import_file(str(xml))
    assert _core(registers_from_rdl(rdlc.elaborate())) == _core(registers_from_map(regmap))


def test_round_trip_catches_a_changed_field(tmp_path):
    regmap = macro_regmap(profile_config("full"))
    text = to_systemrdl(regmap).replace("CYCLES[7:0]", "CYCLES[6:0]", 1)
    assert text != to_systemrdl(regmap)
    path = tmp_path / "bad.rdl"
    path.write_text(text)
    assert registers_from_rdl(compile_systemrdl(path)) != registers_from_map(regmap)


def test_committed_exports_compile():
    got = registers_from_rdl(compile_systemrdl(HDL / "mram_macro.rdl"))
    assert got == registers_from_map(macro_regmap(MacroConfig()))
    assert "<ipxact:name>mram_macro</ipxact:name>" in (HDL / "mram_macro.xml").read_text()
