"""Read a notebook's content file: its cells as plain text, each with a role.

A notebook's content is one file, or a folder of files read in name order (e.g. one per
section). A content file is a Python file in the "percent" format (as jupytext writes it): every cell
starts with a header line ``# %%``, followed by ``[markdown]`` for a text cell and by
``key=value`` pairs (values in JSON: ``"text"``, numbers, ``true``/``false``, ``{...}``).
The lines of a markdown cell are comments (``# text``, or ``#`` for an empty line); the
lines of a code cell are the code, with IPython magics commented out as jupytext does
(``# %matplotlib inline`` is the cell line ``%matplotlib inline``), so that the file stays
valid Python for linters. Blank lines around a cell are not part of it::

    # %% [notebook] kernel="Python 3 (ipykernel)" test_ids="hyphenated"

    # %% [markdown] id="intro"
    # # Notebook 01
    # Some *teaching* text.

    # %% id="setup" role="setup"
    import torch

    # %% id="add-solution" role="answer" solution="add"
    import torch

    # %% role="visible" item="add"
    assert add(1, 2) == 3

    # %% role="hidden" item="add"

    # %% [markdown] id="explain-add" role="written" points=2
    # Model answer and rubric: ...

    # %% [markdown] role="explanation" item="add"
    # Why `add` is what it is: shown in the feedback, after grading.

Roles (:data:`ROLES`): ``text`` (markdown, the default for markdown cells), ``written`` (a
hand-graded markdown answer), ``setup`` (code every later cell needs: imports, data),
``answer`` (the student's answer cell; its model answer comes from the reference, see
:mod:`autograder.content.builder`), ``visible`` (the visible test of an item), ``hidden``
(its hidden tests: one cell per part of its checks, made by the builder), ``demo`` (a
demonstration: figures, experiments and printouts that carry no points), ``explanation``
(markdown that explains a graded item's answer: it never reaches a notebook, neither the
source nor the release; the feedback pages show it after grading, below the item's tests).
Every code cell names its role. An optional first ``[notebook]`` header sets notebook
options.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import SpecError
from autograder.spec import AssignmentSpec

HEADER = "# %%"
ROLE_KEY = "autograder"
"""The cell metadata key holding a built cell's role: ``{"autograder": {"role": "demo"}}``."""
ROLES = ("text", "written", "explanation", "setup", "answer", "visible", "hidden", "demo")
CODE_ROLES = ("setup", "answer", "visible", "hidden", "demo")
MARKDOWN_ROLES = ("text", "written", "explanation")
#: Options of the ``[notebook]`` header, with their defaults.
NOTEBOOK_OPTIONS: dict[str, Any] = {
    # the kernelspec's display name
    "kernel": "Python 3 (ipykernel)",
    # test cells' ids: "hyphenated" (test-item-part) or "grade_id" (test_item_part)
    "test_ids": "hyphenated",
    # points of a visible test cell (visible tests run in the student's kernel: no points)
    "visible_points": 0,
    # points of each hidden test cell, unless a hidden cell says otherwise
    "hidden_points": 1,
}
#: What each role's header may say besides `id` and `role`.
ROLE_KEYS: dict[str, tuple[str, ...]] = {
    "text": (),
    "written": ("points",),
    "explanation": ("item",),
    "setup": (),
    "demo": (),
    "answer": ("solution", "value", "grade_id", "section"),
    "visible": ("item",),
    "hidden": ("item", "call", "points", "part_points"),
}
_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)=")
_MAGIC = re.compile(r"^# (%%?[A-Za-z]\w*|!)")
"""A commented IPython magic (line or cell magic) or shell escape in a code cell."""
_DECODER = json.JSONDecoder()


@dataclass
class ContentCell:
    """One cell as written in a content file."""

    kind: str  # "markdown" or "code"
    role: str
    source: str
    meta: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # the header's line number
    path: Path = Path("<content>")  # the file it was read from

    @property
    def id(self) -> str | None:
        return self.meta.get("id")


@dataclass
class Content:
    """A notebook's content: its options and its cells, in order."""

    path: Path
    options: dict[str, Any]
    cells: list[ContentCell]
    header_line: int | None = None  # where the [notebook] header is, if there is one


def _parse_header(text: str, where: str) -> tuple[str | None, dict[str, Any]]:
    """(bracketed kind or None, metadata) of a header line's text after ``# %%``."""
    rest = text.strip()
    kind = None
    bracket = re.match(r"\[([A-Za-z]+)\]", rest)
    if bracket:
        kind = bracket.group(1)
        rest = rest[bracket.end() :]
    meta: dict[str, Any] = {}
    while rest.strip():
        match = _KEY.match(rest)
        if not match:
            raise SpecError(f"{where}: cannot read the cell header at {rest.strip()!r}")
        key = match.group(1)
        try:
            value, end = _DECODER.raw_decode(rest, match.end())
        except json.JSONDecodeError:
            raise SpecError(
                f"{where}: the value of {key!r} is not JSON (strings need double quotes)"
            ) from None
        if key in meta:
            raise SpecError(f"{where}: {key!r} given twice")
        meta[key] = value
        rest = rest[end:]
        if rest and not rest[0].isspace():
            raise SpecError(f"{where}: put a space between {key}=... and what follows")
    return kind, meta


def _markdown_source(lines: list[str], where: str) -> str:
    out = []
    for number, line in lines:
        if line == "#":
            out.append("")
        elif line.startswith("# "):
            out.append(line[2:])
        elif not line.strip():
            out.append("")  # a blank line inside a markdown cell
        else:
            raise SpecError(
                f"{where}:{number}: a markdown cell's lines are comments ('# text', or '#' "
                f"for an empty line), got {line!r}"
            )
    return "\n".join(out).strip("\n")


def _code_line(line: str) -> str:
    return line[2:] if _MAGIC.match(line) else line


def code_lines(source: str) -> list[str]:
    """A code cell's source as content-file lines (magics commented out)."""
    return [f"# {line}" if _MAGIC.match(f"# {line}") else line for line in source.split("\n")]


def _check_cell(cell: ContentCell, where: str) -> None:
    role = cell.role
    if role not in ROLES:
        raise SpecError(f"{where}: unknown role {role!r}; roles: {', '.join(ROLES)}")
    if cell.kind == "markdown" and role not in MARKDOWN_ROLES:
        raise SpecError(
            f"{where}: a markdown cell's role is text, written or explanation, not {role!r}"
        )
    if cell.kind == "code" and role not in CODE_ROLES:
        raise SpecError(f"{where}: a code cell's role is one of {CODE_ROLES}, not {role!r}")
    allowed = {"id", "role", *ROLE_KEYS[role]}
    unknown = sorted(set(cell.meta) - allowed)
    if unknown:
        raise SpecError(f"{where}: a {role} cell takes no {', '.join(unknown)}")
    if role in ("visible", "hidden", "explanation"):
        if not isinstance(cell.meta.get("item"), str):
            raise SpecError(f'{where}: a {role} cell needs item="<graded item>"')
        if role == "hidden" and cell.source.strip():
            raise SpecError(f"{where}: a hidden cell is made from the checks: leave its body empty")
    elif not isinstance(cell.id, str) or not cell.id:
        raise SpecError(f'{where}: a {role} cell needs id="..."')
    if role == "answer":
        solution, value = cell.meta.get("solution"), cell.meta.get("value")
        if (solution is None) == (value is None) or not isinstance(solution or value, str):
            raise SpecError(
                f'{where}: an answer cell names its reference: solution="<function>" or '
                'value="<variable>"'
            )
    if role == "written" and not isinstance(cell.meta.get("points"), (int, float)):
        raise SpecError(f"{where}: a written answer needs points=N")


def parse_content(text: str, path: str | os.PathLike[str] = "<content>") -> Content:
    """Parse a content file's text (see the module docstring); SpecError names the line."""
    path = Path(path)
    options = dict(NOTEBOOK_OPTIONS)
    header_line: list[int | None] = [None]
    cells: list[ContentCell] = []
    current: tuple[int, str | None, dict[str, Any]] | None = None
    body: list[tuple[int, str]] = []
    lines = text.splitlines()

    def close() -> None:
        if current is None:
            if any(line.strip() for _, line in body):
                raise SpecError(f"{path}:{body[0][0]}: text before the first '# %%' cell header")
            return
        number, kind, meta = current
        where = f"{path}:{number}"
        if kind == "notebook":
            if any(line.strip() for _, line in body):
                raise SpecError(f"{where}: the [notebook] header has no body")
            unknown = sorted(set(meta) - set(NOTEBOOK_OPTIONS))
            if unknown:
                raise SpecError(f"{where}: unknown notebook option(s) {unknown}")
            if cells:
                raise SpecError(f"{where}: the [notebook] header comes first")
            options.update(meta)
            header_line[0] = number
            return
        if kind not in (None, "markdown"):
            raise SpecError(f"{where}: unknown cell kind [{kind}] (only [markdown], [notebook])")
        cell_kind = "markdown" if kind == "markdown" else "code"
        if cell_kind == "markdown":
            source = _markdown_source(body, str(path))
            role = meta.get("role", "text")
        else:
            source = "\n".join(_code_line(line) for _, line in body).strip("\n")
            role = meta.get("role")
            if role is None:
                raise SpecError(
                    f'{where}: a code cell names its role: role="{"|".join(CODE_ROLES)}"'
                )
        cell = ContentCell(cell_kind, role, source, meta, number, path)
        _check_cell(cell, where)
        cells.append(cell)

    for number, line in enumerate(lines, start=1):
        if line.startswith(HEADER) and (len(line) == len(HEADER) or line[len(HEADER)] == " "):
            close()
            kind, meta = _parse_header(line[len(HEADER) :], f"{path}:{number}")
            current, body = (number, kind, meta), []
        else:
            body.append((number, line))
    close()
    seen: dict[str, int] = {}
    for cell in cells:
        if cell.id is not None:
            if cell.id in seen:
                raise SpecError(
                    f"{path}:{cell.line}: cell id {cell.id!r} used twice (first at line "
                    f"{seen[cell.id]})"
                )
            seen[cell.id] = cell.line
    if options["test_ids"] not in ("hyphenated", "grade_id"):
        raise SpecError(f"{path}: test_ids is 'hyphenated' or 'grade_id'")
    return Content(path, options, cells, header_line[0])


def _read_file(path: Path) -> Content:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read the content file {path}: {exc}") from None
    return parse_content(text, path)


def read_content(path: str | os.PathLike[str]) -> Content:
    """Parse a notebook's content: one file, or a folder of files (``*.py``, in name order,
    e.g. one per section) whose cells follow each other. Only the first file may hold the
    ``[notebook]`` header; cell ids are unique across the files."""
    path = Path(path)
    if not path.is_dir():
        return _read_file(path)
    files = sorted(p for p in path.glob("*.py") if p.is_file())
    if not files:
        raise SpecError(f"the content folder {path} holds no *.py files")
    parts = [_read_file(f) for f in files]
    for part in parts[1:]:
        if part.header_line is not None:
            raise SpecError(
                f"{part.path}:{part.header_line}: only the first file of {path} "
                "may have the [notebook] header"
            )
    cells = [cell for part in parts for cell in part.cells]
    seen: dict[str, ContentCell] = {}
    for cell in cells:
        if cell.id is not None:
            if cell.id in seen:
                first = seen[cell.id]
                raise SpecError(
                    f"{cell.path}:{cell.line}: cell id {cell.id!r} used twice (first at "
                    f"{first.path}:{first.line})"
                )
            seen[cell.id] = cell
    return Content(path, parts[0].options, cells, parts[0].header_line)


def markdown_lines(source: str) -> list[str]:
    """A markdown cell's source as content-file lines."""
    return ["#" if not line else f"# {line}" for line in source.split("\n")]


def content_path(spec: AssignmentSpec, notebook: str) -> Path:
    """A notebook's content: ``<content dir>/<notebook>.py``, or the folder
    ``<content dir>/<notebook>/`` of files read in name order."""
    if spec.content_dir is None:
        raise SpecError(f"{spec.path}: the assignment has no [content] dir")
    folder = spec.content_dir / notebook
    if folder.is_dir():
        return folder
    path = spec.content_dir / f"{notebook}.py"
    if not path.is_file():
        raise SpecError(f"no content for {notebook}: neither {path} nor {folder}/ exists")
    return path


def explanations(spec: AssignmentSpec, notebook: str) -> dict[str, str]:
    """The explanations of a notebook's graded items (item -> markdown), from its content;
    empty when the assignment has no content. They are in no notebook: feedback adds them."""
    if spec.content_dir is None:
        return {}
    content = read_content(content_path(spec, notebook))
    return {c.meta["item"]: c.source for c in content.cells if c.role == "explanation"}
