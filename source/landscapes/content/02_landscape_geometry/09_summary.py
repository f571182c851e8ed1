# %% [markdown] id="summary"
# ## Summary
#
# * **Hessian-vector products** $Hv = \nabla(\nabla L^\top v)$ are exact and cost about two
#   gradients (Pearlmutter, 1994); all curvature at scale is built on them.
# * **Hutchinson's estimator** (1989): $\operatorname{tr}H = \mathbb E[v^\top Hv]$ for Rademacher
#   probes, with an error $\propto 1/\sqrt m$ for $m$ probes.
# * **The trace is sensitivity to noise:** $\mathbb E[L(\theta+\epsilon)] - L(\theta) \approx
#   \frac{\sigma^2}{2}\operatorname{tr}H$ for small $\sigma$; traces of model spectra are discrete sums
#   (practice problem 2).
# * **Power iteration** finds the eigenvalue of largest magnitude from `hvp`s. A trained network's
#   spectrum has a few large eigenvalues, a bulk near zero, exact zeros from symmetries and often
#   small negative ones: trained points are rarely strict minima.
# * **Large-batch training** ended in a sharper minimum than small-batch training for the same
#   number of epochs; Keskar et al. (2017) found such minima to generalise worse, here the test
#   accuracy was about the same — a correlation, not a law.
# * **Scale invariance** (Dinh et al., 2017): ReLU rescaling keeps the function and changes the
#   sharpness arbitrarily (practice problem 4).
# * **Filter-normalised 2-D plots** (Li et al., 2018) rescale each filter of a random direction to
#   the weights' filter norm; they undo a rescaling of a whole layer and make pictures of
#   different networks comparable (with shared contour levels).
#
# <details>
# <summary><b>Pitfalls</b> (10; click to open)</summary>
#
# 1. **Raw sharpness depends on the parameterisation.** Compare trace or top eigenvalue only within
#    one architecture and parameterisation, or use normalised measures; never conclude "sharp,
#    hence generalises badly" from the number alone.
# 2. **The course text's filter-normalisation formula is garbled.** Divide the direction's filter by
#    *its own* norm and multiply by the *weights'* filter norm; per filter (row), not per layer or
#    for the whole vector; zero the biases.
# 3. **Hutchinson estimates are noisy.** Report the standard error ($\text{std}/\sqrt m$); use
#    Rademacher rather than Gaussian probes.
# 4. **Power iteration returns the largest |eigenvalue|**, which can be negative, and converges
#    slowly when the top eigenvalues are close. Keep the sign (Rayleigh quotient).
# 5. **Classifying a point needs a critical point and a tolerance.** Trained networks are only
#    approximately critical, symmetries give exact zeros, tiny negative eigenvalues are common:
#    "saddle", "degenerate" and "minimum" depend on `tol` — say which you used.
# 6. **Finite differences are not Hessian-vector products** — in float32 they give a few digits at
#    best. Use double backward.
# 7. **$\frac{\sigma^2}{2}\operatorname{tr}H$ is a second-order, small-noise approximation**, and a
#    Monte-Carlo check needs antithetic pairs (or many samples) away from an exact minimum.
# 8. **Sums are not integrals** (practice problem 2): $\int_0^\infty e^{-k}dk = 1$ but
#    $\sum_{k\ge1}e^{-k} = 0.582$.
# 9. **A 2-D picture is a random slice.** It can hide the sharpest directions, look convex where the
#    landscape is not, and change with the seed. Compare pictures with the same directions' seed
#    and the same colour scale. Section 6's last demonstration shows how much a random direction
#    misses: the curvature along a random direction was far below the top eigenvalue.
# 10. **Keep `theta` untouched**: detach and clone before switching on `requires_grad`, and open
#     `torch.enable_grad()` — callers may be inside `torch.no_grad()`.
#
# </details>
#
# *Next:* notebook 03 — lottery tickets. Notebook 04 asks variants of practice problems 2 and 4
# and of reading the landscape plot of section 6.

