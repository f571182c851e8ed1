"""`autograder selfcheck`: the reference against the hidden checks, in seconds.

For one assignment it prints

1. the facts of the assignment's own self-check module (``[checks] selfcheck`` in its spec:
   a module of its checks package with ``worked_examples() -> list[Fact]``, for example the
   course text's worked examples recomputed by the reference), and
2. for every graded item, that the reference (the item of the same name in the spec's
   reference package) passes every part and the released stub (a function raising
   ``NotImplementedError``, or None for a graded value) fails every part;

and exits non-zero on any problem.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from autograder.checks import registry
from autograder.errors import SpecError


@dataclass(frozen=True)
class Fact:
    """One verified statement: what was computed, what the course says, whether they agree."""

    label: str
    got: object
    expected: object
    ok: bool


@dataclass(frozen=True)
class RegistryRow:
    name: str
    parts: int
    reference_ok: bool
    stub_rejected: bool
    detail: str


def reference_of(name: str, assignment: str | None = None) -> Any:
    """The reference of a graded item: the attribute `name` of the reference package."""
    spec = registry.spec_of(assignment)
    if not spec.reference_package:
        raise SpecError(f"{spec.path}: no [reference] package to check the hidden checks with")
    package = importlib.import_module(spec.reference_package)
    try:
        return getattr(package, name)
    except AttributeError:
        raise SpecError(
            f"the reference package {spec.reference_package!r} has no {name!r}: every graded "
            "item must be importable from it by its name"
        ) from None


def _stub_function(*args: object, **kwargs: object) -> object:
    raise NotImplementedError()


def stub_of(name: str, reference: Any, assignment: str | None = None) -> Any:
    """What the release holds for a graded item: a function raising NotImplementedError, or
    None for a value (a dict value: its keys mapped to None)."""
    if registry.lookup(name, assignment).kind == "value":
        return dict.fromkeys(reference) if isinstance(reference, dict) else None
    return _stub_function


def registry_rows(
    assignment: str | None = None, progress: Callable[[str], None] | None = None
) -> list[RegistryRow]:
    """For every graded item: the reference passes every part, the stub fails every part."""
    rows = []
    for name in registry.graded_functions(assignment):
        if progress:
            progress(name)
        reference = reference_of(name, assignment)
        stub = stub_of(name, reference, assignment)
        detail = ""
        ref_ok = stub_rejected = True
        part_names = registry.parts(name, assignment)
        for part in part_names:
            try:
                registry.check_function(name, reference, part=part, assignment=assignment)
            except AssertionError as exc:
                ref_ok = False
                detail = f"reference fails {part}: {str(exc).splitlines()[0]}"
            try:
                registry.check_function(name, stub, part=part, assignment=assignment)
                stub_rejected = False
                detail = detail or f"stub passes {part}"
            except AssertionError:
                pass
        rows.append(RegistryRow(name, len(part_names), ref_ok, stub_rejected, detail))
    return rows


def course_facts(assignment: str | None = None) -> list[Fact]:
    """The facts of the assignment's self-check module ([] when it has none)."""
    spec = registry.spec_of(assignment)
    if not spec.selfcheck:
        return []
    module = importlib.import_module(f"{spec.checks_package}.{spec.selfcheck}")
    return list(module.worked_examples())


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    assignment: str | None = None,
    verbose: bool = True,
    out: TextIO | None = None,
) -> int:
    """Run the self-check, print a report, and return the exit code (0 = all good)."""
    from .course import open_course

    out = out or sys.stdout
    start = time.perf_counter()
    course = open_course(course_dir, assignment)
    spec = registry.load(course.spec)
    facts = course_facts(spec.id)
    if facts:
        out.write("Facts of the assignment's self-check, recomputed by the reference\n")
        width = max(len(f.label) for f in facts)
        for f in facts:
            out.write(
                f"  {'ok  ' if f.ok else 'FAIL'} {f.label:<{width}}  got {f.got}  "
                f"(expected: {f.expected})\n"
            )
        out.write("\n")
    out.write("Hidden-check registry: reference passes every part, stub fails every part\n")

    def progress(name: str) -> None:
        if verbose:
            out.write(f"  checking {name} ...\r")
            out.flush()

    rows = registry_rows(spec.id, progress)
    width = max(len(r.name) for r in rows) if rows else 10
    for r in rows:
        status = "ok  " if (r.reference_ok and r.stub_rejected) else "FAIL"
        out.write(
            f"  {status} {r.name:<{width}}  {r.parts} parts{'  ' + r.detail if r.detail else ''}\n"
        )
    n_parts = sum(r.parts for r in rows)
    bad = [f for f in facts if not f.ok] + [
        r for r in rows if not (r.reference_ok and r.stub_rejected)
    ]
    out.write(
        f"\nAssignment {spec.id!r}: verified {len(facts)} facts and {len(rows)} graded items "
        f"({n_parts} hidden-check parts) in {time.perf_counter() - start:.1f} s: "
        f"{'all good' if not bad else f'{len(bad)} problem(s)'}\n"
    )
    return 0 if not bad else 1
