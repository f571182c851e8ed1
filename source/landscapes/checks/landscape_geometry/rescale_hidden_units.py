"""Checks of `rescale_hidden_units` (notebook 02): scale hidden unit i's incoming weights (and
bias) by c_i and its outgoing weights by 1 / c_i.

Compared with the reference for one factor and for one factor per unit, with and without
biases, keeping each tensor's dtype; the network's function is unchanged (practice problem 4,
checked with `network_output`); ValueError for c ≤ 0, a missing weight or shapes that do not
fit; params and c are left unchanged. A wrong value is diagnosed (which bias or weight was
scaled wrongly).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import (
    DICT_TYPES,
    compare_tensor_dict,
    fmt_value,
    leaves_inputs_unchanged,
    raises_value_error,
)
from solutions import landscape_geometry as ref

from ..networks import network_output
from .common import _checked, _dict_near, _fixed_gen, _gen, _tensor_near

# Tolerances and sizes (named, never inline)

FUNCTION_RTOL = 1e-4
"""`rescale_hidden_units`: network outputs before and after the rescaling agree to this."""
FUNCTION_ATOL = 1e-5


_RESC = "rescale_hidden_units"
_RESC_HINT = (
    "multiply row i of params[layer_in + '.weight'] and entry i of params[layer_in + '.bias'] "
    "(if present) by c_i, divide column i of params[layer_out + '.weight'] by c_i, leave "
    "params[layer_out + '.bias'] and every other key unchanged; keep each tensor's dtype"
)

#: Layer sizes of the parameter dicts used here: 2 inputs, hidden 4 and 3, 2 outputs.
_RESC_SHAPES = {
    "0.weight": (4, 2),
    "0.bias": (4,),
    "2.weight": (3, 4),
    "2.bias": (3,),
    "4.weight": (2, 3),
    "4.bias": (2,),
}


def _resc_params(seed: int, dtype: torch.dtype = torch.float32, drop: tuple[str, ...] = ()):
    gen = _gen(seed)
    return {
        k: torch.randn(s, generator=gen, dtype=dtype)
        for k, s in _RESC_SHAPES.items()
        if k not in drop
    }


def _resc_form(got: Any, expected: Mapping[str, torch.Tensor], what: str) -> str | None:
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of tensors, got {fmt_value(got)}"
    if set(got) != set(expected):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        return f"{what} has the wrong keys: missing {missing!r}, unexpected {extra!r}"
    for key, exp in expected.items():
        value = got[key]
        if type(value) is not torch.Tensor:
            return f"{what}[{key!r}] should be a torch.Tensor, got {fmt_value(value)}"
        if tuple(value.shape) != tuple(exp.shape):
            return f"{what}[{key!r}] has shape {tuple(value.shape)}, expected {tuple(exp.shape)}"
        if value.dtype != exp.dtype:
            return (
                f"{what}[{key!r}] has dtype {value.dtype}, expected {exp.dtype}: the results "
                "keep the params' dtype"
            )
    return None


def _resc_diagnose(got: Any, params: dict, layer_in: str, layer_out: str, c: Any) -> str:
    notes = []
    b_in, b_out = f"{layer_in}.bias", f"{layer_out}.bias"
    if b_out in params and not _tensor_near(got[b_out], params[b_out]):
        notes.append(f"{b_out!r} was changed; the bias of layer_out stays unchanged")
    if b_in in params and _tensor_near(got[b_in], params[b_in]):
        expected_b = ref.rescale_hidden_units(params, layer_in, layer_out, c)[b_in]
        if not _tensor_near(expected_b, params[b_in]):
            notes.append(f"{b_in!r} was not scaled; the bias of layer_in is multiplied by c too")
    inverse = 1.0 / c if not isinstance(c, torch.Tensor) else 1.0 / c.to(torch.float64)
    if _dict_near(got, ref.rescale_hidden_units(params, layer_in, layer_out, inverse)):
        notes.append("you used 1/c: multiply layer_in's rows by c and divide layer_out's columns")
    return ("\n" + "; ".join(notes)) if notes else ""


def _resc_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params, layer_in, layer_out, c = args
    expected = ref.rescale_hidden_units(params, layer_in, layer_out, c)
    what = "the result of `rescale_hidden_units`"
    got = outcome.value
    msg = _resc_form(got, expected, what)
    if msg:
        return msg
    msg = compare_tensor_dict(got, expected, what=what)
    if msg:
        return msg + _resc_diagnose(got, params, layer_in, layer_out, c)
    return None


_resc_verdict = _checked(_RESC, _resc_judge, _RESC_HINT)

#: The inputs on which the `function` part compares the networks (the verdict's own data).
_X_FUNCTION = torch.randn(16, 2, generator=_fixed_gen(160)) * 2.0


def _resc_function_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params = args[0]
    expected = ref.rescale_hidden_units(*args)
    what = "the result of `rescale_hidden_units`"
    msg = _resc_form(outcome.value, expected, what)
    if msg:
        return msg
    before = network_output(params, _X_FUNCTION)
    after = network_output(outcome.value, _X_FUNCTION)
    diff = (after - before).abs()
    if not bool((diff <= FUNCTION_ATOL + FUNCTION_RTOL * before.abs()).all()):
        return (
            f"the network computes a different function with your params: its outputs on 16 "
            f"inputs changed by up to {float(diff.max()):.4g}. With a ReLU between the layers, "
            "relu(c·z) = c·relu(z) for c > 0, so scaling layer_in's rows (and bias) by c and "
            "dividing layer_out's columns by c cancels exactly"
        )
    return _resc_judge(case, outcome, args, kwargs)


def _resc_basic() -> list[Case]:
    return [
        Case("layers '0' and '2', c = 2.0", (_resc_params(1), "0", "2", 2.0)),
        Case("layers '2' and '4', c = 0.5", (_resc_params(2), "2", "4", 0.5)),
        Case("an int c = 3", (_resc_params(3), "0", "2", 3)),
        Case(
            "float64 params, c = 10.0 (the result stays float64)",
            (_resc_params(4, torch.float64), "0", "2", 10.0),
        ),
    ]


def _resc_per_unit() -> list[Case]:
    return [
        Case(
            "a float32 tensor of 4 factors for layers '0' and '2'",
            (_resc_params(5), "0", "2", torch.tensor([0.5, 1.0, 2.0, 4.0])),
        ),
        Case(
            "a float64 tensor of 3 factors for layers '2' and '4' (float32 params stay float32)",
            (_resc_params(6), "2", "4", torch.tensor([3.0, 0.25, 1.5], dtype=torch.float64)),
        ),
        Case(
            "float64 params, a float32 tensor of factors",
            (_resc_params(7, torch.float64), "0", "2", torch.tensor([1.5, 2.5, 0.1, 7.0])),
        ),
    ]


def _resc_biases() -> list[Case]:
    return [
        Case(
            "layer_out's bias stays unchanged: layers '0' and '2', c = 3.0",
            (_resc_params(8), "0", "2", 3.0),
            hint="only layer_in's bias is scaled (it feeds the hidden units); layer_out's bias "
            "is added after the division and stays unchanged",
        ),
        Case(
            "layer_in has no bias (no '0.bias' key)",
            (_resc_params(9, drop=("0.bias",)), "0", "2", 2.0),
            hint="the bias of layer_in is optional: scale it only if the key exists",
        ),
        Case(
            "no biases at all",
            (_resc_params(10, drop=("0.bias", "2.bias", "4.bias")), "2", "4", 0.2),
        ),
    ]


def _resc_function() -> list[Case]:
    return [
        Case("layers '0' and '2', c = 5.0", (_resc_params(11), "0", "2", 5.0)),
        Case(
            "layers '2' and '4', per-unit factors",
            (_resc_params(12), "2", "4", torch.tensor([0.1, 2.0, 8.0])),
        ),
        Case(
            "an MLP's parameters, layers '0' and '2', c = 0.25",
            (
                Build(
                    "params_of",
                    {"model": Build("mlp", {"hidden": (4, 3), "out_dim": 2, "seed": vary(13)})},
                ),
                "0",
                "2",
                0.25,
            ),
        ),
    ]


def _resc_errors() -> list[Case]:
    return [
        Case("c = 0", (_resc_params(14), "0", "2", 0.0)),
        Case("c = -2", (_resc_params(14), "0", "2", -2.0)),
        Case(
            "a tensor of factors with a 0",
            (_resc_params(14), "0", "2", torch.tensor([1.0, 0.0, 2.0, 1.0])),
        ),
        Case(
            "a tensor of factors with a negative one",
            (_resc_params(14), "2", "4", torch.tensor([1.0, -1.0, 2.0])),
        ),
        Case("layer_in '1' has no weight (it is the ReLU)", (_resc_params(14), "1", "2", 2.0)),
        Case("layer_out '6' has no weight", (_resc_params(14), "4", "6", 2.0)),
        Case(
            "layers '0' and '4' do not fit: 4 rows against 3 columns",
            (_resc_params(14), "0", "4", 2.0),
        ),
        Case(
            "3 factors for 4 hidden units",
            (_resc_params(14), "0", "2", torch.tensor([1.0, 2.0, 3.0])),
        ),
    ]


def _resc_no_mutation() -> list[Case]:
    return [
        Case("scalar c", (_resc_params(15), "0", "2", 2.0)),
        Case("per-unit factors", (_resc_params(16), "2", "4", torch.tensor([2.0, 3.0, 0.5]))),
    ]


make_checks(
    _RESC,
    [
        Part("basic", "one factor c for every hidden unit", _resc_basic, _resc_verdict),
        Part("per_unit", "a tensor with one factor per hidden unit", _resc_per_unit, _resc_verdict),
        Part(
            "biases",
            "layer_in's bias scaled if present, layer_out's bias unchanged",
            _resc_biases,
            _resc_verdict,
        ),
        Part(
            "function",
            "the network's function is unchanged (practice problem 4)",
            _resc_function,
            _checked(_RESC, _resc_function_judge, _RESC_HINT),
        ),
        Part(
            "errors",
            "ValueError for c ≤ 0, a missing weight or shapes that do not fit",
            _resc_errors,
            raises_value_error(
                _RESC,
                hint="check that both weights exist, that layer_in's rows match layer_out's "
                "columns (and c's length), and that every factor is > 0",
            ),
        ),
        Part(
            "no_mutation",
            "params and c are left unchanged",
            _resc_no_mutation,
            leaves_inputs_unchanged(
                _RESC, ("params", "layer_in", "layer_out", "c"), results=_resc_verdict
            ),
        ),
    ],
)
