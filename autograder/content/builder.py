"""Build an assignment's source notebooks from its content files.

For every notebook of the spec, ``<content dir>/<notebook>.py`` (:mod:`.parse`) becomes
``source/<assignment>/<notebook>.ipynb``:

- text, setup and demo cells are copied; they are read-only nbgrader cells whose grade id is
  the cell id;
- an ``answer`` cell is the student's cell: its body (imports, constants: what the student
  sees above the function) followed by the model answer, taken from the reference package
  (the spec's ``[reference]``), never written twice. ``solution="f"``: the source of
  function ``f`` (its signature and docstring stay in the release; its body is wrapped in
  ``### BEGIN SOLUTION`` / ``### END SOLUTION``, which the release replaces by the stub).
  ``value="v"``: the body already holds the solution markers; the line ``v = <the
  reference's value>`` goes before ``### END SOLUTION``;
- a ``visible`` cell becomes the visible test of its item (``test_<item>_visible``);
- a ``hidden`` cell becomes one hidden test cell per part of the item's checks, each one line
  into the registry (``check_function("<item>", <item>, part="<part>")``);
- a ``written`` cell is a hand-graded markdown answer (its text is the model answer and
  rubric);
- an ``explanation`` cell becomes no cell at all: it explains the answer of a graded item of
  the notebook, and only the feedback pages show it, after grading (:func:`explanations`,
  :class:`autograder.pipeline.feedback.AddExplanations`); the build checks that its item
  is an answer of the notebook, explained once;
- every cell records its role in its metadata (``metadata.autograder.role``): grading can
  skip what does not decide a grade.

Markdown may say ``{{points_table}}``: a table of the answer cells' items with the points
of their visible and hidden tests (a ``section`` column when answer cells name one).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import pyparse
from autograder.checks import registry
from autograder.errors import SpecError
from autograder.spec import AssignmentSpec

from .parse import ROLE_KEY, Content, ContentCell, content_path, explanations, read_content

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MAX_CELL_ID = 64
POINTS_TABLE = "{{points_table}}"


def cell_metadata(
    grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None
) -> dict[str, Any]:
    """nbgrader cell metadata (schema 3); `points` only for graded cells."""
    meta: dict[str, Any] = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def role_of(cell: Mapping[str, Any]) -> str | None:
    """The role a built notebook's cell carries in its metadata (None: not a built cell)."""
    role = cell.get("metadata", {}).get(ROLE_KEY, {}).get("role")
    return role if isinstance(role, str) else None


# ---- the reference ------------------------------------------------------------------------------


def _reference_package(spec: AssignmentSpec) -> Any:
    if not spec.reference_package:
        raise SpecError(
            f"{spec.path}: answer cells need a [reference] package to take answers from"
        )
    registry.load(spec)  # puts the reference's folder on sys.path
    return importlib.import_module(spec.reference_package)


def function_source(function: Any, where: str) -> str:
    """The source of a reference function, with its body between the solution markers.

    The signature and docstring stay outside (they are the student's stub); the body is
    the model answer. The function must be a plain top-level ``def`` of its module.
    """
    if not inspect.isfunction(function):
        raise SpecError(f"{where}: the reference of an answer cell must be a function")
    path = inspect.getsourcefile(function)
    if path is None:  # pragma: no cover - functions defined in files always have one
        raise SpecError(f"{where}: no source file for {function.__qualname__}")
    text = Path(path).read_text(encoding="utf-8")
    tree = pyparse.parse(text)
    node = next(
        (
            n
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function.__name__
        ),
        None,
    )
    if node is None:
        raise SpecError(f"{where}: {function.__name__} is not a top-level function of {path}")
    if node.decorator_list:
        raise SpecError(f"{where}: {function.__name__} has decorators: a model answer must not")
    lines = text.splitlines()
    body = node.body
    docstring = (
        body[0]
        if body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
        else None
    )
    first_body = body[1] if docstring is not None else body[0]
    if docstring is not None and len(body) == 1:
        raise SpecError(f"{where}: {function.__name__} has a docstring and no body")
    head_end = docstring.end_lineno if docstring is not None else first_body.lineno - 1
    head = lines[node.lineno - 1 : head_end]
    rest = lines[head_end : node.end_lineno]
    while rest and not rest[0].strip():
        rest.pop(0)
    indent = first_body.col_offset * " "
    return "\n".join([*head, indent + BEGIN_SOLUTION, *rest, indent + END_SOLUTION])


def value_source(name: str, value: Any) -> str:
    """``name = <value>``: a dict one entry per line, a string in double quotes, anything else
    as its repr."""
    if isinstance(value, Mapping):
        entries = "".join(f"    {k!r}: {v!r},\n" for k, v in value.items())
        return f"{name} = {{\n{entries}}}"
    if isinstance(value, str):
        return f"{name} = {json.dumps(value, ensure_ascii=False)}"
    return f"{name} = {value!r}"


# ---- cells ---------------------------------------------------------------------------------------


class NotebookBuild:
    """The cells of one notebook being built, with unique cell ids."""

    def __init__(self, content: Content, spec: AssignmentSpec, reference: Any) -> None:
        self.content = content
        self.spec = spec
        self.reference = reference
        self.options = content.options
        self.cells: list[nbformat.NotebookNode] = []
        self.ids: set[str] = set()
        self.explained: dict[str, str] = {}  # item -> where its explanation is

    def where(self, cell: ContentCell) -> str:
        return f"{cell.path}:{cell.line}"

    def add(self, nb_cell: nbformat.NotebookNode, cell_id: str, role: str, where: str) -> None:
        if len(cell_id) > MAX_CELL_ID:
            raise SpecError(f"{where}: cell id {cell_id!r} is longer than {MAX_CELL_ID}")
        if cell_id in self.ids:
            raise SpecError(f"{where}: cell id {cell_id!r} used twice")
        self.ids.add(cell_id)
        nb_cell["id"] = cell_id
        nb_cell["metadata"][ROLE_KEY] = {"role": role}
        self.cells.append(nb_cell)

    def test_id(self, grade_id: str) -> str:
        if self.options["test_ids"] == "hyphenated":
            return grade_id.replace("_", "-")[:MAX_CELL_ID]
        return grade_id

    def checks(self, item: str, where: str) -> Any:
        try:
            return registry.lookup(item, self.spec.id)
        except KeyError as exc:
            raise SpecError(f"{where}: {exc.args[0]}") from None

    # -- one content cell
    def build(self, cell: ContentCell) -> None:
        where = self.where(cell)
        getattr(self, f"_{cell.role}")(cell, where)

    def _text(self, cell: ContentCell, where: str) -> None:
        source = cell.source
        if POINTS_TABLE in source:
            source = source.replace(POINTS_TABLE, self.points_table())
        md = new_markdown_cell(source)
        md["metadata"] = cell_metadata(cell.id, grade=False, solution=False, locked=True)
        self.add(md, cell.id, "text", where)

    def _written(self, cell: ContentCell, where: str) -> None:
        md = new_markdown_cell(cell.source)
        md["metadata"] = cell_metadata(
            cell.id, grade=True, solution=True, locked=False, points=cell.meta["points"]
        )
        self.add(md, cell.id, "written", where)

    def _explanation(self, cell: ContentCell, where: str) -> None:
        item = cell.meta["item"]
        answers = {
            c.meta.get("grade_id", c.meta.get("solution") or c.meta.get("value"))
            for c in self.content.cells
            if c.role == "answer"
        }
        if item not in answers:
            raise SpecError(f"{where}: an explanation names an answer of its notebook, not {item!r}")
        if item in self.explained:
            raise SpecError(f"{where}: {item!r} is explained twice (first at {self.explained[item]})")
        self.checks(item, where)
        self.explained[item] = where

    def _plain_code(self, cell: ContentCell, where: str) -> None:
        code = new_code_cell(cell.source)
        code["metadata"] = cell_metadata(cell.id, grade=False, solution=False, locked=True)
        self.add(code, cell.id, cell.role, where)

    _setup = _demo = _plain_code

    def _answer(self, cell: ContentCell, where: str) -> None:
        name = cell.meta.get("solution") or cell.meta["value"]
        grade_id = cell.meta.get("grade_id", name)
        if not hasattr(self.reference, name):
            raise SpecError(
                f"{where}: the reference package {self.spec.reference_package!r} has no {name!r}"
            )
        reference = getattr(self.reference, name)
        if "solution" in cell.meta:
            spliced = function_source(reference, where)
            source = f"{cell.source}\n\n\n{spliced}" if cell.source else spliced
        else:
            lines = cell.source.split("\n")
            ends = [i for i, line in enumerate(lines) if line.strip() == END_SOLUTION]
            if len(ends) != 1 or not any(line.strip() == BEGIN_SOLUTION for line in lines):
                raise SpecError(
                    f"{where}: a value answer's body holds one {BEGIN_SOLUTION} ... "
                    f"{END_SOLUTION} region; the builder adds `{name} = ...` at its end"
                )
            lines[ends[0] : ends[0]] = value_source(name, reference).split("\n")
            source = "\n".join(lines)
        code = new_code_cell(source)
        code["metadata"] = cell_metadata(grade_id, grade=False, solution=True, locked=False)
        self.add(code, cell.id, "answer", where)

    def _visible(self, cell: ContentCell, where: str) -> None:
        item = cell.meta["item"]
        self.checks(item, where)
        grade_id = f"test_{item}_visible"
        code = new_code_cell(cell.source)
        code["metadata"] = cell_metadata(
            grade_id, grade=True, solution=False, locked=True, points=self.options["visible_points"]
        )
        self.add(code, cell.id or self.test_id(grade_id), "visible", where)

    def _hidden(self, cell: ContentCell, where: str) -> None:
        item = cell.meta["item"]
        checks = self.checks(item, where)
        call = cell.meta.get("call", "check_answer" if checks.kind == "value" else "check_function")
        if call not in ("check_function", "check_answer"):
            raise SpecError(f"{where}: call is check_function or check_answer, not {call!r}")
        points = cell.meta.get("points", self.options["hidden_points"])
        part_points = cell.meta.get("part_points", {})
        unknown = sorted(set(part_points) - set(checks.parts))
        if unknown:
            raise SpecError(f"{where}: part_points names parts {item!r} does not have: {unknown}")
        for part_name, part in checks.parts.items():
            grade_id = f"test_{item}_{part_name}"
            source = (
                f'# Hidden tests: `{item}`, part "{part_name}" ({part.description})\n'
                f"{BEGIN_HIDDEN}\n"
                f"from autograder.checks import {call}\n"
                f'{call}("{item}", {item}, part="{part_name}")\n'
                f"{END_HIDDEN}"
            )
            code = new_code_cell(source)
            code["metadata"] = cell_metadata(
                grade_id,
                grade=True,
                solution=False,
                locked=True,
                points=part_points.get(part_name, points),
            )
            self.add(code, self.test_id(grade_id), "hidden", where)

    # -- the points table
    def points_table(self) -> str:
        """Markdown table of the points per graded function (answer cells with a solution)."""
        answers = [c for c in self.content.cells if c.role == "answer" and "solution" in c.meta]
        hidden = {c.meta["item"]: c for c in self.content.cells if c.role == "hidden"}
        sections = {c.meta["solution"]: c.meta.get("section") for c in answers}
        with_sections = any(sections.values())
        sec = "section | " if with_sections else ""
        rows = [
            f"| # | function | {sec}visible test | hidden tests | points |",
            "|---|---|---|---|---|" + ("---|" if with_sections else ""),
        ]
        total_v = total_h = 0.0
        visible_points = self.options["visible_points"]
        for i, cell in enumerate(answers, start=1):
            name = cell.meta["solution"]
            n_hidden, h = 0, 0.0
            if name in hidden:
                meta = hidden[name].meta
                parts = list(self.checks(name, self.where(hidden[name])).parts)
                n_hidden = len(parts)
                each = meta.get("points", self.options["hidden_points"])
                h = sum(meta.get("part_points", {}).get(p, each) for p in parts)
            total_v += visible_points
            total_h += h
            sec = f"{sections[name]} | " if with_sections else ""
            rows.append(
                f"| {i} | `{name}` | {sec}{_num(visible_points)} | {_num(h)} ({n_hidden} parts) | "
                f"{_num(visible_points + h)} |"
            )
        sec = " |" if with_sections else ""
        rows.append(
            f"| | **total** |{sec} **{_num(total_v)}** | **{_num(total_h)}** | "
            f"**{_num(total_v + total_h)}** |"
        )
        return "\n".join(rows)

    def notebook(self) -> nbformat.NotebookNode:
        nb = new_notebook(cells=list(self.cells))
        nb.nbformat, nb.nbformat_minor = 4, 5
        nb.metadata = {
            "kernelspec": {
                "display_name": self.options["kernel"],
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        }
        return nb


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def build_notebook(content: Content, spec: AssignmentSpec) -> nbformat.NotebookNode:
    """The source notebook of one parsed content file (checks loaded, reference imported)."""
    registry.load(spec)
    needs_reference = any(c.role == "answer" for c in content.cells)
    reference = _reference_package(spec) if needs_reference else None
    build = NotebookBuild(content, spec, reference)
    for cell in content.cells:
        build.build(cell)
    nb = build.notebook()
    nbformat.validate(nb)
    return nb


def build_notebooks(
    spec: AssignmentSpec, out_dir: str | os.PathLike[str] | None = None
) -> dict[str, Path]:
    """Build every notebook of `spec` from its content file into `out_dir` (default: the
    spec's own folder); returns notebook name → path written."""
    out = Path(out_dir) if out_dir is not None else spec.root
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in spec.notebooks:
        nb = build_notebook(read_content(content_path(spec, name)), spec)
        path = out / f"{name}.ipynb"
        nbformat.write(nb, path)
        written[name] = path
    return written


def built_text(spec: AssignmentSpec, notebook: str) -> str:
    """What :func:`build_notebooks` writes for one notebook, as text (for comparisons)."""
    text = nbformat.writes(build_notebook(read_content(content_path(spec, notebook)), spec))
    return text if text.endswith("\n") else text + "\n"


__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "ROLE_KEY",
    "build_notebook",
    "build_notebooks",
    "built_text",
    "cell_metadata",
    "content_path",
    "explanations",
    "function_source",
    "role_of",
    "value_source",
]
