"""Checks of `mask_overlap` (notebook 03): the Jaccard index of the entries two masks keep.

Compared with the reference (both masks empty is 1.0, one empty is 0.0); the masks are left
unchanged; ValueError for masks of different shapes.
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import compare_float, leaves_inputs_unchanged, raises_value_error
from solutions import lottery_tickets as ref

from .common import _checked, _rand_mask

_OVERLAP_HINT = (
    "Jaccard index: (number kept in both) / (number kept in either), i.e. "
    "(mask_a & mask_b).sum() / (mask_a | mask_b).sum(), and 1.0 when both masks keep nothing"
)


def _overlap_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    mask_a, mask_b = args
    inter = int((mask_a & mask_b).sum())
    union = int((mask_a | mask_b).sum())
    msg = compare_float(
        outcome.value, ref.mask_overlap(mask_a, mask_b), what="the result of `mask_overlap`"
    )
    if msg and union:
        msg += f" ({inter} entries are kept in both masks, {union} in at least one)"
    return msg


def _overlap_basic() -> list[Case]:
    a = torch.tensor([[1, 1, 0], [0, 1, 0]], dtype=torch.bool)
    b = torch.tensor([[1, 0, 0], [1, 1, 1]], dtype=torch.bool)
    ra, rb = _rand_mask((5, 6), 121, 0.5), _rand_mask((5, 6), 122, 0.4)
    return [
        Case("two 2x3 masks sharing 2 of 5 kept entries", (a, b)),
        Case("the same masks swapped (the index is symmetric)", (b, a)),
        Case("identical masks", (a, a.clone())),
        Case("disjoint masks", (a, ~a)),
        Case("random masks of shape (5, 6)", (ra, rb)),
        Case(
            "many entries pruned in both (pruned-in-both entries do not count)",
            (
                torch.tensor([1, 0, 0, 0, 0, 0, 0, 0], dtype=torch.bool),
                torch.tensor([1, 1, 0, 0, 0, 0, 0, 0], dtype=torch.bool),
            ),
        ),
    ]


def _overlap_edge() -> list[Case]:
    empty = torch.zeros(2, 3, dtype=torch.bool)
    return [
        Case("both masks keep nothing: 1.0", (empty, empty.clone())),
        Case("one mask keeps nothing: 0.0", (empty, torch.ones(2, 3, dtype=torch.bool))),
        Case("one kept entry in both", (torch.tensor([False, True]), torch.tensor([False, True]))),
    ]


def _overlap_no_mutation() -> list[Case]:
    # Fixed for everyone: on these 16 entries some wrong indices (the share of agreeing
    # entries, |A ∩ B| / numel) happen to give the Jaccard index; on most other draws they
    # do not, so a draw per student would grade the same mistake differently here.
    a, b = _rand_mask((4, 4), 123, fixed=True), _rand_mask((4, 4), 124, fixed=True)
    return [Case("random masks", (a, b))]


def _overlap_errors() -> list[Case]:
    return [
        Case(
            "shapes (2, 3) and (3, 2)",
            (torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool)),
        ),
        Case(
            "shapes (3,) and (1, 3) (broadcasting is not allowed)",
            (torch.ones(3, dtype=torch.bool), torch.ones(1, 3, dtype=torch.bool)),
        ),
        Case(
            "shapes (4,) and (5,)",
            (torch.ones(4, dtype=torch.bool), torch.ones(5, dtype=torch.bool)),
        ),
    ]


_overlap_verdict = _checked("mask_overlap", _overlap_judge, _OVERLAP_HINT)

make_checks(
    "mask_overlap",
    [
        Part("basic", "the Jaccard index of the kept sets", _overlap_basic, _overlap_verdict),
        Part(
            "edge",
            "empty masks: both empty is 1.0, one empty is 0.0",
            _overlap_edge,
            _overlap_verdict,
        ),
        Part(
            "no_mutation",
            "the masks are left unchanged",
            _overlap_no_mutation,
            leaves_inputs_unchanged("mask_overlap", ("mask_a", "mask_b"), results=_overlap_verdict),
        ),
        Part(
            "errors",
            "ValueError for masks of different shapes",
            _overlap_errors,
            raises_value_error("mask_overlap", hint="compare mask_a.shape and mask_b.shape first"),
        ),
    ],
)
