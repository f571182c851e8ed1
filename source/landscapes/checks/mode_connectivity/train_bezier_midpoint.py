"""Checks of `train_bezier_midpoint` (notebook 01), through properties.

The order of its random draws is free, so its result is never compared with the reference's.
Checked instead: steps = 0 returns the endpoints' average, and endpoints whose keys or shapes
differ raise ValueError; the result is a detached dict like theta_a within reach of `steps`
Adam steps from that average, and the endpoints (no .grad left on them), data and model stay
unchanged (after-call probe of the model);
one step is one Adam step with the given lr, and Adam keeps its state across steps; every step
calls the model exactly once, on a minibatch of batch_size examples (a spy model counts them:
the maximum loss over several alphas, the seed text's error, calls it more); the same seed gives
the same result and another seed another, drawing only from the seeded generator; after 200
steps the curve keeps at most `CURVE_BARRIER_FRACTION` of the straight line's barrier.

The `seed` given to the function is varied per student (`vary`) wherever the result depends
on it, and so are the small random endpoints and data; the two trained solutions stay fixed
(see `_barrier_args`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from autograder.checks.registry import make_checks
from autograder.checks.seeding import vary
from autograder.checks.types import Build, Case, Outcome, Part
from autograder.checks.verdicts import (
    DICT_TYPES,
    call_failure,
    compare_tensor_dict,
    fmt_value,
    fresh_inputs,
    leaves_inputs_unchanged,
    raises_value_error,
    with_hint,
)
from solutions import mode_connectivity as ref

from ..inputs_mode_connectivity import barrier_data, build_barrier_endpoint
from .common import (
    _HIDDEN,
    _close,
    _data,
    _gen,
    _mlp,
    _model_params_kept,
    _params,
    _probing_model,
)

# Tolerances and sizes (named, never inline)

ADAM_STEP_RTOL = 1e-3
"""How far above lr the largest change after one Adam step may be, relative to lr."""
ADAM_LARGEST_MIN_FRACTION = 0.9
"""The largest change after one Adam step is at least this fraction of lr. An Adam step moves
an entry by lr·|g|/(|g| + eps), eps = 1e-8, and the gradient with respect to theta_mid is
scaled by 2·alpha·(1 − alpha): for an alpha drawn within ~1e-6 of an endpoint (a case seed
found one: alpha = 1.19e-6) even the largest entry falls short of lr by a percent or so."""
ADAM_MOVED_FRACTION = 0.9
"""An entry "moved by about lr" when its change is at least this fraction of lr."""
ADAM_STILL_FRACTION = 1e-3
"""An entry whose change is below this fraction of lr did not move (zero gradient, e.g. a
dead ReLU unit; what is left is rounding)."""
ADAM_MIN_MOVED_SHARE = 0.2
"""Of the entries that moved in one Adam step, at least this share moved by about lr. The
reference: 92–100% over 800 random cases, but 59% and 25% on two rare ones whose first alpha
lies within 1e-4 of an endpoint (alpha = 0.99993 and 1.19e-6), which scales every gradient
down to a few times Adam's eps (see ADAM_LARGEST_MIN_FRACTION); plain SGD: under 5%."""
CURVE_GRID = 41
"""Number of evenly spaced alphas at which the verdict evaluates the trained curve."""
CURVE_BARRIER_FRACTION = 0.25
"""A trained Bezier curve keeps at most this fraction of the straight line's barrier (correct
implementations keep 12–17% whatever their draw order and seed; training at alpha = 0.5 only,
training theta_mid as a model of its own or dropping the factor 2 keep 30–55%)."""
ADAM_MULTI_STEPS = 3
"""Steps of the case that tells Adam (moments kept across steps) from an optimizer made anew
every step, whose every step is a first Adam step of exactly ±lr per entry."""
ADAM_WHOLE_LR_TOL = 0.02
"""A total change "is a whole multiple of lr" when it is within this many lr of one."""
ADAM_MAX_WHOLE_SHARE = 0.5
"""After `ADAM_MULTI_STEPS` steps at most this share of the entries that moved may have moved
by a whole multiple of lr (the reference and four other styles and draw orders, seeds 0–15:
0–7%; Adam made anew every step: 88–99%)."""
ADAM_REACH = 2.0
"""After `steps` Adam steps of rate lr, no entry of theta_mid is more than this many
`steps`·lr from the start (θa + θb) / 2: with the default betas one Adam step moves an entry
by at most 1.01·lr in the first steps (bias-corrected moments, Cauchy–Schwarz)."""
REACH_ATOL = 1e-6
"""Rounding allowed on top of `ADAM_REACH` (float32 sums)."""
BEZIER_TIMEOUT = 30.0
"""Seconds per call of `train_bezier_midpoint` (the reference needs well under one)."""


_TBM = "train_bezier_midpoint"
_TBM_ARGS = ("model", "theta_a", "theta_b", "X", "y")
_TBM_HINT = (
    "theta_mid starts at (theta_a + theta_b) / 2 as new leaf tensors with requires_grad; "
    "g = torch.Generator().manual_seed(seed); each step draw alpha ~ U(0, 1) and a minibatch "
    "of batch_size indices with g, compute the loss at bezier_point(theta_a, theta_mid, "
    "theta_b, alpha) with torch.func.functional_call, and take one torch.optim.Adam(lr=lr) "
    "step on theta_mid; return detached copies"
)


def _barrier_args(*, spy: bool = False, train_mode: bool = False) -> tuple:
    """The model and the two trained solutions with a linear barrier of about 4 nats.

    Fixed for everyone: the barrier part's threshold was tuned on these two solutions (each is
    600 training steps, cached per process); per student, the `seed` of the call varies. The
    solutions travel as values, not as recipes: trained once per grading process here, not
    again in every student's kernel.
    """
    X, y = barrier_data()
    kind = "spy_mlp" if spy else "mlp"
    params: dict[str, Any] = {"seed": 0, "train_mode": train_mode}
    if not spy:
        params.update({"hidden": (16, 16), "out_dim": 4})
    model = Build(kind, params)
    return (
        model,
        build_barrier_endpoint(seed=1),
        build_barrier_endpoint(seed=2),
        X,
        y,
    )


def _small_args(*, dtype: str = "float32", requires_grad: bool = False) -> tuple:
    X, y = _data(_gen(40), getattr(torch, dtype))
    return (
        _mlp(0, dtype=dtype),
        _params(1, dtype=dtype, requires_grad=requires_grad),
        _params(2, dtype=dtype, requires_grad=requires_grad),
        X,
        y,
    )


def _params_problem(got: Any, like: Mapping[str, torch.Tensor], what: str) -> str | None:
    """Keys, exact types, shapes, dtypes, detached and finite values like `like`."""
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of tensors, got {fmt_value(got)}"
    if set(got.keys()) != set(like.keys()):
        missing = [k for k in like if k not in got]
        extra = [k for k in got if k not in like]
        return f"{what} has the wrong keys: missing {missing!r}, unexpected {extra!r}"
    for key, ref_value in like.items():
        value = got[key]
        if type(value) is not torch.Tensor:
            return f"{what}[{key!r}] should be a torch.Tensor, got {fmt_value(value)}"
        if value.shape != ref_value.shape:
            return (
                f"{what}[{key!r}] has shape {tuple(value.shape)}, expected "
                f"{tuple(ref_value.shape)} (theta_a's)"
            )
        if value.dtype != ref_value.dtype:
            return f"{what}[{key!r}] has dtype {value.dtype}, expected {ref_value.dtype}"
        if value.requires_grad or value.grad_fn is not None:
            return (
                f"{what}[{key!r}] requires grad: return detached tensors "
                "(e.g. {k: v.detach().clone() for k, v in theta_mid.items()})"
            )
        if not bool(torch.isfinite(value).all()):
            return f"{what}[{key!r}] contains NaN or infinite values"
    return None


def _tbm_result(case: Case, outcome: Outcome) -> tuple[str | None, Any, tuple]:
    """(message, returned dict, fresh args) after the common checks of a returned result."""
    failure = call_failure(outcome, _TBM)
    if failure:
        return with_hint(failure, case, ""), None, ()
    args, _ = fresh_inputs(case)
    msg = _params_problem(outcome.value, args[1], f"the result of `{_TBM}`")
    if msg:
        return with_hint(msg, case, _TBM_HINT), None, args
    return None, outcome.value, args


def _average(theta_a: Mapping[str, torch.Tensor], theta_b: Mapping[str, torch.Tensor]) -> dict:
    return {k: (theta_a[k].detach() + theta_b[k].detach()) / 2 for k in theta_a}


def _tbm_start_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    theta_a, theta_b = args[1], args[2]
    msg = compare_tensor_dict(got, _average(theta_a, theta_b), what=f"the result of `{_TBM}`")
    if msg:
        if _close(got, {k: v.detach() for k, v in theta_a.items()}):
            msg += "\nYour result is theta_a."
        return with_hint(
            msg + "\nWith steps = 0 nothing is trained: the result is the starting "
            "point theta_mid = (theta_a + theta_b) / 2.",
            case,
            "",
        )
    return None


def _tbm_start() -> list[Case]:
    model, theta_a, _, X, y = _small_args()
    small = {"steps": 0, "lr": 0.01, "batch_size": 4, "seed": 0}
    deeper, wider = (*_HIDDEN, 3), (_HIDDEN[0] + 1,)  # theta_b's keys, then shapes, differ
    return [
        Case(
            "steps = 0 on two MLPs' parameters",
            _small_args(),
            {"steps": 0, "batch_size": 8, "seed": 0},
        ),
        Case(
            "steps = 0 with float64 parameters and data",
            _small_args(dtype="float64"),
            {"steps": 0, "lr": 0.01, "batch_size": 12},
        ),
        Case(
            "steps = 0 with endpoints that require grad",
            _small_args(requires_grad=True),
            {"steps": 0, "lr": 0.05, "batch_size": 4, "seed": 3},
        ),
        # errors: only what the spec's conventions name for every function (keys that do not
        # match, shapes); the docstring's others (steps, lr, batch_size, data) are not graded
        Case(_ERROR_LABELS[0], (model, theta_a, _params(2, hidden=deeper), X, y), small),
        Case(_ERROR_LABELS[1], (model, theta_a, _params(2, hidden=wider), X, y), small),
    ]  # fmt: skip


_ERROR_LABELS = (
    "steps = 0, theta_b with a layer more (keys differ): ValueError",
    "steps = 0, theta_b with a wider hidden layer (shapes differ): ValueError",
)
_tbm_raises = raises_value_error(
    _TBM,
    hint="check the arguments first, even when steps = 0: theta_a and theta_b with the same "
    "keys and shapes",
)


def _tbm_start_or_error(case: Case, outcome: Outcome) -> str | None:
    """The start part's verdict: its error cases must raise, the others start at the average."""
    if case.label in _ERROR_LABELS:
        return _tbm_raises(case, outcome)
    return _tbm_start_verdict(case, outcome)


def _tbm_result_verdict(case: Case, outcome: Outcome) -> str | None:
    """A detached dict like theta_a, within reach of `steps` Adam steps from the start (the
    values cannot be compared with the reference's: the order of random draws is free)."""
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    steps, lr = int(case.kwargs["steps"]), float(case.kwargs["lr"])
    reach = ADAM_REACH * steps * lr + REACH_ATOL
    for key, start in _average(args[1], args[2]).items():
        moves = (got[key].double() - start.double()).abs().reshape(-1)
        if float(moves.max()) > reach:
            return with_hint(
                f"the result of `{_TBM}`[{key!r}] is {float(moves.max()):.4g} away from the "
                f"start (theta_a + theta_b) / 2 after steps={steps} with lr={lr:g}: "
                f"{steps} Adam steps move an entry by about lr each, at most {reach:.4g} in "
                "all. Start theta_mid at the endpoints' average and take `steps` Adam steps",
                case,
                _TBM_HINT,
            )
    return None


def _tbm_contract() -> list[Case]:
    return _probing_model(
        [
            Case(
                "5 steps on the two trained solutions",
                _barrier_args(),
                {"steps": 5, "lr": 0.01, "batch_size": 16, "seed": vary(0)},
            ),
            Case(
                "5 steps with the model in train mode",
                _barrier_args(train_mode=True),
                {"steps": 5, "lr": 0.01, "batch_size": 16, "seed": vary(1)},
            ),
            Case(
                "3 steps with float64 parameters and data",
                _small_args(dtype="float64"),
                {"steps": 3, "lr": 0.01, "batch_size": 4, "seed": vary(0)},
            ),
            Case(
                "3 steps with endpoints that require grad",
                _small_args(requires_grad=True),
                {"steps": 3, "lr": 0.01, "batch_size": 4, "seed": vary(0)},
            ),
        ]
    )


def _tbm_adam_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    lr = float(case.kwargs["lr"])
    start = _average(args[1], args[2])
    moves = torch.cat([(got[k].double() - start[k].double()).abs().reshape(-1) for k in start])
    if int(case.kwargs["steps"]) > 1:
        return _tbm_adam_state_verdict(case, moves, lr)
    largest = float(moves.max())
    moved = int((moves > ADAM_STILL_FRACTION * lr).sum())
    share = float((moves >= ADAM_MOVED_FRACTION * lr).sum()) / max(moved, 1)
    what = f"after steps=1 with lr={lr:g}, `{_TBM}`"
    if largest > lr * (1 + ADAM_STEP_RTOL):
        problem = (
            f"{what} changed an entry of theta_mid by {largest:.4g}, more than lr: one "
            "Adam step from the endpoints' average moves every entry by at most lr. "
            "Take exactly `steps` steps with torch.optim.Adam(theta_mid, lr=lr), "
            "starting at (theta_a + theta_b) / 2"
        )
    elif largest < lr * ADAM_LARGEST_MIN_FRACTION or share < ADAM_MIN_MOVED_SHARE:
        problem = (
            f"{what} changed theta_mid by at most {largest:.4g}; of the {moved} "
            f"entries that changed, {share:.0%} changed by at least "
            f"{ADAM_MOVED_FRACTION:g}·lr: the first Adam step moves every entry with a "
            "non-negligible gradient by almost exactly lr. "
            "Use torch.optim.Adam with lr=lr (not SGD, not a fixed learning rate), and "
            "take one step"
        )
    else:
        return None
    return with_hint(problem, case, "")


def _tbm_adam_state_verdict(case: Case, moves: torch.Tensor, lr: float) -> str | None:
    """After several steps: fails when every step was a first Adam step (state not kept)."""
    steps = int(case.kwargs["steps"])
    in_lr = moves[moves > ADAM_STILL_FRACTION * lr] / lr
    if not in_lr.numel():
        return with_hint(
            f"after steps={steps} with lr={lr:g}, `{_TBM}` did not change theta_mid: take "
            "`steps` Adam steps on theta_mid",
            case,
            "",
        )
    whole = float(((in_lr - in_lr.round()).abs() <= ADAM_WHOLE_LR_TOL).float().mean())
    if whole <= ADAM_MAX_WHOLE_SHARE:
        return None
    return with_hint(
        f"after steps={steps} with lr={lr:g}, {whole:.0%} of the entries of theta_mid that "
        "changed moved by a whole multiple of lr, as if every step were the first step of a "
        "new Adam optimizer (which moves each entry by exactly ±lr). Create "
        "torch.optim.Adam(theta_mid, lr=lr) once, before the loop, so that it keeps its "
        "running averages of the gradients from step to step",
        case,
        "",
    )


def _tbm_adam() -> list[Case]:
    return [
        Case(
            "one step with lr = 0.02",
            _barrier_args(),
            {"steps": 1, "lr": 0.02, "batch_size": 16, "seed": vary(0)},
        ),
        Case(
            "one step with lr = 0.005",
            _barrier_args(),
            {"steps": 1, "lr": 0.005, "batch_size": 32, "seed": vary(4)},
        ),
        Case(
            f"{ADAM_MULTI_STEPS} steps with lr = 0.01: Adam keeps its state between steps",
            _barrier_args(),
            {"steps": ADAM_MULTI_STEPS, "lr": 0.01, "batch_size": 16, "seed": vary(2)},
        ),
    ]


def _tbm_batches_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, _, args = _tbm_result(case, outcome)
    if msg:
        return msg
    rows = list(outcome.probe.get("forward_rows", []))
    steps, batch_size = int(case.kwargs["steps"]), int(case.kwargs["batch_size"])
    n = int(args[3].shape[0])
    wanted = min(batch_size, n)
    count = rows.count(wanted)
    if count == steps:
        return None
    if count > steps:
        return with_hint(
            f"with steps={steps} and batch_size={batch_size} (N = {n}), the model was called "
            f"{count} times on a minibatch of {wanted} rows, {count / steps:.3g} times per "
            "step: each step draws one alpha ~ U(0, 1) and evaluates the loss once, at that "
            "alpha (the expected loss along the curve, not its maximum over several alphas)",
            case,
            "",
        )
    seen = sorted(set(rows))
    return with_hint(
        f"with steps={steps} and batch_size={batch_size} (N = {n}), the model was called "
        f"{count} times on a minibatch of {wanted} rows (inputs it saw had {seen} rows): "
        "each step must evaluate the loss on one minibatch of batch_size examples drawn with "
        "the generator",
        case,
        "",
    )


def _tbm_batches() -> list[Case]:
    return [
        Case(
            "3 steps with batch_size = 8",
            _barrier_args(spy=True),
            {"steps": 3, "lr": 0.01, "batch_size": 8, "seed": vary(0)},
        ),
        Case(
            "2 steps with batch_size = 20, model in train mode",
            _barrier_args(spy=True, train_mode=True),
            {"steps": 2, "lr": 0.01, "batch_size": 20, "seed": vary(5)},
        ),
    ]


def _same_params(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def _tbm_determinism_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    seed = case.kwargs["seed"]
    again, other = outcome.reruns
    other_seed = case.reruns[1]["seed"]
    if any(o.global_rng_changed for o in (outcome, again, other)):
        return with_hint(
            f"`{_TBM}` drew from torch's global random generator (torch.rand, torch.randint, "
            "torch.randperm or torch.manual_seed without generator=...): draw alpha and the "
            "minibatches only from g = torch.Generator().manual_seed(seed)",
            case,
            "",
        )
    for label, o in (
        ("a second call with the same seed", again),
        (f"a call with seed={other_seed}", other),
    ):
        failure = call_failure(o, _TBM)
        if failure:
            return with_hint(f"{label}: {failure}", case, "")
        msg = _params_problem(o.value, args[1], f"the result of {label}")
        if msg:
            return with_hint(msg, case, "")
    if not _same_params(got, again.value):
        return with_hint(
            f"two calls with seed={seed} returned different results: every random draw must "
            "come from torch.Generator().manual_seed(seed)",
            case,
            "",
        )
    if _same_params(got, other.value):
        return with_hint(
            f"seed={seed} and seed={other_seed} returned identical results: seed the generator "
            "with the `seed` argument and draw alpha and the minibatches from it",
            case,
            "",
        )
    return None


def _tbm_determinism() -> list[Case]:
    seed, other = vary(3), vary(4)
    if other == seed:  # two different seeds, whatever the case seed
        other = seed + 1
    return [
        Case(
            f"10 steps, called twice with seed {seed} and once with seed {other}",
            _barrier_args(),
            {"steps": 10, "lr": 0.01, "batch_size": 16, "seed": seed},
            reruns=({}, {"seed": other}),
        ),
    ]


def _path_loss(
    model: torch.nn.Module, params: Mapping[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor
) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(functional_call(model, dict(params), (X,)), y))


def _tbm_barrier_verdict(case: Case, outcome: Outcome) -> str | None:
    msg, got, args = _tbm_result(case, outcome)
    if msg:
        return msg
    model, theta_a, theta_b, X, y = args
    grid = torch.linspace(0.0, 1.0, CURVE_GRID, dtype=torch.float64).tolist()
    curve = [_path_loss(model, ref.bezier_point(theta_a, got, theta_b, a), X, y) for a in grid]
    line = [_path_loss(model, ref.interpolate(theta_a, theta_b, a), X, y) for a in grid]
    ends = max(line[0], line[-1])
    line_barrier = max(line) - ends
    curve_barrier = max(curve) - ends
    if curve_barrier <= CURVE_BARRIER_FRACTION * line_barrier:
        return None
    worst = grid[max(range(len(curve)), key=curve.__getitem__)]
    return with_hint(
        f"after {case.kwargs['steps']} steps the curve through your theta_mid has a max loss of "
        f"{max(curve):.3f} (at alpha = {worst:.3f}); the straight line's max is {max(line):.3f} "
        f"and the endpoints' {ends:.3f}: a trained midpoint should remove at least "
        f"{1 - CURVE_BARRIER_FRACTION:.0%} of the barrier. Minimise the expected loss along the "
        "curve: a new alpha ~ U(0, 1) every step, the loss at bezier_point(theta_a, theta_mid, "
        "theta_b, alpha), gradients on theta_mid only",
        case,
        "",
    )


def _tbm_barrier() -> list[Case]:
    return [
        Case(
            "200 steps between two solutions with a linear barrier of about 4 nats",
            _barrier_args(),
            {"steps": 200, "lr": 0.02, "batch_size": 32, "seed": vary(0)},
        ),
    ]


make_checks(
    _TBM,
    [
        Part(
            "start",
            "steps = 0 returns the endpoints' average (detached, same dtypes); endpoints "
            "whose keys or shapes differ raise ValueError",
            _tbm_start,
            _tbm_start_or_error,
        ),
        Part(
            "result",
            "a detached dict like theta_a; endpoints, data and model unchanged",
            _tbm_contract,
            _model_params_kept(
                _TBM,
                leaves_inputs_unchanged(
                    _TBM,
                    _TBM_ARGS,
                    results=_tbm_result_verdict,
                    hint="optimise new tensors for theta_mid; never change "
                    "theta_a, theta_b or the model (its parameters, "
                    "mode or buffers)",
                ),
            ),
        ),
        Part(
            "adam_step",
            "one step is one Adam step with the given lr; Adam keeps its state across steps",
            _tbm_adam,
            _tbm_adam_verdict,
        ),
        Part(
            "minibatches",
            "each step uses a minibatch of batch_size examples",
            _tbm_batches,
            _tbm_batches_verdict,
        ),
        Part(
            "determinism",
            "the same seed gives the same result, another seed another",
            _tbm_determinism,
            _tbm_determinism_verdict,
        ),
        Part(
            "barrier",
            "the trained curve removes most of the linear barrier",
            _tbm_barrier,
            _tbm_barrier_verdict,
        ),
    ],
    timeout=BEZIER_TIMEOUT,
)
