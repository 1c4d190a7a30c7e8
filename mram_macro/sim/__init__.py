"""Running the generated Verilog in RTL simulation (cocotb on Icarus Verilog or Verilator).

Part of the product, not of the tests: ``mram-macro demo``, ``make bench`` and the test suite
all build and run simulations through :mod:`mram_macro.sim.runner`.
"""
