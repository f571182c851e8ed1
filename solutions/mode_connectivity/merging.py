"""Model answers of notebook 01, sections 5-6: linear basins, weight averaging, ensembles."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call

from solutions._common import Params

WEIGHT_SUM_TOL = 1e-6
"""How far the weights of average_params may sum from 1."""


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


# The signature as the released stub shows it (the notebook's line, not ruff's layout).
# fmt: off
def ensemble_probs(model: nn.Module, params_list: Sequence[Params], X: torch.Tensor) -> torch.Tensor:
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


# fmt: on
