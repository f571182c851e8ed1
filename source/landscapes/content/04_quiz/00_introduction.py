# %% [notebook] kernel="Python 3" test_ids="grade_id"

# %% [markdown] id="title"
# # Notebook 04 — Quiz: mode connectivity, loss landscapes and lottery tickets
#
# This notebook checks the ideas of the whole subject. It has no code to implement.
#
# **Learning objectives.** After notebooks 01–03 and this quiz you can
# - define linear mode connectivity and explain what a loss barrier does and does not show;
# - describe the geometry of loss landscapes: basins, barriers, saddle points, plateaus,
#   narrow valleys, and sharp vs flat minima (and the caveat of scale invariance);
# - explain the lottery ticket hypothesis, rewinding and supermasks;
# - read a filter-normalised loss-landscape plot.
#
# **How this notebook is graded.**
#
# | part | autograded points | graded by hand |
# |---|---|---|
# | Part A: quiz Q1–Q5 | 5 | 0 |
# | Part B: key-term matching | 5 | 0 |
# | Part C: free-response answers (6 questions) | 0 | 12 |
# | **total (22 points)** | **10** | **12** |
#
# - **Part A** (Q1–Q5): set each `answer_q…` variable to one capital letter, as a string, e.g.
#   `answer_q1 = "A"`, and delete the line `raise NotImplementedError()`. The cell below each
#   answer checks only the *format* (0 points); the hidden tests grade the answer (1 point each).
# - **Part B**: fill in the dictionary `key_terms` (1 point per correctly matched description).
# - **Part C**: write your answers in the markdown cells that say "YOUR ANSWER HERE" (graded by
#   hand, 2 points each); short, precise answers with the key formula or number are best.
# - Do not rename the variables, and do not edit or delete the read-only cells. Before you
#   submit, restart the kernel and run all cells (or run `nbgrader validate 04_quiz.ipynb`).
#
# After grading, your feedback page explains the answer to every question of Parts A and B.

# %% id="setup" role="setup"
# Setup (read-only): the letters and terms your answers may use, and the format checks used by
# the visible test cells below. The quiz needs no PyTorch.
CHOICES = ("A", "B", "C", "D")
TERMS = ('Barrier', 'Basin', 'Narrow valley', 'Plateau', 'Saddle point')  # in alphabetical order
DESCRIPTIONS = (
    'Connected region of low loss',
    'Ridge of high loss between basins',
    'Gradient zero, mixed curvature',
    'Region of near-zero gradient',
    'Low-loss corridor with steep walls',
)


def _norm(text):
    """Compare terms ignoring case, spaces, hyphens and underscores."""
    return " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()


def check_letter(name, value):
    """Check the FORMAT of a quiz answer (not whether it is right)."""
    assert value is not None, (
        f"`{name}` is still None: replace None with your letter, in quotes, and delete the "
        "line `raise NotImplementedError()`"
    )
    assert isinstance(value, str) and value.strip().upper() in CHOICES, (
        f"`{name}` should be one of the letters {CHOICES} as a string, got {value!r}"
    )
    print(f"`{name}` = {value.strip().upper()!r} has the right format (it is graded later)")


def check_key_terms_format(value):
    """Check the FORMAT of `key_terms` (not whether the matches are right)."""
    assert isinstance(value, dict), f"`key_terms` should be a dict, got {type(value).__name__}"
    missing = [d for d in DESCRIPTIONS if d not in value]
    assert not missing, f"`key_terms` has no entry for {missing}: keep the descriptions as given"
    extra = [d for d in value if d not in DESCRIPTIONS]
    assert not extra, f"`key_terms` has keys that are not descriptions from the table: {extra}"
    terms = {_norm(t) for t in TERMS}
    for description, term in value.items():
        assert term is not None, (
            f"`key_terms`[{description!r}] is still None: replace it with one of {TERMS}"
        )
        assert isinstance(term, str) and _norm(term) in terms, (
            f"`key_terms`[{description!r}] = {term!r} is not one of the terms {TERMS}"
        )
    print("`key_terms` has the right format (the matches are graded later)")
