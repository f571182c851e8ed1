"""Resumable and incremental grading runs (:mod:`autograder.pipeline.cache`).

A coordinator killed with SIGKILL in the middle of `autograder grade` (its worker pool and
sandboxes with it): the next `grade` grades exactly the students without a complete record,
nothing is lost, and the gradebook agrees with every record. An unchanged resubmission is
not executed again; a changed one is; `--regrade` keeps the records whose inputs did not
change, and executes everything again with `--force`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.pipeline.records import SubmissionRecord, load_records
from tests.engine.test_pipeline_grade import LIMITS, grade_quietly
from tests.engine.tiny_course import (
    ASSIGNMENT,
    NOTEBOOK,
    WRONG_BARRIER,
    WRONG_PRUNE,
    filled,
    make_course,
    submit,
)

pytestmark = pytest.mark.slow

STUDENTS = [f"s{i}" for i in range(5)]


def _complete(course: Path) -> dict[str, SubmissionRecord]:
    return {r.student: r for r in load_records(course, ASSIGNMENT) if r.imported}


def _grade(course: Path, **kwargs) -> list[SubmissionRecord]:
    return grade_quietly(course, workers=1, out=None, **kwargs)


def _gradebook_scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(ASSIGNMENT)}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = make_course(tmp_path_factory.mktemp("resume"))
    variants = [{}, {"prune_count": WRONG_PRUNE}, {"barrier_height": WRONG_BARRIER}]
    for i, student in enumerate(STUDENTS):
        submit(course, student, {f"{NOTEBOOK}.ipynb": filled(course, **variants[i % 3])})
    return course


def test_a_killed_coordinator_resumes_where_it_stopped(course: Path) -> None:
    assert (LIMITS.wall_seconds, LIMITS.memory_bytes, LIMITS.output_bytes) == (20, 2**30, 2**16)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    command = [
        *(sys.executable, "-m", "autograder.cli", "grade", "--course-dir", str(course)),
        # the limits of LIMITS (the runs below), so their records share the grading keys
        *("--workers", "1", "--timeout", "20", "--memory", "1024", "--max-output", "64"),
        *("--no-feedback", "--no-export", "--no-progress"),
    ]
    proc = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 240
        while len(_complete(course)) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "the first run made no progress"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    done_before = _complete(course)
    assert 2 <= len(done_before) < len(STUDENTS), "killed too late to test resuming"

    records = _grade(course)
    assert sorted(r.student for r in records) == sorted(set(STUDENTS) - set(done_before))
    complete = _complete(course)
    assert sorted(complete) == STUDENTS
    for student, record in done_before.items():  # nothing graded before the kill was redone
        assert complete[student].started == record.started
    scores = _gradebook_scores(course)
    assert scores == {s: r.score for s, r in complete.items()}
    expected = {0: 6.0, 1: 3.0, 2: 3.0}  # six tests of 1 point; the hand-graded answer: none
    assert {s: r.score for s, r in complete.items()} == {
        s: expected[i % 3] for i, s in enumerate(STUDENTS)
    }


def test_unchanged_work_is_not_executed_again(course: Path) -> None:
    if len(_complete(course)) < len(STUDENTS):
        _grade(course)
    before = _complete(course)
    assert _grade(course) == []  # everything graded, nothing resubmitted
    # a resubmission with the very same files: not executed again
    folder = course / "submitted" / STUDENTS[0] / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    folder.write_bytes(folder.read_bytes())
    assert _grade(course) == []
    # --regrade keeps every record whose inputs are unchanged
    kept = _grade(course, regrade=True)
    assert sorted(r.student for r in kept) == STUDENTS
    assert all(r.started == before[r.student].started for r in kept)
    # a changed resubmission is graded again, by itself
    nb = filled(course, prune_count=WRONG_PRUNE)
    (course / "submitted" / STUDENTS[0] / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_text(
        json.dumps(nb)
    )
    (changed,) = _grade(course)
    assert changed.student == STUDENTS[0] and changed.score == 3.0
    assert changed.started != before[STUDENTS[0]].started
    # named students are kept too when unchanged; --force executes them again
    assert [r.started for r in _grade(course, students=STUDENTS[1:3])] == [
        before[s].started for s in STUDENTS[1:3]
    ]
    forced = _grade(course, students=STUDENTS[1:3], force=True)
    assert all(r.started != before[r.student].started for r in forced)
    assert _gradebook_scores(course) == {s: r.score for s, r in _complete(course).items()}
