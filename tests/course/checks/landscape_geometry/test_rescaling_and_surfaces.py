"""The hidden checks of notebook 02, sections 5–6 (rescaling; pictures of the landscape) grade
well: `rescale_hidden_units`, `filter_normalize` and `loss_surface`.

The implementations come in two rounds (the second added when the checks were hardened);
the tables at the end list which fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import copy
import itertools
from collections import OrderedDict

import numpy as np
import pytest
import torch

from autograder.checks import parts
from solutions import landscape_geometry as ref
from tests.course.checks.landscape_geometry.helpers import _like_theta
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# rescale_hidden_units


def _check_rescale(params, layer_in, layer_out, c):
    for key in (f"{layer_in}.weight", f"{layer_out}.weight"):
        if key not in params:
            raise ValueError(f"params has no {key!r}")
    hidden = params[f"{layer_in}.weight"].shape[0]
    if params[f"{layer_out}.weight"].shape[1] != hidden:
        raise ValueError("shapes do not fit")
    factors = torch.as_tensor(c, dtype=torch.float64)
    if factors.dim() == 1 and factors.shape[0] != hidden:
        raise ValueError("c has the wrong length")
    if (factors <= 0).any():
        raise ValueError("c must be > 0")
    return factors.expand(hidden) if factors.dim() == 0 else factors


def _rescaled(params, layer_in, layer_out, c, *, in_bias=True, out_bias=False, inverse=False):
    factors = _check_rescale(params, layer_in, layer_out, c)
    if inverse:
        factors = 1 / factors
    out = {}
    for key, value in params.items():
        f = factors.to(value.dtype)
        if key == f"{layer_in}.weight":
            out[key] = value * f[:, None]
        elif key == f"{layer_in}.bias" and in_bias:
            out[key] = value * f
        elif key == f"{layer_out}.weight":
            out[key] = value / f[None, :]
        elif key == f"{layer_out}.bias" and out_bias:
            out[key] = value / f.mean()
        else:
            out[key] = value.clone()
    return out


def resc_scales_out_bias(params, layer_in, layer_out, c):
    return _rescaled(params, layer_in, layer_out, c, out_bias=True)


def resc_inverse(params, layer_in, layer_out, c):
    return _rescaled(params, layer_in, layer_out, c, inverse=True)


def resc_in_bias_not_scaled(params, layer_in, layer_out, c):
    return _rescaled(params, layer_in, layer_out, c, in_bias=False)


def resc_bias_required(params, layer_in, layer_out, c):
    """Reads layer_in's bias unconditionally: a KeyError for a layer without bias."""
    _ = params[f"{layer_in}.bias"]
    return ref.rescale_hidden_units(params, layer_in, layer_out, c)


def resc_multiplies_out(params, layer_in, layer_out, c):
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = _rescaled(params, layer_in, layer_out, c)
    key = f"{layer_out}.weight"
    out[key] = params[key] * factors.to(params[key].dtype)[None, :]
    return out


def resc_promotes_dtype(params, layer_in, layer_out, c):
    """Type promotion with a float64 tensor c turns float32 params into float64."""
    _check_rescale(params, layer_in, layer_out, c)
    c = torch.as_tensor(c)
    out = dict(params)
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * (c[:, None] if c.dim() else c)
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * c
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / (c[None, :] if c.dim() else c)
    return out


def resc_in_place(params, layer_in, layer_out, c):
    factors = _check_rescale(params, layer_in, layer_out, c)
    w_in = params[f"{layer_in}.weight"]
    w_in.mul_(factors.to(w_in.dtype)[:, None])
    if f"{layer_in}.bias" in params:
        params[f"{layer_in}.bias"].mul_(factors.to(w_in.dtype))
    params[f"{layer_out}.weight"].div_(factors.to(w_in.dtype)[None, :])
    return dict(params)


def resc_no_validation(params, layer_in, layer_out, c):
    c = torch.as_tensor(c, dtype=torch.float64)
    hidden = params[f"{layer_in}.weight"].shape[0]
    factors = c.expand(hidden) if c.dim() == 0 else c
    out = {k: v.clone() for k, v in params.items()}
    dt = params[f"{layer_in}.weight"].dtype
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * factors.to(dt)[:, None]
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * factors.to(dt)
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / factors.to(dt)[None, :]
    return out


def resc_alt_diag(params, layer_in, layer_out, c):
    """Correct: diagonal matrices, computed in float64, cast back per tensor."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    D, D_inv = torch.diag(factors), torch.diag(1 / factors)
    out = {}
    for key, value in params.items():
        v64 = value.to(torch.float64)
        if key in (f"{layer_in}.weight", f"{layer_in}.bias"):
            out[key] = (D @ v64).to(value.dtype)
        elif key == f"{layer_out}.weight":
            out[key] = (v64 @ D_inv).to(value.dtype)
        else:
            out[key] = value
    return out


def resc_alt_loop(params, layer_in, layer_out, c):
    """Correct: one hidden unit at a time, with Python floats."""
    factors = [float(f) for f in _check_rescale(params, layer_in, layer_out, c)]
    out = {k: v.clone() for k, v in params.items()}
    for i, f in enumerate(factors):
        out[f"{layer_in}.weight"][i] *= f
        if f"{layer_in}.bias" in out:
            out[f"{layer_in}.bias"][i] *= f
        out[f"{layer_out}.weight"][:, i] /= f
    return out


# rescale_hidden_units: correct (second round of hardening)


def resc_alt_deepcopy_inplace(params, layer_in, layer_out, c):
    """Correct: a deep copy changed in place (the input is untouched)."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = copy.deepcopy(params)
    w_in, w_out = out[f"{layer_in}.weight"], out[f"{layer_out}.weight"]
    with torch.no_grad():
        w_in.mul_(factors.to(w_in.dtype).unsqueeze(1))
        if f"{layer_in}.bias" in out:
            out[f"{layer_in}.bias"].mul_(factors.to(w_in.dtype))
        w_out.div_(factors.to(w_out.dtype).unsqueeze(0))
    return out


def resc_alt_einsum(params, layer_in, layer_out, c):
    """Correct: einsum with c and 1/c in each tensor's dtype, an OrderedDict out."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = OrderedDict()
    for key, value in params.items():
        f = factors.to(value.dtype)
        if key == f"{layer_in}.weight":
            out[key] = torch.einsum("i,ij->ij", f, value)
        elif key == f"{layer_in}.bias":
            out[key] = value * f
        elif key == f"{layer_out}.weight":
            out[key] = torch.einsum("ji,i->ji", value, f.reciprocal())
        else:
            out[key] = value.detach().clone()
    return out


def resc_alt_numpy(params, layer_in, layer_out, c):
    """Correct: numpy float64, cast back per tensor."""
    factors = _check_rescale(params, layer_in, layer_out, c).numpy()
    out = {}
    for key, value in params.items():
        a = value.detach().numpy().astype(np.float64)
        if key == f"{layer_in}.weight":
            a = a * factors[:, np.newaxis]
        elif key == f"{layer_in}.bias":
            a = a * factors
        elif key == f"{layer_out}.weight":
            a = a / factors[np.newaxis, :]
        out[key] = torch.from_numpy(a).to(value.dtype)
    return out


# rescale_hidden_units: wrong (second round of hardening)


def resc_broadcast_rows(params, layer_in, layer_out, c):
    """`w_in * c` without [:, None]: broadcasts c along the columns."""
    f = _check_rescale(params, layer_in, layer_out, c).to(params[f"{layer_in}.weight"].dtype)
    out = {k: v.clone() for k, v in params.items()}
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * f
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * f
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / f
    return out


def resc_allows_zero(params, layer_in, layer_out, c):
    """Rejects c < 0 but lets c = 0 through."""
    if (torch.as_tensor(c, dtype=torch.float64) < 0).any():
        raise ValueError("c must be >= 0")
    return resc_no_validation(params, layer_in, layer_out, c)


def resc_only_changed(params, layer_in, layer_out, c):
    """Returns only the rescaled tensors."""
    full = ref.rescale_hidden_units(params, layer_in, layer_out, c)
    keep = {f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"}
    return {k: v for k, v in full.items() if k in keep}


def resc_no_fit_check(params, layer_in, layer_out, c):
    """Checks the keys and c, never that layer_in's rows match layer_out's columns."""
    for key in (f"{layer_in}.weight", f"{layer_out}.weight"):
        if key not in params:
            raise ValueError(f"params has no {key!r}")
    f = torch.as_tensor(c, dtype=torch.float64)
    if (f <= 0).any():
        raise ValueError("c must be > 0")
    dt = params[f"{layer_in}.weight"].dtype
    f = f.to(dt)
    out = {k: v.clone() for k, v in params.items()}
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * (f[:, None] if f.dim() else f)
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * f
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / (f[None, :] if f.dim() else f)
    return out


def resc_float64_factors(params, layer_in, layer_out, c):
    """Multiplies by the float64 factors, so even a scalar c makes float64 results."""
    factors = _check_rescale(params, layer_in, layer_out, c)
    out = dict(params)
    out[f"{layer_in}.weight"] = params[f"{layer_in}.weight"] * factors[:, None]
    if f"{layer_in}.bias" in params:
        out[f"{layer_in}.bias"] = params[f"{layer_in}.bias"] * factors
    out[f"{layer_out}.weight"] = params[f"{layer_out}.weight"] / factors[None, :]
    return out


# ---------------------------------------------------------------------------------------------
# filter_normalize


def _check_same(direction, theta):
    if set(direction) != set(theta):
        raise ValueError("direction and theta have different keys")
    for k in direction:
        if direction[k].shape != theta[k].shape:
            raise ValueError(f"shape of {k!r} differs")


def _per_filter(d, t, eps=1e-10):
    d_norm = d.flatten(1).norm(dim=1)
    t_norm = t.flatten(1).norm(dim=1)
    return d * (t_norm / (d_norm + eps)).reshape(-1, *([1] * (d.dim() - 1)))


def fn_whole_tensor(direction, theta):
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d) if d.dim() <= 1 else d * theta[k].norm() / (d.norm() + 1e-10)
        for k, d in direction.items()
    }


def fn_per_column(direction, theta):
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            dims = tuple(i for i in range(d.dim()) if i != 1)
            scale = theta[k].norm(dim=dims, keepdim=True) / (d.norm(dim=dims, keepdim=True) + 1e-10)
            out[k] = d * scale
    return out


def fn_keeps_biases(direction, theta):
    _check_same(direction, theta)
    return {
        k: d.clone() if d.dim() <= 1 else _per_filter(d, theta[k]) for k, d in direction.items()
    }


def fn_no_eps(direction, theta):
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d) if d.dim() <= 1 else _per_filter(d, theta[k], eps=0.0)
        for k, d in direction.items()
    }


def fn_in_place(direction, theta):
    _check_same(direction, theta)
    for k, d in direction.items():
        if d.dim() <= 1:
            d.zero_()
        else:
            d.copy_(_per_filter(d, theta[k]))
    return direction


def fn_alt_loop(direction, theta):
    """Correct: one filter at a time with torch.linalg.norm."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() < 2:
            out[k] = torch.zeros_like(d)
            continue
        rows = []
        for d_i, t_i in zip(d, theta[k]):
            rows.append(d_i * torch.linalg.norm(t_i) / (torch.linalg.norm(d_i) + 1e-10))
        out[k] = torch.stack(rows)
    return out


def fn_alt_numpy(direction, theta):
    """Correct: numpy in float64, cast back to the direction's dtype."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        dn = d.detach().numpy().astype(np.float64)
        if dn.ndim <= 1:
            out[k] = torch.zeros_like(d)
            continue
        tn = theta[k].detach().numpy().astype(np.float64)
        axes = tuple(range(1, dn.ndim))
        d_norm = np.sqrt((dn**2).sum(axis=axes, keepdims=True))
        t_norm = np.sqrt((tn**2).sum(axis=axes, keepdims=True))
        out[k] = torch.from_numpy(dn * t_norm / (d_norm + 1e-10)).to(d.dtype)
    return out


# filter_normalize: correct (second round of hardening)


def fn_alt_vector_norm(direction, theta):
    """Correct: torch.linalg.vector_norm over dims 1.., keepdim; d * 0.0 for dim ≤ 1."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.ndim <= 1:
            out[k] = d * 0.0
            continue
        dims = tuple(range(1, d.ndim))
        d_norm = torch.linalg.vector_norm(d, dim=dims, keepdim=True)
        t_norm = torch.linalg.vector_norm(theta[k], dim=dims, keepdim=True)
        out[k] = d / (d_norm + 1e-10) * t_norm
    return out


def fn_alt_row_assign(direction, theta):
    """Correct: a clone whose rows are assigned one by one, an OrderedDict out."""
    _check_same(direction, theta)
    out = OrderedDict()
    for k, d in direction.items():
        if d.dim() < 2:
            out[k] = torch.zeros(d.shape, dtype=d.dtype)
            continue
        new = d.clone()
        for i in range(d.shape[0]):
            new[i] = d[i] * (theta[k][i].norm() / (d[i].norm() + 1e-10))
        out[k] = new
    return out


def fn_alt_float64_einsum(direction, theta):
    """Correct: norms by einsum in float64, cast back."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        D = d.reshape(d.shape[0], -1).to(torch.float64)
        T = theta[k].reshape(d.shape[0], -1).to(torch.float64)
        d_norm = torch.einsum("ij,ij->i", D, D).sqrt()
        t_norm = torch.einsum("ij,ij->i", T, T).sqrt()
        out[k] = (D * (t_norm / (d_norm + 1e-10))[:, None]).reshape(d.shape).to(d.dtype)
    return out


def fn_alt_theta_order(direction, theta):
    """Correct: iterates over theta's keys and looks the direction up by key."""
    _check_same(direction, theta)
    out = {}
    for k, t in theta.items():
        d = direction[k]
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
        else:
            scale = t.flatten(1).norm(dim=1) / (d.flatten(1).norm(dim=1) + 1e-10)
            out[k] = d * scale.view(-1, *([1] * (d.dim() - 1)))
    return out


def fn_alt_strict_order(direction, theta):
    """Correct (strict): rejects another key order with a ValueError, which is safe."""
    if list(direction) != list(theta):
        raise ValueError("direction and theta must list the same keys in the same order")
    return fn_alt_vector_norm(direction, theta)


# filter_normalize: wrong (second round of hardening)


def fn_f_normalize(direction, theta):
    """F.normalize divides by max(‖d_i‖, eps), not by ‖d_i‖ + eps."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        unit = torch.nn.functional.normalize(d.flatten(1), dim=1, eps=1e-10)
        out[k] = (unit * theta[k].flatten(1).norm(dim=1, keepdim=True)).reshape(d.shape)
    return out


def fn_normalises_biases(direction, theta):
    """Normalises 1-D tensors as one filter each instead of zeroing them."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() == 0:
            out[k] = torch.zeros_like(d)
        elif d.dim() == 1:
            out[k] = d * theta[k].norm() / (d.norm() + 1e-10)
        else:
            out[k] = _per_filter(d, theta[k])
    return out


def fn_bias_by_name(direction, theta):
    """Zeroes the keys named "bias" only: norm-layer vectors and scalars get normalised."""
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if k.endswith("bias"):
            out[k] = torch.zeros_like(d)
            continue
        rows = d.reshape(d.shape[0] if d.dim() else 1, -1)
        t_rows = theta[k].reshape(rows.shape)
        scale = t_rows.norm(dim=1, keepdim=True) / (rows.norm(dim=1, keepdim=True) + 1e-10)
        out[k] = (rows * scale).reshape(d.shape)
    return out


def fn_norm_dim1(direction, theta):
    """Norms over dim 1 only: right for matrices, wrong for convolutions."""
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d)
        if d.dim() <= 1
        else d * theta[k].norm(dim=1, keepdim=True) / (d.norm(dim=1, keepdim=True) + 1e-10)
        for k, d in direction.items()
    }


def _scaled_filters(direction, theta, scale):
    _check_same(direction, theta)
    out = {}
    for k, d in direction.items():
        if d.dim() <= 1:
            out[k] = torch.zeros_like(d)
            continue
        shape = (-1, *([1] * (d.dim() - 1)))
        d_norm = d.flatten(1).norm(dim=1).reshape(shape)
        t_norm = theta[k].flatten(1).norm(dim=1).reshape(shape)
        out[k] = d * scale(d_norm, t_norm)
    return out


def fn_unit_filters(direction, theta):
    """Unit filters, never multiplied by theta's filter norms."""
    return _scaled_filters(direction, theta, lambda dn, tn: 1 / (dn + 1e-10))


def fn_inverted(direction, theta):
    """‖d_i‖ / ‖theta_i‖: the ratio upside down."""
    return _scaled_filters(direction, theta, lambda dn, tn: dn / (tn + 1e-10))


def fn_by_position(direction, theta):
    """Pairs direction's and theta's tensors by position (zip of the values)."""
    _check_same(direction, theta)
    return {
        k: torch.zeros_like(d) if d.dim() <= 1 else _per_filter(d, t)
        for (k, d), t in zip(direction.items(), theta.values())
    }


# ---------------------------------------------------------------------------------------------
# loss_surface


def _surface(loss_fn, theta, d1, d2, alphas, betas, *, swap=False, center=True):
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    base = theta.detach() if center else torch.zeros_like(theta.detach())
    a_dir, b_dir = (d2, d1) if swap else (d1, d2)
    with torch.no_grad():
        rows = [torch.stack([loss_fn(base + a * a_dir + b * b_dir) for b in betas]) for a in alphas]
    return torch.stack(rows)


def surf_transposed(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1, d2, alphas, betas).T


def surf_no_theta(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1, d2, alphas, betas, center=False)


def surf_swapped_directions(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1, d2, alphas, betas, swap=True)


def surf_with_grad(loss_fn, theta, d1, d2, alphas, betas):
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    return torch.stack(
        [torch.stack([loss_fn(theta + a * d1 + b * d2) for b in betas]) for a in alphas]
    )


def surf_default_dtype(loss_fn, theta, d1, d2, alphas, betas):
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    Z = torch.zeros(len(alphas), len(betas))
    with torch.no_grad():
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                Z[i, j] = loss_fn(theta + a * d1 + b * d2)
    return Z


def surf_no_validation(loss_fn, theta, d1, d2, alphas, betas):
    with torch.no_grad():
        return torch.tensor(
            [
                [float(loss_fn(theta[: len(d1)] + a * d1 + b * d2[: len(d1)])) for b in betas]
                for a in alphas
            ]
        )


def surf_alt_vmap(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: a meshgrid of coefficients and one vmap over all grid points."""
    if d1.shape != theta.shape or d2.shape != theta.shape:
        raise ValueError("d1 and d2 must have theta's shape")
    a = torch.as_tensor(alphas, dtype=theta.dtype)
    b = torch.as_tensor(betas, dtype=theta.dtype)
    A, B = torch.meshgrid(a, b, indexing="ij")
    points = theta.detach() + A.reshape(-1, 1) * d1 + B.reshape(-1, 1) * d2
    with torch.no_grad():
        return torch.func.vmap(loss_fn)(points).reshape(len(a), len(b))


def surf_alt_loop(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: a double loop filling a tensor of theta's dtype."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    Z = torch.empty(len(alphas), len(betas), dtype=theta.dtype)
    x = theta.detach()
    with torch.no_grad():
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                Z[i, j] = loss_fn(x + float(a) * d1 + float(b) * d2)
    return Z


# loss_surface: correct (second round of hardening)


def surf_alt_xy_transposed(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: meshgrid with indexing='xy' (betas along rows), filled, then transposed."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    a = torch.as_tensor(np.asarray(alphas, dtype=np.float64))
    b = torch.as_tensor(np.asarray(betas, dtype=np.float64))
    A, B = torch.meshgrid(a, b, indexing="xy")
    x = theta.detach()
    Z = torch.empty(A.shape, dtype=theta.dtype)
    with torch.no_grad():
        for j in range(A.shape[0]):
            for i in range(A.shape[1]):
                Z[j, i] = loss_fn(x + float(A[j, i]) * d1 + float(B[j, i]) * d2)
    return Z.T


def surf_alt_product_numpy(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: itertools.product in row-major order, numpy reshape, theta's dtype."""
    if d1.shape != theta.shape or d2.shape != theta.shape:
        raise ValueError("d1 and d2 must have theta's shape")
    a = [float(t) for t in alphas]
    b = [float(t) for t in betas]
    x = theta.detach()
    with torch.no_grad():
        values = [loss_fn(x + ai * d1 + bj * d2).item() for ai, bj in itertools.product(a, b)]
    return torch.from_numpy(np.array(values).reshape(len(a), len(b))).to(theta.dtype)


def surf_alt_vmap_rows(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: one vmap per alpha over all betas."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    b = torch.as_tensor(betas).to(theta.dtype)
    x = theta.detach()
    rows = []
    with torch.no_grad():
        for a in alphas:
            rows.append(torch.func.vmap(loss_fn)(x + float(a) * d1 + b[:, None] * d2))
    return torch.stack(rows)


def surf_alt_ij_grid_flat(loss_fn, theta, d1, d2, alphas, betas):
    """Correct: meshgrid(indexing='ij'), flattened, evaluated, reshaped back."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    a = torch.tensor([float(t) for t in alphas], dtype=theta.dtype)
    b = torch.tensor([float(t) for t in betas], dtype=theta.dtype)
    A, B = torch.meshgrid(a, b, indexing="ij")
    x = theta.detach()
    with torch.no_grad():
        flat = [loss_fn(x + ai * d1 + bj * d2) for ai, bj in zip(A.flatten(), B.flatten())]
    return torch.stack(flat).reshape(A.shape)


# loss_surface: wrong (second round of hardening)


def surf_xy_reshaped(loss_fn, theta, d1, d2, alphas, betas):
    """meshgrid's default 'xy' layout flattened, then reshaped as if it were 'ij'."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    a = torch.tensor([float(t) for t in alphas], dtype=theta.dtype)
    b = torch.tensor([float(t) for t in betas], dtype=theta.dtype)
    A, B = torch.meshgrid(a, b, indexing="xy")
    x = theta.detach()
    with torch.no_grad():
        flat = [loss_fn(x + ai * d1 + bj * d2) for ai, bj in zip(A.flatten(), B.flatten())]
    return torch.stack(flat).reshape(len(a), len(b))


def surf_numpy(loss_fn, theta, d1, d2, alphas, betas):
    """Returns a numpy array (ready for matplotlib)."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    with torch.no_grad():
        return np.array(
            [[float(loss_fn(theta.detach() + a * d1 + b * d2)) for b in betas] for a in alphas]
        )


def surf_normalises_directions(loss_fn, theta, d1, d2, alphas, betas):
    return _surface(loss_fn, theta, d1 / d1.norm(), d2 / d2.norm(), alphas, betas)


def surf_in_place(loss_fn, theta, d1, d2, alphas, betas):
    """Moves theta in place and back: rounding leaves it changed."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    Z = torch.empty(len(alphas), len(betas), dtype=theta.dtype)
    with torch.no_grad():
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                step = a * d1 + b * d2
                theta.add_(step)
                Z[i, j] = loss_fn(theta)
                theta.sub_(step)
    return Z


def surf_always_float64(loss_fn, theta, d1, d2, alphas, betas):
    """Always float64, whatever theta's dtype."""
    _like_theta(d1, theta, "d1")
    _like_theta(d2, theta, "d2")
    x = theta.detach()
    with torch.no_grad():
        return torch.tensor(
            [[float(loss_fn(x + float(a) * d1 + float(b) * d2)) for b in betas] for a in alphas],
            dtype=torch.float64,
        )


# ---------------------------------------------------------------------------------------------
# the tables

WRONG = [
    # rescale_hidden_units
    ("rescale_hidden_units", resc_scales_out_bias, r"'2\.bias' was changed", ["biases"]),
    ("rescale_hidden_units", resc_inverse, r"you used 1/c", ["basic"]),
    ("rescale_hidden_units", resc_in_bias_not_scaled, r"'0\.bias' was not scaled", ["basic"]),
    ("rescale_hidden_units", resc_bias_required, r"no '0\.bias' key.*raised KeyError", ["biases"]),
    ("rescale_hidden_units", resc_multiplies_out, r"different function", ["function"]),
    (
        "rescale_hidden_units",
        resc_promotes_dtype,
        r"dtype torch\.float64, expected torch\.float32.*keep the params' dtype",
        ["per_unit"],
    ),
    (
        "rescale_hidden_units",
        resc_in_place,
        r"params\['0\.weight'\] was modified in place",
        ["no_mutation"],
    ),
    (
        "rescale_hidden_units",
        resc_no_validation,
        r"c = 0.*instead of raising ValueError",
        ["errors"],
    ),
    # filter_normalize
    ("filter_normalize", fn_whole_tensor, r"as a whole", ["basic"]),
    ("filter_normalize", fn_per_column, r"normalised the columns", ["basic"]),
    ("filter_normalize", fn_keeps_biases, r"still the raw direction", ["basic"]),
    ("filter_normalize", fn_no_eps, r"all zeros stays zero.*NaN.*1e-10", ["zeros"]),
    (
        "filter_normalize",
        fn_in_place,
        r"direction\['0\.weight'\] was modified in place",
        ["no_mutation"],
    ),
    # loss_surface
    (
        "loss_surface",
        surf_transposed,
        r"shape \(4, 3\), expected \(3, 4\) \(transposed\?\)",
        ["basic"],
    ),
    ("loss_surface", surf_no_theta, r"must pass through theta", ["basic"]),
    ("loss_surface", surf_swapped_directions, r"swaps the directions", ["basic"]),
    ("loss_surface", surf_with_grad, r"requires grad", ["gradients"]),
    (
        "loss_surface",
        surf_default_dtype,
        r"dtype torch\.float32, expected torch\.float64",
        ["conventions"],
    ),
    ("loss_surface", surf_no_validation, r"d1 has 5 entries.*ValueError", ["errors"]),
    # second round: rescale_hidden_units
    (
        "rescale_hidden_units",
        resc_broadcast_rows,
        r"raised RuntimeError.*size of tensor",
        ["basic"],
    ),
    ("rescale_hidden_units", resc_allows_zero, r"c = 0.*instead of raising ValueError", ["errors"]),
    ("rescale_hidden_units", resc_only_changed, r"wrong keys: missing \['2\.bias'", ["basic"]),
    (
        "rescale_hidden_units",
        resc_no_fit_check,
        r"do not fit.*instead of raising ValueError",
        ["errors"],
    ),
    (
        "rescale_hidden_units",
        resc_float64_factors,
        r"c = 2\.0.*dtype torch\.float64, expected torch\.float32",
        ["basic"],
    ),
    # second round: filter_normalize
    ("filter_normalize", fn_f_normalize, r"norm 1e-9.*max\(‖d_i‖, eps\)", ["zeros"]),
    ("filter_normalize", fn_normalises_biases, r"'0\.bias' \(dim ≤ 1\) is not zero", ["basic"]),
    ("filter_normalize", fn_bias_by_name, r"'norm\.weight' \(dim ≤ 1\) is not zero", ["zeros"]),
    ("filter_normalize", fn_norm_dim1, r"4-D convolution.*over dim 1 only", ["filters"]),
    ("filter_normalize", fn_unit_filters, r"has norm 1.*by ‖theta_i‖", ["basic"]),
    ("filter_normalize", fn_inverted, r"ratio is upside down", ["basic"]),
    ("filter_normalize", fn_by_position, r"another order.*paired .* by position", ["basic"]),
    # second round: loss_surface
    ("loss_surface", surf_xy_reshaped, r"wrong order.*indexing='xy'", ["basic"]),
    ("loss_surface", surf_numpy, r"should be a torch\.Tensor, got .*numpy\.ndarray", ["basic"]),
    ("loss_surface", surf_normalises_directions, r"normalised d1 and d2", ["basic"]),
    ("loss_surface", surf_transposed, r"3 × 3|Your surface is transposed", ["no_mutation"]),
    ("loss_surface", surf_in_place, r"theta was modified in place", ["no_mutation"]),
    (
        "loss_surface",
        surf_always_float64,
        r"float32 theta.*dtype torch\.float64, expected torch\.float32",
        ["conventions"],
    ),
]

CORRECT = [
    ("rescale_hidden_units", resc_alt_diag),
    ("rescale_hidden_units", resc_alt_loop),
    ("filter_normalize", fn_alt_loop),
    ("filter_normalize", fn_alt_numpy),
    ("loss_surface", surf_alt_vmap),
    ("loss_surface", surf_alt_loop),
    ("rescale_hidden_units", resc_alt_deepcopy_inplace),
    ("rescale_hidden_units", resc_alt_einsum),
    ("rescale_hidden_units", resc_alt_numpy),
    ("filter_normalize", fn_alt_vector_norm),
    ("filter_normalize", fn_alt_row_assign),
    ("filter_normalize", fn_alt_float64_einsum),
    ("filter_normalize", fn_alt_theta_order),
    ("filter_normalize", fn_alt_strict_order),
    ("loss_surface", surf_alt_xy_transposed),
    ("loss_surface", surf_alt_product_numpy),
    ("loss_surface", surf_alt_vmap_rows),
    ("loss_surface", surf_alt_ij_grid_flat),
]

NAMES = [
    "rescale_hidden_units",
    "filter_normalize",
    "loss_surface",
]


@pytest.mark.parametrize(
    ("name", "fn", "match", "in_parts"),
    WRONG,
    ids=[f"{w[0]}-{w[1].__name__}-{w[3][0]}" for w in WRONG],
)
def test_wrong_implementation_fails_with_a_message_naming_the_problem(name, fn, match, in_parts):
    """A typical mistake fails the part that targets it, and the feedback says what is wrong."""
    assert_fails(name, fn, match=match, in_parts=in_parts)


@pytest.mark.parametrize(("name", "fn"), CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_correct_alternative_passes_every_part(name, fn):
    """A correct implementation written differently from the reference gets full marks."""
    assert_passes_all(name, fn)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_has_five_wrong_and_four_correct_implementations(name):
    """The tables above cover every graded function of this file."""
    assert len({w[1] for w in WRONG if w[0] == name}) >= 5
    assert len({c[1] for c in CORRECT if c[0] == name}) >= 4
    assert 3 <= len(parts(name)) <= 6
