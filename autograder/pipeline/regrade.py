"""Regrading by difference: what a regrade changes, student by student and item by item.

``autograder grade --regrade --dry-run`` grades without touching the gradebook or the
records: the new records wait in ``.autograder/pending/<assignment>/`` (their executed
notebooks stay staged), and :func:`write_diff` writes ``exports/<assignment>/regrade.csv``
(one row per student and changed item: old and new points) with :func:`summary` printed.
``--apply`` imports them (a pending record whose grading key still matches is not executed
again) and writes the same table of what changed; ``--never-lower`` then keeps every item's
earlier score where the new one is lower, as a manual score in the gradebook, so formgrader,
exports and feedback all show it.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .records import STATE_DIR, SubmissionRecord

PENDING = "pending"
#: Points that differ by less than this are the same.
TOLERANCE = 1e-9

Points = dict[str, dict[str, float | None]]  # student → "notebook/grade id" → points


def pending_dir(course: Path, assignment: str) -> Path:
    return course / STATE_DIR / PENDING / assignment


def save_pending(course: Path, record: SubmissionRecord) -> None:
    folder = pending_dir(course, record.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{record.student}.json.tmp"
    tmp.write_text(record.to_json() + "\n", encoding="utf-8")
    os.replace(tmp, folder / f"{record.student}.json")


def load_pending(course: Path, assignment: str, student: str) -> SubmissionRecord | None:
    path = pending_dir(course, assignment) / f"{student}.json"
    try:
        return SubmissionRecord.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None


def drop_pending(course: Path, assignment: str, student: str) -> None:
    (pending_dir(course, assignment) / f"{student}.json").unlink(missing_ok=True)


def gradebook_points(db_url: str, assignment: str, students: Iterable[str]) -> Points:
    """Each student's current points per item in the gradebook (a manual score, where
    formgrader set one, over the automatic one); students without a submission: {}."""
    from nbgrader.api import Gradebook, MissingEntry

    out: Points = {}
    with Gradebook(db_url) as gb:
        for student in students:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                out[student] = {}
                continue
            points: dict[str, float | None] = {}
            for nb in submission.notebooks:
                for grade in nb.grades:
                    score = (
                        grade.manual_score if grade.manual_score is not None else grade.auto_score
                    )
                    points[f"{nb.name}/{grade.name}"] = None if score is None else float(score)
            out[student] = points
    return out


def record_points(
    record: SubmissionRecord, old: Mapping[str, float | None] | None = None
) -> dict[str, float | None]:
    """The record's points per item; a hand-graded item keeps its `old` points (a regrade
    does not grade it, and a dry run never reads the gradebook back)."""
    old = old or {}
    return {
        key: (old.get(key) if item.kind == "manual" else item.points)
        for key, item in record.items().items()
    }


def _differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > TOLERANCE


def diff_rows(old: Points, records: Sequence[SubmissionRecord]) -> list[dict[str, object]]:
    """One row per student whose total changes or who has a changed item: the totals, and
    each changed item as ``item``, ``old``, ``new`` (items of an unchanged student: none)."""
    rows: list[dict[str, object]] = []
    for record in records:
        before = old.get(record.student, {})
        after = record_points(record, before)
        old_total = sum(p for p in before.values() if p is not None)
        new_total = sum(p for p in after.values() if p is not None)
        changed = sorted(
            k for k in set(before) | set(after) if _differs(before.get(k), after.get(k))
        )
        base = {
            "student": record.student,
            "old_total": round(old_total, 6),
            "new_total": round(new_total, 6),
            "change": round(new_total - old_total, 6),
        }
        if not changed:
            rows.append({**base, "item": "", "old": "", "new": ""})
        for key in changed:
            rows.append({**base, "item": key, "old": before.get(key), "new": after.get(key)})
    return rows


def write_diff(exports_dir: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    exports_dir.mkdir(parents=True, exist_ok=True)
    path = exports_dir / "regrade.csv"
    fields = ["student", "old_total", "new_total", "change", "item", "old", "new"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in fields})
    return path


def summary(rows: Sequence[Mapping[str, object]], *, applied: bool) -> list[str]:
    """The terminal summary: how many students change, by how much, on which items."""
    totals = {str(r["student"]): float(r["change"]) for r in rows}  # type: ignore[arg-type]
    up = sorted(c for c in totals.values() if c > TOLERANCE)
    down = sorted(c for c in totals.values() if c < -TOLERANCE)
    items = Counter(str(r["item"]) for r in rows if r["item"])
    verb = "changed" if applied else "would change"
    lines = [
        f"regrade: {len(up) + len(down)} of {len(totals)} student(s) {verb} total "
        f"({len(up)} up, {len(down)} down)"
    ]
    if up:
        lines.append(f"  up by {up[0]:g} to {up[-1]:g} points")
    if down:
        lines.append(f"  down by {-down[-1]:g} to {-down[0]:g} points")
    for item, count in items.most_common():
        lines.append(f"  {item}: {count} student(s)")
    if not items:
        lines.append("  no item changes")
    return lines


def keep_higher(db_url: str, record: SubmissionRecord, old: Mapping[str, float | None]) -> int:
    """--never-lower: where an item's new points are below its earlier ones, keep the earlier
    as a manual score in the gradebook and in `record`. Returns how many items were kept."""
    from nbgrader.api import Gradebook, MissingEntry

    lower = {
        key: before
        for key, item in record.items().items()
        if item.kind != "manual"
        and (before := old.get(key)) is not None
        and item.points is not None
        and item.points < before - TOLERANCE
    }
    if not lower:
        return 0
    with Gradebook(db_url) as gb:
        for key, before in lower.items():
            notebook, grade_id = key.split("/", 1)
            try:
                grade = gb.find_grade(grade_id, notebook, record.assignment, record.student)
            except MissingEntry:
                continue
            grade.manual_score = before
            gb.db.commit()
    for nb in record.notebooks:
        for item in nb.items:
            key = f"{nb.name}/{item.grade_id}"
            if key in lower:
                item.message = (
                    f"kept the earlier {lower[key]:g} point(s) (--never-lower; the regrade gave "
                    f"{item.points:g}: {item.message})"
                )[:300]
                item.points = lower[key]
        nb.recompute_score()
    return len(lower)
