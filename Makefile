# Two entry points on a fresh machine: `make demo` and `make test`. Both set up first.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= python3

.PHONY: setup demo test test-fast lint format clean

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

lint: setup
	$(BIN)/ruff check src tests workflow/scripts
	$(BIN)/ruff format --check src tests workflow/scripts
	$(BIN)/snakefmt --check Snakefile workflow/rules/*.smk
	$(BIN)/snakemake --lint

format: setup
	$(BIN)/ruff format src tests workflow/scripts
	$(BIN)/snakefmt Snakefile workflow/rules/*.smk

clean:
	rm -rf results logs benchmarks .snakemake
