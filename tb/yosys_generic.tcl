# Yosys script of the FuseSoC `synth` target (edalize runs it as `tcl yosys_generic.tcl` in its
# work directory, next to the edalize_yosys_procs.tcl it generates). Technology-independent
# synthesis; `mram-macro synth` maps to a Liberty library for area figures.
yosys -import
source edalize_yosys_procs.tcl
read_files
hierarchy -check -top $top
# edalize_yosys_procs.tcl defines a Tcl proc `synth`; call the Yosys command explicitly.
yosys synth -flatten -top $top
check -assert
stat
write_blif $name.blif
