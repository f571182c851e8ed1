"""The feedback leak check tells a student's own text from the course's hidden material,
and a withheld page never stops the class (autograder.pipeline.feedback).

Unit tests of the comparison, then one class graded end to end on the tiny fixture
assignment: dan's own cells hold every marker a word list would have flagged, eve's code
prints a line of a hidden test cell at run time, fay is wrong on one function. `autograder
grade` exits 0, exports everyone with the right scores, keeps dan's page, withholds eve's
with the reason in her record and in the summary.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.pipeline import examples, feedback
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

    # the feedback verb alone says so by its exit status, and keeps the other pages
    assert cli.main(["feedback", *course]) == 3
    assert "feedback withheld: eve" in capsys.readouterr().out
    assert len(list((root / "feedback").rglob("*.html"))) == 6
