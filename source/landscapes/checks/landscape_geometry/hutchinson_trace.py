"""Checks of `hutchinson_trace` (notebook 02): the mean of vᵀHv over the given probes.

Compared with the reference, exact for any given probes (Rademacher, Gaussian, scaled basis
vectors, one probe, a saddle, a zero Hessian) on quadratic, curved and MLP losses; ValueError
for probes that are not 2-D with one column per parameter; theta (its `requires_grad` and
`.grad` too) and the probes are left unchanged. A wrong value is diagnosed: the sum instead of
the mean, the exact trace, the sign lost, a division by dim or by num_probes − 1, the first
probe only, negative values clamped, 1ᵀHv instead of vᵀHv.

The random inputs vary per student. Cases drawn until their estimate has the property that
makes them tell a mistake (`first_draw`): the saddle's estimate is below −1; the other random
cases of the parts `basic`, `mlp` and `no_mutation` have a positive estimate, and one of each
part a probe with clearly negative vᵀHv.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from autograder.checks.call import materialize
from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import as_scalar, raises_value_error
from solutions import landscape_geometry as ref

from ..draws import DRAW_STRIDE, first_draw
from .common import (
    _THETA_GRAD_PROBE,
    SCALAR_ATOL,
    SCALAR_RTOL,
    _checked,
    _compare_scalar,
    _curved,
    _gen,
    _hessian,
    _mlp_dim,
    _mlp_loss,
    _mlp_theta,
    _near,
    _quad,
    _randn,
    _sym,
    _unchanged_and_no_grad_left,
)

_HUTCH = "hutchinson_trace"
_HUTCH_HINT = (
    "for every row v of probes compute vᵀ·H·v = (v * hvp(loss_fn, theta, v)).sum(), then "
    "return the mean over the rows as a float (exact for the given probes, whatever they are)"
)


def _exact_trace(loss_fn: Callable, theta: torch.Tensor) -> float:
    H = _hessian(loss_fn, theta)
    return float(torch.diagonal(H).to(torch.float64).sum())


def _hutch_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta, probes = args
    expected = ref.hutchinson_trace(loss_fn, theta, probes)
    msg = _compare_scalar(outcome.value, expected, "the result of `hutchinson_trace`")
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    n = probes.shape[0]
    if n > 1 and _near(got, n * expected):
        return (
            f"{msg}: your result is {n} times too large, the sum over the {n} probes instead of "
            "their mean (missing the factor 1/num_probes)"
        )
    exact = _exact_trace(loss_fn, theta)
    if _near(got, exact) and not _near(expected, exact):
        return (
            f"{msg}: your result is the exact trace tr H = {exact:.6g}, not the estimate from "
            "the given probes; use the rows of `probes` as the vectors v"
        )
    why = _hutch_mistake(got, expected, loss_fn, theta, probes)
    if why:
        return f"{msg}: {why}"
    if outcome.global_rng_changed:
        return (
            f"{msg}: your function drew from torch's global random generator; the estimate "
            "uses exactly the given `probes` (draw nothing)"
        )
    return msg


def _hutch_mistake(
    got: float | None, expected: float, loss_fn: Callable, theta: torch.Tensor, probes: torch.Tensor
) -> str:
    """Name a typical mistake whose value `got` equals, else ""."""
    if got is None:
        return ""
    rows = probes.detach().to(theta.dtype).reshape(probes.shape[0], -1)
    n, d = rows.shape
    hvps = [ref.hvp(loss_fn, theta, v.reshape(theta.shape)).reshape(-1) for v in rows]
    quads = [float((v * hv).to(torch.float64).sum()) for v, hv in zip(rows, hvps)]
    sums = [float(hv.to(torch.float64).sum()) for hv in hvps]
    if expected < 0 and _near(got, -expected):
        return (
            "your result has the right size but the wrong sign: vᵀHv can be negative (at a "
            "saddle), keep its sign (no abs, no clamping)"
        )
    if d > 1 and _near(got, expected / d) and not _near(expected, expected / d):
        return (
            f"your result is the estimate divided by dim = {d}: a mean over all n·dim entries "
            "of v * Hv (or probes scaled to unit length). Sum over the entries of each probe "
            "(vᵀHv), then average over the probes only, with the probes as given"
        )
    if n > 1 and _near(got, expected * n / (n - 1)) and not _near(expected, 0.0):
        return (
            f"your result divides the sum by num_probes − 1 = {n - 1}; the estimate is the plain "
            f"mean, the sum divided by num_probes = {n}"
        )
    if n > 1 and _near(got, quads[0]) and not _near(expected, quads[0]):
        return f"your result is vᵀHv of the first probe only; average it over all {n} probes"
    clamped = sum(max(q, 0.0) for q in quads) / n
    if _near(got, clamped) and not _near(expected, clamped):
        return (
            "your result drops or clamps the negative values of vᵀHv; a Hessian need not be "
            "positive semi-definite, so average every vᵀHv with its sign"
        )
    mean_sums = sum(sums) / n
    if _near(got, mean_sums) and not _near(expected, mean_sums):
        return (
            "your result is the mean of the sums of the entries of Hv (1ᵀHv), not of vᵀHv: "
            "multiply Hv by v entry by entry before summing"
        )
    return ""


_hutch_verdict = _checked(_HUTCH, _hutch_judge, _HUTCH_HINT)


def _rademacher(n: int, d: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    bits = torch.randint(0, 2, (n, d), generator=_gen(seed))
    return (2 * bits - 1).to(dtype)


CURVATURE_DRAWS = 40
"""Draws tried for a case whose estimate must have the properties of `typical_estimate`."""
CURVATURE_MARGIN = 10.0
"""A property of an estimate "shows" when it moves the estimate by more than this many times
the tolerance of the comparison."""


def typical_estimate(args: tuple, *, negative_curvature: bool = False) -> bool:
    """Whether the estimate of the case is clearly positive (only the saddle case, which says
    so, has a negative one: abs() of the estimate passes every other case) and, with
    `negative_curvature`, some probe clearly sees negative curvature (vᵀHv < 0: clamping the
    negative vᵀHv at 0, or taking their absolute values, changes the estimate)."""
    loss_fn, theta, probes = materialize(args)
    H = _hessian(loss_fn, theta).to(torch.float64)
    rows = probes.to(torch.float64)
    quads = ((rows @ H) * rows).sum(1)
    mean = float(quads.mean())
    margin = CURVATURE_MARGIN * (SCALAR_ATOL + SCALAR_RTOL * abs(mean))
    if mean <= margin:
        return False
    return not negative_curvature or float(quads.clamp_min(0.0).mean()) - mean > margin


def _drawn(make: Callable[[int], tuple], *, negative_curvature: bool = False) -> tuple:
    """(loss_fn, theta, probes) of the first draw for which `typical_estimate` holds. Each
    part with random probes of an indefinite Hessian has a case with `negative_curvature`:
    clamping vᵀHv at 0 or taking |vᵀHv| fails that part for every student, and abs() of the
    estimate passes it for every student (as with the fixed cases)."""
    return first_draw(
        make,
        lambda args: typical_estimate(args, negative_curvature=negative_curvature),
        CURVATURE_DRAWS,
    )


def _hutch_basic() -> list[Case]:
    def quadratic(k: int) -> tuple:
        offset = k * DRAW_STRIDE
        A = _sym([4.0, 3.0, 1.0, 0.5, -2.0, 0.25], 70 + offset)
        theta = _randn((6,), 72 + offset, torch.float64)
        return (_quad(A), theta, _rademacher(8, 6, 73 + offset, torch.float64))

    def quadratic32(k: int) -> tuple:
        offset = k * DRAW_STRIDE
        A32 = _sym([1.0, 2.0, 3.0, -1.0], 71 + offset, torch.float32)
        theta = _randn((4,), 75 + offset)
        return (_quad(A32, _randn((4,), 74 + offset)), theta, _rademacher(5, 4, 76 + offset))

    def curved(k: int) -> tuple:
        offset = k * DRAW_STRIDE
        theta = _randn((5,), 78 + offset, torch.float64) * 0.5
        return (_curved(5, 77 + offset, 1.0), theta, _rademacher(6, 5, 79 + offset, torch.float64))

    return [
        Case(
            "quadratic (float64), 8 Rademacher probes",
            _drawn(quadratic, negative_curvature=True),
        ),
        Case("quadratic (float32), 5 Rademacher probes", _drawn(quadratic32)),
        Case("a loss whose Hessian depends on theta, 6 Rademacher probes", _drawn(curved)),
    ]


SADDLE_ESTIMATE_MAX = -1.0
"""The saddle case's estimate is below this (its label promises a negative estimate, so that
abs() or clamping at 0 cannot pass); its random probes are drawn until it is."""
SADDLE_DRAWS = 40
"""Draws of the saddle case's probes tried (about 98% have the estimate; then the fixed ones)."""


def _saddle_probes(A: torch.Tensor, d: int) -> torch.Tensor:
    """6 Rademacher probes whose Hutchinson estimate on the quadratic with Hessian A is below
    `SADDLE_ESTIMATE_MAX`."""

    def estimate_below(probes: torch.Tensor) -> bool:
        return float(((probes @ A) * probes).sum(1).mean()) < SADDLE_ESTIMATE_MAX

    return first_draw(
        lambda k: _rademacher(6, d, 99 + k * DRAW_STRIDE, torch.float64),
        estimate_below,
        SADDLE_DRAWS,
    )


def _hutch_probes() -> list[Case]:
    d = 5
    A = _sym([2.0, 1.0, 0.5, -1.0, 3.0], 80)
    theta = _randn((d,), 81, torch.float64)
    basis = torch.eye(d, dtype=torch.float64) * math.sqrt(d)
    saddle = _sym([-3.0, -1.5, 0.5, -2.0, 1.0], 89)
    return [
        Case(
            "Gaussian probes (not ±1): still the mean of vᵀHv",
            (_quad(A), theta, _randn((7, d), 82, torch.float64)),
        ),
        Case(
            "one probe",
            (_quad(A), theta, _rademacher(1, d, 83, torch.float64)),
        ),
        Case(
            "the basis vectors times √d: the exact trace",
            (_quad(A), theta, basis),
        ),
        Case(
            "two identical probes",
            (_quad(A), theta, torch.ones(2, d, dtype=torch.float64)),
        ),
        Case(
            "an indefinite Hessian with a negative trace (a saddle): a negative estimate",
            (_quad(saddle), theta, _saddle_probes(saddle, d)),
            hint="vᵀHv can be negative; keep the sign (no abs, no clamping at 0)",
        ),
        Case(
            "a linear loss (zero Hessian): 0.0",
            (
                Build("linear_loss", {"b": _randn((d,), 84)}),
                _randn((d,), 85),
                _rademacher(4, d, 86),
            ),
            hint="when the gradient does not depend on theta, H = 0 and every vᵀHv is 0",
        ),
    ]


def _mlp_case(
    seed: int,
    data_seed: int,
    probes: Callable[[int], torch.Tensor],
    *,
    dtype: str = "float32",
    requires_grad: bool = False,
) -> Callable[[int], tuple]:
    """make(k) of an MLP case: its MLP, data and probes (`probes(offset)`) offset by k."""

    def make(k: int) -> tuple:
        offset = k * DRAW_STRIDE
        return (
            _mlp_loss(seed + offset, data_seed + offset, dtype),
            _mlp_theta(seed + offset, dtype, requires_grad=requires_grad),
            probes(offset),
        )

    return make


def _hutch_mlp() -> list[Case]:
    d = _mlp_dim()
    rademacher = _mlp_case(
        5, 34, lambda offset: _rademacher(10, d, 87 + offset, torch.float64), dtype="float64"
    )
    gaussian = _mlp_case(6, 35, lambda offset: _randn((6, d), 88 + offset))
    return [
        Case(
            "MLP flat loss (float64), 10 Rademacher probes",
            _drawn(rademacher, negative_curvature=True),
        ),
        Case("MLP flat loss (float32), 6 Gaussian probes", _drawn(gaussian)),
    ]


def _hutch_errors() -> list[Case]:
    d = 4
    A = _sym([1.0, 2.0, 3.0, 4.0], 90, torch.float32)
    theta = _randn((d,), 91)
    return [
        Case("probes 1-D (one vector of length 4)", (_quad(A), theta, _rademacher(1, d, 92)[0])),
        Case("probes with 5 columns for 4 parameters", (_quad(A), theta, _rademacher(3, 5, 93))),
        Case("probes with 3 columns for 4 parameters", (_quad(A), theta, _rademacher(6, 3, 94))),
        Case("probes transposed: shape (4, 3)", (_quad(A), theta, _rademacher(3, d, 95).T)),
        Case("probes 3-D: shape (2, 1, 4)", (_quad(A), theta, _rademacher(2, d, 96)[:, None])),
    ]


def _hutch_no_mutation() -> list[Case]:
    d = _mlp_dim()
    leaf = _mlp_case(7, 36, lambda offset: _rademacher(4, d, 97 + offset), requires_grad=True)
    plain = _mlp_case(7, 36, lambda offset: _rademacher(4, d, 98 + offset))
    return [
        Case("theta requires grad", _drawn(leaf), post=_THETA_GRAD_PROBE),
        Case(
            "theta does not require grad",
            _drawn(plain, negative_curvature=True),
            post=_THETA_GRAD_PROBE,
        ),
    ]


make_checks(
    _HUTCH,
    [
        Part("basic", "the mean of vᵀHv over Rademacher probes", _hutch_basic, _hutch_verdict),
        Part(
            "probes",
            "exact for any given probes (Gaussian, basis vectors, one probe, a saddle, zero "
            "Hessian)",
            _hutch_probes,
            _hutch_verdict,
        ),
        Part("mlp", "an MLP's flat loss", _hutch_mlp, _hutch_verdict),
        Part(
            "errors",
            "ValueError for probes that are not 2-D with one column per parameter",
            _hutch_errors,
            raises_value_error(
                _HUTCH,
                hint="check probes.dim() == 2 and probes.shape[1] == theta.numel() first",
            ),
        ),
        Part(
            "no_mutation",
            "theta (and its requires_grad) and probes are left unchanged",
            _hutch_no_mutation,
            _unchanged_and_no_grad_left(
                _HUTCH, ("loss_fn", "theta", "probes"), results=_hutch_verdict
            ),
        ),
    ],
)
