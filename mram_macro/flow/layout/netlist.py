"""The netlist that is placed and routed, and the names it goes by in each tool.

The flat, hold-fixed netlist of :func:`mram_macro.flow.ppa.flow.flat_netlist` names its nets as
Yosys does (``\\tdc.codes [3]``, ``\\$19``) and carries ``assign`` aliases (``arr_eval =
hold_fix_n1711``). A layout needs one name per wire, and the qflow tools (``blif2cel.tcl``,
GrayWolf, qrouter) and the SPEF extractor choke on ``$`` and ``.``. So:

1. Yosys (``opt_clean -purge``) keeps one name per wire (a port's, where the wire reaches one);
   the few output ports that are copies of another port get a buffer (``insbuf``) and constant
   outputs a tie cell (``hilomap``), so every port is a pin of some cell;
2. every net gets a *physical* name: a port bit keeps its name (``arr_cmp[3]``), any other net
   its Yosys name with every character outside ``[A-Za-z0-9_]`` replaced by ``_`` (made unique
   with a suffix). Instance names (``_8075_``, ``ctree_buf_3``) are kept;
3. the placed netlist is written as BLIF for ``blif2cel.tcl`` (which names instances
   ``<cell>_<k>``, the k-th ``.gate`` of that cell: :attr:`PhysicalNetlist.cel_names` maps them
   back) and as Verilog for OpenSTA (the SPEF's names are this netlist's).

:meth:`PhysicalNetlist.flat_nets` maps a physical net back to the flat netlist's names (through
the instance pins it reaches), which is how wire capacitance from the SPEF reaches the energy
calculator (:mod:`mram_macro.flow.ppa.energy`), whose activity is keyed by the flat names.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from mram_macro.flow.ppa.libraries import StdCellLibrary
from mram_macro.flow.ppa.netlist import Instance, read_instances
from mram_macro.flow.ppa.sta import Port, read_ports

__all__ = ["LayoutError", "PhysicalNetlist", "physical_netlist", "port_bit_names"]


class LayoutError(RuntimeError):
    """A step of the layout flow failed; the message names the tool, command and log."""


def port_bit_names(port: Port) -> list[str]:
    """``arr_cmp[0]`` ... of a bus port, the name of a scalar one."""
    return [f"{port.name}[{i}]" for i in range(port.width)] if port.width > 1 else [port.name]


_SAFE = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class PhysicalNetlist:
    """The netlist as placed: instances with physical net names, its ports, and the maps to
    the flat netlist's names."""

    top: str
    instances: tuple[Instance, ...]
    ports: tuple[Port, ...]
    #: physical net -> the flat netlist's names of the same wire (those seen at its pins).
    flat_names: dict[str, tuple[str, ...]] = field(repr=False)

    @property
    def port_bits(self) -> list[str]:
        return [b for p in self.ports for b in port_bit_names(p)]

    @property
    def nets(self) -> set[str]:
        return {n for i in self.instances for n in i.pins.values()} | set(self.port_bits)

    @property
    def cel_names(self) -> dict[str, str]:
        """``<cell>_<k>`` (the name ``blif2cel.tcl`` gives the k-th ``.gate`` of a cell, k
        from 1, in :meth:`write_blif`'s order) -> instance name."""
        count: dict[str, int] = defaultdict(int)
        out = {}
        for inst in self.instances:
            count[inst.cell] += 1
            out[f"{inst.cell}_{count[inst.cell]}"] = inst.name
        return out

    def flat_nets(self, net: str) -> tuple[str, ...]:
        return self.flat_names.get(net, ())

    def write_blif(self, path: Path, outputs: dict[str, list[str]]) -> Path:
        """BLIF of ``.gate`` lines for ``blif2cel.tcl`` (``outputs``: output pins per cell,
        listed last as Yosys does)."""
        ins = [b for p in self.ports if p.direction == "input" for b in port_bit_names(p)]
        outs = [b for p in self.ports if p.direction == "output" for b in port_bit_names(p)]
        lines = [f".model {self.top}", ".inputs " + " ".join(ins), ".outputs " + " ".join(outs)]
        for inst in self.instances:
            pins = sorted(inst.pins.items(), key=lambda kv: kv[0] in outputs.get(inst.cell, ()))
            lines.append(f".gate {inst.cell} " + " ".join(f"{p}={n}" for p, n in pins))
        lines.append(".end")
        path.write_text("\n".join(lines) + "\n")
        return path

    def write_verilog(self, path: Path) -> Path:
        """Structural Verilog with the physical names (what OpenSTA links with the SPEF)."""
        def ident(net: str) -> str:
            return net   # port bits keep "name[i]" (a bit select); others are plain identifiers

        decl = []
        for p in self.ports:
            rng = f"[{p.width - 1}:0] " if p.width > 1 else ""
            decl.append(f"  {p.direction} {rng}{p.name};")
        ports = set(self.port_bits)
        wires = sorted(self.nets - ports)
        decl += [f"  wire {w};" for w in wires]
        body = []
        for inst in self.instances:
            conns = ", ".join(f".{p}({ident(n)})" for p, n in inst.pins.items())
            body.append(f"  {inst.cell} {inst.name} ({conns});")
        text = "\n".join([f"module {self.top} ({', '.join(p.name for p in self.ports)});",
                          *decl, *body, "endmodule", ""])
        path.write_text(text)
        return path


def _yosys_purge(flat: Path, lib: StdCellLibrary, out: Path, top: str) -> Path:
    buf, buf_in, buf_out = lib.hold_buffer
    script = "\n".join([
        f"read_liberty -lib {lib.require()}",
        f"read_verilog {flat.resolve()}",
        f"hierarchy -top {top}",
        "opt_clean -purge",
        f"hilomap -singleton -hicell {lib.tie_hi[0]} {lib.tie_hi[1]} "
        f"-locell {lib.tie_lo[0]} {lib.tie_lo[1]}",
        f"insbuf -buf {buf} {buf_in} {buf_out}",
        "opt_clean -purge",
        f"write_verilog -noattr -noexpr {out.resolve()}",
        ""])
    ys = out.with_suffix(".ys")
    ys.write_text(script)
    log = out.with_suffix(".log")
    r = subprocess.run(["yosys", "-q", "-l", str(log), str(ys)], capture_output=True, text=True)
    if r.returncode != 0:
        raise LayoutError(f"yosys {ys} failed (exit {r.returncode}): "
                          f"{(r.stderr or r.stdout).strip()[-500:]} (log {log})")
    text = out.read_text()
    if re.search(r"^\s*assign\b", text, re.M):
        raise LayoutError(f"{out}: the purged netlist still has assign statements")
    return out


def physical_netlist(flat: Path, lib: StdCellLibrary, workdir: Path, *,
                     top: str = "mram_macro") -> PhysicalNetlist:
    """The netlist to place, from the flat netlist ``flat`` (see the module docstring)."""
    workdir.mkdir(parents=True, exist_ok=True)
    purged = _yosys_purge(flat, lib, workdir / "purged.v", top)
    original = {i.name: i for i in read_instances(flat)}
    ports = read_ports(purged)
    bits = {b for p in ports for b in port_bit_names(p)}
    rename: dict[str, str] = {b: b for b in bits}
    taken = set(bits)
    instances = []
    flat_names: dict[str, set[str]] = defaultdict(set)
    for inst in read_instances(purged):
        pins = {}
        for pin, net in inst.pins.items():
            if not net:
                continue          # an unconnected output (a flip-flop's unused QN)
            if net.startswith(("1'", "0'")) or "'" in net:
                raise LayoutError(f"{purged}: constant {net!r} on {inst.name}.{pin}")
            phys = rename.get(net)
            if phys is None:
                phys = base = _SAFE.sub("_", net)
                k = 1
                while phys in taken:
                    phys, k = f"{base}_{k}", k + 1
                rename[net] = phys
                taken.add(phys)
            pins[pin] = phys
            before = original.get(inst.name)
            if before is not None and before.pins.get(pin):
                flat_names[phys].add(before.pins[pin])
        instances.append(Instance(inst.name, inst.cell, pins))
    for b in bits:
        flat_names[b].add(b)
    return PhysicalNetlist(top=top, instances=tuple(instances), ports=ports,
                           flat_names={k: tuple(sorted(v)) for k, v in flat_names.items()})
