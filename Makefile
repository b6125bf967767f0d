# Ballast: the two commands of the README, and their helpers.
# Every target sets up the virtual environment first (pinned packages; no compiler download:
# Vyper 0.4.3 comes from pip, Solidity from npm's solc-js through the shims of `.solc/`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# ape-vyper finds the pip-installed compiler with `which vyper`: the venv must be on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# ape-solidity (py-solc-x) finds `solc-vX.Y.Z` here and never downloads one: each is a shim over
# the npm alias solcXXYY of package.json (scripts/solc/shim.js). Morpho Blue pins 0.8.19 exactly;
# OpenZeppelin 5.0.2 (the supply vault's ERC4626) needs >= 0.8.20.
SOLC_DIR := $(CURDIR)/.solc
SOLC_VERSIONS := 0.8.19 0.8.20
SOLC_SHIMS := $(foreach v,$(SOLC_VERSIONS),$(SOLC_DIR)/solc-v$(v))
export SOLCX_BINARY_PATH := $(SOLC_DIR)

.PHONY: setup demo test lint fuzz backtest bench peers clean mutate forecast solc compile node node-stop dashboard frontier

setup: $(STAMP)

## The Solidity compilers ape uses (npm solc-js behind a shim; node_modules first).
solc: $(SOLC_SHIMS)

$(SOLC_DIR)/solc-v%: scripts/solc/shim.js node_modules/.bin/anvil
	@mkdir -p $(SOLC_DIR)
	@test -f node_modules/solc$(subst .,,$*)/soljson.js || { echo "npm alias solc$(subst .,,$*) missing from package.json"; exit 1; }
	printf '#!/bin/sh\nexec node "%s" "%s" "$$@"\n' "$(CURDIR)/scripts/solc/shim.js" "$(CURDIR)/node_modules/solc$(subst .,,$*)" > $@
	chmod +x $@

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Vyper and Solidity side by side (a bare `ape compile` needs SOLCX_BINARY_PATH=.solc, as here).
compile: setup solc
	$(BIN)/ape compile

## The main job: the end-to-end demo on ape's embedded local chain.
demo: setup solc
	$(BIN)/ape run demo

## The whole test suite (unit, adversarial, stateful fuzz CI profile, backtester, keeper bot on anvil).
test: setup solc
	$(BIN)/ape test tests -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff format --check ballast scripts tests bots
	$(BIN)/ruff check ballast scripts tests bots

## The long fuzz profile (hours); see tests/stateful/README.md.
fuzz: setup
	BALLAST_FUZZ_PROFILE=long $(BIN)/pytest tests/stateful -q -p no:cacheprovider -p no:ape_test -s

## Gas and throughput benchmark on anvil (npm's @foundry-rs/anvil); writes BENCHMARKS.md.
bench: setup solc
	$(BIN)/ape run bench --network ethereum:local:foundry

## Ballast against Set Protocol v2 and Balancer V2 on the same chain and price moves.
peers: setup solc
	$(BIN)/ape run peers

## A persistent anvil on 127.0.0.1:8545 with the demo's market and vault (deployments/local.json);
## then `ape run vault|keeper|deploy ... --network ethereum:local:foundry`. `make node-stop` stops it.
node: setup solc
	$(BIN)/ape run node start

node-stop: setup
	$(BIN)/ape run node stop

## The depositors' page (ballast/dashboard/) for the node's vault, at http://127.0.0.1:8000 (make node first;
## ARGS="--port 8001" or "--vault 0x..."). Ctrl-C stops it.
dashboard: setup solc
	$(BIN)/ape run dashboard --network ethereum:local:foundry $(ARGS)

node_modules/.bin/anvil: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

backtest: setup
	$(BIN)/python -m ballast.backtest

## The cost / tracking-error envelope, searched on 810 policies, scored on held-out paths; tables and
## docs/frontier.png (Dask LocalCluster; ARGS="--scheduler tcp://host:8786" for a cluster; ~20 min on 2 loaded cores).
frontier: setup
	$(BIN)/python -m ballast.frontier $(ARGS)

## Volatility forecasts: the scoreboard and the walk-forward policy table (about a minute).
forecast: setup
	$(BIN)/python -m ballast.forecast $(ARGS)

## Mutation testing (not part of `make test`; hours): single-change mutants of the vault against
## the suites that cover them; writes MUTATION.md. Options: make mutate ARGS="--only NAME --list".
mutate: setup
	$(BIN)/python -m ballast.mutate $(ARGS)

clean:
	rm -rf $(VENV) .build .hypothesis .solc
