"""nbgrader's SaveAutoGrades with one gradebook commit per notebook instead of one per cell.

nbgrader's ``SaveAutoGrades`` commits after every graded and every answer cell: profiled on a
solved submission of four notebooks, 290 SQLite commits (each one a disk sync) took 2.5 s of
a 9 s gradebook import. :class:`SaveAutoGradesAtOnce` does the same per-cell work (nbgrader's
own ``_add_score`` and ``_add_comment``: the same scores, the same "needs manual grade" flags
and comments), turning each of those commits into a flush, and commits once when the
notebook is done. A failure part-way leaves the notebook's earlier grades as they were
instead of half updated.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades


class SaveAutoGradesAtOnce(SaveAutoGrades):
    """:class:`nbgrader.preprocessors.SaveAutoGrades`, committed once per notebook."""

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = Gradebook(self.db_url)
        with self.gradebook:
            session = self.gradebook.db
            session.commit = session.flush  # the per-cell commits of _add_score/_add_comment
            try:
                nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
            finally:
                del session.commit
            session.commit()
        return nb, resources
