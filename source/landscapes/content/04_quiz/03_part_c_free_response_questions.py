# %% [markdown] id="part-c"
# ## Part C — Free-response questions (graded by hand)
#
# Each question is a *variant* of a practice problem of the course text: the numbers or the
# setting differ from what notebooks 01–03 worked out, so reason it through with what you
# learned there (a few lines of Python in a scratch cell are fine). Answer each in the markdown
# cell below it (replace "YOUR ANSWER HERE"; you may use LaTeX, e.g. `$\theta(\alpha)$`). Each
# answer is worth 2 points: give the key numbers, and say why.

# %% [markdown] id="explain_topology-question"
# ### Practice problem 1, varied: four solutions
#
# Four independent training runs produce solutions $\theta_1, \theta_2, \theta_3, \theta_4$ with
# losses 0.20, 0.22, 0.21 and 0.30. The maximum loss on the straight line was measured for four
# pairs; the pairs (1, 4) and (2, 4) were not measured.
#
# | pair | (1, 2) | (2, 3) | (1, 3) | (3, 4) |
# |---|---|---|---|---|
# | max loss on the straight line | 0.25 | 0.24 | 0.62 | 0.33 |
#
# 1. Give the barrier of each measured pair (the course's definition: the maximum loss on the
#    path minus the mean of the two endpoint losses).
# 2. With notebook 01's criterion — a pair is linearly connected when its maximum is at most
#    $\max(L_i, L_j) + \delta$ — and $\delta = 0.05$: which pairs are connected, and what does
#    `linear_basins` return? What changes with $\delta = 0.01$?
# 3. What can you conclude about the landscape — are $\theta_1$ and $\theta_3$ in one basin? —
#    and what do the numbers **not** tell you?

# %% [markdown] id="explain_topology" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# 1. Barriers (max minus the mean of the endpoint losses): (1,2): $0.25 - 0.21 = 0.04$;
#    (2,3): $0.24 - 0.215 = 0.025$; (1,3): $0.62 - 0.205 = 0.415$; (3,4): $0.33 - 0.255 = 0.075$.
# 2. With $\delta = 0.05$ the bounds $\max(L_i, L_j) + \delta$ are 0.27, 0.27, 0.26 and 0.35:
#    (1,2), (2,3) and (3,4) are connected, (1,3) is not ($0.62 > 0.26$). The edges 1–2, 2–3,
#    3–4 make **one** component: `linear_basins([0.20, 0.22, 0.21, 0.30], {...}, 0.05)` returns
#    `[{0, 1, 2, 3}]`, all four solutions. Pair (3,4) is connected although its barrier,
#    0.075, exceeds $\delta$: the criterion measures the rise above the *worse* endpoint
#    ($0.33 - 0.30 = 0.03$), the barrier the rise above the *mean*; the two differ when the
#    endpoint losses differ (by 0.09 here). With $\delta = 0.01$ no pair passes
#    ($0.25 > 0.23$, $0.24 > 0.23$, $0.62 > 0.22$, $0.33 > 0.31$): four groups
#    `[{0}, {1}, {2}, {3}]`. The grouping depends on the tolerance, so say which one you used.
# 3. $\theta_1$ and $\theta_3$ are in one linear basin although the straight line between them
#    climbs 0.415 above its ends: they are joined by the bent low-loss path
#    $\theta_1 \to \theta_2 \to \theta_3$. Linear connectivity is not transitive, and a linear
#    basin is a set joined by piecewise-linear low-loss paths, not a convex region. $\theta_4$
#    is a worse solution (0.30); the straight path from $\theta_3$ rises only 0.03 above it.
#
# What the numbers do not tell us:
# - (1,4) and (2,4) were not measured; they are in the component only through $\theta_3$.
# - The maxima are taken over the evaluated values of $\alpha$: a coarse grid can step over a
#   narrow barrier, so every maximum is a lower bound, and a finer grid could remove an edge
#   (1–2 and 3–4 pass by only 0.02).
# - A pair that is not linearly connected may still be joined by a curved low-loss path
#   (Garipov et al. 2018; Draxler et al. 2018): the straight line (1,3) alone proves no ridge
#   between two basins.
#
# *Rubric (2 points).*
# - 1 point: the four barriers (0.04, 0.025, 0.415, 0.075) and, for $\delta = 0.05$, the
#   connected pairs (1,2), (2,3), (3,4) with the single group of all four. Splitting the group
#   because (1,3) is not connected, or judging (3,4) by its barrier, earns half of this point.
# - 1 point: the reading: $\theta_1$ and $\theta_3$ share a basin only through a bent path
#   (non-transitive, not convex), and at least one correct limit: unmeasured pairs, the grid
#   giving lower bounds, curved paths, or the dependence on $\delta$ (four groups for 0.01).

# %% [markdown] id="explain_spectrum_perturbation-question"
# ### Practice problem 2, varied: spectra decaying like $1/k^2$ and like $1/\sqrt{k}$
#
# The Hessian at one minimum has the eigenvalues $\lambda_k = c/k^2$, at another minimum
# $\lambda_k = c/\sqrt{k}$, for $k = 1, \dots, d$ (the network has $d$ parameters; the same
# $c > 0$ for both). Compute the expected loss increase at each minimum under isotropic Gaussian
# noise $\epsilon \sim \mathcal N(0, \sigma^2 I)$. Say how each depends on $d$, give both for
# $d = 10^7$ as multiples of $c\sigma^2$ (three significant digits), and say for which exponents
# $p$ the expected increase under $\lambda_k = c/k^p$ stays bounded as $d$ grows.
# (`spectrum_trace` of notebook 02 sums only the $1/k$ and $e^{-k}$ series: sum these
# yourself.)

# %% [markdown] id="explain_spectrum_perturbation" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.* Second-order Taylor expansion at a minimum ($\nabla L(\theta^*) = 0$):
# $\mathbb E[L(\theta^* + \epsilon)] - L(\theta^*) \approx \tfrac12 \mathbb E[\epsilon^\top H \epsilon]
# = \tfrac{\sigma^2}{2}\,\mathrm{tr}(H) = \tfrac{\sigma^2}{2} \sum_{k=1}^d \lambda_k$, with the traces as
# **discrete sums** from $k = 1$.
#
# - $\lambda_k = c/k^2$: $\sum_{k=1}^d 1/k^2 \to \pi^2/6 \approx 1.645$ (the tail beyond $d$ is
#   about $1/d$): bounded, 1.550 already at $d = 10$, and the top eigenvalue alone is 61% of
#   the trace. For $d = 10^7$: $\mathrm{tr}(H) \approx 1.645\,c$, expected increase
#   $\approx 0.822\,c\sigma^2$, practically independent of $d$.
# - $\lambda_k = c/\sqrt{k}$: $\sum_{k=1}^d k^{-1/2} \approx 2\sqrt d + \zeta(\tfrac12) \approx 2\sqrt d - 1.460$,
#   growing like $\sqrt d$ — much faster than the $\ln d$ of the $1/k$ spectrum. For
#   $d = 10^7$: $\mathrm{tr}(H) \approx 6323\,c$ ($6.32 \times 10^3\,c$), expected increase
#   $\approx 3.16 \times 10^3\,c\sigma^2$.
# - At $d = 10^7$ the $1/\sqrt k$ minimum is about $3.84 \times 10^3$ times as sensitive,
#   with the **same** top eigenvalue $\lambda_1 = c$: its many small eigenvalues add up. The
#   top eigenvalue alone does not tell the sensitivity to isotropic noise; the trace does.
# - The rule (the $p$-series): $\sum_{k \ge 1} k^{-p}$ converges if and only if $p > 1$. So the
#   expected increase stays bounded for $p > 1$, grows like $\ln d$ at $p = 1$ (the borderline,
#   the course's $1/k$ case) and like $d^{1-p}/(1-p)$ for $p < 1$.
#
# Remarks an excellent answer may add: the integral $\int_1^d k^{-1/2}\,dk = 2\sqrt d - 2$ is a good
# approximation of the slowly decaying sum (off by about 0.54 in 6323), but
# $\int_1^\infty k^{-2}\,dk = 1$ misses 39% of the fast-decaying one, whose first terms dominate —
# sums are not integrals; and the quadratic approximation needs $\sigma$ small, since
# $\|\epsilon\| \approx \sigma\sqrt d$ grows with the dimension.
#
# *Rubric (2 points).*
# - 1 point: $\mathbb E[\Delta L] \approx \tfrac{\sigma^2}{2}\mathrm{tr}(H)$ with both traces as sums:
#   $\approx 1.645\,c$ (bounded, $\pi^2/6$) and $\approx 6.32 \times 10^3\,c$ ($\approx 2\sqrt d$) at
#   $d = 10^7$, i.e. $\approx 0.822\,c\sigma^2$ and $\approx 3.16 \times 10^3\,c\sigma^2$. An integral in place
#   of the $1/k^2$ sum (1 instead of 1.645) earns half of this point.
# - 1 point: the comparison and the rule: bounded against $\sqrt d$ growth, bounded exactly for
#   $p > 1$ ($p = 1$ grows like $\ln d$), and why (many small eigenvalues add up; the same top
#   eigenvalue, a very different trace).

# %% [markdown] id="explain_ticket_transfer-question"
# ### Practice problem 3, varied: how much do two tickets share?
#
# From the same initialisation $\theta_0$ you run iterative magnitude pruning with rewinding to
# $\theta_0$ twice, with the same architecture and schedule: once on data set A and once on data
# set B, layer by layer to 90% sparsity (each mask keeps 10% of the weights of every layer).
# `mask_overlap` of the two masks is 0.20. Trained on B, the ticket found on A ends clearly
# below the ticket found on B.
#
# 1. What overlap would two independent random masks of this sparsity have? What fraction of
#    the weights that A's ticket keeps does B's ticket keep too?
# 2. Why might the winning ticket found on A not transfer to B, although the dense architecture
#    works on both? Give two reasons, and say what the numbers of point 1 add to them.

# %% [markdown] id="explain_ticket_transfer" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# 1. Two independent random masks of density $0.1$ share about $0.1^2 N$ of $N$ weights, out
#    of a union of about $(0.2 - 0.01)N$: $J \approx 0.1/1.9 \approx 0.053$ (per layer and overall,
#    since every layer has density 0.1). Both tickets keep $k$ weights; with $s$ shared,
#    $J = s/(2k - s)$, so $s/k = 2J/(1 + J) = 0.4/1.2 = 1/3$: B's ticket keeps a third of the
#    weights A's ticket keeps, and two thirds of the weights B's ticket uses are pruned in A's.
#    0.20 is about 3.8 times the chance level: the tickets share far more than chance — part of
#    that is the shared $\theta_0$ (weights that start large tend to survive on any data) — but
#    they are far from identical: most of each ticket is specific to its data.
# 2. Reasons:
#    - **The mask is chosen by the data.** IMP keeps the weights that training on A made
#      large, the connections A's features need. B needs other features: two thirds of the
#      connections its own ticket relies on are missing from A's ticket, and at 90% sparsity
#      little redundant capacity is left to make up for them.
#    - **A ticket is a (mask, initial values) pair** that trains well along A's training
#      trajectory (the rewinding experiments: the same mask with new random values trains
#      worse; Frankle et al. 2020 tie success to stability to SGD noise from the rewind point).
#      Nothing guarantees the same for B's trajectory.
#    - **The dense network holds many candidate subnetworks**; training on A or on B selects
#      different ones, and pruning commits to A's. The overlap well above chance explains why A's
#      ticket still trains on B at all; the two thirds it lacks, why it ends below B's own
#      ticket. Tickets found on large, varied data sets transfer better (Morcos et al. 2019).
#
# *Rubric (2 points).*
# - 1 point: the chance level $\approx 0.053$ ($d/(2 - d)$ with $d = 0.1$) and the shared fraction
#   $1/3$ ($2J/(1 + J)$), read correctly: well above chance, far from identical. One of the two
#   numbers with that reading earns half of this point.
# - 1 point: two correct reasons (the data-selected mask; the mask and initial values tied to A's
#   trajectory; the lost redundancy at high sparsity; the dense network's many subnetworks),
#   linked to the numbers.

# %% [markdown] id="explain_scale_invariance-question"
# ### Practice problem 4, varied: one ReLU unit, by hand
#
# A network with one hidden ReLU unit and no biases, $f(x) = w_2\,\mathrm{relu}(w_1 x)$, is
# trained on the single example $(x, y) = (1, 6)$ with the loss
# $L(w_1, w_2) = \tfrac12\big(f(x) - y\big)^2$. Training ends at $(w_1, w_2) = (2, 3)$, where the loss
# is 0.
#
# 1. Compute the Hessian of $L$ at this point, its trace and its eigenvalues. Which direction has
#    eigenvalue 0, and why?
# 2. `rescale_hidden_units` with $c = 4$ (notebook 02) gives another point: which one? Does it
#    compute the same function? Give its Hessian's trace and top eigenvalue.
# 3. Over all rescalings $c > 0$, what are the smallest and the largest trace this one function
#    can have? At which $(w_1, w_2)$ is the smallest reached?
# 4. What does this mean for a claim such as "minimum A has a smaller Hessian trace than
#    minimum B, so A generalises better" (Dinh et al. 2017)?

# %% [markdown] id="explain_scale_invariance" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# 1. With the residual $r = f(x) - y$, $\nabla^2 L = \nabla f\,\nabla f^\top + r\,\nabla^2 f$, and
#    $r = 0$ here. At $w_1 x = 2 > 0$ the ReLU is linear, so
#    $\nabla f = (w_2 x,\ w_1 x) = (3, 2)$ and
#    $H = \begin{pmatrix} 9 & 6 \\ 6 & 4 \end{pmatrix}$: $\mathrm{tr}(H) = 13$, eigenvalues 13 (along
#    $(3, 2)/\sqrt{13}$) and **0** along $(2, -3)/\sqrt{13} \propto (w_1, -w_2)$. That is the tangent of
#    the rescaling curve $(c\,w_1, w_2/c)$ at $c = 1$: along it the product $w_1 w_2 = 6$, hence
#    the function and the loss, do not change — a symmetry gives an exact zero eigenvalue.
# 2. $c = 4$: $(w_1, w_2) = (8, 0.75)$, and $0.75\,\mathrm{relu}(8x) = 6\,\mathrm{relu}(x) = 3\,\mathrm{relu}(2x)$ for
#    every $x$: the same function, loss 0. Now $\nabla f = (0.75, 8)$ and
#    $H' = \begin{pmatrix} 0.5625 & 6 \\ 6 & 64 \end{pmatrix} = T^{-1} H T^{-1}$ with $T = \mathrm{diag}(4, 1/4)$:
#    trace $= 64.5625$, which is also the top eigenvalue (rank one; the other is 0). About
#    five times "sharper" by trace, for the same function.
# 3. $\mathrm{tr}\,H(c) = w_1(c)^2 + w_2(c)^2 = 4c^2 + 9/c^2$ (13 at $c = 1$). Its minimum is at
#    $c^4 = 9/4$, $c = \sqrt{1.5} \approx 1.225$: $(w_1, w_2) = (\sqrt 6, \sqrt 6) \approx (2.449, 2.449)$, the
#    balanced point, with trace **12** ($w_1^2 + w_2^2 \ge 2 w_1 w_2 = 12$). There is **no** largest:
#    $c \to 0$ or $c \to \infty$ makes the trace as large as we like ($c = 1/4$: 144.25). The same
#    function has every trace in $[12, \infty)$.
# 4. Raw sharpness is not a property of the function: the comparison "A flatter than B" can be
#    reversed by rescaling one of them, without changing a single prediction, so it cannot by
#    itself explain generalisation. Compare sharpness only within one parameterisation and
#    training procedure (where results such as Keskar et al. 2017 are empirical correlations),
#    or with measures that such rescalings do not change (here the smallest trace over the
#    rescalings, 12; filter-normalised plots, Li et al. 2018; sharpness relative to the weight
#    scale). Batch norm adds further invariances of the same kind.
#
# *Rubric (2 points).*
# - 1 point: the computations: $H = \begin{pmatrix} 9 & 6 \\ 6 & 4 \end{pmatrix}$, trace 13, eigenvalues 13
#   and 0; for $c = 4$ the point $(8, 0.75)$, the same function, trace 64.5625 (or
#   $H' = T^{-1}HT^{-1}$ worked out). A correct method with one arithmetic slip earns half.
# - 1 point: the range — a smallest trace of 12 at the balanced point and no largest, or at least
#   "arbitrarily large for the same function" — and the consequence for sharpness claims (not a
#   property of the function; invariant measures or a fixed parameterisation; correlational).

# %% [markdown] id="explain_bezier_midpoint-question"
# ### Practice problem 5, varied: a cubic Bezier curve
#
# A cubic Bezier curve with **two** control points $\theta_1, \theta_2$ connects $\theta_a$ and
# $\theta_b$: $\theta(\alpha) = \sum_{k=0}^{3} w_k(\alpha)\,P_k$ with the weights
# `bernstein_weights(3, alpha)` of notebook 01 and $(P_0, P_1, P_2, P_3) = (\theta_a, \theta_1,
# \theta_2, \theta_b)$.
#
# 1. Write $\theta(\alpha)$ out, check the two ends, and give $\theta(\tfrac12)$.
# 2. For which control points is the curve exactly the straight line
#    $(1-\alpha)\theta_a + \alpha\theta_b$, for every $\alpha$? What is the curve when both control
#    points are the average $(\theta_a + \theta_b)/2$ — does it have the straight line's barrier?
# 3. Which value of $\alpha$ does each control point move most? On which objective are the
#    control points trained, and what does the second control point cost compared with the
#    quadratic curve of notebook 01?

# %% [markdown] id="explain_bezier_midpoint" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# 1. $\theta(\alpha) = (1-\alpha)^3\theta_a + 3\alpha(1-\alpha)^2\theta_1 + 3\alpha^2(1-\alpha)\theta_2 + \alpha^3\theta_b$,
#    $\alpha \in [0, 1]$; the loss along it is $\ell(\alpha) = L(\theta(\alpha))$. $\theta(0) = \theta_a$,
#    $\theta(1) = \theta_b$ whatever the control points are.
#    $\theta(\tfrac12) = (\theta_a + 3\theta_1 + 3\theta_2 + \theta_b)/8$ (weights 1/8, 3/8, 3/8, 1/8): in
#    general neither control point lies on the curve.
# 2. The straight line, with $\theta(\alpha) = (1-\alpha)\theta_a + \alpha\theta_b$ at every $\alpha$, needs
#    the control points at one and two thirds: $\theta_1 = (2\theta_a + \theta_b)/3$,
#    $\theta_2 = (\theta_a + 2\theta_b)/3$. Reason: $\sum_k \tfrac{k}{3}\,w_k(\alpha) = \alpha$ (the mean of a
#    Binomial(3, $\alpha$) is $3\alpha$), and the Bernstein polynomials are a basis, so no other choice
#    gives that line. With both control points at the average $m = (\theta_a + \theta_b)/2$:
#    $\theta(\alpha) = \theta_a + s(\alpha)(\theta_b - \theta_a)$ with $s(\alpha) = \tfrac32\alpha(1-\alpha) + \alpha^3$;
#    $s(0) = 0$, $s(1) = 1$, $s(\tfrac12) = \tfrac12$ and $s'(\alpha) = \tfrac32 - 3\alpha + 3\alpha^2 \ge \tfrac34 > 0$.
#    The curve runs along the **same straight segment**, forwards only, at a non-uniform speed
#    ($s(\tfrac14) = 0.297$, not 0.25): the same points, so the same maximum loss and the same
#    barrier (on a fine grid; only the $\alpha$ at which each point is reached differs). Any
#    untrained choice on the segment reproduces the barrier: the control points must be trained
#    to bend the curve around it.
# 3. $\partial\theta(\alpha)/\partial\theta_1 = 3\alpha(1-\alpha)^2$, largest ($4/9$) at $\alpha = 1/3$;
#    $\partial\theta(\alpha)/\partial\theta_2 = 3\alpha^2(1-\alpha)$, largest ($4/9$) at $\alpha = 2/3$; neither
#    moves the ends. So $\partial L(\theta(\alpha))/\partial\theta_1 = 3\alpha(1-\alpha)^2\,\nabla L(\theta(\alpha))$.
#    As for the quadratic curve (Garipov et al. 2018), the endpoints stay fixed and both control
#    points are trained together by SGD on the **expected loss along the curve**,
#    $\mathbb E_{\alpha \sim U(0,1)}\, L(\theta(\alpha))$, drawing one $\alpha$ per minibatch step; the maximum
#    is checked afterwards on a fine grid (`barrier_height`). The cost: twice the trainable
#    parameters (two copies of the network's size instead of one) and their optimiser state;
#    a step still evaluates the network at one point of the curve. In return the curve can
#    bend twice.
#
# *Rubric (2 points).*
# - 1 point: the cubic curve with its ends and $\theta(\tfrac12) = (\theta_a + 3\theta_1 + 3\theta_2 + \theta_b)/8$,
#   and either the straight-line choice (control points at the thirds) or the average case
#   traced correctly (the same segment, the same barrier).
# - 1 point: why train (control points on the segment keep the barrier; the bend must be found
#   by optimisation) and how: the expected loss over $\alpha \sim U(0,1)$, one $\alpha$ per step,
#   endpoints fixed, both control points trained; with the $\alpha$ of largest influence
#   (1/3 and 2/3) or the cost. "Minimise the maximum loss" alone earns half.

# %% [markdown] id="explain_contour_plot-question"
# ### Reading a filter-normalised loss-landscape plot, with numbers
#
# In notebook 02 you plotted $f(\alpha, \beta) = L(\theta^* + \alpha d_1 + \beta d_2)$ with two random
# directions made filter-normalised by `filter_normalize` (Li et al. 2018). Filter normalisation
# gives each direction the norm of the weights (biases excluded). In the filter-normalised plot
# of a network P, the contour at level $L(\theta^*) + 0.02$ around the centre is an ellipse with
# semi-axes 0.40 along $\alpha$ and 0.10 along $\beta$; for P, $\|d_1\| = \|d_2\| = 5$.
#
# 1. With a quadratic model around the centre, estimate the second derivatives of $f$ along
#    $\alpha$ and along $\beta$, and the curvature $u^\top H u$ of the loss along the unit vectors
#    $u_i = d_i/\|d_i\|$.
# 2. What do these numbers say about the largest eigenvalue $\lambda_1$ of the Hessian at
#    $\theta^*$? Does the plot show that the minimum is flat in *every* direction?
# 3. Network R has weights of norm 10 (so $\|d_1\| = \|d_2\| = 10$), and its filter-normalised plot,
#    with the same contour levels, shows exactly the same ellipse. Compare the curvatures of P
#    and R along their unit directions. Which minimum is flatter? Why are such plots drawn with
#    filter-normalised directions?

# %% [markdown] id="explain_contour_plot" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# 1. Near the centre (a minimum of the slice, axes of the ellipse along $\alpha$ and $\beta$),
#    $f(\alpha, 0) \approx L(\theta^*) + \tfrac12\kappa_\alpha\alpha^2$. On the contour,
#    $\tfrac12\kappa_\alpha\,0.40^2 = 0.02$, so $\kappa_\alpha = 0.04/0.16 = 0.25$, and
#    $\kappa_\beta = 0.04/0.01 = 4$: 16 times as curved across the narrow axis (the semi-axes
#    differ by 4, the curvatures by $4^2$). Since $f'' = d_i^\top H d_i = \|d_i\|^2\,u_i^\top H u_i$:
#    $u_1^\top H u_1 = 0.25/25 = 0.01$ and $u_2^\top H u_2 = 4/25 = 0.16$.
# 2. Every Rayleigh quotient $u^\top H u$ of a unit vector is at most $\lambda_1$, so
#    $\lambda_1 \ge 0.16$ — a lower bound only. Random directions are nearly orthogonal to the few
#    top eigenvectors (on average $u^\top H u = \mathrm{tr}(H)/D$ over $D$ parameters), so $\lambda_1$
#    may be far larger (power iteration measures it). Closed rings show a minimum *in this
#    plane*; other directions may be sharp or even curve downwards (notebook 02 found negative
#    eigenvalues), the quadratic model holds only near the centre, and the grid limits what is
#    seen. So no: the plot does not show flatness in every direction.
# 3. For R: $0.25/100 = 0.0025$ and $4/100 = 0.04$, four times ($= (10/5)^2$) smaller than P's. Per
#    unit of raw parameter change R is four times flatter; relative to the size of its weights —
#    what a filter-normalised plot measures — the two are equally flat. Which one is "flatter"
#    depends on the ruler, and the raw ruler depends on the parameterisation: ReLU rescaling
#    changes weight norms and raw curvature without changing the function (practice problem 4),
#    so raw comparisons between networks can say anything. Filter normalisation moves every
#    filter by the same fraction of its own norm, which removes that scale (for one factor per
#    layer the rescaled network's plot is even identical) and makes plots of different networks
#    comparable, with shared contour levels; Li et al. (2018) found sharpness seen this way to
#    go with generalisation. It fixes the scale, not the slice problem of point 2.
#
# *Rubric (2 points).*
# - 1 point: $\kappa_\alpha = 0.25$, $\kappa_\beta = 4$ and the unit curvatures 0.01 and 0.16, with
#   $\lambda_1 \ge 0.16$ as a lower bound only (a 2-D random slice can hide sharper directions). The
#   reading without the numbers, or the numbers without the bound, earns half.
# - 1 point: R's curvatures 0.0025 and 0.04 (four times smaller) and the reading: equally flat
#   relative to the weight scale; raw curvature depends on the parameterisation (rescaling), and
#   filter normalisation removes the scale and makes plots comparable.
