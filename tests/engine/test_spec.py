"""Assignment specs (autograder.spec): what a spec file may say, and what is refused."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from autograder.errors import SpecError
from autograder.spec import SPEC_FILE, choose, discover, find_specs, load_spec, to_toml

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_FILE
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_the_tiny_spec_reads_as_written() -> None:
    spec = load_spec(TINY)
    assert spec.id == "tiny" and spec.notebooks == ("01_sums", "02_words")
    assert spec.release_files == ("tinyhelp.py",) and spec.budget_seconds == 30
    assert spec.preload == ("xml.dom.minidom",)
    assert spec.checks_dir == TINY / "checks" and spec.call_stage == ("inputs",)
    assert spec.content_dir == TINY / "content" and spec.checks_package == "tiny_checks"
    assert spec.reference_package == "tiny_reference"
    assert spec.released_names() == {"01_sums.ipynb", "02_words.ipynb", "tinyhelp.py"}
    assert {"assignment.toml", "checks", "content"} <= set(spec.private_entries())


def test_a_copy_with_absolute_paths_reads_back_the_same(tmp_path: Path) -> None:
    spec = load_spec(TINY)
    copy = tmp_path / "tiny"
    copy.mkdir()
    (copy / SPEC_FILE).write_text(to_toml(spec), encoding="utf-8")
    again = load_spec(copy)
    assert again.root == copy
    for field in (
        "notebooks",
        "release_files",
        "checks_dir",
        "content_dir",
        "call_stage",
        "preload",
    ):
        assert getattr(again, field) == getattr(spec, field), field
    assert again.reference_path == spec.reference_path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('id = "other"\nnotebooks = ["a"]\n', "the folder is 'hw'"),
        ('id = "hw"\n', "notebooks"),
        ('id = "hw"\nnotebooks = []\n', "is empty"),
        ('id = "hw"\nnotebooks = ["a.ipynb"]\n', "without .ipynb"),
        ('id = "hw"\nnotebooks = ["a", "a"]\n', "twice"),
        ('id = "hw"\nnotebooks = ["a"]\ncolour = 1\n', "unknown key"),
        ('id = "hw"\nnotebooks = ["a"]\nbudget_seconds = 0\n', "positive"),
        ('id = "hw"\nnotebooks = ["a"]\npreload = ["scipy optimize"]\n', "invalid names"),
        ('id = "hw"\nnotebooks = ["a"]\npreload = "scipy"\n', "list of non-empty strings"),
        ('id = "hw"\nnotebooks = ["a"]\n[checks]\ndir = "nope"\n', "no folder"),
        ('id = "hw"\nnotebooks = ["a"]\n[reference]\npackage = "not a name"\n', "importable"),
        ('id = "hw"\nnotebooks = ["a"\n', "cannot read"),
    ],
)
def test_malformed_specs_are_refused_naming_the_file(tmp_path, text, message) -> None:
    path = write(tmp_path / "hw", text)
    with pytest.raises(SpecError, match=message) as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_call_stage_modules_must_exist(tmp_path: Path) -> None:
    folder = tmp_path / "hw"
    (folder / "checks").mkdir(parents=True)
    (folder / "checks" / "__init__.py").write_text("")
    write(folder, 'id = "hw"\nnotebooks = ["a"]\n[checks]\ncall_stage = ["inputs"]\n')
    with pytest.raises(SpecError, match=r"inputs\.py is missing"):
        load_spec(folder)


def test_choosing_and_discovering_an_assignment(tmp_path: Path) -> None:
    course = tmp_path / "course"
    for ident in ("a1", "a2"):
        write(course / "source" / ident, f'id = "{ident}"\nnotebooks = ["nb"]\n')
    (course / "nbgrader_config.py").write_text("")
    specs = find_specs(course / "source")
    assert sorted(specs) == ["a1", "a2"]
    assert choose(specs, "a2", "here").id == "a2"
    with pytest.raises(SpecError, match="pass --assignment"):
        choose(specs, None, "here")
    with pytest.raises(SpecError, match="no assignment 'a3'"):
        choose(specs, "a3", "here")
    # a spec in the folder wins; plain nbgrader runs in autograded/<student>/<id>/
    assert discover(course / "source" / "a1").id == "a1"
    work = course / "autograded" / "jdoe" / "a2"
    work.mkdir(parents=True)
    assert discover(work).id == "a2"
    shutil.rmtree(course / "source" / "a2")
    assert discover(course / "autograded").id == "a1"  # the only one left
    assert discover(tmp_path) is None
