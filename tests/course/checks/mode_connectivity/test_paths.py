"""The hidden checks of notebook 01, sections 1–2 (the straight line between two solutions,
the loss along a path), grade well: `interpolate` and `loss_along_path`.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from tests.course.checks.mode_connectivity.helpers import ParamsMismatchError, _floats, _same_keys
from tests.course.checks.support import assert_fails, assert_passes_all

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
