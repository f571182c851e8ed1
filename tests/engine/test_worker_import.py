"""The gradebook import on the workers (autograder.pipeline.worker_import).

Fast tests on a small gradebook made with nbgrader's API: the template keeps the assignment
and drops every student; a merge replaces exactly one student's rows, refuses rows that
changed since the job was made (a manual grade entered meanwhile) and rows of another
student. One slow test grades the tiny fixture course while a "formgrader" enters a manual
grade in the middle of the run: the coordinator imports that student itself, and the manual
grade stays. That the workers' rows equal the coordinator's own import for every example
submission is tested in test_pipeline_grade.py (test_workers_import_what_the_coordinator_imports).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from autograder.pipeline import grade as grade_mod
from autograder.pipeline.import_types import ImportKit
from autograder.pipeline.nbimport import _ensure_path
from autograder.pipeline.records import SubmissionRecord
from autograder.pipeline.worker import GradeJob
from autograder.pipeline.worker_import import (
    Graded,
    StaleRows,
    make_template,
    merge,
    sqlite_path,
    student_rows,
)
from tests.engine.tiny_course import ASSIGNMENT, NOTEBOOK, filled, make_course, submit


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new gradebook (made once: nbgrader runs `alembic` for a new one, seconds)."""
    from nbgrader.api import Gradebook

    _ensure_path()  # nbgrader runs `alembic` from PATH on a new gradebook
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}"):
        pass
    return path


@pytest.fixture
def gradebook(empty_gradebook: Path, tmp_path: Path) -> Callable[[list[str]], Path]:
    """Makes a gradebook with assignment "a" (notebook "n": a code cell q1 worth 2 and a
    written answer w1 worth 1) and a submission of each student, q1 auto-scored 1."""

    def make(students: list[str]) -> Path:
        path = tmp_path / "gradebook.db"
        shutil.copyfile(empty_gradebook, path)
        return _fill(path, students)

    return make


def _fill(path: Path, students: list[str]) -> Path:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("a")
        gb.add_notebook("n", "a")
        gb.add_grade_cell("q1", "n", "a", max_score=2, cell_type="code")
        gb.add_solution_cell("q1", "n", "a")
        gb.add_grade_cell("w1", "n", "a", max_score=1, cell_type="markdown")
        gb.add_solution_cell("w1", "n", "a")
        for student in students:
            gb.add_student(student)
            gb.add_submission("a", student)
            grade = gb.find_grade("q1", "n", "a", student)
            grade.auto_score = 1.0
            gb.db.commit()
    return path


def _rows(db: Path, student: str) -> dict[str, list[dict[str, Any]]]:
    con = sqlite3.connect(str(db))
    con.row_factory = sqlite3.Row
    try:
        return student_rows(con, "a", student)
    finally:
        con.close()


def _scores(db: Path) -> dict[tuple[str, str], tuple[Any, Any]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gb:
        return {
            (sub.student.id, g.name): (g.auto_score, g.manual_score)
            for sub in gb.assignment_submissions("a")
            for nb in sub.notebooks
            for g in nb.grades
        }


def test_the_template_has_the_assignment_and_no_students(
    gradebook: Callable[[list[str]], Path], tmp_path: Path
) -> None:
    db = gradebook(["s1", "s2"])
    template = make_template(db, tmp_path / "state" / "template.db")
    con = sqlite3.connect(str(template))
    try:
        count = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in (
            "assignment", "notebook", "grade_cells", "solution_cells", "student",
            "submitted_assignment", "submitted_notebook", "grade", "comment")}  # fmt: skip
    finally:
        con.close()
    assert count["assignment"] == count["notebook"] == 1
    assert count["grade_cells"] == count["solution_cells"] == 2
    assert count["student"] == count["submitted_assignment"] == count["grade"] == 0
    assert _scores(db)[("s1", "q1")] == (1.0, None)  # the gradebook itself untouched


def test_student_rows_are_one_students_submission(
    gradebook: Callable[[list[str]], Path], tmp_path: Path
) -> None:
    db = gradebook(["s1", "s2"])
    rows = _rows(db, "s1")
    assert [r["id"] for r in rows["student"]] == ["s1"]
    assert [r["student_id"] for r in rows["submitted_assignment"]] == ["s1"]
    assert len(rows["submitted_notebook"]) == 1 and len(rows["grade"]) == 2
    assert _rows(db, "nobody") == {
        "student": [],
        "submitted_assignment": [],
        "submitted_notebook": [],
        "grade": [],
        "comment": [],
    }


def _worker_rows(tmp_path: Path, db: Path, student: str, auto: float) -> dict[str, Any]:
    """What a worker returns: the student's rows imported again, on a private copy."""
    from nbgrader.api import Gradebook

    private = tmp_path / f"private-{student}.db"
    private.write_bytes(db.read_bytes())
    with Gradebook(f"sqlite:///{private}") as gb:
        gb.remove_submission("a", student)
        gb.add_submission("a", student)
        gb.find_grade("q1", "n", "a", student).auto_score = auto
        gb.db.commit()
    return _rows(private, student)


def test_merge_replaces_one_students_rows(
    gradebook: Callable[[list[str]], Path], tmp_path: Path
) -> None:
    db = gradebook(["s1", "s2"])
    before = _rows(db, "s1")
    after = _worker_rows(tmp_path, db, "s1", 2.0)
    merge(db, "a", "s1", before, after)
    scores = _scores(db)
    assert scores[("s1", "q1")] == (2.0, None)
    assert scores[("s2", "q1")] == (1.0, None)  # the other student untouched
    assert _rows(db, "s1") == after


def test_merge_refuses_rows_changed_meanwhile(
    gradebook: Callable[[list[str]], Path], tmp_path: Path
) -> None:
    """A manual grade entered after the job was made: the merge changes nothing."""
    from nbgrader.api import Gradebook

    db = gradebook(["s1"])
    before = _rows(db, "s1")
    after = _worker_rows(tmp_path, db, "s1", 2.0)
    with Gradebook(f"sqlite:///{db}") as gb:
        gb.find_grade("w1", "n", "a", "s1").manual_score = 0.5
        gb.db.commit()
    with pytest.raises(StaleRows):
        merge(db, "a", "s1", before, after)
    assert _scores(db)[("s1", "q1")] == (1.0, None)
    assert _scores(db)[("s1", "w1")] == (None, 0.5)


def test_merge_refuses_another_students_rows(
    gradebook: Callable[[list[str]], Path], tmp_path: Path
) -> None:
    db = gradebook(["s1", "s2"])
    before = _rows(db, "s1")
    theirs = _worker_rows(tmp_path, db, "s2", 2.0)
    with pytest.raises(ValueError, match="another student"):
        merge(db, "a", "s1", before, theirs)
    assert _rows(db, "s1") == before
    assert _scores(db)[("s2", "q1")] == (1.0, None)


def test_only_sqlite_gradebooks_are_imported_on_workers() -> None:
    assert sqlite_path("sqlite:////tmp/course/gradebook.db") == Path("/tmp/course/gradebook.db")
    assert sqlite_path("postgresql://grader@db/course") is None
    assert sqlite_path("sqlite:///") is None


class _Formgrader(ThreadPoolExecutor):
    """Runs the jobs in threads; before the first one starts, an instructor enters a manual
    grade for that student in the gradebook (as formgrader would, during the run)."""

    def __init__(self, workers: int, db: Path) -> None:
        super().__init__(max_workers=workers)
        self.db = db

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        from nbgrader.api import Gradebook

        job = args[0]
        with Gradebook(f"sqlite:///{self.db}") as gb:
            grade = gb.find_grade("explain_barrier", NOTEBOOK, ASSIGNMENT, job.student)
            grade.manual_score = 0.5
            gb.db.commit()
        return super().submit(fn, *args, **kwargs)


@pytest.mark.slow
def test_a_manual_grade_entered_during_the_run_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import Gradebook

    course = make_course(tmp_path)
    submit(course, "correct", {f"{NOTEBOOK}.ipynb": filled(course)})
    options: dict[str, Any] = {
        "progress": False,
        "feedback": False,
        "export": False,
        "out": None,
        "import_on_workers": True,  # one worker would leave the import here (auto)
    }
    first = grade_mod.main(course_dir=course, workers=1, **options)
    assert first[0].imported and first[0].phases.get("gradebook_rows")

    imports: list[str] = []
    own_import = grade_mod.import_submission

    def counted(*args: Any, **kwargs: Any) -> list[str]:
        imports.append(args[2])
        return own_import(*args, **kwargs)

    monkeypatch.setattr(grade_mod, "import_submission", counted)
    db = course / "gradebook.db"
    again = grade_mod.main(
        course_dir=course,
        students=["correct"],
        workers=1,
        force=True,
        executor_factory=lambda n: _Formgrader(n, db),
        **options,
    )
    assert again[0].imported and again[0].phases.get("gradebook_rows")
    assert imports == ["correct"]  # the worker's rows were stale: imported here instead
    with Gradebook(f"sqlite:///{db}") as gb:
        grade = gb.find_grade("explain_barrier", NOTEBOOK, ASSIGNMENT, "correct")
        assert grade.manual_score == 0.5
        assert gb.find_submission(ASSIGNMENT, "correct").score == pytest.approx(again[0].score)
    assert (course / "autograded" / "correct" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()


class _Recorder(Executor):
    """Runs nothing: records whether each submitted job carries an import kit."""

    def __init__(self, capacity: int, seen: list[bool]) -> None:
        self.capacity, self.seen = capacity, seen

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        job = args[0]
        self.seen.append(job.phase2 is not None)
        future: Future = Future()
        future.set_result(Graded(SubmissionRecord(job.student, job.assignment, "graded")))
        return future


@pytest.mark.parametrize(
    ("capacity", "setting", "kit_sent"),
    [
        (1, None, False),  # a core left over: the coordinator imports, overlapping the worker
        (4, None, True),  # the workers fill the cores: they import
        (1, True, True),
        (4, False, False),
    ],
)
def test_who_imports(
    capacity: int, setting: bool | None, kit_sent: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    kit = ImportKit(config=None, source_dir="/nowhere", template="/nowhere/t.db", rows={})
    job = GradeJob("s", "a", "/sub", "/rel", ("n",), {}, "/staging", phase2=kit)
    seen: list[bool] = []
    done: list[str] = []
    grade_mod._run_jobs(
        [job, dataclasses.replace(job, student="t")],
        capacity,
        lambda n: _Recorder(n, seen),
        lambda job, record, phase2: done.append(job.student),
        setting,
    )
    assert seen == [kit_sent, kit_sent] and sorted(done) == ["s", "t"]  # in any order


class _SlowToClose(_Recorder):
    """A pool whose shutdown takes a while (workers tearing down): it records when it began
    and ended, to compare with the coordinator's last import."""

    def __init__(self, capacity: int, seen: list[bool], events: list[str]) -> None:
        super().__init__(capacity, seen)
        self.events = events
        self.closed = threading.Event()
        self.later: dict[str, Future] = {}

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        job = args[0]
        if job.student == "s":
            return super().submit(fn, *args, **kwargs)
        self.later[job.student] = Future()  # finishes when the test says so
        return self.later[job.student]

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if not self.closed.is_set():
            self.events.append("shutdown begins")
            time.sleep(0.3)
            self.events.append("shutdown ends")
            self.closed.set()


def test_the_pool_shuts_down_beside_the_last_import() -> None:
    """Once every job is back, the workers' shutdown runs while the coordinator imports the
    last results; the run returns only when both are over."""
    kit = ImportKit(config=None, source_dir="/nowhere", template="/nowhere/t.db", rows={})
    job = GradeJob("s", "a", "/sub", "/rel", ("n",), {}, "/staging", phase2=kit)
    events: list[str] = []
    pools: list[_SlowToClose] = []

    def factory(n: int) -> _SlowToClose:
        pools.append(_SlowToClose(n, [], events))
        return pools[-1]

    def on_result(job: GradeJob, record: SubmissionRecord, phase2: Any) -> None:
        events.append(f"import {job.student} begins")
        if job.student == "t":  # the last one: the pool closes meanwhile
            assert pools[0].closed.wait(timeout=10), "the pool was not shut down meanwhile"
        events.append(f"import {job.student} ends")
        if job.student == "s":  # the other job comes back only now
            record = SubmissionRecord("t", job.assignment, "graded")
            pools[0].later["t"].set_result(Graded(record))

    grade_mod._run_jobs([job, dataclasses.replace(job, student="t")], 1, factory, on_result, False)
    assert len(pools) == 1
    assert events.index("shutdown begins") > events.index("import s ends")  # not too early
    assert events.index("shutdown ends") < events.index("import t ends")
    assert events[-1] == "import t ends"
