"""Checks of `bezier_point` (notebook 01): the quadratic Bezier curve from theta_a to theta_b with
control point theta_mid.

Compared with the reference (endpoints, inner points, theta_mid the endpoints' average giving
the straight line, float64, dicts with their keys in another order); ValueError when keys or
shapes differ; the inputs are left unchanged. A wrong value is diagnosed: theta_mid missing, a
parabola through theta_mid, the factor 2 dropped, alpha reversed, tensors paired by position.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import (
    fresh_inputs,
    leaves_inputs_unchanged,
    raises_value_error,
    reordered_keys_may_raise,
)
from solutions import mode_connectivity as ref

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

_BEZIER_HINT = (
    "theta(alpha) = (1 − alpha)²·theta_a + 2·alpha·(1 − alpha)·theta_mid + alpha²·theta_b "
    "for every key"
)


def _bezier_without_factor_2(theta_a: dict, theta_mid: dict, theta_b: dict, alpha: float):
    return {
        k: (1 - alpha) ** 2 * theta_a[k]
        + alpha * (1 - alpha) * theta_mid[k]
        + alpha**2 * theta_b[k]
        for k in theta_a
    }


def _bezier_through_mid(theta_a: dict, theta_mid: dict, theta_b: dict, alpha: float):
    """The parabola through theta_a, theta_mid (at alpha = 0.5) and theta_b (a mistake)."""
    return {
        k: (1 - alpha) * (1 - 2 * alpha) * theta_a[k]
        + 4 * alpha * (1 - alpha) * theta_mid[k]
        + alpha * (2 * alpha - 1) * theta_b[k]
        for k in theta_a
    }


def _bezier_diagnose(case: Case, got: Any) -> str | None:
    (theta_a, theta_mid, theta_b, alpha), _ = fresh_inputs(case)
    mid_moved, b_moved = _rekeyed(theta_a, theta_mid), _rekeyed(theta_a, theta_b)
    if (mid_moved is not None or b_moved is not None) and _matches_quietly(
        lambda: ref.bezier_point(theta_a, mid_moved or theta_mid, b_moved or theta_b, alpha), got
    ):
        return _BY_POSITION
    if _close(got, ref.interpolate(theta_a, theta_b, alpha)):
        return (
            "Your result is the straight line interpolate(theta_a, theta_b, alpha): theta_mid "
            "is missing. The middle term is 2·alpha·(1 − alpha)·theta_mid."
        )
    if _close(got, _bezier_through_mid(theta_a, theta_mid, theta_b, alpha)):
        return (
            "Your curve passes through theta_mid at alpha = 0.5 (an interpolating parabola). "
            "In the quadratic Bezier curve theta_mid is a control point, which the curve does "
            "not pass through: use the weights (1 − alpha)², 2·alpha·(1 − alpha) and alpha²."
        )
    if _close(got, _bezier_without_factor_2(theta_a, theta_mid, theta_b, alpha)):
        return (
            "Your result lacks the factor 2 of the middle term: it is 2·alpha·(1 − alpha)·"
            "theta_mid (the weights (1 − alpha)², 2·alpha·(1 − alpha), alpha² sum to 1)."
        )
    if _close(got, ref.bezier_point(theta_a, theta_mid, theta_b, 1.0 - alpha)):
        return (
            f"Your result is the point at 1 − alpha = {1.0 - alpha:g}: alpha = 0 must give "
            "theta_a and alpha = 1 theta_b."
        )
    return None


def _bezier_case(
    label: str, gen: torch.Generator, alpha: float, dtype: torch.dtype = torch.float32
) -> Case:
    a, mid, b = (_random_params(gen, dtype) for _ in range(3))
    return Case(label, (a, mid, b, alpha))


def _bezier_endpoints() -> list[Case]:
    gen = _gen(30)
    return [
        _bezier_case("alpha = 0 gives theta_a", gen, 0.0),
        _bezier_case("alpha = 1 gives theta_b", gen, 1.0),
    ]


def _bezier_basic() -> list[Case]:
    gen = _gen(31)
    return [
        _bezier_case("alpha = 0.5: 0.25·theta_a + 0.5·theta_mid + 0.25·theta_b", gen, 0.5),
        _bezier_case("alpha = 0.3", gen, 0.3),
        _bezier_case("alpha = 0.8", gen, 0.8),
        Case("MLP parameters, alpha = 0.6", (_params(1), _params(3), _params(2), 0.6)),
        _bezier_twin_case(),
    ]


def _bezier_twin_case() -> Case:
    gen = _gen(36)
    a, mid, b = (_twin_params(gen) for _ in range(3))
    return Case(
        "theta_mid and theta_b hold theta_a's keys in another order, alpha = 0.4",
        (a, _swapped(mid), _swapped(b), 0.4),
        hint="dicts with the same keys may list them in different orders: pair the tensors by key",
    )


def _bezier_linear_midpoint() -> list[Case]:
    gen = _gen(32)
    cases = []
    for alpha in (0.25, 0.5, 0.9):
        a, b = _random_params(gen), _random_params(gen)
        mid = {k: (a[k] + b[k]) / 2 for k in a}
        cases.append(
            Case(f"theta_mid = (theta_a + theta_b) / 2, alpha = {alpha}", (a, mid, b, alpha))
        )
    return cases


def _bezier_dtype() -> list[Case]:
    gen = _gen(33)
    return [_bezier_case("float64 parameters, alpha = 0.4", gen, 0.4, torch.float64)]


def _bezier_errors() -> list[Case]:
    gen = _gen(34)
    a, mid, b = (_random_params(gen) for _ in range(3))
    missing = {k: v for k, v in mid.items() if k != "scale"}
    extra = {**b, "extra.bias": torch.zeros(2)}
    reshaped = {**mid, "layer.bias": torch.zeros(1, 3)}
    return [
        Case("theta_mid lacks the key 'scale'", (a, missing, b, 0.5)),
        Case("theta_b has an extra key", (a, mid, extra, 0.5)),
        Case("theta_mid's 'layer.bias' has shape (1, 3) instead of (3,)", (a, reshaped, b, 0.5)),
    ]


def _bezier_no_mutation() -> list[Case]:
    gen = _gen(35)
    return [_bezier_case("alpha = 0.3", gen, 0.3), _bezier_case("alpha = 0", gen, 0.0)]


def _interpolate_of_ends(theta_a: dict, theta_mid: dict, theta_b: dict, alpha: float) -> dict:
    return ref.interpolate(theta_a, theta_b, alpha)


_bezier_verdict = _reference_verdict(
    "bezier_point",
    ref.bezier_point,
    hint=_BEZIER_HINT,
    diagnose=_bezier_diagnose,
    compare=_dict_compare(),
)

make_checks(
    "bezier_point",
    [
        Part(
            "endpoints",
            "alpha = 0 gives theta_a, alpha = 1 gives theta_b",
            _bezier_endpoints,
            _bezier_verdict,
        ),
        Part(
            "basic",
            "points of the quadratic Bezier curve",
            _bezier_basic,
            reordered_keys_may_raise(_bezier_verdict),
        ),
        Part(
            "linear_midpoint",
            "with theta_mid the endpoints' average it equals interpolate",
            _bezier_linear_midpoint,
            _reference_verdict(
                "bezier_point",
                _interpolate_of_ends,
                diagnose=_bezier_diagnose,
                compare=_dict_compare(),
                hint="with theta_mid = (theta_a + theta_b) / 2 the curve is the straight "
                "line: (1 − alpha)² + alpha·(1 − alpha) = 1 − alpha",
            ),
        ),
        Part("dtype", "float64 parameters stay float64", _bezier_dtype, _bezier_verdict),
        Part(
            "errors",
            "ValueError when keys or shapes differ",
            _bezier_errors,
            raises_value_error(
                "bezier_point",
                hint="check that theta_a, theta_mid and theta_b have the same keys and shapes",
            ),
        ),
        Part(
            "no_mutation",
            "the three parameter dicts are left unchanged",
            _bezier_no_mutation,
            leaves_inputs_unchanged(
                "bezier_point",
                ("theta_a", "theta_mid", "theta_b", "alpha"),
                results=_bezier_verdict,
            ),
        ),
    ],
)
