"""The host API: program, calibrate and run the macro, on the golden model or the RTL.

Encodings. The array computes with ±1 values. A *bit* 1 means +1 and a bit 0 means -1, for
inputs and weights alike (weight +1 is stored as left MTJ low / right MTJ high; a cell is low
resistance when input and weight agree, so it computes XNOR). Every method that takes inputs or
weights accepts either encoding: ``encoding="pm1"`` (values -1/+1, the default) or
``encoding="bits"`` (values 0/1 or booleans). A pass returns the signed dot products
``y[c] = sum_r x[r] * w[r, c]`` of the ±1 values (exact in ideal mode).

Multi-bit inputs (:meth:`Macro.vmm_int`) run bit-serially: a ``b``-bit two's-complement input
is sent as ``b`` bit planes, most significant first, and the macro's accumulator shifts and adds
(``acc = 2 acc + y``; the MSB pass subtracts), so one result leaves per input vector. The host
turns that ±1-weighted sum into the product with {0,1} weights by one affine correction (see
:meth:`Macro.vmm_int`; :func:`bits_product` is the same identity for a single pass).
Multi-bit weights are bit-sliced across columns by the layer mapper (:mod:`mram_macro.nn`).
The encodings, the bit planes and both identities are in :mod:`mram_macro.host.encoding`.

Settings. The clock (``t_clk_ns``) and the coarse window (``window_ns``) are chosen when the
macro is made, since the readout is designed for them; a running macro takes
:meth:`Macro.set_tdc_start_delay`, :meth:`Macro.set_verify_read`, :meth:`Macro.set_write_verify`,
:meth:`Macro.set_temperature`, :meth:`Macro.set_track_ref` / :meth:`Macro.set_tracking` and the
calibration registers. Each refuses (:class:`HostError`, nothing written) a value of the wrong
type or range, and a setting at which the codes cannot resolve what they must, with the reason.

Example::

    from mram_macro.design.config import profile_config
    from mram_macro.host import Macro
    with Macro.golden(seed=3) as m:          # the default (plain) macro; or Macro.rtl(sim=...)
        m.write_weights(w)                   # (64, 64) of ±1
        m.calibrate()                        # CAL_OFFSET from reference passes
        y = m.vmm(x)                         # (batch, 64) of ±1 -> (batch, 64) signed results
    with Macro.golden(profile_config("tracker"), seed=3) as m:   # gain and the tracker
        m.write_weights(w)
        m.calibrate(method="gain")
        m.capture_track_ref(); m.set_tracking(64)   # follow temperature in the macro
        print(m.status().faults)
"""

from __future__ import annotations

import numpy as np

from mram_macro.design.config import REPLICA_COLS, MacroConfig
from mram_macro.host.backend import T_CLK_NS, Backend, HostError, Status
from mram_macro.host.die_setup import DieSetup, check_write_pulse
from mram_macro.host.encoding import (
    ENCODINGS,
    bit_planes,
    bits_product,
    input_vectors,
    int_inputs,
    int_product,
    pass_flags,
    signed_per_column,
    to_bits,
)
from sim_models.calibration import (
    check_gains,
)
from sim_models.coarse import LutError, check_table, lut_from_codes, reference_inputs
from sim_models.device import DeviceParams
from sim_models.die import Die

__all__ = ["Macro", "HostError", "ENCODINGS", "to_bits", "bits_product"]

#: Operating temperatures :meth:`Macro.set_temperature` accepts (C).
TEMPERATURE_RANGE_C = (-40.0, 150.0)


def _die_setup(config, **kwargs) -> DieSetup:
    """:meth:`DieSetup.create`, its refusals as :class:`HostError`."""
    try:
        return DieSetup.create(config, **kwargs)
    except TypeError:
        raise
    except ValueError as exc:
        raise HostError(str(exc)) from None


class Macro:
    """One macro behind a backend (:meth:`golden` or :meth:`rtl`).

    The host remembers the weights it wrote (:attr:`weights`) and uses them for calibration and
    multi-bit arithmetic. Methods validate their arguments before anything reaches the backend,
    so a rejected call changes nothing.
    """

    def __init__(self, backend: Backend, setup: DieSetup):
        if not isinstance(backend, Backend):
            raise TypeError(f"backend must be a Backend, not {type(backend).__name__}")
        self._backend = backend
        self._closed = False
        self.setup = setup
        c = setup.config
        #: The weight bits the host programmed (1 = +1); all -1 until written.
        self.weights = np.zeros((c.rows, c.cols), dtype=np.uint8)
        #: Rows programmed at least once (a fresh die holds no weights: every MTJ is high).
        self.rows_written = np.zeros(c.rows, dtype=bool)
        # Every register the host mirrors starts at its reset value, from the register map
        # of the setup's design (MacroDesign.register_state reads them from there).
        state = setup.design.register_state
        #: CAL_OFFSET values the host wrote (reset: the register map's).
        self.offsets = np.array(state.offsets, dtype=np.int64)
        #: ``tdc_mode="coarse"``: the code -> value tables the host wrote, ``(cols,
        #: 2**tdc_bits)`` (reset: the design's table in every column); None in other modes.
        self.lut = (None if state.lut is None
                    else np.tile(np.array(state.lut, dtype=np.int64), (c.cols, 1)))
        #: CAL_GAIN values the host wrote (reset: the register map's, 1.0 = ``CAL_GAIN_ONE``).
        self.gains = np.array(state.gains, dtype=np.int64)
        #: TRACK_INTERVAL and TRACK_REF as the host wrote them (reset: off, design value).
        self.track_interval = state.track_interval
        self.track_ref = state.track_ref
        #: TDC_START_DELAY as the host wrote it (reset: the readout's design value).
        self.tdc_start_delay = state.start_delay_cycles
        #: WV_CTRL and WRITE_PULSE_CYCLES as the host wrote them (:meth:`set_write_verify`).
        rm = setup.regmap
        self.write_verify = dict(
            enable=bool(rm["WV_CTRL"].field("ENABLE").reset),
            pulse_doubling=bool(rm["WV_CTRL"].field("PULSE_DOUBLING").reset),
            max_retries=int(rm["WV_CTRL"].field("MAX_RETRIES").reset),
            pulse_cycles=int(rm["WRITE_PULSE_CYCLES"].field("CYCLES").reset))
        #: WV_READ as the host wrote it (:meth:`set_verify_read`).
        self.verify_read = dict(delay=int(rm["WV_READ"].field("DELAY").reset),
                                threshold=int(rm["WV_READ"].field("THRESHOLD").reset))
        #: The die's operating temperature (:meth:`set_temperature`).
        self.temperature_C = float(setup.device.temperature_C)
        #: THRESHOLD values of the activation mode, or None when it is off.
        self.thresholds: np.ndarray | None = (np.array(state.thresholds, dtype=np.int64)
                                              if state.activation else None)
        #: Overflow flag of each result returned by the last :meth:`vmm`.
        self.last_overflow = np.zeros(0, dtype=bool)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def golden(cls, config: MacroConfig | None = None, *, device: DeviceParams | None = None,
               die: Die | None = None, seed: int = 0, t_clk_ns: float = T_CLK_NS,
               window_ns: tuple[float, float] | None = None) -> Macro:
        """The golden model of a die (``die``, or sampled from ``device`` with ``seed``),
        clocked at ``t_clk_ns`` with the readout designed for it (``window_ns``: the coarse
        TDC's trip window); see :meth:`DieSetup.create`, whose refusals (a coarse code that
        cannot resolve a dot product, a write pulse too short to switch) raise
        :class:`HostError`."""
        from mram_macro.host.golden_backend import GoldenBackend

        setup = _die_setup(config, device=device, die=die, seed=seed, t_clk_ns=t_clk_ns,
                           window_ns=window_ns)
        return cls(GoldenBackend(setup), setup)

    @classmethod
    def rtl(cls, config: MacroConfig | None = None, *, device: DeviceParams | None = None,
            die: Die | None = None, seed: int = 0, sim: str = "verilator",
            build_root=None, timeout_s: float = 300.0, t_clk_ns: float = T_CLK_NS,
            window_ns: tuple[float, float] | None = None) -> Macro:
        """The generated Verilog in cocotb on ``sim`` ("verilator" or "icarus"), driven over
        AXI, with the pin model of the same die as :meth:`golden` would use. ``build_root``:
        where the simulator builds (default: a folder of the user's cache, see
        :func:`mram_macro.paths.user_cache_dir`, never the current folder); ``timeout_s``: the
        longest wait for one answer of the simulation, a positive number of seconds.
        ``t_clk_ns`` / ``window_ns``: as :meth:`golden` (the simulation's clock; registers
        whose reset value the build designed for another clock are written after reset)."""
        from mram_macro.host.rtl_backend import RtlBackend

        if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not (
                0 < timeout_s < float("inf")):
            raise HostError(f"timeout_s must be a positive number of seconds, not {timeout_s!r}")
        if isinstance(t_clk_ns, (int, float)) and not isinstance(t_clk_ns, bool) and (
                abs(t_clk_ns * 1000 - round(t_clk_ns * 1000)) > 1e-6):
            raise HostError(f"t_clk_ns must be a whole number of picoseconds for the "
                            f"simulators (1 ps precision), not {t_clk_ns!r}")
        setup = _die_setup(config, device=device, die=die, seed=seed, t_clk_ns=t_clk_ns,
                           window_ns=window_ns)
        return cls(RtlBackend(setup, sim=sim, build_root=build_root, timeout_s=timeout_s),
                   setup)

    def close(self) -> None:
        """End the simulation (RTL) or release the model; any later call raises
        :class:`HostError`. Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._backend.close()

    @property
    def backend(self) -> Backend:
        """The backend; :class:`HostError` once the macro is closed."""
        if self._closed:
            raise HostError(f"this Macro ({self._backend.name}) is closed: create a new one "
                            f"(Macro.golden(...) / Macro.rtl(...))")
        return self._backend

    def _need_weights(self, what: str) -> None:
        if not self.rows_written.all():
            missing = np.flatnonzero(~self.rows_written)
            shown = ", ".join(map(str, missing[:8])) + (", ..." if len(missing) > 8 else "")
            raise HostError(f"{what} needs weights in every row: {len(missing)} row(s) never "
                            f"written ({shown}); call write_weights first (a fresh die holds "
                            f"no weights)")

    def __enter__(self) -> Macro:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def config(self) -> MacroConfig:
        return self.setup.config

    @property
    def rows(self) -> int:
        return self.config.rows

    @property
    def cols(self) -> int:
        return self.config.cols

    # -- weights --------------------------------------------------------------------------------
    def write_weights(self, w, *, encoding: str = "pm1", rows=None) -> None:
        """Program weights ``w`` of shape ``(rows, cols)`` (``-1/+1``, or ``0/1`` with
        ``encoding="bits"``). With ``rows`` (a list of row indices) ``w`` holds just those rows.
        Every row is programmed through the macro's row write (with write-verify as
        configured); :meth:`status` reports cells that stayed wrong."""
        c = self.config
        bits = to_bits(w, encoding=encoding, what="weights")
        if rows is None:
            if bits.shape != (c.rows, c.cols):
                raise HostError(f"weights must have shape ({c.rows}, {c.cols}) (rows, cols), "
                                f"not {bits.shape}")
            rows = list(range(c.rows))
        else:
            rows = [self._row_index(r) for r in rows]
            if len(set(rows)) != len(rows):
                raise HostError(f"rows must not repeat, not {rows}")
            if bits.shape != (len(rows), c.cols):
                raise HostError(f"weights for {len(rows)} row(s) must have shape "
                                f"({len(rows)}, {c.cols}), not {bits.shape}")
        self.backend.program_rows(rows, bits.astype(bool))
        self.weights[rows] = bits
        self.rows_written[rows] = True

    def _row_index(self, r) -> int:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not (
                0 <= r < self.rows):
            raise HostError(f"a row index must be an integer in 0..{self.rows - 1}, not {r!r}")
        return int(r)

    # -- calibration ----------------------------------------------------------------------------
    def raw_codes(self, x) -> np.ndarray:
        """TDC codes of reference inputs ``x`` (bits ``(n, rows)``), read in raw-code mode
        (MODE.RAW_CODES; the mode is restored after): what calibration fits from."""
        self.backend.set_mode(True, False)
        try:
            off = np.zeros(len(x), bool)
            codes, _ = self.backend.run(x, off, off, off, off)
        finally:
            self.backend.set_mode(False, self.thresholds is not None)
        return codes

    def calibrate(self, *, n_pairs: int = 16, seed: int = 0, method: str = "offset",
                  per_column: int = 2):
        """Calibrate with the weights written (see :mod:`sim_models.calibration`): reference
        passes in raw-code mode, values computed on the host and written.

        ``method="offset"``: ``2 * n_pairs`` passes, CAL_OFFSET only (CAL_GAIN is left as it
        is); returns the offsets. ``method="gain"``: also ``per_column`` ladder passes per
        column, CAL_GAIN and CAL_OFFSET fitted together; returns ``(gains, offsets)``.
        In ``tdc_mode="coarse"`` (no CAL_OFFSET/CAL_GAIN) this is :meth:`calibrate_table`
        with ``max(256, 4 * n_pairs)`` patterns (returns the tables), and ``method`` must be
        ``"offset"`` (the default).
        """
        if isinstance(n_pairs, bool) or not isinstance(n_pairs, int) or n_pairs < 1:
            raise HostError(f"n_pairs must be a positive integer, not {n_pairs!r}")
        if method not in ("offset", "gain"):
            raise HostError(f"method must be 'offset' or 'gain', not {method!r}")
        if isinstance(per_column, bool) or not isinstance(per_column, int) or per_column < 0:
            raise HostError(f"per_column must be a non-negative integer, not {per_column!r}")
        self._need_weights("calibrate()")
        # The mode's calibration (TdcMode.calibrate): offsets and gains, or the coarse mode's
        # code -> value tables.
        return self.config.mode.calibrate(self, n_pairs=n_pairs, seed=seed, method=method,
                                          per_column=per_column)

    def write_gains(self, gains) -> None:
        """Write CAL_GAIN (one fixed-point value per column, ``CAL_GAIN_ONE`` = 1.0, legal
        range 0.5..2.0; the macro answers SLVERR outside it)."""
        if not self.config.has_gain:
            raise HostError(f"this build has no CAL_GAIN ({self.config.slug}): build the macro "
                            f"with calibration='gain' (not available with tdc_mode='coarse', "
                            f"whose code -> value table replaces gain and offset)")
        try:
            g = check_gains(gains, self.cols)
        except ValueError as exc:
            raise HostError(str(exc)) from None
        self.backend.write_gains(g)
        self.gains = g.copy()

    # -- temperature tracking -------------------------------------------------------------------
    def _need_tracker(self) -> None:
        if not self.config.has_tracker:
            raise HostError(f"this build has no temperature tracker ({self.config.slug}): "
                            f"it exists in calibration='gain' builds with tdc_mode='counter'")

    def set_tracking(self, interval: int) -> None:
        """Read the replica columns every ``interval`` passes and retrim the gains in the
        macro (TRACK_INTERVAL); 0 switches tracking off."""
        self._need_tracker()
        if isinstance(interval, bool) or not isinstance(interval, (int, np.integer)) or not (
                0 <= interval <= 0xFFFF):
            raise HostError(f"the tracking interval must be an integer in 0..65535 passes "
                            f"(0 = off), not {interval!r}")
        self.backend.write_tracking(int(interval), self.track_ref)
        self.track_interval = int(interval)

    def capture_track_ref(self) -> int:
        """Take the replica columns' code sum at the present temperature as TRACK_REF (do it
        right after :meth:`calibrate`): one tracking pass, TRACK_CODE read, TRACK_REF written.
        Returns the reference."""
        self._need_tracker()
        interval = self.track_interval
        self.backend.write_tracking(1, self.track_ref)
        try:
            off = np.zeros(1, bool)
            self.backend.run(np.zeros((1, self.rows), np.uint8), off, np.ones(1, bool), off, off)
            state = self.backend.tracking_state()
        finally:
            self.backend.write_tracking(interval, self.track_ref)
        if not 0 < state["code"] < REPLICA_COLS * self.config.tdc_max_code:
            raise HostError("the replica read saturated or read 0 (TRACK_STATUS.INVALID): "
                            "check TDC_START_DELAY before capturing the tracking reference")
        self.track_ref = int(state["code"])
        self.backend.write_tracking(interval, self.track_ref)
        return self.track_ref

    def set_track_ref(self, ref: int) -> None:
        """Write TRACK_REF directly (e.g. a reference captured earlier with
        :meth:`capture_track_ref` and kept by the host, so a tile re-written later tracks back
        to the calibration temperature): an integer in ``1..`` the replica columns' largest
        code sum minus one."""
        self._need_tracker()
        hi = REPLICA_COLS * self.config.tdc_max_code - 1
        if isinstance(ref, bool) or not isinstance(ref, (int, np.integer)) or not 1 <= ref <= hi:
            raise HostError(f"the tracking reference must be an integer in 1..{hi} (a replica "
                            f"code sum), not {ref!r}")
        self.backend.write_tracking(self.track_interval, int(ref))
        self.track_ref = int(ref)

    def set_temperature(self, temperature_C: float) -> None:
        """Operate the running macro's die at ``temperature_C`` (-40..150 C): weights,
        registers and the accumulator are kept; only the MTJs' resistances change (the device
        model's TMR temperature coefficient). Nothing is recalibrated: that is the host's (or
        the tracker's) business."""
        t = temperature_C
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) \
                or not np.isfinite(t) or not TEMPERATURE_RANGE_C[0] <= t <= TEMPERATURE_RANGE_C[1]:
            raise HostError(f"temperature_C must be a number in {TEMPERATURE_RANGE_C[0]:g}.."
                            f"{TEMPERATURE_RANGE_C[1]:g} C, not {t!r}")
        self.backend.set_temperature(float(t))
        self.temperature_C = float(t)

    def set_tdc_start_delay(self, cycles: int) -> None:
        """Write TDC_START_DELAY: the clock cycles after evaluation start before the TDC counts
        (code 0 begins ``cycles * fine_taps`` TDC steps in). Each cycle moves every code by
        ``fine_taps``; CAL_OFFSET is not changed, so :meth:`calibrate` again afterwards.

        Refused (:class:`HostError`, nothing written): a value that is not an integer in the
        register's range, or one at which the codes cannot resolve the dot product (counter /
        two-step: the nominal column's trips leave the TDC's codes, see
        :meth:`DieSetup.start_delay_range`; coarse: under half of the codes used)."""
        field = self.setup.regmap["TDC_START_DELAY"].field("CYCLES")
        hi = (1 << field.width) - 1
        if isinstance(cycles, bool) or not isinstance(cycles, (int, np.integer)) \
                or not 0 <= cycles <= hi:
            raise HostError(f"the TDC start delay must be an integer number of clock cycles in "
                            f"0..{hi}, not {cycles!r}")
        try:
            self.setup.check_start_delay(int(cycles))
        except ValueError as exc:
            raise HostError(str(exc)) from None
        self.backend.write_start_delay(int(cycles))
        self.tdc_start_delay = int(cycles)

    def set_verify_read(self, *, delay: int | None = None, threshold: int | None = None) -> None:
        """Set the write-verify single-MTJ read (WV_READ): its TDC start ``delay`` in cycles and
        the code ``threshold`` below which an MTJ reads low. ``None`` keeps a setting;
        :attr:`verify_read` holds them.

        Refused (:class:`HostError`, nothing written): a value that is not an integer in its
        field's range, a coarse build (no verify read), or a pair at which a nominal low MTJ
        and a high one read alike (:meth:`DieSetup.check_verify_read`)."""
        field = self.setup.regmap["WV_READ"].field
        new = dict(self.verify_read)
        for name, value in (("delay", delay), ("threshold", threshold)):
            if value is None:
                continue
            hi = (1 << field(name.upper()).width) - 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or not 0 <= value <= hi:
                raise HostError(f"the verify read's {name} must be an integer in 0..{hi}, "
                                f"not {value!r}")
            new[name] = int(value)
        try:
            self.setup.check_verify_read(new["delay"], new["threshold"])
        except ValueError as exc:
            raise HostError(str(exc)) from None
        self.backend.write_verify_read(new["delay"], new["threshold"])
        self.verify_read = new

    def set_write_verify(self, *, enable: bool | None = None, pulse_doubling: bool | None = None,
                         max_retries: int | None = None, pulse_cycles: int | None = None) -> None:
        """Set how later :meth:`write_weights` calls write: WV_CTRL (``enable`` the verify
        read, ``pulse_doubling`` of a retry's pulse, ``max_retries`` per side) and
        WRITE_PULSE_CYCLES (``pulse_cycles``, the first pulse's length in clock cycles).
        ``None`` keeps a setting; :attr:`write_verify` holds them.

        Refused (:class:`HostError`, nothing written): a flag that is not a bool, a count that
        is not an integer in its register field's range, ``enable=True`` on a build without
        write-verify (a coarse one: no single-MTJ verify read; or ``write_verify=False``), or,
        with the device's deterministic write model, a pulse shorter than its switching time
        (no weight would be written)."""
        rm = self.setup.regmap
        new = dict(self.write_verify)
        for name, value in (("enable", enable), ("pulse_doubling", pulse_doubling)):
            if value is None:
                continue
            if not isinstance(value, (bool, np.bool_)):
                raise HostError(f"{name} must be True or False, not {value!r}")
            new[name] = bool(value)
        for name, value, field in (
                ("max_retries", max_retries, rm["WV_CTRL"].field("MAX_RETRIES")),
                ("pulse_cycles", pulse_cycles, rm["WRITE_PULSE_CYCLES"].field("CYCLES"))):
            if value is None:
                continue
            lo, hi = (1 if name == "pulse_cycles" else 0), (1 << field.width) - 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or not lo <= value <= hi:
                raise HostError(f"{name} must be an integer in {lo}..{hi}, not {value!r}")
            new[name] = int(value)
        if new["enable"] and not self.config.has_write_verify:
            why = ("it has no single-MTJ verify read" if not self.config.mode.has_single_mtj_read
                   else "it was built with write_verify=False")
            raise HostError(f"write-verify cannot be enabled on this build ({self.config.slug}): "
                            f"{why} (check the weights by reading them back)")
        try:
            check_write_pulse(self.setup.device, new["pulse_cycles"], self.setup.t_clk_ns)
        except ValueError as exc:
            raise HostError(str(exc)) from None
        self.backend.write_verify_settings(new["enable"], new["pulse_doubling"],
                                           new["max_retries"], new["pulse_cycles"])
        self.write_verify = new

    def tracking(self) -> dict[str, int]:
        """The tracker's state: ``code`` (last replica sum), ``gain`` (TRACK_GAIN, fixed
        point), ``retrims``, and the ``invalid`` / ``clamped`` flags."""
        self._need_tracker()
        return self.backend.tracking_state()

    def calibrate_table(self, *, n_patterns: int = 256, seed: int = 0) -> np.ndarray:
        """``tdc_mode="coarse"``: build each column's code -> value table from ``n_patterns``
        random reference inputs with the weights written (raw codes read back, tables computed
        on the host by :func:`sim_models.coarse.lut_from_codes`, codes not seen keep the
        nearest seen code's value) and write them. Returns the tables ``(cols, 2**tdc_bits)``."""
        c = self.config
        if not c.mode.has_code_table:
            raise HostError(f"calibrate_table needs tdc_mode='coarse'; this macro is "
                            f"{c.tdc_mode!r} (use calibrate())")
        self._need_weights("calibrate_table()")
        try:
            x = reference_inputs(c.rows, n_patterns, seed=seed)
        except LutError as exc:
            raise HostError(str(exc)) from None
        table = lut_from_codes(x, self.weights, self.raw_codes(x), tdc_bits=c.tdc_bits,
                               fallback=self.lut)
        self.write_lut(table)
        return table

    def write_lut(self, table) -> None:
        """``tdc_mode="coarse"``: write the code -> value tables, ``table[c][code]`` an integer
        in ``-rows..rows`` (the column's estimated signed dot product for that code), shape
        ``(cols, 2**tdc_bits)``. Checked whole before anything is written."""
        c = self.config
        if not c.mode.has_code_table:
            raise HostError(f"the code -> value table exists only with tdc_mode='coarse'; this "
                            f"macro is {c.tdc_mode!r} (use write_offsets)")
        try:
            t = check_table(c, table)
        except LutError as exc:
            raise HostError(str(exc)) from None
        self.backend.write_lut(t)
        self.lut = t.copy()

    def write_offsets(self, offsets) -> None:
        """Write CAL_OFFSET (one signed value per column, within the result width)."""
        c = self.config
        if c.mode.has_code_table:
            raise HostError("CAL_OFFSET does not exist with tdc_mode='coarse': the code -> value "
                            "table takes its role (use write_lut or calibrate_table)")
        o = signed_per_column(offsets, what="offsets", cols=c.cols, result_width=c.result_width)
        self.backend.write_offsets(o)
        self.offsets = o.copy()

    # -- two-step TDC ---------------------------------------------------------------------------
    def write_fine_table(self, table) -> None:
        """Write the two-step TDC's FINE_TABLE (ones count -> fine value; see
        :mod:`sim_models.interpolator`): ``tdc_fine_taps`` integers in ``0..K-1``, not
        increasing. A bad table raises :class:`HostError` naming the entry; nothing is
        written."""
        from sim_models.interpolator import FineTableError, check_fine_table

        c = self.config
        if not c.mode.has_fine_interpolator:
            raise HostError(f"FINE_TABLE exists only with tdc_mode='two_step' (this macro: "
                            f"{c.tdc_mode!r})")
        try:
            t = check_fine_table(table, c.fine_taps)
        except FineTableError as exc:
            raise HostError(str(exc)) from None
        self.backend.write_fine_table(t)

    def calibrate_fine_table(self, histogram) -> np.ndarray:
        """Build the FINE_TABLE from a code-density histogram of the interpolator's ones
        counts (:func:`sim_models.interpolator.code_density_table` at the readout's designed
        trip positions), write it and return it."""
        from sim_models.interpolator import (
            FineTableError,
            code_density_table,
            design_trip_residue,
        )

        design = self.setup.design
        try:
            table = code_density_table(histogram, trip_residue=design_trip_residue(
                self.config.rows, design.device, design.readout))
        except FineTableError as exc:
            raise HostError(str(exc)) from None
        self.write_fine_table(table)
        return table

    # -- activation mode ------------------------------------------------------------------------
    def set_activation(self, thresholds) -> None:
        """Switch the output to one bit per column (MODE.ACTIVATION): :meth:`vmm` then returns
        ``+1`` where a result is ``>= thresholds[c]`` and ``-1`` elsewhere (a sign activation
        with a folded batch norm), at a fraction of the result bandwidth. ``None`` switches back
        to signed results."""
        c = self.config
        if thresholds is None:
            self.backend.set_mode(False, False)
            self.thresholds = None
            return
        if not c.activation:
            raise HostError(f"this macro ({c.slug}) was built with activation=False: it has no "
                            f"THRESHOLD registers or MODE.ACTIVATION; threshold the signed "
                            f"results on the host, or build it with activation=True")
        t = signed_per_column(thresholds, what="thresholds", cols=c.cols,
                              result_width=c.result_width)
        self.backend.write_thresholds(t)
        self.backend.set_mode(False, True)
        self.thresholds = t.copy()

    # -- passes ---------------------------------------------------------------------------------
    def vmm(self, x, *, encoding: str = "pm1", accumulate=False, hold=False, shift=False,
            negate=False) -> np.ndarray:
        """Run one pass per input vector; return the emitted results ``(n_emitted, cols)``.

        ``x`` is ``(batch, rows)`` or ``(rows,)``. ``accumulate`` (add the pass to the
        accumulator instead of clearing it), ``hold`` (keep the result, emit nothing),
        ``shift`` (double the accumulator before adding) and ``negate`` (subtract the pass) are
        a bool or one bool per vector (:func:`mram_macro.design.layouts.input_flags`). Sums wrap at
        ``result_width`` bits, as in the RTL.
        :attr:`last_overflow` gets each emitted result's overflow flag.
        """
        c = self.config
        self._need_weights("vmm()")
        bits = input_vectors(x, encoding=encoding, rows=c.rows)
        flags = [pass_flags(v, len(bits), name) for name, v in (
            ("accumulate", accumulate), ("hold", hold), ("shift", shift), ("negate", negate))]
        if not c.multibit and any(f.any() for f in flags):
            raise HostError(f"this macro ({c.slug}) was built with multibit=False: single "
                            f"passes only, it has no accumulate, hold, shift or negate (its "
                            f"RTL drops such a vector and sets STATUS.FLAGS_ERROR); sum passes "
                            f"on the host, or build it with multibit=True")
        values, overflow = self.backend.run(bits, *flags)
        self.last_overflow = np.asarray(overflow, dtype=bool)
        values = np.asarray(values, dtype=np.int64)
        return 2 * values - 1 if self.thresholds is not None else values

    def vmm_int(self, x, *, input_bits: int) -> np.ndarray:
        """Exact (in ideal mode) ``x @ w01`` for signed ``input_bits``-bit integer inputs ``x``
        ``(batch, rows)`` and the written weights read as {0,1} bits, by bit-serial passes.

        Returns int64 ``(batch, cols)``. Signed weights are built from such products by bit
        slicing (:mod:`mram_macro.nn.tiling`).
        """
        c = self.config
        if not c.multibit:
            raise HostError(f"vmm_int sends bit planes with accumulate, shift and negate: this "
                            f"macro ({c.slug}) was built with multibit=False (single passes "
                            f"only); build it with multibit=True")
        if self.thresholds is not None:
            raise HostError("vmm_int needs signed results: switch the activation mode off "
                            "(set_activation(None)) first")
        a = int_inputs(x, input_bits=input_bits, rows=c.rows, result_width=c.result_width)
        planes, first, last = bit_planes(a, input_bits)
        acc = self.vmm(planes, encoding="bits", accumulate=~first, shift=~first, negate=first,
                       hold=~last)
        return int_product(acc, a, self.weights)

    # -- status ---------------------------------------------------------------------------------
    def status(self) -> Status:
        """STATUS flags and counters (see :class:`~mram_macro.host.backend.Status`)."""
        return self.backend.status()

    def clear_faults(self) -> None:
        """Clear the sticky error flags of STATUS."""
        self.backend.clear_status()
