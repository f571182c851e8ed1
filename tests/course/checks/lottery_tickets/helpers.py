"""Helpers shared by the student-style implementations of notebook 03's functions
(validation, prune counts and per-key masks written once)."""

from __future__ import annotations

import math

import torch


def _check_fraction(fraction: float, name: str = "fraction") -> None:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {fraction}")


def _check_rounds(rounds: int) -> None:
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")


def _count(n: int, fraction: float, name: str = "fraction") -> int:
    """prune_count with its validation, for the student-style implementations."""
    _check_fraction(fraction, name)
    return math.floor(fraction * n + 0.5)


def _keep_from_order(numel: int, order: list[int], num_prune: int) -> torch.Tensor:
    keep = torch.ones(numel, dtype=torch.bool)
    for i in order[:num_prune]:
        keep[i] = False
    return keep


def _joint_split(masks, flat):
    """Split one flat bool vector (keys of masks in order) back into per-key masks."""
    sizes = [m.numel() for m in masks.values()]
    return {k: part.reshape(m.shape) for (k, m), part in zip(masks.items(), flat.split(sizes))}
