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

Every graded function here is also the model answer of its answer cell in
``source/landscapes/03_lottery_tickets.ipynb``: the notebook builder splices its source
(signature and docstring, which match the notebook's, then the body) into that cell after the
cell's preamble (its imports and constants). So a function body uses only builtins, the names
of its cell's preamble, graded functions of earlier cells, and names it defines or imports
itself. The module-level imports and constants below are those of the preambles.

References: Frankle & Carbin, "The Lottery Ticket Hypothesis" (ICLR 2019); Frankle et al.,
"Linear Mode Connectivity and the Lottery Ticket Hypothesis" (ICML 2020, late rewinding);
Zhou et al., "Deconstructing Lottery Tickets" (NeurIPS 2019, supermasks); Ramanujan et al.,
"What's Hidden in a Randomly Weighted Neural Network?" (CVPR 2020, edge-popup).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

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

# The preamble of rounds_to_reach's answer cell defines this constant, with this value.

#: A schedule "reaches" a target when its sparsity is at least target - SPARSITY_TOL, so that
#: float rounding (1 - 0.8 is 0.19999999999999996) does not cost an extra round.
SPARSITY_TOL = 1e-12


# --------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------


def prune_count(n: int, fraction: float) -> int:
    """How many entries "a fraction of n entries" is: the nearest integer, halves rounded up.

    Inputs:
    - n: int >= 0, the number of entries (weights, kept weights, scores, ...).
    - fraction: float in [0, 1].

    Convention: exactly math.floor(fraction * n + 0.5) computed with Python floats
    (float64). So 30% of 12 is 4 (3.6 rounds to 4, worked example 3), 0.5 of 5 is 3
    (2.5 rounds UP), and 0.58 of 25 is 14: in float64, 0.58 * 25 is 14.499999999999998,
    just below the half.

    Returns:
    - an int in [0, n].

    Raises:
    - ValueError (naming the argument) if n < 0 or fraction is outside [0, 1] (or NaN).

    Hint: do not use Python's round(): it rounds halves to even (round(2.5) == 2).
    Reference: Frankle & Carbin (2019) prune "p%" of the weights; this fixes what that
    means for a whole number of weights.
    """
    import operator

    # n: a non-negative integer (operator.index accepts Python, numpy and 0-d integer torch
    # numbers, and rejects floats such as 3.0).
    if isinstance(n, bool):
        raise ValueError(f"n must be a non-negative integer, got a bool ({n!r})")
    try:
        count = operator.index(n)
    except TypeError:
        raise ValueError(
            f"n must be a non-negative integer, got {type(n).__name__} {n!r}"
        ) from None
    if count < 0:
        raise ValueError(f"n must be a non-negative integer, got {count}")

    # fraction: a number in [0, 1] (`not 0 <= x <= 1` is also True for NaN).
    try:
        frac = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"fraction must be a number, got {type(fraction).__name__}") from None
    if not 0.0 <= frac <= 1.0:
        raise ValueError(f"fraction must lie in [0.0, 1.0], got {fraction!r}")

    # Halves round UP (Python's round() would round them to even).
    return math.floor(frac * count + 0.5)


# --------------------------------------------------------------------------------------
# magnitude pruning
# --------------------------------------------------------------------------------------


def magnitude_mask(weights: torch.Tensor, fraction: float) -> torch.Tensor:
    """One-shot magnitude pruning of one weight tensor.

    Inputs:
    - weights: real tensor of any shape, with N = weights.numel() entries (no NaN).
    - fraction: float in [0, 1], the fraction of the N entries to prune.

    Convention: prune the prune_count(N, fraction) entries of smallest absolute value.
    Among equal magnitudes the entry with the lower row-major (flat) index is pruned
    first (in worked example 3 this decides between the two weights of magnitude 0.1
    when only one of them goes).

    Returns:
    - a bool tensor of the shape of `weights`: True = kept, False = pruned.
      `weights` itself is not changed.

    Raises:
    - ValueError for a fraction outside [0, 1].

    Hint: torch.argsort(x, stable=True) sorts ascending and keeps equal values in
    their original order, which is exactly the tie rule.
    Reference: magnitude pruning as in Frankle & Carbin (2019), step 3 of IMP.
    """
    if not isinstance(weights, torch.Tensor):
        raise ValueError(f"weights must be a torch.Tensor, got {type(weights).__name__}")
    if weights.dtype == torch.bool or weights.is_complex():
        raise ValueError(f"weights must hold real numbers, got dtype {weights.dtype}")
    if weights.is_floating_point() and bool(torch.isnan(weights.detach()).any()):
        raise ValueError("weights contains NaN; NaN entries cannot be ranked")
    num_prune = prune_count(weights.numel(), fraction)  # also validates `fraction`

    # Magnitudes in float64 (exact for every dtype), in row-major order.
    magnitudes = weights.detach().reshape(-1).to(torch.float64).abs()
    keep = torch.ones(magnitudes.numel(), dtype=torch.bool, device=magnitudes.device)
    if num_prune > 0:
        # Smallest first; a stable sort keeps equal magnitudes in row-major order.
        order = torch.argsort(magnitudes, stable=True)
        keep[order[:num_prune]] = False
    return keep.reshape(weights.shape)


def prune_remaining(weights: torch.Tensor, mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """One IMP step on one tensor: prune a fraction of the entries that are still kept.

    Inputs:
    - weights: real tensor of any shape (no NaN), e.g. the weights after training.
    - mask: bool tensor of the same shape; True = still kept, False = already pruned.
    - fraction: float in [0, 1], the fraction of the K = mask.sum() kept entries to prune.

    Convention: among the kept entries only, prune the prune_count(K, fraction) of
    smallest absolute value; ties: lower row-major index pruned first. Entries that
    `mask` already pruned stay pruned, whatever their value.

    Returns:
    - a new bool tensor of the shape of `weights`, a subset of `mask` (True = kept).
      Neither input is changed.

    Raises:
    - ValueError if mask.shape != weights.shape or fraction is outside [0, 1].

    Hint: torch.nonzero(mask.flatten()) gives the flat indices of the kept entries in
    ascending (row-major) order; rank only their magnitudes.
    Reference: IMP prunes p% of the REMAINING weights each round (Frankle & Carbin 2019).
    """
    if not isinstance(weights, torch.Tensor):
        raise ValueError(f"weights must be a torch.Tensor, got {type(weights).__name__}")
    if weights.dtype == torch.bool or weights.is_complex():
        raise ValueError(f"weights must hold real numbers, got dtype {weights.dtype}")
    if weights.is_floating_point() and bool(torch.isnan(weights.detach()).any()):
        raise ValueError("weights contains NaN; NaN entries cannot be ranked")
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"mask must be a bool tensor, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor (True = kept), got dtype {mask.dtype}")
    if mask.shape != weights.shape:
        raise ValueError(
            f"mask has shape {tuple(mask.shape)} but weights has shape {tuple(weights.shape)}"
        )

    flat_mask = mask.detach().reshape(-1)
    kept_idx = torch.nonzero(flat_mask, as_tuple=False).reshape(-1)  # ascending flat indices
    num_prune = prune_count(int(kept_idx.numel()), fraction)  # also validates `fraction`
    keep = flat_mask.clone()
    if num_prune > 0:
        # Rank only the kept entries' magnitudes (float64, row-major, stable sort).
        magnitudes = weights.detach().reshape(-1).to(torch.float64).abs()
        kept_magnitudes = magnitudes.to(kept_idx.device)[kept_idx]
        order = torch.argsort(kept_magnitudes, stable=True)
        keep[kept_idx[order[:num_prune]]] = False
    return keep.reshape(mask.shape)


def global_prune(
    params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor], fraction: float
) -> dict[str, torch.Tensor]:
    """Global magnitude pruning: one ranking over the kept entries of several tensors.

    Inputs:
    - params: Params, name -> real tensor (e.g. trained weights). Keys that are not in
      `masks` (biases, ...) are not prunable and take no part in the ranking.
    - masks: ordered dict name -> bool tensor of the shape of params[name]; True = kept.
    - fraction: float in [0, 1], the fraction of ALL kept entries (summed over the
      keys of `masks`) to prune.

    Convention: the kept entries of every tensor named in `masks` are ranked together
    by absolute value and the prune_count(total kept, fraction) smallest are pruned.
    Ties: the earlier key in `masks` order is pruned first, then the lower flat
    (row-major) index within a tensor.

    Returns:
    - a new dict with the keys of `masks`, in the same order; each value a new bool
      tensor that is a subset of the input mask. The inputs are not changed.

    Raises:
    - ValueError for a key of `masks` absent from `params`, a mask whose shape differs
      from its tensor, or a fraction outside [0, 1].

    Hint: concatenate the kept magnitudes key by key (each in row-major order); a stable
    sort of that one vector then applies the tie rule by itself. Cast to float64 first
    so that tensors of different dtypes can be concatenated.
    Reference: Frankle & Carbin (2019) prune the deeper convolutional networks globally.
    """
    from collections.abc import Mapping

    for arg, tensors in (("params", params), ("masks", masks)):
        if not isinstance(tensors, Mapping):
            raise ValueError(f"{arg} must be a dict of tensors, got {type(tensors).__name__}")
        for key, value in tensors.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{arg}[{key!r}] must be a tensor, got {type(value).__name__}")
    try:
        frac = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"fraction must be a number, got {type(fraction).__name__}") from None
    if not 0.0 <= frac <= 1.0:  # also rejects NaN
        raise ValueError(f"fraction must lie in [0.0, 1.0], got {fraction!r}")

    # 1. The magnitudes of the kept entries, key by key (masks order), each in row-major
    #    order, in float64 so that tensors of different dtypes can be concatenated.
    flat_masks = []
    kept_magnitudes = []
    for key, mask in masks.items():
        if key not in params:
            raise ValueError(f"masks has key {key!r} that is absent from params")
        weights = params[key]
        if weights.dtype == torch.bool or weights.is_complex():
            raise ValueError(f"params[{key!r}] must hold real numbers, got dtype {weights.dtype}")
        if weights.is_floating_point() and bool(torch.isnan(weights.detach()).any()):
            raise ValueError(f"params[{key!r}] contains NaN; NaN entries cannot be ranked")
        if mask.dtype != torch.bool:
            raise ValueError(
                f"masks[{key!r}] must be a bool tensor (True = kept), got dtype {mask.dtype}"
            )
        if mask.shape != weights.shape:
            raise ValueError(
                f"masks[{key!r}] has shape {tuple(mask.shape)} but params[{key!r}] has shape "
                f"{tuple(weights.shape)}"
            )
        flat_mask = mask.detach().reshape(-1).cpu()
        flat_masks.append(flat_mask)
        magnitudes = weights.detach().reshape(-1).to(torch.float64).abs().cpu()
        kept_magnitudes.append(magnitudes[flat_mask])
    all_magnitudes = (
        torch.cat(kept_magnitudes) if kept_magnitudes else torch.zeros(0, dtype=torch.float64)
    )

    # 2. One ranking: a stable sort of that one vector applies the tie rule (earlier key,
    #    then lower flat index, pruned first) by itself.
    num_prune = prune_count(int(all_magnitudes.numel()), frac)
    keep_kept = torch.ones(all_magnitudes.numel(), dtype=torch.bool)
    if num_prune > 0:
        order = torch.argsort(all_magnitudes, stable=True)
        keep_kept[order[:num_prune]] = False

    # 3. Split the decisions back into one new mask per key.
    result = {}
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
    """Sparsity (fraction of weights pruned) after `rounds` IMP rounds of `fraction` each.

    Inputs:
    - fraction: float in [0, 1], the fraction of the remaining weights pruned per round.
    - rounds: int >= 0, the number of rounds.

    Convention: every round keeps (1 - fraction) of what was left, so the sparsity is
    1 - (1 - fraction)**rounds (a continuous formula: it ignores rounding to whole
    weights).

    Returns:
    - a Python float in [0, 1].

    Raises:
    - ValueError for a fraction outside [0, 1] or rounds < 0.

    Hint: 20% a round for 2 rounds is 36%, not 40%.
    Reference: the pruning schedule of IMP (Frankle & Carbin 2019).
    """
    import operator

    try:
        frac = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"fraction must be a number, got {type(fraction).__name__}") from None
    if not 0.0 <= frac <= 1.0:  # also rejects NaN
        raise ValueError(f"fraction must lie in [0.0, 1.0], got {fraction!r}")
    if isinstance(rounds, bool):
        raise ValueError(f"rounds must be a non-negative integer, got a bool ({rounds!r})")
    try:
        num_rounds = operator.index(rounds)  # rejects floats such as 2.0
    except TypeError:
        raise ValueError(
            f"rounds must be a non-negative integer, got {type(rounds).__name__} {rounds!r}"
        ) from None
    if num_rounds < 0:
        raise ValueError(f"rounds must be a non-negative integer, got {num_rounds}")

    return float(1.0 - (1.0 - frac) ** num_rounds)


def rounds_to_reach(fraction: float, target_sparsity: float) -> int:
    """The fewest IMP rounds of `fraction` each whose sparsity reaches `target_sparsity`.

    Inputs:
    - fraction: float in (0, 1), pruned per round (0 would never get anywhere, 1 prunes
      everything at once).
    - target_sparsity: float in [0, 1) (1 would mean pruning every weight).

    Convention: the smallest r >= 0 with
    imp_sparsity(fraction, r) >= target_sparsity - SPARSITY_TOL.
    20% a round reaches 90% sparsity in 11 rounds (0.8**10 = 0.107 > 0.1 >= 0.8**11).

    Returns:
    - an int >= 0.

    Raises:
    - ValueError for fraction outside (0, 1) or target_sparsity outside [0, 1).

    Hint: solving (1 - fraction)**r <= 1 - target gives r >= log(1 - target) / log(1 - fraction);
    use it as a first guess, then check it (and its neighbours) with imp_sparsity itself,
    so that the answer agrees with the definition exactly.
    """
    try:
        frac = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"fraction must be a number, got {type(fraction).__name__}") from None
    if not 0.0 < frac < 1.0:  # also rejects NaN
        raise ValueError(f"fraction must lie in (0.0, 1.0), got {fraction!r}")
    try:
        target = float(target_sparsity)
    except (TypeError, ValueError):
        raise ValueError(
            f"target_sparsity must be a number, got {type(target_sparsity).__name__}"
        ) from None
    if not 0.0 <= target < 1.0:
        raise ValueError(f"target_sparsity must lie in [0.0, 1.0), got {target_sparsity!r}")

    goal = target - SPARSITY_TOL
    if goal <= 0.0:
        return 0
    if 1.0 - frac == 1.0:
        raise ValueError(
            f"fraction {fraction!r} is too small: 1 - fraction rounds to 1.0 in float64, so "
            f"no number of rounds reaches target_sparsity {target_sparsity!r}"
        )
    # First guess from the logarithm, then correct it with the definition itself.
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


def rewind(
    init_params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Reset to the initialisation and apply the masks (step 4 of IMP).

    Inputs:
    - init_params: Params, name -> tensor: theta_0 (or theta_k for late rewinding).
    - masks: dict name -> bool tensor of the shape of init_params[name]; True = kept.
      Keys of init_params that are not in masks (e.g. biases) are copied unchanged.

    Returns:
    - new Params with the keys of init_params in the same order: NEW tensors (no memory
      shared with init_params, same dtype) equal to init_params except that the pruned
      entries (mask False) are 0. The inputs are not changed.

    Raises:
    - ValueError for a key of masks absent from init_params, or a mask whose shape
      differs from its tensor.

    Hint: tensor.detach().clone() makes a copy; masked_fill(~mask, 0) zeroes the pruned
    entries without touching the input.
    Reference: "reset the remaining parameters to their values in theta_0"
    (Frankle & Carbin 2019).
    """
    from collections.abc import Mapping

    for arg, tensors in (("init_params", init_params), ("masks", masks)):
        if not isinstance(tensors, Mapping):
            raise ValueError(f"{arg} must be a dict of tensors, got {type(tensors).__name__}")
        for key, value in tensors.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{arg}[{key!r}] must be a tensor, got {type(value).__name__}")
    for key, mask in masks.items():
        if key not in init_params:
            raise ValueError(f"masks has key {key!r} that is absent from init_params")
        if mask.dtype != torch.bool:
            raise ValueError(
                f"masks[{key!r}] must be a bool tensor (True = kept), got dtype {mask.dtype}"
            )
        if mask.shape != init_params[key].shape:
            raise ValueError(
                f"masks[{key!r}] has shape {tuple(mask.shape)} but init_params[{key!r}] has "
                f"shape {tuple(init_params[key].shape)}"
            )

    rewound = {}
    for key, value in init_params.items():
        copy = value.detach().clone()  # a new tensor, never a view of the input
        if key in masks:
            copy.masked_fill_(~masks[key].to(copy.device), 0)  # pruned entries are 0
        rewound[key] = copy
    return rewound


def iterative_magnitude_pruning(
    init_params: dict[str, torch.Tensor],
    train_fn: Callable[[dict[str, torch.Tensor], dict[str, torch.Tensor]], dict[str, torch.Tensor]],
    rounds: int,
    fraction: float,
) -> list[dict[str, torch.Tensor]]:
    """Iterative magnitude pruning (IMP) with rewinding.

    Inputs:
    - init_params: Params, the weights every round rewinds to (theta_0; for late
      rewinding, the parameters after k training steps).
    - train_fn: callable (params, masks) -> trained Params. It receives freshly rewound
      params and the current masks, trains (keeping pruned weights at 0) and returns the
      trained params (with at least every prunable key).
    - rounds: int >= 0, the number of rounds = the number of calls to train_fn.
    - fraction: float in [0, 1], the fraction of the still-kept weights pruned per round.

    Convention: masks start all True for every tensor of init_params with dim >= 2
    (weight matrices; biases and other 1-D tensors are never pruned). Each round:
        trained = train_fn(rewind(init_params, masks), masks)
        masks = global_prune(trained, masks, fraction)

    Returns:
    - a list of length `rounds`: entry i is the masks dict after round i + 1.

    Raises:
    - ValueError for a fraction outside [0, 1] or rounds < 0 -- checked before anything
      else, even when rounds == 0.

    Hint: call train_fn exactly once per round; every round starts again from
    init_params (that is the rewinding), not from the previous round's trained weights.
    Reference: Frankle & Carbin (2019), section 2; late rewinding: Frankle et al. (2020).
    """
    import operator
    from collections.abc import Mapping

    if not isinstance(init_params, Mapping):
        raise ValueError(f"init_params must be a dict of tensors, got {type(init_params).__name__}")
    for key, value in init_params.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"init_params[{key!r}] must be a tensor, got {type(value).__name__}")
    if not callable(train_fn):
        raise ValueError(f"train_fn must be callable, got {type(train_fn).__name__}")
    if isinstance(rounds, bool):
        raise ValueError(f"rounds must be a non-negative integer, got a bool ({rounds!r})")
    try:
        num_rounds = operator.index(rounds)
    except TypeError:
        raise ValueError(
            f"rounds must be a non-negative integer, got {type(rounds).__name__} {rounds!r}"
        ) from None
    if num_rounds < 0:
        raise ValueError(f"rounds must be a non-negative integer, got {num_rounds}")
    try:
        frac = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"fraction must be a number, got {type(fraction).__name__}") from None
    if not 0.0 <= frac <= 1.0:  # also rejects NaN
        raise ValueError(f"fraction must lie in [0.0, 1.0], got {fraction!r}")

    # Weight matrices (dim >= 2) are prunable; biases and other 1-D tensors never are.
    masks = {
        key: torch.ones(value.shape, dtype=torch.bool, device=value.device)
        for key, value in init_params.items()
        if value.dim() >= 2
    }
    history = []
    for round_index in range(num_rounds):
        # Every round starts again from init_params (the rewinding), not from the previous
        # round's trained weights. train_fn gets a copy of the masks: it cannot change ours.
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
    """Keep the entries with the highest scores (the forward pass of a supermask).

    Inputs:
    - scores: real tensor of any shape, N = scores.numel() entries (no NaN).
    - keep_fraction: float in [0, 1], the fraction of the N entries to KEEP.

    Convention: keep the prune_count(N, keep_fraction) LARGEST scores -- signed values,
    not absolute values. Among equal scores the lower flat (row-major) index is kept
    first.

    Returns:
    - a bool tensor of the shape of `scores`: True = kept. `scores` is not changed.

    Raises:
    - ValueError for keep_fraction outside [0, 1].

    Hint: torch.argsort(x, descending=True, stable=True) puts the largest first and keeps
    equal values in their original order.
    Reference: edge-popup (Ramanujan et al. 2020) keeps the top-k% scores of each layer.
    """
    if not isinstance(scores, torch.Tensor):
        raise ValueError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if scores.dtype == torch.bool or scores.is_complex():
        raise ValueError(f"scores must hold real numbers, got dtype {scores.dtype}")
    if scores.is_floating_point() and bool(torch.isnan(scores.detach()).any()):
        raise ValueError("scores contains NaN; NaN entries cannot be ranked")
    try:
        keep_frac = float(keep_fraction)
    except (TypeError, ValueError):
        raise ValueError(
            f"keep_fraction must be a number, got {type(keep_fraction).__name__}"
        ) from None
    if not 0.0 <= keep_frac <= 1.0:  # also rejects NaN
        raise ValueError(f"keep_fraction must lie in [0.0, 1.0], got {keep_fraction!r}")
    num_keep = prune_count(scores.numel(), keep_frac)

    # Signed scores in float64 (exact for every dtype), in row-major order.
    flat = scores.detach().reshape(-1).to(torch.float64)
    keep = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    if num_keep > 0:
        # Largest first; the stable sort keeps equal scores in row-major order.
        order = torch.argsort(flat, descending=True, stable=True)
        keep[order[:num_keep]] = True
    return keep.reshape(scores.shape)


def straight_through_mask(scores: torch.Tensor, keep_fraction: float) -> torch.Tensor:
    """A 0/1 supermask you can train: top-k forward, identity gradient backward.

    Inputs:
    - scores: floating tensor of any shape (no NaN), usually a leaf with
      requires_grad=True.
    - keep_fraction: float in [0, 1], the fraction of entries to keep.

    Convention: the forward VALUE equals topk_score_mask(scores, keep_fraction) as 0.0 /
    1.0 in the dtype of scores; the GRADIENT with respect to scores is the incoming
    gradient, unchanged (the straight-through estimator: the backward pass pretends
    the thresholding were the identity).

    Returns:
    - a tensor of the shape and dtype of scores with values exactly 0.0 or 1.0, connected
      to scores in the autograd graph. `scores` is not changed.

    Raises:
    - ValueError for keep_fraction outside [0, 1].

    Hint: hard + (scores - scores.detach()) has the value of `hard` (the bracket is
    exactly 0) and the gradient of `scores`.
    Reference: Bengio et al. (2013) for straight-through estimators; edge-popup
    (Ramanujan et al. 2020) trains its scores this way.
    """

    class StraightThrough(torch.autograd.Function):
        """Forward: the given hard 0/1 mask; backward: the incoming gradient, unchanged."""

        @staticmethod
        def forward(ctx, scores, hard):
            return hard.clone()

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None  # identity for scores, no gradient for hard

    hard = topk_score_mask(scores, keep_fraction)  # validates both arguments
    # Integer scores cannot carry gradients: return the mask in the default float dtype.
    dtype = scores.dtype if scores.is_floating_point() else torch.get_default_dtype()
    hard_values = hard.to(dtype)
    if not scores.is_floating_point():
        return hard_values
    # A custom autograd function rather than hard + (scores - scores.detach()): its value
    # is exactly the 0/1 mask even for infinite scores (inf - inf would be NaN).
    return StraightThrough.apply(scores, hard_values)


def mask_overlap(mask_a: torch.Tensor, mask_b: torch.Tensor) -> float:
    """How similar two tickets are: the Jaccard index of their kept sets.

    Inputs:
    - mask_a: bool tensor of any shape; True = kept.
    - mask_b: bool tensor of the same shape.

    Convention: |A and B| / |A or B| over the kept (True) entries; entries pruned in
    both masks do not count. Two masks that keep nothing are identical: 1.0.

    Returns:
    - a Python float in [0, 1]. The masks are not changed.

    Raises:
    - ValueError if the shapes differ (no broadcasting).

    Hint: (mask_a & mask_b).sum() and (mask_a | mask_b).sum().
    Reference: practice problem 3 (do tickets transfer between data sets?).
    """
    if not isinstance(mask_a, torch.Tensor):
        raise ValueError(f"mask_a must be a bool tensor, got {type(mask_a).__name__}")
    if mask_a.dtype != torch.bool:
        raise ValueError(f"mask_a must be a bool tensor (True = kept), got dtype {mask_a.dtype}")
    if not isinstance(mask_b, torch.Tensor):
        raise ValueError(f"mask_b must be a bool tensor, got {type(mask_b).__name__}")
    if mask_b.dtype != torch.bool:
        raise ValueError(f"mask_b must be a bool tensor (True = kept), got dtype {mask_b.dtype}")
    if mask_b.shape != mask_a.shape:  # no broadcasting
        raise ValueError(
            f"mask_b has shape {tuple(mask_b.shape)} but mask_a has shape {tuple(mask_a.shape)}"
        )

    a = mask_a.detach()
    b = mask_b.detach().to(a.device)
    union = int((a | b).sum())
    if union == 0:  # two masks that keep nothing are identical
        return 1.0
    return int((a & b).sum()) / union
