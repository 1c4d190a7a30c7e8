"""Design-space exploration (issue 24): geometry x readout x MRAM device, Pareto fronts.

* :mod:`~mram_macro.explore.features`: flip-flops per block of a configuration (RTLIL, no
  synthesis).
* :mod:`~mram_macro.explore.model`: the digital energy and area model fitted per block to the
  committed gate-level results.
* :mod:`~mram_macro.explore.point`: one point (configuration, device preset, clock): readout,
  cycles, energy, area, and the digits network's accuracy on golden dies.
* :mod:`~mram_macro.explore.sweep`: the sweep as Dask tasks, JSON and CSV.
* :mod:`~mram_macro.explore.pareto`: Pareto fronts, plots, ``--target`` selection.
* :mod:`~mram_macro.explore.check`: the model against the gate-level flow on held-out
  configurations.

Device presets live with the device model: :mod:`sim_models.devices`.
"""
