"""Helpers shared by the student-style implementations of notebook 01's functions
(validation written once, as a student would factor it out)."""

from __future__ import annotations

import math

import torch


def _same_keys(theta_a, theta_b, *names):
    if set(theta_a) != set(theta_b):
        raise ValueError(f"{names[0]} and {names[1]} have different keys")
    for k in theta_a:
        if theta_a[k].shape != theta_b[k].shape:
            raise ValueError(f"{names[0]}[{k!r}] and {names[1]}[{k!r}] differ in shape")


def _floats(values, name, min_len=0):
    out = [float(v) for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]
    if len(out) < min_len:
        raise ValueError(f"{name} needs {min_len} values")
    if any(math.isnan(v) for v in out):
        raise ValueError(f"{name} contains NaN")
    return out


class ParamsMismatchError(ValueError):
    """A student's own ValueError subclass (the spec asks for ValueError; subclasses are one)."""
