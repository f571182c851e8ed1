"""Tests of the reference solutions of notebook 01 (solutions/mode_connectivity/).

Every expected value comes from an independent oracle: the seed's worked example 1 and
practice problem 1, hand-computed values, per-entry formulas, model copies loaded with
``load_state_dict`` and evaluated directly, brute-force graph reachability, and Adam's
closed-form first step, and brute force over every permutation of hidden units. No test
compares a function with itself.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from solutions.mode_connectivity import (
    ALPHA_ENDPOINT_TOL,
    WEIGHT_SUM_TOL,
    align_hidden_units,
    average_params,
    barrier_height,
    bernstein_weights,
    bezier_point,
    ensemble_probs,
    interpolate,
    interpolated_barrier,
    is_linearly_connected,
    linear_basins,
    loss_along_path,
    train_bezier_midpoint,
)

WORKED_EXAMPLE_1 = [0.32, 0.55, 1.42, 0.58, 0.33]  # L(0), L(0.25), L(0.5), L(0.75), L(1)
WORKED_EXAMPLE_1_BARRIER = 1.095
FAST = settings(max_examples=40, deadline=None)
NUM_CLASSES = 3


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny models run fastest on one thread; several threads thrash on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------------------------
# Helpers: tiny models, parameter dicts and an independent loss oracle
# --------------------------------------------------------------------------------------------


def tiny_mlp(seed: int, hidden: int = 8, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, NUM_CLASSES)).to(dtype)


def bn_mlp(seed: int) -> nn.Sequential:
    """A model whose output depends on train/eval mode deterministically (BatchNorm)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, NUM_CLASSES))


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def random_params(seed: int, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "w": torch.randn(3, 4, generator=g, dtype=dtype),
        "b": torch.randn(4, generator=g, dtype=dtype),
        "s": torch.randn((), generator=g, dtype=dtype),
    }


def clone_params(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in params.items()}


def assert_params_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def model_snapshot(model: nn.Module) -> tuple[dict[str, torch.Tensor], bool]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, model.training


def assert_model_unchanged(model: nn.Module, snapshot) -> None:
    state, training = snapshot
    assert model.training == training
    assert_params_equal({k: v.detach() for k, v in model.state_dict().items()}, state)
    for p in model.parameters():
        assert p.grad is None


def oracle_logits(model: nn.Module, params: dict[str, torch.Tensor], X: torch.Tensor):
    """Logits of a deep copy of ``model`` loaded with ``params`` (mode copied)."""
    twin = copy.deepcopy(model)
    twin.load_state_dict(params, strict=False)
    twin.train(model.training)
    with torch.no_grad():
        return twin(X)


def oracle_loss(model, params, X, y) -> float:
    return float(F.cross_entropy(oracle_logits(model, params, X), y))


def toy_data(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g), torch.randint(0, NUM_CLASSES, (n,), generator=g)


# --------------------------------------------------------------------------------------------
# interpolate
# --------------------------------------------------------------------------------------------


@FAST
@given(alpha=st.floats(-2.0, 3.0, allow_nan=False), seed=st.integers(0, 10_000))
def test_interpolate_matches_per_entry_formula(alpha, seed):
    """Each entry is (1 − alpha)·a + alpha·b, for any real alpha (extrapolation too)."""
    theta_a, theta_b = random_params(seed), random_params(seed + 1)
    out = interpolate(theta_a, theta_b, alpha)
    assert list(out) == list(theta_a)
    for k in theta_a:
        assert out[k].shape == theta_a[k].shape
        flat_a, flat_b = theta_a[k].flatten().tolist(), theta_b[k].flatten().tolist()
        expected = [(1 - alpha) * a + alpha * b for a, b in zip(flat_a, flat_b)]
        assert out[k].flatten().tolist() == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_interpolate_endpoints_exact():
    theta_a, theta_b = random_params(0), random_params(1)
    assert_params_equal(interpolate(theta_a, theta_b, 0.0), theta_a)
    assert_params_equal(interpolate(theta_a, theta_b, 1.0), theta_b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_interpolate_keeps_dtype(dtype):
    out = interpolate(random_params(0, dtype), random_params(1, dtype), 0.3)
    assert all(v.dtype == dtype for v in out.values())


@pytest.mark.parametrize("alpha", [0.25, np.float64(0.25), np.float32(0.25), torch.tensor(0.25), 1])
def test_interpolate_accepts_scalar_types(alpha):
    theta_a, theta_b = random_params(0), random_params(1)
    out = interpolate(theta_a, theta_b, alpha)
    a = float(alpha)
    for k in theta_a:
        torch.testing.assert_close(out[k], (1 - a) * theta_a[k] + a * theta_b[k])


def test_interpolate_no_mutation_no_aliasing():
    theta_a, theta_b = random_params(0), random_params(1)
    before_a, before_b = clone_params(theta_a), clone_params(theta_b)
    for alpha in (0.0, 0.5, 1.0):
        out = interpolate(theta_a, theta_b, alpha)
        for k in out:
            assert out[k].data_ptr() not in (theta_a[k].data_ptr(), theta_b[k].data_ptr())
            out[k].add_(100.0)
    assert_params_equal(theta_a, before_a)
    assert_params_equal(theta_b, before_b)


def test_interpolate_value_errors():
    theta_a, theta_b = random_params(0), random_params(1)
    missing = {k: v for k, v in theta_b.items() if k != "b"}
    with pytest.raises(ValueError, match="theta"):
        interpolate(theta_a, missing, 0.5)
    renamed = {("c" if k == "b" else k): v for k, v in theta_b.items()}
    with pytest.raises(ValueError, match="theta"):
        interpolate(theta_a, renamed, 0.5)
    reshaped = dict(theta_b, w=theta_b["w"].T.contiguous())
    with pytest.raises(ValueError, match="theta"):
        interpolate(theta_a, reshaped, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        interpolate(theta_a, theta_b, float("nan"))
    with pytest.raises(ValueError, match="alpha"):
        interpolate(theta_a, theta_b, "half")


# --------------------------------------------------------------------------------------------
# loss_along_path
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_tensor", [False, True])
def test_loss_along_path_matches_model_copies(as_tensor):
    """Each entry is the cross-entropy of a model copy loaded with path(alpha)."""
    model = tiny_mlp(0)
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data()
    alphas = [0.0, 0.2, 0.5, 0.9, 1.0, 1.5]
    snapshot = model_snapshot(model)
    before_a = clone_params(theta_a)

    def path(alpha):
        assert isinstance(alpha, float)
        return {k: (1 - alpha) * theta_a[k] + alpha * theta_b[k] for k in theta_a}

    losses = loss_along_path(model, path, X, y, torch.tensor(alphas) if as_tensor else alphas)
    assert isinstance(losses, torch.Tensor)
    assert losses.shape == (len(alphas),)
    assert losses.dtype == torch.float32
    assert not losses.requires_grad
    expected = [oracle_loss(model, path(float(a)), X, y) for a in torch.tensor(alphas).tolist()]
    assert losses.tolist() == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert_model_unchanged(model, snapshot)
    assert_params_equal(theta_a, before_a)


def test_loss_along_path_numpy_alphas_and_float64_model():
    model = tiny_mlp(0, dtype=torch.float64)
    theta = params_of(tiny_mlp(3, dtype=torch.float64))
    X, y = toy_data()
    losses = loss_along_path(model, lambda a: theta, X.double(), y, np.array([0.0, 1.0]))
    assert losses.dtype == torch.float64
    expected = oracle_loss(model, theta, X.double(), y)
    assert losses.tolist() == pytest.approx([expected, expected], rel=1e-12)


def test_loss_along_path_without_grad_even_if_params_require_grad():
    model = tiny_mlp(0)
    theta = {k: v.clone().requires_grad_(True) for k, v in params_of(tiny_mlp(1)).items()}
    X, y = toy_data()
    losses = loss_along_path(model, lambda a: theta, X, y, [0.0, 0.5])
    assert not losses.requires_grad
    assert all(v.grad is None for v in theta.values())


@pytest.mark.parametrize("training", [True, False])
def test_loss_along_path_keeps_mode_and_buffers(training):
    """BatchNorm: train mode uses batch statistics, eval mode running ones; buffers untouched."""
    model = bn_mlp(0)
    model.train(training)
    theta = params_of(bn_mlp(1))
    X, y = toy_data()
    snapshot = model_snapshot(model)
    losses = loss_along_path(model, lambda a: theta, X, y, [0.0, 1.0])
    expected = oracle_loss(model, theta, X, y)
    assert losses.tolist() == pytest.approx([expected, expected], rel=1e-5)
    other_mode = copy.deepcopy(model).train(not training)
    assert abs(oracle_loss(other_mode, theta, X, y) - expected) > 1e-4  # the mode matters here
    assert_model_unchanged(model, snapshot)


def test_loss_along_path_does_not_mutate_buffers_returned_by_path():
    model = bn_mlp(0).train()
    state = {k: v.clone() for k, v in bn_mlp(1).state_dict().items()}
    before = clone_params(state)
    X, y = toy_data()
    loss_along_path(model, lambda a: state, X, y, [0.0, 0.5, 1.0])
    assert_params_equal(state, before)


def test_loss_along_path_empty_alphas():
    X, y = toy_data()
    losses = loss_along_path(tiny_mlp(0), lambda a: params_of(tiny_mlp(0)), X, y, [])
    assert losses.shape == (0,)


def test_loss_along_path_value_errors():
    model = tiny_mlp(0)
    theta = params_of(model)
    X, y = toy_data()
    with pytest.raises(ValueError, match="X"):
        loss_along_path(model, lambda a: theta, X, y[:-1], [0.0])
    with pytest.raises(ValueError, match="path"):
        loss_along_path(model, theta, X, y, [0.0])
    with pytest.raises(ValueError, match="alphas"):
        loss_along_path(model, lambda a: theta, X, y, [0.0, float("nan")])
    with pytest.raises(ValueError, match="path"):
        loss_along_path(model, lambda a: dict(theta, extra=torch.zeros(1)), X, y, [0.0])
    partial = {k: v for k, v in theta.items() if k != "0.bias"}
    with pytest.raises(ValueError, match="path"):
        loss_along_path(model, lambda a: partial, X, y, [0.0])
    wrong_shape = dict(theta, **{"0.bias": torch.zeros(5)})
    with pytest.raises(ValueError, match="path"):
        loss_along_path(model, lambda a: wrong_shape, X, y, [0.0])
    with pytest.raises(ValueError, match="model"):
        loss_along_path("model", lambda a: theta, X, y, [0.0])


# --------------------------------------------------------------------------------------------
# barrier_height, interpolated_barrier, is_linearly_connected
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "losses",
    [
        WORKED_EXAMPLE_1,
        tuple(WORKED_EXAMPLE_1),
        np.array(WORKED_EXAMPLE_1),
        torch.tensor(WORKED_EXAMPLE_1, dtype=torch.float64),
    ],
    ids=["list", "tuple", "numpy", "tensor64"],
)
def test_barrier_height_worked_example_1(losses):
    """Seed, worked example 1: 1.42 − (0.32 + 0.33)/2 = 1.095."""
    result = barrier_height(losses)
    assert type(result) is float
    assert result == pytest.approx(WORKED_EXAMPLE_1_BARRIER, abs=1e-12)


def test_barrier_height_float32_tensor():
    result = barrier_height(torch.tensor(WORKED_EXAMPLE_1, dtype=torch.float32))
    assert result == pytest.approx(WORKED_EXAMPLE_1_BARRIER, abs=1e-6)


@pytest.mark.parametrize(
    ("losses", "expected"),
    [([0.5, 0.5], 0.0), ([1.0, 0.0], 0.5), ([0.0, 2.0, 1.0], 1.5), ([3.0, 1.0, 3.0], 0.0)],
)
def test_barrier_height_by_hand(losses, expected):
    assert barrier_height(losses) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("bad", [[], [0.3], [0.1, float("nan"), 0.2], np.array([np.nan, 1.0])])
def test_barrier_height_value_errors(bad):
    with pytest.raises(ValueError, match="losses"):
        barrier_height(bad)


@pytest.mark.parametrize(
    ("losses", "alphas", "expected"),
    [
        # Worked example 1 on its grid: the line from 0.32 to 0.33 is 0.325 at alpha 0.5.
        (WORKED_EXAMPLE_1, None, 1.095),
        (WORKED_EXAMPLE_1, [0.0, 0.25, 0.5, 0.75, 1.0], 1.095),
        # Losses exactly on the line: no barrier.
        ([0.0, 1.0, 2.0], None, 0.0),
        # A dip below the line: the endpoints (0 by definition) are the max.
        ([1.0, 0.0, 1.0], None, 0.0),
        # Unevenly spaced alphas: the line at 0.1 is 0.1, so 0.5 − 0.1 = 0.4
        # (Frankle's definition would give 1.0 − 0.5 = 0.5 here).
        ([0.0, 0.5, 1.0], [0.0, 0.1, 1.0], 0.4),
        # Four points, default alphas 0, 1/3, 2/3, 1; line 3, 2, 1, 0.
        ([3.0, 2.5, 2.0, 0.0], None, 1.0),
    ],
)
def test_interpolated_barrier_by_hand(losses, alphas, expected):
    result = interpolated_barrier(losses, alphas)
    assert type(result) is float
    assert result == pytest.approx(expected, abs=1e-12)


@FAST
@given(
    losses=st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=2, max_size=12),
)
def test_interpolated_barrier_matches_numpy_on_default_grid(losses):
    values = np.array(losses)
    grid = np.linspace(0.0, 1.0, len(values))
    line = (1 - grid) * values[0] + grid * values[-1]
    assert interpolated_barrier(losses) == pytest.approx(np.max(values - line), abs=1e-12)
    assert interpolated_barrier(torch.tensor(losses, dtype=torch.float64)) == pytest.approx(
        np.max(values - line), abs=1e-12
    )


def test_interpolated_barrier_alpha_endpoint_tolerance():
    losses = [0.2, 1.0, 0.4]
    inside = ALPHA_ENDPOINT_TOL / 2
    assert interpolated_barrier(losses, [inside, 0.5, 1.0 - inside]) == pytest.approx(0.7, abs=1e-5)
    with pytest.raises(ValueError, match="alphas"):
        interpolated_barrier(losses, [3 * ALPHA_ENDPOINT_TOL, 0.5, 1.0])
    with pytest.raises(ValueError, match="alphas"):
        interpolated_barrier(losses, [0.0, 0.5, 1.0 - 3 * ALPHA_ENDPOINT_TOL])


@pytest.mark.parametrize(
    ("losses", "alphas", "name"),
    [
        ([0.3], None, "losses"),
        ([], None, "losses"),
        ([0.3, float("nan"), 0.1], None, "losses"),
        ([0.3, 0.4, 0.1], [0.0, 1.0], "alphas"),
        ([0.3, 0.4, 0.1], [0.0, 0.5, 0.7, 1.0], "alphas"),
        ([0.3, 0.4, 0.1], [0.0, float("nan"), 1.0], "alphas"),
        ([0.3, 0.4, 0.1], [0.1, 0.5, 1.0], "alphas"),
        ([0.3, 0.4, 0.1], [0.0, 0.5, 0.9], "alphas"),
    ],
)
def test_interpolated_barrier_value_errors(losses, alphas, name):
    with pytest.raises(ValueError, match=name):
        interpolated_barrier(losses, alphas)


def test_is_linearly_connected_seed_examples():
    """Worked example 1 is not connected; practice problem 1's pair (1, 2) is (max 0.18)."""
    assert is_linearly_connected(WORKED_EXAMPLE_1, 0.1) is False
    assert is_linearly_connected([0.15, 0.18, 0.16], 0.05) is True
    assert is_linearly_connected([0.16, 0.95, 0.17], 0.05) is False


def test_is_linearly_connected_boundary_is_inclusive():
    assert is_linearly_connected([0.0, 0.5, 0.25], 0.25) is True  # 0.5 ≤ 0.25 + 0.25 exactly
    assert is_linearly_connected([0.0, 0.5, 0.25], 0.2) is False


def test_is_linearly_connected_compares_in_float64():
    """float32 0.3 > float32(0.2) + 0.1 in float64, though float32 arithmetic says equal."""
    losses = torch.tensor([0.1, 0.3, 0.2], dtype=torch.float32)
    in_float32 = bool(losses[1] <= torch.maximum(losses[0], losses[2]) + 0.1)
    in_float64 = float(losses[1]) <= max(float(losses[0]), float(losses[2])) + 0.1
    assert in_float32 and not in_float64  # the trap is real
    assert is_linearly_connected(losses, 0.1) is False


@FAST
@given(
    losses=st.lists(st.floats(0.0, 5.0, allow_nan=False), min_size=2, max_size=10),
    delta=st.floats(-1.0, 2.0, allow_nan=False),
)
def test_is_linearly_connected_matches_definition(losses, delta):
    expected = max(losses) <= max(losses[0], losses[-1]) + delta
    assert is_linearly_connected(np.array(losses), delta) is expected


@pytest.mark.parametrize(
    ("losses", "delta", "name"),
    [([0.1], 0.1, "losses"), ([0.1, float("nan")], 0.1, "losses"), ([0.1, 0.2], math.nan, "delta")],
)
def test_is_linearly_connected_value_errors(losses, delta, name):
    with pytest.raises(ValueError, match=name):
        is_linearly_connected(losses, delta)


# --------------------------------------------------------------------------------------------
# bernstein_weights and bezier_point
# --------------------------------------------------------------------------------------------


def test_bernstein_weights_degree_2_by_hand():
    """(1 − 0.3)², 2·0.3·0.7, 0.3² = 0.49, 0.42, 0.09."""
    w = bernstein_weights(2, 0.3)
    assert w.dtype == torch.float64
    assert w.shape == (3,)
    assert w.tolist() == pytest.approx([0.49, 0.42, 0.09], abs=1e-15)


@FAST
@given(degree=st.integers(1, 25), alpha=st.floats(0.0, 1.0, allow_nan=False))
def test_bernstein_weights_formula_and_partition_of_unity(degree, alpha):
    w = bernstein_weights(degree, alpha)
    assert w.shape == (degree + 1,)
    assert w.dtype == torch.float64
    fact = math.factorial
    expected = [
        fact(degree) // (fact(k) * fact(degree - k)) * alpha**k * (1 - alpha) ** (degree - k)
        for k in range(degree + 1)
    ]
    assert w.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert float(w.sum()) == pytest.approx(1.0, abs=1e-12)
    assert bool((w >= 0).all())


@pytest.mark.parametrize("degree", [1, 3, 7])
def test_bernstein_weights_endpoints(degree):
    at_0 = bernstein_weights(degree, 0.0).tolist()
    at_1 = bernstein_weights(degree, 1.0).tolist()
    assert at_0 == [1.0] + [0.0] * degree
    assert at_1 == [0.0] * degree + [1.0]


def test_bernstein_weights_exact_binomials_for_large_degree():
    """C(60, 30) is not exactly representable by float products; math.comb is exact."""
    w = bernstein_weights(60, 0.5)
    assert float(w[30]) == pytest.approx(math.comb(60, 30) / 2**60, rel=1e-15)


@pytest.mark.parametrize(
    ("degree", "alpha", "name"),
    [
        (0, 0.5, "degree"),
        (-1, 0.5, "degree"),
        (2.5, 0.5, "degree"),
        (2, -0.1, "alpha"),
        (2, 1.1, "alpha"),
        (2, float("nan"), "alpha"),
    ],
)
def test_bernstein_weights_value_errors(degree, alpha, name):
    with pytest.raises(ValueError, match=name):
        bernstein_weights(degree, alpha)


@FAST
@given(alpha=st.floats(0.0, 1.0, allow_nan=False), seed=st.integers(0, 10_000))
def test_bezier_with_average_midpoint_is_interpolation(alpha, seed):
    theta_a, theta_b = random_params(seed), random_params(seed + 1)
    theta_mid = {k: (theta_a[k] + theta_b[k]) / 2 for k in theta_a}
    curve = bezier_point(theta_a, theta_mid, theta_b, alpha)
    for k in theta_a:
        line = (1 - alpha) * theta_a[k] + alpha * theta_b[k]
        torch.testing.assert_close(curve[k], line, rtol=1e-12, atol=1e-12)


def test_bezier_point_by_hand():
    """Seed, practice problem 5: theta(0.5) = 0.25·theta_1 + 0.5·theta_mid + 0.25·theta_2."""
    theta_a = {"w": torch.tensor([4.0, 0.0])}
    theta_mid = {"w": torch.tensor([0.0, 8.0])}
    theta_b = {"w": torch.tensor([8.0, 4.0])}
    assert bezier_point(theta_a, theta_mid, theta_b, 0.5)["w"].tolist() == [3.0, 5.0]
    assert bezier_point(theta_a, theta_mid, theta_b, 0.0)["w"].tolist() == [4.0, 0.0]
    assert bezier_point(theta_a, theta_mid, theta_b, 1.0)["w"].tolist() == [8.0, 4.0]
    # alpha = 0.25: 0.5625, 0.375, 0.0625
    assert bezier_point(theta_a, theta_mid, theta_b, 0.25)["w"].tolist() == pytest.approx(
        [0.5625 * 4 + 0.0625 * 8, 0.375 * 8 + 0.0625 * 4]
    )


def test_bezier_point_dtype_and_no_mutation():
    theta_a, theta_mid, theta_b = (random_params(s, torch.float32) for s in (0, 1, 2))
    before = [clone_params(p) for p in (theta_a, theta_mid, theta_b)]
    out = bezier_point(theta_a, theta_mid, theta_b, 0.0)
    assert all(v.dtype == torch.float32 for v in out.values())
    for k in out:
        assert out[k].data_ptr() != theta_a[k].data_ptr()
        out[k].add_(1.0)
    for p, b in zip((theta_a, theta_mid, theta_b), before):
        assert_params_equal(p, b)


def test_bezier_point_value_errors():
    theta_a, theta_b = random_params(0), random_params(1)
    bad_mid = {k: v for k, v in theta_a.items() if k != "s"}
    with pytest.raises(ValueError, match="theta_mid"):
        bezier_point(theta_a, bad_mid, theta_b, 0.5)
    with pytest.raises(ValueError, match="theta_b"):
        bezier_point(theta_a, theta_a, dict(theta_b, b=torch.zeros(5)), 0.5)
    with pytest.raises(ValueError, match="alpha"):
        bezier_point(theta_a, theta_a, theta_b, float("nan"))


# --------------------------------------------------------------------------------------------
# train_bezier_midpoint
# --------------------------------------------------------------------------------------------


def spiral_data(n: int = 300, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A 3-arm spiral in 2-D: nonlinear enough that independent solutions are not connected."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % NUM_CLASSES
    radius = torch.rand(n, generator=g) + 0.15
    angle = radius * 2.5 * math.pi + y * 2 * math.pi / NUM_CLASSES
    X = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    X = 2 * (X + 0.03 * torch.randn(n, 2, generator=g))
    return X, y


def spiral_mlp(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, NUM_CLASSES)
    )


def full_batch_train(model: nn.Module, X, y, steps: int) -> dict[str, torch.Tensor]:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(X), y).backward()
        optimizer.step()
    return params_of(model)


@pytest.fixture(scope="module")
def barrier_pair():
    """Two MLPs trained from different seeds on the spiral: a clear linear barrier."""
    X, y = spiral_data()
    theta_a = full_batch_train(spiral_mlp(1), X, y, steps=300)
    theta_b = full_batch_train(spiral_mlp(2), X, y, steps=300)
    return spiral_mlp(0), theta_a, theta_b, X, y


def test_train_bezier_midpoint_removes_the_barrier(barrier_pair):
    """The trained curve's max loss is far below the linear path's (about 4 vs 0.3)."""
    model, theta_a, theta_b, X, y = barrier_pair
    before_a, before_b = clone_params(theta_a), clone_params(theta_b)
    snapshot = model_snapshot(model)
    grid = [i / 20 for i in range(21)]
    linear = [
        oracle_loss(model, {k: (1 - a) * theta_a[k] + a * theta_b[k] for k in theta_a}, X, y)
        for a in grid
    ]
    endpoint = max(linear[0], linear[-1])
    assert max(linear) > endpoint + 1.0  # the test case really has a barrier

    theta_mid = train_bezier_midpoint(model, theta_a, theta_b, X, y, steps=300, seed=0)

    def curve(a):
        return {
            k: (1 - a) ** 2 * theta_a[k] + 2 * a * (1 - a) * theta_mid[k] + a**2 * theta_b[k]
            for k in theta_a
        }

    curved = [oracle_loss(model, curve(a), X, y) for a in grid]
    assert max(curved) - endpoint < 0.25 * (max(linear) - endpoint)
    assert_params_equal(theta_a, before_a)
    assert_params_equal(theta_b, before_b)
    assert_model_unchanged(model, snapshot)
    assert list(theta_mid) == list(theta_a)
    assert all(not v.requires_grad for v in theta_mid.values())


def test_train_bezier_midpoint_first_step_is_adams_closed_form():
    """Adam's first step moves each entry by −lr·g/(|g| + eps); the gradient with respect to
    theta_mid is 2·alpha·(1 − alpha) times the loss gradient at the curve point, whose alpha and
    minibatch come from torch.rand then torch.randint on a generator seeded with ``seed``."""
    model = tiny_mlp(0)
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data(n=50)
    lr, batch_size, seed = 0.05, 16, 7

    g = torch.Generator().manual_seed(seed)
    alpha = float(torch.rand((), generator=g))
    idx = torch.randint(0, len(X), (batch_size,), generator=g)
    mid0 = {k: (theta_a[k] + theta_b[k]) / 2 for k in theta_a}
    point = {
        k: (1 - alpha) ** 2 * theta_a[k] + 2 * alpha * (1 - alpha) * mid0[k] + alpha**2 * theta_b[k]
        for k in theta_a
    }
    twin = copy.deepcopy(model)
    twin.load_state_dict(point)
    F.cross_entropy(twin(X[idx]), y[idx]).backward()
    eps = 1e-8  # Adam's default
    expected = {}
    for name, p in twin.named_parameters():
        grad = 2 * alpha * (1 - alpha) * p.grad
        expected[name] = mid0[name] - lr * grad / (grad.abs() + eps)

    got = train_bezier_midpoint(
        model, theta_a, theta_b, X, y, steps=1, lr=lr, batch_size=batch_size, seed=seed
    )
    for k in expected:
        torch.testing.assert_close(got[k], expected[k], rtol=1e-5, atol=1e-6)


def test_train_bezier_midpoint_zero_steps_is_endpoint_average():
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data()
    got = train_bezier_midpoint(tiny_mlp(0), theta_a, theta_b, X, y, steps=0)
    for k in theta_a:
        torch.testing.assert_close(got[k], (theta_a[k] + theta_b[k]) / 2, rtol=0, atol=0)
        assert got[k].data_ptr() not in (theta_a[k].data_ptr(), theta_b[k].data_ptr())


def test_train_bezier_midpoint_is_deterministic_given_seed():
    model = tiny_mlp(0)
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data()
    kwargs = {"steps": 20, "lr": 0.01, "batch_size": 8}
    first = train_bezier_midpoint(model, theta_a, theta_b, X, y, seed=3, **kwargs)
    torch.manual_seed(12345)  # the global RNG must not matter
    second = train_bezier_midpoint(model, theta_a, theta_b, X, y, seed=3, **kwargs)
    other = train_bezier_midpoint(model, theta_a, theta_b, X, y, seed=4, **kwargs)
    assert_params_equal(first, second)
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_train_bezier_midpoint_batch_larger_than_data_and_eval_mode():
    model = tiny_mlp(0).eval()
    snapshot = model_snapshot(model)
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data(n=5)
    got = train_bezier_midpoint(model, theta_a, theta_b, X, y, steps=3, batch_size=128)
    assert all(torch.isfinite(v).all() for v in got.values())
    assert_model_unchanged(model, snapshot)


def test_train_bezier_midpoint_under_no_grad():
    """Called inside torch.no_grad(), it still trains."""
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data()
    with torch.no_grad():
        got = train_bezier_midpoint(tiny_mlp(0), theta_a, theta_b, X, y, steps=2)
    assert any(not torch.equal(got[k], (theta_a[k] + theta_b[k]) / 2) for k in got)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"steps": -1}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"y": "short"}, "X"),
        ({"theta_b": "mismatched"}, "theta"),
    ],
)
def test_train_bezier_midpoint_value_errors_even_with_zero_steps(overrides, name):
    model = tiny_mlp(0)
    theta_a, theta_b = params_of(tiny_mlp(1)), params_of(tiny_mlp(2))
    X, y = toy_data()
    kwargs = {"steps": 0, "lr": 0.01, "batch_size": 4}
    if overrides.get("y") == "short":
        y = y[:-1]
    elif overrides.get("theta_b") == "mismatched":
        theta_b = {k: v for k, v in theta_b.items() if k != "2.bias"}
    else:
        kwargs.update(overrides)
        if "steps" not in overrides:
            kwargs["steps"] = 0
    with pytest.raises(ValueError, match=name):
        train_bezier_midpoint(model, theta_a, theta_b, X, y, **kwargs)


# --------------------------------------------------------------------------------------------
# linear_basins
# --------------------------------------------------------------------------------------------


def test_linear_basins_practice_problem_1():
    """Seed, practice problem 1: (1, 2) connected, (2, 3) not: basins {θ1, θ2} and {θ3}."""
    result = linear_basins([0.15, 0.16, 0.17], {(0, 1): 0.18, (1, 2): 0.95}, 0.05)
    assert result == [{0, 1}, {2}]
    assert linear_basins([0.15, 0.16, 0.17], {(1, 0): 0.18, (2, 1): 0.95}, 0.05) == [{0, 1}, {2}]


def test_linear_basins_absent_pairs_and_order():
    # 0-3 and 1-2 connected, 4 alone: sorted by smallest member.
    result = linear_basins([0.1] * 5, {(3, 0): 0.1, (2, 1): 0.12, (4, 1): 9.0}, 0.05)
    assert result == [{0, 3}, {1, 2}, {4}]
    assert linear_basins([0.1, 0.2], {}, 0.05) == [{0}, {1}]
    assert linear_basins(np.array([0.1, 0.2, 0.3]), {(0, 2): 0.3}, 0.0) == [{0, 2}, {1}]


def brute_force_components(n: int, edges: list[tuple[int, int]]) -> list[set[int]]:
    """Warshall's transitive closure of the adjacency matrix, then distinct reachable sets."""
    reach = [[i == j for j in range(n)] for i in range(n)]
    for i, j in edges:
        reach[i][j] = reach[j][i] = True
    for k, i, j in itertools.product(range(n), repeat=3):
        if reach[i][k] and reach[k][j]:
            reach[i][j] = True
    groups = {frozenset(j for j in range(n) if reach[i][j]) for i in range(n)}
    return sorted((set(gr) for gr in groups), key=min)


@st.composite
def basin_graphs(draw):
    n = draw(st.integers(1, 8))
    losses = draw(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=n, max_size=n))
    pairs = list(itertools.combinations(range(n), 2))
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    path = {}
    for i, j in chosen:
        key = (j, i) if draw(st.booleans()) else (i, j)
        path[key] = draw(st.floats(0.0, 2.0, allow_nan=False))
    delta = draw(st.floats(0.0, 0.5, allow_nan=False))
    return losses, path, delta


@FAST
@given(case=basin_graphs())
def test_linear_basins_matches_brute_force(case):
    losses, path, delta = case
    edges = [(i, j) for (i, j), v in path.items() if v <= max(losses[i], losses[j]) + delta]
    assert linear_basins(losses, path, delta) == brute_force_components(len(losses), edges)


def test_linear_basins_no_mutation():
    losses = [0.15, 0.16, 0.17]
    path = {(0, 1): 0.18, (1, 2): 0.95}
    linear_basins(losses, path, 0.05)
    assert losses == [0.15, 0.16, 0.17]
    assert path == {(0, 1): 0.18, (1, 2): 0.95}


@pytest.mark.parametrize(
    ("losses", "path", "delta", "name"),
    [
        ([0.1, 0.2], {(0, 2): 0.3}, 0.05, "path_max_losses"),
        ([0.1, 0.2], {(-1, 0): 0.3}, 0.05, "path_max_losses"),
        ([0.1, 0.2], {(1, 1): 0.3}, 0.05, "path_max_losses"),
        ([0.1, 0.2], {(0, 1): 0.3, (1, 0): 0.3}, 0.05, "path_max_losses"),
        ([0.1, 0.2], {(0, 1): float("nan")}, 0.05, "path_max_losses"),
        ([0.1, 0.2], {(0, 1, 2): 0.3}, 0.05, "path_max_losses"),
        ([0.1, float("nan")], {(0, 1): 0.3}, 0.05, "endpoint_losses"),
        ([0.1, 0.2], {(0, 1): 0.3}, float("nan"), "delta"),
    ],
)
def test_linear_basins_value_errors(losses, path, delta, name):
    with pytest.raises(ValueError, match=name):
        linear_basins(losses, path, delta)


# --------------------------------------------------------------------------------------------
# average_params
# --------------------------------------------------------------------------------------------


def test_average_params_uniform_matches_manual_mean():
    members = [random_params(s) for s in range(3)]
    before = [clone_params(m) for m in members]
    out = average_params(members)
    assert list(out) == list(members[0])
    for k in out:
        manual = torch.stack([m[k] for m in members]).mean(dim=0)
        torch.testing.assert_close(out[k], manual, rtol=1e-12, atol=1e-12)
        out[k].add_(1.0)  # no aliasing
    for m, b in zip(members, before):
        assert_params_equal(m, b)


@pytest.mark.parametrize(
    "weights",
    [[0.2, 0.3, 0.5], (0.0, 0.0, 1.0), np.array([0.5, 0.25, 0.25]), torch.tensor([0.1, 0.6, 0.3])],
)
def test_average_params_weighted_per_entry(weights):
    members = [random_params(s) for s in range(3)]
    w = [float(v) for v in weights]
    out = average_params(members, weights)
    for k in out:
        entries = [m[k].flatten().tolist() for m in members]
        expected = [sum(wi * e[idx] for wi, e in zip(w, entries)) for idx in range(len(entries[0]))]
        assert out[k].flatten().tolist() == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_average_params_single_member_and_dtype():
    member = random_params(0, torch.float32)
    out = average_params([member])
    assert_params_equal(out, member)
    assert all(v.dtype == torch.float32 for v in out.values())
    assert all(out[k].data_ptr() != member[k].data_ptr() for k in out)


def test_average_params_weight_sum_tolerance():
    members = [random_params(s) for s in range(2)]
    average_params(members, [0.5, 0.5 + WEIGHT_SUM_TOL / 2])
    with pytest.raises(ValueError, match="weights"):
        average_params(members, [0.5, 0.5 + 3 * WEIGHT_SUM_TOL])


@pytest.mark.parametrize(
    ("case", "name"),
    [
        ("empty", "params_list"),
        ("keys", "params_list"),
        ("shapes", "params_list"),
        ("negative", "weights"),
        ("sum", "weights"),
        ("count", "weights"),
        ("nan", "weights"),
    ],
)
def test_average_params_value_errors(case, name):
    members = [random_params(s) for s in range(2)]
    weights = None
    if case == "empty":
        members = []
    elif case == "keys":
        members[1] = {k: v for k, v in members[1].items() if k != "w"}
    elif case == "shapes":
        members[1] = dict(members[1], b=torch.zeros(7, dtype=torch.float64))
    elif case == "negative":
        weights = [1.5, -0.5]
    elif case == "sum":
        weights = [0.5, 0.6]
    elif case == "count":
        weights = [0.2, 0.3, 0.5]
    elif case == "nan":
        weights = [float("nan"), 1.0]
    with pytest.raises(ValueError, match=name):
        average_params(members, weights)


# --------------------------------------------------------------------------------------------
# ensemble_probs
# --------------------------------------------------------------------------------------------


def test_ensemble_probs_matches_softmax_loop_over_model_copies():
    model = tiny_mlp(0)
    members = [params_of(tiny_mlp(s)) for s in (1, 2, 3)]
    before = [clone_params(m) for m in members]
    X, _ = toy_data(n=17)
    snapshot = model_snapshot(model)
    probs = ensemble_probs(model, members, X)
    assert probs.shape == (17, NUM_CLASSES)
    assert probs.dtype == torch.float32
    assert not probs.requires_grad
    manual = sum(torch.softmax(oracle_logits(model, m, X), dim=1) for m in members) / len(members)
    torch.testing.assert_close(probs, manual, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(17), rtol=0, atol=1e-6)
    assert_model_unchanged(model, snapshot)
    for m, b in zip(members, before):
        assert_params_equal(m, b)


def test_ensemble_probs_single_member_is_softmax():
    model = tiny_mlp(0)
    theta = params_of(tiny_mlp(5))
    X, _ = toy_data(n=9)
    expected = torch.softmax(oracle_logits(model, theta, X), dim=1)
    torch.testing.assert_close(ensemble_probs(model, [theta], X), expected)


def test_ensemble_probs_keeps_mode():
    model = bn_mlp(0).eval()
    snapshot = model_snapshot(model)
    members = [params_of(bn_mlp(s)) for s in (1, 2)]
    X, _ = toy_data()
    manual = sum(torch.softmax(oracle_logits(model, m, X), dim=1) for m in members) / 2
    torch.testing.assert_close(ensemble_probs(model, members, X), manual)
    assert_model_unchanged(model, snapshot)


def test_ensemble_probs_value_errors():
    model = tiny_mlp(0)
    X, _ = toy_data()
    with pytest.raises(ValueError, match="params_list"):
        ensemble_probs(model, [], X)
    theta = params_of(tiny_mlp(1))
    partial = {k: v for k, v in theta.items() if k != "0.weight"}
    with pytest.raises(ValueError, match="params_list"):
        ensemble_probs(model, [theta, partial], X)
    with pytest.raises(ValueError, match="params_list"):
        ensemble_probs(model, [partial], X)


# --------------------------------------------------------------------------------------------
# align_hidden_units
# --------------------------------------------------------------------------------------------


def deep_mlp_params(seed: int, widths=(2, 5, 4, 3), dtype=torch.float32, bias=True) -> dict:
    """Params of a Linear/ReLU chain named "0", "2", "4", ... with the given layer widths."""
    g = torch.Generator().manual_seed(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        params[f"{2 * i}.weight"] = torch.randn(fan_out, fan_in, generator=g, dtype=dtype)
        if bias:
            params[f"{2 * i}.bias"] = torch.randn(fan_out, generator=g, dtype=dtype)
    return params


def chain_output(params: dict, X: torch.Tensor) -> torch.Tensor:
    """The Linear/ReLU chain evaluated by hand, in float64 (an oracle of the function)."""
    layers = sorted({int(k.split(".")[0]) for k in params})
    x = X.to(torch.float64)
    for n, layer in enumerate(layers):
        x = x @ params[f"{layer}.weight"].to(torch.float64).T
        if f"{layer}.bias" in params:
            x = x + params[f"{layer}.bias"].to(torch.float64)
        if n < len(layers) - 1:
            x = torch.relu(x)
    return x


def unit_vectors(params: dict, layer_in: str, layer_out: str) -> torch.Tensor:
    """Row i: hidden unit i's incoming weights, bias (if any) and outgoing weights."""
    parts = [params[f"{layer_in}.weight"].to(torch.float64)]
    if f"{layer_in}.bias" in params:
        parts.append(params[f"{layer_in}.bias"].to(torch.float64)[:, None])
    parts.append(params[f"{layer_out}.weight"].to(torch.float64).T)
    return torch.cat(parts, dim=1)


def permuted_units(params: dict, layer_in: str, layer_out: str, perm) -> dict:
    """`params` with unit i of the hidden layer taken from unit perm[i] (by hand)."""
    perm = list(perm)
    out = {}
    for key, value in params.items():
        if key in (f"{layer_in}.weight", f"{layer_in}.bias"):
            out[key] = torch.stack([value[j] for j in perm])
        elif key == f"{layer_out}.weight":
            out[key] = torch.stack([value[:, j] for j in perm], dim=1)
        else:
            out[key] = value.clone()
    return out


def best_by_brute_force(params_a, params_b, layer_in, layer_out) -> float:
    """The largest total similarity over all h! permutations, summed term by term."""
    ua = unit_vectors(params_a, layer_in, layer_out).tolist()
    ub = unit_vectors(params_b, layer_in, layer_out).tolist()
    sim = [[math.fsum(x * y for x, y in zip(a, b)) for b in ub] for a in ua]
    return max(
        math.fsum(sim[i][j] for i, j in enumerate(perm))
        for perm in itertools.permutations(range(len(ua)))
    )


def unit_permutation(result, params_b, layer_in, layer_out) -> list[int]:
    """perm with result's unit i equal to params_b's unit perm[i]; asserts it is one."""
    ur = unit_vectors(result, layer_in, layer_out)
    ub = unit_vectors(params_b, layer_in, layer_out)
    perm = [next(j for j in range(len(ub)) if torch.equal(ur[i], ub[j])) for i in range(len(ur))]
    assert sorted(perm) == list(range(len(ub))), perm
    return perm


def total_similarity(params_a, params, layer_in, layer_out) -> float:
    ua, u = unit_vectors(params_a, layer_in, layer_out), unit_vectors(params, layer_in, layer_out)
    return float((ua * u).sum())


@pytest.mark.parametrize(
    ("widths", "layer_in", "layer_out", "bias"),
    [
        ((2, 5, 4, 3), "0", "2", True),
        ((2, 5, 4, 3), "2", "4", True),
        ((3, 6, 2), "0", "2", False),
        ((2, 4, 4, 2), "0", "2", True),
    ],
)
@pytest.mark.parametrize("seed", range(6))
def test_align_hidden_units_is_the_best_permutation_by_brute_force(
    widths, layer_in, layer_out, bias, seed
):
    """The result is params_b with its hidden units permuted (rows, bias entries, columns by
    one permutation; every other key unchanged), and no permutation of the h! is better."""
    params_a = deep_mlp_params(2 * seed, widths, bias=bias)
    params_b = deep_mlp_params(2 * seed + 1, widths, bias=bias)
    out = align_hidden_units(params_a, params_b, layer_in, layer_out)
    assert list(out) == list(params_b)
    perm = unit_permutation(out, params_b, layer_in, layer_out)
    assert_params_equal(out, permuted_units(params_b, layer_in, layer_out, perm))
    best = best_by_brute_force(params_a, params_b, layer_in, layer_out)
    assert total_similarity(params_a, out, layer_in, layer_out) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("layer_in", "layer_out"), [("0", "2"), ("2", "4")])
def test_align_hidden_units_undoes_a_shuffle_and_keeps_the_function(dtype, layer_in, layer_out):
    """A shuffled copy of params_a comes back as params_a, bit for bit; params_b's function
    (evaluated by hand) is unchanged; the dtype is kept."""
    params_a = deep_mlp_params(7, (2, 6, 5, 3), dtype)
    hidden = params_a[f"{layer_in}.weight"].shape[0]
    shuffle = torch.randperm(hidden, generator=torch.Generator().manual_seed(3)).tolist()
    params_b = permuted_units(params_a, layer_in, layer_out, shuffle)
    out = align_hidden_units(params_a, params_b, layer_in, layer_out)
    assert_params_equal(out, params_a)
    X = torch.randn(20, 2, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(chain_output(out, X), chain_output(params_b, X))
    assert all(v.dtype == dtype for v in out.values())


def test_align_hidden_units_keeps_a_trained_models_function():
    """On nn.Sequential parameters (requires_grad leaves, as named_parameters gives them)."""
    model_a, model_b = tiny_mlp(1, hidden=8), tiny_mlp(2, hidden=8)
    params_a = dict(model_a.named_parameters())
    params_b = dict(model_b.named_parameters())
    out = align_hidden_units(params_a, params_b, "0", "2")
    assert not any(v.requires_grad for v in out.values())
    X, _ = toy_data()
    torch.testing.assert_close(oracle_logits(model_b, out, X), oracle_logits(model_b, params_b, X))
    assert out["2.bias"].data_ptr() != params_b["2.bias"].data_ptr()
    torch.testing.assert_close(out["2.bias"], params_b["2.bias"].detach())


def test_align_hidden_units_identity_and_no_mutation():
    """params_a aligned to itself comes back unchanged; neither input is modified."""
    params_a, params_b = deep_mlp_params(11), deep_mlp_params(12)
    before_a, before_b = clone_params(params_a), clone_params(params_b)
    assert_params_equal(align_hidden_units(params_a, clone_params(params_a), "0", "2"), params_a)
    out = align_hidden_units(params_a, params_b, "2", "4")
    for v in out.values():
        v.add_(1.0)  # no tensor of the result is shared with an input
    assert_params_equal(params_a, before_a)
    assert_params_equal(params_b, before_b)


def test_align_hidden_units_uses_the_exact_assignment_not_a_greedy_one():
    """Similarities [[10, 9], [9, 1]] (one coordinate per unit): greedy takes the 10 and then
    the 1 (total 11); the best permutation swaps the units (total 18)."""
    f64 = torch.float64
    params_a = {"0.weight": torch.eye(2, dtype=f64), "2.weight": torch.zeros(1, 2, dtype=f64)}
    params_b = {
        "0.weight": torch.tensor([[10.0, 9.0], [9.0, 1.0]], dtype=torch.float64),
        "2.weight": torch.tensor([[0.5, -2.0]], dtype=torch.float64),
    }
    out = align_hidden_units(params_a, params_b, "0", "2")
    assert out["0.weight"].tolist() == [[9.0, 1.0], [10.0, 9.0]]
    assert out["2.weight"].tolist() == [[-2.0, 0.5]]


def test_align_hidden_units_bias_and_outgoing_weights_count():
    """Units with equal incoming weights are told apart by their bias, or by their outgoing
    weights; layer_out's bias never moves."""
    w = torch.ones(3, 2, dtype=torch.float64)
    params_a = {
        "0.weight": w,
        "0.bias": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
        "2.weight": torch.zeros(1, 3, dtype=torch.float64),
        "2.bias": torch.tensor([5.0], dtype=torch.float64),
    }
    params_b = dict(params_a, **{"0.bias": torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64)})
    out = align_hidden_units(params_a, params_b, "0", "2")
    assert out["0.bias"].tolist() == [1.0, 2.0, 3.0] and out["2.bias"].tolist() == [5.0]
    no_bias_a = {"0.weight": w, "2.weight": torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)}
    no_bias_b = {"0.weight": w, "2.weight": torch.tensor([[2.0, 3.0, 1.0]], dtype=torch.float64)}
    out = align_hidden_units(no_bias_a, no_bias_b, "0", "2")
    assert out["2.weight"].tolist() == [[1.0, 2.0, 3.0]]


@pytest.mark.parametrize(
    ("case", "name"),
    [
        ("keys", "params_a and params_b"),
        ("shapes", "params_a"),
        ("missing_in", "layer_in"),
        ("missing_out", "layer_out"),
        ("no_chain", "do not chain"),
        ("same_layer", "layer_in and layer_out"),
        ("not_a_dict", "params_b"),
        ("not_a_tensor", "params_a"),
    ],
)
def test_align_hidden_units_value_errors(case, name):
    params_a, params_b = deep_mlp_params(0), deep_mlp_params(1)
    layer_in, layer_out = "0", "2"
    if case == "keys":
        del params_b["2.bias"]
    elif case == "shapes":
        params_b = deep_mlp_params(1, (2, 6, 4, 3))
    elif case == "missing_in":
        layer_in = "1"
    elif case == "missing_out":
        layer_in, layer_out = "4", "6"
    elif case == "no_chain":
        layer_out = "4"
    elif case == "same_layer":
        layer_out = "0"
    elif case == "not_a_dict":
        params_b = list(params_b.values())
    elif case == "not_a_tensor":
        params_a["0.bias"] = params_a["0.bias"].tolist()
    with pytest.raises(ValueError, match=name):
        align_hidden_units(params_a, params_b, layer_in, layer_out)
