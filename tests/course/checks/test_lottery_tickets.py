"""The hidden checks of notebook 03 grade well.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch

from autograder.checks import Build, Case, lookup, parts
from autograder.checks.call import run_case
from solutions import lottery_tickets as ref
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# helpers for the implementations below


def _check_fraction(fraction: float, name: str = "fraction") -> None:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {fraction}")


def _count(n: int, fraction: float, name: str = "fraction") -> int:
    """prune_count with its validation, for the implementations below."""
    _check_fraction(fraction, name)
    return math.floor(fraction * n + 0.5)


def _keep_from_order(numel: int, order: list[int], num_prune: int) -> torch.Tensor:
    keep = torch.ones(numel, dtype=torch.bool)
    for i in order[:num_prune]:
        keep[i] = False
    return keep


# ---------------------------------------------------------------------------------------------
# prune_count


def count_bankers(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return round(fraction * n)


def count_decimal_str(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    exact = Decimal(str(fraction)) * n
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def count_exact_rational(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return math.floor(Fraction(fraction) * n + Fraction(1, 2))


def count_truncate(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return int(fraction * n)


def count_float_result(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return float(np.floor(fraction * n + 0.5))


def count_no_validation(n, fraction):
    return math.floor(fraction * n + 0.5)


def count_alt(n, fraction):
    """Correct: int() truncation of a non-negative float is floor."""
    if n < 0 or not (0 <= fraction <= 1):
        raise ValueError(f"bad n={n} or fraction={fraction}")
    return int(fraction * n + 0.5)


def count_via_floordiv(n, fraction):
    """Correct: (2x + 1) // 2 in floats (scaling by 2 is exact, so it is floor(x + 0.5))."""
    if isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    _check_fraction(fraction)
    return int((2.0 * (fraction * n) + 1.0) // 2.0)


def count_numpy_int(n, fraction):
    """Correct: numpy float64 arithmetic, returned as a numpy int64."""
    if n < 0:
        raise ValueError("n must be non-negative")
    f = np.float64(fraction)
    if not 0 <= f <= 1:
        raise ValueError("fraction must be in [0, 1]")
    return np.int64(np.floor(f * np.float64(n) + 0.5))


def count_torch_float64(n, fraction):
    """Correct: float64 torch arithmetic, returned as a 0-d int64 tensor."""
    if n < 0 or fraction < 0 or fraction > 1:
        raise ValueError(f"invalid n={n} or fraction={fraction}")
    x = torch.tensor(fraction, dtype=torch.float64) * n
    return torch.floor(x + 0.5).to(torch.int64)


def count_floor_plus_one(n, fraction):
    """Correct: floor(x), plus one when the float x + 0.5 reaches the next integer."""
    if n < 0:
        raise ValueError("n < 0")
    _check_fraction(fraction)
    x = fraction * n
    base = math.floor(x)
    return base + 1 if x + 0.5 >= base + 1 else base


def count_halves_down(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return math.ceil(fraction * n - 0.5)


def count_float32(n, fraction):
    """torch.tensor(fraction) is float32: 0.58 becomes 0.5799999833 and 0.58 * 25 rounds up."""
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return int(torch.floor(torch.tensor(fraction) * n + 0.5))


def count_open_interval(n, fraction):
    if n < 0 or not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1)")
    return math.floor(fraction * n + 0.5)


def count_ceil(n, fraction):
    _check_fraction(fraction)
    if n < 0:
        raise ValueError("n must be >= 0")
    return math.ceil(fraction * n)


# ---------------------------------------------------------------------------------------------
# magnitude_mask


def mm_largest(weights, fraction):
    _check_fraction(fraction)
    k = ref.prune_count(weights.numel(), fraction)
    order = torch.argsort(weights.abs().flatten(), descending=True, stable=True)
    return _keep_from_order(weights.numel(), order.tolist(), k).reshape(weights.shape)


def mm_keeps_count(weights, fraction):
    _check_fraction(fraction)
    n = weights.numel()
    k = n - ref.prune_count(n, fraction)
    order = torch.argsort(weights.abs().flatten(), stable=True)
    return _keep_from_order(n, order.tolist(), k).reshape(weights.shape)


def mm_no_abs(weights, fraction):
    _check_fraction(fraction)
    k = ref.prune_count(weights.numel(), fraction)
    order = torch.argsort(weights.flatten(), stable=True)
    return _keep_from_order(weights.numel(), order.tolist(), k).reshape(weights.shape)


def mm_ties_reversed(weights, fraction):
    _check_fraction(fraction)
    n = weights.numel()
    k = ref.prune_count(n, fraction)
    mags = weights.abs().flatten().tolist()
    order = sorted(range(n), key=lambda i: (mags[i], -i))
    return _keep_from_order(n, order, k).reshape(weights.shape)


def mm_column_major(weights, fraction):
    """Ties broken in column-major order (flattening the transpose)."""
    _check_fraction(fraction)
    if weights.dim() != 2:
        return ref.magnitude_mask(weights, fraction)
    k = ref.prune_count(weights.numel(), fraction)
    t = weights.t().contiguous()
    order = torch.argsort(t.abs().flatten(), stable=True)
    keep_t = _keep_from_order(t.numel(), order.tolist(), k).reshape(t.shape)
    return keep_t.t().contiguous()


def mm_threshold(weights, fraction):
    """Prunes everything at or below the k-th smallest magnitude: too many on ties."""
    _check_fraction(fraction)
    k = ref.prune_count(weights.numel(), fraction)
    if k == 0:
        return torch.ones_like(weights, dtype=torch.bool)
    threshold = weights.abs().flatten().kthvalue(k).values
    return weights.abs() > threshold


def mm_float_mask(weights, fraction):
    return ref.magnitude_mask(weights, fraction).float()


def mm_in_place(weights, fraction):
    _check_fraction(fraction)
    weights.abs_()
    return ref.magnitude_mask(weights, fraction)


def mm_no_validation(weights, fraction):
    k = math.floor(fraction * weights.numel() + 0.5)
    order = torch.argsort(weights.abs().flatten(), stable=True)
    return _keep_from_order(weights.numel(), order.tolist(), k).reshape(weights.shape)


def mm_banker(weights, fraction):
    _check_fraction(fraction)
    k = round(fraction * weights.numel())
    order = torch.argsort(weights.abs().flatten(), stable=True)
    return _keep_from_order(weights.numel(), order.tolist(), k).reshape(weights.shape)


def mm_alt_python(weights, fraction):
    """Correct: pure Python sort of (magnitude, index) pairs."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be in [0, 1]")
    values = weights.detach().flatten().tolist()
    k = math.floor(fraction * len(values) + 0.5)
    pruned = {i for _, i in sorted((abs(v), i) for i, v in enumerate(values))[:k]}
    keep = [i not in pruned for i in range(len(values))]
    return torch.tensor(keep, dtype=torch.bool).reshape(weights.shape)


def mm_alt_numpy(weights, fraction):
    """Correct: numpy's stable argsort in float64."""
    if fraction < 0 or fraction > 1:
        raise ValueError("fraction out of range")
    mags = np.abs(weights.detach().numpy().astype(np.float64)).ravel()
    k = math.floor(fraction * mags.size + 0.5)
    keep = np.ones(mags.size, dtype=bool)
    keep[np.argsort(mags, kind="stable")[:k]] = False
    return torch.from_numpy(keep.reshape(tuple(weights.shape)))


def mm_alt_kthvalue(weights, fraction):
    """Correct: kthvalue threshold; below it pruned, ties at it pruned in flat order (cumsum)."""
    flat = weights.detach().flatten().abs().double()
    k = _count(flat.numel(), fraction)
    if k == 0:
        return torch.ones(weights.shape, dtype=torch.bool)
    t = torch.kthvalue(flat, k).values
    below = flat < t
    at = flat == t
    prune = below | (at & (torch.cumsum(at.long(), 0) <= k - int(below.sum())))
    return (~prune).reshape(weights.shape)


def mm_alt_sort_scatter(weights, fraction):
    """Correct: torch.sort(stable=True), then a scatter of False into an all-True mask."""
    flat = weights.detach().reshape(-1).abs()
    k = _count(flat.numel(), fraction)
    _, idx = torch.sort(flat, stable=True)
    keep = torch.ones(flat.numel(), dtype=torch.bool).scatter(0, idx[:k], False)
    return keep.view(weights.shape)


def mm_alt_lexsort_rank(weights, fraction):
    """Correct: numpy lexsort on (flat index, magnitude); an entry's rank decides."""
    mags = np.abs(weights.detach().cpu().numpy().astype(np.float64).ravel())
    k = _count(mags.size, fraction)
    order = np.lexsort((np.arange(mags.size), mags))
    rank = np.empty(mags.size, dtype=np.int64)
    rank[order] = np.arange(mags.size)
    return torch.as_tensor(rank >= k).reshape(weights.shape)


def mm_alt_quantile(weights, fraction):
    """Correct: the k-th smallest as a 'nearest' quantile; ties at it pruned in flat order."""
    flat = weights.detach().flatten().abs().to(torch.float64)
    n = flat.numel()
    k = _count(n, fraction)
    keep = torch.ones(n, dtype=torch.bool)
    if k == 0:
        return keep.reshape(weights.shape)
    q = (k - 1) / (n - 1) if n > 1 else 0.0
    t = torch.quantile(flat, q, interpolation="nearest")
    keep[flat < t] = False
    ties = (flat == t).nonzero().flatten()
    keep[ties[: k - int((flat < t).sum())]] = False
    return keep.reshape(weights.shape)


def mm_alt_topk_key(weights, fraction):
    """Correct: torch.topk on an exact integer key (magnitude rank * n + index): no ties left."""
    flat = weights.detach().flatten().abs().double()
    n = flat.numel()
    k = _count(n, fraction)
    _, inverse = torch.unique(flat, sorted=True, return_inverse=True)
    key = inverse.to(torch.int64) * n + torch.arange(n)
    keep = torch.ones(n, dtype=torch.bool)
    if k:
        keep[torch.topk(key, k, largest=False).indices] = False
    return keep.reshape(weights.shape)


def mm_quantile(weights, fraction):
    """torch.quantile interpolates between magnitudes and ignores prune_count."""
    _check_fraction(fraction)
    threshold = torch.quantile(weights.abs().flatten().float(), fraction)
    return weights.abs() > threshold


def mm_threshold_keeps_ties(weights, fraction):
    """Keeps everything at or above the k-th smallest magnitude: too few pruned."""
    k = _count(weights.numel(), fraction)
    if k == 0:
        return torch.ones_like(weights, dtype=torch.bool)
    return weights.abs() >= weights.abs().flatten().kthvalue(k).values


def mm_per_row(weights, fraction):
    """Prunes a fraction of every row instead of the whole tensor."""
    rows = weights.reshape(weights.shape[0], -1) if weights.dim() > 1 else weights.reshape(1, -1)
    keeps = []
    for row in rows:
        keep = torch.ones(row.numel(), dtype=torch.bool)
        keep[torch.argsort(row.abs(), stable=True)[: _count(row.numel(), fraction)]] = False
        keeps.append(keep)
    return torch.stack(keeps).reshape(weights.shape)


def mm_keep_complement(weights, fraction):
    """Counts the kept entries with prune_count(n, 1 - fraction): halves go the other way."""
    n = weights.numel()
    k = n - _count(n, 1 - fraction)
    keep = torch.ones(n, dtype=torch.bool)
    keep[torch.argsort(weights.abs().flatten(), stable=True)[:k]] = False
    return keep.reshape(weights.shape)


def mm_descending_keep(weights, fraction):
    """Keeps the first n - k of a stable descending sort: ties prune the HIGHER index first."""
    n = weights.numel()
    k = _count(n, fraction)
    keep = torch.zeros(n, dtype=torch.bool)
    keep[torch.argsort(weights.abs().flatten(), descending=True, stable=True)[: n - k]] = True
    return keep.reshape(weights.shape)


def mm_int_mask(weights, fraction):
    n = weights.numel()
    keep = torch.ones(n, dtype=torch.int64)
    keep[torch.argsort(weights.abs().flatten(), stable=True)[: _count(n, fraction)]] = 0
    return keep.reshape(weights.shape)


def mm_numpy_result(weights, fraction):
    mags = np.abs(weights.numpy()).ravel()
    keep = np.ones(mags.size, dtype=bool)
    keep[np.argsort(mags, kind="stable")[: _count(mags.size, fraction)]] = False
    return keep.reshape(tuple(weights.shape))


def mm_float32_ranking(weights, fraction):
    """Ranks float32 copies: float64 magnitudes closer than float32 precision become ties."""
    mags = np.abs(np.array(weights.flatten().tolist(), dtype=np.float32))
    keep = np.ones(mags.size, dtype=bool)
    keep[np.argsort(mags, kind="stable")[: _count(mags.size, fraction)]] = False
    return torch.from_numpy(keep).reshape(weights.shape)


# ---------------------------------------------------------------------------------------------
# prune_remaining


def _check_mask_shape(weights, mask):
    if mask.shape != weights.shape:
        raise ValueError("mask must have the shape of weights")


def pr_numel_count(weights, mask, fraction):
    _check_fraction(fraction)
    _check_mask_shape(weights, mask)
    k = ref.prune_count(weights.numel(), fraction)
    kept = mask.flatten().nonzero().flatten().tolist()
    mags = weights.abs().flatten().tolist()
    order = sorted(kept, key=lambda i: (mags[i], i))
    return _keep_from_order(weights.numel(), order, k).reshape(weights.shape) & mask


def pr_masked_weights(weights, mask, fraction):
    """Ranks weights * mask over all entries: the zeros of pruned entries count again."""
    _check_fraction(fraction)
    _check_mask_shape(weights, mask)
    k = ref.prune_count(int(mask.sum()), fraction)
    masked = (weights * mask).abs().flatten()
    order = torch.argsort(masked, stable=True).tolist()
    return _keep_from_order(weights.numel(), order, k).reshape(weights.shape) & mask


def pr_not_subset(weights, mask, fraction):
    """Prunes among the kept entries but forgets the entries pruned before."""
    _check_fraction(fraction)
    _check_mask_shape(weights, mask)
    k = ref.prune_count(int(mask.sum()), fraction)
    kept = mask.flatten().nonzero().flatten().tolist()
    mags = weights.abs().flatten().tolist()
    order = sorted(kept, key=lambda i: (mags[i], i))
    return _keep_from_order(weights.numel(), order, k).reshape(weights.shape)


def pr_in_place(weights, mask, fraction):
    result = ref.prune_remaining(weights, mask, fraction)
    mask.copy_(result)
    return mask.clone()


def pr_ties_reversed(weights, mask, fraction):
    _check_fraction(fraction)
    _check_mask_shape(weights, mask)
    k = ref.prune_count(int(mask.sum()), fraction)
    kept = mask.flatten().nonzero().flatten().tolist()
    mags = weights.abs().flatten().tolist()
    order = sorted(kept, key=lambda i: (mags[i], -i))
    return _keep_from_order(weights.numel(), order, k).reshape(weights.shape) & mask


def pr_no_shape_check(weights, mask, fraction):
    _check_fraction(fraction)
    mask = mask.reshape(weights.shape)
    return ref.prune_remaining(weights, mask, fraction)


def pr_alt(weights, mask, fraction):
    """Correct: push pruned entries to +inf and reuse a stable sort over all entries."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction")
    if weights.shape != mask.shape:
        raise ValueError("mask shape")
    mags = torch.where(mask, weights.abs().double(), torch.tensor(math.inf, dtype=torch.float64))
    k = math.floor(fraction * int(mask.sum()) + 0.5)
    order = torch.argsort(mags.flatten(), stable=True)
    keep = mask.flatten().clone()
    keep[order[:k]] = False
    return keep.reshape(mask.shape)


def pr_alt_masked_select(weights, mask, fraction):
    """Correct: rank masked_select-ed magnitudes, write the result back with masked_scatter."""
    _check_mask_shape(weights, mask)
    kept_mags = torch.masked_select(weights.detach().abs().double(), mask)
    sub_keep = torch.ones(kept_mags.numel(), dtype=torch.bool)
    sub_keep[torch.argsort(kept_mags, stable=True)[: _count(kept_mags.numel(), fraction)]] = False
    return torch.zeros_like(mask).masked_scatter(mask, sub_keep)


def pr_alt_python(weights, mask, fraction):
    """Correct: pure Python over sorted (magnitude, index) pairs of the kept entries."""
    _check_mask_shape(weights, mask)
    values = weights.detach().reshape(-1).tolist()
    kept = mask.reshape(-1).tolist()
    candidates = sorted((abs(v), i) for i, (v, k) in enumerate(zip(values, kept)) if k)
    out = list(kept)
    for _, i in candidates[: _count(len(candidates), fraction)]:
        out[i] = False
    return torch.tensor(out, dtype=torch.bool).reshape(mask.shape)


def pr_alt_kthvalue(weights, mask, fraction):
    """Correct: pruned entries set to +inf, kthvalue threshold, ties at it pruned in flat order."""
    _check_mask_shape(weights, mask)
    flat_mask = mask.flatten()
    inf = torch.full((flat_mask.numel(),), math.inf, dtype=torch.float64)
    mags = torch.where(flat_mask, weights.detach().flatten().abs().double(), inf)
    k = _count(int(flat_mask.sum()), fraction)
    if k == 0:
        return mask.clone()
    t = mags.kthvalue(k).values
    below = mags < t
    at = (mags == t) & flat_mask
    prune = below | (at & (at.cumsum(0) <= k - int(below.sum())))
    return (flat_mask & ~prune).reshape(mask.shape)


def pr_alt_numpy(weights, mask, fraction):
    """Correct: numpy flatnonzero of the kept entries, stable argsort of their magnitudes."""
    _check_mask_shape(weights, mask)
    mags = np.abs(weights.detach().numpy().astype(np.float64)).ravel()
    keep = mask.numpy().ravel().copy()
    idx = np.flatnonzero(keep)
    keep[idx[np.argsort(mags[idx], kind="stable")[: _count(idx.size, fraction)]]] = False
    return torch.from_numpy(keep).reshape(mask.shape)


def pr_cumulative_target(weights, mask, fraction):
    """Prunes up to a cumulative target: prune_count(numel) minus the entries already pruned."""
    _check_mask_shape(weights, mask)
    k = max(0, _count(weights.numel(), fraction) - int((~mask).sum()))
    mags = torch.where(mask, weights.abs(), torch.tensor(math.inf))
    keep = mask.flatten().clone()
    keep[torch.argsort(mags.flatten(), stable=True)[:k]] = False
    return keep.reshape(mask.shape)


def pr_strict_threshold(weights, mask, fraction):
    """Prunes every kept entry at or below the k-th smallest kept magnitude: too many on ties."""
    _check_mask_shape(weights, mask)
    kept = weights.abs()[mask]
    k = _count(kept.numel(), fraction)
    if k == 0:
        return mask.clone()
    return mask & (weights.abs() > kept.kthvalue(k).values)


def pr_fresh_mask(weights, mask, fraction):
    """Ignores the mask when ranking: a fresh magnitude mask with the kept entries' count."""
    _check_mask_shape(weights, mask)
    keep = torch.ones(weights.numel(), dtype=torch.bool)
    order = torch.argsort(weights.abs().flatten(), stable=True)
    keep[order[: _count(int(mask.sum()), fraction)]] = False
    return keep.reshape(weights.shape)


def pr_signed(weights, mask, fraction):
    """Ranks the signed weights: large negative weights are pruned first."""
    _check_mask_shape(weights, mask)
    values = torch.where(mask, weights, torch.tensor(math.inf))
    keep = mask.flatten().clone()
    keep[torch.argsort(values.flatten(), stable=True)[: _count(int(mask.sum()), fraction)]] = False
    return keep.reshape(mask.shape)


def pr_float_mask(weights, mask, fraction):
    return pr_alt_numpy(weights, mask, fraction).float()


# ---------------------------------------------------------------------------------------------
# global_prune


def _check_global(params, masks, fraction):
    _check_fraction(fraction)
    for key, mask in masks.items():
        if key not in params:
            raise ValueError(f"mask key {key!r} not in params")
        if mask.shape != params[key].shape:
            raise ValueError(f"masks[{key!r}] has the wrong shape")


def gp_layerwise(params, masks, fraction):
    _check_global(params, masks, fraction)
    return {k: ref.prune_remaining(params[k], m, fraction) for k, m in masks.items()}


def gp_all_params(params, masks, fraction):
    """Ranks every tensor of params, biases included (all-True masks for them)."""
    _check_global(params, masks, fraction)
    full = {k: masks.get(k, torch.ones(v.shape, dtype=torch.bool)) for k, v in params.items()}
    return ref.global_prune(params, full, fraction)


def gp_params_order(params, masks, fraction):
    """Breaks ties by the order of params instead of masks."""
    _check_global(params, masks, fraction)
    ordered = {k: masks[k] for k in params if k in masks}
    return ref.global_prune(params, ordered, fraction)


def gp_ignores_mask(params, masks, fraction):
    """Ranks all entries, pruned ones included, and counts all of them."""
    _check_global(params, masks, fraction)
    full = {k: torch.ones_like(m) for k, m in masks.items()}
    pruned = ref.global_prune(params, full, fraction)
    return {k: pruned[k] & masks[k] for k in masks}


def gp_no_key_check(params, masks, fraction):
    _check_fraction(fraction)
    present = {k: m for k, m in masks.items() if k in params}
    return ref.global_prune(params, present, fraction)


def gp_in_place(params, masks, fraction):
    result = ref.global_prune(params, masks, fraction)
    for key, mask in masks.items():
        mask &= result[key]
    return result


def gp_alt(params, masks, fraction):
    """Correct: a pure Python sort of (magnitude, key order, flat index) triples."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be in [0, 1]")
    entries = []
    for order, (key, mask) in enumerate(masks.items()):
        if key not in params or params[key].shape != mask.shape:
            raise ValueError(f"masks[{key!r}] does not fit params")
        values = params[key].detach().flatten().tolist()
        for i, (value, kept) in enumerate(zip(values, mask.flatten().tolist())):
            if kept:
                entries.append((abs(value), order, i, key))
    k = math.floor(fraction * len(entries) + 0.5)
    result = {key: mask.flatten().clone() for key, mask in masks.items()}
    for _, _, i, key in sorted(entries)[:k]:
        result[key][i] = False
    return {key: result[key].reshape(mask.shape) for key, mask in masks.items()}


def _joint_split(masks, flat):
    """Split one flat bool vector (keys of masks in order) back into per-key masks."""
    sizes = [m.numel() for m in masks.values()]
    return {k: part.reshape(m.shape) for (k, m), part in zip(masks.items(), flat.split(sizes))}


def _joint(params, masks):
    """Flat magnitudes (pruned entries +inf) and flat masks over the keys of masks, in order."""
    mags = torch.cat([params[k].detach().flatten().abs().double() for k in masks])
    kept = torch.cat([m.flatten() for m in masks.values()])
    return torch.where(kept, mags, torch.tensor(math.inf, dtype=torch.float64)), kept


def gp_alt_kthvalue(params, masks, fraction):
    """Correct: one flat vector over all masks, kthvalue + tie cumsum; returns an OrderedDict."""
    _check_global(params, masks, fraction)
    if not masks:
        return OrderedDict()
    mags, kept = _joint(params, masks)
    k = _count(int(kept.sum()), fraction)
    new = kept.clone()
    if k:
        t = mags.kthvalue(k).values
        below = mags < t
        at = (mags == t) & kept
        new &= ~(below | (at & (at.cumsum(0) <= k - int(below.sum()))))
    return OrderedDict(_joint_split(masks, new))


def gp_alt_lexsort_reversed(params, masks, fraction):
    """Correct: numpy lexsort on (index, key position, magnitude); dict built in reverse order."""
    _check_global(params, masks, fraction)
    mags, pos, idx, owner = [], [], [], []
    for p, (key, mask) in enumerate(masks.items()):
        w = np.abs(params[key].detach().numpy().astype(np.float64)).ravel()
        sel = np.flatnonzero(mask.numpy().ravel())
        mags.append(w[sel])
        idx.append(sel)
        pos.append(np.full(sel.size, p))
        owner += [key] * sel.size
    pruned = {key: [] for key in masks}
    if owner:
        mags, pos, idx = np.concatenate(mags), np.concatenate(pos), np.concatenate(idx)
        for j in np.lexsort((idx, pos, mags))[: _count(len(owner), fraction)]:
            pruned[owner[j]].append(int(idx[j]))
    out = {}
    for key in reversed(list(masks)):
        flat = masks[key].flatten().clone()
        flat[torch.tensor(pruned[key], dtype=torch.long)] = False
        out[key] = flat.view(masks[key].shape)
    return out


def gp_alt_heapq(params, masks, fraction):
    """Correct: heapq.nsmallest over (magnitude, key position, flat index) of kept entries."""
    _check_global(params, masks, fraction)
    entries = []
    for p, (key, mask) in enumerate(masks.items()):
        w = params[key].detach().reshape(-1).double().abs().tolist()
        entries += [(w[i], p, i, key) for i, kept in enumerate(mask.reshape(-1).tolist()) if kept]
    result = {key: mask.clone().reshape(-1) for key, mask in masks.items()}
    for _, _, i, key in heapq.nsmallest(_count(len(entries), fraction), entries):
        result[key][i] = False
    return {key: result[key].reshape(masks[key].shape) for key in masks}


def gp_alt_one_tensor(params, masks, fraction):
    """Correct: concatenate the tensors in masks order and take one single-tensor IMP step."""
    _check_global(params, masks, fraction)
    if not masks:
        return {}
    weights = torch.cat([params[k].detach().double().flatten() for k in masks])
    kept = torch.cat([m.flatten() for m in masks.values()])
    return _joint_split(masks, pr_alt_masked_select(weights, kept, fraction))


def gp_total_numel(params, masks, fraction):
    """Counts prune_count over all entries, pruned ones too, but prunes among the kept ones."""
    _check_global(params, masks, fraction)
    mags, kept = _joint(params, masks)
    k = min(_count(kept.numel(), fraction), int(kept.sum()))
    new = kept.clone()
    new[torch.argsort(mags, stable=True)[:k]] = False
    return _joint_split(masks, new)


def gp_signed(params, masks, fraction):
    """Ranks signed weights instead of magnitudes."""
    _check_global(params, masks, fraction)
    _, kept = _joint(params, masks)
    values = torch.cat([params[k].detach().flatten().double() for k in masks])
    values = torch.where(kept, values, torch.tensor(math.inf, dtype=torch.float64))
    new = kept.clone()
    new[torch.argsort(values, stable=True)[: _count(int(kept.sum()), fraction)]] = False
    return _joint_split(masks, new)


def gp_sorted_keys(params, masks, fraction):
    """Breaks ties by the alphabetical order of the keys."""
    _check_global(params, masks, fraction)
    return ref.global_prune(params, {k: masks[k] for k in sorted(masks)}, fraction)


def gp_strict_threshold(params, masks, fraction):
    """Prunes every kept entry at or below the k-th smallest kept magnitude: too many on ties."""
    _check_global(params, masks, fraction)
    kept = torch.cat([params[k].detach().abs()[m] for k, m in masks.items()])
    k = _count(kept.numel(), fraction)
    if k == 0:
        return {key: m.clone() for key, m in masks.items()}
    t = kept.kthvalue(k).values
    return {key: m & (params[key].abs() > t) for key, m in masks.items()}


def gp_sum_of_layer_counts(params, masks, fraction):
    """Rounds the count per layer and sums, then ranks globally: too many pruned on halves."""
    _check_global(params, masks, fraction)
    mags, kept = _joint(params, masks)
    k = sum(_count(int(m.sum()), fraction) for m in masks.values())
    new = kept.clone()
    new[torch.argsort(mags, stable=True)[:k]] = False
    return _joint_split(masks, new)


def gp_list_result(params, masks, fraction):
    result = ref.global_prune(params, masks, fraction)
    return [result[k] for k in masks]


# ---------------------------------------------------------------------------------------------
# imp_sparsity and rounds_to_reach


def sparsity_remaining(fraction, rounds):
    _check_fraction(fraction)
    return (1 - fraction) ** rounds


def sparsity_linear(fraction, rounds):
    _check_fraction(fraction)
    return min(1.0, fraction * rounds)


def sparsity_no_validation(fraction, rounds):
    return 1 - (1 - fraction) ** rounds


def sparsity_alt(fraction, rounds):
    """Correct: a loop in float32 torch, returned as a 0-d tensor."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be in [0, 1]")
    remaining = torch.tensor(1.0)
    for _ in range(rounds):
        remaining = remaining * (1 - fraction)
    return 1 - remaining


def sparsity_alt_expm1(fraction, rounds):
    """Correct: -expm1(rounds * log1p(-fraction)), with fraction 1 handled apart."""
    _check_fraction(fraction)
    if fraction == 1:
        return 0.0 if rounds == 0 else 1.0
    return -math.expm1(rounds * math.log1p(-fraction))


def sparsity_alt_numpy(fraction, rounds):
    """Correct: numpy float64 power, returned as a numpy scalar."""
    f = np.float64(fraction)
    if f < 0 or f > 1:
        raise ValueError(f"fraction {fraction} outside [0, 1]")
    return np.float64(1.0) - np.power(1.0 - f, rounds)


def sparsity_alt_while(fraction, rounds):
    """Correct: a while loop pruning a fraction of what is left, round by round."""
    _check_fraction(fraction)
    remaining, r = 1.0, 0
    while r < rounds:
        remaining -= fraction * remaining
        r += 1
    return 1.0 - remaining


def sparsity_alt_tensor_item(fraction, rounds):
    """Correct: float64 torch, returned with .item()."""
    _check_fraction(fraction)
    keep = torch.tensor(1.0 - fraction, dtype=torch.float64)
    return (1 - keep.pow(rounds)).item()


def sparsity_off_by_one(fraction, rounds):
    _check_fraction(fraction)
    return 1 - (1 - fraction) ** max(rounds - 1, 0)


def sparsity_fraction_power(fraction, rounds):
    _check_fraction(fraction)
    return fraction**rounds


def sparsity_rounded_counts(fraction, rounds):
    """Simulates rounds on 100 weights with prune_count; the schedule is the continuous one."""
    _check_fraction(fraction)
    kept = 100
    for _ in range(rounds):
        kept -= _count(kept, fraction)
    return 1 - kept / 100


def sparsity_open_interval(fraction, rounds):
    if not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1)")
    return 1 - (1 - fraction) ** rounds


def _check_rounds_args(fraction, target):
    if not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1)")
    if not 0 <= target < 1:
        raise ValueError("target_sparsity must be in [0, 1)")


def rounds_log(fraction, target_sparsity):
    _check_rounds_args(fraction, target_sparsity)
    return max(0, math.ceil(math.log(1 - target_sparsity) / math.log(1 - fraction)))


def rounds_no_tolerance(fraction, target_sparsity):
    _check_rounds_args(fraction, target_sparsity)
    r = 0
    while 1 - (1 - fraction) ** r < target_sparsity:
        r += 1
    return r


def rounds_float(fraction, target_sparsity):
    return float(ref.rounds_to_reach(fraction, target_sparsity))


def rounds_no_target_check(fraction, target_sparsity):
    if not 0 < fraction < 1:
        raise ValueError("fraction must be in (0, 1)")
    r = 0
    while 1 - (1 - fraction) ** r < target_sparsity - 1e-12:
        r += 1
        if r > 10_000:
            break
    return r


def rounds_alt(fraction, target_sparsity):
    """Correct: the definition, looped directly."""
    if not (0 < fraction < 1) or not (0 <= target_sparsity < 1):
        raise ValueError(f"bad fraction {fraction} or target_sparsity {target_sparsity}")
    r = 0
    while 1.0 - (1.0 - fraction) ** r < target_sparsity - 1e-12:
        r += 1
    return r


def rounds_alt_log_corrected(fraction, target_sparsity):
    """Correct: ceil of a numpy log ratio, then stepped down and up against the definition."""
    _check_rounds_args(fraction, target_sparsity)
    goal = target_sparsity - 1e-12

    def sparsity(r):
        return 1.0 - (1.0 - fraction) ** r

    r = max(0, int(np.ceil(np.log(1 - target_sparsity) / np.log(1 - fraction))))
    while r > 0 and sparsity(r - 1) >= goal:
        r -= 1
    while sparsity(r) < goal:
        r += 1
    return r


def rounds_alt_bisect(fraction, target_sparsity):
    """Correct: doubling, then bisection on the monotone schedule."""
    if not (0 < fraction < 1 and 0 <= target_sparsity < 1):
        raise ValueError(f"bad fraction {fraction!r} or target_sparsity {target_sparsity!r}")

    def reached(r):
        return 1 - (1 - fraction) ** r >= target_sparsity - 1e-12

    if reached(0):
        return 0
    hi = 1
    while not reached(hi):
        hi *= 2
    lo = hi // 2  # not reached
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi


def rounds_alt_count(fraction, target_sparsity):
    """Correct: itertools.count with math.pow; returns a numpy int64."""
    if fraction <= 0 or fraction >= 1:
        raise ValueError("fraction must be strictly between 0 and 1")
    if target_sparsity < 0 or target_sparsity >= 1:
        raise ValueError("target_sparsity must be in [0, 1)")
    for r in itertools.count():
        if 1.0 - math.pow(1.0 - fraction, r) >= target_sparsity - 1e-12:
            return np.int64(r)
    raise AssertionError("unreachable")


def rounds_floor_plus_one(fraction, target_sparsity):
    _check_rounds_args(fraction, target_sparsity)
    return math.floor(math.log(1 - target_sparsity) / math.log(1 - fraction)) + 1


def rounds_nearest(fraction, target_sparsity):
    _check_rounds_args(fraction, target_sparsity)
    return round(math.log(1 - target_sparsity) / math.log(1 - fraction))


def rounds_from_one(fraction, target_sparsity):
    """Starts counting at one round: a target of 0 needs none."""
    _check_rounds_args(fraction, target_sparsity)
    r = 1
    while 1 - (1 - fraction) ** r < target_sparsity - 1e-12:
        r += 1
    return r


def rounds_strictly_above(fraction, target_sparsity):
    """Waits until the sparsity strictly exceeds the target."""
    _check_rounds_args(fraction, target_sparsity)
    r = 0
    while 1 - (1 - fraction) ** r <= target_sparsity:
        r += 1
    return r


def rounds_closed_fraction(fraction, target_sparsity):
    """Accepts fraction 0 and 1; with fraction 0 a capped loop returns its cap."""
    if not 0 <= fraction <= 1 or not 0 <= target_sparsity < 1:
        raise ValueError("bad fraction or target_sparsity")
    r = 0
    while 1 - (1 - fraction) ** r < target_sparsity - 1e-12 and r < 1000:
        r += 1
    return r


def rounds_isclose(fraction, target_sparsity):
    """Counts math.isclose(sparsity, target) as reached: relative slack 1e-9, no absolute one."""
    _check_rounds_args(fraction, target_sparsity)
    r = 0
    while True:
        sparsity = 1 - (1 - fraction) ** r
        if sparsity >= target_sparsity or math.isclose(sparsity, target_sparsity):
            return r
        r += 1


def rounds_np_isclose(fraction, target_sparsity):
    """Counts np.isclose(sparsity, target) as reached: slack 1e-8 + 1e-5 * target."""
    _check_rounds_args(fraction, target_sparsity)
    r = 0
    while True:
        sparsity = 1 - (1 - fraction) ** r
        if sparsity >= target_sparsity or np.isclose(sparsity, target_sparsity):
            return r
        r += 1


# ---------------------------------------------------------------------------------------------
# rewind


def _check_rewind(init_params, masks):
    for key, mask in masks.items():
        if key not in init_params:
            raise ValueError(f"mask key {key!r} not in init_params")
        if mask.shape != init_params[key].shape:
            raise ValueError(f"masks[{key!r}] has the wrong shape")


def rewind_shares(init_params, masks):
    _check_rewind(init_params, masks)
    return {k: v * masks[k] if k in masks else v for k, v in init_params.items()}


def rewind_in_place(init_params, masks):
    _check_rewind(init_params, masks)
    for key, mask in masks.items():
        init_params[key].mul_(mask)
    return {k: v.clone() for k, v in init_params.items()}


def rewind_drops_keys(init_params, masks):
    _check_rewind(init_params, masks)
    return {k: init_params[k] * m for k, m in masks.items()}


def rewind_inverted(init_params, masks):
    _check_rewind(init_params, masks)
    return {k: v * ~masks[k] if k in masks else v.clone() for k, v in init_params.items()}


def rewind_float32(init_params, masks):
    _check_rewind(init_params, masks)
    return {k: (v * masks[k] if k in masks else v.clone()).float() for k, v in init_params.items()}


def rewind_skips_absent(init_params, masks):
    return {k: v * masks[k] if k in masks else v.clone() for k, v in init_params.items()}


def rewind_alt(init_params, masks):
    """Correct: torch.where into new tensors."""
    for key in masks:
        if key not in init_params or masks[key].shape != init_params[key].shape:
            raise ValueError(f"masks[{key!r}] does not fit init_params")
    return {
        k: torch.where(masks[k], v, torch.zeros_like(v)) if k in masks else v.detach().clone()
        for k, v in init_params.items()
    }


def rewind_alt_masked_fill(init_params, masks):
    """Correct: an OrderedDict of out-of-place masked_fill (masked keys) and clone (others)."""
    _check_rewind(init_params, masks)
    out = OrderedDict()
    for key, value in init_params.items():
        out[key] = value.masked_fill(~masks[key], 0) if key in masks else value.clone()
    return out


def rewind_alt_deepcopy(init_params, masks):
    """Correct: deepcopy the whole dict, then zero the pruned entries of the copy in place."""
    _check_rewind(init_params, masks)
    out = copy.deepcopy(dict(init_params))
    for key, mask in masks.items():
        out[key][~mask] = 0.0
    return out


def rewind_alt_multiply(init_params, masks):
    """Correct: times the mask cast to the params' dtype; keys visited in reverse order."""
    _check_rewind(init_params, masks)
    out = {}
    for key in reversed(list(init_params)):
        value = init_params[key].detach()
        out[key] = value * masks[key].to(value.dtype) if key in masks else value.clone()
    return out


def rewind_alt_numpy(init_params, masks):
    """Correct: np.where on numpy views, copied back with torch.tensor in the same dtype."""
    _check_rewind(init_params, masks)
    out = {}
    for key, value in init_params.items():
        arr = value.detach().numpy()
        if key in masks:
            arr = np.where(masks[key].numpy(), arr, np.zeros((), dtype=arr.dtype))
        out[key] = torch.tensor(arr, dtype=value.dtype)
    return out


def rewind_no_mask(init_params, masks):
    """Copies init_params but forgets to zero the pruned entries."""
    _check_rewind(init_params, masks)
    return {k: v.clone() for k, v in init_params.items()}


def rewind_no_shape_check(init_params, masks):
    for key in masks:
        if key not in init_params:
            raise ValueError(f"mask key {key!r} not in init_params")
    return {k: v * masks[k] if k in masks else v.clone() for k, v in init_params.items()}


def rewind_random_reinit(init_params, masks):
    """Random re-initialisation (the control experiment) instead of rewinding."""
    _check_rewind(init_params, masks)
    gen = torch.Generator().manual_seed(0)
    out = {}
    for k, v in init_params.items():
        fresh = torch.randn(v.shape, generator=gen, dtype=v.dtype) * v.std()
        out[k] = fresh * masks[k] if k in masks else fresh
    return out


# ---------------------------------------------------------------------------------------------
# iterative_magnitude_pruning


def _initial_masks(init_params):
    return {
        k: torch.ones(v.shape, dtype=torch.bool) for k, v in init_params.items() if v.dim() >= 2
    }


def imp_no_rewind(init_params, train_fn, rounds, fraction):
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    params = ref.rewind(init_params, masks)
    history = []
    for _ in range(rounds):
        params = train_fn(params, masks)
        masks = ref.global_prune(params, masks, fraction)
        params = ref.rewind(params, masks)  # keeps the trained weights: no rewinding
        history.append(masks)
    return history


def imp_prunes_biases(init_params, train_fn, rounds, fraction):
    _check_fraction(fraction)
    masks = {k: torch.ones(v.shape, dtype=torch.bool) for k, v in init_params.items()}
    history = []
    for _ in range(rounds):
        trained = train_fn(ref.rewind(init_params, masks), masks)
        masks = ref.global_prune(trained, masks, fraction)
        history.append(masks)
    return history


def imp_layerwise(init_params, train_fn, rounds, fraction):
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    history = []
    for _ in range(rounds):
        trained = train_fn(ref.rewind(init_params, masks), masks)
        masks = {k: ref.prune_remaining(trained[k], m, fraction) for k, m in masks.items()}
        history.append(masks)
    return history


def imp_extra_call(init_params, train_fn, rounds, fraction):
    history = ref.iterative_magnitude_pruning(init_params, train_fn, rounds, fraction)
    if history:
        train_fn(ref.rewind(init_params, history[-1]), history[-1])  # "final training"
    return history


def imp_wrong_masks_to_train_fn(init_params, train_fn, rounds, fraction):
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    history = []
    for _ in range(rounds):
        trained = train_fn(ref.rewind(init_params, masks), _initial_masks(init_params))
        masks = ref.global_prune(trained, masks, fraction)
        history.append(masks)
    return history


def imp_prunes_init(init_params, train_fn, rounds, fraction):
    """Calls train_fn but prunes by the initial magnitudes instead of the trained ones."""
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    history = []
    for _ in range(rounds):
        train_fn(ref.rewind(init_params, masks), masks)
        masks = ref.global_prune(init_params, masks, fraction)
        history.append(masks)
    return history


def imp_final_only(init_params, train_fn, rounds, fraction):
    history = ref.iterative_magnitude_pruning(init_params, train_fn, rounds, fraction)
    return history[-1] if history else {}


def imp_lazy_validation(init_params, train_fn, rounds, fraction):
    if rounds == 0:
        return []
    return ref.iterative_magnitude_pruning(init_params, train_fn, rounds, fraction)


def imp_rewinds_in_place(init_params, train_fn, rounds, fraction):
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    original = {k: v.clone() for k, v in init_params.items()}
    history = []
    for _ in range(rounds):
        for key, mask in masks.items():
            init_params[key].copy_(original[key] * mask)
        trained = train_fn(init_params, masks)
        masks = ref.global_prune(trained, masks, fraction)
        history.append(masks)
    return history


def imp_alt(init_params, train_fn, rounds, fraction):
    """Correct: written out with its own rewinding and a numpy global ranking."""
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be in [0, 1]")
    keys = [k for k, v in init_params.items() if v.dim() >= 2]
    masks = {k: torch.ones_like(init_params[k], dtype=torch.bool) for k in keys}
    history = []
    for _ in range(rounds):
        rewound = {
            k: (v * masks[k]).clone() if k in masks else v.clone() for k, v in init_params.items()
        }
        trained = train_fn(rewound, {k: m.clone() for k, m in masks.items()})
        mags = np.concatenate(
            [np.abs(trained[k].detach().numpy().astype(np.float64)).ravel() for k in keys]
        )
        kept = np.concatenate([masks[k].numpy().ravel() for k in keys])
        mags = np.where(kept, mags, np.inf)
        k_prune = math.floor(fraction * int(kept.sum()) + 0.5)
        flat = kept.copy()
        flat[np.argsort(mags, kind="stable")[:k_prune]] = False
        new_masks, start = {}, 0
        for k in keys:
            n = masks[k].numel()
            new_masks[k] = torch.from_numpy(flat[start : start + n].reshape(masks[k].shape))
            start += n
        masks = new_masks
        history.append(masks)
    return history


def _global_prune_n(trained, masks, num_prune):
    """Prune the `num_prune` smallest kept magnitudes jointly (stable, in masks order)."""
    weights = torch.cat([trained[k].detach().double().flatten() for k in masks])
    kept = torch.cat([m.flatten() for m in masks.values()])
    idx = kept.nonzero().flatten()
    new = kept.clone()
    new[idx[torch.argsort(weights[idx].abs(), stable=True)[:num_prune]]] = False
    return _joint_split(masks, new)


def _global_step(trained, masks, fraction):
    """A self-contained global prune of prune_count(total kept, fraction) entries."""
    kept = sum(int(m.sum()) for m in masks.values())
    return _global_prune_n(trained, masks, _count(kept, fraction))


def _rewound(init_params, masks):
    return {k: v * masks[k] if k in masks else v.clone() for k, v in init_params.items()}


def imp_alt_while_ordered(init_params, train_fn, rounds, fraction):
    """Correct: a while loop over OrderedDict masks, passed to train_fn as they are."""
    _check_fraction(fraction)
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    masks = OrderedDict(
        (k, torch.ones(v.shape, dtype=torch.bool)) for k, v in init_params.items() if v.ndim > 1
    )
    history, r = [], 0
    while r < rounds:
        rewound = OrderedDict(
            (k, v.masked_fill(~masks[k], 0) if k in masks else v.clone())
            for k, v in init_params.items()
        )
        trained = train_fn(rewound, masks)
        masks = OrderedDict(_global_step(trained, masks, fraction))
        history.append(masks)
        r += 1
    return history


def imp_alt_in_place_deepcopy(init_params, train_fn, rounds, fraction):
    """Correct: masks updated in place (&=), a deepcopy of them appended after every round."""
    _check_fraction(fraction)
    masks = {k: torch.ones_like(v).bool() for k, v in init_params.items() if len(v.shape) >= 2}
    history = []
    for _ in range(rounds):
        rewound = {k: v.detach().clone() for k, v in init_params.items()}
        for k, m in masks.items():
            rewound[k].mul_(m)
        trained = train_fn(rewound, copy.deepcopy(masks))
        new = _global_step(trained, masks, fraction)
        for k in masks:
            masks[k] &= new[k]
        history.append(copy.deepcopy(masks))
    return history


def imp_alt_lexsort(init_params, train_fn, rounds, fraction):
    """Correct: numpy lexsort on (flat index, key position, magnitude) for the global step."""
    _check_fraction(fraction)
    prunable = [k for k in init_params if init_params[k].dim() >= 2]
    masks = {k: torch.full(init_params[k].shape, True) for k in prunable}
    history = []
    for _ in range(rounds):
        zero = {k: torch.zeros((), dtype=init_params[k].dtype) for k in prunable}
        rewound = {
            k: torch.where(masks[k], v, zero[k]) if k in masks else v.clone()
            for k, v in init_params.items()
        }
        trained = train_fn(rewound, dict(masks))
        mags = np.concatenate(
            [np.abs(trained[k].detach().numpy().astype(np.float64)).ravel() for k in prunable]
        )
        pos = np.concatenate([np.full(masks[k].numel(), i) for i, k in enumerate(prunable)])
        flat_idx = np.concatenate([np.arange(masks[k].numel()) for k in prunable])
        kept = np.concatenate([masks[k].numpy().ravel() for k in prunable])
        cand = np.flatnonzero(kept)
        order = cand[np.lexsort((flat_idx[cand], pos[cand], mags[cand]))]
        kept[order[: _count(cand.size, fraction)]] = False
        new, start = {}, 0
        for k in prunable:
            n = masks[k].numel()
            new[k] = torch.from_numpy(kept[start : start + n].copy()).reshape(masks[k].shape)
            start += n
        masks = new
        history.append(masks)
    return history


def imp_history_aliases(init_params, train_fn, rounds, fraction):
    """Updates the masks in place and appends the same dict every round."""
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    history = []
    for _ in range(rounds):
        trained = train_fn(_rewound(init_params, masks), {k: m.clone() for k, m in masks.items()})
        new = _global_step(trained, masks, fraction)
        for k in masks:
            masks[k] &= new[k]
        history.append(masks)
    return history


def imp_fixed_count(init_params, train_fn, rounds, fraction):
    """Prunes prune_count(original total, fraction) every round, not a fraction of what is left."""
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    total = sum(m.numel() for m in masks.values())
    history = []
    for _ in range(rounds):
        trained = train_fn(_rewound(init_params, masks), {k: m.clone() for k, m in masks.items()})
        masks = _global_prune_n(trained, masks, _count(total, fraction))
        history.append(masks)
    return history


def imp_unmasked_init(init_params, train_fn, rounds, fraction):
    """Gives train_fn init_params without applying the masks."""
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    history = []
    for _ in range(rounds):
        params = {k: v.clone() for k, v in init_params.items()}
        trained = train_fn(params, {k: m.clone() for k, m in masks.items()})
        masks = _global_step(trained, masks, fraction)
        history.append(masks)
    return history


def imp_rounds_minus_one(init_params, train_fn, rounds, fraction):
    """Counts the dense run as round 1: trains and prunes only rounds - 1 times."""
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    history = []
    for _ in range(1, rounds):
        trained = train_fn(_rewound(init_params, masks), {k: m.clone() for k, m in masks.items()})
        masks = _global_step(trained, masks, fraction)
        history.append(masks)
    return history


def imp_cumulative_target(init_params, train_fn, rounds, fraction):
    """Prunes to prune_count(total, 1 - (1 - fraction)**r) in round r: rounds differently."""
    _check_fraction(fraction)
    masks = _initial_masks(init_params)
    total = sum(m.numel() for m in masks.values())
    history = []
    for r in range(1, rounds + 1):
        trained = train_fn(_rewound(init_params, masks), {k: m.clone() for k, m in masks.items()})
        kept = sum(int(m.sum()) for m in masks.values())
        target = _count(total, 1 - (1 - fraction) ** r)
        masks = _global_prune_n(trained, masks, max(0, target - (total - kept)))
        history.append(masks)
    return history


# ---------------------------------------------------------------------------------------------
# topk_score_mask


def topk_abs(scores, keep_fraction):
    return ref.topk_score_mask(scores.abs(), keep_fraction)


def topk_smallest(scores, keep_fraction):
    return ref.topk_score_mask(-scores, keep_fraction)


def topk_ties_reversed(scores, keep_fraction):
    _check_fraction(keep_fraction)
    n = scores.numel()
    k = ref.prune_count(n, keep_fraction)
    values = scores.flatten().tolist()
    order = sorted(range(n), key=lambda i: (-values[i], -i))
    keep = torch.zeros(n, dtype=torch.bool)
    keep[order[:k]] = True
    return keep.reshape(scores.shape)


def topk_floor(scores, keep_fraction):
    _check_fraction(keep_fraction)
    k = math.floor(keep_fraction * scores.numel())
    order = torch.argsort(scores.flatten(), descending=True, stable=True)
    keep = torch.zeros(scores.numel(), dtype=torch.bool)
    keep[order[:k]] = True
    return keep.reshape(scores.shape)


def topk_float(scores, keep_fraction):
    return ref.topk_score_mask(scores, keep_fraction).float()


def topk_alt(scores, keep_fraction):
    """Correct: stable ascending sort of the negated scores."""
    if not 0 <= keep_fraction <= 1:
        raise ValueError("keep_fraction must be in [0, 1]")
    k = math.floor(keep_fraction * scores.numel() + 0.5)
    order = torch.argsort(-scores.detach().flatten().double(), stable=True)
    keep = torch.zeros(scores.numel(), dtype=torch.bool)
    keep[order[:k]] = True
    return keep.reshape(scores.shape)


def topk_alt_lexsort(scores, keep_fraction):
    """Correct: numpy lexsort on (flat index, -score); the first k are kept."""
    _check_fraction(keep_fraction, "keep_fraction")
    s = scores.detach().numpy().astype(np.float64).ravel()
    keep = np.zeros(s.size, dtype=bool)
    keep[np.lexsort((np.arange(s.size), -s))[: _count(s.size, keep_fraction)]] = True
    return torch.from_numpy(keep).reshape(scores.shape)


def topk_alt_kthvalue(scores, keep_fraction):
    """Correct: the k-th largest as a threshold; above it kept, ties at it kept in flat order."""
    flat = scores.detach().flatten().double()
    n = flat.numel()
    k = _count(n, keep_fraction, "keep_fraction")
    if k == 0:
        return torch.zeros(scores.shape, dtype=torch.bool)
    t = flat.kthvalue(n - k + 1).values
    above = flat > t
    at = flat == t
    return (above | (at & (at.cumsum(0) <= k - int(above.sum())))).reshape(scores.shape)


def topk_alt_sorted_scatter(scores, keep_fraction):
    """Correct: Python sorted() with key (-score, index), then scatter_ of True."""
    values = scores.detach().reshape(-1).tolist()
    k = _count(len(values), keep_fraction, "keep_fraction")
    chosen = sorted(range(len(values)), key=lambda i: (-values[i], i))[:k]
    keep = torch.zeros(len(values), dtype=torch.bool)
    keep.scatter_(0, torch.tensor(chosen, dtype=torch.long), True)
    return keep.reshape(scores.shape)


def topk_alt_rank(scores, keep_fraction):
    """Correct: the rank of an entry is how many entries beat it (larger, or equal and earlier)."""
    flat = scores.detach().reshape(-1).double()
    k = _count(flat.numel(), keep_fraction, "keep_fraction")
    idx = torch.arange(flat.numel())
    larger = flat[None, :] > flat[:, None]
    earlier_tie = (flat[None, :] == flat[:, None]) & (idx[None, :] < idx[:, None])
    return ((larger | earlier_tie).sum(dim=1) < k).reshape(scores.shape)


def topk_flipped_sort(scores, keep_fraction):
    """Descending order by flipping a stable ascending sort: ties keep the HIGHER index first."""
    k = _count(scores.numel(), keep_fraction, "keep_fraction")
    keep = torch.zeros(scores.numel(), dtype=torch.bool)
    keep[torch.argsort(scores.flatten(), stable=True).flip(0)[:k]] = True
    return keep.reshape(scores.shape)


def topk_threshold_keeps_ties(scores, keep_fraction):
    k = _count(scores.numel(), keep_fraction, "keep_fraction")
    if k == 0:
        return torch.zeros_like(scores, dtype=torch.bool)
    return scores >= torch.topk(scores.flatten(), k).values[-1]


def topk_prune_complement(scores, keep_fraction):
    """Keeps n - prune_count(n, 1 - keep_fraction): halves round the other way."""
    n = scores.numel()
    k = n - _count(n, 1 - keep_fraction, "keep_fraction")
    keep = torch.zeros(n, dtype=torch.bool)
    keep[torch.argsort(scores.flatten(), descending=True, stable=True)[:k]] = True
    return keep.reshape(scores.shape)


def topk_quantile(scores, keep_fraction):
    _check_fraction(keep_fraction, "keep_fraction")
    return scores > torch.quantile(scores.flatten().double(), 1 - keep_fraction).to(scores.dtype)


def topk_per_row(scores, keep_fraction):
    """Keeps a fraction of every row instead of the whole tensor."""
    if scores.dim() < 2:
        return topk_alt_sorted_scatter(scores, keep_fraction)
    rows = scores.reshape(scores.shape[0], -1)
    keeps = [topk_alt_sorted_scatter(row, keep_fraction) for row in rows]
    return torch.stack(keeps).reshape(scores.shape)


def topk_float32_ranking(scores, keep_fraction):
    """Ranks float32 copies: float64 scores closer than float32 precision become ties."""
    k = _count(scores.numel(), keep_fraction, "keep_fraction")
    keep = torch.zeros(scores.numel(), dtype=torch.bool)
    keep[torch.argsort(scores.float().flatten(), descending=True, stable=True)[:k]] = True
    return keep.reshape(scores.shape)


# ---------------------------------------------------------------------------------------------
# straight_through_mask


def st_no_gradient(scores, keep_fraction):
    return ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)


def st_masked_gradient(scores, keep_fraction):
    hard = ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)
    soft = hard * scores
    return soft + (hard - soft).detach()


def st_sigmoid_gradient(scores, keep_fraction):
    hard = ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)
    soft = torch.sigmoid(scores)
    return soft + (hard - soft).detach()


def st_float32(scores, keep_fraction):
    return ref.straight_through_mask(scores.float(), keep_fraction)


def st_bool(scores, keep_fraction):
    return ref.topk_score_mask(scores, keep_fraction)


def st_sets_requires_grad(scores, keep_fraction):
    scores.requires_grad_(True)
    return ref.straight_through_mask(scores, keep_fraction)


def st_scores_times_mask(scores, keep_fraction):
    return scores * ref.topk_score_mask(scores, keep_fraction)


def st_alt_classic(scores, keep_fraction):
    """Correct (up to rounding): the classic scores + (mask - scores).detach()."""
    hard = topk_alt(scores, keep_fraction).to(scores.dtype)
    return scores + (hard - scores).detach()


class _Identity(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, hard):
        return hard

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def st_alt_function(scores, keep_fraction):
    """Correct: a custom autograd Function with an identity backward."""
    hard = topk_alt(scores, keep_fraction).to(scores.dtype)
    return _Identity.apply(scores, hard)


def st_alt_reordered(scores, keep_fraction):
    """Correct (up to rounding): hard - scores.detach() + scores."""
    hard = topk_alt_lexsort(scores.detach(), keep_fraction).to(scores.dtype)
    return hard - scores.detach() + scores


class _TopkStraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, keep_fraction):
        return topk_alt_sorted_scatter(scores, keep_fraction).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.clone(), None


def st_alt_function_topk_inside(scores, keep_fraction):
    """Correct: a Function that computes the top-k in forward; identity backward."""
    _check_fraction(keep_fraction, "keep_fraction")
    return _TopkStraightThrough.apply(scores, keep_fraction)


def st_alt_zero_term(scores, keep_fraction):
    """Correct: hard + (scores - scores.detach()), exactly hard in the forward pass."""
    hard = topk_alt_kthvalue(scores, keep_fraction).to(scores.dtype)
    return hard + (scores - scores.detach())


def st_alt_where(scores, keep_fraction):
    """Correct (up to rounding): torch.where on the bool mask, then (hard - s).detach() + s."""
    keep = topk_alt_rank(scores, keep_fraction)
    hard = torch.where(keep, torch.ones_like(scores), torch.zeros_like(scores)).detach()
    return (hard - scores).detach() + scores


def st_clipped(scores, keep_fraction):
    """Hardtanh straight-through: the gradient is blocked where scores leave [-1, 1]."""
    hard = topk_alt_lexsort(scores.detach(), keep_fraction).to(scores.dtype)
    soft = scores.clamp(-1, 1)
    return hard + soft - soft.detach()


def st_hard_requires_grad(scores, keep_fraction):
    """Marks the hard mask as requiring grad: a new leaf, not connected to scores."""
    hard = topk_alt_lexsort(scores.detach(), keep_fraction).to(scores.dtype)
    return hard.requires_grad_(scores.requires_grad)


class _MaskedBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, hard):
        ctx.save_for_backward(hard)
        return hard.clone()

    @staticmethod
    def backward(ctx, grad_output):
        (hard,) = ctx.saved_tensors
        return grad_output * hard, None


def st_function_masked_backward(scores, keep_fraction):
    """A custom Function whose backward lets the gradient through the kept entries only."""
    hard = topk_alt_lexsort(scores.detach(), keep_fraction).to(scores.dtype)
    return _MaskedBackward.apply(scores, hard)


def st_mean_gradient(scores, keep_fraction):
    """Divides the gradient by the number of entries (a mean instead of the identity)."""
    hard = topk_alt_lexsort(scores.detach(), keep_fraction).to(scores.dtype)
    scaled = scores / scores.numel()
    return hard + scaled - scaled.detach()


# ---------------------------------------------------------------------------------------------
# mask_overlap


def overlap_dice(mask_a, mask_b):
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    total = int(mask_a.sum() + mask_b.sum())
    return 1.0 if total == 0 else 2 * int((mask_a & mask_b).sum()) / total


def overlap_agreement(mask_a, mask_b):
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    return float((mask_a == mask_b).float().mean())


def overlap_empty_zero(mask_a, mask_b):
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    union = int((mask_a | mask_b).sum())
    return 0.0 if union == 0 else int((mask_a & mask_b).sum()) / union


def overlap_broadcasts(mask_a, mask_b):
    if mask_a.numel() != mask_b.numel():
        raise ValueError("sizes differ")
    return (
        (mask_a & mask_b).sum() / (mask_a | mask_b).sum().clamp(min=1)
        if (mask_a | mask_b).any()
        else 1.0
    )


def overlap_alt(mask_a, mask_b):
    """Correct: Python sets of kept flat indices; returns a 0-d tensor."""
    if tuple(mask_a.shape) != tuple(mask_b.shape):
        raise ValueError("mask_a and mask_b must have the same shape")
    a = set(mask_a.flatten().nonzero().flatten().tolist())
    b = set(mask_b.flatten().nonzero().flatten().tolist())
    if not a | b:
        return torch.tensor(1.0)
    return torch.tensor(len(a & b) / len(a | b), dtype=torch.float64)


def overlap_alt_numpy(mask_a, mask_b):
    """Correct: numpy logical_and / logical_or counts; returns a numpy float64."""
    if mask_a.shape != mask_b.shape:
        raise ValueError(f"mask_a {tuple(mask_a.shape)} and mask_b {tuple(mask_b.shape)} differ")
    a, b = mask_a.numpy(), mask_b.numpy()
    union = np.logical_or(a, b).sum()
    return np.float64(1.0) if union == 0 else np.logical_and(a, b).sum() / np.float64(union)


def overlap_alt_xor(mask_a, mask_b):
    """Correct: 1 - |A xor B| / |A or B| (one minus the Jaccard distance)."""
    if tuple(mask_a.size()) != tuple(mask_b.size()):
        raise ValueError("mask_a and mask_b must have the same shape")
    union = torch.logical_or(mask_a, mask_b).sum().item()
    if union == 0:
        return 1.0
    return 1.0 - torch.logical_xor(mask_a, mask_b).sum().item() / union


def overlap_alt_inclusion_exclusion(mask_a, mask_b):
    """Correct: |A and B| / (|A| + |B| - |A and B|) on float64 tensors."""
    if mask_a.shape != mask_b.shape:
        raise ValueError("shape mismatch between mask_a and mask_b")
    a, b = mask_a.double(), mask_b.double()
    inter = (a * b).sum()
    union = a.sum() + b.sum() - inter
    return 1.0 if union.item() == 0 else float(inter / union)


def overlap_over_size(mask_a, mask_b):
    """Intersection over the number of entries."""
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    return int((mask_a & mask_b).sum()) / mask_a.numel()


def overlap_over_first(mask_a, mask_b):
    """Intersection over the kept entries of mask_a only (not symmetric)."""
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    kept = int(mask_a.sum())
    return 1.0 if kept == 0 else int((mask_a & mask_b).sum()) / kept


def overlap_min_coefficient(mask_a, mask_b):
    """The overlap coefficient |A and B| / min(|A|, |B|)."""
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    smaller = min(int(mask_a.sum()), int(mask_b.sum()))
    return 1.0 if smaller == 0 else int((mask_a & mask_b).sum()) / smaller


def overlap_flattens(mask_a, mask_b):
    """Flattens both masks first, so masks of different shapes but equal sizes pass."""
    a, b = mask_a.flatten(), mask_b.flatten()
    if a.numel() != b.numel():
        raise ValueError("mask_a and mask_b have different sizes")
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def overlap_int_division(mask_a, mask_b):
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    union = int((mask_a | mask_b).sum())
    return 1 if union == 0 else int((mask_a & mask_b).sum()) // union


def overlap_pruned_sets(mask_a, mask_b):
    """The Jaccard index of the PRUNED sets."""
    if mask_a.shape != mask_b.shape:
        raise ValueError("shapes differ")
    a, b = ~mask_a, ~mask_b
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


# ---------------------------------------------------------------------------------------------
# the tables

WRONG = [
    # prune_count
    ("prune_count", count_bankers, r"0\.5 of 5.*expected 3, got 2", ["rounding"]),
    ("prune_count", count_decimal_str, r"0\.58 of 25.*expected 14, got 15", ["rounding"]),
    ("prune_count", count_exact_rational, r"0\.3 of 5.*expected 2, got 1", ["rounding"]),
    ("prune_count", count_truncate, r"worked example 3.*expected 4, got 3", ["basic"]),
    ("prune_count", count_float_result, r"should be an int, got 4\.0", ["basic"]),
    ("prune_count", count_no_validation, r"instead of raising ValueError", ["errors"]),
    ("prune_count", count_halves_down, r"0\.5 of 5.*expected 3, got 2", ["rounding"]),
    ("prune_count", count_float32, r"0\.58 of 25.*expected 14, got 15", ["rounding"]),
    ("prune_count", count_open_interval, r"fraction 0.*raised ValueError", ["edge"]),
    ("prune_count", count_ceil, r"0\.3 of 7.*expected 2, got 3", ["basic"]),
    # magnitude_mask
    ("magnitude_mask", mm_largest, r"\|w\| = 0\.8\) should be kept", ["basic"]),
    (
        "magnitude_mask",
        mm_keeps_count,
        r"kept 4 of 12 entries, expected 8.*prune_count is 4",
        ["basic"],
    ),
    ("magnitude_mask", mm_no_abs, r"not the right ones", ["basic"]),
    (
        "magnitude_mask",
        mm_ties_reversed,
        r"six equal weights.*entry \(0,\) .*should be pruned",
        ["ties"],
    ),
    ("magnitude_mask", mm_column_major, r"row-major order decides.*not the right ones", ["ties"]),
    ("magnitude_mask", mm_threshold, r"kept 0 of 6 entries, expected 3", ["ties"]),
    ("magnitude_mask", mm_float_mask, r"dtype torch\.float32, expected torch\.bool", ["basic"]),
    ("magnitude_mask", mm_in_place, r"weights was modified in place", ["no_mutation"]),
    ("magnitude_mask", mm_no_validation, r"instead of raising ValueError", ["errors"]),
    (
        "magnitude_mask",
        mm_banker,
        r"0\.5 rounds up to 1.*kept 1 of 1 entries, expected 0",
        ["edge"],
    ),
    ("magnitude_mask", mm_quantile, r"kept 0 of 6 entries, expected 3", ["ties"]),
    ("magnitude_mask", mm_threshold_keeps_ties, r"kept 10 of 12 entries, expected 8", ["basic"]),
    (
        "magnitude_mask",
        mm_per_row,
        r"\(6, 5\) weights.*kept 12 of 30 entries, expected 13",
        ["basic"],
    ),
    (
        "magnitude_mask",
        mm_keep_complement,
        r"0\.5 rounds up to 1.*kept 1 of 1 entries, expected 0",
        ["edge"],
    ),
    (
        "magnitude_mask",
        mm_descending_keep,
        r"six equal weights.*entry \(0,\) .*should be pruned, got kept",
        ["ties"],
    ),
    ("magnitude_mask", mm_int_mask, r"dtype torch\.int64, expected torch\.bool", ["basic"]),
    (
        "magnitude_mask",
        mm_numpy_result,
        r"should be a bool torch\.Tensor.*numpy\.ndarray",
        ["basic"],
    ),
    (
        "magnitude_mask",
        mm_float32_ranking,
        r"beyond float32 precision.*not the right ones.*rank the magnitudes in the dtype",
        ["ties"],
    ),
    # prune_remaining
    (
        "prune_remaining",
        pr_numel_count,
        r"kept 4 of 12 entries, expected 6: mask keeps 8 of 12 entries; prune_count\(8, 0\.3\) = 2",
        ["basic"],
    ),
    ("prune_remaining", pr_masked_weights, r"kept 8 of 12 entries, expected 6", ["basic"]),
    ("prune_remaining", pr_not_subset, r"not a subset of `mask`", ["subset"]),
    ("prune_remaining", pr_in_place, r"mask was modified in place", ["no_mutation"]),
    ("prune_remaining", pr_ties_reversed, r"not the right ones", ["ties"]),
    (
        "prune_remaining",
        pr_no_shape_check,
        r"instead of raising ValueError|raised RuntimeError",
        ["errors"],
    ),
    (
        "prune_remaining",
        pr_cumulative_target,
        r"kept 8 of 12 entries, expected 6: mask keeps 8 of 12",
        ["basic"],
    ),
    ("prune_remaining", pr_strict_threshold, r"kept 0 of 9 entries, expected 3", ["ties"]),
    ("prune_remaining", pr_fresh_mask, r"not a subset of `mask`", ["basic"]),
    (
        "prune_remaining",
        pr_signed,
        r"not the right ones.*\(\|w\| = 0\.3\) should be pruned",
        ["basic"],
    ),
    (
        "prune_remaining",
        pr_float_mask,
        r"dtype torch\.float32, expected torch\.bool",
        ["basic"],
    ),
    # global_prune
    ("global_prune", gp_layerwise, r"split differently over the keys", ["joint"]),
    (
        "global_prune",
        gp_all_params,
        r"wrong keys, missing \[\], unexpected \['0\.bias', '2\.bias'\].*not prunable",
        ["basic"],
    ),
    ("global_prune", gp_params_order, r"masks list the keys in the other order", ["ties"]),
    ("global_prune", gp_ignores_mask, r"kept \d+ entries in total, expected", ["basic"]),
    (
        "global_prune",
        gp_no_key_check,
        r"mask key absent.*instead of raising ValueError",
        ["errors"],
    ),
    ("global_prune", gp_in_place, r"masks\[.*\] was modified in place", ["no_mutation"]),
    ("global_prune", gp_total_numel, r"kept 0 entries in total, expected 5", ["basic"]),
    ("global_prune", gp_signed, r"split differently over the keys", ["basic"]),
    (
        "global_prune",
        gp_sorted_keys,
        r"other order than params.*split differently",
        ["ties"],
    ),
    ("global_prune", gp_strict_threshold, r"kept 0 entries in total, expected 6", ["ties"]),
    (
        "global_prune",
        gp_sum_of_layer_counts,
        r"not 3 per layer.*kept 6 entries in total, expected 7.*round once",
        ["joint"],
    ),
    ("global_prune", gp_list_result, r"should be a dict of bool tensors, got list", ["basic"]),
    # imp_sparsity
    ("imp_sparsity", sparsity_remaining, r"expected 0\.2, got 0\.8", ["basic"]),
    ("imp_sparsity", sparsity_linear, r"11 rounds.*expected 0\.914", ["basic"]),
    ("imp_sparsity", sparsity_no_validation, r"instead of raising ValueError", ["errors"]),
    ("imp_sparsity", sparsity_off_by_one, r"1 round\).*expected 0\.2, got 0", ["basic"]),
    ("imp_sparsity", sparsity_fraction_power, r"11 rounds.*got 2\.048e-08", ["basic"]),
    (
        "imp_sparsity",
        sparsity_rounded_counts,
        r"expected 0\.9141006541, got 0\.91\b",
        ["basic"],
    ),
    ("imp_sparsity", sparsity_open_interval, r"fraction 0.*raised ValueError", ["edge"]),
    # rounds_to_reach
    ("rounds_to_reach", rounds_log, r"0\.578125.*expected 3, got 4", ["boundary"]),
    (
        "rounds_to_reach",
        rounds_no_tolerance,
        r"20% a round to 20%.*expected 1, got 2",
        ["boundary"],
    ),
    ("rounds_to_reach", rounds_float, r"should be an int, got 11\.0", ["basic"]),
    (
        "rounds_to_reach",
        rounds_no_target_check,
        r"target 1.*instead of raising ValueError",
        ["errors"],
    ),
    (
        "rounds_to_reach",
        rounds_floor_plus_one,
        r"20% a round to 20%.*expected 1, got 2",
        ["boundary"],
    ),
    ("rounds_to_reach", rounds_nearest, r"90% sparsity.*expected 11, got 10", ["basic"]),
    ("rounds_to_reach", rounds_from_one, r"target 0: no rounds.*expected 0, got 1", ["edge"]),
    (
        "rounds_to_reach",
        rounds_strictly_above,
        r"target 0: no rounds.*expected 0, got 1",
        ["edge"],
    ),
    (
        "rounds_to_reach",
        rounds_closed_fraction,
        r"fraction 0 .*returned 1000 instead of raising ValueError",
        ["errors"],
    ),
    ("rounds_to_reach", rounds_isclose, r"5e-13.*expected 0, got 1", ["boundary"]),
    (
        "rounds_to_reach",
        rounds_np_isclose,
        r"0\.7500000001.*expected 3, got 2.*isclose",
        ["boundary"],
    ),
    # rewind
    ("rewind", rewind_shares, r"shares memory with a tensor of init_params", ["copies"]),
    (
        "rewind",
        rewind_in_place,
        r"init_params\['0\.weight'\] was modified in place",
        ["no_mutation"],
    ),
    ("rewind", rewind_drops_keys, r"wrong keys: missing \['0\.bias', '2\.bias'\]", ["basic"]),
    ("rewind", rewind_inverted, r"differs in", ["basic"]),
    ("rewind", rewind_float32, r"dtype torch\.float32, expected torch\.float64", ["conventions"]),
    (
        "rewind",
        rewind_skips_absent,
        r"absent from init_params.*instead of raising ValueError",
        ["errors"],
    ),
    (
        "rewind",
        rewind_no_mask,
        r"masks\['0\.weight'\] prunes entry \(0, 0\).*every pruned entry must be 0",
        ["basic"],
    ),
    (
        "rewind",
        rewind_no_shape_check,
        r"wrong shape.*raised RuntimeError.*must raise ValueError",
        ["errors"],
    ),
    ("rewind", rewind_random_reinit, r"\['0\.weight'\] differs in", ["basic"]),
    # iterative_magnitude_pruning
    (
        "iterative_magnitude_pruning",
        imp_no_rewind,
        r"round 2, the params passed to train_fn.*rewind\(init_params, masks\)",
        ["train_fn"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_prunes_biases,
        r"masks passed to train_fn: wrong keys.*unexpected \['0\.bias'",
        ["basic"],
    ),
    ("iterative_magnitude_pruning", imp_layerwise, r"masks after round 1", ["basic"]),
    (
        "iterative_magnitude_pruning",
        imp_extra_call,
        r"train_fn was called 4 times, expected 3",
        ["basic"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_wrong_masks_to_train_fn,
        r"round 2, the masks passed to train_fn kept 43 entries in total, expected 32",
        ["train_fn"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_prunes_init,
        r"masks after round 1.*split differently.*ranked jointly by the params train_fn returned",
        ["basic"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_final_only,
        r"should return a list of mask dicts",
        ["basic"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_lazy_validation,
        r"rounds = 0.*instead of raising ValueError",
        ["errors"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_rewinds_in_place,
        r"init_params\['0\.weight'\] was modified in place",
        ["no_mutation"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_history_aliases,
        r"masks after round 1.*masks after the last round \(round 3\).*append a new dict",
        ["basic"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_fixed_count,
        r"masks after round 2 kept 25 entries in total, expected 27",
        ["basic"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_unmasked_init,
        r"round 2, the params passed to train_fn.*expected 0, got",
        ["train_fn"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_rounds_minus_one,
        r"train_fn was called 2 times, expected 3",
        ["basic"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_cumulative_target,
        r"masks after round 2 kept 28 entries in total, expected 27",
        ["basic"],
    ),
    # topk_score_mask
    ("topk_score_mask", topk_abs, r"negative scores.*score = 0\.5\) should be kept", ["basic"]),
    ("topk_score_mask", topk_smallest, r"not the right ones", ["basic"]),
    (
        "topk_score_mask",
        topk_ties_reversed,
        r"first ones are kept.*entry \(0,\).*should be kept",
        ["ties"],
    ),
    ("topk_score_mask", topk_floor, r"2\.5 rounds up.*kept 2 of 5 entries, expected 3", ["edge"]),
    ("topk_score_mask", topk_float, r"expected torch\.bool", ["basic"]),
    (
        "topk_score_mask",
        topk_flipped_sort,
        r"first ones are kept.*entry \(0,\).*should be kept, got pruned",
        ["ties"],
    ),
    ("topk_score_mask", topk_threshold_keeps_ties, r"kept 6 of 6 entries, expected 3", ["ties"]),
    (
        "topk_score_mask",
        topk_prune_complement,
        r"2\.5 rounds up.*kept 2 of 5 entries, expected 3",
        ["edge"],
    ),
    (
        "topk_score_mask",
        topk_quantile,
        r"keep_fraction 1: everything kept.*kept 4 of 5 entries, expected 5",
        ["edge"],
    ),
    (
        "topk_score_mask",
        topk_per_row,
        r"negative scores.*kept 4 of 6 entries, expected 3",
        ["basic"],
    ),
    (
        "topk_score_mask",
        topk_float32_ranking,
        r"beyond float32 precision.*not the right ones",
        ["ties"],
    ),
    # straight_through_mask
    (
        "straight_through_mask",
        st_no_gradient,
        r"no gradient reaches scores.*does not require",
        ["gradient"],
    ),
    (
        "straight_through_mask",
        st_masked_gradient,
        r"gradient that reaches scores differs.*incoming gradient, unchanged",
        ["gradient"],
    ),
    (
        "straight_through_mask",
        st_sigmoid_gradient,
        r"gradient that reaches scores differs",
        ["gradient"],
    ),
    (
        "straight_through_mask",
        st_float32,
        r"dtype torch\.float32, expected torch\.float64",
        ["conventions"],
    ),
    ("straight_through_mask", st_bool, r"dtype torch\.bool, expected torch\.float32", ["basic"]),
    (
        "straight_through_mask",
        st_sets_requires_grad,
        r"scores\.requires_grad changed from False to True",
        ["no_mutation"],
    ),
    ("straight_through_mask", st_scores_times_mask, r"forward value.*differs", ["basic"]),
    (
        "straight_through_mask",
        st_clipped,
        r"gradient that reaches scores differs.*got 0;.*incoming gradient, unchanged",
        ["gradient"],
    ),
    (
        "straight_through_mask",
        st_hard_requires_grad,
        r"no gradient reaches scores.*not connected to the input",
        ["gradient"],
    ),
    (
        "straight_through_mask",
        st_function_masked_backward,
        r"gradient that reaches scores differs",
        ["gradient"],
    ),
    (
        "straight_through_mask",
        st_mean_gradient,
        r"gradient that reaches scores differs in 12 of 12 entries",
        ["gradient"],
    ),
    # mask_overlap
    ("mask_overlap", overlap_dice, r"expected 0\.4, got 0\.57", ["basic"]),
    (
        "mask_overlap",
        overlap_agreement,
        r"expected 0\.4, got 0\.5 \(2 entries are kept in both",
        ["basic"],
    ),
    ("mask_overlap", overlap_empty_zero, r"both masks keep nothing.*expected 1, got 0", ["edge"]),
    ("mask_overlap", overlap_broadcasts, r"raised RuntimeError.*must raise ValueError", ["errors"]),
    ("mask_overlap", overlap_over_size, r"expected 0\.4, got 0\.333", ["basic"]),
    (
        "mask_overlap",
        overlap_over_first,
        r"expected 0\.4, got 0\.6666666667 \(2 entries are kept in both",
        ["basic"],
    ),
    (
        "mask_overlap",
        overlap_min_coefficient,
        r"one mask keeps nothing: 0\.0.*expected 0, got 1",
        ["edge"],
    ),
    (
        "mask_overlap",
        overlap_flattens,
        r"shapes \(2, 3\) and \(3, 2\).*instead of raising ValueError",
        ["errors"],
    ),
    ("mask_overlap", overlap_int_division, r"expected 0\.4, got 0 \(", ["basic"]),
    ("mask_overlap", overlap_pruned_sets, r"expected 0\.4, got 0\.25", ["basic"]),
]

CORRECT = [
    ("prune_count", count_alt),
    ("prune_count", count_via_floordiv),
    ("prune_count", count_numpy_int),
    ("prune_count", count_torch_float64),
    ("prune_count", count_floor_plus_one),
    ("magnitude_mask", mm_alt_python),
    ("magnitude_mask", mm_alt_numpy),
    ("magnitude_mask", mm_alt_kthvalue),
    ("magnitude_mask", mm_alt_sort_scatter),
    ("magnitude_mask", mm_alt_lexsort_rank),
    ("magnitude_mask", mm_alt_quantile),
    ("magnitude_mask", mm_alt_topk_key),
    ("prune_remaining", pr_alt),
    ("prune_remaining", pr_alt_masked_select),
    ("prune_remaining", pr_alt_python),
    ("prune_remaining", pr_alt_kthvalue),
    ("prune_remaining", pr_alt_numpy),
    ("global_prune", gp_alt),
    ("global_prune", gp_alt_kthvalue),
    ("global_prune", gp_alt_lexsort_reversed),
    ("global_prune", gp_alt_heapq),
    ("global_prune", gp_alt_one_tensor),
    ("imp_sparsity", sparsity_alt),
    ("imp_sparsity", sparsity_alt_expm1),
    ("imp_sparsity", sparsity_alt_numpy),
    ("imp_sparsity", sparsity_alt_while),
    ("imp_sparsity", sparsity_alt_tensor_item),
    ("rounds_to_reach", rounds_alt),
    ("rounds_to_reach", rounds_alt_log_corrected),
    ("rounds_to_reach", rounds_alt_bisect),
    ("rounds_to_reach", rounds_alt_count),
    ("rewind", rewind_alt),
    ("rewind", rewind_alt_masked_fill),
    ("rewind", rewind_alt_deepcopy),
    ("rewind", rewind_alt_multiply),
    ("rewind", rewind_alt_numpy),
    ("iterative_magnitude_pruning", imp_alt),
    ("iterative_magnitude_pruning", imp_alt_while_ordered),
    ("iterative_magnitude_pruning", imp_alt_in_place_deepcopy),
    ("iterative_magnitude_pruning", imp_alt_lexsort),
    ("topk_score_mask", topk_alt),
    ("topk_score_mask", topk_alt_lexsort),
    ("topk_score_mask", topk_alt_kthvalue),
    ("topk_score_mask", topk_alt_sorted_scatter),
    ("topk_score_mask", topk_alt_rank),
    ("straight_through_mask", st_alt_classic),
    ("straight_through_mask", st_alt_function),
    ("straight_through_mask", st_alt_reordered),
    ("straight_through_mask", st_alt_function_topk_inside),
    ("straight_through_mask", st_alt_zero_term),
    ("straight_through_mask", st_alt_where),
    ("mask_overlap", overlap_alt),
    ("mask_overlap", overlap_alt_numpy),
    ("mask_overlap", overlap_alt_xor),
    ("mask_overlap", overlap_alt_inclusion_exclusion),
]

NAMES = [
    "prune_count",
    "magnitude_mask",
    "prune_remaining",
    "global_prune",
    "imp_sparsity",
    "rounds_to_reach",
    "rewind",
    "iterative_magnitude_pruning",
    "topk_score_mask",
    "straight_through_mask",
    "mask_overlap",
]


@pytest.mark.parametrize(
    ("name", "fn", "match", "in_parts"), WRONG, ids=[f"{w[0]}-{w[1].__name__}" for w in WRONG]
)
def test_wrong_implementation_fails_with_a_message_naming_the_problem(name, fn, match, in_parts):
    """A typical mistake fails the part that targets it, and the feedback says what is wrong."""
    assert_fails(name, fn, match=match, in_parts=in_parts)


@pytest.mark.parametrize(("name", "fn"), CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_correct_alternative_passes_every_part(name, fn):
    """A correct implementation written differently from the reference gets full marks."""
    assert_passes_all(name, fn)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_has_five_wrong_and_four_correct_implementations(name):
    """The tables above cover every graded function of notebook 03."""
    assert sum(w[0] == name for w in WRONG) >= 5
    assert sum(c[0] == name for c in CORRECT) >= 4
    assert 3 <= len(parts(name)) <= 6


def test_stub_style_failure_names_the_case():
    """A failure message says which part and case failed (here: the rounding trap 0.58 of 25)."""
    with pytest.raises(AssertionError, match=r"prune_count \[rounding: .*\] case 4 of 6 \(0\.58"):
        from autograder.checks import check_function

        check_function("prune_count", count_decimal_str, part="rounding")


def test_every_part_is_fast_for_the_reference():
    """All parts of a function take well under 2 s for the reference."""
    import time

    import solutions

    for name in NAMES:
        start = time.perf_counter()
        assert_passes_all(name, getattr(solutions, name))
        assert time.perf_counter() - start < 2.0, name


def test_spy_train_fn_records_calls_and_is_deterministic():
    """The spy records clones of what it got and returns the same "training" for the same call."""
    case = Case("spy", (Build("spy_train_fn", {"seed": 3}),))

    def call_twice(train_fn):
        params = {"w": torch.ones(2, 2), "b": torch.zeros(2)}
        masks = {"w": torch.tensor([[True, False], [True, True]])}
        first = train_fn(params, masks)
        params["w"].add_(1.0)  # changing the inputs afterwards must not change the records
        second = train_fn(params, masks)
        return first, second

    a = run_case(call_twice, case)
    b = run_case(call_twice, case)
    assert a.status == "returned"
    calls = a.probe["calls"]
    assert len(calls) == 2
    assert torch.equal(calls[0]["params"]["w"], torch.ones(2, 2))
    assert torch.equal(calls[1]["params"]["w"], torch.full((2, 2), 2.0))
    assert torch.equal(calls[0]["masks"]["w"], torch.tensor([[True, False], [True, True]]))
    assert not torch.equal(a.value[0]["w"] - 1.0, a.value[1]["w"] - 2.0)  # rounds differ
    for x, y in zip(a.value, b.value):
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert torch.equal(calls[1]["trained"]["w"], a.value[1]["w"])


def test_post_probe_records_the_gradient_and_its_absence():
    """`Case.post` runs after the call; the gradient probe records plain tensors or a reason."""
    incoming = torch.tensor([1.0, -2.0, 3.0])
    case = Case(
        "grad",
        (Build("leaf_tensor", {"values": torch.zeros(3)}),),
        post=Build("grad_probe", {"grad_output": incoming}),
    )
    doubled = run_case(lambda s: 2 * s, case)
    assert torch.equal(doubled.probe["grad"], 2 * incoming)
    detached = run_case(lambda s: s.detach() + 1, case)
    assert "does not require grad" in detached.probe["grad_error"]
    not_tensor = run_case(lambda s: 3.0, case)
    assert "not a tensor" in not_tensor.probe["grad_error"]


def test_post_probe_failures_are_recorded_not_raised():
    """A backward that raises is recorded as post_error; the call itself still returned."""

    class Broken(torch.autograd.Function):
        @staticmethod
        def forward(ctx, scores, keep_fraction):
            return ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("broken backward")

    case = Case(
        "grad",
        (Build("leaf_tensor", {"values": torch.tensor([0.3, 0.1])}), 0.5),
        post=Build("grad_probe", {"grad_output": torch.ones(2)}),
    )
    outcome = run_case(Broken.apply, case)
    assert outcome.status == "returned"
    assert "broken backward" in outcome.probe["post_error"]
    message = lookup("straight_through_mask").parts["gradient"].verdict(case, outcome)
    assert "back-propagating" in message and "broken backward" in message
