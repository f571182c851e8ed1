# Course staff tasks. Every target creates/uses the virtual environment in $(VENV) and installs
# torch 2.13.0 (CPU) first, then the package with the pinned grading environment.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs `alembic` from PATH when it opens a gradebook.
export PATH := $(BIN):$(PATH)
PYTEST_WORKERS ?= 2

.PHONY: install selfcheck demo test lint format bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## The main job: verify the reference solutions and the hidden checks, print what was verified.
selfcheck: install
	$(BIN)/autograder selfcheck

## The whole test suite (what CI runs): lint and format check, then pytest on 2 workers.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autograder solutions tests benchmarks source/landscapes/landscape_lab.py source/landscapes/checks
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autograder solutions tests benchmarks source/landscapes/landscape_lab.py source/landscapes/checks

format: install
	$(BIN)/ruff format autograder solutions tests benchmarks source/landscapes/landscape_lab.py source/landscapes/checks

# The benchmark-only extra (PyHessian), on top of the pinned environment; torch stays 2.13.0.
$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@

## Benchmarks (minutes): Hessian estimators and loss surface, also against PyHessian;
## grading throughput.
bench: $(BIN)/.bench-installed
	$(BIN)/python benchmarks/bench_geometry.py
	$(BIN)/python benchmarks/bench_pyhessian.py
	$(BIN)/python benchmarks/bench_grading.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

## The main job: the whole grading pipeline on built-in example submissions.
demo: install
	$(BIN)/autograder demo
