"""Builders for the hidden checks of notebook 01 (mode connectivity).

Call-stage code: it imports only torch, `landscape_lab` and the builder registry, never
`solutions` or the verdicts. Every builder is deterministic, so the verdict stage rebuilds
exactly the inputs the student's function saw.

Kinds registered here:

- ``linear_path`` / ``bezier_path``: a ``path`` callable (alpha -> Params) for
  `loss_along_path`, optionally with endpoints that require grad;
- ``mode_scaled_mlp``: a deterministic MLP whose output depends on its train/eval mode
  (logits doubled in train mode), to see whether a function evaluates "in the model's
  current mode" without the randomness of dropout;
- ``spy_mlp`` (probe): an MLP that records the number of rows of every forward input;
- ``model_params_probe`` (probe, after the call): the ``requires_grad`` flags and gradients
  of the model's own parameters, which the snapshot of a module does not hold;
- ``barrier_endpoint``: the parameters of a small MLP trained on the spiral task (two seeds
  give two solutions with a clear linear barrier between them), trained once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from autograder.checks.builders import holds_gradient, register_builder

Params = dict[str, torch.Tensor]

TRAIN_MODE_LOGIT_SCALE = 2.0
"""`mode_scaled_mlp` multiplies its logits by this factor in train mode (1 in eval mode)."""

# The two-solution task used by the `train_bezier_midpoint` checks: two MLPs of these widths,
# trained from different seeds on the spiral data, with a linear barrier of about 4 nats.
BARRIER_HIDDEN = (16, 16)
BARRIER_N_TRAIN = 128
BARRIER_DATA_SEED = 0
BARRIER_TRAIN_STEPS = 600
BARRIER_TRAIN_LR = 0.02
BARRIER_TRAIN_BATCH = 32


# ---------------------------------------------------------------------------------------------
# Paths


def _as_alpha(alpha: Any) -> float:
    """The student may pass a Python float, a numpy scalar or a 0-d tensor."""
    if isinstance(alpha, torch.Tensor):
        return float(alpha.detach().reshape(()).item())
    return float(alpha)


def _endpoint(params: Mapping[str, torch.Tensor], requires_grad: bool) -> Params:
    return {k: v.detach().clone().requires_grad_(requires_grad) for k, v in params.items()}


@register_builder("linear_path")
def build_linear_path(
    *, theta_a: Params, theta_b: Params, requires_grad: bool = False
) -> Callable[[Any], Params]:
    """path(alpha) = (1 − alpha)·theta_a + alpha·theta_b, new tensors on every call.

    With `requires_grad` the endpoints are leaf tensors that require grad (like
    ``dict(model.named_parameters())``), so the points of the path require grad too.
    """
    start = _endpoint(theta_a, requires_grad)
    end = _endpoint(theta_b, requires_grad)

    def path(alpha: Any) -> Params:
        a = _as_alpha(alpha)
        return {k: (1.0 - a) * start[k] + a * end[k] for k in start}

    return path


@register_builder("bezier_path")
def build_bezier_path(
    *, theta_a: Params, theta_mid: Params, theta_b: Params
) -> Callable[[Any], Params]:
    """path(alpha) = (1−alpha)²·theta_a + 2·alpha·(1−alpha)·theta_mid + alpha²·theta_b."""
    start = _endpoint(theta_a, False)
    mid = _endpoint(theta_mid, False)
    end = _endpoint(theta_b, False)

    def path(alpha: Any) -> Params:
        a = _as_alpha(alpha)
        c_a, c_mid, c_b = (1.0 - a) ** 2, 2.0 * a * (1.0 - a), a**2
        return {k: c_a * start[k] + c_mid * mid[k] + c_b * end[k] for k in start}

    return path


# ---------------------------------------------------------------------------------------------
# Models


def _base_mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, seed: int) -> nn.Sequential:
    import landscape_lab

    return landscape_lab.make_mlp(in_dim=in_dim, hidden=tuple(hidden), out_dim=out_dim, seed=seed)


class _TrainScaledMLP(nn.Sequential):
    """An MLP whose logits are doubled in train mode: deterministic, but mode-dependent."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out * TRAIN_MODE_LOGIT_SCALE if self.training else out


@register_builder("mode_scaled_mlp")
def build_mode_scaled_mlp(
    *,
    in_dim: int = 2,
    hidden: tuple[int, ...] = (8,),
    out_dim: int = 3,
    seed: int = 0,
    train_mode: bool = True,
    dtype: str = "float32",
) -> nn.Module:
    """A seeded MLP (parameters named like `make_mlp`'s) whose output depends on its mode."""
    model = _TrainScaledMLP(*_base_mlp(in_dim, hidden, out_dim, seed).children())
    model = model.to(getattr(torch, dtype))
    model.train(train_mode)
    return model


class _SpyMLPBase(nn.Sequential):
    """An MLP that appends the number of rows of every forward input to its class's probe.

    The probe lives on a class made per build (not on the instance), so a deep copy of the
    model made by the student's code still records into the same probe.
    """

    _probe: dict[str, Any]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._probe.setdefault("forward_rows", []).append(int(x.shape[0]))
        return super().forward(x)


@register_builder("spy_mlp", probe=True)
def build_spy_mlp(
    *,
    probe: dict[str, Any],
    in_dim: int = 2,
    hidden: tuple[int, ...] = BARRIER_HIDDEN,
    out_dim: int = 4,
    seed: int = 0,
    train_mode: bool = False,
) -> nn.Module:
    """A seeded MLP recording in ``probe["forward_rows"]`` the rows of every forward input."""
    probe.setdefault("forward_rows", [])
    spy_class = type("SpyMLP", (_SpyMLPBase,), {"_probe": probe})
    model = spy_class(*_base_mlp(in_dim, hidden, out_dim, seed).children())
    model.train(train_mode)
    return model


@register_builder("model_params_probe", probe=True)
def build_model_params_probe(*, arg: int = 0, probe: dict[str, Any]) -> Callable:
    """After-call probe: the state of the parameters of the module passed as argument `arg`.

    Records ``probe["param_requires_grad"]`` (parameter name -> its ``requires_grad`` flag)
    and ``probe["params_with_grad"]`` (the names of the parameters left with a non-zero
    ``.grad``; a ``.grad`` of None or zeros counts as clean), or ``probe["model_error"]``
    when argument `arg` is not a module; and ``probe["inputs_with_grad"]``: the tensors of
    the other arguments, or of their dicts, left with a non-zero ``.grad`` (as
    ``"argument i[key]"``).
    """

    def after(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        touched = []
        for i, given in enumerate(args):
            if i == arg:
                continue
            if isinstance(given, torch.Tensor) and holds_gradient(given):
                touched.append(f"argument {i}")
            elif isinstance(given, Mapping):
                touched += [
                    f"argument {i}[{key!r}]" for key, v in given.items() if holds_gradient(v)
                ]
        probe["inputs_with_grad"] = touched
        model = args[arg] if 0 <= arg < len(args) else None
        if not isinstance(model, nn.Module):
            probe["model_error"] = f"argument {arg} is not a torch.nn.Module"
            return
        named = list(model.named_parameters())
        probe["param_requires_grad"] = {n: bool(p.requires_grad) for n, p in named}
        probe["params_with_grad"] = [n for n, p in named if holds_gradient(p)]

    return after


# ---------------------------------------------------------------------------------------------
# Trained solutions


def barrier_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The training data (X, y) of the two-solution task (spiral, `BARRIER_N_TRAIN` points)."""
    import landscape_lab

    data = landscape_lab.make_dataset(n_train=BARRIER_N_TRAIN, n_test=1, seed=BARRIER_DATA_SEED)
    return data.X_train.clone(), data.y_train.clone()


@functools.lru_cache(maxsize=4)
def _trained_endpoint(seed: int) -> tuple[tuple[str, torch.Tensor], ...]:
    import landscape_lab

    X, y = barrier_data()
    model = landscape_lab.make_mlp(hidden=BARRIER_HIDDEN, seed=seed)
    # One thread: the same result on every machine setting, and tiny matrices train many
    # times faster without thread hand-offs on a busy CPU. The caller's setting is restored.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        landscape_lab.train(
            model,
            X,
            y,
            steps=BARRIER_TRAIN_STEPS,
            lr=BARRIER_TRAIN_LR,
            batch_size=BARRIER_TRAIN_BATCH,
            seed=seed,
        )
    finally:
        torch.set_num_threads(threads)
    return tuple(landscape_lab.params_of(model).items())


@register_builder("barrier_endpoint")
def build_barrier_endpoint(*, seed: int, dtype: str = "float32") -> Params:
    """Params of a `BARRIER_HIDDEN` MLP trained from `seed` on `barrier_data()` (cached)."""
    return {k: v.clone().to(getattr(torch, dtype)) for k, v in _trained_endpoint(int(seed))}


@register_builder("params_requiring_grad")
def build_params_requiring_grad(*, params: Mapping[str, torch.Tensor]) -> Params:
    """Leaf copies of `params` that require grad, like ``dict(model.named_parameters())``."""
    return _endpoint(params, True)
