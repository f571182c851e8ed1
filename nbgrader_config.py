"""nbgrader configuration for course subject 25-05 (assignment `landscapes`).

The repository root is an nbgrader course directory: instructor notebooks live in
`source/landscapes/`, the generated student release in `assignments/landscapes/`.
Generated course state (gradebook.db, submitted/, autograded/, feedback/) is git-ignored.
"""

c = get_config()  # noqa: F821  (injected by nbgrader / traitlets)

c.CourseDirectory.course_id = "dl-25-05"
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The helper module ships beside the notebooks and is restored from the release at grading.
# The assignment's spec, its notebook content and its hidden checks live beside the source
# notebooks and must never be released (`autograder build` also ignores them, and its leak
# check fails on anything in the release that is not a notebook or a release file).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.egg-info",
    "assignment.toml",
    "content",
    "checks",
]

# Execution limits: a notebook's solution runs in at most 60 s on 2 cores; a cell may take
# longer on a slow student laptop, but never forever.
c.ExecutePreprocessor.timeout = 300
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"

# Students must not see the hidden tests in generated feedback (nbgrader issue #917 shows them
# by default): feedback replaces each hidden-test region by a one-line comment and keeps only
# the failure message. This also makes formgrader's feedback button safe. The explanations of
# the quiz answers (content cells of role "explanation", in no notebook) are added to the
# feedback pages only.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.pipeline.feedback.HideHiddenTests",
    "autograder.pipeline.feedback.AddExplanations",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# The same pages as nbconvert's HTMLExporter, several times faster (no second pass over each
# page's HTML; the cells common to all students highlighted and rendered once per process).
c.GenerateFeedback.exporter_class = "autograder.pipeline.feedback_html.FeedbackHTMLExporter"
c.ClearHiddenTests.enforce_metadata = True
# A test cell the student deleted is restored from the gradebook and graded (not left for
# manual grading).
c.OverwriteCells.add_missing_cells = True
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
