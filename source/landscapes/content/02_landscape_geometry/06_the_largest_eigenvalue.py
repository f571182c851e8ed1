# %% [markdown] id="power-iteration-intro"
# ## 4. The largest eigenvalue, and what kind of point this is
#
# ### 4.1 Power iteration
#
# The other common sharpness measure is the **largest eigenvalue**, the curvature of the steepest
# direction. **Power iteration** needs only Hessian-vector products: start from a random unit
# vector $v$ and repeat
#
# $$v \;\leftarrow\; \frac{Hv}{\|Hv\|} .$$
#
# With $v = \sum_k c_k u_k$, after $t$ steps $v \propto \sum_k c_k\lambda_k^t u_k$, dominated by
# the eigenvalue of **largest absolute value**; the error shrinks like $|\lambda_2/\lambda_1|^t$.
# The estimate is the **Rayleigh quotient** $v^\top H v$ of the final unit $v$, which keeps the
# sign: at a saddle whose most negative eigenvalue is the largest in magnitude, it is negative.
# (For the most negative eigenvalue in general, run power iteration on $H - \lambda_{\max} I$.)
#
# Protocol (the grader checks it): `v = torch.randn(theta.shape, generator=generator,
# dtype=theta.dtype)`, normalised; `num_iters` steps $v \leftarrow Hv/\|Hv\|$; return
# $v^\top H v$. If $Hv$ is exactly zero, $v$ lies in the null space: return 0.0.

# %% id="top-eigenvalue-solution" role="answer" solution="top_eigenvalue" section="4.1"
import numbers

import torch

# %% role="visible" item="top_eigenvalue"
# Visible tests for `top_eigenvalue` on quadratics with known spectra.
_D = torch.diag(torch.tensor([5.0, 1.0, 0.5], dtype=torch.float64))
_lam = top_eigenvalue(lambda th: 0.5 * th @ (_D @ th), torch.zeros(3, dtype=torch.float64),
                      num_iters=100, generator=torch.Generator().manual_seed(0))
assert isinstance(_lam, float), f"return a Python float, got {type(_lam).__name__}"
assert abs(_lam - 5.0) < 1e-6, f"eigenvalues 5, 1, 0.5: the top one is 5, got {_lam}"
_S = torch.diag(torch.tensor([-6.0, 2.0, 1.0], dtype=torch.float64))
_neg = top_eigenvalue(lambda th: 0.5 * th @ (_S @ th), torch.ones(3, dtype=torch.float64),
                      num_iters=100, generator=torch.Generator().manual_seed(0))
assert abs(_neg + 6.0) < 1e-6, (
    f"eigenvalues -6, 2, 1: the largest in MAGNITUDE is -6 (keep the sign: Rayleigh quotient); got {_neg}")
_again = top_eigenvalue(lambda th: 0.5 * th @ (_S @ th), torch.ones(3, dtype=torch.float64),
                        num_iters=100, generator=torch.Generator().manual_seed(0))
assert _again == _neg, "the same generator state must give the same result"
try:
    top_eigenvalue(lambda th: 0.5 * th @ (_D @ th), torch.zeros(3, dtype=torch.float64),
                   num_iters=0, generator=torch.Generator())
except ValueError:
    pass
else:
    raise AssertionError("num_iters = 0 should raise ValueError")
print("top_eigenvalue: visible tests passed")

# %% role="hidden" item="top_eigenvalue"

# %% [markdown] id="classify-intro"
# ### 4.2 Minimum, maximum, saddle — or undecided?
#
# At a **critical point** ($g = 0$) the second-order term decides: with all eigenvalues positive
# the point is a strict local **minimum**, with all negative a **maximum**, with both signs a
# **saddle point**. If some eigenvalues are zero and the rest share a sign, the second-order test
# cannot decide: the point is **degenerate**.
#
# In floating point "zero" needs a tolerance: `classify_critical_point(eigenvalues, tol)` counts
# $|\lambda| \le$ `tol` as zero, then returns "saddle" if some $\lambda >$ `tol` and some
# $\lambda < -$`tol`; else "minimum" if all $\lambda >$ `tol`; else "maximum" if all
# $\lambda < -$`tol`; else "degenerate".
#
# In high dimensions saddles are the rule: Dauphin et al. (2014, *Identifying and attacking the
# saddle point problem in high-dimensional non-convex optimization*) argued that most critical
# points with high loss in neural networks are saddles. And real networks have **exactly flat
# directions**, from symmetries:
#
# * softmax does not change if the same number is added to every logit: adding the same vector
#   $u$ to every row of the output weights, or the same number to every output bias, leaves the
#   loss unchanged — one flat direction per hidden unit feeding the output layer, plus one;
# * a dead ReLU unit (never active on the data) outputs 0, so neither its incoming weights and
#   bias nor its outgoing weights affect the loss. With $n_{\text{in}}$ inputs and
#   $n_{\text{out}}$ outputs that is $n_{\text{in}} + 1 + n_{\text{out}}$ flat directions, one of
#   which (the same change of all its outgoing weights) is already a softmax shift:
#   $n_{\text{in}} + n_{\text{out}}$ new ones per dead unit, $2 + 4 = 6$ in the tiny network;
# * the rescaling symmetry of section 5 gives one flat *curve* per hidden unit. The first two
#   symmetries are straight lines of constant loss, so their eigenvalues are exactly zero
#   anywhere; a curve gives an exact zero only at an exact critical point.
#
# So the Hessian of a trained network typically has many eigenvalues that are zero up to
# rounding, and "degenerate" is a common, honest answer.

# %% id="classify-critical-point-solution" role="answer" solution="classify_critical_point" section="4.2"
import math

import torch

# %% role="visible" item="classify_critical_point"
# Visible tests for `classify_critical_point`.
_kind = classify_critical_point([1.0, 2.0, 0.5])
assert isinstance(_kind, str), f"return a string, got {type(_kind).__name__}"
assert _kind == "minimum", f"all eigenvalues positive: 'minimum', got {_kind!r}"
assert classify_critical_point([-1.0, 2.0]) == "saddle", "both signs: 'saddle'"
assert classify_critical_point(torch.tensor([-1.0, -0.1])) == "maximum", "all negative: 'maximum'"
assert classify_critical_point(np.array([1.0, 0.0])) == "degenerate", (
    "a zero eigenvalue and a positive one: the second-order test cannot decide, 'degenerate'")
assert classify_critical_point([1.0, 1e-12]) == "degenerate", "|lambda| <= tol (default 1e-8) counts as zero"
assert classify_critical_point([3.0, -1e-3], tol=1e-2) == "degenerate", (
    "with tol = 0.01 the eigenvalue -0.001 counts as zero: 'degenerate', not 'saddle'")
assert classify_critical_point([3.0, -1e-3]) == "saddle", "with the default tol, -0.001 is negative: 'saddle'"
try:
    classify_critical_point([])
except ValueError:
    pass
else:
    raise AssertionError("no eigenvalues should raise ValueError")
print("classify_critical_point: visible tests passed")

# %% role="hidden" item="classify_critical_point"

# %% [markdown] id="demo-spectrum-intro"
# ### Demonstration: the spectrum of the tiny network
#
# All 116 eigenvalues of the tiny network's Hessian (`torch.linalg.eigvalsh`), largest first, on a
# "symlog" axis (linear within $\pm10^{-3}$, logarithmic beyond). Then: power iteration against
# the exact top eigenvalue, and the classification of the trained point with two tolerances.

# %% id="demo-spectrum" role="demo"
with needs("hvp", "top_eigenvalue", "classify_critical_point"):
    eigenvalues = torch.linalg.eigvalsh(H_tiny)  # ascending
    power = top_eigenvalue(tiny_loss, theta_tiny, num_iters=100, generator=torch.Generator().manual_seed(0))
    lab.plot_spectrum(eigenvalues, title="Hessian spectrum of the tiny network (d = 116)")
    plt.show()

    print(f"largest eigenvalue: eigvalsh {float(eigenvalues[-1]):.4f}, power iteration {power:.4f}; "
          f"next one {float(eigenvalues[-2]):.4f}")
    print(f"sum of the eigenvalues {float(eigenvalues.sum()):.3f} = trace {float(H_tiny.trace()):.3f}")

    with torch.no_grad():
        active = torch.relu(tiny[0](X_train)) > 0
    dead = int((~active.any(dim=0)).sum())
    hidden_units, n_in, n_out = tiny[0].out_features, tiny[0].in_features, tiny[2].out_features
    softmax_shift = hidden_units + 1  # one per hidden unit feeding the output layer, plus the bias
    per_dead_unit = n_in + 1 + n_out - 1  # its weights in, bias and weights out, less 1 softmax shift
    expected_flat = softmax_shift + per_dead_unit * dead
    print(f"\ndead hidden units: {dead} of {hidden_units}; flat directions expected from symmetries: "
          f"softmax shift {hidden_units} + 1 = {softmax_shift}, dead units {dead} x "
          f"({n_in} in + 1 bias + {n_out} out - 1 softmax shift = {per_dead_unit}) = "
          f"{per_dead_unit * dead}, total {expected_flat}")
    magnitudes = eigenvalues.abs().sort().values
    print(f"eigenvalues with |lambda| <= 1e-9: {int((magnitudes <= 1e-9).sum())}; the {expected_flat} "
          f"smallest |lambda| are at most {float(magnitudes[expected_flat - 1]):.0e}, "
          f"the next one is {float(magnitudes[expected_flat]):.0e}")
    print(f"negative eigenvalues below -1e-8: {int((eigenvalues < -1e-8).sum())}, "
          f"the most negative {float(eigenvalues[0]):.1e}, "
          f"{float(eigenvalues[-1] / eigenvalues[0].abs()):.0e} times smaller than the top eigenvalue")
    print(f"gradient norm at the trained point: {float(grad_tiny.norm()):.1e}")
    relative_tol = 1e-4 * float(eigenvalues[-1])
    print(f"\nclassify_critical_point, default tol 1e-8:      {classify_critical_point(eigenvalues)!r}")
    print(f"classify_critical_point, tol = 1e-4 * lambda_max = {relative_tol:.1e}: "
          f"{classify_critical_point(eigenvalues, tol=relative_tol)!r}")

# %% [markdown] id="demo-spectrum-after"
# **What to look for.** A few large eigenvalues (the top one about 11.0, well above the next one,
# about 8.0), a long tail of small positive ones, a block of 29 eigenvalues that are zero to
# rounding (of the order of $10^{-15}$, against $10^{-7}$ for the next one) — exactly as many as
# the symmetries of section 4.2 predict: 17 softmax shifts and 6 for each of the 2 dead units —
# and a handful (6) of small **negative** ones. Power iteration finds the top eigenvalue to many
# digits with 100 products, because it is well separated from the next one.
#
# Is the trained point a minimum? With `tol = 1e-8`, the test says **saddle**. But the negative
# curvatures are at most about $4\times10^{-4}$ — about $3\times10^{4}$ times smaller than the top
# eigenvalue — and the point is not exactly critical (the gradient norm is about
# $7\times10^{-3}$; Adam stopped after 1000 steps). With a tolerance relative to the spectrum's
# scale, the answer is **degenerate**: a valley floor with many flat directions. Both answers are
# honest at their tolerance; reporting "minimum" without looking is not.

# %% [markdown] id="sharp-flat-intro"
# ### 4.3 Sharp and flat minima: large- against small-batch training
#
# Keskar et al. (2017, *On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
# Minima*, ICLR; arXiv 2016) observed that large-batch training tends to end in **sharp** minima
# that generalise worse than the **flat** minima of small batches: the noise of small-batch
# gradients cannot settle into a narrow valley, and a flat minimum is robust to the shift between
# training and test loss.
#
# A small version of the experiment: the same MLP (2 → 32 → 32 → 4, $d = 1284$), initialisation
# and learning rate (Adam, 0.01), trained either **full-batch** or with **batch size 32**, for the
# **same number of epochs**: 125 epochs, which is 125 steps for the full-batch network and 4000 steps
# for the batch-32 one. (At the same number of *steps* the full-batch network would see the data
# 32 times as often, mixing batch size with training length.) For each solution: training loss,
# test loss and accuracy, Hutchinson's trace (100 probes), the top eigenvalue (100 power-iteration
# steps), and the measured loss increase under noise $\sigma = 0.01$ (32 antithetic pairs) against
# $\frac{\sigma^2}{2}\operatorname{tr}H$.

# %% id="demo-train-batch" role="demo"
# Train the two networks of the comparison (read-only; a few seconds).
EPOCHS = 125  # passes over the training set, the same for both networks
BATCHES = {"full batch": N_TRAIN, "batch 32": 32}
nets = {}
for label, batch_size in BATCHES.items():
    steps = EPOCHS * N_TRAIN // batch_size  # an epoch is N_TRAIN / batch_size steps
    net = lab.make_mlp(seed=0)  # 2 -> 32 -> 32 -> 4, the same initialisation for both
    lab.train(net, X_train, y_train, steps=steps, lr=0.01, batch_size=batch_size, seed=0)
    nets[label] = net
    print(f"{label:>10}: {EPOCHS} epochs = {steps:>4} Adam steps of {batch_size:>4} points")
model = lab.make_mlp(seed=0)                            # the architecture, for flat_loss_fn
train_loss_fn = lab.flat_loss_fn(model, X_train, y_train)  # theta -> training loss
theta_of = {label: lab.flatten_params(lab.params_of(net)) for label, net in nets.items()}
print(f"d = {theta_of['batch 32'].numel()} parameters")

# %% id="demo-sharpness" role="demo"
NOISE_SIGMA = 0.01

with needs("hvp", "rademacher_probes", "hutchinson_trace", "top_eigenvalue",
           "expected_loss_increase", "perturbed_loss_increase"):
    d = theta_of["batch 32"].numel()
    probes = rademacher_probes(100, d, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    e = NOISE_SIGMA * torch.randn(32, d, generator=g)
    noise = torch.cat([e, -e])  # antithetic pairs

    sharpness = {}
    print(f"{'network':<11} {'train loss':>10} {'test loss':>9} {'test acc':>8} {'trace':>7} "
          f"{'top eig':>7}   increase at sigma=0.01: measured (predicted, ratio)")
    for label, theta in theta_of.items():
        train_loss = float(train_loss_fn(theta))
        test_loss, test_acc = lab.evaluate(model, X_test, y_test, lab.unflatten_params(theta, lab.params_of(model)))
        trace = hutchinson_trace(train_loss_fn, theta, probes)
        top = top_eigenvalue(train_loss_fn, theta, num_iters=100, generator=torch.Generator().manual_seed(0))
        measured = perturbed_loss_increase(train_loss_fn, theta, noise)
        predicted = expected_loss_increase(trace, NOISE_SIGMA)
        sharpness[label] = (trace, top)
        print(f"{label:<11} {train_loss:>10.3f} {test_loss:>9.3f} {test_acc:>8.3f} "
              f"{trace:>7.1f} {top:>7.2f}   {measured:.2e} ({predicted:.2e}, {measured / predicted:.2f})")
    (trace_full, top_full), (trace_small, top_small) = sharpness["full batch"], sharpness["batch 32"]
    print(f"\nfull batch against batch 32: {trace_full / trace_small:.1f} times the trace, "
          f"{top_full / top_small:.1f} times the top eigenvalue")

# %% [markdown] id="demo-sharpness-after"
# **What to look for.**
#
# * At the same number of epochs, and at about the same training loss (0.13 and 0.12), the
#   full-batch solution is clearly **sharper**: about 2 times the trace (67 against 32) and about
#   2.6 times the top eigenvalue (12.5 against 4.8). Its measured loss increase under weight
#   noise is larger too (about $2.8\times10^{-3}$ against $2.0\times10^{-3}$), as section 3.1
#   predicts, and within about 25% of $\frac{\sigma^2}{2}\operatorname{tr}H$ (both are estimates).
# * But the sharper solution does not generalise worse: its test accuracy is about the same
#   (about 0.94 for both) and its test loss even a little lower (about 0.18 against 0.2).
#   Sharpness and generalisation are correlated in many experiments, not tied by a law, and one
#   pair of runs proves nothing either way.
#
# And the next section's caveat: the trace and the top eigenvalue depend on how the network is
# *parameterised*, not only on the function it computes.
