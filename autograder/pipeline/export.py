"""`autograder export`: grades as a CSV, one JSON record and one Gradescope file per student.

Files written under ``<course>/exports/<assignment>/``:

- ``grades.csv``: one row per student; the columns are ``student``, one column per graded
  item (its grade id, in notebook order; prefixed ``<notebook>/`` only if two notebooks
  share a grade id), one ``<notebook> total`` column per notebook, ``total``,
  ``max_total`` and ``status``. A manually graded item not graded yet is an empty cell.
- ``records/<student>.json``: the student's :class:`SubmissionRecord` (its stable JSON form).
- ``gradescope/<student>/results.json``: the Gradescope autograder results format: ``score``,
  ``execution_time``, ``output`` and one test per graded item with ``name``, ``score``,
  ``max_score``, ``status``, ``output`` (the first lines of its feedback) and
  ``visibility`` "after_published".

Scores come from the records; when a record was imported into the gradebook, each item's
score is taken from the gradebook instead, so that manual grades and score overrides made
in formgrader are exported.
"""

from __future__ import annotations

import copy
import csv
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import Course, PipelineError, open_course
from .records import ItemRecord, NotebookRecord, SubmissionRecord, load_records

GRADESCOPE_VISIBILITY = "after_published"
"""When students see each Gradescope test: after the instructor publishes the grades."""

OUTPUT_LINES = 5
"""How many lines of an item's feedback go into its Gradescope ``output``."""

TOTAL_SUFFIX = " total"


@dataclass(frozen=True)
class Column:
    """One graded item column of grades.csv."""

    notebook: str
    grade_id: str
    header: str
    max_points: float


@dataclass(frozen=True)
class ExportPaths:
    csv: Path
    records: list[Path]
    gradescope: list[Path]


# ---------------------------------------------------------------------------------------------
# The items of the assignment, in notebook order


def _graded_cells(path: Path) -> list[tuple[str, float]]:
    nb = nbformat.read(str(path), as_version=4)
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") or meta.get("task"):
            out.append((meta["grade_id"], float(meta.get("points", 0) or 0)))
    return out


def item_columns(course: Course | None, records: Sequence[SubmissionRecord]) -> list[Column]:
    """Graded item columns in notebook order: the release's, then any only the records know."""
    pairs: list[tuple[str, str, float]] = []
    seen: set[tuple[str, str]] = set()
    if course is not None:
        for path in course.release_notebooks():
            for grade_id, points in _graded_cells(path):
                pairs.append((path.stem, grade_id, points))
                seen.add((path.stem, grade_id))
    for record in records:
        for nb in record.notebooks:
            for item in nb.items:
                if (nb.name, item.grade_id) not in seen:
                    seen.add((nb.name, item.grade_id))
                    pairs.append((nb.name, item.grade_id, item.max_points))
    pairs = _stable_group(pairs)  # notebooks together, in name order (nbgrader's order)
    counts: dict[str, int] = {}
    for _, grade_id, _ in pairs:
        counts[grade_id] = counts.get(grade_id, 0) + 1
    return [
        Column(nb, gid, gid if counts[gid] == 1 else f"{nb}/{gid}", pts) for nb, gid, pts in pairs
    ]


def _stable_group(pairs: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """`pairs` grouped by notebook (notebooks sorted by name), item order kept within each."""
    notebooks = sorted({nb for nb, _, _ in pairs})
    return [p for nb in notebooks for p in pairs if p[0] == nb]


# ---------------------------------------------------------------------------------------------
# Scores from the gradebook (manual grades, overrides)


def with_gradebook_scores(
    course: Course, records: Sequence[SubmissionRecord]
) -> list[SubmissionRecord]:
    """Copies of `records` whose item points are the gradebook's scores where it has them.

    Only records marked ``imported`` are updated (the others never reached the gradebook).
    """
    db = course.root / "gradebook.db"
    wanted = [r for r in records if r.imported]
    if not wanted or not course.db_url.startswith("sqlite:///") or not db.exists():
        return [copy.deepcopy(r) for r in records]
    from nbgrader.api import Gradebook, MissingEntry

    out = []
    with Gradebook(course.db_url) as gb:
        for record in records:
            record = copy.deepcopy(record)
            if record.imported:
                try:
                    submission = gb.find_submission(record.assignment, record.student)
                except MissingEntry:
                    submission = None
                if submission is not None:
                    grades = {
                        (nb.name, g.name): g for nb in submission.notebooks for g in nb.grades
                    }
                    for nb in record.notebooks:
                        for item in nb.items:
                            grade = grades.get((nb.name, item.grade_id))
                            if grade is None:
                                continue
                            if grade.manual_score is None and grade.auto_score is None:
                                continue  # a manual item nobody graded yet
                            item.points = float(grade.score)
                        nb.recompute_score()
            out.append(record)
    return out


def gradebook_records(
    course: Course, students: Iterable[str] | None = None
) -> list[SubmissionRecord]:
    """Records built from the gradebook and autograded notebooks (plain `nbgrader autograde`).

    For courses graded without `autograder grade`: item status comes from the autograded
    notebook (an error output is "failed"), the message is the error's first line.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if not (course.root / "gradebook.db").exists():
        return []
    wanted = set(students) if students is not None else None
    out: list[SubmissionRecord] = []
    with Gradebook(course.db_url) as gb:
        try:
            assignment = gb.find_assignment(course.assignment)
        except MissingEntry:
            return []
        for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
            student = submission.student.id
            if wanted is not None and student not in wanted:
                continue
            notebooks = []
            for snb in sorted(submission.notebooks, key=lambda n: n.name):
                cells = _autograded_cells(course, student, snb.name)
                grades = {g.name: g for g in snb.grades}
                order = [gid for gid in cells if gid in grades]
                order += sorted(set(grades) - set(order))
                items = []
                for gid in order:
                    g = grades[gid]
                    cell = cells.get(gid)
                    manual = g.cell_type == "markdown" or (
                        cell is not None and cell.cell_type == "markdown"
                    )
                    graded = g.manual_score is not None or g.auto_score is not None
                    points = float(g.score) if graded else None
                    message = _first_error(cell) if cell is not None else ""
                    if manual:
                        status = "manual"
                    elif message:
                        status = "failed"
                    else:
                        status = "passed"
                    items.append(
                        ItemRecord(
                            gid,
                            points,
                            float(g.max_score),
                            status,
                            message,
                            kind="manual" if manual else "autograded",
                        )
                    )
                nb = NotebookRecord(name=snb.name, status="graded", items=items)
                nb.recompute_score()
                notebooks.append(nb)
            record = SubmissionRecord(
                student=student,
                assignment=course.assignment,
                status="graded",
                notebooks=notebooks,
                imported=True,
            )
            out.append(record)
    return out


def _autograded_cells(course: Course, student: str, notebook: str) -> dict:
    path = course.autograded_dir(student) / f"{notebook}.ipynb"
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:
        return {}
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    }


def _first_error(cell: nbformat.NotebookNode) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
            return text.strip().splitlines()[0] if text.strip() else "error"
    return ""


# ---------------------------------------------------------------------------------------------
# Writers


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def write_csv(path: Path, columns: Sequence[Column], records: Sequence[SubmissionRecord]) -> Path:
    notebooks = list(dict.fromkeys(c.notebook for c in columns))
    header = [
        "student",
        *(c.header for c in columns),
        *(f"{nb}{TOTAL_SUFFIX}" for nb in notebooks),
        "total",
        "max_total",
        "status",
    ]
    max_total = sum(c.max_points for c in columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for record in sorted(records, key=lambda r: r.student):
            items = record.items()
            row = [record.student]
            totals = dict.fromkeys(notebooks, 0.0)
            for col in columns:
                item = items.get(f"{col.notebook}/{col.grade_id}")
                points = item.points if item is not None else 0.0
                row.append(_fmt(points))
                totals[col.notebook] += points or 0.0
            row += [_fmt(totals[nb]) for nb in notebooks]
            row += [_fmt(sum(totals.values())), _fmt(max_total), record.status]
            writer.writerow(row)
    return path


def feedback_messages(course: Course, student: str) -> dict[tuple[str, str], str]:
    """(notebook, grade id) -> the full error message of that cell in the autograded notebook."""
    out: dict[tuple[str, str], str] = {}
    folder = course.autograded_dir(student)
    for path in sorted(folder.glob("*.ipynb")):
        for grade_id, cell in _autograded_cells(course, student, path.stem).items():
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                    out[(path.stem, grade_id)] = text.strip()
                    break
    return out


def gradescope_results(
    record: SubmissionRecord, messages: dict[tuple[str, str], str] | None = None
) -> dict:
    """The Gradescope results.json content of one record.

    `messages` (from :func:`feedback_messages`) gives each failed item's full feedback;
    without it the record's first line is used.
    """
    messages = messages or {}
    tests = []
    for nb in record.notebooks:
        for item in nb.items:
            text = item.message
            if item.status != "passed":
                text = messages.get((nb.name, item.grade_id), text)
            lines = [line for line in text.splitlines() if line.strip()]
            if item.status == "manual" and item.points is None:
                lines = ["graded by hand: not graded yet", *lines]
            elif item.status == "not_run":
                lines = lines or [f"not run ({nb.status})"]
            if item.status in ("not_run", "failed"):
                shown = "\n".join(lines)
                lines += [f"notebook {nb.name}: {r}" for r in nb.reasons[:2] if r not in shown]
            test = {
                "name": f"{nb.name}: {item.grade_id}",
                "score": float(item.points or 0.0),
                "max_score": float(item.max_points),
                "output": "\n".join(lines[:OUTPUT_LINES]),
                "visibility": GRADESCOPE_VISIBILITY,
            }
            if item.status in ("passed", "failed", "not_run"):
                test["status"] = "passed" if item.status == "passed" else "failed"
            tests.append(test)
    summary = [f"{nb.name}: {nb.score:g}/{nb.max_score:g} ({nb.status})" for nb in record.notebooks]
    summary += record.reasons
    return {
        "score": float(sum(t["score"] for t in tests)),
        "execution_time": round(float(record.seconds)),
        "output": "\n".join(summary),
        "visibility": GRADESCOPE_VISIBILITY,
        "tests": tests,
    }


def write(
    course_dir: str | os.PathLike[str],
    records: Sequence[SubmissionRecord],
    *,
    assignment: str | None = None,
    use_gradebook: bool = True,
) -> ExportPaths:
    """Write grades.csv, records/<student>.json and gradescope/<student>/results.json into
    ``exports/<assignment>/`` (default: the records' assignment)."""
    if assignment is None:
        assignment = next((r.assignment for r in records), None)
    course = open_course(course_dir, assignment)
    if use_gradebook:
        records = with_gradebook_scores(course, records)
    records = sorted(records, key=lambda r: r.student)
    out_dir = course.exports_dir
    columns = item_columns(course, records)
    csv_path = write_csv(out_dir / "grades.csv", columns, records)
    record_paths, gradescope_paths = [], []
    for record in records:
        path = out_dir / "records" / f"{record.student}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record.to_json() + "\n", encoding="utf-8")
        record_paths.append(path)
        gs = out_dir / "gradescope" / record.student / "results.json"
        gs.parent.mkdir(parents=True, exist_ok=True)
        results = gradescope_results(record, feedback_messages(course, record.student))
        gs.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        gradescope_paths.append(gs)
    return ExportPaths(csv_path, record_paths, gradescope_paths)


def course_records(course: Course) -> list[SubmissionRecord]:
    """The grading records of a course: `autograder grade`'s, else built from the gradebook."""
    records = with_gradebook_scores(course, load_records(course.root, course.assignment))
    have = {r.student for r in records}
    extra = [r for r in gradebook_records(course) if r.student not in have]
    return sorted([*records, *extra], key=lambda r: r.student)


def main(*, course_dir: str | os.PathLike[str] = ".", assignment: str | None = None) -> int:
    """`autograder export`: export the latest grades (including formgrader's manual grades)."""
    course = open_course(course_dir, assignment)
    records = course_records(course)
    if not records:
        raise PipelineError(f"nothing to export in {course.root}: run `autograder grade` first")
    paths = write(course.root, records, assignment=course.assignment)
    print(f"exported {len(records)} student(s):")
    print(f"  {paths.csv}")
    print(f"  {paths.csv.parent / 'records'}/<student>.json")
    print(f"  {paths.csv.parent / 'gradescope'}/<student>/results.json")
    return 0
