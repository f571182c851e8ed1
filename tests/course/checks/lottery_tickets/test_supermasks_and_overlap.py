"""The hidden checks of notebook 03, sections 5–6 (supermasks; comparing tickets) grade well:
`topk_score_mask`, `straight_through_mask` and `mask_overlap`.

The tables at the end list which implementations fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograder.checks import parts
from solutions import lottery_tickets as ref
from tests.course.checks.lottery_tickets.helpers import _check_fraction, _count
from tests.course.checks.support import assert_fails, assert_passes_all

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
    """The tables above cover every graded function of this file."""
    assert sum(w[0] == name for w in WRONG) >= 5
    assert sum(c[0] == name for c in CORRECT) >= 4
    assert 3 <= len(parts(name)) <= 6
