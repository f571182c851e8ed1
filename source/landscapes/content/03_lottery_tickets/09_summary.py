# %% [markdown] id="summary"
# ## Summary
#
# * **Magnitude pruning** removes the `prune_count(n, f)` = $\lfloor f n + 0.5\rfloor$ smallest $|w|$;
#   ties go by position.
# * **IMP** prunes a fraction of the *remaining* weights per round and rewinds the survivors to
#   their initial values; after $r$ rounds the sparsity is $1-(1-p)^r$, and every round costs a
#   full training run.
# * **Lottery tickets:** at high sparsity the rewound ticket trains far better than the same mask
#   with fresh random weights — the initial values matter (Frankle & Carbin, 2019).
# * **Against random pruning** (Frankle & Carbin's figure, section 3.4): at every sparsity IMP's
#   tickets beat random masks of the same per-layer size over several initialisations, and the
#   gap widens as fewer weights remain.
# * **Late rewinding** to an early $\theta_k$ finds tickets where $\theta_0$ fails, in larger
#   networks; the tickets that work are *stable to SGD noise* (Frankle et al., 2020).
# * **Supermasks:** choosing a subnetwork of frozen random weights is itself a way to learn
#   (Zhou et al., 2019; Ramanujan et al., 2020).
# * **Tickets are partly data-specific:** masks found on different data overlap less; read the
#   Jaccard index against its chance level.
#
# <details>
# <summary><b>Pitfalls</b> (8; click to open)</summary>
#
# 1. **"Winning tickets require careful rewinding" — what is true in it.** A ticket is the mask
#    *and* the initial values of the same run: with fresh random values the mask loses its
#    advantage at high sparsity (section 3). But larger networks need rewinding to an early
#    $\theta_k$, not $\theta_0$ (section 4), and "even slightly different initialisation destroys the
#    ticket" is too strong: keeping only the *signs* of the initial weights preserves much of it
#    (Zhou et al., 2019). What destroys it is an independent random draw.
# 2. **Keep pruned weights at zero while retraining.** A pruned weight still has a non-zero loss
#    gradient, so the next optimiser step revives it, and momentum or Adam's running averages
#    carry that gradient on (weight decay does not: the decay of a weight that is exactly 0 is 0).
#    Mask the gradients and re-apply the mask after every step, as `lab.train(..., mask=...)` does.
# 3. **Prune a fraction of what is left, not of the total**; the sparsity after $r$ rounds is
#    $1-(1-p)^r$, not $r\cdot p$.
# 4. **Count exactly.** Halves round up and the product is float64: 0.58 of 25 is 14. Python's
#    `round()` rounds halves to even.
# 5. **Global pruning can empty a layer** (layer collapse). Print the per-layer densities.
# 6. **Rewind everything**, biases included, and start the optimiser afresh; train every round
#    from the rewound weights, never from the previous round's trained weights.
# 7. **One run is an anecdote.** Small differences between single runs are noise. Compare tickets
#    and controls under identical settings, and over several seeds before concluding.
# 8. **Supermasks need the right weight scale**, and the straight-through gradient is a heuristic,
#    not the gradient of the forward computation.
#
# </details>
#
# *Next:* notebook 04 — the quiz (Q2 and Q5 are about this notebook) and the written answers,
# among them a variant of practice problem 3.

