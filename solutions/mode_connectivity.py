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
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from solutions._common import Params, as_float_list, check_fraction, check_matching_params

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

ALPHA_ENDPOINT_TOL = 1e-6
"""How far ``alphas[0]`` may be from 0 and ``alphas[-1]`` from 1 in `interpolated_barrier`."""

WEIGHT_SUM_TOL = 1e-6
"""How far the weights of `average_params` may sum from 1."""


# --------------------------------------------------------------------------------------------
# Validation helpers (private)
# --------------------------------------------------------------------------------------------


def _as_real(value: object, name: str) -> float:
    """Return ``value`` (a number, 0-d tensor or numpy scalar) as a finite Python float."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite real number, got {x}")
    return x


def _as_not_nan(value: object, name: str) -> float:
    """Return ``value`` as a Python float, rejecting NaN (infinities are allowed)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}") from None
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN")
    return x


def _as_int(value: object, name: str) -> int:
    """Return ``value`` as a Python int; bools and non-integral numbers are rejected."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got a bool")
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        return int(value.item())
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def _check_model(model: object, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_model_params(model: nn.Module, params: object, name: str) -> None:
    """Raise unless ``params`` names every parameter of ``model`` with the right shape.

    Extra keys are allowed only if they name buffers of ``model`` (a full ``state_dict``).
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"{name} must be a dict of tensors, got {type(params).__name__}")
    own = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    missing = [k for k in own if k not in params]
    unknown = [k for k in params if k not in own and k not in buffers]
    if missing or unknown:
        raise ValueError(
            f"{name} does not match the model's parameters: missing {missing}, unknown {unknown}"
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


def _check_params_list(params_list: object, name: str) -> list[Mapping[str, torch.Tensor]]:
    """Return ``params_list`` as a non-empty list of dicts with the same keys and shapes."""
    if isinstance(params_list, (Mapping, torch.Tensor, str)) or not isinstance(
        params_list, Sequence
    ):
        raise ValueError(
            f"{name} must be a list of parameter dicts, got {type(params_list).__name__}"
        )
    members = list(params_list)
    if not members:
        raise ValueError(f"{name} is empty: at least one parameter dict is needed")
    for i, member in enumerate(members):
        check_matching_params(members[0], member, f"{name}[0]", f"{name}[{i}]")
    return members


def _check_data(X: object, y: object | None = None) -> int:
    """Validate ``X`` (and ``y`` if given); return the number of examples N."""
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"X must be a tensor, got {type(X).__name__}")
    if X.dim() < 1 or X.shape[0] < 1:
        raise ValueError(f"X must hold at least one example, got shape {tuple(X.shape)}")
    if y is not None:
        if not isinstance(y, torch.Tensor):
            raise ValueError(f"y must be a tensor, got {type(y).__name__}")
        if y.dim() != 1:
            raise ValueError(f"y must be 1-D (class indices), got shape {tuple(y.shape)}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} examples but y has {y.shape[0]} labels")
    return int(X.shape[0])


def _call_model(model: nn.Module, params: Mapping[str, torch.Tensor], X: torch.Tensor):
    """Evaluate ``model`` on ``X`` with ``params`` without touching the model's own state.

    Buffers (e.g. BatchNorm running statistics) are passed as clones so that a forward pass in
    train mode cannot update the model's buffers or the caller's tensors in place.
    """
    buffer_names = {k for k, _ in model.named_buffers()}
    state = {k: (v.clone() if k in buffer_names else v) for k, v in params.items()}
    for k, b in model.named_buffers():
        if k not in state:
            state[k] = b.clone()
    return functional_call(model, state, (X,))


# --------------------------------------------------------------------------------------------
# Linear paths and barriers
# --------------------------------------------------------------------------------------------


def interpolate(theta_a: Params, theta_b: Params, alpha: float) -> Params:
    """Point on the straight line between two parameter dicts.

    Args:
        theta_a: Params (dict str -> tensor), the path's start (alpha = 0).
        theta_b: Params with the same keys and shapes as ``theta_a``, the end (alpha = 1).
        alpha: real number (float, 0-d tensor or numpy scalar); values outside [0, 1]
            extrapolate beyond the endpoints.

    Returns:
        Params in ``theta_a``'s key order with, per key, the new tensor
        ``(1 − alpha)·theta_a[k] + alpha·theta_b[k]`` (same shape; dtype of the inputs, which
        follows torch's type promotion if the two dtypes differ). The inputs are not modified
        and no output shares memory with them; gradients flow through if inputs require them.

    Raises:
        ValueError: if the keys or shapes differ or ``alpha`` is not a finite real number.
    """
    check_matching_params(theta_a, theta_b, "theta_a", "theta_b")
    a = _as_real(alpha, "alpha")
    return {k: (1.0 - a) * theta_a[k] + a * theta_b[k] for k in theta_a}


def loss_along_path(
    model: nn.Module,
    path: Callable[[float], Params],
    X: torch.Tensor,
    y: torch.Tensor,
    alphas: Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Mean cross-entropy of ``model`` at each point ``path(alpha)`` of a path in weight space.

    Args:
        model: ``torch.nn.Module`` giving the architecture; evaluated through
            ``torch.func.functional_call`` in its current mode (train or eval).
        path: callable mapping a Python float alpha to Params with every parameter name of
            ``model`` (buffer names may also be given).
        X: tensor of shape (N, ...) with N ≥ 1, the model's input.
        y: int64 tensor of shape (N,), class indices.
        alphas: 1-D list, tuple, numpy array or tensor of M real numbers (no NaN).

    Returns:
        1-D tensor of shape (M,) whose i-th entry is the mean cross-entropy of the model with
        ``path(alphas[i])`` on (X, y); dtype of the loss (float32 for a float32 model); it does
        not require grad. The model's parameters, buffers and mode are unchanged.

    Raises:
        ValueError: for a non-module ``model``, a non-callable ``path``, mismatched X/y, NaN
            alphas, or ``path(alpha)`` whose keys or shapes do not fit the model.
    """
    _check_model(model)
    if not callable(path):
        raise ValueError(f"path must be callable (alpha -> Params), got {type(path).__name__}")
    _check_data(X, y)
    alpha_values = as_float_list(alphas, "alphas")
    losses = []
    with torch.no_grad():
        for a in alpha_values:
            params = path(a)
            _check_model_params(model, params, f"path({a})")
            logits = _call_model(model, params, X)
            losses.append(F.cross_entropy(logits, y).detach())
    if not losses:
        dtype = next((p.dtype for p in model.parameters()), torch.get_default_dtype())
        return torch.empty(0, dtype=dtype)
    return torch.stack(losses)


def barrier_height(losses: Sequence[float] | torch.Tensor) -> float:
    """Loss barrier of a path as defined in the seed and by Frankle et al. (2020).

    Args:
        losses: 1-D list, tuple, numpy array or tensor of at least 2 losses along a path,
            ``losses[0]`` at alpha = 0 and ``losses[-1]`` at alpha = 1.

    Returns:
        Python float ``max(losses) − (losses[0] + losses[-1]) / 2`` (worked example 1: 1.095).

    Raises:
        ValueError: for fewer than 2 values or any NaN.
    """
    values = as_float_list(losses, "losses", min_len=2)
    return max(values) - (values[0] + values[-1]) / 2.0


def interpolated_barrier(
    losses: Sequence[float] | torch.Tensor,
    alphas: Sequence[float] | torch.Tensor | None = None,
) -> float:
    """Loss barrier relative to the straight line between the endpoint losses (Entezari et al.).

    Args:
        losses: 1-D sequence or tensor of n ≥ 2 losses along a path.
        alphas: 1-D sequence or tensor of the n path positions of ``losses``; ``alphas[0]``
            must be 0 and ``alphas[-1]`` 1 (within ``ALPHA_ENDPOINT_TOL``). Default: n evenly
            spaced values from 0 to 1 (``i / (n − 1)``).

    Returns:
        Python float ``max_i [losses[i] − ((1 − alphas[i])·losses[0] + alphas[i]·losses[-1])]``.

    Raises:
        ValueError: for fewer than 2 losses, NaN, lengths that differ, or endpoints of
            ``alphas`` that are not 0 and 1.
    """
    values = as_float_list(losses, "losses", min_len=2)
    n = len(values)
    if alphas is None:
        positions = [i / (n - 1) for i in range(n)]
    else:
        positions = as_float_list(alphas, "alphas")
        if len(positions) != n:
            raise ValueError(f"alphas has {len(positions)} values but losses has {n}")
        if abs(positions[0]) > ALPHA_ENDPOINT_TOL:
            raise ValueError(f"alphas[0] must be 0, got {positions[0]}")
        if abs(positions[-1] - 1.0) > ALPHA_ENDPOINT_TOL:
            raise ValueError(f"alphas[-1] must be 1, got {positions[-1]}")
    first, last = values[0], values[-1]
    return max(
        loss - ((1.0 - a) * first + a * last) for loss, a in zip(values, positions, strict=True)
    )


def is_linearly_connected(losses: Sequence[float] | torch.Tensor, delta: float) -> bool:
    """Whether a path's losses stay within ``delta`` of the worse endpoint (the seed's test).

    Args:
        losses: 1-D sequence or tensor of at least 2 losses along the linear path,
            ``losses[0]`` and ``losses[-1]`` at the endpoints.
        delta: real number, the allowed excess loss.

    Returns:
        Python bool: True iff every loss ≤ max(losses[0], losses[-1]) + delta, all compared in
        float64 (float32 inputs are converted to float64 first).

    Raises:
        ValueError: for fewer than 2 values, NaN in ``losses`` or a NaN ``delta``.
    """
    values = as_float_list(losses, "losses", min_len=2)
    d = _as_not_nan(delta, "delta")
    threshold = max(values[0], values[-1]) + d
    return bool(all(v <= threshold for v in values))


# --------------------------------------------------------------------------------------------
# Bezier curves
# --------------------------------------------------------------------------------------------


def bernstein_weights(degree: int, alpha: float) -> torch.Tensor:
    """Bernstein basis polynomials of a given degree at ``alpha``.

    Args:
        degree: integer ≥ 1.
        alpha: real number in [0, 1].

    Returns:
        float64 tensor of shape (degree + 1,) with
        ``w_k = C(degree, k)·alpha^k·(1 − alpha)^(degree − k)`` (exact binomials, ``0^0 = 1``);
        the weights are non-negative and sum to 1.

    Raises:
        ValueError: for a non-integer or degree < 1, or alpha outside [0, 1] or NaN.
    """
    n = _as_int(degree, "degree")
    if n < 1:
        raise ValueError(f"degree must be at least 1, got {n}")
    a = check_fraction(alpha, "alpha")
    weights = [math.comb(n, k) * a**k * (1.0 - a) ** (n - k) for k in range(n + 1)]
    return torch.tensor(weights, dtype=torch.float64)


def bezier_point(theta_a: Params, theta_mid: Params, theta_b: Params, alpha: float) -> Params:
    """Point on the quadratic Bezier curve through theta_a and theta_b with control theta_mid.

    Args:
        theta_a: Params, the curve's start (alpha = 0).
        theta_mid: Params with the same keys and shapes, the control point.
        theta_b: Params with the same keys and shapes, the curve's end (alpha = 1).
        alpha: finite real number, normally in [0, 1].

    Returns:
        Params in ``theta_a``'s key order, per key the new tensor
        ``(1−alpha)²·theta_a + 2·alpha·(1−alpha)·theta_mid + alpha²·theta_b`` (inputs' dtype;
        gradients flow to any input that requires grad). With
        ``theta_mid = (theta_a + theta_b) / 2`` this equals ``interpolate(theta_a, theta_b,
        alpha)`` up to floating-point rounding.

    Raises:
        ValueError: if keys or shapes differ or ``alpha`` is not a finite real number.
    """
    check_matching_params(theta_a, theta_mid, "theta_a", "theta_mid")
    check_matching_params(theta_a, theta_b, "theta_a", "theta_b")
    a = _as_real(alpha, "alpha")
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

    Garipov et al. (2018): minimise the expected loss along the curve, E_{alpha ~ U(0,1)}
    L(theta(alpha)), by stochastic gradient steps on theta_mid only.

    Protocol (deterministic given ``seed``): ``g = torch.Generator().manual_seed(seed)``;
    theta_mid starts at ``(theta_a + theta_b) / 2``; each step draws, in this order,
    ``alpha = torch.rand((), generator=g)`` and the minibatch indices
    ``torch.randint(0, N, (min(batch_size, N),), generator=g)`` (with replacement), computes
    the mean cross-entropy of ``model`` with ``bezier_point(theta_a, theta_mid, theta_b,
    alpha)`` on that minibatch (``functional_call``, model in its current mode), and takes one
    ``torch.optim.Adam(lr=lr)`` step (default betas and eps) on theta_mid.

    Args:
        model: ``torch.nn.Module`` giving the architecture (its parameters are not used).
        theta_a: Params of the first endpoint (every parameter name of the model).
        theta_b: Params of the second endpoint, same keys and shapes.
        X: tensor of shape (N, ...) with N ≥ 1, training inputs.
        y: int64 tensor of shape (N,), class indices.
        steps: int ≥ 0, the number of Adam steps (0 returns the average of the endpoints).
        lr: float > 0, Adam's learning rate.
        batch_size: int ≥ 1, minibatch size (capped at N).
        seed: int, seed of the generator that draws alpha and the minibatches.

    Returns:
        Params (same keys, shapes and dtypes as ``theta_a``), the trained theta_mid as new
        detached tensors. The endpoints, data and model (parameters, buffers, mode, grads) are
        unchanged.

    Raises:
        ValueError: for mismatched endpoints or data, steps < 0, lr ≤ 0, batch_size < 1, or
            endpoints that do not fit the model.
    """
    _check_model(model)
    check_matching_params(theta_a, theta_b, "theta_a", "theta_b")
    _check_model_params(model, theta_a, "theta_a")
    n = _check_data(X, y)
    n_steps = _as_int(steps, "steps")
    if n_steps < 0:
        raise ValueError(f"steps must be at least 0, got {n_steps}")
    rate = _as_real(lr, "lr")
    if rate <= 0:
        raise ValueError(f"lr must be positive, got {rate}")
    size = _as_int(batch_size, "batch_size")
    if size < 1:
        raise ValueError(f"batch_size must be at least 1, got {size}")
    generator = torch.Generator().manual_seed(_as_int(seed, "seed"))

    start = {k: theta_a[k].detach() for k in theta_a}
    end = {k: theta_b[k].detach() for k in theta_a}
    theta_mid = {k: ((start[k] + end[k]) / 2.0).clone().requires_grad_(True) for k in theta_a}
    optimizer = torch.optim.Adam(list(theta_mid.values()), lr=rate)
    m = min(size, n)
    with torch.enable_grad():
        for _ in range(n_steps):
            alpha = float(torch.rand((), generator=generator))
            idx = torch.randint(0, n, (m,), generator=generator)
            point = bezier_point(start, theta_mid, end, alpha)
            loss = F.cross_entropy(_call_model(model, point, X[idx]), y[idx])
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

    Args:
        endpoint_losses: 1-D sequence or tensor of n losses L_0..L_{n−1}, one per solution.
        path_max_losses: dict mapping a pair (i, j) of distinct solution indices (either
            order; each unordered pair at most once) to the max loss on the linear path between
            solutions i and j. Absent pairs are not connected.
        delta: real number; pair (i, j) is connected when its max loss ≤ max(L_i, L_j) + delta
            (float64 comparison).

    Returns:
        The connected components of the graph on solutions 0..n−1 (transitive closure of the
        connected pairs), each a ``set[int]``, sorted by smallest member; a solution connected
        to no other is a singleton.

    Raises:
        ValueError: for NaN losses or delta, a pair that is not two integers, names an index
            outside 0..n−1 or the same solution twice, or appears twice.
    """
    losses = as_float_list(endpoint_losses, "endpoint_losses")
    d = _as_not_nan(delta, "delta")
    if not isinstance(path_max_losses, Mapping):
        raise ValueError(
            f"path_max_losses must be a dict from pairs (i, j) to losses, got "
            f"{type(path_max_losses).__name__}"
        )
    n = len(losses)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: set[frozenset[int]] = set()
    for pair, value in path_max_losses.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"path_max_losses key {pair!r} must be a pair (i, j)")
        i = _as_int(pair[0], f"path_max_losses key {pair!r}")
        j = _as_int(pair[1], f"path_max_losses key {pair!r}")
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
        max_loss = _as_not_nan(value, f"path_max_losses[{pair!r}]")
        if max_loss <= max(losses[i], losses[j]) + d:
            parent[find(i)] = find(j)

    components: dict[int, set[int]] = {}
    for i in range(n):
        components.setdefault(find(i), set()).add(i)
    return sorted(components.values(), key=min)


def average_params(
    params_list: Sequence[Params],
    weights: Sequence[float] | torch.Tensor | None = None,
) -> Params:
    """Weighted average of parameter dicts (weight averaging, "model soup").

    Args:
        params_list: non-empty list of Params with identical keys and shapes.
        weights: optional 1-D sequence or tensor of ``len(params_list)`` non-negative numbers
            summing to 1 (within ``WEIGHT_SUM_TOL``); default uniform, ``1 / len(params_list)``.

    Returns:
        Params in ``params_list[0]``'s key order, per key the new tensor
        ``sum_i weights[i]·params_list[i][k]`` (dtype of the inputs).

    Raises:
        ValueError: for an empty list, mismatched keys or shapes, a wrong number of weights,
            NaN or negative weights, or weights not summing to 1.
    """
    members = _check_params_list(params_list, "params_list")
    count = len(members)
    if weights is None:
        w = [1.0 / count] * count
    else:
        w = as_float_list(weights, "weights")
        if len(w) != count:
            raise ValueError(f"weights has {len(w)} values but params_list has {count} members")
        if any(v < 0 for v in w):
            raise ValueError(f"weights must be non-negative, got {w}")
        if abs(math.fsum(w) - 1.0) > WEIGHT_SUM_TOL:
            raise ValueError(f"weights must sum to 1, got sum {math.fsum(w)}")
    out: Params = {}
    for k in members[0]:
        total = w[0] * members[0][k]
        for weight, member in zip(w[1:], members[1:], strict=True):
            total = total + weight * member[k]
        out[k] = total
    return out


def ensemble_probs(
    model: nn.Module, params_list: Sequence[Params], X: torch.Tensor
) -> torch.Tensor:
    """Class probabilities of an ensemble: the mean of the members' softmax outputs.

    Args:
        model: ``torch.nn.Module`` giving the architecture; evaluated with each member's
            parameters through ``functional_call``, in its current mode.
        params_list: non-empty list of Params, each naming every parameter of ``model``.
        X: tensor of shape (N, ...) with N ≥ 1, the model's input.

    Returns:
        Tensor of shape (N, C), ``mean_m softmax(model(X; params_list[m]), dim=-1)``, dtype of
        the logits; rows sum to 1; it does not require grad. The model is unchanged.

    Raises:
        ValueError: for an empty list or members that do not fit the model or each other.
    """
    _check_model(model)
    members = _check_params_list(params_list, "params_list")
    for i, member in enumerate(members):
        _check_model_params(model, member, f"params_list[{i}]")
    _check_data(X)
    with torch.no_grad():
        total = None
        for member in members:
            probs = torch.softmax(_call_model(model, member, X), dim=-1)
            total = probs if total is None else total + probs
        assert total is not None
        return (total / len(members)).detach()
