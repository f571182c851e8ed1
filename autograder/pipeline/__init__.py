"""The grading pipeline of `autograder grade` and the other course verbs.

Grading core (this package's ``records``, ``limits``, ``normalize``, ``worker`` and ``grade``
modules): every submission is graded by a pure unit of work,
:func:`autograder.pipeline.worker.grade_submission` (``GradeJob`` → ``SubmissionRecord``),
run in parallel through a ``concurrent.futures`` executor; the coordinator then imports the
executed notebooks into the nbgrader gradebook with nbgrader's own ``autograde``, its
``Execute`` step replaced by :class:`autograder.pipeline.nbimport.ReplayExecution`.
"""

from __future__ import annotations

from .records import ItemRecord, NotebookRecord, SubmissionRecord

__all__ = ["ItemRecord", "NotebookRecord", "SubmissionRecord"]
