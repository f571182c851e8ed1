"""Call-stage builders for the hidden checks of notebook 02 (landscape geometry).

Runs next to student code: imports only torch and the builder registry, never `solutions`
or the verdicts. Every builder is deterministic.

Kinds registered here (the generic `quadratic_loss`, `linear_loss`, `mlp`, `mlp_flat_loss`,
`flat_params` and `generator` live in :mod:`autograder.checks.builders`):

- ``curved_loss``: a smooth loss whose Hessian depends on theta and is not diagonal, with
  large third derivatives (finite differences of the gradient are visibly off);
- ``constant_loss``: a loss that does not depend on theta at all (its Hessian is zero);
- ``generator_state_probe`` (probe): an after-call probe (see `Case.post`) recording the
  state of the `torch.Generator` the function was given, so a verdict can tell whether the
  function drew from it;
- ``input_grad_probe`` (probe): an after-call probe recording whether the function left a
  gradient in an input tensor's `.grad` (from `.backward()` on theta itself), which later
  calls would silently add to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.builders import holds_gradient, register_builder

LossFn = Callable[[torch.Tensor], torch.Tensor]


@register_builder("curved_loss")
def build_curved_loss(*, A: torch.Tensor, u: torch.Tensor, c: float) -> LossFn:
    """loss_fn(theta) = ½·θᵀAθ + (uᵀθ)³/3 + Σ_i exp(c·θ_i)/c².

    Its Hessian (A + Aᵀ)/2 + 2·(uᵀθ)·u·uᵀ + diag(exp(c·θ)) changes with theta and is not
    diagonal; its third derivatives grow with `c`.
    """
    A = A.clone()
    u = u.clone()
    c = float(c)

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        quad = 0.5 * theta @ (A @ theta)
        cubic = (u @ theta) ** 3 / 3.0
        return quad + cubic + torch.exp(c * theta).sum() / c**2

    return loss_fn


@register_builder("constant_loss")
def build_constant_loss(*, value: float) -> LossFn:
    """loss_fn(theta) = `value` (a 0-d tensor of theta's dtype that ignores theta)."""
    value = float(value)

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return torch.tensor(value, dtype=theta.dtype)

    return loss_fn


@register_builder("generator_state_probe", probe=True)
def build_generator_state_probe(
    *, arg: int = -1, name: str = "", probe: dict[str, Any]
) -> Callable:
    """After-call probe: the state of the generator passed as keyword `name` (or argument `arg`).

    Records ``probe["generator_state"]`` (a clone of ``generator.get_state()`` after the call)
    or ``probe["generator_error"]`` when no generator was found.
    """

    def after(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        if name and name in kwargs:
            gen = kwargs[name]
        elif 0 <= arg < len(args):
            gen = args[arg]
        else:
            gen = None
        if type(gen) is not torch.Generator:
            probe["generator_error"] = "no torch.Generator among the inputs"
            return
        probe["generator_state"] = gen.get_state().clone()

    return after


@register_builder("input_grad_probe", probe=True)
def build_input_grad_probe(*, arg: int, probe: dict[str, Any]) -> Callable:
    """After-call probe: whether argument `arg` (a tensor) was left with a non-zero `.grad`.

    Records ``probe["grad_left"]`` (True when ``args[arg].grad`` holds a non-zero tensor). A
    `.grad` set back to None or zeroed counts as clean.
    """

    def after(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        tensor = args[arg] if 0 <= arg < len(args) else None
        probe["grad_left"] = type(tensor) is torch.Tensor and holds_gradient(tensor)

    return after
