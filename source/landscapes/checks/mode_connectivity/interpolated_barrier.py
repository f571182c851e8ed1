"""Checks of `interpolated_barrier` (notebook 01): the largest excess of the losses over the
straight line between the endpoint losses.

Compared with the reference for evenly spaced (default) and explicit alphas; ValueError for
too few values, NaN, lengths that differ or alphas that do not run from 0 to 1; the inputs are
left unchanged. A wrong value is diagnosed: barrier_height instead, a negative barrier, the
line running the wrong way.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import (
    as_scalar,
    fresh_inputs,
    leaves_inputs_unchanged,
    raises_value_error,
)
from solutions import mode_connectivity as ref
from solutions._common import as_float_list

from .common import _reference_verdict

# Tolerances and sizes (named, never inline)

IB_NEGATIVE_TOL = 1e-6
"""For diagnoses: an interpolated barrier below −IB_NEGATIVE_TOL left out the endpoints."""


_INTERP_BARRIER_HINT = (
    "for every i subtract the straight line between the endpoint losses at alphas[i]: "
    "max_i [losses[i] − ((1 − alphas[i])·losses[0] + alphas[i]·losses[-1])], with alphas "
    "evenly spaced i / (n − 1) by default"
)


def _interp_barrier_diagnose(case: Case, got: Any) -> str | None:
    (losses, *rest), _ = fresh_inputs(case)
    value = as_scalar(got)
    if value is None:
        return None
    if math.isclose(value, ref.barrier_height(losses), rel_tol=1e-4, abs_tol=1e-6):
        return (
            "Your result equals barrier_height (max minus the endpoint average). "
            "interpolated_barrier subtracts, at each alpha, the loss on the straight line "
            "between the endpoint losses."
        )
    if value < -IB_NEGATIVE_TOL:
        return (
            "Your result is negative, but the max runs over every i, the endpoints included, "
            "where the excess over the line is 0: a path that stays below the line has a "
            "barrier of 0, never less."
        )
    values = as_float_list(losses, "losses")
    n = len(values)
    alphas = as_float_list(rest[0], "alphas") if rest else [i / (n - 1) for i in range(n)]
    swapped = max(v - (a * values[0] + (1 - a) * values[-1]) for v, a in zip(values, alphas))
    if math.isclose(value, swapped, rel_tol=1e-4, abs_tol=1e-6):
        return (
            "Your line runs the wrong way: at alpha the line's value is "
            "(1 − alpha)·losses[0] + alpha·losses[-1] (alpha = 0 is losses[0])."
        )
    return None


_interp_barrier_verdict = _reference_verdict(
    "interpolated_barrier",
    ref.interpolated_barrier,
    hint=_INTERP_BARRIER_HINT,
    diagnose=_interp_barrier_diagnose,
)


def _ib_default_alphas() -> list[Case]:
    return [
        Case(
            "worked example 1 (default alphas 0, 0.25, ..., 1)", ([0.32, 0.55, 1.42, 0.58, 0.33],)
        ),
        Case(
            "endpoints far apart: [0.1, 0.9, 1.0]",
            ([0.1, 0.9, 1.0],),
            hint="here barrier_height would be 0.45 but the line at alpha = 0.5 is at 0.55",
        ),
        Case("four losses [0.0, 0.8, 0.9, 2.0] (alphas 0, 1/3, 2/3, 1)", ([0.0, 0.8, 0.9, 2.0],)),
        Case("two losses [0.4, 0.2]: the barrier is 0", ([0.4, 0.2],)),
        Case("losses as a float32 tensor", (torch.tensor([0.5, 0.4, 1.1, 0.2]),)),
        Case(
            "a path below the line [0.5, 0.2, 0.1, 0.3]: the barrier is 0",
            ([0.5, 0.2, 0.1, 0.3],),
            hint="the max includes the endpoints (excess 0), so the barrier is never negative",
        ),
    ]


def _ib_explicit_alphas() -> list[Case]:
    return [
        Case("uneven alphas [0, 0.1, 0.5, 1]", ([0.2, 0.5, 0.9, 1.2], [0.0, 0.1, 0.5, 1.0])),
        Case(
            "uneven alphas as a float64 tensor",
            (
                torch.tensor([1.0, 0.6, 0.7, 0.3], dtype=torch.float64),
                torch.tensor([0.0, 0.7, 0.8, 1.0], dtype=torch.float64),
            ),
        ),
        Case(
            "alphas that differ from the even spacing of the same length",
            ([0.3, 0.9, 0.5, 0.4, 0.6], [0.0, 0.05, 0.1, 0.95, 1.0]),
        ),
        Case(
            "uneven alphas [0, 0.2, 0.7, 1], a path below the line: the barrier is 0",
            ([0.6, 0.3, 0.2, 0.5], [0.0, 0.2, 0.7, 1.0]),
            hint="the max includes the endpoints (excess 0), so the barrier is never negative",
        ),
        Case(
            "alphas[0] = 2e-7 and alphas[-1] = 1 − 3e-7 (within the tolerance 1e-6)",
            ([0.2, 0.7, 0.4], [2e-7, 0.5, 1.0 - 3e-7]),
            hint="alphas[0] may differ from 0 and alphas[-1] from 1 by up to 1e-6",
        ),
    ]


def _ib_errors() -> list[Case]:
    return [
        Case("one loss", ([0.3],)),
        Case("no losses", ([],)),
        Case("a NaN loss", ([0.3, float("nan"), 0.4],)),
        Case("a NaN first loss", ([float("nan"), 0.5, 0.4],)),
        Case("3 losses but 4 alphas", ([0.3, 0.5, 0.4], [0.0, 0.3, 0.6, 1.0])),
        Case("alphas[0] = 0.1 instead of 0", ([0.3, 0.5, 0.4], [0.1, 0.5, 1.0])),
        Case("alphas[-1] = 0.9 instead of 1", ([0.3, 0.5, 0.4], [0.0, 0.5, 0.9])),
        Case(
            "alphas[-1] = 1.0001 (beyond the tolerance 1e-6)", ([0.3, 0.5, 0.4], [0.0, 0.5, 1.0001])
        ),
    ]


def _ib_no_mutation() -> list[Case]:
    return [
        Case(
            "losses and alphas tensors",
            (torch.tensor([0.3, 1.2, 0.2]), torch.tensor([0.0, 0.4, 1.0])),
        ),
    ]


make_checks(
    "interpolated_barrier",
    [
        Part(
            "default_alphas",
            "evenly spaced alphas by default",
            _ib_default_alphas,
            _interp_barrier_verdict,
        ),
        Part(
            "explicit_alphas",
            "uneven alphas given explicitly",
            _ib_explicit_alphas,
            _interp_barrier_verdict,
        ),
        Part(
            "errors",
            "ValueError for too few values, NaN, lengths that differ or bad ends",
            _ib_errors,
            raises_value_error(
                "interpolated_barrier",
                hint="check len(losses) >= 2, NaN, len(alphas) == len(losses), "
                "|alphas[0]| <= 1e-6 and |alphas[-1] − 1| <= 1e-6",
            ),
        ),
        Part(
            "no_mutation",
            "losses and alphas are left unchanged",
            _ib_no_mutation,
            leaves_inputs_unchanged(
                "interpolated_barrier", ("losses", "alphas"), results=_interp_barrier_verdict
            ),
        ),
    ],
)
