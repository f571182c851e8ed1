# %% [markdown] id="summary"
# ## Summary and pitfalls
#
# - **Linear vs nonlinear connectivity.** Two solutions are linearly mode connected when the
#   loss along the straight path stays below $\max(L(\theta_a), L(\theta_b)) + \delta$. When the
#   straight path crosses a barrier, a trained Bezier curve often finds a low-loss path around it;
#   its midpoint is trained on the expected loss along the curve, with $\alpha \sim U(0, 1)$ drawn
#   per step.
# - **A barrier on the linear path does not prove separate basins**: a curved low-loss path may
#   exist. And a **coarse $\alpha$ grid can step over a narrow barrier**: the maximum over the grid
#   is only a lower bound.
# - **Sharpness depends on the parameterisation** (Dinh et al. 2017): ReLU rescaling changes the
#   Hessian but not the function, so compare sharpness only with normalised measures (filter
#   normalisation, Li et al. 2018) or within one parameterisation.
# - **Traces of spectra are discrete sums**: $\sum_{k=1}^d 1/k \approx \ln d + \gamma$ grows with $d$;
#   $\sum_{k=1}^d e^{-k} \to 1/(e-1) \approx 0.582$ stays bounded.
# - **Winning tickets need their initial values**: the same mask with a random
#   re-initialisation trains worse; larger networks need late rewinding to weights from early in
#   training; a ticket is tied to the data it was found on.
