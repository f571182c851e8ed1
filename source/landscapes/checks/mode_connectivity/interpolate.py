"""Checks of `interpolate` (notebook 01): theta(alpha) = (1 − alpha)·theta_a + alpha·theta_b.

Compared with the reference for alphas inside and outside [0, 1], float64 parameters and dicts
that list the same keys in another order; ValueError when keys or shapes differ; the inputs
are left unchanged. A wrong value is diagnosed: endpoints swapped, alpha clamped to [0, 1],
tensors paired by position instead of by key.
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

_INTERP_HINT = (
    "theta(alpha) = (1 − alpha)·theta_a + alpha·theta_b for every key: alpha = 0 gives "
    "theta_a, alpha = 1 gives theta_b"
)


def _interp_diagnose(case: Case, got: Any) -> str | None:
    (theta_a, theta_b, alpha), _ = fresh_inputs(case)
    moved = _rekeyed(theta_a, theta_b)
    if moved is not None and _matches_quietly(lambda: ref.interpolate(theta_a, moved, alpha), got):
        return _BY_POSITION
    if _close(got, ref.interpolate(theta_a, theta_b, 1.0 - alpha)):
        return (
            f"Your result is the point at 1 − alpha = {1.0 - alpha:g}: the roles of theta_a and "
            "theta_b are swapped. The convention is that alpha = 0 gives theta_a and alpha = 1 "
            "gives theta_b."
        )
    clamped = min(max(alpha, 0.0), 1.0)
    if clamped != alpha and _close(got, ref.interpolate(theta_a, theta_b, clamped)):
        return (
            f"Your result is the point at alpha = {clamped:g}: alpha was clamped to [0, 1], but "
            "any real alpha is allowed (values outside [0, 1] extrapolate beyond the endpoints)."
        )
    return None


def _interp_case(label: str, gen: torch.Generator, alpha: float, **kw: Any) -> Case:
    dtype = kw.pop("dtype", torch.float32)
    return Case(label, (_random_params(gen, dtype), _random_params(gen, dtype), alpha), **kw)


def _interp_basic() -> list[Case]:
    gen = _gen(1)
    twins = _gen(7)
    twin_a, twin_b = _twin_params(twins), _twin_params(twins)
    return [
        _interp_case("alpha = 0.5, the midpoint", gen, 0.5),
        _interp_case("alpha = 0.25", gen, 0.25),
        Case("two MLPs' parameters, alpha = 0.7", (_params(1), _params(2), 0.7)),
        Case(
            "theta_b holds the same keys in another order, alpha = 0.3",
            (twin_a, _swapped(twin_b), 0.3),
            hint="dicts with the same keys may list them in different orders: pair the "
            "tensors by key",
        ),
    ]


def _interp_alpha_convention() -> list[Case]:
    gen = _gen(2)
    return [
        _interp_case("alpha = 0 must give theta_a", gen, 0.0),
        _interp_case("alpha = 1 must give theta_b", gen, 1.0),
        _interp_case("alpha = 0.2: 80% theta_a, 20% theta_b", gen, 0.2),
    ]


def _interp_extrapolation() -> list[Case]:
    gen = _gen(3)
    return [
        _interp_case("alpha = -0.5 (before theta_a)", gen, -0.5),
        _interp_case("alpha = 1.5 (beyond theta_b)", gen, 1.5),
        _interp_case("alpha = 2.0", gen, 2.0),
    ]


def _interp_dtype() -> list[Case]:
    gen = _gen(4)
    return [
        _interp_case("float64 parameters, alpha = 0.3", gen, 0.3, dtype=torch.float64),
        Case(
            "float64 MLP parameters, alpha = 0.6",
            (_params(1, dtype="float64"), _params(2, dtype="float64"), 0.6),
        ),
    ]


def _interp_errors() -> list[Case]:
    gen = _gen(5)
    a = _random_params(gen)
    b = _random_params(gen)
    extra = {**b, "extra.bias": torch.zeros(2)}
    missing = {k: v for k, v in b.items() if k != "layer.bias"}
    reshaped = {**b, "layer.weight": torch.zeros(2, 3)}
    return [
        Case("theta_b has an extra key", (a, extra, 0.5)),
        Case("theta_b lacks the key 'layer.bias'", (a, missing, 0.5)),
        Case("same keys, 'layer.weight' has shape (2, 3) in theta_b", (a, reshaped, 0.5)),
        Case("theta_a lacks a key of theta_b", (missing, a, 0.5)),
    ]


def _interp_no_mutation() -> list[Case]:
    gen = _gen(6)
    return [
        _interp_case("alpha = 0.4", gen, 0.4),
        _interp_case("alpha = 0", gen, 0.0),
        _interp_case("alpha = 1", gen, 1.0),
    ]


_interp_verdict = _reference_verdict(
    "interpolate",
    ref.interpolate,
    hint=_INTERP_HINT,
    diagnose=_interp_diagnose,
    compare=_dict_compare(),
)

make_checks(
    "interpolate",
    [
        Part(
            "basic",
            "points between two parameter dicts",
            _interp_basic,
            reordered_keys_may_raise(_interp_verdict),
        ),
        Part(
            "alpha_convention",
            "alpha = 0 is theta_a, alpha = 1 is theta_b",
            _interp_alpha_convention,
            _interp_verdict,
        ),
        Part(
            "extrapolation",
            "alphas outside [0, 1] extrapolate",
            _interp_extrapolation,
            _interp_verdict,
        ),
        Part("dtype", "float64 parameters stay float64", _interp_dtype, _interp_verdict),
        Part(
            "errors",
            "ValueError when keys or shapes differ",
            _interp_errors,
            raises_value_error(
                "interpolate",
                hint="compare the key sets and every shape first "
                "and raise ValueError naming theta_a/theta_b",
            ),
        ),
        Part(
            "no_mutation",
            "theta_a and theta_b are left unchanged",
            _interp_no_mutation,
            leaves_inputs_unchanged(
                "interpolate", ("theta_a", "theta_b", "alpha"), results=_interp_verdict
            ),
        ),
    ],
)
