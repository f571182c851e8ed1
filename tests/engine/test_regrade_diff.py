"""Regrading by difference (`grade --regrade --dry-run / --apply / --never-lower`).

A tiny course is graded; then a hidden check gets stricter (its test cell is changed and the
assignment generated again, so the gradebook's trusted copy changes). The dry run writes each
student's old and new points and a summary, and changes neither the gradebook nor the
records. `--never-lower` and `--apply` then import what the dry run graded without executing
it again: the first keeps the earlier, higher points, the second writes the lower ones.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autograder.pipeline import grade as grade_mod
from autograder.pipeline.records import SubmissionRecord, records_dir
from autograder.pipeline.regrade import gradebook_points, pending_dir
from tests.engine.test_pipeline_grade import grade_quietly
from tests.engine.tiny_course import (
    ASSIGNMENT,
    NOTEBOOK,
    WRONG_PRUNE,
    _nbgrader,
    filled,
    make_course,
    submit,
)

pytestmark = pytest.mark.slow

STRICTER = "test_barrier_height_basic"
KEY = f"{NOTEBOOK}/{STRICTER}"


def _grade(course: Path, lines: list[str], **kwargs) -> list[SubmissionRecord]:
    return grade_quietly(course, workers=2, out=lines.append, **kwargs)


def _make_check_stricter(course: Path) -> None:
    path = course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == STRICTER:
            cell["source"] = (
                "### BEGIN HIDDEN TESTS\nassert False, 'stricter'\n### END HIDDEN TESTS"
            )
    path.write_text(json.dumps(nb))
    done = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr


def test_dry_run_then_never_lower_then_apply(tmp_path: Path) -> None:
    course = make_course(tmp_path)
    submit(course, "ada", {f"{NOTEBOOK}.ipynb": filled(course)})
    submit(course, "bob", {f"{NOTEBOOK}.ipynb": filled(course, prune_count=WRONG_PRUNE)})
    submit(course, "cy", {f"{NOTEBOOK}.ipynb": filled(course)})
    students = ["ada", "bob", "cy"]
    first = {r.student: r for r in _grade(course, [])}
    assert {s: r.score for s, r in first.items()} == {"ada": 6.0, "bob": 3.0, "cy": 6.0}
    db = f"sqlite:///{course / 'gradebook.db'}"
    before = gradebook_points(db, ASSIGNMENT, students)
    saved = {p.name: p.read_bytes() for p in records_dir(course, ASSIGNMENT).glob("*.json")}

    _make_check_stricter(course)
    lines: list[str] = []
    dry = {r.student: r for r in _grade(course, lines, regrade=True, dry_run=True)}
    assert {s: r.score for s, r in dry.items()} == {"ada": 5.0, "bob": 2.0, "cy": 5.0}
    # nothing written but the table and the pending records
    assert gradebook_points(db, ASSIGNMENT, students) == before
    assert {p.name: p.read_bytes() for p in records_dir(course, ASSIGNMENT).glob("*.json")} == saved
    assert sorted(p.stem for p in pending_dir(course, ASSIGNMENT).glob("*.json")) == students
    with open(course / "exports" / ASSIGNMENT / "regrade.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["student"], r["item"], r["old"], r["new"], r["change"]) for r in rows] == [
        (s, KEY, "1.0", "0.0", "-1.0") for s in students
    ]
    assert "regrade: 3 of 3 student(s) would change total (0 up, 3 down)" in lines
    assert f"  {KEY}: 3 student(s)" in lines

    # --never-lower for ada: the dry run's record is imported (not executed again), and the
    # earlier point is kept as a manual score
    lines.clear()
    (kept,) = _grade(course, lines, students=["ada"], never_lower=True)
    assert kept.started == dry["ada"].started and kept.imported
    assert kept.score == 6.0 and "kept the earlier 1" in kept.items()[KEY].message
    assert gradebook_points(db, ASSIGNMENT, ["ada"])["ada"][KEY] == 1.0
    assert "regrade: 0 of 1 student(s) changed total (0 up, 0 down)" in lines

    # --apply for everyone: bob and cy imported from the dry run, ada's record kept as is
    lines.clear()
    applied = {r.student: r for r in _grade(course, lines, regrade=True, apply=True)}
    assert applied["ada"].started == kept.started
    assert all(applied[s].started == dry[s].started for s in ("bob", "cy"))
    after = gradebook_points(db, ASSIGNMENT, students)
    assert {s: after[s][KEY] for s in students} == {"ada": 1.0, "bob": 0.0, "cy": 0.0}
    assert {s: r.score for s, r in applied.items()} == {"ada": 6.0, "bob": 2.0, "cy": 5.0}
    assert "regrade: 2 of 3 student(s) changed total (0 up, 2 down)" in lines
    assert not list(pending_dir(course, ASSIGNMENT).glob("*.json"))


def test_dry_run_refuses_to_write() -> None:
    with pytest.raises(grade_mod.GradingError, match="only reports"):
        grade_mod.main(course_dir=".", dry_run=True, apply=True)
