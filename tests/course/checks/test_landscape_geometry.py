"""The hidden checks of notebook 02 grade well.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import OrderedDict
from fractions import Fraction

import numpy as np
import pytest
import torch
from landscapes_checks import landscape_geometry as checks

from autograder.checks import Build, Case, cases, lookup, parts
from autograder.checks.call import materialize, run_case
from solutions import landscape_geometry as ref
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# helpers for the implementations below


def _rows(x, theta, name):
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != theta.numel():
        raise ValueError(f"{name} must be 2-D with one column per parameter")
    return x


def _like_theta(v, theta, name="v"):
    if v.shape != theta.shape:
        raise ValueError(f"{name} must have theta's shape")
    return v


def _double_backward(loss_fn, theta, v):
    """H·v by double backward, without the guard for a gradient independent of theta."""
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v)
    return hv.detach()


def _func_hvp(loss_fn, theta, v):
    """H·v forward-over-reverse with torch.func (no guard needed for zero Hessians)."""
    return torch.func.jvp(torch.func.grad(loss_fn), (theta.detach(),), (v.to(theta.dtype),))[1]


# ---------------------------------------------------------------------------------------------
# hvp


def hvp_finite_difference(loss_fn, theta, v):
    """Central finite difference of the gradient: not exact."""
    _like_theta(v, theta)
    eps = 1e-4

    def grad_at(t):
        x = t.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(loss_fn(x), x, allow_unused=True)
        return torch.zeros_like(x) if g is None else g

    return (grad_at(theta + eps * v) - grad_at(theta - eps * v)) / (2 * eps)


def hvp_no_zero_guard(loss_fn, theta, v):
    _like_theta(v, theta)
    return _double_backward(loss_fn, theta, v)


def hvp_sets_requires_grad(loss_fn, theta, v):
    """Differentiates with respect to theta itself after switching on its requires_grad."""
    _like_theta(v, theta)
    theta.requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(theta), theta, create_graph=True)
    if not g.requires_grad:
        return torch.zeros_like(theta).detach()
    (hv,) = torch.autograd.grad(g, theta, grad_outputs=v)
    return hv.detach()


def hvp_turns_off_requires_grad(loss_fn, theta, v):
    """Switches requires_grad on and off again: a theta that required grad no longer does."""
    _like_theta(v, theta)
    out = ref.hvp(loss_fn, theta, v)
    theta.requires_grad_(False)
    return out


def hvp_gradient(loss_fn, theta, v):
    """Returns the gradient instead of the Hessian-vector product."""
    _like_theta(v, theta)
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def hvp_no_validation(loss_fn, theta, v):
    return _func_hvp(loss_fn, theta, v)


def hvp_alt_func(loss_fn, theta, v):
    """Correct: forward-over-reverse with torch.func."""
    _like_theta(v, theta)
    return _func_hvp(loss_fn, theta, v)


def hvp_alt_full_hessian(loss_fn, theta, v):
    """Correct: the full Hessian times v (fine for small d)."""
    _like_theta(v, theta)
    H = torch.autograd.functional.hessian(loss_fn, theta.detach())
    return H @ v


def hvp_alt_functional(loss_fn, theta, v):
    """Correct: torch.autograd.functional.hvp."""
    if tuple(v.shape) != tuple(theta.shape):
        raise ValueError("v must have the shape of theta")
    return torch.autograd.functional.hvp(loss_fn, theta.detach(), v)[1]


# ---------------------------------------------------------------------------------------------
# rademacher_probes


def rad_global(num_probes, dim, generator):
    return (torch.randint(0, 2, (num_probes, dim)) * 2 - 1).float()


def rad_int(num_probes, dim, generator):
    return torch.randint(0, 2, (num_probes, dim), generator=generator) * 2 - 1


def rad_with_zero(num_probes, dim, generator):
    return torch.randint(-1, 2, (num_probes, dim), generator=generator).float()


def rad_transposed(num_probes, dim, generator):
    return (torch.randint(0, 2, (dim, num_probes), generator=generator) * 2 - 1).float()


def rad_biased(num_probes, dim, generator):
    return torch.where(torch.rand(num_probes, dim, generator=generator) < 0.7, 1.0, -1.0)


def rad_own_generator(num_probes, dim, generator):
    own = torch.Generator().manual_seed(0)
    return (torch.randint(0, 2, (num_probes, dim), generator=own) * 2 - 1).float()


def rad_copies_seed(num_probes, dim, generator):
    """Re-seeds a new generator from the given one's seed: the given one is never used."""
    own = torch.Generator().manual_seed(generator.initial_seed())
    return (torch.randint(0, 2, (num_probes, dim), generator=own) * 2 - 1).float()


def rad_alt_sign(num_probes, dim, generator):
    """Correct: the signs of Gaussian draws."""
    return torch.sign(torch.randn(num_probes, dim, generator=generator))


def rad_alt_bernoulli(num_probes, dim, generator):
    """Correct: Bernoulli(1/2) draws in float64."""
    p = torch.full((num_probes, dim), 0.5, dtype=torch.float64)
    return torch.bernoulli(p, generator=generator) * 2.0 - 1.0


# ---------------------------------------------------------------------------------------------
# hutchinson_trace


def hutch_sum(loss_fn, theta, probes):
    _rows(probes, theta, "probes")
    return float(sum((v * ref.hvp(loss_fn, theta, v)).sum() for v in probes))


def hutch_exact_trace(loss_fn, theta, probes):
    """Ignores the probes: the exact trace of the full Hessian."""
    _rows(probes, theta, "probes")
    return float(torch.autograd.functional.hessian(loss_fn, theta.detach()).trace())


def hutch_no_validation(loss_fn, theta, probes):
    quads = [(v * _func_hvp(loss_fn, theta, v)).sum() for v in probes]
    return float(torch.stack(quads).mean())


def hutch_no_zero_guard(loss_fn, theta, probes):
    _rows(probes, theta, "probes")
    quads = [(v * _double_backward(loss_fn, theta, v)).sum() for v in probes]
    return float(torch.stack(quads).mean())


def hutch_sets_requires_grad(loss_fn, theta, probes):
    _rows(probes, theta, "probes")
    theta.requires_grad_(True)
    return ref.hutchinson_trace(loss_fn, theta, probes)


def hutch_alt_full_hessian(loss_fn, theta, probes):
    """Correct: the full Hessian, then vᵀHv for all probes at once."""
    _rows(probes, theta, "probes")
    H = torch.autograd.functional.hessian(loss_fn, theta.detach()).to(torch.float64)
    P = probes.to(torch.float64)
    return torch.einsum("nd,de,ne->n", P, H, P).mean().item()


def hutch_alt_loop(loss_fn, theta, probes):
    """Correct: a Python loop over the probes with torch.func products, summed in float64."""
    if probes.dim() != 2 or probes.shape[1] != theta.shape[0]:
        raise ValueError("probes must have shape (num_probes, len(theta))")
    total = 0.0
    for v in probes:
        total += float((v * _func_hvp(loss_fn, theta, v.to(theta.dtype))).sum())
    return total / probes.shape[0]


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


# ---------------------------------------------------------------------------------------------
# top_eigenvalue


def _power(loss_fn, theta, v, num_iters, matvec=ref.hvp):
    for _ in range(num_iters):
        hv = matvec(loss_fn, theta, v)
        v = hv / hv.norm()
    return v, matvec(loss_fn, theta, v)


def top_norm(loss_fn, theta, *, num_iters=100, generator):
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    _, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(hv.norm())


def top_global(loss_fn, theta, *, num_iters=100, generator):
    g = torch.randn(theta.shape, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(v @ hv)


def top_fixed_iters(loss_fn, theta, *, num_iters=100, generator):
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), 100)
    return float(v @ hv)


def top_own_generator(loss_fn, theta, *, num_iters=100, generator):
    own = torch.Generator().manual_seed(1234)
    g = torch.randn(theta.shape, generator=own, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(v @ hv)


def top_ones_start(loss_fn, theta, *, num_iters=100, generator):
    v = torch.ones_like(theta.detach())
    v, hv = _power(loss_fn, theta, v / v.norm(), num_iters)
    return float(v @ hv)


def top_sets_requires_grad(loss_fn, theta, *, num_iters=100, generator):
    theta.requires_grad_(False)
    return ref.top_eigenvalue(loss_fn, theta, num_iters=num_iters, generator=generator)


def top_alt_func(loss_fn, theta, *, num_iters=100, generator):
    """Correct: a float32 start vector cast to theta's dtype, torch.func products."""
    v = torch.randn(theta.numel(), generator=generator).to(theta.dtype)
    v = v / torch.linalg.norm(v)
    for _ in range(num_iters):
        hv = _func_hvp(loss_fn, theta, v)
        v = hv / torch.linalg.norm(hv)
    return (v @ _func_hvp(loss_fn, theta, v)).item()


def top_alt_rayleigh_each_step(loss_fn, theta, *, num_iters=100, generator):
    """Correct: normal_ start, the Rayleigh quotient tracked at every step (one fewer step)."""
    v = torch.empty(theta.shape, dtype=theta.dtype).normal_(generator=generator)
    v /= v.norm()
    quotient = 0.0
    for _ in range(num_iters):
        hv = ref.hvp(loss_fn, theta, v)
        quotient = float(v @ hv)
        v = hv / hv.norm()
    return quotient


# ---------------------------------------------------------------------------------------------
# classify_critical_point


def _classify(values, tol, *, check_empty=True):
    if check_empty and not values:
        raise ValueError("eigenvalues must not be empty")
    pos = any(x > tol for x in values)
    neg = any(x < -tol for x in values)
    if pos and neg:
        return "saddle"
    if all(x > tol for x in values):
        return "minimum"
    if all(x < -tol for x in values):
        return "maximum"
    return "degenerate"


def cls_no_tol(eigenvalues, tol=1e-8):
    return _classify([float(x) for x in eigenvalues], 0.0)


def cls_degenerate_first(eigenvalues, tol=1e-8):
    values = [float(x) for x in eigenvalues]
    if not values:
        raise ValueError("no eigenvalues")
    if any(abs(x) <= tol for x in values):
        return "degenerate"
    return _classify(values, tol)


def cls_empty_minimum(eigenvalues, tol=1e-8):
    return _classify([float(x) for x in eigenvalues], tol, check_empty=False)


def cls_vectorised(eigenvalues, tol=1e-8):
    """Assumes a tensor: fails for lists, tuples and numpy arrays."""
    if eigenvalues.numel() == 0:
        raise ValueError("no eigenvalues")
    pos, neg = bool((eigenvalues > tol).any()), bool((eigenvalues < -tol).any())
    if pos and neg:
        return "saddle"
    if bool((eigenvalues > tol).all()):
        return "minimum"
    if bool((eigenvalues < -tol).all()):
        return "maximum"
    return "degenerate"


def cls_capitalised(eigenvalues, tol=1e-8):
    return ref.classify_critical_point(eigenvalues, tol).capitalize()


def cls_alt_numpy(eigenvalues, tol=1e-8):
    """Correct: numpy."""
    ev = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if ev.size == 0:
        raise ValueError("eigenvalues is empty")
    pos, neg = ev > tol, ev < -tol
    if pos.any() and neg.any():
        return "saddle"
    if pos.all():
        return "minimum"
    if neg.all():
        return "maximum"
    return "degenerate"


# ---------------------------------------------------------------------------------------------
# rescale_hidden_units


def _check_rescale(params, layer_in, layer_out, c):
    for key in (f"{layer_in}.weight", f"{layer_out}.weight"):
        if key not in params:
            raise ValueError(f"params has no {key!r}")
    hidden = params[f"{layer_in}.weight"].shape[0]
    if params[f"{layer_out}.weight"].shape[1] != hidden:
        raise ValueError("shapes do not fit")
    factors = torch.as_tensor(c, dtype=torch.float64)
    if factors.dim() == 1 and factors.shape[0] != hidden:
        raise ValueError("c has the wrong length")
    if (factors <= 0).any():
        raise ValueError("c must be > 0")
    return factors.expand(hidden) if factors.dim() == 0 else factors


def _rescaled(params, layer_in, layer_out, c, *, in_bias=True, out_bias=False, inverse=False):
    factors = _check_rescale(params, layer_in, layer_out, c)
    if inverse:
        factors = 1 / factors
    out = {}
    for key, value in params.items():
        f = factors.to(value.dtype)
        if key == f"{layer_in}.weight":
            out[key] = value * f[:, None]
        elif key == f"{layer_in}.bias" and in_bias:
            out[key] = value * f
        elif key == f"{layer_out}.weight":
            out[key] = value / f[None, :]
        elif key == f"{layer_out}.bias" and out_bias:
            out[key] = value / f.mean()
        else:
            out[key] = value.clone()
    return out


def resc_scales_out_bias(params, layer_in, layer_out, c):
    return _rescaled(params, layer_in, layer_out, c, out_bias=True)


def resc_inverse(params, layer_in, layer_out, c):
    return _rescaled(params, layer_in, layer_out, c, inverse=True)


def resc_in_bias_not_scaled(params, layer_in, layer_out, c):
    return _rescaled(params, layer_in, layer_out, c, in_bias=False)


def resc_bias_required(params, layer_in, layer_out, c):
    """Reads layer_in's bias unconditionally: a KeyError for a layer without bias."""
    _ = params[f"{layer_in}.bias"]
    return ref.rescale_hidden_units(params, layer_in, layer_out, c)


def resc_multiplies_out(params, layer_in, layer_out, c):
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = _rescaled(params, layer_in, layer_out, c)
    key = f"{layer_out}.weight"
    out[key] = params[key] * factors.to(params[key].dtype)[None, :]
    return out


def resc_promotes_dtype(params, layer_in, layer_out, c):
    """Type promotion with a float64 tensor c turns float32 params into float64."""
    _check_rescale(params, layer_in, layer_out, c)
    c = torch.as_tensor(c)
    out = dict(params)
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * (c[:, None] if c.dim() else c)
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * c
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / (c[None, :] if c.dim() else c)
    return out


def resc_in_place(params, layer_in, layer_out, c):
    factors = _check_rescale(params, layer_in, layer_out, c)
    w_in = params[f"{layer_in}.weight"]
    w_in.mul_(factors.to(w_in.dtype)[:, None])
    if f"{layer_in}.bias" in params:
        params[f"{layer_in}.bias"].mul_(factors.to(w_in.dtype))
    params[f"{layer_out}.weight"].div_(factors.to(w_in.dtype)[None, :])
    return dict(params)


def resc_no_validation(params, layer_in, layer_out, c):
    c = torch.as_tensor(c, dtype=torch.float64)
    hidden = params[f"{layer_in}.weight"].shape[0]
    factors = c.expand(hidden) if c.dim() == 0 else c
    out = {k: v.clone() for k, v in params.items()}
    dt = params[f"{layer_in}.weight"].dtype
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * factors.to(dt)[:, None]
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * factors.to(dt)
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / factors.to(dt)[None, :]
    return out


def resc_alt_diag(params, layer_in, layer_out, c):
    """Correct: diagonal matrices, computed in float64, cast back per tensor."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    D, D_inv = torch.diag(factors), torch.diag(1 / factors)
    out = {}
    for key, value in params.items():
        v64 = value.to(torch.float64)
        if key in (f"{layer_in}.weight", f"{layer_in}.bias"):
            out[key] = (D @ v64).to(value.dtype)
        elif key == f"{layer_out}.weight":
            out[key] = (v64 @ D_inv).to(value.dtype)
        else:
            out[key] = value
    return out


def resc_alt_loop(params, layer_in, layer_out, c):
    """Correct: one hidden unit at a time, with Python floats."""
    factors = [float(f) for f in _check_rescale(params, layer_in, layer_out, c)]
    out = {k: v.clone() for k, v in params.items()}
    for i, f in enumerate(factors):
        out[f"{layer_in}.weight"][i] *= f
        if f"{layer_in}.bias" in out:
            out[f"{layer_in}.bias"][i] *= f
        out[f"{layer_out}.weight"][:, i] /= f
    return out


# ---------------------------------------------------------------------------------------------
# filter_normalize


def _check_same(direction, theta):
    if set(direction) != set(theta):
        raise ValueError("direction and theta have different keys")
    for k in direction:
        if direction[k].shape != theta[k].shape:
            raise ValueError(f"shape of {k!r} differs")


def _per_filter(d, t, eps=1e-10):
    d_norm = d.flatten(1).norm(dim=1)
    t_norm = t.flatten(1).norm(dim=1)
    return d * (t_norm / (d_norm + eps)).reshape(-1, *([1] * (d.dim() - 1)))


def fn_whole_tensor(direction, theta):
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d) if d.dim() <= 1 else d * theta[k].norm() / (d.norm() + 1e-10)
        for k, d in direction.items()
    }


def fn_per_column(direction, theta):
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            dims = tuple(i for i in range(d.dim()) if i != 1)
            scale = theta[k].norm(dim=dims, keepdim=True) / (d.norm(dim=dims, keepdim=True) + 1e-10)
            out[k] = d * scale
    return out


def fn_keeps_biases(direction, theta):
    _check_same(direction, theta)
    return {
        k: d.clone() if d.dim() <= 1 else _per_filter(d, theta[k]) for k, d in direction.items()
    }


def fn_no_eps(direction, theta):
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d) if d.dim() <= 1 else _per_filter(d, theta[k], eps=0.0)
        for k, d in direction.items()
    }


def fn_in_place(direction, theta):
    _check_same(direction, theta)
    for k, d in direction.items():
        if d.dim() <= 1:
            d.zero_()
        else:
            d.copy_(_per_filter(d, theta[k]))
    return direction


def fn_alt_loop(direction, theta):
    """Correct: one filter at a time with torch.linalg.norm."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() < 2:
            out[k] = torch.zeros_like(d)
            continue
        rows = []
        for d_i, t_i in zip(d, theta[k]):
            rows.append(d_i * torch.linalg.norm(t_i) / (torch.linalg.norm(d_i) + 1e-10))
        out[k] = torch.stack(rows)
    return out


def fn_alt_numpy(direction, theta):
    """Correct: numpy in float64, cast back to the direction's dtype."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        dn = d.detach().numpy().astype(np.float64)
        if dn.ndim <= 1:
            out[k] = torch.zeros_like(d)
            continue
        tn = theta[k].detach().numpy().astype(np.float64)
        axes = tuple(range(1, dn.ndim))
        d_norm = np.sqrt((dn**2).sum(axis=axes, keepdims=True))
        t_norm = np.sqrt((tn**2).sum(axis=axes, keepdims=True))
        out[k] = torch.from_numpy(dn * t_norm / (d_norm + 1e-10)).to(d.dtype)
    return out


# ---------------------------------------------------------------------------------------------
# loss_surface


def _surface(loss_fn, theta, d1, d2, alphas, betas, *, swap=False, center=True):
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    base = theta.detach() if center else torch.zeros_like(theta.detach())
    a_dir, b_dir = (d2, d1) if swap else (d1, d2)
    with torch.no_grad():
        rows = [torch.stack([loss_fn(base + a * a_dir + b * b_dir) for b in betas]) for a in alphas]
    return torch.stack(rows)


def surf_transposed(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1, d2, alphas, betas).T


def surf_no_theta(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1, d2, alphas, betas, center=False)


def surf_swapped_directions(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1, d2, alphas, betas, swap=True)


def surf_with_grad(loss_fn, theta, d1, d2, alphas, betas):
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    return torch.stack(
        [torch.stack([loss_fn(theta + a * d1 + b * d2) for b in betas]) for a in alphas]
    )


def surf_default_dtype(loss_fn, theta, d1, d2, alphas, betas):
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    Z = torch.zeros(len(alphas), len(betas))
    with torch.no_grad():
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                Z[i, j] = loss_fn(theta + a * d1 + b * d2)
    return Z


def surf_no_validation(loss_fn, theta, d1, d2, alphas, betas):
    with torch.no_grad():
        return torch.tensor(
            [
                [float(loss_fn(theta[: len(d1)] + a * d1 + b * d2[: len(d1)])) for b in betas]
                for a in alphas
            ]
        )


def surf_alt_vmap(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: a meshgrid of coefficients and one vmap over all grid points."""
    if d1.shape != theta.shape or d2.shape != theta.shape:
        raise ValueError("d1 and d2 must have theta's shape")
    a = torch.as_tensor(alphas, dtype=theta.dtype)
    b = torch.as_tensor(betas, dtype=theta.dtype)
    A, B = torch.meshgrid(a, b, indexing="ij")
    points = theta.detach() + A.reshape(-1, 1) * d1 + B.reshape(-1, 1) * d2
    with torch.no_grad():
        return torch.func.vmap(loss_fn)(points).reshape(len(a), len(b))


def surf_alt_loop(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: a double loop filling a tensor of theta's dtype."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    Z = torch.empty(len(alphas), len(betas), dtype=theta.dtype)
    x = theta.detach()
    with torch.no_grad():
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                Z[i, j] = loss_fn(x + float(a) * d1 + float(b) * d2)
    return Z


# ---------------------------------------------------------------------------------------------
# more styles and mistakes, function by function (a second round of hardening)

# hvp: correct


def hvp_alt_vhp(loss_fn, theta, v):
    """Correct: torch.autograd.functional.vhp (the Hessian is symmetric, so vᵀH = Hv)."""
    if v.shape != theta.shape:
        raise ValueError("v must have theta's shape")
    return torch.autograd.functional.vhp(loss_fn, theta.detach().clone(), v)[1]


def hvp_alt_vjp_of_grad(loss_fn, theta, v):
    """Correct: reverse over reverse, torch.func.vjp of torch.func.grad."""
    if tuple(v.shape) != tuple(theta.shape):
        raise ValueError(f"v has shape {tuple(v.shape)}, theta {tuple(theta.shape)}")
    _, pullback = torch.func.vjp(torch.func.grad(loss_fn), theta.detach())
    return pullback(v)[0]


def hvp_alt_grad_of_dot(loss_fn, theta, v):
    """Correct: the gradient of gᵀv, with guards for a loss or gradient without a graph."""
    _like_theta(v, theta)
    x = theta.detach().clone()
    x.requires_grad = True
    with torch.enable_grad():
        loss = loss_fn(x)
        if not loss.requires_grad:
            return torch.zeros_like(x).detach()
        g = torch.autograd.grad(loss, x, create_graph=True)[0]
        gv = torch.dot(g, v)
        if not gv.requires_grad:
            return torch.zeros_like(x).detach()
        return torch.autograd.grad(gv, x)[0].detach()


def hvp_alt_func_hessian64(loss_fn, theta, v):
    """Correct: the full torch.func.hessian, the product in float64, cast back."""
    if v.dim() != theta.dim() or v.numel() != theta.numel():
        raise ValueError("v must be shaped like theta")
    H = torch.func.hessian(loss_fn)(theta.detach())
    return (H.to(torch.float64) @ v.to(torch.float64)).to(theta.dtype)


def hvp_alt_backward(loss_fn, theta, v):
    """Correct: .backward() on a fresh leaf (never on theta), then that leaf's .grad."""
    _like_theta(v, theta)
    x = theta.detach().clone().requires_grad_()
    loss = loss_fn(x)
    if not loss.requires_grad:
        return torch.zeros_like(x.detach())
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    if g.grad_fn is None:
        return torch.zeros_like(x.detach())
    (g * v).sum().backward()
    return torch.zeros_like(x.detach()) if x.grad is None else x.grad.detach()


# hvp: wrong


def hvp_tuple(loss_fn, theta, v):
    """Returns autograd.functional.hvp's (loss, product) pair as it is."""
    _like_theta(v, theta)
    return torch.autograd.functional.hvp(loss_fn, theta.detach(), v)


def hvp_ones(loss_fn, theta, v):
    """Forgets grad_outputs=v: differentiates g.sum(), which gives H·1."""
    _like_theta(v, theta)
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)
    if not g.requires_grad:
        return torch.zeros_like(x).detach()
    return torch.autograd.grad(g.sum(), x)[0].detach()


def hvp_float64(loss_fn, theta, v):
    """The full Hessian in float64, never cast back to theta's dtype."""
    _like_theta(v, theta)
    H = torch.autograd.functional.hessian(loss_fn, theta.detach())
    return H.to(torch.float64) @ v.to(torch.float64)


def hvp_forward_difference(loss_fn, theta, v):
    """A one-sided finite difference of the gradient: not exact."""
    _like_theta(v, theta)
    eps = 1e-3

    def grad_at(t):
        x = t.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(loss_fn(x), x, allow_unused=True)
        return torch.zeros_like(x) if g is None else g

    return (grad_at(theta + eps * v) - grad_at(theta)) / eps


def hvp_unit_v(loss_fn, theta, v):
    """Normalises v first."""
    _like_theta(v, theta)
    return _func_hvp(loss_fn, theta, v / v.norm())


def hvp_backward_on_theta(loss_fn, theta, v):
    """Runs .backward() through theta itself when it requires grad: theta.grad piles up."""
    _like_theta(v, theta)
    x = theta if theta.requires_grad else theta.detach().requires_grad_(True)
    loss = loss_fn(x)
    if not loss.requires_grad:
        return torch.zeros_like(theta).detach()
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    if not g.requires_grad:
        return torch.zeros_like(theta).detach()
    (g * v).sum().backward()
    return x.grad.detach().clone()


def hvp_zeroes_v_in_place(loss_fn, theta, v):
    """For a zero Hessian returns v.mul_(0): the right value, but v is wiped."""
    _like_theta(v, theta)
    x = theta.detach().clone().requires_grad_(True)
    loss = loss_fn(x)
    g = torch.autograd.grad(loss, x, create_graph=True)[0] if loss.requires_grad else None
    if g is None or not g.requires_grad:
        return v.mul_(0)
    return torch.autograd.grad(g, x, grad_outputs=v)[0]


# rademacher_probes: correct


def rad_alt_rand_threshold(num_probes, dim, generator):
    """Correct: uniform draws below 1/2 become -1."""
    u = torch.rand(num_probes, dim, generator=generator)
    return torch.where(u < 0.5, torch.tensor(-1.0), torch.tensor(1.0))


def rad_alt_row_loop(num_probes, dim, generator):
    """Correct: one probe per draw, stacked."""
    rows = [
        torch.randint(0, 2, (dim,), generator=generator).float() * 2 - 1 for _ in range(num_probes)
    ]
    return torch.stack(rows)


def rad_alt_bernoulli_inplace(num_probes, dim, generator):
    """Correct: an in-place Bernoulli(1/2) fill in float64."""
    bits = torch.empty(num_probes, dim, dtype=torch.float64).bernoulli_(0.5, generator=generator)
    return bits.mul_(2).sub_(1)


def rad_alt_numpy_seeded(num_probes, dim, generator):
    """Correct: a numpy generator seeded from `generator` (same state, same probes)."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.choice(np.array([-1.0, 1.0]), size=(num_probes, dim)))


def rad_alt_randint_float_dtype(num_probes, dim, generator):
    """Correct: randint straight into a float dtype."""
    return 2 * torch.randint(0, 2, (num_probes, dim), generator=generator, dtype=torch.float32) - 1


# rademacher_probes: wrong


def rad_zero_one(num_probes, dim, generator):
    return torch.randint(0, 2, (num_probes, dim), generator=generator).float()


def rad_gaussian(num_probes, dim, generator):
    return torch.randn(num_probes, dim, generator=generator)


def rad_manual_seed(num_probes, dim, generator):
    """Seeds the global generator from the given one's seed."""
    torch.manual_seed(generator.initial_seed())
    return (torch.randint(0, 2, (num_probes, dim)) * 2 - 1).float()


def rad_same_row(num_probes, dim, generator):
    """One probe, repeated num_probes times."""
    row = torch.randint(0, 2, (dim,), generator=generator).float() * 2 - 1
    return row.repeat(num_probes, 1)


def rad_same_sign_per_probe(num_probes, dim, generator):
    """One sign per probe, repeated along the probe."""
    col = torch.randint(0, 2, (num_probes, 1), generator=generator).float() * 2 - 1
    return col.expand(num_probes, dim).clone()


def rad_bool(num_probes, dim, generator):
    return torch.rand(num_probes, dim, generator=generator) < 0.5


def rad_reseeds(num_probes, dim, generator):
    """generator.seed() re-seeds it non-deterministically."""
    generator.seed()
    return (torch.randint(0, 2, (num_probes, dim), generator=generator) * 2 - 1).float()


# hutchinson_trace: correct


def hutch_alt_func_hessian(loss_fn, theta, probes):
    """Correct: torch.func.hessian, then the row sums of (P H) * P."""
    if probes.dim() != 2 or probes.shape[1] != theta.numel():
        raise ValueError("probes must be (n, d)")
    H = torch.func.hessian(loss_fn)(theta.detach())
    P = probes.to(H.dtype)
    return float(((P @ H) * P).sum(dim=1).mean())


def hutch_alt_vmap_jvp(loss_fn, theta, probes):
    """Correct: vmap of forward-over-reverse products, a 0-d tensor out."""
    _rows(probes, theta, "probes")
    x = theta.detach()
    P = probes.to(x.dtype)
    hvps = torch.func.vmap(lambda v: torch.func.jvp(torch.func.grad(loss_fn), (x,), (v,))[1])(P)
    return torch.einsum("nd,nd->n", P, hvps).mean()


def hutch_alt_second_directional(loss_fn, theta, probes):
    """Correct: vᵀHv as the second derivative of t ↦ L(theta + t·v) (forward over forward)."""
    _rows(probes, theta, "probes")
    x = theta.detach()
    quads = []
    for v in probes:
        v = v.to(x.dtype)

        def directional(y, v=v):
            return torch.func.jvp(loss_fn, (y,), (v,))[1]

        quads.append(float(torch.func.jvp(directional, (x,), (v,))[1]))
    return sum(quads) / len(quads)


def hutch_alt_retain_graph(loss_fn, theta, probes):
    """Correct: one gradient graph, retained across the probes, torch.mean in theta's dtype."""
    _rows(probes, theta, "probes")
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:
        return 0.0
    quads = []
    for v in probes:
        (hv,) = torch.autograd.grad(g, x, grad_outputs=v, retain_graph=True)
        quads.append(torch.dot(v, hv))
    return torch.stack(quads).mean().item()


def hutch_alt_numpy(loss_fn, theta, probes):
    """Correct: products in torch, the quadratic forms and their mean in numpy float64."""
    _rows(probes, theta, "probes")
    values = [
        np.dot(v.numpy().astype(np.float64), ref.hvp(loss_fn, theta, v).numpy().astype(np.float64))
        for v in probes.detach()
    ]
    return np.mean(values)


# hutchinson_trace: wrong


def _quads(loss_fn, theta, probes):
    return [float(v @ ref.hvp(loss_fn, theta, v)) for v in probes]


def hutch_mean_all_entries(loss_fn, theta, probes):
    """(probes * HP).mean(): divides by num_probes · dim."""
    _rows(probes, theta, "probes")
    hv = torch.stack([ref.hvp(loss_fn, theta, v) for v in probes])
    return float((probes * hv).mean())


def hutch_own_probes(loss_fn, theta, probes):
    """Draws fresh probes from the global generator instead of using the given ones."""
    _rows(probes, theta, "probes")
    fresh = (torch.randint(0, 2, probes.shape) * 2 - 1).to(theta.dtype)
    return float(np.mean(_quads(loss_fn, theta, fresh)))


def hutch_normalises_probes(loss_fn, theta, probes):
    """Scales the probes to unit length, in place."""
    _rows(probes, theta, "probes")
    probes /= probes.norm(dim=1, keepdim=True)
    return float(np.mean(_quads(loss_fn, theta, probes)))


def hutch_sum_hv(loss_fn, theta, probes):
    """Sums the entries of Hv, forgetting the vᵀ."""
    _rows(probes, theta, "probes")
    return float(np.mean([float(ref.hvp(loss_fn, theta, v).sum()) for v in probes]))


def hutch_first_probe(loss_fn, theta, probes):
    _rows(probes, theta, "probes")
    return _quads(loss_fn, theta, probes[:1])[0]


def hutch_abs(loss_fn, theta, probes):
    """Assumes a trace is never negative."""
    _rows(probes, theta, "probes")
    return abs(float(np.mean(_quads(loss_fn, theta, probes))))


def hutch_clamped(loss_fn, theta, probes):
    """Clamps every vᵀHv at 0 ("curvature is non-negative")."""
    _rows(probes, theta, "probes")
    return float(np.mean([max(q, 0.0) for q in _quads(loss_fn, theta, probes)]))


def hutch_n_minus_one(loss_fn, theta, probes):
    """Divides by num_probes − 1, as for an unbiased variance."""
    _rows(probes, theta, "probes")
    quads = _quads(loss_fn, theta, probes)
    return sum(quads) / max(len(quads) - 1, 1)


def hutch_backward_on_theta(loss_fn, theta, probes):
    """Uses an hvp that leaves its products in theta.grad, so they add up."""
    _rows(probes, theta, "probes")
    quads = [float(v @ hvp_backward_on_theta(loss_fn, theta, v)) for v in probes]
    return sum(quads) / len(quads)


# expected_loss_increase: correct


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


# expected_loss_increase: wrong


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


# perturbed_loss_increase: correct


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


# perturbed_loss_increase: wrong


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


# spectrum_trace: correct


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


# spectrum_trace: wrong


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


# top_eigenvalue: correct


def top_alt_early_stop(loss_fn, theta, *, num_iters=100, generator):
    """Correct: stops once the Rayleigh quotient settles (num_iters is the most steps)."""
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / v.norm()
    previous = None
    for _ in range(num_iters):
        hv = ref.hvp(loss_fn, theta, v)
        quotient = float(v @ hv)
        v = hv / hv.norm()
        if previous is not None and abs(quotient - previous) <= 1e-12 * abs(quotient):
            break
        previous = quotient
    return float(v @ ref.hvp(loss_fn, theta, v))


def top_alt_maxnorm(loss_fn, theta, *, num_iters=100, generator):
    """Correct: torch.normal start, normalised by the largest entry, vᵀHv / vᵀv at the end."""
    v = torch.normal(0.0, 1.0, size=tuple(theta.shape), generator=generator).to(theta.dtype)
    v = v / v.norm()
    for _ in range(num_iters):
        hv = ref.hvp(loss_fn, theta, v)
        v = hv / hv.abs().max()
    hv = ref.hvp(loss_fn, theta, v)
    return float(torch.dot(v, hv) / torch.dot(v, v))


def top_alt_float64(loss_fn, theta, *, num_iters=100, generator):
    """Correct: a float64 start, autograd.functional.hvp products, a float64 quotient."""
    g = torch.randn(theta.numel(), generator=generator, dtype=torch.float64)
    v = (g / torch.linalg.vector_norm(g)).to(theta.dtype)
    x = theta.detach()
    for _ in range(num_iters):
        hv = torch.autograd.functional.hvp(loss_fn, x, v)[1]
        v = hv / torch.linalg.vector_norm(hv)
    hv = torch.autograd.functional.hvp(loss_fn, x, v)[1]
    return (v.double() @ hv.double()).item()


def top_alt_graph_once(loss_fn, theta, *, num_iters=100, generator):
    """Correct: one gradient graph for every product, a 0-d tensor out."""
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)

    def matvec(v):
        return torch.autograd.grad(g, x, grad_outputs=v, retain_graph=True)[0]

    v = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    v /= v.norm()
    for _ in range(num_iters):
        w = matvec(v)
        v = w / w.norm()
    return torch.dot(v, matvec(v)).detach()


# top_eigenvalue: wrong


def top_eigvalsh(loss_fn, theta, *, num_iters=100, generator):
    """No power iteration: the dominant eigenvalue of the full Hessian."""
    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, theta.detach()))
    return float(eig[eig.abs().argmax()])


def top_reseeds(loss_fn, theta, *, num_iters=100, generator):
    """Re-seeds the given generator "for reproducibility"."""
    generator.manual_seed(0)
    return ref.top_eigenvalue(loss_fn, theta, num_iters=num_iters, generator=generator)


def top_no_default(loss_fn, theta, num_iters, generator):
    """num_iters has no default."""
    return ref.top_eigenvalue(loss_fn, theta, num_iters=num_iters, generator=generator)


def top_returns_pair(loss_fn, theta, *, num_iters=100, generator):
    """Returns (eigenvalue, eigenvector)."""
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(v @ hv), v


def top_unnormalised(loss_fn, theta, *, num_iters=100, generator):
    """Never normalises v during the iteration."""
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / v.norm()
    for _ in range(num_iters):
        v = ref.hvp(loss_fn, theta, v)
    return float(v @ ref.hvp(loss_fn, theta, v))


def top_backward_on_theta(loss_fn, theta, *, num_iters=100, generator):
    """Uses an hvp that leaves its products in theta.grad, so they add up."""
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    _, hv = _power(loss_fn, theta, g / g.norm(), num_iters, matvec=hvp_backward_on_theta)
    v = hv / hv.norm()
    return float(v @ hvp_backward_on_theta(loss_fn, theta, v))


# classify_critical_point: correct


def cls_alt_minmax(eigenvalues, tol=1e-8):
    """Correct: only the smallest and largest eigenvalue matter."""
    values = [float(x) for x in eigenvalues]
    if len(values) == 0:
        raise ValueError("eigenvalues must not be empty")
    lo, hi = min(values), max(values)
    if hi > tol and lo < -tol:
        return "saddle"
    if lo > tol:
        return "minimum"
    if hi < -tol:
        return "maximum"
    return "degenerate"


def cls_alt_counts_torch(eigenvalues, tol=1e-8):
    """Correct: counts of positive and negative eigenvalues in a float64 tensor."""
    t = torch.as_tensor(np.asarray(eigenvalues, dtype=np.float64)).reshape(-1)
    if t.numel() == 0:
        raise ValueError("no eigenvalues")
    n_pos, n_neg = int((t > tol).sum()), int((t < -tol).sum())
    if n_pos and n_neg:
        return "saddle"
    if n_pos == t.numel():
        return "minimum"
    if n_neg == t.numel():
        return "maximum"
    return "degenerate"


def cls_alt_sign_set(eigenvalues, tol=1e-8):
    """Correct: the set of signs, in the default float32."""
    ev = torch.tensor([float(x) for x in eigenvalues])
    if ev.numel() == 0:
        raise ValueError("eigenvalues is empty")
    signs = set(torch.where(ev > tol, 1, torch.where(ev < -tol, -1, 0)).tolist())
    if {1, -1} <= signs:
        return "saddle"
    if signs == {1}:
        return "minimum"
    if signs == {-1}:
        return "maximum"
    return "degenerate"


def cls_alt_numpy_select(eigenvalues, tol=1e-8):
    """Right labels, but as a numpy string (np.select): see the xfail test at the end."""
    ev = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    if ev.size == 0:
        raise ValueError("eigenvalues must not be empty")
    pos, neg = (ev > tol).any(), (ev < -tol).any()
    return np.select(
        [pos and neg, (ev > tol).all(), (ev < -tol).all()],
        ["saddle", "minimum", "maximum"],
        default="degenerate",
    )[()]


# classify_critical_point: wrong


def cls_saddle_point(eigenvalues, tol=1e-8):
    """Answers "saddle point" (the key-term table's wording)."""
    out = ref.classify_critical_point(eigenvalues, tol)
    return "saddle point" if out == "saddle" else out


def cls_ignores_tol(eigenvalues, tol=1e-8):
    return ref.classify_critical_point(eigenvalues, 1e-8)


def cls_truthiness(eigenvalues, tol=1e-8):
    """`if not eigenvalues`: fine for lists, ambiguous for tensors and arrays."""
    if not eigenvalues:
        raise ValueError("no eigenvalues")
    return ref.classify_critical_point(eigenvalues, tol)


def cls_minimum_without_tol(eigenvalues, tol=1e-8):
    """Uses tol for saddles only: all(x > 0) for a minimum."""
    values = [float(x) for x in eigenvalues]
    if not values:
        raise ValueError("empty")
    if any(x > tol for x in values) and any(x < -tol for x in values):
        return "saddle"
    if all(x > 0 for x in values):
        return "minimum"
    if all(x < 0 for x in values):
        return "maximum"
    return "degenerate"


# rescale_hidden_units: correct


def resc_alt_deepcopy_inplace(params, layer_in, layer_out, c):
    """Correct: a deep copy changed in place (the input is untouched)."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = copy.deepcopy(params)
    w_in, w_out = out[f"{layer_in}.weight"], out[f"{layer_out}.weight"]
    with torch.no_grad():
        w_in.mul_(factors.to(w_in.dtype).unsqueeze(1))
        if f"{layer_in}.bias" in out:
            out[f"{layer_in}.bias"].mul_(factors.to(w_in.dtype))
        w_out.div_(factors.to(w_out.dtype).unsqueeze(0))
    return out


def resc_alt_einsum(params, layer_in, layer_out, c):
    """Correct: einsum with c and 1/c in each tensor's dtype, an OrderedDict out."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = OrderedDict()
    for key, value in params.items():
        f = factors.to(value.dtype)
        if key == f"{layer_in}.weight":
            out[key] = torch.einsum("i,ij->ij", f, value)
        elif key == f"{layer_in}.bias":
            out[key] = value * f
        elif key == f"{layer_out}.weight":
            out[key] = torch.einsum("ji,i->ji", value, f.reciprocal())
        else:
            out[key] = value.detach().clone()
    return out


def resc_alt_numpy(params, layer_in, layer_out, c):
    """Correct: numpy float64, cast back per tensor."""
    factors = _check_rescale(params, layer_in, layer_out, c).numpy()
    out = {}
    for key, value in params.items():
        a = value.detach().numpy().astype(np.float64)
        if key == f"{layer_in}.weight":
            a = a * factors[:, np.newaxis]
        elif key == f"{layer_in}.bias":
            a = a * factors
        elif key == f"{layer_out}.weight":
            a = a / factors[np.newaxis, :]
        out[key] = torch.from_numpy(a).to(value.dtype)
    return out


# rescale_hidden_units: wrong


def resc_broadcast_rows(params, layer_in, layer_out, c):
    """`w_in * c` without [:, None]: broadcasts c along the columns."""
    f = _check_rescale(params, layer_in, layer_out, c).to(params[f"{layer_in}.weight"].dtype)
    out = {k: v.clone() for k, v in params.items()}
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * f
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * f
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / f
    return out


def resc_allows_zero(params, layer_in, layer_out, c):
    """Rejects c < 0 but lets c = 0 through."""
    if (torch.as_tensor(c, dtype=torch.float64) < 0).any():
        raise ValueError("c must be >= 0")
    return resc_no_validation(params, layer_in, layer_out, c)


def resc_only_changed(params, layer_in, layer_out, c):
    """Returns only the rescaled tensors."""
    full = ref.rescale_hidden_units(params, layer_in, layer_out, c)
    keep = {f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"}
    return {k: v for k, v in full.items() if k in keep}


def resc_no_fit_check(params, layer_in, layer_out, c):
    """Checks the keys and c, never that layer_in's rows match layer_out's columns."""
    for key in (f"{layer_in}.weight", f"{layer_out}.weight"):
        if key not in params:
            raise ValueError(f"params has no {key!r}")
    f = torch.as_tensor(c, dtype=torch.float64)
    if (f <= 0).any():
        raise ValueError("c must be > 0")
    dt = params[f"{layer_in}.weight"].dtype
    f = f.to(dt)
    out = {k: v.clone() for k, v in params.items()}
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * (f[:, None] if f.dim() else f)
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * f
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / (f[None, :] if f.dim() else f)
    return out


def resc_float64_factors(params, layer_in, layer_out, c):
    """Multiplies by the float64 factors, so even a scalar c makes float64 results."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = dict(params)
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * factors[:, None]
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * factors
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / factors[None, :]
    return out


# filter_normalize: correct


def fn_alt_vector_norm(direction, theta):
    """Correct: torch.linalg.vector_norm over dims 1.., keepdim; d * 0.0 for dim ≤ 1."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.ndim <= 1:
            out[k] = d * 0.0
            continue
        dims = tuple(range(1, d.ndim))
        d_norm = torch.linalg.vector_norm(d, dim=dims, keepdim=True)
        t_norm = torch.linalg.vector_norm(theta[k], dim=dims, keepdim=True)
        out[k] = d / (d_norm + 1e-10) * t_norm
    return out


def fn_alt_row_assign(direction, theta):
    """Correct: a clone whose rows are assigned one by one, an OrderedDict out."""
    _check_same(direction, theta)
    out = OrderedDict()
    for k, d in direction.items():
        if d.dim() < 2:
            out[k] = torch.zeros(d.shape, dtype=d.dtype)
            continue
        new = d.clone()
        for i in range(d.shape[0]):
            new[i] = d[i] * (theta[k][i].norm() / (d[i].norm() + 1e-10))
        out[k] = new
    return out


def fn_alt_float64_einsum(direction, theta):
    """Correct: norms by einsum in float64, cast back."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        D = d.reshape(d.shape[0], -1).to(torch.float64)
        T = theta[k].reshape(d.shape[0], -1).to(torch.float64)
        d_norm = torch.einsum("ij,ij->i", D, D).sqrt()
        t_norm = torch.einsum("ij,ij->i", T, T).sqrt()
        out[k] = (D * (t_norm / (d_norm + 1e-10))[:, None]).reshape(d.shape).to(d.dtype)
    return out


def fn_alt_theta_order(direction, theta):
    """Correct: iterates over theta's keys and looks the direction up by key."""
    _check_same(direction, theta)
    out = {}
    for k, t in theta.items():
        d = direction[k]
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            scale = t.flatten(1).norm(dim=1) / (d.flatten(1).norm(dim=1) + 1e-10)
            out[k] = d * scale.view(-1, *([1] * (d.dim() - 1)))
    return out


def fn_alt_strict_order(direction, theta):
    """Correct (strict): rejects another key order with a ValueError, which is safe."""
    if list(direction) != list(theta):
        raise ValueError("direction and theta must list the same keys in the same order")
    return fn_alt_vector_norm(direction, theta)


# filter_normalize: wrong


def fn_f_normalize(direction, theta):
    """F.normalize divides by max(‖d_i‖, eps), not by ‖d_i‖ + eps."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        unit = torch.nn.functional.normalize(d.flatten(1), dim=1, eps=1e-10)
        out[k] = (unit * theta[k].flatten(1).norm(dim=1, keepdim=True)).reshape(d.shape)
    return out


def fn_normalises_biases(direction, theta):
    """Normalises 1-D tensors as one filter each instead of zeroing them."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() == 0:
            out[k] = torch.zeros_like(d)
        elif d.dim() == 1:
            out[k] = d * theta[k].norm() / (d.norm() + 1e-10)
        else:
            out[k] = _per_filter(d, theta[k])
    return out


def fn_bias_by_name(direction, theta):
    """Zeroes the keys named "bias" only: norm-layer vectors and scalars get normalised."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if k.endswith("bias"):
            out[k] = torch.zeros_like(d)
            continue
        rows = d.reshape(d.shape[0] if d.dim() else 1, -1)
        t_rows = theta[k].reshape(rows.shape)
        scale = t_rows.norm(dim=1, keepdim=True) / (rows.norm(dim=1, keepdim=True) + 1e-10)
        out[k] = (rows * scale).reshape(d.shape)
    return out


def fn_norm_dim1(direction, theta):
    """Norms over dim 1 only: right for matrices, wrong for convolutions."""
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d)
        if d.dim() <= 1
        else d * theta[k].norm(dim=1, keepdim=True) / (d.norm(dim=1, keepdim=True) + 1e-10)
        for k, d in direction.items()
    }


def _scaled_filters(direction, theta, scale):
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        shape = (-1, *([1] * (d.dim() - 1)))
        d_norm = d.flatten(1).norm(dim=1).reshape(shape)
        t_norm = theta[k].flatten(1).norm(dim=1).reshape(shape)
        out[k] = d * scale(d_norm, t_norm)
    return out


def fn_unit_filters(direction, theta):
    """Unit filters, never multiplied by theta's filter norms."""
    return _scaled_filters(direction, theta, lambda dn, tn: 1 / (dn + 1e-10))


def fn_inverted(direction, theta):
    """‖d_i‖ / ‖theta_i‖: the ratio upside down."""
    return _scaled_filters(direction, theta, lambda dn, tn: dn / (tn + 1e-10))


def fn_by_position(direction, theta):
    """Pairs direction's and theta's tensors by position (zip of the values)."""
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d) if d.dim() <= 1 else _per_filter(d, t)
        for (k, d), t in zip(direction.items(), theta.values())
    }


# loss_surface: correct


def surf_alt_xy_transposed(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: meshgrid with indexing='xy' (betas along rows), filled, then transposed."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float64))
    b = torch.as_tensor(np.asarray(betas, dtype=np.float64))
    A, B = torch.meshgrid(a, b, indexing="xy")
    x = theta.detach()
    Z = torch.empty(A.shape, dtype=theta.dtype)
    with torch.no_grad():
        for j in range(A.shape[0]):
            for i in range(A.shape[1]):
                Z[j, i] = loss_fn(x + float(A[j, i]) * d1 + float(B[j, i]) * d2)
    return Z.T


def surf_alt_product_numpy(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: itertools.product in row-major order, numpy reshape, theta's dtype."""
    if d1.shape != theta.shape or d2.shape != theta.shape:
        raise ValueError("d1 and d2 must have theta's shape")
    a = [float(t) for t in alphas]
    b = [float(t) for t in betas]
    x = theta.detach()
    with torch.no_grad():
        values = [loss_fn(x + ai * d1 + bj * d2).item() for ai, bj in itertools.product(a, b)]
    return torch.from_numpy(np.array(values).reshape(len(a), len(b))).to(theta.dtype)


def surf_alt_vmap_rows(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: one vmap per alpha over all betas."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    b = torch.as_tensor(betas).to(theta.dtype)
    x = theta.detach()
    rows = []
    with torch.no_grad():
        for a in alphas:
            rows.append(torch.func.vmap(loss_fn)(x + float(a) * d1 + b[:, None] * d2))
    return torch.stack(rows)


def surf_alt_ij_grid_flat(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: meshgrid(indexing='ij'), flattened, evaluated, reshaped back."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    a = torch.tensor([float(t) for t in alphas], dtype=theta.dtype)
    b = torch.tensor([float(t) for t in betas], dtype=theta.dtype)
    A, B = torch.meshgrid(a, b, indexing="ij")
    x = theta.detach()
    with torch.no_grad():
        flat = [loss_fn(x + ai * d1 + bj * d2) for ai, bj in zip(A.flatten(), B.flatten())]
    return torch.stack(flat).reshape(A.shape)


# loss_surface: wrong


def surf_xy_reshaped(loss_fn, theta, d1, d2, alphas, betas):
    """meshgrid's default 'xy' layout flattened, then reshaped as if it were 'ij'."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    a = torch.tensor([float(t) for t in alphas], dtype=theta.dtype)
    b = torch.tensor([float(t) for t in betas], dtype=theta.dtype)
    A, B = torch.meshgrid(a, b, indexing="xy")
    x = theta.detach()
    with torch.no_grad():
        flat = [loss_fn(x + ai * d1 + bj * d2) for ai, bj in zip(A.flatten(), B.flatten())]
    return torch.stack(flat).reshape(len(a), len(b))


def surf_numpy(loss_fn, theta, d1, d2, alphas, betas):
    """Returns a numpy array (ready for matplotlib)."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    with torch.no_grad():
        return np.array(
            [[float(loss_fn(theta.detach() + a * d1 + b * d2)) for b in betas] for a in alphas]
        )


def surf_normalises_directions(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1 / d1.norm(), d2 / d2.norm(), alphas, betas)


def surf_in_place(loss_fn, theta, d1, d2, alphas, betas):
    """Moves theta in place and back: rounding leaves it changed."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    Z = torch.empty(len(alphas), len(betas), dtype=theta.dtype)
    with torch.no_grad():
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                step = a * d1 + b * d2
                theta.add_(step)
                Z[i, j] = loss_fn(theta)
                theta.sub_(step)
    return Z


def surf_always_float64(loss_fn, theta, d1, d2, alphas, betas):
    """Always float64, whatever theta's dtype."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    x = theta.detach()
    with torch.no_grad():
        return torch.tensor(
            [[float(loss_fn(x + float(a) * d1 + float(b) * d2)) for b in betas] for a in alphas],
            dtype=torch.float64,
        )


# ---------------------------------------------------------------------------------------------
# the tables

WRONG = [
    # hvp
    ("hvp", hvp_finite_difference, r"\[exact: .*differs in", ["exact"]),
    ("hvp", hvp_no_zero_guard, r"raised RuntimeError.*Hessian is zero", ["zero_hessian"]),
    (
        "hvp",
        hvp_sets_requires_grad,
        r"theta\.requires_grad changed from False to True",
        ["requires_grad"],
    ),
    (
        "hvp",
        hvp_turns_off_requires_grad,
        r"theta\.requires_grad changed from True to False",
        ["requires_grad"],
    ),
    ("hvp", hvp_gradient, r"result of `hvp` differs", ["basic"]),
    ("hvp", hvp_no_validation, r"instead of raising ValueError|must raise ValueError", ["errors"]),
    # rademacher_probes
    ("rademacher_probes", rad_global, r"global random generator", ["generator"]),
    ("rademacher_probes", rad_int, r"dtype torch\.int64.*floats", ["basic"]),
    ("rademacher_probes", rad_with_zero, r"not exactly \+1\.0 or -1\.0.*is 0\.0", ["basic"]),
    ("rademacher_probes", rad_transposed, r"shape \(7, 4\).*\(transposed\?\)", ["basic"]),
    (
        "rademacher_probes",
        rad_biased,
        r"70\.\d% of the 100000 entries.*probability 1/2",
        ["balance"],
    ),
    ("rademacher_probes", rad_own_generator, r"left `generator` untouched", ["generator"]),
    ("rademacher_probes", rad_own_generator, r"seeded 8 and 9 gave identical", ["determinism"]),
    ("rademacher_probes", rad_copies_seed, r"left `generator` untouched", ["generator"]),
    # hutchinson_trace
    ("hutchinson_trace", hutch_sum, r"8 times too large.*1/num_probes", ["basic"]),
    ("hutchinson_trace", hutch_exact_trace, r"exact trace tr H", ["basic", "probes"]),
    (
        "hutchinson_trace",
        hutch_no_validation,
        r"instead of raising ValueError|must raise ValueError",
        ["errors"],
    ),
    ("hutchinson_trace", hutch_no_zero_guard, r"linear loss.*raised RuntimeError", ["probes"]),
    (
        "hutchinson_trace",
        hutch_sets_requires_grad,
        r"theta\.requires_grad changed from False to True",
        ["no_mutation"],
    ),
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
    # top_eigenvalue
    (
        "top_eigenvalue",
        top_norm,
        r"expected .* -6, got 6.*wrong sign.*Rayleigh quotient",
        ["negative"],
    ),
    ("top_eigenvalue", top_global, r"global random generator", ["generator"]),
    ("top_eigenvalue", top_fixed_iters, r"num_iters seems to be ignored", ["num_iters"]),
    ("top_eigenvalue", top_own_generator, r"left `generator` untouched", ["generator"]),
    ("top_eigenvalue", top_ones_start, r"left `generator` untouched", ["generator"]),
    (
        "top_eigenvalue",
        top_sets_requires_grad,
        r"theta\.requires_grad changed from True to False",
        ["no_mutation"],
    ),
    # classify_critical_point
    ("classify_critical_point", cls_no_tol, r"5e-9 counts as zero.*expected 'degenerate'", ["tol"]),
    (
        "classify_critical_point",
        cls_degenerate_first,
        r"\[1, 0, -1\].*expected 'saddle', got 'degenerate'",
        ["basic"],
    ),
    (
        "classify_critical_point",
        cls_empty_minimum,
        r"returned 'minimum' instead of raising",
        ["errors"],
    ),
    (
        "classify_critical_point",
        cls_vectorised,
        r"a numpy array.*raised|a tuple.*raised",
        ["inputs"],
    ),
    ("classify_critical_point", cls_capitalised, r"expected 'minimum', got 'Minimum'", ["basic"]),
    # rescale_hidden_units
    ("rescale_hidden_units", resc_scales_out_bias, r"'2\.bias' was changed", ["biases"]),
    ("rescale_hidden_units", resc_inverse, r"you used 1/c", ["basic"]),
    ("rescale_hidden_units", resc_in_bias_not_scaled, r"'0\.bias' was not scaled", ["basic"]),
    ("rescale_hidden_units", resc_bias_required, r"no '0\.bias' key.*raised KeyError", ["biases"]),
    ("rescale_hidden_units", resc_multiplies_out, r"different function", ["function"]),
    (
        "rescale_hidden_units",
        resc_promotes_dtype,
        r"dtype torch\.float64, expected torch\.float32.*keep the params' dtype",
        ["per_unit"],
    ),
    (
        "rescale_hidden_units",
        resc_in_place,
        r"params\['0\.weight'\] was modified in place",
        ["no_mutation"],
    ),
    (
        "rescale_hidden_units",
        resc_no_validation,
        r"c = 0.*instead of raising ValueError",
        ["errors"],
    ),
    # filter_normalize
    ("filter_normalize", fn_whole_tensor, r"as a whole", ["basic"]),
    ("filter_normalize", fn_per_column, r"normalised the columns", ["basic"]),
    ("filter_normalize", fn_keeps_biases, r"still the raw direction", ["basic"]),
    ("filter_normalize", fn_no_eps, r"all zeros stays zero.*NaN.*1e-10", ["zeros"]),
    (
        "filter_normalize",
        fn_in_place,
        r"direction\['0\.weight'\] was modified in place",
        ["no_mutation"],
    ),
    # loss_surface
    (
        "loss_surface",
        surf_transposed,
        r"shape \(4, 3\), expected \(3, 4\) \(transposed\?\)",
        ["basic"],
    ),
    ("loss_surface", surf_no_theta, r"must pass through theta", ["basic"]),
    ("loss_surface", surf_swapped_directions, r"swaps the directions", ["basic"]),
    ("loss_surface", surf_with_grad, r"requires grad", ["gradients"]),
    (
        "loss_surface",
        surf_default_dtype,
        r"dtype torch\.float32, expected torch\.float64",
        ["conventions"],
    ),
    ("loss_surface", surf_no_validation, r"d1 has 5 entries.*ValueError", ["errors"]),
    # second round: hvp
    ("hvp", hvp_tuple, r"should be a torch\.Tensor, got tuple of length 2", ["basic"]),
    ("hvp", hvp_ones, r"differs in .*Your result is H·1.*grad_outputs=v", ["basic"]),
    ("hvp", hvp_float64, r"dtype torch\.float64, expected torch\.float32", ["basic"]),
    ("hvp", hvp_forward_difference, r"\[exact: .*large gradient.*differs in", ["exact"]),
    ("hvp", hvp_unit_v, r"Your result is H·\(v / ‖v‖\)", ["basic"]),
    ("hvp", hvp_backward_on_theta, r"left a gradient in theta\.grad", ["requires_grad"]),
    ("hvp", hvp_zeroes_v_in_place, r"linear loss.*v was modified in place", ["zero_hessian"]),
    # second round: rademacher_probes
    ("rademacher_probes", rad_zero_one, r"not exactly \+1\.0 or -1\.0.*is 0\.0", ["basic"]),
    ("rademacher_probes", rad_gaussian, r"not exactly \+1\.0 or -1\.0", ["basic"]),
    ("rademacher_probes", rad_manual_seed, r"global random generator", ["generator"]),
    (
        "rademacher_probes",
        rad_same_row,
        r"all 200 probes \(rows\) are the same vector",
        ["balance"],
    ),
    (
        "rademacher_probes",
        rad_same_sign_per_probe,
        r"neighbouring entries agree.*independently",
        ["balance"],
    ),
    ("rademacher_probes", rad_bool, r"dtype torch\.bool.*floats \+1\.0 and -1\.0", ["basic"]),
    (
        "rademacher_probes",
        rad_reseeds,
        r"same state \(seed 8\) returned different probes",
        ["determinism"],
    ),
    # second round: hutchinson_trace
    ("hutchinson_trace", hutch_mean_all_entries, r"divided by dim = 6", ["basic"]),
    ("hutchinson_trace", hutch_own_probes, r"drew from torch's global random", ["basic"]),
    ("hutchinson_trace", hutch_normalises_probes, r"divided by dim.*unit length", ["basic"]),
    ("hutchinson_trace", hutch_normalises_probes, r"probes was modified in place", ["no_mutation"]),
    ("hutchinson_trace", hutch_sum_hv, r"1ᵀHv.*multiply Hv by v", ["basic"]),
    ("hutchinson_trace", hutch_first_probe, r"first probe only.*all 8 probes", ["basic"]),
    ("hutchinson_trace", hutch_abs, r"saddle.*expected -5\.9.*wrong sign", ["probes"]),
    ("hutchinson_trace", hutch_clamped, r"clamps the negative values", ["basic"]),
    ("hutchinson_trace", hutch_n_minus_one, r"num_probes − 1 = 7", ["basic"]),
    (
        "hutchinson_trace",
        hutch_backward_on_theta,
        r"left a gradient in theta\.grad",
        ["no_mutation"],
    ),
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
    # second round: top_eigenvalue
    ("top_eigenvalue", top_eigvalsh, r"num_iters seems to be ignored", ["num_iters"]),
    ("top_eigenvalue", top_reseeds, r"seeded 20 and 21 gave the same result", ["generator"]),
    ("top_eigenvalue", top_no_default, r"raised TypeError.*'num_iters'", ["basic"]),
    ("top_eigenvalue", top_returns_pair, r"should be a float, got tuple of length 2", ["basic"]),
    ("top_eigenvalue", top_unnormalised, r"largest magnitude 5, got \d.*e\+", ["basic"]),
    ("top_eigenvalue", top_backward_on_theta, r"left a gradient in theta\.grad", ["no_mutation"]),
    # second round: classify_critical_point
    (
        "classify_critical_point",
        cls_saddle_point,
        r"expected 'saddle', got 'saddle point'",
        ["basic"],
    ),
    (
        "classify_critical_point",
        cls_ignores_tol,
        r"tol 0\.5: \[0\.3, 2\].*expected 'degenerate', got 'minimum'",
        ["tol"],
    ),
    ("classify_critical_point", cls_truthiness, r"float32 tensor.*raised RuntimeError", ["inputs"]),
    (
        "classify_critical_point",
        cls_minimum_without_tol,
        r"5e-9 counts as zero.*expected 'degenerate', got 'minimum'",
        ["tol"],
    ),
    # second round: rescale_hidden_units
    (
        "rescale_hidden_units",
        resc_broadcast_rows,
        r"raised RuntimeError.*size of tensor",
        ["basic"],
    ),
    ("rescale_hidden_units", resc_allows_zero, r"c = 0.*instead of raising ValueError", ["errors"]),
    ("rescale_hidden_units", resc_only_changed, r"wrong keys: missing \['2\.bias'", ["basic"]),
    (
        "rescale_hidden_units",
        resc_no_fit_check,
        r"do not fit.*instead of raising ValueError",
        ["errors"],
    ),
    (
        "rescale_hidden_units",
        resc_float64_factors,
        r"c = 2\.0.*dtype torch\.float64, expected torch\.float32",
        ["basic"],
    ),
    # second round: filter_normalize
    ("filter_normalize", fn_f_normalize, r"norm 1e-9.*max\(‖d_i‖, eps\)", ["zeros"]),
    ("filter_normalize", fn_normalises_biases, r"'0\.bias' \(dim ≤ 1\) is not zero", ["basic"]),
    ("filter_normalize", fn_bias_by_name, r"'norm\.weight' \(dim ≤ 1\) is not zero", ["zeros"]),
    ("filter_normalize", fn_norm_dim1, r"4-D convolution.*over dim 1 only", ["filters"]),
    ("filter_normalize", fn_unit_filters, r"has norm 1.*by ‖theta_i‖", ["basic"]),
    ("filter_normalize", fn_inverted, r"ratio is upside down", ["basic"]),
    ("filter_normalize", fn_by_position, r"another order.*paired .* by position", ["basic"]),
    # second round: loss_surface
    ("loss_surface", surf_xy_reshaped, r"wrong order.*indexing='xy'", ["basic"]),
    ("loss_surface", surf_numpy, r"should be a torch\.Tensor, got .*numpy\.ndarray", ["basic"]),
    ("loss_surface", surf_normalises_directions, r"normalised d1 and d2", ["basic"]),
    ("loss_surface", surf_transposed, r"3 × 3|Your surface is transposed", ["no_mutation"]),
    ("loss_surface", surf_in_place, r"theta was modified in place", ["no_mutation"]),
    (
        "loss_surface",
        surf_always_float64,
        r"float32 theta.*dtype torch\.float64, expected torch\.float32",
        ["conventions"],
    ),
]

CORRECT = [
    ("hvp", hvp_alt_func),
    ("hvp", hvp_alt_full_hessian),
    ("hvp", hvp_alt_functional),
    ("rademacher_probes", rad_alt_sign),
    ("rademacher_probes", rad_alt_bernoulli),
    ("hutchinson_trace", hutch_alt_full_hessian),
    ("hutchinson_trace", hutch_alt_loop),
    ("expected_loss_increase", eli_alt_numpy),
    ("perturbed_loss_increase", pli_alt_vmap),
    ("perturbed_loss_increase", pli_alt_float64),
    ("spectrum_trace", spec_alt_loop),
    ("spectrum_trace", spec_alt_torch),
    ("top_eigenvalue", top_alt_func),
    ("top_eigenvalue", top_alt_rayleigh_each_step),
    ("classify_critical_point", cls_alt_numpy),
    ("rescale_hidden_units", resc_alt_diag),
    ("rescale_hidden_units", resc_alt_loop),
    ("filter_normalize", fn_alt_loop),
    ("filter_normalize", fn_alt_numpy),
    ("loss_surface", surf_alt_vmap),
    ("loss_surface", surf_alt_loop),
    # second round
    ("hvp", hvp_alt_vhp),
    ("hvp", hvp_alt_vjp_of_grad),
    ("hvp", hvp_alt_grad_of_dot),
    ("hvp", hvp_alt_func_hessian64),
    ("hvp", hvp_alt_backward),
    ("rademacher_probes", rad_alt_rand_threshold),
    ("rademacher_probes", rad_alt_row_loop),
    ("rademacher_probes", rad_alt_bernoulli_inplace),
    ("rademacher_probes", rad_alt_numpy_seeded),
    ("rademacher_probes", rad_alt_randint_float_dtype),
    ("hutchinson_trace", hutch_alt_func_hessian),
    ("hutchinson_trace", hutch_alt_vmap_jvp),
    ("hutchinson_trace", hutch_alt_second_directional),
    ("hutchinson_trace", hutch_alt_retain_graph),
    ("hutchinson_trace", hutch_alt_numpy),
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
    ("top_eigenvalue", top_alt_early_stop),
    ("top_eigenvalue", top_alt_maxnorm),
    ("top_eigenvalue", top_alt_float64),
    ("top_eigenvalue", top_alt_graph_once),
    ("classify_critical_point", cls_alt_minmax),
    ("classify_critical_point", cls_alt_counts_torch),
    ("classify_critical_point", cls_alt_sign_set),
    ("rescale_hidden_units", resc_alt_deepcopy_inplace),
    ("rescale_hidden_units", resc_alt_einsum),
    ("rescale_hidden_units", resc_alt_numpy),
    ("filter_normalize", fn_alt_vector_norm),
    ("filter_normalize", fn_alt_row_assign),
    ("filter_normalize", fn_alt_float64_einsum),
    ("filter_normalize", fn_alt_theta_order),
    ("filter_normalize", fn_alt_strict_order),
    ("loss_surface", surf_alt_xy_transposed),
    ("loss_surface", surf_alt_product_numpy),
    ("loss_surface", surf_alt_vmap_rows),
    ("loss_surface", surf_alt_ij_grid_flat),
]

NAMES = [
    "hvp",
    "rademacher_probes",
    "hutchinson_trace",
    "expected_loss_increase",
    "perturbed_loss_increase",
    "spectrum_trace",
    "top_eigenvalue",
    "classify_critical_point",
    "rescale_hidden_units",
    "filter_normalize",
    "loss_surface",
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
    """The tables above cover every graded function of notebook 02."""
    assert len({w[1] for w in WRONG if w[0] == name}) >= 5
    assert len({c[1] for c in CORRECT if c[0] == name}) >= 4
    assert 3 <= len(parts(name)) <= 6


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


def test_every_part_is_fast_for_the_reference():
    """All parts of a function take well under 2 s for the reference."""
    import time

    import solutions

    for name in NAMES:
        start = time.perf_counter()
        assert_passes_all(name, getattr(solutions, name))
        assert time.perf_counter() - start < 2.0, name


# ---------------------------------------------------------------------------------------------
# the inputs themselves


def test_top_eigenvalue_cases_have_a_clear_gap():
    """Every spectrum used by top_eigenvalue has |λ2| / |λ1| ≤ EIGEN_MAX_GAP_RATIO."""
    for part in parts("top_eigenvalue"):
        for case in cases("top_eigenvalue", part):
            eig = checks.hessian_eigenvalues(*materialize(case.args))
            mags = eig.abs().sort(descending=True).values
            assert float(mags[1] / mags[0]) <= checks.EIGEN_MAX_GAP_RATIO, case.label


def test_num_iters_spectrum_cannot_converge_in_one_step():
    """From any Gaussian start, one power step stays NUM_ITERS_SPREAD below λ1 (20 000 draws)."""
    lam = torch.tensor(checks.NUM_ITERS_SPECTRUM, dtype=torch.float64)
    c2 = (
        torch.randn(
            20_000, lam.numel(), generator=torch.Generator().manual_seed(0), dtype=torch.float64
        )
        ** 2
    )
    after_one = (c2 * lam**3).sum(1) / (c2 * lam**2).sum(1)
    assert float(after_one.max()) < lam.max() * (1 - 3 * checks.NUM_ITERS_SPREAD)


def test_curved_loss_has_the_documented_hessian():
    """The curved loss's Hessian is A_sym + 2(uᵀθ)uuᵀ + diag(exp(cθ)) (closed form vs autograd)."""
    gen = torch.Generator().manual_seed(1)
    A = torch.randn(4, 4, generator=gen, dtype=torch.float64)
    u = torch.randn(4, generator=gen, dtype=torch.float64)
    theta = torch.randn(4, generator=gen, dtype=torch.float64)
    loss_fn = materialize(Build("curved_loss", {"A": A, "u": u, "c": 3.0}))
    H = torch.autograd.functional.hessian(loss_fn, theta)
    closed = (A + A.T) / 2 + 2 * (u @ theta) * torch.outer(u, u) + torch.diag(torch.exp(3 * theta))
    torch.testing.assert_close(H, closed)


def test_constant_loss_ignores_theta():
    loss_fn = materialize(Build("constant_loss", {"value": 2.5}))
    out = loss_fn(torch.randn(3, dtype=torch.float64))
    assert out.dtype == torch.float64 and float(out) == 2.5 and not out.requires_grad


def test_generator_state_probe_records_the_state_after_the_call():
    """The probe records the generator's state after the call, by keyword or by position."""
    fresh = torch.Generator().manual_seed(5).get_state()
    by_name = Case(
        "kw",
        (),
        {"generator": Build("generator", {"seed": 5})},
        post=Build("generator_state_probe", {"name": "generator"}),
    )
    untouched = run_case(lambda generator: 0, by_name)
    assert torch.equal(untouched.probe["generator_state"], fresh)
    drawn = run_case(lambda generator: torch.rand(1, generator=generator), by_name)
    assert not torch.equal(drawn.probe["generator_state"], fresh)
    by_position = Case(
        "pos",
        (3, Build("generator", {"seed": 5})),
        post=Build("generator_state_probe", {"arg": 1}),
    )
    outcome = run_case(lambda n, g: torch.rand(n, generator=g), by_position)
    assert not torch.equal(outcome.probe["generator_state"], fresh)
    missing = run_case(lambda n: n, Case("none", (3,), post=Build("generator_state_probe", {})))
    assert "generator_error" in missing.probe


def test_rescale_function_check_uses_an_independent_forward_pass():
    """`network_output` agrees with the nn.Sequential it mirrors."""
    import landscape_lab

    model = landscape_lab.make_mlp(hidden=(4, 3), out_dim=2, seed=3)
    X = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(X).to(torch.float64)
    torch.testing.assert_close(
        checks.network_output(landscape_lab.params_of(model), X), expected, rtol=1e-5, atol=1e-6
    )


def test_input_grad_probe_records_a_gradient_left_in_theta():
    """The probe flags a non-zero theta.grad after the call, not a cleared or zeroed one."""
    case = Case(
        "grad",
        (None, Build("leaf_tensor", {"values": torch.ones(3)})),
        post=Build("input_grad_probe", {"arg": 1}),
    )

    def leaves_grad(_, theta):
        (theta * 2.0).sum().backward()

    def clears_grad(_, theta):
        (theta * 2.0).sum().backward()
        theta.grad = None

    def zeroes_grad(_, theta):
        (theta * 2.0).sum().backward()
        theta.grad.zero_()

    assert run_case(leaves_grad, case).probe["grad_left"] is True
    assert run_case(clears_grad, case).probe["grad_left"] is False
    assert run_case(zeroes_grad, case).probe["grad_left"] is False
    assert run_case(lambda _, theta: None, case).probe["grad_left"] is False


def test_hutchinson_checks_include_a_negative_estimate():
    """A saddle's estimate is negative, so abs() or clamping at 0 cannot pass."""
    values = [
        ref.hutchinson_trace(*materialize(case.args))
        for case in cases("hutchinson_trace", "probes")
    ]
    assert min(values) < -1.0


def test_filter_normalize_checks_reorder_theta_keys():
    """Some case gives theta the direction's keys in another order, with equal-shape pairs."""
    reordered = [
        case
        for part in parts("filter_normalize")
        for case in cases("filter_normalize", part)
        if isinstance(case.args[0], dict)
        and isinstance(case.args[1], dict)
        and set(case.args[0]) == set(case.args[1])
        and list(case.args[0]) != list(case.args[1])
    ]
    assert reordered
    direction, theta = reordered[0].args
    assert all(d.shape == t.shape for d, t in zip(direction.values(), theta.values()))


def test_a_numpy_string_label_is_accepted():
    """np.select returns np.str_ labels; the spec accepts numpy scalars for scalar results,
    in process and across the sandbox wire."""
    from autograder.sandbox import wire

    assert_passes_all("classify_critical_point", cls_alt_numpy_select)
    label = wire.decode(wire.encode(np.str_("saddle")))
    assert type(label) is np.str_ and label == "saddle"
