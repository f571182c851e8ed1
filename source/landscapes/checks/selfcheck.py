"""The course text's worked examples, recomputed by the reference solutions.

`autograder selfcheck` (the engine's :mod:`autograder.pipeline.selfcheck`) prints these facts
(with the spec's corrections) before it checks that every hidden check accepts the
reference and rejects the released stub.
"""

from __future__ import annotations

import math

import torch

import solutions
from autograder.pipeline.selfcheck import Fact


def _close(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def worked_examples() -> list[Fact]:
    """The seed's worked examples and practice-problem numbers, recomputed by the reference."""
    facts: list[Fact] = []
    b = solutions.barrier_height([0.32, 0.55, 1.42, 0.58, 0.33])
    facts.append(Fact("worked example 1: barrier height", round(b, 6), 1.095, _close(b, 1.095)))
    sharp = solutions.expected_loss_increase(500.0, 0.01)
    flat = solutions.expected_loss_increase(80.0, 0.01)
    facts.append(
        Fact(
            "worked example 2: loss increase, tr(H)=500",
            round(sharp, 9),
            0.025,
            _close(sharp, 0.025),
        )
    )
    facts.append(
        Fact(
            "worked example 2: loss increase, tr(H)=80", round(flat, 9), 0.004, _close(flat, 0.004)
        )
    )
    facts.append(
        Fact(
            "worked example 2: sensitivity ratio",
            round(sharp / flat, 9),
            6.25,
            _close(sharp / flat, 6.25),
        )
    )
    W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
    mask = solutions.magnitude_mask(W1, 0.3).int().tolist()
    want = [[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]]
    facts.append(
        Fact(
            "worked example 3: 30% of 12 weights pruned",
            solutions.prune_count(12, 0.3),
            4,
            solutions.prune_count(12, 0.3) == 4,
        )
    )
    facts.append(Fact("worked example 3: mask of W1", mask, want, mask == want))
    basins = solutions.linear_basins([0.15, 0.16, 0.17], {(0, 1): 0.18, (1, 2): 0.95}, 0.05)
    facts.append(
        Fact(
            "practice problem 1: linear basins (delta 0.05)",
            basins,
            [{0, 1}, {2}],
            basins == [{0, 1}, {2}],
        )
    )
    exp_sum = solutions.spectrum_trace("exponential", 10**7)
    want_exp = 1 / (math.e - 1)
    facts.append(
        Fact(
            "practice problem 2: sum e^-k, d=10^7 (= 1/(e-1))",
            round(exp_sum, 9),
            round(want_exp, 9),
            _close(exp_sum, want_exp),
        )
    )
    harm = solutions.spectrum_trace("inverse", 10**7)
    want_h = math.log(10**7) + 0.5772156649015329 + 1 / (2 * 10**7)
    facts.append(
        Fact(
            "practice problem 2: sum 1/k, d=10^7 (≈ ln d + γ)",
            round(harm, 6),
            round(want_h, 6),
            _close(harm, want_h, 1e-9),
        )
    )
    r = solutions.rounds_to_reach(0.2, 0.9)
    facts.append(Fact("IMP: rounds of 20% pruning to reach 90% sparsity", r, 11, r == 11))
    return facts
