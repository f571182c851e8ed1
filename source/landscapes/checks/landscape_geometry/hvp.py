"""Checks of `hvp` (notebook 02): the exact Hessian-vector product H·v at theta.

Compared with the reference on quadratic, curved and MLP losses in float32 and float64,
including losses on which finite differences of the gradient are not exact, and losses whose
Hessian is zero (the result is zeros); it works whether or not theta requires grad and leaves
theta, its `requires_grad` and its `.grad` alone; ValueError when v does not have theta's
shape. A wrong value is diagnosed: H·1, the gradient, H·(v / ‖v‖).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import compare_tensor, leaves_inputs_unchanged, raises_value_error
from solutions import landscape_geometry as ref

from .common import (
    _THETA_GRAD_PROBE,
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
    _unchanged_and_no_grad_left,
)

_HVP = "hvp"
_HVP_HINT = (
    "compute H·v exactly by double backward on a detached copy x of theta that requires grad: "
    "g = torch.autograd.grad(loss_fn(x), x, create_graph=True)[0], then "
    "torch.autograd.grad(g, x, grad_outputs=v)[0] (or torch.func.jvp(torch.func.grad(loss_fn), "
    "(theta,), (v,))[1]); finite differences of the gradient are not exact"
)


def _gradient(loss_fn: Callable, theta: torch.Tensor) -> torch.Tensor:
    """∇L(theta) (zeros when the loss does not depend on theta), for naming a mistake."""
    x = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(x)
        if not loss.requires_grad:
            return torch.zeros_like(x).detach()
        (g,) = torch.autograd.grad(loss, x, allow_unused=True)
    return torch.zeros_like(x).detach() if g is None else g.detach()


def _hvp_mistake(
    got: Any, expected: torch.Tensor, loss_fn: Callable, theta: torch.Tensor, v: torch.Tensor
) -> str:
    """Name a typical mistake whose value `got` equals, else ""."""
    if type(got) is not torch.Tensor or tuple(got.shape) != tuple(expected.shape):
        return ""
    candidates = [
        (
            ref.hvp(loss_fn, theta, torch.ones_like(v)),
            "Your result is H·1 (the sums of the Hessian's rows), not H·v: pass v as "
            "grad_outputs=v (or differentiate (g * v).sum()) instead of g.sum()",
        ),
        (
            _gradient(loss_fn, theta),
            "Your result is the gradient ∇L(theta); differentiate the gradient once more, along v",
        ),
    ]
    norm = float(torch.linalg.vector_norm(v.detach().to(torch.float64)))
    if norm > 0:
        candidates.append(
            (
                ref.hvp(loss_fn, theta, v / norm),
                "Your result is H·(v / ‖v‖): use v as given, without normalising it",
            )
        )
    for target, why in candidates:
        if _tensor_near(got, target) and not _tensor_near(expected, target):
            return "\n" + why
    return ""


def _hvp_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta, v = args
    expected = ref.hvp(loss_fn, theta, v)
    msg = compare_tensor(outcome.value, expected, what="the result of `hvp`")
    return msg + _hvp_mistake(outcome.value, expected, loss_fn, theta, v) if msg else None


_hvp_verdict = _checked(_HVP, _hvp_judge, _HVP_HINT)


_hvp_zero_verdict = _checked(
    _HVP,
    _hvp_judge,
    "where the loss's Hessian is zero, H·v is a tensor of zeros shaped like theta; when the "
    "gradient does not depend on theta (g.requires_grad is False, or autograd returns None) "
    "return torch.zeros_like(theta) instead of differentiating again, and only then",
)


_hvp_zero_unchanged = leaves_inputs_unchanged(
    _HVP, ("loss_fn", "theta", "v"), results=_hvp_zero_verdict
)


def _hvp_zero_part_verdict(case: Case, outcome: Outcome) -> str | None:
    """Zeros for a zero Hessian (with its hint when the call fails), inputs left unchanged."""
    if outcome.status != "returned":
        return _hvp_zero_verdict(case, outcome)
    return _hvp_zero_unchanged(case, outcome)


def _hvp_basic() -> list[Case]:
    d = 5
    A = _sym([3.0, 2.0, 1.0, 0.5, -1.0], 1)
    A32 = _sym([2.0, 1.0, -0.5, 0.25], 2, torch.float32)
    return [
        Case(
            "quadratic ½θᵀAθ + bᵀθ (float64): H = A",
            (
                _quad(A, _randn((d,), 3, torch.float64)),
                _randn((d,), 4, torch.float64),
                _randn((d,), 5, torch.float64),
            ),
        ),
        Case(
            "quadratic (float32): H = A",
            (_quad(A32), _randn((4,), 6), _randn((4,), 7)),
        ),
        Case(
            "a loss whose Hessian depends on theta (float64)",
            (
                _curved(6, 8, 1.0),
                _randn((6,), 9, torch.float64) * 0.5,
                _randn((6,), 10, torch.float64),
            ),
        ),
        Case(
            "v = a standard basis vector: a column of the Hessian",
            (
                _curved(4, 11, 1.0),
                _randn((4,), 12, torch.float64) * 0.5,
                torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64),
            ),
        ),
    ]


def _hvp_exact() -> list[Case]:
    d = 6
    A = _sym([1.0, 0.5, -0.5, 2.0, 1.5, 0.25], 20, torch.float32)
    big_b = torch.full((d,), 1e4)
    return [
        Case(
            "float32, a loss with a large gradient (about 1e4) and a Hessian of order 1",
            (_quad(A, big_b), _randn((d,), 21), _randn((d,), 22)),
            hint="a finite difference (g(θ + εv) − g(θ − εv)) / 2ε of a gradient of size 1e4 "
            "loses all accuracy in float32 rounding; automatic differentiation is exact",
        ),
        Case(
            "float64, a loss with large third derivatives (exp(8·θ_i) terms)",
            (
                _curved(5, 23, 8.0),
                _randn((5,), 24, torch.float64) * 0.3,
                _randn((5,), 25, torch.float64),
            ),
            hint="a finite difference of the gradient is off by terms of order ε·(third "
            "derivative); double backward is exact",
        ),
        Case(
            "float32 MLP loss with ReLUs",
            (_mlp_loss(1, 30), _mlp_theta(1), _randn((_mlp_dim(),), 26)),
        ),
    ]


def _hvp_zero_hessian() -> list[Case]:
    return [
        Case(
            "a linear loss bᵀθ (float32): H·v = 0",
            (Build("linear_loss", {"b": _randn((5,), 40)}), _randn((5,), 41), _randn((5,), 42)),
        ),
        Case(
            "a linear loss bᵀθ (float64), theta requiring grad",
            (
                Build("linear_loss", {"b": _randn((3,), 43, torch.float64)}),
                _leaf(_randn((3,), 44, torch.float64)),
                _randn((3,), 45, torch.float64),
            ),
        ),
        Case(
            "a loss that does not depend on theta (a constant)",
            (Build("constant_loss", {"value": 2.5}), _randn((4,), 46), _randn((4,), 47)),
        ),
        Case(
            "a linear loss plus ½θ₀² (float64): H is zero but for H₀₀ = 1, so H·v = (v₀, 0, 0, 0)",
            (
                _quad(
                    torch.diag(torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)),
                    _randn((4,), 48, torch.float64),
                ),
                _randn((4,), 49, torch.float64),
                torch.tensor([2.0, -1.0, 0.5, 3.0], dtype=torch.float64),
            ),
            hint="zeros only where the Hessian is zero: this gradient depends on θ₀, so "
            "differentiate it along v as for any other loss",
        ),
    ]


def _hvp_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case("MLP flat loss, float32", (_mlp_loss(2, 31), _mlp_theta(2), _randn((d,), 50))),
        Case(
            "MLP flat loss, float64",
            (
                _mlp_loss(3, 32, "float64"),
                _mlp_theta(3, "float64"),
                _randn((d,), 51, torch.float64),
            ),
        ),
    ]


def _hvp_requires_grad() -> list[Case]:
    d = _mlp_dim()
    hint = (
        "work on x = theta.detach().clone().requires_grad_(True) (or use torch.func) instead "
        "of calling theta.requires_grad_()"
    )
    return [
        Case(
            "theta does not require grad",
            (_mlp_loss(4, 33), _mlp_theta(4), _randn((d,), 52)),
            hint=hint,
            post=_THETA_GRAD_PROBE,
        ),
        Case(
            "theta requires grad (a leaf, like a flattened model parameter)",
            (_mlp_loss(4, 33), _mlp_theta(4, requires_grad=True), _randn((d,), 53)),
            hint=hint,
            post=_THETA_GRAD_PROBE,
        ),
        Case(
            "quadratic loss, theta requires grad",
            (
                _quad(_sym([1.0, 2.0, 3.0], 54)),
                _leaf(_randn((3,), 55, torch.float64)),
                _randn((3,), 56, torch.float64),
            ),
            hint=hint,
            post=_THETA_GRAD_PROBE,
        ),
    ]


def _hvp_errors() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0, 4.0], 60, torch.float32)
    return [
        Case("v has 5 entries, theta 4", (_quad(A), _randn((4,), 61), _randn((5,), 62))),
        Case("v has shape (2, 4), theta (4,)", (_quad(A), _randn((4,), 61), _randn((2, 4), 63))),
    ]


make_checks(
    _HVP,
    [
        Part("basic", "H·v of quadratic and curved losses", _hvp_basic, _hvp_verdict),
        Part(
            "exact",
            "exact by automatic differentiation (no finite differences)",
            _hvp_exact,
            _hvp_verdict,
        ),
        Part(
            "zero_hessian",
            "a loss whose Hessian is zero gives zeros",
            _hvp_zero_hessian,
            _hvp_zero_part_verdict,
        ),
        Part("mlp", "an MLP's flat loss in float32 and float64", _hvp_mlp, _hvp_verdict),
        Part(
            "requires_grad",
            "works whether or not theta requires grad and never changes it",
            _hvp_requires_grad,
            _unchanged_and_no_grad_left(_HVP, ("loss_fn", "theta", "v"), results=_hvp_verdict),
        ),
        Part(
            "errors",
            "ValueError when v does not have theta's shape",
            _hvp_errors,
            raises_value_error(_HVP, hint="check v.shape == theta.shape first"),
        ),
    ],
)
