"""Builders turn :class:`~autograder.checks.types.Build` recipes into live inputs.

This module belongs to the call stage: it may run next to student code, so it imports only
torch, numpy and the released `landscape_lab` helpers — never `solutions` or the verdicts.
Every builder is deterministic: the same recipe always gives bitwise-identical inputs, which
is how the verdict stage rebuilds the very inputs the student's function saw.

Builders that record what the student's function did with them (spies) write plain data into
the per-call `probe` dict they receive.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import torch

BuilderFn = Callable[..., Any]
BUILDERS: dict[str, BuilderFn] = {}
PROBE_BUILDERS: set[str] = set()

# Modules holding further builders (one per notebook); imported on first use.
_EXTRA_BUILDER_MODULES = (
    "autograder.checks.inputs_mode_connectivity",
    "autograder.checks.inputs_landscape_geometry",
    "autograder.checks.inputs_lottery_tickets",
)
_extras_loaded = False


def holds_gradient(tensor: Any) -> bool:
    """Whether `tensor` was left with a non-zero `.grad` (None or zeros count as clean); used
    by the after-call probes that catch `.backward()` into the caller's tensors."""
    grad = tensor.grad if isinstance(tensor, torch.Tensor) else None
    return type(grad) is torch.Tensor and bool(grad.detach().ne(0).any())


def register_builder(kind: str, *, probe: bool = False) -> Callable[[BuilderFn], BuilderFn]:
    """Register a builder under `kind`. With `probe=True` it gets a `probe` dict keyword."""

    def decorate(fn: BuilderFn) -> BuilderFn:
        if kind in BUILDERS:
            raise RuntimeError(f"builder {kind!r} registered twice")
        BUILDERS[kind] = fn
        if probe:
            PROBE_BUILDERS.add(kind)
        return fn

    return decorate


def get_builder(kind: str) -> BuilderFn:
    global _extras_loaded
    if not _extras_loaded:
        _extras_loaded = True
        for module in _EXTRA_BUILDER_MODULES:
            importlib.import_module(module)
    try:
        return BUILDERS[kind]
    except KeyError:
        raise KeyError(f"no builder named {kind!r}") from None


# ---------------------------------------------------------------------------------------------
# Common builders


@register_builder("generator")
def build_generator(*, seed: int) -> torch.Generator:
    """A fresh CPU `torch.Generator` seeded with `seed`."""
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    return gen


@register_builder("mlp")
def build_mlp(
    *,
    in_dim: int = 2,
    hidden: tuple[int, ...] = (8,),
    out_dim: int = 3,
    seed: int = 0,
    train_mode: bool = False,
    dtype: str = "float32",
) -> torch.nn.Module:
    """A seeded `nn.Sequential` MLP from `landscape_lab.make_mlp`, in train or eval mode."""
    import landscape_lab

    model = landscape_lab.make_mlp(in_dim=in_dim, hidden=tuple(hidden), out_dim=out_dim, seed=seed)
    model = model.to(getattr(torch, dtype))
    model.train(train_mode)
    return model


@register_builder("quadratic_loss")
def build_quadratic_loss(*, A: torch.Tensor, b: torch.Tensor | None = None) -> Callable:
    """loss_fn(theta) = 0.5 * theta^T A theta + b^T theta (Hessian (A + A^T)/2)."""
    A = A.clone()
    b = None if b is None else b.clone()

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        out = 0.5 * theta @ (A @ theta)
        if b is not None:
            out = out + b @ theta
        return out

    return loss_fn


@register_builder("linear_loss")
def build_linear_loss(*, b: torch.Tensor) -> Callable:
    """loss_fn(theta) = b^T theta: its Hessian is zero."""
    b = b.clone()

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return b @ theta

    return loss_fn


@register_builder("mlp_flat_loss")
def build_mlp_flat_loss(*, model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> Callable:
    """`landscape_lab.flat_loss_fn(model, X, y)`: mean cross-entropy as a function of theta."""
    import landscape_lab

    return landscape_lab.flat_loss_fn(model, X, y)


@register_builder("flat_params")
def build_flat_params(*, model: torch.nn.Module) -> torch.Tensor:
    """The model's parameters as one 1-D tensor (`landscape_lab.flatten_params`)."""
    import landscape_lab

    return landscape_lab.flatten_params(landscape_lab.params_of(model))


@register_builder("params_of")
def build_params_of(*, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """`landscape_lab.params_of(model)`: detached clones of the model's parameters."""
    import landscape_lab

    return landscape_lab.params_of(model)
