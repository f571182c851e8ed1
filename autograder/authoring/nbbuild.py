"""Shared builder for the authoring scripts gen_01.py ... gen_04.py (course staff only).

Each script makes one `NotebookBuilder`, binds its methods to the short names the notebook
text is written with (`md`, `code`, `answer`, `visible`, `hidden`, `graded`) and finally calls
`write` (or `write_notebook`). What differs between the notebooks is a parameter here:

- `answers`: the answer-cell sources by function name (gen_02, gen_03), so that
  `answer(name)` and `graded(name, visible_src)` need no source argument;
- `leak_guard`: the kinds of cell ("code", "answer", "visible") whose source must not mention
  `solutions` or `autograder`;
- `require_checks`: False lets a function without registered checks get no hidden cells
  (it is listed in `missing_checks` and reported by `write`) instead of failing;
- `hyphenate_test_ids`: test cells get the cell id "test-name-part" (True) or their grade id
  "test_name_part" (False, the quiz);
- `hidden(..., check=..., points=...)`: the grading function the hidden cells call and the
  points of each part (a number, or a function of the part's name);
- `md(..., grade=, solution=, locked=, points=)`, likewise `code`: plain cells are read-only
  and solution cells (the quiz's answers) unlocked unless `locked` says otherwise;
- `notebook(kernel_display_name=...)`: the kernelspec's display name ("Python 3" for the quiz).

The module is imported as a sibling of the scripts (`python autograder/authoring/gen_0N.py`
puts this folder on sys.path); it is not part of the installed package.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.checks import registry

REPO = Path(__file__).resolve().parents[2]
"""The repository root (this file is autograder/authoring/nbbuild.py)."""

registry.set_default_assignment(REPO / "source" / "landscapes")
REGISTRY = registry.checks_of()
parts = registry.parts

# Visible tests run plain asserts in the student's own kernel, where a returned object with a
# lying __eq__ could pass them: they are worth nothing (still graded cells, so nbgrader
# validate reports them); the hidden tests, judged outside the kernel, carry the points.
VISIBLE_POINTS = 0
HIDDEN_POINTS = 1

KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"
LEAK_WORDS = ("solutions", "autograder")
"""Words that must not appear in the sources named by `NotebookBuilder(leak_guard=...)`."""


def output_path(filename: str) -> Path:
    """The notebook to write: the script's first argument, else source/landscapes/<filename>."""
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    return REPO / "source" / "landscapes" / filename


def cell_metadata(
    grade_id: str,
    *,
    grade: bool,
    solution: bool,
    locked: bool,
    points: int | None = None,
) -> dict:
    """nbgrader cell metadata (schema 3); `points` only for graded cells."""
    meta = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def write_notebook(nb: nbformat.NotebookNode, out: Path) -> None:
    """Validate `nb` and write it to `out` (nbformat's JSON, keys sorted, final newline)."""
    nbformat.validate(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)


class NotebookBuilder:
    """Collects the cells of one source notebook, in order, with unique cell ids."""

    def __init__(
        self,
        *,
        answers: Mapping[str, str] | None = None,
        visible_points: int = VISIBLE_POINTS,
        hidden_points: int = HIDDEN_POINTS,
        leak_guard: Collection[str] = (),
        require_checks: bool = True,
        hyphenate_test_ids: bool = True,
    ) -> None:
        self.answers = dict(answers or {})
        self.visible_points = visible_points
        self.hidden_points = hidden_points
        self.leak_guard = frozenset(leak_guard)
        self.require_checks = require_checks
        self.hyphenate_test_ids = hyphenate_test_ids
        self.cells: list = []
        self.missing_checks: list[str] = []
        self._ids: set[str] = set()

    def clear(self) -> None:
        """Forget all cells (to build the notebook again)."""
        self.cells.clear()
        self._ids.clear()
        self.missing_checks.clear()

    # -- cells ------------------------------------------------------------------------------

    def _guard(self, kind: str, src: str) -> None:
        if kind in self.leak_guard:
            assert not any(word in src for word in LEAK_WORDS), f"{kind} cell mentions {LEAK_WORDS}"

    def _test_cell_id(self, grade_id: str) -> str:
        return grade_id.replace("_", "-") if self.hyphenate_test_ids else grade_id

    def add(self, cell, cell_id: str) -> None:
        """Append `cell` under the (new, at most 64 characters) id `cell_id`."""
        assert cell_id not in self._ids, cell_id
        assert len(cell_id) <= 64
        self._ids.add(cell_id)
        cell["id"] = cell_id
        self.cells.append(cell)

    def _plain_cell(
        self,
        new_cell: Callable[[str], nbformat.NotebookNode],
        cell_id: str,
        src: str,
        *,
        grade: bool = False,
        solution: bool = False,
        locked: bool | None = None,
        points: int | None = None,
    ) -> None:
        """A cell whose grade id is its cell id; `locked` defaults to `not solution`."""
        cell = new_cell(src.strip("\n"))
        locked = not solution if locked is None else locked
        cell["metadata"] = cell_metadata(
            cell_id, grade=grade, solution=solution, locked=locked, points=points
        )
        self.add(cell, cell_id)

    def md(self, cell_id: str, text: str, **flags) -> None:
        """A markdown cell: read-only, unless `solution=True` (a hand-graded answer).

        `flags` are `grade`, `solution`, `locked` and `points`, as in `cell_metadata`.
        """
        self._plain_cell(new_markdown_cell, cell_id, text, **flags)

    def code(self, cell_id: str, src: str, **flags) -> None:
        """A code cell (setup, demonstrations): read-only, unless `solution=True`.

        `flags` are `grade`, `solution`, `locked` and `points`, as in `cell_metadata`.
        """
        self._guard("code", src)
        self._plain_cell(new_code_cell, cell_id, src, **flags)

    def answer(self, name: str, src: str | None = None) -> None:
        """The autograded-answer cell defining `name` (source: `src`, else `answers[name]`)."""
        if src is None:
            src = self.answers[name]
        assert f"def {name}(" in src and "### BEGIN SOLUTION" in src
        self._guard("answer", src)
        cell = new_code_cell(src.strip("\n"))
        cell["metadata"] = cell_metadata(name, grade=False, solution=True, locked=False)
        self.add(cell, f"{name.replace('_', '-')}-solution")

    def visible(self, name: str, src: str) -> None:
        """The visible test cell of `name` (worth `visible_points`)."""
        grade_id = f"test_{name}_visible"
        self._guard("visible", src)
        cell = new_code_cell(src.strip("\n"))
        cell["metadata"] = cell_metadata(
            grade_id, grade=True, solution=False, locked=True, points=self.visible_points
        )
        self.add(cell, self._test_cell_id(grade_id))

    def hidden_parts(self, name: str) -> list[str]:
        """The registry's parts of `name` ([] if unregistered and checks are not required)."""
        if not self.require_checks and name not in REGISTRY:
            return []
        return parts(name)

    def hidden(
        self,
        name: str,
        *,
        check: str = "check_function",
        points: int | Callable[[str], int] | None = None,
    ) -> list[tuple[str, int]]:
        """One hidden test cell per registry part of `name`; returns (grade_id, points) pairs.

        `check` is the function of autograder.checks that the cell calls; `points` (default
        `hidden_points`) is the points of every part, or a function of the part's name.
        """
        if name not in REGISTRY and not self.require_checks:
            self.missing_checks.append(name)
        if points is None:
            points = self.hidden_points
        out = []
        for part in self.hidden_parts(name):
            description = REGISTRY[name].parts[part].description
            part_points = points(part) if callable(points) else points
            grade_id = f"test_{name}_{part}"
            src = (
                f'# Hidden tests: `{name}`, part "{part}" ({description})\n'
                "### BEGIN HIDDEN TESTS\n"
                f"from autograder.checks import {check}\n"
                f'{check}("{name}", {name}, part="{part}")\n'
                "### END HIDDEN TESTS"
            )
            cell = new_code_cell(src)
            cell["metadata"] = cell_metadata(
                grade_id, grade=True, solution=False, locked=True, points=part_points
            )
            self.add(cell, self._test_cell_id(grade_id)[:64])
            out.append((grade_id, part_points))
        return out

    def graded(self, name: str, visible_src: str) -> None:
        """Answer cell, visible test, hidden tests of one function, in that order."""
        self.answer(name)
        self.visible(name, visible_src)
        self.hidden(name)

    # -- points table and output ------------------------------------------------------------

    def points_table(
        self, functions: Sequence[str], sections: Mapping[str, str] | None = None
    ) -> tuple[str, int]:
        """Markdown table of the points per function (with a section column if `sections`)."""
        sec = "section | " if sections else ""
        rows = [
            f"| # | function | {sec}visible test | hidden tests | points |",
            "|---|---|---|---|---|" + ("---|" if sections else ""),
        ]
        total_v = total_h = 0
        for i, name in enumerate(functions, start=1):
            n_hidden = len(self.hidden_parts(name))
            v, h = self.visible_points, self.hidden_points * n_hidden
            total_v += v
            total_h += h
            sec = f"{sections[name]} | " if sections else ""
            rows.append(f"| {i} | `{name}` | {sec}{v} | {h} ({n_hidden} parts) | {v + h} |")
        sec = " |" if sections else ""
        rows.append(
            f"| | **total** |{sec} **{total_v}** | **{total_h}** | **{total_v + total_h}** |"
        )
        return "\n".join(rows), total_v + total_h

    def notebook(self, *, kernel_display_name: str = KERNEL_DISPLAY_NAME) -> nbformat.NotebookNode:
        """The notebook of the cells so far (nbformat 4.5, Python 3 kernel)."""
        nb = new_notebook(cells=list(self.cells))
        nb.nbformat, nb.nbformat_minor = 4, 5
        nb.metadata = {
            "kernelspec": {
                "display_name": kernel_display_name,
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        }
        return nb

    def write(self, out: Path, *, total: int) -> nbformat.NotebookNode:
        """Write the notebook to `out` and report it (and any functions without checks)."""
        nb = self.notebook()
        write_notebook(nb, out)
        print(f"wrote {out}: {len(self.cells)} cells, total {total} points")
        if self.missing_checks:
            print("WARNING: no hidden checks registered yet for: " + ", ".join(self.missing_checks))
        return nb
