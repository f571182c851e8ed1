"""Checks of `spectrum_trace` (notebook 02): the discrete sums Σ 1/k and Σ e^(−k) from k = 1 to dim.

Compared with the reference to `SPECTRUM_RTOL`, for small dims and for dim = 10^7 within
`SPECTRUM_TIMEOUT` (practice problem 2); ValueError for an unknown decay or dim < 1. A wrong
value is diagnosed: one term too few or too many, k = 0 included, the integral or the limit
instead of the sum, the other decay.
"""

from __future__ import annotations

import math

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import as_scalar, compare_float, raises_value_error
from solutions import landscape_geometry as ref

from .common import SCALAR_ATOL, _checked

# Tolerances and sizes (named, never inline)

SPECTRUM_DIAGNOSE_RTOL = 1e-9
"""`spectrum_trace`: how close a wrong sum must be to a typical mistake's value to name it
(off by one term at dim = 1000 is a relative difference of 1e-4)."""
SPECTRUM_RTOL = 1e-5
"""`spectrum_trace`: relative tolerance. Summing in float32 stays below 2e-6 (numpy, torch or a
plain loop, dim up to 10^7); the approximation ln dim + γ is 6.7e-5 off at dim = 1000."""
SPECTRUM_TIMEOUT = 10.0
"""Seconds per call of `spectrum_trace` (dim = 10^7: numpy takes 0.1 s, a plain Python loop
about 1 s; anything that is not linear in dim never finishes)."""


_SPEC = "spectrum_trace"
_SPEC_HINT = (
    "in Practice Problem 2 each trace is a discrete sum from k = 1 to dim: Σ 1/k for "
    '"inverse" and Σ e^(−k) for "exponential" (which tends to 1/(e − 1) ≈ 0.582, not to 1); sum the '
    "terms with numpy (or a plain loop) rather than approximating by an integral"
)


def _spec_mistake(decay: str, n: int, got: float, expected: float) -> str | None:
    """Name a typical mistake whose value `got` equals (to SPECTRUM_DIAGNOSE_RTOL)."""

    def near(target: float) -> bool:
        return abs(got - target) <= SPECTRUM_DIAGNOSE_RTOL * max(1.0, abs(target))

    term = (lambda k: 1.0 / k) if decay == "inverse" else (lambda k: math.exp(-k))
    if near(expected - term(n)):
        return "your sum stops at k = dim − 1; it runs from k = 1 to dim inclusive"
    if near(expected + term(n + 1)):
        return "your sum runs to k = dim + 1; it runs from k = 1 to dim inclusive"
    if decay == "exponential":
        if near(expected + 1.0) or near(expected + 1.0 - term(n)):
            return "your sum starts at k = 0 (e^0 = 1 added); it is a discrete sum from k = 1"
        if near(1.0) or near(1.0 - math.exp(-n)):
            return (
                "that is the integral ∫ e^(−k) dk, not the discrete sum from k = 1 "
                "(1/(e − 1) ≈ 0.582 in the limit)"
            )
        if near(1.0 / (math.e - 1.0)):
            return (
                "that is 1/(e − 1), the limit of the infinite sum; for a finite dim sum the "
                "terms e^(−k) from k = 1 to dim"
            )
    elif near(math.log(n)) or near(math.log(n) + ref.EULER_GAMMA):
        return (
            "that is an approximation (ln dim, from the integral), not the discrete sum from "
            "k = 1 to dim of 1/k"
        )
    other = "exponential" if decay == "inverse" else "inverse"
    if near(ref.spectrum_trace(other, n)):
        return f'that is the {other} sum: "inverse" is Σ 1/k, "exponential" is Σ e^(−k)'
    return None


def _spec_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    decay, dim = args
    expected = ref.spectrum_trace(decay, dim)
    msg = compare_float(
        outcome.value,
        expected,
        what="the result of `spectrum_trace`",
        rtol=SPECTRUM_RTOL,
        atol=SCALAR_ATOL,
    )
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    why = None if got is None else _spec_mistake(decay, int(dim), got, expected)
    return f"{msg}: {why}" if why else msg


_spec_verdict = _checked(_SPEC, _spec_judge, _SPEC_HINT)


def _spec_basic() -> list[Case]:
    return [
        Case("inverse, dim 10", ("inverse", 10)),
        Case("inverse, dim 2: 1 + 1/2", ("inverse", 2)),
        Case("inverse, dim 1: 1", ("inverse", 1)),
        Case("exponential, dim 1: e^(-1)", ("exponential", 1)),
        Case("exponential, dim 3", ("exponential", 3)),
        Case("exponential, dim 10", ("exponential", 10)),
    ]


def _spec_large() -> list[Case]:
    return [
        Case("inverse, dim 1000", ("inverse", 1000)),
        Case("exponential, dim 1000 (1/(e − 1) ≈ 0.582)", ("exponential", 1000)),
        Case("inverse, dim 10^7 (practice problem 2)", ("inverse", 10**7)),
        Case("exponential, dim 10^7 (practice problem 2)", ("exponential", 10**7)),
    ]


def _spec_errors() -> list[Case]:
    return [
        Case('decay "linear"', ("linear", 10)),
        Case('decay "" (empty)', ("", 10)),
        Case("dim 0", ("inverse", 0)),
        Case("dim -3", ("exponential", -3)),
    ]


make_checks(
    _SPEC,
    [
        Part("basic", "discrete sums from k = 1 for small dim", _spec_basic, _spec_verdict),
        Part("large", "large dim, fast for dim = 10^7", _spec_large, _spec_verdict),
        Part(
            "errors",
            "ValueError for an unknown decay or dim < 1",
            _spec_errors,
            raises_value_error(
                _SPEC, hint='check decay in ("inverse", "exponential") and dim >= 1 first'
            ),
        ),
    ],
    timeout=SPECTRUM_TIMEOUT,
)
