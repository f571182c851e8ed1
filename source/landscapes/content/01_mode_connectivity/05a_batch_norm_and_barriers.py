# %% [markdown] id="bn-intro"
# ### Batch normalisation and barriers
#
# The course text credits **batch normalisation** (Ioffe & Szegedy, 2015) with better mode
# connectivity. Here is what batch norm does, why it might help, and the one detail you must get
# right before you measure a barrier between two networks that use it.
#
# **What it computes.** A batch-norm layer sits after a linear layer, $z = Wx + b$, and normalises
# every unit over the minibatch $B$:
#
# $$\mathrm{BN}(z) = \gamma\,\frac{z - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta ,$$
#
# where $\mu_B$ and $\sigma_B^2$ are that unit's mean and variance over the batch and $\gamma$, $\beta$
# are learned. That is in training mode. A prediction for one example must not depend on the other
# examples in its batch, so the layer also keeps **running averages** of $\mu_B$ and $\sigma_B^2$
# (`running_mean`, `running_var`), and in eval mode it normalises with those. So a network with batch
# norm has **state besides its parameters**. The state fits one set of weights.
#
# **Scale invariance.** Multiply $W$ and $b$ by any $c > 0$. Then $z$, $\mu_B$ and $\sigma_B$ are
# all multiplied by $c$, and $\mathrm{BN}(cz) = \mathrm{BN}(z)$ (up to the tiny $\epsilon$). The
# loss is constant along every ray $\{cW : c > 0\}$: only the *direction* of the weights that feed a
# batch-norm layer matters, not their length. Differentiate $L(cW) = L(W)$ with respect to $c$ at
# $c = 1$ and you get $\langle \nabla_W L, W\rangle = 0$: the gradient is always orthogonal to the
# weights. Santurkar et al. (2018), *How Does Batch Normalization Help Optimization?*, measured
# what batch norm does to the landscape. The loss and its gradient change much less from one point
# to the next: the landscape is **smoother**. They also found that this smoothing, and not the
# "internal covariate shift" that batch norm was designed to reduce, explains why it helps
# training. The course text's argument for connectivity builds on this: in a smoother landscape the
# ridges between solutions are lower, so low-loss paths between them are easier to find. The
# demonstration below tests it.
#
# **Along a path, the statistics must be recomputed.** At a point $\theta(\alpha)$ of the line, the
# running statistics should be the mean and variance of *that* network's units. Interpolating the
# endpoints' statistics together with their weights does not give them. Take two networks whose
# hidden units are unrelated. The first layer of the average network computes the average of their
# pre-activations, $z(\tfrac12) = \tfrac12(z_a + z_b)$. If $z_a$ and $z_b$ are independent with
# the same variance $\sigma^2$, then $\operatorname{Var}\tfrac12(z_a + z_b) = \sigma^2/2$: half of
# the interpolated `running_var`. This effect is called **variance collapse** (Jordan et al., 2022,
# *REPAIR*). If you keep the interpolated statistics, every unit is divided by too large a number,
# so activations and logits shrink. You then measure a network that is much less confident than
# $\theta(\alpha)$ really is: a different network. The fix is to recompute the statistics
# on training data at every point of the path (a "batch-norm reset"). Averaged weights need the same
# fix: after weight averaging, Izmailov et al. (2018, SWA) recompute them with
# `torch.optim.swa_utils.update_bn`. `lab.batch_norm_statistics(model, X_train, params)` recomputes
# them in one pass over the training set. `{**params, **stats}` is then a complete state, and you
# evaluate it with the model in eval mode.

# %% [markdown] id="demo-bn-intro"
# ### Demonstration: the barrier with and without batch norm
#
# `lab.make_mlp(batch_norm=True)` builds the same 2 → 32 → 32 → 4 MLP with a `BatchNorm1d` after
# each hidden layer (the Linear layers are then named "0", "3", "6"). We train it exactly like
# $\theta_a$ and $\theta_b$, from seeds 1 and 2, and also from two more pairs of seeds. For each
# pair we also train the network without batch norm (seeds 1 and 2 are $\theta_a$ and
# $\theta_b$). After training, each endpoint's running statistics are recomputed on the training set
# for its final weights. We check scale invariance first, then measure the test loss along three
# straight lines:
# (a) batch norm, with parameters *and* running statistics interpolated;
# (b) batch norm, with the statistics recomputed on the training set at every $\alpha$;
# (c) no batch norm.

# %% id="demo-bn-train" role="demo"
BN_SEED_PAIRS = [(1, 2), (3, 4), (5, 6)]  # (1, 2): the seeds of theta_a and theta_b


def train_bn_from_seed(seed):
    # Like train_from_seed, with batch norm. Returns the parameters and the running statistics,
    # recomputed on the training set for the final weights.
    net = lab.make_mlp(seed=seed, batch_norm=True)
    lab.train(net, X_train, y_train, steps=TRAIN_STEPS, lr=TRAIN_LR, batch_size=TRAIN_BATCH,
              seed=seed)
    params = lab.params_of(net)
    return {**params, **lab.batch_norm_statistics(net, X_train, params)}


model_bn = lab.make_mlp(seed=0, batch_norm=True).eval()  # eval mode: use the running statistics
bn_states = {seed: train_bn_from_seed(seed) for pair in BN_SEED_PAIRS for seed in pair}
plain_thetas = {1: theta_a, 2: theta_b}
plain_thetas.update({seed: train_from_seed(seed) for pair in BN_SEED_PAIRS[1:] for seed in pair})
print("seed   with batch norm: test loss, accuracy   without: test loss, accuracy")
for seed in bn_states:
    loss_bn, acc_bn = lab.evaluate(model_bn, X_test, y_test, bn_states[seed])
    loss, acc = lab.evaluate(model, X_test, y_test, plain_thetas[seed])
    print(f"{seed:4d}   {loss_bn:21.3f} {acc_bn:9.3f}   {loss:17.3f} {acc:9.3f}")

# Scale invariance: multiply the weights and the bias of the first layer by 3.
for name, net, state in (("with batch norm", model_bn, bn_states[1]), ("without", model, theta_a)):
    scaled = {**state, "0.weight": 3 * state["0.weight"], "0.bias": 3 * state["0.bias"]}
    if net is model_bn:
        scaled.update(lab.batch_norm_statistics(model_bn, X_train, scaled))
    print(f"first layer x 3, {name}: test loss "
          f"{lab.cross_entropy(net, X_test, y_test, state):.4f} -> "
          f"{lab.cross_entropy(net, X_test, y_test, scaled):.4f}")

# %% id="demo-bn-line" role="demo"
with needs("interpolate", "barrier_height"):
    bn_param_names = [name for name, _ in model_bn.named_parameters()]

    def bn_line(seed_a, seed_b):
        # (test loss, accuracy) at every alpha: (a) with the endpoints' statistics interpolated,
        # (b) with the statistics recomputed on the training set at that point.
        interpolated, recomputed = [], []
        for alpha in ALPHAS.tolist():
            point = interpolate(bn_states[seed_a], bn_states[seed_b], alpha)
            interpolated.append(lab.evaluate(model_bn, X_test, y_test, point))
            params = {name: point[name] for name in bn_param_names}
            params.update(lab.batch_norm_statistics(model_bn, X_train, params))
            recomputed.append(lab.evaluate(model_bn, X_test, y_test, params))
        return interpolated, recomputed

    def plain_line(seed_a, seed_b):
        return [lab.evaluate(model, X_test, y_test,
                             interpolate(plain_thetas[seed_a], plain_thetas[seed_b], alpha))
                for alpha in ALPHAS.tolist()]

    def mean_above_chord(losses):
        # The average height of the losses above the chord between the endpoint losses
        # (the barrier above the chord of section 3 is the largest height).
        losses = torch.tensor(losses, dtype=torch.float64)
        alphas = ALPHAS.to(torch.float64)
        return float((losses - ((1 - alphas) * losses[0] + alphas * losses[-1])).mean())

    bn_curves = {}
    for pair in BN_SEED_PAIRS:
        interpolated, recomputed = bn_line(*pair)
        bn_curves[pair] = {"(a) batch norm, statistics interpolated": interpolated,
                           "(b) batch norm, statistics recomputed": recomputed,
                           "(c) no batch norm": plain_line(*pair)}

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for label, points in bn_curves[(1, 2)].items():
        lab.plot_path(ALPHAS, [p[0] for p in points], accuracies=[p[1] for p in points],
                      label=label, ax=ax,
                      title="Seeds 1 and 2: the straight line with and without batch norm")
    ax.axhline(math.log(lab.NUM_CLASSES), color="grey", linestyle=":", linewidth=1)
    legend = ax.get_legend()  # six entries: move them below the plot, in two columns
    ax.legend(legend.legend_handles, [text.get_text() for text in legend.get_texts()],
              loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize="small")
    plt.show()

    middle = interpolate(bn_states[1], bn_states[2], 0.5)
    true_stats = lab.batch_norm_statistics(model_bn, X_train,
                                           {name: middle[name] for name in bn_param_names})
    print("seeds 1, 2 at alpha = 0.5: true variance / interpolated running variance, per unit")
    for key in true_stats:
        if key.endswith("running_var"):
            ratio = true_stats[key] / middle[key]
            print(f"  batch-norm layer {key.split('.')[0]}: mean {float(ratio.mean()):.2f}, "
                  f"smallest {float(ratio.min()):.3f}")
    with torch.no_grad():
        for label, state in (("(a) interpolated", middle),
                             ("(b) recomputed", {**middle, **true_stats})):
            logits = torch.func.functional_call(model_bn, state, (X_test,))
            confidence = float(torch.softmax(logits, dim=1).max(dim=1).values.mean())
            print(f"  statistics {label}: std of the logits {float(logits.std()):.2f}, "
                  f"mean largest predicted probability {confidence:.2f}")
    for label, points in bn_curves[(1, 2)].items():
        top = max(range(len(points)), key=lambda k: points[k][0])
        print(f"{label}: highest test loss {points[top][0]:.2f} at alpha = "
              f"{float(ALPHAS[top]):.2f} (accuracy there {points[top][1]:.2f})")
    print()
    print("        barrier (mean)           mean height above chord   mean accuracy on the line")
    print("seeds   (a)     (b)     (c)      (a)     (b)     (c)       (a)     (b)     (c)")
    for pair, by_label in bn_curves.items():
        losses = [[p[0] for p in points] for points in by_label.values()]
        accuracies = [sum(p[1] for p in points) / len(points) for points in by_label.values()]
        print(f"{pair[0]}, {pair[1]}  " + "".join(f"{barrier_height(c):8.2f}" for c in losses)
              + " " + "".join(f"{mean_above_chord(c):8.2f}" for c in losses)
              + "  " + "".join(f"{a:8.2f}" for a in accuracies))

# %% [markdown] id="demo-bn-after"
# **What to look for.**
#
# * **Scale invariance.** Multiplying the first layer by 3 leaves the test loss of the batch-norm
#   network unchanged to the four printed digits (about 0.29 both times). Without batch norm the
#   same change raises the loss from about 0.20 to about 0.54.
# * **Interpolated statistics measure the wrong network.** At the midpoint of seeds 1 and 2 the true
#   variance of the units is only about 0.46 (first batch-norm layer) and 0.38 (second) of the
#   interpolated running variance: the variance collapses, roughly by the half that the argument
#   above predicts. With the interpolated statistics the logits shrink (their standard deviation is
#   about 0.57 against 2.0 with the true statistics), and the network is much less sure of itself:
#   its largest predicted probability is about 0.41 on average, not far above the 0.25 of a uniform
#   guess (about 0.66 with the true statistics). So curve (a) stalls near the chance-level loss
#   $\ln 4$ (the dotted line; highest about 1.45), with an accuracy near chance (about 0.29).
# * **Recomputed statistics.** Curve (b) stays low for longer near both endpoints, and its accuracy
#   (dashed) stays above that of curve (a) (the table's mean accuracies). In the table, its mean height above the chord is lower than without
#   batch norm for every pair of seeds (about 0.5 against 0.7 to 1.1), and its mean accuracy on the
#   line is higher.
# * **The barrier is still there.** The peak in the middle stays above 1 for every pair. For seeds 1
#   and 2 it is even higher than without batch norm (about 1.9 against 1.6). At the very middle some
#   units of the mixed network almost cancel (the smallest variance ratio is about 0.001). Batch norm
#   scales them back up to full size, and that produces the sharp peak. So batch norm lowers
#   the landscape *along* the line, but these independently trained networks are still not linearly
#   connected. And the "barrier" computed with interpolated statistics is not a property of the
#   networks at all. What remains is usually attributed to the order of the hidden units. Two
#   networks can compute the same function with their units permuted (Entezari et al., 2022), and
#   averaging unit $i$ of one network with an unrelated unit $i$ of the other spoils the middle of
#   the line.
#
# Whenever you measure a path between networks with batch norm, recompute the statistics at every
# point, and say that you did.
