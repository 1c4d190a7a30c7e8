"""Pieces of the fast cocotb testbench that need no simulator: the batched prediction of
``MacroEnv.send_vectors`` and the Verilog test harness' port handling."""

from __future__ import annotations

import numpy as np
import pytest

from mram_macro.design.config import MacroConfig, profile_config
from mram_macro.design.macro import MacroDesign
from mram_macro.rtl.top import generate_verilog
from mram_macro.sim.harness import (
    FEED_BEATS,
    FEED_COUNT_BITS,
    HARNESS_PORTS,
    HARNESS_TOP,
    SchedulerLayout,
    feed_entry_bits,
    render_harness,
    top_ports,
)
from mram_macro.sim.runner import verilator_public
from mram_macro.sim.testbench.model import MacroModel
from sim_models.device import DeviceParams

SMALL = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8)


@pytest.mark.parametrize("raw_codes", [False, True])
@pytest.mark.parametrize("noise", [False, True])
def test_batch_prediction_equals_pass_by_pass(noise, raw_codes):
    """vmm_clear_batch predicts what vmm does pass by pass: codes, overflow, values, the
    evaluation numbering (comparator noise on) and the state it leaves."""
    config = profile_config("full")
    device = DeviceParams(comparator_noise_rms_V=2e-3 if noise else 0.0)
    one, batch = (MacroModel(MacroDesign.derive(config), device, seed=5) for _ in range(2))
    rng = np.random.default_rng(3)
    offsets, x0 = rng.integers(-20, 20, config.cols), rng.random(config.rows) < 0.5
    for model in (one, batch):
        model.golden.raw_codes = raw_codes
        model.golden.offsets[:] = offsets
        model.vmm(x0, accumulate=False, hold=False)  # some history
    xs = np.random.default_rng(7).random((40, config.rows)) < 0.5
    want = [one.vmm(x, accumulate=False, hold=False) for x in xs]
    got = batch.vmm_clear_batch(xs)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g.codes, w.codes) and np.array_equal(g.overflow, w.overflow)
        assert np.array_equal(g.values, w.values) and g.emitted and w.emitted
    assert batch.passes == one.passes and batch.overflow_seen == one.overflow_seen
    assert np.array_equal(batch.golden.acc, one.golden.acc)
    # The next pass (accumulating on what the batch left) agrees too.
    x = xs[0]
    assert np.array_equal(batch.vmm(x, accumulate=True, hold=False).values,
                          one.vmm(x, accumulate=True, hold=False).values)


def test_batch_prediction_refuses_dead_columns():
    config = profile_config("full")
    model = MacroModel(MacroDesign.derive(config), DeviceParams(), seed=1)
    model.dead_columns = frozenset({3})
    with pytest.raises(ValueError, match="dead columns"):
        model.vmm_clear_batch(np.zeros((2, config.rows), dtype=bool))


#: Macro inputs the harness drives from more than the namesake port: the comparator
#: scheduler's bits ORed onto the array pins, the feeder's beats muxed onto s_axis.
SCHEDULED = {"arr_cmp": "arr_cmp | sched_cmp[", "arr_fine": "arr_fine | sched_fine[",
             "s_axis_tvalid": "feed_valid | s_axis_tvalid",
             "s_axis_tdata": "feed_valid ? feed_beat[", "s_axis_tuser": "feed_valid ? feed_beat[",
             "s_axis_tlast": "feed_valid ? feed_beat["}


def test_harness_passes_every_port_through():
    """The harness has the macro's ports (same directions and widths) plus its own,
    instantiates the macro with each port wired to its namesake (the scheduled ones through
    the scheduler and feeder), and Verilator's public list names exactly those ports."""
    verilog = generate_verilog(SMALL)
    ports = top_ports(verilog)
    assert ("input", "clk", 1) in ports and ("output", "m_axis_tdata", 8) in ports
    assert ("input", "arr_cmp", SMALL.cols) in ports
    text = render_harness(verilog, SMALL)
    harness = top_ports(text, HARNESS_TOP)
    assert harness[:len(ports)] == ports
    assert [name for _, name, _ in harness[len(ports):]] == list(HARNESS_PORTS)
    frame = dict((n, w) for _, n, w in harness)
    assert frame["tb_m_frame_data"] == SMALL.out_beats * SMALL.stream_width
    for _, name, _ in ports:
        assert f".{name}({SCHEDULED.get(name, name + ')')}" in text, name
    public = verilator_public(verilog, harness=True)
    assert public.count("public_flat_rw") == len(ports) + len(HARNESS_PORTS)
    assert f'-module "{HARNESS_TOP}" -var "arr_cmp"' in public
    assert 'public_flat_rd -module "*" -var "*_state"' in public


def test_harness_rejects_a_foreign_module():
    with pytest.raises(ValueError, match="no `module mram_macro"):
        render_harness("module other(a);\n  input a;\nendmodule\n", SMALL)
    with pytest.raises(ValueError, match="configuration says"):
        render_harness(generate_verilog(SMALL), profile_config("full"))


def _stub_macro(verilog: str) -> str:
    """A stand-in ``mram_macro`` with the real one's ports whose outputs are plain regs (the
    test drives ``m_axis`` through them hierarchically)."""
    lines = [f"module mram_macro({', '.join(n for _, n, _ in top_ports(verilog))});"]
    for direction, name, width in top_ports(verilog):
        rng = f"[{width - 1}:0] " if width > 1 else ""
        lines.append(f"  {direction} {rng}{name};")
        if direction == "output":
            lines.append(f"  reg {rng}{name};\n  initial {name} = 0;")
    return "\n".join(lines) + "\nendmodule\n"


def test_harness_collects_frames_and_flags_protocol_violations(tmp_path):
    """The harness' collector and m_axis checker, on Icarus with a stand-in macro: a frame is
    latched whole with its beat count, a longer one is counted, and a changed or withdrawn
    stalled beat and an X on tvalid are counted with their kinds."""
    import shutil

    if shutil.which("iverilog") is None:
        pytest.skip("iverilog is not on PATH (run `make setup`)")
    verilog = generate_verilog(SMALL)
    n = SMALL.out_beats
    m = "h.macro"
    beat = "\n".join(
        f"    {m}.m_axis_tvalid = 1; {m}.m_axis_tdata = 8'h{0x11 * (i + 1):02x}; "
        f"{m}.m_axis_tuser = {i % 2}; {m}.m_axis_tlast = {int(i == n - 1)}; @(posedge clk); #1;"
        for i in range(n))
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, ready = 1;
  always #5 clk = ~clk;
  mram_macro_tb h(.clk(clk), .rst(rst), .m_axis_tready(ready));
  initial begin
    @(posedge clk); #1; @(posedge clk); #1; rst = 0;
{beat}
    {m}.m_axis_tvalid = 0; @(posedge clk); #1;
    $display("FRAME %0d %0d %h %b %0d", h.tb_m_frame_count, h.tb_m_frame_beats,
             h.tb_m_frame_data, h.tb_m_frame_user, h.tb_m_violations);
{beat.replace(f"{m}.m_axis_tlast = 1;", f"{m}.m_axis_tlast = 0;")}
    {m}.m_axis_tlast = 1; @(posedge clk); #1; {m}.m_axis_tvalid = 0; @(posedge clk); #1;
    $display("LONG %0d %0d %0d", h.tb_m_frame_count, h.tb_m_frame_beats, h.tb_m_violations);
    ready = 0; {m}.m_axis_tvalid = 1; {m}.m_axis_tlast = 0; @(posedge clk); #1;
    {m}.m_axis_tdata = 8'h5a; @(posedge clk); #1;
    $display("CHANGED %0d %b", h.tb_m_violations, h.tb_m_violation_kinds);
    {m}.m_axis_tvalid = 0; @(posedge clk); #1;
    $display("DROPPED %0d %b %0d", h.tb_m_violations, h.tb_m_violation_kinds,
             h.tb_m_first_violation_ns);
    {m}.m_axis_tvalid = 1'bx; @(posedge clk); #1;
    $display("X %0d %b", h.tb_m_violations, h.tb_m_violation_kinds);
    $finish;
  end
endmodule
"""
    out = _icarus(tmp_path, verilog, SMALL, tb)
    got = {word: lines[-1] for word, lines in out.items()}
    data = "".join(f"{0x11 * (i + 1):02x}" for i in reversed(range(n)))
    users = "".join(str(i % 2) for i in reversed(range(n)))
    assert got["FRAME"] == ["1", str(n), data, users, "0"], out
    assert got["LONG"] == ["2", str(n + 1), "0"], out
    assert got["CHANGED"] == ["1", "0010"], out
    assert got["DROPPED"][:2] == ["2", "0011"] and int(got["DROPPED"][2]) > 0, out
    assert got["X"] == ["3", "0111"], out


def _icarus(tmp_path, verilog: str, config: MacroConfig, tb: str) -> dict[str, list[list[str]]]:
    """Run ``tb`` against the harness of ``config`` around a stand-in macro on Icarus; the
    printed lines by their first word."""
    import shutil
    import subprocess

    if shutil.which("iverilog") is None:
        pytest.skip("iverilog is not on PATH (run `make setup`)")
    (tmp_path / "macro.v").write_text(_stub_macro(verilog))
    (tmp_path / "harness.v").write_text(render_harness(verilog, config))
    (tmp_path / "tb.v").write_text(tb)
    subprocess.run(["iverilog", "-g2005", "-s", "tb", "-o", "sim.vvp", "tb.v", "harness.v",
                    "macro.v"], cwd=tmp_path, check=True, capture_output=True, text=True)
    out = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout
    lines: dict[str, list[list[str]]] = {}
    for line in out.splitlines():
        if line.strip():
            lines.setdefault(line.split()[0], []).append(line.split()[1:])
    return lines


TWO_STEP = profile_config("full", rows=8, cols=12, tdc_bits=4, result_width=8, stream_width=8,
                          tdc_mode="two_step", tdc_fine_taps=4)


def test_harness_scheduler_keeps_the_comparator_timing_contract(tmp_path):
    """The comparator scheduler, armed at falling edge 0 of an evaluation, raises column c
    (and its sampler bits) at its raise time h[c] in half periods (falling edge j is 2j + 1,
    the rising edge after it 2j + 2: a sampled TDC's columns at falling edges, an edge-capture
    TDC's also at rising ones), stops raising when arr_eval falls, clears everything at the
    precharge, and counts protocol violations (an evaluation without a precharge, arr_pre
    with arr_eval) by kind."""
    verilog = generate_verilog(TWO_STEP)
    layout = SchedulerLayout.of_ports({n: w for _, n, w in top_ports(verilog)})
    assert (layout.cols, layout.replicas, layout.fine_bits) == (12, 0, 3)
    trips = [1, 2, 3, 5, 0, 4, 1, 6, 7, 11, 8, 9]         # column 4 never trips
    fine = [(c * 5 + 1) % 8 for c in range(layout.cols)]
    fine_word = sum(f << (3 * c) for c, f in enumerate(fine))
    trip_bytes = np.array(trips, dtype="<u2").tobytes()
    idle = layout.pack(enable=True, gen=0, trips=bytes(len(trip_bytes)), fine=0)
    armed = layout.pack(enable=True, gen=1, trips=trip_bytes, fine=fine_word)
    w = layout.width
    m = "h.macro"
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, model = 1;
  reg [{w - 1}:0] sched = {w}'h{idle:x};
  always #5 clk = ~clk;
  mram_macro_tb h(.clk(clk), .rst(rst), .tb_arr_sched(sched), .arr_cmp({layout.cols}'d0),
                  .arr_fine({layout.cols * layout.fine_bits}'d0));
  always @(h.tb_arr_evals) if (model && h.tb_arr_evals == 1) sched = {w}'h{armed:x};  // model
  integer k;
  initial begin
    {m}.arr_pre = 0; {m}.arr_eval = 0;
    @(posedge clk); #1 {m}.arr_pre = 1;
    @(posedge clk); #1 {m}.arr_pre = 0; {m}.arr_eval = 1;        // this edge is E
    for (k = 1; k <= 7; k = k + 1) begin
      @(negedge clk); #1;                                 // h = 2k - 1
      $display("CMP %0d %b %b", 2 * k - 1, {m}.arr_cmp, {m}.arr_fine);
      @(posedge clk); #1;                                 // h = 2k
      $display("CMP %0d %b %b", 2 * k, {m}.arr_cmp, {m}.arr_fine);
      if (k == 4) {m}.arr_eval = 0;
      if (k == 6) {m}.arr_pre = 1;
    end
    #1 {m}.arr_pre = 0; model = 0;
    $display("OK %0d %0d", h.tb_arr_evals, h.tb_arr_violations);
    @(posedge clk); #1 {m}.arr_eval = 1;                 // precharged, never scheduled
    @(posedge clk); #1 {m}.arr_eval = 0;
    @(posedge clk); #1 {m}.arr_eval = 1;                 // no precharge since the last one
    @(posedge clk); #1 {m}.arr_eval = 0;
    @(posedge clk); #1 {m}.arr_pre = 1; {m}.arr_eval = 1; // together
    @(posedge clk); #1 {m}.arr_pre = 0; {m}.arr_eval = 0;
    @(posedge clk);
    $display("BAD %0d %b %0d", h.tb_arr_violations, h.tb_arr_violation_kinds,
             h.tb_arr_first_violation_ns);
    $finish;
  end
endmodule
"""
    got = _icarus(tmp_path, verilog, TWO_STEP, tb)
    assert [int(row[0]) for row in got["CMP"]] == list(range(1, 15))
    for h, (_, cmp, fine_bits) in enumerate(got["CMP"], start=1):
        # arr_eval fell after E + 4 (falling edge 4, h = 9, sees it: the rising edge E + 4,
        # h = 8, still raised its columns); the precharge after E + 6 (seen at h = 13)
        reach = 0 if h >= 13 else min(h, 8)
        want = [1 <= t <= reach for t in trips]
        assert cmp == "".join("1" if b else "0" for b in reversed(want)), (h, cmp)
        want_fine = sum(f << (3 * c) for c, f in enumerate(fine) if want[c])
        assert int(fine_bits, 2) == want_fine, (h, fine_bits)
    assert got["OK"] == [["1", "0"]]
    count, kinds, first_ns = got["BAD"][0]
    assert count == "2" and int(kinds, 2) == 1 | 8 | 32 and int(first_ns) > 0, got["BAD"]


def test_scheduler_entries_come_sorted_by_trip():
    """The schedule lists each tripping column once, in rising m (ties by column), so the
    harness walks it forward edge by edge; columns that never trip are left out."""
    layout = SchedulerLayout.of_ports({n: w for _, n, w in top_ports(generate_verilog(TWO_STEP))})
    trips = [3, 0, 1, 3, 2, 0, 0, 0, 0, 0, 0, 7]
    word = layout.pack(enable=True, gen=1, trips=np.array(trips, dtype="<u2").tobytes(),
                       fine=0b101)
    assert word & 3 == 3
    assert (word >> layout.count_lsb) & ((1 << layout.count_bits) - 1) == 5
    entries = [(word >> (layout.entries_lsb + i * layout.entry_bits))
               & ((1 << layout.entry_bits) - 1) for i in range(5)]
    assert [(e & 0xFFFF, e >> 16) for e in entries] == [(1, 2), (2, 4), (3, 0), (3, 3), (7, 11)]
    assert word >> layout.fine_lsb == 0b101
    assert layout.width == layout.fine_lsb + 3 * 12
    with pytest.raises(ValueError, match="trips has 4 bytes, 12 columns need 24"):
        layout.pack(enable=True, gen=0, trips=bytes(4), fine=0)


def test_harness_feeder_offers_a_batch_beat_by_beat(tmp_path):
    """The input feeder offers the beats of one write in order, holds a beat while tready is
    low, counts the batch when its last beat is taken, then lets the s_axis ports through
    again; a reset drops a loaded batch. The first batch works on a 4-state simulator although
    the feeder's input was undriven before it."""
    verilog = generate_verilog(TWO_STEP)
    dw, uw = TWO_STEP.stream_width, 4
    ew = feed_entry_bits(dw, uw)
    beats = [(0xA1, 1, 0), (0xB2, 2, 0), (0xC3, 3, 1)]
    word = sum((d | u << dw | last << (dw + uw)) << (i * ew)
               for i, (d, u, last) in enumerate(beats))
    fw = 2 + FEED_COUNT_BITS + FEED_BEATS * ew
    feed = 1 | 1 << 1 | len(beats) << 2 | word << (2 + FEED_COUNT_BITS)
    again = 1 | 0 << 1 | len(beats) << 2 | word << (2 + FEED_COUNT_BITS)
    m = "h.macro"
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1;
  reg [{fw - 1}:0] feed = {{{fw}{{1'bz}}}};   // undriven until the first batch
  always #5 clk = ~clk;
  mram_macro_tb h(.clk(clk), .rst(rst), .tb_s_feed(feed),
                  .s_axis_tvalid(1'b0), .s_axis_tdata(8'h00), .s_axis_tuser(4'h0),
                  .s_axis_tlast(1'b0));
  integer k;
  initial begin
    {m}.s_axis_tready = 0;
    @(posedge clk); #1 rst = 0;
    @(posedge clk); #2 feed = 'h{feed:x};
    for (k = 0; k < 6; k = k + 1) begin
      {m}.s_axis_tready = (k != 1);
      @(posedge clk);
      $display("BEAT %0d %b %h %h %b %b %0d", k, {m}.s_axis_tvalid, {m}.s_axis_tdata,
               {m}.s_axis_tuser, {m}.s_axis_tlast, {m}.s_axis_tready, h.tb_s_fed);
      #1;
    end
    feed = 'h{again:x};
    @(posedge clk); #1 rst = 1;
    @(posedge clk); #1 rst = 0;
    $display("RESET %b %0d", {m}.s_axis_tvalid, h.tb_s_fed);
    $finish;
  end
endmodule
"""
    got = _icarus(tmp_path, verilog, TWO_STEP, tb)
    want = [["0", "1", "a1", "1", "0", "1", "0"],     # taken
            ["1", "1", "b2", "2", "0", "0", "0"],     # stalled
            ["2", "1", "b2", "2", "0", "1", "0"],     # taken
            ["3", "1", "c3", "3", "1", "1", "0"],     # the last beat: taken, batch counted
            ["4", "0", "00", "0", "0", "1", "1"],     # the ports again
            ["5", "0", "00", "0", "0", "1", "1"]]
    assert got["BEAT"] == want, got
    assert got["RESET"] == [["0", "1"]], got


def test_cached_column_resistance_is_the_plain_sum_bit_for_bit():
    """MramArray.column_resistance_ohm (cached cell sums, one pick per row) returns exactly
    the plain per-evaluation formula, for random bypass settings (both, one or no bypass per
    row), and follows writes, in-place state changes and temperature."""
    from sim_models.array import LEFT, RIGHT, MramArray

    def plain(a, bl, br):
        r = a.mtj_resistance_ohm()
        r_on = a.device.r_bypass_on_ohm
        return (np.where(bl[:, None], r_on, r[LEFT])
                + np.where(br[:, None], r_on, r[RIGHT])).sum(axis=0)

    a = MramArray(16, 9, DeviceParams(), seed=4)
    rng = np.random.default_rng(2)
    a.load_weights(rng.random((16, 9)) < 0.5)
    for step in range(40):
        bl, br = rng.random(16) < 0.5, rng.random(16) < 0.5
        if step == 10:
            a.is_low[LEFT, 3] = ~a.is_low[LEFT, 3]       # in place
        if step == 20:
            a.set_temperature(70.0)
        if step == 30:
            a.load_weights(rng.random((16, 9)) < 0.5)
        got, want = a.column_resistance_ohm(bl, br), plain(a, bl, br)
        assert got.tobytes() == want.tobytes(), step


@pytest.mark.parametrize("config", [TWO_STEP, profile_config("full")], ids=lambda c: c.slug)
def test_ceiling_probe_keeps_the_macro_busy(tmp_path, config):
    """The simulator speed probe (mram_macro/sim/ceiling.py) builds around the generated
    macro and streams VMMs through it (result frames come out), so its clock rate is that of
    a busy macro. The default macro too: its testbench once released the reset with a
    blocking write at the clock edge, a race the event-driven netlist lost (every register
    X, no frame, and the bench printed ~0 VMM per CPU-second)."""
    import shutil

    from mram_macro.sim.ceiling import ceiling

    if shutil.which("iverilog") is None:
        pytest.skip("iverilog is not on PATH (run `make setup`)")
    result = ceiling("icarus", config, tmp_path, cycles=600)
    assert result.cycles == 600 and result.cpu_s > 0
    assert result.frames >= 600 // 60, result       # a VMM every few tens of cycles
