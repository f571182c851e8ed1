"""Checks of `rounds_to_reach` (notebook 03): the fewest IMP rounds that reach a target sparsity.

Compared with the reference, an int (targets hit exactly count as reached, tolerance 1e-12;
target 0, extreme fractions); ValueError for a fraction outside (0, 1) or a target outside
[0, 1).
"""

from __future__ import annotations

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import matches_reference, raises_value_error
from solutions import lottery_tickets as ref

_ROUNDS_HINT = (
    "return the smallest r >= 0 with imp_sparsity(fraction, r) >= target_sparsity - 1e-12; "
    "a logarithm gives an estimate, but check it against imp_sparsity itself"
)


def _rounds_basic() -> list[Case]:
    return [
        Case("20% a round to 90% sparsity: 11 rounds", (0.2, 0.9)),
        Case("10% a round to 50%", (0.1, 0.5)),
        Case("50% a round to 99%", (0.5, 0.99)),
        Case("30% a round to 80%", (0.3, 0.8)),
    ]


def _rounds_boundary() -> list[Case]:
    return [
        Case(
            "20% a round to 20%: one round (1 - 0.8 is 0.19999999999999996 in float64)",
            (0.2, 0.2),
            hint="the target is reached within 1e-12",
        ),
        Case("50% a round to exactly 75%", (0.5, 0.75)),
        Case("25% a round to 1 - 0.75**3 = 0.578125 exactly: 3 rounds", (0.25, 0.578125)),
        Case("10% a round to 1 - 0.9**4 = 0.3439", (0.1, 0.3439)),
        Case("target 5e-13: within 1e-12 of 0, so 0 rounds", (0.2, 5e-13)),
        Case(
            "50% a round to 0.7500000001: 1e-10 above 0.75, so 3 rounds",
            (0.5, 0.7500000001),
            hint="the slack is exactly 1e-12 (absolute): math.isclose or np.isclose allow far "
            "more and stop a round early",
        ),
    ]


def _rounds_edge() -> list[Case]:
    return [
        Case("target 0: no rounds needed", (0.2, 0.0)),
        Case("99% a round to 90%", (0.99, 0.9)),
        Case("1% a round to 90%", (0.01, 0.9)),
    ]


def _rounds_errors() -> list[Case]:
    return [
        Case("fraction 0 (never reaches a positive target)", (0.0, 0.5)),
        Case("fraction 1", (1.0, 0.5)),
        Case("fraction 1.2", (1.2, 0.5)),
        Case("target 1 (never reached)", (0.2, 1.0)),
        Case("target -0.1", (0.2, -0.1)),
    ]


make_checks(
    "rounds_to_reach",
    [
        Part(
            "basic",
            "rounds needed for a target sparsity (an int)",
            _rounds_basic,
            matches_reference("rounds_to_reach", ref.rounds_to_reach, hint=_ROUNDS_HINT),
        ),
        Part(
            "boundary",
            "targets hit exactly count as reached (tolerance 1e-12)",
            _rounds_boundary,
            matches_reference("rounds_to_reach", ref.rounds_to_reach, hint=_ROUNDS_HINT),
        ),
        Part(
            "edge",
            "target 0 and extreme fractions",
            _rounds_edge,
            matches_reference("rounds_to_reach", ref.rounds_to_reach, hint=_ROUNDS_HINT),
        ),
        Part(
            "errors",
            "ValueError for fraction outside (0, 1) or target outside [0, 1)",
            _rounds_errors,
            raises_value_error(
                "rounds_to_reach",
                hint="check 0 < fraction < 1 and 0 <= target_sparsity < 1 before looping",
            ),
        ),
    ],
)
