"""Checks of `perturbed_loss_increase` (notebook 02): the mean of L(theta + e) over the rows e of
noise, minus L(theta).

Compared with the reference on quadratic, curved and MLP losses (one row, zero noise, a linear
loss); ValueError for noise that is not 2-D with one column per parameter; theta (its
`requires_grad` and `.grad` too) and the noise are left unchanged. A wrong value is diagnosed:
L(theta) not subtracted, a sum over the rows, L(e), the sign flipped, a division by n − 1,
the loss at the mean perturbation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import as_scalar, leaves_inputs_unchanged, raises_value_error
from solutions import landscape_geometry as ref

from .common import (
    _checked,
    _compare_scalar,
    _curved,
    _mlp_dim,
    _mlp_loss,
    _mlp_theta,
    _near,
    _quad,
    _randn,
    _sym,
)

_PLI = "perturbed_loss_increase"
_PLI_HINT = (
    "evaluate L(theta + e) for every row e of noise (without gradients), take the mean over "
    "the rows and subtract L(theta); return a float"
)


def _loss_values(loss_fn: Callable, points: torch.Tensor) -> list[float]:
    with torch.no_grad():
        return [float(loss_fn(p.clone())) for p in points]


def _pli_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta, noise = args
    expected = ref.perturbed_loss_increase(loss_fn, theta, noise)
    msg = _compare_scalar(outcome.value, expected, "the result of `perturbed_loss_increase`")
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    base = _loss_values(loss_fn, theta.detach()[None])[0]
    shifted = _loss_values(loss_fn, theta.detach() + noise)
    n = len(shifted)
    if _near(got, sum(shifted) / n):
        return f"{msg}: your result is the mean of L(theta + e) without subtracting L(theta)"
    if n > 1 and (_near(got, sum(shifted) - base) or _near(got, sum(shifted) - n * base)):
        return f"{msg}: your result sums over the {n} rows of noise instead of averaging them"
    if _near(got, sum(_loss_values(loss_fn, noise)) / n - base):
        return f"{msg}: your result evaluates L(e) instead of L(theta + e)"
    if _near(got, base - sum(shifted) / n) and not _near(expected, 0.0):
        return (
            f"{msg}: the sign is flipped, L(theta) minus the mean; the increase is the mean of "
            "L(theta + e) minus L(theta)"
        )
    if n > 1 and _near(got, expected * n / (n - 1)) and not _near(expected, 0.0):
        return (
            f"{msg}: your result divides by n − 1 = {n - 1}; take the plain mean over the {n} "
            "rows of noise"
        )
    at_mean = _loss_values(loss_fn, theta.detach()[None] + noise.mean(0))[0] - base
    if n > 1 and _near(got, at_mean) and not _near(expected, at_mean):
        return (
            f"{msg}: your result is L(theta + mean of the rows of noise) − L(theta): average "
            "the losses L(theta + e) over the rows, not the perturbations e"
        )
    if outcome.global_rng_changed:
        return (
            f"{msg}: your function drew from torch's global random generator; use exactly "
            "the given rows of `noise` as the perturbations (draw nothing)"
        )
    return msg


_pli_verdict = _checked(_PLI, _pli_judge, _PLI_HINT)


def _pli_basic() -> list[Case]:
    A = _sym([2.0, 1.0, 0.5, 3.0], 100)
    b = _randn((4,), 101, torch.float64)
    theta = _randn((4,), 102, torch.float64) + 1.0
    return [
        Case(
            "quadratic (float64), 6 perturbations of size 0.1",
            (_quad(A, b), theta, 0.1 * _randn((6, 4), 103, torch.float64)),
        ),
        Case(
            "quadratic (float32), 3 perturbations",
            (
                _quad(_sym([1.0, 4.0, 2.0], 104, torch.float32)),
                _randn((3,), 105) + 2.0,
                0.5 * _randn((3, 3), 106),
            ),
        ),
        Case(
            "a loss whose Hessian depends on theta, 5 perturbations",
            (
                _curved(5, 107, 1.0),
                _randn((5,), 108, torch.float64) * 0.5,
                0.2 * _randn((5, 5), 109, torch.float64),
            ),
        ),
    ]


def _pli_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss (float32), 8 perturbations of size 0.05",
            (_mlp_loss(8, 37), _mlp_theta(8), 0.05 * _randn((8, d), 110)),
        ),
        Case(
            "MLP flat loss (float64), 4 perturbations of size 0.2",
            (
                _mlp_loss(9, 38, "float64"),
                _mlp_theta(9, "float64"),
                0.2 * _randn((4, d), 111, torch.float64),
            ),
        ),
    ]


def _pli_edge() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0], 112)
    theta = _randn((3,), 113, torch.float64) + 1.0
    return [
        Case("one perturbation", (_quad(A), theta, _randn((1, 3), 114, torch.float64))),
        Case("zero perturbations: 0.0", (_quad(A), theta, torch.zeros(4, 3, dtype=torch.float64))),
        Case(
            "a linear loss: the mean of bᵀe",
            (
                Build("linear_loss", {"b": _randn((3,), 115)}),
                _randn((3,), 116),
                _randn((5, 3), 117),
            ),
        ),
    ]


def _pli_errors() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0, 4.0], 120, torch.float32)
    theta = _randn((4,), 121)
    return [
        Case("noise 1-D (one vector of length 4)", (_quad(A), theta, _randn((4,), 122))),
        Case("noise with 5 columns for 4 parameters", (_quad(A), theta, _randn((3, 5), 123))),
        Case("noise with 2 columns for 4 parameters", (_quad(A), theta, _randn((4, 2), 124))),
        Case("noise 3-D: shape (2, 3, 4)", (_quad(A), theta, _randn((2, 3, 4), 125))),
    ]


def _pli_no_mutation() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "theta requires grad",
            (_mlp_loss(10, 39), _mlp_theta(10, requires_grad=True), 0.1 * _randn((3, d), 126)),
        ),
        Case(
            "theta does not require grad",
            (_mlp_loss(10, 39), _mlp_theta(10), 0.1 * _randn((3, d), 127)),
        ),
    ]


make_checks(
    _PLI,
    [
        Part("basic", "mean of L(theta + e) minus L(theta)", _pli_basic, _pli_verdict),
        Part("mlp", "an MLP's flat loss", _pli_mlp, _pli_verdict),
        Part("edge", "one row, zero noise, a linear loss", _pli_edge, _pli_verdict),
        Part(
            "errors",
            "ValueError for noise that is not 2-D with one column per parameter",
            _pli_errors,
            raises_value_error(
                _PLI, hint="check noise.dim() == 2 and noise.shape[1] == theta.numel() first"
            ),
        ),
        Part(
            "no_mutation",
            "theta (and its requires_grad) and noise are left unchanged",
            _pli_no_mutation,
            leaves_inputs_unchanged(_PLI, ("loss_fn", "theta", "noise"), results=_pli_verdict),
        ),
    ],
)
