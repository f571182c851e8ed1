"""The hidden checks of notebook 02 grade well.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in test_checks_registry.py.)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from autograder.checks import REGISTRY, Build, Case, cases, parts
from autograder.checks import landscape_geometry as checks
from autograder.checks.call import materialize, run_case
from solutions import landscape_geometry as ref
from tests.checks_support import assert_fails, assert_passes_all

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
def test_every_function_has_three_wrong_and_one_correct_implementation(name):
    """The tables above cover every graded function of notebook 02."""
    assert len({w[1] for w in WRONG if w[0] == name}) >= 3
    assert any(c[0] == name for c in CORRECT)
    assert 3 <= len(parts(name)) <= 6


def test_a_slow_spectrum_trace_times_out(monkeypatch):
    """Exact rational arithmetic is correct for small dim but far too slow for dim = 10^7."""
    monkeypatch.setattr(REGISTRY["spectrum_trace"], "timeout", 1.0)
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
