# Ballast: the two commands of the README, and their helpers.
# Every target sets up the virtual environment first (pinned packages; no compiler download:
# Vyper 0.4.3 comes from pip).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# ape-vyper finds the pip-installed compiler with `which vyper`: the venv must be on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup demo test lint fuzz backtest bench peers clean mutate node node-stop

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The main job: the end-to-end demo on ape's embedded local chain.
demo: setup node_modules/.bin/anvil
	$(BIN)/ape run demo

## The whole test suite (unit, adversarial, stateful fuzz CI profile, backtester, keeper bot on anvil).
test: setup node_modules/.bin/anvil
	$(BIN)/ape test tests -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff format --check ballast scripts tests bots
	$(BIN)/ruff check ballast scripts tests bots

## The long fuzz profile (hours); see tests/stateful/README.md.
fuzz: setup
	BALLAST_FUZZ_PROFILE=long $(BIN)/pytest tests/stateful -q -p no:cacheprovider -p no:ape_test -s

## Gas and throughput benchmark on anvil (npm's @foundry-rs/anvil); writes BENCHMARKS.md.
bench: setup node_modules/.bin/anvil
	$(BIN)/ape run bench --network ethereum:local:foundry

## Ballast against Set Protocol v2 and Balancer V2 on the same chain and price moves.
peers: setup node_modules/.bin/anvil
	$(BIN)/ape run peers

## A persistent anvil on 127.0.0.1:8545 with the demo's market and vault (deployments/local.json);
## then `ape run vault|keeper|deploy ... --network ethereum:local:foundry`. `make node-stop` stops it.
node: setup node_modules/.bin/anvil
	$(BIN)/ape run node start

node-stop: setup
	$(BIN)/ape run node stop

node_modules/.bin/anvil: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

backtest: setup
	$(BIN)/python -m ballast.backtest

## Mutation testing (not part of `make test`; hours): single-change mutants of the vault against
## the suites that cover them; writes MUTATION.md. Options: make mutate ARGS="--only NAME --list".
mutate: setup
	$(BIN)/python -m ballast.mutate $(ARGS)

clean:
	rm -rf $(VENV) .build .hypothesis
