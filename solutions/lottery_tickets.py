"""Reference solutions for notebook 03: magnitude pruning, IMP with rewinding, supermasks.

Conventions (exercise-spec.md, "03_lottery_tickets"):

- A mask is a bool tensor of the same shape as the weights it belongs to; True = kept,
  False = pruned.
- "Prune a fraction of n" always means `prune_count(n, fraction)` entries:
  `math.floor(fraction * n + 0.5)` evaluated in Python (float64) arithmetic.
- Ranking is by absolute value (magnitude pruning) or by score (supermasks). Ties are
  broken by position: in row-major (flat) order, and across tensors by the order of the
  keys in `masks`. The lower position is pruned first (`magnitude_mask`, `prune_remaining`,
  `global_prune`) or kept first (`topk_score_mask`).
- Values are compared in float64, which is exact for every floating dtype up to float64
  (integer weights beyond 2**53 in magnitude would be rounded first). -0.0 and 0.0 tie.
  NaN cannot be ranked and raises `ValueError`.
- No function modifies its inputs; every returned tensor is new.

References: Frankle & Carbin, "The Lottery Ticket Hypothesis" (ICLR 2019); Frankle et al.,
"Linear Mode Connectivity and the Lottery Ticket Hypothesis" (ICML 2020, late rewinding);
Zhou et al., "Deconstructing Lottery Tickets" (NeurIPS 2019, supermasks); Ramanujan et al.,
"What's Hidden in a Randomly Weighted Neural Network?" (CVPR 2020, edge-popup).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping

import torch

from solutions._common import Params, check_fraction, check_params

__all__ = [
    "SPARSITY_TOL",
    "global_prune",
    "imp_sparsity",
    "iterative_magnitude_pruning",
    "magnitude_mask",
    "mask_overlap",
    "prune_count",
    "prune_remaining",
    "rewind",
    "rounds_to_reach",
    "straight_through_mask",
    "topk_score_mask",
]

#: Slack in `rounds_to_reach`: a schedule reaches `target` when its sparsity is at least
#: `target - SPARSITY_TOL`, so that e.g. 1 - 0.5**1 "reaches" 0.5 despite float rounding.
SPARSITY_TOL = 1e-12

#: Dtype in which magnitudes and scores are ranked (exact for all floating dtypes).
_RANK_DTYPE = torch.float64


# --------------------------------------------------------------------------------------
# validation helpers (private)
# --------------------------------------------------------------------------------------


def _check_count(value: object, name: str) -> int:
    """Return `value` as a non-negative Python int; bools and non-integers raise `ValueError`."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a non-negative integer, got a bool ({value!r})")
    try:
        count = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(
            f"{name} must be a non-negative integer, got {type(value).__name__} {value!r}"
        ) from None
    if count < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {count}")
    return count


def _check_real_tensor(value: object, name: str) -> torch.Tensor:
    """Return `value` if it is a real-valued (integer or floating) tensor without NaN."""
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.dtype == torch.bool or value.is_complex():
        raise ValueError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if value.is_floating_point() and bool(torch.isnan(value.detach()).any()):
        raise ValueError(f"{name} contains NaN; NaN entries cannot be ranked")
    return value


def _check_mask(
    mask: object, name: str, shape: torch.Size | None = None, shape_of: str = ""
) -> torch.Tensor:
    """Return `mask` if it is a bool tensor (of `shape`, when given), else raise `ValueError`."""
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"{name} must be a bool tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(f"{name} must be a bool tensor (True = kept), got dtype {mask.dtype}")
    if shape is not None and mask.shape != shape:
        raise ValueError(
            f"{name} has shape {tuple(mask.shape)} but {shape_of} has shape {tuple(shape)}"
        )
    return mask


def _magnitudes(weights: torch.Tensor) -> torch.Tensor:
    """Flat float64 absolute values of `weights` (row-major order), detached."""
    return weights.detach().reshape(-1).to(_RANK_DTYPE).abs()


def _prune_smallest(magnitudes: torch.Tensor, num_prune: int) -> torch.Tensor:
    """Flat bool keep-vector: False for the `num_prune` smallest, lower position first on ties."""
    keep = torch.ones(magnitudes.numel(), dtype=torch.bool, device=magnitudes.device)
    if num_prune > 0:
        order = torch.argsort(magnitudes, stable=True)
        keep[order[:num_prune]] = False
    return keep


# --------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------


def prune_count(n: int, fraction: float) -> int:
    """Number of entries to prune (or keep) when a fraction of `n` entries is asked for.

    Args:
        n: int >= 0, the number of entries (bools are rejected).
        fraction: float in [0, 1].

    Convention: exactly `math.floor(fraction * n + 0.5)` in Python float arithmetic, i.e.
    the nearest integer with halves rounded up, as float64 sees the product. So 0.3 of 12
    is 4 (worked example 3: 3.6 rounds to 4), and 0.58 of 25 is 14, not 15: in float64
    0.58 * 25 is 14.499999999999998, just below the half.

    Returns:
        int in [0, n].

    Raises:
        ValueError: `n` is negative or not an integer; `fraction` is outside [0, 1] or NaN.
    """
    count = _check_count(n, "n")
    frac = check_fraction(fraction, "fraction")
    return math.floor(frac * count + 0.5)


# --------------------------------------------------------------------------------------
# magnitude pruning
# --------------------------------------------------------------------------------------


def magnitude_mask(weights: torch.Tensor, fraction: float) -> torch.Tensor:
    """One-shot magnitude pruning of a single tensor.

    Args:
        weights: real tensor of any shape (numel N), not containing NaN.
        fraction: float in [0, 1], the fraction of the N entries to prune.

    Convention: prunes the `prune_count(N, fraction)` entries of smallest absolute value;
    among equal magnitudes the lower row-major (flat) index is pruned first.

    Returns:
        bool tensor with the shape and device of `weights`; True = kept, False = pruned.

    Raises:
        ValueError: `weights` is not a real tensor or contains NaN; bad `fraction`.
    """
    _check_real_tensor(weights, "weights")
    num_prune = prune_count(weights.numel(), fraction)
    keep = _prune_smallest(_magnitudes(weights), num_prune)
    return keep.reshape(weights.shape)


def prune_remaining(weights: torch.Tensor, mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """One IMP step on a single tensor: prune a fraction of the entries still kept.

    Args:
        weights: real tensor of any shape, not containing NaN.
        mask: bool tensor of the same shape as `weights`; True = still kept.
        fraction: float in [0, 1], the fraction of the K kept entries to prune.

    Convention: among the entries where `mask` is True, the `prune_count(K, fraction)` of
    smallest absolute value are pruned; ties: lower row-major index pruned first. Entries
    already pruned stay pruned, whatever their value.

    Returns:
        new bool tensor of the shape of `weights`, a subset of `mask` (True = kept).

    Raises:
        ValueError: `weights` is not a real tensor or contains NaN; `mask` is not a bool tensor
            of the same shape; bad `fraction`.
    """
    _check_real_tensor(weights, "weights")
    _check_mask(mask, "mask", weights.shape, "weights")
    flat_mask = mask.detach().reshape(-1)
    kept_idx = torch.nonzero(flat_mask, as_tuple=False).reshape(-1)  # ascending flat indices
    num_prune = prune_count(int(kept_idx.numel()), fraction)
    keep = flat_mask.clone()
    if num_prune > 0:
        mags = _magnitudes(weights).to(kept_idx.device)[kept_idx]
        order = torch.argsort(mags, stable=True)
        keep[kept_idx[order[:num_prune]]] = False
    return keep.reshape(mask.shape)


def global_prune(
    params: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor], fraction: float
) -> dict[str, torch.Tensor]:
    """Global magnitude pruning over several tensors jointly (one IMP round).

    Args:
        params: Params, name -> real tensor (e.g. the trained weights). Keys not in `masks`
            (biases, ...) are not prunable and are ignored.
        masks: ordered dict name -> bool tensor of the shape of `params[name]`; True = kept.
        fraction: float in [0, 1], the fraction of all kept entries to prune.

    Convention: the kept entries of all tensors in `masks` are ranked together by absolute
    value and `prune_count(total kept, fraction)` of the smallest are pruned; ties: the
    earlier key in `masks` order, then the lower flat (row-major) index, is pruned first.

    Returns:
        new dict with the keys of `masks` in the same order, each a new bool tensor that is a
        subset of the corresponding input mask.

    Raises:
        ValueError: a key of `masks` is absent from `params`; a shape differs; a mask is not
            bool; a prunable tensor is not real or contains NaN; bad `fraction`.
    """
    check_params(params, "params")
    check_params(masks, "masks")
    frac = check_fraction(fraction, "fraction")
    flat_masks: list[torch.Tensor] = []
    kept_mags: list[torch.Tensor] = []
    for key, mask in masks.items():
        if key not in params:
            raise ValueError(f"masks has key {key!r} that is absent from params")
        _check_real_tensor(params[key], f"params[{key!r}]")
        _check_mask(mask, f"masks[{key!r}]", params[key].shape, f"params[{key!r}]")
        flat_mask = mask.detach().reshape(-1).cpu()
        flat_masks.append(flat_mask)
        kept_mags.append(_magnitudes(params[key]).cpu()[flat_mask])
    # Concatenating in key order, each in ascending flat order, makes a stable sort apply the
    # tie rule (earlier key, then lower flat index, pruned first) by itself.
    all_mags = torch.cat(kept_mags) if kept_mags else torch.zeros(0, dtype=_RANK_DTYPE)
    keep_kept = _prune_smallest(all_mags, prune_count(int(all_mags.numel()), frac))
    result: dict[str, torch.Tensor] = {}
    start = 0
    for (key, mask), flat_mask in zip(masks.items(), flat_masks):
        num_kept = int(flat_mask.sum())
        new_flat = flat_mask.clone()
        new_flat[flat_mask] = keep_kept[start : start + num_kept]
        start += num_kept
        result[key] = new_flat.reshape(mask.shape).to(mask.device)
    return result


# --------------------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------------------


def imp_sparsity(fraction: float, rounds: int) -> float:
    """Sparsity after `rounds` IMP rounds that each prune `fraction` of the remaining weights.

    Args:
        fraction: float in [0, 1], pruned per round.
        rounds: int >= 0.

    Convention: the continuous schedule 1 - (1 - fraction)**rounds (ignores rounding to
    whole entries).

    Returns:
        float in [0, 1], the fraction of weights pruned in total.

    Raises:
        ValueError: `fraction` outside [0, 1] or NaN; `rounds` negative or not an integer.
    """
    frac = check_fraction(fraction, "fraction")
    num_rounds = _check_count(rounds, "rounds")
    return float(1.0 - (1.0 - frac) ** num_rounds)


def rounds_to_reach(fraction: float, target_sparsity: float) -> int:
    """Fewest IMP rounds whose sparsity reaches `target_sparsity`.

    Args:
        fraction: float in (0, 1), pruned per round.
        target_sparsity: float in [0, 1).

    Convention: the smallest r >= 0 with
    `imp_sparsity(fraction, r) >= target_sparsity - SPARSITY_TOL` (20% a round reaches 90%
    in 11 rounds). Computed from a logarithmic estimate, then corrected by evaluating
    `imp_sparsity` itself, so the result agrees with the definition exactly.

    Returns:
        int >= 0.

    Raises:
        ValueError: `fraction` outside (0, 1) or NaN; `target_sparsity` outside [0, 1) or NaN;
            `fraction` so small that 1 - fraction rounds to 1.0 while the target is positive.
    """
    frac = check_fraction(fraction, "fraction", open_low=True, open_high=True)
    target = check_fraction(target_sparsity, "target_sparsity", open_high=True)
    goal = target - SPARSITY_TOL
    if goal <= 0.0:
        return 0
    if 1.0 - frac == 1.0:
        raise ValueError(
            f"fraction {fraction!r} is too small: 1 - fraction rounds to 1.0 in float64, so "
            f"no number of rounds reaches target_sparsity {target_sparsity!r}"
        )
    estimate = math.log1p(-target) / math.log1p(-frac)
    r = max(0, math.ceil(estimate))
    while r > 0 and imp_sparsity(frac, r - 1) >= goal:
        r -= 1
    while imp_sparsity(frac, r) < goal:
        r += 1
    return r


# --------------------------------------------------------------------------------------
# rewinding and IMP
# --------------------------------------------------------------------------------------


def rewind(init_params: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> Params:
    """Reset to the initialisation and apply the masks (step 4 of the seed's IMP procedure).

    Args:
        init_params: Params, name -> tensor (theta_0, or theta_k for late rewinding).
        masks: dict name -> bool tensor of the shape of `init_params[name]`; True = kept.
            Keys of `init_params` that are not in `masks` are copied unchanged.

    Returns:
        new Params with the keys of `init_params` in the same order: detached copies (no
        memory shared with the input, same dtype and device) whose pruned entries (mask False)
        are 0.

    Raises:
        ValueError: a key of `masks` is absent from `init_params`; a mask is not a bool tensor
            of the matching shape.
    """
    check_params(init_params, "init_params")
    check_params(masks, "masks")
    for key, mask in masks.items():
        if key not in init_params:
            raise ValueError(f"masks has key {key!r} that is absent from init_params")
        _check_mask(mask, f"masks[{key!r}]", init_params[key].shape, f"init_params[{key!r}]")
    rewound: Params = {}
    for key, value in init_params.items():
        copy = value.detach().clone()
        if key in masks:
            copy.masked_fill_(~masks[key].to(copy.device), 0)
        rewound[key] = copy
    return rewound


TrainFn = Callable[[Params, dict[str, torch.Tensor]], Mapping[str, torch.Tensor]]


def iterative_magnitude_pruning(
    init_params: Mapping[str, torch.Tensor], train_fn: TrainFn, rounds: int, fraction: float
) -> list[dict[str, torch.Tensor]]:
    """Iterative magnitude pruning with rewinding (Frankle & Carbin 2019).

    Args:
        init_params: Params, name -> tensor; the weights every round rewinds to (theta_0, or
            the step-k parameters for late rewinding).
        train_fn: callable `(params, masks) -> trained Params`; receives a fresh rewound copy
            and a fresh copy of the current masks, and must return Params containing every
            prunable key with the same shapes.
        rounds: int >= 0, the number of prune rounds (= calls to `train_fn`).
        fraction: float in [0, 1], pruned per round from the weights still kept.

    Convention: masks start all True for every tensor of `init_params` with dim >= 2 (biases
    and other 1-D tensors are never pruned). Each round:
    `trained = train_fn(rewind(init_params, masks), masks)`, then
    `masks = global_prune(trained, masks, fraction)`.

    Returns:
        list of length `rounds`; entry i is the masks after round i + 1: a dict (keys in
        `init_params` order, dim >= 2 tensors only) of new bool tensors, each a subset of
        the previous round's.

    Raises:
        ValueError: bad `init_params`, `train_fn` not callable, `rounds` negative or not an
            integer, bad `fraction` (checked even when `rounds` is 0); `train_fn` returning
            something that `global_prune` rejects.
    """
    check_params(init_params, "init_params")
    if not callable(train_fn):
        raise ValueError(f"train_fn must be callable, got {type(train_fn).__name__}")
    num_rounds = _check_count(rounds, "rounds")
    frac = check_fraction(fraction, "fraction")
    masks = {
        key: torch.ones(value.shape, dtype=torch.bool, device=value.device)
        for key, value in init_params.items()
        if value.dim() >= 2
    }
    history: list[dict[str, torch.Tensor]] = []
    for round_index in range(num_rounds):
        rewound = rewind(init_params, masks)
        trained = train_fn(rewound, {key: mask.clone() for key, mask in masks.items()})
        try:
            masks = global_prune(trained, masks, frac)
        except ValueError as exc:  # fraction is valid, so the trained params are at fault
            raise ValueError(
                f"train_fn returned unusable params in round {round_index + 1}: {exc}"
            ) from exc
        history.append({key: mask.clone() for key, mask in masks.items()})
    return history


# --------------------------------------------------------------------------------------
# supermasks
# --------------------------------------------------------------------------------------


def topk_score_mask(scores: torch.Tensor, keep_fraction: float) -> torch.Tensor:
    """Keep the highest-scoring entries (supermasks, edge-popup).

    Args:
        scores: real tensor of any shape (numel N), not containing NaN.
        keep_fraction: float in [0, 1], the fraction of the N entries to keep.

    Convention: keeps the `prune_count(N, keep_fraction)` largest scores (signed, not
    absolute values); among equal scores the lower flat (row-major) index is kept first.

    Returns:
        bool tensor with the shape and device of `scores`; True = kept.

    Raises:
        ValueError: `scores` is not a real tensor or contains NaN; bad `keep_fraction`.
    """
    _check_real_tensor(scores, "scores")
    num_keep = prune_count(scores.numel(), check_fraction(keep_fraction, "keep_fraction"))
    flat = scores.detach().reshape(-1).to(_RANK_DTYPE)
    keep = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    if num_keep > 0:
        order = torch.argsort(flat, descending=True, stable=True)
        keep[order[:num_keep]] = True
    return keep.reshape(scores.shape)


class _StraightThrough(torch.autograd.Function):
    """Forward: the given hard 0/1 mask; backward: the incoming gradient, unchanged."""

    @staticmethod
    def forward(ctx, scores: torch.Tensor, hard: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return hard.clone()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return grad_output, None


def straight_through_mask(scores: torch.Tensor, keep_fraction: float) -> torch.Tensor:
    """Differentiable supermask with the straight-through estimator (edge-popup).

    Args:
        scores: real tensor of any shape, not containing NaN; usually a leaf with
            `requires_grad=True`.
        keep_fraction: float in [0, 1], the fraction of entries to keep.

    Convention: the forward value is exactly `topk_score_mask(scores, keep_fraction)` as 0.0 /
    1.0 (a custom autograd function, so no rounding of the form s + (m - s) can creep in);
    the gradient with respect to `scores` is the incoming gradient unchanged (identity).

    Returns:
        tensor of the shape of `scores` with values exactly 0.0 or 1.0, in the dtype of
        `scores` (the default float dtype when `scores` is an integer tensor, which cannot
        carry gradients).

    Raises:
        ValueError: `scores` is not a real tensor or contains NaN; bad `keep_fraction`.
    """
    hard = topk_score_mask(scores, keep_fraction)
    dtype = scores.dtype if scores.is_floating_point() else torch.get_default_dtype()
    hard_values = hard.to(dtype)
    if not scores.is_floating_point():
        return hard_values
    return _StraightThrough.apply(scores, hard_values)


def mask_overlap(mask_a: torch.Tensor, mask_b: torch.Tensor) -> float:
    """Jaccard index of the kept sets of two masks (practice problem 3: ticket transfer).

    Args:
        mask_a: bool tensor of any shape; True = kept.
        mask_b: bool tensor of the same shape.

    Convention: |A ∩ B| / |A ∪ B| over the True entries; 1.0 when both masks keep nothing.

    Returns:
        float in [0, 1].

    Raises:
        ValueError: either mask is not a bool tensor; the shapes differ.
    """
    _check_mask(mask_a, "mask_a")
    _check_mask(mask_b, "mask_b", mask_a.shape, "mask_a")
    a = mask_a.detach()
    b = mask_b.detach().to(a.device)
    union = int((a | b).sum())
    if union == 0:
        return 1.0
    return int((a & b).sum()) / union
