"""Host API of the macro: one interface over the golden model and the RTL simulation.

* :class:`Macro` (:mod:`~mram_macro.host.api`): write weights, calibrate, run VMMs (batches,
  accumulate, hold, multi-bit inputs), read status and faults.
* :class:`Bank` (:mod:`~mram_macro.host.bank`): many macros of one die (one seed), layers
  larger than one array placed tile by tile and run.
* Backends: :mod:`~mram_macro.host.golden_backend` (NumPy) and
  :mod:`~mram_macro.host.rtl_backend` (cocotb over AXI on Icarus or Verilator, its simulation
  side in :mod:`~mram_macro.host.rtl_server`).
"""

from mram_macro.design.config import MacroConfig
from mram_macro.host.api import ENCODINGS, HostError, Macro, bits_product, to_bits
from mram_macro.host.backend import Backend, Status
from mram_macro.host.bank import Bank, BankLayer
from mram_macro.host.die_setup import DieSetup

__all__ = ["Macro", "MacroConfig", "Bank", "BankLayer", "HostError", "Status", "Backend",
           "DieSetup", "ENCODINGS", "to_bits", "bits_product"]
