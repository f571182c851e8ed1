"""The inputs of notebook 03's checks behave as documented (the spy train_fn, the gradient
probe after the call), and every part is fast for the reference."""

from __future__ import annotations

import torch

from autograder.checks import Build, Case, lookup
from autograder.checks.call import run_case
from solutions import lottery_tickets as ref
from tests.course.checks.support import assert_passes_all

#: Every graded function of notebook 03 (each one's tables are in the file of its section).
NAMES = [
    "prune_count",
    "magnitude_mask",
    "prune_remaining",
    "global_prune",
    "imp_sparsity",
    "rounds_to_reach",
    "rewind",
    "iterative_magnitude_pruning",
    "topk_score_mask",
    "straight_through_mask",
    "mask_overlap",
]


# ---------------------------------------------------------------------------------------------
# the inputs themselves, and every function of the notebook


def test_every_part_is_fast_for_the_reference():
    """All parts of a function take well under 2 s for the reference."""
    import time

    import solutions

    for name in NAMES:
        start = time.process_time()  # CPU time: a busy machine does not count
        assert_passes_all(name, getattr(solutions, name))
        assert time.process_time() - start < 2.0, name


def test_spy_train_fn_records_calls_and_is_deterministic():
    """The spy records clones of what it got and returns the same "training" for the same call."""
    case = Case("spy", (Build("spy_train_fn", {"seed": 3}),))

    def call_twice(train_fn):
        params = {"w": torch.ones(2, 2), "b": torch.zeros(2)}
        masks = {"w": torch.tensor([[True, False], [True, True]])}
        first = train_fn(params, masks)
        params["w"].add_(1.0)  # changing the inputs afterwards must not change the records
        second = train_fn(params, masks)
        return first, second

    a = run_case(call_twice, case)
    b = run_case(call_twice, case)
    assert a.status == "returned"
    calls = a.probe["calls"]
    assert len(calls) == 2
    assert torch.equal(calls[0]["params"]["w"], torch.ones(2, 2))
    assert torch.equal(calls[1]["params"]["w"], torch.full((2, 2), 2.0))
    assert torch.equal(calls[0]["masks"]["w"], torch.tensor([[True, False], [True, True]]))
    assert not torch.equal(a.value[0]["w"] - 1.0, a.value[1]["w"] - 2.0)  # rounds differ
    for x, y in zip(a.value, b.value):
        assert all(torch.equal(x[k], y[k]) for k in x)
    assert torch.equal(calls[1]["trained"]["w"], a.value[1]["w"])


def test_post_probe_records_the_gradient_and_its_absence():
    """`Case.post` runs after the call; the gradient probe records plain tensors or a reason."""
    incoming = torch.tensor([1.0, -2.0, 3.0])
    case = Case(
        "grad",
        (Build("leaf_tensor", {"values": torch.zeros(3)}),),
        post=Build("grad_probe", {"grad_output": incoming}),
    )
    doubled = run_case(lambda s: 2 * s, case)
    assert torch.equal(doubled.probe["grad"], 2 * incoming)
    detached = run_case(lambda s: s.detach() + 1, case)
    assert "does not require grad" in detached.probe["grad_error"]
    not_tensor = run_case(lambda s: 3.0, case)
    assert "not a tensor" in not_tensor.probe["grad_error"]


def test_post_probe_failures_are_recorded_not_raised():
    """A backward that raises is recorded as post_error; the call itself still returned."""

    class Broken(torch.autograd.Function):
        @staticmethod
        def forward(ctx, scores, keep_fraction):
            return ref.topk_score_mask(scores, keep_fraction).to(scores.dtype)

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("broken backward")

    case = Case(
        "grad",
        (Build("leaf_tensor", {"values": torch.tensor([0.3, 0.1])}), 0.5),
        post=Build("grad_probe", {"grad_output": torch.ones(2)}),
    )
    outcome = run_case(Broken.apply, case)
    assert outcome.status == "returned"
    assert "broken backward" in outcome.probe["post_error"]
    message = lookup("straight_through_mask").parts["gradient"].verdict(case, outcome)
    assert "back-propagating" in message and "broken backward" in message
