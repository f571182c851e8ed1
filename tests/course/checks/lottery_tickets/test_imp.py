"""The hidden checks of notebook 03, sections 2–3 (the IMP schedule; rewinding and the full IMP
loop) grade well: `imp_sparsity`, `rounds_to_reach`, `rewind` and
`iterative_magnitude_pruning`.

The tables at the end list which implementations fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

from autograder.checks import parts
from solutions import lottery_tickets as ref
from tests.course.checks.lottery_tickets.helpers import (
    _check_fraction,
    _check_rounds,
    _count,
    _joint_split,
)
from tests.course.checks.support import assert_fails, assert_passes_all

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
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    remaining = torch.tensor(1.0)
    for _ in range(rounds):
        remaining = remaining * (1 - fraction)
    return 1 - remaining


def sparsity_alt_expm1(fraction, rounds):
    """Correct: -expm1(rounds * log1p(-fraction)), with fraction 1 handled apart."""
    _check_fraction(fraction)
    _check_rounds(rounds)
    if fraction == 1:
        return 0.0 if rounds == 0 else 1.0
    return -math.expm1(rounds * math.log1p(-fraction))


def sparsity_alt_numpy(fraction, rounds):
    """Correct: numpy float64 power, returned as a numpy scalar."""
    f = np.float64(fraction)
    if f < 0 or f > 1:
        raise ValueError(f"fraction {fraction} outside [0, 1]")
    if np.int64(rounds) < 0:
        raise ValueError(f"rounds {rounds} is negative")
    return np.float64(1.0) - np.power(1.0 - f, rounds)


def sparsity_alt_while(fraction, rounds):
    """Correct: a while loop pruning a fraction of what is left, round by round."""
    _check_fraction(fraction)
    _check_rounds(rounds)
    remaining, r = 1.0, 0
    while r < rounds:
        remaining -= fraction * remaining
        r += 1
    return 1.0 - remaining


def sparsity_alt_tensor_item(fraction, rounds):
    """Correct: float64 torch, returned with .item()."""
    _check_fraction(fraction)
    if not rounds >= 0:
        raise ValueError(f"rounds must be a non-negative integer, got {rounds}")
    keep = torch.tensor(1.0 - fraction, dtype=torch.float64)
    return (1 - keep.pow(rounds)).item()


def sparsity_negative_rounds(fraction, rounds):
    """Validates fraction only: rounds = -1 gives a negative sparsity instead of ValueError."""
    _check_fraction(fraction)
    return 1 - (1 - fraction) ** rounds


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
    if not isinstance(rounds, int) or rounds < 0:
        raise ValueError("rounds must be an int >= 0")
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
    _check_rounds(rounds)
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
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
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


def imp_alt_prunable_first(init_params, train_fn, rounds, fraction):
    """Correct: the prunable keys listed once (by ndim, in params order), then a plain loop."""
    _check_fraction(fraction)
    _check_rounds(rounds)
    prunable = [k for k, v in init_params.items() if v.ndim >= 2]
    masks = {k: init_params[k].new_ones(init_params[k].shape, dtype=torch.bool) for k in prunable}
    history = []
    for _ in range(rounds):
        trained = train_fn(ref.rewind(init_params, masks), {k: m.clone() for k, m in masks.items()})
        masks = _global_step(trained, masks, fraction)
        history.append(masks)
    return history


def _imp_from(masks, init_params, train_fn, rounds, fraction):
    """The IMP loop from the given initial masks (the only thing the mistakes below change)."""
    history = []
    for _ in range(rounds):
        trained = train_fn(_rewound(init_params, masks), {k: m.clone() for k, m in masks.items()})
        masks = _global_step(trained, masks, fraction)
        history.append(masks)
    return history


def _imp_choosing(prunable):
    """An IMP whose prunable tensors are those for which `prunable(key, tensor)` holds."""

    def imp(init_params, train_fn, rounds, fraction):
        _check_fraction(fraction)
        _check_rounds(rounds)
        masks = {
            k: torch.ones(v.shape, dtype=torch.bool)
            for k, v in init_params.items()
            if prunable(k, v)
        }
        return _imp_from(masks, init_params, train_fn, rounds, fraction)

    return imp


# by name ("weight" in the key) instead of dim >= 2
imp_prunable_by_name = _imp_choosing(lambda k, v: "weight" in k)
# every tensor of dim >= 2 and also 1-D tensors named "*weight" (LayerNorm)
imp_masks_named_vectors = _imp_choosing(lambda k, v: v.dim() >= 2 or k.endswith("weight"))
# only the tensors of dim >= 2 whose name contains "weight": "proj" is left out
imp_skips_unnamed_matrices = _imp_choosing(lambda k, v: v.dim() >= 2 and "weight" in k)


def imp_negative_rounds(init_params, train_fn, rounds, fraction):
    """Validates fraction only: rounds = -1 returns [] instead of raising ValueError."""
    _check_fraction(fraction)
    return _imp_from(_initial_masks(init_params), init_params, train_fn, rounds, fraction)


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
# the tables

_BY_NAME_MESSAGE = (
    r"'ln\.weight' is never pruned.*masks passed to train_fn: wrong keys, missing \['proj'\], "
    r"unexpected \['ln\.weight'\].*'ln\.weight' has dim 1 and gets no mask, 'proj' has dim 2 "
    r"and needs a mask.*not by their names"
)
_NAMED_VECTOR_MESSAGE = (
    r"'ln\.weight' is never pruned.*wrong keys, missing \[\], unexpected \['ln\.weight'\]"
    r".*'ln\.weight' has dim 1 and gets no mask"
)
_UNNAMED_MATRIX_MESSAGE = (
    r"a 2-D 'proj' is.*wrong keys, missing \['proj'\], unexpected \[\]"
    r".*'proj' has dim 2 and needs a mask"
)

WRONG = [
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
    (
        "iterative_magnitude_pruning",
        imp_prunable_by_name,
        _BY_NAME_MESSAGE,
        ["edge"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_masks_named_vectors,
        _NAMED_VECTOR_MESSAGE,
        ["edge"],
    ),
    (
        "iterative_magnitude_pruning",
        imp_skips_unnamed_matrices,
        _UNNAMED_MATRIX_MESSAGE,
        ["edge"],
    ),
]

CORRECT = [
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
    ("iterative_magnitude_pruning", imp_alt_prunable_first),
]

NAMES = [
    "imp_sparsity",
    "rounds_to_reach",
    "rewind",
    "iterative_magnitude_pruning",
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
# the blind spots an audit found: each mistake fails its part, correct code still passes


def test_imp_choosing_prunable_tensors_by_name_fails_edge_naming_the_key():
    """A 1-D "ln.weight" gets no mask and a 2-D "proj" gets one: dim >= 2 decides, not the
    name. Masking "ln.weight", leaving "proj" unmasked, or both fail `edge`, naming the key;
    the reference and a differently written correct loop still pass every part."""
    for wrong, match in [
        (imp_prunable_by_name, _BY_NAME_MESSAGE),
        (imp_masks_named_vectors, _NAMED_VECTOR_MESSAGE),
        (imp_skips_unnamed_matrices, _UNNAMED_MATRIX_MESSAGE),
    ]:
        assert_fails("iterative_magnitude_pruning", wrong, match=match, in_parts=["edge"])
    assert_passes_all("iterative_magnitude_pruning", ref.iterative_magnitude_pruning)
    assert_passes_all("iterative_magnitude_pruning", imp_alt_prunable_first)


def test_negative_rounds_are_not_graded():
    """rounds < 0: the docstrings promise a ValueError, the spec does not (its conventions
    name no rule for counts of rounds), so an implementation without that check keeps every
    point, as the reference does with it."""
    assert_passes_all("imp_sparsity", sparsity_negative_rounds)
    assert_passes_all("iterative_magnitude_pruning", imp_negative_rounds)
    assert_passes_all("imp_sparsity", ref.imp_sparsity)
    assert_passes_all("iterative_magnitude_pruning", ref.iterative_magnitude_pruning)
