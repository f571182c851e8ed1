"""Checks of `average_params` (notebook 01): the (weighted) average of parameter dicts.

Compared with the reference (uniform and explicit weights, float64, members with their keys in
another order); ValueError for an empty list, mismatched keys or bad weights; the inputs are
left unchanged. A wrong value is diagnosed: the sum, weights reversed or ignored, tensors
paired by position.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import (
    compare_tensor_dict,
    fresh_inputs,
    leaves_inputs_unchanged,
    raises_value_error,
    reordered_keys_may_raise,
)
from solutions import mode_connectivity as ref
from solutions._common import as_float_list

from ..draws import DRAW_STRIDE, first_draw
from .common import (
    _BY_POSITION,
    _close,
    _dict_compare,
    _gen,
    _matches_quietly,
    _params,
    _random_params,
    _reference_verdict,
    _rekeyed,
    _swapped,
    _twin_params,
)

_AVERAGE_HINT = (
    "result[k] = sum_i weights[i]·params_list[i][k], with weights 1 / len(params_list) by default"
)


def _average_diagnose(case: Case, got: Any) -> str | None:
    (params_list, *rest), _ = fresh_inputs(case)
    weights = rest[0] if rest else None
    moved = [_rekeyed(params_list[0], p) or p for p in params_list]
    if any(m is not p for m, p in zip(moved, params_list)) and _matches_quietly(
        lambda: ref.average_params(moved, weights), got
    ):
        return _BY_POSITION
    if len(params_list) > 1 and _matches_quietly(
        lambda: {k: sum(p[k] for p in params_list) for k in params_list[0]}, got
    ):
        return "Your result is the sum of the members, not their (weighted) average."
    if rest and rest[0] is not None and len(params_list) > 1:
        weights = as_float_list(rest[0], "weights")
        if _close(got, ref.average_params(params_list, list(reversed(weights)))):
            return "Your result pairs the weights with the members in reverse order."
    if rest and rest[0] is not None and _close(got, ref.average_params(params_list)):
        return "Your result ignores the weights: it is the uniform average."
    return None


_average_verdict = _reference_verdict(
    "average_params",
    ref.average_params,
    hint=_AVERAGE_HINT,
    diagnose=_average_diagnose,
    compare=_dict_compare(),
)


def _members(gen: torch.Generator, count: int, dtype: torch.dtype = torch.float32) -> list:
    return [_random_params(gen, dtype) for _ in range(count)]


def _average_uniform() -> list[Case]:
    gen = _gen(60)
    return [
        Case("two members, default weights", (_members(gen, 2),)),
        Case("three members, default weights", (_members(gen, 3),)),
        Case("one member: its own parameters", (_members(gen, 1),)),
        Case("two MLPs' parameters", ([_params(1), _params(2)],)),
        _average_twin_case(),
    ]


def _average_twin_case() -> Case:
    gen = _gen(65)
    a, b, c = (_twin_params(gen) for _ in range(3))
    return Case(
        "three members, the second with its keys in another order",
        ([a, _swapped(b), c],),
        hint="dicts with the same keys may list them in different orders: pair the tensors by key",
    )


def _average_weights() -> list[Case]:
    gen = _gen(61)
    return [
        Case("weights [0.25, 0.75]", (_members(gen, 2), [0.25, 0.75])),
        Case("weights [0.2, 0.3, 0.5]", (_members(gen, 3), [0.2, 0.3, 0.5])),
        Case("weights [1, 0]: the first member", (_members(gen, 2), [1.0, 0.0])),
        Case(
            "weights as a float32 tensor (their sum is 1.0000000075)",
            (_members(gen, 3), torch.tensor([0.5, 0.1, 0.4])),
            hint="weights must sum to 1 within the tolerance 1e-6, not exactly",
        ),
        Case(
            "ten weights of 0.1 (their float sum is 0.9999999999999999)",
            (_members(gen, 10), [0.1] * 10),
            hint="weights must sum to 1 within the tolerance 1e-6, not exactly",
        ),
    ]


_DTYPE_WEIGHTS = [0.6, 0.4]
DTYPE_DRAWS = 20
"""Draws of the dtype part's members tried until float32 weights show (about 3 in 4 do)."""


def float32_weights_show(members: list) -> bool:
    """Whether the average of `members` with `_DTYPE_WEIGHTS` rounded to float32 (as
    torch.tensor(weights) makes them) fails the float64 comparison: the case that tells a
    float64 result from one right only to float32 accuracy needs such members."""
    rounded = torch.tensor(_DTYPE_WEIGHTS).tolist()
    exact = ref.average_params(members, _DTYPE_WEIGHTS)
    return compare_tensor_dict(ref.average_params(members, rounded), exact, what="") is not None


def _dtype_members(k: int) -> tuple[list, list]:
    gen = _gen(62 + k * DRAW_STRIDE)
    return _members(gen, 2, torch.float64), _members(gen, 2, torch.float64)


def _average_dtype() -> list[Case]:
    uniform, weighted = first_draw(
        _dtype_members, lambda drawn: float32_weights_show(drawn[1]), DTYPE_DRAWS
    )
    return [
        Case("float64 members, default weights", (uniform,)),
        Case("float64 members, weights [0.6, 0.4]", (weighted, list(_DTYPE_WEIGHTS))),
    ]


def _average_errors() -> list[Case]:
    gen = _gen(63)
    a, b = _members(gen, 2)
    return [
        Case("an empty list", ([],)),
        Case("an empty list with weights", ([], [])),
        Case("members with different keys", ([a, {**b, "extra": torch.zeros(1)}],)),
        Case("a member lacking a key", ([a, {k: v for k, v in b.items() if k != "scale"}],)),
        Case("a negative weight: [1.5, -0.5]", ([a, b], [1.5, -0.5])),
        Case("weights summing to 1.1", ([a, b], [0.5, 0.6])),
        Case("weights summing to 0.5", ([a, b], [0.25, 0.25])),
        Case("three weights for two members", ([a, b], [0.5, 0.25, 0.25])),
    ]


def _average_no_mutation() -> list[Case]:
    gen = _gen(64)
    return [
        Case("default weights", (_members(gen, 3),)),
        Case("explicit weights", (_members(gen, 2), [0.3, 0.7])),
    ]


make_checks(
    "average_params",
    [
        Part(
            "uniform",
            "the uniform average by default",
            _average_uniform,
            reordered_keys_may_raise(_average_verdict),
        ),
        Part("weights", "explicit weights", _average_weights, _average_verdict),
        Part("dtype", "float64 members give float64 results", _average_dtype, _average_verdict),
        Part(
            "errors",
            "ValueError for an empty list, mismatched keys or bad weights",
            _average_errors,
            raises_value_error(
                "average_params",
                hint="check: at least one member, equal keys, one weight per "
                "member, weights >= 0 summing to 1 within 1e-6",
            ),
        ),
        Part(
            "no_mutation",
            "the members are left unchanged",
            _average_no_mutation,
            leaves_inputs_unchanged(
                "average_params", ("params_list", "weights"), results=_average_verdict
            ),
        ),
    ],
)
