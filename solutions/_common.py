"""Validation helpers shared by the reference solutions.

Every public reference function validates its arguments with these helpers so that bad input
gets a `ValueError` whose message names the argument, as exercise-spec.md requires.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

Params = dict[str, torch.Tensor]


def check_params(params: object, name: str) -> Mapping[str, torch.Tensor]:
    """Return `params` if it is a mapping from str to tensors, else raise `ValueError`."""
    if not isinstance(params, Mapping):
        raise ValueError(f"{name} must be a dict of tensors, got {type(params).__name__}")
    for key, value in params.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{name}[{key!r}] must be a tensor, got {type(value).__name__}")
    return params


def check_matching_params(a: object, b: object, name_a: str, name_b: str) -> None:
    """Raise `ValueError` unless `a` and `b` have the same keys and the same shape per key."""
    check_params(a, name_a)
    check_params(b, name_b)
    assert isinstance(a, Mapping) and isinstance(b, Mapping)
    if set(a) != set(b):
        only_a = sorted(set(a) - set(b))
        only_b = sorted(set(b) - set(a))
        raise ValueError(
            f"{name_a} and {name_b} have different keys: only in {name_a}: {only_a}, "
            f"only in {name_b}: {only_b}"
        )
    for key in a:
        if a[key].shape != b[key].shape:
            raise ValueError(
                f"{name_a}[{key!r}] has shape {tuple(a[key].shape)} but {name_b}[{key!r}] "
                f"has shape {tuple(b[key].shape)}"
            )


def as_float_list(values: object, name: str, *, min_len: int = 0) -> list[float]:
    """Convert a 1-D sequence or tensor of numbers to Python floats, rejecting NaN and short input."""
    if isinstance(values, torch.Tensor):
        if values.dim() != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
        out = [float(v) for v in values.detach().to(torch.float64).tolist()]
    elif isinstance(values, Sequence) or hasattr(values, "__iter__"):
        try:
            out = [float(v) for v in values]  # type: ignore[union-attr]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a sequence of numbers: {exc}") from None
    else:
        raise ValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    if len(out) < min_len:
        raise ValueError(f"{name} needs at least {min_len} values, got {len(out)}")
    if any(math.isnan(v) for v in out):
        raise ValueError(f"{name} contains NaN")
    return out


def check_fraction(
    value: object,
    name: str,
    *,
    low: float = 0.0,
    high: float = 1.0,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return `value` as a float if it lies in the interval, else raise `ValueError`."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}") from None
    too_low = x <= low if open_low else x < low
    too_high = x >= high if open_high else x > high
    if math.isnan(x) or too_low or too_high:
        lb = "(" if open_low else "["
        rb = ")" if open_high else "]"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{rb}, got {value!r}")
    return x
