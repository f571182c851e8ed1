"""Model answers of notebook 01, section 4: quadratic Bezier curves and training their midpoint."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from solutions._common import Params


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
