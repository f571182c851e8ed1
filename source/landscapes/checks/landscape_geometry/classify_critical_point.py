"""Checks of `classify_critical_point` (notebook 02): "minimum", "maximum", "saddle" or
"degenerate" from a Hessian's eigenvalues.

Compared with the reference: every kind, eigenvalues within tol counting as zero (exactly ±tol
too, for the default and a custom tol), eigenvalues as lists, tuples, tensors and numpy arrays;
ValueError for no eigenvalues.
"""

from __future__ import annotations

import numpy as np
import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import compare_str, raises_value_error
from solutions import landscape_geometry as ref

from .common import _checked

_CLS = "classify_critical_point"
_CLS_HINT = (
    'in this order: "saddle" if some eigenvalue > tol and some < −tol; else "minimum" if all '
    '> tol; else "maximum" if all < −tol; else "degenerate" (eigenvalues within tol of 0 count '
    "as zero)"
)

_ON_TOL_HINT = (
    "an eigenvalue exactly equal to tol or -tol counts as zero: positive means > tol and "
    "negative means < -tol (strict), not >= tol or <= -tol"
)


def _cls_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    expected = ref.classify_critical_point(*args, **kwargs)
    return compare_str(outcome.value, expected, what="the result of `classify_critical_point`")


_cls_verdict = _checked(_CLS, _cls_judge, _CLS_HINT)


def _cls_basic() -> list[Case]:
    return [
        Case("[1, 2, 3]: a minimum", ([1.0, 2.0, 3.0],)),
        Case("[-1, -2]: a maximum", ([-1.0, -2.0],)),
        Case("[1, -1]: a saddle", ([1.0, -1.0],)),
        Case("[2, 0, 1]: degenerate", ([2.0, 0.0, 1.0],)),
        Case("[0, 0]: degenerate", ([0.0, 0.0],)),
        Case("[-3, 0]: degenerate", ([-3.0, 0.0],)),
        Case(
            "[1, 0, -1]: a saddle (a zero eigenvalue does not matter)",
            ([1.0, 0.0, -1.0],),
            hint='test for "saddle" first: mixed signs make a saddle even with zero eigenvalues',
        ),
        Case("one eigenvalue [0.5]: a minimum", ([0.5],)),
    ]


def _cls_tol() -> list[Case]:
    return [
        Case(
            "[1, 5e-9] with the default tol 1e-8: 5e-9 counts as zero, degenerate",
            ([1.0, 5e-9],),
            hint="the default tol is 1e-8; an eigenvalue with |λ| ≤ tol counts as zero",
        ),
        Case("[1, 2e-8] with the default tol: a minimum", ([1.0, 2e-8],)),
        Case(
            "[1, -5e-9] with the default tol: degenerate, not a saddle",
            ([1.0, -5e-9],),
            hint="a saddle needs an eigenvalue below −tol",
        ),
        Case("[1, -2e-8] with the default tol: a saddle", ([1.0, -2e-8],)),
        Case("[-1, -3e-9] with the default tol: degenerate", ([-1.0, -3e-9],)),
        Case("tol 0.5: [0.3, 2] is degenerate", ([0.3, 2.0], 0.5)),
        Case("tol 0.5: [0.6, 2] is a minimum", ([0.6, 2.0], 0.5)),
        Case("tol 0.5: [-0.4, 0.8] is degenerate", ([-0.4, 0.8], 0.5)),
        Case("tol=0.5 by keyword: [-0.6, 0.8] is a saddle", ([-0.6, 0.8],), {"tol": 0.5}),
        Case("tol 0: [1e-12, 1] is a minimum", ([1e-12, 1.0], 0.0)),
        # On the boundary: an eigenvalue exactly ±tol counts as zero ("> tol", not ">= tol").
        # Python floats, so 1e-8 is the very double of the default tol; 0.25 is exact in any
        # float dtype.
        Case(
            "[2, 1e-8] with the default tol: 1e-8 is exactly tol, so it counts as zero: degenerate",
            ([2.0, 1e-8],),
            hint=_ON_TOL_HINT,
        ),
        Case(
            "[2, -1e-8] with the default tol: -1e-8 is exactly -tol, so it counts as zero: "
            "degenerate, not a saddle",
            ([2.0, -1e-8],),
            hint=_ON_TOL_HINT,
        ),
        Case(
            "tol 0.25: [0.25, 2] is degenerate (0.25 is exactly tol)",
            ([0.25, 2.0], 0.25),
            hint=_ON_TOL_HINT,
        ),
        Case(
            "tol=0.25 by keyword: [-2, -0.25] is degenerate, not a maximum (-0.25 is exactly -tol)",
            ([-2.0, -0.25],),
            {"tol": 0.25},
            hint=_ON_TOL_HINT,
        ),
    ]


def _cls_inputs() -> list[Case]:
    return [
        Case("a float32 tensor (a minimum)", (torch.tensor([0.5, 2.0, 1.0]),)),
        Case("a float64 tensor (a saddle)", (torch.tensor([3.0, -0.1], dtype=torch.float64),)),
        Case("a numpy array (a maximum)", (np.array([-2.0, -0.5]),)),
        Case("a tuple (degenerate)", ((1.0, 0.0),)),
        Case(
            "torch.linalg.eigvalsh output (a saddle)",
            (torch.linalg.eigvalsh(torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64)),),
        ),
        Case("ints [1, 2] (a minimum)", ([1, 2],)),
    ]


def _cls_errors() -> list[Case]:
    return [
        Case("an empty list", ([],)),
        Case("an empty tensor", (torch.tensor([]),)),
        Case("an empty numpy array", (np.array([]),)),
    ]


make_checks(
    _CLS,
    [
        Part("basic", "minimum, maximum, saddle and degenerate", _cls_basic, _cls_verdict),
        Part("tol", "eigenvalues within tol count as zero", _cls_tol, _cls_verdict),
        Part("inputs", "lists, tuples, tensors and numpy arrays", _cls_inputs, _cls_verdict),
        Part(
            "errors",
            "ValueError for no eigenvalues",
            _cls_errors,
            raises_value_error(
                _CLS,
                hint="all() of an empty sequence is True: check len(eigenvalues) >= 1 first",
            ),
        ),
    ],
)
