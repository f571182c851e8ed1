# %% [markdown] id="path-intro"
# ## 2. The loss along a path
#
# A **path** is any function from $\alpha$ to `Params`: the straight line
# `lambda alpha: interpolate(theta_a, theta_b, alpha)`, a Bezier curve (section 4), or anything
# else. To see the landscape along it we evaluate the model's loss at many points
# $\alpha_1, \dots, \alpha_M$.
#
# The clean way to run a model with parameters that are *not* its own is
# `torch.func.functional_call(model, params, (X,))`: it runs `model.forward` with the tensors of
# `params` in place of the model's parameters, and leaves the model untouched. Copying the
# parameters into the model (`load_state_dict`, `p.copy_(...)`) would change the caller's model —
# a side effect the grader checks for.
#
# Three more details of the contract:
#
# * **No gradients.** We only measure, so evaluate inside `with torch.no_grad():` — the returned
#   tensor must not carry an autograd graph (important when the path's tensors require grad).
# * **The model's current mode.** Evaluate the model in whatever mode (train/eval) it is in and do
#   not switch it: layers like dropout or batch norm behave differently in the two modes, and
#   choosing the mode is the caller's decision. (The MLPs of this notebook behave the same in both.)
# * **Output.** A 1-D tensor with one mean cross-entropy per $\alpha$, in the order of `alphas`.
#
# What to look for later: a flat curve means the path stays in low-loss territory; a bump in
# the middle is a **barrier**.

# %% id="loss-along-path-solution" role="answer" solution="loss_along_path"
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from landscape_lab import Params

# %% role="visible" item="loss_along_path"
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

# %% role="hidden" item="loss_along_path"
