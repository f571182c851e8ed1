"""The hidden-check registry: graded function name → named parts → cases and verdict.

`check_function(name, fn, part=None)` is what a hidden test cell calls. It runs the three
stages in this process (as nbgrader expects today); the sandboxed grader runs the same
stages split across processes, through :func:`cases` , :func:`autograder.checks.call.run_case`
and :func:`judge`.

Graded values (quiz letters, the key-term dict) are registered with `kind="value"` and
checked with `check_answer(name, value, part=None)` (or `check_function`, which accepts
them too): the call stage then runs :func:`~autograder.checks.call.value_call` of the value, a function without
arguments that returns it, so values go through the same three stages as functions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from .call import run_case, value_call
from .types import Case, FunctionChecks, ItemKind, Outcome, Part

REGISTRY: dict[str, FunctionChecks] = {}


def register(checks: FunctionChecks) -> FunctionChecks:
    """Add the checks of one graded function to the registry."""
    if checks.name in REGISTRY:
        raise RuntimeError(f"checks for {checks.name!r} registered twice")
    if not checks.parts:
        raise RuntimeError(f"checks for {checks.name!r} have no parts")
    REGISTRY[checks.name] = checks
    return checks


def make_checks(
    name: str, parts: list[Part], *, timeout: float = 10.0, kind: ItemKind = "function"
) -> FunctionChecks:
    """Build and register a :class:`FunctionChecks` from a list of parts (graded in order).

    `kind="value"` registers a graded value (e.g. a quiz letter) instead of a function.
    """
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise RuntimeError(f"duplicate part names for {name!r}: {names}")
    return register(
        FunctionChecks(name=name, parts={p.name: p for p in parts}, timeout=timeout, kind=kind)
    )


def _lookup(name: str) -> FunctionChecks:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"no hidden checks registered for {name!r}; known: {known}") from None


def graded_functions() -> list[str]:
    """Every function name with registered checks."""
    return list(REGISTRY)


def parts(name: str) -> list[str]:
    """The part names of `name`'s checks, in grading order."""
    return list(_lookup(name).parts)


def get_part(name: str, part: str) -> Part:
    checks = _lookup(name)
    try:
        return checks.parts[part]
    except KeyError:
        raise KeyError(f"{name!r} has no part {part!r}; parts: {list(checks.parts)}") from None


def cases(name: str, part: str) -> list[Case]:
    """Stage 1: the deterministic cases of one part."""
    return get_part(name, part).make_cases()


def timeout_of(name: str) -> float:
    return _lookup(name).timeout


def judge(name: str, part: str, case: Case, outcome: Outcome) -> str | None:
    """Stage 3: None if the outcome passes, else the feedback message."""
    return get_part(name, part).verdict(case, outcome)


def _header(name: str, part: Part, index: int, total: int, case: Case) -> str:
    return f"{name} [{part.name}: {part.description}] case {index} of {total} ({case.label}):"


def check_function(name: str, fn: Any, part: str | None = None) -> None:
    """Grade `fn` as the student's `name` on one part (or all parts when `part` is None).

    Returns None when every selected case passes; raises AssertionError with feedback (which
    case failed, what was expected, what came back, a hint) at the first failing case.
    """
    checks = _lookup(name)
    selected = list(checks.parts) if part is None else [get_part(name, part).name]
    if fn is None:
        if checks.kind == "value":
            raise AssertionError(
                f"`{name}` is still None: replace None with your answer and run its cell"
            )
        raise AssertionError(f"`{name}` is not defined: run the cell that defines it")
    if checks.kind == "value":
        fn = value_call(fn)
    elif not callable(fn):
        raise AssertionError(
            f"`{name}` should be a function, but it is {type(fn).__name__}: "
            "did you overwrite it with a value?"
        )
    # nbgrader scores a test cell 0 if it writes anything to stderr: a harmless warning from
    # torch or from the student's code must not cost points, so warnings are silenced here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part_name in selected:
            p = checks.parts[part_name]
            case_list = p.make_cases()
            for i, case in enumerate(case_list, start=1):
                outcome = run_case(fn, case, timeout=checks.timeout)
                message = p.verdict(case, outcome)
                if message:
                    raise AssertionError(f"{_header(name, p, i, len(case_list), case)}\n{message}")
    return None


def check_answer(name: str, value: Any, part: str | None = None) -> None:
    """Grade `value` as the student's answer `name` (a value item, e.g. "answer_q1").

    Same contract as :func:`check_function`: None when the selected parts pass, else
    AssertionError with feedback.
    """
    if _lookup(name).kind != "value":
        raise KeyError(f"{name!r} is a graded function; use check_function")
    check_function(name, value, part)


def function_runner(name: str) -> Callable[[Any], None]:
    """`check_function` bound to one name, for tests."""
    return lambda fn, part=None: check_function(name, fn, part)
