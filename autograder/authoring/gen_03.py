"""Generate source/landscapes/03_lottery_tickets.ipynb (run from anywhere with the venv).

    python autograder/authoring/gen_03.py [output path]

The hidden-test cells are built from the check registry at generation time
(`autograder.checks.parts`), so rerun this script whenever the checks change.
The answer-cell sources (model solutions inside ### BEGIN/END SOLUTION) are the ANSWERS dict
below; they are self-contained re-implementations, never imports of `solutions`.
"""

from __future__ import annotations

from nbbuild import HIDDEN_POINTS, NotebookBuilder, output_path

# =============================================================================================
# Answer cells (graded functions, in teaching order)
# =============================================================================================

PRUNE_COUNT = '''\
import math


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
    ### BEGIN SOLUTION
    if n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    # `not (0 <= x <= 1)` is also True for NaN, so NaN is rejected too.
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction!r}")
    return math.floor(fraction * n + 0.5)
    ### END SOLUTION
'''

MAGNITUDE_MASK = '''\
import torch


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
    ### BEGIN SOLUTION
    num_prune = prune_count(weights.numel(), fraction)  # also validates `fraction`
    magnitudes = weights.detach().flatten().abs()
    # Smallest magnitude first; equal magnitudes stay in row-major order (stable sort).
    order = torch.argsort(magnitudes, stable=True)
    keep = torch.ones(weights.numel(), dtype=torch.bool, device=weights.device)
    keep[order[:num_prune]] = False
    return keep.reshape(weights.shape)
    ### END SOLUTION
'''

PRUNE_REMAINING = '''\
import torch


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
    ### BEGIN SOLUTION
    if mask.shape != weights.shape:
        raise ValueError(
            f"mask has shape {tuple(mask.shape)} but weights has shape {tuple(weights.shape)}"
        )
    flat_mask = mask.flatten()
    kept_index = torch.nonzero(flat_mask).flatten()  # flat indices of kept entries, ascending
    num_prune = prune_count(kept_index.numel(), fraction)  # also validates `fraction`
    kept_magnitudes = weights.detach().flatten().abs()[kept_index]
    order = torch.argsort(kept_magnitudes, stable=True)  # smallest first, ties in row-major order
    new_mask = flat_mask.clone()
    new_mask[kept_index[order[:num_prune]]] = False
    return new_mask.reshape(mask.shape)
    ### END SOLUTION
'''

GLOBAL_PRUNE = '''\
import torch


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
    ### BEGIN SOLUTION
    for name, mask in masks.items():
        if name not in params:
            raise ValueError(f"masks has key {name!r} that is absent from params")
        if mask.shape != params[name].shape:
            raise ValueError(
                f"masks[{name!r}] has shape {tuple(mask.shape)} but params[{name!r}] has "
                f"shape {tuple(params[name].shape)}"
            )
    total_kept = sum(int(mask.sum()) for mask in masks.values())
    num_prune = prune_count(total_kept, fraction)  # also validates `fraction`

    # 1. The magnitudes of all kept entries, key by key (masks order), each row-major.
    kept_index = {name: torch.nonzero(mask.flatten()).flatten() for name, mask in masks.items()}
    pieces = [
        params[name].detach().flatten().abs().to(torch.float64)[kept_index[name]]
        for name in masks
    ]
    magnitudes = torch.cat(pieces) if pieces else torch.zeros(0, dtype=torch.float64)

    # 2. One stable ranking: prune the num_prune smallest.
    keep = torch.ones(total_kept, dtype=torch.bool)
    keep[torch.argsort(magnitudes, stable=True)[:num_prune]] = False

    # 3. Split the decisions back into one mask per key.
    new_masks = {}
    start = 0
    for name, mask in masks.items():
        index = kept_index[name]
        flat = mask.flatten().clone()
        flat[index] = keep[start : start + index.numel()]
        start += index.numel()
        new_masks[name] = flat.reshape(mask.shape)
    return new_masks
    ### END SOLUTION
'''

IMP_SPARSITY = '''\
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
    ### BEGIN SOLUTION
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction!r}")
    if rounds < 0:
        raise ValueError(f"rounds must be a non-negative integer, got {rounds!r}")
    return float(1.0 - (1.0 - fraction) ** rounds)
    ### END SOLUTION
'''

ROUNDS_TO_REACH = '''\
import math

#: A schedule "reaches" a target when its sparsity is at least target - SPARSITY_TOL, so that
#: float rounding (1 - 0.8 is 0.19999999999999996) does not cost an extra round.
SPARSITY_TOL = 1e-12


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
    ### BEGIN SOLUTION
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target_sparsity must lie in [0, 1), got {target_sparsity!r}")
    goal = target_sparsity - SPARSITY_TOL
    # First guess from the logarithm, then correct it with the definition itself.
    rounds = max(0, math.ceil(math.log1p(-target_sparsity) / math.log1p(-fraction)))
    while rounds > 0 and imp_sparsity(fraction, rounds - 1) >= goal:
        rounds -= 1
    while imp_sparsity(fraction, rounds) < goal:
        rounds += 1
    return rounds
    ### END SOLUTION
'''

REWIND = '''\
import torch


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
    ### BEGIN SOLUTION
    for name, mask in masks.items():
        if name not in init_params:
            raise ValueError(f"masks has key {name!r} that is absent from init_params")
        if mask.shape != init_params[name].shape:
            raise ValueError(
                f"masks[{name!r}] has shape {tuple(mask.shape)} but init_params[{name!r}] "
                f"has shape {tuple(init_params[name].shape)}"
            )
    rewound = {}
    for name, value in init_params.items():
        copy = value.detach().clone()  # a new tensor, never a view of the input
        if name in masks:
            copy = copy.masked_fill(~masks[name], 0)
        rewound[name] = copy
    return rewound
    ### END SOLUTION
'''

IMP = '''\
from collections.abc import Callable

import torch


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
    ### BEGIN SOLUTION
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction!r}")
    if rounds < 0:
        raise ValueError(f"rounds must be a non-negative integer, got {rounds!r}")
    masks = {
        name: torch.ones_like(value, dtype=torch.bool)
        for name, value in init_params.items()
        if value.dim() >= 2
    }
    history = []
    for _ in range(rounds):
        # Hand train_fn a copy of the masks, so that it cannot change our history.
        current = {name: mask.clone() for name, mask in masks.items()}
        trained = train_fn(rewind(init_params, masks), current)
        masks = global_prune(trained, masks, fraction)
        history.append(masks)
    return history
    ### END SOLUTION
'''

TOPK = '''\
import torch


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
    ### BEGIN SOLUTION
    if not 0.0 <= keep_fraction <= 1.0:
        raise ValueError(f"keep_fraction must lie in [0, 1], got {keep_fraction!r}")
    num_keep = prune_count(scores.numel(), keep_fraction)
    order = torch.argsort(scores.detach().flatten(), descending=True, stable=True)
    keep = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    keep[order[:num_keep]] = True
    return keep.reshape(scores.shape)
    ### END SOLUTION
'''

STRAIGHT_THROUGH = '''\
import torch


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
    ### BEGIN SOLUTION
    hard = topk_score_mask(scores, keep_fraction).to(scores.dtype)  # 0.0 / 1.0, no gradient
    # Forward: hard + 0. Backward: d(result)/d(scores) is the identity.
    return hard + (scores - scores.detach())
    ### END SOLUTION
'''

MASK_OVERLAP = '''\
import torch


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
    ### BEGIN SOLUTION
    if mask_a.shape != mask_b.shape:
        raise ValueError(
            f"mask_a has shape {tuple(mask_a.shape)} but mask_b has shape {tuple(mask_b.shape)}"
        )
    union = int((mask_a | mask_b).sum())
    if union == 0:
        return 1.0
    return int((mask_a & mask_b).sum()) / union
    ### END SOLUTION
'''

ANSWERS = {
    "prune_count": PRUNE_COUNT,
    "magnitude_mask": MAGNITUDE_MASK,
    "prune_remaining": PRUNE_REMAINING,
    "global_prune": GLOBAL_PRUNE,
    "imp_sparsity": IMP_SPARSITY,
    "rounds_to_reach": ROUNDS_TO_REACH,
    "rewind": REWIND,
    "iterative_magnitude_pruning": IMP,
    "topk_score_mask": TOPK,
    "straight_through_mask": STRAIGHT_THROUGH,
    "mask_overlap": MASK_OVERLAP,
}


OUT = output_path("03_lottery_tickets.ipynb")

FUNCTIONS = list(ANSWERS)

builder = NotebookBuilder(answers=ANSWERS, leak_guard=("answer", "visible"))
md, code, graded = builder.md, builder.code, builder.graded

SECTIONS = {
    "prune_count": "1.1", "magnitude_mask": "1.2", "prune_remaining": "1.3",
    "global_prune": "1.4", "imp_sparsity": "2", "rounds_to_reach": "2", "rewind": "3.1",
    "iterative_magnitude_pruning": "3.2", "topk_score_mask": "5.1",
    "straight_through_mask": "5.2", "mask_overlap": "6",
}

TABLE, TOTAL = builder.points_table(FUNCTIONS, SECTIONS)

# =============================================================================================
# Title, grading, conventions, setup
# =============================================================================================

md("title", r"""
# Notebook 03 — Lottery tickets: magnitude masks, IMP with rewinding, schedules, supermasks

*Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 3 of 4.*

A trained network can usually lose most of its weights with little loss of accuracy. The
**lottery ticket hypothesis** (Frankle & Carbin, 2019) makes a sharper claim: the sparse
network that survives pruning could have been trained *from the start*, on its own, as long as
it starts from the same initial weights it had in the big network. In this notebook you write
the pruning machinery — exact counts, magnitude masks, global pruning, the iterative schedule,
rewinding — and use it to find tickets in a small network, test them against random
re-initialisation, try late rewinding, train a *supermask* over weights that never change, and
compare tickets found on different data.

**Learning objectives.** After this notebook you can

1. say exactly how many weights "prune 30%" removes, and build magnitude masks with a
   deterministic tie rule (worked example 3 of the course text);
2. implement iterative magnitude pruning (IMP) with rewinding, layer by layer and globally,
   and compute its sparsity schedule $1-(1-p)^r$;
3. run the lottery-ticket experiment: the rewound ticket against the same mask with a fresh
   random initialisation, over rising sparsity;
4. explain late rewinding and its link to stability under SGD noise and linear mode
   connectivity (Frankle et al., 2020);
5. train a supermask over frozen random weights with a straight-through estimator
   (Zhou et al., 2019; Ramanujan et al., 2020);
6. compare two tickets by the overlap of their masks (practice problem 3).
""")

md("grading", rf"""
## How this notebook is graded

You implement **{len(FUNCTIONS)} functions**, each in its own cell, in the order they are taught.
Replace the line `raise NotImplementedError()` with your code; do not rename the functions or
change their arguments (the grader finds them by name). Later functions may call earlier ones
(`magnitude_mask` calls `prune_count`, `iterative_magnitude_pruning` calls `rewind` and
`global_prune`, ...), so work top to bottom.

Under every function there is

* one **visible test** cell (no points: a self-check for you; the hidden tests carry the
  grade): run it yourself — it checks the worked
  example of the course text and simple cases, and its messages tell you what is wrong;
* several **hidden test** cells ({HIDDEN_POINTS} point each), one per property of the contract
  (the cell names the property, e.g. "equal magnitudes: the lower row-major index is pruned
  first"). They are empty in your copy and run at grading time on cases you have not seen
  (random inputs, ties, rounding traps, edge cases, "does not modify its inputs", bad input).
  A hidden cell earns its point when every case of its property passes; the feedback names
  the first failing case, what came back and what was expected.

{TABLE}

The "explain" part of practice problem 3 is answered in notebook 04, not here.
The demonstration cells (grey, read-only) are not graded: they run your functions on real
networks. Until the functions they use are implemented they print
`(demonstration skipped: ...)` instead of failing, so you can run the notebook top to bottom
at any time. The whole notebook runs in well under a minute on a laptop CPU.
""")

md("conventions", r"""
## Conventions (the same in all four notebooks, plus masks)

* **Parameters as data.** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
  `model.named_parameters()`, e.g. `{"0.weight": ..., "0.bias": ..., "2.weight": ..., ...}`.
  `lab.params_of(model)` returns a detached copy of a model's parameters.
* **Masks.** A mask is a `torch.bool` tensor with the shape of the tensor it prunes:
  **`True` = kept, `False` = pruned** (the course text's 1 and 0). A dict of masks maps the
  names of the *prunable* tensors to their masks; names that are not in it are never pruned.
  The subnetwork is $m \odot \theta$ (pruned weights are exactly 0).
* **Sparsity** is the fraction of the prunable weights that are pruned; *density* is the
  fraction kept. 90% sparse = 10% dense.
* **"A fraction of n entries"** is always `prune_count(n, fraction)` entries (section 1.1).
* **Paths** (used once here, in section 4): $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$,
  so $\alpha = 0$ is $\theta_a$ and $\alpha = 1$ is $\theta_b$, as in notebook 01.
* **Ties** are broken by position: row-major (flat) order inside a tensor, then the order of
  the keys in the masks dict. Lower position is pruned first (kept first, for scores).
* **Never modify your inputs** — tensors, dicts, models. Return new tensors.
* **Scalars are Python numbers**: counts are `int`, fractions and overlaps `float`.
* **Bad input raises `ValueError`** with a message that names the offending argument —
  checked even when there is nothing to do (e.g. `rounds = 0` with `fraction = 1.5`).
* `landscape_lab.py` (imported as `lab`) holds the data set, the models, training (its
  `lab.train(..., mask=masks)` keeps pruned weights at exactly 0) and the plots. It is not
  graded and is restored from the release when your work is graded.
""")

code("setup", r"""
%matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import landscape_lab as lab
from landscape_lab import needs

# The networks here are tiny (a few thousand parameters): PyTorch's thread pool costs more
# time in hand-offs than it saves, so one thread is faster (and gives the same numbers on
# every machine).
torch.set_num_threads(1)
_ = torch.manual_seed(0)  # nothing below draws from the global generator; this is a safety net
""")

# =============================================================================================
# 1. Lottery tickets and magnitude pruning
# =============================================================================================

md("lth-intro", r"""
## 1. Lottery tickets and magnitude pruning

**The hypothesis** (Frankle & Carbin, 2019, *The Lottery Ticket Hypothesis: Finding Sparse,
Trainable Neural Networks*, ICLR):

> A randomly-initialized, dense neural network contains a subnetwork that is initialized such
> that — when trained in isolation — it can match the test accuracy of the original network
> after training for at most the same number of iterations.

Such a subnetwork — a mask $m$ *together with the initial values* $m \odot \theta_0$ it had in
the dense network — is a **winning ticket**. To find one, Frankle & Carbin use **iterative
magnitude pruning (IMP)**:

1. initialise the network, $\theta_0$; start with the mask $m = 1$ (everything kept);
2. train the subnetwork $m \odot \theta_0$ for $j$ iterations, reaching $m \odot \theta_j$;
3. prune $p\%$ of the weights **that are still kept** — those with the smallest $|\theta_j|$ —
   which gives a new, smaller mask $m$;
4. **rewind**: reset the kept weights to their values in $\theta_0$ (pruned weights stay 0);
5. repeat from step 2 with the new mask, until the target sparsity is reached.

Only weight matrices are pruned; biases are few and stay. In their experiments (fully
connected and convolutional networks on MNIST and CIFAR-10) they consistently found winning
tickets less than 10–20% of the size of the original network, and these tickets often learned
faster and reached *higher* test accuracy than the original. The same masks trained from a
fresh random initialisation learned more slowly and reached lower accuracy: the initial values
matter, not only the structure. You will run this comparison yourself in section 3.

Step 3 ranks weights by **magnitude**: a weight that ends training close to 0 contributes
little, so it is the first to go. This section builds that step exactly.
""")

md("prune-count-intro", r"""
### 1.1 How many weights is "30%"?

Worked example 3 of the course text prunes 30% of a $4\times3$ matrix: *"12 total entries.
30% pruning → prune 3.6 → round to 4"*. That is right, but "round" needs a rule precise enough
that two implementations prune exactly the same number of weights — otherwise their masks (and
everything downstream) differ. The rule used everywhere in this assignment:

$$\texttt{prune\_count}(n, f) \;=\; \big\lfloor f\cdot n + 0.5 \big\rfloor
\qquad\text{computed in Python floats (float64).}$$

* It is the **nearest integer, halves rounded up**: 0.3 of 12 is 4 (3.6 → 4), 0.5 of 5 is 3
  (2.5 → 3). Python's built-in `round()` is *not* this rule: it rounds halves to even, so
  `round(2.5) == 2`.
* The product is **the float64 product**, as Python computes it. 0.58 has no exact binary
  representation, and in float64 `0.58 * 25 == 14.499999999999998`, just below the half — so
  0.58 of 25 is **14**, although $0.58 \cdot 25 = 14.5$ in exact arithmetic would round up to
  15. We keep the float64 answer on purpose: it is what every straightforward implementation
  computes, so everyone gets the same count. Do not "repair" it with `decimal` or an epsilon.
* The same count is used for *keeping*: a supermask that keeps a fraction $k$ of $N$ scores
  keeps `prune_count(N, k)` of them (section 5).
""")

graded("prune_count", r'''
# Visible tests for `prune_count`.
assert prune_count(12, 0.3) == 4, (
    f"worked example 3: 30% of 12 entries is 3.6, which rounds to 4; got {prune_count(12, 0.3)}")
assert isinstance(prune_count(12, 0.3), int), (
    f"prune_count should return a Python int, got {type(prune_count(12, 0.3)).__name__}")
assert prune_count(10, 0.2) == 2, f"20% of 10 is 2, got {prune_count(10, 0.2)}"
assert prune_count(5, 0.5) == 3, (
    f"0.5 of 5 is 2.5: halves round UP, so 3 (Python's round(2.5) gives 2); got {prune_count(5, 0.5)}")
assert prune_count(25, 0.58) == 14, (
    "0.58 * 25 is 14.499999999999998 in float64, just below the half, so 14; "
    f"got {prune_count(25, 0.58)}")
assert prune_count(0, 0.7) == 0 and prune_count(9, 0.0) == 0 and prune_count(9, 1.0) == 9, (
    "n = 0 gives 0, fraction 0 gives 0, fraction 1 gives n")
for bad_args in [(-1, 0.5), (10, 1.5), (10, -0.1)]:
    try:
        prune_count(*bad_args)
    except ValueError:
        pass
    else:
        raise AssertionError(f"prune_count{bad_args} should raise ValueError")
print("prune_count: visible tests passed")
''')

md("magnitude-mask-intro", r"""
### 1.2 A magnitude mask

To prune a fraction $f$ of one tensor $W$ with $N$ entries: rank the entries by $|W_{ij}|$ and
prune the `prune_count(N, f)` smallest. The mask has $W$'s shape, `True` where an entry is
kept.

**Ties.** Several entries can have the same magnitude (in worked example 3, $-0.1$ and $0.1$).
When the pruning threshold falls inside such a group, we prune the entry with the **lower
row-major index** first — the order of `W.flatten()`. A *stable* sort (`torch.argsort(...,
stable=True)`) keeps equal values in their original order, so sorting `W.abs().flatten()`
stably and taking the first `prune_count` positions applies the rule by itself.
(`torch.topk` and an unstable sort make no promise about ties.)

Worked example 3's $W_1$, with row-major indices $0 \dots 11$:

$$W_1 = \begin{bmatrix} 0.8 & -0.1 & 0.3 \\ -0.5 & 0.02 & 0.6 \\ 0.1 & -0.9 & -0.2 \\ 0.4 & 0.05 & -0.7 \end{bmatrix}$$

Sorted by magnitude: $0.02$ (row 1, column 1; 0-based), $0.05$ (3, 1), $0.1$ (0, 1),
$0.1$ (2, 0), $0.2$, … With 30% we prune 4, so both $0.1$s go and the tie does not matter;
with 25% we prune 3, and the tie rule decides that $(0, 1)$ goes and $(2, 0)$ stays.
(The course text counts rows and columns from 1: its "(3,1)" is our $(2, 0)$.)
""")

graded("magnitude_mask", r'''
# Visible tests for `magnitude_mask`: worked example 3 and simple cases.
W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
M1 = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)
W1_before = W1.clone()
mask = magnitude_mask(W1, 0.3)
assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool, (
    f"the mask should be a bool tensor (True = kept), got {type(mask).__name__} "
    f"{getattr(mask, 'dtype', '')}")
assert mask.shape == W1.shape, f"the mask should have shape (4, 3), got {tuple(mask.shape)}"
assert int(mask.sum()) == 8, f"30% of 12 is prune_count(12, 0.3) = 4 pruned, so 8 kept; got {int(mask.sum())}"
assert torch.equal(mask, M1), f"worked example 3: expected the mask\n{M1.int()}\ngot\n{mask.int()}"
assert torch.equal(W1, W1_before), "magnitude_mask must not change the weights"
# The tie rule: with 25% only three go, and of the two 0.1s the lower row-major index (0, 1) goes.
mask25 = magnitude_mask(W1, 0.25)
assert not mask25[0, 1] and mask25[2, 0], (
    "ties: among equal magnitudes the lower row-major index is pruned first, so with 25% "
    "entry (0, 1) is pruned and (2, 0) is kept")
assert torch.equal(magnitude_mask(torch.ones(6), 0.5), torch.tensor([False] * 3 + [True] * 3)), (
    "six equal weights, fraction 0.5: the first three (lowest indices) are pruned")
assert magnitude_mask(W1, 0.0).all() and not magnitude_mask(W1, 1.0).any(), (
    "fraction 0 keeps everything, fraction 1 prunes everything")
print("magnitude_mask: visible tests passed")
''')

md("demo-worked-example-intro", r"""
**Demonstration: worked example 3.** The mask of $W_1$ at 30%, printed as the course text's
0/1 matrix (1 = kept, 0 = pruned), and at 25%, where the tie between the two $0.1$s matters.
""")

code("demo-worked-example", r"""
with needs("prune_count", "magnitude_mask"):
    W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
    for fraction in (0.3, 0.25):
        k = prune_count(W1.numel(), fraction)
        M = magnitude_mask(W1, fraction)
        print(f"fraction {fraction}: prune_count(12, {fraction}) = {k}  "
              f"({fraction} * 12 = {fraction * 12:.4g})")
        print("mask (1 = kept, 0 = pruned):")
        print(M.int().numpy())
        print("pruned (row, column, weight):",
              [(i, j, round(float(W1[i, j]), 4)) for i, j in (~M).nonzero().tolist()])
        print()
    print("0.58 of 25:", repr(0.58 * 25), "->", prune_count(25, 0.58),
          "| Python's round(2.5) =", round(2.5), "but prune_count(5, 0.5) =", prune_count(5, 0.5))
""")

md("demo-worked-example-after", r"""
The 30% mask is the course text's $M_1$. At 25% exactly one of the two $0.1$s goes — the one
at $(0, 1)$, first in row-major order. Ties look like a corner case, but they are common in
practice: pruned weights are all exactly 0, weights stored in low precision repeat, and
scores can tie. Without a fixed rule, two correct implementations would return different masks.
""")

md("prune-remaining-intro", r"""
### 1.3 One IMP step: prune a fraction of what is left

IMP prunes $p\%$ of the weights **still kept** in each round, not $p\%$ of all weights. With
$K$ kept entries, one step prunes `prune_count(K, p)` of them — the smallest $|w|$ *among the
kept entries only* — and leaves every entry that was already pruned pruned. The new mask is a
subset of the old one.

Why "among the kept entries only" matters: after a round of training with the mask, the pruned
weights are exactly 0, so they are the smallest of all. A function that ranked *all* entries
would spend the round's budget re-pruning them, and the network would stop getting sparser.
(The hidden tests include a mask that pruned the *largest* weights, to make sure you never look
at pruned entries.)
""")

graded("prune_remaining", r'''
# Visible tests for `prune_remaining`.
W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
M1 = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)
M1_before = M1.clone()
new = prune_remaining(W1, M1, 0.25)
assert isinstance(new, torch.Tensor) and new.dtype == torch.bool and new.shape == (4, 3), (
    "prune_remaining should return a bool tensor of the weights' shape")
assert torch.equal(M1, M1_before), "prune_remaining must not change the mask it is given"
assert not (new & ~M1).any(), "entries already pruned must stay pruned (the result is a subset of mask)"
assert int(new.sum()) == 6, (
    f"8 entries are kept and prune_count(8, 0.25) = 2 of them are pruned, so 6 stay; got {int(new.sum())}")
expected = M1.clone()
expected[2, 2] = False  # |-0.2|, the smallest kept magnitude
expected[0, 2] = False  # |0.3|, the next one
assert torch.equal(new, expected), (
    f"the two smallest KEPT magnitudes are 0.2 at (2, 2) and 0.3 at (0, 2); expected\n"
    f"{expected.int()}\ngot\n{new.int()}")
assert torch.equal(prune_remaining(W1, torch.ones(4, 3, dtype=torch.bool), 0.3), M1), (
    "with an all-True mask, prune_remaining is magnitude_mask (worked example 3)")
try:
    prune_remaining(W1, torch.ones(3, 4, dtype=torch.bool), 0.5)
except ValueError:
    pass
else:
    raise AssertionError("a mask of shape (3, 4) for weights of shape (4, 3) should raise ValueError")
print("prune_remaining: visible tests passed")
''')

md("global-prune-intro", r"""
### 1.4 Global pruning: one ranking over all layers

A network has several weight tensors. Two ways to prune $p\%$ of it:

* **layer-wise:** prune $p\%$ of every tensor separately (`prune_remaining` per layer) — every
  layer ends at the same sparsity;
* **global:** put the kept weights of *all* prunable tensors into one ranking and prune the
  `prune_count(total kept, p)` smallest — layers whose weights are small lose more.

Frankle & Carbin pruned their small networks layer-wise (with a lower rate for the output
layer) and the deeper convolutional networks (VGG-19, ResNet-18) globally. Global pruning lets
the network decide where it can afford sparsity; its risk is that a layer whose weights happen
to be small can be pruned almost — or entirely — away, which disconnects the network
("layer collapse", Tanaka et al., 2020). Always look at the per-layer densities (section 3
prints them).

`global_prune(params, masks, fraction)` prunes only the tensors named in `masks` (biases are
simply left out of `masks`), counts only their kept entries, and breaks ties by the order of the
keys in `masks`, then by row-major index. Build the ranking by concatenating the kept
magnitudes key by key and sort it stably — the tie rule then comes for free.
""")

graded("global_prune", r'''
# Visible tests for `global_prune`.
params = {
    "a.weight": torch.tensor([[0.01, 0.02], [0.03, 0.04]]),  # a layer of small weights
    "a.bias": torch.tensor([0.0, 0.0]),                       # not in masks: never pruned
    "b.weight": torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
}
masks = {"a.weight": torch.ones(2, 2, dtype=torch.bool), "b.weight": torch.ones(2, 3, dtype=torch.bool)}
new = global_prune(params, masks, 0.4)
assert isinstance(new, dict) and list(new) == ["a.weight", "b.weight"], (
    f"global_prune should return a dict with the keys of masks, in order; got {list(new) if isinstance(new, dict) else new}")
assert all(m.dtype == torch.bool for m in new.values()), "every mask should be a bool tensor"
kept = sum(int(m.sum()) for m in new.values())
assert kept == 6, f"10 entries kept, prune_count(10, 0.4) = 4 pruned, so 6 kept; got {kept}"
assert int(new["a.weight"].sum()) == 0 and bool(new["b.weight"].all()), (
    "global ranking: the four smallest of all ten weights are the whole small layer 'a.weight' "
    "(pruning 40% of each layer separately would be layer-wise pruning)")
assert all(m.all() for m in masks.values()), "global_prune must not change the masks it is given"
ties = global_prune({"x": torch.full((2,), 0.5), "y": torch.full((2,), 0.5)},
                    {"y": torch.ones(2, dtype=torch.bool), "x": torch.ones(2, dtype=torch.bool)}, 0.25)
assert not ties["y"][0] and ties["x"].all(), (
    "ties: the earlier key in MASKS order ('y' here) is pruned first, then the lower index")
try:
    global_prune(params, {"missing": torch.ones(2, dtype=torch.bool)}, 0.5)
except ValueError:
    pass
else:
    raise AssertionError("a mask key absent from params should raise ValueError")
print("global_prune: visible tests passed")
''')

# =============================================================================================
# 2. Schedules
# =============================================================================================

md("schedule-intro", r"""
## 2. The IMP schedule: how sparse after $r$ rounds, and how many rounds to get there

Each round keeps a fraction $1-p$ of the weights that were left, so after $r$ rounds
$(1-p)^r$ of them remain and the sparsity is

$$s_r \;=\; 1 - (1-p)^r \qquad(\text{not } r\cdot p).$$

With $p = 20\%$: 20%, 36%, 48.8%, 59.0%, … and $r$ rounds of 20% can never reach 100%. The
number of rounds needed for a target sparsity $s^\ast$ is the smallest $r$ with
$s_r \ge s^\ast$, i.e. $r = \lceil \log(1-s^\ast) / \log(1-p) \rceil$ — computed exactly with a
check against $s_r$ itself, because floating-point logarithms can land a hair on the wrong side
of an integer (and $1 - 0.8$ is `0.19999999999999996`, so we accept $s_r \ge s^\ast - 10^{-12}$).

**Why it matters: cost.** Every round is a full training run. 90% sparsity at 20% a round takes
11 trainings, 99% takes 21. That is IMP's main price. Pruning to the target in one shot is
cheaper, but Frankle & Carbin found that iterative pruning finds winning tickets at higher
sparsity than one-shot pruning. (The formula is continuous; real masks prune whole weights,
so the achieved sparsity differs slightly — the demonstration below shows by how much.)
""")

graded("imp_sparsity", r'''
# Visible tests for `imp_sparsity`.
assert abs(imp_sparsity(0.2, 1) - 0.2) < 1e-12, f"one round of 20% is 20%, got {imp_sparsity(0.2, 1)}"
assert abs(imp_sparsity(0.2, 2) - 0.36) < 1e-12, (
    f"two rounds of 20%: 1 - 0.8**2 = 0.36 (not 0.4), got {imp_sparsity(0.2, 2)}")
assert abs(imp_sparsity(0.5, 3) - 0.875) < 1e-12, f"1 - 0.5**3 = 0.875, got {imp_sparsity(0.5, 3)}"
assert isinstance(imp_sparsity(0.2, 3), float), "imp_sparsity should return a Python float"
assert imp_sparsity(0.2, 0) == 0.0, "zero rounds prune nothing"
try:
    imp_sparsity(1.5, 2)
except ValueError:
    pass
else:
    raise AssertionError("fraction 1.5 should raise ValueError")
print("imp_sparsity: visible tests passed")
''')

graded("rounds_to_reach", r'''
# Visible tests for `rounds_to_reach`.
assert rounds_to_reach(0.2, 0.9) == 11, (
    f"20% a round: 0.8**10 = 0.107 > 0.1 but 0.8**11 = 0.086, so 11 rounds; got {rounds_to_reach(0.2, 0.9)}")
assert isinstance(rounds_to_reach(0.2, 0.9), int), "rounds_to_reach should return an int"
assert rounds_to_reach(0.5, 0.75) == 2, (
    f"1 - 0.5**2 = 0.75 exactly: a target hit exactly is reached; got {rounds_to_reach(0.5, 0.75)}")
assert rounds_to_reach(0.2, 0.2) == 1, (
    "1 - 0.8 is 0.19999999999999996 in float64, within 1e-12 of the target 0.2: one round")
assert rounds_to_reach(0.2, 0.0) == 0, "target 0 needs no rounds"
for bad_args in [(0.0, 0.5), (1.0, 0.5), (0.2, 1.0)]:
    try:
        rounds_to_reach(*bad_args)
    except ValueError:
        pass
    else:
        raise AssertionError(f"rounds_to_reach{bad_args} should raise ValueError")
print("rounds_to_reach: visible tests passed")
''')

md("demo-schedule-intro", r"""
**Demonstration: the schedule on a real network.** The network of the next sections
(a 2-32-32-4 MLP) has $2\cdot32 + 32\cdot32 + 32\cdot4 = 1216$ prunable weights. Below: the
continuous schedule `imp_sparsity(0.2, r)`, the sparsity IMP actually reaches when every round
prunes `prune_count(kept, 0.2)` whole weights, and the number of rounds for common targets.
""")

code("demo-schedule", r"""
with needs("prune_count", "imp_sparsity", "rounds_to_reach"):
    num_weights = 2 * 32 + 32 * 32 + 32 * 4
    kept = num_weights
    rows = []
    for r in range(0, 14):
        rows.append((r, imp_sparsity(0.2, r), kept, 1 - kept / num_weights))
        kept -= prune_count(kept, 0.2)   # one round prunes whole weights
    print(f"{'round':>5} {'1-(1-p)^r':>10} {'kept':>6} {'actual':>8}")
    for r, formula, k, actual in rows:
        print(f"{r:>5} {formula:>10.4f} {k:>6} {actual:>8.4f}")
    print()
    for target in (0.5, 0.8, 0.9, 0.95, 0.99):
        r = rounds_to_reach(0.2, target)
        print(f"{target:.0%} sparsity at 20% a round: {r:>2} rounds (= {r} training runs), "
              f"reaching {imp_sparsity(0.2, r):.4f}")
""")

md("demo-schedule-after", r"""
The whole-weight schedule follows the formula to within a fraction of a weight per round
(rounding to the nearest integer pushes it slightly either way). Notice how the cost grows:
each extra "nine" of sparsity costs about as many rounds as the previous one
($\log 0.1 / \log 0.8 \approx 10.3$ rounds per factor of ten in density).
""")

# =============================================================================================
# 3. Rewinding and IMP
# =============================================================================================

md("rewind-intro", r"""
## 3. Rewinding and the full IMP loop

### 3.1 Rewinding

Step 4 of IMP resets the network to its initialisation, keeping the mask:
`rewind(init_params, masks)` returns a copy of `init_params` in which every pruned entry is 0.
Two details matter in practice:

* **it is a copy** — new tensors that share no memory with `init_params`. The rewound weights
  are about to be trained in place; if they shared memory with $\theta_0$, training would
  silently change $\theta_0$, and the next round would rewind to the wrong weights;
* **every tensor is rewound**, not only the pruned ones: biases (not in `masks`) are copied
  back to their initial values too. Rewinding means the whole network restarts from
  $\theta_0$ (and the optimiser restarts too: `lab.train` creates a fresh one on each call).
""")

graded("rewind", r'''
# Visible tests for `rewind`.
init = {"W1": torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]]),
        "b1": torch.tensor([0.5, -0.5, 0.25, 0.0])}
masks = {"W1": torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)}
init_before = {k: v.clone() for k, v in init.items()}
out = rewind(init, masks)
assert isinstance(out, dict) and list(out) == ["W1", "b1"], (
    f"rewind should return a dict with every key of init_params, in order; got {list(out) if isinstance(out, dict) else out}")
expected_W1 = torch.tensor([[0.8, 0.0, 0.3], [-0.5, 0.0, 0.6], [0.0, -0.9, -0.2], [0.4, 0.0, -0.7]])
assert torch.equal(out["W1"], expected_W1), f"pruned entries must be 0, the rest unchanged; got\n{out['W1']}"
assert torch.equal(out["b1"], init["b1"]), "keys not in masks (the bias) are copied unchanged"
assert out["W1"].dtype == init["W1"].dtype, "rewind keeps the dtype"
assert all(torch.equal(init[k], init_before[k]) for k in init), "rewind must not change init_params"
out["b1"][0] = 100.0
assert init["b1"][0] == 0.5, (
    "the returned tensors must be copies: changing them (e.g. by training) must not change init_params")
try:
    rewind(init, {"W2": torch.ones(2, 2, dtype=torch.bool)})
except ValueError:
    pass
else:
    raise AssertionError("a mask key absent from init_params should raise ValueError")
print("rewind: visible tests passed")
''')

md("imp-intro", r"""
### 3.2 Iterative magnitude pruning

Now the whole loop. `iterative_magnitude_pruning(init_params, train_fn, rounds, fraction)`:

```
masks = all True, for every tensor of init_params with dim >= 2   # weights, not biases
repeat `rounds` times:
    trained = train_fn(rewind(init_params, masks), masks)         # steps 4 and 2
    masks   = global_prune(trained, masks, fraction)              # step 3
    remember masks
return the list of masks after each round
```

IMP does not care *how* the network is trained: that is the job of `train_fn(params, masks)`,
which you pass in. The demonstrations below use a `train_fn` that loads the rewound parameters
into a model, calls `lab.train(model, X, y, mask=masks, ...)` and returns `lab.params_of(model)`.
Training with a mask is more than zeroing the pruned weights once — Adam's running averages
would move them away from zero again — so `lab.train` zeroes their gradients before and the
weights themselves after every optimiser step.

Two things to get right: `train_fn` is called **exactly once per round**, and every round
starts again from `init_params` — not from the previous round's trained weights (that would be
pruning with fine-tuning, a different algorithm). And validate `fraction` before the loop, even
when `rounds` is 0.

**Late rewinding** (section 4) needs no new code: pass the parameters after $k$ training steps
as `init_params`.
""")

graded("iterative_magnitude_pruning", r'''
# Visible tests for `iterative_magnitude_pruning`, with a toy train_fn that "trains" by adding
# a fixed tensor, and records how it was called.
init = {"0.weight": torch.tensor([[0.1, -0.2, 0.3], [0.4, -0.5, 0.6]]),
        "0.bias": torch.tensor([0.01, 0.02]),
        "2.weight": torch.tensor([[1.0, -1.0], [0.05, 0.5]])}
init_before = {k: v.clone() for k, v in init.items()}
push = {"0.weight": torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.9]]),
        "0.bias": torch.zeros(2), "2.weight": torch.zeros(2, 2)}
calls = []

def toy_train_fn(params, masks):
    calls.append(({k: v.clone() for k, v in params.items()}, {k: v.clone() for k, v in masks.items()}))
    return {k: params[k] + push[k] for k in params}

history = iterative_magnitude_pruning(init, toy_train_fn, 2, 0.5)
assert isinstance(history, list) and len(history) == 2, "IMP should return one masks dict per round"
assert len(calls) == 2, f"train_fn must be called exactly once per round, got {len(calls)} calls"
assert set(calls[0][1]) == {"0.weight", "2.weight"}, (
    f"masks exist for the tensors with dim >= 2 only (not the bias); got keys {set(calls[0][1])}")
assert all(m.all() for m in calls[0][1].values()), "round 1 trains the dense network (all True masks)"
assert torch.equal(calls[0][0]["0.weight"], init["0.weight"]), "round 1 starts from init_params"
m1 = history[0]
assert sum(int(m.sum()) for m in m1.values()) == 5, (
    "round 1: 10 prunable weights, prune_count(10, 0.5) = 5 pruned, 5 kept")
expected_m1 = {"0.weight": torch.tensor([[False, False, False], [False, True, True]]),
               "2.weight": torch.tensor([[True, True], [False, True]])}
assert all(torch.equal(m1[k], expected_m1[k]) for k in m1), (
    f"round 1 masks: the five largest trained magnitudes are 1.0, 1.0, 0.5, 0.5 and 1.5 (0.6 + 0.9); "
    f"expected {expected_m1}, got {m1}")
rewound = calls[1][0]
assert torch.equal(rewound["0.weight"], init["0.weight"] * m1["0.weight"]), (
    "round 2 must start from rewind(init_params, masks): init values where kept, 0 where pruned "
    "(not the trained weights of round 1)")
assert torch.equal(rewound["0.bias"], init["0.bias"]), "biases are rewound to init too"
assert sum(int(m.sum()) for m in history[1].values()) == 2, "round 2: 5 kept, prune_count(5, 0.5) = 3 pruned"
assert all(torch.equal(init[k], init_before[k]) for k in init), "IMP must not change init_params"
assert iterative_magnitude_pruning(init, toy_train_fn, 0, 0.5) == [], "rounds = 0: an empty list"
try:
    iterative_magnitude_pruning(init, toy_train_fn, 0, 1.5)
except ValueError:
    pass
else:
    raise AssertionError("fraction 1.5 must raise ValueError even when rounds = 0")
print("iterative_magnitude_pruning: visible tests passed")
''')

md("demo-imp-intro", r"""
### 3.3 Demonstration: is the rewound ticket special?

The experiment of Frankle & Carbin, on a small scale:

* **data:** the 4-arm spiral of `lab.make_dataset(seed=0)` (1024 training and 1024 test points;
  chance accuracy 1/4);
* **network:** `lab.make_mlp(seed=0)`, a 2-32-32-4 ReLU MLP: 1216 prunable weights, 68 biases;
  its initial weights are $\theta_0$;
* **training:** `lab.train`, 500 Adam steps (learning rate 0.01, batch 64) — about a quarter
  of a second;
* **IMP:** 20% of the remaining weights per round (global pruning), 13 rounds, so the tickets
  trained in rounds 1–13 are 0%, 20%, 36%, …, about 93% sparse;
* **control:** each of those masks trained from a *fresh* random initialisation
  (`lab.make_mlp(seed=1)`'s weights, masked) with everything else equal.

The next (read-only) cell defines these settings and small helpers that the demonstrations
share; a run is computed once and reused.
""")

code("demo-helpers", r"""
# Settings and helpers shared by the demonstrations (read-only).
DATA = lab.make_dataset(seed=0)   # the 4-arm spiral: 1024 training and 1024 test points
CHANCE = 1.0 / lab.NUM_CLASSES    # accuracy of guessing: 0.25
STEPS = 500                       # Adam steps per training run (lab.train defaults: lr 0.01, batch 64)
FRACTION = 0.2                    # IMP prunes 20% of the remaining weights per round
ROUNDS = 13                       # tickets trained at 0%, 20%, 36%, ..., about 93% sparsity
INIT_SEED = 0                     # theta_0 = the weights of lab.make_mlp(seed=0)
REINIT_SEED = 1                   # the control's fresh random initialisation
LATE_K = 20                       # late rewinding: rewind to the weights after 20 of the 500 steps
CLEAR_MARGIN = 0.03               # "clearly better": at least 3 percentage points of test accuracy

theta0 = lab.params_of(lab.make_mlp(seed=INIT_SEED))
_runs = {}


def memo(key, compute):
    # Run compute() once and reuse its result: several demonstrations share the same runs.
    if key not in _runs:
        _runs[key] = compute()
    return _runs[key]


def dense_masks(params):
    # All-True masks for the prunable tensors (dim >= 2), as IMP starts.
    return {name: torch.ones_like(value, dtype=torch.bool)
            for name, value in params.items() if value.dim() >= 2}


def sparsity_of(masks):
    total = sum(m.numel() for m in masks.values())
    return 1.0 - sum(int(m.sum()) for m in masks.values()) / total


def train_ticket(start_params, masks, data=DATA, *, steps=STEPS, seed=0):
    # Train the subnetwork `masks` from start_params; return (trained params, test accuracy).
    model = lab.make_mlp(seed=INIT_SEED)  # the architecture; its weights are replaced next
    lab.load_params(model, start_params)
    lab.train(model, data.X_train, data.y_train, steps=steps, seed=seed, mask=masks)
    return lab.params_of(model), lab.accuracy(model, data.X_test, data.y_test)


def imp_run(init_params, data=DATA, *, steps=STEPS, rounds=ROUNDS):
    # IMP rewinding to init_params. Returns (masks after each round, test accuracies), where
    # accuracies[i] is the ticket trained in round i + 1, i.e. with the masks BEFORE that round.
    accuracies = []

    def train_fn(params, masks):
        trained, acc = train_ticket(params, masks, data, steps=steps)
        accuracies.append(acc)
        return trained

    history = iterative_magnitude_pruning(init_params, train_fn, rounds, FRACTION)
    return history, accuracies


def trained_masks(history):
    # The masks each round trained with: dense, then the masks after rounds 1 .. R-1.
    return [dense_masks(theta0), *history[:-1]]


def step0_tickets():
    # Section 3: IMP rewinding to theta_0.
    return memo("step0", lambda: imp_run(theta0))


def reinit_control():
    # The same masks, trained from a fresh random initialisation.
    history, _ = step0_tickets()
    theta_random = lab.params_of(lab.make_mlp(seed=REINIT_SEED))
    return memo("reinit", lambda: [train_ticket(rewind(theta_random, m), m)[1]
                                   for m in trained_masks(history)])


def theta_late():
    # Section 4: the dense network after LATE_K training steps from theta_0.
    return memo("theta_k", lambda: train_ticket(theta0, {}, steps=LATE_K)[0])


def late_tickets():
    # Section 4: IMP rewinding to theta_k; each round trains the remaining STEPS - LATE_K steps.
    return memo("late", lambda: imp_run(theta_late(), steps=STEPS - LATE_K))


print(DATA, "| prunable weights:", sum(m.numel() for m in dense_masks(theta0).values()),
      "| biases:", sum(v.numel() for v in theta0.values() if v.dim() < 2))
""")

code("demo-imp", r"""
with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    history0, rewound_acc = step0_tickets()
    reinit_acc = reinit_control()
    masks_trained = trained_masks(history0)
    sparsities = [sparsity_of(m) for m in masks_trained]

    print(f"{'round':>5} {'sparsity':>8} {'rewound':>8} {'re-init':>8} {'diff':>7}   "
          "density per layer (0.weight / 2.weight / 4.weight)")
    for r, (m, s, a, b) in enumerate(zip(masks_trained, sparsities, rewound_acc, reinit_acc), 1):
        layers = " / ".join(f"{float(mask.float().mean()):.2f}" for mask in m.values())
        print(f"{r:>5} {s:>8.1%} {a:>8.3f} {b:>8.3f} {a - b:>+7.3f}   {layers}")
    clearly = [s for s, a, b in zip(sparsities, rewound_acc, reinit_acc) if a - b >= CLEAR_MARGIN]
    print(f"\nrewound ticket better by >= {CLEAR_MARGIN:.0%} points at sparsities:",
          ", ".join(f"{s:.1%}" for s in clearly) or "none")
    best = max(range(len(sparsities)), key=lambda i: rewound_acc[i] - reinit_acc[i])
    print(f"largest gap at {sparsities[best]:.1%} sparsity: rewound {rewound_acc[best]:.3f} vs "
          f"random re-init {reinit_acc[best]:.3f} (dense network: {rewound_acc[0]:.3f}, chance {CHANCE})")

    ax = lab.plot_sparsity_curve(
        sparsities,
        {"IMP ticket, rewound to $\\theta_0$": rewound_acc, "same masks, random re-init": reinit_acc},
        title="Lottery tickets: rewound vs randomly re-initialised",
    )
    ax.axhline(rewound_acc[0], color="grey", linestyle=":", label="dense network")
    ax.axhline(CHANCE, color="black", linestyle="--", linewidth=0.8, label="chance (1/4)")
    ax.legend(loc="lower left", fontsize="small")
    plt.show()
""")

md("demo-imp-after", r"""
**What to look for.**

* **Low sparsity:** both curves sit near the dense network. With most weights still there, *any*
  initialisation trains fine — the comparison says nothing yet.
* **High sparsity:** the curves separate. The rewound ticket keeps close to the dense accuracy
  much longer; the same mask with fresh random weights falls off earlier and further. The
  printed list gives the sparsities at which the gap is at least 3 points on this run. Since the
  *mask is identical*, the difference is due to the initial values alone — the heart of the
  lottery ticket hypothesis.
* **The per-layer densities:** global pruning does not prune the layers equally. The
  $32\times32$ middle layer (1024 of the 1216 weights) loses weights fastest; the first layer,
  whose units have only two inputs and therefore larger initial weights (`lab.make_mlp` draws
  them uniformly in $\pm 1/\sqrt{\text{fan\_in}}$), keeps the most. That is global pruning
  deciding where sparsity is cheap.
* **Very high sparsity:** eventually even the rewound ticket degrades — the network is simply
  too small. The interesting region is before that.

Every point is a single training run, so a difference of a point or two is noise (run it with
other seeds to see how much). The effect you should trust is the systematic gap at high
sparsity.
""")

# =============================================================================================
# 4. Late rewinding and stability
# =============================================================================================

md("late-intro", r"""
## 4. Late rewinding and stability to SGD noise

Rewinding to $\theta_0$ worked for Frankle & Carbin's small networks, but for deeper ones
(VGG-19, ResNet-18 on CIFAR-10) IMP found winning tickets only with a lowered learning rate or
a learning-rate warm-up. The fix that scaled is **late rewinding**: rewind not to $\theta_0$ but
to $\theta_k$, the weights after $k$ iterations of the dense network's training — early, a
small fraction of the whole run (Frankle et al., 2019, *Stabilizing the Lottery Ticket
Hypothesis*; Frankle et al., 2020, *Linear Mode Connectivity and the Lottery Ticket
Hypothesis*, ICML). The IMP loop is unchanged: `iterative_magnitude_pruning(theta_k, ...)`, with
`train_fn` training for the remaining $T-k$ steps.

**Why it works: stability to SGD noise.** Frankle et al. (2020) ask: take a network at
$\theta_k$, train two copies with *different SGD noise* (different minibatch orders), and walk
the straight line between the two results. If the error along the line never rises above the
endpoints — the **error barrier** $\max_\alpha \text{err}(\alpha) - \tfrac12(\text{err}(0) +
\text{err}(1)) \approx 0$ — the two copies ended in one linearly connected region: the network is
**stable** at $k$ (this is linear mode connectivity from notebook 01, used as a test). Their
findings:

* the dense networks they study are not stable at initialisation, but become stable early in
  training (small networks such as LeNet on MNIST are stable from the start);
* **IMP subnetworks reach full accuracy ("matching") only when they are stable.** Rewound to
  $\theta_0$, the sparse subnetworks of the larger networks are unstable and not matching;
  rewound to an early $\theta_k$, they are stable and matching.

So what IMP needs is not "the" initialisation but a starting point from which the outcome of
training no longer depends on the noise — then the magnitude mask found in one run fits every
other run from the same point.

Below: late rewinding to $k = 20$ of our 500 steps (4% of training), compared with rewinding to
step 0 and with the random re-initialisation, on the same sparsity schedule.
""")

code("demo-late", r"""
with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    history0, rewound_acc = step0_tickets()
    reinit_acc = reinit_control()
    history_k, late_acc = late_tickets()
    sparsities = [sparsity_of(m) for m in trained_masks(history0)]

    print(f"{'sparsity':>8} {'step 0':>7} {f'step {LATE_K}':>8} {'re-init':>8}")
    for s, a, b, c in zip(sparsities, rewound_acc, late_acc, reinit_acc):
        print(f"{s:>8.1%} {a:>7.3f} {b:>8.3f} {c:>8.3f}")
    high = [i for i, s in enumerate(sparsities) if s >= 0.8]
    print(f"\nmean test accuracy at >= 80% sparsity: step 0 "
          f"{np.mean([rewound_acc[i] for i in high]):.3f}, step {LATE_K} "
          f"{np.mean([late_acc[i] for i in high]):.3f}, random re-init "
          f"{np.mean([reinit_acc[i] for i in high]):.3f}")

    ax = lab.plot_sparsity_curve(
        sparsities,
        {"rewind to step 0": rewound_acc, f"late rewinding to step {LATE_K}": late_acc,
         "random re-init": reinit_acc},
        title="Late rewinding",
    )
    ax.axhline(CHANCE, color="black", linestyle="--", linewidth=0.8, label="chance (1/4)")
    ax.legend(loc="lower left", fontsize="small")
    plt.show()
""")

md("demo-late-after", r"""
**What to look for.** Whether rewinding to step 20 keeps the accuracy up to higher sparsity
than rewinding to step 0, and by how much; the summary line averages the sparsities of 80% and
more, where single points are noisy. On a network this small, rewinding to $\theta_0$ already
works well up to fairly high sparsity (as for Frankle & Carbin's small networks), so late
rewinding can only make a difference at the sparse end — which is where to look. Note what the
two curves share: both beat the random re-initialisation. A step-$k$ ticket still depends on
the weights of *this* run, just at a slightly later moment: 20 steps of training have already
moved the weights in a direction that the mask can exploit.

Next, the stability test itself: for tickets from both runs, train two copies with different
minibatch orders (seeds 1 and 2) and measure the barrier on the straight line between them.
""")

code("demo-stability", r"""
STABILITY_ROUNDS = (3, 6, 9, 12)        # tickets after these rounds: about 49%, 74%, 87%, 93% sparse
ALPHAS = torch.linspace(0.0, 1.0, 11)   # alpha = 0 is the copy trained with seed 1, alpha = 1 seed 2


def barriers(start_params, masks, steps):
    # Train two copies of the ticket with different minibatch orders, then measure the error
    # barrier (Frankle et al. 2020) and the loss barrier (notebook 01) on the straight line.
    ends = [train_ticket(start_params, masks, steps=steps, seed=s)[0] for s in (1, 2)]
    model = lab.make_mlp(seed=INIT_SEED)
    losses, errors = [], []
    for alpha in ALPHAS.tolist():
        point = {name: (1 - alpha) * ends[0][name] + alpha * ends[1][name] for name in ends[0]}
        loss, acc = lab.evaluate(model, DATA.X_test, DATA.y_test, point)
        losses.append(loss)
        errors.append(1.0 - acc)
    error_barrier = max(errors) - (errors[0] + errors[-1]) / 2
    loss_barrier = max(losses) - (losses[0] + losses[-1]) / 2
    return error_barrier, loss_barrier


with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    history0, _ = step0_tickets()
    history_k, _ = late_tickets()
    print(f"{'sparsity':>8} | {'rewound to step 0':^23} | {f'rewound to step {LATE_K}':^23}")
    print(f"{'':>8} | {'error barr.':>11} {'loss barr.':>11} | {'error barr.':>11} {'loss barr.':>11}")
    for r in STABILITY_ROUNDS:
        m0, mk = history0[r - 1], history_k[r - 1]
        e0, l0 = memo(("stab0", r), lambda m=m0: barriers(rewind(theta0, m), m, STEPS))
        ek, lk = memo(("stabk", r), lambda m=mk: barriers(rewind(theta_late(), m), m, STEPS - LATE_K))
        print(f"{sparsity_of(m0):>8.1%} | {e0:>11.3f} {l0:>11.3f} | {ek:>11.3f} {lk:>11.3f}")
""")

md("demo-stability-after", r"""
**What to look for.** A barrier near 0 means the two copies — same ticket, same starting
weights, different minibatch order — ended in one linearly connected region: the ticket is
stable. Compare the two columns row by row: Frankle et al. (2020) found that tickets rewound to
an early $\theta_k$ are stable where tickets rewound to $\theta_0$ are not, and that stability
goes together with reaching full accuracy. On our tiny network the picture is noisier — each
number comes from only two training runs, so a single unlucky pair can show a barrier — but
look for the tendency across the rows, and check it against the accuracies of the previous
cell.

This is the link between the two halves of the course subject: *linear mode connectivity*
(notebook 01) is the tool that tells you *where to rewind*.
""")

# =============================================================================================
# 5. Supermasks
# =============================================================================================

md("supermask-intro", r"""
## 5. Supermasks: train the mask, not the weights

If the initial weights matter so much, how much can a mask do *on its own*?

* Zhou et al. (2019), *Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask*
  (NeurIPS): applying an IMP mask to the *untrained* initial weights already gives accuracy far
  above chance. They called such masks **supermasks**, and went on to learn masks directly
  over frozen random weights.
* Ramanujan et al. (2020), *What's Hidden in a Randomly Weighted Neural Network?* (CVPR):
  the **edge-popup** algorithm. Every weight $w$ gets a real-valued **score** $s$. The forward
  pass uses only the weights whose scores are in the top $k\%$ of their layer,
  $W \odot \operatorname{topk}(S)$; the weights **never change**; only the scores are trained,
  by SGD. They found, for example, a subnetwork of a randomly weighted Wide ResNet-50 that
  matches a *trained* ResNet-34 on ImageNet — without ever training a weight.

### 5.1 The forward pass: keep the top scores

`topk_score_mask(scores, keep_fraction)` keeps the `prune_count(N, keep_fraction)` **largest**
scores — signed values: a score of $-2$ is small, not large. (Edge-popup ranks $|s|$; here the
score itself is the learnt "keep me" value.) Ties: the lower flat index is kept first
(`torch.argsort(..., descending=True, stable=True)` does this).
""")

graded("topk_score_mask", r'''
# Visible tests for `topk_score_mask`.
scores = torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]])
scores_before = scores.clone()
mask = topk_score_mask(scores, 0.5)
assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool and mask.shape == (2, 3), (
    "topk_score_mask should return a bool tensor of the scores' shape")
expected = torch.tensor([[True, False, True], [False, True, False]])
assert torch.equal(mask, expected), (
    f"keep prune_count(6, 0.5) = 3 LARGEST scores (3.0, 1.5, 0.5; -2.0 is small, not large); "
    f"expected\n{expected}\ngot\n{mask}")
assert torch.equal(scores, scores_before), "topk_score_mask must not change the scores"
assert torch.equal(topk_score_mask(torch.zeros(4), 0.5), torch.tensor([True, True, False, False])), (
    "ties: among equal scores the lower flat index is kept first")
assert int(topk_score_mask(torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3]), 0.5).sum()) == 3, (
    "keep 0.5 of 5: 2.5 rounds up, keep 3")
try:
    topk_score_mask(scores, 1.5)
except ValueError:
    pass
else:
    raise AssertionError("keep_fraction 1.5 should raise ValueError")
print("topk_score_mask: visible tests passed")
''')

md("straight-through-intro", r"""
### 5.2 The backward pass: the straight-through estimator

`topk` is piecewise constant in the scores: nudging a score changes nothing until it crosses
the threshold. Its gradient is zero almost everywhere, so plain backpropagation cannot train
the scores. The **straight-through estimator** (Bengio, Léonard & Courville, 2013) uses the
hard 0/1 mask in the forward pass and *pretends it was the identity* in the backward pass:

$$\text{forward: } m = \operatorname{topk}(s), \qquad
\text{backward: } \frac{\partial L}{\partial s} := \frac{\partial L}{\partial m}.$$

With an effective weight $w_{\text{eff}} = w\cdot m$, this gives
$\partial L/\partial s = w \cdot \partial L/\partial w_{\text{eff}}$: a score grows when using its
weight would lower the loss, and once it climbs into the top $k\%$ the weight "pops up" into the
network — hence *edge-popup*.

In PyTorch the whole estimator is one line: `hard + (scores - scores.detach())`. The bracket is
exactly 0 in value (so the forward value is exactly `hard`), but its gradient with respect to
`scores` is the identity, and `hard` itself carries no gradient.
""")

graded("straight_through_mask", r'''
# Visible tests for `straight_through_mask`.
scores = torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]], requires_grad=True)
m = straight_through_mask(scores, 0.5)
assert isinstance(m, torch.Tensor) and m.shape == (2, 3) and m.dtype == scores.dtype, (
    "straight_through_mask should return a float tensor of the scores' shape and dtype")
assert torch.equal(m.detach(), torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])), (
    f"the forward value is topk_score_mask(scores, 0.5) as 0.0/1.0; got\n{m.detach()}")
assert m.requires_grad, "the result must be connected to scores in the autograd graph"
incoming = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
(m * incoming).sum().backward()
assert torch.equal(scores.grad, incoming), (
    f"straight-through: the gradient reaching scores is the incoming gradient unchanged; got\n{scores.grad}")
plain = torch.tensor([0.3, 0.1, 0.2])
assert torch.equal(straight_through_mask(plain, 1 / 3), torch.tensor([1.0, 0.0, 0.0])), (
    "works for scores that do not require grad too (prune_count(3, 1/3) = 1 kept)")
assert not plain.requires_grad, "straight_through_mask must not change the scores (not even requires_grad)"
print("straight_through_mask: visible tests passed")
''')

md("demo-supermask-intro", r"""
**Demonstration: a supermask over frozen random weights.** Edge-popup on the spiral:

* a randomly initialised 2-64-64-64-4 MLP (`lab.make_mlp(hidden=(64, 64, 64), seed=0)`); its
  weights are **frozen** — never trained;
* each weight matrix is rescaled once, before anything else, to the standard deviation
  $\sqrt{2/(k\cdot\text{fan\_in})}$ (Kaiming He et al.'s scale, divided by the kept fraction
  $k$, as in edge-popup's scaled initialisation: only a fraction $k$ of the inputs of a unit
  survive, and without the rescaling the signal shrinks layer after layer). `lab.make_mlp`
  draws weights uniformly with standard deviation $1/\sqrt{3\,\text{fan\_in}}$, so the factor is
  $\sqrt{6/k}$. Biases stay as initialised and are not masked;
* a score per weight, drawn from $N(0, 1)$; each layer keeps its top $k = 50\%$;
* 600 Adam steps on the scores only (learning rate 0.05, batch 128).

The network is wider and deeper than the one of section 3 on purpose: a random network has
to be large enough to *contain* a good subnetwork (Ramanujan et al. found the same: the wider
the random network, the better the subnetwork edge-popup finds).
""")

code("demo-supermask", r"""
SUPERMASK_HIDDEN = (64, 64, 64)
KEEP = 0.5                 # each layer keeps its top 50% of scores
SUPERMASK_STEPS = 600
SUPERMASK_LR = 0.05
SUPERMASK_BATCH = 128

with needs("prune_count", "topk_score_mask", "straight_through_mask"):
    net = lab.make_mlp(hidden=SUPERMASK_HIDDEN, seed=INIT_SEED)
    frozen = {name: (w * math.sqrt(6.0 / KEEP) if w.dim() >= 2 else w)
              for name, w in lab.params_of(net).items()}
    frozen_before = {name: w.clone() for name, w in frozen.items()}
    gen = torch.Generator().manual_seed(0)
    scores = {name: torch.randn(w.shape, generator=gen).requires_grad_(True)
              for name, w in frozen.items() if w.dim() >= 2}
    initial_masks = {name: topk_score_mask(s, KEEP) for name, s in scores.items()}
    optimizer = torch.optim.Adam(list(scores.values()), lr=SUPERMASK_LR)

    def supermasked(trainable):
        # The network's parameters: frozen weights times the (straight-through) mask.
        params = dict(frozen)
        for name, s in scores.items():
            mask = straight_through_mask(s, KEEP) if trainable else topk_score_mask(s, KEEP)
            params[name] = frozen[name] * mask
        return params

    n = DATA.X_train.shape[0]
    for _ in range(SUPERMASK_STEPS):
        idx = torch.randint(0, n, (SUPERMASK_BATCH,), generator=gen)
        logits = torch.func.functional_call(net, supermasked(True), (DATA.X_train[idx],))
        loss = F.cross_entropy(logits, DATA.y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        learned = supermasked(False)
        random_mask = {name: frozen[name] * initial_masks[name] if name in scores else frozen[name]
                       for name in frozen}
        acc_learned = lab.accuracy(net, DATA.X_test, DATA.y_test, learned)
        acc_random_mask = lab.accuracy(net, DATA.X_test, DATA.y_test, random_mask)
        acc_dense = lab.accuracy(net, DATA.X_test, DATA.y_test, frozen)
    unchanged = all(torch.equal(frozen[k], frozen_before[k]) for k in frozen)
    kept = {name: float(topk_score_mask(s, KEEP).float().mean()) for name, s in scores.items()}
    print(f"weights unchanged by training: {unchanged}; kept fraction per layer: "
          + ", ".join(f"{k} {v:.2f}" for k, v in kept.items()))
    print(f"test accuracy, frozen random weights, no mask:          {acc_dense:.3f}")
    print(f"test accuracy, random 50% mask (the initial scores):    {acc_random_mask:.3f}")
    print(f"test accuracy, LEARNED supermask (edge-popup):          {acc_learned:.3f}")
    print(f"chance (1 / NUM_CLASSES):                               {CHANCE:.3f}")
    print(f"the supermask beats chance by {acc_learned - CHANCE:+.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    lab.plot_decision_boundary(net, DATA.X_test, DATA.y_test, random_mask, ax=axes[0],
                               title=f"random mask: {acc_random_mask:.2f}")
    lab.plot_decision_boundary(net, DATA.X_test, DATA.y_test, learned, ax=axes[1],
                               title=f"learned supermask: {acc_learned:.2f}")
    fig.suptitle("Same frozen random weights, different masks")
    plt.show()
""")

md("demo-supermask-after", r"""
**What to look for.** The weights are exactly the random ones they started as (`unchanged:
True`); only *which* half of them is used changed. The random mask, like the unmasked random
network, is near chance; the learned supermask is far above it — choosing a subnetwork is a form
of training. It does not reach the accuracy of the trained networks of section 3: on this task,
with this width, a mask alone is a weaker way to learn than moving the weights (Ramanujan et al.
close the gap with much wider networks). Look at the decision regions: the supermask has carved
spiral-shaped regions out of random features.

Two remarks. The straight-through gradient is a *heuristic* — it is not the gradient of
anything the forward pass computes — yet it trains the scores well. And the weight rescaling
matters: without the factor $\sqrt{6/k}$ the signal shrinks layer after layer, the logits stay
tiny, and on this network the supermask stays close to chance (try it).
""")

# =============================================================================================
# 6. Mask overlap
# =============================================================================================

md("overlap-intro", r"""
## 6. Comparing tickets: mask overlap (practice problem 3)

Practice problem 3 of the course text asks why a winning ticket found by IMP at 90% sparsity
might *not* transfer to a different data set, although the architecture works on both. One
thing you can measure is whether the tickets themselves agree. The **Jaccard index** of two
masks compares their kept sets $A$ and $B$:

$$J(A, B) = \frac{|A \cap B|}{|A \cup B|} \in [0, 1],$$

1 for identical masks, 0 for disjoint ones; weights pruned in both masks do not count (at 90%
sparsity almost every weight is pruned in both, which says nothing about agreement). By
convention two masks that keep nothing are identical, $J = 1$.

**Compare with chance, not with 0.** Two *independent random* masks of density $d$ (fraction
kept) share about $d^2 N$ entries out of a union of about $(2d - d^2)N$, so
$J \approx d/(2-d)$: at 20% density, 0.11. A ticket overlap means something only above that.
""")

graded("mask_overlap", r'''
# Visible tests for `mask_overlap`.
a = torch.tensor([[1, 1, 0], [0, 1, 0]], dtype=torch.bool)
b = torch.tensor([[1, 0, 0], [1, 1, 1]], dtype=torch.bool)
j = mask_overlap(a, b)
assert isinstance(j, float), f"mask_overlap should return a Python float, got {type(j).__name__}"
assert abs(j - 2 / 5) < 1e-12, f"kept in both: 2 entries, kept in either: 5, so 0.4; got {j}"
assert abs(mask_overlap(b, a) - j) < 1e-12, "the Jaccard index is symmetric"
assert mask_overlap(a, a.clone()) == 1.0 and mask_overlap(a, ~a) == 0.0, "identical: 1.0, disjoint: 0.0"
empty = torch.zeros(2, 3, dtype=torch.bool)
assert mask_overlap(empty, empty.clone()) == 1.0, "two masks that keep nothing: 1.0 by convention"
try:
    mask_overlap(torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool))
except ValueError:
    pass
else:
    raise AssertionError("masks of shapes (2, 3) and (3, 2) should raise ValueError")
print("mask_overlap: visible tests passed")
''')

md("demo-overlap-intro", r"""
**Demonstration: whose ticket is it?** Four tickets at 73.8% sparsity (6 rounds of 20%):

* **A** — $\theta_0$, the spiral (the ticket of section 3);
* **B** — $\theta_0$, a *new sample* of the same task (`lab.make_dataset(seed=1)`);
* **C** — $\theta_0$, a *different task*: the mirrored spiral ($x_1 \to -x_1$, so the arms
  turn the other way; same architecture, same difficulty);
* **D** — a *different initialisation* (`lab.make_mlp(seed=1)`), the original spiral.

We compare B, C and D with A, against the chance overlap of random masks with A's per-layer
densities (A's masks shuffled within each layer, averaged over 20 shuffles). Then the transfer
question itself: train ticket A and ticket C, both rewound to $\theta_0$, on the mirrored task.
""")

code("demo-overlap", r"""
OVERLAP_ROUNDS = 6   # 1 - 0.8**6 = 73.8% sparsity
flip = torch.tensor([-1.0, 1.0])
MIRRORED = lab.Dataset(DATA.X_train * flip, DATA.y_train, DATA.X_test * flip, DATA.y_test,
                       DATA.num_classes)


def flat(masks):
    # All layers of a masks dict as one 1-D bool tensor.
    return torch.cat([m.flatten() for m in masks.values()])


def shuffled(masks, generator):
    # A random mask with the same number of kept entries in every layer.
    return {name: m.flatten()[torch.randperm(m.numel(), generator=generator)].reshape(m.shape)
            for name, m in masks.items()}


with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning", "mask_overlap"):
    ticket_a = step0_tickets()[0][OVERLAP_ROUNDS - 1]
    theta0_other = lab.params_of(lab.make_mlp(seed=REINIT_SEED))
    ticket_b = memo("B", lambda: imp_run(theta0, lab.make_dataset(seed=1), rounds=OVERLAP_ROUNDS))[0][-1]
    ticket_c = memo("C", lambda: imp_run(theta0, MIRRORED, rounds=OVERLAP_ROUNDS))[0][-1]
    ticket_d = memo("D", lambda: imp_run(theta0_other, rounds=OVERLAP_ROUNDS))[0][-1]

    gen = torch.Generator().manual_seed(0)
    random_masks = [shuffled(ticket_a, gen) for _ in range(20)]
    d = 1.0 - sparsity_of(ticket_a)
    print(f"ticket A: density {d:.3f} (sparsity {1 - d:.1%}), per layer "
          + ", ".join(f"{k} {float(m.float().mean()):.2f}" for k, m in ticket_a.items())
          + f"; d/(2-d) = {d / (2 - d):.3f}\n")
    print(f"{'overlap with ticket A':<46} {'all':>6}   " + "  ".join(f"{k:>8}" for k in ticket_a))
    rows = [("B: theta_0, new sample of the same task", [ticket_b]),
            ("C: theta_0, mirrored task", [ticket_c]),
            ("D: other initialisation, same task", [ticket_d]),
            ("chance: A shuffled within layers (mean of 20)", random_masks)]
    for label, tickets in rows:
        whole = np.mean([mask_overlap(flat(ticket_a), flat(t)) for t in tickets])
        per_layer = "  ".join(f"{np.mean([mask_overlap(ticket_a[k], t[k]) for t in tickets]):>8.3f}"
                              for k in ticket_a)
        print(f"{label:<46} {whole:>6.3f}   {per_layer}")

    acc_a = memo("transfer-A", lambda: train_ticket(rewind(theta0, ticket_a), ticket_a, MIRRORED)[1])
    acc_c = memo("transfer-C", lambda: train_ticket(rewind(theta0, ticket_c), ticket_c, MIRRORED)[1])
    print(f"\ntrained on the mirrored task at {1 - d:.1%} sparsity: ticket A (found on the spiral) "
          f"{acc_a:.3f}, ticket C (found on the mirrored spiral) {acc_c:.3f}")
""")

md("demo-overlap-after", r"""
**What to look for.** Read every number against the chance row below it — the chance level
is far from 0 and grows with the density. Tickets found from the same $\theta_0$ overlap above
chance: much of a ticket is fixed by the initialisation (which weights start large). The
ticket from another sample of the *same* task (B) is the closest to A; the ticket from the
mirrored task (C) shares less — part of a ticket is specific to the data it was found on. A
ticket from *another initialisation* (D) lives on different weights: its overlap with A should
be close to chance, since "weight 17 of layer 2" means nothing in common between two random
initialisations. The per-layer columns show where tickets differ: the first layer keeps most of
its weights, so even unrelated masks overlap a lot there; the large middle layer is where the
differences show.

The last line is the transfer test on a single pair of runs: if ticket A trains worse on the
mirrored task than the ticket found there, that is the dataset-specificity practice problem 3
asks about. Keep the scale in mind: the literature is more nuanced — Morcos et al. (2019,
*One ticket to win them all*) found that tickets from large image data sets do transfer to
other image tasks, often better than tickets found on the small target task itself. Whether a
ticket transfers depends on how much the tasks share.

The written answer to practice problem 3 is part of notebook 04.
""")

# =============================================================================================
# Summary and pitfalls
# =============================================================================================

md("summary", r"""
## Summary

* **Magnitude pruning** removes the `prune_count(n, f)` = $\lfloor f n + 0.5\rfloor$ (float64)
  smallest $|w|$; ties go by position. Masks are bool, `True` = kept.
* **IMP** prunes a fraction of the *remaining* weights per round (globally or layer-wise) and
  rewinds the survivors to their initial values; sparsity after $r$ rounds is $1-(1-p)^r$,
  and every round costs a full training run.
* **Lottery tickets:** at high sparsity the rewound ticket trains far better than the same mask
  with fresh random weights — the initial values of the surviving weights matter (Frankle &
  Carbin, 2019).
* **Late rewinding** to an early $\theta_k$ finds tickets where rewinding to $\theta_0$ fails, in
  larger networks; the tickets that work are the ones that are *stable to SGD noise*, i.e.
  whose trained copies are linearly mode-connected (Frankle et al., 2020).
* **Supermasks:** choosing a subnetwork of frozen random weights is itself a way to learn
  (Zhou et al., 2019; edge-popup, Ramanujan et al., 2020); the straight-through estimator
  trains the scores.
* **Tickets are partly data-specific:** masks found on different data overlap less, and the
  Jaccard index must be read against its chance level.

## Pitfalls

1. **"Winning tickets require careful rewinding" — what is true in it.** The ticket is the mask
   *and* the initial values of the same run: with fresh random values the same mask loses its
   advantage at high sparsity (section 3). But "careful" does not mean "exactly $\theta_0$ or
   nothing": for larger networks rewinding to $\theta_0$ fails and rewinding to an early
   $\theta_k$ works (section 4) — the right point is one where training is stable to SGD noise.
   And the course text's "even slightly different initialisation destroys the ticket" is too
   strong: Zhou et al. (2019) found that keeping only the *signs* of the initial weights (with a
   constant magnitude) preserves much of the ticket's performance. What destroys it is an
   independent random draw.
2. **Keep pruned weights at zero while retraining.** Zeroing them once is not enough: momentum,
   Adam's running averages and weight decay revive them. Mask the gradients and re-apply the
   mask after every step (as `lab.train(..., mask=...)` does).
3. **Prune a fraction of what is left, not of the total** — and the sparsity after $r$ rounds is
   $1-(1-p)^r$, not $r\cdot p$.
4. **Count exactly.** Halves round up and the product is float64: 0.58 of 25 is 14. Python's
   `round()` rounds halves to even.
5. **Global pruning can empty a layer** (layer collapse). Print the per-layer densities.
6. **Rewind everything** — biases included — and start the optimiser afresh; train every round
   from the rewound weights, never from the previous round's trained weights.
7. **One run is an anecdote.** The curves here are single runs; small differences are noise.
   Compare tickets and controls under identical settings, and over several seeds before
   concluding.
8. **Supermasks need the right weight scale**, and the straight-through gradient is a heuristic:
   it is not the gradient of the forward computation.

*Next:* notebook 04 — the quiz (Q2 and Q5 are about this notebook) and the written answers to
the practice problems.
""")

# =============================================================================================

builder.write(OUT, total=TOTAL)
