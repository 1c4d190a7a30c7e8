"""The layered cocotb testbench of the generated macro Verilog, part of the product.

:mod:`.env` (:class:`~.env.MacroEnv`) composes the reference model (:mod:`.model`), the drivers
(:mod:`.drivers`), the monitors (:mod:`.monitors`) and the scoreboard (:mod:`.scoreboard`),
which share the stream basics of :mod:`.streams`; :mod:`.budgets` bounds the cycles it waits and
:mod:`.params` reads the run's parameters. The power workloads of ``make ppa``
(:mod:`mram_macro.sim.workloads`) run on it, and the test suites (``verif/cocotb/``) build on it.
Importing this package imports no cocotb; its modules do.
"""
