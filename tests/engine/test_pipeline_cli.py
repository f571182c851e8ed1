"""The instructor verbs of the `autograder` command: build, validate, collect, feedback, export,
report, demo, and the CLI around them.

Everything runs in temporary course dirs made from the small fixture notebooks in
`tests/fixtures/cli/source/landscapes/` (regenerate them with
`python tests/fixtures/cli/make_fixtures.py`), the course's nbgrader_config.py and
landscape_lab.py. Tests that run nbgrader or grade notebooks are marked slow.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.pipeline import build, collect, export, feedback, report, validate
from autograder.pipeline.course import open_course, run_nbgrader
from autograder.pipeline.records import ItemRecord, NotebookRecord, SubmissionRecord
from tests.spec_support import write_spec

REPO = Path(__file__).resolve().parents[2]
FIXTURE_SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "cli" / "source" / "landscapes"
ASSIGNMENT = "landscapes"
NOTEBOOKS = ("01_paths.ipynb", "02_counts.ipynb")
VERBS = (
    "selfcheck",
    "build",
    "validate",
    "collect",
    "grade",
    "feedback",
    "export",
    "report",
    "demo",
)
GRADESCOPE_VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


# ---------------------------------------------------------------------------------------------
# Course fixtures


def make_course(root: Path) -> Path:
    """A course dir: the course config, the fixture notebooks, landscape_lab.py, and the
    debris an editable install leaves beside it (which must never be released)."""
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copy2(REPO / "source" / ASSIGNMENT / "landscape_lab.py", source / "landscape_lab.py")
    for name in NOTEBOOKS:
        shutil.copy2(FIXTURE_SOURCE / name, source / name)
    write_spec(source, NOTEBOOKS)
    debris = source / "landscapes_course.egg-info"
    debris.mkdir()
    (debris / "top_level.txt").write_text("autograder\nsolutions\n")
    return root


def read_nb(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def answered(release: Path, source: Path) -> nbformat.NotebookNode:
    """The released notebook with every answer cell taken from the source."""
    nb, src = read_nb(release), read_nb(source)
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("solution"):
            c.source = cell(src, meta["grade_id"]).source
    return nb


@pytest.fixture(scope="module")
def source_course(tmp_path_factory) -> Path:
    """A course dir with source only (not built)."""
    return make_course(tmp_path_factory.mktemp("source_course"))


@pytest.fixture(scope="module")
def built_course(tmp_path_factory) -> Path:
    """A course dir after `autograder build` (release + gradebook). Do not modify: copy it."""
    root = make_course(tmp_path_factory.mktemp("built_course"))
    assert cli.main(["build", "--course-dir", str(root)]) == 0
    return root


@pytest.fixture
def course_copy(built_course, tmp_path) -> Path:
    return Path(shutil.copytree(built_course, tmp_path / "course"))


@pytest.fixture(scope="module")
def graded_course(built_course, tmp_path_factory) -> Path:
    """The built course with two submissions autograded by plain `nbgrader autograde`:
    alice (every answer from the source) and bob (the release unchanged)."""
    root = Path(shutil.copytree(built_course, tmp_path_factory.mktemp("graded") / "course"))
    release, source = root / "assignments" / ASSIGNMENT, root / "source" / ASSIGNMENT
    for student in ("alice", "bob"):
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name in NOTEBOOKS:
            nb = (
                answered(release / name, source / name)
                if student == "alice"
                else read_nb(release / name)
            )
            nbformat.write(nb, str(folder / name))
    run_nbgrader(root, "autograde", ASSIGNMENT, "--force")
    return root


# ---------------------------------------------------------------------------------------------
# The command line


def test_top_level_help_names_every_verb(capsys):
    """`autograder --help` lists every verb and the term's workflow."""
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for verb in VERBS:
        assert verb in text
    assert "release_assignment" in text and "formgrader" in text


@pytest.mark.parametrize("verb", VERBS)
def test_help_of_every_verb(verb, capsys):
    """Every verb has a --help that explains it; every course verb takes --course-dir."""
    with pytest.raises(SystemExit) as exc:
        cli.main([verb, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert f"usage: autograder {verb}" in text
    assert len(text.split("options:")[0]) > 200, "the description explains the verb"
    if verb != "selfcheck":
        assert "--course-dir DIR" in text and "default: the current directory" in text


def test_course_dir_defaults_to_cwd(tmp_path, monkeypatch):
    """Without --course-dir a verb works on the current directory."""
    monkeypatch.chdir(tmp_path)
    args = cli.build_parser().parse_args(["export"])
    assert Path(args.course_dir) == tmp_path


def test_grade_options_become_limits():
    """`grade --timeout/--memory/--max-output` set the wall, memory and output limits."""
    args = cli.build_parser().parse_args(
        ["grade", "alice", "--timeout", "30", "--memory", "512", "--max-output", "64"]
    )
    limits = cli._limits(args)
    assert args.students == ["alice"]
    assert limits.wall_seconds == 30
    assert limits.memory_bytes == 512 * 1024 * 1024
    assert limits.output_bytes == 64 * 1024
    assert (
        cli._limits(cli.build_parser().parse_args(["grade", "--memory", "0"])).memory_bytes is None
    )


def test_grade_import_here_reaches_the_grading_run(tmp_path, monkeypatch):
    """`grade --import-here` makes the coordinator import every submission itself; by default
    grade decides (None: see grade.main)."""
    seen = []

    def fake_main(**kwargs):
        seen.append(kwargs["import_on_workers"])
        return []

    monkeypatch.setattr("autograder.pipeline.grade.main", fake_main)
    for extra, expected in (([], None), (["--import-here"], False)):
        assert cli.main(["grade", "--course-dir", str(tmp_path), *extra]) == 0
        assert seen[-1] is expected


def test_a_course_verb_outside_a_course_fails_cleanly(tmp_path, capsys):
    """A verb run outside a course dir exits 1 with a message, not a traceback."""
    assert cli.main(["export", "--course-dir", str(tmp_path)]) == 1
    assert "not an nbgrader course directory" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# build


def _broken(nb, kind):
    """Plant one kind of source problem; returns (the cell index, expected message part)."""
    if kind == "duplicate grade id":
        i = nb.cells.index(cell(nb, "test_barrier_height_conventions"))
        nb.cells[i].metadata.nbgrader.grade_id = "test_barrier_height_basic"
        nb.cells[i].id = "another-id"
        return i, "duplicate grade_id 'test_barrier_height_basic'"
    if kind == "missing points":
        i = nb.cells.index(cell(nb, "test_barrier_height_basic"))
        del nb.cells[i].metadata.nbgrader["points"]
        return i, "grade cell without points"
    if kind == "negative points":
        i = nb.cells.index(cell(nb, "test_barrier_height_basic"))
        nb.cells[i].metadata.nbgrader.points = -1
        return i, "points must be a number >= 0"
    if kind == "unknown check part":
        i = nb.cells.index(cell(nb, "test_barrier_height_basic"))
        nb.cells[i].source = nb.cells[i].source.replace('part="basic"', 'part="bogus"')
        return i, "'barrier_height' has no part 'bogus'"
    if kind == "unknown check name":
        i = nb.cells.index(cell(nb, "test_barrier_height_basic"))
        nb.cells[i].source = nb.cells[i].source.replace('"barrier_height",', '"barrier_hieght",')
        return i, "names no registered hidden check"
    if kind == "check call outside hidden region":
        i = nb.cells.index(cell(nb, "test_barrier_height_visible"))
        nb.cells[i].source += (
            "\nfrom autograder.checks import check_function\n"
            'check_function("barrier_height", barrier_height, part="basic")'
        )
        return i, "outside a 'BEGIN HIDDEN TESTS' region"
    if kind == "unbalanced markers":
        i = nb.cells.index(cell(nb, "test_barrier_height_basic"))
        nb.cells[i].source = nb.cells[i].source.replace("### END HIDDEN TESTS", "")
        return i, "'BEGIN HIDDEN TESTS' without 'END HIDDEN TESTS'"
    if kind == "duplicate cell id":
        i = nb.cells.index(cell(nb, "test_barrier_height_conventions"))
        nb.cells[i].id = "test_barrier_height_basic"
        return i, "duplicate cell id 'test_barrier_height_basic'"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "duplicate grade id",
        "missing points",
        "negative points",
        "unknown check part",
        "unknown check name",
        "check call outside hidden region",
        "unbalanced markers",
        "duplicate cell id",
    ],
)
def test_build_names_notebook_and_cell_of_a_source_problem(kind, tmp_path):
    """A broken source notebook gives an error that names the notebook, the cell and why."""
    nb = read_nb(FIXTURE_SOURCE / "01_paths.ipynb")
    index, expected = _broken(nb, kind)
    path = tmp_path / "01_paths.ipynb"
    path.write_text(json.dumps(nb))  # as written: nbformat.write would repair duplicate ids
    problems, _ = build.check_notebook(path)
    text = [str(p) for p in problems]
    assert any(t.startswith(f"01_paths.ipynb, cell {index + 1}") and expected in t for t in text), (
        text
    )


def test_build_refuses_a_broken_source_before_generating(source_course, tmp_path, capsys):
    """`autograder build` on a broken source exits 1, names notebook and cell, and generates
    nothing."""
    root = Path(shutil.copytree(source_course, tmp_path / "course"))
    nb = read_nb(root / "source" / ASSIGNMENT / "02_counts.ipynb")
    i = nb.cells.index(cell(nb, "test_prune_count_basic"))
    del nb.cells[i].metadata.nbgrader["points"]
    nbformat.write(nb, str(root / "source" / ASSIGNMENT / "02_counts.ipynb"))
    assert cli.main(["build", "--course-dir", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"02_counts.ipynb, cell {i + 1}, id 'test_prune_count_basic'" in err
    assert "grade cell without points" in err
    assert not (root / "assignments").exists() and not (root / "gradebook.db").exists()


def test_build_accepts_the_fixture_source():
    """The fixture notebooks (the shape of the real ones) have no problems."""
    for name in NOTEBOOKS:
        problems, _ = build.check_notebook(FIXTURE_SOURCE / name)
        assert problems == []


@pytest.mark.slow
def test_build_generates_a_clean_release(built_course):
    """build generates the release and registers the assignment; landscape_lab.py ships
    unchanged; build debris is not copied; the leak check finds nothing."""
    release = built_course / "assignments" / ASSIGNMENT
    assert sorted(p.name for p in release.iterdir()) == sorted([*NOTEBOOKS, "landscape_lab.py"])
    assert (release / "landscape_lab.py").read_bytes() == (
        REPO / "source" / ASSIGNMENT / "landscape_lab.py"
    ).read_bytes()
    assert build.find_leaks(release, built_course / "source" / ASSIGNMENT) == []
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{built_course / 'gradebook.db'}") as gb:
        names = sorted(nb.name for nb in gb.find_assignment(ASSIGNMENT).notebooks)
    assert names == [Path(n).stem for n in NOTEBOOKS]


@pytest.mark.slow
def test_leak_check_catches_planted_leaks(course_copy):
    """A solution line, a hidden-test line, a staff import, a model answer or build debris in
    the release is reported, file by file."""
    release, source = course_copy / "assignments" / ASSIGNMENT, course_copy / "source" / ASSIGNMENT
    nb = read_nb(release / "01_paths.ipynb")
    nb.cells.append(
        nbformat.v4.new_markdown_cell("    return max(values) - (values[0] + values[-1]) / 2.0")
    )
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "The two endpoints are linearly mode connected: the path never rises above its ends."
        )
    )
    nbformat.write(nb, str(release / "01_paths.ipynb"))
    with (release / "landscape_lab.py").open("a") as fh:
        fh.write("\nfrom solutions import prune_count  # oops\n")
    (release / "x.egg-info").mkdir()
    (release / "x.egg-info" / "top_level.txt").write_text("autograder\n")

    leaks = build.find_leaks(release, source)
    text = "\n".join(leaks)
    assert "01_paths.ipynb: a line of a solution" in text and "max(values)" in text
    assert "linearly mode connected" in text  # the model answer
    assert "landscape_lab.py: imports staff code: 'from solutions'" in text
    assert "x.egg-info/top_level.txt: build debris" in text
    nb.cells.append(nbformat.v4.new_code_cell('check_function("barrier_height", barrier_height)'))
    nbformat.write(nb, str(release / "01_paths.ipynb"))
    assert "01_paths.ipynb: contains 'check_function'" in build.find_leaks(release, source)


# ---------------------------------------------------------------------------------------------
# collect


@pytest.mark.slow
def test_collect_from_the_exchange_round_trip(course_copy, tmp_path, capsys):
    """release_assignment → two students fetch and submit → `autograder collect` puts both
    submissions into submitted/<student>/landscapes/ with their timestamps → `autograder
    grade` grades them, writes feedback without hidden-test code and exports the grades."""
    exchange = tmp_path / "exchange"
    course = open_course(course_copy)
    run_nbgrader(
        course_copy, "release_assignment", ASSIGNMENT, f"--Exchange.root={exchange}", "--force"
    )
    for student, letter in (("alice", "B"), ("bob", "C")):
        home = tmp_path / "home" / student
        home.mkdir(parents=True)
        common = [f"--course={course.course_id}", f"--Exchange.root={exchange}"]
        run_nbgrader(home, "fetch_assignment", ASSIGNMENT, *common, env={"HOME": str(home)})
        path = home / ASSIGNMENT / "02_counts.ipynb"
        nb = read_nb(path)
        cell(nb, "answer_q1").source = f'answer_q1 = "{letter}"'
        nbformat.write(nb, str(path))
        run_nbgrader(
            home, "submit", ASSIGNMENT, *common, f"--student={student}", env={"HOME": str(home)}
        )

    code = cli.main(["collect", "--course-dir", str(course_copy), "--exchange", str(exchange)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "collected 2 student(s)" in out
    for student, letter in (("alice", "B"), ("bob", "C")):
        folder = course_copy / "submitted" / student / ASSIGNMENT
        assert sorted(p.name for p in folder.glob("*.ipynb")) == list(NOTEBOOKS)
        assert (folder / "timestamp.txt").is_file()
        assert (
            f'answer_q1 = "{letter}"'
            in cell(read_nb(folder / "02_counts.ipynb"), "answer_q1").source
        )
        assert f"  {student}: 01_paths.ipynb, 02_counts.ipynb" in out

    # ... → grade → feedback → export, on what the exchange delivered.
    code = cli.main(["grade", "--course-dir", str(course_copy), "--workers", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    for student in ("alice", "bob"):
        pages = sorted((course_copy / "feedback" / student / ASSIGNMENT).glob("*.html"))
        assert [p.stem for p in pages] == [Path(n).stem for n in NOTEBOOKS]
        for page in pages:
            html = page.read_text()
            assert "BEGIN HIDDEN TESTS" not in html and "check_answer(" not in html
    with open(course_copy / "exports" / ASSIGNMENT / "grades.csv", newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {"alice", "bob"}
    # The quiz key is B: alice earns the key item, bob does not; nothing else differs.
    assert float(rows["alice"]["test_answer_q1_key"]) > 0
    assert float(rows["bob"]["test_answer_q1_key"]) == 0
    assert float(rows["alice"]["total"]) - float(rows["bob"]["total"]) == float(
        rows["alice"]["test_answer_q1_key"]
    )
    for student in ("alice", "bob"):
        assert (course_copy / "exports" / ASSIGNMENT / "records" / f"{student}.json").is_file()
        results = json.loads(
            (
                course_copy / "exports" / ASSIGNMENT / "gradescope" / student / "results.json"
            ).read_text()
        )
        assert results["score"] == float(rows[student]["total"])


def _lms_zip(path: Path, release: Path) -> Path:
    a = (release / "01_paths.ipynb").read_text()
    b = (release / "02_counts.ipynb").read_text()
    inner = path.parent / "inner.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("landscapes_dave_attempt_2026-11-20-08-00-00_01_paths.ipynb", a)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("landscapes_alice_attempt_2026-11-20-13-05-12_01_paths.ipynb", a)
        z.writestr("landscapes_alice_attempt_2026-11-20-13-05-12_02_counts.ipynb", b)
        z.writestr(
            "landscapes_alice_attempt_2026-11-21-09-00-00_01_paths.ipynb",
            a.replace("YOUR CODE HERE", "LATEST ATTEMPT"),
        )
        z.writestr("landscapes_bob_attempt_2026-11-20-10-00-00_01_Paths (1).ipynb", a)
        z.writestr("landscapes_bob_attempt_2026-11-20-10-00-00_notes.txt", "my notes")
        z.writestr("landscapes_bob_attempt_2026-11-20-10-00-00_homework.ipynb", a)
        z.writestr("carol_12345_67890_02_counts.ipynb", b)
        z.writestr(
            "carol_12345_67999_02_counts-1.ipynb", b.replace("YOUR CODE HERE", "LATEST ATTEMPT")
        )
        z.writestr("__MACOSX/._carol_12345_67890_02_counts.ipynb", "resource fork")
        z.writestr("../escape_12345_67890_01_paths.ipynb", a)
        z.writestr("README.txt", "downloaded from the LMS")
        z.write(inner, "nested/dave.zip")
    return path


@pytest.mark.slow
def test_zip_collect_of_a_realistic_lms_download(course_copy, tmp_path, capsys):
    """An LMS zip with odd names, a re-submission, a non-notebook, a wrong notebook name, a
    Canvas re-upload, a nested zip and an unsafe path: the latest version of each notebook
    is collected through nbgrader zip_collect, every other file is reported with a reason."""
    download = _lms_zip(tmp_path / "download.zip", course_copy / "assignments" / ASSIGNMENT)
    code = cli.main(["collect", "--course-dir", str(course_copy), "--from-zip", str(download)])
    out = capsys.readouterr().out
    assert code == 0, out
    submitted = course_copy / "submitted"
    found = {p.relative_to(submitted).as_posix() for p in submitted.rglob("*.ipynb")}
    assert found == {
        "alice/landscapes/01_paths.ipynb",
        "alice/landscapes/02_counts.ipynb",
        "bob/landscapes/01_paths.ipynb",
        "carol/landscapes/02_counts.ipynb",
        "dave/landscapes/01_paths.ipynb",
    }
    assert "LATEST ATTEMPT" in (submitted / "alice/landscapes/01_paths.ipynb").read_text()
    assert "LATEST ATTEMPT" in (submitted / "carol/landscapes/02_counts.ipynb").read_text()
    assert (
        (submitted / "alice/landscapes/timestamp.txt").read_text().startswith("2026-11-21 09:00:00")
    )
    assert "collected 4 student(s)" in out
    expected = [
        "landscapes_bob_attempt_2026-11-20-10-00-00_notes.txt: not a notebook",
        "README.txt: not a notebook",
        "landscapes_bob_attempt_2026-11-20-10-00-00_homework.ipynb: 'homework.ipynb' is not a "
        "notebook of the assignment",
        "../escape_12345_67890_01_paths.ipynb: unsafe path",
        "landscapes_alice_attempt_2026-11-20-13-05-12_01_paths.ipynb (kept "
        "landscapes_alice_attempt_2026-11-21-09-00-00_01_paths.ipynb)",
        "carol_12345_67890_02_counts.ipynb (kept carol_12345_67999_02_counts-1.ipynb)",
        "landscapes_bob_attempt_2026-11-20-10-00-00_01_Paths (1).ipynb -> 01_paths.ipynb",
        "bob: 02_counts.ipynb",  # missing notebooks are listed
    ]
    for line in expected:
        assert line in out, line
    assert "__MACOSX" not in out


def test_lms_names_are_parsed_and_normalised():
    """The naming schemes, notebook-name normalisation and what is refused."""
    nbs = list(NOTEBOOKS)
    pats = list(collect.LMS_PATTERNS.values())
    info, _ = collect.parse_name(
        "hw_landscapes_jdoe_attempt_2026-11-20-13-05-12_01_PATHS.ipynb", nbs, pats
    )
    assert (info["student"], info["notebook"]) == ("jdoe", "01_paths.ipynb")
    assert info["timestamp"].isoformat() == "2026-11-20T13:05:12"
    info, _ = collect.parse_name("doejohn_LATE_12345_67890_02 counts.ipynb", nbs, pats)
    assert (info["student"], info["notebook"]) == ("doejohn", "02_counts.ipynb")
    assert collect.parse_name("01_paths.ipynb", nbs, pats)[1].startswith("the name matches no")
    assert collect.parse_name("jdoe_1_2_01_path.ipynb", nbs, pats)[1].endswith(
        "expected one of 01_paths.ipynb, 02_counts.ipynb"
    )
    custom = [r"^(?P<student_id>\w+)--(?P<file_id>.+)$"]
    info, _ = collect.parse_name("zoe--02_counts.ipynb", nbs, custom + pats)
    assert info["student"] == "zoe"


# ---------------------------------------------------------------------------------------------
# export and report (records made by hand)


def _records() -> list[SubmissionRecord]:
    def nb1(points, status="graded", reasons=()):
        items = [
            ItemRecord(
                "test_barrier_height_visible",
                points[0],
                1,
                "passed" if points[0] else "failed",
                "" if points[0] else "AssertionError: a bump of 1",
            ),
            ItemRecord(
                "test_barrier_height_basic",
                points[1],
                1,
                "passed" if points[1] else "not_run",
                "" if points[1] else "CellNotRun: this cell was not run",
            ),
            ItemRecord(
                "test_barrier_height_conventions",
                points[2],
                1,
                "passed" if points[2] else "not_run",
            ),
            ItemRecord("explain_barrier", None, 2, "manual", kind="manual"),
        ]
        nb = NotebookRecord("01_paths", status, list(reasons), seconds=2.5, items=items)
        nb.recompute_score()
        return nb

    def nb2(points):
        items = [
            ItemRecord(
                gid,
                p,
                1,
                "passed" if p else "failed",
                "" if p else "AssertionError: prune_count [basic] case 1 of 3\nexpected 4, got 3",
            )
            for gid, p in zip(
                [
                    "test_prune_count_visible",
                    "test_prune_count_basic",
                    "test_prune_count_rounding",
                    "test_answer_q1_key",
                ],
                points,
            )
        ]
        nb = NotebookRecord("02_counts", "graded", seconds=1.5, items=items)
        nb.recompute_score()
        return nb

    alice = SubmissionRecord(
        "alice", ASSIGNMENT, "graded", [nb1([1, 1, 1]), nb2([1, 1, 1, 1])], seconds=4.2
    )
    bob = SubmissionRecord(
        "bob",
        ASSIGNMENT,
        "incomplete",
        [nb1([0, 0, 0], "timeout", ["the wall-time limit (5 s) was reached"]), nb2([1, 0, 1, 0])],
        seconds=9.7,
    )
    return [bob, alice]


@pytest.mark.slow
def test_export_formats(course_copy):
    """grades.csv has one row per student and the item columns in notebook order, then the
    notebook totals and the total; the JSON records round-trip; the Gradescope files follow
    the results.json schema."""
    records = _records()
    paths = export.write(course_copy, records)

    with paths.csv.open() as fh:
        rows = list(csv.DictReader(fh))
        fh.seek(0)
        header = next(csv.reader(fh))
    assert header == [
        "student",
        "test_barrier_height_visible",
        "test_barrier_height_basic",
        "test_barrier_height_conventions",
        "explain_barrier",
        "test_prune_count_visible",
        "test_prune_count_basic",
        "test_prune_count_rounding",
        "test_answer_q1_key",
        "01_paths total",
        "02_counts total",
        "total",
        "max_total",
        "status",
    ]
    assert [r["student"] for r in rows] == ["alice", "bob"]
    alice, bob = rows
    assert alice["explain_barrier"] == ""  # not graded by hand yet
    assert (alice["01_paths total"], alice["02_counts total"], alice["total"]) == ("3", "4", "7")
    assert (bob["total"], bob["max_total"], bob["status"]) == ("2", "9", "incomplete")

    for record in records:
        path = course_copy / "exports" / ASSIGNMENT / "records" / f"{record.student}.json"
        assert SubmissionRecord.from_json(path.read_text()) == record

    results = json.loads(
        (course_copy / "exports" / ASSIGNMENT / "gradescope/bob/results.json").read_text()
    )
    assert set(results) >= {"score", "execution_time", "tests"}
    assert isinstance(results["execution_time"], int) and results["execution_time"] == 10
    assert results["score"] == sum(t["score"] for t in results["tests"]) == 2
    assert len(results["tests"]) == 8
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["visibility"] in GRADESCOPE_VISIBILITIES
        assert test.get("status", "passed") in {"passed", "failed"}
    by_name = {t["name"]: t for t in results["tests"]}
    basic = by_name["02_counts: test_prune_count_basic"]
    assert basic["status"] == "failed" and "expected 4, got 3" in basic["output"]
    assert "wall-time limit" in by_name["01_paths: test_barrier_height_basic"]["output"]
    assert "graded by hand" in by_name["01_paths: explain_barrier"]["output"]


def test_report_files_and_text(tmp_path):
    """The report prints per-item pass rates, the score distribution and the slowest
    submissions, and writes reports/report.png and reports/report.html."""
    shutil.copy2(REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    records = _records()
    text = "\n".join(report.summary_lines(records))
    assert "test_prune_count_basic" in text and "50%" in text  # 1 of 2 passed
    assert "manual, 0 graded" in text
    assert "mean 4.50, median 4.5 of 9 points (2 submissions)" in text
    slow = text.split("Slowest submissions")[1]
    assert slow.index("bob") < slow.index("alice")
    assert "bob 01_paths: timeout - the wall-time limit (5 s) was reached" in text
    assert "Feedback pages withheld" not in text and "Hidden cases" not in text
    records[1].withheld = ["01_paths.html: would show 1 line(s) of hidden material"]
    records[0].cases = records[1].cases = "per-student (secret 0123abcd4567)"
    text = "\n".join(report.summary_lines(records))
    assert "alice: 01_paths.html: would show 1 line(s)" in text.split("Feedback pages withheld")[1]
    assert "Hidden cases: per-student (secret 0123abcd4567)" in text
    paths = report.write(tmp_path, records)
    assert paths.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths.html.read_text()
    assert "test_barrier_height_conventions" in page and "data:image/png;base64," in page


# ---------------------------------------------------------------------------------------------
# feedback, export and report on a graded course


def test_hidden_test_source_is_replaced_by_one_line():
    """The feedback preprocessor keeps a hidden test's result but not its code."""
    source = (
        '# Hidden tests: `f`, part "basic"\n### BEGIN HIDDEN TESTS\n'
        "from autograder.checks import check_function\n"
        'check_function("f", f, part="basic")\n### END HIDDEN TESTS'
    )
    hidden = feedback.hide_source(source)
    assert hidden.splitlines() == [
        '# Hidden tests: `f`, part "basic"',
        '# hidden tests: `f`, part "basic" (the test code is not shown)',
    ]
    assert feedback.hide_source("check_answer('q', q)  # no markers") == (
        "# hidden tests: `q` (the test code is not shown)"
    )
    nb_cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True}})
    nb_cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="f: wrong",
            traceback=["File registry.py", "check_function"],
        )
    ]
    feedback.HideHiddenTests().preprocess_cell(nb_cell, {}, 0)
    assert nb_cell.outputs[0].traceback == ["AssertionError: f: wrong"]


@pytest.mark.slow
def test_feedback_never_shows_hidden_test_code(graded_course, capsys):
    """Feedback pages show each hidden test's failure message, never its code, the check
    calls or the registry's source (nbgrader issue #917)."""
    assert cli.main(["feedback", "--course-dir", str(graded_course)]) == 0
    pages = sorted((graded_course / "feedback").rglob("*.html"))
    assert len(pages) == 4
    for page in pages:
        raw = page.read_text()
        seen = feedback.visible_text(raw)
        for word in (
            "BEGIN HIDDEN TESTS",
            "check_function",
            "check_answer",
            "from autograder",
            "autograder/checks",
            "registry.py",
        ):
            assert word not in raw and word not in seen, (page, word)
        assert "hidden tests: `" in seen
    bob = feedback.visible_text(
        (graded_course / "feedback/bob/landscapes/01_paths.html").read_text()
    )
    assert "AssertionError: barrier_height [basic:" in bob
    assert "still the stub" in bob
    # the autograded notebooks themselves are untouched
    autograded = read_nb(graded_course / "autograded/bob/landscapes/01_paths.ipynb")
    assert "BEGIN HIDDEN TESTS" in cell(autograded, "test_barrier_height_basic").source


@pytest.mark.slow
def test_export_and_report_after_plain_nbgrader_autograde(graded_course, capsys):
    """Export and report also work on a course graded by plain `nbgrader autograde`, and
    export picks up a manual grade given in formgrader (the gradebook)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded_course / 'gradebook.db'}") as gb:
        grade = gb.find_grade("explain_barrier", "01_paths", ASSIGNMENT, "alice")
        grade.manual_score = 1.5
        gb.db.commit()
    assert cli.main(["export", "--course-dir", str(graded_course)]) == 0
    with (graded_course / "exports" / ASSIGNMENT / "grades.csv").open() as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["explain_barrier"] == "1.5"
    assert rows["alice"]["total"] == "8.5" and rows["bob"]["total"] == "0"
    capsys.readouterr()
    assert cli.main(["report", "--course-dir", str(graded_course)]) == 0
    out = capsys.readouterr().out
    assert "test_answer_q1_key" in out and "report: " in out
    assert (graded_course / "reports" / ASSIGNMENT / "report.png").is_file()
    assert (graded_course / "reports" / ASSIGNMENT / "report.html").is_file()


# ---------------------------------------------------------------------------------------------
# validate and demo (the grading machinery end to end)


@pytest.mark.slow
def test_validate_passes_on_the_fixture_course(built_course, capsys):
    """validate grades the solutions (full marks) and the stubs (zero) within the budget."""
    assert cli.main(["validate", "--course-dir", str(built_course)]) == 0
    out = capsys.readouterr().out
    assert "01_paths" in out and "02_counts" in out
    assert "ok: 2 notebook(s)" in out


@pytest.mark.slow
def test_demo_grades_the_example_submissions(source_course, tmp_path, capsys):
    """`autograder demo` builds, grades the five example submissions, and prints the grade
    table and the report path: the reference gets every autograded point, the blank none,
    the partial some, the looping one times out, the corrupted one is graded as the blank."""
    workdir = tmp_path / "demo"
    code = cli.main(
        [
            "demo",
            "--course-dir",
            str(source_course),
            "--workdir",
            str(workdir),
            "--timeout",
            "15",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    table = out.split("student", 1)[1]
    for student in ("reference", "blank", "partial", "timeout", "corrupted"):
        assert f"\n{student} " in table
    assert f"report:    {workdir / 'reports' / ASSIGNMENT / 'report.html'}" in out
    assert (workdir / "reports" / ASSIGNMENT / "report.html").is_file()
    records = {
        p.stem: SubmissionRecord.from_json(p.read_text())
        for p in (workdir / "exports" / ASSIGNMENT / "records").glob("*.json")
    }

    def auto(record):
        return sum(i.points or 0 for nb in record.notebooks for i in nb.items if i.kind != "manual")

    full = sum(
        i.max_points
        for nb in records["reference"].notebooks
        for i in nb.items
        if i.kind != "manual"
    )
    assert auto(records["reference"]) == full
    assert auto(records["blank"]) == 0
    assert 0 < auto(records["partial"]) < full
    assert records["timeout"].notebook("01_paths").status == "timeout"
    assert records["corrupted"].notebook("01_paths").status == "invalid_json"
    assert "timeout 01_paths: timeout" in out and "corrupted 01_paths: invalid_json" in out
    assert sorted(
        p.parent.parent.name for p in (workdir / "feedback").rglob("01_paths.html")
    ) == sorted(records)


def test_validate_flags_lost_points_earning_stubs_and_slow_notebooks():
    """validate's verdict: a solution below full marks, a stub above zero and a notebook over
    its time budget are each a problem; manual items do not count."""
    good, bad = _records()[1], _records()[0]  # alice: full autograded marks; bob: not
    checks = validate._checks({"solution": good, "stub": bad}, budget=2.0)
    text = "\n".join(p for c in checks for p in c.problems)
    assert "01_paths: the solution runs 2.5 s, over the budget of 2 s" in text
    assert (
        "02_counts: the stub scores 2 (test_prune_count_visible, test_prune_count_rounding)" in text
    )
    assert "the stub was not graded as submitted: timeout" in text
    checks = validate._checks({"solution": bad, "stub": good}, budget=60.0)
    text = "\n".join(p for c in checks for p in c.problems)
    assert "01_paths: the solution scores 0/3" in text
    assert "01_paths: the solution was not graded as submitted: timeout" in text
