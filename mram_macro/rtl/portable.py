"""Portability of the generated Verilog across language standards.

Amaranth's Verilog comes from Yosys' ``write_verilog``, which emits every combinational process
as ``always @*``. Such a block runs only when something it reads changes, so one whose inputs
never change after time 0 would never run and leave its outputs X. Yosys therefore adds one
trigger variable per module (YosysHQ/yosys PR #2273)::

    reg \\$auto$verilog_backend.cc:2355:dump_module$10  = 0;
    always @* begin
      if (\\$auto$verilog_backend.cc:2355:dump_module$10 ) begin end
      ...

That relies on Verilog-2005 semantics, where a declaration initialiser is a procedural
assignment at time 0 and so an event. IEEE 1800 (SystemVerilog) instead sets declaration
initialisers *before* any procedure starts, with no event: under ``iverilog -g2012`` (cocotb's
default) the ``always @*`` blocks then never run at time 0, and whatever depends on a block
whose inputs do not change reads X; ``s_axil_rdata`` of the first AXI4-Lite read is where a
testbench sees it (``verif/test_portable.py`` has the 10-line reproduction).

:func:`portable_comb_triggers` rewrites the declaration into a declaration plus an ``initial``
assignment, the form sv2v uses for the same purpose. An ``initial`` assignment is an event at
time 0 under both standards, so the generated Verilog behaves the same under ``-g2005`` and
``-g2012`` (and Verilator and Yosys read it as before).
"""

from __future__ import annotations

import re

__all__ = ["portable_comb_triggers", "TRIGGER_DECLARATION"]

#: The trigger declaration ``write_verilog`` emits, once per module that has processes.
TRIGGER_DECLARATION = re.compile(
    r"^(?P<indent>[ \t]*)reg (?P<name>\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;$",
    re.MULTILINE)


def portable_comb_triggers(verilog_text: str) -> str:
    """``verilog_text`` with each Yosys ``always @*`` trigger set by an ``initial`` block.

    Raises ValueError if the text uses a trigger it does not declare in the known form (a new
    Yosys could change it; then this rewrite must be revisited, not silently skipped).
    """
    declared = TRIGGER_DECLARATION.findall(verilog_text)
    used = set(re.findall(r"if \((\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ )\) "
                          r"begin end", verilog_text))
    missing = used - {name for _, name in declared}
    if missing:
        raise ValueError(f"always @* trigger(s) {sorted(missing)} are not declared as "
                         f"`reg <name> = 0;`: the Yosys output format changed, revisit "
                         f"mram_macro/rtl/portable.py")
    return TRIGGER_DECLARATION.sub(
        lambda m: f"{m['indent']}reg {m['name']};\n{m['indent']}initial {m['name']} = 1'h0;",
        verilog_text)
