"""The hidden checks of notebook 02, section 3 (what the trace measures: sensitivity to parameter
noise), grade well: `expected_loss_increase`, `perturbed_loss_increase` and `spectrum_trace`.

The implementations come in two rounds (the second added when the checks were hardened);
the tables at the end list which fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from autograder.checks import lookup, parts
from tests.course.checks.landscape_geometry.helpers import _rows
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# expected_loss_increase


def _check_sigma(sigma):
    if sigma < 0:
        raise ValueError("sigma must be >= 0")


def eli_no_half(hessian_trace, sigma):
    _check_sigma(sigma)
    return sigma**2 * hessian_trace


def eli_sigma(hessian_trace, sigma):
    _check_sigma(sigma)
    return sigma / 2 * hessian_trace


def eli_abs(hessian_trace, sigma):
    _check_sigma(sigma)
    return sigma**2 / 2 * abs(hessian_trace)


def eli_rejects_negative_trace(hessian_trace, sigma):
    _check_sigma(sigma)
    if hessian_trace < 0:
        raise ValueError("hessian_trace must be >= 0")
    return sigma**2 / 2 * hessian_trace


def eli_no_validation(hessian_trace, sigma):
    return sigma**2 / 2 * hessian_trace


def eli_alt_numpy(hessian_trace, sigma):
    """Correct: numpy arithmetic, a numpy scalar out."""
    if np.less(sigma, 0):
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    return np.float64(0.5) * np.square(np.float64(sigma)) * np.float64(hessian_trace)


# expected_loss_increase: correct (second round of hardening)


def eli_alt_fraction(hessian_trace, sigma):
    """Correct: exact rational arithmetic on the two floats."""
    if sigma < 0:
        raise ValueError("sigma must be non-negative")
    return float(Fraction(float(sigma)) ** 2 * Fraction(float(hessian_trace)) / 2)


def eli_alt_torch(hessian_trace, sigma):
    """Correct: a float64 tensor, a 0-d tensor out."""
    s = torch.tensor(float(sigma), dtype=torch.float64)
    if s < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return 0.5 * s * s * float(hessian_trace)


def eli_alt_math(hessian_trace, sigma):
    """Correct: math.pow, the validation written as `not sigma >= 0`."""
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return math.pow(sigma, 2) * hessian_trace / 2.0


# expected_loss_increase: wrong (second round of hardening)


def eli_rejects_zero_sigma(hessian_trace, sigma):
    if sigma <= 0:
        raise ValueError("sigma must be positive")
    return sigma**2 / 2 * hessian_trace


def eli_assert(hessian_trace, sigma):
    assert sigma >= 0, "sigma must be >= 0"
    return sigma**2 / 2 * hessian_trace


def eli_quarter(hessian_trace, sigma):
    _check_sigma(sigma)
    return (sigma / 2) ** 2 * hessian_trace


def eli_abs_sigma(hessian_trace, sigma):
    """Takes |sigma| instead of rejecting a negative one."""
    return abs(sigma) ** 2 / 2 * hessian_trace


# ---------------------------------------------------------------------------------------------
# perturbed_loss_increase


def _losses(loss_fn, points):
    with torch.no_grad():
        return [float(loss_fn(p)) for p in points]


def pli_no_subtract(loss_fn, theta, noise):
    _rows(noise, theta, "noise")
    values = _losses(loss_fn, theta.detach() + noise)
    return sum(values) / len(values)


def pli_sum(loss_fn, theta, noise):
    _rows(noise, theta, "noise")
    base = _losses(loss_fn, [theta.detach()])[0]
    return sum(v - base for v in _losses(loss_fn, theta.detach() + noise))


def pli_loss_of_noise(loss_fn, theta, noise):
    _rows(noise, theta, "noise")
    base = _losses(loss_fn, [theta.detach()])[0]
    values = _losses(loss_fn, noise)
    return sum(values) / len(values) - base


def pli_no_validation(loss_fn, theta, noise):
    base = _losses(loss_fn, [theta.detach()])[0]
    values = _losses(loss_fn, [theta.detach() + e for e in noise])
    return sum(values) / len(values) - base


def pli_alt_vmap(loss_fn, theta, noise):
    """Correct: all perturbed losses at once with torch.func.vmap, a 0-d tensor out."""
    if noise.dim() != 2 or noise.shape[-1] != theta.numel():
        raise ValueError("noise must be (n, d)")
    with torch.no_grad():
        x = theta.detach()
        return torch.func.vmap(loss_fn)(x + noise).mean() - loss_fn(x)


def pli_alt_float64(loss_fn, theta, noise):
    """Correct: a loop, differences taken per row and averaged in Python floats."""
    _rows(noise, theta, "noise")
    base = _losses(loss_fn, [theta.detach()])[0]
    diffs = [v - base for v in _losses(loss_fn, [theta.detach() + e for e in noise])]
    return math.fsum(diffs) / len(diffs)


# perturbed_loss_increase: correct (second round of hardening)


def pli_alt_stack_mean32(loss_fn, theta, noise):
    """Correct: a loop, torch.stack and torch.mean in theta's dtype."""
    _rows(noise, theta, "noise")
    x = theta.detach()
    with torch.no_grad():
        losses = torch.stack([loss_fn(x + e) for e in noise])
        return (losses.mean() - loss_fn(x)).item()


def pli_alt_diff_mean(loss_fn, theta, noise):
    """Correct: the mean of the per-row differences, a 0-d tensor out."""
    if noise.ndim != 2 or noise.shape[1] != theta.shape[0]:
        raise ValueError("noise must be (n, d)")
    x = theta.detach().clone()
    with torch.no_grad():
        base = loss_fn(x)
        diffs = torch.stack([loss_fn(x + noise[i]) - base for i in range(noise.shape[0])])
    return diffs.mean()


def pli_alt_numpy(loss_fn, theta, noise):
    """Correct: the losses as a numpy array."""
    _rows(noise, theta, "noise")
    x = theta.detach()
    with torch.no_grad():
        values = np.array([loss_fn(p).item() for p in (x + noise).unbind(0)])
        base = loss_fn(x).item()
    return float(np.mean(values) - base)


def pli_alt_python_sum(loss_fn, theta, noise):
    """Correct: a running Python sum."""
    _rows(noise, theta, "noise")
    with torch.no_grad():
        base = float(loss_fn(theta.detach()))
        total = 0.0
        for e in noise:
            total += float(loss_fn(theta.detach() + e))
    return total / noise.shape[0] - base


# perturbed_loss_increase: wrong (second round of hardening)


def pli_in_place(loss_fn, theta, noise):
    """Adds and subtracts each row in place: theta comes back changed by rounding."""
    _rows(noise, theta, "noise")
    with torch.no_grad():
        base = float(loss_fn(theta))
        values = []
        for e in noise:
            theta += e
            values.append(float(loss_fn(theta)))
            theta -= e
    return sum(values) / len(values) - base


def pli_mean_noise(loss_fn, theta, noise):
    """Averages the perturbations instead of the losses."""
    _rows(noise, theta, "noise")
    with torch.no_grad():
        return float(loss_fn(theta.detach() + noise.mean(0)) - loss_fn(theta.detach()))


def pli_sign(loss_fn, theta, noise):
    _rows(noise, theta, "noise")
    base = _losses(loss_fn, [theta.detach()])[0]
    values = _losses(loss_fn, theta.detach() + noise)
    return base - sum(values) / len(values)


def pli_own_noise(loss_fn, theta, noise):
    """Draws its own Gaussian noise of the same size from the global generator."""
    _rows(noise, theta, "noise")
    fresh = float(noise.std()) * torch.randn(noise.shape, dtype=theta.dtype)
    base = _losses(loss_fn, [theta.detach()])[0]
    values = _losses(loss_fn, theta.detach() + fresh)
    return sum(values) / len(values) - base


def pli_n_minus_one(loss_fn, theta, noise):
    """Divides the summed differences by n − 1."""
    _rows(noise, theta, "noise")
    base = _losses(loss_fn, [theta.detach()])[0]
    values = _losses(loss_fn, theta.detach() + noise)
    return sum(v - base for v in values) / max(len(values) - 1, 1)


# ---------------------------------------------------------------------------------------------
# spectrum_trace


def _check_spectrum(decay, dim):
    if decay not in ("inverse", "exponential"):
        raise ValueError(f"unknown decay {decay!r}")
    if dim < 1:
        raise ValueError("dim must be >= 1")


def spec_from_zero(decay, dim):
    _check_spectrum(decay, dim)
    k = np.arange(0, dim, dtype=np.float64)
    return float(np.exp(-k).sum()) if decay == "exponential" else float((1 / (k + 1)).sum())


def spec_integral(decay, dim):
    _check_spectrum(decay, dim)
    return math.log(dim) if decay == "inverse" else 1.0 - math.exp(-dim)


def spec_off_by_one(decay, dim):
    _check_spectrum(decay, dim)
    k = np.arange(1, dim, dtype=np.float64)
    return float((1 / k).sum()) if decay == "inverse" else float(np.exp(-k).sum())


def spec_no_validation(decay, dim):
    k = np.arange(1, dim + 1, dtype=np.float64)
    return float(np.exp(-k).sum()) if decay == "exponential" else float((1 / k).sum())


def spec_fraction(decay, dim):
    """Exact rational arithmetic: hopelessly slow for dim = 10^7."""
    _check_spectrum(decay, dim)
    if decay == "exponential":
        return math.fsum(math.exp(-k) for k in range(1, dim + 1))
    return float(sum(Fraction(1, k) for k in range(1, dim + 1)))


def spec_alt_loop(decay, dim):
    """Correct: a plain Python loop (about 1 s for dim = 10^7)."""
    if decay not in ("inverse", "exponential") or dim < 1:
        raise ValueError(f"bad decay {decay!r} or dim {dim!r}")
    total = 0.0
    if decay == "inverse":
        for k in range(1, dim + 1):
            total += 1.0 / k
    else:
        for k in range(1, dim + 1):
            total += math.exp(-k)
    return total


def spec_alt_torch(decay, dim):
    """Correct: torch in float64, the exponential sum in closed form."""
    _check_spectrum(decay, dim)
    if decay == "exponential":
        return (1 - math.exp(-dim)) / (math.e - 1)
    return torch.arange(1, dim + 1, dtype=torch.float64).reciprocal().sum()


# spectrum_trace: correct (second round of hardening)


def spec_alt_asymptotic(decay, dim):
    """Correct: exact sums for small dim, the asymptotic expansion of H_n beyond 10^4."""
    if decay not in ("inverse", "exponential"):
        raise ValueError(f"unknown decay {decay!r}")
    if dim < 1:
        raise ValueError("dim must be >= 1")
    if decay == "exponential":
        return float(np.exp(-np.arange(1, min(dim, 800) + 1, dtype=np.float64)).sum())
    if dim <= 10_000:
        return math.fsum(1.0 / k for k in range(1, dim + 1))
    n = float(dim)
    return math.log(n) + np.euler_gamma + 1 / (2 * n) - 1 / (12 * n**2)


def spec_alt_numpy_one_shot(decay, dim):
    """Correct: one numpy array of all the terms, a numpy float out."""
    if decay not in {"inverse", "exponential"} or dim < 1:
        raise ValueError("bad decay or dim")
    k = np.arange(1, dim + 1, dtype=np.float64)
    terms = 1.0 / k if decay == "inverse" else np.exp(-k)
    return terms.sum()


def spec_alt_reverse_loop(decay, dim):
    """Correct: a plain loop from the smallest term up."""
    if decay == "inverse":
        term = lambda k: 1.0 / k  # noqa: E731
    elif decay == "exponential":
        term = lambda k: math.exp(-k)  # noqa: E731
    else:
        raise ValueError(decay)
    if dim < 1:
        raise ValueError(dim)
    total = 0.0
    for k in range(dim, 0, -1):
        total += term(k)
    return total


def spec_alt_torch32(decay, dim):
    """Correct: torch in the default float32 (its sums stay within 2e-7 of the float64 sum)."""
    if decay not in ("inverse", "exponential") or dim < 1:
        raise ValueError("bad decay or dim")
    k = torch.arange(1, dim + 1, dtype=torch.float32)
    return float((1 / k).sum() if decay == "inverse" else torch.exp(-k).sum())


# spectrum_trace: wrong (second round of hardening)


def spec_dim_zero_ok(decay, dim):
    """Accepts dim = 0 (an empty sum)."""
    if decay not in ("inverse", "exponential") or dim < 0:
        raise ValueError("bad decay or dim")
    k = np.arange(1, dim + 1, dtype=np.float64)
    return float((1 / k).sum() if decay == "inverse" else np.exp(-k).sum())


def spec_limit(decay, dim):
    """The exponential sum as its limit 1/(e − 1), whatever dim."""
    _check_spectrum(decay, dim)
    if decay == "exponential":
        return 1 / (math.e - 1)
    return float((1 / np.arange(1, dim + 1, dtype=np.float64)).sum())


def spec_log_gamma(decay, dim):
    """The harmonic number as ln dim + γ, whatever dim."""
    _check_spectrum(decay, dim)
    if decay == "exponential":
        return float(np.exp(-np.arange(1, dim + 1, dtype=np.float64)).sum())
    return math.log(dim) + np.euler_gamma


def spec_hybrid(decay, dim):
    """Exact below dim 1000, ln dim + γ from there on (6.7e-5 off at dim 1000)."""
    _check_spectrum(decay, dim)
    if decay == "exponential":
        return float(np.exp(-np.arange(1, min(dim, 800) + 1, dtype=np.float64)).sum())
    if dim < 1000:
        return float((1 / np.arange(1, dim + 1, dtype=np.float64)).sum())
    return math.log(dim) + np.euler_gamma


# ---------------------------------------------------------------------------------------------
# the tables

WRONG = [
    # expected_loss_increase
    ("expected_loss_increase", eli_no_half, r"expected 0\.025, got 0\.05.*1/2", ["basic"]),
    ("expected_loss_increase", eli_sigma, r"sigma instead of sigma²", ["basic"]),
    ("expected_loss_increase", eli_abs, r"sign is lost", ["edge"]),
    ("expected_loss_increase", eli_rejects_negative_trace, r"raised ValueError", ["edge"]),
    ("expected_loss_increase", eli_no_validation, r"instead of raising ValueError", ["errors"]),
    # perturbed_loss_increase
    ("perturbed_loss_increase", pli_no_subtract, r"without subtracting L\(theta\)", ["basic"]),
    ("perturbed_loss_increase", pli_sum, r"sums over the 6 rows", ["basic"]),
    ("perturbed_loss_increase", pli_loss_of_noise, r"L\(e\) instead of L\(theta \+ e\)", ["basic"]),
    (
        "perturbed_loss_increase",
        pli_no_validation,
        r"1-D.*instead of raising ValueError",
        ["errors"],
    ),
    # spectrum_trace
    ("spectrum_trace", spec_from_zero, r"starts at k = 0.*discrete sum from k = 1", ["basic"]),
    ("spectrum_trace", spec_integral, r"discrete sum from k = 1", ["basic"]),
    ("spectrum_trace", spec_off_by_one, r"stops at k = dim − 1", ["basic"]),
    ("spectrum_trace", spec_no_validation, r"linear.*ValueError", ["errors"]),
    # second round: expected_loss_increase
    ("expected_loss_increase", eli_rejects_zero_sigma, r"sigma 0.*raised ValueError", ["edge"]),
    (
        "expected_loss_increase",
        eli_assert,
        r"raised AssertionError.*must raise ValueError",
        ["errors"],
    ),
    ("expected_loss_increase", eli_quarter, r"sigma² / 4 instead of sigma² / 2", ["basic"]),
    ("expected_loss_increase", eli_abs_sigma, r"sigma -0\.01.*instead of raising", ["errors"]),
    # second round: perturbed_loss_increase
    ("perturbed_loss_increase", pli_in_place, r"theta was modified in place", ["no_mutation"]),
    ("perturbed_loss_increase", pli_mean_noise, r"mean of the rows of noise", ["basic"]),
    ("perturbed_loss_increase", pli_sign, r"the sign is flipped", ["basic"]),
    ("perturbed_loss_increase", pli_own_noise, r"drew from torch's global random", ["basic"]),
    ("perturbed_loss_increase", pli_n_minus_one, r"divides by n − 1 = 5", ["basic"]),
    # second round: spectrum_trace
    ("spectrum_trace", spec_dim_zero_ok, r"dim 0.*returned 0\.0 instead of raising", ["errors"]),
    ("spectrum_trace", spec_limit, r"dim 1: e\^\(-1\).*1/\(e − 1\), the limit", ["basic"]),
    ("spectrum_trace", spec_log_gamma, r"an approximation \(ln dim", ["basic"]),
    ("spectrum_trace", spec_hybrid, r"inverse, dim 1000.*an approximation", ["large"]),
]

CORRECT = [
    ("expected_loss_increase", eli_alt_numpy),
    ("perturbed_loss_increase", pli_alt_vmap),
    ("perturbed_loss_increase", pli_alt_float64),
    ("spectrum_trace", spec_alt_loop),
    ("spectrum_trace", spec_alt_torch),
    ("expected_loss_increase", eli_alt_fraction),
    ("expected_loss_increase", eli_alt_torch),
    ("expected_loss_increase", eli_alt_math),
    ("perturbed_loss_increase", pli_alt_stack_mean32),
    ("perturbed_loss_increase", pli_alt_diff_mean),
    ("perturbed_loss_increase", pli_alt_numpy),
    ("perturbed_loss_increase", pli_alt_python_sum),
    ("spectrum_trace", spec_alt_asymptotic),
    ("spectrum_trace", spec_alt_numpy_one_shot),
    ("spectrum_trace", spec_alt_reverse_loop),
    ("spectrum_trace", spec_alt_torch32),
]

NAMES = [
    "expected_loss_increase",
    "perturbed_loss_increase",
    "spectrum_trace",
]


@pytest.mark.parametrize(
    ("name", "fn", "match", "in_parts"),
    WRONG,
    ids=[f"{w[0]}-{w[1].__name__}-{w[3][0]}" for w in WRONG],
)
def test_wrong_implementation_fails_with_a_message_naming_the_problem(name, fn, match, in_parts):
    """A typical mistake fails the part that targets it, and the feedback says what is wrong."""
    assert_fails(name, fn, match=match, in_parts=in_parts)


@pytest.mark.parametrize(("name", "fn"), CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_correct_alternative_passes_every_part(name, fn):
    """A correct implementation written differently from the reference gets full marks."""
    assert_passes_all(name, fn)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_has_five_wrong_and_four_correct_implementations(name):
    """The tables above cover every graded function of this file."""
    assert len({w[1] for w in WRONG if w[0] == name}) >= 5
    assert len({c[1] for c in CORRECT if c[0] == name}) >= 4
    assert 3 <= len(parts(name)) <= 6


# ---------------------------------------------------------------------------------------------
# spectrum_trace: the time limit


def test_a_slow_spectrum_trace_times_out(monkeypatch):
    """Exact rational arithmetic is correct for small dim but far too slow for dim = 10^7."""
    monkeypatch.setattr(lookup("spectrum_trace"), "timeout", 1.0)
    results = assert_fails(
        "spectrum_trace",
        spec_fraction,
        match=r"did not return within the time limit",
        in_parts=["large"],
    )
    assert results["basic"] is None
