"""What the notebooks' texts say about their demonstrations, and where the reference run prints it.

Every number that a "What to look for" cell (or an introduction) quotes about a demonstration is
a `Quote`: the words as the text has them, the demonstration cell whose printed output shows the
number, a pattern that finds it there, and the range the text's wording allows ("about 0.015"
is `about(0.015, 0.005)`). Statements that compare printed numbers without quoting one ("both
beat the random re-initialisation") are `Claim`s with a small check. `test_notebooks.py` checks
both on the reference run of the notebooks (executed once for the whole suite): the quoted words
must still be in the text, and the printed number in the range. When a demonstration changes,
fix the text to what it prints, then its entry here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

NB01 = "01_mode_connectivity.ipynb"
NB02 = "02_landscape_geometry.ipynb"
NB03 = "03_lottery_tickets.ipynb"

#: Cell id -> the text a code cell printed (stdout), for one executed notebook.
Printed = Mapping[str, str]


def about(value: float, tol: float) -> tuple[float, float]:
    """The range that "about `value`" allows."""
    return (value - tol, value + tol)


def order(value: float) -> tuple[float, float]:
    """The range that "of the order of `value`" allows: a factor of sqrt(10) either way."""
    return (value / math.sqrt(10), value * math.sqrt(10))


def exactly(value: float) -> tuple[float, float]:
    return (value, value)


@dataclass(frozen=True)
class Quote:
    """A number (or word) quoted by the markdown cell `text` and printed by the code cell `cell`.

    `pattern` is searched (multi-line) in the cell's printed output and has one group: the
    number, which must lie in `bounds`, or the word, which must equal `word`.
    """

    notebook: str
    text: str
    quoted: str
    cell: str
    pattern: str
    bounds: tuple[float, float] | None = None
    word: str | None = None

    def printed_value(self, printed: Printed) -> str:
        match = re.search(self.pattern, printed.get(self.cell, ""), re.MULTILINE)
        if match is None:
            raise AssertionError(
                f"{self.notebook}: the output of {self.cell!r} has no line matching "
                f"{self.pattern!r}, the number that {self.text!r} quotes as {self.quoted!r}; "
                f"it printed:\n{printed.get(self.cell, '(nothing)')}"
            )
        return match.group(1)


@dataclass(frozen=True)
class Claim:
    """A comparison that the markdown cell `text` states (in the words `quoted`) about a run."""

    notebook: str
    text: str
    quoted: str
    check: Callable[[Printed], None]


def numbers(printed: Printed, cell: str, pattern: str) -> list[float]:
    """The first group of every match of `pattern` in the output of `cell`, as floats."""
    found = [float(m.group(1)) for m in re.finditer(pattern, printed[cell], re.MULTILINE)]
    assert found, f"the output of {cell!r} has no line matching {pattern!r}"
    return found


def one(printed: Printed, cell: str, pattern: str) -> float:
    (value,) = numbers(printed, cell, pattern)[:1]
    return value


# A float as the demonstrations print it (3.2e-04, -0.5, 0.25, 1,000 is not one).
NUM = r"(-?\d+(?:\.\d+)?(?:e[+-]\d+)?)"


def _quotes_01() -> list[Quote]:
    q = [
        Quote(
            NB01,
            "demo-linear-after",
            "low loss (about 0.2)",
            "demo-train-independent",
            rf"theta_a: test loss {NUM},",
            about(0.2, 0.03),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "low loss (about 0.2)",
            "demo-train-independent",
            rf"theta_b: test loss {NUM},",
            about(0.2, 0.03),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "high accuracy (above 0.9)",
            "demo-train-independent",
            rf"theta_a: .*test accuracy {NUM}",
            (0.9, 1.0),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "high accuracy (above 0.9)",
            "demo-train-independent",
            rf"theta_b: .*test accuracy {NUM}",
            (0.9, 1.0),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "a ridge of about 1.8",
            "demo-linear-path",
            rf"highest loss {NUM},",
            about(1.8, 0.1),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            r"$\ln 4 \approx 1.39$",
            "demo-train-independent",
            rf"loss ln 4 = {NUM},",
            about(1.39, 0.005),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "chance level of 0.25",
            "demo-train-independent",
            rf"chance level: .*accuracy {NUM}",
            exactly(0.25),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "falls to about the chance level",
            "demo-linear-path",
            rf"lowest accuracy {NUM}",
            about(0.25, 0.05),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "the same number here, about 1.6",
            "demo-linear-path",
            rf"endpoints' mean \(Frankle et al. 2020\): {NUM}",
            about(1.6, 0.1),
        ),
        Quote(
            NB01,
            "demo-linear-after",
            "the same number here, about 1.6",
            "demo-linear-path",
            rf"chord \(Entezari et al. 2022\):\s+{NUM}",
            about(1.6, 0.1),
        ),
    ]
    for n_points, near in ((5, "near 0"), (11, "near 0"), (201, "a barrier of about 2")):
        bounds = (0.0, 0.01) if n_points < 201 else about(2.0, 0.05)
        q += [
            Quote(
                NB01,
                "pitfall-grid-after",
                near,
                "demo-coarse-grid",
                rf"^\s*{n_points} alphas: barrier \(mean\) {NUM},",
                bounds,
            ),
            Quote(
                NB01,
                "pitfall-grid-after",
                near,
                "demo-coarse-grid",
                rf"^\s*{n_points} alphas: .*barrier \(chord\) {NUM}",
                bounds,
            ),
        ]
    q += [
        Quote(
            NB01,
            "demo-bezier-after",
            "a barrier of about 0.04",
            "demo-bezier",
            rf"barrier \(mean / chord\):.*Bezier curve {NUM} /",
            about(0.04, 0.01),
        ),
        Quote(
            NB01,
            "demo-bezier-after",
            "against about 1.6 on the straight",
            "demo-bezier",
            rf"barrier \(mean / chord\): straight line {NUM} /",
            about(1.6, 0.1),
        ),
        Quote(
            NB01,
            "demo-bezier-after",
            "stays above 0.9 all along",
            "demo-bezier",
            rf"min test accuracy: .*Bezier curve {NUM}",
            (0.9, 1.0),
        ),
        Quote(
            NB01,
            "demo-bezier-after",
            "has a high loss (about 1.8)",
            "demo-bezier",
            rf"theta_mid itself \(not on the curve\): test loss {NUM},",
            about(1.8, 0.1),
        ),
        Quote(
            NB01,
            "demo-basins-after",
            "a barrier of about 0.015",
            "demo-basins",
            rf"the pair spawned at step 50 \(4, 5\): {NUM}",
            about(0.015, 0.005),
        ),
        Quote(
            NB01,
            "demo-basins-after",
            "(about 0.08 to 0.21)",
            "demo-basins",
            rf"one initialisation, other pairs:\s+{NUM} to",
            about(0.08, 0.01),
        ),
        Quote(
            NB01,
            "demo-basins-after",
            "(about 0.08 to 0.21)",
            "demo-basins",
            rf"one initialisation, other pairs:\s+\S+ to {NUM}",
            about(0.21, 0.01),
        ),
        Quote(
            NB01,
            "demo-basins-after",
            "(about 1.4 to 2.0)",
            "demo-basins",
            rf"different initialisations:\s+{NUM} to",
            about(1.4, 0.05),
        ),
        Quote(
            NB01,
            "demo-basins-after",
            "(about 1.4 to 2.0)",
            "demo-basins",
            rf"different initialisations:\s+\S+ to {NUM}",
            about(2.0, 0.05),
        ),
        Quote(
            NB01,
            "demo-basins-after",
            "Every other solution is alone",
            "demo-basins",
            r"linear basins with delta = 0.05: (.*)$",
            word="[{0}, {1}, {2}, {3}, {4, 5}]",
        ),
    ]
    spawned, independent = r"spawned at step 50 \(4, 5\)", r"independent \(0, 1\)"
    q += [
        Quote(
            NB01,
            "demo-merging-after",
            "(about 0.92,",
            "demo-merging",
            rf"{spawned}\s+\S+\s+\S+\s+{NUM}",
            about(0.92, 0.01),
        ),
        Quote(
            NB01,
            "demo-merging-after",
            "against 0.94 for the ensemble",
            "demo-merging",
            rf"{spawned}\s+\S+\s+\S+\s+\S+\s+{NUM}",
            about(0.94, 0.01),
        ),
        Quote(
            NB01,
            "demo-merging-after",
            "0.92 for each member",
            "demo-merging",
            rf"{spawned}\s+{NUM}",
            about(0.92, 0.01),
        ),
        Quote(
            NB01,
            "demo-merging-after",
            "0.92 for each member",
            "demo-merging",
            rf"{spawned}\s+\S+\s+{NUM}",
            about(0.92, 0.01),
        ),
        Quote(
            NB01,
            "demo-merging-after",
            "still good (about 0.93)",
            "demo-merging",
            rf"{independent}\s+\S+\s+\S+\s+\S+\s+{NUM}",
            about(0.93, 0.01),
        ),
        Quote(
            NB01,
            "demo-merging-after",
            "about chance (0.25)",
            "demo-merging",
            rf"{independent}\s+\S+\s+\S+\s+{NUM}",
            about(0.25, 0.03),
        ),
    ]
    return q


def _quotes_01_alignment() -> list[Quote]:
    """Section 7 of notebook 01: the barrier before and after aligning the hidden units."""
    row = {
        label: rf"^width {label}\s+{NUM}\s+{NUM}$"
        for label in ("32, as trained", "32, aligned", "64, as trained", "64, aligned")
    }

    def quote(quoted: str, label: str, column: int, bounds: tuple[float, float]) -> Quote:
        pattern = row[label].replace(NUM, r"\S+", 1) if column == 2 else row[label]
        return Quote(NB01, "demo-permutation-after", quoted, "demo-permutation", pattern, bounds)

    return [
        Quote(
            NB01,
            "permutation-intro",
            "a barrier of about 1.6",
            "demo-linear-path",
            rf"chord \(Entezari et al. 2022\):\s+{NUM}",
            about(1.6, 0.1),
        ),
        Quote(
            NB01,
            "demo-permutation-after",
            "(about $10^{-5}$)",
            "demo-permutation",
            rf"max \|change of a logit\| {NUM}",
            order(1e-5),
        ),
        quote("falls from about 1.6 to about", "32, as trained", 1, about(1.6, 0.1)),
        quote("to about 0.3,", "32, aligned", 1, about(0.3, 0.05)),
        quote("goes from chance (0.25)", "32, as trained", 2, about(0.25, 0.03)),
        quote("to about 0.82 accuracy", "32, aligned", 2, about(0.82, 0.02)),
        quote("falls from about 1.2 to about 0.04", "64, as trained", 1, about(1.2, 0.1)),
        quote("falls from about 1.2 to about 0.04", "64, aligned", 1, about(0.04, 0.02)),
        Quote(
            NB01,
            "demo-permutation-after",
            "*higher* (1.8 here)",
            "demo-permutation",
            rf"barrier after each pass: {NUM},",
            about(1.8, 0.1),
        ),
        quote("(0.3 at width 32)", "32, aligned", 1, about(0.3, 0.05)),
    ]


def _quotes_01_batch_norm() -> list[Quote]:
    """Notebook 01: batch norm on the straight line (05a)."""
    scale, var = "demo-bn-train", "demo-bn-line"

    def cell_of_row(pair: tuple[int, int], column: int) -> str:
        """The pattern of the table's `column` (0-based, over the 9 numbers) in the row `pair`."""
        return rf"^{pair[0]}, {pair[1]}" + r"\s+\S+" * column + rf"\s+{NUM}"

    q = [
        Quote(
            NB01,
            "demo-bn-after",
            "(about 0.29 both times)",
            scale,
            rf"x 3, with batch norm: test loss {NUM} ->",
            about(0.29, 0.01),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "(about 0.29 both times)",
            scale,
            rf"x 3, with batch norm: test loss \S+ -> {NUM}",
            about(0.29, 0.01),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "from about 0.20",
            scale,
            rf"x 3, without: test loss {NUM} ->",
            about(0.20, 0.02),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "to about 0.54",
            scale,
            rf"x 3, without: test loss \S+ -> {NUM}",
            about(0.54, 0.03),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "about 0.46 (first batch-norm layer)",
            var,
            rf"batch-norm layer 1: mean {NUM},",
            about(0.46, 0.03),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "and 0.38 (second)",
            var,
            rf"batch-norm layer 4: mean {NUM},",
            about(0.38, 0.03),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "the smallest variance ratio is about 0.001",
            var,
            rf"batch-norm layer 1: .*smallest {NUM}",
            about(0.001, 0.001),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "about 0.57 against",
            var,
            rf"\(a\) interpolated: std of the logits {NUM},",
            about(0.57, 0.05),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "against 2.0 with the true statistics",
            var,
            rf"\(b\) recomputed: std of the logits {NUM},",
            about(2.0, 0.1),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "about 0.41 on average",
            var,
            rf"\(a\) interpolated: .*predicted probability {NUM}",
            about(0.41, 0.03),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "(about 0.66 with the true statistics)",
            var,
            rf"\(b\) recomputed: .*predicted probability {NUM}",
            about(0.66, 0.03),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "the 0.25 of a uniform guess",
            "demo-train-independent",
            rf"chance level: .*accuracy {NUM}",
            exactly(0.25),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "highest about 1.45",
            var,
            rf"^\(a\) .*highest test loss {NUM}",
            about(1.45, 0.05),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "accuracy near chance (about 0.29)",
            var,
            rf"^\(a\) .*\(accuracy there {NUM}\)",
            about(0.29, 0.03),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "(about 1.9 against 1.6)",
            var,
            cell_of_row((1, 2), 1),
            about(1.9, 0.1),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "(about 1.9 against 1.6)",
            var,
            cell_of_row((1, 2), 2),
            about(1.6, 0.1),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "against 0.7 to 1.1)",
            var,
            cell_of_row((1, 2), 5),
            about(0.7, 0.05),
        ),
        Quote(
            NB01,
            "demo-bn-after",
            "against 0.7 to 1.1)",
            var,
            cell_of_row((5, 6), 5),
            about(1.1, 0.05),
        ),
    ]
    q += [
        Quote(
            NB01, "demo-bn-after", "(about 0.5 against", var, cell_of_row(pair, 4), about(0.5, 0.07)
        )
        for pair in ((1, 2), (3, 4), (5, 6))
    ]
    return q


def _quotes_01_bezier_plane() -> list[Quote]:
    """Notebook 01: the loss on the plane of the trained Bezier curve (section 4)."""
    mid = "demo-bezier-plane"
    return [
        Quote(
            NB01,
            "demo-bezier-plane-after",
            "about 1.3 thousand dimensions",
            mid,
            rf"the {NUM}-dimensional weight space",
            about(1300, 50),
        ),
        Quote(
            NB01,
            "demo-bezier-plane-after",
            "the test loss is about 1.8, the ridge",
            mid,
            rf"middle of the straight line {NUM},",
            about(1.8, 0.1),
        ),
        Quote(
            NB01,
            "demo-bezier-plane-after",
            "about 0.3 of",
            mid,
            rf"{NUM} of \|theta_b - theta_a\| away",
            about(0.3, 0.03),
        ),
        Quote(
            NB01,
            "demo-bezier-plane-after",
            "the loss there is about 0.2",
            mid,
            rf"middle of the curve {NUM},",
            about(0.2, 0.05),
        ),
        Quote(
            NB01,
            "demo-bezier-plane-after",
            "(loss about 1.8)",
            mid,
            rf"theta_mid {NUM};",
            about(1.8, 0.1),
        ),
    ]


def _quotes_02() -> list[Quote]:
    row = {label: rf"^{label}" + r"\s+" for label in ("full batch", "batch 32")}
    q = [
        Quote(
            NB02,
            "demo-hvp-after",
            "to about 15 digits",
            "demo-hvp",
            rf"hvp, float64: .* = {NUM}",
            order(1e-15),
        ),
        Quote(
            NB02,
            "demo-hvp-after",
            "in float32 to about 7",
            "demo-hvp",
            rf"hvp, float32: .* = {NUM}",
            order(1e-7),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            "its standard deviation is about 18",
            "demo-hutchinson",
            rf"std of one probe: measured {NUM},",
            about(18, 1),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            "half the trace",
            "demo-hutchinson",
            r"one probe's std is (\d+)% of the trace",
            about(50, 5),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            "the trace of about 36.9",
            "demo-hutchinson",
            rf"exact trace \(full Hessian\):\s+{NUM}",
            about(36.9, 0.05),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            "(about 20)",
            "demo-hutchinson",
            rf"predicted sqrt\(2 sum_\(i!=j\) H_ij\^2\) = {NUM}",
            about(20, 0.5),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            "the estimate is about 36.1",
            "demo-hutchinson",
            rf"hutchinson_trace of all 300 at once:\s+{NUM}",
            about(36.1, 0.05),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            "off by about 2% of the trace",
            "demo-hutchinson",
            rf"off by {NUM}% of the exact",
            about(2, 0.5),
        ),
        Quote(
            NB02,
            "demo-hutchinson-after",
            r"a band of about $\pm 1.0$",
            "demo-hutchinson",
            rf"Hutchinson, 300 probes:\s+\S+ \+- {NUM}",
            about(1.0, 0.05),
        ),
        Quote(
            NB02,
            "demo-perturbation-after",
            "within about 15% of 1 up to",
            "demo-perturbation",
            rf"ratio for sigma <= 0.02: from {NUM} to",
            (0.84, 1.0),
        ),
        Quote(
            NB02,
            "demo-perturbation-after",
            "within about 15% of 1 up to",
            "demo-perturbation",
            rf"ratio for sigma <= 0.02: from \S+ to {NUM};",
            (1.0, 1.16),
        ),
        Quote(
            NB02,
            "demo-perturbation-after",
            "about 1.5 times the prediction",
            "demo-perturbation",
            rf"at sigma = 0.1: {NUM}",
            about(1.5, 0.1),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "grows from 2.93",
            "demo-spectrum-trace",
            rf"^\s+10 \|\s+{NUM}",
            about(2.93, 0.005),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "to 16.70",
            "demo-spectrum-trace",
            rf"^10,000,000 \|\s+{NUM}",
            about(16.70, 0.005),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "about 2.3 more for every",
            "demo-spectrum-trace",
            rf"sum 1/k grows by {NUM} per factor of ten",
            about(2.3, 0.05),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "trace is 0.582",
            "demo-spectrum-trace",
            rf"^\s+10 \|(?:\s+\S+){{3}} \|\s+{NUM}",
            about(0.582, 0.0005),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "about 29 times more sensitive",
            "demo-spectrum-trace",
            rf"at d = 10\^7 it is {NUM} times",
            about(29, 0.5),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "(1 against 0.37)",
            "demo-spectrum-trace",
            rf"1/1 = {NUM} against",
            exactly(1.0),
        ),
        Quote(
            NB02,
            "demo-spectrum-trace-after",
            "(1 against 0.37)",
            "demo-spectrum-trace",
            rf"e\^-1 = {NUM}",
            about(0.37, 0.005),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "the top one about 11.0",
            "demo-spectrum",
            rf"eigvalsh {NUM}, power",
            about(11.0, 0.1),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "the next one, about 8.0",
            "demo-spectrum",
            rf"next one {NUM}$",
            about(8.0, 0.1),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "a block of 29 eigenvalues",
            "demo-spectrum",
            r"eigenvalues with \|lambda\| <= 1e-9: (\d+);",
            exactly(29),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "exactly as many as",
            "demo-spectrum",
            r"total (\d+)$",
            exactly(29),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            r"of the order of $10^{-15}$",
            "demo-spectrum",
            rf"smallest \|lambda\| are at most {NUM},",
            order(1e-15),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            r"against $10^{-7}$ for the next one",
            "demo-spectrum",
            rf"the next one is {NUM}$",
            order(1e-7),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "17 softmax shifts",
            "demo-spectrum",
            r"softmax shift 16 \+ 1 = (\d+),",
            exactly(17),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "6 for each of the 2 dead units",
            "demo-spectrum",
            r"- 1 softmax shift = (\d+)\)",
            exactly(6),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "6 for each of the 2 dead units",
            "demo-spectrum",
            r"dead hidden units: (\d+) of",
            exactly(2),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "a handful (6) of small",
            "demo-spectrum",
            r"negative eigenvalues below -1e-8: (\d+),",
            exactly(6),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            r"at most about $4\times10^{-4}$",
            "demo-spectrum",
            rf"the most negative {NUM},",
            about(-4e-4, 0.5e-4),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            r"about $3\times10^{4}$ times smaller",
            "demo-spectrum",
            rf"{NUM} times smaller than the top",
            about(3e4, 0.5e4),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            r"about $7\times10^{-3}$",
            "demo-spectrum",
            rf"gradient norm at the trained point: {NUM}",
            about(7e-3, 0.5e-3),
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "the test says **saddle**",
            "demo-spectrum",
            r"default tol 1e-8:\s+'(\w+)'",
            word="saddle",
        ),
        Quote(
            NB02,
            "demo-spectrum-after",
            "the answer is **degenerate**",
            "demo-spectrum",
            r"lambda_max = \S+: '(\w+)'",
            word="degenerate",
        ),
        Quote(
            NB02,
            "sharp-flat-intro",
            "125 epochs, which is 125 steps",
            "demo-train-batch",
            r"full batch: 125 epochs =\s+(\d+) Adam steps",
            exactly(125),
        ),
        Quote(
            NB02,
            "sharp-flat-intro",
            "and 4000 steps",
            "demo-train-batch",
            r"batch 32: 125 epochs =\s+(\d+) Adam steps",
            exactly(4000),
        ),
        Quote(
            NB02,
            "sharp-flat-intro",
            "$d = 1284$",
            "demo-train-batch",
            r"d = (\d+) parameters",
            exactly(1284),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(0.13 and 0.12)",
            "demo-sharpness",
            rf"{row['full batch']}{NUM}",
            about(0.13, 0.005),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(0.13 and 0.12)",
            "demo-sharpness",
            rf"{row['batch 32']}{NUM}",
            about(0.12, 0.005),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "about 2 times the trace",
            "demo-sharpness",
            rf"against batch 32: {NUM} times the trace",
            about(2.0, 0.2),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(67 against 32)",
            "demo-sharpness",
            rf"{row['full batch']}(?:\S+\s+){{3}}{NUM}",
            about(67, 1),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(67 against 32)",
            "demo-sharpness",
            rf"{row['batch 32']}(?:\S+\s+){{3}}{NUM}",
            about(32, 1),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "about 2.6 times the top eigenvalue",
            "demo-sharpness",
            rf"times the trace, {NUM} times the top",
            about(2.6, 0.1),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(12.5 against 4.8)",
            "demo-sharpness",
            rf"{row['full batch']}(?:\S+\s+){{4}}{NUM}",
            about(12.5, 0.1),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(12.5 against 4.8)",
            "demo-sharpness",
            rf"{row['batch 32']}(?:\S+\s+){{4}}{NUM}",
            about(4.8, 0.1),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            r"(about $2.8\times10^{-3}$",
            "demo-sharpness",
            rf"{row['full batch']}(?:\S+\s+){{5}}{NUM} \(",
            about(2.8e-3, 0.1e-3),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            r"against $2.0\times10^{-3}$",
            "demo-sharpness",
            rf"{row['batch 32']}(?:\S+\s+){{5}}{NUM} \(",
            about(2.0e-3, 0.1e-3),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "within about 25% of",
            "demo-sharpness",
            rf"{row['full batch']}.*, {NUM}\)$",
            about(1.0, 0.25),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "within about 25% of",
            "demo-sharpness",
            rf"{row['batch 32']}.*, {NUM}\)$",
            about(1.0, 0.25),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(about 0.94 for both)",
            "demo-sharpness",
            rf"{row['full batch']}(?:\S+\s+){{2}}{NUM}",
            about(0.94, 0.005),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(about 0.94 for both)",
            "demo-sharpness",
            rf"{row['batch 32']}(?:\S+\s+){{2}}{NUM}",
            about(0.94, 0.005),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(about 0.18 against 0.2)",
            "demo-sharpness",
            rf"{row['full batch']}\S+\s+{NUM}",
            about(0.18, 0.005),
        ),
        Quote(
            NB02,
            "demo-sharpness-after",
            "(about 0.18 against 0.2)",
            "demo-sharpness",
            rf"{row['batch 32']}\S+\s+{NUM}",
            about(0.2, 0.01),
        ),
        Quote(
            NB02,
            "demo-rescale-after",
            "a difference of exactly 0",
            "demo-rescale",
            rf"^\s+0\.25\s+{NUM}",
            exactly(0.0),
        ),
        Quote(
            NB02,
            "demo-rescale-after",
            "a difference of exactly 0",
            "demo-rescale",
            rf"^\s+4\.0\s+{NUM}",
            exactly(0.0),
        ),
        Quote(
            NB02,
            "demo-rescale-after",
            "about 32 to about 310",
            "demo-rescale",
            rf"^\s+1\.0(?:\s+\S+){{3}}\s+{NUM}",
            about(32, 1),
        ),
        Quote(
            NB02,
            "demo-rescale-after",
            "about 32 to about 310",
            "demo-rescale",
            rf"^\s+0\.25(?:\s+\S+){{3}}\s+{NUM}",
            about(310, 10),
        ),
        Quote(
            NB02,
            "demo-rescale-after",
            "far above the 67",
            "demo-rescale",
            rf"SHARP full-batch solution: trace {NUM}",
            about(67, 1),
        ),
        Quote(
            NB02,
            "demo-surface-intro",
            "share their contour levels",
            "demo-surface",
            r"contour levels shared by all (\d+) panels",
            exactly(2),
        ),
        Quote(
            NB02,
            "demo-surface-after",
            "about 7% of the grid for batch 32",
            "demo-surface",
            rf"batch 32: .*loss < 0.5: {NUM},",
            about(0.07, 0.01),
        ),
        Quote(
            NB02,
            "demo-surface-after",
            "about 10% for full batch",
            "demo-surface",
            rf"full batch: .*loss < 0.5: {NUM},",
            about(0.10, 0.01),
        ),
        Quote(
            NB02,
            "demo-surface-after",
            "(norm about 20 against 30)",
            "demo-surface",
            rf"full batch: .*\|theta\| {NUM}$",
            about(20, 0.5),
        ),
        Quote(
            NB02,
            "demo-surface-after",
            "(norm about 20 against 30)",
            "demo-surface",
            rf"batch 32: .*\|theta\| {NUM}$",
            about(30, 0.5),
        ),
        Quote(
            NB02,
            "demo-surface-rescaled-intro",
            "All four panels share",
            "demo-surface-rescaled",
            r"contour levels shared by all (\d+) panels",
            exactly(4),
        ),
        Quote(
            NB02,
            "demo-surface-rescaled-after",
            "the two pictures differ",
            "demo-surface-rescaled",
            rf"raw directions: .* = {NUM}$",
            (1.0, math.inf),
        ),
        Quote(
            NB02,
            "demo-surface-rescaled-after",
            "is exactly 0",
            "demo-surface-rescaled",
            rf"filter-normalised directions: .* = {NUM}$",
            exactly(0.0),
        ),
    ]
    q += _quotes_02_top_direction()
    return q


def _quotes_02_top_direction() -> list[Quote]:
    text, cell = "demo-top-direction-after", "demo-top-direction"
    q = [
        Quote(NB02, text, "rises by less than 0.005", cell, rf"along r {NUM}$", (0.0, 0.005)),
        Quote(NB02, text, "of about 0.03", cell, rf"r\^T H r = {NUM};", about(0.03, 0.005)),
        Quote(NB02, text, "from 0.13", cell, rf"training loss {NUM} at theta", about(0.13, 0.005)),
        Quote(NB02, text, "by up to about 2.6", cell, rf"along v {NUM},", about(2.6, 0.1)),
        Quote(NB02, text, r"$\lambda \approx 12.5$", cell, rf"lambda = {NUM}$", about(12.5, 0.1)),
        Quote(NB02, text, "400 times the curvature", cell, rf"lambda is {NUM} times", (350, 450)),
        Quote(NB02, text, "$d = 1284$", cell, r"d = (\d+):", exactly(1284)),
        Quote(
            NB02,
            text,
            r"$1/\sqrt d \approx 0.03$",
            cell,
            rf"1/sqrt\(d\) = {NUM}",
            about(0.03, 0.003),
        ),
        Quote(
            NB02, text, "(the printed cosine)", cell, rf"\|cos\(v, r\)\| = {NUM}", about(0.03, 0.01)
        ),
    ]
    for t in ("-0.05", "0.05"):
        q.append(
            Quote(
                NB02,
                text,
                "within about 10% at $|t| = 0.05$",
                cell,
                rf"^\s+{t}(?:\s+\S+){{2}}\s+{NUM}",
                about(1.0, 0.12),
            )
        )
    return q


def _quotes_03() -> list[Quote]:
    return [
        Quote(
            NB03,
            "schedule-intro",
            "11 trainings",
            "demo-schedule",
            r"90% sparsity at 20% a round:\s+(\d+) rounds",
            exactly(11),
        ),
        Quote(
            NB03,
            "schedule-intro",
            "99% takes 21",
            "demo-schedule",
            r"99% sparsity at 20% a round:\s+(\d+) rounds",
            exactly(21),
        ),
        Quote(
            NB03,
            "demo-schedule-after",
            "within about one weight",
            "demo-schedule",
            rf"formula and whole weights: {NUM} weights",
            (0.0, 1.5),
        ),
        Quote(
            NB03,
            "demo-schedule-after",
            r"\approx 10.3$ rounds",
            "demo-schedule",
            rf"log 0.1 / log 0.8 = {NUM}",
            about(10.3, 0.05),
        ),
        Quote(
            NB03,
            "demo-imp-intro",
            "1216 prunable weights",
            "demo-helpers",
            r"prunable weights: (\d+)",
            exactly(1216),
        ),
        Quote(NB03, "demo-imp-intro", "68 biases", "demo-helpers", r"biases: (\d+)", exactly(68)),
        Quote(
            NB03,
            "demo-imp-intro",
            "about 93% sparse",
            "demo-imp",
            rf"^\s+13\s+{NUM}%",
            about(93, 0.5),
        ),
        Quote(
            NB03,
            "demo-imp-after",
            "(1024 of the 1216 weights)",
            "demo-helpers",
            r"2\.weight (\d+)",
            exactly(1024),
        ),
        Quote(
            NB03,
            "demo-supermask-after",
            "`unchanged: True`",
            "demo-supermask",
            r"weights unchanged by training: (\w+);",
            word="True",
        ),
        Quote(
            NB03,
            "demo-supermask-after",
            "(about 0.22 and 0.26 against 0.25)",
            "demo-supermask",
            rf"random 50% mask .*:\s+{NUM}",
            about(0.22, 0.01),
        ),
        Quote(
            NB03,
            "demo-supermask-after",
            "(about 0.22 and 0.26 against 0.25)",
            "demo-supermask",
            rf"frozen random weights, no mask:\s+{NUM}",
            about(0.26, 0.01),
        ),
        Quote(
            NB03,
            "demo-supermask-after",
            "(about 0.22 and 0.26 against 0.25)",
            "demo-supermask",
            rf"chance \(1 / NUM_CLASSES\):\s+{NUM}",
            exactly(0.25),
        ),
        Quote(
            NB03,
            "demo-supermask-after",
            "at about 0.75",
            "demo-supermask",
            rf"LEARNED supermask .*:\s+{NUM}",
            about(0.75, 0.01),
        ),
        Quote(
            NB03,
            "demo-supermask-after",
            "(about 0.94 for the dense one)",
            "demo-imp",
            rf"dense network: {NUM},",
            about(0.94, 0.005),
        ),
        Quote(
            NB03,
            "demo-overlap-intro",
            "at 73.8% sparsity",
            "demo-overlap",
            rf"\(sparsity {NUM}%\)",
            about(73.8, 0.05),
        ),
    ]


def _quotes_03_imp_seeds() -> list[Quote]:
    """Frankle & Carbin's figure (demo-imp-seeds): rows of remaining %, IMP and random pruning."""
    intro, text, cell = "demo-imp-seeds-intro", "demo-imp-seeds-after", "demo-imp-seeds"

    def row(remaining: str, column: int) -> str:
        # column 0: IMP mean, 1: random-pruning mean, 2: mean gap; each mean is "mean +- std"
        return rf"^\s+{remaining}%\s+(?:\S+\s+){{{3 * column}}}\+?{NUM}"

    return [
        Quote(NB03, intro, "27 trainings", cell, r"\) = (\d+); dense", exactly(27)),
        Quote(NB03, intro, "6.25% of the weights remain", cell, r"^\s+(6\.25)%", exactly(6.25)),
        Quote(
            NB03, intro, "as accurate as", cell, rf"of section 3.3: {NUM} after", about(0.94, 0.01)
        ),
        Quote(
            NB03,
            intro,
            "as accurate as",
            cell,
            rf"full-batch steps, {NUM} after",
            about(0.94, 0.01),
        ),
        Quote(NB03, text, "(about 0.94)", cell, row("100.00", 0), about(0.94, 0.005)),
        Quote(NB03, text, "(a gap of about 0.02)", cell, row("50.00", 2), about(0.02, 0.01)),
        Quote(NB03, text, "reach about 0.90", cell, row("25.00", 0), about(0.90, 0.01)),
        Quote(NB03, text, "against about 0.76", cell, row("25.00", 1), about(0.76, 0.01)),
        Quote(NB03, text, "with 12.5% about 0.80", cell, row("12.50", 0), about(0.80, 0.01)),
        Quote(NB03, text, "against about 0.46", cell, row("12.50", 1), about(0.46, 0.01)),
        Quote(NB03, text, "(about 0.60)", cell, row("6.25", 0), about(0.60, 0.01)),
        Quote(NB03, text, "random pruning is near chance", cell, row("6.25", 1), (0.25, 0.3)),
        Quote(
            NB03,
            text,
            "IMP is ahead for every initialisation at every sparsity",
            cell,
            r"at every sparsity: (\w+)$",
            word="True",
        ),
    ]


QUOTES: list[Quote] = (
    _quotes_01()
    + _quotes_01_alignment()
    + _quotes_01_batch_norm()
    + _quotes_01_bezier_plane()
    + _quotes_02()
    + _quotes_03()
    + _quotes_03_imp_seeds()
)


# ---------------------------------------------------------------------------------------------
# Claims: comparisons the texts state without quoting a number


def _imp_rows(printed: Printed) -> list[tuple[float, float, float, list[float]]]:
    """(sparsity, rewound, re-init, per-layer densities) of every row of the IMP table."""
    rows = []
    for match in re.finditer(
        rf"^\s+\d+\s+{NUM}%\s+{NUM}\s+{NUM}\s+\S+\s+(.*)$", printed["demo-imp"], re.MULTILINE
    ):
        densities = [float(d) for d in match.group(4).split(" / ")]
        rows.append(
            (float(match.group(1)), float(match.group(2)), float(match.group(3)), densities)
        )
    assert len(rows) == 13, f"expected 13 rounds in the IMP table, found {len(rows)}"
    return rows


def low_sparsity_is_noise(printed: Printed) -> None:
    gaps = [abs(a - b) for s, a, b, _ in _imp_rows(printed) if s < 40]
    assert gaps and max(gaps) <= 0.02, f"below 40% sparsity the gaps are {gaps}, not noise"


def high_sparsity_separates(printed: Printed) -> None:
    sparsest = _imp_rows(printed)[-1]
    assert sparsest[1] - sparsest[2] >= 0.03, f"no clear gap at the highest sparsity: {sparsest}"


def middle_layer_loses_fastest(printed: Printed) -> None:
    first, middle, last = _imp_rows(printed)[-1][3]
    assert first > last > middle, (
        f"densities 0/2/4.weight at the sparsest round: {first, middle, last}"
    )


def both_rewindings_beat_reinit(printed: Printed) -> None:
    step0, late, reinit = numbers(printed, "demo-late", rf"(?:step 0|step \d+|re-init) {NUM}")
    assert min(step0, late) > reinit, f"mean accuracies at >= 80%: {step0}, {late}, {reinit}"


def imp_error_bars_apart(printed: Printed) -> None:
    pattern = rf"^\s+(?:25\.00|12\.50|6\.25)%\s+{NUM} \+- {NUM}\s+{NUM} \+- {NUM}"
    rows = re.findall(pattern, printed["demo-imp-seeds"], re.MULTILINE)
    assert len(rows) == 3, f"rows at 25%, 12.5%, 6.25% remaining: {rows}"
    for imp, imp_std, rnd, rnd_std in ([float(v) for v in r] for r in rows):
        assert imp - imp_std > rnd + rnd_std, f"error bars overlap: {imp, imp_std, rnd, rnd_std}"


def _overlaps(printed: Printed) -> dict[str, list[float]]:
    rows = {}
    for key in ("B:", "C:", "D:", "chance:"):
        line = next(ln for ln in printed["demo-overlap"].splitlines() if ln.startswith(key))
        rows[key.rstrip(":")] = [float(v) for v in line.split()[-4:]]
    return rows


def same_task_ticket_is_closest(printed: Printed) -> None:
    rows = _overlaps(printed)
    assert rows["B"][0] > rows["C"][0] > rows["chance"][0], f"overlaps (all layers): {rows}"


def other_init_ticket_near_chance(printed: Printed) -> None:
    rows = _overlaps(printed)
    assert abs(rows["D"][0] - rows["chance"][0]) <= 0.03, f"overlaps (all layers): {rows}"


def first_layer_overlaps_a_lot(printed: Printed) -> None:
    rows = _overlaps(printed)
    assert min(r[1] for r in rows.values()) >= 0.5, f"first-layer overlaps: {rows}"


def rescaling_keeps_test_loss(printed: Printed) -> None:
    losses = numbers(printed, "demo-rescale", rf"^\s+\S+\s+\S+\s+{NUM}\s+\S+\s+\S+\s+\S+$")
    assert len(losses) == 3 and len(set(losses)) == 1, f"test losses after rescaling: {losses}"


def finite_differences_never_that_good(printed: Printed) -> None:
    errors = numbers(printed, "demo-hvp", rf"relative error {NUM}")
    assert min(errors) > 1e-4, f"finite-difference errors {errors}"


def quadratic_only_near_zero(printed: Printed) -> None:
    ratios = numbers(printed, "demo-top-direction", rf"^\s+-?0\.50(?:\s+\S+){{2}}\s+{NUM}")
    assert len(ratios) == 2 and min(ratios) > 1.2, (
        f"loss / (1/2 lambda t^2) at t = -0.5, 0.5: {ratios}"
    )


def power_iteration_matches(printed: Printed) -> None:
    exact = one(printed, "demo-spectrum", rf"eigvalsh {NUM},")
    power = one(printed, "demo-spectrum", rf"power iteration {NUM};")
    assert exact == power, f"eigvalsh {exact}, power iteration {power}"


def _bn_rows(printed: Printed) -> list[list[float]]:
    """The rows of demo-bn-line's table: barrier, mean height above the chord and mean accuracy,
    each for (a) interpolated statistics, (b) recomputed statistics, (c) no batch norm."""
    rows = [
        [float(v) for v in match.group(1).split()]
        for match in re.finditer(r"^\d+, \d+\s+(.*)$", printed["demo-bn-line"], re.MULTILINE)
    ]
    assert len(rows) == 3 and all(len(r) == 9 for r in rows), f"the table of demo-bn-line: {rows}"
    return rows


def bn_recomputed_lower_on_average(printed: Printed) -> None:
    heights = [(r[4], r[5]) for r in _bn_rows(printed)]
    assert all(b < c for b, c in heights), f"mean heights above the chord, (b) and (c): {heights}"


def bn_recomputed_more_accurate(printed: Printed) -> None:
    accuracies = [(r[7], r[8]) for r in _bn_rows(printed)]
    assert all(b > c for b, c in accuracies), f"mean accuracies, (b) and (c): {accuracies}"


def bn_recomputed_above_interpolated(printed: Printed) -> None:
    accuracies = [(r[6], r[7]) for r in _bn_rows(printed)]
    assert all(a < b for a, b in accuracies), f"mean accuracies, (a) and (b): {accuracies}"


def bn_barrier_stays_above_one(printed: Printed) -> None:
    barriers = [r[1] for r in _bn_rows(printed)]
    assert min(barriers) > 1.0, f"barriers with recomputed statistics: {barriers}"


def bn_scale_invariant(printed: Printed) -> None:
    before = one(printed, "demo-bn-train", rf"with batch norm: test loss {NUM} ->")
    after = one(printed, "demo-bn-train", rf"with batch norm: test loss \S+ -> {NUM}")
    assert before == after, f"batch-norm network, first layer x 3: {before} -> {after}"


def control_point_twice_as_far(printed: Printed) -> None:
    control = one(printed, "demo-bezier-plane", rf"theta_mid at \(x, y\) = \(\S+, {NUM}\)")
    middle = one(printed, "demo-bezier-plane", rf"alpha = 0.5\) at \(x, y\) = \(\S+, {NUM}\)")
    # Both are printed to one decimal: 2 * middle is off by up to 0.1, control by 0.05.
    assert abs(control - 2 * middle) <= 0.15, (
        f"theta_mid at y = {control}, the curve's middle {middle}"
    )


def curve_in_the_plane(printed: Printed) -> None:
    distance = one(printed, "demo-bezier-plane", rf"from the plane: {NUM}")
    assert distance <= 1e-4, f"the curve's points are up to {distance} off the plane"


def _midpoint_accuracy(printed: Printed, label: str) -> float:
    return one(printed, "demo-permutation", rf"^width {label}\s+\S+\s+{NUM}$")


def aligned_average_works(printed: Printed) -> None:
    before, after = (_midpoint_accuracy(printed, f"32, {s}") for s in ("as trained", "aligned"))
    assert after >= before + 0.3, f"midpoint accuracy {before} as trained, {after} aligned"


def first_pass_raises_the_barrier(printed: Printed) -> None:
    first = one(printed, "demo-permutation", rf"barrier after each pass: {NUM},")
    before = one(printed, "demo-permutation", rf"^width 32, as trained\s+{NUM}")
    assert first > before, f"barrier {before} as trained, {first} after the first pass"


CLAIMS: list[Claim] = [
    Claim(
        NB01,
        "demo-merging-after",
        "their weight average then works much better",
        aligned_average_works,
    ),
    Claim(
        NB01,
        "demo-permutation-after",
        "The first pass can make the barrier *higher*",
        first_pass_raises_the_barrier,
    ),
    Claim(NB01, "demo-bn-after", "unchanged to the four printed digits", bn_scale_invariant),
    Claim(
        NB01,
        "demo-bn-after",
        "lower than without batch norm for every pair of seeds",
        bn_recomputed_lower_on_average,
    ),
    Claim(
        NB01,
        "demo-bn-after",
        "its mean accuracy on the line is higher",
        bn_recomputed_more_accurate,
    ),
    Claim(
        NB01,
        "demo-bn-after",
        "stays above that of curve (a) (the table's mean accuracies)",
        bn_recomputed_above_interpolated,
    ),
    Claim(NB01, "demo-bn-after", "stays above 1 for every pair", bn_barrier_stays_above_one),
    Claim(
        NB01,
        "demo-bezier-plane-after",
        "twice as far from the line as the curve's middle",
        control_point_twice_as_far,
    ),
    Claim(NB01, "demo-bezier-plane-after", "up to float rounding", curve_in_the_plane),
    Claim(
        NB02,
        "demo-hvp-after",
        "The finite differences are never that good",
        finite_differences_never_that_good,
    ),
    Claim(
        NB02,
        "demo-spectrum-after",
        "finds the top eigenvalue to many digits",
        power_iteration_matches,
    ),
    Claim(
        NB02,
        "demo-top-direction-after",
        "further out it rises faster",
        quadratic_only_near_zero,
    ),
    Claim(
        NB02,
        "demo-rescale-after",
        "the test loss and accuracy are identical",
        rescaling_keeps_test_loss,
    ),
    Claim(NB03, "demo-imp-after", "a difference of a point or two is noise", low_sparsity_is_noise),
    Claim(
        NB03, "demo-imp-after", "**High sparsity:** the curves separate", high_sparsity_separates
    ),
    Claim(NB03, "demo-imp-after", "loses weights fastest", middle_layer_loses_fastest),
    Claim(
        NB03,
        "demo-imp-seeds-after",
        "From 25% on the error bars are far apart",
        imp_error_bars_apart,
    ),
    Claim(
        NB03,
        "demo-late-after",
        "both beat the random re-initialisation",
        both_rewindings_beat_reinit,
    ),
    Claim(NB03, "demo-overlap-after", "(B) is the closest to A", same_task_ticket_is_closest),
    Claim(NB03, "demo-overlap-after", "should be close to chance", other_init_ticket_near_chance),
    Claim(
        NB03,
        "demo-overlap-after",
        "even unrelated masks overlap a lot there",
        first_layer_overlaps_a_lot,
    ),
]
