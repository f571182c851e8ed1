"""Benchmark feedback generation: nbconvert's HTMLExporter against FeedbackHTMLExporter.

``autograder feedback`` (and ``grade`` after grading) runs ``nbgrader generate_feedback``
with the course's preprocessors. This times it, on one graded course, with nbconvert's own
``HTMLExporter`` and with :class:`autograder.pipeline.feedback_html.FeedbackHTMLExporter`,
alternating (``--repeats`` rounds, the order swapped every round), and prints the median
wall-clock seconds per run and per page, and the ratio. It also checks that the two sets of
pages agree: each page of ours, read back by BeautifulSoup, must be nbconvert's page byte for
byte (its exporter writes what BeautifulSoup serialises).

The course: ``--course-dir`` (a course with graded submissions), or by default a new
``autograder demo`` course in a temporary folder (five graded example submissions, 20 pages;
building and grading it takes about a minute, not counted). ``--copies N`` adds N - 1 copies
of every graded student (``<student>-copy<k>``: the submission and its autograded notebooks,
gradebook rows through nbgrader's API) so that a run has more pages, as a class would.

Usage: ``python benchmarks/bench_feedback.py [--course-dir DIR] [--copies 1] [--repeats 3]
[--workers N]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bs4 import BeautifulSoup

from autograder.pipeline import feedback
from autograder.pipeline.course import open_course

NBCONVERT = "nbconvert.exporters.HTMLExporter"
EXPORTERS = {"nbconvert": NBCONVERT, "ours": feedback.FEEDBACK_EXPORTER}


def demo_course(folder: Path) -> Path:
    """A demo course with five graded example submissions, made by `autograder demo`."""
    root = Path(__file__).resolve().parents[1]
    course = folder / "course"
    print(f"building and grading a demo course in {course} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "autograder.cli", "demo", "--workdir", str(course), "--no-progress"],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return course


def add_copies(course_dir: Path, copies: int) -> None:
    """Copy every graded student's submission and autograded notebooks `copies` - 1 times,
    with their gradebook rows (nbgrader's Gradebook API), as new students."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    warnings.simplefilter("ignore", SAWarning)  # nbgrader's API, creating the new rows
    course = open_course(course_dir)
    students = course.students_autograded()
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in students:
            for k in range(1, copies):
                name = f"{student}-copy{k}"
                for kind in ("submitted", "autograded"):
                    src = course_dir / kind / student
                    if src.is_dir():
                        shutil.copytree(src, course_dir / kind / name, dirs_exist_ok=True)
                gb.update_or_create_student(name)
                gb.update_or_create_submission(course.assignment, name)  # with empty rows
                for notebook in gb.find_submission(course.assignment, student).notebooks:
                    where = (notebook.name, course.assignment, name)
                    for grade in notebook.grades:
                        row = gb.find_grade(grade.name, *where)
                        row.auto_score, row.manual_score = grade.auto_score, grade.manual_score
                    for comment in notebook.comments:
                        gb.find_comment(comment.name, *where).auto_comment = comment.auto_comment
            gb.db.commit()


def pages(course_dir: Path) -> dict[str, str]:
    root = course_dir / "feedback"
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*.html"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--course-dir", type=Path, help="a course with graded submissions")
    parser.add_argument("--copies", type=int, default=1, help="copies of each student (>= 1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (>= 1)")
    parser.add_argument("--workers", type=int, default=None, help="nbgrader processes at once")
    args = parser.parse_args(argv)
    if args.copies < 1 or args.repeats < 1:
        parser.error("--copies and --repeats must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-feedback-") as tmp:
        course_dir = args.course_dir or demo_course(Path(tmp))
        if args.copies > 1:
            add_copies(course_dir, args.copies)
        students = open_course(course_dir).students_autograded()
        times: dict[str, list[float]] = {name: [] for name in EXPORTERS}
        made: dict[str, dict[str, str]] = {}
        for round_ in range(args.repeats):
            order = list(EXPORTERS) if round_ % 2 == 0 else list(EXPORTERS)[::-1]
            for name in order:
                started = time.perf_counter()
                result = feedback.generate(
                    course_dir, workers=args.workers, exporter=EXPORTERS[name]
                )
                times[name].append(time.perf_counter() - started)
                if result.withheld:
                    print(f"{name}: pages withheld: {result.withheld}")
                made[name] = pages(course_dir)
        theirs, ours = made["nbconvert"], made["ours"]
        assert theirs.keys() == ours.keys(), sorted(set(theirs) ^ set(ours))
        differ = [p for p in theirs if str(BeautifulSoup(ours[p], "html.parser")) != theirs[p]]
        n = len(theirs)
        print(f"{len(students)} students, {n} pages, {args.repeats} round(s)")
        median = {name: statistics.median(t) for name, t in times.items()}
        for name, seconds in median.items():
            print(f"  {name:9s} {seconds:7.2f} s per run   {seconds / n:6.3f} s per page")
        print(f"  ratio     {median['ours'] / median['nbconvert']:.3f} (ours / nbconvert)")
        print(f"  pages equal up to serialisation: {n - len(differ)} of {n}")
        if differ:
            print("  differ: " + ", ".join(differ[:5]))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
