"""cocotb workloads the product runs on the macro: the gate-level power workload of ``make ppa``
(:mod:`.power`, the default of :func:`mram_macro.flow.ppa.activity.simulate_activity`).

Each is a cocotb test module, handed to a runner by its dotted name.
"""
