"""Monte Carlo studies of the golden model over many dies: what calibration buys.

Each study samples dies (:class:`~sim_models.golden.GoldenMacro`), runs a host routine on each
(:mod:`sim_models.calibration`, :mod:`sim_models.coarse`) and measures the result error against
the exact signed dot product before and after:

* :func:`calibration_study`: CAL_OFFSET calibration (:func:`~sim_models.calibration.calibrate`).
* :func:`tracking_study`: every calibration method of
  :data:`~sim_models.calibration.TRACKING_METHODS` over temperature, with the temperature
  tracker off and on.
* :func:`coarse_study`: the coarse TDC's code -> value tables
  (:func:`~sim_models.coarse.calibrate_lut`); :func:`transfer_curves`: one die's code transfer
  curves.

Every die starts from ``registers``, the macro's register state after reset for the readout the
study uses (the product derives both once: ``mram_macro.design.macro.MacroDesign.derive(config,
device, t_clk_ns=...)``, its ``readout`` and ``register_state``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import MacroConfig
from sim_models.calibration import calibrate, calibrate_gain, capture_track_ref, check_methods
from sim_models.coarse import LutError, calibrate_lut
from sim_models.datapath import signed_dot, wrap_signed
from sim_models.device import DeviceParams
from sim_models.golden import GoldenMacro, RegisterState
from sim_models.readout import T_CLK_NS, ReadoutParams, design_readout_for

__all__ = ["ErrorStats", "die_errors", "CalibrationStudy", "calibration_study", "TrackingRow",
           "TrackingStudy", "tracking_study", "CoarseStudy", "coarse_study", "transfer_curves"]


@dataclass(frozen=True)
class ErrorStats:
    """Result error ``y_macro - y_exact`` over many dies, test vectors and columns."""

    mean_abs: float
    rms: float
    max_abs: int
    exact_fraction: float        #: fraction of results with no error
    within_2_fraction: float     #: fraction with |error| <= 2 (one code step)

    @classmethod
    def of(cls, err: np.ndarray) -> ErrorStats:
        a = np.abs(err)
        return cls(mean_abs=float(a.mean()), rms=float(np.sqrt(np.mean(err.astype(float) ** 2))),
                   max_abs=int(a.max()), exact_fraction=float(np.mean(a == 0)),
                   within_2_fraction=float(np.mean(a <= 2)))


@dataclass(frozen=True)
class CalibrationStudy:
    """Result error with the reset CAL_OFFSET and after :func:`calibrate`, over many dies."""

    device: DeviceParams
    dies: int
    n_pairs: int
    keep_parity: bool
    test_vectors: int
    before: ErrorStats
    after: ErrorStats
    seconds: float

    @property
    def dies_per_s(self) -> float:
        return self.dies / self.seconds


def calibration_study(config: MacroConfig, device: DeviceParams, *, dies: int = 100,
                      n_pairs: int = 16, test_vectors: int = 1024, seed: int = 0,
                      keep_parity: bool = True, registers: RegisterState,
                      readout: ReadoutParams | None = None) -> CalibrationStudy:
    """Monte Carlo over ``dies`` dies: random weights, calibration, random test inputs.

    Each die is sampled from its own seed (derived from ``seed``) and starts from ``registers``;
    the readout is ``readout``, default the one designed for ``device``.

    Raises:
        ValueError: ``registers`` are not of the readout (another TDC start delay).
    """
    readout = readout or design_readout_for(config, device)
    t0 = time.perf_counter()
    err_before, err_after = die_errors(
        config, device, readout, registers=registers, dies=dies, seed=seed,
        test_vectors=test_vectors,
        calibrate_die=lambda g, w, s: calibrate(g, w, n_pairs=n_pairs, seed=s,
                                                keep_parity=keep_parity))
    seconds = time.perf_counter() - t0
    return CalibrationStudy(device=device, dies=dies, n_pairs=n_pairs, keep_parity=keep_parity,
                            test_vectors=test_vectors,
                            before=ErrorStats.of(np.concatenate(err_before)),
                            after=ErrorStats.of(np.concatenate(err_after)), seconds=seconds)


def _check_registers(registers: RegisterState, readout: ReadoutParams) -> None:
    """Refuse a register state designed for another readout than the study's."""
    if registers.start_delay_cycles != readout.start_delay_cycles:
        raise ValueError(f"the registers' TDC start delay is {registers.start_delay_cycles} "
                         f"cycles, the readout's {readout.start_delay_cycles}: give the "
                         f"register state of the design the readout comes from")


def die_errors(config: MacroConfig, device: DeviceParams, readout: ReadoutParams, *,
               registers: RegisterState, dies: int, seed: int, test_vectors: int,
               calibrate_die):
    """The dies of a Monte Carlo study: for each of ``dies`` dies sampled from its own seed
    (derived from ``seed``) and starting from ``registers``, random weights and
    ``test_vectors`` random inputs, the pass errors against ``sum x w`` before and after
    ``calibrate_die(golden, w_bits, cal_seed)``. Returns ``(before, after)``, lists of
    ``(test_vectors, cols)`` arrays.

    Raises:
        ValueError: ``registers`` are not of ``readout``.
    """
    _check_registers(registers, readout)
    die_seeds = np.random.SeedSequence(seed).generate_state(dies, dtype=np.uint64)
    rng = np.random.default_rng(seed)
    before, after = [], []
    for die_seed in die_seeds:
        g = GoldenMacro(config, device, readout, registers=registers, seed=int(die_seed))
        w = rng.integers(0, 2, (config.rows, config.cols), dtype=np.uint8)
        g.array.load_weights(w)
        x = rng.integers(0, 2, (test_vectors, config.rows), dtype=np.uint8)
        exact = wrap_signed(signed_dot(x, w), config.result_width)
        before.append(g.vmm_batch(x) - exact)
        calibrate_die(g, w, int(die_seed) % (1 << 32))
        after.append(g.vmm_batch(x) - exact)
    return before, after


@dataclass(frozen=True)
class TrackingRow:
    """Result error of one calibration method at one temperature, tracking off or on."""

    method: str              #: one of :data:`TRACKING_METHODS`
    temperature_C: float
    tracking: bool
    stats: ErrorStats


@dataclass(frozen=True)
class TrackingStudy:
    device: DeviceParams
    dies: int
    test_vectors: int
    track_interval: int
    test_set: str
    calibration_C: float
    rows: tuple[TrackingRow, ...]
    seconds: float
    #: Whether the build has the temperature tracker (``MacroConfig.has_tracker``); without it
    #: the study has no tracking-on rows.
    has_tracker: bool = True

    def row(self, method: str, temperature_C: float, tracking: bool) -> TrackingRow:
        """The row of ``(method, temperature_C, tracking)``; ``KeyError`` if the study has none
        (tracking on in a build without the tracker, a method or temperature not studied)."""
        if tracking and not self.has_tracker:
            raise KeyError(f"no tracking-on rows: the build has no temperature tracker "
                           f"({(method, temperature_C, tracking)})")
        for r in self.rows:
            if (r.method, r.temperature_C, r.tracking) == (method, temperature_C, tracking):
                return r
        raise KeyError((method, temperature_C, tracking))


def tracking_study(config: MacroConfig, device: DeviceParams, *, dies: int = 50,
                   temperatures_C=(0.0, 25.0, 50.0, 85.0), test_vectors: int = 1024,
                   track_interval: int = 64, n_pairs: int = 16, per_column: int = 2,
                   n_patterns: int = 256, seed: int = 0,
                   methods=("none", "offset", "gain+offset"), test_set: str = "random",
                   registers: RegisterState, readout: ReadoutParams | None = None,
                   t_clk_ns: float | None = None) -> TrackingStudy:
    """Monte Carlo over ``dies`` dies: each is calibrated once at ``device.temperature_C`` (the
    calibration temperature; ``methods`` from :data:`TRACKING_METHODS`, each legal for the
    build (:func:`check_methods`): no calibration, offset only, gain + offset, or the coarse
    code -> value table from ``n_patterns`` random inputs) with TRACK_REF captured there, then
    run at every temperature of ``temperatures_C`` with tracking off and, if the build has the
    tracker (``config.has_tracker``), on (TRACK_INTERVAL ``track_interval``), with no host
    recalibration. The readout is ``readout``, default the one designed for the nominal device
    (at ``t_clk_ns``, default :data:`sim_models.readout.T_CLK_NS`), as on silicon; each die
    starts from ``registers`` (its register state after reset, of that readout's design).

    ``test_set``: ``"random"`` (uniform random inputs, every column's error; each column then
    sees about ``rows / 2`` matches) or ``"full-range"`` (vector ``k`` is column
    ``k % cols``'s own weights with a uniform random fraction of bits flipped, and only that
    column's error counts: codes over the whole window, where a gain error shows)."""
    if test_set not in ("random", "full-range"):
        raise ValueError(f"test_set must be 'random' or 'full-range', not {test_set!r}")
    methods = check_methods(config, methods)
    cal_C = device.temperature_C
    if readout is None:
        nominal = device.replace(temperature_C=device.temperature_ref_C)
        readout = (design_readout_for(config, nominal) if t_clk_ns is None
                   else design_readout_for(config, nominal, t_clk_ns=t_clk_ns))
    _check_registers(registers, readout)
    trackings = (False, True) if config.has_tracker else (False,)
    die_seeds = np.random.SeedSequence(seed).generate_state(dies, dtype=np.uint64)
    rng = np.random.default_rng(seed)
    errors: dict[tuple, list] = {}
    t0 = time.perf_counter()
    for die_seed in die_seeds:
        w = rng.integers(0, 2, (config.rows, config.cols), dtype=np.uint8)
        if test_set == "random":
            x = rng.integers(0, 2, (test_vectors, config.rows), dtype=np.uint8)
            pick = np.ones((test_vectors, config.cols), dtype=bool)
        else:
            cols = np.arange(test_vectors) % config.cols
            flip = rng.random((test_vectors, config.rows)) < rng.random((test_vectors, 1))
            x = (w[:, cols].T ^ flip).astype(np.uint8)
            pick = np.zeros((test_vectors, config.cols), dtype=bool)
            pick[np.arange(test_vectors), cols] = True
        exact = wrap_signed(signed_dot(x, w), config.result_width)
        for method in methods:
            g = GoldenMacro(config, device, readout, registers=registers, seed=int(die_seed))
            g.array.load_weights(w)
            cal_seed = int(die_seed) % (1 << 32)
            if method == "offset":
                calibrate(g, w, n_pairs=n_pairs, seed=cal_seed)
            elif method == "gain+offset":
                calibrate_gain(g, w, n_pairs=n_pairs, per_column=per_column, seed=cal_seed)
            elif method == "table":
                calibrate_lut(g, w, n_patterns=n_patterns, seed=cal_seed)
            if config.has_tracker:
                capture_track_ref(g)
            for temperature in temperatures_C:
                g.array.set_temperature(float(temperature))
                for tracking in trackings:
                    g.track_interval = track_interval if tracking else 0
                    g.track_count = 0
                    err = (g.vmm_batch(x) - exact)[pick]
                    errors.setdefault((method, float(temperature), tracking), []).append(err)
            g.array.set_temperature(cal_C)
    rows = tuple(TrackingRow(m, t, tr, ErrorStats.of(np.concatenate(e)))
                 for (m, t, tr), e in errors.items())
    return TrackingStudy(device=device, dies=dies, test_vectors=test_vectors,
                         track_interval=track_interval, test_set=test_set, calibration_C=cal_C,
                         rows=rows, seconds=time.perf_counter() - t0,
                         has_tracker=config.has_tracker)


@dataclass(frozen=True)
class CoarseStudy:
    """Dot-product error of a coarse-mode macro with the reset table and after
    :func:`calibrate_lut`, over many dies."""

    device: DeviceParams
    dies: int
    n_patterns: int
    test_vectors: int
    before: ErrorStats
    after: ErrorStats
    seconds: float


def coarse_study(config: MacroConfig, device: DeviceParams, *, dies: int = 50,
                 n_patterns: int = 256, test_vectors: int = 1024, seed: int = 0,
                 t_clk_ns: float = T_CLK_NS, registers: RegisterState) -> CoarseStudy:
    """Monte Carlo over ``dies`` dies (random weights, random test inputs): error of the
    pass value against ``sum x w`` with the nominal table (``registers``, the register state
    after reset of the design at ``t_clk_ns``) and after per-column calibration. The readout is
    designed for the nominal device at ``t_clk_ns``, as on silicon."""
    if not config.mode.has_code_table:
        raise LutError(f"coarse_study needs tdc_mode='coarse', not {config.tdc_mode!r}")
    nominal = device.replace(temperature_C=device.temperature_ref_C)
    readout = design_readout_for(config, nominal, t_clk_ns=t_clk_ns)
    t0 = time.perf_counter()
    before, after = die_errors(
        config, device, readout, registers=registers, dies=dies, seed=seed,
        test_vectors=test_vectors,
        calibrate_die=lambda g, w, s: calibrate_lut(g, w, n_patterns=n_patterns, seed=s))
    return CoarseStudy(device=device, dies=dies, n_patterns=n_patterns,
                       test_vectors=test_vectors,
                       before=ErrorStats.of(np.concatenate(before)),
                       after=ErrorStats.of(np.concatenate(after)),
                       seconds=time.perf_counter() - t0)


def transfer_curves(config: MacroConfig, device: DeviceParams, *, t_clk_ns: float = T_CLK_NS,
                    seed: int = 0, repeats: int = 8, registers: RegisterState) -> np.ndarray:
    """Code transfer curves of one die (sampled from ``seed``, random weights): codes
    ``(cols, rows + 1, repeats)``, entry ``[c, n, k]`` the code of column ``c`` for the ``k``-th
    random input with exactly ``n`` cells of that column matching (the input is the column's
    weights with ``rows - n`` random bits flipped), readout designed for the nominal device at
    ``t_clk_ns``, registers ``registers`` (the state after reset of that design)."""
    nominal = device.replace(temperature_C=device.temperature_ref_C)
    readout = design_readout_for(config, nominal, t_clk_ns=t_clk_ns)
    _check_registers(registers, readout)
    g = GoldenMacro(config, device, readout, registers=registers, seed=seed)
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 2, (config.rows, config.cols), dtype=np.uint8)
    g.array.load_weights(w)
    rows = config.rows
    out = np.empty((config.cols, rows + 1, repeats), dtype=np.int64)
    ranks = rng.random((config.cols, rows + 1, repeats, rows)).argsort(axis=-1)
    for c in range(config.cols):
        # flip[n, k, r]: row r is among the rows - n flipped ones
        flip = ranks[c] < (rows - np.arange(rows + 1))[:, None, None]
        x = (w[:, c][None, None, :] ^ flip).reshape(-1, rows)
        codes, _ = g.convert(x, first_evaluation=0)
        out[c] = codes[:, c].reshape(rows + 1, repeats)
    return out
