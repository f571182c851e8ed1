"""Checks of `align_hidden_units` (notebook 01): permute params_b's hidden units to best match
params_a's (weight matching, an exact linear assignment).

What is graded is what the contract fixes, not the reference's permutation (which is one of
several where permutations tie): the result has params_b's keys, shapes and dtypes; every
key other than layer_in's weight and bias and layer_out's weight is params_b's; those three
hold params_b's hidden units, each exactly once, permuted by one permutation (rows, entries,
columns); and the total similarity sum_i <u_a[i], u_result[i]> is the optimum, as the
reference computes it (to `OBJECTIVE_RTOL`). So an implementation that solves the assignment
another way (brute force, a hand-written Hungarian method, a float32 or rescaled or negated
cost) keeps full marks; every case's optimum is unique anyway, by construction.

The cases are built so that each typical mistake fails the same parts for every student:

- `planted`: params_b's hidden layer is params_a's with its units shuffled (a cycle through
  all of them; the other layers differ), each unit's vector of one length: every similarity
  made of any of the three parts, and every greedy matching, finds the shuffle. This part
  checks the mechanics: maximise, apply pi and not its inverse, one permutation for rows,
  bias and columns.
- `similarity`: units told apart only by their bias, or only by their outgoing weights (the
  other parts are copies, or nearly alike), and layers without a bias.
- `exact`: a similarity matrix (hidden in a random rotation of the incoming weights) on which
  greedy matchings (the largest pair first, or unit by unit in order) and the row-wise best
  match all fail, and fixed random parameters.
- `function`: planted cases whose layer_out weight is square, so that permuting its rows
  instead of its columns runs; the network's outputs must not change.

Wrong results are diagnosed: a row or column that is not params_b's, a unit used twice, the
columns left alone or the rows permuted instead, the bias not permuted, the order unchanged,
the smallest total similarity, the inverse permutation, a similarity that leaves out the
bias or the outgoing weights, a greedy matching.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import torch
from scipy.optimize import linear_sum_assignment

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part
from autograder.checks.verdicts import (
    DICT_TYPES,
    compare_tensor,
    fmt_value,
    leaves_inputs_unchanged,
    raises_value_error,
    returned_then,
)
from solutions import mode_connectivity as ref

from ..networks import network_output
from .common import _fixed_gen, _gen

# Tolerances and sizes (named, never inline)

UNIT_RTOL = 1e-6
"""A unit of the result is one of params_b's when its tensors agree to this (they are copies)."""
UNIT_ATOL = 1e-6
OBJECTIVE_RTOL = 1e-6
"""The result's total similarity may fall short of the optimum by this fraction of the sum of
|<u_a[i], u_result[i]>|: rounding only (every case's optimum beats the next best by far more)."""
FUNCTION_RTOL = 1e-5
"""The network's outputs with the result and with params_b agree to this (float64 evaluation)."""
FUNCTION_ATOL = 1e-6
NEAR_COPY_NOISE = 0.05
"""How far units that are "nearly alike" are from each other (uniform in ±this per entry)."""

_NAME = "align_hidden_units"
_HINT = (
    "unit i of the result is unit pi(i) of params_b, where pi maximises sum_i <u_a[i], "
    "u_b[pi(i)]> (u = incoming weights, bias, outgoing weights): take the rows of "
    "params_b[layer_in + '.weight'] and the entries of its bias in the order pi, and the "
    "columns of params_b[layer_out + '.weight'] in the same order; copy every other key"
)
_PLANTED_HINT = (
    "this hidden layer of params_b is params_a's with its units shuffled: aligned, its weights "
    "and bias are params_a's again (the other keys stay params_b's)"
)

#: The similarity matrices of the `exact` part (rows: params_a's units, columns: params_b's,
#: before they are shuffled). The best assignment is unique and beats the next by 4 (2): a
#: greedy matching (largest pair first), matching unit by unit in index order (rows or
#: columns, forwards or backwards), and the best match per row or per column all miss it.
GREEDY_TRAPS = (
    ((1, 2, 13, 12), (5, 10, 7, 16), (9, 8, 11, 6), (14, 3, 15, 4)),
    ((3, 4, 9, 2), (5, 8, 16, 12), (7, 10, 6, 13), (14, 11, 1, 15)),
)
_TRAP_SCALE = 0.25
"""The trap matrices are scaled by this (weights of order 1); their gaps stay far above the
per-column shifts (at most 0.04) that params_a's tiny bias and outgoing weights add."""


# ---------------------------------------------------------------------------------------------
# Units as data (both stages)


def _keys(layer_in: str, layer_out: str) -> tuple[str, str, str]:
    return f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"


def unit_vectors(
    params: Mapping[str, torch.Tensor], layer_in: str, layer_out: str, *, parts: str = "ibo"
) -> torch.Tensor:
    """Row i: hidden unit i's incoming weights ("i"), bias ("b", if any) and outgoing weights
    ("o"), in float64; `parts` picks which of them."""
    w_in, b_in, w_out = _keys(layer_in, layer_out)
    pieces = []
    if "i" in parts:
        pieces.append(params[w_in].detach().to(torch.float64))
    if "b" in parts and b_in in params:
        pieces.append(params[b_in].detach().to(torch.float64)[:, None])
    if "o" in parts:
        pieces.append(params[w_out].detach().to(torch.float64).T)
    return torch.cat(pieces, dim=1)


def permuted_units(
    params: Mapping[str, torch.Tensor], layer_in: str, layer_out: str, perm: list[int]
) -> dict[str, torch.Tensor]:
    """`params` whose hidden unit i is unit perm[i] of `params`; other keys are copies."""
    w_in, b_in, w_out = _keys(layer_in, layer_out)
    index = torch.tensor(perm, dtype=torch.long)
    out = {}
    for key, value in params.items():
        if key in (w_in, b_in):
            out[key] = value[index].clone()
        elif key == w_out:
            out[key] = value[:, index].clone()
        else:
            out[key] = value.clone()
    return out


# ---------------------------------------------------------------------------------------------
# Stage 1: the cases


def _uniform(gen: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2.0 - 1.0) * scale


def _chain(gen: torch.Generator, widths: tuple[int, ...], *, bias: bool = True) -> dict:
    """Random float64 params of a Linear/ReLU chain whose Linear layers are "0", "2", ..."""
    params = {}
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        params[f"{2 * i}.weight"] = _uniform(gen, fan_out, fan_in)
        if bias:
            params[f"{2 * i}.bias"] = _uniform(gen, fan_out)
    return params


def _cycle(gen: torch.Generator, h: int) -> list[int]:
    """A random permutation that is one cycle through all h units (no unit stays, and for
    h >= 3 it is not its own inverse)."""
    order = torch.randperm(h, generator=gen).tolist()
    perm = [0] * h
    for k in range(h):
        perm[order[k]] = order[(k + 1) % h]
    return perm


def _two_cycles(gen: torch.Generator, h: int) -> tuple[list[int], list[int]]:
    """Two random cycles through h >= 4 units, neither the other nor its inverse."""
    first = _cycle(gen, h)
    second = _cycle(gen, h)
    while second in (first, inverse_permutation(first)):
        second = _cycle(gen, h)
    return first, second


def _equal_lengths(params: dict, layer_in: str, layer_out: str) -> dict:
    """`params` with each hidden unit's vector u scaled to length 1 (a unit is then more
    similar to its own copy than to any other unit: the row-wise best match is a permutation)."""
    w_in, b_in, w_out = _keys(layer_in, layer_out)
    norms = unit_vectors(params, layer_in, layer_out).norm(dim=1)
    out = dict(params)
    out[w_in] = params[w_in] / norms[:, None]
    if b_in in params:
        out[b_in] = params[b_in] / norms
    out[w_out] = params[w_out] / norms[None, :]
    return out


def _as(params: dict, dtype: torch.dtype) -> dict:
    return {k: v.to(dtype) for k, v in params.items()}


def _planted(
    offset: int,
    widths: tuple[int, ...],
    layer_in: str,
    layer_out: str,
    *,
    dtype: torch.dtype = torch.float32,
    drop: tuple[str, ...] = (),
    shuffle: bool = True,
) -> tuple:
    """(params_a, params_b, layer_in, layer_out): params_b's three tensors of that hidden
    layer are params_a's with the units shuffled by a random cycle, its other keys are other
    random values (so params_a itself is not the answer); or, unshuffled, params_b is a copy
    of params_a. The keys in `drop` (biases) are left out."""
    gen = _gen(offset)
    chain = {k: v for k, v in _chain(gen, widths).items() if k not in drop}
    params_a = _equal_lengths(chain, layer_in, layer_out)
    hidden = params_a[f"{layer_in}.weight"].shape[0]
    if shuffle:
        params_b = permuted_units(params_a, layer_in, layer_out, _cycle(gen, hidden))
        others = _chain(gen, widths)
        for key in params_b:
            if key not in _keys(layer_in, layer_out):
                params_b[key] = others[key]
    else:
        params_b = {k: v.clone() for k, v in params_a.items()}
    return _as(params_a, dtype), _as(params_b, dtype), layer_in, layer_out


def _planted_cases() -> list[Case]:
    return [
        Case(
            "params_b's units are params_a's shuffled: layers '0' and '2' (5 hidden units)",
            _planted(170, (2, 5, 4, 3), "0", "2"),
            hint=_PLANTED_HINT,
        ),
        Case(
            "params_b's units are params_a's shuffled: layers '2' and '4' (the second hidden layer)",
            _planted(171, (2, 5, 4, 3), "2", "4"),
            hint=_PLANTED_HINT,
        ),
        Case(
            "params_b equal to params_a comes back unchanged",
            _planted(172, (3, 4, 2), "0", "2", shuffle=False),
            hint="every unit is most similar to itself: the identity is the best permutation",
        ),
        Case(
            "float64 params (the result stays float64), params_b's units are params_a's shuffled",
            _planted(173, (2, 6, 3), "0", "2", dtype=torch.float64),
            hint=_PLANTED_HINT,
        ),
    ]


def _one_part_decides(offset: int, widths: tuple[int, int, int], decides: str) -> tuple:
    """Layers "0" and "2" of a chain whose hidden units are alike but for one part of u.

    params_b's units are params_a's shuffled by one cycle, except the deciding part (the bias,
    or the outgoing weights), which is shuffled by another cycle: the deciding part must win.
    The other parts are a shared vector plus noise of `NEAR_COPY_NOISE` (whose sum over any
    permutation changes by at most 0.1); the deciding part's values are far apart (biases
    spaced by 1 and all positive, sorted from largest to smallest in params_a; outgoing
    weights twice orthonormal columns), so its optimum wins by at least 1.
    """
    gen = _gen(offset)
    n_in, hidden, n_out = widths

    def near_copies(rows: int, cols: int) -> torch.Tensor:
        shared = _uniform(gen, 1, cols)
        return shared + _uniform(gen, rows, cols, scale=NEAR_COPY_NOISE)

    w_in = near_copies(hidden, n_in)
    if decides == "bias":
        start = 0.5 + float(torch.rand((), generator=gen, dtype=torch.float64))
        b_in = start + torch.arange(hidden - 1, -1, -1, dtype=torch.float64)
        w_out = near_copies(hidden, n_out).T
    else:
        b_in = near_copies(hidden, 1)[:, 0]
        q, _ = torch.linalg.qr(torch.randn(n_out, n_out, generator=gen, dtype=torch.float64))
        w_out = 2.0 * q[:, :hidden]
    params_a = {"0.weight": w_in, "0.bias": b_in, "2.weight": w_out, "2.bias": _uniform(gen, n_out)}
    rest, deciding = _two_cycles(gen, hidden)
    params_b = permuted_units(params_a, "0", "2", rest)
    params_b["2.bias"] = _uniform(gen, n_out)
    order = torch.tensor(deciding)
    if decides == "bias":
        params_b["0.bias"] = params_a["0.bias"][order]
    else:
        params_b["2.weight"] = params_a["2.weight"][:, order]
    return _as(params_a, torch.float32), _as(params_b, torch.float32), "0", "2"


def _similarity_cases() -> list[Case]:
    return [
        Case(
            "units alike but for their biases: the biases decide",
            _one_part_decides(174, (3, 4, 2), "bias"),
            hint="each unit's bias is part of its vector u: S[i, j] includes b_a[i]·b_b[j]",
        ),
        Case(
            "units alike but for their outgoing weights: the outgoing weights decide",
            _one_part_decides(175, (2, 4, 5), "outgoing"),
            hint="each unit's outgoing weights (column i of layer_out's weight) are part of u: "
            "S includes W_out_a^T·W_out_b",
        ),
        Case(
            "layer_in has no bias (no '0.bias' key); params_b's units are params_a's shuffled",
            _planted(176, (2, 5, 3), "0", "2", drop=("0.bias",)),
            hint="the bias of layer_in is optional: use and permute it only if the key exists",
        ),
        Case(
            "no biases at all, layers '2' and '4'; params_b's units are params_a's shuffled",
            _planted(177, (2, 4, 5, 3), "2", "4", drop=("0.bias", "2.bias", "4.bias")),
        ),
    ]


def _best_by_brute_force(similarity: torch.Tensor) -> list[int]:
    hidden = similarity.shape[0]
    return list(
        max(
            itertools.permutations(range(hidden)),
            key=lambda perm: sum(float(similarity[i, j]) for i, j in enumerate(perm)),
        )
    )


def _greedy_trap(
    offset: int, trap: tuple, widths: tuple[int, ...], layer_in: str, layer_out: str
) -> tuple:
    """Params whose similarity matrix is `trap` (scaled), hidden in a random rotation.

    params_a's incoming weights are the rows q_i of a random orthogonal matrix, params_b's
    unit j has the incoming weights sum_k S[k, j]·q_k, so <q_i, that> = S[i, j]. params_a's
    bias is one tiny value and its outgoing weights one tiny column for every unit: they
    shift each column of S by at most 0.04, which changes no total. params_b's units are then
    shuffled so that the answer is a random cycle; params_a's order stays that of `trap`.
    """
    gen = _gen(offset)
    w_in, b_in, w_out = _keys(layer_in, layer_out)
    similarity = torch.tensor(trap, dtype=torch.float64) * _TRAP_SCALE
    hidden = similarity.shape[0]
    params_a, params_b = _chain(gen, widths), _chain(gen, widths)
    q, _ = torch.linalg.qr(torch.randn(hidden, hidden, generator=gen, dtype=torch.float64))
    params_a[w_in] = q
    params_a[b_in] = torch.full((hidden,), 0.01 * float(_uniform(gen, 1)), dtype=torch.float64)
    params_a[w_out] = _uniform(gen, params_a[w_out].shape[0], 1, scale=0.01).repeat(1, hidden)
    params_b[w_in] = similarity.T @ q
    best = _best_by_brute_force(similarity)
    answer = _cycle(gen, hidden)
    order = [0] * hidden
    for i in range(hidden):  # unit answer[i] of the shuffled params_b is unit best[i]
        order[answer[i]] = best[i]
    params_b = permuted_units(params_b, layer_in, layer_out, order)
    return _as(params_a, torch.float32), _as(params_b, torch.float32), layer_in, layer_out


def _fixed_random(offset: int, widths: tuple[int, ...], layer_in: str, layer_out: str) -> tuple:
    gen = _fixed_gen(offset)
    params_a, params_b = _chain(gen, widths), _chain(gen, widths)
    return _as(params_a, torch.float32), _as(params_b, torch.float32), layer_in, layer_out


def _exact_cases() -> list[Case]:
    greedy_hint = (
        "matching greedily (the most similar pair first, or unit by unit) is not optimal: "
        "solve the assignment problem exactly, e.g. scipy.optimize.linear_sum_assignment(S, "
        "maximize=True)"
    )
    return [
        Case(
            "4 hidden units on which greedy matching fails, layers '0' and '2'",
            _greedy_trap(178, GREEDY_TRAPS[0], (4, 4, 3), "0", "2"),
            hint=greedy_hint,
        ),
        Case(
            "4 hidden units on which greedy matching fails, layers '2' and '4'",
            _greedy_trap(179, GREEDY_TRAPS[1], (2, 4, 4, 3), "2", "4"),
            hint=greedy_hint,
        ),
        Case("random params, 6 hidden units", _fixed_random(180, (3, 6, 4), "0", "2")),
        Case(
            "random params, 6 hidden units in the second hidden layer",
            _fixed_random(181, (2, 5, 6, 3), "2", "4"),
        ),
    ]


def _function_cases() -> list[Case]:
    square = "layer_out's weight is square here: permute its columns (one per hidden unit)"
    return [
        Case(
            "params_b's units are params_a's shuffled, layers '0' and '2' (a 4 × 4 '2.weight')",
            _planted(182, (2, 4, 4, 3), "0", "2"),
            hint=square,
        ),
        Case(
            "params_b's units are params_a's shuffled, layers '0' and '2' (a 5 × 5 output layer)",
            _planted(183, (3, 5, 5), "0", "2"),
            hint=square,
        ),
        Case(
            "params_b's units are params_a's shuffled, layers '2' and '4' (a 4 × 4 '4.weight')",
            _planted(184, (2, 4, 4, 4), "2", "4"),
            hint=square,
        ),
    ]


def _error_cases() -> list[Case]:
    gen = _gen(185)
    params_a, params_b = (_as(_chain(gen, (2, 4, 3, 2)), torch.float32) for _ in range(2))
    wider = _as(_chain(gen, (2, 5, 3, 2)), torch.float32)
    return [
        Case(
            "params_b lacks a key ('2.bias')",
            (params_a, {k: v for k, v in params_b.items() if k != "2.bias"}, "0", "2"),
        ),
        Case("params_b has 5 hidden units in layer '0', params_a 4", (params_a, wider, "0", "2")),
        Case("layer_in '1' has no weight (it is the ReLU)", (params_a, params_b, "1", "2")),
        Case("layer_out '6' has no weight", (params_a, params_b, "4", "6")),
        Case(
            "layers '0' and '4' do not chain: 4 rows against 3 columns",
            (params_a, params_b, "0", "4"),
        ),
    ]


def _no_mutation_cases() -> list[Case]:
    return [
        Case("layers '0' and '2'", _planted(186, (2, 5, 4, 3), "0", "2")),
        Case("layers '2' and '4'", _planted(187, (2, 5, 4, 3), "2", "4")),
    ]


# ---------------------------------------------------------------------------------------------
# Stage 3: the verdicts


def _close(got: torch.Tensor, expected: torch.Tensor) -> bool:
    if tuple(got.shape) != tuple(expected.shape):
        return False
    return bool(
        torch.allclose(
            got.detach().to(torch.float64),
            expected.detach().to(torch.float64),
            rtol=UNIT_RTOL,
            atol=UNIT_ATOL,
        )
    )


def _form(got: Any, params_b: Mapping[str, torch.Tensor], what: str) -> str | None:
    """A dict with params_b's keys; per key a tensor of params_b's shape and dtype."""
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of tensors, got {fmt_value(got)}"
    if set(got) != set(params_b):
        missing = [k for k in params_b if k not in got]
        extra = [k for k in got if k not in params_b]
        return f"{what} has the wrong keys: missing {missing!r}, unexpected {extra!r}"
    for key, expected in params_b.items():
        value = got[key]
        if type(value) is not torch.Tensor:
            return f"{what}[{key!r}] should be a torch.Tensor, got {fmt_value(value)}"
        if tuple(value.shape) != tuple(expected.shape):
            return (
                f"{what}[{key!r}] has shape {tuple(value.shape)}, expected "
                f"{tuple(expected.shape)} (params_b's)"
            )
        if value.dtype != expected.dtype:
            return (
                f"{what}[{key!r}] has dtype {value.dtype}, expected {expected.dtype}: the "
                "result keeps params_b's dtypes"
            )
    return None


def _others_unchanged(got: Mapping, params_b: Mapping, layer_in: str, layer_out: str, what: str):
    for key in params_b:
        if key in _keys(layer_in, layer_out):
            continue
        msg = compare_tensor(got[key], params_b[key], what=f"{what}[{key!r}]")
        if msg:
            why = (
                "layer_out's bias belongs to its output units, which are not permuted"
                if key == f"{layer_out}.bias"
                else "only layer_in's weight and bias and layer_out's weight change"
            )
            return f"{msg}: it must be params_b[{key!r}] unchanged ({why})"
    return None


def inverse_permutation(perm: list[int]) -> list[int]:
    inverse = [0] * len(perm)
    for i, j in enumerate(perm):
        inverse[j] = i
    return inverse


def _unit_order(
    got: Mapping, params_b: Mapping, layer_in: str, layer_out: str, what: str
) -> tuple[list[int] | None, str | None]:
    """perm with the result's unit i equal to params_b's unit perm[i], or a message saying
    how the result's three tensors fail to be params_b's units in one order."""
    w_in, b_in, w_out = _keys(layer_in, layer_out)
    rows_got, rows_b = got[w_in].detach(), params_b[w_in].detach()
    hidden = rows_b.shape[0]
    perm: list[int] = []
    for i in range(hidden):
        found = [j for j in range(hidden) if _close(rows_got[i], rows_b[j])]
        if not found:
            return None, (
                f"row {i} of {what}[{w_in!r}] is not a row of params_b[{w_in!r}]: the "
                "result's hidden units are params_b's units, only reordered (no arithmetic "
                "on them, and nothing of params_a's)"
            )
        perm.append(found[0])
    for i, j in enumerate(perm):
        if perm.index(j) != i:
            return None, (
                f"rows {perm.index(j)} and {i} of {what}[{w_in!r}] are both row {j} of "
                f"params_b[{w_in!r}]: your result uses unit {j} of params_b twice and leaves "
                "another out. Each unit of params_b appears exactly once (a permutation): the "
                "most similar unit of params_b for each unit of params_a, taken separately, "
                "can be the same one"
            )
    identity = list(range(hidden))
    cols_got, cols_b = got[w_out].detach(), params_b[w_out].detach()
    if not _close(cols_got, cols_b[:, perm]):
        if perm != identity and _close(cols_got, cols_b):
            why = (
                f"the rows of {w_in!r} are permuted but the columns of {w_out!r} are not: "
                "unit i's outgoing weights (column i) must move with it, or the network "
                "computes a different function"
            )
        elif cols_b.shape[0] == hidden and _close(cols_got, cols_b[perm]):
            why = (
                f"you permuted the rows of {w_out!r}, not its columns: its column i holds the "
                "outgoing weights of hidden unit i (W[:, perm], not W[perm])"
            )
        elif _close(cols_got, cols_b[:, inverse_permutation(perm)]):
            why = (
                f"the columns of {w_out!r} are permuted by the inverse of the rows' "
                "permutation: use one index tensor perm for both, W_in[perm] and W_out[:, perm]"
            )
        else:
            why = (
                f"column i of {w_out!r} must be column perm[i] of params_b's, where row i of "
                f"{w_in!r} is row perm[i] of params_b's (here perm = {perm})"
            )
        return None, f"{what} is not params_b with its hidden units permuted: {why}"
    if b_in in params_b and not _close(got[b_in].detach(), params_b[b_in].detach()[perm]):
        if perm != identity and _close(got[b_in].detach(), params_b[b_in].detach()):
            why = f"{b_in!r} is not permuted: entry i is unit i's bias and moves with its row"
        else:
            why = f"entry i of {b_in!r} must be entry perm[i] of params_b's (perm = {perm})"
        return None, f"{what} is not params_b with its hidden units permuted: {why}"
    return perm, None


def _assignment(similarity: torch.Tensor, *, maximize: bool = True) -> list[int]:
    _, cols = linear_sum_assignment(similarity.numpy(), maximize=maximize)
    return [int(j) for j in cols]


def greedy_matching(similarity: torch.Tensor) -> list[int]:
    """The largest remaining pair first."""
    hidden = similarity.shape[0]
    pairs = sorted(
        ((float(similarity[i, j]), i, j) for i in range(hidden) for j in range(hidden)),
        reverse=True,
    )
    perm, used_rows, used_cols = [0] * hidden, set(), set()
    for _, i, j in pairs:
        if i not in used_rows and j not in used_cols:
            perm[i] = j
            used_rows.add(i)
            used_cols.add(j)
    return perm


def row_by_row_matching(similarity: torch.Tensor) -> list[int]:
    """Unit by unit of params_a, in order, the most similar unit of params_b left."""
    perm, used = [], set()
    for row in similarity.tolist():
        j = max((j for j in range(len(row)) if j not in used), key=lambda j: row[j])
        perm.append(j)
        used.add(j)
    return perm


def _similarity(params_a: Mapping, params_b: Mapping, layer_in: str, layer_out: str, parts: str):
    ua = unit_vectors(params_a, layer_in, layer_out, parts=parts)
    ub = unit_vectors(params_b, layer_in, layer_out, parts=parts)
    return ua @ ub.T


def _diagnose_order(perm: list[int], args: tuple) -> str:
    """Why the result's order of units is not the best one, when a typical mistake explains it."""
    params_a, params_b, layer_in, layer_out = args
    full = _similarity(params_a, params_b, layer_in, layer_out, "ibo")
    best = _assignment(full)
    if perm == list(range(len(perm))):
        return (
            "Your result keeps params_b's units in their own order: they are not aligned to "
            "params_a's."
        )
    if perm == _assignment(full, maximize=False):
        return (
            "Your permutation has the SMALLEST total similarity: linear_sum_assignment "
            "minimises its cost unless you pass maximize=True (or the cost −S)."
        )
    if perm == inverse_permutation(best):
        return (
            "Your result is params_b permuted by the inverse of the best permutation: with "
            "(rows, cols) = linear_sum_assignment(S, maximize=True), S[i, j] comparing params_a's "
            "unit i with params_b's unit j, unit i of the result is params_b's unit cols[i] "
            "(W_b[cols]), not the unit that cols sends i to."
        )
    if perm in (greedy_matching(full), row_by_row_matching(full)):
        return (
            "Your matching is greedy: it takes the most similar pairs first, which can force "
            "worse pairs later. The best permutation needs an exact assignment "
            "(scipy.optimize.linear_sum_assignment, or the Hungarian method)."
        )
    if f"{layer_in}.bias" in params_b and perm == _assignment(
        _similarity(params_a, params_b, layer_in, layer_out, "io")
    ):
        return (
            "Your similarity leaves out the bias of layer_in: it is part of each unit's "
            "vector u (S[i, j] includes b_a[i]·b_b[j])."
        )
    if perm == _assignment(_similarity(params_a, params_b, layer_in, layer_out, "ib")):
        return (
            "Your similarity leaves out the outgoing weights (the columns of layer_out's "
            "weight): they are part of each unit's vector u (S includes W_out_a^T·W_out_b)."
        )
    if perm == _assignment(_similarity(params_a, params_b, layer_in, layer_out, "bo")):
        return (
            "Your similarity leaves out the incoming weights (the rows of layer_in's weight): "
            "they are part of each unit's vector u (S includes W_in_a·W_in_b^T)."
        )
    return ""


def _judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params_a, params_b, layer_in, layer_out = args
    what = f"the result of `{_NAME}`"
    got = outcome.value
    msg = _form(got, params_b, what)
    if msg:
        return msg
    if any(not _close(params_a[k], params_b[k]) for k in params_b) and all(
        _close(got[k], params_a[k]) for k in params_b
    ):
        return (
            f"{what} is params_a: the result is params_b (its units reordered to match "
            "params_a's), the same network as params_b written in another order"
        )
    msg = _others_unchanged(got, params_b, layer_in, layer_out, what)
    if msg:
        return msg
    perm, msg = _unit_order(got, params_b, layer_in, layer_out, what)
    if msg:
        return msg
    ua = unit_vectors(params_a, layer_in, layer_out)
    terms = (ua * unit_vectors(got, layer_in, layer_out)).sum(dim=1)
    mine = float(terms.sum())
    expected = ref.align_hidden_units(params_a, params_b, layer_in, layer_out)
    best = float((ua * unit_vectors(expected, layer_in, layer_out)).sum())
    tolerance = OBJECTIVE_RTOL * max(float(terms.abs().sum()), abs(best), 1e-12)
    if mine >= best - tolerance:
        return None
    why = _diagnose_order(perm, args)
    return (
        f"{what} holds params_b's hidden units in the order {perm} (unit i of the result is "
        f"params_b's unit {perm}[i]), whose total similarity to params_a's units, "
        f"sum_i <u_a[i], u_result[i]>, is {mine:.6g}; the best permutation reaches "
        f"{best:.6g}." + (f"\n{why}" if why else "")
    )


_verdict = returned_then(_NAME, _judge, _HINT)

#: The seed of the inputs on which the `function` part compares the networks.
_FUNCTION_INPUTS_SEED = 188


def _function_judge(case: Case, outcome: Outcome, args: tuple, kwargs: dict) -> str | None:
    params_b = args[1]
    what = f"the result of `{_NAME}`"
    msg = _form(outcome.value, params_b, what)
    if msg:
        return msg
    first = min((k for k in params_b if k.endswith(".weight")), key=lambda k: int(k.split(".")[0]))
    X = torch.randn(16, params_b[first].shape[1], generator=_fixed_gen(_FUNCTION_INPUTS_SEED))
    before = network_output(params_b, 2.0 * X)
    after = network_output(outcome.value, 2.0 * X)
    diff = (after - before).abs()
    if not bool((diff <= FUNCTION_ATOL + FUNCTION_RTOL * before.abs()).all()):
        _, params_b, layer_in, layer_out = args
        detail = _others_unchanged(outcome.value, params_b, layer_in, layer_out, what)
        detail = detail or _unit_order(outcome.value, params_b, layer_in, layer_out, what)[1]
        return (
            f"the network computes a different function with your params: its outputs on 16 "
            f"inputs changed by up to {float(diff.max()):.4g}. Reordering hidden units keeps "
            "the function only when each unit's incoming weights (a row of layer_in's weight), "
            "its bias and its outgoing weights (a column of layer_out's weight) move together"
            + (f".\n{detail}" if detail else "")
        )
    return _judge(case, outcome, args, kwargs)


make_checks(
    _NAME,
    [
        Part(
            "planted",
            "a shuffled copy of params_a is put back in params_a's order",
            _planted_cases,
            _verdict,
        ),
        Part(
            "similarity",
            "units compared by incoming weights, bias (if any) and outgoing weights",
            _similarity_cases,
            _verdict,
        ),
        Part(
            "exact",
            "the best permutation, where greedy matching is not",
            _exact_cases,
            _verdict,
        ),
        Part(
            "function",
            "the network computes the same function as with params_b",
            _function_cases,
            returned_then(_NAME, _function_judge, _HINT),
        ),
        Part(
            "errors",
            "ValueError for keys or shapes that differ, a missing weight, layers that do not chain",
            _error_cases,
            raises_value_error(
                _NAME,
                hint="check that params_a and params_b have the same keys and shapes, that both "
                "layers' weights exist, and that layer_in's rows match layer_out's columns",
            ),
        ),
        Part(
            "no_mutation",
            "params_a and params_b are left unchanged",
            _no_mutation_cases,
            leaves_inputs_unchanged(
                _NAME, ("params_a", "params_b", "layer_in", "layer_out"), results=_verdict
            ),
        ),
    ],
)
