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
