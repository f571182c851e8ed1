"""The hidden checks of notebook 01 grade well.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call
from torch.utils.data import DataLoader, TensorDataset

from autograder.checks import cases, check_function, judge, parts
from autograder.checks.call import run_case
from autograder.checks.types import Case
from solutions import mode_connectivity as ref
from tests.course.checks.support import assert_fails, assert_passes_all

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


class ParamsMismatchError(ValueError):
    """A student's own ValueError subclass (the spec asks for ValueError; subclasses are one)."""


def interp_numpy_roundtrip(theta_a, theta_b, alpha):
    """numpy arithmetic, back to a tensor of the input's dtype; an OrderedDict out."""
    if theta_a.keys() != theta_b.keys():
        raise ParamsMismatchError(f"theta_a/theta_b keys differ: {theta_a.keys() ^ theta_b.keys()}")
    out = OrderedDict()
    for k, va in theta_a.items():
        vb = theta_b[k]
        if va.shape != vb.shape:
            raise ParamsMismatchError(f"theta_b[{k!r}] has shape {tuple(vb.shape)}")
        arr = (1.0 - alpha) * va.numpy() + alpha * vb.numpy()
        out[k] = torch.as_tensor(np.asarray(arr), dtype=va.dtype).clone()
    return out


def interp_einsum(theta_a, theta_b, alpha):
    """torch.stack + einsum with a weight vector of the params' dtype; keys in sorted order."""
    bad = set(theta_a).symmetric_difference(theta_b)
    if bad:
        raise ValueError(f"keys {sorted(bad)} are in only one of theta_a, theta_b")
    out = {}
    for k in sorted(theta_a):
        if theta_a[k].shape != theta_b[k].shape:
            raise ValueError(f"shape mismatch for {k} between theta_a and theta_b")
        stacked = torch.stack([theta_a[k], theta_b[k]])
        w = torch.tensor([1.0 - alpha, alpha], dtype=stacked.dtype)
        out[k] = torch.einsum("i,i...->...", w, stacked)
    return out


def interp_python_loops(theta_a, theta_b, alpha):
    """Pure Python over the flattened entries; validation through a caught KeyError."""
    try:
        pairs = [(k, theta_a[k], theta_b[k]) for k in theta_a]
    except KeyError as exc:
        raise ValueError(f"theta_b lacks key {exc}") from None
    if len(theta_a) != len(theta_b):
        raise ValueError("theta_a and theta_b have different numbers of keys")
    out = {}
    for k, a, b in pairs:
        if a.shape != b.shape:
            raise ValueError(f"theta_a[{k}] and theta_b[{k}] differ in shape")
        flat = [
            (1 - alpha) * x + alpha * y
            for x, y in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist())
        ]
        out[k] = torch.tensor(flat, dtype=a.dtype).reshape(a.shape)
    return out


def interp_torch_add(theta_a, theta_b, alpha):
    """theta_a + alpha·(theta_b − theta_a) with torch.add's `alpha` (another rounding)."""
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    return {k: torch.add(theta_a[k], theta_b[k] - theta_a[k], alpha=float(alpha)) for k in theta_a}


def interp_strict_key_order(theta_a, theta_b, alpha):
    """Rejects the same keys in another order too: stricter than the spec, but never wrong."""
    if list(theta_a) != list(theta_b):
        raise ValueError("theta_a and theta_b must list the same keys in the same order")
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    return {k: (1 - alpha) * theta_a[k] + alpha * theta_b[k] for k in theta_a}


def interp_zip_values(theta_a, theta_b, alpha):
    """Pairs the tensors by position: wrong when theta_b lists its keys in another order."""
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    return {
        k: (1 - alpha) * va + alpha * vb for (k, va), vb in zip(theta_a.items(), theta_b.values())
    }


def interp_alpha_float32(theta_a, theta_b, alpha):
    """torch.tensor(alpha) is float32: float64 parameters get float32 accuracy only."""
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    t = torch.tensor(alpha)
    return {k: (1 - t) * theta_a[k] + t * theta_b[k] for k in theta_a}


def interp_shallow_copy(theta_a, theta_b, alpha):
    """dict.copy() is shallow: the in-place *= and += change theta_a's tensors."""
    _same_keys(theta_a, theta_b, "theta_a", "theta_b")
    out = theta_a.copy()
    for k in out:
        out[k] *= 1 - alpha
        out[k] += alpha * theta_b[k]
    return out


def interp_common_keys(theta_a, theta_b, alpha):
    """Silently interpolates the common keys instead of raising for mismatched keys."""
    return {
        k: (1 - alpha) * theta_a[k] + alpha * theta_b[k] for k in theta_a.keys() & theta_b.keys()
    }


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (interp_reversed, r"alpha = 0 gives theta_a", "alpha_convention"),
        (interp_clamped, r"clamped", "extrapolation"),
        (interp_in_place, r"modified in place", "no_mutation"),
        (interp_no_validation, r"instead of raising ValueError|raised KeyError", "errors"),
        (interp_float32, r"dtype torch\.float32, expected torch\.float64", "dtype"),
        (interp_zip_values, r"by position, not by key", "basic"),
        (interp_alpha_float32, r"only to float32 accuracy", "dtype"),
        (interp_shallow_copy, r"theta_a\['layer\.weight'\] was modified in place", "no_mutation"),
        (interp_common_keys, r"instead of raising ValueError", "errors"),
    ],
)
def test_interpolate_wrong(fn, match, part):
    assert_fails("interpolate", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn",
    [
        interp_lerp,
        interp_float64_inside,
        interp_numpy_roundtrip,
        interp_einsum,
        interp_python_loops,
        interp_torch_add,
        interp_strict_key_order,
    ],
)
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


def path_inference_numpy(model, path, X, y, alphas):
    """numpy alphas, inference_mode, a summed loss divided by N, floats back into a tensor."""
    if not callable(path):
        raise ValueError("path must be callable")
    raw = alphas.tolist() if isinstance(alphas, torch.Tensor) else alphas
    values = []
    with torch.inference_mode():
        for a in np.asarray(raw, dtype=np.float64):
            logits = functional_call(model, path(float(a)), (X,))
            values.append(F.cross_entropy(logits, y, reduction="sum").item() / len(y))
    return torch.tensor(values, dtype=torch.float32)


def path_float64_manual(model, path, X, y, alphas):
    """float64 log-softmax, the target column picked by advanced indexing, torch.cat."""
    out = []
    with torch.no_grad():
        for a in torch.as_tensor(alphas, dtype=torch.float64):
            logp = functional_call(model, path(a.item()), X).double().log_softmax(-1)
            out.append(-logp[torch.arange(len(y)), y].mean().unsqueeze(0))
    return torch.cat(out)


@torch.no_grad()
def _path_one(model, params, X, y):
    buffers = dict(model.named_buffers())
    return F.cross_entropy(functional_call(model, (params, buffers), (X,)), y)


def path_decorated(model, path, X, y, alphas):
    """A @torch.no_grad() helper, (params, buffers) given to functional_call as a tuple."""
    if len(X) != len(y):
        raise ValueError("X and y must have the same number of rows")
    return torch.stack([_path_one(model, path(a), X, y) for a in list(alphas)])


def path_private_copy(model, path, X, y, alphas):
    """Loads each point into a private deep copy with vector_to_parameters."""
    clone = copy.deepcopy(model)
    names = [n for n, _ in clone.named_parameters()]
    losses = torch.empty(len(alphas))
    with torch.no_grad():
        for i, a in enumerate(alphas):
            params = path(a)
            vec = torch.nn.utils.parameters_to_vector([params[n] for n in names])
            torch.nn.utils.vector_to_parameters(vec, clone.parameters())
            losses[i] = F.cross_entropy(clone(X), y)
    return losses


def path_sum_reduction(model, path, X, y, alphas):
    """The total cross-entropy instead of the mean."""
    with torch.no_grad():
        return torch.stack(
            [
                F.cross_entropy(functional_call(model, path(a), (X,)), y, reduction="sum")
                for a in alphas
            ]
        )


def path_own_grid(model, path, X, y, alphas):
    """Evaluates on an evenly spaced grid of its own instead of the given alphas."""
    grid = torch.linspace(0, 1, len(alphas)).tolist()
    with torch.no_grad():
        return torch.stack(
            [F.cross_entropy(functional_call(model, path(a), (X,)), y) for a in grid]
        )


def path_numpy_out(model, path, X, y, alphas):
    """Returns a numpy array; the spec asks for a tensor."""
    with torch.no_grad():
        return np.array(
            [F.cross_entropy(functional_call(model, path(a), (X,)), y).item() for a in alphas]
        )


def path_freezes_model(model, path, X, y, alphas):
    """Turns off requires_grad of the model's own parameters "to compute without gradients"."""
    model.requires_grad_(False)
    with torch.no_grad():
        return torch.stack(
            [F.cross_entropy(functional_call(model, path(a), (X,)), y) for a in alphas]
        )


def path_backprop_into_model(model, path, X, y, alphas):
    """A stray forward and backward through the model itself leaves .grad on its parameters."""
    out = []
    for a in alphas:
        F.cross_entropy(model(X), y).backward()
        with torch.no_grad():
            out.append(F.cross_entropy(functional_call(model, path(a), (X,)), y))
    return torch.stack(out)


def path_forces_train(model, path, X, y, alphas):
    """Evaluates in train mode whatever the model's mode (and restores it afterwards)."""
    was = model.training
    model.train()
    try:
        with torch.no_grad():
            return torch.stack(
                [F.cross_entropy(functional_call(model, path(a), (X,)), y) for a in alphas]
            )
    finally:
        model.train(was)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (path_loads_into_model, r"parameter '0\.weight' was changed", "no_mutation"),
        (path_with_grad, r"requires grad", "gradients"),
        (path_eval_mode, r"switched to eval mode", "mode"),
        (path_eval_mode_restored, r"losses are those of the model in eval mode", "mode"),
        (path_ignores_path, r"differs in", "basic"),
        (path_list, r"should be a torch\.Tensor", "basic"),
        (path_sum_reduction, r"differs in 5 of 5 entries", "basic"),
        (path_own_grid, r"quadratic Bezier path.*differs in 2 of 4", "basic"),
        (path_numpy_out, r"should be a torch\.Tensor, got .*numpy\.ndarray", "basic"),
        (path_forces_train, r"losses are those of the model in train mode", "mode"),
        (
            path_freezes_model,
            r"'0\.weight'\.requires_grad changed from True to False",
            "no_mutation",
        ),
        (path_backprop_into_model, r"'0\.weight' was left with a gradient", "no_mutation"),
    ],
)
def test_loss_along_path_wrong(fn, match, part):
    assert_fails("loss_along_path", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn",
    [
        path_deepcopy,
        path_manual_nll,
        path_inference_numpy,
        path_float64_manual,
        path_decorated,
        path_private_copy,
    ],
)
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


class LossesError(ValueError):
    """A student's own ValueError subclass."""


def barrier_tensor_out(losses):
    """float64 tensor arithmetic; returns a 0-d tensor (accepted for scalar results)."""
    t = torch.as_tensor(losses, dtype=torch.float64)
    if t.ndim != 1 or t.numel() < 2:
        raise LossesError("losses must be 1-D with at least 2 values")
    if torch.isnan(t).any():
        raise LossesError("losses contains NaN")
    return t.max() - (t[0] + t[-1]) / 2


def barrier_loops(losses):
    """Hand-written max, NaN found by v != v, the mean of the two endpoint excesses."""
    values = []
    for v in losses:
        v = float(v)
        if v != v:
            raise ValueError("losses: NaN found")
        values.append(v)
    if len(values) < 2:
        raise ValueError("losses: need at least two values")
    top = values[0]
    for v in values:
        if v > top:
            top = v
    return 0.5 * (top - values[0]) + 0.5 * (top - values[-1])


def barrier_float32(losses):
    """float32 arithmetic throughout (rounding within the scalar tolerance)."""
    t = torch.tensor([float(v) for v in losses], dtype=torch.float32)
    if len(t) < 2 or bool(torch.isnan(t).any()):
        raise ValueError("losses must have >= 2 values, none NaN")
    return float(t.max() - 0.5 * t[0] - 0.5 * t[-1])


def barrier_max_endpoint(losses):
    """Against the worse endpoint instead of the endpoints' mean."""
    values = _floats(losses, "losses", 2)
    return max(values) - max(values[0], values[-1])


def barrier_mean_all(losses):
    """Against the mean of all losses instead of the endpoints' mean."""
    values = _floats(losses, "losses", 2)
    return max(values) - sum(values) / len(values)


def barrier_len_only(losses):
    """Checks the length but lets NaN through."""
    values = [float(v) for v in losses]
    if len(values) < 2:
        raise ValueError("losses: at least 2 values")
    return max(values) - (values[0] + values[-1]) / 2


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (barrier_interior_max, r"expected 0\.45", "conventions"),
        (barrier_min_endpoint, r"expected 1\.095", "basic"),
        (barrier_no_validation, r"instead of raising ValueError", "errors"),
        (barrier_max_endpoint, r"expected 1\.095, got 1\.09\b", "basic"),
        (barrier_mean_all, r"expected 1\.095, got 0\.78", "basic"),
        (barrier_len_only, r"a NaN inside.*instead of raising ValueError", "errors"),
    ],
)
def test_barrier_height_wrong(fn, match, part):
    assert_fails("barrier_height", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [barrier_numpy, barrier_tensor_out, barrier_loops, barrier_float32])
def test_barrier_height_alternatives(fn):
    assert_passes_all("barrier_height", fn)


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


def _plain(values):
    return values.tolist() if isinstance(values, torch.Tensor) else values


def ib_numpy(losses, alphas=None):
    """numpy vectorised, np.linspace by default, np.isclose with the spec's tolerance."""
    arr = np.asarray(_plain(losses), dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses: 1-D, at least 2 values, no NaN")
    if alphas is None:
        pos = np.linspace(0.0, 1.0, arr.size)
    else:
        pos = np.asarray(_plain(alphas), dtype=np.float64)
        if pos.shape != arr.shape or np.isnan(pos).any():
            raise ValueError("alphas must have one value per loss")
        ends_ok = np.isclose(pos[0], 0.0, rtol=0, atol=1e-6) and np.isclose(
            pos[-1], 1.0, rtol=0, atol=1e-6
        )
        if not ends_ok:
            raise ValueError("alphas must start at 0 and end at 1")
    return np.max(arr - ((1 - pos) * arr[0] + pos * arr[-1]))


def ib_loops(losses, alphas=None):
    """A running max over first + alpha·(last − first) (another rounding of the line)."""
    values = _floats(losses, "losses", 2)
    n = len(values)
    positions = [k / (n - 1) for k in range(n)] if alphas is None else _floats(alphas, "alphas")
    if len(positions) != n:
        raise ValueError(f"alphas has {len(positions)} entries, losses {n}")
    if not (-1e-6 <= positions[0] <= 1e-6) or not (1 - 1e-6 <= positions[-1] <= 1 + 1e-6):
        raise ValueError("alphas[0] must be 0 and alphas[-1] must be 1")
    first, last = values[0], values[-1]
    best = -math.inf
    for v, a in zip(values, positions):
        best = max(best, v - first - a * (last - first))
    return best


def ib_float32_torch(losses, alphas=None):
    """float32 torch.lerp line, clamped at 0 (harmless), a 0-d float32 tensor out."""
    t = torch.as_tensor(losses, dtype=torch.float32)
    if t.numel() < 2 or torch.isnan(t).any():
        raise LossesError("losses: at least two, no NaN")
    if alphas is None:
        a = torch.linspace(0, 1, t.numel())
    else:
        a = torch.as_tensor(alphas, dtype=torch.float32)
    if a.shape != t.shape:
        raise LossesError("alphas and losses differ in length")
    if abs(float(a[0])) > 1e-6 or abs(float(a[-1]) - 1) > 1e-6:
        raise LossesError("alphas must run from 0 to 1")
    return torch.clamp((t - torch.lerp(t[0], t[-1], a)).max(), min=0.0)


def _ib_checked(losses, alphas):
    values = _floats(losses, "losses", 2)
    n = len(values)
    positions = [k / (n - 1) for k in range(n)] if alphas is None else _floats(alphas, "alphas")
    if len(positions) != n:
        raise ValueError("alphas and losses differ in length")
    return values, positions


def ib_interior_only(losses, alphas=None):
    """The max over the interior points only: negative for a path below the line."""
    values, positions = _ib_checked(losses, alphas)
    if abs(positions[0]) > 1e-6 or abs(positions[-1] - 1) > 1e-6:
        raise ValueError("alphas must run from 0 to 1")
    inner = [
        v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values[1:-1], positions[1:-1])
    ]
    return max(inner, default=0.0)


def ib_np_isclose(losses, alphas=None):
    """np.isclose's default tolerances (atol 1e-8) instead of the spec's 1e-6."""
    values, positions = _ib_checked(losses, alphas)
    if not (np.isclose(positions[0], 0.0) and np.isclose(positions[-1], 1.0)):
        raise ValueError("alphas must start at 0 and end at 1")
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_no_end_check(losses, alphas=None):
    """Never checks that alphas run from 0 to 1."""
    values, positions = _ib_checked(losses, alphas)
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_mean_excess(losses, alphas=None):
    """The mean excess over the line instead of the max."""
    values, positions = _ib_checked(losses, alphas)
    if abs(positions[0]) > 1e-6 or abs(positions[-1] - 1) > 1e-6:
        raise ValueError("alphas must run from 0 to 1")
    diffs = [v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions)]
    return sum(diffs) / len(diffs)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ib_is_barrier_height, r"equals barrier_height", "default_alphas"),
        (ib_wrong_spacing, r"expected 1\.095, got 1\.096", "default_alphas"),
        (ib_swapped_line, r"line runs the wrong way", "default_alphas"),
        (ib_exact_ends, r"raised ValueError.*alphas\[0\] may differ from 0", "explicit_alphas"),
        (ib_ignores_alphas, r"uneven alphas", "explicit_alphas"),
        (ib_no_length_check, r"instead of raising ValueError", "errors"),
        (ib_interior_only, r"expected 0, got -0\.23.*never less", "default_alphas"),
        (ib_interior_only, r"expected 0, got -0\.28.*never less", "explicit_alphas"),
        (ib_np_isclose, r"raised ValueError.*alphas\[0\] may differ from 0", "explicit_alphas"),
        (ib_no_end_check, r"alphas\[0\] = 0\.1.*instead of raising ValueError", "errors"),
        (ib_mean_excess, r"expected 1\.095, got 0\.315", "default_alphas"),
    ],
)
def test_interpolated_barrier_wrong(fn, match, part):
    assert_fails("interpolated_barrier", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [ib_torch, ib_numpy, ib_loops, ib_float32_torch])
def test_interpolated_barrier_alternatives(fn):
    assert_passes_all("interpolated_barrier", fn)


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


def ilc_torch_float64(losses, delta):
    """A float64 tensor comparison; returns a 0-d bool tensor (accepted)."""
    t = torch.as_tensor(losses, dtype=torch.float64)
    if t.numel() < 2:
        raise LossesError("losses needs at least two entries")
    if torch.isnan(t).any():
        raise LossesError("losses has NaN")
    return (t <= torch.maximum(t[0], t[-1]) + delta).all()


def ilc_loop(losses, delta):
    """Python floats, a loop with an early return."""
    values = [float(v) for v in losses]
    if len(values) < 2 or any(math.isnan(v) for v in values):
        raise ValueError("losses: two or more numbers, no NaN")
    threshold = max(values[0], values[-1]) + float(delta)
    for v in values:  # noqa: SIM110 (an early-return loop is the style under test)
        if v > threshold:
            return False
    return True


def ilc_max_only(losses, delta):
    """Compares only the largest loss, in numpy float64."""
    arr = np.asarray([float(v) for v in losses], dtype=np.float64)
    if arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses: two or more numbers, no NaN")
    return bool(arr.max() <= max(arr[0], arr[-1]) + np.float64(delta))


def ilc_excess_form(losses, delta):
    """max − max(endpoints) ≤ delta: the same test after a subtraction instead of an addition."""
    values = _floats(losses, "losses", 2)
    return max(values) - max(values[0], values[-1]) <= delta


def ilc_midpoint_only(losses, delta):
    """Checks only the loss in the middle of the path."""
    values = _floats(losses, "losses", 2)
    return values[len(values) // 2] <= max(values[0], values[-1]) + delta


def ilc_mean_endpoints(losses, delta):
    """The threshold from the endpoints' mean instead of the worse endpoint."""
    values = _floats(losses, "losses", 2)
    return all(v <= (values[0] + values[-1]) / 2 + delta for v in values)


def ilc_barrier_le_delta(losses, delta):
    """barrier_height(losses) ≤ delta: measured against the endpoints' mean."""
    values = _floats(losses, "losses", 2)
    return max(values) - (values[0] + values[-1]) / 2 <= delta


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ilc_float32, r"expected False, got True.*compare in float64", "float64"),
        (ilc_strict, r"expected True, got False.*≤, not <", "threshold"),
        (ilc_min_endpoint, r"larger endpoint", "threshold"),
        (ilc_int, r"should be a bool", "basic"),
        (ilc_no_nan_check, r"instead of raising ValueError", "errors"),
        (ilc_midpoint_only, r"peak away from the middle.*expected False, got True", "basic"),
        (
            ilc_mean_endpoints,
            r"expected True, got False.*not the smaller endpoint or their mean",
            "threshold",
        ),
        (
            ilc_barrier_le_delta,
            r"expected True, got False.*not the smaller endpoint or their mean",
            "threshold",
        ),
    ],
)
def test_is_linearly_connected_wrong(fn, match, part):
    assert_fails("is_linearly_connected", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn", [ilc_numpy, ilc_torch_float64, ilc_loop, ilc_max_only, ilc_excess_form]
)
def test_is_linearly_connected_alternatives(fn):
    assert_passes_all("is_linearly_connected", fn)


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
        (make_trainer(alpha_rule="half"), r"remove at least 75% of the barrier", "barrier"),
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


def _basin_edges(endpoint_losses, path_max_losses, delta):
    values = _floats(endpoint_losses, "endpoint_losses")
    n = len(values)
    edges = []
    for (i, j), m in path_max_losses.items():
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ValueError(f"path_max_losses: bad pair {(i, j)}")
        if float(m) <= max(values[i], values[j]) + float(delta):
            edges.append((int(i), int(j)))
    return n, edges


def basins_networkx(endpoint_losses, path_max_losses, delta):
    """networkx.connected_components."""
    import networkx as nx

    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    return sorted((set(c) for c in nx.connected_components(graph)), key=min)


def basins_labels(endpoint_losses, path_max_losses, delta):
    """Label propagation to a fixed point (smallest label wins); frozensets out."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    label = list(range(n))
    changed = True
    while changed:
        changed = False
        for i, j in edges:
            low = min(label[i], label[j])
            if label[i] != low or label[j] != low:
                label[i] = label[j] = low
                changed = True
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(lab, set()).add(i)
    return [frozenset(groups[k]) for k in sorted(groups)]


def basins_closure(endpoint_losses, path_max_losses, delta):
    """Transitive closure of a boolean adjacency matrix by repeated matrix products."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    reach = torch.eye(n, dtype=torch.bool)
    for i, j in edges:
        reach[i, j] = reach[j, i] = True
    while True:
        nxt = (reach.double() @ reach.double()) > 0
        if torch.equal(nxt, reach):
            break
        reach = nxt
    out, seen = [], set()
    for i in range(n):
        if i not in seen:
            comp = set(reach[i].nonzero().reshape(-1).tolist())
            seen |= comp
            out.append(comp)
    return out


def basins_merge_sets(endpoint_losses, path_max_losses, delta):
    """Starts from singletons and merges the two sets of every connected pair."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    groups = [{i} for i in range(n)]
    for i, j in edges:
        gi = next(s for s in groups if i in s)
        gj = next(s for s in groups if j in s)
        if gi is not gj:
            groups.remove(gj)
            gi |= gj
    return sorted(groups, key=min)


def basins_ordered_lookup(endpoint_losses, path_max_losses, delta):
    """Looks every pair up as (i, j) with i < j only: misses pairs given as (j, i)."""
    values = _floats(endpoint_losses, "endpoint_losses")
    n = len(values)
    pairs = {}
    for i in range(n):
        for j in range(i + 1, n):
            m = path_max_losses.get((i, j))
            if m is not None:
                pairs[(i, j)] = m
    return ref.linear_basins(values, pairs, delta)


def basins_greedy(endpoint_losses, path_max_losses, delta):
    """Adds a pair to the first group that holds one of its solutions, never merging groups."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    groups: list[set[int]] = []
    for i, j in edges:
        for s in groups:
            if i in s or j in s:
                s.update((i, j))
                break
        else:
            groups.append({i, j})
    placed = set().union(*groups)
    groups += [{i} for i in range(n) if i not in placed]
    return sorted(groups, key=min)


def basins_n_from_pairs(endpoint_losses, path_max_losses, delta):
    """Counts the solutions from the pairs: loses solutions that come after every pair."""
    values = _floats(endpoint_losses, "endpoint_losses")
    n = 1 + max((max(p) for p in path_max_losses), default=-1)
    return ref.linear_basins(values[:n], dict(path_max_losses), delta) if n else []


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (basins_direct_only, r"expected \[\[0, 1, 2\]\]", "components"),
        (basins_first_loss_only, r"larger endpoint", "threshold"),
        (basins_strict, r"the comparison is ≤", "threshold"),
        (basins_lists, r"should be a set", "basic"),
        (basins_by_size, r"sort them by their smallest member", "components"),
        (basins_only_paired, r"expected \[\[0, 2\], \[1\]\], got \[\[0, 2\]\]", "components"),
        (basins_ordered_lookup, r"either order", "basic"),
        (
            basins_greedy,
            r"expected \[\[0, 1, 2, 3\]\], got \[\[0, 1, 2\], \[2, 3\]\]",
            "components",
        ),
        (basins_n_from_pairs, r"expected \[\[0\], \[1\]\], got \[\]", "components"),
    ],
)
def test_linear_basins_wrong(fn, match, part):
    assert_fails("linear_basins", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [basins_bfs, basins_labels, basins_closure, basins_merge_sets])
def test_linear_basins_alternatives(fn):
    assert_passes_all("linear_basins", fn)


def test_linear_basins_networkx():
    pytest.importorskip("networkx")
    assert_passes_all("linear_basins", basins_networkx)


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


class WeightsError(ValueError):
    """A student's own ValueError subclass."""


def _avg_weights(params_list, weights):
    if len(params_list) == 0:
        raise WeightsError("params_list must contain at least one dict")
    keys = set(params_list[0])
    for i, p in enumerate(params_list):
        if set(p) != keys:
            raise WeightsError(f"params_list[{i}] has different keys")
        for k in keys:
            if p[k].shape != params_list[0][k].shape:
                raise WeightsError(f"params_list[{i}][{k!r}] has a different shape")
    if weights is None:
        return np.full(len(params_list), 1.0 / len(params_list))
    raw = weights.tolist() if isinstance(weights, torch.Tensor) else weights
    w = np.asarray(raw, dtype=np.float64)
    if w.shape != (len(params_list),):
        raise WeightsError("weights needs one entry per member")
    if np.isnan(w).any() or (w < 0).any():
        raise WeightsError("weights must be non-negative")
    if not math.isclose(float(w.sum()), 1.0, rel_tol=0.0, abs_tol=1e-6):
        raise WeightsError("weights must sum to 1")
    return w


def avg_reduce_float64(params_list, weights=None):
    """functools.reduce into a float64 accumulator, cast back to the members' dtype."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        total = functools.reduce(
            lambda acc, pair, k=k: acc + pair[0] * pair[1][k].double(),
            zip(w.tolist(), params_list),
            torch.zeros(v.shape, dtype=torch.float64),
        )
        out[k] = total.to(v.dtype)
    return out


def avg_einsum(params_list, weights=None):
    """torch.stack per key, einsum with the weights in the members' dtype."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        stacked = torch.stack([p[k] for p in params_list])
        out[k] = torch.einsum("m,m...->...", torch.as_tensor(w, dtype=v.dtype), stacked)
    return out


def avg_running_mean(params_list, weights=None):
    """A running mean acc += (p − acc) / i by default (another rounding), sums otherwise."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k in params_list[0]:
        if weights is None:
            acc = params_list[0][k].clone()
            for i, p in enumerate(params_list[1:], start=2):
                acc = acc + (p[k] - acc) / i
        else:
            acc = sum(float(wi) * p[k] for wi, p in zip(w, params_list))
        out[k] = acc
    return out


def avg_numpy(params_list, weights=None):
    """numpy tensordot in the members' dtype, torch.from_numpy back."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k in params_list[0]:
        arrs = np.stack([np.asarray(p[k].numpy()) for p in params_list])
        res = np.tensordot(w.astype(arrs.dtype), arrs, axes=1)
        out[k] = torch.from_numpy(np.array(res, dtype=arrs.dtype))
    return out


def avg_float32_weights(params_list, weights=None):
    """torch.tensor(weights) is float32: float64 members get float32 accuracy only."""
    _avg_weights(params_list, weights)
    n = len(params_list)
    w = torch.full((n,), 1.0 / n) if weights is None else torch.tensor(weights)
    return {k: sum(w[i] * p[k] for i, p in enumerate(params_list)) for k in params_list[0]}


def avg_sum_default(params_list, weights=None):
    """Default weights of 1 each: the sum of the members, not their mean."""
    w = _avg_weights(params_list, weights)
    if weights is None:
        w = [1.0] * len(params_list)
    return {k: sum(wi * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_renormalises(params_list, weights=None):
    """Divides by the weights' sum instead of checking it (and never compares the keys)."""
    if not params_list:
        raise ValueError("params_list is empty")
    w = [1.0] * len(params_list) if weights is None else [float(v) for v in weights]
    if len(w) != len(params_list) or any(v < 0 for v in w):
        raise ValueError("weights: one non-negative weight per member")
    total = sum(w)
    return {k: sum(wi / total * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_shallow_copy(params_list, weights=None):
    """dict(params_list[0]) is shallow: the in-place *= and += change the first member."""
    w = _avg_weights(params_list, weights)
    out = dict(params_list[0])
    for k in out:
        out[k] *= float(w[0])
        for wi, p in zip(w[1:], params_list[1:]):
            out[k] += float(wi) * p[k]
    return out


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (avg_ignores_weights, r"ignores the weights", "weights"),
        (avg_no_sum_check, r"instead of raising ValueError", "errors"),
        (avg_in_place, r"modified in place", "no_mutation"),
        (avg_exact_sum, r"raised ValueError.*within the tolerance 1e-6", "weights"),
        (avg_float32_accumulator, r"dtype torch\.float32, expected torch\.float64", "dtype"),
        (avg_float32_weights, r"weights \[0\.6, 0\.4\].*only to float32 accuracy", "dtype"),
        (avg_sum_default, r"sum of the members", "uniform"),
        (avg_renormalises, r"different keys.*instead of raising ValueError", "errors"),
        (
            avg_shallow_copy,
            r"params_list\[0\]\['layer\.weight'\] was modified in place",
            "no_mutation",
        ),
    ],
)
def test_average_params_wrong(fn, match, part):
    assert_fails("average_params", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn", [avg_stacked, avg_reduce_float64, avg_einsum, avg_running_mean, avg_numpy]
)
def test_average_params_alternatives(fn):
    assert_passes_all("average_params", fn)


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


def ens_logsumexp(model, params_list, X):
    """In log space: logsumexp of the members' log-probabilities minus log M, then exp."""
    if len(params_list) == 0:
        raise ValueError("params_list must not be empty")
    with torch.no_grad():
        logp = torch.stack([functional_call(model, p, (X,)).log_softmax(-1) for p in params_list])
        return torch.exp(torch.logsumexp(logp, dim=0) - math.log(len(params_list)))


def ens_numpy(model, params_list, X):
    """A numerically stable numpy softmax per member, torch.from_numpy (float32) back."""
    if not params_list:
        raise ValueError("params_list is empty")
    total = None
    for p in params_list:
        with torch.no_grad():
            z = functional_call(model, p, (X,)).numpy()
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
        total = probs if total is None else total + probs
    return torch.from_numpy(total / len(params_list))


@torch.no_grad()
def ens_float64_cast_back(model, params_list, X):
    """Decorated with no_grad, softmax in float64, cast back to the logits' dtype."""
    if len(params_list) < 1:
        raise ValueError("params_list: need at least one member")
    buffers = dict(model.named_buffers())
    acc, dtype = None, None
    for p in params_list:
        logits = functional_call(model, (p, buffers), (X,))
        dtype = logits.dtype
        probs = F.softmax(logits.double(), dim=1)
        acc = probs if acc is None else acc + probs
    return (acc / len(params_list)).to(dtype)


def _no_members(params_list):
    if not params_list:
        raise ValueError("params_list is empty")


def ens_sum(model, params_list, X):
    """The sum of the members' probabilities, not their mean."""
    _no_members(params_list)
    with torch.no_grad():
        return sum(functional_call(model, p, (X,)).softmax(-1) for p in params_list)


def ens_softmax_dim0(model, params_list, X):
    """softmax over the examples (dim 0) instead of the classes."""
    _no_members(params_list)
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).softmax(0) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_eval_mode(model, params_list, X):
    """Switches the model to eval mode and leaves it there."""
    _no_members(params_list)
    model.eval()
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).softmax(-1) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_float64_out(model, params_list, X):
    """Returns float64 probabilities for a float32 model (tensors keep the input's dtype)."""
    _no_members(params_list)
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).double().softmax(-1) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_freezes_model(model, params_list, X):
    """Sets requires_grad = False on the model's own parameters."""
    _no_members(params_list)
    for p in model.parameters():
        p.requires_grad = False
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).softmax(-1) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_vote(model, params_list, X):
    """Averages one-hot votes of the members' argmax instead of their probabilities."""
    _no_members(params_list)
    with torch.no_grad():
        votes = []
        for p in params_list:
            logits = functional_call(model, p, (X,))
            votes.append(F.one_hot(logits.argmax(-1), logits.shape[-1]).float())
        return torch.stack(votes).mean(0)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ens_mean_logits, r"averaged logits", "basic"),
        (ens_with_grad, r"requires grad", "gradients"),
        (ens_loads_model, r"parameter '0\.weight' was changed", "no_mutation"),
        (ens_no_empty_check, r"raised ZeroDivisionError", "errors"),
        (ens_log_probs, r"differs in", "basic"),
        (ens_sum, r"sum of the 2 members' probabilities", "basic"),
        (ens_softmax_dim0, r"softmax runs over the examples", "basic"),
        (ens_eval_mode, r"switched to eval mode", "no_mutation"),
        (ens_float64_out, r"dtype torch\.float64, expected torch\.float32", "basic"),
        (ens_vote, r"differs in", "basic"),
        (ens_freezes_model, r"requires_grad changed from True to False", "no_mutation"),
    ],
)
def test_ensemble_probs_wrong(fn, match, part):
    assert_fails("ensemble_probs", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [ens_deepcopy, ens_logsumexp, ens_numpy, ens_float64_cast_back])
def test_ensemble_probs_alternatives(fn):
    assert_passes_all("ensemble_probs", fn)


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
