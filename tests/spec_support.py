"""Assignment specs for the temporary courses the tests build.

A test course holds its own notebooks (the real ones or small fixtures) under
`source/landscapes/`; its spec names those notebooks and points at the repository's hidden
checks and reference solutions (absolute paths), so every process grading the test course
loads the same checks as the tests themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from autograder.checks import registry
from autograder.spec import SPEC_FILE, to_toml


def write_spec(
    source: Path,
    notebooks: Iterable[str | Path],
    release_files: Iterable[str] = ("landscape_lab.py",),
) -> Path:
    """Write `source/assignment.toml`: the course's assignment with these notebooks (file
    names or paths; `.ipynb` is dropped) and release files."""
    spec = dataclasses.replace(
        registry.spec_of(),
        root=Path(source).resolve(),
        notebooks=tuple(Path(n).stem for n in notebooks),
        release_files=tuple(release_files),
        content_dir=None,  # the test course's notebooks are given, not built
    )
    path = Path(source) / SPEC_FILE
    path.write_text(to_toml(spec), encoding="utf-8")
    return path
