"""The hidden checks of notebook 01, sections 5–6 (basins of many solutions; weight averaging
versus ensembles), grade well: `linear_basins`, `average_params` and `ensemble_probs`.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from solutions import mode_connectivity as ref
from tests.course.checks.mode_connectivity.helpers import _floats, _same_keys
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# linear_basins


def _connected(losses, pairs, delta):
    values = _floats(losses, "endpoint_losses")
    edges = []
    for (i, j), m in pairs.items():
        if m <= max(values[i], values[j]) + delta:
            edges.append((i, j))
    return values, edges


def basins_direct_only(endpoint_losses, path_max_losses, delta):
    values, edges = _connected(endpoint_losses, path_max_losses, delta)
    groups = []
    for i in range(len(values)):
        group = {i} | {j for a, b in edges for j in (a, b) if i in (a, b)}
        if group not in groups:
            groups.append(group)
    return sorted(groups, key=min)


def basins_first_loss_only(endpoint_losses, path_max_losses, delta):
    values = _floats(endpoint_losses, "endpoint_losses")
    pairs = {(i, j): m for (i, j), m in path_max_losses.items() if m <= values[i] + delta}
    return ref.linear_basins(values, dict.fromkeys(pairs, -math.inf), 0.0)


def basins_strict(endpoint_losses, path_max_losses, delta):
    values = _floats(endpoint_losses, "endpoint_losses")
    connected = {
        p: m for p, m in path_max_losses.items() if m < max(values[p[0]], values[p[1]]) + delta
    }
    return ref.linear_basins(values, dict.fromkeys(connected, -math.inf), 0.0)


def basins_lists(endpoint_losses, path_max_losses, delta):
    return [sorted(s) for s in ref.linear_basins(endpoint_losses, path_max_losses, delta)]


def basins_by_size(endpoint_losses, path_max_losses, delta):
    return sorted(ref.linear_basins(endpoint_losses, path_max_losses, delta), key=len, reverse=True)


def basins_only_paired(endpoint_losses, path_max_losses, delta):
    members = {i for pair in path_max_losses for i in pair}
    return [s for s in ref.linear_basins(endpoint_losses, path_max_losses, delta) if s <= members]


def basins_bfs(endpoint_losses, path_max_losses, delta):
    values, edges = _connected(endpoint_losses, path_max_losses, delta)
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(values))}
    for i, j in edges:
        neighbours[i].append(j)
        neighbours[j].append(i)
    seen: set[int] = set()
    out = []
    for start in range(len(values)):
        if start in seen:
            continue
        component, queue = {start}, [start]
        while queue:
            for j in neighbours[queue.pop()]:
                if j not in component:
                    component.add(j)
                    queue.append(j)
        seen |= component
        out.append(component)
    return out


def basins_no_nan_check(endpoint_losses, path_max_losses, delta):
    """Right components, but NaN losses go through unnoticed (a NaN compares as False)."""
    n = len(endpoint_losses)
    values = [float(v) for v in endpoint_losses]
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for (i, j), m in path_max_losses.items():
        if float(m) <= max(values[i], values[j]) + float(delta):
            parent[root(i)] = root(j)
    groups: dict[int, set[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), set()).add(i)
    return sorted(groups.values(), key=min)


def _basin_edges(endpoint_losses, path_max_losses, delta):
    values = _floats(endpoint_losses, "endpoint_losses")
    n = len(values)
    edges = []
    for (i, j), m in path_max_losses.items():
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ValueError(f"path_max_losses: bad pair {(i, j)}")
        if float(m) <= max(values[i], values[j]) + float(delta):
            edges.append((int(i), int(j)))
    return n, edges


def basins_networkx(endpoint_losses, path_max_losses, delta):
    """networkx.connected_components."""
    import networkx as nx

    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    return sorted((set(c) for c in nx.connected_components(graph)), key=min)


def basins_labels(endpoint_losses, path_max_losses, delta):
    """Label propagation to a fixed point (smallest label wins); frozensets out."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    label = list(range(n))
    changed = True
    while changed:
        changed = False
        for i, j in edges:
            low = min(label[i], label[j])
            if label[i] != low or label[j] != low:
                label[i] = label[j] = low
                changed = True
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(lab, set()).add(i)
    return [frozenset(groups[k]) for k in sorted(groups)]


def basins_closure(endpoint_losses, path_max_losses, delta):
    """Transitive closure of a boolean adjacency matrix by repeated matrix products."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    reach = torch.eye(n, dtype=torch.bool)
    for i, j in edges:
        reach[i, j] = reach[j, i] = True
    while True:
        nxt = (reach.double() @ reach.double()) > 0
        if torch.equal(nxt, reach):
            break
        reach = nxt
    out, seen = [], set()
    for i in range(n):
        if i not in seen:
            comp = set(reach[i].nonzero().reshape(-1).tolist())
            seen |= comp
            out.append(comp)
    return out


def basins_merge_sets(endpoint_losses, path_max_losses, delta):
    """Starts from singletons and merges the two sets of every connected pair."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    groups = [{i} for i in range(n)]
    for i, j in edges:
        gi = next(s for s in groups if i in s)
        gj = next(s for s in groups if j in s)
        if gi is not gj:
            groups.remove(gj)
            gi |= gj
    return sorted(groups, key=min)


def basins_ordered_lookup(endpoint_losses, path_max_losses, delta):
    """Looks every pair up as (i, j) with i < j only: misses pairs given as (j, i)."""
    values = _floats(endpoint_losses, "endpoint_losses")
    n = len(values)
    pairs = {}
    for i in range(n):
        for j in range(i + 1, n):
            m = path_max_losses.get((i, j))
            if m is not None:
                pairs[(i, j)] = m
    return ref.linear_basins(values, pairs, delta)


def basins_greedy(endpoint_losses, path_max_losses, delta):
    """Adds a pair to the first group that holds one of its solutions, never merging groups."""
    n, edges = _basin_edges(endpoint_losses, path_max_losses, delta)
    groups: list[set[int]] = []
    for i, j in edges:
        for s in groups:
            if i in s or j in s:
                s.update((i, j))
                break
        else:
            groups.append({i, j})
    placed = set().union(*groups)
    groups += [{i} for i in range(n) if i not in placed]
    return sorted(groups, key=min)


def basins_n_from_pairs(endpoint_losses, path_max_losses, delta):
    """Counts the solutions from the pairs: loses solutions that come after every pair."""
    values = _floats(endpoint_losses, "endpoint_losses")
    n = 1 + max((max(p) for p in path_max_losses), default=-1)
    return ref.linear_basins(values[:n], dict(path_max_losses), delta) if n else []


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (basins_direct_only, r"expected \[\[0, 1, 2\]\]", "components"),
        (basins_first_loss_only, r"larger endpoint", "threshold"),
        (basins_strict, r"the comparison is ≤", "threshold"),
        (basins_lists, r"should be a set", "basic"),
        (basins_by_size, r"sort them by their smallest member", "components"),
        (basins_only_paired, r"expected \[\[0, 2\], \[1\]\], got \[\[0, 2\]\]", "components"),
        (basins_ordered_lookup, r"either order", "basic"),
        (
            basins_greedy,
            r"expected \[\[0, 1, 2, 3\]\], got \[\[0, 1, 2\], \[2, 3\]\]",
            "components",
        ),
        (basins_n_from_pairs, r"expected \[\[0\], \[1\]\], got \[\]", "components"),
        (basins_no_nan_check, r"instead of raising ValueError.*NaN", "errors"),
    ],
)
def test_linear_basins_wrong(fn, match, part):
    assert_fails("linear_basins", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [basins_bfs, basins_labels, basins_closure, basins_merge_sets])
def test_linear_basins_alternatives(fn):
    assert_passes_all("linear_basins", fn)


def test_linear_basins_networkx():
    pytest.importorskip("networkx")
    assert_passes_all("linear_basins", basins_networkx)


# ---------------------------------------------------------------------------------------------
# average_params


def _check_members(params_list, weights, *, exact_sum=False):
    if not params_list:
        raise ValueError("params_list is empty")
    for p in params_list[1:]:
        _same_keys(params_list[0], p, "params_list[0]", "params_list[i]")
    if weights is None:
        return [1 / len(params_list)] * len(params_list)
    w = _floats(weights, "weights")
    if len(w) != len(params_list) or any(v < 0 for v in w):
        raise ValueError("weights: one non-negative weight per member")
    if (sum(w) != 1) if exact_sum else abs(sum(w) - 1) > 1e-6:
        raise ValueError("weights must sum to 1")
    return w


def avg_ignores_weights(params_list, weights=None):
    _check_members(params_list, weights)
    return {k: sum(p[k] for p in params_list) / len(params_list) for k in params_list[0]}


def avg_no_sum_check(params_list, weights=None):
    if not params_list:
        raise ValueError("params_list is empty")
    w = [1 / len(params_list)] * len(params_list) if weights is None else list(weights)
    return {k: sum(wi * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_in_place(params_list, weights=None):
    w = _check_members(params_list, weights)
    out = params_list[0]
    for k in out:
        out[k].mul_(w[0])
        for wi, p in zip(w[1:], params_list[1:]):
            out[k].add_(wi * p[k])
    return out


def avg_exact_sum(params_list, weights=None):
    w = _check_members(params_list, weights, exact_sum=True)
    return {k: sum(wi * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_float32_accumulator(params_list, weights=None):
    w = _check_members(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        total = torch.zeros(v.shape)
        for wi, p in zip(w, params_list):
            total += wi * p[k]
        out[k] = total
    return out


def avg_stacked(params_list, weights=None):
    w = _check_members(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        stacked = torch.stack([p[k] for p in params_list])
        out[k] = torch.tensordot(torch.tensor(w, dtype=v.dtype), stacked, dims=1)
    return out


class WeightsError(ValueError):
    """A student's own ValueError subclass."""


def _avg_weights(params_list, weights):
    if len(params_list) == 0:
        raise WeightsError("params_list must contain at least one dict")
    keys = set(params_list[0])
    for i, p in enumerate(params_list):
        if set(p) != keys:
            raise WeightsError(f"params_list[{i}] has different keys")
        for k in keys:
            if p[k].shape != params_list[0][k].shape:
                raise WeightsError(f"params_list[{i}][{k!r}] has a different shape")
    if weights is None:
        return np.full(len(params_list), 1.0 / len(params_list))
    raw = weights.tolist() if isinstance(weights, torch.Tensor) else weights
    w = np.asarray(raw, dtype=np.float64)
    if w.shape != (len(params_list),):
        raise WeightsError("weights needs one entry per member")
    if np.isnan(w).any() or (w < 0).any():
        raise WeightsError("weights must be non-negative")
    if not math.isclose(float(w.sum()), 1.0, rel_tol=0.0, abs_tol=1e-6):
        raise WeightsError("weights must sum to 1")
    return w


def avg_reduce_float64(params_list, weights=None):
    """functools.reduce into a float64 accumulator, cast back to the members' dtype."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        total = functools.reduce(
            lambda acc, pair, k=k: acc + pair[0] * pair[1][k].double(),
            zip(w.tolist(), params_list),
            torch.zeros(v.shape, dtype=torch.float64),
        )
        out[k] = total.to(v.dtype)
    return out


def avg_einsum(params_list, weights=None):
    """torch.stack per key, einsum with the weights in the members' dtype."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k, v in params_list[0].items():
        stacked = torch.stack([p[k] for p in params_list])
        out[k] = torch.einsum("m,m...->...", torch.as_tensor(w, dtype=v.dtype), stacked)
    return out


def avg_running_mean(params_list, weights=None):
    """A running mean acc += (p − acc) / i by default (another rounding), sums otherwise."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k in params_list[0]:
        if weights is None:
            acc = params_list[0][k].clone()
            for i, p in enumerate(params_list[1:], start=2):
                acc = acc + (p[k] - acc) / i
        else:
            acc = sum(float(wi) * p[k] for wi, p in zip(w, params_list))
        out[k] = acc
    return out


def avg_numpy(params_list, weights=None):
    """numpy tensordot in the members' dtype, torch.from_numpy back."""
    w = _avg_weights(params_list, weights)
    out = {}
    for k in params_list[0]:
        arrs = np.stack([np.asarray(p[k].numpy()) for p in params_list])
        res = np.tensordot(w.astype(arrs.dtype), arrs, axes=1)
        out[k] = torch.from_numpy(np.array(res, dtype=arrs.dtype))
    return out


def avg_float32_weights(params_list, weights=None):
    """torch.tensor(weights) is float32: float64 members get float32 accuracy only."""
    _avg_weights(params_list, weights)
    n = len(params_list)
    w = torch.full((n,), 1.0 / n) if weights is None else torch.tensor(weights)
    return {k: sum(w[i] * p[k] for i, p in enumerate(params_list)) for k in params_list[0]}


def avg_sum_default(params_list, weights=None):
    """Default weights of 1 each: the sum of the members, not their mean."""
    w = _avg_weights(params_list, weights)
    if weights is None:
        w = [1.0] * len(params_list)
    return {k: sum(wi * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_renormalises(params_list, weights=None):
    """Divides by the weights' sum instead of checking it (and never compares the keys)."""
    if not params_list:
        raise ValueError("params_list is empty")
    w = [1.0] * len(params_list) if weights is None else [float(v) for v in weights]
    if len(w) != len(params_list) or any(v < 0 for v in w):
        raise ValueError("weights: one non-negative weight per member")
    total = sum(w)
    return {k: sum(wi / total * p[k] for wi, p in zip(w, params_list)) for k in params_list[0]}


def avg_shallow_copy(params_list, weights=None):
    """dict(params_list[0]) is shallow: the in-place *= and += change the first member."""
    w = _avg_weights(params_list, weights)
    out = dict(params_list[0])
    for k in out:
        out[k] *= float(w[0])
        for wi, p in zip(w[1:], params_list[1:]):
            out[k] += float(wi) * p[k]
    return out


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (avg_ignores_weights, r"ignores the weights", "weights"),
        (avg_no_sum_check, r"instead of raising ValueError", "errors"),
        (avg_in_place, r"modified in place", "no_mutation"),
        (avg_exact_sum, r"raised ValueError.*within the tolerance 1e-6", "weights"),
        (avg_float32_accumulator, r"dtype torch\.float32, expected torch\.float64", "dtype"),
        (avg_float32_weights, r"weights \[0\.6, 0\.4\].*only to float32 accuracy", "dtype"),
        (avg_sum_default, r"sum of the members", "uniform"),
        (avg_renormalises, r"different keys.*instead of raising ValueError", "errors"),
        (
            avg_shallow_copy,
            r"params_list\[0\]\['layer\.weight'\] was modified in place",
            "no_mutation",
        ),
    ],
)
def test_average_params_wrong(fn, match, part):
    assert_fails("average_params", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn", [avg_stacked, avg_reduce_float64, avg_einsum, avg_running_mean, avg_numpy]
)
def test_average_params_alternatives(fn):
    assert_passes_all("average_params", fn)


# ---------------------------------------------------------------------------------------------
# ensemble_probs


def ens_mean_logits(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    with torch.no_grad():
        logits = torch.stack([functional_call(model, p, (X,)) for p in params_list])
        return logits.mean(0).softmax(-1)


def ens_with_grad(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    return torch.stack([functional_call(model, p, (X,)).softmax(-1) for p in params_list]).mean(0)


def ens_loads_model(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    probs = []
    with torch.no_grad():
        for p in params_list:
            model.load_state_dict(p)
            probs.append(model(X).softmax(-1))
    return sum(probs) / len(probs)


def ens_no_empty_check(model, params_list, X):
    with torch.no_grad():
        return sum(functional_call(model, p, (X,)).softmax(-1) for p in params_list) / len(
            params_list
        )


def ens_log_probs(model, params_list, X):
    if not params_list:
        raise ValueError("params_list is empty")
    with torch.no_grad():
        return torch.stack(
            [functional_call(model, p, (X,)).log_softmax(-1) for p in params_list]
        ).mean(0)


def ens_deepcopy(model, params_list, X):
    if len(params_list) == 0:
        raise ValueError("params_list must not be empty")
    clone = copy.deepcopy(model)
    total = None
    with torch.inference_mode():
        for p in params_list:
            clone.load_state_dict(p)
            probs = F.softmax(clone(X), dim=1)
            total = probs if total is None else total + probs
    return (total / len(params_list)).clone()


def ens_logsumexp(model, params_list, X):
    """In log space: logsumexp of the members' log-probabilities minus log M, then exp."""
    if len(params_list) == 0:
        raise ValueError("params_list must not be empty")
    with torch.no_grad():
        logp = torch.stack([functional_call(model, p, (X,)).log_softmax(-1) for p in params_list])
        return torch.exp(torch.logsumexp(logp, dim=0) - math.log(len(params_list)))


def ens_numpy(model, params_list, X):
    """A numerically stable numpy softmax per member, torch.from_numpy (float32) back."""
    if not params_list:
        raise ValueError("params_list is empty")
    total = None
    for p in params_list:
        with torch.no_grad():
            z = functional_call(model, p, (X,)).numpy()
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
        total = probs if total is None else total + probs
    return torch.from_numpy(total / len(params_list))


@torch.no_grad()
def ens_float64_cast_back(model, params_list, X):
    """Decorated with no_grad, softmax in float64, cast back to the logits' dtype."""
    if len(params_list) < 1:
        raise ValueError("params_list: need at least one member")
    buffers = dict(model.named_buffers())
    acc, dtype = None, None
    for p in params_list:
        logits = functional_call(model, (p, buffers), (X,))
        dtype = logits.dtype
        probs = F.softmax(logits.double(), dim=1)
        acc = probs if acc is None else acc + probs
    return (acc / len(params_list)).to(dtype)


def _no_members(params_list):
    if not params_list:
        raise ValueError("params_list is empty")


def ens_sum(model, params_list, X):
    """The sum of the members' probabilities, not their mean."""
    _no_members(params_list)
    with torch.no_grad():
        return sum(functional_call(model, p, (X,)).softmax(-1) for p in params_list)


def ens_softmax_dim0(model, params_list, X):
    """softmax over the examples (dim 0) instead of the classes."""
    _no_members(params_list)
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).softmax(0) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_eval_mode(model, params_list, X):
    """Switches the model to eval mode and leaves it there."""
    _no_members(params_list)
    model.eval()
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).softmax(-1) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_float64_out(model, params_list, X):
    """Returns float64 probabilities for a float32 model (tensors keep the input's dtype)."""
    _no_members(params_list)
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).double().softmax(-1) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_freezes_model(model, params_list, X):
    """Sets requires_grad = False on the model's own parameters."""
    _no_members(params_list)
    for p in model.parameters():
        p.requires_grad = False
    with torch.no_grad():
        probs = [functional_call(model, p, (X,)).softmax(-1) for p in params_list]
        return torch.stack(probs).mean(0)


def ens_vote(model, params_list, X):
    """Averages one-hot votes of the members' argmax instead of their probabilities."""
    _no_members(params_list)
    with torch.no_grad():
        votes = []
        for p in params_list:
            logits = functional_call(model, p, (X,))
            votes.append(F.one_hot(logits.argmax(-1), logits.shape[-1]).float())
        return torch.stack(votes).mean(0)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ens_mean_logits, r"averaged logits", "basic"),
        (ens_with_grad, r"requires grad", "gradients"),
        (ens_loads_model, r"parameter '0\.weight' was changed", "no_mutation"),
        (ens_no_empty_check, r"raised ZeroDivisionError", "errors"),
        (ens_log_probs, r"differs in", "basic"),
        (ens_sum, r"sum of the 2 members' probabilities", "basic"),
        (ens_softmax_dim0, r"softmax runs over the examples", "basic"),
        (ens_eval_mode, r"switched to eval mode", "no_mutation"),
        (ens_float64_out, r"dtype torch\.float64, expected torch\.float32", "basic"),
        (ens_vote, r"differs in", "basic"),
        (ens_freezes_model, r"requires_grad changed from True to False", "no_mutation"),
    ],
)
def test_ensemble_probs_wrong(fn, match, part):
    assert_fails("ensemble_probs", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [ens_deepcopy, ens_logsumexp, ens_numpy, ens_float64_cast_back])
def test_ensemble_probs_alternatives(fn):
    assert_passes_all("ensemble_probs", fn)
