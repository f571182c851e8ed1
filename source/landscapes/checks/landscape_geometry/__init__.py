"""Hidden checks for notebook 02 (landscape geometry): cases (stage 1) and verdicts (stage 3).

Every function of exercise-spec.md's 02 table has its parts here, one module per function,
imported below in notebook order (the order in which they are registered and graded);
`common` holds the tolerances and helpers that several of them share. Losses, models and
generators are `Build` recipes resolved by the builders in `builders` and
`inputs_landscape_geometry`. Values are compared with the reference solution where the spec
fixes them; where it leaves freedom they are checked through properties: random probes by
their form, balance and reproducibility; `top_eigenvalue` (whose start vector is free) against
the eigenvalues of the Hessian computed by `torch.autograd.functional.hessian`.

Only what the spec states is graded: no case depends on the reference's own extra choices
(casting v or probes to theta's dtype, losses with more than one element, a negative tol,
empty alphas or betas, layer_in == layer_out, NaN factors, the dtype of a
direction that differs from theta's, the order of the keys `filter_normalize` returns; a
ValueError for theta's keys in another order than direction's is accepted). "Never modifies its
inputs" includes theta's `.grad`: a gradient left there by `.backward()` through theta makes the
next call of the function add to it. (Eigenvalues exactly ±tol in `classify_critical_point`
are graded: the spec's strict "> tol" and "< −tol" decide them.)
"""

from __future__ import annotations

# Importing a module registers its graded function: in notebook order, never sorted.
# isort: off
from . import hvp
from . import rademacher_probes
from . import hutchinson_trace
from . import expected_loss_increase
from . import perturbed_loss_increase
from . import spectrum_trace
from . import top_eigenvalue
from . import classify_critical_point
from . import rescale_hidden_units
from . import filter_normalize
from . import loss_surface

# isort: on
from .rescale_hidden_units import network_output
from .top_eigenvalue import (
    EIGEN_MAX_GAP_RATIO,
    NUM_ITERS_SPECTRUM,
    NUM_ITERS_SPREAD,
    hessian_eigenvalues,
)

__all__ = [
    "EIGEN_MAX_GAP_RATIO",
    "NUM_ITERS_SPECTRUM",
    "NUM_ITERS_SPREAD",
    "classify_critical_point",
    "expected_loss_increase",
    "filter_normalize",
    "hessian_eigenvalues",
    "hutchinson_trace",
    "hvp",
    "loss_surface",
    "network_output",
    "perturbed_loss_increase",
    "rademacher_probes",
    "rescale_hidden_units",
    "spectrum_trace",
    "top_eigenvalue",
]
