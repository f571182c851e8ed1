"""Grading jobs that carry their files: phase 1 on machines that do not share the course dir.

The process pool's workers read the submission and the release from the course dir and write
the executed notebooks into its staging folder. A cluster's workers (:mod:`.cluster`) may be
other machines: :func:`pack` puts into the job the bytes of every file the worker would read
(the student's notebooks and the files the kernel's scratch copy takes, under the same
limits; the release's files), :func:`grade_packed` runs :func:`.worker.grade_submission` on a
private copy of them on the worker and returns the record with the executed notebooks, and
:func:`unpack` writes those into the coordinator's staging folder.

What a worker needs besides the job: the same pinned environment and the course's source at
the same path (the assignment's spec, hidden checks and reference are imported from
``job.spec_path``). The gradebook, the course secret and the other students' files stay with
the coordinator.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .records import SubmissionRecord
from .worker import MAX_SCRATCH_FILE_BYTES, MAX_SCRATCH_FILES, GradeJob, grade_submission
from .worker_import import ImportResult, import_if_asked

#: At most this many bytes of submitted files travel with a job (the notebooks first); what
#: is beyond is left out, as the scratch copy leaves out files past its own limits.
MAX_PACKED_BYTES = 256 * 2**20


@dataclass(frozen=True)
class PackedJob:
    """A :class:`GradeJob` with the files it reads (relative path → bytes)."""

    job: GradeJob
    submission: dict[str, bytes]
    release: dict[str, bytes]


@dataclass
class PackedResult:
    """The record of a packed job and the executed notebooks (``<name>.ipynb`` → bytes)."""

    record: SubmissionRecord
    staged: dict[str, bytes]
    phase2: ImportResult | None = None


def submission_files(folder: Path) -> dict[str, bytes]:
    """The files of `folder` a worker reads: its top-level notebooks, then what
    :func:`.worker._prepare_scratch` would copy (no symlinks, checkpoints or big files)."""
    files: dict[str, bytes] = {}
    if not folder.is_dir():
        return files
    total = copied = 0
    notebooks = [p for p in sorted(folder.iterdir()) if p.suffix == ".ipynb"]
    others = [p for p in sorted(folder.rglob("*")) if p.suffix != ".ipynb"]
    for path in notebooks + others:
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in path.parts:
            continue
        size = path.stat().st_size
        if size > MAX_SCRATCH_FILE_BYTES or total + size > MAX_PACKED_BYTES:
            continue
        if path.suffix != ".ipynb":
            if copied >= MAX_SCRATCH_FILES:
                break
            copied += 1
        files[path.relative_to(folder).as_posix()] = path.read_bytes()
        total += size
    return files


def pack(job: GradeJob) -> PackedJob:
    release = Path(job.release_dir)
    if job.phase2 is not None and job.phase2.template_bytes is None:  # the worker's gradebook
        kit = dataclasses.replace(job.phase2, template_bytes=Path(job.phase2.template).read_bytes())
        job = dataclasses.replace(job, phase2=kit)
    return PackedJob(
        job=job,
        submission=submission_files(Path(job.submission_dir)),
        release={p.name: p.read_bytes() for p in sorted(release.iterdir()) if p.is_file()},
    )


def _write_tree(root: Path, files: dict[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        dest = (root / rel).resolve()
        if root.resolve() not in dest.parents:  # a path that leaves the folder: not ours
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def grade_packed(packed: PackedJob) -> PackedResult:
    """Run on a worker: grade the packed job in a private folder, return what it produced."""
    root = Path(tempfile.mkdtemp(prefix="ag-packed-"))
    try:
        _write_tree(root / "submission", packed.submission)
        _write_tree(root / "release", packed.release)
        staging = root / "staging"
        staging.mkdir()
        job = dataclasses.replace(
            packed.job,
            submission_dir=str(root / "submission"),
            release_dir=str(root / "release"),
            staging_dir=str(staging),
            work_dir=None,
        )
        record = grade_submission(job)
        staged = {p.name: p.read_bytes() for p in sorted(staging.glob("*.ipynb"))}
        phase2 = import_if_asked(job, record, staging)
        return PackedResult(record=record, staged=staged, phase2=phase2)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def unpack(job: GradeJob, result: PackedResult) -> SubmissionRecord:
    """Write the executed notebooks into `job`'s staging folder; return the record (the
    worker's import, if any, stays in `result.phase2`)."""
    staging = Path(job.staging_dir)
    staging.mkdir(parents=True, exist_ok=True)
    expected = {f"{name}.ipynb" for name in job.notebooks}
    for name, data in result.staged.items():
        if name in expected:
            (staging / name).write_bytes(data)
    return result.record
