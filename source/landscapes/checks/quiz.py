"""Hidden checks for notebook 04 (quiz Q1–Q5 and key-term matching).

These items are values, not functions: they are registered with `kind="value"` and graded
with `check_answer("answer_q1", answer_q1, part=...)` (`check_function` accepts them too).

- `answer_q1` … `answer_q5`: part `format` (one letter A–D, as a string; case, surrounding
  spaces, brackets and a trailing ")", "." or ":" are forgiven) and part `key` (the right
  letter). Feedback on a wrong key never names
  the right letter; the explanation of each answer (the content's cells of role
  `explanation`) is added to the feedback page after grading.
- `key_terms`: part `format` (a dict from each description of the seed's table to one of
  the five terms) and one part per term (partial credit: each correctly matched description
  is its own hidden test cell). Term names are compared ignoring case, surrounding spaces,
  repeated spaces, hyphens and underscores ("saddle-point" is "Saddle point").
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from autograder.checks.registry import make_checks
from autograder.checks.types import Case, Outcome, Part, Verdict
from autograder.checks.verdicts import call_failure, fmt_value, with_hint
from solutions import quiz as ref

_DICT_TYPES = (dict, OrderedDict)
_CHOICES = ", ".join(ref.VALID_CHOICES[:-1]) + " or " + ref.VALID_CHOICES[-1]

#: Where in the course text each quiz question is answered (never the letter itself).
_QUIZ_HINTS = {
    "answer_q1": "re-read what a loss barrier on the linear path between two solutions says "
    "about where they lie (section 1, mode connectivity)",
    "answer_q2": "re-read the pruning procedure and the key results on rewinding "
    "(section 4, the Lottery Ticket Hypothesis)",
    "answer_q3": "re-read what batch normalisation does to the loss landscape (the key "
    "findings of section 1, and reparameterisation in section 2)",
    "answer_q4": "re-read what the Hessian trace measures at a minimum (sharp vs flat minima, "
    "worked example 2)",
    "answer_q5": "re-read the supermask result of Zhou et al. (2019) in section 4",
}


def _normalize(text: str) -> str:
    """Case-, space-, hyphen- and underscore-insensitive form of a term or description."""
    return " ".join(re.sub(r"[-_]", " ", text).split()).casefold().rstrip(".")


#: One letter, optionally in brackets or followed by ")", "." or ":" ("B", "(b)", "B)", "[B]",
#: "B."): unambiguous ways of writing a choice. Anything more (two letters, the option's
#: text) is not read as a choice.
_LETTER_FORM = re.compile(r"^[(\[]?\s*([A-Za-z])\s*[)\].:]?$")


def _letter_of(value: str) -> str | None:
    """The choice `value` names (upper case), or None if it is not one letter A–D."""
    match = _LETTER_FORM.match(value.strip())
    if match is None:
        return None
    letter = match.group(1).upper()
    return letter if letter in ref.VALID_CHOICES else None


def _letter_problem(name: str, value: Any) -> str | None:
    """Why `value` is not a well-formed answer (one letter A–D), or None."""
    if type(value) is not str:
        return (
            f"`{name}` should be a string holding one letter ({_CHOICES}), got "
            f'{fmt_value(value)}; write the letter in quotes, as in "A", "B", "C" or "D"'
        )
    if _letter_of(value) is None:
        return (
            f"`{name}` should be one letter ({_CHOICES}), got {value!r}; write only the "
            "letter, without the option's text or a bracket"
        )
    return None


def _answer_verdict(name: str, *, key: bool) -> Verdict:
    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, name)
        if failure:
            return failure
        problem = _letter_problem(name, outcome.value)
        if problem:
            return problem if not key else f"{problem} (the answer cannot be graded until then)"
        if not key:
            return None
        letter = _letter_of(outcome.value)
        if letter != ref.QUIZ_ANSWERS[name]:
            return with_hint(
                f"`{name}` = {letter!r} is not the right answer", case, _QUIZ_HINTS[name]
            )
        return None

    return verdict


def _your_answer() -> list[Case]:
    return [Case("your answer")]


for _name in ref.QUIZ_ANSWERS:
    make_checks(
        _name,
        [
            Part(
                "format",
                "one letter A–D, as a string",
                _your_answer,
                _answer_verdict(_name, key=False),
            ),
            Part("key", "the right answer", _your_answer, _answer_verdict(_name, key=True)),
        ],
        kind="value",
    )


# ---------------------------------------------------------------------------------------------
# key_terms

_TERMS_NAME = "key_terms"
_TERM_LIST = ", ".join(repr(t) for t in ref.TERMS)
_TERM_FORMS = {_normalize(t): t for t in ref.TERMS}
_DESCRIPTION_FORMS = {_normalize(d): d for d in ref.KEY_TERMS}


def _entries(value: dict) -> dict[str, Any]:
    """The student's dict keyed by the normalised description (first entry wins)."""
    out: dict[str, Any] = {}
    for description, term in value.items():
        if type(description) is str:
            out.setdefault(_normalize(description), term)
    return out


def _terms_format(case: Case, outcome: Outcome) -> str | None:
    failure = call_failure(outcome, _TERMS_NAME)
    if failure:
        return failure
    value = outcome.value
    if type(value) not in _DICT_TYPES:
        return (
            f"`{_TERMS_NAME}` should be a dict from each description to its term, got "
            f"{fmt_value(value)}"
        )
    non_str = [k for k in value if type(k) is not str]
    if non_str:
        return f"`{_TERMS_NAME}` should have the descriptions (strings) as keys, got {non_str!r}"
    seen = [_normalize(k) for k in value]
    unknown = [k for k in value if _normalize(k) not in _DESCRIPTION_FORMS]
    if unknown:
        return (
            f"`{_TERMS_NAME}` has keys that are not descriptions from the table: {unknown!r}; "
            "use the descriptions exactly as given"
        )
    doubled = sorted({_DESCRIPTION_FORMS[s] for s in seen if seen.count(s) > 1})
    if doubled:
        return f"`{_TERMS_NAME}` has the same description more than once: {doubled!r}"
    missing = [d for form, d in _DESCRIPTION_FORMS.items() if form not in seen]
    if missing:
        return f"`{_TERMS_NAME}` has no entry for the descriptions {missing!r}"
    for description, term in value.items():
        if type(term) is not str:
            return (
                f"`{_TERMS_NAME}`[{description!r}] should be a term (a string), got "
                f"{fmt_value(term)}"
            )
        if _normalize(term) not in _TERM_FORMS:
            return (
                f"`{_TERMS_NAME}`[{description!r}] = {term!r} is not one of the five terms: "
                f"{_TERM_LIST}"
            )
    return None


def _term_verdict(description: str) -> Verdict:
    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, _TERMS_NAME)
        if failure:
            return failure
        value = outcome.value
        if type(value) not in _DICT_TYPES:
            return (
                f"`{_TERMS_NAME}` should be a dict from each description to its term, got "
                f"{fmt_value(value)}"
            )
        entries = _entries(value)
        form = _normalize(description)
        if form not in entries:
            return f"`{_TERMS_NAME}` has no entry for the description {description!r}"
        term = entries[form]
        if type(term) is not str:
            return (
                f"`{_TERMS_NAME}`[{description!r}] should be a term (a string), got "
                f"{fmt_value(term)}"
            )
        if _normalize(term) != _normalize(ref.KEY_TERMS[description]):
            known = (
                ""
                if _normalize(term) in _TERM_FORMS
                else (f" (it is not even one of the five terms: {_TERM_LIST})")
            )
            return with_hint(
                f"the description {description!r} is matched to {term!r}, which is not the "
                f"right term{known}",
                case,
                "re-read the table of key topological features in section 2",
            )
        return None

    return verdict


def _part_name(description: str) -> str:
    """A part name from the description (never from the term: it would give the answer away)."""
    return re.sub(r"[^a-z0-9]+", "_", _normalize(description)).strip("_")


make_checks(
    _TERMS_NAME,
    [
        Part(
            "format",
            "a dict from each of the five descriptions to one of the five terms",
            _your_answer,
            _terms_format,
        ),
        *(
            Part(
                _part_name(description),
                f"the term for {description!r}",
                _your_answer,
                _term_verdict(description),
            )
            for description in ref.KEY_TERMS
        ),
    ],
    kind="value",
)
