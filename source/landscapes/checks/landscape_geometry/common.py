"""Tolerances and helpers shared by several graded functions of notebook 02.

Stage 1: generators and random tensors, symmetric matrices with a given spectrum, `Build`
recipes of quadratic, curved and MLP losses, of an MLP's flat parameters and of generators.
Their seeds go through `vary` when the cases are made, so every student gets other random
inputs (the fixed ones when no case seed is active); `_fixed_gen` is for data that stays
the same for everyone.
Stage 3: closeness tests that name a typical mistake (`DIAGNOSE_RTOL`), the scalar comparison,
the after-call probe of theta's `.grad` (a gradient left there by `.backward()` through theta
makes the next call add to it), the check that a function drew from its `generator` only, and
the exact Hessian (torch.autograd.functional.hessian).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.call import materialize
from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Outcome, Verdict
from autograder.checks.verdicts import (
    DICT_TYPES,
    compare_float,
    leaves_inputs_unchanged,
    require_results,
    returned_then,
    with_hint,
)

# ---------------------------------------------------------------------------------------------
# Tolerances and sizes (named, never inline)

SCALAR_RTOL = 1e-4
"""Relative tolerance of float results (traces, loss increases, sums)."""
SCALAR_ATOL = 1e-6
"""Absolute tolerance of float results."""
DIAGNOSE_RTOL = 1e-3
"""How close a wrong result must be to a typical mistake's value for the feedback to name it."""

_N_EXAMPLES = 12
_N_CLASSES = 3
_HIDDEN = (4,)
_GEN_SEED = 2502


# ---------------------------------------------------------------------------------------------
# Shared stage-1 helpers


def _gen(offset: int) -> torch.Generator:
    """The generator of a case's random inputs: varied per student (call it in make_cases)."""
    return torch.Generator().manual_seed(vary(_GEN_SEED + offset))


def _fixed_gen(offset: int) -> torch.Generator:
    """A generator that is the same for everyone (a verdict's own data, import time)."""
    return torch.Generator().manual_seed(_GEN_SEED + offset)


def _randn(shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=_gen(seed), dtype=dtype)


def _sym(eigenvalues: list[float], seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A symmetric matrix Q·diag(eigenvalues)·Qᵀ with a random orthogonal Q."""
    d = len(eigenvalues)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=_gen(seed), dtype=torch.float64))
    lam = torch.tensor(eigenvalues, dtype=torch.float64)
    a = q @ torch.diag(lam) @ q.T
    return ((a + a.T) / 2).to(dtype)


def _quad(A: torch.Tensor, b: torch.Tensor | None = None) -> Build:
    return Build("quadratic_loss", {"A": A, "b": b})


def _curved(d: int, seed: int, c: float, dtype: torch.dtype = torch.float64) -> Build:
    A = _sym([float(i % 3 + 1) for i in range(d)], seed, dtype)
    u = _randn((d,), seed + 1, dtype) * 0.5
    return Build("curved_loss", {"A": A, "u": u, "c": c})


def _mlp(seed: int, dtype: str = "float32") -> Build:
    """A seeded MLP's recipe; its seed is varied per student (call it in make_cases)."""
    return Build(
        "mlp", {"hidden": _HIDDEN, "out_dim": _N_CLASSES, "seed": vary(seed), "dtype": dtype}
    )


def _mlp_dim() -> int:
    return 2 * _HIDDEN[0] + _HIDDEN[0] + _HIDDEN[0] * _N_CLASSES + _N_CLASSES


def _mlp_loss(seed: int, data_seed: int, dtype: str = "float32") -> Build:
    gen = _gen(data_seed)
    X = torch.randn(_N_EXAMPLES, 2, generator=gen)
    y = torch.randint(0, _N_CLASSES, (_N_EXAMPLES,), generator=gen)
    return Build("mlp_flat_loss", {"model": _mlp(seed, dtype), "X": X, "y": y})


def _mlp_theta(seed: int, dtype: str = "float32", *, requires_grad: bool = False) -> Build:
    theta = Build("flat_params", {"model": _mlp(seed, dtype)})
    return Build("leaf_tensor", {"values": theta}) if requires_grad else theta


def _leaf(values: torch.Tensor) -> Build:
    return Build("leaf_tensor", {"values": values})


def _generator(seed: int) -> Build:
    """A seeded generator's recipe; its seed is varied per student (call it in make_cases)."""
    return Build("generator", {"seed": vary(seed)})


def _generator_pair(seed: int, other: int) -> tuple[Build, Build]:
    """Recipes of two generators with different seeds, whatever the case seed (cases that
    check that another seed gives another result)."""
    first, second = _generator(seed), _generator(other)
    if first.params["seed"] == second.params["seed"]:
        second = Build("generator", {"seed": first.params["seed"] + 1})
    return first, second


# ---------------------------------------------------------------------------------------------
# Shared verdict helpers (stage 3)

_checked = returned_then


def _near(value: float | None, target: float) -> bool:
    """Whether a (wrong) scalar result equals `target`, for naming the mistake."""
    if value is None or not math.isfinite(value) or not math.isfinite(target):
        return False
    return abs(value - target) <= SCALAR_ATOL + DIAGNOSE_RTOL * abs(target)


def _tensor_near(got: Any, target: torch.Tensor) -> bool:
    if type(got) is not torch.Tensor or tuple(got.shape) != tuple(target.shape):
        return False
    if not got.is_floating_point():
        return False
    g = got.detach().to(torch.float64)
    t = target.detach().to(torch.float64)
    return bool(torch.allclose(g, t, rtol=DIAGNOSE_RTOL, atol=SCALAR_ATOL))


def _dict_near(got: Any, target: Mapping[str, torch.Tensor]) -> bool:
    if type(got) not in DICT_TYPES or set(got) != set(target):
        return False
    return all(_tensor_near(got[k], v) for k, v in target.items())


def _compare_scalar(got: Any, expected: float, what: str) -> str | None:
    return compare_float(got, expected, what=what, rtol=SCALAR_RTOL, atol=SCALAR_ATOL)


#: After-call probe of theta's `.grad` (argument 1 of hvp, hutchinson_trace, top_eigenvalue).
_THETA_GRAD_PROBE = Build("input_grad_probe", {"arg": 1})


def _unchanged_and_no_grad_left(
    name: str, arg_names: tuple[str, ...], *, results: Verdict
) -> Verdict:
    """Inputs unchanged, theta (argument 1) left without a `.grad`, then `results` (the
    verdict on what the call returned: the conventions alone earn nothing).

    `.backward()` through theta itself fills theta.grad; a second call (the next probe of a
    Hutchinson loop, the next power-iteration step) then adds its product to the old one.
    """
    require_results("_unchanged_and_no_grad_left", name, results)

    def no_grad_left_then_results(case: Case, outcome: Outcome) -> str | None:
        if outcome.probe.get("grad_left"):
            return with_hint(
                f"`{name}` left a gradient in theta.grad (from .backward() through theta "
                "itself): every later call adds its result to it, so a second product or "
                "estimate comes out wrong",
                case,
                "differentiate a detached copy x = theta.detach().clone().requires_grad_(True) "
                "with torch.autograd.grad (or torch.func), which never touches theta.grad",
            )
        return results(case, outcome)

    return leaves_inputs_unchanged(name, arg_names, results=no_grad_left_then_results)


# ---------------------------------------------------------------------------------------------
# Drawing from the `generator` argument only (rademacher_probes, top_eigenvalue)


def _generator_used(case: Case, outcome: Outcome, name: str, generator: Build) -> str | None:
    """A message if the call drew from the global RNG or did not draw from `generator`."""
    if outcome.global_rng_changed:
        return (
            f"`{name}` drew from torch's global random generator (torch.randint, torch.rand, "
            "torch.randn or torch.manual_seed without generator=...): draw only from the "
            "`generator` argument, e.g. torch.randint(0, 2, size, generator=generator)"
        )
    if "generator_error" in outcome.probe:
        raise RuntimeError(f"case {case.label!r}: {outcome.probe['generator_error']}")
    state = outcome.probe.get("generator_state")
    if state is None:
        raise RuntimeError(f"case {case.label!r} has no generator_state_probe")
    if torch.equal(state, materialize(generator).get_state()):
        return (
            f"`{name}` left `generator` untouched: it did not draw from it (a new "
            "torch.Generator or a fixed seed inside the function does not count). Pass "
            "generator=generator to the random function"
        )
    return None


def _case_generator(case: Case, index: int = 2) -> Build:
    gen = case.kwargs.get("generator", case.args[index] if len(case.args) > index else None)
    if not isinstance(gen, Build):
        raise RuntimeError(f"case {case.label!r} has no generator recipe")
    return gen


# ---------------------------------------------------------------------------------------------
# The exact Hessian (hutchinson_trace, top_eigenvalue)


def _hessian(loss_fn: Callable, theta: torch.Tensor) -> torch.Tensor:
    """The full Hessian at theta, row by row with torch.autograd.functional.hessian."""
    return torch.autograd.functional.hessian(loss_fn, theta.detach().clone())
