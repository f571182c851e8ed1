"""Builders turn :class:`~autograder.checks.types.Build` recipes into live inputs.

This module belongs to the call stage: it may run next to student code, so it imports only
torch — never a reference solution or a verdict. An assignment's own builders live in the
call-stage modules of its checks package (`call_stage` in its spec), which register them
here with :func:`register_builder` when imported; the sandbox imports them before it runs a
probe (:func:`import_builder_modules`).
Every builder is deterministic: the same recipe always gives bitwise-identical inputs, which
is how the verdict stage rebuilds the very inputs the student's function saw.

Builders that record what the student's function did with them (spies) write plain data into
the per-call `probe` dict they receive.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

import torch

BuilderFn = Callable[..., Any]
BUILDERS: dict[str, BuilderFn] = {}
PROBE_BUILDERS: set[str] = set()


def holds_gradient(tensor: Any) -> bool:
    """Whether `tensor` was left with a non-zero `.grad` (None or zeros count as clean); used
    by the after-call probes that catch `.backward()` into the caller's tensors."""
    grad = tensor.grad if isinstance(tensor, torch.Tensor) else None
    return type(grad) is torch.Tensor and bool(grad.detach().ne(0).any())


def register_builder(kind: str, *, probe: bool = False) -> Callable[[BuilderFn], BuilderFn]:
    """Register a builder under `kind`. With `probe=True` it gets a `probe` dict keyword."""

    def decorate(fn: BuilderFn) -> BuilderFn:
        known = BUILDERS.get(kind)
        if known is not None and (known.__module__, known.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise RuntimeError(
                f"builder {kind!r} registered twice ({known.__module__} and {fn.__module__})"
            )
        BUILDERS[kind] = fn
        if probe:
            PROBE_BUILDERS.add(kind)
        return fn

    return decorate


def get_builder(kind: str) -> BuilderFn:
    try:
        return BUILDERS[kind]
    except KeyError:
        raise KeyError(
            f"no builder named {kind!r} (is the assignment's call-stage module imported?)"
        ) from None


def import_builder_modules(names: Iterable[str]) -> None:
    """Import the modules that register an assignment's builders (its call stage)."""
    for name in names:
        importlib.import_module(name)


# ---------------------------------------------------------------------------------------------
# Common builders


@register_builder("generator")
def build_generator(*, seed: int) -> torch.Generator:
    """A fresh CPU `torch.Generator` seeded with `seed`."""
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    return gen


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
