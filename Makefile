# Two commands on a fresh machine: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: help run test test-fast check lint fmt bench bench-data clean

## list the make targets with what each does
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-z][a-z-]*:/{if(doc!=""){split($$0,t,":"); printf "  make %-11s %s\n", t[1], doc}; doc=""; next} {doc=""}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run tinycrm on the default store (pass arguments with ARGS="todo --all")
run: $(STAMP)
	$(BIN)/tinycrm $(ARGS)

## lint, type-check, check layering, then the whole test suite
test: lint
	$(BIN)/python -m pytest -q

## the same checks without the slow tests (real processes racing, crashing, tmux); CI runs all
test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow"

## the same as make test
check: test

## format check, lint, mypy --strict, import-linter contracts
lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## format the code and apply ruff's safe fixes
fmt: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## build the 100k-contact benchmark store (benchmarks/data/)
bench-data: $(STAMP)
	$(BIN)/python benchmarks/generate.py

## time the commands and the app on it, into docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## remove the venv and caches
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
