"""The course's hidden checks under per-student case seeds (autograder.checks.seeding).

While a case seed is active, `vary` gives the random inputs of the checks other values (the
fixed cases, with no case seed, are proven unchanged elsewhere: every registered case, encoded
for the wire, is the same as before the seeds). For case seeds drawn with a fixed
`random.Random`, this module proves that the checks grade as well under any of them:

- the reference passes every part, and a stub that raises NotImplementedError fails every part;
- every correct implementation of the check tests in this package passes every part, and every
  wrong one fails exactly the parts it fails with the fixed cases;
- the parts whose cases are the same for every student are exactly `FIXED_PARTS`, each with its
  reason: a new random case that nobody routed through `vary` shows up here;
- the reference's outputs under one case seed, copied into a table (what a student could
  print into their feedback and hard-code), fail every part that varies under another.

Parts whose cases do not vary give the same results under every case seed, so only the parts
that vary are run again. The implementations run under fewer case seeds
(`IMPLEMENTATION_SEEDS`), those of the slowest functions under fewer still (`FEWER_SEEDS`).
"""

from __future__ import annotations

import copy
import hashlib
import random
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
import torch

import solutions
from autograder.checks import registry
from autograder.checks.registry import check_function
from autograder.checks.seeding import cases_for
from autograder.sandbox.wire import encode_case
from tests.course.checks.support import implementation_id, implementations

_RNG = random.Random(20_251_206)
CASE_SEEDS = [_RNG.randrange(2**63) for _ in range(8)]
"""The case seeds tried (a student's seed is a 63-bit HMAC, see `student_seed`)."""

IMPLEMENTATION_SEEDS = 4
"""The implementations of the check tests (about 500) run under the first 4 case seeds..."""
FEWER_SEEDS = {
    "rademacher_probes": 2,
    "train_bezier_midpoint": 2,
    "top_eigenvalue": 2,
}
"""... and those of the slowest functions under fewer, and so does the reference."""

FIXED_PARTS = {
    ("barrier_height", "basic"): "worked example 1 and hand-written paths",
    ("barrier_height", "errors"): "error cases (literal values)",
    ("barrier_height", "no_mutation"): "a hand-written losses tensor",
    ("interpolated_barrier", "default_alphas"): "worked example 1 and hand-written paths",
    ("interpolated_barrier", "explicit_alphas"): "hand-written alphas at the tolerance's edge",
    ("interpolated_barrier", "errors"): "error cases (literal values)",
    ("interpolated_barrier", "no_mutation"): "hand-written losses and alphas",
    ("is_linearly_connected", "basic"): "worked example 1 and practice problem 1",
    ("is_linearly_connected", "threshold"): "losses exactly at the threshold",
    ("is_linearly_connected", "float64"): "float32 values chosen to straddle the threshold",
    ("is_linearly_connected", "errors"): "error cases (literal values)",
    ("bernstein_weights", "basic"): "hand-written degrees and alphas",
    ("bernstein_weights", "endpoints"): "edge cases: alpha 0 and 1",
    ("bernstein_weights", "dtype"): "hand-written degrees and alphas",
    ("bernstein_weights", "errors"): "error cases (literal values)",
    ("linear_basins", "basic"): "practice problem 1",
    ("linear_basins", "components"): "hand-written graphs (chains, absent pairs, singletons)",
    ("linear_basins", "threshold"): "losses exactly at the threshold",
    ("linear_basins", "random"): "the mistakes a random graph exposes depend on its shape",
    ("linear_basins", "no_mutation"): "a hand-written graph",
    ("linear_basins", "errors"): "error cases (literal values)",
    ("expected_loss_increase", "basic"): "worked example 2 and hand-written traces",
    ("expected_loss_increase", "edge"): "edge cases: negative trace, sigma 0",
    ("expected_loss_increase", "errors"): "error cases (literal values)",
    ("spectrum_trace", "basic"): "small dims (its inputs are a decay and a dim)",
    ("spectrum_trace", "large"): "practice problem 2",
    ("spectrum_trace", "errors"): "error cases (literal values)",
    ("classify_critical_point", "basic"): "hand-written spectra of every kind",
    ("classify_critical_point", "tol"): "eigenvalues on either side of tol",
    ("classify_critical_point", "inputs"): "hand-written spectra in every container",
    ("classify_critical_point", "errors"): "error cases (empty inputs)",
    ("prune_count", "basic"): "worked example 3 and hand-written counts",
    ("prune_count", "rounding"): "products at and just below a half",
    ("prune_count", "edge"): "edge cases: n 0, fractions 0 and 1",
    ("prune_count", "errors"): "error cases (literal values)",
    ("magnitude_mask", "ties"): "ties and near-ties (a random draw has none)",
    ("magnitude_mask", "edge"): "edge cases: fractions 0 and 1, one weight, a half",
    ("magnitude_mask", "no_mutation"): "its random weights expose a per-row ranking by luck",
    ("magnitude_mask", "errors"): "error cases (worked example 3's weights)",
    ("prune_remaining", "ties"): "ties (a random draw has none)",
    ("prune_remaining", "edge"): "edge cases: fraction 1, nothing or one entry kept",
    ("prune_remaining", "no_mutation"): "worked example 3's weights and mask",
    ("prune_remaining", "errors"): "error cases (worked example 3's weights)",
    ("global_prune", "basic"): "the mistakes its few random weights expose depend on the draw",
    ("global_prune", "ties"): "ties across layers (a random draw has none)",
    ("global_prune", "no_mutation"): "the mistakes its random masks expose depend on the draw",
    ("imp_sparsity", "basic"): "hand-written fractions and rounds",
    ("imp_sparsity", "edge"): "edge cases: 0 rounds, fractions 0 and 1",
    ("imp_sparsity", "errors"): "error cases (literal values)",
    ("rounds_to_reach", "basic"): "hand-written fractions and targets",
    ("rounds_to_reach", "boundary"): "targets hit exactly, within 1e-12",
    ("rounds_to_reach", "edge"): "edge cases: target 0, extreme fractions",
    ("rounds_to_reach", "errors"): "error cases (literal values)",
    ("topk_score_mask", "ties"): "ties and near-ties (a random draw has none)",
    ("topk_score_mask", "edge"): "edge cases: keep_fraction 0, 1 and a half",
    ("topk_score_mask", "no_mutation"): "its random scores expose a per-row top-k by luck",
    ("mask_overlap", "edge"): "edge cases: empty masks",
    ("mask_overlap", "no_mutation"): "its random masks hide some wrong indices by luck",
    ("mask_overlap", "errors"): "error cases (masks of different shapes)",
}
"""The parts of graded functions whose cases are the same for every student, and why."""

FUNCTIONS = [n for n in registry.graded_functions() if registry.lookup(n).kind == "function"]
VALUES = [n for n in registry.graded_functions() if registry.lookup(n).kind == "value"]
VARYING = {n: [p for p in registry.parts(n) if (n, p) not in FIXED_PARTS] for n in FUNCTIONS}
"""The parts of every graded function whose cases vary with the case seed."""


def _seeds(name: str, count: int = len(CASE_SEEDS)) -> list[int]:
    """The first `count` case seeds, or fewer for the functions of `FEWER_SEEDS`."""
    return CASE_SEEDS[: min(count, FEWER_SEEDS.get(name, count))]


def _failures(name: str, fn: Any, part_names: list[str]) -> dict[str, str]:
    """part → feedback of the parts of `name` that `fn` fails, among `part_names`. Every part
    starts from the same global random state (some mistakes draw from it)."""
    failed = {}
    for part in part_names:
        torch.manual_seed(0)
        try:
            check_function(name, fn, part=part)
        except AssertionError as exc:
            failed[part] = str(exc)
    return failed


def _report(failed: Mapping[str, str]) -> str:
    return "\n".join(f"--- {p}\n{m}" for p, m in failed.items())


# ---- the parts that vary ----------------------------------------------------------------------


def _encoded(name: str, part: str, seed: int | None) -> list[str]:
    with cases_for(seed):
        return [encode_case(case) for case in registry.cases(name, part)]


def test_the_fixed_parts_are_the_listed_ones() -> None:
    """Exactly the parts of `FIXED_PARTS` have the same cases under two case seeds; every other
    part's cases differ from the fixed ones (graded values, the quiz, have no inputs)."""
    a, b = CASE_SEEDS[:2]
    same = set()
    for name in FUNCTIONS:
        for part in registry.parts(name):
            under_a = _encoded(name, part, a)
            if under_a == _encoded(name, part, b):
                same.add((name, part))
            else:
                assert under_a != _encoded(name, part, None), (name, part)
    assert not set(FIXED_PARTS) - same, "listed as fixed, but they vary"
    assert not same - set(FIXED_PARTS), "random cases that do not vary with the case seed"
    for name in VALUES:
        for part in registry.parts(name):
            assert _encoded(name, part, a) == _encoded(name, part, None), (name, part)


def test_most_parts_vary() -> None:
    # 100 of the 106 parts with random inputs when the case seeds came (of 158 in all)
    assert sum(len(v) for v in VARYING.values()) >= 100


def test_the_fixed_cases_have_the_properties_that_other_draws_are_made_to_have() -> None:
    """Cases drawn until their random data has a property (`first_draw`) are the fixed cases
    when no case seed is active, without a check: these have the property too (the gap of
    top_eigenvalue's spectra and the saddle's negative estimate are tested in test_inputs)."""
    from landscapes_checks.landscape_geometry import hutchinson_trace
    from landscapes_checks.mode_connectivity import average_params

    for part, negative_curvature in (
        ("basic", [True, False, False]),
        ("mlp", [True, False]),
        ("no_mutation", [False, True]),
    ):
        for case, negative in zip(registry.cases("hutchinson_trace", part), negative_curvature):
            assert hutchinson_trace.typical_estimate(case.args, negative_curvature=negative), (
                case.label
            )
    members, _ = registry.cases("average_params", "dtype")[1].args
    assert average_params.float32_weights_show(members)


# ---- the reference, a stub, the implementations of the check tests ------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_reference_passes_under_every_case_seed(name: str) -> None:
    reference = getattr(solutions, name)
    for seed in _seeds(name):
        with cases_for(seed):
            failed = _failures(name, reference, VARYING[name])
        assert not failed, f"case seed {seed}:\n{_report(failed)}"


def _stub(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_stub_fails_every_part_under_every_case_seed(name: str) -> None:
    for seed in _seeds(name):
        with cases_for(seed):
            passed = set(registry.parts(name)) - set(_failures(name, _stub, registry.parts(name)))
        assert not passed, f"case seed {seed}: the stub passed {sorted(passed)}"


_ALL_CORRECT = implementations("assert_passes_all", "CORRECT", exclude=__name__)
_ALL_WRONG = implementations("assert_fails", "WRONG", exclude=__name__)
VARYING_CORRECT = [(name, fn) for name, fn in _ALL_CORRECT if VARYING.get(name)]
VARYING_WRONG = [(name, fn) for name, fn in _ALL_WRONG if VARYING.get(name)]
"""The implementations of the functions with parts that vary."""


def test_the_implementations_were_found() -> None:
    # as in test_through_the_wire: fewer means a test module or a table is no longer found
    assert len(_ALL_CORRECT) >= 177 and len(_ALL_WRONG) >= 348, (len(_ALL_CORRECT), len(_ALL_WRONG))


@pytest.mark.parametrize(
    ("name", "fn"),
    VARYING_CORRECT,
    ids=[implementation_id(name, fn) for name, fn in VARYING_CORRECT],
)
def test_correct_implementations_pass_under_every_case_seed(name: str, fn: Any) -> None:
    for seed in _seeds(name, IMPLEMENTATION_SEEDS):
        with cases_for(seed):
            failed = _failures(name, fn, VARYING[name])
        assert not failed, f"case seed {seed}:\n{_report(failed)}"


@pytest.mark.parametrize(
    ("name", "fn"),
    VARYING_WRONG,
    ids=[implementation_id(name, fn) for name, fn in VARYING_WRONG],
)
def test_wrong_implementations_fail_the_same_parts_under_every_case_seed(
    name: str, fn: Any
) -> None:
    """A typical mistake fails the same parts for every student: the random inputs of every
    student show it where the fixed ones do, and only there."""
    with cases_for(None):
        fixed = set(_failures(name, fn, VARYING[name]))
    for seed in _seeds(name, IMPLEMENTATION_SEEDS):
        with cases_for(seed):
            failed = _failures(name, fn, VARYING[name])
        assert set(failed) == fixed, (
            f"case seed {seed}: fails {sorted(failed)}, with the fixed cases {sorted(fixed)}\n"
            + _report({p: m for p, m in failed.items() if p not in fixed})
        )


# ---- a table of outputs copied from someone's feedback -------------------------------------------


def _feed(digest: Any, obj: Any, depth: int = 0) -> None:
    """Feed the numbers and words of `obj` (recursively: tensors, arrays, containers, modules'
    state, generators' state, the variables a closure captured) into `digest`."""
    if depth > 12:
        digest.update(b"...")
        return
    if isinstance(obj, torch.Tensor):
        digest.update(f"T{obj.dtype}{tuple(obj.shape)}".encode())
        if not obj.is_meta:  # a shape without data (e.g. the layout a flat loss captured)
            digest.update(obj.detach().cpu().contiguous().numpy().tobytes())
    elif isinstance(obj, np.ndarray):
        digest.update(f"A{obj.dtype}{obj.shape}".encode() + np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, torch.nn.Module):
        digest.update(f"M{type(obj).__name__}{obj.training}".encode())
        _feed(digest, obj.state_dict(), depth + 1)
    elif isinstance(obj, torch.Generator):
        _feed(digest, obj.get_state(), depth + 1)
    elif isinstance(obj, Mapping):
        digest.update(b"{")
        for key, value in obj.items():
            _feed(digest, key, depth + 1)
            _feed(digest, value, depth + 1)
    elif isinstance(obj, list | tuple):
        digest.update(b"[")
        for value in obj:
            _feed(digest, value, depth + 1)
    elif isinstance(obj, set | frozenset):
        digest.update(repr(sorted(map(repr, obj))).encode())
    elif isinstance(obj, bool | int | float | str | np.generic) or obj is None:
        digest.update(repr(obj).encode())
    elif isinstance(obj, types.FunctionType):
        for cell in obj.__closure__ or ():
            _feed(digest, cell.cell_contents, depth + 1)
    else:
        digest.update(type(obj).__qualname__.encode())


def fingerprint(args: tuple, kwargs: Mapping[str, Any]) -> str:
    """A digest of the live inputs of one call."""
    digest = hashlib.sha256()
    _feed(digest, (args, dict(kwargs)))
    return digest.hexdigest()


def _detached(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return type(value)((k, _detached(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return type(value)(_detached(v) for v in value)
    return copy.deepcopy(value)


def _recorder(reference: Callable[..., Any], table: dict[str, Any]) -> Callable[..., Any]:
    """The reference, noting in `table` what it returned (or raised) for each input."""

    def record(*args: Any, **kwargs: Any) -> Any:
        key = fingerprint(args, kwargs)
        try:
            value = reference(*args, **kwargs)
        except Exception as exc:
            table[key] = ("raised", type(exc), str(exc))
            raise
        table[key] = ("returned", _detached(value))
        return value

    return record


def _hard_coded(table: Mapping[str, Any]) -> Callable[..., Any]:
    """A "solution" that looks its inputs up in `table` and returns None for any other."""

    def lookup(*args: Any, **kwargs: Any) -> Any:
        entry = table.get(fingerprint(args, kwargs))
        if entry is None:
            return None
        if entry[0] == "raised":
            raise entry[1](entry[2])
        return _detached(entry[1])

    return lookup


TABLE_FAILS_EVEN_FOR_ITS_SEED = {
    ("rademacher_probes", "generator"): "the verdict sees that `generator` was not drawn from",
    ("top_eigenvalue", "generator"): "the verdict sees that `generator` was not drawn from",
    ("train_bezier_midpoint", "minibatches"): "the spy model sees no forward pass",
    ("iterative_magnitude_pruning", "basic"): "the spy train_fn sees no call",
    ("iterative_magnitude_pruning", "train_fn"): "the spy train_fn sees no call",
    ("iterative_magnitude_pruning", "edge"): "the spy train_fn sees no call",
    ("iterative_magnitude_pruning", "no_mutation"): "the spy train_fn sees no call",
    ("straight_through_mask", "gradient"): "no gradient flows back through a copied tensor",
}
"""Varying parts whose verdicts look at more than the returned values, so that even a table
made under the same case seed fails them."""


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if VARYING[n]])
def test_outputs_copied_under_one_case_seed_fail_under_another(name: str) -> None:
    """A table of the reference's outputs under case seed A, keyed by a fingerprint of the
    inputs, passes (where the verdict looks at the outputs only) under A and fails every part
    that varies under case seed B."""
    a, b = CASE_SEEDS[:2]
    table: dict[str, Any] = {}
    with cases_for(a):
        assert not _failures(name, _recorder(getattr(solutions, name), table), VARYING[name])
        failed_a = set(_failures(name, _hard_coded(table), VARYING[name]))
    expected_a = {p for p in VARYING[name] if (name, p) in TABLE_FAILS_EVEN_FOR_ITS_SEED}
    assert failed_a == expected_a, "the table under its own case seed"
    with cases_for(b):
        passed_b = set(VARYING[name]) - set(_failures(name, _hard_coded(table), VARYING[name]))
    assert not passed_b, f"a table of outputs for case seed {a} passes under {b}"
