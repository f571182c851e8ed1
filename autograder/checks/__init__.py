"""Hidden-check registry for the graded functions of assignment `landscapes`.

Public entry points:

- ``check_function(name, fn, part=None)``: None when the selected parts pass (all parts
  when `part` is None), else ``AssertionError`` carrying the feedback;
- ``check_answer(name, value, part=None)``: the same for a graded value (a quiz letter);
- ``parts(name)``: the part names of a function, in grading order.

The checks of each notebook live in their own module; importing this package registers all.
"""

from __future__ import annotations

import importlib

from .registry import (
    REGISTRY,
    cases,
    check_answer,
    check_function,
    graded_functions,
    judge,
    parts,
)
from .types import Build, Case, FunctionChecks, Outcome, Part

_CHECK_MODULES = (
    "autograder.checks.mode_connectivity",
    "autograder.checks.landscape_geometry",
    "autograder.checks.lottery_tickets",
    "autograder.checks.quiz",
)

for _module in _CHECK_MODULES:
    importlib.import_module(_module)

__all__ = [
    "REGISTRY",
    "Build",
    "Case",
    "FunctionChecks",
    "Outcome",
    "Part",
    "cases",
    "check_answer",
    "check_function",
    "graded_functions",
    "judge",
    "parts",
]
