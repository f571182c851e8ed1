"""`autograder validate`: the solutions score full marks, the stubs zero, in time.

In a temporary course dir (the course's config and source; the release regenerated there
so that its gradebook knows the assignment), two submissions are graded with the grading
pipeline (`autograder grade`'s machinery, limits included):

- ``solution``: the released notebooks with every answer cell taken from the source;
- ``stub``: the course's release as it is (what students get).

Per notebook it prints the autograded score of both and the solution's execution time,
and fails (exit code 1) when a solution loses an autograded point, a stub earns one, a
notebook is over its time budget, or a notebook could not be graded as submitted.
Manually graded items are not counted. It also warns when the course's release differs
from a freshly generated one (rebuild with `autograder build`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import examples
from .course import PipelineError, copy_course, open_course

"""A solution notebook must run top to bottom within this many seconds (2-core CPU)."""

SOLUTION, STUB = "solution", "stub"


@dataclass(frozen=True)
class NotebookCheck:
    notebook: str
    solution_points: float
    stub_points: float
    max_points: float
    seconds: float
    solution_status: str
    stub_status: str
    problems: tuple[str, ...]


def _autograded(nb_record) -> tuple[float, float]:
    items = [i for i in nb_record.items if i.kind != "manual"]
    return sum(i.points or 0.0 for i in items), sum(i.max_points for i in items)


def _same_release(a: Path, b: Path) -> list[str]:
    """Notebooks that differ between two release folders (sources only, not metadata)."""
    out = []
    for path in sorted(a.glob("*.ipynb")):
        other = b / path.name
        if not other.exists():
            out.append(f"{path.name} is not in the regenerated release")
            continue
        x = [c.source for c in nbformat.read(str(path), as_version=4).cells]
        y = [c.source for c in nbformat.read(str(other), as_version=4).cells]
        if x != y:
            out.append(f"{path.name} differs from the regenerated release")
    out += [
        f"{p.name} is missing from the release"
        for p in sorted(b.glob("*.ipynb"))
        if not (a / p.name).exists()
    ]
    return out


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    budget_seconds: float | None = None,
    timeout: float | None = None,
    workers: int = 2,
    keep: bool = False,
    assignment: str | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """Grade the solutions and the stubs; 0 if all is well, 1 otherwise.

    `budget_seconds` defaults to the assignment spec's ``budget_seconds``. `timeout` is the
    wall limit per notebook (default: twice the budget, at least 120 s), so a notebook over
    budget still finishes and its time is reported.
    """
    from .build import generate_release
    from .grade import main as grade_main
    from .limits import Limits

    course = open_course(course_dir, assignment)
    if budget_seconds is None:
        budget_seconds = course.spec.budget_seconds
    if not course.release_notebooks():
        raise PipelineError(f"no release in {course.release_dir}: run `autograder build` first")
    work = Path(tempfile.mkdtemp(prefix="autograder-validate-"))
    try:
        tmp = copy_course(course, work / "course", release=False)
        out(f"generating the release in a temporary course ({work}) ...")
        generate_release(tmp)
        for warning in _same_release(course.release_dir, tmp.release_dir):
            out(f"warning: {warning} (run `autograder build`)")
        for path in course.release_notebooks():
            release_nb = nbformat.read(str(path), as_version=4)
            source_nb = nbformat.read(str(course.source_dir / path.name), as_version=4)
            for student, nb in (
                (SOLUTION, examples.reference_submission(release_nb, source_nb)),
                (STUB, release_nb),
            ):
                folder = tmp.submitted_dir(student)
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, str(folder / path.name))
        limit = timeout or max(2 * budget_seconds, 120.0)
        out(f"grading the solutions and the stubs (wall limit {limit:g} s per notebook) ...")
        records = grade_main(
            course_dir=tmp.root,
            students=[SOLUTION, STUB],
            workers=workers,
            limits=Limits(wall_seconds=limit),
            progress=False,
            feedback=False,
            export=False,
            assignment=tmp.assignment,
            fixed_cases=True,  # what a student's machine checks: no course secret there
            full=True,  # the budget is for the whole notebook, demonstrations included
            warm=False,  # and for a student's own kernel, which imports everything itself
            out=None,
        )
        by_student = {r.student: r for r in records}
        checks = _checks(by_student, budget_seconds)
        for line in _table(checks, budget_seconds):
            out(line)
        failed = [p for c in checks for p in c.problems]
        for student, record in by_student.items():
            failed += [f"{student}: {reason}" for reason in record.reasons]
        if failed:
            out(f"FAILED ({len(failed)} problem(s)):")
            for problem in failed:
                out(f"  - {problem}")
            return 1
        out(
            f"ok: {len(checks)} notebook(s): solutions score full marks, stubs score zero, "
            f"each within {budget_seconds:g} s"
        )
        return 0
    finally:
        if keep:
            out(f"kept the temporary course: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _checks(by_student: dict, budget: float) -> list[NotebookCheck]:
    for student in (SOLUTION, STUB):
        if student not in by_student:
            raise PipelineError(f"the {student} submission was not graded")
    solution, stub = by_student[SOLUTION], by_student[STUB]
    stub_notebooks = {nb.name: nb for nb in stub.notebooks}
    out = []
    for nb in solution.notebooks:
        s_points, max_points = _autograded(nb)
        other = stub_notebooks.get(nb.name)
        t_points = _autograded(other)[0] if other is not None else 0.0
        problems = []
        if nb.status not in ("graded",):
            problems.append(
                f"{nb.name}: the solution was not graded as submitted: "
                f"{nb.status} {'; '.join(nb.reasons)}".rstrip()
            )
        lost = [i.grade_id for i in nb.items if i.kind != "manual" and i.status != "passed"]
        if s_points < max_points or lost:
            detail = "; ".join(f"{i.grade_id}: {i.message}" for i in nb.items if i.grade_id in lost)
            problems.append(
                f"{nb.name}: the solution scores {s_points:g}/{max_points:g} ({detail})"
            )
        if t_points > 0:
            earned = [
                i.grade_id
                for i in (other.items if other else [])
                if i.kind != "manual" and (i.points or 0) > 0
            ]
            problems.append(f"{nb.name}: the stub scores {t_points:g} ({', '.join(earned)})")
        if other is not None and other.status not in ("graded",):
            problems.append(f"{nb.name}: the stub was not graded as submitted: {other.status}")
        if nb.seconds > budget:
            problems.append(
                f"{nb.name}: the solution runs {nb.seconds:.1f} s, over the budget of {budget:g} s"
            )
        out.append(
            NotebookCheck(
                nb.name,
                s_points,
                t_points,
                max_points,
                nb.seconds,
                nb.status,
                other.status if other else "missing",
                tuple(problems),
            )
        )
    return out


def _table(checks: list[NotebookCheck], budget: float) -> list[str]:
    header = f"{'notebook':<28} {'solution':>10} {'stub':>6} {'seconds':>8}  verdict"
    lines = [header, "-" * len(header)]
    for c in checks:
        verdict = "ok" if not c.problems else "FAIL"
        lines.append(
            f"{c.notebook:<28} {f'{c.solution_points:g}/{c.max_points:g}':>10} "
            f"{c.stub_points:>6g} {c.seconds:>8.1f}  {verdict}"
        )
    lines.append(f"(autograded points only; time budget {budget:g} s per notebook)")
    return lines
