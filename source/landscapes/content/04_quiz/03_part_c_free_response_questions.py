# %% [markdown] id="part-c"
# ## Part C — Free-response questions (graded by hand)
#
# Practice problems 1–5 of the course text ask you to *explain*; you computed their numbers in
# notebooks 01–03. Answer each in the markdown cell below it (replace "YOUR ANSWER HERE"; you
# may use LaTeX, e.g. `$\theta(\alpha)$`). Each answer is worth 2 points.

# %% [markdown] id="explain_topology-question"
# ### Practice problem 1: landscape topology from three runs
#
# Three independent training runs produce solutions $\theta_1, \theta_2, \theta_3$ with losses
# 0.15, 0.16, 0.17. Linear interpolation between (1,2) has max loss 0.18; between (2,3) has max
# loss 0.95. What can you conclude about the loss landscape topology?
#
# In your answer, give the barrier height of each pair (the course's definition: the maximum
# loss on the path minus the mean of the two endpoint losses), say which pairs are linearly
# mode connected, and say what the numbers do **not** tell you. (In notebook 01 you computed
# the same thing with `barrier_height` and `linear_basins`.)

# %% [markdown] id="explain_topology" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.* Barriers (max on the path minus the mean of the endpoint losses):
# pair (1,2): $0.18 - (0.15 + 0.16)/2 = 0.025$; pair (2,3): $0.95 - (0.16 + 0.17)/2 = 0.785$.
# With the criterion $L \le \max(L_i, L_j) + \delta$, pair (1,2) is linearly mode connected for
# any tolerance $\delta \ge 0.02$ (e.g. $\delta = 0.05$): $\theta_1$ and $\theta_2$ lie in one
# region whose straight segment stays at low loss. Pair (2,3) is **not** linearly connected: the
# straight path rises about 0.78 above its ends (almost five times the mean endpoint loss).
# So $\theta_3$ is not in the linearly connected region of $\theta_1, \theta_2$; with
# $\delta = 0.05$, `linear_basins` gives the groups $\{\theta_1, \theta_2\}$ and $\{\theta_3\}$.
#
# What the numbers do not tell us:
# - A barrier on the *linear* path does not prove that $\theta_3$ is in a separate basin: a curved
#   low-loss path may exist (Garipov et al. 2018; Draxler et al. 2018). To decide, train a Bezier
#   curve between $\theta_2$ and $\theta_3$ and look at the loss along it.
# - Pair (1,3) was not measured, and linear connectivity is not transitive, so nothing follows
#   about it (the broken path $\theta_1 \to \theta_2 \to \theta_3$ still crosses the barrier).
# - The maxima are taken over the evaluated values of $\alpha$: a coarse grid can step over a
#   narrow barrier, so 0.18 is only a lower bound on the true maximum along (1,2).
#
# *Rubric (2 points).*
# - 1 point: the two barriers (0.025 and 0.785, or the equivalent comparison with
#   $\max(L_i, L_j) + \delta$) and the conclusion "(1,2) linearly connected, (2,3) not".
# - 1 point: a correct limit of the conclusion: the (2,3) barrier does not prove separate basins
#   (a nonlinear path may connect them), or (1,3) is undetermined / connectivity is not
#   transitive. Claiming as a certainty that the landscape "has two distinct basins" without this
#   caveat earns at most half of this point.

# %% [markdown] id="explain_spectrum_perturbation-question"
# ### Practice problem 2: the 1/k and e^(-k) spectra
#
# The Hessian at a minimum has eigenvalues decaying as $\lambda_k \propto 1/k$. Compute the
# expected loss perturbation for isotropic Gaussian noise with variance $\sigma^2$, and compare
# to a minimum with $\lambda_k \propto e^{-k}$.
#
# Take $\lambda_k = c/k$ and $\lambda_k = c\,e^{-k}$ for $k = 1, \dots, d$ (the network has $d$
# parameters), i.e. the traces are the **discrete sums** that `spectrum_trace` computes in
# notebook 02. Say how each answer depends on $d$, and give the numbers for $d = 10^7$.

# %% [markdown] id="explain_spectrum_perturbation" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.* Second-order Taylor expansion at a minimum ($\nabla L(\theta^*) = 0$) with
# $\epsilon \sim \mathcal N(0, \sigma^2 I)$:
# $\mathbb E[L(\theta^* + \epsilon)] - L(\theta^*) \approx \tfrac12 \mathbb E[\epsilon^\top H \epsilon]
# = \tfrac{\sigma^2}{2}\,\mathrm{tr}(H) = \tfrac{\sigma^2}{2} \sum_{k=1}^d \lambda_k$.
#
# - $\lambda_k = c/k$: $\mathrm{tr}(H) = c \sum_{k=1}^d 1/k = c\,H_d \approx c\,(\ln d + \gamma)$, with
#   $\gamma \approx 0.5772$ (Euler's constant). The expected increase
#   $\approx \tfrac{c\sigma^2}{2}(\ln d + \gamma)$ grows without bound, logarithmically in $d$.
#   For $d = 10^7$: $H_d \approx 16.70$.
# - $\lambda_k = c\,e^{-k}$: $\mathrm{tr}(H) = c \sum_{k=1}^d e^{-k} = c\,\frac{1 - e^{-d}}{e - 1} \to
#   \frac{c}{e - 1} \approx 0.582\,c$, bounded. The expected increase
#   $\approx 0.291\,c\sigma^2$ does not depend on $d$ (beyond $d \approx 10$).
# - For $d = 10^7$ and the same $c$, the $1/k$ minimum is about $28.7\times$ more
#   sensitive. The reason: each of its many small eigenvalues is tiny, but together they
#   dominate the trace; the exponential spectrum has essentially a handful of effective directions.
#
# The course text's answer replaced the sums by integrals: $\int_1^d dk/k = \ln d$ (misses
# $\gamma$) and $\int_0^\infty e^{-k}dk = 1$, which is wrong for a sum that starts at $k = 1$
# (the true value is $1/(e-1) \approx 0.582$).
#
# Remarks an excellent answer may add: the comparison depends on how the constants are matched
# (with the same top eigenvalue $\lambda_1$ instead of the same $c$, the exponential trace is
# $\lambda_1 \cdot e/(e-1) \approx 1.58\,\lambda_1$, the inverse one $\lambda_1 H_d$; the
# conclusion is the same); and the quadratic approximation needs $\sigma$ small, since
# $\|\epsilon\| \approx \sigma\sqrt d$ grows with the dimension.
#
# *Rubric (2 points).*
# - 1 point: $\mathbb E[\Delta L] \approx \tfrac{\sigma^2}{2}\mathrm{tr}(H)$ and both traces as discrete sums
#   ($\approx \ln d + \gamma$, and $(1 - e^{-d})/(e - 1) \approx 0.582$, each times $c$).
#   Using the integrals ($\ln d$ and 1) earns half of this point.
# - 1 point: the comparison: logarithmic growth with $d$ vs bounded, so the $1/k$ minimum is
#   much more sensitive in high dimension, and why (many small eigenvalues add up).

# %% [markdown] id="explain_ticket_transfer-question"
# ### Practice problem 3: why a winning ticket may not transfer
#
# Why might a "winning ticket" found via iterative magnitude pruning at 90% sparsity NOT
# transfer to a different dataset, even though the original architecture works on both?

# %% [markdown] id="explain_ticket_transfer" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# - **The mask is chosen by the data.** Iterative magnitude pruning keeps the weights that
#   training on dataset A made large, i.e. the connections A's features need. A different
#   dataset B needs other features; many of the connections it would use were removed, and at
#   90% sparsity little redundant capacity is left to make up for it.
# - **The ticket is a (mask, initial values) pair.** It trains well because those initial values,
#   inside that mask, lead SGD to a good solution on A (the rewinding experiments: the same mask
#   with new random values trains worse; Frankle et al. 2020 relate success to the subnetwork
#   being stable to SGD noise from the rewind point). Nothing guarantees the same property for
#   B's training trajectory.
# - **Why the dense architecture works on both:** it is overparameterised and contains many
#   candidate subnetworks; training on A or on B selects a different one. Pruning commits to
#   the one selected by A.
# - One can measure this: run IMP on both datasets and compare the masks with `mask_overlap`
#   (Jaccard index, notebook 03): a low overlap means the two datasets select different
#   subnetworks. Tickets found on larger, more varied datasets transfer better than those found on small
#   ones (Morcos et al. 2019).
#
# *Rubric (2 points).*
# - 1 point: the mask (and the rewound values) are data dependent: selected by weight
#   magnitudes after training on A, so they encode A's features.
# - 1 point: a second correct reason or consequence: the coupling with the initialisation /
#   training trajectory, the lost redundancy at high sparsity, the dense network containing
#   many candidate subnetworks, or how to test it (mask overlap, retraining on B).

# %% [markdown] id="explain_scale_invariance-question"
# ### Practice problem 4: Dinh et al.'s scale invariance
#
# Explain why Dinh et al.'s (2017) scale-invariance argument means that "sharp vs flat minima"
# claims must be treated carefully for ReLU networks. (Notebook 02 demonstrates the argument
# with `rescale_hidden_units`.)

# %% [markdown] id="explain_scale_invariance" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.* ReLU is positively homogeneous: $\mathrm{relu}(cz) = c\,\mathrm{relu}(z)$ for
# $c > 0$. Multiply the incoming weights (row $i$ of $W_1$ and the bias $b_{1,i}$) of hidden unit
# $i$ by $c$ and divide its outgoing weights (column $i$ of $W_2$) by $c$: every output, hence
# the loss on every input, the accuracy and the generalisation, is unchanged. The geometry is
# not: writing the rescaling as $\theta' = T\theta$ with $T$ diagonal, $L'(\theta') = L(T^{-1}\theta')$,
# so $H' = T^{-1} H T^{-1}$: curvature along incoming weights is divided by $c^2$, along outgoing
# weights multiplied by $c^2$. Choosing $c$ very small or very large makes the trace, the top
# eigenvalue or any $\epsilon$-sharpness as large as we like at a minimum that computes exactly
# the same function (Dinh et al. 2017). Hence raw sharpness is a property of the
# parameterisation, not of the function, and "sharp minima generalise worse" cannot hold as a
# statement about raw Hessian measures.
#
# Consequences: compare sharpness only with measures that are invariant to such rescalings or
# normalised (filter-normalised directions, Li et al. 2018; sharpness relative to the weight
# scale), or between networks with the same parameterisation and training procedure. Results
# such as Keskar et al. (2017) (large-batch training finds sharper minima that generalise
# worse) are empirical correlations under a fixed parameterisation, not a law: SGD does not
# rescale adversarially, but an argument based on sharpness alone cannot exclude it. Batch norm
# adds further scale invariances of the same kind.
#
# *Rubric (2 points).*
# - 1 point: the mechanism: positive homogeneity, multiply incoming by $c$ and divide outgoing
#   by $c$, same function, Hessian/sharpness changes (blocks scale by $1/c^2$ and $c^2$).
# - 1 point: the consequence: raw sharpness is not a function of the network's function, so
#   comparisons need normalised/invariant measures or a fixed parameterisation; flatness
#   claims are correlational.

# %% [markdown] id="explain_bezier_midpoint-question"
# ### Practice problem 5: the loss along a Bezier curve
#
# A Bezier curve with midpoint $\theta_{\text{mid}}$ connects $\theta_1$ and $\theta_2$. Derive the
# loss along the curve and explain why the midpoint must be trained.
#
# Write $\theta(\alpha)$ out, check the two ends and the point at $\alpha = 1/2$, show what the
# curve is for $\theta_{\text{mid}} = (\theta_1 + \theta_2)/2$, and say which objective the
# midpoint is trained on in practice (in notebook 01 you implemented `bezier_point` and
# `train_bezier_midpoint`).

# %% [markdown] id="explain_bezier_midpoint" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.* The curve is
# $\theta(\alpha) = (1-\alpha)^2\theta_1 + 2\alpha(1-\alpha)\theta_{\text{mid}} + \alpha^2\theta_2$,
# $\alpha \in [0, 1]$, and the loss along it is the one-variable function
# $\ell(\alpha) = L(\theta(\alpha))$ (for a network there is no closed form; for a quadratic
# loss $\ell$ is a polynomial of degree at most 4 in $\alpha$).
# - $\theta(0) = \theta_1$, $\theta(1) = \theta_2$: the curve joins the two solutions, so
#   $\ell(0) = L(\theta_1)$ and $\ell(1) = L(\theta_2)$.
# - $\theta(1/2) = \tfrac14\theta_1 + \tfrac12\theta_{\text{mid}} + \tfrac14\theta_2$, which equals
#   $\theta_{\text{mid}}$ only when $\theta_{\text{mid}} = (\theta_1 + \theta_2)/2$: the "midpoint" is a
#   control point that pulls the curve towards itself, in general not a point of the curve.
# - Derivatives: $\theta'(\alpha) = 2(1-\alpha)(\theta_{\text{mid}} - \theta_1) +
#   2\alpha(\theta_2 - \theta_{\text{mid}})$, so $\ell'(\alpha) = \nabla L(\theta(\alpha))^\top\theta'(\alpha)$,
#   and $\partial \ell(\alpha)/\partial\theta_{\text{mid}} = 2\alpha(1-\alpha)\,\nabla L(\theta(\alpha))$:
#   the midpoint moves the curve most at $\alpha = 1/2$ and not at all at the ends.
# - With $\theta_{\text{mid}} = (\theta_1 + \theta_2)/2$: $(1-\alpha)^2 + \alpha(1-\alpha) = 1-\alpha$ and
#   $\alpha(1-\alpha) + \alpha^2 = \alpha$, so $\theta(\alpha) = (1-\alpha)\theta_1 + \alpha\theta_2$,
#   exactly the straight line, barrier included.
#
# Why train it: the straight choice reproduces the barrier, and a low-loss bend cannot be
# guessed: $\theta_{\text{mid}}$ has as many coordinates as the network, and only optimisation
# finds where the curve must bend to stay at low loss. In practice (Garipov et al. 2018) the
# endpoints stay fixed and $\theta_{\text{mid}}$ is trained by SGD on the **expected loss along the
# curve**, $\mathbb E_{\alpha \sim U(0,1)}\, L(\theta(\alpha))$, drawing one $\alpha$ per minibatch
# step. (The course text says "minimise the maximum loss along the curve"; that is what we
# check afterwards, e.g. with `barrier_height` on a fine grid of $\alpha$, but training on the
# expectation is what is done, and it works.)
#
# *Rubric (2 points).*
# - 1 point: the curve and $\ell(\alpha) = L(\theta(\alpha))$, with the endpoint check and at least one
#   of: the $\alpha = 1/2$ point, the straight line for the average midpoint, the gradient with
#   respect to $\theta_{\text{mid}}$.
# - 1 point: why train it (the straight/average midpoint keeps the barrier; the bend must be
#   found by optimisation) and how: expected loss over $\alpha \sim U(0,1)$ with a random
#   $\alpha$ per step, endpoints fixed. Saying only "minimise the maximum loss" earns half.

# %% [markdown] id="explain_contour_plot-question"
# ### Reading the filter-normalised loss-landscape plot
#
# In notebook 02 you plotted the loss of the trained network on a plane through its parameters,
# $f(\alpha, \beta) = L(\theta^* + \alpha d_1 + \beta d_2)$, with two random directions
# $d_1, d_2$ made filter-normalised by `filter_normalize` (Li et al. 2018), and computed on a
# grid by `loss_surface`. Look at that contour plot again.
#
# 1. What do the shape and the spacing of the contour lines near the centre ($\alpha = \beta = 0$)
#    tell you about the sharpness of the minimum? How would the plot of a sharper minimum look?
# 2. Does the plot show that the minimum is flat in *every* direction? Why or why not?
# 3. Why must the directions be filter-normalised when you compare two such plots (for example
#    the network and its rescaled copy from practice problem 4, or a large-batch and a
#    small-batch solution)?

# %% [markdown] id="explain_contour_plot" role="written" points=2
# **Model answer and rubric (instructors only)**
#
# *Model answer.*
# 1. Near the centre the contours are closed, roughly elliptical rings around the trained
#    parameters: in this plane, $\theta^*$ is a (local) minimum and the landscape looks locally
#    convex. The spacing of the rings is the steepness: with the same contour levels, rings
#    packed close together (a small region below a given loss level) mean a sharp minimum,
#    widely spaced rings a flat one. An elongated ellipse means different curvature along the
#    two directions. A sharper minimum would show a smaller, tighter bowl; farther from the
#    centre the contours may stop being nested ellipses (the landscape is not globally convex).
# 2. No. It is a 2-D slice of a $d$-dimensional landscape. In high dimension random directions
#    are almost orthogonal to the few top eigenvectors of the Hessian: the curvature along a
#    random unit direction $u$ is on average $\mathbb E[u^\top H u] = \mathrm{tr}(H)/d$, far below the
#    top eigenvalue when a few large eigenvalues dominate. A flat-looking slice can hide sharp
#    directions (power iteration's top eigenvalue measures those). The grid resolution also limits what is seen.
# 3. Without normalisation a step of a given size means different things for different weight
#    scales: it is a tiny change for a filter with a large norm and a huge one for a filter with a
#    small norm. Networks that compute the same function can have very different weight scales
#    (ReLU rescaling, batch norm), so raw random directions would make one look sharper than
#    the other for no functional reason. Filter normalisation rescales each filter $i$ of the
#    direction to the norm of the same filter of $\theta^*$,
#    $d_i \leftarrow d_i\,\|\theta_i\|/\|d_i\|$ (biases and other 1-D parameters set to zero), so a
#    step of $\alpha$ changes every filter by the same fraction of its own size; this removes
#    the filter-wise scale from the picture and makes plots of different networks comparable
#    (same axes, same contour levels). For the rescaled copy of practice problem 4 with one
#    factor $c$ for the whole layer — the case notebook 02 draws — the filter-normalised plots
#    are even **identical**: every row of the first weight matrix is multiplied by $c$ and every
#    row of the next one divided by $c$, the normalisation divides each such factor out again,
#    so $\theta' + \alpha d_1' + \beta d_2'$ is exactly the rescaling of
#    $\theta + \alpha d_1 + \beta d_2$ and has the same loss (notebook 02 prints a largest
#    difference of exactly 0). Only with a different factor per unit, which rescales the rows of
#    the next layer unevenly (column by column), does the normalisation fail to undo it exactly:
#    then the two plots are comparable, not identical.
#
# *Rubric (2 points).*
# - 1 point: the reading: closed rings around the centre = minimum in this plane; spacing /
#   size of the low-loss region = sharpness (tight = sharp, wide = flat); with the caveat that a
#   2-D random slice does not show every direction.
# - 1 point: filter normalisation: weight scales differ between networks and layers (scale
#   invariance), so unnormalised directions are not comparable; rescaling each filter of the
#   direction to the filter's norm in $\theta^*$ fixes that (Li et al. 2018). For the rescaled
#   copy, both "identical" (right for one shared $c$, as notebook 02 shows) and "comparable"
#   (right in general, e.g. for one factor per unit) earn the point.
