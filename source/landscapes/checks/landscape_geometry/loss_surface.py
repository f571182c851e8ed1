"""Checks of `loss_surface` (notebook 02): Z[i, j] = L(theta + alphas[i]·d1 + betas[j]·d2).

Compared with the reference on quadratic and MLP losses, alphas and betas as lists, tensors or
a single value, in theta's dtype; the result does not require grad, even when theta does;
ValueError when d1 or d2 does not have theta's shape; the inputs are left unchanged. A wrong
value is diagnosed: the plane not through theta, Z transposed, d1 and d2 swapped, the grid
points in meshgrid's 'xy' order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import compare_tensor, leaves_inputs_unchanged, raises_value_error
from solutions import landscape_geometry as ref

from .common import (
    _checked,
    _curved,
    _leaf,
    _mlp_dim,
    _mlp_loss,
    _mlp_theta,
    _quad,
    _randn,
    _sym,
    _tensor_near,
)

# Tolerances and sizes (named, never inline)

SURFACE_RTOL = 1e-5
"""Relative tolerance of loss-surface values when their dtype is not what is checked."""
SURFACE_ATOL = 1e-6
"""Absolute tolerance of loss-surface values."""


_SURF = "loss_surface"
_SURF_HINT = (
    "Z has one row per alpha and one column per beta: Z[i, j] = loss_fn(theta + alphas[i]·d1 "
    "+ betas[j]·d2), evaluated without gradients (torch.no_grad())"
)


def _surface_by_loop(
    loss_fn: Callable,
    theta: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    alphas: list[float],
    betas: list[float],
) -> torch.Tensor:
    with torch.no_grad():
        return torch.tensor(
            [[float(loss_fn(theta.detach() + a * d1 + b * d2)) for b in betas] for a in alphas],
            dtype=torch.float64,
        )


def _surf_diagnose(got: Any, args: tuple) -> str:
    loss_fn, theta, d1, d2, alphas, betas = args
    a = [float(x) for x in (alphas.tolist() if isinstance(alphas, torch.Tensor) else alphas)]
    b = [float(x) for x in (betas.tolist() if isinstance(betas, torch.Tensor) else betas)]
    if _tensor_near(got, _surface_by_loop(loss_fn, torch.zeros_like(theta), d1, d2, a, b)):
        return "\nYour surface is L(alphas[i]·d1 + betas[j]·d2): the plane must pass through theta"
    expected = _surface_by_loop(loss_fn, theta, d1, d2, a, b)
    square = len(a) == len(b) and len(a) > 1
    if square and _tensor_near(got, expected.T) and not _tensor_near(expected, expected.T):
        also = (
            "; with alphas equal to betas that is also what swapping d1 and d2 gives "
            "(alphas multiply d1, betas multiply d2)"
            if a == b
            else ""
        )
        return (
            "\nYour surface is transposed: row i belongs to alphas[i] and column j to betas[j] "
            f"(torch.meshgrid / np.meshgrid need indexing='ij' for that layout){also}"
        )
    if _tensor_near(got, _surface_by_loop(loss_fn, theta, d2, d1, a, b)):
        return "\nYour surface swaps the directions: alphas multiply d1 and betas multiply d2"
    if len(a) > 1 and len(b) > 1:
        # meshgrid's default indexing='xy' enumerates the points with betas varying slowest
        xy = torch.stack([_surface_by_loop(loss_fn, theta, d1, d2, a, [y])[:, 0] for y in b])
        if _tensor_near(got, xy.reshape(len(a), len(b))):
            return (
                "\nYour grid points are in the wrong order: they were generated with betas "
                "varying slowest (meshgrid's default indexing='xy') and then reshaped to "
                "(len(alphas), len(betas)); use indexing='ij' so that Z[i, j] belongs to "
                "alphas[i] and betas[j]"
            )
    n1 = float(torch.linalg.vector_norm(d1.detach().to(torch.float64)))
    n2 = float(torch.linalg.vector_norm(d2.detach().to(torch.float64)))
    if n1 > 0 and n2 > 0:
        unit = _surface_by_loop(loss_fn, theta, d1 / n1, d2 / n2, a, b)
        if _tensor_near(got, unit) and not _tensor_near(expected, unit):
            return (
                "\nYou normalised d1 and d2 to unit length; use the directions as given "
                "(they come filter-normalised already)"
            )
    return ""


def _surf_compare(got: Any, expected: torch.Tensor, *, check_dtype: bool) -> str | None:
    what = "the result of `loss_surface`"
    if type(got) is torch.Tensor and not got.is_floating_point():
        return f"{what} has dtype {got.dtype}; losses are floating-point numbers"
    if check_dtype:
        return compare_tensor(got, expected, what=what)
    return compare_tensor(
        got, expected, what=what, rtol=SURFACE_RTOL, atol=SURFACE_ATOL, check_dtype=False
    )


def _surf_judge(check_dtype: bool = False):
    def judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
        expected = ref.loss_surface(*args)
        msg = _surf_compare(outcome.value, expected, check_dtype=check_dtype)
        return msg + _surf_diagnose(outcome.value, args) if msg else None

    return judge


_surf_verdict = _checked(_SURF, _surf_judge(), _SURF_HINT)


def _surf_no_grad_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    value = outcome.value
    if type(value) is torch.Tensor and (value.requires_grad or value.grad_fn is not None):
        return (
            "the result of `loss_surface` requires grad (it carries an autograd graph): "
            "evaluate the losses inside `with torch.no_grad():` (theta may require grad)"
        )
    return _surf_judge()(case, outcome, args, kwargs)


def _surf_basic() -> list[Case]:
    A = _sym([2.0, 1.0, 0.5, -0.5, 1.5], 210)
    b = _randn((5,), 211, torch.float64)
    return [
        Case(
            "quadratic, 3 alphas × 4 betas",
            (
                _quad(A, b),
                _randn((5,), 212, torch.float64),
                _randn((5,), 213, torch.float64),
                _randn((5,), 214, torch.float64),
                [-1.0, 0.0, 1.0],
                [-0.5, 0.0, 0.5, 1.0],
            ),
            hint="the result has shape (len(alphas), len(betas)) = (3, 4)",
        ),
        Case(
            "quadratic (float32), 5 alphas × 2 betas",
            (
                _quad(_sym([1.0, 3.0, 2.0], 215, torch.float32)),
                _randn((3,), 216),
                _randn((3,), 217),
                _randn((3,), 218),
                [-1.0, -0.5, 0.0, 0.5, 1.0],
                [0.0, 2.0],
            ),
        ),
        Case(
            "a loss whose Hessian depends on theta, 2 alphas × 3 betas",
            (
                _curved(4, 219, 1.0),
                _randn((4,), 220, torch.float64) * 0.5,
                _randn((4,), 221, torch.float64) * 0.3,
                _randn((4,), 222, torch.float64) * 0.3,
                [0.25, -0.75],
                [1.0, -1.0, 0.5],
            ),
        ),
    ]


def _surf_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss (float32), 4 alphas × 3 betas",
            (
                _mlp_loss(11, 40),
                _mlp_theta(11),
                0.5 * _randn((d,), 223),
                0.5 * _randn((d,), 224),
                [-1.0, -1 / 3, 1 / 3, 1.0],
                [-1.0, 0.0, 1.0],
            ),
        ),
        Case(
            "MLP flat loss (float64), 2 alphas × 5 betas",
            (
                _mlp_loss(12, 41, "float64"),
                _mlp_theta(12, "float64"),
                _randn((d,), 225, torch.float64),
                _randn((d,), 226, torch.float64),
                [0.0, 0.5],
                [-1.0, -0.5, 0.0, 0.5, 1.0],
            ),
        ),
    ]


def _surf_conventions() -> list[Case]:
    A = _sym([1.0, 2.0, 0.5, 1.5], 230)
    theta = _randn((4,), 231, torch.float64)
    d1 = _randn((4,), 232, torch.float64)
    d2 = _randn((4,), 233, torch.float64)
    return [
        Case(
            "alphas and betas as tensors (torch.linspace)",
            (
                _quad(A),
                theta,
                d1,
                d2,
                torch.linspace(-1, 1, 3, dtype=torch.float64),
                torch.linspace(-2, 2, 5, dtype=torch.float64),
            ),
        ),
        Case(
            "alphas and betas as float32 tensors",
            (_quad(A), theta, d1, d2, torch.linspace(-1, 1, 4), torch.linspace(0, 1, 2)),
        ),
        Case("one alpha and one beta: shape (1, 1)", (_quad(A), theta, d1, d2, [0.5], [-0.5])),
        Case(
            "float64 theta gives a float64 surface",
            (_quad(A), theta, d1, d2, [0.0, 1.0], [0.0, 1.0, 2.0]),
            hint="build Z in theta's dtype (e.g. torch.stack of the losses, or "
            "torch.empty(..., dtype=theta.dtype))",
        ),
        Case(
            "float32 theta gives a float32 surface",
            (
                _quad(_sym([1.0, 2.0, 0.5, 1.5], 230, torch.float32)),
                _randn((4,), 231),
                _randn((4,), 232),
                _randn((4,), 233),
                [0.0, 1.0],
                [0.0, 1.0, 2.0],
            ),
            hint="tensors keep the input's dtype: build Z in theta's dtype (e.g. torch.stack "
            "of the losses, or torch.empty(..., dtype=theta.dtype)), not always float64",
        ),
    ]


def _surf_gradients() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "theta requires grad (MLP flat loss)",
            (
                _mlp_loss(13, 42),
                _mlp_theta(13, requires_grad=True),
                0.5 * _randn((d,), 234),
                0.5 * _randn((d,), 235),
                [-1.0, 0.0, 1.0],
                [0.0, 1.0],
            ),
        ),
        Case(
            "theta requires grad (quadratic)",
            (
                _quad(_sym([1.0, 2.0, 3.0], 236)),
                _leaf(_randn((3,), 237, torch.float64)),
                _randn((3,), 238, torch.float64),
                _randn((3,), 239, torch.float64),
                [0.5, 1.0],
                [0.0, 1.0, 2.0],
            ),
        ),
    ]


def _surf_errors() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0, 4.0], 240, torch.float32)
    theta = _randn((4,), 241)
    return [
        Case(
            "d1 has 5 entries, theta 4",
            (_quad(A), theta, _randn((5,), 242), _randn((4,), 243), [0.0, 1.0], [0.0, 1.0]),
        ),
        Case(
            "d2 has 3 entries, theta 4",
            (_quad(A), theta, _randn((4,), 244), _randn((3,), 245), [0.0, 1.0], [0.0, 1.0]),
        ),
    ]


def _surf_no_mutation() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss",
            (
                _mlp_loss(14, 43),
                _mlp_theta(14),
                0.5 * _randn((d,), 246),
                0.5 * _randn((d,), 247),
                torch.linspace(-1, 1, 3),
                torch.linspace(-1, 1, 3),
            ),
        ),
    ]


make_checks(
    _SURF,
    [
        Part(
            "basic", "Z[i, j] = L(theta + alphas[i]·d1 + betas[j]·d2)", _surf_basic, _surf_verdict
        ),
        Part("mlp", "an MLP's flat loss", _surf_mlp, _surf_verdict),
        Part(
            "conventions",
            "alphas and betas as tensors, a single value, theta's dtype",
            _surf_conventions,
            _checked(_SURF, _surf_judge(check_dtype=True), _SURF_HINT),
        ),
        Part(
            "gradients",
            "the result does not require grad, even when theta does",
            _surf_gradients,
            _checked(_SURF, _surf_no_grad_judge, _SURF_HINT),
        ),
        Part(
            "errors",
            "ValueError when d1 or d2 does not have theta's shape",
            _surf_errors,
            raises_value_error(_SURF, hint="check d1.shape and d2.shape against theta.shape"),
        ),
        Part(
            "no_mutation",
            "theta, d1, d2, alphas and betas are left unchanged",
            _surf_no_mutation,
            leaves_inputs_unchanged(
                _SURF, ("loss_fn", "theta", "d1", "d2", "alphas", "betas"), results=_surf_verdict
            ),
        ),
    ],
)
