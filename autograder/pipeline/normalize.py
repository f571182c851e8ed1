"""Repair a submitted notebook against the trusted template before it is executed.

The template of a notebook is the committed release notebook (cell order, nbgrader metadata)
plus the trusted source of every graded or locked cell as nbgrader stored it in the gradebook
at ``generate_assignment`` (:class:`TrustedCell`: with the hidden tests, which the release
lacks). What :func:`normalize` guarantees, whatever the student did to the file:

- every locked cell (test cells, read-only setup and text) has its trusted source and
  metadata: edited test cells are restored and the hidden tests put back;
- every graded/solution cell of the template appears exactly once, in template order; a
  deleted one is re-inserted at its template position (a deleted solution cell gets the
  release stub back, so its tests fail rather than vanish, unless the student's own cells
  after it define the function again: the stub goes in before them);
- a duplicated grade id keeps its first cell; later copies of a locked cell are dropped,
  later copies of a solution cell stay as ordinary (ungraded) cells of the student's code;
- solution cells keep the student's source; cells the student added stay, in order, after
  the graded cell they followed;
- cell ids are unique and valid; outputs are cleared.

Each repair adds one sentence to the returned reasons. :func:`load_submitted` reads a file
leniently (unreadable → None with a reason; a notebook that does not validate is salvaged
cell by cell) and :func:`stub_notebook` gives the release stub for a missing notebook.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

CELL_ID_PATTERN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
CELL_FACTORIES = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
# A submitted notebook larger than this is not read (a student cannot exhaust the grader).
MAX_NOTEBOOK_BYTES = 50 * 2**20


@dataclass(frozen=True)
class TrustedCell:
    """A graded, solution or locked cell as the gradebook stores it (nbgrader SourceCell).

    ``source`` is the instructor's version with hidden tests (solutions already replaced by
    the stub); ``checksum`` is nbgrader's checksum of that cell; ``points`` is set for grade
    cells; ``solution`` marks cells the student writes.
    """

    grade_id: str
    cell_type: str
    source: str
    locked: bool
    checksum: str | None = None
    grade: bool = False
    solution: bool = False
    points: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrustedCell:
        return cls(**data)


def grade_id_of(cell: dict[str, Any]) -> str | None:
    """The nbgrader grade id of a cell, or None."""
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(nbg, dict):
        gid = nbg.get("grade_id")
        if isinstance(gid, str) and gid:
            return gid
    return None


def _is_locked(cell: dict[str, Any], trusted: TrustedCell | None) -> bool:
    if trusted is not None:
        return trusted.locked
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return bool(nbg.get("locked")) or (bool(nbg.get("grade")) and not nbg.get("solution"))


# ---- reading a submission ------------------------------------------------------------


def load_submitted(path: str | Path) -> tuple[NotebookNode | None, list[str]]:
    """Read a submitted notebook leniently.

    Returns ``(notebook, reasons)``; the notebook is None (with the reason) when the file
    cannot be read as a notebook at all. A notebook that parses as JSON but does not
    validate is salvaged cell by cell, and the reasons say so.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, [f"{path.name} is {size} bytes, over the {MAX_NOTEBOOK_BYTES} limit"]
        raw_bytes = path.read_bytes()
    except OSError as exc:
        return None, [f"{path.name} could not be read: {exc.strerror or exc}"]
    try:
        text = raw_bytes.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, [f"{path.name} is not valid JSON ({first})"]
    if not isinstance(data, dict) or not isinstance(
        data.get("cells", data.get("worksheets")), list
    ):
        return None, [f"{path.name} is JSON but not a notebook (no list of cells)"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate cell ids: normalize() handles them
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
        return _salvage(nb), []
    except Exception as exc:  # any failure: salvage the raw cells
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        salvaged = _salvage(data)
        return salvaged, [
            f"{path.name} did not validate as a notebook ({first}): "
            f"{len(salvaged.cells)} cells recovered"
        ]


def _salvage(data: dict[str, Any]) -> NotebookNode:
    """A fresh v4 notebook from the well-formed cells of `data` (sources, types, metadata)."""
    cells = []
    for raw in data.get("cells", []) or []:
        if not isinstance(raw, dict) or raw.get("cell_type") not in CELL_FACTORIES:
            continue
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        cell = CELL_FACTORIES[raw["cell_type"]](source)
        meta = raw.get("metadata")
        if isinstance(meta, dict):
            cell.metadata = nbformat.from_dict(copy.deepcopy(meta))
        cid = raw.get("id")
        cell["id"] = cid if isinstance(cid, str) else ""
        cells.append(cell)
    nb = new_notebook()
    nb.cells = cells
    meta = data.get("metadata")
    if isinstance(meta, dict):
        nb.metadata = nbformat.from_dict(copy.deepcopy(meta))
    return nb


# ---- the template ---------------------------------------------------------------------


def _trusted_cell(tcell: NotebookNode, trusted: TrustedCell | None) -> NotebookNode:
    """The template cell `tcell` with the trusted source, type, metadata and checksum."""
    cell_type = trusted.cell_type if trusted else tcell.cell_type
    source = trusted.source if trusted and trusted.locked else tcell.source
    cell = CELL_FACTORIES[cell_type](source)
    cell.metadata = copy.deepcopy(tcell.metadata)
    if trusted is not None and trusted.checksum:
        cell.metadata.nbgrader["checksum"] = trusted.checksum
    cell["id"] = tcell.get("id", "")
    return cell


def stub_notebook(template: NotebookNode, trusted: dict[str, TrustedCell]) -> NotebookNode:
    """The release notebook as a submission: stubs, with the trusted locked cells."""
    cells = []
    for tcell in template.cells:
        gid = grade_id_of(tcell)
        if gid is None:
            cell = copy.deepcopy(tcell)
        else:
            cell = _trusted_cell(tcell, trusted.get(gid))
        cells.append(cell)
    nb = new_notebook(metadata=copy.deepcopy(template.metadata))
    nb.cells = cells
    _finish(nb)
    return nb


# ---- normalisation ----------------------------------------------------------------------


def normalize(
    student: NotebookNode, template: NotebookNode, trusted: dict[str, TrustedCell]
) -> tuple[NotebookNode, list[str]]:
    """Repair `student` against `template` + `trusted`; return (notebook, reasons).

    The student's notebook is not modified. See the module docstring for the guarantees.
    """
    reasons: list[str] = []
    template_ids = {grade_id_of(c): c for c in template.cells if grade_id_of(c) is not None}

    # 1. the student's cells: first occurrence of each known grade id anchors the cells
    #    that follow it (until the next anchor)
    anchors: dict[str, NotebookNode] = {}
    attached: dict[str | None, list[NotebookNode]] = {None: []}
    current: str | None = None
    for raw in student.cells:
        cell = copy.deepcopy(raw)
        gid = grade_id_of(cell)
        if gid is not None and gid in template_ids:
            if gid in anchors:
                if _is_locked(template_ids[gid], trusted.get(gid)):
                    reasons.append(f"a duplicate of cell '{gid}' was dropped")
                    continue
                reasons.append(f"a duplicate of solution cell '{gid}' was kept as an ungraded cell")
                _strip_nbgrader(cell)
                cell["id"] = ""
                attached[current].append(cell)
                continue
            anchors[gid] = cell
            current = gid
            attached.setdefault(gid, [])
            continue
        if gid is not None:
            reasons.append(f"cell with unknown grade id '{gid}' kept as an ungraded cell")
        _strip_nbgrader(cell)
        attached[current].append(cell)

    # 2. template order for graded/locked cells, the student's own cells after their anchor.
    #    A missing solution cell's stub goes in before the student's cells that follow the
    #    previous template cell: a student who deleted the answer cell and wrote the function
    #    in a new cell there (or further down, before its tests) keeps their definition
    #    instead of having it overwritten by the stub.
    out: list[NotebookNode] = []
    region_start = 0  # where the student's cells after the last template cell begin
    out.extend(attached[None])
    for tcell in template.cells:
        gid = grade_id_of(tcell)
        if gid is None:
            continue
        cell = _merge(tcell, anchors.get(gid), trusted.get(gid), reasons)
        if gid not in anchors and not _is_locked(tcell, trusted.get(gid)):
            out.insert(region_start, cell)
        else:
            out.append(cell)
        region_start = len(out)
        out.extend(attached.get(gid, []))

    nb = new_notebook(metadata=copy.deepcopy(template.metadata))
    nb.cells = out
    for key, value in student.metadata.items():
        if key not in ("kernelspec", "language_info", "nbgrader") and key not in nb.metadata:
            nb.metadata[key] = copy.deepcopy(value)
    _finish(nb)
    return nb, reasons


def _merge(
    tcell: NotebookNode, scell: NotebookNode | None, trusted: TrustedCell | None, reasons: list[str]
) -> NotebookNode:
    gid = grade_id_of(tcell)
    cell = _trusted_cell(tcell, trusted)
    locked = _is_locked(tcell, trusted)
    is_test = bool(tcell.metadata.nbgrader.get("grade")) and locked
    what = "test cell" if is_test else ("read-only cell" if locked else "solution cell")
    if scell is None:
        if locked:
            reasons.append(f"{what} '{gid}' was missing: restored")
        else:
            reasons.append(f"{what} '{gid}' was missing: the release stub was restored")
        return cell
    if locked:
        if scell.cell_type != tcell.cell_type or scell.source != tcell.source:
            reasons.append(f"{what} '{gid}' was edited: the original was restored")
        return cell
    # a cell the student writes: their source, the template's metadata and type
    if scell.cell_type != cell.cell_type:
        reasons.append(
            f"{what} '{gid}' was changed to {scell.cell_type}: changed back to {cell.cell_type}"
        )
    cell.source = scell.source
    for key, value in scell.metadata.items():
        if key not in ("nbgrader", "editable", "deletable") and key not in cell.metadata:
            cell.metadata[key] = copy.deepcopy(value)
    return cell


def _strip_nbgrader(cell: NotebookNode) -> None:
    meta = cell.get("metadata")
    if isinstance(meta, dict):
        meta.pop("nbgrader", None)


def _finish(nb: NotebookNode) -> None:
    """Unique valid cell ids (graded cells keep theirs first), no outputs, nbformat 4.5."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: set[str] = set()
    order = sorted(range(len(nb.cells)), key=lambda i: (grade_id_of(nb.cells[i]) is None, i))
    for index in order:
        cell = nb.cells[index]
        cid = cell.get("id")
        valid = isinstance(cid, str) and CELL_ID_PATTERN.match(cid) is not None
        if not valid or cid in seen:
            base = cid[:48] if valid else "cell"
            k = index
            cid = f"{base}-{k}"
            while cid in seen:
                k += 1
                cid = f"{base}-{k}"
        seen.add(cid)
        cell["id"] = cid
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)


def notebook_grade_ids(nb: dict[str, Any]) -> set[str]:
    """The grade ids of a notebook's cells (for matching a renamed notebook)."""
    return {gid for c in nb.get("cells", []) if (gid := grade_id_of(c)) is not None}
