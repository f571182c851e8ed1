"""Model answers of notebook 02, sections 1-3: Hessian-vector products, Hutchinson's trace,
sensitivity to perturbation, spectra."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

EULER_GAMMA = 0.5772156649015329
"""The Euler-Mascheroni constant: sum_{k=1..n} 1/k - ln n tends to it."""

HARMONIC_SUM_MAX = 10**7
"""Up to this dim the terms 1/k are added up; beyond, the asymptotic expansion of the
harmonic number is exact to float64 rounding."""

BLOCK = 2**20
"""Terms 1/k summed per numpy block (keeps memory small at dim = 10**7)."""


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
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"theta must be a tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.numel() == 0:
        raise ValueError("theta must have at least one entry")
    if not isinstance(v, torch.Tensor):
        raise ValueError(f"v must be a tensor, got {type(v).__name__}")
    if v.shape != theta.shape:
        raise ValueError(
            f"v must have the shape of theta {tuple(theta.shape)}, got {tuple(v.shape)}"
        )
    v = v.detach().to(theta.dtype)
    zeros = torch.zeros_like(theta.detach())

    # A fresh leaf tensor: theta itself (values and requires_grad flag) is never touched.
    x = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():  # also when called inside torch.no_grad()
        loss = loss_fn(x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("loss_fn must return a tensor with a single element")
        if not loss.requires_grad:  # the loss does not depend on theta at all: H = 0
            return zeros
        # First backward pass, keeping its graph so that g(x) can be differentiated again.
        (g,) = torch.autograd.grad(loss.reshape(()), x, create_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:  # the gradient is constant in theta: H = 0
        return zeros
    # Second backward pass (Pearlmutter's trick): the vector-Jacobian product of g with v,
    # i.e. the gradient of g(x) . v, is H v.
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v, allow_unused=True)
    return zeros if hv is None else hv.detach()


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
    for name, value in (("num_probes", num_probes), ("dim", dim)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    bits = torch.randint(0, 2, (int(num_probes), int(dim)), generator=generator)  # 0 or 1
    return (bits * 2 - 1).to(torch.get_default_dtype())  # -1 or +1


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
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"theta must be a tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.numel() == 0:
        raise ValueError("theta must have at least one entry")
    if not isinstance(probes, torch.Tensor):
        raise ValueError(f"probes must be a 2-D tensor, got {type(probes).__name__}")
    if probes.dim() != 2 or probes.shape[1] != theta.numel():
        raise ValueError(
            f"probes must be 2-D with one column per parameter (shape (n, {theta.numel()})), "
            f"got shape {tuple(probes.shape)}"
        )
    if probes.shape[0] == 0:
        raise ValueError("probes must have at least one row")
    rows = probes.detach().to(theta.dtype).reshape(probes.shape[0], *theta.shape)

    # The forward and the first backward pass are the same for every probe: do them ONCE,
    # keeping the graph of the gradient g (create_graph=True), as in hvp.
    x = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("loss_fn must return a tensor with a single element")
        if not loss.requires_grad:  # the loss does not depend on theta: H = 0
            return 0.0
        (g,) = torch.autograd.grad(loss.reshape(()), x, create_graph=True, allow_unused=True)
    if g is None or not g.requires_grad:  # the gradient is constant in theta: H = 0
        return 0.0

    # Then each probe costs one more backward pass through g's graph: the vector-Jacobian
    # product of g with v is H v (Pearlmutter's trick, as in hvp), and v^T H v is a dot
    # product, summed in float64. One probe at a time is deliberate: batching the probes
    # (is_grads_batched=True, or torch.func.vmap) does the same arithmetic, but on
    # activations as many times larger as there are probes in a batch, and on a CPU that
    # is slower, not faster.
    total = 0.0
    for v in rows:
        (hv,) = torch.autograd.grad(g, x, grad_outputs=v, retain_graph=True, allow_unused=True)
        if hv is not None:  # None: g does not depend on x after all, so H v = 0
            total += float((v * hv).sum(dtype=torch.float64))
    return total / rows.shape[0]


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
    import numbers

    import numpy as np
    import torch

    def as_real(value, name):
        """A real number, or a one-element tensor or array, as a Python float (not NaN)."""
        if isinstance(value, (torch.Tensor, np.ndarray)):
            size = value.size if isinstance(value, np.ndarray) else value.numel()
            if size != 1:
                raise ValueError(f"{name} must be a single number, got shape {tuple(value.shape)}")
            value = value.item()
        # bool is a numbers.Real too, and str would convert: reject both.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        x = float(value)
        if math.isnan(x):
            raise ValueError(f"{name} must not be NaN")
        return x

    trace = as_real(hessian_trace, "hessian_trace")
    sigma = as_real(sigma, "sigma")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return sigma**2 / 2 * trace


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
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"theta must be a tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.numel() == 0:
        raise ValueError("theta must have at least one entry")
    if not isinstance(noise, torch.Tensor):
        raise ValueError(f"noise must be a 2-D tensor, got {type(noise).__name__}")
    if noise.dim() != 2 or noise.shape[1] != theta.numel():
        raise ValueError(
            f"noise must be 2-D with one column per parameter (shape (n, {theta.numel()})), "
            f"got shape {tuple(noise.shape)}"
        )
    if noise.shape[0] == 0:
        raise ValueError("noise must have at least one row")

    def loss_at(point):
        """L(point) as a 0-d tensor; loss_fn gets a copy, so it cannot change our tensors."""
        loss = loss_fn(point.detach().clone())
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("loss_fn must return a tensor with a single element")
        return loss.detach().reshape(())

    base = theta.detach()
    rows = noise.detach().to(theta.dtype).reshape(-1, *theta.shape)  # one perturbation each
    n = rows.shape[0]
    chunk_size = 16  # parameter vectors per batched call (bounds the memory)
    with torch.no_grad():
        loss_at_theta = loss_at(base)
        # Fast path: torch.func.vmap(loss_fn) evaluates a whole chunk of points in one call.
        try:
            batched_loss_fn = torch.func.vmap(loss_fn)
            chunks = []
            for start in range(0, n, chunk_size):
                values = batched_loss_fn(base + rows[start : start + chunk_size])
                chunks.append(values.reshape(values.shape[0], -1))
            losses = torch.cat(chunks)
            losses = losses.reshape(-1) if losses.shape == (n, 1) else None
        except Exception:
            losses = None
        if losses is None:
            # Not every loss_fn can be vmapped (.item(), data-dependent branches,
            # randomness, ...): then evaluate one point at a time.
            losses = torch.stack([loss_at(base + e) for e in rows])
    return float(losses.to(torch.float64).mean()) - float(loss_at_theta)


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
    decays = ("inverse", "exponential")
    if decay not in decays:
        raise ValueError(f"decay must be one of {decays}, got {decay!r}")
    integral = isinstance(dim, numbers.Integral) or (
        isinstance(dim, numbers.Real) and float(dim).is_integer()  # 1e7 yes; inf, NaN no
    )
    if isinstance(dim, bool) or not integral:
        raise ValueError(f"dim must be an integer, got {dim!r}")
    n = int(dim)
    if n < 1:
        raise ValueError(f"dim must be at least 1, got {dim!r}")

    if decay == "exponential":
        # e^-k underflows to 0.0 in float64 beyond k = 745: later terms add nothing.
        return math.fsum(math.exp(-k) for k in range(1, min(n, 746) + 1))

    if n > HARMONIC_SUM_MAX:
        # Euler-Maclaurin: the next term, 1/(252 n^6), is far below float64 rounding here.
        return math.log(n) + EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2) + 1 / (120 * n**4)
    # numpy's sum is pairwise; fsum of the block sums keeps the total accurate to ~1e-16.
    block_sums = []
    for start in range(1, n + 1, BLOCK):
        stop = min(start + BLOCK, n + 1)
        block_sums.append(float(np.sum(1.0 / np.arange(start, stop, dtype=np.float64))))
    return math.fsum(block_sums)
