"""Model answer of notebook 01, section 7: permutation symmetry, aligning the hidden units of one
network to those of another (weight matching, Ainsworth et al. 2023)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from scipy.optimize import linear_sum_assignment

from solutions._common import Params


def align_hidden_units(params_a: Params, params_b: Params, layer_in: str, layer_out: str) -> Params:
    """Permute the hidden units of params_b to best match those of params_a (weight matching).

    Inputs:
    - params_a, params_b: Params of two networks of the same architecture, in which the
      Linear layer named layer_in is followed by a ReLU and then by the Linear layer named
      layer_out (in lab.make_mlp's nn.Sequential: "0" and "2", or "2" and "4").
      Same keys and, per key, the same shape in both. params[layer_in + ".weight"] has shape
      (h, n_in), params[layer_out + ".weight"] has shape (n_out, h): the layer between them
      has h hidden units. layer_in's bias (shape (h,)) is optional.
    - layer_in, layer_out: the layer names (prefixes of the keys), e.g. "0" and "2".

    Convention: hidden unit i of a network is described by one vector u[i], the concatenation
    of its incoming weights (row i of layer_in's weight), its bias (entry i of layer_in's
    bias, if the layer has one) and its outgoing weights (column i of layer_out's weight).
    Find the permutation pi of 0..h-1 that maximises the total similarity

        sum_i <u_a[i], u_b[pi(i)]>,

    an exact linear assignment problem on the (h, h) similarity matrix
    S[i, j] = <u_a[i], u_b[j]>
            = (W_in_a W_in_b^T)[i, j] + b_a[i] b_b[j] + (W_out_a^T W_out_b)[i, j]
    (not a greedy matching). Unit i of the result is unit pi(i) of params_b: row i of
    layer_in's weight and entry i of its bias are row/entry pi(i) of params_b's, column i
    of layer_out's weight is column pi(i) of params_b's. If several permutations reach the
    maximum, any of them is right.

    Returns:
    - new Params with params_b's keys in the same order, every tensor new and with
      params_b's dtype: the three tensors above permuted, every other key (layer_out's bias,
      the other layers) an unchanged copy. Because a ReLU network does not depend on the
      order of its hidden units, the result computes exactly the same function as
      params_b. When params_b is params_a (or already aligned to it) it comes back
      unchanged. Neither input is changed.

    Raises:
    - ValueError (naming the argument) if the keys or shapes of params_a and params_b
      differ, a layer's weight is missing or not 2-D, or the shapes do not chain (h rows of
      layer_in's weight, h columns of layer_out's weight, a bias of length h).

    Hint: scipy.optimize.linear_sum_assignment(S, maximize=True) returns (rows, cols) with
    rows = 0..h-1 and cols[i] = pi(i). Index with a permutation: W[pi] permutes rows,
    W[:, pi] columns. Compute S in float64.
    Reference: Entezari et al. (2022), The Role of Permutation Invariance in Linear Mode
    Connectivity of Neural Networks; Ainsworth, Hayase & Srinivasa (2023), Git Re-Basin:
    Merging Models modulo Permutation Symmetries (weight matching).
    """
    # params_a and params_b: dicts of tensors with the same keys and, per key, the same shape.
    for arg, params in (("params_a", params_a), ("params_b", params_b)):
        if not isinstance(params, Mapping):
            raise ValueError(f"{arg} must be a dict of tensors, got {type(params).__name__}")
        for key, value in params.items():
            if not isinstance(value, torch.Tensor):
                raise ValueError(f"{arg}[{key!r}] must be a tensor, got {type(value).__name__}")
    if set(params_a) != set(params_b):
        only_a = sorted(set(params_a) - set(params_b))
        only_b = sorted(set(params_b) - set(params_a))
        raise ValueError(
            f"params_a and params_b have different keys: only in params_a: {only_a}, "
            f"only in params_b: {only_b}"
        )
    for key in params_a:
        if params_a[key].shape != params_b[key].shape:
            raise ValueError(
                f"params_a[{key!r}] has shape {tuple(params_a[key].shape)} but "
                f"params_b[{key!r}] has shape {tuple(params_b[key].shape)}"
            )

    # layer_in and layer_out: two different layers whose weights chain through h hidden units.
    if not isinstance(layer_in, str) or not isinstance(layer_out, str):
        raise ValueError("layer_in and layer_out must be strings (layer name prefixes)")
    if layer_in == layer_out:
        raise ValueError(f"layer_in and layer_out must differ, both are {layer_in!r}")
    w_in_key, b_in_key, w_out_key = f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"
    for key, arg, name in ((w_in_key, "layer_in", layer_in), (w_out_key, "layer_out", layer_out)):
        if key not in params_b:
            raise ValueError(f"the params have no {key!r} (the weight of {arg}={name!r})")
        if params_b[key].dim() != 2 or not params_b[key].is_floating_point():
            raise ValueError(f"params_b[{key!r}] must be a 2-D float tensor")
    hidden = params_b[w_in_key].shape[0]  # one row of layer_in's weight per hidden unit
    if params_b[w_out_key].shape[1] != hidden:
        raise ValueError(
            f"shapes do not chain: {w_in_key!r} has {hidden} rows (hidden units) but "
            f"{w_out_key!r} has {params_b[w_out_key].shape[1]} columns"
        )
    has_bias = b_in_key in params_b
    if has_bias and params_b[b_in_key].shape != (hidden,):
        raise ValueError(
            f"shapes do not chain: {b_in_key!r} has shape {tuple(params_b[b_in_key].shape)}, "
            f"expected ({hidden},)"
        )

    with torch.no_grad():

        def f64(params, key):
            return params[key].detach().to(torch.float64)

        # S[i, j] = <u_a[i], u_b[j]>: incoming weights (rows), bias, outgoing weights (columns).
        similarity = f64(params_a, w_in_key) @ f64(params_b, w_in_key).T
        similarity += f64(params_a, w_out_key).T @ f64(params_b, w_out_key)
        if has_bias:
            similarity += torch.outer(f64(params_a, b_in_key), f64(params_b, b_in_key))
        # The exact assignment that maximises the total similarity (the Hungarian method's
        # problem; scipy solves it with a Jonker-Volgenant algorithm): cols[i] = pi(i).
        _, cols = linear_sum_assignment(similarity.numpy(), maximize=True)
        pi = torch.as_tensor(cols, dtype=torch.long)

        aligned = {}
        for key, value in params_b.items():
            value = value.detach()
            # Indexing with a tensor of indices makes a new tensor (a copy).
            if key in (w_in_key, b_in_key):  # unit i's incoming weights (row pi(i)), bias
                aligned[key] = value[pi]
            elif key == w_out_key:  # its outgoing weights: column pi(i) of params_b's
                aligned[key] = value[:, pi]
            else:
                aligned[key] = value.clone()
    return aligned
