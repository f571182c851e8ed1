"""Model answers of notebook 02, sections 4-6: the top eigenvalue, critical points, rescaling,
filter-normalised loss surfaces."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import torch

FILTER_NORM_EPS = 1e-10
"""Added to each filter's direction norm, so that an all-zero filter does not divide by 0."""


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
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"theta must be a tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.numel() == 0:
        raise ValueError("theta must have at least one entry")
    if isinstance(num_iters, bool) or not isinstance(num_iters, numbers.Integral):
        raise ValueError(f"num_iters must be an integer, got {num_iters!r}")
    if num_iters < 1:
        raise ValueError(f"num_iters must be at least 1, got {num_iters}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")

    # Forward and first backward pass once, as in hvp; then every H v is just one more
    # backward pass through the gradient's graph (num_iters + 1 of them).
    x = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = loss_fn(x)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("loss_fn must return a tensor with a single element")
        g = None
        if loss.requires_grad:
            (g,) = torch.autograd.grad(loss.reshape(()), x, create_graph=True, allow_unused=True)

    def hessian_times(v):
        if g is None or not g.requires_grad:  # the gradient is constant in theta: H = 0
            return torch.zeros_like(v)
        (hv,) = torch.autograd.grad(g, x, grad_outputs=v, retain_graph=True, allow_unused=True)
        return torch.zeros_like(v) if hv is None else hv.detach()

    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / torch.linalg.vector_norm(v)
    for _ in range(int(num_iters)):
        hv = hessian_times(v)
        norm = torch.linalg.vector_norm(hv)
        if norm == 0:  # v lies in the null space of H
            return 0.0
        v = hv / norm
    # The Rayleigh quotient keeps the sign: a negative eigenvalue stays negative.
    return float((v * hessian_times(v)).sum())


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
    import numbers
    from collections.abc import Sequence

    import numpy as np

    # eigenvalues as Python floats, from a 1-D tensor or any sequence (at least one, no NaN).
    if isinstance(eigenvalues, torch.Tensor):
        if eigenvalues.dim() != 1:
            raise ValueError(f"eigenvalues must be 1-D, got shape {tuple(eigenvalues.shape)}")
        values = [float(v) for v in eigenvalues.detach().to(torch.float64).tolist()]
    elif isinstance(eigenvalues, Sequence) or hasattr(eigenvalues, "__iter__"):
        try:
            values = [float(v) for v in eigenvalues]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"eigenvalues must be a sequence of numbers: {exc}") from None
    else:
        raise ValueError(
            f"eigenvalues must be a sequence of numbers, got {type(eigenvalues).__name__}"
        )
    if len(values) < 1:
        raise ValueError(f"eigenvalues needs at least 1 values, got {len(values)}")
    if any(math.isnan(v) for v in values):
        raise ValueError("eigenvalues contains NaN")

    # tol: a real number (or a one-element tensor or array), not NaN, >= 0.
    if isinstance(tol, (torch.Tensor, np.ndarray)):
        size = tol.size if isinstance(tol, np.ndarray) else tol.numel()
        if size != 1:
            raise ValueError(f"tol must be a single number, got shape {tuple(tol.shape)}")
        tol = tol.item()
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise ValueError(f"tol must be a real number, got {tol!r}")
    tol = float(tol)
    if math.isnan(tol):
        raise ValueError("tol must not be NaN")
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
    return "degenerate"  # some eigenvalues are zero within tol: the test cannot decide


# --------------------------------------------------------------------------------------------
# scale invariance and filter normalisation
# --------------------------------------------------------------------------------------------


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
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a dict of tensors, got {type(params).__name__}")
    for key, value in params.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"params[{key!r}] must be a tensor, got {type(value).__name__}")
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
    hidden = w_in.shape[0]  # one row of layer_in's weight per hidden unit
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

    # c as one float64 factor per hidden unit, every factor > 0.
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

    rescaled = {}
    with torch.no_grad():
        for key, value in params.items():
            value = value.detach()
            if key == w_in_key:  # incoming weights of unit i: row i times c_i
                scaled = value.to(torch.float64) * factors[:, None]
            elif key == b_in_key:  # its bias too, so that its pre-activation is c_i z_i
                scaled = value.to(torch.float64) * factors
            elif key == w_out_key:  # outgoing weights of unit i: column i divided by c_i
                scaled = value.to(torch.float64) / factors[None, :]
            else:
                rescaled[key] = value.clone()
                continue
            rescaled[key] = scaled.to(value.dtype)
    return rescaled


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
    # direction and theta: dicts of tensors with the same keys and, per key, the same shape.
    for arg, params in (("direction", direction), ("theta", theta)):
        if not isinstance(params, Mapping):
            raise ValueError(f"{arg} must be a dict of tensors, got {type(params).__name__}")
        for key, value in params.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{arg}[{key!r}] must be a tensor, got {type(value).__name__}")
    if set(direction) != set(theta):
        only_direction = sorted(set(direction) - set(theta))
        only_theta = sorted(set(theta) - set(direction))
        raise ValueError(
            f"direction and theta have different keys: only in direction: {only_direction}, "
            f"only in theta: {only_theta}"
        )
    for key in direction:
        if direction[key].shape != theta[key].shape:
            raise ValueError(
                f"direction[{key!r}] has shape {tuple(direction[key].shape)} but "
                f"theta[{key!r}] has shape {tuple(theta[key].shape)}"
            )

    normalized = {}
    with torch.no_grad():
        for key, d in direction.items():
            d = d.detach()
            if d.dim() <= 1:  # biases and norm-layer parameters are not perturbed
                normalized[key] = torch.zeros_like(d)
                continue
            t = theta[key].detach().to(d.dtype)
            d_norm = torch.linalg.vector_norm(d.reshape(d.shape[0], -1), dim=1)  # per filter
            t_norm = torch.linalg.vector_norm(t.reshape(t.shape[0], -1), dim=1)
            scale = t_norm / (d_norm + FILTER_NORM_EPS)
            # One factor per filter, broadcast over the filter's other dims.
            normalized[key] = d * scale.reshape(-1, *([1] * (d.dim() - 1)))
    return normalized


# The signature as the released stub shows it (the notebook's layout, not ruff's).
# fmt: off
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
    import math
    from collections.abc import Sequence

    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(theta, torch.Tensor):
        raise ValueError(f"theta must be a tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"theta must be a floating-point tensor, got dtype {theta.dtype}")
    if theta.numel() == 0:
        raise ValueError("theta must have at least one entry")
    directions = []
    for name, direction in (("d1", d1), ("d2", d2)):
        if not isinstance(direction, torch.Tensor):
            raise ValueError(f"{name} must be a tensor, got {type(direction).__name__}")
        if direction.shape != theta.shape:
            raise ValueError(
                f"{name} must have the shape of theta {tuple(theta.shape)}, "
                f"got {tuple(direction.shape)}"
            )
        directions.append(direction.detach().to(theta.dtype))
    d1, d2 = directions

    def as_floats(values, name):
        """`values` (a 1-D tensor or a sequence of numbers) as Python floats: >= 1, no NaN."""
        if isinstance(values, torch.Tensor):
            if values.dim() != 1:
                raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
            out = [float(v) for v in values.detach().to(torch.float64).tolist()]
        elif isinstance(values, Sequence) or hasattr(values, "__iter__"):
            try:
                out = [float(v) for v in values]
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be a sequence of numbers: {exc}") from None
        else:
            raise ValueError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
        if len(out) < 1:
            raise ValueError(f"{name} needs at least 1 values, got {len(out)}")
        if any(math.isnan(v) for v in out):
            raise ValueError(f"{name} contains NaN")
        return out

    a = torch.tensor(as_floats(alphas, "alphas"), dtype=theta.dtype)
    b = torch.tensor(as_floats(betas, "betas"), dtype=theta.dtype)
    base = theta.detach()
    num_points = len(a) * len(b)

    def make_points(start, stop):
        """Grid points start..stop-1 (row-major: alphas[i], betas[j]), stacked along dim 0."""
        flat = torch.arange(start, stop)
        coef_a = a[flat // len(b)].reshape(-1, *([1] * theta.dim()))
        coef_b = b[flat % len(b)].reshape(-1, *([1] * theta.dim()))
        return base + coef_a * d1 + coef_b * d2

    def loss_at(point):
        """L(point) as a 0-d tensor; loss_fn gets a copy, so it cannot change our tensors."""
        loss = loss_fn(point.detach().clone())
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("loss_fn must return a tensor with a single element")
        return loss.detach().reshape(())

    chunk_size = 16  # points per batched call (bounds the memory)
    starts = range(0, num_points, chunk_size)
    with torch.no_grad():
        # Fast path: torch.func.vmap(loss_fn) evaluates a whole chunk of points in one call.
        try:
            batched_loss_fn = torch.func.vmap(loss_fn)
            chunks = []
            for start in starts:
                values = batched_loss_fn(make_points(start, min(start + chunk_size, num_points)))
                chunks.append(values.reshape(values.shape[0], -1))
            losses = torch.cat(chunks)
            losses = losses.reshape(-1) if losses.shape == (num_points, 1) else None
        except Exception:
            losses = None
        if losses is None:
            # Not every loss_fn can be vmapped (.item(), data-dependent branches,
            # randomness, ...): then evaluate one point at a time.
            losses = torch.stack(
                [
                    loss_at(point)
                    for start in starts
                    for point in make_points(start, min(start + chunk_size, num_points))
                ]
            )
    return losses.reshape(len(a), len(b))


# fmt: on
