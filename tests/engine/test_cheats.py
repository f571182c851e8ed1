"""The attack corpus: submissions that try to cheat the sandboxed grader (issue 5).

Every attack is a small submission named ``cheat_*`` to the tiny fixture course of
tests/engine/tiny_course.py (``barrier_height`` and ``prune_count``, two hidden parts each),
with its visible tests worth 0 points as in the real notebooks (they run in the student's
kernel). All of them are graded together in ONE run of `autograder grade` with the sandbox
on (the default). Each attack targets one function and solves the other honestly: it must
score 0 on the items it attacks and full marks on the others, leave the course directory,
the other submissions and the repository unchanged, and finish within its limits.

Runtime: ~50 s on 2 cores (one grading run of 21 submissions, one waiting for the
wall-time limit); marked slow. Skipped where no private file system is possible (the
grader then falls back to the plain executor, which these attacks defeat by design).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.pipeline import grade as grade_mod
from autograder.pipeline.limits import MIB, Limits
from autograder.pipeline.normalize import grade_id_of
from autograder.pipeline.sandboxed import sandbox_available
from tests.engine.tiny_course import (
    ASSIGNMENT,
    FIXTURES,
    NOTEBOOK,
    REPO,
    WRONG_BARRIER,
    _nbgrader,
    cell_index,
    filled,
    solution_sources,
    submit,
)
from tests.spec_support import write_spec

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox_available(), reason="no private file system here"),
]

BARRIER = ["test_barrier_height_basic", "test_barrier_height_errors"]
PRUNE = ["test_prune_count_basic", "test_prune_count_rounding"]
VISIBLE = ["test_barrier_height_visible", "test_prune_count_visible"]
LIMITS = Limits(
    wall_seconds=15.0,
    startup_seconds=60.0,
    memory_bytes=1024 * MIB,
    output_bytes=64 * 1024,
    max_processes=64,
)
#: Files on the host each attack run must leave byte for byte unchanged.
REPO_FILES = [
    "solutions/mode_connectivity/paths.py",
    "source/landscapes/checks/mode_connectivity/barrier_height.py",
    "solutions/lottery_tickets.py",
    "autograder/checks/registry.py",
    "source/landscapes/landscape_lab.py",
]
MARKER = f"cheat-marker-{uuid.uuid4().hex[:8]}"


# ---- the course ---------------------------------------------------------------------------


def make_cheat_course(root: Path) -> Path:
    """The fixture course with its visible tests worth 0 points, and a release."""
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_bytes((FIXTURES / "nbgrader_config.py").read_bytes())
    nb = nbformat.read(FIXTURES / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    for cell in nb.cells:
        if grade_id_of(cell) in VISIBLE:
            cell.metadata.nbgrader["points"] = 0
    nbformat.write(nb, course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    lab = REPO / "source" / ASSIGNMENT / "landscape_lab.py"
    (course / "source" / ASSIGNMENT / "landscape_lab.py").write_bytes(lab.read_bytes())
    write_spec(course / "source" / ASSIGNMENT, [NOTEBOOK])
    done = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return course


def honest(name: str) -> str:
    return solution_sources()[name]


def with_code(course: Path, *, barrier: str | None = None, prune: str | None = None) -> Any:
    """The reference submission with the barrier_height / prune_count cell replaced."""
    overrides = {}
    if barrier is not None:
        overrides["barrier_height"] = barrier
    if prune is not None:
        overrides["prune_count"] = prune
    return filled(course, **overrides)


def secret_paths(course: Path) -> list[str]:
    """What a cheat would love to read: all of it exists on the host during the run."""
    return [
        str(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(course / "submitted" / "correct" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(course / "gradebook.db"),
        str(course / "nbgrader_config.py"),
        str(REPO / "solutions" / "mode_connectivity" / "paths.py"),
        str(REPO / "source" / ASSIGNMENT / "checks" / "mode_connectivity" / "common.py"),
        str(REPO / "autograder" / "checks" / "verdicts.py"),
        str(FIXTURES / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
    ]


STEAL = """
import json
READABLE = []
STOLEN = None
for path in {paths!r}:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        continue
    READABLE.append(path)
    if path.endswith(".ipynb"):
        for c in json.loads(text)["cells"]:
            src = "".join(c["source"])
            if src.lstrip().startswith("def barrier_height"):
                STOLEN = src
print("READABLE", json.dumps(READABLE))
if STOLEN:
    exec(STOLEN)
else:
    def barrier_height(losses):
        raise RuntimeError("nothing to steal")
"""

IMPORT_SOLUTIONS = """
try:
    from solutions import barrier_height
except Exception:
    try:
        from autograder.checks.registry import REGISTRY  # the verdicts would tell the answer
        barrier_height = REGISTRY  # never reached in the sandbox
    except Exception:
        def barrier_height(losses):
            raise RuntimeError("solutions and the registry are not importable")
"""

WRITE_OUTSIDE = """
import os
TARGETS = {targets!r}
for path in TARGETS:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as fh:
            fh.write("pwned")
    except OSError:
        pass
for path in {existing!r}:
    for action in (os.remove, lambda p: open(p, "w").close()):
        try:
            action(path)
        except OSError:
            pass
"""


def build_cheats(course: Path) -> dict[str, dict[str, list[str]]]:
    """Submit every cheat; return student → {"zero": items attacked, "full": items solved
    honestly}."""
    nbname = f"{NOTEBOOK}.ipynb"
    expected: dict[str, dict[str, list[str]]] = {}

    def add(student: str, nb: Any, attacked: list[str]) -> None:
        submit(course, student, {nbname: nb})
        expected[student] = {
            "zero": attacked,
            "full": [g for g in BARRIER + PRUNE if g not in attacked],
        }

    add("correct", filled(course), [])

    # monkeypatching comparisons, assertion helpers, builtins
    patch = (
        "import builtins, math\nimport numpy, numpy.testing, torch, torch.testing\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "numpy.allclose = numpy.isclose = numpy.array_equal = lambda *a, **k: True\n"
        "torch.allclose = torch.equal = lambda *a, **k: True\n"
        "torch.testing.assert_close = lambda *a, **k: None\n"
        "math.isclose = lambda *a, **k: True\n"
    )
    add("cheat_patch_numpy_torch", with_code(course, barrier=patch + WRONG_BARRIER), BARRIER)
    patch = (
        "import builtins\n"
        "class AssertionError(Exception):\n    pass\n"
        "builtins.AssertionError = AssertionError\n"
        "builtins.abs = lambda x: 0.0\n"
    )
    add("cheat_patch_builtins", with_code(course, barrier=patch + WRONG_BARRIER), BARRIER)

    # IPython hooks: swallow every exception; rewrite later cells
    hook = (
        "get_ipython().set_custom_exc((BaseException,), "
        "lambda shell, etype, value, tb, tb_offset=None: None)\n"
    )
    add("cheat_set_custom_exc", with_code(course, barrier=hook + WRONG_BARRIER), BARRIER)
    hook = (
        "def _rewrite(lines):\n"
        "    text = ''.join(lines)\n"
        "    if 'barrier_height' in text and ('probe' in text or 'check_' in text or 'assert' in text):\n"
        "        return ['pass\\n']\n"
        "    return lines\n"
        "get_ipython().input_transformers_post.append(_rewrite)\n"
    )
    add("cheat_input_transformer", with_code(course, barrier=hook + WRONG_BARRIER), BARRIER)
    hook = (
        "import ast\n"
        "class _Drop(ast.NodeTransformer):\n"
        "    def visit_Expr(self, node):\n"
        "        return ast.Pass() if 'barrier_height' in ast.unparse(node) else node\n"
        "get_ipython().ast_transformers.append(_Drop())\n"
    )
    add("cheat_ast_transformer", with_code(course, barrier=hook + WRONG_BARRIER), BARRIER)

    # importing or reading what the grader knows
    add(
        "cheat_import_solutions",
        with_code(course, barrier="import os\n" + IMPORT_SOLUTIONS),
        BARRIER,
    )
    add(
        "cheat_read_files",
        with_code(course, barrier=STEAL.format(paths=secret_paths(course))),
        BARRIER,
    )

    # stopping the kernel (in the prune_count cell: barrier_height is solved honestly)
    prune = honest("prune_count")
    add("cheat_sys_exit", with_code(course, prune="import sys\nsys.exit(0)\n" + prune), PRUNE)
    add("cheat_os_exit", with_code(course, prune="import os\nos._exit(0)\n" + prune), PRUNE)
    kill = (
        "import os, signal\n"
        "for target in (lambda: os.kill(os.getppid(), signal.SIGKILL),\n"
        "               lambda: os.kill(1, signal.SIGKILL),\n"
        "               lambda: os.killpg(0, signal.SIGKILL),\n"
        "               lambda: os.kill(os.getpid(), signal.SIGKILL)):\n"
        "    try:\n"
        "        target()\n"
        "    except OSError:\n"
        "        pass\n"
    )
    add("cheat_kill_kernel", with_code(course, prune=kill + prune), PRUNE)
    add("cheat_infinite_loop", with_code(course, prune="while True:\n    pass\n" + prune), PRUNE)
    bomb = "blobs = []\nwhile True:\n    blobs.append(b'x' * (64 * 2**20))\n"
    add("cheat_memory_bomb", with_code(course, prune=bomb + prune), PRUNE)
    giant = "chunk = 'x' * 2**20\nfor _ in range(1024):\n    print(chunk)\n"
    add("cheat_print_gigabyte", with_code(course, prune=giant + prune), PRUNE)
    # a fork bomb in the last (ungraded) cell: nothing to gain, the grader must survive it
    nb = filled(course)
    nb.cells[-1].source = (
        "import os, time\nforked = 0\nfor _ in range(100000):\n    try:\n"
        "        if os.fork() == 0:\n            time.sleep(600)\n            os._exit(0)\n"
        "    except OSError:\n        break\n    forked += 1\nprint('FORKED', forked)\n"
    )
    add("cheat_fork_bomb", nb, [])

    # editing, deleting and duplicating test cells and grade ids
    nb = with_code(course, barrier=WRONG_BARRIER)
    for gid in BARRIER:
        nb.cells[cell_index(nb, gid)].source = "pass  # nothing hidden here"
    i = cell_index(nb, "test_barrier_height_basic")
    dup = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    dup.metadata.nbgrader["points"] = 100
    nb.cells.insert(i, dup)
    nb.cells = [c for c in nb.cells if grade_id_of(c) != "test_prune_count_rounding"]
    add("cheat_edit_test_cells", nb, BARRIER)

    # writing outside the scratch dir (barrier_height honest: nothing attacked)
    targets = [
        str(course / "gradebook.db"),
        str(course / "submitted" / "correct" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
        str(course / "source" / ASSIGNMENT / MARKER),
        str(course / "autograded" / "cheat_write_outside" / ASSIGNMENT / MARKER),
        str(REPO / "solutions" / MARKER),
        f"/tmp/{MARKER}",
        str(course.parent / MARKER),
    ]
    existing = [str(course / "gradebook.db"), str(course / "nbgrader_config.py")]
    write = WRITE_OUTSIDE.format(targets=targets, existing=existing)
    add("cheat_write_outside", with_code(course, barrier=write + honest("barrier_height")), [])

    # returned objects that lie
    liar = (
        "class Liar:\n    def __eq__(self, other):\n        return True\n"
        "    __ne__ = lambda self, other: False\n    __lt__ = __le__ = __gt__ = __ge__ = __eq__\n"
        "    def __float__(self):\n        return 1.095\n    def __abs__(self):\n        return 0.0\n"
        "    def __sub__(self, other):\n        return 0.0\n    __rsub__ = __sub__\n"
        "def barrier_height(losses):\n    return Liar()\n"
    )
    add("cheat_lying_eq", with_code(course, barrier=liar), BARRIER)
    sub = (
        "import numpy\nclass Liar(numpy.float64):\n    def __eq__(self, other):\n        return True\n"
        "    def __sub__(self, other):\n        return Liar(0.0)\n    __hash__ = numpy.float64.__hash__\n"
        "def barrier_height(losses):\n    return Liar(0.0)\n"
    )
    add("cheat_numpy_subclass", with_code(course, barrier=sub), BARRIER)
    sub = (
        "import torch\nclass Liar(torch.Tensor):\n    def __eq__(self, other):\n"
        "        return torch.tensor(True)\n    __hash__ = torch.Tensor.__hash__\n"
        "def prune_count(n, fraction):\n"
        "    return torch.Tensor._make_subclass(Liar, torch.tensor(0))\n"
    )
    add("cheat_torch_subclass", with_code(course, prune=sub), PRUNE)
    changing = (
        "import itertools\n_count = itertools.count()\n"
        "class Shifty:\n    def __float__(self):\n        return float(next(_count))\n"
        "    def __int__(self):\n        return next(_count)\n    __index__ = __int__\n"
        "def prune_count(n, fraction):\n    return Shifty()\n"
    )
    add("cheat_changing_float", with_code(course, prune=changing), PRUNE)
    return expected


# ---- one grading run ----------------------------------------------------------------------


def _digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _descends_from(pid: int, ancestors: set[int]) -> bool:
    seen: set[int] = set()
    current: int | None = pid
    while current and current not in seen:
        if current in ancestors:
            return True
        seen.add(current)
        current = _parent_pid(current)
    return False


def _other_test_workers() -> set[int]:
    """Under pytest-xdist, the sibling worker processes: other test modules running sandboxed
    kernels at the same time (their kernels are not this run's leftovers)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return set()
    me, parent = os.getpid(), os.getppid()
    return {
        int(e)
        for e in os.listdir("/proc")
        if e.isdigit() and int(e) != me and _parent_pid(int(e)) == parent
    }


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "?"


def _sandboxed_processes() -> list[int]:
    """Processes a sandbox runs, except those of other test workers' grading runs: those of
    nobody (the namespaces mode, as root) and, for a grader that is not root (the userns and
    bwrap modes), its own processes in another pid namespace."""
    others = _other_test_workers()
    me = os.geteuid()
    own_pid_ns = os.readlink("/proc/self/ns/pid")
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                        continue  # a zombie: exited, waiting for its parent to reap it
                uid = os.stat(f"/proc/{entry}").st_uid
                if uid != 65534 and not (
                    uid == me != 0 and os.readlink(f"/proc/{entry}/ns/pid") != own_pid_ns
                ):
                    continue
            except OSError:
                continue
            if not _descends_from(int(entry), others):
                pids.append(int(entry))
    return pids


def _left_after(before: set[int], grace: float = 10.0) -> set[int]:
    """The sandboxed processes that started during the run and are still alive `grace`
    seconds after it (the last sandboxes may still be on their way out when it returns)."""
    deadline = time.monotonic() + grace
    while True:
        left = set(_sandboxed_processes()) - before
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("cheats")
    course = make_cheat_course(root)
    expected = build_cheats(course)
    watched = [
        course / "submitted",
        course / "source",
        course / "nbgrader_config.py",
        course / "assignments",
        *(REPO / f for f in REPO_FILES),
    ]
    before = _digest(watched)
    sandboxed_before = set(_sandboxed_processes())
    records = grade_mod.main(
        course_dir=course, workers=2, limits=LIMITS, progress=False, feedback=False, export=False
    )
    return {
        "course": course,
        "expected": expected,
        "records": {r.student: r for r in records},
        "digest_before": before,
        "digest_after": _digest(watched),
        "sandboxed_left": _left_after(sandboxed_before),
    }


CHEATS = sorted(
    [
        "cheat_patch_numpy_torch",
        "cheat_patch_builtins",
        "cheat_set_custom_exc",
        "cheat_input_transformer",
        "cheat_ast_transformer",
        "cheat_import_solutions",
        "cheat_read_files",
        "cheat_sys_exit",
        "cheat_os_exit",
        "cheat_kill_kernel",
        "cheat_infinite_loop",
        "cheat_memory_bomb",
        "cheat_print_gigabyte",
        "cheat_fork_bomb",
        "cheat_edit_test_cells",
        "cheat_write_outside",
        "cheat_lying_eq",
        "cheat_numpy_subclass",
        "cheat_torch_subclass",
        "cheat_changing_float",
    ]
)


def _points(record: Any) -> dict[str, float | None]:
    return {it.grade_id: it.points for it in record.notebook(NOTEBOOK).items}


def test_every_cheat_is_in_the_corpus(graded: dict[str, Any]) -> None:
    assert sorted(s for s in graded["expected"] if s.startswith("cheat_")) == CHEATS
    assert sorted(graded["records"]) == sorted(graded["expected"])


def test_the_reference_scores_full_marks(graded: dict[str, Any]) -> None:
    record = graded["records"]["correct"]
    assert record.status == "graded", record.to_json()
    assert all(_points(record)[g] == 1.0 for g in BARRIER + PRUNE)
    assert record.isolation["sandbox"]["used"]["filesystem"] == "private root (allowlist)"


@pytest.mark.parametrize("student", CHEATS)
def test_cheat_scores_zero_on_what_it_attacks(graded: dict[str, Any], student: str) -> None:
    """The attacked items score 0, the honestly solved ones full marks; visible tests are
    worth nothing; the submission is imported and graded within its limits."""
    record = graded["records"][student]
    expected = graded["expected"][student]
    if student == "cheat_print_gigabyte" and _giant_output_dropped(graded, record):
        expected = {"zero": []}  # the kernel went on: its honest answers count
    points = _points(record)
    assert record.imported and record.status != "error", record.to_json()
    got = {g: points[g] for g in BARRIER + PRUNE}
    want = {g: (0.0 if g in expected["zero"] else 1.0) for g in BARRIER + PRUNE}
    assert got == want, record.to_json()
    assert all(points[g] == 0.0 for g in VISIBLE)
    nb = record.notebook(NOTEBOOK)
    assert nb.seconds < LIMITS.wall_seconds + LIMITS.startup_seconds + 30, nb.seconds


def test_gradebook_holds_exactly_the_records(graded: dict[str, Any]) -> None:
    """Whatever the cheats wrote, the gradebook scores are the grader's verdicts."""
    from nbgrader.api import Gradebook

    course = graded["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student, record in graded["records"].items():
            submission = gb.find_submission(ASSIGNMENT, student)
            assert submission.score == pytest.approx(record.score), student
            notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            for grade in notebook.grades:
                if grade.name in BARRIER + PRUNE:
                    assert grade.auto_score == _points(record)[grade.name], (student, grade.name)


def test_course_submissions_and_repository_unchanged(graded: dict[str, Any]) -> None:
    """No attack changed the submissions, the source, the release, the config or the repo;
    no marker file of the write attack exists anywhere on the host."""
    assert graded["digest_after"] == graded["digest_before"]
    course: Path = graded["course"]
    assert not list(course.rglob(MARKER))
    for folder in (REPO / "solutions", Path("/tmp"), course.parent):
        assert not (folder / MARKER).exists(), folder


def test_nothing_was_readable(graded: dict[str, Any]) -> None:
    """The read attack printed what it could open: nothing of the course or the repository
    (all of which exists on the host)."""
    course: Path = graded["course"]
    assert all(os.path.exists(p) for p in secret_paths(course))
    nb = nbformat.read(
        course / "autograded" / "cheat_read_files" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4
    )
    cell = nb.cells[cell_index(nb, "barrier_height")]
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    line = next(ln for ln in text.splitlines() if ln.startswith("READABLE"))
    assert json.loads(line.split(" ", 1)[1]) == []


def test_no_sandbox_process_survives(graded: dict[str, Any]) -> None:
    """The fork bomb's children (and every other kernel) are gone after the run."""
    left = {pid: _cmdline(pid) for pid in graded["sandboxed_left"]}
    assert not left, f"sandboxed processes left running (another grader on this machine?): {left}"


def test_fork_bomb_stopped_at_the_process_limit(graded: dict[str, Any]) -> None:
    """The fork bomb got fewer processes than the limit allows (pids cgroup, RLIMIT_NPROC in
    the run's own user namespace, or RLIMIT_NPROC of nobody), and the record says how."""
    course: Path = graded["course"]
    nb = nbformat.read(
        course / "autograded" / "cheat_fork_bomb" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4
    )
    text = "".join(
        o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream"
    )
    forked = int(text.split("FORKED", 1)[1].split()[0])
    assert 0 < forked < LIMITS.max_processes, text
    record = graded["records"]["cheat_fork_bomb"]
    used = record.isolation["sandbox"]["used"]
    assert used["processes"] != "none", used
    assert str(LIMITS.max_processes) in record.isolation["processes_bound"], record.isolation


def _giant_output_dropped(graded: dict[str, Any], record: Any) -> bool:
    """Under RLIMIT_AS only: the submission was graded and its stored output stayed small."""
    if record.isolation.get("memory") != "rlimit_as":
        return False
    autograded = graded["course"] / "autograded" / record.student / ASSIGNMENT
    size = sum(p.stat().st_size for p in autograded.glob("*.ipynb"))
    return record.notebook(NOTEBOOK).status == "graded" and size < 20 * LIMITS.output_bytes


def test_limits_stopped_the_resource_attacks(graded: dict[str, Any]) -> None:
    records = graded["records"]
    assert records["cheat_infinite_loop"].notebook(NOTEBOOK).status == "timeout"
    assert records["cheat_memory_bomb"].notebook(NOTEBOOK).status == "memory_limit"
    # the kernel is stopped at the output limit, or OOM-killed while it buffers the output;
    # under the RLIMIT_AS fallback (no memory cgroup) the kernel's own output thread may fail
    # to allocate the giant message instead: the output is dropped inside the kernel, nothing
    # reaches the grader, and the notebook goes on (see _giant_output_dropped)
    giant = records["cheat_print_gigabyte"]
    assert giant.notebook(NOTEBOOK).status in ("output_limit", "memory_limit") or (
        _giant_output_dropped(graded, giant)
    ), giant.to_json()
    assert records["cheat_os_exit"].notebook(NOTEBOOK).status == "kernel_died"
    assert records["cheat_kill_kernel"].notebook(NOTEBOOK).status == "kernel_died"


def test_hidden_cells_are_recognised_for_probing() -> None:
    """Each check_function/check_answer call becomes a probe; anything else is left alone
    (and then fails in the sandbox, where the registry cannot be imported)."""
    from autograder.pipeline.sandboxed import check_calls

    cell = (
        "# Hidden tests\nfrom autograder.checks import check_function\n"
        'check_function("prune_count", prune_count, part="basic")\n'
    )
    assert check_calls(cell) == [("prune_count", "basic")]
    assert check_calls('check_answer("answer_q1", answer_q1, part="key")') == [("answer_q1", "key")]
    assert check_calls("check_function(name, f)") is None
    assert check_calls("assert prune_count(12, 0.3) == 4") is None
    assert check_calls("def broken(:") is None
