"""Grade ONE submission: the pure unit of work of the grading pipeline.

:func:`grade_submission` turns a :class:`GradeJob` (plain, JSON-able data: where the
submission, the trusted release and the staging folder are, the trusted test cells, the
limits) into a :class:`~autograder.pipeline.records.SubmissionRecord`. It reads nothing
else of the course (no gradebook) and writes only the executed notebooks into
``job.staging_dir`` and scratch files into its private work dir, so any
``concurrent.futures`` executor can run it: the local process pool today, Dask later.

For each notebook of the assignment it

1. reads the student's file (a renamed copy is recognised by its grade ids; a missing or
   unreadable one is replaced by the release stub, so its items score 0 and the record
   says why) and normalises it against the trusted template (:mod:`.normalize`);
2. executes it (:mod:`.runner`, :mod:`.sandboxed`) in a fresh kernel whose cwd is a scratch copy
   of the submission's files plus the release's helper files, under the limits of
   :mod:`.limits`; a kernel that times out or dies leaves the cells before it with their
   results and gives every later test cell an error output saying why;
3. writes the executed notebook to the staging dir and scores every graded cell exactly as
   nbgrader will (``nbgrader.utils.determine_grade``).

The execution step is :func:`autograder.pipeline.sandboxed.execute_notebook_sandboxed` by
default (``GradeJob.sandbox``): the kernel in a sandbox with the hidden tests judged outside
it, where this machine allows a private file system; otherwise, or with ``sandbox=False``,
the plain :func:`autograder.pipeline.runner.execute_notebook`.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from . import sandboxed
from .import_types import ImportKit
from .limits import Limits, detect_isolation
from .normalize import (
    TrustedCell,
    load_submitted,
    normalize,
    notebook_grade_ids,
    stub_notebook,
)
from .records import ItemRecord, NotebookRecord, SubmissionRecord
from .runner import NOT_RUN_ENAME, error_output, execute_notebook, skipped_cells

# Files of a submission copied into the scratch dir: at most this many, each at most this big.
MAX_SCRATCH_FILES = 200
MAX_SCRATCH_FILE_BYTES = 50 * 2**20


# ---- the unit of work -------------------------------------------------------------------


@dataclass(frozen=True)
class GradeJob:
    """Everything needed to grade one submission, as plain data.

    Attributes:
        student: the student id (folder name in ``submitted/``).
        assignment: the assignment id.
        submission_dir: the student's submitted folder (read only).
        release_dir: the trusted release folder: template notebooks and helper files.
        notebooks: the assignment's notebook names (no ``.ipynb``), in order.
        trusted_cells: notebook → grade id → :class:`TrustedCell` as a dict (gradebook copy).
        staging_dir: where the executed notebooks are written (``<name>.ipynb``).
        limits: the execution limits of each notebook.
        work_dir: a private scratch root (None: a fresh temporary directory, removed after).
        sandbox: execute in the sandbox with hidden tests judged outside the kernel
            (:mod:`.sandboxed`); where no private file system is possible, the plain
            executor runs and the record's isolation says what is missing.
        spec_path: the assignment's spec file (its hidden checks, call stage, release
            files); None: whatever the registry's default assignment is.
        case_seed: the student's case seed (:mod:`autograder.checks.seeding`): the hidden
            checks' random inputs are drawn from it; None: the fixed cases.
        full: run every code cell, demonstrations too (as nbgrader does); False: grade-only
            execution, without the release's demonstration cells (they carry no points).
        warm: fork sandboxed kernels from this worker's zygote, which has imported the
            heavy libraries once (:mod:`autograder.sandbox.zygote`); False: every kernel
            starts cold.
        phase2: what the worker needs to import the graded submission into a private copy
            of the gradebook (:mod:`.worker_import`); None: the coordinator imports it.
            Transport only: not part of :meth:`to_dict`, nor of the grading key.
    """

    student: str
    assignment: str
    submission_dir: str
    release_dir: str
    notebooks: tuple[str, ...]
    trusted_cells: dict[str, dict[str, dict[str, Any]]]
    staging_dir: str
    limits: Limits = field(default_factory=Limits)
    work_dir: str | None = None
    sandbox: bool = True
    spec_path: str | None = None
    case_seed: int | None = None
    full: bool = False
    warm: bool = True
    phase2: ImportKit | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "submission_dir": self.submission_dir,
            "release_dir": self.release_dir,
            "notebooks": list(self.notebooks),
            "trusted_cells": self.trusted_cells,
            "staging_dir": self.staging_dir,
            "limits": self.limits.to_dict(),
            "work_dir": self.work_dir,
            "sandbox": self.sandbox,
            "spec_path": self.spec_path,
            "case_seed": self.case_seed,
            "full": self.full,
            "warm": self.warm,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeJob:
        return cls(
            student=data["student"],
            assignment=data["assignment"],
            submission_dir=data["submission_dir"],
            release_dir=data["release_dir"],
            notebooks=tuple(data["notebooks"]),
            trusted_cells=data["trusted_cells"],
            staging_dir=data["staging_dir"],
            limits=Limits.from_dict(data.get("limits", {})),
            work_dir=data.get("work_dir"),
            sandbox=data.get("sandbox", True),
            spec_path=data.get("spec_path"),
            case_seed=data.get("case_seed"),
            full=bool(data.get("full", False)),
            warm=bool(data.get("warm", True)),
        )


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def grade_submission(job: GradeJob) -> SubmissionRecord:
    """Grade one submission (see the module docstring). Never raises for a bad submission:
    a problem of the grader itself becomes a record with status "error"."""
    started, t0 = _now(), time.monotonic()
    isolation = detect_isolation(use_cgroups=job.limits.use_cgroups)
    record = SubmissionRecord(
        student=job.student,
        assignment=job.assignment,
        status="graded",
        isolation={k: v for k, v in isolation.items() if not k.startswith("cgroup_")},
        started=started,
    )
    own_work = job.work_dir is None
    work_root = Path(tempfile.mkdtemp(prefix="ag-")) if own_work else Path(job.work_dir)
    if job.sandbox:
        if sandboxed.sandbox_available():
            record.isolation["sandbox"] = "private root (see notebooks' runs)"
        else:
            record.isolation["sandbox"] = "unavailable: plain executor"
            record.isolation["sandbox_missing"] = sandboxed.sandbox_missing()
    else:
        record.isolation["sandbox"] = "off (--no-sandbox)"
    try:
        Path(job.staging_dir).mkdir(parents=True, exist_ok=True)
        sources = _match_notebooks(Path(job.submission_dir), job)
        for name in job.notebooks:
            nb_record, run_isolation = _grade_notebook(
                job, name, sources.get(name), work_root / name, isolation
            )
            record.notebooks.append(nb_record)
            if run_isolation is not None:
                record.isolation["sandbox"] = run_isolation
                used = run_isolation.get("used", {})
                for key in ("filesystem", "user", "kernel", "memory_bound", "processes_bound"):
                    if key in used:
                        record.isolation[key] = used[key]
    except Exception as exc:
        record.status = "error"
        record.reasons.append(f"grader error: {type(exc).__name__}: {exc}")
        record.reasons.append(traceback.format_exc(limit=5))
    finally:
        if own_work:
            shutil.rmtree(work_root, ignore_errors=True)
    record.update_status()
    record.finished = _now()
    record.seconds = round(time.monotonic() - t0, 3)
    return record


def _match_notebooks(folder: Path, job: GradeJob) -> dict[str, tuple[Path, str | None]]:
    """Map each assignment notebook to the submitted file to grade: its own file, else a
    renamed copy recognised by its grade ids (→ (path, original file name))."""
    found: dict[str, tuple[Path, str | None]] = {}
    if not folder.is_dir():
        return found
    expected = {f"{name}.ipynb": name for name in job.notebooks}
    extras: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix != ".ipynb":
            continue
        if path.name in expected:
            found[expected[path.name]] = (path, None)
        else:
            extras.append(path)
    missing = [n for n in job.notebooks if n not in found]
    if not missing or not extras:
        return found
    # a renamed notebook: the extra file sharing the most grade ids with a missing one
    extra_ids: dict[Path, set[str]] = {}
    for path in extras:
        nb, _ = load_submitted(path)
        if nb is not None:
            extra_ids[path] = notebook_grade_ids(nb)
    for name in missing:
        wanted = set(job.trusted_cells.get(name, {}))
        best = max(
            extra_ids, key=lambda p: (len(extra_ids[p] & wanted), -len(p.name)), default=None
        )
        if best is not None and extra_ids[best] & wanted:
            found[name] = (best, best.name)
            del extra_ids[best]
    return found


def _grade_notebook(
    job: GradeJob,
    name: str,
    source: tuple[Path, str | None] | None,
    work: Path,
    isolation: dict[str, object],
) -> tuple[NotebookRecord, dict[str, Any] | None]:
    started = time.monotonic()
    trusted = {gid: TrustedCell.from_dict(d) for gid, d in job.trusted_cells[name].items()}
    template = nbformat.read(os.path.join(job.release_dir, f"{name}.ipynb"), as_version=4)
    status, reasons = "graded", []
    student: NotebookNode | None = None
    if source is None:
        status = "missing"
        reasons.append(f"{name}.ipynb is missing from the submission: the release stub was graded")
    else:
        path, renamed_from = source
        student, load_reasons = load_submitted(path)
        reasons.extend(load_reasons)
        if student is None:
            status = "invalid_json"
            reasons.append("the release stub was graded instead")
        elif renamed_from is not None:
            reasons.append(f"graded {renamed_from!r} as {name}.ipynb (renamed)")
    if student is None:
        nb = stub_notebook(template, trusted)
    else:
        nb, repairs = normalize(student, template, trusted)
        reasons.extend(repairs)
        if reasons and status == "graded":
            status = "repaired"

    work.mkdir(parents=True, exist_ok=True)
    scratch = work / "scratch"
    _prepare_scratch(scratch, Path(job.submission_dir), Path(job.release_dir))
    skip = [] if job.full else skipped_cells(nb, template)
    normalize_seconds = time.monotonic() - started
    if job.sandbox and sandboxed.sandbox_available():
        executed = sandboxed.execute_notebook_sandboxed(
            nb,
            scratch,
            job.limits,
            isolation=isolation,
            work_dir=work,
            spec=job.spec_path,
            release_dir=job.release_dir,
            case_seed=job.case_seed,
            skip=skip,
            warm=job.warm,
        )
    else:
        executed = execute_notebook(
            nb,
            scratch,
            job.limits,
            isolation=isolation,
            work_dir=work,
            spec=job.spec_path,
            case_seed=job.case_seed,
            skip=skip,
        )
    if executed.status != "graded" and status in ("graded", "repaired"):
        status = executed.status
    reasons.extend(executed.reasons)
    nbformat.write(executed.nb, os.path.join(job.staging_dir, f"{name}.ipynb"))
    items = score_items(executed.nb)
    record = NotebookRecord(
        name=name,
        status=status,  # type: ignore[arg-type]
        reasons=reasons,
        seconds=round(executed.seconds, 3),
        items=items,
        peak_memory_bytes=executed.peak_memory_bytes,
        phases={"normalize": round(normalize_seconds, 3), **executed.phases},
    )
    record.recompute_score()
    return record, executed.isolation


def not_run_notebook(job: GradeJob, name: str, reason: str) -> NotebookNode:
    """The release stub of `name` with every graded code cell failed as not run: what is
    staged when a notebook could not be executed (it must score 0, never full marks)."""
    trusted = {gid: TrustedCell.from_dict(d) for gid, d in job.trusted_cells[name].items()}
    template = nbformat.read(os.path.join(job.release_dir, f"{name}.ipynb"), as_version=4)
    nb = stub_notebook(template, trusted)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [error_output(NOT_RUN_ENAME, f"this cell was not run: {reason}")]
    return nb


def _failed_notebook(job: GradeJob, name: str, reason: str) -> NotebookRecord:
    nb = not_run_notebook(job, name, reason)
    nbformat.write(nb, os.path.join(job.staging_dir, f"{name}.ipynb"))
    record = NotebookRecord(name=name, status="error", reasons=[reason], items=score_items(nb))
    record.recompute_score()
    return record


def _prepare_scratch(scratch: Path, submission: Path, release: Path) -> None:
    """The kernel's cwd: the submission's non-notebook files, then the release's helper
    files over them (a helper module is always the trusted copy)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    (scratch / ".tmp").mkdir()
    copied = 0
    if submission.is_dir():
        for path in sorted(submission.rglob("*")):
            if copied >= MAX_SCRATCH_FILES:
                break
            if (
                path.is_symlink()
                or not path.is_file()
                or path.suffix == ".ipynb"
                or ".ipynb_checkpoints" in path.parts
                or path.stat().st_size > MAX_SCRATCH_FILE_BYTES
            ):
                continue
            dest = scratch / path.relative_to(submission)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            copied += 1
    for path in sorted(release.iterdir()):
        if path.is_file() and path.suffix != ".ipynb":
            shutil.copyfile(path, scratch / path.name)


# ---- scoring ------------------------------------------------------------------------------


def score_items(nb: NotebookNode) -> list[ItemRecord]:
    """One :class:`ItemRecord` per grade cell, scored as nbgrader's autograde scores it."""
    from nbgrader.utils import determine_grade

    items = []
    for cell in nb.cells:
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if not nbg.get("grade"):
            continue
        gid = nbg["grade_id"]
        points, max_points = determine_grade(cell)
        if cell.cell_type != "code" or nbg.get("solution"):
            items.append(
                ItemRecord(
                    gid,
                    points,
                    max_points,
                    "manual",
                    "" if points is None else "no answer",
                    kind="manual",
                )
            )
            continue
        status, message = "passed", ""
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                status = "not_run" if out.get("ename") == NOT_RUN_ENAME else "failed"
                message = _first_line(f"{out.get('ename', '')}: {out.get('evalue', '')}")
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                status = "failed"
                message = _first_line(f"wrote to stderr: {out.get('text', '')}")
                break
        items.append(ItemRecord(gid, points, max_points, status, message))
    return items


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return text.strip()[:limit]
