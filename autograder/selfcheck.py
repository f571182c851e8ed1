"""Reference self-check: the seed's worked examples and the hidden-check registry.

`autograder selfcheck` verifies that the reference solutions reproduce the course text's
worked examples (with the spec's corrections) and that every registered hidden check accepts
the reference and rejects the released stub, and prints what it verified.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

import solutions
from autograder.checks import REGISTRY, check_function, parts
from solutions import quiz


@dataclass(frozen=True)
class Fact:
    """One verified statement: what was computed, what the course text says, whether equal."""

    label: str
    got: object
    expected: object
    ok: bool


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


def reference_item(name: str) -> object:
    """The reference for a graded item: a function of `solutions`, or a quiz answer value."""
    if REGISTRY[name].kind == "value":
        if name == "key_terms":
            return dict(quiz.KEY_TERMS)
        return quiz.QUIZ_ANSWERS[name]
    return getattr(solutions, name)


@dataclass(frozen=True)
class RegistryRow:
    name: str
    parts: int
    reference_ok: bool
    stub_rejected: bool
    detail: str


def registry_rows(progress: Callable[[str], None] | None = None) -> list[RegistryRow]:
    """For every graded function: the reference passes every part, the stub fails every part."""

    def stub_function(*args: object, **kwargs: object) -> object:
        raise NotImplementedError()

    rows = []
    for name in REGISTRY:
        if progress:
            progress(name)
        reference = reference_item(name)
        # The released stub of a function raises NotImplementedError; of an answer, it is None
        # (a quiz letter) or the descriptions mapped to None (the key-term matching).
        stub: object = stub_function
        if REGISTRY[name].kind == "value":
            stub = None if not isinstance(reference, dict) else dict.fromkeys(reference)
        detail = ""
        ref_ok = True
        stub_rejected = True
        for part in parts(name):
            try:
                check_function(name, reference, part=part)
            except AssertionError as exc:
                ref_ok = False
                detail = f"reference fails {part}: {str(exc).splitlines()[0]}"
            try:
                check_function(name, stub, part=part)
                stub_rejected = False
                detail = detail or f"stub passes {part}"
            except AssertionError:
                pass
        rows.append(RegistryRow(name, len(parts(name)), ref_ok, stub_rejected, detail))
    return rows


def main(*, verbose: bool = True) -> int:
    """Run the self-check, print a report, and return the process exit code (0 = all good)."""
    start = time.perf_counter()
    out = sys.stdout
    facts = worked_examples()
    out.write("Worked examples recomputed by the reference solutions\n")
    width = max(len(f.label) for f in facts)
    for f in facts:
        out.write(
            f"  {'ok  ' if f.ok else 'FAIL'} {f.label:<{width}}  got {f.got}  "
            f"(course text: {f.expected})\n"
        )
    out.write("\nHidden-check registry: reference passes every part, stub fails every part\n")

    def progress(name: str) -> None:
        if verbose:
            out.write(f"  checking {name} ...\r")
            out.flush()

    rows = registry_rows(progress)
    width = max(len(r.name) for r in rows) if rows else 10
    for r in rows:
        status = "ok  " if (r.reference_ok and r.stub_rejected) else "FAIL"
        out.write(
            f"  {status} {r.name:<{width}}  {r.parts} parts{'  ' + r.detail if r.detail else ''}\n"
        )
    n_parts = sum(r.parts for r in rows)
    bad = [f for f in facts if not f.ok] + [
        r for r in rows if not (r.reference_ok and r.stub_rejected)
    ]
    out.write(
        f"\nVerified {len(facts)} worked-example facts and {len(rows)} graded functions "
        f"({n_parts} hidden-check parts) in {time.perf_counter() - start:.1f} s: "
        f"{'all good' if not bad else f'{len(bad)} problem(s)'}\n"
    )
    return 0 if not bad else 1
