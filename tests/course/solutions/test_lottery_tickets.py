"""Tests of the reference solutions for notebook 03 (`solutions.lottery_tickets`).

Every expected value comes from an independent oracle, never from the function under test:
the seed's worked example 3, exact rational emulation of float64 arithmetic, and brute force
in pure Python (sorting (magnitude, position) tuples) on small tensors with many ties.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from solutions import lottery_tickets as lt
from solutions.lottery_tickets import (
    global_prune,
    imp_sparsity,
    iterative_magnitude_pruning,
    magnitude_mask,
    mask_overlap,
    prune_count,
    prune_remaining,
    rewind,
    rounds_to_reach,
    straight_through_mask,
    topk_score_mask,
)

HYPOTHESIS = settings(max_examples=50, deadline=None)
#: Tolerance for comparing closed-form sparsities computed in a different order.
CLOSED_FORM_TOL = 1e-12

# Worked example 3 of the seed: W1 (4x3), 30% pruning, mask with 0 = pruned, 1 = kept.
W1 = [[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]]
M1 = [[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]]

BAD_FRACTIONS = [-0.1, 1.1, float("nan"), "half", None]


# --------------------------------------------------------------------------------------
# oracles
# --------------------------------------------------------------------------------------


def oracle_prune_count(n: int, fraction: float) -> int:
    """floor(fl(fl(fraction * n) + 0.5)) emulated with exact rationals (float() rounds)."""
    product = float(Fraction(fraction) * n)  # IEEE multiplication = exact product, rounded
    total = float(Fraction(product) + Fraction(1, 2))  # IEEE addition, rounded
    return math.floor(total)


def brute_prune_smallest(entries: list[tuple[float, int]], k: int) -> set[int]:
    """Positions of the k smallest (magnitude, position) pairs: lower position first on ties."""
    return {pos for _, pos in sorted(entries)[:k]}


def flat_values(t: torch.Tensor) -> list[float]:
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def brute_magnitude_mask(weights: torch.Tensor, k: int, kept: list[bool] | None = None) -> list:
    vals = flat_values(weights)
    kept = kept if kept is not None else [True] * len(vals)
    entries = [(abs(v), i) for i, v in enumerate(vals) if kept[i]]
    pruned = brute_prune_smallest(entries, k)
    return [kept[i] and i not in pruned for i in range(len(vals))]


def brute_global_prune(params: dict, masks: dict, fraction: float) -> dict[str, list[bool]]:
    flat_masks = {key: [bool(b) for b in m.reshape(-1).tolist()] for key, m in masks.items()}
    entries = []
    for order, key in enumerate(masks):
        vals = flat_values(params[key])
        entries += [(abs(v), order, i, key) for i, v in enumerate(vals) if flat_masks[key][i]]
    k = math.floor(fraction * len(entries) + 0.5)
    for _, _, i, key in sorted(entries)[:k]:
        flat_masks[key][i] = False
    return flat_masks


def as_flat_bools(mask: torch.Tensor) -> list[bool]:
    return [bool(b) for b in mask.reshape(-1).tolist()]


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


# --------------------------------------------------------------------------------------
# strategies: small tensors with many ties (integers from a small range, signed zeros)
# --------------------------------------------------------------------------------------

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
fractions = st.one_of(st.integers(0, 20).map(lambda p: p / 20), st.floats(0.0, 1.0))
dtypes = st.sampled_from([torch.float32, torch.float64])


@st.composite
def tied_tensors(draw, shape=None):
    shape = draw(shapes) if shape is None else shape
    n = math.prod(shape)
    values = draw(
        st.lists(st.sampled_from([-3, -2, -1, -0.0, 0.0, 1, 2, 3]), min_size=n, max_size=n)
    )
    scale = draw(st.sampled_from([1.0, 0.1, 1e-30, 1e30]))
    return torch.tensor([v * scale for v in values], dtype=draw(dtypes)).reshape(shape)


@st.composite
def tensor_and_mask(draw):
    weights = draw(tied_tensors())
    bits = draw(st.lists(st.booleans(), min_size=weights.numel(), max_size=weights.numel()))
    return weights, torch.tensor(bits, dtype=torch.bool).reshape(weights.shape)


@st.composite
def params_and_masks(draw):
    num = draw(st.integers(1, 3))
    names = draw(st.permutations(["w0", "w1", "w2"]))[:num]
    params, masks = {}, {}
    for name in names:
        weights, mask = draw(tensor_and_mask())
        params[name], masks[name] = weights, mask
    params["bias"] = torch.zeros(2)  # never prunable: not in masks
    mask_order = draw(st.permutations(list(masks)))
    return params, {key: masks[key] for key in mask_order}


# --------------------------------------------------------------------------------------
# prune_count
# --------------------------------------------------------------------------------------


def test_prune_count_worked_example_and_float_traps():
    """30% of 12 is 4 (seed); 0.58 of 25 is 14 because 0.58*25 < 14.5 in float64."""
    assert prune_count(12, 0.3) == 4
    assert prune_count(25, 0.58) == 14
    assert 0.58 * 25 < 14.5  # the reason
    assert prune_count(1, 0.5) == 1  # exact halves go up
    assert prune_count(3, 0.5) == 2
    assert prune_count(0, 0.7) == 0
    assert prune_count(10, 0.0) == 0
    assert prune_count(10, 1.0) == 10
    assert type(prune_count(12, 0.3)) is int


def test_prune_count_matches_exact_float64_emulation_on_grid():
    """Brute force over n < 200 and fractions p/100 and p/7 against the rational emulation."""
    for n in range(200):
        for p in range(101):
            assert prune_count(n, p / 100) == oracle_prune_count(n, p / 100), (n, p)
        for p in range(8):
            assert prune_count(n, p / 7) == oracle_prune_count(n, p / 7), (n, p)


def test_prune_count_versus_decimal_halves_up():
    """Against exact decimal halves-up, float64 differs only where the product falls below .5."""
    differs = set()
    for n in range(61):
        for p in range(101):
            decimal = math.floor(Fraction(p, 100) * n + Fraction(1, 2))
            if prune_count(n, p / 100) != decimal:
                differs.add((n, p))
                assert prune_count(n, p / 100) == decimal - 1
    assert differs == {(25, 58), (45, 70), (50, 29), (50, 57)}


@HYPOTHESIS
@given(st.integers(0, 10**6), st.floats(0.0, 1.0))
def test_prune_count_random(n, fraction):
    assert prune_count(n, fraction) == oracle_prune_count(n, fraction)
    assert 0 <= prune_count(n, fraction) <= n


def test_prune_count_accepts_integer_likes():
    assert prune_count(np.int64(12), np.float64(0.3)) == 4
    assert prune_count(torch.tensor(12), 0.3) == 4


@pytest.mark.parametrize("n", [-1, 2.5, 3.0, True, "3", None])
def test_prune_count_bad_n(n):
    with pytest.raises(ValueError, match="n"):
        prune_count(n, 0.5)


@pytest.mark.parametrize("fraction", BAD_FRACTIONS)
def test_prune_count_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        prune_count(10, fraction)


# --------------------------------------------------------------------------------------
# magnitude_mask
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_magnitude_mask_worked_example_3(dtype):
    """The seed's 4x3 mask: prunes 0.02, 0.05 and both 0.1 entries."""
    weights = torch.tensor(W1, dtype=dtype)
    mask = magnitude_mask(weights, 0.3)
    assert mask.dtype == torch.bool
    assert mask.shape == (4, 3)
    assert mask.tolist() == [[bool(b) for b in row] for row in M1]


def test_magnitude_mask_tie_rule_lower_index_pruned_first():
    weights = torch.tensor([[0.5, -0.5], [0.5, 2.0]])
    assert magnitude_mask(weights, 0.25).tolist() == [[False, True], [True, True]]
    assert magnitude_mask(weights, 0.5).tolist() == [[False, False], [True, True]]
    assert magnitude_mask(torch.tensor([0.0, -0.0, 0.0]), 0.34).tolist() == [False, True, True]


@HYPOTHESIS
@given(tied_tensors(), fractions)
def test_magnitude_mask_matches_brute_force(weights, fraction):
    before = weights.clone()
    mask = magnitude_mask(weights, fraction)
    k = math.floor(fraction * weights.numel() + 0.5)
    assert mask.shape == weights.shape and mask.dtype == torch.bool
    assert as_flat_bools(mask) == brute_magnitude_mask(weights, k)
    assert torch.equal(weights, before)


def test_magnitude_mask_edge_shapes_and_dtypes():
    assert magnitude_mask(torch.tensor(3.0), 1.0).tolist() is False
    assert magnitude_mask(torch.zeros(0, 3), 0.5).shape == (0, 3)
    ints = torch.tensor([[-4, 1], [3, -2]], dtype=torch.int64)
    assert magnitude_mask(ints, 0.5).tolist() == [[True, False], [True, False]]
    weights = torch.tensor([1.0, -2.0], requires_grad=True)
    assert magnitude_mask(weights, 0.5).tolist() == [False, True]


def test_magnitude_mask_bad_input():
    with pytest.raises(ValueError, match="weights"):
        magnitude_mask(torch.tensor([1.0, float("nan")]), 0.5)
    with pytest.raises(ValueError, match="weights"):
        magnitude_mask([[1.0, 2.0]], 0.5)
    with pytest.raises(ValueError, match="weights"):
        magnitude_mask(torch.tensor([True, False]), 0.5)
    for fraction in BAD_FRACTIONS:
        with pytest.raises(ValueError, match="fraction"):
            magnitude_mask(torch.zeros(0), fraction)  # validated even with nothing to prune


# --------------------------------------------------------------------------------------
# prune_remaining
# --------------------------------------------------------------------------------------


def test_prune_remaining_ignores_already_pruned_entries():
    weights = torch.tensor([0.0, 5.0, 1.0, 4.0, 2.0, 3.0])
    mask = torch.tensor([False, True, True, True, True, True])
    # 5 kept, 40% -> prune 2 of the kept: 1.0 and 2.0 (the pruned 0.0 does not count)
    expected = [False, True, False, True, False, True]
    assert prune_remaining(weights, mask, 0.4).tolist() == expected


def test_prune_remaining_continues_worked_example():
    """A second 30% round on W1: 8 kept, prune 2 more (0.2 then 0.3)."""
    weights = torch.tensor(W1)
    mask = torch.tensor(M1, dtype=torch.bool)
    out = prune_remaining(weights, mask, 0.3)
    assert out.tolist() == [[1, 0, 0], [1, 0, 1], [0, 1, 0], [1, 0, 1]]


@HYPOTHESIS
@given(tensor_and_mask(), fractions)
def test_prune_remaining_matches_brute_force(weights_mask, fraction):
    weights, mask = weights_mask
    w_before, m_before = weights.clone(), mask.clone()
    out = prune_remaining(weights, mask, fraction)
    kept = as_flat_bools(mask)
    k = math.floor(fraction * sum(kept) + 0.5)
    assert out.dtype == torch.bool and out.shape == mask.shape
    assert as_flat_bools(out) == brute_magnitude_mask(weights, k, kept)
    assert not bool((out & ~mask).any())  # subset of mask
    assert torch.equal(weights, w_before) and torch.equal(mask, m_before)
    assert mask.numel() == 0 or not shares_memory(out, mask)


def test_prune_remaining_bad_input():
    weights = torch.ones(2, 3)
    with pytest.raises(ValueError, match="mask"):
        prune_remaining(weights, torch.ones(3, 2, dtype=torch.bool), 0.5)
    with pytest.raises(ValueError, match="mask"):
        prune_remaining(weights, torch.ones(2, 3, dtype=torch.uint8), 0.5)
    with pytest.raises(ValueError, match="mask"):
        prune_remaining(weights, [[True] * 3] * 2, 0.5)
    with pytest.raises(ValueError, match="weights"):
        prune_remaining(torch.full((2, 3), float("nan")), torch.ones(2, 3, dtype=torch.bool), 0.5)
    for fraction in BAD_FRACTIONS:
        with pytest.raises(ValueError, match="fraction"):
            prune_remaining(weights, torch.zeros(2, 3, dtype=torch.bool), fraction)


# --------------------------------------------------------------------------------------
# global_prune
# --------------------------------------------------------------------------------------


@HYPOTHESIS
@given(params_and_masks(), fractions)
def test_global_prune_matches_brute_force(params_masks, fraction):
    params, masks = params_masks
    p_before = {k: v.clone() for k, v in params.items()}
    m_before = {k: v.clone() for k, v in masks.items()}
    out = global_prune(params, masks, fraction)
    expected = brute_global_prune(params, masks, fraction)
    assert list(out) == list(masks)
    for key in masks:
        assert out[key].dtype == torch.bool and out[key].shape == masks[key].shape
        assert as_flat_bools(out[key]) == expected[key], key
        assert masks[key].numel() == 0 or not shares_memory(out[key], masks[key])
    assert all(torch.equal(params[k], p_before[k]) for k in params)
    assert all(torch.equal(masks[k], m_before[k]) for k in masks)


def test_global_prune_ties_follow_masks_order_not_params_order():
    params = {"a": torch.tensor([1.0, 1.0]), "b": torch.tensor([1.0, 1.0], dtype=torch.float64)}
    masks = {"b": torch.ones(2, dtype=torch.bool), "a": torch.ones(2, dtype=torch.bool)}
    out = global_prune(params, masks, 0.75)  # 4 kept -> prune 3: b[0], b[1], a[0]
    assert list(out) == ["b", "a"]
    assert out["b"].tolist() == [False, False]
    assert out["a"].tolist() == [False, True]


def test_global_prune_ranks_jointly_and_ignores_unmasked_keys():
    params = {
        "0.weight": torch.tensor([[10.0, 0.1], [0.2, 10.0]]),
        "0.bias": torch.tensor([0.0, 0.0]),
        "2.weight": torch.tensor([[0.3, 9.0]]),
    }
    masks = {
        "0.weight": torch.ones(2, 2, dtype=torch.bool),
        "2.weight": torch.ones(1, 2, dtype=torch.bool),
    }
    out = global_prune(params, masks, 0.5)  # 6 kept -> prune 0.1, 0.2, 0.3
    assert set(out) == {"0.weight", "2.weight"}
    assert out["0.weight"].tolist() == [[True, False], [False, True]]
    assert out["2.weight"].tolist() == [[False, True]]


def test_global_prune_empty_masks():
    assert global_prune({"w": torch.ones(2, 2)}, {}, 0.5) == {}


def test_global_prune_bad_input():
    params = {"w": torch.ones(2, 2)}
    good = {"w": torch.ones(2, 2, dtype=torch.bool)}
    with pytest.raises(ValueError, match="'v'"):
        global_prune(params, {"v": torch.ones(2, 2, dtype=torch.bool)}, 0.5)
    with pytest.raises(ValueError, match="masks"):
        global_prune(params, {"w": torch.ones(4, dtype=torch.bool)}, 0.5)
    with pytest.raises(ValueError, match="masks"):
        global_prune(params, {"w": torch.ones(2, 2)}, 0.5)
    with pytest.raises(ValueError, match="params"):
        global_prune({"w": torch.full((2, 2), float("nan"))}, good, 0.5)
    with pytest.raises(ValueError, match="params"):
        global_prune([torch.ones(2, 2)], good, 0.5)
    with pytest.raises(ValueError, match="masks"):
        global_prune(params, {"w": [[True, True], [True, True]]}, 0.5)
    for fraction in BAD_FRACTIONS:
        with pytest.raises(ValueError, match="fraction"):
            global_prune(params, {}, fraction)


# --------------------------------------------------------------------------------------
# imp_sparsity and rounds_to_reach
# --------------------------------------------------------------------------------------


def test_imp_sparsity_closed_form():
    assert imp_sparsity(0.2, 0) == 0.0
    assert imp_sparsity(1.0, 1) == 1.0
    assert imp_sparsity(0.5, 3) == 0.875  # exact in binary
    assert imp_sparsity(0.2, 11) == pytest.approx(1 - 0.8**11, abs=CLOSED_FORM_TOL)
    assert imp_sparsity(0.2, 10) < 0.9 <= imp_sparsity(0.2, 11)
    assert type(imp_sparsity(0.2, 3)) is float


@HYPOTHESIS
@given(st.floats(0.0, 1.0), st.integers(0, 60))
def test_imp_sparsity_matches_product_of_survival(fraction, rounds):
    survive = 1.0
    for _ in range(rounds):
        survive *= 1.0 - fraction
    assert imp_sparsity(fraction, rounds) == pytest.approx(1.0 - survive, abs=CLOSED_FORM_TOL)


def test_imp_sparsity_bad_input():
    for fraction in BAD_FRACTIONS:
        with pytest.raises(ValueError, match="fraction"):
            imp_sparsity(fraction, 1)
    for rounds in [-1, 1.5, True, "2"]:
        with pytest.raises(ValueError, match="rounds"):
            imp_sparsity(0.2, rounds)


def brute_rounds(fraction: float, target: float) -> int:
    r = 0
    while 1.0 - (1.0 - fraction) ** r < target - lt.SPARSITY_TOL:
        r += 1
    return r


def test_rounds_to_reach_examples():
    assert rounds_to_reach(0.2, 0.9) == 11  # seed-style schedule from the spec
    assert rounds_to_reach(0.5, 0.75) == 2  # exactly on the boundary
    assert rounds_to_reach(0.5, 0.75 + 1e-13) == 2  # within SPARSITY_TOL
    assert rounds_to_reach(0.5, 0.75 + 1e-9) == 3
    assert rounds_to_reach(0.2, 0.0) == 0
    assert rounds_to_reach(0.2, 1e-13) == 0
    assert rounds_to_reach(0.2, 0.2) == 1
    assert type(rounds_to_reach(0.2, 0.9)) is int


@HYPOTHESIS
@given(st.floats(0.01, 0.99), st.floats(0.0, 0.999))
def test_rounds_to_reach_matches_brute_force_loop(fraction, target):
    assert rounds_to_reach(fraction, target) == brute_rounds(fraction, target)


@pytest.mark.parametrize("fraction", [1e-9, 1e-6, 0.999999])
def test_rounds_to_reach_extreme_fractions_satisfy_definition(fraction):
    """Too many rounds to loop over: check the defining inequality at r and r - 1."""
    target = 0.5
    r = rounds_to_reach(fraction, target)
    assert 1.0 - (1.0 - fraction) ** r >= target - lt.SPARSITY_TOL
    assert r == 0 or 1.0 - (1.0 - fraction) ** (r - 1) < target - lt.SPARSITY_TOL


def test_rounds_to_reach_bad_input():
    for fraction in [0.0, 1.0, -0.1, float("nan"), "x"]:
        with pytest.raises(ValueError, match="fraction"):
            rounds_to_reach(fraction, 0.5)
    for target in [1.0, -0.1, 1.5, float("nan"), None]:
        with pytest.raises(ValueError, match="target_sparsity"):
            rounds_to_reach(0.2, target)
    with pytest.raises(ValueError, match="fraction"):
        rounds_to_reach(1e-17, 0.5)  # 1 - fraction == 1.0: unreachable
    assert rounds_to_reach(1e-17, 0.0) == 0


# --------------------------------------------------------------------------------------
# rewind
# --------------------------------------------------------------------------------------


def make_init_params() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {
        "0.weight": torch.randn(4, 3, generator=gen),
        "0.bias": torch.randn(4, generator=gen),
        "2.weight": torch.randn(2, 4, generator=gen, dtype=torch.float64),
        "2.bias": torch.randn(2, generator=gen),
    }


def test_rewind_zeroes_pruned_entries_and_copies():
    init = make_init_params()
    before = {k: v.clone() for k, v in init.items()}
    masks = {"2.weight": torch.rand(2, 4) > 0.5, "0.weight": torch.tensor(M1, dtype=torch.bool)}
    m_before = {k: v.clone() for k, v in masks.items()}
    out = rewind(init, masks)
    assert list(out) == list(init)
    for key, value in init.items():
        assert out[key].dtype == value.dtype and out[key].shape == value.shape
        assert not shares_memory(out[key], value)
        got, ref = flat_values(out[key]), flat_values(value)
        keep = as_flat_bools(masks[key]) if key in masks else [True] * len(ref)
        assert got == [r if k else 0.0 for r, k in zip(ref, keep)], key
    assert all(torch.equal(init[k], before[k]) for k in init)
    assert all(torch.equal(masks[k], m_before[k]) for k in masks)
    out["0.bias"].add_(1.0)  # writing to the copy leaves the input alone
    assert torch.equal(init["0.bias"], before["0.bias"])


def test_rewind_detaches_and_empty_masks_copy():
    weights = torch.ones(2, 2, requires_grad=True)
    out = rewind({"w": weights}, {})
    assert not out["w"].requires_grad
    assert torch.equal(out["w"], torch.ones(2, 2)) and not shares_memory(out["w"], weights)


def test_rewind_bad_input():
    init = make_init_params()
    with pytest.raises(ValueError, match=r"'1\.weight'"):
        rewind(init, {"1.weight": torch.ones(4, 3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="masks"):
        rewind(init, {"0.weight": torch.ones(3, 4, dtype=torch.bool)})
    with pytest.raises(ValueError, match="masks"):
        rewind(init, {"0.weight": torch.ones(4, 3)})
    with pytest.raises(ValueError, match="init_params"):
        rewind([torch.ones(2)], {})


# --------------------------------------------------------------------------------------
# iterative_magnitude_pruning
# --------------------------------------------------------------------------------------


class SpyTrain:
    """A deterministic stand-in for training: adds a fixed offset and records every call."""

    def __init__(self, init: dict[str, torch.Tensor], *, mutate: bool = False):
        gen = torch.Generator().manual_seed(1)
        self.offsets = {
            k: torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in init.items()
        }
        self.calls: list[tuple[dict, dict]] = []
        self.mutate = mutate

    def __call__(self, params, masks):
        self.calls.append(
            ({k: v.clone() for k, v in params.items()}, {k: v.clone() for k, v in masks.items()})
        )
        trained = {k: v + self.offsets[k] for k, v in params.items()}
        if self.mutate:  # a careless train_fn that scribbles on its arguments
            for value in params.values():
                value.fill_(123.0)
            for mask in masks.values():
                mask.fill_(False)
        return trained


@pytest.mark.parametrize("mutate", [False, True])
def test_imp_matches_brute_force_rounds(mutate):
    init = make_init_params()
    before = {k: v.clone() for k, v in init.items()}
    spy = SpyTrain(init, mutate=mutate)
    history = iterative_magnitude_pruning(init, spy, 4, 0.3)
    assert len(history) == 4 and len(spy.calls) == 4
    # independent replay: rewinding by multiplication, pruning by brute force
    masks = {k: torch.ones(v.shape, dtype=torch.bool) for k, v in init.items() if v.dim() >= 2}
    for round_index, (got_params, got_masks) in enumerate(spy.calls):
        assert list(got_masks) == ["0.weight", "2.weight"]
        for key in init:
            keep = masks.get(key, torch.ones_like(init[key], dtype=torch.bool))
            assert torch.equal(got_params[key], torch.where(keep, init[key], 0.0)), key
        for key in masks:
            assert torch.equal(got_masks[key], masks[key])
        trained = {
            k: torch.where(masks.get(k, torch.tensor(True)), init[k], 0.0) + spy.offsets[k]
            for k in init
        }
        expected = brute_global_prune(trained, masks, 0.3)
        assert list(history[round_index]) == ["0.weight", "2.weight"]
        for key in masks:
            assert as_flat_bools(history[round_index][key]) == expected[key]
        masks = {k: torch.tensor(v).reshape(masks[k].shape) for k, v in expected.items()}
    assert all(torch.equal(init[k], before[k]) for k in init)


def test_imp_nested_masks_and_exact_counts():
    """Masks shrink monotonically; kept count follows the iterated prune_count exactly."""
    init = make_init_params()
    history = iterative_magnitude_pruning(init, SpyTrain(init), 6, 0.2)
    total = sum(v.numel() for v in init.values() if v.dim() >= 2)
    kept = total
    previous = None
    for masks in history:
        kept -= math.floor(0.2 * kept + 0.5)
        assert sum(int(m.sum()) for m in masks.values()) == kept
        if previous is not None:
            assert all(not bool((masks[k] & ~previous[k]).any()) for k in masks)
            assert all(not shares_memory(masks[k], previous[k]) for k in masks)
        previous = masks


def test_imp_zero_rounds_validates_and_never_trains():
    init = make_init_params()
    spy = SpyTrain(init)
    assert iterative_magnitude_pruning(init, spy, 0, 0.2) == []
    assert spy.calls == []
    for fraction in BAD_FRACTIONS:
        with pytest.raises(ValueError, match="fraction"):
            iterative_magnitude_pruning(init, spy, 0, fraction)
    for rounds in [-1, 2.0, True]:
        with pytest.raises(ValueError, match="rounds"):
            iterative_magnitude_pruning(init, spy, rounds, 0.2)
    with pytest.raises(ValueError, match="train_fn"):
        iterative_magnitude_pruning(init, None, 0, 0.2)
    with pytest.raises(ValueError, match="init_params"):
        iterative_magnitude_pruning([1, 2], spy, 0, 0.2)
    assert spy.calls == []


def test_imp_train_fn_returning_bad_params():
    init = make_init_params()
    with pytest.raises(ValueError, match="train_fn"):
        iterative_magnitude_pruning(init, lambda p, m: None, 1, 0.2)
    with pytest.raises(ValueError, match=r"'2\.weight'"):
        iterative_magnitude_pruning(init, lambda p, m: {"0.weight": p["0.weight"]}, 1, 0.2)


# --------------------------------------------------------------------------------------
# topk_score_mask and straight_through_mask
# --------------------------------------------------------------------------------------


@HYPOTHESIS
@given(tied_tensors(), fractions)
def test_topk_score_mask_matches_brute_force(scores, keep_fraction):
    before = scores.clone()
    mask = topk_score_mask(scores, keep_fraction)
    vals = flat_values(scores)
    k = math.floor(keep_fraction * len(vals) + 0.5)
    kept = {i for _, i in sorted((-v, i) for i, v in enumerate(vals))[:k]}
    assert mask.dtype == torch.bool and mask.shape == scores.shape
    assert as_flat_bools(mask) == [i in kept for i in range(len(vals))]
    assert torch.equal(scores, before)


def test_topk_score_mask_signed_and_ties():
    scores = torch.tensor([[-5.0, 1.0], [1.0, 0.5]])
    assert topk_score_mask(scores, 0.25).tolist() == [[False, True], [False, False]]
    assert topk_score_mask(scores, 0.75).tolist() == [[False, True], [True, True]]
    assert not topk_score_mask(scores, 0.0).any()
    assert topk_score_mask(scores, 1.0).all()


def test_topk_score_mask_bad_input():
    with pytest.raises(ValueError, match="scores"):
        topk_score_mask(torch.tensor([float("nan"), 1.0]), 0.5)
    with pytest.raises(ValueError, match="scores"):
        topk_score_mask([1.0, 2.0], 0.5)
    for fraction in BAD_FRACTIONS:
        with pytest.raises(ValueError, match="keep_fraction"):
            topk_score_mask(torch.zeros(0), fraction)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_straight_through_forward_is_exact_topk(dtype):
    """Exactly 0/1 even where s + (m - s) would round (huge and tiny scores)."""
    scores = torch.tensor([1e20, -1e20, 3.0, 1e-30, -2.0, 7.5], dtype=dtype, requires_grad=True)
    out = straight_through_mask(scores, 0.5)
    assert out.dtype == dtype and out.shape == scores.shape
    expected = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0], dtype=dtype)
    assert torch.equal(out.detach(), expected)
    assert torch.equal(out.detach().bool(), topk_score_mask(scores, 0.5))


@HYPOTHESIS
@given(tied_tensors(), fractions)
def test_straight_through_gradient_is_identity(scores, keep_fraction):
    scores = scores.clone().requires_grad_(True)
    out = straight_through_mask(scores, keep_fraction)
    assert set(out.detach().reshape(-1).tolist()) <= {0.0, 1.0}
    assert torch.equal(out.detach().bool(), topk_score_mask(scores.detach(), keep_fraction))
    incoming = torch.randn(scores.shape, dtype=scores.dtype)
    (grad,) = torch.autograd.grad(out, scores, grad_outputs=incoming)
    assert torch.equal(grad, incoming)


def test_straight_through_in_a_loss_and_without_grad():
    scores = torch.tensor([0.3, -0.2, 0.9, 0.1], requires_grad=True)
    weights = torch.tensor([2.0, 3.0, 5.0, 7.0])
    (straight_through_mask(scores, 0.5) * weights).sum().backward()
    assert torch.equal(scores.grad, weights)
    plain = straight_through_mask(torch.tensor([1.0, 2.0]), 0.5)
    assert not plain.requires_grad and plain.tolist() == [0.0, 1.0]
    ints = straight_through_mask(torch.tensor([1, 2]), 0.5)
    assert ints.dtype == torch.get_default_dtype() and ints.tolist() == [0.0, 1.0]


def test_straight_through_bad_input():
    with pytest.raises(ValueError, match="scores"):
        straight_through_mask(torch.tensor([float("nan")]), 0.5)
    with pytest.raises(ValueError, match="keep_fraction"):
        straight_through_mask(torch.zeros(3), 1.5)


# --------------------------------------------------------------------------------------
# mask_overlap
# --------------------------------------------------------------------------------------


@HYPOTHESIS
@given(st.data())
def test_mask_overlap_matches_sets(data):
    shape = data.draw(shapes)
    n = math.prod(shape)
    bits = st.lists(st.booleans(), min_size=n, max_size=n)
    a = torch.tensor(data.draw(bits), dtype=torch.bool).reshape(shape)
    b = torch.tensor(data.draw(bits), dtype=torch.bool).reshape(shape)
    set_a = {i for i, v in enumerate(as_flat_bools(a)) if v}
    set_b = {i for i, v in enumerate(as_flat_bools(b)) if v}
    expected = len(set_a & set_b) / len(set_a | set_b) if set_a | set_b else 1.0
    got = mask_overlap(a, b)
    assert type(got) is float and got == expected
    assert mask_overlap(b, a) == expected


def test_mask_overlap_examples_and_bad_input():
    m1 = torch.tensor(M1, dtype=torch.bool)
    assert mask_overlap(m1, m1) == 1.0
    assert mask_overlap(m1, ~m1) == 0.0
    assert mask_overlap(torch.zeros(3, dtype=torch.bool), torch.zeros(3, dtype=torch.bool)) == 1.0
    assert mask_overlap(torch.tensor([True, True, False]), torch.tensor([True, False, True])) == (
        1 / 3
    )
    with pytest.raises(ValueError, match="mask_b"):
        mask_overlap(m1, m1.reshape(3, 4))
    with pytest.raises(ValueError, match="mask_a"):
        mask_overlap(m1.float(), m1)
    with pytest.raises(ValueError, match="mask_b"):
        mask_overlap(m1, m1.tolist())


def test_all_exports_exist():
    assert set(lt.__all__) >= {
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
    }
    assert all(callable(getattr(lt, name)) or name.isupper() for name in lt.__all__)
