"""Checks of `iterative_magnitude_pruning` (notebook 03): the masks after each round of IMP.

Compared with the reference, with a spy `train_fn` recording its calls: once per round, with
the rewound params and the current masks; rounds = 0, fraction 0, which tensors are
prunable (dim ≥ 2, whatever their names: a 1-D "ln.weight" never, a 2-D "proj" always);
init_params are left unchanged; ValueError for a bad fraction, even when rounds = 0.
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.call import materialize
from autograder.checks.registry import make_checks
from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import (
    DICT_TYPES,
    call_failure,
    compare_tensor_dict,
    fmt_value,
    leaves_inputs_unchanged,
    raises_value_error,
    with_hint,
)
from solutions import lottery_tickets as ref

from .common import _params, compare_mask_dict

_IMP_HINT = (
    "start with all-True masks for every tensor with dim >= 2; each round call "
    "trained = train_fn(rewind(init_params, masks), masks) once, then "
    "masks = global_prune(trained, masks, fraction), and append the new masks"
)


_PRUNABLE_RULE = (
    "masks exist for exactly the tensors with dim >= 2, whatever their names; biases and other "
    "1-D tensors are never pruned"
)


def _prunable_keys_hint(init_params: dict[str, torch.Tensor], got: Any) -> str:
    """The rule that decides which tensors get masks, then the keys `got` gets wrong by it."""
    if type(got) not in DICT_TYPES:
        return _PRUNABLE_RULE
    notes = []
    for key, value in init_params.items():
        if value.dim() >= 2 and key not in got:
            notes.append(f"{key!r} has dim {value.dim()} and needs a mask")
        elif value.dim() < 2 and key in got:
            notes.append(f"{key!r} has dim {value.dim()} and gets no mask")
    return _PRUNABLE_RULE + ("; here " + ", ".join(notes) if notes else "")


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
            keys_hint="train_fn gets the current masks; "
            + _prunable_keys_hint(init_params, call["masks"]),
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
            keys_hint=_prunable_keys_hint(init_params, value[i - 1]),
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


def _imp_spy(*, fixed: bool = False) -> Build:
    """The spy train_fn; the seed of its "training" steps is varied per student (not if
    `fixed`)."""
    return Build("spy_train_fn", {"seed": 5 if fixed else vary(5)})


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
        Case("an MLP's params, 3 rounds of 20%", (_imp_params(81), _imp_spy(), 3, 0.2)),
        Case(
            "late rewinding: other params to rewind to, 2 rounds of 50%", (late, _imp_spy(), 2, 0.5)
        ),
        Case("one round of 30%", (_imp_params(83), _imp_spy(), 1, 0.3)),
    ]


def _imp_train_fn() -> list[Case]:
    return [
        Case(
            "4 rounds of 25%: train_fn gets the rewound params and the current masks",
            (_imp_params(84), _imp_spy(), 4, 0.25),
            hint="every round starts again from init_params (rewinding), with the pruned "
            "entries set to 0",
        ),
        Case("2 rounds of 60%", (_imp_params(85), _imp_spy(), 2, 0.6)),
    ]


def _imp_edge() -> list[Case]:
    # Fixed for everyone: these params and "training" steps expose a layer-wise ranking,
    # which some other draws of a 3-D and a 2-D weight do not.
    conv = _params(
        86,
        {"conv.weight": (2, 2, 3), "conv.bias": (2,), "fc.weight": (3, 4), "scale": (1,)},
        fixed=True,
    )
    # A 1-D "*.weight" (LayerNorm, BatchNorm) and a 2-D tensor without "weight" in its name:
    # the dimension decides what is prunable, not the name.
    named = _params(
        91,
        {
            "fc.weight": (3, 4),
            "fc.bias": (3,),
            "ln.weight": (3,),
            "ln.bias": (3,),
            "proj": (2, 3),
        },
    )
    return [
        Case("rounds = 0: no training, an empty list", (_imp_params(87), _imp_spy(), 0, 0.2)),
        Case("fraction 0: masks stay all True", (_imp_params(88), _imp_spy(), 2, 0.0)),
        Case("a 3-D weight is pruned too, 1-D tensors never", (conv, _imp_spy(fixed=True), 2, 0.4)),
        Case(
            "a 1-D 'ln.weight' is never pruned, a 2-D 'proj' is: dim >= 2 decides, not the name",
            (named, _imp_spy(), 2, 0.3),
            hint="choose the prunable tensors by value.dim() >= 2, not by their names",
        ),
    ]


def _imp_no_mutation() -> list[Case]:
    return [Case("3 rounds of 30%", (_imp_params(89), _imp_spy(), 3, 0.3))]


def _imp_errors() -> list[Case]:
    return [
        Case(
            "fraction 1.5 with rounds = 0 (validate even without work)",
            (_imp_params(90), _imp_spy(), 0, 1.5),
        ),
        Case("fraction -0.2", (_imp_params(90), _imp_spy(), 2, -0.2)),
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
                results=_imp_verdict,
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
