"""The inputs of notebook 02's checks are what they claim to be (spectra with a clear gap,
the curved loss's Hessian, the probes), and every part is fast for the reference."""

from __future__ import annotations

import torch
from landscapes_checks import landscape_geometry as checks

from autograder.checks import Build, Case, cases, parts
from autograder.checks.call import materialize, run_case
from solutions import landscape_geometry as ref
from tests.course.checks.support import assert_passes_all

#: Every graded function of notebook 02 (each one's tables are in the file of its section).
NAMES = [
    "hvp",
    "rademacher_probes",
    "hutchinson_trace",
    "expected_loss_increase",
    "perturbed_loss_increase",
    "spectrum_trace",
    "top_eigenvalue",
    "classify_critical_point",
    "rescale_hidden_units",
    "filter_normalize",
    "loss_surface",
]


# ---------------------------------------------------------------------------------------------
# the inputs themselves


def test_top_eigenvalue_cases_have_a_clear_gap():
    """Every spectrum used by top_eigenvalue has |λ2| / |λ1| ≤ EIGEN_MAX_GAP_RATIO."""
    for part in parts("top_eigenvalue"):
        for case in cases("top_eigenvalue", part):
            eig = checks.hessian_eigenvalues(*materialize(case.args))
            mags = eig.abs().sort(descending=True).values
            assert float(mags[1] / mags[0]) <= checks.EIGEN_MAX_GAP_RATIO, case.label


def test_num_iters_spectrum_cannot_converge_in_one_step():
    """From any Gaussian start, one power step stays NUM_ITERS_SPREAD below λ1 (20 000 draws)."""
    lam = torch.tensor(checks.NUM_ITERS_SPECTRUM, dtype=torch.float64)
    c2 = (
        torch.randn(
            20_000, lam.numel(), generator=torch.Generator().manual_seed(0), dtype=torch.float64
        )
        ** 2
    )
    after_one = (c2 * lam**3).sum(1) / (c2 * lam**2).sum(1)
    assert float(after_one.max()) < lam.max() * (1 - 3 * checks.NUM_ITERS_SPREAD)


def test_curved_loss_has_the_documented_hessian():
    """The curved loss's Hessian is A_sym + 2(uᵀθ)uuᵀ + diag(exp(cθ)) (closed form vs autograd)."""
    gen = torch.Generator().manual_seed(1)
    A = torch.randn(4, 4, generator=gen, dtype=torch.float64)
    u = torch.randn(4, generator=gen, dtype=torch.float64)
    theta = torch.randn(4, generator=gen, dtype=torch.float64)
    loss_fn = materialize(Build("curved_loss", {"A": A, "u": u, "c": 3.0}))
    H = torch.autograd.functional.hessian(loss_fn, theta)
    closed = (A + A.T) / 2 + 2 * (u @ theta) * torch.outer(u, u) + torch.diag(torch.exp(3 * theta))
    torch.testing.assert_close(H, closed)


def test_constant_loss_ignores_theta():
    loss_fn = materialize(Build("constant_loss", {"value": 2.5}))
    out = loss_fn(torch.randn(3, dtype=torch.float64))
    assert out.dtype == torch.float64 and float(out) == 2.5 and not out.requires_grad


def test_generator_state_probe_records_the_state_after_the_call():
    """The probe records the generator's state after the call, by keyword or by position."""
    fresh = torch.Generator().manual_seed(5).get_state()
    by_name = Case(
        "kw",
        (),
        {"generator": Build("generator", {"seed": 5})},
        post=Build("generator_state_probe", {"name": "generator"}),
    )
    untouched = run_case(lambda generator: 0, by_name)
    assert torch.equal(untouched.probe["generator_state"], fresh)
    drawn = run_case(lambda generator: torch.rand(1, generator=generator), by_name)
    assert not torch.equal(drawn.probe["generator_state"], fresh)
    by_position = Case(
        "pos",
        (3, Build("generator", {"seed": 5})),
        post=Build("generator_state_probe", {"arg": 1}),
    )
    outcome = run_case(lambda n, g: torch.rand(n, generator=g), by_position)
    assert not torch.equal(outcome.probe["generator_state"], fresh)
    missing = run_case(lambda n: n, Case("none", (3,), post=Build("generator_state_probe", {})))
    assert "generator_error" in missing.probe


def test_rescale_function_check_uses_an_independent_forward_pass():
    """`network_output` agrees with the nn.Sequential it mirrors."""
    import landscape_lab

    model = landscape_lab.make_mlp(hidden=(4, 3), out_dim=2, seed=3)
    X = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = model(X).to(torch.float64)
    torch.testing.assert_close(
        checks.network_output(landscape_lab.params_of(model), X), expected, rtol=1e-5, atol=1e-6
    )


def test_input_grad_probe_records_a_gradient_left_in_theta():
    """The probe flags a non-zero theta.grad after the call, not a cleared or zeroed one."""
    case = Case(
        "grad",
        (None, Build("leaf_tensor", {"values": torch.ones(3)})),
        post=Build("input_grad_probe", {"arg": 1}),
    )

    def leaves_grad(_, theta):
        (theta * 2.0).sum().backward()

    def clears_grad(_, theta):
        (theta * 2.0).sum().backward()
        theta.grad = None

    def zeroes_grad(_, theta):
        (theta * 2.0).sum().backward()
        theta.grad.zero_()

    assert run_case(leaves_grad, case).probe["grad_left"] is True
    assert run_case(clears_grad, case).probe["grad_left"] is False
    assert run_case(zeroes_grad, case).probe["grad_left"] is False
    assert run_case(lambda _, theta: None, case).probe["grad_left"] is False


def test_hutchinson_checks_include_a_negative_estimate():
    """A saddle's estimate is negative, so abs() or clamping at 0 cannot pass."""
    values = [
        ref.hutchinson_trace(*materialize(case.args))
        for case in cases("hutchinson_trace", "probes")
    ]
    assert min(values) < -1.0


def test_filter_normalize_checks_reorder_theta_keys():
    """Some case gives theta the direction's keys in another order, with equal-shape pairs."""
    reordered = [
        case
        for part in parts("filter_normalize")
        for case in cases("filter_normalize", part)
        if isinstance(case.args[0], dict)
        and isinstance(case.args[1], dict)
        and set(case.args[0]) == set(case.args[1])
        and list(case.args[0]) != list(case.args[1])
    ]
    assert reordered
    direction, theta = reordered[0].args
    assert all(d.shape == t.shape for d, t in zip(direction.values(), theta.values()))


# ---------------------------------------------------------------------------------------------
# every function of the notebook


def test_every_part_is_fast_for_the_reference():
    """All parts of a function take well under 2 s for the reference."""
    import time

    import solutions

    for name in NAMES:
        start = time.process_time()  # CPU time: a busy machine does not count
        assert_passes_all(name, getattr(solutions, name))
        assert time.process_time() - start < 2.0, name
