"""``mram_macro``: the digital periphery of a resistance-sum MRAM VMM macro, composed.

See docs/architecture.md for the block diagram and the port list.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from amaranth import Cat, DomainRenamer, Module, Mux, Signal
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from mram_macro.design.config import REPLICA_COLS, MacroConfig
from mram_macro.design.layouts import InputFlags, ResultFlags
from mram_macro.design.macro import MacroDesign
from mram_macro.design.regmap import AXIL_ADDR_WIDTH, RegisterMap
from mram_macro.rtl.bus.axi import axi_lite_members, axi_stream_members
from mram_macro.rtl.bus.regfile import RegisterFile
from mram_macro.rtl.periphery.accumulator import Accumulator
from mram_macro.rtl.periphery.clock_gate import ICG_MODULE, ICG_VERILOG, gated_domain
from mram_macro.rtl.periphery.edge_tdc import EdgeCaptureTdc
from mram_macro.rtl.periphery.input_deserializer import InputDeserializer
from mram_macro.rtl.periphery.input_driver import InputDriver
from mram_macro.rtl.periphery.read_control import ReadControl
from mram_macro.rtl.periphery.result_serializer import ResultSerializer
from mram_macro.rtl.periphery.sequencer import Sequencer
from mram_macro.rtl.periphery.tdc import Tdc
from mram_macro.rtl.periphery.tracker import Tracker
from mram_macro.rtl.periphery.write_controller import WriteController
from mram_macro.rtl.portable import portable_comb_triggers
from sim_models.device import DeviceParams
from sim_models.readout import ReadoutParams

__all__ = ["MramMacro", "generate_verilog", "default_readout", "macro_regmap", "TOP_NAME"]

TOP_NAME = "mram_macro"


def default_readout(config: MacroConfig, device: DeviceParams | None = None) -> ReadoutParams:
    """The readout design whose start delay becomes TDC_START_DELAY's reset value
    (:attr:`MacroDesign.readout` of :meth:`MacroDesign.derive`; per ``config.tdc_mode``)."""
    return MacroDesign.derive(config, device).readout


def verify_read_design(config: MacroConfig, device: DeviceParams | None = None) -> tuple[int, int]:
    """Reset values of WV_READ, (start delay, threshold), from the single-MTJ read design
    (:attr:`MacroDesign.verify_read_reset`). ``tdc_mode="coarse"`` has no single-MTJ read (a
    code spans many MTJ steps): (0, the register map's default)."""
    return MacroDesign.derive(config, device).verify_read_reset


def macro_regmap(config: MacroConfig, device: DeviceParams | None = None) -> RegisterMap:
    """The register map of a macro built with ``config`` (reset values included), for the
    readout designed for ``device`` at the 5 ns clock (:attr:`MacroDesign.regmap`)."""
    return MacroDesign.derive(config, device).regmap


def _design_of(config: MacroConfig | MacroDesign | None,
               device: DeviceParams | None) -> MacroDesign:
    """``config`` if it is a design (then ``device`` must be None), else its design."""
    if isinstance(config, MacroDesign):
        if device is not None:
            raise TypeError("give the device to MacroDesign.derive, not with a MacroDesign")
        return config
    if config is not None and not isinstance(config, MacroConfig):
        raise TypeError(f"config must be a MacroConfig or a MacroDesign, not {config!r}")
    return MacroDesign.derive(config, device)


def array_members(config: MacroConfig) -> dict[str, wiring.Member]:
    """The pins between the periphery and the analogue array (see sim_models/array.py), and
    with a two-step TDC the interpolator's held sampler bits ``arr_fine``, ``tdc_fine_taps - 1``
    per column (see sim_models/interpolator.py); with the temperature tracker the replica
    columns' ``arr_ref_en``, ``arr_ref_cmp`` and (two-step) ``arr_ref_fine``."""
    fine = {"arr_fine": In(config.fine_pins)} if config.fine_pins else {}
    return {
        "arr_bypass_l": Out(config.rows), "arr_bypass_r": Out(config.rows),
        "arr_pre": Out(1), "arr_eval": Out(1), "arr_tdc_en": Out(1), "arr_cmp": In(config.cols),
        **fine,
        "arr_wr_row": Out(config.rows), "arr_wr_side": Out(1), "arr_wr_data": Out(config.cols),
        "arr_wr_pulse": Out(1),
        # replica columns of the temperature tracker (sim_models/replica.py), with a two-step
        # TDC also their interpolator samplers
        **({"arr_ref_en": Out(1), "arr_ref_cmp": In(REPLICA_COLS)}
           if config.has_tracker else {}),
        **({"arr_ref_fine": In(config.ref_fine_pins)} if config.ref_fine_pins else {}),
    }


def _array_pins(block: wiring.Component) -> dict[str, wiring.Member]:
    """The ports of ``block`` that are pins to the analogue array (named ``arr_*`` like them)."""
    return {name: member for name, member in block.signature.members.items()
            if name.startswith("arr_")}


def _forward(m: Module, outer: wiring.Component, inner: wiring.Component, members: dict) -> None:
    """Wire same-named flat ports of ``outer`` (this component) and ``inner`` (a submodule)."""
    for name, member in members.items():
        if member.flow == In:
            m.d.comb += getattr(inner, name).eq(getattr(outer, name))
        else:
            m.d.comb += getattr(outer, name).eq(getattr(inner, name))


class MramMacro(wiring.Component):
    """Binary VMM macro for a ``rows`` x ``cols`` resistance-sum MRAM crossbar.

    Control and weight programming through the AXI4-Lite slave ``s_axil``, input vectors on the
    AXI4-Stream slave ``s_axis``, results on the AXI4-Stream master ``m_axis``, and the ``arr_*``
    pins to the analogue array.
    """

    def __init__(self, config: MacroConfig | MacroDesign | None = None, *,
                 device: DeviceParams | None = None, clock_gating: bool = True):
        """``config``: the configuration (default :class:`MacroConfig`), whose design
        (:meth:`MacroDesign.derive` for ``device``, default nominal) gives the register map and
        its reset values; or that design itself. ``clock_gating``: clock each rarely changing
        register group through its own clock gate (periphery/clock_gate.py); False builds the
        ungated reference (same behaviour)."""
        if not isinstance(clock_gating, bool):
            raise TypeError(f"clock_gating must be a bool, not {clock_gating!r}")
        self.clock_gating = clock_gating
        self.design = design = _design_of(config, device)
        self.config = config = design.config
        self.device = design.device
        self.readout = design.readout
        self.regmap: RegisterMap = design.regmap
        self._axil = axi_lite_members("s_axil", addr_width=AXIL_ADDR_WIDTH)
        self._s_axis = axi_stream_members("s_axis", direction="slave",
                                          data_width=config.stream_width,
                                          user_width=InputFlags.size)
        self._m_axis = axi_stream_members("m_axis", direction="master",
                                          data_width=config.stream_width,
                                          user_width=ResultFlags.size)
        super().__init__({**self._axil, **self._s_axis, **self._m_axis, **array_members(config)})

    def gated(self, domain: str, block):
        """``block`` with its ``sync`` domain renamed to ``domain`` (ungated: unchanged, so
        that the coverage model reads its FSMs from the plain fragment). The mode's value
        stage (:meth:`mram_macro.design.modes.TdcMode.value_blocks`) gates its blocks with it."""
        return DomainRenamer({"sync": domain})(block) if self.clock_gating else block

    def elaborate(self, platform):
        m = Module()
        c = self.config
        m.submodules.regfile = regs = RegisterFile(self.regmap, rw_domain="g_regs",
                                                   bus_domain="g_bus")
        m.submodules.input_deserializer = deser = self.gated("g_in", InputDeserializer(c))
        verify = c.has_write_verify
        m.submodules.input_driver = driver = self.gated(
            "g_drv", InputDriver(rows=c.rows, raw=verify))
        m.submodules.write_controller = writer = self.gated(
            "g_wr", WriteController(rows=c.rows, cols=c.cols, tdc_bits=c.tdc_bits,
                                    verify=verify))
        # Without a result register the serializer streams the TDC's codes (through the
        # accumulator's combinational pass values): the read control keeps the next evaluation
        # from capturing over them while the stream lasts.
        streamed = not c.result_register
        two_step = c.mode.has_fine_interpolator
        # The read control's counters: the edge counter's high bits and the precharge counter
        # behind clock gates of their own (they change on a few edges per VMM).
        edge = c.tdc_capture == "edge"
        m.submodules.read_control = reader = ReadControl(
            tdc_bits=c.coarse_bits, two_step=two_step, stream_hold=streamed,
            count_domain="g_rc_cnt", precharge_domain="g_rc_pre", edge_capture=edge)
        if edge:
            # Each column's count registers on its comparator's edge; the ones counts and
            # overflow flags behind one gate, open on the evaluation's last edge.
            m.submodules.tdc = tdc = EdgeCaptureTdc(
                cols=c.cols, tdc_bits=c.tdc_bits, fine_taps=c.fine_taps, sync_domain="g_sync",
                take_domain="g_take", take_gated=self.clock_gating)
        else:
            m.submodules.tdc = tdc = Tdc(cols=c.cols, tdc_bits=c.tdc_bits,
                                         code_domains=tuple(f"g_tdc{i}" for i in range(c.cols)),
                                         fine_taps=c.fine_taps, sync_domain="g_sync",
                                         # streamed results are decoded once, as they leave
                                         decode_held=streamed and two_step,
                                         columns_gated=self.clock_gating)
        # The value stage's width: a code -> value table's count, or None where the
        # accumulator takes the code itself (CAL_OFFSET - 2 * code); the mode elaborates the
        # stage (TdcMode.value_blocks, value_gates, fine_inputs and value_stage, each where
        # its part of the design is built).
        count_width = c.mode.count_width(c)
        # With calibration="gain" the accumulator's gain multipliers are registered on the
        # free-running clock (their own cycle; the sequencer captures a cycle later).
        acc = self.gated(
            "g_acc", Accumulator(cols=c.cols, tdc_bits=c.tdc_bits, result_width=c.result_width,
                                 count_width=count_width, rows=c.rows, gain=c.has_gain,
                                 registered_scale=c.has_gain, thresholds=c.activation,
                                 multibit=c.multibit, capture_gated=self.clock_gating,
                                 register=not streamed))
        if c.has_gain:
            # the gain multipliers' register, clocked on the edges a capture needs
            # (Sequencer.scale_window), not on every edge
            acc = DomainRenamer({"scale": "g_scale"})(acc)
        m.submodules.accumulator = acc
        # The mode's own blocks of the value stage (the coarse mode's code -> value tables).
        value_blocks = c.mode.value_blocks(self)
        for name, block in value_blocks.items():
            m.submodules[name] = block
        m.submodules.result_serializer = ser = self.gated("g_ser", ResultSerializer(c))
        m.submodules.sequencer = seq = Sequencer(capture_on_done=not c.has_gain,
                                                 multibit=c.multibit)
        ref_tdc = None
        if c.has_tracker:
            # The replicas' TDC: with a two-step TDC its own samplers (arr_ref_fine) on the
            # shared phases, so the shared FINE_TABLE linearises them (sim_models/replica.py).
            # Each replica column's code behind a gate of its own, like the array's columns.
            m.submodules.ref_tdc = ref_tdc = Tdc(
                cols=REPLICA_COLS, tdc_bits=c.tdc_bits, fine_taps=c.fine_taps,
                code_domains=tuple(f"g_ref{i}" for i in range(REPLICA_COLS)),
                sync_domain="g_sync", columns_gated=self.clock_gating)
            # The pass counter and the retrim behind gates of their own: they change on a pass's
            # start and end, and while retrimming.
            m.submodules.tracker = tracker = Tracker(cols=c.cols, replicas=REPLICA_COLS,
                                                     tdc_bits=c.tdc_bits,
                                                     pass_domain="g_trk_pass",
                                                     trim_domain="g_trk")
        # The register file's core-side ports by name (generated from the register map: a
        # name it does not have is an AttributeError): field values, w1c set pulses, cmd busy.
        field, sets, busy = regs.fields, regs.sets, regs.busy

        # Clock gating (periphery/clock_gate.py): each group of rarely changing registers is
        # clocked only on the cycles on which it may change; the enables are exact supersets.
        def gate(name, enable, parent="sync"):
            gated_domain(m, name, enable, gate=self.clock_gating, parent=parent)

        gate("g_regs", ~regs.s_axil_awready & ~regs.s_axil_wready & ~regs.s_axil_bvalid)
        gate("g_rc_cnt", reader.count_enable)
        gate("g_rc_pre", reader.precharge_enable)
        gate("g_bus", regs.bus_active)      # bus handshake, read data, strobes, flags
        # the comparator synchronisers: only while the TDC front end is on (read_control.py)
        gate("g_sync", reader.arr_tdc_en)
        # One gate per column: its code changes once per pass, on a capture or the window's
        # end, both while the TDC front end is on (arr_tdc_en, read_control.py); so the column
        # gates sit behind the synchronisers' gate and see clock edges only then.
        if edge:
            gate("g_take", reader.tdc.take_end, parent="g_sync")
        else:
            for i in range(c.cols):
                gate(f"g_tdc{i}", tdc.code_enable[i], parent="g_sync")
        if not streamed:
            gate("g_acc", seq.capture)
        if c.has_gain:
            gate("g_scale", seq.scale_window)
        if c.has_tracker:
            for i in range(REPLICA_COLS):
                gate(f"g_ref{i}", ref_tdc.code_enable[i], parent="g_sync")
            gate("g_trk_pass", tracker.pass_enable)
            gate("g_trk", tracker.busy)
        c.mode.value_gates(gate, field)
        gate("g_ser", (seq.result.load & ~ser.frame.busy) | (ser.frame.busy & self.m_axis_tready))
        gate("g_in", deser.handoff.take | (self.s_axis_tvalid & deser.s_axis_tready))
        gate("g_drv", (seq.load_inputs | writer.bypass.load) if verify else seq.load_inputs)
        # The write controller's fail_cells register follows its failed-cells register one
        # cycle late, so its clock runs one cycle past busy.
        write_busy_q = Signal()
        m.d.sync += write_busy_q.eq(writer.busy)
        gate("g_wr", writer.start | writer.busy | write_busy_q)
        gate("g_cnt", (writer.fail_valid | writer.retry | seq.pass_done) if verify
             else seq.pass_done)

        # The macro's pins: the buses, and the array pins of the blocks that drive them.
        _forward(m, self, regs, self._axil)
        _forward(m, self, deser, self._s_axis)
        _forward(m, self, ser, self._m_axis)
        for block in (driver, reader, writer):
            _forward(m, self, block, _array_pins(block))

        # Input vector path: the deserializer hands each vector to the sequencer, which loads
        # its bits into the input drivers as the evaluation starts.
        wiring.connect(m, deser.handoff, seq.vector)
        m.d.comb += [driver.load.eq(seq.load_inputs), driver.x.eq(deser.vector)]
        if verify:
            # the write-verify's read-back bypass pattern (one MTJ per column)
            wiring.connect(m, writer.bypass, driver.bypass)

        # Evaluation: the sequencer starts the read control, which runs the TDC.
        if verify:
            # The write-verify's read-back shares the read control (never at the same time as
            # the sequencer: it starts nothing while a write is busy, and a write waits for
            # it). Two starts fan in, so this handshake is wired by hand.
            m.d.comb += [reader.cmd.start.eq(seq.read.start | writer.read_start),
                         seq.read.idle.eq(reader.cmd.idle), seq.read.done.eq(reader.cmd.done),
                         writer.read_done.eq(reader.cmd.done)]
        else:
            wiring.connect(m, seq.read, reader.cmd)
        start_delay = field.TDC_START_DELAY.CYCLES
        m.d.comb += [
            reader.precharge_cycles.eq(field.PRECHARGE_CYCLES.CYCLES),
            reader.start_delay.eq(Mux(writer.verifying, field.WV_READ.DELAY, start_delay)
                                  if verify else start_delay),
            tdc.cmp.eq(self.arr_cmp),
        ]
        if not c.has_tracker:
            wiring.connect(m, reader.tdc, tdc.ctl)
        else:
            # The replicas' TDC shares the array TDC's time base, but a tracking pass also
            # waits for the replica columns (all_fired of both), and they are cleared on
            # tracking passes only: on the others the evaluation may end (all array columns
            # fired) before the replicas fire, and a column that misses a cleared evaluation
            # would alias the next one's one-bit epoch (tdc.py). A gated fan-out: by hand.
            tracking = tracker.tracking
            for ctl in (tdc.ctl, ref_tdc.ctl):
                m.d.comb += [ctl.capture.eq(reader.tdc.capture),
                             ctl.window_end.eq(reader.tdc.window_end),
                             ctl.code_now.eq(reader.tdc.code_now),
                             *([ctl.early.eq(reader.tdc.early)] if two_step else [])]
            m.d.comb += [
                tdc.ctl.clear.eq(reader.tdc.clear),
                ref_tdc.ctl.clear.eq(reader.tdc.clear & tracking),
                reader.tdc.all_fired.eq(tdc.ctl.all_fired & (ref_tdc.ctl.all_fired | ~tracking)),
                ref_tdc.cmp.eq(self.arr_ref_cmp),
            ]
        # The mode's inputs of the TDC's fine decode (two-step: arr_fine and FINE_TABLE).
        c.mode.fine_inputs(m, self, tdc=tdc, ref_tdc=ref_tdc, field=field)

        # Temperature tracking (periphery/tracker.py): counter and two-step TDC.
        if c.has_tracker:
            m.d.comb += [
                tracker.interval.eq(field.TRACK_INTERVAL.INTERVAL),
                tracker.ref.eq(field.TRACK_REF.REF),
                tracker.cal_gains.eq(Cat(*field.CAL_GAIN.GAIN)),
                tracker.ref_codes.eq(ref_tdc.codes), tracker.ref_overflow.eq(ref_tdc.overflow),
                tracker.pass_start.eq(seq.read.start), tracker.pass_done.eq(seq.pass_done),
                tracker.read_done.eq(reader.cmd.done),
                seq.trim_busy.eq(tracker.busy),
                self.arr_ref_en.eq(tracker.tracking),
                field.TRACK_CODE.SUM.eq(tracker.code_sum),
                field.TRACK_GAIN.GAIN.eq(tracker.track_gain),
                field.TRACK_STATUS.RETRIMS.eq(tracker.retrims),
                sets.TRACK_STATUS.INVALID.eq(tracker.invalid),
                sets.TRACK_STATUS.CLAMPED.eq(tracker.clamped),
                acc.gains.eq(tracker.gains),
            ]
        else:
            m.d.comb += seq.trim_busy.eq(0)

        # Accumulate and emit: the sequencer captures each pass and hands its result to the
        # serializer, which reads the accumulator's register in place (the sequencer captures
        # no pass while a frame is under way).
        wiring.connect(m, seq.result, ser.frame)
        m.d.comb += [
            acc.codes.eq(tdc.codes),
            acc.capture.eq(seq.capture),
            *([acc.accumulate.eq(seq.accumulate), acc.shift.eq(seq.shift),
               acc.negate.eq(seq.negate)] if c.multibit else []),
            acc.raw.eq(field.MODE.RAW_CODES),
            *([reader.hold.eq(ser.frame.busy), reader.hold_beats.eq(ser.beats_left)]
              if streamed else []),
            ser.flags.overflow.eq(tdc.overflow.any()),
        ]
        if streamed:
            # Whether the sink has lately held a beat back (in this frame or the last): then
            # the next evaluation waits for the stream's end instead of overlapping it. On the
            # free-running clock: the serializer's gate is closed on the cycles of a stall.
            this, last = Signal(name="sink_stalled_now"), Signal(name="sink_stalled_last")
            with m.If(ser.frame.load & ~ser.frame.busy):
                m.d.sync += [last.eq(this), this.eq(0)]
            with m.Elif(self.m_axis_tvalid & ~self.m_axis_tready):
                m.d.sync += this.eq(1)
            m.d.comb += reader.hold_stalled.eq(this | last)
        if c.activation:
            m.d.comb += [
                # The threshold comparators are isolated outside activation frames.
                acc.activation.eq(ser.short_frame),
                acc.thresholds.eq(Cat(*field.THRESHOLD.VALUE)),
                ser.short.eq(field.MODE.ACTIVATION),
                ser.data.eq(Mux(ser.short_frame, acc.fires, acc.values)),
            ]
        else:
            m.d.comb += [ser.short.eq(0), ser.data.eq(acc.values)]

        # The mode's value stage: codes -> values (CAL_OFFSET, or the code -> value tables).
        c.mode.value_stage(m, self, blocks=value_blocks, tdc=tdc, acc=acc, field=field,
                           busy=busy)

        # Row writes.
        m.d.comb += [
            writer.start.eq(field.CTRL.WRITE_ROW),
            busy.CTRL.WRITE_ROW.eq(writer.busy),
            writer.row.eq(field.WRITE_ROW_ADDR.ROW),
            writer.data.eq(Cat(*field.WEIGHT_DATA.BITS)),
            writer.pulse_cycles.eq(field.WRITE_PULSE_CYCLES.CYCLES),
            writer.array_idle.eq(seq.array_idle),
            seq.write_busy.eq(writer.busy),
        ]

        if verify:
            self._write_verify(m, regs, writer, tdc)
        else:
            # no read-back: nothing fails, the WV_* counters read 0
            m.d.comb += sets.STATUS.WRITE_FAILED.eq(0)

        # Status.
        count = Signal(32)
        with m.If(seq.pass_done):
            m.d.g_cnt += count.eq(count + 1)
        status = field.STATUS
        m.d.comb += [
            field.VMM_COUNT.COUNT.eq(count),
            status.VMM_BUSY.eq(seq.busy | deser.handoff.valid),
            status.WRITE_BUSY.eq(writer.busy),
            status.RESULT_PENDING.eq(ser.frame.busy),
            sets.STATUS.TDC_OVERFLOW.eq(seq.pass_done & tdc.overflow.any()),
            sets.STATUS.LENGTH_ERROR.eq(deser.length_error),
            *([] if c.multibit else [sets.STATUS.FLAGS_ERROR.eq(deser.flags_error)]),
        ]
        return m

    def _write_verify(self, m, regs, writer, tdc):
        """The write controller's read-back settings, and its outcome counters (WV_*)."""
        c = self.config
        field = regs.fields
        m.d.comb += [
            writer.verify_enable.eq(field.WV_CTRL.ENABLE),
            writer.pulse_doubling.eq(field.WV_CTRL.PULSE_DOUBLING),
            writer.max_retries.eq(field.WV_CTRL.MAX_RETRIES),
            writer.threshold.eq(field.WV_READ.THRESHOLD),
            writer.codes.eq(tdc.codes), writer.overflow.eq(tdc.overflow),
        ]
        fail_count, retry_count = Signal(32), Signal(32)
        fail_row, fail_mask = Signal(range(c.rows)), Signal(c.cols)
        with m.If(writer.fail_valid):
            m.d.g_cnt += [fail_count.eq(fail_count + writer.fail_cells),
                          fail_row.eq(writer.fail_row), fail_mask.eq(writer.fail_mask)]
        with m.If(writer.retry):
            m.d.g_cnt += retry_count.eq(retry_count + 1)
        m.d.comb += [
            field.WV_FAIL_COUNT.COUNT.eq(fail_count),
            field.WV_RETRY_COUNT.COUNT.eq(retry_count),
            field.WV_FAIL_ROW.ROW.eq(fail_row),
            Cat(*field.WV_FAIL_MASK.BITS).eq(fail_mask),
            regs.sets.STATUS.WRITE_FAILED.eq(writer.fail_valid),
        ]


@functools.lru_cache(maxsize=2)
def _verilog_text(design: MacroDesign, clock_gating: bool, prefix: str = "") -> str:
    """The Verilog text of :func:`generate_verilog`, remembered for the last designs (a
    property check writes the CLI's outputs, then builds the simulator from the same text)."""
    text = portable_comb_triggers(
        verilog.convert(MramMacro(design, clock_gating=clock_gating),
                        name=prefix + TOP_NAME, emit_src=False)
    ) + (ICG_VERILOG if clock_gating else "")
    if prefix:      # Amaranth prefixed the top and its submodules; the clock-gate cell too
        text = re.sub(rf"\b{ICG_MODULE}\b", prefix + ICG_MODULE, text)
    return text


#: A module prefix: empty, or a Verilog identifier start.
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_prefix(prefix: object) -> str:
    """``prefix`` if it can start every module name of the macro (letters, digits, ``_``, not
    starting with a digit; empty for none). Raises ValueError otherwise."""
    if not isinstance(prefix, str) or (prefix and not _PREFIX.fullmatch(prefix)):
        raise ValueError(f"the module prefix must be letters, digits and '_' not starting with "
                         f"a digit (e.g. 'cfg_a_'), or empty; not {prefix!r}")
    return prefix


def generate_verilog(config: MacroConfig | MacroDesign | None = None,
                     path: str | Path | None = None, *, device: DeviceParams | None = None,
                     clock_gating: bool = True, prefix: str = "") -> str:
    """Verilog of the macro (module ``mram_macro``); also written to ``path`` if given.
    ``config``: a configuration (designed for ``device``) or its :class:`MacroDesign`.
    ``clock_gating=False`` gives the ungated reference design (see :class:`MramMacro`).
    ``prefix`` goes in front of every module name (``<prefix>mram_macro``, its submodules and
    the clock-gate cell ``<prefix>mram_icg``), so that macros of two configurations can sit in
    one design.

    Plain Verilog-2005 that also simulates under SystemVerilog rules (``iverilog -g2012``):
    see :mod:`mram_macro.rtl.portable`.
    """
    text = _verilog_text(_design_of(config, device), clock_gating, check_prefix(prefix))
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    return text
