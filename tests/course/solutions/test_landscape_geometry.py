"""Tests of the reference solutions of notebook 02 (solutions/landscape_geometry/).

Every expected value comes from an independent oracle: quadratic losses 0.5·θᵀAθ + bᵀθ whose
Hessian is A, `torch.autograd.functional.hessian` of small tanh/softplus networks, all 2^d sign
vectors (which make Hutchinson's estimate exact), `torch.linalg.eigvalsh`, `math.fsum` and closed
forms for the spectrum sums, per-filter loops, direct double loops of `loss_fn` calls, the seed's
worked example 2, and hand-made eigenvalue lists. No test compares a function with itself.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from solutions.landscape_geometry import (
    FILTER_NORM_EPS,
    classify_critical_point,
    expected_loss_increase,
    filter_normalize,
    hutchinson_trace,
    hvp,
    loss_surface,
    perturbed_loss_increase,
    rademacher_probes,
    rescale_hidden_units,
    spectrum_trace,
    top_eigenvalue,
)

FAST = settings(max_examples=40, deadline=None)
F64_TOL = 1e-10  # float64 autodiff vs an oracle
F32_TOL = 1e-5  # float32 batched vs unbatched evaluation
EULER_GAMMA = 0.57721566490153286060651209


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models run fastest on one thread; several threads thrash on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------------------------
# Oracles and fixtures
# --------------------------------------------------------------------------------------------


def quadratic(A: torch.Tensor, b: torch.Tensor):
    """L(θ) = 0.5·θᵀAθ + bᵀθ: gradient Aθ + b, Hessian A (A symmetric)."""

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return 0.5 * theta @ (A @ theta) + b @ theta

    return loss_fn


def random_symmetric(d: int, seed: int, eigenvalues=None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if eigenvalues is None:
        M = torch.randn(d, d, generator=g, dtype=torch.float64)
        return (M + M.T) / 2
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return Q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ Q.T


class FlatMLP:
    """A small smooth MLP (tanh or softplus) on fixed data, and its flat loss theta -> CE."""

    def __init__(
        self,
        act: type[nn.Module] = nn.Tanh,
        hidden: int = 3,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        n: int = 12,
    ) -> None:
        torch.manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(2, hidden), act(), nn.Linear(hidden, 3)).to(dtype)
        g = torch.Generator().manual_seed(seed + 100)
        self.X = torch.randn(n, 2, generator=g, dtype=torch.float64).to(dtype)
        self.y = torch.randint(0, 3, (n,), generator=g)
        self.names = [k for k, _ in self.model.named_parameters()]
        self.shapes = [p.shape for _, p in self.model.named_parameters()]
        self.theta = torch.cat([p.detach().reshape(-1) for p in self.model.parameters()])

    def loss_fn(self, theta: torch.Tensor) -> torch.Tensor:
        params, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            n = math.prod(shape)
            params[name] = theta[offset : offset + n].reshape(shape)
            offset += n
        return F.cross_entropy(functional_call(self.model, params, (self.X,)), self.y)

    def hessian(self) -> torch.Tensor:
        return torch.autograd.functional.hessian(self.loss_fn, self.theta.clone())


@pytest.fixture(scope="module")
def mlp() -> FlatMLP:
    return FlatMLP()


def all_sign_vectors(d: int, dtype=torch.float64) -> torch.Tensor:
    return torch.tensor(list(itertools.product((-1.0, 1.0), repeat=d)), dtype=dtype)


# --------------------------------------------------------------------------------------------
# hvp
# --------------------------------------------------------------------------------------------


@FAST
@given(d=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_hvp_of_quadratic_is_A_times_v(d, seed):
    """For 0.5·θᵀAθ + bᵀθ the Hessian is A at every θ, so hvp returns A v."""
    A = random_symmetric(d, seed)
    g = torch.Generator().manual_seed(seed + 1)
    b, theta, v = (torch.randn(d, generator=g, dtype=torch.float64) for _ in range(3))
    got = hvp(quadratic(A, b), theta, v)
    torch.testing.assert_close(got, A @ v, atol=F64_TOL, rtol=0)


@pytest.mark.parametrize("act", [nn.Tanh, nn.Softplus])
def test_hvp_matches_autograd_hessian_of_mlp(act):
    """On a smooth MLP hvp equals the full Hessian (torch.autograd.functional) times v."""
    net = FlatMLP(act=act, seed=3)
    H = net.hessian()
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        v = torch.randn(net.theta.shape, generator=g, dtype=torch.float64)
        torch.testing.assert_close(hvp(net.loss_fn, net.theta, v), H @ v, atol=F64_TOL, rtol=0)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_hvp_keeps_requires_grad_and_values_and_returns_detached(mlp, requires_grad):
    theta = mlp.theta.clone().requires_grad_(requires_grad)
    before = theta.detach().clone()
    v = torch.ones_like(before)
    out = hvp(mlp.loss_fn, theta, v)
    assert theta.requires_grad is requires_grad
    assert theta.grad is None
    assert torch.equal(theta.detach(), before)
    assert not out.requires_grad
    assert out.shape == theta.shape and out.dtype == theta.dtype


def test_hvp_float32_keeps_dtype():
    net = FlatMLP(dtype=torch.float32)
    H = FlatMLP(dtype=torch.float64).hessian()  # same seed: same weights in float64
    v = torch.linspace(-1, 1, net.theta.numel())
    out = hvp(net.loss_fn, net.theta, v)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), H @ v.double(), atol=1e-5, rtol=1e-4)


def test_hvp_works_inside_no_grad(mlp):
    v = torch.ones_like(mlp.theta)
    with torch.no_grad():
        out = hvp(mlp.loss_fn, mlp.theta, v)
    torch.testing.assert_close(out, mlp.hessian() @ v, atol=F64_TOL, rtol=0)


@pytest.mark.parametrize(
    "loss_fn",
    [
        lambda t: (torch.arange(t.numel(), dtype=t.dtype) * t).sum(),  # linear
        lambda t: t.sum() * 0 + 3.0,  # constant but connected to theta
        lambda t: torch.tensor(2.0, dtype=t.dtype),  # independent of theta
        lambda t: torch.relu(t).sum(),  # piecewise linear: Hessian 0 almost everywhere
    ],
    ids=["linear", "constant", "independent", "relu"],
)
def test_hvp_of_zero_hessian_is_zero(loss_fn):
    theta = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    out = hvp(loss_fn, theta, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert torch.equal(out, torch.zeros(3, dtype=torch.float64))


def test_hvp_rejects_bad_input(mlp):
    v = torch.ones_like(mlp.theta)
    with pytest.raises(ValueError, match="v"):
        hvp(mlp.loss_fn, mlp.theta, v[:-1])
    with pytest.raises(ValueError, match="theta"):
        hvp(mlp.loss_fn, mlp.theta.tolist(), v)
    with pytest.raises(ValueError, match="loss_fn"):
        hvp("not callable", mlp.theta, v)


# --------------------------------------------------------------------------------------------
# rademacher_probes
# --------------------------------------------------------------------------------------------


def test_rademacher_probes_shape_values_and_dtype():
    probes = rademacher_probes(7, 11, torch.Generator().manual_seed(0))
    assert probes.shape == (7, 11)
    assert probes.dtype == torch.get_default_dtype()
    assert bool(((probes == 1.0) | (probes == -1.0)).all())


def test_rademacher_probes_depend_only_on_the_generator():
    state = torch.get_rng_state()
    torch.manual_seed(1)
    a = rademacher_probes(5, 9, torch.Generator().manual_seed(42))
    torch.manual_seed(2)
    b = rademacher_probes(5, 9, torch.Generator().manual_seed(42))
    assert torch.equal(a, b)
    g = torch.Generator().manual_seed(42)
    first, second = rademacher_probes(5, 9, g), rademacher_probes(5, 9, g)
    assert torch.equal(first, a) and not torch.equal(first, second)
    torch.set_rng_state(state)


def test_rademacher_probes_do_not_touch_the_global_rng():
    before = torch.get_rng_state()
    rademacher_probes(3, 4, torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), before)


def test_rademacher_probes_are_balanced():
    """200 000 fair signs: the fraction of +1 lies within 5 standard deviations of 1/2."""
    probes = rademacher_probes(200, 1000, torch.Generator().manual_seed(3))
    frac = float((probes > 0).double().mean())
    assert abs(frac - 0.5) < 5 * math.sqrt(0.25 / probes.numel())


@pytest.mark.parametrize(
    "args, name",
    [((0, 3), "num_probes"), ((3, 0), "dim"), ((-1, 3), "num_probes"), ((2.5, 3), "num_probes")],
)
def test_rademacher_probes_rejects_bad_sizes(args, name):
    with pytest.raises(ValueError, match=name):
        rademacher_probes(*args, torch.Generator().manual_seed(0))


def test_rademacher_probes_rejects_non_generator():
    with pytest.raises(ValueError, match="generator"):
        rademacher_probes(2, 3, 0)


# --------------------------------------------------------------------------------------------
# hutchinson_trace
# --------------------------------------------------------------------------------------------


def test_hutchinson_with_all_sign_vectors_is_the_exact_trace():
    """Averaged over all 2^d sign vectors the off-diagonal terms cancel: the mean is tr H."""
    net = FlatMLP(act=nn.Softplus, hidden=2, seed=5, n=6)  # d = 2*2+2 + 2*3+3 = 15
    net.names, net.shapes = net.names[:3], net.shapes[:3]  # only 0.weight, 0.bias, 2.weight
    net.theta = net.theta[:12]  # 2.bias stays the model's own: d = 12, 4096 sign vectors
    d = net.theta.numel()
    got = hutchinson_trace(net.loss_fn, net.theta, all_sign_vectors(d))
    assert math.isclose(got, float(torch.trace(net.hessian())), rel_tol=1e-9, abs_tol=1e-12)


@FAST
@given(d=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_hutchinson_all_signs_on_quadratic(d, seed):
    A = random_symmetric(d, seed)
    b = torch.zeros(d, dtype=torch.float64)
    got = hutchinson_trace(quadratic(A, b), torch.ones(d, dtype=torch.float64), all_sign_vectors(d))
    assert math.isclose(got, float(torch.trace(A)), rel_tol=1e-9, abs_tol=1e-9)


def test_hutchinson_with_scaled_basis_is_the_trace(mlp):
    d = mlp.theta.numel()
    probes = torch.eye(d, dtype=torch.float64) * math.sqrt(d)
    got = hutchinson_trace(mlp.loss_fn, mlp.theta, probes)
    assert math.isclose(got, float(torch.trace(mlp.hessian())), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("num_probes", [1, 8, 21])  # below, at and across chunk boundaries
def test_hutchinson_matches_per_probe_quadratic_forms(mlp, num_probes):
    H = mlp.hessian()
    probes = rademacher_probes(num_probes, mlp.theta.numel(), torch.Generator().manual_seed(9))
    p64 = probes.double()
    expected = float(((p64 @ H) * p64).sum(dim=1).mean())
    got = hutchinson_trace(mlp.loss_fn, mlp.theta, probes)
    assert isinstance(got, float)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)


def test_hutchinson_does_not_modify_inputs(mlp):
    theta = mlp.theta.clone().requires_grad_(True)
    probes = rademacher_probes(4, theta.numel(), torch.Generator().manual_seed(0))
    theta_before, probes_before = theta.detach().clone(), probes.clone()
    hutchinson_trace(mlp.loss_fn, theta, probes)
    assert torch.equal(theta.detach(), theta_before) and theta.requires_grad and theta.grad is None
    assert torch.equal(probes, probes_before)


def test_hutchinson_of_linear_loss_is_zero():
    probes = rademacher_probes(3, 4, torch.Generator().manual_seed(0))
    assert hutchinson_trace(lambda t: t.sum(), torch.zeros(4), probes) == 0.0


def test_hutchinson_runs_the_forward_and_first_backward_pass_once(mlp, monkeypatch):
    """One loss evaluation and one gradient for all the probes; then one backward pass
    through the gradient's graph per probe (a fresh hvp per probe would redo both)."""
    grad = torch.autograd.grad
    calls = {"loss": 0, "grad": 0}

    def counted_grad(*args, **kwargs):
        calls["grad"] += 1
        return grad(*args, **kwargs)

    def counted_loss(t):
        calls["loss"] += 1
        return mlp.loss_fn(t)

    probes = rademacher_probes(12, mlp.theta.numel(), torch.Generator().manual_seed(2)).double()
    expected = float(((probes @ mlp.hessian()) * probes).sum(dim=1).mean())
    monkeypatch.setattr(torch.autograd, "grad", counted_grad)
    assert math.isclose(hutchinson_trace(counted_loss, mlp.theta, probes), expected, rel_tol=1e-9)
    assert calls == {"loss": 1, "grad": 1 + 12}


class _Double(torch.autograd.Function):
    """x -> 2x whose backward branches on the incoming gradient (no batching rule for that)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        if bool(grad.abs().sum() >= 0):  # data-dependent: vmap cannot batch it
            return 2 * grad
        return 2 * grad  # pragma: no cover


def test_hutchinson_of_an_unbatchable_loss():
    """L = Σ (2θ)³ has Hessian diag(48θ); its backward cannot be vmapped, which the
    per-probe products do not need."""
    theta = torch.tensor([0.3, -1.2, 0.7, 2.0], dtype=torch.float64)
    loss_fn = lambda t: (_Double.apply(t) ** 3).sum()  # noqa: E731
    probes = all_sign_vectors(4)
    got = hutchinson_trace(loss_fn, theta, probes)
    assert math.isclose(got, float((48 * theta).sum()), rel_tol=1e-12)


def test_hutchinson_of_float32_sums_in_float64():
    """Each v^T H v is summed in float64: with H = diag(2**24, 1) and v = (1, 1) it is
    2**24 + 1, which float32 cannot hold (it rounds to 2**24)."""
    h = torch.tensor([2.0**24, 1.0])
    got = hutchinson_trace(lambda t: (h * t**2).sum() / 2, torch.zeros(2), torch.ones(1, 2))
    assert got == 2.0**24 + 1


@pytest.mark.parametrize(
    "probes",
    [torch.ones(5), torch.ones(2, 4), torch.ones(0, 5), torch.ones(1, 5, 1), [[1.0] * 5]],
    ids=["1-D", "wrong-columns", "no-rows", "3-D", "list"],
)
def test_hutchinson_rejects_bad_probes(probes):
    with pytest.raises(ValueError, match="probes"):
        hutchinson_trace(lambda t: (t**2).sum(), torch.zeros(5), probes)


# --------------------------------------------------------------------------------------------
# expected_loss_increase and perturbed_loss_increase
# --------------------------------------------------------------------------------------------


def test_expected_loss_increase_worked_example_2():
    sharp = expected_loss_increase(500, 0.01)
    flat = expected_loss_increase(80, 0.01)
    assert math.isclose(sharp, 0.025, rel_tol=1e-12)
    assert math.isclose(flat, 0.004, rel_tol=1e-12)
    assert math.isclose(sharp / flat, 6.25, rel_tol=1e-12)
    assert isinstance(sharp, float)


def test_expected_loss_increase_accepts_any_real_trace():
    assert math.isclose(expected_loss_increase(-40.0, 0.1), -0.2, rel_tol=1e-12)
    assert expected_loss_increase(123.0, 0.0) == 0.0
    assert math.isclose(expected_loss_increase(torch.tensor(8.0), np.float64(0.5)), 1.0)


@pytest.mark.parametrize("args", [(10.0, -0.1), (10.0, float("nan")), (float("nan"), 0.1)])
def test_expected_loss_increase_rejects_bad_input(args):
    with pytest.raises(ValueError):
        expected_loss_increase(*args)


def test_expected_loss_increase_names_sigma():
    with pytest.raises(ValueError, match="sigma"):
        expected_loss_increase(1.0, -1.0)


@FAST
@given(d=st.integers(1, 6), n=st.integers(1, 40), seed=st.integers(0, 10_000))
def test_perturbed_loss_increase_on_quadratic_closed_form(d, n, seed):
    """L(θ+e) − L(θ) = eᵀAe/2 + (Aθ + b)ᵀe for the quadratic, averaged over the rows e."""
    A = random_symmetric(d, seed)
    g = torch.Generator().manual_seed(seed + 7)
    b, theta = (torch.randn(d, generator=g, dtype=torch.float64) for _ in range(2))
    noise = 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    An, Ath, bn, nn_ = A.numpy(), theta.numpy(), b.numpy(), noise.numpy()
    terms = [e @ An @ e / 2 + (An @ Ath + bn) @ e for e in nn_]
    expected = math.fsum(terms) / n
    got = perturbed_loss_increase(quadratic(A, b), theta, noise)
    assert isinstance(got, float)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9)


def test_perturbed_loss_increase_matches_direct_loop_on_mlp(mlp):
    g = torch.Generator().manual_seed(4)
    noise = 0.05 * torch.randn(70, mlp.theta.numel(), generator=g, dtype=torch.float64)  # > chunk
    with torch.no_grad():
        base = float(mlp.loss_fn(mlp.theta))
        expected = math.fsum(float(mlp.loss_fn(mlp.theta + e)) for e in noise) / len(noise) - base
    got = perturbed_loss_increase(mlp.loss_fn, mlp.theta, noise)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)


def test_perturbed_loss_increase_small_sigma_approaches_second_order_formula(mlp):
    """Antithetic ±e pairs cancel the gradient term; the rest is ≈ sigma²/2 · tr H."""
    sigma = 1e-3
    g = torch.Generator().manual_seed(5)
    half = torch.randn(3000, mlp.theta.numel(), generator=g, dtype=torch.float64)
    noise = sigma * torch.cat([half, -half])
    got = perturbed_loss_increase(mlp.loss_fn, mlp.theta, noise)
    expected = sigma**2 / 2 * float(torch.trace(mlp.hessian()))
    assert math.isclose(got, expected, rel_tol=0.1)


def test_perturbed_loss_increase_with_unvmappable_loss_falls_back():
    """A loss with a data-dependent branch cannot be vmapped; the loop fallback gives the same."""
    A = random_symmetric(3, 0)
    b = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    q = quadratic(A, b)

    def loss_fn(theta):
        if theta.sum() > 1e9:  # never true, but vmap cannot know
            return theta.sum()
        return q(theta)

    theta = torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64)
    noise = torch.tensor([[0.1, 0.0, 0.0], [0.0, -0.2, 0.3]], dtype=torch.float64)
    expected = math.fsum(float(q(theta + e)) for e in noise) / 2 - float(q(theta))
    assert math.isclose(perturbed_loss_increase(loss_fn, theta, noise), expected, rel_tol=1e-12)


def test_perturbed_loss_increase_does_not_modify_inputs(mlp):
    theta = mlp.theta.clone().requires_grad_(True)
    noise = torch.full((3, theta.numel()), 0.01, dtype=torch.float64)
    before = (theta.detach().clone(), noise.clone())
    perturbed_loss_increase(mlp.loss_fn, theta, noise)
    assert torch.equal(theta.detach(), before[0]) and theta.requires_grad
    assert torch.equal(noise, before[1])


@pytest.mark.parametrize(
    "noise", [torch.ones(4), torch.ones(2, 3), torch.ones(0, 4)], ids=["1-D", "columns", "empty"]
)
def test_perturbed_loss_increase_rejects_bad_noise(noise):
    with pytest.raises(ValueError, match="noise"):
        perturbed_loss_increase(lambda t: (t**2).sum(), torch.zeros(4), noise)


# --------------------------------------------------------------------------------------------
# spectrum_trace
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [1, 2, 3, 10, 745, 746, 1000, 12_345])
def test_spectrum_trace_matches_fsum(dim):
    inverse = math.fsum(1.0 / k for k in range(1, dim + 1))
    exponential = math.fsum(math.exp(-k) for k in range(1, dim + 1))
    assert math.isclose(spectrum_trace("inverse", dim), inverse, rel_tol=1e-15)
    assert math.isclose(spectrum_trace("exponential", dim), exponential, rel_tol=1e-15)


def test_spectrum_trace_small_closed_forms():
    assert spectrum_trace("inverse", 1) == 1.0
    assert math.isclose(spectrum_trace("inverse", 4), 25 / 12, rel_tol=1e-15)
    assert math.isclose(spectrum_trace("exponential", 1), math.exp(-1), rel_tol=1e-15)
    geometric = math.exp(-1) * (1 - math.exp(-5)) / (1 - math.exp(-1))
    assert math.isclose(spectrum_trace("exponential", 5), geometric, rel_tol=1e-14)


def test_spectrum_trace_at_ten_million_is_fast_and_accurate():
    """H_n ≈ ln n + γ + 1/(2n) − 1/(12n²) (error < 1/(120 n⁴)); Σ e^-k → 1/(e − 1)."""
    import time

    n = 10**7
    start = time.perf_counter()
    inverse = spectrum_trace("inverse", n)
    exponential = spectrum_trace("exponential", n)
    elapsed = time.perf_counter() - start
    asymptotic = math.log(n) + EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2)
    assert math.isclose(inverse, asymptotic, rel_tol=1e-13)
    assert math.isclose(exponential, 1 / (math.e - 1), rel_tol=1e-15)
    assert elapsed < 2.0
    assert spectrum_trace("inverse", 1e7) == inverse  # an integer-valued float is an integer


@pytest.mark.parametrize("n", [10**7 + 1, 10**9, 10**15])
def test_spectrum_trace_beyond_ten_million(n):
    """Far beyond 10^7 the harmonic number still matches its asymptotic expansion."""
    asymptotic = math.log(n) + EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2)
    assert math.isclose(spectrum_trace("inverse", n), asymptotic, rel_tol=1e-14)
    assert math.isclose(spectrum_trace("exponential", n), 1 / (math.e - 1), rel_tol=1e-15)


@pytest.mark.parametrize(
    "decay, dim",
    [
        ("gaussian", 10),
        ("Inverse", 10),
        ("inverse", 0),
        ("exponential", -3),
        ("inverse", 2.5),
        ("inverse", "10"),
        ("inverse", True),
        ("exponential", float("inf")),
    ],
)
def test_spectrum_trace_rejects_bad_input(decay, dim):
    with pytest.raises(ValueError):
        spectrum_trace(decay, dim)


# --------------------------------------------------------------------------------------------
# top_eigenvalue
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "eigenvalues",
    [
        [5.0, 1.0, 0.5, -0.3, 2.0, 0.0],  # positive dominant
        [-6.0, 2.0, 1.0, 0.5, -1.0, 3.0],  # negative dominant
        [10.0, 1.0, 1.0, 1.0],  # dominant with a degenerate rest
    ],
)
def test_top_eigenvalue_of_quadratic_matches_eigvalsh(eigenvalues):
    d = len(eigenvalues)
    A = random_symmetric(d, 11, eigenvalues)
    exact = torch.linalg.eigvalsh(A)
    dominant = float(exact[exact.abs().argmax()])
    got = top_eigenvalue(
        quadratic(A, torch.ones(d, dtype=torch.float64)),
        torch.zeros(d, dtype=torch.float64),
        generator=torch.Generator().manual_seed(0),
    )
    assert isinstance(got, float)
    assert math.isclose(got, dominant, rel_tol=1e-8)


@FAST
@given(seed=st.integers(0, 10_000), sign=st.sampled_from([1.0, -1.0]))
def test_top_eigenvalue_hypothesis_with_clear_gap(seed, sign):
    rng = np.random.default_rng(seed)
    rest = rng.uniform(-1.0, 1.0, size=5).tolist()
    A = random_symmetric(6, seed, [sign * 4.0, *rest])
    got = top_eigenvalue(
        quadratic(A, torch.zeros(6, dtype=torch.float64)),
        torch.zeros(6, dtype=torch.float64),
        num_iters=200,
        generator=torch.Generator().manual_seed(seed),
    )
    assert math.isclose(got, sign * 4.0, rel_tol=1e-8)


def test_top_eigenvalue_of_mlp_matches_full_hessian(mlp):
    exact = torch.linalg.eigvalsh(mlp.hessian())
    ordered = exact.abs().sort(descending=True).values
    assert ordered[1] < 0.8 * ordered[0], "fixture must have a clear spectral gap"
    got = top_eigenvalue(
        mlp.loss_fn, mlp.theta, num_iters=300, generator=torch.Generator().manual_seed(1)
    )
    assert math.isclose(got, float(exact[exact.abs().argmax()]), rel_tol=1e-6)


def test_top_eigenvalue_uses_only_the_generator_and_keeps_theta(mlp):
    theta = mlp.theta.clone().requires_grad_(True)
    before = theta.detach().clone()
    torch.manual_seed(0)
    a = top_eigenvalue(mlp.loss_fn, theta, num_iters=3, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(1)
    b = top_eigenvalue(mlp.loss_fn, theta, num_iters=3, generator=torch.Generator().manual_seed(5))
    assert a == b
    assert torch.equal(theta.detach(), before) and theta.requires_grad and theta.grad is None


def test_top_eigenvalue_one_iteration_is_rayleigh_quotient_of_first_iterate():
    """With num_iters=1 the result is the Rayleigh quotient of v1 = A v0 / ‖A v0‖."""
    A = random_symmetric(4, 2)
    v0 = torch.randn(4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    v1 = A @ (v0 / v0.norm())
    v1 = v1 / v1.norm()
    expected = float(v1 @ A @ v1)
    got = top_eigenvalue(
        quadratic(A, torch.zeros(4, dtype=torch.float64)),
        torch.zeros(4, dtype=torch.float64),
        num_iters=1,
        generator=torch.Generator().manual_seed(3),
    )
    assert math.isclose(got, expected, rel_tol=1e-12)


def test_top_eigenvalue_of_zero_hessian_is_zero():
    got = top_eigenvalue(
        lambda t: 3 * t.sum(), torch.ones(5), generator=torch.Generator().manual_seed(0)
    )
    assert got == 0.0


def test_top_eigenvalue_rejects_bad_input(mlp):
    with pytest.raises(ValueError, match="num_iters"):
        top_eigenvalue(mlp.loss_fn, mlp.theta, num_iters=0, generator=torch.Generator())
    with pytest.raises(ValueError, match="generator"):
        top_eigenvalue(mlp.loss_fn, mlp.theta, generator=None)


# --------------------------------------------------------------------------------------------
# classify_critical_point
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "eigenvalues, tol, expected",
    [
        ([1.0, 2.0], 1e-8, "minimum"),
        ([-1.0, -0.5], 1e-8, "maximum"),
        ([3.0, -0.1], 1e-8, "saddle"),
        ([3.0, -0.1, 0.0], 1e-8, "saddle"),
        ([1.0, 0.0], 1e-8, "degenerate"),
        ([-1.0, 1e-9], 1e-8, "degenerate"),
        ([0.0], 1e-8, "degenerate"),
        ([1e-9, 1.0], 1e-8, "degenerate"),
        ([1e-9, 1.0], 1e-10, "minimum"),
        ([1e-8, 1.0], 1e-8, "degenerate"),  # exactly tol is not > tol
        ([-0.05, 0.05], 0.1, "degenerate"),
        ([0.01, 0.05, 15.0, 40.0], 1e-8, "minimum"),  # worked example 2's spectrum
    ],
)
def test_classify_critical_point_hand_cases(eigenvalues, tol, expected):
    assert classify_critical_point(eigenvalues, tol) == expected


def test_classify_critical_point_default_tol_and_input_types():
    assert classify_critical_point([1e-9, 2.0]) == "degenerate"
    assert classify_critical_point(torch.tensor([1.0, -2.0])) == "saddle"
    assert classify_critical_point(np.array([-1.0, -2.0])) == "maximum"
    assert classify_critical_point((0.5,)) == "minimum"


@FAST
@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=8))
def test_classify_critical_point_flipping_signs_swaps_min_and_max(values):
    swap = {
        "minimum": "maximum",
        "maximum": "minimum",
        "saddle": "saddle",
        "degenerate": "degenerate",
    }
    assert classify_critical_point([-v for v in values]) == swap[classify_critical_point(values)]


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], torch.tensor([]), np.array([])])
def test_classify_critical_point_rejects_empty_or_nan(bad):
    with pytest.raises(ValueError, match="eigenvalues"):
        classify_critical_point(bad)


# --------------------------------------------------------------------------------------------
# rescale_hidden_units
# --------------------------------------------------------------------------------------------


def relu_net(dtype=torch.float64, bias_in=True) -> nn.Sequential:
    torch.manual_seed(7)
    return nn.Sequential(
        nn.Linear(3, 5, bias=bias_in), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)
    ).to(dtype)


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


INPUTS = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize(
    "c",
    [
        3.0,
        7,
        torch.tensor(0.25, dtype=torch.float64),
        torch.tensor([0.5, 2.0, 10.0, 1.0, 0.1], dtype=torch.float64),
    ],
    ids=["float", "int", "0-d", "per-unit"],
)
def test_rescale_hidden_units_entries_and_unchanged_function(c):
    net = relu_net()
    params = params_of(net)
    out = rescale_hidden_units(params, "0", "2", c)
    factors = torch.as_tensor(c, dtype=torch.float64).expand(5)
    for i in range(5):  # per-unit oracle
        torch.testing.assert_close(out["0.weight"][i], params["0.weight"][i] * factors[i])
        torch.testing.assert_close(out["0.bias"][i], params["0.bias"][i] * factors[i])
        torch.testing.assert_close(out["2.weight"][:, i], params["2.weight"][:, i] / factors[i])
    for key in ("2.bias", "4.weight", "4.bias"):
        assert torch.equal(out[key], params[key])
    assert list(out) == list(params)
    with torch.no_grad():
        torch.testing.assert_close(
            functional_call(net, out, (INPUTS,)), net(INPUTS), atol=1e-12, rtol=1e-12
        )


def test_rescale_hidden_units_second_layer_pair_and_no_bias():
    net = relu_net(bias_in=False)
    params = params_of(net)
    out = rescale_hidden_units(params, "0", "2", 4.0)
    assert "0.bias" not in out
    out2 = rescale_hidden_units(params, "2", "4", torch.tensor([1.0, 2.0, 3.0, 4.0]))
    with torch.no_grad():
        for p in (out, out2):
            torch.testing.assert_close(functional_call(net, p, (INPUTS,)), net(INPUTS))


def test_rescale_hidden_units_changes_the_hessian_trace_but_not_the_loss():
    """Practice problem 4: same function and loss, different sharpness."""
    net = relu_net()
    params = params_of(net)
    y = torch.arange(50) % 2
    names = list(params)

    def flat_loss(p):
        def loss_fn(theta):
            parts, offset = {}, 0
            for k in names:
                n = p[k].numel()
                parts[k] = theta[offset : offset + n].reshape(p[k].shape)
                offset += n
            return F.cross_entropy(functional_call(net, parts, (INPUTS,)), y)

        return loss_fn, torch.cat([p[k].reshape(-1) for k in names])

    loss_a, theta_a = flat_loss(params)
    loss_b, theta_b = flat_loss(rescale_hidden_units(params, "0", "2", 10.0))
    assert math.isclose(float(loss_a(theta_a)), float(loss_b(theta_b)), rel_tol=1e-12)
    trace_a = float(torch.trace(torch.autograd.functional.hessian(loss_a, theta_a)))
    trace_b = float(torch.trace(torch.autograd.functional.hessian(loss_b, theta_b)))
    assert abs(trace_b - trace_a) > 0.1 * abs(trace_a)


def test_rescale_hidden_units_keeps_dtype_new_tensors_no_mutation():
    net = relu_net(dtype=torch.float32)
    params = params_of(net)
    before = {k: v.clone() for k, v in params.items()}
    out = rescale_hidden_units(params, "0", "2", 2.0)
    for k in params:
        assert out[k].dtype == torch.float32
        assert out[k].data_ptr() != params[k].data_ptr()
        assert torch.equal(params[k], before[k])
    with torch.no_grad():
        x = INPUTS.float()
        torch.testing.assert_close(functional_call(net, out, (x,)), net(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "layer_in, layer_out, c, match",
    [
        ("0", "2", 0.0, "c"),
        ("0", "2", -1.0, "c"),
        ("0", "2", torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0]), "c"),
        ("0", "2", torch.tensor([1.0, 2.0]), "c"),
        ("0", "2", torch.ones(5, 1), "c"),
        ("0", "2", float("nan"), "c"),
        ("0", "2", "two", "c"),
        ("7", "2", 2.0, "7.weight"),
        ("0", "9", 2.0, "9.weight"),
        ("0", "4", 2.0, "shapes do not fit"),
        ("2", "2", 2.0, "differ"),
    ],
)
def test_rescale_hidden_units_rejects_bad_input(layer_in, layer_out, c, match):
    with pytest.raises(ValueError, match=match):
        rescale_hidden_units(params_of(relu_net()), layer_in, layer_out, c)


# --------------------------------------------------------------------------------------------
# filter_normalize
# --------------------------------------------------------------------------------------------


def conv_like(seed: int, dtype=torch.float64) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "conv.weight": torch.randn(4, 3, 2, 2, generator=g, dtype=dtype),
        "conv.bias": torch.randn(4, generator=g, dtype=dtype),
        "fc.weight": torch.randn(5, 3, generator=g, dtype=dtype),
        "bn.weight": torch.randn(5, generator=g, dtype=dtype),
        "scale": torch.randn((), generator=g, dtype=dtype),
    }


def test_filter_normalize_per_filter_oracle():
    direction, theta = conv_like(0), conv_like(1)
    out = filter_normalize(direction, theta)
    assert list(out) == list(direction)
    for key in ("conv.weight", "fc.weight"):
        for i in range(direction[key].shape[0]):
            d_i, t_i = direction[key][i], theta[key][i]
            d_norm = math.sqrt(float((d_i**2).sum()))
            t_norm = math.sqrt(float((t_i**2).sum()))
            torch.testing.assert_close(out[key][i], d_i * t_norm / (d_norm + FILTER_NORM_EPS))
            assert math.isclose(float(out[key][i].norm()), t_norm, rel_tol=1e-9)
    for key in ("conv.bias", "bn.weight", "scale"):
        assert torch.equal(out[key], torch.zeros_like(direction[key]))


def test_filter_normalize_zero_filter_stays_zero_and_keeps_dtype():
    direction = {"w": torch.tensor([[0.0, 0.0], [3.0, 4.0]]), "b": torch.ones(2)}
    theta = {
        "w": torch.tensor([[1.0, 1.0], [0.0, 2.0]], dtype=torch.float64),
        "b": torch.ones(2, dtype=torch.float64),
    }
    out = filter_normalize(direction, theta)
    assert out["w"].dtype == torch.float32 and out["b"].dtype == torch.float32
    assert torch.equal(out["w"][0], torch.zeros(2))
    torch.testing.assert_close(out["w"][1], torch.tensor([1.2, 1.6]))
    assert not torch.isnan(out["w"]).any()


def test_filter_normalize_new_tensors_no_mutation():
    direction, theta = conv_like(2), conv_like(3)
    d_before = {k: v.clone() for k, v in direction.items()}
    t_before = {k: v.clone() for k, v in theta.items()}
    out = filter_normalize(direction, theta)
    for k in direction:
        assert torch.equal(direction[k], d_before[k]) and torch.equal(theta[k], t_before[k])
        assert out[k].data_ptr() != direction[k].data_ptr()


def test_filter_normalize_rejects_mismatch():
    direction, theta = conv_like(0), conv_like(1)
    with pytest.raises(ValueError, match="keys"):
        filter_normalize({k: v for k, v in direction.items() if k != "scale"}, theta)
    theta["fc.weight"] = torch.zeros(5, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="shape"):
        filter_normalize(direction, theta)


# --------------------------------------------------------------------------------------------
# loss_surface
# --------------------------------------------------------------------------------------------


def double_loop_surface(loss_fn, theta, d1, d2, alphas, betas) -> torch.Tensor:
    with torch.no_grad():
        return torch.stack(
            [torch.stack([loss_fn(theta + a * d1 + b * d2) for b in betas]) for a in alphas]
        )


def test_loss_surface_matches_double_loop_float64(mlp):
    g = torch.Generator().manual_seed(8)
    d1, d2 = (torch.randn(mlp.theta.shape, generator=g, dtype=torch.float64) for _ in range(2))
    alphas = np.linspace(-1.0, 1.0, 9).tolist()
    betas = np.linspace(-0.5, 1.5, 11).tolist()  # 99 points: several vmap chunks
    got = loss_surface(mlp.loss_fn, mlp.theta, d1, d2, alphas, betas)
    assert got.shape == (9, 11) and got.dtype == torch.float64 and not got.requires_grad
    expected = double_loop_surface(mlp.loss_fn, mlp.theta, d1, d2, alphas, betas)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)


def test_loss_surface_float32_and_tensor_coefficients():
    net = FlatMLP(dtype=torch.float32, hidden=8, n=40)
    g = torch.Generator().manual_seed(1)
    d1, d2 = (torch.randn(net.theta.shape, generator=g) for _ in range(2))
    alphas, betas = torch.linspace(-1, 1, 5), np.array([0.0, 0.3])
    got = loss_surface(net.loss_fn, net.theta.clone().requires_grad_(True), d1, d2, alphas, betas)
    assert got.dtype == torch.float32 and got.shape == (5, 2) and not got.requires_grad
    expected = double_loop_surface(net.loss_fn, net.theta, d1, d2, alphas.tolist(), betas.tolist())
    torch.testing.assert_close(got, expected, atol=F32_TOL, rtol=F32_TOL)


@FAST
@given(seed=st.integers(0, 10_000), na=st.integers(1, 5), nb=st.integers(1, 5))
def test_loss_surface_on_quadratic_closed_form(seed, na, nb):
    """L(θ + a d1 + b d2) for the quadratic, from its expanded polynomial in (a, b)."""
    d = 4
    A = random_symmetric(d, seed)
    g = torch.Generator().manual_seed(seed)
    b_vec, theta, d1, d2 = (torch.randn(d, generator=g, dtype=torch.float64) for _ in range(4))
    rng = np.random.default_rng(seed)
    alphas, betas = rng.uniform(-2, 2, na), rng.uniform(-2, 2, nb)
    An, t, u, w, bn = (x.numpy() for x in (A, theta, d1, d2, b_vec))
    L0 = t @ An @ t / 2 + bn @ t
    ga, gb = (An @ t + bn) @ u, (An @ t + bn) @ w
    expected = np.array(
        [
            [
                L0
                + a * ga
                + c * gb
                + a * a * (u @ An @ u) / 2
                + c * c * (w @ An @ w) / 2
                + a * c * (u @ An @ w)
                for c in betas
            ]
            for a in alphas
        ]
    )
    got = loss_surface(quadratic(A, b_vec), theta, d1, d2, alphas, betas)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_loss_surface_takes_the_vmap_path_for_a_functional_call_loss(mlp):
    """The one-point-at-a-time fallback is disabled: vmap must evaluate the whole grid."""

    def vmapped_only(theta):
        # Under vmap loss_fn sees a batched tensor; a plain one means the loop fallback ran.
        if not torch._C._functorch.is_batchedtensor(theta):
            raise AssertionError("loop fallback used")
        return mlp.loss_fn(theta)

    d1 = torch.ones_like(mlp.theta)
    got = loss_surface(vmapped_only, mlp.theta, d1, -d1, [0.0, 0.1, 0.2], [0.0, 0.3])
    expected = double_loop_surface(mlp.loss_fn, mlp.theta, d1, -d1, [0.0, 0.1, 0.2], [0.0, 0.3])
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)


def test_loss_surface_with_unvmappable_loss_falls_back():
    A = random_symmetric(3, 4)
    q = quadratic(A, torch.zeros(3, dtype=torch.float64))

    def loss_fn(theta):
        return q(theta) + 0.0 * float(theta[0])  # .item() inside: vmap rejects it

    theta = torch.zeros(3, dtype=torch.float64)
    d1 = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    d2 = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)
    got = loss_surface(loss_fn, theta, d1, d2, [0.0, 1.0, -2.0], [0.5, 3.0])
    expected = double_loop_surface(q, theta, d1, d2, [0.0, 1.0, -2.0], [0.5, 3.0])
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)


def test_loss_surface_does_not_modify_inputs(mlp):
    theta = mlp.theta.clone()
    d1, d2 = torch.ones_like(theta), -torch.ones_like(theta)
    alphas = torch.tensor([0.0, 0.1], dtype=torch.float64)
    before = [x.clone() for x in (theta, d1, d2, alphas)]
    loss_surface(mlp.loss_fn, theta, d1, d2, alphas, [0.0])
    for x, y in zip((theta, d1, d2, alphas), before):
        assert torch.equal(x, y)


def test_loss_surface_rejects_bad_input(mlp):
    theta = mlp.theta
    d = torch.ones_like(theta)
    with pytest.raises(ValueError, match="d1"):
        loss_surface(mlp.loss_fn, theta, d[:-1], d, [0.0], [0.0])
    with pytest.raises(ValueError, match="d2"):
        loss_surface(mlp.loss_fn, theta, d, d.reshape(1, -1), [0.0], [0.0])
    with pytest.raises(ValueError, match="alphas"):
        loss_surface(mlp.loss_fn, theta, d, d, [], [0.0])
    with pytest.raises(ValueError, match="betas"):
        loss_surface(mlp.loss_fn, theta, d, d, [0.0], [float("nan")])


# --------------------------------------------------------------------------------------------
# landscape_lab integration: its flat loss must take the batched paths
# --------------------------------------------------------------------------------------------


def test_landscape_lab_flat_loss_fn_is_vmappable_and_agrees():
    landscape_lab = pytest.importorskip("landscape_lab")
    if not hasattr(landscape_lab, "flat_loss_fn"):
        pytest.skip("landscape_lab.flat_loss_fn not available yet")
    data = landscape_lab.make_dataset(n_train=64, n_test=8)
    model = landscape_lab.make_mlp(hidden=(8, 8))
    loss_fn = landscape_lab.flat_loss_fn(model, data.X_train, data.y_train)
    theta = landscape_lab.flatten_params(landscape_lab.params_of(model)).double()
    points = theta + 0.1 * torch.randn(3, theta.numel(), dtype=torch.float64)
    batched = torch.func.vmap(loss_fn)(points)  # raises if not vmappable
    torch.testing.assert_close(batched, torch.stack([loss_fn(p) for p in points]))
    probes = rademacher_probes(5, theta.numel(), torch.Generator().manual_seed(0)).double()
    H = torch.autograd.functional.hessian(loss_fn, theta)
    expected = float(((probes @ H) * probes).sum(dim=1).mean())
    assert math.isclose(hutchinson_trace(loss_fn, theta, probes), expected, rel_tol=1e-9)
