# %% [markdown] id="late-intro"
# ## 4. Late rewinding and stability to SGD noise
#
# For deeper networks (VGG-19, ResNet-18 on CIFAR-10) rewinding to $\theta_0$ found winning
# tickets only with a lowered learning rate or a warm-up. The fix that scaled is **late
# rewinding**: rewind to $\theta_k$, the weights after $k$ iterations of the dense network's
# training, a small fraction of the whole run (Frankle et al., 2019, *Stabilizing the Lottery
# Ticket Hypothesis*; Frankle et al., 2020, *Linear Mode Connectivity and the Lottery Ticket
# Hypothesis*, ICML). The IMP loop is unchanged: `iterative_magnitude_pruning(theta_k, ...)`, with
# `train_fn` training for the remaining $T-k$ steps.
#
# **Why it works: stability to SGD noise.** Frankle et al. (2020) train two copies of a network
# at $\theta_k$ with *different SGD noise* (minibatch orders) and walk the straight line between
# the results. If the **error barrier** $\max_\alpha \text{err}(\alpha) - \tfrac12(\text{err}(0) +
# \text{err}(1)) \approx 0$, the copies ended in one linearly connected region: the network is
# **stable** at $k$. Their findings:
#
# * LeNet on MNIST, the smallest network they study, is stable already at initialisation; the
#   larger ones (ResNet-20 and VGG-16 on CIFAR-10, ResNet-50 and Inception-v3 on ImageNet) are
#   not, but become stable early in training;
# * **IMP subnetworks reach full accuracy ("matching") only when they are stable.** Rewound to
#   $\theta_0$, the sparse subnetworks of the larger networks are unstable and not matching;
#   rewound to an early $\theta_k$, they are stable and matching.
#
# So IMP needs a starting point from which the outcome of training no longer depends on the noise;
# then the mask found in one run fits every other run from that point.
#
# Below: late rewinding to $k = 20$ of our 500 steps (4% of training), against rewinding to step 0
# and the random re-initialisation, on the same sparsity schedule.

# %% id="demo-late" role="demo"
with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    history0, rewound_acc = step0_tickets()
    reinit_acc = reinit_control()
    history_k, late_acc = late_tickets()
    sparsities = [sparsity_of(m) for m in trained_masks(history0)]

    print(f"{'sparsity':>8} {'step 0':>7} {f'step {LATE_K}':>8} {'re-init':>8}")
    for s, a, b, c in zip(sparsities, rewound_acc, late_acc, reinit_acc):
        print(f"{s:>8.1%} {a:>7.3f} {b:>8.3f} {c:>8.3f}")
    high = [i for i, s in enumerate(sparsities) if s >= 0.8]
    print(f"\nmean test accuracy at >= 80% sparsity: step 0 "
          f"{np.mean([rewound_acc[i] for i in high]):.3f}, step {LATE_K} "
          f"{np.mean([late_acc[i] for i in high]):.3f}, random re-init "
          f"{np.mean([reinit_acc[i] for i in high]):.3f}")

    ax = lab.plot_sparsity_curve(
        sparsities,
        {"rewind to step 0": rewound_acc, f"late rewinding to step {LATE_K}": late_acc,
         "random re-init": reinit_acc},
        title="Late rewinding",
    )
    ax.axhline(CHANCE, color="black", linestyle="--", linewidth=0.8, label="chance (1/4)")
    ax.legend(loc="lower left", fontsize="small")
    plt.show()

# %% [markdown] id="demo-late-after"
# **What to look for.** Whether rewinding to step 20 keeps the accuracy up to higher sparsity
# than rewinding to step 0; the summary line averages the sparsities of 80% and more, where single
# points are noisy. On a network this small, rewinding to $\theta_0$ already works well (as for
# Frankle & Carbin's small networks), so late rewinding can only make a difference at the sparse
# end. Note what the two curves share: both beat the random re-initialisation. A step-$k$ ticket
# still depends on the weights of *this* run, at a slightly later moment.
#
# Next, the stability test itself: for tickets from both runs, train two copies with different
# minibatch orders (seeds 1 and 2) and measure the barrier on the straight line between them.

# %% id="demo-stability" role="demo"
STABILITY_ROUNDS = (3, 6, 9, 12)        # tickets after these rounds: about 49%, 74%, 87%, 93% sparse
ALPHAS = torch.linspace(0.0, 1.0, 11)   # alpha = 0 is the copy trained with seed 1, alpha = 1 seed 2


def barriers(start_params, masks, steps):
    # Train two copies of the ticket with different minibatch orders, then measure the error
    # barrier (Frankle et al. 2020) and the loss barrier (notebook 01) on the straight line.
    ends = [train_ticket(start_params, masks, steps=steps, seed=s)[0] for s in (1, 2)]
    model = lab.make_mlp(seed=INIT_SEED)
    losses, errors = [], []
    for alpha in ALPHAS.tolist():
        point = {name: (1 - alpha) * ends[0][name] + alpha * ends[1][name] for name in ends[0]}
        loss, acc = lab.evaluate(model, DATA.X_test, DATA.y_test, point)
        losses.append(loss)
        errors.append(1.0 - acc)
    error_barrier = max(errors) - (errors[0] + errors[-1]) / 2
    loss_barrier = max(losses) - (losses[0] + losses[-1]) / 2
    return error_barrier, loss_barrier


with needs("prune_count", "global_prune", "rewind", "iterative_magnitude_pruning"):
    history0, _ = step0_tickets()
    history_k, _ = late_tickets()
    print(f"{'sparsity':>8} | {'rewound to step 0':^23} | {f'rewound to step {LATE_K}':^23}")
    print(f"{'':>8} | {'error barr.':>11} {'loss barr.':>11} | {'error barr.':>11} {'loss barr.':>11}")
    for r in STABILITY_ROUNDS:
        m0, mk = history0[r - 1], history_k[r - 1]
        e0, l0 = memo(("stab0", r), lambda m=m0: barriers(rewind(theta0, m), m, STEPS))
        ek, lk = memo(("stabk", r), lambda m=mk: barriers(rewind(theta_late(), m), m, STEPS - LATE_K))
        print(f"{sparsity_of(m0):>8.1%} | {e0:>11.3f} {l0:>11.3f} | {ek:>11.3f} {lk:>11.3f}")

# %% [markdown] id="demo-stability-after"
# **What to look for.** A barrier near 0 means the two copies (same ticket and starting weights,
# different minibatch order) ended in one linearly connected region: the ticket is stable. Compare
# the two columns row by row: Frankle et al. (2020) found tickets rewound to an early $\theta_k$
# stable where tickets rewound to $\theta_0$ are not, and stability going together with full
# accuracy. Here each number comes from only two training runs, so look for the tendency across
# the rows, and check it against the accuracies of the previous cell.
#
# This links the two halves of the course subject: *linear mode connectivity* (notebook 01) tells
# you *where to rewind*.
