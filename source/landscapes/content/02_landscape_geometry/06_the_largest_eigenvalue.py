# %% [markdown] id="power-iteration-intro"
# ## 4. The largest eigenvalue, and what kind of point this is
#
# ### 4.1 Power iteration
#
# The trace averages over all directions; the other common sharpness measure is the **largest
# eigenvalue**, the curvature of the steepest direction. It needs only Hessian-vector products
# too. **Power iteration**: start from a random unit vector $v$ and repeat
#
# $$v \;\leftarrow\; \frac{Hv}{\|Hv\|} .$$
#
# Write $v = \sum_k c_k u_k$ in the eigenbasis; after $t$ steps $v \propto \sum_k c_k\lambda_k^t u_k$,
# dominated by the eigenvalue of **largest absolute value**. The error shrinks like
# $|\lambda_2/\lambda_1|^t$: fast when the top eigenvalue is well separated, slow when it is not.
# The estimate is the **Rayleigh quotient** $v^\top H v$ of the final (unit) $v$, which keeps the
# sign — at a saddle whose most negative eigenvalue is the largest in magnitude, the answer is
# negative. (To find the most negative eigenvalue when it is not the largest in magnitude, run
# power iteration on $H - \lambda_{\max} I$.)
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
# **saddle point** (the loss goes up along some directions and down along others). If some
# eigenvalues are zero and the rest share a sign, the second-order test cannot decide — the point
# is **degenerate**; higher-order terms or flat valleys decide.
#
# In floating point "zero" needs a tolerance: `classify_critical_point(eigenvalues, tol)` counts
# $|\lambda| \le$ `tol` as zero, then returns "saddle" if some $\lambda >$ `tol` and some
# $\lambda < -$`tol`; else "minimum" if all $\lambda >$ `tol`; else "maximum" if all
# $\lambda < -$`tol`; else "degenerate".
#
# In high dimensions saddles are the rule: for a random symmetric matrix, all $d$ eigenvalues
# having the same sign becomes very unlikely as $d$ grows, and Dauphin et al. (2014, *Identifying
# and attacking the saddle point problem in high-dimensional non-convex optimization*) argued that
# most critical points with high loss in neural networks are saddles. And real networks have
# **exactly flat directions**, from symmetries:
#
# * softmax does not change if the same number is added to every logit: adding the same vector
#   $u$ to every row of the output weights, or the same number to every output bias, leaves the
#   loss unchanged — one flat direction per hidden unit feeding the output layer, plus one;
# * a dead ReLU unit (never active on the data) outputs 0 for every input, so neither its
#   incoming weights and bias nor its outgoing weights affect the loss at all. With $n_{\text{in}}$
#   inputs and $n_{\text{out}}$ outputs that is $n_{\text{in}} + 1 + n_{\text{out}}$ flat
#   directions, one of which (the same change of all its outgoing weights) is already a softmax
#   shift of the first kind: $n_{\text{in}} + n_{\text{out}}$ new ones per dead unit, $2 + 4 = 6$
#   in the tiny network of the demonstration below;
# * the rescaling symmetry of section 5 gives one more flat *curve* per hidden unit. The first two
#   symmetries are straight lines along which the loss is constant, so they give eigenvalues that
#   are exactly zero anywhere; a curve gives an exact zero only at an exact critical point, and
#   a small, non-zero eigenvalue where the gradient is small but not zero.
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
# "symlog" axis (linear within $\pm10^{-3}$, logarithmic beyond) that shows the large ones, the
# bulk near zero and the negative ones together. Then: power iteration against the exact top
# eigenvalue, and the classification of the trained point with two tolerances.

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
# Is the trained point a minimum? Taken literally, with `tol = 1e-8`, the test says **saddle**:
# there are directions of negative curvature. But they are at most about $4\times10^{-4}$ — about
# $3\times10^{4}$ times smaller than the top eigenvalue — and the trained point is not exactly
# critical either (the gradient norm is about $7\times10^{-3}$, small but not zero; Adam stopped
# after 1000 steps). With a tolerance relative to the spectrum's scale, the answer is
# **degenerate**: a valley floor with many flat directions, not a strict minimum. Both answers are
# honest descriptions at their tolerance; what is *not* honest is reporting "minimum" for a
# trained network without looking. The classification of a point that is not a critical point at
# all (a large gradient) means nothing.

# %% [markdown] id="sharp-flat-intro"
# ### 4.3 Sharp and flat minima: large- against small-batch training
#
# Keskar et al. (2017, *On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
# Minima*, ICLR; arXiv 2016) observed that training with large batches tends to end in **sharp**
# minima — large Hessian eigenvalues — that generalise worse than the **flat** minima found with
# small batches; the intuition is that the noise of small-batch gradients cannot settle into a
# narrow valley, and that a flat minimum is robust to the shift between training and test loss.
#
# We repeat a small version of the experiment: the same MLP (2 → 32 → 32 → 4, $d = 1284$), the
# same initialisation and learning rate (Adam, 0.01), trained either **full-batch** (all 1024
# points every step) or with **batch size 32**, both for the **same number of epochs** (passes
# over the training set): 125 epochs, which is 125 steps for the full-batch network and 4000 steps
# for the batch-32 one. A change of batch size cannot keep everything else equal: at the same
# number of *steps* the full-batch network would see the data 32 times as often, and the
# comparison would mix the batch size with the length of training. Here both networks see every
# training point equally often. For each solution: the training loss, the test loss and
# accuracy, Hutchinson's trace (100 probes), the top eigenvalue (100 power-iteration steps), and
# the measured loss increase under noise $\sigma = 0.01$ (32 antithetic pairs) against
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
#   2.6 times the top eigenvalue (12.5 against 4.8). The measured loss increase under weight
#   noise is larger for the sharper solution too (about $2.8\times10^{-3}$ against
#   $2.0\times10^{-3}$), as section 3.1 predicts, and within about 25% of
#   $\frac{\sigma^2}{2}\operatorname{tr}H$ (a Monte-Carlo estimate from 64 noise vectors, against
#   a trace estimated from 100 probes).
# * But the sharper solution is not the one that generalises worse: its test accuracy is about
#   the same (about 0.94 for both) and its test loss is even a little lower (about 0.18 against
#   0.2). Keskar et al. found sharp large-batch minima that generalise worse; sharpness and
#   generalisation are correlated in many experiments, not tied by a law, and one pair of runs
#   proves nothing either way.
#
# Keep the caveat of the next section in mind before reading too much into these numbers: the
# trace and the top eigenvalue depend on how the network is *parameterised*, not only on the
# function it computes.
