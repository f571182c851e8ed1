# %% [markdown] id="merging-intro"
# ## 6. Merging: weight averaging versus ensembles
#
# Two ways to combine $M$ trained networks $\theta_1, \dots, \theta_M$ of one architecture:
#
# * **Ensemble** — average the *predictions*:
#   $p(y \mid x) = \frac1M \sum_m \operatorname{softmax}\big(f(x; \theta_m)\big)$.
#   It needs $M$ forward passes per input, but works for any members, connected or not; an
#   ensemble is usually at least as accurate as its members.
# * **Weight average** — average the *parameters*, $\bar\theta = \sum_m w_m \theta_m$ with
#   $w_m \ge 0$, $\sum_m w_m = 1$, and run one network. It costs one forward pass, but a network is
#   not linear in its weights: $f(x; \bar\theta)$ is not the average of the members' outputs.
#   For two members with equal weights, $\bar\theta = \theta(\tfrac12)$ is the midpoint of their
#   straight line — so the weight average is only as good as the loss in the middle of that line.
#   **Weight averaging works when the members are linearly connected**, and fails on a barrier.
#
# This is the idea behind averaging several networks fine-tuned from one shared pre-trained
# checkpoint ("model soups", Wortsman et al., 2022) and behind stochastic weight averaging along
# one training run (Izmailov et al., 2018): both average solutions that lie in one linear basin.
# Entezari et al. (2022) conjecture that most barriers between independently trained networks
# come from the permutation symmetry of hidden units (reordering a layer's units, together with
# the next layer's inputs, gives the same function with different weights), so that after a
# suitable permutation of one network's units even independent solutions would be linearly
# connected.
#
# Two details of the contract: the weights of `average_params` must be non-negative and sum to 1
# up to a tolerance of $10^{-6}$ (ten weights of 0.1 sum to 0.9999999999999999 in floating point,
# which must be accepted); and `ensemble_probs` takes the softmax of each member first and then the
# mean — the softmax of the mean logits is a different quantity.

# %% id="average-params-solution" role="answer" solution="average_params"
import math
from collections.abc import Sequence

import torch
from landscape_lab import Params

WEIGHT_SUM_TOL = 1e-6
"""How far the weights of average_params may sum from 1."""

# %% role="visible" item="average_params"
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

# %% role="hidden" item="average_params"

# %% id="ensemble-probs-solution" role="answer" solution="ensemble_probs"
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call

from landscape_lab import Params

# %% role="visible" item="ensemble_probs"
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

# %% role="hidden" item="ensemble_probs"

# %% [markdown] id="demo-merging-intro"
# ### Demonstration: when does the weight average work?
#
# We compare, on the test set, the two members, their equal-weight average and their ensemble, for
# the independent pair (solutions 0 and 1) and for the pair spawned at step 50 (solutions 4 and 5).

# %% id="demo-merging" role="demo"
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

# %% [markdown] id="demo-merging-after"
# **What to look for.** (Test accuracy; chance is 0.25.) For the pair spawned from a shared
# checkpoint the weight average is about as accurate as the ensemble and the members (about 0.92,
# against 0.94 for the ensemble and 0.92 for each member) — one network for the price of one
# forward pass. For the independent pair the ensemble is still good (about 0.93), but the weight
# average falls to about chance (0.25): it sits on top of the barrier of section 3, and its
# decision regions (left) no longer follow the spiral. Weight averaging needs linear connectivity;
# ensembling does not. (Section 7 aligns the hidden units of the independent pair first: their
# weight average then works much better.)
