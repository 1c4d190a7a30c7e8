"""From the generated Verilog to the macro's cost: synthesis with Yosys (:mod:`.synth`), the
timing constraints (:mod:`.sdc`), clock trees (:mod:`.clock_tree`), lint (:mod:`.lint`), the
timing sign-off, power and PPA report (:mod:`.ppa`, ``python -m mram_macro.flow.ppa``) and
place and route (:mod:`.layout`, ``python -m mram_macro.flow.layout``)."""
