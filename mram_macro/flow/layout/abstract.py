"""The macro's abstract for an SoC flow: a LEF macro (the outline of periphery + array, the
ports to the integrator as pins where the layout put them, everything inside an obstruction
on the routing layers used) and a Liberty timing model of those ports (setup and hold of each
input against ``clk``, clock-to-output of each output), both measured on the routed design by
OpenSTA with the SPEF.

The installed OpenSTA (2.0.17) has no ``write_timing_model``; the model is written here from
OpenSTA's own path reports: per input bit, with an input delay of 0, setup = period - setup
slack and hold = - hold slack; per output bit, with an output delay of 0, the latest arrival
is period - setup slack and the earliest the hold slack. Each bus takes its worst bit. The
clock uncertainty of sign-off is left out of the model (the integrator adds their own).
"""

from __future__ import annotations

import re
from pathlib import Path

from mram_macro.flow.layout.netlist import LayoutError, port_bit_names
from mram_macro.flow.layout.pnr import ARRAY_PORT_PREFIX
from mram_macro.flow.layout.spef import DefDesign
from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.sta import Port, design_tcl, read_ports, run_tcl, signoff_setup

__all__ = ["write_lef", "write_liberty", "port_timing", "integrator_ports"]

PIN_LAYER = "metal2"
PIN_HALF_UM = 0.035


def integrator_ports(ports: tuple[Port, ...]) -> list[Port]:
    """The ports an SoC sees: all but those to the array (``arr_*``, inside the macro)."""
    return [p for p in ports if not p.name.startswith(ARRAY_PORT_PREFIX)]


def write_lef(path: Path, design: DefDesign, ports: tuple[Port, ...], plan: dict, *,
              name: str, route_layers: int) -> Path:
    """A LEF ``MACRO`` of the outline in ``plan`` with a pin for every integrator port bit at
    its place in ``design`` (origin moved to the outline's lower left corner)."""
    x0, y0, x1, y1 = plan["outline_um"]
    lines = ["VERSION 5.7 ;", 'BUSBITCHARS "[]" ;', 'DIVIDERCHAR "/" ;', "",
             f"MACRO {name}", "  CLASS BLOCK ;", f"  FOREIGN {name} 0 0 ;", "  ORIGIN 0 0 ;",
             f"  SIZE {x1 - x0:.3f} BY {y1 - y0:.3f} ;"]
    for port in integrator_ports(ports):
        for bit in port_bit_names(port):
            if bit not in design.pins:
                raise LayoutError(f"port {bit!r} has no pin in the placed DEF")
            px, py = design.pins[bit]
            px, py = px - x0, py - y0
            direction = "INPUT" if port.direction == "input" else "OUTPUT"
            use = "CLOCK" if port.name == "clk" else "SIGNAL"
            lines += [f"  PIN {bit}", f"    DIRECTION {direction} ;", f"    USE {use} ;",
                      "    PORT", f"      LAYER {PIN_LAYER} ;",
                      f"        RECT {max(px - PIN_HALF_UM, 0):.3f} {max(py, 0):.3f} "
                      f"{px + PIN_HALF_UM:.3f} {py + 2 * PIN_HALF_UM:.3f} ;",
                      "    END", f"  END {bit}"]
    lines.append("  OBS")
    for k in range(1, route_layers + 1):
        lines += [f"    LAYER metal{k} ;", f"      RECT 0 0.140 {x1 - x0:.3f} {y1 - y0:.3f} ;"]
    lines += ["  END", f"END {name}", "", "END LIBRARY", ""]
    path.write_text("\n".join(lines))
    return path


_LINE = re.compile(r"^@@(\w+)\s+(\S+)\s+(\S+)\s+(\S+)$", re.M)


def port_timing(netlist: Path, top: str, lib: StdCellLibrary, spef: Path | None,
                workdir: Path) -> dict[str, dict[str, float]]:
    """Per integrator port bit: ``setup``/``hold`` (inputs) or ``max``/``min`` clock-to-output
    (outputs), ns, from OpenSTA on ``netlist`` with ``spef`` (see the module docstring)."""
    period = lib.target_period_ns
    workdir.mkdir(parents=True, exist_ok=True)
    setup = signoff_setup(netlist, lib, period)
    ports = [p for p in integrator_ports(setup.ports) if p.name != "clk"]
    tcl = [*design_tcl(netlist, top, lib, period, [], spef), "set_clock_uncertainty 0 [all_clocks]"]
    for p in ports:
        for bit in port_bit_names(p):
            obj = f"[get_ports {{{bit}}}]"
            if p.direction == "input":
                tcl += [f"set_input_delay 0 -clock clk {obj}"]
            else:
                tcl += [f"set_output_delay 0 -clock clk {obj}"]
    tcl += ["proc worst {kind obj} {",
            "  set paths [find_timing_paths -path_delay $kind {*}$obj -group_count 1]",
            "  if {[llength $paths] == 0} { return NA }",
            "  return [sta::format_time [[lindex $paths 0] slack] 6]", "}"]
    for p in ports:
        for bit in port_bit_names(p):
            side = "-from" if p.direction == "input" else "-to"
            obj = f"[list {side} [get_ports {{{bit}}}]]"
            tcl += [f'puts "@@{p.direction} {bit} [worst max {obj}] [worst min {obj}]"']
    text = run_tcl("\n".join(tcl) + "\n", workdir, "port_timing")
    out: dict[str, dict[str, float]] = {}
    for direction, bit, smax, smin in _LINE.findall(text):
        if smax == "NA" or smin == "NA":
            continue
        smax_f, smin_f = float(smax), float(smin)
        if direction == "input":
            out[bit] = {"setup": period - smax_f, "hold": -smin_f}
        else:
            out[bit] = {"max": period - smax_f, "min": smin_f}
    if not out:
        raise LayoutError(f"no port timing in OpenSTA's output (log {workdir / 'port_timing.log'})")
    return out


def write_liberty(path: Path, timing: dict[str, dict[str, float]], ports: tuple[Port, ...],
                  lib: StdCellLibrary, *, name: str, area_um2: float,
                  clk_cap_pf: float = 0.0) -> Path:
    """A Liberty cell ``name`` with a scalar setup/hold per input bus and a clock-to-output
    delay per output bus (the worst bit), in ns."""
    unit = "1pf" if lib.cap_unit_F == 1e-12 else "1ff"
    lines = [f"library ({name}_lib) {{", "  delay_model : table_lookup ;",
             '  time_unit : "1ns" ;', '  voltage_unit : "1V" ;', '  current_unit : "1mA" ;',
             f"  capacitive_load_unit (1, {unit[1:]}) ;", f"  nom_voltage : {lib.vdd_V} ;",
             "  nom_temperature : 25 ;", "  nom_process : 1 ;",
             "  slew_lower_threshold_pct_rise : 30 ;", "  slew_upper_threshold_pct_rise : 70 ;",
             "  slew_lower_threshold_pct_fall : 30 ;", "  slew_upper_threshold_pct_fall : 70 ;",
             "  input_threshold_pct_rise : 50 ;", "  input_threshold_pct_fall : 50 ;",
             "  output_threshold_pct_rise : 50 ;", "  output_threshold_pct_fall : 50 ;",
             f"  cell ({name}) {{", f"    area : {area_um2:.1f} ;", "    dont_touch : true ;",
             "    pin (clk) {", "      direction : input ;", "      clock : true ;",
             f"      capacitance : {clk_cap_pf:g} ;", "    }"]

    def scalar(kind: str, value: float) -> list[str]:
        return [f"        {kind} (scalar) {{ values (\"{value:.4f}\") ; }}"]

    for p in integrator_ports(ports):
        if p.name == "clk":
            continue
        bits = [timing[b] for b in port_bit_names(p) if b in timing]
        bus = p.width > 1
        head = (f"    bus ({p.name}) {{", f"      bus_type : {p.name}_t ;") if bus else \
            (f"    pin ({p.name}) {{",)
        lines += [*head, f"      direction : {p.direction} ;"]
        if not bits:
            lines += ["    }"]
            continue
        if p.direction == "input":
            s = max(b["setup"] for b in bits)
            h = max(b["hold"] for b in bits)
            for ttype, v in (("setup_rising", s), ("hold_rising", h)):
                lines += ["      timing () {", "        related_pin : clk ;",
                          f"        timing_type : {ttype} ;",
                          *scalar("rise_constraint", v), *scalar("fall_constraint", v),
                          "      }"]
        else:
            mx = max(b["max"] for b in bits)
            lines += ["      timing () {", "        related_pin : clk ;",
                      "        timing_type : rising_edge ;",
                      *scalar("cell_rise", mx), *scalar("cell_fall", mx),
                      *scalar("rise_transition", 0.05), *scalar("fall_transition", 0.05),
                      "      }"]
        lines += ["    }"]
    lines += ["  }", "}", ""]
    types = []
    for p in integrator_ports(ports):
        if p.width > 1:
            types += [f"  type ({p.name}_t) {{", "    base_type : array ;",
                      "    data_type : bit ;", f"    bit_width : {p.width} ;",
                      f"    bit_from : {p.width - 1} ;", "    bit_to : 0 ;",
                      "    downto : true ;", "  }"]
    lines[17:17] = types
    path.write_text("\n".join(lines))
    return path


__all__ += ["read_ports"]
