# Two entry points on a fresh machine: `make demo` and `make test`. Both set up first.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup demo test test-fast docs lint format clean

setup: $(STAMP)

# A venv with the pinned dependencies (requirements.txt) and sonoflow installed editable.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The whole workflow on the built-in demo corpus, on this machine.
demo: setup
	$(BIN)/snakemake --profile profiles/local

# Everything, as CI runs it.
test: setup
	$(BIN)/pytest

# Daily work: library units only, no whole-workflow runs (marker `workflow`).
test-fast: setup
	$(BIN)/pytest -m "not workflow"

# docs/configuration.md from the schema's descriptions (tests/unit/test_docs.py checks it).
docs: setup
	$(BIN)/python docs/make_configuration.py

lint: setup
	$(BIN)/ruff check src tests workflow/scripts bench docs
	$(BIN)/ruff format --check src tests workflow/scripts bench docs
	$(BIN)/snakefmt --check Snakefile workflow/rules/*.smk
	$(BIN)/snakemake --lint

format: setup
	$(BIN)/ruff format src tests workflow/scripts bench docs
	$(BIN)/snakefmt Snakefile workflow/rules/*.smk

clean:
	rm -rf results logs benchmarks .snakemake
