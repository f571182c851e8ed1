"""Reference solutions for notebook 01: linear and Bezier mode connectivity, barriers, basins, merging.

Conventions (exercise-spec.md):

- ``Params`` is an ordered ``dict[str, torch.Tensor]`` such as
  ``{n: p.detach() for n, p in model.named_parameters()}``.
- The linear path is theta(alpha) = (1 − alpha)·theta_a + alpha·theta_b, so alpha = 0 is
  theta_a and alpha = 1 is theta_b. The quadratic Bezier curve is
  theta(alpha) = (1−alpha)²·theta_a + 2·alpha·(1−alpha)·theta_mid + alpha²·theta_b.
- Losses are mean cross-entropy over the given data.
- No function modifies its inputs (tensors, dicts, models); scalar results are Python floats;
  bad input raises ``ValueError`` with a message naming the argument.

Every graded function here is also the model answer of its answer cell in
``source/landscapes/01_mode_connectivity.ipynb``: the notebook builder splices its source
(signature and docstring, which match the notebook's, then the body) into that cell after the
cell's preamble (its imports and constants). So a function body uses only builtins, the names
of its cell's preamble, graded functions of earlier cells, and names it defines or imports
itself. The module-level imports and constants below are those of the preambles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from solutions._common import Params

__all__ = [
    "average_params",
    "barrier_height",
    "bernstein_weights",
    "bezier_point",
    "ensemble_probs",
    "interpolate",
    "interpolated_barrier",
    "is_linearly_connected",
    "linear_basins",
    "loss_along_path",
    "train_bezier_midpoint",
]

# The two constants are defined, with these values, in the preambles of the answer cells of
# interpolated_barrier and average_params.

ALPHA_ENDPOINT_TOL = 1e-6
"""How far alphas[0] may be from 0, and alphas[-1] from 1."""

WEIGHT_SUM_TOL = 1e-6
"""How far the weights of average_params may sum from 1."""


# --------------------------------------------------------------------------------------------
# Linear paths and barriers
# --------------------------------------------------------------------------------------------


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


def bernstein_weights(degree: int, alpha: float) -> torch.Tensor:
    """The Bernstein basis polynomials of a given degree, evaluated at alpha.

    w_k = C(degree, k) * alpha**k * (1 - alpha)**(degree - k),   k = 0, ..., degree

    Inputs:
    - degree: integer >= 1 (2 for the quadratic Bezier curve).
    - alpha: real number in [0, 1].

    Returns:
    - float64 tensor of shape (degree + 1,); w_0 = (1 - alpha)**degree belongs to the first
      control point (alpha = 0), w_degree = alpha**degree to the last. The weights are
      non-negative and sum to 1.

    Raises:
    - ValueError (naming the argument) for degree < 1 or alpha outside [0, 1].

    Hint: math.comb(n, k) is the binomial coefficient, and in Python 0.0 ** 0 == 1.0, so
    alpha = 0 and alpha = 1 need no special case.
    """
    import operator

    # degree: an integer (a Python or numpy int, or an integer tensor), not a bool.
    if isinstance(degree, bool):
        raise ValueError("degree must be an integer, got a bool")
    if isinstance(degree, torch.Tensor) and degree.numel() == 1 and not degree.is_floating_point():
        n = int(degree.item())
    else:
        try:
            n = operator.index(degree)
        except TypeError:
            raise ValueError(f"degree must be an integer, got {degree!r}") from None
    if n < 1:
        raise ValueError(f"degree must be at least 1, got {n}")

    # alpha: a number in [0, 1] (`not 0 <= a <= 1` is also True for NaN).
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number, got {type(alpha).__name__}") from None
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must lie in [0.0, 1.0], got {alpha!r}")

    # Exact binomials; in Python 0.0 ** 0 == 1.0, so alpha = 0 and 1 need no special case.
    weights = [math.comb(n, k) * a**k * (1.0 - a) ** (n - k) for k in range(n + 1)]
    return torch.tensor(weights, dtype=torch.float64)


def bezier_point(theta_a: Params, theta_mid: Params, theta_b: Params, alpha: float) -> Params:
    """Point on the quadratic Bezier curve from theta_a to theta_b with control theta_mid.

    theta(alpha) = (1-alpha)**2 * theta_a + 2*alpha*(1-alpha) * theta_mid + alpha**2 * theta_b

    Inputs:
    - theta_a: Params, the start of the curve (alpha = 0).
    - theta_mid: Params with the same keys and shapes, the control point.
    - theta_b: Params with the same keys and shapes, the end of the curve (alpha = 1).
    - alpha: real number, normally in [0, 1].

    Returns:
    - Params with theta_a's keys; per key a new tensor (dtype of the inputs). Gradients flow
      to any input that requires grad (train_bezier_midpoint relies on this). With
      theta_mid = (theta_a + theta_b) / 2 the result equals interpolate(theta_a, theta_b,
      alpha).

    Raises:
    - ValueError (naming the arguments) if the keys or shapes of the three dicts differ.
    """
    from collections.abc import Mapping

    # Three dicts of tensors with the same keys and, per key, the same shape.
    for arg, params in (("theta_a", theta_a), ("theta_mid", theta_mid), ("theta_b", theta_b)):
        if not isinstance(params, Mapping):
            raise ValueError(f"{arg} must be a dict of tensors, got {type(params).__name__}")
        for key, value in params.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{arg}[{key!r}] must be a tensor, got {type(value).__name__}")
        if set(params) != set(theta_a):
            only_a = sorted(set(theta_a) - set(params))
            only_other = sorted(set(params) - set(theta_a))
            raise ValueError(
                f"theta_a and {arg} have different keys: only in theta_a: {only_a}, "
                f"only in {arg}: {only_other}"
            )
        for key in theta_a:
            if theta_a[key].shape != params[key].shape:
                raise ValueError(
                    f"theta_a[{key!r}] has shape {tuple(theta_a[key].shape)} but {arg}[{key!r}] "
                    f"has shape {tuple(params[key].shape)}"
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

    c_a = (1.0 - a) ** 2
    c_mid = 2.0 * a * (1.0 - a)
    c_b = a**2
    return {k: c_a * theta_a[k] + c_mid * theta_mid[k] + c_b * theta_b[k] for k in theta_a}


def train_bezier_midpoint(
    model: nn.Module,
    theta_a: Params,
    theta_b: Params,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 500,
    lr: float = 0.01,
    batch_size: int = 128,
    seed: int = 0,
) -> Params:
    """Train the control point of a quadratic Bezier curve between two fixed solutions.

    Minimises the expected loss along the curve, E_{alpha ~ U(0, 1)} L(theta(alpha)), by
    Adam steps on theta_mid only (Garipov et al., 2018).

    Inputs:
    - model: torch.nn.Module giving the architecture (evaluated with functional_call in its
      current mode; its own parameters are not used and must not change).
    - theta_a: Params of the first endpoint (every parameter name of the model).
    - theta_b: Params of the second endpoint, same keys and shapes.
    - X: tensor of shape (N, D), the training inputs.
    - y: int64 tensor of shape (N,), the training labels.
    - steps: int >= 0, the number of Adam steps (0 returns the endpoints' average).
    - lr: float > 0, Adam's learning rate.
    - batch_size: int >= 1, the minibatch size (capped at N).
    - seed: int, seed of the torch.Generator that draws alpha and the minibatches.

    Returns:
    - Params: the trained theta_mid, new detached tensors with theta_a's keys, shapes and
      dtypes.

    Raises:
    - ValueError (naming the argument) for steps < 0, lr <= 0, batch_size < 1, or endpoints
      whose keys or shapes differ.

    Hint: theta_mid = {k: ((theta_a[k] + theta_b[k]) / 2).detach().clone().requires_grad_(True)};
    optimizer = torch.optim.Adam(list(theta_mid.values()), lr=lr). Each step: draw alpha
    (torch.rand((), generator=g)) then the indices (torch.randint(0, N, (m,), generator=g)),
    loss = F.cross_entropy(functional_call(model, bezier_point(...), (X[idx],)), y[idx]),
    then zero_grad, backward, step.
    """
    import math
    import operator
    from collections.abc import Mapping

    def as_int(value, name):
        """`value` as a Python int; bools and non-integral numbers are rejected."""
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got a bool")
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
            return int(value.item())
        try:
            return operator.index(value)
        except TypeError:
            raise ValueError(f"{name} must be an integer, got {value!r}") from None

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")

    # The endpoints: dicts of tensors with the same keys and shapes...
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
    # ... that name every parameter of the model (and possibly its buffers).
    own = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    missing = [k for k in own if k not in theta_a]
    unknown = [k for k in theta_a if k not in own and k not in buffers]
    if missing or unknown:
        raise ValueError(
            f"theta_a does not match the model's parameters: missing {missing}, unknown {unknown}"
        )
    for key, value in theta_a.items():
        expected = own[key] if key in own else buffers[key]
        if value.shape != expected.shape:
            raise ValueError(
                f"theta_a[{key!r}] has shape {tuple(value.shape)}, the model expects "
                f"{tuple(expected.shape)}"
            )

    # The data: at least one example, one class index per example.
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
    n = int(X.shape[0])

    # The hyperparameters.
    n_steps = as_int(steps, "steps")
    if n_steps < 0:
        raise ValueError(f"steps must be at least 0, got {n_steps}")
    if isinstance(lr, torch.Tensor):
        if lr.numel() != 1:
            raise ValueError(f"lr must be a scalar, got a tensor of shape {tuple(lr.shape)}")
        lr = lr.item()
    try:
        rate = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"lr must be a real number, got {type(lr).__name__}") from None
    if not math.isfinite(rate):
        raise ValueError(f"lr must be a finite real number, got {rate}")
    if rate <= 0:
        raise ValueError(f"lr must be positive, got {rate}")
    size = as_int(batch_size, "batch_size")
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, got {size}")
    generator = torch.Generator().manual_seed(as_int(seed, "seed"))

    # The endpoints are constants: detach them so that no gradient reaches the caller's
    # tensors. The control point starts on the straight line, at the endpoints' average.
    start = {k: theta_a[k].detach() for k in theta_a}
    end = {k: theta_b[k].detach() for k in theta_a}
    theta_mid = {k: ((start[k] + end[k]) / 2.0).clone().requires_grad_(True) for k in theta_a}
    optimizer = torch.optim.Adam(list(theta_mid.values()), lr=rate)
    m = min(size, n)
    with torch.enable_grad():
        for _ in range(n_steps):
            alpha = float(torch.rand((), generator=generator))  # one alpha ~ U(0, 1) ...
            idx = torch.randint(0, n, (m,), generator=generator)  # ... then one minibatch
            point = bezier_point(start, theta_mid, end, alpha)
            # Buffers (e.g. batch-norm running statistics) go in as clones: a forward pass
            # in train mode must not update the model's own buffers or the caller's tensors.
            state = {k: (v.clone() if k in buffers else v) for k, v in point.items()}
            for k, b in buffers.items():
                if k not in state:
                    state[k] = b.clone()
            loss = F.cross_entropy(functional_call(model, state, (X[idx],)), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {k: v.detach().clone() for k, v in theta_mid.items()}


# --------------------------------------------------------------------------------------------
# Basins, merging and ensembles
# --------------------------------------------------------------------------------------------


def linear_basins(
    endpoint_losses: Sequence[float] | torch.Tensor,
    path_max_losses: Mapping[tuple[int, int], float],
    delta: float,
) -> list[set[int]]:
    """Group solutions into basins by linear connectivity (practice problem 1).

    Inputs:
    - endpoint_losses: n losses L_0, ..., L_{n-1}, one per solution (list or 1-D tensor).
    - path_max_losses: dict mapping a pair (i, j) of two different solutions (given in either
      order; each unordered pair at most once) to the max loss on the straight line between
      them. Pairs that are absent are not connected.
    - delta: real number. Pair (i, j) is connected when its max loss <= max(L_i, L_j) + delta
      (compare Python floats).

    Returns:
    - list of sets of ints: the connected components of the graph on 0, ..., n-1 whose edges
      are the connected pairs, sorted by their smallest member. A solution without any
      connected pair is a basin of its own.

    Raises:
    - ValueError (naming the argument) for NaN losses, or a pair that names a solution
      outside 0..n-1, the same solution twice, or appears twice.

    Hint: build a neighbour list, then grow each component from its smallest unvisited
    solution with a stack (depth-first search) or a queue.
    """
    import operator

    def as_number(value, name):
        """`value` (a number, one-element tensor or numpy scalar) as a float; NaN is rejected."""
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                raise ValueError(
                    f"{name} must be a scalar, got a tensor of shape {tuple(value.shape)}"
                )
            value = value.item()
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {type(value).__name__}") from None
        if math.isnan(x):
            raise ValueError(f"{name} must not be NaN")
        return x

    def as_index(value, name):
        """`value` as a Python int; bools and non-integral numbers are rejected."""
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, got a bool")
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
            return int(value.item())
        try:
            return operator.index(value)
        except TypeError:
            raise ValueError(f"{name} must be an integer, got {value!r}") from None

    # endpoint_losses as Python floats, from a 1-D tensor or any sequence of numbers.
    if isinstance(endpoint_losses, torch.Tensor):
        if endpoint_losses.dim() != 1:
            raise ValueError(
                f"endpoint_losses must be 1-D, got shape {tuple(endpoint_losses.shape)}"
            )
        losses = [float(v) for v in endpoint_losses.detach().to(torch.float64).tolist()]
    elif isinstance(endpoint_losses, Sequence) or hasattr(endpoint_losses, "__iter__"):
        try:
            losses = [float(v) for v in endpoint_losses]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"endpoint_losses must be a sequence of numbers: {exc}") from None
    else:
        raise ValueError(
            f"endpoint_losses must be a sequence of numbers, got {type(endpoint_losses).__name__}"
        )
    if any(math.isnan(v) for v in losses):
        raise ValueError("endpoint_losses contains NaN")
    d = as_number(delta, "delta")
    if not isinstance(path_max_losses, Mapping):
        raise ValueError(
            f"path_max_losses must be a dict from pairs (i, j) to losses, got "
            f"{type(path_max_losses).__name__}"
        )
    n = len(losses)

    # Union-find over the solutions: parent[i] leads to the representative of i's basin.
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = parent[i]
        return i

    seen: set[frozenset[int]] = set()
    for pair, value in path_max_losses.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"path_max_losses key {pair!r} must be a pair (i, j)")
        i = as_index(pair[0], f"path_max_losses key {pair!r}")
        j = as_index(pair[1], f"path_max_losses key {pair!r}")
        if not (0 <= i < n and 0 <= j < n):
            raise ValueError(
                f"path_max_losses key {pair!r} names a solution outside 0..{n - 1} "
                f"(endpoint_losses has {n} values)"
            )
        if i == j:
            raise ValueError(f"path_max_losses key {pair!r} pairs a solution with itself")
        key = frozenset((i, j))
        if key in seen:
            raise ValueError(f"path_max_losses names the pair {{{i}, {j}}} twice")
        seen.add(key)
        max_loss = as_number(value, f"path_max_losses[{pair!r}]")
        if max_loss <= max(losses[i], losses[j]) + d:  # linearly connected: merge the basins
            parent[find(i)] = find(j)

    components: dict[int, set[int]] = {}
    for i in range(n):
        components.setdefault(find(i), set()).add(i)
    return sorted(components.values(), key=min)


def average_params(
    params_list: Sequence[Params],
    weights: Sequence[float] | torch.Tensor | None = None,
) -> Params:
    """Weighted average of parameter dicts ("weight averaging", "model soup").

    result[k] = sum_i weights[i] * params_list[i][k]

    Inputs:
    - params_list: non-empty list of Params with identical keys and shapes.
    - weights: optional list or 1-D tensor with one non-negative weight per member, summing
      to 1 (within WEIGHT_SUM_TOL). Default (None): uniform, 1 / len(params_list) each.

    Returns:
    - Params with params_list[0]'s keys; per key a new tensor of the members' dtype.

    Raises:
    - ValueError (naming the argument) for an empty list, members whose keys or shapes
      differ, a wrong number of weights, negative weights, or weights not summing to 1.
    """
    from collections.abc import Mapping

    # params_list: a non-empty list of dicts of tensors with the same keys and shapes.
    if isinstance(params_list, (Mapping, torch.Tensor, str)) or not isinstance(
        params_list, Sequence
    ):
        raise ValueError(
            f"params_list must be a list of parameter dicts, got {type(params_list).__name__}"
        )
    members = list(params_list)
    if not members:
        raise ValueError("params_list is empty: at least one parameter dict is needed")
    first = members[0]
    for i, member in enumerate(members):
        name = f"params_list[{i}]"
        if not isinstance(member, Mapping):
            raise ValueError(f"{name} must be a dict of tensors, got {type(member).__name__}")
        for key, value in member.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{name}[{key!r}] must be a tensor, got {type(value).__name__}")
        if set(member) != set(first):
            only_first = sorted(set(first) - set(member))
            only_member = sorted(set(member) - set(first))
            raise ValueError(
                f"params_list[0] and {name} have different keys: only in params_list[0]: "
                f"{only_first}, only in {name}: {only_member}"
            )
        for key in first:
            if member[key].shape != first[key].shape:
                raise ValueError(
                    f"params_list[0][{key!r}] has shape {tuple(first[key].shape)} but "
                    f"{name}[{key!r}] has shape {tuple(member[key].shape)}"
                )
    count = len(members)

    # weights as Python floats (so that the members' dtype is kept).
    if weights is None:
        w = [1.0 / count] * count
    else:
        if isinstance(weights, torch.Tensor):
            if weights.dim() != 1:
                raise ValueError(f"weights must be 1-D, got shape {tuple(weights.shape)}")
            w = [float(v) for v in weights.detach().to(torch.float64).tolist()]
        elif isinstance(weights, Sequence) or hasattr(weights, "__iter__"):
            try:
                w = [float(v) for v in weights]
            except (TypeError, ValueError) as exc:
                raise ValueError(f"weights must be a sequence of numbers: {exc}") from None
        else:
            raise ValueError(f"weights must be a sequence of numbers, got {type(weights).__name__}")
        if any(math.isnan(v) for v in w):
            raise ValueError("weights contains NaN")
        if len(w) != count:
            raise ValueError(f"weights has {len(w)} values but params_list has {count} members")
        if any(v < 0 for v in w):
            raise ValueError(f"weights must be non-negative, got {w}")
        if abs(math.fsum(w) - 1.0) > WEIGHT_SUM_TOL:
            raise ValueError(f"weights must sum to 1, got sum {math.fsum(w)}")

    out = {}
    for k in first:
        total = w[0] * first[k]
        for weight, member in zip(w[1:], members[1:], strict=True):
            total = total + weight * member[k]
        out[k] = total
    return out


def ensemble_probs(
    model: nn.Module, params_list: Sequence[Params], X: torch.Tensor
) -> torch.Tensor:
    """Class probabilities of an ensemble: the mean of the members' softmax outputs.

    Inputs:
    - model: torch.nn.Module giving the architecture; evaluated with each member's Params
      through functional_call, in its current mode (not modified).
    - params_list: non-empty list of Params, each naming every parameter of the model.
    - X: tensor of shape (N, D), the inputs.

    Returns:
    - tensor of shape (N, C): mean over members m of softmax(model(X; params_list[m]),
      dim=-1). Rows sum to 1; it does not require grad.

    Raises:
    - ValueError (naming params_list) for an empty list.

    Hint: softmax each member's logits first, then average (not the softmax of the average
    logits); compute inside `with torch.no_grad():`.
    """
    from collections.abc import Mapping

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")

    # params_list: a non-empty list of dicts of tensors with the same keys and shapes...
    if isinstance(params_list, (Mapping, torch.Tensor, str)) or not isinstance(
        params_list, Sequence
    ):
        raise ValueError(
            f"params_list must be a list of parameter dicts, got {type(params_list).__name__}"
        )
    members = list(params_list)
    if not members:
        raise ValueError("params_list is empty: at least one parameter dict is needed")
    first = members[0]
    for i, member in enumerate(members):
        name = f"params_list[{i}]"
        if not isinstance(member, Mapping):
            raise ValueError(f"{name} must be a dict of tensors, got {type(member).__name__}")
        for key, value in member.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{name}[{key!r}] must be a tensor, got {type(value).__name__}")
        if set(member) != set(first):
            only_first = sorted(set(first) - set(member))
            only_member = sorted(set(member) - set(first))
            raise ValueError(
                f"params_list[0] and {name} have different keys: only in params_list[0]: "
                f"{only_first}, only in {name}: {only_member}"
            )
        for key in first:
            if member[key].shape != first[key].shape:
                raise ValueError(
                    f"params_list[0][{key!r}] has shape {tuple(first[key].shape)} but "
                    f"{name}[{key!r}] has shape {tuple(member[key].shape)}"
                )
    # ... each naming every parameter of the model (and possibly its buffers).
    own = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    for i, member in enumerate(members):
        name = f"params_list[{i}]"
        missing = [k for k in own if k not in member]
        unknown = [k for k in member if k not in own and k not in buffers]
        if missing or unknown:
            raise ValueError(
                f"{name} does not match the model's parameters: missing {missing}, "
                f"unknown {unknown}"
            )
        for key, value in member.items():
            expected = own[key] if key in own else buffers[key]
            if value.shape != expected.shape:
                raise ValueError(
                    f"{name}[{key!r}] has shape {tuple(value.shape)}, the model expects "
                    f"{tuple(expected.shape)}"
                )
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"X must be a tensor, got {type(X).__name__}")
    if X.dim() < 1 or X.shape[0] < 1:
        raise ValueError(f"X must hold at least one example, got shape {tuple(X.shape)}")

    with torch.no_grad():
        total = None
        for member in members:
            # Buffers go in as clones: a forward pass in train mode updates them in place.
            state = {k: (v.clone() if k in buffers else v) for k, v in member.items()}
            for k, b in buffers.items():
                if k not in state:
                    state[k] = b.clone()
            # Softmax each member first, then average (not the softmax of averaged logits).
            probs = torch.softmax(functional_call(model, state, (X,)), dim=-1)
            total = probs if total is None else total + probs
        return (total / len(members)).detach()
