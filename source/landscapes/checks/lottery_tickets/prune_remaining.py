"""Checks of `prune_remaining` (notebook 03): prune a fraction of the entries a mask still keeps.

Compared with the reference: pruned entries stay pruned (the result is a subset of the mask),
ties broken by the lower row-major index, near-ties that float32 rounding would hide, fraction
1, nothing kept, a single kept entry; weights and mask are left unchanged; ValueError for a bad
fraction or a mask of another shape.
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import leaves_inputs_unchanged, raises_value_error
from solutions import lottery_tickets as ref

from .common import (
    M1,
    _checked,
    _mask_form,
    _near_ties,
    _rand_mask,
    _randn,
    _w1,
    compare_mask,
)

_REMAINING_HINT = (
    "count the entries still kept (K = mask.sum()), prune prune_count(K, fraction) of them — "
    "the smallest |w| among the kept entries only, lower row-major index first on ties — and "
    "leave every entry the mask already pruned pruned"
)


def _remaining_context(weights: torch.Tensor, mask: torch.Tensor, fraction: float) -> str:
    kept = int(mask.sum())
    k = ref.prune_count(kept, fraction)
    return (
        f"mask keeps {kept} of {mask.numel()} entries; prune_count({kept}, {fraction}) = {k} "
        f"of those are pruned, so {kept - k} stay kept"
    )


def _remaining_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    weights, mask, fraction = args
    what = "the mask returned by `prune_remaining`"
    got = outcome.value
    form = _mask_form(got, mask, what)
    if form:
        return form
    revived = (got.detach().cpu() & ~mask).nonzero()
    if revived.numel():
        idx = tuple(int(i) for i in revived[0])
        return (
            f"{what} is not a subset of `mask`: entry {idx} was pruned already but is kept "
            "again; once pruned, an entry stays pruned"
        )
    return compare_mask(
        got,
        ref.prune_remaining(weights, mask, fraction),
        what=what,
        context=_remaining_context(weights, mask, fraction),
        values=weights,
    )


def _remaining_basic() -> list[Case]:
    mask_w1 = torch.tensor(M1, dtype=torch.bool)
    w = _randn((4, 5), 12)
    small_pruned = w.abs() > w.abs().flatten().kthvalue(6).values  # the 6 smallest pruned
    return [
        Case("worked example 3 weights after its first round, fraction 0.3", (_w1(), mask_w1, 0.3)),
        Case(
            "8 of 12 kept, fraction 0.5: prune 4 of the 8 kept (not 6 of all 12)",
            (
                _w1(),
                torch.tensor([[1, 1, 1], [0, 1, 1], [1, 0, 1], [0, 1, 0]], dtype=torch.bool),
                0.5,
            ),
        ),
        Case(
            "the mask already pruned the 6 smallest weights; they must not count again",
            (w, small_pruned, 0.4),
        ),
        Case(
            "an all-True mask: the same as magnitude_mask",
            (_randn((3, 4), 13), torch.ones(3, 4, dtype=torch.bool), 0.25),
        ),
        Case(
            "random float64 weights and mask",
            (_randn((5, 6), 14, torch.float64), _rand_mask((5, 6), 15), 0.35),
        ),
    ]


def _remaining_subset() -> list[Case]:
    w = torch.tensor([[5.0, 0.1, 4.0, 0.2], [3.0, 0.3, 2.0, 0.4]])
    large_pruned = torch.tensor([[0, 1, 0, 1], [0, 1, 0, 1]], dtype=torch.bool)
    return [
        Case("the mask pruned the LARGEST weights; they stay pruned", (w, large_pruned, 0.5)),
        Case("fraction 0: the mask comes back unchanged", (w, large_pruned, 0.0)),
        Case(
            "random weights, a random mask, fraction 0.5",
            (_randn((4, 6), 16), _rand_mask((4, 6), 17, keep=0.5), 0.5),
        ),
    ]


def _remaining_ties() -> list[Case]:
    w = torch.tensor([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]])
    mask = torch.tensor([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=torch.bool)
    return [
        Case(
            "equal magnitudes, some already pruned: lowest kept indices pruned first",
            (w, mask, 0.5),
        ),
        Case(
            "equal magnitudes with signs",
            (
                torch.tensor([-0.2, 0.2, 0.3, -0.2, 0.2, 0.1]),
                torch.tensor([1, 1, 0, 1, 1, 0], dtype=torch.bool),
                0.5,
            ),
        ),
        Case(
            "float64 magnitudes that differ only beyond float32 precision are not ties",
            (
                torch.cat(
                    [
                        _near_ties(torch.float64, signs=(1.0, -1.0, 1.0, -1.0)),
                        torch.tensor([0.5, -2.0], dtype=torch.float64),
                    ]
                ),
                torch.tensor([1, 1, 1, 1, 0, 1], dtype=torch.bool),
                0.4,
            ),
            hint="rank the magnitudes in the dtype of the weights (or float64), not in float32",
        ),
    ]


def _remaining_edge() -> list[Case]:
    return [
        Case("fraction 1: every kept entry is pruned", (_w1(), torch.tensor(M1).bool(), 1.0)),
        Case(
            "an all-False mask: nothing left to prune",
            (_w1(), torch.zeros(4, 3, dtype=torch.bool), 0.5),
        ),
        Case(
            "a single kept entry, fraction 0.5 (0.5 rounds up to 1)",
            (
                _w1(),
                torch.tensor([[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]], dtype=torch.bool),
                0.5,
            ),
        ),
    ]


def _remaining_no_mutation() -> list[Case]:
    return [
        Case("worked example 3 weights and mask", (_w1(), torch.tensor(M1, dtype=torch.bool), 0.5))
    ]


def _remaining_errors() -> list[Case]:
    return [
        Case("fraction 1.5", (_w1(), torch.ones(4, 3, dtype=torch.bool), 1.5)),
        Case("fraction -0.2", (_w1(), torch.ones(4, 3, dtype=torch.bool), -0.2)),
        Case(
            "mask of shape (3, 4) for weights of shape (4, 3)",
            (_w1(), torch.ones(3, 4, dtype=torch.bool), 0.5),
        ),
    ]


_remaining_verdict = _checked("prune_remaining", _remaining_judge, _REMAINING_HINT)

make_checks(
    "prune_remaining",
    [
        Part(
            "basic",
            "prune a fraction of the entries still kept",
            _remaining_basic,
            _remaining_verdict,
        ),
        Part("subset", "entries already pruned stay pruned", _remaining_subset, _remaining_verdict),
        Part(
            "ties",
            "equal magnitudes: the lower row-major index is pruned first",
            _remaining_ties,
            _remaining_verdict,
        ),
        Part(
            "edge",
            "fraction 1, nothing kept, a single kept entry",
            _remaining_edge,
            _remaining_verdict,
        ),
        Part(
            "no_mutation",
            "weights and mask are left unchanged",
            _remaining_no_mutation,
            leaves_inputs_unchanged(
                "prune_remaining", ("weights", "mask", "fraction"), results=_remaining_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for a bad fraction or a mask of another shape",
            _remaining_errors,
            raises_value_error(
                "prune_remaining", hint="check 0 <= fraction <= 1 and mask.shape == weights.shape"
            ),
        ),
    ],
)
