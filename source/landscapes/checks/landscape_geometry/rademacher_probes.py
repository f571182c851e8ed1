"""Checks of `rademacher_probes` (notebook 02), through properties: the random draws are free.

The probes have shape (num_probes, dim) and float entries exactly ±1.0; +1 and −1 are equally
likely and the entries independent (`PROBE_BALANCE_TOL` on 100 000 entries); they are drawn
from the `generator` argument only, never from torch's global random state, so the same
generator state gives the same probes and another seed others.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import call_failure, fmt_value, index_str

from .common import _case_generator, _checked, _generator, _generator_pair, _generator_used

# Tolerances and sizes (named, never inline)

PROBE_BALANCE_TOL = 0.05
"""|mean| of 100 000 Rademacher entries (and of the products of neighbours) must be below
this (the standard deviation of a fair mean is 0.003)."""


_RAD = "rademacher_probes"
_RAD_HINT = (
    "draw bits with torch.randint(0, 2, (num_probes, dim), generator=generator) and map them "
    "to ±1.0 (2·bits − 1, as a float tensor)"
)


def _rad_sizes(case: Case) -> tuple[int, int]:
    return int(case.args[0]), int(case.args[1])


def _rad_form(got: Any, num_probes: int, dim: int, what: str = "the probes") -> str | None:
    """Type, shape, float dtype and entries exactly ±1.0."""
    if type(got) is not torch.Tensor:
        return f"{what} should be a torch.Tensor, got {fmt_value(got)}"
    shape = (num_probes, dim)
    if tuple(got.shape) != shape:
        return f"{what} have shape {tuple(got.shape)}, expected (num_probes, dim) = {shape}" + (
            " (transposed?)" if tuple(got.shape) == shape[::-1] else ""
        )
    if not got.is_floating_point():
        return (
            f"{what} have dtype {got.dtype}; the entries must be the floats +1.0 and -1.0 "
            "(convert with .to(torch.get_default_dtype()) or .float())"
        )
    if got.layout != torch.strided:
        return f"{what} should be a dense tensor"
    flat = got.detach().reshape(-1)
    bad = ((flat != 1.0) & (flat != -1.0)).nonzero().reshape(-1)
    if bad.numel():
        i = int(bad[0])
        return (
            f"{what} contain {bad.numel()} entries that are not exactly +1.0 or -1.0; the "
            f"first, at index {index_str(i, shape)}, is {float(flat[i])!r}"
        )
    return None


def _rad_form_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    return _rad_form(outcome.value, *_rad_sizes(case))


def _rad_balance_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    msg = _rad_form(outcome.value, *_rad_sizes(case))
    if msg:
        return msg
    rows = outcome.value.detach().to(torch.float64)
    if rows.shape[0] > 1 and bool((rows == rows[:1]).all()):
        return (
            f"all {rows.shape[0]} probes (rows) are the same vector: draw every probe, and "
            "every entry of it, independently (one draw of shape (num_probes, dim), not one "
            "row repeated)"
        )
    x = rows.reshape(-1)
    plus = float((x > 0).to(torch.float64).mean())
    if abs(float(x.mean())) >= PROBE_BALANCE_TOL:
        return (
            f"{plus:.1%} of the {x.numel()} entries are +1.0: each entry must be +1 or -1 with "
            "probability 1/2"
        )
    neighbours = float((x[1:] * x[:-1]).mean())
    if abs(neighbours) >= PROBE_BALANCE_TOL:
        return (
            f"neighbouring entries agree far more or less often than chance (mean of their "
            f"products {neighbours:.3f}, expected about 0): draw every entry independently"
        )
    return None


def _rad_generator_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    msg = _rad_form(outcome.value, *_rad_sizes(case))
    return msg or _generator_used(case, outcome, _RAD, _case_generator(case))


def _rad_determinism_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    num_probes, dim = _rad_sizes(case)
    msg = _rad_form(outcome.value, num_probes, dim)
    if msg:
        return msg
    again, other = outcome.reruns
    seed = case.kwargs["generator"].params["seed"]
    other_seed = case.reruns[1]["generator"].params["seed"]
    for label, o in (
        ("a second call with a fresh generator of the same seed", again),
        (f"a call with a generator seeded {other_seed}", other),
    ):
        failure = call_failure(o, _RAD)
        if failure:
            return f"{label}: {failure}"
        msg = _rad_form(o.value, num_probes, dim, what=f"the probes of {label}")
        if msg:
            return msg
    if not torch.equal(outcome.value, again.value):
        return (
            f"two calls with generators in the same state (seed {seed}) returned different "
            "probes: draw every entry from `generator` and from nothing else"
        )
    if torch.equal(outcome.value, other.value):
        return (
            f"generators seeded {seed} and {other_seed} gave identical probes: the probes "
            "must come from the `generator` argument"
        )
    return None


def _rad_basic() -> list[Case]:
    return [
        Case("4 probes of dimension 7", (4, 7, _generator(0))),
        Case("one probe of dimension 1", (1, 1, _generator(1))),
        Case("3 probes of dimension 50", (3, 50, _generator(2))),
        Case("10 probes of dimension 3", (10, 3, _generator(3))),
    ]


def _rad_balance() -> list[Case]:
    return [
        Case("200 probes of dimension 500 (100 000 entries)", (200, 500, _generator(4))),
        Case("100 000 probes of dimension 1", (100_000, 1, _generator(5))),
    ]


def _rad_generator() -> list[Case]:
    return [
        Case(
            "5 probes of dimension 20, generator passed by position",
            (5, 20, _generator(6)),
            post=Build("generator_state_probe", {"arg": 2}),
        ),
        Case(
            "2 probes of dimension 3, generator passed by keyword",
            (2, 3),
            {"generator": _generator(7)},
            post=Build("generator_state_probe", {"name": "generator"}),
        ),
    ]


def _rad_determinism() -> list[Case]:
    gen, other = _generator_pair(8, 9)
    return [
        Case(
            "6 probes of dimension 10: called again with a fresh generator seeded "
            f"{gen.params['seed']}, and with one seeded {other.params['seed']}",
            (6, 10),
            {"generator": gen},
            reruns=({}, {"generator": other}),
        ),
    ]


make_checks(
    _RAD,
    [
        Part(
            "basic",
            "shape (num_probes, dim), float entries exactly ±1.0",
            _rad_basic,
            _checked(_RAD, _rad_form_judge, _RAD_HINT),
        ),
        Part(
            "balance",
            "+1 and -1 equally likely, entries independent",
            _rad_balance,
            _checked(_RAD, _rad_balance_judge, _RAD_HINT),
        ),
        Part(
            "generator",
            "draws only from `generator` (never the global random state)",
            _rad_generator,
            _checked(_RAD, _rad_generator_judge, _RAD_HINT),
        ),
        Part(
            "determinism",
            "the same generator state gives the same probes, another seed others",
            _rad_determinism,
            _checked(_RAD, _rad_determinism_judge, _RAD_HINT),
        ),
    ],
)
