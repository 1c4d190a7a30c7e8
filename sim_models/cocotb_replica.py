"""The replica columns' pins in cocotb: ``arr_ref_en`` in, ``arr_ref_cmp`` out.

An addition to the pin models of :mod:`sim_models.cocotb_array` (which it leaves as they are):
:class:`ReplicaPins` is a mixin that, at the falling edge where a pin model samples the start of
an evaluation, also samples ``arr_ref_en``; if it is high, the replica columns
(:class:`sim_models.replica.ReplicaColumns` of the same die, same evaluation number) discharge
too and each raises its ``arr_ref_cmp`` bit at its trip edge under the same timing contract as
``arr_cmp``. They are reset with the array's comparators at the next precharge. Internally the
replica bits ride above the array's columns in the pin model's comparator mask, so the parent's
scheduling raises them with no further wake-ups.

:class:`ReplicaCocotbMramArray` and :class:`ReplicaLegacyCocotbMramArray` are the two pin
models with their replica columns.
"""

from __future__ import annotations

from .cocotb_array import (
    CocotbMramArray,
    HarnessCocotbMramArray,
    LegacyCocotbMramArray,
    has_scheduler,
)

__all__ = ["ReplicaPins", "ReplicaCocotbMramArray", "ReplicaLegacyCocotbMramArray",
           "ReplicaHarnessCocotbMramArray", "array_pin_model"]


class ReplicaPins:
    """Mixin for a pin model of :mod:`sim_models.cocotb_array` (see the module docstring)."""

    def __init__(self, dut, array, readout, **kwargs):
        super().__init__(dut, array, readout, **kwargs)
        self._ref_en, self._ref_cmp = dut.arr_ref_en, dut.arr_ref_cmp
        self.replicas = array.replica.n
        if len(self._ref_cmp) != self.replicas:
            raise ValueError(f"arr_ref_cmp is {len(self._ref_cmp)} bits wide, but the array "
                             f"model has {self.replicas} replica columns")
        #: Replica evaluations seen, and the last one's trip edges.
        self.replica_evaluations = 0
        self.last_replica_trip_cycles = None

    def start(self) -> None:
        self._ref_cmp.value = 0
        super().start()

    def _start_evaluation(self, s) -> None:
        super()._start_evaluation(s)
        if not self._read("arr_ref_en", self._ref_en, s.time_ns):
            return
        self.replica_evaluations += 1
        index = self.array.evaluations - 1          # the evaluation just started
        m = self.array.replica.trip_cycles(self.array.device, self.readout, evaluation=index)
        self.last_replica_trip_cycles = m
        masks = dict(self._pending)
        for j, trip in enumerate(m.tolist()):
            masks[trip] = masks.get(trip, 0) | (1 << (self.cols + j))
        self._pending = sorted(masks.items())

    def _drive_cmp(self, value: int) -> None:
        main = value & ((1 << self.cols) - 1)
        for column in self.dead_columns:
            main &= ~(1 << column)
        value = main | (value >> self.cols << self.cols)
        if value != self._cmp_value:
            if main != self._cmp_value & ((1 << self.cols) - 1):
                self._cmp.value = main
            ref = value >> self.cols
            if ref != self._cmp_value >> self.cols:
                self._ref_cmp.value = ref
            self._cmp_value = value


class ReplicaCocotbMramArray(ReplicaPins, CocotbMramArray):
    """The event-driven pin model with the replica columns."""


class ReplicaLegacyCocotbMramArray(ReplicaPins, LegacyCocotbMramArray):
    """The legacy pin model with the replica columns."""


class ReplicaHarnessCocotbMramArray(ReplicaPins, HarnessCocotbMramArray):
    """The harness-scheduled pin model with the replica columns (the harness raises
    ``arr_ref_cmp`` from the replica groups of ``_pending``)."""


def array_pin_model(config, dut, array, readout, *, legacy: bool = False, **kwargs):
    """The pin model for a macro built with ``config``: with the replica columns' pins where
    the build has the temperature tracker (``config.has_tracker``), else without; the
    harness-scheduled one when ``dut`` is the test harness (unless ``legacy``)."""
    harness = not legacy and has_scheduler(dut)
    if config.has_tracker:
        cls = (ReplicaLegacyCocotbMramArray if legacy else
               ReplicaHarnessCocotbMramArray if harness else ReplicaCocotbMramArray)
    else:
        cls = (LegacyCocotbMramArray if legacy else
               HarnessCocotbMramArray if harness else CocotbMramArray)
    return cls(dut, array, readout, **kwargs)
