"""Call-stage builders for the hidden checks of notebook 03 (lottery tickets).

Runs next to student code: imports only torch and the builder registry, never `solutions`
or the verdicts. Every builder is deterministic.

- `spy_train_fn`: a `train_fn` for `iterative_magnitude_pruning` that records every call
  (clones of the params and masks it received) and returns deterministic "trained" params
  that depend on what it received, so the masks depend on what the student passed it;
- `leaf_tensor`: a copy of a tensor that requires grad (scores for `straight_through_mask`);
- `grad_probe`: an after-call probe (see `Case.post`) that back-propagates a given incoming
  gradient through the returned tensor and records the gradient that reaches an input.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.builders import register_builder

#: Size of the deterministic "training" step of the spy train_fn, relative to the weights.
SPY_STEP = 0.5
#: Seed offset between consecutive calls of the spy, so every round trains differently.
_CALL_SEED_STRIDE = 7919


def _record(obj: Any) -> Any:
    """Plain-data copy of what the student passed: a dict of tensor clones, else a tag."""
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if type(value) is torch.Tensor:
                out[str(key)] = value.detach().clone()
            else:
                out[str(key)] = f"<{type(value).__name__}>"
        return out
    return f"<{type(obj).__name__}>"


def _step(key: str, shape: torch.Size, dtype: torch.dtype, seed: int, call: int) -> torch.Tensor:
    """The deterministic "gradient step" of one tensor: seeded by (seed, call, key) only."""
    gen = torch.Generator()
    gen.manual_seed(seed + _CALL_SEED_STRIDE * call + zlib.crc32(key.encode()))
    dtype = dtype if dtype.is_floating_point else torch.float32
    return torch.randn(shape, generator=gen, dtype=dtype)


@register_builder("spy_train_fn", probe=True)
def build_spy_train_fn(*, seed: int = 0, probe: dict[str, Any]) -> Callable:
    """A `train_fn(params, masks) -> trained` that records its calls in `probe["calls"]`.

    Each call appends {"params": ..., "masks": ..., "trained": ...} (clones of what it
    received and of what it returned) and returns
    new tensors `params[k] + SPY_STEP * step_k`, where step_k is a fixed random tensor drawn
    from a generator seeded by (`seed`, the call's index, the key): training depends on the
    params received and on the round, never on key order or global random state.
    """
    calls: list[dict[str, Any]] = probe.setdefault("calls", [])

    def train_fn(params: Mapping[str, torch.Tensor], masks: Any) -> dict[str, torch.Tensor]:
        call = len(calls)
        record = {"params": _record(params), "masks": _record(masks)}
        calls.append(record)
        if not isinstance(params, Mapping):
            raise TypeError(f"train_fn expects a dict of tensors, got {type(params).__name__}")
        trained: dict[str, torch.Tensor] = {}
        for key, value in params.items():
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"train_fn expects tensors, got {type(value).__name__} at {key!r}")
            value = value.detach()
            step = _step(str(key), value.shape, value.dtype, int(seed), call)
            trained[key] = value.to(step.dtype) + SPY_STEP * step
        record["trained"] = _record(trained)
        return trained

    return train_fn


@register_builder("leaf_tensor")
def build_leaf_tensor(*, values: torch.Tensor) -> torch.Tensor:
    """A fresh copy of `values` that requires grad (a leaf)."""
    return values.detach().clone().requires_grad_(True)


@register_builder("grad_probe", probe=True)
def build_grad_probe(
    *, grad_output: torch.Tensor, arg: int = 0, name: str = "", probe: dict[str, Any]
) -> Callable:
    """After-call probe: the gradient reaching input `arg` (or keyword `name`) from the result.

    Back-propagates `grad_output` through the returned tensor and records the gradient with
    respect to that input as `probe["grad"]`, or what prevented it as `probe["grad_error"]`.
    """

    def after(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        source = (
            kwargs.get(name)
            if name and name in kwargs
            else (args[arg] if arg < len(args) else None)
        )
        if type(value) is not torch.Tensor:
            probe["grad_error"] = f"the result is a {type(value).__name__}, not a tensor"
            return
        if type(source) is not torch.Tensor or not source.requires_grad:
            probe["grad_error"] = "the input given to the function was not a tensor needing grad"
            return
        if not value.requires_grad:
            probe["grad_error"] = (
                "the result does not require grad, so no gradient can flow back to the "
                "input (it was computed without autograd, e.g. from a detached or bool tensor)"
            )
            return
        if tuple(value.shape) != tuple(grad_output.shape):
            probe["grad_error"] = (
                f"the result has shape {tuple(value.shape)}, so the incoming gradient of shape "
                f"{tuple(grad_output.shape)} cannot be back-propagated"
            )
            return
        incoming = grad_output.to(value.dtype) if value.dtype.is_floating_point else grad_output
        (grad,) = torch.autograd.grad(value, source, grad_outputs=incoming, allow_unused=True)
        if grad is None:
            probe["grad_error"] = "the result is not connected to the input in the autograd graph"
            return
        probe["grad"] = grad.detach().clone()

    return after
