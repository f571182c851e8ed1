"""Checks of `straight_through_mask` (notebook 03): the top-k mask as 0.0/1.0 forward, the
identity backward.

Compared with the reference: the forward value in the dtype and shape of scores; the gradient
that reaches scores (recorded by an after-call probe that back-propagates through the result)
is the incoming gradient unchanged; scores are left unchanged; ValueError for keep_fraction
outside [0, 1].
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import (
    compare_tensor,
    leaves_inputs_unchanged,
    raises_value_error,
    with_hint,
)
from solutions import lottery_tickets as ref

from .common import _checked, _gen, _randn

_ST_HINT = (
    "the forward value is topk_score_mask(scores, keep_fraction) as 0.0/1.0 in the dtype of "
    "scores; the straight-through trick m + (scores - scores.detach()) (or a custom "
    "torch.autograd.Function) passes the incoming gradient to scores unchanged"
)


def _st_forward_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    scores, keep_fraction = args
    expected = ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)
    return compare_tensor(
        outcome.value, expected, what="the forward value of `straight_through_mask`"
    )


def _st_gradient_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    msg = _st_forward_judge(outcome, args, kwargs)
    if msg:
        return msg
    if "grad_error" in outcome.probe:
        return f"no gradient reaches scores: {outcome.probe['grad_error']}"
    if "post_error" in outcome.probe:
        return (
            "back-propagating through the result of `straight_through_mask` failed: "
            f"{outcome.probe['post_error']}"
        )
    if "grad" not in outcome.probe:
        return "no gradient reaches scores"
    return None


_st_gradient_checked = _checked("straight_through_mask", _st_gradient_judge, _ST_HINT)


def _st_gradient_verdict(case: Case, outcome: Outcome) -> str | None:
    msg = _st_gradient_checked(case, outcome)
    if msg:
        return msg
    # Every gradient case carries a grad probe whose incoming gradient has the dtype of scores.
    incoming = case.post.params["grad_output"] if case.post is not None else None
    if type(incoming) is not torch.Tensor:
        raise RuntimeError(f"gradient case {case.label!r} has no grad_probe")
    msg = compare_tensor(outcome.probe["grad"], incoming, what="the gradient that reaches scores")
    if msg:
        return with_hint(
            msg + " (it should be the incoming gradient, unchanged)",
            case,
            "straight-through: the backward pass ignores the thresholding, so d(result)/d(scores) "
            "is the identity; do not multiply the gradient by the mask or a sigmoid",
        )
    return None


def _st_basic() -> list[Case]:
    return [
        Case(
            "negative scores are small, not large",
            (torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]]), 0.5),
        ),
        Case("random (4, 5) scores, keep 30%", (_randn((4, 5), 101), 0.3)),
        Case("ties: the lower flat index is kept first", (torch.zeros(2, 3), 0.5)),
        Case(
            "keep 0.5 of 5: 2.5 rounds up, keep 3", (torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3]), 0.5)
        ),
    ]


def _st_conventions() -> list[Case]:
    return [
        Case("float64 scores give a float64 result", (_randn((3, 4), 102, torch.float64), 0.5)),
        Case("3-D scores keep their shape", (_randn((2, 2, 3), 103), 0.25)),
        Case(
            "scores that require grad (a leaf)",
            (Build("leaf_tensor", {"values": _randn((3, 3), 104)}), 0.5),
        ),
    ]


def _grad_case(label: str, scores: torch.Tensor, keep_fraction: float, seed: int) -> Case:
    incoming = torch.randn(scores.shape, generator=_gen(seed), dtype=scores.dtype)
    return Case(
        label,
        (Build("leaf_tensor", {"values": scores}), keep_fraction),
        post=Build("grad_probe", {"grad_output": incoming, "arg": 0}),
    )


def _st_gradient() -> list[Case]:
    return [
        _grad_case("a random incoming gradient, float32 scores", _randn((3, 4), 105), 0.5, 106),
        _grad_case(
            "a random incoming gradient, float64 scores",
            _randn((2, 5), 107, torch.float64),
            0.3,
            108,
        ),
        _grad_case(
            "keep_fraction 0: the gradient still flows to every score", _randn((6,), 109), 0.0, 110
        ),
    ]


def _st_no_mutation() -> list[Case]:
    return [
        Case(
            "scores that do not require grad",
            (_randn((3, 4), 111), 0.5),
            hint="do not call scores.requires_grad_() or change scores in place",
        )
    ]


def _st_errors() -> list[Case]:
    return [
        Case("keep_fraction 1.5", (_randn((3, 3), 112), 1.5)),
        Case("keep_fraction -0.5", (_randn((3, 3), 112), -0.5)),
    ]


_st_verdict = _checked("straight_through_mask", _st_forward_judge, _ST_HINT)

make_checks(
    "straight_through_mask",
    [
        Part("basic", "the forward value is the top-k mask as 0.0/1.0", _st_basic, _st_verdict),
        Part("conventions", "the dtype and shape of scores", _st_conventions, _st_verdict),
        Part(
            "gradient",
            "the gradient to scores is the incoming gradient (straight-through)",
            _st_gradient,
            _st_gradient_verdict,
        ),
        Part(
            "no_mutation",
            "scores are left unchanged",
            _st_no_mutation,
            leaves_inputs_unchanged(
                "straight_through_mask", ("scores", "keep_fraction"), results=_st_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for keep_fraction outside [0, 1]",
            _st_errors,
            raises_value_error("straight_through_mask", hint="check 0 <= keep_fraction <= 1"),
        ),
    ],
)
