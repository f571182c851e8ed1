"""The course's content files and the committed source notebooks agree.

Each notebook of `source/landscapes/` is built from its content folder
(`source/landscapes/content/<notebook>/`) with the model answers spliced from `solutions/`
and the hidden-test cells made from the checks. A change to the content, a check or a
reference solution without `autograder build` leaves the committed notebook stale; this
test says which one.
"""

from __future__ import annotations

import pytest

from autograder.checks import registry
from autograder.content.builder import ROLE_KEY, built_text
from autograder.content.parse import read_content

SPEC = registry.spec_of()


@pytest.mark.parametrize("notebook", SPEC.notebooks)
def test_committed_notebook_is_what_its_content_builds(notebook: str) -> None:
    committed = (SPEC.root / f"{notebook}.ipynb").read_text(encoding="utf-8")
    assert built_text(SPEC, notebook) == committed, (
        f"source/landscapes/{notebook}.ipynb is out of date: run `autograder build`"
    )


@pytest.mark.parametrize("notebook", SPEC.notebooks)
def test_every_answer_comes_from_the_reference(notebook: str) -> None:
    """No model answer is written in the content: answer cells hold only what the student
    sees above the function (or the value's stub; its explanation is a cell of its own)."""
    content = read_content(SPEC.content_dir / notebook)
    for cell in content.cells:
        if cell.role == "answer" and "solution" in cell.meta:
            assert f"def {cell.meta['solution']}(" not in cell.source, cell.id
            assert "BEGIN SOLUTION" not in cell.source, cell.id


def test_roles_reach_the_notebooks() -> None:
    import nbformat

    for notebook in SPEC.notebooks:
        nb = nbformat.read(str(SPEC.root / f"{notebook}.ipynb"), as_version=4)
        roles = {c.metadata[ROLE_KEY]["role"] for c in nb.cells}
        assert roles <= {"text", "written", "setup", "answer", "visible", "hidden", "demo"}
        assert "answer" in roles and "hidden" in roles
