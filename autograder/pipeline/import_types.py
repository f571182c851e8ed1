"""What travels between the coordinator and a worker for the gradebook import on the worker
(:mod:`.worker_import`): plain data, importing nothing of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Rows by table: what one student has in the gradebook for one assignment.
Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class ImportKit:
    """What a worker needs to import one submission into a private gradebook.

    Attributes:
        config: the course's nbgrader config (:func:`.grade.load_config`).
        source_dir: the course's ``source/`` folder, absolute (nbgrader copies the
            assignment's non-notebook files from it into ``autograded/``); workers have the
            course source at the same path (see :mod:`.portable`).
        template: path of the gradebook template (:func:`.worker_import.make_template`).
        rows: the student's rows when the job was made (:func:`.worker_import.student_rows`).
        timestamp: the submission's ``timestamp.txt`` (None: none).
        template_bytes: the template itself, for a worker on another machine (set by
            :func:`.portable.pack`).
    """

    config: Any
    source_dir: str
    template: str
    rows: Rows
    timestamp: str | None = None
    template_bytes: bytes | None = None


@dataclass
class ImportResult:
    """The student's rows after the worker's import, and the ``autograded`` files."""

    rows: Rows | None
    autograded: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
