"""The feedback leak check tells a student's own text from the course's hidden material,
a withheld page never stops the class, and the explanations of the answers reach the
feedback pages only (autograder.pipeline.feedback).

Unit tests of the comparison and of where explanations go, then one class graded end to end
on the tiny fixture assignment: dan's own cells hold every marker a word list would have
flagged, eve's code prints a line of a hidden test cell at run time, fay is wrong on one
function. `autograder grade` exits 0, exports everyone with the right scores, keeps dan's
page, withholds eve's with the reason in her record and in the summary; every kept page
shows the fixture's explanation, and no notebook (release, submission, autograded) holds it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.pipeline import build, examples, feedback
from autograder.pipeline.records import load_records
from autograder.spec import SPEC_FILE, load_spec, to_toml

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"

MARKERS = (
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
    "check_function",
    "check_answer",
    "from autograder",
    "import autograder",
    "autograder.checks",
    "autograder/checks",
)
"""What the old word list withheld a page for."""


# ---- the comparison ------------------------------------------------------------------------------


def test_code_lines_leave_out_string_literals_and_short_lines() -> None:
    source = (
        '"""A docstring line that feedback may well quote back."""\n'
        "HINT = (\n"
        '    "compare magnitudes, not signed values: abs(v) < threshold"\n'
        ")\n"
        "expected = reference(*materialize(case.args))  # the reference value\n"
        "x = 1\n"
    )
    lines = feedback.code_lines(source)
    assert lines == {"expected = reference(*materialize(case.args)) # the reference value"}
    # unparsable text: every long line counts
    assert "def broken(: and more text" in feedback.code_lines("def broken(:  and more text\n")


def test_a_page_leaks_hidden_lines_the_student_did_not_write() -> None:
    material = feedback.HiddenMaterial(
        frozenset({'check_function("f", f, part="basic")', "from autograder.checks import x"})
    )
    page = (
        "<pre><span>check_function</span>(&quot;f&quot;, f, part=&quot;basic&quot;)</pre>\n"
        "<pre>from   autograder.checks import x</pre>\n<p>f = 1</p>"
    )
    assert material.leaks(page) == [
        'check_function("f", f, part="basic")',
        "from autograder.checks import x",
    ]
    own = "# my notes\nfrom autograder.checks import x\n"
    assert material.leaks(page, own) == ['check_function("f", f, part="basic")']
    assert material.leaks("<p>nothing here</p>") == []


def test_only_graded_test_cells_are_hidden_in_feedback() -> None:
    text = "### BEGIN HIDDEN TESTS\nfrom autograder.checks import check_function\n"
    answer = nbformat.v4.new_code_cell(
        text, metadata={"nbgrader": {"grade": True, "solution": True, "grade_id": "f"}}
    )
    mine = nbformat.v4.new_code_cell(text)
    test = nbformat.v4.new_code_cell(
        text, metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t"}}
    )
    assert not feedback.is_hidden_test_cell(answer)
    assert not feedback.is_hidden_test_cell(mine)
    assert feedback.is_hidden_test_cell(test)


def _cell(kind: str, source: str, grade_id: str | None = None, *, solution: bool = False):
    new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = new(source)
    if grade_id is not None:
        grade = not solution
        cell.metadata["nbgrader"] = {"grade": grade, "solution": solution, "grade_id": grade_id}
    return cell


def test_explanations_go_below_the_tests_of_their_item() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            _cell("markdown", "intro"),
            _cell("code", "f = 1", "f", solution=True),
            _cell("code", "assert f", "test_f_visible"),
            _cell("code", "# hidden", "test_f_basic"),
            _cell("markdown", "next question"),
            _cell("code", "# hidden, its answer cell deleted", "test_g_basic"),
            _cell("code", "h = 1", "h", solution=True),
        ]
    )
    feedback.insert_explanations(nb, {"f": "why f", "g": "why g", "h": "why h", "k": "why k"})
    assert [c.source for c in nb.cells] == [
        "intro",
        "f = 1",
        "assert f",
        "# hidden",
        "why f",
        "next question",
        "# hidden, its answer cell deleted",
        "why g",
        "h = 1",
        "why h",
        "why k",  # an item without cells: at the end
    ]
    roles = [c.metadata.get("autograder", {}).get("role") for c in nb.cells]
    assert roles.count("explanation") == 4


# ---- a class graded end to end ------------------------------------------------------------------

DAN_TOTAL = (
    "### BEGIN HIDDEN TESTS\n"
    "### END HIDDEN TESTS\n"
    "# from autograder.checks import check_function, check_answer  (my notes)\n"
    "# import autograder\n"
    'NOTES = "autograder.checks autograder/checks check_function( check_answer("\n'
    "def running_total(xs):\n"
    "    out, total = [], 0.0\n"
    "    for x in xs:\n"
    "        total += x\n"
    "        out.append(total)\n"
    "    return out\n"
)
EVE_TOTAL = DAN_TOTAL.split("def ", 1)[0].replace("###", "#") + (
    "def running_total(xs):\n"
    "    out, total = [], 0.0\n"
    "    for x in xs:\n"
    "        total += x\n"
    "        out.append(total)\n"
    "    return out\n"
    "print('check_function(' + '\"running_total\", running_total, part=\"basic\")')\n"
)
FAY_PRUNE = (
    "def prune_count(values, threshold):\n    return sum(1 for v in values if v < threshold)\n"
)


def _submit(root: Path, student: str, replace: dict[str, str]) -> None:
    folder = root / "submitted" / student / "tiny"
    folder.mkdir(parents=True)
    for name in ("01_sums.ipynb", "02_words.ipynb"):
        release = nbformat.read(str(root / "assignments" / "tiny" / name), as_version=4)
        source = nbformat.read(str(root / "source" / "tiny" / name), as_version=4)
        nb = examples.reference_submission(release, source)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in replace:
                cell.source = replace[gid]
        nbformat.write(nb, str(folder / name))


@pytest.mark.slow
def test_a_withheld_page_never_stops_the_class(tmp_path: Path, capsys) -> None:
    root = tmp_path / "course"
    (root / "source" / "tiny").mkdir(parents=True)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copy2(TINY / "tinyhelp.py", root / "source" / "tiny" / "tinyhelp.py")
    (root / "source" / "tiny" / SPEC_FILE).write_text(to_toml(load_spec(TINY)), encoding="utf-8")
    course = ["--course-dir", str(root)]
    assert cli.main(["build", *course]) == 0
    _submit(root, "dan", {"running_total": DAN_TOTAL})
    _submit(root, "eve", {"running_total": EVE_TOTAL})
    _submit(root, "fay", {"prune_count": FAY_PRUNE})
    capsys.readouterr()

    assert cli.main(["grade", *course, "--workers", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "feedback withheld for 1 student(s)" in out and "eve: 01_sums.html" in out

    with (root / "exports" / "tiny" / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    full = float(rows["dan"]["max_total"]) - 1  # one manually graded point
    assert {s: float(r["total"]) for s, r in rows.items()} == {
        "dan": full,
        "eve": full,
        "fay": full - 2,  # prune_count basic and errors
    }
    records = {r.student: r for r in load_records(root, "tiny")}
    assert records["dan"].withheld == [] and records["fay"].withheld == []
    (reason,) = records["eve"].withheld
    assert reason.startswith("01_sums.html: would show 1 line(s) of hidden material")
    assert "check_function" in reason

    # dan sees his own text, markers and all; eve a notice; nobody the hidden tests
    dan = feedback.visible_text((root / "feedback/dan/tiny/01_sums.html").read_text())
    assert all(m in dan for m in MARKERS)
    assert 'check_function("running_total", running_total, part="basic")' not in dan
    eve = (root / "feedback/eve/tiny/01_sums.html").read_text()
    assert "feedback withheld" in eve and "check_function" not in eve
    assert (root / "feedback/eve/tiny/02_words.html").is_file()  # her other page is kept

    # grade-only execution: the demonstration cells were not run, the graded ones were
    graded = nbformat.read(str(root / "autograded/dan/tiny/01_sums.ipynb"), as_version=4)
    by_id = {c.get("id"): c for c in graded.cells}
    assert by_id["demo-table"].outputs == []
    assert any(o.get("output_type") == "stream" for c in graded.cells for o in c.get("outputs", []))

    # the explanation is on every kept page of its notebook, below the item's tests, and in
    # no notebook: not the release, a submission or an autograded notebook
    why = "Why these counts."
    for student in ("dan", "eve", "fay"):
        page = feedback.visible_text((root / f"feedback/{student}/tiny/02_words.html").read_text())
        assert why in page and page.index(why) > page.index("test_word_count_basic")
    notebooks = [
        *(root / "assignments" / "tiny").glob("*.ipynb"),
        *(root / "submitted").rglob("*.ipynb"),
        *(root / "autograded").rglob("*.ipynb"),
    ]
    assert len(notebooks) == 2 + 3 * 2 + 3 * 2
    assert not [p for p in notebooks if why in p.read_text()]

    # the feedback verb alone says so by its exit status, and keeps the other pages
    assert cli.main(["feedback", *course]) == 3
    assert "feedback withheld: eve" in capsys.readouterr().out
    assert len(list((root / "feedback").rglob("*.html"))) == 6

    # and the build's leak check would find it in the release
    released = root / "assignments" / "tiny" / "02_words.ipynb"
    nb = nbformat.read(str(released), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(build.explanation_text(load_spec(TINY))))
    nbformat.write(nb, str(released))
    leaks = build.find_leaks(released.parent, root / "source" / "tiny")
    assert any("explanation" in p and "Why these counts" in p for p in leaks), leaks
