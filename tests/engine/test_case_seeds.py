"""Per-student hidden cases and the course secret (autograder.checks.seeding,
autograder.pipeline.secret), end to end on the tiny fixture assignment.

The tiny assignment's random cases (`running_total` part "random", `word_count` part
"random") are drawn from `vary(...)`; its hand-made cases are fixed. A course with it is
built (which creates the secret), then graded: a submission that hard-codes the outputs of
one student's cases passes them as that student and fails them as another; a regrade with
the same secret gives identical records; a new secret (a new term) gives new cases.
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.checks import registry, seeding
from autograder.pipeline import examples, grade, secret
from autograder.pipeline.records import load_records
from autograder.sandbox.wire import encode_case
from autograder.spec import SPEC_FILE, load_spec, to_toml

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"


# ---- seeds ------------------------------------------------------------------------------------


def test_vary_is_the_identity_without_a_case_seed(monkeypatch) -> None:
    monkeypatch.delenv(seeding.CASE_SEED_ENV, raising=False)
    assert [seeding.vary(b) for b in (0, 7, 2505)] == [0, 7, 2505]
    assert seeding.case_seed() is None
    with seeding.cases_for(None):
        assert seeding.vary(7) == 7


def test_vary_mixes_the_case_seed_into_every_base(monkeypatch) -> None:
    monkeypatch.delenv(seeding.CASE_SEED_ENV, raising=False)
    with seeding.cases_for(123):
        first = [seeding.vary(b) for b in range(50)]
        assert seeding.case_seed() == 123
        with seeding.cases_for(None):  # an inner block can ask for the fixed cases
            assert seeding.vary(7) == 7
        assert [seeding.vary(b) for b in range(50)] == first  # deterministic
    assert len(set(first)) == 50 and all(0 <= s < seeding.SEED_LIMIT for s in first)
    with seeding.cases_for(124):
        assert [seeding.vary(b) for b in range(50)] != first
    # the plain runner passes the seed to a kernel through the environment
    monkeypatch.setenv(seeding.CASE_SEED_ENV, "123")
    assert [seeding.vary(b) for b in range(50)] == first
    monkeypatch.setenv(seeding.CASE_SEED_ENV, "")
    assert seeding.vary(7) == 7
    monkeypatch.setenv(seeding.CASE_SEED_ENV, "twelve")
    with pytest.raises(ValueError, match="not a case seed"):
        seeding.vary(7)
    with pytest.raises(ValueError):
        seeding.cases_for(-1).__enter__()
    with pytest.raises(TypeError):
        seeding.vary("7")  # type: ignore[arg-type]


def test_student_seeds_depend_on_secret_assignment_and_student() -> None:
    key = b"k" * 32
    seed = seeding.student_seed(key, "tiny", "alice")
    assert seed == seeding.student_seed(key, "tiny", "alice")
    others = {
        seeding.student_seed(key, "tiny", "bob"),
        seeding.student_seed(key, "other", "alice"),
        seeding.student_seed(b"j" * 32, "tiny", "alice"),
        # the separator keeps ("ab", "c") and ("a", "bc") apart
        seeding.student_seed(key, "tinya", "lice"),
    }
    assert seed not in others and len(others) == 4
    assert 0 <= seed < 2**63
    with pytest.raises(ValueError):
        seeding.student_seed(b"", "tiny", "alice")


# ---- the secret file ----------------------------------------------------------------------------


def test_the_secret_is_created_once_private_and_rotated_keeping_the_old(tmp_path: Path) -> None:
    notes: list[str] = []
    assert secret.read_secret(tmp_path) is None
    value = secret.ensure_secret(tmp_path, notes.append)
    path = secret.secret_path(tmp_path)
    assert len(value) == secret.SECRET_BYTES and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(notes) == 1 and str(path) in notes[0]
    assert secret.ensure_secret(tmp_path, notes.append) == value and len(notes) == 1
    new_path, old = secret.new_secret(tmp_path)
    assert new_path == path and old is not None and old.name.endswith(".old")
    assert bytes.fromhex(old.read_text()) == value
    assert secret.read_secret(tmp_path) not in (None, value)
    assert secret.fingerprint(value) != secret.fingerprint(secret.read_secret(tmp_path) or b"")


@pytest.mark.parametrize("content", ["not hex\n", "abcd\n"])
def test_a_damaged_secret_grades_nobody(tmp_path: Path, content: str) -> None:
    path = secret.secret_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(secret.PipelineError, match="course secret"):
        secret.ensure_secret(tmp_path)


def test_the_secret_verb(tmp_path: Path, capsys) -> None:
    assert cli.main(["secret", "--course-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "created the course secret" in out and "fingerprint" in out
    first = secret.read_secret(tmp_path)
    assert cli.main(["secret", "--course-dir", str(tmp_path), "--new"]) == 0
    assert "previous one is kept" in capsys.readouterr().out
    assert secret.read_secret(tmp_path) != first


def test_the_secret_is_never_committed() -> None:
    ignored = (REPO / ".gitignore").read_text().split()
    assert ".autograder/" in ignored  # where secret.secret_path puts it


# ---- the tiny assignment's cases ----------------------------------------------------------------


def _encoded(name: str, part: str) -> list[str]:
    return [encode_case(c) for c in registry.cases(name, part, "tiny")]


def test_random_parts_vary_and_hand_made_parts_stay_fixed() -> None:
    registry.load(TINY)
    varying = {("running_total", "random"), ("word_count", "random")}
    for name in registry.graded_functions("tiny"):
        for part in registry.parts(name, "tiny"):
            fixed = _encoded(name, part)
            with seeding.cases_for(1):
                one = _encoded(name, part)
            with seeding.cases_for(2):
                two = _encoded(name, part)
            assert _encoded(name, part) == fixed  # nothing left behind
            if (name, part) in varying:
                assert len({tuple(fixed), tuple(one), tuple(two)}) == 3, (name, part)
            else:
                assert fixed == one == two, (name, part)


# ---- grading ------------------------------------------------------------------------------------


def _threads(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers)


def _answered(root: Path, name: str, replace: dict[str, str] | None = None):
    release = nbformat.read(str(root / "assignments" / "tiny" / name), as_version=4)
    source = nbformat.read(str(root / "source" / "tiny" / name), as_version=4)
    nb = examples.reference_submission(release, source)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if replace and gid in replace:
            cell.source = replace[gid]
    return nb


def _submit(root: Path, student: str, replace: dict[str, str] | None = None) -> None:
    folder = root / "submitted" / student / "tiny"
    folder.mkdir(parents=True)
    for name in ("01_sums.ipynb", "02_words.ipynb"):
        nbformat.write(_answered(root, name, replace), str(folder / name))


def _hard_coded(root: Path, student: str) -> str:
    """A `running_total` that only knows the outputs of `student`'s cases: it looks each
    input up in a table made from the reference (what a student copies from feedback)."""
    import tiny_reference

    seed = seeding.student_seed(secret.read_secret(root) or b"", "tiny", student)
    table = {}
    with seeding.cases_for(seed):
        for part in registry.parts("running_total", "tiny"):
            for case in registry.cases("running_total", part, "tiny"):
                xs = case.args[0]
                table[repr([float(x) for x in xs])] = tiny_reference.running_total(xs)
    return (
        f"TABLE = {table!r}\n"
        "def running_total(xs):\n"
        "    return TABLE.get(repr([float(x) for x in xs]), [])\n"
    )


def _statuses(root: Path) -> dict[str, dict[str, str]]:
    return {
        r.student: {i.grade_id: i.status for nb in r.notebooks for i in nb.items}
        for r in load_records(root, "tiny")
    }


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("seeds") / "course"
    (root / "source" / "tiny").mkdir(parents=True)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copy2(TINY / "tinyhelp.py", root / "source" / "tiny" / "tinyhelp.py")
    (root / "source" / "tiny" / SPEC_FILE).write_text(to_toml(load_spec(TINY)), encoding="utf-8")
    return root


@pytest.mark.slow
def test_each_student_is_graded_on_their_own_cases(course: Path, capsys) -> None:
    root = course
    assert cli.main(["build", "--course-dir", str(root)]) == 0
    assert "created the course secret" in capsys.readouterr().out
    key = secret.read_secret(root)
    assert key is not None
    registry.load(root / "source" / "tiny")

    # ann hard-codes her own cases' outputs, ben hands in ann's notebook, cid is right
    ann_code = {"running_total": _hard_coded(root, "ann")}
    _submit(root, "ann", ann_code)
    _submit(root, "ben", ann_code)
    _submit(root, "cid")
    records = grade.main(
        course_dir=root, workers=2, progress=False, executor_factory=_threads, out=None
    )
    assert {r.cases for r in records} == {f"per-student (secret {secret.fingerprint(key)})"}
    items = _statuses(root)
    assert all(s == "passed" for g, s in items["cid"].items() if g.startswith("test_"))
    # the fixed cases pass from anyone's table; the random ones only from one's own
    for gid in ("test_running_total_basic", "test_running_total_random"):
        assert items["ann"][gid] == "passed", gid
    assert items["ben"]["test_running_total_basic"] == "passed"
    assert items["ben"]["test_running_total_random"] == "failed"
    ben = next(r for r in load_records(root, "tiny") if r.student == "ben")
    item = next(i for nb in ben.notebooks for i in nb.items if i.grade_id.endswith("_random"))
    assert item.points == 0 and item.max_points > 0

    # the secret is in none of what leaves the gradebook
    hexed = key.hex()
    for folder in ("assignments", "feedback", "exports"):
        for path in (root / folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert hexed.encode() not in data.lower() and key not in data, path
    with (root / "exports" / "tiny" / "grades.csv").open(newline="") as fh:
        assert [row["student"] for row in csv.DictReader(fh)] == ["ann", "ben", "cid"]

    # a regrade with the same secret: identical records
    before = {r.student: r.comparable() for r in load_records(root, "tiny")}
    grade.main(
        course_dir=root,
        regrade=True,
        workers=2,
        progress=False,
        feedback=False,
        executor_factory=_threads,
        out=None,
    )
    after = {r.student: r.comparable() for r in load_records(root, "tiny")}
    assert after == before, [r.reasons for r in load_records(root, "tiny")]

    # a new term, a new secret: ann's table of last term's outputs fails too
    secret.new_secret(root)
    grade.main(
        course_dir=root,
        students=["ann", "cid"],
        workers=2,
        progress=False,
        feedback=False,
        export=False,
        executor_factory=_threads,
        out=None,
    )
    items = _statuses(root)
    assert items["ann"]["test_running_total_random"] == "failed"
    assert items["ann"]["test_running_total_basic"] == "passed"
    assert all(s == "passed" for g, s in items["cid"].items() if g.startswith("test_"))

    # --fixed-cases: everyone on the cases a student's machine sees
    records = grade.main(
        course_dir=root,
        students=["cid"],
        progress=False,
        feedback=False,
        export=False,
        executor_factory=_threads,
        fixed_cases=True,
        out=None,
    )
    assert records[0].cases == "fixed" and records[0].score == before["cid"]["score"]


def test_the_sandbox_gets_cases_never_the_seed(monkeypatch) -> None:
    """The kernel of a plain run learns its case seed from the environment; a seed in the
    grader's own environment never reaches a kernel graded on fixed cases."""
    from autograder.pipeline import runner

    seen: dict[str, str] = {}

    class Spy(runner.PlainRunner):
        def __init__(self, *args, extra_env=None, **kwargs):
            seen.update(extra_env or {})
            raise RuntimeError("stop")

    monkeypatch.setattr(runner, "PlainRunner", Spy)
    monkeypatch.setenv(seeding.CASE_SEED_ENV, "99")
    nb = nbformat.v4.new_notebook()
    for seed, expected in ((None, ""), (5, "5")):
        with pytest.raises(RuntimeError, match="stop"):
            runner.execute_notebook(nb, os.getcwd(), runner.Limits(), isolation={}, case_seed=seed)
        assert seen[seeding.CASE_SEED_ENV] == expected
