"""Registry-wide guarantees of the course: its checks cover every reference function and quiz
item, and every graded function's checks accept the reference, reject the stub on every part
with a clear message, and bound the time of a function that never returns."""

from __future__ import annotations

import time

import pytest

import solutions
from autograder.checks import check_function, checks_of, lookup, parts
from tests.course.checks.support import assert_passes_all, part_results

# Graded functions; graded values (quiz answers) have their own tests in test_quiz.py.
GRADED = sorted(name for name, checks in checks_of().items() if checks.kind == "function")
ANSWERS = sorted(name for name, checks in checks_of().items() if checks.kind == "value")


def test_registry_covers_every_reference_function():
    """Every public function of `solutions` has registered checks, and vice versa."""
    functions = {name for name in solutions.__all__ if callable(getattr(solutions, name))}
    assert set(GRADED) == functions - set(getattr(solutions, "NOT_GRADED", ()))


def test_registry_covers_every_quiz_item():
    """Every answer variable of notebook 04 has registered (value) checks, and vice versa."""
    from solutions import quiz

    assert set(ANSWERS) == {*quiz.QUIZ_ANSWERS, "key_terms"}


@pytest.mark.parametrize("name", GRADED)
def test_reference_passes_every_part(name):
    """The reference solution passes every part of its own checks."""
    assert_passes_all(name, getattr(solutions, name))


@pytest.mark.parametrize("name", GRADED)
def test_parts_are_named_and_nonempty(name):
    """Every part has a description and at least one case."""
    for part in parts(name):
        p = lookup(name).parts[part]
        assert p.description
        assert p.make_cases(), f"{name}/{part} has no cases"


@pytest.mark.parametrize("name", GRADED)
def test_stub_fails_every_part_with_a_clear_message(name):
    """The released stub (raise NotImplementedError()) fails every part, saying it is the stub."""

    def stub(*args, **kwargs):
        raise NotImplementedError()

    for part, message in part_results(name, stub).items():
        assert message is not None, f"{name}/{part} passed the stub"
        assert "NotImplementedError" in message and "stub" in message, message


@pytest.mark.parametrize("name", GRADED)
def test_function_that_never_returns_fails_within_the_bound(name, monkeypatch):
    """A function stuck in a loop fails its first part within the configured time bound."""
    monkeypatch.setattr(lookup(name), "timeout", 0.3)

    def forever(*args, **kwargs):
        while True:
            pass

    first = parts(name)[0]
    start = time.perf_counter()
    with pytest.raises(AssertionError, match="did not return within the time limit"):
        check_function(name, forever, part=first)
    assert time.perf_counter() - start < 5.0


def test_functions_are_registered_in_notebook_order():
    """The registry lists the graded functions in the order of their answer cells: a checks
    module that imports another notebook's checks would register that notebook first."""
    from autograder.checks import registry
    from autograder.content.parse import read_content

    spec = registry.spec_of()
    answers = [
        cell.meta["solution"]
        for notebook in spec.notebooks
        for cell in read_content(spec.content_dir / notebook).cells
        if cell.role == "answer" and "solution" in cell.meta
    ]
    functions = [n for n in registry.graded_functions() if lookup(n).kind == "function"]
    assert functions == answers
