"""Checks of `expected_loss_increase` (notebook 02): sigma² / 2 · hessian_trace (worked example 2).

Compared with the reference (int and numpy traces, negative traces, sigma 0); ValueError for
sigma < 0. A wrong value is diagnosed: the factor 1/2 missing, sigma instead of sigma²,
(sigma / 2)², the sign lost.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import as_scalar, raises_value_error
from solutions import landscape_geometry as ref

from .common import _checked, _compare_scalar, _near

_ELI = "expected_loss_increase"
_ELI_HINT = "the expected loss increase is sigma² / 2 · hessian_trace (worked example 2)"


def _eli_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    trace, sigma = args
    expected = ref.expected_loss_increase(trace, sigma)
    msg = _compare_scalar(outcome.value, expected, "the result of `expected_loss_increase`")
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    t, s = float(trace), float(sigma)
    if expected != 0 and _near(got, 2 * expected):
        return f"{msg}: twice the expected value, the factor 1/2 is missing"
    if _near(got, s / 2 * t):
        return f"{msg}: you used sigma instead of sigma² (sigma is a standard deviation)"
    if _near(got, s**2 * t) and expected != 0:
        return f"{msg}: the factor 1/2 is missing"
    if expected != 0 and _near(got, expected / 2):
        return (
            f"{msg}: half the expected value, (sigma / 2)² = sigma² / 4 instead of sigma² / 2 "
            "(square sigma first, then halve)"
        )
    if t < 0 and _near(got, -expected):
        return f"{msg}: the sign is lost; a negative trace (at a saddle) gives a negative value"
    return msg


_eli_verdict = _checked(_ELI, _eli_judge, _ELI_HINT)


def _eli_basic() -> list[Case]:
    return [
        Case("worked example 2: trace 500, sigma 0.01 gives 0.025", (500.0, 0.01)),
        Case("worked example 2: trace 80, sigma 0.01 gives 0.004", (80.0, 0.01)),
        Case("trace 10, sigma 0.1", (10.0, 0.1)),
        Case("trace 3.7, sigma 0.3", (3.7, 0.3)),
        Case("an int trace 1200, sigma 0.02", (1200, 0.02)),
        Case("a numpy float64 trace", (np.float64(42.5), 0.05)),
    ]


def _eli_edge() -> list[Case]:
    return [
        Case(
            "a negative trace (at a saddle): -40, sigma 0.1",
            (-40.0, 0.1),
            hint="any real trace is accepted; do not raise for a negative trace or take its "
            "absolute value",
        ),
        Case("sigma 0: no perturbation, no increase", (500.0, 0.0)),
        Case("trace 0", (0.0, 0.5)),
        Case("sigma 1, trace 2", (2.0, 1.0)),
    ]


def _eli_errors() -> list[Case]:
    return [
        Case("sigma -0.01", (500.0, -0.01)),
        Case("sigma -1 with trace 0 (validate even without work)", (0.0, -1.0)),
    ]


make_checks(
    _ELI,
    [
        Part("basic", "sigma² / 2 · trace (worked example 2)", _eli_basic, _eli_verdict),
        Part("edge", "negative traces, sigma 0", _eli_edge, _eli_verdict),
        Part(
            "errors",
            "ValueError for sigma < 0",
            _eli_errors,
            raises_value_error(_ELI, hint="check sigma >= 0 before computing"),
        ),
    ],
)
