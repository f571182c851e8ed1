# %% [markdown] id="summary"
# ## Summary
#
# * **Linear mode connectivity** (Frankle et al., 2020): the loss along
#   $\theta(\alpha) = (1-\alpha)\theta_a + \alpha\theta_b$ stays within $\delta$ of the worse endpoint
#   for all $\alpha\in[0,1]$.
# * **Barriers** are measured on a grid of $\alpha$, by two definitions: above the endpoints' mean
#   (Frankle et al., 2020; the course text) or above the chord between the endpoint losses
#   (Entezari et al., 2022). They agree when the endpoint losses are equal.
# * **Linear vs nonlinear connectivity.** Independently trained networks are typically *not*
#   linearly connected, but a quadratic Bezier curve whose control point is trained on the
#   expected loss along the curve (Garipov et al., 2018) joins them with low loss all along;
#   Draxler et al. (2018) found the same with a different path-finding method.
# * **Basins.** Linear connectivity of many solutions defines a graph; its connected components are
#   linear basins (practice problem 1). Networks spawned from a shared early checkpoint land in one
#   linear basin (Frankle et al., 2020).
# * **Merging.** Weight averaging matches an ensemble only inside a linear basin; ensembles work
#   for any members but cost one forward pass per member.
#
# ## Pitfalls
#
# 1. **The direction of $\alpha$.** Here $\alpha = 0$ is $\theta_a$; the course text's
#    $\alpha\theta_1 + (1-\alpha)\theta_2$ puts $\alpha$ on the other end. Fix one convention.
# 2. **A barrier on the straight line does not prove separate basins** — a curved low-loss path may
#    exist (section 4). And a low-loss straight line is itself a low-loss connecting path, so it
#    does show that the two solutions are connected.
# 3. **A coarse grid of $\alpha$ can step over a narrow barrier.** A measured barrier is a lower
#    bound; refine the grid near the maximum before concluding "connected".
# 4. **Say which barrier you report.** The two definitions differ when the endpoint losses differ;
#    the mean-based one is at least half the endpoint gap even for a path with no bump.
# 5. **Loss is not accuracy.** A midpoint loss of 1.42 on a 10-class problem is below the
#    chance-level loss $\ln 10 \approx 2.30$: accuracy drops sharply, but nothing says it falls below
#    chance.
# 6. **The trained Bezier midpoint minimises the expected loss, not the maximum** — measure the
#    maximum along the curve afterwards, and remember that the control point itself is not on the
#    curve.
# 7. **Measure without side effects.** Use `functional_call` and `torch.no_grad()`; never load a
#    path's parameters into the caller's model or change its train/eval mode.
#
# *Next:* notebook 02 looks at the local geometry of a single minimum — curvature, sharpness and
# two-dimensional pictures of the landscape.
