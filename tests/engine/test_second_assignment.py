"""The seam holds: a second assignment, only content, goes through the whole pipeline.

`tests/fixtures/tiny` is an assignment of its own (two notebooks as content files, three
graded functions, its checks with a call-stage module, its reference, a helper module) and
no engine code. One course dir holds it beside an assignment of the course (`landscapes`,
with a small fixture notebook): both are built and graded there, and `tiny` also goes
through validate, feedback and export. Both grade a function named `prune_count`, each
with its own contract and checks.
"""

from __future__ import annotations

import csv
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.pipeline import examples, grade
from autograder.pipeline.records import load_records
from autograder.sandbox.isolation import probe_isolation
from autograder.sandbox.zygote import WARM_MODES
from autograder.spec import SPEC_FILE, load_spec, to_toml
from tests.spec_support import write_spec

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"
LANDSCAPES_FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "cli" / "source" / "landscapes"
)
pytestmark = pytest.mark.slow


def make_course(root: Path) -> Path:
    """A course dir with both assignments' sources (built notebooks not yet made)."""
    root.mkdir(parents=True)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    tiny = root / "source" / "tiny"
    tiny.mkdir(parents=True)
    shutil.copy2(TINY / "tinyhelp.py", tiny / "tinyhelp.py")
    # the copy's spec points at the fixture's content, checks and reference
    (tiny / SPEC_FILE).write_text(to_toml(load_spec(TINY)), encoding="utf-8")
    landscapes = root / "source" / "landscapes"
    landscapes.mkdir(parents=True)
    shutil.copy2(LANDSCAPES_FIXTURE / "02_counts.ipynb", landscapes / "02_counts.ipynb")
    shutil.copy2(REPO / "source" / "landscapes" / "landscape_lab.py", landscapes)
    write_spec(landscapes, ["02_counts"])
    return root


def threads(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers)


def run(*args: str) -> None:
    assert cli.main(list(args)) == 0, args


def submit(root: Path, assignment: str, student: str, notebooks: dict) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, str(folder / name))


def answered(root: Path, assignment: str, name: str, replace: dict[str, str] | None = None):
    release = nbformat.read(str(root / "assignments" / assignment / name), as_version=4)
    source = nbformat.read(str(root / "source" / assignment / name), as_version=4)
    nb = examples.reference_submission(release, source)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if replace and gid in replace:
            cell.source = replace[gid]
    return nb


def test_two_assignments_in_one_course_dir(tmp_path: Path, capsys) -> None:
    root = make_course(tmp_path / "course")
    course = ["--course-dir", str(root)]

    # without --assignment, a course of two assignments asks which
    assert cli.main(["build", *course]) == 1
    assert "pass --assignment" in capsys.readouterr().err

    run("build", *course, "--assignment", "tiny")
    run("build", *course, "--assignment", "landscapes")
    release = root / "assignments" / "tiny"
    assert sorted(p.name for p in release.iterdir()) == [
        "01_sums.ipynb",
        "02_words.ipynb",
        "tinyhelp.py",
    ]
    run("selfcheck", *course, "--assignment", "tiny", "--quiet")
    run("validate", *course, "--assignment", "tiny")

    wrong_prune = (
        "def prune_count(values, threshold):\n"
        "    return sum(1 for v in values if v < threshold)  # forgets the magnitude\n"
    )
    submit(
        root,
        "tiny",
        "alice",
        {n: answered(root, "tiny", n) for n in ("01_sums.ipynb", "02_words.ipynb")},
    )
    submit(
        root,
        "tiny",
        "bob",
        {
            "01_sums.ipynb": answered(root, "tiny", "01_sums.ipynb", {"prune_count": wrong_prune}),
            "02_words.ipynb": nbformat.read(release / "02_words.ipynb", as_version=4),
        },
    )
    submit(
        root,
        "landscapes",
        "carol",
        {"02_counts.ipynb": answered(root, "landscapes", "02_counts.ipynb")},
    )

    # the grade verb itself (its CLI is tested elsewhere), on threads: no process pool to
    # start, the kernels are sandboxed processes all the same
    grade.main(
        course_dir=root, assignment="tiny", workers=2, progress=False, executor_factory=threads
    )
    grade.main(
        course_dir=root,
        assignment="landscapes",
        workers=1,
        progress=False,
        feedback=False,
        executor_factory=threads,
    )

    tiny_records = {r.student: r for r in load_records(root, "tiny")}
    assert set(tiny_records) == {"alice", "bob"}
    items = {
        s: {i.grade_id: i.status for nb in r.notebooks for i in nb.items}
        for s, r in tiny_records.items()
    }
    hidden = [g for g in items["alice"] if g.startswith("test_") and not g.endswith("_visible")]
    assert len(hidden) == 7  # running_total 3, prune_count 2, word_count 2
    assert all(items["alice"][g] == "passed" for g in hidden), items["alice"]
    # bob: running_total right, prune_count wrong on the magnitudes only, word_count a stub
    assert items["bob"]["test_running_total_random"] == "passed"
    assert items["bob"]["test_prune_count_basic"] == "failed"
    assert items["bob"]["test_prune_count_errors"] == "failed"  # no ValueError either
    assert items["bob"]["test_word_count_random"] == "failed"
    assert tiny_records["alice"].isolation.get("filesystem"), tiny_records["alice"].isolation
    if probe_isolation().mode in WARM_MODES:  # forked from the worker's zygote
        assert tiny_records["alice"].isolation["kernel"].startswith("warm: forked")
    (carol,) = load_records(root, "landscapes")
    carol_items = {i.grade_id: i.status for nb in carol.notebooks for i in nb.items}
    assert carol_items["test_prune_count_basic"] == "passed"  # the course's own prune_count

    with (root / "exports" / "tiny" / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {"alice", "bob"}
    assert float(rows["alice"]["total"]) == 7.0 == float(rows["alice"]["max_total"]) - 1
    assert float(rows["bob"]["total"]) == 3.0
    with (root / "exports" / "landscapes" / "grades.csv").open(newline="") as fh:
        assert [row["student"] for row in csv.DictReader(fh)] == ["carol"]
    gradescope = json.loads((root / "exports/tiny/gradescope/bob/results.json").read_text())
    assert gradescope["score"] == 3.0

    pages = sorted((root / "feedback" / "bob" / "tiny").glob("*.html"))
    assert [p.name for p in pages] == ["01_sums.html", "02_words.html"]
    text = pages[0].read_text()
    assert "check_function" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "prune_count [basic" in text  # the failed part's feedback message

    run("export", *course, "--assignment", "tiny")
    run("report", *course, "--assignment", "tiny")
    assert (root / "reports" / "tiny" / "report.html").is_file()
