"""Content hashes of what decides a grade, so a run can resume and skip unchanged work.

A record carries two keys (``SubmissionRecord.cache_keys``):

``submission``
    the student's files as a grading job reads them (:func:`.portable.submission_files`);
``grading``
    that, plus everything else that decides the grade: the release, the trusted test cells
    from the gradebook, the assignment's spec, hidden checks and reference (their files),
    the grading engine's own source, the installed distributions and Python's version (the
    pinned environment), and the job's options (limits, full or grade-only, whether the
    sandbox is used, the student's case seed).

``grade`` reuses a record whose ``grading`` key is unchanged instead of executing the
submission again, and its default selection regrades a student whose ``submission`` key
changed (a resubmission). A record is complete only once phase 2 imported it into the
gradebook and saved it, so a coordinator killed mid-run leaves the unfinished students without
a complete record: the next run grades exactly those.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from autograder.spec import AssignmentSpec

from . import sandboxed
from .portable import submission_files
from .worker import GradeJob

ENGINE_DIR = Path(__file__).resolve().parents[1]


def _digest(parts: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in parts:
        h.update(len(name).to_bytes(8, "big") + name.encode())
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _tree(
    folder: Path | None, label: str, suffixes: tuple[str, ...] = ()
) -> list[tuple[str, bytes]]:
    """(label/relative path, bytes) of every file below `folder`, caches left out."""
    if folder is None or not folder.exists():
        return []
    if folder.is_file():
        return [(label, folder.read_bytes())]
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if suffixes and path.suffix not in suffixes:
            continue
        out.append((f"{label}/{path.relative_to(folder).as_posix()}", path.read_bytes()))
    return out


@functools.lru_cache(maxsize=1)
def environment_key() -> str:
    """The grading environment: Python's version, every installed distribution's version,
    and the engine's own source (computed once per process)."""
    dists = sorted(
        {f"{d.metadata['Name']}=={d.version}".lower() for d in importlib.metadata.distributions()}
    )
    parts = [("python", sys.version.encode()), ("distributions", "\n".join(dists).encode())]
    parts += _tree(ENGINE_DIR, "engine", (".py",))
    return _digest(parts)


def course_key(spec: AssignmentSpec) -> str:
    """The assignment's spec file, hidden checks and reference solutions."""
    parts = [("spec", spec.path.read_bytes())]
    parts += _tree(spec.checks_dir, "checks")
    if spec.reference_package and spec.reference_path is not None:
        top = spec.reference_package.split(".")[0]
        base = spec.reference_path / top
        parts += _tree(base if base.exists() else base.with_suffix(".py"), "reference")
    return _digest(parts)


def submission_key(submission_dir: str | Path) -> str:
    return _digest(sorted(submission_files(Path(submission_dir)).items()))


def grading_key(job: GradeJob, course: str, submission: str) -> str:
    """Everything that decides `job`'s grade (see the module docstring)."""
    release = Path(job.release_dir)
    options: Mapping[str, Any] = {
        "limits": job.limits.to_dict(),
        "full": job.full,
        # what the run gets, not only what it asks for: a record graded by the plain
        # executor is not kept once the sandbox is available (and the other way round)
        "sandbox": job.sandbox and sandboxed.sandbox_available(),
        "case_seed": job.case_seed,
        "notebooks": list(job.notebooks),
        "trusted_cells": job.trusted_cells,
    }
    parts = [
        ("environment", environment_key().encode()),
        ("course", course.encode()),
        ("submission", submission.encode()),
        ("options", json.dumps(options, sort_keys=True, default=str).encode()),
    ]
    parts += _tree(release, "release")
    return _digest(parts)
