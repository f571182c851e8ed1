# %% [markdown] id="barrier-intro"
# ## 3. Barriers: how high is the ridge between two solutions?
#
# Let $L_0, \dots, L_{n-1}$ be the losses measured at $\alpha_0 = 0 < \alpha_1 < \dots <
# \alpha_{n-1} = 1$ along the straight line. Two definitions of the **loss barrier** are in use.
#
# **1. Height above the endpoints' mean** — the course text's definition, used by Frankle et al.
# (2020), *Linear Mode Connectivity and the Lottery Ticket Hypothesis*:
#
# $$B_{\text{mean}} = \max_i L_i \;-\; \frac{L_0 + L_{n-1}}{2}.$$
#
# (Frankle et al. apply it to the test *error* and call it the error barrier height, or
# instability; the course text and this notebook apply the same formula to the loss.)
#
# **2. Height above the chord** — Entezari et al. (2022), *The Role of Permutation Invariance in
# Linear Mode Connectivity of Neural Networks*: subtract, at every $\alpha$, the straight line
# (the *chord*) between the two endpoint losses,
#
# $$B_{\text{chord}} = \max_i \Big[L_i - \big((1-\alpha_i)\,L_0 + \alpha_i\,L_{n-1}\big)\Big].$$
#
# **When do they differ?** If the endpoint losses are equal, the chord is flat at their mean and
# the two definitions agree. If they are not, they can disagree a lot:
#
# * $B_{\text{mean}} \ge |L_0 - L_{n-1}|/2$ always, because the higher endpoint is itself part of
#   the maximum. A path that simply goes downhill from one solution to the other, with no bump
#   at all — losses `[0.1, 0.5, 1.0]` — has $B_{\text{mean}} = 0.45$ but $B_{\text{chord}} = 0$.
# * A bump close to the *lower* endpoint sits where the chord is low, so it counts more in
#   $B_{\text{chord}}$: losses `[0.2, 0.9, 0.4, 0.5, 1.0]` (at $\alpha = 0, 0.25, \dots, 1$) give
#   $B_{\text{mean}} = 0.4$ and $B_{\text{chord}} = 0.5$.
#
# $B_{\text{chord}}$ measures the bump itself (it is 0 exactly when no measured loss lies above the
# chord); $B_{\text{mean}}$ mixes in the difference between the endpoints. Always say which one you
# report. Both only see the $\alpha$ values you measured: the true barrier of the continuous path can
# only be higher (see the pitfall at the end of this section).
#
# ### Worked example 1, revisited
#
# Two ResNet-20 models on CIFAR-10 (accuracies 91.2% and 91.0%) have losses
# $L(0) = 0.32$, $L(0.25) = 0.55$, $L(0.5) = 1.42$, $L(0.75) = 0.58$, $L(1) = 0.33$ along the line.
# Then $B_{\text{mean}} = 1.42 - \tfrac{0.32 + 0.33}{2} = 1.095$ (about 3.4 times the endpoints'
# mean loss of 0.325), and since the endpoint losses are almost equal, $B_{\text{chord}}$ is also
# 1.095. The models are **not** linearly mode-connected.
#
# > **Correction to the course text.** The text says the midpoint's accuracy "would drop to well
# > below random chance". A loss of 1.42 does not say that. A classifier that always predicts the
# > uniform distribution over 10 classes has cross-entropy $\ln 10 \approx 2.30$, and 1.42 is well
# > *below* that. What the numbers do say is that the loss at the midpoint is more than four times
# > the endpoints' loss, so **accuracy drops sharply** there — but a mean loss of 1.42 is
# > compatible with accuracies well above the 10% of chance (loss and accuracy are different
# > measures: a few confidently wrong examples raise the loss a lot).
#
# The last function of this section turns the definition of linear mode connectivity into a test:
# every measured loss must be at most $\max(L_0, L_{n-1}) + \delta$. Compare in float64 (Python
# floats): the float32 loss `0.3` is really 0.30000001192..., which exceeds the threshold
# `float32(0.2) + 0.1` = 0.30000000298... — unless the sum is rounded back to float32, where it
# becomes 0.30000001192... too and the loss wrongly passes.

# %% id="barrier-height-solution" role="answer" solution="barrier_height"
import math
from collections.abc import Sequence

import torch

# %% role="visible" item="barrier_height"
# Visible tests for `barrier_height`.
_we1 = [0.32, 0.55, 1.42, 0.58, 0.33]  # worked example 1
_b = barrier_height(_we1)
assert isinstance(_b, float), f"return a Python float, got {type(_b).__name__}"
assert math.isclose(_b, 1.095, abs_tol=1e-9), f"worked example 1: expected 1.095, got {_b}"
assert math.isclose(barrier_height(torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)), 0.0, abs_tol=1e-12), (
    "a flat path has barrier 0")
assert math.isclose(barrier_height([0.1, 0.5, 1.0]), 0.45, abs_tol=1e-9), (
    "the maximum includes the endpoints: [0.1, 0.5, 1.0] gives 1.0 - 0.55 = 0.45")
try:
    barrier_height([0.3])
except ValueError:
    pass
else:
    raise AssertionError("a single loss should raise ValueError")
print("barrier_height: visible tests passed")

# %% role="hidden" item="barrier_height"

# %% id="interpolated-barrier-solution" role="answer" solution="interpolated_barrier"
import math
from collections.abc import Sequence

import torch

ALPHA_ENDPOINT_TOL = 1e-6
"""How far alphas[0] may be from 0, and alphas[-1] from 1."""

# %% role="visible" item="interpolated_barrier"
# Visible tests for `interpolated_barrier`.
_b = interpolated_barrier([0.32, 0.55, 1.42, 0.58, 0.33])
assert isinstance(_b, float), f"return a Python float, got {type(_b).__name__}"
assert math.isclose(_b, 1.095, abs_tol=1e-9), (
    f"worked example 1 (alphas 0, 0.25, ..., 1): expected 1.095, got {_b}")
assert math.isclose(interpolated_barrier([0.1, 0.5, 1.0]), 0.0, abs_tol=1e-9), (
    "a path that stays on or below the chord has barrier 0 (barrier_height would say 0.45)")
assert math.isclose(interpolated_barrier([0.2, 0.9, 0.4, 0.5, 1.0]), 0.5, abs_tol=1e-9), (
    "bump near the lower endpoint: 0.9 - (0.75 * 0.2 + 0.25 * 1.0) = 0.5")
assert math.isclose(interpolated_barrier([0.2, 0.9, 1.0], [0.0, 0.25, 1.0]), 0.5, abs_tol=1e-9), (
    "explicit alphas: at alpha = 0.25 the chord is 0.75 * 0.2 + 0.25 * 1.0 = 0.4, so 0.9 - 0.4 = 0.5")
try:
    interpolated_barrier([0.3, 0.5, 0.4], [0.1, 0.5, 1.0])
except ValueError:
    pass
else:
    raise AssertionError("alphas[0] = 0.1 should raise ValueError (the path starts at alpha = 0)")
print("interpolated_barrier: visible tests passed")

# %% role="hidden" item="interpolated_barrier"

# %% id="is-linearly-connected-solution" role="answer" solution="is_linearly_connected"
import math
from collections.abc import Sequence

import torch

# %% role="visible" item="is_linearly_connected"
# Visible tests for `is_linearly_connected`: worked example 1 and practice problem 1.
_c = is_linearly_connected([0.32, 0.55, 1.42, 0.58, 0.33], 0.1)
assert isinstance(_c, bool), f"return a Python bool, got {type(_c).__name__}"
assert _c is False, "worked example 1 is not linearly connected (1.42 > 0.33 + 0.1)"
assert is_linearly_connected([0.15, 0.18, 0.16], 0.05) is True, (
    "practice problem 1, solutions 1 and 2: max 0.18 <= 0.16 + 0.05")
assert is_linearly_connected([0.16, 0.95, 0.17], 0.05) is False, (
    "practice problem 1, solutions 2 and 3: max 0.95 > 0.17 + 0.05")
assert is_linearly_connected([0.25, 0.75, 0.5], 0.25) is True, (
    "the threshold uses the LARGER endpoint and <=: 0.75 <= 0.5 + 0.25")
print("is_linearly_connected: visible tests passed")

# %% role="hidden" item="is_linearly_connected"

# %% [markdown] id="demo-linear-intro"
# ### Demonstration: two independently trained networks
#
# The task (`lab.make_dataset()`) is a noisy spiral with four interleaved arms in the plane:
# 1024 training and 1024 test points, four classes, so chance-level accuracy is 0.25 and
# chance-level cross-entropy (predicting the uniform distribution) is $\ln 4 \approx 1.39$. We train
# two MLPs (2 → 32 → 32 → 4, ReLU, about 1.3 thousand parameters) with Adam for 500 steps, from
# different random initialisations *and* different minibatch orders (seeds 1 and 2). Every
# network in this notebook has the same architecture, so one `model` object serves to evaluate
# any `Params` with `functional_call`; its own weights are never used.

# %% id="demo-train-independent" role="demo"
data = lab.make_dataset()  # spiral, 4 classes, 1024 train / 1024 test points, seed 0
X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
TRAIN_STEPS, TRAIN_LR, TRAIN_BATCH = 500, 0.01, 64
ALPHAS = torch.linspace(0.0, 1.0, 21)  # 21 evenly spaced points on every path
DELTA = 0.05  # tolerance (in nats) of the linear-connectivity test


def train_from_seed(seed):
    # A fresh MLP initialised from `seed`, trained with minibatches drawn from `seed`.
    net = lab.make_mlp(seed=seed)
    lab.train(net, X_train, y_train, steps=TRAIN_STEPS, lr=TRAIN_LR, batch_size=TRAIN_BATCH,
              seed=seed)
    return lab.params_of(net)


def test_accuracy(params):
    return lab.accuracy(model, X_test, y_test, params)


model = lab.make_mlp(seed=0)  # the architecture; evaluated with functional_call only
theta_a = train_from_seed(1)
theta_b = train_from_seed(2)
for name, theta in (("theta_a", theta_a), ("theta_b", theta_b)):
    loss, acc = lab.evaluate(model, X_test, y_test, theta)
    print(f"{name}: test loss {loss:.3f}, test accuracy {acc:.3f}")
print(f"chance level: loss ln {lab.NUM_CLASSES} = {math.log(lab.NUM_CLASSES):.3f}, "
      f"accuracy {1 / lab.NUM_CLASSES:.2f}")

# %% id="demo-linear-path" role="demo"
with needs("interpolate", "loss_along_path", "barrier_height", "interpolated_barrier",
           "is_linearly_connected"):
    def linear(alpha):
        return interpolate(theta_a, theta_b, alpha)

    losses_linear = loss_along_path(model, linear, X_test, y_test, ALPHAS)
    accuracy_linear = [test_accuracy(linear(float(alpha))) for alpha in ALPHAS]

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    lab.plot_path(ALPHAS, losses_linear, accuracies=accuracy_linear, label="straight line",
                  ax=axes[0], title="Independent solutions: the straight line")
    axes[0].axhline(math.log(lab.NUM_CLASSES), color="grey", linestyle=":", linewidth=1)
    lab.plot_decision_boundary(model, X_test, y_test, params=linear(0.5), ax=axes[1],
                               title=r"Decision regions of $\theta(0.5)$")
    plt.show()

    print("alpha :", " ".join(f"{float(a):5.2f}" for a in ALPHAS[::4]))
    print("loss  :", " ".join(f"{float(v):5.2f}" for v in losses_linear[::4]))
    print("acc   :", " ".join(f"{v:5.2f}" for v in accuracy_linear[::4]))
    print(f"on the whole line: highest loss {float(losses_linear.max()):.2f}, "
          f"lowest accuracy {min(accuracy_linear):.2f}")
    print(f"barrier above the endpoints' mean (Frankle et al. 2020): {barrier_height(losses_linear):.3f}")
    print(f"barrier above the chord (Entezari et al. 2022):          "
          f"{interpolated_barrier(losses_linear, ALPHAS):.3f}")
    print(f"linearly connected with delta = {DELTA}: {is_linearly_connected(losses_linear, DELTA)}")

# %% [markdown] id="demo-linear-after"
# **What to look for.** Both endpoints have low loss (about 0.2) and high accuracy (above 0.9),
# but the loss (solid line) rises to a ridge of about 1.8 in the middle of the straight line — above
# even the chance-level loss $\ln 4 \approx 1.39$ (the dotted grey line) — while the accuracy
# (dashed) falls to about the chance level of 0.25. The decision regions of the averaged network
# $\theta(0.5)$ no longer follow the spiral. The two definitions of the barrier print the same
# number here, about 1.6, because the endpoint losses are almost equal. So these two solutions are
# not linearly mode-connected — the straight line between them leaves the low-loss region. Whether
# they sit in *different basins* is a different question (section 4).

# %% [markdown] id="pitfall-grid-intro"
# ### Pitfall: a coarse grid of $\alpha$ can step over a narrow barrier
#
# Every barrier we compute is the maximum over the $\alpha$ values we *measured*. If the ridge is
# narrower than the spacing of the grid, the grid can miss it entirely. The cell below uses a
# made-up loss curve with a narrow spike at $\alpha = 0.65$ (not a network, just a function of
# $\alpha$) and measures it on a coarse and on a fine grid.

# %% id="demo-coarse-grid" role="demo"
def spiky_loss(alpha):
    # Low everywhere except a narrow ridge of height 2 around alpha = 0.65.
    return 0.2 + 2.0 * torch.exp(-(((alpha - 0.65) / 0.02) ** 2))


with needs("barrier_height", "interpolated_barrier"):
    for n_points in (5, 11, 201):
        grid = torch.linspace(0.0, 1.0, n_points, dtype=torch.float64)
        print(f"{n_points:4d} alphas: barrier (mean) {barrier_height(spiky_loss(grid)):.3f}, "
              f"barrier (chord) {interpolated_barrier(spiky_loss(grid), grid):.3f}")

# %% [markdown] id="pitfall-grid-after"
# With 5 or 11 evenly spaced points the ridge falls between two grid points and both barriers come
# out near 0; the fine grid finds a barrier of about 2. A measured barrier is a *lower bound* on
# the barrier of the continuous path. With real networks the loss along the line is usually smooth
# on the scale of 0.05 in $\alpha$, but check with a finer grid (or an extra point near the
# maximum) before you call two solutions connected.
