# %% [markdown] id="conventions"
# ## Conventions (the same in all four notebooks)
#
# Every function follows these; the hidden tests check them.
#
# <details>
# <summary><b>Conventions</b>: parameters, paths, losses, inputs, return types, errors (click to open)</summary>
#
# * **Parameters as data.** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
#   `model.named_parameters()`, e.g. `{"0.weight": ..., "0.bias": ..., "2.weight": ...}`;
#   `lab.params_of(model)` returns a detached copy of a model's parameters.
# * **Paths.** The straight line is $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$:
#   $\alpha = 0$ is $\theta_a$, $\alpha = 1$ is $\theta_b$. The quadratic Bezier curve is
#   $\theta(\alpha) = (1-\alpha)^2\theta_a + 2\alpha(1-\alpha)\,\theta_{\text{mid}} + \alpha^2\theta_b$.
# * **Losses** are mean cross-entropy over the given data.
# * **Never modify your inputs** — tensors, dicts or models. To run a model with other
#   parameters use `torch.func.functional_call(model, params, (X,))` instead of loading them
#   into the model.
# * **Scalars are Python numbers**: return `float(...)` (or `bool`), not a 0-d tensor. Tensors
#   keep the input's dtype unless the docstring says otherwise.
# * **Bad input raises `ValueError`** naming the offending argument
#   (e.g. `"theta_a and theta_b have different keys: ..."`).
# * `landscape_lab.py` (`lab`) holds the data, models, training and plots (`lab.plot_*` come from
#   `landscape_plots.py` beside it). Neither is graded; both are restored from the release at
#   grading, so changing them does not help.
#
# </details>

# %% id="setup" role="setup"
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

import landscape_lab as lab
from landscape_lab import needs

# The networks here are tiny (a few thousand parameters): PyTorch's thread pool costs more
# time in hand-offs than it saves, so one thread is faster (and gives the same numbers on
# every machine).
torch.set_num_threads(1)
torch.manual_seed(0)
