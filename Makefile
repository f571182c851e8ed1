# Course staff tasks. Every target creates/uses the virtual environment in $(VENV) and installs
# torch 2.13.0 first (the CPU build where pip finds one: see README), then the package with the
# pinned grading environment.
#
# The Pythons the lock (constraints.txt) installs on; nbgrader 0.9.6 needs 3.11 or later.
PYTHON_VERSIONS := 3.11 3.12 3.13
# Exits 0 only for a supported Python that can make a virtual environment (Debian's python3
# lacks ensurepip until python3-venv is installed).
PYTHON_PROBE := import sys, ensurepip; sys.exit("%d.%d" % sys.version_info[:2] not in "$(PYTHON_VERSIONS)".split())
PYTHON_CANDIDATES := $(foreach v,$(PYTHON_VERSIONS),python$(v)) python3
# PYTHON=... (command line or environment) picks the interpreter; otherwise the first candidate
# that runs and passes the probe (a pyenv shim for a version not selected fails it). Found once,
# here, before PATH gets the virtual environment's bin directory.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
	p=$$(command -v $$p) && $$p -c '$(PYTHON_PROBE)' >/dev/null 2>&1 && { echo $$p; break; }; done)
endif
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs `alembic` from PATH when it opens a gradebook.
export PATH := $(BIN):$(PATH)
PYTEST_WORKERS ?= 2

.PHONY: install selfcheck demo test test-fast test-unprivileged lint format bench bench-scale clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no supported Python found (tried: $(PYTHON_CANDIDATES))." >&2; \
	  echo "This package needs one of Python $(PYTHON_VERSIONS) with the venv module; on Debian 12," >&2; \
	  echo "/usr/bin/python3 (3.11.2) works once python3-venv is installed (apt-get install python3-venv)." >&2; \
	  echo "To name an interpreter: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python3.x" >&2; \
	  exit 1; \
	elif ! '$(PYTHON)' -c '$(PYTHON_PROBE)' >/dev/null 2>&1; then \
	  echo "error: PYTHON=$(PYTHON) ($$('$(PYTHON)' --version 2>/dev/null || echo 'does not run'))" \
	    "is not a supported Python with the venv module." >&2; \
	  echo "This package needs one of Python $(PYTHON_VERSIONS) with the venv module (Debian/Ubuntu:" >&2; \
	  echo "apt-get install python3-venv). Pass another: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python3.x" >&2; \
	  exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,dask]'
	touch $@

install: $(BIN)/.installed

## The main job: verify the reference solutions and the hidden checks, print what was verified.
selfcheck: install
	$(BIN)/autograder selfcheck

## The whole test suite (what CI runs): lint and format check, then pytest on 2 workers.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autograder solutions tests benchmarks source/landscapes/landscape_lab.py source/landscapes/landscape_plots.py source/landscapes/checks
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15

## A fast subset of the tests, for a second Python (about 1.5 min on 2 cores, plus the install):
## no lint, none of the tests marked slow (full notebooks, the grading pipeline end to end), not
## the hidden checks' tests (tests/course/checks). CI: make test-fast PYTHON=python3.13 VENV=.venv-py313
FAST_TESTS ?= tests/engine tests/course/solutions tests/course/test_landscape_lab.py tests/course/test_authoring.py tests/course/test_quote_texts.py
test-fast: install
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile -m "not slow" $(FAST_TESTS)

## The sandbox, cheat and grading-pipeline tests as an unprivileged user, in the user-namespace
## and the bubblewrap modes (start as root: it creates the user and installs bubblewrap; CI runs
## it after make test). See .ci/unprivileged.
test-unprivileged: install
	./.ci/unprivileged $(VENV)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autograder solutions tests benchmarks source/landscapes/landscape_lab.py source/landscapes/landscape_plots.py source/landscapes/checks

format: install
	$(BIN)/ruff format autograder solutions tests benchmarks source/landscapes/landscape_lab.py source/landscapes/landscape_plots.py source/landscapes/checks

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
	$(BIN)/python benchmarks/bench_feedback.py --copies 4

## Class scale (about 1.5 h on 2 cores): N=200 synthetic submissions of the course through the
## process pool, the pool importing on the coordinator, and a 2-worker Dask LocalCluster.
## Quicker: make bench-scale SCALE_ARGS="-n 100 --source fixture"
SCALE_ARGS ?= -n 200
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

## The main job: the whole grading pipeline on built-in example submissions.
demo: install
	$(BIN)/autograder demo
