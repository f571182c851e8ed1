"""The hidden checks of notebook 01, section 7 (permutation symmetry) grade well:
`align_hidden_units`.

Typical wrong implementations fail with a message that names the problem, and each loses
exactly the parts listed for it (`WRONG_PARTS`): a mistake in the mechanics (the direction of
the optimisation, the inverse permutation, the columns or the bias left behind) loses every
part that judges a result; a similarity that leaves out a part of u, or a matching that is not
exact, loses only the parts whose cases that decides. Correct implementations written
differently from the reference (brute force, a hand-written Hungarian method, dynamic
programming over subsets, a negated or rescaled float32 cost, squared distances, a
permutation matrix) pass every part. (That the reference passes and the stub fails every part
is tested for all functions in tests/course/checks/test_registry.py; the same implementations
run under other students' case seeds in test_case_seeds.py and through the sandbox wire in
test_through_the_wire.py.)
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

import numpy as np
import pytest
import torch
from landscapes_checks.mode_connectivity import align_hidden_units as checks
from scipy.optimize import linear_sum_assignment

from tests.course.checks.support import assert_fails, assert_passes_all, part_results

NAME = "align_hidden_units"
RESULT_PARTS = {"planted", "similarity", "exact", "function", "no_mutation"}


class LayerError(ValueError):
    """A student's own ValueError subclass."""


def _validate(params_a, params_b, layer_in, layer_out):
    if set(params_a) != set(params_b):
        raise LayerError("params_a and params_b have different keys")
    for key in params_a:
        if params_a[key].shape != params_b[key].shape:
            raise LayerError(f"params_a[{key!r}] and params_b[{key!r}] differ in shape")
    for key in (f"{layer_in}.weight", f"{layer_out}.weight"):
        if key not in params_b:
            raise LayerError(f"no {key!r}")
    if params_b[f"{layer_out}.weight"].shape[1] != params_b[f"{layer_in}.weight"].shape[0]:
        raise LayerError("layer_in and layer_out do not chain")


def _similarity(params_a, params_b, layer_in, layer_out, *, bias=True, outgoing=True):
    w_in, b_in, w_out = f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"
    sim = params_a[w_in].double() @ params_b[w_in].double().T
    if bias and b_in in params_a:
        sim = sim + torch.outer(params_a[b_in].double(), params_b[b_in].double())
    if outgoing:
        sim = sim + params_a[w_out].double().T @ params_b[w_out].double()
    return sim


def _apply(params_b, layer_in, layer_out, perm, *, bias=True, columns=True, out_rows=False):
    """params_b with hidden unit i taken from unit perm[i] (or with one of the mistakes)."""
    index = torch.as_tensor(list(perm), dtype=torch.long)
    out = {}
    for key, value in params_b.items():
        value = value.detach()
        if key == f"{layer_in}.weight" or (key == f"{layer_in}.bias" and bias):
            out[key] = value[index]
        elif key == f"{layer_out}.weight" and columns:
            out[key] = value[index] if out_rows else value[:, index]
        else:
            out[key] = value.clone()
    return out


def _best(sim):
    return linear_sum_assignment(sim.numpy(), maximize=True)[1].tolist()


# ---------------------------------------------------------------------------------------------
# wrong


def al_greedy(params_a, params_b, layer_in, layer_out):
    """The most similar pair first, then the most similar pair of what is left."""
    _validate(params_a, params_b, layer_in, layer_out)
    sim = _similarity(params_a, params_b, layer_in, layer_out)
    h = sim.shape[0]
    perm, rows, cols = [0] * h, set(), set()
    for flat in torch.argsort(sim.flatten(), descending=True).tolist():
        i, j = divmod(flat, h)
        if i not in rows and j not in cols:
            perm[i] = j
            rows.add(i)
            cols.add(j)
    return _apply(params_b, layer_in, layer_out, perm)


def al_row_by_row(params_a, params_b, layer_in, layer_out):
    """Unit by unit of params_a, the most similar unit of params_b not taken yet."""
    _validate(params_a, params_b, layer_in, layer_out)
    sim = _similarity(params_a, params_b, layer_in, layer_out)
    perm = []
    for row in sim:
        row = row.clone()
        row[perm] = -float("inf")
        perm.append(int(row.argmax()))
    return _apply(params_b, layer_in, layer_out, perm)


def al_row_argmax(params_a, params_b, layer_in, layer_out):
    """The most similar unit of params_b for each unit of params_a: not a permutation."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _similarity(params_a, params_b, layer_in, layer_out).argmax(dim=1).tolist()
    return _apply(params_b, layer_in, layer_out, perm)


def al_minimises(params_a, params_b, layer_in, layer_out):
    """linear_sum_assignment without maximize=True: the least similar permutation."""
    _validate(params_a, params_b, layer_in, layer_out)
    sim = _similarity(params_a, params_b, layer_in, layer_out)
    return _apply(params_b, layer_in, layer_out, linear_sum_assignment(sim.numpy())[1])


def al_inverse(params_a, params_b, layer_in, layer_out):
    """Puts params_b's unit j at the place of params_a's unit it matches: the inverse."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    return _apply(params_b, layer_in, layer_out, np.argsort(perm))


def al_unchanged(params_a, params_b, layer_in, layer_out):
    """Returns a copy of params_b: not aligned at all."""
    _validate(params_a, params_b, layer_in, layer_out)
    return {k: v.clone() for k, v in params_b.items()}


def al_returns_params_a(params_a, params_b, layer_in, layer_out):
    """Returns a copy of params_a, the network it was asked to match."""
    _validate(params_a, params_b, layer_in, layer_out)
    return {k: v.clone() for k, v in params_a.items()}


def al_only_layer_in(params_a, params_b, layer_in, layer_out):
    """Permutes layer_in's rows and bias, forgets layer_out's columns."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    return _apply(params_b, layer_in, layer_out, perm, columns=False)


def al_rows_of_layer_out(params_a, params_b, layer_in, layer_out):
    """Permutes the rows of layer_out's weight instead of its columns."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    return _apply(params_b, layer_in, layer_out, perm, out_rows=True)


def al_ignores_bias(params_a, params_b, layer_in, layer_out):
    """Compares the units by their weights only (permutes the bias along, though)."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out, bias=False))
    return _apply(params_b, layer_in, layer_out, perm)


def al_ignores_outgoing(params_a, params_b, layer_in, layer_out):
    """Compares the units by their incoming weights and bias only."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out, outgoing=False))
    return _apply(params_b, layer_in, layer_out, perm)


def al_bias_not_permuted(params_a, params_b, layer_in, layer_out):
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    return _apply(params_b, layer_in, layer_out, perm, bias=False)


def al_in_place(params_a, params_b, layer_in, layer_out):
    """Right values, but written into params_b's own tensors."""
    _validate(params_a, params_b, layer_in, layer_out)
    aligned = _apply(
        params_b, layer_in, layer_out, _best(_similarity(params_a, params_b, layer_in, layer_out))
    )
    for key, value in aligned.items():
        params_b[key].copy_(value)
    return params_b


def al_bias_required(params_a, params_b, layer_in, layer_out):
    """Reads layer_in's bias unconditionally: a KeyError for a layer without bias."""
    _validate(params_a, params_b, layer_in, layer_out)
    b_a, b_b = params_a[f"{layer_in}.bias"], params_b[f"{layer_in}.bias"]
    sim = _similarity(params_a, params_b, layer_in, layer_out, bias=False)
    sim = sim + torch.outer(b_a.double(), b_b.double())
    return _apply(params_b, layer_in, layer_out, _best(sim))


def al_no_validation(params_a, params_b, layer_in, layer_out):
    """Never compares the keys or shapes, and skips layers it cannot find."""
    try:
        sim = _similarity(params_a, params_b, layer_in, layer_out)
        perm = _best(sim)
    except (KeyError, RuntimeError, IndexError):
        return {k: v.clone() for k, v in params_b.items()}
    return _apply(params_b, layer_in, layer_out, perm)


def al_permutes_out_bias(params_a, params_b, layer_in, layer_out):
    """Also permutes layer_out's bias when it happens to have one entry per hidden unit."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    out = _apply(params_b, layer_in, layer_out, perm)
    key = f"{layer_out}.bias"
    if key in out and out[key].shape[0] == len(perm):
        out[key] = out[key][torch.as_tensor(perm)]
    return out


def al_float64_result(params_a, params_b, layer_in, layer_out):
    """Computes in float64 and forgets to cast back to params_b's dtypes."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    return {k: v.double() for k, v in _apply(params_b, layer_in, layer_out, perm).items()}


# ---------------------------------------------------------------------------------------------
# correct, written differently


def al_brute_force(params_a, params_b, layer_in, layer_out):
    """Every one of the h! permutations, in float64 (the cases have at most 6 hidden units)."""
    _validate(params_a, params_b, layer_in, layer_out)
    sim = _similarity(params_a, params_b, layer_in, layer_out)
    h = sim.shape[0]
    perms = torch.tensor(list(itertools.permutations(range(h))))
    totals = sim[torch.arange(h), perms].sum(dim=1)
    return _apply(params_b, layer_in, layer_out, perms[int(totals.argmax())].tolist())


def _hungarian_min(cost):
    """The Hungarian method with potentials (Kuhn-Munkres), O(n³): column of each row."""
    n = len(cost)
    u, v, match, way = [0.0] * (n + 1), [0.0] * (n + 1), [0] * (n + 1), [0] * (n + 1)
    for i in range(1, n + 1):
        match[0], j0 = i, 0
        minv, used = [float("inf")] * (n + 1), [False] * (n + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = match[j0], float("inf"), 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    cols = [0] * n
    for j in range(1, n + 1):
        cols[match[j] - 1] = j - 1
    return cols


def al_hungarian(params_a, params_b, layer_in, layer_out):
    """A hand-written Hungarian method on the negated similarity, computed in float32."""
    _validate(params_a, params_b, layer_in, layer_out)
    w_in, b_in, w_out = f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"
    sim = params_a[w_in].float() @ params_b[w_in].float().T
    sim += params_a[w_out].float().T @ params_b[w_out].float()
    if b_in in params_b:
        sim += params_a[b_in].float()[:, None] * params_b[b_in].float()[None, :]
    perm = _hungarian_min((-sim).tolist())
    return _apply(params_b, layer_in, layer_out, perm)


def al_negated_cost(params_a, params_b, layer_in, layer_out):
    """Minimises −S / h in numpy float32 (a rescaled cost has the same best permutation)."""
    _validate(params_a, params_b, layer_in, layer_out)
    sim = _similarity(params_a, params_b, layer_in, layer_out).numpy().astype(np.float32)
    rows, cols = linear_sum_assignment(-sim / sim.shape[0])
    order = np.empty_like(cols)
    order[rows] = cols
    return _apply(params_b, layer_in, layer_out, order.tolist())


def al_subset_dp(params_a, params_b, layer_in, layer_out):
    """Dynamic programming over the subsets of params_b's units (Held-Karp style), O(2^h·h)."""
    _validate(params_a, params_b, layer_in, layer_out)
    sim = _similarity(params_a, params_b, layer_in, layer_out).tolist()
    h = len(sim)
    best = {0: (0.0, [])}
    for mask in range(1 << h):
        if mask not in best:
            continue
        total, chosen = best[mask]
        i = len(chosen)
        if i == h:
            continue
        for j in range(h):
            if not mask & (1 << j):
                key = mask | (1 << j)
                candidate = (total + sim[i][j], [*chosen, j])
                if key not in best or candidate[0] > best[key][0]:
                    best[key] = candidate
    return _apply(params_b, layer_in, layer_out, best[(1 << h) - 1][1])


def al_squared_distances(params_a, params_b, layer_in, layer_out):
    """Minimises the summed squared distances between matched unit vectors (torch.cdist):
    sum ||u_a - u_b||² = const − 2·sum <u_a, u_b>, so the same permutation."""
    _validate(params_a, params_b, layer_in, layer_out)
    w_in, b_in, w_out = f"{layer_in}.weight", f"{layer_in}.bias", f"{layer_out}.weight"

    def units(params):
        parts = [params[w_in].double(), params[w_out].double().T]
        if b_in in params:
            parts.append(params[b_in].double()[:, None])
        return torch.cat(parts, dim=1)

    distances = torch.cdist(units(params_a), units(params_b)) ** 2
    return _apply(params_b, layer_in, layer_out, linear_sum_assignment(distances.numpy())[1])


def al_permutation_matrix(params_a, params_b, layer_in, layer_out):
    """A one-hot permutation matrix P: W_in ← P·W_in, b ← P·b, W_out ← W_out·Pᵀ, in an
    OrderedDict, every tensor cast back to its dtype."""
    _validate(params_a, params_b, layer_in, layer_out)
    perm = _best(_similarity(params_a, params_b, layer_in, layer_out))
    P = torch.eye(len(perm), dtype=torch.float64)[perm]
    out = OrderedDict()
    for key, value in params_b.items():
        x = value.detach().double()
        if key in (f"{layer_in}.weight", f"{layer_in}.bias"):  # rows, entries
            x = P @ x
        elif key == f"{layer_out}.weight":
            x = x @ P.T
        out[key] = x.to(value.dtype)
    return out


# ---------------------------------------------------------------------------------------------
# the tables

WRONG = [
    (NAME, al_greedy, r"Your matching is greedy", ["exact"]),
    (NAME, al_row_by_row, r"Your matching is greedy", ["exact"]),
    (NAME, al_row_argmax, r"uses unit \d of params_b twice", ["similarity", "exact"]),
    (NAME, al_minimises, r"SMALLEST total similarity.*maximize=True", ["planted"]),
    (NAME, al_inverse, r"inverse of the best permutation", ["planted"]),
    (NAME, al_unchanged, r"keeps params_b's units in their own order", ["planted"]),
    (NAME, al_returns_params_a, r"is params_a: the result is params_b", ["planted"]),
    (
        NAME,
        al_only_layer_in,
        r"rows of '0\.weight' are permuted but the columns of '2\.weight' are not",
        ["planted"],
    ),
    (NAME, al_only_layer_in, r"different function", ["function"]),
    (NAME, al_rows_of_layer_out, r"rows of '2\.weight', not its columns", ["function"]),
    (NAME, al_ignores_bias, r"leaves out the bias of layer_in", ["similarity"]),
    (NAME, al_ignores_outgoing, r"leaves out the outgoing weights", ["similarity"]),
    (NAME, al_bias_not_permuted, r"'0\.bias' is not permuted", ["planted"]),
    (NAME, al_in_place, r"params_b\['0\.weight'\] was modified in place", ["no_mutation"]),
    (NAME, al_bias_required, r"no '0\.bias' key.*raised KeyError", ["similarity"]),
    (NAME, al_no_validation, r"lacks a key.*instead of raising ValueError", ["errors"]),
    (NAME, al_permutes_out_bias, r"layer_out's bias belongs to its output units", ["function"]),
    (NAME, al_float64_result, r"dtype torch\.float64, expected torch\.float32", ["planted"]),
]

WRONG_PARTS = {
    al_greedy: {"exact"},
    al_row_by_row: {"exact"},
    al_row_argmax: {"similarity", "exact"},
    al_minimises: RESULT_PARTS,
    al_inverse: RESULT_PARTS,
    al_unchanged: RESULT_PARTS,
    al_returns_params_a: RESULT_PARTS,
    al_only_layer_in: RESULT_PARTS,
    al_rows_of_layer_out: RESULT_PARTS,
    al_ignores_bias: {"similarity", "exact"},  # exact: on its fixed random params too
    al_ignores_outgoing: {"similarity", "exact"},
    al_bias_not_permuted: RESULT_PARTS,
    al_in_place: {"no_mutation"},
    al_bias_required: {"similarity"},
    al_no_validation: {"errors"},
    al_permutes_out_bias: {"function"},
    al_float64_result: RESULT_PARTS,
}
"""The parts each mistake loses (the same under every case seed: test_case_seeds.py)."""

CORRECT = [
    (NAME, al_brute_force),
    (NAME, al_hungarian),
    (NAME, al_negated_cost),
    (NAME, al_subset_dp),
    (NAME, al_squared_distances),
    (NAME, al_permutation_matrix),
]


@pytest.mark.parametrize(
    ("name", "fn", "match", "in_parts"),
    WRONG,
    ids=[f"{w[0]}-{w[1].__name__}-{w[3][0]}" for w in WRONG],
)
def test_wrong_implementation_fails_with_a_message_naming_the_problem(name, fn, match, in_parts):
    """A typical mistake fails the part that targets it, and the feedback says what is wrong."""
    assert_fails(name, fn, match=match, in_parts=in_parts)


@pytest.mark.parametrize("fn", list(WRONG_PARTS), ids=[fn.__name__ for fn in WRONG_PARTS])
def test_wrong_implementation_loses_exactly_its_parts(fn):
    failed = {part for part, message in part_results(NAME, fn).items() if message}
    assert failed == WRONG_PARTS[fn]


@pytest.mark.parametrize(("name", "fn"), CORRECT, ids=[f"{c[0]}-{c[1].__name__}" for c in CORRECT])
def test_correct_alternative_passes_every_part(name, fn):
    """A correct implementation written differently from the reference gets full marks."""
    assert_passes_all(name, fn)


def test_the_tables_cover_every_part():
    assert {fn for _, fn, *_ in WRONG} == set(WRONG_PARTS)
    assert set().union(*WRONG_PARTS.values()) == set(checks_parts())


def checks_parts() -> list[str]:
    from autograder.checks import parts

    return parts(NAME)


# ---------------------------------------------------------------------------------------------
# the cases are what their labels say


def test_the_greedy_traps_defeat_every_greedy_matching():
    """On each trap matrix, the best assignment is unique (by 2 or more before scaling) and
    the greedy matching, unit by unit in either order over rows or columns, and the best
    match per row or per column all miss it."""
    for trap in checks.GREEDY_TRAPS:
        sim = torch.tensor(trap, dtype=torch.float64)
        totals = sorted(
            (sum(trap[i][j] for i, j in enumerate(p)), p)
            for p in itertools.permutations(range(len(trap)))
        )
        (second, _), (best, best_perm) = totals[-2], totals[-1]
        assert best - second >= 2
        best_perm = list(best_perm)
        assert checks.greedy_matching(sim) != best_perm
        for matrix, flip in ((sim, False), (sim.T, True)):
            for order in (list(range(len(trap))), list(range(len(trap)))[::-1]):
                perm = checks.row_by_row_matching(matrix[order])
                found = [0] * len(trap)
                for k, row in enumerate(order):
                    found[row] = perm[k]
                assert (checks.inverse_permutation(found) if flip else found) != best_perm
            assert len(set(matrix.argmax(dim=1).tolist())) < len(trap)


@pytest.mark.parametrize("part", ["planted", "similarity", "exact", "function", "no_mutation"])
def test_every_case_has_one_best_permutation_by_a_margin(part):
    """The grading compares total similarities, so that ties could not cost a point; still,
    every case's best permutation beats the next best clearly (brute force)."""
    from autograder.checks import registry
    from autograder.checks.verdicts import fresh_inputs

    for case in registry.cases(NAME, part):
        (params_a, params_b, layer_in, layer_out), _ = fresh_inputs(case)
        ua = checks.unit_vectors(params_a, layer_in, layer_out)
        ub = checks.unit_vectors(params_b, layer_in, layer_out)
        sim = (ua @ ub.T).tolist()
        totals = sorted(
            sum(sim[i][j] for i, j in enumerate(p)) for p in itertools.permutations(range(len(sim)))
        )
        assert totals[-1] - totals[-2] > 1e-3 * abs(totals[-1]), case.label
