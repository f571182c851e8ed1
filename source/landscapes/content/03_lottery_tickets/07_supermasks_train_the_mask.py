# %% [markdown] id="supermask-intro"
# ## 5. Supermasks: train the mask, not the weights
#
# If the initial weights matter so much, how much can a mask do *on its own*?
#
# * Zhou et al. (2019), *Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask*
#   (NeurIPS): an IMP mask applied to the *untrained* initial weights already gives accuracy far
#   above chance. They called such masks **supermasks**, and learned masks directly over frozen
#   random weights.
# * Ramanujan et al. (2020), *What's Hidden in a Randomly Weighted Neural Network?* (CVPR): the
#   **edge-popup** algorithm. Every weight $w$ gets a real-valued **score** $s$; the forward pass
#   uses only the weights whose scores are in the top $k\%$ of their layer,
#   $W \odot \operatorname{topk}(S)$; the weights **never change**, only the scores are trained.
#   A subnetwork of a randomly weighted Wide ResNet-50 matched a *trained* ResNet-34 on ImageNet.
#
# ### 5.1 The forward pass: keep the top scores
#
# `topk_score_mask(scores, keep_fraction)` keeps the `prune_count(N, keep_fraction)` **largest**
# scores — signed values: a score of $-2$ is small, not large. (Edge-popup ranks $|s|$; here the
# score itself is the learnt "keep me" value.) Ties: the lower flat index is kept first
# (`torch.argsort(..., descending=True, stable=True)`).

# %% id="topk-score-mask-solution" role="answer" solution="topk_score_mask" section="5.1"
import torch

# %% role="visible" item="topk_score_mask"
# Visible tests for `topk_score_mask`.
scores = torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]])
scores_before = scores.clone()
mask = topk_score_mask(scores, 0.5)
assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool and mask.shape == (2, 3), (
    "topk_score_mask should return a bool tensor of the scores' shape")
expected = torch.tensor([[True, False, True], [False, True, False]])
assert torch.equal(mask, expected), (
    f"keep prune_count(6, 0.5) = 3 LARGEST scores (3.0, 1.5, 0.5; -2.0 is small, not large); "
    f"expected\n{expected}\ngot\n{mask}")
assert torch.equal(scores, scores_before), "topk_score_mask must not change the scores"
assert torch.equal(topk_score_mask(torch.zeros(4), 0.5), torch.tensor([True, True, False, False])), (
    "ties: among equal scores the lower flat index is kept first")
assert int(topk_score_mask(torch.tensor([0.4, 0.1, 0.5, 0.2, 0.3]), 0.5).sum()) == 3, (
    "keep 0.5 of 5: 2.5 rounds up, keep 3")
try:
    topk_score_mask(scores, 1.5)
except ValueError:
    pass
else:
    raise AssertionError("keep_fraction 1.5 should raise ValueError")
print("topk_score_mask: visible tests passed")

# %% role="hidden" item="topk_score_mask"

# %% [markdown] id="straight-through-intro"
# ### 5.2 The backward pass: the straight-through estimator
#
# `topk` is piecewise constant in the scores, so its gradient is zero almost everywhere and plain
# backpropagation cannot train them. The **straight-through estimator** (Bengio, Léonard &
# Courville, 2013) uses the hard 0/1 mask in the forward pass and *pretends it was the identity*
# in the backward pass:
#
# $$\text{forward: } m = \operatorname{topk}(s), \qquad
# \text{backward: } \frac{\partial L}{\partial s} := \frac{\partial L}{\partial m}.$$
#
# With an effective weight $w_{\text{eff}} = w\cdot m$, this gives
# $\partial L/\partial s = w \cdot \partial L/\partial w_{\text{eff}}$: a score grows when using its
# weight would lower the loss, and once it climbs into the top $k\%$ the weight "pops up" into the
# network.
#
# In PyTorch: `hard + (scores - scores.detach())`. The bracket is exactly 0 in value (the forward
# value is exactly `hard`), but its gradient with respect to `scores` is the identity, and `hard`
# carries no gradient.

# %% id="straight-through-mask-solution" role="answer" solution="straight_through_mask" section="5.2"
import torch

# %% role="visible" item="straight_through_mask"
# Visible tests for `straight_through_mask`.
scores = torch.tensor([[0.5, -2.0, 1.5], [-0.1, 3.0, 0.2]], requires_grad=True)
m = straight_through_mask(scores, 0.5)
assert isinstance(m, torch.Tensor) and m.shape == (2, 3) and m.dtype == scores.dtype, (
    "straight_through_mask should return a float tensor of the scores' shape and dtype")
assert torch.equal(m.detach(), torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])), (
    f"the forward value is topk_score_mask(scores, 0.5) as 0.0/1.0; got\n{m.detach()}")
assert m.requires_grad, "the result must be connected to scores in the autograd graph"
incoming = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
(m * incoming).sum().backward()
assert torch.equal(scores.grad, incoming), (
    f"straight-through: the gradient reaching scores is the incoming gradient unchanged; got\n{scores.grad}")
plain = torch.tensor([0.3, 0.1, 0.2])
assert torch.equal(straight_through_mask(plain, 1 / 3), torch.tensor([1.0, 0.0, 0.0])), (
    "works for scores that do not require grad too (prune_count(3, 1/3) = 1 kept)")
assert not plain.requires_grad, "straight_through_mask must not change the scores (not even requires_grad)"
print("straight_through_mask: visible tests passed")

# %% role="hidden" item="straight_through_mask"

# %% [markdown] id="demo-supermask-intro"
# **Demonstration: a supermask over frozen random weights.** Edge-popup on the spiral:
#
# * a randomly initialised 2-64-64-64-4 MLP (`lab.make_mlp(hidden=(64, 64, 64), seed=0)`) whose
#   weights are **frozen**;
# * each weight matrix rescaled once to the standard deviation $\sqrt{2/(k\cdot\text{fan\_in})}$
#   (Kaiming He et al.'s scale divided by the kept fraction $k$, as in edge-popup's scaled
#   initialisation: only a fraction $k$ of a unit's inputs survive). `lab.make_mlp` draws weights
#   with standard deviation $1/\sqrt{3\,\text{fan\_in}}$, so the factor is $\sqrt{6/k}$. Biases
#   stay as initialised and are not masked;
# * a score per weight, drawn from $N(0, 1)$; each layer keeps its top $k = 50\%$;
# * 600 Adam steps on the scores only (learning rate 0.05, batch 128).
#
# The network is wider and deeper than that of section 3 on purpose: a random network must be
# large enough to *contain* a good subnetwork (Ramanujan et al.: the wider, the better).

# %% id="demo-supermask" role="demo"
SUPERMASK_HIDDEN = (64, 64, 64)
KEEP = 0.5                 # each layer keeps its top 50% of scores
SUPERMASK_STEPS = 600
SUPERMASK_LR = 0.05
SUPERMASK_BATCH = 128

with needs("prune_count", "topk_score_mask", "straight_through_mask"):
    net = lab.make_mlp(hidden=SUPERMASK_HIDDEN, seed=INIT_SEED)
    frozen = {name: (w * math.sqrt(6.0 / KEEP) if w.dim() >= 2 else w)
              for name, w in lab.params_of(net).items()}
    frozen_before = {name: w.clone() for name, w in frozen.items()}
    gen = torch.Generator().manual_seed(0)
    scores = {name: torch.randn(w.shape, generator=gen).requires_grad_(True)
              for name, w in frozen.items() if w.dim() >= 2}
    initial_masks = {name: topk_score_mask(s, KEEP) for name, s in scores.items()}
    optimizer = torch.optim.Adam(list(scores.values()), lr=SUPERMASK_LR)

    def supermasked(trainable):
        # The network's parameters: frozen weights times the (straight-through) mask.
        params = dict(frozen)
        for name, s in scores.items():
            mask = straight_through_mask(s, KEEP) if trainable else topk_score_mask(s, KEEP)
            params[name] = frozen[name] * mask
        return params

    n = DATA.X_train.shape[0]
    for _ in range(SUPERMASK_STEPS):
        idx = torch.randint(0, n, (SUPERMASK_BATCH,), generator=gen)
        logits = torch.func.functional_call(net, supermasked(True), (DATA.X_train[idx],))
        loss = F.cross_entropy(logits, DATA.y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with torch.no_grad():
        learned = supermasked(False)
        random_mask = {name: frozen[name] * initial_masks[name] if name in scores else frozen[name]
                       for name in frozen}
        acc_learned = lab.accuracy(net, DATA.X_test, DATA.y_test, learned)
        acc_random_mask = lab.accuracy(net, DATA.X_test, DATA.y_test, random_mask)
        acc_dense = lab.accuracy(net, DATA.X_test, DATA.y_test, frozen)
    unchanged = all(torch.equal(frozen[k], frozen_before[k]) for k in frozen)
    kept = {name: float(topk_score_mask(s, KEEP).float().mean()) for name, s in scores.items()}
    print(f"weights unchanged by training: {unchanged}; kept fraction per layer: "
          + ", ".join(f"{k} {v:.2f}" for k, v in kept.items()))
    print(f"test accuracy, frozen random weights, no mask:          {acc_dense:.3f}")
    print(f"test accuracy, random 50% mask (the initial scores):    {acc_random_mask:.3f}")
    print(f"test accuracy, LEARNED supermask (edge-popup):          {acc_learned:.3f}")
    print(f"chance (1 / NUM_CLASSES):                               {CHANCE:.3f}")
    print(f"the supermask beats chance by {acc_learned - CHANCE:+.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    lab.plot_decision_boundary(net, DATA.X_test, DATA.y_test, random_mask, ax=axes[0],
                               title=f"random mask: {acc_random_mask:.2f}")
    lab.plot_decision_boundary(net, DATA.X_test, DATA.y_test, learned, ax=axes[1],
                               title=f"learned supermask: {acc_learned:.2f}")
    fig.suptitle("Same frozen random weights, different masks")
    plt.show()

# %% [markdown] id="demo-supermask-after"
# **What to look for.** The weights are exactly the random ones they started as (`unchanged:
# True`); only *which* half of them is used changed. The random mask and the unmasked random
# network are near chance (about 0.22 and 0.26 against 0.25); the learned supermask is far above
# it, at about 0.75 — choosing a subnetwork is a form of training. It does not reach the trained
# networks of section 3 (about 0.94 for the dense one): at this width a mask alone learns less
# than moving the weights (Ramanujan et al. close the gap with much wider networks).
#
# The straight-through gradient is a *heuristic* — not the gradient of anything the forward pass
# computes — yet it trains the scores well. And the weight rescaling matters: without the factor
# $\sqrt{6/k}$ the logits stay tiny and the supermask stays close to chance (try it).
