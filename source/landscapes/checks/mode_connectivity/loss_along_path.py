"""Checks of `loss_along_path` (notebook 01): the losses of a model along a path of parameters.

Paths (linear, Bezier) and models are `Build` recipes. Compared with the reference for alphas
as a list, a tuple or a tensor; the model is evaluated in the mode it is in (a mode-dependent
model tells), the result does not require grad, and the model's parameters, mode,
`requires_grad` flags and gradients are left alone (checked through an after-call probe).
"""

from __future__ import annotations

from typing import Any

import torch

from autograder.checks.registry import make_checks
from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Part
from autograder.checks.verdicts import compare_tensor, fresh_inputs, leaves_inputs_unchanged
from solutions import mode_connectivity as ref

from .common import (
    _HIDDEN,
    _N_CLASSES,
    LOSS_ATOL,
    LOSS_RTOL,
    _close,
    _data,
    _gen,
    _mlp,
    _model_params_kept,
    _no_grad_verdict,
    _params,
    _probing_model,
    _reference_verdict,
)


def _mode_scaled(seed: int, *, train_mode: bool) -> Build:
    return Build(
        "mode_scaled_mlp",
        {"hidden": _HIDDEN, "out_dim": _N_CLASSES, "seed": vary(seed), "train_mode": train_mode},
    )


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
                    results=_path_verdict,
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
                    results=_path_verdict,
                    hint="do not load the path's parameters into the model (load_state_dict, "
                    "copy_): pass them to torch.func.functional_call instead",
                ),
            ),
        ),
    ],
)
