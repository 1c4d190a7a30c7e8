"""Place and route of the periphery at 45 nm (``make layout``): the placed netlist and its names
(:mod:`.netlist`), GrayWolf + qrouter + SPEF extraction (:mod:`.pnr`), SPEF/DEF readers
(:mod:`.spef`), post-route sign-off and energy (:mod:`.flow`), the integrator's abstract
(:mod:`.abstract`) and the die plot (:mod:`.plot`)."""
