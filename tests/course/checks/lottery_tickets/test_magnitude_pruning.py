"""The hidden checks of notebook 03, section 1 (lottery tickets and magnitude pruning) grade
well: `prune_count`, `magnitude_mask`, `prune_remaining` and `global_prune`.

The tables at the end list which implementations fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch

from autograder.checks import parts
from solutions import lottery_tickets as ref
from tests.course.checks.lottery_tickets.helpers import (
    _check_fraction,
    _count,
    _joint_split,
    _keep_from_order,
)
from tests.course.checks.support import assert_fails, assert_passes_all

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


def pr_alt_native_dtype(weights, mask, fraction):
    """Correct: ranks the kept magnitudes in the weights' own dtype; a copy when k is 0."""
    _check_mask_shape(weights, mask)
    k = _count(int(mask.sum()), fraction)
    if k == 0:
        return mask.detach().clone()
    flat = mask.flatten()
    idx = flat.nonzero().flatten()
    keep = flat.clone()
    keep[idx[torch.sort(weights.detach().flatten()[idx].abs(), stable=True).indices[:k]]] = False
    return keep.view(mask.shape)


def pr_float32_ranking(weights, mask, fraction):
    """Ranks the kept magnitudes in float32: float64 magnitudes closer than that are ties."""
    _check_mask_shape(weights, mask)
    idx = mask.flatten().nonzero().flatten()
    mags = weights.detach().flatten()[idx].abs().float()
    keep = mask.flatten().clone()
    keep[idx[torch.argsort(mags, stable=True)[: _count(idx.numel(), fraction)]]] = False
    return keep.reshape(mask.shape)


def pr_returns_input(weights, mask, fraction):
    """Returns `mask` itself when there is nothing to prune."""
    if _count(int(mask.sum()), fraction) == 0:
        _check_mask_shape(weights, mask)
        return mask
    return pr_alt_numpy(weights, mask, fraction)


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


def gp_alt_native_dtype(params, masks, fraction):
    """Correct: torch.cat promotes to the widest dtype, ranked as it is; copies when k is 0."""
    _check_global(params, masks, fraction)
    kept_total = sum(int(m.sum()) for m in masks.values())
    k = _count(kept_total, fraction)
    if k == 0 or not masks:
        return {key: m.detach().clone() for key, m in masks.items()}
    kept = torch.cat([m.flatten() for m in masks.values()])
    mags = torch.cat([params[key].detach().flatten().abs() for key in masks])
    idx = kept.nonzero().flatten()
    new = kept.clone()
    new[idx[torch.argsort(mags[idx], stable=True)[:k]]] = False
    return _joint_split(masks, new)


def gp_float32_ranking(params, masks, fraction):
    """Ranks the kept magnitudes in float32 (each tensor cast with .float() first)."""
    _check_global(params, masks, fraction)
    if not masks:
        return {}
    kept = torch.cat([m.flatten() for m in masks.values()])
    mags = torch.cat([params[key].detach().float().flatten().abs() for key in masks])
    idx = kept.nonzero().flatten()
    new = kept.clone()
    new[idx[torch.argsort(mags[idx], stable=True)[: _count(idx.numel(), fraction)]]] = False
    return _joint_split(masks, new)


def gp_returns_input(params, masks, fraction):
    """Returns the masks dict itself when there is nothing to prune."""
    _check_global(params, masks, fraction)
    if _count(sum(int(m.sum()) for m in masks.values()), fraction) == 0:
        return masks
    return gp_alt_heapq(params, masks, fraction)


def gp_same_tensors(params, masks, fraction):
    """A new dict, but holding the input's mask tensors when there is nothing to prune."""
    _check_global(params, masks, fraction)
    if _count(sum(int(m.sum()) for m in masks.values()), fraction) == 0:
        return dict(masks)
    return gp_alt_heapq(params, masks, fraction)


def gp_list_result(params, masks, fraction):
    result = ref.global_prune(params, masks, fraction)
    return [result[k] for k in masks]


# ---------------------------------------------------------------------------------------------
# the tables

_PR_NEAR_TIES_MESSAGE = (
    r"beyond float32 precision.*not the right ones.*entry \(0,\) \(\|w\| = 1\) should be "
    r"kept, got pruned.*rank the magnitudes in the dtype"
)
_GP_NEAR_TIES_MESSAGE = (
    r"beyond float32 precision.*split differently over the keys: kept \{'a': 0, 'b': 2\}, "
    r"expected \{'a': 1, 'b': 1\}.*rank the magnitudes in the dtype"
)

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
    ("prune_remaining", pr_float32_ranking, _PR_NEAR_TIES_MESSAGE, ["ties"]),
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
    ("global_prune", gp_float32_ranking, _GP_NEAR_TIES_MESSAGE, ["ties"]),
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
    ("prune_remaining", pr_alt_native_dtype),
    ("global_prune", gp_alt),
    ("global_prune", gp_alt_kthvalue),
    ("global_prune", gp_alt_lexsort_reversed),
    ("global_prune", gp_alt_heapq),
    ("global_prune", gp_alt_one_tensor),
    ("global_prune", gp_alt_native_dtype),
]

NAMES = [
    "prune_count",
    "magnitude_mask",
    "prune_remaining",
    "global_prune",
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
    """The tables above cover every graded function of this file."""
    assert sum(w[0] == name for w in WRONG) >= 5
    assert sum(c[0] == name for c in CORRECT) >= 4
    assert 3 <= len(parts(name)) <= 6


# ---------------------------------------------------------------------------------------------
# failure messages


def test_stub_style_failure_names_the_case():
    """A failure message says which part and case failed (here: the rounding trap 0.58 of 25)."""
    with pytest.raises(AssertionError, match=r"prune_count \[rounding: .*\] case 4 of 6 \(0\.58"):
        from autograder.checks import check_function

        check_function("prune_count", count_decimal_str, part="rounding")


# ---------------------------------------------------------------------------------------------
# the blind spots an audit found: each mistake fails its part, correct code still passes


def test_float32_ranking_fails_the_near_ties_of_prune_remaining_and_global_prune():
    """float64 magnitudes that differ only beyond float32 precision are not ties: ranking them
    in float32 fails `ties`; ranking in float64 or in the weights' own dtype passes."""
    assert_fails(
        "prune_remaining", pr_float32_ranking, match=_PR_NEAR_TIES_MESSAGE, in_parts=["ties"]
    )
    assert_fails("global_prune", gp_float32_ranking, match=_GP_NEAR_TIES_MESSAGE, in_parts=["ties"])
    assert_passes_all("prune_remaining", ref.prune_remaining)
    assert_passes_all("prune_remaining", pr_alt_native_dtype)
    assert_passes_all("global_prune", ref.global_prune)
    assert_passes_all("global_prune", gp_alt_native_dtype)


def test_returning_the_input_when_nothing_is_pruned_is_not_graded():
    """With nothing to prune, returning `mask` (or `masks`, or its tensors) itself changes no
    input; the docstrings ask for new tensors, the spec asks that only of rewind: not graded."""
    for name, fn in (
        ("prune_remaining", pr_returns_input),
        ("global_prune", gp_returns_input),
        ("global_prune", gp_same_tensors),
    ):
        assert_passes_all(name, fn)
