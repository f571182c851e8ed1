"""The tiny fixture course of the grading tests (tests/fixtures/pipeline: one notebook
`01_tiny` with `barrier_height` and `prune_count`, checked by the real hidden-check registry):
building it, filling its release with the reference solutions or other answers, submitting.

Used by test_pipeline_grade.py (the grading core) and test_cheats.py (the attack corpus).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

from autograder.pipeline.normalize import grade_id_of
from tests.spec_support import write_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pipeline"
REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "landscapes"
NOTEBOOK = "01_tiny"

WRONG_BARRIER = "def barrier_height(losses):\n    return max(losses) - min(losses)\n"
WRONG_PRUNE = "def prune_count(n, fraction):\n    return int(fraction * n)\n"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def make_course(root: Path) -> Path:
    """A fresh course dir: fixture config + source, the real landscape_lab.py, a release."""
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(FIXTURES / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copy(
        FIXTURES / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", course / "source" / ASSIGNMENT
    )
    shutil.copy(REPO / "source" / ASSIGNMENT / "landscape_lab.py", course / "source" / ASSIGNMENT)
    write_spec(course / "source" / ASSIGNMENT, [NOTEBOOK])
    done = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return course


def solution_sources() -> dict[str, str]:
    """grade id → the reference solution cell's source without the nbgrader markers."""
    nb = nbformat.read(FIXTURES / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    out = {}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            lines = [
                ln
                for ln in cell.source.splitlines()
                if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            ]
            out[grade_id_of(cell)] = "\n".join(lines)
    return out


def release_nb(course: Path) -> nbformat.NotebookNode:
    return nbformat.read(course / "assignments" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def filled(course: Path, **overrides: str) -> nbformat.NotebookNode:
    """The release notebook with the reference solutions (or `overrides` by grade id)."""
    nb = release_nb(course)
    sources = {**solution_sources(), **overrides}
    for cell in nb.cells:
        gid = grade_id_of(cell)
        if gid in sources and cell.metadata.nbgrader.get("solution"):
            cell.source = sources[gid]
        elif gid == "explain_barrier":
            cell.source = "The middle of the path is 1.095 above the mean of its ends."
    return nb


def cell_index(nb: nbformat.NotebookNode, gid: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if grade_id_of(c) == gid)


def submit(course: Path, student: str, files: dict[str, Any]) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-11-20 13:05:12.000000 UTC")
    for name, content in files.items():
        if isinstance(content, nbformat.NotebookNode):
            # raw JSON: nbformat.write would "correct" the duplicate cell ids under test
            (folder / name).write_text(json.dumps(content, indent=1))
        else:
            (folder / name).write_text(str(content))
