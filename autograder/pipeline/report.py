"""`autograder report`: how the class did, item by item, and which submissions were slow.

From the grading records: the grade table (one line per student), per-item pass rates
(autograded items; manual items show their mean score once graded), the score
distribution and the slowest submissions. Printed as text, and written to
``reports/<assignment>/report.png`` (score histogram, pass rates, grading times) and
``reports/<assignment>/report.html`` (the same tables and the figure, one self-contained
file).
"""

from __future__ import annotations

import base64
import html
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .course import PipelineError, open_course
from .records import SubmissionRecord

SLOWEST = 5
"""How many of the slowest submissions the report lists."""

HISTOGRAM_BINS = 10
BAR_WIDTH = 30
"""Characters of the widest bar of the text histogram."""


@dataclass(frozen=True)
class ItemStats:
    notebook: str
    grade_id: str
    max_points: float
    kind: str
    passed: int
    failed: int
    not_run: int
    graded: int  # manual items with a score
    mean_points: float | None

    @property
    def attempts(self) -> int:
        return self.passed + self.failed + self.not_run

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts and self.kind != "manual" else None


@dataclass(frozen=True)
class ReportPaths:
    png: Path
    html: Path


def item_stats(records: Sequence[SubmissionRecord]) -> list[ItemStats]:
    """Per-item counts over all records, items in notebook order."""
    order: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], list] = {}
    for record in records:
        for nb in record.notebooks:
            for item in nb.items:
                key = (nb.name, item.grade_id)
                if key not in seen:
                    seen[key] = []
                    order.append(key)
                seen[key].append(item)
    order.sort(key=lambda k: k[0])  # stable: notebooks by name, items in their order
    out = []
    for key in order:
        items = seen[key]
        manual = all(i.status == "manual" for i in items)
        scored = [i.points for i in items if i.points is not None]
        out.append(
            ItemStats(
                notebook=key[0],
                grade_id=key[1],
                max_points=items[0].max_points,
                kind="manual" if manual else "autograded",
                passed=sum(i.status == "passed" for i in items),
                failed=sum(i.status == "failed" for i in items),
                not_run=sum(i.status == "not_run" for i in items),
                graded=len(scored) if manual else 0,
                mean_points=statistics.fmean(scored) if scored else None,
            )
        )
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    rendered = [header, ["-" * w for w in widths], *rows]
    return [line.format(*map(str, r)).rstrip() for r in rendered]


def grade_rows(records: Sequence[SubmissionRecord]) -> tuple[list[str], list[list[str]]]:
    notebooks = list(dict.fromkeys(nb.name for r in records for nb in r.notebooks))
    header = ["student", *notebooks, "total", "status", "seconds"]
    rows = []
    for r in sorted(records, key=lambda r: r.student):
        cells = {nb.name: nb for nb in r.notebooks}
        row = [r.student]
        for name in notebooks:
            nb = cells.get(name)
            if nb is None:
                row.append("-")
            else:
                mark = "" if nb.status in ("graded", "repaired") else f" {nb.status}"
                row.append(f"{nb.score:g}/{nb.max_score:g}{mark}")
        row += [f"{r.score:g}/{r.max_score:g}", r.status, f"{r.seconds:.1f}"]
        rows.append(row)
    return header, rows


def grade_table(records: Sequence[SubmissionRecord]) -> list[str]:
    """One line per student: each notebook's score/max (and its status if not graded)."""
    return _table(*grade_rows(records))


def item_rows(stats: Sequence[ItemStats]) -> tuple[list[str], list[list[str]]]:
    header = ["notebook", "item", "points", "passed", "failed", "not run", "pass rate"]
    rows = []
    for s in stats:
        if s.kind == "manual":
            rate = f"manual, {s.graded} graded, mean {_fmt(s.mean_points)}"
            rows.append([s.notebook, s.grade_id, _fmt(s.max_points), "-", "-", "-", rate])
        else:
            rate = "-" if s.pass_rate is None else f"{100 * s.pass_rate:.0f}%"
            rows.append(
                [
                    s.notebook,
                    s.grade_id,
                    _fmt(s.max_points),
                    str(s.passed),
                    str(s.failed),
                    str(s.not_run),
                    rate,
                ]
            )
    return header, rows


def histogram_lines(records: Sequence[SubmissionRecord]) -> list[str]:
    """A text histogram of the total scores (fraction of the maximum)."""
    if not records:
        return []
    max_score = max(r.max_score for r in records) or 1.0
    counts = [0] * HISTOGRAM_BINS
    for r in records:
        index = min(int(HISTOGRAM_BINS * r.score / max_score), HISTOGRAM_BINS - 1)
        counts[index] += 1
    top = max(counts) or 1
    out = []
    for i, n in enumerate(counts):
        lo, hi = 100 * i / HISTOGRAM_BINS, 100 * (i + 1) / HISTOGRAM_BINS
        bar = "#" * round(BAR_WIDTH * n / top)
        out.append(f"{lo:5.0f}-{hi:3.0f}%  {n:3d} {bar}")
    scores = [r.score for r in records]
    out.append(
        f"mean {statistics.fmean(scores):.2f}, median {statistics.median(scores):g} "
        f"of {max_score:g} points ({len(records)} submissions)"
    )
    return out


def slowest_rows(records: Sequence[SubmissionRecord]) -> tuple[list[str], list[list[str]]]:
    header = ["student", "seconds", "slowest notebook", "statuses"]
    rows = []
    for r in sorted(records, key=lambda r: -r.seconds)[:SLOWEST]:
        slow = max(r.notebooks, key=lambda nb: nb.seconds, default=None)
        statuses = ", ".join(sorted({nb.status for nb in r.notebooks})) or r.status
        rows.append(
            [
                r.student,
                f"{r.seconds:.1f}",
                f"{slow.name} ({slow.seconds:.1f} s)" if slow else "-",
                statuses,
            ]
        )
    return header, rows


def summary_lines(records: Sequence[SubmissionRecord]) -> list[str]:
    """The whole text report."""
    out = [
        "Grades",
        *grade_table(records),
        "",
        "Items",
        *_table(*item_rows(item_stats(records))),
        "",
        "Score distribution",
        *histogram_lines(records),
        "",
        f"Slowest submissions (top {SLOWEST})",
        *_table(*slowest_rows(records)),
    ]
    problems = [
        (r.student, nb.name, nb.status, "; ".join(nb.reasons))
        for r in records
        for nb in r.notebooks
        if nb.status not in ("graded",)
    ]
    if problems:
        out += ["", "Notebooks not graded as submitted"]
        out += [
            f"  {s} {nb}: {status}{' - ' + why if why else ''}" for s, nb, status, why in problems
        ]
    withheld = [(r.student, why) for r in records for why in r.withheld]
    if withheld:
        out += ["", "Feedback pages withheld (the grades stand)"]
        out += [f"  {s}: {why}" for s, why in withheld]
    modes = sorted({r.cases for r in records if r.cases})
    if modes:
        out += ["", "Hidden cases: " + "; ".join(modes)]
    return out


# ---------------------------------------------------------------------------------------------
# Figure and HTML


def write_figure(path: Path, records: Sequence[SubmissionRecord]) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    stats = [s for s in item_stats(records) if s.kind != "manual"]
    # Score histogram and grading times in a top row of fixed height; the pass rates (one bar
    # per graded item, a few hundred of them) below, across the full width.
    items_height = max(2.0, 0.18 * len(stats) + 1.0)
    height = 4.0 + items_height
    fig = plt.figure(figsize=(14, height))
    # margins from the longest labels, in inches (7-point text is about 0.06 in per character):
    # tight_layout would find them by drawing the few hundred labels one more time
    item_chars = max((len(f"{s.notebook}: {s.grade_id}") for s in stats), default=10)
    student_chars = max((len(r.student) for r in records), default=8)
    area = height - 1.05  # inches between the top and bottom margins
    gap = 0.06 * student_chars + 0.9  # inches for the student names and the title below them
    grid = fig.add_gridspec(
        2,
        2,
        height_ratios=[4.0, items_height],
        left=min(0.6, (0.06 * item_chars + 0.4) / 14),
        right=0.98,
        top=1 - 0.45 / height,
        bottom=0.6 / height,
        wspace=0.12,
        hspace=2 * gap / max(1.0, area - gap),  # in units of the mean row height
    )
    ax = fig.add_subplot(grid[0, 0])
    ax.hist(
        [r.score for r in records],
        bins=HISTOGRAM_BINS,
        range=(0, max((r.max_score for r in records), default=1) or 1),
        color="tab:blue",
        edgecolor="white",
    )
    ax.set(title="Total score", xlabel="points", ylabel="submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax = fig.add_subplot(grid[0, 1])
    ordered = sorted(records, key=lambda r: -r.seconds)
    ax.bar(range(len(ordered)), [r.seconds for r in ordered], color="tab:orange")
    ax.set_xticks(range(len(ordered)), [r.student for r in ordered], rotation=90, fontsize=7)
    ax.set(title="Grading time (slowest first)", ylabel="seconds")
    ax = fig.add_subplot(grid[1, :])
    labels = [f"{s.notebook}: {s.grade_id}" for s in stats]
    rates = [100 * (s.pass_rate or 0.0) for s in stats]
    notebooks = sorted({s.notebook for s in stats})
    palette = plt.get_cmap("tab10")
    colors = [palette(notebooks.index(s.notebook) % 10) for s in stats]
    ax.barh(range(len(stats)), rates, color=colors)
    ax.set_yticks(range(len(stats)), labels, fontsize=7)
    ax.set_ylim(len(stats) - 0.5, -0.5)
    ax.set(title="Pass rate per item", xlabel="% of submissions", xlim=(0, 100))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(path: Path, png: Path, records: Sequence[SubmissionRecord], title: str) -> Path:
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    hist = html.escape("\n".join(histogram_lines(records)))
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
th {{ background: #eee; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>Grades</h2>{_html_table(*grade_rows(records))}
<h2>Items</h2>{_html_table(*item_rows(item_stats(records)))}
<h2>Score distribution</h2><pre>{hist}</pre>
<h2>Slowest submissions</h2>{_html_table(*slowest_rows(records))}
<h2>Figures</h2><img alt="score histogram, pass rates and grading times"
 src="data:image/png;base64,{image}">
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def write(
    course_dir: str | os.PathLike[str],
    records: Sequence[SubmissionRecord],
    *,
    assignment: str | None = None,
) -> ReportPaths:
    """Write reports/<assignment>/report.png and report.html of `course_dir` for `records`
    (of `assignment`; default: the records' own)."""
    if assignment is None:
        assignment = next((r.assignment for r in records), "")
    folder = Path(course_dir).resolve() / "reports" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    png = write_figure(folder / "report.png", records)
    page = write_html(
        folder / "report.html",
        png,
        records,
        f"Assignment {assignment}: grading report ({len(records)} submissions)",
    )
    return ReportPaths(png, page)


def main(
    *,
    course_dir: str | os.PathLike[str] = ".",
    assignment: str | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """`autograder report`: print the report and write reports/report.{png,html}."""
    from .export import course_records

    course = open_course(course_dir, assignment)
    records = course_records(course)
    if not records:
        raise PipelineError(f"no grades in {course.root}: run `autograder grade` first")
    for line in summary_lines(records):
        out(line)
    paths = write(course.root, records, assignment=course.assignment)
    out("")
    out(f"report: {paths.html}")
    out(f"figure: {paths.png}")
    return 0
