"""Every number that a model answer of notebook 04's written questions states, recomputed.

The six "explain_*" questions are variants of the course text's practice problems with new
numbers and settings; their model answers and rubrics live in the content's written cells
(`source/landscapes/content/04_quiz/`), never in the release. Each test below recomputes one
answer's numbers, with the reference functions of `solutions/` where one applies, and
checks that the question states the setting and the model answer the number as written.
Then: the build's leak check counts every line of those answers, and of the quiz
explanations that feedback releases after grading, as secret; and each explanation names
the answer key's letter or term.
"""

from __future__ import annotations

import math
import re

import landscape_lab as lab
import nbformat
import numpy as np
import pytest
import torch
from traitlets.config import Config

from autograder.checks import registry
from autograder.content.parse import explanations, read_content
from autograder.pipeline import build, feedback
from solutions import quiz
from solutions.landscape_geometry.surfaces import (
    filter_normalize,
    loss_surface,
    rescale_hidden_units,
)
from solutions.lottery_tickets import mask_overlap
from solutions.mode_connectivity.curves import bernstein_weights
from solutions.mode_connectivity.merging import linear_basins
from solutions.mode_connectivity.paths import barrier_height, interpolate

SPEC = registry.spec_of()
CELLS = {c.id: c.source for c in read_content(SPEC.content_dir / "04_quiz").cells if c.id}
WRITTEN = [
    "explain_topology",
    "explain_spectrum_perturbation",
    "explain_ticket_transfer",
    "explain_scale_invariance",
    "explain_bezier_midpoint",
    "explain_contour_plot",
]


def states(cell: str, *texts: str) -> None:
    """The cell's text says each of `texts` (as written, LaTeX included)."""
    missing = [t for t in texts if t not in CELLS[cell]]
    assert not missing, f"{cell} no longer says {missing}: fix the text or this test"


def fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


# ---- practice problem 1: four solutions ----------------------------------------------------------

LOSSES = [0.20, 0.22, 0.21, 0.30]
PATH_MAX = {(0, 1): 0.25, (1, 2): 0.24, (0, 2): 0.62, (2, 3): 0.33}


def test_topology_barriers_and_basins() -> None:
    states(
        "explain_topology-question", "0.20, 0.22, 0.21 and 0.30", "| 0.25 | 0.24 | 0.62 | 0.33 |"
    )
    barriers = [barrier_height([LOSSES[i], m, LOSSES[j]]) for (i, j), m in PATH_MAX.items()]
    assert [round(b, 3) for b in barriers] == [0.04, 0.025, 0.415, 0.075]
    states("explain_topology", "= 0.04$", "= 0.025$", "= 0.415$", "= 0.075$")
    bounds = [max(LOSSES[i], LOSSES[j]) + 0.05 for i, j in PATH_MAX]
    assert [round(b, 2) for b in bounds] == [0.27, 0.27, 0.26, 0.35]
    states("explain_topology", "0.27, 0.27, 0.26 and 0.35")
    margins = [round(b - m, 2) for b, m in zip(bounds, PATH_MAX.values(), strict=True)]
    assert margins == [0.02, 0.03, -0.36, 0.02]  # 1-2 and 3-4 pass by only 0.02
    states("explain_topology", "(1–2 and 3–4 pass by only 0.02)", "($0.33 - 0.30 = 0.03$)")
    assert linear_basins(LOSSES, PATH_MAX, 0.05) == [{0, 1, 2, 3}]
    assert linear_basins(LOSSES, PATH_MAX, 0.01) == [{0}, {1}, {2}, {3}]
    strict = [round(max(LOSSES[i], LOSSES[j]) + 0.01, 2) for i, j in PATH_MAX]
    assert strict == [0.23, 0.23, 0.22, 0.31]
    states(
        "explain_topology",
        "`[{0, 1, 2, 3}]`",
        "`[{0}, {1}, {2}, {3}]`",
        "($0.25 > 0.23$, $0.24 > 0.23$, $0.62 > 0.22$, $0.33 > 0.31$)",
    )


# ---- practice problem 2: 1/k^2 and 1/sqrt(k) ----------------------------------------------------


def power_sum(p: float, d: int) -> float:
    """sum_{k=1..d} k**-p in float64, in blocks (d = 10**7 in a fraction of a second)."""
    total = 0.0
    for start in range(1, d + 1, 2**20):
        k = np.arange(start, min(start + 2**20, d + 1), dtype=np.float64)
        total += float(np.sum(k**-p))
    return total


def test_spectrum_traces() -> None:
    d = 10**7
    inverse_square, inverse_sqrt = power_sum(2, d), power_sum(0.5, d)
    assert math.isclose(inverse_square, math.pi**2 / 6 - 1 / d, rel_tol=1e-9)
    assert fmt(inverse_square, 3) == "1.645" and fmt(inverse_square / 2, 3) == "0.822"
    assert fmt(power_sum(2, 10), 3) == "1.550"
    assert round(100 / inverse_square) == 61  # the top eigenvalue's share of the trace
    assert round(inverse_sqrt) == 6323 and f"{inverse_sqrt / 2:.2e}" == "3.16e+03"
    zeta_half = -1.4603545088095868
    assert math.isclose(inverse_sqrt, 2 * math.sqrt(d) + zeta_half, abs_tol=1e-3)
    assert f"{inverse_sqrt / inverse_square:.2e}" == "3.84e+03"
    assert fmt(inverse_sqrt - (2 * math.sqrt(d) - 2), 2) == "0.54"
    assert round(100 * (1 - 1 / inverse_square)) == 39  # what the integral 1 misses
    states(
        "explain_spectrum_perturbation",
        r"\pi^2/6 \approx 1.645",
        "1.550 already at $d = 10$",
        "61%",
        r"\approx 0.822\,c\sigma^2",
        r"2\sqrt d - 1.460",
        r"\approx 6323\,c",
        r"\approx 3.16 \times 10^3\,c\sigma^2",
        r"$3.84 \times 10^3$",
        "about 0.54 in 6323",
        "misses 39%",
    )
    states(
        "explain_spectrum_perturbation-question",
        r"$\lambda_k = c/k^2$",
        r"$\lambda_k = c/\sqrt{k}$",
    )


# ---- practice problem 3: how much two tickets share ----------------------------------------------


def test_ticket_overlap_numbers() -> None:
    density, overlap = 0.1, 0.20
    chance = density / (2 - density)
    assert fmt(chance, 3) == "0.053" and fmt(overlap / chance, 1) == "3.8"
    g = torch.Generator().manual_seed(0)
    n, kept = 200_000, 20_000
    random_overlaps = []
    for _ in range(5):
        a, b = (torch.zeros(n, dtype=torch.bool) for _ in range(2))
        a[torch.randperm(n, generator=g)[:kept]] = True
        b[torch.randperm(n, generator=g)[:kept]] = True
        random_overlaps.append(mask_overlap(a, b))
    assert abs(np.mean(random_overlaps) - chance) < 0.002
    # two masks of 3000 kept weights sharing 1000 have the overlap 0.20: a third is shared
    a, b = torch.zeros(30_000, dtype=torch.bool), torch.zeros(30_000, dtype=torch.bool)
    a[:3000], b[2000:5000] = True, True
    assert math.isclose(mask_overlap(a, b), overlap)
    assert math.isclose(2 * overlap / (1 + overlap), 1000 / 3000)
    states("explain_ticket_transfer-question", "90% sparsity", "is 0.20")
    states("explain_ticket_transfer", r"\approx 0.053", "= 0.4/1.2 = 1/3", "about 3.8 times")


# ---- practice problem 4: one ReLU unit -----------------------------------------------------------


def one_unit_hessian(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """The Hessian of 0.5 (w2 relu(w1 x) - y)^2 at (x, y) = (1, 6) in (w1, w2)."""

    def loss(w: torch.Tensor) -> torch.Tensor:
        return 0.5 * (w[1] * torch.relu(w[0] * 1.0) - 6.0) ** 2

    w = torch.tensor([float(params["0.weight"]), float(params["2.weight"])], dtype=torch.float64)
    return torch.autograd.functional.hessian(loss, w)


def one_unit(w1: float, w2: float) -> dict[str, torch.Tensor]:
    return {"0.weight": torch.tensor([[w1]]), "2.weight": torch.tensor([[w2]])}


def test_one_relu_unit_rescaled() -> None:
    h = one_unit_hessian(one_unit(2.0, 3.0))
    assert h.tolist() == [[9.0, 6.0], [6.0, 4.0]] and float(h.trace()) == 13.0
    values, vectors = torch.linalg.eigh(h)
    assert torch.allclose(values, torch.tensor([0.0, 13.0], dtype=torch.float64), atol=1e-12)
    flat = vectors[:, 0] * torch.sign(vectors[0, 0])
    assert torch.allclose(flat, torch.tensor([2.0, -3.0], dtype=torch.float64) / math.sqrt(13))

    p = one_unit(2.0, 3.0)
    q = rescale_hidden_units(p, "0", "2", 4.0)
    assert (float(q["0.weight"]), float(q["2.weight"])) == (8.0, 0.75)
    x = torch.linspace(-3, 3, 13)
    assert torch.equal(
        q["2.weight"][0, 0] * torch.relu(q["0.weight"][0, 0] * x),
        p["2.weight"][0, 0] * torch.relu(p["0.weight"][0, 0] * x),
    )
    hq = one_unit_hessian(q)
    t_inv = torch.diag(torch.tensor([1 / 4, 4.0], dtype=torch.float64))
    assert torch.allclose(hq, t_inv @ h @ t_inv)
    assert hq.tolist() == [[0.5625, 6.0], [6.0, 64.0]] and float(hq.trace()) == 64.5625
    assert float(torch.linalg.eigvalsh(hq)[-1]) == pytest.approx(64.5625)
    assert round(64.5625 / 13) == 5  # "about five times sharper"

    cs = np.linspace(0.2, 5.0, 4801)
    traces = [
        float(one_unit_hessian(rescale_hidden_units(p, "0", "2", float(c))).trace())
        for c in cs[::20]
    ]
    assert np.allclose(traces, 4 * cs[::20] ** 2 + 9 / cs[::20] ** 2)
    best = cs[np.argmin(4 * cs**2 + 9 / cs**2)]
    assert abs(best - math.sqrt(1.5)) < 1e-3 and fmt(math.sqrt(1.5), 3) == "1.225"
    assert math.isclose(4 * 1.5 + 9 / 1.5, 12.0) and fmt(2 * math.sqrt(1.5), 3) == "2.449"
    assert fmt(math.sqrt(6), 3) == "2.449"
    assert float(one_unit_hessian(rescale_hidden_units(p, "0", "2", 0.25)).trace()) == 144.25
    states(
        "explain_scale_invariance-question", "$(x, y) = (1, 6)$", "$(w_1, w_2) = (2, 3)$", "$c = 4$"
    )
    states(
        "explain_scale_invariance",
        r"\mathrm{tr}(H) = 13",
        "$(w_1, w_2) = (8, 0.75)$",
        "trace $= 64.5625$",
        r"$c = \sqrt{1.5} \approx 1.225$",
        r"\approx (2.449, 2.449)",
        "trace **12**",
        "($c = 1/4$: 144.25)",
    )


# ---- practice problem 5: the cubic Bezier curve --------------------------------------------------


def cubic(points: list[torch.Tensor], alpha: float) -> torch.Tensor:
    w = bernstein_weights(3, alpha)
    return sum(w[k] * points[k] for k in range(4))


def test_cubic_bezier_curve() -> None:
    assert torch.equal(
        bernstein_weights(3, 0.5), torch.tensor([1, 3, 3, 1], dtype=torch.float64) / 8
    )
    a = torch.tensor([0.0, 4.0, -1.0], dtype=torch.float64)
    b = torch.tensor([4.0, 8.0, 2.0], dtype=torch.float64)
    thirds = [a, (2 * a + b) / 3, (a + 2 * b) / 3, b]
    for alpha in np.linspace(0, 1, 21):
        line = interpolate({"w": a}, {"w": b}, float(alpha))["w"]
        assert torch.allclose(cubic(thirds, float(alpha)), line, atol=1e-12)
    m = (a + b) / 2
    alphas = np.linspace(0, 1, 1001)
    s = [float((cubic([a, m, m, b], float(al)) - a)[0] / (b - a)[0]) for al in alphas]
    assert np.allclose(s, 1.5 * alphas * (1 - alphas) + alphas**3)
    assert min(np.diff(s)) > 0 and fmt(s[250], 3) == "0.297" and s[500] == pytest.approx(0.5)
    assert min(1.5 - 3 * alphas + 3 * alphas**2) == pytest.approx(0.75)
    first = 3 * alphas * (1 - alphas) ** 2
    second = 3 * alphas**2 * (1 - alphas)
    third = alphas[np.argmax(first)], alphas[np.argmax(second)]
    assert third == (pytest.approx(1 / 3, abs=1e-3), pytest.approx(2 / 3, abs=1e-3))
    assert max(first) == pytest.approx(4 / 9, abs=1e-6) and max(second) == pytest.approx(
        4 / 9, abs=1e-6
    )
    states("explain_bezier_midpoint-question", "`bernstein_weights(3, alpha)`")
    states(
        "explain_bezier_midpoint",
        r"(\theta_a + 3\theta_1 + 3\theta_2 + \theta_b)/8",
        r"$\theta_1 = (2\theta_a + \theta_b)/3$",
        r"$s(\alpha) = \tfrac32\alpha(1-\alpha) + \alpha^3$",
        r"\ge \tfrac34 > 0",
        "($s(\\tfrac14) = 0.297$, not 0.25)",
        r"largest ($4/9$) at $\alpha = 1/3$",
        r"largest ($4/9$) at $\alpha = 2/3$",
    )


# ---- reading the contour plot --------------------------------------------------------------------


def test_contour_plot_curvatures() -> None:
    level, semi_axes, norm_p, norm_r = 0.02, (0.40, 0.10), 5.0, 10.0
    kappas = [2 * level / r**2 for r in semi_axes]
    assert [round(k, 6) for k in kappas] == [0.25, 4.0]
    unit_p = [k / norm_p**2 for k in kappas]
    unit_r = [k / norm_r**2 for k in kappas]
    assert [round(u, 6) for u in unit_p] == [0.01, 0.16]
    assert [round(u, 6) for u in unit_r] == [0.0025, 0.04]
    # a quadratic loss with exactly these unit curvatures draws that ellipse with loss_surface
    hess = torch.diag(torch.tensor(unit_p, dtype=torch.float64))

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return 0.5 * theta @ hess @ theta

    d1 = torch.tensor([norm_p, 0.0], dtype=torch.float64)
    d2 = torch.tensor([0.0, norm_p], dtype=torch.float64)
    z = loss_surface(loss_fn, torch.zeros(2, dtype=torch.float64), d1, d2, [0.0, 0.4], [0.0, 0.1])
    assert torch.allclose(z, torch.tensor([[0.0, level], [level, 2 * level]], dtype=torch.float64))
    # filter normalisation gives a direction the norm of the weights (biases excluded)
    theta = lab.params_of(lab.make_mlp(hidden=(8, 8), seed=0))
    raw = {
        k: torch.randn(v.shape, generator=torch.Generator().manual_seed(1))
        for k, v in theta.items()
    }
    direction = filter_normalize(raw, theta)
    weights = torch.cat([v.flatten() for v in theta.values() if v.dim() >= 2])
    assert math.isclose(
        float(lab.flatten_params(direction).norm()), float(weights.norm()), rel_tol=1e-5
    )
    states(
        "explain_contour_plot-question",
        "$L(\\theta^*) + 0.02$",
        "semi-axes 0.40 along",
        "= 5$",
        "= 10$",
    )
    states(
        "explain_contour_plot",
        r"$\kappa_\alpha = 0.04/0.16 = 0.25$",
        r"$\kappa_\beta = 0.04/0.01 = 4$",
        "= 0.25/25 = 0.01$",
        "= 4/25 = 0.16$",
        r"$\lambda_1 \ge 0.16$",
        "$0.25/100 = 0.0025$ and $4/100 = 0.04$",
    )


# ---- kept from the release, released in feedback -------------------------------------------------


def test_the_leak_check_covers_every_model_answer_and_explanation() -> None:
    sources = [nbformat.read(str(p), as_version=4) for p in sorted(SPEC.root.glob("*.ipynb"))]
    secret = build.secret_lines(sources, secret_text=build.explanation_text(SPEC))
    quiz_explanations = "\n".join(explanations(SPEC, "04_quiz").values())
    for name, text in [*((w, CELLS[w]) for w in WRITTEN), ("explanations", quiz_explanations)]:
        lines = {
            line.strip()
            for line in text.splitlines()
            if len(line.strip()) >= build.MIN_SECRET_LINE and re.search(r"[A-Za-z0-9]", line)
        }
        assert lines and not lines - secret, (
            f"{name}: the leak check misses {sorted(lines - secret)[:3]}"
        )


def test_each_quiz_item_has_an_explanation_naming_its_key() -> None:
    explained = explanations(SPEC, "04_quiz")
    assert set(explained) == {*quiz.QUIZ_ANSWERS, "key_terms"}
    for item, letter in quiz.QUIZ_ANSWERS.items():
        assert f"the answer is {letter}" in explained[item], item
    for description, term in quiz.KEY_TERMS.items():
        assert f"| {description} | **{term}** |" in explained["key_terms"], description


def test_feedback_shows_each_quiz_explanation_below_its_tests() -> None:
    """What `autograder feedback` adds to the quiz's page (here to the source notebook, whose
    cells an autograded quiz has too)."""
    config = Config()
    config.CourseDirectory.root = str(SPEC.root.parents[1])
    config.CourseDirectory.source_directory = SPEC.root.parent.name
    nb = nbformat.read(str(SPEC.root / "04_quiz.ipynb"), as_version=4)
    resources = {"nbgrader": {"assignment": SPEC.id, "notebook": "04_quiz"}}
    nb, _ = feedback.AddExplanations(config=config).preprocess(nb, resources)
    explained = explanations(SPEC, "04_quiz")
    for item, text in explained.items():
        (at,) = [i for i, c in enumerate(nb.cells) if c.source == text]
        above = nb.cells[at - 1].metadata["nbgrader"]["grade_id"]
        assert above.startswith(f"test_{item}_"), (item, above)
