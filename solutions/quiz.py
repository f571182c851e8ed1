"""Answer key for notebook 04 (quiz Q1–Q5 and key-term matching).

The letters are the seed's own answers (its "Answers" block after the quiz); the key-term
descriptions are copied verbatim from the seed's "Key topological features" table.
"""

from __future__ import annotations

__all__ = [
    "KEY_TERMS",
    "QUIZ_ANSWERS",
    "TERMS",
    "VALID_CHOICES",
    "answer_q1",
    "answer_q2",
    "answer_q3",
    "answer_q4",
    "answer_q5",
    "key_terms",
]

#: The letters a quiz answer may take.
VALID_CHOICES: tuple[str, ...] = ("A", "B", "C", "D")

#: The five terms of the matching exercise, in the order of the seed's table.
TERMS: tuple[str, ...] = ("Basin", "Barrier", "Saddle point", "Plateau", "Narrow valley")

#: Answer key, by the variable names the notebook's answer cells define.
QUIZ_ANSWERS: dict[str, str] = {
    # Q1: a linear barrier of 3.2 -> the networks lie in different basins.
    "answer_q1": "B",
    # Q2: the Lottery Ticket Hypothesis rewinds to the original initialisation values.
    "answer_q2": "C",
    # Q3: batch norm gives scale invariance that smooths the landscape.
    "answer_q3": "B",
    # Q4: trace 1200 vs 300 -> the first minimum is sharper.
    "answer_q4": "C",
    # Q5: supermasks -> random weights with learned binary masks reach good accuracy.
    "answer_q5": "B",
}

#: Key-term matching: description (verbatim from the seed's table) -> term.
KEY_TERMS: dict[str, str] = {
    "Connected region of low loss": "Basin",
    "Ridge of high loss between basins": "Barrier",
    "Gradient zero, mixed curvature": "Saddle point",
    "Region of near-zero gradient": "Plateau",
    "Low-loss corridor with steep walls": "Narrow valley",
}

# The graded items under the names the notebook's answer cells define (the engine looks a
# graded item's reference up by that name).
answer_q1 = QUIZ_ANSWERS["answer_q1"]
answer_q2 = QUIZ_ANSWERS["answer_q2"]
answer_q3 = QUIZ_ANSWERS["answer_q3"]
answer_q4 = QUIZ_ANSWERS["answer_q4"]
answer_q5 = QUIZ_ANSWERS["answer_q5"]
key_terms = KEY_TERMS
