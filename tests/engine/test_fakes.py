"""A function that ignores its task earns nothing: no part of any graded item passes a fake.

The fakes are what a student might submit to collect points without doing the work: a
constant (0, 1, None, "", True), the first argument echoed back, or zeros shaped like the
input. Each runs through every part of every graded function of every assignment this test
can load (the course's assignments in source/ and the fixtures' in tests/fixtures/*/source/,
so a new assignment is covered as soon as it exists); the value fakes run through every part
of every graded value (quiz answers). No part may pass: a part that checks a convention
(inputs left alone, dtype, types, no gradient left behind) must judge the results too (see
:class:`autograder.checks.types.Part`).

A verdict that crashes on a fake (anything but the AssertionError of a failed part) fails the
test too: the grader would crash on such a submission.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from autograder.checks import registry
from autograder.spec import AssignmentSpec, find_specs

REPO = Path(__file__).resolve().parents[2]


def assignment_specs() -> list[AssignmentSpec]:
    """Every assignment with hidden checks: the course's (source/) and the fixtures'."""
    roots = [REPO / "source", *sorted((REPO / "tests" / "fixtures").glob("*/source"))]
    specs = [spec for root in roots for spec in find_specs(root).values()]
    return [spec for spec in specs if spec.checks_dir is not None]


ASSIGNMENTS = [registry.load(spec).id for spec in assignment_specs()]


# ---- the fakes ---------------------------------------------------------------------------------


def _is_data(x: Any) -> bool:
    """Whether `x` has a shape to imitate (not a model, a loss function or a generator)."""
    return isinstance(x, (torch.Tensor, np.ndarray, dict, list, tuple, int, float, str))


def zeros_like(x: Any) -> Any:
    """Zeros shaped like `x`: zeros_like of a tensor or array, the same for each value of a
    dict and each item of a list or tuple, 0 (False) for a number (a bool)."""
    if isinstance(x, torch.Tensor):
        return torch.zeros_like(x.detach())
    if isinstance(x, np.ndarray):
        return np.zeros_like(x)
    if isinstance(x, dict):
        return type(x)((k, zeros_like(v)) for k, v in x.items())
    if isinstance(x, list):
        return [zeros_like(v) for v in x]
    if isinstance(x, tuple):
        return tuple(zeros_like(v) for v in x)
    if isinstance(x, bool):
        return False
    if isinstance(x, (int, float)):
        return type(x)(0)
    if isinstance(x, str):
        return ""
    return 0.0


def _arguments(args: tuple, kwargs: dict) -> list[Any]:
    return [*args, *kwargs.values()]


def echo_first(*args: Any, **kwargs: Any) -> Any:
    """Returns its first argument, unchanged."""
    given = _arguments(args, kwargs)
    return given[0] if given else None


def zeros_like_input(*args: Any, **kwargs: Any) -> Any:
    """Zeros shaped like its first argument that is data (for `hvp(loss_fn, theta, v)`: theta);
    0.0 if no argument is."""
    data = [a for a in _arguments(args, kwargs) if _is_data(a)]
    return zeros_like(data[0]) if data else 0.0


def constant(value: Any) -> Callable[..., Any]:
    def fake(*args: Any, **kwargs: Any) -> Any:
        return value

    fake.__name__ = f"returns_{value!r}"
    return fake


VALUE_FAKES: dict[str, Any] = {"0": 0, "1": 1, "None": None, '""': "", "True": True}
FUNCTION_FAKES: dict[str, Callable[..., Any]] = {
    **{label: constant(value) for label, value in VALUE_FAKES.items()},
    "echo of the first argument": echo_first,
    "zeros shaped like the input": zeros_like_input,
}


def test_the_fakes_are_what_they_say() -> None:
    t = torch.ones(2, 3)
    assert torch.equal(zeros_like_input(lambda x: x, t), torch.zeros(2, 3))
    params = zeros_like_input({"w": t, "b": torch.ones(3, dtype=torch.float64)})
    assert list(params) == ["w", "b"] and params["b"].dtype == torch.float64
    assert not params["w"].any() and not params["b"].any()
    assert zeros_like_input([0.3, 1.2], 2) == [0.0, 0.0]
    assert zeros_like_input(np.ones(3)).tolist() == [0.0, 0.0, 0.0]
    assert zeros_like_input(True) is False and zeros_like_input(7) == 0
    assert echo_first(t, 3) is t and echo_first(x=5) == 5 and echo_first() is None
    assert FUNCTION_FAKES['""'](1, k=2) == "" and FUNCTION_FAKES["None"]() is None


# ---- every part of every graded item -------------------------------------------------------------


def items(kind: str) -> list[tuple[str, str]]:
    return [
        (assignment, name)
        for assignment in ASSIGNMENTS
        for name, checks in registry.checks_of(assignment).items()
        if checks.kind == kind
    ]


FUNCTIONS = items("function")
VALUES = items("value")


def passing_parts(
    assignment: str, name: str, fakes: dict[str, Any], grade: Callable[..., None]
) -> list[str]:
    """'part: fake' for every part of `name` that `grade` lets a fake pass."""
    passed = []
    for part in registry.parts(name, assignment):
        for label, fake in fakes.items():
            try:
                grade(name, fake, part, assignment=assignment)
            except AssertionError:
                continue
            passed.append(f"{part}: {label}")
    return passed


def test_every_assignment_is_covered() -> None:
    """The course's assignment and the tiny fixture, at least, and functions of both."""
    assert {"landscapes", "tiny"} <= set(ASSIGNMENTS)
    assert {a for a, _ in FUNCTIONS} == set(ASSIGNMENTS)
    assert len(FUNCTIONS) >= 34 + 3 and VALUES  # the course's 34 functions, the fixture's 3


@pytest.mark.parametrize(("assignment", "name"), FUNCTIONS, ids=[f"{a}-{n}" for a, n in FUNCTIONS])
def test_no_part_pays_a_function_that_ignores_its_task(assignment: str, name: str) -> None:
    passed = passing_parts(assignment, name, FUNCTION_FAKES, registry.check_function)
    assert not passed, f"{assignment}: {name}: parts passed by a fake:\n" + "\n".join(passed)


@pytest.mark.parametrize(("assignment", "name"), VALUES, ids=[f"{a}-{n}" for a, n in VALUES])
def test_no_part_pays_a_placeholder_answer(assignment: str, name: str) -> None:
    passed = passing_parts(assignment, name, VALUE_FAKES, registry.check_answer)
    assert not passed, f"{assignment}: {name}: parts passed by a fake:\n" + "\n".join(passed)


# ---- the rule, when the checks are built -------------------------------------------------------


def test_a_convention_verdict_without_a_results_verdict_is_refused_when_built() -> None:
    from autograder.checks.verdicts import leaves_inputs_unchanged

    with pytest.raises(TypeError, match="results"):
        leaves_inputs_unchanged("f", ("x",))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="a convention alone earns nothing"):
        leaves_inputs_unchanged("f", ("x",), results=None)  # type: ignore[arg-type]
