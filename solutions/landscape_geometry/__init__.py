"""Reference solutions for notebook 02, landscape geometry.

Hessian-vector products, Hutchinson's trace estimator, sharpness under Gaussian perturbation,
power iteration for the top Hessian eigenvalue, the classification of critical points, the
rescaling symmetry of ReLU networks (Dinh et al. 2017) and filter-normalised 2-D loss surfaces
(Li et al. 2018).

"Flat" functions take `loss_fn`, a callable from a 1-D parameter tensor `theta` of length d to a
0-d loss tensor (`landscape_lab.flat_loss_fn` builds one from a model and data). They never
modify `theta` nor change its `requires_grad`: every autograd computation runs on a detached
clone.

Hessian products: `hutchinson_trace` and `top_eigenvalue` run the forward and the first
backward pass once and then one more backward pass through the gradient's graph per
Hessian-vector product, one probe or iterate at a time. Batching the probes
(`is_grads_batched=True`, `torch.func.vmap`) computes the same numbers but is slower on a CPU:
the six large matrix products of every product stay, and the batched activations no longer
fit in cache (benchmarks/bench_pyhessian.py compares both with PyHessian).

Batched evaluation: `loss_surface` and `perturbed_loss_increase` evaluate chunks of parameter
vectors with `torch.func.vmap(loss_fn)`. If the batched path fails for a given `loss_fn` (an
operation without a batching rule, a data-dependent branch, randomness), they fall back to a
plain loop, which gives the same values up to floating-point rounding.
(benchmarks/bench_geometry.py measures both against plain loops; it also raises glibc's
malloc thresholds, which keeps the chunks' activations from being faulted in again for every
chunk.)

Every graded function here is also the model answer of its answer cell in
``source/landscapes/02_landscape_geometry.ipynb``: the notebook builder splices its source
(signature and docstring, which match the notebook's, then the body) into that cell after the
cell's preamble (its imports and constants). So a function body uses only builtins, the names
of its cell's preamble, graded functions of earlier cells, and names it defines or imports
itself; the module-level imports and constants of its modules are those of the preambles.
"""

from __future__ import annotations

from .curvature import BLOCK as BLOCK
from .curvature import EULER_GAMMA as EULER_GAMMA
from .curvature import HARMONIC_SUM_MAX as HARMONIC_SUM_MAX
from .curvature import (
    expected_loss_increase,
    hutchinson_trace,
    hvp,
    perturbed_loss_increase,
    rademacher_probes,
    spectrum_trace,
)
from .surfaces import FILTER_NORM_EPS as FILTER_NORM_EPS
from .surfaces import (
    classify_critical_point,
    filter_normalize,
    loss_surface,
    rescale_hidden_units,
    top_eigenvalue,
)

__all__ = [
    "classify_critical_point",
    "expected_loss_increase",
    "filter_normalize",
    "hutchinson_trace",
    "hvp",
    "loss_surface",
    "perturbed_loss_increase",
    "rademacher_probes",
    "rescale_hidden_units",
    "spectrum_trace",
    "top_eigenvalue",
]
