"""A thin Verilog test harness around the generated macro, for fast cocotb simulation.

``mram_macro_tb`` has exactly the ports of ``mram_macro`` (same names, directions and widths,
wired straight through to the instance ``macro``), so a cocotb testbench drives and watches the
same pins as before. It adds a **result-frame collector** on ``m_axis``: at every rising clock
edge that takes a beat (``tvalid & tready``, out of reset) it stores ``tdata``/``tuser`` at the
beat's position, and at the beat with ``tlast`` it latches the whole frame on

* ``tb_m_frame_data`` (``out_beats * stream_width`` bits, beat 0 in the low bits),
* ``tb_m_frame_user`` (``out_beats`` x ``tuser``),
* ``tb_m_frame_beats`` (beats in the frame, counted past ``out_beats`` too),
* ``tb_m_frame`` (those three and the count in one word, ``{user, data, beats, count}``,
  updated with the count: a testbench wakes on its change and reads the frame in the value
  that woke it, which no simulator can show half updated),
* ``tb_m_frame_count`` (frames so far: +1 at the falling edge after the frame was latched,
  when the frame registers above hold it; the testbench wakes on its change and reads them),

so Python reads a result once per frame instead of once per beat (32 beats for the default
macro). Beats beyond ``out_beats`` are counted but not stored; a reset drops a partial frame.

It also checks the AXI4-Stream master rules on ``m_axis`` at the same edges: once ``tvalid`` is
high it stays high with ``tdata``/``tlast``/``tuser`` stable until the beat is taken, and (4-state
simulators) ``tvalid`` is 0/1 out of reset and a taken beat has no X/Z bits.
``tb_m_violations`` counts violations, ``tb_m_violation_kinds`` ORs their :data:`VIOLATION_KINDS`
bits, ``tb_m_first_violation_ns`` holds the time of the first.

**Comparator scheduler.** The array pin model (:class:`mram_macro.sim.array_pins.
HarnessCocotbMramArray`) computes, once per evaluation, every column's raise time (and with
a two-step TDC its held sampler bits) and writes them in ONE write to ``tb_arr_sched``; the
harness then raises ``arr_cmp``/``arr_fine`` (and ``arr_ref_cmp``/``arr_ref_fine``: the replica
columns ride above the array's columns) at the clock edges the pin models' timing contract
names, so Python wakes once per evaluation instead of once per trip edge. ``tb_arr_sched`` is,
LSB first (:class:`SchedulerLayout`): ``enable`` (1 bit), ``gen`` (1 bit, toggled per armed
evaluation), the number of trip entries, the trip entries (each a raise time ``h`` in half
periods, :data:`TRIP_BITS` bits, then the column index; in rising ``h``, one per column that
trips, ``h >= 1``) and the sampler bits of each scheduled column (``K - 1`` each, raised with
the column). The entries come sorted
so that the harness raises each column once, at its edge, with work per trip rather than per
column and edge: event-driven simulators (Icarus) walk the list forward as the edges come
(:func:`_scheduler`); Verilator, where a loop is cheap, evaluates the same rule from the whole
list. The contract, in half periods counted from falling edge 0 (the first that sees
``arr_eval`` high; the model arms there): falling edge ``j`` is ``h = 2j + 1`` and the rising
edge after it ``2j + 2``. A sampled TDC's column with trip index ``m`` is raised at
``h = 2m - 1`` (falling edge ``m - 1``, half a period before the edge that first sees it); an
edge-capture TDC's at ``2m - 2``, ``2m - 1`` or ``2m`` by its samplers' zone (the pin models,
:mod:`mram_macro.sim.array_pins`).

* a column with raise time ``h >= 1`` is high after edge ``h`` if ``arr_eval`` was high at
  every falling edge before it (the discharge stops when ``arr_eval`` falls);
* every scheduled bit goes low at a falling edge that sees ``arr_pre`` high (the precharge);
* ``tb_arr_evals`` counts evaluation starts (falling edges that see ``arr_eval`` rise): the
  model wakes on its change, at edge 0, and reads both bypass buses at once on
  ``tb_arr_bypass`` (``{arr_bypass_l, arr_bypass_r}``).

The macro sees ``arr_cmp | scheduled bits`` (likewise ``arr_fine``, ``arr_ref_cmp``), so a
testbench may still drive the pins directly (with ``enable`` low the scheduler is inert). While
enabled the harness also checks the array protocol at every falling edge (the checks of the
Python pin models): ``tb_arr_violations``/``tb_arr_violation_kinds``
(:data:`ARRAY_VIOLATION_KINDS`)/``tb_arr_first_violation_ns``.

**Input feeder.** The stream source (:class:`mram_macro.sim.testbench.drivers.StreamSource`)
may hand up to :data:`FEED_BEATS` ``s_axis`` beats to the harness in one write to
``tb_s_feed`` (LSB first: ``enable``, ``gen`` toggled per batch, the beat count
(:data:`FEED_COUNT_BITS` bits), then each beat's ``tdata``, ``tuser``, ``tlast``). While a
batch is loaded the harness drives the macro's ``s_axis`` from it, one beat per handshake,
exactly as the Python source would (``tvalid`` high from the write on, the next beat offered
right after the edge that took one);
``tb_s_fed`` counts batches taken whole (it changes at the edge that took the last beat, when
the next batch can be written without a gap). A reset drops the loaded batch. Otherwise the
``s_axis`` ports pass through.

The harness adds no logic to the macro's paths: its inputs go to the macro unchanged (the
scheduled comparator bits are ORed onto the pins the array model drives, and the feeder's
beats replace the ``s_axis`` pins only while a batch is loaded), and the collector only
samples ``m_axis`` at the clock edges at which the macro samples its own inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mram_macro.design.config import MacroConfig

#: Module name of the harness (the cocotb toplevel) and of the macro instance inside it.
HARNESS_TOP = "mram_macro_tb"
MACRO_INSTANCE = "macro"

#: Violation kinds of ``tb_m_violation_kinds`` (bit -> text, as the Python sink words them).
VIOLATION_KINDS = {
    1: "tvalid dropped before the beat was taken",
    2: "payload changed while stalled",
    4: "tvalid is not 0/1 out of reset",
    8: "beat with undefined bits taken",
}

#: Violation kinds of ``tb_arr_violation_kinds`` (bit -> text, as the Python pin models word
#: them).
ARRAY_VIOLATION_KINDS = {
    1: "arr_pre and arr_eval are high together",
    2: "arr_wr_pulse is high while arr_pre or arr_eval is high",
    4: "arr_bypass_l/arr_bypass_r changed while arr_eval is high",
    8: "evaluation started without a precharge since the last one",
    16: "evaluation longer than the comparator scheduler counts",
    32: "an evaluation started that the pin model never scheduled",
}

#: Bits of one raise time (half periods) in ``tb_arr_sched`` (the largest, all ones, is kept for
#: "later than the scheduler counts": an evaluation that long is flagged).
TRIP_BITS = 16

#: The harness' own outputs (what a testbench reads besides the macro's ports).
COLLECTOR_PORTS = ("tb_m_frame_data", "tb_m_frame_user", "tb_m_frame_beats", "tb_m_frame",
                   "tb_m_frame_count",
                   "tb_m_violations", "tb_m_violation_kinds", "tb_m_first_violation_ns")
#: The comparator scheduler's ports: its one input, then its outputs.
SCHEDULER_PORTS = ("tb_arr_sched", "tb_arr_evals", "tb_arr_bypass", "tb_arr_violations",
                   "tb_arr_violation_kinds", "tb_arr_first_violation_ns")
#: The input feeder's ports (its input, then its output).
FEEDER_PORTS = ("tb_s_feed", "tb_s_fed")
#: Every port the harness adds to the macro's.
HARNESS_PORTS = COLLECTOR_PORTS + SCHEDULER_PORTS + FEEDER_PORTS

#: Beats the input feeder takes in one write.
FEED_BEATS = 32
#: Bits of the beat count in ``tb_s_feed``.
FEED_COUNT_BITS = 8


def feed_entry_bits(stream_width: int, tuser_bits: int) -> int:
    """Bits of one beat in ``tb_s_feed``: ``tdata``, then ``tuser``, then ``tlast``."""
    return stream_width + tuser_bits + 1


@dataclass(frozen=True)
class SchedulerLayout:
    """Where things are in ``tb_arr_sched`` for one macro (see the module docstring)."""

    rows: int           #: the array's rows (``arr_bypass_l``)
    cols: int           #: the array's columns (``arr_cmp``)
    replicas: int       #: replica columns (``arr_ref_cmp``; 0 without)
    fine_bits: int      #: sampler bits per column (``K - 1``; 0 without ``arr_fine``)
    ref_fine: bool      #: the replica columns have sampler bits too (``arr_ref_fine``)

    @property
    def columns(self) -> int:
        """Scheduled columns: the array's, then the replicas."""
        return self.cols + self.replicas

    @property
    def fine_columns(self) -> int:
        """Columns with sampler bits in ``tb_arr_sched``."""
        if not self.fine_bits:
            return 0
        return self.columns if self.ref_fine else self.cols

    @property
    def count_bits(self) -> int:
        """Bits of the entry count (0 .. :attr:`columns`)."""
        return self.columns.bit_length()

    @property
    def index_bits(self) -> int:
        """Bits of a column index in an entry (16: entries are whole 32-bit words, which
        Python packs without a loop)."""
        return 16

    @property
    def entry_bits(self) -> int:
        return TRIP_BITS + self.index_bits

    @property
    def count_lsb(self) -> int:
        return 2

    @property
    def entries_lsb(self) -> int:
        return self.count_lsb + self.count_bits

    @property
    def fine_lsb(self) -> int:
        return self.entries_lsb + self.entry_bits * self.columns

    @property
    def width(self) -> int:
        return self.fine_lsb + self.fine_bits * self.fine_columns

    @classmethod
    def of_ports(cls, width: dict[str, int]) -> SchedulerLayout:
        """The layout for a macro with these port widths (``name -> bits``)."""
        cols = width["arr_cmp"]
        replicas = width.get("arr_ref_cmp", 0)
        fine = width.get("arr_fine", 0)
        if fine % cols:
            raise ValueError(f"arr_fine has {fine} bits, not a multiple of the {cols} columns")
        fine_bits = fine // cols
        ref_fine = width.get("arr_ref_fine", 0)
        if ref_fine and ref_fine != replicas * fine_bits:
            raise ValueError(f"arr_ref_fine has {ref_fine} bits, expected {replicas} replica "
                             f"columns x {fine_bits}")
        return cls(rows=width["arr_bypass_l"], cols=cols, replicas=replicas,
                   fine_bits=fine_bits, ref_fine=bool(ref_fine))

    def pack(self, *, enable: bool, gen: int, trips: bytes, fine: int) -> int:
        """The ``tb_arr_sched`` word from ``trips``, the raise time ``h`` (half periods) of
        every scheduled column as little-endian ``TRIP_BITS``-bit words (0: never trips), and
        ``fine``, the sampler bits (column c at ``c (K - 1)``): the trip entries sorted by
        ``h`` (then by column), see the module docstring."""
        if len(trips) != 2 * self.columns:
            raise ValueError(f"trips has {len(trips)} bytes, {self.columns} columns need "
                             f"{2 * self.columns}")
        m = np.frombuffer(trips, dtype="<u2")
        due = np.flatnonzero(m)
        order = due[np.argsort(m[due], kind="stable")]
        entries = (m[order].astype("<u4") | order.astype("<u4") << TRIP_BITS).tobytes()
        return (int(enable) | (gen & 1) << 1 | len(order) << self.count_lsb
                | int.from_bytes(entries, "little") << self.entries_lsb
                | fine << self.fine_lsb)

_DECL = re.compile(r"^\s*(input|output)\s+(?:\[(\d+):(\d+)\]\s+)?([A-Za-z_][A-Za-z0-9_$]*)\s*;",
                   re.M)


def top_ports(verilog: str, top: str = "mram_macro") -> list[tuple[str, str, int]]:
    """``(direction, name, width)`` of each port of module ``top`` in Yosys-written Verilog,
    in header order."""
    start = re.search(rf"^module {re.escape(top)}\((.*?)\);", verilog, re.M | re.S)
    if start is None:
        raise ValueError(f"no `module {top}(...)` header in the generated Verilog")
    names = [p.strip() for p in start.group(1).split(",") if p.strip()]
    end = verilog.find("\nendmodule", start.end())
    decls = {m.group(4): (m.group(1), int(m.group(2)) - int(m.group(3)) + 1 if m.group(2)
                          else 1)
             for m in _DECL.finditer(verilog, start.end(), end)}
    missing = [n for n in names if n not in decls]
    if missing:
        raise ValueError(f"ports of {top} without an input/output declaration: {missing}")
    return [(decls[n][0], n, decls[n][1]) for n in names]


def _range(width: int) -> str:
    return f"[{width - 1}:0] " if width > 1 else ""


def _vector(width: int) -> str:
    """Always a vector, also of width 1, so that a part select of it is legal Verilog."""
    return f"[{width - 1}:0] "


def render_harness(verilog: str, config: MacroConfig) -> str:
    """Verilog-2005 source of :data:`HARNESS_TOP` for the macro in ``verilog`` (see the module
    docstring)."""
    ports = top_ports(verilog)
    width = {name: w for _, name, w in ports}
    for name in ("clk", "rst", "s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "s_axis_tlast",
                 "s_axis_tuser", "arr_cmp", "arr_pre", "arr_eval", "arr_wr_pulse", "arr_bypass_l",
                 "arr_bypass_r", "m_axis_tdata", "m_axis_tvalid", "m_axis_tready", "m_axis_tlast",
                 "m_axis_tuser"):
        if name not in width:
            raise ValueError(f"the macro has no port {name}: cannot build the test harness")
    if width["m_axis_tdata"] != config.stream_width:
        raise ValueError(f"m_axis_tdata is {width['m_axis_tdata']} bits, the configuration says "
                         f"{config.stream_width}")
    beats, dw, uw = config.out_beats, config.stream_width, width["m_axis_tuser"]
    payload = dw + 1 + uw
    layout = SchedulerLayout.of_ports(width)
    sched_decl, sched_logic, driven = _scheduler(layout)
    feed_decl, feed_logic, fed = _feeder(dw, width["s_axis_tuser"])
    driven.update(fed)
    lines = [
        "// Test harness of mram_macro (generated by mram_macro/sim/harness.py): the macro's",
        "// ports passed through, plus a result-frame collector and an AXI4-Stream checker",
        "// on m_axis. Not part of the design.",
        f"module {HARNESS_TOP}({', '.join([n for _, n, _ in ports] + list(HARNESS_PORTS))});",
    ]
    for direction, name, w in ports:
        lines.append(f"  {direction} {_range(w)}{name};")
    lines += [
        f"  output {_vector(beats * dw)}tb_m_frame_data;",
        f"  output {_vector(beats * uw)}tb_m_frame_user;",
        "  output [31:0] tb_m_frame_beats;",
        f"  output [{beats * (dw + uw) + 63}:0] tb_m_frame;",
        f"  reg [{beats * (dw + uw) + 63}:0] tb_m_frame;",
        "  output [31:0] tb_m_frame_count;",
        "  output [31:0] tb_m_violations;",
        "  output [3:0] tb_m_violation_kinds;",
        "  output [63:0] tb_m_first_violation_ns;",
        f"  reg {_vector(beats * dw)}tb_m_frame_data;",
        f"  reg {_vector(beats * uw)}tb_m_frame_user;",
        "  reg [31:0] tb_m_frame_beats;",
        "  reg [31:0] tb_m_frame_count;",
        "  reg [31:0] tb_m_violations;",
        "  reg [3:0] tb_m_violation_kinds;",
        "  reg [63:0] tb_m_first_violation_ns;",
        f"  reg {_vector(dw)}beat_data [0:{beats - 1}];   // this frame's beats so far",
        f"  reg {_vector(uw)}beat_user [0:{beats - 1}];",
        f"  reg {_vector(beats * dw)}next_data;",
        f"  reg {_vector(beats * uw)}next_user;",
        "  integer beat;",
        "  reg [31:0] nbeats;",
        "  reg [31:0] frames_latched;",
        "  reg stalled;",
        f"  reg [{payload - 1}:0] stalled_payload;",
        f"  wire [{payload - 1}:0] payload = {{m_axis_tdata, m_axis_tlast, m_axis_tuser}};",
        "  reg [3:0] kinds;",
        *sched_decl,
        *feed_decl,
        f"  mram_macro {MACRO_INSTANCE} (",
        ",\n".join(f"    .{n}({driven.get(n, n)})" for _, n, _ in ports),
        "  );",
        "  initial begin",
        "    tb_m_frame_data = 0; tb_m_frame_user = 0; tb_m_frame_beats = 0;",
        "    tb_m_frame_count = 0; frames_latched = 0; tb_m_violations = 0; tb_m_frame = 0;",
        "    tb_m_violation_kinds = 0;",
        "    tb_m_first_violation_ns = 0; nbeats = 0;",
        "    stalled = 1'b0; stalled_payload = 0;",
        "  end",
        "  always @(posedge clk) begin",
        "    kinds = 4'd0;",
        "    if (rst) begin",
        "      nbeats <= 32'd0; stalled <= 1'b0;",
        "    end else begin",
        "`ifndef VERILATOR",
        "      if (m_axis_tvalid !== 1'b0 && m_axis_tvalid !== 1'b1) kinds = kinds | 4'd4;",
        "      if (m_axis_tvalid === 1'b1 && m_axis_tready === 1'b1 && (^payload) === 1'bx)",
        "        kinds = kinds | 4'd8;",
        "`endif",
        "      if (stalled && !m_axis_tvalid) kinds = kinds | 4'd1;",
        "      if (stalled && m_axis_tvalid && payload != stalled_payload) kinds = kinds | 4'd2;",
        "      stalled <= m_axis_tvalid && !m_axis_tready;",
        "      stalled_payload <= payload;",
        "      if (m_axis_tvalid && m_axis_tready) begin",
        "        // Beats go to a memory, one word each; the frame is assembled once, at tlast",
        "        // (positions past the frame's last beat read 0).",
        f"        if (nbeats < {beats}) begin",
        "          beat_data[nbeats] = m_axis_tdata;",
        "          beat_user[nbeats] = m_axis_tuser;",
        "        end",
        "        if (m_axis_tlast) begin",
        f"          for (beat = 0; beat < {beats}; beat = beat + 1) begin",
        f"            next_data[beat * {dw} +: {dw}] = beat <= nbeats ? beat_data[beat] : {dw}'d0;",
        f"            next_user[beat * {uw} +: {uw}] = beat <= nbeats ? beat_user[beat] : {uw}'d0;",
        "          end",
        "          tb_m_frame_data <= next_data;",
        "          tb_m_frame_user <= next_user;",
        "          tb_m_frame_beats <= nbeats + 32'd1;",
        "          frames_latched <= frames_latched + 32'd1;",
        "          nbeats <= 32'd0;",
        "        end else begin",
        "          nbeats <= nbeats + 32'd1;",
        "        end",
        "      end",
        "    end",
        "    if (kinds != 4'd0) begin",
        "      if (tb_m_violations == 32'd0) tb_m_first_violation_ns <= $time;",
        "      tb_m_violations <= tb_m_violations + 32'd1;",
        "      tb_m_violation_kinds <= tb_m_violation_kinds | kinds;",
        "    end",
        "  end",
        "  always @(negedge clk) if (tb_m_frame_count != frames_latched) begin",
        "    tb_m_frame_count <= frames_latched;",
        "    tb_m_frame <= {tb_m_frame_user, tb_m_frame_data, tb_m_frame_beats, frames_latched};",
        "  end",
        *sched_logic,
        *feed_logic,
        "endmodule",
    ]
    return "\n".join(lines) + "\n"


def _scheduler(layout: SchedulerLayout) -> tuple[list[str], list[str], dict[str, str]]:
    """Declarations, logic and the macro's driven inputs of the comparator scheduler (see the
    module docstring)."""
    n, tw, fb = layout.columns, TRIP_BITS, layout.fine_bits
    cb, eb = layout.count_bits, layout.entry_bits
    cw = max(1, (n - 1).bit_length())     # a column index as the buses take it
    nf = layout.fine_columns if fb else 0
    decl = [
        f"  input {_vector(layout.width)}tb_arr_sched;",
        "  output [31:0] tb_arr_evals;",
        f"  output [{2 * layout.rows - 1}:0] tb_arr_bypass;   // one read: {{left, right}}",
        "  assign tb_arr_bypass = {arr_bypass_l, arr_bypass_r};",
        "  output [31:0] tb_arr_violations;",
        "  output [7:0] tb_arr_violation_kinds;",
        "  output [63:0] tb_arr_first_violation_ns;",
        "  reg [31:0] tb_arr_evals;",
        "  reg [31:0] tb_arr_violations;",
        "  reg [7:0] tb_arr_violation_kinds;",
        "  reg [63:0] tb_arr_first_violation_ns;",
        "`ifdef VERILATOR",
        "  wire sched_en = tb_arr_sched[0];",
        "`else",
        "  wire sched_en = tb_arr_sched[0] === 1'b1;   // undriven (Z): off",
        "`endif",
        "  wire sched_gen = tb_arr_sched[1];",
        "  reg sched_gen_seen, sched_held, sched_stopped, sched_waiting, sched_last_eval;",
        "  reg sched_precharged;",
        f"  reg [{tw - 1}:0] sched_k;",
        f"  reg [{2 * layout.rows - 1}:0] sched_bypass;",
        "  reg [7:0] arr_kinds;",
        "  // armed at falling edge 0 (after it): this is edge 0 until the next falling edge",
        "  wire sched_fresh = sched_en && sched_gen != sched_gen_seen;",
        "  wire sched_live = sched_en && (sched_fresh || sched_held);",
        f"  wire [{tw}:0] sched_reach = {{1'b0, sched_fresh ? {tw}'d0 : sched_k}} + {tw + 1}'d1;",
        "  // in half periods: falling edge j is 2j + 1, the rising edge after it 2j + 2",
        "  // a rising edge of the discharge since the last falling edge (each reg one driver)",
        "  reg sched_rose, sched_fell;",
        "  wire sched_half = sched_rose != sched_fell;",
        f"  wire [{tw + 1}:0] sched_hreach = {{sched_reach, 1'b0}} - {tw + 2}'d1"
        f" + {{{tw + 1}'d0, sched_half}};",
        f"  wire [{cb - 1}:0] sched_count = tb_arr_sched[{layout.count_lsb} +: {cb}];",
        f"  reg [{n - 1}:0] sched_cmp, sched_cmp_v;",
        *([f"  reg [{nf * fb - 1}:0] sched_fine, sched_fine_v;"] if fb else []),
        f"  reg [{cb - 1}:0] sched_ptr;",
        f"  reg [{cw - 1}:0] sched_col;",
        f"  reg [{eb - 1}:0] sched_entry;",
        "  reg sched_scan;",
        f"  reg [{tw + 1}:0] sched_done;   // the reach the bits are up to date for",
        "  reg sched_was_live, sched_arm_gen;",
        "  integer sched_i;",
    ]
    entry = f"        sched_entry = tb_arr_sched[{layout.entries_lsb} + sched_ptr * {eb} +: {eb}];"
    due = f"{{2'b0, sched_entry[{tw - 1}:0]}} <= sched_hreach"
    raise_column = [
        f"        sched_col = sched_entry[{tw + cw - 1}:{tw}];",
        "        sched_cmp_v[sched_col] = 1'b1;",
        *([("        " if nf == n else f"        if (sched_col < {cw}'d{nf}) ")
           + f"sched_fine_v[sched_col * {fb} +: {fb}] = "
           f"tb_arr_sched[{layout.fine_lsb} + sched_col * {fb} +: {fb}];"] if fb else []),
    ]
    update = ["      if (sched_cmp_v != sched_cmp) sched_cmp = sched_cmp_v;",
              *(["      if (sched_fine_v != sched_fine) sched_fine = sched_fine_v;"] if fb else [])]
    # Column c is high while live once the reach covers its m. Verilator evaluates that from
    # the whole list at every change; an event-driven simulator walks the sorted list forward
    # from where it stopped (restarting on a new schedule, or when the reach goes back), so
    # each column costs one step per evaluation and each bus changes once per trip edge.
    logic = [
        "  initial begin",
        f"    sched_cmp = {n}'d0; sched_ptr = 0; sched_done = 0; sched_was_live = 1'b0;",
        "    sched_arm_gen = 1'b0;",
        *([f"    sched_fine = {nf * fb}'d0;"] if fb else []),
        "  end",
        "`ifdef VERILATOR",
        "  always @* begin",
        f"    sched_cmp_v = {n}'d0; sched_ptr = 0; sched_entry = 0; sched_col = 0;",
        *([f"    sched_fine_v = {nf * fb}'d0;"] if fb else []),
        f"    for (sched_i = 0; sched_i < {n}; sched_i = sched_i + 1) begin",
        f"      sched_ptr = sched_i[{cb - 1}:0];",
        entry,
        f"      if (sched_live && sched_ptr < sched_count && {due}) begin",
        *raise_column,
        "      end",
        "    end",
        "    sched_cmp = sched_cmp_v;",
        *(["    sched_fine = sched_fine_v;"] if fb else []),
        "  end",
        "`else",
        "  always @(sched_live or sched_hreach or sched_gen) begin",
        "    if (!sched_live) begin",
        "      sched_ptr = 0; sched_was_live = 1'b0;",
        f"      sched_cmp_v = {n}'d0;",
        *([f"      sched_fine_v = {nf * fb}'d0;"] if fb else []),
        "    end else begin",
        "      if (!sched_was_live || sched_gen != sched_arm_gen ||",
        "          sched_hreach < sched_done) begin",
        f"        sched_ptr = 0; sched_cmp_v = {n}'d0;",
        *([f"        sched_fine_v = {nf * fb}'d0;"] if fb else []),
        "        sched_was_live = 1'b1; sched_arm_gen = sched_gen;",
        "      end else begin",
        "        sched_cmp_v = sched_cmp;",
        *(["        sched_fine_v = sched_fine;"] if fb else []),
        "      end",
        "      sched_done = sched_hreach;",
        "      sched_scan = 1'b1;",
        "      while (sched_scan && sched_ptr < sched_count) begin",
        entry,
        f"        if ({due}) begin",
        *["  " + line for line in raise_column],
        "          sched_ptr = sched_ptr + 1;",
        "        end else sched_scan = 1'b0;",
        "      end",
        "    end",
        *update,
        "  end",
        "`endif",
    ]
    driven = {"arr_cmp": f"arr_cmp | sched_cmp[{layout.cols - 1}:0]"}
    if layout.replicas:
        driven["arr_ref_cmp"] = f"arr_ref_cmp | sched_cmp[{n - 1}:{layout.cols}]"
    if fb:
        driven["arr_fine"] = f"arr_fine | sched_fine[{layout.cols * fb - 1}:0]"
        if layout.ref_fine:
            driven["arr_ref_fine"] = f"arr_ref_fine | sched_fine[{nf * fb - 1}:{layout.cols * fb}]"
    bypass = "{arr_bypass_l, arr_bypass_r}"
    logic += [
        "  initial begin",
        "    tb_arr_evals = 0; tb_arr_violations = 0; tb_arr_violation_kinds = 0;",
        "    tb_arr_first_violation_ns = 0; sched_gen_seen = 1'b0; sched_held = 1'b0;",
        "    sched_stopped = 1'b1; sched_waiting = 1'b0; sched_last_eval = 1'b0;",
        "    sched_precharged = 1'b0; sched_k = 0; sched_bypass = 0;",
        "    sched_rose = 1'b0; sched_fell = 1'b0;",
        "  end",
        "  // the discharge goes on through a rising edge: the entries due there rise with it",
        "  // (set at a rising edge of the discharge; kept when it stops, until the precharge)",
        "  always @(posedge clk)",
        "    if (sched_fresh || (sched_held && !sched_stopped)) sched_rose <= !sched_fell;",
        "  // The array's side of the pins acts at falling edges (mram_macro/sim/array_pins.py).",
        "  always @(negedge clk) begin",
        "    arr_kinds = 8'd0;",
        "    if (arr_pre || (arr_eval && (sched_fresh || (sched_held && !sched_stopped))))",
        "      sched_fell <= sched_rose;            // the discharge goes on, or precharge",
        "    if (sched_en) begin",
        "      if (arr_pre && arr_eval) arr_kinds = arr_kinds | 8'd1;",
        "      if (arr_wr_pulse && (arr_pre || arr_eval)) arr_kinds = arr_kinds | 8'd2;",
        f"      if (arr_eval && sched_last_eval && {bypass} != sched_bypass) begin",
        "        arr_kinds = arr_kinds | 8'd4;",
        f"        sched_bypass <= {bypass};",
        "      end",
        "      // the discharge of the armed evaluation: one more falling edge, or its end",
        "      if (sched_fresh) begin",
        "        sched_gen_seen <= sched_gen;",
        "        sched_held <= 1'b1;",
        "        sched_waiting <= 1'b0;",
        "        sched_k <= arr_eval ? 1 : 0;",
        "        sched_stopped <= !arr_eval;",
        "      end else if (sched_held && !sched_stopped) begin",
        "        if (!arr_eval) sched_stopped <= 1'b1;",
        f"        else if (sched_k == {{{tw}{{1'b1}}}} - 1) arr_kinds = arr_kinds | 8'd16;",
        "        else sched_k <= sched_k + 1;",
        "      end",
        "      if (arr_pre) begin                    // the precharge resets every comparator",
        "        sched_precharged <= 1'b1;",
        "        sched_held <= 1'b0;",
        "      end",
        "      if (arr_eval && !sched_last_eval) begin   // falling edge 0 of an evaluation",
        "        if (!sched_precharged && !arr_pre) arr_kinds = arr_kinds | 8'd8;",
        "        if (sched_waiting) arr_kinds = arr_kinds | 8'd32;",
        "        sched_precharged <= 1'b0;",
        "        sched_waiting <= 1'b1;",
        "        tb_arr_evals <= tb_arr_evals + 32'd1;",
        f"        sched_bypass <= {bypass};",
        "      end",
        "      if (arr_kinds != 8'd0) begin",
        "        if (tb_arr_violations == 32'd0) tb_arr_first_violation_ns <= $time;",
        "        tb_arr_violations <= tb_arr_violations + 32'd1;",
        "        tb_arr_violation_kinds <= tb_arr_violation_kinds | arr_kinds;",
        "      end",
        "    end",
        "    sched_last_eval <= arr_eval;",
        "  end",
    ]
    return decl, logic, driven


def _feeder(dw: int, uw: int) -> tuple[list[str], list[str], dict[str, str]]:
    """Declarations, logic and the macro's driven inputs of the input feeder (see the module
    docstring)."""
    ew = feed_entry_bits(dw, uw)
    cb = FEED_COUNT_BITS
    width = 2 + cb + FEED_BEATS * ew
    decl = [
        f"  input {_vector(width)}tb_s_feed;",
        "  output [31:0] tb_s_fed;",
        "  reg [31:0] tb_s_fed;",
        "`ifdef VERILATOR",
        "  wire feed_en = tb_s_feed[0];",
        "`else",
        "  wire feed_en = tb_s_feed[0] === 1'b1;   // undriven (Z): off",
        "`endif",
        "  wire feed_gen = tb_s_feed[1];",
        f"  wire [{cb - 1}:0] feed_n = tb_s_feed[2 +: {cb}];",
        "  reg feed_gen_seen, feed_busy;",
        f"  reg [{cb - 1}:0] feed_idx;",
        "  wire feed_fresh = feed_en && feed_gen != feed_gen_seen && feed_n != 0;",
        "  wire feed_valid = feed_fresh || (feed_en && feed_busy);",
        f"  wire [{cb - 1}:0] feed_cur = feed_fresh ? {cb}'d0 : feed_idx;",
        f"  wire [{ew - 1}:0] feed_beat = tb_s_feed[{2 + cb} + feed_cur * {ew} +: {ew}];",
    ]
    logic = [
        "  initial begin",
        "    tb_s_fed = 0; feed_gen_seen = 1'b0; feed_busy = 1'b0; feed_idx = 0;",
        "  end",
        "  always @(posedge clk) begin",
        "    if (!feed_en) begin                    // (gen may be undriven then)",
        "      feed_busy <= 1'b0;",
        "      feed_gen_seen <= 1'b0;",
        "    end else if (rst) begin                // a reset drops the loaded batch",
        "      feed_busy <= 1'b0;",
        "      feed_gen_seen <= feed_gen;",
        "    end else if (feed_valid) begin",
        "      feed_gen_seen <= feed_gen;",
        "      if (s_axis_tready) begin",
        f"        if (feed_cur + {cb}'d1 == feed_n) begin",
        "          feed_busy <= 1'b0;",
        "          tb_s_fed <= tb_s_fed + 32'd1;",
        "        end else begin",
        "          feed_busy <= 1'b1;",
        f"          feed_idx <= feed_cur + {cb}'d1;",
        "        end",
        "      end else begin",
        "        feed_busy <= 1'b1;",
        "        feed_idx <= feed_cur;",
        "      end",
        "    end",
        "  end",
    ]
    driven = {
        "s_axis_tvalid": "feed_valid | s_axis_tvalid",
        "s_axis_tdata": f"feed_valid ? feed_beat[{dw - 1}:0] : s_axis_tdata",
        "s_axis_tuser": f"feed_valid ? feed_beat[{dw + uw - 1}:{dw}] : s_axis_tuser",
        "s_axis_tlast": f"feed_valid ? feed_beat[{dw + uw}] : s_axis_tlast",
    }
    return decl, logic, driven
