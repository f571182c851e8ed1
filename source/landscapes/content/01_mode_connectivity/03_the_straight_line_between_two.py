# %% [markdown] id="linear-intro"
# ## 1. The straight line between two solutions
#
# Let $\theta_a$ and $\theta_b$ be the parameters of two trained networks with the same
# architecture. The **linear path** (straight line) between them is
#
# $$\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b ,\qquad \alpha \in [0, 1],$$
#
# so $\theta(0) = \theta_a$, $\theta(1) = \theta_b$ and $\theta(\tfrac12)$ is the plain average
# of the two. Values of $\alpha$ outside $[0, 1]$ *extrapolate* beyond the endpoints (useful to see
# the walls of a valley). A network's parameters are a dict of tensors, one per weight matrix and
# bias; the line is taken in every tensor with the same $\alpha$, which is exactly the straight
# line in the space of all parameters flattened into one long vector.
#
# **Linear mode connectivity** (Frankle et al., 2020, *Linear Mode Connectivity and the Lottery
# Ticket Hypothesis*): $\theta_a$ and $\theta_b$ are linearly mode-connected when the loss never
# rises much above the endpoints anywhere on the line,
#
# $$L\big(\theta(\alpha)\big) \;\le\; \max\big(L(\theta_a),\, L(\theta_b)\big) + \delta
# \qquad\text{for all } \alpha \in [0, 1],$$
#
# for a small tolerance $\delta$. If the loss were convex, this would hold automatically with
# $\delta = 0$; for a neural network it is an empirical question.
#
# > **Convention.** The course text writes the path as $\alpha\theta_1 + (1-\alpha)\theta_2$,
# > which puts $\alpha$ on the *first* solution, so its $\alpha = 0$ is $\theta_2$. It is the same
# > set of points walked in the opposite direction. This notebook (and the grader) always uses
# > $\theta(\alpha) = (1-\alpha)\theta_a + \alpha\theta_b$: **$\alpha = 0$ is $\theta_a$**. Mixing
# > the two conventions is a classic bug — it silently flips every plot.

# %% id="interpolate-solution" role="answer" solution="interpolate"
import math

import torch
from landscape_lab import Params

# %% role="visible" item="interpolate"
# Visible tests for `interpolate`: simple hand-computed cases.
_ta = {"w": torch.tensor([[0.0, 2.0]]), "b": torch.tensor([1.0])}
_tb = {"w": torch.tensor([[4.0, 6.0]]), "b": torch.tensor([3.0])}
_ta_before = {k: v.clone() for k, v in _ta.items()}

_point = interpolate(_ta, _tb, 0.25)
assert isinstance(_point, dict), f"interpolate should return a dict, got {type(_point).__name__}"
assert set(_point) == {"w", "b"}, f"the result should have the keys of theta_a, got {set(_point)}"
assert _point["w"].shape == (1, 2), f"the result's 'w' should keep shape (1, 2), got {tuple(_point['w'].shape)}"
assert torch.allclose(_point["w"], torch.tensor([[1.0, 3.0]])), (
    f"alpha = 0.25 is 75% theta_a + 25% theta_b: expected [[1., 3.]], got {_point['w']}")
assert torch.allclose(_point["b"], torch.tensor([1.5])), f"expected b = [1.5], got {_point['b']}"

assert torch.equal(interpolate(_ta, _tb, 0.0)["w"], _ta["w"]), "alpha = 0 must give theta_a"
assert torch.equal(interpolate(_ta, _tb, 1.0)["w"], _tb["w"]), "alpha = 1 must give theta_b"
assert torch.allclose(interpolate(_ta, _tb, 2.0)["b"], torch.tensor([5.0])), (
    "alpha = 2 extrapolates: (1 - 2) * 1 + 2 * 3 = 5 (do not clamp alpha)")
assert all(torch.equal(_ta[k], _ta_before[k]) for k in _ta), "theta_a was modified"

try:
    interpolate(_ta, {"w": _tb["w"]}, 0.5)
except ValueError:
    pass
else:
    raise AssertionError("different keys should raise ValueError")
print("interpolate: visible tests passed")

# %% role="hidden" item="interpolate"
