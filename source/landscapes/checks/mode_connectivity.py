"""Hidden checks for notebook 01 (mode connectivity): cases (stage 1) and verdicts (stage 3).

Every function of exercise-spec.md's 01 table has its parts here. Inputs that are not plain
data (models, paths, trained endpoints) are `Build` recipes resolved by the builders in
`inputs_mode_connectivity`. Values are compared with the reference solution where the spec
fixes them; `train_bezier_midpoint`, whose order of random draws is free, is checked through
properties (its start, one Adam step and Adam's state over a few, the minibatch size,
determinism, the barrier it removes). Functions given a model are also checked, through an
after-call probe, for leaving its parameters' `requires_grad` flags and gradients alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from autograder.checks.registry import make_checks
from autograder.checks.types import Build, Case, Outcome, Part, Verdict
from autograder.checks.verdicts import (
    DICT_TYPES,
    as_scalar,
    call_failure,
    compare_bool,
    compare_tensor,
    compare_tensor_dict,
    compare_value,
    fmt_value,
    fresh_inputs,
    leaves_inputs_unchanged,
    matches_reference,
    raises_value_error,
    reordered_keys_may_raise,
    with_hint,
)
from solutions import mode_connectivity as ref
from solutions._common import as_float_list

from .inputs_mode_connectivity import barrier_data

# ---------------------------------------------------------------------------------------------
# Tolerances and sizes (named, never inline)

LOSS_RTOL = 1e-4
"""Relative tolerance of losses and probabilities (float32 forward passes)."""
LOSS_ATOL = 1e-5
"""Absolute tolerance of losses and probabilities."""
BERNSTEIN_RTOL = 1e-5
"""Bernstein weights must be float64 tensors, but float32-accurate arithmetic is accepted."""
BERNSTEIN_ATOL = 1e-9
ADAM_STEP_RTOL = 1e-3
"""How far the largest change after one Adam step may be from lr, relative to lr."""
ADAM_MOVED_FRACTION = 0.9
"""An entry "moved by about lr" when its change is at least this fraction of lr."""
ADAM_STILL_FRACTION = 1e-3
"""An entry whose change is below this fraction of lr did not move (zero gradient, e.g. a
dead ReLU unit; what is left is rounding)."""
ADAM_MIN_MOVED_SHARE = 0.8
"""Of the entries that moved in one Adam step, at least this share moved by about lr (the
reference: 97–100%; plain SGD: under 5%)."""
CURVE_GRID = 41
"""Number of evenly spaced alphas at which the verdict evaluates the trained curve."""
CURVE_BARRIER_FRACTION = 0.25
"""A trained Bezier curve keeps at most this fraction of the straight line's barrier (correct
implementations keep 12–17% whatever their draw order and seed; training at alpha = 0.5 only,
training theta_mid as a model of its own or dropping the factor 2 keep 30–55%)."""
IB_NEGATIVE_TOL = 1e-6
"""For diagnoses: an interpolated barrier below −IB_NEGATIVE_TOL left out the endpoints."""
ADAM_MULTI_STEPS = 3
"""Steps of the case that tells Adam (moments kept across steps) from an optimizer made anew
every step, whose every step is a first Adam step of exactly ±lr per entry."""
ADAM_WHOLE_LR_TOL = 0.02
"""A total change "is a whole multiple of lr" when it is within this many lr of one."""
ADAM_MAX_WHOLE_SHARE = 0.5
"""After `ADAM_MULTI_STEPS` steps at most this share of the entries that moved may have moved
by a whole multiple of lr (the reference and four other styles and draw orders, seeds 0–15:
0–7%; Adam made anew every step: 88–99%)."""
FLOAT32_ACCURACY_RTOL = 1e-5
"""For diagnoses: a float64 result that matches within these tolerances but not within the
float64 ones was computed with some float32 quantity."""
FLOAT32_ACCURACY_ATOL = 1e-6
BEZIER_TIMEOUT = 30.0
"""Seconds per call of `train_bezier_midpoint` (the reference needs well under one)."""

_GEN_SEED = 2505
_N_EXAMPLES = 12
_N_CLASSES = 3
_HIDDEN = (8,)


# ---------------------------------------------------------------------------------------------
# Shared stage-1 helpers


def _gen(offset: int = 0) -> torch.Generator:
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


def _mlp(seed: int, *, train_mode: bool = False, dtype: str = "float32") -> Build:
    return Build(
        "mlp",
        {
            "hidden": _HIDDEN,
            "out_dim": _N_CLASSES,
            "seed": seed,
            "train_mode": train_mode,
            "dtype": dtype,
        },
    )


def _mode_scaled(seed: int, *, train_mode: bool) -> Build:
    return Build(
        "mode_scaled_mlp",
        {"hidden": _HIDDEN, "out_dim": _N_CLASSES, "seed": seed, "train_mode": train_mode},
    )


def _params(seed: int, *, dtype: str = "float32", requires_grad: bool = False) -> Build:
    params = Build("params_of", {"model": _mlp(seed, dtype=dtype)})
    return Build("params_requiring_grad", {"params": params}) if requires_grad else params


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
# interpolate

_INTERP_HINT = (
    "theta(alpha) = (1 − alpha)·theta_a + alpha·theta_b for every key: alpha = 0 gives "
    "theta_a, alpha = 1 gives theta_b"
)


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


def _interp_diagnose(case: Case, got: Any) -> str | None:
    (theta_a, theta_b, alpha), _ = fresh_inputs(case)
    moved = _rekeyed(theta_a, theta_b)
    if moved is not None and _matches_quietly(lambda: ref.interpolate(theta_a, moved, alpha), got):
        return _BY_POSITION
    if _close(got, ref.interpolate(theta_a, theta_b, 1.0 - alpha)):
        return (
            f"Your result is the point at 1 − alpha = {1.0 - alpha:g}: the roles of theta_a and "
            "theta_b are swapped. The convention is that alpha = 0 gives theta_a and alpha = 1 "
            "gives theta_b."
        )
    clamped = min(max(alpha, 0.0), 1.0)
    if clamped != alpha and _close(got, ref.interpolate(theta_a, theta_b, clamped)):
        return (
            f"Your result is the point at alpha = {clamped:g}: alpha was clamped to [0, 1], but "
            "any real alpha is allowed (values outside [0, 1] extrapolate beyond the endpoints)."
        )
    return None


def _interp_case(label: str, gen: torch.Generator, alpha: float, **kw: Any) -> Case:
    dtype = kw.pop("dtype", torch.float32)
    return Case(label, (_random_params(gen, dtype), _random_params(gen, dtype), alpha), **kw)


def _interp_basic() -> list[Case]:
    gen = _gen(1)
    twins = _gen(7)
    twin_a, twin_b = _twin_params(twins), _twin_params(twins)
    return [
        _interp_case("alpha = 0.5, the midpoint", gen, 0.5),
        _interp_case("alpha = 0.25", gen, 0.25),
        Case("two MLPs' parameters, alpha = 0.7", (_params(1), _params(2), 0.7)),
        Case(
            "theta_b holds the same keys in another order, alpha = 0.3",
            (twin_a, _swapped(twin_b), 0.3),
            hint="dicts with the same keys may list them in different orders: pair the "
            "tensors by key",
        ),
    ]


def _interp_alpha_convention() -> list[Case]:
    gen = _gen(2)
    return [
        _interp_case("alpha = 0 must give theta_a", gen, 0.0),
        _interp_case("alpha = 1 must give theta_b", gen, 1.0),
        _interp_case("alpha = 0.2: 80% theta_a, 20% theta_b", gen, 0.2),
    ]


def _interp_extrapolation() -> list[Case]:
    gen = _gen(3)
    return [
        _interp_case("alpha = -0.5 (before theta_a)", gen, -0.5),
        _interp_case("alpha = 1.5 (beyond theta_b)", gen, 1.5),
        _interp_case("alpha = 2.0", gen, 2.0),
    ]


def _interp_dtype() -> list[Case]:
    gen = _gen(4)
    return [
        _interp_case("float64 parameters, alpha = 0.3", gen, 0.3, dtype=torch.float64),
        Case(
            "float64 MLP parameters, alpha = 0.6",
            (_params(1, dtype="float64"), _params(2, dtype="float64"), 0.6),
        ),
    ]


def _interp_errors() -> list[Case]:
    gen = _gen(5)
    a = _random_params(gen)
    b = _random_params(gen)
    extra = {**b, "extra.bias": torch.zeros(2)}
    missing = {k: v for k, v in b.items() if k != "layer.bias"}
    reshaped = {**b, "layer.weight": torch.zeros(2, 3)}
    return [
        Case("theta_b has an extra key", (a, extra, 0.5)),
        Case("theta_b lacks the key 'layer.bias'", (a, missing, 0.5)),
        Case("same keys, 'layer.weight' has shape (2, 3) in theta_b", (a, reshaped, 0.5)),
        Case("theta_a lacks a key of theta_b", (missing, a, 0.5)),
    ]


def _interp_no_mutation() -> list[Case]:
    gen = _gen(6)
    return [
        _interp_case("alpha = 0.4", gen, 0.4),
        _interp_case("alpha = 0", gen, 0.0),
        _interp_case("alpha = 1", gen, 1.0),
    ]


_interp_verdict = _reference_verdict(
    "interpolate",
    ref.interpolate,
    hint=_INTERP_HINT,
    diagnose=_interp_diagnose,
    compare=_dict_compare(),
)

make_checks(
    "interpolate",
    [
        Part(
            "basic",
            "points between two parameter dicts",
            _interp_basic,
            reordered_keys_may_raise(_interp_verdict),
        ),
        Part(
            "alpha_convention",
            "alpha = 0 is theta_a, alpha = 1 is theta_b",
            _interp_alpha_convention,
            _interp_verdict,
        ),
        Part(
            "extrapolation",
            "alphas outside [0, 1] extrapolate",
            _interp_extrapolation,
            _interp_verdict,
        ),
        Part("dtype", "float64 parameters stay float64", _interp_dtype, _interp_verdict),
        Part(
            "errors",
            "ValueError when keys or shapes differ",
            _interp_errors,
            raises_value_error(
                "interpolate",
                hint="compare the key sets and every shape first "
                "and raise ValueError naming theta_a/theta_b",
            ),
        ),
        Part(
            "no_mutation",
            "theta_a and theta_b are left unchanged",
            _interp_no_mutation,
            leaves_inputs_unchanged(
                "interpolate", ("theta_a", "theta_b", "alpha"), also=_interp_verdict
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# loss_along_path

_PATH_HINT = (
    "for each alpha: params = path(alpha); logits = torch.func.functional_call(model, params, "
    "(X,)); loss = F.cross_entropy(logits, y); return the losses as one 1-D tensor"
)


def _compare_losses(got: Any, expected: Any, what: str) -> str | None:
    """A 1-D floating tensor of the right length and values (float32 or float64 accepted)."""
    if type(got) is torch.Tensor and not got.is_floating_point():
        return f"{what} has dtype {got.dtype}; losses are floating-point numbers"
    return compare_tensor(
        got, expected, what=what, rtol=LOSS_RTOL, atol=LOSS_ATOL, check_dtype=False
    )


def _losses_in_mode(case: Case, training: bool) -> torch.Tensor:
    (model, path, X, y, alphas), _ = fresh_inputs(case)
    model.train(training)
    return ref.loss_along_path(model, path, X, y, alphas)


def _path_diagnose(case: Case, got: Any) -> str | None:
    (model, *_), _ = fresh_inputs(case)
    here, other = ("train", "eval") if model.training else ("eval", "train")
    if _close(got, _losses_in_mode(case, not model.training)) and not _close(
        got, _losses_in_mode(case, model.training)
    ):
        return (
            f"Your losses are those of the model in {other} mode, but the model is in {here} "
            "mode: evaluate it in the mode it is in (do not call model.eval() or model.train())."
        )
    return None


def _path_args(model: Build, path: Build, alphas: Any, offset: int) -> tuple:
    X, y = _data(_gen(100 + offset))
    return (model, path, X, y, alphas)


def _linear(seed_a: int, seed_b: int, **kw: Any) -> Build:
    return Build("linear_path", {"theta_a": _params(seed_a), "theta_b": _params(seed_b), **kw})


def _path_basic() -> list[Case]:
    bezier = Build(
        "bezier_path", {"theta_a": _params(1), "theta_mid": _params(3), "theta_b": _params(2)}
    )
    return [
        Case(
            "linear path between two MLPs, alphas [0, 0.25, 0.5, 0.75, 1]",
            _path_args(_mlp(0), _linear(1, 2), [0.0, 0.25, 0.5, 0.75, 1.0], 1),
        ),
        Case(
            "quadratic Bezier path, alphas [0, 0.3, 0.5, 1]",
            _path_args(_mlp(0), bezier, [0.0, 0.3, 0.5, 1.0], 2),
        ),
        Case("a single alpha [0.5]", _path_args(_mlp(0), _linear(4, 5), [0.5], 3)),
        Case(
            "alphas outside [0, 1]: [-0.5, 1.5]", _path_args(_mlp(0), _linear(1, 2), [-0.5, 1.5], 4)
        ),
    ]


def _path_alphas() -> list[Case]:
    return [
        Case(
            "alphas as a float32 tensor torch.linspace(0, 1, 6)",
            _path_args(_mlp(0), _linear(1, 2), torch.linspace(0, 1, 6), 5),
        ),
        Case(
            "alphas as a float64 tensor",
            _path_args(
                _mlp(0), _linear(2, 3), torch.tensor([0.0, 0.1, 0.9, 1.0], dtype=torch.float64), 6
            ),
        ),
        Case("alphas as a tuple", _path_args(_mlp(0), _linear(3, 1), (0.0, 0.5, 1.0), 7)),
    ]


def _path_mode() -> list[Case]:
    hint = (
        "this model's output depends on its mode (like dropout); evaluate it in the mode "
        "it is in and leave that mode unchanged"
    )
    cases = [
        Case(
            "a mode-dependent model in train mode",
            _path_args(_mode_scaled(0, train_mode=True), _linear(1, 2), [0.0, 0.5, 1.0], 8),
            hint=hint,
        ),
        Case(
            "a mode-dependent model in eval mode",
            _path_args(_mode_scaled(0, train_mode=False), _linear(1, 2), [0.0, 0.5, 1.0], 9),
            hint=hint,
        ),
        Case(
            "a plain MLP in train mode",
            _path_args(_mlp(0, train_mode=True), _linear(2, 3), [0.0, 0.5, 1.0], 10),
        ),
    ]
    return _probing_model(cases)


def _path_gradients() -> list[Case]:
    return [
        Case(
            "path endpoints that require grad (like dict(model.named_parameters()))",
            _path_args(_mlp(0), _linear(1, 2, requires_grad=True), [0.0, 0.5, 1.0], 11),
        ),
    ]


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


def _path_no_mutation() -> list[Case]:
    return _probing_model(
        [
            Case("a model in eval mode", _path_args(_mlp(0), _linear(1, 2), [0.0, 0.5, 1.0], 12)),
            Case(
                "a model in train mode",
                _path_args(_mlp(0, train_mode=True), _linear(1, 2), [0.25, 0.75], 13),
            ),
            Case(
                "alphas as a tensor",
                _path_args(_mlp(0), _linear(2, 1), torch.tensor([0.0, 1.0]), 14),
            ),
        ]
    )


_PATH_ARGS = ("model", "path", "X", "y", "alphas")
_path_verdict = _reference_verdict(
    "loss_along_path",
    ref.loss_along_path,
    hint=_PATH_HINT,
    diagnose=_path_diagnose,
    compare=_compare_losses,
)

make_checks(
    "loss_along_path",
    [
        Part("basic", "losses along linear and Bezier paths", _path_basic, _path_verdict),
        Part("alphas", "alphas as a tensor or a tuple", _path_alphas, _path_verdict),
        Part(
            "mode",
            "evaluated in the model's current mode, which stays unchanged",
            _path_mode,
            _model_params_kept(
                "loss_along_path",
                leaves_inputs_unchanged(
                    "loss_along_path",
                    _PATH_ARGS,
                    also=_path_verdict,
                    hint="do not call model.eval() or model.train(): functional_call evaluates "
                    "the model in the mode it is in",
                ),
            ),
        ),
        Part(
            "gradients",
            "the result does not require grad",
            _path_gradients,
            _no_grad_verdict(
                "loss_along_path", _path_verdict, hint="evaluate inside `with torch.no_grad():`"
            ),
        ),
        Part(
            "no_mutation",
            "the model's parameters and mode are left unchanged",
            _path_no_mutation,
            _model_params_kept(
                "loss_along_path",
                leaves_inputs_unchanged(
                    "loss_along_path",
                    _PATH_ARGS,
                    also=_path_verdict,
                    hint="do not load the path's parameters into the model (load_state_dict, "
                    "copy_): pass them to torch.func.functional_call instead",
                ),
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# barrier_height

_BARRIER_HINT = "barrier = max(losses) − (losses[0] + losses[-1]) / 2"


def _barrier_basic() -> list[Case]:
    return [
        Case(
            "worked example 1: losses [0.32, 0.55, 1.42, 0.58, 0.33]",
            ([0.32, 0.55, 1.42, 0.58, 0.33],),
        ),
        Case("two values [0.2, 0.4]: the max is an endpoint", ([0.2, 0.4],)),
        Case("a flat path", ([0.5, 0.5, 0.5],)),
    ]


def _barrier_conventions() -> list[Case]:
    gen = torch.Generator().manual_seed(11)
    return [
        Case("losses as a float32 tensor", (torch.tensor([0.3, 0.9, 0.35]),)),
        Case("losses as a float64 tensor", (torch.rand(9, generator=gen, dtype=torch.float64),)),
        Case(
            "losses as a tuple",
            ((1.0, 0.2, 0.1),),
            hint="the maximum can be an endpoint: max(losses) runs over all values, "
            "endpoints included",
        ),
    ]


def _barrier_errors() -> list[Case]:
    return [
        Case("one value", ([0.3],)),
        Case("no values", ([],)),
        Case("a NaN inside", ([0.3, float("nan"), 0.4],)),
    ]


def _barrier_no_mutation() -> list[Case]:
    return [Case("losses tensor", (torch.tensor([0.3, 1.2, 0.2]),))]


make_checks(
    "barrier_height",
    [
        Part(
            "basic",
            "worked example and simple paths",
            _barrier_basic,
            matches_reference("barrier_height", ref.barrier_height, hint=_BARRIER_HINT),
        ),
        Part(
            "conventions",
            "tensors and tuples in, a float out",
            _barrier_conventions,
            matches_reference("barrier_height", ref.barrier_height, hint=_BARRIER_HINT),
        ),
        Part(
            "errors",
            "ValueError for too few values or NaN",
            _barrier_errors,
            raises_value_error(
                "barrier_height", hint="check len(losses) >= 2 and that no loss is NaN"
            ),
        ),
        Part(
            "no_mutation",
            "the losses are left unchanged",
            _barrier_no_mutation,
            leaves_inputs_unchanged("barrier_height", ("losses",)),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# interpolated_barrier

_INTERP_BARRIER_HINT = (
    "for every i subtract the straight line between the endpoint losses at alphas[i]: "
    "max_i [losses[i] − ((1 − alphas[i])·losses[0] + alphas[i]·losses[-1])], with alphas "
    "evenly spaced i / (n − 1) by default"
)


def _interp_barrier_diagnose(case: Case, got: Any) -> str | None:
    (losses, *rest), _ = fresh_inputs(case)
    value = as_scalar(got)
    if value is None:
        return None
    if math.isclose(value, ref.barrier_height(losses), rel_tol=1e-4, abs_tol=1e-6):
        return (
            "Your result equals barrier_height (max minus the endpoint average). "
            "interpolated_barrier subtracts, at each alpha, the loss on the straight line "
            "between the endpoint losses."
        )
    if value < -IB_NEGATIVE_TOL:
        return (
            "Your result is negative, but the max runs over every i, the endpoints included, "
            "where the excess over the line is 0: a path that stays below the line has a "
            "barrier of 0, never less."
        )
    values = as_float_list(losses, "losses")
    n = len(values)
    alphas = as_float_list(rest[0], "alphas") if rest else [i / (n - 1) for i in range(n)]
    swapped = max(v - (a * values[0] + (1 - a) * values[-1]) for v, a in zip(values, alphas))
    if math.isclose(value, swapped, rel_tol=1e-4, abs_tol=1e-6):
        return (
            "Your line runs the wrong way: at alpha the line's value is "
            "(1 − alpha)·losses[0] + alpha·losses[-1] (alpha = 0 is losses[0])."
        )
    return None


_interp_barrier_verdict = _reference_verdict(
    "interpolated_barrier",
    ref.interpolated_barrier,
    hint=_INTERP_BARRIER_HINT,
    diagnose=_interp_barrier_diagnose,
)


def _ib_default_alphas() -> list[Case]:
    return [
        Case(
            "worked example 1 (default alphas 0, 0.25, ..., 1)", ([0.32, 0.55, 1.42, 0.58, 0.33],)
        ),
        Case(
            "endpoints far apart: [0.1, 0.9, 1.0]",
            ([0.1, 0.9, 1.0],),
            hint="here barrier_height would be 0.45 but the line at alpha = 0.5 is at 0.55",
        ),
        Case("four losses [0.0, 0.8, 0.9, 2.0] (alphas 0, 1/3, 2/3, 1)", ([0.0, 0.8, 0.9, 2.0],)),
        Case("two losses [0.4, 0.2]: the barrier is 0", ([0.4, 0.2],)),
        Case("losses as a float32 tensor", (torch.tensor([0.5, 0.4, 1.1, 0.2]),)),
        Case(
            "a path below the line [0.5, 0.2, 0.1, 0.3]: the barrier is 0",
            ([0.5, 0.2, 0.1, 0.3],),
            hint="the max includes the endpoints (excess 0), so the barrier is never negative",
        ),
    ]


def _ib_explicit_alphas() -> list[Case]:
    return [
        Case("uneven alphas [0, 0.1, 0.5, 1]", ([0.2, 0.5, 0.9, 1.2], [0.0, 0.1, 0.5, 1.0])),
        Case(
            "uneven alphas as a float64 tensor",
            (
                torch.tensor([1.0, 0.6, 0.7, 0.3], dtype=torch.float64),
                torch.tensor([0.0, 0.7, 0.8, 1.0], dtype=torch.float64),
            ),
        ),
        Case(
            "alphas that differ from the even spacing of the same length",
            ([0.3, 0.9, 0.5, 0.4, 0.6], [0.0, 0.05, 0.1, 0.95, 1.0]),
        ),
        Case(
            "uneven alphas [0, 0.2, 0.7, 1], a path below the line: the barrier is 0",
            ([0.6, 0.3, 0.2, 0.5], [0.0, 0.2, 0.7, 1.0]),
            hint="the max includes the endpoints (excess 0), so the barrier is never negative",
        ),
        Case(
            "alphas[0] = 2e-7 and alphas[-1] = 1 − 3e-7 (within the tolerance 1e-6)",
            ([0.2, 0.7, 0.4], [2e-7, 0.5, 1.0 - 3e-7]),
            hint="alphas[0] may differ from 0 and alphas[-1] from 1 by up to 1e-6",
        ),
    ]


def _ib_errors() -> list[Case]:
    return [
        Case("one loss", ([0.3],)),
        Case("no losses", ([],)),
        Case("a NaN loss", ([0.3, float("nan"), 0.4],)),
        Case("a NaN first loss", ([float("nan"), 0.5, 0.4],)),
        Case("3 losses but 4 alphas", ([0.3, 0.5, 0.4], [0.0, 0.3, 0.6, 1.0])),
        Case("alphas[0] = 0.1 instead of 0", ([0.3, 0.5, 0.4], [0.1, 0.5, 1.0])),
        Case("alphas[-1] = 0.9 instead of 1", ([0.3, 0.5, 0.4], [0.0, 0.5, 0.9])),
        Case(
            "alphas[-1] = 1.0001 (beyond the tolerance 1e-6)", ([0.3, 0.5, 0.4], [0.0, 0.5, 1.0001])
        ),
    ]


def _ib_no_mutation() -> list[Case]:
    return [
        Case(
            "losses and alphas tensors",
            (torch.tensor([0.3, 1.2, 0.2]), torch.tensor([0.0, 0.4, 1.0])),
        ),
    ]


make_checks(
    "interpolated_barrier",
    [
        Part(
            "default_alphas",
            "evenly spaced alphas by default",
            _ib_default_alphas,
            _interp_barrier_verdict,
        ),
        Part(
            "explicit_alphas",
            "uneven alphas given explicitly",
            _ib_explicit_alphas,
            _interp_barrier_verdict,
        ),
        Part(
            "errors",
            "ValueError for too few values, NaN, lengths that differ or bad ends",
            _ib_errors,
            raises_value_error(
                "interpolated_barrier",
                hint="check len(losses) >= 2, NaN, len(alphas) == len(losses), "
                "|alphas[0]| <= 1e-6 and |alphas[-1] − 1| <= 1e-6",
            ),
        ),
        Part(
            "no_mutation",
            "losses and alphas are left unchanged",
            _ib_no_mutation,
            leaves_inputs_unchanged(
                "interpolated_barrier", ("losses", "alphas"), also=_interp_barrier_verdict
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# is_linearly_connected

_CONNECTED_HINT = "connected when every loss ≤ max(losses[0], losses[-1]) + delta"


def _ilc_basic() -> list[Case]:
    return [
        Case(
            "worked example 1 with delta 0.1: not connected", ([0.32, 0.55, 1.42, 0.58, 0.33], 0.1)
        ),
        Case(
            "practice problem 1, pair (1, 2): losses [0.15, 0.18, 0.16], delta 0.05",
            ([0.15, 0.18, 0.16], 0.05),
        ),
        Case(
            "practice problem 1, pair (2, 3): losses [0.16, 0.95, 0.17], delta 0.05",
            ([0.16, 0.95, 0.17], 0.05),
        ),
        Case("a flat path, delta 0", ([0.3, 0.3, 0.3], 0.0)),
        Case(
            "a peak away from the middle: [0.1, 0.5, 0.12, 0.1, 0.1], delta 0.05",
            ([0.1, 0.5, 0.12, 0.1, 0.1], 0.05),
            hint="check every loss on the path, not only the one at alpha = 0.5",
        ),
        Case(
            "an even number of losses, the peak second: [0.3, 0.9, 0.31, 0.3], delta 0.1",
            ([0.3, 0.9, 0.31, 0.3], 0.1),
            hint="check every loss on the path, not only a middle one",
        ),
    ]


def _ilc_threshold() -> list[Case]:
    return [
        Case(
            "a loss exactly at max(endpoints) + delta counts as connected: "
            "[0.5, 0.75, 0.5], delta 0.25",
            ([0.5, 0.75, 0.5], 0.25),
            hint="the comparison is ≤, not <",
        ),
        Case(
            "the threshold uses the larger endpoint: [0.2, 0.55, 0.6], delta 0",
            ([0.2, 0.55, 0.6], 0.0),
            hint="the threshold is max(losses[0], losses[-1]) + delta, not the smaller "
            "endpoint or their mean",
        ),
        Case("the larger endpoint first: [0.9, 0.95, 0.1], delta 0.1", ([0.9, 0.95, 0.1], 0.1)),
        Case(
            "just above the threshold: [0.5, 0.6251, 0.5], delta 0.125", ([0.5, 0.6251, 0.5], 0.125)
        ),
    ]


def _ilc_float64() -> list[Case]:
    hint = (
        "compare in float64: the float32 value 0.3 is 0.30000001192..., which exceeds "
        "0.2 (as float32, 0.20000000298...) + 0.1 = 0.30000000298... in float64, but not "
        "after rounding the threshold to float32. Convert the losses to float64 (or Python "
        "floats) before adding delta"
    )
    return [
        Case(
            "float32 tensor [0.2, 0.3, 0.2], delta 0.1: 0.3 is above the threshold in float64",
            (torch.tensor([0.2, 0.3, 0.2]), 0.1),
            hint=hint,
        ),
        Case(
            "float32 tensor [0.0, 0.1, 0.0], delta 0.1: float32(0.1) > 0.1 in float64",
            (torch.tensor([0.0, 0.1, 0.0]), 0.1),
            hint=hint,
        ),
        Case(
            "float32 tensor [0.3, 0.4, 0.3], delta 0.1: within the threshold",
            (torch.tensor([0.3, 0.4, 0.3]), 0.1),
        ),
        Case("float64 tensor", (torch.tensor([0.1, 0.35, 0.3], dtype=torch.float64), 0.05)),
    ]


def _ilc_errors() -> list[Case]:
    return [
        Case("one value", ([0.3], 0.1)),
        Case("no values", ([], 0.1)),
        Case("a NaN loss", ([0.3, float("nan"), 0.3], 0.1)),
        Case("a NaN endpoint loss", ([0.3, 0.2, float("nan")], 0.1)),
    ]


def _ilc_compare(got: Any, expected: Any, what: str) -> str | None:
    return compare_bool(got, expected, what=what)


_ilc_verdict = _reference_verdict(
    "is_linearly_connected",
    ref.is_linearly_connected,
    hint=_CONNECTED_HINT,
    compare=_ilc_compare,
)

make_checks(
    "is_linearly_connected",
    [
        Part("basic", "the seed's examples, a bool out", _ilc_basic, _ilc_verdict),
        Part("threshold", "≤ max(endpoint losses) + delta", _ilc_threshold, _ilc_verdict),
        Part("float64", "float32 losses compared in float64", _ilc_float64, _ilc_verdict),
        Part(
            "errors",
            "ValueError for too few values or NaN",
            _ilc_errors,
            raises_value_error(
                "is_linearly_connected", hint="check len(losses) >= 2 and that no loss is NaN"
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# bernstein_weights

_BERNSTEIN_HINT = (
    "w_k = C(degree, k)·alpha^k·(1 − alpha)^(degree − k) for k = 0..degree "
    "(math.comb; 0**0 == 1), returned as a float64 tensor of shape (degree + 1,)"
)


def _bernstein_compare(*, check_dtype: bool) -> Callable[[Any, Any, str], str | None]:
    def compare(got: Any, expected: Any, what: str) -> str | None:
        return compare_tensor(
            got,
            expected,
            what=what,
            rtol=BERNSTEIN_RTOL,
            atol=BERNSTEIN_ATOL,
            check_dtype=check_dtype,
        )

    return compare


def _bernstein_diagnose(case: Case, got: Any) -> str | None:
    degree, alpha = case.args
    if _close(got, ref.bernstein_weights(degree, 1.0 - alpha)):
        return (
            "Your weights are in reverse order: w_0 = (1 − alpha)^degree belongs to theta_0 "
            "(alpha = 0), w_degree = alpha^degree to the last point."
        )
    if type(got) is torch.Tensor and got.is_floating_point() and bool(torch.isnan(got).any()):
        return "Your weights contain NaN: at alpha = 0 or 1 use 0**0 = 1 (no log of 0)."
    return None


def _bernstein_verdict(*, check_dtype: bool) -> Verdict:
    return _reference_verdict(
        "bernstein_weights",
        ref.bernstein_weights,
        hint=_BERNSTEIN_HINT,
        diagnose=_bernstein_diagnose,
        compare=_bernstein_compare(check_dtype=check_dtype),
    )


def _bern_basic() -> list[Case]:
    return [
        Case("degree 2, alpha 0.5: [0.25, 0.5, 0.25]", (2, 0.5)),
        Case("degree 1, alpha 0.25: [0.75, 0.25]", (1, 0.25)),
        Case("degree 3, alpha 0.3", (3, 0.3)),
        Case("degree 2, alpha 0.8", (2, 0.8)),
    ]


def _bern_endpoints() -> list[Case]:
    cases = []
    for degree in range(1, 7):
        cases.append(Case(f"degree {degree}, alpha 0: [1, 0, ..., 0]", (degree, 0.0)))
        cases.append(Case(f"degree {degree}, alpha 1: [0, ..., 0, 1]", (degree, 1.0)))
    return cases


def _bern_random() -> list[Case]:
    gen = _gen(20)
    alphas = torch.rand(6, generator=gen, dtype=torch.float64).tolist()
    return [Case(f"degree {d}, alpha {a:.4f}", (d, a)) for d, a in zip(range(1, 7), alphas)]


def _bern_dtype() -> list[Case]:
    return [
        Case("degree 2, alpha 0.5: a float64 tensor of shape (3,)", (2, 0.5)),
        Case("degree 5, alpha 0.1: a float64 tensor of shape (6,)", (5, 0.1)),
    ]


def _bern_errors() -> list[Case]:
    return [
        Case("degree 0", (0, 0.5)),
        Case("degree -1", (-1, 0.5)),
        Case("alpha -0.1", (2, -0.1)),
        Case("alpha 1.5", (2, 1.5)),
        Case("degree 0 and alpha 0", (0, 0.0)),
    ]


make_checks(
    "bernstein_weights",
    [
        Part(
            "basic",
            "Bernstein weights of low degree",
            _bern_basic,
            _bernstein_verdict(check_dtype=False),
        ),
        Part(
            "endpoints",
            "alpha = 0 and alpha = 1 for degrees 1 to 6",
            _bern_endpoints,
            _bernstein_verdict(check_dtype=False),
        ),
        Part(
            "random",
            "degrees 1 to 6 at random alphas",
            _bern_random,
            _bernstein_verdict(check_dtype=False),
        ),
        Part(
            "dtype",
            "a float64 tensor of shape (degree + 1,)",
            _bern_dtype,
            _bernstein_verdict(check_dtype=True),
        ),
        Part(
            "errors",
            "ValueError for degree < 1 or alpha outside [0, 1]",
            _bern_errors,
            raises_value_error(
                "bernstein_weights", hint="check degree >= 1 and 0 <= alpha <= 1 first"
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# bezier_point

_BEZIER_HINT = (
    "theta(alpha) = (1 − alpha)²·theta_a + 2·alpha·(1 − alpha)·theta_mid + alpha²·theta_b "
    "for every key"
)


def _bezier_without_factor_2(theta_a: dict, theta_mid: dict, theta_b: dict, alpha: float):
    return {
        k: (1 - alpha) ** 2 * theta_a[k]
        + alpha * (1 - alpha) * theta_mid[k]
        + alpha**2 * theta_b[k]
        for k in theta_a
    }


def _bezier_through_mid(theta_a: dict, theta_mid: dict, theta_b: dict, alpha: float):
    """The parabola through theta_a, theta_mid (at alpha = 0.5) and theta_b (a mistake)."""
    return {
        k: (1 - alpha) * (1 - 2 * alpha) * theta_a[k]
        + 4 * alpha * (1 - alpha) * theta_mid[k]
        + alpha * (2 * alpha - 1) * theta_b[k]
        for k in theta_a
    }


def _bezier_diagnose(case: Case, got: Any) -> str | None:
    (theta_a, theta_mid, theta_b, alpha), _ = fresh_inputs(case)
    mid_moved, b_moved = _rekeyed(theta_a, theta_mid), _rekeyed(theta_a, theta_b)
    if (mid_moved is not None or b_moved is not None) and _matches_quietly(
        lambda: ref.bezier_point(theta_a, mid_moved or theta_mid, b_moved or theta_b, alpha), got
    ):
        return _BY_POSITION
    if _close(got, ref.interpolate(theta_a, theta_b, alpha)):
        return (
            "Your result is the straight line interpolate(theta_a, theta_b, alpha): theta_mid "
            "is missing. The middle term is 2·alpha·(1 − alpha)·theta_mid."
        )
    if _close(got, _bezier_through_mid(theta_a, theta_mid, theta_b, alpha)):
        return (
            "Your curve passes through theta_mid at alpha = 0.5 (an interpolating parabola). "
            "In the quadratic Bezier curve theta_mid is a control point, which the curve does "
            "not pass through: use the weights (1 − alpha)², 2·alpha·(1 − alpha) and alpha²."
        )
    if _close(got, _bezier_without_factor_2(theta_a, theta_mid, theta_b, alpha)):
        return (
            "Your result lacks the factor 2 of the middle term: it is 2·alpha·(1 − alpha)·"
            "theta_mid (the weights (1 − alpha)², 2·alpha·(1 − alpha), alpha² sum to 1)."
        )
    if _close(got, ref.bezier_point(theta_a, theta_mid, theta_b, 1.0 - alpha)):
        return (
            f"Your result is the point at 1 − alpha = {1.0 - alpha:g}: alpha = 0 must give "
            "theta_a and alpha = 1 theta_b."
        )
    return None


def _bezier_case(
    label: str, gen: torch.Generator, alpha: float, dtype: torch.dtype = torch.float32
) -> Case:
    a, mid, b = (_random_params(gen, dtype) for _ in range(3))
    return Case(label, (a, mid, b, alpha))


def _bezier_endpoints() -> list[Case]:
    gen = _gen(30)
    return [
        _bezier_case("alpha = 0 gives theta_a", gen, 0.0),
        _bezier_case("alpha = 1 gives theta_b", gen, 1.0),
    ]


def _bezier_basic() -> list[Case]:
    gen = _gen(31)
    return [
        _bezier_case("alpha = 0.5: 0.25·theta_a + 0.5·theta_mid + 0.25·theta_b", gen, 0.5),
        _bezier_case("alpha = 0.3", gen, 0.3),
        _bezier_case("alpha = 0.8", gen, 0.8),
        Case("MLP parameters, alpha = 0.6", (_params(1), _params(3), _params(2), 0.6)),
        _bezier_twin_case(),
    ]


def _bezier_twin_case() -> Case:
    gen = _gen(36)
    a, mid, b = (_twin_params(gen) for _ in range(3))
    return Case(
        "theta_mid and theta_b hold theta_a's keys in another order, alpha = 0.4",
        (a, _swapped(mid), _swapped(b), 0.4),
        hint="dicts with the same keys may list them in different orders: pair the tensors by key",
    )


def _bezier_linear_midpoint() -> list[Case]:
    gen = _gen(32)
    cases = []
    for alpha in (0.25, 0.5, 0.9):
        a, b = _random_params(gen), _random_params(gen)
        mid = {k: (a[k] + b[k]) / 2 for k in a}
        cases.append(
            Case(f"theta_mid = (theta_a + theta_b) / 2, alpha = {alpha}", (a, mid, b, alpha))
        )
    return cases


def _bezier_dtype() -> list[Case]:
    gen = _gen(33)
    return [_bezier_case("float64 parameters, alpha = 0.4", gen, 0.4, torch.float64)]


def _bezier_errors() -> list[Case]:
    gen = _gen(34)
    a, mid, b = (_random_params(gen) for _ in range(3))
    missing = {k: v for k, v in mid.items() if k != "scale"}
    extra = {**b, "extra.bias": torch.zeros(2)}
    reshaped = {**mid, "layer.bias": torch.zeros(1, 3)}
    return [
        Case("theta_mid lacks the key 'scale'", (a, missing, b, 0.5)),
        Case("theta_b has an extra key", (a, mid, extra, 0.5)),
        Case("theta_mid's 'layer.bias' has shape (1, 3) instead of (3,)", (a, reshaped, b, 0.5)),
    ]


def _bezier_no_mutation() -> list[Case]:
    gen = _gen(35)
    return [_bezier_case("alpha = 0.3", gen, 0.3), _bezier_case("alpha = 0", gen, 0.0)]


def _interpolate_of_ends(theta_a: dict, theta_mid: dict, theta_b: dict, alpha: float) -> dict:
    return ref.interpolate(theta_a, theta_b, alpha)


_bezier_verdict = _reference_verdict(
    "bezier_point",
    ref.bezier_point,
    hint=_BEZIER_HINT,
    diagnose=_bezier_diagnose,
    compare=_dict_compare(),
)

make_checks(
    "bezier_point",
    [
        Part(
            "endpoints",
            "alpha = 0 gives theta_a, alpha = 1 gives theta_b",
            _bezier_endpoints,
            _bezier_verdict,
        ),
        Part(
            "basic",
            "points of the quadratic Bezier curve",
            _bezier_basic,
            reordered_keys_may_raise(_bezier_verdict),
        ),
        Part(
            "linear_midpoint",
            "with theta_mid the endpoints' average it equals interpolate",
            _bezier_linear_midpoint,
            _reference_verdict(
                "bezier_point",
                _interpolate_of_ends,
                diagnose=_bezier_diagnose,
                compare=_dict_compare(),
                hint="with theta_mid = (theta_a + theta_b) / 2 the curve is the straight "
                "line: (1 − alpha)² + alpha·(1 − alpha) = 1 − alpha",
            ),
        ),
        Part("dtype", "float64 parameters stay float64", _bezier_dtype, _bezier_verdict),
        Part(
            "errors",
            "ValueError when keys or shapes differ",
            _bezier_errors,
            raises_value_error(
                "bezier_point",
                hint="check that theta_a, theta_mid and theta_b have the same keys and shapes",
            ),
        ),
        Part(
            "no_mutation",
            "the three parameter dicts are left unchanged",
            _bezier_no_mutation,
            leaves_inputs_unchanged(
                "bezier_point", ("theta_a", "theta_mid", "theta_b", "alpha"), also=_bezier_verdict
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# train_bezier_midpoint (properties: the order of random draws is free)

_TBM = "train_bezier_midpoint"
_TBM_ARGS = ("model", "theta_a", "theta_b", "X", "y")
_TBM_HINT = (
    "theta_mid starts at (theta_a + theta_b) / 2 as new leaf tensors with requires_grad; "
    "g = torch.Generator().manual_seed(seed); each step draw alpha ~ U(0, 1) and a minibatch "
    "of batch_size indices with g, compute the loss at bezier_point(theta_a, theta_mid, "
    "theta_b, alpha) with torch.func.functional_call, and take one torch.optim.Adam(lr=lr) "
    "step on theta_mid; return detached copies"
)


def _barrier_args(*, spy: bool = False, train_mode: bool = False) -> tuple:
    X, y = barrier_data()
    kind = "spy_mlp" if spy else "mlp"
    params: dict[str, Any] = {"seed": 0, "train_mode": train_mode}
    if not spy:
        params.update({"hidden": (16, 16), "out_dim": 4})
    model = Build(kind, params)
    return (
        model,
        Build("barrier_endpoint", {"seed": 1}),
        Build("barrier_endpoint", {"seed": 2}),
        X,
        y,
    )


def _small_args(*, dtype: str = "float32", requires_grad: bool = False) -> tuple:
    X, y = _data(_gen(40), getattr(torch, dtype))
    return (
        _mlp(0, dtype=dtype),
        _params(1, dtype=dtype, requires_grad=requires_grad),
        _params(2, dtype=dtype, requires_grad=requires_grad),
        X,
        y,
    )


def _params_problem(got: Any, like: Mapping[str, torch.Tensor], what: str) -> str | None:
    """Keys, exact types, shapes, dtypes, detached and finite values like `like`."""
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of tensors, got {fmt_value(got)}"
    if set(got.keys()) != set(like.keys()):
        missing = [k for k in like if k not in got]
        extra = [k for k in got if k not in like]
        return f"{what} has the wrong keys: missing {missing!r}, unexpected {extra!r}"
    for key, ref_value in like.items():
        value = got[key]
        if type(value) is not torch.Tensor:
            return f"{what}[{key!r}] should be a torch.Tensor, got {fmt_value(value)}"
        if value.shape != ref_value.shape:
            return (
                f"{what}[{key!r}] has shape {tuple(value.shape)}, expected "
                f"{tuple(ref_value.shape)} (theta_a's)"
            )
        if value.dtype != ref_value.dtype:
            return f"{what}[{key!r}] has dtype {value.dtype}, expected {ref_value.dtype}"
        if value.requires_grad or value.grad_fn is not None:
            return (
                f"{what}[{key!r}] requires grad: return detached tensors "
                "(e.g. {k: v.detach().clone() for k, v in theta_mid.items()})"
            )
        if not bool(torch.isfinite(value).all()):
            return f"{what}[{key!r}] contains NaN or infinite values"
    return None


def _tbm_result(case: Case, outcome: Outcome) -> tuple[str | None, Any, tuple]:
    """(message, returned dict, fresh args) after the common checks of a returned result."""
    failure = call_failure(outcome, _TBM)
    if failure:
        return with_hint(failure, case, ""), None, ()
    args, _ = fresh_inputs(case)
    msg = _params_problem(outcome.value, args[1], f"the result of `{_TBM}`")
    if msg:
        return with_hint(msg, case, _TBM_HINT), None, args
    return None, outcome.value, args


def _average(theta_a: Mapping[str, torch.Tensor], theta_b: Mapping[str, torch.Tensor]) -> dict:
    return {k: (theta_a[k].detach() + theta_b[k].detach()) / 2 for k in theta_a}


def _tbm_start_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    theta_a, theta_b = args[1], args[2]
    msg = compare_tensor_dict(got, _average(theta_a, theta_b), what=f"the result of `{_TBM}`")
    if msg:
        if _close(got, {k: v.detach() for k, v in theta_a.items()}):
            msg += "\nYour result is theta_a."
        return with_hint(
            msg + "\nWith steps = 0 nothing is trained: the result is the starting "
            "point theta_mid = (theta_a + theta_b) / 2.",
            case,
            "",
        )
    return None


def _tbm_start() -> list[Case]:
    return [
        Case(
            "steps = 0 on two MLPs' parameters",
            _small_args(),
            {"steps": 0, "batch_size": 8, "seed": 0},
        ),
        Case(
            "steps = 0 with float64 parameters and data",
            _small_args(dtype="float64"),
            {"steps": 0, "lr": 0.01, "batch_size": 12},
        ),
        Case(
            "steps = 0 with endpoints that require grad",
            _small_args(requires_grad=True),
            {"steps": 0, "lr": 0.05, "batch_size": 4, "seed": 3},
        ),
    ]


def _tbm_result_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, _, _ = _tbm_result(case, outcome)
    return msg


def _tbm_contract() -> list[Case]:
    return _probing_model(
        [
            Case(
                "5 steps on the two trained solutions",
                _barrier_args(),
                {"steps": 5, "lr": 0.01, "batch_size": 16, "seed": 0},
            ),
            Case(
                "5 steps with the model in train mode",
                _barrier_args(train_mode=True),
                {"steps": 5, "lr": 0.01, "batch_size": 16, "seed": 1},
            ),
            Case(
                "3 steps with float64 parameters and data",
                _small_args(dtype="float64"),
                {"steps": 3, "lr": 0.01, "batch_size": 4, "seed": 0},
            ),
            Case(
                "3 steps with endpoints that require grad",
                _small_args(requires_grad=True),
                {"steps": 3, "lr": 0.01, "batch_size": 4, "seed": 0},
            ),
        ]
    )


def _tbm_adam_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    lr = float(case.kwargs["lr"])
    start = _average(args[1], args[2])
    moves = torch.cat([(got[k].double() - start[k].double()).abs().reshape(-1) for k in start])
    if int(case.kwargs["steps"]) > 1:
        return _tbm_adam_state_verdict(case, moves, lr)
    largest = float(moves.max())
    moved = int((moves > ADAM_STILL_FRACTION * lr).sum())
    share = float((moves >= ADAM_MOVED_FRACTION * lr).sum()) / max(moved, 1)
    what = f"after steps=1 with lr={lr:g}, `{_TBM}`"
    if largest > lr * (1 + ADAM_STEP_RTOL):
        problem = (
            f"{what} changed an entry of theta_mid by {largest:.4g}, more than lr: one "
            "Adam step from the endpoints' average moves every entry by at most lr. "
            "Take exactly `steps` steps with torch.optim.Adam(theta_mid, lr=lr), "
            "starting at (theta_a + theta_b) / 2"
        )
    elif largest < lr * (1 - ADAM_STEP_RTOL) or share < ADAM_MIN_MOVED_SHARE:
        problem = (
            f"{what} changed theta_mid by at most {largest:.4g}; of the {moved} "
            f"entries that changed, {share:.0%} changed by at least "
            f"{ADAM_MOVED_FRACTION:g}·lr: the first Adam step moves every entry with a "
            "non-negligible gradient by almost exactly lr. "
            "Use torch.optim.Adam with lr=lr (not SGD, not a fixed learning rate), and "
            "take one step"
        )
    else:
        return None
    return with_hint(problem, case, "")


def _tbm_adam_state_verdict(case: Case, moves: torch.Tensor, lr: float) -> str | None:
    """After several steps: fails when every step was a first Adam step (state not kept)."""
    steps = int(case.kwargs["steps"])
    in_lr = moves[moves > ADAM_STILL_FRACTION * lr] / lr
    if not in_lr.numel():
        return with_hint(
            f"after steps={steps} with lr={lr:g}, `{_TBM}` did not change theta_mid: take "
            "`steps` Adam steps on theta_mid",
            case,
            "",
        )
    whole = float(((in_lr - in_lr.round()).abs() <= ADAM_WHOLE_LR_TOL).float().mean())
    if whole <= ADAM_MAX_WHOLE_SHARE:
        return None
    return with_hint(
        f"after steps={steps} with lr={lr:g}, {whole:.0%} of the entries of theta_mid that "
        "changed moved by a whole multiple of lr, as if every step were the first step of a "
        "new Adam optimizer (which moves each entry by exactly ±lr). Create "
        "torch.optim.Adam(theta_mid, lr=lr) once, before the loop, so that it keeps its "
        "running averages of the gradients from step to step",
        case,
        "",
    )


def _tbm_adam() -> list[Case]:
    return [
        Case(
            "one step with lr = 0.02",
            _barrier_args(),
            {"steps": 1, "lr": 0.02, "batch_size": 16, "seed": 0},
        ),
        Case(
            "one step with lr = 0.005",
            _barrier_args(),
            {"steps": 1, "lr": 0.005, "batch_size": 32, "seed": 4},
        ),
        Case(
            f"{ADAM_MULTI_STEPS} steps with lr = 0.01: Adam keeps its state between steps",
            _barrier_args(),
            {"steps": ADAM_MULTI_STEPS, "lr": 0.01, "batch_size": 16, "seed": 2},
        ),
    ]


def _tbm_batches_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, _, args = _tbm_result(case, outcome)
    if msg:
        return msg
    rows = list(outcome.probe.get("forward_rows", []))
    steps, batch_size = int(case.kwargs["steps"]), int(case.kwargs["batch_size"])
    n = int(args[3].shape[0])
    wanted = min(batch_size, n)
    count = rows.count(wanted)
    if count >= steps:
        return None
    seen = sorted(set(rows))
    return with_hint(
        f"with steps={steps} and batch_size={batch_size} (N = {n}), the model was called "
        f"{count} times on a minibatch of {wanted} rows (inputs it saw had {seen} rows): "
        "each step must evaluate the loss on one minibatch of batch_size examples drawn with "
        "the generator",
        case,
        "",
    )


def _tbm_batches() -> list[Case]:
    return [
        Case(
            "3 steps with batch_size = 8",
            _barrier_args(spy=True),
            {"steps": 3, "lr": 0.01, "batch_size": 8, "seed": 0},
        ),
        Case(
            "2 steps with batch_size = 20, model in train mode",
            _barrier_args(spy=True, train_mode=True),
            {"steps": 2, "lr": 0.01, "batch_size": 20, "seed": 5},
        ),
    ]


def _same_params(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def _tbm_determinism_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    seed = case.kwargs["seed"]
    again, other = outcome.reruns
    other_seed = case.reruns[1]["seed"]
    if any(o.global_rng_changed for o in (outcome, again, other)):
        return with_hint(
            f"`{_TBM}` drew from torch's global random generator (torch.rand, torch.randint, "
            "torch.randperm or torch.manual_seed without generator=...): draw alpha and the "
            "minibatches only from g = torch.Generator().manual_seed(seed)",
            case,
            "",
        )
    for label, o in (
        ("a second call with the same seed", again),
        (f"a call with seed={other_seed}", other),
    ):
        failure = call_failure(o, _TBM)
        if failure:
            return with_hint(f"{label}: {failure}", case, "")
        msg = _params_problem(o.value, args[1], f"the result of {label}")
        if msg:
            return with_hint(msg, case, "")
    if not _same_params(got, again.value):
        return with_hint(
            f"two calls with seed={seed} returned different results: every random draw must "
            "come from torch.Generator().manual_seed(seed)",
            case,
            "",
        )
    if _same_params(got, other.value):
        return with_hint(
            f"seed={seed} and seed={other_seed} returned identical results: seed the generator "
            "with the `seed` argument and draw alpha and the minibatches from it",
            case,
            "",
        )
    return None


def _tbm_determinism() -> list[Case]:
    return [
        Case(
            "10 steps, called twice with seed 3 and once with seed 4",
            _barrier_args(),
            {"steps": 10, "lr": 0.01, "batch_size": 16, "seed": 3},
            reruns=({}, {"seed": 4}),
        ),
    ]


def _path_loss(
    model: torch.nn.Module, params: Mapping[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor
) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(functional_call(model, dict(params), (X,)), y))


def _tbm_barrier_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    model, theta_a, theta_b, X, y = args
    grid = torch.linspace(0.0, 1.0, CURVE_GRID, dtype=torch.float64).tolist()
    curve = [_path_loss(model, ref.bezier_point(theta_a, got, theta_b, a), X, y) for a in grid]
    line = [_path_loss(model, ref.interpolate(theta_a, theta_b, a), X, y) for a in grid]
    ends = max(line[0], line[-1])
    line_barrier = max(line) - ends
    curve_barrier = max(curve) - ends
    if curve_barrier <= CURVE_BARRIER_FRACTION * line_barrier:
        return None
    worst = grid[max(range(len(curve)), key=curve.__getitem__)]
    return with_hint(
        f"after {case.kwargs['steps']} steps the curve through your theta_mid has a max loss of "
        f"{max(curve):.3f} (at alpha = {worst:.3f}); the straight line's max is {max(line):.3f} "
        f"and the endpoints' {ends:.3f}: a trained midpoint should remove at least "
        f"{1 - CURVE_BARRIER_FRACTION:.0%} of the barrier. Minimise the expected loss along the "
        "curve: a new alpha ~ U(0, 1) every step, the loss at bezier_point(theta_a, theta_mid, "
        "theta_b, alpha), gradients on theta_mid only",
        case,
        "",
    )


def _tbm_barrier() -> list[Case]:
    return [
        Case(
            "200 steps between two solutions with a linear barrier of about 4 nats",
            _barrier_args(),
            {"steps": 200, "lr": 0.02, "batch_size": 32, "seed": 0},
        ),
    ]


make_checks(
    _TBM,
    [
        Part(
            "start",
            "steps = 0 returns the endpoints' average (detached, same dtypes)",
            _tbm_start,
            _tbm_start_verdict,
        ),
        Part(
            "result",
            "a detached dict like theta_a; endpoints, data and model unchanged",
            _tbm_contract,
            _model_params_kept(
                _TBM,
                leaves_inputs_unchanged(
                    _TBM,
                    _TBM_ARGS,
                    also=_tbm_result_verdict,
                    hint="optimise new tensors for theta_mid; never change "
                    "theta_a, theta_b or the model (its parameters, "
                    "mode or buffers)",
                ),
            ),
        ),
        Part(
            "adam_step",
            "one step is one Adam step with the given lr; Adam keeps its state across steps",
            _tbm_adam,
            _tbm_adam_verdict,
        ),
        Part(
            "minibatches",
            "each step uses a minibatch of batch_size examples",
            _tbm_batches,
            _tbm_batches_verdict,
        ),
        Part(
            "determinism",
            "the same seed gives the same result, another seed another",
            _tbm_determinism,
            _tbm_determinism_verdict,
        ),
        Part(
            "barrier",
            "the trained curve removes most of the linear barrier",
            _tbm_barrier,
            _tbm_barrier_verdict,
        ),
    ],
    timeout=BEZIER_TIMEOUT,
)


# ---------------------------------------------------------------------------------------------
# linear_basins

_BASINS_HINT = (
    "pair (i, j) is connected when path_max_losses[(i, j)] ≤ max(L_i, L_j) + delta; the "
    "basins are the connected components over all n solutions (a solution without connected "
    "pairs is a basin of its own), each a set, sorted by smallest member"
)


def _basins_compare(got: Any, expected: Any, what: str) -> str | None:
    if type(got) is not list:
        return f"{what} should be a list of sets, got {fmt_value(got)}"
    shown: list[list[Any]] = []
    for i, item in enumerate(got):
        if type(item) not in (set, frozenset):
            return f"{what}[{i}] should be a set of ints, got {fmt_value(item)}"
        shown.append(sorted(item, key=repr))
    msg = compare_value(got, expected, what=what)
    if msg is None:
        return None
    exp_shown = [sorted(s) for s in expected]
    text = f"{what}: expected {exp_shown}, got {shown}"
    try:
        same_groups = sorted(map(sorted, got)) == sorted(exp_shown)
    except TypeError:
        same_groups = False
    if same_groups:
        text += " (the right basins in the wrong order: sort them by their smallest member)"
    return text


_basins_verdict = _reference_verdict(
    "linear_basins",
    ref.linear_basins,
    hint=_BASINS_HINT,
    compare=_basins_compare,
)


def _basins_basic() -> list[Case]:
    return [
        Case(
            "practice problem 1: losses [0.15, 0.16, 0.17], (0, 1) max 0.18, (1, 2) max 0.95, "
            "delta 0.05",
            ([0.15, 0.16, 0.17], {(0, 1): 0.18, (1, 2): 0.95}, 0.05),
        ),
        Case(
            "practice problem 1 with the pairs given as (1, 0) and (2, 1)",
            ([0.15, 0.16, 0.17], {(1, 0): 0.18, (2, 1): 0.95}, 0.05),
            hint="a pair may be given in either order",
        ),
        Case(
            "every pair connected", ([0.1, 0.1, 0.1], {(0, 1): 0.1, (0, 2): 0.1, (1, 2): 0.1}, 0.0)
        ),
    ]


def _basins_components() -> list[Case]:
    return [
        Case(
            "a chain 0–1, 1–2 connected, 0–2 not: one basin {0, 1, 2}",
            ([0.1, 0.1, 0.1], {(0, 1): 0.12, (1, 2): 0.12, (0, 2): 0.9}, 0.05),
            hint="basins are connected components: connected pairs chain together",
        ),
        Case(
            "5 solutions: 3–0 and 2–1 connected, 4–1 not; sorted by smallest member",
            ([0.1] * 5, {(3, 0): 0.1, (2, 1): 0.12, (4, 1): 9.0}, 0.05),
        ),
        Case(
            "4 solutions: 0 alone, 1–2 and 3–2 connected, 0–3 not",
            ([0.1] * 4, {(1, 2): 0.1, (3, 2): 0.1, (0, 3): 0.9}, 0.05),
        ),
        Case(
            "absent pairs are not connected: only (0, 2) given",
            ([0.1, 0.2, 0.3], {(0, 2): 0.3}, 0.0),
        ),
        Case("no pairs at all: every solution alone", ([0.1, 0.2], {}, 0.05)),
        Case("a single solution", ([0.4], {}, 0.1)),
        Case(
            "(0, 1) and (2, 3) connected, then (1, 2) joins the two: one basin {0, 1, 2, 3}",
            ([0.1] * 4, {(0, 1): 0.1, (2, 3): 0.1, (1, 2): 0.1}, 0.0),
            hint="a connected pair can join two basins found before: merge them",
        ),
        Case(
            "a long chain given backwards: 5–4, 4–3, 3–2, 2–1, 1–0",
            ([0.2] * 6, {(5, 4): 0.2, (4, 3): 0.2, (3, 2): 0.2, (2, 1): 0.2, (1, 0): 0.2}, 0.0),
        ),
    ]


def _basins_threshold() -> list[Case]:
    return [
        Case(
            "max loss exactly max(L_i, L_j) + delta is connected: L = [0.5, 0.5], max 0.75, "
            "delta 0.25",
            ([0.5, 0.5], {(0, 1): 0.75}, 0.25),
            hint="the comparison is ≤",
        ),
        Case(
            "the threshold uses the larger endpoint loss: L = [0.25, 0.5], max 0.7, delta 0.25",
            ([0.25, 0.5], {(0, 1): 0.7}, 0.25),
            hint="compare with max(L_i, L_j) + delta, not L_i + delta or min(L_i, L_j)",
        ),
        Case(
            "the larger endpoint loss given second in the pair: (1, 0) with L = [0.5, 0.25]",
            ([0.5, 0.25, 0.9], {(1, 0): 0.7, (2, 0): 1.5}, 0.25),
        ),
        Case(
            "just above the threshold: L = [0.25, 0.5], max 0.7501, delta 0.25",
            ([0.25, 0.5], {(0, 1): 0.7501}, 0.25),
        ),
    ]


def _basins_random() -> list[Case]:
    gen = _gen(50)
    cases = []
    for index, n in enumerate((6, 8, 9)):
        losses = (torch.rand(n, generator=gen, dtype=torch.float64) * 0.5).tolist()
        pairs: dict[tuple[int, int], float] = {}
        for i in range(n):
            for j in range(i + 1, n):
                if float(torch.rand((), generator=gen)) < 0.35:
                    key = (j, i) if float(torch.rand((), generator=gen)) < 0.5 else (i, j)
                    pairs[key] = float(torch.rand((), generator=gen, dtype=torch.float64))
        delta = 0.1 * index
        label = f"{n} random solutions, {len(pairs)} pairs, delta {delta:g}"
        cases.append(Case(label, (losses, pairs, delta)))
    cases.append(
        Case(
            "losses as a float64 tensor",
            (
                torch.tensor([0.3, 0.1, 0.2, 0.4], dtype=torch.float64),
                {(2, 0): 0.35, (3, 1): 0.45},
                0.05,
            ),
        )
    )
    return cases


def _basins_no_mutation() -> list[Case]:
    return [
        Case(
            "losses tensor and pair dict",
            (torch.tensor([0.1, 0.2, 0.3, 0.4]), {(1, 0): 0.2, (3, 2): 0.9, (2, 1): 0.3}, 0.05),
        ),
    ]


make_checks(
    "linear_basins",
    [
        Part("basic", "practice problem 1", _basins_basic, _basins_verdict),
        Part(
            "components",
            "connected components, absent pairs, singletons, order",
            _basins_components,
            _basins_verdict,
        ),
        Part(
            "threshold",
            "connected when max ≤ max(L_i, L_j) + delta",
            _basins_threshold,
            _basins_verdict,
        ),
        Part("random", "random graphs of solutions", _basins_random, _basins_verdict),
        Part(
            "no_mutation",
            "the losses and the pair dict are left unchanged",
            _basins_no_mutation,
            leaves_inputs_unchanged(
                "linear_basins",
                ("endpoint_losses", "path_max_losses", "delta"),
                also=_basins_verdict,
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# average_params

_AVERAGE_HINT = (
    "result[k] = sum_i weights[i]·params_list[i][k], with weights 1 / len(params_list) by default"
)


def _average_diagnose(case: Case, got: Any) -> str | None:
    (params_list, *rest), _ = fresh_inputs(case)
    weights = rest[0] if rest else None
    moved = [_rekeyed(params_list[0], p) or p for p in params_list]
    if any(m is not p for m, p in zip(moved, params_list)) and _matches_quietly(
        lambda: ref.average_params(moved, weights), got
    ):
        return _BY_POSITION
    if len(params_list) > 1 and _matches_quietly(
        lambda: {k: sum(p[k] for p in params_list) for k in params_list[0]}, got
    ):
        return "Your result is the sum of the members, not their (weighted) average."
    if rest and rest[0] is not None and len(params_list) > 1:
        weights = as_float_list(rest[0], "weights")
        if _close(got, ref.average_params(params_list, list(reversed(weights)))):
            return "Your result pairs the weights with the members in reverse order."
    if rest and rest[0] is not None and _close(got, ref.average_params(params_list)):
        return "Your result ignores the weights: it is the uniform average."
    return None


_average_verdict = _reference_verdict(
    "average_params",
    ref.average_params,
    hint=_AVERAGE_HINT,
    diagnose=_average_diagnose,
    compare=_dict_compare(),
)


def _members(gen: torch.Generator, count: int, dtype: torch.dtype = torch.float32) -> list:
    return [_random_params(gen, dtype) for _ in range(count)]


def _average_uniform() -> list[Case]:
    gen = _gen(60)
    return [
        Case("two members, default weights", (_members(gen, 2),)),
        Case("three members, default weights", (_members(gen, 3),)),
        Case("one member: its own parameters", (_members(gen, 1),)),
        Case("two MLPs' parameters", ([_params(1), _params(2)],)),
        _average_twin_case(),
    ]


def _average_twin_case() -> Case:
    gen = _gen(65)
    a, b, c = (_twin_params(gen) for _ in range(3))
    return Case(
        "three members, the second with its keys in another order",
        ([a, _swapped(b), c],),
        hint="dicts with the same keys may list them in different orders: pair the tensors by key",
    )


def _average_weights() -> list[Case]:
    gen = _gen(61)
    return [
        Case("weights [0.25, 0.75]", (_members(gen, 2), [0.25, 0.75])),
        Case("weights [0.2, 0.3, 0.5]", (_members(gen, 3), [0.2, 0.3, 0.5])),
        Case("weights [1, 0]: the first member", (_members(gen, 2), [1.0, 0.0])),
        Case(
            "weights as a float32 tensor (their sum is 1.0000000075)",
            (_members(gen, 3), torch.tensor([0.5, 0.1, 0.4])),
            hint="weights must sum to 1 within the tolerance 1e-6, not exactly",
        ),
        Case(
            "ten weights of 0.1 (their float sum is 0.9999999999999999)",
            (_members(gen, 10), [0.1] * 10),
            hint="weights must sum to 1 within the tolerance 1e-6, not exactly",
        ),
    ]


def _average_dtype() -> list[Case]:
    gen = _gen(62)
    return [
        Case("float64 members, default weights", (_members(gen, 2, torch.float64),)),
        Case("float64 members, weights [0.6, 0.4]", (_members(gen, 2, torch.float64), [0.6, 0.4])),
    ]


def _average_errors() -> list[Case]:
    gen = _gen(63)
    a, b = _members(gen, 2)
    return [
        Case("an empty list", ([],)),
        Case("an empty list with weights", ([], [])),
        Case("members with different keys", ([a, {**b, "extra": torch.zeros(1)}],)),
        Case("a member lacking a key", ([a, {k: v for k, v in b.items() if k != "scale"}],)),
        Case("a negative weight: [1.5, -0.5]", ([a, b], [1.5, -0.5])),
        Case("weights summing to 1.1", ([a, b], [0.5, 0.6])),
        Case("weights summing to 0.5", ([a, b], [0.25, 0.25])),
        Case("three weights for two members", ([a, b], [0.5, 0.25, 0.25])),
    ]


def _average_no_mutation() -> list[Case]:
    gen = _gen(64)
    return [
        Case("default weights", (_members(gen, 3),)),
        Case("explicit weights", (_members(gen, 2), [0.3, 0.7])),
    ]


make_checks(
    "average_params",
    [
        Part(
            "uniform",
            "the uniform average by default",
            _average_uniform,
            reordered_keys_may_raise(_average_verdict),
        ),
        Part("weights", "explicit weights", _average_weights, _average_verdict),
        Part("dtype", "float64 members give float64 results", _average_dtype, _average_verdict),
        Part(
            "errors",
            "ValueError for an empty list, mismatched keys or bad weights",
            _average_errors,
            raises_value_error(
                "average_params",
                hint="check: at least one member, equal keys, one weight per "
                "member, weights >= 0 summing to 1 within 1e-6",
            ),
        ),
        Part(
            "no_mutation",
            "the members are left unchanged",
            _average_no_mutation,
            leaves_inputs_unchanged(
                "average_params", ("params_list", "weights"), also=_average_verdict
            ),
        ),
    ],
)


# ---------------------------------------------------------------------------------------------
# ensemble_probs

_ENSEMBLE_HINT = (
    "for each member: probs = softmax(functional_call(model, member, (X,)), dim=-1); return "
    "the mean of these probabilities over the members, computed without gradients"
)


def _softmax_of_mean_logits(model: torch.nn.Module, params_list: list, X: torch.Tensor):
    with torch.no_grad():
        logits = [functional_call(model, dict(p), (X,)) for p in params_list]
        return torch.softmax(torch.stack(logits).mean(dim=0), dim=-1)


def _ensemble_probs_over(model: torch.nn.Module, params_list: list, X: torch.Tensor, dim: int):
    with torch.no_grad():
        probs = [torch.softmax(functional_call(model, dict(p), (X,)), dim=dim) for p in params_list]
        return torch.stack(probs).mean(dim=0)


def _ensemble_diagnose(case: Case, got: Any) -> str | None:
    args, _ = fresh_inputs(case)
    if _close(got, _softmax_of_mean_logits(*args)):
        return (
            "Your result is the softmax of the members' averaged logits; the ensemble averages "
            "the members' probabilities: softmax each member's logits first, then take the mean."
        )
    count = len(args[1])
    if count > 1 and _close(got, count * ref.ensemble_probs(*args)):
        return (
            f"Your result is the sum of the {count} members' probabilities (each row sums to "
            f"{count}): take their mean."
        )
    if _close(got, _ensemble_probs_over(*args, dim=0)):
        return (
            "Your softmax runs over the examples (dim 0), so each column sums to 1: take it "
            "over the classes, dim=-1."
        )
    return None


def _ensemble_compare(got: Any, expected: Any, what: str) -> str | None:
    return compare_tensor(got, expected, what=what, rtol=LOSS_RTOL, atol=LOSS_ATOL)


_ensemble_verdict = _reference_verdict(
    "ensemble_probs",
    ref.ensemble_probs,
    hint=_ENSEMBLE_HINT,
    diagnose=_ensemble_diagnose,
    compare=_ensemble_compare,
)


def _ensemble_args(model: Build, members: list, offset: int) -> tuple:
    X, _ = _data(_gen(70 + offset))
    return (model, members, X)


def _ensemble_basic() -> list[Case]:
    return [
        Case("two members", _ensemble_args(_mlp(0), [_params(1), _params(2)], 1)),
        Case("three members", _ensemble_args(_mlp(0), [_params(3), _params(4), _params(5)], 2)),
        Case("one member: its softmax", _ensemble_args(_mlp(0), [_params(6)], 3)),
    ]


def _ensemble_gradients() -> list[Case]:
    members = [_params(1, requires_grad=True), _params(2, requires_grad=True)]
    return [Case("members that require grad", _ensemble_args(_mlp(0), members, 4))]


def _ensemble_no_mutation() -> list[Case]:
    return _probing_model(
        [
            Case(
                "a model in train mode",
                _ensemble_args(_mlp(0, train_mode=True), [_params(1), _params(2)], 5),
            ),
            Case("a model in eval mode", _ensemble_args(_mlp(0), [_params(3), _params(4)], 6)),
        ]
    )


def _ensemble_errors() -> list[Case]:
    X, _ = _data(_gen(77))
    return [Case("an empty list of members", (_mlp(0), [], X))]


_ENSEMBLE_ARGS = ("model", "params_list", "X")

make_checks(
    "ensemble_probs",
    [
        Part(
            "basic",
            "the mean of the members' softmax probabilities",
            _ensemble_basic,
            _ensemble_verdict,
        ),
        Part(
            "gradients",
            "the result does not require grad",
            _ensemble_gradients,
            _no_grad_verdict(
                "ensemble_probs",
                _ensemble_verdict,
                hint="compute the probabilities inside `with torch.no_grad():`",
            ),
        ),
        Part(
            "no_mutation",
            "the model (parameters and mode) and members are left unchanged",
            _ensemble_no_mutation,
            _model_params_kept(
                "ensemble_probs",
                leaves_inputs_unchanged(
                    "ensemble_probs",
                    _ENSEMBLE_ARGS,
                    also=_ensemble_verdict,
                    hint="pass each member to torch.func.functional_call "
                    "instead of loading it into the model",
                ),
            ),
        ),
        Part(
            "errors",
            "ValueError for an empty list of members",
            _ensemble_errors,
            raises_value_error("ensemble_probs", hint="check that params_list is not empty"),
        ),
    ],
)
