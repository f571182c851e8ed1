"""The notebooks' reading load: markdown words per notebook, and the folded reference lists.

The conventions of every notebook and the pitfall lists of the summaries are folded into
collapsible `<details><summary>…</summary>` blocks: a student opens them when needed. The
tests check that they are folded, and that the fold renders its markdown (lists, emphasis,
maths) in nbconvert's HTML, what nbgrader's feedback pages are made with (JupyterLab
renders the same HTML block with its own markdown renderer).

Run as a script to print the word counts (all markdown, and what is shown unfolded):

    python -m tests.course.test_reading_load [CONTENT_DIR]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from autograder.checks import registry
from autograder.content.parse import read_content

SPEC = registry.spec_of()
FOLDED = re.compile(r"<details>\n<summary>.*?</summary>\n\n(?P<body>.*?)\n\n</details>", re.S)


def words(text: str) -> int:
    return len(text.split())


def unfolded(text: str) -> str:
    """`text` without its folded blocks (what a reader sees before opening any)."""
    return FOLDED.sub("", text)


def markdown_cells(content_dir: Path, notebook: str) -> list[tuple[str, str, str]]:
    """(file name, cell id, markdown) of every text cell of a notebook's content: what a
    student reads (model answers and explanations are not in the release)."""
    content = read_content(content_dir / notebook)
    return [(c.path.name, c.id or "", c.source) for c in content.cells if c.role == "text"]


def counts(content_dir: Path) -> dict[str, dict[str, tuple[int, int]]]:
    """notebook -> file -> (markdown words, words shown unfolded)."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for notebook in sorted(p.name for p in content_dir.iterdir() if p.is_dir()):
        files: dict[str, tuple[int, int]] = {}
        for name, _, text in markdown_cells(content_dir, notebook):
            total, shown = files.get(name, (0, 0))
            files[name] = (total + words(text), shown + words(unfolded(text)))
        out[notebook] = files
    return out


def cell(notebook: str, cell_id: str) -> str:
    (text,) = [t for _, i, t in markdown_cells(SPEC.content_dir, notebook) if i == cell_id]
    return text


LISTS = [
    *((nb, "conventions") for nb in SPEC.notebooks[:3]),
    *((nb, "summary") for nb in SPEC.notebooks),
]


@pytest.mark.parametrize(("notebook", "cell_id"), LISTS)
def test_conventions_and_pitfalls_are_folded(notebook: str, cell_id: str) -> None:
    text = cell(notebook, cell_id)
    assert text.count("<details>") == text.count("</details>") == 1, "one folded block"
    (block,) = FOLDED.finditer(text)
    items = re.findall(r"^(?:\* |\d+\. )", block.group("body"), re.M)
    assert len(items) >= 5, "the list is inside the fold"
    # the conventions are a bullet list, the pitfalls a numbered one (a summary keeps its bullets)
    outside = r"^\d+\. " if cell_id == "summary" else r"^(?:\* |\d+\. )"
    assert not re.search(outside, unfolded(text), re.M), "no item of the list outside the fold"
    if cell_id == "summary":
        summary = re.search(r"<summary><b>Pitfalls</b> \((\d+); click to open\)</summary>", text)
        assert summary and int(summary.group(1)) == len(items), "the count in the summary line"


def test_a_fold_renders_its_markdown_in_feedback_html() -> None:
    text = cell("02_landscape_geometry", "summary")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    html, _ = HTMLExporter().from_notebook_node(nb)
    details = html[html.index("<details>") : html.index("</details>")]
    assert "<summary><b>Pitfalls</b>" in details
    assert details.count("<li>") == 10 and "<strong>Raw sharpness" in details
    assert r"\operatorname{tr}H" in details  # the maths is left to MathJax, unmangled


def main(argv: list[str]) -> int:
    content_dir = Path(argv[0]) if argv else SPEC.content_dir
    table = counts(content_dir)
    print(f"{'notebook / file':48} {'words':>7} {'unfolded':>9}")
    for notebook, files in table.items():
        total = sum(t for t, _ in files.values())
        shown = sum(s for _, s in files.values())
        print(f"{notebook:48} {total:7} {shown:9}")
        for name, (t, s) in files.items():
            print(f"  {name:46} {t:7} {s:9}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
