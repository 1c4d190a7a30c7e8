"""The bare-metal C example compiles freestanding against the generated header, and does the
right register accesses when run on the host against a fake register window."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mram_macro.design.config import MacroConfig
from mram_macro.rtl.top import macro_regmap

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "baremetal"
HDL = ROOT / "hdl"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc missing")

_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(HDL),
          "-I", str(EXAMPLE)]

# Host harness: the macro's 4 KiB window as an array; prints the words the driver wrote.
_HARNESS = r"""
#include <stdio.h>
#include <stdint.h>
#include "mram_vmm.h"
uint32_t mram_fake[1024];
#define FAKE(offset) mram_fake[(offset) / 4]
int main(void) {
    uint32_t w[MRAM_MACRO_WEIGHT_DATA_COUNT];
    unsigned i;
    int rc;
    for (i = 0; i < MRAM_MACRO_WEIGHT_DATA_COUNT; i++) w[i] = 0xA5A5A5A5u + i;
    printf("probe_empty %d\n", mram_probe());
    FAKE(MRAM_MACRO_ID) = 0x4D52414Du;
    FAKE(MRAM_MACRO_GEOMETRY) = (MRAM_MACRO_COLS << 16) | MRAM_MACRO_ROWS;
    printf("probe %d\n", mram_probe());
    rc = mram_set_offset(3, -3);
    printf("offset %d %08x\n", rc, (unsigned)FAKE(MRAM_MACRO_CAL_OFFSET(3)));
    printf("offset_range %d\n", mram_set_offset(4, MRAM_MACRO_CAL_OFFSET_OFFSET_MAX + 1));
    printf("get %d\n", (int)mram_get_offset(3));
    rc = mram_write_row(5, w);
    printf("row %d %u %08x %08x\n", rc, (unsigned)FAKE(MRAM_MACRO_WRITE_ROW_ADDR),
           (unsigned)FAKE(MRAM_MACRO_CTRL), (unsigned)FAKE(MRAM_MACRO_WEIGHT_DATA(0)));
    printf("row_range %d\n", mram_write_row(MRAM_MACRO_ROWS, w));
    FAKE(MRAM_MACRO_STATUS) = MRAM_MACRO_STATUS_BUS_ERROR_MASK
                              | MRAM_MACRO_STATUS_VMM_BUSY_MASK;
    printf("errors %08x\n", (unsigned)mram_take_errors());
    return 0;
}
"""


def test_example_compiles_freestanding(tmp_path):
    subprocess.run(["gcc", *_FLAGS, "-ffreestanding", "-O2", "-c",
                    str(EXAMPLE / "mram_vmm.c"), "-o", str(tmp_path / "mram_vmm.o")],
                   check=True)


def test_example_register_accesses_on_the_host(tmp_path):
    harness = tmp_path / "harness.c"
    harness.write_text(_HARNESS)
    exe = tmp_path / "harness"
    # mram_vmm.c needs the fake array declared before MRAM_MACRO_BASE is used.
    decl = tmp_path / "fake.h"
    decl.write_text("#include <stdint.h>\nextern uint32_t mram_fake[1024];\n")
    subprocess.run(["gcc", *_FLAGS, "-include", str(decl),
                    "-DMRAM_MACRO_BASE=((uintptr_t)mram_fake)", str(harness),
                    str(EXAMPLE / "mram_vmm.c"), "-o", str(exe)], check=True)
    out = dict(line.split(" ", 1) for line in
               subprocess.run([str(exe)], capture_output=True, text=True,
                              check=True).stdout.splitlines())
    regmap = macro_regmap(MacroConfig())
    assert out["probe_empty"] == "-1"
    assert out["probe"] == "0"
    # -3 goes out sign-extended to 32 bits, the only form the register file accepts.
    word = int(out["offset"].split()[1], 16)
    assert out["offset"].split()[0] == "0" and word == 0xFFFFFFFD
    assert regmap["CAL_OFFSET3"].check_write(word) is None
    assert regmap["CAL_OFFSET3"].check_write(word & 0xFFFF) is not None
    assert out["offset_range"] == "-3"
    assert out["get"] == "-3"
    status, row, ctrl, w0 = out["row"].split()
    assert (status, int(row), int(ctrl, 16), int(w0, 16)) == ("0", 5, 1, 0xA5A5A5A5)
    assert out["row_range"] == "-3"
    assert int(out["errors"], 16) == regmap["STATUS"].field("BUS_ERROR").mask
