"""Typed grading records with a stable JSON form.

A :class:`SubmissionRecord` is what grading one student's submission produces: one
:class:`NotebookRecord` per notebook of the assignment, each with one :class:`ItemRecord`
per graded cell (grade id). A submission that cannot be graded (missing or unreadable
notebook, timeout, crash) still gets a record whose ``status`` and ``reasons`` say why.

The JSON form (``to_json`` / ``from_json``) is the contract between the grading core and
the feedback, export and report steps; its field names are stable, and ``schema_version``
changes whenever they do. Timestamps and durations are in the record, but
:meth:`SubmissionRecord.comparable` leaves them out: it is what "grading twice gives the
same result" compares.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = 2

ItemStatus = Literal["passed", "failed", "not_run", "manual"]
"""passed / failed: an autograded test cell ran without / with an error output; not_run: the
cell never ran (the kernel died, timed out or was stopped before it); manual: a cell graded by
hand in formgrader (points stay None until an instructor grades it)."""

NotebookStatus = Literal[
    "graded",  # executed as submitted (after restoring the trusted test cells)
    "repaired",  # executed, but the submission had to be repaired first (see reasons)
    "missing",  # no such notebook in the submission: the release stub was graded instead
    "invalid_json",  # unreadable / not a valid notebook: the release stub was graded instead
    "timeout",  # the wall-time limit stopped the kernel; later cells are not_run
    "kernel_died",  # the kernel process died (os._exit, segfault, killed); later cells not_run
    "memory_limit",  # the memory limit killed the kernel or an allocation failed with it
    "output_limit",  # a cell printed more than the output limit: the kernel was stopped
    "error",  # the grader itself failed on this notebook (see reasons)
]

SubmissionStatus = Literal[
    "graded",  # every notebook "graded"
    "repaired",  # every notebook executed, at least one after a repair
    "incomplete",  # at least one notebook missing, unreadable, timed out or crashed
    "error",  # the grader failed (worker crash or gradebook import failure): see reasons
]

# Order of severity for the overall status, worst last.
_NOTEBOOK_PROBLEM = (
    "missing",
    "invalid_json",
    "timeout",
    "kernel_died",
    "memory_limit",
    "output_limit",
)


@dataclass
class ItemRecord:
    """One graded cell (nbgrader grade id) of a notebook.

    ``points`` is None only for a ``manual`` item not graded yet. ``message`` is the first
    line of the feedback (the error's message for a failed test, the reason for not_run).
    ``kind`` is "autograded" (a test cell) or "manual" (a hand-graded answer cell).
    """

    grade_id: str
    points: float | None
    max_points: float
    status: ItemStatus
    message: str = ""
    kind: str = "autograded"

    def __post_init__(self) -> None:
        self.points = None if self.points is None else float(self.points)
        self.max_points = float(self.max_points)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemRecord:
        return cls(
            grade_id=data["grade_id"],
            points=data.get("points"),
            max_points=float(data["max_points"]),
            status=data["status"],
            message=data.get("message", ""),
            kind=data.get("kind", "autograded"),
        )


@dataclass
class NotebookRecord:
    """One notebook of a submission: how it ran and what each graded cell scored.

    ``name`` is the notebook's file stem without ``.ipynb`` (as nbgrader names notebooks).
    ``reasons`` are human-readable sentences (repairs made, why the kernel stopped).
    ``seconds`` is the wall time of execution; ``peak_memory_bytes`` the kernel's peak
    resident memory when measurable, else None. ``score`` / ``max_score`` sum the items
    (manual items count 0 until graded). ``phases`` are the seconds spent by phase
    (``normalize``, ``kernel_start``, ``cells:<role>``, ``cases``, ``verdicts``), for
    benchmarks: never compare them across runs.
    """

    name: str
    status: NotebookStatus
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    items: list[ItemRecord] = field(default_factory=list)
    peak_memory_bytes: int | None = None
    phases: dict[str, float] = field(default_factory=dict)

    def recompute_score(self) -> None:
        """Set ``score`` and ``max_score`` from the items."""
        self.score = float(sum(i.points or 0.0 for i in self.items))
        self.max_score = float(sum(i.max_points for i in self.items))

    def item(self, grade_id: str) -> ItemRecord:
        for it in self.items:
            if it.grade_id == grade_id:
                return it
        raise KeyError(f"notebook {self.name!r} has no graded item {grade_id!r}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NotebookRecord:
        return cls(
            name=data["name"],
            status=data["status"],
            reasons=list(data.get("reasons", [])),
            seconds=float(data.get("seconds", 0.0)),
            score=float(data.get("score", 0.0)),
            max_score=float(data.get("max_score", 0.0)),
            items=[ItemRecord.from_dict(i) for i in data.get("items", [])],
            peak_memory_bytes=data.get("peak_memory_bytes"),
            phases={k: float(v) for k, v in data.get("phases", {}).items()},
        )


@dataclass
class SubmissionRecord:
    """The result of grading one student's submission of one assignment.

    ``status`` is the overall status (see :data:`SubmissionStatus`); ``reasons`` are
    submission-level problems (a worker crash, a gradebook import failure). ``isolation``
    says which limits were actually enforced (e.g. ``{"memory": "rlimit_as", "wall":
    "kill_process_group", ...}``). ``imported`` is True once phase 2 wrote the scores into
    the gradebook. ``started`` / ``finished`` are ISO-8601 UTC timestamps and ``seconds``
    the total wall time: never compare them across runs (use :meth:`comparable`).
    ``cases`` says which hidden cases were graded: ``"per-student (secret <fingerprint>)"``
    or ``"fixed"`` (see :mod:`autograder.checks.seeding`). ``withheld`` lists the
    student's feedback pages that were withheld, each with the reason. ``phases`` holds the
    submission-level seconds by phase (``gradebook_import``), for benchmarks.
    ``cache_keys`` are the content hashes of :mod:`.cache` (``submission``, ``grading``): what
    the record was graded from, so an unchanged submission is not executed again.
    """

    student: str
    assignment: str
    status: SubmissionStatus
    notebooks: list[NotebookRecord] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    isolation: dict[str, Any] = field(default_factory=dict)
    imported: bool = False
    started: str = ""
    finished: str = ""
    seconds: float = 0.0
    cases: str = ""
    withheld: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    cache_keys: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def score(self) -> float:
        return float(sum(nb.score for nb in self.notebooks))

    @property
    def max_score(self) -> float:
        return float(sum(nb.max_score for nb in self.notebooks))

    def notebook(self, name: str) -> NotebookRecord:
        for nb in self.notebooks:
            if nb.name == name:
                return nb
        raise KeyError(f"submission of {self.student!r} has no notebook {name!r}")

    def items(self) -> dict[str, ItemRecord]:
        """Every graded item, keyed ``"<notebook>/<grade_id>"``."""
        return {f"{nb.name}/{it.grade_id}": it for nb in self.notebooks for it in nb.items}

    def update_status(self) -> None:
        """Derive the overall ``status`` from the notebooks (keeps "error" if set)."""
        if self.status == "error":
            return
        statuses = {nb.status for nb in self.notebooks}
        if "error" in statuses:
            self.status = "error"
        elif statuses & set(_NOTEBOOK_PROBLEM):
            self.status = "incomplete"
        elif "repaired" in statuses:
            self.status = "repaired"
        else:
            self.status = "graded"

    # ---- JSON -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data, in a fixed key order; adds the derived ``score`` and ``max_score``."""
        data = asdict(self)
        data["score"] = self.score
        data["max_score"] = self.max_score
        order = [
            "schema_version",
            "student",
            "assignment",
            "status",
            "score",
            "max_score",
            "reasons",
            "imported",
            "isolation",
            "cases",
            "withheld",
            "phases",
            "cache_keys",
            "started",
            "finished",
            "seconds",
            "notebooks",
        ]
        return {k: data[k] for k in order}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionRecord:
        version = int(data.get("schema_version", SCHEMA_VERSION))
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"record schema_version {version} is newer than this grader's {SCHEMA_VERSION}"
            )
        return cls(
            student=data["student"],
            assignment=data["assignment"],
            status=data["status"],
            notebooks=[NotebookRecord.from_dict(nb) for nb in data.get("notebooks", [])],
            reasons=list(data.get("reasons", [])),
            isolation=dict(data.get("isolation", {})),
            imported=bool(data.get("imported", False)),
            started=data.get("started", ""),
            finished=data.get("finished", ""),
            seconds=float(data.get("seconds", 0.0)),
            cases=str(data.get("cases", "")),
            withheld=list(data.get("withheld", [])),
            phases={k: float(v) for k, v in data.get("phases", {}).items()},
            cache_keys={str(k): str(v) for k, v in data.get("cache_keys", {}).items()},
            schema_version=version,
        )

    @classmethod
    def from_json(cls, text: str) -> SubmissionRecord:
        return cls.from_dict(json.loads(text))

    def comparable(self) -> dict[str, Any]:
        """The record without timestamps, durations or memory peaks: equal across reruns."""
        data = self.to_dict()
        for key in ("started", "finished", "seconds"):
            data.pop(key)
        data.pop("phases")
        for nb in data["notebooks"]:
            nb.pop("seconds")
            nb.pop("peak_memory_bytes")
            nb.pop("phases")
        return data


STATE_DIR = ".autograder"
"""The grading core's private state inside a course dir (records, staged notebooks)."""


def records_dir(course_dir: str | os.PathLike[str], assignment: str) -> Path:
    """``<course_dir>/.autograder/records/<assignment>``: the latest record of each graded
    student of an assignment."""
    return Path(course_dir) / STATE_DIR / "records" / assignment


def record_path(course_dir: str | os.PathLike[str], student: str, assignment: str) -> Path:
    """``<course_dir>/.autograder/records/<assignment>/<student>.json``."""
    return records_dir(course_dir, assignment) / f"{student}.json"


def save_record(course_dir: str | os.PathLike[str], record: SubmissionRecord) -> Path:
    """Write `record` to :func:`record_path` (atomically) and return the path."""
    path = record_path(course_dir, record.student, record.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(record.to_json() + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_records(course_dir: str | os.PathLike[str], assignment: str) -> list[SubmissionRecord]:
    """Every saved record of an assignment of the course dir, sorted by student id."""
    folder = records_dir(course_dir, assignment)
    if not folder.is_dir():
        return []
    return [
        SubmissionRecord.from_json(p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.json"))
    ]
