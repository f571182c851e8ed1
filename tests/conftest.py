"""Test-session settings shared by every test module."""

from __future__ import annotations

import os

import matplotlib

# The models here are tiny: with two pytest workers on two cores, PyTorch's thread pool costs
# far more than it gains (a 500-step training run goes from 0.2 s to 13 s). One thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")
matplotlib.use("Agg")

import torch

torch.set_num_threads(1)

# The hidden checks of the course's assignment are loaded once per test process and are the
# default of every registry call that names no assignment (`check_function(name, fn)`).
from pathlib import Path  # noqa: E402

from autograder.checks import registry  # noqa: E402

COURSE_SPEC = registry.set_default_assignment(
    Path(__file__).resolve().parents[1] / "source" / "landscapes"
)
