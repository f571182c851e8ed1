"""The course's graded functions through the sandbox wire (autograder.sandbox.wire).

Every registered case of the course crosses unchanged; the reference solutions still pass
every part when their outcomes go through the wire; and every student-style implementation
of the check tests in this package (the correct ones and the typical mistakes, collected
from the test modules under tests/course/checks/) gets, part by part, the verdict it gets
in-process. (The wire itself is tested in tests/engine/test_sandbox_wire.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import solutions
from autograder.checks import registry
from autograder.checks.call import run_case
from autograder.sandbox.wire import (
    decode_case,
    decode_outcome,
    encode_case,
    encode_outcome,
    plain_equal,
)
from tests.course.checks.support import implementation_id, implementations


def test_every_registered_case_crosses_unchanged() -> None:
    """Stage 1's cases of every graded item and part are plain data: encode_case accepts
    them and decode_case rebuilds them exactly (this is how they enter the sandbox)."""
    count = 0
    for name in registry.graded_functions():
        for part in registry.parts(name):
            for case in registry.cases(name, part):
                back = decode_case(encode_case(case))
                assert plain_equal(back, case), (name, part, case.label)
                count += 1
    assert count > 300


# ---- fidelity: the split stages grade exactly like check_function ---------------------------------


def _through_the_wire(name: str, fn: Any) -> dict[str, str | None]:
    checks = registry.lookup(name)
    results: dict[str, str | None] = {}
    for part in registry.parts(name):
        results[part] = None
        cases = registry.cases(name, part)
        for i, case in enumerate(cases, start=1):
            outcome = decode_outcome(encode_outcome(run_case(fn, case, timeout=checks.timeout)))
            message = registry.judge(name, part, case, outcome)
            if message:
                head = registry.header(name, checks.parts[part], i, len(cases), case)
                results[part] = f"{head}\n{message}"
                break
    return results


REFERENCE_ITEMS = [
    n
    for n in registry.graded_functions()
    if registry.lookup(n).kind == "function" and hasattr(solutions, n)
]


@pytest.mark.parametrize("name", REFERENCE_ITEMS)
def test_reference_passes_every_part_through_the_wire(name: str) -> None:
    """The reference solution's outcomes, sent through the wire, pass every verdict
    (train_bezier_midpoint, the slowest, takes about 2 s)."""
    failed = {p: m for p, m in _through_the_wire(name, getattr(solutions, name)).items() if m}
    assert not failed, failed


def _in_process(name: str, fn: Any) -> dict[str, str | None]:
    results: dict[str, str | None] = {}
    for part in registry.parts(name):
        try:
            registry.check_function(name, fn, part=part)
            results[part] = None
        except AssertionError as exc:
            results[part] = str(exc)
    return results


def _mutating_mask(weights: torch.Tensor, fraction: float) -> torch.Tensor:
    mask = solutions.magnitude_mask(weights, fraction)
    weights.mul_(mask)  # prunes the input in place
    return mask


WRONG_RESULTS = {
    "mask_overlap": lambda a, b: (  # validates like the reference, divides by |A| only
        solutions.mask_overlap(a, b),
        float((a & b).sum()) / max(1, int(a.sum())),
    )[1],
    "prune_count": lambda n, fraction: float(solutions.prune_count(n, fraction)),
    "magnitude_mask": _mutating_mask,
    "imp_sparsity": lambda fraction, rounds: min(1.0, fraction * rounds),  # not compounded
    "bernstein_weights": lambda degree, alpha: [
        float(v) for v in solutions.bernstein_weights(degree, alpha)
    ],
}


@pytest.mark.parametrize("name", sorted(WRONG_RESULTS))
def test_wrong_results_get_the_same_feedback_through_the_wire(name: str) -> None:
    """A wrong implementation gets, part by part, exactly the message check_function gives
    in-process: the wire loses nothing the verdicts look at."""
    fn = WRONG_RESULTS[name]
    assert _through_the_wire(name, fn) == _in_process(name, fn)
    assert any(_in_process(name, fn).values())


CORRECT_IMPLEMENTATIONS = implementations("assert_passes_all", "CORRECT", exclude=__name__)


def test_the_correct_implementations_were_found() -> None:
    names = {name for name, _ in CORRECT_IMPLEMENTATIONS}
    # 183 implementations of 34 functions since align_hidden_units came (177 of 33 when the
    # check tests were split by notebook section): fewer means a test module or a table is no
    # longer found.
    assert len(CORRECT_IMPLEMENTATIONS) >= 183 and len(names) >= 34, len(CORRECT_IMPLEMENTATIONS)


@pytest.mark.parametrize(
    ("name", "fn"),
    CORRECT_IMPLEMENTATIONS,
    ids=[implementation_id(name, fn) for name, fn in CORRECT_IMPLEMENTATIONS],
)
def test_correct_implementations_pass_through_the_wire(name: str, fn: Any) -> None:
    """What the sandbox sends back of a correct, differently written implementation (numpy
    scalars and strings, OrderedDicts, 0-d tensors, ...) passes every verdict, as in-process."""
    failed = {p: m for p, m in _through_the_wire(name, fn).items() if m}
    assert not failed, failed


WRONG_IMPLEMENTATIONS = implementations("assert_fails", "WRONG", exclude=__name__)


def test_the_wrong_implementations_were_found() -> None:
    names = {name for name, _ in WRONG_IMPLEMENTATIONS}
    # 367 of 33 functions since align_hidden_units (348 of 32 when the check tests were split).
    assert len(WRONG_IMPLEMENTATIONS) >= 367 and len(names) >= 33, len(WRONG_IMPLEMENTATIONS)


@pytest.mark.parametrize(
    ("name", "fn"),
    WRONG_IMPLEMENTATIONS,
    ids=[implementation_id(name, fn) for name, fn in WRONG_IMPLEMENTATIONS],
)
def test_wrong_implementations_fail_the_same_parts_through_the_wire(name: str, fn: Any) -> None:
    """A typical mistake fails exactly the same parts through the sandbox wire as in process:
    nothing a verdict needs to see a mistake is lost on the way. Both runs start from the
    same global random state: some mistakes draw from it (e.g. top_eigenvalue's start vector
    from torch's global generator), and which parts they fail depends on what they draw."""
    torch.manual_seed(0)
    through = {p for p, m in _through_the_wire(name, fn).items() if m}
    torch.manual_seed(0)
    in_process = {p for p, m in _in_process(name, fn).items() if m}
    assert through == in_process and through, (through, in_process)
