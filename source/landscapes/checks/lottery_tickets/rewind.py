"""Checks of `rewind` (notebook 03): init_params with every pruned entry set to 0.

Compared with the reference: pruned entries are 0 and everything else is init_params, each
tensor keeps its dtype, every key is returned, no masks gives a copy; the result shares no
memory with init_params; init_params and masks are left unchanged; ValueError for a mask key
absent from init_params or a wrong shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import (
    DICT_TYPES,
    compare_tensor_dict,
    index_str,
    leaves_inputs_unchanged,
    raises_value_error,
)
from solutions import lottery_tickets as ref

from .common import M1, _checked, _ones_like, _params, _rand_mask, _w1

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
            where = index_str(int(bad[0]), tuple(mask.shape))
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
            leaves_inputs_unchanged("rewind", ("init_params", "masks"), results=_rewind_verdict),
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
