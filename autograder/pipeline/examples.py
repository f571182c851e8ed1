"""Example submissions made from the source and the release, for `validate` and `demo`.

Generic over the notebooks present: each builder takes a released notebook and its source
notebook and returns what a student might hand in.

- :func:`reference_submission`: every answer cell holds the source's answer (the model
  solution; the BEGIN/END SOLUTION marker lines are comments and stay).
- the blank release itself: every answer still the stub.
- :func:`partial_submission`: the first half of the code answer cells answered, the rest
  left as stubs.
- :func:`looping_submission`: the reference, except that the last stub function in it
  loops forever (waiting) instead of raising NotImplementedError.
- :func:`corrupted_text`: a notebook file that is not valid JSON.
"""

from __future__ import annotations

import math
import re

import nbformat
from nbformat import NotebookNode

_STUB_LINE = re.compile(r"^(?P<indent>[ \t]*)raise NotImplementedError\(\)\s*$", re.MULTILINE)


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The cells a student answers in (nbgrader solution cells), in order."""
    return [c for c in nb.cells if _meta(c).get("solution")]


def fill_answers(
    release_nb: NotebookNode, source_nb: NotebookNode, grade_ids: set[str] | None = None
) -> NotebookNode:
    """A copy of `release_nb` whose answer cells (those in `grade_ids`, default all) hold
    the source notebook's answer."""
    nb = nbformat.from_dict(release_nb)
    reference = {_meta(c).get("grade_id"): c.source for c in source_nb.cells if _meta(c)}
    for cell in answer_cells(nb):
        gid = _meta(cell).get("grade_id")
        if gid in reference and (grade_ids is None or gid in grade_ids):
            cell.source = reference[gid]
    return nb


def reference_submission(release_nb: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    return fill_answers(release_nb, source_nb)


def partial_submission(release_nb: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    """The first half (rounded up) of the code answer cells answered, the others stubs."""
    code = [_meta(c)["grade_id"] for c in answer_cells(release_nb) if c.cell_type == "code"]
    return fill_answers(release_nb, source_nb, set(code[: math.ceil(len(code) / 2)]))


def loop_forever(stub_source: str) -> str | None:
    """`stub_source` with its `raise NotImplementedError()` replaced by an endless loop (one
    that waits: the wall-time limit stops it all the same, and the examples graded beside it
    keep the CPU)."""
    match = _STUB_LINE.search(stub_source)
    if match is None:
        return None
    indent = match.group("indent")
    loop = f"{indent}import time\n\n{indent}while True:  # never ends\n{indent}    time.sleep(0.5)"
    return stub_source[: match.start()] + loop + stub_source[match.end() :]


def looping_submission(
    release_nb: NotebookNode, source_nb: NotebookNode
) -> tuple[NotebookNode, str | None]:
    """(the reference with its last stub function looping forever, its grade id or None).

    The last one, so that the items before it keep their points when the wall limit stops
    the notebook.
    """
    nb = reference_submission(release_nb, source_nb)
    stubs = {_meta(c).get("grade_id"): c.source for c in answer_cells(release_nb)}
    for cell in reversed(answer_cells(nb)):
        gid = _meta(cell).get("grade_id")
        looping = loop_forever(stubs.get(gid, ""))
        if cell.cell_type == "code" and looping is not None and "def " in looping:
            cell.source = looping
            return nb, gid
    return nb, None


def corrupted_text(release_nb: NotebookNode) -> str:
    """The notebook's JSON cut off in the middle: not a readable notebook."""
    text = nbformat.writes(release_nb)
    return text[: len(text) // 2]
