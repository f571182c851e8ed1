"""Reference solutions for notebook 02, landscape geometry.

Hessian-vector products, Hutchinson's trace estimator, sharpness under Gaussian perturbation,
power iteration for the top Hessian eigenvalue, the classification of critical points, the
rescaling symmetry of ReLU networks (Dinh et al. 2017) and filter-normalised 2-D loss surfaces
(Li et al. 2018).

"Flat" functions take `loss_fn`, a callable from a 1-D parameter tensor `theta` of length d to a
0-d loss tensor (`landscape_lab.flat_loss_fn` builds one from a model and data). They never
modify `theta` nor change its `requires_grad`: every autograd computation runs on a detached
clone.

Batched evaluation: `hutchinson_trace` pushes chunks of probes through one batched
double-backward pass (`torch.autograd.grad(..., is_grads_batched=True)`), and `loss_surface` and
`perturbed_loss_increase` evaluate chunks of parameter vectors with `torch.func.vmap(loss_fn)`.
Before the first batched run of a process they raise glibc's malloc thresholds
(`_keep_freed_memory`), so that the chunks' activations are reused instead of being faulted in
again for every chunk.
If the batched path fails for a given `loss_fn` (an operation without a batching rule, a
data-dependent branch, randomness), they fall back to a plain loop, which gives the same values
up to floating-point rounding.
"""

from __future__ import annotations

import ctypes
import math
import numbers
import sys
from collections.abc import Callable

import numpy as np
import torch

from solutions._common import Params, as_float_list, check_matching_params, check_params

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

LossFn = Callable[[torch.Tensor], torch.Tensor]

#: Probes per batched double-backward pass in `hutchinson_trace` (bounds memory).
HUTCHINSON_CHUNK = 8
#: Parameter vectors per `vmap(loss_fn)` call in `loss_surface` / `perturbed_loss_increase`.
EVAL_CHUNK = 16
#: Added to a filter's direction norm in `filter_normalize` (Li et al. 2018).
FILTER_NORM_EPS = 1e-10
#: Default tolerance of `classify_critical_point`: |eigenvalue| <= tol counts as zero.
CRITICAL_POINT_TOL = 1e-8
#: Default number of power-iteration steps in `top_eigenvalue`.
POWER_ITERS = 100
#: Values of `decay` accepted by `spectrum_trace`.
SPECTRUM_DECAYS = ("inverse", "exponential")
#: Terms of 1/k summed per numpy block in `spectrum_trace` (bounds memory at dim = 10^7).
SPECTRUM_BLOCK = 1 << 20
#: e^-k underflows to 0.0 in float64 beyond this k, so later terms add nothing.
EXP_UNDERFLOW_K = 746
#: Largest dim whose harmonic number is summed term by term; beyond it the asymptotic
#: expansion ln n + gamma + 1/(2n) - 1/(12n^2) + 1/(120n^4) is exact to float64 rounding.
HARMONIC_SUM_MAX = 10**7
#: The Euler-Mascheroni constant.
EULER_GAMMA = 0.57721566490153286060651209


#: glibc mallopt parameters (malloc.h) and the values `_keep_freed_memory` sets: blocks up
#: to 64 MiB come from the heap, and up to 256 MiB of freed heap stays in the process.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD = 64 << 20, 256 << 20
_ALLOCATOR_TUNED = False


def _keep_freed_memory() -> None:
    """Stop glibc from returning the batched evaluations' activations to the kernel.

    Each chunk of a batched evaluation allocates activations of a few MiB and frees them
    again. glibc's dynamic thresholds often hand such blocks back to the kernel (munmap, or
    trimming the heap top), and the next chunk faults every page in again: 10^4-10^5 minor
    page faults per 41x41 surface on the notebook-02 model, which made loss_surface 1.4x
    instead of ~3x the speed of a plain loop in some runs. Raising the thresholds once per
    process (what jemalloc or tcmalloc would do anyway) keeps freed memory for reuse. A
    no-op where the C library has no mallopt (macOS, musl, Windows).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED or not sys.platform.startswith("linux"):
        return
    _ALLOCATOR_TUNED = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------


def _check_loss_fn(loss_fn: object) -> None:
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")


def _check_theta(theta: object) -> torch.Tensor:
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"theta must be a tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.numel() == 0:
        raise ValueError("theta must have at least one entry")
    return theta


def _check_rows(rows: object, theta: torch.Tensor, name: str) -> torch.Tensor:
    """`rows` must be a 2-D tensor with one column per parameter and at least one row."""
    if not isinstance(rows, torch.Tensor):
        raise ValueError(f"{name} must be a 2-D tensor, got {type(rows).__name__}")
    if rows.dim() != 2 or rows.shape[1] != theta.numel():
        raise ValueError(
            f"{name} must be 2-D with one column per parameter (shape (n, {theta.numel()})), "
            f"got shape {tuple(rows.shape)}"
        )
    if rows.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row")
    return rows.detach().to(theta.dtype)


def _check_like_theta(vector: object, theta: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(vector, torch.Tensor):
        raise ValueError(f"{name} must be a tensor, got {type(vector).__name__}")
    if vector.shape != theta.shape:
        raise ValueError(
            f"{name} must have the shape of theta {tuple(theta.shape)}, got {tuple(vector.shape)}"
        )
    return vector.detach().to(theta.dtype)


def _check_generator(generator: object) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


# --------------------------------------------------------------------------------------------
# autograd machinery
# --------------------------------------------------------------------------------------------


class _Hessian:
    """The Hessian of `loss_fn` at `theta` as a linear operator.

    Builds the gradient graph once (forward and first backward with `create_graph=True`) on a
    detached clone of `theta`; every product is then one more backward pass through it.
    """

    def __init__(self, loss_fn: LossFn, theta: torch.Tensor) -> None:
        self.x = theta.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            loss = loss_fn(self.x)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise ValueError("loss_fn must return a tensor with a single element")
            if loss.requires_grad:
                (grad,) = torch.autograd.grad(
                    loss.reshape(()), self.x, create_graph=True, allow_unused=True
                )
            else:  # the loss does not depend on theta at all
                grad = None
        # If the gradient has no graph it is constant in theta: the Hessian is zero.
        self.grad = grad if grad is not None and grad.requires_grad else None

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """H v for one vector `v` of theta's shape."""
        if self.grad is None:
            return torch.zeros_like(self.x).detach()
        (hv,) = torch.autograd.grad(
            self.grad, self.x, grad_outputs=v, retain_graph=True, allow_unused=True
        )
        return torch.zeros_like(self.x).detach() if hv is None else hv.detach()

    def matmat(self, rows: torch.Tensor) -> torch.Tensor:
        """H v for every row v of `rows` (shape (n, *theta.shape)), in one batched pass."""
        if self.grad is None:
            return torch.zeros_like(rows)
        (hv,) = torch.autograd.grad(
            self.grad,
            self.x,
            grad_outputs=rows,
            retain_graph=True,
            allow_unused=True,
            is_grads_batched=True,
        )
        return torch.zeros_like(rows) if hv is None else hv.detach()


def _loss_value(loss_fn: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """L(theta) as a detached 0-d tensor, on a clone so `loss_fn` cannot touch `theta`."""
    with torch.no_grad():
        loss = loss_fn(theta.detach().clone())
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("loss_fn must return a tensor with a single element")
    return loss.detach().reshape(())


def _batched_losses(
    loss_fn: LossFn, make_points: Callable[[int, int], torch.Tensor], num_points: int
) -> torch.Tensor:
    """L(p) for the `num_points` parameter vectors p that `make_points` builds, as a 1-D tensor.

    `make_points(start, stop)` returns points start..stop-1 stacked along a new dim 0, so at
    most `EVAL_CHUNK` of them exist at a time. Uses `torch.func.vmap(loss_fn)` and falls back
    to a plain loop if `loss_fn` cannot be vmapped.
    """
    starts = range(0, num_points, EVAL_CHUNK)
    if num_points > EVAL_CHUNK:
        _keep_freed_memory()
    with torch.no_grad():
        try:
            batched = torch.func.vmap(loss_fn)
            values = []
            for start in starts:
                chunk = batched(make_points(start, min(start + EVAL_CHUNK, num_points)))
                values.append(chunk.reshape(chunk.shape[0], -1))
            stacked = torch.cat(values)
            if stacked.shape == (num_points, 1):
                return stacked.reshape(-1).detach()
        except Exception:  # any vmap failure means: evaluate one point at a time
            pass
        values = []
        for start in starts:
            chunk = make_points(start, min(start + EVAL_CHUNK, num_points))
            values.extend(_loss_value(loss_fn, p) for p in chunk)
        return torch.stack(values)


# --------------------------------------------------------------------------------------------
# Hessian-vector products and traces
# --------------------------------------------------------------------------------------------


def hvp(loss_fn: LossFn, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Exact Hessian-vector product H(theta) · v by automatic differentiation.

    Args:
        loss_fn: callable from a 1-D parameter tensor of length d to a 0-d loss tensor,
            twice differentiable by torch.autograd.
        theta: float tensor, shape (d,): the point where the Hessian is taken. It may or may
            not require grad; it is neither modified nor is its `requires_grad` changed.
        v: float tensor of theta's shape: the vector to multiply.

    Returns:
        A detached tensor of theta's shape and dtype, H(theta) v, computed by double
        backward (no finite differences). A loss whose Hessian is zero (e.g. linear in theta)
        gives zeros.

    Raises:
        ValueError: if `loss_fn` is not callable, `theta` is not a floating-point tensor, or
            `v` does not have theta's shape.
    """
    _check_loss_fn(loss_fn)
    theta = _check_theta(theta)
    v = _check_like_theta(v, theta, "v")
    return _Hessian(loss_fn, theta).matvec(v)


def rademacher_probes(num_probes: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """Rademacher probe vectors for Hutchinson's estimator.

    Args:
        num_probes: int >= 1, the number of probes (rows).
        dim: int >= 1, the number of parameters d (columns).
        generator: a `torch.Generator`; the only source of randomness (same state, same
            probes).

    Returns:
        Float tensor (default dtype) of shape (num_probes, dim) whose entries are exactly
        +1.0 or -1.0, each with probability 1/2.

    Raises:
        ValueError: for num_probes < 1, dim < 1, non-integers, or a non-generator.
    """
    num_probes = _check_positive_int(num_probes, "num_probes")
    dim = _check_positive_int(dim, "dim")
    generator = _check_generator(generator)
    bits = torch.randint(0, 2, (num_probes, dim), generator=generator)
    return (bits * 2 - 1).to(torch.get_default_dtype())


def hutchinson_trace(loss_fn: LossFn, theta: torch.Tensor, probes: torch.Tensor) -> float:
    """Hutchinson's estimate of tr H(theta): the mean over probes v of vᵀ H(theta) v.

    Args:
        loss_fn: callable from a 1-D parameter tensor of length d to a 0-d loss tensor.
        theta: float tensor, shape (d,): the point where the Hessian is taken (not modified).
        probes: tensor of shape (num_probes, d), usually from `rademacher_probes`; each row
            is one probe vector v.

    Returns:
        Python float, (1/num_probes) Σ_v vᵀ H v, exact for the given probes (with all 2^d
        sign vectors, or with the d standard basis vectors times sqrt(d), it is tr H).

    Raises:
        ValueError: if `probes` is not 2-D with one column per parameter or has no rows.
    """
    _check_loss_fn(loss_fn)
    theta = _check_theta(theta)
    probes = _check_rows(probes, theta, "probes")
    rows = probes.reshape(probes.shape[0], *theta.shape)
    hessian = _Hessian(loss_fn, theta)
    if hessian.grad is None:
        return 0.0
    if rows.shape[0] > HUTCHINSON_CHUNK:
        _keep_freed_memory()
    try:
        quad = [
            (chunk * hessian.matmat(chunk)).reshape(chunk.shape[0], -1).sum(dim=1)
            for chunk in rows.split(HUTCHINSON_CHUNK)
        ]
    except Exception:  # no batching rule for some op: one probe at a time
        hessian = _Hessian(loss_fn, theta)
        quad = [(v * hessian.matvec(v)).sum().reshape(1) for v in rows]
    return float(torch.cat(quad).to(torch.float64).mean())


def expected_loss_increase(hessian_trace: float, sigma: float) -> float:
    """Second-order expected loss increase under isotropic Gaussian parameter noise.

    E[L(theta + e)] - L(theta) ≈ sigma² / 2 · tr H for e ~ N(0, sigma² I) (worked example 2:
    trace 500 and sigma 0.01 give 0.025).

    Args:
        hessian_trace: real number, tr H (any sign: at a saddle it can be negative).
        sigma: real number >= 0, the noise standard deviation.

    Returns:
        Python float sigma² / 2 · hessian_trace.

    Raises:
        ValueError: if sigma < 0, or either argument is not a real number or is NaN.
    """
    trace = _as_real(hessian_trace, "hessian_trace")
    sigma = _as_real(sigma, "sigma")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    return sigma**2 / 2 * trace


def _as_real(value: object, name: str) -> float:
    """`value` (a real number, or a one-element tensor or array) as a Python float, not NaN."""
    if isinstance(value, torch.Tensor | np.ndarray):
        if value.size != 1 if isinstance(value, np.ndarray) else value.numel() != 1:
            raise ValueError(f"{name} must be a single number, got shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN")
    return x


def perturbed_loss_increase(loss_fn: LossFn, theta: torch.Tensor, noise: torch.Tensor) -> float:
    """Monte-Carlo loss increase under given perturbations: mean_e L(theta + e) - L(theta).

    Args:
        loss_fn: callable from a 1-D parameter tensor of length d to a 0-d loss tensor.
        theta: float tensor, shape (d,) (not modified).
        noise: tensor of shape (n, d); each row is one perturbation e (e.g. sigma times a
            standard Gaussian sample).

    Returns:
        Python float, (1/n) Σ_e L(theta + e) - L(theta), computed without gradients.

    Raises:
        ValueError: if `noise` is not 2-D with one column per parameter or has no rows.
    """
    _check_loss_fn(loss_fn)
    theta = _check_theta(theta)
    noise = _check_rows(noise, theta, "noise")
    base = _loss_value(loss_fn, theta)
    base_theta = theta.detach()
    rows = noise.reshape(-1, *theta.shape)

    def make_points(start: int, stop: int) -> torch.Tensor:
        return base_theta + rows[start:stop]

    losses = _batched_losses(loss_fn, make_points, rows.shape[0])
    return float(losses.to(torch.float64).mean()) - float(base)


def spectrum_trace(decay: str, dim: int) -> float:
    """Trace of a model Hessian spectrum (practice problem 2), as a discrete sum from k = 1.

    Args:
        decay: "inverse" for eigenvalues 1/k, or "exponential" for eigenvalues e^(-k).
        dim: int >= 1, the number of eigenvalues (parameters). An integer-valued float such
            as 1e7 is accepted.

    Returns:
        Python float: Σ_{k=1..dim} 1/k (the harmonic number, ≈ ln dim + 0.5772) or
        Σ_{k=1..dim} e^(-k) (→ 1/(e − 1) ≈ 0.582). Fast for dim = 10^7 (summed term by
        term up to HARMONIC_SUM_MAX, by the asymptotic expansion of H_n beyond).

    Raises:
        ValueError: for another decay, dim < 1, or a non-integer dim.
    """
    if decay not in SPECTRUM_DECAYS:
        raise ValueError(f"decay must be one of {SPECTRUM_DECAYS}, got {decay!r}")
    integral = isinstance(dim, numbers.Integral) or (
        isinstance(dim, numbers.Real) and float(dim).is_integer()
    )
    if isinstance(dim, bool) or not integral:
        raise ValueError(f"dim must be an integer, got {dim!r}")
    n = int(dim)
    if n < 1:
        raise ValueError(f"dim must be at least 1, got {dim!r}")
    if decay == "exponential":
        return math.fsum(math.exp(-k) for k in range(1, min(n, EXP_UNDERFLOW_K) + 1))
    if n > HARMONIC_SUM_MAX:  # error below 1/(252 n^6): far under float64 rounding
        return math.log(n) + EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2) + 1 / (120 * n**4)
    # numpy's sum is pairwise; fsum of the block sums keeps the total accurate to ~1e-16.
    partials = []
    for start in range(1, n + 1, SPECTRUM_BLOCK):
        stop = min(start + SPECTRUM_BLOCK, n + 1)
        partials.append(float(np.sum(1.0 / np.arange(start, stop, dtype=np.float64))))
    return math.fsum(partials)


def top_eigenvalue(
    loss_fn: LossFn,
    theta: torch.Tensor,
    *,
    num_iters: int = POWER_ITERS,
    generator: torch.Generator,
) -> float:
    """Largest-magnitude Hessian eigenvalue by power iteration with Hessian-vector products.

    Starts from v = g / ‖g‖ with g = torch.randn(d, generator=generator, dtype=theta.dtype),
    repeats v ← H v / ‖H v‖ `num_iters` times and returns the Rayleigh quotient vᵀ H v of the
    final v.

    Args:
        loss_fn: callable from a 1-D parameter tensor of length d to a 0-d loss tensor.
        theta: float tensor, shape (d,) (not modified).
        num_iters: int >= 1, the number of power-iteration steps.
        generator: a `torch.Generator`, the only source of randomness.

    Returns:
        Python float: the eigenvalue of largest magnitude (it can be negative); 0.0 if H v
        vanishes exactly. Power iteration converges when that eigenvalue is well separated.

    Raises:
        ValueError: for num_iters < 1 or a non-generator.
    """
    _check_loss_fn(loss_fn)
    theta = _check_theta(theta)
    num_iters = _check_positive_int(num_iters, "num_iters")
    generator = _check_generator(generator)
    hessian = _Hessian(loss_fn, theta)
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / torch.linalg.vector_norm(v)
    for _ in range(num_iters):
        hv = hessian.matvec(v)
        norm = torch.linalg.vector_norm(hv)
        if norm == 0:
            return 0.0
        v = hv / norm
    return float((v * hessian.matvec(v)).sum())


def classify_critical_point(eigenvalues: object, tol: float = CRITICAL_POINT_TOL) -> str:
    """Classify a critical point from the eigenvalues of its Hessian.

    Args:
        eigenvalues: 1-D list, tuple, numpy array or tensor of real numbers.
        tol: float >= 0; an eigenvalue with |lambda| <= tol counts as zero.

    Returns:
        "saddle" if some eigenvalue > tol and some < -tol; else "minimum" if all > tol;
        else "maximum" if all < -tol; else "degenerate".

    Raises:
        ValueError: for no eigenvalues, NaN, or a negative or NaN tol.
    """
    values = as_float_list(eigenvalues, "eigenvalues", min_len=1)
    tol = _as_real(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    has_positive = any(x > tol for x in values)
    has_negative = any(x < -tol for x in values)
    if has_positive and has_negative:
        return "saddle"
    if all(x > tol for x in values):
        return "minimum"
    if all(x < -tol for x in values):
        return "maximum"
    return "degenerate"


# --------------------------------------------------------------------------------------------
# scale invariance and filter normalisation
# --------------------------------------------------------------------------------------------


def _rescale_factors(c: object, hidden: int) -> torch.Tensor:
    """`c` as a float64 tensor of shape (hidden,), all entries > 0."""
    if isinstance(c, bool):
        raise ValueError(f"c must be a positive number or a 1-D tensor, got {c!r}")
    try:
        factors = torch.as_tensor(
            c.detach() if isinstance(c, torch.Tensor) else c, dtype=torch.float64
        )
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(
            f"c must be a positive number or a 1-D tensor, got {type(c).__name__}"
        ) from None
    if factors.dim() == 0:
        factors = factors.expand(hidden)
    elif factors.dim() != 1 or factors.shape[0] != hidden:
        raise ValueError(
            f"c must be a scalar or a 1-D tensor with one factor per hidden unit ({hidden}), "
            f"got shape {tuple(factors.shape)}"
        )
    if torch.isnan(factors).any() or (factors <= 0).any():
        raise ValueError("c must be positive (every factor > 0)")
    return factors


def rescale_hidden_units(params: Params, layer_in: str, layer_out: str, c: object) -> Params:
    """Rescale the hidden units between two consecutive linear layers (Dinh et al. 2017).

    Multiplies row i of `f"{layer_in}.weight"` (and entry i of `f"{layer_in}.bias"`, if
    present) by c_i and divides column i of `f"{layer_out}.weight"` by c_i;
    `f"{layer_out}.bias"` is unchanged. With a ReLU between the layers (positively
    homogeneous) the network computes the same function, yet its Hessian changes
    (practice problem 4).

    Args:
        params: Params, e.g. of an `nn.Sequential` of Linear/ReLU layers; the weight of
            `layer_in` has shape (h, n_in) and that of `layer_out` shape (n_out, h).
        layer_in: name prefix of the first layer (e.g. "0").
        layer_out: name prefix of the second layer (e.g. "2").
        c: positive number or 0-d tensor (one factor for all hidden units), or a 1-D tensor of
            h positive factors, one per hidden unit.

    Returns:
        New Params with the same keys in the same order, each tensor a new tensor of the
        input's dtype; keys other than the three rescaled ones are copies.

    Raises:
        ValueError: if any c <= 0, a layer's weight is missing or not 2-D, or shapes do not
            fit (h rows of the first weight vs h columns of the second, the bias, or c).
    """
    check_params(params, "params")
    if not isinstance(layer_in, str) or not isinstance(layer_out, str):
        raise ValueError("layer_in and layer_out must be strings (layer name prefixes)")
    if layer_in == layer_out:
        raise ValueError(f"layer_in and layer_out must differ, both are {layer_in!r}")
    w_in_key, b_in_key, w_out_key = f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"
    for key, arg in ((w_in_key, "layer_in"), (w_out_key, "layer_out")):
        if key not in params:
            raise ValueError(f"params has no {key!r} (the weight of {arg}={key.split('.')[0]!r})")
        if params[key].dim() != 2 or not params[key].is_floating_point():
            raise ValueError(f"params[{key!r}] must be a 2-D float tensor")
    w_in, w_out = params[w_in_key], params[w_out_key]
    hidden = w_in.shape[0]
    if w_out.shape[1] != hidden:
        raise ValueError(
            f"shapes do not fit: params[{w_in_key!r}] has {hidden} rows but "
            f"params[{w_out_key!r}] has {w_out.shape[1]} columns"
        )
    if b_in_key in params and params[b_in_key].shape != (hidden,):
        raise ValueError(
            f"shapes do not fit: params[{b_in_key!r}] has shape "
            f"{tuple(params[b_in_key].shape)}, expected ({hidden},)"
        )
    factors = _rescale_factors(c, hidden)
    out: Params = {}
    with torch.no_grad():
        for key, value in params.items():
            value = value.detach()
            if key == w_in_key:
                scaled = value.to(torch.float64) * factors[:, None]
            elif key == b_in_key:
                scaled = value.to(torch.float64) * factors
            elif key == w_out_key:
                scaled = value.to(torch.float64) / factors[None, :]
            else:
                out[key] = value.clone()
                continue
            out[key] = scaled.to(value.dtype)
    return out


def filter_normalize(direction: Params, theta: Params) -> Params:
    """Filter-normalise a random direction (Li et al. 2018, "ignore biasbn").

    For every tensor with dim >= 2 and every filter i (index along dim 0):
    d_i ← d_i · ‖theta_i‖ / (‖d_i‖ + FILTER_NORM_EPS), Frobenius norms over the other dims,
    so each filter of the direction has the norm of the matching filter of the weights.
    Every tensor with dim <= 1 (biases, norm layers) becomes zeros.

    Args:
        direction: Params, the raw direction (e.g. Gaussian), same keys and shapes as theta.
        theta: Params, the network's parameters.

    Returns:
        New Params with direction's keys and order, each tensor of direction's dtype.

    Raises:
        ValueError: if keys or shapes of `direction` and `theta` differ.
    """
    check_matching_params(direction, theta, "direction", "theta")
    out: Params = {}
    with torch.no_grad():
        for key, d in direction.items():
            d = d.detach()
            if d.dim() <= 1:
                out[key] = torch.zeros_like(d)
                continue
            t = theta[key].detach().to(d.dtype)
            d_norm = torch.linalg.vector_norm(d.reshape(d.shape[0], -1), dim=1)
            t_norm = torch.linalg.vector_norm(t.reshape(t.shape[0], -1), dim=1)
            scale = t_norm / (d_norm + FILTER_NORM_EPS)
            out[key] = d * scale.reshape(-1, *([1] * (d.dim() - 1)))
    return out


def loss_surface(
    loss_fn: LossFn,
    theta: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    alphas: object,
    betas: object,
) -> torch.Tensor:
    """The loss on a 2-D plane through theta: Z[i, j] = L(theta + alphas[i]·d1 + betas[j]·d2).

    Args:
        loss_fn: callable from a 1-D parameter tensor of length d to a 0-d loss tensor.
        theta: float tensor, shape (d,): the centre of the plane (not modified).
        d1, d2: tensors of shape (d,): the two directions (e.g. flattened filter-normalised
            directions).
        alphas: 1-D sequence or tensor of the coefficients of d1 (at least one).
        betas: 1-D sequence or tensor of the coefficients of d2 (at least one).

    Returns:
        Tensor of shape (len(alphas), len(betas)) in the loss's dtype, computed without
        gradients (it does not require grad).

    Raises:
        ValueError: if d1 or d2 do not have theta's shape, or alphas or betas are empty,
            not 1-D, or contain NaN.
    """
    _check_loss_fn(loss_fn)
    theta = _check_theta(theta)
    d1 = _check_like_theta(d1, theta, "d1")
    d2 = _check_like_theta(d2, theta, "d2")
    a = torch.tensor(as_float_list(alphas, "alphas", min_len=1), dtype=theta.dtype)
    b = torch.tensor(as_float_list(betas, "betas", min_len=1), dtype=theta.dtype)
    base = theta.detach()
    extra = [1] * theta.dim()
    num_betas = len(b)

    def make_points(start: int, stop: int) -> torch.Tensor:
        flat = torch.arange(start, stop)
        coef_a = a[flat // num_betas].reshape(-1, *extra)
        coef_b = b[flat % num_betas].reshape(-1, *extra)
        return base + coef_a * d1 + coef_b * d2

    losses = _batched_losses(loss_fn, make_points, len(a) * num_betas)
    return losses.reshape(len(a), num_betas)
