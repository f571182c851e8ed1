# %% [markdown] id="conventions"
# ## Conventions (the same in all four notebooks, plus masks)
#
# * **Parameters as data.** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
#   `model.named_parameters()`, e.g. `{"0.weight": ..., "0.bias": ..., "2.weight": ..., ...}`.
#   `lab.params_of(model)` returns a detached copy of a model's parameters.
# * **Masks.** A mask is a `torch.bool` tensor with the shape of the tensor it prunes:
#   **`True` = kept, `False` = pruned** (the course text's 1 and 0). A dict of masks maps the
#   names of the *prunable* tensors to their masks; names that are not in it are never pruned.
#   The subnetwork is $m \odot \theta$ (pruned weights are exactly 0).
# * **Sparsity** is the fraction of the prunable weights that are pruned; *density* is the
#   fraction kept. 90% sparse = 10% dense.
# * **"A fraction of n entries"** is always `prune_count(n, fraction)` entries (section 1.1).
# * **Paths** (used once here, in section 4): $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$,
#   so $\alpha = 0$ is $\theta_a$ and $\alpha = 1$ is $\theta_b$, as in notebook 01.
# * **Ties** are broken by position: row-major (flat) order inside a tensor, then the order of
#   the keys in the masks dict. Lower position is pruned first (kept first, for scores).
# * **Never modify your inputs** — tensors, dicts, models. Return new tensors.
# * **Scalars are Python numbers**: counts are `int`, fractions and overlaps `float`.
# * **Bad input raises `ValueError`** with a message that names the offending argument —
#   checked even when there is nothing to do (e.g. `rounds = 0` with `fraction = 1.5`).
# * `landscape_lab.py` (imported as `lab`) holds the data set, the models, training (its
#   `lab.train(..., mask=masks)` keeps pruned weights at exactly 0) and the plots. It is not
#   graded and is restored from the release when your work is graded.

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
