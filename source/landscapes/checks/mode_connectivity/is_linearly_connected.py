"""Checks of `is_linearly_connected` (notebook 01): every loss ≤ max(losses[0], losses[-1]) + delta.

Compared with the reference (the seed's examples, the threshold itself, float32 losses
compared in float64); ValueError for fewer than two values or a NaN.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import compare_bool, raises_value_error
from solutions import mode_connectivity as ref

from .common import _reference_verdict

_CONNECTED_HINT = "connected when every loss ≤ max(losses[0], losses[-1]) + delta"


def _ilc_basic() -> list[Case]:
    return [
        Case(
            "worked example 1 with delta 0.1: not connected", ([0.32, 0.55, 1.42, 0.58, 0.33], 0.1)
        ),
        Case(
            "practice problem 1, pair (1, 2): losses [0.15, 0.18, 0.16], delta 0.05",
            ([0.15, 0.18, 0.16], 0.05),
        ),
        Case(
            "practice problem 1, pair (2, 3): losses [0.16, 0.95, 0.17], delta 0.05",
            ([0.16, 0.95, 0.17], 0.05),
        ),
        Case("a flat path, delta 0", ([0.3, 0.3, 0.3], 0.0)),
        Case(
            "a peak away from the middle: [0.1, 0.5, 0.12, 0.1, 0.1], delta 0.05",
            ([0.1, 0.5, 0.12, 0.1, 0.1], 0.05),
            hint="check every loss on the path, not only the one at alpha = 0.5",
        ),
        Case(
            "an even number of losses, the peak second: [0.3, 0.9, 0.31, 0.3], delta 0.1",
            ([0.3, 0.9, 0.31, 0.3], 0.1),
            hint="check every loss on the path, not only a middle one",
        ),
    ]


def _ilc_threshold() -> list[Case]:
    return [
        Case(
            "a loss exactly at max(endpoints) + delta counts as connected: "
            "[0.5, 0.75, 0.5], delta 0.25",
            ([0.5, 0.75, 0.5], 0.25),
            hint="the comparison is ≤, not <",
        ),
        Case(
            "the threshold uses the larger endpoint: [0.2, 0.55, 0.6], delta 0",
            ([0.2, 0.55, 0.6], 0.0),
            hint="the threshold is max(losses[0], losses[-1]) + delta, not the smaller "
            "endpoint or their mean",
        ),
        Case("the larger endpoint first: [0.9, 0.95, 0.1], delta 0.1", ([0.9, 0.95, 0.1], 0.1)),
        Case(
            "just above the threshold: [0.5, 0.6251, 0.5], delta 0.125", ([0.5, 0.6251, 0.5], 0.125)
        ),
        Case(
            "a negative delta, where the larger endpoint itself is above the threshold: "
            "[0.5, 0.3, 0.5], delta -0.1",
            ([0.5, 0.3, 0.5], -0.1),
            hint="every loss counts, the endpoints too: with delta < 0 the larger endpoint "
            "exceeds max(losses[0], losses[-1]) + delta",
        ),
    ]


def _ilc_float64() -> list[Case]:
    hint = (
        "compare in float64: the float32 value 0.3 is 0.30000001192..., which exceeds "
        "0.2 (as float32, 0.20000000298...) + 0.1 = 0.30000000298... in float64, but not "
        "after rounding the threshold to float32. Convert the losses to float64 (or Python "
        "floats) before adding delta"
    )
    return [
        Case(
            "float32 tensor [0.2, 0.3, 0.2], delta 0.1: 0.3 is above the threshold in float64",
            (torch.tensor([0.2, 0.3, 0.2]), 0.1),
            hint=hint,
        ),
        Case(
            "float32 tensor [0.0, 0.1, 0.0], delta 0.1: float32(0.1) > 0.1 in float64",
            (torch.tensor([0.0, 0.1, 0.0]), 0.1),
            hint=hint,
        ),
        Case(
            "float32 tensor [0.3, 0.4, 0.3], delta 0.1: within the threshold",
            (torch.tensor([0.3, 0.4, 0.3]), 0.1),
        ),
        Case("float64 tensor", (torch.tensor([0.1, 0.35, 0.3], dtype=torch.float64), 0.05)),
    ]


def _ilc_errors() -> list[Case]:
    return [
        Case("one value", ([0.3], 0.1)),
        Case("no values", ([], 0.1)),
        Case("a NaN loss", ([0.3, float("nan"), 0.3], 0.1)),
        Case("a NaN endpoint loss", ([0.3, 0.2, float("nan")], 0.1)),
    ]


def _ilc_compare(got: Any, expected: Any, what: str) -> str | None:
    return compare_bool(got, expected, what=what)


_ilc_verdict = _reference_verdict(
    "is_linearly_connected",
    ref.is_linearly_connected,
    hint=_CONNECTED_HINT,
    compare=_ilc_compare,
)

make_checks(
    "is_linearly_connected",
    [
        Part("basic", "the seed's examples, a bool out", _ilc_basic, _ilc_verdict),
        Part("threshold", "≤ max(endpoint losses) + delta", _ilc_threshold, _ilc_verdict),
        Part("float64", "float32 losses compared in float64", _ilc_float64, _ilc_verdict),
        Part(
            "errors",
            "ValueError for too few values or NaN",
            _ilc_errors,
            raises_value_error(
                "is_linearly_connected", hint="check len(losses) >= 2 and that no loss is NaN"
            ),
        ),
    ],
)
