# %% [markdown] id="lth-intro"
# ## 1. Lottery tickets and magnitude pruning
#
# **The hypothesis** (Frankle & Carbin, 2019, *The Lottery Ticket Hypothesis: Finding Sparse,
# Trainable Neural Networks*, ICLR):
#
# > A randomly-initialized, dense neural network contains a subnetwork that is initialized such
# > that — when trained in isolation — it can match the test accuracy of the original network
# > after training for at most the same number of iterations.
#
# Such a subnetwork — a mask $m$ *together with the initial values* $m \odot \theta_0$ — is a
# **winning ticket**. To find one, Frankle & Carbin use **iterative magnitude pruning (IMP)**:
#
# 1. initialise the network, $\theta_0$; start with the mask $m = 1$ (everything kept);
# 2. train the subnetwork $m \odot \theta_0$ for $j$ iterations, reaching $m \odot \theta_j$;
# 3. prune $p\%$ of the weights **that are still kept** — those with the smallest $|\theta_j|$ —
#    which gives a new, smaller mask $m$;
# 4. **rewind**: reset the kept weights to their values in $\theta_0$ (pruned weights stay 0);
# 5. repeat from step 2 with the new mask, until the target sparsity is reached.
#
# Only weight matrices are pruned; biases stay. On MNIST and CIFAR-10 they consistently found
# winning tickets less than 10–20% of the size of the original network, which often learned
# faster and reached *higher* test accuracy. The same masks trained from a fresh random
# initialisation did worse: the initial values matter, not only the structure (section 3).
#
# Step 3 ranks weights by **magnitude**: a weight that ends training close to 0 contributes
# little.

# %% [markdown] id="prune-count-intro"
# ### 1.1 How many weights is "30%"?
#
# Worked example 3 of the course text prunes 30% of a $4\times3$ matrix: *"12 total entries.
# 30% pruning → prune 3.6 → round to 4"*. "Round" needs a rule precise enough that two
# implementations prune exactly the same number of weights. The rule used everywhere here:
#
# $$\texttt{prune\_count}(n, f) \;=\; \big\lfloor f\cdot n + 0.5 \big\rfloor
# \qquad\text{computed in Python floats (float64).}$$
#
# * It is the **nearest integer, halves rounded up**: 0.3 of 12 is 4 (3.6 → 4), 0.5 of 5 is 3
#   (2.5 → 3). Python's `round()` rounds halves to even (`round(2.5) == 2`): not this rule.
# * The product is **the float64 product**. In float64 `0.58 * 25 == 14.499999999999998`, just
#   below the half — so 0.58 of 25 is **14**, although $0.58 \cdot 25 = 14.5$ exactly. We keep the
#   float64 answer on purpose: every straightforward implementation computes it. Do not "repair"
#   it with `decimal` or an epsilon.
# * The same count is used for *keeping*: a supermask that keeps a fraction $k$ of $N$ scores
#   keeps `prune_count(N, k)` of them (section 5).

# %% id="prune-count-solution" role="answer" solution="prune_count" section="1.1"
import math

# %% role="visible" item="prune_count"
# Visible tests for `prune_count`.
assert prune_count(12, 0.3) == 4, (
    f"worked example 3: 30% of 12 entries is 3.6, which rounds to 4; got {prune_count(12, 0.3)}")
assert isinstance(prune_count(12, 0.3), int), (
    f"prune_count should return a Python int, got {type(prune_count(12, 0.3)).__name__}")
assert prune_count(10, 0.2) == 2, f"20% of 10 is 2, got {prune_count(10, 0.2)}"
assert prune_count(5, 0.5) == 3, (
    f"0.5 of 5 is 2.5: halves round UP, so 3 (Python's round(2.5) gives 2); got {prune_count(5, 0.5)}")
assert prune_count(25, 0.58) == 14, (
    "0.58 * 25 is 14.499999999999998 in float64, just below the half, so 14; "
    f"got {prune_count(25, 0.58)}")
assert prune_count(0, 0.7) == 0 and prune_count(9, 0.0) == 0 and prune_count(9, 1.0) == 9, (
    "n = 0 gives 0, fraction 0 gives 0, fraction 1 gives n")
for bad_args in [(-1, 0.5), (10, 1.5), (10, -0.1)]:
    try:
        prune_count(*bad_args)
    except ValueError:
        pass
    else:
        raise AssertionError(f"prune_count{bad_args} should raise ValueError")
print("prune_count: visible tests passed")

# %% role="hidden" item="prune_count"

# %% [markdown] id="magnitude-mask-intro"
# ### 1.2 A magnitude mask
#
# To prune a fraction $f$ of one tensor $W$ with $N$ entries: prune the `prune_count(N, f)`
# entries with the smallest $|W_{ij}|$. The mask has $W$'s shape, `True` where an entry is kept.
#
# **Ties.** When the threshold falls inside a group of equal magnitudes (in worked example 3,
# $-0.1$ and $0.1$), the entry with the **lower row-major index** (the order of `W.flatten()`) is
# pruned first. A *stable* sort (`torch.argsort(..., stable=True)`) of `W.abs().flatten()` applies
# the rule by itself; `torch.topk` and an unstable sort make no promise about ties.
#
# Worked example 3's $W_1$, with row-major indices $0 \dots 11$:
#
# $$W_1 = \begin{bmatrix} 0.8 & -0.1 & 0.3 \\ -0.5 & 0.02 & 0.6 \\ 0.1 & -0.9 & -0.2 \\ 0.4 & 0.05 & -0.7 \end{bmatrix}$$
#
# Sorted by magnitude: $0.02$ (row 1, column 1; 0-based), $0.05$ (3, 1), $0.1$ (0, 1),
# $0.1$ (2, 0), $0.2$, … With 30% we prune 4, so both $0.1$s go; with 25% we prune 3, and the tie
# rule decides that $(0, 1)$ goes and $(2, 0)$ stays. (The course text counts from 1: its "(3,1)"
# is our $(2, 0)$.)

# %% id="magnitude-mask-solution" role="answer" solution="magnitude_mask" section="1.2"
import torch

# %% role="visible" item="magnitude_mask"
# Visible tests for `magnitude_mask`: worked example 3 and simple cases.
W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
M1 = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)
W1_before = W1.clone()
mask = magnitude_mask(W1, 0.3)
assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool, (
    f"the mask should be a bool tensor (True = kept), got {type(mask).__name__} "
    f"{getattr(mask, 'dtype', '')}")
assert mask.shape == W1.shape, f"the mask should have shape (4, 3), got {tuple(mask.shape)}"
assert int(mask.sum()) == 8, f"30% of 12 is prune_count(12, 0.3) = 4 pruned, so 8 kept; got {int(mask.sum())}"
assert torch.equal(mask, M1), f"worked example 3: expected the mask\n{M1.int()}\ngot\n{mask.int()}"
assert torch.equal(W1, W1_before), "magnitude_mask must not change the weights"
# The tie rule: with 25% only three go, and of the two 0.1s the lower row-major index (0, 1) goes.
mask25 = magnitude_mask(W1, 0.25)
assert not mask25[0, 1] and mask25[2, 0], (
    "ties: among equal magnitudes the lower row-major index is pruned first, so with 25% "
    "entry (0, 1) is pruned and (2, 0) is kept")
assert torch.equal(magnitude_mask(torch.ones(6), 0.5), torch.tensor([False] * 3 + [True] * 3)), (
    "six equal weights, fraction 0.5: the first three (lowest indices) are pruned")
assert magnitude_mask(W1, 0.0).all() and not magnitude_mask(W1, 1.0).any(), (
    "fraction 0 keeps everything, fraction 1 prunes everything")
print("magnitude_mask: visible tests passed")

# %% role="hidden" item="magnitude_mask"

# %% [markdown] id="demo-worked-example-intro"
# **Demonstration: worked example 3.** The mask of $W_1$ at 30%, printed as the course text's
# 0/1 matrix (1 = kept, 0 = pruned), and at 25%, where the tie between the two $0.1$s matters.

# %% id="demo-worked-example" role="demo"
with needs("prune_count", "magnitude_mask"):
    W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
    for fraction in (0.3, 0.25):
        k = prune_count(W1.numel(), fraction)
        M = magnitude_mask(W1, fraction)
        print(f"fraction {fraction}: prune_count(12, {fraction}) = {k}  "
              f"({fraction} * 12 = {fraction * 12:.4g})")
        print("mask (1 = kept, 0 = pruned):")
        print(M.int().numpy())
        print("pruned (row, column, weight):",
              [(i, j, round(float(W1[i, j]), 4)) for i, j in (~M).nonzero().tolist()])
        print()
    print("0.58 of 25:", repr(0.58 * 25), "->", prune_count(25, 0.58),
          "| Python's round(2.5) =", round(2.5), "but prune_count(5, 0.5) =", prune_count(5, 0.5))

# %% [markdown] id="demo-worked-example-after"
# The 30% mask is the course text's $M_1$. At 25% only the $0.1$ at $(0, 1)$, first in row-major
# order, goes. Ties are common in practice: pruned weights are all exactly 0, low-precision weights
# repeat, and scores can tie.

# %% [markdown] id="prune-remaining-intro"
# ### 1.3 One IMP step: prune a fraction of what is left
#
# IMP prunes $p\%$ of the weights **still kept**, not $p\%$ of all weights: with $K$ kept entries,
# one step prunes `prune_count(K, p)` of them — the smallest $|w|$ *among the kept entries only* —
# and leaves pruned entries pruned. The new mask is a subset of the old one.
#
# After training with the mask, the pruned weights are exactly 0, the smallest of all: a function
# that ranked *all* entries would re-prune them and the network would stop getting sparser. (The
# hidden tests include a mask that pruned the *largest* weights.)

# %% id="prune-remaining-solution" role="answer" solution="prune_remaining" section="1.3"
import torch

# %% role="visible" item="prune_remaining"
# Visible tests for `prune_remaining`.
W1 = torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]])
M1 = torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)
M1_before = M1.clone()
new = prune_remaining(W1, M1, 0.25)
assert isinstance(new, torch.Tensor) and new.dtype == torch.bool and new.shape == (4, 3), (
    "prune_remaining should return a bool tensor of the weights' shape")
assert torch.equal(M1, M1_before), "prune_remaining must not change the mask it is given"
assert not (new & ~M1).any(), "entries already pruned must stay pruned (the result is a subset of mask)"
assert int(new.sum()) == 6, (
    f"8 entries are kept and prune_count(8, 0.25) = 2 of them are pruned, so 6 stay; got {int(new.sum())}")
expected = M1.clone()
expected[2, 2] = False  # |-0.2|, the smallest kept magnitude
expected[0, 2] = False  # |0.3|, the next one
assert torch.equal(new, expected), (
    f"the two smallest KEPT magnitudes are 0.2 at (2, 2) and 0.3 at (0, 2); expected\n"
    f"{expected.int()}\ngot\n{new.int()}")
assert torch.equal(prune_remaining(W1, torch.ones(4, 3, dtype=torch.bool), 0.3), M1), (
    "with an all-True mask, prune_remaining is magnitude_mask (worked example 3)")
try:
    prune_remaining(W1, torch.ones(3, 4, dtype=torch.bool), 0.5)
except ValueError:
    pass
else:
    raise AssertionError("a mask of shape (3, 4) for weights of shape (4, 3) should raise ValueError")
print("prune_remaining: visible tests passed")

# %% role="hidden" item="prune_remaining"

# %% [markdown] id="global-prune-intro"
# ### 1.4 Global pruning: one ranking over all layers
#
# Two ways to prune $p\%$ of a network with several weight tensors:
#
# * **layer-wise:** prune $p\%$ of every tensor separately (`prune_remaining` per layer) — every
#   layer ends at the same sparsity;
# * **global:** put the kept weights of *all* prunable tensors into one ranking and prune the
#   `prune_count(total kept, p)` smallest — layers whose weights are small lose more.
#
# Frankle & Carbin pruned their small networks layer-wise (with a lower rate for the output
# layer) and the deeper convolutional networks (VGG-19, ResNet-18) globally. Global pruning lets
# the network decide where it can afford sparsity; its risk is that a layer of small weights is
# pruned almost or entirely away, disconnecting the network ("layer collapse", Tanaka et al.,
# 2020). Look at the per-layer densities (section 3 prints them).
#
# `global_prune(params, masks, fraction)` prunes only the tensors named in `masks` (biases are
# left out of `masks`), counts only their kept entries, and breaks ties by the order of the keys
# in `masks`, then by row-major index: concatenate the kept magnitudes key by key and sort stably.

# %% id="global-prune-solution" role="answer" solution="global_prune" section="1.4"
import torch

# %% role="visible" item="global_prune"
# Visible tests for `global_prune`.
params = {
    "a.weight": torch.tensor([[0.01, 0.02], [0.03, 0.04]]),  # a layer of small weights
    "a.bias": torch.tensor([0.0, 0.0]),                       # not in masks: never pruned
    "b.weight": torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
}
masks = {"a.weight": torch.ones(2, 2, dtype=torch.bool), "b.weight": torch.ones(2, 3, dtype=torch.bool)}
new = global_prune(params, masks, 0.4)
assert isinstance(new, dict) and list(new) == ["a.weight", "b.weight"], (
    f"global_prune should return a dict with the keys of masks, in order; got {list(new) if isinstance(new, dict) else new}")
assert all(m.dtype == torch.bool for m in new.values()), "every mask should be a bool tensor"
kept = sum(int(m.sum()) for m in new.values())
assert kept == 6, f"10 entries kept, prune_count(10, 0.4) = 4 pruned, so 6 kept; got {kept}"
assert int(new["a.weight"].sum()) == 0 and bool(new["b.weight"].all()), (
    "global ranking: the four smallest of all ten weights are the whole small layer 'a.weight' "
    "(pruning 40% of each layer separately would be layer-wise pruning)")
assert all(m.all() for m in masks.values()), "global_prune must not change the masks it is given"
ties = global_prune({"x": torch.full((2,), 0.5), "y": torch.full((2,), 0.5)},
                    {"y": torch.ones(2, dtype=torch.bool), "x": torch.ones(2, dtype=torch.bool)}, 0.25)
assert not ties["y"][0] and ties["x"].all(), (
    "ties: the earlier key in MASKS order ('y' here) is pruned first, then the lower index")
try:
    global_prune(params, {"missing": torch.ones(2, dtype=torch.bool)}, 0.5)
except ValueError:
    pass
else:
    raise AssertionError("a mask key absent from params should raise ValueError")
print("global_prune: visible tests passed")

# %% role="hidden" item="global_prune"
