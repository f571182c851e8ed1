# %% [markdown] id="basins-intro"
# ## 5. Basins of many solutions (practice problem 1)
#
# **Practice problem 1.** Three independent runs give solutions $\theta_1, \theta_2, \theta_3$ with
# losses 0.15, 0.16, 0.17. The straight line between (1, 2) has max loss 0.18; between (2, 3) it
# has max loss 0.95. What does this say about the landscape?
#
# With the barrier of section 3: pair (1, 2) has $0.18 - 0.155 = 0.025$, negligible, and pair (2, 3)
# has $0.95 - 0.165 = 0.785$, large. Generalise this to $n$ solutions: draw a graph with one node
# per solution and an edge between $i$ and $j$ when they are linearly connected,
#
# $$\max_\alpha L\big(\theta(\alpha)\big) \;\le\; \max(L_i, L_j) + \delta ,$$
#
# and call the **connected components** of this graph the *linear basins*. With $\delta = 0.05$ and
# the solutions numbered from 0 (so $\theta_1, \theta_2, \theta_3$ are 0, 1, 2), practice problem 1
# gives `[{0, 1}, {2}]`.
#
# Read the result with care:
#
# * **Linear connectivity is not transitive.** If 0–1 and 1–2 are connected but 0–2 is not, all
#   three are in one component: they are joined by a path with a bend at solution 1 (a polygonal
#   chain, another curve family of Garipov et al.), not by straight lines. A "basin" here is a
#   set joined by piecewise-linear low-loss paths, not a convex region.
# * **An absent pair is not measured**, and is treated as not connected. In practice problem 1 the
#   pair (1, 3) was never measured.
# * **A barrier on the straight line does not prove separate basins** (section 4: a curved path
#   may exist). So `linear_basins` groups solutions conservatively: two solutions in different
#   groups may still be connected by a curve. The course text's conclusion "the landscape has at
#   least two distinct basins" claims more than the data show.
#
# (The written answer to practice problem 1 goes into notebook 04.)

# %% id="linear-basins-solution" role="answer" solution="linear_basins"
import math
from collections.abc import Mapping, Sequence

import torch

# %% role="visible" item="linear_basins"
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

# %% role="hidden" item="linear_basins"

# %% [markdown] id="demo-basins-intro"
# ### Demonstration: spawning from a shared checkpoint
#
# Frankle et al. (2020) asked *when* during training the outcome of a run is settled: train one
# network for $k$ steps, make two copies, and continue each with different SGD noise (here: a
# different minibatch order). If the two finished copies are linearly connected, the network was
# already "stable" at step $k$. Small networks such as LeNet on MNIST were stable already at
# initialisation; larger ones such as ResNet-20 on CIFAR-10 became stable only after a short
# phase early in training.
#
# We add four solutions to the two independent ones, all four from one initialisation (seed 3):
# two copies spawned at step 0 (same initialisation, different minibatch orders) and two copies
# spawned at step 50 of one run, each copy trained for another 500 steps. Then we measure the straight line between all 15 pairs and
# group the six solutions with `linear_basins`.

# %% id="demo-train-spawned" role="demo"
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

# %% id="demo-basins" role="demo"
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
    # Solutions 2 to 5 share one initialisation (seed 3); 0 and 1 have initialisations of their own.
    across = [b for (i, j), b in barriers.items() if i < 2]
    shared = [b for (i, j), b in barriers.items() if i >= 2 and (i, j) != (4, 5)]
    print(f"barrier (mean), different initialisations:        {min(across):.3f} to {max(across):.3f}")
    print(f"barrier (mean), one initialisation, other pairs:  {min(shared):.3f} to {max(shared):.3f}")
    print(f"barrier (mean), the pair spawned at step 50 (4, 5): {barriers[(4, 5)]:.3f}")

# %% [markdown] id="demo-basins-after"
# **What to look for.** The two copies spawned at step 50 (solutions 4 and 5) form one linear basin:
# the loss along their straight line barely rises (a barrier of about 0.015). Every other solution
# is alone. Solutions 2 to 5 share one initialisation, and the barriers among them (about 0.08 to
# 0.21) are far lower than between different initialisations (about 1.4 to 2.0) — but the copies
# spawned at step 0 still rise more than $\delta$ above their endpoints, between themselves and
# towards the others. After only 50 of 550 steps the run has committed to a region of the
# landscape that different minibatch orders no longer leave. Remember the caveat of section 4:
# "alone" here means "not linearly connected", not "in a separate basin" — the trained Bezier curve
# showed that the two independent solutions are joined by a curved low-loss path.
