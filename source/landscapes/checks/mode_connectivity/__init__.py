"""Hidden checks for notebook 01 (mode connectivity): cases (stage 1) and verdicts (stage 3).

Every function of exercise-spec.md's 01 table has its parts here, one module per function,
imported below in notebook order (the order in which they are registered and graded);
`common` holds the tolerances and helpers that several of them share. Inputs that are not plain
data (models, paths, trained endpoints) are `Build` recipes resolved by the builders in
`inputs_mode_connectivity`. Values are compared with the reference solution where the spec
fixes them; `train_bezier_midpoint`, whose order of random draws is free, is checked through
properties (its start, one Adam step and Adam's state over a few, the minibatch size,
determinism, the barrier it removes). Functions given a model are also checked, through an
after-call probe, for leaving its parameters' `requires_grad` flags and gradients alone.
"""

from __future__ import annotations

# Importing a module registers its graded function: in notebook order, never sorted.
# isort: off
from . import interpolate
from . import loss_along_path
from . import barrier_height
from . import interpolated_barrier
from . import is_linearly_connected
from . import bernstein_weights
from . import bezier_point
from . import train_bezier_midpoint
from . import linear_basins
from . import average_params
from . import ensemble_probs
from . import align_hidden_units
# isort: on

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
