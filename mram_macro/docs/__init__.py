"""The generated documentation: the datasheet (:mod:`.datasheet`, its sections in
:mod:`.datasheet_sections` and :mod:`.coarse_docs`), the pin timing diagrams recorded from the
RTL (:mod:`.pin_waves`), the SystemRDL and IP-XACT descriptions (:mod:`.rdl`), where the
published PPA results are (:mod:`.published`), and the README's generated sections
(:mod:`.generate`, ``python -m mram_macro.docs``)."""
