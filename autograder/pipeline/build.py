"""`autograder build`: check the source notebooks, generate the release, check it for leaks.

0. :func:`build_source_notebooks` builds the source notebooks from the assignment's content
   files (:mod:`autograder.content`), when its spec has a ``[content]`` dir.
1. :func:`check_source` reads every source notebook and reports, naming the notebook and
   the cell: unreadable notebooks, malformed nbgrader metadata, duplicate grade ids or cell
   ids, grade cells without points (or negative points), unbalanced BEGIN/END SOLUTION or
   HIDDEN TESTS markers, hidden-test regions outside grade cells, check calls outside a
   hidden-test region, and `check_function` / `check_answer` calls whose name or part is
   not in the hidden-check registry.
2. ``nbgrader generate_assignment <assignment> --force`` (the course config's
   ``db_assignments`` registers the assignment in the gradebook); build debris such as
   ``*.egg-info`` is never copied, and neither is anything of the source folder that is not a
   notebook or a release file of the assignment's spec (the spec, its content and checks);
   every release file must be in the release, identical to the source copy.
3. :func:`find_leaks` checks every released file: nothing but the notebooks and release
   files, no solution or hidden-test marker, no check call, no model answer or rubric, no
   import of the staff packages (the engine, the reference, the checks), and no line of a
   solution region, hidden-test region or manually graded answer of the source, or of an
   explanation of the content (those reach students only in feedback, after grading).
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import shutil
import warnings as warnings_module
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import pyparse
from autograder.checks import registry
from autograder.errors import SpecError
from autograder.spec import SPEC_FILE, AssignmentSpec, load_spec

from .course import (
    IGNORED_PATTERNS,
    Course,
    PipelineError,
    config_list,
    open_course,
    run_nbgrader,
)
from .secret import ensure_secret

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CHECK_CALLS = ("check_function", "check_answer")

FORBIDDEN_IN_RELEASE = (
    BEGIN_SOLUTION,
    END_SOLUTION,
    BEGIN_HIDDEN,
    END_HIDDEN,
    *CHECK_CALLS,
    "Model answer and rubric",
)
"""Strings that must never reach a released file."""

ENGINE_PACKAGE = "autograder"


def staff_import(packages: Iterable[str]) -> re.Pattern[str]:
    """An import of one of the staff `packages`, in any common form."""
    names = "|".join(re.escape(p) for p in sorted(set(packages)))
    return re.compile(
        rf"^\s*(?:from|import)\s+(?:{names})\b"
        rf"|import_module\(\s*['\"](?:{names})\b"
        rf"|__import__\(\s*['\"](?:{names})\b",
        re.MULTILINE,
    )


def staff_packages(spec: AssignmentSpec | None) -> list[str]:
    """What students must never import: the engine, the reference, the checks package."""
    packages = [ENGINE_PACKAGE]
    if spec is not None:
        if spec.reference_package:
            packages.append(spec.reference_package.split(".")[0])
        packages.append(spec.checks_package)
    return packages


STAFF_IMPORT = staff_import([ENGINE_PACKAGE])
"""An import of the engine, in any common form (with no assignment at hand)."""

MIN_SECRET_LINE = 12
"""Stripped lines shorter than this are too common to count as a leaked solution line."""

GRADE_ID = re.compile(r"^[A-Za-z0-9_\-]+$")
"""What a grade id may contain (nbgrader uses it in file names and URLs)."""


@dataclass(frozen=True)
class SourceProblem:
    """One problem of one cell (or of the whole notebook when `index` is None)."""

    notebook: str
    index: int | None
    cell_id: str | None
    grade_id: str | None
    message: str

    def __str__(self) -> str:
        if self.index is None:
            return f"{self.notebook}: {self.message}"
        where = [f"cell {self.index + 1}"]
        if self.cell_id:
            where.append(f"id {self.cell_id!r}")
        if self.grade_id and self.grade_id != self.cell_id:
            where.append(f"grade_id {self.grade_id!r}")
        return f"{self.notebook}, {', '.join(where)}: {self.message}"


# ---------------------------------------------------------------------------------------------
# 1. Source checks


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str], str | None]:
    """(lines inside begin/end regions, lines outside, error or None) of one cell source."""
    inside: list[str] = []
    outside: list[str] = []
    depth = 0
    for line in source.splitlines():
        if begin in line:
            if depth:
                return inside, outside, f"nested {begin!r}"
            depth = 1
        elif end in line:
            if not depth:
                return inside, outside, f"{end!r} without {begin!r}"
            depth = 0
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    if depth:
        return inside, outside, f"{begin!r} without {end!r}"
    return inside, outside, None


def _check_calls(source: str) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    """The check calls of a code cell as (function, name, part) and what could not be read."""
    try:
        tree = pyparse.parse(source)
    except SyntaxError:
        # IPython magics or a syntax error: fall back on a regular expression.
        calls = []
        for match in re.finditer(
            r"\b(check_function|check_answer)\(\s*(['\"])(\w+)\2(?:.*?part\s*=\s*(['\"])(\w+)\4)?",
            source,
        ):
            calls.append((match.group(1), match.group(3), match.group(5)))
        return calls, []
    calls: list[tuple[str, str, str | None]] = []
    unreadable: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if fname not in CHECK_CALLS:
            continue
        name = node.args[0] if node.args else None
        part_node = next((k.value for k in node.keywords if k.arg == "part"), None)
        if part_node is None and len(node.args) >= 3:
            part_node = node.args[2]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            unreadable.append(f"{fname}(...) whose first argument is not a string literal")
            continue
        if part_node is None or (isinstance(part_node, ast.Constant) and part_node.value is None):
            part = None
        elif isinstance(part_node, ast.Constant) and isinstance(part_node.value, str):
            part = part_node.value
        else:
            unreadable.append(f"{fname}({name.value!r}, ...) whose part is not a string literal")
            continue
        calls.append((fname, name.value, part))
    return calls, unreadable


def _registry_problems(
    fname: str, name: str, part: str | None, assignment: str | None
) -> str | None:
    table = registry.checks_of(assignment)
    checks = table.get(name)
    if checks is None:
        return (
            f"{fname}({name!r}, ...) names no registered hidden check; registered: "
            f"{', '.join(sorted(table))}"
        )
    if part is not None and part not in checks.parts:
        return (
            f"{fname}({name!r}, part={part!r}): {name!r} has no part {part!r}; its parts are "
            f"{', '.join(checks.parts)}"
        )
    if fname == "check_answer" and checks.kind != "value":
        return f"check_answer({name!r}, ...): {name!r} is a graded function, use check_function"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_notebook(
    path: Path, assignment: str | None = None
) -> tuple[list[SourceProblem], list[str]]:
    """(problems, warnings) of one source notebook; check calls are looked up in the hidden
    checks of `assignment` (loaded; default: the registry's default)."""
    name = path.name
    problems: list[SourceProblem] = []
    warnings: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
        # cell ids as written (nbformat silently renames duplicates when it reads)
        raw_ids = [c.get("id") for c in json.loads(text).get("cells", [])]
        with warnings_module.catch_warnings():
            warnings_module.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # unreadable JSON, not a notebook
        return [SourceProblem(name, None, None, None, f"not a readable notebook: {exc}")], []
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problems.append(
            SourceProblem(name, None, None, None, f"not a valid nbformat 4 notebook: {exc.message}")
        )

    first_grade_id: dict[str, int] = {}
    first_cell_id: dict[str, int] = {}
    covered: dict[str, set[str]] = {}
    total_points = 0.0
    for index, cell in enumerate(nb.cells):
        cell_id = raw_ids[index] if index < len(raw_ids) else cell.get("id")
        meta = cell.get("metadata", {}).get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None

        def report(message: str, cell_id=cell_id, grade_id=grade_id, index=index) -> None:
            problems.append(SourceProblem(name, index, cell_id, grade_id, message))

        if cell_id is not None:
            if cell_id in first_cell_id:
                report(
                    f"duplicate cell id {cell_id!r} (first used by cell "
                    f"{first_cell_id[cell_id] + 1})"
                )
            else:
                first_cell_id[cell_id] = index

        source = cell.get("source", "")
        solution_lines, _, sol_error = _regions(source, BEGIN_SOLUTION, END_SOLUTION)
        hidden_lines, public_lines, hidden_error = _regions(source, BEGIN_HIDDEN, END_HIDDEN)
        for error in (sol_error, hidden_error):
            if error:
                report(f"unbalanced markers: {error}")

        graded = solution = False
        if meta is not None:
            if not isinstance(meta, dict):
                report("nbgrader metadata is not a mapping")
                continue
            for key in ("grade", "solution", "locked"):
                if not isinstance(meta.get(key, False), bool):
                    report(
                        f"nbgrader metadata {key!r} must be true or false, got {meta.get(key)!r}"
                    )
            graded, solution = bool(meta.get("grade")), bool(meta.get("solution"))
            if graded or solution or meta.get("locked"):
                if not isinstance(grade_id, str) or not grade_id:
                    report("nbgrader cell without a grade_id")
                elif not GRADE_ID.match(grade_id):
                    report(f"grade_id {grade_id!r} may only contain letters, digits, _ and -")
                elif grade_id in first_grade_id:
                    report(
                        f"duplicate grade_id {grade_id!r} (first used by cell "
                        f"{first_grade_id[grade_id] + 1})"
                    )
                else:
                    first_grade_id[grade_id] = index
            if graded:
                if "points" not in meta:
                    report("grade cell without points (set nbgrader metadata 'points')")
                elif not _is_number(meta["points"]) or meta["points"] < 0:
                    report(f"points must be a number >= 0, got {meta['points']!r}")
                else:
                    total_points += float(meta["points"])
            if cell.cell_type == "markdown" and graded != solution and not meta.get("task"):
                report("a manually graded markdown cell must be both grade and solution")
        if solution_lines and not solution:
            report(f"{BEGIN_SOLUTION!r} region in a cell that is not a solution cell")
        if hidden_lines and not graded:
            report(f"{BEGIN_HIDDEN!r} region in a cell that is not a grade cell")

        if cell.cell_type != "code":
            continue
        calls, unreadable = _check_calls(source)
        for text in unreadable:
            report(f"cannot read {text}")
        for fname, check_name, part in calls:
            problem = _registry_problems(fname, check_name, part, assignment)
            if problem:
                report(problem)
            covered.setdefault(check_name, set()).add(part or "*")
        released_calls, _ = _check_calls("\n".join(public_lines))
        for fname, check_name, _part in released_calls:
            report(
                f"{fname}({check_name!r}, ...) outside a {BEGIN_HIDDEN!r} region "
                "would be released to students"
            )

    if not first_grade_id:
        warnings.append(f"{name}: no nbgrader cells at all")
    elif total_points <= 0:
        problems.append(SourceProblem(name, None, None, None, "the notebook has 0 points"))
    warnings.extend(_coverage_warnings(name, covered, assignment))
    return problems, warnings


def _coverage_warnings(
    notebook: str, covered: dict[str, set[str]], assignment: str | None
) -> list[str]:
    table = registry.checks_of(assignment)
    out = []
    for check_name, used in covered.items():
        checks = table.get(check_name)
        if checks is None or "*" in used:
            continue
        missing = [p for p in checks.parts if p not in used]
        if missing:
            out.append(
                f"{notebook}: hidden-check parts of {check_name!r} not graded: {', '.join(missing)}"
            )
    return out


def check_source(course: Course) -> tuple[list[SourceProblem], list[str]]:
    """(problems, warnings) of every source notebook of `course` (its checks are loaded)."""
    spec = course.spec
    registry.load(spec)
    notebooks = course.source_notebooks()
    if not notebooks:
        raise PipelineError(f"no source notebooks in {course.source_dir}")
    problems: list[SourceProblem] = []
    warnings: list[str] = []
    for name in spec.notebook_files():
        if not (course.source_dir / name).is_file():
            problems.append(
                SourceProblem(name, None, None, None, f"missing from {course.source_dir}")
            )
    for path in notebooks:
        p, w = check_notebook(path, spec.id)
        problems += p
        warnings += w
    for name in spec.release_files:
        if not (course.source_dir / name).is_file():
            problems.append(
                SourceProblem(
                    name,
                    None,
                    None,
                    None,
                    f"a release file of the spec, missing from {course.source_dir}",
                )
            )
    return problems, warnings


# ---------------------------------------------------------------------------------------------
# 3. Leak check


def _significant(line: str) -> str | None:
    text = line.strip()
    if len(text) < MIN_SECRET_LINE or not re.search(r"[A-Za-z0-9]", text):
        return None
    return text


def secret_lines(
    source_nbs: Iterable[NotebookNode], public_text: str = "", secret_text: str = ""
) -> set[str]:
    """Lines found only in the source notebooks' solution regions, hidden-test regions and
    manually graded answers, or in `secret_text` (e.g. the content's explanations): not in
    any public part of any source notebook, not in `public_text` (e.g. the released helper
    module), and not trivial."""
    secret: list[str] = secret_text.splitlines()
    public = {line.strip() for line in public_text.splitlines()}
    for source_nb in source_nbs:
        for cell in source_nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "markdown" and meta.get("solution"):
                secret.extend(cell.source.splitlines())
                continue
            solution, rest, _ = _regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
            hidden, rest, _ = _regions("\n".join(rest), BEGIN_HIDDEN, END_HIDDEN)
            secret.extend(solution + hidden)
            public.update(line.strip() for line in rest)
    return {s for line in secret if (s := _significant(line)) and s not in public}


def released_text(nb: NotebookNode) -> str:
    """Everything a student can read in a notebook: sources, outputs, attachments' names."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(str(out.get("text", "")))
            parts.extend(str(v) for v in out.get("data", {}).values())
            parts.extend(str(t) for t in out.get("traceback", []))
    return "\n".join(parts)


def _debris(rel: Path) -> bool:
    return (
        any(
            part.endswith(".egg-info") or part in ("__pycache__", ".ipynb_checkpoints")
            for part in rel.parts
        )
        or rel.suffix == ".pyc"
    )


def find_leaks(
    release_dir: Path, source_dir: Path, spec: AssignmentSpec | None = None
) -> list[str]:
    """Every way in which the released folder gives away solutions or hidden tests.

    With the assignment's `spec` (default: the spec in `source_dir`, if any), anything but
    its notebooks and release files is a leak too, and so is an import of its reference or
    checks package."""
    problems: list[str] = []
    texts: dict[Path, str] = {}
    if spec is None and (source_dir / SPEC_FILE).is_file():
        spec = load_spec(source_dir)
    allowed = spec.released_names() if spec is not None else None
    pattern = staff_import(staff_packages(spec))
    for path in sorted(p for p in release_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(release_dir)
        if _debris(rel):
            problems.append(f"{rel}: build debris must not be released")
            continue
        if allowed is not None and rel.parts[0] not in allowed:
            problems.append(
                f"{rel}: not a notebook or release file of the assignment: it must not be released"
            )
        if path.suffix == ".ipynb":
            try:
                texts[rel] = released_text(nbformat.read(str(path), as_version=4))
            except Exception:
                texts[rel] = path.read_text(encoding="utf-8", errors="replace")
        else:
            try:
                texts[rel] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # binary data file
    for rel, text in texts.items():
        for word in FORBIDDEN_IN_RELEASE:
            if word in text:
                problems.append(f"{rel}: contains {word!r}")
        for match in pattern.finditer(text):
            problems.append(f"{rel}: imports staff code: {match.group(0).strip()!r}")
    helpers = "\n".join(t for rel, t in texts.items() if rel.suffix != ".ipynb")
    sources = []
    for source_path in sorted(source_dir.glob("*.ipynb")):
        try:
            sources.append(nbformat.read(str(source_path), as_version=4))
        except Exception:
            continue
    secret = secret_lines(sources, public_text=helpers, secret_text=explanation_text(spec))
    for rel, text in texts.items():
        for line in sorted(secret & {line.strip() for line in text.splitlines()}):
            problems.append(
                f"{rel}: a line of a solution, hidden test, model answer or explanation of the "
                f"source is released: {line!r}"
            )
    return problems


def explanation_text(spec: AssignmentSpec | None) -> str:
    """Every explanation of the assignment's content, one after the other ("" without)."""
    if spec is None or spec.content_dir is None:
        return ""
    from autograder.content.parse import explanations

    try:
        return "\n".join(t for nb in spec.notebooks for t in explanations(spec, nb).values())
    except SpecError as exc:
        raise PipelineError(str(exc)) from None


# ---------------------------------------------------------------------------------------------
# 2. Generate, then the whole verb


def build_source_notebooks(course: Course, *, write: bool = True) -> list[str]:
    """Build the source notebooks from the spec's content files; returns the file names of
    those that differed from what was on disk (written when `write`)."""
    from autograder.content.builder import built_text

    stale = []
    for name in course.spec.notebooks:
        try:
            text = built_text(course.spec, name)
        except SpecError as exc:
            raise PipelineError(str(exc)) from None
        path = course.source_dir / f"{name}.ipynb"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
            if write:
                path.write_text(text, encoding="utf-8")
    return stale


def generate_release(course: Course) -> Path:
    """`nbgrader generate_assignment --force`, never copying build debris or the source
    folder's private entries (spec, content, checks); returns the release."""
    ignore = list(
        dict.fromkeys([*course.ignore, *IGNORED_PATTERNS, *course.spec.private_entries()])
    )
    run_nbgrader(
        course.root,
        "generate_assignment",
        course.assignment,
        "--force",
        config_list("CourseDirectory.ignore", ignore),
    )
    if not course.release_dir.is_dir():
        raise PipelineError(f"nbgrader did not create {course.release_dir}")
    for name in course.spec.release_files:
        helper_src = course.source_dir / name
        helper_rel = course.release_dir / name
        if helper_src.is_file() and (
            not helper_rel.is_file() or helper_rel.read_bytes() != helper_src.read_bytes()
        ):
            shutil.copy2(helper_src, helper_rel)
    return course.release_dir


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    assignment: str | None = None,
    check_only: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    """Build the source notebooks from their content, check them, generate the release and
    check it for leaks. With `check_only`, nothing is written: a source notebook that
    differs from what its content builds is a problem.

    Returns 0 on success; raises PipelineError listing every problem found.
    """
    course = open_course(course_dir, assignment)
    if course.spec.content_dir is not None:
        stale = build_source_notebooks(course, write=not check_only)
        if check_only and stale:
            raise PipelineError(
                _listing(
                    "source notebooks differ from what their content builds (run `autograder "
                    "build`)",
                    stale,
                )
            )
        for name in stale:
            out(f"built {course.source_dir / name} from {course.spec.content_dir}")
    problems, warnings = check_source(course)
    for warning in warnings:
        out(f"warning: {warning}")
    if problems:
        raise PipelineError(
            _listing(f"{len(problems)} problem(s) in the source notebooks", problems)
        )
    names = ", ".join(p.name for p in course.source_notebooks())
    out(f"source ok: {names}")
    if check_only:
        return 0
    secret = ensure_secret(course.root, out)
    release = generate_release(course)
    out(f"release generated: {release}")
    leaks = find_leaks(release, course.source_dir, course.spec)
    leaks += secret_leaks(release, secret)
    if leaks:
        raise PipelineError(_listing(f"the release in {release} leaks", leaks))
    out(f"leak check ok: {sum(1 for p in release.rglob('*') if p.is_file())} released files")
    return 0


def secret_leaks(release: Path, secret: bytes) -> list[str]:
    """Released files that hold the course secret (as hex text or raw bytes)."""
    found = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if secret.hex().encode() in data.lower() or secret in data:
            found.append(f"{path.relative_to(release)}: holds the course secret")
    return found


def _listing(title: str, items: Iterable[object]) -> str:
    return title + ":\n" + "\n".join(f"  - {item}" for item in items)
