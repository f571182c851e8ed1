"""An nbgrader course directory as the instructor verbs see it, and the `nbgrader` command.

Every verb works on one assignment of a course dir: `nbgrader_config.py`,
`source/<assignment>/` with its spec (`assignment.toml`, :mod:`autograder.spec`), the release
dir (``CourseDirectory.release_directory``), `gradebook.db`, `submitted/`, `autograded/`,
`feedback/`. The folder names are read from the course's own `nbgrader_config.py`, so a
course that renames them keeps working. Without ``--assignment`` a verb takes the course's
only assignment.

nbgrader runs `alembic` from PATH when it opens a gradebook, and kernels must use this
Python: every nbgrader subprocess gets this interpreter's `bin/` first on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import PipelineError, SpecError
from autograder.spec import SPEC_FILE, AssignmentSpec, choose, find_specs, to_toml

CONFIG_NAME = "nbgrader_config.py"

NBGRADER_TIMEOUT = 3600.0
"""Seconds an nbgrader subprocess may run before it is stopped (a safety net only)."""

IGNORED_PATTERNS = ("*.egg-info", "__pycache__", "*.pyc", ".ipynb_checkpoints")
"""Files that never belong to a release: build and editor debris (the editable install
leaves `*.egg-info` beside an installed helper module)."""


@dataclass(frozen=True)
class Course:
    """The folders of one assignment of an nbgrader course directory (absolute paths)."""

    root: Path
    assignment: str
    spec: AssignmentSpec
    course_id: str
    source_dir: Path
    release_dir: Path
    submitted_root: Path
    autograded_root: Path
    feedback_root: Path
    db_url: str
    ignore: tuple[str, ...]

    @property
    def exports_dir(self) -> Path:
        """``exports/<assignment>``: grades.csv, the records, the Gradescope results."""
        return self.root / "exports" / self.assignment

    @property
    def reports_dir(self) -> Path:
        """``reports/<assignment>``: the grading report."""
        return self.root / "reports" / self.assignment

    def submitted_dir(self, student: str) -> Path:
        return self.submitted_root / student / self.assignment

    def autograded_dir(self, student: str) -> Path:
        return self.autograded_root / student / self.assignment

    def feedback_dir(self, student: str) -> Path:
        return self.feedback_root / student / self.assignment

    def source_notebooks(self) -> list[Path]:
        """The instructor notebooks of the spec that exist, in the spec's order."""
        paths = [self.source_dir / f for f in self.spec.notebook_files()]
        return [p for p in paths if p.is_file()]

    def release_notebooks(self) -> list[Path]:
        """The released notebooks of the spec that exist, in the spec's order."""
        paths = [self.release_dir / f for f in self.spec.notebook_files()]
        return [p for p in paths if p.is_file()]

    def notebook_names(self) -> list[str]:
        """The assignment's notebook names without `.ipynb`, in the spec's order."""
        return list(self.spec.notebooks)

    def students_submitted(self) -> list[str]:
        """Every student with a `submitted/<student>/<assignment>/` folder, sorted."""
        if not self.submitted_root.is_dir():
            return []
        return sorted(
            p.name for p in self.submitted_root.iterdir() if (p / self.assignment).is_dir()
        )

    def students_autograded(self) -> list[str]:
        if not self.autograded_root.is_dir():
            return []
        return sorted(
            p.name for p in self.autograded_root.iterdir() if (p / self.assignment).is_dir()
        )


def assignments_of(course_dir: str | os.PathLike[str]) -> dict[str, AssignmentSpec]:
    """The specs of every assignment of a course dir (``<source>/<id>/assignment.toml``)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(course_dir).resolve()
    if not (root / CONFIG_NAME).is_file():
        raise PipelineError(
            f"{root} is not an nbgrader course directory: it has no {CONFIG_NAME} "
            "(pass --course-dir)"
        )
    config = PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config()
    coursedir = CourseDirectory(config=config)
    return find_specs(root / coursedir.source_directory)


def open_course(course_dir: str | os.PathLike[str], assignment: str | None = None) -> Course:
    """Read `<course_dir>/nbgrader_config.py` and return the folders of one assignment:
    `assignment`, or the course's only one when it is None.

    Raises PipelineError if `course_dir` has no nbgrader_config.py, or the assignment has
    no spec (or several exist and none is named).
    """
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(course_dir).resolve()
    if not (root / CONFIG_NAME).is_file():
        raise PipelineError(
            f"{root} is not an nbgrader course directory: it has no {CONFIG_NAME} "
            "(pass --course-dir)"
        )
    config = PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config()
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(root)

    source_root = root / coursedir.source_directory
    try:
        spec = choose(find_specs(source_root), assignment, str(source_root))
    except SpecError as exc:
        raise PipelineError(str(exc)) from None

    def folder(name: str, student: str) -> Path:
        return Path(coursedir.format_path(name, student, spec.id)).resolve()

    return Course(
        root=root,
        assignment=spec.id,
        spec=spec,
        course_id=coursedir.course_id,
        source_dir=folder(coursedir.source_directory, "."),
        release_dir=folder(coursedir.release_directory, "."),
        submitted_root=(root / coursedir.submitted_directory).resolve(),
        autograded_root=(root / coursedir.autograded_directory).resolve(),
        feedback_root=(root / coursedir.feedback_directory).resolve(),
        db_url=coursedir.db_url,
        ignore=tuple(coursedir.ignore),
    )


# ---------------------------------------------------------------------------------------------
# The nbgrader command


def venv_bin() -> Path:
    """The `bin/` of this Python (nbgrader, alembic, jupyter)."""
    return Path(sys.executable).parent


def nbgrader_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with this Python's `bin/` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def nbgrader_command() -> list[str]:
    exe = venv_bin() / "nbgrader"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "nbgrader"]  # pragma: no cover - no console script


def config_list(name: str, values: Sequence[str]) -> str:
    """A command-line option setting the list trait `name` (e.g. "Class.trait") to `values`."""
    return f"--{name}=" + repr([str(v) for v in values])


def run_nbgrader(
    course_dir: str | os.PathLike[str],
    *args: str,
    timeout: float = NBGRADER_TIMEOUT,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `nbgrader *args` with `course_dir` as the working directory.

    Raises PipelineError (carrying nbgrader's output) when `check` and the command fails,
    which includes an exit code 0 with an ``| ERROR]`` log line (nbgrader reports some
    per-notebook failures that way).
    """
    cmd = [*nbgrader_command(), *args]
    try:
        proc = subprocess.run(
            cmd,
            cwd=str(course_dir),
            env=nbgrader_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PipelineError(
            f"`nbgrader {' '.join(args)}` did not finish within {timeout:.0f} s"
        ) from exc
    if check and (proc.returncode != 0 or "| ERROR]" in proc.stderr):
        raise PipelineError(
            f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}) in {course_dir}\n"
            f"{_tail(proc.stdout)}{_tail(proc.stderr)}"
        )
    return proc


def _tail(text: str, limit: int = 4000) -> str:
    text = text.strip()
    if not text:
        return ""
    return ("..." + text[-limit:] if len(text) > limit else text) + "\n"


# ---------------------------------------------------------------------------------------------
# Temporary course copies (validate, demo, tests)


def copy_course(course: Course, dest: str | os.PathLike[str], *, release: bool = True) -> Course:
    """A new course dir at `dest` with `course`'s config, the assignment's source notebooks
    and release files, and (optionally) its release.

    The copy's spec points at the original's checks, content and reference (absolute
    paths): they are staff code, not course state. Generated state (gradebook,
    submissions, grades) is not copied.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(course.root / CONFIG_NAME, dest / CONFIG_NAME)
    ignore = shutil.ignore_patterns(*IGNORED_PATTERNS)
    source = dest / course.source_dir.relative_to(course.root)
    source.mkdir(parents=True, exist_ok=True)
    for name in sorted(course.spec.released_names()):
        path = course.source_dir / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore, dirs_exist_ok=True)
        elif path.is_file():
            shutil.copy2(path, source / name)
    (source / SPEC_FILE).write_text(to_toml(course.spec), encoding="utf-8")
    if release and course.release_dir.is_dir():
        shutil.copytree(
            course.release_dir,
            dest / course.release_dir.relative_to(course.root),
            ignore=ignore,
            dirs_exist_ok=True,
        )
    return open_course(dest, course.assignment)
