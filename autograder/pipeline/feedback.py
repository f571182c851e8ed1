"""Feedback for students: nbgrader's `generate_feedback`, without the hidden tests' source.

nbgrader's feedback HTML shows every cell of the autograded notebook, and autograding has
put the hidden tests back into it (nbgrader issue #917): a student would read the hidden
test code, and the tracebacks of failed hidden tests show the check calls and the
registry's own source lines. :class:`HideHiddenTests` runs inside nbgrader's feedback
pipeline (``GenerateFeedback.preprocessors``) on the copy being converted, never on the
autograded notebooks: in every cell with a hidden-test region or a check call, the region
becomes one comment line naming the check, and each error output keeps its message
(``AssertionError: <feedback>``) but loses the traceback. The points, the comments of
the graders and every other cell are unchanged. :class:`AddExplanations` then puts each
graded item's explanation (content cells of role ``explanation``, which no notebook holds,
neither the source nor the release) below the item's test cells: students read why an
answer is right only in their feedback, after grading.

To make plain ``nbgrader generate_feedback`` safe too, put :data:`FEEDBACK_PREPROCESSORS`
into nbgrader_config.py as ``c.GenerateFeedback.preprocessors``.
"""

from __future__ import annotations

import html
import io
import os
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.content.parse import ROLE_KEY, explanations
from autograder.errors import AutograderError
from autograder.spec import SPEC_FILE, load_spec

from .course import Course, PipelineError, config_list, open_course, run_nbgrader

MIN_STUDENTS_PER_PROCESS = 2
"""Students per nbgrader process at least: below that its start-up costs more than it saves."""

FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "autograder.pipeline.feedback.HideHiddenTests",
    "autograder.pipeline.feedback.AddExplanations",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
)
"""nbgrader's feedback pipeline (GetGrades, CSSHTMLHeaderPreprocessor) with the hiding step
and the explanations."""

FEEDBACK_EXPORTER = "autograder.pipeline.feedback_html.FeedbackHTMLExporter"
"""nbconvert's HTML exporter with the same pages in a fraction of the time (see
:mod:`autograder.pipeline.feedback_html`)."""

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"

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
    """A graded test cell (nbgrader's metadata: graded, not a solution) with hidden tests.

    A student's own cell is never one, whatever its text: its code is theirs to see (the
    autograded notebook's test cells come from the gradebook, not from the submission).
    """
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return (
        cell.get("cell_type") == "code"
        and bool(nbg.get("grade"))
        and not nbg.get("solution")
        and (BEGIN_HIDDEN in cell.source or bool(_STAFF.search(cell.source)))
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


# ---- the explanations --------------------------------------------------------------------------


def _nbgrader_meta(cell: NotebookNode) -> Mapping[str, object]:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_test_cell(cell: NotebookNode) -> bool:
    meta = _nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def explanation_index(cells: list[NotebookNode], item: str) -> int:
    """Where the explanation of `item` goes: below its answer cell (grade id `item`) and the
    test cells that follow it; without that answer cell, below the last of the item's test
    cells (``test_<item>_...``); else at the end."""
    ids = [_nbgrader_meta(c).get("grade_id") for c in cells]
    if item in ids:
        at = ids.index(item) + 1
        while at < len(cells) and _is_test_cell(cells[at]):
            at += 1
        return at
    tests = [
        i for i, gid in enumerate(ids) if isinstance(gid, str) and gid.startswith(f"test_{item}_")
    ]
    return tests[-1] + 1 if tests else len(cells)


def insert_explanations(nb: NotebookNode, explained: Mapping[str, str]) -> None:
    """Put each item's explanation (markdown) into `nb` as a cell of role ``explanation``."""
    for item, text in explained.items():
        cell = nbformat.v4.new_markdown_cell(text)
        cell.metadata[ROLE_KEY] = {"role": "explanation", "item": item}
        nb.cells.insert(explanation_index(nb.cells, item), cell)


class AddExplanations(NbGraderPreprocessor):
    """Feedback preprocessor: each graded item's explanation below its test cells.

    The explanations come from the assignment's content (cells of role ``explanation``):
    no notebook holds them, so they reach students only here, after grading. An
    assignment without a spec or content has none; one whose content cannot be read gets
    none (logged), and its feedback goes on.
    """

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        info = resources.get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if assignment and notebook:
            explained = self._explanations(str(assignment), str(notebook))
            if explained:
                insert_explanations(nb, explained)
        return nb, resources

    def _explanations(self, assignment: str, notebook: str) -> dict[str, str]:
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        if not (source / SPEC_FILE).is_file():
            return {}
        try:
            spec = load_spec(source)
            if notebook not in spec.notebooks:
                return {}
            return explanations(spec, notebook)
        except (AutograderError, OSError) as exc:
            self.log.warning("no explanations for %s/%s: %s", assignment, notebook, exc)
            return {}


def visible_text(html_text: str) -> str:
    """The text of an HTML page as a reader sees it (tags removed, entities decoded)."""
    return html.unescape(_TAG.sub("", html_text))


# ---- the leak check ----------------------------------------------------------------------------

MIN_LINE_CHARS = 12
"""Lines shorter than this (``else:``, ``return out``) are common to any code: never a leak."""


def _normal(line: str) -> str:
    return " ".join(line.split())


def text_lines(text: str) -> set[str]:
    """The lines of `text` as the leak check compares them (whitespace collapsed, short
    lines dropped)."""
    return {n for n in map(_normal, text.splitlines()) if len(n) >= MIN_LINE_CHARS}


def code_lines(source: str) -> set[str]:
    """The lines of Python `source` that hold code or a comment, not only string literal
    text: a check's messages and hints are string literals, and they rightly appear in
    feedback; its code never does. (Falls back to every line if `source` does not parse.)"""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text_lines(source)
    lines = source.splitlines()
    keep: set[int] = set()
    skip = {tokenize.STRING, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    skip |= {
        getattr(tokenize, n)
        for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
        if hasattr(tokenize, n)
    }
    for tok in tokens:
        if tok.type not in skip and tok.type != tokenize.ENDMARKER:
            keep.add(tok.start[0])
    return {
        n
        for i in sorted(keep)
        if i - 1 < len(lines)
        for n in [_normal(lines[i - 1])]
        if len(n) >= MIN_LINE_CHARS
    }


def notebook_sources(path: Path) -> str:
    """Every cell source of a notebook file, joined ("" if it is not a readable notebook)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # a broken submission: it has no text of its own to exempt
        return ""
    return "\n".join(str(c.get("source", "")) for c in nb.get("cells", []))


def _regions(source: str, begin: str, end: str) -> str:
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        if begin in line:
            inside = True
        if inside:
            out.append(line)
        if end in line:
            inside = False
    return "\n".join(out)


@dataclass(frozen=True)
class HiddenMaterial:
    """What of a course no student may read in feedback: the lines of its hidden test cells
    and model answers (from the source notebooks), and the code lines of its checks and
    reference package, minus every line the release shows anyway.

    A page leaks when it shows such a line that the student did not write themselves: a
    student who types ``from autograder.checks import check_function`` or the hidden-test
    markers into their own cells sees their own text, not the course's.
    """

    lines: frozenset[str]

    @classmethod
    def of(cls, course: Course) -> HiddenMaterial:
        hidden: set[str] = set()
        for path in course.source_notebooks():
            nb = nbformat.read(path, as_version=4)
            for c in nb.cells:
                hidden |= text_lines(_regions(c.source, BEGIN_HIDDEN, END_HIDDEN))
                hidden |= text_lines(_regions(c.source, "BEGIN SOLUTION", "END SOLUTION"))
        for folder in course.spec.staff_paths():
            if folder == course.spec.content_dir:
                continue  # its hidden cells and answers are in the source notebooks
            for py in sorted(folder.rglob("*.py")):
                hidden |= code_lines(py.read_text(encoding="utf-8", errors="replace"))
        public: set[str] = set()
        for path in course.release_notebooks():
            public |= text_lines(notebook_sources(path))
        for name in course.spec.release_files:
            released = course.release_dir / name
            if released.is_file():
                public |= text_lines(released.read_text(encoding="utf-8", errors="replace"))
        for notebook in course.spec.notebooks:  # shown in feedback on purpose
            for text in explanations(course.spec, notebook).values():
                public |= text_lines(text)
        return cls(frozenset(hidden - public))

    def leaks(self, html_text: str, own_text: str = "") -> list[str]:
        """The hidden lines `html_text` shows that are not in `own_text` (the student's own
        cells), in page order."""
        own = text_lines(own_text)
        found: list[str] = []
        for line in visible_text(html_text).splitlines():
            n = _normal(line)
            if n in self.lines and n not in own and n not in found:
                found.append(n)
        return found


WITHHELD_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}: feedback withheld</title></head>
<body><h1>{title}: feedback withheld</h1>
<p>This feedback page was withheld: it would have shown {count} line(s) of the course's
hidden material. Your score is not affected; your instructor has the details.</p>
</body></html>
"""


@dataclass
class FeedbackResult:
    """What :func:`generate` wrote: the pages, and the pages withheld per student (each
    with the reason)."""

    pages: list[Path] = field(default_factory=list)
    withheld: dict[str, list[str]] = field(default_factory=dict)


def generate(
    course_dir: str | os.PathLike[str],
    students: Iterable[str] | None = None,
    *,
    assignment: str | None = None,
    out: Callable[[str], None] | None = None,
    workers: int | None = None,
    exporter: str = FEEDBACK_EXPORTER,
) -> FeedbackResult:
    """Generate feedback HTML for `students` (all autograded students when None).

    Runs ``nbgrader generate_feedback --force`` with :data:`FEEDBACK_PREPROCESSORS` (in up to
    `workers` processes at once, default the number of cores, each for a share of the
    students and at least :data:`MIN_STUDENTS_PER_PROCESS` of them; `exporter` names the
    HTML exporter class, by default :data:`FEEDBACK_EXPORTER`), then
    checks every produced page against the course's hidden material (:class:`HiddenMaterial`).
    A page that would show some is replaced by a short notice and listed in the result's
    `withheld`; the other pages, of that student and of everyone else, are kept.
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
        return FeedbackResult()
    # one nbgrader process per share of the students, `workers` at a time (each page takes
    # about a second of nbconvert, each process a few seconds of imports)
    workers = max(1, min(workers or os.cpu_count() or 1, len(wanted) // MIN_STUDENTS_PER_PROCESS))
    shares = [wanted[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [
            pool.submit(_nbgrader_feedback, course, autograded, s, exporter) for s in shares
        ]:
            future.result()
    result = check_feedback(course, wanted)
    if out:
        out(
            f"feedback: {len(result.pages)} page(s) for {len(wanted)} student(s) in "
            f"{course.feedback_root}"
        )
        for student, reasons in result.withheld.items():
            for reason in reasons:
                out(f"feedback withheld: {student}: {reason}")
    return result


def _nbgrader_feedback(
    course: Course, autograded: list[str], students: list[str], exporter: str
) -> None:
    args = [
        "generate_feedback",
        course.assignment,
        "--force",
        config_list("GenerateFeedback.preprocessors", FEEDBACK_PREPROCESSORS),
        f"--GenerateFeedback.exporter_class={exporter}",
    ]
    if len(students) == 1:
        args.append(f"--student={students[0]}")
    elif set(students) != set(autograded):
        # nbgrader selects students by a glob; exclude the others instead.
        others = sorted(set(autograded) - set(students))
        args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
    run_nbgrader(course.root, *args)


def check_feedback(course: Course, students: Iterable[str]) -> FeedbackResult:
    """Check every feedback page of `students`; a page that leaks is replaced by a notice
    (:data:`WITHHELD_PAGE`) and reported, never raised: one page never stops the others."""
    material = HiddenMaterial.of(course)
    result = FeedbackResult()
    for student in students:
        own = "\n".join(
            notebook_sources(p) for p in sorted(course.submitted_dir(student).glob("*.ipynb"))
        )
        for page in sorted(course.feedback_dir(student).glob("*.html")):
            found = material.leaks(page.read_text(encoding="utf-8", errors="replace"), own)
            if not found:
                result.pages.append(page)
                continue
            shown = "; ".join(repr(line[:60]) for line in found[:3])
            more = f" and {len(found) - 3} more" if len(found) > 3 else ""
            result.withheld.setdefault(student, []).append(
                f"{page.name}: would show {len(found)} line(s) of hidden material "
                f"({shown}{more}); replaced by a notice"
            )
            page.write_text(
                WITHHELD_PAGE.format(title=html.escape(page.stem), count=len(found)),
                encoding="utf-8",
            )
    return result


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    students: Iterable[str] | None = None,
    assignment: str | None = None,
) -> int:
    """`autograder feedback`: feedback pages for the given (default: all graded) students."""
    students = list(students) if students else None
    result = generate(course_dir, students, assignment=assignment, out=print)
    for page in result.pages:
        print(f"  {page}")
    # a withheld page is not an error of the run, but the instructor must see it
    return 3 if result.withheld else 0
