"""Tests of `landscape_lab`, the student helper module released with the notebooks.

Oracles are independent of the module: losses are recomputed with `F.cross_entropy` on the
model's own forward pass, Hessians are compared with central finite differences of the loss
in float64, and the headline barrier property recomputes the linear path with
`torch.func.functional_call` (never through `solutions`).
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import landscape_lab as ll
import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call, grad, jvp, vmap

matplotlib.use("Agg")  # headless: switch pyplot to the non-interactive backend

MODULE_PATH = Path(__file__).resolve().parents[2] / "source" / "landscapes" / "landscape_lab.py"
PLOTS_PATH = MODULE_PATH.with_name("landscape_plots.py")

FLOAT32_RTOL = 1e-5
"""Relative tolerance for float32 results recomputed along another code path."""

FLOAT32_ATOL = 1e-6
"""Absolute tolerance for float32 results recomputed along another code path."""

FD_STEP = 1e-4
"""Step of the central finite differences (float64)."""

FD_ATOL = 1e-6
"""Absolute tolerance of a float64 second difference with step `FD_STEP`."""

FLOAT64_ATOL = 1e-10
"""Absolute tolerance between two float64 autodiff routes to the same derivative."""

QUICK_STEPS = 40
"""Training steps for tests that only need a few optimiser updates."""

INDEPENDENT_MIN_BARRIER = 0.5
"""Smallest linear barrier (mean cross-entropy) expected between independently trained models."""

SHARED_MAX_BARRIER = 0.1
"""Largest linear barrier expected between two fine-tunes of one early checkpoint."""

BARRIER_RATIO = 10.0
"""The independent pair's barrier must exceed the shared pair's by at least this factor."""

MIN_ENDPOINT_ACCURACY = 0.9
"""Test accuracy every trained endpoint must reach with the default hyperparameters."""

SHARED_CHECKPOINT_STEP = 50
"""Step at which the shared checkpoint is taken (10% of the default training run)."""

PATH_POINTS = 11
"""Number of evenly spaced alphas on the linear path (includes 0.5)."""


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    """Run this module's tiny models on one thread (two threads on a busy two-core machine
    make every small matmul wait for a descheduled worker), then restore the setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def data() -> ll.Dataset:
    """The default task, built once."""
    return ll.make_dataset()


@pytest.fixture
def small_data() -> ll.Dataset:
    """A small version of the task for quick tests."""
    return ll.make_dataset(n_train=128, n_test=64, seed=3)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened."""
    yield
    plt.close("all")


def direct_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Oracle: mean cross-entropy from the model's own forward pass."""
    with torch.no_grad():
        return float(F.cross_entropy(model(X), y))


# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------


def test_dataset_shapes_dtypes_and_labels(data: ll.Dataset) -> None:
    """Default split: float32 (N, 2) inputs, int64 labels covering all classes, balanced."""
    assert data.num_classes == ll.NUM_CLASSES
    assert data.X_train.shape == (1024, 2) and data.X_train.dtype == torch.float32
    assert data.X_test.shape == (1024, 2) and data.X_test.dtype == torch.float32
    assert data.y_train.shape == (1024,) and data.y_train.dtype == torch.int64
    assert data.y_test.shape == (1024,) and data.y_test.dtype == torch.int64
    for y in (data.y_train, data.y_test):
        counts = torch.bincount(y, minlength=ll.NUM_CLASSES)
        assert counts.numel() == ll.NUM_CLASSES
        assert int(counts.max() - counts.min()) <= 1
    assert torch.isfinite(data.X_train).all() and torch.isfinite(data.X_test).all()
    assert not torch.equal(data.X_train, data.X_test)


def test_dataset_is_frozen(small_data: ll.Dataset) -> None:
    """The Dataset record cannot be reassigned, and its repr is short."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        small_data.X_train = torch.zeros(1, 2)  # type: ignore[misc]
    assert "n_train=128" in repr(small_data) and len(repr(small_data)) < 200


def test_dataset_deterministic() -> None:
    """Same arguments give bitwise-identical tensors; another seed gives other points."""
    a = ll.make_dataset(n_train=200, n_test=50, seed=7)
    b = ll.make_dataset(n_train=200, n_test=50, seed=7)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    c = ll.make_dataset(n_train=200, n_test=50, seed=8)
    assert not torch.equal(a.X_train, c.X_train)


def test_dataset_train_split_independent_of_n_test() -> None:
    """Training points are drawn first, so n_test does not change them."""
    a = ll.make_dataset(n_train=100, n_test=10, seed=1)
    b = ll.make_dataset(n_train=100, n_test=500, seed=1)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_train, b.y_train)


def test_dataset_noise_zero_lies_on_the_spiral() -> None:
    """Without noise every point's radius lies in the spiral's radial range."""
    d = ll.make_dataset(n_train=300, n_test=0, noise=0.0)
    radius = d.X_train.norm(dim=1)
    assert float(radius.min()) >= ll.SPIRAL_MIN_RADIUS - FLOAT32_ATOL
    assert float(radius.max()) <= ll.SPIRAL_RADIUS + 1e-5
    assert d.X_test.shape == (0, 2)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_train": 0}, "n_train"),
        ({"n_test": -1}, "n_test"),
        ({"seed": 1.5}, "seed"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
    ],
)
def test_dataset_rejects_bad_arguments(kwargs: dict, name: str) -> None:
    """Bad arguments raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=name):
        ll.make_dataset(**kwargs)


def test_no_global_rng_use(small_data: ll.Dataset) -> None:
    """make_dataset, make_mlp and train neither read nor change the global torch RNG."""
    before = torch.random.get_rng_state()
    d = ll.make_dataset(n_train=64, n_test=8, seed=11)
    model = ll.make_mlp(seed=11)
    ll.train(model, d.X_train, d.y_train, steps=5, seed=11)
    assert torch.equal(torch.random.get_rng_state(), before)
    # and the global state does not influence them
    torch.manual_seed(12345)
    again = ll.make_mlp(seed=11)
    ll.train(again, d.X_train, d.y_train, steps=5, seed=11)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), again.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)


# ------------------------------------------------------------------------------------------
# Models
# ------------------------------------------------------------------------------------------


def test_make_mlp_structure_and_names() -> None:
    """Linear layers are "0", "2", "4" with ReLUs between; parameter names and shapes fit."""
    model = ll.make_mlp()
    assert isinstance(model, nn.Sequential)
    names = [name for name, _ in model.named_children()]
    assert names == ["0", "1", "2", "3", "4"]
    assert all(isinstance(model[i], nn.Linear) for i in (0, 2, 4))
    assert all(isinstance(model[i], nn.ReLU) for i in (1, 3))
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    assert shapes == {
        "0.weight": (32, 2),
        "0.bias": (32,),
        "2.weight": (32, 32),
        "2.bias": (32,),
        "4.weight": (ll.NUM_CLASSES, 32),
        "4.bias": (ll.NUM_CLASSES,),
    }
    assert all(p.dtype == torch.float32 and p.requires_grad for p in model.parameters())
    tanh = ll.make_mlp(hidden=(5,), activation="tanh")
    assert isinstance(tanh[1], nn.Tanh) and len(tanh) == 3


def test_make_mlp_init_range_and_determinism() -> None:
    """Init is uniform within ±1/sqrt(fan_in), bitwise reproducible, and seed-dependent."""
    a, b, c = ll.make_mlp(seed=4), ll.make_mlp(seed=4), ll.make_mlp(seed=5)
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb), name
        assert not torch.equal(pa, pc), name
    for layer in (a[0], a[2], a[4]):
        bound = layer.in_features**-0.5
        assert float(layer.weight.detach().abs().max()) <= bound
        assert float(layer.bias.detach().abs().max()) <= bound
        # not degenerate: uses a good part of the range
        assert float(layer.weight.detach().abs().max()) > 0.5 * bound


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"in_dim": 0}, "in_dim"),
        ({"out_dim": 0}, "out_dim"),
        ({"hidden": (4, 0)}, "hidden"),
        ({"activation": "sigmoid"}, "activation"),
        ({"seed": "0"}, "seed"),
    ],
)
def test_make_mlp_rejects_bad_arguments(kwargs: dict, name: str) -> None:
    """Bad arguments raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=name):
        ll.make_mlp(**kwargs)


# ------------------------------------------------------------------------------------------
# Parameters as data
# ------------------------------------------------------------------------------------------


def test_params_of_returns_detached_clones() -> None:
    """params_of copies: editing the result leaves the model alone, and vice versa."""
    model = ll.make_mlp(seed=1)
    params = ll.params_of(model)
    assert list(params) == [n for n, _ in model.named_parameters()]
    snapshot = {n: p.detach().clone() for n, p in model.named_parameters()}
    for name, p in model.named_parameters():
        assert not params[name].requires_grad
        assert params[name].data_ptr() != p.data_ptr()
        params[name].add_(1.0)
    for name, p in model.named_parameters():
        assert torch.equal(p, snapshot[name])
    fresh = ll.params_of(model)
    with torch.no_grad():
        model[0].weight.mul_(2.0)
    assert torch.equal(fresh["0.weight"], snapshot["0.weight"])


def test_load_params_copies_without_aliasing() -> None:
    """load_params writes the values in place, keeps the model's tensors and does not alias."""
    model = ll.make_mlp(seed=1)
    target = ll.params_of(ll.make_mlp(seed=2))
    before = {n: p.data_ptr() for n, p in model.named_parameters()}
    ll.load_params(model, target)
    for name, p in model.named_parameters():
        assert torch.equal(p, target[name])
        assert p.data_ptr() == before[name]
        assert p.requires_grad
    target["0.weight"].zero_()
    assert not torch.equal(model[0].weight, target["0.weight"])


def test_load_params_rejects_mismatch() -> None:
    """Missing keys or wrong shapes raise ValueError naming params."""
    model = ll.make_mlp(seed=1)
    params = ll.params_of(model)
    missing = dict(params)
    del missing["4.bias"]
    with pytest.raises(ValueError, match="params"):
        ll.load_params(model, missing)
    wrong = dict(params)
    wrong["0.weight"] = torch.zeros(3, 3)
    with pytest.raises(ValueError, match="params"):
        ll.load_params(model, wrong)


def test_flatten_unflatten_round_trip() -> None:
    """flatten concatenates row-major in key order; unflatten restores keys, shapes, values."""
    params = ll.params_of(ll.make_mlp(seed=2))
    theta = ll.flatten_params(params)
    expected = torch.cat([params[k].reshape(-1) for k in params])
    assert theta.dim() == 1 and torch.equal(theta, expected)
    back = ll.unflatten_params(theta, params)
    assert list(back) == list(params)
    for key in params:
        assert back[key].shape == params[key].shape
        assert torch.equal(back[key], params[key])


@settings(max_examples=40, deadline=None)
@given(
    shapes=st.lists(
        st.lists(st.integers(min_value=1, max_value=4), min_size=0, max_size=3),
        min_size=1,
        max_size=5,
    )
)
def test_flatten_unflatten_property(shapes: list[list[int]]) -> None:
    """For any list of shapes, unflatten(flatten(p)) == p and flatten(unflatten(t)) == t."""
    generator = torch.Generator().manual_seed(len(shapes))
    params = {f"p{i}": torch.randn(tuple(s), generator=generator) for i, s in enumerate(shapes)}
    theta = ll.flatten_params(params)
    assert theta.numel() == sum(t.numel() for t in params.values())
    back = ll.unflatten_params(theta, params)
    assert all(torch.equal(back[k], params[k]) for k in params)
    assert torch.equal(ll.flatten_params(back), theta)


def test_unflatten_keeps_autograd_connection() -> None:
    """Gradients flow from the unflattened tensors back to theta."""
    params = ll.params_of(ll.make_mlp(hidden=(3,), seed=0))
    theta = ll.flatten_params(params).requires_grad_(True)
    pieces = ll.unflatten_params(theta, params)
    total = sum((i + 1) * t.sum() for i, t in enumerate(pieces.values()))
    (g,) = torch.autograd.grad(total, theta)
    expected = torch.cat(
        [torch.full((t.numel(),), float(i + 1)) for i, t in enumerate(params.values())]
    )
    assert torch.equal(g, expected)


def test_flatten_unflatten_reject_bad_input() -> None:
    """Wrong length, wrong rank or empty dicts raise ValueError naming the argument."""
    params = ll.params_of(ll.make_mlp(hidden=(3,), seed=0))
    theta = ll.flatten_params(params)
    with pytest.raises(ValueError, match="theta"):
        ll.unflatten_params(theta[:-1], params)
    with pytest.raises(ValueError, match="theta"):
        ll.unflatten_params(theta.reshape(1, -1), params)
    with pytest.raises(ValueError, match="like"):
        ll.unflatten_params(theta, {})
    with pytest.raises(ValueError, match="params"):
        ll.flatten_params({})


# ------------------------------------------------------------------------------------------
# flat_loss_fn
# ------------------------------------------------------------------------------------------


def test_flat_loss_fn_matches_model_loss(small_data: ll.Dataset) -> None:
    """loss_fn(flatten(params_of(model))) equals the model's own cross-entropy."""
    model = ll.make_mlp(seed=6)
    X, y = small_data.X_train, small_data.y_train
    loss_fn = ll.flat_loss_fn(model, X, y)
    theta = ll.flatten_params(ll.params_of(model))
    value = loss_fn(theta)
    assert value.dim() == 0 and value.dtype == torch.float32
    torch.testing.assert_close(
        float(value), direct_loss(model, X, y), rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL
    )


def test_flat_loss_fn_does_not_touch_model(small_data: ll.Dataset) -> None:
    """Evaluating at another theta neither reads nor changes the model's parameters."""
    model = ll.make_mlp(seed=6)
    other = ll.make_mlp(seed=7)
    X, y = small_data.X_train, small_data.y_train
    snapshot = ll.params_of(model)
    loss_fn = ll.flat_loss_fn(model, X, y)
    value = loss_fn(ll.flatten_params(ll.params_of(other)))
    torch.testing.assert_close(
        float(value), direct_loss(other, X, y), rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL
    )
    for name, p in model.named_parameters():
        assert torch.equal(p, snapshot[name])


def test_flat_loss_fn_float64(small_data: ll.Dataset) -> None:
    """A float64 theta gives a float64 loss equal to the float64 model's loss."""
    model = ll.make_mlp(seed=6)
    X, y = small_data.X_train, small_data.y_train
    theta = ll.flatten_params(ll.params_of(model)).double()
    value = ll.flat_loss_fn(model, X, y)(theta)
    assert value.dtype == torch.float64
    model64 = ll.make_mlp(seed=6).double()
    expected = direct_loss(model64, X.double(), y)
    assert abs(float(value) - expected) < FLOAT64_ATOL


def test_flat_loss_fn_vmap(small_data: ll.Dataset) -> None:
    """torch.func.vmap over a batch of thetas equals a loop of single calls."""
    model = ll.make_mlp(seed=6)
    loss_fn = ll.flat_loss_fn(model, small_data.X_train, small_data.y_train)
    generator = torch.Generator().manual_seed(0)
    thetas = torch.stack(
        [ll.flatten_params(ll.params_of(ll.make_mlp(seed=s))) for s in range(4)]
    ) + 0.01 * torch.randn(4, 1, generator=generator)
    batched = vmap(loss_fn)(thetas)
    looped = torch.stack([loss_fn(t) for t in thetas])
    assert batched.shape == (4,)
    torch.testing.assert_close(batched, looped, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)


def _finite_difference_hessian(f, theta: torch.Tensor, h: float) -> torch.Tensor:
    """Oracle: central second differences of a scalar function f (float64, no autograd)."""
    d = theta.numel()
    eye = torch.eye(d, dtype=theta.dtype) * h
    H = torch.empty(d, d, dtype=theta.dtype)
    with torch.no_grad():
        for i in range(d):
            for j in range(i, d):
                value = (
                    f(theta + eye[i] + eye[j])
                    - f(theta + eye[i] - eye[j])
                    - f(theta - eye[i] + eye[j])
                    + f(theta - eye[i] - eye[j])
                ) / (4 * h * h)
                H[i, j] = H[j, i] = value
    return H


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_flat_loss_fn_hessian_double_backward() -> None:
    """autograd.functional.hessian of loss_fn matches finite differences; H·v agrees with jvp(grad)."""
    d = ll.make_dataset(n_train=40, n_test=0, seed=9)
    model = ll.make_mlp(hidden=(3,), out_dim=3, seed=0, activation="tanh")
    y = d.y_train % 3
    loss_fn = ll.flat_loss_fn(model, d.X_train, y)
    theta = ll.flatten_params(ll.params_of(model)).double()
    H = torch.autograd.functional.hessian(loss_fn, theta)
    assert H.shape == (theta.numel(), theta.numel())
    H_fd = _finite_difference_hessian(loss_fn, theta, FD_STEP)
    torch.testing.assert_close(H, H_fd, rtol=0.0, atol=FD_ATOL)
    # explicit double backward and the functional route agree with the Hessian
    v = torch.randn(theta.numel(), generator=torch.Generator().manual_seed(1), dtype=theta.dtype)
    t = theta.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(t), t, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, t)
    _, hv_func = jvp(grad(loss_fn), (theta,), (v,))
    torch.testing.assert_close(hv, H @ v, rtol=0.0, atol=FLOAT64_ATOL)
    torch.testing.assert_close(hv_func, H @ v, rtol=0.0, atol=FLOAT64_ATOL)
    # and a batch of Hessian-vector products under vmap
    V = torch.randn(3, theta.numel(), generator=torch.Generator().manual_seed(2), dtype=theta.dtype)
    HV = vmap(lambda u: jvp(grad(loss_fn), (theta,), (u,))[1])(V)
    torch.testing.assert_close(HV, V @ H, rtol=0.0, atol=FLOAT64_ATOL)


def test_flat_loss_fn_rejects_bad_data() -> None:
    """Mismatched or mistyped data raise ValueError naming X or y."""
    model = ll.make_mlp(seed=0)
    with pytest.raises(ValueError, match="y"):
        ll.flat_loss_fn(model, torch.zeros(4, 2), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="X"):
        ll.flat_loss_fn(model, torch.zeros(4), torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError, match="y"):
        ll.flat_loss_fn(model, torch.zeros(4, 2), torch.zeros(4))


# ------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------


def test_evaluate_matches_direct_computation(small_data: ll.Dataset) -> None:
    """evaluate / cross_entropy / accuracy equal the oracle, with and without params."""
    model = ll.make_mlp(seed=2)
    other = ll.make_mlp(seed=3)
    X, y = small_data.X_test, small_data.y_test
    with torch.no_grad():
        logits = other(X)
    expected_loss = float(F.cross_entropy(logits, y))
    expected_acc = sum(int(p == t) for p, t in zip(logits.argmax(1).tolist(), y.tolist())) / len(y)
    loss, acc = ll.evaluate(model, X, y, params=ll.params_of(other))
    assert isinstance(loss, float) and isinstance(acc, float)
    torch.testing.assert_close(loss, expected_loss, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)
    assert acc == expected_acc
    assert ll.accuracy(other, X, y) == expected_acc
    torch.testing.assert_close(
        ll.cross_entropy(other, X, y), expected_loss, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL
    )
    # the model's own parameters are untouched by evaluating other params
    assert ll.evaluate(model, X, y) != (loss, acc)


def test_evaluate_rejects_unknown_params(small_data: ll.Dataset) -> None:
    """A params key the model does not have, or a wrong shape, raises ValueError."""
    model = ll.make_mlp(seed=2)
    X, y = small_data.X_test, small_data.y_test
    with pytest.raises(ValueError, match="params"):
        ll.evaluate(model, X, y, params={"9.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="params"):
        ll.accuracy(model, X, y, params={"0.weight": torch.zeros(2, 2)})


# ------------------------------------------------------------------------------------------
# Batch normalisation
# ------------------------------------------------------------------------------------------

BN_EPS = 1e-5
"""nn.BatchNorm1d's default eps, used by the oracle below."""


def test_make_mlp_batch_norm_structure_and_init() -> None:
    """batch_norm=True puts a BatchNorm1d after every hidden Linear (Linear "0", "3", "6");
    the Linear layers start as without batch norm; a non-bool is rejected."""
    model = ll.make_mlp(seed=4, batch_norm=True)
    names = [name for name, _ in model.named_children()]
    assert names == [str(i) for i in range(7)]
    assert all(isinstance(model[i], nn.Linear) for i in (0, 3, 6))
    assert all(isinstance(model[i], nn.BatchNorm1d) for i in (1, 4))
    assert all(isinstance(model[i], nn.ReLU) for i in (2, 5))
    plain = ll.make_mlp(seed=4)
    for bn_index, plain_index in ((0, 0), (3, 2), (6, 4)):
        assert torch.equal(model[bn_index].weight, plain[plain_index].weight)
        assert torch.equal(model[bn_index].bias, plain[plain_index].bias)
    assert torch.equal(model[1].weight.detach(), torch.ones(32))
    assert torch.equal(model[4].running_var, torch.ones(32))
    assert len(ll.make_mlp(hidden=(), batch_norm=True)) == 1
    with pytest.raises(ValueError, match="batch_norm"):
        ll.make_mlp(batch_norm=1)


def _bn_oracle(params: dict, X: torch.Tensor) -> dict[str, torch.Tensor]:
    """Oracle: the statistics of the batch-norm inputs of a 2-hidden-layer BN MLP, computed
    layer by layer in float64 from the formulas (batch mean, unbiased variance; normalise with
    the biased one, as in training mode)."""
    p = {k: v.to(torch.float64) for k, v in params.items()}
    h = X.to(torch.float64)
    stats = {}
    for linear, norm in (("0", "1"), ("3", "4")):
        z = h @ p[f"{linear}.weight"].T + p[f"{linear}.bias"]
        mean, var = z.mean(0), z.var(0, unbiased=False)
        stats[f"{norm}.running_mean"] = mean
        stats[f"{norm}.running_var"] = z.var(0, unbiased=True)
        normalised = (z - mean) / torch.sqrt(var + BN_EPS)
        h = torch.relu(p[f"{norm}.weight"] * normalised + p[f"{norm}.bias"])
    return stats


def test_batch_norm_statistics_match_oracle_and_leave_model_alone(
    small_data: ll.Dataset,
) -> None:
    """The statistics equal the layer-by-layer oracle, for the model's own parameters and for
    other params (whose own running statistics are ignored); the model keeps its parameters,
    buffers and mode."""
    X = small_data.X_train
    model = ll.make_mlp(seed=1, batch_norm=True)
    ll.train(model, X, small_data.y_train, steps=QUICK_STEPS, batch_size=16, seed=0)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    other = ll.make_mlp(seed=2, batch_norm=True)
    with torch.no_grad():
        other[1].weight.mul_(2.0)
        other[4].bias.add_(0.5)
    other_params = {**ll.params_of(other), "1.running_mean": torch.full((32,), 7.0)}
    for params in (None, other_params):
        stats = ll.batch_norm_statistics(model, X, params)
        expected = _bn_oracle(ll.params_of(model) if params is None else params, X)
        assert list(stats) == ["1.running_mean", "1.running_var", "4.running_mean", "4.running_var"]
        for key, value in stats.items():
            assert value.dtype == torch.float32 and not value.requires_grad
            torch.testing.assert_close(value.to(torch.float64), expected[key], rtol=1e-4, atol=1e-5)
    assert not model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    again = ll.batch_norm_statistics(model, X, other_params)
    assert all(torch.equal(again[k], stats[k]) for k in stats)


def test_batch_norm_statistics_make_eval_mode_match_training_mode(data: ll.Dataset) -> None:
    """With recomputed statistics, eval mode on X gives the training-mode outputs on the whole
    of X (up to the unbiased/biased variance, a factor (N - 1) / N); hence scaling the weights
    that feed a batch-norm layer by c > 0 leaves the evaluated loss unchanged."""
    X, y = data.X_train, data.y_train
    model = ll.make_mlp(seed=3, batch_norm=True)
    params = ll.params_of(model)
    with torch.no_grad():
        train_logits = model(X)
    model.eval()
    stats = ll.batch_norm_statistics(model, X, params)
    with torch.no_grad():
        eval_logits = functional_call(model, {**params, **stats}, (X,))
    torch.testing.assert_close(eval_logits, train_logits, rtol=1e-3, atol=1e-3)
    scaled = {**params, "0.weight": 3.0 * params["0.weight"], "0.bias": 3.0 * params["0.bias"]}
    scaled_stats = ll.batch_norm_statistics(model, X, scaled)
    torch.testing.assert_close(
        ll.cross_entropy(model, X, y, {**scaled, **scaled_stats}),
        ll.cross_entropy(model, X, y, {**params, **stats}),
        rtol=1e-4,
        atol=1e-5,
    )


def test_batch_norm_statistics_reject_bad_input(small_data: ll.Dataset) -> None:
    """No batch-norm layer, a single row, non-2-D X and unknown or missing params raise."""
    X = small_data.X_train
    model = ll.make_mlp(seed=0, batch_norm=True)
    with pytest.raises(ValueError, match="batch-norm"):
        ll.batch_norm_statistics(ll.make_mlp(seed=0), X)
    with pytest.raises(ValueError, match="2 rows"):
        ll.batch_norm_statistics(model, X[:1])
    with pytest.raises(ValueError, match="X"):
        ll.batch_norm_statistics(model, X[:, 0])
    with pytest.raises(ValueError, match="params"):
        ll.batch_norm_statistics(model, X, {**ll.params_of(model), "9.weight": torch.zeros(1)})
    missing = ll.params_of(model)
    del missing["0.bias"]
    with pytest.raises(ValueError, match="params"):
        ll.batch_norm_statistics(model, X, missing)


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


def test_train_is_deterministic(small_data: ll.Dataset) -> None:
    """Same model seed and data seed give bitwise-identical losses and parameters."""
    X, y = small_data.X_train, small_data.y_train
    runs = []
    for _ in range(2):
        model = ll.make_mlp(seed=1)
        losses = ll.train(model, X, y, steps=QUICK_STEPS, batch_size=16, seed=5)
        runs.append((losses, ll.params_of(model)))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    other = ll.make_mlp(seed=1)
    assert ll.train(other, X, y, steps=QUICK_STEPS, batch_size=16, seed=6) != runs[0][0]


def test_train_returns_per_step_losses_and_learns(data: ll.Dataset) -> None:
    """One float per step; the training loss drops well below chance (ln C)."""
    model = ll.make_mlp(seed=0)
    X, y = data.X_train, data.y_train
    start = direct_loss(model, X, y)
    losses = ll.train(model, X, y, steps=300)
    assert len(losses) == 300 and all(isinstance(v, float) for v in losses)
    end = direct_loss(model, X, y)
    assert end < 0.5 * start
    assert end < 0.5 * torch.log(torch.tensor(float(ll.NUM_CLASSES))).item()
    assert sum(losses[-20:]) / 20 < sum(losses[:20]) / 20


def test_train_first_loss_is_the_minibatch_loss_before_the_step(small_data: ll.Dataset) -> None:
    """With full-batch steps, the first reported loss is the initial loss on all the data."""
    model = ll.make_mlp(seed=0)
    X, y = small_data.X_train, small_data.y_train
    start = direct_loss(model, X, y)
    losses = ll.train(model, X, y, steps=3, batch_size=len(y), optimizer="sgd", lr=0.1)
    torch.testing.assert_close(losses[0], start, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam"},
        {"optimizer": "adam", "weight_decay": 0.1},
        {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    ],
)
def test_train_with_mask_keeps_pruned_weights_zero(small_data: ll.Dataset, options: dict) -> None:
    """Pruned entries are exactly 0 after training; kept entries and unmasked tensors train."""
    model = ll.make_mlp(seed=2)
    init = ll.params_of(model)
    generator = torch.Generator().manual_seed(0)
    mask = {
        "0.weight": torch.rand(32, 2, generator=generator) < 0.5,
        "2.weight": torch.rand(32, 32, generator=generator) < 0.2,
    }
    ll.train(
        model,
        small_data.X_train,
        small_data.y_train,
        steps=QUICK_STEPS,
        batch_size=16,
        mask=mask,
        **options,
    )
    trained = ll.params_of(model)
    for key, keep in mask.items():
        assert torch.all(trained[key][~keep] == 0.0), key
        assert not torch.equal(trained[key][keep], init[key][keep]), key
    assert not torch.equal(trained["4.weight"], init["4.weight"])
    assert mask["0.weight"].dtype == torch.bool  # the mask itself is not modified


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"mask": {"nope": torch.ones(2, dtype=torch.bool)}}, "mask"),
        ({"mask": {"0.weight": torch.ones(2, 2, dtype=torch.bool)}}, "mask"),
        ({"mask": {"0.weight": torch.ones(32, 2)}}, "mask"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"steps": -1}, "steps"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_train_rejects_bad_arguments(small_data: ll.Dataset, kwargs: dict, name: str) -> None:
    """Bad arguments raise ValueError naming the argument, before any training."""
    model = ll.make_mlp(seed=0)
    before = ll.params_of(model)
    with pytest.raises(ValueError, match=name):
        ll.train(model, small_data.X_train, small_data.y_train, **kwargs)
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())


def test_train_zero_steps_and_progress(small_data: ll.Dataset, capsys) -> None:
    """steps=0 returns [] and leaves the weights; progress=True runs the tqdm bar."""
    model = ll.make_mlp(seed=0)
    before = ll.params_of(model)
    assert ll.train(model, small_data.X_train, small_data.y_train, steps=0) == []
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())
    losses = ll.train(model, small_data.X_train, small_data.y_train, steps=5, progress=True)
    assert len(losses) == 5
    assert "train" in capsys.readouterr().err


def test_train_is_quiet_by_default(small_data: ll.Dataset, capsys) -> None:
    """Without progress=True, train prints nothing."""
    ll.train(ll.make_mlp(seed=0), small_data.X_train, small_data.y_train, steps=5)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ------------------------------------------------------------------------------------------
# Plotting
# ------------------------------------------------------------------------------------------


def test_plot_path_twin_axis_reused() -> None:
    """Two paths with accuracies on one Axes share a single twin axis; labels are set."""
    alphas = torch.linspace(0, 1, 11)
    losses = 0.2 + 2.0 * alphas * (1 - alphas)
    ax = ll.plot_path(alphas, losses, accuracies=1 - 0.5 * losses, label="linear")
    same = ll.plot_path(
        alphas.tolist(), (0.2 + 0.1 * alphas).tolist(), accuracies=[0.9] * 11, label="Bezier", ax=ax
    )
    assert same is ax
    assert len(ax.figure.axes) == 2  # the loss axes and one twin
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(ax.get_lines()) == 2
    assert ax.get_legend() is not None


def test_plot_path_rejects_mismatched_lengths() -> None:
    """Lengths that differ raise ValueError naming the argument."""
    with pytest.raises(ValueError, match="losses"):
        ll.plot_path([0.0, 1.0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="accuracies"):
        ll.plot_path([0.0, 1.0], [0.1, 0.2], accuracies=[1.0])


@pytest.mark.parametrize("log", [False, True])
def test_plot_surface(log: bool) -> None:
    """A (A, B) surface gives a contour Axes with the centre marked."""
    alphas = torch.linspace(-1, 1, 7)
    betas = torch.linspace(-1, 1, 5)
    Z = 0.1 + alphas[:, None] ** 2 + 3 * betas[None, :] ** 2
    _, ax = plt.subplots()
    out = ll.plot_surface(alphas, betas, Z, ax=ax, log=log, title="surface")
    assert out is ax and ax.get_title() == "surface"
    assert ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="Z"):
        ll.plot_surface(alphas, betas, Z.T)


def test_plot_surface_takes_shared_levels() -> None:
    """Given level values, every plot contours exactly at them, so plots can share a scale."""
    from matplotlib.contour import ContourSet

    alphas = torch.linspace(-1, 1, 7)
    betas = torch.linspace(-1, 1, 5)
    flat = 0.1 + 0.5 * alphas[:, None] ** 2 + 0.5 * betas[None, :] ** 2
    levels = torch.linspace(0.0, 4.0, 9)
    for Z in (flat, 4 * flat):  # different ranges, the same levels
        _, ax = plt.subplots()
        ll.plot_surface(alphas, betas, Z, ax=ax, levels=levels)
        drawn = [c.levels.tolist() for c in ax.collections if isinstance(c, ContourSet)]
        assert drawn == [levels.tolist()] * 2  # the filled contours and the lines
    for bad in (0, True, [1.0], [1.0, 1.0], [2.0, 1.0], [0.0, float("nan")], [[0.0, 1.0]]):
        with pytest.raises(ValueError, match="levels"):
            ll.plot_surface(alphas, betas, flat, levels=bad)


def test_plot_sparsity_curve_and_spectrum() -> None:
    """Sparsity curves and the spectrum plot return labelled Axes."""
    sparsities = [0.0, 0.2, 0.36, 0.488, 0.59]
    ax = ll.plot_sparsity_curve(
        sparsities,
        {"rewound": [0.95, 0.95, 0.94, 0.94, 0.93], "random": [0.95, 0.94, 0.9, 0.85, 0.8]},
    )
    assert ax.get_xlabel() and ax.get_ylabel() == "test accuracy" and len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="curves"):
        ll.plot_sparsity_curve(sparsities, {"short": [1.0]})
    eigenvalues = torch.tensor([40.0, 15.0, 0.05, 0.01, -0.3])
    ax = ll.plot_spectrum(eigenvalues, title="spectrum")
    assert ax.get_yscale() == "symlog" and ax.get_title() == "spectrum"
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_ydata()) == 5]
    assert list(line.get_ydata()) == sorted(eigenvalues.tolist(), reverse=True)


def test_plot_decision_boundary(small_data: ll.Dataset) -> None:
    """The decision-region plot works with the model's own params and with a params dict."""
    model = ll.make_mlp(seed=0)
    ax = ll.plot_decision_boundary(model, small_data.X_train, small_data.y_train)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    _, ax2 = plt.subplots()
    out = ll.plot_decision_boundary(
        model,
        small_data.X_test,
        small_data.y_test,
        params=ll.params_of(ll.make_mlp(seed=1)),
        ax=ax2,
    )
    assert out is ax2


# ------------------------------------------------------------------------------------------
# Import hygiene
# ------------------------------------------------------------------------------------------

ALLOWED_TOP_LEVEL_IMPORTS = {
    "__future__",
    "collections",
    "copy",
    "dataclasses",
    "itertools",
    "math",
    "numpy",
    "torch",
    "typing",
    "weakref",
}
"""Top-level imports landscape_lab may make at import time (landscape_plots: these and
landscape_lab)."""

ALLOWED_LAZY_IMPORTS = {"matplotlib", "tqdm"}
"""Imports allowed only inside functions (or under TYPE_CHECKING)."""


@pytest.mark.parametrize("path", [MODULE_PATH, PLOTS_PATH], ids=lambda p: p.stem)
def test_module_imports_only_allowed_packages(path: Path) -> None:
    """Statically: no solutions/autograder anywhere; matplotlib and tqdm only lazily;
    landscape_lab imports landscape_plots only lazily (the plots import the lab)."""
    allowed_top_level = ALLOWED_TOP_LEVEL_IMPORTS | (
        {"landscape_lab"} if path == PLOTS_PATH else set()
    )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots.isdisjoint({"solutions", "autograder"}), ast.dump(node)
        assert roots <= allowed_top_level | ALLOWED_LAZY_IMPORTS | {"landscape_plots"}, roots
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            roots = (
                {a.name.split(".")[0] for a in node.names}
                if isinstance(node, ast.Import)
                else {(node.module or "").split(".")[0]}
            )
            assert roots <= allowed_top_level, roots


def test_the_plots_and_needs_are_reachable_from_the_lab() -> None:
    """`lab.plot_path` and the rest, and `from landscape_lab import needs`, as the notebooks
    use them: the objects of landscape_plots, imported on first use, without matplotlib."""
    code = (
        "import sys\n"
        "import landscape_lab as lab\n"
        "lazy = 'landscape_plots' not in sys.modules\n"
        "from landscape_lab import needs\n"
        "import landscape_plots\n"
        "names = [n for n in lab.__all__ if n.startswith('plot_')] + ['needs']\n"
        "same = all(getattr(lab, n) is getattr(landscape_plots, n) for n in names)\n"
        "star = {}\n"
        "exec('from landscape_lab import *', star)\n"
        "print(lazy, same, needs is landscape_plots.needs, set(names) <= set(star),\n"
        "      'matplotlib' in sys.modules, hasattr(lab, 'plot_nothing'), len(names),\n"
        "      set(names) <= set(dir(lab)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "False", "False", "6", "True"]
    import landscape_plots

    forwarded = {n for n in ll.__all__ if n.startswith("plot_") or n == "needs"}
    assert set(landscape_plots.__all__) == forwarded


def test_importing_module_loads_no_grader_or_plotting_code() -> None:
    """In a fresh interpreter, importing landscape_lab loads neither solutions nor autograder,
    adds no matplotlib or tqdm module beyond what numpy and torch load themselves, and
    resolves to the one copy beside the notebooks."""
    code = (
        "import sys, numpy, torch\n"
        "before = set(sys.modules)\n"
        "import landscape_lab\n"
        "roots = {'solutions', 'autograder', 'matplotlib', 'tqdm'}\n"
        "new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in roots)\n"
        "grader = sorted(m for m in sys.modules if m.split('.')[0] in {'solutions', 'autograder'})\n"
        "print(landscape_lab.__file__)\n"
        "print(new + grader)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    path, loaded = result.stdout.strip().splitlines()
    assert Path(path).resolve() == MODULE_PATH
    assert loaded == "[]"


# ------------------------------------------------------------------------------------------
# Headline property of the default task
# ------------------------------------------------------------------------------------------


def _linear_path_losses(model: nn.Module, theta_a, theta_b, X, y) -> list[float]:
    """Oracle: losses along (1 - alpha) theta_a + alpha theta_b via functional_call."""
    out = []
    with torch.no_grad():
        for alpha in torch.linspace(0.0, 1.0, PATH_POINTS).tolist():
            params = {k: (1 - alpha) * theta_a[k] + alpha * theta_b[k] for k in theta_a}
            out.append(float(F.cross_entropy(functional_call(model, params, (X,)), y)))
    return out


def _barrier(losses: list[float]) -> float:
    return max(losses) - (losses[0] + losses[-1]) / 2


def test_independent_pair_has_barrier_shared_checkpoint_pair_does_not(data: ll.Dataset) -> None:
    """With default settings, two seeds give a clear linear barrier (> 0.5 nats) while two
    fine-tunes of a shared early checkpoint are linearly connected (much smaller barrier)."""
    X, y = data.X_train, data.y_train

    independent = []
    for seed in (0, 1):
        model = ll.make_mlp(seed=seed)
        ll.train(model, X, y, seed=seed)
        independent.append(model)

    checkpoint_model = ll.make_mlp(seed=0)
    ll.train(checkpoint_model, X, y, steps=SHARED_CHECKPOINT_STEP, seed=100)
    checkpoint = ll.params_of(checkpoint_model)
    shared = []
    for data_seed in (201, 202):
        model = ll.make_mlp(seed=0)
        ll.load_params(model, checkpoint)
        ll.train(model, X, y, steps=ll.DEFAULT_STEPS - SHARED_CHECKPOINT_STEP, seed=data_seed)
        shared.append(model)

    for model in independent + shared:
        with torch.no_grad():
            acc = float((model(data.X_test).argmax(1) == data.y_test).float().mean())
        assert acc > MIN_ENDPOINT_ACCURACY

    theta = [{n: p.detach() for n, p in m.named_parameters()} for m in independent + shared]
    independent_barrier = _barrier(_linear_path_losses(independent[0], theta[0], theta[1], X, y))
    shared_barrier = _barrier(_linear_path_losses(shared[0], theta[2], theta[3], X, y))
    assert independent_barrier > INDEPENDENT_MIN_BARRIER
    assert shared_barrier < SHARED_MAX_BARRIER
    assert independent_barrier > BARRIER_RATIO * shared_barrier
