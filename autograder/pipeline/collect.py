"""`autograder collect`: submissions into `submitted/<student>/<assignment>/`.

Two sources:

- ``--from exchange``: ``nbgrader collect <assignment> --update`` from the nbgrader
  exchange (``--exchange DIR`` overrides ``Exchange.root``).
- ``--from-zip FILE``: a zip downloaded from an LMS. Every file in it (nested zips
  included) is matched against the LMS naming schemes below; notebook names are normalised
  (case, spaces, the "-1" / " (1)" suffixes of re-uploads) to the released notebook names;
  of several versions of one student's notebook the latest is kept. The kept files are then
  handed to ``nbgrader zip_collect`` under canonical names, with the matching
  ``FileNameCollectorPlugin.named_regexp`` given on its command line (nothing to edit in
  nbgrader_config.py), so nbgrader writes `submitted/` and `timestamp.txt` itself.

Naming schemes understood (a ``--pattern`` of your own is tried first):

- attempt (Blackboard, nbgrader's documentation):
  ``hw1_jdoe_attempt_2026-11-20-13-05-12_01_intro.ipynb``
- Canvas: ``jdoe_12345_67890_01_intro.ipynb`` (``jdoe_LATE_12345_...`` for a
  late one; the larger attachment id, the second number, is the later upload)

Every file that is not collected is reported with the reason: not a notebook, a name that
matches no scheme, a notebook that is not part of the assignment, an older duplicate.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from .course import Course, PipelineError, open_course, run_nbgrader

LMS_PATTERNS: dict[str, str] = {
    "attempt": (
        r"^(?:.*_)?(?P<student_id>[^_/]+)_attempt_"
        r"(?P<timestamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})_(?P<file_id>.+)$"
    ),
    "canvas": (
        r"^(?P<student_id>[^_/]+)(?P<late>_LATE)?_(?P<user_id>\d+)_(?P<attachment_id>\d+)_"
        r"(?P<file_id>.+)$"
    ),
}
"""Regular expressions on a submitted file's base name; named groups ``student_id`` and
``file_id`` are required, ``timestamp`` (YYYY-MM-DD-HH-MM-SS) and ``attachment_id`` order
duplicates."""

TIMESTAMP_FORMAT = "%Y-%m-%d-%H-%M-%S"
CANONICAL_TIMESTAMP = "%Y%m%dT%H%M%S"
"""Timestamps in the names handed to nbgrader: compact ISO 8601. (nbgrader's own example
format 2016-01-30-15-00-00 is misread by its date parser: "-15" becomes a time zone.)"""

NBGRADER_REGEXP = (
    r".*/(?P<student_id>[^/]+?)_attempt_(?:(?P<timestamp>\d{8}T\d{6})_)?(?P<file_id>[^/]+)$"
)
"""The FileNameCollectorPlugin.named_regexp matching :func:`canonical_name`."""

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
_COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+)$")
_IGNORED_ENTRY = re.compile(r"(^|/)(__MACOSX|\.DS_Store|Thumbs\.db)(/|$)")
MAX_NESTING = 3
"""How deep zips inside zips are opened."""


@dataclass(frozen=True)
class Submitted:
    """One submitted notebook recognised in the download."""

    file: str  # path inside the download, for the report
    student: str
    notebook: str  # release notebook file name, e.g. "01_paths.ipynb"
    timestamp: datetime | None
    order: tuple
    path: Path  # extracted file


@dataclass
class CollectReport:
    """What `collect` did, file by file."""

    collected: dict[str, list[str]] = field(default_factory=dict)  # student -> notebooks
    timestamps: dict[str, str] = field(default_factory=dict)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (dropped, kept)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (file, notebook)
    missing: dict[str, list[str]] = field(default_factory=dict)  # student -> notebooks

    def lines(self) -> list[str]:
        out = [f"collected {len(self.collected)} student(s):"]
        for student, notebooks in sorted(self.collected.items()):
            when = f" (submitted {self.timestamps[student]})" if student in self.timestamps else ""
            out.append(f"  {student}: {', '.join(notebooks)}{when}")
        if self.renamed:
            out.append(f"renamed to the released notebook name ({len(self.renamed)}):")
            out += [f"  {f} -> {nb}" for f, nb in self.renamed]
        if self.duplicates:
            out.append(f"older duplicates not collected ({len(self.duplicates)}):")
            out += [f"  {dropped} (kept {kept})" for dropped, kept in self.duplicates]
        if self.unmatched:
            out.append(f"files not collected ({len(self.unmatched)}):")
            out += [f"  {f}: {reason}" for f, reason in self.unmatched]
        if self.missing:
            out.append("notebooks missing from a submission (they will be graded as missing):")
            out += [f"  {s}: {', '.join(nbs)}" for s, nbs in sorted(self.missing.items())]
        return out


# ---------------------------------------------------------------------------------------------
# Names


def normalise_notebook(file_id: str, notebooks: Sequence[str]) -> str | None:
    """The released notebook (file name) that `file_id` names, or None.

    Case, spaces/hyphens for underscores, and re-upload suffixes ("-1", " (2)") are ignored.
    """
    stem = file_id[:-6] if file_id.lower().endswith(".ipynb") else file_id
    by_key = {_key(Path(nb).stem): nb for nb in notebooks}
    for candidate in (stem, _COPY_SUFFIX.sub("", stem)):
        found = by_key.get(_key(candidate))
        if found:
            return found
    return None


def _key(stem: str) -> str:
    return re.sub(r"[\s\-]+", "_", stem.strip()).lower()


def parse_name(
    name: str, notebooks: Sequence[str], patterns: Sequence[str]
) -> tuple[dict | None, str]:
    """(match info, "") for a recognised submission file name, else (None, reason)."""
    if not name.lower().endswith(".ipynb"):
        return None, "not a notebook"
    for pattern in patterns:
        match = re.match(pattern, name)
        if not match:
            continue
        groups = match.groupdict()
        if "student_id" not in groups or "file_id" not in groups:
            raise PipelineError(f"pattern {pattern!r} needs the groups student_id and file_id")
        student, file_id = groups["student_id"], groups["file_id"]
        if not student or not STUDENT_ID.match(student):
            return None, f"student id {student!r} is not usable as a folder name"
        notebook = normalise_notebook(file_id, notebooks)
        if notebook is None:
            close = difflib.get_close_matches(file_id, notebooks, n=1, cutoff=0.6)
            hint = f" (did they mean {close[0]}?)" if close else ""
            return None, (
                f"{file_id!r} is not a notebook of the assignment{hint}; expected one of "
                f"{', '.join(notebooks)}"
            )
        timestamp = None
        if groups.get("timestamp"):
            try:
                timestamp = datetime.strptime(groups["timestamp"], TIMESTAMP_FORMAT)
            except ValueError:
                return None, f"unreadable timestamp {groups['timestamp']!r}"
        copy = _COPY_SUFFIX.search(Path(file_id).stem) if file_id else None
        copy_index = int(re.sub(r"\D", "", copy.group(0))) if copy else 0
        attachment = int(groups.get("attachment_id") or -1)
        order = (timestamp or datetime.min, attachment, copy_index, name)
        return {
            "student": student,
            "notebook": notebook,
            "timestamp": timestamp,
            "order": order,
            "renamed": Path(file_id).name != notebook,
        }, ""
    return None, "the name matches no LMS naming scheme (student id and notebook name)"


def canonical_name(student: str, notebook: str, timestamp: datetime | None) -> str:
    """The name a kept file gets for nbgrader zip_collect (matched by NBGRADER_REGEXP)."""
    if timestamp is None:
        return f"{student}_attempt_{notebook}"
    return f"{student}_attempt_{timestamp.strftime(CANONICAL_TIMESTAMP)}_{notebook}"


# ---------------------------------------------------------------------------------------------
# Zip files


def extract_all(
    zip_path: Path, dest: Path, report: CollectReport, prefix: str = "", depth: int = 0
) -> list[tuple[str, Path]]:
    """Extract `zip_path` (and zips inside it) safely; returns (name in download, file)."""
    files: list[tuple[str, Path]] = []
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        if depth == 0:
            raise PipelineError(f"{zip_path} is not a readable zip file: {exc}") from exc
        report.unmatched.append((prefix.rstrip("/"), f"unreadable zip: {exc}"))
        return files
    with archive:
        for index, info in enumerate(archive.infolist()):
            if info.is_dir():
                continue
            name = info.filename
            shown = prefix + name
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or "\\" in name:
                report.unmatched.append((shown, "unsafe path in the zip (not extracted)"))
                continue
            if _IGNORED_ENTRY.search(name):
                continue
            target = dest / f"{depth}_{index}" / PurePosixPath(name).name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            if name.lower().endswith(".zip") and depth < MAX_NESTING:
                files += extract_all(
                    target,
                    dest / f"{depth}_{index}_zip",
                    report,
                    prefix=shown + "/",
                    depth=depth + 1,
                )
            else:
                files.append((shown, target))
    return files


def select(
    files: Sequence[tuple[str, Path]],
    notebooks: Sequence[str],
    patterns: Sequence[str],
    report: CollectReport,
) -> list[Submitted]:
    """The latest version of each (student, notebook); everything else into `report`."""
    latest: dict[tuple[str, str], Submitted] = {}
    dropped: list[Submitted] = []
    for shown, path in files:
        info, reason = parse_name(PurePosixPath(shown).name, notebooks, patterns)
        if info is None:
            report.unmatched.append((shown, reason))
            continue
        item = Submitted(
            shown, info["student"], info["notebook"], info["timestamp"], info["order"], path
        )
        if info["renamed"]:
            report.renamed.append((shown, info["notebook"]))
        key = (item.student, item.notebook)
        if key not in latest:
            latest[key] = item
        elif item.order > latest[key].order:
            dropped.append(latest[key])
            latest[key] = item
        else:
            dropped.append(item)
    for item in dropped:
        report.duplicates.append((item.file, latest[(item.student, item.notebook)].file))
    return sorted(latest.values(), key=lambda s: (s.student, s.notebook))


def collect_zip(course: Course, zip_path: Path, *, patterns: Sequence[str] = ()) -> CollectReport:
    """Collect an LMS zip download into `submitted/` through nbgrader zip_collect."""
    notebooks = [p.name for p in course.release_notebooks()]
    if not notebooks:
        raise PipelineError(
            f"no released notebooks in {course.release_dir}: run `autograder build` first"
        )
    report = CollectReport()
    all_patterns = [*patterns, *LMS_PATTERNS.values()]
    with tempfile.TemporaryDirectory(prefix="autograder-collect-") as tmp:
        files = extract_all(Path(zip_path), Path(tmp), report)
        kept = select(files, notebooks, all_patterns, report)
        if not kept:
            return report
        archive = course.root / "downloaded" / course.assignment / "archive"
        if archive.exists():
            shutil.rmtree(archive)
        archive.mkdir(parents=True)
        for item in kept:
            shutil.copyfile(
                item.path, archive / canonical_name(item.student, item.notebook, item.timestamp)
            )
        run_nbgrader(
            course.root,
            "zip_collect",
            course.assignment,
            "--force",
            "--strict",
            f"--FileNameCollectorPlugin.named_regexp={NBGRADER_REGEXP}",
        )
    by_student: dict[str, list[Submitted]] = {}
    for item in kept:
        by_student.setdefault(item.student, []).append(item)
    for student, items in by_student.items():
        folder = course.submitted_dir(student)
        got = sorted(nb for nb in notebooks if (folder / nb).is_file())
        expected = sorted(i.notebook for i in items)
        if got != expected:
            raise PipelineError(
                f"nbgrader zip_collect did not collect {student}'s "
                f"{sorted(set(expected) - set(got))} into {folder}"
            )
        report.collected[student] = got
        stamp = folder / "timestamp.txt"
        if stamp.is_file():
            report.timestamps[student] = stamp.read_text().strip()
        absent = [nb for nb in notebooks if nb not in got]
        if absent:
            report.missing[student] = absent
    return report


def collect_exchange(
    course: Course, *, exchange: str | os.PathLike[str] | None = None, students: Sequence[str] = ()
) -> CollectReport:
    """`nbgrader collect --update` from the exchange; reports who was collected."""
    args = ["collect", course.assignment, "--update"]
    if exchange is not None:
        args.append(f"--Exchange.root={Path(exchange).resolve()}")
    if len(students) == 1:
        args.append(f"--student={students[0]}")
    proc = run_nbgrader(course.root, *args)
    log = proc.stdout + proc.stderr
    names = sorted(
        set(re.findall(r"Collecting submission: (\S+) " + re.escape(course.assignment), log))
    )
    if students:
        names = [n for n in names if n in set(students)]
    notebooks = [p.name for p in course.release_notebooks()]
    report = CollectReport()
    for student in names:
        folder = course.submitted_dir(student)
        report.collected[student] = sorted(p.name for p in folder.glob("*.ipynb"))
        stamp = folder / "timestamp.txt"
        if stamp.is_file():
            report.timestamps[student] = stamp.read_text().strip()
        absent = [nb for nb in notebooks if not (folder / nb).is_file()]
        if absent:
            report.missing[student] = absent
        extra = sorted(p.name for p in folder.glob("*.ipynb") if p.name not in notebooks)
        for name in extra:
            report.unmatched.append(
                (
                    f"{student}/{name}",
                    "not a notebook of the assignment (collected, but not graded)",
                )
            )
    for line in log.splitlines():
        if "| WARNING]" in line and "Collecting" not in line:
            report.unmatched.append(("exchange", line.split("]", 1)[-1].strip()))
    return report


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    source: str = "exchange",
    zip_file: str | os.PathLike[str] | None = None,
    exchange: str | os.PathLike[str] | None = None,
    patterns: Sequence[str] = (),
    students: Sequence[str] = (),
    assignment: str | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """`autograder collect`: from the exchange (default) or from an LMS zip (`zip_file`)."""
    course = open_course(course_dir, assignment)
    if zip_file is not None:
        report = collect_zip(course, Path(zip_file), patterns=patterns)
    elif source == "exchange":
        report = collect_exchange(course, exchange=exchange, students=students)
    else:
        raise PipelineError(f"unknown source {source!r}: use --from exchange or --from-zip FILE")
    for line in report.lines():
        out(line)
    return 0
