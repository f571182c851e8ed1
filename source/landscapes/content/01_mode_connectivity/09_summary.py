# %% [markdown] id="summary"
# ## Summary
#
# * **Linear mode connectivity** (Frankle et al., 2020): the loss along the straight line stays
#   within $\delta$ of the worse endpoint for all $\alpha \in [0, 1]$.
# * **Barriers** are measured on a grid of $\alpha$, above the endpoints' mean (Frankle et al.,
#   2020) or above the chord between them (Entezari et al., 2022); the two agree when the
#   endpoint losses are equal.
# * **Nonlinear connectivity.** Independently trained networks are typically *not* linearly
#   connected, but a Bezier curve whose control point is trained on the expected loss along the
#   curve joins them at low loss (Garipov et al., 2018; Draxler et al., 2018).
# * **Basins.** Linear connectivity of many solutions defines a graph whose connected components
#   are the linear basins. Networks spawned from a shared early checkpoint land in one.
# * **Batch normalisation.** Along a path, recompute its statistics at every point: interpolated
#   running statistics describe another network. Recomputed, the loss along the line is lower on
#   average, but the barrier between independently trained networks remains.
# * **Merging.** Weight averaging matches an ensemble only inside a linear basin; an ensemble
#   works for any members but costs one forward pass per member.
# * **Permutation symmetry.** Reordering a layer's hidden units (rows in, columns out) leaves the
#   function unchanged; matching them to another network's before averaging removes most of the
#   barrier between independently trained networks (Entezari et al., 2022; Ainsworth et al., 2023).
#
# <details>
# <summary><b>Pitfalls</b> (8; click to open)</summary>
#
# 1. **The direction of $\alpha$.** Here $\alpha = 0$ is $\theta_a$; the course text's
#    $\alpha\theta_1 + (1-\alpha)\theta_2$ puts $\alpha$ on the other end. Fix one convention.
# 2. **A barrier on the straight line does not prove separate basins** — a curved low-loss path
#    may exist (section 4). A low-loss straight line does show that two solutions are connected.
# 3. **A coarse grid of $\alpha$ can step over a narrow barrier.** A measured barrier is a lower
#    bound; refine the grid near the maximum before concluding "connected".
# 4. **Say which barrier you report.** The two definitions differ when the endpoint losses differ;
#    the mean-based one is at least half the endpoint gap even for a path with no bump.
# 5. **Loss is not accuracy.** A midpoint loss of 1.42 on a 10-class problem is below the
#    chance-level loss $\ln 10 \approx 2.30$: accuracy drops sharply, but not necessarily below
#    chance.
# 6. **The trained control point minimises the expected loss, not the maximum** — measure the
#    maximum along the curve afterwards; the control point itself is not on the curve.
# 7. **Measure without side effects.** Use `functional_call` and `torch.no_grad()`; never load a
#    path's parameters into the caller's model or change its train/eval mode.
# 8. **Batch-norm statistics are not weights.** Interpolating the running mean and variance
#    measures a different network from the one on the path: recompute them on training data at
#    each point.
#
# </details>
#
# *Next:* notebook 02 — the local geometry of one minimum: curvature, sharpness and 2-D pictures
# of the landscape.

