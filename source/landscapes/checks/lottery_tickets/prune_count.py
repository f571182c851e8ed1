"""Checks of `prune_count` (notebook 03): how many of n entries a fraction prunes.

Compared with the reference, exactly math.floor(fraction * n + 0.5) in Python floats (worked
example 3, halves that round up, products just below a half in float64, n = 0, fractions 0
and 1); ValueError for n < 0 or a fraction outside [0, 1].
"""

from __future__ import annotations

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import matches_reference, raises_value_error
from solutions import lottery_tickets as ref

_COUNT_HINT = (
    "prune_count(n, fraction) is exactly math.floor(fraction * n + 0.5) in Python floats: "
    "halves round up (Python's round() rounds halves to even: round(2.5) == 2), and the "
    "product is the float64 one (0.58 * 25 == 14.499999999999998, so 14)"
)


def _count_basic() -> list[Case]:
    return [
        Case("worked example 3: 30% of 12 weights (3.6 rounds to 4)", (12, 0.3)),
        Case("20% of 10", (10, 0.2)),
        Case("0.3 of 7 (2.1 rounds to 2)", (7, 0.3)),
        Case("0.75 of 100", (100, 0.75)),
        Case("0.2 of 1000", (1000, 0.2)),
    ]


def _count_rounding() -> list[Case]:
    return [
        Case("0.5 of 5: 2.5 is a half, halves round up", (5, 0.5)),
        Case("0.25 of 10: 2.5 is a half, halves round up", (10, 0.25)),
        Case("0.5 of 1: 0.5 is a half, halves round up", (1, 0.5)),
        Case(
            "0.58 of 25: the float64 product is 14.499999999999998, just below the half", (25, 0.58)
        ),
        Case("0.3 of 5: the float64 product is exactly 1.5 (the real one is just below)", (5, 0.3)),
        Case("0.15 of 10: the float64 product is exactly 1.5", (10, 0.15)),
    ]


def _count_edge() -> list[Case]:
    return [
        Case("n = 0", (0, 0.5)),
        Case("fraction 0", (9, 0.0)),
        Case("fraction 1", (9, 1.0)),
        Case("fraction 1 of a single entry", (1, 1.0)),
    ]


def _count_errors() -> list[Case]:
    return [
        Case("n = -1", (-1, 0.5)),
        Case("fraction -0.1", (10, -0.1)),
        Case("fraction 1.5", (10, 1.5)),
    ]


make_checks(
    "prune_count",
    [
        Part(
            "basic",
            "worked example 3 and ordinary counts",
            _count_basic,
            matches_reference("prune_count", ref.prune_count, hint=_COUNT_HINT),
        ),
        Part(
            "rounding",
            "halves round up, as float64 arithmetic sees them",
            _count_rounding,
            matches_reference("prune_count", ref.prune_count, hint=_COUNT_HINT),
        ),
        Part(
            "edge",
            "n = 0, fraction 0 and 1",
            _count_edge,
            matches_reference("prune_count", ref.prune_count, hint=_COUNT_HINT),
        ),
        Part(
            "errors",
            "ValueError for n < 0 or fraction outside [0, 1]",
            _count_errors,
            raises_value_error(
                "prune_count", hint="check n >= 0 and 0 <= fraction <= 1 before computing"
            ),
        ),
    ],
)
