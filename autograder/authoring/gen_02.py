"""Generate source/landscapes/02_landscape_geometry.ipynb (run from anywhere with the venv).

    python autograder/authoring/gen_02.py [output path]

The hidden-test cells are built from the check registry at generation time
(`autograder.checks.parts`), so rerun this script whenever the checks change.
The answer-cell sources (model solutions inside ### BEGIN/END SOLUTION) are the ANSWERS dict
below; they are self-contained re-implementations, never imports of `solutions`.
"""

from __future__ import annotations

from nbbuild import HIDDEN_POINTS, NotebookBuilder, output_path

# =============================================================================================
# Answer cells (graded functions, in teaching order)
# =============================================================================================

HVP = '''\
import torch


def hvp(loss_fn, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Exact Hessian-vector product H(theta) v by automatic differentiation.

    Inputs:
    - loss_fn: callable taking a 1-D float tensor of length d (flat parameters) and
      returning a 0-d loss tensor; twice differentiable by autograd. For a network,
      lab.flat_loss_fn(model, X, y) builds one.
    - theta: float tensor of shape (d,), the point where the Hessian is taken. It may or may
      not require grad; its values and its requires_grad flag must not change.
    - v: float tensor of shape (d,), the vector to multiply.

    Convention: H(theta) is the d x d matrix of second derivatives of loss_fn at theta. The
    product is exact (up to floating-point rounding): no finite differences.

    Returns:
    - a tensor of shape (d,) and theta's dtype, without autograd history: H(theta) v.
      A loss whose Hessian is zero (e.g. linear in theta) gives zeros.

    Raises:
    - ValueError (naming the argument) if loss_fn is not callable, theta is not a
      floating-point tensor with at least one entry, v does not have theta's shape, or
      loss_fn does not return a single number.

    Hint: work on a fresh leaf x = theta.detach().clone().requires_grad_(True). Take the
    gradient g with create_graph=True, then H v is the gradient of the number (g * v).sum().
    If the loss or g carries no graph, the Hessian is zero. Use torch.enable_grad() so that
    the function also works when called inside torch.no_grad().
    Reference: Pearlmutter (1994), Fast exact multiplication by the Hessian.
    """
    ### BEGIN SOLUTION
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point() or theta.numel() == 0:
        raise ValueError("theta must be a floating-point tensor with at least one entry")
    if not isinstance(v, torch.Tensor) or v.shape != theta.shape:
        shape = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise ValueError(f"v must have the shape of theta {tuple(theta.shape)}, got {shape}")
    v = v.detach().to(theta.dtype)
    zeros = torch.zeros_like(theta.detach())

    # A fresh leaf tensor: theta itself (values and requires_grad flag) is never touched.
    x = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("loss_fn must return a tensor with a single element")
        if not loss.requires_grad:  # the loss does not depend on theta at all
            return zeros
        # First backward pass, keeping its graph so that it can be differentiated again.
        (g,) = torch.autograd.grad(loss.reshape(()), x, create_graph=True, allow_unused=True)
        if g is None or not g.requires_grad:  # the gradient is constant: H = 0
            return zeros
        # Second backward pass (Pearlmutter's trick): H v = gradient of g(x) . v.
        (hv,) = torch.autograd.grad((g * v).sum(), x, allow_unused=True)
    return zeros if hv is None else hv.detach()
    ### END SOLUTION
'''

RADEMACHER = '''\
import numbers

import torch


def rademacher_probes(num_probes: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """Random sign vectors for Hutchinson's trace estimator.

    Inputs:
    - num_probes: int >= 1, the number of probe vectors (rows).
    - dim: int >= 1, the number of parameters d (columns).
    - generator: a torch.Generator, the ONLY source of randomness (the same generator
      state gives the same probes; the global random state is not used).

    Returns:
    - a float tensor (torch's default dtype, float32 unless changed) of shape
      (num_probes, dim) whose entries are exactly +1.0 or -1.0, each with probability 1/2.

    Raises:
    - ValueError (naming the argument) for num_probes < 1, dim < 1, a non-integer, or a
      generator that is not a torch.Generator.

    Hint: torch.randint(0, 2, shape, generator=generator) draws fair bits b in {0, 1};
    2 * b - 1 maps them to {-1, +1}.
    Reference: Hutchinson (1989).
    """
    ### BEGIN SOLUTION
    for name, value in (("num_probes", num_probes), ("dim", dim)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    bits = torch.randint(0, 2, (int(num_probes), int(dim)), generator=generator)  # 0 or 1
    return (2 * bits - 1).to(torch.get_default_dtype())  # -1 or +1
    ### END SOLUTION
'''

HUTCHINSON = '''\
import math

import torch


def hutchinson_trace(loss_fn, theta: torch.Tensor, probes: torch.Tensor) -> float:
    """Hutchinson's estimate of the trace of the Hessian: the mean of v^T H v over probes.

    Inputs:
    - loss_fn: callable from a 1-D float tensor of length d to a 0-d loss tensor.
    - theta: float tensor of shape (d,), the point where the Hessian is taken (not changed).
    - probes: tensor of shape (m, d), m >= 1; each row is one probe vector v (usually from
      rademacher_probes).

    Convention: the estimate is (1/m) * sum over the rows v of v^T H(theta) v, computed
    exactly for the probes given (no further randomness). With random probes whose entries
    are independent, mean 0 and variance 1, its expectation is tr H(theta).

    Returns:
    - a Python float.

    Raises:
    - ValueError (naming probes) if probes is not a 2-D tensor with d columns and at least
      one row (and the errors of hvp).

    Hint: one hvp per probe, then a dot product. Reshape each row to theta's shape.
    Reference: Hutchinson (1989), A stochastic estimator of the trace of the influence
    matrix for Laplacian smoothing splines.
    """
    ### BEGIN SOLUTION
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point() or theta.numel() == 0:
        raise ValueError("theta must be a floating-point tensor with at least one entry")
    if not isinstance(probes, torch.Tensor) or probes.dim() != 2 or probes.shape[1] != theta.numel():
        shape = tuple(probes.shape) if isinstance(probes, torch.Tensor) else type(probes).__name__
        raise ValueError(
            f"probes must be 2-D with one column per parameter, shape (m, {theta.numel()}); "
            f"got {shape}"
        )
    if probes.shape[0] == 0:
        raise ValueError("probes must have at least one row")
    quadratic_forms = []
    for row in probes.detach().to(theta.dtype):
        v = row.reshape(theta.shape)
        quadratic_forms.append(float((v * hvp(loss_fn, theta, v)).sum()))  # v^T H v
    return math.fsum(quadratic_forms) / len(quadratic_forms)
    ### END SOLUTION
'''

EXPECTED_LOSS_INCREASE = '''\
import math


def expected_loss_increase(hessian_trace: float, sigma: float) -> float:
    """Second-order prediction of the loss increase under isotropic Gaussian parameter noise.

    E[L(theta + eps)] - L(theta)  ~  sigma**2 / 2 * tr H     for eps ~ N(0, sigma**2 I)

    Inputs:
    - hessian_trace: real number, tr H at theta (Python, numpy or one-element torch
      number). Any sign is accepted: at a saddle the trace can be negative.
    - sigma: real number >= 0, the standard deviation of the noise on every parameter.

    Returns:
    - a Python float (worked example 2: trace 500 and sigma 0.01 give 0.025, trace 80
      gives 0.004).

    Raises:
    - ValueError (naming the argument) if sigma < 0, or either argument is not a real
      number or is NaN.

    Hint: float(x) converts Python, numpy and one-element torch numbers alike; reject
    bool and str first (float("1") would happily succeed).
    """
    ### BEGIN SOLUTION
    numbers_in = {}
    for name, value in (("hessian_trace", hessian_trace), ("sigma", sigma)):
        if isinstance(value, (bool, str, bytes)):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        try:
            numbers_in[name] = float(value)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be a real number, got {value!r}") from None
        if math.isnan(numbers_in[name]):
            raise ValueError(f"{name} must not be NaN")
    if numbers_in["sigma"] < 0:
        raise ValueError(f"sigma must be >= 0 (a standard deviation), got {numbers_in['sigma']}")
    return numbers_in["sigma"] ** 2 / 2 * numbers_in["hessian_trace"]
    ### END SOLUTION
'''

PERTURBED = '''\
import math

import torch


def perturbed_loss_increase(loss_fn, theta: torch.Tensor, noise: torch.Tensor) -> float:
    """Measured loss increase under given perturbations: mean_e L(theta + e) - L(theta).

    Inputs:
    - loss_fn: callable from a 1-D float tensor of length d to a 0-d loss tensor.
    - theta: float tensor of shape (d,) (not changed).
    - noise: tensor of shape (n, d), n >= 1; each row is one perturbation e of all the
      parameters (for instance sigma * torch.randn(n, d, generator=g)).

    Returns:
    - a Python float: (1/n) * sum over rows e of L(theta + e), minus L(theta). Computed
      without gradients.

    Raises:
    - ValueError (naming noise) if noise is not 2-D with d columns and at least one row.

    Hint: loop over the rows inside torch.no_grad(); add the Python floats up.
    Reference: the Monte-Carlo counterpart of expected_loss_increase (worked example 2).
    """
    ### BEGIN SOLUTION
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point() or theta.numel() == 0:
        raise ValueError("theta must be a floating-point tensor with at least one entry")
    if not isinstance(noise, torch.Tensor) or noise.dim() != 2 or noise.shape[1] != theta.numel():
        shape = tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__
        raise ValueError(
            f"noise must be 2-D with one column per parameter, shape (n, {theta.numel()}); "
            f"got {shape}"
        )
    if noise.shape[0] == 0:
        raise ValueError("noise must have at least one row")
    base = theta.detach()
    with torch.no_grad():
        loss_at_theta = float(loss_fn(base.clone()))
        perturbed = [
            float(loss_fn(base + e.reshape(base.shape))) for e in noise.detach().to(base.dtype)
        ]
    return math.fsum(perturbed) / len(perturbed) - loss_at_theta
    ### END SOLUTION
'''

SPECTRUM_TRACE = '''\
import math
import numbers

import numpy as np

EULER_GAMMA = 0.5772156649015329
"""The Euler-Mascheroni constant: sum_{k=1..n} 1/k - ln n tends to it."""
HARMONIC_SUM_MAX = 10**7
"""Up to this dim the terms 1/k are added up; beyond, the asymptotic expansion of the
harmonic number is exact to float64 rounding."""
BLOCK = 2**20
"""Terms 1/k summed per numpy block (keeps memory small at dim = 10**7)."""


def spectrum_trace(decay: str, dim: int) -> float:
    """Trace of a model Hessian spectrum of practice problem 2, as a discrete sum from k = 1.

    Inputs:
    - decay: "inverse" for the eigenvalues lambda_k = 1/k, or "exponential" for
      lambda_k = e**(-k), k = 1, ..., dim.
    - dim: integer >= 1, the number of eigenvalues (parameters). An integer-valued float
      such as 1e7 is accepted.

    Returns:
    - a Python float: sum_{k=1..dim} 1/k (the harmonic number H_dim, about
      ln(dim) + 0.5772) or sum_{k=1..dim} e**(-k) (which tends to 1/(e - 1) = 0.582, not 1).
      Fast for dim = 10**7 (well under a second).

    Raises:
    - ValueError (naming the argument) for another decay, dim < 1 or a non-integer dim.

    Hint: the exponential sum is a geometric series, (1 - e**(-dim)) / (e - 1). For the
    harmonic sum, add 1/k in numpy blocks (np.arange(..., dtype=np.float64)); for dims
    beyond 10**7 use H_n = ln n + gamma + 1/(2n) - 1/(12 n**2) + 1/(120 n**4) - ...
    """
    ### BEGIN SOLUTION
    if decay not in ("inverse", "exponential"):
        raise ValueError(f'decay must be "inverse" or "exponential", got {decay!r}')
    if (
        isinstance(dim, bool)
        or not isinstance(dim, numbers.Real)
        or not float(dim).is_integer()  # also rejects inf and NaN
    ):
        raise ValueError(f"dim must be an integer, got {dim!r}")
    n = int(dim)
    if n < 1:
        raise ValueError(f"dim must be at least 1, got {dim!r}")

    if decay == "exponential":
        # Geometric series: e^-1 + ... + e^-n = (1 - e^-n) / (e - 1); expm1 keeps it accurate.
        return -math.expm1(-n) / (math.e - 1.0)

    if n > HARMONIC_SUM_MAX:
        # Euler-Maclaurin: the next term, 1/(252 n^6), is far below float64 rounding here.
        return math.log(n) + EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2) + 1 / (120 * n**4)
    block_sums = []
    for start in range(1, n + 1, BLOCK):
        k = np.arange(start, min(start + BLOCK, n + 1), dtype=np.float64)
        block_sums.append(float(np.sum(1.0 / k)))
    return math.fsum(block_sums)
    ### END SOLUTION
'''

TOP_EIGENVALUE = '''\
import numbers

import torch


def top_eigenvalue(
    loss_fn, theta: torch.Tensor, *, num_iters: int = 100, generator: torch.Generator
) -> float:
    """The Hessian eigenvalue of largest magnitude, by power iteration with hvp.

    Inputs:
    - loss_fn: callable from a 1-D float tensor of length d to a 0-d loss tensor.
    - theta: float tensor of shape (d,) (not changed).
    - num_iters: int >= 1, the number of power-iteration steps (keyword only).
    - generator: torch.Generator, the only source of randomness (keyword only).

    Convention: start from v = g / ||g|| with g = torch.randn(theta.shape,
    generator=generator, dtype=theta.dtype); repeat num_iters times v <- H v / ||H v||;
    return the Rayleigh quotient v^T H v of the final v.

    Returns:
    - a Python float: the eigenvalue of largest ABSOLUTE value, which can be negative.
      0.0 if H v is exactly zero. (Power iteration converges when that eigenvalue is well
      separated from the others: the error shrinks like |lambda_2 / lambda_1|**num_iters.)

    Raises:
    - ValueError (naming the argument) for num_iters < 1 or a generator that is not a
      torch.Generator (and the errors of hvp).

    Hint: torch.linalg.vector_norm(v); return float((v * hvp(loss_fn, theta, v)).sum()).
    Reference: power iteration (von Mises & Pollaczek-Geiringer, 1929); the largest Hessian
    eigenvalue is the usual spectral measure of sharpness (discussed by Dinh et al., 2017).
    """
    ### BEGIN SOLUTION
    if isinstance(num_iters, bool) or not isinstance(num_iters, numbers.Integral) or num_iters < 1:
        raise ValueError(f"num_iters must be an integer >= 1, got {num_iters!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point() or theta.numel() == 0:
        raise ValueError("theta must be a floating-point tensor with at least one entry")

    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / torch.linalg.vector_norm(v)
    for _ in range(int(num_iters)):
        hv = hvp(loss_fn, theta, v)
        norm = torch.linalg.vector_norm(hv)
        if norm == 0:  # v lies in the null space of H
            return 0.0
        v = hv / norm
    # The Rayleigh quotient keeps the sign: a negative eigenvalue stays negative.
    return float((v * hvp(loss_fn, theta, v)).sum())
    ### END SOLUTION
'''

CLASSIFY = '''\
import math

import torch


def classify_critical_point(eigenvalues, tol: float = 1e-8) -> str:
    """Classify a critical point (gradient zero) by the eigenvalues of its Hessian.

    Inputs:
    - eigenvalues: 1-D list, tuple, numpy array or tensor of real numbers, at least one.
    - tol: float >= 0. An eigenvalue with |lambda| <= tol counts as zero.

    Convention, in this order:
    - "saddle"     if some eigenvalue > tol and some eigenvalue < -tol;
    - "minimum"    else if every eigenvalue > tol;
    - "maximum"    else if every eigenvalue < -tol;
    - "degenerate" otherwise (some eigenvalues are zero within tol, the others share a
      sign: the second-order test cannot decide).

    Returns:
    - one of the four strings.

    Raises:
    - ValueError (naming the argument) for no eigenvalues, a NaN, a value that is not a
      number, or a negative or NaN tol.

    Hint: torch.as_tensor(eigenvalues, dtype=torch.float64) accepts all the input types.
    Reference: the second-derivative test; in high dimensions most critical points of a
    loss are saddles (Dauphin et al., 2014).
    """
    ### BEGIN SOLUTION
    try:
        source = eigenvalues.detach() if isinstance(eigenvalues, torch.Tensor) else eigenvalues
        values = torch.as_tensor(source, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"eigenvalues must be a 1-D sequence of numbers, got {eigenvalues!r}") from None
    if values.dim() != 1 or values.numel() == 0:
        raise ValueError(f"eigenvalues must be 1-D and non-empty, got shape {tuple(values.shape)}")
    if torch.isnan(values).any():
        raise ValueError("eigenvalues contains NaN")
    tol = float(tol)
    if math.isnan(tol) or tol < 0:
        raise ValueError(f"tol must be a number >= 0, got {tol}")

    positive = values > tol
    negative = values < -tol
    if positive.any() and negative.any():
        return "saddle"
    if positive.all():
        return "minimum"
    if negative.all():
        return "maximum"
    return "degenerate"
    ### END SOLUTION
'''

RESCALE = '''\
from collections.abc import Mapping

import torch


def rescale_hidden_units(
    params: dict[str, torch.Tensor], layer_in: str, layer_out: str, c
) -> dict[str, torch.Tensor]:
    """Rescale the hidden units between two Linear layers without changing the function.

    Inputs:
    - params: Params of a network in which the Linear layer named layer_in is followed by
      a ReLU and then by the Linear layer named layer_out (in lab.make_mlp's nn.Sequential:
      "0" and "2", or "2" and "4"). params[layer_in + ".weight"] has shape (h, n_in),
      params[layer_out + ".weight"] has shape (n_out, h); the biases are optional.
    - layer_in, layer_out: the layer names (prefixes of the keys), e.g. "0" and "2".
    - c: a positive number (one factor for all h hidden units) or a 1-D tensor of h
      positive factors, one per hidden unit.

    Convention: row i of layer_in's weight and entry i of its bias are multiplied by c_i,
    column i of layer_out's weight is divided by c_i, layer_out's bias is unchanged.
    Because relu(c z) = c relu(z) for c > 0, the network computes exactly the same function
    (practice problem 4; Dinh et al. 2017).

    Returns:
    - new Params with the keys of params in the same order; every tensor is new and keeps
      its dtype (other keys are copies). params is not changed.

    Raises:
    - ValueError (naming the argument) if any factor is <= 0, a layer's weight is missing
      or not 2-D, or the shapes do not fit (h rows of the first weight, h columns of the
      second, a bias of length h, h factors).

    Hint: broadcast the factors: w_in * c[:, None] scales rows, w_out / c[None, :] scales
    columns. Compute in float64 and cast back to each tensor's dtype.
    """
    ### BEGIN SOLUTION
    if not isinstance(params, Mapping) or not all(isinstance(p, torch.Tensor) for p in params.values()):
        raise ValueError("params must be a dict of tensors")
    if not isinstance(layer_in, str) or not isinstance(layer_out, str) or layer_in == layer_out:
        raise ValueError(f"layer_in and layer_out must be two different layer names, got {layer_in!r}, {layer_out!r}")
    w_in_key, b_in_key, w_out_key = f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"
    for key, arg in ((w_in_key, "layer_in"), (w_out_key, "layer_out")):
        if key not in params:
            raise ValueError(f"params has no {key!r}: is {arg} the name of a Linear layer?")
        if params[key].dim() != 2 or not params[key].is_floating_point():
            raise ValueError(f"params[{key!r}] must be a 2-D float weight matrix")
    hidden = params[w_in_key].shape[0]  # one row of layer_in per hidden unit
    if params[w_out_key].shape[1] != hidden:
        raise ValueError(
            f"shapes do not fit: params[{w_in_key!r}] has {hidden} rows (hidden units) but "
            f"params[{w_out_key!r}] has {params[w_out_key].shape[1]} columns"
        )
    if b_in_key in params and params[b_in_key].shape != (hidden,):
        raise ValueError(f"params[{b_in_key!r}] must have shape ({hidden},)")

    # c as one float64 factor per hidden unit.
    if isinstance(c, bool):
        raise ValueError(f"c must be a positive number or a 1-D tensor, got {c!r}")
    try:
        factors = torch.as_tensor(c.detach() if isinstance(c, torch.Tensor) else c,
                                  dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"c must be a positive number or a 1-D tensor, got {c!r}") from None
    if factors.dim() == 0:
        factors = factors.expand(hidden)
    if factors.shape != (hidden,):
        raise ValueError(f"c must be a number or have one factor per hidden unit ({hidden}), "
                         f"got shape {tuple(factors.shape)}")
    if not (factors > 0).all():  # also rejects NaN
        raise ValueError("c must be positive: every factor must be > 0")

    rescaled = {}
    for key, value in params.items():
        value = value.detach()
        if key == w_in_key:  # incoming weights of unit i: row i times c_i
            new = value.to(torch.float64) * factors[:, None]
        elif key == b_in_key:  # the unit's bias too, so its pre-activation is c_i z_i
            new = value.to(torch.float64) * factors
        elif key == w_out_key:  # outgoing weights of unit i: column i divided by c_i
            new = value.to(torch.float64) / factors[None, :]
        else:
            rescaled[key] = value.clone()
            continue
        rescaled[key] = new.to(value.dtype)
    return rescaled
    ### END SOLUTION
'''

FILTER_NORMALIZE = '''\
from collections.abc import Mapping

import torch

FILTER_NORM_EPS = 1e-10
"""Added to each filter's direction norm, so that an all-zero filter does not divide by 0."""


def filter_normalize(
    direction: dict[str, torch.Tensor], theta: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Filter-normalise a random direction in parameter space (Li et al. 2018).

    Inputs:
    - direction: Params, the raw direction (e.g. Gaussian), same keys and shapes as theta.
    - theta: Params, the network's parameters (the point the plot is centred on).

    Convention: for every tensor with dim >= 2 and every filter i (index i along dim 0: a
    row of a Linear weight = the incoming weights of one unit, an output channel of a
    convolution kernel):
        d_i  <-  d_i * ||theta_i|| / (||d_i|| + FILTER_NORM_EPS)
    with Frobenius norms over the remaining dims, so each filter of the direction gets the
    norm of the matching filter of the weights. Every tensor with dim <= 1 (biases,
    normalisation layers) becomes zeros ("ignore biasbn").

    Returns:
    - new Params with direction's keys in the same order and direction's dtypes. Neither
      input is changed.

    Raises:
    - ValueError (naming the arguments) if the keys or shapes of direction and theta
      differ.

    Hint: view a tensor as (n_filters, -1) with d.reshape(d.shape[0], -1); then
    torch.linalg.vector_norm(..., dim=1) gives one norm per filter.
    Reference: Li, Xu, Taylor, Studer & Goldstein (2018), Visualizing the Loss Landscape
    of Neural Nets.
    """
    ### BEGIN SOLUTION
    for name, params in (("direction", direction), ("theta", theta)):
        if not isinstance(params, Mapping) or not all(
            isinstance(p, torch.Tensor) for p in params.values()
        ):
            raise ValueError(f"{name} must be a dict of tensors")
    if set(direction) != set(theta):
        raise ValueError(
            f"direction and theta have different keys: {sorted(set(direction) ^ set(theta))}"
        )
    for key in direction:
        if direction[key].shape != theta[key].shape:
            raise ValueError(
                f"direction[{key!r}] has shape {tuple(direction[key].shape)} but "
                f"theta[{key!r}] has shape {tuple(theta[key].shape)}"
            )

    normalized = {}
    for key, d in direction.items():
        d = d.detach()
        if d.dim() <= 1:  # biases and norm-layer parameters are not perturbed
            normalized[key] = torch.zeros_like(d)
            continue
        t = theta[key].detach().to(d.dtype)
        d_norms = torch.linalg.vector_norm(d.reshape(d.shape[0], -1), dim=1)  # one per filter
        t_norms = torch.linalg.vector_norm(t.reshape(t.shape[0], -1), dim=1)
        scale = t_norms / (d_norms + FILTER_NORM_EPS)
        normalized[key] = d * scale.reshape(-1, *([1] * (d.dim() - 1)))  # broadcast per filter
    return normalized
    ### END SOLUTION
'''

LOSS_SURFACE = '''\
import torch


def loss_surface(loss_fn, theta: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor,
                 alphas, betas) -> torch.Tensor:
    """The loss on a plane through theta: Z[i, j] = L(theta + alphas[i] d1 + betas[j] d2).

    Inputs:
    - loss_fn: callable from a 1-D float tensor of length d to a 0-d loss tensor.
    - theta: float tensor of shape (d,), the centre of the plane (not changed).
    - d1, d2: tensors of shape (d,), the two directions (e.g. flattened filter-normalised
      directions: lab.flatten_params(filter_normalize(...))).
    - alphas: 1-D list, numpy array or tensor of A >= 1 coefficients of d1.
    - betas: 1-D list, numpy array or tensor of B >= 1 coefficients of d2.

    Returns:
    - a tensor of shape (A, B) in the loss's dtype, without gradients: row i belongs to
      alphas[i], column j to betas[j] (lab.plot_surface expects exactly this layout).

    Raises:
    - ValueError (naming the argument) if d1 or d2 do not have theta's shape, or alphas or
      betas are empty, not 1-D or contain NaN.

    Hint: a double loop over alphas and betas inside torch.no_grad() is fine here (625
    small forward passes take a fraction of a second); torch.stack the rows.
    Reference: the 2-D random-plane plots of Li et al. (2018); the 1-D version is
    Goodfellow, Vinyals & Saxe (2015).
    """
    ### BEGIN SOLUTION
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point() or theta.numel() == 0:
        raise ValueError("theta must be a floating-point tensor with at least one entry")
    for name, direction in (("d1", d1), ("d2", d2)):
        if not isinstance(direction, torch.Tensor) or direction.shape != theta.shape:
            raise ValueError(f"{name} must be a tensor of theta's shape {tuple(theta.shape)}")
    coefficients = {}
    for name, values in (("alphas", alphas), ("betas", betas)):
        try:
            source = values.detach() if isinstance(values, torch.Tensor) else values
            values = torch.as_tensor(source, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be a 1-D sequence of numbers") from None
        if values.dim() != 1 or values.numel() == 0:
            raise ValueError(f"{name} must be 1-D with at least one value, got shape "
                             f"{tuple(values.shape)}")
        if torch.isnan(values).any():
            raise ValueError(f"{name} contains NaN")
        coefficients[name] = values.tolist()

    base = theta.detach()
    d1, d2 = d1.detach().to(base.dtype), d2.detach().to(base.dtype)
    rows = []
    with torch.no_grad():
        for alpha in coefficients["alphas"]:
            row = [loss_fn(base + alpha * d1 + beta * d2).reshape(())
                   for beta in coefficients["betas"]]
            rows.append(torch.stack(row))
    return torch.stack(rows)
    ### END SOLUTION
'''

ANSWERS = {
    "hvp": HVP,
    "rademacher_probes": RADEMACHER,
    "hutchinson_trace": HUTCHINSON,
    "expected_loss_increase": EXPECTED_LOSS_INCREASE,
    "perturbed_loss_increase": PERTURBED,
    "spectrum_trace": SPECTRUM_TRACE,
    "top_eigenvalue": TOP_EIGENVALUE,
    "classify_critical_point": CLASSIFY,
    "rescale_hidden_units": RESCALE,
    "filter_normalize": FILTER_NORMALIZE,
    "loss_surface": LOSS_SURFACE,
}


OUT = output_path("02_landscape_geometry.ipynb")

FUNCTIONS = list(ANSWERS)

builder = NotebookBuilder(
    answers=ANSWERS, leak_guard=("code", "answer", "visible"), require_checks=False
)
md, code, graded = builder.md, builder.code, builder.graded

SECTIONS = {
    "hvp": "1", "rademacher_probes": "2", "hutchinson_trace": "2",
    "expected_loss_increase": "3.1", "perturbed_loss_increase": "3.1", "spectrum_trace": "3.2",
    "top_eigenvalue": "4.1", "classify_critical_point": "4.2", "rescale_hidden_units": "5",
    "filter_normalize": "6.1", "loss_surface": "6.2",
}


TABLE, TOTAL = builder.points_table(FUNCTIONS, SECTIONS)

# =============================================================================================
# Title, grading, conventions, setup
# =============================================================================================

md("title", r"""
# Notebook 02 — Landscape geometry: curvature, sharpness, scale invariance and 2-D pictures

*Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 2 of 4.*

Notebook 01 walked *between* solutions. This notebook looks closely at *one* solution: how
curved is the loss around it, in which directions, and what does that curvature tell us?
"Flat minima generalise better" is one of the most quoted ideas about deep learning — and one
of the most misquoted. You will build the tools to measure flatness on real (tiny) networks
without ever forming the Hessian matrix, test the idea on large- and small-batch training,
break it with a reparameterisation that does not change the network's function, and draw
the 2-D pictures of loss landscapes that appear in so many papers — correctly normalised.

**Learning objectives.** After this notebook you can

1. multiply by the Hessian of a network's loss without forming it (Pearlmutter, 1994), and
   explain why finite differences are not good enough;
2. estimate the trace of the Hessian with Hutchinson's estimator (Hutchinson, 1989) and
   say how noisy the estimate is;
3. connect the trace to the loss increase under random parameter noise (worked example 2),
   and compute the traces of model spectra exactly (practice problem 2);
4. find the largest Hessian eigenvalue by power iteration and classify a critical point from
   its spectrum;
5. compare the minima found by large- and small-batch training (Keskar et al., 2017), and show
   with the rescaling symmetry of ReLU networks why raw sharpness is not a property of the
   function a network computes (Dinh et al., 2017; practice problem 4);
6. draw filter-normalised 2-D pictures of a loss landscape (Li et al., 2018) and say what
   they can and cannot show.
""")

md("grading", rf"""
## How this notebook is graded

You implement **{len(FUNCTIONS)} functions**, each in its own cell, in the order they are taught.
Replace the line `raise NotImplementedError()` with your code; do not rename the functions or
change their arguments (the grader finds them by name). Later functions may call earlier ones
(`hutchinson_trace` and `top_eigenvalue` call `hvp`), so work top to bottom.

Under every function there is

* one **visible test** cell (no points: a self-check for you; the hidden tests carry the
  grade): run it yourself — it checks the worked
  example of the course text and simple cases with known answers (quadratic losses, whose
  Hessian you can write down), and its messages tell you what is wrong;
* several **hidden test** cells ({HIDDEN_POINTS} point each), one per property of the contract
  (the cell names the property). They are empty in your copy and run at grading time on
  cases you have not seen (random inputs, small networks, edge cases, "does not modify its
  inputs", bad input). A hidden cell earns its point when every case of its property passes;
  the feedback names the first failing case, what came back and what was expected.

{TABLE}

The written answers to practice problems 2 and 4, and the question about reading the landscape
plot of section 6 (the figure drawn by the cell `demo-surface`), are part of notebook 04.
The demonstration cells (grey, read-only) are not graded: they run your functions on real
networks. Until the functions they use are implemented they print
`(demonstration skipped: ...)` instead of failing, so you can run the notebook top to bottom
at any time. The whole notebook runs in well under a minute on a laptop CPU.
""")

md("conventions", r"""
## Conventions (the same in all four notebooks, plus flat parameter vectors)

* **Parameters as data.** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
  `model.named_parameters()`, e.g. `{"0.weight": ..., "0.bias": ..., "2.weight": ..., ...}`.
  `lab.params_of(model)` returns a detached copy of a model's parameters.
* **Flat parameters.** Curvature is about *all* parameters at once, so most functions here take
  one 1-D tensor `theta` of length $d$ (the number of parameters): `lab.flatten_params(params)`
  concatenates the tensors of a `Params` dict in key order, `lab.unflatten_params(theta, like)`
  splits it back. A **`loss_fn`** is a callable from such a `theta` to a 0-d loss tensor;
  `lab.flat_loss_fn(model, X, y)` builds the mean cross-entropy of a model on data as one
  (it is differentiable twice and works with `torch.func`). Probes and noise are 2-D tensors
  with **one row per vector** and one column per parameter, shape $(m, d)$.
* **Paths and planes.** In notebooks 01 and 03 a path is
  $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$, so $\alpha = 0$ is $\theta_a$. Here
  $\alpha$ and $\beta$ are coordinates on a plane through one point,
  $\theta + \alpha\,d_1 + \beta\,d_2$: $\alpha = \beta = 0$ is $\theta$ itself.
* **Losses** are mean cross-entropy over the given data.
* **Never modify your inputs** — tensors, dicts, models — and do not change a tensor's
  `requires_grad` flag. Work on `theta.detach().clone()` when you need a leaf for autograd.
* **Randomness** comes only from the `torch.Generator` you are given, never from the global
  random state.
* **Scalars are Python numbers**: return `float(...)` (or `str` for a classification), not a
  0-d tensor. Tensors keep the dtype of the input unless the docstring says otherwise.
* **Bad input raises `ValueError`** with a message that names the offending argument.
* `landscape_lab.py` (imported as `lab`) holds the data set, the models, training and the
  plots. It is not graded and is restored from the release when your work is graded.
""")

code("setup", r"""
%matplotlib inline
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
""")

# =============================================================================================
# 1. Hessian-vector products
# =============================================================================================

md("hvp-intro", r"""
## 1. Curvature: the Hessian and Hessian-vector products

Near a point $\theta$ the loss is, to second order,

$$L(\theta + \epsilon) \;\approx\; L(\theta) + g^\top\epsilon + \tfrac12\,\epsilon^\top H\,\epsilon,
\qquad g = \nabla L(\theta),\quad H = \nabla^2 L(\theta),\quad H_{ij} = \frac{\partial^2 L}{\partial\theta_i\,\partial\theta_j}.$$

$H$ is a symmetric $d\times d$ matrix with real eigenvalues $\lambda_1, \dots, \lambda_d$ and
orthonormal eigenvectors $u_1, \dots, u_d$. At a minimum $g = 0$ and the Hessian alone says
how fast the loss rises: along $u_k$, $L(\theta + t\,u_k) \approx L(\theta) + \tfrac12\lambda_k t^2$.
A large $\lambda_k$ is a steep wall (a *sharp* direction), a small one a *flat* direction, and a
negative one a direction in which the loss still goes *down*.

**The problem is size.** The main MLPs of this notebook have $d = 1284$ parameters, so their Hessian
has 1.6 million entries — still fine. A ResNet-50 has $d \approx 25$ million: its Hessian would
have $6\times10^{14}$ entries, 2.5 petabytes in float32. So everything below uses $H$ only
through **Hessian-vector products** $Hv$, which automatic differentiation computes *exactly* at
the cost of about two gradient evaluations, without ever forming $H$:

$$Hv \;=\; \nabla_\theta\big(\nabla_\theta L(\theta)^\top v\big)\qquad(v \text{ fixed}),$$

the gradient of the scalar function $\theta \mapsto g(\theta)^\top v$. This is Pearlmutter's
trick (Pearlmutter, 1994, *Fast exact multiplication by the Hessian*). In PyTorch: a first
backward pass with `create_graph=True`, so that the gradient $g(\theta)$ is itself a
differentiable function of $\theta$; the dot product with $v$; a second backward pass.

**Why not finite differences?** $Hv \approx \big(g(\theta + hv) - g(\theta - hv)\big)/(2h)$ has a
truncation error that shrinks like $h^2$ and a rounding error that *grows* like
$\varepsilon_{\text{machine}}/h$. In float32 ($\varepsilon \approx 1.2\times10^{-7}$) no step $h$
gives more than a few correct digits; the demonstration below shows it.

Details of the contract: `theta` may or may not require grad — take the gradient with respect
to a detached clone, so that neither the caller's tensor nor its `requires_grad` flag changes;
return a result without autograd history; if the loss is linear in $\theta$ (or does not
depend on it), the Hessian is zero and autograd has nothing to differentiate the second time —
return zeros. And open a `torch.enable_grad()` block: callers may well be inside
`torch.no_grad()`.
""")

graded("hvp", r'''
# Visible tests for `hvp` on losses whose Hessian is known exactly.
_A = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]], dtype=torch.float64)
_b = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


def _quadratic(theta):
    # L = 1/2 theta^T A theta + b^T theta: gradient A theta + b, Hessian A (everywhere)
    return 0.5 * theta @ (_A @ theta) + _b @ theta


_theta = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
_v = torch.tensor([1.0, 0.0, -2.0], dtype=torch.float64)
_hv = hvp(_quadratic, _theta, _v)
assert isinstance(_hv, torch.Tensor), f"hvp should return a tensor, got {type(_hv).__name__}"
assert _hv.shape == (3,) and _hv.dtype == torch.float64, (
    f"H v has theta's shape (3,) and dtype float64, got {tuple(_hv.shape)} {_hv.dtype}")
assert torch.allclose(_hv, _A @ _v), f"for a quadratic, H v = A v = {(_A @ _v).tolist()}; got {_hv.tolist()}"
assert not _theta.requires_grad, "hvp must not switch on theta.requires_grad (work on a detached clone)"
_theta_rg = _theta.clone().requires_grad_(True)
assert torch.allclose(hvp(_quadratic, _theta_rg, _v), _A @ _v), "a theta that requires grad gives the same H v"
assert _theta_rg.requires_grad, "hvp must not switch off theta.requires_grad either"
_cubic = hvp(lambda th: (th**3).sum() / 3, _theta, _v)
assert torch.allclose(_cubic, 2 * _theta * _v), (
    f"L = sum(theta**3) / 3 has Hessian diag(2 theta), so H v = 2 theta * v = {(2 * _theta * _v).tolist()}; "
    f"got {_cubic.tolist()}")
_zero = hvp(lambda th: _b @ th, _theta, _v)
assert torch.equal(_zero, torch.zeros(3, dtype=torch.float64)), (
    f"a linear loss has Hessian 0, so H v must be zeros; got {_zero}")
with torch.no_grad():
    assert torch.allclose(hvp(_quadratic, _theta, _v), _A @ _v), "hvp must also work inside torch.no_grad()"
try:
    hvp(_quadratic, _theta, torch.ones(4, dtype=torch.float64))
except ValueError:
    pass
else:
    raise AssertionError("v of shape (4,) for theta of shape (3,) should raise ValueError")
print("hvp: visible tests passed")
''')

md("demo-tiny-intro", r"""
### A network small enough for its full Hessian

To check the tools against exact answers we use one network whose full Hessian *is* affordable:
a 2 → 16 → 4 ReLU MLP with $d = 116$ parameters, trained on the 4-arm spiral of notebook 01
(`lab.make_dataset()`: 1024 training and 1024 test points, chance accuracy 0.25) with
full-batch Adam. `torch.autograd.functional.hessian` builds the $116\times116$ matrix
column by column — $d$ backward passes, fine for $d = 116$, hopeless for $d = 10^7$. All
exact comparisons are in float64. The loss whose geometry we study is the **training** loss.
""")

code("demo-tiny-model", r"""
DATA = lab.make_dataset(seed=0)  # the 4-arm spiral: 1024 training and 1024 test points
X_train, y_train, X_test, y_test = DATA.X_train, DATA.y_train, DATA.X_test, DATA.y_test
N_TRAIN = X_train.shape[0]

tiny = lab.make_mlp(hidden=(16,), seed=0)  # 2 -> 16 -> 4, ReLU
lab.train(tiny, X_train, y_train, steps=1000, lr=0.01, batch_size=N_TRAIN, seed=0)  # full batch
tiny_loss = lab.flat_loss_fn(tiny, X_train, y_train)             # theta -> training loss
theta_tiny = lab.flatten_params(lab.params_of(tiny)).double()     # float64 for exact checks
H_tiny = torch.autograd.functional.hessian(tiny_loss, theta_tiny)  # the full d x d Hessian
grad_tiny = torch.func.grad(tiny_loss)(theta_tiny)

test_loss, test_acc = lab.evaluate(tiny, X_test, y_test)
print(f"tiny network: d = {theta_tiny.numel()} parameters, training loss {float(tiny_loss(theta_tiny)):.4f}, "
      f"test accuracy {test_acc:.3f}")
print(f"Hessian {tuple(H_tiny.shape)}, symmetric: {torch.allclose(H_tiny, H_tiny.T)}, "
      f"trace {float(H_tiny.trace()):.3f}; gradient norm {float(grad_tiny.norm()):.1e}")
""")

code("demo-hvp", r"""
with needs("hvp"):
    g = torch.Generator().manual_seed(0)
    v = torch.randn(theta_tiny.shape, generator=g, dtype=torch.float64)
    exact = H_tiny @ v
    scale = float(exact.norm())
    print(f"hvp, float64:  |hvp - H v| / |H v| = {float((hvp(tiny_loss, theta_tiny, v) - exact).norm()) / scale:.1e}")
    theta32, v32 = theta_tiny.float(), v.float()
    print(f"hvp, float32:  |hvp - H v| / |H v| = "
          f"{float((hvp(tiny_loss, theta32, v32).double() - exact).norm()) / scale:.1e}")
    grad32 = torch.func.grad(tiny_loss)  # the gradient function, evaluated in float32 below
    for h in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5):
        finite_difference = (grad32(theta32 + h * v32) - grad32(theta32 - h * v32)) / (2 * h)
        error = float((finite_difference.double() - exact).norm()) / scale
        print(f"central finite difference, float32, h = {h:.0e}:  relative error {error:.1e}")
""")

md("demo-hvp-after", r"""
**What to look for.** In float64, `hvp` agrees with the full Hessian to about 15 digits; in
float32 to about 7 — the rounding of the format, nothing more. The finite differences are never
that good: for a large step $h$ the error is truncation (the gradient is not linear over the
step; with ReLUs it even has kinks), for a small step it is rounding (two nearly equal gradients
are subtracted and divided by a tiny $h$). The best $h$ sits in between and depends on the
problem. `hvp` has no step to tune.
""")

# =============================================================================================
# 2. Hutchinson
# =============================================================================================

md("hutchinson-intro", r"""
## 2. The trace without the matrix: Hutchinson's estimator

The **trace** $\operatorname{tr} H = \sum_i H_{ii} = \sum_k \lambda_k$ is the sum of the
curvatures along all $d$ eigen-directions ($d$ times the average curvature). Hutchinson (1989,
*A stochastic estimator of the trace of the influence matrix for Laplacian smoothing splines*)
noticed that for a random vector $v$ with $\mathbb{E}[v v^\top] = I$,

$$\mathbb{E}\big[v^\top H v\big] = \mathbb{E}\big[\operatorname{tr}(H\,v v^\top)\big]
= \operatorname{tr}\big(H\,\mathbb{E}[v v^\top]\big) = \operatorname{tr} H .$$

So the average of $v^\top H v$ over $m$ random **probes** is an unbiased estimate of the trace,
and each probe costs one `hvp`.

**Which probes?** *Rademacher* probes have independent entries $\pm1$ with probability ½ each,
so $\mathbb{E}[v_i v_j] = 1$ if $i = j$ and 0 otherwise. Then

$$v^\top H v = \sum_i H_{ii}\,v_i^2 + \sum_{i\ne j} H_{ij}\,v_i v_j
= \operatorname{tr} H + \sum_{i\ne j} H_{ij}\,v_i v_j ,$$

because $v_i^2 = 1$ exactly: the diagonal contributes no noise at all. One probe has variance
$2\sum_{i\ne j} H_{ij}^2$; with Gaussian probes it would be $2\|H\|_F^2$, which adds
$2\sum_i H_{ii}^2$. Hutchinson showed that $\pm1$ entries give the smallest variance among probes
with independent, zero-mean, unit-variance entries. The mean of $m$ probes has standard
deviation $\text{std}/\sqrt m$: halving the error costs four times as many probes.

For the *given* probes the estimate is a fixed number — there is no randomness inside
`hutchinson_trace`. With all $2^d$ sign vectors as probes, $\frac{1}{2^d}\sum_v vv^\top = I$
exactly and the estimate *is* the trace (the visible test uses this for $d = 3$).

`rademacher_probes` draws its signs **only** from the generator it is given: the same generator
state gives the same probes, and the global random state is untouched — reproducible
experiments depend on it.
""")

graded("rademacher_probes", r'''
# Visible tests for `rademacher_probes`.
_P = rademacher_probes(5, 1000, torch.Generator().manual_seed(0))
assert isinstance(_P, torch.Tensor), f"return a tensor, got {type(_P).__name__}"
assert _P.shape == (5, 1000), f"one row per probe, one column per parameter: expected (5, 1000), got {tuple(_P.shape)}"
assert _P.dtype == torch.get_default_dtype(), f"expected the default dtype {torch.get_default_dtype()}, got {_P.dtype}"
assert ((_P == 1.0) | (_P == -1.0)).all(), f"every entry must be exactly +1.0 or -1.0, got values {_P.unique().tolist()}"
_plus = float((_P == 1.0).float().mean())
assert 0.45 < _plus < 0.55, f"+1 and -1 should be equally likely; got a fraction {_plus:.3f} of +1"
assert torch.equal(rademacher_probes(5, 1000, torch.Generator().manual_seed(0)), _P), (
    "the same generator state must give the same probes (draw from `generator` only)")
assert not torch.equal(rademacher_probes(5, 1000, torch.Generator().manual_seed(1)), _P), (
    "another seed should give other probes")
_state = torch.get_rng_state()
rademacher_probes(3, 10, torch.Generator().manual_seed(0))
assert torch.equal(torch.get_rng_state(), _state), "do not draw from the global random generator"
try:
    rademacher_probes(0, 10, torch.Generator())
except ValueError:
    pass
else:
    raise AssertionError("num_probes = 0 should raise ValueError")
print("rademacher_probes: visible tests passed")
''')

graded("hutchinson_trace", r'''
# Visible tests for `hutchinson_trace` on a quadratic with Hessian A (trace 2 + 3 + 4 = 9).
_A = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]], dtype=torch.float64)


def _quadratic(theta):
    return 0.5 * theta @ (_A @ theta)


_theta = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
_all_signs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=3)), dtype=torch.float64)
_estimate = hutchinson_trace(_quadratic, _theta, _all_signs)
assert isinstance(_estimate, float), f"return a Python float, got {type(_estimate).__name__}"
assert abs(_estimate - 9.0) < 1e-9, (
    f"with all 8 sign vectors the estimate is exact: tr A = 9; got {_estimate}")
_one = torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64)
assert abs(hutchinson_trace(_quadratic, _theta, _one) - 13.0) < 1e-9, (
    "one probe v = (1, 1, -1): v^T A v = 13 (the estimate is exact FOR THE GIVEN PROBES)")
_two = torch.tensor([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]], dtype=torch.float64)
assert abs(hutchinson_trace(_quadratic, _theta, _two) - 11.0) < 1e-9, (
    "two probes with v^T A v = 13 and 9: the estimate is their mean, 11")
_diagonal = torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
_random_signs = rademacher_probes(4, 3, torch.Generator().manual_seed(0)).double()
assert abs(hutchinson_trace(lambda th: 0.5 * th @ (_diagonal @ th), _theta, _random_signs) - 6.0) < 1e-9, (
    "for a diagonal Hessian every sign vector gives the exact trace (v_i**2 = 1)")
try:
    hutchinson_trace(_quadratic, _theta, torch.ones(2, 4, dtype=torch.float64))
except ValueError:
    pass
else:
    raise AssertionError("probes with 4 columns for 3 parameters should raise ValueError")
print("hutchinson_trace: visible tests passed")
''')

md("demo-hutchinson-intro", r"""
### Demonstration: Hutchinson's estimate converging to the exact trace

On the tiny network of section 1 we know the exact trace (from the full Hessian). We draw 300
Rademacher probes, take the estimate of each probe alone and plot the running mean over the
first $k$ probes, with a band of $\pm1$ standard deviation of that mean (the sample standard
deviation of the single-probe values divided by $\sqrt k$). The predicted standard deviation
of one probe, $\sqrt{2\sum_{i\ne j}H_{ij}^2}$, is printed next to the measured one.
""")

code("demo-hutchinson", r"""
NUM_PROBES = 300

with needs("hvp", "rademacher_probes", "hutchinson_trace"):
    exact_trace = float(H_tiny.trace())
    probes = rademacher_probes(NUM_PROBES, theta_tiny.numel(), torch.Generator().manual_seed(0))
    # The estimate of each probe on its own, then the running mean over the first k probes.
    single = torch.tensor([hutchinson_trace(tiny_loss, theta_tiny, probes[i : i + 1])
                           for i in range(NUM_PROBES)], dtype=torch.float64)
    k = torch.arange(1, NUM_PROBES + 1, dtype=torch.float64)
    running_mean = single.cumsum(0) / k
    running_var = (torch.cumsum(single**2, 0) - k * running_mean**2) / (k - 1).clamp(min=1)
    band = (running_var.clamp(min=0) / k).sqrt()  # std of the mean of k probes
    all_at_once = hutchinson_trace(tiny_loss, theta_tiny, probes)

    off_diagonal = float((H_tiny**2).sum() - (H_tiny.diagonal() ** 2).sum())
    print(f"exact trace (full Hessian):          {exact_trace:8.3f}")
    for m in (10, 30, 100, 300):
        print(f"Hutchinson, {m:3d} probes:            {float(running_mean[m - 1]):8.3f} "
              f"+- {float(band[m - 1]):.3f}")
    print(f"hutchinson_trace of all {NUM_PROBES} at once:   {all_at_once:8.3f} (the same mean)")
    print(f"std of one probe: measured {float(single.std()):.2f}, "
          f"predicted sqrt(2 sum_(i!=j) H_ij^2) = {math.sqrt(2 * off_diagonal):.2f}")

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(k[1:], running_mean[1:], label="running mean of $v^T H v$")
    ax.fill_between(k[1:].numpy(), (running_mean - band)[1:].numpy(), (running_mean + band)[1:].numpy(),
                    alpha=0.3, label="$\\pm 1$ std of the mean")
    ax.axhline(exact_trace, color="black", linestyle="--", label=f"exact trace {exact_trace:.2f}")
    ax.set_xscale("log")
    ax.set_xlabel("number of Rademacher probes $k$")
    ax.set_ylabel("estimate of tr $H$")
    ax.set_title("Hutchinson's estimator on the tiny network (d = 116)")
    ax.legend(fontsize="small")
    plt.show()
""")

md("demo-hutchinson-after", r"""
**What to look for.** A single probe can be far off (its standard deviation is of the order of
the trace itself), but the running mean settles onto the exact trace and the band narrows like
$1/\sqrt k$; the exact value stays inside (or close to) the band. The measured spread of one
probe matches the prediction $\sqrt{2\sum_{i\ne j}H_{ij}^2}$. For a network with millions of
parameters nothing changes except the price of one `hvp`: a few hundred probes give the trace to
a few percent — and one should always report that error bar.
""")

# =============================================================================================
# 3. Sharpness and perturbations
# =============================================================================================

md("sharpness-intro", r"""
## 3. What the trace measures: sensitivity to parameter noise

### 3.1 Worked example 2

Perturb every parameter with independent Gaussian noise, $\epsilon \sim \mathcal N(0, \sigma^2 I)$,
and average the second-order expansion over the noise. $\mathbb E[g^\top\epsilon] = 0$, and
$\mathbb E[\epsilon^\top H \epsilon] = \operatorname{tr}(H\,\mathbb E[\epsilon\epsilon^\top]) =
\sigma^2\operatorname{tr} H$ — the identity behind Hutchinson's estimator again. So

$$\mathbb E\big[L(\theta + \epsilon)\big] \;\approx\; L(\theta) + \frac{\sigma^2}{2}\,\operatorname{tr} H .$$

This is why the trace is used as a measure of **sharpness**: it is the expected loss increase
under small random perturbations of the weights. **Worked example 2** of the course text: two
minima with traces 500 and 80, noise $\sigma = 0.01$:
$\tfrac12\cdot10^{-4}\cdot500 = 0.025$ against $\tfrac12\cdot10^{-4}\cdot80 = 0.004$ — the
sharper minimum is $500/80 = 6.25$ times more sensitive, whatever $\sigma$ is.

Read the formula with its limits:

* it is a **second-order** approximation: for larger $\sigma$ the higher-order terms take over
  (the demonstration below shows where);
* away from an exact minimum the first-order term $g^\top\epsilon$ averages to zero but makes
  every finite sample noisy. Using **antithetic pairs** of noise vectors, $e$ and $-e$,
  cancels it exactly (it also cancels all odd-order terms);
* the trace is a sum over all $d$ directions: a few very sharp directions and many flat ones
  can have the same trace as moderate curvature everywhere. The top eigenvalue (section 4)
  tells them apart;
* the trace can be negative at a saddle point — the formula then predicts a *decrease*.

`expected_loss_increase` computes the right-hand side; `perturbed_loss_increase` measures the
left-hand side by Monte Carlo for noise vectors you provide (one per row).
""")

graded("expected_loss_increase", r'''
# Visible tests for `expected_loss_increase`: worked example 2.
_sharp = expected_loss_increase(500, 0.01)
_flat = expected_loss_increase(80, 0.01)
assert isinstance(_sharp, float), f"return a Python float, got {type(_sharp).__name__}"
assert abs(_sharp - 0.025) < 1e-12, f"worked example 2: 0.5 * 0.01**2 * 500 = 0.025, got {_sharp}"
assert abs(_flat - 0.004) < 1e-12, f"worked example 2: 0.5 * 0.01**2 * 80 = 0.004, got {_flat}"
assert abs(_sharp / _flat - 6.25) < 1e-9, f"the sharper minimum is 6.25 times more sensitive, got {_sharp / _flat}"
assert abs(expected_loss_increase(-20.0, 0.1) + 0.1) < 1e-12, (
    "a negative trace (a saddle) is allowed: 0.5 * 0.1**2 * (-20) = -0.1")
assert expected_loss_increase(500, 0.0) == 0.0, "no noise, no increase"
try:
    expected_loss_increase(500, -0.01)
except ValueError:
    pass
else:
    raise AssertionError("sigma < 0 should raise ValueError (a standard deviation is >= 0)")
print("expected_loss_increase: visible tests passed")
''')

graded("perturbed_loss_increase", r'''
# Visible tests for `perturbed_loss_increase` on a quadratic, where the answer is exact.
_A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
_b = torch.tensor([1.0, -1.0], dtype=torch.float64)


def _quadratic(theta):
    return 0.5 * theta @ (_A @ theta) + _b @ theta


_theta = torch.tensor([0.5, -0.25], dtype=torch.float64)
_theta_before = _theta.clone()
_e = torch.tensor([0.1, -0.2], dtype=torch.float64)
_pair = torch.stack([_e, -_e])  # an antithetic pair: the first-order terms cancel
_increase = perturbed_loss_increase(_quadratic, _theta, _pair)
assert isinstance(_increase, float), f"return a Python float, got {type(_increase).__name__}"
assert abs(_increase - float(0.5 * _e @ _A @ _e)) < 1e-12, (
    f"for a quadratic and the pair (e, -e) the mean increase is exactly 1/2 e^T A e = "
    f"{float(0.5 * _e @ _A @ _e):.6f}; got {_increase}")
_single = perturbed_loss_increase(_quadratic, _theta, _e[None, :])
assert abs(_single - float(_quadratic(_theta + _e) - _quadratic(_theta))) < 1e-12, (
    "one row e: the result is L(theta + e) - L(theta)")
assert torch.equal(_theta, _theta_before), "theta must not be changed"
try:
    perturbed_loss_increase(_quadratic, _theta, _e)
except ValueError:
    pass
else:
    raise AssertionError("1-D noise should raise ValueError: noise is 2-D, one row per perturbation")
print("perturbed_loss_increase: visible tests passed")
''')

md("demo-perturbation-intro", r"""
### Demonstration: the second-order prediction against measured perturbations

On the tiny network (exact trace known) we measure the mean loss increase for noise levels
$\sigma$ from $10^{-3}$ to $10^{-1}$ with 32 antithetic pairs each, and compare with
$\tfrac{\sigma^2}{2}\operatorname{tr}H$.
""")

code("demo-perturbation", r"""
SIGMAS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]
PAIRS = 32

with needs("expected_loss_increase", "perturbed_loss_increase"):
    g = torch.Generator().manual_seed(1)
    exact_trace = float(H_tiny.trace())
    measured, predicted = [], []
    for sigma in SIGMAS:
        e = sigma * torch.randn(PAIRS, theta_tiny.numel(), generator=g, dtype=torch.float64)
        measured.append(perturbed_loss_increase(tiny_loss, theta_tiny, torch.cat([e, -e])))
        predicted.append(expected_loss_increase(exact_trace, sigma))
    print(f"{'sigma':>7} {'measured':>10} {'sigma^2/2 tr H':>15} {'ratio':>6}")
    for sigma, m, p in zip(SIGMAS, measured, predicted):
        print(f"{sigma:>7.3f} {m:>10.2e} {p:>15.2e} {m / p:>6.2f}")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(SIGMAS, measured, "o-", label="measured (perturbed_loss_increase)")
    ax.loglog(SIGMAS, predicted, "k--", label=r"$\frac{\sigma^2}{2}\,\mathrm{tr}\,H$ (expected_loss_increase)")
    ax.set_xlabel(r"noise level $\sigma$")
    ax.set_ylabel("mean loss increase")
    ax.set_title("Tiny network: loss increase under Gaussian weight noise")
    ax.legend(fontsize="small")
    plt.show()
""")

md("demo-perturbation-after", r"""
**What to look for.** For small $\sigma$ the measured increase follows the dashed line — slope 2
on the log-log plot, i.e. proportional to $\sigma^2$, with the trace as the constant — and the
ratio is close to 1 (it is a Monte-Carlo estimate: 64 noise vectors are not infinitely many).
For large $\sigma$ the measured curve leaves the line: the quadratic model of the loss is only
local. "Sharpness" in the trace sense describes the landscape within roughly the noise level
where the two curves still agree.
""")

md("pp2-intro", r"""
### 3.2 Practice problem 2: spectra decaying like $1/k$ and like $e^{-k}$

> *The Hessian at a minimum has eigenvalues decaying as $\lambda_k \propto 1/k$. Compute the
> expected loss perturbation for isotropic Gaussian noise with variance $\sigma^2$, and compare
> to a minimum with $\lambda_k \propto e^{-k}$.*

Take $\lambda_k = c/k$ and $\lambda_k = c\,e^{-k}$ for $k = 1, \dots, d$. By section 3.1 the
expected increase is $\frac{\sigma^2}{2}\operatorname{tr}H$, and the traces are **discrete sums
starting at $k = 1$**:

* $\displaystyle\sum_{k=1}^{d}\frac1k = H_d$, the $d$-th harmonic number. $H_d = \ln d + \gamma +
  \frac{1}{2d} - \frac{1}{12d^2} + \dots$ with Euler's constant $\gamma \approx 0.5772$: it grows
  **logarithmically** without bound. Expected increase $\approx \frac{\sigma^2 c}{2}(\ln d + \gamma)$.
* $\displaystyle\sum_{k=1}^{d}e^{-k} = \frac{1 - e^{-d}}{e - 1} \;\to\; \frac{1}{e-1} \approx 0.582$,
  a geometric series: bounded, practically independent of $d$ after a few terms. Expected
  increase $\approx 0.291\,\sigma^2 c$.

> **Correction to the course text.** Its answer replaces the sums by integrals:
> $\int_1^d \frac{dk}{k} = \ln d$ (too small by about $\gamma$ for large $d$, and by 0.63 at
> $d = 10$) and $\int_0^\infty e^{-k}\,dk = 1$, which is **72% too large**: the integral from 0
> counts a region below $k = 1$ where the spectrum has no eigenvalue (the first eigenvalue is
> $e^{-1} \approx 0.37$, not 1). The correct limit is $1/(e-1) \approx 0.582$. The conclusion
> survives: the $1/k$ landscape becomes more sensitive as the dimension grows, the $e^{-k}$ one
> does not.

`spectrum_trace(decay, dim)` computes the two sums exactly (up to float64 rounding) and must be
fast for $d = 10^7$: a Python loop over ten million terms is slow; a numpy sum in blocks, or a
closed form, is not. For the geometric series use the closed form; for the harmonic number, sum
in numpy blocks (beyond $10^7$ terms the asymptotic expansion above is exact to float64
precision).
""")

graded("spectrum_trace", r'''
# Visible tests for `spectrum_trace`.
_h1 = spectrum_trace("inverse", 1)
assert isinstance(_h1, float), f"return a Python float, got {type(_h1).__name__}"
assert _h1 == 1.0, f"a single eigenvalue 1/1: the trace is 1.0, got {_h1}"
assert abs(spectrum_trace("inverse", 10) - 7381 / 2520) < 1e-12, (
    f"H_10 = 1 + 1/2 + ... + 1/10 = 7381/2520 = 2.928968..., got {spectrum_trace('inverse', 10)}")
assert abs(spectrum_trace("exponential", 1) - math.exp(-1)) < 1e-15, (
    "the sum starts at k = 1: with dim = 1 it is e^-1, not 1")
assert abs(spectrum_trace("exponential", 3) - (math.exp(-1) + math.exp(-2) + math.exp(-3))) < 1e-15
assert abs(spectrum_trace("exponential", 10**7) - 1 / (math.e - 1)) < 1e-12, (
    f"sum_(k>=1) e^-k = 1/(e - 1) = 0.58198 (not 1), got {spectrum_trace('exponential', 10**7)}")
_start = time.perf_counter()
_h = spectrum_trace("inverse", 10**7)
_seconds = time.perf_counter() - _start
_asymptotic = math.log(10**7) + 0.5772156649015329 + 0.5e-7
assert abs(_h - _asymptotic) < 1e-9, f"H_(10^7) = ln(10^7) + gamma + 1/(2 * 10^7) = {_asymptotic:.10f}, got {_h}"
assert _seconds < 10, (
    f"spectrum_trace('inverse', 10**7) took {_seconds:.1f} s; the grader allows 10 s: "
    "sum with numpy or torch in float64 (a plain Python loop takes about a second)")
for _bad in (("linear", 10), ("inverse", 0)):
    try:
        spectrum_trace(*_bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"spectrum_trace{_bad!r} should raise ValueError")
print(f"spectrum_trace: visible tests passed (dim = 10^7 took {_seconds:.3f} s)")
''')

md("demo-spectrum-trace-intro", r"""
**Practice problem 2 in numbers** ($c = 1$; the expected increase is for $\sigma = 0.01$). The
columns "integral" are the course text's approximations, for comparison.
""")

code("demo-spectrum-trace", r"""
SIGMA = 0.01
EULER_GAMMA = 0.5772156649015329

with needs("spectrum_trace", "expected_loss_increase"):
    traces = {d: (spectrum_trace("inverse", d), spectrum_trace("exponential", d))
              for d in (10, 10**3, 10**7)}
    print(f"{'d':>10} | {'sum 1/k':>8} {'ln d + gamma':>12} {'integral ln d':>13} | "
          f"{'sum e^-k':>8} {'1/(e-1)':>8} {'integral':>8} | {'increase 1/k':>12} {'increase e^-k':>13}")
    for d, (inverse, exponential) in traces.items():
        print(f"{d:>10,} | {inverse:>8.4f} {math.log(d) + EULER_GAMMA:>12.4f} {math.log(d):>13.4f} | "
              f"{exponential:>8.4f} {1 / (math.e - 1):>8.4f} {1.0:>8.4f} | "
              f"{expected_loss_increase(inverse, SIGMA):>12.2e} "
              f"{expected_loss_increase(exponential, SIGMA):>13.2e}")
""")

md("demo-spectrum-trace-after", r"""
From $d = 10$ to $d = 10^7$ the $1/k$ trace grows from 2.93 to 16.70 — about 2.3 more for every
factor of ten in $d$ — while the $e^{-k}$ trace is 0.582 from $d = 10$ on. With ten million
parameters, the $1/k$ minimum is about 29 times more sensitive to isotropic noise than the
$e^{-k}$ one (with the same constant $c$). Note where the difference comes from: not from the
top eigenvalues (1 against 0.37) but from the long tail of small ones, which the trace adds up.
""")

# =============================================================================================
# 4. Top eigenvalue and critical points
# =============================================================================================

md("power-iteration-intro", r"""
## 4. The largest eigenvalue, and what kind of point this is

### 4.1 Power iteration

The trace averages over all directions; the other common sharpness measure is the **largest
eigenvalue**, the curvature of the steepest direction. It needs only Hessian-vector products
too. **Power iteration**: start from a random unit vector $v$ and repeat

$$v \;\leftarrow\; \frac{Hv}{\|Hv\|} .$$

Write $v = \sum_k c_k u_k$ in the eigenbasis; after $t$ steps $v \propto \sum_k c_k\lambda_k^t u_k$,
dominated by the eigenvalue of **largest absolute value**. The error shrinks like
$|\lambda_2/\lambda_1|^t$: fast when the top eigenvalue is well separated, slow when it is not.
The estimate is the **Rayleigh quotient** $v^\top H v$ of the final (unit) $v$, which keeps the
sign — at a saddle whose most negative eigenvalue is the largest in magnitude, the answer is
negative. (To find the most negative eigenvalue when it is not the largest in magnitude, run
power iteration on $H - \lambda_{\max} I$.)

Protocol (the grader checks it): `v = torch.randn(theta.shape, generator=generator,
dtype=theta.dtype)`, normalised; `num_iters` steps $v \leftarrow Hv/\|Hv\|$; return
$v^\top H v$. If $Hv$ is exactly zero, $v$ lies in the null space: return 0.0.
""")

graded("top_eigenvalue", r'''
# Visible tests for `top_eigenvalue` on quadratics with known spectra.
_D = torch.diag(torch.tensor([5.0, 1.0, 0.5], dtype=torch.float64))
_lam = top_eigenvalue(lambda th: 0.5 * th @ (_D @ th), torch.zeros(3, dtype=torch.float64),
                      num_iters=100, generator=torch.Generator().manual_seed(0))
assert isinstance(_lam, float), f"return a Python float, got {type(_lam).__name__}"
assert abs(_lam - 5.0) < 1e-6, f"eigenvalues 5, 1, 0.5: the top one is 5, got {_lam}"
_S = torch.diag(torch.tensor([-6.0, 2.0, 1.0], dtype=torch.float64))
_neg = top_eigenvalue(lambda th: 0.5 * th @ (_S @ th), torch.ones(3, dtype=torch.float64),
                      num_iters=100, generator=torch.Generator().manual_seed(0))
assert abs(_neg + 6.0) < 1e-6, (
    f"eigenvalues -6, 2, 1: the largest in MAGNITUDE is -6 (keep the sign: Rayleigh quotient); got {_neg}")
_again = top_eigenvalue(lambda th: 0.5 * th @ (_S @ th), torch.ones(3, dtype=torch.float64),
                        num_iters=100, generator=torch.Generator().manual_seed(0))
assert _again == _neg, "the same generator state must give the same result"
try:
    top_eigenvalue(lambda th: 0.5 * th @ (_D @ th), torch.zeros(3, dtype=torch.float64),
                   num_iters=0, generator=torch.Generator())
except ValueError:
    pass
else:
    raise AssertionError("num_iters = 0 should raise ValueError")
print("top_eigenvalue: visible tests passed")
''')

md("classify-intro", r"""
### 4.2 Minimum, maximum, saddle — or undecided?

At a **critical point** ($g = 0$) the second-order term decides: with all eigenvalues positive
the point is a strict local **minimum**, with all negative a **maximum**, with both signs a
**saddle point** (the loss goes up along some directions and down along others). If some
eigenvalues are zero and the rest share a sign, the second-order test cannot decide — the point
is **degenerate**; higher-order terms or flat valleys decide.

In floating point "zero" needs a tolerance: `classify_critical_point(eigenvalues, tol)` counts
$|\lambda| \le$ `tol` as zero, then returns "saddle" if some $\lambda >$ `tol` and some
$\lambda < -$`tol`; else "minimum" if all $\lambda >$ `tol`; else "maximum" if all
$\lambda < -$`tol`; else "degenerate".

In high dimensions saddles are the rule: for a random symmetric matrix, all $d$ eigenvalues
having the same sign becomes very unlikely as $d$ grows, and Dauphin et al. (2014, *Identifying
and attacking the saddle point problem in high-dimensional non-convex optimization*) argued that
most critical points with high loss in neural networks are saddles. And real networks have
**exactly flat directions**, from symmetries:

* softmax does not change if the same number is added to every logit: adding the same vector
  $u$ to every row of the output weights, or the same number to every output bias, leaves the
  loss unchanged — one flat direction per hidden unit feeding the output layer, plus one;
* a dead ReLU unit (never active on the data) has incoming weights and a bias that do not
  affect the loss at all;
* the rescaling symmetry of section 5 gives one more flat curve per hidden unit.

So the Hessian of a trained network typically has many eigenvalues that are zero up to
rounding, and "degenerate" is a common, honest answer.
""")

graded("classify_critical_point", r'''
# Visible tests for `classify_critical_point`.
_kind = classify_critical_point([1.0, 2.0, 0.5])
assert isinstance(_kind, str), f"return a string, got {type(_kind).__name__}"
assert _kind == "minimum", f"all eigenvalues positive: 'minimum', got {_kind!r}"
assert classify_critical_point([-1.0, 2.0]) == "saddle", "both signs: 'saddle'"
assert classify_critical_point(torch.tensor([-1.0, -0.1])) == "maximum", "all negative: 'maximum'"
assert classify_critical_point(np.array([1.0, 0.0])) == "degenerate", (
    "a zero eigenvalue and a positive one: the second-order test cannot decide, 'degenerate'")
assert classify_critical_point([1.0, 1e-12]) == "degenerate", "|lambda| <= tol (default 1e-8) counts as zero"
assert classify_critical_point([3.0, -1e-3], tol=1e-2) == "degenerate", (
    "with tol = 0.01 the eigenvalue -0.001 counts as zero: 'degenerate', not 'saddle'")
assert classify_critical_point([3.0, -1e-3]) == "saddle", "with the default tol, -0.001 is negative: 'saddle'"
try:
    classify_critical_point([])
except ValueError:
    pass
else:
    raise AssertionError("no eigenvalues should raise ValueError")
print("classify_critical_point: visible tests passed")
''')

md("demo-spectrum-intro", r"""
### Demonstration: the spectrum of the tiny network

All 116 eigenvalues of the tiny network's Hessian (`torch.linalg.eigvalsh`), largest first, on a
"symlog" axis (linear within $\pm10^{-3}$, logarithmic beyond) that shows the large ones, the
bulk near zero and the negative ones together. Then: power iteration against the exact top
eigenvalue, and the classification of the trained point with two tolerances.
""")

code("demo-spectrum", r"""
with needs("hvp", "top_eigenvalue", "classify_critical_point"):
    eigenvalues = torch.linalg.eigvalsh(H_tiny)  # ascending
    power = top_eigenvalue(tiny_loss, theta_tiny, num_iters=100, generator=torch.Generator().manual_seed(0))
    lab.plot_spectrum(eigenvalues, title="Hessian spectrum of the tiny network (d = 116)")
    plt.show()

    print(f"largest eigenvalue: eigvalsh {float(eigenvalues[-1]):.4f}, power iteration {power:.4f}; "
          f"next one {float(eigenvalues[-2]):.4f}")
    print(f"sum of the eigenvalues {float(eigenvalues.sum()):.3f} = trace {float(H_tiny.trace()):.3f}")

    with torch.no_grad():
        active = torch.relu(tiny[0](X_train)) > 0
    dead = int((~active.any(dim=0)).sum())
    hidden_units = tiny[0].out_features
    print(f"\ndead hidden units: {dead} of {hidden_units}; flat directions expected from symmetries: "
          f"softmax shift {hidden_units} + 1, dead units 6 x {dead} = {hidden_units + 1 + 6 * dead}")
    print(f"eigenvalues with |lambda| <= 1e-9: {int((eigenvalues.abs() <= 1e-9).sum())}")
    print(f"negative eigenvalues below -1e-8: {int((eigenvalues < -1e-8).sum())}, "
          f"the most negative {float(eigenvalues[0]):.1e}")
    print(f"gradient norm at the trained point: {float(grad_tiny.norm()):.1e}")
    relative_tol = 1e-4 * float(eigenvalues[-1])
    print(f"\nclassify_critical_point, default tol 1e-8:      {classify_critical_point(eigenvalues)!r}")
    print(f"classify_critical_point, tol = 1e-4 * lambda_max = {relative_tol:.1e}: "
          f"{classify_critical_point(eigenvalues, tol=relative_tol)!r}")
""")

md("demo-spectrum-after", r"""
**What to look for.** A few large eigenvalues, a long tail of small positive ones, a block of
eigenvalues that are zero to rounding ($10^{-15}$) — exactly as many as the symmetries predict
— and a handful of small **negative** ones. Power iteration finds the top eigenvalue to many
digits with 100 products, because it is well separated from the next one.

Is the trained point a minimum? Taken literally, with `tol = 1e-8`, the test says **saddle**:
there are directions of negative curvature. But they are at most about $4\times10^{-4}$ — at least $10^{4}$ times smaller than the top
eigenvalue — and the trained point is not exactly critical
either (the gradient norm is small, not zero; Adam stopped after 1000 steps). With a tolerance
relative to the spectrum's scale, the answer is **degenerate**: a valley floor with many flat
directions, not a strict minimum. Both answers are honest descriptions at their tolerance; what
is *not* honest is reporting "minimum" for a trained network without looking. The
classification of a point that is not a critical point at all (a large gradient) means nothing.
""")

md("sharp-flat-intro", r"""
### 4.3 Sharp and flat minima: large- against small-batch training

Keskar et al. (2017, *On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
Minima*, ICLR; arXiv 2016) observed that training with large batches tends to end in **sharp**
minima — large Hessian eigenvalues — that generalise worse than the **flat** minima found with
small batches; the intuition is that the noise of small-batch gradients cannot settle into a
narrow valley, and that a flat minimum is robust to the shift between training and test loss.

We repeat a small version of the experiment: the same MLP (2 → 32 → 32 → 4, $d = 1284$), the
same initialisation and learning rate (Adam, 0.01), trained either **full-batch** (all 1024
points every step) or with **batch size 32**, for 500 and for 2000 steps. For each solution:
the training loss, the test loss and accuracy, Hutchinson's trace (100 probes), the top
eigenvalue (100 power-iteration steps), and the measured loss increase under noise
$\sigma = 0.01$ (32 antithetic pairs) against $\frac{\sigma^2}{2}\operatorname{tr}H$.
""")

code("demo-train-batch", r"""
# Train the four networks of the comparison (read-only; about two seconds).
BATCHES = {"full batch": N_TRAIN, "batch 32": 32}
STEPS = (500, 2000)
nets = {}
for steps in STEPS:
    for label, batch_size in BATCHES.items():
        net = lab.make_mlp(seed=0)  # 2 -> 32 -> 32 -> 4, the same initialisation for all four
        lab.train(net, X_train, y_train, steps=steps, lr=0.01, batch_size=batch_size, seed=0)
        nets[(label, steps)] = net
model = lab.make_mlp(seed=0)                            # the architecture, for flat_loss_fn
train_loss_fn = lab.flat_loss_fn(model, X_train, y_train)  # theta -> training loss
theta_of = {key: lab.flatten_params(lab.params_of(net)) for key, net in nets.items()}
print(f"d = {theta_of[('batch 32', 2000)].numel()} parameters; trained {len(nets)} networks")
""")

code("demo-sharpness", r"""
NOISE_SIGMA = 0.01

with needs("hvp", "rademacher_probes", "hutchinson_trace", "top_eigenvalue",
           "expected_loss_increase", "perturbed_loss_increase"):
    d = theta_of[("batch 32", 2000)].numel()
    probes = rademacher_probes(100, d, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    e = NOISE_SIGMA * torch.randn(32, d, generator=g)
    noise = torch.cat([e, -e])  # antithetic pairs

    sharpness = {}
    print(f"{'network':<18} {'train loss':>10} {'test loss':>9} {'test acc':>8} {'trace':>7} "
          f"{'top eig':>7} {'increase at sigma=0.01':>23}")
    for (label, steps), theta in theta_of.items():
        train_loss = float(train_loss_fn(theta))
        test_loss, test_acc = lab.evaluate(model, X_test, y_test, lab.unflatten_params(theta, lab.params_of(model)))
        trace = hutchinson_trace(train_loss_fn, theta, probes)
        top = top_eigenvalue(train_loss_fn, theta, num_iters=100, generator=torch.Generator().manual_seed(0))
        measured = perturbed_loss_increase(train_loss_fn, theta, noise)
        predicted = expected_loss_increase(trace, NOISE_SIGMA)
        sharpness[(label, steps)] = trace
        print(f"{label + ', ' + str(steps):<18} {train_loss:>10.3f} {test_loss:>9.3f} {test_acc:>8.3f} "
              f"{trace:>7.1f} {top:>7.2f}   {measured:.2e} (pred. {predicted:.2e})")
""")

md("demo-sharpness-after", r"""
**What to look for.**

* After 2000 steps the full-batch solution is clearly **sharper** than the batch-32 one: about
  three times the trace and several times the top eigenvalue — and it has the **lower training
  loss but the higher test loss and lower test accuracy**: the pattern Keskar et al. describe.
  The measured loss increase under weight noise follows the trace, as section 3.1 predicts.
* After 500 steps the full-batch solution is already sharper (trace about 69 against 42), but
  it is the slightly *more* accurate one on the test set. Sharpness and generalisation are
  correlated in many experiments, not tied by a law; one pair of runs proves nothing either way.
* The full-batch trace *grows* with training (69 → 88) while the small-batch one shrinks: with
  full batches the optimiser keeps moving into narrower parts of the valley, which minibatch
  noise does not allow.

Keep the caveat of the next section in mind before reading too much into these numbers: the
trace and the top eigenvalue depend on how the network is *parameterised*, not only on the
function it computes.
""")

# =============================================================================================
# 5. Scale invariance
# =============================================================================================

md("rescale-intro", r"""
## 5. Sharpness is not a property of the function: rescaling (practice problem 4)

> *Practice problem 4. Explain why Dinh et al.'s (2017) scale-invariance argument means that
> "sharp vs flat minima" claims must be treated carefully for ReLU networks.*

The ReLU is **positively homogeneous**: $\operatorname{relu}(cz) = c\,\operatorname{relu}(z)$ for
every $c > 0$. Take a hidden unit $i$ between two linear layers, multiply its incoming weights
(row $i$ of the first weight matrix) *and its bias* by $c_i > 0$, and divide its outgoing weights
(column $i$ of the next weight matrix) by $c_i$:

$$W_2\,\operatorname{relu}(W_1 x + b_1) \;=\; (W_2 C^{-1})\,\operatorname{relu}\big(C W_1 x + C b_1\big),
\qquad C = \operatorname{diag}(c_1, \dots, c_h).$$

The network computes **exactly the same function** — same outputs, same loss, same test accuracy
— with different parameters $\theta' = T\theta$. But its Hessian changes: since
$L'(\theta') = L(T^{-1}\theta')$, $H' = T^{-1} H T^{-1}$: the block of the incoming weights is
divided by $c^2$, the block of the outgoing weights multiplied by $c^2$ (cross terms between the
two stay). With $c$ large or small the trace and the top eigenvalue become as large as we like.
Dinh et al. (2017, *Sharp Minima Can Generalize For Deep Nets*, ICML) used this to show that any
flat minimum can be made arbitrarily sharp without changing what the network does — so raw
sharpness (trace, top eigenvalue, $\epsilon$-sharpness) cannot by itself explain generalisation:
it measures a choice of parameterisation as much as the geometry of the function. Sharpness
comparisons are meaningful only with measures that are invariant to such rescalings, or after a
normalisation that removes them — such as the filter normalisation of section 6.

`rescale_hidden_units(params, layer_in, layer_out, c)` applies the rescaling to two consecutive
linear layers of an `nn.Sequential` (in `lab.make_mlp`'s networks, the layers "0" and "2", or "2"
and "4"), with one factor for all units or one per unit. Compute in float64 and cast back to each
tensor's dtype. (The written answer to practice problem 4 is part of notebook 04.)
""")

graded("rescale_hidden_units", r'''
# Visible tests for `rescale_hidden_units` on a 2 -> 8 -> 8 -> 4 MLP (Linear layers "0", "2", "4").
_net = lab.make_mlp(hidden=(8, 8), seed=0)
_p = lab.params_of(_net)
_p_before = {k: v.clone() for k, v in _p.items()}
_q = rescale_hidden_units(_p, "0", "2", 4.0)
assert isinstance(_q, dict) and list(_q) == list(_p), "return a dict with the keys of params, in order"
assert torch.allclose(_q["0.weight"], 4 * _p["0.weight"]), "layer_in's weight rows are multiplied by c"
assert torch.allclose(_q["0.bias"], 4 * _p["0.bias"]), "layer_in's bias is multiplied by c too"
assert torch.allclose(_q["2.weight"], _p["2.weight"] / 4), "layer_out's weight columns are divided by c"
assert torch.equal(_q["2.bias"], _p["2.bias"]) and torch.equal(_q["4.weight"], _p["4.weight"]), (
    "layer_out's bias and all other layers are unchanged")
assert all(_q[k].dtype == _p[k].dtype for k in _p), "every tensor keeps its dtype"
_X = lab.make_dataset(n_train=32, n_test=1, seed=0).X_train
with torch.no_grad():
    _out_p = torch.func.functional_call(_net, _p, (_X,))
    _c = torch.linspace(0.5, 2.0, 8)  # one factor per hidden unit
    _q2 = rescale_hidden_units(_p, "2", "4", _c)
    assert torch.allclose(_q2["2.weight"], _p["2.weight"] * _c[:, None]), "with a tensor c, row i is scaled by c[i]"
    assert torch.allclose(_q2["4.weight"], _p["4.weight"] / _c[None, :]), "... and column i divided by c[i]"
    for _params in (_q, _q2):
        _out = torch.func.functional_call(_net, _params, (_X,))
        assert torch.allclose(_out, _out_p, atol=1e-5), (
            f"the rescaled network must compute the same outputs; max difference {float((_out - _out_p).abs().max()):.2e}")
assert all(torch.equal(_p[k], _p_before[k]) for k in _p), "params must not be changed"
for _bad_c in (0.0, -1.0):
    try:
        rescale_hidden_units(_p, "0", "2", _bad_c)
    except ValueError:
        pass
    else:
        raise AssertionError(f"c = {_bad_c} should raise ValueError (the factors must be positive)")
print("rescale_hidden_units: visible tests passed")
''')

md("demo-rescale-intro", r"""
### Demonstration: same function, different sharpness

We take the *flat* batch-32 solution of section 4.3 and rescale its first hidden layer (layers
"0" → "2") with $c = 0.25$ and $c = 4$ (powers of two, so every multiplication is exact in
floating point). Then: the largest change of any output (logit) on the test set, the test loss
and accuracy, and the trace and top eigenvalue of the training loss.
""")

code("demo-rescale", r"""
with needs("hvp", "rademacher_probes", "hutchinson_trace", "top_eigenvalue", "rescale_hidden_units"):
    flat_params = lab.params_of(nets[("batch 32", 2000)])
    probes = rademacher_probes(100, theta_of[("batch 32", 2000)].numel(), torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference_out = torch.func.functional_call(model, flat_params, (X_test,))
    print(f"{'c':>5} {'max |delta output|':>19} {'test loss':>9} {'test acc':>8} {'trace':>7} {'top eig':>7}")
    for c in (1.0, 0.25, 4.0):
        params = rescale_hidden_units(flat_params, "0", "2", c)
        with torch.no_grad():
            delta = float((torch.func.functional_call(model, params, (X_test,)) - reference_out).abs().max())
        test_loss, test_acc = lab.evaluate(model, X_test, y_test, params)
        theta = lab.flatten_params(params)
        trace = hutchinson_trace(train_loss_fn, theta, probes)
        top = top_eigenvalue(train_loss_fn, theta, num_iters=100, generator=torch.Generator().manual_seed(0))
        print(f"{c:>5} {delta:>19.1e} {test_loss:>9.4f} {test_acc:>8.3f} {trace:>7.1f} {top:>7.2f}")
    print(f"\nfor comparison, the SHARP full-batch solution (2000 steps): trace "
          f"{hutchinson_trace(train_loss_fn, theta_of[('full batch', 2000)], probes):.1f}")
""")

md("demo-rescale-after", r"""
**What to look for.** The outputs do not change at all (a difference of exactly 0 here, because
multiplying by 4 or 1/4 is exact in binary floating point; for other $c$ it would be of the order
of float32 rounding), so the test loss and accuracy are identical. The trace and the top eigenvalue
change a lot: rescaled with $c = 0.25$, the "flat" batch-32 solution has a larger trace than the
"sharp" full-batch solution of section 4.3, while computing exactly the same function as before.
The comparison of section 4.3 was between two networks in their *training* parameterisation
(both started from the same initialisation and were trained by the same optimiser, which is why
it still says something); a statement such as "this minimum is sharp, so it generalises badly"
does not survive a change of parameterisation that leaves the function untouched.
""")

# =============================================================================================
# 6. Filter-normalised landscapes
# =============================================================================================

md("filter-normalize-intro", r"""
## 6. Pictures of the landscape

### 6.1 Random directions and filter normalisation

A loss landscape with $d$ dimensions cannot be drawn, but slices of it can. Goodfellow, Vinyals &
Saxe (2015, *Qualitatively characterizing neural network optimization problems*, ICLR) looked at
the loss along the straight line from the initial to the trained parameters — a 1-D slice, the
same idea notebook 01 used between two solutions. The 2-D version picks two directions
$d_1, d_2$ and evaluates

$$f(\alpha, \beta) = L(\theta^* + \alpha\,d_1 + \beta\,d_2)$$

on a grid. The directions are usually random (two random Gaussian vectors in a high-dimensional
space are nearly orthogonal); the top Hessian eigenvectors are another choice.

**The scale problem.** A random Gaussian direction has entries of the same size for every
parameter. But the weights of a network are not all of the same size — and by section 5, their
size per unit can be changed at will without changing the function. A step of size 0.1 in a
layer whose weights are around 0.01 destroys that layer; in a layer with weights around 10 it
does nothing. Raw random directions therefore show the scale of the weights as much as the
landscape, and two networks (or the same network rescaled) cannot be compared.

**Filter normalisation** (Li, Xu, Taylor, Studer & Goldstein, 2018, *Visualizing the Loss
Landscape of Neural Nets*, NeurIPS) rescales the random direction **filter by filter** to the
norm of the corresponding filter of the weights:

$$d_i \;\leftarrow\; \frac{d_i}{\|d_i\| + 10^{-10}}\;\|\theta_i\| ,$$

where $i$ runs over the filters of every weight tensor — for a linear layer, the rows of the
weight matrix (the incoming weights of one unit); for a convolution, the output channels — and
$\|\cdot\|$ is the Frobenius norm of the filter. After it, a step $\alpha = 1$ moves every filter by
exactly its own norm, whatever its scale. Biases and normalisation-layer parameters (tensors with
$\le 1$ dimension) are set to **zero** in the direction, i.e. not perturbed (the "ignore biasbn"
option of Li et al.'s code).

> **Correction to the course text.** Its formula,
> $\delta_{ij}^{\text{norm}} = \frac{\delta_{ij}}{\|\theta_{ij}^*\|_F}\cdot\|\theta_{ij}^*\|_F = \delta_{ij}$,
> is garbled: it divides and multiplies by the same *weight* norm, which changes nothing. The
> direction must be divided by **its own** filter norm $\|d_i\|$ and multiplied by the
> **weights'** filter norm $\|\theta_i\|$, as above.

Why it removes the rescaling of section 5: rescaling unit $i$ by $c$ multiplies row $i$ of the
first weight matrix by $c$ — and its filter-normalised direction by $c$ too. (For the outgoing
weights, scaled by $1/c$, the same holds when all units share one $c$.) So
$\theta' + \alpha d'$ is exactly the rescaling of $\theta + \alpha d$, and the two pictures are
identical. The last demonstration checks it.
""")

graded("filter_normalize", r'''
# Visible tests for `filter_normalize`.
_theta_p = {"w": torch.tensor([[3.0, 4.0], [0.0, 1.0]]), "b": torch.tensor([1.0, 2.0])}
_direction = {"w": torch.tensor([[1.0, 0.0], [2.0, 2.0]]), "b": torch.tensor([5.0, 5.0])}
_direction_before = {k: v.clone() for k, v in _direction.items()}
_out = filter_normalize(_direction, _theta_p)
assert isinstance(_out, dict) and list(_out) == ["w", "b"], "return a dict with direction's keys, in order"
_expected_w = torch.tensor([[5.0, 0.0], [0.5**0.5, 0.5**0.5]])
assert torch.allclose(_out["w"], _expected_w, atol=1e-6), (
    "row 0: ||theta_0|| = 5, ||d_0|| = 1, so d_0 becomes [5, 0]; row 1: ||theta_1|| = 1, "
    f"||d_1|| = 2 sqrt(2), so d_1 becomes [0.7071, 0.7071]; expected {_expected_w}, got {_out['w']}")
assert torch.equal(_out["b"], torch.zeros(2)), f"1-D tensors (biases) become zeros, got {_out['b']}"
assert all(torch.equal(_direction[k], _direction_before[k]) for k in _direction), "direction must not be changed"
# A convolution-like 4-D tensor: one filter per output channel (dim 0).
_g = torch.Generator().manual_seed(0)
_kernel = {"conv.weight": torch.randn(3, 2, 2, 2, generator=_g)}
_random = {"conv.weight": torch.randn(3, 2, 2, 2, generator=_g)}
_normed = filter_normalize(_random, _kernel)["conv.weight"]
_filter_norms = torch.linalg.vector_norm(_normed.reshape(3, -1), dim=1)
assert torch.allclose(_filter_norms, torch.linalg.vector_norm(_kernel["conv.weight"].reshape(3, -1), dim=1)), (
    "every filter (index along dim 0) of the result has the norm of the matching filter of theta")
_cosine = torch.nn.functional.cosine_similarity(_normed.reshape(3, -1), _random["conv.weight"].reshape(3, -1))
assert torch.allclose(_cosine, torch.ones(3)), "each filter keeps its direction; only its length changes"
try:
    filter_normalize({"w": torch.ones(2, 2)}, _theta_p)
except ValueError:
    pass
else:
    raise AssertionError("direction and theta with different keys should raise ValueError")
print("filter_normalize: visible tests passed")
''')

md("loss-surface-intro", r"""
### 6.2 The loss on a plane

`loss_surface(loss_fn, theta, d1, d2, alphas, betas)` evaluates
$Z_{ij} = L(\theta + \alpha_i d_1 + \beta_j d_2)$ on the grid: **row $i$ belongs to `alphas[i]`,
column $j$ to `betas[j]`** — `lab.plot_surface` puts $\alpha$ on the x axis and expects exactly
this layout (a transposed grid silently swaps the axes of the picture). `theta`, `d1` and `d2`
are flat vectors: flatten filter-normalised `Params` with `lab.flatten_params`. Evaluate without
gradients; a $25\times25$ grid is 625 forward passes, a fraction of a second for our networks.
""")

graded("loss_surface", r'''
# Visible tests for `loss_surface` on L(theta) = theta_0**2 + 4 theta_1**2.
_weights = torch.tensor([1.0, 4.0], dtype=torch.float64)


def _bowl(theta):
    return (_weights * theta**2).sum()


_theta = torch.tensor([1.0, 0.0], dtype=torch.float64)
_theta_before = _theta.clone()
_d1 = torch.tensor([1.0, 0.0], dtype=torch.float64)
_d2 = torch.tensor([0.0, 1.0], dtype=torch.float64)
_alphas = [-1.0, 0.0, 1.0]
_betas = [-0.5, 0.0, 0.5, 1.0]
_Z = loss_surface(_bowl, _theta, _d1, _d2, _alphas, _betas)
assert isinstance(_Z, torch.Tensor), f"return a tensor, got {type(_Z).__name__}"
assert _Z.shape == (3, 4), f"shape (len(alphas), len(betas)) = (3, 4), got {tuple(_Z.shape)}"
_a = torch.tensor(_alphas, dtype=torch.float64)
_b = torch.tensor(_betas, dtype=torch.float64)
_expected = (1.0 + _a[:, None]) ** 2 + 4.0 * _b[None, :] ** 2
assert torch.allclose(_Z, _expected), (
    f"Z[i, j] = L(theta + alphas[i] d1 + betas[j] d2) = (1 + alphas[i])**2 + 4 betas[j]**2; "
    f"expected\n{_expected}\ngot\n{_Z}")
assert float(_Z[1, 1]) == float(_bowl(_theta)), "at alpha = beta = 0 the surface is L(theta)"
assert not _Z.requires_grad, "compute the surface without gradients"
assert torch.equal(_theta, _theta_before), "theta must not be changed"
assert loss_surface(_bowl, _theta, _d1, _d2, torch.linspace(-1, 1, 5), np.array([0.0])).shape == (5, 1), (
    "alphas and betas may be tensors or numpy arrays")
try:
    loss_surface(_bowl, _theta, _d1, _d2, [], _betas)
except ValueError:
    pass
else:
    raise AssertionError("an empty alphas should raise ValueError")
print("loss_surface: visible tests passed")
''')

md("demo-surface-intro", r"""
### Demonstration: the landscape around a small-batch and a full-batch minimum

The two networks of section 4.3 after 2000 steps. For each: two random Gaussian directions
(drawn from the same seed, so both networks get the same raw directions), filter-normalised
with respect to that network's own weights, and the **training** loss on a $25\times25$ grid
with $\alpha, \beta \in [-0.4, 0.4]$. The colour scale is capped at 1.5, just above the
chance-level loss $\ln 4 \approx 1.39$: everything yellow is no better than guessing. This is
the figure that question "reading the landscape plot" of notebook 04 refers to.
""")

code("demo-surface", r"""
GRID = torch.linspace(-0.4, 0.4, 25)
LOSS_CAP = 1.5  # just above the chance-level loss ln 4 = 1.39


def random_directions(params, seed):
    # Two raw Gaussian directions shaped like `params`, from a seeded generator.
    g = torch.Generator().manual_seed(seed)
    return [{name: torch.randn(p.shape, generator=g) for name, p in params.items()} for _ in range(2)]


def filter_normalized_surface(params, seed=0):
    # The training loss on the plane of two filter-normalised random directions through `params`.
    d1, d2 = (lab.flatten_params(filter_normalize(d, params)) for d in random_directions(params, seed))
    return loss_surface(train_loss_fn, lab.flatten_params(params), d1, d2, GRID, GRID)


with needs("filter_normalize", "loss_surface"):
    labels = ("batch 32", "full batch")
    surfaces = {label: filter_normalized_surface(lab.params_of(nets[(label, 2000)])) for label in labels}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, (label, Z) in zip(axes, surfaces.items()):
        lab.plot_surface(GRID, GRID, Z.clamp(max=LOSS_CAP), ax=ax, levels=20,
                         title=f"{label}, 2000 steps: training loss (capped at {LOSS_CAP})")
        inside = float((Z < 0.5).float().mean())
        print(f"{label:>10}: loss at the centre {float(Z[12, 12]):.3f}, "
              f"fraction of the grid with loss < 0.5: {inside:.2f}")
    fig.suptitle("Filter-normalised loss landscapes (Li et al. 2018)")
    plt.show()
""")

md("demo-surface-after", r"""
**What to look for.** Both pictures show a single basin around the trained point (the red star):
closed, roughly elliptical contour lines near the centre, rising to the chance-level plateau
(yellow) further out. The basin of the small-batch solution is **wider**: the loss stays low over
a larger region of the plane, and the contour lines near the centre are further apart. The
full-batch basin is narrow, with tightly packed contour lines — the sharpness measured in
section 4.3, now visible. Because both pictures use filter-normalised directions, the comparison
is not an artefact of the scale of the weights (next demonstration).

What the pictures cannot show: they are 2-D slices of a 1284-dimensional function along two
*random* directions. Random directions are nearly orthogonal to the few sharpest eigen-directions,
so a slice can look flatter than the landscape is in its worst direction; closed contours near the
centre do not prove convexity or a minimum in all directions (section 4.2 found negative
curvature); and other directions give other pictures (change the seed).
""")

md("demo-surface-rescaled-intro", r"""
### Demonstration: raw against filter-normalised directions

The batch-32 network and its rescaled copy from section 5 ($c = 4$ on layers "0" → "2") compute
the same function. We draw their landscapes twice with the same random Gaussian vectors: once
*raw* (each vector only scaled as a whole, to the length of its filter-normalised version for
the original network) and once filter-normalised with respect to each network's own weights.
""")

code("demo-surface-rescaled", r"""
with needs("filter_normalize", "loss_surface", "rescale_hidden_units"):
    params = lab.params_of(nets[("batch 32", 2000)])
    rescaled = rescale_hidden_units(params, "0", "2", 4.0)
    raw1, raw2 = random_directions(params, seed=0)
    fn1, fn2 = (lab.flatten_params(filter_normalize(d, params)) for d in (raw1, raw2))
    # Raw directions: the same Gaussian vectors, scaled as a whole to the filter-normalised length.
    raw_flat = [lab.flatten_params(raw) for raw in (raw1, raw2)]
    raw_flat = [r * (fn.norm() / r.norm()) for r, fn in zip(raw_flat, (fn1, fn2))]

    pictures = {}
    for name, p in (("network", params), ("rescaled copy (c = 4)", rescaled)):
        theta = lab.flatten_params(p)
        pictures[("raw", name)] = loss_surface(train_loss_fn, theta, *raw_flat, GRID, GRID)
        pictures[("filter-normalised", name)] = filter_normalized_surface(p)

    fig, axes = plt.subplots(2, 2, figsize=(13, 10))
    for row, kind in enumerate(("raw", "filter-normalised")):
        for col, name in enumerate(("network", "rescaled copy (c = 4)")):
            lab.plot_surface(GRID, GRID, pictures[(kind, name)].clamp(max=LOSS_CAP), ax=axes[row, col],
                             levels=20, title=f"{kind} directions: {name}")
        difference = float((pictures[(kind, "network")] - pictures[(kind, "rescaled copy (c = 4)")]).abs().max())
        print(f"{kind:>17} directions: max |Z(network) - Z(rescaled copy)| = {difference:.2e}")
    plt.show()
""")

md("demo-surface-rescaled-after", r"""
**What to look for.** With **raw** directions the two pictures differ, although the networks
compute the same function: the copy's $32\times32$ weight matrix (layer "2") is four times
smaller, so the same step disturbs it four times more (while its four times larger first layer
hardly notices), and its basin looks much narrower — the picture shows the parameterisation. With
**filter-normalised** directions the two pictures are identical (here to the last bit, since
$c$ is a power of two): the normalisation moves every filter in proportion to its own size,
which is exactly what the rescaling symmetry requires. This is the property that makes
filter-normalised pictures comparable across networks — but note that it protects against the
*rescaling* symmetry only; it does not make a 2-D slice a complete description of the landscape.
""")

# =============================================================================================
# Summary and pitfalls
# =============================================================================================

md("summary", r"""
## Summary

* **Hessian-vector products** $Hv = \nabla(\nabla L^\top v)$ are exact and cost about two
  gradients (Pearlmutter, 1994). Everything about curvature at scale is built on them.
* **Hutchinson's estimator** (1989): $\operatorname{tr}H = \mathbb E[v^\top Hv]$ for Rademacher
  probes; one `hvp` per probe, error $\propto 1/\sqrt m$, variance $2\sum_{i\ne j}H_{ij}^2$ per probe.
* **The trace is sensitivity to noise:** $\mathbb E[L(\theta+\epsilon)] - L(\theta) \approx
  \frac{\sigma^2}{2}\operatorname{tr}H$ (worked example 2: 0.025 against 0.004 for traces 500 and
  80 at $\sigma = 0.01$), for small $\sigma$.
* **Practice problem 2** with discrete sums from $k = 1$: $\sum 1/k = H_d \approx \ln d + \gamma$ grows
  without bound; $\sum e^{-k} \to 1/(e-1) \approx 0.582$ (not 1).
* **Power iteration** finds the eigenvalue of largest magnitude from `hvp`s; the **spectrum** of a
  trained network has a few large eigenvalues, a bulk near zero, exact zeros from symmetries, and
  often small negative ones: trained points are rarely strict minima.
* **Large-batch training** found a sharper minimum (trace and top eigenvalue) with worse test
  loss after 2000 steps (Keskar et al., 2017) — a correlation, not a law.
* **Scale invariance** (Dinh et al., 2017): ReLU rescaling keeps the function and changes the
  sharpness arbitrarily (practice problem 4).
* **Filter-normalised 2-D plots** (Li et al., 2018): $d_i \leftarrow d_i\,\|\theta_i\|/(\|d_i\| +
  10^{-10})$ per filter, biases zeroed; they are invariant to the rescaling and make pictures of
  different networks comparable.

## Pitfalls

1. **Raw sharpness depends on the parameterisation.** Compare trace or top eigenvalue only between
   networks of the same architecture and parameterisation, or use normalised measures; never claim
   "sharp, hence generalises badly" from the number alone.
2. **The course text's filter-normalisation formula is garbled.** Divide the direction's filter by
   *its own* norm and multiply by the *weights'* filter norm; normalise per filter (row), not per
   layer or for the whole vector; zero the biases.
3. **Hutchinson estimates are noisy.** Report the standard error ($\text{std}/\sqrt m$), and use
   Rademacher rather than Gaussian probes.
4. **Power iteration returns the largest |eigenvalue|**, which can be negative, and converges
   slowly when the top eigenvalues are close. Keep the sign (Rayleigh quotient).
5. **Classifying a point needs a critical point and a tolerance.** A trained network is only
   approximately critical; symmetries give exact zero eigenvalues; tiny negative eigenvalues are
   common. "Saddle", "degenerate" and "minimum" depend on `tol` — say which you used.
6. **Finite differences are not Hessian-vector products** — in float32 they give a few digits at
   best. Use double backward.
7. **$\frac{\sigma^2}{2}\operatorname{tr}H$ is a second-order, small-noise approximation**, and a
   Monte-Carlo check needs antithetic pairs (or many samples) away from an exact minimum.
8. **Sums are not integrals** (practice problem 2): $\int_0^\infty e^{-k}dk = 1$ but
   $\sum_{k\ge1}e^{-k} = 0.582$.
9. **A 2-D picture is a random slice.** It can hide the sharpest directions, look convex where the
   landscape is not, and change with the seed. Use the same directions' seed and the same colour
   scale when you compare pictures.
10. **Keep `theta` untouched**: detach and clone before switching on `requires_grad`, and open
    `torch.enable_grad()` — callers may be inside `torch.no_grad()`.

*Next:* notebook 03 — lottery tickets; notebook 04 asks you to read the landscape plot of
section 6 and to write up practice problems 2 and 4.
""")

# =============================================================================================

builder.write(OUT, total=TOTAL)
