"""Checks of `linear_basins` (notebook 01): the basins (connected components) of solutions whose
pairs are connected when max loss ≤ max(L_i, L_j) + delta.

Compared with the reference, as a list of sets sorted by smallest member (practice problem 1,
chains, absent pairs, singletons, the threshold, random graphs); the inputs are left unchanged.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Part
from autograder.checks.verdicts import (
    compare_value,
    fmt_value,
    leaves_inputs_unchanged,
    raises_value_error,
)
from solutions import mode_connectivity as ref

from .common import _fixed_gen, _reference_verdict

_BASINS_HINT = (
    "pair (i, j) is connected when path_max_losses[(i, j)] ≤ max(L_i, L_j) + delta; the "
    "basins are the connected components over all n solutions (a solution without connected "
    "pairs is a basin of its own), each a set, sorted by smallest member"
)


def _basins_compare(got: Any, expected: Any, what: str) -> str | None:
    if type(got) is not list:
        return f"{what} should be a list of sets, got {fmt_value(got)}"
    shown: list[list[Any]] = []
    for i, item in enumerate(got):
        if type(item) not in (set, frozenset):
            return f"{what}[{i}] should be a set of ints, got {fmt_value(item)}"
        shown.append(sorted(item, key=repr))
    msg = compare_value(got, expected, what=what)
    if msg is None:
        return None
    exp_shown = [sorted(s) for s in expected]
    text = f"{what}: expected {exp_shown}, got {shown}"
    try:
        same_groups = sorted(map(sorted, got)) == sorted(exp_shown)
    except TypeError:
        same_groups = False
    if same_groups:
        text += " (the right basins in the wrong order: sort them by their smallest member)"
    return text


_basins_verdict = _reference_verdict(
    "linear_basins",
    ref.linear_basins,
    hint=_BASINS_HINT,
    compare=_basins_compare,
)


def _basins_basic() -> list[Case]:
    return [
        Case(
            "practice problem 1: losses [0.15, 0.16, 0.17], (0, 1) max 0.18, (1, 2) max 0.95, "
            "delta 0.05",
            ([0.15, 0.16, 0.17], {(0, 1): 0.18, (1, 2): 0.95}, 0.05),
        ),
        Case(
            "practice problem 1 with the pairs given as (1, 0) and (2, 1)",
            ([0.15, 0.16, 0.17], {(1, 0): 0.18, (2, 1): 0.95}, 0.05),
            hint="a pair may be given in either order",
        ),
        Case(
            "every pair connected", ([0.1, 0.1, 0.1], {(0, 1): 0.1, (0, 2): 0.1, (1, 2): 0.1}, 0.0)
        ),
    ]


def _basins_components() -> list[Case]:
    return [
        Case(
            "a chain 0–1, 1–2 connected, 0–2 not: one basin {0, 1, 2}",
            ([0.1, 0.1, 0.1], {(0, 1): 0.12, (1, 2): 0.12, (0, 2): 0.9}, 0.05),
            hint="basins are connected components: connected pairs chain together",
        ),
        Case(
            "5 solutions: 3–0 and 2–1 connected, 4–1 not; sorted by smallest member",
            ([0.1] * 5, {(3, 0): 0.1, (2, 1): 0.12, (4, 1): 9.0}, 0.05),
        ),
        Case(
            "4 solutions: 0 alone, 1–2 and 3–2 connected, 0–3 not",
            ([0.1] * 4, {(1, 2): 0.1, (3, 2): 0.1, (0, 3): 0.9}, 0.05),
        ),
        Case(
            "absent pairs are not connected: only (0, 2) given",
            ([0.1, 0.2, 0.3], {(0, 2): 0.3}, 0.0),
        ),
        Case("no pairs at all: every solution alone", ([0.1, 0.2], {}, 0.05)),
        Case("a single solution", ([0.4], {}, 0.1)),
        Case(
            "(0, 1) and (2, 3) connected, then (1, 2) joins the two: one basin {0, 1, 2, 3}",
            ([0.1] * 4, {(0, 1): 0.1, (2, 3): 0.1, (1, 2): 0.1}, 0.0),
            hint="a connected pair can join two basins found before: merge them",
        ),
        Case(
            "a long chain given backwards: 5–4, 4–3, 3–2, 2–1, 1–0",
            ([0.2] * 6, {(5, 4): 0.2, (4, 3): 0.2, (3, 2): 0.2, (2, 1): 0.2, (1, 0): 0.2}, 0.0),
        ),
    ]


def _basins_threshold() -> list[Case]:
    return [
        Case(
            "max loss exactly max(L_i, L_j) + delta is connected: L = [0.5, 0.5], max 0.75, "
            "delta 0.25",
            ([0.5, 0.5], {(0, 1): 0.75}, 0.25),
            hint="the comparison is ≤",
        ),
        Case(
            "the threshold uses the larger endpoint loss: L = [0.25, 0.5], max 0.7, delta 0.25",
            ([0.25, 0.5], {(0, 1): 0.7}, 0.25),
            hint="compare with max(L_i, L_j) + delta, not L_i + delta or min(L_i, L_j)",
        ),
        Case(
            "the larger endpoint loss given second in the pair: (1, 0) with L = [0.5, 0.25]",
            ([0.5, 0.25, 0.9], {(1, 0): 0.7, (2, 0): 1.5}, 0.25),
        ),
        Case(
            "just above the threshold: L = [0.25, 0.5], max 0.7501, delta 0.25",
            ([0.25, 0.5], {(0, 1): 0.7501}, 0.25),
        ),
    ]


def _basins_random() -> list[Case]:
    # Fixed for everyone: which typical mistakes a random graph exposes (basins of direct
    # neighbours only, groups never merged, unpaired solutions left out or counted from the
    # pairs, basins sorted by size) depends on its shape, so a graph drawn per student would
    # grade the same mistake differently.
    gen = _fixed_gen(50)
    cases = []
    for index, n in enumerate((6, 8, 9)):
        losses = (torch.rand(n, generator=gen, dtype=torch.float64) * 0.5).tolist()
        pairs: dict[tuple[int, int], float] = {}
        for i in range(n):
            for j in range(i + 1, n):
                if float(torch.rand((), generator=gen)) < 0.35:
                    key = (j, i) if float(torch.rand((), generator=gen)) < 0.5 else (i, j)
                    pairs[key] = float(torch.rand((), generator=gen, dtype=torch.float64))
        delta = 0.1 * index
        label = f"{n} random solutions, {len(pairs)} pairs, delta {delta:g}"
        cases.append(Case(label, (losses, pairs, delta)))
    cases.append(
        Case(
            "losses as a float64 tensor",
            (
                torch.tensor([0.3, 0.1, 0.2, 0.4], dtype=torch.float64),
                {(2, 0): 0.35, (3, 1): 0.45},
                0.05,
            ),
        )
    )
    return cases


def _basins_errors() -> list[Case]:
    # the spec's conventions: NaN losses get a ValueError. Graded for the endpoint losses
    # only: a NaN path max loss, a pair out of range or given twice (the docstring's other
    # errors) are not named by the spec, and a pair with a NaN max is not connected anyway
    return [
        Case("a NaN endpoint loss", ([0.1, float("nan"), 0.3], {(0, 1): 0.2}, 0.05)),
        Case("a NaN endpoint loss, no pairs", ([float("nan"), 0.2], {}, 0.05)),
    ]


def _basins_no_mutation() -> list[Case]:
    return [
        Case(
            "losses tensor and pair dict",
            (torch.tensor([0.1, 0.2, 0.3, 0.4]), {(1, 0): 0.2, (3, 2): 0.9, (2, 1): 0.3}, 0.05),
        ),
    ]


make_checks(
    "linear_basins",
    [
        Part("basic", "practice problem 1", _basins_basic, _basins_verdict),
        Part(
            "components",
            "connected components, absent pairs, singletons, order",
            _basins_components,
            _basins_verdict,
        ),
        Part(
            "threshold",
            "connected when max ≤ max(L_i, L_j) + delta",
            _basins_threshold,
            _basins_verdict,
        ),
        Part("random", "random graphs of solutions", _basins_random, _basins_verdict),
        Part(
            "errors",
            "ValueError for NaN endpoint losses",
            _basins_errors,
            raises_value_error(
                "linear_basins",
                hint="check endpoint_losses for NaN, even when there are no pairs (a NaN "
                "compares as False and would silently leave its solution alone)",
            ),
        ),
        Part(
            "no_mutation",
            "the losses and the pair dict are left unchanged",
            _basins_no_mutation,
            leaves_inputs_unchanged(
                "linear_basins",
                ("endpoint_losses", "path_max_losses", "delta"),
                results=_basins_verdict,
            ),
        ),
    ],
)
