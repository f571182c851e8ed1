"""Stage 1, shared by the notebooks' checks: random inputs that must have a property.

Most random inputs of the cases are drawn from seeds that vary per student (`vary`). A case
whose label or verdict relies on a property of its random data (a spectrum with a clear gap, a
negative estimate, a rounding error that shows) draws again until it has the property:
:func:`first_draw`. The fixed case, seen when no case seed is active, has it already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from autograder.checks.seeding import case_seed, cases_for

T = TypeVar("T")

DRAW_STRIDE = 1000
"""Seed offset between the draws `first_draw` tries for one case (draw k adds k times it)."""


def first_draw(make: Callable[[int], T], holds: Callable[[T], bool], draws: int) -> T:
    """The inputs of a case that relies on a property of its random data.

    `make(k)` makes draw k (its seeds offset by k·`DRAW_STRIDE`); `make(0)` is the fixed case,
    which has the property. With no case seed active that is the result (unchanged cases);
    otherwise the first of `draws` draws for which `holds` is true, else the fixed case.
    """
    if case_seed() is None:
        return make(0)
    for k in range(draws):
        drawn = make(k)
        if holds(drawn):
            return drawn
    with cases_for(None):
        return make(0)
