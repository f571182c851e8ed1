# %% [markdown] id="summary"
# ## Summary
#
# Two solutions are linearly mode connected when the loss on the straight path between them
# stays below $\max(L(\theta_a), L(\theta_b)) + \delta$; when it does not, a trained Bezier curve
# often finds a low-loss path around the barrier. The sharpness of a minimum (Hessian trace, top
# eigenvalue) measures its sensitivity to parameter noise, but depends on the parameterisation.
# A winning ticket is a sparse mask together with the initial values of its weights.
#
# <details>
# <summary><b>Pitfalls</b> (5; click to open)</summary>
#
# 1. **A barrier on the linear path does not prove separate basins**: a curved low-loss path may
#    exist. And linear connectivity is not transitive.
# 2. **A coarse $\alpha$ grid can step over a narrow barrier**: the maximum over the grid is only a
#    lower bound.
# 3. **Sharpness depends on the parameterisation** (Dinh et al. 2017): ReLU rescaling changes the
#    Hessian but not the function, so compare sharpness only with normalised measures (filter
#    normalisation, Li et al. 2018) or within one parameterisation.
# 4. **Traces of spectra are discrete sums**, not integrals: the first eigenvalues can carry most
#    of the trace.
# 5. **Winning tickets need their initial values**: the same mask with a random
#    re-initialisation trains worse; larger networks need late rewinding to weights from early in
#    training; a ticket is tied to the data it was found on.
#
# </details>
