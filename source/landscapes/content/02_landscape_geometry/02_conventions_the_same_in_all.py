# %% [markdown] id="conventions"
# ## Conventions (the same in all four notebooks, plus flat parameter vectors)
#
# * **Parameters as data.** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
#   `model.named_parameters()`, e.g. `{"0.weight": ..., "0.bias": ..., "2.weight": ..., ...}`.
#   `lab.params_of(model)` returns a detached copy of a model's parameters.
# * **Flat parameters.** Curvature is about *all* parameters at once, so most functions here take
#   one 1-D tensor `theta` of length $d$ (the number of parameters): `lab.flatten_params(params)`
#   concatenates the tensors of a `Params` dict in key order, `lab.unflatten_params(theta, like)`
#   splits it back. A **`loss_fn`** is a callable from such a `theta` to a 0-d loss tensor;
#   `lab.flat_loss_fn(model, X, y)` builds the mean cross-entropy of a model on data as one
#   (it is differentiable twice and works with `torch.func`). Probes and noise are 2-D tensors
#   with **one row per vector** and one column per parameter, shape $(m, d)$.
# * **Paths and planes.** In notebooks 01 and 03 a path is
#   $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$, so $\alpha = 0$ is $\theta_a$. Here
#   $\alpha$ and $\beta$ are coordinates on a plane through one point,
#   $\theta + \alpha\,d_1 + \beta\,d_2$: $\alpha = \beta = 0$ is $\theta$ itself.
# * **Losses** are mean cross-entropy over the given data.
# * **Never modify your inputs** — tensors, dicts, models — and do not change a tensor's
#   `requires_grad` flag. Work on `theta.detach().clone()` when you need a leaf for autograd.
# * **Randomness** comes only from the `torch.Generator` you are given, never from the global
#   random state.
# * **Scalars are Python numbers**: return `float(...)` (or `str` for a classification), not a
#   0-d tensor. Tensors keep the dtype of the input unless the docstring says otherwise.
# * **Bad input raises `ValueError`** with a message that names the offending argument.
# * `landscape_lab.py` (imported as `lab`) holds the data set, the models, training and the
#   plots. It is not graded and is restored from the release when your work is graded.

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
