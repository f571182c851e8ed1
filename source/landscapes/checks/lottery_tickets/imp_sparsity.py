"""Checks of `imp_sparsity` (notebook 03): the sparsity 1 − (1 − fraction)**rounds after IMP rounds.

Compared with the reference (0 rounds, fractions 0 and 1); ValueError for a fraction outside
[0, 1].
"""

from __future__ import annotations

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import matches_reference, raises_value_error
from solutions import lottery_tickets as ref

_SPARSITY_HINT = (
    "after each round a fraction (1 - fraction) of the weights survives, so after r rounds "
    "(1 - fraction)**r survive and the sparsity is 1 - (1 - fraction)**r"
)


def _sparsity_basic() -> list[Case]:
    return [
        Case("20% a round, 1 round", (0.2, 1)),
        Case("20% a round, 11 rounds", (0.2, 11)),
        Case("50% a round, 3 rounds", (0.5, 3)),
        Case("10% a round, 20 rounds", (0.1, 20)),
    ]


def _sparsity_edge() -> list[Case]:
    return [
        Case("0 rounds", (0.2, 0)),
        Case("fraction 0", (0.0, 5)),
        Case("fraction 1", (1.0, 3)),
    ]


def _sparsity_errors() -> list[Case]:
    return [Case("fraction -0.1", (-0.1, 2)), Case("fraction 1.5", (1.5, 2))]


make_checks(
    "imp_sparsity",
    [
        Part(
            "basic",
            "1 - (1 - fraction)**rounds",
            _sparsity_basic,
            matches_reference("imp_sparsity", ref.imp_sparsity, hint=_SPARSITY_HINT),
        ),
        Part(
            "edge",
            "0 rounds, fraction 0 and 1",
            _sparsity_edge,
            matches_reference("imp_sparsity", ref.imp_sparsity, hint=_SPARSITY_HINT),
        ),
        Part(
            "errors",
            "ValueError for a fraction outside [0, 1]",
            _sparsity_errors,
            raises_value_error("imp_sparsity", hint="check 0 <= fraction <= 1"),
        ),
    ],
)
