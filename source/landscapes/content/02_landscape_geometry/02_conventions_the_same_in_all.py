# %% [markdown] id="conventions"
# ## Conventions (the same in all four notebooks, plus flat parameter vectors)
#
# Every function follows these; the hidden tests check them. New here: most functions take one
# flat parameter vector `theta` and a `loss_fn`.
#
# <details>
# <summary><b>Conventions</b>: flat vectors, planes, inputs, randomness, return types, errors (click to open)</summary>
#
# * **As in notebook 01:** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
#   `model.named_parameters()` (`lab.params_of(model)` copies a model's); losses are mean
#   cross-entropy; bad input raises `ValueError` naming the offending argument.
# * **Flat parameters.** `lab.flatten_params(params)` concatenates the tensors of a `Params`
#   dict in key order into one 1-D `theta` of length $d$; `lab.unflatten_params(theta, like)`
#   splits it back. A **`loss_fn`** maps such a `theta` to a 0-d loss tensor;
#   `lab.flat_loss_fn(model, X, y)` builds one (differentiable twice, works with `torch.func`).
#   Probes and noise have **one row per vector**: shape $(m, d)$.
# * **Planes.** $\alpha$ and $\beta$ are coordinates on a plane through one point,
#   $\theta + \alpha\,d_1 + \beta\,d_2$: $\alpha = \beta = 0$ is $\theta$ itself (in notebooks 01 and 03,
#   $\alpha$ runs along a path from $\theta_a$ to $\theta_b$).
# * **Never modify your inputs** — tensors, dicts, models — nor a tensor's `requires_grad` flag.
#   Work on `theta.detach().clone()` when you need a leaf for autograd.
# * **Randomness** comes only from the `torch.Generator` you are given.
# * **Scalars are Python numbers**: return `float(...)` (or `str` for a classification), not a
#   0-d tensor. Tensors keep the input's dtype unless the docstring says otherwise.
# * `landscape_lab.py` (`lab`) holds the data, models, training and plots (`lab.plot_*` come from
#   `landscape_plots.py` beside it); both are restored from the release at grading.
#
# </details>

# %% id="setup" role="setup"
# %matplotlib inline
import itertools
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import landscape_lab as lab
from landscape_lab import needs

# The networks here are tiny (a few thousand parameters): PyTorch's thread pool costs more
# time in hand-offs than it saves, so one thread is faster (and gives the same numbers on
# every machine).
torch.set_num_threads(1)
_ = torch.manual_seed(0)  # nothing below draws from the global generator; this is a safety net
