"""Model answers of notebook 01, sections 1-3: the straight line, the loss along a path, barriers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from solutions._common import Params

ALPHA_ENDPOINT_TOL = 1e-6
"""How far alphas[0] may be from 0, and alphas[-1] from 1."""


def interpolate(theta_a: Params, theta_b: Params, alpha: float) -> Params:
    """Point on the straight line between two parameter dicts.

    theta(alpha) = (1 - alpha) * theta_a + alpha * theta_b, computed key by key.

    Inputs:
    - theta_a: Params (dict str -> Tensor), the start of the path (alpha = 0).
    - theta_b: Params with the same keys as theta_a and, per key, a tensor of the same
      shape: the end of the path (alpha = 1).
    - alpha: real number (Python float, or a 0-d tensor). Any real value is allowed;
      values outside [0, 1] extrapolate beyond the endpoints.

    Returns:
    - Params with theta_a's keys in theta_a's order; per key a NEW tensor of that key's
      shape and dtype. theta_a and theta_b are not modified.

    Raises:
    - ValueError (naming theta_a / theta_b) if the key sets differ or a shape differs.

    Hint: check keys and shapes first, then one dict comprehension. Do not clamp alpha.
    Reference: Frankle et al. (2020), Linear Mode Connectivity and the Lottery Ticket
    Hypothesis.
    """
    from collections.abc import Mapping

    # theta_a and theta_b: dicts of tensors with the same keys and, per key, the same shape.
    for arg, params in (("theta_a", theta_a), ("theta_b", theta_b)):
        if not isinstance(params, Mapping):
            raise ValueError(f"{arg} must be a dict of tensors, got {type(params).__name__}")
        for key, value in params.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{arg}[{key!r}] must be a tensor, got {type(value).__name__}")
    if set(theta_a) != set(theta_b):
        only_a = sorted(set(theta_a) - set(theta_b))
        only_b = sorted(set(theta_b) - set(theta_a))
        raise ValueError(
            f"theta_a and theta_b have different keys: only in theta_a: {only_a}, "
            f"only in theta_b: {only_b}"
        )
    for key in theta_a:
        if theta_a[key].shape != theta_b[key].shape:
            raise ValueError(
                f"theta_a[{key!r}] has shape {tuple(theta_a[key].shape)} but theta_b[{key!r}] "
                f"has shape {tuple(theta_b[key].shape)}"
            )

    # alpha: a Python number, a one-element tensor or a numpy scalar; it must be finite.
    if isinstance(alpha, torch.Tensor):
        if alpha.numel() != 1:
            raise ValueError(f"alpha must be a scalar, got a tensor of shape {tuple(alpha.shape)}")
        alpha = alpha.item()
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a real number, got {type(alpha).__name__}") from None
    if not math.isfinite(a):
        raise ValueError(f"alpha must be a finite real number, got {a}")

    # (1 - a) * tensor creates a new tensor: the inputs are never modified.
    return {k: (1.0 - a) * theta_a[k] + a * theta_b[k] for k in theta_a}


def loss_along_path(
    model: nn.Module,
    path: Callable[[float], Params],
    X: torch.Tensor,
    y: torch.Tensor,
    alphas: Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Mean cross-entropy of `model` at the points path(alpha) of a path in weight space.

    Inputs:
    - model: torch.nn.Module giving the architecture. Its own parameter values are not used
      and must not change; evaluate it in its current train/eval mode and leave the mode.
    - path: callable mapping a Python float alpha to Params with every parameter name of
      `model` (e.g. lambda alpha: interpolate(theta_a, theta_b, alpha)).
    - X: tensor of shape (N, D), the inputs.
    - y: int64 tensor of shape (N,), the class labels.
    - alphas: M real numbers (list, tuple, numpy array or 1-D tensor).

    Returns:
    - 1-D tensor of shape (M,): entry i is the mean cross-entropy on (X, y) of the model
      with parameters path(alphas[i]). It does not require grad.

    Hint: torch.func.functional_call(model, params, (X,)) gives the logits with `params` in
    place of the model's parameters; F.cross_entropy(logits, y) is the mean loss. Work
    inside `with torch.no_grad():` and stack the M losses.
    """
    import math
    from collections.abc import Mapping

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(path):
        raise ValueError(f"path must be callable (alpha -> Params), got {type(path).__name__}")
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"X must be a tensor, got {type(X).__name__}")
    if X.dim() < 1 or X.shape[0] < 1:
        raise ValueError(f"X must hold at least one example, got shape {tuple(X.shape)}")
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"y must be a tensor, got {type(y).__name__}")
    if y.dim() != 1:
        raise ValueError(f"y must be 1-D (class indices), got shape {tuple(y.shape)}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} examples but y has {y.shape[0]} labels")

    # alphas as Python floats, from a 1-D tensor or any sequence of numbers (no NaN).
    if isinstance(alphas, torch.Tensor):
        if alphas.dim() != 1:
            raise ValueError(f"alphas must be 1-D, got shape {tuple(alphas.shape)}")
        alpha_values = [float(a) for a in alphas.detach().to(torch.float64).tolist()]
    elif isinstance(alphas, Sequence) or hasattr(alphas, "__iter__"):
        try:
            alpha_values = [float(a) for a in alphas]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"alphas must be a sequence of numbers: {exc}") from None
    else:
        raise ValueError(f"alphas must be a sequence of numbers, got {type(alphas).__name__}")
    if any(math.isnan(a) for a in alpha_values):
        raise ValueError("alphas contains NaN")

    own = dict(model.named_parameters())
    buffers = dict(model.named_buffers())

    def check_fits_model(params, name):
        """`params` must name every parameter of the model (and may name its buffers)."""
        if not isinstance(params, Mapping):
            raise ValueError(f"{name} must be a dict of tensors, got {type(params).__name__}")
        missing = [k for k in own if k not in params]
        unknown = [k for k in params if k not in own and k not in buffers]
        if missing or unknown:
            raise ValueError(
                f"{name} does not match the model's parameters: missing {missing}, "
                f"unknown {unknown}"
            )
        for key, value in params.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{name}[{key!r}] must be a tensor, got {type(value).__name__}")
            expected = own[key] if key in own else buffers[key]
            if value.shape != expected.shape:
                raise ValueError(
                    f"{name}[{key!r}] has shape {tuple(value.shape)}, the model expects "
                    f"{tuple(expected.shape)}"
                )

    losses = []
    with torch.no_grad():
        for a in alpha_values:
            params = path(a)
            check_fits_model(params, f"path({a})")
            # A forward pass in train mode updates buffers (e.g. batch-norm running
            # statistics) in place: hand functional_call clones, never the model's own
            # buffers or the caller's tensors.
            state = {k: (v.clone() if k in buffers else v) for k, v in params.items()}
            for k, b in buffers.items():
                if k not in state:
                    state[k] = b.clone()
            logits = functional_call(model, state, (X,))
            losses.append(F.cross_entropy(logits, y).detach())
    if not losses:
        dtype = next((p.dtype for p in model.parameters()), torch.get_default_dtype())
        return torch.empty(0, dtype=dtype)
    return torch.stack(losses)


def barrier_height(losses: Sequence[float] | torch.Tensor) -> float:
    """Loss barrier of a path: max loss minus the mean of the two endpoint losses.

    barrier = max(losses) - (losses[0] + losses[-1]) / 2    (course text; Frankle et al., 2020)

    Inputs:
    - losses: at least 2 losses along a path (list, tuple or 1-D tensor), losses[0] at
      alpha = 0 and losses[-1] at alpha = 1. The maximum runs over all values, endpoints
      included.

    Returns:
    - Python float (worked example 1: 1.095).

    Raises:
    - ValueError (naming losses) for fewer than 2 values or a NaN.
    """
    # losses as Python floats (float64 arithmetic), from a 1-D tensor or any sequence.
    if isinstance(losses, torch.Tensor):
        if losses.dim() != 1:
            raise ValueError(f"losses must be 1-D, got shape {tuple(losses.shape)}")
        values = [float(v) for v in losses.detach().to(torch.float64).tolist()]
    elif isinstance(losses, Sequence) or hasattr(losses, "__iter__"):
        try:
            values = [float(v) for v in losses]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"losses must be a sequence of numbers: {exc}") from None
    else:
        raise ValueError(f"losses must be a sequence of numbers, got {type(losses).__name__}")
    if len(values) < 2:
        raise ValueError(f"losses needs at least 2 values, got {len(values)}")
    if any(math.isnan(v) for v in values):
        raise ValueError("losses contains NaN")

    return max(values) - (values[0] + values[-1]) / 2.0


def interpolated_barrier(
    losses: Sequence[float] | torch.Tensor,
    alphas: Sequence[float] | torch.Tensor | None = None,
) -> float:
    """Loss barrier above the chord between the endpoint losses (Entezari et al., 2022).

    barrier = max_i [ losses[i] - ((1 - alphas[i]) * losses[0] + alphas[i] * losses[-1]) ]

    Inputs:
    - losses: n >= 2 losses along a path (list, tuple or 1-D tensor).
    - alphas: the n positions of the losses on the path (list, tuple or 1-D tensor), with
      alphas[0] = 0 and alphas[-1] = 1 (within ALPHA_ENDPOINT_TOL). Default (None): evenly
      spaced, alphas[i] = i / (n - 1).

    Returns:
    - Python float. It is >= 0 (the i = 0 term is 0) and equals barrier_height when the
      two endpoint losses are equal.

    Raises:
    - ValueError (naming the argument) for fewer than 2 losses, a NaN loss, a different
      number of alphas and losses, or alphas[0] != 0 / alphas[-1] != 1.
    """

    def as_floats(values, name, min_len=0):
        """`values` (a 1-D tensor or a sequence of numbers, no NaN) as Python floats."""
        if isinstance(values, torch.Tensor):
            if values.dim() != 1:
                raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
            out = [float(v) for v in values.detach().to(torch.float64).tolist()]
        elif isinstance(values, Sequence) or hasattr(values, "__iter__"):
            try:
                out = [float(v) for v in values]
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be a sequence of numbers: {exc}") from None
        else:
            raise ValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
        if len(out) < min_len:
            raise ValueError(f"{name} needs at least {min_len} values, got {len(out)}")
        if any(math.isnan(v) for v in out):
            raise ValueError(f"{name} contains NaN")
        return out

    values = as_floats(losses, "losses", min_len=2)
    n = len(values)
    if alphas is None:
        positions = [i / (n - 1) for i in range(n)]
    else:
        positions = as_floats(alphas, "alphas")
        if len(positions) != n:
            raise ValueError(f"alphas has {len(positions)} values but losses has {n}")
        if abs(positions[0]) > ALPHA_ENDPOINT_TOL:
            raise ValueError(f"alphas[0] must be 0, got {positions[0]}")
        if abs(positions[-1] - 1.0) > ALPHA_ENDPOINT_TOL:
            raise ValueError(f"alphas[-1] must be 1, got {positions[-1]}")

    # The excess of every loss over the chord between the two endpoint losses.
    first, last = values[0], values[-1]
    return max(
        loss - ((1.0 - a) * first + a * last) for loss, a in zip(values, positions, strict=True)
    )


def is_linearly_connected(losses: Sequence[float] | torch.Tensor, delta: float) -> bool:
    """The course text's test of linear mode connectivity on measured losses.

    Connected when every loss <= max(losses[0], losses[-1]) + delta.

    Inputs:
    - losses: at least 2 losses along the straight line (list, tuple or 1-D tensor),
      losses[0] at theta_a and losses[-1] at theta_b.
    - delta: real number, the tolerated excess loss.

    Returns:
    - Python bool. All comparisons in float64: convert float32 losses to Python floats
      before adding delta.

    Raises:
    - ValueError (naming the argument) for fewer than 2 losses, a NaN loss or a NaN delta.
    """
    # losses as Python floats (float64 arithmetic), from a 1-D tensor or any sequence.
    if isinstance(losses, torch.Tensor):
        if losses.dim() != 1:
            raise ValueError(f"losses must be 1-D, got shape {tuple(losses.shape)}")
        values = [float(v) for v in losses.detach().to(torch.float64).tolist()]
    elif isinstance(losses, Sequence) or hasattr(losses, "__iter__"):
        try:
            values = [float(v) for v in losses]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"losses must be a sequence of numbers: {exc}") from None
    else:
        raise ValueError(f"losses must be a sequence of numbers, got {type(losses).__name__}")
    if len(values) < 2:
        raise ValueError(f"losses needs at least 2 values, got {len(values)}")
    if any(math.isnan(v) for v in values):
        raise ValueError("losses contains NaN")

    # delta: a Python number, a one-element tensor or a numpy scalar; not NaN (inf is fine).
    if isinstance(delta, torch.Tensor):
        if delta.numel() != 1:
            raise ValueError(f"delta must be a scalar, got a tensor of shape {tuple(delta.shape)}")
        delta = delta.item()
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise ValueError(f"delta must be a number, got {type(delta).__name__}") from None
    if math.isnan(d):
        raise ValueError("delta must not be NaN")

    threshold = max(values[0], values[-1]) + d
    return bool(all(v <= threshold for v in values))


# --------------------------------------------------------------------------------------------
# Bezier curves
# --------------------------------------------------------------------------------------------
