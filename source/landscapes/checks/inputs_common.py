"""Builders of the course's common inputs: seeded models and their parameters.

Call stage (copied into the sandbox): imports only torch, the engine's builder registry and
the released `landscape_lab` helpers, never the reference or the verdicts.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from autograder.checks.builders import register_builder


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
