"""JupyterLab with nbgrader's extensions, in a real browser, on a temporary course.

One course directory (a copy of the shared released course, `nbgrader_support.released_course`,
with a private local exchange) and one `jupyter lab` server serve the whole module:

1. a student fetches the assignment in the Assignments tab, opens the released
   `01_mode_connectivity.ipynb`, types the reference answer of its first function, runs all
   cells, presses nbgrader's Validate button, answers an "explain" question of the quiz and
   submits; the exchange receives what was typed;
2. after a real `autograder collect` and `autograder grade`, the instructor finds the
   assignment and the submission in formgrader and grades the explain answer by hand; the
   grade is in the CSV that `autograder export` writes;
3. the student's feedback page, opened in the browser, shows the hidden tests' results and
   none of their code.

Screenshots of every step are saved in the test's temporary directory (the student's session,
shared by the tests, in the module's `student-*` one); a failing step leaves a `-FAILED`
screenshot, named in the failure with the server's log. Needs Playwright for Python and
Debian's `chromium` (`apt-get install chromium`): without them the module is skipped.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip(
    "playwright.sync_api",
    reason="Playwright for Python is not installed (pip install -c constraints.txt -e '.[dev]')",
)
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "the browser tests need Debian's chromium on PATH (apt-get install chromium)",
        allow_module_level=True,
    )

from nbgrader.utils import get_username  # noqa: E402
from playwright.sync_api import (  # noqa: E402
    Browser,
    Locator,
    Page,
    Response,
    expect,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

from autograder import cli  # noqa: E402
from autograder.pipeline import feedback  # noqa: E402
from autograder.pipeline.course import open_course  # noqa: E402
from tests.browser.lab_support import (  # noqa: E402
    CHROMIUM_ARGS,
    VIEWPORT,
    LabServer,
    Steps,
    jupyter_lab,
)
from tests.course import nbgrader_support as nbs  # noqa: E402

pytestmark = pytest.mark.slow

ASSIGNMENT = nbs.ASSIGNMENT
NOTEBOOK = "01_mode_connectivity.ipynb"
QUIZ = "04_quiz.ipynb"
#: The student's answer to the quiz's first hand-graded question, and the instructor's grade.
ANSWER = (
    "The barriers are 0.025 for the pair (1,2) and 0.785 for the pair (2,3).\n\n"
    "Runs 1 and 2 are linearly mode connected; run 3 lies beyond a ridge."
)
MANUAL_SCORE = "1.5"
#: Student ID: the local exchange submits under the user name of the server's process.
STUDENT = get_username()
ACTION_MS = 60_000  # clicks and page loads
RUN_MS = 300_000  # running a notebook, validating it
# Assertions (`expect`) wait like actions: their own default is 5 s, which a notebook of 150
# cells opening beside a busy test worker once exceeded in CI (the cell was not rendered yet).
expect.set_options(timeout=ACTION_MS)


# ---------------------------------------------------------------------------------------------
# What the tests type and expect, from the course's own notebooks


@dataclass(frozen=True)
class Plan:
    """The cells the student works on, as indices into the released notebooks."""

    function: str  # the function the student implements (the notebook's first)
    reference: str  # its reference answer, as a student types it
    answer_cell: int
    visible_cell: int  # the function's visible test
    next_cell: int  # the next function's visible test (still a stub)
    expected_failures: list[str]  # sources that Validate reports as failed
    explain: str  # the grade id of the quiz's first hand-graded answer
    explain_cell: int


def make_plan(release: Path) -> Plan:
    nb = nbs.read_nb(release / NOTEBOOK)
    source_nb = nbs.read_nb(nbs.SOURCE_DIR / NOTEBOOK)
    function = nbs.first_function(source_nb)
    assert function is not None, f"{NOTEBOOK} has no answer cell with a visible test"
    ids = nbs.cells_by_id(nb)
    failures = nbs.validate_failures(nb, function)
    quiz = nbs.read_nb(release / QUIZ)
    explain = next(c for c in quiz.cells if c.cell_type == "markdown" and nbs.is_grade(c))
    return Plan(
        function=function,
        reference=nbs.without_solution_markers(nbs.cells_by_id(source_nb)[function].source),
        answer_cell=nb.cells.index(ids[function]),
        visible_cell=nb.cells.index(ids[f"test_{function}_visible"]),
        next_cell=nb.cells.index(failures[0]),
        expected_failures=[c.source.strip() for c in failures],
        explain=nbs.grade_id(explain),
        explain_cell=quiz.cells.index(explain),
    )


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def run_cli(*args: str) -> str:
    """`autograder ARGS` in this process; its output; AssertionError if it fails."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.main(list(args))
    assert code == 0, f"`autograder {' '.join(args)}` exited {code}:\n{out.getvalue()}"
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Module fixtures: the course, the server, the browser


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the released course whose config adds an absolute root and a private
    exchange, with the assignment released to that exchange."""
    shared = nbs.released_course(tmp_path_factory)
    base = tmp_path_factory.mktemp("browser-course")
    root = Path(
        shutil.copytree(shared, base / "course", ignore=shutil.ignore_patterns(".jupyter_home"))
    )
    with (root / "nbgrader_config.py").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n# The browser tests' course: an absolute root (the lab's server extensions change"
            "\n# directory) and a local exchange of its own. course_id is the course's, above.\n"
            f"c.CourseDirectory.root = {str(root)!r}\n"
            f"c.Exchange.root = {str(base / 'exchange')!r}\n"
        )
    nbs.run_nbgrader(root, "release_assignment", ASSIGNMENT, "--force")
    return root


@pytest.fixture(scope="module")
def plan(course: Path) -> Plan:
    return make_plan(course / "assignments" / ASSIGNMENT)


@pytest.fixture(scope="module")
def lab(course: Path) -> Iterator[LabServer]:
    with jupyter_lab(course, course.parent / "home") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def new_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def open_lab(page: Page, lab: LabServer, workspace: str) -> None:
    page.goto(lab.lab_url(workspace))
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    page.get_by_role("menuitem", name="Nbgrader", exact=True).wait_for()


def nbgrader_menu(page: Page, command: str) -> None:
    """Open an nbgrader panel from the Nbgrader menu (`command`: nbgrader's command id)."""
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.locator(f'li[data-command="{command}"]').click()


def notebook_cell(page: Page, index: int):
    """The cell at `index` of the notebook in view (every cell is in the DOM: no windowing)."""
    return page.locator(".jp-NotebookPanel:visible").locator(
        f'.jp-Cell[data-windowed-list-index="{index}"]'
    )


def replace_cell_text(page: Page, cell, text: str) -> None:
    """Put `text` into a cell's editor as typed input (no auto-indent, no bracket closing)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


# ---------------------------------------------------------------------------------------------
# The student's session: shared by the tests (the instructor grades what it submitted)


@dataclass
class StudentRun:
    visible_output: str
    next_output: str
    dialog_title: str
    dialog_kind: str  # the class nbgrader gives the validation message
    failed: list[tuple[str, str]]  # (cell source, error) per cell Validate reports
    submitted: str  # the Submitted assignments list
    screenshots: Path


@pytest.fixture(scope="module")
def student(browser: Browser, lab: LabServer, plan: Plan, tmp_path_factory) -> StudentRun:
    shots = tmp_path_factory.mktemp("student-screenshots")
    with new_page(browser) as page:
        step = Steps(page, shots, lab)
        with step("assignments-tab"):
            open_lab(page, lab, "student")
            nbgrader_menu(page, "nbgrader:open-assignment-list")
            released = page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
            expect(released).to_contain_text(open_course(lab.course).course_id)
        with step("fetched"):
            released.get_by_role("button", name="Fetch").click()
            fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT)
            expect(fetched.get_by_role("button", name="Submit")).to_be_visible()
        with step("notebook-open"):
            page.locator("#fetched_assignments_list a.assignment-notebooks-link").click()
            page.locator("#fetched_assignments_list").get_by_role(
                "link", name=Path(NOTEBOOK).stem, exact=True
            ).click()
            answer = notebook_cell(page, plan.answer_cell)
            expect(answer).to_contain_text(f"def {plan.function}(")
        with step("function-filled"):
            replace_cell_text(page, answer, plan.reference)
        with step("all-cells-run"):
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.locator('li[data-command="runmenu:run-all"]').click()
            # Run All stops at the first error: the next function's visible test (a stub).
            next_out = notebook_cell(page, plan.next_cell).locator(".jp-OutputArea-output")
            next_out.first.wait_for(timeout=RUN_MS)
            running = page.locator(".jp-NotebookPanel:visible .jp-InputPrompt", has_text="*")
            expect(running).to_have_count(0, timeout=RUN_MS)
            visible = notebook_cell(page, plan.visible_cell).locator(".jp-OutputArea")
            visible.scroll_into_view_if_needed()
            visible_output, next_output = visible.inner_text(), next_out.first.inner_text()
        with step("validated"):
            page.locator(".jp-NotebookPanel:visible").get_by_role("button", name="Validate").click()
            dialog = page.locator(".jp-Dialog", has=page.locator("#validation-message"))
            dialog.wait_for(timeout=RUN_MS)
            message = dialog.locator("#validation-message")
            texts = message.evaluate(
                "m => [...m.querySelectorAll(':scope > .jp-RenderedText > pre')]"
                ".map(p => p.innerText)"
            )
            title = dialog.locator(".jp-Dialog-header").inner_text()
            kind = next(
                (c for c in message.get_attribute("class").split() if c.startswith("validation-")),
                "",
            )
        with step("validation-closed"):
            dialog.locator(".jp-mod-accept").click()
            expect(dialog).to_have_count(0)
        with step("explain-answered"):
            page.get_by_role("tab", name="Assignments", exact=True).click()
            page.locator("#fetched_assignments_list").get_by_role(
                "link", name=Path(QUIZ).stem, exact=True
            ).click()
            explain = notebook_cell(page, plan.explain_cell)
            expect(explain).to_contain_text("YOUR ANSWER HERE")
            explain.dblclick()  # a rendered markdown cell: edit it
            replace_cell_text(page, explain, ANSWER)
            page.keyboard.press("Shift+Enter")
            with page.expect_response(
                lambda r: "/api/contents/" in r.url and r.request.method == "PUT"
            ) as saved:
                page.locator('.jp-NotebookPanel:visible [data-command="docmanager:save"]').click()
            assert saved.value.ok, f"saving {QUIZ} failed: HTTP {saved.value.status}"
        with step("submitted"):
            page.get_by_role("tab", name="Assignments", exact=True).click()
            fetched.get_by_role("button", name="Submit").click()
            submitted = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
            submitted.first.wait_for()
            submitted_text = submitted.first.inner_text()
    return StudentRun(
        visible_output,
        next_output,
        title,
        kind,
        list(zip(texts[0::2], texts[1::2])),
        submitted_text,
        shots,
    )


@pytest.fixture(scope="module")
def graded(student: StudentRun, course: Path) -> dict[str, dict[str, str]]:
    """`autograder collect` from the exchange and `autograder grade`; the CSV grade wrote."""
    out = run_cli("collect", "--course-dir", str(course))
    assert f"{STUDENT}: " in out, out
    run_cli("grade", "--course-dir", str(course), "--no-progress")
    return read_csv(course / "exports" / ASSIGNMENT / "grades.csv")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as page:
        yield page


# ---------------------------------------------------------------------------------------------
# The tests


def test_student_validates_and_submits_in_jupyterlab(student: StudentRun, course: Path, plan: Plan):
    """Fetch, implement one function, run all, Validate, answer, submit: the notebook runs up
    to the next stub, Validate reports exactly the other functions' tests (as stubs), and the
    exchange receives what the student typed."""
    release = course / "assignments" / ASSIGNMENT
    fetched = course / ASSIGNMENT
    assert nbs.release_files(fetched).keys() >= nbs.release_files(release).keys()

    assert f"{plan.function}: visible tests passed" in student.visible_output
    assert "Error" not in student.visible_output, student.visible_output
    assert "NotImplementedError" in student.next_output, student.next_output

    assert student.dialog_title == "Validation Results"
    assert student.dialog_kind == "validation-failed"
    reported = Counter(source.strip() for source, _ in student.failed)
    assert reported == Counter(plan.expected_failures), (
        f"Validate should report exactly the other functions' visible tests (screenshots in "
        f"{student.screenshots}); it reported:\n"
        + "\n---\n".join(source[:120] for source, _ in student.failed)
    )
    for source, error in student.failed:
        assert nbs.STUB_MESSAGE.search(error), f"not reported as a stub:\n{source}\n{error}"

    assert ASSIGNMENT in student.submitted
    inbound = course.parent / "exchange" / open_course(course).course_id / "inbound"
    folders = [p for p in inbound.iterdir() if p.name.startswith(f"{STUDENT}+{ASSIGNMENT}+")]
    assert len(folders) == 1, sorted(p.name for p in inbound.iterdir())
    submission = folders[0]
    assert set(nbs.release_files(release)) <= set(nbs.release_files(submission))
    cells = nbs.read_nb(submission / NOTEBOOK).cells
    assert cells[plan.answer_cell].source == plan.reference
    assert nbs.read_nb(submission / QUIZ).cells[plan.explain_cell].source == ANSWER
    for name in ("02_landscape_geometry.ipynb", "03_lottery_tickets.ipynb"):
        submitted = [c.source for c in nbs.read_nb(submission / name).cells]
        assert submitted == [c.source for c in nbs.read_nb(release / name).cells], name


def test_formgrader_manual_grade_reaches_the_export(
    graded: dict[str, dict[str, str]], lab: LabServer, plan: Plan, page: Page, tmp_path: Path
):
    """After collect and grade, formgrader lists the assignment and the student's submission;
    a hand grade of the explain answer saved there is in `autograder export`'s CSV."""
    assert graded[STUDENT][plan.explain] == "", "the explain answer is not graded by hand yet"
    step = Steps(page, tmp_path, lab)
    with step("formgrader"):
        open_lab(page, lab, "instructor")
        nbgrader_menu(page, "nbgrader:open-formgrader")
        frame = page.frame_locator('iframe[src*="/formgrader"]')
        row = frame.locator("#main-table tr", has=frame.locator("td.name", has_text=ASSIGNMENT))
        expect(row.locator("td.num-submissions")).to_have_text("1")
    with step("submissions"):
        row.locator("td.num-submissions a").click()
        mine = frame.locator("#main-table tr", has=frame.locator("td.student-id", has_text=STUDENT))
        expect(mine.locator("td.status")).to_have_text("needs manual grading")
    with step("student-notebooks"):
        mine.locator("td.student-name a").click()
        quiz = frame.locator("#main-table tr", has=frame.locator("td.name", has_text="04_quiz"))
        quiz.locator("td.name a").click()
    with step("explain-graded"):
        score = frame.locator(f"input.score#{plan.explain}")
        graded_cell = frame.locator(".nbgrader_cell", has=score)
        expect(graded_cell).to_contain_text(ANSWER.splitlines()[0])
        saved = _save_manual_score(page, score)
        assert saved.ok and saved.json()["manual_score"] == float(MANUAL_SCORE)

    run_cli("export", "--course-dir", str(lab.course))
    rows = read_csv(lab.course / "exports" / ASSIGNMENT / "grades.csv")
    assert rows[STUDENT][plan.explain] == MANUAL_SCORE
    assert float(rows[STUDENT]["total"]) == float(graded[STUDENT]["total"]) + float(MANUAL_SCORE)


def _save_manual_score(page: Page, score: Locator, attempts: int = 3) -> Response:
    """Type MANUAL_SCORE into formgrader's score field and leave it; return the PUT that
    saved it. Formgrader may still be filling its fields from the server when the page looks
    ready (in CI it once emptied the typed score again), so a save that does not come is
    typed again."""
    for attempt in range(attempts):
        page.wait_for_load_state("networkidle")
        score.fill(MANUAL_SCORE)
        expect(score).to_have_value(MANUAL_SCORE)
        try:
            with page.expect_response(
                lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                timeout=20_000,
            ) as saved:
                score.press("Tab")
            return saved.value
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def test_feedback_page_shows_results_but_no_hidden_test(
    graded: dict[str, dict[str, str]], lab: LabServer, plan: Plan, page: Page, tmp_path: Path
):
    """The feedback page of the notebook the student worked on, opened in the browser, shows
    its score, each hidden test as one line naming it and the failed ones' messages, and no
    hidden-test code or other hidden line."""
    stem = Path(NOTEBOOK).stem
    step = Steps(page, tmp_path, lab)
    with step("feedback-page"):
        page.goto(
            lab.files_url(f"feedback/{STUDENT}/{ASSIGNMENT}/{stem}.html"),
            wait_until="domcontentloaded",
        )
        expect(page.locator("body")).to_contain_text(f"{stem} (Score: ")
        page.get_by_text(
            f"# hidden tests: `{plan.function}`, part "
        ).first.scroll_into_view_if_needed()
    html, text = page.content(), page.locator("body").inner_text()
    total = float(graded[STUDENT][f"{stem} total"])
    assert total > 0 and f"{stem} (Score: {total:.1f} / " in text
    assert nbs.STUB_MESSAGE.search(text), "the failed hidden tests' messages are not shown"
    for word in nbs.FORBIDDEN_IN_RELEASE:
        assert word not in html, word
    course = open_course(lab.course)
    own = feedback.notebook_sources(course.submitted_dir(STUDENT) / NOTEBOOK)
    assert feedback.HiddenMaterial.of(course).leaks(html, own) == []
