"""The seam between the engine and the courses stays clean.

- Nothing under autograder/ names a course: no assignment id, notebook, helper module or
  graded function of any assignment in source/ (read from the specs and registries).
- The engine's modules import each other without cycles (imports inside functions count).
- No hand-written module is over 800 lines (generated files excepted).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder.checks import registry
from autograder.spec import find_specs

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "autograder"
MAX_MODULE_LINES = 800
#: Words of the course that the engine must not contain (beyond the graded names, which are
#: collected from the registry): its subject, its helper module, its notebooks' topics.
COURSE_WORDS = ("landscape", "lottery", "bezier", "hutchinson", "mode_connectivity")


def engine_modules() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def course_names() -> set[str]:
    """Every name that identifies a course: assignment ids, notebook names, release files
    (without .py), graded item names of every assignment."""
    names: set[str] = set()
    for spec in find_specs(REPO / "source").values():
        names.add(spec.id)
        names.update(spec.notebooks)
        names.update(Path(f).stem for f in spec.release_files)
        registry.load(spec)
        names.update(registry.graded_functions(spec.id))
    return names


def test_no_course_name_in_the_engine() -> None:
    names = course_names()
    # graded names shorter than this are ordinary words ("rewind"); the ids and notebooks
    # and the course words are checked whatever their length
    words = {n for n in names if len(n) >= 8 or "_" in n} | set(COURSE_WORDS)
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words))) + r")", re.I)
    found = []
    for path in engine_modules():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = pattern.search(line)
            if match:
                found.append(
                    f"{path.relative_to(REPO)}:{number}: {match.group(0)!r}: {line.strip()}"
                )
    assert not found, "the engine names a course:\n" + "\n".join(found)


def test_engine_never_imports_a_reference_or_checks_package() -> None:
    """The engine reaches an assignment's reference and checks only through its spec."""
    packages = set()
    for spec in find_specs(REPO / "source").values():
        packages.add(spec.checks_package)
        if spec.reference_package:
            packages.add(spec.reference_package.split(".")[0])
    pattern = re.compile(
        r"^\s*(?:from|import)\s+(" + "|".join(sorted(packages)) + r")\b", re.MULTILINE
    )
    found = [
        f"{p.relative_to(REPO)}: {m.group(0).strip()}"
        for p in engine_modules()
        for m in pattern.finditer(p.read_text(encoding="utf-8"))
    ]
    assert not found, found


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    """The engine modules `path` imports, anywhere in it (functions included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return {n for n in out if n == "autograder" or n.startswith("autograder.")}


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in engine_modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path, name):
            # `from pkg import mod` names a module; `from mod import func` names its module
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_engine_has_no_import_cycle() -> None:
    graph = import_graph()
    # packages import their own modules to re-export them: an edge from a package to its
    # child is not a cycle of the design
    pruned = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    assert not cycles(pruned), cycles(pruned)


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _hand_written(path: Path) -> bool:
    rel = path.relative_to(REPO)
    return rel.parts[0] in ("autograder", "solutions", "source", "tests", "benchmarks")


@pytest.mark.parametrize("top", ["autograder", "solutions", "source", "benchmarks"])
def test_no_module_over_800_lines(top: str) -> None:
    too_big = []
    for path in sorted((REPO / top).rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{path.relative_to(REPO)}: {lines} lines")
    assert not too_big, too_big
