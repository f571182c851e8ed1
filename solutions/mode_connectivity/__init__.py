"""Reference solutions for notebook 01: linear and Bezier mode connectivity, barriers, basins, merging,
permutation alignment.

Conventions (exercise-spec.md):

- ``Params`` is an ordered ``dict[str, torch.Tensor]`` such as
  ``{n: p.detach() for n, p in model.named_parameters()}``.
- The linear path is theta(alpha) = (1 − alpha)·theta_a + alpha·theta_b, so alpha = 0 is
  theta_a and alpha = 1 is theta_b. The quadratic Bezier curve is
  theta(alpha) = (1−alpha)²·theta_a + 2·alpha·(1−alpha)·theta_mid + alpha²·theta_b.
- Losses are mean cross-entropy over the given data.
- No function modifies its inputs (tensors, dicts, models); scalar results are Python floats;
  bad input raises ``ValueError`` with a message naming the argument.

Every graded function here is also the model answer of its answer cell in
``source/landscapes/01_mode_connectivity.ipynb``: the notebook builder splices its source
(signature and docstring, which match the notebook's, then the body) into that cell after the
cell's preamble (its imports and constants). So a function body uses only builtins, the names
of its cell's preamble, graded functions of earlier cells, and names it defines or imports
itself; the module-level imports and constants of its modules are those of the preambles.
"""

from __future__ import annotations

from .curves import bernstein_weights, bezier_point, train_bezier_midpoint
from .merging import WEIGHT_SUM_TOL as WEIGHT_SUM_TOL
from .merging import average_params, ensemble_probs, linear_basins
from .paths import ALPHA_ENDPOINT_TOL as ALPHA_ENDPOINT_TOL
from .paths import (
    barrier_height,
    interpolate,
    interpolated_barrier,
    is_linearly_connected,
    loss_along_path,
)
from .permutation import align_hidden_units

__all__ = [
    "align_hidden_units",
    "average_params",
    "barrier_height",
    "bernstein_weights",
    "bezier_point",
    "ensemble_probs",
    "interpolate",
    "interpolated_barrier",
    "is_linearly_connected",
    "linear_basins",
    "loss_along_path",
    "train_bezier_midpoint",
]
