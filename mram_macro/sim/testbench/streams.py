"""AXI4-Stream basics shared by the testbench's drivers, monitors and scoreboard.

* :class:`ResultFrame`: one result frame as a monitor hands it to the scoreboard;
* :class:`StreamPins`: the ``<prefix>_t*`` pins of one port with cocotbext-axi's pause
  interface (a pause generator, or the ``pause`` flag), which the event-driven stream models
  of :mod:`.drivers` and :mod:`.monitors` share;
* :class:`Background`: a component whose coroutine runs between ``start()`` and ``stop()``;
* :func:`has_harness` / :func:`has_feeder`: is the toplevel the test harness of
  :mod:`mram_macro.sim.harness` (and has it the input feeder)?
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cocotb

from mram_macro.sim.harness import COLLECTOR_PORTS, FEEDER_PORTS, MACRO_INSTANCE

__all__ = ["MAX_LOGGED", "Background", "ResultFrame", "StreamPins", "has_feeder",
           "has_harness"]

#: Errors of one kind logged as they happen; the rest are only counted.
MAX_LOGGED = 10


def has_harness(dut) -> bool:
    """Is ``dut`` the test harness (:mod:`mram_macro.sim.harness`) rather than the bare macro?"""
    return hasattr(dut, COLLECTOR_PORTS[-1]) and hasattr(dut, MACRO_INSTANCE)


def has_feeder(dut) -> bool:
    """Has ``dut`` (the test harness) the input feeder?"""
    return all(hasattr(dut, name) for name in FEEDER_PORTS)


@dataclass
class ResultFrame:
    """One frame from ``m_axis`` as a monitor took it: a ``tdata`` word and a ``tuser`` word
    per beat."""

    beats: list[int]
    tuser: list[int]
    #: The beats as one integer (beat 0 in the low bits), when the source has it at hand.
    raw: int | None = None


class Background:
    """A component whose ``_run`` coroutine runs between ``start()`` and ``stop()``."""

    _task = None

    def start(self) -> None:
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError


def _pauses(generator):
    """Next value of a pause generator (an exhausted one pauses no more)."""
    return bool(next(generator, False))


class StreamPins:
    """The ``<prefix>_t*`` pins of one AXI4-Stream port, ``clk``/``rst``, and the pause
    interface of cocotbext-axi's bus models (a generator, or the ``pause`` flag)."""

    def __init__(self, dut, prefix: str):
        self.prefix = prefix
        self.log = logging.getLogger(f"cocotb.{prefix}")
        self._clk, self._rst = dut.clk, dut.rst
        self._tdata, self._tvalid, self._tready, self._tlast, self._tuser = (
            getattr(dut, f"{prefix}_{name}") for name in ("tdata", "tvalid", "tready", "tlast",
                                                           "tuser"))
        self._pause_generator = None
        #: Pause while True (cocotbext-axi compatible); a pause generator overrides it.
        self.pause = False

    def set_pause_generator(self, generator=None) -> None:
        self._pause_generator = generator

    def clear_pause_generator(self) -> None:
        self._pause_generator = None

    def _paused(self) -> bool:
        if self._pause_generator is not None:
            return _pauses(self._pause_generator)
        return bool(self.pause)

