"""The grading core of `autograder grade` on a tiny fixture course.

One temporary nbgrader course (tests/fixtures/pipeline: one notebook `01_tiny` with two
graded functions, `barrier_height` and `prune_count`, checked by the real hidden-check
registry; a visible test and two hidden tests each, 1 point per test; a hand-graded answer
worth 1; an ungraded demo cell) receives example submissions named by their expected
outcome. They are graded together in ONE run with two workers — every broken submission
gets a record saying why and never stops the others — then regraded with one worker, which
must give identical records (scores, items, statuses, reasons). Unit tests of the
normalisation need no kernel.

Runtime: ~2.5 min on 2 busy cores (two grading runs of 12 submissions, one waiting for
the wall-time limit; the grading tests are marked slow, the normalisation tests are fast).
Under pytest-xdist each grading run still happens once: the first worker to need it runs
it and leaves the records for the others.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.cgroups import RLIMIT_AS_ALLOWANCE
from autograder.pipeline import grade as grade_mod
from autograder.pipeline.limits import MIB, Limits, detect_isolation
from autograder.pipeline.normalize import TrustedCell, grade_id_of, load_submitted, normalize
from autograder.pipeline.records import SubmissionRecord, load_records, record_path
from autograder.pipeline.runner import execute_notebook
from autograder.pipeline.worker import score_items
from tests.engine.tiny_course import (
    ASSIGNMENT,
    FIXTURES,
    NOTEBOOK,
    WRONG_BARRIER,
    WRONG_PRUNE,
    _nbgrader,
    cell_index,
    filled,
    make_course,
    release_nb,
    solution_sources,
    submit,
)

slow = pytest.mark.slow

BARRIER_TESTS = [
    "test_barrier_height_visible",
    "test_barrier_height_basic",
    "test_barrier_height_errors",
]
PRUNE_TESTS = ["test_prune_count_visible", "test_prune_count_basic", "test_prune_count_rounding"]
AUTOGRADED_POINTS = 6.0  # six test cells of 1 point
MAX_SCORE = 7.0  # plus the hand-graded answer

# What the out-of-memory submission allocates: beyond the cgroup limit (killed when it gets
# there) and beyond the RLIMIT_AS fallback's limit + allowance (refused at once).
OOM_BYTES = 6 * 1024 * MIB
# Limits of the grading runs: small enough that the broken submissions hit them quickly,
# large enough for a tiny notebook (kernel + torch + checks: ~200 MB resident, ~2 s) on a
# busy machine. A cgroup limits resident memory; the RLIMIT_AS fallback (where there is no
# cgroup) limits address space, to the limit plus RLIMIT_AS_ALLOWANCE (torch maps ~1.5 GB).
MEMORY_LIMIT = 1024 * MIB
assert MEMORY_LIMIT + RLIMIT_AS_ALLOWANCE < OOM_BYTES
LIMITS = Limits(
    wall_seconds=20.0, startup_seconds=60.0, memory_bytes=MEMORY_LIMIT, output_bytes=64 * 1024
)


# ---- building the course and the submissions ----------------------------------------------


def build_submissions(course: Path) -> None:
    nbname = f"{NOTEBOOK}.ipynb"
    submit(course, "correct", {nbname: filled(course)})
    submit(course, "blank", {nbname: release_nb(course)})
    submit(course, "broken_invalid_json", {nbname: '{"cells": [{"cell_type": "code", '})
    submit(course, "broken_missing_notebook", {"notes.txt": "I forgot the notebook"})
    submit(course, "broken_renamed_notebook", {f"{NOTEBOOK}-Copy1.ipynb": filled(course)})

    # wrong prune_count, and its three test cells deleted: restored, they run and fail
    nb = filled(course, prune_count=WRONG_PRUNE)
    nb.cells = [c for c in nb.cells if grade_id_of(c) not in PRUNE_TESTS]
    submit(course, "broken_deleted_test_cell", {nbname: nb})

    # wrong barrier_height, its visible and a hidden test cell edited to pass: restored
    nb = filled(course, barrier_height=WRONG_BARRIER)
    nb.cells[cell_index(nb, "test_barrier_height_visible")].source = "assert True"
    nb.cells[cell_index(nb, "test_barrier_height_basic")].source = "pass  # nothing hidden here"
    submit(course, "broken_edited_test_cell", {nbname: nb})

    # a solution cell and a test cell duplicated (same grade id and cell id)
    nb = filled(course)
    i = cell_index(nb, "prune_count")
    nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))
    j = cell_index(nb, "test_barrier_height_visible")
    nb.cells.insert(j + 1, copy.deepcopy(nb.cells[j]))
    submit(course, "broken_duplicated_grade_id", {nbname: nb})

    prune = solution_sources()["prune_count"]
    nb = filled(course, prune_count="import os\nos._exit(1)\n" + prune)
    submit(course, "broken_kernel_dies", {nbname: nb})

    nb = filled(
        course, prune_count=f"blob = b'x' * {OOM_BYTES}  # beyond the memory limit\n" + prune
    )
    submit(course, "broken_out_of_memory", {nbname: nb})

    nb = filled(course, prune_count="while True:\n    pass\n" + prune)
    submit(course, "broken_timeout", {nbname: nb})

    nb = filled(course)
    nb.cells[-1].source = "for i in range(200_000):\n    print('flooding the grader', i)"
    submit(course, "broken_giant_output", {nbname: nb})


STUDENTS = sorted(
    [
        "correct",
        "blank",
        "broken_invalid_json",
        "broken_missing_notebook",
        "broken_renamed_notebook",
        "broken_deleted_test_cell",
        "broken_edited_test_cell",
        "broken_duplicated_grade_id",
        "broken_kernel_dies",
        "broken_out_of_memory",
        "broken_timeout",
        "broken_giant_output",
    ]
)


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _once_per_run(
    tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """`compute(folder)` once per test run, even when pytest-xdist spreads this module's
    tests over several workers: the first worker computes (under a file lock) and leaves
    the JSON result for the others."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return compute(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "result.json"
        if not done.exists():
            done.write_text(json.dumps(compute(shared / "work")))
        return json.loads(done.read_text())


def _records(data: dict[str, Any]) -> dict[str, SubmissionRecord]:
    return {s: SubmissionRecord.from_dict(d) for s, d in data.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every example submission graded in one run with two workers."""

    def compute(folder: Path) -> dict[str, Any]:
        course = make_course(folder)
        build_submissions(course)
        before = _tree_digest(course / "submitted")
        records = grade_mod.main(
            course_dir=course,
            workers=2,
            limits=LIMITS,
            progress=False,
            feedback=False,
            export=False,
            import_on_workers=True,  # compared with the coordinator's import of `regraded`
        )
        return {
            "course": str(course),
            "records": {r.student: r.to_dict() for r in records},
            "submitted_digest_before": before,
        }

    data = _once_per_run(tmp_path_factory, "pipeline-graded", compute)
    return {**data, "course": Path(data["course"]), "records": _records(data["records"])}


def grade_quietly(course: Path, **kwargs: Any) -> list[SubmissionRecord]:
    """`grade` on `course` with the test limits, no progress bar, feedback or export (what
    the other grading tests override comes in `kwargs`)."""
    options: dict[str, Any] = {
        "limits": LIMITS,
        "progress": False,
        "feedback": False,
        "export": False,
        **kwargs,
    }
    return grade_mod.main(course_dir=course, **options)


def copy_course(graded: dict[str, Any], folder: Path) -> Path:
    """A private copy of the graded course (tests that grade again never touch the one
    other tests read)."""
    course = folder / "course"
    shutil.copytree(graded["course"], course)
    return course


@pytest.fixture(scope="module")
def regraded(graded: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the graded course regraded from scratch with one worker, imported by the
    coordinator itself: its course dir and records (student id -> record)."""

    def compute(folder: Path) -> dict[str, Any]:
        course = copy_course(graded, folder)
        # force: the copied records have the same inputs and would be kept, not executed;
        # this run imports on the coordinator (the first one imported on the workers)
        records = grade_quietly(
            course, workers=1, regrade=True, force=True, import_on_workers=False
        )
        return {"course": str(course), "records": {r.student: r.to_dict() for r in records}}

    data = _once_per_run(tmp_path_factory, "pipeline-regraded", compute)
    return {"course": Path(data["course"]), "records": _records(data["records"])}


def rec(graded: dict[str, Any], student: str) -> SubmissionRecord:
    return graded["records"][student]


def points(record: SubmissionRecord) -> dict[str, float | None]:
    return {it.grade_id: it.points for it in record.notebook(NOTEBOOK).items}


def statuses(record: SubmissionRecord) -> dict[str, str]:
    return {it.grade_id: it.status for it in record.notebook(NOTEBOOK).items}


def assert_points(record: SubmissionRecord, passed: list[str]) -> None:
    """The listed test items have their point, every other autograded item none."""
    for gid, pts in points(record).items():
        if gid == "explain_barrier":
            continue
        assert pts == (1.0 if gid in passed else 0.0), (gid, record.to_json())
    assert record.score == float(len(passed))
    assert record.max_score == MAX_SCORE


def reasons(record: SubmissionRecord) -> str:
    return "\n".join(record.notebook(NOTEBOOK).reasons + record.reasons)


# ---- the run as a whole ------------------------------------------------------------------------


@slow
def test_every_submission_gets_a_record_and_is_imported(graded: dict[str, Any]) -> None:
    """One run grades every submission, broken or not; each is imported into the gradebook."""
    records = graded["records"]
    assert sorted(records) == STUDENTS
    for student, record in records.items():
        assert record.imported, (student, record.to_json())
        assert record.status != "error", (student, record.to_json())
        assert record_path(graded["course"], student, ASSIGNMENT).is_file()
    saved = {r.student: r for r in load_records(graded["course"], ASSIGNMENT)}
    assert saved["correct"].comparable() == rec(graded, "correct").comparable()


@slow
def test_correct_submission_scores_full_marks(graded: dict[str, Any]) -> None:
    record = rec(graded, "correct")
    assert record.status == "graded"
    assert record.notebook(NOTEBOOK).reasons == []
    assert_points(record, BARRIER_TESTS + PRUNE_TESTS)
    assert all(s == "passed" for g, s in statuses(record).items() if g != "explain_barrier")
    manual = record.notebook(NOTEBOOK).item("explain_barrier")
    assert (manual.status, manual.kind, manual.points) == ("manual", "manual", None)


@slow
def test_blank_release_scores_zero(graded: dict[str, Any]) -> None:
    record = rec(graded, "blank")
    assert record.status == "graded"
    assert_points(record, [])
    item = record.notebook(NOTEBOOK).item("test_barrier_height_visible")
    assert item.status == "failed" and item.message.startswith("NotImplementedError")
    assert record.notebook(NOTEBOOK).item("explain_barrier").points == 0.0  # unanswered


@slow
def test_isolation_is_recorded(graded: dict[str, Any]) -> None:
    """The record names the mechanisms actually used for each limit on this machine."""
    isolation = rec(graded, "correct").isolation
    detected = detect_isolation()
    assert isolation["memory"] == detected["memory"]
    assert isolation["memory"] in ("cgroup_v1", "cgroup_v2", "rlimit_as")
    assert "processes" in isolation and "network" in isolation and "wall" in isolation
    if isolation["memory"].startswith("cgroup"):
        assert rec(graded, "correct").notebook(NOTEBOOK).peak_memory_bytes > 0


# ---- broken submissions -------------------------------------------------------------------------


@slow
def test_broken_invalid_json(graded: dict[str, Any]) -> None:
    """An unreadable notebook: the release stub is graded (0 points), the record says why."""
    record = rec(graded, "broken_invalid_json")
    assert record.status == "incomplete"
    assert record.notebook(NOTEBOOK).status == "invalid_json"
    assert "not valid JSON" in reasons(record)
    assert_points(record, [])


@slow
def test_broken_missing_notebook(graded: dict[str, Any]) -> None:
    record = rec(graded, "broken_missing_notebook")
    assert record.status == "incomplete"
    assert record.notebook(NOTEBOOK).status == "missing"
    assert f"{NOTEBOOK}.ipynb is missing" in reasons(record)
    assert_points(record, [])


@slow
def test_broken_renamed_notebook(graded: dict[str, Any]) -> None:
    """A renamed copy is recognised by its grade ids and graded in full."""
    record = rec(graded, "broken_renamed_notebook")
    assert record.status == "repaired"
    assert f"graded '{NOTEBOOK}-Copy1.ipynb' as {NOTEBOOK}.ipynb" in reasons(record)
    assert_points(record, BARRIER_TESTS + PRUNE_TESTS)


@slow
def test_broken_deleted_test_cell(graded: dict[str, Any]) -> None:
    """Deleted test cells are re-inserted at their place and run: the wrong prune_count
    fails them."""
    record = rec(graded, "broken_deleted_test_cell")
    assert record.status == "repaired"
    for gid in PRUNE_TESTS:
        assert f"test cell '{gid}' was missing: restored" in reasons(record)
        assert statuses(record)[gid] == "failed"
    assert_points(record, BARRIER_TESTS)
    staged = nbformat.read(
        graded["course"]
        / ".autograder"
        / "staging"
        / "broken_deleted_test_cell"
        / ASSIGNMENT
        / f"{NOTEBOOK}.ipynb",
        as_version=4,
    )
    order = [grade_id_of(c) for c in staged.cells if grade_id_of(c)]
    assert order.index("prune_count") < order.index("test_prune_count_visible")


@slow
def test_broken_edited_test_cell(graded: dict[str, Any]) -> None:
    """Edited visible and hidden test cells get the trusted source back (hidden tests
    included), so the wrong barrier_height fails them."""
    record = rec(graded, "broken_edited_test_cell")
    assert record.status == "repaired"
    assert "test cell 'test_barrier_height_visible' was edited" in reasons(record)
    assert "test cell 'test_barrier_height_basic' was edited" in reasons(record)
    assert_points(record, PRUNE_TESTS)
    basic = record.notebook(NOTEBOOK).item("test_barrier_height_basic")
    assert basic.status == "failed" and "barrier_height" in basic.message


@slow
def test_broken_duplicated_grade_id(graded: dict[str, Any]) -> None:
    """Duplicated grade ids / cell ids: the first cell keeps the id, the copy of the test
    cell is dropped, the copy of the solution cell runs as ungraded code."""
    record = rec(graded, "broken_duplicated_grade_id")
    assert record.status == "repaired"
    assert "a duplicate of cell 'test_barrier_height_visible' was dropped" in reasons(record)
    assert "a duplicate of solution cell 'prune_count'" in reasons(record)
    assert_points(record, BARRIER_TESTS + PRUNE_TESTS)
    auto = nbformat.read(
        graded["course"]
        / "autograded"
        / "broken_duplicated_grade_id"
        / ASSIGNMENT
        / f"{NOTEBOOK}.ipynb",
        as_version=4,
    )
    gids = [grade_id_of(c) for c in auto.cells if grade_id_of(c)]
    ids = [c.id for c in auto.cells]
    assert len(gids) == len(set(gids)) and len(ids) == len(set(ids))


@slow
def test_broken_kernel_dies(graded: dict[str, Any]) -> None:
    """os._exit in a cell: the cells before it keep their results, the later test cells
    are not run and score 0."""
    record = rec(graded, "broken_kernel_dies")
    assert record.status == "incomplete"
    assert record.notebook(NOTEBOOK).status == "kernel_died"
    assert "the kernel died in cell" in reasons(record) and "'prune_count'" in reasons(record)
    assert_points(record, BARRIER_TESTS)
    for gid in PRUNE_TESTS:
        assert statuses(record)[gid] == "not_run"


@slow
def test_broken_out_of_memory(graded: dict[str, Any]) -> None:
    """An allocation beyond the memory limit stops that cell (cgroup: the kernel is
    killed; RLIMIT_AS: MemoryError); earlier items keep their points."""
    record = rec(graded, "broken_out_of_memory")
    assert record.notebook(NOTEBOOK).status == "memory_limit", record.to_json()
    assert record.status == "incomplete"
    assert "memory" in reasons(record)
    assert_points(record, BARRIER_TESTS)
    expected = "not_run" if record.isolation["memory"].startswith("cgroup") else "failed"
    for gid in PRUNE_TESTS:
        assert statuses(record)[gid] == expected


@slow
def test_broken_out_of_memory_with_rlimit_as(graded: dict[str, Any], tmp_path: Path) -> None:
    """Without cgroups (the fallback), RLIMIT_AS makes the allocation fail with MemoryError:
    the kernel survives, that cell fails, the record says memory_limit."""
    limits = dataclasses.replace(LIMITS, use_cgroups=False)
    course = copy_course(graded, tmp_path)
    (record,) = grade_mod.main(
        course_dir=course,
        students=["broken_out_of_memory"],
        workers=1,
        limits=limits,
        progress=False,
        feedback=False,
        export=False,
    )
    assert record.isolation["memory"] == "rlimit_as"
    assert record.notebook(NOTEBOOK).status == "memory_limit", record.to_json()
    assert "MemoryError" in reasons(record)
    assert_points(record, BARRIER_TESTS)
    for gid in PRUNE_TESTS:
        assert statuses(record)[gid] == "failed"


@slow
def test_broken_timeout(graded: dict[str, Any]) -> None:
    """An infinite loop hits the wall-time limit; the kernel is killed, the later test
    cells are not run."""
    record = rec(graded, "broken_timeout")
    assert record.notebook(NOTEBOOK).status == "timeout"
    assert "wall-time limit" in reasons(record) and "'prune_count'" in reasons(record)
    assert_points(record, BARRIER_TESTS)
    for gid in PRUNE_TESTS:
        assert statuses(record)[gid] == "not_run"
    assert record.notebook(NOTEBOOK).seconds < LIMITS.wall_seconds + LIMITS.startup_seconds


@slow
def test_broken_giant_output(graded: dict[str, Any]) -> None:
    """A cell printing beyond the output limit is truncated and the kernel stopped; the
    tests before it keep their points."""
    record = rec(graded, "broken_giant_output")
    assert record.notebook(NOTEBOOK).status == "output_limit"
    assert "output limit" in reasons(record)
    assert_points(record, BARRIER_TESTS + PRUNE_TESTS)
    auto = nbformat.read(
        graded["course"] / "autograded" / "broken_giant_output" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
        as_version=4,
    )
    assert len(json.dumps(auto.cells[-1].outputs)) < 4 * LIMITS.output_bytes


# ---- gradebook and nbgrader afterwards ---------------------------------------------------------


@slow
def test_gradebook_holds_the_scores(graded: dict[str, Any]) -> None:
    """The serial phase wrote every score into the gradebook (nbgrader.api.Gradebook)."""
    from nbgrader.api import Gradebook

    course = graded["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            submission = gb.find_submission(ASSIGNMENT, student)
            assert submission.score == pytest.approx(rec(graded, student).score), student
            assert submission.max_score == pytest.approx(MAX_SCORE)
        grades = {
            g.name: g
            for g in gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "broken_kernel_dies").grades
        }
        assert grades["test_barrier_height_basic"].auto_score == 1.0
        assert grades["test_prune_count_basic"].auto_score == 0.0
        assert grades["explain_barrier"].needs_manual_grade


@slow
def test_instructor_submissions_untouched(graded: dict[str, Any]) -> None:
    assert _tree_digest(graded["course"] / "submitted") == graded["submitted_digest_before"]


@slow
def test_nbgrader_export_works_afterwards(graded: dict[str, Any]) -> None:
    course = graded["course"]
    done = _nbgrader(course, "export", "--to", str(course / "grades.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    with open(course / "grades.csv", newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert set(rows) == set(STUDENTS)
    assert float(rows["correct"]["score"]) == AUTOGRADED_POINTS
    assert float(rows["broken_timeout"]["score"]) == 3.0


@slow
def test_nothing_left_to_grade_without_regrade(graded: dict[str, Any]) -> None:
    assert (
        grade_mod.main(
            course_dir=graded["course"],
            workers=1,
            limits=LIMITS,
            progress=False,
            feedback=False,
            export=False,
        )
        == []
    )


# ---- determinism ---------------------------------------------------------------------------------


@slow
def test_regrading_gives_identical_records(
    graded: dict[str, Any], regraded: dict[str, Any]
) -> None:
    """Grading again gives the same statuses, reasons, items and scores."""
    again = regraded["records"]
    assert sorted(again) == STUDENTS
    for student in STUDENTS:
        assert again[student].started != rec(graded, student).started  # executed again
        assert again[student].comparable() == rec(graded, student).comparable(), student


@slow
def test_one_and_two_workers_give_identical_results(
    graded: dict[str, Any], regraded: dict[str, Any]
) -> None:
    """The first run used two workers, the regrade one: the scores agree item by item."""
    for student in STUDENTS:
        again = regraded["records"][student]
        assert points(again) == points(rec(graded, student)), student
        assert again.score == rec(graded, student).score


def _gradebook_rows(course: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every student's submission rows, by names instead of ids (which differ per import)."""
    from nbgrader.api import Gradebook

    rows: dict[str, list[tuple[Any, ...]]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            out = rows.setdefault(sub.student.id, [])
            out.append(("submission", str(sub.timestamp), str(sub.extension)))
            for nb in sub.notebooks:
                out.append(("notebook", nb.name, nb.flagged, nb.late_submission_penalty))
                out += sorted(
                    ("grade", g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                    for g in nb.grades
                )
                out += sorted(
                    ("comment", c.name, c.auto_comment, c.manual_comment) for c in nb.comments
                )
    return rows


@slow
def test_workers_import_what_the_coordinator_imports(
    graded: dict[str, Any], regraded: dict[str, Any]
) -> None:
    """The first run's workers imported each submission into a private gradebook and the
    coordinator merged their rows; the regrade imported on the coordinator (nbgrader's own
    way). Same gradebook rows, same autograded notebooks, for every example submission."""
    first, second = graded["course"], regraded["course"]
    assert all(r.phases.get("gradebook_rows") for r in graded["records"].values() if r.notebooks)
    assert not any("gradebook_rows" in r.phases for r in regraded["records"].values())
    rows = _gradebook_rows(first)
    assert sorted(rows) == STUDENTS
    assert rows == _gradebook_rows(second)
    for student in STUDENTS:
        folder = Path("autograded") / student / ASSIGNMENT
        names = sorted(p.name for p in (first / folder).iterdir())
        assert names == sorted(p.name for p in (second / folder).iterdir()), student
        for name in names:
            mine, theirs = (
                (first / folder / name).read_bytes(),
                (second / folder / name).read_bytes(),
            )
            if name.endswith(".ipynb"):  # execution counts: when a dying kernel stopped
                mine, theirs = _without_counts(mine), _without_counts(theirs)
            assert mine == theirs, (student, name)


def _without_counts(data: bytes) -> Any:
    nb = json.loads(data)
    for cell in nb["cells"]:
        cell.pop("execution_count", None)
        for output in cell.get("outputs", []):
            output.pop("execution_count", None)
    return nb


# ---- normalisation without a kernel ---------------------------------------------------------------


def _template() -> tuple[nbformat.NotebookNode, dict[str, TrustedCell]]:
    source = nbformat.read(FIXTURES / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    template = copy.deepcopy(source)
    trusted = {}
    for cell in template.cells:
        gid = grade_id_of(cell)
        if gid is None:
            continue
        nbg = cell.metadata.nbgrader
        trusted[gid] = TrustedCell(
            gid,
            cell.cell_type,
            cell.source,
            bool(nbg.get("locked")),
            None,
            bool(nbg.get("grade")),
            bool(nbg.get("solution")),
            nbg.get("points"),
        )
        if "BEGIN HIDDEN TESTS" in cell.source:
            cell.source = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
    return template, trusted


def test_normalize_restores_hidden_tests_and_keeps_student_cells() -> None:
    template, trusted = _template()
    student = copy.deepcopy(template)
    extra = nbformat.v4.new_code_cell("helper = 1")
    student.cells.insert(cell_index(student, "barrier_height") + 1, extra)
    nb, why = normalize(student, template, trusted)
    assert why == []
    hidden = nb.cells[cell_index(nb, "test_barrier_height_basic")]
    assert "check_function" in hidden.source
    assert nb.cells[cell_index(nb, "barrier_height") + 1].source == "helper = 1"
    nbformat.validate(nb)


def test_normalize_reorders_graded_cells_to_template_order() -> None:
    template, trusted = _template()
    student = copy.deepcopy(template)
    i = cell_index(student, "test_prune_count_visible")
    moved = student.cells.pop(i)
    student.cells.insert(0, moved)
    nb, _ = normalize(student, template, trusted)
    order = [grade_id_of(c) for c in nb.cells if grade_id_of(c)]
    assert order == [grade_id_of(c) for c in template.cells if grade_id_of(c)]


def test_normalize_puts_a_deleted_answer_cells_stub_before_the_students_own_cells() -> None:
    """A student who deleted the answer cell and wrote the function in a new (unmarked)
    cell keeps it: the restored stub comes first, their definition after it, the tests
    after both. Without a re-definition the stub stays in place and its tests fail."""
    template, trusted = _template()
    student = copy.deepcopy(template)
    i = cell_index(student, "barrier_height")
    own = "def barrier_height(losses):\n    return max(losses) - (losses[0] + losses[-1]) / 2\n"
    student.cells[i] = nbformat.v4.new_code_cell(own)
    nb, why = normalize(student, template, trusted)
    assert any("'barrier_height' was missing: the release stub was restored" in w for w in why)
    stub = cell_index(nb, "barrier_height")
    mine = next(k for k, c in enumerate(nb.cells) if c.source == own)
    assert nb.cells[stub].source == trusted["barrier_height"].source  # the release stub
    assert stub < mine < cell_index(nb, "test_barrier_height_visible")
    # deleted outright: the stub sits where the answer cell was, before the visible test
    student = copy.deepcopy(template)
    del student.cells[cell_index(student, "barrier_height")]
    nb, _ = normalize(student, template, trusted)
    assert cell_index(nb, "barrier_height") + 1 == cell_index(nb, "test_barrier_height_visible")
    nbformat.validate(nb)


def test_normalize_changed_cell_type_is_changed_back() -> None:
    template, trusted = _template()
    student = copy.deepcopy(template)
    i = cell_index(student, "prune_count")
    md = nbformat.v4.new_markdown_cell(student.cells[i].source)
    md.metadata = student.cells[i].metadata
    md["id"] = student.cells[i]["id"]
    student.cells[i] = md
    nb, why = normalize(student, template, trusted)
    assert nb.cells[cell_index(nb, "prune_count")].cell_type == "code"
    assert any("changed back to code" in w for w in why)


def test_load_submitted_salvages_a_notebook_that_does_not_validate(tmp_path: Path) -> None:
    template, _ = _template()
    data = json.loads(nbformat.writes(template))
    data["cells"][1]["outputs"] = "not a list"
    data["cells"].append({"cell_type": "bogus"})
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(data))
    nb, why = load_submitted(path)
    assert nb is not None and len(nb.cells) == len(template.cells)
    assert "did not validate" in why[0]
    path.write_text("\x00\x01garbage")
    nb, why = load_submitted(path)
    assert nb is None and "not valid JSON" in why[0]


def test_score_items_matches_nbgrader_rules() -> None:
    """stderr output zeroes a test cell (nbgrader's rule), an error fails it."""
    template, _ = _template()
    nb = copy.deepcopy(template)
    nb.cells[cell_index(nb, "test_barrier_height_visible")].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="warning\n")
    ]
    nb.cells[cell_index(nb, "test_prune_count_visible")].outputs = [
        nbformat.v4.new_output("error", ename="AssertionError", evalue="boom", traceback=[])
    ]
    items = {it.grade_id: it for it in score_items(nb)}
    assert items["test_barrier_height_visible"].points == 0.0
    assert items["test_barrier_height_visible"].message.startswith("wrote to stderr")
    assert items["test_prune_count_visible"].message == "AssertionError: boom"
    assert items["test_prune_count_basic"].status == "passed"
    assert items["explain_barrier"].kind == "manual"


# ---- the execution step alone -----------------------------------------------------------------


def test_execute_notebook_applies_the_limits(tmp_path: Path) -> None:
    """A kernel runs in the scratch dir with one thread, the rlimits, its own cgroup and no
    network (where this machine allows them: see detect_isolation)."""
    limits = Limits(wall_seconds=30.0, max_open_files=512)
    isolation = detect_isolation()
    (tmp_path / "helper.txt").write_text("scratch file")
    probe = (
        "import json, os, resource, socket\n"
        "info = {'cwd_files': sorted(os.listdir('.')),\n"
        "        'omp': os.environ.get('OMP_NUM_THREADS'),\n"
        "        'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)[0],\n"
        "        'cgroup': open('/proc/self/cgroup').read()}\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
        "    info['network'] = 'reachable'\n"
        "except OSError as exc:\n"
        "    info['network'] = type(exc).__name__ + ': ' + str(exc)\n"
        "print(json.dumps(info))"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(probe)])
    executed = execute_notebook(nb, tmp_path, limits)
    assert executed.status == "graded", executed.reasons
    info = json.loads(executed.nb.cells[0].outputs[0]["text"])
    assert "helper.txt" in info["cwd_files"]
    assert info["omp"] == "1"
    assert info["nofile"] == 512
    if isolation["memory"].startswith("cgroup") or isolation["processes"].startswith("cgroup"):
        assert "autograder-" in info["cgroup"]
    if isolation["network"] == "netns":
        assert info["network"] != "reachable"
        assert "refused" not in info["network"]  # no loopback at all, not a closed port


@slow
def test_without_a_private_filesystem_the_record_says_plain_executor(
    graded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine that cannot give a kernel a private file system, grading falls back to
    the plain executor, still grades correctly, and the record says what was missing."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder.pipeline import sandboxed

    monkeypatch.setattr(sandboxed, "sandbox_available", lambda: False)
    monkeypatch.setattr(sandboxed, "sandbox_missing", lambda: ["user namespaces: refused"])
    course = copy_course(graded, tmp_path)
    (record,) = grade_mod.main(
        course_dir=course,
        students=["correct"],
        workers=1,
        limits=LIMITS,
        progress=False,
        feedback=False,
        export=False,
        # threads, so that the patched probe applies to the worker too
        executor_factory=lambda n: ThreadPoolExecutor(max_workers=n),
    )
    assert record.isolation["sandbox"] == "unavailable: plain executor", record.isolation
    assert record.isolation["sandbox_missing"] == ["user namespaces: refused"]
    # the same automatic points as the sandboxed run (the hand-graded item stays pending)
    assert record.score == rec(graded, "correct").score > 0
