"""The macro's RTL in Amaranth: the top (:mod:`.top`, :class:`~.top.MramMacro` and
:func:`~.top.generate_verilog`) composing the periphery blocks (:mod:`.periphery`) and the bus
interfaces (:mod:`.bus`); the portability pass over the generated Verilog (:mod:`.portable`)
and the behavioural Verilog stand-in of the analogue array for integrators
(:mod:`.array_model`)."""
