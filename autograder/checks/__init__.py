"""The hidden-check toolkit: types, the call stage, verdict helpers, case builders, and the
registry that an assignment's checks package fills (namespaced per assignment).

Public entry points (what hidden test cells and the grader use):

- ``check_function(name, fn, part=None)``: None when the selected parts pass (all parts
  when `part` is None), else ``AssertionError`` carrying the feedback;
- ``check_answer(name, value, part=None)``: the same for a graded value (a quiz letter);
- ``parts(name)``: the part names of a graded item, in grading order;
- ``load(spec)`` / ``use_assignment(spec)``: import an assignment's checks package (and
  make it the default for calls that name no assignment).

The engine holds no checks of its own: an assignment's checks live in its source folder
(``[checks]`` of its spec, see :mod:`autograder.spec`).
"""

from __future__ import annotations

from .registry import (
    REGISTRY,
    SPECS,
    cases,
    check_answer,
    check_function,
    checks_of,
    current_assignment,
    graded_functions,
    judge,
    load,
    lookup,
    parts,
    set_default_assignment,
    spec_of,
    use_assignment,
)
from .types import Build, Case, FunctionChecks, Outcome, Part

__all__ = [
    "REGISTRY",
    "SPECS",
    "Build",
    "Case",
    "FunctionChecks",
    "Outcome",
    "Part",
    "cases",
    "check_answer",
    "check_function",
    "checks_of",
    "current_assignment",
    "graded_functions",
    "judge",
    "load",
    "lookup",
    "parts",
    "set_default_assignment",
    "spec_of",
    "use_assignment",
]
