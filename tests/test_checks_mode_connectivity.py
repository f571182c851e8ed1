"""The hidden checks of notebook 01 grade well.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in test_checks_registry.py.)
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from autograder.checks import cases, check_function, judge, parts
from autograder.checks.call import run_case
from autograder.checks.types import Case
from solutions import mode_connectivity as ref
from tests.checks_support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# helpers


def fails_part(name: str, fn: Callable[..., Any], part: str, match: str) -> None:
    """`fn` fails `part` of `name` with a message matching `match` (only that part runs)."""
    with pytest.raises(AssertionError) as info:
        check_function(name, fn, part=part)
    assert re.search(match, str(info.value), re.I | re.S), str(info.value)


def _same_keys(theta_a, theta_b, *names):
    if set(theta_a) != set(theta_b):
        raise ValueError(f"{names[0]} and {names[1]} have different keys")
    for k in theta_a:
        if theta_a[k].shape != theta_b[k].shape:
            raise ValueError(f"{names[0]}[{k!r}] and {names[1]}[{k!r}] differ in shape")


def _floats(values, name, min_len=0):
    out = [float(v) for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]
    if len(out) < min_len:
        raise ValueError(f"{name} needs {min_len} values")
    if any(math.isnan(v) for v in out):
        raise ValueError(f"{name} contains NaN")
    return out


# ---------------------------------------------------------------------------------------------
# interpolate


def interp_reversed(theta_a, theta_b, alpha):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    return {k: alpha * theta_a[k] + (1 - alpha) * theta_b[k] for k in theta_a}


def interp_clamped(theta_a, theta_b, alpha):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    alpha = min(max(alpha, 0.0), 1.0)
    return {k: (1 - alpha) * theta_a[k] + alpha * theta_b[k] for k in theta_a}


def interp_in_place(theta_a, theta_b, alpha):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    for k in theta_a:
        theta_a[k].mul_(1 - alpha).add_(alpha * theta_b[k])
    return theta_a


def interp_no_validation(theta_a, theta_b, alpha):
    return {k: (1 - alpha) * theta_a[k] + alpha * theta_b[k] for k in theta_a}


def interp_float32(theta_a, theta_b, alpha):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    return {k: ((1 - alpha) * theta_a[k] + alpha * theta_b[k]).float() for k in theta_a}


def interp_lerp(theta_a, theta_b, alpha):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    return {k: torch.lerp(theta_a[k], theta_b[k], float(alpha)) for k in theta_a}


def interp_float64_inside(theta_a, theta_b, alpha):
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    out = {}
    for k in theta_a:
        a, b = theta_a[k].double(), theta_b[k].double()
        out[k] = (a + alpha * (b - a)).to(theta_a[k].dtype)
    return out


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (interp_reversed, r"alpha = 0 gives theta_a", "alpha_convention"),
        (interp_clamped, r"clamped", "extrapolation"),
        (interp_in_place, r"modified in place", "no_mutation"),
        (interp_no_validation, r"instead of raising ValueError|raised KeyError", "errors"),
        (interp_float32, r"dtype torch\.float32, expected torch\.float64", "dtype"),
    ],
)
def test_interpolate_wrong(fn, match, part):
    assert_fails("interpolate", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [interp_lerp, interp_float64_inside])
def test_interpolate_alternatives(fn):
    assert_passes_all("interpolate", fn)


# ---------------------------------------------------------------------------------------------
# loss_along_path


def _check_path_args(model, path, X, y):
    if not callable(path):
        raise ValueError("path must be callable")
    if X.shape[0] != y.shape[0]:
        raise ValueError("X and y differ in length")


def path_loads_into_model(model, path, X, y, alphas):
    _check_path_args(model, path, X, y)
    out = []
    with torch.no_grad():
        for a in _floats(alphas, "alphas"):
            model.load_state_dict(path(a))
            out.append(F.cross_entropy(model(X), y))
    return torch.stack(out)


def path_with_grad(model, path, X, y, alphas):
    _check_path_args(model, path, X, y)
    return torch.stack(
        [F.cross_entropy(functional_call(model, path(a), (X,)), y) for a in _floats(alphas, "a")]
    )


def path_eval_mode(model, path, X, y, alphas):
    _check_path_args(model, path, X, y)
    model.eval()
    with torch.no_grad():
        return torch.stack(
            [F.cross_entropy(functional_call(model, path(a), (X,)), y) for a in alphas]
        )


def path_eval_mode_restored(model, path, X, y, alphas):
    was_training = model.training
    try:
        return path_eval_mode(model, path, X, y, alphas)
    finally:
        model.train(was_training)


def path_ignores_path(model, path, X, y, alphas):
    _check_path_args(model, path, X, y)
    with torch.no_grad():
        return torch.stack([F.cross_entropy(model(X), y) for _ in alphas])


def path_list(model, path, X, y, alphas):
    return path_with_grad(model, path, X, y, alphas).detach().tolist()


def path_deepcopy(model, path, X, y, alphas):
    _check_path_args(model, path, X, y)
    clone = copy.deepcopy(model)
    losses = []
    with torch.no_grad():
        for a in torch.as_tensor(alphas, dtype=torch.float64):
            clone.load_state_dict(path(a))
            losses.append(F.cross_entropy(clone(X), y).item())
    return torch.tensor(losses)


def path_manual_nll(model, path, X, y, alphas):
    _check_path_args(model, path, X, y)
    losses = []
    for a in alphas:
        logits = functional_call(model, path(a), (X,))
        losses.append(-logits.log_softmax(dim=1).gather(1, y[:, None]).mean())
    return torch.stack(losses).detach()


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (path_loads_into_model, r"parameter '0\.weight' was changed", "no_mutation"),
        (path_with_grad, r"requires grad", "gradients"),
        (path_eval_mode, r"switched to eval mode", "mode"),
        (path_eval_mode_restored, r"losses are those of the model in eval mode", "mode"),
        (path_ignores_path, r"differs in", "basic"),
        (path_list, r"should be a torch\.Tensor", "basic"),
    ],
)
def test_loss_along_path_wrong(fn, match, part):
    assert_fails("loss_along_path", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [path_deepcopy, path_manual_nll])
def test_loss_along_path_alternatives(fn):
    assert_passes_all("loss_along_path", fn)


# ---------------------------------------------------------------------------------------------
# barrier_height


def barrier_interior_max(losses):
    values = _floats(losses, "losses", 2)
    return max(values[1:-1]) - (values[0] + values[-1]) / 2


def barrier_min_endpoint(losses):
    values = _floats(losses, "losses", 2)
    return max(values) - min(values[0], values[-1])


def barrier_no_validation(losses):
    values = [float(v) for v in losses]
    return max(values) - (values[0] + values[-1]) / 2 if values else 0.0


def barrier_numpy(losses):
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses needs at least two values and no NaN")
    return arr.max() - (arr[0] + arr[-1]) / 2


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (barrier_interior_max, r"expected 0\.45", "conventions"),
        (barrier_min_endpoint, r"expected 1\.095", "basic"),
        (barrier_no_validation, r"instead of raising ValueError", "errors"),
    ],
)
def test_barrier_height_wrong(fn, match, part):
    assert_fails("barrier_height", fn, match=match, in_parts=[part])


def test_barrier_height_alternative():
    assert_passes_all("barrier_height", barrier_numpy)


# ---------------------------------------------------------------------------------------------
# interpolated_barrier


def _ib_inputs(losses, alphas, *, exact_ends=False):
    values = _floats(losses, "losses", 2)
    n = len(values)
    if alphas is None:
        return values, [i / (n - 1) for i in range(n)]
    positions = _floats(alphas, "alphas")
    if len(positions) != n:
        raise ValueError("alphas and losses differ in length")
    tol = 0.0 if exact_ends else 1e-6
    if abs(positions[0]) > tol or abs(positions[-1] - 1) > tol:
        raise ValueError("alphas must run from 0 to 1")
    return values, positions


def ib_is_barrier_height(losses, alphas=None):
    values, _ = _ib_inputs(losses, alphas)
    return max(values) - (values[0] + values[-1]) / 2


def ib_wrong_spacing(losses, alphas=None):
    values, positions = _ib_inputs(losses, alphas)
    if alphas is None:
        positions = [i / len(values) for i in range(len(values))]
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_swapped_line(losses, alphas=None):
    values, positions = _ib_inputs(losses, alphas)
    return max(v - (a * values[0] + (1 - a) * values[-1]) for v, a in zip(values, positions))


def ib_exact_ends(losses, alphas=None):
    values, positions = _ib_inputs(losses, alphas, exact_ends=True)
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_ignores_alphas(losses, alphas=None):
    values, _ = _ib_inputs(losses, alphas)
    n = len(values)
    return max(
        v - ((n - 1 - i) * values[0] + i * values[-1]) / (n - 1) for i, v in enumerate(values)
    )


def ib_no_length_check(losses, alphas=None):
    values = _floats(losses, "losses", 2)
    positions = (
        [i / (len(values) - 1) for i in range(len(values))] if alphas is None else list(alphas)
    )
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_torch(losses, alphas=None):
    values = torch.as_tensor(losses, dtype=torch.float64)
    if values.numel() < 2 or bool(values.isnan().any()):
        raise ValueError("losses: at least 2 values, no NaN")
    if alphas is None:
        positions = torch.linspace(0, 1, values.numel(), dtype=torch.float64)
    else:
        positions = torch.as_tensor(alphas, dtype=torch.float64)
        if positions.shape != values.shape:
            raise ValueError("alphas must have one value per loss")
        if not (
            math.isclose(positions[0], 0, abs_tol=1e-6)
            and math.isclose(positions[-1], 1, abs_tol=1e-6)
        ):
            raise ValueError("alphas must start at 0 and end at 1")
    line = torch.lerp(values[0], values[-1], positions)
    return (values - line).max()


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ib_is_barrier_height, r"equals barrier_height", "default_alphas"),
        (ib_wrong_spacing, r"expected 1\.095, got 1\.096", "default_alphas"),
        (ib_swapped_line, r"line runs the wrong way", "default_alphas"),
        (ib_exact_ends, r"raised ValueError.*alphas\[0\] may differ from 0", "explicit_alphas"),
        (ib_ignores_alphas, r"uneven alphas", "explicit_alphas"),
        (ib_no_length_check, r"instead of raising ValueError", "errors"),
    ],
)
def test_interpolated_barrier_wrong(fn, match, part):
    assert_fails("interpolated_barrier", fn, match=match, in_parts=[part])


def test_interpolated_barrier_alternative():
    assert_passes_all("interpolated_barrier", ib_torch)


# ---------------------------------------------------------------------------------------------
# is_linearly_connected


def ilc_float32(losses, delta):
    t = torch.as_tensor(losses)
    if t.numel() < 2 or bool(t.isnan().any()):
        raise ValueError("losses: at least 2 values, no NaN")
    return bool((t <= torch.maximum(t[0], t[-1]) + delta).all())


def ilc_strict(losses, delta):
    values = _floats(losses, "losses", 2)
    return all(v < max(values[0], values[-1]) + delta for v in values[1:-1])


def ilc_min_endpoint(losses, delta):
    values = _floats(losses, "losses", 2)
    return all(v <= min(values[0], values[-1]) + delta for v in values[1:-1])


def ilc_int(losses, delta):
    values = _floats(losses, "losses", 2)
    return int(all(v <= max(values[0], values[-1]) + delta for v in values))


def ilc_no_nan_check(losses, delta):
    values = [float(v) for v in losses]
    if len(values) < 2:
        raise ValueError("losses: at least 2 values")
    return all(v <= max(values[0], values[-1]) + delta for v in values)


def ilc_numpy(losses, delta):
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses: at least 2 values, no NaN")
    return np.all(arr <= np.maximum(arr[0], arr[-1]) + delta)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ilc_float32, r"expected False, got True.*compare in float64", "float64"),
        (ilc_strict, r"expected True, got False.*≤, not <", "threshold"),
        (ilc_min_endpoint, r"larger endpoint", "threshold"),
        (ilc_int, r"should be a bool", "basic"),
        (ilc_no_nan_check, r"instead of raising ValueError", "errors"),
    ],
)
def test_is_linearly_connected_wrong(fn, match, part):
    assert_fails("is_linearly_connected", fn, match=match, in_parts=[part])


def test_is_linearly_connected_alternative():
    assert_passes_all("is_linearly_connected", ilc_numpy)


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


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (bern_reversed, r"reverse order", "basic"),
        (bern_float32, r"dtype torch\.float32, expected torch\.float64", "dtype"),
        (bern_log, r"NaN.*0\*\*0 = 1", "endpoints"),
        (bern_list, r"should be a torch\.Tensor", "basic"),
        (bern_no_validation, r"instead of raising ValueError", "errors"),
        (bern_no_binomial, r"expected 0\.5, got 0\.25", "basic"),
    ],
)
def test_bernstein_weights_wrong(fn, match, part):
    assert_fails("bernstein_weights", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [bern_recursive, bern_float32_inside])
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


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (bez_no_factor_2, r"lacks the factor 2", "basic"),
        (bez_no_factor_2, r"lacks the factor 2", "linear_midpoint"),
        (bez_reversed, r"alpha = 0 must give theta_a", "endpoints"),
        (bez_in_place, r"modified in place", "no_mutation"),
        (bez_no_validation, r"instead of raising ValueError|raised KeyError", "errors"),
        (bez_float32, r"dtype torch\.float32, expected torch\.float64", "dtype"),
    ],
)
def test_bezier_point_wrong(fn, match, part):
    assert_fails("bezier_point", fn, match=match, in_parts=[part])


def test_bezier_point_alternative():
    assert_passes_all("bezier_point", bez_de_casteljau)


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
) -> Callable[..., dict]:
    """A train_bezier_midpoint with one knob per typical choice or mistake."""

    def train(model, theta_a, theta_b, X, y, *, steps=500, lr=0.01, batch_size=128, seed=0):
        _same_keys(theta_a, theta_b, "theta_a", "theta_b")
        if steps < 0 or lr <= 0 or batch_size < 1:
            raise ValueError("steps >= 0, lr > 0 and batch_size >= 1 are required")
        n = X.shape[0]
        a = {k: v.detach() for k, v in theta_a.items()}
        b = {k: v.detach() for k, v in theta_b.items()}
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
            point = {
                k: (1 - alpha) ** 2 * a[k] + 2 * alpha * (1 - alpha) * mid[k] + alpha**2 * b[k]
                for k in a
            }
            if target == "mid":  # trains theta_mid as a model of its own
                point = mid
            loss = F.cross_entropy(functional_call(model, point, (X[idx],)), y[idx])
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
        (make_trainer(alpha_rule="half"), r"remove at least 75% of the barrier", "barrier"),
        (make_trainer(target="mid"), r"remove at least 75% of the barrier", "barrier"),
        (trainer_loads_model, r"parameter '0\.weight' was changed", "result"),
        (trainer_mutates_endpoints, r"theta_a\[.*requires_grad changed", "result"),
    ],
)
def test_train_bezier_midpoint_wrong(fn, match, part):
    fails_part("train_bezier_midpoint", fn, part, match)


@pytest.mark.parametrize(
    "fn",
    [
        make_trainer(),
        make_trainer(batches="randperm", order="batch_first"),
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


# ---------------------------------------------------------------------------------------------
# linear_basins


def _connected(losses, pairs, delta):
    values = _floats(losses, "endpoint_losses")
    edges = []
    for (i, j), m in pairs.items():
        if m <= max(values[i], values[j]) + delta:
            edges.append((i, j))
    return values, edges


def basins_direct_only(endpoint_losses, path_max_losses, delta):
    values, edges = _connected(endpoint_losses, path_max_losses, delta)
    groups = []
    for i in range(len(values)):
        group = {i} | {j for a, b in edges for j in (a, b) if i in (a, b)}
        if group not in groups:
            groups.append(group)
    return sorted(groups, key=min)


def basins_first_loss_only(endpoint_losses, path_max_losses, delta):
    values = _floats(endpoint_losses, "endpoint_losses")
    pairs = {(i, j): m for (i, j), m in path_max_losses.items() if m <= values[i] + delta}
    return ref.linear_basins(values, dict.fromkeys(pairs, -math.inf), 0.0)


def basins_strict(endpoint_losses, path_max_losses, delta):
    values = _floats(endpoint_losses, "endpoint_losses")
    connected = {
        p: m for p, m in path_max_losses.items() if m < max(values[p[0]], values[p[1]]) + delta
    }
    return ref.linear_basins(values, dict.fromkeys(connected, -math.inf), 0.0)


def basins_lists(endpoint_losses, path_max_losses, delta):
    return [sorted(s) for s in ref.linear_basins(endpoint_losses, path_max_losses, delta)]


def basins_by_size(endpoint_losses, path_max_losses, delta):
    return sorted(ref.linear_basins(endpoint_losses, path_max_losses, delta), key=len, reverse=True)


def basins_only_paired(endpoint_losses, path_max_losses, delta):
    members = {i for pair in path_max_losses for i in pair}
    return [s for s in ref.linear_basins(endpoint_losses, path_max_losses, delta) if s <= members]


def basins_bfs(endpoint_losses, path_max_losses, delta):
    values, edges = _connected(endpoint_losses, path_max_losses, delta)
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(values))}
    for i, j in edges:
        neighbours[i].append(j)
        neighbours[j].append(i)
    seen: set[int] = set()
    out = []
    for start in range(len(values)):
        if start in seen:
            continue
        component, queue = {start}, [start]
        while queue:
            for j in neighbours[queue.pop()]:
                if j not in component:
                    component.add(j)
                    queue.append(j)
        seen |= component
        out.append(component)
    return out


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (basins_direct_only, r"expected \[\[0, 1, 2\]\]", "components"),
        (basins_first_loss_only, r"larger endpoint", "threshold"),
        (basins_strict, r"the comparison is ≤", "threshold"),
        (basins_lists, r"should be a set", "basic"),
        (basins_by_size, r"sort them by their smallest member", "components"),
        (basins_only_paired, r"expected \[\[0, 2\], \[1\]\], got \[\[0, 2\]\]", "components"),
    ],
)
def test_linear_basins_wrong(fn, match, part):
    assert_fails("linear_basins", fn, match=match, in_parts=[part])


def test_linear_basins_alternative():
    assert_passes_all("linear_basins", basins_bfs)


# ---------------------------------------------------------------------------------------------
# average_params


def _check_members(params_list, weights, *, exact_sum=False):
    if not params_list:
        raise ValueError("params_list is empty")
    for p in params_list[1:]:
        _same_keys(params_list[0], p, "params_list[0]", "params_list[i]")
    if weights is None:
        return [1 / len(params_list)] * len(params_list)
    w = _floats(weights, "weights")
    if len(w) != len(params_list) or any(v < 0 for v in w):
        raise ValueError("weights: one non-negative weight per member")
    if (sum(w) != 1) if exact_sum else abs(sum(w) - 1) > 1e-6:
        raise ValueError("weights must sum to 1")
    return w


def avg_ignores_weights(params_list, weights=None):
    _check_members(params_list, weights)
    return {k: sum(p[k] for p in params_list) / len(params_list) for k in params_list[0]}


def avg_no_sum_check(params_list, weights=None):
    if not params_list:
        raise ValueError("params_list is empty")
    w = [1 / len(params_list)] * len(params_list) if weights is None else list(weights)
    return {k: sum(wi * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_in_place(params_list, weights=None):
    w = _check_members(params_list, weights)
    out = params_list[0]
    for k in out:
        out[k].mul_(w[0])
        for wi, p in zip(w[1:], params_list[1:]):
            out[k].add_(wi * p[k])
    return out


def avg_exact_sum(params_list, weights=None):
    w = _check_members(params_list, weights, exact_sum=True)
    return {k: sum(wi * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_float32_accumulator(params_list, weights=None):
    w = _check_members(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        total = torch.zeros(v.shape)
        for wi, p in zip(w, params_list):
            total += wi * p[k]
        out[k] = total
    return out


def avg_stacked(params_list, weights=None):
    w = _check_members(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        stacked = torch.stack([p[k] for p in params_list])
        out[k] = torch.tensordot(torch.tensor(w, dtype=v.dtype), stacked, dims=1)
    return out


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (avg_ignores_weights, r"ignores the weights", "weights"),
        (avg_no_sum_check, r"instead of raising ValueError", "errors"),
        (avg_in_place, r"modified in place", "no_mutation"),
        (avg_exact_sum, r"raised ValueError.*within the tolerance 1e-6", "weights"),
        (avg_float32_accumulator, r"dtype torch\.float32, expected torch\.float64", "dtype"),
    ],
)
def test_average_params_wrong(fn, match, part):
    assert_fails("average_params", fn, match=match, in_parts=[part])


def test_average_params_alternative():
    assert_passes_all("average_params", avg_stacked)


# ---------------------------------------------------------------------------------------------
# ensemble_probs


def ens_mean_logits(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    with torch.no_grad():
        logits = torch.stack([functional_call(model, p, (X,)) for p in params_list])
        return logits.mean(0).softmax(-1)


def ens_with_grad(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    return torch.stack([functional_call(model, p, (X,)).softmax(-1) for p in params_list]).mean(0)


def ens_loads_model(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    probs = []
    with torch.no_grad():
        for p in params_list:
            model.load_state_dict(p)
            probs.append(model(X).softmax(-1))
    return sum(probs) / len(probs)


def ens_no_empty_check(model, params_list, X):
    with torch.no_grad():
        return sum(functional_call(model, p, (X,)).softmax(-1) for p in params_list) / len(
            params_list
        )


def ens_log_probs(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    with torch.no_grad():
        return torch.stack(
            [functional_call(model, p, (X,)).log_softmax(-1) for p in params_list]
        ).mean(0)


def ens_deepcopy(model, params_list, X):
    if len(params_list) == 0:
        raise ValueError("params_list must not be empty")
    clone = copy.deepcopy(model)
    total = None
    with torch.inference_mode():
        for p in params_list:
            clone.load_state_dict(p)
            probs = F.softmax(clone(X), dim=1)
            total = probs if total is None else total + probs
    return (total / len(params_list)).clone()


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ens_mean_logits, r"averaged logits", "basic"),
        (ens_with_grad, r"requires grad", "gradients"),
        (ens_loads_model, r"parameter '0\.weight' was changed", "no_mutation"),
        (ens_no_empty_check, r"raised ZeroDivisionError", "errors"),
        (ens_log_probs, r"differs in", "basic"),
    ],
)
def test_ensemble_probs_wrong(fn, match, part):
    assert_fails("ensemble_probs", fn, match=match, in_parts=[part])


def test_ensemble_probs_alternative():
    assert_passes_all("ensemble_probs", ens_deepcopy)


# ---------------------------------------------------------------------------------------------
# registry-level facts of this notebook


def test_every_function_of_notebook_01_has_3_to_6_parts():
    for name in ref.__all__:
        assert 3 <= len(parts(name)) <= 6, (name, parts(name))


def test_builders_are_deterministic_and_mode_dependent():
    """Trained endpoints rebuild bitwise; the mode-scaled model really depends on its mode."""
    from autograder.checks.builders import get_builder

    first = get_builder("barrier_endpoint")(seed=1)
    again = get_builder("barrier_endpoint")(seed=1)
    assert all(torch.equal(first[k], again[k]) for k in first)
    first["0.weight"].add_(1.0)  # a student's in-place change never reaches the cache
    assert torch.equal(get_builder("barrier_endpoint")(seed=1)["0.weight"], again["0.weight"])
    model = get_builder("mode_scaled_mlp")(seed=0, train_mode=True)
    X = torch.randn(4, 2, generator=torch.Generator().manual_seed(0))
    train_out = model(X)
    model.eval()
    assert torch.allclose(train_out, 2.0 * model(X))


def test_spy_model_records_rows_through_deep_copies():
    from autograder.checks.builders import get_builder

    probe: dict = {}
    model = get_builder("spy_mlp")(probe=probe, seed=0)
    X = torch.zeros(5, 2)
    functional_call(model, dict(model.named_parameters()), (X[:3],))
    copy.deepcopy(model)(X)
    assert probe["forward_rows"] == [3, 5]
