"""The hidden checks of notebook 03 grade well.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in test_checks_registry.py.)
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
import torch

from autograder.checks import REGISTRY, Build, Case, parts
from autograder.checks.call import run_case
from solutions import lottery_tickets as ref
from tests.checks_support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# helpers for the implementations below


def _check_fraction(fraction: float, name: str = "fraction") -> None:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {fraction}")


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
    # imp_sparsity
    ("imp_sparsity", sparsity_remaining, r"expected 0\.2, got 0\.8", ["basic"]),
    ("imp_sparsity", sparsity_linear, r"11 rounds.*expected 0\.914", ["basic"]),
    ("imp_sparsity", sparsity_no_validation, r"instead of raising ValueError", ["errors"]),
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
]

CORRECT = [
    ("prune_count", count_alt),
    ("magnitude_mask", mm_alt_python),
    ("magnitude_mask", mm_alt_numpy),
    ("prune_remaining", pr_alt),
    ("global_prune", gp_alt),
    ("imp_sparsity", sparsity_alt),
    ("rounds_to_reach", rounds_alt),
    ("rewind", rewind_alt),
    ("iterative_magnitude_pruning", imp_alt),
    ("topk_score_mask", topk_alt),
    ("straight_through_mask", st_alt_classic),
    ("straight_through_mask", st_alt_function),
    ("mask_overlap", overlap_alt),
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
def test_every_function_has_three_wrong_and_one_correct_implementation(name):
    """The tables above cover every graded function of notebook 03."""
    assert sum(w[0] == name for w in WRONG) >= 3
    assert any(c[0] == name for c in CORRECT)
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
    message = REGISTRY["straight_through_mask"].parts["gradient"].verdict(case, outcome)
    assert "back-propagating" in message and "broken backward" in message
