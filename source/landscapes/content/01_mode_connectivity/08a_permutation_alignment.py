# %% [markdown] id="permutation-intro"
# ## 7. Permutation symmetry: align the hidden units, then interpolate
#
# Section 3 found a barrier of about 1.6 on the straight line between two networks trained from
# different seeds. Part of it is an artefact of *bookkeeping*. The hidden units of a layer have no
# natural order: list them in another order — the rows of the layer's weight matrix $W_{\text{in}}$
# and the entries of its bias $b$, together with the columns of the next layer's weight
# $W_{\text{out}}$ — and the network computes exactly the same function. With a permutation
# matrix $P$, and $\sigma$ the ReLU acting entry by entry (so $\sigma(Pz) = P\,\sigma(z)$),
#
# $$W_{\text{out}}P^\top\,\sigma\big(P W_{\text{in}}\,x + P b\big)
#   = W_{\text{out}}P^\top P\,\sigma\big(W_{\text{in}}\,x + b\big)
#   = W_{\text{out}}\,\sigma\big(W_{\text{in}}\,x + b\big).$$
#
# Every solution of our MLP with two hidden layers of 32 units therefore has
# $32!^2 \approx 7\times10^{70}$ copies, all with the same loss, at different places in weight space.
# Two independent runs have no reason to list similar units in the same order, and the midpoint
# $\theta(\tfrac12)$ then averages unit $i$ of one network with an unrelated unit $i$ of the other.
# **Entezari et al. (2022)** conjecture that, once this symmetry is taken into account, networks
# trained by SGD (wide enough) have *no* barrier on the straight line between them: there is a
# permutation of one network's units after which the two are linearly connected.
#
# **Weight matching** (Ainsworth, Hayase & Srinivasa, 2023, *Git Re-Basin*) looks for that
# permutation one hidden layer at a time. Describe hidden unit $i$ by one vector
# $u[i] = \big(\text{row } i \text{ of } W_{\text{in}},\; b[i],\; \text{column } i \text{ of } W_{\text{out}}\big)$
# and find the permutation $\pi$ of params_b's units that makes them most similar to params_a's:
#
# $$\max_\pi\; \sum_i \big\langle u_a[i],\, u_b[\pi(i)]\big\rangle, \qquad
#   S = W_{\text{in},a}W_{\text{in},b}^\top + b_a b_b^\top + W_{\text{out},a}^\top W_{\text{out},b},
#   \quad S[i, j] = \langle u_a[i], u_b[j]\rangle .$$
#
# This is a **linear assignment problem** on the $h\times h$ matrix $S$: choose one entry in every
# row and every column with the largest sum. It is solved exactly in $O(h^3)$ (the Hungarian
# method; `scipy.optimize.linear_sum_assignment(S, maximize=True)`). Matching greedily is not
# enough: for $S = \begin{pmatrix}10 & 9\\ 9 & 1\end{pmatrix}$ the largest pair first gives
# $10 + 1 = 11$, while swapping the two units gives $9 + 9 = 18$.
#
# `align_hidden_units(params_a, params_b, layer_in, layer_out)` aligns one hidden layer. The layers
# are named by the prefix of their keys: in `lab.make_mlp`'s `nn.Sequential` the Linear layers are
# `"0"`, `"2"`, `"4"`, so the first hidden layer lies between `"0"` and `"2"`, the second between
# `"2"` and `"4"`. Unit $i$ of the result is unit $\pi(i)$ of params_b: row $i$ of
# `params[layer_in + ".weight"]` and entry $i$ of its bias (if the layer has one) come from row and
# entry $\pi(i)$ of params_b's, column $i$ of `params[layer_out + ".weight"]` from column $\pi(i)$;
# every other key, `layer_out`'s bias included, is params_b's unchanged. Where several
# permutations tie for the maximum, any of them is right: the grader checks that your result is
# params_b with its units reordered, that the network's function is unchanged, and that its total
# similarity is the largest possible, not which of the tied permutations you chose.
#
# In a deeper network the layers are coupled: the outgoing weights of one hidden layer are the
# incoming weights of the next, whose own order is still being decided. Weight matching therefore
# aligns one layer at a time, with the others fixed, and repeats until a whole pass moves no unit
# (coordinate descent; finding the best permutations of all layers at once is NP-hard).

# %% id="align-hidden-units-solution" role="answer" solution="align_hidden_units"
from collections.abc import Mapping

import torch
from scipy.optimize import linear_sum_assignment

from landscape_lab import Params

# %% role="visible" item="align_hidden_units"
# Visible tests for `align_hidden_units`.
_pa = {"0.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
       "0.bias": torch.tensor([0.1, 0.2, 0.3]),
       "2.weight": torch.tensor([[1.0, 2.0, 3.0]]),
       "2.bias": torch.tensor([0.5])}
_order = [2, 0, 1]  # unit i of _pb is unit _order[i] of _pa
_pb = {"0.weight": _pa["0.weight"][_order], "0.bias": _pa["0.bias"][_order],
       "2.weight": _pa["2.weight"][:, _order], "2.bias": _pa["2.bias"].clone()}
_aligned = align_hidden_units(_pa, _pb, "0", "2")
assert isinstance(_aligned, dict) and list(_aligned) == list(_pb), "return a dict with params_b's keys"
for _k in _pa:
    assert torch.equal(_aligned[_k], _pa[_k]), (
        f"params_b is params_a with its hidden units shuffled, so aligned it is params_a again; "
        f"{_k}: expected {_pa[_k].tolist()}, got {_aligned[_k].tolist()}")
assert torch.equal(_pb["0.bias"], torch.tensor([0.3, 0.1, 0.2])), "params_b was modified"
# The greedy trap of the text: S = [[10, 9], [9, 1]]; the best permutation swaps the units.
_ga = {"0.weight": torch.eye(2), "2.weight": torch.zeros(1, 2)}
_gb = {"0.weight": torch.tensor([[10.0, 9.0], [9.0, 1.0]]), "2.weight": torch.tensor([[1.0, 2.0]])}
_swapped = align_hidden_units(_ga, _gb, "0", "2")
assert _swapped["0.weight"].tolist() == [[9.0, 1.0], [10.0, 9.0]], (
    f"solve the assignment exactly (a greedy matching keeps this order): got {_swapped['0.weight'].tolist()}")
assert _swapped["2.weight"].tolist() == [[2.0, 1.0]], "the columns of layer_out's weight move with the units"
# Two different networks: the aligned copy of the second computes the same function.
_net = lab.make_mlp(hidden=(6, 5), seed=0)
_p1, _p2 = lab.params_of(lab.make_mlp(hidden=(6, 5), seed=1)), lab.params_of(lab.make_mlp(hidden=(6, 5), seed=2))
_X = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    for _layers in (("0", "2"), ("2", "4")):
        _out = torch.func.functional_call(_net, align_hidden_units(_p1, _p2, *_layers), (_X,))
        assert torch.allclose(_out, torch.func.functional_call(_net, _p2, (_X,)), atol=1e-5), (
            f"layers {_layers}: the network computes another function: move each unit's row of "
            "layer_in's weight, its bias entry and its column of layer_out's weight together")
try:
    align_hidden_units(_pa, _pb, "1", "2")
except ValueError:
    pass
else:
    raise AssertionError("align_hidden_units(..., '1', '2') should raise ValueError: '1' is the ReLU, it has no weight")
print("align_hidden_units: visible tests passed")

# %% role="hidden" item="align_hidden_units"

# %% [markdown] id="demo-permutation-intro"
# ### Demonstration: the barrier before and after alignment
#
# We align $\theta_b$ of section 3 to $\theta_a$: both hidden layers of 32 units, one after the
# other, pass after pass until no unit moves. Then we measure the loss along the straight line
# from $\theta_a$ to the aligned $\theta_b$, and do the same for a pair of wider networks (two
# hidden layers of 64 units), trained from the same two seeds in the same way. The barrier is
# measured above the chord (Entezari et al.'s definition); the dotted line in the plot is the
# chance-level loss $\ln 4$.

# %% id="demo-permutation" role="demo"
from itertools import pairwise


def align_network(theta_a, theta_b, max_passes=20):
    # Weight matching for every hidden layer of an MLP, one layer at a time, repeated until a
    # whole pass moves no unit. Returns params_b after each pass (the last one is aligned).
    linear = sorted({k.split(".")[0] for k in theta_a if k.endswith(".weight")}, key=int)
    history = [theta_b]
    for _ in range(max_passes):
        aligned = history[-1]
        for layer_in, layer_out in pairwise(linear):
            aligned = align_hidden_units(theta_a, aligned, layer_in, layer_out)
        history.append(aligned)
        if all(torch.equal(aligned[k], history[-2][k]) for k in aligned):
            break
    return history


def chord_barrier(net, p, q):
    losses = loss_along_path(net, lambda alpha: interpolate(p, q, alpha), X_test, y_test, ALPHAS)
    return losses, interpolated_barrier(losses, ALPHAS)


with needs("interpolate", "loss_along_path", "interpolated_barrier", "align_hidden_units"):
    history = align_network(theta_a, theta_b)
    theta_b_aligned = history[-1]
    with torch.no_grad():
        logit_change = (torch.func.functional_call(model, theta_b_aligned, (X_test,))
                        - torch.func.functional_call(model, theta_b, (X_test,))).abs().max()
    print("width 32 (theta_a, theta_b of section 3):")
    print(f"  theta_b permuted computes the same function: max |change of a logit| "
          f"{float(logit_change):.1e}")
    print("  barrier after each pass:",
          ", ".join(f"{chord_barrier(model, theta_a, p)[1]:.2f}" for p in history[1:]),
          f"({len(history) - 1} passes, the last moved no unit)")

    wide_hidden = (64, 64)
    wide_model = lab.make_mlp(hidden=wide_hidden, seed=0)
    wide = {}
    for seed in (1, 2):
        net = lab.make_mlp(hidden=wide_hidden, seed=seed)
        lab.train(net, X_train, y_train, steps=TRAIN_STEPS, lr=TRAIN_LR, batch_size=TRAIN_BATCH,
                  seed=seed)
        wide[seed] = lab.params_of(net)
    wide_aligned = align_network(wide[1], wide[2])[-1]

    fig, ax = plt.subplots(figsize=(7, 4.5))
    print(f"{'':30s} {'barrier':>8s} {'accuracy at alpha = 0.5':>24s}")
    for label, net, p, q in (
        ("width 32, as trained", model, theta_a, theta_b),
        ("width 32, aligned", model, theta_a, theta_b_aligned),
        ("width 64, as trained", wide_model, wide[1], wide[2]),
        ("width 64, aligned", wide_model, wide[1], wide_aligned),
    ):
        losses, barrier = chord_barrier(net, p, q)
        middle = lab.accuracy(net, X_test, y_test, interpolate(p, q, 0.5))
        print(f"{label:30s} {barrier:8.3f} {middle:24.3f}")
        lab.plot_path(ALPHAS, losses, label=label, ax=ax,
                      title="The straight line before and after aligning the hidden units")
    ax.axhline(math.log(lab.NUM_CLASSES), color="grey", linestyle=":", linewidth=1)
    plt.show()

# %% [markdown] id="demo-permutation-after"
# **What to look for.** Permuting $\theta_b$'s units changes no logit by more than float32
# rounding (about $10^{-5}$): it is the same network, written in another order. Yet the straight
# line to it is a different path. For the width-32 pair the barrier falls from about 1.6 to about
# 0.3, and the midpoint — the weight average of section 6 — goes from chance (0.25) to about 0.82
# accuracy. For the wider pair it falls from about 1.2 to about 0.04: after alignment the two
# networks are nearly linearly connected, as Entezari et al.'s conjecture predicts for wide
# networks. Most of the barrier between these independent solutions came from the arbitrary
# order of their hidden units.
#
# Two more things to read off the printout. The first pass can make the barrier *higher* (1.8
# here): it aligns the first hidden layer using outgoing weights whose rows, the second layer's
# units, are still in $\theta_b$'s own order. Repeating the passes fixes that, so align every
# hidden layer and repeat. And a small remaining barrier (0.3 at width 32) does not prove that no
# permutation connects the two networks: weight matching is a heuristic for all layers together.
