"""The host API's RTL backend: the generated Verilog in cocotb, driven over AXI.

The simulation runs in a thread of the host process (cocotb's runner starts the simulator as a
child process), executing :mod:`mram_macro.host.rtl_server`; the host and the simulation talk
over a local socket (``multiprocessing.connection``, authenticated with a random key). Each
backend operation is one message; the simulation answers with the result and the simulated time
the operation took, which :attr:`RtlBackend.sim_time_ns` accumulates per operation.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from multiprocessing.connection import Client, Listener
from pathlib import Path

import numpy as np

from mram_macro.host.backend import ENV_ADDRESS, ENV_AUTHKEY, Backend, Status, status_from_words
from mram_macro.host.die_setup import DieSetup

__all__ = ["RtlBackend", "RtlBackendError", "TEST_MODULE"]

#: The cocotb test module of the simulation side.
TEST_MODULE = "mram_macro.host.rtl_server"


class RtlBackendError(RuntimeError):
    """The simulation failed to start, failed an operation, or stopped answering."""


class RtlBackend(Backend):
    """One simulated macro on ``sim`` ("verilator" or "icarus") for the die of ``setup``."""

    def __init__(self, setup: DieSetup, *, sim: str = "verilator", build_root=None,
                 timeout_s: float = 300.0):
        from mram_macro.sim.requirements import check_sim_requirements

        check_sim_requirements(sim)       # a missing package or simulator, named, up front
        self.setup, self.sim, self.timeout_s = setup, sim, float(timeout_s)
        self.name = f"rtl-{sim}"
        if build_root is None:
            from mram_macro.paths import user_cache_dir

            build_root = user_cache_dir("host")
        self.build_root = Path(build_root)
        #: Simulated time spent per operation name, in ns.
        self.sim_time_ns: dict[str, float] = {}
        self.run_result = None
        self._key = secrets.token_bytes(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self._key)
        self._conn = None
        self._thread = threading.Thread(target=self._simulate, name=f"mram-{sim}", daemon=True)
        self._thread.start()
        try:
            self._conn = self._listener.accept()
            first = self._conn.recv()
            if first[0] == "failed":
                raise RtlBackendError(f"the {sim} simulation did not start: {first[1]}")
            self._conn.send(setup)
            self._answer("setup")
        except BaseException:
            self._listener.close()
            raise

    def _simulate(self) -> None:
        from mram_macro.sim.runner import run_cocotb, scoped_environ

        host, port = self._listener.address
        env = {ENV_ADDRESS: f"{host}:{port}", ENV_AUTHKEY: self._key.hex()}
        detail = "no result"
        try:
            with scoped_environ(env):
                self.run_result = run_cocotb(self.sim, self.setup.config,
                                             test_module=TEST_MODULE, seed=self.setup.die.seed
                                             % (1 << 31), nvmm=1, build_root=self.build_root,
                                             quiet=True)
            r = self.run_result
            detail = "; ".join(r.failures) or "ended"
            if r.log:
                detail += f" (log: {r.log})"
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
        finally:
            # Unblock a host still waiting for the simulation to connect.
            if self._conn is None:
                with contextlib.suppress(OSError), \
                        Client(self._listener.address, authkey=self._key) as c:
                    c.send(("failed", detail))
            self._detail = detail

    def _answer(self, op: str):
        if not self._conn.poll(self.timeout_s):
            raise RtlBackendError(f"the {self.sim} simulation did not answer {op} within "
                                  f"{self.timeout_s:g} s")
        try:
            status, result, ns = self._conn.recv()
        except EOFError:
            self._thread.join(timeout=10)
            raise RtlBackendError(f"the {self.sim} simulation ended during {op}: "
                                  f"{getattr(self, '_detail', '?')}") from None
        if status != "ok" and status != "ready":
            raise RtlBackendError(f"{op} failed in the {self.sim} simulation: {result}")
        self.sim_time_ns[op] = self.sim_time_ns.get(op, 0.0) + ns
        return result

    def _call(self, op: str, **kwargs):
        if self._conn is None or self._conn.closed:
            raise RtlBackendError("the simulation is closed")
        self._conn.send((op, kwargs))
        return self._answer(op)

    # -- operations -----------------------------------------------------------------------------
    def program_rows(self, rows, bits) -> None:
        self._call("program_rows", rows=[int(r) for r in rows], bits=np.asarray(bits, bool))

    def write_offsets(self, offsets) -> None:
        self._call("write_offsets", offsets=[int(v) for v in offsets])

    def write_fine_table(self, table) -> None:
        self._call("write_fine_table", table=[int(v) for v in table])

    def write_lut(self, table) -> None:
        self._call("write_lut", table=np.asarray(table, np.int64))

    def write_gains(self, gains) -> None:
        self._call("write_gains", gains=[int(v) for v in gains])

    def write_tracking(self, interval: int, ref: int) -> None:
        self._call("write_tracking", interval=int(interval), ref=int(ref))

    def tracking_state(self) -> dict[str, int]:
        return self._call("tracking_state")

    def set_temperature(self, temperature_C: float) -> None:
        self._call("set_temperature", temperature_C=float(temperature_C))

    def write_verify_settings(self, enable: bool, pulse_doubling: bool, max_retries: int,
                              pulse_cycles: int) -> None:
        self._call("write_verify_settings", enable=bool(enable),
                   pulse_doubling=bool(pulse_doubling), max_retries=int(max_retries),
                   pulse_cycles=int(pulse_cycles))

    def write_verify_read(self, delay: int, threshold: int) -> None:
        self._call("write_verify_read", delay=int(delay), threshold=int(threshold))

    def write_start_delay(self, cycles: int) -> None:
        self._call("write_start_delay", cycles=int(cycles))

    def set_mode(self, raw_codes: bool, activation: bool) -> None:
        self._call("set_mode", raw_codes=bool(raw_codes), activation=bool(activation))

    def write_thresholds(self, thresholds) -> None:
        self._call("write_thresholds", thresholds=[int(v) for v in thresholds])

    def run(self, x_bits, accumulate, hold, shift, negate):
        return self._call("run", x_bits=np.asarray(x_bits, np.uint8),
                          accumulate=np.asarray(accumulate, bool), hold=np.asarray(hold, bool),
                          shift=np.asarray(shift, bool), negate=np.asarray(negate, bool))

    def status(self) -> Status:
        return status_from_words(self.setup.regmap, self._call("status"))

    def clear_status(self) -> None:
        self._call("clear_status")

    def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(RtlBackendError, OSError):
                self._call("close")
            self._conn.close()
        self._thread.join(timeout=60)
        self._listener.close()
