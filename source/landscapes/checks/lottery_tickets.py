"""Hidden checks for notebook 03 (lottery tickets: magnitude pruning, IMP, supermasks).

Every case is plain data or a `Build` recipe (builders in `inputs_lottery_tickets`); every
verdict recomputes the reference on freshly built inputs. Only what exercise-spec.md states
is graded: masks passed in are bool, counts are ints, weights have no NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.call import materialize
from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part, Verdict
from autograder.checks.verdicts import (
    DICT_TYPES,
    _index_str,
    call_failure,
    compare_float,
    compare_tensor,
    compare_tensor_dict,
    fmt_value,
    leaves_inputs_unchanged,
    matches_reference,
    raises_value_error,
    returned_then,
    with_hint,
)
from solutions import lottery_tickets as ref

# ---------------------------------------------------------------------------------------------
# Inputs (stage 1: deterministic plain data)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(shape: tuple[int, ...], seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=_gen(seed), dtype=dtype)


def _rand_mask(shape: tuple[int, ...], seed: int, keep: float = 0.6) -> torch.Tensor:
    return torch.rand(shape, generator=_gen(seed)) < keep


def _params(seed: int, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    gen = _gen(seed)
    return {key: torch.randn(shape, generator=gen) for key, shape in shapes.items()}


#: Worked example 3 of the seed: W1 (4x3) and its mask after 30% pruning (1 = kept).
W1 = [[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]]
M1 = [[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]]


def _w1(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.tensor(W1, dtype=dtype)


def _near_ties(dtype: torch.dtype, signs: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """[1 + 2**-40, 1, 3, 1 + 2**-41] (times `signs`): three values that are all 1.0 in float32.

    Ranked exactly, index 1 is the smallest, then 3, then 0; rounded to float32 the three
    tie and the flat order would decide instead.
    """
    values = [1.0 + 2.0**-40, 1.0, 3.0, 1.0 + 2.0**-41]
    return torch.tensor([v * s for v, s in zip(values, signs)], dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Verdict helpers (stage 3)


def _checked(
    name: str, judge: Callable[[Outcome, tuple, dict], str | None], hint: str = ""
) -> Verdict:
    """`returned_then` for judges that do not need the case."""
    return returned_then(name, lambda _case, outcome, a, k: judge(outcome, a, k), hint)


def _state(kept: bool) -> str:
    return "kept" if kept else "pruned"


def _mask_form(got: Any, expected: torch.Tensor, what: str) -> str | None:
    """Type, shape and dtype of a returned mask."""
    if type(got) is not torch.Tensor:
        return f"{what} should be a bool torch.Tensor (True = kept), got {fmt_value(got)}"
    if tuple(got.shape) != tuple(expected.shape):
        return (
            f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)} "
            "(the shape of the input)"
        )
    if got.dtype != torch.bool:
        return f"{what} has dtype {got.dtype}, expected torch.bool (True = kept, False = pruned)"
    if got.layout != torch.strided:
        return f"{what} should be a dense tensor"
    return None


def _first_wrong_entry(
    got: torch.Tensor,
    expected: torch.Tensor,
    what: str,
    values: torch.Tensor | None,
    value_label: str,
) -> str | None:
    g = got.detach().cpu().reshape(-1)
    e = expected.detach().cpu().reshape(-1)
    bad = (g != e).nonzero().reshape(-1)
    if not bad.numel():
        return None
    i = int(bad[0])
    where = f"entry {_index_str(i, tuple(expected.shape))}"
    if values is not None:
        where += f" ({value_label} = {float(values.detach().reshape(-1)[i]):.6g})"
    return (
        f"{what} keeps the right number of entries ({int(e.sum())} of {e.numel()}) but not the "
        f"right ones: {bad.numel()} entries differ; {where} should be {_state(bool(e[i]))}, "
        f"got {_state(bool(g[i]))}"
    )


def compare_mask(
    got: Any,
    expected: torch.Tensor,
    *,
    what: str,
    context: str = "",
    values: torch.Tensor | None = None,
    value_label: str = "|w|",
) -> str | None:
    """Type, shape, dtype, number kept (with `context` explaining it), then which entries."""
    msg = _mask_form(got, expected, what)
    if msg:
        return msg
    kept_got = int(got.detach().sum())
    kept_expected = int(expected.sum())
    if kept_got != kept_expected:
        return f"{what} kept {kept_got} of {expected.numel()} entries, expected {kept_expected}" + (
            f": {context}" if context else ""
        )
    if values is not None and value_label == "|w|":
        values = values.detach().abs()
    return _first_wrong_entry(got, expected, what, values, value_label)


def compare_mask_dict(
    got: Any,
    expected: Mapping[str, torch.Tensor],
    *,
    what: str,
    context: str = "",
    values: Mapping[str, torch.Tensor] | None = None,
    keys_hint: str = "",
) -> str | None:
    """A dict of masks: keys, each mask's form, total kept, kept per key, then entries."""
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of bool tensors, got {fmt_value(got)}"
    if set(got.keys()) != set(expected.keys()):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        return f"{what}: wrong keys, missing {missing!r}, unexpected {extra!r}" + (
            f" ({keys_hint})" if keys_hint else ""
        )
    for key, exp in expected.items():
        msg = _mask_form(got[key], exp, f"{what}[{key!r}]")
        if msg:
            return msg
    kept_got = {k: int(got[k].detach().sum()) for k in expected}
    kept_expected = {k: int(m.sum()) for k, m in expected.items()}
    total_got, total_expected = sum(kept_got.values()), sum(kept_expected.values())
    if total_got != total_expected:
        return f"{what} kept {total_got} entries in total, expected {total_expected}" + (
            f": {context}" if context else ""
        )
    if kept_got != kept_expected:
        return (
            f"{what} kept the right total ({total_expected}) but split differently over the "
            f"keys: kept {kept_got}, expected {kept_expected}"
            + (f" ({context})" if context else "")
        )
    for key, exp in expected.items():
        vals = None if values is None or key not in values else values[key].detach().abs()
        msg = _first_wrong_entry(got[key], exp, f"{what}[{key!r}]", vals, "|w|")
        if msg:
            return msg
    return None


# ---------------------------------------------------------------------------------------------
# prune_count

_COUNT_HINT = (
    "prune_count(n, fraction) is exactly math.floor(fraction * n + 0.5) in Python floats: "
    "halves round up (Python's round() rounds halves to even: round(2.5) == 2), and the "
    "product is the float64 one (0.58 * 25 == 14.499999999999998, so 14)"
)


def _count_basic() -> list[Case]:
    return [
        Case("worked example 3: 30% of 12 weights (3.6 rounds to 4)", (12, 0.3)),
        Case("20% of 10", (10, 0.2)),
        Case("0.3 of 7 (2.1 rounds to 2)", (7, 0.3)),
        Case("0.75 of 100", (100, 0.75)),
        Case("0.2 of 1000", (1000, 0.2)),
    ]


def _count_rounding() -> list[Case]:
    return [
        Case("0.5 of 5: 2.5 is a half, halves round up", (5, 0.5)),
        Case("0.25 of 10: 2.5 is a half, halves round up", (10, 0.25)),
        Case("0.5 of 1: 0.5 is a half, halves round up", (1, 0.5)),
        Case(
            "0.58 of 25: the float64 product is 14.499999999999998, just below the half", (25, 0.58)
        ),
        Case("0.3 of 5: the float64 product is exactly 1.5 (the real one is just below)", (5, 0.3)),
        Case("0.15 of 10: the float64 product is exactly 1.5", (10, 0.15)),
    ]


def _count_edge() -> list[Case]:
    return [
        Case("n = 0", (0, 0.5)),
        Case("fraction 0", (9, 0.0)),
        Case("fraction 1", (9, 1.0)),
        Case("fraction 1 of a single entry", (1, 1.0)),
    ]


def _count_errors() -> list[Case]:
    return [
        Case("n = -1", (-1, 0.5)),
        Case("fraction -0.1", (10, -0.1)),
        Case("fraction 1.5", (10, 1.5)),
    ]


make_checks(
    "prune_count",
    [
        Part(
            "basic",
            "worked example 3 and ordinary counts",
            _count_basic,
            matches_reference("prune_count", ref.prune_count, hint=_COUNT_HINT),
        ),
        Part(
            "rounding",
            "halves round up, as float64 arithmetic sees them",
            _count_rounding,
            matches_reference("prune_count", ref.prune_count, hint=_COUNT_HINT),
        ),
        Part(
            "edge",
            "n = 0, fraction 0 and 1",
            _count_edge,
            matches_reference("prune_count", ref.prune_count, hint=_COUNT_HINT),
        ),
        Part(
            "errors",
            "ValueError for n < 0 or fraction outside [0, 1]",
            _count_errors,
            raises_value_error(
                "prune_count", hint="check n >= 0 and 0 <= fraction <= 1 before computing"
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# magnitude_mask

_MAGNITUDE_HINT = (
    "prune the prune_count(weights.numel(), fraction) entries of smallest absolute value "
    "(True = kept); among equal magnitudes the lower row-major index is pruned first, which a "
    "stable sort of weights.abs().flatten() gives you"
)


def _magnitude_context(weights: torch.Tensor, fraction: float) -> str:
    n = weights.numel()
    k = ref.prune_count(n, fraction)
    return f"with {n} weights and fraction {fraction}, prune_count is {k}, so {n - k} are kept"


def _magnitude_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    weights, fraction = args
    return compare_mask(
        outcome.value,
        ref.magnitude_mask(weights, fraction),
        what="the mask returned by `magnitude_mask`",
        context=_magnitude_context(weights, fraction),
        values=weights,
    )


def _magnitude_basic() -> list[Case]:
    return [
        Case(
            "worked example 3: W1 (4x3), fraction 0.3",
            (_w1(), 0.3),
            hint="the expected mask is the seed's M1 = " + str(M1),
        ),
        Case("1-D weights with mixed signs", (torch.tensor([0.3, -1.2, 0.05, 0.9, -0.4]), 0.4)),
        Case("random 3-D weights (2, 3, 4), fraction 0.5", (_randn((2, 3, 4), 1), 0.5)),
        Case(
            "random (6, 5) weights, fraction 0.58 (prune_count(30, 0.58) = 17)",
            (_randn((6, 5), 2), 0.58),
        ),
        Case("float64 (5, 4) weights, fraction 0.8", (_randn((5, 4), 3, torch.float64), 0.8)),
    ]


def _magnitude_ties() -> list[Case]:
    return [
        Case("six equal weights, fraction 0.5: the first three are pruned", (torch.ones(6), 0.5)),
        Case("equal magnitudes with different signs", (torch.tensor([-0.5, 0.5, 0.5, -0.5]), 0.5)),
        Case(
            "ties across rows: row-major order decides",
            (torch.tensor([[0.2, 0.1, 0.9], [0.1, 0.7, 0.1], [0.1, 0.3, 0.2]]), 0.3),
        ),
        Case("zeros of both signs tie", (torch.tensor([[0.0, 1.0, -0.0], [2.0, -0.0, 0.0]]), 0.5)),
        Case(
            "float64 magnitudes that differ only beyond float32 precision are not ties",
            (_near_ties(torch.float64, signs=(-1.0, 1.0, 1.0, -1.0)), 0.5),
            hint="rank the magnitudes in the dtype of the weights (or float64), not in float32",
        ),
    ]


def _magnitude_edge() -> list[Case]:
    return [
        Case("fraction 0: nothing is pruned", (_w1(), 0.0)),
        Case("fraction 1: everything is pruned", (_w1(), 1.0)),
        Case("a single weight, fraction 0.5 (0.5 rounds up to 1)", (torch.tensor([[0.7]]), 0.5)),
        Case(
            "5 weights, fraction 0.5 (2.5 rounds up: prune 3)",
            (torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3]), 0.5),
        ),
    ]


def _magnitude_no_mutation() -> list[Case]:
    return [
        Case("worked example 3 weights", (_w1(), 0.3)),
        Case("random weights with negative entries", (_randn((4, 4), 4), 0.5)),
    ]


def _magnitude_errors() -> list[Case]:
    return [Case("fraction -0.1", (_w1(), -0.1)), Case("fraction 1.5", (_w1(), 1.5))]


_magnitude_verdict = _checked("magnitude_mask", _magnitude_judge, _MAGNITUDE_HINT)

make_checks(
    "magnitude_mask",
    [
        Part("basic", "worked example 3 and random weights", _magnitude_basic, _magnitude_verdict),
        Part(
            "ties",
            "equal magnitudes: the lower row-major index is pruned first",
            _magnitude_ties,
            _magnitude_verdict,
        ),
        Part(
            "edge", "fraction 0 and 1, a single weight, a half", _magnitude_edge, _magnitude_verdict
        ),
        Part(
            "no_mutation",
            "the weights are left unchanged",
            _magnitude_no_mutation,
            leaves_inputs_unchanged(
                "magnitude_mask", ("weights", "fraction"), also=_magnitude_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for a fraction outside [0, 1]",
            _magnitude_errors,
            raises_value_error("magnitude_mask", hint="check 0 <= fraction <= 1"),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# prune_remaining

_REMAINING_HINT = (
    "count the entries still kept (K = mask.sum()), prune prune_count(K, fraction) of them — "
    "the smallest |w| among the kept entries only, lower row-major index first on ties — and "
    "leave every entry the mask already pruned pruned"
)


def _remaining_context(weights: torch.Tensor, mask: torch.Tensor, fraction: float) -> str:
    kept = int(mask.sum())
    k = ref.prune_count(kept, fraction)
    return (
        f"mask keeps {kept} of {mask.numel()} entries; prune_count({kept}, {fraction}) = {k} "
        f"of those are pruned, so {kept - k} stay kept"
    )


def _remaining_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    weights, mask, fraction = args
    what = "the mask returned by `prune_remaining`"
    got = outcome.value
    form = _mask_form(got, mask, what)
    if form:
        return form
    revived = (got.detach().cpu() & ~mask).nonzero()
    if revived.numel():
        idx = tuple(int(i) for i in revived[0])
        return (
            f"{what} is not a subset of `mask`: entry {idx} was pruned already but is kept "
            "again; once pruned, an entry stays pruned"
        )
    return compare_mask(
        got,
        ref.prune_remaining(weights, mask, fraction),
        what=what,
        context=_remaining_context(weights, mask, fraction),
        values=weights,
    )


def _remaining_basic() -> list[Case]:
    mask_w1 = torch.tensor(M1, dtype=torch.bool)
    w = _randn((4, 5), 12)
    small_pruned = w.abs() > w.abs().flatten().kthvalue(6).values  # the 6 smallest pruned
    return [
        Case("worked example 3 weights after its first round, fraction 0.3", (_w1(), mask_w1, 0.3)),
        Case(
            "8 of 12 kept, fraction 0.5: prune 4 of the 8 kept (not 6 of all 12)",
            (
                _w1(),
                torch.tensor([[1, 1, 1], [0, 1, 1], [1, 0, 1], [0, 1, 0]], dtype=torch.bool),
                0.5,
            ),
        ),
        Case(
            "the mask already pruned the 6 smallest weights; they must not count again",
            (w, small_pruned, 0.4),
        ),
        Case(
            "an all-True mask: the same as magnitude_mask",
            (_randn((3, 4), 13), torch.ones(3, 4, dtype=torch.bool), 0.25),
        ),
        Case(
            "random float64 weights and mask",
            (_randn((5, 6), 14, torch.float64), _rand_mask((5, 6), 15), 0.35),
        ),
    ]


def _remaining_subset() -> list[Case]:
    w = torch.tensor([[5.0, 0.1, 4.0, 0.2], [3.0, 0.3, 2.0, 0.4]])
    large_pruned = torch.tensor([[0, 1, 0, 1], [0, 1, 0, 1]], dtype=torch.bool)
    return [
        Case("the mask pruned the LARGEST weights; they stay pruned", (w, large_pruned, 0.5)),
        Case("fraction 0: the mask comes back unchanged", (w, large_pruned, 0.0)),
        Case(
            "random weights, a random mask, fraction 0.5",
            (_randn((4, 6), 16), _rand_mask((4, 6), 17, keep=0.5), 0.5),
        ),
    ]


def _remaining_ties() -> list[Case]:
    w = torch.tensor([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1], [0.1, 0.1, 0.1]])
    mask = torch.tensor([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=torch.bool)
    return [
        Case(
            "equal magnitudes, some already pruned: lowest kept indices pruned first",
            (w, mask, 0.5),
        ),
        Case(
            "equal magnitudes with signs",
            (
                torch.tensor([-0.2, 0.2, 0.3, -0.2, 0.2, 0.1]),
                torch.tensor([1, 1, 0, 1, 1, 0], dtype=torch.bool),
                0.5,
            ),
        ),
    ]


def _remaining_edge() -> list[Case]:
    return [
        Case("fraction 1: every kept entry is pruned", (_w1(), torch.tensor(M1).bool(), 1.0)),
        Case(
            "an all-False mask: nothing left to prune",
            (_w1(), torch.zeros(4, 3, dtype=torch.bool), 0.5),
        ),
        Case(
            "a single kept entry, fraction 0.5 (0.5 rounds up to 1)",
            (
                _w1(),
                torch.tensor([[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]], dtype=torch.bool),
                0.5,
            ),
        ),
    ]


def _remaining_no_mutation() -> list[Case]:
    return [
        Case("worked example 3 weights and mask", (_w1(), torch.tensor(M1, dtype=torch.bool), 0.5))
    ]


def _remaining_errors() -> list[Case]:
    return [
        Case("fraction 1.5", (_w1(), torch.ones(4, 3, dtype=torch.bool), 1.5)),
        Case("fraction -0.2", (_w1(), torch.ones(4, 3, dtype=torch.bool), -0.2)),
        Case(
            "mask of shape (3, 4) for weights of shape (4, 3)",
            (_w1(), torch.ones(3, 4, dtype=torch.bool), 0.5),
        ),
    ]


_remaining_verdict = _checked("prune_remaining", _remaining_judge, _REMAINING_HINT)

make_checks(
    "prune_remaining",
    [
        Part(
            "basic",
            "prune a fraction of the entries still kept",
            _remaining_basic,
            _remaining_verdict,
        ),
        Part("subset", "entries already pruned stay pruned", _remaining_subset, _remaining_verdict),
        Part(
            "ties",
            "equal magnitudes: the lower row-major index is pruned first",
            _remaining_ties,
            _remaining_verdict,
        ),
        Part(
            "edge",
            "fraction 1, nothing kept, a single kept entry",
            _remaining_edge,
            _remaining_verdict,
        ),
        Part(
            "no_mutation",
            "weights and mask are left unchanged",
            _remaining_no_mutation,
            leaves_inputs_unchanged(
                "prune_remaining", ("weights", "mask", "fraction"), also=_remaining_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for a bad fraction or a mask of another shape",
            _remaining_errors,
            raises_value_error(
                "prune_remaining", hint="check 0 <= fraction <= 1 and mask.shape == weights.shape"
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# global_prune

_GLOBAL_HINT = (
    "collect the kept entries of every tensor named in `masks` (in `masks` order, each in "
    "row-major order), rank them all together by |w| with a stable sort, prune the "
    "prune_count(total kept, fraction) smallest, and split the result back per key"
)
_GLOBAL_KEYS_HINT = (
    "return one mask per key of `masks`; keys of params that are not in masks (biases) are "
    "not prunable and get no mask"
)


def _global_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params, masks, fraction = args
    kept = sum(int(m.sum()) for m in masks.values())
    k = ref.prune_count(kept, fraction)
    context = (
        f"the masks keep {kept} entries in total; prune_count({kept}, {fraction}) = {k} are "
        f"pruned, ranked jointly over all keys of masks, so {kept - k} stay kept"
    )
    return compare_mask_dict(
        outcome.value,
        ref.global_prune(params, masks, fraction),
        what="the result of `global_prune`",
        context=context,
        values=params,
        keys_hint=_GLOBAL_KEYS_HINT,
    )


def _ones_like(params: Mapping[str, torch.Tensor], keys: list[str]) -> dict[str, torch.Tensor]:
    return {k: torch.ones(params[k].shape, dtype=torch.bool) for k in keys}


def _global_basic() -> list[Case]:
    params = _params(21, {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)})
    masks = _ones_like(params, ["0.weight", "2.weight"])
    partly = {"0.weight": _rand_mask((4, 3), 22), "2.weight": _rand_mask((2, 4), 23)}
    tiny_bias = dict(params, **{"0.bias": torch.full((4,), 1e-4)})
    return [
        Case("two weight tensors and two biases, all kept, fraction 0.2", (params, masks, 0.2)),
        Case("masks that already pruned some entries, fraction 0.5", (params, partly, 0.5)),
        Case(
            "tiny biases not in masks: they are not prunable and take no part in the ranking",
            (tiny_bias, masks, 0.3),
        ),
        Case("one key only", (params, {"2.weight": torch.ones(2, 4, dtype=torch.bool)}, 0.25)),
        Case("fraction 0", (params, partly, 0.0)),
        Case("fraction 1", (params, partly, 1.0)),
    ]


def _global_joint() -> list[Case]:
    small = torch.tensor([[0.01, 0.02], [0.03, 0.04]])
    large = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    params = {"a": small, "b": large}
    masks = _ones_like(params, ["a", "b"])
    gen_params = _params(31, {"l1": (3, 4), "l2": (4, 2), "l3": (2, 2)})
    scaled = {"l1": gen_params["l1"] * 0.1, "l2": gen_params["l2"], "l3": gen_params["l3"] * 3}
    fives = _params(35, {"u": (5,), "v": (1, 5), "w": (5, 1)})  # 2.5 a layer would round up
    return [
        Case(
            "one layer of small weights, one of large: global ranking prunes the small layer",
            (params, masks, 0.4),
            hint="pruning each layer separately is layer-wise pruning, not global pruning",
        ),
        Case(
            "three layers of different scales, fraction 0.5",
            (scaled, _ones_like(scaled, ["l1", "l2", "l3"]), 0.5),
        ),
        Case(
            "three layers of 5 weights, fraction 0.5: prune_count(15, 0.5) = 8 in total, not "
            "3 per layer",
            (fives, _ones_like(fives, ["u", "v", "w"]), 0.5),
            hint="round once, for the total kept over all keys, not once per layer",
        ),
        Case(
            "three layers of different scales, partly pruned, fraction 0.3",
            (
                scaled,
                {
                    "l1": _rand_mask((3, 4), 32),
                    "l2": _rand_mask((4, 2), 33),
                    "l3": _rand_mask((2, 2), 34),
                },
                0.3,
            ),
        ),
    ]


def _global_ties() -> list[Case]:
    params = {"first": torch.full((2, 2), 0.5), "second": torch.full((2, 2), 0.5)}
    masks_reversed = {
        "second": torch.ones(2, 2, dtype=torch.bool),
        "first": torch.ones(2, 2, dtype=torch.bool),
    }
    return [
        Case(
            "equal magnitudes in two layers: the earlier key of masks is pruned first",
            (params, _ones_like(params, ["first", "second"]), 0.25),
        ),
        Case(
            "masks list the keys in the other order than params: masks order decides",
            (params, masks_reversed, 0.5),
            hint="ties go by the order of the keys in `masks`, not in `params`",
        ),
        Case(
            "equal magnitudes within and across layers, some already pruned",
            (
                {"x": torch.tensor([0.3, -0.3, 0.3]), "y": torch.tensor([[0.3, 0.3], [-0.3, 0.9]])},
                {
                    "x": torch.tensor([True, False, True]),
                    "y": torch.tensor([[True, True], [True, True]]),
                },
                0.5,
            ),
        ),
    ]


def _global_no_mutation() -> list[Case]:
    params = _params(41, {"w": (3, 3), "b": (3,), "v": (2, 3)})
    return [
        Case(
            "params and partly pruned masks",
            (params, {"w": _rand_mask((3, 3), 42), "v": _rand_mask((2, 3), 43)}, 0.5),
        )
    ]


def _global_errors() -> list[Case]:
    params = _params(51, {"w": (3, 3), "b": (3,)})
    return [
        Case(
            "a mask key absent from params",
            (
                params,
                {
                    "w": torch.ones(3, 3, dtype=torch.bool),
                    "missing": torch.ones(2, dtype=torch.bool),
                },
                0.5,
            ),
        ),
        Case("fraction 1.5", (params, {"w": torch.ones(3, 3, dtype=torch.bool)}, 1.5)),
        Case("fraction -0.5", (params, {"w": torch.ones(3, 3, dtype=torch.bool)}, -0.5)),
        Case(
            "a mask whose shape differs from its params tensor",
            (params, {"w": torch.ones(3, 2, dtype=torch.bool)}, 0.5),
        ),
    ]


_global_verdict = _checked("global_prune", _global_judge, _GLOBAL_HINT)

make_checks(
    "global_prune",
    [
        Part(
            "basic",
            "only keys in masks are pruned, counting only kept entries",
            _global_basic,
            _global_verdict,
        ),
        Part(
            "joint",
            "one ranking over all layers (global, not layer-wise)",
            _global_joint,
            _global_verdict,
        ),
        Part(
            "ties",
            "ties: earlier key in masks order, then lower flat index, pruned first",
            _global_ties,
            _global_verdict,
        ),
        Part(
            "no_mutation",
            "params and masks are left unchanged",
            _global_no_mutation,
            leaves_inputs_unchanged(
                "global_prune", ("params", "masks", "fraction"), also=_global_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for a mask key absent from params, a bad fraction or shape",
            _global_errors,
            raises_value_error(
                "global_prune",
                hint="check that every key of masks is in params, with the "
                "same shape, and 0 <= fraction <= 1",
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# imp_sparsity

_SPARSITY_HINT = (
    "after each round a fraction (1 - fraction) of the weights survives, so after r rounds "
    "(1 - fraction)**r survive and the sparsity is 1 - (1 - fraction)**r"
)


def _sparsity_basic() -> list[Case]:
    return [
        Case("20% a round, 1 round", (0.2, 1)),
        Case("20% a round, 11 rounds", (0.2, 11)),
        Case("50% a round, 3 rounds", (0.5, 3)),
        Case("10% a round, 20 rounds", (0.1, 20)),
    ]


def _sparsity_edge() -> list[Case]:
    return [
        Case("0 rounds", (0.2, 0)),
        Case("fraction 0", (0.0, 5)),
        Case("fraction 1", (1.0, 3)),
    ]


def _sparsity_errors() -> list[Case]:
    return [Case("fraction -0.1", (-0.1, 2)), Case("fraction 1.5", (1.5, 2))]


make_checks(
    "imp_sparsity",
    [
        Part(
            "basic",
            "1 - (1 - fraction)**rounds",
            _sparsity_basic,
            matches_reference("imp_sparsity", ref.imp_sparsity, hint=_SPARSITY_HINT),
        ),
        Part(
            "edge",
            "0 rounds, fraction 0 and 1",
            _sparsity_edge,
            matches_reference("imp_sparsity", ref.imp_sparsity, hint=_SPARSITY_HINT),
        ),
        Part(
            "errors",
            "ValueError for a fraction outside [0, 1]",
            _sparsity_errors,
            raises_value_error("imp_sparsity", hint="check 0 <= fraction <= 1"),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# rounds_to_reach

_ROUNDS_HINT = (
    "return the smallest r >= 0 with imp_sparsity(fraction, r) >= target_sparsity - 1e-12; "
    "a logarithm gives an estimate, but check it against imp_sparsity itself"
)


def _rounds_basic() -> list[Case]:
    return [
        Case("20% a round to 90% sparsity: 11 rounds", (0.2, 0.9)),
        Case("10% a round to 50%", (0.1, 0.5)),
        Case("50% a round to 99%", (0.5, 0.99)),
        Case("30% a round to 80%", (0.3, 0.8)),
    ]


def _rounds_boundary() -> list[Case]:
    return [
        Case(
            "20% a round to 20%: one round (1 - 0.8 is 0.19999999999999996 in float64)",
            (0.2, 0.2),
            hint="the target is reached within 1e-12",
        ),
        Case("50% a round to exactly 75%", (0.5, 0.75)),
        Case("25% a round to 1 - 0.75**3 = 0.578125 exactly: 3 rounds", (0.25, 0.578125)),
        Case("10% a round to 1 - 0.9**4 = 0.3439", (0.1, 0.3439)),
        Case("target 5e-13: within 1e-12 of 0, so 0 rounds", (0.2, 5e-13)),
        Case(
            "50% a round to 0.7500000001: 1e-10 above 0.75, so 3 rounds",
            (0.5, 0.7500000001),
            hint="the slack is exactly 1e-12 (absolute): math.isclose or np.isclose allow far "
            "more and stop a round early",
        ),
    ]


def _rounds_edge() -> list[Case]:
    return [
        Case("target 0: no rounds needed", (0.2, 0.0)),
        Case("99% a round to 90%", (0.99, 0.9)),
        Case("1% a round to 90%", (0.01, 0.9)),
    ]


def _rounds_errors() -> list[Case]:
    return [
        Case("fraction 0 (never reaches a positive target)", (0.0, 0.5)),
        Case("fraction 1", (1.0, 0.5)),
        Case("fraction 1.2", (1.2, 0.5)),
        Case("target 1 (never reached)", (0.2, 1.0)),
        Case("target -0.1", (0.2, -0.1)),
    ]


make_checks(
    "rounds_to_reach",
    [
        Part(
            "basic",
            "rounds needed for a target sparsity (an int)",
            _rounds_basic,
            matches_reference("rounds_to_reach", ref.rounds_to_reach, hint=_ROUNDS_HINT),
        ),
        Part(
            "boundary",
            "targets hit exactly count as reached (tolerance 1e-12)",
            _rounds_boundary,
            matches_reference("rounds_to_reach", ref.rounds_to_reach, hint=_ROUNDS_HINT),
        ),
        Part(
            "edge",
            "target 0 and extreme fractions",
            _rounds_edge,
            matches_reference("rounds_to_reach", ref.rounds_to_reach, hint=_ROUNDS_HINT),
        ),
        Part(
            "errors",
            "ValueError for fraction outside (0, 1) or target outside [0, 1)",
            _rounds_errors,
            raises_value_error(
                "rounds_to_reach",
                hint="check 0 < fraction < 1 and 0 <= target_sparsity < 1 before looping",
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# rewind

_REWIND_HINT = (
    "build a new dict: for every key of init_params a new tensor (e.g. init_params[k].clone()), "
    "with the entries where masks[k] is False set to 0 for the keys in masks"
)


def _rewind_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    init_params, masks = args
    msg = compare_tensor_dict(
        outcome.value, ref.rewind(init_params, masks), what="the result of `rewind`"
    )
    if msg:
        msg += _unzeroed_pruned_entry(outcome.value, masks)
    return msg


def _unzeroed_pruned_entry(got: Any, masks: Mapping[str, torch.Tensor]) -> str:
    """A note naming the first pruned entry (mask False) that the result did not set to 0."""
    if type(got) not in DICT_TYPES:
        return ""
    for key, mask in masks.items():
        value = got.get(key)
        if (
            type(value) is not torch.Tensor
            or tuple(value.shape) != tuple(mask.shape)
            or value.is_complex()
            or value.dtype == torch.bool
            or value.layout != torch.strided
        ):
            continue
        flat = value.detach().cpu().to(torch.float64).reshape(-1)
        bad = ((flat != 0) & ~mask.reshape(-1)).nonzero().reshape(-1)
        if bad.numel():
            where = _index_str(int(bad[0]), tuple(mask.shape))
            return (
                f" (masks[{key!r}] prunes entry {where} (False), yet the result has "
                f"{float(flat[int(bad[0])]):.6g} there: every pruned entry must be 0)"
            )
    return ""


def _rewind_copies_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    msg = _rewind_judge(outcome, args, kwargs)
    if msg:
        return msg
    if outcome.shares_input_memory:
        return (
            "a tensor returned by `rewind` shares memory with a tensor of init_params: "
            "changing the rewound params (e.g. by training) would change the initialisation"
        )
    return None


def _mlp_params(seed: int) -> dict[str, torch.Tensor]:
    return _params(seed, {"0.weight": (4, 2), "0.bias": (4,), "2.weight": (3, 4), "2.bias": (3,)})


def _mlp_masks(seed: int) -> dict[str, torch.Tensor]:
    return {"0.weight": _rand_mask((4, 2), seed), "2.weight": _rand_mask((3, 4), seed + 1)}


def _rewind_basic() -> list[Case]:
    params = _mlp_params(61)
    return [
        Case(
            "an MLP's params, masks for its weights: biases are copied unchanged",
            (params, _mlp_masks(62)),
        ),
        Case(
            "worked example 3: W1 with mask M1",
            ({"W1": _w1()}, {"W1": torch.tensor(M1, dtype=torch.bool)}),
        ),
        Case(
            "a mask that prunes everything",
            (params, {"2.weight": torch.zeros(3, 4, dtype=torch.bool)}),
        ),
    ]


def _rewind_conventions() -> list[Case]:
    params64 = {k: v.double() for k, v in _mlp_params(63).items()}
    return [
        Case("float64 params keep their dtype", (params64, _mlp_masks(64))),
        Case("no masks at all: a plain copy", (_mlp_params(65), {})),
        Case(
            "a mask for a bias too (any key may be masked)",
            (_mlp_params(66), {"0.bias": torch.tensor([True, False, True, False])}),
        ),
    ]


def _rewind_copies() -> list[Case]:
    params = _mlp_params(67)
    return [
        Case("keys not in masks must be copies too", (params, _mlp_masks(68))),
        Case(
            "all-True masks: still copies", (params, _ones_like(params, ["0.weight", "2.weight"]))
        ),
    ]


def _rewind_no_mutation() -> list[Case]:
    return [Case("an MLP's params and masks", (_mlp_params(69), _mlp_masks(70)))]


def _rewind_errors() -> list[Case]:
    params = _mlp_params(71)
    return [
        Case(
            "a mask key absent from init_params",
            (
                params,
                {
                    "0.weight": torch.ones(4, 2, dtype=torch.bool),
                    "4.weight": torch.ones(2, 3, dtype=torch.bool),
                },
            ),
        ),
        Case(
            "a mask of the wrong shape", (params, {"0.weight": torch.ones(2, 4, dtype=torch.bool)})
        ),
    ]


_rewind_verdict = _checked("rewind", _rewind_judge, _REWIND_HINT)

make_checks(
    "rewind",
    [
        Part(
            "basic",
            "pruned entries are 0, everything else is init_params",
            _rewind_basic,
            _rewind_verdict,
        ),
        Part(
            "conventions",
            "dtype kept, every key returned, no masks = a copy",
            _rewind_conventions,
            _rewind_verdict,
        ),
        Part(
            "copies",
            "new tensors: no memory shared with init_params",
            _rewind_copies,
            _checked(
                "rewind",
                _rewind_copies_judge,
                "clone every tensor you return, including those of keys not in masks",
            ),
        ),
        Part(
            "no_mutation",
            "init_params and masks are left unchanged",
            _rewind_no_mutation,
            leaves_inputs_unchanged("rewind", ("init_params", "masks"), also=_rewind_verdict),
        ),
        Part(
            "errors",
            "ValueError for a mask key absent from init_params or a wrong shape",
            _rewind_errors,
            raises_value_error(
                "rewind", hint="check every key of masks is in init_params, with the same shape"
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# iterative_magnitude_pruning

_IMP_HINT = (
    "start with all-True masks for every tensor with dim >= 2; each round call "
    "trained = train_fn(rewind(init_params, masks), masks) once, then "
    "masks = global_prune(trained, masks, fraction), and append the new masks"
)


def _imp_verdict(case: Case, outcome: Outcome) -> str | None:
    name = "iterative_magnitude_pruning"
    failure = call_failure(outcome, name)
    if failure:
        stub = outcome.error_type == "NotImplementedError"
        return with_hint(failure, case, "" if stub else _IMP_HINT)
    msg = _imp_message(case, outcome)
    return with_hint(msg, case, _IMP_HINT) if msg else None


def _imp_message(case: Case, outcome: Outcome) -> str | None:
    name = "iterative_magnitude_pruning"
    # Rebuild the inputs with a probe of our own, so the reference's spy records its calls.
    ref_probe: dict[str, Any] = {}
    init_params, spy, rounds, fraction = materialize(case.args, ref_probe)
    expected = ref.iterative_magnitude_pruning(init_params, spy, rounds, fraction)
    ref_calls = ref_probe.get("calls", [])
    value = outcome.value
    if type(value) is not list:
        return (
            f"`{name}` should return a list of mask dicts (one per round), got {fmt_value(value)}"
        )
    calls = outcome.probe.get("calls", [])
    if len(calls) != len(ref_calls):
        return (
            f"train_fn was called {len(calls)} times, expected {len(ref_calls)}: exactly "
            "once per round"
        )
    if len(value) != len(expected):
        return (
            f"`{name}` returned a list of {len(value)} mask dicts, expected {len(expected)} "
            "(the masks after each round)"
        )
    kept = sum(p.numel() for p in init_params.values() if p.dim() >= 2)
    # Round by round: first what went into train_fn, then the masks that came out.
    for i, (call, ref_call) in enumerate(zip(calls, ref_calls), start=1):
        msg = compare_mask_dict(
            call["masks"],
            ref_call["masks"],
            what=f"in round {i}, the masks passed to train_fn",
            keys_hint="train_fn gets the current masks, which exist for "
            "every tensor with dim >= 2 only",
        )
        if msg:
            return msg
        msg = compare_tensor_dict(
            call["params"], ref_call["params"], what=f"in round {i}, the params passed to train_fn"
        )
        if msg:
            return msg + " (they should be rewind(init_params, masks) with the current masks)"
        k = ref.prune_count(kept, fraction)
        context = (
            f"round {i} starts with {kept} kept weights and prunes prune_count({kept}, "
            f"{fraction}) = {k} of them, ranked jointly by the params train_fn returned"
        )
        msg = compare_mask_dict(
            value[i - 1],
            expected[i - 1],
            what=f"the masks after round {i}",
            context=context,
            values=ref_call.get("trained"),
            keys_hint="masks exist for every tensor with dim >= 2; biases are never pruned",
        )
        if msg:
            if i < len(expected) and compare_mask_dict(value[i - 1], expected[-1], what="") is None:
                msg += (
                    f". They are the masks after the last round (round {len(expected)}): the "
                    "list holds the same dict or tensors that later rounds changed in place; "
                    "append a new dict of new tensors each round"
                )
            return msg
        kept = sum(int(m.sum()) for m in expected[i - 1].values())
    return None


_IMP_SPY = Build("spy_train_fn", {"seed": 5})


def _imp_params(seed: int) -> dict[str, torch.Tensor]:
    return _params(
        seed,
        {
            "0.weight": (5, 3),
            "0.bias": (5,),
            "2.weight": (4, 5),
            "2.bias": (4,),
            "4.weight": (2, 4),
            "4.bias": (2,),
        },
    )


def _imp_basic() -> list[Case]:
    late = _imp_params(82)  # "step-k" params for late rewinding are just other init_params
    return [
        Case("an MLP's params, 3 rounds of 20%", (_imp_params(81), _IMP_SPY, 3, 0.2)),
        Case(
            "late rewinding: other params to rewind to, 2 rounds of 50%", (late, _IMP_SPY, 2, 0.5)
        ),
        Case("one round of 30%", (_imp_params(83), _IMP_SPY, 1, 0.3)),
    ]


def _imp_train_fn() -> list[Case]:
    return [
        Case(
            "4 rounds of 25%: train_fn gets the rewound params and the current masks",
            (_imp_params(84), _IMP_SPY, 4, 0.25),
            hint="every round starts again from init_params (rewinding), with the pruned "
            "entries set to 0",
        ),
        Case("2 rounds of 60%", (_imp_params(85), _IMP_SPY, 2, 0.6)),
    ]


def _imp_edge() -> list[Case]:
    conv = _params(
        86, {"conv.weight": (2, 2, 3), "conv.bias": (2,), "fc.weight": (3, 4), "scale": (1,)}
    )
    return [
        Case("rounds = 0: no training, an empty list", (_imp_params(87), _IMP_SPY, 0, 0.2)),
        Case("fraction 0: masks stay all True", (_imp_params(88), _IMP_SPY, 2, 0.0)),
        Case("a 3-D weight is pruned too, 1-D tensors never", (conv, _IMP_SPY, 2, 0.4)),
    ]


def _imp_no_mutation() -> list[Case]:
    return [Case("3 rounds of 30%", (_imp_params(89), _IMP_SPY, 3, 0.3))]


def _imp_errors() -> list[Case]:
    return [
        Case(
            "fraction 1.5 with rounds = 0 (validate even without work)",
            (_imp_params(90), _IMP_SPY, 0, 1.5),
        ),
        Case("fraction -0.2", (_imp_params(90), _IMP_SPY, 2, -0.2)),
    ]


make_checks(
    "iterative_magnitude_pruning",
    [
        Part("basic", "the masks after each round", _imp_basic, _imp_verdict),
        Part(
            "train_fn",
            "train_fn is called once per round with rewound params and the masks",
            _imp_train_fn,
            _imp_verdict,
        ),
        Part("edge", "rounds = 0, fraction 0, which tensors are prunable", _imp_edge, _imp_verdict),
        Part(
            "no_mutation",
            "init_params are left unchanged",
            _imp_no_mutation,
            leaves_inputs_unchanged(
                "iterative_magnitude_pruning",
                ("init_params", "train_fn", "rounds", "fraction"),
                also=_imp_verdict,
            ),
        ),
        Part(
            "errors",
            "ValueError for a bad fraction, even when rounds = 0",
            _imp_errors,
            raises_value_error(
                "iterative_magnitude_pruning", hint="validate fraction before the loop"
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# topk_score_mask

_TOPK_HINT = (
    "keep the prune_count(scores.numel(), keep_fraction) LARGEST scores (signed values, not "
    "absolute values); among equal scores the lower flat index is kept first (a stable sort "
    "of -scores.flatten(), or of scores with descending=True, stable=True)"
)


def _topk_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    scores, keep_fraction = args
    n = scores.numel()
    k = ref.prune_count(n, keep_fraction)
    return compare_mask(
        outcome.value,
        ref.topk_score_mask(scores, keep_fraction),
        what="the mask returned by `topk_score_mask`",
        context=f"with {n} scores and keep_fraction {keep_fraction}, "
        f"prune_count is {k} entries kept",
        values=scores,
        value_label="score",
    )


def _topk_basic() -> list[Case]:
    return [
        Case(
            "negative scores are small, not large",
            (torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]]), 0.5),
        ),
        Case("random (4, 5) scores, keep 30%", (_randn((4, 5), 91), 0.3)),
        Case("random 3-D scores (2, 3, 4), keep 0.58", (_randn((2, 3, 4), 92), 0.58)),
        Case("float64 scores, keep 0.75", (_randn((8,), 93, torch.float64), 0.75)),
    ]


def _topk_ties() -> list[Case]:
    return [
        Case("all scores equal: the first ones are kept", (torch.zeros(6), 0.5)),
        Case("ties at the threshold", (torch.tensor([[1.0, 2.0, 2.0], [2.0, 0.5, 2.0]]), 0.5)),
        Case(
            "ties in a 3-D tensor",
            (torch.tensor([[[1.0, 1.0], [3.0, 1.0]], [[1.0, 3.0], [1.0, 0.0]]]), 0.5),
        ),
        Case(
            "float64 scores that differ only beyond float32 precision are not ties",
            (_near_ties(torch.float64), 0.75),
            hint="compare the scores in their own dtype (or float64), not in float32",
        ),
    ]


def _topk_edge() -> list[Case]:
    scores = torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3])
    return [
        Case("keep_fraction 0: nothing kept", (scores, 0.0)),
        Case("keep_fraction 1: everything kept", (scores, 1.0)),
        Case("keep 0.5 of 5: 2.5 rounds up, keep 3", (scores, 0.5)),
    ]


def _topk_no_mutation() -> list[Case]:
    return [Case("random scores", (_randn((3, 4), 94), 0.5))]


def _topk_errors() -> list[Case]:
    return [
        Case("keep_fraction 1.5", (_randn((3, 3), 95), 1.5)),
        Case("keep_fraction -0.1", (_randn((3, 3), 95), -0.1)),
    ]


_topk_verdict = _checked("topk_score_mask", _topk_judge, _TOPK_HINT)

make_checks(
    "topk_score_mask",
    [
        Part("basic", "keeps the largest scores", _topk_basic, _topk_verdict),
        Part("ties", "equal scores: the lower flat index is kept first", _topk_ties, _topk_verdict),
        Part("edge", "keep_fraction 0, 1 and a half", _topk_edge, _topk_verdict),
        Part(
            "no_mutation",
            "the scores are left unchanged",
            _topk_no_mutation,
            leaves_inputs_unchanged(
                "topk_score_mask", ("scores", "keep_fraction"), also=_topk_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for keep_fraction outside [0, 1]",
            _topk_errors,
            raises_value_error("topk_score_mask", hint="check 0 <= keep_fraction <= 1"),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# straight_through_mask

_ST_HINT = (
    "the forward value is topk_score_mask(scores, keep_fraction) as 0.0/1.0 in the dtype of "
    "scores; the straight-through trick m + (scores - scores.detach()) (or a custom "
    "torch.autograd.Function) passes the incoming gradient to scores unchanged"
)


def _st_forward_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    scores, keep_fraction = args
    expected = ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)
    return compare_tensor(
        outcome.value, expected, what="the forward value of `straight_through_mask`"
    )


def _st_gradient_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    msg = _st_forward_judge(outcome, args, kwargs)
    if msg:
        return msg
    if "grad_error" in outcome.probe:
        return f"no gradient reaches scores: {outcome.probe['grad_error']}"
    if "post_error" in outcome.probe:
        return (
            "back-propagating through the result of `straight_through_mask` failed: "
            f"{outcome.probe['post_error']}"
        )
    if "grad" not in outcome.probe:
        return "no gradient reaches scores"
    return None


_st_gradient_checked = _checked("straight_through_mask", _st_gradient_judge, _ST_HINT)


def _st_gradient_verdict(case: Case, outcome: Outcome) -> str | None:
    msg = _st_gradient_checked(case, outcome)
    if msg:
        return msg
    # Every gradient case carries a grad probe whose incoming gradient has the dtype of scores.
    incoming = case.post.params["grad_output"] if case.post is not None else None
    if type(incoming) is not torch.Tensor:
        raise RuntimeError(f"gradient case {case.label!r} has no grad_probe")
    msg = compare_tensor(outcome.probe["grad"], incoming, what="the gradient that reaches scores")
    if msg:
        return with_hint(
            msg + " (it should be the incoming gradient, unchanged)",
            case,
            "straight-through: the backward pass ignores the thresholding, so d(result)/d(scores) "
            "is the identity; do not multiply the gradient by the mask or a sigmoid",
        )
    return None


def _st_basic() -> list[Case]:
    return [
        Case(
            "negative scores are small, not large",
            (torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]]), 0.5),
        ),
        Case("random (4, 5) scores, keep 30%", (_randn((4, 5), 101), 0.3)),
        Case("ties: the lower flat index is kept first", (torch.zeros(2, 3), 0.5)),
        Case(
            "keep 0.5 of 5: 2.5 rounds up, keep 3", (torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3]), 0.5)
        ),
    ]


def _st_conventions() -> list[Case]:
    return [
        Case("float64 scores give a float64 result", (_randn((3, 4), 102, torch.float64), 0.5)),
        Case("3-D scores keep their shape", (_randn((2, 2, 3), 103), 0.25)),
        Case(
            "scores that require grad (a leaf)",
            (Build("leaf_tensor", {"values": _randn((3, 3), 104)}), 0.5),
        ),
    ]


def _grad_case(label: str, scores: torch.Tensor, keep_fraction: float, seed: int) -> Case:
    incoming = torch.randn(scores.shape, generator=_gen(seed), dtype=scores.dtype)
    return Case(
        label,
        (Build("leaf_tensor", {"values": scores}), keep_fraction),
        post=Build("grad_probe", {"grad_output": incoming, "arg": 0}),
    )


def _st_gradient() -> list[Case]:
    return [
        _grad_case("a random incoming gradient, float32 scores", _randn((3, 4), 105), 0.5, 106),
        _grad_case(
            "a random incoming gradient, float64 scores",
            _randn((2, 5), 107, torch.float64),
            0.3,
            108,
        ),
        _grad_case(
            "keep_fraction 0: the gradient still flows to every score", _randn((6,), 109), 0.0, 110
        ),
    ]


def _st_no_mutation() -> list[Case]:
    return [
        Case(
            "scores that do not require grad",
            (_randn((3, 4), 111), 0.5),
            hint="do not call scores.requires_grad_() or change scores in place",
        )
    ]


def _st_errors() -> list[Case]:
    return [
        Case("keep_fraction 1.5", (_randn((3, 3), 112), 1.5)),
        Case("keep_fraction -0.5", (_randn((3, 3), 112), -0.5)),
    ]


_st_verdict = _checked("straight_through_mask", _st_forward_judge, _ST_HINT)

make_checks(
    "straight_through_mask",
    [
        Part("basic", "the forward value is the top-k mask as 0.0/1.0", _st_basic, _st_verdict),
        Part("conventions", "the dtype and shape of scores", _st_conventions, _st_verdict),
        Part(
            "gradient",
            "the gradient to scores is the incoming gradient (straight-through)",
            _st_gradient,
            _st_gradient_verdict,
        ),
        Part(
            "no_mutation",
            "scores are left unchanged",
            _st_no_mutation,
            leaves_inputs_unchanged(
                "straight_through_mask", ("scores", "keep_fraction"), also=_st_verdict
            ),
        ),
        Part(
            "errors",
            "ValueError for keep_fraction outside [0, 1]",
            _st_errors,
            raises_value_error("straight_through_mask", hint="check 0 <= keep_fraction <= 1"),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# mask_overlap

_OVERLAP_HINT = (
    "Jaccard index: (number kept in both) / (number kept in either), i.e. "
    "(mask_a & mask_b).sum() / (mask_a | mask_b).sum(), and 1.0 when both masks keep nothing"
)


def _overlap_judge(outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    mask_a, mask_b = args
    inter = int((mask_a & mask_b).sum())
    union = int((mask_a | mask_b).sum())
    msg = compare_float(
        outcome.value, ref.mask_overlap(mask_a, mask_b), what="the result of `mask_overlap`"
    )
    if msg and union:
        msg += f" ({inter} entries are kept in both masks, {union} in at least one)"
    return msg


def _overlap_basic() -> list[Case]:
    a = torch.tensor([[1, 1, 0], [0, 1, 0]], dtype=torch.bool)
    b = torch.tensor([[1, 0, 0], [1, 1, 1]], dtype=torch.bool)
    ra, rb = _rand_mask((5, 6), 121, 0.5), _rand_mask((5, 6), 122, 0.4)
    return [
        Case("two 2x3 masks sharing 2 of 5 kept entries", (a, b)),
        Case("the same masks swapped (the index is symmetric)", (b, a)),
        Case("identical masks", (a, a.clone())),
        Case("disjoint masks", (a, ~a)),
        Case("random masks of shape (5, 6)", (ra, rb)),
        Case(
            "many entries pruned in both (pruned-in-both entries do not count)",
            (
                torch.tensor([1, 0, 0, 0, 0, 0, 0, 0], dtype=torch.bool),
                torch.tensor([1, 1, 0, 0, 0, 0, 0, 0], dtype=torch.bool),
            ),
        ),
    ]


def _overlap_edge() -> list[Case]:
    empty = torch.zeros(2, 3, dtype=torch.bool)
    return [
        Case("both masks keep nothing: 1.0", (empty, empty.clone())),
        Case("one mask keeps nothing: 0.0", (empty, torch.ones(2, 3, dtype=torch.bool))),
        Case("one kept entry in both", (torch.tensor([False, True]), torch.tensor([False, True]))),
    ]


def _overlap_no_mutation() -> list[Case]:
    return [Case("random masks", (_rand_mask((4, 4), 123), _rand_mask((4, 4), 124)))]


def _overlap_errors() -> list[Case]:
    return [
        Case(
            "shapes (2, 3) and (3, 2)",
            (torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool)),
        ),
        Case(
            "shapes (3,) and (1, 3) (broadcasting is not allowed)",
            (torch.ones(3, dtype=torch.bool), torch.ones(1, 3, dtype=torch.bool)),
        ),
        Case(
            "shapes (4,) and (5,)",
            (torch.ones(4, dtype=torch.bool), torch.ones(5, dtype=torch.bool)),
        ),
    ]


_overlap_verdict = _checked("mask_overlap", _overlap_judge, _OVERLAP_HINT)

make_checks(
    "mask_overlap",
    [
        Part("basic", "the Jaccard index of the kept sets", _overlap_basic, _overlap_verdict),
        Part(
            "edge",
            "empty masks: both empty is 1.0, one empty is 0.0",
            _overlap_edge,
            _overlap_verdict,
        ),
        Part(
            "no_mutation",
            "the masks are left unchanged",
            _overlap_no_mutation,
            leaves_inputs_unchanged("mask_overlap", ("mask_a", "mask_b"), also=_overlap_verdict),
        ),
        Part(
            "errors",
            "ValueError for masks of different shapes",
            _overlap_errors,
            raises_value_error("mask_overlap", hint="compare mask_a.shape and mask_b.shape first"),
        ),
    ],
)
