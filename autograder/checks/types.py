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
    """

    label: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    hint: str = ""


Status = Literal["returned", "raised", "timeout"]


@dataclass
class Outcome:
    """What happened when the student's function ran on one case (plain data only).

    `args_after`/`kwargs_after` are snapshots of the inputs after the call (for the
    no-mutation checks); `probe` holds what instrumented inputs recorded (for example every
    call of a spy `train_fn`); `shares_input_memory` says whether a returned tensor shares
    storage with an input tensor.
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

    def raised(self, exc_name: str) -> bool:
        """True if the call raised `exc_name` or a subclass of it."""
        return self.status == "raised" and (
            self.error_type == exc_name or exc_name in self.error_bases
        )


Verdict = Callable[[Case, Outcome], "str | None"]
"""Stage 3: returns None when the outcome is right, else a message saying what is wrong."""


@dataclass(frozen=True)
class Part:
    """A named group of cases of one function, judged by one verdict (one hidden test cell)."""

    name: str
    description: str
    make_cases: Callable[[], list[Case]]
    verdict: Verdict
    hint: str = ""


@dataclass
class FunctionChecks:
    """All hidden checks of one graded function, in the order the parts are graded."""

    name: str
    parts: dict[str, Part]
    timeout: float = 10.0
