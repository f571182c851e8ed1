"""The hidden checks of notebook 02, section 4 (the largest eigenvalue; what kind of point this
is), grade well: `top_eigenvalue` and `classify_critical_point`.

The implementations come in two rounds (the second added when the checks were hardened);
the tables at the end list which fail, with which message, and which pass.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.checks import parts
from solutions import landscape_geometry as ref
from tests.course.checks.landscape_geometry.helpers import _func_hvp, hvp_backward_on_theta
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# top_eigenvalue


def _power(loss_fn, theta, v, num_iters, matvec=ref.hvp):
    for _ in range(num_iters):
        hv = matvec(loss_fn, theta, v)
        v = hv / hv.norm()
    return v, matvec(loss_fn, theta, v)


def top_norm(loss_fn, theta, *, num_iters=100, generator):
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    _, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(hv.norm())


def top_global(loss_fn, theta, *, num_iters=100, generator):
    g = torch.randn(theta.shape, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(v @ hv)


def top_fixed_iters(loss_fn, theta, *, num_iters=100, generator):
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), 100)
    return float(v @ hv)


def top_own_generator(loss_fn, theta, *, num_iters=100, generator):
    own = torch.Generator().manual_seed(1234)
    g = torch.randn(theta.shape, generator=own, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(v @ hv)


def top_ones_start(loss_fn, theta, *, num_iters=100, generator):
    v = torch.ones_like(theta.detach())
    v, hv = _power(loss_fn, theta, v / v.norm(), num_iters)
    return float(v @ hv)


def top_sets_requires_grad(loss_fn, theta, *, num_iters=100, generator):
    theta.requires_grad_(False)
    return ref.top_eigenvalue(loss_fn, theta, num_iters=num_iters, generator=generator)


def top_alt_func(loss_fn, theta, *, num_iters=100, generator):
    """Correct: a float32 start vector cast to theta's dtype, torch.func products."""
    v = torch.randn(theta.numel(), generator=generator).to(theta.dtype)
    v = v / torch.linalg.norm(v)
    for _ in range(num_iters):
        hv = _func_hvp(loss_fn, theta, v)
        v = hv / torch.linalg.norm(hv)
    return (v @ _func_hvp(loss_fn, theta, v)).item()


def top_alt_rayleigh_each_step(loss_fn, theta, *, num_iters=100, generator):
    """Correct: normal_ start, the Rayleigh quotient tracked at every step (one fewer step)."""
    v = torch.empty(theta.shape, dtype=theta.dtype).normal_(generator=generator)
    v /= v.norm()
    quotient = 0.0
    for _ in range(num_iters):
        hv = ref.hvp(loss_fn, theta, v)
        quotient = float(v @ hv)
        v = hv / hv.norm()
    return quotient


# top_eigenvalue: correct (second round of hardening)


def top_alt_early_stop(loss_fn, theta, *, num_iters=100, generator):
    """Correct: stops once the Rayleigh quotient settles (num_iters is the most steps)."""
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / v.norm()
    previous = None
    for _ in range(num_iters):
        hv = ref.hvp(loss_fn, theta, v)
        quotient = float(v @ hv)
        v = hv / hv.norm()
        if previous is not None and abs(quotient - previous) <= 1e-12 * abs(quotient):
            break
        previous = quotient
    return float(v @ ref.hvp(loss_fn, theta, v))


def top_alt_maxnorm(loss_fn, theta, *, num_iters=100, generator):
    """Correct: torch.normal start, normalised by the largest entry, vᵀHv / vᵀv at the end."""
    v = torch.normal(0.0, 1.0, size=tuple(theta.shape), generator=generator).to(theta.dtype)
    v = v / v.norm()
    for _ in range(num_iters):
        hv = ref.hvp(loss_fn, theta, v)
        v = hv / hv.abs().max()
    hv = ref.hvp(loss_fn, theta, v)
    return float(torch.dot(v, hv) / torch.dot(v, v))


def top_alt_float64(loss_fn, theta, *, num_iters=100, generator):
    """Correct: a float64 start, autograd.functional.hvp products, a float64 quotient."""
    g = torch.randn(theta.numel(), generator=generator, dtype=torch.float64)
    v = (g / torch.linalg.vector_norm(g)).to(theta.dtype)
    x = theta.detach()
    for _ in range(num_iters):
        hv = torch.autograd.functional.hvp(loss_fn, x, v)[1]
        v = hv / torch.linalg.vector_norm(hv)
    hv = torch.autograd.functional.hvp(loss_fn, x, v)[1]
    return (v.double() @ hv.double()).item()


def top_alt_graph_once(loss_fn, theta, *, num_iters=100, generator):
    """Correct: one gradient graph for every product, a 0-d tensor out."""
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)

    def matvec(v):
        return torch.autograd.grad(g, x, grad_outputs=v, retain_graph=True)[0]

    v = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    v /= v.norm()
    for _ in range(num_iters):
        w = matvec(v)
        v = w / w.norm()
    return torch.dot(v, matvec(v)).detach()


# top_eigenvalue: wrong (second round of hardening)


def top_eigvalsh(loss_fn, theta, *, num_iters=100, generator):
    """No power iteration: the dominant eigenvalue of the full Hessian."""
    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, theta.detach()))
    return float(eig[eig.abs().argmax()])


def top_reseeds(loss_fn, theta, *, num_iters=100, generator):
    """Re-seeds the given generator "for reproducibility"."""
    generator.manual_seed(0)
    return ref.top_eigenvalue(loss_fn, theta, num_iters=num_iters, generator=generator)


def top_no_default(loss_fn, theta, num_iters, generator):
    """num_iters has no default."""
    return ref.top_eigenvalue(loss_fn, theta, num_iters=num_iters, generator=generator)


def top_returns_pair(loss_fn, theta, *, num_iters=100, generator):
    """Returns (eigenvalue, eigenvector)."""
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v, hv = _power(loss_fn, theta, g / g.norm(), num_iters)
    return float(v @ hv), v


def top_unnormalised(loss_fn, theta, *, num_iters=100, generator):
    """Never normalises v during the iteration."""
    v = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    v = v / v.norm()
    for _ in range(num_iters):
        v = ref.hvp(loss_fn, theta, v)
    return float(v @ ref.hvp(loss_fn, theta, v))


def top_backward_on_theta(loss_fn, theta, *, num_iters=100, generator):
    """Uses an hvp that leaves its products in theta.grad, so they add up."""
    g = torch.randn(theta.shape, generator=generator, dtype=theta.dtype)
    _, hv = _power(loss_fn, theta, g / g.norm(), num_iters, matvec=hvp_backward_on_theta)
    v = hv / hv.norm()
    return float(v @ hvp_backward_on_theta(loss_fn, theta, v))


# ---------------------------------------------------------------------------------------------
# classify_critical_point


def _classify(values, tol, *, check_empty=True):
    if check_empty and not values:
        raise ValueError("eigenvalues must not be empty")
    pos = any(x > tol for x in values)
    neg = any(x < -tol for x in values)
    if pos and neg:
        return "saddle"
    if all(x > tol for x in values):
        return "minimum"
    if all(x < -tol for x in values):
        return "maximum"
    return "degenerate"


def cls_no_tol(eigenvalues, tol=1e-8):
    return _classify([float(x) for x in eigenvalues], 0.0)


def cls_degenerate_first(eigenvalues, tol=1e-8):
    values = [float(x) for x in eigenvalues]
    if not values:
        raise ValueError("no eigenvalues")
    if any(abs(x) <= tol for x in values):
        return "degenerate"
    return _classify(values, tol)


def cls_empty_minimum(eigenvalues, tol=1e-8):
    return _classify([float(x) for x in eigenvalues], tol, check_empty=False)


def cls_vectorised(eigenvalues, tol=1e-8):
    """Assumes a tensor: fails for lists, tuples and numpy arrays."""
    if eigenvalues.numel() == 0:
        raise ValueError("no eigenvalues")
    pos, neg = bool((eigenvalues > tol).any()), bool((eigenvalues < -tol).any())
    if pos and neg:
        return "saddle"
    if bool((eigenvalues > tol).all()):
        return "minimum"
    if bool((eigenvalues < -tol).all()):
        return "maximum"
    return "degenerate"


def cls_capitalised(eigenvalues, tol=1e-8):
    return ref.classify_critical_point(eigenvalues, tol).capitalize()


def cls_alt_numpy(eigenvalues, tol=1e-8):
    """Correct: numpy."""
    ev = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if ev.size == 0:
        raise ValueError("eigenvalues is empty")
    pos, neg = ev > tol, ev < -tol
    if pos.any() and neg.any():
        return "saddle"
    if pos.all():
        return "minimum"
    if neg.all():
        return "maximum"
    return "degenerate"


# classify_critical_point: correct (second round of hardening)


def cls_alt_minmax(eigenvalues, tol=1e-8):
    """Correct: only the smallest and largest eigenvalue matter."""
    values = [float(x) for x in eigenvalues]
    if len(values) == 0:
        raise ValueError("eigenvalues must not be empty")
    lo, hi = min(values), max(values)
    if hi > tol and lo < -tol:
        return "saddle"
    if lo > tol:
        return "minimum"
    if hi < -tol:
        return "maximum"
    return "degenerate"


def cls_alt_counts_torch(eigenvalues, tol=1e-8):
    """Correct: counts of positive and negative eigenvalues in a float64 tensor."""
    t = torch.as_tensor(np.asarray(eigenvalues, dtype=np.float64)).reshape(-1)
    if t.numel() == 0:
        raise ValueError("no eigenvalues")
    n_pos, n_neg = int((t > tol).sum()), int((t < -tol).sum())
    if n_pos and n_neg:
        return "saddle"
    if n_pos == t.numel():
        return "minimum"
    if n_neg == t.numel():
        return "maximum"
    return "degenerate"


def cls_alt_sign_set(eigenvalues, tol=1e-8):
    """Correct: the set of signs, in the default float32."""
    ev = torch.tensor([float(x) for x in eigenvalues])
    if ev.numel() == 0:
        raise ValueError("eigenvalues is empty")
    signs = set(torch.where(ev > tol, 1, torch.where(ev < -tol, -1, 0)).tolist())
    if {1, -1} <= signs:
        return "saddle"
    if signs == {1}:
        return "minimum"
    if signs == {-1}:
        return "maximum"
    return "degenerate"


def cls_alt_numpy_select(eigenvalues, tol=1e-8):
    """Right labels, but as a numpy string (np.select): see the xfail test at the end."""
    ev = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    if ev.size == 0:
        raise ValueError("eigenvalues must not be empty")
    pos, neg = (ev > tol).any(), (ev < -tol).any()
    return np.select(
        [pos and neg, (ev > tol).all(), (ev < -tol).all()],
        ["saddle", "minimum", "maximum"],
        default="degenerate",
    )[()]


# classify_critical_point: wrong (second round of hardening)


def cls_saddle_point(eigenvalues, tol=1e-8):
    """Answers "saddle point" (the key-term table's wording)."""
    out = ref.classify_critical_point(eigenvalues, tol)
    return "saddle point" if out == "saddle" else out


def cls_ignores_tol(eigenvalues, tol=1e-8):
    return ref.classify_critical_point(eigenvalues, 1e-8)


def cls_truthiness(eigenvalues, tol=1e-8):
    """`if not eigenvalues`: fine for lists, ambiguous for tensors and arrays."""
    if not eigenvalues:
        raise ValueError("no eigenvalues")
    return ref.classify_critical_point(eigenvalues, tol)


def cls_minimum_without_tol(eigenvalues, tol=1e-8):
    """Uses tol for saddles only: all(x > 0) for a minimum."""
    values = [float(x) for x in eigenvalues]
    if not values:
        raise ValueError("empty")
    if any(x > tol for x in values) and any(x < -tol for x in values):
        return "saddle"
    if all(x > 0 for x in values):
        return "minimum"
    if all(x < 0 for x in values):
        return "maximum"
    return "degenerate"


def _classify_with(values, is_pos, is_neg):
    if not values:
        raise ValueError("eigenvalues must not be empty")
    pos, neg = any(map(is_pos, values)), any(map(is_neg, values))
    if pos and neg:
        return "saddle"
    if all(map(is_pos, values)):
        return "minimum"
    if all(map(is_neg, values)):
        return "maximum"
    return "degenerate"


def cls_ge_tol(eigenvalues, tol=1e-8):
    """Positive means >= tol: an eigenvalue exactly tol is taken for positive."""
    values = [float(x) for x in eigenvalues]
    return _classify_with(values, lambda x: x >= tol, lambda x: x < -tol)


def cls_le_minus_tol(eigenvalues, tol=1e-8):
    """Negative means <= -tol: an eigenvalue exactly -tol is taken for negative."""
    values = [float(x) for x in eigenvalues]
    return _classify_with(values, lambda x: x > tol, lambda x: x <= -tol)


# ---------------------------------------------------------------------------------------------
# the tables

WRONG = [
    # top_eigenvalue
    (
        "top_eigenvalue",
        top_norm,
        r"expected .* -6, got 6.*wrong sign.*Rayleigh quotient",
        ["negative"],
    ),
    ("top_eigenvalue", top_global, r"global random generator", ["generator"]),
    ("top_eigenvalue", top_fixed_iters, r"num_iters seems to be ignored", ["num_iters"]),
    ("top_eigenvalue", top_own_generator, r"left `generator` untouched", ["generator"]),
    ("top_eigenvalue", top_ones_start, r"left `generator` untouched", ["generator"]),
    (
        "top_eigenvalue",
        top_sets_requires_grad,
        r"theta\.requires_grad changed from True to False",
        ["no_mutation"],
    ),
    # classify_critical_point
    ("classify_critical_point", cls_no_tol, r"5e-9 counts as zero.*expected 'degenerate'", ["tol"]),
    (
        "classify_critical_point",
        cls_degenerate_first,
        r"\[1, 0, -1\].*expected 'saddle', got 'degenerate'",
        ["basic"],
    ),
    (
        "classify_critical_point",
        cls_empty_minimum,
        r"returned 'minimum' instead of raising",
        ["errors"],
    ),
    (
        "classify_critical_point",
        cls_vectorised,
        r"a numpy array.*raised|a tuple.*raised",
        ["inputs"],
    ),
    ("classify_critical_point", cls_capitalised, r"expected 'minimum', got 'Minimum'", ["basic"]),
    # second round: top_eigenvalue
    ("top_eigenvalue", top_eigvalsh, r"num_iters seems to be ignored", ["num_iters"]),
    ("top_eigenvalue", top_reseeds, r"seeded 20 and 21 gave the same result", ["generator"]),
    ("top_eigenvalue", top_no_default, r"raised TypeError.*'num_iters'", ["basic"]),
    ("top_eigenvalue", top_returns_pair, r"should be a float, got tuple of length 2", ["basic"]),
    ("top_eigenvalue", top_unnormalised, r"largest magnitude 5, got \d.*e\+", ["basic"]),
    ("top_eigenvalue", top_backward_on_theta, r"left a gradient in theta\.grad", ["no_mutation"]),
    # second round: classify_critical_point
    (
        "classify_critical_point",
        cls_saddle_point,
        r"expected 'saddle', got 'saddle point'",
        ["basic"],
    ),
    (
        "classify_critical_point",
        cls_ignores_tol,
        r"tol 0\.5: \[0\.3, 2\].*expected 'degenerate', got 'minimum'",
        ["tol"],
    ),
    ("classify_critical_point", cls_truthiness, r"float32 tensor.*raised RuntimeError", ["inputs"]),
    (
        "classify_critical_point",
        cls_minimum_without_tol,
        r"5e-9 counts as zero.*expected 'degenerate', got 'minimum'",
        ["tol"],
    ),
    # the boundary: exactly tol, exactly -tol
    (
        "classify_critical_point",
        cls_ge_tol,
        r"1e-8 is exactly tol.*got 'minimum'.*positive means > tol.*not >= tol",
        ["tol"],
    ),
    (
        "classify_critical_point",
        cls_le_minus_tol,
        r"-1e-8 is exactly -tol.*expected 'degenerate', got 'saddle'.*< -tol \(strict\)",
        ["tol"],
    ),
]

CORRECT = [
    ("top_eigenvalue", top_alt_func),
    ("top_eigenvalue", top_alt_rayleigh_each_step),
    ("classify_critical_point", cls_alt_numpy),
    ("top_eigenvalue", top_alt_early_stop),
    ("top_eigenvalue", top_alt_maxnorm),
    ("top_eigenvalue", top_alt_float64),
    ("top_eigenvalue", top_alt_graph_once),
    ("classify_critical_point", cls_alt_minmax),
    ("classify_critical_point", cls_alt_counts_torch),
    ("classify_critical_point", cls_alt_sign_set),
]

NAMES = [
    "top_eigenvalue",
    "classify_critical_point",
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


# ---------------------------------------------------------------------------------------------
# classify_critical_point: numpy labels


def test_a_numpy_string_label_is_accepted():
    """np.select returns np.str_ labels; the spec accepts numpy scalars for scalar results,
    in process and across the sandbox wire."""
    from autograder.sandbox import wire

    assert_passes_all("classify_critical_point", cls_alt_numpy_select)
    label = wire.decode(wire.encode(np.str_("saddle")))
    assert type(label) is np.str_ and label == "saddle"
