"""The content format (autograder.content.parse) and the notebook builder (.builder).

The builder is exercised on the tiny second assignment (tests/fixtures/tiny): answers
spliced from its reference, hidden cells made from its checks, roles in the metadata.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.checks import registry
from autograder.content import builder
from autograder.content.parse import code_lines, markdown_lines, parse_content, read_content
from autograder.errors import SpecError
from autograder.spec import load_spec

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"


def parse(text: str):
    return parse_content(textwrap.dedent(text).lstrip("\n"), "nb.py")


# ---- the format ----------------------------------------------------------------------------------


def test_cells_roles_and_options_are_read() -> None:
    content = parse(
        """
        # %% [notebook] kernel="Python 3" test_ids="grade_id"

        # %% [markdown] id="intro"
        # # Title
        #
        #   indented line

        # %% id="setup" role="setup"
        # %matplotlib inline
        import math  # a comment

        # %% [markdown] id="why" role="written" points=2
        # Model answer
        """
    )
    assert content.options["kernel"] == "Python 3" and content.options["test_ids"] == "grade_id"
    intro, setup, why = content.cells
    assert (intro.kind, intro.role, intro.source) == (
        "markdown",
        "text",
        "# Title\n\n  indented line",
    )
    assert (setup.role, setup.source) == ("setup", "%matplotlib inline\nimport math  # a comment")
    assert (why.role, why.meta["points"]) == ("written", 2)


def test_lines_round_trip() -> None:
    """What the converters write is what the parser reads back."""
    markdown = "# Title\n\n  - item  \n`code`"
    code = "%matplotlib inline\n# a comment\n%%time\nx = 1"
    header_a, header_b = '# %% [markdown] id="a"', '# %% id="b" role="demo"'
    text = "\n".join([header_a, *markdown_lines(markdown), "", header_b, *code_lines(code)])
    a, b = parse_content(text).cells
    assert a.source == markdown and b.source == code


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n", "text before the first"),
        ('# %% id="a"\nx = 1\n', "names its role"),
        ('# %% id="a" role="plot"\nx = 1\n', "unknown role"),
        ('# %% [markdown] id="a"\nno hash\n', "comments"),
        ('# %% [markdown] id="a" role="demo"\n# x\n', "text, written or explanation"),
        ('# %% [markdown] role="explanation"\n# x\n', "item="),
        ('# %% [markdown] role="explanation" item="f" points=1\n# x\n', "takes no points"),
        ('# %% id="a" role="setup"\n\n# %% id="a" role="demo"\n', "used twice"),
        ('# %% role="hidden" item="f"\nx = 1\n', "leave its body empty"),
        ('# %% role="visible"\nx = 1\n', "item="),
        ('# %% id="a" role="answer"\n', "names its reference"),
        ('# %% id="a" role="answer" solution="f" value="v"\n', "names its reference"),
        ("# %% id='a' role=\"setup\"\n", "not JSON"),
        ('# %% id="a" role="setup" points=1\n', "takes no points"),
        ('# %% [markdown] id="a" role="written"\n# x\n', "points=N"),
        ('# %% [raw] id="a"\n', "unknown cell kind"),
        ('# %% id="a" role="setup"\n\n# %% [notebook] kernel="x"\n', "comes first"),
        ('# %% [notebook] colour="blue"\n', "unknown notebook option"),
    ],
)
def test_malformed_content_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        parse_content(text, "nb.py")
    assert "nb.py:" in str(info.value)


# ---- the builder, on the tiny assignment ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    spec = load_spec(TINY)
    registry.load(spec)
    notebooks = {name: builder.build_notebook(read_content(builder.content_path(spec, name)), spec)
                 for name in spec.notebooks}  # fmt: skip
    return spec, notebooks


def cells_by_role(nb, role: str):
    return [c for c in nb.cells if builder.role_of(c) == role]


def test_every_cell_carries_its_role(tiny) -> None:
    _, notebooks = tiny
    roles = [builder.role_of(c) for c in notebooks["01_sums"].cells]
    assert roles == [
        "text", "setup",
        "answer", "visible", "hidden", "hidden", "hidden",
        "text", "answer", "visible", "hidden", "hidden",
        "demo",
    ]  # fmt: skip


def test_answer_is_the_preamble_and_the_reference_function(tiny) -> None:
    """The model answer is spliced from the reference: its body between the markers, the
    signature and docstring outside them (they are the student's stub)."""
    _, notebooks = tiny
    answer = cells_by_role(notebooks["01_sums"], "answer")[0]
    assert answer.id == "running-total-solution"
    assert answer.metadata["nbgrader"] == {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": "running_total",
        "schema_version": 3,
    }
    lines = answer.source.split("\n")
    assert lines[0] == "# The running totals (a list of floats)."
    assert lines[3] == "def running_total(xs):"
    begin = lines.index("    ### BEGIN SOLUTION")
    assert '"""' in lines[begin - 1] and lines[begin + 1] == "    totals = []"
    assert lines[-1] == "    ### END SOLUTION"
    assert answer.source.count("def running_total") == 1


def test_hidden_cells_follow_the_checks(tiny) -> None:
    spec, notebooks = tiny
    hidden = cells_by_role(notebooks["01_sums"], "hidden")
    parts = registry.parts("running_total", spec.id) + registry.parts("prune_count", spec.id)
    assert [c.metadata["nbgrader"]["grade_id"] for c in hidden] == [
        f"test_{'running_total' if i < 3 else 'prune_count'}_{p}" for i, p in enumerate(parts)
    ]
    first = hidden[0]
    assert first.id == "test-running-total-basic"
    assert first.metadata["nbgrader"]["points"] == 1 and first.metadata["nbgrader"]["locked"]
    assert 'check_function("running_total", running_total, part="basic")' in first.source
    assert first.source.count("### BEGIN HIDDEN TESTS") == 1


def test_visible_written_and_points_table(tiny) -> None:
    _, notebooks = tiny
    visible = cells_by_role(notebooks["02_words"], "visible")[0]
    assert visible.id == "test-word-count-visible"
    assert visible.metadata["nbgrader"]["grade_id"] == "test_word_count_visible"
    assert visible.metadata["nbgrader"]["points"] == 0
    (written,) = cells_by_role(notebooks["02_words"], "written")
    assert written.metadata["nbgrader"]["grade"] and written.metadata["nbgrader"]["solution"]
    assert written.metadata["nbgrader"]["points"] == 1
    title = notebooks["01_sums"].cells[0].source
    assert "| 1 | `running_total` | 0 | 3 (3 parts) | 3 |" in title
    assert "| | **total** | **0** | **5** | **5** |" in title


def test_value_answers_get_the_reference_value(tmp_path: Path) -> None:
    spec = load_spec(TINY)
    content = parse(
        """
        # %% id="answer" role="answer" value="WORDS_USED"
        WORDS_USED = None
        ### BEGIN SOLUTION
        # the reference's constant
        ### END SOLUTION
        """
    )

    reference = SimpleNamespace(WORDS_USED={"apple": 1, "fig": 2})
    build = builder.NotebookBuild(content, spec, reference)
    build.build(content.cells[0])
    assert build.cells[0].source.split("\n")[-5:] == [
        "WORDS_USED = {",
        "    'apple': 1,",
        "    'fig': 2,",
        "}",
        "### END SOLUTION",
    ]
    assert builder.value_source("x", "B") == 'x = "B"'


def test_a_reference_that_cannot_be_spliced_is_refused() -> None:
    def inner():
        return 1

    with pytest.raises(SpecError, match="top-level"):
        builder.function_source(inner, "nb.py:1")
    with pytest.raises(SpecError, match="must be a function"):
        builder.function_source(42, "nb.py:1")


def test_explanations_reach_no_notebook(tiny) -> None:
    """An explanation is content only: no built cell, read back by `explanations`."""
    spec, notebooks = tiny
    assert builder.explanations(spec, "02_words") == {
        "word_count": (
            '**Why these counts.** `text.split()` splits on any run of whitespace, so "a  b" '
            "has two words\nand a word's count is how often it appears between such runs "
            "(explained in feedback only)."
        )
    }
    assert builder.explanations(spec, "01_sums") == {}
    text = "\n".join(c.source for nb in notebooks.values() for c in nb.cells)
    assert "Why these counts" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('# %% [markdown] role="explanation" item="nothing"\n# x\n', "not 'nothing'"),
        (
            '# %% id="a" role="answer" solution="word_count"\n\n'
            '# %% [markdown] role="explanation" item="word_count"\n# x\n\n'
            '# %% [markdown] role="explanation" item="word_count"\n# y\n',
            r"explained twice \(first at nb.py:3\)",
        ),
    ],
)
def test_an_explanation_names_an_answer_once(tiny, text: str, message: str) -> None:
    spec, _ = tiny
    with pytest.raises(SpecError, match=message):
        builder.build_notebook(parse(text), spec)


def test_unknown_items_are_refused_naming_the_cell(tiny) -> None:
    spec, _ = tiny
    content = parse('# %% role="hidden" item="no_such_function"\n')
    with pytest.raises(SpecError, match=r"nb.py:1: .*no_such_function"):
        builder.build_notebook(content, spec)
