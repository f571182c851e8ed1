"""The feedback pages' exporter: nbconvert's pages, up to serialisation, made faster."""

from __future__ import annotations

import base64
import importlib.util
import os
from pathlib import Path

import nbgrader.converters.generate_feedback as nbgrader_feedback
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from autograder.pipeline import feedback, feedback_html
from autograder.pipeline import grade as grade_mod
from autograder.pipeline.feedback_html import MISSING_ALT, FeedbackHTMLExporter, add_missing_alt
from tests.engine.tiny_course import (
    ASSIGNMENT,
    NOTEBOOK,
    WRONG_BARRIER,
    filled,
    make_course,
    submit,
)

REPO = Path(__file__).resolve().parents[2]

ALT = f'alt="{MISSING_ALT}"'
# a 1x1 PNG
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.mark.parametrize(
    ("page", "want", "added"),
    [
        ('<p><img src="a.png"></p>', f'<p><img src="a.png" {ALT}></p>', 1),
        ('<img src="a.png"/>', f'<img src="a.png" {ALT}/>', 1),
        ("<IMG SRC=a.png>", f"<IMG SRC=a.png {ALT}>", 1),
        ('<img src="a.png" alt="">', '<img src="a.png" alt="">', 0),
        ('<p><img alt="" src=a></p><img>', f'<p><img alt="" src=a></p><img {ALT}>', 1),
        ("<img ALT=x src=a.png>", "<img ALT=x src=a.png>", 0),
        ('<img title="a > b" src="a.png">', f'<img title="a > b" src="a.png" {ALT}>', 1),
        ('<img title="alt=x">', f'<img title="alt=x" {ALT}>', 1),
        ("<imgs><image>", "<imgs><image>", 0),
        ('<script>s = "<img src=y>";</script><img>', f'<script>s = "<img src=y>";</script><img {ALT}>', 1),
        ("<style>/* <img> */</style><!-- <img> --><img>", f"<style>/* <img> */</style><!-- <img> --><img {ALT}>", 1),
        ("<img><p>text</p><img src=b>", f"<img {ALT}><p>text</p><img src=b {ALT}>", 2),
    ],
)  # fmt: skip
def test_images_without_alt_text_get_nbconverts_text(page: str, want: str, added: int) -> None:
    assert add_missing_alt(page) == (want, added)


def _notebook(answer: str = "def f(x):\n    return x + 1\n"):
    """Markdown (with an image), code, a PNG output, HTML output with an image and a script,
    a stream, an error: what feedback pages hold."""
    html = '<b>table</b><img src="x.png"><script>var s = "<img src=y>";</script>'
    cells = [
        new_markdown_cell("# Title\n\nSome *text* with $x^2$ and ![a plot](x.png).\n"),
        new_code_cell(answer),
        new_code_cell(
            "plot()",
            outputs=[
                new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
                new_output("display_data", data={"text/html": html, "text/plain": "t"}),
                new_output("stream", name="stdout", text="printed <img> & co\n"),
                new_output(
                    "error", ename="AssertionError", evalue="f [basic] case 1", traceback=[]
                ),
            ],
        ),
        new_markdown_cell("Done: `f` <img src='z.png'>."),
    ]
    for i, cell in enumerate(cells):
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"c{i}", "points": 2, "score": 1}
        cell.id = f"cell-{i}"
    nb = new_notebook(cells=cells)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def _config(template: str) -> Config:
    """HTMLExporter's configuration as nbgrader's feedback sets it (or another template)."""
    here = os.path.dirname(nbgrader_feedback.__file__)
    formgrader = os.path.join(here, "..", "server_extensions", "formgrader")
    c = Config()
    c.HTMLExporter.template_name = template
    c.HTMLExporter.extra_template_basedirs = [
        os.path.abspath(os.path.join(formgrader, "templates"))
    ]
    c.HTMLExporter.extra_template_paths = [
        os.path.abspath(os.path.join(formgrader, "static", "node_modules", "bootstrap", "dist", "css"))
    ]  # fmt: skip
    return c


def _resources() -> dict:
    return {"nbgrader": {"notebook": "nb", "score": 3.0, "max_score": 8.0, "late_penalty": 0}}


@pytest.mark.parametrize("template", ["feedback", "classic", "lab"])
def test_the_pages_are_nbconverts_up_to_serialisation(template: str) -> None:
    """Read back by BeautifulSoup, the page is nbconvert's byte for byte, also the second
    time (from the remembered cells) and for another notebook sharing most cells."""
    theirs_exporter = HTMLExporter(config=_config(template))
    ours_exporter = FeedbackHTMLExporter(config=_config(template))
    for nb in (_notebook(), _notebook(), _notebook("def f(x):\n    return x - 1\n")):
        theirs, _ = theirs_exporter.from_notebook_node(nb, _resources())
        ours, _ = ours_exporter.from_notebook_node(nb, _resources())
        assert str(BeautifulSoup(ours, features="html.parser")) == theirs
        if template == "lab":  # focus attributes: nbconvert's own pass, unchanged
            assert ours == theirs
        else:
            # the PNG output, the image in the HTML output and the one in markdown's HTML
            assert ours.count(ALT) == theirs.count(ALT) == 3


def test_cells_shared_by_pages_are_highlighted_and_rendered_once(monkeypatch) -> None:
    calls = {"code": 0, "markdown": 0}
    highlight, markdown = Highlight2HTML.__call__, HTMLExporter.markdown2html

    def counted_highlight(self, *args, **kw):
        calls["code"] += 1
        return highlight(self, *args, **kw)

    def counted_markdown(self, context, source):
        calls["markdown"] += 1
        return markdown(self, context, source)

    monkeypatch.setattr(Highlight2HTML, "__call__", counted_highlight)
    monkeypatch.setattr(HTMLExporter, "markdown2html", counted_markdown)
    exporter = FeedbackHTMLExporter(config=_config("feedback"))
    for answer in ("def f(x):\n    return x + 1\n", "def f(x):\n    return x + 2\n"):
        exporter.from_notebook_node(_notebook(answer), _resources())
    # two code cells and two markdown cells, of which only the answer differs
    assert calls == {"code": 3, "markdown": 2}


def test_the_memory_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(feedback_html, "MEMO_ENTRIES", 3)
    exporter = FeedbackHTMLExporter(config=_config("classic"))
    for k in range(5):
        exporter.from_notebook_node(_notebook(f"def f(x):\n    return x + {k}\n"), _resources())
        assert len(exporter._highlighted) <= 3 and len(exporter._rendered) <= 3


def _bench_feedback():
    spec = importlib.util.spec_from_file_location(
        "bench_feedback_under_test", REPO / "benchmarks" / "bench_feedback.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_feedback_pages_of_a_graded_course_agree_and_the_benchmark_runs(
    tmp_path: Path, capsys
) -> None:
    """The benchmark on a graded tiny course, its students copied: nbgrader's
    generate_feedback with each exporter; the pages agree (it exits 1 otherwise) and those
    of the copies hold their students' scores."""
    course = make_course(tmp_path)
    submit(course, "right", {f"{NOTEBOOK}.ipynb": filled(course)})
    submit(course, "wrong", {f"{NOTEBOOK}.ipynb": filled(course, barrier_height=WRONG_BARRIER)})
    options = {"progress": False, "feedback": False, "export": False, "out": None}
    records = grade_mod.main(course_dir=course, workers=1, **options)
    assert sorted(r.student for r in records) == ["right", "wrong"]
    assert _bench_feedback().main(["--course-dir", str(course), "--copies", "2", "--repeats", "1", "--workers", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "4 students, 4 pages" in out and "pages equal up to serialisation: 4 of 4" in out
    page = course / "feedback" / "{}" / ASSIGNMENT / f"{NOTEBOOK}.html"

    def heading(student: str) -> str:
        html = Path(str(page).format(student)).read_text(encoding="utf-8")
        text = feedback.visible_text(html)
        return next(line for line in text.splitlines() if "(Score:" in line).strip()

    assert heading("wrong") == heading("wrong-copy1") != heading("right") == heading("right-copy1")
