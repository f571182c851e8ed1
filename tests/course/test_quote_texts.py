"""The texts still say what tests/course/demo_quotes.py quotes, read from the content files.

The full check (the number printed by the demonstration, within the text's wording) needs the
reference run of the notebooks (test_notebooks.py, slow). This one needs no kernel: an edit
of a text that drops or rewords a quoted phrase fails here in a second, in the fast suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.checks import registry
from autograder.content.parse import read_content
from tests.course import demo_quotes as dq


def _texts() -> dict[tuple[str, str], str]:
    """(notebook file, cell id) -> markdown with whitespace collapsed, from the content."""
    spec = registry.spec_of()
    assert spec.content_dir is not None
    texts = {}
    for notebook in spec.notebooks:
        folder = spec.content_dir / Path(notebook).stem
        content = folder if folder.is_dir() else folder.with_suffix(".py")
        for cell in read_content(content).cells:
            if cell.id and cell.kind == "markdown":
                texts[(f"{Path(notebook).stem}.ipynb", cell.id)] = " ".join(cell.source.split())
    return texts


TEXTS = _texts()
ITEMS = [*dq.QUOTES, *dq.CLAIMS]


@pytest.mark.parametrize(
    "item", ITEMS, ids=[f"{Path(q.notebook).stem[:2]}-{q.text}-{i}" for i, q in enumerate(ITEMS)]
)
def test_the_text_still_says_it(item: dq.Quote | dq.Claim) -> None:
    words = " ".join(item.quoted.split())
    assert (item.notebook, item.text) in TEXTS, (
        f"{item.notebook} has no markdown cell {item.text!r}"
    )
    assert words in TEXTS[(item.notebook, item.text)], (
        f"{item.notebook}: the cell {item.text!r} no longer says {words!r}; "
        "update tests/course/demo_quotes.py with the text"
    )
