"""Checks of `magnitude_mask` (notebook 03): the bool mask that prunes the prune_count(n, fraction)
entries of smallest magnitude.

Compared with the reference (worked example 3, random weights, ties broken by the lower
row-major index, near-ties that float32 rounding would hide, fractions 0 and 1, a single
weight); the weights are left unchanged; ValueError for a fraction outside [0, 1]. A wrong
mask is described: the number kept (with the count the spec gives), then the first entry
that differs and its magnitude.
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import leaves_inputs_unchanged, raises_value_error
from solutions import lottery_tickets as ref

from .common import M1, _checked, _near_ties, _randn, _w1, compare_mask

_MAGNITUDE_HINT = (
    "prune the prune_count(weights.numel(), fraction) entries of smallest absolute value "
    "(True = kept); among equal magnitudes the lower row-major index is pruned first, which a "
    "stable sort of weights.abs().flatten() gives you"
)


def _magnitude_context(weights: torch.Tensor, fraction: float) -> str:
    n = weights.numel()
    k = ref.prune_count(n, fraction)
    return f"with {n} weights and fraction {fraction}, prune_count is {k}, so {n - k} are kept"


def _magnitude_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    weights, fraction = args
    return compare_mask(
        outcome.value,
        ref.magnitude_mask(weights, fraction),
        what="the mask returned by `magnitude_mask`",
        context=_magnitude_context(weights, fraction),
        values=weights,
    )


def _magnitude_basic() -> list[Case]:
    return [
        Case(
            "worked example 3: W1 (4x3), fraction 0.3",
            (_w1(), 0.3),
            hint="the expected mask is the seed's M1 = " + str(M1),
        ),
        Case("1-D weights with mixed signs", (torch.tensor([0.3, -1.2, 0.05, 0.9, -0.4]), 0.4)),
        Case("random 3-D weights (2, 3, 4), fraction 0.5", (_randn((2, 3, 4), 1), 0.5)),
        Case(
            "random (6, 5) weights, fraction 0.58 (prune_count(30, 0.58) = 17)",
            (_randn((6, 5), 2), 0.58),
        ),
        Case("float64 (5, 4) weights, fraction 0.8", (_randn((5, 4), 3, torch.float64), 0.8)),
    ]


def _magnitude_ties() -> list[Case]:
    return [
        Case("six equal weights, fraction 0.5: the first three are pruned", (torch.ones(6), 0.5)),
        Case("equal magnitudes with different signs", (torch.tensor([-0.5, 0.5, 0.5, -0.5]), 0.5)),
        Case(
            "ties across rows: row-major order decides",
            (torch.tensor([[0.2, 0.1, 0.9], [0.1, 0.7, 0.1], [0.1, 0.3, 0.2]]), 0.3),
        ),
        Case("zeros of both signs tie", (torch.tensor([[0.0, 1.0, -0.0], [2.0, -0.0, 0.0]]), 0.5)),
        Case(
            "float64 magnitudes that differ only beyond float32 precision are not ties",
            (_near_ties(torch.float64, signs=(-1.0, 1.0, 1.0, -1.0)), 0.5),
            hint="rank the magnitudes in the dtype of the weights (or float64), not in float32",
        ),
    ]


def _magnitude_edge() -> list[Case]:
    return [
        Case("fraction 0: nothing is pruned", (_w1(), 0.0)),
        Case("fraction 1: everything is pruned", (_w1(), 1.0)),
        Case("a single weight, fraction 0.5 (0.5 rounds up to 1)", (torch.tensor([[0.7]]), 0.5)),
        Case(
            "5 weights, fraction 0.5 (2.5 rounds up: prune 3)",
            (torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3]), 0.5),
        ),
    ]


def _magnitude_no_mutation() -> list[Case]:
    return [
        Case("worked example 3 weights", (_w1(), 0.3)),
        # Fixed for everyone: a per-row ranking happens to prune these weights like the
        # global one, which most other draws do not (a draw per student would grade that
        # mistake differently here).
        Case("random weights with negative entries", (_randn((4, 4), 4, fixed=True), 0.5)),
    ]


def _magnitude_errors() -> list[Case]:
    return [Case("fraction -0.1", (_w1(), -0.1)), Case("fraction 1.5", (_w1(), 1.5))]


_magnitude_verdict = _checked("magnitude_mask", _magnitude_judge, _MAGNITUDE_HINT)

make_checks(
    "magnitude_mask",
    [
        Part("basic", "worked example 3 and random weights", _magnitude_basic, _magnitude_verdict),
        Part(
            "ties",
            "equal magnitudes: the lower row-major index is pruned first",
            _magnitude_ties,
            _magnitude_verdict,
        ),
        Part(
            "edge", "fraction 0 and 1, a single weight, a half", _magnitude_edge, _magnitude_verdict
        ),
        Part(
            "no_mutation",
            "the weights are left unchanged",
            _magnitude_no_mutation,
            leaves_inputs_unchanged(
                "magnitude_mask", ("weights", "fraction"), results=_magnitude_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for a fraction outside [0, 1]",
            _magnitude_errors,
            raises_value_error("magnitude_mask", hint="check 0 <= fraction <= 1"),
        ),
    ],
)
