# %% [markdown] id="bezier-intro"
# ## 4. Curved paths: Bezier curves (Garipov et al., 2018)
#
# When the straight line crosses a ridge, is there another way around it? Garipov et al. (2018),
# *Loss Surfaces, Mode Connectivity, and Fast Ensembling of DNNs*, and independently Draxler et al.
# (2018), *Essentially No Barriers in Neural Network Energy Landscape*, found that there usually is:
# independently trained solutions are typically joined by simple *curves* along which the loss
# stays almost as low as at the endpoints. The simplest such curve is the **quadratic Bezier
# curve** with a control point $\theta_{\text{mid}}$:
#
# $$\theta(\alpha) = (1-\alpha)^2\,\theta_a + 2\alpha(1-\alpha)\,\theta_{\text{mid}} + \alpha^2\,\theta_b,
# \qquad \alpha \in [0, 1].$$
#
# Its three coefficients are the **Bernstein polynomials** of degree 2. In general,
#
# $$b_{k,n}(\alpha) = \binom{n}{k}\,\alpha^k (1-\alpha)^{n-k},\qquad k = 0, \dots, n,$$
#
# and a Bezier curve of degree $n$ through control points $\theta_0, \dots, \theta_n$ is
# $\theta(\alpha) = \sum_k b_{k,n}(\alpha)\,\theta_k$. On $[0, 1]$ the weights are non-negative
# and sum to 1 (binomial theorem: $\sum_k b_{k,n}(\alpha) = ((1-\alpha) + \alpha)^n = 1$), so every
# point of the curve is a weighted average of the control points. Degree 1 gives back the
# straight line: $b_{0,1} = 1-\alpha$, $b_{1,1} = \alpha$.

# %% id="bernstein-weights-solution" role="answer" solution="bernstein_weights"
import math

import torch

# %% role="visible" item="bernstein_weights"
# Visible tests for `bernstein_weights`.
_w = bernstein_weights(2, 0.5)
assert isinstance(_w, torch.Tensor), f"return a tensor, got {type(_w).__name__}"
assert _w.shape == (3,), f"degree 2 has 3 weights, got shape {tuple(_w.shape)}"
assert _w.dtype == torch.float64, f"the weights are float64, got {_w.dtype}"
assert torch.allclose(_w, torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)), (
    f"degree 2 at alpha = 0.5: expected [0.25, 0.5, 0.25], got {_w}")
assert torch.allclose(bernstein_weights(1, 0.25), torch.tensor([0.75, 0.25], dtype=torch.float64)), (
    "degree 1 is the straight line: [1 - alpha, alpha]")
assert torch.allclose(bernstein_weights(3, 0.0), torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)), (
    "alpha = 0 puts all the weight on the first control point")
assert math.isclose(float(bernstein_weights(5, 0.3).sum()), 1.0, abs_tol=1e-12), "the weights sum to 1"
try:
    bernstein_weights(0, 0.5)
except ValueError:
    pass
else:
    raise AssertionError("degree 0 should raise ValueError")
print("bernstein_weights: visible tests passed")

# %% role="hidden" item="bernstein_weights"

# %% id="bezier-point-solution" role="answer" solution="bezier_point"
import math

import torch
from landscape_lab import Params

# %% role="visible" item="bezier_point"
# Visible tests for `bezier_point` (practice problem 5: alpha = 0, 1 and 0.5).
_a = {"w": torch.tensor([0.0, 4.0])}
_m = {"w": torch.tensor([8.0, 0.0])}
_b = {"w": torch.tensor([4.0, 8.0])}
assert torch.allclose(bezier_point(_a, _m, _b, 0.0)["w"], _a["w"]), "alpha = 0 must give theta_a"
assert torch.allclose(bezier_point(_a, _m, _b, 1.0)["w"], _b["w"]), "alpha = 1 must give theta_b"
_half = bezier_point(_a, _m, _b, 0.5)["w"]
assert torch.allclose(_half, torch.tensor([5.0, 3.0])), (
    f"alpha = 0.5 gives 0.25 theta_a + 0.5 theta_mid + 0.25 theta_b = [5, 3], got {_half}")
_avg = {"w": (_a["w"] + _b["w"]) / 2}
assert torch.allclose(bezier_point(_a, _avg, _b, 0.3)["w"], interpolate(_a, _b, 0.3)["w"]), (
    "with theta_mid = (theta_a + theta_b) / 2 the curve is the straight line")
assert torch.equal(_m["w"], torch.tensor([8.0, 0.0])), "theta_mid was modified"
print("bezier_point: visible tests passed")

# %% role="hidden" item="bezier_point"

# %% [markdown] id="pp5-intro"
# ### Practice problem 5: why the control point must be trained
#
# Put $\alpha = 0, 1, \tfrac12$ into the curve:
#
# * $\theta(0) = 1\cdot\theta_a + 0\cdot\theta_{\text{mid}} + 0\cdot\theta_b = \theta_a$ and
#   $\theta(1) = \theta_b$: the curve always joins the two solutions, whatever $\theta_{\text{mid}}$ is.
# * $\theta(\tfrac12) = \tfrac14\theta_a + \tfrac12\theta_{\text{mid}} + \tfrac14\theta_b$: the curve
#   does **not** pass through its control point; it only bends towards it.
# * With the untrained choice $\theta_{\text{mid}} = (\theta_a + \theta_b)/2$:
#   $(1-\alpha)^2\theta_a + \alpha(1-\alpha)(\theta_a + \theta_b) + \alpha^2\theta_b
#   = (1-\alpha)\big[(1-\alpha) + \alpha\big]\theta_a + \alpha\big[(1-\alpha) + \alpha\big]\theta_b
#   = (1-\alpha)\theta_a + \alpha\theta_b$ — exactly the straight line, with the same barrier.
#
# The loss along the curve is $\ell(\alpha) = L\big(\theta(\alpha)\big)$; it depends on
# $\theta_{\text{mid}}$ only through the middle term. The only free parameter of the curve is
# $\theta_{\text{mid}}$, and its natural starting value reproduces the straight line — so to bend
# the curve around a ridge, $\theta_{\text{mid}}$ must be *trained*. The cell below checks the three
# facts numerically on the two networks of section 3.

# %% id="demo-pp5" role="demo"
def max_abs_difference(p, q):
    return max(float((p[k] - q[k]).abs().max()) for k in p)


with needs("interpolate", "bernstein_weights", "bezier_point"):
    theta_avg = {k: (theta_a[k] + theta_b[k]) / 2 for k in theta_a}
    print("|theta(0) - theta_a|              =",
          max_abs_difference(bezier_point(theta_a, theta_avg, theta_b, 0.0), theta_a))
    print("|theta(1) - theta_b|              =",
          max_abs_difference(bezier_point(theta_a, theta_avg, theta_b, 1.0), theta_b))
    quarter_mix = {k: 0.25 * theta_a[k] + 0.5 * theta_avg[k] + 0.25 * theta_b[k] for k in theta_a}
    print("|theta(0.5) - (a/4 + mid/2 + b/4)| =",
          max_abs_difference(bezier_point(theta_a, theta_avg, theta_b, 0.5), quarter_mix))
    worst = max(max_abs_difference(bezier_point(theta_a, theta_avg, theta_b, float(alpha)),
                                   interpolate(theta_a, theta_b, float(alpha)))
                for alpha in ALPHAS)
    print(f"average as control point: largest distance from the straight line over 21 alphas = {worst:.2e}")
    print("coefficients of the curve at alpha = 0.3 (Bernstein, degree 2):",
          bernstein_weights(2, 0.3).tolist())

# %% [markdown] id="train-bezier-intro"
# ### Training the control point
#
# > **Correction to the course text.** The text says the midpoint "is optimised to minimise the
# > maximum loss along the curve". That is not how it is done in practice. Garipov et al. (2018)
# > minimise the **expected loss along the curve** with $\alpha$ drawn uniformly:
# > $$\min_{\theta_{\text{mid}}}\; \mathbb{E}_{\alpha\sim U(0,1)}\; L\big(\theta(\alpha)\big).$$
#
# The expectation is easy to optimise by stochastic gradient descent: each step draws **one**
# $\alpha \sim U(0, 1)$ and one minibatch, computes the loss at the point $\theta(\alpha)$ of the
# curve, and takes a gradient step on $\theta_{\text{mid}}$ only (the endpoints stay fixed). Each
# step is an unbiased estimate of the gradient of the expected loss at the cost of one ordinary
# training step. The maximum over $\alpha$ would be much harder: its gradient comes from a single
# worst point, which you would have to find first at every step. A low *average* loss does not
# guarantee a low *maximum*, so afterwards we measure the maximum on a fine grid of $\alpha$ with the
# tools of section 3.
#
# By the chain rule, $\partial L(\theta(\alpha)) / \partial\theta_{\text{mid}} =
# 2\alpha(1-\alpha)\,\nabla L(\theta(\alpha))$: the control point feels the loss most in the middle of
# the curve and not at all at the ends. Autograd works this out for you if `theta_mid` holds leaf
# tensors with `requires_grad=True` and the loss is computed through `bezier_point`.
#
# **The protocol** (the grader checks it, so follow it):
#
# 1. `g = torch.Generator().manual_seed(seed)`; all randomness comes from `g` (never the global
#    generator).
# 2. `theta_mid` starts at the average of the endpoints, as new tensors that require grad.
# 3. Each of the `steps` steps: draw `alpha = torch.rand((), generator=g)`, then the minibatch
#    indices `torch.randint(0, N, (min(batch_size, N),), generator=g)`; compute the mean
#    cross-entropy of the model at `bezier_point(theta_a, theta_mid, theta_b, alpha)` on that
#    minibatch (with `functional_call`); take one `torch.optim.Adam` step (learning rate `lr`) on
#    `theta_mid`.
# 4. Return `theta_mid` as detached tensors. `theta_a`, `theta_b`, the data and the model never
#    change.

# %% id="train-bezier-midpoint-solution" role="answer" solution="train_bezier_midpoint"
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from landscape_lab import Params

# %% role="visible" item="train_bezier_midpoint"
# Visible tests for `train_bezier_midpoint` (tiny model and data: runs in well under a second).
_data = lab.make_dataset(n_train=64, n_test=1, seed=0)
_model = lab.make_mlp(hidden=(8,), seed=0)
_ta = lab.params_of(lab.make_mlp(hidden=(8,), seed=1))
_tb = lab.params_of(lab.make_mlp(hidden=(8,), seed=2))
_ta_before = {k: v.clone() for k, v in _ta.items()}

_start = train_bezier_midpoint(_model, _ta, _tb, _data.X_train, _data.y_train, steps=0)
assert isinstance(_start, dict) and set(_start) == set(_ta), "return a dict with theta_a's keys"
assert all(torch.allclose(_start[k], (_ta[k] + _tb[k]) / 2) for k in _ta), (
    "with steps = 0 the result is the starting point, the endpoints' average")

_mid = train_bezier_midpoint(_model, _ta, _tb, _data.X_train, _data.y_train,
                             steps=20, lr=0.01, batch_size=16, seed=0)
assert all(_mid[k].shape == _ta[k].shape and _mid[k].dtype == _ta[k].dtype for k in _ta), (
    "theta_mid must have theta_a's shapes and dtypes")
assert not any(v.requires_grad for v in _mid.values()), "return detached tensors"
assert any(not torch.allclose(_mid[k], _start[k]) for k in _ta), "20 steps should move theta_mid"
assert all(torch.equal(_ta[k], _ta_before[k]) for k in _ta), "theta_a was modified"
_again = train_bezier_midpoint(_model, _ta, _tb, _data.X_train, _data.y_train,
                               steps=20, lr=0.01, batch_size=16, seed=0)
assert all(torch.equal(_mid[k], _again[k]) for k in _ta), (
    "the same seed must give the same result: draw alpha and the minibatches from "
    "torch.Generator().manual_seed(seed)")
print("train_bezier_midpoint: visible tests passed")

# %% role="hidden" item="train_bezier_midpoint"

# %% [markdown] id="demo-bezier-intro"
# ### Demonstration: a curve around the barrier
#
# We train the control point between the two independent solutions of section 3 for 500 Adam steps
# on the *training* set, then measure the curve and the straight line on the *test* set.

# %% id="demo-bezier" role="demo"
with needs("interpolate", "loss_along_path", "barrier_height", "interpolated_barrier",
           "bezier_point", "train_bezier_midpoint"):
    theta_mid = train_bezier_midpoint(model, theta_a, theta_b, X_train, y_train,
                                      steps=500, lr=0.01, batch_size=128, seed=0)

    def linear(alpha):
        return interpolate(theta_a, theta_b, alpha)

    def curve(alpha):
        return bezier_point(theta_a, theta_mid, theta_b, alpha)

    losses_linear = loss_along_path(model, linear, X_test, y_test, ALPHAS)
    accuracy_linear = [test_accuracy(linear(float(alpha))) for alpha in ALPHAS]
    losses_curve = loss_along_path(model, curve, X_test, y_test, ALPHAS)
    accuracy_curve = [test_accuracy(curve(float(alpha))) for alpha in ALPHAS]

    ax = lab.plot_path(ALPHAS, losses_linear, accuracies=accuracy_linear, label="straight line")
    lab.plot_path(ALPHAS, losses_curve, accuracies=accuracy_curve, label="Bezier curve (trained)",
                  ax=ax, title="Independent solutions: straight line vs trained Bezier curve")
    plt.show()

    print(f"max test loss: straight line {float(losses_linear.max()):.3f}, "
          f"Bezier curve {float(losses_curve.max()):.3f} "
          f"(endpoints {float(losses_curve[0]):.3f} and {float(losses_curve[-1]):.3f})")
    print(f"min test accuracy: straight line {min(accuracy_linear):.3f}, "
          f"Bezier curve {min(accuracy_curve):.3f}")
    print(f"barrier (mean / chord): straight line {barrier_height(losses_linear):.3f} / "
          f"{interpolated_barrier(losses_linear, ALPHAS):.3f}, Bezier curve "
          f"{barrier_height(losses_curve):.3f} / {interpolated_barrier(losses_curve, ALPHAS):.3f}")
    loss_mid, acc_mid = lab.evaluate(model, X_test, y_test, theta_mid)
    print(f"the control point theta_mid itself (not on the curve): test loss {loss_mid:.3f}, "
          f"accuracy {acc_mid:.3f}")

# %% [markdown] id="demo-bezier-after"
# **What to look for.** The trained curve's loss stays close to the endpoint losses for every
# $\alpha$: a small hump remains (a barrier of about 0.04, against about 1.6 on the straight
# line), and its accuracy (dashed) stays above 0.9 all along: the two solutions are joined by a
# low-loss path, just not by a straight one. The curve was trained on the training set, yet the
# test loss stays low — the whole curve generalises, not only its endpoints. Note the last line:
# the control point itself has a high loss (about 1.8); it is not a point of the curve, it only
# pulls the curve towards it.
#
# This is why **a barrier on the straight line does not prove that two solutions lie in separate
# basins**: a curved low-loss path may exist. "Not linearly connected" is a statement about one
# particular path.

# %% [markdown] id="demo-bezier-plane-intro"
# ### Demonstration: the loss on the plane of the curve
#
# Every point of the curve is a weighted average of $\theta_a$, $\theta_{\text{mid}}$ and
# $\theta_b$ with weights that sum to 1, so the whole curve lies in the plane through these three
# points. Garipov et al. (2018, their Figure 1) draw the loss over this plane. To draw it without
# distortion we need an **orthonormal** basis of the plane. Gram–Schmidt gives one:
#
# $$u_1 = \frac{\theta_b - \theta_a}{\lVert\theta_b - \theta_a\rVert},\qquad
# u_2 = \frac{v}{\lVert v\rVert}\quad\text{with}\quad
# v = (\theta_{\text{mid}} - \theta_a) - \langle \theta_{\text{mid}} - \theta_a, u_1\rangle\, u_1 .$$
#
# The point with coordinates $(x, y)$ is $\theta_a + x\,u_1 + y\,u_2$. So $\theta_a$ sits at
# $(0, 0)$ and $\theta_b$ at $(\lVert\theta_b - \theta_a\rVert, 0)$, and with equal scales on both
# axes a distance on the plot is the distance in weight space. With the raw directions
# $\theta_b - \theta_a$ and $\theta_{\text{mid}} - \theta_a$ as axes, the picture would be sheared
# and stretched. The cell evaluates the test loss on a 25 × 25 grid in one batched call
# (`torch.func.vmap` over `lab.flat_loss_fn`), draws $\log_{10}$ of it with fixed contour levels,
# and projects points of the trained curve (computed with your `bezier_point`) onto the plane.

# %% id="demo-bezier-plane" role="demo"
with needs("bezier_point", "train_bezier_midpoint"):
    if "theta_mid" not in globals():  # the demonstration above was skipped
        raise NotImplementedError
    flat_a, flat_b, flat_mid = (lab.flatten_params(t) for t in (theta_a, theta_b, theta_mid))
    # Gram-Schmidt: u1 along the straight line, u2 towards theta_mid, orthogonal to u1.
    u1 = flat_b - flat_a
    length_ab = float(u1.norm())
    u1 = u1 / length_ab
    mid_x = float((flat_mid - flat_a) @ u1)
    u2 = (flat_mid - flat_a) - mid_x * u1
    mid_y = float(u2.norm())
    u2 = u2 / mid_y

    GRID = 25
    xs = torch.linspace(-0.2, 1.2, GRID) * length_ab
    ys = torch.linspace(-0.25, 1.15, GRID) * mid_y
    grid_x, grid_y = torch.meshgrid(xs, ys, indexing="ij")
    grid_thetas = flat_a + grid_x.reshape(-1, 1) * u1 + grid_y.reshape(-1, 1) * u2
    plane_loss = lab.flat_loss_fn(model, X_test, y_test)
    with torch.no_grad():
        Z = torch.cat([torch.func.vmap(plane_loss)(chunk) for chunk in grid_thetas.split(125)])
        Z = Z.reshape(GRID, GRID)  # Z[i, j] = test loss at (xs[i], ys[j])

        # Points of the curve, projected onto the plane; the residual is the distance from it.
        curve_alphas = torch.linspace(0.0, 1.0, 41).tolist()
        offsets = torch.stack([lab.flatten_params(bezier_point(theta_a, theta_mid, theta_b, alpha))
                               for alpha in curve_alphas]) - flat_a
        curve_x, curve_y = offsets @ u1, offsets @ u2
        off_plane = float((offsets - curve_x[:, None] * u1 - curve_y[:, None] * u2).norm(dim=1).max())
        loss_line_middle = float(plane_loss(flat_a + 0.5 * length_ab * u1))
        loss_curve_middle = float(plane_loss(flat_a + offsets[20]))
        loss_control = float(plane_loss(flat_mid))

    levels = np.linspace(math.log10(float(Z.min())), math.log10(float(Z.max())), 25)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    filled = ax.contourf(xs.numpy(), ys.numpy(), Z.log10().T.numpy(), levels=levels, cmap="viridis")
    ax.contour(xs.numpy(), ys.numpy(), Z.log10().T.numpy(), levels=levels, colors="k",
               linewidths=0.3)
    fig.colorbar(filled, ax=ax, label="log10 test loss")
    ax.plot([0.0, length_ab], [0.0, 0.0], color="white", linestyle="--", label="straight line")
    ax.plot(curve_x.numpy(), curve_y.numpy(), color="red", label="trained Bezier curve")
    for (x, y), name in (((0.0, 0.0), r"$\theta_a$"), ((length_ab, 0.0), r"$\theta_b$"),
                         ((mid_x, mid_y), r"$\theta_{\mathrm{mid}}$")):
        ax.plot([x], [y], marker="o", color="white", markeredgecolor="black")
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 6), color="white")
    ax.set_aspect("equal")
    ax.set_xlabel(r"$x$ (along $u_1$, towards $\theta_b$)")
    ax.set_ylabel(r"$y$ (along $u_2$)")
    ax.set_title("Test loss on the plane through theta_a, theta_b and theta_mid")
    ax.legend(loc="upper right", fontsize="small")
    plt.show()

    print(f"the plane is a 2-D slice of the {flat_a.numel()}-dimensional weight space")
    print(f"|theta_b - theta_a| = {length_ab:.1f}; theta_mid at (x, y) = ({mid_x:.1f}, {mid_y:.1f}); "
          f"u1 . u2 = {float(u1 @ u2):.1e}")
    print(f"largest distance of the curve's points from the plane: {off_plane:.1e}")
    print(f"middle of the curve (alpha = 0.5) at (x, y) = ({float(curve_x[20]):.1f}, "
          f"{float(curve_y[20]):.1f}): {float(curve_y[20]) / length_ab:.2f} of |theta_b - theta_a| "
          f"away from the straight line")
    print(f"test loss: middle of the straight line {loss_line_middle:.2f}, middle of the curve "
          f"{loss_curve_middle:.2f}, theta_mid {loss_control:.2f}; on the grid "
          f"{float(Z.min()):.2f} to {float(Z.max()):.1f}")

# %% [markdown] id="demo-bezier-plane-after"
# **What to look for.** The two solutions lie at the ends of one dark, low-loss valley shaped like
# an arc. The straight line (dashed) cuts straight across the high ground inside the arc. At its
# middle the test loss is about 1.8, the ridge of section 3. The trained curve (red) follows the
# valley instead. Its middle lies about 0.3 of $\lVert\theta_b - \theta_a\rVert$ away from the
# straight line, and the loss there is about 0.2. The control point $\theta_{\text{mid}}$ lies well
# outside the valley (loss about 1.8), twice as far from the line as the curve's middle, because
# $\theta(\tfrac12)$ is $\tfrac12\theta_{\text{mid}} + \tfrac14(\theta_a + \theta_b)$. The curve
# lies in the plane up to float rounding (the printed distance). Remember that this is a 2-D slice
# of a weight space of about 1.3 thousand dimensions. The valley looks narrow here, but the picture
# says nothing about the directions off the plane.
