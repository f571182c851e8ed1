"""Checks of `bernstein_weights` (notebook 01): C(degree, k)·alpha^k·(1 − alpha)^(degree − k).

Compared with the reference, as a float64 tensor (float32-accurate arithmetic accepted), at
low degrees, at alpha = 0 and 1 and at random alphas; ValueError for degree < 1 or alpha
outside [0, 1]. Weights in reverse order and NaN at the endpoints are diagnosed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part, Verdict
from autograder.checks.verdicts import compare_tensor, raises_value_error
from solutions import mode_connectivity as ref

from .common import _close, _gen, _reference_verdict

# Tolerances and sizes (named, never inline)

BERNSTEIN_RTOL = 1e-5
"""Bernstein weights must be float64 tensors, but float32-accurate arithmetic is accepted."""
BERNSTEIN_ATOL = 1e-9


_BERNSTEIN_HINT = (
    "w_k = C(degree, k)·alpha^k·(1 − alpha)^(degree − k) for k = 0..degree "
    "(math.comb; 0**0 == 1), returned as a float64 tensor of shape (degree + 1,)"
)


def _bernstein_compare(*, check_dtype: bool) -> Callable[[Any, Any, str], str | None]:
    def compare(got: Any, expected: Any, what: str) -> str | None:
        return compare_tensor(
            got,
            expected,
            what=what,
            rtol=BERNSTEIN_RTOL,
            atol=BERNSTEIN_ATOL,
            check_dtype=check_dtype,
        )

    return compare


def _bernstein_diagnose(case: Case, got: Any) -> str | None:
    degree, alpha = case.args
    if _close(got, ref.bernstein_weights(degree, 1.0 - alpha)):
        return (
            "Your weights are in reverse order: w_0 = (1 − alpha)^degree belongs to theta_0 "
            "(alpha = 0), w_degree = alpha^degree to the last point."
        )
    if type(got) is torch.Tensor and got.is_floating_point() and bool(torch.isnan(got).any()):
        return "Your weights contain NaN: at alpha = 0 or 1 use 0**0 = 1 (no log of 0)."
    return None


def _bernstein_verdict(*, check_dtype: bool) -> Verdict:
    return _reference_verdict(
        "bernstein_weights",
        ref.bernstein_weights,
        hint=_BERNSTEIN_HINT,
        diagnose=_bernstein_diagnose,
        compare=_bernstein_compare(check_dtype=check_dtype),
    )


def _bern_basic() -> list[Case]:
    return [
        Case("degree 2, alpha 0.5: [0.25, 0.5, 0.25]", (2, 0.5)),
        Case("degree 1, alpha 0.25: [0.75, 0.25]", (1, 0.25)),
        Case("degree 3, alpha 0.3", (3, 0.3)),
        Case("degree 2, alpha 0.8", (2, 0.8)),
    ]


def _bern_endpoints() -> list[Case]:
    cases = []
    for degree in range(1, 7):
        cases.append(Case(f"degree {degree}, alpha 0: [1, 0, ..., 0]", (degree, 0.0)))
        cases.append(Case(f"degree {degree}, alpha 1: [0, ..., 0, 1]", (degree, 1.0)))
    return cases


def _bern_random() -> list[Case]:
    gen = _gen(20)
    alphas = torch.rand(6, generator=gen, dtype=torch.float64).tolist()
    return [Case(f"degree {d}, alpha {a:.4f}", (d, a)) for d, a in zip(range(1, 7), alphas)]


def _bern_dtype() -> list[Case]:
    return [
        Case("degree 2, alpha 0.5: a float64 tensor of shape (3,)", (2, 0.5)),
        Case("degree 5, alpha 0.1: a float64 tensor of shape (6,)", (5, 0.1)),
    ]


def _bern_errors() -> list[Case]:
    return [
        Case("degree 0", (0, 0.5)),
        Case("degree -1", (-1, 0.5)),
        Case("alpha -0.1", (2, -0.1)),
        Case("alpha 1.5", (2, 1.5)),
        Case("degree 0 and alpha 0", (0, 0.0)),
    ]


make_checks(
    "bernstein_weights",
    [
        Part(
            "basic",
            "Bernstein weights of low degree",
            _bern_basic,
            _bernstein_verdict(check_dtype=False),
        ),
        Part(
            "endpoints",
            "alpha = 0 and alpha = 1 for degrees 1 to 6",
            _bern_endpoints,
            _bernstein_verdict(check_dtype=False),
        ),
        Part(
            "random",
            "degrees 1 to 6 at random alphas",
            _bern_random,
            _bernstein_verdict(check_dtype=False),
        ),
        Part(
            "dtype",
            "a float64 tensor of shape (degree + 1,)",
            _bern_dtype,
            _bernstein_verdict(check_dtype=True),
        ),
        Part(
            "errors",
            "ValueError for degree < 1 or alpha outside [0, 1]",
            _bern_errors,
            raises_value_error(
                "bernstein_weights", hint="check degree >= 1 and 0 <= alpha <= 1 first"
            ),
        ),
    ],
)
