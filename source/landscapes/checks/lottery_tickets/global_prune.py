"""Checks of `global_prune` (notebook 03): one magnitude ranking over every tensor named in masks.

Compared with the reference: only keys in masks are pruned, counting only the entries still
kept; the ranking is global, not layer by layer; ties go to the earlier key in masks order,
then the lower flat index, and near-ties that float32 rounding would hide are not ties; params
and masks are left unchanged; ValueError for a mask key absent from params, a bad fraction or a
shape that does not fit.
"""

from __future__ import annotations

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import leaves_inputs_unchanged, raises_value_error
from solutions import lottery_tickets as ref

from .common import _checked, _near_ties, _ones_like, _params, _rand_mask, compare_mask_dict

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


def _global_basic() -> list[Case]:
    # Fixed for everyone, like the partly pruned masks of `joint` and `no_mutation`: which
    # typical mistakes (a layer-wise ranking, signed values, the masks ignored, counts rounded
    # per layer) these few random weights and masks expose depends on the draw.
    params = _params(
        21,
        {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)},
        fixed=True,
    )
    masks = _ones_like(params, ["0.weight", "2.weight"])
    partly = {
        "0.weight": _rand_mask((4, 3), 22, fixed=True),
        "2.weight": _rand_mask((2, 4), 23, fixed=True),
    }
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


def _scaled_layers(*, fixed: bool = False) -> dict[str, torch.Tensor]:
    """Three random layers of scales 0.1, 1 and 3."""
    params = _params(31, {"l1": (3, 4), "l2": (4, 2), "l3": (2, 2)}, fixed=fixed)
    return {"l1": params["l1"] * 0.1, "l2": params["l2"], "l3": params["l3"] * 3}


def _global_joint() -> list[Case]:
    small = torch.tensor([[0.01, 0.02], [0.03, 0.04]])
    large = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    params = {"a": small, "b": large}
    masks = _ones_like(params, ["a", "b"])
    scaled = _scaled_layers()
    fives = _params(35, {"u": (5,), "v": (1, 5), "w": (5, 1)})  # 2.5 a layer would round up
    fixed_scaled = _scaled_layers(fixed=True)  # for the partly pruned case (see _global_basic)
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
                fixed_scaled,
                {
                    "l1": _rand_mask((3, 4), 32, fixed=True),
                    "l2": _rand_mask((4, 2), 33, fixed=True),
                    "l3": _rand_mask((2, 2), 34, fixed=True),
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
    # Exactly, a[1] and then b[1] are the smallest; in float32 a[0], a[1] and b[1] all tie.
    near = _near_ties(torch.float64, signs=(-1.0, 1.0, -1.0, 1.0))
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
        Case(
            "float64 magnitudes that differ only beyond float32 precision are not ties",
            (
                {"a": near[:2].clone(), "b": near[2:].clone()},
                {"a": torch.ones(2, dtype=torch.bool), "b": torch.ones(2, dtype=torch.bool)},
                0.5,
            ),
            hint="rank the magnitudes in the dtype of the params (or float64), not in float32",
        ),
    ]


def _global_no_mutation() -> list[Case]:
    # Fixed for everyone (see _global_basic).
    params = _params(41, {"w": (3, 3), "b": (3,), "v": (2, 3)}, fixed=True)
    masks = {"w": _rand_mask((3, 3), 42, fixed=True), "v": _rand_mask((2, 3), 43, fixed=True)}
    return [Case("params and partly pruned masks", (params, masks, 0.5))]


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
                "global_prune", ("params", "masks", "fraction"), results=_global_verdict
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
