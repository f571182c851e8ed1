"""The hidden checks of notebook 02, sections 1–2 (curvature: Hessian-vector products; the trace
without the matrix), grade well: `hvp`, `rademacher_probes` and `hutchinson_trace`.

The implementations come in two rounds (the second added when the checks were hardened);
the tables at the end list which fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import parts
from solutions import landscape_geometry as ref
from tests.course.checks.landscape_geometry.helpers import (
    _double_backward,
    _func_hvp,
    _like_theta,
    _rows,
    hvp_backward_on_theta,
)
from tests.course.checks.support import assert_fails, assert_passes_all

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


# hvp: correct (second round of hardening)


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


# hvp: wrong (second round of hardening)


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


def hvp_zeroes_v_in_place(loss_fn, theta, v):
    """For a zero Hessian returns v.mul_(0): the right value, but v is wiped."""
    _like_theta(v, theta)
    x = theta.detach().clone().requires_grad_(True)
    loss = loss_fn(x)
    g = torch.autograd.grad(loss, x, create_graph=True)[0] if loss.requires_grad else None
    if g is None or not g.requires_grad:
        return v.mul_(0)
    return torch.autograd.grad(g, x, grad_outputs=v)[0]


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


# rademacher_probes: correct (second round of hardening)


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


# rademacher_probes: wrong (second round of hardening)


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


# hutchinson_trace: correct (second round of hardening)


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


# hutchinson_trace: wrong (second round of hardening)


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
]

CORRECT = [
    ("hvp", hvp_alt_func),
    ("hvp", hvp_alt_full_hessian),
    ("hvp", hvp_alt_functional),
    ("rademacher_probes", rad_alt_sign),
    ("rademacher_probes", rad_alt_bernoulli),
    ("hutchinson_trace", hutch_alt_full_hessian),
    ("hutchinson_trace", hutch_alt_loop),
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
]

NAMES = [
    "hvp",
    "rademacher_probes",
    "hutchinson_trace",
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
