"""Helpers for the notebook-level tests: temporary nbgrader courses, submissions, grades.

Everything happens in temporary course directories (never in the repository, which would
get a gradebook): the course config and `source/landscapes/` are copied there, and the
`nbgrader` command of this Python environment is run with that environment's `bin/` first
on PATH (nbgrader runs `alembic` from PATH when it creates a gradebook). Jupyter and IPython
configuration directories point into the course too, so a course-staff machine's personal
settings cannot change the results.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.checks import registry
from tests.spec_support import write_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
COURSE_SPEC = registry.spec_of()
ASSIGNMENT = "landscapes"
CONFIG_FILE = REPO_ROOT / "nbgrader_config.py"
SOURCE_DIR = REPO_ROOT / "source" / ASSIGNMENT
RELEASE_DIR = REPO_ROOT / "assignments" / ASSIGNMENT
FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"

#: Files that never belong to a course copy or a release (build and editor debris; the
#: editable install leaves `*.egg-info` beside landscape_lab.py).
IGNORED_PATTERNS = ("*.egg-info", "__pycache__", "*.pyc", ".ipynb_checkpoints")

#: Strings that must never reach a released file.
FORBIDDEN_IN_RELEASE = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "check_function",
    "check_answer",
    "Model answer and rubric",
)
#: An import of the staff packages, in any form.
STAFF_IMPORT = re.compile(
    r"^\s*(?:from|import)\s+(?:solutions|autograder)\b"
    r"|import_module\(\s*['\"](?:solutions|autograder)\b"
    r"|__import__\(\s*['\"](?:solutions|autograder)\b",
    re.MULTILINE,
)
#: Lines shorter than this (stripped) are too common to count as a leaked solution line.
MIN_SECRET_LINE = 12

#: What a graded cell of the unmodified release must say: the stub's NotImplementedError
#: (directly, or as reported by the hidden checks), or for a graded value still set to None,
#: the check's message about it.
STUB_MESSAGE = re.compile(
    r"NotImplementedError|still the stub|is still None|got None|is not defined"
)
#: What `landscape_lab.needs` prints when a demonstration needs a stub.
SKIP_NOTE = "(demonstration skipped"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BEGIN_SOLUTION = "BEGIN SOLUTION"
_END_SOLUTION = "END SOLUTION"
_BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
_END_HIDDEN = "END HIDDEN TESTS"


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message carries its output."""


# ---------------------------------------------------------------------------------------------
# Notebooks and cells


def source_notebooks() -> list[Path]:
    """The instructor notebooks of the assignment, in the spec's order."""
    return [SOURCE_DIR / f for f in COURSE_SPEC.notebook_files()]


def read_nb(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write_nb(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def nbgrader_meta(cell: NotebookNode) -> Mapping:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_grade(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("grade"))


def is_solution(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_code_grade(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and is_grade(cell)


def is_demo(cell: NotebookNode) -> bool:
    """A code cell that is neither a student answer nor a graded test (setup, demonstration)."""
    return cell.cell_type == "code" and not is_grade(cell) and not is_solution(cell)


def cells_by_id(nb: NotebookNode) -> dict[str, NotebookNode]:
    return {gid: c for c in nb.cells if (gid := grade_id(c)) is not None}


def points(cell: NotebookNode) -> float:
    return float(nbgrader_meta(cell).get("points", 0))


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def error_text(cell: NotebookNode) -> str:
    """The errors a code cell produced (tracebacks and stderr), without colour codes."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            parts.append("\n".join(out.get("traceback", [])) or f"{out.ename}: {out.evalue}")
        elif out.output_type == "stream" and out.name == "stderr":
            parts.append(out.text)
    return strip_ansi("\n".join(parts))


def stdout_text(cell: NotebookNode) -> str:
    return "".join(
        o.text for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stdout"
    )


def has_error(cell: NotebookNode) -> bool:
    return any(o.output_type == "error" for o in cell.get("outputs", []))


def execution_seconds(nb: NotebookNode) -> float:
    """Wall time from the first cell's start to the last cell's reply (kernel start excluded)."""
    starts, ends = [], []
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            starts.append(_timestamp(timing["iopub.execute_input"]))
            ends.append(_timestamp(timing["shell.execute_reply"]))
    if not starts:
        raise ValueError("the notebook has no execution timings (was it executed?)")
    return (max(ends) - min(starts)).total_seconds()


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fill_solutions(
    release_nb: NotebookNode,
    source_nb: NotebookNode,
    only: Iterable[str] | None = None,
    replace: Mapping[str, str] | None = None,
) -> NotebookNode:
    """A copy of a released notebook with answers put in, as a student would.

    Every solution cell (or only those whose grade_id is in `only`) gets the source
    notebook's cell source (the reference answer); `replace` maps grade_ids to sources of
    the submitter's own (e.g. a wrong implementation) and wins over the reference.
    """
    nb = nbformat.from_dict(release_nb)  # deep copy
    reference = {gid: c.source for gid, c in cells_by_id(source_nb).items()}
    wanted = None if only is None else set(only)
    replace = dict(replace or {})
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid is None or not is_solution(cell):
            continue
        if gid in replace:
            cell.source = replace.pop(gid)
        elif wanted is None or gid in wanted:
            cell.source = reference[gid]
    if replace:
        raise KeyError(f"no solution cells with grade_id {sorted(replace)}")
    return nb


def without_solution_markers(source: str) -> str:
    """A source cell's answer as a student would write it: the `BEGIN/END SOLUTION` lines
    dropped, everything else kept."""
    return "\n".join(
        line
        for line in source.splitlines()
        if _BEGIN_SOLUTION not in line and _END_SOLUTION not in line
    )


def has_code(source: str) -> bool:
    """Whether a cell source holds anything but blank lines and comments."""
    return any(line.strip() and not line.strip().startswith("#") for line in source.splitlines())


def first_function(source_nb: NotebookNode) -> str | None:
    """The first answer cell that has a visible test cell `test_<grade_id>_visible`."""
    ids = cells_by_id(source_nb)
    for gid, cell in ids.items():
        if cell.cell_type == "code" and is_solution(cell) and f"test_{gid}_visible" in ids:
            return gid
    return None


def validate_failures(nb: NotebookNode, implemented: str) -> list[NotebookNode]:
    """The cells `nbgrader validate` reports as failed in a released notebook in which only
    the function `implemented` is written: every other graded code cell that holds code (the
    other functions' visible tests; the released hidden-test cells are comments only) and
    every unanswered free-text cell."""
    mine = f"test_{implemented}_visible"
    code = [c for c in nb.cells if is_code_grade(c) and grade_id(c) != mine and has_code(c.source)]
    return code + [c for c in nb.cells if c.cell_type == "markdown" and is_grade(c)]


# ---------------------------------------------------------------------------------------------
# Temporary courses and the nbgrader command


def venv_bin() -> Path:
    """The `bin/` directory of the Python running the tests (nbgrader, alembic, jupyter)."""
    return Path(sys.executable).parent


def nbgrader_env(course: Path) -> dict[str, str]:
    """Environment for nbgrader and its kernels: this venv first, private Jupyter config."""
    env = dict(os.environ)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
    private = course / ".jupyter_home"
    env["JUPYTER_CONFIG_DIR"] = str(private / "config")
    env["IPYTHONDIR"] = str(private / "ipython")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("PYTHONPATH", None)  # the kernel must import what a grader machine would
    env.pop("NBGRADER_EXECUTION", None)
    env.pop("NBGRADER_VALIDATING", None)
    return env


def shared_dir(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory built once per test run by `build(path)`, shared by pytest-xdist workers.

    Without xdist it is a fresh temporary directory. Under xdist every worker of the run
    (same PYTEST_XDIST_TESTRUNUID) gets the same directory: the first builds it under a file
    lock, the others wait and reuse it; a failed build is retried by the next worker.
    """
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id:
        path = tmp_path_factory.mktemp(name)
        build(path)
        return path
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp().parent / f"shared-{run_id}"
    base.mkdir(exist_ok=True)
    path, done = base / name, base / f"{name}.done"
    with FileLock(str(base / f"{name}.lock")):
        if not done.exists():
            if path.exists():
                shutil.rmtree(path)
            path.mkdir()
            build(path)
            done.write_text("built\n")
    return path


def make_course(root: Path, notebooks: Iterable[Path] | None = None) -> Path:
    """A course directory at `root`: the config and a copy of `source/landscapes/`.

    With `notebooks`, the copied source holds those notebooks instead of the real ones
    (the release files, landscape_lab.py and landscape_plots.py, are kept).
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(CONFIG_FILE, root / CONFIG_FILE.name)
    dest = root / "source" / ASSIGNMENT
    dest.mkdir(parents=True)
    release_files = COURSE_SPEC.release_files
    for name in release_files:
        shutil.copy2(SOURCE_DIR / name, dest / name)
    notebooks = source_notebooks() if notebooks is None else [Path(nb) for nb in notebooks]
    for nb in notebooks:
        shutil.copy2(nb, dest / nb.name)
    write_spec(dest, [nb.name for nb in notebooks], release_files)
    return root


def run_nbgrader(
    course: Path, *args: str, timeout: float = 300.0, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run `nbgrader *args` in `course` (or `cwd`); raise NbgraderError on failure.

    nbgrader runs in its own process group, killed as a whole on timeout (its kernels notice
    that their parent died and exit).
    """
    cmd = [str(venv_bin() / "nbgrader"), *args]
    proc = subprocess.Popen(
        cmd,
        cwd=cwd or course,
        env=nbgrader_env(course),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise NbgraderError(
            f"`nbgrader {' '.join(args)}` did not finish within {timeout:.0f} s (a cell that "
            f"never ends?)\n--- stdout\n{stdout[-4000:]}\n--- stderr\n{stderr[-8000:]}"
        ) from None
    proc = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if proc.returncode != 0 or "| ERROR]" in proc.stderr:
        raise NbgraderError(
            f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode})\n"
            f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-8000:]}"
        )
    return proc


def generate_release(course: Path) -> Path:
    """`nbgrader generate_assignment` in `course`; returns the release folder."""
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force", timeout=300)
    return course / "assignments" / ASSIGNMENT


def released_course(tmp_path_factory) -> Path:
    """A temporary course with the real sources and a freshly generated release (and its
    gradebook), built once per test run and shared by every module and xdist worker that
    asks for it (`shared_dir`). Do not modify it: copy it."""

    def build(root: Path) -> None:
        make_course(root)
        generate_release(root)

    return shared_dir(tmp_path_factory, "course", build)


def submit(course: Path, student: str, notebooks: Mapping[str, NotebookNode]) -> Path:
    """Put a submission (notebook name -> notebook) into `submitted/<student>/landscapes/`."""
    folder = course / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        write_nb(nb, folder / name)
    return folder


def autograde(
    course: Path, student: str, *, cell_timeout: int = 150, timeout: float = 900.0
) -> float:
    """`nbgrader autograde` for the students matching `student` (a glob); returns seconds."""
    start = time.perf_counter()
    run_nbgrader(
        course,
        "autograde",
        ASSIGNMENT,
        f"--student={student}",
        "--force",
        f"--Execute.timeout={cell_timeout}",
        timeout=timeout,
    )
    return time.perf_counter() - start


def autograded_notebook(course: Path, student: str, name: str) -> NotebookNode:
    return read_nb(course / "autograded" / student / ASSIGNMENT / name)


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of one submitted notebook, as the gradebook has it."""

    notebook: str
    name: str
    cell_type: str
    auto_score: float | None
    max_score: float
    needs_manual_grade: bool


def read_grades(course: Path, student: str) -> dict[str, dict[str, CellGrade]]:
    """notebook name (without .ipynb) -> grade_id -> CellGrade, from the course gradebook."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, CellGrade]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        for nb in submission.notebooks:
            out[nb.name] = {
                g.name: CellGrade(
                    nb.name,
                    g.name,
                    g.cell_type,
                    g.auto_score,
                    g.max_score,
                    bool(g.needs_manual_grade),
                )
                for g in nb.grades
            }
    return out


# ---------------------------------------------------------------------------------------------
# `nbgrader validate` output


def validator_block(source: str) -> str:
    """How `nbgrader validate` prints a cell source (nbgrader.validator.Validator._indent)."""
    from nbgrader.validator import Validator

    return Validator()._indent(source.strip())


def failed_blocks(validate_stdout: str) -> list[tuple[str, str]]:
    """(printed source, printed error) of every cell `nbgrader validate` reports as failed."""
    out = []
    for chunk in validate_stdout.split("\n" + "=" * 90 + "\n")[1:]:
        head = "The following cell failed:\n\n"
        if not chunk.startswith(head):
            continue
        source, _, error = chunk[len(head) :].partition("\n\nThe error was:\n\n")
        out.append((source, error))
    return out


def failed_sources(validate_stdout: str) -> Counter:
    return Counter(source for source, _ in failed_blocks(validate_stdout))


# ---------------------------------------------------------------------------------------------
# Leak check


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin/end regions, lines outside them) of one cell source."""
    inside, outside, in_region = [], [], False
    for line in source.splitlines():
        if begin in line:
            in_region = True
        elif end in line:
            in_region = False
        elif in_region:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def _significant(line: str) -> str | None:
    """The stripped line if it is specific enough to count as leaked, else None."""
    text = line.strip()
    if len(text) < MIN_SECRET_LINE or not re.search(r"[A-Za-z0-9]", text):
        return None
    return text


def split_secret(source_nb: NotebookNode) -> tuple[list[str], list[str]]:
    """(lines of the solution and hidden-test regions, every other line) of a source notebook.

    Secret regions: code solution regions, hidden-test regions and whole manually graded
    (markdown solution) cells.
    """
    secret: list[str] = []
    public: list[str] = []
    for cell in source_nb.cells:
        if cell.cell_type == "markdown" and is_solution(cell):
            secret.extend(cell.source.splitlines())
            continue
        solution, rest = _regions(cell.source, _BEGIN_SOLUTION, _END_SOLUTION)
        hidden, rest = _regions("\n".join(rest), _BEGIN_HIDDEN, _END_HIDDEN)
        secret.extend(solution + hidden)
        public.extend(rest)
    return secret, public


def secret_lines(source_nbs: Mapping[str, NotebookNode], public_text: str = "") -> dict[str, str]:
    """Lines that appear only in solution or hidden-test regions -> the notebook they are from.

    A line that also appears in a public place (outside those regions in any source notebook,
    or in `public_text`, e.g. the released helper module) is not secret, and nor are trivial
    lines (blank, brackets, `return`, anything shorter than MIN_SECRET_LINE).
    """
    public = {line.strip() for line in public_text.splitlines()}
    secret: dict[str, str] = {}
    for name, nb in source_nbs.items():
        lines, rest = split_secret(nb)
        public.update(line.strip() for line in rest)
        for line in lines:
            if (text := _significant(line)) is not None:
                secret.setdefault(text, name)
    return {line: name for line, name in secret.items() if line not in public}


def released_text(nb: NotebookNode) -> str:
    """Everything a student can read in a released notebook: sources and outputs."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if out.output_type == "stream" else "")
            parts.extend(str(v) for v in out.get("data", {}).values())
            parts.extend(out.get("traceback", []))
    return "\n".join(parts)


def find_leaks(release_dir: Path, source_dir: Path = SOURCE_DIR) -> list[str]:
    """Every way in which a released folder gives away solutions or hidden tests."""
    problems: list[str] = []
    files = sorted(p for p in release_dir.rglob("*") if p.is_file() and not _ignored(p))
    texts: dict[Path, str] = {}
    for path in files:
        if path.suffix == ".ipynb":
            texts[path] = released_text(read_nb(path))
        else:
            try:
                texts[path] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    helpers = "\n".join(t for p, t in texts.items() if p.suffix != ".ipynb")
    for path, text in texts.items():
        rel = path.relative_to(release_dir)
        for word in FORBIDDEN_IN_RELEASE:
            if word in text:
                problems.append(f"{rel}: contains {word!r}")
        for match in STAFF_IMPORT.finditer(text):
            problems.append(f"{rel}: imports staff code: {match.group(0).strip()!r}")
    sources = {p.name: read_nb(p) for p in sorted(source_dir.glob("*.ipynb"))}
    secret = secret_lines(sources, public_text=helpers)
    for path, text in texts.items():
        for line in sorted(set(secret) & {line.strip() for line in text.splitlines()}):
            problems.append(
                f"{path.relative_to(release_dir)}: a line of a solution or hidden-test region "
                f"of {secret[line]} is released: {line!r}"
            )
    return problems


def _ignored(path: Path) -> bool:
    return (
        any(
            part.endswith(".egg-info") or part in ("__pycache__", ".ipynb_checkpoints")
            for part in path.parts
        )
        or path.suffix == ".pyc"
    )


def release_files(folder: Path) -> dict[str, bytes]:
    """relative path -> bytes of every file of a release folder (debris ignored)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not _ignored(p.relative_to(folder))
    }


def first_difference(a: bytes, b: bytes) -> str:
    """Where two versions of a file first differ, for a readable failure message."""
    la, lb = a.decode("utf-8", "replace").splitlines(), b.decode("utf-8", "replace").splitlines()
    for i, (x, y) in enumerate(zip(la, lb), start=1):
        if x != y:
            return f"line {i}: committed {x.strip()[:100]!r} vs generated {y.strip()[:100]!r}"
    return f"one is a prefix of the other ({len(la)} vs {len(lb)} lines)"
