# %% [markdown] id="rewind-intro"
# ## 3. Rewinding and the full IMP loop
#
# ### 3.1 Rewinding
#
# Step 4 of IMP: `rewind(init_params, masks)` returns a copy of `init_params` in which every
# pruned entry is 0. Two details matter:
#
# * **it is a copy** sharing no memory with `init_params`: the rewound weights are trained in
#   place, and training would otherwise silently change $\theta_0$, so the next round would rewind
#   to the wrong weights;
# * **every tensor is rewound**: biases (not in `masks`) are copied back to their initial values
#   too. The whole network restarts from $\theta_0$ (and `lab.train` creates a fresh optimiser on
#   each call).

# %% id="rewind-solution" role="answer" solution="rewind" section="3.1"
import torch

# %% role="visible" item="rewind"
# Visible tests for `rewind`.
init = {"W1": torch.tensor([[0.8, -0.1, 0.3], [-0.5, 0.02, 0.6], [0.1, -0.9, -0.2], [0.4, 0.05, -0.7]]),
        "b1": torch.tensor([0.5, -0.5, 0.25, 0.0])}
masks = {"W1": torch.tensor([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=torch.bool)}
init_before = {k: v.clone() for k, v in init.items()}
out = rewind(init, masks)
assert isinstance(out, dict) and list(out) == ["W1", "b1"], (
    f"rewind should return a dict with every key of init_params, in order; got {list(out) if isinstance(out, dict) else out}")
expected_W1 = torch.tensor([[0.8, 0.0, 0.3], [-0.5, 0.0, 0.6], [0.0, -0.9, -0.2], [0.4, 0.0, -0.7]])
assert torch.equal(out["W1"], expected_W1), f"pruned entries must be 0, the rest unchanged; got\n{out['W1']}"
assert torch.equal(out["b1"], init["b1"]), "keys not in masks (the bias) are copied unchanged"
assert out["W1"].dtype == init["W1"].dtype, "rewind keeps the dtype"
assert all(torch.equal(init[k], init_before[k]) for k in init), "rewind must not change init_params"
out["b1"][0] = 100.0
assert init["b1"][0] == 0.5, (
    "the returned tensors must be copies: changing them (e.g. by training) must not change init_params")
try:
    rewind(init, {"W2": torch.ones(2, 2, dtype=torch.bool)})
except ValueError:
    pass
else:
    raise AssertionError("a mask key absent from init_params should raise ValueError")
print("rewind: visible tests passed")

# %% role="hidden" item="rewind"

# %% [markdown] id="imp-intro"
# ### 3.2 Iterative magnitude pruning
#
# `iterative_magnitude_pruning(init_params, train_fn, rounds, fraction)`:
#
# ```
# masks = all True, for every tensor of init_params with dim >= 2   # weights, not biases
# repeat `rounds` times:
#     trained = train_fn(rewind(init_params, masks), masks)         # steps 4 and 2
#     masks   = global_prune(trained, masks, fraction)              # step 3
#     remember masks
# return the list of masks after each round
# ```
#
# How the network is trained is the job of `train_fn(params, masks)`, which you pass in. The
# demonstrations use one that loads the rewound parameters into a model, calls
# `lab.train(model, X, y, mask=masks, ...)` and returns `lab.params_of(model)`. Training with a
# mask is more than zeroing the pruned weights once: a pruned weight is 0, but its loss gradient
# is not, so the next optimiser step moves it away from zero, and momentum or Adam's running
# averages keep carrying that gradient. So `lab.train` zeroes their gradients before every
# optimiser step, and the weights after it. (Weight decay is not what revives them: the decay of a
# weight that is exactly 0 is 0.)
#
# Get right: `train_fn` is called **exactly once per round**, and every round starts again from
# `init_params`, not from the previous round's trained weights (that would be pruning with
# fine-tuning). Validate `fraction` before the loop, even when `rounds` is 0.
#
# **Late rewinding** (section 4) needs no new code: pass the parameters after $k$ training steps
# as `init_params`.

# %% id="iterative-magnitude-pruning-solution" role="answer" solution="iterative_magnitude_pruning" section="3.2"
from collections.abc import Callable

import torch

# %% role="visible" item="iterative_magnitude_pruning"
# Visible tests for `iterative_magnitude_pruning`, with a toy train_fn that "trains" by adding
# a fixed tensor, and records how it was called.
init = {"0.weight": torch.tensor([[0.1, -0.2, 0.3], [0.4, -0.5, 0.6]]),
        "0.bias": torch.tensor([0.01, 0.02]),
        "2.weight": torch.tensor([[1.0, -1.0], [0.05, 0.5]])}
init_before = {k: v.clone() for k, v in init.items()}
push = {"0.weight": torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.9]]),
        "0.bias": torch.zeros(2), "2.weight": torch.zeros(2, 2)}
calls = []

def toy_train_fn(params, masks):
    calls.append(({k: v.clone() for k, v in params.items()}, {k: v.clone() for k, v in masks.items()}))
    return {k: params[k] + push[k] for k in params}

history = iterative_magnitude_pruning(init, toy_train_fn, 2, 0.5)
assert isinstance(history, list) and len(history) == 2, "IMP should return one masks dict per round"
assert len(calls) == 2, f"train_fn must be called exactly once per round, got {len(calls)} calls"
assert set(calls[0][1]) == {"0.weight", "2.weight"}, (
    f"masks exist for the tensors with dim >= 2 only (not the bias); got keys {set(calls[0][1])}")
assert all(m.all() for m in calls[0][1].values()), "round 1 trains the dense network (all True masks)"
assert torch.equal(calls[0][0]["0.weight"], init["0.weight"]), "round 1 starts from init_params"
m1 = history[0]
assert sum(int(m.sum()) for m in m1.values()) == 5, (
    "round 1: 10 prunable weights, prune_count(10, 0.5) = 5 pruned, 5 kept")
expected_m1 = {"0.weight": torch.tensor([[False, False, False], [False, True, True]]),
               "2.weight": torch.tensor([[True, True], [False, True]])}
assert all(torch.equal(m1[k], expected_m1[k]) for k in m1), (
    f"round 1 masks: the five largest trained magnitudes are 1.0, 1.0, 0.5, 0.5 and 1.5 (0.6 + 0.9); "
    f"expected {expected_m1}, got {m1}")
rewound = calls[1][0]
assert torch.equal(rewound["0.weight"], init["0.weight"] * m1["0.weight"]), (
    "round 2 must start from rewind(init_params, masks): init values where kept, 0 where pruned "
    "(not the trained weights of round 1)")
assert torch.equal(rewound["0.bias"], init["0.bias"]), "biases are rewound to init too"
assert sum(int(m.sum()) for m in history[1].values()) == 2, "round 2: 5 kept, prune_count(5, 0.5) = 3 pruned"
assert all(torch.equal(init[k], init_before[k]) for k in init), "IMP must not change init_params"
assert iterative_magnitude_pruning(init, toy_train_fn, 0, 0.5) == [], "rounds = 0: an empty list"
try:
    iterative_magnitude_pruning(init, toy_train_fn, 0, 1.5)
except ValueError:
    pass
else:
    raise AssertionError("fraction 1.5 must raise ValueError even when rounds = 0")
print("iterative_magnitude_pruning: visible tests passed")

# %% role="hidden" item="iterative_magnitude_pruning"

# %% [markdown] id="demo-imp-intro"
# ### 3.3 Demonstration: is the rewound ticket special?
#
# The experiment of Frankle & Carbin, on a small scale:
#
# * **data:** the 4-arm spiral of `lab.make_dataset(seed=0)` (1024 training and 1024 test points;
#   chance accuracy 1/4);
# * **network:** `lab.make_mlp(seed=0)`, a 2-32-32-4 ReLU MLP: 1216 prunable weights, 68 biases;
#   its initial weights are $\theta_0$;
# * **training:** `lab.train`, 500 Adam steps (learning rate 0.01, batch 64);
# * **IMP:** 20% of the remaining weights per round (global pruning), 13 rounds, so the tickets
#   are 0%, 20%, 36%, …, about 93% sparse;
# * **control:** each mask trained from a *fresh* random initialisation
#   (`lab.make_mlp(seed=1)`'s weights, masked), everything else equal.

# %% id="demo-helpers" role="demo"
# Settings and helpers shared by the demonstrations (read-only).
DATA = lab.make_dataset(seed=0)   # the 4-arm spiral: 1024 training and 1024 test points
CHANCE = 1.0 / lab.NUM_CLASSES    # accuracy of guessing: 0.25
STEPS = 500                       # Adam steps per training run (lab.train defaults: lr 0.01, batch 64)
FRACTION = 0.2                    # IMP prunes 20% of the remaining weights per round
ROUNDS = 13                       # tickets trained at 0%, 20%, 36%, ..., about 93% sparsity
INIT_SEED = 0                     # theta_0 = the weights of lab.make_mlp(seed=0)
REINIT_SEED = 1                   # the control's fresh random initialisation
LATE_K = 20                       # late rewinding: rewind to the weights after 20 of the 500 steps
CLEAR_MARGIN = 0.03               # "clearly better": at least 3 percentage points of test accuracy

theta0 = lab.params_of(lab.make_mlp(seed=INIT_SEED))
_runs = {}


def memo(key, compute):
    # Run compute() once and reuse its result: several demonstrations share the same runs.
    if key not in _runs:
        _runs[key] = compute()
    return _runs[key]


def dense_masks(params):
    # All-True masks for the prunable tensors (dim >= 2), as IMP starts.
    return {name: torch.ones_like(value, dtype=torch.bool)
            for name, value in params.items() if value.dim() >= 2}


def sparsity_of(masks):
    total = sum(m.numel() for m in masks.values())
    return 1.0 - sum(int(m.sum()) for m in masks.values()) / total


def train_ticket(start_params, masks, data=DATA, *, steps=STEPS, seed=0, **training):
    # Train the subnetwork `masks` from start_params; return (trained params, test accuracy).
    # `training`: other settings of lab.train (batch_size, lr); its defaults when not given.
    model = lab.make_mlp(seed=INIT_SEED)  # the architecture; its weights are replaced next
    lab.load_params(model, start_params)
    lab.train(model, data.X_train, data.y_train, steps=steps, seed=seed, mask=masks, **training)
    return lab.params_of(model), lab.accuracy(model, data.X_test, data.y_test)


def imp_run(init_params, data=DATA, *, steps=STEPS, rounds=ROUNDS, fraction=FRACTION, **training):
    # IMP rewinding to init_params. Returns (masks after each round, test accuracies), where
    # accuracies[i] is the ticket trained in round i + 1, i.e. with the masks BEFORE that round.
    accuracies = []

    def train_fn(params, masks):
        trained, acc = train_ticket(params, masks, data, steps=steps, **training)
        accuracies.append(acc)
        return trained

    history = iterative_magnitude_pruning(init_params, train_fn, rounds, fraction)
    return history, accuracies


def trained_masks(history):
    # The masks each round trained with: dense, then the masks after rounds 1 .. R-1.
    return [dense_masks(theta0), *history[:-1]]


def shuffled(masks, generator):
    # Random pruning: a random mask with the same number of kept entries in every layer.
    return {name: m.flatten()[torch.randperm(m.numel(), generator=generator)].reshape(m.shape)
            for name, m in masks.items()}


def step0_tickets():
    # Section 3: IMP rewinding to theta_0.
    return memo("step0", lambda: imp_run(theta0))


def reinit_control():
    # The same masks, trained from a fresh random initialisation.
    history, _ = step0_tickets()
    theta_random = lab.params_of(lab.make_mlp(seed=REINIT_SEED))
    return memo("reinit", lambda: [train_ticket(rewind(theta_random, m), m)[1]
                                   for m in trained_masks(history)])


def theta_late():
    # Section 4: the dense network after LATE_K training steps from theta_0.
    return memo("theta_k", lambda: train_ticket(theta0, {}, steps=LATE_K)[0])


def late_tickets():
    # Section 4: IMP rewinding to theta_k; each round trains the remaining STEPS - LATE_K steps.
    return memo("late", lambda: imp_run(theta_late(), steps=STEPS - LATE_K))


print(DATA, "| prunable weights:", sum(m.numel() for m in dense_masks(theta0).values()),
      "(" + ", ".join(f"{name} {m.numel()}" for name, m in dense_masks(theta0).items()) + ")",
      "| biases:", sum(v.numel() for v in theta0.values() if v.dim() < 2))

# %% id="demo-imp" role="demo"
with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    history0, rewound_acc = step0_tickets()
    reinit_acc = reinit_control()
    masks_trained = trained_masks(history0)
    sparsities = [sparsity_of(m) for m in masks_trained]

    print(f"{'round':>5} {'sparsity':>8} {'rewound':>8} {'re-init':>8} {'diff':>7}   "
          "density per layer (0.weight / 2.weight / 4.weight)")
    for r, (m, s, a, b) in enumerate(zip(masks_trained, sparsities, rewound_acc, reinit_acc), 1):
        layers = " / ".join(f"{float(mask.float().mean()):.2f}" for mask in m.values())
        print(f"{r:>5} {s:>8.1%} {a:>8.3f} {b:>8.3f} {a - b:>+7.3f}   {layers}")
    clearly = [s for s, a, b in zip(sparsities, rewound_acc, reinit_acc) if a - b >= CLEAR_MARGIN]
    print(f"\nrewound ticket better by >= {CLEAR_MARGIN:.0%} points at sparsities:",
          ", ".join(f"{s:.1%}" for s in clearly) or "none")
    best = max(range(len(sparsities)), key=lambda i: rewound_acc[i] - reinit_acc[i])
    print(f"largest gap at {sparsities[best]:.1%} sparsity: rewound {rewound_acc[best]:.3f} vs "
          f"random re-init {reinit_acc[best]:.3f} (dense network: {rewound_acc[0]:.3f}, chance {CHANCE})")

    ax = lab.plot_sparsity_curve(
        sparsities,
        {"IMP ticket, rewound to $\\theta_0$": rewound_acc, "same masks, random re-init": reinit_acc},
        title="Lottery tickets: rewound vs randomly re-initialised",
    )
    ax.axhline(rewound_acc[0], color="grey", linestyle=":", label="dense network")
    ax.axhline(CHANCE, color="black", linestyle="--", linewidth=0.8, label="chance (1/4)")
    ax.legend(loc="lower left", fontsize="small")
    plt.show()

# %% [markdown] id="demo-imp-after"
# **What to look for.**
#
# * **Low sparsity:** both curves sit near the dense network: with most weights there, *any*
#   initialisation trains fine.
# * **High sparsity:** the curves separate. The rewound ticket keeps close to the dense accuracy
#   much longer; the same mask with fresh random weights falls off earlier and further (the printed
#   list gives the sparsities with a gap of at least 3 points). The *mask is identical*: the
#   difference is due to the initial values alone.
# * **The per-layer densities:** the $32\times32$ middle layer (1024 of the 1216 weights) loses
#   weights fastest; the first layer, whose units have only two inputs and therefore larger
#   initial weights (uniform in $\pm 1/\sqrt{\text{fan\_in}}$), keeps the most.
# * **Very high sparsity:** eventually even the rewound ticket degrades.
#
# Every point is a single training run, so a difference of a point or two is noise; trust the
# systematic gap at high sparsity.

# %% [markdown] id="demo-imp-seeds-intro"
# ### 3.4 Demonstration: Frankle & Carbin's figure, with error bars
#
# Test accuracy against the percentage of weights **remaining**, on a log axis from the dense
# network (100%, left) to the sparse end, for the IMP tickets and for **random pruning**: a random
# subnetwork with as many weights in every layer as the ticket, trained from the same $\theta_0$
# (the initial values are kept, the mask changes). Each point is the mean over 3 initialisations
# (`lab.make_mlp(seed=s)` for $s = 0, 1, 2$) with error bars of $\pm 1$ standard deviation. To keep
# 27 trainings cheap, each one is 60 full-batch Adam steps (learning rate 0.03, as accurate as
# the 500 steps above for the dense network), and IMP prunes half of the remaining weights per
# round, for 5 rounds: 100%, 50%, 25%, 12.5% and 6.25% of the weights remain.

# %% id="demo-imp-seeds" role="demo"
FIG_SEEDS = (0, 1, 2)    # the initialisations theta_0 = lab.make_mlp(seed=s)
FIG_FRACTION = 0.5       # half of the remaining weights per round ...
FIG_ROUNDS = 5           # ... for 5 rounds: 100%, 50%, 25%, 12.5%, 6.25% remain
FIG_TRAINING = {"steps": 60, "batch_size": DATA.X_train.shape[0], "lr": 0.03}  # full batch


def figure_run(seed):
    # IMP rewinding to theta_0, and random pruning at the same per-layer sparsities, for one
    # initialisation. Returns (the masks IMP trained, IMP accuracies, random-pruning accuracies).
    init = lab.params_of(lab.make_mlp(seed=seed))
    history, imp_acc = imp_run(init, rounds=FIG_ROUNDS, fraction=FIG_FRACTION, **FIG_TRAINING)
    masks = trained_masks(history)
    generator = torch.Generator().manual_seed(seed)
    random_acc = [imp_acc[0]]  # at 100% both are the dense network
    for m in masks[1:]:
        random_mask = shuffled(m, generator)
        random_acc.append(train_ticket(rewind(init, random_mask), random_mask, **FIG_TRAINING)[1])
    return masks, imp_acc, random_acc


with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    runs = [figure_run(seed) for seed in FIG_SEEDS]
    remaining = np.array([100 * (1 - sparsity_of(m)) for m in runs[0][0]])
    imp_acc = np.array([run[1] for run in runs])       # (seeds, sparsities)
    random_acc = np.array([run[2] for run in runs])
    gaps = imp_acc - random_acc

    print(f"test accuracy, mean +- std over {len(FIG_SEEDS)} initialisations")
    print(f"{'remaining':>9} {'IMP ticket':>15} {'random pruning':>15} {'gap':>6} {'smallest gap':>13}")
    for i, p in enumerate(remaining):
        print(f"{p:>8.2f}% {imp_acc[:, i].mean():>7.3f} +- {imp_acc[:, i].std(ddof=1):.3f} "
              f"{random_acc[:, i].mean():>7.3f} +- {random_acc[:, i].std(ddof=1):.3f} "
              f"{gaps[:, i].mean():>+6.3f} {gaps[:, i].min():>+13.3f}")
    print(f"\nIMP ahead of random pruning for every initialisation at every sparsity: "
          f"{bool((gaps[:, 1:] > 0).all())}")
    print(f"trainings: {len(FIG_SEEDS)} x ({FIG_ROUNDS} IMP rounds + {FIG_ROUNDS - 1} randomly pruned) = "
          f"{len(FIG_SEEDS) * (2 * FIG_ROUNDS - 1)}; dense network from theta_0 of section 3.3: "
          f"{imp_acc[0, 0]:.3f} after {FIG_TRAINING['steps']} full-batch steps, "
          f"{step0_tickets()[1][0]:.3f} after its {STEPS} steps of batch 64")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for acc, label, marker in ((imp_acc, "IMP, rewound to $\\theta_0$", "o"),
                               (random_acc, "random pruning, same $\\theta_0$", "s")):
        ax.errorbar(remaining, acc.mean(axis=0), yerr=acc.std(axis=0, ddof=1), marker=marker,
                    capsize=4, label=label)
    ax.axhline(CHANCE, color="black", linestyle="--", linewidth=0.8, label="chance (1/4)")
    ax.set_xscale("log")
    ax.invert_xaxis()  # sparser to the right, as in the paper
    ax.set_xticks(remaining, [f"{p:g}" for p in remaining])
    ax.set_xticks([], minor=True)
    ax.set_xlabel("weights remaining (%)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"IMP against random pruning: mean $\\pm$ std over {len(FIG_SEEDS)} initialisations")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize="small")
    plt.show()

# %% [markdown] id="demo-imp-seeds-after"
# **What to look for.** Both curves start at the dense network (about 0.94), but the tickets fall
# much later. At 50% the two are still close (a gap of about 0.02); with 25% of the weights left
# the tickets reach about 0.90 against about 0.76 for random pruning, and with 12.5% about 0.80
# against about 0.46. From 25% on the error bars are far apart, and IMP is ahead for every
# initialisation at every sparsity. At 6.25% even the tickets lose much accuracy (about 0.60) and
# random pruning is near chance. So the ticket is the mask *and* its initial values: a random mask
# with the same values trains far worse, and so does the same mask with other values (section
# 3.3). (Frankle & Carbin pruned 20% per round and trained longer, keeping full accuracy down to
# far fewer weights.)
