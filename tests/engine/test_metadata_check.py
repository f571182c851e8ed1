"""The gradebook import's metadata check (autograder.pipeline.metadata_check) gives
nbgrader's verdicts, with its JSON schema compiled once."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

from autograder.pipeline.grade import _autograde_preprocessors
from autograder.pipeline.metadata_check import CheckCellMetadataOnce, FastMetadataValidator

NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "fixtures" / "pipeline" / "source" / "landscapes"
) / "01_tiny.ipynb"

MUTATIONS = {
    "valid": lambda m: None,
    "points not a number": lambda m: m.update(points="x"),
    "schema too old": lambda m: m.update(schema_version=2),
    "schema too new": lambda m: m.update(schema_version=4),
    "no grade id": lambda m: m.pop("grade_id"),
    "grade not a bool": lambda m: m.update(grade="yes"),
    "an extra key": lambda m: m.update(extra=1),
}


def _verdict(validator: type, nb) -> str:
    try:
        validator().validate_nb(nb)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return "ok"


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_same_verdicts_as_nbgrader(mutation: str) -> None:
    nb = copy.deepcopy(nbformat.read(NOTEBOOK, as_version=4))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    MUTATIONS[mutation](cell.metadata["nbgrader"])
    expected = _verdict(MetadataValidator, nb)
    assert _verdict(FastMetadataValidator, nb) == expected
    assert (expected == "ok") == (mutation == "valid")


def test_the_import_uses_it() -> None:
    class Config(dict):
        def __getattr__(self, name):
            return self.setdefault(name, Config())

    steps = _autograde_preprocessors(Config())
    assert CheckCellMetadataOnce in steps and CheckCellMetadata not in steps
