"""Checks of `topk_score_mask` (notebook 03): the bool mask that keeps the largest scores.

Compared with the reference (signed scores, ties broken by the lower flat index, near-ties,
keep_fraction 0, 1 and a half); the scores are left unchanged; ValueError for keep_fraction
outside [0, 1].
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import leaves_inputs_unchanged, raises_value_error
from solutions import lottery_tickets as ref

from .common import _checked, _near_ties, _randn, compare_mask

_TOPK_HINT = (
    "keep the prune_count(scores.numel(), keep_fraction) LARGEST scores (signed values, not "
    "absolute values); among equal scores the lower flat index is kept first (a stable sort "
    "of -scores.flatten(), or of scores with descending=True, stable=True)"
)


def _topk_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    scores, keep_fraction = args
    n = scores.numel()
    k = ref.prune_count(n, keep_fraction)
    return compare_mask(
        outcome.value,
        ref.topk_score_mask(scores, keep_fraction),
        what="the mask returned by `topk_score_mask`",
        context=f"with {n} scores and keep_fraction {keep_fraction}, "
        f"prune_count is {k} entries kept",
        values=scores,
        value_label="score",
    )


def _topk_basic() -> list[Case]:
    return [
        Case(
            "negative scores are small, not large",
            (torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]]), 0.5),
        ),
        Case("random (4, 5) scores, keep 30%", (_randn((4, 5), 91), 0.3)),
        Case("random 3-D scores (2, 3, 4), keep 0.58", (_randn((2, 3, 4), 92), 0.58)),
        Case("float64 scores, keep 0.75", (_randn((8,), 93, torch.float64), 0.75)),
    ]


def _topk_ties() -> list[Case]:
    return [
        Case("all scores equal: the first ones are kept", (torch.zeros(6), 0.5)),
        Case("ties at the threshold", (torch.tensor([[1.0, 2.0, 2.0], [2.0, 0.5, 2.0]]), 0.5)),
        Case(
            "ties in a 3-D tensor",
            (torch.tensor([[[1.0, 1.0], [3.0, 1.0]], [[1.0, 3.0], [1.0, 0.0]]]), 0.5),
        ),
        Case(
            "float64 scores that differ only beyond float32 precision are not ties",
            (_near_ties(torch.float64), 0.75),
            hint="compare the scores in their own dtype (or float64), not in float32",
        ),
    ]


def _topk_edge() -> list[Case]:
    scores = torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3])
    return [
        Case("keep_fraction 0: nothing kept", (scores, 0.0)),
        Case("keep_fraction 1: everything kept", (scores, 1.0)),
        Case("keep 0.5 of 5: 2.5 rounds up, keep 3", (scores, 0.5)),
    ]


def _topk_no_mutation() -> list[Case]:
    # Fixed for everyone: these scores expose a per-row top-k, which some other draws do not.
    return [Case("random scores", (_randn((3, 4), 94, fixed=True), 0.5))]


def _topk_errors() -> list[Case]:
    return [
        Case("keep_fraction 1.5", (_randn((3, 3), 95), 1.5)),
        Case("keep_fraction -0.1", (_randn((3, 3), 95), -0.1)),
    ]


_topk_verdict = _checked("topk_score_mask", _topk_judge, _TOPK_HINT)

make_checks(
    "topk_score_mask",
    [
        Part("basic", "keeps the largest scores", _topk_basic, _topk_verdict),
        Part("ties", "equal scores: the lower flat index is kept first", _topk_ties, _topk_verdict),
        Part("edge", "keep_fraction 0, 1 and a half", _topk_edge, _topk_verdict),
        Part(
            "no_mutation",
            "the scores are left unchanged",
            _topk_no_mutation,
            leaves_inputs_unchanged(
                "topk_score_mask", ("scores", "keep_fraction"), results=_topk_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for keep_fraction outside [0, 1]",
            _topk_errors,
            raises_value_error("topk_score_mask", hint="check 0 <= keep_fraction <= 1"),
        ),
    ],
)
