"""Generate source/landscapes/01_mode_connectivity.ipynb (run from anywhere with the venv).

    python autograder/authoring/gen_01.py [output path]

The hidden-test cells are built from the check registry at generation time
(`autograder.checks.parts`), so rerun this script whenever the checks change.
"""

from __future__ import annotations

from nbbuild import HIDDEN_POINTS, NotebookBuilder, output_path

OUT = output_path("01_mode_connectivity.ipynb")

FUNCTIONS = [
    "interpolate",
    "loss_along_path",
    "barrier_height",
    "interpolated_barrier",
    "is_linearly_connected",
    "bernstein_weights",
    "bezier_point",
    "train_bezier_midpoint",
    "linear_basins",
    "average_params",
    "ensemble_probs",
]

builder = NotebookBuilder()
md, code, answer, visible, hidden = (
    builder.md, builder.code, builder.answer, builder.visible, builder.hidden
)

TABLE, TOTAL = builder.points_table(FUNCTIONS)

# =============================================================================================
# Title, grading, conventions
# =============================================================================================

md("title", r"""
# Notebook 01 — Mode connectivity: straight lines, Bezier curves, barriers, basins and merging

*Course subject 25-05, Mode Connectivity and Loss Landscapes — assignment `landscapes`, notebook 1 of 4.*

Train the same small network twice from two random seeds and you get two solutions with almost
the same accuracy but completely different weights. Are they two separate "valleys" of the
loss landscape, or two points of one connected low-loss region? In this notebook you write the
tools that answer this question and use them on real (tiny) networks, trained on your CPU
in a fraction of a second each.

**Learning objectives.** After this notebook you can

1. compute points on the straight line and on a quadratic Bezier curve between two sets of
   network parameters, and the loss of a network all along such a path;
2. measure a loss barrier by the two definitions in the literature (Frankle et al., 2020;
   Entezari et al., 2022) and say when they disagree;
3. decide whether two solutions are *linearly mode-connected*, and group many solutions into
   linearly connected basins (practice problem 1);
4. train the control point of a Bezier curve so that the curve bends around a barrier
   (Garipov et al., 2018), and derive why the control point must be trained (practice problem 5);
5. explain why averaging the *weights* of two networks works as well as averaging their
   *predictions* (an ensemble) only when the two are linearly connected.
""")

md("grading", rf"""
## How this notebook is graded

You implement **{len(FUNCTIONS)} functions**, each in its own cell, in the order they are taught.
Replace the line `raise NotImplementedError()` with your code; do not rename the functions or
change their arguments (the grader finds them by name).

Under every function there is

* one **visible test** cell (no points: a self-check for you; the hidden tests carry the
  grade): run it yourself — it checks the worked
  examples of the course text and simple cases, and its messages tell you what is wrong;
* several **hidden test** cells ({HIDDEN_POINTS} point each), one per property of the contract
  (the cell names the property, e.g. "alpha = 0 is theta_a, alpha = 1 is theta_b"). They are
  empty in your copy and run at grading time on cases you have not seen (random inputs,
  edge cases, the convention traps, "does not modify its inputs"). A hidden cell earns its
  point when every case of its property passes; the feedback names the first failing case,
  what came back and what was expected.

{TABLE}

The "explain" part of practice problem 1 is answered in notebook 04, not here.
The demonstration cells (grey, read-only) are not graded: they run your functions on real
networks. Until the functions they use are implemented they print
`(demonstration skipped: ...)` instead of failing, so you can run the notebook top to bottom
at any time. The whole notebook runs in well under a minute on a laptop CPU.
""")

md("conventions", r"""
## Conventions (the same in all four notebooks)

* **Parameters as data.** `Params` is an ordered `dict[str, torch.Tensor]` keyed like
  `model.named_parameters()`, e.g. `{"0.weight": ..., "0.bias": ..., "2.weight": ..., ...}`.
  `lab.params_of(model)` returns a detached copy of a model's parameters.
* **Paths.** The straight line is $\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b$:
  $\alpha = 0$ is $\theta_a$, $\alpha = 1$ is $\theta_b$. The quadratic Bezier curve is
  $\theta(\alpha) = (1-\alpha)^2\theta_a + 2\alpha(1-\alpha)\,\theta_{\text{mid}} + \alpha^2\theta_b$.
* **Losses** are mean cross-entropy over the given data.
* **Never modify your inputs** — tensors, dicts or models. Build new tensors; to run a model
  with other parameters use `torch.func.functional_call(model, params, (X,))` instead of
  loading them into the model.
* **Scalars are Python numbers**: return `float(...)` (or `bool`), not a 0-d tensor.
  Tensors keep the dtype of the input unless the docstring says otherwise.
* **Bad input raises `ValueError`** with a message that names the offending argument
  (e.g. `"theta_a and theta_b have different keys: ..."`).
* `landscape_lab.py` (imported as `lab`) holds the data set, the models, training and the
  plots. It is not graded and is restored from the release when your work is graded, so
  changing it does not help.
""")

code("setup", r"""
%matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

import landscape_lab as lab
from landscape_lab import needs

# The networks here are tiny (a few thousand parameters): PyTorch's thread pool costs more
# time in hand-offs than it saves, so one thread is faster (and gives the same numbers on
# every machine).
torch.set_num_threads(1)
torch.manual_seed(0)
""")

# =============================================================================================
# 1. interpolate
# =============================================================================================

md("linear-intro", r"""
## 1. The straight line between two solutions

Let $\theta_a$ and $\theta_b$ be the parameters of two trained networks with the same
architecture. The **linear path** (straight line) between them is

$$\theta(\alpha) = (1-\alpha)\,\theta_a + \alpha\,\theta_b ,\qquad \alpha \in [0, 1],$$

so $\theta(0) = \theta_a$, $\theta(1) = \theta_b$ and $\theta(\tfrac12)$ is the plain average
of the two. Values of $\alpha$ outside $[0, 1]$ *extrapolate* beyond the endpoints (useful to see
the walls of a valley). A network's parameters are a dict of tensors, one per weight matrix and
bias; the line is taken in every tensor with the same $\alpha$, which is exactly the straight
line in the space of all parameters flattened into one long vector.

**Linear mode connectivity** (Frankle et al., 2020, *Linear Mode Connectivity and the Lottery
Ticket Hypothesis*): $\theta_a$ and $\theta_b$ are linearly mode-connected when the loss never
rises much above the endpoints anywhere on the line,

$$L\big(\theta(\alpha)\big) \;\le\; \max\big(L(\theta_a),\, L(\theta_b)\big) + \delta
\qquad\text{for all } \alpha \in [0, 1],$$

for a small tolerance $\delta$. If the loss were convex, this would hold automatically with
$\delta = 0$; for a neural network it is an empirical question.

> **Convention.** The course text writes the path as $\alpha\theta_1 + (1-\alpha)\theta_2$,
> which puts $\alpha$ on the *first* solution, so its $\alpha = 0$ is $\theta_2$. It is the same
> set of points walked in the opposite direction. This notebook (and the grader) always uses
> $\theta(\alpha) = (1-\alpha)\theta_a + \alpha\theta_b$: **$\alpha = 0$ is $\theta_a$**. Mixing
> the two conventions is a classic bug — it silently flips every plot.
""")

answer("interpolate", r'''
import math

import torch
from landscape_lab import Params


def interpolate(theta_a: Params, theta_b: Params, alpha: float) -> Params:
    """Point on the straight line between two parameter dicts.

    theta(alpha) = (1 - alpha) * theta_a + alpha * theta_b, computed key by key.

    Inputs:
    - theta_a: Params (dict str -> Tensor), the start of the path (alpha = 0).
    - theta_b: Params with the same keys as theta_a and, per key, a tensor of the same
      shape: the end of the path (alpha = 1).
    - alpha: real number (Python float, or a 0-d tensor). Any real value is allowed;
      values outside [0, 1] extrapolate beyond the endpoints.

    Returns:
    - Params with theta_a's keys in theta_a's order; per key a NEW tensor of that key's
      shape and dtype. theta_a and theta_b are not modified.

    Raises:
    - ValueError (naming theta_a / theta_b) if the key sets differ or a shape differs.

    Hint: check keys and shapes first, then one dict comprehension. Do not clamp alpha.
    Reference: Frankle et al. (2020), Linear Mode Connectivity and the Lottery Ticket
    Hypothesis.
    """
    ### BEGIN SOLUTION
    if set(theta_a) != set(theta_b):
        only_a = sorted(set(theta_a) - set(theta_b))
        only_b = sorted(set(theta_b) - set(theta_a))
        raise ValueError(
            f"theta_a and theta_b have different keys: only in theta_a {only_a}, "
            f"only in theta_b {only_b}"
        )
    for name in theta_a:
        if theta_a[name].shape != theta_b[name].shape:
            raise ValueError(
                f"theta_a[{name!r}] has shape {tuple(theta_a[name].shape)} but "
                f"theta_b[{name!r}] has shape {tuple(theta_b[name].shape)}"
            )
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number, got {alpha}")
    # (1 - alpha) * tensor creates a new tensor: the inputs are never touched.
    return {name: (1.0 - alpha) * theta_a[name] + alpha * theta_b[name] for name in theta_a}
    ### END SOLUTION
''')

visible("interpolate", r'''
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
''')

hidden("interpolate")

# =============================================================================================
# 2. loss_along_path
# =============================================================================================

md("path-intro", r"""
## 2. The loss along a path

A **path** is any function from $\alpha$ to `Params`: the straight line
`lambda alpha: interpolate(theta_a, theta_b, alpha)`, a Bezier curve (section 4), or anything
else. To see the landscape along it we evaluate the model's loss at many points
$\alpha_1, \dots, \alpha_M$.

The clean way to run a model with parameters that are *not* its own is
`torch.func.functional_call(model, params, (X,))`: it runs `model.forward` with the tensors of
`params` in place of the model's parameters, and leaves the model untouched. Copying the
parameters into the model (`load_state_dict`, `p.copy_(...)`) would change the caller's model —
a side effect the grader checks for.

Three more details of the contract:

* **No gradients.** We only measure, so evaluate inside `with torch.no_grad():` — the returned
  tensor must not carry an autograd graph (important when the path's tensors require grad).
* **The model's current mode.** Evaluate the model in whatever mode (train/eval) it is in and do
  not switch it: layers like dropout or batch norm behave differently in the two modes, and
  choosing the mode is the caller's decision. (The MLPs of this notebook behave the same in both.)
* **Output.** A 1-D tensor with one mean cross-entropy per $\alpha$, in the order of `alphas`.

What to look for later: a flat curve means the path stays in low-loss territory; a bump in
the middle is a **barrier**.
""")

answer("loss_along_path", r'''
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from landscape_lab import Params


def loss_along_path(
    model: nn.Module,
    path: Callable[[float], Params],
    X: torch.Tensor,
    y: torch.Tensor,
    alphas: Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Mean cross-entropy of `model` at the points path(alpha) of a path in weight space.

    Inputs:
    - model: torch.nn.Module giving the architecture. Its own parameter values are not used
      and must not change; evaluate it in its current train/eval mode and leave the mode.
    - path: callable mapping a Python float alpha to Params with every parameter name of
      `model` (e.g. lambda alpha: interpolate(theta_a, theta_b, alpha)).
    - X: tensor of shape (N, D), the inputs.
    - y: int64 tensor of shape (N,), the class labels.
    - alphas: M real numbers (list, tuple, numpy array or 1-D tensor).

    Returns:
    - 1-D tensor of shape (M,): entry i is the mean cross-entropy on (X, y) of the model
      with parameters path(alphas[i]). It does not require grad.

    Hint: torch.func.functional_call(model, params, (X,)) gives the logits with `params` in
    place of the model's parameters; F.cross_entropy(logits, y) is the mean loss. Work
    inside `with torch.no_grad():` and stack the M losses.
    """
    ### BEGIN SOLUTION
    # Buffers (e.g. batch-norm running statistics) are updated in place by a forward pass in
    # train mode; passing clones keeps the model's own buffers untouched.
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    losses = []
    with torch.no_grad():
        for alpha in alphas:
            params = path(float(alpha))
            logits = functional_call(model, {**buffers, **params}, (X,))
            losses.append(F.cross_entropy(logits, y))
    if not losses:
        return torch.empty(0)
    return torch.stack(losses)
    ### END SOLUTION
''')

visible("loss_along_path", r'''
# Visible tests for `loss_along_path` on a tiny MLP.
import torch.nn.functional as F

_data = lab.make_dataset(n_train=64, n_test=1, seed=0)
_X, _y = _data.X_train, _data.y_train
_model = lab.make_mlp(hidden=(8,), seed=0)
_theta_a = lab.params_of(lab.make_mlp(hidden=(8,), seed=1))
_theta_b = lab.params_of(lab.make_mlp(hidden=(8,), seed=2))
_own_before = lab.params_of(_model)

_losses = loss_along_path(_model, lambda alpha: interpolate(_theta_a, _theta_b, alpha),
                          _X, _y, [0.0, 0.5, 1.0])
assert isinstance(_losses, torch.Tensor), f"expected a tensor, got {type(_losses).__name__}"
assert _losses.shape == (3,), f"one loss per alpha: expected shape (3,), got {tuple(_losses.shape)}"
assert not _losses.requires_grad, "the losses must be computed without gradients"
with torch.no_grad():
    _expected_a = F.cross_entropy(torch.func.functional_call(_model, _theta_a, (_X,)), _y)
assert torch.allclose(_losses[0], _expected_a, atol=1e-5), (
    f"at alpha = 0 the loss should be theta_a's, {float(_expected_a):.4f}; got {float(_losses[0]):.4f}")
assert torch.allclose(_losses[2], torch.tensor(lab.cross_entropy(_model, _X, _y, _theta_b)), atol=1e-5), (
    "at alpha = 1 the loss should be theta_b's")
assert all(torch.equal(p, _own_before[k]) for k, p in _model.named_parameters()), (
    "the model's own parameters changed: use functional_call instead of loading the path's parameters")
assert _model.training, "the model's mode changed: do not call model.eval() or model.train()"
print("loss_along_path: visible tests passed; losses", [round(float(v), 4) for v in _losses])
''')

hidden("loss_along_path")

# =============================================================================================
# 3. barriers
# =============================================================================================

md("barrier-intro", r"""
## 3. Barriers: how high is the ridge between two solutions?

Let $L_0, \dots, L_{n-1}$ be the losses measured at $\alpha_0 = 0 < \alpha_1 < \dots <
\alpha_{n-1} = 1$ along the straight line. Two definitions of the **loss barrier** are in use.

**1. Height above the endpoints' mean** — the course text's definition, used by Frankle et al.
(2020), *Linear Mode Connectivity and the Lottery Ticket Hypothesis*:

$$B_{\text{mean}} = \max_i L_i \;-\; \frac{L_0 + L_{n-1}}{2}.$$

(Frankle et al. apply it to the test *error* and call it the error barrier height, or
instability; the course text and this notebook apply the same formula to the loss.)

**2. Height above the chord** — Entezari et al. (2022), *The Role of Permutation Invariance in
Linear Mode Connectivity of Neural Networks*: subtract, at every $\alpha$, the straight line
(the *chord*) between the two endpoint losses,

$$B_{\text{chord}} = \max_i \Big[L_i - \big((1-\alpha_i)\,L_0 + \alpha_i\,L_{n-1}\big)\Big].$$

**When do they differ?** If the endpoint losses are equal, the chord is flat at their mean and
the two definitions agree. If they are not, they can disagree a lot:

* $B_{\text{mean}} \ge |L_0 - L_{n-1}|/2$ always, because the higher endpoint is itself part of
  the maximum. A path that simply goes downhill from one solution to the other, with no bump
  at all — losses `[0.1, 0.5, 1.0]` — has $B_{\text{mean}} = 0.45$ but $B_{\text{chord}} = 0$.
* A bump close to the *lower* endpoint sits where the chord is low, so it counts more in
  $B_{\text{chord}}$: losses `[0.2, 0.9, 0.4, 0.5, 1.0]` (at $\alpha = 0, 0.25, \dots, 1$) give
  $B_{\text{mean}} = 0.4$ and $B_{\text{chord}} = 0.5$.

$B_{\text{chord}}$ measures the bump itself (it is 0 exactly when no measured loss lies above the
chord); $B_{\text{mean}}$ mixes in the difference between the endpoints. Always say which one you
report. Both only see the $\alpha$ values you measured: the true barrier of the continuous path can
only be higher (see the pitfall at the end of this section).

### Worked example 1, revisited

Two ResNet-20 models on CIFAR-10 (accuracies 91.2% and 91.0%) have losses
$L(0) = 0.32$, $L(0.25) = 0.55$, $L(0.5) = 1.42$, $L(0.75) = 0.58$, $L(1) = 0.33$ along the line.
Then $B_{\text{mean}} = 1.42 - \tfrac{0.32 + 0.33}{2} = 1.095$ (about 3.4 times the endpoints'
mean loss of 0.325), and since the endpoint losses are almost equal, $B_{\text{chord}}$ is also
1.095. The models are **not** linearly mode-connected.

> **Correction to the course text.** The text says the midpoint's accuracy "would drop to well
> below random chance". A loss of 1.42 does not say that. A classifier that always predicts the
> uniform distribution over 10 classes has cross-entropy $\ln 10 \approx 2.30$, and 1.42 is well
> *below* that. What the numbers do say is that the loss at the midpoint is more than four times
> the endpoints' loss, so **accuracy drops sharply** there — but a mean loss of 1.42 is
> compatible with accuracies well above the 10% of chance (loss and accuracy are different
> measures: a few confidently wrong examples raise the loss a lot).

The last function of this section turns the definition of linear mode connectivity into a test:
every measured loss must be at most $\max(L_0, L_{n-1}) + \delta$. Compare in float64 (Python
floats): the float32 loss `0.3` is really 0.30000001192..., which exceeds the threshold
`float32(0.2) + 0.1` = 0.30000000298... — unless the sum is rounded back to float32, where it
becomes 0.30000001192... too and the loss wrongly passes.
""")

answer("barrier_height", r'''
import math
from collections.abc import Sequence

import torch


def barrier_height(losses: Sequence[float] | torch.Tensor) -> float:
    """Loss barrier of a path: max loss minus the mean of the two endpoint losses.

    barrier = max(losses) - (losses[0] + losses[-1]) / 2    (course text; Frankle et al., 2020)

    Inputs:
    - losses: at least 2 losses along a path (list, tuple or 1-D tensor), losses[0] at
      alpha = 0 and losses[-1] at alpha = 1. The maximum runs over all values, endpoints
      included.

    Returns:
    - Python float (worked example 1: 1.095).

    Raises:
    - ValueError (naming losses) for fewer than 2 values or a NaN.
    """
    ### BEGIN SOLUTION
    values = [float(v) for v in losses]  # Python floats: float64 arithmetic
    if len(values) < 2:
        raise ValueError(f"losses needs at least 2 values (the two endpoints), got {len(values)}")
    if any(math.isnan(v) for v in values):
        raise ValueError("losses contains NaN")
    return max(values) - (values[0] + values[-1]) / 2.0
    ### END SOLUTION
''')

visible("barrier_height", r'''
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
''')

hidden("barrier_height")

answer("interpolated_barrier", r'''
import math
from collections.abc import Sequence

import torch

ALPHA_ENDPOINT_TOL = 1e-6
"""How far alphas[0] may be from 0, and alphas[-1] from 1."""


def interpolated_barrier(
    losses: Sequence[float] | torch.Tensor,
    alphas: Sequence[float] | torch.Tensor | None = None,
) -> float:
    """Loss barrier above the chord between the endpoint losses (Entezari et al., 2022).

    barrier = max_i [ losses[i] - ((1 - alphas[i]) * losses[0] + alphas[i] * losses[-1]) ]

    Inputs:
    - losses: n >= 2 losses along a path (list, tuple or 1-D tensor).
    - alphas: the n positions of the losses on the path (list, tuple or 1-D tensor), with
      alphas[0] = 0 and alphas[-1] = 1 (within ALPHA_ENDPOINT_TOL). Default (None): evenly
      spaced, alphas[i] = i / (n - 1).

    Returns:
    - Python float. It is >= 0 (the i = 0 term is 0) and equals barrier_height when the
      two endpoint losses are equal.

    Raises:
    - ValueError (naming the argument) for fewer than 2 losses, a NaN loss, a different
      number of alphas and losses, or alphas[0] != 0 / alphas[-1] != 1.
    """
    ### BEGIN SOLUTION
    values = [float(v) for v in losses]
    n = len(values)
    if n < 2:
        raise ValueError(f"losses needs at least 2 values (the two endpoints), got {n}")
    if any(math.isnan(v) for v in values):
        raise ValueError("losses contains NaN")
    if alphas is None:
        positions = [i / (n - 1) for i in range(n)]
    else:
        positions = [float(a) for a in alphas]
        if len(positions) != n:
            raise ValueError(f"alphas has {len(positions)} values but losses has {n}")
        if abs(positions[0]) > ALPHA_ENDPOINT_TOL:
            raise ValueError(f"alphas[0] must be 0 (the first endpoint), got {positions[0]}")
        if abs(positions[-1] - 1.0) > ALPHA_ENDPOINT_TOL:
            raise ValueError(f"alphas[-1] must be 1 (the second endpoint), got {positions[-1]}")
    first, last = values[0], values[-1]
    excess = [loss - ((1.0 - a) * first + a * last) for loss, a in zip(values, positions)]
    return max(excess)
    ### END SOLUTION
''')

visible("interpolated_barrier", r'''
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
''')

hidden("interpolated_barrier")

answer("is_linearly_connected", r'''
import math
from collections.abc import Sequence

import torch


def is_linearly_connected(losses: Sequence[float] | torch.Tensor, delta: float) -> bool:
    """The course text's test of linear mode connectivity on measured losses.

    Connected when every loss <= max(losses[0], losses[-1]) + delta.

    Inputs:
    - losses: at least 2 losses along the straight line (list, tuple or 1-D tensor),
      losses[0] at theta_a and losses[-1] at theta_b.
    - delta: real number, the tolerated excess loss.

    Returns:
    - Python bool. All comparisons in float64: convert float32 losses to Python floats
      before adding delta.

    Raises:
    - ValueError (naming the argument) for fewer than 2 losses, a NaN loss or a NaN delta.
    """
    ### BEGIN SOLUTION
    values = [float(v) for v in losses]
    if len(values) < 2:
        raise ValueError(f"losses needs at least 2 values (the two endpoints), got {len(values)}")
    if any(math.isnan(v) for v in values):
        raise ValueError("losses contains NaN")
    delta = float(delta)
    if math.isnan(delta):
        raise ValueError("delta must not be NaN")
    threshold = max(values[0], values[-1]) + delta
    return all(v <= threshold for v in values)
    ### END SOLUTION
''')

visible("is_linearly_connected", r'''
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
''')

hidden("is_linearly_connected")

md("demo-linear-intro", r"""
### Demonstration: two independently trained networks

The task (`lab.make_dataset()`) is a noisy spiral with four interleaved arms in the plane:
1024 training and 1024 test points, four classes, so chance-level accuracy is 0.25 and
chance-level cross-entropy (predicting the uniform distribution) is $\ln 4 \approx 1.39$. We train
two MLPs (2 → 32 → 32 → 4, ReLU, about 1.3 thousand parameters) with Adam for 500 steps, from
different random initialisations *and* different minibatch orders (seeds 1 and 2). Every
network in this notebook has the same architecture, so one `model` object serves to evaluate
any `Params` with `functional_call`; its own weights are never used.
""")

code("demo-train-independent", r"""
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
""")

code("demo-linear-path", r"""
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
    print(f"barrier above the endpoints' mean (Frankle et al. 2020): {barrier_height(losses_linear):.3f}")
    print(f"barrier above the chord (Entezari et al. 2022):          "
          f"{interpolated_barrier(losses_linear, ALPHAS):.3f}")
    print(f"linearly connected with delta = {DELTA}: {is_linearly_connected(losses_linear, DELTA)}")
""")

md("demo-linear-after", r"""
**What to look for.** Both endpoints have low loss and high accuracy, but the loss (solid line)
rises to a high ridge in the middle of the straight line while the accuracy (dashed) falls towards
the chance level of 0.25; the dotted grey line marks the chance-level loss $\ln 4$. The decision
regions of the averaged network $\theta(0.5)$ no longer follow the spiral. The two definitions of
the barrier print (almost) the same number here because the endpoint losses are almost equal.
So these two solutions are not linearly mode-connected — the straight line between them leaves
the low-loss region. Whether they sit in *different basins* is a different question (section 4).
""")

md("pitfall-grid-intro", r"""
### Pitfall: a coarse grid of $\alpha$ can step over a narrow barrier

Every barrier we compute is the maximum over the $\alpha$ values we *measured*. If the ridge is
narrower than the spacing of the grid, the grid can miss it entirely. The cell below uses a
made-up loss curve with a narrow spike at $\alpha = 0.65$ (not a network, just a function of
$\alpha$) and measures it on a coarse and on a fine grid.
""")

code("demo-coarse-grid", r"""
def spiky_loss(alpha):
    # Low everywhere except a narrow ridge of height 2 around alpha = 0.65.
    return 0.2 + 2.0 * torch.exp(-(((alpha - 0.65) / 0.02) ** 2))


with needs("barrier_height", "interpolated_barrier"):
    for n_points in (5, 11, 201):
        grid = torch.linspace(0.0, 1.0, n_points, dtype=torch.float64)
        print(f"{n_points:4d} alphas: barrier (mean) {barrier_height(spiky_loss(grid)):.3f}, "
              f"barrier (chord) {interpolated_barrier(spiky_loss(grid), grid):.3f}")
""")

md("pitfall-grid-after", r"""
With 5 or 11 evenly spaced points the ridge falls between two grid points and both barriers come
out near 0; the fine grid finds a barrier of about 2. A measured barrier is a *lower bound* on
the barrier of the continuous path. With real networks the loss along the line is usually smooth
on the scale of 0.05 in $\alpha$, but check with a finer grid (or an extra point near the
maximum) before you call two solutions connected.
""")

# =============================================================================================
# 4. Bezier curves
# =============================================================================================

md("bezier-intro", r"""
## 4. Curved paths: Bezier curves (Garipov et al., 2018)

When the straight line crosses a ridge, is there another way around it? Garipov et al. (2018),
*Loss Surfaces, Mode Connectivity, and Fast Ensembling of DNNs*, and independently Draxler et al.
(2018), *Essentially No Barriers in Neural Network Energy Landscape*, found that there usually is:
independently trained solutions are typically joined by simple *curves* along which the loss
stays almost as low as at the endpoints. The simplest such curve is the **quadratic Bezier
curve** with a control point $\theta_{\text{mid}}$:

$$\theta(\alpha) = (1-\alpha)^2\,\theta_a + 2\alpha(1-\alpha)\,\theta_{\text{mid}} + \alpha^2\,\theta_b,
\qquad \alpha \in [0, 1].$$

Its three coefficients are the **Bernstein polynomials** of degree 2. In general,

$$b_{k,n}(\alpha) = \binom{n}{k}\,\alpha^k (1-\alpha)^{n-k},\qquad k = 0, \dots, n,$$

and a Bezier curve of degree $n$ through control points $\theta_0, \dots, \theta_n$ is
$\theta(\alpha) = \sum_k b_{k,n}(\alpha)\,\theta_k$. On $[0, 1]$ the weights are non-negative
and sum to 1 (binomial theorem: $\sum_k b_{k,n}(\alpha) = ((1-\alpha) + \alpha)^n = 1$), so every
point of the curve is a weighted average of the control points. Degree 1 gives back the
straight line: $b_{0,1} = 1-\alpha$, $b_{1,1} = \alpha$.
""")

answer("bernstein_weights", r'''
import math

import torch


def bernstein_weights(degree: int, alpha: float) -> torch.Tensor:
    """The Bernstein basis polynomials of a given degree, evaluated at alpha.

    w_k = C(degree, k) * alpha**k * (1 - alpha)**(degree - k),   k = 0, ..., degree

    Inputs:
    - degree: integer >= 1 (2 for the quadratic Bezier curve).
    - alpha: real number in [0, 1].

    Returns:
    - float64 tensor of shape (degree + 1,); w_0 = (1 - alpha)**degree belongs to the first
      control point (alpha = 0), w_degree = alpha**degree to the last. The weights are
      non-negative and sum to 1.

    Raises:
    - ValueError (naming the argument) for degree < 1 or alpha outside [0, 1].

    Hint: math.comb(n, k) is the binomial coefficient, and in Python 0.0 ** 0 == 1.0, so
    alpha = 0 and alpha = 1 need no special case.
    """
    ### BEGIN SOLUTION
    if isinstance(degree, bool) or int(degree) != degree or degree < 1:
        raise ValueError(f"degree must be an integer >= 1, got {degree!r}")
    degree = int(degree)
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:  # also rejects NaN
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    weights = [
        math.comb(degree, k) * alpha**k * (1.0 - alpha) ** (degree - k)
        for k in range(degree + 1)
    ]
    return torch.tensor(weights, dtype=torch.float64)
    ### END SOLUTION
''')

visible("bernstein_weights", r'''
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
''')

hidden("bernstein_weights")

answer("bezier_point", r'''
import math

import torch
from landscape_lab import Params


def bezier_point(theta_a: Params, theta_mid: Params, theta_b: Params, alpha: float) -> Params:
    """Point on the quadratic Bezier curve from theta_a to theta_b with control theta_mid.

    theta(alpha) = (1-alpha)**2 * theta_a + 2*alpha*(1-alpha) * theta_mid + alpha**2 * theta_b

    Inputs:
    - theta_a: Params, the start of the curve (alpha = 0).
    - theta_mid: Params with the same keys and shapes, the control point.
    - theta_b: Params with the same keys and shapes, the end of the curve (alpha = 1).
    - alpha: real number, normally in [0, 1].

    Returns:
    - Params with theta_a's keys; per key a new tensor (dtype of the inputs). Gradients flow
      to any input that requires grad (train_bezier_midpoint relies on this). With
      theta_mid = (theta_a + theta_b) / 2 the result equals interpolate(theta_a, theta_b,
      alpha).

    Raises:
    - ValueError (naming the arguments) if the keys or shapes of the three dicts differ.
    """
    ### BEGIN SOLUTION
    for other, other_name in ((theta_mid, "theta_mid"), (theta_b, "theta_b")):
        if set(other) != set(theta_a):
            raise ValueError(
                f"theta_a and {other_name} have different keys: "
                f"{sorted(set(theta_a) ^ set(other))}"
            )
        for name in theta_a:
            if other[name].shape != theta_a[name].shape:
                raise ValueError(
                    f"{other_name}[{name!r}] has shape {tuple(other[name].shape)} but "
                    f"theta_a[{name!r}] has shape {tuple(theta_a[name].shape)}"
                )
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number, got {alpha}")
    c_a, c_mid, c_b = (1.0 - alpha) ** 2, 2.0 * alpha * (1.0 - alpha), alpha**2
    return {
        name: c_a * theta_a[name] + c_mid * theta_mid[name] + c_b * theta_b[name]
        for name in theta_a
    }
    ### END SOLUTION
''')

visible("bezier_point", r'''
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
''')

hidden("bezier_point")

md("pp5-intro", r"""
### Practice problem 5: why the control point must be trained

Put $\alpha = 0, 1, \tfrac12$ into the curve:

* $\theta(0) = 1\cdot\theta_a + 0\cdot\theta_{\text{mid}} + 0\cdot\theta_b = \theta_a$ and
  $\theta(1) = \theta_b$: the curve always joins the two solutions, whatever $\theta_{\text{mid}}$ is.
* $\theta(\tfrac12) = \tfrac14\theta_a + \tfrac12\theta_{\text{mid}} + \tfrac14\theta_b$: the curve
  does **not** pass through its control point; it only bends towards it.
* With the untrained choice $\theta_{\text{mid}} = (\theta_a + \theta_b)/2$:
  $(1-\alpha)^2\theta_a + \alpha(1-\alpha)(\theta_a + \theta_b) + \alpha^2\theta_b
  = (1-\alpha)\big[(1-\alpha) + \alpha\big]\theta_a + \alpha\big[(1-\alpha) + \alpha\big]\theta_b
  = (1-\alpha)\theta_a + \alpha\theta_b$ — exactly the straight line, with the same barrier.

The loss along the curve is $\ell(\alpha) = L\big(\theta(\alpha)\big)$; it depends on
$\theta_{\text{mid}}$ only through the middle term. The only free parameter of the curve is
$\theta_{\text{mid}}$, and its natural starting value reproduces the straight line — so to bend
the curve around a ridge, $\theta_{\text{mid}}$ must be *trained*. The cell below checks the three
facts numerically on the two networks of section 3.
""")

code("demo-pp5", r"""
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
""")

md("train-bezier-intro", r"""
### Training the control point

> **Correction to the course text.** The text says the midpoint "is optimised to minimise the
> maximum loss along the curve". That is not how it is done in practice. Garipov et al. (2018)
> minimise the **expected loss along the curve** with $\alpha$ drawn uniformly:
> $$\min_{\theta_{\text{mid}}}\; \mathbb{E}_{\alpha\sim U(0,1)}\; L\big(\theta(\alpha)\big).$$

The expectation is easy to optimise by stochastic gradient descent: each step draws **one**
$\alpha \sim U(0, 1)$ and one minibatch, computes the loss at the point $\theta(\alpha)$ of the
curve, and takes a gradient step on $\theta_{\text{mid}}$ only (the endpoints stay fixed). Each
step is an unbiased estimate of the gradient of the expected loss at the cost of one ordinary
training step. The maximum over $\alpha$ would be much harder: its gradient comes from a single
worst point, which you would have to find first at every step. A low *average* loss does not
guarantee a low *maximum*, so afterwards we measure the maximum on a fine grid of $\alpha$ with the
tools of section 3.

By the chain rule, $\partial L(\theta(\alpha)) / \partial\theta_{\text{mid}} =
2\alpha(1-\alpha)\,\nabla L(\theta(\alpha))$: the control point feels the loss most in the middle of
the curve and not at all at the ends. Autograd works this out for you if `theta_mid` holds leaf
tensors with `requires_grad=True` and the loss is computed through `bezier_point`.

**The protocol** (the grader checks it, so follow it):

1. `g = torch.Generator().manual_seed(seed)`; all randomness comes from `g` (never the global
   generator).
2. `theta_mid` starts at the average of the endpoints, as new tensors that require grad.
3. Each of the `steps` steps: draw `alpha = torch.rand((), generator=g)`, then the minibatch
   indices `torch.randint(0, N, (min(batch_size, N),), generator=g)`; compute the mean
   cross-entropy of the model at `bezier_point(theta_a, theta_mid, theta_b, alpha)` on that
   minibatch (with `functional_call`); take one `torch.optim.Adam` step (learning rate `lr`) on
   `theta_mid`.
4. Return `theta_mid` as detached tensors. `theta_a`, `theta_b`, the data and the model never
   change.
""")

answer("train_bezier_midpoint", r'''
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from landscape_lab import Params


def train_bezier_midpoint(
    model: nn.Module,
    theta_a: Params,
    theta_b: Params,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 500,
    lr: float = 0.01,
    batch_size: int = 128,
    seed: int = 0,
) -> Params:
    """Train the control point of a quadratic Bezier curve between two fixed solutions.

    Minimises the expected loss along the curve, E_{alpha ~ U(0, 1)} L(theta(alpha)), by
    Adam steps on theta_mid only (Garipov et al., 2018).

    Inputs:
    - model: torch.nn.Module giving the architecture (evaluated with functional_call in its
      current mode; its own parameters are not used and must not change).
    - theta_a: Params of the first endpoint (every parameter name of the model).
    - theta_b: Params of the second endpoint, same keys and shapes.
    - X: tensor of shape (N, D), the training inputs.
    - y: int64 tensor of shape (N,), the training labels.
    - steps: int >= 0, the number of Adam steps (0 returns the endpoints' average).
    - lr: float > 0, Adam's learning rate.
    - batch_size: int >= 1, the minibatch size (capped at N).
    - seed: int, seed of the torch.Generator that draws alpha and the minibatches.

    Returns:
    - Params: the trained theta_mid, new detached tensors with theta_a's keys, shapes and
      dtypes.

    Raises:
    - ValueError (naming the argument) for steps < 0, lr <= 0, batch_size < 1, or endpoints
      whose keys or shapes differ.

    Hint: theta_mid = {k: ((theta_a[k] + theta_b[k]) / 2).detach().clone().requires_grad_(True)};
    optimizer = torch.optim.Adam(list(theta_mid.values()), lr=lr). Each step: draw alpha
    (torch.rand((), generator=g)) then the indices (torch.randint(0, N, (m,), generator=g)),
    loss = F.cross_entropy(functional_call(model, bezier_point(...), (X[idx],)), y[idx]),
    then zero_grad, backward, step.
    """
    ### BEGIN SOLUTION
    if set(theta_a) != set(theta_b) or any(
        theta_a[k].shape != theta_b[k].shape for k in theta_a
    ):
        raise ValueError("theta_a and theta_b must have the same keys and shapes")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    generator = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    m = min(batch_size, n)

    # The endpoints are constants: detach them so that no gradient reaches the caller's
    # tensors. The control point starts on the straight line, at the endpoints' average.
    start = {k: v.detach() for k, v in theta_a.items()}
    end = {k: v.detach() for k, v in theta_b.items()}
    theta_mid = {
        k: ((start[k] + end[k]) / 2.0).clone().requires_grad_(True) for k in start
    }
    optimizer = torch.optim.Adam(list(theta_mid.values()), lr=lr)

    with torch.enable_grad():
        for _ in range(steps):
            alpha = float(torch.rand((), generator=generator))  # one alpha ~ U(0, 1)
            idx = torch.randint(0, n, (m,), generator=generator)  # one minibatch
            point = bezier_point(start, theta_mid, end, alpha)
            loss = F.cross_entropy(functional_call(model, point, (X[idx],)), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {k: v.detach().clone() for k, v in theta_mid.items()}
    ### END SOLUTION
''')

visible("train_bezier_midpoint", r'''
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
''')

hidden("train_bezier_midpoint")

md("demo-bezier-intro", r"""
### Demonstration: a curve around the barrier

We train the control point between the two independent solutions of section 3 for 500 Adam steps
on the *training* set, then measure the curve and the straight line on the *test* set.
""")

code("demo-bezier", r"""
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
""")

md("demo-bezier-after", r"""
**What to look for.** The trained curve's loss stays close to the endpoint losses for every
$\alpha$ (a small hump remains; compare its height with the ridge of the straight line), and its
accuracy (dashed) stays high all along: the two solutions are joined by a low-loss path, just not
by a straight one. The curve was trained on the training set, yet the test loss stays low —
the whole curve generalises, not only its endpoints. Note the last line: the control point
itself can have a high loss; it is not a point of the curve, it only pulls the curve towards it.

This is why **a barrier on the straight line does not prove that two solutions lie in separate
basins**: a curved low-loss path may exist. "Not linearly connected" is a statement about one
particular path.
""")

# =============================================================================================
# 5. basins
# =============================================================================================

md("basins-intro", r"""
## 5. Basins of many solutions (practice problem 1)

**Practice problem 1.** Three independent runs give solutions $\theta_1, \theta_2, \theta_3$ with
losses 0.15, 0.16, 0.17. The straight line between (1, 2) has max loss 0.18; between (2, 3) it
has max loss 0.95. What does this say about the landscape?

With the barrier of section 3: pair (1, 2) has $0.18 - 0.155 = 0.025$, negligible, and pair (2, 3)
has $0.95 - 0.165 = 0.785$, large. Generalise this to $n$ solutions: draw a graph with one node
per solution and an edge between $i$ and $j$ when they are linearly connected,

$$\max_\alpha L\big(\theta(\alpha)\big) \;\le\; \max(L_i, L_j) + \delta ,$$

and call the **connected components** of this graph the *linear basins*. With $\delta = 0.05$ and
the solutions numbered from 0 (so $\theta_1, \theta_2, \theta_3$ are 0, 1, 2), practice problem 1
gives `[{0, 1}, {2}]`.

Read the result with care:

* **Linear connectivity is not transitive.** If 0–1 and 1–2 are connected but 0–2 is not, all
  three are in one component: they are joined by a path with a bend at solution 1 (a polygonal
  chain, another curve family of Garipov et al.), not by straight lines. A "basin" here is a
  set joined by piecewise-linear low-loss paths, not a convex region.
* **An absent pair is not measured**, and is treated as not connected. In practice problem 1 the
  pair (1, 3) was never measured.
* **A barrier on the straight line does not prove separate basins** (section 4: a curved path
  may exist). So `linear_basins` groups solutions conservatively: two solutions in different
  groups may still be connected by a curve. The course text's conclusion "the landscape has at
  least two distinct basins" claims more than the data show.

(The written answer to practice problem 1 goes into notebook 04.)
""")

answer("linear_basins", r'''
import math
from collections.abc import Mapping, Sequence

import torch


def linear_basins(
    endpoint_losses: Sequence[float] | torch.Tensor,
    path_max_losses: Mapping[tuple[int, int], float],
    delta: float,
) -> list[set[int]]:
    """Group solutions into basins by linear connectivity (practice problem 1).

    Inputs:
    - endpoint_losses: n losses L_0, ..., L_{n-1}, one per solution (list or 1-D tensor).
    - path_max_losses: dict mapping a pair (i, j) of two different solutions (given in either
      order; each unordered pair at most once) to the max loss on the straight line between
      them. Pairs that are absent are not connected.
    - delta: real number. Pair (i, j) is connected when its max loss <= max(L_i, L_j) + delta
      (compare Python floats).

    Returns:
    - list of sets of ints: the connected components of the graph on 0, ..., n-1 whose edges
      are the connected pairs, sorted by their smallest member. A solution without any
      connected pair is a basin of its own.

    Raises:
    - ValueError (naming the argument) for NaN losses, or a pair that names a solution
      outside 0..n-1, the same solution twice, or appears twice.

    Hint: build a neighbour list, then grow each component from its smallest unvisited
    solution with a stack (depth-first search) or a queue.
    """
    ### BEGIN SOLUTION
    losses = [float(v) for v in endpoint_losses]
    if any(math.isnan(v) for v in losses):
        raise ValueError("endpoint_losses contains NaN")
    delta = float(delta)
    n = len(losses)

    # 1. The graph: an edge for every linearly connected pair.
    neighbours: dict[int, set[int]] = {i: set() for i in range(n)}
    seen_pairs = set()
    for (i, j), max_loss in path_max_losses.items():
        i, j = int(i), int(j)
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ValueError(
                f"path_max_losses key {(i, j)} must name two different solutions in 0..{n - 1}"
            )
        if frozenset((i, j)) in seen_pairs:
            raise ValueError(f"path_max_losses names the pair {{{i}, {j}}} twice")
        seen_pairs.add(frozenset((i, j)))
        if float(max_loss) <= max(losses[i], losses[j]) + delta:
            neighbours[i].add(j)
            neighbours[j].add(i)

    # 2. Connected components. Starting from the smallest unvisited solution each time makes
    #    the list come out sorted by smallest member.
    basins: list[set[int]] = []
    visited: set[int] = set()
    for start in range(n):
        if start in visited:
            continue
        basin = {start}
        stack = [start]
        while stack:
            i = stack.pop()
            for j in neighbours[i] - basin:
                basin.add(j)
                stack.append(j)
        visited |= basin
        basins.append(basin)
    return basins
    ### END SOLUTION
''')

visible("linear_basins", r'''
# Visible tests for `linear_basins`.
_basins = linear_basins([0.15, 0.16, 0.17], {(0, 1): 0.18, (1, 2): 0.95}, 0.05)
assert isinstance(_basins, list) and all(isinstance(s, set) for s in _basins), (
    f"return a list of sets, got {_basins!r}")
assert _basins == [{0, 1}, {2}], f"practice problem 1: expected [{{0, 1}}, {{2}}], got {_basins}"
assert linear_basins([0.15, 0.16, 0.17], {(1, 0): 0.18, (2, 1): 0.95}, 0.05) == [{0, 1}, {2}], (
    "a pair may be given in either order")
assert linear_basins([0.1, 0.1, 0.1], {(0, 1): 0.12, (1, 2): 0.12, (0, 2): 0.9}, 0.05) == [{0, 1, 2}], (
    "basins are connected components: 0-1 and 1-2 connected puts 0, 1, 2 together")
assert linear_basins([0.2, 0.3, 0.1], {}, 0.05) == [{0}, {1}, {2}], (
    "with no connected pairs every solution is a basin of its own")
print("linear_basins: visible tests passed")
''')

hidden("linear_basins")

md("demo-basins-intro", r"""
### Demonstration: spawning from a shared checkpoint

Frankle et al. (2020) asked *when* during training the outcome of a run is settled: train one
network for $k$ steps, make two copies, and continue each with different SGD noise (here: a
different minibatch order). If the two finished copies are linearly connected, the network was
already "stable" at step $k$. Small networks such as LeNet on MNIST were stable already at
initialisation; larger ones such as ResNet-20 on CIFAR-10 became stable only after a short
phase early in training.

We add four solutions to the two independent ones, all four from one initialisation (seed 3):
two copies spawned at step 0 (same initialisation, different minibatch orders) and two copies
spawned at step 50 of one run, each copy trained for another 500 steps. Then we measure the straight line between all 15 pairs and
group the six solutions with `linear_basins`.
""")

code("demo-train-spawned", r"""
import copy

SPAWN_STEPS = (0, 50)  # the step at which the two copies are made


def spawn_pair(k, base_seed=3, copy_seeds=(4, 5)):
    # Train one network for k steps, then finish two copies with different minibatch orders.
    base = lab.make_mlp(seed=base_seed)
    lab.train(base, X_train, y_train, steps=k, lr=TRAIN_LR, batch_size=TRAIN_BATCH, seed=base_seed)
    children = []
    for seed in copy_seeds:
        child = copy.deepcopy(base)
        lab.train(child, X_train, y_train, steps=TRAIN_STEPS, lr=TRAIN_LR, batch_size=TRAIN_BATCH,
                  seed=seed)
        children.append(lab.params_of(child))
    return children


thetas = [theta_a, theta_b]
names = ["independent (seed 1)", "independent (seed 2)"]
for k in SPAWN_STEPS:
    thetas += spawn_pair(k)
    names += [f"spawned at step {k}, copy 1", f"spawned at step {k}, copy 2"]
for i, (name, theta) in enumerate(zip(names, thetas)):
    loss, acc = lab.evaluate(model, X_test, y_test, theta)
    print(f"{i}: {name:28s} test loss {loss:.3f}, accuracy {acc:.3f}")
""")

code("demo-basins", r"""
with needs("interpolate", "loss_along_path", "barrier_height", "linear_basins"):
    def straight_line(p, q):
        return lambda alpha: interpolate(p, q, alpha)

    endpoint_losses = [lab.cross_entropy(model, X_test, y_test, theta) for theta in thetas]
    path_max_losses, barriers = {}, {}
    for i in range(len(thetas)):
        for j in range(i + 1, len(thetas)):
            losses = loss_along_path(model, straight_line(thetas[i], thetas[j]),
                                     X_test, y_test, ALPHAS)
            path_max_losses[(i, j)] = float(losses.max())
            barriers[(i, j)] = barrier_height(losses)
    basins = linear_basins(endpoint_losses, path_max_losses, DELTA)

    print(" pair   max loss on the line   barrier (mean)")
    for (i, j), max_loss in path_max_losses.items():
        print(f"({i}, {j})   {max_loss:8.3f}             {barriers[(i, j)]:8.3f}")
    print(f"\nlinear basins with delta = {DELTA}: {basins}")
""")

md("demo-basins-after", r"""
**What to look for.** The two copies spawned at step 50 (solutions 4 and 5) form one linear basin:
the loss along their straight line barely rises. Every other solution is alone. Solutions 2 to 5
share one initialisation, and the barriers among them are far lower than between different
initialisations — but the copies spawned at step 0 still rise more than $\delta$ above their
endpoints, between themselves and towards the others. After only 50 of 550 steps the run has
committed to a region of the landscape that different minibatch orders no longer leave. Remember the caveat of section 4: "alone" here means "not linearly
connected", not "in a separate basin" — the trained Bezier curve showed that the two independent
solutions are joined by a curved low-loss path.
""")

# =============================================================================================
# 6. merging
# =============================================================================================

md("merging-intro", r"""
## 6. Merging: weight averaging versus ensembles

Two ways to combine $M$ trained networks $\theta_1, \dots, \theta_M$ of one architecture:

* **Ensemble** — average the *predictions*:
  $p(y \mid x) = \frac1M \sum_m \operatorname{softmax}\big(f(x; \theta_m)\big)$.
  It needs $M$ forward passes per input, but works for any members, connected or not; an
  ensemble is usually at least as accurate as its members.
* **Weight average** — average the *parameters*, $\bar\theta = \sum_m w_m \theta_m$ with
  $w_m \ge 0$, $\sum_m w_m = 1$, and run one network. It costs one forward pass, but a network is
  not linear in its weights: $f(x; \bar\theta)$ is not the average of the members' outputs.
  For two members with equal weights, $\bar\theta = \theta(\tfrac12)$ is the midpoint of their
  straight line — so the weight average is only as good as the loss in the middle of that line.
  **Weight averaging works when the members are linearly connected**, and fails on a barrier.

This is the idea behind averaging several networks fine-tuned from one shared pre-trained
checkpoint ("model soups", Wortsman et al., 2022) and behind stochastic weight averaging along
one training run (Izmailov et al., 2018): both average solutions that lie in one linear basin.
Entezari et al. (2022) conjecture that most barriers between independently trained networks
come from the permutation symmetry of hidden units (reordering a layer's units, together with
the next layer's inputs, gives the same function with different weights), so that after a
suitable permutation of one network's units even independent solutions would be linearly
connected.

Two details of the contract: the weights of `average_params` must be non-negative and sum to 1
up to a tolerance of $10^{-6}$ (ten weights of 0.1 sum to 0.9999999999999999 in floating point,
which must be accepted); and `ensemble_probs` takes the softmax of each member first and then the
mean — the softmax of the mean logits is a different quantity.
""")

answer("average_params", r'''
import math
from collections.abc import Sequence

import torch
from landscape_lab import Params

WEIGHT_SUM_TOL = 1e-6
"""How far the weights of average_params may sum from 1."""


def average_params(
    params_list: Sequence[Params],
    weights: Sequence[float] | torch.Tensor | None = None,
) -> Params:
    """Weighted average of parameter dicts ("weight averaging", "model soup").

    result[k] = sum_i weights[i] * params_list[i][k]

    Inputs:
    - params_list: non-empty list of Params with identical keys and shapes.
    - weights: optional list or 1-D tensor with one non-negative weight per member, summing
      to 1 (within WEIGHT_SUM_TOL). Default (None): uniform, 1 / len(params_list) each.

    Returns:
    - Params with params_list[0]'s keys; per key a new tensor of the members' dtype.

    Raises:
    - ValueError (naming the argument) for an empty list, members whose keys or shapes
      differ, a wrong number of weights, negative weights, or weights not summing to 1.
    """
    ### BEGIN SOLUTION
    members = list(params_list)
    if not members:
        raise ValueError("params_list is empty: at least one parameter dict is needed")
    first = members[0]
    for i, member in enumerate(members[1:], start=1):
        if set(member) != set(first):
            raise ValueError(f"params_list[{i}] has different keys from params_list[0]")
        for name in first:
            if member[name].shape != first[name].shape:
                raise ValueError(
                    f"params_list[{i}][{name!r}] has shape {tuple(member[name].shape)}, "
                    f"params_list[0][{name!r}] has shape {tuple(first[name].shape)}"
                )

    if weights is None:
        w = [1.0 / len(members)] * len(members)
    else:
        w = [float(v) for v in weights]  # Python floats keep the members' dtype
        if len(w) != len(members):
            raise ValueError(f"weights has {len(w)} values but params_list has {len(members)}")
        if any(math.isnan(v) or v < 0 for v in w):
            raise ValueError(f"weights must be non-negative numbers, got {w}")
        if abs(math.fsum(w) - 1.0) > WEIGHT_SUM_TOL:
            raise ValueError(f"weights must sum to 1, got {math.fsum(w)}")

    return {
        name: sum(weight * member[name] for weight, member in zip(w, members))
        for name in first
    }
    ### END SOLUTION
''')

visible("average_params", r'''
# Visible tests for `average_params`.
_p1 = {"w": torch.tensor([0.0, 4.0]), "b": torch.tensor(1.0)}
_p2 = {"w": torch.tensor([2.0, 0.0]), "b": torch.tensor(3.0)}
_avg = average_params([_p1, _p2])
assert isinstance(_avg, dict) and set(_avg) == {"w", "b"}, "return a dict with the members' keys"
assert torch.allclose(_avg["w"], torch.tensor([1.0, 2.0])), f"uniform average: expected [1, 2], got {_avg['w']}"
assert torch.allclose(_avg["b"], torch.tensor(2.0)), f"uniform average: expected b = 2, got {_avg['b']}"
_weighted = average_params([_p1, _p2], [0.25, 0.75])
assert torch.allclose(_weighted["w"], torch.tensor([1.5, 1.0])), (
    f"weights [0.25, 0.75]: 0.25 * [0, 4] + 0.75 * [2, 0] = [1.5, 1.0], got {_weighted['w']}")
assert torch.equal(_p1["w"], torch.tensor([0.0, 4.0])), "a member was modified"
for _bad in (([],), ([_p1, _p2], [0.5, 0.6])):
    try:
        average_params(*_bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"average_params{_bad!r} should raise ValueError")
print("average_params: visible tests passed")
''')

hidden("average_params")

answer("ensemble_probs", r'''
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call

from landscape_lab import Params


def ensemble_probs(model: nn.Module, params_list: Sequence[Params], X: torch.Tensor) -> torch.Tensor:
    """Class probabilities of an ensemble: the mean of the members' softmax outputs.

    Inputs:
    - model: torch.nn.Module giving the architecture; evaluated with each member's Params
      through functional_call, in its current mode (not modified).
    - params_list: non-empty list of Params, each naming every parameter of the model.
    - X: tensor of shape (N, D), the inputs.

    Returns:
    - tensor of shape (N, C): mean over members m of softmax(model(X; params_list[m]),
      dim=-1). Rows sum to 1; it does not require grad.

    Raises:
    - ValueError (naming params_list) for an empty list.

    Hint: softmax each member's logits first, then average (not the softmax of the average
    logits); compute inside `with torch.no_grad():`.
    """
    ### BEGIN SOLUTION
    members = list(params_list)
    if not members:
        raise ValueError("params_list is empty: an ensemble needs at least one member")
    with torch.no_grad():
        probs = [torch.softmax(functional_call(model, dict(p), (X,)), dim=-1) for p in members]
        return torch.stack(probs).mean(dim=0)
    ### END SOLUTION
''')

visible("ensemble_probs", r'''
# Visible tests for `ensemble_probs`.
_data = lab.make_dataset(n_train=16, n_test=1, seed=0)
_model = lab.make_mlp(hidden=(8,), seed=0)
_members = [lab.params_of(lab.make_mlp(hidden=(8,), seed=s)) for s in (1, 2)]
_probs = ensemble_probs(_model, _members, _data.X_train)
assert isinstance(_probs, torch.Tensor), f"return a tensor, got {type(_probs).__name__}"
assert _probs.shape == (16, lab.NUM_CLASSES), f"expected shape (16, {lab.NUM_CLASSES}), got {tuple(_probs.shape)}"
assert torch.allclose(_probs.sum(dim=1), torch.ones(16)), "every row of probabilities sums to 1"
assert not _probs.requires_grad, "compute the probabilities without gradients"
with torch.no_grad():
    _single = torch.softmax(torch.func.functional_call(_model, _members[0], (_data.X_train,)), dim=-1)
assert torch.allclose(ensemble_probs(_model, _members[:1], _data.X_train), _single, atol=1e-6), (
    "an ensemble of one member is that member's softmax")
print("ensemble_probs: visible tests passed")
''')

hidden("ensemble_probs")

md("demo-merging-intro", r"""
### Demonstration: when does the weight average work?

We compare, on the test set, the two members, their equal-weight average and their ensemble, for
the independent pair (solutions 0 and 1) and for the pair spawned at step 50 (solutions 4 and 5).
""")

code("demo-merging", r"""
def ensemble_accuracy(members):
    probs = ensemble_probs(model, members, X_test)
    return float((probs.argmax(dim=1) == y_test).double().mean())


with needs("average_params", "ensemble_probs"):
    pairs = {"independent (0, 1)": (thetas[0], thetas[1]),
             "spawned at step 50 (4, 5)": (thetas[4], thetas[5])}
    averages = {label: average_params([p, q]) for label, (p, q) in pairs.items()}
    ensembles = {label: ensemble_accuracy([p, q]) for label, (p, q) in pairs.items()}

    print(f"{'pair':28s} {'member 1':>9s} {'member 2':>9s} {'weight avg':>11s} {'ensemble':>9s}")
    for label, (p, q) in pairs.items():
        print(f"{label:28s} {test_accuracy(p):9.3f} {test_accuracy(q):9.3f} "
              f"{test_accuracy(averages[label]):11.3f} {ensembles[label]:9.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (label, theta) in zip(axes, averages.items()):
        lab.plot_decision_boundary(model, X_test, y_test, params=theta, ax=ax,
                                   title=f"weight average, {label}")
    plt.show()
""")

md("demo-merging-after", r"""
**What to look for.** (Test accuracy; chance is 0.25.) For the pair spawned from a shared
checkpoint the weight average is about as accurate as the ensemble and the members — one network
for the price of one forward pass. For the independent pair the ensemble is still good, but the
weight average falls to about chance: it sits on top of the barrier of section 3, and its decision
regions (left) no longer follow the spiral. Weight averaging needs linear connectivity; ensembling
does not.
""")

# =============================================================================================
# Summary
# =============================================================================================

md("summary", r"""
## Summary

* **Linear mode connectivity** (Frankle et al., 2020): the loss along
  $\theta(\alpha) = (1-\alpha)\theta_a + \alpha\theta_b$ stays within $\delta$ of the worse endpoint
  for all $\alpha\in[0,1]$.
* **Barriers** are measured on a grid of $\alpha$, by two definitions: above the endpoints' mean
  (Frankle et al., 2020; the course text) or above the chord between the endpoint losses
  (Entezari et al., 2022). They agree when the endpoint losses are equal.
* **Linear vs nonlinear connectivity.** Independently trained networks are typically *not*
  linearly connected, but a quadratic Bezier curve whose control point is trained on the
  expected loss along the curve (Garipov et al., 2018) joins them with low loss all along;
  Draxler et al. (2018) found the same with a different path-finding method.
* **Basins.** Linear connectivity of many solutions defines a graph; its connected components are
  linear basins (practice problem 1). Networks spawned from a shared early checkpoint land in one
  linear basin (Frankle et al., 2020).
* **Merging.** Weight averaging matches an ensemble only inside a linear basin; ensembles work
  for any members but cost one forward pass per member.

## Pitfalls

1. **The direction of $\alpha$.** Here $\alpha = 0$ is $\theta_a$; the course text's
   $\alpha\theta_1 + (1-\alpha)\theta_2$ puts $\alpha$ on the other end. Fix one convention.
2. **A barrier on the straight line does not prove separate basins** — a curved low-loss path may
   exist (section 4). And a low-loss straight line is itself a low-loss connecting path, so it
   does show that the two solutions are connected.
3. **A coarse grid of $\alpha$ can step over a narrow barrier.** A measured barrier is a lower
   bound; refine the grid near the maximum before concluding "connected".
4. **Say which barrier you report.** The two definitions differ when the endpoint losses differ;
   the mean-based one is at least half the endpoint gap even for a path with no bump.
5. **Loss is not accuracy.** A midpoint loss of 1.42 on a 10-class problem is below the
   chance-level loss $\ln 10 \approx 2.30$: accuracy drops sharply, but nothing says it falls below
   chance.
6. **The trained Bezier midpoint minimises the expected loss, not the maximum** — measure the
   maximum along the curve afterwards, and remember that the control point itself is not on the
   curve.
7. **Measure without side effects.** Use `functional_call` and `torch.no_grad()`; never load a
   path's parameters into the caller's model or change its train/eval mode.

*Next:* notebook 02 looks at the local geometry of a single minimum — curvature, sharpness and
two-dimensional pictures of the landscape.
""")

# =============================================================================================

builder.write(OUT, total=TOTAL)
