"""The HTML exporter of feedback pages: nbconvert's pages, in a fraction of its time.

``nbgrader generate_feedback`` converts every autograded notebook with nbconvert's
``HTMLExporter``. Per page, most of its time goes to three things that a course's pages
repeat or do not need:

- after rendering, the exporter parses the whole page with BeautifulSoup (Python's
  ``html.parser``) to give every ``<img>`` without one an ``alt`` text, and to make the input
  and output areas of a JupyterLab-style page focusable, then writes the page out again:
  more than half of the time on a 500 KB page;
- every code cell is highlighted with Pygments, every markdown cell rendered with mistune,
  although most cells (instructions, set-up, visible tests, hidden tests turned into one
  comment line) are the same in every student's notebook.

:class:`FeedbackHTMLExporter` renders with the same templates, filters and resources, gives
the same ``alt`` texts by scanning the page's tags instead of building a tree (outside
``<script>``, ``<style>`` and comments, as the parser sees them), and remembers the
highlighted and rendered cells of the pages it made (per process, bounded). Its pages are
nbconvert's up to serialisation: read back by BeautifulSoup they give nbconvert's page
exactly (tested). A page with JupyterLab's cell classes, where the focus attributes matter,
or a configured ``highlight_code`` filter, goes through nbconvert's own exporter unchanged.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode

#: What nbconvert puts into an ``<img>`` without an ``alt`` attribute.
MISSING_ALT = "No description has been provided for this image"

#: Cells remembered per kind (highlighted code, rendered markdown) and process: the cells
#: of a course's notebooks, many times over, in a few tens of MB at most.
MEMO_ENTRIES = 20_000

#: Classes of a JupyterLab-style page, whose areas nbconvert makes focusable.
LAB_MARKER = "jp-Notebook"

# An <img> start tag (quoted attribute values may hold ">"), or a region the HTML parser
# reads no tags in (script and style content, comments), which is left as it is.
_IMG_OR_OPAQUE = re.compile(
    r"""(?P<opaque><(script|style)\b.*?</\2\s*>|<!--.*?-->)"""
    r"""|<img(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>""",
    re.S | re.I,
)
# The attribute names of a start tag (after its name).
_ATTR_NAME = re.compile(r"""[\s/]+([^\s/>"'=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?""")


def _with_alt(tag: str) -> str:
    names = {m.group(1).lower() for m in _ATTR_NAME.finditer(tag, 4, len(tag) - 1)}
    if "alt" in names:
        return tag
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:end].rstrip()} alt="{MISSING_ALT}"{tag[end:]}'


def add_missing_alt(page: str) -> tuple[str, int]:
    """`page` with ``alt="…"`` (:data:`MISSING_ALT`) added, as the last attribute, to every
    ``<img>`` tag that has none, outside script, style and comments; and how many."""
    added = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal added
        tag = m.group(0)
        if m.group("opaque"):
            return tag
        fixed = _with_alt(tag)
        added += fixed != tag
        return fixed

    return _IMG_OR_OPAQUE.sub(fix, page), added


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _remember(memo: dict[Any, str], key: Any, make: Callable[[], str]) -> str:
    found = memo.get(key)
    if found is None:
        if len(memo) >= MEMO_ENTRIES:
            memo.clear()
        found = memo[key] = make()
    return found


class _RememberedHighlight:
    """nbconvert's ``highlight_code`` filter for one notebook's lexer, remembering."""

    def __init__(self, highlight: Highlight2HTML, memo: dict[Any, str]) -> None:
        self.highlight = highlight
        self.memo = memo

    def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
        key = (source, language or self.highlight.pygments_lexer, _key(metadata))
        return _remember(self.memo, key, lambda: self.highlight(source, language, metadata))


class FeedbackHTMLExporter(HTMLExporter):
    """``HTMLExporter`` with the same pages, faster (see the module's text). Configured
    like it (``HTMLExporter.*`` options apply); nbgrader takes it as
    ``GenerateFeedback.exporter_class``."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._highlighted: dict[Any, str] = {}
        self._rendered: dict[Any, str] = {}

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        key = (source, _key(cell.get("attachments", {})), path)
        return _remember(
            self._rendered, key, lambda: HTMLExporter.markdown2html(self, context, source)
        )

    def from_notebook_node(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        if "highlight_code" in self.filters:
            return super().from_notebook_node(nb, resources, **kw)
        given = copy.deepcopy(resources)
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name", None))
        highlight = Highlight2HTML(pygments_lexer=lexer, parent=self)
        self.register_filter("highlight_code", _RememberedHighlight(highlight, self._highlighted))
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("filter_data_type", data_types)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if LAB_MARKER in page:
            return super().from_notebook_node(nb, given, **kw)
        page, added = add_missing_alt(page)
        if added:
            self.log.warning("Alternative text is missing on %s image(s).", added)
        return page, resources


__all__ = ["MISSING_ALT", "FeedbackHTMLExporter", "add_missing_alt"]
