"""Notebook-level tests of the release: nbgrader generates, validates and grades it as intended.

Everything runs with the real `nbgrader` command in temporary course directories, generically
over whatever notebooks exist in `source/landscapes/`, plus a tiny fixture notebook
(`tests/fixtures/notebooks/fixture_interpolate.ipynb`) for grading precision. Proven here:

1. the release generated from the sources is byte for byte the committed
   `assignments/landscapes/`, and no released file gives away a solution line, a hidden
   test, a rubric or an import of the staff packages;
2. a reference submission (the release with every answer cell from the source notebooks)
   runs every cell, gets every automatic point (hidden tests restored by autograde), and
   each notebook runs within its time budget;
3. the unmodified release scores zero, every graded cell reports the stub, nothing hangs,
   and the demonstrations print their skip note instead of failing;
4. a student who has implemented one function sees its visible test pass under
   `nbgrader validate`, and the other functions' tests reported as stubs;
5. one wrong function (fixture; a real notebook's function) or quiz answer loses only its
   own points, and a correct one written differently keeps full marks;
6. every number that a notebook's text quotes about a demonstration is printed by that
   demonstration in the reference run, within what the text's wording allows, and every
   comparison the text states holds there (`tests/course/demo_quotes.py`).

The notebooks execute once per test run (module fixtures, shared between pytest-xdist
workers through a file lock). `--dist loadfile` keeps the whole file on one worker, which is
cheapest; other distribution modes are correct too.
"""

from __future__ import annotations

import shutil
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from nbformat import NotebookNode

from tests.course import demo_quotes as dq
from tests.course import nbgrader_support as nbs

pytestmark = pytest.mark.slow

#: A notebook's solution version must run within this (seconds, on the 2-core grading box).
RUNTIME_BUDGET = 60.0
#: ... and a test fails only beyond twice the budget (margin against a loaded machine).
RUNTIME_LIMIT = 2 * RUNTIME_BUDGET
#: The release (stubs) must not hang: with every demonstration skipped it runs well within this.
STUB_RUNTIME_LIMIT = RUNTIME_BUDGET

NOTEBOOKS = [p.name for p in nbs.source_notebooks()]
QUIZ = "04_quiz.ipynb"
FIXTURE = nbs.FIXTURES_DIR / "fixture_interpolate.ipynb"
#: The fixture's graded cells (written by tests/fixtures/notebooks/make_fixture_notebook.py).
FIXTURE_VISIBLE = "test_interpolate_visible"
FIXTURE_HIDDEN_ALPHA = "test_interpolate_alpha"
FIXTURE_HIDDEN_ERRORS = "test_interpolate_errors"


def per_notebook(test):
    """Parametrize `test` over the source notebooks (one skipped case if there are none)."""
    params = [pytest.param(name, id=Path(name).stem) for name in NOTEBOOKS] or [
        pytest.param(None, id="none", marks=pytest.mark.skip(reason="no source notebooks yet"))
    ]
    return pytest.mark.parametrize("name", params)(test)


# ---------------------------------------------------------------------------------------------
# Module fixtures: one generated course; each kind of submission graded once, in its own copy
# of the course (its own gradebook). Built once per test run even when pytest-xdist spreads
# this file over several workers (nbs.shared_dir).


@dataclass
class Course:
    root: Path
    release: Path

    def release_nb(self, name: str) -> NotebookNode:
        return nbs.read_nb(self.release / name)


@dataclass
class GradedRun:
    """The result of `nbgrader autograde` for one student."""

    student: str
    grades: dict[str, dict[str, nbs.CellGrade]]
    notebooks: dict[str, NotebookNode] = field(default_factory=dict)

    def notebook_seconds(self, name: str) -> float:
        return nbs.execution_seconds(self.notebooks[name])


def load_run(root: Path, student: str, names: list[str]) -> GradedRun:
    return GradedRun(
        student,
        nbs.read_grades(root, student),
        {name: nbs.autograded_notebook(root, student, name) for name in names},
    )


def graded_course(
    tmp_path_factory,
    course: Course,
    label: str,
    submissions: dict[str, dict[str, NotebookNode]],
    *,
    cell_timeout: int,
) -> Path:
    """A copy of `course` in which `submissions` (student -> notebooks) are autograded."""

    def build(root: Path) -> None:
        shutil.copytree(course.root, root, dirs_exist_ok=True)
        for student, notebooks in submissions.items():
            nbs.submit(root, student, notebooks)
        nbs.autograde(root, "*", cell_timeout=cell_timeout)

    return nbs.shared_dir(tmp_path_factory, label, build)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    """A temporary course with the real sources and a freshly generated release."""
    if not NOTEBOOKS:
        pytest.skip("no source notebooks in source/landscapes yet")
    root = nbs.released_course(tmp_path_factory)
    return Course(root, root / "assignments" / nbs.ASSIGNMENT)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, course: Course) -> GradedRun:
    """Student `ref`: the release with every answer cell taken from the source notebooks."""
    submission = {
        name: nbs.fill_solutions(course.release_nb(name), nbs.read_nb(nbs.SOURCE_DIR / name))
        for name in NOTEBOOKS
    }
    root = graded_course(
        tmp_path_factory, course, "reference", {"ref": submission}, cell_timeout=150
    )
    return load_run(root, "ref", NOTEBOOKS)


@pytest.fixture(scope="module")
def stub(tmp_path_factory, course: Course) -> GradedRun:
    """Student `stub`: the release submitted unchanged."""
    submission = {name: course.release_nb(name) for name in NOTEBOOKS}
    root = graded_course(tmp_path_factory, course, "stub", {"stub": submission}, cell_timeout=60)
    return load_run(root, "stub", NOTEBOOKS)


@pytest.fixture(scope="module")
def quiz_runs(tmp_path_factory, course: Course) -> dict[str, GradedRun]:
    """Quiz submissions: `quiz_wrong` (Q3 answered wrongly), `quiz_alt` (right, other forms)."""
    if QUIZ not in NOTEBOOKS:
        pytest.skip(f"{QUIZ} does not exist yet")
    release_nb, source_nb = course.release_nb(QUIZ), nbs.read_nb(nbs.SOURCE_DIR / QUIZ)
    key_terms = nbs.cells_by_id(source_nb)["key_terms"].source
    alt_terms = key_terms
    for term, variant in (
        ("Basin", "basin"),
        ("Saddle point", "saddle-point"),
        ("Narrow valley", " Narrow_Valley "),
    ):
        for quote in "'\"":
            alt_terms = alt_terms.replace(f"{quote}{term}{quote}", f"{quote}{variant}{quote}")
    assert alt_terms != key_terms, "the key_terms cell changed form: update this test"
    variants = {
        "quiz_wrong": {"answer_q3": 'answer_q3 = "A"'},
        "quiz_alt": {
            "answer_q1": 'answer_q1 = " b "',
            "answer_q2": "answer_q2 = 'c'",
            "key_terms": alt_terms,
        },
    }
    submissions = {
        student: {QUIZ: nbs.fill_solutions(release_nb, source_nb, replace=replace)}
        for student, replace in variants.items()
    }
    root = graded_course(tmp_path_factory, course, "quiz", submissions, cell_timeout=60)
    return {student: load_run(root, student, [QUIZ]) for student in variants}


#: A real notebook's function with a wrong and a differently written correct implementation:
#: notebook -> (function, wrong implementation, alternative implementation).
FUNCTION_VARIANTS = {
    "03_lottery_tickets.ipynb": (
        "mask_overlap",
        # the Dice coefficient instead of the Jaccard index
        """
def mask_overlap(mask_a, mask_b):
    if mask_a.shape != mask_b.shape:
        raise ValueError("mask_a and mask_b must have the same shape")
    both = int((mask_a & mask_b).sum())
    total = int(mask_a.sum()) + int(mask_b.sum())
    return 1.0 if total == 0 else 2 * both / total
""",
        # correct, written differently: sets of kept flat indices
        """
def mask_overlap(mask_a, mask_b):
    if tuple(mask_a.shape) != tuple(mask_b.shape):
        raise ValueError(f"mask_b has shape {tuple(mask_b.shape)}, mask_a {tuple(mask_a.shape)}")
    kept_a = {i for i, kept in enumerate(mask_a.flatten().tolist()) if kept}
    kept_b = {i for i, kept in enumerate(mask_b.flatten().tolist()) if kept}
    union = kept_a | kept_b
    return 1.0 if not union else len(kept_a & kept_b) / len(union)
""",
    ),
}


@pytest.fixture(scope="module")
def function_variants(tmp_path_factory, course: Course) -> dict[str, GradedRun]:
    """Students `fn_wrong` and `fn_alt`: one real notebook, one function replaced.

    Everything else is the reference; the demonstration cells (those using `needs`) are
    deleted from the submission, as a student may do, to keep the run short (autograde
    restores the test cells, not deleted demonstrations).
    """
    present = [name for name in FUNCTION_VARIANTS if name in NOTEBOOKS]
    if not present:
        pytest.skip(f"none of {sorted(FUNCTION_VARIANTS)} exists yet")
    name = present[0]
    function, wrong, alternative = FUNCTION_VARIANTS[name]
    release_nb, source_nb = course.release_nb(name), nbs.read_nb(nbs.SOURCE_DIR / name)
    submissions = {}
    for student, code in (("fn_wrong", wrong), ("fn_alt", alternative)):
        nb = nbs.fill_solutions(release_nb, source_nb, replace={function: code.strip()})
        nb.cells = [c for c in nb.cells if not (nbs.is_demo(c) and "needs(" in c.source)]
        submissions[student] = {name: nb}
    root = graded_course(
        tmp_path_factory, course, "function-variants", submissions, cell_timeout=60
    )
    return {student: load_run(root, student, [name]) for student in submissions}


#: The fixture's wrong and alternative implementations of `interpolate`.
FIXTURE_SUBMISSIONS = {
    # alpha reversed: alpha = 0 gives theta_b (the classic convention trap)
    "wrong_reversed": """
def interpolate(theta_a, theta_b, alpha):
    if list(theta_a) != list(theta_b):
        raise ValueError("theta_b must have the same keys as theta_a")
    return {k: alpha * theta_a[k] + (1 - alpha) * theta_b[k] for k in theta_a}
""",
    # correct, written differently: torch.lerp and a set comparison of the keys
    "alternative": """
import torch

def interpolate(theta_a, theta_b, alpha):
    if set(theta_a) != set(theta_b):
        raise ValueError(f"theta_b has keys {sorted(theta_b)}, expected {sorted(theta_a)}")
    return {key: torch.lerp(value, theta_b[key], float(alpha)) for key, value in theta_a.items()}
""",
}


@dataclass
class FixtureCourse:
    course: Course
    runs: dict[str, GradedRun]


@pytest.fixture(scope="module")
def fixture_course(tmp_path_factory) -> FixtureCourse:
    """A course whose only notebook is the fixture, graded for three kinds of submission."""
    name = FIXTURE.name

    def build(root: Path) -> None:
        nbs.make_course(root, notebooks=[FIXTURE])
        release = nbs.generate_release(root)
        release_nb, source_nb = nbs.read_nb(release / name), nbs.read_nb(FIXTURE)
        nbs.submit(root, "correct", {name: nbs.fill_solutions(release_nb, source_nb)})
        for student, code in FIXTURE_SUBMISSIONS.items():
            nb = nbs.fill_solutions(release_nb, source_nb, replace={"interpolate": code.strip()})
            nbs.submit(root, student, {name: nb})
        nbs.autograde(root, "*", cell_timeout=60)

    root = nbs.shared_dir(tmp_path_factory, "fixture-course", build)
    course = Course(root, root / "assignments" / nbs.ASSIGNMENT)
    runs = {s: load_run(root, s, [name]) for s in ["correct", *FIXTURE_SUBMISSIONS]}
    return FixtureCourse(course, runs)


# ---------------------------------------------------------------------------------------------
# Helpers for assertions


def code_grades(run: GradedRun, name: str) -> dict[str, nbs.CellGrade]:
    return {gid: g for gid, g in run.grades[Path(name).stem].items() if g.cell_type == "code"}


def lost_points(run: GradedRun, name: str) -> dict[str, float]:
    """grade_id -> automatic points lost, for the code cells that lost any."""
    return {
        gid: g.max_score - (g.auto_score or 0.0)
        for gid, g in code_grades(run, name).items()
        if (g.auto_score or 0.0) < g.max_score
    }


def failing_cells(nb: NotebookNode) -> dict[str, str]:
    """grade_id (or cell id) -> error text, for every code cell with an error output."""
    return {
        nbs.grade_id(c) or c.get("id", "?"): nbs.error_text(c)
        for c in nb.cells
        if c.cell_type == "code" and nbs.has_error(c)
    }


def describe(errors: dict[str, str], limit: int = 1500) -> str:
    return "\n".join(f"--- {gid}\n{text[-limit:]}" for gid, text in errors.items())


# ---------------------------------------------------------------------------------------------
# 1. The release


def test_generated_release_matches_committed(course: Course):
    """Generating the assignment from the sources reproduces assignments/landscapes/ exactly."""
    committed = nbs.release_files(nbs.RELEASE_DIR) if nbs.RELEASE_DIR.is_dir() else {}
    if not any(path.endswith(".ipynb") for path in committed):
        pytest.skip(
            "assignments/landscapes/ has no notebooks yet (it is generated and "
            "committed from source/ with `nbgrader generate_assignment landscapes`)"
        )
    generated = nbs.release_files(course.release)
    problems = [
        f"missing from the committed release: {p}" for p in sorted(set(generated) - set(committed))
    ]
    problems += [
        f"committed but not generated from source/: {p}"
        for p in sorted(set(committed) - set(generated))
    ]
    problems += [
        f"{p} differs: {nbs.first_difference(committed[p], generated[p])}"
        for p in sorted(set(generated) & set(committed))
        if committed[p] != generated[p]
    ]
    assert not problems, (
        "the committed release is not what the sources generate; regenerate it in the "
        "repository root with `nbgrader generate_assignment landscapes --force` and commit:\n"
        + "\n".join(problems)
    )


def test_generated_release_leaks_nothing(course: Course):
    """No released file holds a solution line, a hidden test, a rubric or a staff import."""
    problems = nbs.find_leaks(course.release)
    assert not problems, "\n".join(problems)


def test_committed_release_leaks_nothing():
    """The committed release passes the same leak check (whatever generated it)."""
    if not any(nbs.RELEASE_DIR.glob("*.ipynb")):
        pytest.skip("assignments/landscapes/ has no notebooks yet")
    problems = nbs.find_leaks(nbs.RELEASE_DIR)
    assert not problems, "\n".join(problems)


def test_release_keeps_every_graded_cell(course: Course):
    """Every graded and answer cell of a source notebook is in its release, same id and points."""
    for name in NOTEBOOKS:
        source = nbs.cells_by_id(nbs.read_nb(nbs.SOURCE_DIR / name))
        release = nbs.cells_by_id(course.release_nb(name))
        assert list(release) == list(source), f"{name}: cells added, lost or reordered"
        for gid, cell in source.items():
            if nbs.is_grade(cell):
                assert nbs.points(release[gid]) == nbs.points(cell), f"{name}/{gid}: points"
            if nbs.is_grade(cell) and not nbs.is_solution(cell):
                assert release[gid].metadata["nbgrader"].get("locked"), f"{name}/{gid}: unlocked"


def test_leak_check_finds_planted_leaks(fixture_course: FixtureCourse, tmp_path):
    """The leak check itself works: a clean release passes, planted leaks are all reported."""
    release = fixture_course.course.release
    assert nbs.find_leaks(release, source_dir=nbs.FIXTURES_DIR) == []
    planted = tmp_path / "release"
    shutil.copytree(release, planted)
    nb = nbs.read_nb(planted / FIXTURE.name)
    cells = nbs.cells_by_id(nb)
    cells["interpolate"].source += "\n    mixed[name] = (1 - alpha) * start + alpha * theta_b[name]"
    cells["demo"].source += "\nimport solutions.mode_connectivity as ref"
    hidden_line = (
        'assert torch.allclose(_mixed["v"], torch.tensor([7.0])), "alpha = 0.75 is near theta_b"'
    )
    cells[FIXTURE_HIDDEN_ALPHA].source += "\n" + hidden_line
    nbs.write_nb(nb, planted / FIXTURE.name)
    problems = "\n".join(nbs.find_leaks(planted, source_dir=nbs.FIXTURES_DIR))
    assert "mixed[name] = (1 - alpha)" in problems
    assert "imports staff code" in problems
    assert hidden_line in problems


# ---------------------------------------------------------------------------------------------
# 4. The student's path: nbgrader validate after implementing one function


@per_notebook
def test_validate_after_implementing_one_function(course: Course, tmp_path, name):
    """`nbgrader validate` passes the implemented function's visible test, reports the stubs."""
    source_nb = nbs.read_nb(nbs.SOURCE_DIR / name)
    target = nbs.first_function(source_nb)
    if target is None:
        pytest.skip(f"{name} has no answer cell with a visible test")
    folder = tmp_path / "student" / nbs.ASSIGNMENT
    shutil.copytree(course.release, folder)
    nb = nbs.fill_solutions(course.release_nb(name), source_nb, only=[target])
    nbs.write_nb(nb, folder / name)
    proc = nbs.run_nbgrader(course.root, "validate", name, cwd=folder, timeout=600)

    mine = f"test_{target}_visible"
    expected_cells = nbs.validate_failures(nb, target)
    blocks = nbs.failed_blocks(proc.stdout)
    failed = nbs.failed_sources(proc.stdout)
    my_block = nbs.validator_block(nbs.cells_by_id(nb)[mine].source)
    assert my_block not in failed, (
        f"the visible test of the implemented `{target}` failed:\n"
        + "\n".join(err for src, err in blocks if src == my_block)
    )
    expected = [nbs.validator_block(c.source) for c in expected_cells]
    assert failed == Counter(expected), (
        "validate should report exactly the other functions' tests and the unanswered "
        f"free-text cells;\nreported:\n{proc.stdout[-6000:]}"
    )
    code_blocks = {nbs.validator_block(c.source) for c in expected_cells if c.cell_type == "code"}
    for source, error in blocks:
        if source in code_blocks:
            assert nbs.STUB_MESSAGE.search(error), f"not reported as a stub:\n{source}\n{error}"


# ---------------------------------------------------------------------------------------------
# 5. Grading precision: the fixture notebook and the quiz


def test_fixture_correct_submission_gets_full_marks(fixture_course: FixtureCourse):
    """The fixture's reference implementation earns every point."""
    run = fixture_course.runs["correct"]
    assert lost_points(run, FIXTURE.name) == {}, describe(
        failing_cells(run.notebooks[FIXTURE.name])
    )


def test_fixture_wrong_function_loses_exactly_its_points(fixture_course: FixtureCourse):
    """Reversed alpha fails the visible test and the alpha check, and nothing else."""
    run = fixture_course.runs["wrong_reversed"]
    cells = nbs.cells_by_id(nbs.read_nb(FIXTURE))
    expected = {gid: nbs.points(cells[gid]) for gid in (FIXTURE_VISIBLE, FIXTURE_HIDDEN_ALPHA)}
    assert lost_points(run, FIXTURE.name) == expected
    assert set(failing_cells(run.notebooks[FIXTURE.name])) == set(expected)


def test_fixture_alternative_implementation_keeps_full_marks(fixture_course: FixtureCourse):
    """A correct implementation written differently (torch.lerp, set of keys) loses nothing."""
    run = fixture_course.runs["alternative"]
    assert lost_points(run, FIXTURE.name) == {}, describe(
        failing_cells(run.notebooks[FIXTURE.name])
    )


def test_hidden_tests_are_restored_at_autograde(fixture_course: FixtureCourse):
    """The release has no hidden tests, but autograde runs them (restored from the gradebook)."""
    release = nbs.cells_by_id(fixture_course.course.release_nb(FIXTURE.name))
    graded = nbs.cells_by_id(fixture_course.runs["correct"].notebooks[FIXTURE.name])
    for gid in (FIXTURE_HIDDEN_ALPHA, FIXTURE_HIDDEN_ERRORS):
        assert "BEGIN HIDDEN TESTS" not in release[gid].source
        assert "BEGIN HIDDEN TESTS" in graded[gid].source
    # a wrong function fails the restored hidden test, so it really ran
    wrong = nbs.cells_by_id(fixture_course.runs["wrong_reversed"].notebooks[FIXTURE.name])
    assert "alpha = 0.75 is near theta_b" in nbs.error_text(wrong[FIXTURE_HIDDEN_ALPHA])


def _variant_notebook(runs: dict[str, GradedRun]) -> tuple[str, str]:
    name = next(iter(runs["fn_wrong"].notebooks))
    return name, FUNCTION_VARIANTS[name][0]


def test_wrong_function_in_a_real_notebook_loses_only_its_points(
    function_variants: dict[str, GradedRun],
):
    """A wrong implementation fails its visible test and hidden parts, and costs nothing else."""
    name, function = _variant_notebook(function_variants)
    run = function_variants["fn_wrong"]
    lost = lost_points(run, name)
    own = f"test_{function}_"
    elsewhere = {gid: p for gid, p in lost.items() if not gid.startswith(own)}
    assert elsewhere == {}, f"a wrong `{function}` cost points elsewhere: {elsewhere}"
    # visible tests are worth 0 points (they run in the student's kernel): they fail, cost nothing
    failing = failing_cells(run.notebooks[name])
    assert f"{own}visible" in failing, f"the visible test of `{function}` passed: {sorted(failing)}"
    assert len(lost) >= 2, f"no hidden part of `{function}` caught the mistake: {lost}"


def test_alternative_function_in_a_real_notebook_keeps_full_marks(
    function_variants: dict[str, GradedRun],
):
    """A correct implementation written differently keeps every point."""
    name, _ = _variant_notebook(function_variants)
    run = function_variants["fn_alt"]
    assert lost_points(run, name) == {}, describe(failing_cells(run.notebooks[name]))


def test_quiz_wrong_answer_loses_exactly_its_point(quiz_runs: dict[str, GradedRun]):
    """A wrong letter for Q3 costs exactly Q3's point; every other answer keeps its marks."""
    run = quiz_runs["quiz_wrong"]
    assert lost_points(run, QUIZ) == {"test_answer_q3_key": 1.0}
    assert set(failing_cells(run.notebooks[QUIZ])) == {"test_answer_q3_key"}


def test_quiz_answers_written_differently_keep_full_marks(quiz_runs: dict[str, GradedRun]):
    """Lower-case letters with spaces and spelling variants of the terms keep full marks."""
    run = quiz_runs["quiz_alt"]
    assert lost_points(run, QUIZ) == {}, describe(failing_cells(run.notebooks[QUIZ]))
    assert failing_cells(run.notebooks[QUIZ]) == {}


# ---------------------------------------------------------------------------------------------
# 3. The unmodified release (stubs)


@per_notebook
def test_stub_scores_zero(stub: GradedRun, name):
    """The release as handed out earns no automatic points."""
    earned = {gid: g.auto_score for gid, g in code_grades(stub, name).items() if g.auto_score}
    assert earned == {}, f"stubs earned points: {earned}"


@per_notebook
def test_stub_graded_cells_report_the_stub(stub: GradedRun, name):
    """Every graded test cell fails, saying that the answer is still the stub."""
    nb = stub.notebooks[name]
    silent, unclear = [], {}
    for cell in nb.cells:
        if not nbs.is_code_grade(cell):
            continue
        text = nbs.error_text(cell)
        if not text:
            silent.append(nbs.grade_id(cell))
        elif not nbs.STUB_MESSAGE.search(text):
            unclear[nbs.grade_id(cell)] = text
    assert not silent, f"graded cells that pass on the stubs: {silent}"
    assert not unclear, "graded cells that fail without naming the stub:\n" + describe(unclear)


@per_notebook
def test_stub_demonstrations_skip_instead_of_failing(stub: GradedRun, name):
    """Setup and demonstration cells run without error; those that need stubs say so."""
    nb = stub.notebooks[name]
    errors = {
        c.get("id", "?"): nbs.error_text(c) for c in nb.cells if nbs.is_demo(c) and nbs.has_error(c)
    }
    assert not errors, "non-graded cells fail on the release:\n" + describe(errors)
    silent = [
        c.get("id", "?")
        for c in nb.cells
        if nbs.is_demo(c) and "needs(" in c.source and nbs.SKIP_NOTE not in nbs.stdout_text(c)
    ]
    assert not silent, f"demonstrations that did not print the skip note: {silent}"


@per_notebook
def test_stub_notebook_finishes_quickly(stub: GradedRun, name):
    """Nothing hangs on the release: the stub notebook runs well within the time budget."""
    seconds = stub.notebook_seconds(name)
    assert seconds <= STUB_RUNTIME_LIMIT, f"{name} took {seconds:.1f} s with stubs"


# ---------------------------------------------------------------------------------------------
# 2. The reference submission (solution version)


@per_notebook
def test_reference_runs_every_cell(reference: GradedRun, name):
    """With the reference answers, every cell of the notebook executes without error."""
    nb = reference.notebooks[name]
    not_run = [
        c.get("id", "?")
        for c in nb.cells
        if c.cell_type == "code" and nbs.has_code(c.source) and c.get("execution_count") is None
    ]
    errors = failing_cells(nb)
    assert not errors, "cells fail with the reference answers:\n" + describe(errors)
    assert not not_run, f"cells that never ran: {not_run}"
    noisy = [c.get("id", "?") for c in nb.cells if nbs.is_demo(c) and nbs.error_text(c)]
    if noisy:  # not an error, but students should not see warnings in a clean run
        warnings.warn(f"{name}: cells write to stderr with the reference: {noisy}", stacklevel=1)


@per_notebook
def test_reference_gets_full_automatic_marks(reference: GradedRun, name):
    """Every graded test cell (visible and hidden, restored at autograde) passes."""
    nb = reference.notebooks[name]
    lost = lost_points(reference, name)
    assert lost == {}, f"points lost: {lost}\n" + describe(failing_cells(nb))
    release = nbs.cells_by_id(nbs.read_nb(nbs.SOURCE_DIR / name))
    graded = nbs.cells_by_id(nb)
    not_restored = [
        gid
        for gid, c in release.items()
        if "BEGIN HIDDEN TESTS" in c.source and "BEGIN HIDDEN TESTS" not in graded[gid].source
    ]
    assert not not_restored, f"hidden tests not restored at autograde: {not_restored}"


@per_notebook
def test_reference_runs_within_time_budget(reference: GradedRun, name, record_property):
    """The solution version of each notebook runs within its budget on this machine."""
    seconds = reference.notebook_seconds(name)
    record_property("seconds", round(seconds, 1))
    print(f"{name}: {seconds:.1f} s (budget {RUNTIME_BUDGET:.0f} s)")
    if seconds > RUNTIME_BUDGET:
        warnings.warn(
            f"{name} ran {seconds:.1f} s, over its {RUNTIME_BUDGET:.0f} s budget", stacklevel=1
        )
    assert seconds <= RUNTIME_LIMIT, (
        f"{name} took {seconds:.1f} s, more than twice its {RUNTIME_BUDGET:.0f} s budget"
    )


# ---------------------------------------------------------------------------------------------
# 6. What the texts say about the demonstrations, against the reference run


def printed_and_texts(run: GradedRun, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(cell id -> printed output, cell id -> markdown with whitespace collapsed) of a notebook."""
    if name not in run.notebooks:
        pytest.skip(f"{name} is not one of the notebooks")
    cells = nbs.cells_by_id(run.notebooks[name])
    printed = {gid: nbs.stdout_text(c) for gid, c in cells.items() if c.cell_type == "code"}
    texts = {
        gid: " ".join(c.source.split()) for gid, c in cells.items() if c.cell_type == "markdown"
    }
    return printed, texts


def assert_text_says(texts: dict[str, str], item: dq.Quote | dq.Claim) -> None:
    words = " ".join(item.quoted.split())
    assert words in texts.get(item.text, ""), (
        f"{item.notebook}: the cell {item.text!r} no longer says {words!r}; "
        "update tests/course/demo_quotes.py with the text"
    )


def _quote_ids(items: list) -> list[str]:
    return [f"{Path(q.notebook).stem[:2]}-{q.text}-{i}" for i, q in enumerate(items)]


@pytest.mark.parametrize("quote", dq.QUOTES, ids=_quote_ids(dq.QUOTES))
def test_reference_prints_every_quoted_number(reference: GradedRun, quote: dq.Quote):
    """A number a text quotes is printed by its demonstration, within the text's wording."""
    printed, texts = printed_and_texts(reference, quote.notebook)
    assert_text_says(texts, quote)
    value = quote.printed_value(printed)
    where = f"{quote.notebook}: {quote.text!r} says {quote.quoted!r}, {quote.cell!r} printed"
    if quote.word is not None:
        assert value == quote.word, f"{where} {value!r}, not {quote.word!r}"
    else:
        low, high = quote.bounds
        assert low <= float(value) <= high, (
            f"{where} {value} (the text allows {low:g} to {high:g}): fix the text to what the "
            "demonstration prints"
        )


@pytest.mark.parametrize("claim", dq.CLAIMS, ids=_quote_ids(dq.CLAIMS))
def test_reference_backs_every_claim(reference: GradedRun, claim: dq.Claim):
    """A comparison a text states about a demonstration holds in the reference run."""
    printed, texts = printed_and_texts(reference, claim.notebook)
    assert_text_says(texts, claim)
    claim.check(printed)
