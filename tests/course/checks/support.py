"""Helpers for tests that prove the hidden checks grade well."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterable
from types import ModuleType
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


# ---- the student-style implementations of the check tests ----------------------------------------


def check_test_modules(exclude: str = "") -> list[ModuleType]:
    """The test modules of this package and its subpackages (one per notebook section), in
    file-name order (every pytest-xdist worker must collect the same list), except the module
    named `exclude` (the caller)."""
    package = importlib.import_module(__name__.rpartition(".")[0])
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if info.name.rpartition(".")[2].startswith("test_") and info.name != exclude
    ]


def implementations(assertion: str, listed: str, *, exclude: str = "") -> list[tuple[str, Any]]:
    """(name, fn) of the implementations in the test modules under tests/course/checks/ (but
    `exclude`): the module-level list `listed` (entries start with name, fn), and the `fn`
    parameters of the tests that call `assertion`("name", fn, ...)."""
    call = re.compile(rf'{assertion}\("(\w+)", fn\b')
    found: list[tuple[str, Any]] = []
    for module in check_test_modules(exclude):
        found += [(entry[0], entry[1]) for entry in getattr(module, listed, [])]
        for attr, obj in vars(module).items():
            if not attr.startswith("test_") or not callable(obj):
                continue
            match = call.search(inspect.getsource(obj))
            if not match:
                continue
            for mark in getattr(obj, "pytestmark", []):
                if mark.name != "parametrize":
                    continue
                names = mark.args[0]
                names = [n.strip() for n in (names.split(",") if isinstance(names, str) else names)]
                if "fn" not in names:
                    continue
                index = names.index("fn")
                for param in mark.args[1]:
                    values = param.values if hasattr(param, "values") else param
                    fn = values[index] if len(names) > 1 else values
                    if len(names) == 1 and isinstance(fn, tuple | list):
                        fn = fn[0]
                    found.append((match.group(1), fn))
    return found


def implementation_id(name: str, fn: Any) -> str:
    """A test id for implementation `fn` of graded function `name`."""
    return f"{name}-{getattr(fn, '__name__', 'fn')}"
