"""Tolerances and helpers shared by several graded functions of notebook 01.

Stage 1: generators, small parameter dicts (also with the same keys in another order), data,
MLP and parameter `Build` recipes. Their seeds go through `vary` when the cases are made, so
every student gets other random inputs (the fixed ones when no case seed is active).

Stage 3: `_reference_verdict` (the reference's value, with a diagnosis of typical mistakes and
a note when a float64 result is right only to float32 accuracy), the after-call probe of a
model's parameters (`requires_grad` flags, gradients left behind), the diagnosis of tensors
paired by position instead of by key, and the verdict that a result was computed without
gradients.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import torch

from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Outcome, Verdict
from autograder.checks.verdicts import (
    call_failure,
    compare_tensor,
    compare_tensor_dict,
    compare_value,
    fresh_inputs,
    with_hint,
)

# ---------------------------------------------------------------------------------------------
# Tolerances and sizes (named, never inline)

LOSS_RTOL = 1e-4
"""Relative tolerance of losses and probabilities (float32 forward passes)."""
LOSS_ATOL = 1e-5
"""Absolute tolerance of losses and probabilities."""
FLOAT32_ACCURACY_RTOL = 1e-5
"""For diagnoses: a float64 result that matches within these tolerances but not within the
float64 ones was computed with some float32 quantity."""
FLOAT32_ACCURACY_ATOL = 1e-6

_GEN_SEED = 2505
_N_EXAMPLES = 12
_N_CLASSES = 3
_HIDDEN = (8,)


# ---------------------------------------------------------------------------------------------
# Shared stage-1 helpers


def _gen(offset: int = 0) -> torch.Generator:
    """The generator of a case's random inputs: varied per student (call it in make_cases)."""
    return torch.Generator().manual_seed(vary(_GEN_SEED + offset))


def _fixed_gen(offset: int = 0) -> torch.Generator:
    """A generator that is the same for everyone (random data that must not vary)."""
    return torch.Generator().manual_seed(_GEN_SEED + offset)


def _random_params(gen: torch.Generator, dtype: torch.dtype = torch.float32) -> dict:
    """A small parameter dict with a matrix, a vector, a 3-D tensor and a 0-d tensor."""
    shapes = {"layer.weight": (3, 2), "layer.bias": (3,), "conv.weight": (2, 2, 2), "scale": ()}
    return {k: torch.randn(s, generator=gen, dtype=dtype) for k, s in shapes.items()}


_TWIN_KEYS = ("w1", "w2", "b1", "b2")
_TWIN_SHAPES = {"w1": (3, 2), "w2": (3, 2), "b1": (3,), "b2": (3,)}


def _twin_params(gen: torch.Generator) -> dict:
    """Params whose keys come in pairs of equal shapes: w1/w2 (3, 2) and b1/b2 (3,)."""
    return {k: torch.randn(_TWIN_SHAPES[k], generator=gen) for k in _TWIN_KEYS}


def _swapped(params: dict) -> dict:
    """The same params with the keys of each equal-shape pair in the other order."""
    return {k: params[k] for k in ("w2", "w1", "b2", "b1")}


def _rekeyed(like: Mapping[str, Any], params: Mapping[str, Any]) -> dict | None:
    """`params`' tensors under `like`'s keys, paired by position (a typical mistake)."""
    if len(like) != len(params) or list(like) == list(params):
        return None
    return dict(zip(like, params.values()))


def _data(gen: torch.Generator, dtype: torch.dtype = torch.float32) -> tuple:
    X = torch.randn(_N_EXAMPLES, 2, generator=gen, dtype=dtype)
    y = torch.randint(0, _N_CLASSES, (_N_EXAMPLES,), generator=gen)
    return X, y


def _mlp(
    seed: int, *, train_mode: bool = False, dtype: str = "float32", hidden: tuple = _HIDDEN
) -> Build:
    """A seeded MLP's recipe; its seed is varied per student (call it in make_cases)."""
    return Build(
        "mlp",
        {
            "hidden": hidden,
            "out_dim": _N_CLASSES,
            "seed": vary(seed),
            "train_mode": train_mode,
            "dtype": dtype,
        },
    )


def _params(
    seed: int, *, dtype: str = "float32", requires_grad: bool = False, hidden: tuple = _HIDDEN
) -> Build:
    params = Build("params_of", {"model": _mlp(seed, dtype=dtype, hidden=hidden)})
    return Build("params_requiring_grad", {"params": params}) if requires_grad else params


# ---------------------------------------------------------------------------------------------
# Comparing with the reference, with a diagnosis of typical mistakes (stage 3)


def _close(got: Any, expected: Any) -> bool:
    """Whether `got` equals `expected` up to float32 rounding (for diagnoses only)."""
    try:
        return compare_value(got, expected, what="", rtol=LOSS_RTOL, atol=LOSS_ATOL) is None
    except Exception:
        return False


Diagnose = Callable[[Case, Any], "str | None"]


def _reference_verdict(
    name: str,
    reference: Callable[..., Any],
    *,
    hint: str = "",
    diagnose: Diagnose | None = None,
    compare: Callable[[Any, Any, str], str | None] | None = None,
) -> Verdict:
    """Like `matches_reference`, plus a diagnosis of typical mistakes when the values differ."""

    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, name)
        if failure:
            stub = outcome.error_type == "NotImplementedError"
            return with_hint(failure, case, "" if stub else hint)
        args, kwargs = fresh_inputs(case)
        expected = reference(*args, **kwargs)
        what = f"the result of `{name}`"
        if compare is not None:
            msg = compare(outcome.value, expected, what)
        else:
            msg = compare_value(outcome.value, expected, what=what)
        if msg is None:
            return None
        why = diagnose(case, outcome.value) if diagnose is not None else None
        if not why:
            why = _float32_accuracy_note(outcome.value, expected)
        if why:
            msg = f"{msg}\n{why}"
        return with_hint(msg, case, hint)

    return verdict


def _has_float64(expected: Any) -> bool:
    tensors = expected.values() if isinstance(expected, Mapping) else [expected]
    return any(type(t) is torch.Tensor and t.dtype == torch.float64 for t in tensors)


def _float32_accuracy_note(got: Any, expected: Any) -> str | None:
    """A note when a float64 result is right only to float32 accuracy (for diagnoses only)."""
    if not _has_float64(expected):
        return None
    try:
        if isinstance(expected, Mapping):
            msg = compare_tensor_dict(
                got, expected, what="", rtol=FLOAT32_ACCURACY_RTOL, atol=FLOAT32_ACCURACY_ATOL
            )
        else:
            msg = compare_tensor(
                got, expected, what="", rtol=FLOAT32_ACCURACY_RTOL, atol=FLOAT32_ACCURACY_ATOL
            )
    except Exception:
        return None
    if msg is not None:
        return None
    return (
        "Your float64 result is right only to float32 accuracy: a float32 number entered the "
        "computation (e.g. torch.tensor(alpha) or torch.tensor(weights), which are float32). "
        "Keep scalars as Python floats, or make tensors with the parameters' dtype."
    )


def _dict_compare(*, check_dtype: bool = True) -> Callable[[Any, Any, str], str | None]:
    def compare(got: Any, expected: Any, what: str) -> str | None:
        return compare_tensor_dict(got, expected, what=what, check_dtype=check_dtype)

    return compare


# ---------------------------------------------------------------------------------------------
# The model's parameters: requires_grad flags and gradients (an after-call probe)

_MODEL_PROBE = Build("model_params_probe", {"arg": 0})
"""After-call probe of the model's parameters (requires_grad flags, gradients left behind)."""

_MODEL_PARAMS_HINT = (
    "leave the model as you found it: torch.func.functional_call needs no change to the "
    "model's own parameters, and `with torch.no_grad():` computes without gradients"
)


def _probing_model(case_list: list[Case]) -> list[Case]:
    """The cases with `_MODEL_PROBE` as their after-call probe (argument 0 is the model)."""
    return [dataclasses.replace(c, post=_MODEL_PROBE) for c in case_list]


def _model_params_kept(name: str, inner: Verdict) -> Verdict:
    """`inner`, then: the model's parameters keep their requires_grad flags and get no .grad.

    The snapshot of a module (values, buffers, mode) does not hold these, so cases with the
    `_MODEL_PROBE` after-call probe record them; other cases are judged by `inner` alone.
    """

    def verdict(case: Case, outcome: Outcome) -> str | None:
        msg = inner(case, outcome)
        if msg or case.post is None or outcome.status != "returned":
            return msg
        flags = outcome.probe.get("param_requires_grad")
        if not isinstance(flags, dict):
            why = outcome.probe.get("model_error") or outcome.probe.get("post_error", "")
            return with_hint(
                f"after `{name}` returned, the model's parameters could not be read ({why})",
                case,
                _MODEL_PARAMS_HINT,
            )
        (model, *_), _ = fresh_inputs(case)
        for key, param in model.named_parameters():
            if flags.get(key) != param.requires_grad:
                return with_hint(
                    f"`{name}` changed its input: model's parameter {key!r}.requires_grad "
                    f"changed from {param.requires_grad} to {flags.get(key)}",
                    case,
                    _MODEL_PARAMS_HINT,
                )
        inputs = outcome.probe.get("inputs_with_grad") or []
        if inputs:
            return with_hint(
                f"`{name}` changed its input: {inputs[0]} was left with a gradient (.grad): "
                "the loss was backpropagated into the caller's tensors; detach them (e.g. "
                "theta_a[k].detach()) before building anything you differentiate",
                case,
                "",
            )
        touched = outcome.probe.get("params_with_grad") or []
        if touched:
            return with_hint(
                f"`{name}` changed its input: the model's parameter {touched[0]!r} was left "
                "with a gradient (.grad): the loss was backpropagated into the model itself",
                case,
                _MODEL_PARAMS_HINT,
            )
        return None

    return verdict


# ---------------------------------------------------------------------------------------------
# Diagnosing tensors paired by position (interpolate, bezier_point, average_params)

_BY_POSITION = (
    "Your result pairs the tensors of the parameter dicts by position, not by key (here the "
    "dicts hold the same keys in different orders): look up every dict by key, e.g. "
    "theta_b[k] for each key k of theta_a, instead of zipping their .values()."
)


def _matches_quietly(compute: Callable[[], Any], got: Any) -> bool:
    """Whether `got` is close to what `compute()` returns (False if it raises)."""
    try:
        return _close(got, compute())
    except Exception:
        return False


# ---------------------------------------------------------------------------------------------
# Results computed without gradients (loss_along_path, ensemble_probs)


def _no_grad_verdict(name: str, inner: Verdict, *, hint: str) -> Verdict:
    """Fails when the returned tensor requires grad; otherwise defers to `inner`."""

    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, name)
        if failure:
            return with_hint(failure, case, "")
        value = outcome.value
        if type(value) is torch.Tensor and (value.requires_grad or value.grad_fn is not None):
            return with_hint(
                f"the result of `{name}` requires grad (it carries an autograd graph): it must "
                "be computed without gradients",
                case,
                hint,
            )
        return inner(case, outcome)

    return verdict
