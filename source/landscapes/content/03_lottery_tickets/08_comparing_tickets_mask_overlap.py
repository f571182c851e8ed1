# %% [markdown] id="overlap-intro"
# ## 6. Comparing tickets: mask overlap (practice problem 3)
#
# Practice problem 3 of the course text asks why a winning ticket found by IMP at 90% sparsity
# might *not* transfer to a different data set. One thing you can measure is whether the tickets
# themselves agree. The **Jaccard index** of two masks compares their kept sets $A$ and $B$:
#
# $$J(A, B) = \frac{|A \cap B|}{|A \cup B|} \in [0, 1],$$
#
# 1 for identical masks, 0 for disjoint ones; weights pruned in both do not count (at 90% sparsity
# almost every weight is). By convention two masks that keep nothing are identical, $J = 1$.
#
# **Compare with chance, not with 0.** Two *independent random* masks of density $d$ (fraction
# kept) share about $d^2 N$ entries out of a union of about $(2d - d^2)N$, so
# $J \approx d/(2-d)$: at 20% density, 0.11.

# %% id="mask-overlap-solution" role="answer" solution="mask_overlap" section="6"
import torch

# %% role="visible" item="mask_overlap"
# Visible tests for `mask_overlap`.
a = torch.tensor([[1, 1, 0], [0, 1, 0]], dtype=torch.bool)
b = torch.tensor([[1, 0, 0], [1, 1, 1]], dtype=torch.bool)
j = mask_overlap(a, b)
assert isinstance(j, float), f"mask_overlap should return a Python float, got {type(j).__name__}"
assert abs(j - 2 / 5) < 1e-12, f"kept in both: 2 entries, kept in either: 5, so 0.4; got {j}"
assert abs(mask_overlap(b, a) - j) < 1e-12, "the Jaccard index is symmetric"
assert mask_overlap(a, a.clone()) == 1.0 and mask_overlap(a, ~a) == 0.0, "identical: 1.0, disjoint: 0.0"
empty = torch.zeros(2, 3, dtype=torch.bool)
assert mask_overlap(empty, empty.clone()) == 1.0, "two masks that keep nothing: 1.0 by convention"
try:
    mask_overlap(torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool))
except ValueError:
    pass
else:
    raise AssertionError("masks of shapes (2, 3) and (3, 2) should raise ValueError")
print("mask_overlap: visible tests passed")

# %% role="hidden" item="mask_overlap"

# %% [markdown] id="demo-overlap-intro"
# **Demonstration: whose ticket is it?** Four tickets at 73.8% sparsity (6 rounds of 20%):
#
# * **A** — $\theta_0$, the spiral (the ticket of section 3);
# * **B** — $\theta_0$, a *new sample* of the same task (`lab.make_dataset(seed=1)`);
# * **C** — $\theta_0$, a *different task*: the mirrored spiral ($x_1 \to -x_1$, same
#   architecture, same difficulty);
# * **D** — a *different initialisation* (`lab.make_mlp(seed=1)`), the original spiral.
#
# We compare B, C and D with A, against the chance overlap of random masks with A's per-layer
# densities (A's masks shuffled within each layer, 20 shuffles). Then the transfer question: train
# tickets A and C, both rewound to $\theta_0$, on the mirrored task.

# %% id="demo-overlap" role="demo"
OVERLAP_ROUNDS = 6   # 1 - 0.8**6 = 73.8% sparsity
flip = torch.tensor([-1.0, 1.0])
MIRRORED = lab.Dataset(DATA.X_train * flip, DATA.y_train, DATA.X_test * flip, DATA.y_test,
                       DATA.num_classes)


def flat(masks):
    # All layers of a masks dict as one 1-D bool tensor.
    return torch.cat([m.flatten() for m in masks.values()])


with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning", "mask_overlap"):
    ticket_a = step0_tickets()[0][OVERLAP_ROUNDS - 1]
    theta0_other = lab.params_of(lab.make_mlp(seed=REINIT_SEED))
    ticket_b = memo("B", lambda: imp_run(theta0, lab.make_dataset(seed=1), rounds=OVERLAP_ROUNDS))[0][-1]
    ticket_c = memo("C", lambda: imp_run(theta0, MIRRORED, rounds=OVERLAP_ROUNDS))[0][-1]
    ticket_d = memo("D", lambda: imp_run(theta0_other, rounds=OVERLAP_ROUNDS))[0][-1]

    gen = torch.Generator().manual_seed(0)
    random_masks = [shuffled(ticket_a, gen) for _ in range(20)]
    d = 1.0 - sparsity_of(ticket_a)
    print(f"ticket A: density {d:.3f} (sparsity {1 - d:.1%}), per layer "
          + ", ".join(f"{k} {float(m.float().mean()):.2f}" for k, m in ticket_a.items())
          + f"; d/(2-d) = {d / (2 - d):.3f}\n")
    print(f"{'overlap with ticket A':<46} {'all':>6}   " + "  ".join(f"{k:>8}" for k in ticket_a))
    rows = [("B: theta_0, new sample of the same task", [ticket_b]),
            ("C: theta_0, mirrored task", [ticket_c]),
            ("D: other initialisation, same task", [ticket_d]),
            ("chance: A shuffled within layers (mean of 20)", random_masks)]
    for label, tickets in rows:
        whole = np.mean([mask_overlap(flat(ticket_a), flat(t)) for t in tickets])
        per_layer = "  ".join(f"{np.mean([mask_overlap(ticket_a[k], t[k]) for t in tickets]):>8.3f}"
                              for k in ticket_a)
        print(f"{label:<46} {whole:>6.3f}   {per_layer}")

    acc_a = memo("transfer-A", lambda: train_ticket(rewind(theta0, ticket_a), ticket_a, MIRRORED)[1])
    acc_c = memo("transfer-C", lambda: train_ticket(rewind(theta0, ticket_c), ticket_c, MIRRORED)[1])
    print(f"\ntrained on the mirrored task at {1 - d:.1%} sparsity: ticket A (found on the spiral) "
          f"{acc_a:.3f}, ticket C (found on the mirrored spiral) {acc_c:.3f}")

# %% [markdown] id="demo-overlap-after"
# **What to look for.** Read every number against the chance row below it. Tickets found from the
# same $\theta_0$ overlap above chance: much of a ticket is fixed by the initialisation (which
# weights start large). The ticket from another sample of the *same* task (B) is the closest to A;
# the mirrored task's ticket (C) shares less — part of a ticket is specific to its data. A ticket
# from *another initialisation* (D) should be close to chance, since "weight 17 of layer 2" means
# nothing in common between two random initialisations. The first layer keeps most of its
# weights, so even unrelated masks overlap a lot there; the large middle layer shows the
# differences.
#
# The last line is the transfer test on a single pair of runs: if ticket A trains worse on the
# mirrored task than the ticket found there, that is the dataset-specificity practice problem 3
# asks about. The literature is more nuanced: Morcos et al. (2019, *One ticket to win them all*)
# found that tickets from large image data sets transfer to other image tasks, often better than
# tickets found on the small target task itself.
