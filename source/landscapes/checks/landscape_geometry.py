"""Hidden checks for notebook 02 (landscape geometry): cases (stage 1) and verdicts (stage 3).

Every function of exercise-spec.md's 02 table has its parts here. Losses, models and
generators are `Build` recipes resolved by the builders in `builders` and
`inputs_landscape_geometry`. Values are compared with the reference solution where the spec
fixes them; where it leaves freedom they are checked through properties: random probes by
their form, balance and reproducibility; `top_eigenvalue` (whose start vector is free) against
the eigenvalues of the Hessian computed by `torch.autograd.functional.hessian`.

Only what the spec states is graded: no case depends on the reference's own extra choices
(casting v or probes to theta's dtype, losses with more than one element, |λ| exactly equal to
tol, a negative tol, empty alphas or betas, layer_in == layer_out, NaN factors, the dtype of a
direction that differs from theta's, the order of the keys `filter_normalize` returns; a
ValueError for theta's keys in another order than direction's is accepted). "Never modifies its
inputs" includes theta's `.grad`: a gradient left there by `.backward()` through theta makes the
next call of the function add to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from autograder.checks.call import materialize
from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part, Verdict
from autograder.checks.verdicts import (
    DICT_TYPES,
    _index_str,
    as_scalar,
    call_failure,
    compare_float,
    compare_str,
    compare_tensor,
    compare_tensor_dict,
    fmt_value,
    leaves_inputs_unchanged,
    raises_value_error,
    reordered_keys_may_raise,
    returned_then,
    with_hint,
)
from solutions import landscape_geometry as ref

# ---------------------------------------------------------------------------------------------
# Tolerances and sizes (named, never inline)

SCALAR_RTOL = 1e-4
"""Relative tolerance of float results (traces, loss increases, sums)."""
SCALAR_ATOL = 1e-6
"""Absolute tolerance of float results."""
DIAGNOSE_RTOL = 1e-3
"""How close a wrong result must be to a typical mistake's value for the feedback to name it."""
EIGEN_RTOL = 1e-3
"""`top_eigenvalue`: relative tolerance against the exact dominant eigenvalue (every spectrum
used has |λ2| / |λ1| ≤ 0.6, so 100 power iterations converge far beyond it)."""
EIGEN_MAX_GAP_RATIO = 0.6
"""Every top_eigenvalue case has |λ2|/|λ1| at most this (asserted by the tests of the checks):
the spec promises spectra with a clear gap."""
MLP_POWER_ITERS = 30
"""Power-iteration steps asked for on MLP losses (their |λ2|/|λ1| ≤ 0.47: 30 steps converge
far below EIGEN_RTOL, and keep the checks fast)."""
NUM_ITERS_SPREAD = 1e-3
"""After one power-iteration step from any Gaussian start, the Rayleigh quotient on the
`num_iters` case's spectrum stays at least this far (relative) below λ1 (in a million random
starts the closest was 3.5e-3 below)."""
SHOWN_EIGENVALUES = 8
"""Feedback lists a Hessian's eigenvalues when it has at most this many (else the extremes)."""
MONOTONE_RTOL = 1e-9
"""Rounding allowed when checking that the Rayleigh quotient grows with num_iters."""
SAME_RTOL = 1e-9
"""Two calls from the same generator state must agree to this relative tolerance."""
PROBE_BALANCE_TOL = 0.05
"""|mean| of 100 000 Rademacher entries (and of the products of neighbours) must be below
this (the standard deviation of a fair mean is 0.003)."""
SURFACE_RTOL = 1e-5
"""Relative tolerance of loss-surface values when their dtype is not what is checked."""
SURFACE_ATOL = 1e-6
"""Absolute tolerance of loss-surface values."""
FUNCTION_RTOL = 1e-4
"""`rescale_hidden_units`: network outputs before and after the rescaling agree to this."""
FUNCTION_ATOL = 1e-5
SPECTRUM_DIAGNOSE_RTOL = 1e-9
"""`spectrum_trace`: how close a wrong sum must be to a typical mistake's value to name it
(off by one term at dim = 1000 is a relative difference of 1e-4)."""
SPECTRUM_RTOL = 1e-5
"""`spectrum_trace`: relative tolerance. Summing in float32 stays below 2e-6 (numpy, torch or a
plain loop, dim up to 10^7); the approximation ln dim + γ is 6.7e-5 off at dim = 1000."""
SPECTRUM_TIMEOUT = 10.0
"""Seconds per call of `spectrum_trace` (dim = 10^7: numpy takes 0.1 s, a plain Python loop
about 1 s; anything that is not linear in dim never finishes)."""

_N_EXAMPLES = 12
_N_CLASSES = 3
_HIDDEN = (4,)
_GEN_SEED = 2502


# ---------------------------------------------------------------------------------------------
# Shared stage-1 helpers


def _gen(offset: int) -> torch.Generator:
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
    return Build("mlp", {"hidden": _HIDDEN, "out_dim": _N_CLASSES, "seed": seed, "dtype": dtype})


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
    return Build("generator", {"seed": seed})


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


def _unchanged_and_no_grad_left(name: str, arg_names: tuple[str, ...], also: Verdict) -> Verdict:
    """Inputs unchanged, theta (argument 1) left without a `.grad`, then `also`.

    `.backward()` through theta itself fills theta.grad; a second call (the next probe of a
    Hutchinson loop, the next power-iteration step) then adds its product to the old one.
    """
    unchanged = leaves_inputs_unchanged(name, arg_names)

    def verdict(case: Case, outcome: Outcome) -> str | None:
        msg = unchanged(case, outcome)
        if msg:
            return msg
        if outcome.probe.get("grad_left"):
            return with_hint(
                f"`{name}` left a gradient in theta.grad (from .backward() through theta "
                "itself): every later call adds its result to it, so a second product or "
                "estimate comes out wrong",
                case,
                "differentiate a detached copy x = theta.detach().clone().requires_grad_(True) "
                "with torch.autograd.grad (or torch.func), which never touches theta.grad",
            )
        return also(case, outcome)

    return verdict


# ---------------------------------------------------------------------------------------------
# hvp

_HVP = "hvp"
_HVP_HINT = (
    "compute H·v exactly by double backward on a detached copy x of theta that requires grad: "
    "g = torch.autograd.grad(loss_fn(x), x, create_graph=True)[0], then "
    "torch.autograd.grad(g, x, grad_outputs=v)[0] (or torch.func.jvp(torch.func.grad(loss_fn), "
    "(theta,), (v,))[1]); finite differences of the gradient are not exact"
)


def _gradient(loss_fn: Callable, theta: torch.Tensor) -> torch.Tensor:
    """∇L(theta) (zeros when the loss does not depend on theta), for naming a mistake."""
    x = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(x)
        if not loss.requires_grad:
            return torch.zeros_like(x).detach()
        (g,) = torch.autograd.grad(loss, x, allow_unused=True)
    return torch.zeros_like(x).detach() if g is None else g.detach()


def _hvp_mistake(
    got: Any, expected: torch.Tensor, loss_fn: Callable, theta: torch.Tensor, v: torch.Tensor
) -> str:
    """Name a typical mistake whose value `got` equals, else ""."""
    if type(got) is not torch.Tensor or tuple(got.shape) != tuple(expected.shape):
        return ""
    candidates = [
        (
            ref.hvp(loss_fn, theta, torch.ones_like(v)),
            "Your result is H·1 (the sums of the Hessian's rows), not H·v: pass v as "
            "grad_outputs=v (or differentiate (g * v).sum()) instead of g.sum()",
        ),
        (
            _gradient(loss_fn, theta),
            "Your result is the gradient ∇L(theta); differentiate the gradient once more, along v",
        ),
    ]
    norm = float(torch.linalg.vector_norm(v.detach().to(torch.float64)))
    if norm > 0:
        candidates.append(
            (
                ref.hvp(loss_fn, theta, v / norm),
                "Your result is H·(v / ‖v‖): use v as given, without normalising it",
            )
        )
    for target, why in candidates:
        if _tensor_near(got, target) and not _tensor_near(expected, target):
            return "\n" + why
    return ""


def _hvp_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta, v = args
    expected = ref.hvp(loss_fn, theta, v)
    msg = compare_tensor(outcome.value, expected, what="the result of `hvp`")
    return msg + _hvp_mistake(outcome.value, expected, loss_fn, theta, v) if msg else None


_hvp_verdict = _checked(_HVP, _hvp_judge, _HVP_HINT)


_hvp_zero_verdict = _checked(
    _HVP,
    _hvp_judge,
    "this loss's Hessian is zero, so H·v is a tensor of zeros shaped like theta; when the "
    "gradient does not depend on theta (g.requires_grad is False, or autograd returns None) "
    "return torch.zeros_like(theta) instead of differentiating again",
)


_hvp_zero_unchanged = leaves_inputs_unchanged(
    _HVP, ("loss_fn", "theta", "v"), also=_hvp_zero_verdict
)


def _hvp_zero_part_verdict(case: Case, outcome: Outcome) -> str | None:
    """Zeros for a zero Hessian (with its hint when the call fails), inputs left unchanged."""
    if outcome.status != "returned":
        return _hvp_zero_verdict(case, outcome)
    return _hvp_zero_unchanged(case, outcome)


def _hvp_basic() -> list[Case]:
    d = 5
    A = _sym([3.0, 2.0, 1.0, 0.5, -1.0], 1)
    A32 = _sym([2.0, 1.0, -0.5, 0.25], 2, torch.float32)
    return [
        Case(
            "quadratic ½θᵀAθ + bᵀθ (float64): H = A",
            (
                _quad(A, _randn((d,), 3, torch.float64)),
                _randn((d,), 4, torch.float64),
                _randn((d,), 5, torch.float64),
            ),
        ),
        Case(
            "quadratic (float32): H = A",
            (_quad(A32), _randn((4,), 6), _randn((4,), 7)),
        ),
        Case(
            "a loss whose Hessian depends on theta (float64)",
            (
                _curved(6, 8, 1.0),
                _randn((6,), 9, torch.float64) * 0.5,
                _randn((6,), 10, torch.float64),
            ),
        ),
        Case(
            "v = a standard basis vector: a column of the Hessian",
            (
                _curved(4, 11, 1.0),
                _randn((4,), 12, torch.float64) * 0.5,
                torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64),
            ),
        ),
    ]


def _hvp_exact() -> list[Case]:
    d = 6
    A = _sym([1.0, 0.5, -0.5, 2.0, 1.5, 0.25], 20, torch.float32)
    big_b = torch.full((d,), 1e4)
    return [
        Case(
            "float32, a loss with a large gradient (about 1e4) and a Hessian of order 1",
            (_quad(A, big_b), _randn((d,), 21), _randn((d,), 22)),
            hint="a finite difference (g(θ + εv) − g(θ − εv)) / 2ε of a gradient of size 1e4 "
            "loses all accuracy in float32 rounding; automatic differentiation is exact",
        ),
        Case(
            "float64, a loss with large third derivatives (exp(8·θ_i) terms)",
            (
                _curved(5, 23, 8.0),
                _randn((5,), 24, torch.float64) * 0.3,
                _randn((5,), 25, torch.float64),
            ),
            hint="a finite difference of the gradient is off by terms of order ε·(third "
            "derivative); double backward is exact",
        ),
        Case(
            "float32 MLP loss with ReLUs",
            (_mlp_loss(1, 30), _mlp_theta(1), _randn((_mlp_dim(),), 26)),
        ),
    ]


def _hvp_zero_hessian() -> list[Case]:
    return [
        Case(
            "a linear loss bᵀθ (float32): H·v = 0",
            (Build("linear_loss", {"b": _randn((5,), 40)}), _randn((5,), 41), _randn((5,), 42)),
        ),
        Case(
            "a linear loss bᵀθ (float64), theta requiring grad",
            (
                Build("linear_loss", {"b": _randn((3,), 43, torch.float64)}),
                _leaf(_randn((3,), 44, torch.float64)),
                _randn((3,), 45, torch.float64),
            ),
        ),
        Case(
            "a loss that does not depend on theta (a constant)",
            (Build("constant_loss", {"value": 2.5}), _randn((4,), 46), _randn((4,), 47)),
        ),
    ]


def _hvp_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case("MLP flat loss, float32", (_mlp_loss(2, 31), _mlp_theta(2), _randn((d,), 50))),
        Case(
            "MLP flat loss, float64",
            (
                _mlp_loss(3, 32, "float64"),
                _mlp_theta(3, "float64"),
                _randn((d,), 51, torch.float64),
            ),
        ),
    ]


def _hvp_requires_grad() -> list[Case]:
    d = _mlp_dim()
    hint = (
        "work on x = theta.detach().clone().requires_grad_(True) (or use torch.func) instead "
        "of calling theta.requires_grad_()"
    )
    return [
        Case(
            "theta does not require grad",
            (_mlp_loss(4, 33), _mlp_theta(4), _randn((d,), 52)),
            hint=hint,
            post=_THETA_GRAD_PROBE,
        ),
        Case(
            "theta requires grad (a leaf, like a flattened model parameter)",
            (_mlp_loss(4, 33), _mlp_theta(4, requires_grad=True), _randn((d,), 53)),
            hint=hint,
            post=_THETA_GRAD_PROBE,
        ),
        Case(
            "quadratic loss, theta requires grad",
            (
                _quad(_sym([1.0, 2.0, 3.0], 54)),
                _leaf(_randn((3,), 55, torch.float64)),
                _randn((3,), 56, torch.float64),
            ),
            hint=hint,
            post=_THETA_GRAD_PROBE,
        ),
    ]


def _hvp_errors() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0, 4.0], 60, torch.float32)
    return [
        Case("v has 5 entries, theta 4", (_quad(A), _randn((4,), 61), _randn((5,), 62))),
        Case("v has shape (2, 4), theta (4,)", (_quad(A), _randn((4,), 61), _randn((2, 4), 63))),
    ]


make_checks(
    _HVP,
    [
        Part("basic", "H·v of quadratic and curved losses", _hvp_basic, _hvp_verdict),
        Part(
            "exact",
            "exact by automatic differentiation (no finite differences)",
            _hvp_exact,
            _hvp_verdict,
        ),
        Part(
            "zero_hessian",
            "a loss whose Hessian is zero gives zeros",
            _hvp_zero_hessian,
            _hvp_zero_part_verdict,
        ),
        Part("mlp", "an MLP's flat loss in float32 and float64", _hvp_mlp, _hvp_verdict),
        Part(
            "requires_grad",
            "works whether or not theta requires grad and never changes it",
            _hvp_requires_grad,
            _unchanged_and_no_grad_left(_HVP, ("loss_fn", "theta", "v"), _hvp_verdict),
        ),
        Part(
            "errors",
            "ValueError when v does not have theta's shape",
            _hvp_errors,
            raises_value_error(_HVP, hint="check v.shape == theta.shape first"),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# rademacher_probes

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
            f"first, at index {_index_str(i, shape)}, is {float(flat[i])!r}"
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
    return [
        Case(
            "6 probes of dimension 10: called again with a fresh generator seeded 8, and with "
            "one seeded 9",
            (6, 10),
            {"generator": _generator(8)},
            reruns=({}, {"generator": _generator(9)}),
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


# ---------------------------------------------------------------------------------------------
# hutchinson_trace

_HUTCH = "hutchinson_trace"
_HUTCH_HINT = (
    "for every row v of probes compute vᵀ·H·v = (v * hvp(loss_fn, theta, v)).sum(), then "
    "return the mean over the rows as a float (exact for the given probes, whatever they are)"
)


def _hessian(loss_fn: Callable, theta: torch.Tensor) -> torch.Tensor:
    """The full Hessian at theta, row by row with torch.autograd.functional.hessian."""
    return torch.autograd.functional.hessian(loss_fn, theta.detach().clone())


def _exact_trace(loss_fn: Callable, theta: torch.Tensor) -> float:
    H = _hessian(loss_fn, theta)
    return float(torch.diagonal(H).to(torch.float64).sum())


def _hutch_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta, probes = args
    expected = ref.hutchinson_trace(loss_fn, theta, probes)
    msg = _compare_scalar(outcome.value, expected, "the result of `hutchinson_trace`")
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    n = probes.shape[0]
    if n > 1 and _near(got, n * expected):
        return (
            f"{msg}: your result is {n} times too large, the sum over the {n} probes instead of "
            "their mean (missing the factor 1/num_probes)"
        )
    exact = _exact_trace(loss_fn, theta)
    if _near(got, exact) and not _near(expected, exact):
        return (
            f"{msg}: your result is the exact trace tr H = {exact:.6g}, not the estimate from "
            "the given probes; use the rows of `probes` as the vectors v"
        )
    why = _hutch_mistake(got, expected, loss_fn, theta, probes)
    if why:
        return f"{msg}: {why}"
    if outcome.global_rng_changed:
        return (
            f"{msg}: your function drew from torch's global random generator; the estimate "
            "uses exactly the given `probes` (draw nothing)"
        )
    return msg


def _hutch_mistake(
    got: float | None, expected: float, loss_fn: Callable, theta: torch.Tensor, probes: torch.Tensor
) -> str:
    """Name a typical mistake whose value `got` equals, else ""."""
    if got is None:
        return ""
    rows = probes.detach().to(theta.dtype).reshape(probes.shape[0], -1)
    n, d = rows.shape
    hvps = [ref.hvp(loss_fn, theta, v.reshape(theta.shape)).reshape(-1) for v in rows]
    quads = [float((v * hv).to(torch.float64).sum()) for v, hv in zip(rows, hvps)]
    sums = [float(hv.to(torch.float64).sum()) for hv in hvps]
    if expected < 0 and _near(got, -expected):
        return (
            "your result has the right size but the wrong sign: vᵀHv can be negative (at a "
            "saddle), keep its sign (no abs, no clamping)"
        )
    if d > 1 and _near(got, expected / d) and not _near(expected, expected / d):
        return (
            f"your result is the estimate divided by dim = {d}: a mean over all n·dim entries "
            "of v * Hv (or probes scaled to unit length). Sum over the entries of each probe "
            "(vᵀHv), then average over the probes only, with the probes as given"
        )
    if n > 1 and _near(got, expected * n / (n - 1)) and not _near(expected, 0.0):
        return (
            f"your result divides the sum by num_probes − 1 = {n - 1}; the estimate is the plain "
            f"mean, the sum divided by num_probes = {n}"
        )
    if n > 1 and _near(got, quads[0]) and not _near(expected, quads[0]):
        return f"your result is vᵀHv of the first probe only; average it over all {n} probes"
    clamped = sum(max(q, 0.0) for q in quads) / n
    if _near(got, clamped) and not _near(expected, clamped):
        return (
            "your result drops or clamps the negative values of vᵀHv; a Hessian need not be "
            "positive semi-definite, so average every vᵀHv with its sign"
        )
    mean_sums = sum(sums) / n
    if _near(got, mean_sums) and not _near(expected, mean_sums):
        return (
            "your result is the mean of the sums of the entries of Hv (1ᵀHv), not of vᵀHv: "
            "multiply Hv by v entry by entry before summing"
        )
    return ""


_hutch_verdict = _checked(_HUTCH, _hutch_judge, _HUTCH_HINT)


def _rademacher(n: int, d: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    bits = torch.randint(0, 2, (n, d), generator=_gen(seed))
    return (2 * bits - 1).to(dtype)


def _hutch_basic() -> list[Case]:
    A = _sym([4.0, 3.0, 1.0, 0.5, -2.0, 0.25], 70)
    A32 = _sym([1.0, 2.0, 3.0, -1.0], 71, torch.float32)
    return [
        Case(
            "quadratic (float64), 8 Rademacher probes",
            (_quad(A), _randn((6,), 72, torch.float64), _rademacher(8, 6, 73, torch.float64)),
        ),
        Case(
            "quadratic (float32), 5 Rademacher probes",
            (_quad(A32, _randn((4,), 74)), _randn((4,), 75), _rademacher(5, 4, 76)),
        ),
        Case(
            "a loss whose Hessian depends on theta, 6 Rademacher probes",
            (
                _curved(5, 77, 1.0),
                _randn((5,), 78, torch.float64) * 0.5,
                _rademacher(6, 5, 79, torch.float64),
            ),
        ),
    ]


def _hutch_probes() -> list[Case]:
    d = 5
    A = _sym([2.0, 1.0, 0.5, -1.0, 3.0], 80)
    theta = _randn((d,), 81, torch.float64)
    basis = torch.eye(d, dtype=torch.float64) * math.sqrt(d)
    return [
        Case(
            "Gaussian probes (not ±1): still the mean of vᵀHv",
            (_quad(A), theta, _randn((7, d), 82, torch.float64)),
        ),
        Case(
            "one probe",
            (_quad(A), theta, _rademacher(1, d, 83, torch.float64)),
        ),
        Case(
            "the basis vectors times √d: the exact trace",
            (_quad(A), theta, basis),
        ),
        Case(
            "two identical probes",
            (_quad(A), theta, torch.ones(2, d, dtype=torch.float64)),
        ),
        Case(
            "an indefinite Hessian with a negative trace (a saddle): a negative estimate",
            (
                _quad(_sym([-3.0, -1.5, 0.5, -2.0, 1.0], 89)),
                theta,
                _rademacher(6, d, 99, torch.float64),
            ),
            hint="vᵀHv can be negative; keep the sign (no abs, no clamping at 0)",
        ),
        Case(
            "a linear loss (zero Hessian): 0.0",
            (
                Build("linear_loss", {"b": _randn((d,), 84)}),
                _randn((d,), 85),
                _rademacher(4, d, 86),
            ),
            hint="when the gradient does not depend on theta, H = 0 and every vᵀHv is 0",
        ),
    ]


def _hutch_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss (float64), 10 Rademacher probes",
            (
                _mlp_loss(5, 34, "float64"),
                _mlp_theta(5, "float64"),
                _rademacher(10, d, 87, torch.float64),
            ),
        ),
        Case(
            "MLP flat loss (float32), 6 Gaussian probes",
            (_mlp_loss(6, 35), _mlp_theta(6), _randn((6, d), 88)),
        ),
    ]


def _hutch_errors() -> list[Case]:
    d = 4
    A = _sym([1.0, 2.0, 3.0, 4.0], 90, torch.float32)
    theta = _randn((d,), 91)
    return [
        Case("probes 1-D (one vector of length 4)", (_quad(A), theta, _rademacher(1, d, 92)[0])),
        Case("probes with 5 columns for 4 parameters", (_quad(A), theta, _rademacher(3, 5, 93))),
        Case("probes with 3 columns for 4 parameters", (_quad(A), theta, _rademacher(6, 3, 94))),
        Case("probes transposed: shape (4, 3)", (_quad(A), theta, _rademacher(3, d, 95).T)),
        Case("probes 3-D: shape (2, 1, 4)", (_quad(A), theta, _rademacher(2, d, 96)[:, None])),
    ]


def _hutch_no_mutation() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "theta requires grad",
            (_mlp_loss(7, 36), _mlp_theta(7, requires_grad=True), _rademacher(4, d, 97)),
            post=_THETA_GRAD_PROBE,
        ),
        Case(
            "theta does not require grad",
            (_mlp_loss(7, 36), _mlp_theta(7), _rademacher(4, d, 98)),
            post=_THETA_GRAD_PROBE,
        ),
    ]


make_checks(
    _HUTCH,
    [
        Part("basic", "the mean of vᵀHv over Rademacher probes", _hutch_basic, _hutch_verdict),
        Part(
            "probes",
            "exact for any given probes (Gaussian, basis vectors, one probe, a saddle, zero "
            "Hessian)",
            _hutch_probes,
            _hutch_verdict,
        ),
        Part("mlp", "an MLP's flat loss", _hutch_mlp, _hutch_verdict),
        Part(
            "errors",
            "ValueError for probes that are not 2-D with one column per parameter",
            _hutch_errors,
            raises_value_error(
                _HUTCH,
                hint="check probes.dim() == 2 and probes.shape[1] == theta.numel() first",
            ),
        ),
        Part(
            "no_mutation",
            "theta (and its requires_grad) and probes are left unchanged",
            _hutch_no_mutation,
            _unchanged_and_no_grad_left(_HUTCH, ("loss_fn", "theta", "probes"), _hutch_verdict),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# expected_loss_increase

_ELI = "expected_loss_increase"
_ELI_HINT = "the expected loss increase is sigma² / 2 · hessian_trace (worked example 2)"


def _eli_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    trace, sigma = args
    expected = ref.expected_loss_increase(trace, sigma)
    msg = _compare_scalar(outcome.value, expected, "the result of `expected_loss_increase`")
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    t, s = float(trace), float(sigma)
    if expected != 0 and _near(got, 2 * expected):
        return f"{msg}: twice the expected value, the factor 1/2 is missing"
    if _near(got, s / 2 * t):
        return f"{msg}: you used sigma instead of sigma² (sigma is a standard deviation)"
    if _near(got, s**2 * t) and expected != 0:
        return f"{msg}: the factor 1/2 is missing"
    if expected != 0 and _near(got, expected / 2):
        return (
            f"{msg}: half the expected value, (sigma / 2)² = sigma² / 4 instead of sigma² / 2 "
            "(square sigma first, then halve)"
        )
    if t < 0 and _near(got, -expected):
        return f"{msg}: the sign is lost; a negative trace (at a saddle) gives a negative value"
    return msg


_eli_verdict = _checked(_ELI, _eli_judge, _ELI_HINT)


def _eli_basic() -> list[Case]:
    return [
        Case("worked example 2: trace 500, sigma 0.01 gives 0.025", (500.0, 0.01)),
        Case("worked example 2: trace 80, sigma 0.01 gives 0.004", (80.0, 0.01)),
        Case("trace 10, sigma 0.1", (10.0, 0.1)),
        Case("trace 3.7, sigma 0.3", (3.7, 0.3)),
        Case("an int trace 1200, sigma 0.02", (1200, 0.02)),
        Case("a numpy float64 trace", (np.float64(42.5), 0.05)),
    ]


def _eli_edge() -> list[Case]:
    return [
        Case(
            "a negative trace (at a saddle): -40, sigma 0.1",
            (-40.0, 0.1),
            hint="any real trace is accepted; do not raise for a negative trace or take its "
            "absolute value",
        ),
        Case("sigma 0: no perturbation, no increase", (500.0, 0.0)),
        Case("trace 0", (0.0, 0.5)),
        Case("sigma 1, trace 2", (2.0, 1.0)),
    ]


def _eli_errors() -> list[Case]:
    return [
        Case("sigma -0.01", (500.0, -0.01)),
        Case("sigma -1 with trace 0 (validate even without work)", (0.0, -1.0)),
    ]


make_checks(
    _ELI,
    [
        Part("basic", "sigma² / 2 · trace (worked example 2)", _eli_basic, _eli_verdict),
        Part("edge", "negative traces, sigma 0", _eli_edge, _eli_verdict),
        Part(
            "errors",
            "ValueError for sigma < 0",
            _eli_errors,
            raises_value_error(_ELI, hint="check sigma >= 0 before computing"),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# perturbed_loss_increase

_PLI = "perturbed_loss_increase"
_PLI_HINT = (
    "evaluate L(theta + e) for every row e of noise (without gradients), take the mean over "
    "the rows and subtract L(theta); return a float"
)


def _loss_values(loss_fn: Callable, points: torch.Tensor) -> list[float]:
    with torch.no_grad():
        return [float(loss_fn(p.clone())) for p in points]


def _pli_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta, noise = args
    expected = ref.perturbed_loss_increase(loss_fn, theta, noise)
    msg = _compare_scalar(outcome.value, expected, "the result of `perturbed_loss_increase`")
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    base = _loss_values(loss_fn, theta.detach()[None])[0]
    shifted = _loss_values(loss_fn, theta.detach() + noise)
    n = len(shifted)
    if _near(got, sum(shifted) / n):
        return f"{msg}: your result is the mean of L(theta + e) without subtracting L(theta)"
    if n > 1 and (_near(got, sum(shifted) - base) or _near(got, sum(shifted) - n * base)):
        return f"{msg}: your result sums over the {n} rows of noise instead of averaging them"
    if _near(got, sum(_loss_values(loss_fn, noise)) / n - base):
        return f"{msg}: your result evaluates L(e) instead of L(theta + e)"
    if _near(got, base - sum(shifted) / n) and not _near(expected, 0.0):
        return (
            f"{msg}: the sign is flipped, L(theta) minus the mean; the increase is the mean of "
            "L(theta + e) minus L(theta)"
        )
    if n > 1 and _near(got, expected * n / (n - 1)) and not _near(expected, 0.0):
        return (
            f"{msg}: your result divides by n − 1 = {n - 1}; take the plain mean over the {n} "
            "rows of noise"
        )
    at_mean = _loss_values(loss_fn, theta.detach()[None] + noise.mean(0))[0] - base
    if n > 1 and _near(got, at_mean) and not _near(expected, at_mean):
        return (
            f"{msg}: your result is L(theta + mean of the rows of noise) − L(theta): average "
            "the losses L(theta + e) over the rows, not the perturbations e"
        )
    if outcome.global_rng_changed:
        return (
            f"{msg}: your function drew from torch's global random generator; use exactly "
            "the given rows of `noise` as the perturbations (draw nothing)"
        )
    return msg


_pli_verdict = _checked(_PLI, _pli_judge, _PLI_HINT)


def _pli_basic() -> list[Case]:
    A = _sym([2.0, 1.0, 0.5, 3.0], 100)
    b = _randn((4,), 101, torch.float64)
    theta = _randn((4,), 102, torch.float64) + 1.0
    return [
        Case(
            "quadratic (float64), 6 perturbations of size 0.1",
            (_quad(A, b), theta, 0.1 * _randn((6, 4), 103, torch.float64)),
        ),
        Case(
            "quadratic (float32), 3 perturbations",
            (
                _quad(_sym([1.0, 4.0, 2.0], 104, torch.float32)),
                _randn((3,), 105) + 2.0,
                0.5 * _randn((3, 3), 106),
            ),
        ),
        Case(
            "a loss whose Hessian depends on theta, 5 perturbations",
            (
                _curved(5, 107, 1.0),
                _randn((5,), 108, torch.float64) * 0.5,
                0.2 * _randn((5, 5), 109, torch.float64),
            ),
        ),
    ]


def _pli_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss (float32), 8 perturbations of size 0.05",
            (_mlp_loss(8, 37), _mlp_theta(8), 0.05 * _randn((8, d), 110)),
        ),
        Case(
            "MLP flat loss (float64), 4 perturbations of size 0.2",
            (
                _mlp_loss(9, 38, "float64"),
                _mlp_theta(9, "float64"),
                0.2 * _randn((4, d), 111, torch.float64),
            ),
        ),
    ]


def _pli_edge() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0], 112)
    theta = _randn((3,), 113, torch.float64) + 1.0
    return [
        Case("one perturbation", (_quad(A), theta, _randn((1, 3), 114, torch.float64))),
        Case("zero perturbations: 0.0", (_quad(A), theta, torch.zeros(4, 3, dtype=torch.float64))),
        Case(
            "a linear loss: the mean of bᵀe",
            (
                Build("linear_loss", {"b": _randn((3,), 115)}),
                _randn((3,), 116),
                _randn((5, 3), 117),
            ),
        ),
    ]


def _pli_errors() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0, 4.0], 120, torch.float32)
    theta = _randn((4,), 121)
    return [
        Case("noise 1-D (one vector of length 4)", (_quad(A), theta, _randn((4,), 122))),
        Case("noise with 5 columns for 4 parameters", (_quad(A), theta, _randn((3, 5), 123))),
        Case("noise with 2 columns for 4 parameters", (_quad(A), theta, _randn((4, 2), 124))),
        Case("noise 3-D: shape (2, 3, 4)", (_quad(A), theta, _randn((2, 3, 4), 125))),
    ]


def _pli_no_mutation() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "theta requires grad",
            (_mlp_loss(10, 39), _mlp_theta(10, requires_grad=True), 0.1 * _randn((3, d), 126)),
        ),
        Case(
            "theta does not require grad",
            (_mlp_loss(10, 39), _mlp_theta(10), 0.1 * _randn((3, d), 127)),
        ),
    ]


make_checks(
    _PLI,
    [
        Part("basic", "mean of L(theta + e) minus L(theta)", _pli_basic, _pli_verdict),
        Part("mlp", "an MLP's flat loss", _pli_mlp, _pli_verdict),
        Part("edge", "one row, zero noise, a linear loss", _pli_edge, _pli_verdict),
        Part(
            "errors",
            "ValueError for noise that is not 2-D with one column per parameter",
            _pli_errors,
            raises_value_error(
                _PLI, hint="check noise.dim() == 2 and noise.shape[1] == theta.numel() first"
            ),
        ),
        Part(
            "no_mutation",
            "theta (and its requires_grad) and noise are left unchanged",
            _pli_no_mutation,
            leaves_inputs_unchanged(_PLI, ("loss_fn", "theta", "noise"), also=_pli_verdict),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# spectrum_trace

_SPEC = "spectrum_trace"
_SPEC_HINT = (
    "in Practice Problem 2 each trace is a discrete sum from k = 1 to dim: Σ 1/k for "
    '"inverse" and Σ e^(−k) for "exponential" (which tends to 1/(e − 1) ≈ 0.582, not to 1); sum the '
    "terms with numpy (or a plain loop) rather than approximating by an integral"
)


def _spec_mistake(decay: str, n: int, got: float, expected: float) -> str | None:
    """Name a typical mistake whose value `got` equals (to SPECTRUM_DIAGNOSE_RTOL)."""

    def near(target: float) -> bool:
        return abs(got - target) <= SPECTRUM_DIAGNOSE_RTOL * max(1.0, abs(target))

    term = (lambda k: 1.0 / k) if decay == "inverse" else (lambda k: math.exp(-k))
    if near(expected - term(n)):
        return "your sum stops at k = dim − 1; it runs from k = 1 to dim inclusive"
    if near(expected + term(n + 1)):
        return "your sum runs to k = dim + 1; it runs from k = 1 to dim inclusive"
    if decay == "exponential":
        if near(expected + 1.0) or near(expected + 1.0 - term(n)):
            return "your sum starts at k = 0 (e^0 = 1 added); it is a discrete sum from k = 1"
        if near(1.0) or near(1.0 - math.exp(-n)):
            return (
                "that is the integral ∫ e^(−k) dk, not the discrete sum from k = 1 "
                "(1/(e − 1) ≈ 0.582 in the limit)"
            )
        if near(1.0 / (math.e - 1.0)):
            return (
                "that is 1/(e − 1), the limit of the infinite sum; for a finite dim sum the "
                "terms e^(−k) from k = 1 to dim"
            )
    elif near(math.log(n)) or near(math.log(n) + ref.EULER_GAMMA):
        return (
            "that is an approximation (ln dim, from the integral), not the discrete sum from "
            "k = 1 to dim of 1/k"
        )
    other = "exponential" if decay == "inverse" else "inverse"
    if near(ref.spectrum_trace(other, n)):
        return f'that is the {other} sum: "inverse" is Σ 1/k, "exponential" is Σ e^(−k)'
    return None


def _spec_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    decay, dim = args
    expected = ref.spectrum_trace(decay, dim)
    msg = compare_float(
        outcome.value,
        expected,
        what="the result of `spectrum_trace`",
        rtol=SPECTRUM_RTOL,
        atol=SCALAR_ATOL,
    )
    if msg is None:
        return None
    got = as_scalar(outcome.value)
    why = None if got is None else _spec_mistake(decay, int(dim), got, expected)
    return f"{msg}: {why}" if why else msg


_spec_verdict = _checked(_SPEC, _spec_judge, _SPEC_HINT)


def _spec_basic() -> list[Case]:
    return [
        Case("inverse, dim 10", ("inverse", 10)),
        Case("inverse, dim 2: 1 + 1/2", ("inverse", 2)),
        Case("inverse, dim 1: 1", ("inverse", 1)),
        Case("exponential, dim 1: e^(-1)", ("exponential", 1)),
        Case("exponential, dim 3", ("exponential", 3)),
        Case("exponential, dim 10", ("exponential", 10)),
    ]


def _spec_large() -> list[Case]:
    return [
        Case("inverse, dim 1000", ("inverse", 1000)),
        Case("exponential, dim 1000 (1/(e − 1) ≈ 0.582)", ("exponential", 1000)),
        Case("inverse, dim 10^7 (practice problem 2)", ("inverse", 10**7)),
        Case("exponential, dim 10^7 (practice problem 2)", ("exponential", 10**7)),
    ]


def _spec_errors() -> list[Case]:
    return [
        Case('decay "linear"', ("linear", 10)),
        Case('decay "" (empty)', ("", 10)),
        Case("dim 0", ("inverse", 0)),
        Case("dim -3", ("exponential", -3)),
    ]


make_checks(
    _SPEC,
    [
        Part("basic", "discrete sums from k = 1 for small dim", _spec_basic, _spec_verdict),
        Part("large", "large dim, fast for dim = 10^7", _spec_large, _spec_verdict),
        Part(
            "errors",
            "ValueError for an unknown decay or dim < 1",
            _spec_errors,
            raises_value_error(
                _SPEC, hint='check decay in ("inverse", "exponential") and dim >= 1 first'
            ),
        ),
    ],
    timeout=SPECTRUM_TIMEOUT,
)


# ---------------------------------------------------------------------------------------------
# top_eigenvalue

_TOP = "top_eigenvalue"
_TOP_HINT = (
    "start from v = g / ‖g‖ with g = torch.randn(d, generator=generator, dtype=theta.dtype); "
    "repeat num_iters times v ← hvp(loss_fn, theta, v) normalised; return the Rayleigh "
    "quotient vᵀ·hvp(loss_fn, theta, v) as a float"
)


def hessian_eigenvalues(loss_fn: Callable, theta: torch.Tensor) -> torch.Tensor:
    """The eigenvalues of the Hessian at theta (float64, ascending), the verdicts' oracle."""
    H = _hessian(loss_fn, theta).to(torch.float64)
    return torch.linalg.eigvalsh((H + H.T) / 2)


def _spectrum_text(eig: torch.Tensor) -> str:
    values = [f"{float(x):.4g}" for x in eig]
    if len(values) <= SHOWN_EIGENVALUES:
        return ", ".join(values)
    half = SHOWN_EIGENVALUES // 2
    return ", ".join(values[:half]) + ", ..., " + ", ".join(values[-half:])


def _eigen_message(got: Any, expected: float, eig: torch.Tensor, what: str) -> str | None:
    value = as_scalar(got)
    if value is None:
        return f"{what} should be a float, got {fmt_value(got)}"
    if math.isfinite(value) and abs(value - expected) <= EIGEN_RTOL * abs(expected):
        return None
    msg = (
        f"{what}: expected the eigenvalue of largest magnitude {expected:.6g}, got {value:.6g} "
        f"(the Hessian's eigenvalues: {_spectrum_text(eig)})"
    )
    if expected < 0 and _near(value, -expected):
        msg += (
            ". Your result has the right size but the wrong sign: return the Rayleigh quotient "
            "vᵀHv, which keeps the sign of the eigenvalue, not the norm ‖Hv‖"
        )
    return msg


def _top_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta = args
    eig = hessian_eigenvalues(loss_fn, theta)
    expected = float(eig[int(eig.abs().argmax())])
    return _eigen_message(outcome.value, expected, eig, "the result of `top_eigenvalue`")


_top_verdict = _checked(_TOP, _top_judge, _TOP_HINT)


def _top_kwargs(seed: int, **extra: Any) -> dict:
    return {"generator": _generator(seed), **extra}


def _top_basic() -> list[Case]:
    A = _sym([5.0, 2.0, 1.5, 1.0, 0.5, 0.1], 130)
    A32 = _sym([3.0, -1.0, 0.5, 1.2], 131, torch.float32)
    return [
        Case(
            "quadratic (float64), eigenvalues 5, 2, 1.5, 1, 0.5, 0.1",
            (_quad(A), _randn((6,), 132, torch.float64)),
            _top_kwargs(10),
        ),
        Case(
            "quadratic (float32), eigenvalues 3, 1.2, 0.5, -1",
            (_quad(A32, _randn((4,), 133)), _randn((4,), 134)),
            _top_kwargs(11),
        ),
        Case(
            "quadratic, eigenvalues 10, 1, 1, 1, num_iters=50",
            (_quad(_sym([10.0, 1.0, 1.0, 1.0], 135)), _randn((4,), 136, torch.float64)),
            _top_kwargs(12, num_iters=50),
        ),
        Case(
            "a loss whose Hessian depends on theta",
            (_curved(4, 137, 1.0), torch.tensor([1.5, 0.0, -0.5, 0.2], dtype=torch.float64)),
            _top_kwargs(13),
        ),
    ]


def _top_negative() -> list[Case]:
    return [
        Case(
            "eigenvalues -6, 2, 1, 0.3, -0.5: the dominant one is negative",
            (_quad(_sym([-6.0, 2.0, 1.0, 0.3, -0.5], 140)), _randn((5,), 141, torch.float64)),
            _top_kwargs(14),
        ),
        Case(
            "negative definite (a maximum): eigenvalues -3, -1, -0.5",
            (_quad(_sym([-3.0, -1.0, -0.5], 142, torch.float32)), _randn((3,), 143)),
            _top_kwargs(15),
        ),
        Case(
            "eigenvalues -4, 2, -1 (float64, 200 iterations)",
            (_quad(_sym([-4.0, 2.0, -1.0], 144)), _randn((3,), 145, torch.float64)),
            _top_kwargs(16, num_iters=200),
        ),
    ]


def _top_mlp() -> list[Case]:
    return [
        Case(
            "MLP flat loss (float32), 30 iterations",
            (_mlp_loss(5, 102), _mlp_theta(5)),
            _top_kwargs(17, num_iters=MLP_POWER_ITERS),
        ),
        Case(
            "MLP flat loss (float64), 30 iterations",
            (_mlp_loss(5, 107, "float64"), _mlp_theta(5, "float64")),
            _top_kwargs(18, num_iters=MLP_POWER_ITERS),
        ),
    ]


#: The `num_iters` case: λ1 = 4 and eleven eigenvalues from 2 down to 0.5 (positive definite,
#: so the Rayleigh quotient of power iteration grows with every step).
NUM_ITERS_SPECTRUM = [4.0] + [2.0 - 0.15 * i for i in range(11)]
NUM_ITERS_STEPS = (1, 3, 100)


def _top_num_iters_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    loss_fn, theta = args
    eig = hessian_eigenvalues(loss_fn, theta)
    lam1 = float(eig[-1])
    outcomes = [outcome, *outcome.reruns]
    values = []
    for steps, o in zip(NUM_ITERS_STEPS, outcomes):
        failure = call_failure(o, _TOP)
        if failure:
            return f"with num_iters={steps}: {failure}"
        value = as_scalar(o.value)
        if value is None:
            return f"with num_iters={steps} the result should be a float, got {fmt_value(o.value)}"
        values.append(value)
    shown = ", ".join(f"num_iters={s}: {v:.6g}" for s, v in zip(NUM_ITERS_STEPS, values))
    msg = _eigen_message(
        values[-1], lam1, eig, f"the result of `{_TOP}` with num_iters={NUM_ITERS_STEPS[-1]}"
    )
    if msg:
        return msg
    if values[0] > lam1 * (1 - NUM_ITERS_SPREAD):
        return (
            f"with num_iters=1 your result {values[0]:.6g} is already the top eigenvalue "
            f"{lam1:.6g} ({shown}): one step of power iteration from a random start cannot get "
            "this close here, so num_iters seems to be ignored. Do exactly num_iters steps"
        )
    tol = MONOTONE_RTOL * abs(lam1)
    if not (values[0] <= values[1] + tol and values[1] <= values[2] + tol):
        return (
            f"the results do not grow with num_iters ({shown}): on a positive definite Hessian "
            "the Rayleigh quotient of power iteration increases with every step towards "
            f"λ1 = {lam1:.6g}"
        )
    return None


def _top_num_iters() -> list[Case]:
    A = _sym(NUM_ITERS_SPECTRUM, 150)
    return [
        Case(
            "eigenvalues 4, 2, 1.85, ..., 0.5: called with num_iters 1, 3 and 100 from the same "
            "generator state",
            (_quad(A), _randn((12,), 151, torch.float64)),
            _top_kwargs(19, num_iters=NUM_ITERS_STEPS[0]),
            reruns=tuple({"num_iters": s} for s in NUM_ITERS_STEPS[1:]),
        ),
    ]


def _top_generator_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    gen = _case_generator(case)
    msg = _generator_used(case, outcome, _TOP, gen)
    if msg:
        return msg
    first = as_scalar(outcome.value)
    if first is None:
        return f"the result of `{_TOP}` should be a float, got {fmt_value(outcome.value)}"
    seed = gen.params["seed"]
    labelled = [("a second call with a fresh generator of the same seed", outcome.reruns[0])]
    if len(case.reruns) > 1:
        other_seed = case.reruns[1]["generator"].params["seed"]
        labelled.append((f"a call with a generator seeded {other_seed}", outcome.reruns[1]))
    results = []
    for label, o in labelled:
        failure = call_failure(o, _TOP)
        if failure:
            return f"{label}: {failure}"
        if o.global_rng_changed:
            return f"{label} drew from torch's global random generator"
        value = as_scalar(o.value)
        if value is None:
            return f"{label} returned {fmt_value(o.value)}, not a float"
        results.append(value)
    if abs(results[0] - first) > SAME_RTOL * max(1.0, abs(first)):
        return (
            f"two calls with generators in the same state (seed {seed}) returned {first!r} and "
            f"{results[0]!r}: draw the start vector from `generator` and nothing else"
        )
    if len(results) > 1 and results[1] == first:
        return (
            f"generators seeded {seed} and {other_seed} gave the same result {first!r} after a "
            "single iteration: the start vector must be drawn from `generator`"
        )
    return None


def _top_generator() -> list[Case]:
    A = _sym(NUM_ITERS_SPECTRUM, 152)
    return [
        Case(
            "num_iters=1 (the result depends on the start vector); called again with a fresh "
            "generator seeded 20 and with one seeded 21",
            (_quad(A), _randn((12,), 153, torch.float64)),
            _top_kwargs(20, num_iters=1),
            post=Build("generator_state_probe", {"name": "generator"}),
            reruns=({}, {"generator": _generator(21)}),
        ),
        Case(
            "float32 quadratic, default num_iters, called again with a fresh generator seeded 22",
            (_quad(_sym([3.0, -1.0, 0.5, 1.2], 156, torch.float32)), _randn((4,), 157)),
            {"generator": _generator(22)},
            post=Build("generator_state_probe", {"name": "generator"}),
            reruns=({},),
        ),
    ]


def _top_no_mutation() -> list[Case]:
    return [
        Case(
            "theta requires grad (MLP flat loss, 30 iterations)",
            (_mlp_loss(5, 105), _mlp_theta(5, requires_grad=True)),
            _top_kwargs(24, num_iters=MLP_POWER_ITERS),
            post=_THETA_GRAD_PROBE,
        ),
        Case(
            "theta does not require grad",
            (_quad(_sym([2.0, -1.0, 0.5], 154)), _randn((3,), 155, torch.float64)),
            _top_kwargs(25),
            post=_THETA_GRAD_PROBE,
        ),
    ]


make_checks(
    _TOP,
    [
        Part(
            "basic",
            "the dominant eigenvalue of quadratic and curved losses",
            _top_basic,
            _top_verdict,
        ),
        Part(
            "negative",
            "a negative dominant eigenvalue: the Rayleigh quotient keeps its sign",
            _top_negative,
            _top_verdict,
        ),
        Part("mlp", "an MLP's flat loss", _top_mlp, _top_verdict),
        Part(
            "num_iters",
            "exactly num_iters power-iteration steps",
            _top_num_iters,
            _checked(_TOP, _top_num_iters_judge, _TOP_HINT),
        ),
        Part(
            "generator",
            "the start vector comes from `generator` only",
            _top_generator,
            _checked(_TOP, _top_generator_judge, _TOP_HINT),
        ),
        Part(
            "no_mutation",
            "theta (and its requires_grad) is left unchanged",
            _top_no_mutation,
            _unchanged_and_no_grad_left(_TOP, ("loss_fn", "theta"), _top_verdict),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# classify_critical_point

_CLS = "classify_critical_point"
_CLS_HINT = (
    'in this order: "saddle" if some eigenvalue > tol and some < −tol; else "minimum" if all '
    '> tol; else "maximum" if all < −tol; else "degenerate" (eigenvalues within tol of 0 count '
    "as zero)"
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


# ---------------------------------------------------------------------------------------------
# rescale_hidden_units

_RESC = "rescale_hidden_units"
_RESC_HINT = (
    "multiply row i of params[layer_in + '.weight'] and entry i of params[layer_in + '.bias'] "
    "(if present) by c_i, divide column i of params[layer_out + '.weight'] by c_i, leave "
    "params[layer_out + '.bias'] and every other key unchanged; keep each tensor's dtype"
)

#: Layer sizes of the parameter dicts used here: 2 inputs, hidden 4 and 3, 2 outputs.
_RESC_SHAPES = {
    "0.weight": (4, 2),
    "0.bias": (4,),
    "2.weight": (3, 4),
    "2.bias": (3,),
    "4.weight": (2, 3),
    "4.bias": (2,),
}


def _resc_params(seed: int, dtype: torch.dtype = torch.float32, drop: tuple[str, ...] = ()):
    gen = _gen(seed)
    return {
        k: torch.randn(s, generator=gen, dtype=dtype)
        for k, s in _RESC_SHAPES.items()
        if k not in drop
    }


def network_output(params: Mapping[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The output of the Linear/ReLU network whose layers are named "0", "2", "4", ... ."""
    prefixes = sorted({k.split(".")[0] for k in params if k.endswith(".weight")}, key=int)
    x = X.to(torch.float64)
    for i, prefix in enumerate(prefixes):
        weight = params[f"{prefix}.weight"].detach().to(torch.float64)
        x = x @ weight.T
        if f"{prefix}.bias" in params:
            x = x + params[f"{prefix}.bias"].detach().to(torch.float64)
        if i < len(prefixes) - 1:
            x = torch.relu(x)
    return x


def _resc_form(got: Any, expected: Mapping[str, torch.Tensor], what: str) -> str | None:
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of tensors, got {fmt_value(got)}"
    if set(got) != set(expected):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        return f"{what} has the wrong keys: missing {missing!r}, unexpected {extra!r}"
    for key, exp in expected.items():
        value = got[key]
        if type(value) is not torch.Tensor:
            return f"{what}[{key!r}] should be a torch.Tensor, got {fmt_value(value)}"
        if tuple(value.shape) != tuple(exp.shape):
            return f"{what}[{key!r}] has shape {tuple(value.shape)}, expected {tuple(exp.shape)}"
        if value.dtype != exp.dtype:
            return (
                f"{what}[{key!r}] has dtype {value.dtype}, expected {exp.dtype}: the results "
                "keep the params' dtype"
            )
    return None


def _resc_diagnose(got: Any, params: dict, layer_in: str, layer_out: str, c: Any) -> str:
    notes = []
    b_in, b_out = f"{layer_in}.bias", f"{layer_out}.bias"
    if b_out in params and not _tensor_near(got[b_out], params[b_out]):
        notes.append(f"{b_out!r} was changed; the bias of layer_out stays unchanged")
    if b_in in params and _tensor_near(got[b_in], params[b_in]):
        expected_b = ref.rescale_hidden_units(params, layer_in, layer_out, c)[b_in]
        if not _tensor_near(expected_b, params[b_in]):
            notes.append(f"{b_in!r} was not scaled; the bias of layer_in is multiplied by c too")
    inverse = 1.0 / c if not isinstance(c, torch.Tensor) else 1.0 / c.to(torch.float64)
    if _dict_near(got, ref.rescale_hidden_units(params, layer_in, layer_out, inverse)):
        notes.append("you used 1/c: multiply layer_in's rows by c and divide layer_out's columns")
    return ("\n" + "; ".join(notes)) if notes else ""


def _resc_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params, layer_in, layer_out, c = args
    expected = ref.rescale_hidden_units(params, layer_in, layer_out, c)
    what = "the result of `rescale_hidden_units`"
    got = outcome.value
    msg = _resc_form(got, expected, what)
    if msg:
        return msg
    msg = compare_tensor_dict(got, expected, what=what)
    if msg:
        return msg + _resc_diagnose(got, params, layer_in, layer_out, c)
    return None


_resc_verdict = _checked(_RESC, _resc_judge, _RESC_HINT)

_X_FUNCTION = torch.randn(16, 2, generator=_gen(160)) * 2.0


def _resc_function_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params = args[0]
    expected = ref.rescale_hidden_units(*args)
    what = "the result of `rescale_hidden_units`"
    msg = _resc_form(outcome.value, expected, what)
    if msg:
        return msg
    before = network_output(params, _X_FUNCTION)
    after = network_output(outcome.value, _X_FUNCTION)
    diff = (after - before).abs()
    if not bool((diff <= FUNCTION_ATOL + FUNCTION_RTOL * before.abs()).all()):
        return (
            f"the network computes a different function with your params: its outputs on 16 "
            f"inputs changed by up to {float(diff.max()):.4g}. With a ReLU between the layers, "
            "relu(c·z) = c·relu(z) for c > 0, so scaling layer_in's rows (and bias) by c and "
            "dividing layer_out's columns by c cancels exactly"
        )
    return _resc_judge(case, outcome, args, kwargs)


def _resc_basic() -> list[Case]:
    return [
        Case("layers '0' and '2', c = 2.0", (_resc_params(1), "0", "2", 2.0)),
        Case("layers '2' and '4', c = 0.5", (_resc_params(2), "2", "4", 0.5)),
        Case("an int c = 3", (_resc_params(3), "0", "2", 3)),
        Case(
            "float64 params, c = 10.0 (the result stays float64)",
            (_resc_params(4, torch.float64), "0", "2", 10.0),
        ),
    ]


def _resc_per_unit() -> list[Case]:
    return [
        Case(
            "a float32 tensor of 4 factors for layers '0' and '2'",
            (_resc_params(5), "0", "2", torch.tensor([0.5, 1.0, 2.0, 4.0])),
        ),
        Case(
            "a float64 tensor of 3 factors for layers '2' and '4' (float32 params stay float32)",
            (_resc_params(6), "2", "4", torch.tensor([3.0, 0.25, 1.5], dtype=torch.float64)),
        ),
        Case(
            "float64 params, a float32 tensor of factors",
            (_resc_params(7, torch.float64), "0", "2", torch.tensor([1.5, 2.5, 0.1, 7.0])),
        ),
    ]


def _resc_biases() -> list[Case]:
    return [
        Case(
            "layer_out's bias stays unchanged: layers '0' and '2', c = 3.0",
            (_resc_params(8), "0", "2", 3.0),
            hint="only layer_in's bias is scaled (it feeds the hidden units); layer_out's bias "
            "is added after the division and stays unchanged",
        ),
        Case(
            "layer_in has no bias (no '0.bias' key)",
            (_resc_params(9, drop=("0.bias",)), "0", "2", 2.0),
            hint="the bias of layer_in is optional: scale it only if the key exists",
        ),
        Case(
            "no biases at all",
            (_resc_params(10, drop=("0.bias", "2.bias", "4.bias")), "2", "4", 0.2),
        ),
    ]


def _resc_function() -> list[Case]:
    return [
        Case("layers '0' and '2', c = 5.0", (_resc_params(11), "0", "2", 5.0)),
        Case(
            "layers '2' and '4', per-unit factors",
            (_resc_params(12), "2", "4", torch.tensor([0.1, 2.0, 8.0])),
        ),
        Case(
            "an MLP's parameters, layers '0' and '2', c = 0.25",
            (
                Build(
                    "params_of",
                    {"model": Build("mlp", {"hidden": (4, 3), "out_dim": 2, "seed": 13})},
                ),
                "0",
                "2",
                0.25,
            ),
        ),
    ]


def _resc_errors() -> list[Case]:
    return [
        Case("c = 0", (_resc_params(14), "0", "2", 0.0)),
        Case("c = -2", (_resc_params(14), "0", "2", -2.0)),
        Case(
            "a tensor of factors with a 0",
            (_resc_params(14), "0", "2", torch.tensor([1.0, 0.0, 2.0, 1.0])),
        ),
        Case(
            "a tensor of factors with a negative one",
            (_resc_params(14), "2", "4", torch.tensor([1.0, -1.0, 2.0])),
        ),
        Case("layer_in '1' has no weight (it is the ReLU)", (_resc_params(14), "1", "2", 2.0)),
        Case("layer_out '6' has no weight", (_resc_params(14), "4", "6", 2.0)),
        Case(
            "layers '0' and '4' do not fit: 4 rows against 3 columns",
            (_resc_params(14), "0", "4", 2.0),
        ),
        Case(
            "3 factors for 4 hidden units",
            (_resc_params(14), "0", "2", torch.tensor([1.0, 2.0, 3.0])),
        ),
    ]


def _resc_no_mutation() -> list[Case]:
    return [
        Case("scalar c", (_resc_params(15), "0", "2", 2.0)),
        Case("per-unit factors", (_resc_params(16), "2", "4", torch.tensor([2.0, 3.0, 0.5]))),
    ]


make_checks(
    _RESC,
    [
        Part("basic", "one factor c for every hidden unit", _resc_basic, _resc_verdict),
        Part("per_unit", "a tensor with one factor per hidden unit", _resc_per_unit, _resc_verdict),
        Part(
            "biases",
            "layer_in's bias scaled if present, layer_out's bias unchanged",
            _resc_biases,
            _resc_verdict,
        ),
        Part(
            "function",
            "the network's function is unchanged (practice problem 4)",
            _resc_function,
            _checked(_RESC, _resc_function_judge, _RESC_HINT),
        ),
        Part(
            "errors",
            "ValueError for c ≤ 0, a missing weight or shapes that do not fit",
            _resc_errors,
            raises_value_error(
                _RESC,
                hint="check that both weights exist, that layer_in's rows match layer_out's "
                "columns (and c's length), and that every factor is > 0",
            ),
        ),
        Part(
            "no_mutation",
            "params and c are left unchanged",
            _resc_no_mutation,
            leaves_inputs_unchanged(
                _RESC, ("params", "layer_in", "layer_out", "c"), also=_resc_verdict
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# filter_normalize

_FN = "filter_normalize"
_FN_HINT = (
    "for a tensor with dim ≥ 2 compute the norms per filter, over all dims but dim 0 (e.g. "
    "d.flatten(1).norm(dim=1)), and scale filter i by ‖theta_i‖ / (‖d_i‖ + 1e-10); every "
    "tensor with dim ≤ 1 becomes zeros"
)


def _whole_tensor(direction: dict, theta: dict) -> dict:
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            out[k] = d * theta[k].norm() / (d.norm() + ref.FILTER_NORM_EPS)
    return out


def _per_column(direction: dict, theta: dict) -> dict:
    out = {}
    for k, d in direction.items():
        if d.dim() != 2:
            out[k] = ref.filter_normalize({k: d}, {k: theta[k]})[k]
        else:
            scale = theta[k].norm(dim=0) / (d.norm(dim=0) + ref.FILTER_NORM_EPS)
            out[k] = d * scale[None, :]
    return out


def _filterwise(direction: dict, theta: dict, scale: Callable) -> dict:
    """Every tensor with dim ≥ 2 times `scale(‖d_i‖, ‖theta_i‖)` per filter; dim ≤ 1 zeros."""
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        d_norm = d.reshape(d.shape[0], -1).norm(dim=1)
        t_norm = theta[k].to(d.dtype).reshape(d.shape[0], -1).norm(dim=1)
        out[k] = d * scale(d_norm, t_norm).reshape(-1, *([1] * (d.dim() - 1)))
    return out


def _norm_over_dim1(direction: dict, theta: dict) -> dict:
    """Norms over dim 1 only (keepdim), a mistake that differs from filters for dim ≥ 3."""
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            t = theta[k].to(d.dtype)
            scale = t.norm(dim=1, keepdim=True) / (
                d.norm(dim=1, keepdim=True) + ref.FILTER_NORM_EPS
            )
            out[k] = d * scale
    return out


_EPS = ref.FILTER_NORM_EPS
_FN_VARIANTS: tuple[tuple[Callable[[dict, dict], dict], str], ...] = (
    (
        lambda dr, th: _filterwise(dr, th, lambda dn, tn: tn / dn.clamp_min(_EPS)),
        "You divided by max(‖d_i‖, eps) (as torch.nn.functional.normalize does) or by ‖d_i‖ "
        "alone; the formula divides by ‖d_i‖ + 1e-10",
    ),
    (
        lambda dr, th: _filterwise(dr, th, lambda dn, tn: 1.0 / (dn + _EPS)),
        "Every filter of your result has norm 1: multiply the unit filter d_i / ‖d_i‖ by "
        "‖theta_i‖, the norm of the matching filter of theta",
    ),
    (
        lambda dr, th: _filterwise(dr, th, lambda dn, tn: dn / (tn + _EPS)),
        "Your ratio is upside down: scale filter i by ‖theta_i‖ / (‖d_i‖ + 1e-10)",
    ),
    (
        _norm_over_dim1,
        "You took the norms over dim 1 only; a filter's norm is over all dims but dim 0 "
        "(e.g. d.flatten(1).norm(dim=1))",
    ),
)


def _fn_diagnose(got: Any, direction: dict, theta: dict) -> str:
    keys_1d = [k for k, d in direction.items() if d.dim() <= 1]
    if type(got) not in DICT_TYPES or set(got) != set(direction):
        return ""
    kept = [k for k in keys_1d if _tensor_near(got[k], direction[k]) and direction[k].any()]
    if kept:
        return (
            f"\n{kept[0]!r} (dim ≤ 1) is still the raw direction: biases and other tensors with "
            'dim ≤ 1 become zeros ("ignore biasbn")'
        )
    nonzero = [k for k in keys_1d if type(got[k]) is torch.Tensor and bool(got[k].detach().any())]
    if nonzero:
        return (
            f"\n{nonzero[0]!r} (dim ≤ 1) is not zero: biases and other tensors with dim ≤ 1 "
            'become zeros ("ignore biasbn")'
        )
    if _dict_near(got, _whole_tensor(direction, theta)):
        return (
            "\nYou normalised each tensor as a whole; normalise every filter (index along "
            "dim 0) separately"
        )
    if _dict_near(got, _per_column(direction, theta)):
        return (
            "\nYou normalised the columns (norms along dim 0); a filter is a row, index i along "
            "dim 0, with the norm over all other dims"
        )
    expected = ref.filter_normalize(direction, theta)
    if list(direction) != list(theta) and set(direction) == set(theta):
        by_position = dict(zip(direction, theta.values()))
        if all(by_position[k].shape == d.shape for k, d in direction.items()):
            paired = ref.filter_normalize(direction, by_position)
            if _dict_near(got, paired) and not _dict_near(expected, paired):
                return (
                    "\nYou paired direction's and theta's tensors by position; theta lists the "
                    "same keys in another order, so look each one up by key (theta[k])"
                )
    for variant, why in _FN_VARIANTS:
        target = variant(direction, theta)
        if _dict_near(got, target) and not _dict_near(expected, target):
            return "\n" + why
    if any(
        type(v) is torch.Tensor and v.is_floating_point() and bool(torch.isnan(v).any())
        for v in got.values()
    ):
        return (
            "\nYour result contains NaN: a filter of the direction that is all zeros gives 0/0 "
            "without the 1e-10 in the denominator ‖d_i‖ + 1e-10"
        )
    return ""


def _fn_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    direction, theta = args
    expected = ref.filter_normalize(direction, theta)
    msg = compare_tensor_dict(outcome.value, expected, what="the result of `filter_normalize`")
    if msg:
        return msg + _fn_diagnose(outcome.value, direction, theta)
    return None


_fn_verdict = _checked(_FN, _fn_judge, _FN_HINT)


def _params_like(
    shapes: Mapping[str, tuple[int, ...]], seed: int, dtype: torch.dtype = torch.float32
) -> dict:
    gen = _gen(seed)
    return {k: torch.randn(s, generator=gen, dtype=dtype) for k, s in shapes.items()}


_MLP_SHAPES = {"0.weight": (4, 2), "0.bias": (4,), "2.weight": (3, 4), "2.bias": (3,)}
_TWIN_SHAPES = {"a.weight": (3, 4), "b.weight": (3, 4), "a.bias": (3,), "b.bias": (3,)}
#: `_TWIN_SHAPES`' keys with each pair of equal shapes swapped: pairing by position is silent.
_TWIN_SWAPPED = ("b.weight", "a.weight", "b.bias", "a.bias")


def _in_order(params: dict, keys: tuple[str, ...]) -> dict:
    return {k: params[k] for k in keys}


_CONV_SHAPES = {
    "conv.weight": (3, 2, 3, 3),
    "conv.bias": (3,),
    "fc.weight": (4, 6),
    "fc.bias": (4,),
}


def _fn_basic() -> list[Case]:
    theta_scaled = _params_like(_MLP_SHAPES, 171)
    theta_scaled["0.weight"] = theta_scaled["0.weight"] * torch.tensor(
        [[0.1], [1.0], [5.0], [20.0]]
    )
    return [
        Case(
            "an MLP's weights and biases",
            (_params_like(_MLP_SHAPES, 170), _params_like(_MLP_SHAPES, 172)),
        ),
        Case(
            "filters of theta with very different norms",
            (_params_like(_MLP_SHAPES, 173), theta_scaled),
        ),
        Case(
            "float64 direction and theta",
            (
                _params_like(_MLP_SHAPES, 174, torch.float64),
                _params_like(_MLP_SHAPES, 175, torch.float64),
            ),
        ),
        Case(
            "an MLP's parameters as theta",
            (
                _params_like(
                    {"0.weight": (4, 2), "0.bias": (4,), "2.weight": (3, 4), "2.bias": (3,)}, 176
                ),
                Build(
                    "params_of", {"model": Build("mlp", {"hidden": (4,), "out_dim": 3, "seed": 5})}
                ),
            ),
        ),
        Case(
            "theta holds direction's keys in another order (two weights of one shape)",
            (
                _params_like(_TWIN_SHAPES, 177),
                _in_order(_params_like(_TWIN_SHAPES, 178), _TWIN_SWAPPED),
            ),
            hint="dicts with the same keys may list them in different orders: look theta's "
            "tensors up by key (theta[k]), never pair them with direction's by position",
        ),
    ]


def _fn_filters() -> list[Case]:
    return [
        Case(
            "4-D convolution weights (3, 2, 3, 3)",
            (_params_like(_CONV_SHAPES, 180), _params_like(_CONV_SHAPES, 181)),
        ),
        Case(
            "a 3-D tensor (2, 3, 4)",
            (_params_like({"w": (2, 3, 4)}, 182), _params_like({"w": (2, 3, 4)}, 183)),
        ),
        Case(
            "a single filter (1, 5) and a column (5, 1)",
            (
                _params_like({"a": (1, 5), "b": (5, 1)}, 184),
                _params_like({"a": (1, 5), "b": (5, 1)}, 185),
            ),
        ),
    ]


def _fn_zeros() -> list[Case]:
    direction = _params_like(_MLP_SHAPES, 190)
    direction["0.weight"][2] = 0.0
    tiny = _params_like({"w": (3, 4)}, 191, torch.float64)
    tiny["w"][1] = tiny["w"][1] / tiny["w"][1].norm() * 1e-9
    theta_zero_row = _params_like(_MLP_SHAPES, 192)
    theta_zero_row["2.weight"][0] = 0.0
    return [
        Case(
            "biases, a norm-layer vector and a 0-d scale become zeros",
            (
                _params_like({"w": (3, 3), "bias": (3,), "norm.weight": (3,), "scale": ()}, 193),
                _params_like({"w": (3, 3), "bias": (3,), "norm.weight": (3,), "scale": ()}, 194),
            ),
            hint='every tensor with dim ≤ 1 becomes zeros ("ignore biasbn")',
        ),
        Case(
            "a filter of the direction that is all zeros stays zero",
            (direction, _params_like(_MLP_SHAPES, 195)),
            hint="0 · ‖theta_i‖ / (0 + 1e-10) = 0: the 1e-10 avoids 0/0",
        ),
        Case(
            "a direction filter of norm 1e-9 (float64): the 1e-10 matters",
            (tiny, _params_like({"w": (3, 4)}, 196, torch.float64)),
            hint="divide by ‖d_i‖ + 1e-10 exactly: here that scales the filter to ‖theta_i‖ / 1.1",
        ),
        Case(
            "a filter of theta that is all zeros",
            (_params_like(_MLP_SHAPES, 197), theta_zero_row),
        ),
    ]


def _fn_errors() -> list[Case]:
    direction = _params_like(_MLP_SHAPES, 200)
    theta = _params_like(_MLP_SHAPES, 201)
    missing = {k: v for k, v in direction.items() if k != "2.bias"}
    reshaped = {**direction, "2.weight": torch.zeros(4, 3)}
    return [
        Case("direction lacks the key '2.bias'", (missing, theta)),
        Case("theta lacks the key '2.bias'", (direction, missing)),
        Case("'2.weight' has shape (4, 3) in direction, (3, 4) in theta", (reshaped, theta)),
    ]


def _fn_no_mutation() -> list[Case]:
    return [
        Case(
            "an MLP's weights and biases",
            (_params_like(_MLP_SHAPES, 202), _params_like(_MLP_SHAPES, 203)),
        ),
        Case(
            "convolution weights",
            (_params_like(_CONV_SHAPES, 204), _params_like(_CONV_SHAPES, 205)),
        ),
    ]


make_checks(
    _FN,
    [
        Part(
            "basic",
            "each filter takes the norm of theta's filter",
            _fn_basic,
            reordered_keys_may_raise(_fn_verdict),
        ),
        Part("filters", "filters along dim 0 of 3-D and 4-D tensors", _fn_filters, _fn_verdict),
        Part(
            "zeros",
            "dim ≤ 1 tensors become zeros; zero and tiny filters (the 1e-10)",
            _fn_zeros,
            _fn_verdict,
        ),
        Part(
            "errors",
            "ValueError when keys or shapes differ",
            _fn_errors,
            raises_value_error(
                _FN, hint="check that direction and theta have the same keys and shapes first"
            ),
        ),
        Part(
            "no_mutation",
            "direction and theta are left unchanged",
            _fn_no_mutation,
            leaves_inputs_unchanged(_FN, ("direction", "theta"), also=_fn_verdict),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# loss_surface

_SURF = "loss_surface"
_SURF_HINT = (
    "Z has one row per alpha and one column per beta: Z[i, j] = loss_fn(theta + alphas[i]·d1 "
    "+ betas[j]·d2), evaluated without gradients (torch.no_grad())"
)


def _surface_by_loop(
    loss_fn: Callable,
    theta: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    alphas: list[float],
    betas: list[float],
) -> torch.Tensor:
    with torch.no_grad():
        return torch.tensor(
            [[float(loss_fn(theta.detach() + a * d1 + b * d2)) for b in betas] for a in alphas],
            dtype=torch.float64,
        )


def _surf_diagnose(got: Any, args: tuple) -> str:
    loss_fn, theta, d1, d2, alphas, betas = args
    a = [float(x) for x in (alphas.tolist() if isinstance(alphas, torch.Tensor) else alphas)]
    b = [float(x) for x in (betas.tolist() if isinstance(betas, torch.Tensor) else betas)]
    if _tensor_near(got, _surface_by_loop(loss_fn, torch.zeros_like(theta), d1, d2, a, b)):
        return "\nYour surface is L(alphas[i]·d1 + betas[j]·d2): the plane must pass through theta"
    expected = _surface_by_loop(loss_fn, theta, d1, d2, a, b)
    square = len(a) == len(b) and len(a) > 1
    if square and _tensor_near(got, expected.T) and not _tensor_near(expected, expected.T):
        also = (
            "; with alphas equal to betas that is also what swapping d1 and d2 gives "
            "(alphas multiply d1, betas multiply d2)"
            if a == b
            else ""
        )
        return (
            "\nYour surface is transposed: row i belongs to alphas[i] and column j to betas[j] "
            f"(torch.meshgrid / np.meshgrid need indexing='ij' for that layout){also}"
        )
    if _tensor_near(got, _surface_by_loop(loss_fn, theta, d2, d1, a, b)):
        return "\nYour surface swaps the directions: alphas multiply d1 and betas multiply d2"
    if len(a) > 1 and len(b) > 1:
        # meshgrid's default indexing='xy' enumerates the points with betas varying slowest
        xy = torch.stack([_surface_by_loop(loss_fn, theta, d1, d2, a, [y])[:, 0] for y in b])
        if _tensor_near(got, xy.reshape(len(a), len(b))):
            return (
                "\nYour grid points are in the wrong order: they were generated with betas "
                "varying slowest (meshgrid's default indexing='xy') and then reshaped to "
                "(len(alphas), len(betas)); use indexing='ij' so that Z[i, j] belongs to "
                "alphas[i] and betas[j]"
            )
    n1 = float(torch.linalg.vector_norm(d1.detach().to(torch.float64)))
    n2 = float(torch.linalg.vector_norm(d2.detach().to(torch.float64)))
    if n1 > 0 and n2 > 0:
        unit = _surface_by_loop(loss_fn, theta, d1 / n1, d2 / n2, a, b)
        if _tensor_near(got, unit) and not _tensor_near(expected, unit):
            return (
                "\nYou normalised d1 and d2 to unit length; use the directions as given "
                "(they come filter-normalised already)"
            )
    return ""


def _surf_compare(got: Any, expected: torch.Tensor, *, check_dtype: bool) -> str | None:
    what = "the result of `loss_surface`"
    if type(got) is torch.Tensor and not got.is_floating_point():
        return f"{what} has dtype {got.dtype}; losses are floating-point numbers"
    if check_dtype:
        return compare_tensor(got, expected, what=what)
    return compare_tensor(
        got, expected, what=what, rtol=SURFACE_RTOL, atol=SURFACE_ATOL, check_dtype=False
    )


def _surf_judge(check_dtype: bool = False):
    def judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
        expected = ref.loss_surface(*args)
        msg = _surf_compare(outcome.value, expected, check_dtype=check_dtype)
        return msg + _surf_diagnose(outcome.value, args) if msg else None

    return judge


_surf_verdict = _checked(_SURF, _surf_judge(), _SURF_HINT)


def _surf_no_grad_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    value = outcome.value
    if type(value) is torch.Tensor and (value.requires_grad or value.grad_fn is not None):
        return (
            "the result of `loss_surface` requires grad (it carries an autograd graph): "
            "evaluate the losses inside `with torch.no_grad():` (theta may require grad)"
        )
    return _surf_judge()(case, outcome, args, kwargs)


def _surf_basic() -> list[Case]:
    A = _sym([2.0, 1.0, 0.5, -0.5, 1.5], 210)
    b = _randn((5,), 211, torch.float64)
    return [
        Case(
            "quadratic, 3 alphas × 4 betas",
            (
                _quad(A, b),
                _randn((5,), 212, torch.float64),
                _randn((5,), 213, torch.float64),
                _randn((5,), 214, torch.float64),
                [-1.0, 0.0, 1.0],
                [-0.5, 0.0, 0.5, 1.0],
            ),
            hint="the result has shape (len(alphas), len(betas)) = (3, 4)",
        ),
        Case(
            "quadratic (float32), 5 alphas × 2 betas",
            (
                _quad(_sym([1.0, 3.0, 2.0], 215, torch.float32)),
                _randn((3,), 216),
                _randn((3,), 217),
                _randn((3,), 218),
                [-1.0, -0.5, 0.0, 0.5, 1.0],
                [0.0, 2.0],
            ),
        ),
        Case(
            "a loss whose Hessian depends on theta, 2 alphas × 3 betas",
            (
                _curved(4, 219, 1.0),
                _randn((4,), 220, torch.float64) * 0.5,
                _randn((4,), 221, torch.float64) * 0.3,
                _randn((4,), 222, torch.float64) * 0.3,
                [0.25, -0.75],
                [1.0, -1.0, 0.5],
            ),
        ),
    ]


def _surf_mlp() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss (float32), 4 alphas × 3 betas",
            (
                _mlp_loss(11, 40),
                _mlp_theta(11),
                0.5 * _randn((d,), 223),
                0.5 * _randn((d,), 224),
                [-1.0, -1 / 3, 1 / 3, 1.0],
                [-1.0, 0.0, 1.0],
            ),
        ),
        Case(
            "MLP flat loss (float64), 2 alphas × 5 betas",
            (
                _mlp_loss(12, 41, "float64"),
                _mlp_theta(12, "float64"),
                _randn((d,), 225, torch.float64),
                _randn((d,), 226, torch.float64),
                [0.0, 0.5],
                [-1.0, -0.5, 0.0, 0.5, 1.0],
            ),
        ),
    ]


def _surf_conventions() -> list[Case]:
    A = _sym([1.0, 2.0, 0.5, 1.5], 230)
    theta = _randn((4,), 231, torch.float64)
    d1 = _randn((4,), 232, torch.float64)
    d2 = _randn((4,), 233, torch.float64)
    return [
        Case(
            "alphas and betas as tensors (torch.linspace)",
            (
                _quad(A),
                theta,
                d1,
                d2,
                torch.linspace(-1, 1, 3, dtype=torch.float64),
                torch.linspace(-2, 2, 5, dtype=torch.float64),
            ),
        ),
        Case(
            "alphas and betas as float32 tensors",
            (_quad(A), theta, d1, d2, torch.linspace(-1, 1, 4), torch.linspace(0, 1, 2)),
        ),
        Case("one alpha and one beta: shape (1, 1)", (_quad(A), theta, d1, d2, [0.5], [-0.5])),
        Case(
            "float64 theta gives a float64 surface",
            (_quad(A), theta, d1, d2, [0.0, 1.0], [0.0, 1.0, 2.0]),
            hint="build Z in theta's dtype (e.g. torch.stack of the losses, or "
            "torch.empty(..., dtype=theta.dtype))",
        ),
        Case(
            "float32 theta gives a float32 surface",
            (
                _quad(_sym([1.0, 2.0, 0.5, 1.5], 230, torch.float32)),
                _randn((4,), 231),
                _randn((4,), 232),
                _randn((4,), 233),
                [0.0, 1.0],
                [0.0, 1.0, 2.0],
            ),
            hint="tensors keep the input's dtype: build Z in theta's dtype (e.g. torch.stack "
            "of the losses, or torch.empty(..., dtype=theta.dtype)), not always float64",
        ),
    ]


def _surf_gradients() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "theta requires grad (MLP flat loss)",
            (
                _mlp_loss(13, 42),
                _mlp_theta(13, requires_grad=True),
                0.5 * _randn((d,), 234),
                0.5 * _randn((d,), 235),
                [-1.0, 0.0, 1.0],
                [0.0, 1.0],
            ),
        ),
        Case(
            "theta requires grad (quadratic)",
            (
                _quad(_sym([1.0, 2.0, 3.0], 236)),
                _leaf(_randn((3,), 237, torch.float64)),
                _randn((3,), 238, torch.float64),
                _randn((3,), 239, torch.float64),
                [0.5, 1.0],
                [0.0, 1.0, 2.0],
            ),
        ),
    ]


def _surf_errors() -> list[Case]:
    A = _sym([1.0, 2.0, 3.0, 4.0], 240, torch.float32)
    theta = _randn((4,), 241)
    return [
        Case(
            "d1 has 5 entries, theta 4",
            (_quad(A), theta, _randn((5,), 242), _randn((4,), 243), [0.0, 1.0], [0.0, 1.0]),
        ),
        Case(
            "d2 has 3 entries, theta 4",
            (_quad(A), theta, _randn((4,), 244), _randn((3,), 245), [0.0, 1.0], [0.0, 1.0]),
        ),
    ]


def _surf_no_mutation() -> list[Case]:
    d = _mlp_dim()
    return [
        Case(
            "MLP flat loss",
            (
                _mlp_loss(14, 43),
                _mlp_theta(14),
                0.5 * _randn((d,), 246),
                0.5 * _randn((d,), 247),
                torch.linspace(-1, 1, 3),
                torch.linspace(-1, 1, 3),
            ),
        ),
    ]


make_checks(
    _SURF,
    [
        Part(
            "basic", "Z[i, j] = L(theta + alphas[i]·d1 + betas[j]·d2)", _surf_basic, _surf_verdict
        ),
        Part("mlp", "an MLP's flat loss", _surf_mlp, _surf_verdict),
        Part(
            "conventions",
            "alphas and betas as tensors, a single value, theta's dtype",
            _surf_conventions,
            _checked(_SURF, _surf_judge(check_dtype=True), _SURF_HINT),
        ),
        Part(
            "gradients",
            "the result does not require grad, even when theta does",
            _surf_gradients,
            _checked(_SURF, _surf_no_grad_judge, _SURF_HINT),
        ),
        Part(
            "errors",
            "ValueError when d1 or d2 does not have theta's shape",
            _surf_errors,
            raises_value_error(_SURF, hint="check d1.shape and d2.shape against theta.shape"),
        ),
        Part(
            "no_mutation",
            "theta, d1, d2, alphas and betas are left unchanged",
            _surf_no_mutation,
            leaves_inputs_unchanged(
                _SURF, ("loss_fn", "theta", "d1", "d2", "alphas", "betas"), also=_surf_verdict
            ),
        ),
    ],
)
