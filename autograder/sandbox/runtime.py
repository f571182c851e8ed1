"""The probe runtime: the call stage, and nothing that judges, copied into the sandbox.

:func:`prepare_runtime` copies the engine's call-stage modules and an assignment's
call-stage modules and Python release files into the scratch dir, so the sandboxed process
can ``import autograder.checks.call`` but not the verdicts or the reference;
:func:`check_runtime_source` refuses a module that would import what judges.
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder import pyparse
from autograder.errors import SandboxError

from .types import ENGINE_DIR

# ---- the probe runtime -----------------------------------------------------------------------

#: The engine's call-stage modules copied into the probe runtime (relative to the engine's
#: package folder): the types, the call stage, the generic builders, the wire, the probe
#: driver and the exceptions they raise.
RUNTIME_MODULES = (
    "errors.py",
    "checks/types.py",
    "checks/call.py",
    "checks/builders.py",
    "sandbox/wire.py",
    "sandbox/probe.py",
)
#: The engine modules a runtime module may import: the runtime's own modules and the
#: packages holding them (stubs in the runtime). Every other engine module (the registry and
#: through it every verdict, the spec loader, the pipeline, the sandbox's set-up, the CLI)
#: is refused.
ALLOWED_ENGINE_MODULES = frozenset(
    {
        "autograder",
        "autograder.checks",
        "autograder.sandbox",
        *("autograder." + m[: -len(".py")].replace("/", ".") for m in RUNTIME_MODULES),
    }
)
RUNTIME_DIRNAME = ".agruntime"
REQUESTS_DIRNAME = "requests"
_RUNTIME_INIT = '"""Probe runtime: the call stage only (no verdicts, no reference)."""\n'


def _imports_of(source: str, package: str, watched: Sequence[str]) -> set[str]:
    """Absolute names of the modules `source` imports (relative imports resolved), plus
    string constants naming a module under one of the `watched` prefixes (the targets of
    ``importlib.import_module("...")``)."""
    names: set[str] = set()
    for node in ast.walk(pyparse.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(node.value == w or node.value.startswith(w + ".") for w in watched)
        ):
            names.add(node.value)
    return names


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@functools.lru_cache(maxsize=1)
def engine_modules() -> frozenset[str]:
    """The dotted names of every module and package of the engine."""
    names = set()
    for path in ENGINE_DIR.rglob("*.py"):
        parts = list(path.relative_to(ENGINE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.add(".".join(parts))
    return frozenset(names)


def check_runtime_source(
    source: str,
    package: str,
    *,
    filename: str = "?",
    forbidden: Sequence[str] = (),
    course_package: str | None = None,
    call_stage: Sequence[str] = (),
) -> None:
    """Raise :class:`SandboxError` if call-stage code would import what judges.

    Forbidden are the engine's modules outside :data:`ALLOWED_ENGINE_MODULES`, every name
    in `forbidden` (an assignment's reference package), and every module of the assignment's
    checks package `course_package` that is not one of its `call_stage` modules. A source
    that passed once passes again without being parsed (every notebook copies the runtime).
    """
    _check_source(source, package, filename, tuple(forbidden), course_package, tuple(call_stage))


@functools.lru_cache(maxsize=256)  # only what passed is kept: a failure raises every time
def _check_source(
    source: str,
    package: str,
    filename: str,
    forbidden: tuple[str, ...],
    course_package: str | None,
    call_stage: tuple[str, ...],
) -> None:
    watched = ["autograder", *forbidden, *([course_package] if course_package else [])]
    engine = engine_modules()
    for name in _imports_of(source, package, watched):
        if name in engine and name not in ALLOWED_ENGINE_MODULES:
            raise SandboxError(
                f"{filename} imports {name!r}, which is not part of the probe runtime: "
                "the probe runtime must not"
            )
        for bad in forbidden:
            if _under(name, bad):
                raise SandboxError(f"{filename} imports {name!r}: the probe runtime must not")
        if course_package and name.startswith(course_package + "."):
            module = name[len(course_package) + 1 :].split(".")[0]
            if module not in call_stage:
                raise SandboxError(
                    f"{filename} imports {name!r}, which is not a call-stage module of "
                    f"{course_package} ({', '.join(call_stage) or 'none'}): the probe runtime "
                    "must not"
                )


def prepare_runtime(
    scratch_dir: str | os.PathLike[str],
    *,
    spec: Any = None,
    release_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Copy the probe runtime into ``scratch_dir/.agruntime`` and return that directory.

    It is a minimal ``autograder`` package holding only the call stage (types, call,
    builders, the wire protocol, the in-sandbox probe driver, the exceptions) and, for an
    assignment `spec` (:class:`autograder.spec.AssignmentSpec`), its checks package with only
    the call-stage modules (``[checks] call_stage``) plus the assignment's Python release
    files, copied from `release_dir` (the trusted release; default the spec's source
    folder). Put it first on ``PYTHONPATH`` (:func:`default_env` does) and the sandboxed
    Python can ``import autograder.checks.call`` but neither a verdict nor the reference,
    which are not in it. Every copied module is checked not to import them. The files are
    read-only, and :func:`run_sandboxed` re-binds the directory read-only when it is a
    readable path.
    """
    runtime = Path(scratch_dir) / RUNTIME_DIRNAME
    if runtime.exists():
        _make_writable(runtime)
        shutil.rmtree(runtime)
    forbidden: list[str] = []
    course_package = None
    call_stage: tuple[str, ...] = ()
    if spec is not None:
        if spec.reference_package:
            forbidden.append(spec.reference_package.split(".")[0])
        course_package, call_stage = spec.checks_package, spec.call_stage
    files: list[tuple[Path, str, str]] = []  # (source file, runtime path, package)
    for rel in RUNTIME_MODULES:
        package = "autograder." + rel[: -len(".py")].replace("/", ".").rpartition(".")[0]
        files.append((ENGINE_DIR / rel, f"autograder/{rel}", package.rstrip(".")))
    if spec is not None and spec.checks_dir is not None:
        for module in call_stage:
            files.append(
                (spec.checks_dir / f"{module}.py", f"{course_package}/{module}.py", course_package)
            )
    for src, rel, package in files:
        source = src.read_text(encoding="utf-8")
        check_runtime_source(
            source,
            package,
            filename=str(src),
            forbidden=forbidden,
            course_package=course_package,
            call_stage=call_stage,
        )
        dest = runtime / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source, encoding="utf-8")
    inits = ["autograder", "autograder/checks", "autograder/sandbox"]
    if course_package and call_stage:
        inits.append(course_package)
    for pkg in inits:
        (runtime / pkg / "__init__.py").write_text(_RUNTIME_INIT, encoding="utf-8")
    if spec is not None:
        helpers = Path(release_dir) if release_dir is not None else spec.root
        for name in spec.release_files:
            if name.endswith(".py") and (helpers / name).is_file():
                shutil.copyfile(helpers / name, runtime / name)
    for path in sorted(runtime.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    # probe requests are written here by the grader (its owner) before the run; made before
    # the runtime directory itself turns read-only (only root could add it afterwards)
    (runtime / REQUESTS_DIRNAME).mkdir(mode=0o755)
    runtime.chmod(0o555)
    return runtime


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
