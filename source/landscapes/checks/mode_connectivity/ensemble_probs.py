"""Checks of `ensemble_probs` (notebook 01): the mean of the members' softmax probabilities.

Compared with the reference; computed without gradients; the model (parameters, mode,
`requires_grad` flags, gradients) and the members are left unchanged; ValueError for no
members. A wrong value is diagnosed: the softmax of the averaged logits, the sum, a softmax
over the examples.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.func import functional_call

from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Part
from autograder.checks.verdicts import (
    compare_tensor,
    fresh_inputs,
    leaves_inputs_unchanged,
    raises_value_error,
)
from solutions import mode_connectivity as ref

from .common import (
    LOSS_ATOL,
    LOSS_RTOL,
    _close,
    _data,
    _gen,
    _mlp,
    _model_params_kept,
    _no_grad_verdict,
    _params,
    _probing_model,
    _reference_verdict,
)

_ENSEMBLE_HINT = (
    "for each member: probs = softmax(functional_call(model, member, (X,)), dim=-1); return "
    "the mean of these probabilities over the members, computed without gradients"
)


def _softmax_of_mean_logits(model: torch.nn.Module, params_list: list, X: torch.Tensor):
    with torch.no_grad():
        logits = [functional_call(model, dict(p), (X,)) for p in params_list]
        return torch.softmax(torch.stack(logits).mean(dim=0), dim=-1)


def _ensemble_probs_over(model: torch.nn.Module, params_list: list, X: torch.Tensor, dim: int):
    with torch.no_grad():
        probs = [torch.softmax(functional_call(model, dict(p), (X,)), dim=dim) for p in params_list]
        return torch.stack(probs).mean(dim=0)


def _ensemble_diagnose(case: Case, got: Any) -> str | None:
    args, _ = fresh_inputs(case)
    if _close(got, _softmax_of_mean_logits(*args)):
        return (
            "Your result is the softmax of the members' averaged logits; the ensemble averages "
            "the members' probabilities: softmax each member's logits first, then take the mean."
        )
    count = len(args[1])
    if count > 1 and _close(got, count * ref.ensemble_probs(*args)):
        return (
            f"Your result is the sum of the {count} members' probabilities (each row sums to "
            f"{count}): take their mean."
        )
    if _close(got, _ensemble_probs_over(*args, dim=0)):
        return (
            "Your softmax runs over the examples (dim 0), so each column sums to 1: take it "
            "over the classes, dim=-1."
        )
    return None


def _ensemble_compare(got: Any, expected: Any, what: str) -> str | None:
    return compare_tensor(got, expected, what=what, rtol=LOSS_RTOL, atol=LOSS_ATOL)


_ensemble_verdict = _reference_verdict(
    "ensemble_probs",
    ref.ensemble_probs,
    hint=_ENSEMBLE_HINT,
    diagnose=_ensemble_diagnose,
    compare=_ensemble_compare,
)


def _ensemble_args(model: Build, members: list, offset: int) -> tuple:
    X, _ = _data(_gen(70 + offset))
    return (model, members, X)


def _ensemble_basic() -> list[Case]:
    return [
        Case("two members", _ensemble_args(_mlp(0), [_params(1), _params(2)], 1)),
        Case("three members", _ensemble_args(_mlp(0), [_params(3), _params(4), _params(5)], 2)),
        Case("one member: its softmax", _ensemble_args(_mlp(0), [_params(6)], 3)),
    ]


def _ensemble_gradients() -> list[Case]:
    members = [_params(1, requires_grad=True), _params(2, requires_grad=True)]
    return [Case("members that require grad", _ensemble_args(_mlp(0), members, 4))]


def _ensemble_no_mutation() -> list[Case]:
    return _probing_model(
        [
            Case(
                "a model in train mode",
                _ensemble_args(_mlp(0, train_mode=True), [_params(1), _params(2)], 5),
            ),
            Case("a model in eval mode", _ensemble_args(_mlp(0), [_params(3), _params(4)], 6)),
        ]
    )


def _ensemble_errors() -> list[Case]:
    X, _ = _data(_gen(77))
    return [Case("an empty list of members", (_mlp(0), [], X))]


_ENSEMBLE_ARGS = ("model", "params_list", "X")

make_checks(
    "ensemble_probs",
    [
        Part(
            "basic",
            "the mean of the members' softmax probabilities",
            _ensemble_basic,
            _ensemble_verdict,
        ),
        Part(
            "gradients",
            "the result does not require grad",
            _ensemble_gradients,
            _no_grad_verdict(
                "ensemble_probs",
                _ensemble_verdict,
                hint="compute the probabilities inside `with torch.no_grad():`",
            ),
        ),
        Part(
            "no_mutation",
            "the model (parameters and mode) and members are left unchanged",
            _ensemble_no_mutation,
            _model_params_kept(
                "ensemble_probs",
                leaves_inputs_unchanged(
                    "ensemble_probs",
                    _ENSEMBLE_ARGS,
                    results=_ensemble_verdict,
                    hint="pass each member to torch.func.functional_call "
                    "instead of loading it into the model",
                ),
            ),
        ),
        Part(
            "errors",
            "ValueError for an empty list of members",
            _ensemble_errors,
            raises_value_error("ensemble_probs", hint="check that params_list is not empty"),
        ),
    ],
)
