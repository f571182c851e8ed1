"""Helpers for tests that prove the hidden checks grade well."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from autograder.checks import check_function, parts


def part_results(name: str, fn: Callable[..., Any]) -> dict[str, str | None]:
    """Every part of `name` → None if `fn` passes it, else the feedback message."""
    results: dict[str, str | None] = {}
    for part in parts(name):
        try:
            check_function(name, fn, part=part)
        except AssertionError as exc:
            results[part] = str(exc)
        else:
            results[part] = None
    return results


def assert_passes_all(name: str, fn: Callable[..., Any]) -> None:
    """`fn` passes every part of `name`'s checks."""
    failed = {p: m for p, m in part_results(name, fn).items() if m}
    assert not failed, (
        f"{name}: a correct implementation failed parts {list(failed)}:\n"
        + "\n".join(f"--- {p}\n{m}" for p, m in failed.items())
    )


def assert_fails(
    name: str, fn: Callable[..., Any], *, match: str, in_parts: Iterable[str] | None = None
) -> dict[str, str | None]:
    """`fn` fails at least one part (one of `in_parts` if given) with a message matching `match`.

    `match` is a regular expression searched (case-insensitively) in the failing messages, so
    the test proves the feedback names the problem, not only that something failed.
    """
    results = part_results(name, fn)
    failed = {p: m for p, m in results.items() if m}
    assert failed, f"{name}: a wrong implementation passed every part"
    wanted = set(in_parts) if in_parts is not None else set(failed)
    hits = [p for p, m in failed.items() if p in wanted and re.search(match, m, re.I | re.S)]
    assert hits, (
        f"{name}: expected a failure in {sorted(wanted)} matching {match!r}; got:\n"
        + "\n".join(f"--- {p}\n{m}" for p, m in failed.items())
    )
    return results


def fails_part(name: str, fn: Callable[..., Any], part: str, match: str) -> None:
    """`fn` fails `part` of `name` with a message matching `match` (only that part runs)."""
    with pytest.raises(AssertionError) as info:
        check_function(name, fn, part=part)
    assert re.search(match, str(info.value), re.I | re.S), str(info.value)
