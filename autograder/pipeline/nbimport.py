"""Phase 2 of `autograder grade`: nbgrader's own autograde, with execution replayed.

nbgrader's ``Autograde`` converter imports a staged executed notebook into a gradebook, with
its ``Execute`` preprocessor replaced by :class:`ReplayExecution`, which copies the outputs
of the staged notebook instead of executing again. nbgrader's sanitising (ClearOutput,
DeduplicateIds, OverwriteCells, ...), SaveAutoGrades, late penalties and the
``autograded/<student>/<assignment>/`` notebooks work unchanged, so formgrader,
``nbgrader generate_feedback`` and ``nbgrader export`` keep working.

:func:`import_submission` runs it for one student against any course dir and gradebook: the
coordinator's own (:mod:`.grade`), or a worker's private copy (:mod:`.worker_import`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from traitlets import Unicode

from autograder.errors import GradingError

from .normalize import grade_id_of
from .runner import NOT_RUN_ENAME

try:  # nbgrader's preprocessor base class (importing nbgrader is slow: only here)
    from nbgrader.preprocessors import NbGraderPreprocessor
except ImportError:  # pragma: no cover - nbgrader is a dependency
    NbGraderPreprocessor = object  # type: ignore[assignment,misc]


# ---- the Execute replacement -----------------------------------------------------


class ReplayExecution(NbGraderPreprocessor):  # type: ignore[misc,valid-type]
    """nbgrader preprocessor that replays the outputs of an already executed notebook.

    Put in place of ``Execute`` in ``Autograde.autograde_preprocessors``. For each code cell
    it copies outputs and execution count from the staged executed notebook
    ``<staging_root>/<student>/<assignment>/<notebook>.ipynb``, matching cells by cell id
    and falling back to the grade id. A graded cell with no match gets an error output
    (it was never executed, so it must not score).
    """

    staging_root = Unicode("", help="Folder of the staged executed notebooks.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        path = os.path.join(
            self.staging_root, info["student"], info["assignment"], f"{info['notebook']}.ipynb"
        )
        executed = nbformat.read(path, as_version=4)
        by_id = {c.get("id"): c for c in executed.cells if c.cell_type == "code"}
        by_gid = {
            gid: c
            for c in executed.cells
            if c.cell_type == "code" and (gid := grade_id_of(c)) is not None
        }
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            gid = grade_id_of(cell)
            source = by_id.get(cell.get("id"))
            if source is None or (gid is not None and grade_id_of(source) != gid):
                source = by_gid.get(gid) if gid is not None else None
            if source is not None:
                cell.outputs = copy.deepcopy(source.get("outputs", []))
                cell.execution_count = source.get("execution_count")
            elif cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                cell.outputs = [
                    nbformat.v4.new_output(
                        "error",
                        ename=NOT_RUN_ENAME,
                        evalue="not executed by the grader",
                        traceback=[f"{NOT_RUN_ENAME}: not executed by the grader"],
                    )
                ]
        if "language_info" in executed.metadata:
            nb.metadata["language_info"] = copy.deepcopy(executed.metadata["language_info"])
        return nb, resources


def _ensure_path() -> None:
    """nbgrader runs `alembic` from PATH: put this interpreter's bin dir first."""
    bindir = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p != bindir]])


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(record.getMessage())


def _faster(step: Any) -> Any:
    """nbgrader's metadata check and grade saving replaced by faster versions of the same
    steps (see :mod:`.metadata_check` and :mod:`.save_grades`); any other step as it is."""
    from nbgrader.preprocessors import CheckCellMetadata, SaveAutoGrades

    from .metadata_check import CheckCellMetadataOnce
    from .save_grades import SaveAutoGradesAtOnce

    if step is CheckCellMetadata or step == "nbgrader.preprocessors.CheckCellMetadata":
        return CheckCellMetadataOnce  # the same check, its schema compiled once
    if step is SaveAutoGrades or step == "nbgrader.preprocessors.SaveAutoGrades":
        return SaveAutoGradesAtOnce  # the same grades, one commit per notebook
    return step


def _autograde_preprocessors(cfg: Any) -> list[Any]:
    """The course's ``Autograde.autograde_preprocessors`` with ``Execute`` replaced (and
    nbgrader's metadata check and grade saving by faster versions of the same steps)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    configured = cfg.Autograde.get("autograde_preprocessors")
    steps = list(configured or Autograde.class_traits()["autograde_preprocessors"].default())
    out = []
    for step in steps:
        is_execute = (
            step is Execute
            or (isinstance(step, str) and step.rsplit(".", 1)[-1] == "Execute")
            or (isinstance(step, type) and issubclass(step, Execute))
        )
        out.append(ReplayExecution if is_execute else _faster(step))
    if ReplayExecution not in out:
        raise GradingError("Autograde.autograde_preprocessors has no Execute step to replace")
    return out


def _sanitize_preprocessors(cfg: Any) -> list[Any]:
    """The course's ``Autograde.sanitize_preprocessors``, its metadata check compiled once
    (it ran nbgrader's, which checks its JSON schema again for every cell: about a quarter
    of an import, profiled on the course's four notebooks)."""
    from nbgrader.converters import Autograde

    configured = cfg.Autograde.get("sanitize_preprocessors")
    steps = list(configured or Autograde.class_traits()["sanitize_preprocessors"].default())
    return [_faster(step) for step in steps]


def import_submission(
    course_dir: Path, cfg: Any, student: str, assignment: str, staging_root: Path
) -> list[str]:
    """Phase 2 for one student: nbgrader autograde with replayed execution.

    Returns problems as sentences (empty when the import worked).
    """
    from nbgrader.converters import Autograde

    _ensure_path()
    c = copy.deepcopy(cfg)
    c.CourseDirectory.submitted_directory = os.path.relpath(staging_root, course_dir)
    c.CourseDirectory.student_id = student
    c.CourseDirectory.assignment_id = assignment
    c.CourseDirectory.notebook_id = "*"
    c.BaseConverter.force = True
    c.Autograde.autograde_preprocessors = _autograde_preprocessors(cfg)
    c.Autograde.sanitize_preprocessors = _sanitize_preprocessors(cfg)
    c.ReplayExecution.staging_root = str(staging_root)
    coursedir = _course_dirs(c)
    converter = Autograde(coursedir=coursedir, config=c)
    capture = _LogCapture()
    converter.log.addHandler(capture)
    old_level = converter.log.level
    converter.log.setLevel(logging.WARNING)
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            converter.start()
    except BaseException as exc:  # nbgrader raises NbGraderException after logging
        if isinstance(exc, KeyboardInterrupt):
            raise
        errors = [line for line in capture.lines if line.strip()]
        detail = errors[-1] if errors else f"{type(exc).__name__}: {exc}"
        return [f"nbgrader autograde failed: {detail.splitlines()[0][:300]}"]
    finally:
        converter.log.removeHandler(capture)
        converter.log.setLevel(old_level)
    return []


def _course_dirs(cfg: Any) -> Any:
    from nbgrader.coursedir import CourseDirectory

    cfg = copy.deepcopy(cfg)
    cfg.CourseDirectory.pop("db_assignments", None)  # an option of nbgrader's apps, not here
    return CourseDirectory(config=cfg)


__all__ = ["ReplayExecution", "import_submission"]
