"""Helpers for the *landscapes* notebooks (mode connectivity, loss landscapes, lottery tickets).

This module is released with the notebooks. It is not graded, and it is restored from the
release at grading time, so edits to it do not change your grade. It gives you:

Data
    `make_dataset` builds a small, deterministic 2-D classification task (a noisy spiral with
    `NUM_CLASSES` arms). It is easy enough to learn in a second on a CPU and hard enough that
    two small networks trained from different seeds end up in different linear basins.

Models and training
    `make_mlp` builds a small ReLU MLP as an `nn.Sequential` (the Linear layers are named
    "0", "2", "4", ...), optionally with batch normalisation after every hidden layer;
    `train` trains it in place with Adam or SGD, optionally keeping a pruning `mask` at
    zero; `evaluate`, `cross_entropy` and `accuracy` measure it, either with its own
    parameters or with a `params` dict you pass in (which may also hold batch-norm running
    statistics); `batch_norm_statistics` recomputes those statistics for any parameters.

Parameters as data
    `Params` is an ordered ``dict[str, torch.Tensor]`` keyed like ``model.named_parameters()``.
    `params_of` takes a detached copy, `load_params` writes one back, `flatten_params` and
    `unflatten_params` convert between a `Params` dict and one 1-D vector `theta`, and
    `flat_loss_fn` turns a model and data into the `loss_fn(theta)` used by the "flat"
    functions of notebook 02 (it works with `torch.func.vmap`, `jvp`, `grad` and double
    backward).

Plots
    `plot_path` (loss and accuracy along a linear or Bezier path), `plot_surface`
    (filter-normalised 2-D contour), `plot_sparsity_curve` (accuracy against sparsity),
    `plot_spectrum` (Hessian eigenvalues) and `plot_decision_boundary` live in
    `landscape_plots` (released beside this file) and are reachable from here too
    (``lab.plot_path``); matplotlib is imported only when you plot. So is `needs`, which
    runs a demonstration only once the functions it uses are implemented.

Reproducibility
    There is no global "seed everything" switch and nothing here touches the global random
    state: every function that draws random numbers takes a `seed` and uses its own
    `torch.Generator`. The same call with the same arguments gives bitwise-identical results
    on the same machine and thread settings (thread settings are left to you).

Speed
    The models are tiny, so on a busy or shared machine PyTorch's thread pool costs more than
    it gains: if training feels slow, call ``torch.set_num_threads(1)`` once at the top of
    the notebook. (This module never changes thread settings itself.)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LR",
    "DEFAULT_NOISE",
    "DEFAULT_STEPS",
    "NUM_CLASSES",
    "Dataset",
    "Params",
    "accuracy",
    "batch_norm_statistics",
    "cross_entropy",
    "evaluate",
    "flat_loss_fn",
    "flatten_params",
    "load_params",
    "make_dataset",
    "make_mlp",
    "needs",
    "params_of",
    "plot_decision_boundary",
    "plot_path",
    "plot_sparsity_curve",
    "plot_spectrum",
    "plot_surface",
    "train",
    "unflatten_params",
]

if TYPE_CHECKING:  # given by __getattr__ below
    from landscape_plots import (
        needs,
        plot_decision_boundary,
        plot_path,
        plot_sparsity_curve,
        plot_spectrum,
        plot_surface,
    )

#: Defined in `landscape_plots` (which imports this module) and given from here on first use.
_PLOTS = frozenset(name for name in __all__ if name.startswith("plot_") or name == "needs")


def __getattr__(name: str) -> Any:
    """``lab.plot_path``, the other plots and ``needs``, imported from `landscape_plots`."""
    if name in _PLOTS:
        import landscape_plots

        return getattr(landscape_plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names with the plots' (so that ``lab.plot_<Tab>`` completes)."""
    return sorted({*globals(), *_PLOTS})


Params = dict[str, torch.Tensor]
"""An ordered mapping from parameter name (as in ``model.named_parameters()``) to tensor."""

NUM_CLASSES = 4
"""Number of classes (spiral arms) of the task built by `make_dataset`."""

SPIRAL_TURNS = 1.0
"""How many full turns each spiral arm makes from the centre to the rim."""

SPIRAL_RADIUS = 2.0
"""Radius of the spiral's rim, in input units (inputs lie roughly in [-2, 2]^2)."""

SPIRAL_MIN_RADIUS = 0.1
"""Radius at which the arms start (keeps the crowded centre out of the data)."""

DEFAULT_NOISE = 0.1
"""Default standard deviation of the Gaussian noise added to every point, in input units."""

DEFAULT_STEPS = 500
"""Default number of optimiser steps of `train`."""

DEFAULT_LR = 0.01
"""Default learning rate of `train` (tuned for Adam)."""

DEFAULT_BATCH_SIZE = 64
"""Default minibatch size of `train`."""

PROGRESS_UPDATES = 100
"""How many times per run the progress bar of `train` shows the current loss."""

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A train/test split of a classification task.

    Attributes:
        X_train: float32 tensor of shape (n_train, 2), the training inputs.
        y_train: int64 tensor of shape (n_train,), class labels in 0..num_classes-1.
        X_test: float32 tensor of shape (n_test, 2), the test inputs.
        y_test: int64 tensor of shape (n_test,), class labels in 0..num_classes-1.
        num_classes: number of classes.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int

    def __repr__(self) -> str:
        return (
            f"Dataset(n_train={self.X_train.shape[0]}, n_test={self.X_test.shape[0]}, "
            f"in_dim={self.X_train.shape[1]}, num_classes={self.num_classes})"
        )


def _spiral(n: int, noise: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw `n` points of the `NUM_CLASSES`-arm spiral (labels balanced up to one point)."""
    y = torch.arange(n, dtype=torch.int64) % NUM_CLASSES
    y = y[torch.randperm(n, generator=generator)]
    t = torch.rand(n, generator=generator, dtype=torch.float64)
    radius = SPIRAL_MIN_RADIUS + (SPIRAL_RADIUS - SPIRAL_MIN_RADIUS) * t
    angle = 2.0 * math.pi * (y.to(torch.float64) / NUM_CLASSES + SPIRAL_TURNS * t)
    X = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    X = X + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return X.to(torch.float32), y


def make_dataset(
    n_train: int = 1024, n_test: int = 1024, seed: int = 0, noise: float = DEFAULT_NOISE
) -> Dataset:
    """Build the deterministic 2-D spiral task with `NUM_CLASSES` interleaved arms.

    Each point lies on one arm: its radius grows linearly from the centre to `SPIRAL_RADIUS`
    while its angle makes `SPIRAL_TURNS` turns; arm k starts at angle 2*pi*k/NUM_CLASSES.
    Isotropic Gaussian noise of standard deviation `noise` is then added. Training points
    are drawn first and test points after them, from one generator seeded with `seed`, so
    the training set does not depend on `n_test`.

    Args:
        n_train: int >= 1, number of training points.
        n_test: int >= 0, number of test points.
        seed: int, seed of the `torch.Generator` that draws the points.
        noise: float >= 0, standard deviation of the Gaussian noise, in input units.

    Returns:
        A frozen `Dataset` with X_train float32 (n_train, 2), y_train int64 (n_train,),
        X_test float32 (n_test, 2), y_test int64 (n_test,) and num_classes = NUM_CLASSES.
        The same arguments give bitwise-identical tensors.
    """
    if isinstance(n_train, bool) or not isinstance(n_train, int) or n_train < 1:
        raise ValueError(f"n_train must be an int >= 1, got {n_train!r}")
    if isinstance(n_test, bool) or not isinstance(n_test, int) or n_test < 0:
        raise ValueError(f"n_test must be an int >= 0, got {n_test!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    noise = float(noise)
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    generator = torch.Generator().manual_seed(seed)
    X_train, y_train = _spiral(n_train, noise, generator)
    X_test, y_test = _spiral(n_test, noise, generator)
    return Dataset(X_train, y_train, X_test, y_test, NUM_CLASSES)


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def make_mlp(
    in_dim: int = 2,
    hidden: Sequence[int] = (32, 32),
    out_dim: int = NUM_CLASSES,
    seed: int = 0,
    activation: Literal["relu", "tanh"] = "relu",
    *,
    batch_norm: bool = False,
) -> nn.Sequential:
    """Build a seeded MLP ``Linear -> act -> Linear -> act -> ... -> Linear``.

    The layers of the `nn.Sequential` are named "0", "1", "2", ...: with two hidden layers
    the Linear layers are "0", "2", "4" and the activations "1", "3". Weights and biases are
    drawn like `nn.Linear`'s default, uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], but from a
    `torch.Generator` seeded with `seed`: the global random state is neither used nor changed.

    With ``batch_norm=True`` every hidden Linear layer is followed by an `nn.BatchNorm1d`
    (before the activation): ``Linear -> BatchNorm1d -> act -> ... -> Linear``, so with two
    hidden layers the Linear layers are "0", "3", "6" and the batch-norm layers "1", "4".
    The Linear layers get the same initial values as without batch norm (same `seed`); each
    batch-norm layer starts as PyTorch's default (scale 1, shift 0, running mean 0, running
    variance 1). Such a model has state besides its parameters: evaluate it in eval mode
    with the running statistics that fit its parameters (see `batch_norm_statistics`).

    Args:
        in_dim: int >= 1, input features.
        hidden: sequence of ints >= 1, widths of the hidden layers (may be empty).
        out_dim: int >= 1, outputs (logits).
        seed: int, seed of the initialisation.
        activation: "relu" (default) or "tanh".
        batch_norm: bool, insert batch normalisation after every hidden layer (default False).

    Returns:
        A float32 `nn.Sequential` in training mode. The same arguments give bitwise-identical
        parameters.
    """
    for name, value in (("in_dim", in_dim), ("out_dim", out_dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    widths = list(hidden)
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"hidden must be a sequence of ints >= 1, got {hidden!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if not isinstance(batch_norm, bool):
        raise ValueError(f"batch_norm must be a bool, got {batch_norm!r}")
    generator = torch.Generator().manual_seed(seed)
    sizes = [in_dim, *widths, out_dim]
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        # skip_init builds the layer without running its (global-RNG) reset_parameters.
        linear = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            linear.weight.copy_(_uniform((fan_out, fan_in), bound, generator))
            linear.bias.copy_(_uniform((fan_out,), bound, generator))
        layers.append(linear)
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _uniform(shape: tuple[int, ...], bound: float, generator: torch.Generator) -> torch.Tensor:
    """Float32 tensor of `shape` drawn uniformly from [-bound, bound] with `generator`."""
    return (torch.rand(shape, generator=generator) * 2.0 - 1.0) * bound


# --------------------------------------------------------------------------------------------
# Parameters as data
# --------------------------------------------------------------------------------------------


def params_of(model: nn.Module) -> Params:
    """Return a detached copy of the model's parameters.

    Args:
        model: any `nn.Module`.

    Returns:
        `Params`: ``{name: tensor}`` in ``model.named_parameters()`` order; each tensor is a
        new detached clone (changing it does not change the model, and vice versa).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def load_params(model: nn.Module, params: Mapping[str, torch.Tensor]) -> None:
    """Copy `params` into the model's parameters in place (without recording gradients).

    Args:
        model: any `nn.Module`; it is modified.
        params: `Params` with exactly the model's parameter names and shapes; values are
            cast to each parameter's dtype. `params` itself is not modified.

    Returns:
        None.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    named = dict(model.named_parameters())
    _check_params_like(params, named, "params")
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(params[name])


def _check_params_like(
    params: object, reference: Mapping[str, torch.Tensor], name: str
) -> Mapping[str, torch.Tensor]:
    """Raise `ValueError` unless `params` has the keys and shapes of `reference`."""
    if not isinstance(params, Mapping):
        raise ValueError(f"{name} must be a dict of tensors, got {type(params).__name__}")
    if set(params) != set(reference):
        missing = sorted(set(reference) - set(params))
        extra = sorted(set(params) - set(reference))
        raise ValueError(f"{name} keys do not match the model: missing {missing}, extra {extra}")
    for key, ref in reference.items():
        value = params[key]
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{name}[{key!r}] must be a tensor, got {type(value).__name__}")
        if value.shape != ref.shape:
            raise ValueError(
                f"{name}[{key!r}] has shape {tuple(value.shape)}, expected {tuple(ref.shape)}"
            )
    return params


def flatten_params(params: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Concatenate the tensors of `params` into one 1-D vector `theta`.

    Args:
        params: `Params` with at least one tensor, all of one dtype.

    Returns:
        1-D tensor of length sum(numel), the tensors flattened in row-major order and
        concatenated in the dict's key order. It is differentiable with respect to `params`.
    """
    if not isinstance(params, Mapping) or len(params) == 0:
        raise ValueError("params must be a non-empty dict of tensors")
    tensors = list(params.values())
    for key, value in params.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"params[{key!r}] must be a tensor, got {type(value).__name__}")
        if value.dtype != tensors[0].dtype:
            raise ValueError(
                f"params must share one dtype: params[{key!r}] is {value.dtype}, "
                f"the first is {tensors[0].dtype}"
            )
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten_params(theta: torch.Tensor, like: Mapping[str, torch.Tensor]) -> Params:
    """Split a 1-D vector `theta` into a `Params` dict shaped like `like` (inverse of flatten).

    Args:
        theta: 1-D tensor of length sum of ``like[k].numel()``.
        like: `Params` giving the key order and the shapes (its values are not read).

    Returns:
        `Params` with `like`'s keys in order; each value is a reshaped slice (a view where
        possible) of `theta`, so gradients flow back to `theta`. Works inside `torch.func`
        transforms such as `vmap`.
    """
    if not isinstance(theta, torch.Tensor) or theta.dim() != 1:
        shape = tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__
        raise ValueError(f"theta must be a 1-D tensor, got {shape}")
    if not isinstance(like, Mapping) or len(like) == 0:
        raise ValueError("like must be a non-empty dict of tensors")
    total = sum(int(t.numel()) for t in like.values())
    if theta.shape[0] != total:
        raise ValueError(f"theta has length {theta.shape[0]}, but like has {total} entries")
    out: Params = {}
    offset = 0
    for key, ref in like.items():
        n = int(ref.numel())
        out[key] = theta.narrow(0, offset, n).reshape(ref.shape)
        offset += n
    return out


def _check_data(X: object, y: object) -> None:
    """Raise `ValueError` unless X is (N, D) floating and y is (N,) integer."""
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or not X.is_floating_point():
        desc = f"{X.dtype} {tuple(X.shape)}" if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"X must be a 2-D floating tensor (N, D), got {desc}")
    if not isinstance(y, torch.Tensor) or y.dim() != 1 or y.is_floating_point():
        desc = f"{y.dtype} {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"y must be a 1-D integer tensor (N,), got {desc}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")


def flat_loss_fn(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return ``loss_fn(theta)``: the model's mean cross-entropy on (X, y) at flat parameters.

    The returned function evaluates `model` with `unflatten_params(theta, params_of(model))`
    through `torch.func.functional_call`, so it never reads or changes the model's own
    parameter values (only their names and shapes, captured now) and it is differentiable
    any number of times: it works with `torch.autograd.grad` (including double backward),
    `torch.autograd.functional.hessian` and `torch.func.grad`, `jvp` and `vmap`. X is cast
    to theta's dtype, so a float64 theta gives a float64 loss. The model is evaluated in
    whatever mode (train/eval) it is in when the function is called.

    Args:
        model: `nn.Module` mapping (N, D) inputs to (N, C) logits; not modified.
        X: float tensor of shape (N, D), the inputs.
        y: integer tensor of shape (N,), the labels.

    Returns:
        A callable taking theta, a 1-D tensor of length d = number of model parameters, and
        returning a 0-d tensor: the mean cross-entropy over (X, y).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    _check_data(X, y)
    y = y.long()
    labels = y.reshape(1, -1)
    like = {name: torch.empty(p.shape, device="meta") for name, p in model.named_parameters()}
    if not like:
        raise ValueError("model must have at least one parameter")

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the model at flat parameters `theta` (1-D, length d)."""
        params = unflatten_params(theta, like)
        logits = functional_call(model, params, (X.to(theta.dtype),))
        if logits.dim() != 2:
            return F.cross_entropy(logits, y)
        # F.cross_entropy(logits, y) computed with the class axis first: the same value (to
        # float rounding), but PyTorch's CPU log_softmax over a short last axis (4 classes)
        # is ~2.5x slower than over the first axis, and ~5x slower under torch.func.vmap
        # (measured with torch 2.13; it was a third of loss_surface's time).
        log_probs = F.log_softmax(logits.transpose(0, 1), dim=0)
        return -log_probs.gather(0, labels).mean()

    return loss_fn


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _logits(
    model: nn.Module, X: torch.Tensor, params: Mapping[str, torch.Tensor] | None
) -> torch.Tensor:
    """Logits of `model` on X, with its own parameters or with `params`, without gradients."""
    if params is not None:
        known = dict(model.named_parameters())
        known.update(model.named_buffers())
        if not isinstance(params, Mapping):
            raise ValueError(f"params must be a dict of tensors, got {type(params).__name__}")
        for key, value in params.items():
            if key not in known:
                raise ValueError(f"params key {key!r} is not a parameter of the model")
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"params[{key!r}] must be a tensor, got {type(value).__name__}")
            if value.shape != known[key].shape:
                raise ValueError(
                    f"params[{key!r}] has shape {tuple(value.shape)}, but the model's has "
                    f"shape {tuple(known[key].shape)}"
                )
    with torch.no_grad():
        if params is None:
            return model(X)
        return functional_call(model, dict(params), (X,))


def evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    params: Mapping[str, torch.Tensor] | None = None,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` on (X, y), without gradients.

    Args:
        model: `nn.Module` mapping (N, D) inputs to (N, C) logits; not modified (evaluated in
            its current train/eval mode).
        X: float tensor of shape (N, D).
        y: int64 tensor of shape (N,).
        params: optional `Params` to evaluate instead of the model's own parameters (used via
            `torch.func.functional_call`; missing names fall back to the model's own).

    Returns:
        (loss, accuracy) as Python floats; accuracy is the fraction in [0, 1] of rows whose
        arg-max logit equals the label.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    _check_data(X, y)
    if X.shape[0] == 0:
        raise ValueError("X must have at least one row")
    y = y.long()
    logits = _logits(model, X, params)
    loss = F.cross_entropy(logits, y)
    acc = (logits.argmax(dim=1) == y).to(torch.float64).mean()
    return float(loss), float(acc)


def cross_entropy(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    params: Mapping[str, torch.Tensor] | None = None,
) -> float:
    """Mean cross-entropy of `model` on (X, y) as a Python float; arguments as in `evaluate`."""
    return evaluate(model, X, y, params)[0]


def accuracy(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    params: Mapping[str, torch.Tensor] | None = None,
) -> float:
    """Accuracy in [0, 1] of `model` on (X, y) as a Python float; arguments as in `evaluate`."""
    return evaluate(model, X, y, params)[1]


def batch_norm_statistics(
    model: nn.Module, X: torch.Tensor, params: Mapping[str, torch.Tensor] | None = None
) -> Params:
    """The running statistics that the batch-norm layers of `model` should hold at `params`.

    Runs the model once, in training mode, on all of X with the parameters `params` (default:
    its own) and returns the mean and variance of every batch-norm layer's input over X: what
    the layers would store after that pass with ``momentum=None`` and freshly reset running
    statistics (like ``torch.optim.swa_utils.update_bn`` with one batch). As in PyTorch, the
    stored variance is the unbiased one (divided by N - 1). Each layer sees the output of the
    layers before it normalised with their new statistics, so a deep network needs one pass.

    The model itself is not changed (a copy is run): its parameters, buffers and train/eval
    mode stay as they are. To evaluate a network with the statistics that fit its parameters,
    merge the two dicts and run the model in eval mode::

        model.eval()
        stats = batch_norm_statistics(model, X_train, params)
        loss, acc = evaluate(model, X_test, y_test, {**params, **stats})

    Args:
        model: `nn.Module` with at least one batch-norm layer (`nn.BatchNorm1d`, ...) that
            tracks running statistics; not modified.
        X: float tensor of shape (N, D) with N >= 2, the inputs (normally the training set).
        params: optional `Params` to use instead of the model's own parameters; it must name
            every parameter of the model and may also name buffers (running statistics in it
            are ignored: they are what is recomputed).

    Returns:
        `Params` with the keys ``"<layer>.running_mean"`` and ``"<layer>.running_var"`` of every
        batch-norm layer, in ``model.named_buffers()`` order: new float tensors of shape
        (features,), without gradients. The same arguments give bitwise-identical results.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    norms = {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    }
    if not norms:
        raise ValueError("model has no batch-norm layer that tracks running statistics")
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or not X.is_floating_point():
        desc = f"{X.dtype} {tuple(X.shape)}" if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(f"X must be a 2-D floating tensor (N, D), got {desc}")
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows to compute a variance, got {X.shape[0]}")
    named = dict(model.named_parameters())
    if params is not None:
        if not isinstance(params, Mapping):
            raise ValueError(f"params must be a dict of tensors, got {type(params).__name__}")
        buffers = dict(model.named_buffers())
        unknown = sorted(k for k in params if k not in named and k not in buffers)
        if unknown:
            raise ValueError(f"params keys are not parameters or buffers of the model: {unknown}")
        _check_params_like({k: params[k] for k in named if k in params}, named, "params")
    copied = copy.deepcopy(model)
    if params is not None:
        load_params(copied, {k: params[k] for k in named})
    for name, module in copied.named_modules():
        if name in norms:
            module.reset_running_stats()
            module.momentum = None  # cumulative average: after one batch, that batch's statistics
    copied.train()
    with torch.no_grad():
        copied(X)
    stats: Params = {}
    for name, buffer in copied.named_buffers():
        layer, _, kind = name.rpartition(".")
        if layer in norms and kind in ("running_mean", "running_var"):
            stats[name] = buffer.detach().clone()
    return stats


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def _check_mask(mask: object, named: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Validate a pruning mask against the model's parameters and return it as a dict."""
    if not isinstance(mask, Mapping):
        raise ValueError(f"mask must be a dict of bool tensors, got {type(mask).__name__}")
    for key, m in mask.items():
        if key not in named:
            raise ValueError(f"mask key {key!r} is not a parameter of the model")
        if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
            raise ValueError(f"mask[{key!r}] must be a bool tensor")
        if m.shape != named[key].shape:
            raise ValueError(
                f"mask[{key!r}] has shape {tuple(m.shape)}, but the parameter has "
                f"shape {tuple(named[key].shape)}"
            )
    return dict(mask)


def _make_optimizer(
    kind: str, params: list[torch.Tensor], lr: float, momentum: float, weight_decay: float
) -> torch.optim.Optimizer:
    """Adam or SGD over `params`, using the fused CPU kernel where this torch version has it."""
    if kind == "adam":
        kwargs: dict[str, Any] = {"lr": lr, "weight_decay": weight_decay}
        cls: type[torch.optim.Optimizer] = torch.optim.Adam
    else:
        kwargs = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        cls = torch.optim.SGD
    if not params:
        raise ValueError("model has no trainable parameters")
    try:
        # The fused kernel is about a third faster for these tiny models.
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return cls(params, **kwargs)


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int = 0,
    optimizer: Literal["adam", "sgd"] = "adam",
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    mask: Mapping[str, torch.Tensor] | None = None,
    progress: bool = False,
) -> list[float]:
    """Train `model` in place on (X, y) with minibatch cross-entropy; return per-step losses.

    Minibatches are drawn without replacement within each pass over the data (a fresh
    permutation per pass) from a `torch.Generator` seeded with `seed`; with
    ``batch_size >= N`` every step uses the whole data set (full-batch training). The
    optimiser is created here, so every call starts with a fresh optimiser state.

    With a `mask` (lottery tickets), the entries where ``mask[name]`` is False are set to
    zero before training, their gradients are zeroed before every step and they are set to
    zero again after every step, so they stay exactly 0. Names absent from `mask` are
    trained normally.

    Args:
        model: `nn.Module` mapping (N, D) to (N, C) logits; trained in place (and put in
            training mode).
        X: float tensor of shape (N, D), N >= 1.
        y: int64 tensor of shape (N,).
        steps: int >= 0, number of optimiser steps.
        lr: float > 0, learning rate.
        batch_size: int >= 1, minibatch size.
        seed: int, seed of the minibatch sampling.
        optimizer: "adam" (default) or "sgd" (with `momentum`).
        momentum: float in [0, 1), momentum of SGD (ignored by Adam).
        weight_decay: float >= 0, L2 weight decay passed to the optimiser.
        mask: optional dict from parameter name to a bool tensor of that parameter's shape
            (True = kept, False = pruned).
        progress: show a tqdm progress bar (quiet by default).

    Returns:
        list of `steps` Python floats, the minibatch loss before each step.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    _check_data(X, y)
    y = y.long()
    n = int(X.shape[0])
    if n == 0:
        raise ValueError("X must have at least one row")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    momentum = float(momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
    weight_decay = float(weight_decay)
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    named = dict(model.named_parameters())
    masks = {} if mask is None else _check_mask(mask, named)

    if optimizer not in ("adam", "sgd"):
        raise ValueError(f'optimizer must be "adam" or "sgd", got {optimizer!r}')
    trainable = [p for p in named.values() if p.requires_grad]
    opt = _make_optimizer(optimizer, trainable, lr, momentum, weight_decay)

    # Keep the boolean masks next to the parameters they prune.
    pruned = [(named[key], ~m.to(named[key].device)) for key, m in masks.items()]

    def apply_mask() -> None:
        with torch.no_grad():
            for p, off in pruned:
                p.masked_fill_(off, 0.0)

    apply_mask()
    model.train()
    generator = torch.Generator().manual_seed(seed)
    full_batch = batch_size >= n
    order = torch.empty(0, dtype=torch.int64)
    cursor = 0
    losses: list[torch.Tensor] = []

    step_iter: Any = range(steps)
    if progress:
        from tqdm.auto import tqdm

        step_iter = tqdm(step_iter, desc="train", leave=False)
    postfix_every = max(1, steps // PROGRESS_UPDATES)
    for step in step_iter:
        if full_batch:
            xb, yb = X, y
        else:
            if cursor + batch_size > order.numel():
                order = torch.randperm(n, generator=generator)
                cursor = 0
            idx = order[cursor : cursor + batch_size]
            cursor += batch_size
            xb, yb = X[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        for p, off in pruned:
            if p.grad is not None:
                p.grad.masked_fill_(off, 0.0)
        opt.step()
        apply_mask()
        losses.append(loss.detach())
        if progress and step % postfix_every == 0:
            step_iter.set_postfix(loss=f"{float(losses[-1]):.4f}")
    return torch.stack(losses).tolist() if losses else []
