"""The hidden checks of notebook 01, section 4 (curved paths: Bezier curves), grade well:
`bernstein_weights`, `bezier_point` and `train_bezier_midpoint`.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call
from torch.utils.data import DataLoader, TensorDataset

from autograder.checks import cases, judge, seeding
from autograder.checks.call import run_case
from autograder.checks.types import Case
from solutions import mode_connectivity as ref
from tests.course.checks.mode_connectivity.helpers import ParamsMismatchError, _same_keys
from tests.course.checks.support import assert_fails, assert_passes_all, fails_part

# ---------------------------------------------------------------------------------------------
# bernstein_weights


def _check_bernstein(degree, alpha):
    if degree < 1:
        raise ValueError("degree must be at least 1")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must lie in [0, 1]")


def bern_reversed(degree, alpha):
    _check_bernstein(degree, alpha)
    w = [math.comb(degree, k) * (1 - alpha) ** k * alpha ** (degree - k) for k in range(degree + 1)]
    return torch.tensor(w, dtype=torch.float64)


def bern_float32(degree, alpha):
    _check_bernstein(degree, alpha)
    w = [math.comb(degree, k) * alpha**k * (1 - alpha) ** (degree - k) for k in range(degree + 1)]
    return torch.tensor(w)


def bern_log(degree, alpha):
    _check_bernstein(degree, alpha)
    k = torch.arange(degree + 1, dtype=torch.float64)
    log_binom = (
        torch.lgamma(torch.tensor(degree + 1.0, dtype=torch.float64))
        - torch.lgamma(k + 1)
        - torch.lgamma(degree - k + 1)
    )
    a = torch.tensor(alpha, dtype=torch.float64)
    return torch.exp(log_binom + k * torch.log(a) + (degree - k) * torch.log1p(-a))


def bern_list(degree, alpha):
    return bern_float32(degree, alpha).tolist()


def bern_no_validation(degree, alpha):
    w = [
        math.comb(degree, k) * alpha**k * (1 - alpha) ** (degree - k)
        for k in range(max(degree, 0) + 1)
    ]
    return torch.tensor(w, dtype=torch.float64)


def bern_no_binomial(degree, alpha):
    _check_bernstein(degree, alpha)
    return torch.tensor(
        [alpha**k * (1 - alpha) ** (degree - k) for k in range(degree + 1)], dtype=torch.float64
    )


def bern_recursive(degree, alpha):
    _check_bernstein(degree, alpha)
    w = [1.0]
    for _ in range(degree):
        w = (
            [(1 - alpha) * w[0]]
            + [(1 - alpha) * w[k] + alpha * w[k - 1] for k in range(1, len(w))]
            + [alpha * w[-1]]
        )
    return torch.tensor(w, dtype=torch.float64)


def bern_float32_inside(degree, alpha):
    _check_bernstein(degree, alpha)
    k = torch.arange(degree + 1)
    binom = torch.tensor([math.comb(degree, int(i)) for i in k], dtype=torch.float32)
    return (binom * alpha**k * (1 - alpha) ** (degree - k)).to(torch.float64)


class DegreeError(ValueError):
    """A student's own ValueError subclass."""


def bern_numpy(degree, alpha):
    """numpy vectorised powers (0**0 == 1 in numpy too), torch.from_numpy (float64)."""
    if int(degree) != degree or degree < 1:
        raise DegreeError(f"degree must be an integer >= 1, got {degree}")
    if not (0 <= alpha <= 1):
        raise DegreeError(f"alpha must be in [0, 1], got {alpha}")
    k = np.arange(degree + 1)
    binom = np.array([math.comb(degree, int(i)) for i in k], dtype=np.float64)
    return torch.from_numpy(binom * alpha**k * (1.0 - alpha) ** (degree - k))


def bern_torch_pow(degree, alpha):
    """Binomials from lgamma (rounded), torch.pow on float64 tensors (pow(0, 0) == 1)."""
    if degree < 1:
        raise ValueError("degree < 1")
    if alpha < 0 or alpha > 1:
        raise ValueError("alpha outside [0, 1]")
    k = torch.arange(degree + 1, dtype=torch.float64)
    a = torch.tensor(alpha, dtype=torch.float64)
    n = torch.tensor(degree + 1.0, dtype=torch.float64)
    binom = torch.round(torch.exp(torch.lgamma(n) - torch.lgamma(k + 1) - torch.lgamma(n - k)))
    return binom * torch.pow(a, k) * torch.pow(1 - a, degree - k)


def bern_factorial_loop(degree, alpha):
    """Factorials in a loop, appended to a list, dtype=torch.double."""
    if not isinstance(degree, int) or degree < 1:
        raise ValueError("degree must be a positive integer")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must lie in [0, 1]")
    w = []
    for k in range(degree + 1):
        c = math.factorial(degree) // (math.factorial(k) * math.factorial(degree - k))
        w.append(c * alpha**k * (1 - alpha) ** (degree - k))
    return torch.tensor(w, dtype=torch.double)


def bern_convolve(degree, alpha):
    """The coefficients of ((1 − alpha) + alpha·t)^degree by repeated np.convolve."""
    if degree < 1 or not 0 <= alpha <= 1:
        raise ValueError("need degree >= 1 and alpha in [0, 1]")
    w = np.array([1.0])
    for _ in range(degree):
        w = np.convolve(w, [1.0 - alpha, alpha])
    return torch.tensor(w, dtype=torch.float64)


def _bern_list(degree, alpha, coefficient, count):
    return torch.tensor(
        [coefficient(degree, k) * alpha**k * (1 - alpha) ** (degree - k) for k in range(count)],
        dtype=torch.float64,
    )


def bern_off_by_one(degree, alpha):
    """range(degree): degree weights instead of degree + 1."""
    if degree < 1 or not 0 <= alpha <= 1:
        raise ValueError("bad degree or alpha")
    return _bern_list(degree, alpha, math.comb, degree)


def bern_open_interval(degree, alpha):
    """Rejects the endpoints alpha = 0 and alpha = 1, which are allowed."""
    if degree < 1 or not 0 < alpha < 1:
        raise ValueError("bad degree or alpha")
    return _bern_list(degree, alpha, math.comb, degree + 1)


def bern_perm(degree, alpha):
    """math.perm (ordered choices) instead of math.comb."""
    if degree < 1 or not 0 <= alpha <= 1:
        raise ValueError("bad degree or alpha")
    return _bern_list(degree, alpha, math.perm, degree + 1)


def bern_degree_zero_ok(degree, alpha):
    """Accepts degree 0 (the check is degree < 0)."""
    if degree < 0 or not 0 <= alpha <= 1:
        raise ValueError("bad degree or alpha")
    return _bern_list(degree, alpha, math.comb, degree + 1)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (bern_reversed, r"reverse order", "basic"),
        (bern_float32, r"dtype torch\.float32, expected torch\.float64", "dtype"),
        (bern_log, r"NaN.*0\*\*0 = 1", "endpoints"),
        (bern_list, r"should be a torch\.Tensor", "basic"),
        (bern_no_validation, r"instead of raising ValueError", "errors"),
        (bern_no_binomial, r"expected 0\.5, got 0\.25", "basic"),
        (bern_off_by_one, r"has shape \(2,\), expected \(3,\)", "basic"),
        (bern_open_interval, r"alpha 0: .*raised ValueError", "endpoints"),
        (bern_perm, r"expected 0\.25, got 0\.5", "basic"),
        (bern_degree_zero_ok, r"degree 0.*instead of raising ValueError", "errors"),
    ],
)
def test_bernstein_weights_wrong(fn, match, part):
    assert_fails("bernstein_weights", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn",
    [
        bern_recursive,
        bern_float32_inside,
        bern_numpy,
        bern_torch_pow,
        bern_factorial_loop,
        bern_convolve,
    ],
)
def test_bernstein_weights_alternatives(fn):
    assert_passes_all("bernstein_weights", fn)


# ---------------------------------------------------------------------------------------------
# bezier_point


def _check_three(theta_a, theta_mid, theta_b):
    _same_keys(theta_a, theta_mid, "theta_a", "theta_mid")
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")


def bez_no_factor_2(theta_a, theta_mid, theta_b, alpha):
    _check_three(theta_a, theta_mid, theta_b)
    return {
        k: (1 - alpha) ** 2 * theta_a[k]
        + alpha * (1 - alpha) * theta_mid[k]
        + alpha**2 * theta_b[k]
        for k in theta_a
    }


def bez_reversed(theta_a, theta_mid, theta_b, alpha):
    return ref.bezier_point(theta_b, theta_mid, theta_a, alpha)


def bez_in_place(theta_a, theta_mid, theta_b, alpha):
    _check_three(theta_a, theta_mid, theta_b)
    for k in theta_a:
        theta_a[k].mul_((1 - alpha) ** 2).add_(2 * alpha * (1 - alpha) * theta_mid[k]).add_(
            alpha**2 * theta_b[k]
        )
    return theta_a


def bez_no_validation(theta_a, theta_mid, theta_b, alpha):
    return {
        k: (1 - alpha) ** 2 * theta_a[k]
        + 2 * alpha * (1 - alpha) * theta_mid[k]
        + alpha**2 * theta_b[k]
        for k in theta_a
    }


def bez_float32(theta_a, theta_mid, theta_b, alpha):
    return {k: v.float() for k, v in ref.bezier_point(theta_a, theta_mid, theta_b, alpha).items()}


def bez_de_casteljau(theta_a, theta_mid, theta_b, alpha):
    _check_three(theta_a, theta_mid, theta_b)
    out = {}
    for k in theta_a:
        p = torch.lerp(theta_a[k], theta_mid[k], alpha)
        q = torch.lerp(theta_mid[k], theta_b[k], alpha)
        out[k] = torch.lerp(p, q, alpha)
    return out


def _three(theta_a, theta_mid, theta_b):
    for name, other in (("theta_mid", theta_mid), ("theta_b", theta_b)):
        if set(other) != set(theta_a):
            raise ParamsMismatchError(f"{name} has keys {sorted(other)}, theta_a {sorted(theta_a)}")
        for k in theta_a:
            if other[k].shape != theta_a[k].shape:
                raise ParamsMismatchError(f"{name}[{k!r}] has the wrong shape")


def bez_einsum(theta_a, theta_mid, theta_b, alpha):
    """float64 Bernstein weights cast to the params' dtype, einsum over the stacked points."""
    _three(theta_a, theta_mid, theta_b)
    w = ref.bernstein_weights(2, alpha)
    out = {}
    for k in theta_a:
        stacked = torch.stack([theta_a[k], theta_mid[k], theta_b[k]])
        out[k] = torch.einsum("i,i...->...", w.to(stacked.dtype), stacked)
    return out


def bez_numpy(theta_a, theta_mid, theta_b, alpha):
    """numpy tensordot of the three coefficients with the stacked arrays."""
    _three(theta_a, theta_mid, theta_b)
    c = np.array([(1 - alpha) ** 2, 2 * alpha * (1 - alpha), alpha**2])
    out = {}
    for k, a in theta_a.items():
        arr = np.stack([a.numpy(), theta_mid[k].numpy(), theta_b[k].numpy()])
        res = np.tensordot(c.astype(arr.dtype), arr, axes=1)
        out[k] = torch.as_tensor(np.array(res), dtype=a.dtype)
    return out


def bez_power_basis(theta_a, theta_mid, theta_b, alpha):
    """The power basis a + 2·alpha·(m − a) + alpha²·(a − 2m + b) (another rounding)."""
    _three(theta_a, theta_mid, theta_b)
    out = {}
    for k in theta_a:
        a, m, b = theta_a[k], theta_mid[k], theta_b[k]
        out[k] = a + 2 * alpha * (m - a) + alpha**2 * (a - 2 * m + b)
    return out


def bez_strict_key_order(theta_a, theta_mid, theta_b, alpha):
    """Rejects the same keys in another order too: stricter than the spec, but never wrong."""
    if not list(theta_a) == list(theta_mid) == list(theta_b):
        raise ValueError("theta_a, theta_mid and theta_b must list their keys in one order")
    return ref.bezier_point(theta_a, theta_mid, theta_b, alpha)


def bez_lagrange(theta_a, theta_mid, theta_b, alpha):
    """The parabola through theta_mid at alpha = 0.5 instead of the Bezier curve."""
    _three(theta_a, theta_mid, theta_b)
    return {
        k: (1 - alpha) * (1 - 2 * alpha) * theta_a[k]
        + 4 * alpha * (1 - alpha) * theta_mid[k]
        + alpha * (2 * alpha - 1) * theta_b[k]
        for k in theta_a
    }


def bez_ignores_mid(theta_a, theta_mid, theta_b, alpha):
    """The straight line: theta_mid is left out."""
    _three(theta_a, theta_mid, theta_b)
    return ref.interpolate(theta_a, theta_b, alpha)


def bez_no_squares(theta_a, theta_mid, theta_b, alpha):
    """(1 − alpha) and alpha instead of their squares (right at the endpoints only)."""
    _three(theta_a, theta_mid, theta_b)
    return {
        k: (1 - alpha) * theta_a[k] + 2 * alpha * (1 - alpha) * theta_mid[k] + alpha * theta_b[k]
        for k in theta_a
    }


def bez_zip_values(theta_a, theta_mid, theta_b, alpha):
    """Pairs the tensors by position: wrong when the dicts list their keys in other orders."""
    _three(theta_a, theta_mid, theta_b)
    return {
        k: (1 - alpha) ** 2 * a + 2 * alpha * (1 - alpha) * m + alpha**2 * b
        for (k, a), m, b in zip(theta_a.items(), theta_mid.values(), theta_b.values())
    }


def bez_shallow_copy(theta_a, theta_mid, theta_b, alpha):
    """dict(theta_mid) is shallow: the in-place *= and += change theta_mid's tensors."""
    _three(theta_a, theta_mid, theta_b)
    out = dict(theta_mid)
    for k in out:
        out[k] *= 2 * alpha * (1 - alpha)
        out[k] += (1 - alpha) ** 2 * theta_a[k] + alpha**2 * theta_b[k]
    return out


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (bez_no_factor_2, r"lacks the factor 2", "basic"),
        (bez_no_factor_2, r"lacks the factor 2", "linear_midpoint"),
        (bez_reversed, r"alpha = 0 must give theta_a", "endpoints"),
        (bez_in_place, r"modified in place", "no_mutation"),
        (bez_no_validation, r"instead of raising ValueError|raised KeyError", "errors"),
        (bez_float32, r"dtype torch\.float32, expected torch\.float64", "dtype"),
        (bez_lagrange, r"passes through theta_mid at alpha = 0\.5", "basic"),
        (bez_ignores_mid, r"straight line interpolate.*theta_mid is missing", "basic"),
        (bez_no_squares, r"differs in", "basic"),
        (bez_no_squares, r"differs in", "linear_midpoint"),
        (bez_zip_values, r"by position, not by key", "basic"),
        (bez_shallow_copy, r"theta_mid\['layer\.weight'\] was modified in place", "no_mutation"),
    ],
)
def test_bezier_point_wrong(fn, match, part):
    assert_fails("bezier_point", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn", [bez_de_casteljau, bez_einsum, bez_numpy, bez_power_basis, bez_strict_key_order]
)
def test_bezier_point_alternatives(fn):
    assert_passes_all("bezier_point", fn)


# ---------------------------------------------------------------------------------------------
# train_bezier_midpoint


def make_trainer(
    *,
    optimizer: str = "adam",
    generator: str = "seeded",
    batches: str = "randint",
    order: str = "alpha_first",
    start: str = "average",
    detach: bool = True,
    alpha_rule: str = "uniform",
    target: str = "curve",
    validate: bool = True,
    detach_ends: bool = True,
) -> Callable[..., dict]:
    """A train_bezier_midpoint with one knob per typical choice or mistake (alpha_rule "max":
    the seed text's error, the maximum of the loss over a grid of alphas, no alpha drawn)."""

    def train(model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0):
        if validate:
            _same_keys(theta_a, theta_b, "theta_a", "theta_b")
            if steps < 0 or lr <= 0 or batch_size < 1:
                raise ValueError("steps >= 0, lr > 0 and batch_size >= 1 are required")
        n = X.shape[0]
        a = {k: v.detach() for k, v in theta_a.items()}
        b = {k: v.detach() for k, v in theta_b.items()}
        ends = (a, b) if detach_ends else (theta_a, theta_b)  # the curve's own endpoints
        init = a if start == "theta_a" else {k: (a[k] + b[k]) / 2 for k in a}
        mid = {k: v.clone().requires_grad_(True) for k, v in init.items()}
        if optimizer == "adam":
            opt = torch.optim.Adam(mid.values(), lr=lr)
        else:
            opt = torch.optim.SGD(mid.values(), lr=lr)
        g = None
        if generator == "seeded":
            g = torch.Generator().manual_seed(seed)
        elif generator == "fixed":
            g = torch.Generator().manual_seed(0)
        elif generator == "global":
            torch.manual_seed(seed)

        def draw_alpha():
            if alpha_rule == "half":
                return 0.5
            if generator == "global":
                return float(torch.rand(()))
            return float(torch.empty(1).uniform_(0, 1, generator=g))

        def draw_batch():
            m = min(batch_size, n)
            if batches == "full":
                return torch.arange(n)
            if generator == "global":
                return torch.randint(0, n, (m,))
            if batches == "randperm":
                return torch.randperm(n, generator=g)[:m]
            return torch.randint(0, n, (m,), generator=g)

        for _ in range(steps):
            if order == "alpha_first":
                alpha = draw_alpha()
                idx = draw_batch()
            else:
                idx = draw_batch()
                alpha = draw_alpha()

            def point_at(t):
                ea, eb = ends
                return {
                    k: (1 - t) ** 2 * ea[k] + 2 * t * (1 - t) * mid[k] + t**2 * eb[k] for k in a
                }

            point = mid if target == "mid" else point_at(alpha)  # "mid": a model of its own
            loss = F.cross_entropy(functional_call(model, point, (X[idx],)), y[idx])
            if alpha_rule == "max":
                grid = [i / 10 for i in range(11)]
                losses = [
                    F.cross_entropy(functional_call(model, point_at(t), (X[idx],)), y[idx])
                    for t in grid
                ]
                loss = torch.stack(losses).max()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if detach:
            return {k: v.detach().clone() for k, v in mid.items()}
        return mid

    return train


def trainer_loads_model(
    model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0
):
    """Evaluates by loading the point into the model (so theta_mid gets no gradient)."""
    mid = ref.train_bezier_midpoint(
        model, theta_a, theta_b, X, y, steps=steps, lr=lr, batch_size=batch_size, seed=seed
    )
    model.load_state_dict(ref.bezier_point(theta_a, mid, theta_b, 0.5))
    return mid


def trainer_mutates_endpoints(model, theta_a, theta_b, X, y, **kwargs):
    mid = make_trainer()(model, theta_a, theta_b, X, y, **kwargs)
    for v in theta_a.values():
        v.requires_grad_(True)
    return mid


def _tbm_validate(theta_a, theta_b, steps, lr, batch_size):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    if steps < 0 or lr <= 0 or batch_size < 1:
        raise ValueError("steps >= 0, lr > 0 and batch_size >= 1 are required")


def trainer_flat_vector(
    model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0
):
    """One flat theta_mid vector, split back per key; randperm batch drawn before alpha."""
    _tbm_validate(theta_a, theta_b, steps, lr, batch_size)
    keys = list(theta_a)
    shapes = [theta_a[k].shape for k in keys]
    sizes = [theta_a[k].numel() for k in keys]
    a = torch.cat([theta_a[k].detach().reshape(-1) for k in keys])
    b = torch.cat([theta_b[k].detach().reshape(-1) for k in keys])
    mid = ((a + b) / 2).clone().requires_grad_(True)
    opt = torch.optim.Adam([mid], lr=lr)
    g = torch.Generator()
    g.manual_seed(seed)
    n = len(X)
    for _ in range(steps):
        idx = torch.randperm(n, generator=g)[: min(batch_size, n)]
        t = torch.rand(1, generator=g).item()
        point = (1 - t) ** 2 * a + 2 * t * (1 - t) * mid + t**2 * b
        params = {k: p.view(s) for k, p, s in zip(keys, point.split(sizes), shapes)}
        loss = F.cross_entropy(functional_call(model, params, (X[idx],)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = mid.detach().clone()
    return {k: p.view(s).clone() for k, p, s in zip(keys, final.split(sizes), shapes)}


class _Control(torch.nn.Module):
    """theta_mid as an nn.ParameterList (parameter names may not contain dots)."""

    def __init__(self, start):
        super().__init__()
        self.names = list(start)
        self.values = torch.nn.ParameterList(torch.nn.Parameter(v.clone()) for v in start.values())

    def as_dict(self):
        return dict(zip(self.names, self.values))


def trainer_module(model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0):
    """theta_mid in an nn.Module; alpha by uniform_, the batch by multinomial without replacement."""
    _tbm_validate(theta_a, theta_b, steps, lr, batch_size)
    a = {k: v.detach() for k, v in theta_a.items()}
    b = {k: v.detach() for k, v in theta_b.items()}
    control = _Control({k: 0.5 * a[k] + 0.5 * b[k] for k in a})
    opt = torch.optim.Adam(control.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    for _ in range(steps):
        t = float(torch.empty(()).uniform_(0.0, 1.0, generator=g))
        idx = torch.multinomial(torch.ones(n), min(batch_size, n), replacement=False, generator=g)
        point = ref.bezier_point(a, control.as_dict(), b, t)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(functional_call(model, point, X[idx]), y[idx]).backward()
        opt.step()
    return {k: v.detach().clone() for k, v in control.as_dict().items()}


def trainer_dataloader(
    model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0
):
    """Shuffled epochs from a DataLoader with generator=g; de Casteljau points by torch.lerp."""
    _tbm_validate(theta_a, theta_b, steps, lr, batch_size)
    g = torch.Generator().manual_seed(seed)
    a = {k: v.detach().clone() for k, v in theta_a.items()}
    b = {k: v.detach().clone() for k, v in theta_b.items()}
    mid = {k: torch.lerp(a[k], b[k], 0.5).requires_grad_() for k in a}
    opt = torch.optim.Adam(mid.values(), lr=lr)
    loader = DataLoader(
        TensorDataset(X, y),
        batch_size=min(batch_size, len(X)),
        shuffle=True,
        generator=g,
        drop_last=True,
    )
    done = 0
    while done < steps:
        for xb, yb in loader:
            if done == steps:
                break
            t = torch.rand((), generator=g).item()
            point = {
                k: torch.lerp(torch.lerp(a[k], mid[k], t), torch.lerp(mid[k], b[k], t), t)
                for k in a
            }
            loss = F.cross_entropy(functional_call(model, point, (xb,)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
    return {k: v.detach() for k, v in mid.items()}


def trainer_manual_adam(
    model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0
):
    """Adam written out by hand (default betas and eps), gradients by torch.autograd.grad."""
    _tbm_validate(theta_a, theta_b, steps, lr, batch_size)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    a = {k: v.detach() for k, v in theta_a.items()}
    b = {k: v.detach() for k, v in theta_b.items()}
    mid = {k: (a[k] + b[k]) / 2 for k in a}
    m = {k: torch.zeros_like(v) for k, v in mid.items()}
    v2 = {k: torch.zeros_like(v) for k, v in mid.items()}
    g = torch.Generator().manual_seed(seed)
    n = len(X)
    for step in range(1, steps + 1):
        t = float(torch.rand((), generator=g))
        idx = torch.randint(0, n, (min(batch_size, n),), generator=g)
        leaves = {k: val.clone().requires_grad_(True) for k, val in mid.items()}
        point = ref.bezier_point(a, leaves, b, t)
        loss = F.cross_entropy(functional_call(model, point, (X[idx],)), y[idx])
        grads = torch.autograd.grad(loss, list(leaves.values()))
        with torch.no_grad():
            for (k, val), gr in zip(mid.items(), grads):
                m[k] = beta1 * m[k] + (1 - beta1) * gr
                v2[k] = beta2 * v2[k] + (1 - beta2) * gr * gr
                m_hat = m[k] / (1 - beta1**step)
                v_hat = v2[k] / (1 - beta2**step)
                mid[k] = val - lr * m_hat / (v_hat.sqrt() + eps)
    return {k: val.detach().clone() for k, val in mid.items()}


def simple_trainer(
    *,
    zero_grad: bool = True,
    alpha_once: bool = False,
    reseed_each_step: bool = False,
    extra_step: bool = False,
    detach_ends: bool = True,
    pass_lr: bool = True,
    new_optimizer_each_step: bool = False,
    train_ends: bool = False,
    freeze_model: bool = False,
) -> Callable[..., dict]:
    """The reference's protocol with one knob per further typical mistake."""

    def train(model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0):
        _tbm_validate(theta_a, theta_b, steps, lr, batch_size)
        if freeze_model:  # "only theta_mid is trained": but the model is an input
            model.requires_grad_(False)
        if detach_ends:
            a = {k: v.detach() for k, v in theta_a.items()}
            b = {k: v.detach() for k, v in theta_b.items()}
        else:
            a, b = theta_a, theta_b
        mid = {k: ((a[k] + b[k]) / 2).clone().requires_grad_(True) for k in a}
        trained = list(mid.values())
        if train_ends:  # copies of the endpoints trained too: the curve's ends drift
            a = {k: v.clone().requires_grad_(True) for k, v in a.items()}
            b = {k: v.clone().requires_grad_(True) for k, v in b.items()}
            trained += [*a.values(), *b.values()]

        def new_optimizer():
            if pass_lr:
                return torch.optim.Adam(trained, lr=lr)
            return torch.optim.Adam(trained)

        opt = new_optimizer()
        g = torch.Generator().manual_seed(seed)
        n = len(X)
        t_once = float(torch.rand((), generator=g))
        for _ in range(steps + (1 if extra_step else 0)):
            if reseed_each_step:
                g = torch.Generator().manual_seed(seed)
            if new_optimizer_each_step:
                opt = new_optimizer()
            t = t_once if alpha_once else float(torch.rand((), generator=g))
            idx = torch.randint(0, n, (min(batch_size, n),), generator=g)
            loss = F.cross_entropy(
                functional_call(model, ref.bezier_point(a, mid, b, t), (X[idx],)), y[idx]
            )
            if zero_grad:
                opt.zero_grad()
            loss.backward()
            opt.step()
        return {k: v.detach().clone() for k, v in mid.items()}

    return train


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (make_trainer(optimizer="sgd"), r"Adam", "adam_step"),
        (make_trainer(batches="full"), r"minibatch of 8 rows", "minibatches"),
        (make_trainer(generator="global"), r"global random generator", "determinism"),
        (make_trainer(generator="fixed"), r"identical results", "determinism"),
        (make_trainer(detach=False), r"requires grad", "start"),
        (make_trainer(detach=False), r"requires grad", "result"),
        (make_trainer(start="theta_a"), r"Your result is theta_a", "start"),
        (
            make_trainer(start="theta_a"),
            r"away from the start \(theta_a \+ theta_b\) / 2",
            "result",
        ),
        (make_trainer(alpha_rule="half"), r"remove at least 75% of the barrier", "barrier"),
        (make_trainer(alpha_rule="max"), r"12 times per step.*not its maximum", "minibatches"),
        (
            make_trainer(detach_ends=False),
            r"argument 1\['0\.weight'\] was left with a gradient",
            "result",
        ),
        (make_trainer(validate=False), r"keys differ.*instead of raising ValueError", "start"),
        (make_trainer(target="mid"), r"remove at least 75% of the barrier", "barrier"),
        (trainer_loads_model, r"parameter '0\.weight' was changed", "result"),
        (trainer_mutates_endpoints, r"theta_a\[.*requires_grad changed", "result"),
        (
            simple_trainer(new_optimizer_each_step=True),
            r"Create torch\.optim\.Adam.* once",
            "adam_step",
        ),
        (simple_trainer(pass_lr=False), r"changed theta_mid by at most 0\.001", "adam_step"),
        (simple_trainer(extra_step=True), r"With steps = 0 nothing is trained", "start"),
        (simple_trainer(extra_step=True), r"more than lr", "adam_step"),
        (
            simple_trainer(detach_ends=False),
            r"raised ValueError: can't optimize a non-leaf",
            "start",
        ),
        (simple_trainer(freeze_model=True), r"requires_grad changed from True to False", "result"),
        (simple_trainer(zero_grad=False), r"remove at least 75% of the barrier", "barrier"),
        (simple_trainer(alpha_once=True), r"remove at least 75% of the barrier", "barrier"),
        (simple_trainer(reseed_each_step=True), r"remove at least 75% of the barrier", "barrier"),
    ],
)
def test_train_bezier_midpoint_wrong(fn, match, part):
    fails_part("train_bezier_midpoint", fn, part, match)


@pytest.mark.parametrize(
    "fn",
    [
        make_trainer(),
        make_trainer(batches="randperm", order="batch_first"),
        trainer_flat_vector,
        trainer_module,
        trainer_dataloader,
        trainer_manual_adam,
    ],
)
def test_train_bezier_midpoint_alternatives(fn):
    assert_passes_all("train_bezier_midpoint", fn)


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_train_bezier_barrier_part_is_robust_to_the_seed(seed):
    """The barrier property holds for other seeds and draw orders, not only the case's."""
    (case,) = cases("train_bezier_midpoint", "barrier")
    shifted = Case(case.label, case.args, {**case.kwargs, "seed": seed})
    for fn in (ref.train_bezier_midpoint, make_trainer(batches="randperm", order="batch_first")):
        outcome = run_case(fn, shifted, timeout=None)
        assert judge("train_bezier_midpoint", "barrier", shifted, outcome) is None


# Two case seeds whose first one-step case draws alpha within 1e-4 of an endpoint, so that the
# gradients are a few times Adam's eps: 8644235986645849355 (a demo student's; alpha 0.99993,
# 59% of the entries moved by about lr) and 4259823912817393576 (benchmarks/audit_case_seeds.py;
# alpha 1.19e-6, 25%, the largest change 0.9865·lr)
@pytest.mark.parametrize("case_seed", [None, 1, 12345, 8644235986645849355, 4259823912817393576])
def test_train_bezier_one_adam_step_cases_pass_the_reference_for_any_case_seed(case_seed):
    with seeding.cases_for(case_seed):
        one_step = [
            c for c in cases("train_bezier_midpoint", "adam_step") if c.kwargs["steps"] == 1
        ]
        assert len(one_step) == 2
        for case in one_step:
            outcome = run_case(ref.train_bezier_midpoint, case, timeout=None)
            assert judge("train_bezier_midpoint", "adam_step", case, outcome) is None, case.label


@pytest.mark.parametrize("seed", [0, 3, 8])
def test_train_bezier_adam_state_case_is_robust_to_the_seed(seed):
    """Adam kept across steps passes the several-steps case for other seeds and draw orders;
    an optimizer made anew every step fails it."""
    *_, case = cases("train_bezier_midpoint", "adam_step")
    assert case.kwargs["steps"] > 1
    shifted = Case(case.label, case.args, {**case.kwargs, "seed": seed})
    for fn in (ref.train_bezier_midpoint, trainer_flat_vector, trainer_module):
        outcome = run_case(fn, shifted, timeout=None)
        assert judge("train_bezier_midpoint", "adam_step", shifted, outcome) is None
    outcome = run_case(simple_trainer(new_optimizer_each_step=True), shifted, timeout=None)
    assert "whole multiple of lr" in (
        judge("train_bezier_midpoint", "adam_step", shifted, outcome) or ""
    )


@pytest.mark.xfail(
    strict=True,
    reason="known blind spot of the property checks: the order of random draws is free and "
    "only the returned theta_mid is observable, so training copies of the endpoints along "
    "with theta_mid (the curve's ends drift during training) goes unnoticed",
)
def test_train_bezier_training_the_endpoints_too_is_caught():
    assert_fails(
        "train_bezier_midpoint", simple_trainer(train_ends=True), match=r"endpoint|theta_a"
    )
