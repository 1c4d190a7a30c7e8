"""cocotb integration tests of the generated macro Verilog: testbench (``env``) and tests
(``test_macro``), run by ``verif/test_cocotb.py``."""
