# The appliance's everyday commands. `make` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test test-device lint bench image image-test clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,uvloop]'
	@touch $@

$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) ## create .venv and install the appliance with its dev tools

run: $(STAMP) ## start the appliance with simulated hardware on http://localhost:8888
	$(BIN)/appliance serve --hardware simulated --port 8888 --state-dir .state

test: $(STAMP) $(NODE_STAMP) ## run the whole test suite
	$(BIN)/pytest -q -rs

test-device: $(STAMP) ## on a Raspberry Pi: drive the real LED and DHT (needs the pi extra)
	$(BIN)/pytest -v -s -rs -m device tests/device

LINTED := thingtalk appliance hardware tests examples bench

lint: $(STAMP) ## ruff check and format, mypy (strict on the packages, and the tests), shellcheck image/
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(MAKE) --no-print-directory -C image lint

bench: $(STAMP) ## measure the server against a bare Quart endpoint
	$(BIN)/python -m bench

image: ## build the Raspberry Pi OS image with pi-gen (needs Docker)
	$(MAKE) -C image pi-gen

image-test: $(STAMP) ## build an arm64 Debian image and boot it in QEMU (root)
	$(MAKE) -C image test

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/node/node_modules
