# santecyber: `make serve` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: setup build serve test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# The graph depends on the records, the model and the code that compiles them.
build/CURRENT: $(STAMP) $(shell find data ontology shapes loaders santecyber -type f -not -path '*/__pycache__/*' 2>/dev/null)
	$(BIN)/santecyber build

build: build/CURRENT

serve: build
	$(BIN)/santecyber serve --host $(HOST) --port $(PORT) $(if $(PROCESSES),--processes $(PROCESSES))

# The official SARIF 2.1.0 JSON schema, for tests/test_reports.py (from the npm package that ships it).
SARIF_SCHEMA := $(VENV)/share/sarif-2.1.0-rtm.5.json

$(SARIF_SCHEMA):
	mkdir -p $(VENV)/share/npm
	cd $(VENV)/share/npm && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0
	tar -xzf $(VENV)/share/npm/microsoft-jest-sarif-1.0.0-beta.0.tgz -C $(VENV)/share \
		--strip-components=3 package/lib/schemas/sarif-2.1.0-rtm.5.json

test: setup $(SARIF_SCHEMA)
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: build
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf build
