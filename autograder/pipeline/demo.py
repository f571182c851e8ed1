"""`autograder demo`: the whole pipeline on built-in example submissions, in a temporary course.

Copies the course's config and source into a new course dir, builds the release (source
checks, generation, leak check), writes five example submissions, grades them (in
parallel, under limits), generates feedback, exports grades and writes the report. Then it
prints the grade table and where everything is. The example submissions, named by their
expected outcome, are made from whatever notebooks the course has:

- ``reference``: the source's answers (full marks, manual items still to grade);
- ``blank``: the release as it is (zero);
- ``partial``: the first half of each notebook's code answers (some points);
- ``timeout``: the reference, with the last function of the first notebook that has one
  looping forever (that notebook is stopped at the wall limit; the cells after it score 0);
- ``corrupted``: the first notebook is not valid JSON (graded as the blank release and
  recorded as ``invalid_json``), the others are the reference.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from . import examples
from .course import Course, PipelineError, copy_course, open_course

DEMO_TIMEOUT_SECONDS = 12.0
"""Default wall limit per notebook in the demo: grading runs no demonstration cells, so a
solved notebook takes seconds (at most 8 s on a loaded 2-core machine); the endless example
should not make everyone wait long."""

EXAMPLES = ("reference", "blank", "partial", "timeout", "corrupted")
_TIMESTAMP = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def write_examples(course: Course, out: Callable[[str], None] = print) -> list[str]:
    """Write the example submissions into `course`'s submitted/; returns the student ids."""
    release = course.release_notebooks()
    if not release:
        raise PipelineError(f"no release in {course.release_dir}")
    looped = False
    for student in EXAMPLES:
        folder = course.submitted_dir(student)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "timestamp.txt").write_text(_TIMESTAMP.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    for index, path in enumerate(release):
        release_nb = nbformat.read(str(path), as_version=4)
        source_nb = nbformat.read(str(course.source_dir / path.name), as_version=4)
        reference = examples.reference_submission(release_nb, source_nb)
        notebooks = {
            "reference": reference,
            "blank": release_nb,
            "partial": examples.partial_submission(release_nb, source_nb),
            "timeout": reference,
            "corrupted": reference,
        }
        if not looped:
            looping, grade_id = examples.looping_submission(release_nb, source_nb)
            if grade_id is not None:
                notebooks["timeout"] = looping
                looped = True
                out(f"timeout example: `{grade_id}` in {path.name} loops forever")
        for student, nb in notebooks.items():
            nbformat.write(nb, str(course.submitted_dir(student) / path.name))
        if index == 0:
            (course.submitted_dir("corrupted") / path.name).write_text(
                examples.corrupted_text(release_nb), encoding="utf-8"
            )
    if not looped:
        out("note: no stub function to make loop; the timeout example is the reference")
    return list(EXAMPLES)


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    workdir: str | os.PathLike[str] | None = None,
    timeout: float = DEMO_TIMEOUT_SECONDS,
    workers: int | None = None,
    progress: bool = True,
    assignment: str | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """Run the demo; the temporary course stays in `workdir` (default: a new temp dir)."""
    from . import build, report
    from .grade import default_executor
    from .grade import main as grade_main
    from .limits import Limits
    from .warm import warm_up

    source = open_course(course_dir, assignment)
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="autograder-demo-"))
    if root.exists() and any(root.iterdir()):
        raise PipelineError(f"{root} is not empty: give an empty or new --workdir")
    course = copy_course(source, root, release=False)
    out(f"demo course: {course.root}")
    # the build uses one core: meanwhile the grading workers import the checks and start
    # their zygotes on the other(s). By default one worker more than cores: one of them
    # spends the wall limit waiting on the endless example.
    pool_size = max(1, min(workers or (os.cpu_count() or 1) + 1, len(EXAMPLES)))
    pool: cf.Executor | None = default_executor(pool_size, str(course.spec.path))
    for _ in range(pool_size):  # the pool starts its processes as tasks come
        pool.submit(warm_up, str(course.spec.path))

    def executor_factory(n: int) -> cf.Executor:
        nonlocal pool
        ready, pool = pool, None
        return ready if ready is not None else default_executor(n)  # a retry: a fresh pool

    try:
        out("1. build: check the source, generate the release, leak check")
        build.main(
            course_dir=course.root, assignment=course.assignment, out=lambda s: out(f"   {s}")
        )
        out("2. example submissions: " + ", ".join(EXAMPLES))
        students = write_examples(course, out=lambda s: out(f"   {s}"))
        # the slowest first (it waits for the wall limit), so that the workers finish together
        students.sort(key=lambda student: student != "timeout")
        out(f"3. grade (wall limit {timeout:g} s per notebook), feedback, export")
        records = grade_main(
            course_dir=course.root,
            students=students,
            workers=pool_size,
            limits=Limits(wall_seconds=timeout),
            progress=progress,
            assignment=course.assignment,
            executor_factory=executor_factory,
            out=lambda s: out(f"   {s}"),
        )
    finally:
        if pool is not None:  # the build failed: nothing to grade
            pool.shutdown(cancel_futures=True)
    paths = report.write(course.root, records, assignment=course.assignment)
    out("")
    for line in report.grade_table(records):
        out(line)
    problems = [
        (r.student, nb.name, nb.status, "; ".join(nb.reasons))
        for r in records
        for nb in r.notebooks
        if nb.status != "graded"
    ]
    if problems:
        out("")
        out("notebooks not graded as submitted:")
        for student, name, status, why in problems:
            out(f"  {student} {name}: {status}{' - ' + why if why else ''}")
    out("")
    out(f"report:    {paths.html}")
    out(f"grades:    {course.exports_dir / 'grades.csv'}")
    out(f"feedback:  {course.feedback_root}")
    out(
        f"gradebook: {course.root / 'gradebook.db'} (open formgrader with "
        f"`cd {course.root} && jupyter lab`)"
    )
    return 0
