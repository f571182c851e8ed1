"""Tests of the notebook-04 answer key (`solutions.quiz`).

The expected letters and table rows are embedded here, copied by hand from the seed. When
the seed text is available (course-staff machines), the key is also checked against the
seed itself: its quiz answers and its "Key topological features" table.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from solutions import quiz

#: Where the seed lives on course-staff machines; override with LANDSCAPES_SEED.
SEED_PATH = Path(os.environ.get("LANDSCAPES_SEED", "/work/shared/seed/000_306ca3483543b03f.txt"))

EXPECTED_LETTERS = {"Q1": "B", "Q2": "C", "Q3": "B", "Q4": "C", "Q5": "B"}

# (term, description) rows of the seed's "Key topological features" table, in its order.
EXPECTED_TABLE = [
    ("Basin", "Connected region of low loss"),
    ("Barrier", "Ridge of high loss between basins"),
    ("Saddle point", "Gradient zero, mixed curvature"),
    ("Plateau", "Region of near-zero gradient"),
    ("Narrow valley", "Low-loss corridor with steep walls"),
]


def read_seed() -> str:
    if not SEED_PATH.is_file():
        pytest.skip(f"seed text not available at {SEED_PATH}")
    return SEED_PATH.read_text(encoding="utf-8")


def test_quiz_answers_have_the_notebook_names_and_valid_letters():
    assert list(quiz.QUIZ_ANSWERS) == [f"answer_q{i}" for i in range(1, 6)]
    assert quiz.VALID_CHOICES == ("A", "B", "C", "D")
    for name, letter in quiz.QUIZ_ANSWERS.items():
        assert isinstance(letter, str) and letter in quiz.VALID_CHOICES, name


def test_quiz_answers_match_the_seed_key():
    got = {f"Q{name[-1]}": letter for name, letter in quiz.QUIZ_ANSWERS.items()}
    assert got == EXPECTED_LETTERS


def test_key_terms_cover_exactly_the_five_terms():
    assert tuple(term for term, _ in EXPECTED_TABLE) == quiz.TERMS
    assert sorted(quiz.KEY_TERMS.values()) == sorted(quiz.TERMS)
    assert len(set(quiz.KEY_TERMS.values())) == len(quiz.KEY_TERMS) == 5
    assert {description: term for term, description in EXPECTED_TABLE} == quiz.KEY_TERMS


def test_key_terms_descriptions_are_plain_strings_without_padding():
    for description in quiz.KEY_TERMS:
        assert isinstance(description, str)
        assert description == description.strip() and "|" not in description


def test_quiz_answers_agree_with_the_seed_text():
    seed = read_seed()
    found = dict(re.findall(r"\*\*(Q[1-5]): ([A-D])\)\*\*", seed))
    assert found == EXPECTED_LETTERS


def test_key_terms_agree_with_the_seed_table():
    seed = read_seed()
    section = seed.split("Key topological features:", 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] in {"Feature", ""} or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[1]))
    assert rows == EXPECTED_TABLE
    for description in quiz.KEY_TERMS:
        assert description in seed


def test_all_exports():
    items = {"answer_q1", "answer_q2", "answer_q3", "answer_q4", "answer_q5", "key_terms"}
    assert set(quiz.__all__) == {"KEY_TERMS", "QUIZ_ANSWERS", "TERMS", "VALID_CHOICES", *items}


def test_graded_items_are_importable_by_their_notebook_names():
    """The engine looks a graded item's reference up by its name in the reference package."""
    import solutions

    for name, letter in quiz.QUIZ_ANSWERS.items():
        assert getattr(quiz, name) == letter == getattr(solutions, name)
    assert solutions.key_terms == quiz.KEY_TERMS
