"""What a backend of the host API must do: the macro's primitive operations.

A backend drives one macro, real or simulated, through the operations the bus offers. The host
API (:class:`mram_macro.host.Macro`) builds everything else (calibration, bit-serial multi-bit
passes, encodings) from these, so two backends that implement them alike give the same results.

Operations:

``program_rows(rows, bits)``
    Program weight rows (WEIGHT_DATA, WRITE_ROW_ADDR, CTRL.WRITE_ROW; write-verify as
    configured), ``bits[i]`` (``cols`` booleans, 1 = +1) into row ``rows[i]``.
``write_offsets(offsets)``
    CAL_OFFSET[c] for every column.
``write_lut(table)``
    ``tdc_mode="coarse"``: every entry ``table[c][code]`` of the code -> value tables
    (LUT_ENTRY, one word per entry).
``write_gains(gains)``
    CAL_GAIN[c] for every column.
``write_tracking(interval, ref)``
    TRACK_INTERVAL and TRACK_REF.
``tracking_state()``
    The tracker's registers as a dict: ``code`` (TRACK_CODE), ``gain`` (TRACK_GAIN),
    ``retrims``, ``invalid``, ``clamped`` (TRACK_STATUS).
``write_verify_settings(enable, pulse_doubling, max_retries, pulse_cycles)``
    WV_CTRL (ENABLE, PULSE_DOUBLING, MAX_RETRIES) and WRITE_PULSE_CYCLES, for later row writes.
``write_verify_read(delay, threshold)``
    WV_READ (DELAY, THRESHOLD) of the write-verify single-MTJ read.
``write_start_delay(cycles)``
    TDC_START_DELAY (the host checked that its codes resolve the dot product).
``set_mode(raw_codes, activation)``
    MODE.RAW_CODES and MODE.ACTIVATION.
``write_thresholds(thresholds)``
    THRESHOLD[c] for every column.
``run(x_bits, accumulate, hold, shift, negate)``
    Send ``len(x_bits)`` input vectors with their tuser flags (one bool array per flag of
    :data:`mram_macro.design.layouts.InputFlags`) on s_axis; return the emitted result vectors
    (``(n_emitted, cols)``, signed values, or 0/1 activation bits in MODE.ACTIVATION) and
    their overflow flags (``(n_emitted,)``).
``status()``
    The STATUS register's fields and the counters, as a :class:`Status`.
``clear_status()``
    Write 1 to every sticky STATUS flag.
``close()``
    Release the backend (end the simulation, drop the model); later operations are refused
    with an error saying so. Closing twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim_models.readout import T_CLK_NS

__all__ = ["Backend", "HostError", "Status", "T_CLK_NS", "status_from_words", "STATUS_REGISTERS",
           "ENV_ADDRESS", "ENV_AUTHKEY"]


class HostError(ValueError):
    """Input the macro cannot take; the message says what is wrong and what would be valid.
    Raised by the host API (:mod:`mram_macro.host.api`) and by its backends alike."""


#: Environment variables that tell the simulation side of the RTL backend where the host listens
#: (``host:port``) and the connection's key (hex).
ENV_ADDRESS = "MRAM_HOST_ADDRESS"
ENV_AUTHKEY = "MRAM_HOST_AUTHKEY"


@dataclass(frozen=True)
class Status:
    """STATUS flags and counters. The four error flags are sticky until :meth:`clear_faults`."""

    vmm_busy: bool
    write_busy: bool
    result_pending: bool
    #: A column's comparator never fired within the TDC window in some pass; its code saturated.
    tdc_overflow: bool
    #: An input vector had the wrong length (never set by the host API, which sends whole ones).
    length_error: bool
    #: A bus access was rejected.
    bus_error: bool
    #: A row write left wrong cells after its write-verify retries (see ``wv_fail_*``).
    write_failed: bool
    #: Completed passes since reset (VMM_COUNT).
    vmm_count: int
    #: Cells left wrong by write-verify, and rewrites made, since reset.
    wv_fail_count: int
    wv_retry_count: int
    #: Row and columns of the last write that left wrong cells.
    wv_fail_row: int
    wv_fail_mask: tuple[int, ...]

    @property
    def faults(self) -> list[str]:
        """Names of the sticky error flags that are set."""
        return [name for name in ("tdc_overflow", "length_error", "bus_error", "write_failed")
                if getattr(self, name)]


def status_from_words(regmap, words: dict[str, int]) -> Status:
    """A :class:`Status` from the raw register words read by name (the register map decodes)."""
    def field(reg: str, name: str) -> int:
        f = regmap[reg].field(name)
        return (words[reg] & f.mask) >> f.lsb

    mask_bits = []
    for reg in regmap.array("WV_FAIL_MASK"):
        word = field(reg.name, "BITS")
        mask_bits += [32 * reg.index + b for b in range(reg.field("BITS").width) if word >> b & 1]
    return Status(
        vmm_busy=bool(field("STATUS", "VMM_BUSY")),
        write_busy=bool(field("STATUS", "WRITE_BUSY")),
        result_pending=bool(field("STATUS", "RESULT_PENDING")),
        tdc_overflow=bool(field("STATUS", "TDC_OVERFLOW")),
        length_error=bool(field("STATUS", "LENGTH_ERROR")),
        bus_error=bool(field("STATUS", "BUS_ERROR")),
        write_failed=bool(field("STATUS", "WRITE_FAILED")),
        vmm_count=field("VMM_COUNT", "COUNT"),
        wv_fail_count=field("WV_FAIL_COUNT", "COUNT"),
        wv_retry_count=field("WV_RETRY_COUNT", "COUNT"),
        wv_fail_row=field("WV_FAIL_ROW", "ROW"),
        wv_fail_mask=tuple(mask_bits))


#: Registers :func:`status_from_words` needs (plus the WV_FAIL_MASK array).
STATUS_REGISTERS = ("STATUS", "VMM_COUNT", "WV_FAIL_COUNT", "WV_RETRY_COUNT", "WV_FAIL_ROW")


class Backend:
    """Base of the backends; see the module docstring for the contract of each operation."""

    name = "?"

    def program_rows(self, rows: list[int], bits: np.ndarray) -> None:
        raise NotImplementedError

    def write_offsets(self, offsets: np.ndarray) -> None:
        raise NotImplementedError

    def write_fine_table(self, table: np.ndarray) -> None:
        raise NotImplementedError

    def write_lut(self, table: np.ndarray) -> None:
        raise NotImplementedError

    def write_gains(self, gains: np.ndarray) -> None:
        raise NotImplementedError

    def write_tracking(self, interval: int, ref: int) -> None:
        raise NotImplementedError

    def tracking_state(self) -> dict[str, int]:
        raise NotImplementedError

    def write_start_delay(self, cycles: int) -> None:
        raise NotImplementedError

    def write_verify_read(self, delay: int, threshold: int) -> None:
        raise NotImplementedError

    def write_verify_settings(self, enable: bool, pulse_doubling: bool, max_retries: int,
                              pulse_cycles: int) -> None:
        raise NotImplementedError

    def set_mode(self, raw_codes: bool, activation: bool) -> None:
        raise NotImplementedError

    def set_temperature(self, temperature_C: float) -> None:
        raise NotImplementedError

    def write_thresholds(self, thresholds: np.ndarray) -> None:
        raise NotImplementedError

    def run(self, x_bits: np.ndarray, accumulate: np.ndarray, hold: np.ndarray,
            shift: np.ndarray, negate: np.ndarray):
        raise NotImplementedError

    def status(self) -> Status:
        raise NotImplementedError

    def clear_status(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass
