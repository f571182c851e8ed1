"""The hidden checks of notebook 04 (quiz letters and key-term matching) grade well.

Quiz items are graded values, not functions (registered with kind="value"). Proven here:
the answer key passes every part, harmless variants of it (case, spaces, hyphens) pass too,
malformed answers fail the `format` part with a message saying what the format is, wrong
answers fail only the parts they get wrong, and no feedback gives the right answer away.
"""

from __future__ import annotations

import re

import pytest

from autograder.checks import cases, check_answer, check_function, checks_of, judge, lookup, parts
from autograder.checks.call import run_case, value_call
from solutions import quiz
from tests.course.checks.support import part_results

LETTER_ITEMS = list(quiz.QUIZ_ANSWERS)
VALUE_ITEMS = [*LETTER_ITEMS, "key_terms"]
DESCRIPTIONS = list(quiz.KEY_TERMS)


def wrong_letter(name: str) -> str:
    return next(c for c in quiz.VALID_CHOICES if c != quiz.QUIZ_ANSWERS[name])


def term_part(description: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")


def failed_parts(name: str, value) -> dict[str, str]:
    return {p: m for p, m in part_results(name, value).items() if m}


# ---------------------------------------------------------------------------------------------
# registration


@pytest.mark.parametrize("name", VALUE_ITEMS)
def test_quiz_items_are_value_items_with_described_parts(name):
    """Every quiz item is registered as a value, with described, non-empty parts."""
    assert lookup(name).kind == "value"
    for part in parts(name):
        assert lookup(name).parts[part].description
        assert cases(name, part)


def test_part_names():
    """Letters: format and key; key terms: format and one part per description (not per term,
    which would give the answer away)."""
    for name in LETTER_ITEMS:
        assert parts(name) == ["format", "key"]
    assert parts("key_terms") == ["format", *(term_part(d) for d in DESCRIPTIONS)]
    assert len(parts("key_terms")) == 6


# ---------------------------------------------------------------------------------------------
# answer_q1 .. answer_q5


@pytest.mark.parametrize("name", LETTER_ITEMS)
def test_the_key_passes_every_part(name):
    check_answer(name, quiz.QUIZ_ANSWERS[name])
    check_function(name, quiz.QUIZ_ANSWERS[name])  # check_function accepts values too


@pytest.mark.parametrize(
    "variant",
    [
        str.lower,
        lambda s: f" {s} ",
        lambda s: f"\t{s.lower()}\n",
        lambda s: f"{s})",
        lambda s: f"({s.lower()})",
        lambda s: f"{s}.",
        lambda s: f"[{s}]",
    ],
)
@pytest.mark.parametrize("name", LETTER_ITEMS)
def test_case_and_surrounding_spaces_are_forgiven(name, variant):
    assert not failed_parts(name, variant(quiz.QUIZ_ANSWERS[name]))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("E", r"should be one letter \(A, B, C or D\), got 'E'"),
        ("B or C", r"got 'B or C'; write only the letter"),
        ("(E)", r"got '\(E\)'"),
        ("", r"should be one letter"),
        ("AB", r"got 'AB'"),
        ("B) The networks are in different basins", r"without the option's text"),
        (2, r"should be a string holding one letter.*got 2"),
        (["B"], r"should be a string.*got list of length 1"),
        (b"B", r"should be a string"),
    ],
)
def test_malformed_answers_fail_both_parts_with_a_format_message(value, match):
    failed = failed_parts("answer_q1", value)
    assert set(failed) == {"format", "key"}
    assert re.search(match, failed["format"])
    assert "cannot be graded" in failed["key"]


@pytest.mark.parametrize("name", LETTER_ITEMS)
def test_a_wrong_letter_fails_only_the_key_and_does_not_reveal_it(name):
    right = quiz.QUIZ_ANSWERS[name]
    wrong = wrong_letter(name)
    failed = failed_parts(name, wrong.lower())
    assert set(failed) == {"key"}
    message = failed["key"]
    assert f"`{name}` = '{wrong}' is not the right answer" in message
    assert "Hint: re-read" in message
    assert not re.search(rf"['\"]{right}['\"]|\b{right}\)", message), message


def test_unanswered_answer_is_reported():
    """The released stub leaves the answer as None: the feedback says to replace it."""
    with pytest.raises(AssertionError, match="still None: replace None with your answer"):
        check_answer("answer_q2", None)


def test_check_answer_refuses_function_items_and_unknown_names():
    function_items = [n for n, c in checks_of().items() if c.kind == "function"]
    if function_items:
        with pytest.raises(KeyError, match="check_function"):
            check_answer(function_items[0], "B")
    with pytest.raises(KeyError):
        check_answer("answer_q9", "B")


def test_value_items_go_through_the_three_stages():
    """The split path of the sandboxed grader gives the same verdicts as check_answer."""
    for value, ok in [("b", True), ("C", False), ("x", False)]:
        case = cases("answer_q1", "key")[0]
        outcome = run_case(value_call(value), case)
        assert outcome.status == "returned" and outcome.value == value
        assert (judge("answer_q1", "key", case, outcome) is None) is ok


# ---------------------------------------------------------------------------------------------
# key_terms


def test_the_key_terms_pass_every_part():
    check_answer("key_terms", dict(quiz.KEY_TERMS))


def test_spelling_variants_of_terms_and_descriptions_pass():
    variants = {}
    for i, (description, term) in enumerate(quiz.KEY_TERMS.items()):
        styled = [
            term.upper(),
            f"  {term.lower()}  ",
            term.replace(" ", "-"),
            term.replace(" ", "_").title(),
            "  ".join(term.split()),
        ][i % 5]
        key = f" {description.lower()} " if i % 2 else description
        variants[key] = styled
    assert not failed_parts("key_terms", variants)


@pytest.mark.parametrize("description", DESCRIPTIONS)
def test_one_wrong_term_fails_only_its_own_part(description):
    """Partial credit: a wrong match costs exactly that description's part."""
    answer = dict(quiz.KEY_TERMS)
    right = answer[description]
    answer[description] = next(t for t in quiz.TERMS if t != right)
    failed = failed_parts("key_terms", answer)
    assert set(failed) == {term_part(description)}
    message = failed[term_part(description)]
    assert f"matched to {answer[description]!r}, which is not the right term" in message
    assert right not in message


def test_swapped_terms_fail_two_parts():
    answer = dict(quiz.KEY_TERMS)
    a, b = DESCRIPTIONS[0], DESCRIPTIONS[3]
    answer[a], answer[b] = answer[b], answer[a]
    assert set(failed_parts("key_terms", answer)) == {term_part(a), term_part(b)}


@pytest.mark.parametrize(
    ("change", "match", "also_failed"),
    [
        (
            lambda d: list(d.items()),
            r"should be a dict from each description to its term",
            set(DESCRIPTIONS),
        ),
        (
            lambda d: {k: v for k, v in d.items() if k != DESCRIPTIONS[2]},
            r"no entry for the descriptions \['Gradient zero, mixed curvature'\]",
            {DESCRIPTIONS[2]},
        ),
        (
            lambda d: {**d, "Flat region": "Plateau"},
            r"not descriptions from the table.*Flat region",
            set(),
        ),
        (
            lambda d: {**d, DESCRIPTIONS[1]: "ridge"},
            r"'ridge' is not one of the five terms",
            {DESCRIPTIONS[1]},
        ),
        (
            lambda d: {**d, DESCRIPTIONS[4]: 5},
            r"should be a term \(a string\), got 5",
            {DESCRIPTIONS[4]},
        ),
        (
            lambda d: {**d, DESCRIPTIONS[0].upper(): "Basin"},
            r"same description more than once",
            set(),
        ),
    ],
)
def test_malformed_key_terms_fail_the_format_part(change, match, also_failed):
    failed = failed_parts("key_terms", change(dict(quiz.KEY_TERMS)))
    assert re.search(match, failed["format"]), failed["format"]
    assert set(failed) == {"format", *(term_part(d) for d in also_failed)}


def test_a_term_that_is_not_one_of_the_five_says_so_in_its_part():
    answer = {**quiz.KEY_TERMS, DESCRIPTIONS[1]: "Ridge"}
    message = failed_parts("key_terms", answer)[term_part(DESCRIPTIONS[1])]
    assert "not even one of the five terms" in message
