"""An assignment described as data: the spec file in the assignment's source folder.

The engine knows no course. Everything it needs to know about one assignment is in
``source/<assignment>/assignment.toml``::

    id = "hw1"                          # the nbgrader assignment id (the folder's name)
    title = "Homework 1"                # optional, for help texts and reports
    notebooks = ["01_intro", "02_more"] # in order, without .ipynb
    release_files = ["helpers.py"]      # shipped beside the notebooks; restored at grading
    budget_seconds = 60                 # what `validate` allows a solved notebook
    preload = ["scipy.optimize"]        # libraries answer cells import: warm kernels have
                                        # them imported already (optional; never course files)

    [content]
    dir = "content"                     # the notebooks' cells as text files (see
                                        # autograder.notebooks); optional

    [checks]
    dir = "checks"                      # the hidden checks: a Python package folder
    call_stage = ["inputs"]             # its modules that build inputs next to student
                                        # code (copied into the sandbox); never verdicts
    selfcheck = "selfcheck"             # optional module with facts() for `selfcheck`

    [reference]
    package = "solutions"               # importable name of the reference solutions
    path = "../.."                      # folder put on sys.path to import it (optional)

Paths are relative to the spec file. The folder may hold more (the content, the checks);
only the notebooks and `release_files` ever reach the release
(:meth:`AssignmentSpec.private_entries` is what nbgrader is told to ignore).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SPEC_FILE = "assignment.toml"
ASSIGNMENT_ENV = "AUTOGRADER_ASSIGNMENT"
"""Environment variable naming the assignment spec a process grades (file or folder): the
grader sets it for kernels that run hidden checks themselves."""
DEFAULT_BUDGET_SECONDS = 60.0
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_KNOWN = {
    "": {"id", "title", "notebooks", "release_files", "budget_seconds", "preload", "content",
         "checks", "reference"},
    "content": {"dir"},
    "checks": {"dir", "call_stage", "selfcheck"},
    "reference": {"package", "path"},
}  # fmt: skip


@dataclass(frozen=True)
class AssignmentSpec:
    """One assignment, as its spec file describes it (absolute paths)."""

    id: str
    root: Path
    notebooks: tuple[str, ...]
    release_files: tuple[str, ...] = ()
    title: str = ""
    budget_seconds: float = DEFAULT_BUDGET_SECONDS
    content_dir: Path | None = None
    checks_dir: Path | None = None
    call_stage: tuple[str, ...] = ()
    selfcheck: str | None = None
    reference_package: str | None = None
    reference_path: Path | None = None
    preload: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        """The spec file."""
        return self.root / SPEC_FILE

    @property
    def checks_package(self) -> str:
        """The module name the checks package is imported under (one per assignment)."""
        return re.sub(r"\W", "_", self.id) + "_checks"

    def notebook_files(self) -> list[str]:
        return [f"{name}.ipynb" for name in self.notebooks]

    def released_names(self) -> set[str]:
        """Everything of the source folder that belongs in the release."""
        return {*self.notebook_files(), *self.release_files}

    def private_entries(self) -> list[str]:
        """Entries of the source folder that must never be released (the spec, the
        content, the checks, anything else that is not a notebook or a release file)."""
        names = {SPEC_FILE}
        for folder in (self.content_dir, self.checks_dir):
            if folder is not None and folder.parent == self.root:
                names.add(folder.name)
        if self.root.is_dir():
            names.update(p.name for p in self.root.iterdir() if p.name not in self.released_names())
        return sorted(names)

    def staff_paths(self) -> list[Path]:
        """Folders of this assignment that only staff may see: its checks, its content (the
        model answers and hidden cells) and its reference package."""
        paths = [p for p in (self.checks_dir, self.content_dir) if p is not None]
        if self.reference_package:
            top = self.reference_package.split(".")[0]
            base = self.reference_path
            if base is not None and (base / top).exists():
                paths.append(base / top)
        return paths


def _require(cond: bool, path: Path, message: str) -> None:
    if not cond:
        raise SpecError(f"{path}: {message}")


def _strings(value: Any, path: Path, key: str, pattern: re.Pattern[str] | None = None) -> tuple:
    _require(
        isinstance(value, list) and all(isinstance(v, str) and v for v in value),
        path,
        f"`{key}` must be a list of non-empty strings",
    )
    if pattern is not None:
        bad = [v for v in value if not pattern.match(v)]
        _require(not bad, path, f"`{key}` has invalid names: {bad}")
    _require(len(set(value)) == len(value), path, f"`{key}` lists a name twice")
    return tuple(value)


def _folder(base: Path, value: Any, path: Path, key: str, *, must_exist: bool) -> Path:
    _require(isinstance(value, str) and value, path, f"`{key}` must be a non-empty path")
    folder = (base / value).resolve()
    if must_exist:
        _require(folder.is_dir(), path, f"`{key}` = {value!r}: no folder {folder}")
    return folder


def _check_keys(table: Mapping[str, Any], section: str, path: Path) -> None:
    unknown = sorted(set(table) - _KNOWN[section])
    where = f"[{section}]" if section else "the top level"
    _require(not unknown, path, f"unknown key(s) {unknown} in {where}")


def load_spec(path: str | os.PathLike[str]) -> AssignmentSpec:
    """Read an assignment spec: `path` is the spec file or the folder holding it.

    Raises :class:`SpecError` naming the file and the key for anything missing or wrong.
    """
    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILE
    path = path.resolve()
    if not path.is_file():
        raise SpecError(f"no assignment spec: {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the assignment spec: {exc}") from None
    root = path.parent
    _check_keys(data, "", path)
    for section in ("content", "checks", "reference"):
        _require(isinstance(data.get(section, {}), dict), path, f"[{section}] must be a table")
        _check_keys(data.get(section, {}), section, path)

    ident = data.get("id")
    _require(isinstance(ident, str) and bool(_ID.match(ident)), path, "`id` must be a name")
    _require(
        ident == root.name,
        path,
        f"`id` is {ident!r} but the folder is {root.name!r}: nbgrader finds an assignment "
        "by its folder's name",
    )
    notebooks = _strings(data.get("notebooks"), path, "notebooks")
    _require(bool(notebooks), path, "`notebooks` is empty")
    _require(
        not any(n.endswith(".ipynb") or "/" in n for n in notebooks),
        path,
        "`notebooks` are names without .ipynb or folders",
    )
    release_files = _strings(data.get("release_files", []), path, "release_files")
    _require(
        not any("/" in f or f in (SPEC_FILE,) or f.endswith(".ipynb") for f in release_files),
        path,
        "`release_files` are plain file names beside the notebooks (not notebooks)",
    )
    budget = data.get("budget_seconds", DEFAULT_BUDGET_SECONDS)
    _require(
        isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget > 0,
        path,
        "`budget_seconds` must be a positive number",
    )
    title = data.get("title", "")
    _require(isinstance(title, str), path, "`title` must be a string")
    preload = _strings(data.get("preload", []), path, "preload", _PACKAGE)

    content = data.get("content", {})
    content_dir = (
        _folder(root, content["dir"], path, "content.dir", must_exist=True)
        if "dir" in content
        else None
    )
    checks = data.get("checks", {})
    checks_dir = None
    call_stage: tuple[str, ...] = ()
    selfcheck = None
    if checks:
        checks_dir = _folder(root, checks.get("dir", "checks"), path, "checks.dir", must_exist=True)
        _require(
            (checks_dir / "__init__.py").is_file(),
            path,
            f"the checks folder {checks_dir} is not a package (no __init__.py)",
        )
        call_stage = _strings(checks.get("call_stage", []), path, "checks.call_stage", _MODULE)
        for module in call_stage:
            _require(
                (checks_dir / f"{module}.py").is_file(),
                path,
                f"`checks.call_stage` names {module!r}, but {checks_dir / module}.py is missing",
            )
        selfcheck = checks.get("selfcheck")
        _require(
            selfcheck is None or (isinstance(selfcheck, str) and bool(_MODULE.match(selfcheck))),
            path,
            "`checks.selfcheck` must be a module name",
        )
    reference = data.get("reference", {})
    package = reference.get("package")
    _require(
        package is None or (isinstance(package, str) and bool(_PACKAGE.match(package))),
        path,
        "`reference.package` must be an importable name",
    )
    ref_path = (
        _folder(root, reference["path"], path, "reference.path", must_exist=True)
        if "path" in reference
        else None
    )
    return AssignmentSpec(
        id=ident,
        root=root,
        notebooks=notebooks,
        release_files=release_files,
        title=title,
        budget_seconds=float(budget),
        content_dir=content_dir,
        checks_dir=checks_dir,
        call_stage=call_stage,
        selfcheck=selfcheck,
        reference_package=package,
        reference_path=ref_path,
        preload=preload,
    )


def find_specs(source_root: str | os.PathLike[str]) -> dict[str, AssignmentSpec]:
    """Every assignment spec directly below `source_root` (``<id>/assignment.toml``), by id."""
    root = Path(source_root)
    if not root.is_dir():
        return {}
    specs = {}
    for path in sorted(root.glob(f"*/{SPEC_FILE}")):
        spec = load_spec(path)
        specs[spec.id] = spec
    return specs


def choose(specs: Mapping[str, AssignmentSpec], wanted: str | None, where: str) -> AssignmentSpec:
    """The spec named `wanted`, or the only one when `wanted` is None."""
    if wanted is not None:
        if wanted in specs:
            return specs[wanted]
        known = ", ".join(sorted(specs)) or "none"
        raise SpecError(f"no assignment {wanted!r} in {where} (assignments: {known})")
    if len(specs) == 1:
        return next(iter(specs.values()))
    if not specs:
        raise SpecError(f"no assignment in {where}: each assignment needs source/<id>/{SPEC_FILE}")
    raise SpecError(
        f"{where} has several assignments ({', '.join(sorted(specs))}): pass --assignment"
    )


def discover(start: str | os.PathLike[str] | None = None) -> AssignmentSpec | None:
    """The assignment a process working in `start` (default: the cwd) belongs to, or None.

    An `assignment.toml` in `start` or a parent wins (an instructor running a source
    notebook); else the course directory above (the first folder with an
    `nbgrader_config.py`) and its only assignment, or the one whose id is a component of
    the path (plain ``nbgrader autograde`` runs in ``autograded/<student>/<id>/``).
    """
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SPEC_FILE).is_file():
            return load_spec(folder / SPEC_FILE)
        if (folder / "nbgrader_config.py").is_file():
            specs = find_specs(folder / "source")
            if len(specs) == 1:
                return next(iter(specs.values()))
            for part in reversed(here.relative_to(folder).parts):
                if part in specs:
                    return specs[part]
            return None
    return None


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def to_toml(spec: AssignmentSpec) -> str:
    """The spec as a spec file, with absolute paths: what a copy of the assignment's
    notebooks elsewhere (a temporary course) uses to reach the same checks and reference."""
    lines = [
        "# Written by autograder: a copy of " + str(spec.path),
        f"id = {_toml_str(spec.id)}",
        f"title = {_toml_str(spec.title)}",
        f"notebooks = {_toml_list(spec.notebooks)}",
        f"release_files = {_toml_list(spec.release_files)}",
        f"budget_seconds = {spec.budget_seconds!r}",
        f"preload = {_toml_list(spec.preload)}",
    ]
    if spec.content_dir is not None:
        lines += ["", "[content]", f"dir = {_toml_str(str(spec.content_dir))}"]
    if spec.checks_dir is not None:
        lines += [
            "",
            "[checks]",
            f"dir = {_toml_str(str(spec.checks_dir))}",
            f"call_stage = {_toml_list(spec.call_stage)}",
        ]
        if spec.selfcheck:
            lines.append(f"selfcheck = {_toml_str(spec.selfcheck)}")
    if spec.reference_package:
        lines += ["", "[reference]", f"package = {_toml_str(spec.reference_package)}"]
        if spec.reference_path is not None:
            lines.append(f"path = {_toml_str(str(spec.reference_path))}")
    return "\n".join(lines) + "\n"
