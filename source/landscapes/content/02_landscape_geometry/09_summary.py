# %% [markdown] id="summary"
# ## Summary
#
# * **Hessian-vector products** $Hv = \nabla(\nabla L^\top v)$ are exact and cost about two
#   gradients (Pearlmutter, 1994). Everything about curvature at scale is built on them.
# * **Hutchinson's estimator** (1989): $\operatorname{tr}H = \mathbb E[v^\top Hv]$ for Rademacher
#   probes; one `hvp` per probe, error $\propto 1/\sqrt m$, variance $2\sum_{i\ne j}H_{ij}^2$ per probe.
# * **The trace is sensitivity to noise:** $\mathbb E[L(\theta+\epsilon)] - L(\theta) \approx
#   \frac{\sigma^2}{2}\operatorname{tr}H$ (worked example 2: 0.025 against 0.004 for traces 500 and
#   80 at $\sigma = 0.01$), for small $\sigma$.
# * **Practice problem 2** with discrete sums from $k = 1$: $\sum 1/k = H_d \approx \ln d + \gamma$ grows
#   without bound; $\sum e^{-k} \to 1/(e-1) \approx 0.582$ (not 1).
# * **Power iteration** finds the eigenvalue of largest magnitude from `hvp`s; the **spectrum** of a
#   trained network has a few large eigenvalues, a bulk near zero, exact zeros from symmetries, and
#   often small negative ones: trained points are rarely strict minima.
# * **Large-batch training** ended in a sharper minimum (trace and top eigenvalue) than
#   small-batch training for the same number of epochs. Keskar et al. (2017) found such minima to
#   generalise worse; here the test accuracy was about the same — a correlation, not a law.
# * **Scale invariance** (Dinh et al., 2017): ReLU rescaling keeps the function and changes the
#   sharpness arbitrarily (practice problem 4).
# * **Filter-normalised 2-D plots** (Li et al., 2018): $d_i \leftarrow d_i\,\|\theta_i\|/(\|d_i\| +
#   10^{-10})$ per filter, biases zeroed; they are invariant to the rescaling with one factor $c$
#   for a whole layer and make pictures of different networks comparable (with shared contour
#   levels).
#
# ## Pitfalls
#
# 1. **Raw sharpness depends on the parameterisation.** Compare trace or top eigenvalue only between
#    networks of the same architecture and parameterisation, or use normalised measures; never claim
#    "sharp, hence generalises badly" from the number alone.
# 2. **The course text's filter-normalisation formula is garbled.** Divide the direction's filter by
#    *its own* norm and multiply by the *weights'* filter norm; normalise per filter (row), not per
#    layer or for the whole vector; zero the biases.
# 3. **Hutchinson estimates are noisy.** Report the standard error ($\text{std}/\sqrt m$), and use
#    Rademacher rather than Gaussian probes.
# 4. **Power iteration returns the largest |eigenvalue|**, which can be negative, and converges
#    slowly when the top eigenvalues are close. Keep the sign (Rayleigh quotient).
# 5. **Classifying a point needs a critical point and a tolerance.** A trained network is only
#    approximately critical; symmetries give exact zero eigenvalues; tiny negative eigenvalues are
#    common. "Saddle", "degenerate" and "minimum" depend on `tol` — say which you used.
# 6. **Finite differences are not Hessian-vector products** — in float32 they give a few digits at
#    best. Use double backward.
# 7. **$\frac{\sigma^2}{2}\operatorname{tr}H$ is a second-order, small-noise approximation**, and a
#    Monte-Carlo check needs antithetic pairs (or many samples) away from an exact minimum.
# 8. **Sums are not integrals** (practice problem 2): $\int_0^\infty e^{-k}dk = 1$ but
#    $\sum_{k\ge1}e^{-k} = 0.582$.
# 9. **A 2-D picture is a random slice.** It can hide the sharpest directions, look convex where the
#    landscape is not, and change with the seed. Use the same directions' seed and the same colour
#    scale when you compare pictures.
# 10. **Keep `theta` untouched**: detach and clone before switching on `requires_grad`, and open
#     `torch.enable_grad()` — callers may be inside `torch.no_grad()`.
#
# *Next:* notebook 03 — lottery tickets; notebook 04 asks you to read the landscape plot of
# section 6 and to write up practice problems 2 and 4.
