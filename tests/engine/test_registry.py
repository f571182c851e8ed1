"""Mechanics of the check registry and the call stage (autograder.checks), shown on the default
assignment's graded functions: the time bound holds against code that catches Exception,
a missing or non-callable answer is reported, unknown names and parts are errors.

(That every graded function of the course accepts its reference and rejects the stub is a
property of the course: tests/course/checks/test_registry.py.)"""

from __future__ import annotations

import time

import pytest

from autograder.checks import check_function, checks_of, parts
from autograder.checks.call import run_case
from autograder.checks.types import Case

# Graded functions of the default assignment (tests/conftest.py).
GRADED = sorted(name for name, checks in checks_of().items() if checks.kind == "function")


def test_timeout_also_stops_code_that_catches_exception():
    """`except Exception` in the student's loop does not swallow the time bound."""

    def catches_everything_it_can():
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass

    start = time.perf_counter()
    outcome = run_case(catches_everything_it_can, Case("catches Exception"), timeout=0.2)
    assert outcome.status == "timeout"
    assert time.perf_counter() - start < 2.0


def test_not_defined_and_not_callable_are_reported():
    name = GRADED[0]
    with pytest.raises(AssertionError, match="not defined"):
        check_function(name, None)
    with pytest.raises(AssertionError, match="should be a function"):
        check_function(name, 3.0)


def test_unknown_names_and_parts_are_errors():
    with pytest.raises(KeyError):
        parts("no_such_function")
    with pytest.raises(KeyError):
        check_function(GRADED[0], lambda *a: None, part="no_such_part")
