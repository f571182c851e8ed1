# %% [markdown] id="part-a"
# ## Part A — Quiz (Q1–Q5)
#
# Choose one answer per question. The questions are the course text's quiz; read the sections
# they refer to again if you are unsure.

# %% [markdown] id="q1-question"
# **Q1.** Two trained networks have a loss barrier of 3.2 when linearly interpolated. What does this most likely indicate?
#
# - **A)** The networks have identical weights
# - **B)** The networks are in different basins of the loss landscape
# - **C)** The loss function is convex
# - **D)** The networks are poorly trained

# %% id="answer_q1" role="answer" value="answer_q1"
answer_q1 = None  # replace None with "A", "B", "C" or "D"
### BEGIN SOLUTION
### END SOLUTION

# %% role="visible" item="answer_q1"
# Format check of your answer to Q1 (0 points): one letter "A"-"D", as a string.
check_letter("answer_q1", answer_q1)

# %% role="hidden" item="answer_q1" call="check_answer" part_points={"format": 0}

# %% [markdown] role="explanation" item="answer_q1"
# **Explanation of Q1 — the answer is B.** A barrier of 3.2 on the straight path means the loss
# in the middle of the path is far above the loss at both ends: the two networks are not linearly
# mode connected, and the most likely reading is that they lie in different basins. (Careful: a
# barrier on the *linear* path alone does not prove separate basins — a trained curve, e.g. a
# Bezier curve (Garipov et al. 2018; Draxler et al. 2018), may still connect them at low loss.)
#
# - A is wrong: identical weights give a constant loss along the path, so no barrier at all.
# - C is wrong: for a convex loss, $L((1-\alpha)\theta_a + \alpha\theta_b) \le (1-\alpha)L(\theta_a) + \alpha L(\theta_b)$,
#   so the path can never rise above its endpoints.
# - D is wrong: both endpoints can be well trained (low loss); the barrier is about the path.

# %% [markdown] id="q2-question"
# **Q2.** The Lottery Ticket Hypothesis requires rewinding weights to:
#
# - **A)** Random reinitialisation
# - **B)** The weights at epoch 50
# - **C)** Their original initialisation values
# - **D)** Zero weights

# %% id="answer_q2" role="answer" value="answer_q2"
answer_q2 = None  # replace None with "A", "B", "C" or "D"
### BEGIN SOLUTION
### END SOLUTION

# %% role="visible" item="answer_q2"
# Format check of your answer to Q2 (0 points): one letter "A"-"D", as a string.
check_letter("answer_q2", answer_q2)

# %% role="hidden" item="answer_q2" call="check_answer" part_points={"format": 0}

# %% [markdown] role="explanation" item="answer_q2"
# **Explanation of Q2 — the answer is C.** Frankle & Carbin (2019): after pruning, the surviving
# weights are reset to their values at initialisation ($\theta_0$) and retrained; that mask
# together with those values is the winning ticket.
#
# - A is wrong: the same mask with a random re-initialisation trains worse (the paper's control).
# - B is wrong as the hypothesis: "late rewinding" (Frankle et al. 2020) resets to weights from
#   *early* in training (epoch 1–5 in the course text, not epoch 50); it is the fix that makes
#   tickets work for larger networks, not what the original hypothesis states.
# - D is wrong: all-zero weights are not an initialisation a network can learn from (every hidden
#   unit computes the same thing, so the symmetry is never broken).

# %% [markdown] id="q3-question"
# **Q3.** Why does batch normalisation improve mode connectivity?
#
# - **A)** It increases model capacity
# - **B)** It provides scale invariance that smooths the loss landscape
# - **C)** It makes training slower
# - **D)** It adds noise to the weights

# %% id="answer_q3" role="answer" value="answer_q3"
answer_q3 = None  # replace None with "A", "B", "C" or "D"
### BEGIN SOLUTION
### END SOLUTION

# %% role="visible" item="answer_q3"
# Format check of your answer to Q3 (0 points): one letter "A"-"D", as a string.
check_letter("answer_q3", answer_q3)

# %% role="hidden" item="answer_q3" call="check_answer" part_points={"format": 0}

# %% [markdown] role="explanation" item="answer_q3"
# **Explanation of Q3 — the answer is B** (the course text's answer). With batch normalisation,
# the output of a normalised layer does not change when the weights feeding into it are
# multiplied by a positive constant (the normalisation divides the scale out), and batch norm
# makes the loss landscape markedly smoother (Santurkar et al. 2018). In a smoother landscape,
# low-loss paths between solutions are easier to find. (The course text also credits "reducing
# internal covariate shift"; Santurkar et al. found that the benefit does not come from that but
# from the smoother landscape.) Notebook 01's section on batch normalisation and barriers shows
# how far this goes: with the statistics recomputed along the line, the loss above the chord is
# lower on average than without batch norm, but the barrier between independently trained
# networks does not go away — "improves" is not "removes".
#
# - A is wrong: batch norm adds two parameters per channel; it changes the training dynamics, not
#   the capacity.
# - C is wrong: batch norm usually allows larger learning rates and speeds training up.
# - D is wrong: batch norm's noise comes from the minibatch statistics (a side effect), and it adds
#   nothing to the weights.

# %% [markdown] id="q4-question"
# **Q4.** A Hessian with trace 1200 at one minimum and trace 300 at another indicates:
#
# - **A)** The first minimum has lower loss
# - **B)** The second minimum has higher curvature
# - **C)** The first minimum is sharper (more sensitive to parameter noise)
# - **D)** Both minima have identical generalisation properties

# %% id="answer_q4" role="answer" value="answer_q4"
answer_q4 = None  # replace None with "A", "B", "C" or "D"
### BEGIN SOLUTION
### END SOLUTION

# %% role="visible" item="answer_q4"
# Format check of your answer to Q4 (0 points): one letter "A"-"D", as a string.
check_letter("answer_q4", answer_q4)

# %% role="hidden" item="answer_q4" call="check_answer" part_points={"format": 0}

# %% [markdown] role="explanation" item="answer_q4"
# **Explanation of Q4 — the answer is C.** The trace is the sum of the Hessian's eigenvalues
# (the total curvature). For small isotropic noise $\epsilon \sim \mathcal N(0, \sigma^2 I)$,
# $\mathbb E[L(\theta^* + \epsilon)] - L(\theta^*) \approx \frac{\sigma^2}{2}\operatorname{tr}H$ (worked
# example 2): under the same noise, the expected loss increase at the first minimum is about
# $1200/300 = 4$ times as large.
#
# - A is wrong: curvature says nothing about the height of the loss at the minimum.
# - B is the opposite: trace 300 is the smaller total curvature.
# - D is wrong: nothing here says the two generalise identically. Sharpness correlates with the
#   generalisation gap only imperfectly, and it changes under reparameterisations that leave the
#   function unchanged (Dinh et al. 2017): compare traces only within one parameterisation.

# %% [markdown] id="q5-question"
# **Q5.** The "supermasks" phenomenon demonstrates that:
#
# - **A)** Training is always necessary for good performance
# - **B)** Random weights with learned binary masks can achieve good accuracy without any weight updates
# - **C)** Larger networks always outperform smaller ones
# - **D)** Pruning always degrades performance

# %% id="answer_q5" role="answer" value="answer_q5"
answer_q5 = None  # replace None with "A", "B", "C" or "D"
### BEGIN SOLUTION
### END SOLUTION

# %% role="visible" item="answer_q5"
# Format check of your answer to Q5 (0 points): one letter "A"-"D", as a string.
check_letter("answer_q5", answer_q5)

# %% role="hidden" item="answer_q5" call="check_answer" part_points={"format": 0}

# %% [markdown] role="explanation" item="answer_q5"
# **Explanation of Q5 — the answer is B.** Zhou et al. (2019) learned only a binary mask over
# frozen, randomly initialised weights and reached accuracy far above chance without a single
# weight update; Ramanujan et al. (2020, edge-popup) found, inside large enough random networks,
# subnetworks that match a smaller trained network.
#
# - A is contradicted by exactly this result.
# - C is a separate observation about scale (and not an "always").
# - D is wrong: winning tickets match the dense network's accuracy up to high sparsity (Frankle &
#   Carbin 2019); accuracy falls only when pruning becomes extreme.
