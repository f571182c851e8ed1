"""Feedback for students: nbgrader's `generate_feedback`, without the hidden tests' source.

nbgrader's feedback HTML shows every cell of the autograded notebook, and autograding has
put the hidden tests back into it (nbgrader issue #917): a student would read the hidden
test code, and the tracebacks of failed hidden tests show the check calls and the
registry's own source lines. :class:`HideHiddenTests` runs inside nbgrader's feedback
pipeline (``GenerateFeedback.preprocessors``) on the copy being converted, never on the
autograded notebooks: in every cell with a hidden-test region or a check call, the region
becomes one comment line naming the check, and each error output keeps its message
(``AssertionError: <feedback>``) but loses the traceback. The points, the comments of
the graders and every other cell are unchanged.

To make plain ``nbgrader generate_feedback`` safe too, put :data:`FEEDBACK_PREPROCESSORS`
into nbgrader_config.py as ``c.GenerateFeedback.preprocessors``.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .course import Course, PipelineError, config_list, open_course, run_nbgrader

FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "autograder.pipeline.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)
"""nbgrader's feedback pipeline (GetGrades, CSSHTMLHeaderPreprocessor) with the hiding step."""

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

FORBIDDEN_IN_FEEDBACK = (
    BEGIN_HIDDEN,
    END_HIDDEN,
    "check_function",
    "check_answer",
    "from autograder",
    "import autograder",
    "autograder.checks",
    "autograder/checks",
)
"""What no feedback file may contain (checked on the text a browser shows, tags removed)."""

_CHECK_CALL = re.compile(
    r"\b(?:check_function|check_answer)\(\s*(['\"])(?P<name>\w+)\1"
    r"(?:[^)]*?\bpart\s*=\s*(['\"])(?P<part>\w+)\3)?"
)
_STAFF = re.compile(r"\b(?:check_function|check_answer)\b|\b(?:from|import)\s+autograder\b")
_TAG = re.compile(r"<[^>]+>")


def describe_hidden(source: str) -> str:
    """The one comment line that replaces a hidden-test region."""
    checks = []
    for match in _CHECK_CALL.finditer(source):
        part = match.group("part")
        checks.append(f"`{match.group('name')}`" + (f', part "{part}"' if part else ""))
    if checks:
        return f"# hidden tests: {'; '.join(checks)} (the test code is not shown)"
    return "# hidden tests (the test code is not shown)"


def hide_source(source: str) -> str:
    """`source` with every hidden-test region replaced by one comment line.

    A cell that still mentions a check call or an autograder import outside a region (a
    malformed cell) is replaced as a whole.
    """
    lines = source.splitlines()
    out: list[str] = []
    region: list[str] = []
    inside = False
    for line in lines:
        if BEGIN_HIDDEN in line:
            inside, region = True, []
        elif END_HIDDEN in line and inside:
            out.append(describe_hidden("\n".join(region)))
            inside = False
        elif inside:
            region.append(line)
        else:
            out.append(line)
    if inside:  # no END marker: hide the rest
        out.append(describe_hidden("\n".join(region)))
    text = "\n".join(out)
    if _STAFF.search(text):
        return describe_hidden(source)
    return text


def is_hidden_test_cell(cell: NotebookNode) -> bool:
    return cell.get("cell_type") == "code" and (
        BEGIN_HIDDEN in cell.source or bool(_STAFF.search(cell.source))
    )


def hide_outputs(cell: NotebookNode) -> None:
    """Keep each error's message, drop its traceback (it shows the test's and registry's code)."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback preprocessor: hidden tests show their result, never their code."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if is_hidden_test_cell(cell):
            cell.source = hide_source(cell.source)
            hide_outputs(cell)
        return cell, resources


def visible_text(html_text: str) -> str:
    """The text of an HTML page as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(_TAG.sub("", html_text))


def leaks_in(html_text: str) -> list[str]:
    """The forbidden strings that appear in a feedback page's raw HTML or its visible text."""
    seen = visible_text(html_text)
    return [w for w in FORBIDDEN_IN_FEEDBACK if w in html_text or w in seen]


def generate(
    course_dir: str | os.PathLike[str],
    students: Iterable[str] | None = None,
    *,
    assignment: str | None = None,
    out: Callable[[str], None] | None = None,
) -> list[Path]:
    """Generate feedback HTML for `students` (all autograded students when None).

    Runs ``nbgrader generate_feedback --force`` with :data:`FEEDBACK_PREPROCESSORS`, then
    checks every produced page; a page that still shows hidden-test code is deleted and
    PipelineError is raised. Returns the feedback files written, sorted.
    """
    course = open_course(course_dir, assignment)
    autograded = course.students_autograded()
    wanted = autograded if students is None else sorted(set(students))
    missing = sorted(set(wanted) - set(autograded))
    if missing:
        raise PipelineError(
            f"no autograded submission for {', '.join(missing)}: run `autograder grade` first"
        )
    if not wanted:
        return []
    args = [
        "generate_feedback",
        course.assignment,
        "--force",
        config_list("GenerateFeedback.preprocessors", FEEDBACK_PREPROCESSORS),
    ]
    if len(wanted) == 1:
        args.append(f"--student={wanted[0]}")
    elif set(wanted) != set(autograded):
        # nbgrader selects students by a glob; exclude the others instead.
        others = sorted(set(autograded) - set(wanted))
        args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
    run_nbgrader(course.root, *args)
    written = check_feedback(course, wanted)
    if out:
        out(
            f"feedback: {len(written)} page(s) for {len(wanted)} student(s) in "
            f"{course.feedback_root}"
        )
    return written


def check_feedback(course: Course, students: Iterable[str]) -> list[Path]:
    """Every feedback page of `students`; deletes and reports any page that leaks."""
    pages: list[Path] = []
    problems: list[str] = []
    for student in students:
        for page in sorted(course.feedback_dir(student).glob("*.html")):
            found = leaks_in(page.read_text(encoding="utf-8", errors="replace"))
            if found:
                page.unlink()
                problems.append(f"{page}: shows {', '.join(map(repr, found))} (deleted)")
            else:
                pages.append(page)
    if problems:
        raise PipelineError("feedback would show hidden tests:\n" + "\n".join(problems))
    return pages


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    students: Iterable[str] | None = None,
    assignment: str | None = None,
) -> int:
    """`autograder feedback`: feedback pages for the given (default: all graded) students."""
    students = list(students) if students else None
    pages = generate(course_dir, students, assignment=assignment, out=print)
    for page in pages:
        print(f"  {page}")
    return 0
