"""The hidden-check registry, namespaced per assignment: assignment → graded item → parts.

`check_function(name, fn, part=None)` is what a hidden test cell calls. It runs the three
stages in this process (as nbgrader expects); the sandboxed grader runs the same stages
split across processes, through :func:`cases`, :func:`autograder.checks.call.run_case` and
:func:`judge`.

An assignment's checks are a package in its source folder (see :mod:`autograder.spec`).
:func:`load` imports it; while it imports, :func:`make_checks` registers every graded item
under that assignment, so two assignments may both grade a function of the same name.

Which assignment a call means, when it does not say (`assignment=None`):

1. the default set by :func:`use_assignment` (the grader, the tests);
2. the spec named by the environment variable :data:`ASSIGNMENT_ENV` (a spec file or its
   folder; the grader sets it for kernels that run hidden checks themselves);
3. the only assignment loaded so far;
4. the assignment of the working directory (:func:`autograder.spec.discover`): a source
   notebook run by an instructor, or plain ``nbgrader autograde``.

Graded values (quiz letters, a dict of matches) are registered with `kind="value"` and
checked with `check_answer(name, value, part=None)` (or `check_function`, which accepts
them too): the call stage then runs :func:`~autograder.checks.call.value_call` of the
value, a function without arguments that returns it, so values go through the same three
stages as functions.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from autograder.errors import SpecError
from autograder.spec import ASSIGNMENT_ENV, AssignmentSpec, discover, load_spec

from .builders import import_builder_modules
from .call import run_case, value_call
from .types import Case, FunctionChecks, ItemKind, Outcome, Part

REGISTRY: dict[str, dict[str, FunctionChecks]] = {}
"""assignment id → graded item name → its checks, in registration order."""
SPECS: dict[str, AssignmentSpec] = {}
"""The spec of every loaded assignment."""

_lock = threading.RLock()
_loading: list[str] = []
_default: list[str] = []


# ---- loading ---------------------------------------------------------------------------------


def load(spec: AssignmentSpec | str | os.PathLike[str]) -> AssignmentSpec:
    """Import the checks package of an assignment (once) and return its spec.

    `spec` is an :class:`AssignmentSpec` or the path of a spec file (or its folder). The
    reference package's folder (``[reference] path``) is put on ``sys.path`` first, so the
    checks can import the reference by name, and the source folder last, so the call stage
    can import the assignment's helper modules (``release_files``). Raises SpecError if the spec has no checks or
    an assignment with the same id is loaded with other checks already.
    """
    if not isinstance(spec, AssignmentSpec):
        spec = load_spec(spec)
    with _lock:
        known = SPECS.get(spec.id)
        if known is not None:
            # a copy of the assignment (a temporary course) shares the original's checks
            if known.checks_dir != spec.checks_dir:
                raise SpecError(
                    f"assignment {spec.id!r} is loaded with the checks of {known.checks_dir} "
                    f"already; cannot load those of {spec.checks_dir} too"
                )
            return known
        if spec.checks_dir is None:
            raise SpecError(f"{spec.path}: the assignment has no [checks]")
        if spec.reference_path is not None and str(spec.reference_path) not in sys.path:
            sys.path.insert(0, str(spec.reference_path))
        if any(f.endswith(".py") for f in spec.release_files) and str(spec.root) not in sys.path:
            # the call stage imports the release's helper modules (the sandbox has the
            # release's copies; here, the source's), after anything installed
            sys.path.append(str(spec.root))
        SPECS[spec.id] = spec
        REGISTRY.setdefault(spec.id, {})
        _loading.append(spec.id)
        try:
            import_checks_package(spec)
            # the builders of the cases' inputs, whether or not a verdict module imports them
            import_builder_modules(f"{spec.checks_package}.{m}" for m in spec.call_stage)
        except BaseException:
            SPECS.pop(spec.id, None)
            REGISTRY.pop(spec.id, None)
            raise
        finally:
            _loading.pop()
        if not REGISTRY[spec.id]:
            raise SpecError(f"{spec.checks_dir}: the checks package registered no checks")
        return spec


def import_checks_package(spec: AssignmentSpec) -> ModuleType:
    """Import (or return) the package in ``spec.checks_dir`` as ``spec.checks_package``."""
    name = spec.checks_package
    module = sys.modules.get(name)
    if module is not None:
        return module
    assert spec.checks_dir is not None
    init = spec.checks_dir / "__init__.py"
    found = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(spec.checks_dir)]
    )
    if found is None or found.loader is None:  # pragma: no cover - a file that exists
        raise SpecError(f"cannot import the checks package {init}")
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module
    try:
        found.loader.exec_module(module)
    except BaseException:
        # drop the package and whatever of it was imported, so a fixed package loads again
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        raise
    return module


def loaded() -> list[str]:
    """The ids of the loaded assignments."""
    return list(SPECS)


@contextlib.contextmanager
def use_assignment(spec: AssignmentSpec | str | os.PathLike[str]) -> Iterator[AssignmentSpec]:
    """Load `spec` (a spec, an assignment id already loaded, or a spec path) and make it the
    default for calls that name no assignment, inside the `with` block."""
    resolved = _resolve_spec(spec)
    with _lock:
        _default.append(resolved.id)
    try:
        yield resolved
    finally:
        with _lock:
            _default.remove(resolved.id)


def set_default_assignment(spec: AssignmentSpec | str | os.PathLike[str]) -> AssignmentSpec:
    """Load `spec` and make it the default for the rest of this process."""
    resolved = _resolve_spec(spec)
    with _lock:
        _default.insert(0, resolved.id)
    return resolved


def _resolve_spec(spec: AssignmentSpec | str | os.PathLike[str]) -> AssignmentSpec:
    if isinstance(spec, str) and spec in SPECS:
        return SPECS[spec]
    return load(spec)


def current_assignment(assignment: str | None = None) -> str:
    """The id of the assignment a call means (see the module docstring)."""
    if assignment is not None:
        if assignment not in REGISTRY:
            known = ", ".join(REGISTRY) or "none"
            raise KeyError(
                f"no hidden checks loaded for assignment {assignment!r}; loaded: {known}"
            )
        return assignment
    if _loading:
        return _loading[-1]
    if _default:
        return _default[-1]
    env = os.environ.get(ASSIGNMENT_ENV)
    if env:
        return load(env).id
    if len(SPECS) == 1:
        return next(iter(SPECS))
    if not SPECS:
        found = discover()
        if found is not None:
            return load(found).id
        raise KeyError(
            "no assignment's hidden checks are loaded: set "
            f"{ASSIGNMENT_ENV} to the assignment's spec, or run in its course directory"
        )
    raise KeyError(
        f"several assignments are loaded ({', '.join(SPECS)}): say which one "
        "(assignment=..., use_assignment)"
    )


def spec_of(assignment: str | None = None) -> AssignmentSpec:
    return SPECS[current_assignment(assignment)]


# ---- registering -----------------------------------------------------------------------------


def register(checks: FunctionChecks) -> FunctionChecks:
    """Add the checks of one graded item to the assignment being loaded."""
    if not _loading:
        raise RuntimeError(
            f"checks for {checks.name!r} registered outside an assignment's checks package "
            "(load it with autograder.checks.load)"
        )
    table = REGISTRY[_loading[-1]]
    if checks.name in table:
        raise RuntimeError(f"checks for {checks.name!r} registered twice")
    if not checks.parts:
        raise RuntimeError(f"checks for {checks.name!r} have no parts")
    table[checks.name] = checks
    return checks


def make_checks(
    name: str, parts: list[Part], *, timeout: float = 10.0, kind: ItemKind = "function"
) -> FunctionChecks:
    """Build and register a :class:`FunctionChecks` from a list of parts (graded in order).

    `kind="value"` registers a graded value (e.g. a quiz letter) instead of a function.
    """
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise RuntimeError(f"duplicate part names for {name!r}: {names}")
    return register(
        FunctionChecks(name=name, parts={p.name: p for p in parts}, timeout=timeout, kind=kind)
    )


# ---- looking up ------------------------------------------------------------------------------


def checks_of(assignment: str | None = None) -> dict[str, FunctionChecks]:
    """Every graded item of an assignment, in registration order."""
    return REGISTRY[current_assignment(assignment)]


def lookup(name: str, assignment: str | None = None) -> FunctionChecks:
    """The checks of graded item `name`; KeyError naming the known ones if there are none."""
    table = checks_of(assignment)
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise KeyError(f"no hidden checks registered for {name!r}; known: {known}") from None


def graded_functions(assignment: str | None = None) -> list[str]:
    """Every graded item name with registered checks."""
    return list(checks_of(assignment))


def parts(name: str, assignment: str | None = None) -> list[str]:
    """The part names of `name`'s checks, in grading order."""
    return list(lookup(name, assignment).parts)


def get_part(name: str, part: str, assignment: str | None = None) -> Part:
    checks = lookup(name, assignment)
    try:
        return checks.parts[part]
    except KeyError:
        raise KeyError(f"{name!r} has no part {part!r}; parts: {list(checks.parts)}") from None


def cases(name: str, part: str, assignment: str | None = None) -> list[Case]:
    """Stage 1: the deterministic cases of one part."""
    return get_part(name, part, assignment).make_cases()


def timeout_of(name: str, assignment: str | None = None) -> float:
    return lookup(name, assignment).timeout


def judge(
    name: str, part: str, case: Case, outcome: Outcome, assignment: str | None = None
) -> str | None:
    """Stage 3: None if the outcome passes, else the feedback message."""
    return get_part(name, part, assignment).verdict(case, outcome)


def header(name: str, part: Part, index: int, total: int, case: Case) -> str:
    """The first line of a failed case's feedback."""
    return f"{name} [{part.name}: {part.description}] case {index} of {total} ({case.label}):"


# ---- the hidden-cell calls ---------------------------------------------------------------------


def check_function(
    name: str, fn: Any, part: str | None = None, *, assignment: str | None = None
) -> None:
    """Grade `fn` as the student's `name` on one part (or all parts when `part` is None).

    Returns None when every selected case passes; raises AssertionError with feedback (which
    case failed, what was expected, what came back, a hint) at the first failing case.
    """
    checks = lookup(name, assignment)
    selected = list(checks.parts) if part is None else [get_part(name, part, assignment).name]
    if fn is None:
        if checks.kind == "value":
            raise AssertionError(
                f"`{name}` is still None: replace None with your answer and run its cell"
            )
        raise AssertionError(f"`{name}` is not defined: run the cell that defines it")
    if checks.kind == "value":
        fn = value_call(fn)
    elif not callable(fn):
        raise AssertionError(
            f"`{name}` should be a function, but it is {type(fn).__name__}: "
            "did you overwrite it with a value?"
        )
    # nbgrader scores a test cell 0 if it writes anything to stderr: a harmless warning from
    # torch or from the student's code must not cost points, so warnings are silenced here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part_name in selected:
            p = checks.parts[part_name]
            case_list = p.make_cases()
            for i, case in enumerate(case_list, start=1):
                outcome = run_case(fn, case, timeout=checks.timeout)
                message = p.verdict(case, outcome)
                if message:
                    raise AssertionError(f"{header(name, p, i, len(case_list), case)}\n{message}")
    return None


def check_answer(
    name: str, value: Any, part: str | None = None, *, assignment: str | None = None
) -> None:
    """Grade `value` as the student's answer `name` (a value item, e.g. a quiz letter).

    Same contract as :func:`check_function`: None when the selected parts pass, else
    AssertionError with feedback.
    """
    if lookup(name, assignment).kind != "value":
        raise KeyError(f"{name!r} is a graded function; use check_function")
    check_function(name, value, part, assignment=assignment)


def function_runner(name: str, assignment: str | None = None) -> Callable[[Any], None]:
    """`check_function` bound to one name, for tests."""
    return lambda fn, part=None: check_function(name, fn, part, assignment=assignment)
