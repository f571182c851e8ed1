"""Generate source/landscapes/04_quiz.ipynb (the nbgrader SOURCE notebook of the quiz).

Rerun after the quiz checks change:  python autograder/authoring/gen_04.py [output path]
The hidden-test cells are taken from the check registry at generation time
(`autograder.checks.parts`), and the answer letters are cross-checked against
`solutions.quiz` (the notebook itself never imports either).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from nbbuild import NotebookBuilder, output_path, write_notebook  # noqa: E402

from solutions import quiz as ref  # noqa: E402

OUT = output_path("04_quiz.ipynb")

#: Points of a hidden part; the `format` parts give feedback only (a guess in the right format
#: must not earn points), the visible format checks likewise.
FORMAT_POINTS = 0
KEY_POINTS = 1
EXPLAIN_POINTS = 2

# Cell ids are the grade ids (test_..., not test-...); every unlocked cell is a solution cell.
builder = NotebookBuilder(hyphenate_test_ids=False)
md, code = builder.md, builder.code


def hidden_cells(name: str, check: str) -> list[tuple[str, int]]:
    """One hidden test cell per registry part of `name`; returns (grade_id, points) pairs."""
    return builder.hidden(
        name, check=check, points=lambda part: FORMAT_POINTS if part == "format" else KEY_POINTS
    )


# ---------------------------------------------------------------------------------------------
# Quiz content (questions and options verbatim from the course text)

QUESTIONS = {
    "answer_q1": (
        "Two trained networks have a loss barrier of 3.2 when linearly interpolated. What does "
        "this most likely indicate?",
        ["The networks have identical weights",
         "The networks are in different basins of the loss landscape",
         "The loss function is convex",
         "The networks are poorly trained"],
    ),
    "answer_q2": (
        "The Lottery Ticket Hypothesis requires rewinding weights to:",
        ["Random reinitialisation",
         "The weights at epoch 50",
         "Their original initialisation values",
         "Zero weights"],
    ),
    "answer_q3": (
        "Why does batch normalisation improve mode connectivity?",
        ["It increases model capacity",
         "It provides scale invariance that smooths the loss landscape",
         "It makes training slower",
         "It adds noise to the weights"],
    ),
    "answer_q4": (
        "A Hessian with trace 1200 at one minimum and trace 300 at another indicates:",
        ["The first minimum has lower loss",
         "The second minimum has higher curvature",
         "The first minimum is sharper (more sensitive to parameter noise)",
         "Both minima have identical generalisation properties"],
    ),
    "answer_q5": (
        'The "supermasks" phenomenon demonstrates that:',
        ["Training is always necessary for good performance",
         "Random weights with learned binary masks can achieve good accuracy without any "
         "weight updates",
         "Larger networks always outperform smaller ones",
         "Pruning always degrades performance"],
    ),
}

#: The key with the course text's explanations, corrected; lives only in the solution regions.
ANSWERS = {
    "answer_q1": ("B", """
# B. A barrier of 3.2 on the straight path means the loss in the middle of the path is far
# above the loss at both ends: the two networks are not linearly mode connected, and the most
# likely reading is that they lie in different basins. (Careful: a barrier on the LINEAR path
# alone does not prove separate basins -- a trained curve, e.g. a Bezier curve (Garipov et al.
# 2018; Draxler et al. 2018), may still connect them through low loss.)
# A is wrong: identical weights give a constant loss along the path, so no barrier at all.
# C is wrong: for a convex loss, L((1-a)*theta_a + a*theta_b) <= (1-a)*L(theta_a) + a*L(theta_b),
#   so the path can never rise above its endpoints.
# D is wrong: both endpoints can be well trained (low loss); the barrier is about the path.
"""),
    "answer_q2": ("C", """
# C. Frankle & Carbin (2019): after pruning, the surviving weights are reset to their values
# at initialisation (theta_0) and retrained; that mask together with those values is the
# winning ticket.
# A is wrong: the same mask with a random re-initialisation trains worse (the paper's control).
# B is wrong as the hypothesis: "late rewinding" (Frankle et al. 2020) resets to weights from
# EARLY in training (epoch 1-5 in the course text, not epoch 50); it is the fix that makes
# tickets work for larger networks, not what the original hypothesis states.
# D is wrong: all-zero weights are not an initialisation a network can learn from (every
#   hidden unit computes the same thing, so the symmetry is never broken).
"""),
    "answer_q3": ("B", """
# B (the course text's answer). With batch normalisation, the output of a normalised layer
# does not change when the weights feeding into it are multiplied by a positive constant
# (the normalisation divides the scale out), and batch norm makes the loss landscape markedly
# smoother (Santurkar et al. 2018). In a smoother landscape, low-loss paths between solutions
# are easier to find.
# Correction to the course text's explanation: it also credits "reducing internal covariate
# shift"; Santurkar et al. (2018) found that batch norm's benefit does not come from reducing
# internal covariate shift but from the smoother landscape.
# A is wrong: batch norm adds two parameters per channel; it changes the training dynamics,
#   not the capacity.
# C is wrong: batch norm usually allows larger learning rates and speeds training up.
# D is wrong: batch norm's noise comes from the minibatch statistics (a side effect), and it
#   adds nothing to the weights.
"""),
    "answer_q4": ("C", """
# C. The trace is the sum of the Hessian's eigenvalues (the total curvature). For small
# isotropic noise eps ~ N(0, sigma^2 I), E[L(theta* + eps)] - L(theta*) ~ sigma^2/2 * tr(H)
# (worked example 2): under the same noise, the expected loss increase at the first minimum
# is about 1200/300 = 4 times as large.
# A is wrong: curvature says nothing about the height of the loss at the minimum.
# B is the opposite: trace 300 is the smaller total curvature.
# D is wrong: nothing here says the two generalise identically. Sharpness correlates with the
#   generalisation gap only imperfectly, and it changes under reparameterisations that leave
#   the function unchanged (Dinh et al. 2017): compare traces only within one
#   parameterisation.
"""),
    "answer_q5": ("B", """
# B. Zhou et al. (2019) learned only a binary mask over frozen, randomly initialised weights
# and reached accuracy far above chance without a single weight update; Ramanujan et al.
# (2020, edge-popup) found, inside large enough random networks, subnetworks that match a
# smaller trained network.
# A is contradicted by exactly this result.
# C is a separate observation about scale (and not an "always").
# D is wrong: winning tickets match the dense network's accuracy up to high sparsity
#   (Frankle & Carbin 2019); accuracy falls only when pruning becomes extreme.
"""),
}

for _name, (_letter, _) in ANSWERS.items():
    assert ref.QUIZ_ANSWERS[_name] == _letter, (_name, _letter)

#: Terms in alphabetical order, so that the order does not give the matching away.
TERMS_SORTED = tuple(sorted(ref.TERMS))

# ---------------------------------------------------------------------------------------------
# Free-response questions: (grade_id, title, question, model answer and rubric)

H_D = math.fsum(1.0 / k for k in range(1, 10**7 + 1))  # H_d for d = 10^7
GAMMA = 0.5772156649015329
EXP_SUM = 1.0 / (math.e - 1.0)

EXPLAIN = [
    ("explain_topology", "Practice problem 1: landscape topology from three runs", r"""
Three independent training runs produce solutions $\theta_1, \theta_2, \theta_3$ with losses
0.15, 0.16, 0.17. Linear interpolation between (1,2) has max loss 0.18; between (2,3) has max
loss 0.95. What can you conclude about the loss landscape topology?

In your answer, give the barrier height of each pair (the course's definition: the maximum
loss on the path minus the mean of the two endpoint losses), say which pairs are linearly
mode connected, and say what the numbers do **not** tell you. (In notebook 01 you computed
the same thing with `barrier_height` and `linear_basins`.)
""", r"""
**Model answer and rubric (instructors only)**

*Model answer.* Barriers (max on the path minus the mean of the endpoint losses):
pair (1,2): $0.18 - (0.15 + 0.16)/2 = 0.025$; pair (2,3): $0.95 - (0.16 + 0.17)/2 = 0.785$.
With the criterion $L \le \max(L_i, L_j) + \delta$, pair (1,2) is linearly mode connected for
any tolerance $\delta \ge 0.02$ (e.g. $\delta = 0.05$): $\theta_1$ and $\theta_2$ lie in one
region whose straight segment stays at low loss. Pair (2,3) is **not** linearly connected: the
straight path rises about 0.78 above its ends (almost five times the mean endpoint loss).
So $\theta_3$ is not in the linearly connected region of $\theta_1, \theta_2$; with
$\delta = 0.05$, `linear_basins` gives the groups $\{\theta_1, \theta_2\}$ and $\{\theta_3\}$.

What the numbers do not tell us:
- A barrier on the *linear* path does not prove that $\theta_3$ is in a separate basin: a curved
  low-loss path may exist (Garipov et al. 2018; Draxler et al. 2018). To decide, train a Bezier
  curve between $\theta_2$ and $\theta_3$ and look at the loss along it.
- Pair (1,3) was not measured, and linear connectivity is not transitive, so nothing follows
  about it (the broken path $\theta_1 \to \theta_2 \to \theta_3$ still crosses the barrier).
- The maxima are taken over the evaluated values of $\alpha$: a coarse grid can step over a
  narrow barrier, so 0.18 is only a lower bound on the true maximum along (1,2).

*Rubric (2 points).*
- 1 point: the two barriers (0.025 and 0.785, or the equivalent comparison with
  $\max(L_i, L_j) + \delta$) and the conclusion "(1,2) linearly connected, (2,3) not".
- 1 point: a correct limit of the conclusion: the (2,3) barrier does not prove separate basins
  (a nonlinear path may connect them), or (1,3) is undetermined / connectivity is not
  transitive. Claiming as a certainty that the landscape "has two distinct basins" without this
  caveat earns at most half of this point.
"""),
    ("explain_spectrum_perturbation", "Practice problem 2: the 1/k and e^(-k) spectra", r"""
The Hessian at a minimum has eigenvalues decaying as $\lambda_k \propto 1/k$. Compute the
expected loss perturbation for isotropic Gaussian noise with variance $\sigma^2$, and compare
to a minimum with $\lambda_k \propto e^{-k}$.

Take $\lambda_k = c/k$ and $\lambda_k = c\,e^{-k}$ for $k = 1, \dots, d$ (the network has $d$
parameters), i.e. the traces are the **discrete sums** that `spectrum_trace` computes in
notebook 02. Say how each answer depends on $d$, and give the numbers for $d = 10^7$.
""", rf"""
**Model answer and rubric (instructors only)**

*Model answer.* Second-order Taylor expansion at a minimum ($\nabla L(\theta^*) = 0$) with
$\epsilon \sim \mathcal N(0, \sigma^2 I)$:
$\mathbb E[L(\theta^* + \epsilon)] - L(\theta^*) \approx \tfrac12 \mathbb E[\epsilon^\top H \epsilon]
= \tfrac{{\sigma^2}}{{2}}\,\mathrm{{tr}}(H) = \tfrac{{\sigma^2}}{{2}} \sum_{{k=1}}^d \lambda_k$.

- $\lambda_k = c/k$: $\mathrm{{tr}}(H) = c \sum_{{k=1}}^d 1/k = c\,H_d \approx c\,(\ln d + \gamma)$, with
  $\gamma \approx {GAMMA:.4f}$ (Euler's constant). The expected increase
  $\approx \tfrac{{c\sigma^2}}{{2}}(\ln d + \gamma)$ grows without bound, logarithmically in $d$.
  For $d = 10^7$: $H_d \approx {H_D:.2f}$.
- $\lambda_k = c\,e^{{-k}}$: $\mathrm{{tr}}(H) = c \sum_{{k=1}}^d e^{{-k}} = c\,\frac{{1 - e^{{-d}}}}{{e - 1}} \to
  \frac{{c}}{{e - 1}} \approx {EXP_SUM:.3f}\,c$, bounded. The expected increase
  $\approx {EXP_SUM / 2:.3f}\,c\sigma^2$ does not depend on $d$ (beyond $d \approx 10$).
- For $d = 10^7$ and the same $c$, the $1/k$ minimum is about ${H_D / EXP_SUM:.1f}\times$ more
  sensitive. The reason: each of its many small eigenvalues is tiny, but together they
  dominate the trace; the exponential spectrum has essentially a handful of effective directions.

The course text's answer replaced the sums by integrals: $\int_1^d dk/k = \ln d$ (misses
$\gamma$) and $\int_0^\infty e^{{-k}}dk = 1$, which is wrong for a sum that starts at $k = 1$
(the true value is $1/(e-1) \approx {EXP_SUM:.3f}$).

Remarks an excellent answer may add: the comparison depends on how the constants are matched
(with the same top eigenvalue $\lambda_1$ instead of the same $c$, the exponential trace is
$\lambda_1 \cdot e/(e-1) \approx {math.e * EXP_SUM:.2f}\,\lambda_1$, the inverse one $\lambda_1 H_d$; the
conclusion is the same); and the quadratic approximation needs $\sigma$ small, since
$\|\epsilon\| \approx \sigma\sqrt d$ grows with the dimension.

*Rubric (2 points).*
- 1 point: $\mathbb E[\Delta L] \approx \tfrac{{\sigma^2}}{{2}}\mathrm{{tr}}(H)$ and both traces as discrete sums
  ($\approx \ln d + \gamma$, and $(1 - e^{{-d}})/(e - 1) \approx {EXP_SUM:.3f}$, each times $c$).
  Using the integrals ($\ln d$ and 1) earns half of this point.
- 1 point: the comparison: logarithmic growth with $d$ vs bounded, so the $1/k$ minimum is
  much more sensitive in high dimension, and why (many small eigenvalues add up).
"""),
    ("explain_ticket_transfer", "Practice problem 3: why a winning ticket may not transfer", r"""
Why might a "winning ticket" found via iterative magnitude pruning at 90% sparsity NOT
transfer to a different dataset, even though the original architecture works on both?
""", r"""
**Model answer and rubric (instructors only)**

*Model answer.*
- **The mask is chosen by the data.** Iterative magnitude pruning keeps the weights that
  training on dataset A made large, i.e. the connections A's features need. A different
  dataset B needs other features; many of the connections it would use were removed, and at
  90% sparsity little redundant capacity is left to make up for it.
- **The ticket is a (mask, initial values) pair.** It trains well because those initial values,
  inside that mask, lead SGD to a good solution on A (the rewinding experiments: the same mask
  with new random values trains worse; Frankle et al. 2020 relate success to the subnetwork
  being stable to SGD noise from the rewind point). Nothing guarantees the same property for
  B's training trajectory.
- **Why the dense architecture works on both:** it is overparameterised and contains many
  candidate subnetworks; training on A or on B selects a different one. Pruning commits to
  the one selected by A.
- One can measure this: run IMP on both datasets and compare the masks with `mask_overlap`
  (Jaccard index, notebook 03): a low overlap means the two datasets select different
  subnetworks. Tickets found on larger, more varied datasets transfer better than those found on small
  ones (Morcos et al. 2019).

*Rubric (2 points).*
- 1 point: the mask (and the rewound values) are data dependent: selected by weight
  magnitudes after training on A, so they encode A's features.
- 1 point: a second correct reason or consequence: the coupling with the initialisation /
  training trajectory, the lost redundancy at high sparsity, the dense network containing
  many candidate subnetworks, or how to test it (mask overlap, retraining on B).
"""),
    ("explain_scale_invariance", "Practice problem 4: Dinh et al.'s scale invariance", r"""
Explain why Dinh et al.'s (2017) scale-invariance argument means that "sharp vs flat minima"
claims must be treated carefully for ReLU networks. (Notebook 02 demonstrates the argument
with `rescale_hidden_units`.)
""", r"""
**Model answer and rubric (instructors only)**

*Model answer.* ReLU is positively homogeneous: $\mathrm{relu}(cz) = c\,\mathrm{relu}(z)$ for
$c > 0$. Multiply the incoming weights (row $i$ of $W_1$ and the bias $b_{1,i}$) of hidden unit
$i$ by $c$ and divide its outgoing weights (column $i$ of $W_2$) by $c$: every output, hence
the loss on every input, the accuracy and the generalisation, is unchanged. The geometry is
not: writing the rescaling as $\theta' = T\theta$ with $T$ diagonal, $L'(\theta') = L(T^{-1}\theta')$,
so $H' = T^{-1} H T^{-1}$: curvature along incoming weights is divided by $c^2$, along outgoing
weights multiplied by $c^2$. Choosing $c$ very small or very large makes the trace, the top
eigenvalue or any $\epsilon$-sharpness as large as we like at a minimum that computes exactly
the same function (Dinh et al. 2017). Hence raw sharpness is a property of the
parameterisation, not of the function, and "sharp minima generalise worse" cannot hold as a
statement about raw Hessian measures.

Consequences: compare sharpness only with measures that are invariant to such rescalings or
normalised (filter-normalised directions, Li et al. 2018; sharpness relative to the weight
scale), or between networks with the same parameterisation and training procedure. Results
such as Keskar et al. (2017) (large-batch training finds sharper minima that generalise
worse) are empirical correlations under a fixed parameterisation, not a law: SGD does not
rescale adversarially, but an argument based on sharpness alone cannot exclude it. Batch norm
adds further scale invariances of the same kind.

*Rubric (2 points).*
- 1 point: the mechanism: positive homogeneity, multiply incoming by $c$ and divide outgoing
  by $c$, same function, Hessian/sharpness changes (blocks scale by $1/c^2$ and $c^2$).
- 1 point: the consequence: raw sharpness is not a function of the network's function, so
  comparisons need normalised/invariant measures or a fixed parameterisation; flatness
  claims are correlational.
"""),
    ("explain_bezier_midpoint", "Practice problem 5: the loss along a Bezier curve", r"""
A Bezier curve with midpoint $\theta_{\text{mid}}$ connects $\theta_1$ and $\theta_2$. Derive the
loss along the curve and explain why the midpoint must be trained.

Write $\theta(\alpha)$ out, check the two ends and the point at $\alpha = 1/2$, show what the
curve is for $\theta_{\text{mid}} = (\theta_1 + \theta_2)/2$, and say which objective the
midpoint is trained on in practice (in notebook 01 you implemented `bezier_point` and
`train_bezier_midpoint`).
""", r"""
**Model answer and rubric (instructors only)**

*Model answer.* The curve is
$\theta(\alpha) = (1-\alpha)^2\theta_1 + 2\alpha(1-\alpha)\theta_{\text{mid}} + \alpha^2\theta_2$,
$\alpha \in [0, 1]$, and the loss along it is the one-variable function
$\ell(\alpha) = L(\theta(\alpha))$ (for a network there is no closed form; for a quadratic
loss $\ell$ is a polynomial of degree at most 4 in $\alpha$).
- $\theta(0) = \theta_1$, $\theta(1) = \theta_2$: the curve joins the two solutions, so
  $\ell(0) = L(\theta_1)$ and $\ell(1) = L(\theta_2)$.
- $\theta(1/2) = \tfrac14\theta_1 + \tfrac12\theta_{\text{mid}} + \tfrac14\theta_2$, which equals
  $\theta_{\text{mid}}$ only when $\theta_{\text{mid}} = (\theta_1 + \theta_2)/2$: the "midpoint" is a
  control point that pulls the curve towards itself, in general not a point of the curve.
- Derivatives: $\theta'(\alpha) = 2(1-\alpha)(\theta_{\text{mid}} - \theta_1) +
  2\alpha(\theta_2 - \theta_{\text{mid}})$, so $\ell'(\alpha) = \nabla L(\theta(\alpha))^\top\theta'(\alpha)$,
  and $\partial \ell(\alpha)/\partial\theta_{\text{mid}} = 2\alpha(1-\alpha)\,\nabla L(\theta(\alpha))$:
  the midpoint moves the curve most at $\alpha = 1/2$ and not at all at the ends.
- With $\theta_{\text{mid}} = (\theta_1 + \theta_2)/2$: $(1-\alpha)^2 + \alpha(1-\alpha) = 1-\alpha$ and
  $\alpha(1-\alpha) + \alpha^2 = \alpha$, so $\theta(\alpha) = (1-\alpha)\theta_1 + \alpha\theta_2$,
  exactly the straight line, barrier included.

Why train it: the straight choice reproduces the barrier, and a low-loss bend cannot be
guessed: $\theta_{\text{mid}}$ has as many coordinates as the network, and only optimisation
finds where the curve must bend to stay at low loss. In practice (Garipov et al. 2018) the
endpoints stay fixed and $\theta_{\text{mid}}$ is trained by SGD on the **expected loss along the
curve**, $\mathbb E_{\alpha \sim U(0,1)}\, L(\theta(\alpha))$, drawing one $\alpha$ per minibatch
step. (The course text says "minimise the maximum loss along the curve"; that is what we
check afterwards, e.g. with `barrier_height` on a fine grid of $\alpha$, but training on the
expectation is what is done, and it works.)

*Rubric (2 points).*
- 1 point: the curve and $\ell(\alpha) = L(\theta(\alpha))$, with the endpoint check and at least one
  of: the $\alpha = 1/2$ point, the straight line for the average midpoint, the gradient with
  respect to $\theta_{\text{mid}}$.
- 1 point: why train it (the straight/average midpoint keeps the barrier; the bend must be
  found by optimisation) and how: expected loss over $\alpha \sim U(0,1)$ with a random
  $\alpha$ per step, endpoints fixed. Saying only "minimise the maximum loss" earns half.
"""),
    ("explain_contour_plot", "Reading the filter-normalised loss-landscape plot", r"""
In notebook 02 you plotted the loss of the trained network on a plane through its parameters,
$f(\alpha, \beta) = L(\theta^* + \alpha d_1 + \beta d_2)$, with two random directions
$d_1, d_2$ made filter-normalised by `filter_normalize` (Li et al. 2018), and computed on a
grid by `loss_surface`. Look at that contour plot again.

1. What do the shape and the spacing of the contour lines near the centre ($\alpha = \beta = 0$)
   tell you about the sharpness of the minimum? How would the plot of a sharper minimum look?
2. Does the plot show that the minimum is flat in *every* direction? Why or why not?
3. Why must the directions be filter-normalised when you compare two such plots (for example
   the network and its rescaled copy from practice problem 4, or a large-batch and a
   small-batch solution)?
""", r"""
**Model answer and rubric (instructors only)**

*Model answer.*
1. Near the centre the contours are closed, roughly elliptical rings around the trained
   parameters: in this plane, $\theta^*$ is a (local) minimum and the landscape looks locally
   convex. The spacing of the rings is the steepness: with the same contour levels, rings
   packed close together (a small region below a given loss level) mean a sharp minimum,
   widely spaced rings a flat one. An elongated ellipse means different curvature along the
   two directions. A sharper minimum would show a smaller, tighter bowl; farther from the
   centre the contours may stop being nested ellipses (the landscape is not globally convex).
2. No. It is a 2-D slice of a $d$-dimensional landscape. In high dimension random directions
   are almost orthogonal to the few top eigenvectors of the Hessian: the curvature along a
   random unit direction $u$ is on average $\mathbb E[u^\top H u] = \mathrm{tr}(H)/d$, far below the
   top eigenvalue when a few large eigenvalues dominate. A flat-looking slice can hide sharp
   directions (power iteration's top eigenvalue measures those). The grid resolution also limits what is seen.
3. Without normalisation a step of a given size means different things for different weight
   scales: it is a tiny change for a filter with a large norm and a huge one for a filter with a
   small norm. Networks that compute the same function can have very different weight scales
   (ReLU rescaling, batch norm), so raw random directions would make one look sharper than
   the other for no functional reason. Filter normalisation rescales each filter $i$ of the
   direction to the norm of the same filter of $\theta^*$,
   $d_i \leftarrow d_i\,\|\theta_i\|/\|d_i\|$ (biases and other 1-D parameters set to zero), so a
   step of $\alpha$ changes every filter by the same fraction of its own size; this removes
   the filter-wise scale from the picture and makes plots of different networks comparable
   (same axes, same contour levels). It removes exactly the scale of each filter; the ReLU
   rescaling of practice problem 4 also divides columns of the next layer, which filter
   normalisation does not undo exactly, so the two plots become comparable, not identical.

*Rubric (2 points).*
- 1 point: the reading: closed rings around the centre = minimum in this plane; spacing /
  size of the low-loss region = sharpness (tight = sharp, wide = flat); with the caveat that a
  2-D random slice does not show every direction.
- 1 point: filter normalisation: weight scales differ between networks and layers (scale
  invariance), so unnormalised directions are not comparable; rescaling each filter of the
  direction to the filter's norm in $\theta^*$ fixes that (Li et al. 2018).
"""),
]


# ---------------------------------------------------------------------------------------------
# Build the notebook


def points_table() -> str:
    rows = [
        ("Part A: quiz Q1–Q5", 5 * KEY_POINTS, 0),
        ("Part B: key-term matching", len(ref.KEY_TERMS) * KEY_POINTS, 0),
        ("Part C: free-response answers (6 questions)", 0, len(EXPLAIN) * EXPLAIN_POINTS),
    ]
    auto = sum(r[1] for r in rows)
    manual = sum(r[2] for r in rows)
    lines = ["| part | autograded points | graded by hand |", "|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} |" for r in rows]
    lines.append(f"| **total ({auto + manual} points)** | **{auto}** | **{manual}** |")
    return "\n".join(lines)


def build() -> nbformat.NotebookNode:
    builder.clear()
    md("title", f"""
# Notebook 04 — Quiz: mode connectivity, loss landscapes and lottery tickets

This notebook checks the ideas of the whole subject. It has no code to implement.

**Learning objectives.** After notebooks 01–03 and this quiz you can
- define linear mode connectivity and explain what a loss barrier does and does not show;
- describe the geometry of loss landscapes: basins, barriers, saddle points, plateaus,
  narrow valleys, and sharp vs flat minima (and the caveat of scale invariance);
- explain the lottery ticket hypothesis, rewinding and supermasks;
- read a filter-normalised loss-landscape plot.

**How this notebook is graded.**

{points_table()}

- **Part A** (Q1–Q5): set each `answer_q…` variable to one capital letter, as a string, e.g.
  `answer_q1 = "A"`, and delete the line `raise NotImplementedError()`. The cell below each
  answer checks only the *format* (0 points; it never tells you whether the answer is
  right); the hidden tests grade the answer itself (1 point each).
- **Part B**: fill in the dictionary `key_terms` (1 point per correctly matched description).
- **Part C**: write your answers in the markdown cells that say "YOUR ANSWER HERE".
  They are graded by hand (2 points each); short, precise answers with the key formula or
  number are best.
- Do not rename the variables, and do not edit or delete the read-only cells. Before you
  submit, restart the kernel and run all cells (or run `nbgrader validate 04_quiz.ipynb`).
""")
    code("setup", f'''
# Setup (read-only): the letters and terms your answers may use, and the format checks used by
# the visible test cells below. The quiz needs no PyTorch.
CHOICES = ("A", "B", "C", "D")
TERMS = {TERMS_SORTED!r}  # in alphabetical order
DESCRIPTIONS = (
{"".join(f"    {d!r},{chr(10)}" for d in ref.KEY_TERMS)})


def _norm(text):
    """Compare terms ignoring case, spaces, hyphens and underscores."""
    return " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()


def check_letter(name, value):
    """Check the FORMAT of a quiz answer (not whether it is right)."""
    assert value is not None, (
        f"`{{name}}` is still None: replace None with your letter, in quotes, and delete the "
        "line `raise NotImplementedError()`"
    )
    assert isinstance(value, str) and value.strip().upper() in CHOICES, (
        f"`{{name}}` should be one of the letters {{CHOICES}} as a string, got {{value!r}}"
    )
    print(f"`{{name}}` = {{value.strip().upper()!r}} has the right format (it is graded later)")


def check_key_terms_format(value):
    """Check the FORMAT of `key_terms` (not whether the matches are right)."""
    assert isinstance(value, dict), f"`key_terms` should be a dict, got {{type(value).__name__}}"
    missing = [d for d in DESCRIPTIONS if d not in value]
    assert not missing, f"`key_terms` has no entry for {{missing}}: keep the descriptions as given"
    extra = [d for d in value if d not in DESCRIPTIONS]
    assert not extra, f"`key_terms` has keys that are not descriptions from the table: {{extra}}"
    terms = {{_norm(t) for t in TERMS}}
    for description, term in value.items():
        assert term is not None, (
            f"`key_terms`[{{description!r}}] is still None: replace it with one of {{TERMS}}"
        )
        assert isinstance(term, str) and _norm(term) in terms, (
            f"`key_terms`[{{description!r}}] = {{term!r}} is not one of the terms {{TERMS}}"
        )
    print("`key_terms` has the right format (the matches are graded later)")
''')

    # Part A ------------------------------------------------------------------------------
    md("part-a", """
## Part A — Quiz (Q1–Q5)

Choose one answer per question. The questions are the course text's quiz; read the sections
they refer to again if you are unsure.
""")
    for i, (name, (question, options)) in enumerate(QUESTIONS.items(), start=1):
        letter, explanation = ANSWERS[name]
        opts = "\n".join(f"- **{c})** {o}" for c, o in zip(ref.VALID_CHOICES, options))
        md(f"q{i}-question", f"**Q{i}.** {question}\n\n{opts}")
        code(name, f'''
{name} = None  # replace None with "A", "B", "C" or "D"
### BEGIN SOLUTION
{explanation.strip()}
{name} = "{letter}"
### END SOLUTION
''', solution=True)
        code(f"test_{name}_visible", f'''
# Format check of your answer to Q{i} (0 points): one letter "A"-"D", as a string.
check_letter("{name}", {name})
''', grade=True, locked=True, points=FORMAT_POINTS)
        hidden_cells(name, "check_answer")

    # Part B ------------------------------------------------------------------------------
    terms_list = ", ".join(f"**{t}**" for t in TERMS_SORTED)
    md("part-b", f"""
## Part B — Key topological features of loss landscapes

Section 2 of the course text describes five features of a loss landscape. Match each
description to its term: {terms_list}. Each term matches exactly one description.

Fill in the dictionary below: its keys are the descriptions (keep them exactly as given),
each value is the term as a string (e.g. `"Plateau"`). Then delete the line
`raise NotImplementedError()`.
""")
    stub = "".join(f"    {d!r}: None,\n" for d in ref.KEY_TERMS)
    solution = "".join(f"    {d!r}: {t!r},\n" for d, t in ref.KEY_TERMS.items())
    code("key_terms", f'''
key_terms = {{
{stub}}}
### BEGIN SOLUTION
# Basin: where solutions end up; barrier: what separates basins; saddle point: zero gradient
# with curvature of both signs (common in high dimension); plateau: near-zero gradient over a
# whole region; narrow valley: a low-loss corridor with steep walls (sharp across it).
key_terms = {{
{solution}}}
### END SOLUTION
''', solution=True)
    code("test_key_terms_visible", '''
# Format check of `key_terms` (0 points): every description mapped to one of the five terms.
check_key_terms_format(key_terms)
''', grade=True, locked=True, points=FORMAT_POINTS)
    hidden_cells("key_terms", "check_answer")

    # Part C ------------------------------------------------------------------------------
    md("part-c", """
## Part C — Free-response questions (graded by hand)

Practice problems 1–5 of the course text ask you to *explain*; you computed their numbers in
notebooks 01–03. Answer each in the markdown cell below it (replace "YOUR ANSWER HERE"; you
may use LaTeX, e.g. `$\\theta(\\alpha)$`). Each answer is worth 2 points.
""")
    for grade_id, title, question, answer in EXPLAIN:
        md(f"{grade_id}-question", f"### {title}\n\n{question.strip()}")
        md(grade_id, answer, grade=True, solution=True, locked=False, points=EXPLAIN_POINTS)

    md("summary", """
## Summary and pitfalls

- **Linear vs nonlinear connectivity.** Two solutions are linearly mode connected when the
  loss along the straight path stays below $\\max(L(\\theta_a), L(\\theta_b)) + \\delta$. When the
  straight path crosses a barrier, a trained Bezier curve often finds a low-loss path around it;
  its midpoint is trained on the expected loss along the curve, with $\\alpha \\sim U(0, 1)$ drawn
  per step.
- **A barrier on the linear path does not prove separate basins**: a curved low-loss path may
  exist. And a **coarse $\\alpha$ grid can step over a narrow barrier**: the maximum over the grid
  is only a lower bound.
- **Sharpness depends on the parameterisation** (Dinh et al. 2017): ReLU rescaling changes the
  Hessian but not the function, so compare sharpness only with normalised measures (filter
  normalisation, Li et al. 2018) or within one parameterisation.
- **Traces of spectra are discrete sums**: $\\sum_{k=1}^d 1/k \\approx \\ln d + \\gamma$ grows with $d$;
  $\\sum_{k=1}^d e^{-k} \\to 1/(e-1) \\approx 0.582$ stays bounded.
- **Winning tickets need their initial values**: the same mask with a random
  re-initialisation trains worse; larger networks need late rewinding to weights from early in
  training; a ticket is tied to the data it was found on.
""")

    return builder.notebook(kernel_display_name="Python 3")


def main() -> None:
    nb = build()
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids)), "duplicate grade ids"
    write_notebook(nb, OUT)
    auto = sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
               if c.cell_type == "code" and c.metadata["nbgrader"]["grade"])
    manual = sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells
                 if c.cell_type == "markdown" and c.metadata["nbgrader"]["grade"])
    print(f"wrote {OUT} ({len(nb.cells)} cells, {auto} autograded + {manual} manual points)")


if __name__ == "__main__":
    main()
