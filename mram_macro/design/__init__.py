"""What a macro is, derived once: the build parameters and their checks (:mod:`.config`), the
TDC modes (:mod:`.modes`), the register map (:mod:`.regmap`), the bit layouts of the buses
(:mod:`.layouts`) and the immutable design a configuration and a device derive
(:class:`.macro.MacroDesign`). The RTL, the models, the testbenches, the flow and the docs import
these; this package imports nothing of them (the physics models import only its
configuration types, so this ``__init__`` imports nothing at all)."""
