"""cocotb integration tests of the generated macro Verilog.

The testbench in layers is the product's (:mod:`mram_macro.sim.testbench`: ``MacroEnv``
composing the reference model, drivers, monitors and scoreboard); :mod:`.env` adds the
functional coverage of :mod:`.coverage` to it. What the test modules share is in
:mod:`.fixtures`. The test modules are grouped into suites, run by the
pytest wrappers (``verif/test_cocotb.py``, ``verif/test_matrix.py``, ``verif/regress.py``).
"""

#: The golden-model suite: random and directed VMMs, stream throughput, registers, reset and
#: weight writes (``test_macro``), and calibration through the bus (``test_calibration``).
MACRO_SUITE = ("verif.cocotb.test_macro", "verif.cocotb.test_calibration")
#: The robustness suite: protocol stress, bad input, faults and resets (``test_robustness``),
#: and the directed tests that close functional coverage (``test_coverage_closure``).
ROBUSTNESS_SUITE = ("verif.cocotb.test_robustness", "verif.cocotb.test_coverage_closure")
