"""Reference solutions of assignment `landscapes`, one module per notebook.

Course staff only: never released to students, never importable from a sandboxed
submission. Every graded item is importable from here by its notebook name: the functions of
exercise-spec.md's three tables and the quiz answers (the engine looks references up so).
"""

from __future__ import annotations

from .landscape_geometry import *  # noqa: F403
from .landscape_geometry import __all__ as _geometry_all
from .lottery_tickets import *  # noqa: F403
from .lottery_tickets import __all__ as _lottery_all
from .mode_connectivity import *  # noqa: F403
from .mode_connectivity import __all__ as _connectivity_all
from .quiz import answer_q1 as answer_q1
from .quiz import answer_q2 as answer_q2
from .quiz import answer_q3 as answer_q3
from .quiz import answer_q4 as answer_q4
from .quiz import answer_q5 as answer_q5
from .quiz import key_terms as key_terms

_quiz_items = ["answer_q1", "answer_q2", "answer_q3", "answer_q4", "answer_q5", "key_terms"]
__all__ = [*_connectivity_all, *_geometry_all, *_lottery_all, *_quiz_items]
