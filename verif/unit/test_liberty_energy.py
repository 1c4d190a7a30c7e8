"""The energy calculator (mram_macro/flow/ppa/energy.py) against hand calculations from the Liberty
tables: an inverter, two multi-arc cells (XNOR2, OAI21) and a flip-flop's clock pin.

Every number below is copied from the NanGate 45 nm Liberty file the kit fetches (sha256 checked
by tools/setup.sh), at grid points of its tables, so the arithmetic is independent of the
calculator's table look-up. Energies are in fJ (the library's capacitance unit, fF, x 1 V²).
"""

from __future__ import annotations

import pytest

from mram_macro.flow.ppa.activity import Activity
from mram_macro.flow.ppa.energy import cell_input_energy, cell_output_energy, netlist_energy
from mram_macro.flow.ppa.liberty import LibertyError, parse_liberty, read_library, when_probability
from mram_macro.flow.ppa.netlist import read_instances

SLEW0, SLEW1 = 0.00117378, 0.00472397     # the first two input-transition indices (ns)
WIRE1_fF = 0.1774 * 1.746                 # default wire load (5K_hvratio_1_1), fanout 1


@pytest.fixture(scope="module")
def lib():
    from mram_macro.flow.ppa.libraries import library

    return read_library(library("nangate45").require())


def test_library_units_and_wire_load(lib):
    assert lib.cap_unit_F == 1e-15 and lib.leakage_unit_W == 1e-9 and lib.voltage_V == 1.1
    assert lib.energy_unit_J == 1e-15
    assert lib.wire_load.cap(1) == pytest.approx(WIRE1_fF)
    # Beyond the largest fanout in the table (11: length 27.032): slope 5 per fanout.
    assert lib.wire_load.cap(13) == pytest.approx(0.1774 * (27.032 + 2 * 5.0))


def test_inverter_is_charged_the_mean_of_rise_and_fall_once(lib):
    # INV_X1 ZN <- A, table corner [0][0]: rise_power 1.846618, fall_power -0.000035.
    e = cell_output_energy(lib.cells["INV_X1"], "ZN", toggles={"A": 100}, p_one={"A": 0.5},
                           slew={"A": SLEW0}, load=0.365616)
    assert e == pytest.approx((1.846618 - 0.000035) / 2, rel=1e-9)
    # OpenSTA 2.0.17 would charge rise + fall on every transition: twice this.
    assert 2 * e == pytest.approx(1.846583, rel=1e-6)


def test_xnor2_weights_arcs_by_input_activity_and_state(lib):
    # A toggles 10, B 30 times; B is 1 a quarter of the time, A half. Load index 2 (0.813006).
    e = cell_output_energy(lib.cells["XNOR2_X1"], "ZN", toggles={"A": 10, "B": 30},
                           p_one={"A": 0.5, "B": 0.25}, slew={"A": SLEW0, "B": SLEW0},
                           load=0.813006)
    a_not_b = (3.043902 - 0.000602) / 2
    a_b = (3.734159 + 4.767305) / 2
    b_not_a = (3.809658 + 0.324365) / 2
    b_a = (3.238649 + 4.914878) / 2
    hand = 0.25 * (0.75 * a_not_b + 0.25 * a_b) + 0.75 * (0.5 * b_not_a + 0.5 * b_a)
    assert e == pytest.approx(hand, rel=1e-9)


def test_oai21_arcs_with_and_without_when(lib):
    # ZN = !((A1 | A2) & B) in NanGate's naming: related pins A (3 states of B1, B2), B1, B2.
    e = cell_output_energy(lib.cells["OAI21_X1"], "ZN", toggles={"A": 20, "B1": 10, "B2": 10},
                           p_one={"A": 0.5, "B1": 0.5, "B2": 0.5},
                           slew={"A": SLEW0, "B1": SLEW0, "B2": SLEW0}, load=0.365616)
    a = ((4.403297 + 0.687033) + (3.720172 + 0.230069) + (4.06295 + 0.231043)) / 2 / 3
    b1 = (2.562675 + 0.275894) / 2
    b2 = (3.375031 + 0.671864) / 2
    assert e == pytest.approx(0.5 * a + 0.25 * b1 + 0.25 * b2, rel=1e-9)


def test_flip_flop_clock_pin_by_state(lib):
    # DFF_X1 CK's own power groups at slew index 2 (0.00472397): QN is !Q, so the states are
    # those of (D, Q): with D at 1 half the time and Q 30 %, P = .35 .15 .35 .15.
    e = cell_input_energy(lib.cells["DFF_X1"], "CK", p_one={"D": 0.5, "Q": 0.3}, slew=SLEW1)
    hand = (0.35 * (2.424683 + 4.465589) + 0.15 * (0.0 + 7.54583)
            + 0.35 * (0.0 + 7.50466) + 0.15 * (2.610493 + 4.236623)) / 2
    assert e == pytest.approx(hand, rel=1e-9)


NETLIST = """
module t(a, b, y, z);
  input a;
  input b;
  output y;
  output z;
  wire n;
  INV_X1 u1 (.A(a), .ZN(n));
  XNOR2_X1 u2 (.A(n), .B(b), .ZN(y));
  INV_X1 u3 (.A(b), .ZN(z));
endmodule
"""


def test_netlist_energy_sums_internal_switching_and_leakage(lib, tmp_path):
    path = tmp_path / "t.v"
    path.write_text(NETLIST)
    instances = read_instances(path)
    cycles = 100
    act = Activity(toggles={"a": 40, "n": 40, "b": 20, "y": 60, "z": 20},
                   duty={"a": 0.5, "n": 0.5, "b": 0.5, "y": 0.5, "z": 0.5},
                   cycles=cycles, vmms=4, t_clk_ns=2.0)
    port = 0.0558756    # + the fanout-1 wire load = 0.365616, the first load index
    e = netlist_energy(instances, lib, act, period_ns=2.0, inputs=["a", "b"], outputs=["y", "z"],
                       output_load=port, driving_cell=("INV_X4", "ZN"), clock_nets=set(),
                       input_slew=SLEW0)
    by = {i.name: i for i in e.instances}
    v2 = 1.1 ** 2
    # Loads (fF): n drives XNOR2 pin A; z drives the port; a drives INV A, b drives two pins.
    c_n = (2.232754 + 2.125854) / 2 + WIRE1_fF
    c_z = 0.365616
    assert e.load_F["n"] == pytest.approx(c_n * 1e-15)
    assert e.load_F["z"] == pytest.approx(c_z * 1e-15)
    assert by["u3"].switching_J == pytest.approx(20 * 0.5 * c_z * 1e-15 * v2)
    # u3: input slew SLEW0, load 0.365616: the corner, as in the inverter test.
    assert by["u3"].internal_J == pytest.approx(20 * (1.846618 - 0.000035) / 2 * 1e-15)
    # Leakage: INV_X1 in state A=1 half the time: (10.102224 + 18.604146) / 2 nW, 100 cycles.
    assert by["u3"].leakage_J == pytest.approx((10.102224 + 18.604146) / 2 * 1e-9 * 100 * 2e-9)
    # The input ports' nets are charged to pseudo-instances.
    c_b = (2.573608 + 2.368165) / 2 + (1.700230 + 1.549360) / 2 + 0.1774 * 3.9394
    assert by["port:b"].switching_J == pytest.approx(20 * 0.5 * c_b * 1e-15 * v2)
    assert all(i.clock_J == 0 for i in e.instances)


def test_when_probability():
    assert when_probability(None, {}) == 1.0
    assert when_probability("A & !B", {"A": 0.5, "B": 0.25}) == pytest.approx(0.375)
    assert when_probability("!(A | B)", {"A": 0.5, "B": 0.5}) == pytest.approx(0.25)
    assert when_probability("A ^ B", {"A": 1.0, "B": 0.0}) == pytest.approx(1.0)
    assert when_probability("A B'", {"A": 1.0, "B": 0.0}) == pytest.approx(1.0)
    with pytest.raises(LibertyError, match="cannot read when"):
        when_probability("A & & B", {})


def test_malformed_liberty_is_refused_with_its_line():
    with pytest.raises(LibertyError, match="line 3"):
        parse_liberty("library (x) {\n  cell (A) {\n    area : 1 ;; @@\n  }\n}\n")
    with pytest.raises(LibertyError, match="ends inside the group 'cell'"):
        parse_liberty("library (x) {\n  cell (A) {\n    area : 1;\n")
    with pytest.raises(FileNotFoundError, match="make setup"):
        read_library("/nonexistent/x.lib")
