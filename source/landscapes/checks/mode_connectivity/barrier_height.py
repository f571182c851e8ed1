"""Checks of `barrier_height` (notebook 01): max(losses) − (losses[0] + losses[-1]) / 2.

Compared with the reference (worked example 1, tensors and tuples in, a float out); ValueError
for fewer than two values or a NaN; the losses are left unchanged (and the result is right).
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.seeding import vary
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import (
    leaves_inputs_unchanged,
    matches_reference,
    raises_value_error,
)
from solutions import mode_connectivity as ref

_BARRIER_HINT = "barrier = max(losses) − (losses[0] + losses[-1]) / 2"
_barrier_verdict = matches_reference("barrier_height", ref.barrier_height, hint=_BARRIER_HINT)


def _barrier_basic() -> list[Case]:
    return [
        Case(
            "worked example 1: losses [0.32, 0.55, 1.42, 0.58, 0.33]",
            ([0.32, 0.55, 1.42, 0.58, 0.33],),
        ),
        Case("two values [0.2, 0.4]: the max is an endpoint", ([0.2, 0.4],)),
        Case("a flat path", ([0.5, 0.5, 0.5],)),
    ]


def _barrier_conventions() -> list[Case]:
    gen = torch.Generator().manual_seed(vary(11))
    return [
        Case("losses as a float32 tensor", (torch.tensor([0.3, 0.9, 0.35]),)),
        Case("losses as a float64 tensor", (torch.rand(9, generator=gen, dtype=torch.float64),)),
        Case(
            "losses as a tuple",
            ((1.0, 0.2, 0.1),),
            hint="the maximum can be an endpoint: max(losses) runs over all values, "
            "endpoints included",
        ),
    ]


def _barrier_errors() -> list[Case]:
    return [
        Case("one value", ([0.3],)),
        Case("no values", ([],)),
        Case("a NaN inside", ([0.3, float("nan"), 0.4],)),
    ]


def _barrier_no_mutation() -> list[Case]:
    return [Case("losses tensor", (torch.tensor([0.3, 1.2, 0.2]),))]


make_checks(
    "barrier_height",
    [
        Part(
            "basic",
            "worked example and simple paths",
            _barrier_basic,
            _barrier_verdict,
        ),
        Part(
            "conventions",
            "tensors and tuples in, a float out",
            _barrier_conventions,
            _barrier_verdict,
        ),
        Part(
            "errors",
            "ValueError for too few values or NaN",
            _barrier_errors,
            raises_value_error(
                "barrier_height", hint="check len(losses) >= 2 and that no loss is NaN"
            ),
        ),
        Part(
            "no_mutation",
            "the losses are left unchanged",
            _barrier_no_mutation,
            leaves_inputs_unchanged("barrier_height", ("losses",), results=_barrier_verdict),
        ),
    ],
)
