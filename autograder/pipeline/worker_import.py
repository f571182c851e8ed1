"""Phase 2 on the worker: the gradebook rows are made next to the execution, the coordinator
only merges them.

nbgrader's import of one submission (:func:`.nbimport.import_submission`: sanitising, cell
overwriting, replayed outputs, grade saving, late penalties, the ``autograded/`` notebooks)
costs seconds of CPU. Run by the coordinator for every student, one after the other, it made
the coordinator the bottleneck of a cluster: about 2 s per submission, so one coordinator
could feed about five workers.

Here the worker runs that same import, unchanged, against a private copy of the gradebook:

- :func:`make_template` (coordinator, once per run): a copy of the course's SQLite gradebook
  with the assignments, notebooks and cells and no students or submissions.
- :func:`student_rows` (coordinator, per job): the student's current rows of this assignment
  (their student row, submission, notebooks, grades and comments: manual grades, extensions)
  go with the job in an :class:`ImportKit`.
- :func:`import_on_worker` (worker): the template plus those rows is the student's gradebook as
  the coordinator sees it; nbgrader's import runs on it and on the staged notebooks in a
  private folder, and the worker returns the student's rows afterwards and the
  ``autograded/<student>/<assignment>/`` files (:class:`ImportResult`).
- :func:`merge` (coordinator): in one SQLite transaction, checks that the student's rows are
  still the ones sent (nobody graded by hand or re-imported meanwhile: :class:`StaleRows`
  otherwise) and replaces them with the worker's; :func:`write_autograded` puts the files in
  place. Milliseconds instead of seconds.

Any problem (a gradebook that is not SQLite, a worker-side failure, stale rows) falls back to
the coordinator's own import, which gives the same rows by construction.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .import_types import ImportKit, ImportResult, Rows
from .records import SubmissionRecord
from .worker import GradeJob, grade_submission, not_run_notebook

#: The tables of one student's submission, in the order rows are inserted.
SUBMISSION_TABLES = ("submitted_assignment", "submitted_notebook", "grade", "comment")
STUDENT_TABLE = "student"

#: nbgrader's converter changes process-wide state (the environment, stderr, loggers): one
#: import at a time in a process, even when a thread pool runs the jobs.
_CONVERTER_LOCK = threading.Lock()


class StaleRows(Exception):
    """The student's rows changed in the gradebook since the job was made."""


@dataclass
class Graded:
    """A job's outcome: its record, and the worker's import (None: not done there)."""

    record: SubmissionRecord
    phase2: ImportResult | None = None


# ---- the coordinator: template and rows -------------------------------------------------


def sqlite_path(db_url: str) -> Path | None:
    """The file of an ``sqlite:///`` gradebook URL; None for any other database."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix) or db_url == prefix:
        return None
    return Path(db_url[len(prefix) :])


#: Indexes for finding one student's rows. nbgrader's schema has none on these columns (its
#: unique constraints start with other columns), so each lookup scanned every grade of the
#: class. Extra indexes change no row and nothing nbgrader reads or migrates.
INDEXES = {
    "autograder_submitted_assignment_student": ("submitted_assignment", "student_id"),
    "autograder_submitted_notebook_assignment": ("submitted_notebook", "assignment_id"),
    "autograder_grade_notebook": ("grade", "notebook_id"),
    "autograder_comment_notebook": ("comment", "notebook_id"),
}


def make_template(db: Path, dest: Path) -> Path:
    """Copy gradebook `db` to `dest` without its students and submissions (first adding
    :data:`INDEXES` to `db`, where they are missing)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    con = connect(db)
    try:
        for name, (table, column) in INDEXES.items():
            con.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
        con.commit()
        con.execute("VACUUM INTO ?", (str(dest),))
    finally:
        con.close()
    con = connect(dest)
    try:
        for table in (*reversed(SUBMISSION_TABLES), STUDENT_TABLE):
            con.execute(f'DELETE FROM "{table}"')
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    return dest


def connect(db: Path) -> sqlite3.Connection:
    """A connection to SQLite file `db` whose rows read as dicts, waiting up to 60 s for a lock."""
    con = sqlite3.connect(str(db), timeout=60)
    con.row_factory = sqlite3.Row
    return con


def student_rows(con: sqlite3.Connection, assignment: str, student: str) -> Rows:
    """`student`'s rows of `assignment` (and their student row), by table."""

    def select(sql: str, args: Iterable[Any]) -> list[dict[str, Any]]:
        return [dict(row) for row in con.execute(sql, tuple(args))]

    rows: Rows = {STUDENT_TABLE: select('SELECT * FROM "student" WHERE id = ?', [student])}
    rows["submitted_assignment"] = select(
        "SELECT sa.* FROM submitted_assignment sa JOIN assignment a ON sa.assignment_id = a.id "
        "WHERE a.name = ? AND sa.student_id = ?",
        [assignment, student],
    )
    ids = [r["id"] for r in rows["submitted_assignment"]]
    rows["submitted_notebook"] = select(
        f"SELECT * FROM submitted_notebook WHERE assignment_id IN ({_marks(ids)})", ids
    )
    ids = [r["id"] for r in rows["submitted_notebook"]]
    for table in ("grade", "comment"):
        rows[table] = select(f'SELECT * FROM "{table}" WHERE notebook_id IN ({_marks(ids)})', ids)
    return rows


def submission_scores(
    db: Path, assignment: str, student: str
) -> dict[str, dict[str, tuple[float | None, float | None]]]:
    """notebook -> grade id -> (auto score, manual score) of `student`'s submission of
    `assignment` in SQLite gradebook `db` (what nbgrader's ``SubmittedNotebook.grades`` say)."""
    con = connect(db)
    try:
        found = con.execute(
            "SELECT n.name, c.name, g.auto_score, g.manual_score FROM grade g "
            "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
            "JOIN notebook n ON sn.notebook_id = n.id "
            "JOIN base_cell c ON g.cell_id = c.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "JOIN assignment a ON sa.assignment_id = a.id "
            "WHERE a.name = ? AND sa.student_id = ?",
            (assignment, student),
        ).fetchall()
        notebooks = con.execute(
            "SELECT n.name FROM submitted_notebook sn JOIN notebook n ON sn.notebook_id = n.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "JOIN assignment a ON sa.assignment_id = a.id WHERE a.name = ? AND sa.student_id = ?",
            (assignment, student),
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, tuple[float | None, float | None]]] = {n[0]: {} for n in notebooks}
    for notebook, cell, auto, manual in found:
        out[notebook][cell] = (auto, manual)
    return out


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _canonical(rows: Rows) -> str:
    return json.dumps(
        {
            t: sorted(json.dumps(r, sort_keys=True, default=str) for r in rows.get(t, []))
            for t in (STUDENT_TABLE, *SUBMISSION_TABLES)
        },
        sort_keys=True,
    )


def _insert(con: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for row in rows:
        unknown = set(row) - columns
        if unknown:
            raise ValueError(f"{table}: unknown columns {sorted(unknown)}")
        names = tuple(row)
        groups.setdefault(names, []).append([row[n] for n in names])
    for names, values in groups.items():
        quoted = ", ".join(f'"{n}"' for n in names)
        con.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({_marks(list(names))})', values)


def _delete(con: sqlite3.Connection, rows: Rows) -> None:
    for table in reversed(SUBMISSION_TABLES):
        ids = [r["id"] for r in rows.get(table, [])]
        if ids:
            con.execute(f'DELETE FROM "{table}" WHERE id IN ({_marks(ids)})', ids)


def _check_own(con: sqlite3.Connection, assignment: str, student: str, rows: Rows) -> None:
    """The worker's rows are one submission of this student and assignment, and nothing else."""
    found = con.execute("SELECT id FROM assignment WHERE name = ?", (assignment,)).fetchone()
    submissions = rows.get("submitted_assignment", [])
    if found is None or len(submissions) != 1:
        raise ValueError("the worker's rows are not one submission of this assignment")
    sub = submissions[0]
    if sub.get("assignment_id") != found[0] or sub.get("student_id") != student:
        raise ValueError("the worker's rows belong to another student or assignment")
    notebooks = {r["id"] for r in rows.get("submitted_notebook", [])}
    if any(r.get("assignment_id") != sub["id"] for r in rows.get("submitted_notebook", [])):
        raise ValueError("the worker's notebook rows belong to another submission")
    for table in ("grade", "comment"):
        if any(r.get("notebook_id") not in notebooks for r in rows.get(table, [])):
            raise ValueError(f"the worker's {table} rows belong to another submission")
    if any(r.get("id") != student for r in rows.get(STUDENT_TABLE, [])):
        raise ValueError("the worker's student row is another student's")


def merge(db: Path, assignment: str, student: str, before: Rows, after: Rows) -> None:
    """Replace `student`'s rows of `assignment` in gradebook `db` by `after` (the worker's),
    in one transaction, if they are still `before` (what the worker started from); raise
    :class:`StaleRows` otherwise, changing nothing."""
    con = connect(db)
    con.isolation_level = None  # explicit transactions
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            now = student_rows(con, assignment, student)
            if _canonical(now) != _canonical(before):
                raise StaleRows(f"{student}'s gradebook rows changed while grading")
            _check_own(con, assignment, student, after)
            _delete(con, now)
            if not now[STUDENT_TABLE]:
                _insert(con, STUDENT_TABLE, after.get(STUDENT_TABLE, []))
            for table in SUBMISSION_TABLES:
                _insert(con, table, after.get(table, []))
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def write_autograded(dest: Path, files: dict[str, bytes]) -> None:
    """Make folder `dest` (``autograded/<student>/<assignment>``) hold exactly `files`."""
    incoming = dest.with_name(f".{dest.name}.incoming")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    root = incoming.resolve()
    for rel, data in files.items():
        target = (incoming / rel).resolve()
        if root not in target.parents:
            raise ValueError(f"autograded file outside its folder: {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    shutil.rmtree(dest, ignore_errors=True)
    incoming.rename(dest)


# ---- staging the phase-2 input (both sides) ---------------------------------------------


def stage_for_import(job: GradeJob, folder: Path, staged: Path, timestamp: str | None) -> None:
    """Fill `folder` with the phase-2 input: the executed notebooks of `staged`, the
    submission's timestamp, and a stub for any notebook a crashed worker did not stage (so
    nbgrader scores it 0, not skips it)."""
    folder.mkdir(parents=True, exist_ok=True)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    for name in job.notebooks:
        source, target = staged / f"{name}.ipynb", folder / f"{name}.ipynb"
        if source.is_file():
            if source.resolve() != target.resolve():
                shutil.copyfile(source, target)
        elif not target.exists():
            nbformat.write(not_run_notebook(job, name, "the grading worker failed"), target)


def read_timestamp(submission_dir: Path) -> str | None:
    stamp = submission_dir / "timestamp.txt"
    try:
        return stamp.read_text(encoding="utf-8") if stamp.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


# ---- the worker ---------------------------------------------------------------------------


def import_on_worker(job: GradeJob, kit: ImportKit, staged: Path) -> ImportResult:
    """nbgrader's import of `job`'s staged notebooks (in folder `staged`) into a private
    gradebook made of the template and the student's rows. Never raises."""
    from .nbimport import import_submission

    t0 = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="ag-import-"))
    try:
        db = root / "gradebook.db"
        if kit.template_bytes is not None:
            db.write_bytes(kit.template_bytes)
        else:
            shutil.copyfile(kit.template, db)
        con = connect(db)
        with con:
            _insert(con, STUDENT_TABLE, kit.rows.get(STUDENT_TABLE, []))
            for table in SUBMISSION_TABLES:
                _insert(con, table, kit.rows.get(table, []))
        con.close()
        submitted = root / "submitted"
        stage_for_import(job, submitted / job.student / job.assignment, staged, kit.timestamp)
        cfg = copy.deepcopy(kit.config)
        cfg.CourseDirectory.root = str(root)
        cfg.CourseDirectory.source_directory = kit.source_dir
        cfg.CourseDirectory.autograded_directory = "autograded"
        cfg.CourseDirectory.db_url = f"sqlite:///{db}"
        with _CONVERTER_LOCK:
            problems = import_submission(root, cfg, job.student, job.assignment, submitted)
        if problems:
            return ImportResult(rows=None, problems=problems, seconds=time.monotonic() - t0)
        con = connect(db)
        rows = student_rows(con, job.assignment, job.student)
        con.close()
        out = root / "autograded" / job.student / job.assignment
        files = {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        return ImportResult(rows=rows, autograded=files, seconds=time.monotonic() - t0)
    except Exception as exc:
        return ImportResult(
            rows=None,
            problems=[f"worker-side import failed: {type(exc).__name__}: {exc}"],
            seconds=time.monotonic() - t0,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def import_if_asked(job: GradeJob, record: SubmissionRecord, staged: Path) -> ImportResult | None:
    """After grading on a worker: the import, when the job has a kit and something was
    graded (its seconds go into the record's phases as ``gradebook_rows``)."""
    if job.phase2 is None or (record.status == "error" and not record.notebooks):
        return None
    result = import_on_worker(job, job.phase2, staged)
    record.phases["gradebook_rows"] = round(result.seconds, 3)
    return result


def grade_and_import(job: GradeJob) -> Graded:
    """A pool worker's task: grade the submission, then import it when the job has a kit."""
    record = grade_submission(job)
    return Graded(record=record, phase2=import_if_asked(job, record, Path(job.staging_dir)))


def with_kit(job: GradeJob, kit: ImportKit | None) -> GradeJob:
    return job if kit is None else dataclasses.replace(job, phase2=kit)
