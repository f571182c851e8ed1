# %% [markdown] id="filter-normalize-intro"
# ## 6. Pictures of the landscape
#
# ### 6.1 Random directions and filter normalisation
#
# A loss landscape with $d$ dimensions cannot be drawn, but slices of it can. Goodfellow, Vinyals &
# Saxe (2015, *Qualitatively characterizing neural network optimization problems*, ICLR) looked at
# the loss along the line from the initial to the trained parameters, a 1-D slice. The 2-D
# version picks two directions $d_1, d_2$ (usually random: two random Gaussian vectors in high
# dimension are nearly orthogonal) and evaluates on a grid
#
# $$f(\alpha, \beta) = L(\theta^* + \alpha\,d_1 + \beta\,d_2).$$
#
# **The scale problem.** A random Gaussian direction has entries of the same size for every
# parameter, but the weights are not all of the same size — and by section 5 their size per unit
# can be changed without changing the function. A step of 0.1 destroys a layer whose weights are
# around 0.01 and does nothing to one with weights around 10. Raw random directions show the
# scale of the weights as much as the landscape.
#
# **Filter normalisation** (Li, Xu, Taylor, Studer & Goldstein, 2018, *Visualizing the Loss
# Landscape of Neural Nets*, NeurIPS) rescales the random direction **filter by filter** to the
# norm of the corresponding filter of the weights:
#
# $$d_i \;\leftarrow\; \frac{d_i}{\|d_i\| + 10^{-10}}\;\|\theta_i\| ,$$
#
# where $i$ runs over the filters of every weight tensor — for a linear layer, the rows of the
# weight matrix (the incoming weights of one unit); for a convolution, the output channels — and
# $\|\cdot\|$ is the Frobenius norm. A step $\alpha = 1$ then moves every filter by exactly its own
# norm. Biases and normalisation-layer parameters (tensors with $\le 1$ dimension) are set to
# **zero** in the direction (the "ignore biasbn" option of Li et al.'s code).
#
# > **Correction to the course text.** Its formula,
# > $\delta_{ij}^{\text{norm}} = \frac{\delta_{ij}}{\|\theta_{ij}^*\|_F}\cdot\|\theta_{ij}^*\|_F = \delta_{ij}$,
# > divides and multiplies by the same *weight* norm, which changes nothing. The direction must be
# > divided by **its own** filter norm $\|d_i\|$ and multiplied by the **weights'** filter norm
# > $\|\theta_i\|$, as above.
#
# It removes the rescaling of section 5: rescaling unit $i$ by $c$ multiplies row $i$ of the
# first weight matrix, and its filter-normalised direction, by $c$ (the outgoing weights too when
# all units share one $c$). So $\theta' + \alpha d'$ is the rescaling of $\theta + \alpha d$, and
# the pictures are identical.

# %% id="filter-normalize-solution" role="answer" solution="filter_normalize" section="6.1"
from collections.abc import Mapping

import torch

FILTER_NORM_EPS = 1e-10
"""Added to each filter's direction norm, so that an all-zero filter does not divide by 0."""

# %% role="visible" item="filter_normalize"
# Visible tests for `filter_normalize`.
_theta_p = {"w": torch.tensor([[3.0, 4.0], [0.0, 1.0]]), "b": torch.tensor([1.0, 2.0])}
_direction = {"w": torch.tensor([[1.0, 0.0], [2.0, 2.0]]), "b": torch.tensor([5.0, 5.0])}
_direction_before = {k: v.clone() for k, v in _direction.items()}
_out = filter_normalize(_direction, _theta_p)
assert isinstance(_out, dict) and list(_out) == ["w", "b"], "return a dict with direction's keys, in order"
_expected_w = torch.tensor([[5.0, 0.0], [0.5**0.5, 0.5**0.5]])
assert torch.allclose(_out["w"], _expected_w, atol=1e-6), (
    "row 0: ||theta_0|| = 5, ||d_0|| = 1, so d_0 becomes [5, 0]; row 1: ||theta_1|| = 1, "
    f"||d_1|| = 2 sqrt(2), so d_1 becomes [0.7071, 0.7071]; expected {_expected_w}, got {_out['w']}")
assert torch.equal(_out["b"], torch.zeros(2)), f"1-D tensors (biases) become zeros, got {_out['b']}"
assert all(torch.equal(_direction[k], _direction_before[k]) for k in _direction), "direction must not be changed"
# A convolution-like 4-D tensor: one filter per output channel (dim 0).
_g = torch.Generator().manual_seed(0)
_kernel = {"conv.weight": torch.randn(3, 2, 2, 2, generator=_g)}
_random = {"conv.weight": torch.randn(3, 2, 2, 2, generator=_g)}
_normed = filter_normalize(_random, _kernel)["conv.weight"]
_filter_norms = torch.linalg.vector_norm(_normed.reshape(3, -1), dim=1)
assert torch.allclose(_filter_norms, torch.linalg.vector_norm(_kernel["conv.weight"].reshape(3, -1), dim=1)), (
    "every filter (index along dim 0) of the result has the norm of the matching filter of theta")
_cosine = torch.nn.functional.cosine_similarity(_normed.reshape(3, -1), _random["conv.weight"].reshape(3, -1))
assert torch.allclose(_cosine, torch.ones(3)), "each filter keeps its direction; only its length changes"
try:
    filter_normalize({"w": torch.ones(2, 2)}, _theta_p)
except ValueError:
    pass
else:
    raise AssertionError("direction and theta with different keys should raise ValueError")
print("filter_normalize: visible tests passed")

# %% role="hidden" item="filter_normalize"

# %% [markdown] id="loss-surface-intro"
# ### 6.2 The loss on a plane
#
# `loss_surface(loss_fn, theta, d1, d2, alphas, betas)` evaluates
# $Z_{ij} = L(\theta + \alpha_i d_1 + \beta_j d_2)$ on the grid: **row $i$ belongs to `alphas[i]`,
# column $j$ to `betas[j]`** — `lab.plot_surface` puts $\alpha$ on the x axis and expects exactly
# this layout (a transposed grid silently swaps the axes). `theta`, `d1` and `d2` are flat vectors
# (flatten filter-normalised `Params` with `lab.flatten_params`). Evaluate without gradients.

# %% id="loss-surface-solution" role="answer" solution="loss_surface" section="6.2"
import torch

# %% role="visible" item="loss_surface"
# Visible tests for `loss_surface` on L(theta) = theta_0**2 + 4 theta_1**2.
_weights = torch.tensor([1.0, 4.0], dtype=torch.float64)


def _bowl(theta):
    return (_weights * theta**2).sum()


_theta = torch.tensor([1.0, 0.0], dtype=torch.float64)
_theta_before = _theta.clone()
_d1 = torch.tensor([1.0, 0.0], dtype=torch.float64)
_d2 = torch.tensor([0.0, 1.0], dtype=torch.float64)
_alphas = [-1.0, 0.0, 1.0]
_betas = [-0.5, 0.0, 0.5, 1.0]
_Z = loss_surface(_bowl, _theta, _d1, _d2, _alphas, _betas)
assert isinstance(_Z, torch.Tensor), f"return a tensor, got {type(_Z).__name__}"
assert _Z.shape == (3, 4), f"shape (len(alphas), len(betas)) = (3, 4), got {tuple(_Z.shape)}"
_a = torch.tensor(_alphas, dtype=torch.float64)
_b = torch.tensor(_betas, dtype=torch.float64)
_expected = (1.0 + _a[:, None]) ** 2 + 4.0 * _b[None, :] ** 2
assert torch.allclose(_Z, _expected), (
    f"Z[i, j] = L(theta + alphas[i] d1 + betas[j] d2) = (1 + alphas[i])**2 + 4 betas[j]**2; "
    f"expected\n{_expected}\ngot\n{_Z}")
assert float(_Z[1, 1]) == float(_bowl(_theta)), "at alpha = beta = 0 the surface is L(theta)"
assert not _Z.requires_grad, "compute the surface without gradients"
assert torch.equal(_theta, _theta_before), "theta must not be changed"
assert loss_surface(_bowl, _theta, _d1, _d2, torch.linspace(-1, 1, 5), np.array([0.0])).shape == (5, 1), (
    "alphas and betas may be tensors or numpy arrays")
try:
    loss_surface(_bowl, _theta, _d1, _d2, [], _betas)
except ValueError:
    pass
else:
    raise AssertionError("an empty alphas should raise ValueError")
print("loss_surface: visible tests passed")

# %% role="hidden" item="loss_surface"

# %% [markdown] id="demo-surface-intro"
# ### Demonstration: the landscape around a small-batch and a full-batch minimum
#
# The two networks of section 4.3. For each: two random Gaussian directions (the same seed for
# both networks), filter-normalised with respect to that network's own weights, and the
# **training** loss on a $25\times25$ grid with $\alpha, \beta \in [-0.4, 0.4]$. The colour scale
# is capped at 1.5, just above the chance-level loss $\ln 4 \approx 1.39$: yellow is no better
# than guessing. The two panels share their contour levels (printed above the figure), so one
# colour is one loss in both pictures and the spacing of the contour lines can be compared.
# Notebook 04's question on reading a filter-normalised plot starts from a picture like this one.

# %% id="demo-surface" role="demo"
GRID = torch.linspace(-0.4, 0.4, 25)
LOSS_CAP = 1.5  # just above the chance-level loss ln 4 = 1.39
NUM_LEVELS = 20


def random_directions(params, seed):
    # Two raw Gaussian directions shaped like `params`, from a seeded generator.
    g = torch.Generator().manual_seed(seed)
    return [{name: torch.randn(p.shape, generator=g) for name, p in params.items()} for _ in range(2)]


def filter_normalized_surface(params, seed=0):
    # The training loss on the plane of two filter-normalised random directions through `params`.
    d1, d2 = (lab.flatten_params(filter_normalize(d, params)) for d in random_directions(params, seed))
    return loss_surface(train_loss_fn, lab.flatten_params(params), d1, d2, GRID, GRID)


def shared_levels(surfaces):
    # One set of contour levels for pictures that are compared: evenly spaced from the lowest
    # loss of all of them up to the cap, so that one colour means one loss in every panel.
    surfaces = list(surfaces)
    levels = torch.linspace(min(float(Z.min()) for Z in surfaces), LOSS_CAP, NUM_LEVELS + 1)
    print(f"contour levels shared by all {len(surfaces)} panels: {len(levels)} levels from "
          f"{float(levels[0]):.3f} to {float(levels[-1]):.3f}, {float(levels[1] - levels[0]):.3f} apart")
    return levels


with needs("filter_normalize", "loss_surface"):
    labels = ("batch 32", "full batch")
    surfaces = {label: filter_normalized_surface(lab.params_of(nets[label])) for label in labels}
    levels = shared_levels(surfaces.values())
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, (label, Z) in zip(axes, surfaces.items()):
        lab.plot_surface(GRID, GRID, Z.clamp(max=LOSS_CAP), ax=ax, levels=levels,
                         title=f"{label}, {EPOCHS} epochs: training loss (capped at {LOSS_CAP})")
        inside = float((Z < 0.5).float().mean())
        print(f"{label:>10}: loss at the centre {float(Z[12, 12]):.3f}, "
              f"fraction of the grid with loss < 0.5: {inside:.2f}, "
              f"weight norm |theta| {float(theta_of[label].norm()):.1f}")
    fig.suptitle("Filter-normalised loss landscapes (Li et al. 2018)")
    plt.show()

# %% [markdown] id="demo-surface-after"
# **What to look for.** Both pictures show a single basin around the trained point (the red star).
# With the same contour levels, the two
# basins are about **equally wide**: the loss stays below 0.5 on about 7% of the grid for batch 32
# and about 10% for full batch — although section 4.3 measured twice the trace for the full-batch
# minimum. The rulers differ: the trace is curvature per unit of *raw* parameter change, while a
# filter-normalised step moves every filter by $\alpha$ times its own norm, and the full-batch
# network has smaller weights (norm about 20 against 30). Relative to the size of the weights, the
# two minima are about equally flat. Li et al.
# (2018) argue that sharpness seen through filter-normalised directions goes together with
# generalisation, where raw directions can mislead; the next demonstration shows how.
#
# What the pictures cannot show: they are 2-D slices of a 1284-dimensional function along two
# *random* directions, nearly orthogonal to the few sharpest eigen-directions, so a slice can look
# flatter than the landscape is; closed contours do not prove a minimum in all directions
# (section 4.2 found negative curvature); and other seeds give other pictures. The last
# demonstration measures how much flatter a random direction is.

# %% [markdown] id="demo-surface-rescaled-intro"
# ### Demonstration: raw against filter-normalised directions
#
# The batch-32 network and its rescaled copy from section 5 ($c = 4$ on layers "0" → "2") compute
# the same function. We draw both landscapes with the same random Gaussian vectors, once *raw*
# (each vector scaled as a whole to the length of its filter-normalised version for the original
# network) and once filter-normalised with respect to each network's own weights. All four panels
# share their contour levels.

# %% id="demo-surface-rescaled" role="demo"
with needs("filter_normalize", "loss_surface", "rescale_hidden_units"):
    params = lab.params_of(nets["batch 32"])
    rescaled = rescale_hidden_units(params, "0", "2", 4.0)
    raw1, raw2 = random_directions(params, seed=0)
    fn1, fn2 = (lab.flatten_params(filter_normalize(d, params)) for d in (raw1, raw2))
    # Raw directions: the same Gaussian vectors, scaled as a whole to the filter-normalised length.
    raw_flat = [lab.flatten_params(raw) for raw in (raw1, raw2)]
    raw_flat = [r * (fn.norm() / r.norm()) for r, fn in zip(raw_flat, (fn1, fn2))]

    pictures = {}
    for name, p in (("network", params), ("rescaled copy (c = 4)", rescaled)):
        theta = lab.flatten_params(p)
        pictures[("raw", name)] = loss_surface(train_loss_fn, theta, *raw_flat, GRID, GRID)
        pictures[("filter-normalised", name)] = filter_normalized_surface(p)

    levels = shared_levels(pictures.values())
    fig, axes = plt.subplots(2, 2, figsize=(13, 10))
    for row, kind in enumerate(("raw", "filter-normalised")):
        for col, name in enumerate(("network", "rescaled copy (c = 4)")):
            lab.plot_surface(GRID, GRID, pictures[(kind, name)].clamp(max=LOSS_CAP), ax=axes[row, col],
                             levels=levels, title=f"{kind} directions: {name}")
        difference = float((pictures[(kind, "network")] - pictures[(kind, "rescaled copy (c = 4)")]).abs().max())
        print(f"{kind:>17} directions: max |Z(network) - Z(rescaled copy)| = {difference:.2e}")
    plt.show()

# %% [markdown] id="demo-surface-rescaled-after"
# **What to look for.** With **raw** directions the two pictures differ, although the networks
# compute the same function: the copy's layer "2" weights are four times smaller, so the same
# step disturbs them four times more and its basin looks much narrower. With **filter-normalised** directions the two pictures are
# identical (the largest difference printed is exactly 0, since $c$ is a power of two). (With a
# different $c$ per unit, the next layer's rows are rescaled unevenly, column by column, which a
# per-row normalisation cannot undo: the pictures are then comparable, not identical.) Filter
# normalisation protects against the *rescaling* symmetry only; it does not make a 2-D slice a
# complete description of the landscape.

# %% [markdown] id="demo-top-direction-intro"
# ### Demonstration: what a random slice misses
#
# In the style of PyHessian (Yao, Gholami, Keutzer & Mahoney, 2020, *PyHessian: Neural Networks
# Through the Lens of the Hessian*): the training loss $L(\theta + t\,u)$ of the full-batch
# network along its top Hessian eigenvector $v$ (power iteration with `hvp`) and along a random
# Gaussian direction $r$ of the same norm, with the quadratic prediction
# $L(\theta) + \frac12\lambda t^2$ along $v$.

# %% id="demo-top-direction" role="demo"
STEPS_T = torch.linspace(-0.5, 0.5, 41)  # the step t along each unit direction

with needs("hvp"):
    theta = theta_of["full batch"]
    # The top eigenvector: power iteration with hvp, as top_eigenvalue does it (seed 0, 100 steps).
    v = torch.randn(theta.shape, generator=torch.Generator().manual_seed(0))
    v = v / v.norm()
    for _ in range(100):
        hv = hvp(train_loss_fn, theta, v)
        v = hv / hv.norm()
    lam = float(v @ hvp(train_loss_fn, theta, v))  # the Rayleigh quotient
    r = torch.randn(theta.shape, generator=torch.Generator().manual_seed(1))
    r = r / r.norm()  # a random direction of the same norm as v: 1
    curvature_r = float(r @ hvp(train_loss_fn, theta, r))
    with torch.no_grad():
        base = float(train_loss_fn(theta))
        along_v = torch.stack([train_loss_fn(theta + t * v) for t in STEPS_T]) - base
        along_r = torch.stack([train_loss_fn(theta + t * r) for t in STEPS_T]) - base
    predicted = 0.5 * lam * STEPS_T**2

    print(f"full-batch network, d = {theta.numel()}: training loss {base:.3f} at theta")
    print(f"top eigenvalue (Rayleigh quotient of v): lambda = {lam:.2f}")
    print(f"curvature along r: r^T H r = {curvature_r:.3f}; lambda is {lam / curvature_r:.0f} times larger")
    print(f"|cos(v, r)| = {abs(float(v @ r)):.3f}  (1/sqrt(d) = {theta.numel() ** -0.5:.3f})")
    print(f"\n{'t':>6} {'increase along v':>17} {'1/2 lambda t^2':>15} {'ratio':>6} {'increase along r':>17}")
    for i in (0, 10, 16, 18, 22, 24, 30, 40):  # t = -0.5, -0.25, -0.1, -0.05, 0.05, 0.1, 0.25, 0.5
        t = float(STEPS_T[i])
        print(f"{t:>6.2f} {float(along_v[i]):>17.4f} {float(predicted[i]):>15.4f} "
              f"{float(along_v[i] / predicted[i]):>6.2f} {float(along_r[i]):>17.5f}")
    print(f"\nlargest increase for |t| <= 0.5: along v {float(along_v.max()):.2f}, "
          f"along r {float(along_r.max()):.4f}")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(STEPS_T, base + along_v, "o-", markersize=3, label=f"top Hessian eigenvector $v$ ($\\lambda$ = {lam:.1f})")
    ax.plot(STEPS_T, base + along_r, "o-", markersize=3, label="random direction $r$, $\\|r\\| = \\|v\\| = 1$")
    ax.plot(STEPS_T, base + predicted, "k--", label=r"$L(\theta) + \frac{1}{2}\lambda t^2$")
    ax.set_xlabel("step $t$ along the unit direction $u$")
    ax.set_ylabel(r"training loss $L(\theta + t\,u)$")
    ax.set_title("Full-batch network: the steepest direction against a random one")
    ax.legend(fontsize="small")
    plt.show()

# %% [markdown] id="demo-top-direction-after"
# **What to look for.** Along the random direction the loss hardly moves: over the whole range
# it rises by less than 0.005, a curvature $r^\top H r$ of about 0.03. A step of the same length
# along the top eigenvector raises it from 0.13 by up to about 2.6: $\lambda \approx 12.5$ is about
# 400 times the curvature along $r$. A random unit vector in $d = 1284$ dimensions has only about
# $1/\sqrt d \approx 0.03$ of its length along $v$ (the printed cosine), so its curvature averages
# the whole spectrum, which the many eigenvalues near zero dominate. The pictures above slice
# along two such random directions: they can look flat where the landscape has a steep wall —
# pitfall 9. Near $t = 0$ the loss along $v$ follows $\frac12\lambda t^2$ (within about 10% at
# $|t| = 0.05$); further out it rises faster: the Hessian describes the landscape only locally.
