"""Checks of `filter_normalize` (notebook 02): scale every filter of a direction to the norm of
theta's matching filter; tensors with dim ≤ 1 become zeros.

Compared with the reference on 2-D, 3-D and 4-D tensors, zero and tiny filters (the 1e-10);
ValueError when keys or shapes differ (theta's keys in another order may raise too); the
inputs are left unchanged. A wrong value is diagnosed: biases kept, whole tensors or columns
normalised, another epsilon, unit filters, the ratio upside down, norms over dim 1 only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import (
    DICT_TYPES,
    compare_tensor_dict,
    leaves_inputs_unchanged,
    raises_value_error,
    reordered_keys_may_raise,
)
from solutions import landscape_geometry as ref

from .common import _checked, _dict_near, _gen, _tensor_near

_FN = "filter_normalize"
_FN_HINT = (
    "for a tensor with dim ≥ 2 compute the norms per filter, over all dims but dim 0 (e.g. "
    "d.flatten(1).norm(dim=1)), and scale filter i by ‖theta_i‖ / (‖d_i‖ + 1e-10); every "
    "tensor with dim ≤ 1 becomes zeros"
)


def _whole_tensor(direction: dict, theta: dict) -> dict:
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            out[k] = d * theta[k].norm() / (d.norm() + ref.FILTER_NORM_EPS)
    return out


def _per_column(direction: dict, theta: dict) -> dict:
    out = {}
    for k, d in direction.items():
        if d.dim() != 2:
            out[k] = ref.filter_normalize({k: d}, {k: theta[k]})[k]
        else:
            scale = theta[k].norm(dim=0) / (d.norm(dim=0) + ref.FILTER_NORM_EPS)
            out[k] = d * scale[None, :]
    return out


def _filterwise(direction: dict, theta: dict, scale: Callable) -> dict:
    """Every tensor with dim ≥ 2 times `scale(‖d_i‖, ‖theta_i‖)` per filter; dim ≤ 1 zeros."""
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        d_norm = d.reshape(d.shape[0], -1).norm(dim=1)
        t_norm = theta[k].to(d.dtype).reshape(d.shape[0], -1).norm(dim=1)
        out[k] = d * scale(d_norm, t_norm).reshape(-1, *([1] * (d.dim() - 1)))
    return out


def _norm_over_dim1(direction: dict, theta: dict) -> dict:
    """Norms over dim 1 only (keepdim), a mistake that differs from filters for dim ≥ 3."""
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            t = theta[k].to(d.dtype)
            scale = t.norm(dim=1, keepdim=True) / (
                d.norm(dim=1, keepdim=True) + ref.FILTER_NORM_EPS
            )
            out[k] = d * scale
    return out


_EPS = ref.FILTER_NORM_EPS
_FN_VARIANTS: tuple[tuple[Callable[[dict, dict], dict], str], ...] = (
    (
        lambda dr, th: _filterwise(dr, th, lambda dn, tn: tn / dn.clamp_min(_EPS)),
        "You divided by max(‖d_i‖, eps) (as torch.nn.functional.normalize does) or by ‖d_i‖ "
        "alone; the formula divides by ‖d_i‖ + 1e-10",
    ),
    (
        lambda dr, th: _filterwise(dr, th, lambda dn, tn: 1.0 / (dn + _EPS)),
        "Every filter of your result has norm 1: multiply the unit filter d_i / ‖d_i‖ by "
        "‖theta_i‖, the norm of the matching filter of theta",
    ),
    (
        lambda dr, th: _filterwise(dr, th, lambda dn, tn: dn / (tn + _EPS)),
        "Your ratio is upside down: scale filter i by ‖theta_i‖ / (‖d_i‖ + 1e-10)",
    ),
    (
        _norm_over_dim1,
        "You took the norms over dim 1 only; a filter's norm is over all dims but dim 0 "
        "(e.g. d.flatten(1).norm(dim=1))",
    ),
)


def _fn_diagnose(got: Any, direction: dict, theta: dict) -> str:
    keys_1d = [k for k, d in direction.items() if d.dim() <= 1]
    if type(got) not in DICT_TYPES or set(got) != set(direction):
        return ""
    kept = [k for k in keys_1d if _tensor_near(got[k], direction[k]) and direction[k].any()]
    if kept:
        return (
            f"\n{kept[0]!r} (dim ≤ 1) is still the raw direction: biases and other tensors with "
            'dim ≤ 1 become zeros ("ignore biasbn")'
        )
    nonzero = [k for k in keys_1d if type(got[k]) is torch.Tensor and bool(got[k].detach().any())]
    if nonzero:
        return (
            f"\n{nonzero[0]!r} (dim ≤ 1) is not zero: biases and other tensors with dim ≤ 1 "
            'become zeros ("ignore biasbn")'
        )
    if _dict_near(got, _whole_tensor(direction, theta)):
        return (
            "\nYou normalised each tensor as a whole; normalise every filter (index along "
            "dim 0) separately"
        )
    if _dict_near(got, _per_column(direction, theta)):
        return (
            "\nYou normalised the columns (norms along dim 0); a filter is a row, index i along "
            "dim 0, with the norm over all other dims"
        )
    expected = ref.filter_normalize(direction, theta)
    if list(direction) != list(theta) and set(direction) == set(theta):
        by_position = dict(zip(direction, theta.values()))
        if all(by_position[k].shape == d.shape for k, d in direction.items()):
            paired = ref.filter_normalize(direction, by_position)
            if _dict_near(got, paired) and not _dict_near(expected, paired):
                return (
                    "\nYou paired direction's and theta's tensors by position; theta lists the "
                    "same keys in another order, so look each one up by key (theta[k])"
                )
    for variant, why in _FN_VARIANTS:
        target = variant(direction, theta)
        if _dict_near(got, target) and not _dict_near(expected, target):
            return "\n" + why
    if any(
        type(v) is torch.Tensor and v.is_floating_point() and bool(torch.isnan(v).any())
        for v in got.values()
    ):
        return (
            "\nYour result contains NaN: a filter of the direction that is all zeros gives 0/0 "
            "without the 1e-10 in the denominator ‖d_i‖ + 1e-10"
        )
    return ""


def _fn_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    direction, theta = args
    expected = ref.filter_normalize(direction, theta)
    msg = compare_tensor_dict(outcome.value, expected, what="the result of `filter_normalize`")
    if msg:
        return msg + _fn_diagnose(outcome.value, direction, theta)
    return None


_fn_verdict = _checked(_FN, _fn_judge, _FN_HINT)


def _params_like(
    shapes: Mapping[str, tuple[int, ...]], seed: int, dtype: torch.dtype = torch.float32
) -> dict:
    gen = _gen(seed)
    return {k: torch.randn(s, generator=gen, dtype=dtype) for k, s in shapes.items()}


_MLP_SHAPES = {"0.weight": (4, 2), "0.bias": (4,), "2.weight": (3, 4), "2.bias": (3,)}
_TWIN_SHAPES = {"a.weight": (3, 4), "b.weight": (3, 4), "a.bias": (3,), "b.bias": (3,)}
#: `_TWIN_SHAPES`' keys with each pair of equal shapes swapped: pairing by position is silent.
_TWIN_SWAPPED = ("b.weight", "a.weight", "b.bias", "a.bias")


def _in_order(params: dict, keys: tuple[str, ...]) -> dict:
    return {k: params[k] for k in keys}


_CONV_SHAPES = {
    "conv.weight": (3, 2, 3, 3),
    "conv.bias": (3,),
    "fc.weight": (4, 6),
    "fc.bias": (4,),
}


def _fn_basic() -> list[Case]:
    theta_scaled = _params_like(_MLP_SHAPES, 171)
    theta_scaled["0.weight"] = theta_scaled["0.weight"] * torch.tensor(
        [[0.1], [1.0], [5.0], [20.0]]
    )
    return [
        Case(
            "an MLP's weights and biases",
            (_params_like(_MLP_SHAPES, 170), _params_like(_MLP_SHAPES, 172)),
        ),
        Case(
            "filters of theta with very different norms",
            (_params_like(_MLP_SHAPES, 173), theta_scaled),
        ),
        Case(
            "float64 direction and theta",
            (
                _params_like(_MLP_SHAPES, 174, torch.float64),
                _params_like(_MLP_SHAPES, 175, torch.float64),
            ),
        ),
        Case(
            "an MLP's parameters as theta",
            (
                _params_like(
                    {"0.weight": (4, 2), "0.bias": (4,), "2.weight": (3, 4), "2.bias": (3,)}, 176
                ),
                Build(
                    "params_of",
                    {"model": Build("mlp", {"hidden": (4,), "out_dim": 3, "seed": vary(5)})},
                ),
            ),
        ),
        Case(
            "theta holds direction's keys in another order (two weights of one shape)",
            (
                _params_like(_TWIN_SHAPES, 177),
                _in_order(_params_like(_TWIN_SHAPES, 178), _TWIN_SWAPPED),
            ),
            hint="dicts with the same keys may list them in different orders: look theta's "
            "tensors up by key (theta[k]), never pair them with direction's by position",
        ),
    ]


def _fn_filters() -> list[Case]:
    return [
        Case(
            "4-D convolution weights (3, 2, 3, 3)",
            (_params_like(_CONV_SHAPES, 180), _params_like(_CONV_SHAPES, 181)),
        ),
        Case(
            "a 3-D tensor (2, 3, 4)",
            (_params_like({"w": (2, 3, 4)}, 182), _params_like({"w": (2, 3, 4)}, 183)),
        ),
        Case(
            "a single filter (1, 5) and a column (5, 1)",
            (
                _params_like({"a": (1, 5), "b": (5, 1)}, 184),
                _params_like({"a": (1, 5), "b": (5, 1)}, 185),
            ),
        ),
    ]


def _fn_zeros() -> list[Case]:
    direction = _params_like(_MLP_SHAPES, 190)
    direction["0.weight"][2] = 0.0
    tiny = _params_like({"w": (3, 4)}, 191, torch.float64)
    tiny["w"][1] = tiny["w"][1] / tiny["w"][1].norm() * 1e-9
    theta_zero_row = _params_like(_MLP_SHAPES, 192)
    theta_zero_row["2.weight"][0] = 0.0
    return [
        Case(
            "biases, a norm-layer vector and a 0-d scale become zeros",
            (
                _params_like({"w": (3, 3), "bias": (3,), "norm.weight": (3,), "scale": ()}, 193),
                _params_like({"w": (3, 3), "bias": (3,), "norm.weight": (3,), "scale": ()}, 194),
            ),
            hint='every tensor with dim ≤ 1 becomes zeros ("ignore biasbn")',
        ),
        Case(
            "a filter of the direction that is all zeros stays zero",
            (direction, _params_like(_MLP_SHAPES, 195)),
            hint="0 · ‖theta_i‖ / (0 + 1e-10) = 0: the 1e-10 avoids 0/0",
        ),
        Case(
            "a direction filter of norm 1e-9 (float64): the 1e-10 matters",
            (tiny, _params_like({"w": (3, 4)}, 196, torch.float64)),
            hint="divide by ‖d_i‖ + 1e-10 exactly: here that scales the filter to ‖theta_i‖ / 1.1",
        ),
        Case(
            "a filter of theta that is all zeros",
            (_params_like(_MLP_SHAPES, 197), theta_zero_row),
        ),
    ]


def _fn_errors() -> list[Case]:
    direction = _params_like(_MLP_SHAPES, 200)
    theta = _params_like(_MLP_SHAPES, 201)
    missing = {k: v for k, v in direction.items() if k != "2.bias"}
    reshaped = {**direction, "2.weight": torch.zeros(4, 3)}
    return [
        Case("direction lacks the key '2.bias'", (missing, theta)),
        Case("theta lacks the key '2.bias'", (direction, missing)),
        Case("'2.weight' has shape (4, 3) in direction, (3, 4) in theta", (reshaped, theta)),
    ]


def _fn_no_mutation() -> list[Case]:
    return [
        Case(
            "an MLP's weights and biases",
            (_params_like(_MLP_SHAPES, 202), _params_like(_MLP_SHAPES, 203)),
        ),
        Case(
            "convolution weights",
            (_params_like(_CONV_SHAPES, 204), _params_like(_CONV_SHAPES, 205)),
        ),
    ]


make_checks(
    _FN,
    [
        Part(
            "basic",
            "each filter takes the norm of theta's filter",
            _fn_basic,
            reordered_keys_may_raise(_fn_verdict),
        ),
        Part("filters", "filters along dim 0 of 3-D and 4-D tensors", _fn_filters, _fn_verdict),
        Part(
            "zeros",
            "dim ≤ 1 tensors become zeros; zero and tiny filters (the 1e-10)",
            _fn_zeros,
            _fn_verdict,
        ),
        Part(
            "errors",
            "ValueError when keys or shapes differ",
            _fn_errors,
            raises_value_error(
                _FN, hint="check that direction and theta have the same keys and shapes first"
            ),
        ),
        Part(
            "no_mutation",
            "direction and theta are left unchanged",
            _fn_no_mutation,
            leaves_inputs_unchanged(_FN, ("direction", "theta"), results=_fn_verdict),
        ),
    ],
)
