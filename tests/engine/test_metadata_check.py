"""The gradebook import's faster nbgrader steps give nbgrader's results: the metadata check
(autograder.pipeline.metadata_check, its JSON schema compiled once) and the grade saving
(autograder.pipeline.save_grades, one commit per notebook)."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

from autograder.pipeline.metadata_check import CheckCellMetadataOnce, FastMetadataValidator
from autograder.pipeline.nbimport import (
    _autograde_preprocessors,
    _ensure_path,
    _sanitize_preprocessors,
)

NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "fixtures" / "pipeline" / "source" / "landscapes"
) / "01_tiny.ipynb"

MUTATIONS = {
    "valid": lambda m: None,
    "points not a number": lambda m: m.update(points="x"),
    "schema too old": lambda m: m.update(schema_version=2),
    "schema too new": lambda m: m.update(schema_version=4),
    "no grade id": lambda m: m.pop("grade_id"),
    "grade not a bool": lambda m: m.update(grade="yes"),
    "an extra key": lambda m: m.update(extra=1),
}


def _verdict(validator: type, nb) -> str:
    try:
        validator().validate_nb(nb)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return "ok"


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_same_verdicts_as_nbgrader(mutation: str) -> None:
    nb = copy.deepcopy(nbformat.read(NOTEBOOK, as_version=4))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    MUTATIONS[mutation](cell.metadata["nbgrader"])
    expected = _verdict(MetadataValidator, nb)
    assert _verdict(FastMetadataValidator, nb) == expected
    assert (expected == "ok") == (mutation == "valid")


def test_the_import_uses_the_faster_steps() -> None:
    from nbgrader.preprocessors import SaveAutoGrades

    from autograder.pipeline.save_grades import SaveAutoGradesAtOnce

    class Config(dict):
        def __getattr__(self, name):
            return self.setdefault(name, Config())

    steps = _autograde_preprocessors(Config())
    assert CheckCellMetadataOnce in steps and CheckCellMetadata not in steps
    assert SaveAutoGradesAtOnce in steps and SaveAutoGrades not in steps
    sanitize = _sanitize_preprocessors(Config())
    assert CheckCellMetadataOnce in sanitize and CheckCellMetadata not in sanitize
    assert sanitize[:-1] == [s for s in sanitize if s is not CheckCellMetadataOnce]  # order kept


# ---- SaveAutoGradesAtOnce: nbgrader's grades, one commit per notebook ----------------------


def _gradebook(url: str, nb) -> None:
    from nbgrader.api import Gradebook

    _ensure_path()  # nbgrader runs `alembic` from PATH on a new gradebook
    with Gradebook(url) as gb:
        gb.add_assignment("a")
        gb.add_student("s")
        gb.add_notebook("n", "a")
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                gb.add_grade_cell(
                    meta["grade_id"], "n", "a", max_score=meta["points"], cell_type=cell.cell_type
                )
            if meta.get("solution"):
                gb.add_solution_cell(meta["grade_id"], "n", "a")
        gb.add_submission("a", "s")


def _saved(tmp_path: Path, step: type, nb, manual: str) -> tuple[dict, int]:
    from nbgrader.api import Gradebook
    from sqlalchemy import event

    url = f"sqlite:///{tmp_path / (step.__name__ + '.db')}"
    _gradebook(url, nb)
    with Gradebook(url) as gb:  # a grader's manual score, kept by both
        grade = gb.find_grade(manual, "n", "a", "s")
        grade.manual_score = 0.5
        gb.db.commit()
    commits = []
    original = Gradebook.__init__

    def counting_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        event.listen(self.engine, "commit", lambda conn: commits.append(1))

    resources = {"nbgrader": {"notebook": "n", "assignment": "a", "student": "s", "db_url": url}}
    Gradebook.__init__ = counting_init
    try:
        step().preprocess(copy.deepcopy(nb), resources)
    finally:
        Gradebook.__init__ = original
    with Gradebook(url) as gb:
        sub = gb.find_submission_notebook("n", "a", "s")
        grades = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in sub.grades}
        comments = {c.name: c.auto_comment for c in sub.comments}
    return {"grades": grades, "comments": comments}, len(commits)


def test_saving_grades_at_once_writes_what_nbgrader_writes(tmp_path: Path) -> None:
    from nbgrader.preprocessors import SaveAutoGrades

    from autograder.pipeline.save_grades import SaveAutoGradesAtOnce

    nb = copy.deepcopy(nbformat.read(NOTEBOOK, as_version=4))
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    code = [c for c in graded if c.cell_type == "code"]
    assert len(code) >= 2 and len(graded) >= 3
    code[0].outputs = [nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[])]
    manual = graded[-1].metadata["nbgrader"]["grade_id"]
    theirs, their_commits = _saved(tmp_path, SaveAutoGrades, nb, manual)
    ours, our_commits = _saved(tmp_path, SaveAutoGradesAtOnce, nb, manual)
    assert ours == theirs
    assert {s for s, _m, _n in theirs["grades"].values()} >= {0.0}  # a failed cell scored 0
    assert our_commits == 1 < their_commits
