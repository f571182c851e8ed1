"""Grade-only execution: the release's demonstration cells are not run when grading
(autograder.pipeline.runner.skipped_cells), so a slow demonstration can no longer push a
notebook past its wall-time limit and zero the graded cells after it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder.pipeline.limits import Limits
from autograder.pipeline.runner import execute_notebook, skipped_cells


def _cell(
    cell_id: str, source: str, role: str | None = None, graded: bool = False, locked: bool = False
):
    metadata: dict = {}
    if locked:  # as the release's demonstrations are: read-only, restored when graded
        metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True}
    if role:
        metadata["autograder"] = {"role": role}
    if graded:
        metadata["nbgrader"] = {
            "grade": True,
            "solution": False,
            "locked": True,
            "grade_id": cell_id,
            "points": 1,
            "schema_version": 3,
        }
    cell = new_code_cell(source, metadata=metadata)
    cell["id"] = cell_id
    return cell


def _template():
    return new_notebook(
        cells=[
            _cell("setup", "import time\nx = 1", role="setup"),
            _cell("demo", "time.sleep(60)\nprint('demo ran')", role="demo", locked=True),
            _cell("answer", "def f():\n    return x + 1", role="answer"),
            _cell("test", "assert f() == 2\nprint('tested')", role="hidden", graded=True),
        ]
    )


def test_only_the_templates_demonstrations_are_skipped() -> None:
    template = _template()
    assert skipped_cells(template, template) == [1]
    student = nbformat.from_dict(template)
    # a student's metadata decides nothing: calling the answer a demo does not skip it
    student.cells[2].metadata["autograder"] = {"role": "demo"}
    # a demonstration moved up, and one without its role, are found by id
    student.cells.insert(0, student.cells.pop(1))
    del student.cells[0].metadata["autograder"]
    assert skipped_cells(student, template) == [0]
    # an answer or graded cell is never skipped, whatever its id
    student.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "demo"}
    assert skipped_cells(student, template) == []
    # a notebook without cell ids (nbformat 4.4): everything runs
    old = nbformat.from_dict(template)
    for cell in old.cells:
        cell.pop("id")
    assert skipped_cells(old, template) == []


def test_a_slow_demonstration_no_longer_times_out_the_graded_cells(tmp_path: Path) -> None:
    nb = _template()
    limits = Limits(wall_seconds=15)
    graded = execute_notebook(nb, tmp_path, limits, skip=skipped_cells(nb, nb))
    assert graded.status == "graded", graded.reasons
    outputs = {c["id"]: c.get("outputs", []) for c in graded.nb.cells}
    assert outputs["demo"] == []
    assert any("tested" in o.get("text", "") for o in outputs["test"])
    # --full: every cell runs, as nbgrader would, and the demonstration costs the test
    full = execute_notebook(nb, tmp_path, limits)
    assert full.status == "timeout"
    test_out = next(c for c in full.nb.cells if c["id"] == "test").outputs
    assert test_out and test_out[0]["output_type"] == "error"
