"""Plain data shared by the three stages of a hidden check.

A check of one graded function is split into

1. cases (:class:`Case`): deterministic inputs, plain data plus :class:`Build` recipes for
   inputs that are not plain data (models, loss functions, generators, spy callbacks);
2. the call (:func:`autograder.checks.call.run_case`): runs the student's function on one case
   and records what happened as an :class:`Outcome`;
3. the verdict (a :data:`Verdict`): compares the outcome with the reference solution or with
   properties, and returns a feedback message when it fails.

Only stage 2 ever runs student code. Stages 1 and 3 never need the student's objects, only
the outcome's plain data, so they can run in a different (trusted) process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Build:
    """A recipe for an input that is not plain data, resolved by the call stage.

    `kind` names a builder in :mod:`autograder.checks.builders`; `params` are its keyword
    arguments (plain data, possibly containing further `Build`s).
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One deterministic input for a graded function.

    `label` says in words what the case is (it appears in feedback); `hint` is a case-specific
    hint added to the feedback when the case fails.

    `post` (optional) is a recipe for an after-call probe: a builder registered with
    `probe=True` that returns a callable `after(value, args, kwargs)`. The call stage runs it
    right after the student's function returns, on the returned value and the live inputs,
    and it records plain data into the probe (for example the gradient that flows back to an
    input through the returned tensor). It runs next to student code, so it lives with the
    builders, never in the verdicts.

    `reruns` (optional) asks the call stage to call the function again after it returned, once
    per entry, on freshly built copies of the same inputs with the entry's keyword arguments
    replaced (e.g. ``({}, {"seed": 1})``: once more as is, once with another seed). Their
    outcomes are in `Outcome.reruns`, for properties across calls such as "the same seed gives
    the same result".
    """

    label: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    hint: str = ""
    post: Build | None = None
    reruns: tuple[Mapping[str, Any], ...] = ()


Status = Literal["returned", "raised", "timeout"]


@dataclass
class Outcome:
    """What happened when the student's function ran on one case (plain data only).

    `args_after`/`kwargs_after` are snapshots of the inputs after the call (for the
    no-mutation checks); `probe` holds what instrumented inputs recorded (for example every
    call of a spy `train_fn`); `shares_input_memory` says whether a returned tensor shares
    storage with an input tensor; `global_rng_changed` whether the call drew from torch's
    global random generator (functions given a `generator` must draw only from it);
    `reruns` the outcomes of the case's `reruns`, in order.
    """

    status: Status
    value: Any = None
    error_type: str = ""
    error_bases: tuple[str, ...] = ()
    error_message: str = ""
    seconds: float = 0.0
    args_after: tuple[Any, ...] = ()
    kwargs_after: Mapping[str, Any] = field(default_factory=dict)
    probe: dict[str, Any] = field(default_factory=dict)
    shares_input_memory: bool = False
    global_rng_changed: bool = False
    reruns: list[Outcome] = field(default_factory=list)

    def raised(self, exc_name: str) -> bool:
        """True if the call raised `exc_name` or a subclass of it."""
        return self.status == "raised" and (
            self.error_type == exc_name or exc_name in self.error_bases
        )


Verdict = Callable[[Case, Outcome], "str | None"]
"""Stage 3: returns None when the outcome is right, else a message saying what is wrong."""


@dataclass(frozen=True)
class Part:
    """A named group of cases of one function, judged by one verdict (one hidden test cell).

    A part earns its points only for a function that does its task on the part's cases: a
    part that checks a convention (inputs not modified, the dtype, the types in and out, no
    gradient left behind, ...) must judge the results too, so that a function that ignores
    its task (`return 0.0`, `return None`, returning its input) passes no part. The
    convention helpers of :mod:`autograder.checks.verdicts` take a required `results`
    verdict for that; tests/engine/test_fakes.py holds every registered part to it.
    """

    name: str
    description: str
    make_cases: Callable[[], list[Case]]
    verdict: Verdict
    hint: str = ""


ItemKind = Literal["function", "value"]


@dataclass
class FunctionChecks:
    """All hidden checks of one graded item, in the order the parts are graded.

    `kind` is "function" for a graded function (the usual case) or "value" for a graded
    answer variable such as a quiz letter: the call stage then "calls" a function that returns
    the student's value, so a value item goes through the same three stages.
    """

    name: str
    parts: dict[str, Part]
    timeout: float = 10.0
    kind: ItemKind = "function"
