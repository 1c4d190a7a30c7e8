// Self-checking smoke test of hdl/mram_macro.v in plain Verilog-2005, for any simulator
// (the FuseSoC `sim` target runs it on Icarus). No cocotb, no Python.
//
// It programs random ±1 weights into every row through AXI4-Lite (write-verify off), streams
// NVEC random ±1 input vectors, and checks every result against sum_r x_r * w_rc. The kit's
// behavioural array, hdl/mram_array_model.v (mram_macro/rtl/array_model.py), stands in for the
// analogue crossbar, following the pin contract of the datasheet (docs/datasheet.md, "Array
// pin timing"); its START_DELAY must equal TDC_START_DELAY (both default to the reset value,
// and the test checks). With the two-step TDC (the default,
// FINE_TAPS = K phases) a column with k mismatching cells is first seen high at edge
// E + D + 1 + k / K (integer division) and holds K - 1 - (k mod K) ones, the low bits, on its
// K - 1 bits of arr_fine, so that coarse K + FINE_TABLE[ones] (ideal table) is k. With the
// counter TDC (define MRAM_COUNTER_TDC and set FINE_TAPS = 1: the macro has no arr_fine) it
// is seen at E + D + 1 + k. It also checks the ID, the geometry against the parameters below,
// and the signed CAL_OFFSET write rules.
//
// Parameters must match the generated configuration (hdl/config.json); the test reads
// GEOMETRY and WIDTHS and stops if they do not. Prints "PASS" on success; $stop otherwise.
`timescale 1ns/1ps

module mram_macro_tb;
  parameter ROWS = 64;
  parameter COLS = 64;
  parameter RESULT_WIDTH = 8;
  parameter STREAM_WIDTH = 64;
  parameter FINE_TAPS = 8;            // the default's automatic phases; 1 for the counter TDC
  parameter NVEC = 8;
  parameter SEED = 1;

  localparam IN_BEATS = (ROWS + STREAM_WIDTH - 1) / STREAM_WIDTH;
  localparam OUT_BEATS = (COLS * RESULT_WIDTH + STREAM_WIDTH - 1) / STREAM_WIDTH;
  localparam WEIGHT_WORDS = (COLS + 31) / 32;

  // Register offsets (hdl/mram_macro_regs.h).
  localparam ID = 12'h000, GEOMETRY = 12'h004, WIDTHS = 12'h008, CTRL = 12'h00C,
             STATUS = 12'h010, TDC_START_DELAY = 12'h018, WRITE_ROW_ADDR = 12'h020,
             VMM_COUNT = 12'h024, WV_CTRL = 12'h030, WEIGHT_DATA = 12'h040,
             CAL_OFFSET = 12'h400;

  reg clk = 1'b0;
  reg rst = 1'b1;
  always #2.5 clk = ~clk;

  // AXI4-Lite master signals
  reg [11:0] awaddr = 0, araddr = 0;
  reg awvalid = 0, wvalid = 0, bready = 0, arvalid = 0, rready = 0;
  reg [31:0] wdata = 0;
  wire awready, wready, bvalid, arready, rvalid;
  wire [1:0] bresp, rresp;
  wire [31:0] rdata;
  // streams
  reg [STREAM_WIDTH-1:0] s_tdata = 0;
  reg s_tvalid = 0, s_tlast = 0;
  wire s_tready;
  wire [STREAM_WIDTH-1:0] m_tdata;
  wire m_tvalid, m_tlast;
  wire [0:0] m_tuser;
  // array pins
  wire [ROWS-1:0] bypass_l, bypass_r, wr_row;
  wire [COLS-1:0] wr_data;
  wire pre, eval_, tdc_en, wr_side, wr_pulse;
  wire [COLS-1:0] cmp;
  wire [COLS*(FINE_TAPS > 1 ? FINE_TAPS - 1 : 1)-1:0] fine;

  mram_macro dut (
    .clk(clk), .rst(rst),
    .s_axil_awaddr(awaddr), .s_axil_awprot(3'd0), .s_axil_awvalid(awvalid),
    .s_axil_awready(awready), .s_axil_wdata(wdata), .s_axil_wstrb(4'hF),
    .s_axil_wvalid(wvalid), .s_axil_wready(wready), .s_axil_bresp(bresp),
    .s_axil_bvalid(bvalid), .s_axil_bready(bready), .s_axil_araddr(araddr),
    .s_axil_arprot(3'd0), .s_axil_arvalid(arvalid), .s_axil_arready(arready),
    .s_axil_rdata(rdata), .s_axil_rresp(rresp), .s_axil_rvalid(rvalid),
    .s_axil_rready(rready),
    .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
    .s_axis_tlast(s_tlast), .s_axis_tuser(4'd0),
    .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(1'b1),
    .m_axis_tlast(m_tlast), .m_axis_tuser(m_tuser),
    .arr_bypass_l(bypass_l), .arr_bypass_r(bypass_r), .arr_pre(pre), .arr_eval(eval_),
    .arr_tdc_en(tdc_en),
`ifndef MRAM_COUNTER_TDC
    .arr_fine(fine),
`endif
    .arr_cmp(cmp), .arr_wr_row(wr_row), .arr_wr_side(wr_side), .arr_wr_data(wr_data),
    .arr_wr_pulse(wr_pulse)
  );

  // ---- the analogue array: the kit's behavioural stand-in (hdl/mram_array_model.v) -------
  integer start_delay;                   // TDC_START_DELAY, read from the macro
  integer r, c;                          // loop variables of the test

  mram_array_model array (
    .clk(clk), .arr_bypass_l(bypass_l), .arr_bypass_r(bypass_r), .arr_pre(pre),
    .arr_eval(eval_), .arr_tdc_en(tdc_en), .arr_cmp(cmp),
`ifndef MRAM_COUNTER_TDC
    .arr_fine(fine),
`endif
    .arr_wr_row(wr_row), .arr_wr_side(wr_side), .arr_wr_data(wr_data), .arr_wr_pulse(wr_pulse)
  );

  // ---- AXI4-Lite tasks ------------------------------------------------------------------
  task axil_write(input [11:0] addr, input [31:0] data, output [1:0] resp);
    reg aw_done, w_done;
    begin
      @(negedge clk);
      awaddr = addr; wdata = data; awvalid = 1; wvalid = 1; bready = 1;
      aw_done = 0; w_done = 0;
      while (!(aw_done && w_done)) begin
        @(posedge clk);
        if (awready && awvalid) aw_done = 1;
        if (wready && wvalid) w_done = 1;
        @(negedge clk);
        if (aw_done) awvalid = 0;
        if (w_done) wvalid = 0;
      end
      while (!bvalid) @(negedge clk);
      resp = bresp;
      @(posedge clk);
      @(negedge clk) bready = 0;
    end
  endtask

  task axil_read(input [11:0] addr, output [31:0] data);
    begin
      @(negedge clk);
      araddr = addr; arvalid = 1; rready = 1;
      @(posedge clk);
      while (!arready) @(posedge clk);
      @(negedge clk) arvalid = 0;
      while (!rvalid) @(negedge clk);
      data = rdata;
      @(posedge clk);
      @(negedge clk) rready = 0;
    end
  endtask

  integer errors = 0;
  task expect_equal(input [255:0] what, input [31:0] got, input [31:0] want);
    if (got !== want) begin
      $display("FAIL %0s: got 0x%08x, want 0x%08x", what, got, want);
      errors = errors + 1;
    end
  endtask

  task write_ok(input [11:0] addr, input [31:0] data);
    reg [1:0] resp;
    begin
      axil_write(addr, data, resp);
      expect_equal("write response", resp, 2'd0);
    end
  endtask

  // ---- test ------------------------------------------------------------------------------
  reg [COLS-1:0] weights [0:ROWS-1];
  reg [ROWS-1:0] x [0:NVEC-1];
  reg [31:0] word;
  reg [1:0] resp;
  reg [STREAM_WIDTH*OUT_BEATS-1:0] result_bits;
  integer seed, v, i, beat, want, got;

  initial begin
    seed = SEED;
    for (r = 0; r < ROWS; r = r + 1)
      for (i = 0; i < WEIGHT_WORDS; i = i + 1)
        weights[r][i * 32 +: 32] = $random(seed);
    for (v = 0; v < NVEC; v = v + 1)
      for (i = 0; i < ROWS; i = i + 32) x[v][i +: 32] = $random(seed);
    repeat (4) @(posedge clk);
    @(negedge clk) rst = 0;

    axil_read(ID, word);            expect_equal("ID", word, 32'h4D52414D);
    axil_read(GEOMETRY, word);      expect_equal("GEOMETRY", word, (COLS << 16) | ROWS);
    axil_read(WIDTHS, word);
    expect_equal("WIDTHS.RESULT_WIDTH/STREAM_WIDTH", word >> 8,
                 (STREAM_WIDTH << 8) | RESULT_WIDTH);
    if (errors) begin
      $display("FAIL: the testbench parameters do not match the generated macro");
      $stop;
    end
    axil_read(TDC_START_DELAY, word);
    start_delay = word;
    expect_equal("TDC_START_DELAY = model's", start_delay,
                 array.START_DELAY);

    // Signed CAL_OFFSET: sign-extended words only.
    write_ok(CAL_OFFSET + 4 * 3, 32'hFFFFFFFD);
    axil_read(CAL_OFFSET + 4 * 3, word);  expect_equal("CAL_OFFSET3 = -3", word, 32'hFFFFFFFD);
    axil_write(CAL_OFFSET + 4 * 3, 32'h0000FFFD, resp);
    expect_equal("16-bit pattern refused (SLVERR)", resp, 2'd2);
    write_ok(CAL_OFFSET + 4 * 3, ROWS);   // back to the reset value

    // Weights, row by row, without write-verify (this array model has no single-MTJ read).
    write_ok(WV_CTRL, 32'h0000_0302);     // ENABLE 0, PULSE_DOUBLING 1, MAX_RETRIES 3
    for (r = 0; r < ROWS; r = r + 1) begin
      for (i = 0; i < WEIGHT_WORDS; i = i + 1) begin
        word = 0;
        for (c = i * 32; c < COLS && c < i * 32 + 32; c = c + 1) word[c - i * 32] = weights[r][c];
        write_ok(WEIGHT_DATA + 4 * i, word);
      end
      write_ok(WRITE_ROW_ADDR, r);
      write_ok(CTRL, 1);
      word = 32'h2;
      while (word & 32'h2) axil_read(STATUS, word);   // WRITE_BUSY
    end

    // Vectors: stream in, collect the result, compare with sum_r x_r * w_rc.
    for (v = 0; v < NVEC; v = v + 1) begin
      for (beat = 0; beat < IN_BEATS; beat = beat + 1) begin
        @(negedge clk);
        s_tdata = 0;
        for (i = 0; i < STREAM_WIDTH && beat * STREAM_WIDTH + i < ROWS; i = i + 1)
          s_tdata[i] = x[v][beat * STREAM_WIDTH + i];
        s_tlast = (beat == IN_BEATS - 1);
        s_tvalid = 1;
        @(posedge clk);
        while (!s_tready) @(posedge clk);
      end
      @(negedge clk) s_tvalid = 0;
      for (beat = 0; beat < OUT_BEATS; beat = beat + 1) begin
        @(posedge clk);
        while (!m_tvalid) @(posedge clk);
        result_bits[beat * STREAM_WIDTH +: STREAM_WIDTH] = m_tdata;
        if (m_tlast != (beat == OUT_BEATS - 1)) begin
          $display("FAIL vector %0d: tlast on beat %0d", v, beat);
          errors = errors + 1;
        end
      end
      for (c = 0; c < COLS; c = c + 1) begin
        want = 0;
        for (r = 0; r < ROWS; r = r + 1)
          want = want + ((x[v][r] == weights[r][c]) ? 1 : -1);
        got = result_bits[c * RESULT_WIDTH +: RESULT_WIDTH];
        if (got >= (1 << (RESULT_WIDTH - 1))) got = got - (1 << RESULT_WIDTH);
        if (got != want) begin
          $display("FAIL vector %0d column %0d: got %0d, want %0d", v, c, got, want);
          errors = errors + 1;
        end
      end
    end
    axil_read(VMM_COUNT, word);  expect_equal("VMM_COUNT", word, NVEC);

    if (errors == 0)
      $display("PASS: %0d vectors x %0d columns checked, %0d rows written", NVEC, COLS, ROWS);
    else begin
      $display("FAIL: %0d error(s)", errors);
      $stop;
    end
    $finish;
  end

  initial begin
    #5_000_000;
    $display("FAIL: timeout");
    $stop;
  end
endmodule
