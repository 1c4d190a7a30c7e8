"""The replica columns' pins in cocotb: ``arr_ref_en`` in, ``arr_ref_cmp`` out.

An addition to the pin models of :mod:`mram_macro.sim.array_pins` (which it leaves as they are):
:class:`ReplicaPins` is a mixin that, at the falling edge where a pin model samples the start of
an evaluation, also samples ``arr_ref_en``; if it is high, the replica columns
(:class:`sim_models.replica.ReplicaColumns` of the same die, same evaluation number) discharge
too and each raises its ``arr_ref_cmp`` bit at its trip edge under the same timing contract as
``arr_cmp``. They are reset with the array's comparators at the next precharge. Internally the
replica bits ride above the array's columns in the pin model's comparator mask, so the parent's
scheduling raises them with no further wake-ups.

With a two-step TDC (``readout.fine_taps = K > 1``) each replica column also drives its
``K - 1`` interpolator sampler bits on ``arr_ref_fine`` (as ``arr_fine``: frozen with its
``arr_ref_cmp`` bit, cleared at the precharge), through the die's shared phases
(:meth:`sim_models.replica.ReplicaColumns.fine_trips`); they ride above the array's bits in the
parent's ``arr_fine`` trip groups and :meth:`ReplicaPins._drive_fine` splits them off.

Hooks used in the parent (:class:`mram_macro.sim.array_pins._ArrayPins`): ``_start_evaluation``
(extended), ``_pending`` and ``_fine_groups`` (extended with the replica bits), ``_drive_cmp`` and
``_drive_fine`` (overridden to split the words onto the two pin sets), ``_read``, ``cols``,
``_fine_taps``, ``_cmp_value`` / ``_fine_value``.

:class:`ReplicaCocotbMramArray` and :class:`ReplicaHarnessCocotbMramArray` are the two pin
models with their replica columns.
"""

from __future__ import annotations

from mram_macro.sim.array_pins import CocotbMramArray, HarnessCocotbMramArray, has_scheduler

__all__ = ["ReplicaPins", "ReplicaCocotbMramArray", "ReplicaHarnessCocotbMramArray",
           "array_pin_model"]


class ReplicaPins:
    """Mixin for a pin model of :mod:`mram_macro.sim.array_pins` (see the module docstring)."""

    def __init__(self, dut, array, readout, **kwargs):
        super().__init__(dut, array, readout, **kwargs)
        self._ref_en, self._ref_cmp = dut.arr_ref_en, dut.arr_ref_cmp
        self.replicas = array.replica.n
        if len(self._ref_cmp) != self.replicas:
            raise ValueError(f"arr_ref_cmp is {len(self._ref_cmp)} bits wide, but the array "
                             f"model has {self.replicas} replica columns")
        self._ref_fine = None
        if self._fine_taps > 1:
            self._ref_fine = getattr(dut, "arr_ref_fine", None)
            width = self.replicas * (self._fine_taps - 1)
            if self._ref_fine is None or len(self._ref_fine) != width:
                raise ValueError(f"the readout has a {self._fine_taps}-phase interpolator: the "
                                 f"macro needs an arr_ref_fine pin of {width} bits for its "
                                 f"{self.replicas} replica columns")
        #: Replica evaluations seen, and the last one's trip edges.
        self.replica_evaluations = 0
        self.last_replica_trip_cycles = None

    def start(self) -> None:
        self._ref_cmp.value = 0
        if self._ref_fine is not None:
            self._ref_fine.value = 0
        super().start()

    def _start_evaluation(self, s) -> None:
        super()._start_evaluation(s)
        if not self._read("arr_ref_en", self._ref_en, s.time_ns):
            return
        self.replica_evaluations += 1
        index = self.array.evaluations - 1          # the evaluation just started
        replica, device = self.array.replica, self.array.device
        if self._ref_fine is None:
            m = replica.trip_cycles(device, self.readout, evaluation=index)
        else:
            m, therm = replica.fine_trips(device, self.readout, evaluation=index,
                                          phase_errors_lsb=self.array.phase_errors_lsb(
                                              self.readout))
            # Their sampler bits ride above the array's in the parent's arr_fine groups.
            taps = self._fine_taps - 1
            for j, (trip, bits) in enumerate(zip(m.tolist(), therm, strict=True)):
                word = sum(1 << ((self.cols + j) * taps + i) for i, b in enumerate(bits) if b)
                if word:
                    h = 2 * trip - 1         # raise times (a sampled TDC's: the tracker)
                    self._fine_groups[h] = self._fine_groups.get(h, 0) | word
        self.last_replica_trip_cycles = m
        masks = dict(self._pending)
        for j, trip in enumerate(m.tolist()):
            masks[2 * trip - 1] = masks.get(2 * trip - 1, 0) | (1 << (self.cols + j))
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


    def _drive_fine(self, value: int) -> None:
        if self._ref_fine is None:
            super()._drive_fine(value)
            return
        width = self.cols * (self._fine_taps - 1)
        if value != self._fine_value:
            changed = value ^ self._fine_value
            if changed & ((1 << width) - 1):
                self._fine.value = value & ((1 << width) - 1)
            if changed >> width:
                self._ref_fine.value = value >> width
            self._fine_value = value


class ReplicaCocotbMramArray(ReplicaPins, CocotbMramArray):
    """The event-driven pin model with the replica columns."""


class ReplicaHarnessCocotbMramArray(ReplicaPins, HarnessCocotbMramArray):
    """The harness-scheduled pin model with the replica columns (the harness raises
    ``arr_ref_cmp`` from the replica groups of ``_pending``)."""


def array_pin_model(config, dut, array, readout, **kwargs):
    """The pin model for a macro built with ``config``: with the replica columns' pins where
    the build has the temperature tracker (``config.has_tracker``), else without; the
    harness-scheduled one when ``dut`` is the test harness; raising the comparators where an
    edge-capture TDC reads them (``config.tdc_capture``)."""
    harness = has_scheduler(dut)
    if config.has_tracker:
        cls = ReplicaHarnessCocotbMramArray if harness else ReplicaCocotbMramArray
    else:
        cls = HarnessCocotbMramArray if harness else CocotbMramArray
    return cls(dut, array, readout, edge_capture=config.tdc_capture == "edge", **kwargs)
