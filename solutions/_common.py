"""Small shared pieces of the staff package: the `Params` alias and `as_float_list`.

The reference solutions do not call into this module: each graded function is also its
notebook's model answer and therefore self-contained (see the module docstrings of
`solutions.mode_connectivity` and friends). `as_float_list` is kept for the hidden checks
(`autograder.checks.mode_connectivity` converts students' loss sequences with it); it mirrors
the conversion the references inline, so that both agree on what a valid sequence is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

Params = dict[str, torch.Tensor]


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
