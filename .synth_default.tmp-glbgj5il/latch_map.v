module \$_DLATCH_P_ (E, D, Q);
  input E, D;
  output Q;
  LATCH _TECHMAP_REPLACE_ (.D(D), .CLK(E), .Q(Q));
endmodule
module \$_DLATCH_N_ (E, D, Q);
  input E, D;
  output Q;
  wire e_n;
  INVX1 inv (.A(E), .Y(e_n));
  LATCH _TECHMAP_REPLACE_ (.D(D), .CLK(e_n), .Q(Q));
endmodule
