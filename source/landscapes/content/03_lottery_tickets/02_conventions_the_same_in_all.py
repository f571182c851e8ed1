# %% [markdown] id="conventions"
# ## Conventions (the same in all four notebooks, plus masks)
#
# Every function follows these; the hidden tests check them. New here: masks, with
# **`True` = kept**.
#
# <details>
# <summary><b>Conventions</b>: masks, sparsity, counts, ties, inputs, return types, errors (click to open)</summary>
#
# * **As in notebook 01:** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
#   `model.named_parameters()` (`lab.params_of(model)` copies a model's); a path is
#   $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$ (used once, in section 4); never modify
#   your inputs — return new tensors.
# * **Masks.** A mask is a `torch.bool` tensor with the shape of the tensor it prunes:
#   **`True` = kept, `False` = pruned** (the course text's 1 and 0). A dict of masks maps the
#   names of the *prunable* tensors to their masks; other tensors are never pruned. The
#   subnetwork is $m \odot \theta$ (pruned weights are exactly 0).
# * **Sparsity** is the fraction of the prunable weights that are pruned, *density* the fraction
#   kept: 90% sparse = 10% dense.
# * **"A fraction of n entries"** is always `prune_count(n, fraction)` entries (section 1.1).
# * **Ties** are broken by position: row-major (flat) order inside a tensor, then the order of
#   the keys in the masks dict. Lower position is pruned first (kept first, for scores).
# * **Scalars are Python numbers**: counts are `int`, fractions and overlaps `float`.
# * **Bad input raises `ValueError`** naming the offending argument — checked even when there
#   is nothing to do (e.g. `rounds = 0` with `fraction = 1.5`).
# * `landscape_lab.py` (`lab`) holds the data, models, training (`lab.train(..., mask=masks)`
#   keeps pruned weights at exactly 0) and plots (from `landscape_plots.py` beside it); both are
#   restored from the release at grading.
#
# </details>

# %% id="setup" role="setup"
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import landscape_lab as lab
from landscape_lab import needs

# The networks here are tiny (a few thousand parameters): PyTorch's thread pool costs more
# time in hand-offs than it saves, so one thread is faster (and gives the same numbers on
# every machine).
torch.set_num_threads(1)
_ = torch.manual_seed(0)  # nothing below draws from the global generator; this is a safety net
